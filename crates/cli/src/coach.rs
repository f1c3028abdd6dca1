//! `rollcoach coach add|list`: the coaches `rollcoach serve` knows (issue
//! 20).
//!
//! Like every other command these work on the database only: `coach add`
//! records the coach and a one-time sign-in link for them (a pairing link
//! of the coach's person, good for an hour) that any `serve` on the same
//! database accepts, and prints it on the address of the `serve` that runs
//! (from its runtime file), or the one given with `--url`; without either
//! it says that none runs and prints the link's path. Opening the link
//! pairs that browser as the coach's device; there the coach sets a
//! password, and signs in with it on other browsers.

use anyhow::Context;
use clap::Subcommand;

use crate::db::{self, format_local};
use crate::devices::{running_server, wall_now};
use crate::{Global, UsageError};

/// `rollcoach coach` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add a coach and print their one-time sign-in link.
    #[command(after_help = "\
Examples:
  rollcoach coach add Ana                                  # while `rollcoach serve --lan` runs
  rollcoach coach add Ana --url http://192.168.1.5:7878    # the address the coach reaches it at")]
    Add {
        /// The coach's name (unique among coaches, whatever the case): they sign in with it.
        name: String,
        /// The address the coach's browser reaches the server at [default: the one the running
        /// `rollcoach serve` on this database prints].
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
    /// List the coaches.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `rollcoach coach ...`.
pub fn run(cmd: Command, global: &Global) -> anyhow::Result<u8> {
    match cmd {
        Command::Add { name, url } => add(&name, url, global),
        Command::List { json } => list(json, global),
    }
}

fn add(name: &str, url: Option<String>, global: &Global) -> anyhow::Result<u8> {
    if let Some(url) = &url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(UsageError(format!(
            "--url {url:?} is not an http:// or https:// address, e.g. http://192.168.1.5:7878"
        ))
        .into());
    }
    rollcoach_store::check_name(name).map_err(|why| UsageError(format!("NAME: {why}")))?;
    let runtime = db::runtime_base(global)?;
    let store = db::open_store(global)?;
    store.require_writable()?;
    let made = rollcoach_server::accounts::add_coach(
        store.people(),
        store.records(),
        name,
        "the terminal (rollcoach coach add)",
        wall_now(),
    );
    let (coach, path) = match made {
        Ok(made) => made,
        Err(rollcoach_server::accounts::AddCoachError::Store(
            rollcoach_store::StoreError::Conflict(e),
        )) => return Err(UsageError(e.to_string()).into()),
        Err(e) => return Err(e).context("cannot add the coach"),
    };
    outln!(
        "Added coach {} ({}).",
        crate::term::one_line(&coach.name),
        coach.id
    );
    match url.or_else(|| running_server(&runtime)) {
        Some(base) => {
            let link = format!("{}{path}", base.trim_end_matches('/'));
            outln!(
                "Their sign-in link (one time, within an hour; there they set a password): {link}"
            );
            if let Some(qr) = rollcoach_server::lan::qr_unicode(&link) {
                outln!("{qr}");
            }
        }
        None => {
            outln!(
                "No `rollcoach serve` is running on {}: start one within an hour and open {path} \
                 on its address (one time; there the coach sets a password), or run this again with \
                 --url for a full link.",
                store.location()
            );
        }
    }
    Ok(crate::exit::OK)
}

fn list(json: bool, global: &Global) -> anyhow::Result<u8> {
    let store = db::open_store(global)?;
    let coaches = store.people().coaches()?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&coaches)?);
        return Ok(crate::exit::OK);
    }
    if coaches.is_empty() {
        outln!("No coaches. `rollcoach coach add NAME` adds one.");
        return Ok(crate::exit::OK);
    }
    outln!("{:<20} {:<30} {:<17} CLIENTS", "ID", "NAME", "ADDED");
    for c in &coaches {
        let clients = store.people().clients(&c.id)?.len();
        outln!(
            "{:<20} {:<30} {:<17} {clients}",
            c.id.as_str(),
            crate::term::one_line(&c.name),
            format_local(c.created_at)
        );
    }
    Ok(crate::exit::OK)
}
