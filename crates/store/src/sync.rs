//! Verifying a session that another device ran (the phone's page) before
//! it is stored: the same for every backend and every server.
//!
//! A pushed session is an [`ExportedSession`]: its protocol snapshot, how it
//! started, its whole event log and what the device claims came of it. The
//! claim is believed only if the log says so: [`verify_session`] checks the
//! shape (an end, numbered and ordered inputs, values on their scales, no
//! time in the future), that the snapshot is the protocol this server knows
//! under that id and version, then replays the log through the engine's
//! session runner (the replay crash recovery uses) and compares the claimed
//! outcome, reason, reps, ratings, summary and message with the replay's.
//! Anything that does not match is a [`SyncRefusal`] naming the field and
//! both values; nothing is to be stored then.

use std::sync::Arc;

use rollcoach_engine::{INJURY_CLOCK_SKEW_MS, Input, RatingResult, Summary, Time, input_name};
use rollcoach_protocol::{MAX_REPS, Protocol, ProtocolId, ProtocolIdError};

use crate::replay::{self, Start};
use crate::{DisplayTime, ExportedSession, SessionOutcome};

pub use crate::domain::{EARLIEST, MAX_UID_LEN};

/// Why a pushed session is refused. Nothing of it is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncRefusal {
    /// The uid is empty, too long or holds control characters.
    #[error("the session's uid {uid:?} {why}")]
    Uid {
        /// The uid given.
        uid: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The `protocol_id` is no protocol id ([`ProtocolId::parse`], the rule
    /// `protocols lint` and the import apply).
    #[error("the session's protocol_id: {0}")]
    ProtocolId(ProtocolIdError),
    /// This server has no protocol with that id.
    #[error("this server has no protocol `{id}` (it has: {}); sync the session to the server whose protocol it ran", known.join(", "))]
    UnknownProtocol {
        /// The pushed `protocol_id`.
        id: String,
        /// The ids this server has.
        known: Vec<String>,
    },
    /// This server has another version of the protocol.
    #[error(
        "the session ran version {pushed} of protocol `{id}`, but this server has version {known}; a session is verified only against the protocol it ran"
    )]
    ProtocolVersion {
        /// The protocol's id.
        id: String,
        /// The pushed `protocol_version`.
        pushed: u32,
        /// This server's version.
        known: u32,
    },
    /// The pushed protocol snapshot differs from this server's protocol.
    #[error(
        "the session's protocol snapshot differs from this server's `{id}` version {version} at `{path}`: the session has {pushed}, this server has {known}"
    )]
    ProtocolDiffers {
        /// The protocol's id.
        id: String,
        /// Its version.
        version: u32,
        /// Where they first differ, e.g. `protocol.movement.reps.max`.
        path: String,
        /// The pushed value there (JSON, or `nothing`).
        pushed: String,
        /// This server's value there (JSON, or `nothing`).
        known: String,
    },
    /// The session has no end: a live session is not synced.
    #[error(
        "the session has not ended (its {missing} is missing); only a finished session is synced"
    )]
    NotEnded {
        /// `ended_at` or `outcome`.
        missing: &'static str,
    },
    /// It ends before it starts or before its last input.
    #[error("the session ends ({}) before {what} ({})", DisplayTime(*ended_at), DisplayTime(*at))]
    EndsTooEarly {
        /// The claimed end.
        ended_at: Time,
        /// `it starts` or `its last input`.
        what: &'static str,
        /// That time.
        at: Time,
    },
    /// A time later than now plus the clock skew the engine allows.
    #[error("the session's {what} ({}) is in the future (this server's time is {}; up to {} minutes ahead is allowed for clock skew)", DisplayTime(*at), DisplayTime(*now), INJURY_CLOCK_SKEW_MS / 60_000)]
    InTheFuture {
        /// Which time.
        what: &'static str,
        /// The time.
        at: Time,
        /// This server's now.
        now: Time,
    },
    /// The log's inputs are not numbered 0, 1, 2, ... in order.
    #[error("the event log is out of order: its entry {index} has seq {seq}, expected {index}")]
    Seq {
        /// Its position in the log.
        index: usize,
        /// Its seq.
        seq: u32,
    },
    /// An input is earlier than the one before it.
    #[error("the event log goes back in time: event {seq} is at {at_ms} ms, before event {}'s {before_ms} ms", seq - 1)]
    TimeGoesBack {
        /// The event.
        seq: u32,
        /// Its time (ms after the start).
        at_ms: u64,
        /// The time of the one before.
        before_ms: u64,
    },
    /// A rating or discomfort level off the 0 to 10 scale.
    #[error("{what} is {value}; ratings and discomfort are 0 to 10")]
    OffScale {
        /// The field, e.g. `events[7].input.value` or `ratings[0].after`.
        field: String,
        /// Where, in words, e.g. `event 7's rating` or `the claimed rating \`pain\` before`.
        what: String,
        /// The value.
        value: u8,
    },
    /// More reps than the protocol allows.
    #[error("the session claims {field} {claimed}, but protocol `{id}` allows at most {most} reps")]
    RepsBeyondProtocol {
        /// `reps_done` or `reps_target`.
        field: &'static str,
        /// The claimed number.
        claimed: u32,
        /// The protocol.
        id: String,
        /// Its most reps.
        most: u32,
    },
    /// A time before [`EARLIEST`]: no session or injury is that old.
    #[error("the session's {what} ({}) is before {}; no session is that old", DisplayTime(*at), DisplayTime(EARLIEST))]
    TooEarly {
        /// Which time.
        what: &'static str,
        /// The time.
        at: Time,
    },
    /// An imported session that is neither live (no end at all) nor ended
    /// (an end time, an outcome and its counts).
    #[error(
        "the session has {has} but no {missing}: a session that ended has both, a live one neither"
    )]
    PartlyEnded {
        /// A field it has.
        has: &'static str,
        /// A field it lacks.
        missing: &'static str,
    },
    /// More reps done than planned.
    #[error("the session claims reps_done {done}, more than its reps_target {target}")]
    RepsBeyondTarget {
        /// The claimed reps done.
        done: u32,
        /// The reps planned.
        target: u32,
    },
    /// Free text that holds control characters (terminal escapes, NUL) or
    /// bidirectional overrides: rollcoach never writes them.
    #[error(
        "the session's {field} holds control characters or bidirectional overrides, which a terminal would act on; rollcoach never writes them"
    )]
    Unprintable {
        /// The field.
        field: String,
    },
    /// The log cannot be replayed at all (options that do not fit the protocol).
    #[error("the event log does not replay: {0}")]
    Replay(String),
    /// An input the session would not have taken at that point: a runner
    /// never logs one.
    #[error("event {seq} (`{input}` at {at_ms} ms) does not fit the session at that point: {why}")]
    Rejected {
        /// The event.
        seq: u32,
        /// The input's name.
        input: &'static str,
        /// Its time (ms after the start).
        at_ms: u64,
        /// Why the engine refuses it.
        why: String,
    },
    /// A claim that the replay does not give.
    #[error("the session claims {field} {claimed}, but its event log replays to {replayed}")]
    Mismatch {
        /// The field, e.g. `outcome` or `summary.noises`.
        field: String,
        /// The claimed value.
        claimed: String,
        /// The replay's value.
        replayed: String,
    },
}

impl SyncRefusal {
    /// The session's field the refusal is about, as the export document
    /// names it: `uid`, `started_at`, `ratings[0].after`, `events[7]`,
    /// `protocol.movement.reps.max`, ...
    pub fn field(&self) -> String {
        match self {
            SyncRefusal::Uid { .. } => "uid".into(),
            SyncRefusal::ProtocolId(_) | SyncRefusal::UnknownProtocol { .. } => {
                "protocol_id".into()
            }
            SyncRefusal::ProtocolVersion { .. } => "protocol_version".into(),
            SyncRefusal::ProtocolDiffers { path, .. } => path.clone(),
            SyncRefusal::NotEnded { missing } => (*missing).into(),
            SyncRefusal::PartlyEnded { has, .. } => (*has).into(),
            SyncRefusal::EndsTooEarly { .. } => "ended_at".into(),
            SyncRefusal::InTheFuture { what, .. } | SyncRefusal::TooEarly { what, .. } => {
                match *what {
                    "start" => "started_at".into(),
                    "end" => "ended_at".into(),
                    _ => "events".into(),
                }
            }
            SyncRefusal::RepsBeyondTarget { .. } => "reps_done".into(),
            SyncRefusal::Unprintable { field } => field.clone(),
            SyncRefusal::Seq { index, .. } => format!("events[{index}].seq"),
            SyncRefusal::TimeGoesBack { seq, .. } => format!("events[{seq}].at_ms"),
            SyncRefusal::OffScale { field, .. } | SyncRefusal::Mismatch { field, .. } => {
                field.clone()
            }
            SyncRefusal::RepsBeyondProtocol { field, .. } => (*field).into(),
            SyncRefusal::Replay(_) => "options".into(),
            SyncRefusal::Rejected { seq, .. } => format!("events[{seq}]"),
        }
    }
}

/// The protocols a server verifies pushed sessions against, each with its
/// JSON form (made once: a pushed snapshot is compared with it).
#[derive(Debug, Clone, Default)]
pub struct SyncCatalog {
    protocols: Vec<(Arc<Protocol>, serde_json::Value)>,
}

impl SyncCatalog {
    /// The catalog of these protocols.
    pub fn new(protocols: &[Arc<Protocol>]) -> Result<SyncCatalog, serde_json::Error> {
        let protocols = protocols
            .iter()
            .map(|p| Ok((p.clone(), serde_json::to_value(&**p)?)))
            .collect::<Result<_, serde_json::Error>>()?;
        Ok(SyncCatalog { protocols })
    }

    fn ids(&self) -> Vec<String> {
        self.protocols.iter().map(|(p, _)| p.id.clone()).collect()
    }

    /// The protocols, in the order given.
    pub fn protocols(&self) -> impl Iterator<Item = &Protocol> {
        self.protocols.iter().map(|(p, _)| &**p)
    }

    /// The catalog's protocol with this id and version whose JSON form is
    /// `json` (numbers compared by value), if there is one.
    pub(crate) fn same_as(
        &self,
        id: &str,
        version: u32,
        json: &serde_json::Value,
    ) -> Option<Arc<Protocol>> {
        self.protocols
            .iter()
            .find(|(p, known)| {
                p.id == id
                    && p.version == version
                    // Equal as written (no walk, nothing allocated), or by value.
                    && (json == known || first_difference("protocol", json, known).is_none())
            })
            .map(|(p, _)| p.clone())
    }

    /// Where `json` first differs from the catalog's protocol with this id
    /// and version (the path, the snapshot's value there and the
    /// catalog's), if the catalog has that protocol and `json` is not it:
    /// a snapshot that claims a protocol this rollcoach knows must be it.
    pub(crate) fn known_difference(
        &self,
        id: &str,
        version: u32,
        json: &serde_json::Value,
    ) -> Option<(String, String, String)> {
        let (_, known) = self
            .protocols
            .iter()
            .find(|(p, _)| p.id == id && p.version == version)?;
        if json == known {
            return None;
        }
        first_difference("protocol", json, known)
    }
}

/// Where a session being verified comes from, which says what it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// Pushed by a device ([`verify_session`]): it has ended, and ran the
    /// catalog's protocol.
    Pushed,
    /// Read from an export document ([`crate::validate`]): it may be live (no
    /// end yet), or interrupted with its counts unknown (a log recovery could
    /// not replay), and it is replayed against its own protocol snapshot.
    Imported,
}

/// A pushed session that [`accept`] verified: the record its log proves,
/// ready to store ([`crate::Records::accept_session`]). [`accept`] is the
/// only way to make one.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedSession {
    record: ExportedSession,
}

impl VerifiedSession {
    /// The record to store: what the replay derived, not what was claimed.
    pub fn record(&self) -> &ExportedSession {
        &self.record
    }

    /// The session's uid.
    pub fn uid(&self) -> &str {
        &self.record.uid
    }

    /// Whether a session stored under this uid (its record, log and
    /// protocol snapshot as JSON) is this one: what a backend's
    /// [`crate::Records::accept_session`] asks before it answers
    /// [`Accepted::Already`] rather than [`Accepted::Differs`].
    pub fn is_stored_as(
        &self,
        stored: &crate::SessionRecord,
        events: &[crate::Event],
        protocol_json: &str,
    ) -> bool {
        let r = &self.record;
        r.uid == stored.uid
            && r.protocol_id == stored.protocol_id
            && r.protocol_version == stored.protocol_version
            && r.area == stored.area
            && r.options == stored.options
            && r.facts == stored.facts
            && r.started_at == stored.started_at
            && r.ended_at == stored.ended_at
            && r.outcome == stored.outcome
            && r.reason == stored.reason
            && r.message == stored.message
            && r.reps_done == stored.reps_done
            && r.reps_target == stored.reps_target
            && r.active_ms == stored.active_ms
            && r.pairing == stored.pairing
            && r.ratings == stored.ratings
            && r.summary == stored.summary
            && r.events == events
            && serde_json::from_str::<serde_json::Value>(protocol_json)
                .is_ok_and(|p| p == r.protocol)
    }
}

/// What [`crate::Records::accept_session`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// The session is stored now.
    Stored,
    /// The person had it already, the same in every field, log and
    /// snapshot (a push is idempotent).
    Already,
    /// Nothing stored: the person holds another session under this uid
    /// (or the uid is taken). The pusher's session is not stored, so it
    /// must not be marked synced (the server answers 409).
    Differs,
}

/// The one step a pushed session takes before it is stored: checks its
/// shape (an end, numbered and ordered inputs, values on their scales, no
/// time in the future), that its snapshot is the protocol this server knows
/// (`catalog`) under that id and version, replays its log through the
/// engine's runner, and derives the record from the replay. A claim that
/// differs from the derivation is refused as one difference; nothing is to
/// be stored then. See the [module documentation](self).
pub fn accept(
    session: ExportedSession,
    catalog: &SyncCatalog,
    now: Time,
) -> Result<VerifiedSession, SyncRefusal> {
    match verified(&session, catalog, now)? {
        Some(derived) => Ok(VerifiedSession {
            record: derived.apply(session),
        }),
        // A pushed session has ended (check_shape), so it always derives.
        None => Err(SyncRefusal::NotEnded {
            missing: "ended_at",
        }),
    }
}

/// [`accept`] without keeping the record: `Ok` when the session's claims
/// are exactly what its log replays to.
pub fn verify_session(
    session: &ExportedSession,
    catalog: &SyncCatalog,
    now: Time,
) -> Result<(), SyncRefusal> {
    verified(session, catalog, now).map(|_| ())
}

/// The checks of a pushed session ([`accept`]) on the borrowed session, and
/// what its replay derives.
fn verified(
    session: &ExportedSession,
    catalog: &SyncCatalog,
    now: Time,
) -> Result<Option<Derived>, SyncRefusal> {
    check_uid(&session.uid)?;
    let protocol = known_protocol(session, catalog)?;
    check_shape(session, &protocol, now, Source::Pushed)?;
    check_replay(session, protocol, Source::Pushed)
}

/// [`verify_session`] of a session read from an export document, against
/// `protocol` (the session's own snapshot, checked by the caller to be the
/// protocol its `protocol_id`, `protocol_version` and `area` name): see
/// [`Source::Imported`].
pub(crate) fn verify_imported(
    session: &ExportedSession,
    protocol: Arc<Protocol>,
    now: Time,
) -> Result<(), SyncRefusal> {
    check_uid(&session.uid)?;
    check_shape(session, &protocol, now, Source::Imported)?;
    check_replay(session, protocol, Source::Imported).map(|_| ())
}

/// A session's or an injury's uid as rollcoach writes them: 1 to 128 ASCII
/// letters, digits, `-`, `_`, `.` and `:` (the rule of [`crate::domain::Uid`]).
pub fn check_uid(uid: &str) -> Result<(), SyncRefusal> {
    match crate::domain::uid_problem(uid) {
        None => Ok(()),
        Some(why) => Err(SyncRefusal::Uid {
            uid: uid.chars().take(MAX_UID_LEN).collect(),
            why,
        }),
    }
}

/// The catalog's protocol the session ran: same id, same version, same content.
fn known_protocol(
    session: &ExportedSession,
    catalog: &SyncCatalog,
) -> Result<Arc<Protocol>, SyncRefusal> {
    let id = &session.protocol_id;
    ProtocolId::parse(id).map_err(SyncRefusal::ProtocolId)?;
    let Some((protocol, known)) = catalog.protocols.iter().find(|(p, _)| &p.id == id) else {
        return Err(SyncRefusal::UnknownProtocol {
            id: id.clone(),
            known: catalog.ids(),
        });
    };
    if session.protocol_version != protocol.version {
        return Err(SyncRefusal::ProtocolVersion {
            id: id.clone(),
            pushed: session.protocol_version,
            known: protocol.version,
        });
    }
    let differs = |path: String, pushed: String, known: String| SyncRefusal::ProtocolDiffers {
        id: id.clone(),
        version: protocol.version,
        path,
        pushed,
        known,
    };
    if &session.protocol != known
        && let Some((path, pushed, known)) = first_difference("protocol", &session.protocol, known)
    {
        return Err(differs(path, pushed, known));
    }
    if session.area != protocol.area {
        return Err(differs(
            "area".into(),
            short_json(&serde_json::Value::from(session.area.as_str())),
            short_json(&serde_json::Value::from(protocol.area.as_str())),
        ));
    }
    Ok(protocol.clone())
}

/// Where two JSON values first differ: the path, and each side's value there.
pub(crate) fn first_difference(
    path: &str,
    pushed: &serde_json::Value,
    known: &serde_json::Value,
) -> Option<(String, String, String)> {
    use serde_json::Value;
    let show = |v: Option<&Value>| v.map_or("nothing".to_owned(), short_json);
    match (pushed, known) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let sub = format!("{path}.{k}");
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => first_difference(&sub, x, y),
                    (x, y) => Some((sub, show(x), show(y))),
                }
            })
        }
        (Value::Array(a), Value::Array(b)) => (0..a.len().max(b.len())).find_map(|i| {
            let sub = format!("{path}[{i}]");
            match (a.get(i), b.get(i)) {
                (Some(x), Some(y)) => first_difference(&sub, x, y),
                (x, y) => Some((sub, show(x), show(y))),
            }
        }),
        // 12 and 12.0 are the same number.
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => None,
        (a, b) if a == b => None,
        (a, b) => Some((path.to_owned(), short_json(a), short_json(b))),
    }
}

/// A JSON value for a message, cut after 80 characters.
fn short_json(v: &serde_json::Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 80 {
        format!("{}...", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

fn check_shape(
    session: &ExportedSession,
    protocol: &Protocol,
    now: Time,
    source: Source,
) -> Result<(), SyncRefusal> {
    let ended_at = check_ended(session, source)?;
    let latest = now.plus_ms(INJURY_CLOCK_SKEW_MS);
    for (what, at) in [("start", Some(session.started_at)), ("end", ended_at)] {
        let Some(at) = at else { continue };
        if at > latest {
            return Err(SyncRefusal::InTheFuture { what, at, now });
        }
        if at < EARLIEST {
            return Err(SyncRefusal::TooEarly { what, at });
        }
    }
    if let Some(ended_at) = ended_at
        && ended_at < session.started_at
    {
        return Err(SyncRefusal::EndsTooEarly {
            ended_at,
            what: "it starts",
            at: session.started_at,
        });
    }
    let mut before_ms = 0;
    for (index, e) in session.events.iter().enumerate() {
        if usize::try_from(e.seq).ok() != Some(index) {
            return Err(SyncRefusal::Seq { index, seq: e.seq });
        }
        if e.at_ms < before_ms {
            return Err(SyncRefusal::TimeGoesBack {
                seq: e.seq,
                at_ms: e.at_ms,
                before_ms,
            });
        }
        before_ms = e.at_ms;
        match e.input {
            Input::Rating { value: Some(v) } if v > 10 => {
                return Err(SyncRefusal::OffScale {
                    field: format!("events[{}].input.value", e.seq),
                    what: format!("event {}'s rating", e.seq),
                    value: v,
                });
            }
            Input::Discomfort { level } if level > 10 => {
                return Err(SyncRefusal::OffScale {
                    field: format!("events[{}].input.level", e.seq),
                    what: format!("event {}'s discomfort", e.seq),
                    value: level,
                });
            }
            _ => {}
        }
    }
    let last = session.started_at.plus_ms(before_ms);
    match ended_at {
        Some(ended_at) if ended_at < last => {
            return Err(SyncRefusal::EndsTooEarly {
                ended_at,
                what: "its last input",
                at: last,
            });
        }
        None if last > latest => {
            return Err(SyncRefusal::InTheFuture {
                what: "last input",
                at: last,
                now,
            });
        }
        _ => {}
    }
    let claimed_ratings = session
        .ratings
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("ratings[{i}]"), r))
        .chain(session.summary.iter().flat_map(|s| {
            s.ratings
                .iter()
                .enumerate()
                .map(|(i, r)| (format!("summary.ratings[{i}]"), r))
        }));
    for (field, r) in claimed_ratings {
        for (moment, value) in [("before", r.before), ("after", r.after)] {
            if let Some(v) = value.filter(|v| *v > 10) {
                return Err(SyncRefusal::OffScale {
                    field: format!("{field}.{moment}"),
                    what: format!("the claimed rating `{}` {moment}", r.id),
                    value: v,
                });
            }
        }
    }
    // The engine never runs more than MAX_REPS, whatever a snapshot says.
    let most = protocol.movement.reps.max.min(MAX_REPS);
    let reps = [
        ("reps_done", session.reps_done),
        ("reps_target", Some(session.reps_target)),
        (
            "summary.reps_done",
            session.summary.as_ref().map(|s| s.reps_done),
        ),
        (
            "summary.reps_target",
            session.summary.as_ref().map(|s| s.reps_target),
        ),
    ];
    for (field, claimed) in reps {
        if let Some(claimed) = claimed.filter(|n| *n > most) {
            return Err(SyncRefusal::RepsBeyondProtocol {
                field,
                claimed,
                id: protocol.id.clone(),
                most,
            });
        }
    }
    if let Some(done) = session.reps_done.filter(|d| *d > session.reps_target) {
        return Err(SyncRefusal::RepsBeyondTarget {
            done,
            target: session.reps_target,
        });
    }
    check_text(session)
}

/// That the session has ended (`Some` end), or, when imported, is live
/// (`None`: no end and no counts at all).
fn check_ended(session: &ExportedSession, source: Source) -> Result<Option<Time>, SyncRefusal> {
    let ends = [
        ("ended_at", session.ended_at.is_some()),
        ("outcome", session.outcome.is_some()),
    ];
    if source == Source::Pushed {
        if let Some((missing, _)) = ends.iter().find(|(_, has)| !has) {
            return Err(SyncRefusal::NotEnded { missing });
        }
        return Ok(session.ended_at);
    }
    // What a store records at the end, all together (with a summary only
    // when the log replayed: see `check_replay`).
    let counts = [
        ("reps_done", session.reps_done.is_some()),
        ("active_ms", session.active_ms.is_some()),
        ("summary", session.summary.is_some()),
    ];
    let has = |fields: &[(&'static str, bool)]| fields.iter().find(|(_, h)| *h).map(|(f, _)| *f);
    let lacks = |fields: &[(&'static str, bool)]| fields.iter().find(|(_, h)| !h).map(|(f, _)| *f);
    match (has(&ends), lacks(&ends)) {
        // Ended: an end time and an outcome.
        (Some(_), None) => Ok(session.ended_at),
        (Some(has), Some(missing)) => Err(SyncRefusal::PartlyEnded { has, missing }),
        // Live: no end, no counts, no ratings.
        (None, _) => match has(&counts) {
            Some(has) => Err(SyncRefusal::PartlyEnded {
                has,
                missing: "ended_at",
            }),
            None if !session.ratings.is_empty() => Err(SyncRefusal::PartlyEnded {
                has: "ratings",
                missing: "ended_at",
            }),
            None => Ok(None),
        },
    }
}

pub(crate) use crate::domain::is_unprintable;

/// The session's free text holds nothing a terminal acts on: its end
/// message, reason and the notes of the injuries it started with.
fn check_text(session: &ExportedSession) -> Result<(), SyncRefusal> {
    let notes = session
        .facts
        .injuries
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            f.note
                .as_deref()
                .map(|n| (format!("facts.injuries[{i}].note"), n))
        });
    let texts = [
        ("message".to_owned(), session.message.as_deref()),
        ("reason".to_owned(), session.reason.as_deref()),
        (
            "options.instrument".to_owned(),
            session.options.instrument.as_deref(),
        ),
    ]
    .into_iter()
    .filter_map(|(f, t)| t.map(|t| (f, t)))
    .chain(notes)
    .chain(
        session
            .options
            .reasons
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("options.reasons[{i}]"), r.as_str())),
    );
    for (field, text) in texts {
        if text.chars().any(is_unprintable) {
            return Err(SyncRefusal::Unprintable { field });
        }
    }
    Ok(())
}

/// A claim that differs from the replay, both shown as JSON (`null` for none).
fn mismatch(
    field: &str,
    claimed: impl serde::Serialize,
    replayed: impl serde::Serialize,
) -> SyncRefusal {
    let show = |v: serde_json::Result<serde_json::Value>| {
        v.map_or_else(|e| format!("(unprintable: {e})"), |v| short_json(&v))
    };
    SyncRefusal::Mismatch {
        field: field.to_owned(),
        claimed: show(serde_json::to_value(claimed)),
        replayed: show(serde_json::to_value(replayed)),
    }
}

/// An outcome as words: `completed`, `stopped (pain-with-pop)`.
fn outcome_words(o: Option<&SessionOutcome>) -> String {
    match o {
        None => "none".to_owned(),
        Some(o) => match o.reason_id() {
            Some(reason) => format!("{} ({reason})", o.kind()),
            None => o.kind().to_owned(),
        },
    }
}

/// Replays the session's log and gives the record it proves (`None` for a
/// session whose counts recovery could not establish, or a live one: they
/// claim nothing to derive), or the one difference between what the
/// session claims and what its log proves.
fn check_replay(
    session: &ExportedSession,
    protocol: Arc<Protocol>,
    source: Source,
) -> Result<Option<Derived>, SyncRefusal> {
    // A session recovery could not replay is recorded as interrupted with
    // its counts unknown. It is replayed all the same (issue 24, finding 3):
    // accepted as it is only if its log really does not replay; a log that
    // replays proves what came of the session, and a claim that differs
    // (an "interrupted" over a pain stop) is refused as any other.
    let unknown_counts = session.reps_done.is_none()
        && session.active_ms.is_none()
        && session.summary.is_none()
        && session.ratings.is_empty();
    let unreplayable = source == Source::Imported
        && session.outcome == Some(SessionOutcome::Interrupted)
        && unknown_counts;
    let start = Start {
        protocol,
        options: &session.options,
        facts: &session.facts,
        started_at: session.started_at,
    };
    let replayed = match replay::replay(start, &session.events, session.ended_at) {
        Ok(replayed) => replayed,
        Err(_) if unreplayable => return Ok(None),
        Err(e) => return Err(SyncRefusal::Replay(e)),
    };
    // A runner never logs an input the session refuses; an imported
    // history may hold some (drivers before the runner logged every input
    // before applying it): they changed nothing then and change nothing in
    // the replay.
    if let Some(r) = replayed
        .rejected
        .first()
        .filter(|_| source == Source::Pushed)
    {
        let e = &session.events[r.index.min(session.events.len().saturating_sub(1))];
        return Err(SyncRefusal::Rejected {
            seq: e.seq,
            input: input_name(e.input),
            at_ms: r.at_ms,
            why: r.error.to_string(),
        });
    }
    if session.ended_at.is_none() {
        // A live session (imported): its log replays, and it claims nothing yet.
        return Ok(None);
    }
    let derived = derive(session, &replayed);
    match claim_difference(session, &derived) {
        Some(refusal) => Err(refusal),
        None => Ok(Some(derived)),
    }
}

/// The record a session's log proves: the session as pushed (its uid,
/// protocol, start, options, facts, end time and log), with everything the
/// end decides taken from the replay ([`crate::rules::recorded_end`]): the
/// outcome and its reason, reps, active time, the starting pairing, the
/// ratings, the summary, and the engine's end message (an interrupted
/// session has none from the engine: the device's words are kept).
///
/// The derived fields are the record's own; the rest (the protocol snapshot
/// and the log, most of a session's size) stays with the pushed session,
/// which [`accept`] fills in place: nothing large is copied.
struct Derived {
    outcome: Option<SessionOutcome>,
    reason: Option<String>,
    message: Option<String>,
    reps_done: Option<u32>,
    reps_target: u32,
    active_ms: Option<u64>,
    pairing: Option<rollcoach_protocol::Pairing>,
    ratings: Vec<RatingResult>,
    summary: Option<Summary>,
}

fn derive(session: &ExportedSession, replayed: &replay::Replayed) -> Derived {
    let end = crate::rules::recorded_end(&replayed.summary, &session.options);
    Derived {
        outcome: Some(replayed.outcome.clone()),
        reason: replayed.outcome.reason_id(),
        message: replayed.message.clone().or_else(|| session.message.clone()),
        reps_done: Some(end.reps_done),
        reps_target: replayed.summary.reps_target,
        active_ms: Some(end.active_ms),
        pairing: end.pairing,
        ratings: end.ratings,
        summary: Some(replayed.summary.clone()),
    }
}

impl Derived {
    /// The pushed session with its derived fields: the record to store.
    fn apply(self, mut session: ExportedSession) -> ExportedSession {
        session.outcome = self.outcome;
        session.reason = self.reason;
        session.message = self.message;
        session.reps_done = self.reps_done;
        session.reps_target = self.reps_target;
        session.active_ms = self.active_ms;
        session.pairing = self.pairing;
        session.ratings = self.ratings;
        session.summary = self.summary;
        session
    }
}

/// The first field where the claim differs from the derivation, in the
/// order a person reads a session (outcome first), as one refusal.
fn claim_difference(claimed: &ExportedSession, derived: &Derived) -> Option<SyncRefusal> {
    if claimed.outcome != derived.outcome {
        return Some(SyncRefusal::Mismatch {
            field: "outcome".into(),
            claimed: outcome_words(claimed.outcome.as_ref()),
            replayed: outcome_words(derived.outcome.as_ref()),
        });
    }
    if claimed.reason != derived.reason {
        return Some(mismatch("reason", &claimed.reason, &derived.reason));
    }
    if claimed.reps_done != derived.reps_done {
        return Some(mismatch("reps_done", claimed.reps_done, derived.reps_done));
    }
    if claimed.reps_target != derived.reps_target {
        return Some(mismatch(
            "reps_target",
            claimed.reps_target,
            derived.reps_target,
        ));
    }
    if claimed.active_ms != derived.active_ms {
        return Some(mismatch("active_ms", claimed.active_ms, derived.active_ms));
    }
    if crate::stored_ratings(&claimed.ratings) != derived.ratings {
        return Some(SyncRefusal::Mismatch {
            field: "ratings".into(),
            claimed: ratings_words(&claimed.ratings),
            replayed: ratings_words(&derived.ratings),
        });
    }
    if claimed.summary != derived.summary {
        // Name the part of the summary that differs, not all of it.
        let to_json = |s: Option<&Summary>| serde_json::to_value(s).unwrap_or_default();
        let (c, r) = (
            to_json(claimed.summary.as_ref()),
            to_json(derived.summary.as_ref()),
        );
        return Some(match first_difference("summary", &c, &r) {
            Some((field, claimed, replayed)) => SyncRefusal::Mismatch {
                field,
                claimed,
                replayed,
            },
            None => mismatch("summary", &claimed.summary, &derived.summary),
        });
    }
    if claimed.pairing != derived.pairing {
        return Some(mismatch("pairing", claimed.pairing, derived.pairing));
    }
    if claimed.message != derived.message {
        return Some(mismatch("message", &claimed.message, &derived.message));
    }
    None
}

/// Ratings as `id before->after`, for a message.
fn ratings_words(ratings: &[RatingResult]) -> String {
    let words: Vec<String> = crate::stored_ratings(ratings)
        .iter()
        .map(|r| {
            let v = |x: Option<u8>| x.map_or("-".to_owned(), |x| x.to_string());
            format!("{} {}->{}", r.id, v(r.before), v(r.after))
        })
        .collect();
    if words.is_empty() {
        "none".to_owned()
    } else {
        words.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use rollcoach_engine::{Facts, Options, Output, PainKind, Prompt, Runner};
    use rollcoach_protocol::Answer;

    use super::*;

    const T0: Time = Time(1_795_597_200_000);
    /// This server's now: a day after the session.
    const NOW: Time = Time(T0.0 + 86_400_000);

    fn catalog() -> Vec<Arc<Protocol>> {
        rollcoach_protocol::builtin()
            .into_iter()
            .map(Arc::new)
            .collect()
    }

    /// How the simulated person behaves.
    #[derive(Default)]
    struct Plan {
        /// Every rating given.
        rating: Option<u8>,
        /// Pain with a pop at the start of this rep.
        pain_at_rep: Option<u32>,
        /// The page dies at the start of this rep: interrupted.
        gone_at_rep: Option<u32>,
    }

    /// A session as a page would push it: driven by the engine's runner on
    /// a virtual clock, its log and end taken from the runner.
    fn pushed(plan: &Plan) -> ExportedSession {
        let protocol = catalog().remove(0);
        let options = Options {
            reasons: vec![protocol.indications[0].id.clone()],
            ..Options::default()
        };
        let mut runner =
            Runner::start(protocol.clone(), options.clone(), Facts::default(), T0).expect("fits");
        let mut log = Vec::new();
        let mut now = T0;
        let end = 'run: loop {
            let mut reply = None;
            while let Some((_, out)) = runner.poll_output() {
                match out {
                    Output::Prompt(Prompt::Screening { .. }) => {
                        reply = Some(Input::Answer { answer: Answer::No });
                    }
                    Output::Prompt(Prompt::Rating { .. }) => {
                        reply = Some(Input::Rating { value: plan.rating });
                    }
                    Output::Prompt(Prompt::Ready { .. }) => reply = Some(Input::Ready),
                    Output::Phase { rep, .. } if Some(rep) == plan.pain_at_rep => {
                        reply = Some(Input::Pain {
                            kind: PainKind::Pop,
                        });
                    }
                    Output::Phase { rep, .. } if Some(rep) == plan.gone_at_rep => {
                        break 'run runner.interrupt(now.plus_ms(700));
                    }
                    _ => {}
                }
            }
            let batch = match reply {
                Some(input) => {
                    now = now.plus_ms(900);
                    runner.offer(input, now).expect("fits")
                }
                None => match runner.next_deadline() {
                    Some(d) => {
                        now = d;
                        runner.advance(now)
                    }
                    None => break runner.end_record().expect("ended"),
                },
            };
            log.extend_from_slice(batch.entries());
            runner.commit(batch).expect("commits");
            if let Some(end) = runner.end_record() {
                break end;
            }
        };
        let events: Vec<crate::Event> = log.iter().map(Into::into).collect();
        ExportedSession::finished(crate::FinishedRun {
            uid: "phone-1",
            protocol: &protocol,
            protocol_json: &serde_json::to_value(&*protocol).expect("json"),
            options: &options,
            facts: &Facts::default(),
            started_at: T0,
            events: &events,
            end: &end,
        })
    }

    fn verify(s: &ExportedSession) -> Result<(), SyncRefusal> {
        verify_session(s, &SyncCatalog::new(&catalog()).expect("json"), NOW)
    }

    fn refused(s: &ExportedSession) -> String {
        verify(s).expect_err("refused").to_string()
    }

    #[test]
    fn honest_sessions_replay_to_their_claims() {
        let done = pushed(&Plan {
            rating: Some(6),
            ..Plan::default()
        });
        assert_eq!(done.outcome, Some(SessionOutcome::Completed));
        assert!(
            done.ratings
                .iter()
                .any(|r| r.before == Some(6) && r.after == Some(6))
        );
        verify(&done).expect("a completed session verifies");

        let stopped = pushed(&Plan {
            pain_at_rep: Some(3),
            ..Plan::default()
        });
        assert_eq!(stopped.reason.as_deref(), Some("pain-with-pop"));
        verify(&stopped).expect("a stopped session verifies");

        let gone = pushed(&Plan {
            gone_at_rep: Some(3),
            ..Plan::default()
        });
        assert_eq!(gone.outcome, Some(SessionOutcome::Interrupted));
        assert_eq!(gone.reps_done, Some(2));
        verify(&gone).expect("an interrupted session verifies");
    }

    #[test]
    fn a_completed_claim_with_a_pain_stop_inside_is_refused() {
        let mut s = pushed(&Plan {
            pain_at_rep: Some(2),
            ..Plan::default()
        });
        s.outcome = Some(SessionOutcome::Completed);
        s.reason = None;
        assert_eq!(
            verify(&s),
            Err(SyncRefusal::Mismatch {
                field: "outcome".into(),
                claimed: "completed".into(),
                replayed: "stopped (pain-with-pop)".into(),
            })
        );
        // Claiming the reps of a whole session is refused too.
        let mut s = pushed(&Plan {
            pain_at_rep: Some(2),
            ..Plan::default()
        });
        s.reps_done = Some(s.reps_target);
        let err = refused(&s);
        assert!(
            err.contains("claims reps_done 6") && err.contains("replays to 1"),
            "{err}"
        );
    }

    #[test]
    fn a_rating_of_11_is_refused_in_the_log_and_in_the_claim() {
        let mut s = pushed(&Plan {
            rating: Some(6),
            ..Plan::default()
        });
        let seq = s
            .events
            .iter_mut()
            .find(|e| matches!(e.input, Input::Rating { .. }))
            .map(|e| {
                e.input = Input::Rating { value: Some(11) };
                e.seq
            })
            .expect("a rating");
        assert_eq!(
            verify(&s),
            Err(SyncRefusal::OffScale {
                field: format!("events[{seq}].input.value"),
                what: format!("event {seq}'s rating"),
                value: 11
            })
        );
        let mut s = pushed(&Plan {
            rating: Some(6),
            ..Plan::default()
        });
        s.ratings[0].after = Some(11);
        let err = refused(&s);
        assert!(
            err.contains("after is 11") && err.contains("0 to 10"),
            "{err}"
        );
        // On the scale but not what the log says.
        let mut s = pushed(&Plan {
            rating: Some(6),
            ..Plan::default()
        });
        s.ratings[0].after = Some(2);
        let err = refused(&s);
        assert!(
            err.contains("claims ratings") && err.contains("6->2") && err.contains("6->6"),
            "{err}"
        );
    }

    #[test]
    fn reps_beyond_the_protocol_are_refused() {
        let mut s = pushed(&Plan::default());
        let most = catalog()[0].movement.reps.max;
        s.reps_done = Some(most + 1);
        assert_eq!(
            verify(&s),
            Err(SyncRefusal::RepsBeyondProtocol {
                field: "reps_done",
                claimed: most + 1,
                id: s.protocol_id.clone(),
                most,
            })
        );
        // Options asking for more reps than the protocol allows do not replay.
        let mut s = pushed(&Plan::default());
        s.options.reps = Some(most + 5);
        let err = refused(&s);
        assert!(err.contains("does not replay"), "{err}");
    }

    #[test]
    fn reordered_or_renumbered_logs_are_refused() {
        let mut s = pushed(&Plan::default());
        s.events.swap(1, 2);
        assert_eq!(verify(&s), Err(SyncRefusal::Seq { index: 1, seq: 2 }));
        // Renumbered to look in order, but the inputs swapped: the log no
        // longer replays (a ready during screening) or goes back in time.
        let mut s = pushed(&Plan::default());
        let n = s.events.len();
        s.events.swap(n - 3, n - 1);
        for (i, e) in s.events.iter_mut().enumerate() {
            e.seq = u32::try_from(i).expect("small");
        }
        let err = refused(&s);
        assert!(err.contains("back in time"), "{err}");
        let mut s = pushed(&Plan::default());
        s.events.remove(0);
        assert_eq!(verify(&s), Err(SyncRefusal::Seq { index: 0, seq: 1 }));
    }

    #[test]
    fn a_log_squeezed_in_time_does_not_replay_to_its_claim() {
        // The same inputs, every one after the first ten seconds of rolling moved to
        // then: timeouts before their deadlines complete nothing.
        let mut s = pushed(&Plan::default());
        let first_timeout = s
            .events
            .iter()
            .find(|e| e.input == Input::Timeout)
            .map(|e| e.at_ms)
            .expect("a timeout");
        for e in &mut s.events {
            e.at_ms = e.at_ms.min(first_timeout + 10_000);
        }
        // The rating after the rolling then comes while it still rolls.
        let err = refused(&s);
        assert!(
            err.contains("(`rating` at") && err.contains("the session is rolling rep 2 of 6"),
            "{err}"
        );
        // Without the ratings after, the claim of a whole session is refused.
        s.events
            .retain(|e| !matches!(e.input, Input::Rating { .. }) || e.seq < 5);
        for (i, e) in s.events.iter_mut().enumerate() {
            e.seq = u32::try_from(i).expect("small");
        }
        let err = refused(&s);
        assert!(
            err.contains("claims outcome completed") && err.contains("replays to interrupted"),
            "{err}"
        );
    }

    #[test]
    fn an_input_the_session_would_not_take_is_refused() {
        let mut s = pushed(&Plan::default());
        // A ready where the first screening answer was.
        s.events[0].input = Input::Ready;
        let err = refused(&s);
        assert!(
            err.contains("event 0 (`ready`") && err.contains("does not fit"),
            "{err}"
        );
    }

    #[test]
    fn a_different_protocol_snapshot_is_refused_naming_the_difference() {
        let mut s = pushed(&Plan::default());
        s.protocol["movement"]["reps"]["max"] = serde_json::json!(99);
        let known = catalog()[0].movement.reps.max;
        assert_eq!(
            verify(&s),
            Err(SyncRefusal::ProtocolDiffers {
                id: s.protocol_id.clone(),
                version: s.protocol_version,
                path: "protocol.movement.reps.max".into(),
                pushed: "99".into(),
                known: known.to_string(),
            })
        );
        let mut s = pushed(&Plan::default());
        s.protocol_version += 1;
        assert!(refused(&s).contains("but this server has version"));
        let mut s = pushed(&Plan::default());
        s.protocol_id = "knees".into();
        let err = refused(&s);
        assert!(
            err.contains("no protocol `knees`") && err.contains("upper-back"),
            "{err}"
        );
        let mut s = pushed(&Plan::default());
        s.protocol = serde_json::json!("a string");
        let err = refused(&s);
        assert!(err.contains("at `protocol`"), "{err}");
    }

    /// Issue 19: the protocol id's one rule (`ProtocolId::parse`), the one
    /// `protocols lint` and the import apply, before any catalog look-up.
    #[test]
    fn a_pushed_protocol_id_goes_through_the_one_rule() {
        let mut s = pushed(&Plan::default());
        s.protocol_id = "a".repeat(65);
        let err = verify(&s).unwrap_err();
        assert_eq!(err.field(), "protocol_id");
        assert_eq!(
            err,
            SyncRefusal::ProtocolId(ProtocolIdError::TooLong { len: 65 })
        );
        assert!(err.to_string().contains("at most 64"), "{err}");
        s.protocol_id = "Upper\u{1b}[2J".into();
        let err = refused(&s);
        assert!(
            err.contains("is not a protocol id") && !err.contains('\u{1b}'),
            "{err}"
        );
    }

    #[test]
    fn ends_and_times_are_checked() {
        let mut s = pushed(&Plan::default());
        s.ended_at = None;
        assert_eq!(
            verify(&s),
            Err(SyncRefusal::NotEnded {
                missing: "ended_at"
            })
        );
        let mut s = pushed(&Plan::default());
        s.ended_at = Some(Time(T0.0 - 1));
        assert!(refused(&s).contains("before it starts"));
        let mut s = pushed(&Plan::default());
        s.ended_at = Some(T0.plus_ms(1));
        assert!(refused(&s).contains("before its last input"));
        let mut s = pushed(&Plan::default());
        let later = NOW.plus_ms(INJURY_CLOCK_SKEW_MS + 1);
        s.ended_at = Some(later);
        assert_eq!(
            verify(&s),
            Err(SyncRefusal::InTheFuture {
                what: "end",
                at: later,
                now: NOW
            })
        );
        // A phone clock a little ahead is fine.
        let mut s = pushed(&Plan::default());
        s.ended_at = Some(NOW.plus_ms(INJURY_CLOCK_SKEW_MS));
        verify(&s).expect("within the skew");
        let mut s = pushed(&Plan::default());
        s.uid = String::new();
        assert!(refused(&s).contains("is empty"));
    }

    #[test]
    fn the_end_message_and_summary_must_be_the_replays() {
        let mut s = pushed(&Plan {
            pain_at_rep: Some(2),
            ..Plan::default()
        });
        s.message = Some("All done, well done!".into());
        let err = refused(&s);
        assert!(err.contains("claims message"), "{err}");
        let mut s = pushed(&Plan::default());
        if let Some(summary) = &mut s.summary {
            summary.noises = 4;
        }
        let err = refused(&s);
        assert!(
            err.contains("claims summary.noises 4") && err.contains("replays to 0"),
            "{err}"
        );
        let mut s = pushed(&Plan::default());
        s.active_ms = Some(1);
        assert!(refused(&s).contains("claims active_ms"));
    }
}
