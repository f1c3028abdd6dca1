//! Export and import: a versioned JSON document (lossless; import reads it
//! back) and a CSV table (one row per session, for spreadsheets). The
//! document is the same whatever the backend: [`export`] builds it from the
//! [`Store`] trait, and a backend's [`Records::import_sessions`] only writes it.

use rollcoach_engine::{Facts, Options, RatingResult, Summary, Time};
use rollcoach_protocol::Pairing;
use serde::{Deserialize, Serialize};

use crate::codec::pairing_id;
use crate::{
    Corrupt, DisplayTime, Event, PersonId, Records, Result, SessionOutcome, SessionRecord,
    StoreError, legacy_injury_uid, timestamp,
};

fn bad(why: String) -> StoreError {
    Corrupt::Export(why).into()
}

/// The `format` field of an export document.
pub const EXPORT_FORMAT: &str = "rollcoach-export";
/// The newest export document version this rollcoach writes and reads.
/// Version 2 (issue 13) gave every injury a `uid`; a version 1 document
/// still imports, its injuries identified by [`legacy_injury_uid`] (see
/// [`ExportedInjury::fill_missing_uids`]). An older rollcoach refuses a
/// version 2 document rather than merge distinct injuries. Version 3
/// (issue 24) writes each distinct protocol snapshot once: a later session
/// of the same snapshot names the first one's uid in
/// `"protocol_same_as"` instead of carrying `"protocol"` (see
/// [`crate::PROTOCOL_SAME_AS`]); readers resolve it, and a document of
/// any earlier version still imports. [`ExportDocument`] in memory always
/// holds whole sessions.
pub const EXPORT_VERSION: u32 = 3;

/// Everything in a store: sessions with their ratings and event logs, and
/// the injury log. Local ids are left out: sessions and injuries are
/// identified by `uid`.
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

/// One injury in an export document: the whole record, its clearing
/// included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedInjury {
    /// Globally unique id ([`crate::Injury::uid`]): import adds an injury
    /// whose uid is not in the store, and applies the clearing of one that
    /// is (see [`crate::Records::import_injuries`]). Missing (or empty) in a
    /// version 1 document: [`ExportedInjury::fill_missing_uids`] derives it.
    #[serde(default)]
    pub uid: String,
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
    /// Injuries skipped because the store already has them (same uid) with
    /// nothing to change.
    pub injuries_skipped: u32,
    /// Injuries the store already has (same uid) not cleared, which the
    /// document has cleared: the import cleared them (at the document's
    /// `cleared_at`). A clear is never undone.
    #[serde(default)]
    pub injuries_cleared: u32,
}

impl ExportedInjury {
    /// Gives every injury without a uid (a version 1 document's) its
    /// [`legacy_injury_uid`]: `n` counts the injuries without a uid of the
    /// same area, time and logging time, in the document's order (an export
    /// lists them by id, the order the SQLite migration ranks them by), so a
    /// stored injury, and every import of the same old file, get the same
    /// uid: importing an old file twice adds nothing the second time.
    pub fn fill_missing_uids(injuries: &mut [ExportedInjury]) {
        let mut seen: std::collections::HashMap<(&str, Time, Time), u32> =
            std::collections::HashMap::new();
        let mut uids = Vec::with_capacity(injuries.len());
        for i in injuries.iter() {
            if !i.uid.is_empty() {
                uids.push(None);
                continue;
            }
            let n = seen
                .entry((i.area.as_str(), i.at, i.created_at))
                .or_insert(0);
            *n = n.saturating_add(1);
            uids.push(Some(legacy_injury_uid(&i.area, i.at, i.created_at, *n)));
        }
        for (i, uid) in injuries.iter_mut().zip(uids) {
            if let Some(uid) = uid {
                i.uid = uid;
            }
        }
    }
}

impl ExportDocument {
    /// Reads a document, checking its format and version first so a wrong
    /// file gets a clear message.
    pub fn from_json(text: &str) -> Result<ExportDocument> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let format = value.get("format").and_then(|f| f.as_str());
        if format != Some(EXPORT_FORMAT) {
            return Err(bad(format!(
                "not a rollcoach export (its \"format\" is {}, expected \"{EXPORT_FORMAT}\"); \
                 import reads files written by `rollcoach export --format json`",
                format.map_or("missing".to_owned(), |f| format!("\"{f}\""))
            )));
        }
        let version = value.get("version").and_then(|v| v.as_u64());
        match version {
            Some(v) if v <= u64::from(EXPORT_VERSION) => {}
            Some(v) => {
                return Err(bad(format!(
                    "this export is version {v}, written by a newer rollcoach; this one reads up to \
                     version {EXPORT_VERSION}. Upgrade rollcoach to import it"
                )));
            }
            None => {
                return Err(bad("the export has no \"version\" number".to_owned()));
            }
        }
        let doc: crate::snapshots::DocDocument = serde_json::from_value(value).map_err(|e| {
            bad(format!(
                "the export does not fit version {EXPORT_VERSION}: {e}"
            ))
        })?;
        let mut doc = doc.resolve().map_err(bad)?;
        ExportedInjury::fill_missing_uids(&mut doc.injuries);
        Ok(doc)
    }

    /// The document as pretty JSON, each distinct protocol snapshot once
    /// (version 3: see [`EXPORT_VERSION`]), as `rollcoach export` writes it.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&crate::snapshots::DocumentRef(self))
            .expect("serializable export")
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
        let mut out = String::new();
        push_row(&mut out, &csv_header(&rating_ids));
        for s in &self.sessions {
            push_row(&mut out, &csv_row(s, &rating_ids));
        }
        out
    }
}

/// The CSV header row for sessions with these rating ids (sorted), as
/// [`ExportDocument::to_csv`] writes it.
pub(crate) fn csv_header<S: AsRef<str>>(rating_ids: &[S]) -> Vec<String> {
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
    for id in rating_ids {
        header.push(format!("{}_before", id.as_ref()));
        header.push(format!("{}_after", id.as_ref()));
    }
    header
}

/// One session's CSV row, with rating columns for `rating_ids`.
pub(crate) fn csv_row<S: AsRef<str>>(s: &ExportedSession, rating_ids: &[S]) -> Vec<String> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let time = |t: Time| timestamp(t).map_or_else(|| t.0.to_string(), |ts| ts.to_string());
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
        opt(s.pairing.map(|p| pairing_id(p).to_owned())),
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
    for id in rating_ids {
        let r = s.ratings.iter().find(|r| r.id == id.as_ref());
        row.push(opt(r.and_then(|r| r.before).map(|v| v.to_string())));
        row.push(opt(r.and_then(|r| r.after).map(|v| v.to_string())));
    }
    row
}

/// Writes one CSV row. A cell a spreadsheet would run as a formula (one that
/// begins with `=`, `+`, `-`, `@`, a tab or a carriage return: an id or a
/// reason from an imported file) is written with a leading `'`, which
/// spreadsheets show as text (OWASP, "CSV Injection"). rollcoach's own
/// numbers never begin with one of them.
pub(crate) fn push_row(out: &mut String, cells: &[String]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let text;
        let cell = if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            text = format!("'{cell}");
            &text
        } else {
            cell
        };
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

impl ExportDocument {
    /// Checks what a backend must not have to: the format and version, that
    /// every session's protocol is a protocol object, and that no session's
    /// log holds an event twice. [`crate::import`] calls it before anything
    /// is written.
    pub fn check(&self) -> Result<()> {
        if self.format != EXPORT_FORMAT || self.version > EXPORT_VERSION {
            return Err(bad(format!(
                "cannot import a \"{}\" document of version {} (this rollcoach reads \"{EXPORT_FORMAT}\" up to version {EXPORT_VERSION})",
                self.format, self.version
            )));
        }
        check_injuries(&self.injuries, self.exported_at)?;
        for s in &self.sessions {
            check_session(s)?;
        }
        Ok(())
    }
}

/// The injuries of a document written at `exported_at` follow the rule every
/// input of an injury follows (rollcoach_engine::check_injury_time): an
/// injury dated after it was logged, or after the document was written, was
/// dated in the future. Each has a uid (once [`ExportedInjury::fill_missing_uids`]
/// ran), none twice.
pub(crate) fn check_injuries(injuries: &[ExportedInjury], exported_at: Time) -> Result<()> {
    let mut uids: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (n, injury) in injuries.iter().enumerate() {
        if injury.uid.is_empty() {
            return Err(bad(format!(
                "injury {} ({}, logged at {}) has no \"uid\"",
                n + 1,
                injury.area,
                DisplayTime(injury.created_at)
            )));
        }
        if let Some(first) = uids.insert(&injury.uid, n) {
            return Err(bad(format!(
                "injuries {} and {} have the same uid {:?}: an injury appears once; remove one of them",
                first + 1,
                n + 1,
                injury.uid
            )));
        }
        let logged = injury.created_at.min(exported_at);
        if let Err(e) = rollcoach_engine::check_injury_time(injury.at, logged) {
            return Err(bad(format!(
                "injury {} ({}, logged at {}): {e}",
                n + 1,
                injury.area,
                DisplayTime(logged)
            )));
        }
    }
    Ok(())
}

/// What a backend must not have to check of one session: its protocol is a
/// protocol object and its log holds no event twice.
pub(crate) fn check_session(s: &ExportedSession) -> Result<()> {
    if !s.protocol.is_object() {
        return Err(bad(format!(
            "session {}: its \"protocol\" is not a protocol object",
            s.uid
        )));
    }
    let mut seqs: Vec<u32> = s.events.iter().map(|e| e.seq).collect();
    seqs.sort_unstable();
    if let Some(w) = seqs.windows(2).find(|w| w[0] == w[1]) {
        return Err(bad(format!(
            "session {}: event {} appears twice in its log",
            s.uid, w[0]
        )));
    }
    Ok(())
}

/// Everything of `person` in `store` as an export document, `exported_at` `now`.
pub fn export(store: &dyn Records, person: &PersonId, now: Time) -> Result<ExportDocument> {
    let mut sessions = Vec::new();
    let mut after: Option<ExportCursor> = None;
    loop {
        let page = store.export_sessions(person, after.as_ref(), EXPORT_PAGE)?;
        let Some((cursor, _)) = page.last() else {
            break;
        };
        after = Some(*cursor);
        let full = page.len() == EXPORT_PAGE;
        sessions.extend(page.into_iter().map(|(_, s)| s));
        if !full {
            break;
        }
    }
    Ok(ExportDocument {
        format: EXPORT_FORMAT.to_owned(),
        version: EXPORT_VERSION,
        exported_at: now,
        sessions,
        injuries: exported_injuries(store, person)?,
    })
}

/// Sessions an export reads at a time.
pub(crate) const EXPORT_PAGE: usize = 64;

/// Where a page of [`Records::export_sessions`] ends, oldest first: the
/// last session's start and the backend's own order among sessions that
/// started at once (opaque: it never leaves a store's caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExportCursor {
    /// The session's start.
    pub started_at: Time,
    /// The backend's order key for sessions with the same start.
    pub key: i64,
}

/// The injury log as an export document holds it.
pub(crate) fn exported_injuries(
    store: &dyn Records,
    person: &PersonId,
) -> Result<Vec<ExportedInjury>> {
    Ok(store
        .list_injuries(person)?
        .into_iter()
        .map(|i| ExportedInjury {
            uid: i.uid,
            area: i.area,
            at: i.at,
            note: i.note,
            created_at: i.created_at,
            cleared_at: i.cleared_at,
        })
        .collect())
}

/// A stored session as an export document holds it: `record` with its
/// protocol snapshot (`protocol_json`, as stored) and log.
pub fn exported_session(
    record: SessionRecord,
    protocol_json: &str,
    events: Vec<Event>,
) -> Result<ExportedSession> {
    let protocol = serde_json::from_str(protocol_json).map_err(|source| Corrupt::Record {
        session: record.uid.clone(),
        what: "protocol snapshot",
        source,
    })?;
    let r = record;
    Ok(ExportedSession {
        events,
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
    })
}

/// Adds the document's sessions and injuries to `person`'s records, all or
/// nothing, after [`ExportDocument::check`]: sessions whose uid the person
/// has already are skipped (reported, not an error), injuries merge by uid
/// ([`crate::rules::merge_injury`]). A session that was live when exported
/// has no driver here and stays unfinished. What it added is removed again
/// if a later write fails. For a whole file, [`crate::import_stream`] does
/// the same in short transactions with the import's checks.
pub fn import(
    store: &dyn Records,
    person: &PersonId,
    doc: &ExportDocument,
) -> Result<ImportReport> {
    doc.check()?;
    let batch = store.import_sessions(person, &doc.sessions)?;
    let injuries = match store.import_injuries(person, &doc.injuries) {
        Ok(injuries) => injuries,
        Err(e) => {
            store.remove_imported(person, &batch.added, &[])?;
            return Err(e);
        }
    };
    Ok(ImportReport {
        imported: u32::try_from(batch.added.len()).unwrap_or(u32::MAX),
        skipped: batch.skipped,
        injuries_imported: u32::try_from(injuries.added.len()).unwrap_or(u32::MAX),
        injuries_skipped: injuries.skipped,
        injuries_cleared: injuries.cleared,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13, finding 6: cells from imported data that a spreadsheet
    /// would run as formulas are written as text.
    #[test]
    fn csv_cells_that_would_be_formulas_are_written_as_text() {
        let mut out = String::new();
        let cells: Vec<String> = [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "upper-back",
            "12",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        push_row(&mut out, &cells);
        assert_eq!(
            out,
            "\"'=HYPERLINK(\"\"http://x\"\")\",'+1,'-2+3,'@SUM(A1),'\tx,upper-back,12\n"
        );
    }

    /// Issue 13, finding 4: a version 1 document's injuries (no uid) get
    /// their legacy uids, twins ranked in the document's order; a uid given
    /// is kept; a uid twice is refused.
    #[test]
    fn injuries_without_a_uid_get_their_legacy_uid_and_a_uid_twice_is_refused() {
        let doc = ExportDocument::from_json(
            r#"{"format":"rollcoach-export","version":1,"exported_at":100,"sessions":[],"injuries":[
                {"area":"neck","at":10,"note":"first","created_at":20,"cleared_at":30},
                {"area":"neck","at":10,"note":"second","created_at":20,"cleared_at":null},
                {"uid":"given","area":"neck","at":10,"note":null,"created_at":20,"cleared_at":null},
                {"uid":"","area":"neck","at":11,"note":null,"created_at":20,"cleared_at":null}]}"#,
        )
        .unwrap();
        let uids: Vec<&str> = doc.injuries.iter().map(|i| i.uid.as_str()).collect();
        assert_eq!(
            uids,
            [
                "000000000014-00000000000a-1-neck",
                "000000000014-00000000000a-2-neck",
                "given",
                "000000000014-00000000000b-1-neck",
            ]
        );
        doc.check().unwrap();
        let mut twice = doc.clone();
        twice.injuries[3].uid = "given".into();
        let err = twice.check().unwrap_err().to_string();
        assert!(
            err.contains("injuries 3 and 4 have the same uid \"given\""),
            "{err}"
        );
        let mut none = doc;
        none.injuries[0].uid.clear();
        let err = none.check().unwrap_err().to_string();
        assert!(err.contains("injury 1 (neck"), "{err}");
    }

    #[test]
    fn a_wrong_or_newer_export_document_is_refused_with_a_clear_message() {
        let err = ExportDocument::from_json("{\"hello\": 1}")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not a rollcoach export") && err.contains("missing"),
            "{err}"
        );
        let err = ExportDocument::from_json("not json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not valid JSON") && err.contains("line 1"),
            "{err}"
        );
        let err = ExportDocument::from_json(
            "{\"format\":\"rollcoach-export\",\"version\":7,\"sessions\":[]}",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("version 7") && err.contains("newer rollcoach"),
            "{err}"
        );
        let err = ExportDocument::from_json(
            "{\"format\":\"rollcoach-export\",\"version\":1,\"exported_at\":0,\"sessions\":[{}],\"injuries\":[]}",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("missing field"), "{err}");
    }
}
