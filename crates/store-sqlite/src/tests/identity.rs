//! Injury identity (issue 13, finding 4): every injury has a uid, export and
//! import keep it with the clearing, and a round trip is exact.

use std::io::Cursor;

use super::*;

/// When the two injuries of [`twins`] were logged (and happened).
const LOGGED: Time = Time(T0.0 + 2 * HOUR);

/// A store with two upper-back injuries logged in the same millisecond, at
/// the same time, with different notes: the first cleared, the second not
/// (the one an import that merged them by area and times kept was the
/// first), an injury elsewhere, and sessions (one refused by the injury,
/// one completed before it).
fn twins() -> SqliteStore {
    let store = SqliteStore::open_in_memory().unwrap();
    completed(&store, T0, vec![6], vec![4]);
    let old = store
        .add_injury("upper-back", LOGGED, Some("cleared one"), LOGGED)
        .unwrap();
    store.clear_injury(old.id, LOGGED.plus_ms(1)).unwrap();
    store
        .add_injury("upper-back", LOGGED, Some("active one"), LOGGED)
        .unwrap();
    store.add_injury("neck", T0, None, LOGGED).unwrap();
    let (_, refused) = drive(&store, LOGGED.plus_ms(HOUR), Plan::default());
    assert!(is_recent_injury(&refused), "{refused:?}");
    store
}

fn is_recent_injury(outcome: &Option<Outcome>) -> bool {
    matches!(
        outcome,
        Some(Outcome::Refused {
            reason: RefusalReason::RecentInjury { .. }
        })
    )
}

/// The outcome of a session started at `start`, in a scratch copy of what
/// `store` holds (so the store itself is not changed).
fn outcome_at(store: &SqliteStore, start: Time) -> Option<Outcome> {
    let copy = SqliteStore::open_in_memory().unwrap();
    copy.import(&store.export(start).unwrap()).unwrap();
    drive(&copy, start, Plan::default()).1
}

fn import_text(store: &SqliteStore, text: &str) -> Result<ImportReport, TransferError> {
    import_stream(
        store,
        || Ok(Cursor::new(text.as_bytes())),
        super::stream::rules(),
        &mut |_| {},
    )
}

/// `doc` as a version 1 document: no injury has a uid.
fn version_1(doc: &ExportDocument) -> String {
    let mut injuries = serde_json::to_value(&doc.injuries).unwrap();
    for i in injuries.as_array_mut().unwrap() {
        i.as_object_mut().unwrap().remove("uid");
    }
    // In the order an export writes the fields (a streamed import reads the
    // version before the sessions).
    format!(
        "{{\"format\":\"rollcoach-export\",\"version\":1,\"exported_at\":{},\"sessions\":{},\"injuries\":{injuries}}}",
        doc.exported_at.0,
        serde_json::to_string(&doc.sessions).unwrap()
    )
}

#[test]
fn new_injuries_get_distinct_uids_in_the_sessions_format() {
    let store = SqliteStore::open_in_memory().unwrap();
    let a = store.add_injury("neck", T0, None, LOGGED).unwrap();
    let b = store.add_injury("neck", T0, None, LOGGED).unwrap();
    assert_ne!(a.uid, b.uid);
    for uid in [&a.uid, &b.uid] {
        let (time, random) = uid.split_once('-').expect("time-random");
        assert_eq!(time, format!("{:012x}", LOGGED.0), "{uid}");
        assert_eq!(random.len(), 16, "{uid}");
        assert!(random.chars().all(|c| c.is_ascii_hexdigit()), "{uid}");
    }
    assert_eq!(store.injury(a.id).unwrap().uid, a.uid);
    assert_eq!(store.clear_injury(a.id, LOGGED).unwrap().uid, a.uid);
}

#[test]
fn export_import_export_is_exact_and_refuses_the_same_sessions() {
    let a = twins();
    let now = LOGGED.plus_ms(3 * HOUR);
    let doc = a.export(now).unwrap();
    assert_eq!(doc.version, 2);
    assert_eq!(doc.injuries.len(), 3);
    assert_eq!(doc.sessions.len(), 2);
    let json = doc.to_json();
    assert!(json.contains("\"uid\""), "{json}");

    // Whole-document import, and the streamed one.
    let b = SqliteStore::open_in_memory().unwrap();
    let report = b
        .import(&ExportDocument::from_json(&json).unwrap())
        .unwrap();
    assert_eq!(
        (
            report.injuries_imported,
            report.injuries_skipped,
            report.injuries_cleared
        ),
        (3, 0, 0)
    );
    let c = SqliteStore::open_in_memory().unwrap();
    assert_eq!(import_text(&c, &json).unwrap().injuries_imported, 3);
    for copy in [&b, &c] {
        let again = copy.export(now).unwrap();
        assert_eq!(again, doc);
        assert_eq!(again.to_json(), json, "byte-identical JSON");
        assert_eq!(
            copy.facts_for(&protocol()).unwrap(),
            a.facts_for(&protocol()).unwrap()
        );
    }
    let facts = b.facts_for(&protocol()).unwrap();
    assert_eq!(facts.injuries.len(), 1);
    assert_eq!(facts.injuries[0].note.as_deref(), Some("active one"));

    // The 48-hour block: the same sessions refused before and after, and
    // the same allowed once it has passed.
    for start in [LOGGED.plus_ms(HOUR), LOGGED.plus_ms(47 * HOUR)] {
        let before = outcome_at(&a, start);
        assert!(is_recent_injury(&before), "{before:?}");
        assert_eq!(outcome_at(&b, start), before);
        assert_eq!(outcome_at(&c, start), before);
    }
    let later = LOGGED.plus_ms(49 * HOUR);
    assert_eq!(outcome_at(&a, later), Some(Outcome::Completed));
    assert_eq!(outcome_at(&b, later), Some(Outcome::Completed));

    // Importing the export again (or into the source) adds nothing.
    let again = b.import(&doc).unwrap();
    assert_eq!((again.injuries_imported, again.injuries_skipped), (0, 3));
    assert_eq!(a.import(&doc).unwrap().injuries_skipped, 3);
    assert_eq!(b.list_injuries().unwrap().len(), 3);
}

#[test]
fn an_old_export_without_injury_uids_keeps_both_twins_and_imports_once() {
    let a = twins();
    let doc = a.export(LOGGED.plus_ms(3 * HOUR)).unwrap();
    let old = version_1(&doc);

    let b = SqliteStore::open_in_memory().unwrap();
    let report = import_text(&b, &old).unwrap();
    assert_eq!((report.injuries_imported, report.injuries_skipped), (3, 0));
    let injuries = b.list_injuries().unwrap();
    let uids: Vec<&str> = injuries.iter().map(|i| i.uid.as_str()).collect();
    assert_eq!(
        uids,
        [
            legacy_injury_uid("neck", T0, LOGGED, 1),
            legacy_injury_uid("upper-back", LOGGED, LOGGED, 1),
            legacy_injury_uid("upper-back", LOGGED, LOGGED, 2),
        ]
    );
    assert_eq!(injuries[1].note.as_deref(), Some("cleared one"));
    assert!(injuries[1].cleared_at.is_some());
    assert_eq!(injuries[2].note.as_deref(), Some("active one"));
    assert_eq!(injuries[2].cleared_at, None);
    assert!(is_recent_injury(&outcome_at(&b, LOGGED.plus_ms(HOUR))));

    // Twice, through either reader: nothing more.
    let again = import_text(&b, &old).unwrap();
    assert_eq!((again.injuries_imported, again.injuries_skipped), (0, 3));
    let doc_again = ExportDocument::from_json(&old).unwrap();
    assert_eq!(doc_again.injuries[2].uid, uids[2]);
    assert_eq!(b.import(&doc_again).unwrap().injuries_skipped, 3);
    assert_eq!(b.list_injuries().unwrap().len(), 3);
}

#[test]
fn an_imported_clear_is_applied_and_a_clear_is_never_undone() {
    let a = SqliteStore::open_in_memory().unwrap();
    let injury = a
        .add_injury("upper-back", LOGGED, Some("tweak"), LOGGED)
        .unwrap();
    let active = a.export(LOGGED).unwrap();

    // Cleared elsewhere: importing that clears it here.
    let b = SqliteStore::open_in_memory().unwrap();
    b.import(&active).unwrap();
    let elsewhere = b.list_injuries().unwrap()[0].id;
    let cleared_at = LOGGED.plus_ms(HOUR);
    b.clear_injury(elsewhere, cleared_at).unwrap();
    let cleared = b.export(cleared_at).unwrap();
    let report = a.import(&cleared).unwrap();
    assert_eq!(
        (
            report.injuries_imported,
            report.injuries_skipped,
            report.injuries_cleared
        ),
        (0, 0, 1)
    );
    assert_eq!(a.injury(injury.id).unwrap().cleared_at, Some(cleared_at));
    assert!(a.facts_for(&protocol()).unwrap().injuries.is_empty());

    // The document of before the clear does not undo it, and a later clear
    // elsewhere does not move it.
    let report = a.import(&active).unwrap();
    assert_eq!((report.injuries_skipped, report.injuries_cleared), (1, 0));
    let mut later = cleared.clone();
    later.injuries[0].cleared_at = Some(cleared_at.plus_ms(HOUR));
    assert_eq!(a.import(&later).unwrap().injuries_skipped, 1);
    assert_eq!(a.injury(injury.id).unwrap().cleared_at, Some(cleared_at));

    // Streamed, the same.
    let c = SqliteStore::open_in_memory().unwrap();
    c.import(&active).unwrap();
    let report = import_text(&c, &cleared.to_json()).unwrap();
    assert_eq!(report.injuries_cleared, 1);
    assert_eq!(c.export(cleared_at).unwrap(), cleared);
}

#[test]
fn a_uid_here_with_other_content_refuses_the_whole_import() {
    let a = twins();
    let mut doc = a.export(LOGGED.plus_ms(3 * HOUR)).unwrap();
    doc.injuries[2].note = Some("edited".into());
    let err = a.import(&doc).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict(Conflict::InjuryDiffers { field: "note", .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains(&doc.injuries[2].uid), "{err}");

    // A store with the injuries but not the sessions: nothing is added.
    let b = SqliteStore::open_in_memory().unwrap();
    let mut only_injuries = a.export(LOGGED).unwrap();
    only_injuries.sessions.clear();
    b.import(&only_injuries).unwrap();
    let err = b.import(&doc).unwrap_err();
    assert!(err.to_string().contains("another note"), "{err}");
    let err = import_text(&b, &doc.to_json()).unwrap_err();
    assert!(err.to_string().contains("another note"), "{err}");
    assert_eq!(b.session_count().unwrap(), 0, "all or nothing");
    assert_eq!(b.list_injuries().unwrap().len(), 3);
}

#[test]
fn an_injury_uid_twice_in_a_document_is_refused() {
    let a = twins();
    let mut doc = a.export(LOGGED.plus_ms(3 * HOUR)).unwrap();
    doc.injuries[2].uid = doc.injuries[1].uid.clone();
    let b = SqliteStore::open_in_memory().unwrap();
    let err = b.import(&doc).unwrap_err().to_string();
    assert!(err.contains("injuries 2 and 3 have the same uid"), "{err}");
    let err = import_text(&b, &doc.to_json()).unwrap_err().to_string();
    assert!(err.contains("same uid"), "{err}");
    assert!(b.list_injuries().unwrap().is_empty());
    assert_eq!(b.session_count().unwrap(), 0);
}
