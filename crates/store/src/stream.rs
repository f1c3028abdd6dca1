//! Streaming export and import (issue 14): the export document written as
//! the sessions are read, a page at a time, and read back as a stream, so
//! memory stays bounded whatever the history's size; and the whole history
//! in one compact document.
//!
//! - [`write_export_json`] writes exactly what [`ExportDocument::to_json`]
//!   would (the same pretty JSON, byte for byte), reading
//!   [`Records::export_sessions`] pages of [`EXPORT_PAGE`] sessions;
//!   [`write_export_csv`] does the same for [`ExportDocument::to_csv`].
//! - [`import_stream`] reads the document twice: a first pass checks every
//!   session and injury, what each field means and each session's log
//!   replayed included ([`crate::ImportCheck`]; nothing is written), a
//!   second reads the same bytes again (or refuses) and writes them in short
//!   transactions ([`Records::import_sessions`], a few sessions each) with a
//!   pause after each, so a session logging inputs into the same database
//!   never waits long for the write lock. If the second pass fails, what it
//!   added is removed ([`Records::remove_imported`]): an import that reports
//!   an error leaves nothing. (A process killed during the second pass
//!   leaves the whole sessions it wrote; importing the file again skips
//!   them by uid and adds the rest.)

use std::cell::{Cell, RefCell};
use std::collections::hash_map::{DefaultHasher, RandomState};
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use rollcoach_engine::{RatingResult, Time};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::export::{
    EXPORT_PAGE, check_injuries, check_session, csv_header, csv_row, exported_injuries, push_row,
};
use crate::{
    Corrupt, EXPORT_FORMAT, EXPORT_VERSION, ExportCursor, ExportedInjury, ExportedSession,
    ImportCheck, ImportReport, ImportRules, PersonId, Records, SessionRecord, StoreError,
    rating_series,
};

/// What went wrong in a streamed export or import: the store, or the
/// stream itself (the output could not be written, the input read).
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The store failed, or (import) the document is not one it can take:
    /// [`Corrupt::Export`] names the problem.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the output or reading the input failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being read or written.
        what: &'static str,
        /// The error.
        #[source]
        source: io::Error,
    },
}

fn bad(why: String) -> TransferError {
    TransferError::Store(Corrupt::Export(why).into())
}

/// What a streamed export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportCounts {
    /// Sessions written.
    pub sessions: u64,
    /// Injuries written.
    pub injuries: u64,
}

/// What [`Records::import_sessions`] did with a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportedBatch {
    /// The uids of the sessions it added.
    pub added: Vec<String>,
    /// The uids of the sessions it skipped (already in the store).
    pub skipped: Vec<String>,
}

/// What [`Records::import_injuries`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportedInjuries {
    /// The uids of the injuries it added.
    pub added: Vec<String>,
    /// How many it skipped (already in the store, same uid, nothing to change).
    pub skipped: u32,
    /// How many it cleared (already in the store, same uid, not cleared
    /// there but cleared in the document).
    pub cleared: u32,
}

/// Where a streamed import is, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStep {
    /// The first pass (checking) has read `sessions` sessions.
    Checked {
        /// Sessions read so far.
        sessions: u64,
    },
    /// The second pass has written `done` of `total` sessions.
    Written {
        /// Sessions written (added or skipped) so far.
        done: u64,
        /// Sessions in the document.
        total: u64,
    },
    /// The second pass failed; removing what it added.
    Undoing,
}

/// Most sessions an import writes in one transaction.
const IMPORT_BATCH_SESSIONS: usize = 8;
/// Most logged inputs an import writes in one transaction: with the
/// sessions' rows and ratings, about a millisecond of writing.
const IMPORT_BATCH_EVENTS: usize = 200;
/// Most ids removed in one transaction by an import's undo.
const UNDO_BATCH: usize = 256;
/// The pause after each import transaction, as a multiple of how long the
/// transaction held the write lock, and at least [`MIN_PAUSE`]: a writer of
/// another connection waiting for the lock (SQLite retries after 1, 2, 5,
/// ... ms) then finds it free at its next try, and a session's input goes
/// first.
const PAUSE_FACTOR: u32 = 3;
/// The shortest pause after an import transaction.
const MIN_PAUSE: Duration = Duration::from_millis(2);

// ----- export ---------------------------------------------------------------

/// A [`Write`] that keeps its first error, so that an export can report
/// an I/O error as such (serde_json folds it into its own error).
struct KeepError<'a> {
    out: &'a mut dyn Write,
    error: Option<io::Error>,
}

impl Write for KeepError<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf).inspect_err(|e| {
            self.error = Some(io::Error::new(e.kind(), e.to_string()));
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush().inspect_err(|e| {
            self.error = Some(io::Error::new(e.kind(), e.to_string()));
        })
    }
}

/// The export document as a serde value whose `sessions` are read from the
/// store while they are serialized.
struct Streamed<'a, 'p> {
    store: &'a dyn Records,
    person: &'a PersonId,
    now: Time,
    injuries: &'a [ExportedInjury],
    failed: &'a RefCell<Option<StoreError>>,
    count: &'a Cell<u64>,
    progress: &'a RefCell<&'p mut dyn FnMut(u64)>,
}

struct StreamedSessions<'a, 'p, 'b>(&'b Streamed<'a, 'p>);

impl Serialize for Streamed<'_, '_> {
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        // The fields of `ExportDocument`, in its order.
        let mut doc = serializer.serialize_struct("ExportDocument", 5)?;
        doc.serialize_field("format", EXPORT_FORMAT)?;
        doc.serialize_field("version", &EXPORT_VERSION)?;
        doc.serialize_field("exported_at", &self.now)?;
        doc.serialize_field("sessions", &StreamedSessions(self))?;
        doc.serialize_field("injuries", self.injuries)?;
        doc.end()
    }
}

impl Serialize for StreamedSessions<'_, '_, '_> {
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let d = self.0;
        let mut seq = serializer.serialize_seq(None)?;
        // Each distinct snapshot once (version 3).
        let mut seen = crate::snapshots::SnapshotsSeen::default();
        for_each_page(d.store, d.person, |page| {
            for (_, session) in page {
                let same_as = seen.same_as(session);
                seq.serialize_element(&crate::snapshots::DocSessionRef::new(
                    session,
                    same_as.as_deref(),
                ))
                .map_err(Stop::Ser)?;
            }
            d.count.set(d.count.get() + page.len() as u64);
            (d.progress.borrow_mut())(d.count.get());
            Ok(())
        })
        .map_err(|stop| match stop {
            Stop::Ser(e) => e,
            Stop::Store(e) => {
                *d.failed.borrow_mut() = Some(e);
                serde::ser::Error::custom("the store failed")
            }
        })?;
        seq.end()
    }
}

enum Stop<E> {
    Ser(E),
    Store(StoreError),
}

/// Calls `f` with every page of [`Records::export_sessions`], oldest first.
fn for_each_page<E>(
    store: &dyn Records,
    person: &PersonId,
    mut f: impl FnMut(&[(ExportCursor, ExportedSession)]) -> Result<(), Stop<E>>,
) -> Result<(), Stop<E>> {
    let mut after = None;
    loop {
        let page = store
            .export_sessions(person, after.as_ref(), EXPORT_PAGE)
            .map_err(Stop::Store)?;
        let Some((cursor, _)) = page.last() else {
            return Ok(());
        };
        after = Some(*cursor);
        f(&page)?;
        if page.len() < EXPORT_PAGE {
            return Ok(());
        }
    }
}

fn io_error(what: &'static str, source: io::Error) -> TransferError {
    TransferError::Io { what, source }
}

/// Writes everything of `person` in `store` as the export document
/// ([`ExportDocument::to_json`]'s pretty JSON, `exported_at` `now`, with a
/// final newline) to `out`, reading the sessions a page at a time: memory
/// does not grow with the history. `progress` gets the number of sessions
/// written after each page.
///
/// [`ExportDocument::to_json`]: crate::ExportDocument::to_json
pub fn write_export_json(
    store: &dyn Records,
    person: &PersonId,
    now: Time,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<ExportCounts, TransferError> {
    let injuries = exported_injuries(store, person)?;
    let failed = RefCell::new(None);
    let count = Cell::new(0);
    let progress = RefCell::new(progress);
    let doc = Streamed {
        store,
        person,
        now,
        injuries: &injuries,
        failed: &failed,
        count: &count,
        progress: &progress,
    };
    let mut counted = KeepError { out, error: None };
    let written = {
        let mut buffered = io::BufWriter::with_capacity(64 * 1024, &mut counted);
        let mut ser = serde_json::Serializer::pretty(&mut buffered);
        doc.serialize(&mut ser)
            .and_then(|()| buffered.write_all(b"\n").map_err(serde_json::Error::io))
            .and_then(|()| buffered.flush().map_err(serde_json::Error::io))
    };
    if let Some(e) = failed.take() {
        return Err(e.into());
    }
    if let Err(e) = written {
        let source = counted
            .error
            .take()
            .unwrap_or_else(|| io::Error::other(e.to_string()));
        return Err(io_error("cannot write the export", source));
    }
    Ok(ExportCounts {
        sessions: count.get(),
        injuries: injuries.len() as u64,
    })
}

/// Writes every session of `store` as CSV ([`ExportDocument::to_csv`]'s
/// columns and rows, oldest first) to `out`, a page at a time.
///
/// [`ExportDocument::to_csv`]: crate::ExportDocument::to_csv
pub fn write_export_csv(
    store: &dyn Records,
    person: &PersonId,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<ExportCounts, TransferError> {
    let rating_ids = store.rating_ids(person)?;
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    let mut line = String::new();
    push_row(&mut line, &csv_header(&rating_ids));
    let mut count = 0u64;
    for_each_page(store, person, |page| {
        for (_, s) in page {
            push_row(&mut line, &csv_row(s, &rating_ids));
        }
        count += page.len() as u64;
        out.write_all(line.as_bytes()).map_err(Stop::Ser)?;
        line.clear();
        progress(count);
        Ok(())
    })
    .map_err(|stop| match stop {
        Stop::Ser(e) => io_error("cannot write the export", e),
        Stop::Store(e) => e.into(),
    })?;
    out.write_all(line.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| io_error("cannot write the export", e))?;
    Ok(ExportCounts {
        sessions: count,
        injuries: 0,
    })
}

// ----- import ---------------------------------------------------------------

/// The top of an export document, as [`read_export`] found it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportHeader {
    /// When it was exported.
    pub exported_at: Time,
    /// Sessions in it.
    pub sessions: u64,
    /// Its injuries (few: they are kept in memory), each with a uid
    /// ([`ExportedInjury::fill_missing_uids`] gave one to those without).
    pub injuries: Vec<ExportedInjury>,
}

#[derive(Default)]
struct Header {
    format: Option<Value>,
    version: Option<Value>,
    exported_at: Option<Time>,
    sessions: Option<u64>,
    injuries: Option<Vec<ExportedInjury>>,
}

impl Header {
    /// The refusal of a document that is not a rollcoach export of a
    /// version this one reads, if it is one.
    fn refusal(&self) -> Option<TransferError> {
        let format = self.format.as_ref().and_then(Value::as_str);
        if format != Some(EXPORT_FORMAT) {
            return Some(bad(format!(
                "not a rollcoach export (its \"format\" is {}, expected \"{EXPORT_FORMAT}\"); \
                 import reads files written by `rollcoach export --format json`",
                format.map_or("missing".to_owned(), |f| format!("\"{f}\""))
            )));
        }
        match self.version.as_ref().and_then(Value::as_u64) {
            Some(v) if v <= u64::from(EXPORT_VERSION) => None,
            Some(v) => Some(bad(format!(
                "this export is version {v}, written by a newer rollcoach; this one reads up to \
                 version {EXPORT_VERSION}. Upgrade rollcoach to import it"
            ))),
            None => Some(bad("the export has no \"version\" number".to_owned())),
        }
    }
}

type OnSession<'a> = &'a mut dyn FnMut(ExportedSession) -> Result<(), TransferError>;

struct DocVisitor<'a, 'f> {
    header: &'a mut Header,
    on_session: &'a mut OnSession<'f>,
    failed: &'a RefCell<Option<TransferError>>,
    index: &'a Cell<u64>,
    /// Reading the sessions.
    inside: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for DocVisitor<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a rollcoach export document (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let fail = |e: TransferError| -> A::Error {
            *self.failed.borrow_mut() = Some(e);
            de::Error::custom("refused")
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => {
                    let format: Value = map.next_value()?;
                    let wrong = format.as_str() != Some(EXPORT_FORMAT);
                    self.header.format = Some(format);
                    if wrong && let Some(e) = self.header.refusal() {
                        return Err(fail(e));
                    }
                }
                "version" => {
                    self.header.version = Some(map.next_value()?);
                    if self.header.format.is_some()
                        && let Some(e) = self.header.refusal()
                    {
                        return Err(fail(e));
                    }
                }
                "exported_at" => self.header.exported_at = Some(map.next_value()?),
                "sessions" => {
                    // The sessions are only read once the document is known
                    // to be an export this rollcoach reads.
                    if self.header.format.is_none() || self.header.version.is_none() {
                        return Err(fail(bad(
                            "the export's \"sessions\" come before its \"format\" and \"version\"; \
                             import reads those first: put them at the top of the document, as \
                             `rollcoach export` writes them"
                                .to_owned(),
                        )));
                    }
                    if let Some(e) = self.header.refusal() {
                        return Err(fail(e));
                    }
                    self.inside.set(true);
                    // Only a version 3 document names earlier snapshots:
                    // an older one's sessions each carry theirs, and none
                    // is kept.
                    let refs = self
                        .header
                        .version
                        .as_ref()
                        .and_then(Value::as_u64)
                        .is_some_and(|v| v >= 3);
                    map.next_value_seed(SessionsSeed {
                        refs,
                        on_session: &mut *self.on_session,
                        failed: self.failed,
                        index: self.index,
                    })?;
                    self.inside.set(false);
                    self.header.sessions = Some(self.index.get());
                }
                "injuries" => self.header.injuries = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct SessionsSeed<'a, 'f> {
    /// Whether sessions may name an earlier one's snapshot (version 3).
    refs: bool,
    on_session: &'a mut OnSession<'f>,
    failed: &'a RefCell<Option<TransferError>>,
    index: &'a Cell<u64>,
}

impl<'de> DeserializeSeed<'de> for SessionsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SessionsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of sessions")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // A version 3 session may name an earlier one's snapshot.
        let mut snapshots = crate::snapshots::SnapshotsRead::new(self.refs);
        while let Some(session) = seq.next_element::<crate::snapshots::DocSession>()? {
            self.index.set(self.index.get() + 1);
            let session = match snapshots.resolve(session) {
                Ok(s) => s,
                Err(why) => {
                    *self.failed.borrow_mut() =
                        Some(bad(format!("session {}: {why}", self.index.get())));
                    return Err(de::Error::custom("refused"));
                }
            };
            if let Err(e) = (self.on_session)(session) {
                *self.failed.borrow_mut() = Some(e);
                return Err(de::Error::custom("refused"));
            }
        }
        Ok(())
    }
}

/// Reads an export document from `input` as a stream: `on_session` gets each
/// session as it is read (so memory holds one at a time), after the
/// document's format and version are checked. Gives the rest of the
/// document, or a clear error: [`Corrupt::Export`] naming what is wrong and
/// where (session number, line and column), or [`TransferError::Io`].
/// Checks nothing of the sessions themselves (that is `on_session`'s job).
pub fn read_export(
    input: impl Read,
    mut on_session: OnSession<'_>,
) -> Result<ExportHeader, TransferError> {
    let mut header = Header::default();
    let failed = RefCell::new(None);
    let index = Cell::new(0);
    let inside = Cell::new(false);
    let mut de =
        serde_json::Deserializer::from_reader(io::BufReader::with_capacity(64 * 1024, input));
    let read = DocVisitor {
        header: &mut header,
        on_session: &mut on_session,
        failed: &failed,
        index: &index,
        inside: &inside,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    if let Some(e) = failed.take() {
        return Err(e);
    }
    if let Err(e) = read {
        // serde_json gives the line and column; the session's number helps too.
        let in_session = if inside.get() && !e.is_eof() {
            format!("session {}: ", index.get() + 1)
        } else {
            String::new()
        };
        return Err(match e.classify() {
            serde_json::error::Category::Io => {
                io_error("cannot read the export", io::Error::other(e.to_string()))
            }
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                bad(format!("{in_session}not valid JSON: {e}"))
            }
            serde_json::error::Category::Data => bad(format!(
                "{in_session}the export does not fit version {EXPORT_VERSION}: {e}"
            )),
        });
    }
    if let Some(e) = header.refusal() {
        return Err(e);
    }
    let missing = |field: &str| {
        bad(format!(
            "the export does not fit version {EXPORT_VERSION}: missing field `{field}`"
        ))
    };
    let mut injuries = header.injuries.ok_or_else(|| missing("injuries"))?;
    ExportedInjury::fill_missing_uids(&mut injuries);
    Ok(ExportHeader {
        exported_at: header.exported_at.ok_or_else(|| missing("exported_at"))?,
        sessions: header.sessions.ok_or_else(|| missing("sessions"))?,
        injuries,
    })
}

/// Imports the export document that `open` reads (it is called twice, and
/// must give the same bytes both times), all or nothing, writing in short
/// transactions: see the module docs. Every session and injury is first
/// checked against `rules` ([`crate::ImportCheck`]: the protocols known, and
/// now); a refusal is a [`Corrupt::Export`] naming the session or injury, the
/// field and the fix. `progress` hears where it is.
pub fn import_stream<R: Read>(
    store: &dyn Records,
    person: &PersonId,
    mut open: impl FnMut() -> io::Result<R>,
    rules: ImportRules<'_>,
    progress: &mut dyn FnMut(ImportStep),
) -> Result<ImportReport, TransferError> {
    // Pass 1: check everything, each session as it is read ([`ImportCheck`]);
    // write nothing.
    let keys = RandomState::new();
    let mut input = Digest {
        input: open().map_err(|e| io_error("cannot read the export", e))?,
        hash: keys.build_hasher(),
    };
    let mut check = ImportCheck::new(rules);
    let header = read_export(&mut input, &mut |s| {
        check_session(&s)?;
        check.session(&s).map_err(StoreError::from)?;
        let checked = check.sessions();
        if checked.is_multiple_of(64) {
            progress(ImportStep::Checked { sessions: checked });
        }
        Ok(())
    })?;
    progress(ImportStep::Checked {
        sessions: check.sessions(),
    });
    check
        .exported_at(header.exported_at)
        .and_then(|()| check.injuries(&header.injuries, header.exported_at))
        .map_err(StoreError::from)?;
    // And none twice.
    check_injuries(&header.injuries, header.exported_at)?;

    // Pass 2: write, a few sessions a transaction; undo on failure.
    let mut added: Vec<String> = Vec::new();
    let mut report = ImportReport::default();
    let first = input.hash.finish();
    let written = write_pass(
        store,
        person,
        &mut open,
        (&header, first, &keys),
        &mut added,
        &mut report,
        progress,
    );
    let injuries = written.and_then(|()| Ok(store.import_injuries(person, &header.injuries)?));
    match injuries {
        Ok(injuries) => {
            report.injuries_imported = u32::try_from(injuries.added.len()).unwrap_or(u32::MAX);
            report.injuries_skipped = injuries.skipped;
            report.injuries_cleared = injuries.cleared;
            Ok(report)
        }
        Err(e) => {
            progress(ImportStep::Undoing);
            for chunk in added.chunks(UNDO_BATCH) {
                let held = Instant::now();
                if let Err(undo) = store.remove_imported(person, chunk, &[]) {
                    return Err(bad(format!(
                        "{e}; removing the sessions imported before that failed too ({undo}): \
                         importing the file again adds the rest"
                    )));
                }
                pause(held.elapsed());
            }
            Err(e)
        }
    }
}

fn pause(held: Duration) {
    std::thread::sleep((held * PAUSE_FACTOR).max(MIN_PAUSE));
}

/// A reader that hashes what it reads: the second pass of an import must
/// read the very bytes the first pass checked.
struct Digest<R> {
    input: R,
    hash: DefaultHasher,
}

impl<R: Read> Read for Digest<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.input.read(buf)?;
        self.hash.write(&buf[..n]);
        Ok(n)
    }
}

fn write_pass<R: Read>(
    store: &dyn Records,
    person: &PersonId,
    open: &mut impl FnMut() -> io::Result<R>,
    (header, first, keys): (&ExportHeader, u64, &RandomState),
    added: &mut Vec<String>,
    report: &mut ImportReport,
    progress: &mut dyn FnMut(ImportStep),
) -> Result<(), TransferError> {
    let total = header.sessions;
    let mut input = Digest {
        input: open().map_err(|e| io_error("cannot read the export again", e))?,
        hash: keys.build_hasher(),
    };
    let mut batch: Vec<ExportedSession> = Vec::with_capacity(IMPORT_BATCH_SESSIONS);
    let mut events = 0usize;
    let mut done = 0u64;
    let mut flush =
        |batch: &mut Vec<ExportedSession>, done: &mut u64| -> Result<(), TransferError> {
            if batch.is_empty() {
                return Ok(());
            }
            let held = Instant::now();
            let b = store.import_sessions(person, batch)?;
            let held = held.elapsed();
            added.extend(b.added.iter().cloned());
            report.imported += u32::try_from(b.added.len()).unwrap_or(u32::MAX);
            report.skipped.extend(b.skipped);
            *done += batch.len() as u64;
            batch.clear();
            progress(ImportStep::Written { done: *done, total });
            pause(held);
            Ok(())
        };
    let second = read_export(&mut input, &mut |s| {
        check_session(&s)?;
        events += s.events.len();
        batch.push(s);
        if batch.len() >= IMPORT_BATCH_SESSIONS || events >= IMPORT_BATCH_EVENTS {
            events = 0;
            flush(&mut batch, &mut done)?;
        }
        Ok(())
    })?;
    flush(&mut batch, &mut done)?;
    if second.sessions != total
        || second.injuries != header.injuries
        || input.hash.finish() != first
    {
        return Err(bad(
            "the file changed while it was being imported; import it again".to_owned(),
        ));
    }
    Ok(())
}

// ----- the whole history in one document ------------------------------------

/// One session in the compact history ([`write_history_rows`]): what a list
/// of sessions shows; the rest is one request away
/// (`GET /api/sessions/{id}`).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    /// Globally unique id.
    pub uid: String,
    /// The protocol's id.
    pub protocol_id: String,
    /// When it started.
    pub started_at: Time,
    /// How long it took (unknown while live).
    pub duration_ms: Option<u64>,
    /// How it ended (`completed`, `stopped`, `refused`, `interrupted`;
    /// `None` while live).
    pub outcome: Option<String>,
    /// Short reason id of a stop or refusal.
    pub reason: Option<String>,
    /// Reps done.
    pub reps_done: Option<u32>,
    /// Reps planned.
    pub reps_target: u32,
    /// Ratings with a value.
    pub ratings: Vec<RatingResult>,
}

impl From<SessionRecord> for HistoryRow {
    fn from(r: SessionRecord) -> HistoryRow {
        HistoryRow {
            duration_ms: r.duration_ms(),
            uid: r.uid,
            protocol_id: r.protocol_id,
            started_at: r.started_at,
            outcome: r.outcome.as_ref().map(|o| o.kind().to_owned()),
            reason: r.reason,
            reps_done: r.reps_done,
            reps_target: r.reps_target,
            ratings: r.ratings,
        }
    }
}

/// The columns of a compact history row, in order: a session is named by
/// its uid (its row id stays in the store).
pub const HISTORY_COLUMNS: [&str; 9] = [
    "uid",
    "protocol",
    "started_at",
    "duration_ms",
    "outcome",
    "reason",
    "reps_done",
    "reps_target",
    "ratings",
];

/// A row as a JSON array in [`HISTORY_COLUMNS`] order, its ratings a flat
/// `[before, after, ...]` array in the order of `rating_ids`.
struct RowArray<'a> {
    row: &'a HistoryRow,
    rating_ids: &'a [String],
}

impl Serialize for RowArray<'_> {
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let r = self.row;
        let mut seq = serializer.serialize_seq(Some(HISTORY_COLUMNS.len()))?;
        seq.serialize_element(&r.uid)?;
        seq.serialize_element(&r.protocol_id)?;
        seq.serialize_element(&r.started_at)?;
        seq.serialize_element(&r.duration_ms)?;
        seq.serialize_element(&r.outcome)?;
        seq.serialize_element(&r.reason)?;
        seq.serialize_element(&r.reps_done)?;
        seq.serialize_element(&r.reps_target)?;
        let ratings: Vec<Option<u8>> = self
            .rating_ids
            .iter()
            .flat_map(|id| {
                let v = r.ratings.iter().find(|x| &x.id == id);
                [v.and_then(|v| v.before), v.and_then(|v| v.after)]
            })
            .collect();
        seq.serialize_element(&ratings)?;
        seq.end()
    }
}

/// Sessions [`write_history_rows`] reads at a time.
const HISTORY_ROWS_PAGE: usize = 500;

/// Writes every session's summary, newest first, as one compact JSON
/// document to `out`, reading [`Records::history_rows`] a page at a time:
///
/// ```json
/// {"columns":["uid","protocol","started_at","duration_ms","outcome","reason","reps_done","reps_target","ratings"],
///  "rating_ids":["mobility","stiffness"],
///  "sessions":[["019...-...","upper-back",1700000000000,301000,"completed",null,8,8,[3,5,2,4]], ...],
///  "total":3650}
/// ```
///
/// Each row is an array in `columns` order; its `ratings` are `before,
/// after` for each of `rating_ids` (null: skipped or not reached). With
/// `charts`, a `charts` field follows: [`rating_series`] of the last
/// `chart_sessions` sessions, as the paged history gives them. Returns how
/// many sessions it wrote.
pub fn write_history_rows(
    store: &dyn Records,
    person: &PersonId,
    out: &mut dyn Write,
    charts: Option<usize>,
) -> Result<u64, TransferError> {
    let rating_ids = store.rating_ids(person)?;
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    let w = |e: io::Error| io_error("cannot write the history", e);
    write!(
        out,
        "{{\"columns\":{},\"rating_ids\":{},\"sessions\":[",
        json(&HISTORY_COLUMNS),
        json(&rating_ids)
    )
    .map_err(w)?;
    let mut before: Option<String> = None;
    let mut total = 0u64;
    loop {
        let page = store.history_rows(person, HISTORY_ROWS_PAGE, before.as_deref())?;
        for row in &page {
            if total > 0 {
                out.write_all(b",\n").map_err(w)?;
            } else {
                out.write_all(b"\n").map_err(w)?;
            }
            serde_json::to_writer(
                &mut out,
                &RowArray {
                    row,
                    rating_ids: &rating_ids,
                },
            )
            .map_err(|e| w(io::Error::other(e)))?;
            total += 1;
        }
        before = page.last().map(|r| r.uid.clone());
        if page.len() < HISTORY_ROWS_PAGE {
            break;
        }
    }
    write!(out, "],\"total\":{total}").map_err(w)?;
    if let Some(n) = charts {
        let points = store.history_points(person)?;
        write!(out, ",\"charts\":{}", json(&rating_series(&points, n))).map_err(w)?;
    }
    out.write_all(b"}\n").map_err(w)?;
    out.flush().map_err(w)?;
    Ok(total)
}

/// A small value as JSON text.
fn json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}
