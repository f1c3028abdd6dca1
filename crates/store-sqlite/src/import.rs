//! The import's inserts: a checked export document, all or nothing in one
//! transaction, or a few sessions at a time for a streamed import
//! ([`rollcoach_store::import_stream`]), and the undo of one.

use rollcoach_store::codec::{pairing_id, to_json};
use rollcoach_store::rules::{self, InjuryMerge};
use rollcoach_store::{
    Corrupt, ExportedInjury, ExportedSession, ImportedBatch, ImportedInjuries, Injury, PersonId,
    Result, SessionId, SessionOutcome,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;
use crate::rows::{insert_ratings, ms, snapshot_id, time};

/// A streamed import checkpoints the WAL itself every this many batches
/// (a few hundred pages), outside its transactions: the WAL then never
/// reaches SQLite's automatic checkpoint (1,000 pages), which would
/// otherwise fall to whichever connection commits next, often a session
/// logging an input, and hold that input up while it copies and syncs the
/// import's pages.
const CHECKPOINT_EVERY: u32 = 4;

impl SqliteStore {
    /// A few sessions of a streamed import, in one transaction; every
    /// [`CHECKPOINT_EVERY`] batches, a passive checkpoint.
    pub(crate) fn import_sessions(
        &self,
        person: &PersonId,
        sessions: &[ExportedSession],
    ) -> Result<ImportedBatch> {
        let batch = self.write_with(|conn| {
            let mut batch = ImportedBatch::default();
            for s in sessions {
                match self.insert_session(conn, person, s)? {
                    Some(_) => batch.added.push(s.uid.clone()),
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
    pub(crate) fn import_injuries(
        &self,
        person: &PersonId,
        injuries: &[ExportedInjury],
    ) -> Result<ImportedInjuries> {
        self.write_with(|conn| self.insert_injuries(conn, person, injuries))
    }

    /// Removes what an import added; the sessions' events and ratings go
    /// with them (`ON DELETE CASCADE`).
    pub(crate) fn remove_imported(
        &self,
        person: &PersonId,
        sessions: &[String],
        injuries: &[String],
    ) -> Result<()> {
        self.write(|conn| {
            let mut stmt =
                conn.prepare_cached("DELETE FROM sessions WHERE person = ?1 AND uid = ?2")?;
            for uid in sessions {
                stmt.execute([person.as_str(), uid])?;
            }
            let mut stmt =
                conn.prepare_cached("DELETE FROM injuries WHERE person = ?1 AND uid = ?2")?;
            for uid in injuries {
                stmt.execute([person.as_str(), uid])?;
            }
            Ok(())
        })
    }

    /// Adds one session of an import; `None` if its uid is already here.
    pub(crate) fn insert_session(
        &self,
        conn: &Connection,
        person: &PersonId,
        s: &ExportedSession,
    ) -> Result<Option<SessionId>> {
        let sql = self.err();
        // A uid is the person's (unique per person, schema 8): another
        // person's session of the same uid is neither seen nor touched.
        let exists: i64 = conn
            .prepare_cached("SELECT count(*) FROM sessions WHERE person = ?2 AND uid = ?1")
            .and_then(|mut q| q.query_row([s.uid.as_str(), person.as_str()], |r| r.get(0)))
            .map_err(&sql)?;
        if exists > 0 {
            return Ok(None);
        }
        let snapshot = snapshot_id(conn, &to_json(&s.protocol)).map_err(&sql)?;
        conn.prepare_cached(
            "INSERT INTO sessions (uid, protocol_id, protocol_version, protocol_json, snapshot_id,
                 area, options_json, facts_json, started_at, ended_at, outcome, reason, outcome_json,
                 message, reps_done, reps_target, active_ms, pairing, summary_json, person)
             VALUES (?1, ?2, ?3, '', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
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
                person.as_str(),
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

    /// Adds the injuries whose uid the person does not have, and applies
    /// the clears of those they have, as [`rules::merge_injury`] decides.
    fn insert_injuries(
        &self,
        conn: &Connection,
        person: &PersonId,
        injuries: &[ExportedInjury],
    ) -> Result<ImportedInjuries> {
        let sql = self.err();
        let mut out = ImportedInjuries::default();
        for i in injuries {
            let stored: Option<Injury> = conn
                .prepare_cached(
                    "SELECT area, at, note, created_at, cleared_at, number FROM injuries
                      WHERE person = ?1 AND uid = ?2",
                )
                .and_then(|mut q| {
                    q.query_row([person.as_str(), i.uid.as_str()], |r| {
                        Ok(Injury {
                            number: r.get(5)?,
                            uid: i.uid.clone(),
                            area: r.get(0)?,
                            at: time(r.get(1)?),
                            note: r.get(2)?,
                            created_at: time(r.get(3)?),
                            cleared_at: r.get::<_, Option<i64>>(4)?.map(time),
                        })
                    })
                    .optional()
                })
                .map_err(&sql)?;
            match rules::merge_injury(stored.as_ref(), i).map_err(|e| e.into_error(&i.uid))? {
                InjuryMerge::Add => {
                    conn.prepare_cached(
                        "INSERT INTO injuries
                             (uid, area, at, note, created_at, cleared_at, person, number)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,
                             (SELECT coalesce(max(number), 0) + 1 FROM injuries WHERE person = ?7))",
                    )
                    .and_then(|mut q| {
                        q.execute(params![
                            i.uid,
                            i.area,
                            ms(i.at),
                            i.note,
                            ms(i.created_at),
                            i.cleared_at.map(ms),
                            person.as_str()
                        ])
                    })
                    .map_err(&sql)?;
                    out.added.push(i.uid.clone());
                }
                InjuryMerge::Clear { cleared_at } => {
                    conn.prepare_cached(
                        "UPDATE injuries SET cleared_at = ?3
                          WHERE person = ?1 AND uid = ?2 AND cleared_at IS NULL",
                    )
                    .and_then(|mut q| q.execute(params![person.as_str(), i.uid, ms(cleared_at)]))
                    .map_err(&sql)?;
                    out.cleared += 1;
                }
                InjuryMerge::Same => out.skipped += 1,
            }
        }
        Ok(out)
    }
}
