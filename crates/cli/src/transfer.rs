//! `rollcoach export` and `rollcoach import`.
//!
//! JSON is the lossless form: every session with its protocol snapshot,
//! ratings and event log, and the injury log, in a versioned document that
//! `import` reads back. CSV is one row per session for spreadsheets (columns
//! documented on [`rollcoach_store::ExportDocument::to_csv`]). Both stream: see
//! [`rollcoach_store::write_export_json`] and [`rollcoach_store::import_stream`];
//! on a terminal, both show their progress on standard error.

use std::io::{IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rollcoach_protocol::Protocol;
use rollcoach_store::{
    Corrupt, ExportCounts, ImportRules, ImportStep, StoreError, SyncCatalog, TransferError,
};

use crate::{Global, UsageError, db};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Versioned JSON document: lossless, readable by `rollcoach import`.
    Json,
    /// One row per session with rating columns (no event logs).
    Csv,
}

/// `rollcoach export` options.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// `rollcoach import` options.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// A JSON file written by `rollcoach export --format json` (`-` reads standard input).
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

/// Runs `rollcoach export`: sessions are written as they are read, a page
/// at a time, so memory stays flat whatever the history's size.
pub fn export(args: ExportArgs, global: &Global) -> anyhow::Result<u8> {
    let now = db::now(global)?;
    let store = db::open_store(global)?;
    let total = store.records().session_count(store.owner())?;
    // Progress only on a terminal, and not over the export itself.
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let bar = progress_bar(total, "exporting", !to_terminal);
    let mut write = |out: &mut dyn Write| -> Result<ExportCounts, TransferError> {
        let mut tick = |n: u64| bar.set_position(n);
        match args.format {
            Format::Json => rollcoach_store::write_export_json(
                store.records(),
                store.owner(),
                now,
                out,
                &mut tick,
            ),
            Format::Csv => {
                rollcoach_store::write_export_csv(store.records(), store.owner(), out, &mut tick)
            }
        }
    };
    match &args.output {
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            match write(&mut lock) {
                Ok(_) => {}
                Err(TransferError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::BrokenPipe =>
                {
                    return Ok(crate::exit::OK);
                }
                Err(e) => return Err(e).context("cannot export to standard output"),
            }
            bar.finish_and_clear();
        }
        Some(path) => {
            let counts = write_atomically(path, &mut write)?;
            bar.finish_and_clear();
            eprintln!(
                "Exported {} and {} to {}.",
                count(counts.sessions, "session", "sessions"),
                count(counts.injuries, "injury", "injuries"),
                path.display()
            );
        }
    }
    Ok(crate::exit::OK)
}

/// A bar of `total` steps on standard error when it is a terminal (and
/// `show`); hidden otherwise, so nothing reaches a pipe or a log.
pub(crate) fn progress_bar(total: u64, what: &'static str, show: bool) -> ProgressBar {
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(style(COUNT_TEMPLATE));
    bar.set_message(what);
    bar
}

/// A bar counting sessions.
const COUNT_TEMPLATE: &str = "{msg} {wide_bar} {pos}/{len} sessions ({eta} left)";

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// Writes through a temporary file beside `path`, so a failed export never
/// leaves half a file where a good one was. Both are readable by their
/// owner only (0600 on Unix), as the database is: an export is the same
/// health data.
fn write_atomically(
    path: &std::path::Path,
    write: &mut dyn FnMut(&mut dyn Write) -> Result<ExportCounts, TransferError>,
) -> anyhow::Result<ExportCounts> {
    let file_name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let tmp = path.with_file_name(format!(".{}.tmp", file_name.to_string_lossy()));
    let written = create_private(&tmp)
        .map_err(|e| TransferError::Io {
            what: "cannot create the export file",
            source: e,
        })
        .and_then(|mut file| {
            let counts = write(&mut file)?;
            file.sync_all().map_err(|e| TransferError::Io {
                what: "cannot write the export",
                source: e,
            })?;
            Ok(counts)
        });
    let counts = match written {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e).with_context(|| format!("cannot write {}", path.display()));
        }
    };
    std::fs::rename(&tmp, path).with_context(|| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}", path.display())
    })?;
    Ok(counts)
}

/// A new file readable by its owner only. A file already there (the
/// temporary file a killed export left) is removed first: opening it would
/// keep its permissions, whatever they are.
fn create_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Runs `rollcoach import`: the document is read as a stream, twice (a
/// pass that checks everything, the meaning of every field and the replay
/// of every session's log included ([`rollcoach_store::ImportCheck`]), then
/// one that writes a few sessions a transaction), so memory stays flat whatever the file's size, and a
/// session running meanwhile never waits long to log an input. Standard
/// input is first copied to a temporary file to be read twice.
///
/// SIGINT, SIGTERM and SIGHUP do not end it where it is: the reading stops
/// at once, so nothing more is written, and what was written is removed, as
/// a failed import's is (see [`Stop`]).
pub fn import(args: ImportArgs, global: &Global) -> anyhow::Result<u8> {
    let stop = Stop::install()?;
    let (name, file) = if args.file.as_os_str() == "-" {
        let mut spool = tempfile::tempfile().context("cannot create a temporary file")?;
        let copied = std::io::copy(&mut stop.reader(std::io::stdin().lock()), &mut spool);
        if let Some(signal) = stop.signal() {
            return Err(stop.stopped("standard input", signal));
        }
        copied.context("cannot read standard input")?;
        ("standard input".to_owned(), spool)
    } else {
        let name = args.file.display().to_string();
        let file = std::fs::File::open(&args.file)
            .map_err(|e| UsageError(format!("cannot read {name}: {e}")))?;
        (name, file)
    };
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    // The first pass checks every field's meaning and replays every
    // session's log against these protocols, at this time.
    let now = db::now(global)?;
    let protocols = import_protocols(global);
    let catalog = SyncCatalog::new(&protocols).context("cannot prepare the protocols")?;
    let rules = ImportRules {
        catalog: &catalog,
        now,
    };
    let store = db::open_store(global)?;
    store.require_writable()?;
    let bar = progress_bar(bytes, "checking", true);
    bar.set_style(style("{msg} {wide_bar} {bytes}/{total_bytes} ({eta} left)"));
    let mut pass = 0;
    let open = || -> std::io::Result<Box<dyn Read>> {
        pass += 1;
        let mut f = file.try_clone()?;
        f.seek(SeekFrom::Start(0))?;
        if pass == 1 {
            Ok(Box::new(stop.reader(bar.wrap_read(f))))
        } else {
            Ok(Box::new(stop.reader(f)))
        }
    };
    let mut step = |s: ImportStep| match s {
        ImportStep::Checked { .. } => {}
        ImportStep::Written { done, total } => {
            if bar.message() != "importing" {
                bar.set_style(style(COUNT_TEMPLATE));
                bar.set_message("importing");
                bar.set_length(total);
                bar.set_position(0);
            }
            bar.set_position(done);
        }
        ImportStep::Undoing => bar.set_message("undoing"),
    };
    let report =
        rollcoach_store::import_stream(store.records(), store.owner(), open, rules, &mut step);
    bar.finish_and_clear();
    match (stop.signal(), &report) {
        // Stopped by the failing read: what it wrote was removed (an undo
        // that failed is another error, which says what is left).
        (Some(signal), Err(TransferError::Io { .. })) => return Err(stop.stopped(&name, signal)),
        (Some(signal), Ok(_)) => eprintln!(
            "note: {} arrived once the import had read the whole file; it is complete",
            signal_name(signal)
        ),
        _ => {}
    }
    let report = report.map_err(|e| match e {
        TransferError::Store(StoreError::Corrupt(Corrupt::Export(why))) => {
            anyhow::Error::new(UsageError(format!("{name}: {why}; nothing was imported")))
        }
        e => {
            anyhow::Error::new(e).context(format!("importing {name} failed; nothing was imported"))
        }
    })?;
    let sessions = report.imported as usize + report.skipped.len();
    let injuries = report.injuries_imported + report.injuries_skipped + report.injuries_cleared;
    outln!(
        "Imported {} of {} and {} of {} from {name}.",
        report.imported,
        count(sessions as u64, "session", "sessions"),
        report.injuries_imported,
        count(u64::from(injuries), "injury", "injuries"),
    );
    if !report.skipped.is_empty() {
        outln!(
            "Skipped {} already in the database (same uid): {}",
            count(report.skipped.len() as u64, "session", "sessions"),
            report.skipped.join(", ")
        );
    }
    if report.injuries_skipped > 0 {
        outln!(
            "Skipped {} already in the database (same uid).",
            count(u64::from(report.injuries_skipped), "injury", "injuries")
        );
    }
    if report.injuries_cleared > 0 {
        outln!(
            "Cleared {} already in the database that the file has cleared.",
            count(u64::from(report.injuries_cleared), "injury", "injuries")
        );
    }
    Ok(crate::exit::OK)
}

/// The signals that stop an import (SIGINT, SIGTERM, SIGHUP) while it
/// runs: the first one that arrives is kept, the process goes on, and every
/// read of the file through [`Stop::reader`] fails from then on. An import
/// that cannot read its file stops before its next batch and removes the
/// sessions it added (the injuries are written last, once every session
/// is in), so a stopped import leaves the database as it found it. Only
/// SIGKILL or a crash can leave part of one; importing the file again then
/// adds the rest (sessions already there are skipped by uid).
struct Stop {
    signal: Arc<AtomicUsize>,
}

impl Stop {
    fn install() -> anyhow::Result<Stop> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let signal = Arc::new(AtomicUsize::new(0));
        for s in [SIGINT, SIGTERM, SIGHUP] {
            let value = usize::try_from(s).unwrap_or(usize::MAX);
            signal_hook::flag::register_usize(s, Arc::clone(&signal), value)
                .context("cannot watch for signals")?;
        }
        Ok(Stop { signal })
    }

    /// The signal that arrived, if one has.
    fn signal(&self) -> Option<i32> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            s => Some(i32::try_from(s).unwrap_or(i32::MAX)),
        }
    }

    /// `read`, failing once a signal has arrived.
    fn reader<R: Read>(&self, read: R) -> StopReader<R> {
        StopReader {
            read,
            signal: Arc::clone(&self.signal),
        }
    }

    /// The error of an import of `name` stopped by `signal`.
    fn stopped(&self, name: &str, signal: i32) -> anyhow::Error {
        anyhow::anyhow!(
            "the import of {name} was stopped by {}; nothing was imported (the sessions it had \
             written were removed). Run the import again to import the file",
            signal_name(signal)
        )
    }
}

/// A reader that fails once a signal has arrived ([`Stop`]).
struct StopReader<R> {
    read: R,
    signal: Arc<AtomicUsize>,
}

impl<R: Read> Read for StopReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.signal.load(Ordering::SeqCst) != 0 {
            // Not `Interrupted`: readers retry that.
            return Err(std::io::Error::other("stopped by a signal"));
        }
        self.read.read(buf)
    }
}

fn signal_name(signal: i32) -> &'static str {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    match signal {
        SIGINT => "SIGINT (Ctrl-C)",
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

/// `1 session`, `2 sessions`.
/// The protocols an import checks its sessions against: the catalog's
/// (built in, and the user's files), for a [`SyncCatalog`].
pub(crate) fn import_protocols(global: &Global) -> Vec<Arc<Protocol>> {
    crate::protocols::catalog(global)
        .all()
        .iter()
        .cloned()
        .map(Arc::new)
        .collect()
}

pub(crate) fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
