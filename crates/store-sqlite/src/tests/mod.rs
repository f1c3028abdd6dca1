//! SQLite's own tests: opening and checking the file, migrations, WAL and
//! checkpoints, query plans, process liveness for recovery, batches, and
//! what only two connections on one file show. Every backend-neutral
//! property of the store is in the conformance suite
//! (`rollcoach-store-conformance`), which `tests/conformance.rs` runs on
//! SQLite. Real SQLite (in memory or in a temp dir), real engine; sessions
//! are driven by the test kit's autopilot through the runner.

use rollcoach_engine::{Facts, Input, Options, Outcome, PainKind, StopReason, Time};
use rollcoach_store::*;
use rollcoach_store_conformance::kit;
use rollcoach_testkit::{HOUR, Plan, T0, protocol};

use crate::{SCHEMA_VERSION, SqliteRecords, SqliteStore, migration_sql};

mod devices;
mod history;
mod open;
mod recovery;
mod stream;
mod transfer;
mod wal;

fn owner() -> PersonId {
    PersonId::owner()
}

/// Drives a session of the upper back into the store's log as a terminal
/// does; returns its handle and outcome (None: crashed, still live).
fn drive(store: &SqliteStore, start: Time, plan: Plan) -> (SessionId, Option<Outcome>) {
    let s = kit::drive(store, start, plan);
    (s.id, s.outcome().cloned())
}

/// A completed session rating `soreness` before and after.
fn completed(store: &SqliteStore, start: Time, before: &[u8], after: &[u8]) -> SessionId {
    kit::drive_completed(store, start, before, after).id
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

/// A new injury for the owner.
fn new_injury(area: &str, at: Time, note: Option<&str>, created_at: Time) -> NewInjury {
    NewInjury {
        area: area.into(),
        at,
        note: note.map(str::to_owned),
        created_at,
    }
}
