#[test]
fn builtin_protocols_parse() {
    let all = rollcoach_protocol::builtin();
    assert!(all.iter().any(|p| p.id == "upper-back"));
}
