//! The import's inserts: a checked export document, all or nothing in one
//! transaction, or a few sessions at a time for a streamed import
//! ([`rollcoach_store::import_stream`]), and the undo of one.

use rollcoach_store::codec::{pairing_id, to_json};
use rollcoach_store::{
    Conflict, Corrupt, ExportDocument, ExportedInjury, ExportedSession, ImportReport,
    ImportedBatch, ImportedInjuries, InjuryId, Result, SessionId, SessionOutcome,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;
use crate::rows::{insert_ratings, ms, snapshot_id};

/// A streamed import checkpoints the WAL itself every this many batches
/// (a few hundred pages), outside its transactions: the WAL then never
/// reaches SQLite's automatic checkpoint (1,000 pages), which would
/// otherwise fall to whichever connection commits next, often a session
/// logging an input, and hold that input up while it copies and syncs the
/// import's pages.
const CHECKPOINT_EVERY: u32 = 4;

impl SqliteStore {
    pub(crate) fn import_checked(&self, doc: &ExportDocument) -> Result<ImportReport> {
        self.write_with(|conn| {
            let mut report = ImportReport::default();
            for s in &doc.sessions {
                match self.insert_session(conn, s)? {
                    Some(_) => report.imported += 1,
                    None => report.skipped.push(s.uid.clone()),
                }
            }
            let injuries = self.insert_injuries(conn, &doc.injuries)?;
            report.injuries_imported = u32::try_from(injuries.added.len()).unwrap_or(u32::MAX);
            report.injuries_skipped = injuries.skipped;
            report.injuries_cleared = injuries.cleared;
            Ok(report)
        })
    }

    /// A few sessions of a streamed import, in one transaction; every
    /// [`CHECKPOINT_EVERY`] batches, a passive checkpoint.
    pub(crate) fn import_sessions(&self, sessions: &[ExportedSession]) -> Result<ImportedBatch> {
        let batch = self.write_with(|conn| {
            let mut batch = ImportedBatch::default();
            for s in sessions {
                match self.insert_session(conn, s)? {
                    Some(id) => batch.added.push(id),
                    None => batch.skipped.push(s.uid.clone()),
                }
            }
            Ok(batch)
        })?;
        let n = self.import_batches.get().wrapping_add(1);
        self.import_batches.set(n);
        if n.is_multiple_of(CHECKPOINT_EVERY) && !self.in_batch.get() && self.checkpointer.is_none()
        {
            // A failed checkpoint is only a larger WAL for a while.
            let _ = self
                .conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        }
        Ok(batch)
    }

    /// The injuries of a streamed import, in one transaction.
    pub(crate) fn import_injuries(&self, injuries: &[ExportedInjury]) -> Result<ImportedInjuries> {
        self.write_with(|conn| self.insert_injuries(conn, injuries))
    }

    /// Removes what an import added; the sessions' events and ratings go
    /// with them (`ON DELETE CASCADE`).
    pub(crate) fn remove_imported(
        &self,
        sessions: &[SessionId],
        injuries: &[InjuryId],
    ) -> Result<()> {
        self.write(|conn| {
            let mut stmt = conn.prepare_cached("DELETE FROM sessions WHERE id = ?1")?;
            for id in sessions {
                stmt.execute([id.0])?;
            }
            let mut stmt = conn.prepare_cached("DELETE FROM injuries WHERE id = ?1")?;
            for id in injuries {
                stmt.execute([id.0])?;
            }
            Ok(())
        })
    }

    /// Adds one session of an import; `None` if its uid is already here.
    fn insert_session(&self, conn: &Connection, s: &ExportedSession) -> Result<Option<SessionId>> {
        let sql = self.err();
        let exists: i64 = conn
            .prepare_cached("SELECT count(*) FROM sessions WHERE uid = ?1")
            .and_then(|mut q| q.query_row([&s.uid], |r| r.get(0)))
            .map_err(&sql)?;
        if exists > 0 {
            return Ok(None);
        }
        let snapshot = snapshot_id(conn, &to_json(&s.protocol)).map_err(&sql)?;
        conn.prepare_cached(
            "INSERT INTO sessions (uid, protocol_id, protocol_version, protocol_json, snapshot_id,
                 area, options_json, facts_json, started_at, ended_at, outcome, reason, outcome_json,
                 message, reps_done, reps_target, active_ms, pairing, summary_json)
             VALUES (?1, ?2, ?3, '', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
        )
        .and_then(|mut q| {
            q.execute(params![
                s.uid,
                s.protocol_id,
                s.protocol_version,
                snapshot,
                s.area,
                to_json(&s.options),
                to_json(&s.facts),
                ms(s.started_at),
                s.ended_at.map(ms),
                s.outcome.as_ref().map(SessionOutcome::kind),
                s.reason,
                s.outcome.as_ref().map(to_json),
                s.message,
                s.reps_done,
                s.reps_target,
                s.active_ms.map(|v| i64::try_from(v).unwrap_or(i64::MAX)),
                s.pairing.map(pairing_id),
                s.summary.as_ref().map(to_json),
            ])
        })
        .map_err(&sql)?;
        let id = SessionId(conn.last_insert_rowid());
        insert_ratings(conn, id, &s.ratings).map_err(&sql)?;
        let mut stmt = conn
            .prepare_cached(
                "INSERT INTO events (session_id, seq, at_ms, input_json) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(&sql)?;
        for e in &s.events {
            stmt.execute(params![
                id.0,
                e.seq,
                i64::try_from(e.at_ms).unwrap_or(i64::MAX),
                to_json(&e.input)
            ])
            .map_err(|err| {
                // `ExportDocument::check` refuses a log with an event
                // twice; this keeps the message if one gets here.
                if err.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) {
                    Corrupt::Export(format!(
                        "session {}: event {} appears twice in its log",
                        s.uid, e.seq
                    ))
                    .into()
                } else {
                    sql(err)
                }
            })?;
        }
        Ok(Some(id))
    }

    /// Adds the injuries whose uid is not here, and applies the clears of
    /// those that are (see [`rollcoach_store::Store::import_injuries`]).
    fn insert_injuries(
        &self,
        conn: &Connection,
        injuries: &[ExportedInjury],
    ) -> Result<ImportedInjuries> {
        let sql = self.err();
        let mut out = ImportedInjuries::default();
        for i in injuries {
            let stored = conn
                .prepare_cached(
                    "SELECT id, area, at, note, created_at, cleared_at FROM injuries WHERE uid = ?1",
                )
                .and_then(|mut q| {
                    q.query_row([&i.uid], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, Option<String>>(3)?,
                            r.get::<_, i64>(4)?,
                            r.get::<_, Option<i64>>(5)?,
                        ))
                    })
                    .optional()
                })
                .map_err(&sql)?;
            let Some((id, area, at, note, created_at, cleared_at)) = stored else {
                conn.prepare_cached(
                    "INSERT INTO injuries (uid, area, at, note, created_at, cleared_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .and_then(|mut q| {
                    q.execute(params![
                        i.uid,
                        i.area,
                        ms(i.at),
                        i.note,
                        ms(i.created_at),
                        i.cleared_at.map(ms)
                    ])
                })
                .map_err(&sql)?;
                out.added.push(InjuryId(conn.last_insert_rowid()));
                continue;
            };
            let differs = [
                ("area", area != i.area),
                ("at", at != ms(i.at)),
                ("note", note != i.note),
                ("created_at", created_at != ms(i.created_at)),
            ]
            .into_iter()
            .find_map(|(field, differs)| differs.then_some(field));
            if let Some(field) = differs {
                return Err(Conflict::InjuryDiffers {
                    uid: i.uid.clone(),
                    field,
                }
                .into());
            }
            match (cleared_at, i.cleared_at) {
                // Cleared there, not here: clear it. Clearing only moves forward.
                (None, Some(cleared)) => {
                    conn.prepare_cached(
                        "UPDATE injuries SET cleared_at = ?2 WHERE id = ?1 AND cleared_at IS NULL",
                    )
                    .and_then(|mut q| q.execute(params![id, ms(cleared)]))
                    .map_err(&sql)?;
                    out.cleared += 1;
                }
                // The same, or cleared here already (it stays cleared, at
                // its own time): nothing to do.
                _ => out.skipped += 1,
            }
        }
        Ok(out)
    }
}
