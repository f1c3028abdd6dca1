//! Rows as records: the `sessions` columns, times as milliseconds, ratings
//! one row per value.

use std::collections::HashMap;

use rollcoach_engine::{RatingResult, Time};
use rollcoach_store::codec::{from_json, parse_pairing, push_rating};
use rollcoach_store::{Result, SessionId, SessionRecord};
use rusqlite::{Connection, params};

use crate::SqliteStore;

/// A time as stored: milliseconds since the epoch.
pub(crate) fn ms(t: Time) -> i64 {
    i64::try_from(t.0).unwrap_or(i64::MAX)
}

/// A stored time.
pub(crate) fn time(v: i64) -> Time {
    Time(u64::try_from(v).unwrap_or(0))
}

/// A `sessions` row before its JSON columns are parsed.
pub(crate) struct RawSession {
    pub id: i64,
    uid: String,
    protocol_id: String,
    protocol_version: u32,
    area: String,
    options_json: String,
    facts_json: String,
    started_at: i64,
    ended_at: Option<i64>,
    outcome_json: Option<String>,
    reason: Option<String>,
    message: Option<String>,
    reps_done: Option<u32>,
    reps_target: u32,
    active_ms: Option<i64>,
    pairing: Option<String>,
    summary_json: Option<String>,
}

/// The columns [`RawSession::from_row`] reads, in order.
const SESSION_COLUMNS: &str =
    "id, uid, protocol_id, protocol_version, area, options_json, facts_json,
    started_at, ended_at, outcome_json, reason, message, reps_done, reps_target,
    active_ms, pairing, summary_json";

impl RawSession {
    pub(crate) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawSession> {
        Ok(RawSession {
            id: r.get(0)?,
            uid: r.get(1)?,
            protocol_id: r.get(2)?,
            protocol_version: r.get(3)?,
            area: r.get(4)?,
            options_json: r.get(5)?,
            facts_json: r.get(6)?,
            started_at: r.get(7)?,
            ended_at: r.get(8)?,
            outcome_json: r.get(9)?,
            reason: r.get(10)?,
            message: r.get(11)?,
            reps_done: r.get(12)?,
            reps_target: r.get(13)?,
            active_ms: r.get(14)?,
            pairing: r.get(15)?,
            summary_json: r.get(16)?,
        })
    }

    pub(crate) fn into_record(self, ratings: Vec<RatingResult>) -> Result<SessionRecord> {
        let id = self.uid.as_str();
        Ok(SessionRecord {
            uid: self.uid.clone(),
            protocol_id: self.protocol_id,
            protocol_version: self.protocol_version,
            area: self.area,
            options: from_json(&self.options_json, id, "options")?,
            facts: from_json(&self.facts_json, id, "facts")?,
            started_at: time(self.started_at),
            ended_at: self.ended_at.map(time),
            outcome: self
                .outcome_json
                .map(|j| from_json(&j, id, "outcome"))
                .transpose()?,
            reason: self.reason,
            message: self.message,
            reps_done: self.reps_done,
            reps_target: self.reps_target,
            active_ms: self.active_ms.map(|v| u64::try_from(v).unwrap_or(0)),
            pairing: self.pairing.as_deref().and_then(parse_pairing),
            ratings,
            summary: self
                .summary_json
                .map(|j| from_json(&j, id, "summary"))
                .transpose()?,
        })
    }
}

impl SqliteStore {
    /// Sessions selected by `tail` (a WHERE/ORDER/LIMIT clause over
    /// `sessions`), with their ratings read in one more query.
    pub(crate) fn records(
        &self,
        tail: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<SessionRecord>> {
        let mut ratings: HashMap<i64, Vec<RatingResult>> = HashMap::new();
        {
            let sql = format!(
                "SELECT session_id, rating_id, moment = 'before', value FROM ratings
                 WHERE session_id IN (SELECT id FROM sessions {tail})
                 ORDER BY session_id, rating_id"
            );
            let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
            let rows = stmt
                .query_map(params, |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, bool>(2)?,
                        r.get::<_, u8>(3)?,
                    ))
                })
                .map_err(self.err())?;
            for row in rows {
                let (session, id, before, value) = row.map_err(self.err())?;
                push_rating(ratings.entry(session).or_default(), &id, before, value);
            }
        }
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions {tail}");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let rows = stmt
            .query_map(params, RawSession::from_row)
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let raw = row.map_err(self.err())?;
            let r = ratings.remove(&raw.id).unwrap_or_default();
            out.push(raw.into_record(r)?);
        }
        Ok(out)
    }
}

/// Writes the values of `ratings` for `session`, one row each.
pub(crate) fn insert_ratings(
    conn: &Connection,
    session: SessionId,
    ratings: &[RatingResult],
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO ratings (session_id, rating_id, moment, value) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for r in ratings {
        for (moment, value) in [("before", r.before), ("after", r.after)] {
            if let Some(v) = value {
                stmt.execute(params![session.0, r.id, moment, v])?;
            }
        }
    }
    Ok(())
}

/// The id of the shared snapshot row holding `protocol_json`, added if new.
///
/// A session row is written with this id and an empty `protocol_json`, so
/// the ~10 KB snapshot never passes through the sessions table: written
/// there and emptied by the schema-v2 trigger, it left each row's page
/// mostly empty (3.2 KB a session instead of 2 KB, BENCHMARKS.md).
pub(crate) fn snapshot_id(conn: &Connection, protocol_json: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached("INSERT OR IGNORE INTO protocol_snapshots (protocol_json) VALUES (?1)")?
        .execute([protocol_json])?;
    conn.prepare_cached("SELECT id FROM protocol_snapshots WHERE protocol_json = ?1")?
        .query_row([protocol_json], |r| r.get(0))
}
