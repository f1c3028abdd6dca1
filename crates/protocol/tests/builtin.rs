#![cfg(feature = "full")]

#[test]
fn builtin_protocols_parse() {
    let all = rollcoach_protocol::builtin();
    assert!(all.iter().any(|p| p.id == "upper-back"));
}

/// The engine in wasm reads protocols as JSON (the model without the `full`
/// feature): the validated model survives the trip, rules included.
#[test]
fn builtin_protocols_round_trip_through_json_with_their_rules() {
    for p in rollcoach_protocol::builtin() {
        let json = serde_json::to_string(&p).unwrap();
        let back: rollcoach_protocol::Protocol = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.screening.injury_rule.window_ms(), 48 * 3_600_000);
        assert_eq!(back.discomfort_threshold(), Some(7));
    }
}

#[test]
fn an_area_no_protocol_covers_is_refused_with_the_known_ones() {
    let all = rollcoach_protocol::builtin();
    assert_eq!(rollcoach_protocol::areas(&all), vec!["upper-back"]);
    assert!(rollcoach_protocol::check_area(&all, "upper-back").is_ok());
    let err = rollcoach_protocol::check_area(&all, "knee").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown area `knee`: no protocol covers it; give one of the known areas: upper-back"
    );
}
