//! SqliteStore unit tests: real SQLite (in memory or in a temp dir), real engine.

use rollcoach_engine::{
    Facts, Input, Options, Outcome, Output, PainKind, Prompt, RefusalReason, Session, StopReason,
    Time,
};
use rollcoach_protocol::{Answer, Protocol};

use rollcoach_store::*;

use crate::{SCHEMA_VERSION, SqliteStore, migration_sql};

mod devices;
mod history;
mod identity;
mod injuries;
mod open;
mod recovery;
mod sessions;
mod stream;
mod transfer;
mod wal;

const T0: Time = Time(1_767_225_600_000); // 2026-01-01T00:00:00Z
const HOUR: u64 = 3_600_000;

fn protocol() -> Protocol {
    rollcoach_protocol::builtin()
        .into_iter()
        .find(|p| p.id == "upper-back")
        .expect("built-in upper-back")
}

/// How a test session is driven.
#[derive(Default)]
struct Plan {
    reasons: Vec<String>,
    /// Ratings answered before, then after, in prompt order.
    before: Vec<u8>,
    after: Vec<u8>,
    /// Answer "yes" to the first screening question (refuses).
    refuse: bool,
    /// Report pain with a pop at the start of this phase (1-based count of phases).
    pain_at_phase: Option<u32>,
    /// Stop recording (the driver "dies") when this phase starts.
    crash_at_phase: Option<u32>,
}

/// Drives a session on a virtual clock, recording every input before it is
/// applied, as a real driver does. Returns its id and outcome (None: crashed).
fn drive(store: &SqliteStore, start: Time, plan: Plan) -> (SessionId, Option<Outcome>) {
    let protocol = protocol();
    let options = Options {
        reasons: plan.reasons.clone(),
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
    let mut seq = 0;
    let mut phases = 0;
    let (mut before, mut after) = (plan.before.into_iter(), plan.after.into_iter());
    loop {
        let mut reply = None;
        while let Some(out) = session.poll_output() {
            match out {
                Output::Prompt(Prompt::Screening { .. }) => {
                    let answer = if plan.refuse { Answer::Yes } else { Answer::No };
                    reply = Some(Input::Answer { answer });
                }
                Output::Prompt(Prompt::Rating { when, .. }) => {
                    let value = match when {
                        rollcoach_engine::When::Before => before.next(),
                        rollcoach_engine::When::After => after.next(),
                    };
                    reply = Some(Input::Rating { value });
                }
                Output::Prompt(Prompt::Ready { .. }) => reply = Some(Input::Ready),
                Output::Phase { .. } => {
                    phases += 1;
                    if plan.crash_at_phase == Some(phases) {
                        return (id, None);
                    }
                    if plan.pain_at_phase == Some(phases) {
                        reply = Some(Input::Pain {
                            kind: PainKind::Pop,
                        });
                    }
                }
                Output::End {
                    outcome,
                    message,
                    summary,
                } => {
                    store
                        .finish_session(id, now, &outcome, &message, &summary)
                        .unwrap();
                    return (id, Some(outcome));
                }
                _ => {}
            }
        }
        let input = match reply {
            Some(input) => {
                now = now.plus_ms(1000); // the person takes a second to answer
                input
            }
            None => {
                now = session.next_deadline().expect("a live session waits");
                Input::Timeout
            }
        };
        store
            .append_event(id, seq, now.since(start), &input)
            .unwrap();
        seq += 1;
        session.handle(input, now).unwrap();
    }
}

fn completed(store: &SqliteStore, start: Time, before: Vec<u8>, after: Vec<u8>) -> SessionId {
    let (id, outcome) = drive(
        store,
        start,
        Plan {
            reasons: vec!["soreness".into()],
            before,
            after,
            ..Plan::default()
        },
    );
    assert_eq!(outcome, Some(Outcome::Completed));
    id
}

fn set_owner(store: &SqliteStore, id: SessionId, pid: u32, started: Option<String>) {
    store
        .conn
        .execute(
            "UPDATE sessions SET owner_pid = ?2, owner_started = ?3 WHERE id = ?1",
            rusqlite::params![id.0, pid, started],
        )
        .unwrap();
}

/// The pid of a process that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}
