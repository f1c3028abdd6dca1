//! PostgreSQL's errors as the store's: a broken unique, foreign key, check
//! or not-null rule is [`Conflict::Constraint`]; a serialization failure,
//! a deadlock, a lock or statement timeout or too many connections
//! [`Backend::Busy`]; damaged data [`Corrupt::Damaged`]; a read-only
//! database (a standby) [`Backend::NotWritable`]; anything else
//! [`Backend::Failed`]. Each names the database; PostgreSQL's message is
//! kept as text, with its detail.

use postgres::error::SqlState;
use rollcoach_store::{Backend, Conflict, Corrupt, StoreError};

use crate::pool::errors_text;

/// `e`, which happened on the database `location`, as a store error.
pub(crate) fn from_pg(location: &str, e: postgres::Error) -> StoreError {
    let location = location.to_owned();
    let code = e.code().cloned();
    let text = match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{}: {} ({detail})", db.severity(), db.message()),
            None => format!("{}: {}", db.severity(), db.message()),
        },
        None => errors_text(&e),
    };
    let source: rollcoach_store::BoxError = text.into();
    let Some(code) = code else {
        return Backend::Failed { location, source }.into();
    };
    if code == SqlState::UNIQUE_VIOLATION
        || code == SqlState::FOREIGN_KEY_VIOLATION
        || code == SqlState::CHECK_VIOLATION
        || code == SqlState::NOT_NULL_VIOLATION
        || code == SqlState::INTEGRITY_CONSTRAINT_VIOLATION
    {
        Conflict::Constraint { location, source }.into()
    } else if code == SqlState::T_R_SERIALIZATION_FAILURE
        || code == SqlState::T_R_DEADLOCK_DETECTED
        || code == SqlState::LOCK_NOT_AVAILABLE
        || code == SqlState::QUERY_CANCELED
        || code == SqlState::TOO_MANY_CONNECTIONS
    {
        Backend::Busy { location, source }.into()
    } else if code == SqlState::DATA_CORRUPTED || code == SqlState::INDEX_CORRUPTED {
        Corrupt::Damaged { location, source }.into()
    } else if code == SqlState::READ_ONLY_SQL_TRANSACTION {
        Backend::NotWritable {
            location,
            reason: format!("{source} (the server takes no writes: a standby, or read-only)"),
        }
        .into()
    } else {
        Backend::Failed { location, source }.into()
    }
}
