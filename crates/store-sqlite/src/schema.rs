//! The schema: migrations in order, checking a file before touching it, and
//! bringing an older file to the newest version.

use rollcoach_store::{Backend, Conflict, Corrupt, Result};
use rusqlite::Connection;
use rusqlite::OptionalExtension as _;

use crate::SqliteStore;

/// Schema migrations, in order: migration `i` (0-based) brings the file from
/// `user_version` `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_shared_snapshots.sql"),
    include_str!("../migrations/0003_pairing_index.sql"),
    include_str!("../migrations/0004_history_rows.sql"),
    include_str!("../migrations/0005_injury_uid.sql"),
    include_str!("../migrations/0006_devices.sql"),
    include_str!("../migrations/0007_people.sql"),
    include_str!("../migrations/0008_uid_per_person.sql"),
    include_str!("../migrations/0009_accounts.sql"),
    include_str!("../migrations/0010_canonical_snapshots.sql"),
];

/// The newest schema version this rollcoach knows (`PRAGMA user_version`).
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The SQL of the migration that brings a file to schema `version` (1-based),
/// for tests and tools that build files of older versions.
pub fn migration_sql(version: u32) -> Option<&'static str> {
    let index = usize::try_from(version).ok()?.checked_sub(1)?;
    MIGRATIONS.get(index).copied()
}

impl SqliteStore {
    /// Refuses a file from a newer rollcoach or from another program.
    pub(crate) fn check_file(&self) -> Result<()> {
        let found = self.user_version()?;
        if found > SCHEMA_VERSION {
            return Err(Conflict::TooNew {
                location: self.path.display().to_string(),
                found,
                known: SCHEMA_VERSION,
            }
            .into());
        }
        if found == 0 {
            let tables: i64 = self
                .conn
                .query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
                    [],
                    |r| r.get(0),
                )
                .map_err(self.err())?;
            if tables > 0 {
                return Err(Corrupt::NotRollcoach {
                    location: self.path.display().to_string(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// The file's schema version (`PRAGMA user_version`).
    pub fn user_version(&self) -> Result<u32> {
        let v: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(self.err())?;
        Ok(u32::try_from(v).unwrap_or(u32::MAX))
    }

    /// Brings the file to [`SCHEMA_VERSION`], one migration per
    /// transaction, with foreign keys off while they run (a migration that
    /// rebuilds a table drops it, which with them on would delete the rows
    /// that point at it, `ON DELETE CASCADE`); each step checks them before
    /// it commits, and they are on again after.
    pub(crate) fn migrate(&self) -> Result<()> {
        let failed = |source: rusqlite::Error| -> rollcoach_store::StoreError {
            Backend::Migration {
                location: self.path.display().to_string(),
                version: self.user_version().unwrap_or(0) + 1,
                source: Box::new(source),
            }
            .into()
        };
        if self.user_version()? >= SCHEMA_VERSION {
            return Ok(());
        }
        let foreign_keys: bool = self
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .map_err(self.err())?;
        // A no-op inside a transaction: the steps open their own.
        self.conn
            .pragma_update(None, "foreign_keys", false)
            .map_err(self.err())?;
        let migrated = loop {
            // One transaction per step; re-read inside it so two processes
            // opening an old file at once do not both migrate it.
            match migrate_step(&self.conn) {
                Ok(true) => break Ok(()),
                Ok(false) => continue,
                Err(source) => break Err(failed(source)),
            }
        };
        self.conn
            .pragma_update(None, "foreign_keys", foreign_keys)
            .map_err(self.err())?;
        migrated
    }
}

/// The migration whose step is [`canonical_snapshots`].
const CANONICAL_SNAPSHOTS: u32 = 10;

/// Rewrites every stored protocol snapshot in the sorted form every writer
/// now stores (`rollcoach_store::codec::snapshot_json`), and merges the rows
/// that become the same text: their sessions move to the first one. See
/// `migrations/0010_canonical_snapshots.sql`.
fn canonical_snapshots(conn: &Connection) -> rusqlite::Result<()> {
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT id, protocol_json FROM protocol_snapshots ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, text) in rows {
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
        })?;
        let canonical = value.to_string();
        if canonical == text {
            continue;
        }
        let kept: Option<i64> = conn
            .query_row(
                "SELECT id FROM protocol_snapshots WHERE protocol_json = ?1",
                [&canonical],
                |r| r.get(0),
            )
            .optional()?;
        match kept {
            Some(kept) => {
                conn.execute(
                    "UPDATE sessions SET snapshot_id = ?1 WHERE snapshot_id = ?2",
                    [kept, id],
                )?;
                conn.execute("DELETE FROM protocol_snapshots WHERE id = ?1", [id])?;
            }
            None => {
                conn.execute(
                    "UPDATE protocol_snapshots SET protocol_json = ?1 WHERE id = ?2",
                    rusqlite::params![canonical, id],
                )?;
            }
        }
    }
    Ok(())
}

/// Runs the next migration in its own transaction; `true` if there was none.
fn migrate_step(conn: &Connection) -> rusqlite::Result<bool> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let step = || -> rusqlite::Result<bool> {
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let v = u32::try_from(v).unwrap_or(u32::MAX);
        if v >= SCHEMA_VERSION {
            return Ok(true);
        }
        let sql = migration_sql(v + 1).unwrap_or_default();
        conn.execute_batch(sql)?;
        if v + 1 == CANONICAL_SNAPSHOTS {
            canonical_snapshots(conn)?;
        }
        check_foreign_keys(conn, v + 1)?;
        conn.pragma_update(None, "user_version", v + 1)?;
        Ok(false)
    };
    match step() {
        Ok(done) => {
            if let Err(e) = conn.execute_batch("COMMIT") {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
            Ok(done)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Refuses to commit migration `version` if it left a row pointing at one
/// that is not there (`PRAGMA foreign_key_check`: the migrations run with
/// foreign keys off).
fn check_foreign_keys(conn: &Connection, version: u32) -> rusqlite::Result<()> {
    let broken: Option<(String, String)> = conn
        .prepare("PRAGMA foreign_key_check")?
        .query_map([], |r| Ok((r.get(0)?, r.get(2)?)))?
        .next()
        .transpose()?;
    match broken {
        None => Ok(()),
        Some((table, parent)) => Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
            Some(format!(
                "migration {version} leaves rows of {table} that point at no row of {parent}"
            )),
        )),
    }
}
