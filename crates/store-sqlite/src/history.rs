//! History queries: pages of records, the light points behind summaries and
//! charts, the last pairing. Each is served by an index (schema 3; the
//! query-plan tests check it).

use rollcoach_engine::Time;
use rollcoach_protocol::Pairing;
use rollcoach_store::codec::{parse_pairing, push_rating};
use rollcoach_store::{
    ExportCursor, ExportedSession, HistoryPoint, HistoryRow, PersonId, Result, SessionId,
    SessionRecord, exported_session,
};
use rusqlite::OptionalExtension;

use crate::SqliteStore;
use crate::rows::{ms, time};

/// The pairing of the newest session of a protocol that has one; served by
/// the partial index `sessions_with_pairing` (schema 3), so live sessions,
/// which have none yet, are never read.
pub(crate) const LAST_PAIRING_SQL: &str = "SELECT pairing FROM sessions
     WHERE person = ?1 AND protocol_id = ?2 AND pairing IS NOT NULL
     ORDER BY started_at DESC, id DESC LIMIT 1";

/// Every session's start and whether it counts, newest first; served by the
/// covering index `sessions_by_start_outcome` (schema 3), so no session row
/// is read.
pub(crate) const HISTORY_POINTS_SQL: &str =
    "SELECT id, started_at, outcome IS NULL OR outcome <> 'refused' FROM sessions
     WHERE person = ?1 ORDER BY started_at DESC, id DESC";

/// The compact history's columns, served by the covering index
/// `sessions_history` (schema 4; a query-plan test checks it).
pub(crate) const HISTORY_ROWS_SQL: &str =
    "SELECT id, uid, protocol_id, started_at, ended_at, outcome, reason, reps_done, reps_target
     FROM sessions INDEXED BY sessions_history WHERE person = ?1";

impl SqliteStore {
    pub(crate) fn history_page(
        &self,
        person: &PersonId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<SessionRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let Some(before) = before else {
            return self.records(
                "WHERE person = ?2 ORDER BY started_at DESC, id DESC LIMIT ?1",
                &[&limit, &person.as_str()],
            );
        };
        let before = self.session_id_of(person, before)?;
        self.records(
            "WHERE person = ?2
               AND (started_at, id) < (SELECT started_at, id FROM sessions WHERE id = ?3)
             ORDER BY started_at DESC, id DESC LIMIT ?1",
            &[&limit, &person.as_str(), &before.0],
        )
    }

    pub(crate) fn session_count(&self, person: &PersonId) -> Result<u64> {
        self.conn
            .query_row(
                "SELECT count(*) FROM sessions WHERE person = ?1",
                [person.as_str()],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(self.err())
    }

    pub(crate) fn history_points(&self, person: &PersonId) -> Result<Vec<HistoryPoint>> {
        let mut stmt = self
            .conn
            .prepare_cached(HISTORY_POINTS_SQL)
            .map_err(self.err())?;
        let mut points = Vec::new();
        let mut ids = Vec::new();
        let rows = stmt
            .query_map([person.as_str()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })
            .map_err(self.err())?;
        for row in rows {
            let (id, started_at, counts) = row.map_err(self.err())?;
            ids.push(id);
            points.push(HistoryPoint {
                started_at: Time(u64::try_from(started_at).unwrap_or(0)),
                counts,
                ratings: Vec::new(),
            });
        }
        // In the table's key order (session, rating id), read in place: ten
        // years hold ~14,000 rows. (Grouping before and after into one row
        // in SQL took four times as long.)
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT session_id, rating_id, moment = 'before', value FROM ratings
                 ORDER BY session_id, rating_id",
            )
            .map_err(self.err())?;
        // The points by session id, to walk alongside the rows (no hashing).
        // The rows of other people's sessions fall between and are skipped.
        let mut by_id: Vec<(i64, usize)> = ids.into_iter().zip(0..).collect();
        by_id.sort_unstable();
        let mut next = by_id.iter().peekable();
        let mut rows = stmt.query([]).map_err(self.err())?;
        while let Some(r) = rows.next().map_err(self.err())? {
            let session: i64 = r.get(0).map_err(self.err())?;
            while next.next_if(|(id, _)| *id < session).is_some() {}
            let Some(point) = next
                .peek()
                .filter(|(id, _)| *id == session)
                .and_then(|&&(_, i)| points.get_mut(i))
            else {
                continue;
            };
            let id = r
                .get_ref(1)
                .and_then(|v| v.as_str().map_err(rusqlite::Error::from))
                .map_err(self.err())?;
            let before: bool = r.get(2).map_err(self.err())?;
            let value: u8 = r.get(3).map_err(self.err())?;
            push_rating(&mut point.ratings, id, before, value);
        }
        Ok(points)
    }

    /// A page of sessions for a streamed export, oldest first, after `after`.
    pub(crate) fn export_sessions(
        &self,
        person: &PersonId,
        after: Option<&ExportCursor>,
        limit: usize,
    ) -> Result<Vec<(ExportCursor, ExportedSession)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (tail, after) = match after {
            None => ("WHERE person = ?2 ORDER BY started_at, id LIMIT ?1", (0, 0)),
            Some(a) => (
                "WHERE person = ?2 AND (started_at, id) > (?3, ?4) ORDER BY started_at, id LIMIT ?1",
                (ms(a.started_at), a.key),
            ),
        };
        let ids: Vec<i64> = {
            let sql = format!("SELECT id FROM sessions {tail}");
            let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
            let p = person.as_str();
            let params: &[&dyn rusqlite::ToSql] = if tail.contains("?3") {
                &[&limit, &p, &after.0, &after.1]
            } else {
                &[&limit, &p]
            };
            stmt.query_map(params, |r| r.get(0))
                .map_err(self.err())?
                .collect::<Result<_, _>>()
                .map_err(self.err())?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let id = SessionId(id);
            let r = self.session(id)?;
            let cursor = ExportCursor {
                started_at: r.started_at,
                key: id.0,
            };
            let protocol = self.protocol_json(id)?;
            let events = self.events(id)?;
            out.push((cursor, exported_session(r, &protocol, events)?));
        }
        Ok(out)
    }

    pub(crate) fn rating_ids(&self, person: &PersonId) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT r.rating_id FROM ratings r JOIN sessions s ON s.id = r.session_id
                  WHERE s.person = ?1 ORDER BY r.rating_id",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([person.as_str()], |r| r.get(0))
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// A page of compact history rows: the few columns a list shows, read
    /// from the covering index `sessions_history` (schema 4) without reading
    /// the session rows; the ratings from their table's key order.
    pub(crate) fn history_rows(
        &self,
        person: &PersonId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<HistoryRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let before = before
            .map(|uid| self.session_id_of(person, uid))
            .transpose()?;
        let tail = match before {
            None => "ORDER BY started_at DESC, id DESC LIMIT ?2",
            Some(_) => {
                "AND (started_at, id) < (SELECT started_at, id FROM sessions WHERE id = ?3)
                 ORDER BY started_at DESC, id DESC LIMIT ?2"
            }
        };
        let sql = format!("{HISTORY_ROWS_SQL} {tail}");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let map = |r: &rusqlite::Row<'_>| {
            let started: i64 = r.get(3)?;
            let ended: Option<i64> = r.get(4)?;
            Ok((
                r.get::<_, i64>(0)?,
                HistoryRow {
                    uid: r.get(1)?,
                    protocol_id: r.get(2)?,
                    started_at: time(started),
                    duration_ms: ended.map(|e| u64::try_from(e - started).unwrap_or(0)),
                    outcome: r.get(5)?,
                    reason: r.get(6)?,
                    reps_done: r.get(7)?,
                    reps_target: r.get(8)?,
                    ratings: Vec::new(),
                },
            ))
        };
        let p = person.as_str();
        let found: Vec<(i64, HistoryRow)> = match before {
            None => stmt.query_map(rusqlite::params![p, limit], map),
            Some(b) => stmt.query_map(rusqlite::params![p, limit, b.0], map),
        }
        .map_err(self.err())?
        .collect::<Result<_, _>>()
        .map_err(self.err())?;
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let mut at: Vec<(i64, usize)> = found.iter().map(|(id, _)| *id).zip(0..).collect();
        let mut rows: Vec<HistoryRow> = found.into_iter().map(|(_, r)| r).collect();
        at.sort_unstable();
        // The ratings of the page's id range, in the table's key order (a
        // range scan, as `history_points` reads them): a page's sessions are
        // usually a run of ids; the rows of any other session are skipped.
        let (lo, hi) = (at[0].0, at[at.len() - 1].0);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT session_id, rating_id, moment = 'before', value FROM ratings
                 WHERE session_id BETWEEN ?1 AND ?2 ORDER BY session_id, rating_id",
            )
            .map_err(self.err())?;
        let mut q = stmt.query([lo, hi]).map_err(self.err())?;
        while let Some(r) = q.next().map_err(self.err())? {
            let session: i64 = r.get(0).map_err(self.err())?;
            let Ok(i) = at.binary_search_by_key(&session, |&(id, _)| id) else {
                continue;
            };
            let id: String = r.get(1).map_err(self.err())?;
            let before: bool = r.get(2).map_err(self.err())?;
            let value: u8 = r.get(3).map_err(self.err())?;
            if let Some(row) = rows.get_mut(at[i].1) {
                push_rating(&mut row.ratings, &id, before, value);
            }
        }
        Ok(rows)
    }

    pub(crate) fn last_pairing(
        &self,
        person: &PersonId,
        protocol_id: &str,
    ) -> Result<Option<Pairing>> {
        let p: Option<String> = self
            .conn
            .query_row(LAST_PAIRING_SQL, [person.as_str(), protocol_id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.err())?;
        Ok(p.and_then(|p| parse_pairing(&p)))
    }
}
