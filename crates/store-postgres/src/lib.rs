//! rollcoach's PostgreSQL store: people's records ([`rollcoach_store::Records`])
//! in a PostgreSQL database that any number of rollcoach servers can share.
//!
//! ```no_run
//! use rollcoach_store::{PersonId, Records};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let records = rollcoach_store_postgres::PgRecords::open(
//!     "postgres://rollcoach@localhost/rollcoach",
//! )?;
//! let injuries = records.list_injuries(&PersonId::owner())?;
//! # Ok(()) }
//! ```
//!
//! - **Client.** The synchronous `postgres` crate: the `Records` methods
//!   block (a server runs them on its blocking pool), so each call takes a
//!   connection from a small pool of its own ([`MAX_CONNECTIONS`] at
//!   most), runs one transaction on it and gives it back. Statements are
//!   prepared once per connection. No TLS: the database is reached over a
//!   unix socket or loopback.
//! - **Migrations** (`migrations/NNNN_*.sql`, embedded) run at
//!   [`PgRecords::open`], all of them in one transaction that first takes
//!   an advisory lock ([`MIGRATION_LOCK`]): servers starting at once
//!   migrate one after the other, and each finds the versions applied in
//!   `schema_migrations`. A database of a newer rollcoach is refused
//!   ([`rollcoach_store::Conflict::TooNew`]) and not modified.
//! - **Row-level security.** Every person-owned table (sessions, events,
//!   ratings, injuries, devices, pairing links, changes) has a policy that
//!   shows and accepts only the rows whose `person` is the transaction's
//!   `rollcoach.person` setting. Every pooled connection runs `SET ROLE
//!   rollcoach_app`, a role that owns nothing (migrations create it), and
//!   every call runs in a transaction that sets `rollcoach.person` to the
//!   person it serves: a query that forgot its `WHERE person = ...` still
//!   reads and writes nothing of another person's. The two lookups that
//!   find the person (a device by its secret's hash, a pairing link by its
//!   token's hash) go through policies that show the one row whose hash the
//!   transaction names.
//! - **Many servers.** Nothing lives in one server's memory but a cache of
//!   snapshot ids (rows never changed nor removed). A person's changes are
//!   numbered 1, 2, 3... among their own (a cursor says nothing of anyone
//!   else's), under a lock of that person held to commit, so change
//!   cursors skip nothing whichever server wrote them.
#![deny(missing_docs)]

mod errors;
mod people;
mod pool;
mod records;
mod schema;

use std::collections::HashMap;
use std::sync::Mutex;

use rollcoach_store::{Backend, Result};

pub use pool::MAX_CONNECTIONS;
pub use schema::{MIGRATION_LOCK, SCHEMA_VERSION};

/// How long connecting waits for the server, unless the URL says
/// (`connect_timeout=SECONDS`).
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// People's records in a PostgreSQL database: see the crate docs.
/// `Send + Sync`; share it in an `Arc`.
pub struct PgRecords {
    pool: pool::Pool,
    /// Snapshot ids by the SHA-256 of their JSON, for snapshots seen
    /// committed (a snapshot row is never changed nor removed).
    snapshots: Mutex<HashMap<[u8; 32], i64>>,
}

impl std::fmt::Debug for PgRecords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgRecords")
            .field("location", &self.pool.location())
            .finish_non_exhaustive()
    }
}

impl PgRecords {
    /// Connects to the database at `url` (`postgres://USER@HOST/DB`, or
    /// `postgres:///DB?host=/run/postgresql` for a unix socket), migrates
    /// it to [`SCHEMA_VERSION`] and keeps a pool of connections to it.
    ///
    /// A URL that does not parse, a server that cannot be reached (within
    /// [`CONNECT_TIMEOUT`]), a login that is refused, or a migration that
    /// fails is an error naming the database and what failed (the URL's
    /// password is never shown). The user of the URL migrates, so owns the
    /// tables, and must be a member of the role `rollcoach_app` or be able
    /// to create it (a superuser, or `CREATEROLE`).
    pub fn open(url: &str) -> Result<PgRecords> {
        let config: postgres::Config = url.parse().map_err(|e| Backend::Failed {
            location: "given as a postgres:// URL".into(),
            source: format!(
                "the URL does not parse ({e}); give postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE \
                 or postgres:///DATABASE?host=/path/to/socket/dir"
            )
            .into(),
        })?;
        let mut config = config;
        if config.get_connect_timeout().is_none() {
            // A host that does not answer is an error, not a hang.
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let pool = pool::Pool::new(config);
        let mut conn = pool.connect_owner()?;
        schema::migrate(&mut conn)?;
        drop(conn);
        // The first connection as the store queries: checks SET ROLE works.
        pool.with(|_| Ok(()))?;
        Ok(PgRecords {
            pool,
            snapshots: Mutex::new(HashMap::new()),
        })
    }

    /// Where the database is, as errors name it: its name, host (or socket
    /// directory) and user.
    pub fn location(&self) -> &str {
        self.pool.location()
    }
}
