//! `rollcoach history`: past sessions, a summary and a chart of the ratings.

use std::collections::HashMap;

use rollcoach_engine::RatingResult;
use rollcoach_store::{
    HistorySummary, RatingSeries, SeriesPoint, SessionOutcome, SessionRecord, rating_series,
    summarize,
};
use serde::Serialize;

use crate::Global;
use crate::db::{self, format_local};

/// `rollcoach history` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON (`{"sessions": [...], "summary": {...}}`) instead of text.
    #[arg(long)]
    json: bool,
    /// Show at most N sessions, newest first (the summary covers all).
    #[arg(long, value_name = "N", default_value_t = 20)]
    limit: usize,
}

#[derive(Serialize)]
struct Report<'a> {
    sessions: &'a [SessionRecord],
    summary: &'a HistorySummary,
}

/// What the catalog says about a rating: its label and direction.
struct RatingInfo {
    label: String,
    higher_is_better: Option<bool>,
}

fn rating_infos(global: &Global) -> HashMap<String, RatingInfo> {
    let mut out = HashMap::new();
    for p in crate::protocols::catalog(global).all() {
        for r in p.ratings() {
            out.entry(r.id.clone()).or_insert_with(|| RatingInfo {
                label: r.label.clone(),
                higher_is_better: Some(r.higher_is_better),
            });
        }
    }
    out
}

/// Runs `rollcoach history`.
pub fn run(args: Args, global: &Global) -> anyhow::Result<u8> {
    let now = db::now(global)?;
    let store = db::open_store(global)?;
    // Every session for the summary and the charts, in its light form; full
    // records only for the rows shown.
    let points = store.records().history_points(store.owner())?;
    let summary = summarize(&points, now, &db::local_tz());
    let shown = store
        .records()
        .history_page(store.owner(), args.limit, None)?;
    if args.json {
        let report = Report {
            sessions: &shown,
            summary: &summary,
        };
        outln!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(crate::exit::OK);
    }
    if points.is_empty() {
        outln!("No sessions yet. Start one with: rollcoach run upper-back");
        return Ok(crate::exit::OK);
    }
    let infos = rating_infos(global);
    let label = |id: &str| {
        infos
            .get(id)
            .map_or_else(|| id.to_owned(), |i| i.label.clone())
    };
    print_table(&shown, &label, crate::protocols::catalog(global).all());
    if shown.len() < points.len() {
        outln!(
            "({} older sessions not shown; use --limit)",
            points.len() - shown.len()
        );
    }
    outln!();
    print_summary(&summary, &infos, &label);
    print_charts(&rating_series(&points, CHART_WIDTH), &label);
    Ok(crate::exit::OK)
}

/// The outcome in words, with no internal ids: a stop reason in words, a
/// refusing answer as its question's text (from the catalog).
fn outcome_text(r: &SessionRecord, protocols: &[rollcoach_protocol::Protocol]) -> String {
    use rollcoach_engine::RefusalReason;
    let Some(o) = &r.outcome else {
        return "in progress".to_owned();
    };
    let why = match o {
        SessionOutcome::Completed | SessionOutcome::Interrupted => None,
        SessionOutcome::Stopped { reason } => {
            Some(crate::run::render::stop_reason_words(*reason).to_owned())
        }
        SessionOutcome::Refused {
            reason: RefusalReason::RecentInjury { .. },
        } => Some("injury in the log".to_owned()),
        SessionOutcome::Refused {
            reason: RefusalReason::Answer { question },
        } => Some(
            protocols
                .iter()
                .filter(|p| p.id == r.protocol_id)
                .flat_map(|p| &p.screening.questions)
                .find(|q| &q.id == question && q.injury_window)
                .and_then(|q| protocols.iter().find(|p| p.screening.questions.contains(q)))
                .map_or_else(
                    || "your answer to a safety question".to_owned(),
                    |p| {
                        format!(
                            "injured in the past {} hours",
                            p.screening.injury_rule.window_hours
                        )
                    },
                ),
        ),
    };
    match why {
        Some(why) => format!("{}: {why}", o.kind()),
        None => o.kind().to_owned(),
    }
}

fn duration_text(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

fn value_text(v: Option<u8>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| v.to_string())
}

fn ratings_text(ratings: &[RatingResult], label: &impl Fn(&str) -> String) -> String {
    ratings
        .iter()
        .map(|r| {
            format!(
                "{} {} → {}",
                label(&r.id),
                value_text(r.before),
                value_text(r.after)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn print_table(
    records: &[SessionRecord],
    label: &impl Fn(&str) -> String,
    protocols: &[rollcoach_protocol::Protocol],
) {
    let header = [
        "DATE",
        "PROTOCOL",
        "OUTCOME",
        "REPS",
        "TIME",
        "RATINGS (before → after)",
    ]
    .map(str::to_owned);
    let rows: Vec<[String; 6]> = records
        .iter()
        .map(|r| {
            let reps = match (&r.outcome, r.reps_done) {
                (Some(SessionOutcome::Refused { .. }), _) | (None, _) => "–".to_owned(),
                (_, Some(done)) => format!("{done}/{}", r.reps_target),
                (_, None) => "–".to_owned(),
            };
            [
                format_local(r.started_at),
                r.protocol_id.clone(),
                outcome_text(r, protocols),
                reps,
                r.duration_ms()
                    .map_or_else(|| "–".to_owned(), duration_text),
                ratings_text(&r.ratings, label),
            ]
            .map(|cell| crate::term::one_line(&cell).into_owned())
        })
        .collect();
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| {
                let pad = w.saturating_sub(cell.chars().count());
                format!("{cell}{}", " ".repeat(pad))
            })
            .collect();
        outln!("{}", cells.join("  ").trim_end());
    }
}

fn print_summary(
    summary: &HistorySummary,
    infos: &HashMap<String, RatingInfo>,
    label: &impl Fn(&str) -> String,
) {
    let plural = |n: u32, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    outln!(
        "This week: {}. Streak: {}.",
        plural(summary.sessions_this_week, "session", "sessions"),
        plural(summary.streak_days, "day", "days")
    );
    if summary.rating_changes.is_empty() {
        outln!("Average change: no session has a rating both before and after yet.");
        return;
    }
    outln!("Average change (after − before):");
    for c in &summary.rating_changes {
        let direction = match infos.get(&c.id).and_then(|i| i.higher_is_better) {
            Some(true) => ", higher is better",
            Some(false) => ", lower is better",
            None => "",
        };
        outln!(
            "  {}: {:+.1} over {}{direction}",
            label(&c.id),
            c.mean_change,
            plural(c.sessions, "session", "sessions")
        );
    }
}

/// Unicode blocks for 0-10, low to high.
const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// Sessions a chart shows at most (the most recent).
const CHART_WIDTH: usize = 40;

fn block(v: Option<u8>) -> char {
    match v {
        None => '·',
        Some(v) => {
            let i = (usize::from(v.min(10)) * (BLOCKS.len() - 1) + 5) / 10;
            BLOCKS[i]
        }
    }
}

/// One sparkline per rating, before and after, oldest to newest, on a fixed
/// 0-10 scale so lines are comparable; `·` is a skipped rating.
fn print_charts(series: &[RatingSeries], label: &impl Fn(&str) -> String) {
    for s in series {
        let line = |f: fn(&SeriesPoint) -> Option<u8>| -> String {
            s.points.iter().map(|p| block(f(p))).collect()
        };
        outln!();
        let n = s.points.len();
        let sessions = if n == 1 { "session" } else { "sessions" };
        outln!("{} (0-10), {n} {sessions}, oldest to newest:", label(&s.id));
        outln!("  before  {}", line(|p| p.before));
        outln!("  after   {}", line(|p| p.after));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_span_the_scale() {
        let line: String = (0..=10).map(|v| block(Some(v))).collect();
        assert_eq!(line, "▁▂▂▃▄▅▅▆▇▇█");
        assert_eq!(block(None), '·');
        assert_eq!(block(Some(200)), '█');
    }

    #[test]
    fn durations_are_minutes_and_seconds() {
        assert_eq!(duration_text(0), "0:00");
        assert_eq!(duration_text(61_999), "1:01");
        assert_eq!(duration_text(3_600_000), "60:00");
    }
}
