//! rollcoach's store, independent of where the data lives: the [`Store`]
//! trait that every backend implements (`rollcoach-store-sqlite` is the one
//! there is), the records it takes and gives, its errors ([`StoreError`]:
//! [`NotFound`], [`Conflict`], [`Corrupt`], [`Backend`]), the export
//! document ([`ExportDocument`], JSON and CSV), history summaries, and crash
//! recovery ([`recover_interrupted`]), which only uses the trait.
//!
//! The split follows atuin's `atuin-server-database` crate (one `Database`
//! trait, one crate per backend): another backend (PostgreSQL for a coach
//! with many clients) is another crate implementing [`Store`], and nothing
//! above the store changes.
//!
//! # How drivers use it
//!
//! ```no_run
//! # use rollcoach_store::{Store, NewSession};
//! # use rollcoach_engine::{Input, Options, Output, Session, Time};
//! # fn run(store: &dyn Store) -> Result<(), Box<dyn std::error::Error>> {
//! rollcoach_store::recover_interrupted(store)?; // sessions of crashed drivers become `interrupted`
//! let protocol = rollcoach_protocol::builtin().remove(0);
//! let facts = store.facts_for(&protocol)?;
//! let options = Options::default();
//! let now = Time(1_700_000_000_000);
//! let id = store.begin_session(&NewSession {
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
//! store.append_event(id, seq, at.since(now), &input)?;
//! seq += 1;
//! let _ = session.handle(input, at);
//! while let Some(out) = session.poll_output() {
//!     if let Output::End { outcome, message, summary } = out {
//!         store.finish_session(id, at, &outcome, &message, &summary)?;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Guarantees every backend gives
//!
//! - [`Store::append_event`] returns once the input is durable, so a driver
//!   that records an input and only then applies it never loses an applied
//!   input when its process dies.
//! - Event logs are append-only; a session that has ended takes nothing more.
//! - A live session remembers the process that drives it ([`Driver`]); the
//!   next [`recover_interrupted`] (the CLI calls it on every open) ends each
//!   live session whose process is gone from its log.
#![deny(missing_docs)]

pub mod codec;
mod devices;
mod error;
mod export;
mod finished;
mod model;
mod owner;
mod recovery;
mod replay;
mod stats;
mod store;
mod stream;
pub mod sync;
pub mod validate;

pub use devices::{Device, NewDevice, NewPairingToken};
pub use error::{Backend, BoxError, Conflict, Corrupt, DisplayTime, NotFound, StoreError};
pub use export::{
    EXPORT_FORMAT, EXPORT_VERSION, ExportCursor, ExportDocument, ExportedInjury, ExportedSession,
    ImportReport, export, exported_session,
};
pub use finished::{FinishedRun, stored_ratings};
pub use model::{
    Event, Injury, InjuryId, LiveSession, NewSession, Recovered, SessionEnd, SessionId,
    SessionOutcome, SessionRecord, legacy_injury_uid, new_uid,
};
pub use owner::Driver;
pub use recovery::{interrupt, recover_interrupted};
pub use stats::{
    HistoryPoint, HistorySummary, RatingChange, RatingSeries, SeriesPoint, local_date,
    rating_series, summarize, timestamp,
};
pub use store::Store;
pub use stream::{
    ExportCounts, ExportHeader, HISTORY_COLUMNS, HistoryRow, ImportStep, ImportedBatch,
    ImportedInjuries, TransferError, import_stream, read_export, write_export_csv,
    write_export_json, write_history_rows,
};
pub use sync::{SyncCatalog, SyncRefusal, check_uid, verify_session};
pub use validate::{ImportCheck, ImportRefusal, ImportRules, Subject};

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
