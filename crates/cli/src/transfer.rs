//! `rollcoach export` and `rollcoach import`.
//!
//! JSON is the lossless form: every session with its protocol snapshot,
//! ratings and event log, and the injury log, in a versioned document that
//! `import` reads back. CSV is one row per session for spreadsheets (columns
//! documented on [`rollcoach_store::ExportDocument::to_csv`]).

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use rollcoach_store::{Corrupt, ExportDocument, StoreError};

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

/// Runs `rollcoach export`.
pub fn export(args: ExportArgs, global: &Global) -> anyhow::Result<u8> {
    let now = db::now(global)?;
    let store = db::open_store(global)?;
    let doc = store.export(now)?;
    let mut text = match args.format {
        Format::Json => doc.to_json(),
        Format::Csv => doc.to_csv(),
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    match &args.output {
        None => {
            std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .context("cannot write to standard output")?;
        }
        Some(path) => {
            write_atomically(path, text.as_bytes())?;
            eprintln!(
                "Exported {} and {} to {}.",
                count(doc.sessions.len(), "session", "sessions"),
                count(doc.injuries.len(), "injury", "injuries"),
                path.display()
            );
        }
    }
    Ok(crate::exit::OK)
}

/// Writes through a temporary file beside `path`, so a failed export never
/// leaves half a file where a good one was.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let file_name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let tmp = path.with_file_name(format!(".{}.tmp", file_name.to_string_lossy()));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}", path.display())
    })
}

/// Runs `rollcoach import`.
pub fn import(args: ImportArgs, global: &Global) -> anyhow::Result<u8> {
    let (name, text) = if args.file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read standard input")?;
        ("standard input".to_owned(), text)
    } else {
        let name = args.file.display().to_string();
        let text = std::fs::read_to_string(&args.file)
            .map_err(|e| UsageError(format!("cannot read {name}: {e}")))?;
        (name, text)
    };
    let doc = match ExportDocument::from_json(&text) {
        Ok(doc) => doc,
        Err(StoreError::Corrupt(Corrupt::Export(why))) => {
            return Err(UsageError(format!("{name}: {why}; nothing was imported")).into());
        }
        Err(e) => return Err(e.into()),
    };
    let store = db::open_store(global)?;
    let report = store.import(&doc).map_err(|e| match e {
        StoreError::Corrupt(Corrupt::Export(why)) => {
            anyhow::Error::new(UsageError(format!("{name}: {why}; nothing was imported")))
        }
        e => {
            anyhow::Error::new(e).context(format!("importing {name} failed; nothing was imported"))
        }
    })?;
    outln!(
        "Imported {} of {} and {} of {} from {name}.",
        report.imported,
        count(doc.sessions.len(), "session", "sessions"),
        report.injuries_imported,
        count(doc.injuries.len(), "injury", "injuries"),
    );
    if !report.skipped.is_empty() {
        outln!(
            "Skipped {} already in the database (same uid): {}",
            count(report.skipped.len(), "session", "sessions"),
            report.skipped.join(", ")
        );
    }
    if report.injuries_skipped > 0 {
        outln!(
            "Skipped {} already in the database (same area, time and logging time).",
            count(report.injuries_skipped as usize, "injury", "injuries")
        );
    }
    Ok(crate::exit::OK)
}

/// `1 session`, `2 sessions`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
