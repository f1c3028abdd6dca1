//! The database, the clock and local time, shared by every command.
//!
//! - [`open_store`]: the SQLite file at `--db`, `ROLLCOACH_DB`, or
//!   `<data dir>/rollcoach/rollcoach.db`, or the PostgreSQL database of a
//!   `postgres://` URL there (a server's, for many people); sessions left by a crashed process
//!   are marked interrupted (one notice line each on stderr). This is the
//!   one place that names the backend: every command uses the store's
//!   traits, [`rollcoach_store::SessionLog`] (a session run here) and
//!   [`rollcoach_store::Records`] (the owner's records: [`Db::owner`]).
//! - [`now`]: the current time, or the one pinned by `ROLLCOACH_NOW`
//!   (RFC 3339, e.g. `2026-01-01T09:00:00Z`), so tests are reproducible.
//! - [`local_tz`]: the system time zone (honours `TZ`); [`format_local`]
//!   shows a time in it; [`parse_time`] reads the times people type.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use rollcoach_engine::Time;
use rollcoach_store::{PersonId, Records, SessionLog, SessionOutcome};
use rollcoach_store_sqlite::{SqliteRecords, SqliteStore};

use crate::{Global, UsageError};

/// Environment variable that pins "now" (RFC 3339) for every command.
pub const NOW_ENV: &str = "ROLLCOACH_NOW";

/// Where the database is, as `--db` or `ROLLCOACH_DB` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// A SQLite file: a path, or `sqlite://PATH`.
    Sqlite(PathBuf),
    /// A PostgreSQL server: `postgres://...` or `postgresql://...`.
    Postgres(String),
}

/// The schemes `--db` knows, for its error.
const KNOWN_SCHEMES: &str = "a file path or sqlite://PATH for SQLite, \
postgres://USER@HOST/DATABASE (or postgresql://) for PostgreSQL";

impl DbLocation {
    /// Reads `--db`: a URL's scheme picks the backend, anything without one
    /// is a path. An unknown scheme is an error naming the known ones
    /// (rather than a folder named after it holding a SQLite file).
    pub fn parse(given: &std::ffi::OsStr) -> Result<DbLocation, UsageError> {
        let Some(text) = given.to_str() else {
            return Ok(DbLocation::Sqlite(PathBuf::from(given)));
        };
        if let Some(path) = text.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(UsageError(format!(
                    "--db {text:?} names no file: give sqlite://PATH, e.g. sqlite:///home/me/rollcoach.db"
                )));
            }
            return Ok(DbLocation::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(DbLocation::Postgres(text.to_owned()));
        }
        if let Some((scheme, _)) = text.split_once("://")
            && !scheme.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return Err(UsageError(format!(
                "--db {scheme}://...: rollcoach knows no database scheme {scheme:?}; give {KNOWN_SCHEMES}"
            )));
        }
        Ok(DbLocation::Sqlite(PathBuf::from(text)))
    }
}

/// Where the database is: `--db`, `ROLLCOACH_DB`, or the user's data directory.
pub fn db_location(global: &Global) -> anyhow::Result<DbLocation> {
    match &global.db {
        Some(p) => Ok(DbLocation::parse(p.as_os_str())?),
        None => directories::ProjectDirs::from("", "", "rollcoach")
            .map(|d| DbLocation::Sqlite(d.data_dir().join("rollcoach.db")))
            .context("cannot find your data directory; give a database file with --db PATH"),
    }
}

/// Where a running server's runtime file (its addresses, for `pair` and
/// `coach add`) is kept: beside the SQLite file, or, for a PostgreSQL
/// database, in the data directory under a name derived from the URL
/// (its password left out), so two servers on one database find each
/// other's and servers on two databases do not.
pub fn runtime_base(global: &Global) -> anyhow::Result<PathBuf> {
    match db_location(global)? {
        DbLocation::Sqlite(path) => Ok(path),
        DbLocation::Postgres(url) => {
            use sha2::Digest as _;
            let digest = sha2::Sha256::digest(redacted(&url).as_bytes());
            let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            let dir = directories::ProjectDirs::from("", "", "rollcoach")
                .map(|d| d.data_dir().to_owned())
                .context("cannot find your data directory for the server's runtime file")?;
            let _ = std::fs::create_dir_all(&dir);
            Ok(dir.join(format!("postgres-{name}")))
        }
    }
}

/// Where the database is, as a message names it: the file, or the URL
/// without its password.
pub fn location_shown(global: &Global) -> String {
    match db_location(global) {
        Ok(DbLocation::Sqlite(path)) => path.display().to_string(),
        Ok(DbLocation::Postgres(url)) => redacted(&url),
        Err(_) => "the database".to_owned(),
    }
}

/// The URL without its password (`postgres://me:secret@host/db` is
/// `postgres://me@host/db`): what may be shown or hashed.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (auth, host) = match rest.split_once('@') {
        Some((auth, host)) if !auth.contains('/') => (auth, host),
        _ => return url.to_owned(),
    };
    let user = auth.split_once(':').map_or(auth, |(u, _)| u);
    format!("{scheme}://{user}@{host}")
}

/// The open database: the terminal's session log and the records of the
/// person at the keyboard (the owner), from one backend: the SQLite file
/// (the default) or a PostgreSQL server (`--db postgres://...`, for a
/// server of many people).
pub struct Db {
    records: Arc<dyn Records>,
    /// Who the server knows (coaches and their clients), in the same
    /// database as the records.
    people: Arc<dyn rollcoach_store::People>,
    /// The SQLite backend, which alone also keeps the terminal's session
    /// log.
    sqlite: Option<Arc<SqliteRecords>>,
    /// Where the database is, as errors name it (a URL without password).
    location: String,
    owner: PersonId,
    read_only: Option<String>,
}

impl Db {
    /// The log of the sessions this process runs: a SQLite file's. A
    /// session in the terminal is recorded on this computer; a PostgreSQL
    /// database is a server's, reached by its phones.
    pub fn log(&self) -> anyhow::Result<&dyn SessionLog> {
        match &self.sqlite {
            Some(store) => Ok(store.as_ref()),
            None => Err(UsageError(format!(
                "a session in the terminal is recorded in a SQLite file on this computer, and \
                 --db {} is a PostgreSQL server's database: leave --db out (or give a file), \
                 or run the session on a phone paired with `rollcoach serve --db {}`",
                self.location, self.location
            ))
            .into()),
        }
    }

    /// The records (every call names the person: [`Db::owner`]).
    pub fn records(&self) -> &dyn Records {
        self.records.as_ref()
    }

    /// The records, to share with a server.
    pub fn shared(&self) -> Arc<dyn Records> {
        self.records.clone()
    }

    /// Who the server knows: its coaches and their clients, kept by
    /// either backend.
    pub fn people(&self) -> &dyn rollcoach_store::People {
        self.people.as_ref()
    }

    /// The people, to share with a server.
    pub fn shared_people(&self) -> Arc<dyn rollcoach_store::People> {
        self.people.clone()
    }

    /// The person at the keyboard: a terminal speaks for the owner.
    pub fn owner(&self) -> &PersonId {
        &self.owner
    }

    /// Where the database is, as messages name it (no password).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Refuses a database opened read-only, for a command that writes (a
    /// server, an import), before it starts rather than at its first write:
    /// the error says why the file cannot be written and what to do.
    pub fn require_writable(&self) -> anyhow::Result<()> {
        match &self.read_only {
            None => Ok(()),
            Some(why) => Err(rollcoach_store::StoreError::from(
                rollcoach_store::Backend::NotWritable {
                    location: self.location.clone(),
                    reason: why.clone(),
                },
            )
            .into()),
        }
    }

    /// Starts the backend's housekeeping, for a long-running writer
    /// (`serve`): SQLite's checkpoints; PostgreSQL keeps its own.
    pub fn start_housekeeping(&self) -> anyhow::Result<()> {
        match &self.sqlite {
            Some(store) => Ok(store.start_housekeeping()?),
            None => Ok(()),
        }
    }
}

/// Opens the store and recovers sessions whose process died: each gets one
/// notice line on stderr. A database that cannot be written is opened
/// read-only: what only reads (`history`, `export`, `injury list`) works,
/// so the data can be rescued; a write fails saying the file is read-only;
/// nothing is recovered (one notice line if something would have been).
/// A PostgreSQL URL opens that server's database (migrating it first);
/// the terminal's own sessions are never there, so nothing is recovered.
pub fn open_store(global: &Global) -> anyhow::Result<Db> {
    let path = match db_location(global)? {
        DbLocation::Sqlite(path) => path,
        DbLocation::Postgres(url) => {
            let records = Arc::new(rollcoach_store_postgres::PgRecords::open(&url)?);
            return Ok(Db {
                location: records.location().to_owned(),
                people: records.clone(),
                records,
                sqlite: None,
                owner: PersonId::owner(),
                read_only: None,
            });
        }
    };
    let opened = SqliteStore::open(&path)?;
    let read_only = opened.read_only().map(str::to_owned);
    let sqlite = Arc::new(SqliteRecords::new(opened));
    let store = Db {
        records: sqlite.clone(),
        people: sqlite.clone(),
        sqlite: Some(sqlite),
        location: path.display().to_string(),
        owner: PersonId::owner(),
        read_only: read_only.clone(),
    };
    let log = store.log()?;
    if let Some(why) = read_only {
        // Nothing can be recorded; say so only if something would have been.
        let orphaned = log.orphaned_sessions().map_or(0, |o| o.len());
        if orphaned > 0 {
            eprintln!(
                "note: {orphaned} session(s) left unfinished by a process that is gone cannot be \
                 recorded as interrupted: {} cannot be written ({why})",
                path.display()
            );
        }
        return Ok(store);
    }
    let recovered = rollcoach_store::recover_interrupted(log)
        .with_context(|| format!("cannot recover interrupted sessions in {}", path.display()))?;
    for r in recovered {
        let what = match &r.outcome {
            SessionOutcome::Interrupted => "interrupted".to_owned(),
            other => other.reason_id().map_or_else(
                || other.kind().to_owned(),
                |why| format!("{} ({why})", other.kind()),
            ),
        };
        let reps = match &r.problem {
            None => format!("after {} of {} reps", r.reps_done, r.reps_target),
            Some(problem) => format!("without a reps count ({problem})"),
        };
        eprintln!(
            "note: a session ({}, started {}) was left unfinished by a process that is gone; \
             recorded as {what} {reps}",
            r.protocol_id,
            format_local(r.started_at),
        );
    }
    Ok(store)
}

/// Now, or the time pinned by `ROLLCOACH_NOW`. A malformed value is a usage
/// error naming the variable.
pub fn now_timestamp(_global: &Global) -> anyhow::Result<Timestamp> {
    match std::env::var(NOW_ENV) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse::<Timestamp>().map_err(|e| {
            UsageError(format!(
                "{NOW_ENV}={v:?} is not an RFC 3339 time like 2026-01-01T09:00:00Z: {e}"
            ))
            .into()
        }),
        _ => Ok(Timestamp::now()),
    }
}

/// [`now_timestamp`] as an engine [`Time`].
pub fn now(global: &Global) -> anyhow::Result<Time> {
    let ts = now_timestamp(global)?;
    let ms = u64::try_from(ts.as_millisecond())
        .map_err(|_| UsageError(format!("the time {ts} is before 1970")))?;
    Ok(Time(ms))
}

/// The local time zone: `TZ` if set, else the system's.
pub fn local_tz() -> TimeZone {
    TimeZone::system()
}

/// `t` in local time as `YYYY-MM-DD HH:MM`.
pub fn format_local(t: Time) -> String {
    match rollcoach_store::timestamp(t) {
        Some(ts) => ts
            .to_zoned_datetime(local_tz())
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        None => format!("{} ms", t.0),
    }
}

/// The forms [`parse_time`] accepts, for error messages and help.
pub const TIME_FORMS: &str = "\"now\", \"yesterday\", a relative time like \"2h ago\", \
\"30 minutes ago\" or \"3 days ago\", a local time \"YYYY-MM-DD HH:MM\", \
or RFC 3339 like 2026-01-01T09:00:00Z";

/// Reads a time as people type it (see [`TIME_FORMS`]), relative to `now`,
/// in the local time zone. A time after `now` is read too: the caller's
/// domain rule decides (an injury's: `rollcoach_engine::check_injury_time`).
pub fn parse_time(text: &str, now: Time) -> Result<Time, UsageError> {
    let bad = |why: &str| UsageError(format!("{why}; accepted forms: {TIME_FORMS}"));
    let now_ts =
        rollcoach_store::timestamp(now).ok_or_else(|| bad("the current time is out of range"))?;
    let tz = local_tz();
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let ts: Timestamp = if lower == "now" {
        now_ts
    } else if lower == "yesterday" {
        now_ts
            .to_zoned_datetime(tz)
            .yesterday()
            .map_err(|e| bad(&e.to_string()))?
            .timestamp()
    } else if let Some(amount) = lower.strip_suffix(" ago") {
        let span = parse_relative(amount.trim())
            .ok_or_else(|| bad(&format!("cannot read the relative time {t:?}")))?;
        now_ts
            .to_zoned_datetime(tz)
            .checked_sub(span)
            .map_err(|e| bad(&e.to_string()))?
            .timestamp()
    } else if let Ok(ts) = t.parse::<Timestamp>() {
        ts
    } else if let Ok(dt) = t.parse::<jiff::civil::DateTime>() {
        dt.to_zoned_datetime(tz)
            .map_err(|e| bad(&e.to_string()))?
            .timestamp()
    } else {
        return Err(bad(&format!("cannot read the time {t:?}")));
    };
    let ms = u64::try_from(ts.as_millisecond())
        .map_err(|_| bad("times before 1970 are not accepted"))?;
    Ok(Time(ms))
}

/// `2h`, `90m`, `3 days`, `1 hour`, `45 min`.
fn parse_relative(s: &str) -> Option<jiff::Span> {
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n: i64 = s[..digits_end].parse().ok()?;
    let unit = s[digits_end..].trim();
    let span = match unit {
        "m" | "min" | "mins" | "minute" | "minutes" => n.minutes(),
        "h" | "hr" | "hrs" | "hour" | "hours" => n.hours(),
        "d" | "day" | "days" => n.days(),
        "w" | "week" | "weeks" => n.weeks(),
        _ => return None,
    };
    Some(span)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Time = Time(1_767_261_600_000); // 2026-01-01T10:00:00Z

    fn at(text: &str) -> Result<String, String> {
        parse_time(text, NOW)
            .map(|t| rollcoach_store::timestamp(t).unwrap().to_string())
            .map_err(|e| e.0)
    }

    #[test]
    fn times_are_read_in_every_documented_form() {
        // Local forms depend on TZ; the relative and RFC 3339 forms do not.
        assert_eq!(at("now").unwrap(), "2026-01-01T10:00:00Z");
        assert_eq!(at("2h ago").unwrap(), "2026-01-01T08:00:00Z");
        assert_eq!(at("30 minutes ago").unwrap(), "2026-01-01T09:30:00Z");
        assert_eq!(at("3 days ago").unwrap(), "2025-12-29T10:00:00Z");
        assert_eq!(
            at("2025-12-31T23:00:00+01:00").unwrap(),
            "2025-12-31T22:00:00Z"
        );
        assert!(at("yesterday").is_ok());
        assert!(at("2025-12-31 08:15").is_ok());
    }

    #[test]
    fn bad_or_future_times_say_what_is_accepted() {
        let err = at("last tuesday-ish").unwrap_err();
        assert!(
            err.contains("accepted forms") && err.contains("2h ago"),
            "{err}"
        );
        assert!(
            at("2 fortnights ago")
                .unwrap_err()
                .contains("relative time")
        );
        // A future time is read, and refused by the injury rule.
        let future = parse_time("2027-01-01T00:00:00Z", NOW).unwrap();
        let err = rollcoach_engine::check_injury_time(future, NOW)
            .unwrap_err()
            .to_string();
        assert!(err.contains("in the future"), "{err}");
    }

    fn parse(text: &str) -> Result<DbLocation, UsageError> {
        DbLocation::parse(std::ffi::OsStr::new(text))
    }

    #[test]
    fn a_path_or_sqlite_url_is_sqlite_and_postgres_urls_are_postgres() {
        assert_eq!(
            parse("data/rc.db").unwrap(),
            DbLocation::Sqlite("data/rc.db".into())
        );
        assert_eq!(
            parse("sqlite:///tmp/rc.db").unwrap(),
            DbLocation::Sqlite("/tmp/rc.db".into())
        );
        assert_eq!(
            parse("sqlite://rc.db").unwrap(),
            DbLocation::Sqlite("rc.db".into())
        );
        for url in [
            "postgres://app@localhost/rc",
            "postgresql://app@db/rc?host=/tmp",
        ] {
            assert_eq!(parse(url).unwrap(), DbLocation::Postgres(url.to_owned()));
        }
        // A colon alone is no scheme: a file may be named so.
        assert_eq!(
            parse("backup:2026.db").unwrap(),
            DbLocation::Sqlite("backup:2026.db".into())
        );
    }

    #[test]
    fn an_unknown_scheme_is_an_error_naming_the_known_ones() {
        let err = parse("mysql://root@localhost/rc").unwrap_err().0;
        assert!(err.contains("\"mysql\""), "{err}");
        assert!(
            err.contains("sqlite://") && err.contains("postgres://"),
            "{err}"
        );
        let err = parse("sqlite://").unwrap_err().0;
        assert!(err.contains("names no file"), "{err}");
    }
}
