//! `rollcoach protocols ...`: list, show, lint, render, schema.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Subcommand, ValueEnum};
use rollcoach_protocol::{Catalog, Origin, Protocol, ResolveError, render};

use crate::{Global, UsageError};

/// The user protocols directory: `--protocols-dir`, `ROLLCOACH_PROTOCOLS`, or
/// `<config dir>/rollcoach/protocols`.
pub fn protocols_dir(global: &Global) -> Option<PathBuf> {
    global.protocols_dir.clone().or_else(|| {
        directories::BaseDirs::new().map(|d| d.config_dir().join("rollcoach").join("protocols"))
    })
}

/// The built-in protocols plus the valid files of the user protocols directory.
pub fn catalog(global: &Global) -> Catalog {
    Catalog::load(protocols_dir(global).as_deref())
}

/// A protocol by id (built-in or user) or from a file path. An unknown id is a
/// [`UsageError`] (exit code 2) that lists the known ids; an invalid file is
/// an error with every problem, located.
pub fn resolve(global: &Global, id_or_path: &str) -> anyhow::Result<Protocol> {
    resolve_in(&catalog(global), id_or_path)
}

fn resolve_in(catalog: &Catalog, id_or_path: &str) -> anyhow::Result<Protocol> {
    match catalog.resolve(id_or_path) {
        Ok(p) => Ok(p),
        Err(e @ ResolveError::Unknown { .. }) => Err(UsageError(format!(
            "{e}\n  = hint: give a protocol id or the path of a protocol file; `rollcoach protocols list` shows them"
        ))
        .into()),
        Err(ResolveError::File(e)) => Err(anyhow::anyhow!("invalid protocol file:\n{e}")),
    }
}

const LIST_HELP: &str = "\
Built-in protocols come first, then the valid *.toml files of the protocols
directory (--protocols-dir, ROLLCOACH_PROTOCOLS, or <config dir>/rollcoach/protocols).
Problems with user files are printed on stderr; they do not hide the others.

Examples:
  rollcoach protocols list
  rollcoach protocols list --json
  rollcoach --protocols-dir ./my-protocols protocols list";

const SHOW_HELP: &str = "\
Ends with a warning for each way the protocol weakens the handout's safety
rules (no screening questions, a recent-injury question that refuses on
\"no\", an injury window under 48 hours for the upper back, no discomfort
rule); --json has them as `warnings` [{path, message, hint}].

Examples:
  rollcoach protocols show upper-back
  rollcoach protocols show ./my-protocol.toml
  rollcoach protocols show upper-back --json | jq '.reps'";

const LINT_HELP: &str = "\
Checks every file and reports every problem, each as
  path:line:column: error: message
with the source line, a caret under the problem, and a hint.

Exit codes:
  0  every file is a valid protocol
  1  at least one problem (all are printed on stderr)

Examples:
  rollcoach protocols lint my-protocol.toml
  rollcoach protocols lint protocols/*.toml";

const RENDER_HELP: &str = "\
The handout back from the protocol: reasons to consider it, instruments, the
screening and the 48-hour rule, setup steps, the movement with reps, pace and
breathing, notes, stop rules, cautions with their sources, and the credit.
HTML is one standalone file (inline CSS) that prints on A4 and Letter.
Without --format, an -o file ending in .html or .htm gives HTML, anything else Markdown.

Examples:
  rollcoach protocols render upper-back
  rollcoach protocols render upper-back --format html -o upper-back.html
  rollcoach protocols render ./my-protocol.toml --format markdown -o handout.md";

const SCHEMA_HELP: &str = "\
A JSON Schema (draft 2020-12) of the protocol file format. Editors that read
it (taplo, Even Better TOML for VS Code) complete keys and check values as you
type; see docs/protocol-format.md. Put `#:schema ./protocol.schema.json` at the
top of a protocol file to use it.

Examples:
  rollcoach protocols schema > protocol.schema.json
  rollcoach protocols schema -o ~/.config/rollcoach/protocols/protocol.schema.json";

/// `rollcoach protocols` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the built-in and user protocols: id, title, area, reps, estimated time.
    #[command(after_help = LIST_HELP)]
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show a protocol's summary, by id or from a file.
    #[command(after_help = SHOW_HELP)]
    Show {
        /// A protocol id (see `protocols list`) or the path of a protocol file.
        #[arg(value_name = "ID|FILE")]
        protocol: String,
        /// Print the validated protocol as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check protocol files and report every problem, located.
    #[command(after_help = LINT_HELP)]
    Lint {
        /// Protocol files to check.
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
    },
    /// Render a protocol as a printable handout (Markdown or HTML).
    #[command(after_help = RENDER_HELP)]
    Render {
        /// A protocol id (see `protocols list`) or the path of a protocol file.
        #[arg(value_name = "ID|FILE")]
        protocol: String,
        /// Output format.
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Write to this file instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the JSON Schema of protocol files, for editors.
    #[command(after_help = SCHEMA_HELP)]
    Schema {
        /// Write to this file instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// Handout formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Markdown.
    Markdown,
    /// One standalone HTML file.
    Html,
}

/// Runs a `protocols` subcommand.
pub fn run(cmd: Command, global: &Global) -> anyhow::Result<u8> {
    match cmd {
        Command::List { json } => list(global, json),
        Command::Show { protocol, json } => show(global, &protocol, json),
        Command::Lint { files } => Ok(lint(&files)),
        Command::Render {
            protocol,
            format,
            output,
        } => {
            let p = resolve(global, &protocol)?;
            let format =
                format.unwrap_or_else(|| match output.as_deref().and_then(Path::extension) {
                    Some(ext) if ext == "html" || ext == "htm" => Format::Html,
                    _ => Format::Markdown,
                });
            let text = match format {
                Format::Markdown => render::markdown(&p),
                Format::Html => render::html(&p),
            };
            write_out(output.as_deref(), &text)?;
            Ok(crate::exit::OK)
        }
        Command::Schema { output } => {
            let schema = serde_json::to_string_pretty(&rollcoach_protocol::json_schema())?;
            write_out(output.as_deref(), &(schema + "\n"))?;
            Ok(crate::exit::OK)
        }
    }
}

fn write_out(path: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match path {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            // Escaped for the terminal; a closed pipe ends quietly.
            out!("{text}");
            Ok(())
        }
    }
}

fn report_problems(catalog: &Catalog) {
    for problem in catalog.problems() {
        eprintln!("warning: a user protocol file was skipped:\n{problem}\n");
    }
}

fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if s >= 60 {
        format!("~{}m{:02}s", s / 60, s % 60)
    } else {
        format!("~{s}s")
    }
}

fn origin_text(catalog: &Catalog, id: &str) -> String {
    match catalog.origin(id) {
        Some(Origin::File(path)) => path.display().to_string(),
        _ => "built-in".to_string(),
    }
}

fn list(global: &Global, json: bool) -> anyhow::Result<u8> {
    let catalog = catalog(global);
    report_problems(&catalog);
    if json {
        let rows: Vec<serde_json::Value> = catalog
            .all()
            .iter()
            .map(|p| {
                serde_json::json!({
                    "id": p.id,
                    "title": p.title,
                    "area": p.area,
                    "version": p.version,
                    "reps": p.movement.reps,
                    "estimated_rolling_seconds": p.estimated_rolling_seconds(),
                    "origin": origin_text(&catalog, &p.id),
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(crate::exit::OK);
    }
    let header = ["ID", "TITLE", "AREA", "REPS", "ROLLING", "SOURCE"];
    let rows: Vec<[String; 6]> = catalog
        .all()
        .iter()
        .map(|p| {
            let r = p.movement.reps;
            [
                p.id.clone(),
                p.title.clone(),
                p.area.clone(),
                format!("{}-{} ({})", r.min, r.max, r.default),
                duration(p.estimated_rolling_seconds()),
                origin_text(&catalog, &p.id),
            ]
            .map(|cell| crate::term::one_line(&cell).into_owned())
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s
    };
    outln!("{}", line(header.to_vec()));
    for row in &rows {
        outln!("{}", line(row.iter().map(String::as_str).collect()));
    }
    Ok(crate::exit::OK)
}

fn show(global: &Global, id_or_path: &str, json: bool) -> anyhow::Result<u8> {
    let catalog = catalog(global);
    let p = resolve_in(&catalog, id_or_path)?;
    let warnings = p.safety_warnings();
    if json {
        let mut view = rollcoach_protocol::json_view(&p);
        if let Some(object) = view.as_object_mut() {
            object.insert("warnings".into(), serde_json::to_value(&warnings)?);
        }
        outln!("{}", serde_json::to_string_pretty(&view)?);
        return Ok(crate::exit::OK);
    }
    let r = p.movement.reps;
    let t = &p.movement.tempo;
    let mut out = String::new();
    out.push_str(&format!("{} ({}, version {})\n", p.title, p.id, p.version));
    out.push_str(&format!("{}\n\n", p.summary.trim()));
    out.push_str(&format!("area:        {}\n", p.area));
    let instruments: Vec<String> = p
        .instruments
        .iter()
        .map(|i| {
            if i.id == p.default_instrument {
                format!("{} (default)", i.name)
            } else {
                i.name.clone()
            }
        })
        .collect();
    out.push_str(&format!("instruments: {}\n", instruments.join(", ")));
    out.push_str(&format!(
        "reps:        {}-{}, default {}\n",
        r.min, r.max, r.default
    ));
    out.push_str(&format!(
        "tempo:       {} s per direction ({}-{} s)\n",
        t.default_seconds, t.min_seconds, t.max_seconds
    ));
    out.push_str(&format!(
        "rolling:     {} at the defaults\n",
        duration(p.estimated_rolling_seconds())
    ));
    out.push_str(&format!(
        "injury rule: no session within {} hours of an injury in the area\n",
        p.screening.injury_rule.window_hours
    ));
    out.push_str("\nscreening:\n");
    for q in &p.screening.questions {
        out.push_str(&format!("  - {}\n", q.text.trim()));
    }
    out.push_str("\nsetup:\n");
    for (i, s) in p.setup.iter().enumerate() {
        out.push_str(&format!("  {}. {}\n", i + 1, s.cue));
    }
    out.push_str("\nrates before and after:\n");
    for rating in p.ratings() {
        out.push_str(&format!("  - {}\n", rating.label));
    }
    out.push_str("\nstops at once on:\n");
    for rule in &p.stop_rules {
        out.push_str(&format!("  - {}\n", rule.id));
    }
    out.push_str(&format!("\n{}\n", p.credit.text));
    if !warnings.is_empty() {
        out.push_str("\nwarning: this protocol is weaker than the handout's safety rules:\n");
        for w in &warnings {
            out.push_str(&format!("  - {}\n    hint: {}\n", w.message, w.hint));
        }
    }
    out!("{out}");
    Ok(crate::exit::OK)
}

fn lint(files: &[PathBuf]) -> u8 {
    let mut problems = 0;
    let mut bad_files = 0;
    for path in files {
        match rollcoach_protocol::load_file(path) {
            Ok(p) => {
                outln!("{}: ok ({})", path.display(), p.id);
                // Warnings (a cue that will not fit the shortest tempo) do
                // not fail the lint.
                if let Ok(text) = std::fs::read_to_string(path) {
                    let mut warnings = rollcoach_protocol::warnings(&text, &p);
                    // And each way it weakens the built-in it derives from.
                    warnings.extend(rollcoach_protocol::derived_warnings(&text, &p));
                    if !warnings.is_empty() {
                        let shown = path.display().to_string();
                        eprintln!(
                            "{}",
                            rollcoach_protocol::diagnostic::render(&shown, &text, &warnings)
                        );
                    }
                }
            }
            Err(e) => {
                problems += e.count();
                bad_files += 1;
                eprintln!("{e}\n");
            }
        }
    }
    if problems == 0 {
        crate::exit::OK
    } else {
        eprintln!(
            "error: {problems} problem{} in {bad_files} of {} file{}",
            if problems == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        );
        crate::exit::FAILURE
    }
}
