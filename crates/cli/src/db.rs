//! The database, the clock and local time, shared by every command.
//!
//! - [`open_store`]: the SQLite file at `--db`, `ROLLCOACH_DB`, or
//!   `<data dir>/rollcoach/rollcoach.db`; sessions left by a crashed process
//!   are marked interrupted (one notice line each on stderr). This is the
//!   one place that names the backend: every command uses the
//!   [`rollcoach_store::Store`] trait.
//! - [`now`]: the current time, or the one pinned by `ROLLCOACH_NOW`
//!   (RFC 3339, e.g. `2026-01-01T09:00:00Z`), so tests are reproducible.
//! - [`local_tz`]: the system time zone (honours `TZ`); [`format_local`]
//!   shows a time in it; [`parse_time`] reads the times people type.

use std::path::PathBuf;

use anyhow::Context;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use rollcoach_engine::Time;
use rollcoach_store::{SessionOutcome, Store};
use rollcoach_store_sqlite::SqliteStore;

use crate::{Global, UsageError};

/// Environment variable that pins "now" (RFC 3339) for every command.
pub const NOW_ENV: &str = "ROLLCOACH_NOW";

/// Where the database is: `--db`, `ROLLCOACH_DB`, or the user's data directory.
pub fn db_path(global: &Global) -> anyhow::Result<PathBuf> {
    match &global.db {
        Some(p) => Ok(p.clone()),
        None => directories::ProjectDirs::from("", "", "rollcoach")
            .map(|d| d.data_dir().join("rollcoach.db"))
            .context("cannot find your data directory; give a database file with --db PATH"),
    }
}

/// Opens the store and recovers sessions whose process died: each gets one
/// notice line on stderr.
pub fn open_store(global: &Global) -> anyhow::Result<Box<dyn Store>> {
    let path = db_path(global)?;
    let store: Box<dyn Store> = Box::new(SqliteStore::open(&path)?);
    let recovered = rollcoach_store::recover_interrupted(store.as_ref())
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
            "note: session {} ({}, started {}) was left unfinished by a process that is gone; \
             recorded as {what} {reps}",
            r.id,
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
}
