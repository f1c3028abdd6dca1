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
//!   `protocol` snapshot, with that id, version and area, is the protocol
//!   this rollcoach knows under that id and version (compared as sync
//!   compares a pushed one), or, for one it does not know, a protocol it
//!   can run (checked as a protocol file is, `Protocol::from_json`), holding
//!   no control characters and not weakening the handout's safety rules
//!   (`Protocol::safety_warnings`);
//! - its times are from [`EARLIEST`] to now plus the clock skew the engine
//!   allows ([`rollcoach_engine::INJURY_CLOCK_SKEW_MS`]), it ends no earlier than it starts
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
//! imported session may be live, or interrupted with its counts unknown
//! when its log really does not replay (recovery could not replay it; a log
//! that replays must give what the session claims, so that an
//! "interrupted" never hides a stop), and it is replayed against its own
//! snapshot, not the catalog's protocol (a history holds sessions of
//! protocol versions that are gone). A session accepted is what its log
//! proves: every count and outcome it claims equals the replay's. An injury is accepted if its area is
//! one the catalog's protocols cover, it was logged no later than now
//! (plus the skew) and dated no later than it was logged nor before 2000,
//! it was cleared after it was logged and not in the future, and its note
//! is a note (at most 500 characters, no control characters). Each of
//! those fields is checked by its type in [`crate::domain`], the rule every
//! writer of an injury (`rollcoach injury add`, `POST /api/injuries`, sync)
//! follows too, so that what rollcoach writes it imports.
//!
//! A refusal ([`ImportRefusal`]) names the session (its number in the
//! file, from 1, and its uid) or the injury, the field, what is wrong, and
//! how to fix it.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::Arc;

use rollcoach_engine::Time;
use rollcoach_protocol::{Protocol, ProtocolId};

use crate::domain::{Area, InjuryNote, InjuryTime, RecordTime, Uid, shown};
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
        // The protocol id's one rule, the one `protocols lint` applies.
        if let Err(e) = ProtocolId::parse(&s.protocol_id) {
            return Err(refuse("protocol_id", e.problem(), RESTORE));
        }
        if !is_id(&s.area) {
            return Err(refuse(
                "area",
                format!(
                    "\"{}\" is not a protocol id (kebab-case: lowercase letters, digits and \
                     hyphens)",
                    shown(&s.area)
                ),
                RESTORE,
            ));
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
        // A snapshot that claims a protocol this rollcoach knows (its id
        // and version) must be that protocol, as a pushed one must.
        // (One whose own id or version is not the session's is refused for
        // that, below.)
        let claims = json.get("id").and_then(|v| v.as_str()) == Some(s.protocol_id.as_str())
            && json.get("version").and_then(serde_json::Value::as_u64)
                == Some(u64::from(s.protocol_version));
        if claims
            && let Some((path, snapshot, known)) =
                self.rules
                    .catalog
                    .known_difference(&s.protocol_id, s.protocol_version, json)
        {
            return Err((
                path.clone(),
                format!(
                    "the session ran protocol `{}` version {}, which this rollcoach knows, but \
                     its snapshot differs from it at `{path}`: the snapshot has {snapshot}, \
                     rollcoach's has {known}",
                    shown(&s.protocol_id),
                    s.protocol_version
                ),
            ));
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
        // Checked as a protocol file is (`Protocol::from_json`): the same
        // types and rules; the first problem's field is the one named.
        let protocol = Protocol::from_json(&json.to_string()).map_err(|e| {
            let field = match e.0.first() {
                Some(p) if !p.path.is_empty() => format!("protocol.{}", p.path),
                _ => "protocol".to_owned(),
            };
            let problems: Vec<String> = e.0.iter().map(ToString::to_string).collect();
            (
                field,
                format!(
                    "the snapshot is not a protocol this rollcoach can run: {}",
                    problems.join("; ")
                ),
            )
        })?;
        // Nor one that weakens the handout's safety rules (no screening, an
        // injury question that lets "yes, injured" through, a short injury
        // window, no discomfort stop): what `protocols lint` warns of a
        // file, an import refuses of a snapshot it cannot compare.
        if let Some(w) = protocol.safety_warnings().into_iter().next() {
            return Err((
                format!("protocol.{}", w.path),
                format!(
                    "the snapshot weakens the handout's safety rules: {}",
                    w.message
                ),
            ));
        }
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
        RecordTime::parse(exported_at, self.rules.now)
            .map(|_| ())
            .map_err(|e| refuse(e.problem().to_owned()))
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
        // Each field through its domain type (crate::domain), the rules
        // every writer of an injury follows.
        Area::parse(self.rules.catalog.protocols(), &injury.area).map_err(|e| {
            refuse(
                "area",
                e.problem().to_owned(),
                &format!(
                    "{}, or add the protocol file that covers the injury's area to the \
                     protocols directory and import again",
                    e.fix()
                ),
            )
        })?;
        // A version 1 document's injuries have had theirs derived by now
        // ([`ExportedInjury::fill_missing_uids`]).
        Uid::parse(&injury.uid).map_err(|e| {
            refuse(
                "uid",
                e.problem().replacen("the uid", "the injury's uid", 1),
                "give the injury the uid rollcoach wrote for it (1 to 128 ASCII letters, \
                 digits, `-`, `_`, `.`, `:`), or remove the `uid` field to have one derived",
            )
        })?;
        let now = self.rules.now;
        // The rule every input of an injury follows: dated no later than it
        // was logged (nor than the document was written, nor now), and not
        // before 2000. A time before 2000 is told first, then the other
        // times, then an `at` after its logging.
        let logged = injury.created_at.min(exported_at).min(now);
        let at = InjuryTime::parse(injury.at, logged).map_err(|e| {
            if injury.at < EARLIEST {
                refuse("at", e.problem().to_owned(), RESTORE)
            } else {
                // The engine's words whole (`problem; fix`), as the CLI and
                // the API give them.
                refuse(
                    "at",
                    format!("{e} (logged at {})", DisplayTime(logged)),
                    clock,
                )
            }
        });
        if injury.at < EARLIEST {
            at?;
        } else {
            let times = [
                ("created_at", Some(injury.created_at)),
                ("cleared_at", injury.cleared_at),
            ];
            for (field, t) in times {
                let Some(t) = t else { continue };
                RecordTime::parse(t, now).map_err(|e| {
                    let fix = if t < EARLIEST { RESTORE } else { clock };
                    refuse(field, e.problem().to_owned(), fix)
                })?;
            }
            at?;
        }
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
        if let Some(note) = &injury.note {
            InjuryNote::parse(note).map_err(|e| {
                refuse(
                    "note",
                    e.problem().to_owned(),
                    &format!("{} and import again", e.fix()),
                )
            })?;
        }
        Ok(())
    }
}

/// An area: kebab-case, 1 to 64 characters (as a protocol id).
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
