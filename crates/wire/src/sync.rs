//! `POST /api/sync/sessions` and `POST /api/sync/injuries`: the page pushes
//! each finished session and each injury (or its clear), as an element of
//! the export document; the answers say what the server did.

use serde::{Deserialize, Serialize};

/// `POST /api/sync/sessions`'s body: one session of the export document,
/// with its whole event log and protocol snapshot.
pub use rollcoach_store::ExportedSession as SessionPush;

/// `POST /api/sync/injuries`'s body: one injury of the export document,
/// with its uid (a missing one is derived: the legacy uid).
pub use rollcoach_store::ExportedInjury as InjuryPush;

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum SyncWord {
    /// Stored now (201).
    Stored,
    /// Stored already, as pushed: nothing changed (200).
    Already,
    /// Stored already, not cleared; the push's clear was applied (200).
    Cleared,
}

/// A push's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SyncStatus {
    /// What the server did.
    pub status: SyncWord,
    /// The session's or injury's uid (for an injury pushed without one, the
    /// legacy uid it was given).
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::uid"))]
    pub uid: String,
}

#[cfg(feature = "schema")]
pub use shapes::{DocSessionShape, EventShape, ExportDocumentShape, InjuryShape, SessionShape};

/// The schemas of the store's export types, which have none: each a mirror
/// of the type's JSON, field for field (a test checks that the mirror reads
/// exactly what the type writes, and writes it back the same).
#[cfg(feature = "schema")]
mod shapes {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    /// The schema of [`rollcoach_store::ExportedSession`].
    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[schemars(rename = "ExportedSession")]
    pub struct SessionShape {
        /// Globally unique; a push or an import of a uid stored already
        /// changes nothing.
        #[schemars(schema_with = "crate::schema::uid")]
        pub uid: String,
        /// The protocol's id.
        pub protocol_id: String,
        /// The protocol's content version.
        pub protocol_version: u32,
        /// The protocol's body area.
        pub area: String,
        /// The protocol as it ran.
        #[schemars(schema_with = "crate::schema::protocol_snapshot")]
        pub protocol: Value,
        /// The options.
        #[schemars(schema_with = "crate::schema::options")]
        pub options: Value,
        /// The facts at the start.
        #[schemars(schema_with = "crate::schema::facts")]
        pub facts: Value,
        /// When it started (ms since the Unix epoch).
        pub started_at: u64,
        /// When it ended.
        pub ended_at: Option<u64>,
        /// How it ended.
        #[schemars(schema_with = "crate::schema::outcome")]
        pub outcome: Value,
        /// The short reason id.
        pub reason: Option<String>,
        /// The end message.
        pub message: Option<String>,
        /// Full reps done.
        pub reps_done: Option<u32>,
        /// Reps planned.
        pub reps_target: u32,
        /// Milliseconds rolling, pauses excluded.
        pub active_ms: Option<u64>,
        /// The breathing pairing it started with.
        #[schemars(schema_with = "crate::schema::pairing")]
        pub pairing: Value,
        /// Ratings that have a value.
        pub ratings: Vec<crate::Rating>,
        /// The engine's summary.
        #[schemars(schema_with = "crate::schema::summary")]
        pub summary: Value,
        /// The whole log: `seq` 0, 1, 2, ... in order, `at_ms` after the
        /// start and never going back.
        pub events: Vec<EventShape>,
    }

    /// The schema of a session in an export document (version 3): as
    /// [`SessionShape`], with its protocol snapshot, or the uid of an
    /// earlier session of the document with the same one.
    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[schemars(rename = "ExportedSessionInDocument")]
    pub struct DocSessionShape {
        /// Globally unique; a push or an import of a uid stored already
        /// changes nothing.
        #[schemars(schema_with = "crate::schema::uid")]
        pub uid: String,
        /// The protocol's id.
        pub protocol_id: String,
        /// The protocol's content version.
        pub protocol_version: u32,
        /// The protocol's body area.
        pub area: String,
        /// The protocol as it ran; left out when `protocol_same_as` names
        /// an earlier session of the document that ran the same snapshot.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(schema_with = "crate::schema::protocol_snapshot")]
        pub protocol: Option<Value>,
        /// The uid of an earlier session of the document whose `protocol`
        /// is this one's (each distinct snapshot is written once).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub protocol_same_as: Option<String>,
        /// The options.
        #[schemars(schema_with = "crate::schema::options")]
        pub options: Value,
        /// The facts at the start.
        #[schemars(schema_with = "crate::schema::facts")]
        pub facts: Value,
        /// When it started (ms since the Unix epoch).
        pub started_at: u64,
        /// When it ended.
        pub ended_at: Option<u64>,
        /// How it ended.
        #[schemars(schema_with = "crate::schema::outcome")]
        pub outcome: Value,
        /// The short reason id.
        pub reason: Option<String>,
        /// The end message.
        pub message: Option<String>,
        /// Full reps done.
        pub reps_done: Option<u32>,
        /// Reps planned.
        pub reps_target: u32,
        /// Milliseconds rolling, pauses excluded.
        pub active_ms: Option<u64>,
        /// The breathing pairing it started with.
        #[schemars(schema_with = "crate::schema::pairing")]
        pub pairing: Value,
        /// Ratings that have a value.
        pub ratings: Vec<crate::Rating>,
        /// The engine's summary.
        #[schemars(schema_with = "crate::schema::summary")]
        pub summary: Value,
        /// The whole log: `seq` 0, 1, 2, ... in order, `at_ms` after the
        /// start and never going back.
        pub events: Vec<EventShape>,
    }

    /// The schema of [`rollcoach_store::Event`].
    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[schemars(rename = "Event")]
    pub struct EventShape {
        /// Its place in the log, from 0.
        pub seq: u32,
        /// Milliseconds after the session's start.
        pub at_ms: u64,
        /// The input.
        #[schemars(schema_with = "crate::schema::input")]
        pub input: Value,
    }

    /// The schema of [`rollcoach_store::ExportedInjury`].
    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[schemars(rename = "ExportedInjury")]
    pub struct InjuryShape {
        /// Its uid; missing (a page of before uids): the legacy uid,
        /// `<created_at>-<at>-1-<area>` (times in 12 hex digits).
        #[serde(default)]
        #[schemars(schema_with = "crate::schema::uid")]
        pub uid: String,
        /// The body area.
        pub area: String,
        /// When it happened (ms since the Unix epoch).
        pub at: u64,
        /// The person's note, at most 500 characters.
        #[schemars(length(max = 500))]
        pub note: Option<String>,
        /// When it was logged (ms since the Unix epoch).
        pub created_at: u64,
        /// When it was cleared (null: it still counts); a clear is never undone.
        pub cleared_at: Option<u64>,
    }

    /// The schema of [`rollcoach_store::ExportDocument`] (`GET /api/export`,
    /// `rollcoach export --format json`).
    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[schemars(rename = "ExportDocument")]
    pub struct ExportDocumentShape {
        /// `rollcoach-export`.
        pub format: String,
        /// The document's version.
        pub version: u32,
        /// When it was written (ms since the Unix epoch).
        pub exported_at: u64,
        /// Every session, oldest first.
        pub sessions: Vec<DocSessionShape>,
        /// Every injury.
        pub injuries: Vec<InjuryShape>,
    }
}

/// `GET /api/sync/changes` query: where the device has read up to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChangesQuery {
    /// The `next` of the last answer; leave it out to read from the start.
    pub since: Option<String>,
    /// At most this many changes, 1 to 500 (default 500).
    pub limit: Option<usize>,
}

/// One change of the caller's records, as the record is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "record")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
// Built to be written out at once, never held in numbers: no box needed.
#[allow(clippy::large_enum_variant)]
pub enum Change {
    /// A session was stored or ended.
    Session(crate::HistoryItem),
    /// An injury was logged or cleared.
    Injury(crate::Injury),
}

impl From<rollcoach_store::Change> for Change {
    fn from(c: rollcoach_store::Change) -> Change {
        match c {
            rollcoach_store::Change::Session(s) => Change::Session(s.into()),
            rollcoach_store::Change::Injury(i) => Change::Injury(i.into()),
        }
    }
}

/// `GET /api/sync/changes`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Changes {
    /// What changed after `since`, oldest first.
    pub changes: Vec<Change>,
    /// The cursor after the last of them (the `since` given when there is
    /// nothing new; null when there has never been a change): the next
    /// round's `since`.
    pub next: Option<String>,
    /// More changes wait: ask again with `next` at once.
    pub more: bool,
}
