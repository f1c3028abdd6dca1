//! The properties of a [`Records`] store ([`crate::records_suite!`]). Each
//! takes the constructor of a fresh, empty store; sessions get in as a
//! phone pushes them ([`crate::kit::push`]) or by import.

use std::io::Cursor;
use std::sync::Arc;

use rollcoach_engine::{InjuryFact, Input, Outcome, Time};
use rollcoach_protocol::Protocol;
use rollcoach_store::{
    Accepted, Change, Conflict, EXPORT_FORMAT, EXPORT_VERSION, ExportDocument, HistoryPoint,
    HistoryRow, ImportStep, Injury, NewDevice, NewInjury, NewPairingToken, NotFound, PersonId,
    Records, StoreError, accept, export, import, import_stream, legacy_injury_uid, rating_series,
    summarize, write_export_csv, write_export_json, write_history_rows,
};
use rollcoach_testkit::{Act, Autopilot, HOUR, Plan, Point, T0};

use crate::kit::{
    NOW, Stored, catalog, client, completed, crash_at_phase, finished, hours, import_text,
    is_recent_injury, owner, pain_at_phase, push, rated, rules, upper_back,
};

/// The constructor of a fresh, empty store.
pub type Make<'a> = &'a dyn Fn() -> Arc<dyn Records>;

fn injury(
    records: &dyn Records,
    person: &PersonId,
    area: &str,
    at: Time,
    note: Option<&str>,
    created_at: Time,
) -> Injury {
    records
        .add_injury(
            person,
            &NewInjury {
                area: area.into(),
                at,
                note: note.map(str::to_owned),
                created_at,
            },
        )
        .expect("add_injury")
}

/// Every session of `person`, newest first.
fn history(records: &dyn Records, person: &PersonId) -> Vec<rollcoach_store::SessionRecord> {
    records
        .history_page(person, usize::MAX, None)
        .expect("history_page")
}

fn uids(records: &[rollcoach_store::SessionRecord]) -> Vec<&str> {
    records.iter().map(|r| r.uid.as_str()).collect()
}

fn injury_by_uid(records: &dyn Records, person: &PersonId, uid: &str) -> Injury {
    records
        .list_injuries(person)
        .expect("list_injuries")
        .into_iter()
        .find(|i| i.uid == uid)
        .unwrap_or_else(|| panic!("no injury {uid}"))
}

/// The owner's records as the transfer tests fill them: an injury with a
/// quoted note, one cleared, a session refused by the injury, one
/// completed with ratings, one stopped by pain, and one a crashed driver
/// left live.
fn filled(records: &dyn Records) {
    let me = owner();
    injury(
        records,
        &me,
        "upper-back",
        T0,
        Some("fell, \"badly\", on ice"),
        T0,
    );
    let neck = injury(records, &me, "neck", T0, None, T0.plus_ms(1));
    records
        .clear_injury(&me, &neck.uid, hours(1))
        .expect("clear_injury");
    let refused = push(records, &me, hours(1), Plan::default());
    assert!(is_recent_injury(refused.outcome()), "refused by the log");
    completed(records, &me, hours(60), &[7], &[3]);
    push(records, &me, hours(61), pain_at_phase(4));
    let live = push(records, &me, hours(62), crash_at_phase(5));
    assert!(live.run.end.is_none(), "left live");
}

/// Export → import → export is the identity, by document and by stream,
/// for sessions of every outcome (completed, stopped, refused by an injury
/// and by an answer, interrupted, live) and injuries cleared and not,
/// twins logged in the same millisecond among them.
pub fn export_then_import_then_export_is_the_identity_for_every_outcome(make: Make<'_>) {
    let a = make();
    let me = owner();
    filled(&*a);
    push(&*a, &me, hours(70), Plan::default().refuse());
    push(
        &*a,
        &me,
        hours(71),
        rated(&[5], &[]).at(Point::Rep(3), Act::LetGo { after_ms: 0 }),
    );
    let twin = injury(&*a, &me, "upper-back", hours(80), Some("one"), hours(80));
    injury(&*a, &me, "upper-back", hours(80), Some("two"), hours(80));
    a.clear_injury(&me, &twin.uid, hours(81)).unwrap();
    let now = hours(100);
    let doc = export(&*a, &me, now).unwrap();
    assert_eq!(doc.format, EXPORT_FORMAT);
    assert_eq!(doc.version, EXPORT_VERSION);
    let mut kinds: Vec<&str> = doc
        .sessions
        .iter()
        .map(|s| s.outcome.as_ref().map_or("live", |o| o.kind()))
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            "completed",
            "interrupted",
            "live",
            "refused",
            "refused",
            "stopped"
        ]
    );
    assert_eq!(doc.injuries.len(), 4);
    let json = doc.to_json();

    let b = make();
    let report = import(&*b, &me, &ExportDocument::from_json(&json).unwrap()).unwrap();
    assert_eq!(report.imported, 6);
    assert!(report.skipped.is_empty());
    assert_eq!((report.injuries_imported, report.injuries_skipped), (4, 0));
    let c = make();
    let report = import_text(&*c, &me, &json).unwrap();
    assert_eq!((report.imported, report.injuries_imported), (6, 4));
    for copy in [&b, &c] {
        let again = export(&**copy, &me, now).unwrap();
        assert_eq!(again, doc);
        assert_eq!(again.to_json(), json, "byte-identical JSON");
        assert_eq!(
            copy.facts_for(&me, &upper_back()).unwrap(),
            a.facts_for(&me, &upper_back()).unwrap()
        );
        let again = import(&**copy, &me, &doc).unwrap();
        assert_eq!((again.imported, again.skipped.len()), (0, 6));
        assert_eq!((again.injuries_imported, again.injuries_skipped), (0, 4));
    }
}

/// A store with two upper-back injuries logged in the same millisecond, at
/// the same time, with different notes: the first cleared, the second not,
/// an injury elsewhere, and sessions (one refused by the injury, one
/// completed before it). When the twins were logged (and happened):
const LOGGED: Time = Time(T0.0 + 2 * HOUR);

fn twins(make: Make<'_>) -> Arc<dyn Records> {
    let store = make();
    let me = owner();
    completed(&*store, &me, T0, &[6], &[4]);
    let old = injury(
        &*store,
        &me,
        "upper-back",
        LOGGED,
        Some("cleared one"),
        LOGGED,
    );
    store
        .clear_injury(&me, &old.uid, LOGGED.plus_ms(1))
        .unwrap();
    injury(
        &*store,
        &me,
        "upper-back",
        LOGGED,
        Some("active one"),
        LOGGED,
    );
    injury(&*store, &me, "neck", T0, None, LOGGED);
    let refused = push(&*store, &me, LOGGED.plus_ms(HOUR), Plan::default());
    assert!(
        is_recent_injury(refused.outcome()),
        "{:?}",
        refused.outcome()
    );
    store
}

/// The outcome of a session started at `start`, in a scratch copy of what
/// `store` holds (so the store itself is not changed).
fn outcome_at(make: Make<'_>, store: &dyn Records, start: Time) -> Option<Outcome> {
    let copy = make();
    let me = owner();
    import(&*copy, &me, &export(store, &me, start).unwrap()).unwrap();
    push(&*copy, &me, start, Plan::default()).outcome().cloned()
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

/// Twins of one millisecond export, import and export exactly (by document
/// and by stream), give the same facts, and the copies refuse and allow the
/// same sessions as the original; importing the export again adds nothing.
pub fn export_import_export_is_exact_for_twin_injuries_and_refuses_the_same_sessions(
    make: Make<'_>,
) {
    let a = twins(make);
    let me = owner();
    let now = LOGGED.plus_ms(3 * HOUR);
    let doc = export(&*a, &me, now).unwrap();
    assert_eq!(doc.version, EXPORT_VERSION);
    assert_eq!(doc.injuries.len(), 3);
    assert_eq!(doc.sessions.len(), 2);
    let json = doc.to_json();
    assert!(json.contains("\"uid\""), "{json}");

    // Whole-document import, and the streamed one.
    let b = make();
    let report = import(&*b, &me, &ExportDocument::from_json(&json).unwrap()).unwrap();
    assert_eq!(
        (
            report.injuries_imported,
            report.injuries_skipped,
            report.injuries_cleared
        ),
        (3, 0, 0)
    );
    let c = make();
    assert_eq!(import_text(&*c, &me, &json).unwrap().injuries_imported, 3);
    for copy in [&b, &c] {
        let again = export(&**copy, &me, now).unwrap();
        assert_eq!(again, doc);
        assert_eq!(again.to_json(), json, "byte-identical JSON");
        assert_eq!(
            copy.facts_for(&me, &upper_back()).unwrap(),
            a.facts_for(&me, &upper_back()).unwrap()
        );
    }
    let facts = b.facts_for(&me, &upper_back()).unwrap();
    assert_eq!(facts.injuries.len(), 1);
    assert_eq!(facts.injuries[0].note.as_deref(), Some("active one"));

    // The 48-hour block: the same sessions refused before and after, and
    // the same allowed once it has passed.
    for start in [LOGGED.plus_ms(HOUR), LOGGED.plus_ms(47 * HOUR)] {
        let before = outcome_at(make, &*a, start);
        assert!(is_recent_injury(before.as_ref()), "{before:?}");
        assert_eq!(outcome_at(make, &*b, start), before);
        assert_eq!(outcome_at(make, &*c, start), before);
    }
    let later = LOGGED.plus_ms(49 * HOUR);
    assert_eq!(outcome_at(make, &*a, later), Some(Outcome::Completed));
    assert_eq!(outcome_at(make, &*b, later), Some(Outcome::Completed));

    // Importing the export again (or into the source) adds nothing.
    let again = import(&*b, &me, &doc).unwrap();
    assert_eq!((again.injuries_imported, again.injuries_skipped), (0, 3));
    assert_eq!(import(&*a, &me, &doc).unwrap().injuries_skipped, 3);
    assert_eq!(b.list_injuries(&me).unwrap().len(), 3);
}

/// Importing a store's own export skips every session by uid and every
/// injury, and adds nothing.
pub fn importing_the_same_sessions_twice_skips_them_by_uid(make: Make<'_>) {
    let a = make();
    let me = owner();
    filled(&*a);
    let doc = export(&*a, &me, T0).unwrap();
    let report = import(&*a, &me, &doc).unwrap();
    assert_eq!(report.imported, 0);
    assert_eq!(report.skipped.len(), 4);
    assert_eq!(report.skipped[0], doc.sessions[0].uid);
    assert_eq!((report.injuries_imported, report.injuries_skipped), (0, 2));
    assert_eq!(history(&*a, &me).len(), 4);
    assert_eq!(a.list_injuries(&me).unwrap().len(), 2);
}

/// An import refused (a log with an event twice) writes nothing.
pub fn a_failed_import_changes_nothing(make: Make<'_>) {
    let a = make();
    let me = owner();
    filled(&*a);
    let mut doc = export(&*a, &me, T0).unwrap();
    let b = make();
    // The second session's log has a duplicated event.
    let dup = doc.sessions[1].events[0].clone();
    doc.sessions[1].events.push(dup);
    let err = import(&*b, &me, &doc).unwrap_err();
    assert!(err.to_string().contains("appears twice"), "{err}");
    assert!(history(&*b, &me).is_empty());
    assert!(b.list_injuries(&me).unwrap().is_empty());
}

/// The CSV has a header, one row per session oldest first, rating columns,
/// and empty end columns for a live session.
pub fn the_csv_has_one_row_per_session_with_rating_columns_and_quoting(make: Make<'_>) {
    let a = make();
    let me = owner();
    filled(&*a);
    let csv = export(&*a, &me, T0).unwrap().to_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert_eq!(
        lines[0],
        "uid,protocol_id,protocol_version,area,started_at,ended_at,outcome,reason,reps_done,\
         reps_target,active_ms,duration_ms,pairing,instrument,reasons,noises,discomfort,events,\
         upper-back-soreness_before,upper-back-soreness_after"
    );
    assert!(lines[1].contains(",refused,recent-injury,"), "{}", lines[1]);
    assert!(lines[2].contains(",completed,,"), "{}", lines[2]);
    assert!(lines[2].ends_with(",7,3"), "{}", lines[2]);
    // T0 plus 60 hours.
    assert!(lines[2].contains("2026-11-27T21:00:00Z"), "{}", lines[2]);
    assert!(lines[3].contains(",stopped,pain-with-pop,"), "{}", lines[3]);
    assert!(
        lines[4].contains(",,,,"),
        "live session has empty end columns: {}",
        lines[4]
    );
    let mut streamed = Vec::new();
    write_export_csv(&*a, &me, &mut streamed, &mut |_| {}).unwrap();
    assert_eq!(String::from_utf8(streamed).unwrap(), csv);
}

/// A store with one completed session (ratings, a full log) and an injury.
fn one_session(make: Make<'_>) -> Arc<dyn Records> {
    let store = make();
    let me = owner();
    injury(&*store, &me, "neck", T0, Some("a, \"b\""), T0);
    completed(&*store, &me, hours(60), &[7], &[3]);
    store
}

/// A document of `n` sessions: copies of `one_session`'s, a day apart.
fn big_doc(make: Make<'_>, n: u32) -> ExportDocument {
    let mut doc = export(&*one_session(make), &owner(), hours(100)).unwrap();
    let model = doc.sessions.pop().unwrap();
    doc.sessions = (0..n)
        .map(|i| {
            let mut s = model.clone();
            s.uid = format!("uid-{i:06}");
            s.started_at = T0.plus_ms(u64::from(i) * 24 * HOUR);
            s.ended_at = Some(
                s.started_at
                    .plus_ms(model.ended_at.unwrap().since(model.started_at)),
            );
            s
        })
        .collect();
    doc.exported_at = T0.plus_ms(u64::from(n + 1) * 24 * HOUR);
    doc
}

/// The streamed export (JSON, a page at a time) is the document byte for
/// byte, with progress after each page; the streamed CSV is its CSV; an
/// empty store's too.
pub fn the_streamed_export_is_the_document_byte_for_byte(make: Make<'_>) {
    let a = make();
    let me = owner();
    import(&*a, &me, &big_doc(make, 150)).unwrap();
    injury(&*a, &me, "upper-back", T0, None, T0);
    let now = T0.plus_ms(9_000 * HOUR);
    let doc = export(&*a, &me, now).unwrap();
    assert_eq!(doc.sessions.len(), 150);
    let mut out = Vec::new();
    let mut seen = Vec::new();
    let counts = write_export_json(&*a, &me, now, &mut out, &mut |n| seen.push(n)).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), doc.to_json() + "\n");
    assert_eq!((counts.sessions, counts.injuries), (150, 2));
    assert_eq!(
        seen.last(),
        Some(&150),
        "progress after each page: {seen:?}"
    );

    let mut csv = Vec::new();
    write_export_csv(&*a, &me, &mut csv, &mut |_| {}).unwrap();
    assert_eq!(String::from_utf8(csv).unwrap(), doc.to_csv());

    // An empty store too.
    let empty = make();
    let mut out = Vec::new();
    write_export_json(&*empty, &me, now, &mut out, &mut |_| {}).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        export(&*empty, &me, now).unwrap().to_json() + "\n"
    );
}

/// A streamed import writes the whole document, says where it is, and a
/// second one skips what is there.
pub fn a_streamed_import_round_trips_and_skips_what_is_there(make: Make<'_>) {
    let doc = big_doc(make, 40);
    let text = doc.to_json();
    let b = make();
    let me = owner();
    let mut steps = Vec::new();
    let report = import_stream(
        &*b,
        &me,
        || Ok(Cursor::new(text.as_bytes())),
        rules(),
        &mut |s| steps.push(s),
    )
    .unwrap();
    assert_eq!(report.imported, 40);
    assert_eq!((report.injuries_imported, report.injuries_skipped), (1, 0));
    assert_eq!(
        steps.last(),
        Some(&ImportStep::Written {
            done: 40,
            total: 40
        })
    );
    assert_eq!(export(&*b, &me, doc.exported_at).unwrap(), doc);
    let again = import_text(&*b, &me, &text).unwrap();
    assert_eq!(again.imported, 0);
    assert_eq!(again.skipped.len(), 40);
    assert_eq!(again.injuries_skipped, 1);
    assert_eq!(b.session_count(&me).unwrap(), 40);
}

/// A streamed import refused anywhere (a duplicated event, a field that
/// does not fit, a document that is not an export) names the problem and
/// writes nothing.
pub fn a_refused_streamed_import_names_the_problem_and_writes_nothing(make: Make<'_>) {
    let b = make();
    let me = owner();
    let mut doc = big_doc(make, 30);
    let dup = doc.sessions[20].events[1].clone();
    doc.sessions[20].events.push(dup);
    let err = import_text(&*b, &me, &doc.to_json())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("uid-000020") && err.contains("appears twice"),
        "{err}"
    );
    assert_eq!(b.session_count(&me).unwrap(), 0);

    let mut text = big_doc(make, 30).to_json();
    let at = text.rfind("\"reps_target\"").unwrap();
    text.replace_range(at..at + 13, "\"reps_target\": \"eight\", \"x\"");
    let err = import_text(&*b, &me, &text).unwrap_err().to_string();
    assert!(
        err.contains("session 30:") && err.contains("line") && err.contains("does not fit"),
        "{err}"
    );
    assert_eq!(b.session_count(&me).unwrap(), 0);

    for (text, want) in [
        ("{\"hello\": 1}", "not a rollcoach export"),
        ("not json", "not valid JSON"),
        (
            "{\"format\":\"rollcoach-export\",\"version\":7,\"sessions\":[]}",
            "newer rollcoach",
        ),
        (
            "{\"format\":\"rollcoach-export\",\"version\":1,\"exported_at\":0,\"sessions\":[]}",
            "missing field `injuries`",
        ),
        (
            "{\"format\":\"rollcoach-export\",\"version\":1,\"exported_at\":0,\"sessions\":[{}],\"injuries\":[]}",
            "missing field",
        ),
    ] {
        let err = import_text(&*b, &me, text).unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
    assert_eq!(b.session_count(&me).unwrap(), 0);
}

/// Version 3 of the export writes each distinct protocol snapshot once:
/// the first session carries it, the others name that session's uid in
/// `protocol_same_as`. Streamed or whole, it reads back as the document
/// (whole sessions) and imports; a version 2 document, every snapshot
/// whole, still imports; a reference that is wrong (to no session, to a
/// later one, beside a `protocol`, or neither given) is refused naming the
/// session, and nothing is written.
pub fn each_distinct_snapshot_is_exported_once_and_references_resolve(make: Make<'_>) {
    let a = make();
    let me = owner();
    import(&*a, &me, &big_doc(make, 150)).unwrap();
    let now = T0.plus_ms(9_000 * HOUR);
    let doc = export(&*a, &me, now).unwrap();
    let mut out = Vec::new();
    write_export_json(&*a, &me, now, &mut out, &mut |_| {}).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.matches("\"protocol\": {").count(), 1, "one snapshot");
    assert_eq!(
        text.matches("\"protocol_same_as\": \"uid-000000\"").count(),
        149
    );
    let whole = serde_json::to_string_pretty(&doc).unwrap();
    assert!(
        text.len() * 2 < whole.len(),
        "{} bytes, against {} with every snapshot",
        text.len(),
        whole.len()
    );
    assert_eq!(ExportDocument::from_json(&text).unwrap(), doc);
    let b = make();
    assert_eq!(import_text(&*b, &me, &text).unwrap().imported, 150);
    assert_eq!(export(&*b, &me, now).unwrap(), doc);
    // Version 2, every snapshot whole.
    let v2 = whole.replacen("\"version\": 3", "\"version\": 2", 1);
    assert!(v2.contains("\"version\": 2"));
    let c = make();
    assert_eq!(import_text(&*c, &me, &v2).unwrap().imported, 150);
    assert_eq!(export(&*c, &me, now).unwrap(), doc);

    let v3: serde_json::Value = serde_json::from_str(&text).unwrap();
    // The header first, as the streamed import reads it.
    let broken = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = v3.clone();
        f(&mut v);
        format!(
            "{{\"format\":\"rollcoach-export\",\"version\":3,\"exported_at\":{},\"sessions\":{},\"injuries\":{}}}",
            v["exported_at"], v["sessions"], v["injuries"]
        )
    };
    let cases: [(String, &str); 4] = [
        (
            broken(&|v| v["sessions"][3]["protocol_same_as"] = "uid-nobody".into()),
            "session 4",
        ),
        (
            broken(&|v| {
                let first = v["sessions"][0].as_object_mut().unwrap();
                first.remove("protocol");
                first.insert("protocol_same_as".into(), "uid-000001".into());
            }),
            "session 1",
        ),
        (
            broken(&|v| v["sessions"][5]["protocol"] = v3["sessions"][0]["protocol"].clone()),
            "session 6",
        ),
        (
            broken(&|v| {
                v["sessions"][7]
                    .as_object_mut()
                    .unwrap()
                    .remove("protocol_same_as");
            }),
            "session 8",
        ),
    ];
    let d = make();
    for (text, session) in &cases {
        for err in [
            import_text(&*d, &me, text).unwrap_err().to_string(),
            ExportDocument::from_json(text).unwrap_err().to_string(),
        ] {
            assert!(
                err.contains(session) && err.contains("protocol"),
                "{session}: {err}"
            );
        }
    }
    assert_eq!(d.session_count(&me).unwrap(), 0);
}

/// A streamed import whose second read breaks off after many batches are
/// written removes every session and injury it wrote (and their logs),
/// and keeps what was there before.
pub fn a_streamed_import_that_fails_while_writing_removes_what_it_wrote(make: Make<'_>) {
    let b = make();
    let me = owner();
    import(&*b, &me, &big_doc(make, 1)).unwrap(); // uid-000000 is here already, and stays
    let good = big_doc(make, 50).to_json();
    // The second read breaks off after about forty sessions: many batches
    // are written by then.
    let cut = good.len() * 4 / 5;
    let mut reads = 0;
    let err = import_stream(
        &*b,
        &me,
        || {
            reads += 1;
            let text = if reads == 1 { &good[..] } else { &good[..cut] };
            Ok(Cursor::new(text.as_bytes().to_vec()))
        },
        rules(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("not valid JSON"), "{err}");
    assert_eq!(reads, 2);
    assert_eq!(
        b.session_count(&me).unwrap(),
        1,
        "only what was there before"
    );
    assert_eq!(b.list_injuries(&me).unwrap().len(), 1);
    assert_eq!(
        b.events(&me, "uid-000000").unwrap().len(),
        big_doc(make, 1).sessions[0].events.len()
    );
    let gone = b.events(&me, "uid-000001").unwrap_err();
    assert!(
        matches!(gone, StoreError::NotFound(NotFound::SessionUid(_))),
        "the removed sessions' logs went with them: {gone:?}"
    );
}

/// Injuries are added (numbered per person), listed, cleared by uid once,
/// and stay listed; clearing twice or an unknown uid is refused with the fix.
pub fn injuries_are_added_listed_and_cleared_by_uid(make: Make<'_>) {
    let store = make();
    let me = owner();
    let a = injury(
        &*store,
        &me,
        "upper-back",
        T0,
        Some("tweaked it lifting"),
        hours(1),
    );
    let b = injury(&*store, &me, "neck", hours(2), None, hours(2));
    assert_eq!(a.note.as_deref(), Some("tweaked it lifting"));
    assert_eq!(a.cleared_at, None);
    assert_eq!((a.number, b.number), (1, 2));
    assert_eq!(
        store.list_injuries(&me).unwrap(),
        vec![a.clone(), b.clone()]
    );

    let cleared = store.clear_injury(&me, &a.uid, hours(3)).unwrap();
    assert_eq!(cleared.cleared_at, Some(hours(3)));
    assert_eq!(cleared.uid, a.uid);
    let err = store.clear_injury(&me, &a.uid, hours(4)).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict(Conflict::InjuryAlreadyCleared { .. })
        ),
        "{err:?}"
    );
    // T0 plus 3 hours.
    assert!(err.to_string().contains("2026-11-25T12:00:00Z"), "{err}");
    let err = store.clear_injury(&me, "no-such-injury", T0).unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(NotFound::InjuryUid(ref uid)) if uid == "no-such-injury"),
        "{err:?}"
    );
    assert!(err.to_string().contains("injury list"), "{err}");
    assert_eq!(
        store.list_injuries(&me).unwrap().len(),
        2,
        "cleared injuries stay listed"
    );
}

/// Two injuries logged in one millisecond get distinct uids in the
/// sessions' uid format (the logging time, then 16 hex digits).
pub fn new_injuries_get_distinct_uids_in_the_sessions_format(make: Make<'_>) {
    let store = make();
    let me = owner();
    let a = injury(&*store, &me, "neck", T0, None, LOGGED);
    let b = injury(&*store, &me, "neck", T0, None, LOGGED);
    assert_ne!(a.uid, b.uid);
    for uid in [&a.uid, &b.uid] {
        let (time, random) = uid.split_once('-').expect("time-random");
        assert_eq!(time, format!("{:012x}", LOGGED.0), "{uid}");
        assert_eq!(random.len(), 16, "{uid}");
        assert!(random.chars().all(|c| c.is_ascii_hexdigit()), "{uid}");
    }
    assert_eq!(injury_by_uid(&*store, &me, &a.uid), a);
    assert_eq!(store.clear_injury(&me, &a.uid, LOGGED).unwrap().uid, a.uid);
}

/// The facts of a protocol hold the uncleared injuries of its area (and of
/// no other), and the pairing the last session that rolled started with:
/// a refused session never rolled, and the next session alternates it.
pub fn the_facts_hold_the_uncleared_injuries_of_the_area_and_the_last_pairing(make: Make<'_>) {
    let store = make();
    let me = owner();
    let p = upper_back();
    assert_eq!(store.facts_for(&me, &p).unwrap(), Default::default());

    let old = injury(&*store, &me, &p.area, T0, Some("old"), T0);
    injury(&*store, &me, &p.area, hours(1), Some("recent"), T0);
    injury(&*store, &me, "knee", T0, None, T0);
    store.clear_injury(&me, &old.uid, hours(1)).unwrap();
    let facts = store.facts_for(&me, &p).unwrap();
    assert_eq!(
        facts.injuries,
        vec![InjuryFact {
            at: hours(1),
            note: Some("recent".into()),
        }]
    );
    assert_eq!(facts.last_pairing, None);

    // The engine refuses while the logged injury is within 48 h...
    let refused = push(&*store, &me, hours(2), Plan::default());
    assert!(
        is_recent_injury(refused.outcome()),
        "{:?}",
        refused.outcome()
    );
    assert_eq!(
        store.facts_for(&me, &p).unwrap().last_pairing,
        None,
        "refusals never rolled"
    );
    // ...and allows it after; the next session alternates the pairing.
    let first = completed(&*store, &me, hours(50), &[], &[]);
    let first_pairing = store.session(&me, &first.uid).unwrap().pairing.unwrap();
    assert_eq!(
        store.facts_for(&me, &p).unwrap().last_pairing,
        Some(first_pairing)
    );
    let second = completed(&*store, &me, hours(51), &[], &[]);
    let second_pairing = store.session(&me, &second.uid).unwrap().pairing.unwrap();
    assert_eq!(second_pairing, first_pairing.switched());
    assert_eq!(
        store.facts_for(&me, &p).unwrap().last_pairing,
        Some(second_pairing)
    );
    let mut another = Protocol::clone(&p);
    another.id = "another-protocol".into();
    assert_eq!(store.facts_for(&me, &another).unwrap().last_pairing, None);
}

/// A clear imported for an injury the store has open is applied; a
/// document from before the clear does not undo it, and a later clear does
/// not move it: a clear only moves forward (by document and by stream).
pub fn an_imported_clear_is_applied_and_a_clear_only_moves_forward(make: Make<'_>) {
    let me = owner();
    let a = make();
    let injury = injury(&*a, &me, "upper-back", LOGGED, Some("tweak"), LOGGED);
    let active = export(&*a, &me, LOGGED).unwrap();

    // Cleared elsewhere: importing that clears it here.
    let b = make();
    import(&*b, &me, &active).unwrap();
    let elsewhere = b.list_injuries(&me).unwrap()[0].uid.clone();
    assert_eq!(elsewhere, injury.uid, "the uid travels with it");
    let cleared_at = LOGGED.plus_ms(HOUR);
    b.clear_injury(&me, &elsewhere, cleared_at).unwrap();
    let cleared = export(&*b, &me, cleared_at).unwrap();
    let report = import(&*a, &me, &cleared).unwrap();
    assert_eq!(
        (
            report.injuries_imported,
            report.injuries_skipped,
            report.injuries_cleared
        ),
        (0, 0, 1)
    );
    assert_eq!(
        injury_by_uid(&*a, &me, &injury.uid).cleared_at,
        Some(cleared_at)
    );
    assert!(a.facts_for(&me, &upper_back()).unwrap().injuries.is_empty());

    // The document of before the clear does not undo it, and a later clear
    // elsewhere does not move it.
    let report = import(&*a, &me, &active).unwrap();
    assert_eq!((report.injuries_skipped, report.injuries_cleared), (1, 0));
    let mut later = cleared.clone();
    later.injuries[0].cleared_at = Some(cleared_at.plus_ms(HOUR));
    assert_eq!(import(&*a, &me, &later).unwrap().injuries_skipped, 1);
    assert_eq!(
        injury_by_uid(&*a, &me, &injury.uid).cleared_at,
        Some(cleared_at)
    );

    // Streamed, the same.
    let c = make();
    import(&*c, &me, &active).unwrap();
    let report = import_text(&*c, &me, &cleared.to_json()).unwrap();
    assert_eq!(report.injuries_cleared, 1);
    assert_eq!(export(&*c, &me, cleared_at).unwrap(), cleared);
}

/// A twin that differs (a uid the store has, with another note) is not the
/// same injury: the whole import is refused naming the uid and the field,
/// by document and by stream, and nothing is added.
pub fn an_injury_uid_here_with_other_content_refuses_the_whole_import_naming_the_field(
    make: Make<'_>,
) {
    let me = owner();
    let a = twins(make);
    let mut doc = export(&*a, &me, LOGGED.plus_ms(3 * HOUR)).unwrap();
    doc.injuries[2].note = Some("edited".into());
    let err = import(&*a, &me, &doc).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict(Conflict::InjuryDiffers { field: "note", .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains(&doc.injuries[2].uid), "{err}");

    // A store with the injuries but not the sessions: nothing is added.
    let b = make();
    let mut only_injuries = export(&*a, &me, LOGGED).unwrap();
    only_injuries.sessions.clear();
    import(&*b, &me, &only_injuries).unwrap();
    let err = import(&*b, &me, &doc).unwrap_err();
    assert!(err.to_string().contains("another note"), "{err}");
    let err = import_text(&*b, &me, &doc.to_json()).unwrap_err();
    assert!(err.to_string().contains("another note"), "{err}");
    assert_eq!(b.session_count(&me).unwrap(), 0, "all or nothing");
    assert_eq!(b.list_injuries(&me).unwrap().len(), 3);
}

/// A document with an injury uid twice is refused (by document and by
/// stream) and nothing is written.
pub fn an_injury_uid_twice_in_a_document_is_refused(make: Make<'_>) {
    let me = owner();
    let a = twins(make);
    let mut doc = export(&*a, &me, LOGGED.plus_ms(3 * HOUR)).unwrap();
    doc.injuries[2].uid = doc.injuries[1].uid.clone();
    let b = make();
    let err = import(&*b, &me, &doc).unwrap_err().to_string();
    assert!(err.contains("injuries 2 and 3 have the same uid"), "{err}");
    let err = import_text(&*b, &me, &doc.to_json())
        .unwrap_err()
        .to_string();
    assert!(err.contains("same uid"), "{err}");
    assert!(b.list_injuries(&me).unwrap().is_empty());
    assert_eq!(b.session_count(&me).unwrap(), 0);
}

/// A version 1 document (no injury uids) keeps both twins, each with its
/// legacy uid, and importing it again (through either reader) adds nothing.
pub fn an_old_export_without_injury_uids_keeps_both_twins_and_imports_once(make: Make<'_>) {
    let me = owner();
    let a = twins(make);
    let doc = export(&*a, &me, LOGGED.plus_ms(3 * HOUR)).unwrap();
    let old = version_1(&doc);

    let b = make();
    let report = import_text(&*b, &me, &old).unwrap();
    assert_eq!((report.injuries_imported, report.injuries_skipped), (3, 0));
    let injuries = b.list_injuries(&me).unwrap();
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
    assert!(is_recent_injury(
        outcome_at(make, &*b, LOGGED.plus_ms(HOUR)).as_ref()
    ));

    // Twice, through either reader: nothing more.
    let again = import_text(&*b, &me, &old).unwrap();
    assert_eq!((again.injuries_imported, again.injuries_skipped), (0, 3));
    let doc_again = ExportDocument::from_json(&old).unwrap();
    assert_eq!(doc_again.injuries[2].uid, uids[2]);
    assert_eq!(import(&*b, &me, &doc_again).unwrap().injuries_skipped, 3);
    assert_eq!(b.list_injuries(&me).unwrap().len(), 3);
}

/// A pushed session that `accept` verified is stored once: accepting it
/// again, verifying it again, or four requests storing it at once give
/// `Already`; the store holds it once, as verified.
pub fn a_pushed_session_is_stored_once_however_often_it_is_accepted(make: Make<'_>) {
    let store = make();
    let me = owner();
    let run = Autopilot::start(upper_back(), rated(&[6], &[2]), T0)
        .unwrap()
        .run()
        .unwrap();
    let record = finished(&run, "phone-0001");
    let verified = accept(record.clone(), catalog(), NOW).unwrap();
    assert_eq!(verified.uid(), "phone-0001");
    assert_eq!(
        store.accept_session(&me, &verified).unwrap(),
        Accepted::Stored
    );
    assert_eq!(
        store.accept_session(&me, &verified).unwrap(),
        Accepted::Already
    );
    let again = accept(record.clone(), catalog(), NOW).unwrap();
    assert_eq!(
        store.accept_session(&me, &again).unwrap(),
        Accepted::Already
    );
    assert_eq!(store.session_count(&me).unwrap(), 1);
    assert_eq!(export(&*store, &me, NOW).unwrap().sessions, [record]);

    // Two servers (or two requests) at once: stored once.
    let run = Autopilot::start(upper_back(), Plan::default(), hours(5))
        .unwrap()
        .run()
        .unwrap();
    let verified = accept(finished(&run, "phone-0002"), catalog(), NOW).unwrap();
    let answers: Vec<Accepted> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| store.accept_session(&me, &verified).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        answers.iter().filter(|a| **a == Accepted::Stored).count(),
        1,
        "{answers:?}"
    );
    assert_eq!(store.session_count(&me).unwrap(), 2);
}

/// A verified session pushed under a uid the person already holds with
/// another session is [`Accepted::Differs`] and stores nothing (issue 24,
/// finding 11): for every pair of distinct runs (every outcome, another
/// start, other ratings), the one stored first stays, as verified; the same
/// one again is still [`Accepted::Already`].
pub fn a_different_session_under_a_stored_uid_differs_and_is_not_stored(make: Make<'_>) {
    let me = owner();
    let mut runs: Vec<rollcoach_store::ExportedSession> = every_outcome()
        .into_iter()
        .enumerate()
        .map(|(i, plan)| {
            let run = Autopilot::start(upper_back(), plan, hours(2 * i as u64))
                .unwrap()
                .run()
                .unwrap();
            finished(&run, "phone-same")
        })
        .collect();
    // The same log at another start; other ratings at the same start.
    let later = Autopilot::start(upper_back(), rated(&[6], &[2]), hours(40))
        .unwrap()
        .run()
        .unwrap();
    let other = Autopilot::start(upper_back(), rated(&[7], &[2]), hours(40))
        .unwrap()
        .run()
        .unwrap();
    runs.push(finished(&later, "phone-same"));
    runs.push(finished(&other, "phone-same"));
    for (i, first) in runs.iter().enumerate() {
        let store = make();
        let first_verified = accept(first.clone(), catalog(), NOW).unwrap();
        assert_eq!(
            store.accept_session(&me, &first_verified).unwrap(),
            Accepted::Stored
        );
        for (j, second) in runs.iter().enumerate().filter(|(j, _)| *j != i) {
            assert_ne!(first, second, "runs {i} and {j} are distinct");
            let verified = accept(second.clone(), catalog(), NOW).unwrap();
            assert_eq!(
                store.accept_session(&me, &verified).unwrap(),
                Accepted::Differs,
                "run {j} pushed over run {i}"
            );
        }
        assert_eq!(
            store.accept_session(&me, &first_verified).unwrap(),
            Accepted::Already
        );
        assert_eq!(store.session_count(&me).unwrap(), 1);
        assert_eq!(
            export(&*store, &me, NOW).unwrap().sessions,
            [first_verified.record().clone()],
            "the first stays, as verified"
        );
    }
}

/// The runs of every outcome (completed with ratings of two reasons and a
/// noise, stopped by pain, refused, let go at rep 3), for a plan each.
fn every_outcome() -> Vec<Plan> {
    let two = Plan::reasons(["soreness", "posture"])
        .ratings([Some(7), None], [Some(3), Some(2)])
        .at(Point::At(30_000), Input::Noise);
    let two = two.options(rollcoach_engine::Options {
        reasons: vec!["soreness".into(), "posture".into()],
        reps: Some(5),
        ..Default::default()
    });
    vec![
        two,
        pain_at_phase(3),
        Plan::default().refuse(),
        rated(&[5, 4], &[]).at(Point::Rep(3), Act::LetGo { after_ms: 0 }),
    ]
}

/// What a store records at a session's end is, field for field, the
/// record of the finished run ([`rollcoach_store::ExportedSession::finished`]):
/// its export, its record by uid and its log, for every outcome.
pub fn what_is_recorded_at_the_end_is_the_finished_record_field_for_field(make: Make<'_>) {
    let store = make();
    let me = owner();
    let ours: Vec<(Stored, rollcoach_store::ExportedSession)> = every_outcome()
        .into_iter()
        .enumerate()
        .map(|(i, plan)| {
            let s = push(&*store, &me, hours(2 * i as u64), plan);
            let f = finished(&s.run, &s.uid);
            (s, f)
        })
        .collect();
    let kinds: Vec<&str> = ours
        .iter()
        .map(|(_, f)| f.outcome.as_ref().unwrap().kind())
        .collect();
    assert_eq!(kinds, ["completed", "stopped", "refused", "interrupted"]);
    assert_eq!(
        ours[3].1.reps_done,
        Some(2),
        "the let-go run rolled two reps"
    );
    assert_eq!(ours[0].1.ratings.len(), 2, "{:?}", ours[0].1.ratings);
    let exported = export(&*store, &me, NOW).unwrap();
    assert_eq!(exported.sessions.len(), ours.len());
    for (theirs, (_, ours)) in exported.sessions.iter().zip(&ours) {
        assert_eq!(theirs, ours, "session {}", ours.uid);
    }
    for (s, f) in &ours {
        let r = store.session(&me, &s.uid).unwrap();
        assert_eq!(
            (&r.uid, &r.protocol_id, r.protocol_version, &r.area),
            (&f.uid, &f.protocol_id, f.protocol_version, &f.area)
        );
        assert_eq!(
            (&r.options, &r.facts, r.started_at),
            (&f.options, &f.facts, f.started_at)
        );
        assert_eq!(
            (r.ended_at, &r.outcome, &r.reason),
            (f.ended_at, &f.outcome, &f.reason)
        );
        assert_eq!(
            (&r.message, r.reps_done, r.reps_target),
            (&f.message, f.reps_done, f.reps_target)
        );
        assert_eq!((r.active_ms, r.pairing), (f.active_ms, f.pairing));
        assert_eq!((&r.ratings, &r.summary), (&f.ratings, &f.summary));
        assert_eq!(store.events(&me, &s.uid).unwrap(), f.events);
        let snapshot: serde_json::Value =
            serde_json::from_str(&store.protocol_json(&me, &s.uid).unwrap()).unwrap();
        assert_eq!(snapshot, f.protocol);
    }
}

/// The history is newest first, with each session's ratings that have a
/// value, and a page holds at most its limit.
pub fn history_is_newest_first_with_ratings_and_honours_the_limit(make: Make<'_>) {
    let store = make();
    let me = owner();
    assert!(history(&*store, &me).is_empty());
    let a = completed(&*store, &me, T0, &[8], &[5]);
    let b = completed(&*store, &me, hours(24), &[6], &[]);
    let c = completed(&*store, &me, hours(48), &[], &[]);
    let all = history(&*store, &me);
    assert_eq!(uids(&all), [&*c.uid, &*b.uid, &*a.uid]);
    assert_eq!(all[1].ratings[0].before, Some(6));
    assert_eq!(all[1].ratings[0].after, None);
    assert!(all[0].ratings.is_empty());
    assert_eq!(store.history_page(&me, 2, None).unwrap().len(), 2);
    assert_eq!(store.history_page(&me, 0, None).unwrap().len(), 0);
}

/// Pages by uid cursor follow each other without gaps or repeats, newest
/// first (sessions of one start time included); nothing is older than the
/// oldest; an unknown uid, or one of another person, is not a cursor.
pub fn history_pages_by_uid_cover_every_session_once_newest_first(make: Make<'_>) {
    let store = make();
    let me = owner();
    // Two sessions share a start time: the store's own order breaks the tie.
    let mut all = vec![completed(&*store, &me, T0, &[], &[])];
    for k in [50, 50, 51, 52, 53, 54] {
        all.push(completed(&*store, &me, hours(k), &[k as u8 % 11], &[]));
    }
    assert_eq!(store.session_count(&me).unwrap(), 7);
    let newest_first: Vec<String> = history(&*store, &me).into_iter().map(|r| r.uid).collect();
    let mut sorted = newest_first.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 7, "every session once");
    let starts: Vec<Time> = history(&*store, &me).iter().map(|r| r.started_at).collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let mut paged = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = store.history_page(&me, 3, before.as_deref()).unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        before = Some(last.uid.clone());
        paged.extend(page.into_iter().map(|r| r.uid));
    }
    assert_eq!(paged, newest_first);
    assert_eq!(paged.len(), 7);
    assert_eq!(store.history_page(&me, 3, None).unwrap().len(), 3);
    assert!(
        store
            .history_page(&me, 3, Some(&all[0].uid))
            .unwrap()
            .is_empty(),
        "nothing is older than the oldest"
    );
    let theirs = completed(&*store, &client(), hours(60), &[], &[]);
    for cursor in ["no-such-session", theirs.uid.as_str()] {
        let err = store.history_page(&me, 3, Some(cursor)).unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound(NotFound::SessionUid(_))),
            "{cursor}: {err:?}"
        );
        let err = store.history_rows(&me, 3, Some(cursor)).unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound(NotFound::SessionUid(_))),
            "{cursor}: {err:?}"
        );
    }
}

/// The compact history rows are the history pages in short, page by page;
/// the whole compact history holds every session, with charts if asked.
pub fn history_rows_are_the_history_pages_in_short(make: Make<'_>) {
    let store = make();
    let me = owner();
    import(&*store, &me, &big_doc(make, 12)).unwrap();
    completed(&*store, &me, hours(1_000), &[2], &[9]);
    push(&*store, &me, hours(1_001), crash_at_phase(2));
    let mut before: Option<String> = None;
    loop {
        let rows = store.history_rows(&me, 5, before.as_deref()).unwrap();
        let records = store.history_page(&me, 5, before.as_deref()).unwrap();
        let want: Vec<HistoryRow> = records.into_iter().map(HistoryRow::from).collect();
        assert_eq!(rows, want);
        match rows.last() {
            Some(r) if rows.len() == 5 => before = Some(r.uid.clone()),
            _ => break,
        }
    }
    let mut out = Vec::new();
    let n = write_history_rows(&*store, &me, &mut out, Some(60)).unwrap();
    assert_eq!(n, 14);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["total"], 14);
    assert_eq!(v["sessions"].as_array().unwrap().len(), 14);
    // The columns name sessions by uid (no row id).
    assert_eq!(v["columns"].as_array().unwrap().len(), 9);
    assert_eq!(v["columns"][0], "uid");
    let columns = v["columns"].as_array().unwrap();
    assert!(!columns.contains(&serde_json::json!("id")), "{columns:?}");
    assert!(v["charts"].is_array());
    let newest = &v["sessions"][0];
    assert_eq!(newest[4], serde_json::Value::Null, "live: no outcome");
    let mut out = Vec::new();
    write_history_rows(&*store, &me, &mut out, None).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(v.get("charts").is_none());
}

/// Rating series keep the most recent sessions that have the rating,
/// oldest first.
pub fn rating_series_keep_the_most_recent_sessions_oldest_first(make: Make<'_>) {
    let store = make();
    let me = owner();
    for k in 0..5u64 {
        completed(&*store, &me, hours(50 + k), &[k as u8], &[k as u8 + 1]);
    }
    completed(&*store, &me, hours(60), &[], &[]);
    let series = rating_series(&store.history_points(&me).unwrap(), 3);
    assert_eq!(series.len(), 1);
    let s = &series[0];
    assert_eq!(s.id, "upper-back-soreness");
    assert_eq!(s.sessions, 5, "the unrated session has no point");
    let values: Vec<_> = s.points.iter().map(|p| (p.before, p.after)).collect();
    assert_eq!(
        values,
        vec![(Some(2), Some(3)), (Some(3), Some(4)), (Some(4), Some(5))]
    );
    assert!(s.points.windows(2).all(|w| w[0].at < w[1].at));
}

/// The history points agree with the records, and the summary counts the
/// sessions of this local week, the streak of days and the average change.
pub fn the_summary_counts_this_week_the_streak_and_the_average_change(make: Make<'_>) {
    /// Thursday 2026-01-01, 00:00 UTC (01:00 in Paris): the calendar the
    /// assertions count in.
    const THURSDAY: Time = Time(1_767_225_600_000);
    let store = make();
    let me = owner();
    let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(1)); // Paris in winter
    let day = 24 * HOUR;
    // Sessions on Mon 29 Dec, Wed 31 Dec, Thu 1 Jan (twice), and a refusal
    // on Fri 2 Jan.
    let at = |ms: u64| Time(THURSDAY.0 + ms);
    completed(
        &*store,
        &me,
        Time(THURSDAY.0 - 3 * day + 10 * HOUR),
        &[8],
        &[4],
    );
    completed(&*store, &me, Time(THURSDAY.0 - day + 10 * HOUR), &[6], &[5]);
    completed(&*store, &me, at(8 * HOUR), &[5], &[5]);
    completed(&*store, &me, at(9 * HOUR), &[], &[]);
    push(&*store, &me, at(day + 10 * HOUR), Plan::default().refuse());
    let records = history(&*store, &me);
    let points = store.history_points(&me).unwrap();
    assert_eq!(
        points,
        records.iter().map(HistoryPoint::from).collect::<Vec<_>>(),
        "the light read agrees with the full records"
    );

    let friday_noon = at(day + 11 * HOUR);
    let s = summarize(&points, friday_noon, &tz);
    assert_eq!(
        s.sessions_this_week, 4,
        "Monday 29 Dec to now, refusal excluded"
    );
    assert_eq!(
        s.streak_days, 2,
        "Wed and Thu; Friday has only a refusal, Tuesday nothing"
    );
    assert_eq!(s.rating_changes.len(), 1);
    assert_eq!(s.rating_changes[0].id, "upper-back-soreness");
    assert_eq!(s.rating_changes[0].sessions, 3);
    assert!((s.rating_changes[0].mean_change - (-5.0 / 3.0)).abs() < 1e-9);

    // On the next Monday the week starts again and the streak is broken.
    let monday = at(4 * day + 12 * HOUR);
    let s = summarize(&points, monday, &tz);
    assert_eq!((s.sessions_this_week, s.streak_days), (0, 0));
}

fn change_key(change: &Change) -> (&'static str, &str) {
    match change {
        Change::Session(s) => ("session", &s.uid),
        Change::Injury(i) => ("injury", &i.uid),
    }
}

/// Every stored session and injury change (pushed, imported, logged,
/// cleared) appears once, in order, after its cursor, each as it is now;
/// reading from any cursor gives the rest, a page at a time too; a cursor
/// at the end gives nothing.
pub fn every_change_appears_once_after_its_cursor(make: Make<'_>) {
    let store = make();
    let me = owner();
    assert!(store.changes_since(&me, None, 100).unwrap().is_empty());
    let s1 = completed(&*store, &me, T0, &[5], &[4]);
    let i1 = injury(&*store, &me, "upper-back", hours(1), None, hours(1));
    let s2 = push(&*store, &me, hours(2), Plan::default());
    store.clear_injury(&me, &i1.uid, hours(3)).unwrap();
    let mut doc = export(&*one_session(make), &me, hours(100)).unwrap();
    doc.injuries.clear();
    import(&*store, &me, &doc).unwrap();
    let s3 = doc.sessions[0].uid.clone();

    let all = store.changes_since(&me, None, 100).unwrap();
    let keys: Vec<(&str, &str)> = all.iter().map(|(_, c)| change_key(c)).collect();
    assert_eq!(
        keys,
        [
            ("session", s1.uid.as_str()),
            ("injury", i1.uid.as_str()),
            ("session", s2.uid.as_str()),
            ("injury", i1.uid.as_str()),
            ("session", s3.as_str()),
        ]
    );
    assert!(
        all.windows(2).all(|w| w[0].0 < w[1].0),
        "cursors move forward"
    );
    for (_, change) in &all {
        match change {
            Change::Session(s) => assert_eq!(s, &store.session(&me, &s.uid).unwrap()),
            Change::Injury(i) => {
                assert_eq!(i, &injury_by_uid(&*store, &me, &i.uid));
                assert_eq!(i.cleared_at, Some(hours(3)), "as it is now");
            }
        }
    }
    for (k, (cursor, _)) in all.iter().enumerate() {
        assert_eq!(
            store.changes_since(&me, Some(cursor), 100).unwrap(),
            all[k + 1..],
            "after change {k}"
        );
    }
    let mut paged = Vec::new();
    let mut since = None;
    loop {
        let page = store.changes_since(&me, since.as_ref(), 2).unwrap();
        assert!(page.len() <= 2);
        let Some((last, _)) = page.last() else { break };
        since = Some(*last);
        paged.extend(page);
    }
    assert_eq!(paged, all);
    let end = all.last().unwrap().0;
    assert!(
        store
            .changes_since(&me, Some(&end), 100)
            .unwrap()
            .is_empty()
    );
}

fn new_device<'a>(id: &'a str, secret_hash: &'a str) -> NewDevice<'a> {
    NewDevice {
        id,
        name: "Chrome on Android",
        via: "pairing link from the terminal",
        secret_hash,
        created_at: T0,
    }
}

fn token(hash: &str, expires_at: Time) -> NewPairingToken<'_> {
    NewPairingToken {
        token_hash: hash,
        created_by: "terminal",
        created_at: T0,
        expires_at,
    }
}

/// A device is found by its secret's hash (with its person) until it is
/// revoked; revoking again keeps the first time; an unknown id is `None`;
/// touching it notes when it was last let in.
pub fn a_device_is_found_by_its_secret_hash_until_it_is_revoked(make: Make<'_>) {
    let store = make();
    let me = owner();
    store.add_device(&me, &new_device("a1", "hash-a")).unwrap();
    store.add_device(&me, &new_device("b2", "hash-b")).unwrap();
    let found = store.device_by_secret("hash-a").unwrap().unwrap();
    assert_eq!((found.id.as_str(), &found.person), ("a1", &me));
    assert_eq!(store.device_by_secret("nope").unwrap(), None);
    let later = hours(1);
    let revoked = store.revoke_device(&me, "a1", later).unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(later));
    assert_eq!(store.device_by_secret("hash-a").unwrap(), None);
    assert_eq!(store.device_by_secret("hash-b").unwrap().unwrap().id, "b2");
    // Revoking again keeps the first time; an unknown id is None.
    let again = store
        .revoke_device(&me, "a1", later.plus_ms(5))
        .unwrap()
        .unwrap();
    assert_eq!(again.revoked_at, Some(later));
    assert_eq!(store.revoke_device(&me, "zz", later).unwrap(), None);
    let all = store.devices(&me).unwrap();
    assert_eq!(
        all.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        ["a1", "b2"]
    );
    store.touch_device(&me, "b2", later).unwrap();
    assert_eq!(
        store
            .device_by_secret("hash-b")
            .unwrap()
            .unwrap()
            .last_seen_at,
        Some(later)
    );
}

/// A pairing link pairs one device, once, for its person, and none after
/// it expires; a spent link writes nothing.
pub fn a_pairing_token_pairs_one_device_once_and_not_after_it_expires(make: Make<'_>) {
    let store = make();
    let me = owner();
    store
        .add_pairing_token(&me, &token("t1", hours(1)))
        .unwrap();
    store
        .add_pairing_token(&me, &token("t2", hours(1)))
        .unwrap();
    let now = T0.plus_ms(60_000);
    let paired = store
        .redeem_pairing_token("t1", now, &new_device("d1", "s1"))
        .unwrap()
        .unwrap();
    assert_eq!((paired.id.as_str(), &paired.person), ("d1", &me));
    // Spent: the second device is not paired, and nothing is written.
    assert_eq!(
        store
            .redeem_pairing_token("t1", now, &new_device("d2", "s2"))
            .unwrap(),
        None
    );
    assert_eq!(store.device_by_secret("s2").unwrap(), None);
    // Expired.
    assert_eq!(
        store
            .redeem_pairing_token("t2", hours(1), &new_device("d3", "s3"))
            .unwrap(),
        None
    );
    assert_eq!(store.devices(&me).unwrap().len(), 1);
}

/// Two people in one store never see each other's sessions, logs,
/// injuries, facts, devices, pairing links, changes or exports: a uid of
/// one read as the other is not found, and a write as one touches nothing
/// of the other's.
pub fn two_people_in_one_store_never_see_each_other_s_records(make: Make<'_>) {
    let store = make();
    let (a, b) = (owner(), client());
    let sa = completed(&*store, &a, T0, &[7], &[3]);
    let sb = completed(&*store, &b, hours(1), &[], &[]);
    let ia = injury(&*store, &a, "upper-back", hours(2), Some("a's"), hours(2));
    let ib = injury(&*store, &b, "neck", hours(2), Some("b's"), hours(2));
    assert_eq!((ia.number, ib.number), (1, 1), "numbered per person");
    store
        .add_device(&a, &new_device("dev-a", "hash-a"))
        .unwrap();
    store
        .add_device(&b, &new_device("dev-b", "hash-b"))
        .unwrap();

    for (me, mine, theirs, my_injury) in [(&a, &sa, &sb, &ia), (&b, &sb, &sa, &ib)] {
        assert_eq!(uids(&history(&*store, me)), [mine.uid.as_str()]);
        assert_eq!(store.session_count(me).unwrap(), 1);
        assert_eq!(store.history_points(me).unwrap().len(), 1);
        let rows = store.history_rows(me, 10, None).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].uid, mine.uid);
        assert!(store.session(me, &mine.uid).is_ok());
        let not_found = |r: rollcoach_store::Result<()>, what: &str| {
            let err = r.unwrap_err();
            assert!(
                matches!(err, StoreError::NotFound(NotFound::SessionUid(_))),
                "{what} of another person's session: {err:?}"
            );
        };
        not_found(store.session(me, &theirs.uid).map(|_| ()), "session");
        not_found(store.events(me, &theirs.uid).map(|_| ()), "events");
        not_found(
            store.protocol_json(me, &theirs.uid).map(|_| ()),
            "protocol_json",
        );
        not_found(
            store.history_page(me, 10, Some(&theirs.uid)).map(|_| ()),
            "history_page",
        );
        let doc = export(&*store, me, NOW).unwrap();
        assert_eq!(doc.sessions.len(), 1);
        assert_eq!(doc.sessions[0].uid, mine.uid);
        assert_eq!(doc.injuries.len(), 1);
        let changes = store.changes_since(me, None, 100).unwrap();
        assert!(
            changes.iter().all(|(_, c)| match c {
                Change::Session(s) => s.uid == mine.uid,
                Change::Injury(i) => i.uid == my_injury.uid,
            }),
            "{changes:?}"
        );
        assert_eq!(changes.len(), 2);
    }
    assert_eq!(store.list_injuries(&a).unwrap(), std::slice::from_ref(&ia));
    assert_eq!(store.list_injuries(&b).unwrap(), std::slice::from_ref(&ib));
    assert_eq!(store.rating_ids(&a).unwrap(), ["upper-back-soreness"]);
    assert!(store.rating_ids(&b).unwrap().is_empty());
    // The owner's upper-back injury is not in the client's facts.
    assert_eq!(
        store.facts_for(&a, &upper_back()).unwrap().injuries.len(),
        1
    );
    assert!(
        store
            .facts_for(&b, &upper_back())
            .unwrap()
            .injuries
            .is_empty()
    );

    // Writes as the client touch nothing of the owner's.
    let err = store.clear_injury(&b, &ia.uid, hours(3)).unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(NotFound::InjuryUid(_))),
        "{err:?}"
    );
    assert_eq!(store.revoke_device(&b, "dev-a", hours(3)).unwrap(), None);
    // Touching another person's device does nothing (whether or not it says so).
    let _ = store.touch_device(&b, "dev-a", hours(3));
    let dev_a = store.device_by_secret("hash-a").unwrap().unwrap();
    assert_eq!((dev_a.revoked_at, dev_a.last_seen_at), (None, None));
    assert_eq!(dev_a.person, a);
    assert_eq!(store.device_by_secret("hash-b").unwrap().unwrap().person, b);
    store
        .remove_imported(
            &b,
            std::slice::from_ref(&sa.uid),
            std::slice::from_ref(&ia.uid),
        )
        .unwrap();
    assert_eq!(store.session_count(&a).unwrap(), 1);
    assert_eq!(store.list_injuries(&a).unwrap(), std::slice::from_ref(&ia));
    let devices: Vec<String> = store
        .devices(&a)
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(devices, ["dev-a"]);

    // A pairing link pairs a device for its own person.
    store
        .add_pairing_token(&b, &token("link-b", hours(10)))
        .unwrap();
    let paired = store
        .redeem_pairing_token("link-b", hours(4), &new_device("dev-b2", "hash-b2"))
        .unwrap()
        .unwrap();
    assert_eq!(paired.person, b);
    assert_eq!(store.devices(&a).unwrap().len(), 1);
    assert_eq!(store.devices(&b).unwrap().len(), 2);
    assert_eq!(injury_by_uid(&*store, &a, &ia.uid).cleared_at, None);
}

/// A uid is its person's: two people push sessions and log injuries under
/// the same uids (another run, another note), each is stored as its
/// person's own, and each person sees, changes, exports and removes only
/// their own.
pub fn two_people_may_hold_the_same_uids_and_each_sees_only_their_own(make: Make<'_>) {
    let store = make();
    let (a, b) = (owner(), client());
    let sa = completed(&*store, &a, T0, &[7], &[3]);
    // The client's own run at the same start, rated otherwise, pushed under
    // the owner's uid (a phone's uid, chosen by the phone).
    let facts = store.facts_for(&b, &upper_back()).expect("facts");
    let run_b = Autopilot::start(upper_back(), rated(&[5], &[1]).facts(facts), T0)
        .expect("the plan fits the protocol")
        .run()
        .expect("the autopilot drives the session");
    let record_b = finished(&run_b, &sa.uid);
    let record_a = finished(&sa.run, &sa.uid);
    assert_ne!(record_a, record_b, "two different sessions under one uid");
    let verified_b = accept(record_b.clone(), catalog(), NOW).expect("a genuine session");
    assert_eq!(
        store
            .accept_session(&b, &verified_b)
            .expect("accept_session"),
        Accepted::Stored,
        "another person's uid is free for this one"
    );
    assert_eq!(
        store.accept_session(&b, &verified_b).unwrap(),
        Accepted::Already
    );
    // The owner's stays the owner's: the client's session under it differs.
    assert_eq!(
        store.accept_session(&a, &verified_b).unwrap(),
        Accepted::Differs
    );

    // Injuries: the owner's logged, the client's imported under its uid.
    let ia = injury(&*store, &a, "upper-back", hours(2), Some("a's"), hours(2));
    let ib_in = rollcoach_store::ExportedInjury {
        uid: ia.uid.clone(),
        area: "neck".into(),
        at: hours(3),
        note: Some("b's".into()),
        created_at: hours(3),
        cleared_at: None,
    };
    let imported = store
        .import_injuries(&b, std::slice::from_ref(&ib_in))
        .expect("the client's injury under the owner's uid imports");
    assert_eq!(imported.added, std::slice::from_ref(&ia.uid));

    for (me, mine, ratings, note) in [(&a, &record_a, 7, "a's"), (&b, &record_b, 5, "b's")] {
        let h = history(&*store, me);
        assert_eq!(uids(&h), [sa.uid.as_str()], "{me:?}");
        assert_eq!(
            h[0].ratings[0].before,
            Some(ratings),
            "{me:?}'s own session"
        );
        let stored = store.session(me, &sa.uid).unwrap();
        assert_eq!(stored.ratings[0].before, Some(ratings));
        let events: Vec<_> = store.events(me, &sa.uid).unwrap();
        assert_eq!(events, mine.events, "{me:?}'s own log");
        assert_eq!(store.session_count(me).unwrap(), 1);
        let injuries = store.list_injuries(me).unwrap();
        assert_eq!(injuries.len(), 1);
        assert_eq!(injuries[0].uid, ia.uid);
        assert_eq!(injuries[0].note.as_deref(), Some(note));
        assert_eq!(injuries[0].number, 1, "numbered per person");
        let doc = export(&*store, me, NOW).unwrap();
        assert_eq!(doc.sessions.len(), 1);
        assert_eq!(&doc.sessions[0], mine, "{me:?} exports their own session");
        assert_eq!(doc.injuries.len(), 1);
        assert_eq!(doc.injuries[0].note.as_deref(), Some(note));
        let changes = store.changes_since(me, None, 100).unwrap();
        assert_eq!(changes.len(), 2, "{changes:?}");
        for (_, c) in &changes {
            match c {
                Change::Session(s) => assert_eq!(s.ratings[0].before, Some(ratings)),
                Change::Injury(i) => assert_eq!(i.note.as_deref(), Some(note)),
            }
        }
    }

    // Clearing the client's clears the client's only.
    let cleared = store.clear_injury(&b, &ia.uid, hours(4)).unwrap();
    assert_eq!(cleared.note.as_deref(), Some("b's"));
    assert_eq!(cleared.cleared_at, Some(hours(4)));
    assert_eq!(injury_by_uid(&*store, &a, &ia.uid).cleared_at, None);

    // Removing the client's removes the client's only.
    store
        .remove_imported(
            &b,
            std::slice::from_ref(&sa.uid),
            std::slice::from_ref(&ia.uid),
        )
        .unwrap();
    assert!(history(&*store, &b).is_empty());
    assert!(store.list_injuries(&b).unwrap().is_empty());
    assert_eq!(uids(&history(&*store, &a)), [sa.uid.as_str()]);
    assert_eq!(
        store.events(&a, &sa.uid).unwrap(),
        record_a.events,
        "the owner's log is whole"
    );
    assert_eq!(store.list_injuries(&a).unwrap(), std::slice::from_ref(&ia));
    assert_eq!(store.changes_since(&a, None, 100).unwrap().len(), 2);
    assert!(store.changes_since(&b, None, 100).unwrap().is_empty());
}

/// A person's change cursors are their own: the same changes of the owner
/// give the same cursors whether or not another person of the store made
/// changes in between (a cursor that counted everyone's changes would tell
/// the owner how much the others did).
pub fn a_person_s_change_cursors_say_nothing_of_another_person_s_changes(make: Make<'_>) {
    let cursors = |others: bool| -> Vec<String> {
        let store = make();
        let (a, b) = (owner(), client());
        let mut n = 0;
        let mut others_change = || {
            if others {
                n += 1;
                completed(&*store, &b, hours(10 * n), &[], &[]);
                let i = injury(&*store, &b, "neck", hours(10 * n), None, hours(10 * n));
                store.clear_injury(&b, &i.uid, hours(10 * n + 1)).unwrap();
            }
        };
        others_change();
        completed(&*store, &a, hours(5), &[7], &[3]);
        others_change();
        let i = injury(&*store, &a, "upper-back", hours(25), None, hours(25));
        others_change();
        store.clear_injury(&a, &i.uid, hours(36)).unwrap();
        others_change();
        let all = store.changes_since(&a, None, 100).unwrap();
        assert_eq!(all.len(), 3, "{all:?}");
        let after_first = store.changes_since(&a, Some(&all[0].0), 100).unwrap();
        assert_eq!(after_first.len(), 2);
        all.iter()
            .chain(&after_first)
            .map(|(c, _)| c.to_string())
            .collect()
    };
    assert_eq!(cursors(false), cursors(true));
}
