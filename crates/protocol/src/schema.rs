//! The JSON Schema of the protocol file format, derived from the model
//! ([`crate::Protocol`]).

use std::sync::OnceLock;

use crate::Protocol;

/// The JSON Schema (draft 2020-12) of a protocol file, for editors such as
/// taplo and Even Better TOML.
pub fn json_schema() -> serde_json::Value {
    schema_value().clone()
}

pub(crate) fn schema_value() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut schema = schemars::schema_for!(Protocol).to_value();
        if let Some(obj) = schema.as_object_mut() {
            obj.insert(
                "$id".into(),
                "https://rollcoach.invalid/protocol.schema.json".into(),
            );
        }
        schema
    })
}
