//! rollcoach's store, independent of where the data lives: the traits that
//! every backend implements (`rollcoach-store-sqlite` is the one there is),
//! split by role ([`SessionLog`] for the terminal's local log, [`Records`]
//! for a server's people), the records they take and give, their errors
//! ([`StoreError`]: [`NotFound`], [`Conflict`], [`Corrupt`], [`Backend`]),
//! the store's rules as pure functions ([`rules`]), the export document
//! ([`ExportDocument`], JSON and CSV), sync's one step for a pushed session
//! ([`accept`]), history summaries, and crash recovery
//! ([`recover_interrupted`]), which only uses the traits. Beside the
//! records, [`People`] keeps who a server knows: its owner, coaches and
//! their clients, invites and failed sign-ins.
//!
//! The split follows atuin's `atuin-server-database` crate (one `Database`
//! trait whose every call takes the user, one crate per backend): another
//! backend (PostgreSQL for a coach with many clients) is another crate
//! implementing [`Records`] with rows and SQL, and nothing above the store
//! changes. A conformance suite (the `rollcoach-store-conformance` crate,
//! run by each backend's tests with a constructor) holds every backend to
//! the same properties.
//!
//! # How drivers use it
//!
//! ```no_run
//! # use rollcoach_store::{SessionLog, NewSession};
//! # use rollcoach_engine::{Input, Options, Output, Session, Time};
//! # fn run(log: &dyn SessionLog) -> Result<(), Box<dyn std::error::Error>> {
//! rollcoach_store::recover_interrupted(log)?; // sessions of crashed drivers become `interrupted`
//! let protocol = rollcoach_protocol::builtin().remove(0);
//! let facts = log.facts_for(&protocol)?;
//! let options = Options::default();
//! let now = Time(1_700_000_000_000);
//! let id = log.begin_session(&NewSession {
//!     protocol: &protocol,
//!     options: &options,
//!     facts: &facts,
//!     started_at: now,
//! })?;
//! let mut session = Session::new(&protocol, options, facts, now)?;
//! let mut seq = 0;
//! // For every input: record it first, then apply it.
//! let input = Input::Ready;
//! let at = now.plus_ms(1500);
//! log.append_event(id, seq, at.since(now), &input)?;
//! seq += 1;
//! let _ = session.handle(input, at);
//! while let Some(out) = session.poll_output() {
//!     if let Output::End { outcome, message, summary } = out {
//!         log.finish_session(id, at, &outcome, &message, &summary)?;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! (A real driver goes through the engine's `Runner`, which numbers the
//! inputs and hands over the log entries to append.)
//!
//! # Guarantees every backend gives
//!
//! - [`SessionLog::append_event`] returns once the input is durable, so a
//!   driver that records an input and only then applies it never loses an
//!   applied input when its process dies.
//! - Event logs are append-only; a session that has ended takes nothing more.
//! - The next [`recover_interrupted`] (the CLI calls it on every open) ends
//!   each live session whose driver is gone from its log.
//! - [`Records`] answers a person from their own records only.
#![deny(missing_docs)]

mod changes;
pub mod codec;
mod devices;
pub mod domain;
mod error;
mod export;
mod finished;
mod model;
mod people;
mod person;
mod recovery;
mod replay;
pub mod rules;
mod snapshots;
pub use snapshots::SAME_AS as PROTOCOL_SAME_AS;
mod stats;
mod store;
mod stream;
pub mod sync;
pub mod validate;

pub use changes::{Change, ChangeCursor, CursorError};
pub use devices::{Device, NewDevice, NewPairingToken};
pub use domain::{Area, InjuryNote, InjuryTime, Invalid, RecordTime, SessionOptions, Speed, Uid};
pub use error::{Backend, BoxError, Conflict, Corrupt, DisplayTime, NotFound, StoreError};
pub use export::{
    EXPORT_FORMAT, EXPORT_VERSION, ExportCursor, ExportDocument, ExportedInjury, ExportedSession,
    ImportReport, export, exported_session, import,
};
pub use finished::{FinishedRun, stored_ratings};
pub use model::{
    Event, Injury, LiveSession, NewInjury, NewSession, Recovered, SessionEnd, SessionId,
    SessionOutcome, SessionRecord, legacy_injury_uid, new_uid,
};
pub use people::{
    MAX_NAME_LEN, NewInvite, People, PersonInfo, Role, SIGN_IN_WINDOW_MS, check_name,
};
pub use person::{MAX_PERSON_ID_LEN, PersonId, PersonIdError};
pub use recovery::{interrupt, recover_interrupted};
pub use stats::{
    HistoryPoint, HistorySummary, RatingChange, RatingSeries, SeriesPoint, local_date,
    rating_series, summarize, timestamp,
};
pub use store::{Records, SessionLog};
pub use stream::{
    ExportCounts, ExportHeader, HISTORY_COLUMNS, HistoryRow, ImportStep, ImportedBatch,
    ImportedInjuries, TransferError, import_stream, read_export, write_export_csv,
    write_export_json, write_history_rows,
};
pub use sync::{
    Accepted, SyncCatalog, SyncRefusal, VerifiedSession, accept, check_uid, verify_session,
};
pub use validate::{ImportCheck, ImportRefusal, ImportRules, Subject};

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
