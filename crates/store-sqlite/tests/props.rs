//! Properties over random sessions: whatever a person does, the store keeps
//! it losslessly (export → import → export is the identity) and a crashed
//! session is recovered exactly as far as it got.

use proptest::prelude::*;
use rollcoach_engine::{Input, Options, Output, PainKind, Session, Time};
use rollcoach_protocol::{Answer, Protocol};
use rollcoach_store::{ExportDocument, NewSession, SessionOutcome, Store, recover_interrupted};
use rollcoach_store_sqlite::SqliteStore;

const T0: Time = Time(1_767_225_600_000);

fn protocol() -> Protocol {
    rollcoach_protocol::builtin()
        .into_iter()
        .find(|p| p.id == "upper-back")
        .unwrap()
}

/// A person's input, or "wait for the next deadline" (a timeout).
fn input() -> impl Strategy<Value = Input> {
    // Weighted so that many sessions reach the rolling and some end there.
    prop_oneof![
        20 => Just(Input::Timeout),
        6 => Just(Input::Ready),
        4 => Just(Input::Answer { answer: Answer::No }),
        4 => (0u8..=12).prop_map(|v| Input::Rating { value: Some(v) }),
        2 => Just(Input::Rating { value: None }),
        2 => Just(Input::Pause),
        2 => Just(Input::Resume),
        2 => (0u8..=10).prop_map(|level| Input::Discomfort { level }),
        2 => Just(Input::Noise),
        2 => Just(Input::SwitchBreathing),
    ]
}

/// An input that ends the session at once (where it fits).
fn ending() -> impl Strategy<Value = Input> {
    prop_oneof![
        Just(Input::Answer {
            answer: Answer::Yes
        }),
        Just(Input::Stop),
        prop_oneof![
            Just(PainKind::Pop),
            Just(PainKind::Spine),
            Just(PainKind::Other)
        ]
        .prop_map(|kind| Input::Pain { kind }),
    ]
}

fn reasons() -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(vec!["soreness", "posture", "overhead-block"], 0..=3)
        .prop_map(|v| v.into_iter().map(str::to_owned).collect())
}

/// Random inputs, half the time after the answers that bring the session
/// to the rolling; half the time with one input that ends it somewhere.
fn inputs(max: usize) -> impl Strategy<Value = Vec<(u16, Input)>> {
    (
        any::<bool>(),
        proptest::collection::vec((0u16..5000, input()), 0..max),
        proptest::option::of((any::<proptest::sample::Index>(), ending())),
    )
        .prop_map(|(screened, mut rest, end)| {
            if let Some((at, input)) = end {
                let i = at.index(rest.len() + 1);
                rest.insert(i, (100, input));
            }
            if screened {
                // Past screening, ratings (extra skips are rejected) and setup.
                let no = (500, Input::Answer { answer: Answer::No });
                let skip = (500, Input::Rating { value: None });
                let ready = (500, Input::Ready);
                rest.splice(
                    0..0,
                    [no, no, no, skip, skip, skip, ready, ready, ready, ready],
                );
            }
            rest
        })
}

/// Drives one session with `inputs` (each logged before it is applied,
/// rejected ones included, as a driver does); records its end if it comes.
/// Returns the live session as it stands.
fn drive(
    store: &SqliteStore,
    start: Time,
    reasons: Vec<String>,
    inputs: &[(u16, Input)],
) -> Session {
    let protocol = protocol();
    let options = Options {
        reasons,
        ..Options::default()
    };
    let facts = store.facts_for(&protocol).unwrap();
    let id = store
        .begin_session(&NewSession {
            protocol: &protocol,
            options: &options,
            facts: &facts,
            started_at: start,
        })
        .unwrap();
    let mut session = Session::new(&protocol, options, facts, start).unwrap();
    let mut now = start;
    for (seq, (delay, input)) in inputs.iter().enumerate() {
        now = match input {
            Input::Timeout => session.next_deadline().unwrap_or(now).max(now),
            _ => now.plus_ms(u64::from(*delay)),
        };
        store
            .append_event(id, u32::try_from(seq).unwrap(), now.since(start), input)
            .unwrap();
        let _ = session.handle(*input, now);
        while let Some(out) = session.poll_output() {
            if let Output::End {
                outcome,
                message,
                summary,
            } = out
            {
                store
                    .finish_session(id, now, &outcome, &message, &summary)
                    .unwrap();
                return session;
            }
        }
    }
    session
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn export_import_export_is_the_identity(
        sessions in proptest::collection::vec(
            (reasons(), inputs(60)),
            1..4,
        ),
        injury_note in proptest::option::of("[ -~]{0,20}"),
    ) {
        let a = SqliteStore::open_in_memory().unwrap();
        a.add_injury("upper-back", T0, injury_note.as_deref(), T0).unwrap();
        for (i, (reasons, inputs)) in sessions.iter().enumerate() {
            drive(&a, T0.plus_ms(100 * 3_600_000 * (i as u64 + 1)), reasons.clone(), inputs);
        }
        let doc = a.export(T0).unwrap();
        let b = SqliteStore::open_in_memory().unwrap();
        let report = b.import(&ExportDocument::from_json(&doc.to_json()).unwrap()).unwrap();
        prop_assert_eq!(report.imported as usize, sessions.len());
        prop_assert_eq!(b.export(T0).unwrap(), doc.clone());
        prop_assert_eq!(doc.to_csv().lines().count(), sessions.len() + 1);
        let again = b.import(&doc).unwrap();
        prop_assert_eq!(again.imported, 0);
        prop_assert_eq!(again.skipped.len(), sessions.len());
    }

    #[test]
    fn a_crashed_session_is_recovered_exactly_as_far_as_it_got(
        reasons in reasons(),
        inputs in inputs(80),
    ) {
        let store = SqliteStore::open_in_memory().unwrap();
        let live = drive(&store, T0, reasons, &inputs);
        let records = store.unfinished().unwrap();
        if live.outcome().is_some() {
            prop_assert!(records.is_empty());
            return Ok(());
        }
        // Imported elsewhere, nobody owns it: recovery replays its log.
        let doc = store.export(T0).unwrap();
        let other = SqliteStore::open_in_memory().unwrap();
        other.import(&doc).unwrap();
        let recovered = recover_interrupted(&other).unwrap();
        prop_assert_eq!(recovered.len(), 1);
        prop_assert_eq!(&recovered[0].outcome, &SessionOutcome::Interrupted);
        let record = other.history(None).unwrap().remove(0);
        prop_assert_eq!(record.summary.as_ref(), Some(&live.summary()));
        prop_assert_eq!(record.reps_done, Some(live.reps_done()));
    }
}
