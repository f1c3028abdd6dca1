//! Each distinct protocol snapshot once in an export document (version 3).
//!
//! A session carries the whole protocol it ran, and most of a person's
//! sessions ran the same one: in a ten-year export that repetition was
//! 81.5 % of the document. From version 3, the first session of each
//! distinct snapshot carries it as `"protocol"`, and every later session of
//! the same snapshot carries `"protocol_same_as": "<that session's uid>"`
//! instead. Readers resolve the reference to the earlier session's
//! snapshot, so everything after them (the import's checks, the store) sees
//! whole sessions, as from a version 1 or 2 document, which still import.
//!
//! - Writing: [`SnapshotsSeen`] remembers each snapshot's first session
//!   (its JSON text, not its value: a few snapshots per person) and
//!   [`DocSessionRef`] writes a session with its snapshot or the reference.
//! - Reading: [`DocSession`] reads either form, and [`SnapshotsRead`]
//!   gives a reference its snapshot, or says which reference is wrong.
//! - A whole document as JSON ([`crate::ExportDocument::from_json`]):
//!   [`DocDocument`], resolved by the same [`SnapshotsRead`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rollcoach_engine::{Facts, Options, RatingResult, Summary, Time};
use rollcoach_protocol::Pairing;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Event, ExportedSession, SessionOutcome};

/// The key a session names an earlier one's snapshot by.
pub const SAME_AS: &str = "protocol_same_as";

/// A session as a version 3 document writes it: [`ExportedSession`]'s
/// fields in its order, with `protocol` or `protocol_same_as`.
#[derive(Serialize)]
pub(crate) struct DocSessionRef<'a> {
    uid: &'a str,
    protocol_id: &'a str,
    protocol_version: u32,
    area: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol_same_as: Option<&'a str>,
    options: &'a Options,
    facts: &'a Facts,
    started_at: Time,
    ended_at: Option<Time>,
    outcome: &'a Option<SessionOutcome>,
    reason: &'a Option<String>,
    message: &'a Option<String>,
    reps_done: Option<u32>,
    reps_target: u32,
    active_ms: Option<u64>,
    pairing: Option<Pairing>,
    ratings: &'a [RatingResult],
    summary: &'a Option<Summary>,
    events: &'a [Event],
}

impl<'a> DocSessionRef<'a> {
    /// `s`, with its snapshot (`same_as: None`) or naming the earlier
    /// session of the same one.
    pub(crate) fn new(s: &'a ExportedSession, same_as: Option<&'a str>) -> DocSessionRef<'a> {
        // Every field, so that a field added to the session is added here.
        let ExportedSession {
            uid,
            protocol_id,
            protocol_version,
            area,
            protocol,
            options,
            facts,
            started_at,
            ended_at,
            outcome,
            reason,
            message,
            reps_done,
            reps_target,
            active_ms,
            pairing,
            ratings,
            summary,
            events,
        } = s;
        DocSessionRef {
            uid,
            protocol_id,
            protocol_version: *protocol_version,
            area,
            protocol: same_as.is_none().then_some(protocol),
            protocol_same_as: same_as,
            options,
            facts,
            started_at: *started_at,
            ended_at: *ended_at,
            outcome,
            reason,
            message,
            reps_done: *reps_done,
            reps_target: *reps_target,
            active_ms: *active_ms,
            pairing: *pairing,
            ratings,
            summary,
            events,
        }
    }
}

/// The snapshots a writer has written, with the uid of the session that
/// carried each: by a hash of the value (walked, not serialized: a session's
/// snapshot is most of its size), each checked for equality on a match.
#[derive(Default)]
pub(crate) struct SnapshotsSeen {
    first: HashMap<u64, Vec<(Value, String)>>,
}

impl SnapshotsSeen {
    /// The uid of the earlier session whose snapshot is `s`'s, or `None`
    /// (and `s` is remembered as the first of its snapshot).
    pub(crate) fn same_as(&mut self, s: &ExportedSession) -> Option<String> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        hash_value(&s.protocol, &mut h);
        let bucket = self.first.entry(std::hash::Hasher::finish(&h)).or_default();
        if let Some((_, uid)) = bucket.iter().find(|(v, _)| *v == s.protocol) {
            return Some(uid.clone());
        }
        bucket.push((s.protocol.clone(), s.uid.clone()));
        None
    }
}

/// Feeds `v` to `h`: equal values hash alike (objects in key order, which
/// `serde_json`'s map keeps sorted).
fn hash_value(v: &Value, h: &mut impl std::hash::Hasher) {
    use std::hash::Hash;
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(n) => (2u8, n.to_string()).hash(h),
        Value::String(s) => (3u8, s).hash(h),
        Value::Array(items) => {
            (4u8, items.len()).hash(h);
            items.iter().for_each(|i| hash_value(i, h));
        }
        Value::Object(map) => {
            (5u8, map.len()).hash(h);
            for (k, v) in map {
                k.hash(h);
                hash_value(v, h);
            }
        }
    }
}

/// A session as any version of the document holds it.
#[derive(Deserialize)]
pub(crate) struct DocSession {
    uid: String,
    protocol_id: String,
    protocol_version: u32,
    area: String,
    #[serde(default)]
    protocol: Option<Value>,
    #[serde(default)]
    protocol_same_as: Option<String>,
    options: Options,
    facts: Facts,
    started_at: Time,
    ended_at: Option<Time>,
    outcome: Option<SessionOutcome>,
    reason: Option<String>,
    message: Option<String>,
    reps_done: Option<u32>,
    reps_target: u32,
    active_ms: Option<u64>,
    pairing: Option<Pairing>,
    ratings: Vec<RatingResult>,
    summary: Option<Summary>,
    events: Vec<Event>,
}

/// The snapshots a reader has met (version 3), by the uid of the session
/// that carried each, as compact JSON text (about the size it had in the
/// document; a parsed value is several times that): a later session that
/// names one gets it parsed again. A reader of an older version keeps none,
/// so its memory holds one session at a time.
pub(crate) struct SnapshotsRead {
    refs: bool,
    by_uid: HashMap<String, Arc<str>>,
    distinct: HashSet<Arc<str>>,
}

impl SnapshotsRead {
    /// A reader; `refs`: whether the document may name earlier snapshots
    /// (version 3 and later).
    pub(crate) fn new(refs: bool) -> SnapshotsRead {
        SnapshotsRead {
            refs,
            by_uid: HashMap::new(),
            distinct: HashSet::new(),
        }
    }

    /// Remembers `p` as the snapshot of the session `uid`, equal texts once.
    fn remember(&mut self, uid: &str, p: &Value) {
        let text: Arc<str> = Arc::from(p.to_string());
        let text = match self.distinct.get(&text) {
            Some(kept) => kept.clone(),
            None => {
                self.distinct.insert(text.clone());
                text
            }
        };
        self.by_uid.insert(uid.to_owned(), text);
    }

    /// The whole session: its own snapshot, or the one of the earlier
    /// session it names. The error says what is wrong and how to fix it.
    pub(crate) fn resolve(&mut self, s: DocSession) -> Result<ExportedSession, String> {
        let protocol = match (s.protocol, s.protocol_same_as) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "(uid {:?}) it has both `protocol` and `{SAME_AS}`: give one (its snapshot, \
                     or the uid of an earlier session of the same snapshot)",
                    short(&s.uid)
                ));
            }
            (None, None) => {
                return Err(format!(
                    "(uid {:?}) it has no `protocol`: give the protocol it ran, or `{SAME_AS}` \
                     naming an earlier session of the document that ran the same",
                    short(&s.uid)
                ));
            }
            (Some(p), None) => {
                if self.refs {
                    self.remember(&s.uid, &p);
                }
                p
            }
            (None, Some(uid)) => match self.by_uid.get(&uid) {
                Some(text) => serde_json::from_str(text).map_err(|e| {
                    format!(
                        "(uid {:?}) its snapshot does not read back: {e}",
                        short(&s.uid)
                    )
                })?,
                None if !self.refs => {
                    return Err(format!(
                        "(uid {:?}) `{SAME_AS}` is of version 3 documents; an older one gives \
                         each session its `protocol`",
                        short(&s.uid)
                    ));
                }
                None => {
                    return Err(format!(
                        "(uid {:?}) `{SAME_AS}` names {:?}, and no earlier session of the \
                         document has that uid and a `protocol`; export the file again, or give \
                         the session its `protocol`",
                        short(&s.uid),
                        short(&uid)
                    ));
                }
            },
        };
        Ok(ExportedSession {
            uid: s.uid,
            protocol_id: s.protocol_id,
            protocol_version: s.protocol_version,
            area: s.area,
            protocol,
            options: s.options,
            facts: s.facts,
            started_at: s.started_at,
            ended_at: s.ended_at,
            outcome: s.outcome,
            reason: s.reason,
            message: s.message,
            reps_done: s.reps_done,
            reps_target: s.reps_target,
            active_ms: s.active_ms,
            pairing: s.pairing,
            ratings: s.ratings,
            summary: s.summary,
            events: s.events,
        })
    }
}

/// A uid as an error quotes it (a hostile one may be long).
fn short(uid: &str) -> String {
    uid.chars().take(80).collect()
}

/// A whole document as any version holds it ([`crate::ExportDocument`]'s
/// fields, its sessions as [`DocSession`]s).
#[derive(Deserialize)]
pub(crate) struct DocDocument {
    format: String,
    version: u32,
    exported_at: Time,
    sessions: Vec<DocSession>,
    injuries: Vec<crate::ExportedInjury>,
}

impl DocDocument {
    /// The document with every session whole, as the streamed reader gives
    /// them; the error names the session (from 1).
    pub(crate) fn resolve(self) -> Result<crate::ExportDocument, String> {
        let mut snapshots = SnapshotsRead::new(self.version >= 3);
        let sessions = self
            .sessions
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                snapshots
                    .resolve(s)
                    .map_err(|why| format!("session {}: {why}", i + 1))
            })
            .collect::<Result<_, _>>()?;
        Ok(crate::ExportDocument {
            format: self.format,
            version: self.version,
            exported_at: self.exported_at,
            sessions,
            injuries: self.injuries,
        })
    }
}

/// A whole document as version 3 writes it (each distinct snapshot once):
/// what [`crate::ExportDocument::to_json`] writes, the same as the
/// streamed export.
pub(crate) struct DocumentRef<'a>(pub(crate) &'a crate::ExportDocument);

/// The sessions; each distinct snapshot once if `.1` (a document of
/// version 3 or later), every one whole otherwise.
struct SessionsRef<'a>(&'a [ExportedSession], bool);

impl Serialize for DocumentRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let d = self.0;
        // The fields of `ExportDocument`, in its order.
        let mut doc = serializer.serialize_struct("ExportDocument", 5)?;
        doc.serialize_field("format", &d.format)?;
        doc.serialize_field("version", &d.version)?;
        doc.serialize_field("exported_at", &d.exported_at)?;
        doc.serialize_field("sessions", &SessionsRef(&d.sessions, d.version >= 3))?;
        doc.serialize_field("injuries", &d.injuries)?;
        doc.end()
    }
}

impl Serialize for SessionsRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seen = SnapshotsSeen::default();
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for s in self.0 {
            let same_as = if self.1 { seen.same_as(s) } else { None };
            seq.serialize_element(&DocSessionRef::new(s, same_as.as_deref()))?;
        }
        seq.end()
    }
}
