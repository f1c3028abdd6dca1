//! Import validation (issue 13, finding 5): what every field of an export
//! document means, checked before anything is written.
//!
//! [`crate::import_stream`] reads a document twice; its first pass gives
//! each session to an [`ImportCheck`] as it is read (memory holds one
//! session, a few parsed protocol snapshots and 16 bytes per uid), then the
//! injuries. A session is accepted only if
//!
//! - its uid is a uid (1 to 128 ASCII letters, digits, `-`, `_`, `.`, `:`)
//!   and no earlier session of the file has it;
//! - its `protocol_id` and `area` are protocol ids (kebab-case), and its
//!   `protocol` snapshot is a protocol this rollcoach can run, with that id,
//!   version and area, holding no control characters;
//! - its times are from [`EARLIEST`] to now plus the clock skew the engine
//!   allows ([`INJURY_CLOCK_SKEW_MS`]), it ends no earlier than it starts
//!   and than its last input;
//! - it is either live (no end and no counts) or ended (an end time and an
//!   outcome), its ratings are on the 0 to 10 scale, its reps within its
//!   target and [`rollcoach_protocol::MAX_REPS`], its free text free of
//!   control characters;
//! - and its event log, replayed through the engine's session runner
//!   against its snapshot, gives exactly the outcome, reason, reps, active
//!   time, ratings, summary, pairing and message it claims.
//!
//! Those checks past the uid are [`crate::verify_session`]'s, the ones a
//! pushed session passes ([`crate::sync`]), with two differences: an
//! imported session may be live, or interrupted with its counts unknown (a
//! log that recovery could not replay), and it is replayed against its own
//! snapshot, not the catalog's protocol (a history holds sessions of
//! protocol versions that are gone). An injury is accepted if its area is
//! one the catalog's protocols cover, it was logged no later than now
//! (plus the skew) and dated no later than it was logged, and it was
//! cleared after it was logged and not in the future.
//!
//! A refusal ([`ImportRefusal`]) names the session (its number in the
//! file, from 1, and its uid) or the injury, the field, what is wrong, and
//! how to fix it.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::Arc;

use rollcoach_engine::{INJURY_CLOCK_SKEW_MS, Time, check_injury_time};
use rollcoach_protocol::Protocol;

use crate::sync::{EARLIEST, SyncCatalog, SyncRefusal, check_uid, is_unprintable, verify_imported};
use crate::{Corrupt, DisplayTime, ExportDocument, ExportedInjury, ExportedSession, StoreError};

/// What an import checks a document against: the protocols this rollcoach
/// knows (for the injuries' areas, and to skip parsing a snapshot that is
/// one of them) and the time now (nothing may come from the future). The
/// store never reads a clock: the caller gives `now`.
#[derive(Debug, Clone, Copy)]
pub struct ImportRules<'a> {
    /// The protocols (built-in and the user's).
    pub catalog: &'a SyncCatalog,
    /// Now.
    pub now: Time,
}

/// What an import refusal is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The document itself.
    Document,
    /// A session.
    Session {
        /// Its number in the file, from 1.
        number: u64,
        /// Its uid, as given.
        uid: String,
    },
    /// An injury.
    Injury {
        /// Its number in the file, from 1.
        number: u64,
        /// Its area, as given.
        area: String,
    },
}

/// Why an import document is refused: which session or injury, which field,
/// what is wrong and how to fix it. Nothing is imported then.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{}, field `{field}`: {problem}; to fix it: {fix}",
    subject_words(subject)
)]
pub struct ImportRefusal {
    /// The session or injury.
    pub subject: Subject,
    /// The field, as the document names it (`reps_done`, `ratings[0].after`,
    /// `events[7]`, `protocol.movement.reps.max`, ...).
    pub field: String,
    /// What is wrong.
    pub problem: String,
    /// How to fix it.
    pub fix: String,
}

impl From<ImportRefusal> for StoreError {
    fn from(r: ImportRefusal) -> StoreError {
        Corrupt::Export(r.to_string()).into()
    }
}

/// Text from a file, shown safely: control characters escaped, cut after
/// 64 characters.
fn shown(text: &str) -> String {
    let cut: String = text.chars().take(64).collect();
    let mut out: String = cut.chars().flat_map(char::escape_debug).collect();
    if text.chars().count() > 64 {
        out.push_str("...");
    }
    out
}

fn subject_words(s: &Subject) -> String {
    match s {
        Subject::Document => "the document".to_owned(),
        Subject::Session { number, uid } => format!("session {number} (uid \"{}\")", shown(uid)),
        Subject::Injury { number, area } => format!("injury {number} (area \"{}\")", shown(area)),
    }
}

/// The fix for a field that rollcoach wrote one way and the file has another.
const RESTORE: &str = "this is not what rollcoach wrote; restore the field from the original export, \
or remove the session from the file, and import again";

/// How to fix what a [`SyncRefusal`] says of an imported session.
fn fix_for(r: &SyncRefusal) -> &'static str {
    match r {
        SyncRefusal::Uid { .. } => {
            "give the session the uid rollcoach wrote for it (1 to 128 ASCII letters, digits, \
             `-`, `_`, `.` or `:`), or remove the session from the file"
        }
        SyncRefusal::InTheFuture { .. } => {
            "if this computer's clock is behind, set it right and import again; otherwise \
             restore the time from the original export, or remove the session from the file"
        }
        SyncRefusal::Unprintable { .. } => {
            "remove the control characters from the field (or the session from the file) and \
             import again"
        }
        SyncRefusal::Replay(_) => {
            "restore the session's `options` and `protocol` from the original export, or \
             remove the session from the file"
        }
        _ => RESTORE,
    }
}

/// Most parsed protocol snapshots kept (a history holds few versions).
const SNAPSHOTS_KEPT: usize = 8;

/// The first pass of an import: checks each session as it is read, then the
/// injuries. See the [module documentation](self).
#[derive(Debug)]
pub struct ImportCheck<'a> {
    rules: ImportRules<'a>,
    /// Parsed snapshots, the most recently used last.
    snapshots: Vec<(serde_json::Value, Arc<Protocol>)>,
    /// A 128-bit keyed hash of each uid seen, with its session's number:
    /// 16 bytes a session find a uid given twice (two different uids
    /// collide with odds of about n²/2¹²⁹).
    uids: HashMap<u128, u64>,
    keys: (RandomState, RandomState),
    sessions: u64,
}

impl<'a> ImportCheck<'a> {
    /// A check of one document against `rules`.
    pub fn new(rules: ImportRules<'a>) -> ImportCheck<'a> {
        ImportCheck {
            rules,
            snapshots: Vec::new(),
            uids: HashMap::new(),
            keys: (RandomState::new(), RandomState::new()),
            sessions: 0,
        }
    }

    /// Sessions checked so far.
    pub fn sessions(&self) -> u64 {
        self.sessions
    }

    /// Checks the next session of the document (they are numbered in the
    /// order given, from 1).
    pub fn session(&mut self, s: &ExportedSession) -> Result<(), ImportRefusal> {
        self.sessions += 1;
        let number = self.sessions;
        let refuse = |field: &str, problem: String, fix: &str| ImportRefusal {
            subject: Subject::Session {
                number,
                uid: s.uid.clone(),
            },
            field: field.to_owned(),
            problem,
            fix: fix.to_owned(),
        };
        let refused = |r: SyncRefusal| refuse(&r.field(), r.to_string(), fix_for(&r));
        check_uid(&s.uid).map_err(refused)?;
        let key = (u128::from(self.keys.0.hash_one(&s.uid)) << 64)
            | u128::from(self.keys.1.hash_one(&s.uid));
        if let Some(first) = self.uids.insert(key, number) {
            return Err(refuse(
                "uid",
                format!(
                    "sessions {first} and {number} of this file both have this uid; a uid names \
                     one session"
                ),
                "remove one of the two from the file if they are the same session, or give \
                 one the uid rollcoach wrote for it",
            ));
        }
        for (field, value) in [("protocol_id", &s.protocol_id), ("area", &s.area)] {
            if !is_id(value) {
                return Err(refuse(
                    field,
                    format!(
                        "\"{}\" is not a protocol id (kebab-case: lowercase letters, digits and \
                         hyphens)",
                        shown(value)
                    ),
                    RESTORE,
                ));
            }
        }
        let protocol = self.snapshot(s).map_err(|(field, problem)| {
            refuse(
                &field,
                problem,
                "restore the session's `protocol` from the original export, or remove the \
                 session from the file",
            )
        })?;
        verify_imported(s, protocol, self.rules.now).map_err(refused)
    }

    /// The protocol the session's snapshot is (the catalog's when it is the
    /// same, else one kept from an earlier session, else parsed and kept),
    /// with the session's own `protocol_id`, `protocol_version` and `area`
    /// checked against it whichever way it was found.
    fn snapshot(&mut self, s: &ExportedSession) -> Result<Arc<Protocol>, (String, String)> {
        let protocol = self.find_snapshot(s)?;
        let differs = |field: &str, session_field: &str, snapshot: String, session: String| {
            Err((
                format!("protocol.{field}"),
                format!(
                    "the snapshot's {field} is {snapshot}, but the session's `{session_field}` is {session}"
                ),
            ))
        };
        if protocol.id != s.protocol_id {
            return differs(
                "id",
                "protocol_id",
                format!("\"{}\"", shown(&protocol.id)),
                format!("\"{}\"", shown(&s.protocol_id)),
            );
        }
        if protocol.version != s.protocol_version {
            return differs(
                "version",
                "protocol_version",
                protocol.version.to_string(),
                s.protocol_version.to_string(),
            );
        }
        if protocol.area != s.area {
            return differs(
                "area",
                "area",
                format!("\"{}\"", shown(&protocol.area)),
                format!("\"{}\"", shown(&s.area)),
            );
        }
        Ok(protocol)
    }

    fn find_snapshot(&mut self, s: &ExportedSession) -> Result<Arc<Protocol>, (String, String)> {
        let json = &s.protocol;
        if let Some(p) = self
            .rules
            .catalog
            .same_as(&s.protocol_id, s.protocol_version, json)
        {
            return Ok(p);
        }
        if let Some(i) = self.snapshots.iter().position(|(v, _)| v == json) {
            let kept = self.snapshots.remove(i);
            let p = kept.1.clone();
            self.snapshots.push(kept);
            return Ok(p);
        }
        if let Some(path) = unprintable_in("protocol", json) {
            return Err((
                path,
                "holds control characters or bidirectional overrides, which a terminal would \
                 act on"
                    .to_owned(),
            ));
        }
        let protocol: Protocol = serde_json::from_value(json.clone()).map_err(|e| {
            (
                "protocol".to_owned(),
                format!("the snapshot is not a protocol this rollcoach can run: {e}"),
            )
        })?;
        let protocol = Arc::new(protocol);
        if self.snapshots.len() >= SNAPSHOTS_KEPT {
            self.snapshots.remove(0);
        }
        self.snapshots.push((json.clone(), protocol.clone()));
        Ok(protocol)
    }

    /// Checks the document's `exported_at`.
    pub fn exported_at(&self, exported_at: Time) -> Result<(), ImportRefusal> {
        let refuse = |problem: String| ImportRefusal {
            subject: Subject::Document,
            field: "exported_at".to_owned(),
            problem,
            fix: "if this computer's clock is behind, set it right and import again; otherwise \
                  restore the time from the original export"
                .to_owned(),
        };
        let now = self.rules.now;
        if exported_at > now.plus_ms(INJURY_CLOCK_SKEW_MS) {
            return Err(refuse(in_the_future(exported_at, now)));
        }
        if exported_at < EARLIEST {
            return Err(refuse(too_early(exported_at)));
        }
        Ok(())
    }

    /// Checks the document's injuries (written at `exported_at`).
    pub fn injuries(
        &self,
        injuries: &[ExportedInjury],
        exported_at: Time,
    ) -> Result<(), ImportRefusal> {
        for (i, injury) in injuries.iter().enumerate() {
            self.injury(i as u64 + 1, injury, exported_at)?;
        }
        Ok(())
    }

    fn injury(
        &self,
        number: u64,
        injury: &ExportedInjury,
        exported_at: Time,
    ) -> Result<(), ImportRefusal> {
        let refuse = |field: &str, problem: String, fix: &str| ImportRefusal {
            subject: Subject::Injury {
                number,
                area: injury.area.clone(),
            },
            field: field.to_owned(),
            problem,
            fix: fix.to_owned(),
        };
        let clock = "if this computer's clock is behind, set it right and import again; \
                     otherwise restore the time from the original export, or remove the injury \
                     from the file";
        rollcoach_protocol::check_area(self.rules.catalog.protocols(), &injury.area).map_err(
            |e| {
                let e = rollcoach_protocol::UnknownArea {
                    area: shown(&e.area),
                    ..e
                };
                refuse(
                    "area",
                    e.to_string(),
                    "give the injury one of the known areas, or add the protocol file that \
                     covers its area to the protocols directory and import again",
                )
            },
        )?;
        // A version 1 document's injuries have had theirs derived by now
        // ([`ExportedInjury::fill_missing_uids`]).
        check_uid(&injury.uid).map_err(|e| {
            let why = match e {
                SyncRefusal::Uid { why, .. } => why,
                _ => "is not a uid",
            };
            refuse(
                "uid",
                format!("the injury's uid \"{}\" {why}", shown(&injury.uid)),
                "give the injury the uid rollcoach wrote for it (1 to 128 ASCII letters, \
                 digits, `-`, `_`, `.`, `:`), or remove the `uid` field to have one derived",
            )
        })?;
        let now = self.rules.now;
        let latest = now.plus_ms(INJURY_CLOCK_SKEW_MS);
        let times = [
            ("at", Some(injury.at)),
            ("created_at", Some(injury.created_at)),
            ("cleared_at", injury.cleared_at),
        ];
        for (field, t) in times {
            let Some(t) = t else { continue };
            if t < EARLIEST {
                return Err(refuse(field, too_early(t), RESTORE));
            }
            // `at` gets the words every input of an injury gets, below.
            if field != "at" && t > latest {
                return Err(refuse(field, in_the_future(t, now), clock));
            }
        }
        // The rule every input of an injury follows: dated no later than it
        // was logged (nor than the document was written, nor now).
        let logged = injury.created_at.min(exported_at).min(now);
        check_injury_time(injury.at, logged).map_err(|e| {
            refuse(
                "at",
                format!("{e} (logged at {})", DisplayTime(logged)),
                clock,
            )
        })?;
        if let Some(cleared) = injury.cleared_at
            && cleared < injury.created_at
        {
            return Err(refuse(
                "cleared_at",
                format!(
                    "it was cleared ({}) before it was logged ({})",
                    DisplayTime(cleared),
                    DisplayTime(injury.created_at)
                ),
                RESTORE,
            ));
        }
        if injury
            .note
            .as_deref()
            .is_some_and(|n| n.chars().any(is_unprintable))
        {
            return Err(refuse(
                "note",
                "holds control characters or bidirectional overrides, which a terminal would \
                 act on"
                    .to_owned(),
                "remove the control characters from the note and import again",
            ));
        }
        Ok(())
    }
}

fn in_the_future(t: Time, now: Time) -> String {
    format!(
        "{} is in the future (now is {}; up to {} minutes ahead is allowed for clock skew)",
        DisplayTime(t),
        DisplayTime(now),
        INJURY_CLOCK_SKEW_MS / 60_000
    )
}

fn too_early(t: Time) -> String {
    format!(
        "{} is before {}; nothing rollcoach records is that old",
        DisplayTime(t),
        DisplayTime(EARLIEST)
    )
}

/// A protocol id or area: kebab-case, 1 to 64 characters.
fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The path of the first string in `v` (keys included) holding a character
/// a terminal would act on.
fn unprintable_in(path: &str, v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    let bad = |s: &str| s.chars().any(is_unprintable);
    match v {
        Value::String(s) if bad(s) => Some(path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| unprintable_in(&format!("{path}[{i}]"), x)),
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            let sub = format!("{path}.{}", shown(k));
            if bad(k) {
                Some(sub)
            } else {
                unprintable_in(&sub, x)
            }
        }),
        _ => None,
    }
}

impl ExportDocument {
    /// [`ExportDocument::check`], then every session's and injury's meaning
    /// against `rules` ([`ImportCheck`]): what [`crate::import_stream`]
    /// checks of a file, for a document already in memory.
    pub fn validate(&self, rules: ImportRules<'_>) -> crate::Result<()> {
        self.check()?;
        let mut check = ImportCheck::new(rules);
        check.exported_at(self.exported_at)?;
        for s in &self.sessions {
            check.session(s)?;
        }
        check.injuries(&self.injuries, self.exported_at)?;
        Ok(())
    }
}
