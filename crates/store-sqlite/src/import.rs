//! The import's inserts: a checked export document, all or nothing.

use rollcoach_store::codec::{pairing_id, to_json};
use rollcoach_store::{Corrupt, ExportDocument, ImportReport, Result, SessionId, SessionOutcome};
use rusqlite::params;

use crate::SqliteStore;
use crate::rows::{insert_ratings, ms, snapshot_id};

impl SqliteStore {
    pub(crate) fn import_checked(&self, doc: &ExportDocument) -> Result<ImportReport> {
        self.write_with(|conn| {
            let sql = self.err();
            let mut report = ImportReport::default();
            for s in &doc.sessions {
                let exists: i64 = conn
                    .query_row("SELECT count(*) FROM sessions WHERE uid = ?1", [&s.uid], |r| r.get(0))
                    .map_err(&sql)?;
                if exists > 0 {
                    report.skipped.push(s.uid.clone());
                    continue;
                }
                let snapshot = snapshot_id(conn, &to_json(&s.protocol)).map_err(&sql)?;
                conn.execute(
                    "INSERT INTO sessions (uid, protocol_id, protocol_version, protocol_json, snapshot_id,
                         area, options_json, facts_json, started_at, ended_at, outcome, reason, outcome_json,
                         message, reps_done, reps_target, active_ms, pairing, summary_json)
                     VALUES (?1, ?2, ?3, '', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
                    params![
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
                    ],
                )
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
                report.imported += 1;
            }
            for i in &doc.injuries {
                let exists: i64 = conn
                    .query_row(
                        "SELECT count(*) FROM injuries WHERE area = ?1 AND at = ?2 AND created_at = ?3",
                        params![i.area, ms(i.at), ms(i.created_at)],
                        |r| r.get(0),
                    )
                    .map_err(&sql)?;
                if exists > 0 {
                    report.injuries_skipped += 1;
                    continue;
                }
                conn.execute(
                    "INSERT INTO injuries (area, at, note, created_at, cleared_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![i.area, ms(i.at), i.note, ms(i.created_at), i.cleared_at.map(ms)],
                )
                .map_err(&sql)?;
                report.injuries_imported += 1;
            }
            Ok(report)
        })
    }
}
