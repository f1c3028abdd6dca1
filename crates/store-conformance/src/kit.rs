//! What the properties share: the catalog sessions are verified and
//! imported against, and the two ways a session gets into a store, as a
//! terminal logs it ([`drive`]) and as a phone pushes it ([`push`]).

use std::io::Cursor;
use std::sync::{Arc, LazyLock};

use rollcoach_engine::{EndRecord, Input, Outcome, PainKind, RefusalReason, Time};
use rollcoach_protocol::Protocol;
use rollcoach_store::{
    Accepted, Event, ExportedSession, FinishedRun, ImportReport, ImportRules, NewSession, PersonId,
    Records, SessionEnd, SessionId, SessionLog, SessionOutcome, SyncCatalog, TransferError, accept,
    import_stream, new_uid,
};
use rollcoach_testkit::{Act, Autopilot, DAY, HOUR, Plan, Point, Run, T0, builtins, protocol_arc};

/// Now, for every check of a time against the present (accept, import):
/// thirty years after [`T0`], so no session of the suite is in the future.
pub const NOW: Time = Time(T0.0 + 30 * 365 * DAY);

/// The owner: whose sessions a [`SessionLog`] writes.
pub fn owner() -> PersonId {
    PersonId::owner()
}

/// Another person of the same store.
pub fn client() -> PersonId {
    PersonId::parse("client-7").expect("a person id")
}

/// The protocol every session of the suite runs: the built-in upper back.
pub fn upper_back() -> Arc<Protocol> {
    protocol_arc("upper-back")
}

/// The protocols sessions are verified and imported against: the built-in
/// ones, and one for the `neck` (an area injuries are logged in).
pub fn catalog() -> &'static SyncCatalog {
    static CATALOG: LazyLock<SyncCatalog> = LazyLock::new(|| {
        let mut neck = Protocol::clone(&upper_back());
        neck.id = "neck".into();
        neck.area = "neck".into();
        let mut all: Vec<Arc<Protocol>> = builtins().to_vec();
        all.push(Arc::new(neck));
        SyncCatalog::new(&all).expect("the catalog's protocols serialize")
    });
    &CATALOG
}

/// What the suite's streamed imports are checked against: [`catalog`], at [`NOW`].
pub fn rules() -> ImportRules<'static> {
    ImportRules {
        catalog: catalog(),
        now: NOW,
    }
}

/// Imports `text` into `person`'s records as a file is imported.
pub fn import_text(
    records: &dyn Records,
    person: &PersonId,
    text: &str,
) -> Result<ImportReport, TransferError> {
    import_stream(
        records,
        person,
        || Ok(Cursor::new(text.as_bytes())),
        rules(),
        &mut |_| {},
    )
}

/// A plan that rates `soreness` with these values before and after.
pub fn rated(before: &[u8], after: &[u8]) -> Plan {
    Plan::reasons(["soreness"]).ratings(
        before.iter().map(|v| Some(*v)),
        after.iter().map(|v| Some(*v)),
    )
}

/// A plan with pain with a pop as the `n`-th phase starts.
pub fn pain_at_phase(n: u32) -> Plan {
    Plan::default().at(
        Point::Phase(n),
        Input::Pain {
            kind: PainKind::Pop,
        },
    )
}

/// A plan whose driver dies as the `n`-th phase starts.
pub fn crash_at_phase(n: u32) -> Plan {
    Plan::default().at(Point::Phase(n), Act::Crash)
}

/// Whether an outcome is the refusal of a recent injury.
pub fn is_recent_injury(outcome: Option<&Outcome>) -> bool {
    matches!(
        outcome,
        Some(Outcome::Refused {
            reason: RefusalReason::RecentInjury { .. }
        })
    )
}

/// A session run by the autopilot and put in a store.
#[derive(Debug)]
pub struct Stored {
    /// Its uid in the store.
    pub uid: String,
    /// The run.
    pub run: Run,
}

impl Stored {
    /// The engine's outcome (`None`: interrupted or crashed).
    pub fn outcome(&self) -> Option<&Outcome> {
        self.run.outcome()
    }
}

/// The run's log as a store holds it.
pub fn events(run: &Run) -> Vec<Event> {
    run.log.iter().map(Event::from).collect()
}

/// The record of an ended run ([`ExportedSession::finished`]), with `uid`.
pub fn finished(run: &Run, uid: &str) -> ExportedSession {
    let end = run.end.as_ref().expect("the run ended or was let go");
    ExportedSession::finished(FinishedRun {
        uid,
        protocol: &run.protocol,
        protocol_json: &serde_json::to_value(&*run.protocol).expect("a protocol serializes"),
        options: &run.options,
        facts: &run.facts,
        started_at: run.started_at,
        events: &events(run),
        end,
    })
}

/// The record of a run that has not ended (a crashed driver's), as a log
/// holds it from the start: what [`SessionLog::begin_session`] records,
/// and the inputs logged.
pub fn live(run: &Run, uid: &str) -> ExportedSession {
    let p = &run.protocol;
    ExportedSession {
        uid: uid.to_owned(),
        protocol_id: p.id.clone(),
        protocol_version: p.version,
        area: p.area.clone(),
        protocol: serde_json::to_value(&**p).expect("a protocol serializes"),
        options: run.options.clone(),
        facts: run.facts.clone(),
        started_at: run.started_at,
        ended_at: None,
        outcome: None,
        reason: None,
        message: None,
        reps_done: None,
        reps_target: run.options.reps.unwrap_or(p.movement.reps.default),
        active_ms: None,
        pairing: run.options.pairing,
        ratings: Vec::new(),
        summary: None,
        events: events(run),
    }
}

/// Runs a session of the upper back for `person` at `start` as a phone does
/// (the facts from the store, the person as `plan` says) and pushes it: the
/// record of the run, verified by [`accept`], stored by
/// [`Records::accept_session`]. A run that crashed (no end) is imported as
/// the live session it left instead.
pub fn push(records: &dyn Records, person: &PersonId, start: Time, plan: Plan) -> Stored {
    let protocol = upper_back();
    let facts = records
        .facts_for(person, &protocol)
        .expect("facts for a protocol");
    let run = Autopilot::start(protocol, plan.facts(facts), start)
        .expect("the plan fits the protocol")
        .run()
        .expect("the autopilot drives the session");
    let uid = new_uid(start);
    if run.end.is_none() {
        let batch = records
            .import_sessions(person, &[live(&run, &uid)])
            .expect("a live session imports");
        assert_eq!(batch.added, std::slice::from_ref(&uid));
        return Stored { uid, run };
    }
    let record = finished(&run, &uid);
    let verified = accept(record.clone(), catalog(), NOW)
        .unwrap_or_else(|e| panic!("a genuine session is accepted: {e}"));
    assert_eq!(
        verified.record(),
        &record,
        "accept derives the finished record"
    );
    assert_eq!(
        records
            .accept_session(person, &verified)
            .expect("accept_session"),
        Accepted::Stored
    );
    Stored { uid, run }
}

/// [`push`] of a session that completes, rating `soreness` before and after.
pub fn completed(
    records: &dyn Records,
    person: &PersonId,
    start: Time,
    before: &[u8],
    after: &[u8],
) -> Stored {
    let s = push(records, person, start, rated(before, after));
    assert_eq!(s.outcome(), Some(&Outcome::Completed));
    s
}

/// A session driven into a [`SessionLog`].
#[derive(Debug)]
pub struct Logged {
    /// The log's handle on it.
    pub id: SessionId,
    /// Its uid.
    pub uid: String,
    /// The run.
    pub run: Run,
}

impl Logged {
    /// The engine's outcome (`None`: interrupted or crashed).
    pub fn outcome(&self) -> Option<&Outcome> {
        self.run.outcome()
    }
}

/// Records the end of a run as a driver does: the engine's end with
/// [`SessionLog::finish_session`], a let-go one as interrupted with its
/// summary.
pub fn record_end(log: &dyn SessionLog, id: SessionId, end: &EndRecord) {
    match &end.outcome {
        Some(outcome) => log
            .finish_session(
                id,
                end.ended_at,
                outcome,
                end.message.as_deref().unwrap_or_default(),
                &end.summary,
            )
            .expect("finish_session"),
        None => log
            .end_session(
                id,
                &SessionEnd {
                    ended_at: end.ended_at,
                    outcome: &SessionOutcome::Interrupted,
                    message: end.message.as_deref(),
                    summary: Some(&end.summary),
                },
            )
            .expect("end_session"),
    }
}

/// Drives a session of the upper back at `start` as a terminal does: the
/// facts from the log, the start recorded, every batch of inputs appended
/// before it is applied, the end recorded (none after a crash).
pub fn drive(log: &dyn SessionLog, start: Time, plan: Plan) -> Logged {
    let (id, run) = drive_unended(log, start, plan);
    if let Some(end) = &run.end {
        record_end(log, id, end);
    }
    let uid = log.session(id).expect("the session").uid;
    Logged { id, uid, run }
}

/// [`drive`] without recording the end: the driver died after its last input.
pub fn drive_unended(log: &dyn SessionLog, start: Time, plan: Plan) -> (SessionId, Run) {
    let protocol = upper_back();
    let facts = log.facts_for(&protocol).expect("facts for a protocol");
    let id = log
        .begin_session(&NewSession {
            protocol: &protocol,
            options: &plan.options,
            facts: &facts,
            started_at: start,
        })
        .expect("begin_session");
    let run = Autopilot::start(protocol, plan.facts(facts), start)
        .expect("the plan fits the protocol")
        .sink(|entries| {
            for e in entries {
                log.append_event(id, e.seq, e.at_ms, &e.input)
                    .expect("append_event");
            }
        })
        .run()
        .expect("the autopilot drives the session");
    (id, run)
}

/// [`drive`] of a session that completes, rating `soreness` before and after.
pub fn drive_completed(log: &dyn SessionLog, start: Time, before: &[u8], after: &[u8]) -> Logged {
    let s = drive(log, start, rated(before, after));
    assert_eq!(s.outcome(), Some(&Outcome::Completed));
    s
}

/// `n` hours after [`T0`].
pub fn hours(n: u64) -> Time {
    T0.plus_ms(n * HOUR)
}
