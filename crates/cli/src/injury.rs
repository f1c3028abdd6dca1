//! `rollcoach injury add|list|clear`: the injury log the injury rule (the
//! handout's 48 hours) reads. The rule itself is the engine's
//! (`injury_block`, `check_injury_time`) and the areas the model's
//! (`check_area`): this module shows them, it computes no window.

use clap::Subcommand;
use rollcoach_engine::{InjuryFact, Time, injury_block};
use rollcoach_protocol::Protocol;
use rollcoach_store::{
    Area, Conflict, Injury, InjuryNote, InjuryTime, Invalid, NewInjury, PersonId, Records,
    StoreError,
};

use crate::db::{self, format_local};
use crate::{Global, UsageError};

/// `rollcoach injury` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log an injury: sessions of protocols for that area are refused within
    /// the protocol's window (48 hours for upper-back).
    Add {
        /// Body area, as the protocols name it (e.g. upper-back).
        #[arg(long)]
        area: String,
        /// When it happened [default: now]: "2h ago", "yesterday",
        /// "YYYY-MM-DD HH:MM" (local) or RFC 3339.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// A note, e.g. what happened.
        #[arg(long)]
        note: Option<String>,
    },
    /// List logged injuries, oldest first.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Clear an injury: it no longer refuses sessions (it stays listed).
    Clear {
        /// The injury's id, from `rollcoach injury list`.
        id: i64,
    },
}

/// Runs an `injury` subcommand.
pub fn run(cmd: Command, global: &Global) -> anyhow::Result<u8> {
    let now = db::now(global)?;
    match cmd {
        Command::Add { area, at, note } => add(global, &area, at.as_deref(), note.as_deref(), now),
        Command::List { json } => list(global, json, now),
        Command::Clear { id } => clear(global, id, now),
    }
}

/// Until when an injury of `area` at `at` blocks the protocols of that area
/// (the latest end over them, as the engine computes it), with that
/// protocol's window in hours; `None` when it blocks none of them now.
fn blocked_until(protocols: &[Protocol], area: &str, at: Time, now: Time) -> Option<(Time, u32)> {
    let fact = [InjuryFact { at, note: None }];
    protocols
        .iter()
        .filter(|p| p.area == area)
        .filter_map(|p| {
            injury_block(p, &fact, now)
                .map(|b| (b.allowed_at, p.screening.injury_rule.window_hours))
        })
        .max()
}

fn add(
    global: &Global,
    area: &str,
    at: Option<&str>,
    note: Option<&str>,
    now: Time,
) -> anyhow::Result<u8> {
    let area = area.trim();
    let catalog = crate::protocols::catalog(global);
    let at = match at {
        Some(text) => db::parse_time(text, now)?,
        None => now,
    };
    let db = db::open_store(global)?;
    let injury = log(db.records(), db.owner(), catalog.all(), area, at, note, now)?;
    let at = injury.at;
    outln!(
        "Logged injury {}: {} at {}.",
        injury.number,
        injury.area,
        format_local(injury.at)
    );
    match blocked_until(catalog.all(), area, at, now) {
        Some((until, hours)) => outln!(
            "Sessions for {area} are refused until {} ({hours} hours after it).",
            format_local(until)
        ),
        None => {
            let hours = catalog
                .all()
                .iter()
                .filter(|p| p.area == area)
                .map(|p| p.screening.injury_rule.window_hours)
                .max()
                .unwrap_or_default();
            outln!("It was more than {hours} hours ago: sessions for {area} are allowed.");
        }
    }
    Ok(crate::exit::OK)
}

/// Logs an injury of `area` at `at`, with the same refusals as
/// `POST /api/injuries`, sync and import (the types of
/// [`rollcoach_store::domain`]): an area no protocol covers would never
/// block anything ([`Area`]); an injury cannot be dated in the future nor
/// before 2000 ([`InjuryTime`], which may record it as now); a note holds
/// nothing a terminal acts on and at most 500 characters ([`InjuryNote`]).
/// `rollcoach injury add` and the terminal session's offer after a "yes" to
/// the recent-injury question both log through here.
pub fn log(
    store: &dyn Records,
    person: &PersonId,
    protocols: &[Protocol],
    area: &str,
    at: Time,
    note: Option<&str>,
    now: Time,
) -> anyhow::Result<Injury> {
    // Each value through its domain type: the rules `POST /api/injuries`,
    // sync and import apply, so what is logged here re-imports.
    let usage = |e: Invalid| UsageError(e.to_string());
    let area = Area::parse(protocols, area).map_err(usage)?;
    let at = InjuryTime::parse(at, now).map_err(usage)?;
    let note = InjuryNote::from_input(note).map_err(usage)?;
    Ok(store.add_injury(
        person,
        &NewInjury {
            area: area.as_str().to_owned(),
            at: at.get(),
            note: note.as_ref().map(|n| n.as_str().to_owned()),
            created_at: now,
        },
    )?)
}

fn status(i: &Injury, now: Time, protocols: &[Protocol]) -> String {
    if let Some(c) = i.cleared_at {
        return format!("cleared {}", format_local(c));
    }
    if !protocols.iter().any(|p| p.area == i.area) {
        return "active".to_owned();
    }
    match blocked_until(protocols, &i.area, i.at, now) {
        Some((until, _)) => format!("refuses sessions until {}", format_local(until)),
        None => "past its window".to_owned(),
    }
}

fn list(global: &Global, json: bool, now: Time) -> anyhow::Result<u8> {
    let db = db::open_store(global)?;
    let injuries = db.records().list_injuries(db.owner())?;
    let catalog = crate::protocols::catalog(global);
    if json {
        outln!("{}", serde_json::to_string_pretty(&injuries)?);
        return Ok(crate::exit::OK);
    }
    if injuries.is_empty() {
        outln!(
            "No injuries logged. Log one with: rollcoach injury add --area upper-back --at \"2h ago\""
        );
        return Ok(crate::exit::OK);
    }
    let rows: Vec<[String; 5]> = injuries
        .iter()
        .map(|i| {
            [
                i.number.to_string(),
                i.area.clone(),
                format_local(i.at),
                status(i, now, catalog.all()),
                i.note.clone().unwrap_or_default(),
            ]
            .map(|cell| crate::term::one_line(&cell).into_owned())
        })
        .collect();
    let header = ["ID", "AREA", "WHEN", "STATUS", "NOTE"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        outln!("{}", line.join("  ").trim_end());
    }
    Ok(crate::exit::OK)
}

fn clear(global: &Global, id: i64, now: Time) -> anyhow::Result<u8> {
    let db = db::open_store(global)?;
    let Some(found) = db
        .records()
        .list_injuries(db.owner())?
        .into_iter()
        .find(|i| i64::from(i.number) == id)
    else {
        return Err(UsageError(format!(
            "no injury with id {id}; `rollcoach injury list` shows the ids"
        ))
        .into());
    };
    match db.records().clear_injury(db.owner(), &found.uid, now) {
        Ok(i) => {
            outln!(
                "Cleared injury {} ({} at {}): it no longer refuses sessions.",
                i.number,
                i.area,
                format_local(i.at)
            );
            Ok(crate::exit::OK)
        }
        Err(StoreError::Conflict(Conflict::InjuryAlreadyCleared { cleared_at, .. })) => {
            Err(UsageError(format!(
                "injury {id} is already cleared (at {})",
                format_local(cleared_at.0)
            ))
            .into())
        }
        Err(e) => Err(e.into()),
    }
}
