//! The committed JSON Schema (protocols/protocol.schema.json) matches the
//! format, and describes what editors need.
#![cfg(feature = "full")]

const COMMITTED: &str = include_str!("../../../protocols/protocol.schema.json");

#[test]
fn the_committed_schema_is_up_to_date() {
    let current = serde_json::to_string_pretty(&rollcoach_protocol::json_schema()).unwrap() + "\n";
    if std::env::var_os("ROLLCOACH_UPDATE_SCHEMA").is_some() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../protocols/protocol.schema.json"
        );
        std::fs::write(path, &current).unwrap();
        return;
    }
    assert!(
        current == COMMITTED,
        "protocols/protocol.schema.json is stale; regenerate it with\n  ROLLCOACH_UPDATE_SCHEMA=1 cargo test -p rollcoach-protocol --test schema\nor: cargo run -- protocols schema > protocols/protocol.schema.json"
    );
}

#[test]
fn the_schema_closes_tables_and_requires_the_safety_parts() {
    let schema = rollcoach_protocol::json_schema();
    assert_eq!(schema["additionalProperties"], false);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for key in [
        "id",
        "screening",
        "setup",
        "movement",
        "stop_rules",
        "credit",
    ] {
        assert!(required.contains(&key), "{key} should be required");
    }
    assert_eq!(schema["$defs"]["Reps"]["properties"]["min"]["minimum"], 1);
}
