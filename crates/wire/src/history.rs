//! `GET /api/history`: a page of the history, or (`all=1`) every session in
//! one compact document.

use rollcoach_engine::{Facts, Options, RatingResult, Summary, Time};
use rollcoach_protocol::Pairing;
use rollcoach_store::{SessionOutcome, SessionRecord};
use serde::{Deserialize, Serialize};

/// `GET /api/history`'s query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistoryQuery {
    /// Sessions in the page, 1 to 500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 500)))]
    pub limit: Option<usize>,
    /// The page after this session, by uid (the previous page's `next`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// `1`: every session in one compact, streamed document
    /// ([`HistoryRows`]) instead of a page; not with `limit` or `before`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::flag"))]
    pub all: Option<String>,
    /// With `all=1`, `1` adds the rating charts (as on the first page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::flag"))]
    pub charts: Option<String>,
}

/// A page of `GET /api/history`, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistoryPage {
    /// The page's sessions, newest first.
    pub sessions: Vec<HistoryItem>,
    /// Every session, in all.
    pub total: usize,
    /// The uid of the page's last session: the next page's `before` (null
    /// on the last page).
    pub next: Option<String>,
    /// Each rating's most recent 60 sessions, oldest first, on the first
    /// page (empty on the others).
    pub charts: Vec<RatingSeries>,
}

/// A rating before and after (null: skipped or not reached).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Rating {
    /// The rating's id.
    pub id: String,
    /// Before the session, 0 to 10.
    #[cfg_attr(feature = "schema", schemars(range(max = 10)))]
    pub before: Option<u8>,
    /// After the session, 0 to 10.
    #[cfg_attr(feature = "schema", schemars(range(max = 10)))]
    pub after: Option<u8>,
}

impl From<RatingResult> for Rating {
    fn from(r: RatingResult) -> Rating {
        Rating {
            id: r.id,
            before: r.before,
            after: r.after,
        }
    }
}

/// One session of a history page, named by its uid (the key the page syncs
/// by): its record, and whether it has not ended (`live`: a terminal runs
/// it, or one that crashed left it for the next recovery).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistoryItem {
    /// The session's uid.
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::uid"))]
    pub uid: String,
    /// Its protocol's id.
    pub protocol_id: String,
    /// Its protocol's content version.
    pub protocol_version: u32,
    /// Its protocol's body area.
    pub area: String,
    /// The options it ran with.
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::options"))]
    pub options: Options,
    /// The facts it started with.
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::facts"))]
    pub facts: Facts,
    /// When it started (ms since the Unix epoch).
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub started_at: Time,
    /// When it ended (null while live).
    #[cfg_attr(feature = "schema", schemars(with = "Option<u64>"))]
    pub ended_at: Option<Time>,
    /// How it ended (null while live).
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::outcome"))]
    pub outcome: Option<SessionOutcome>,
    /// A short reason id (`pain-with-pop`, `recent-injury`, `answer:<question>`).
    pub reason: Option<String>,
    /// The end message.
    pub message: Option<String>,
    /// Full reps done (null while live).
    pub reps_done: Option<u32>,
    /// Reps planned.
    pub reps_target: u32,
    /// Milliseconds rolling, pauses excluded (null while live).
    pub active_ms: Option<u64>,
    /// The breathing pairing it started with, once known.
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::pairing"))]
    pub pairing: Option<Pairing>,
    /// Its ratings that have a value.
    pub ratings: Vec<Rating>,
    /// The engine's summary (null while live).
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::summary"))]
    pub summary: Option<Summary>,
    /// It has not ended.
    pub live: bool,
}

impl From<SessionRecord> for HistoryItem {
    /// The record's answer: everything but its row id and its driver's
    /// process id, which belong to the store that holds it.
    fn from(r: SessionRecord) -> HistoryItem {
        HistoryItem {
            live: r.outcome.is_none(),
            uid: r.uid,
            protocol_id: r.protocol_id,
            protocol_version: r.protocol_version,
            area: r.area,
            options: r.options,
            facts: r.facts,
            started_at: r.started_at,
            ended_at: r.ended_at,
            outcome: r.outcome,
            reason: r.reason,
            message: r.message,
            reps_done: r.reps_done,
            reps_target: r.reps_target,
            active_ms: r.active_ms,
            pairing: r.pairing,
            ratings: r.ratings.into_iter().map(Rating::from).collect(),
            summary: r.summary,
        }
    }
}

/// The values of one rating over the sessions that have it, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RatingSeries {
    /// The rating's id.
    pub id: String,
    /// Sessions with this rating, in all.
    pub sessions: u32,
    /// The most recent of them, oldest first.
    pub points: Vec<SeriesPoint>,
}

/// One session's values in a [`RatingSeries`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SeriesPoint {
    /// When the session started (ms since the Unix epoch).
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub at: Time,
    /// The rating before (null: skipped).
    pub before: Option<u8>,
    /// The rating after (null: skipped).
    pub after: Option<u8>,
}

impl From<rollcoach_store::RatingSeries> for RatingSeries {
    fn from(s: rollcoach_store::RatingSeries) -> RatingSeries {
        RatingSeries {
            id: s.id,
            sessions: s.sessions,
            points: s
                .points
                .into_iter()
                .map(|p| SeriesPoint {
                    at: p.at,
                    before: p.before,
                    after: p.after,
                })
                .collect(),
        }
    }
}

/// `GET /api/history?all=1`: every session's summary in one compact
/// document, newest first, streamed as the store is read
/// ([`rollcoach_store::write_history_rows`] writes it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistoryRows {
    /// The names of a row's values, in order ([`rollcoach_store::HISTORY_COLUMNS`]).
    pub columns: Vec<String>,
    /// The rating ids whose `before, after` pairs make up a row's ratings.
    pub rating_ids: Vec<String>,
    /// One row per session, newest first.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<HistoryRowShape>"))]
    pub sessions: Vec<Vec<serde_json::Value>>,
    /// Sessions in all.
    pub total: u64,
    /// With `charts=1`: as on the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charts: Option<Vec<RatingSeries>>,
}

/// A compact history row's schema.
#[cfg(feature = "schema")]
struct HistoryRowShape;

#[cfg(feature = "schema")]
impl schemars::JsonSchema for HistoryRowShape {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "HistoryRow".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        crate::schema::history_row(generator)
    }
}

/// `GET /api/history`'s answer: a page, or with `all=1` the compact
/// document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum HistoryAnswer {
    /// Without `all=1`.
    Page(HistoryPage),
    /// With `all=1`.
    Rows(HistoryRows),
}
