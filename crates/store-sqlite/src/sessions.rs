//! Session writes (start, log, end) and the reads of one session.

use rollcoach_engine::Input;
use rollcoach_store::codec::{from_json, pairing_id, to_json};
use rollcoach_store::{
    Conflict, Event, LiveSession, NewSession, NotFound, PersonId, Result, SessionEnd, SessionId,
    SessionRecord, StoreError, new_uid,
};
use rusqlite::{OptionalExtension, params};

use crate::SqliteStore;
use crate::owner::Driver;
use crate::rows::{insert_ratings, ms, snapshot_id, time};

/// What recovery reads of the sessions that have not ended (see [`LiveSession`]).
const LIVE_SQL: &str = "SELECT s.id, s.protocol_id, s.started_at, s.reps_target, s.owner_pid,
        s.owner_started, (SELECT max(at_ms) FROM events WHERE session_id = s.id), s.outcome, s.uid
     FROM sessions s";

/// A live session, the process that drives it (`None`: imported, nobody
/// does), and its outcome if it has ended.
type LiveRow = (LiveSession, Option<Driver>, Option<String>);

fn live_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LiveRow> {
    let pid: Option<u32> = r.get(4)?;
    let started: Option<String> = r.get(5)?;
    let last: Option<i64> = r.get(6)?;
    Ok((
        LiveSession {
            id: SessionId(r.get(0)?),
            uid: r.get(8)?,
            protocol_id: r.get(1)?,
            started_at: time(r.get(2)?),
            reps_target: r.get(3)?,
            last_event_ms: last.map(|v| u64::try_from(v).unwrap_or(0)),
        },
        pid.map(|pid| Driver { pid, started }),
        r.get(7)?,
    ))
}

impl SqliteStore {
    /// Begins a session of the owner's (the terminal's log), driven by this process.
    pub(crate) fn begin_session(&self, new: &NewSession<'_>) -> Result<SessionId> {
        let uid = new_uid(new.started_at);
        let start = rollcoach_store::rules::recorded_start(new.protocol, new.options);
        let reps_target = start.reps_target;
        let driver = Driver::this_process();
        let protocol_json = rollcoach_store::codec::snapshot_json(new.protocol);
        let options_json = to_json(new.options);
        let facts_json = to_json(new.facts);
        let pairing = start.pairing.map(pairing_id);
        self.write(|conn| {
            let snapshot = snapshot_id(conn, &protocol_json)?;
            conn.execute(
                "INSERT INTO sessions (uid, protocol_id, protocol_version, protocol_json, snapshot_id,
                     area, options_json, facts_json, started_at, reps_target, pairing, owner_pid,
                     owner_started)
                 VALUES (?1, ?2, ?3, '', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    uid,
                    new.protocol.id,
                    new.protocol.version,
                    snapshot,
                    new.protocol.area,
                    options_json,
                    facts_json,
                    ms(new.started_at),
                    reps_target,
                    pairing,
                    driver.pid,
                    driver.started,
                ],
            )?;
            Ok(SessionId(conn.last_insert_rowid()))
        })
    }

    pub(crate) fn append_event(
        &self,
        session: SessionId,
        seq: u32,
        at_ms: u64,
        input: &Input,
    ) -> Result<()> {
        self.check_writable()?;
        let json = to_json(input);
        let at = i64::try_from(at_ms).unwrap_or(i64::MAX);
        // One statement: atomic, and it only inserts while the session is live.
        // Prepared once per connection: a server logs thousands a second.
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO events (session_id, seq, at_ms, input_json)
                 SELECT id, ?2, ?3, ?4 FROM sessions WHERE id = ?1 AND outcome IS NULL",
            )
            .and_then(|mut statement| statement.execute(params![session.0, seq, at, json]));
        match inserted {
            Ok(1) => Ok(()),
            Ok(_) => Err(self.not_live(session)),
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
                Err(Conflict::DuplicateEvent { session, seq }.into())
            }
            Err(e) => Err(self.err()(e)),
        }
    }

    /// Why `session` is not live: it does not exist, or it has ended.
    fn not_live(&self, session: SessionId) -> StoreError {
        let outcome: Result<Option<Option<String>>, _> = self
            .conn
            .query_row(
                "SELECT outcome FROM sessions WHERE id = ?1",
                [session.0],
                |r| r.get(0),
            )
            .optional();
        match outcome {
            Ok(None) => NotFound::Session(session).into(),
            Ok(Some(outcome)) => Conflict::SessionEnded {
                session,
                outcome: outcome.unwrap_or_default(),
            }
            .into(),
            Err(e) => self.err()(e),
        }
    }

    pub(crate) fn end_session(&self, session: SessionId, end: &SessionEnd<'_>) -> Result<()> {
        let outcome_json = to_json(end.outcome);
        let summary = end.summary;
        let summary_json = summary.map(to_json);
        let pairing = summary
            .and_then(|s| s.pairings.first().copied())
            .map(pairing_id);
        let updated = self.write(|conn| {
            let n = conn.execute(
                "UPDATE sessions SET ended_at = ?2, outcome = ?3, reason = ?4, outcome_json = ?5,
                     message = ?6, reps_done = ?7, reps_target = coalesce(?8, reps_target),
                     active_ms = ?9, pairing = coalesce(?10, pairing), summary_json = ?11
                 WHERE id = ?1 AND outcome IS NULL",
                params![
                    session.0,
                    ms(end.ended_at),
                    end.outcome.kind(),
                    end.outcome.reason_id(),
                    outcome_json,
                    end.message,
                    summary.map(|s| s.reps_done),
                    summary.map(|s| s.reps_target),
                    summary.map(|s| i64::try_from(s.active_ms).unwrap_or(i64::MAX)),
                    pairing,
                    summary_json,
                ],
            )?;
            if let (1, Some(summary)) = (n, summary) {
                insert_ratings(conn, session, &summary.ratings)?;
            }
            Ok(n)
        })?;
        if updated == 1 {
            Ok(())
        } else {
            Err(self.not_live(session))
        }
    }

    pub(crate) fn session(&self, session: SessionId) -> Result<SessionRecord> {
        let mut rows = self.records("WHERE id = ?1", &[&session.0])?;
        rows.pop().ok_or(NotFound::Session(session).into())
    }

    /// The person's session with this uid ([`NotFound::SessionUid`] if none).
    pub(crate) fn session_id_of(&self, person: &PersonId, uid: &str) -> Result<SessionId> {
        self.conn
            .prepare_cached("SELECT id FROM sessions WHERE person = ?1 AND uid = ?2")
            .and_then(|mut q| {
                q.query_row([person.as_str(), uid], |r| r.get(0).map(SessionId))
                    .optional()
            })
            .map_err(self.err())?
            .ok_or_else(|| NotFound::SessionUid(uid.chars().take(128).collect()).into())
    }

    /// The person's session with this uid.
    pub(crate) fn session_by_uid(&self, person: &PersonId, uid: &str) -> Result<SessionRecord> {
        self.records("WHERE person = ?1 AND uid = ?2", &[&person.as_str(), &uid])?
            .pop()
            .ok_or_else(|| NotFound::SessionUid(uid.chars().take(128).collect()).into())
    }

    /// The process that drives `person`'s live session `uid`, if any.
    pub(crate) fn driver_pid(&self, person: &PersonId, uid: &str) -> Result<Option<u32>> {
        self.conn
            .prepare_cached(
                "SELECT owner_pid FROM sessions
                  WHERE person = ?1 AND uid = ?2 AND outcome IS NULL",
            )
            .and_then(|mut q| {
                q.query_row([person.as_str(), uid], |r| r.get::<_, Option<u32>>(0))
                    .optional()
            })
            .map(Option::flatten)
            .map_err(self.err())
    }

    /// The sessions that have not ended, each with the process that drives it.
    pub(crate) fn live_sessions(&self) -> Result<Vec<(LiveSession, Option<Driver>)>> {
        let sql = format!("{LIVE_SQL} WHERE s.outcome IS NULL ORDER BY s.id");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let rows = stmt.query_map([], live_row).map_err(self.err())?;
        rows.map(|r| r.map(|(live, driver, _)| (live, driver)))
            .collect::<Result<_, _>>()
            .map_err(self.err())
    }

    /// The live sessions whose driver is gone (or that nobody drives).
    pub(crate) fn orphaned_sessions(&self) -> Result<Vec<LiveSession>> {
        Ok(self
            .live_sessions()?
            .into_iter()
            .filter(|(_, driver)| !driver.as_ref().is_some_and(Driver::alive))
            .map(|(live, _)| live)
            .collect())
    }

    pub(crate) fn live_session(&self, session: SessionId) -> Result<Option<LiveSession>> {
        let sql = format!("{LIVE_SQL} WHERE s.id = ?1");
        let row = self
            .conn
            .query_row(&sql, [session.0], live_row)
            .optional()
            .map_err(self.err())?;
        match row {
            None => Err(NotFound::Session(session).into()),
            Some((live, _, None)) => Ok(Some(live)),
            Some((_, _, Some(_ended))) => Ok(None),
        }
    }

    pub(crate) fn events(&self, session: SessionId) -> Result<Vec<Event>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, at_ms, input_json FROM events WHERE session_id = ?1 ORDER BY seq",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([session.0], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, at_ms, json) = row.map_err(self.err())?;
            let input = from_json(&json, session, "event input")?;
            out.push(Event {
                seq: u32::try_from(seq).unwrap_or(u32::MAX),
                at_ms: u64::try_from(at_ms).unwrap_or(0),
                input,
            });
        }
        Ok(out)
    }

    pub(crate) fn protocol_json(&self, session: SessionId) -> Result<String> {
        self.conn
            .query_row(
                "SELECT COALESCE(p.protocol_json, s.protocol_json)
                   FROM sessions s LEFT JOIN protocol_snapshots p ON p.id = s.snapshot_id
                  WHERE s.id = ?1",
                [session.0],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())?
            .ok_or(NotFound::Session(session).into())
    }
}
