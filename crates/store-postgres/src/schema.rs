//! The schema: migrations in order (`migrations/NNNN_*.sql`), applied at
//! open in one transaction under an advisory lock, and recorded in
//! `schema_migrations`.

use rollcoach_store::{Backend, Conflict, Result, StoreError};

use crate::pool::Conn;

/// The key of the advisory lock (`pg_advisory_xact_lock`) migrations run
/// under: `rollcoac` in ASCII.
pub const MIGRATION_LOCK: i64 = 0x726f_6c6c_636f_6163;

/// Schema migrations, in order: migration `i` (0-based) is version `i + 1`.
const MIGRATIONS: &[(&str, &str)] = &[
    ("initial", include_str!("../migrations/0001_initial.sql")),
    (
        "per-person change numbers",
        include_str!("../migrations/0002_per_person_change_numbers.sql"),
    ),
    ("accounts", include_str!("../migrations/0003_accounts.sql")),
];

/// The newest schema version this rollcoach knows.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Brings the database to [`SCHEMA_VERSION`], on a connection as the user
/// of the URL (who then owns the tables): one transaction, which first
/// takes the migration lock, so a second server starting at once waits and
/// then finds every version applied. A database of a newer rollcoach is
/// refused, unchanged.
pub(crate) fn migrate(conn: &mut Conn) -> Result<()> {
    let mut version = 0;
    let result = conn.transaction(&[], |c| {
        c.batch(&format!(
            "SELECT pg_advisory_xact_lock({MIGRATION_LOCK});
             CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    integer     PRIMARY KEY,
                 name       text        NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )"
        ))?;
        let found: i32 = c
            .query_opt(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )?
            .map_or(0, |r| r.get(0));
        let found = u32::try_from(found).unwrap_or(0);
        if found > SCHEMA_VERSION {
            return Err(Conflict::TooNew {
                location: c.location().to_owned(),
                found,
                known: SCHEMA_VERSION,
            }
            .into());
        }
        for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            version = u32::try_from(i + 1).unwrap_or(u32::MAX);
            c.batch(sql)?;
            let v = i32::try_from(version).unwrap_or(i32::MAX);
            c.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[&v, name],
            )?;
        }
        Ok(())
    });
    match result {
        Err(StoreError::Backend(Backend::Failed { location, source })) if version > 0 => {
            Err(Backend::Migration {
                location,
                version,
                source,
            }
            .into())
        }
        other => other,
    }
}
