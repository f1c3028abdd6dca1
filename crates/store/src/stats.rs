//! History summaries: sessions this week, streak, average rating change.
//!
//! Days and weeks are local: the caller passes the time zone (the CLI uses
//! the system's, which honours `TZ`). A session counts when the person got
//! to it: every outcome but a refusal (live and interrupted sessions count).

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rollcoach_engine::{RatingResult, Time};
use serde::{Deserialize, Serialize};

use crate::SessionRecord;

/// An engine [`Time`] as a [`Timestamp`] (`None` if out of jiff's range).
pub fn timestamp(t: Time) -> Option<Timestamp> {
    Timestamp::from_millisecond(i64::try_from(t.0).ok()?).ok()
}

/// The local calendar date of `t` in `tz`.
pub fn local_date(t: Time, tz: &TimeZone) -> Option<Date> {
    Some(timestamp(t)?.to_zoned_datetime(tz.clone()).date())
}

/// A summary of a history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistorySummary {
    /// Sessions (not refused) started this local week, Monday to now.
    pub sessions_this_week: u32,
    /// Consecutive local days with at least one session, ending today (or
    /// yesterday, when there is none yet today).
    pub streak_days: u32,
    /// Average change (after minus before) per rating, by rating id.
    pub rating_changes: Vec<RatingChange>,
}

/// Average change of one rating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingChange {
    /// Rating id.
    pub id: String,
    /// Sessions with both a before and an after value.
    pub sessions: u32,
    /// Mean of after minus before over those sessions.
    pub mean_change: f64,
}

/// What summaries and charts need of one session: read for every session of
/// a history ([`crate::Records::history_points`]) without its JSON columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    /// When it started.
    pub started_at: Time,
    /// Whether the person got to it (not refused; live and interrupted count).
    pub counts: bool,
    /// Ratings before and after that have a value, by rating id.
    pub ratings: Vec<RatingResult>,
}

impl From<&SessionRecord> for HistoryPoint {
    fn from(r: &SessionRecord) -> Self {
        HistoryPoint {
            started_at: r.started_at,
            counts: r.outcome.as_ref().is_none_or(|o| o.counts_as_session()),
            ratings: r.ratings.clone(),
        }
    }
}

/// The values of one rating over the sessions that have it, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingSeries {
    /// Rating id.
    pub id: String,
    /// Sessions with this rating, in all.
    pub sessions: u32,
    /// The most recent of them, oldest first.
    pub points: Vec<SeriesPoint>,
}

/// One session's values in a [`RatingSeries`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// When the session started.
    pub at: Time,
    /// The rating before (`None`: skipped).
    pub before: Option<u8>,
    /// The rating after (`None`: skipped).
    pub after: Option<u8>,
}

/// One series per rating id (sorted by id), each with its `last` most recent
/// sessions, oldest first. `points` may be in any order.
pub fn rating_series(points: &[HistoryPoint], last: usize) -> Vec<RatingSeries> {
    let mut by_id: BTreeMap<&str, Vec<SeriesPoint>> = BTreeMap::new();
    for p in points {
        for r in &p.ratings {
            by_id.entry(r.id.as_str()).or_default().push(SeriesPoint {
                at: p.started_at,
                before: r.before,
                after: r.after,
            });
        }
    }
    by_id
        .into_iter()
        .map(|(id, mut points)| {
            points.sort_by_key(|p| p.at);
            let sessions = u32::try_from(points.len()).unwrap_or(u32::MAX);
            let start = points.len().saturating_sub(last);
            RatingSeries {
                id: id.to_owned(),
                sessions,
                points: points.split_off(start),
            }
        })
        .collect()
}

/// Summarizes a history (`points` in any order) as of `now`, in local days
/// of `tz`.
pub fn summarize(points: &[HistoryPoint], now: Time, tz: &TimeZone) -> HistorySummary {
    let counted = || points.iter().filter(|r| r.started_at <= now && r.counts);
    let days: BTreeSet<Date> = counted()
        .filter_map(|r| local_date(r.started_at, tz))
        .collect();
    let (sessions_this_week, streak_days) = match local_date(now, tz) {
        Some(today) => {
            let monday = today
                .checked_sub(
                    jiff::Span::new().days(i64::from(today.weekday().to_monday_zero_offset())),
                )
                .unwrap_or(today);
            let week = counted()
                .filter_map(|r| local_date(r.started_at, tz))
                .filter(|d| *d >= monday && *d <= today)
                .count();
            let mut day = if days.contains(&today) {
                Some(today)
            } else {
                today.yesterday().ok()
            };
            let mut streak = 0u32;
            while let Some(d) = day.filter(|d| days.contains(d)) {
                streak += 1;
                day = d.yesterday().ok();
            }
            (u32::try_from(week).unwrap_or(u32::MAX), streak)
        }
        None => (0, 0),
    };
    let mut changes: BTreeMap<&str, (u32, i64)> = BTreeMap::new();
    for r in points {
        for rating in &r.ratings {
            if let (Some(b), Some(a)) = (rating.before, rating.after) {
                let e = changes.entry(rating.id.as_str()).or_default();
                e.0 += 1;
                e.1 += i64::from(a) - i64::from(b);
            }
        }
    }
    HistorySummary {
        sessions_this_week,
        streak_days,
        rating_changes: changes
            .into_iter()
            .map(|(id, (n, sum))| RatingChange {
                id: id.to_owned(),
                sessions: n,
                mean_change: sum as f64 / f64::from(n),
            })
            .collect(),
    }
}
