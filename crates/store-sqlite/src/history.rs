//! History queries: pages of records, the light points behind summaries and
//! charts, the last pairing. Each is served by an index (schema 3; the
//! query-plan tests check it).

use rollcoach_engine::Time;
use rollcoach_protocol::Pairing;
use rollcoach_store::codec::{parse_pairing, push_rating};
use rollcoach_store::{
    ExportCursor, ExportedSession, HistoryPoint, HistoryRow, Result, SessionId, SessionRecord,
    exported_session,
};
use rusqlite::OptionalExtension;

use crate::SqliteStore;
use crate::rows::{ms, time};

/// The pairing of the newest session of a protocol that has one; served by
/// the partial index `sessions_with_pairing` (schema 3), so live sessions,
/// which have none yet, are never read.
pub(crate) const LAST_PAIRING_SQL: &str = "SELECT pairing FROM sessions
     WHERE protocol_id = ?1 AND pairing IS NOT NULL
     ORDER BY started_at DESC, id DESC LIMIT 1";

/// Every session's start and whether it counts, newest first; served by the
/// covering index `sessions_by_start_outcome` (schema 3), so no session row
/// is read.
pub(crate) const HISTORY_POINTS_SQL: &str =
    "SELECT id, started_at, outcome IS NULL OR outcome <> 'refused' FROM sessions
     ORDER BY started_at DESC, id DESC";

/// The compact history's columns, served by the covering index
/// `sessions_history` (schema 4; a query-plan test checks it).
pub(crate) const HISTORY_ROWS_SQL: &str =
    "SELECT id, uid, protocol_id, started_at, ended_at, outcome, reason, reps_done, reps_target
     FROM sessions INDEXED BY sessions_history";

impl SqliteStore {
    pub(crate) fn history(&self, limit: Option<usize>) -> Result<Vec<SessionRecord>> {
        let limit = limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        self.records("ORDER BY started_at DESC, id DESC LIMIT ?1", &[&limit])
    }

    pub(crate) fn history_page(
        &self,
        limit: usize,
        before: Option<SessionId>,
    ) -> Result<Vec<SessionRecord>> {
        let Some(before) = before else {
            return self.history(Some(limit));
        };
        self.records(
            "WHERE (started_at, id) < (SELECT started_at, id FROM sessions WHERE id = ?2)
             ORDER BY started_at DESC, id DESC LIMIT ?1",
            &[&i64::try_from(limit).unwrap_or(i64::MAX), &before.0],
        )
    }

    pub(crate) fn session_count(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT count(*) FROM sessions", [], |r| r.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(self.err())
    }

    pub(crate) fn history_points(&self) -> Result<Vec<HistoryPoint>> {
        let mut stmt = self
            .conn
            .prepare_cached(HISTORY_POINTS_SQL)
            .map_err(self.err())?;
        let mut points = Vec::new();
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })
            .map_err(self.err())?;
        for row in rows {
            let (id, started_at, counts) = row.map_err(self.err())?;
            points.push(HistoryPoint {
                id: SessionId(id),
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
        let mut by_id: Vec<(i64, usize)> = points.iter().map(|p| p.id.0).zip(0..).collect();
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
        after: Option<ExportCursor>,
        limit: usize,
    ) -> Result<Vec<(SessionId, ExportedSession)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let records = match after {
            None => self.records("ORDER BY started_at, id LIMIT ?1", &[&limit])?,
            Some(a) => self.records(
                "WHERE (started_at, id) > (?2, ?3) ORDER BY started_at, id LIMIT ?1",
                &[&limit, &ms(a.started_at), &a.id.0],
            )?,
        };
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            let id = r.id;
            let protocol = self.protocol_json(id)?;
            let events = self.events(id)?;
            out.push((id, exported_session(r, &protocol, events)?));
        }
        Ok(out)
    }

    pub(crate) fn rating_ids(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT rating_id FROM ratings ORDER BY rating_id")
            .map_err(self.err())?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// A page of compact history rows: the few columns a list shows, read
    /// from the covering index `sessions_history` (schema 4) without reading
    /// the session rows; the ratings from their table's key order.
    pub(crate) fn history_rows(
        &self,
        limit: usize,
        before: Option<SessionId>,
    ) -> Result<Vec<HistoryRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let tail = match before {
            None => "ORDER BY started_at DESC, id DESC LIMIT ?1",
            Some(_) => {
                "WHERE (started_at, id) < (SELECT started_at, id FROM sessions WHERE id = ?2)
                 ORDER BY started_at DESC, id DESC LIMIT ?1"
            }
        };
        let sql = format!("{HISTORY_ROWS_SQL} {tail}");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let map = |r: &rusqlite::Row<'_>| {
            let started: i64 = r.get(3)?;
            let ended: Option<i64> = r.get(4)?;
            Ok(HistoryRow {
                id: SessionId(r.get(0)?),
                uid: r.get(1)?,
                protocol_id: r.get(2)?,
                started_at: time(started),
                duration_ms: ended.map(|e| u64::try_from(e - started).unwrap_or(0)),
                outcome: r.get(5)?,
                reason: r.get(6)?,
                reps_done: r.get(7)?,
                reps_target: r.get(8)?,
                ratings: Vec::new(),
            })
        };
        let mut rows: Vec<HistoryRow> = match before {
            None => stmt.query_map([limit], map),
            Some(b) => stmt.query_map(rusqlite::params![limit, b.0], map),
        }
        .map_err(self.err())?
        .collect::<Result<_, _>>()
        .map_err(self.err())?;
        if rows.is_empty() {
            return Ok(rows);
        }
        let mut at: Vec<(i64, usize)> = rows.iter().map(|r| r.id.0).zip(0..).collect();
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

    pub(crate) fn last_pairing(&self, protocol_id: &str) -> Result<Option<Pairing>> {
        let p: Option<String> = self
            .conn
            .query_row(LAST_PAIRING_SQL, [protocol_id], |r| r.get(0))
            .optional()
            .map_err(self.err())?;
        Ok(p.and_then(|p| parse_pairing(&p)))
    }
}
