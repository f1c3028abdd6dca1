//! SQLite's errors as the store's: busy or locked is [`Backend::Busy`], a
//! damaged file [`Corrupt::Damaged`], a file that is not SQLite
//! [`Corrupt::NotADatabase`], a read-only file or a place SQLite cannot
//! create its files in [`Backend::NotWritable`], a broken unique or foreign
//! key [`Conflict::Constraint`], anything else [`Backend::Failed`]. Each
//! names the file. SQLite's message is kept as text only (not its chain of
//! causes), so a message that quotes it does not say it twice more.

use std::path::Path;

use rollcoach_store::{Backend, Conflict, Corrupt, StoreError};
use rusqlite::ErrorCode;

use crate::SqliteStore;

/// `e`, which happened on the database at `path`, as a store error.
pub(crate) fn from_sqlite(path: &Path, e: rusqlite::Error) -> StoreError {
    let location = path.display().to_string();
    let code = e.sqlite_error_code();
    let e: rollcoach_store::BoxError = e.to_string().into();
    match code {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Backend::Busy {
            location,
            source: e,
        }
        .into(),
        Some(ErrorCode::DatabaseCorrupt) => Corrupt::Damaged {
            location,
            source: e,
        }
        .into(),
        Some(ErrorCode::NotADatabase) => Corrupt::NotADatabase { location }.into(),
        Some(ErrorCode::ReadOnly) => Backend::NotWritable {
            location,
            reason: format!("{e} (the file, its directory or its disk is read-only)"),
        }
        .into(),
        Some(ErrorCode::CannotOpen) => Backend::NotWritable {
            location,
            reason: format!(
                "{e} (SQLite cannot open it, or create its -wal and -shm files beside it: \
                 a read-only place, or no permission)"
            ),
        }
        .into(),
        Some(ErrorCode::ConstraintViolation) => Conflict::Constraint {
            location,
            source: e,
        }
        .into(),
        _ => Backend::Failed {
            location,
            source: e,
        }
        .into(),
    }
}

impl SqliteStore {
    /// Maps an SQLite error of this store's file to a store error.
    pub(crate) fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        |e| from_sqlite(&self.path, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(code: ErrorCode) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error {
                code,
                extended_code: 0,
            },
            None,
        )
    }

    #[test]
    fn each_kind_of_sqlite_error_maps_to_its_kind_of_store_error() {
        let path = Path::new("/data/rollcoach.db");
        let busy = from_sqlite(path, code(ErrorCode::DatabaseBusy));
        assert!(matches!(busy, StoreError::Backend(Backend::Busy { .. })));
        assert!(busy.to_string().contains("try again"), "{busy}");
        assert!(matches!(
            from_sqlite(path, code(ErrorCode::DatabaseLocked)),
            StoreError::Backend(Backend::Busy { .. })
        ));
        let damaged = from_sqlite(path, code(ErrorCode::DatabaseCorrupt));
        assert!(matches!(
            damaged,
            StoreError::Corrupt(Corrupt::Damaged { .. })
        ));
        assert!(
            damaged.to_string().contains("/data/rollcoach.db"),
            "{damaged}"
        );
        assert!(matches!(
            from_sqlite(path, code(ErrorCode::NotADatabase)),
            StoreError::Corrupt(Corrupt::NotADatabase { .. })
        ));
        assert!(matches!(
            from_sqlite(path, code(ErrorCode::ConstraintViolation)),
            StoreError::Conflict(Conflict::Constraint { .. })
        ));
        let full = from_sqlite(path, code(ErrorCode::DiskFull));
        assert!(matches!(full, StoreError::Backend(Backend::Failed { .. })));
        assert!(
            full.to_string()
                .starts_with("database /data/rollcoach.db: "),
            "{full}"
        );
    }

    #[test]
    fn a_read_only_place_is_not_writable_and_sqlites_message_is_said_once() {
        let path = Path::new("/ro/rollcoach.db");
        for c in [ErrorCode::ReadOnly, ErrorCode::CannotOpen] {
            let e = from_sqlite(path, code(c));
            assert!(
                matches!(e, StoreError::Backend(Backend::NotWritable { .. })),
                "{e:?}"
            );
            assert!(e.to_string().contains("--db PATH"), "{e}");
        }
        // The backend's message is kept as text: no chain that says it again.
        let damaged = from_sqlite(path, code(ErrorCode::DatabaseCorrupt));
        let source = std::error::Error::source(&damaged).expect("the SQLite message");
        assert!(std::error::Error::source(source).is_none());
        assert!(
            damaged.to_string().contains("rollcoach export"),
            "{damaged}"
        );
    }
}
