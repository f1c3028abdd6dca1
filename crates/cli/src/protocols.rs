//! `rollcoach protocols ...`: list, show, lint, render, schema.

use clap::Subcommand;

use crate::Global;

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
pub fn run(cmd: Command, _global: &Global) -> anyhow::Result<u8> {
    match cmd {
        Command::List { json } => {
            let all = rollcoach_protocol::builtin();
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                for p in all {
                    println!("{}\t{}\t{}", p.id, p.title, p.area);
                }
            }
            Ok(crate::exit::OK)
        }
    }
}
