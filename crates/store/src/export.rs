//! Export and import: a versioned JSON document (lossless; import reads it
//! back) and a CSV table (one row per session, for spreadsheets).

use rollcoach_engine::{Facts, Options, RatingResult, Summary, Time};
use rollcoach_protocol::Pairing;
use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::{
    Event, Result, SessionOutcome, Store, StoreError, insert_ratings, ms, pairing_str, timestamp,
    to_json,
};

/// The `format` field of an export document.
pub const EXPORT_FORMAT: &str = "rollcoach-export";
/// The newest export document version this rollcoach writes and reads.
pub const EXPORT_VERSION: u32 = 1;

/// Everything in a store: sessions with their ratings and event logs, and
/// the injury log. Local ids are left out: sessions are identified by `uid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportDocument {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// [`EXPORT_VERSION`] when written by this rollcoach.
    pub version: u32,
    /// When it was exported.
    pub exported_at: Time,
    /// Sessions, oldest first.
    pub sessions: Vec<ExportedSession>,
    /// Injuries, by when they happened.
    pub injuries: Vec<ExportedInjury>,
}

/// One session in an export document: its record, protocol snapshot and log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedSession {
    /// Globally unique id; import skips a uid already in the store.
    pub uid: String,
    /// The protocol's id.
    pub protocol_id: String,
    /// The protocol's content version.
    pub protocol_version: u32,
    /// The protocol's body area.
    pub area: String,
    /// The protocol as it ran (kept as JSON, so it survives model changes).
    pub protocol: serde_json::Value,
    /// Options.
    pub options: Options,
    /// Facts at the start.
    pub facts: Facts,
    /// When it started.
    pub started_at: Time,
    /// When it ended.
    pub ended_at: Option<Time>,
    /// How it ended.
    pub outcome: Option<SessionOutcome>,
    /// Short reason id.
    pub reason: Option<String>,
    /// End message.
    pub message: Option<String>,
    /// Reps done.
    pub reps_done: Option<u32>,
    /// Reps planned.
    pub reps_target: u32,
    /// Milliseconds rolling.
    pub active_ms: Option<u64>,
    /// Starting pairing.
    pub pairing: Option<Pairing>,
    /// Ratings that have a value.
    pub ratings: Vec<RatingResult>,
    /// The engine's summary.
    pub summary: Option<Summary>,
    /// Every input, in order.
    pub events: Vec<Event>,
}

/// One injury in an export document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedInjury {
    /// Body area.
    pub area: String,
    /// When it happened.
    pub at: Time,
    /// Note.
    pub note: Option<String>,
    /// When it was logged.
    pub created_at: Time,
    /// When it was cleared.
    pub cleared_at: Option<Time>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Sessions added.
    pub imported: u32,
    /// uids of sessions skipped because the store already has them.
    pub skipped: Vec<String>,
    /// Injuries added.
    pub injuries_imported: u32,
    /// Injuries skipped because the store already has one with the same
    /// area, time and logging time.
    pub injuries_skipped: u32,
}

impl ExportDocument {
    /// Reads a document, checking its format and version first so a wrong
    /// file gets a clear message.
    pub fn from_json(text: &str) -> Result<ExportDocument> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| StoreError::BadExport(format!("not valid JSON: {e}")))?;
        let format = value.get("format").and_then(|f| f.as_str());
        if format != Some(EXPORT_FORMAT) {
            return Err(StoreError::BadExport(format!(
                "not a rollcoach export (its \"format\" is {}, expected \"{EXPORT_FORMAT}\"); \
                 import reads files written by `rollcoach export --format json`",
                format.map_or("missing".to_owned(), |f| format!("\"{f}\""))
            )));
        }
        let version = value.get("version").and_then(|v| v.as_u64());
        match version {
            Some(v) if v <= u64::from(EXPORT_VERSION) => {}
            Some(v) => {
                return Err(StoreError::BadExport(format!(
                    "this export is version {v}, written by a newer rollcoach; this one reads up to \
                     version {EXPORT_VERSION}. Upgrade rollcoach to import it"
                )));
            }
            None => {
                return Err(StoreError::BadExport(
                    "the export has no \"version\" number".to_owned(),
                ));
            }
        }
        serde_json::from_value(value).map_err(|e| {
            StoreError::BadExport(format!(
                "the export does not fit version {EXPORT_VERSION}: {e}"
            ))
        })
    }

    /// The document as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("serializable export")
    }

    /// The sessions as CSV (RFC 4180, comma-separated, CRLF-free `\n` lines),
    /// one row per session, oldest first. Columns: `uid`, `protocol_id`,
    /// `protocol_version`, `area`, `started_at` and `ended_at` (RFC 3339,
    /// UTC), `outcome`, `reason`, `reps_done`, `reps_target`, `active_ms`,
    /// `duration_ms`, `pairing`, `instrument`, `reasons` (`;`-separated),
    /// `noises`, `discomfort` (`;`-separated levels), `events` (how many
    /// inputs were logged), then `<rating id>_before` and `<rating id>_after`
    /// for every rating id in the export, sorted; empty cells are unknown or
    /// skipped. The event logs themselves are only in the JSON form.
    pub fn to_csv(&self) -> String {
        let mut rating_ids: Vec<&str> = self
            .sessions
            .iter()
            .flat_map(|s| s.ratings.iter().map(|r| r.id.as_str()))
            .collect();
        rating_ids.sort_unstable();
        rating_ids.dedup();
        let mut header: Vec<String> = [
            "uid",
            "protocol_id",
            "protocol_version",
            "area",
            "started_at",
            "ended_at",
            "outcome",
            "reason",
            "reps_done",
            "reps_target",
            "active_ms",
            "duration_ms",
            "pairing",
            "instrument",
            "reasons",
            "noises",
            "discomfort",
            "events",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        for id in &rating_ids {
            header.push(format!("{id}_before"));
            header.push(format!("{id}_after"));
        }
        let mut out = String::new();
        push_row(&mut out, &header);
        let opt = |v: Option<String>| v.unwrap_or_default();
        let time = |t: Time| timestamp(t).map_or_else(|| t.0.to_string(), |ts| ts.to_string());
        for s in &self.sessions {
            let mut row = vec![
                s.uid.clone(),
                s.protocol_id.clone(),
                s.protocol_version.to_string(),
                s.area.clone(),
                time(s.started_at),
                opt(s.ended_at.map(time)),
                opt(s.outcome.as_ref().map(|o| o.kind().to_owned())),
                opt(s.reason.clone()),
                opt(s.reps_done.map(|v| v.to_string())),
                s.reps_target.to_string(),
                opt(s.active_ms.map(|v| v.to_string())),
                opt(s.ended_at.map(|e| e.since(s.started_at).to_string())),
                opt(s.pairing.map(|p| pairing_str(p).to_owned())),
                opt(s.options.instrument.clone()),
                s.options.reasons.join(";"),
                opt(s.summary.as_ref().map(|x| x.noises.to_string())),
                opt(s.summary.as_ref().map(|x| {
                    x.discomfort
                        .iter()
                        .map(u8::to_string)
                        .collect::<Vec<_>>()
                        .join(";")
                })),
                s.events.len().to_string(),
            ];
            for id in &rating_ids {
                let r = s.ratings.iter().find(|r| r.id == *id);
                row.push(opt(r.and_then(|r| r.before).map(|v| v.to_string())));
                row.push(opt(r.and_then(|r| r.after).map(|v| v.to_string())));
            }
            push_row(&mut out, &row);
        }
        out
    }
}

fn push_row(out: &mut String, cells: &[String]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if cell.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(cell);
        }
    }
    out.push('\n');
}

impl Store {
    /// Everything in the store as an export document, `exported_at` now.
    pub fn export(&self, now: Time) -> Result<ExportDocument> {
        let mut records = self.history(None)?;
        records.reverse();
        let mut sessions = Vec::with_capacity(records.len());
        for r in records {
            let protocol_json = self.protocol_json(r.id)?;
            let protocol =
                serde_json::from_str(&protocol_json).map_err(|source| StoreError::Corrupt {
                    session: r.id,
                    what: "protocol snapshot",
                    source,
                })?;
            sessions.push(ExportedSession {
                events: self.events(r.id)?,
                uid: r.uid,
                protocol_id: r.protocol_id,
                protocol_version: r.protocol_version,
                area: r.area,
                protocol,
                options: r.options,
                facts: r.facts,
                started_at: r.started_at,
                ended_at: r.ended_at,
                outcome: r.outcome,
                reason: r.reason,
                message: r.message,
                reps_done: r.reps_done,
                reps_target: r.reps_target,
                active_ms: r.active_ms,
                pairing: r.pairing,
                ratings: r.ratings,
                summary: r.summary,
            });
        }
        let injuries = self
            .list_injuries()?
            .into_iter()
            .map(|i| ExportedInjury {
                area: i.area,
                at: i.at,
                note: i.note,
                created_at: i.created_at,
                cleared_at: i.cleared_at,
            })
            .collect();
        Ok(ExportDocument {
            format: EXPORT_FORMAT.to_owned(),
            version: EXPORT_VERSION,
            exported_at: now,
            sessions,
            injuries,
        })
    }

    /// Adds the document's sessions and injuries, all or nothing. Sessions
    /// whose uid is already here are skipped (reported, not an error);
    /// imported sessions have no owner process, so a session that was live
    /// when exported is marked interrupted by the next
    /// [`Store::recover_interrupted`].
    pub fn import(&self, doc: &ExportDocument) -> Result<ImportReport> {
        if doc.format != EXPORT_FORMAT || doc.version > EXPORT_VERSION {
            return Err(StoreError::BadExport(format!(
                "cannot import a \"{}\" document of version {} (this rollcoach reads \"{EXPORT_FORMAT}\" up to version {EXPORT_VERSION})",
                doc.format, doc.version
            )));
        }
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
                if !s.protocol.is_object() {
                    return Err(StoreError::BadExport(format!(
                        "session {}: its \"protocol\" is not a protocol object",
                        s.uid
                    )));
                }
                conn.execute(
                    "INSERT INTO sessions (uid, protocol_id, protocol_version, protocol_json, area,
                         options_json, facts_json, started_at, ended_at, outcome, reason, outcome_json,
                         message, reps_done, reps_target, active_ms, pairing, summary_json)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
                    params![
                        s.uid,
                        s.protocol_id,
                        s.protocol_version,
                        to_json(&s.protocol),
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
                        s.pairing.map(pairing_str),
                        s.summary.as_ref().map(to_json),
                    ],
                )
                .map_err(&sql)?;
                let id = crate::SessionId(conn.last_insert_rowid());
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
                        if err.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) {
                            StoreError::BadExport(format!(
                                "session {}: event {} appears twice in its log",
                                s.uid, e.seq
                            ))
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
