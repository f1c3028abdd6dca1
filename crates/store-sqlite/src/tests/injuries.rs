use super::*;

// ----- injuries and facts -------------------------------------------------

#[test]
fn injuries_are_added_listed_and_cleared() {
    let store = SqliteStore::open_in_memory().unwrap();
    let a = store
        .add_injury(
            "upper-back",
            T0,
            Some("tweaked it lifting"),
            T0.plus_ms(HOUR),
        )
        .unwrap();
    let b = store
        .add_injury("neck", T0.plus_ms(2 * HOUR), None, T0.plus_ms(2 * HOUR))
        .unwrap();
    assert_eq!(a.note.as_deref(), Some("tweaked it lifting"));
    assert_eq!(a.cleared_at, None);
    assert_eq!(store.list_injuries().unwrap(), vec![a.clone(), b.clone()]);

    let cleared = store.clear_injury(a.id, T0.plus_ms(3 * HOUR)).unwrap();
    assert_eq!(cleared.cleared_at, Some(T0.plus_ms(3 * HOUR)));
    let err = store.clear_injury(a.id, T0.plus_ms(4 * HOUR)).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict(Conflict::InjuryAlreadyCleared { .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("2026-01-01T03:00:00Z"), "{err}");
    let err = store.clear_injury(InjuryId(99), T0).unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(NotFound::Injury(InjuryId(99)))),
        "{err:?}"
    );
    assert!(err.to_string().contains("injury list"), "{err}");
    assert_eq!(
        store.list_injuries().unwrap().len(),
        2,
        "cleared injuries stay listed"
    );
}

#[test]
fn facts_hold_the_uncleared_injuries_of_the_area_and_the_last_pairing() {
    let store = SqliteStore::open_in_memory().unwrap();
    let p = protocol();
    assert_eq!(store.facts_for(&p).unwrap(), Facts::default());

    let old = store.add_injury(&p.area, T0, Some("old"), T0).unwrap();
    store
        .add_injury(&p.area, T0.plus_ms(HOUR), Some("recent"), T0)
        .unwrap();
    store.add_injury("knee", T0, None, T0).unwrap();
    store.clear_injury(old.id, T0.plus_ms(HOUR)).unwrap();
    let facts = store.facts_for(&p).unwrap();
    assert_eq!(
        facts.injuries,
        vec![rollcoach_engine::InjuryFact {
            at: T0.plus_ms(HOUR),
            note: Some("recent".into()),
        }]
    );
    assert_eq!(facts.last_pairing, None);

    // The engine refuses while the logged injury is within 48 h...
    let (_, outcome) = drive(&store, T0.plus_ms(2 * HOUR), Plan::default());
    assert!(
        matches!(
            outcome,
            Some(Outcome::Refused {
                reason: RefusalReason::RecentInjury { .. }
            })
        ),
        "{outcome:?}"
    );
    assert_eq!(
        store.last_pairing(&p.id).unwrap(),
        None,
        "refusals never rolled"
    );
    // ...and allows it after; the next session alternates the pairing.
    let first = completed(&store, T0.plus_ms(50 * HOUR), vec![], vec![]);
    let first_pairing = store.session(first).unwrap().pairing.unwrap();
    assert_eq!(store.last_pairing(&p.id).unwrap(), Some(first_pairing));
    assert_eq!(
        store.facts_for(&p).unwrap().last_pairing,
        Some(first_pairing)
    );
    let second = completed(&store, T0.plus_ms(51 * HOUR), vec![], vec![]);
    let second_pairing = store.session(second).unwrap().pairing.unwrap();
    assert_eq!(second_pairing, first_pairing.switched());
    assert_eq!(store.last_pairing(&p.id).unwrap(), Some(second_pairing));
    assert_eq!(store.last_pairing("another-protocol").unwrap(), None);
}
