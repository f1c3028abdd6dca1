//! `rollcoach protocols ...`: list, show, lint, render, schema.

use std::path::PathBuf;

use clap::Subcommand;
use rollcoach_protocol::{Catalog, Protocol, ResolveError};

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
/// [`UsageError`] (exit code 2) that lists the known ids.
#[allow(dead_code, reason = "the run and serve commands use it")]
pub fn resolve(global: &Global, id_or_path: &str) -> anyhow::Result<Protocol> {
    match catalog(global).resolve(id_or_path) {
        Ok(p) => Ok(p),
        Err(e @ ResolveError::Unknown { .. }) => Err(UsageError(e.to_string()).into()),
        Err(ResolveError::File(e)) => Err(anyhow::Error::msg(e.to_string())),
    }
}

/// `rollcoach protocols` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the built-in and user protocols.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `protocols` subcommand.
pub fn run(cmd: Command, global: &Global) -> anyhow::Result<u8> {
    match cmd {
        Command::List { json } => {
            let catalog = catalog(global);
            for problem in catalog.problems() {
                eprintln!("{problem}");
            }
            if json {
                println!("{}", serde_json::to_string_pretty(catalog.all())?);
            } else {
                for p in catalog.all() {
                    println!("{}\t{}\t{}", p.id, p.title, p.area);
                }
            }
            Ok(crate::exit::OK)
        }
    }
}
