//! The store's rules, once, as pure functions: backends supply rows and
//! apply the results; the phone page calls the same functions through its
//! WebAssembly module. Nothing here reads a clock or does I/O.
//!
//! - [`facts`]: what a session of a protocol starts with, and
//!   [`last_pairing`], the pairing it carries over.
//! - [`merge_injury`]: what an incoming copy of an injury (an import, a
//!   sync push, a pull on the phone) does to the stored one.
//! - What is recorded at a session's start ([`recorded_start`]: the reps
//!   planned and the pairing chosen) and at its end:
//!   [`crate::ExportedSession::finished`] (the whole record of a finished
//!   run) and [`recorded_end`] (the columns a store writes at the end, from
//!   the engine's summary).

use rollcoach_engine::{Facts, InjuryFact, RatingResult, Summary, Time};
use rollcoach_protocol::Pairing;
use serde::{Deserialize, Serialize};

use rollcoach_engine::Options;

use crate::{Conflict, ExportedInjury, Injury, StoreError, stored_ratings};

/// The facts a session of a protocol of `area` starts with: the injuries in
/// the area that are not cleared, oldest first (by when they happened;
/// injuries of the same time keep the order given, the order they were
/// logged in; the engine applies the window), and the breathing pairing the
/// most recent session of the protocol started with ([`last_pairing`]).
pub fn facts<'a>(
    area: &str,
    injuries: impl IntoIterator<Item = &'a Injury>,
    last_pairing: Option<Pairing>,
) -> Facts {
    let mut open: Vec<&Injury> = injuries
        .into_iter()
        .filter(|i| i.area == area && i.cleared_at.is_none())
        .collect();
    open.sort_by_key(|i| i.at);
    Facts {
        injuries: open
            .into_iter()
            .map(|i| InjuryFact {
                at: i.at,
                note: i.note.clone(),
            })
            .collect(),
        last_pairing,
    }
}

/// A session as [`last_pairing`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairingOf<'a> {
    /// Its protocol's id.
    pub protocol_id: &'a str,
    /// When it started.
    pub started_at: Time,
    /// The pairing it started with, once known.
    pub pairing: Option<Pairing>,
}

/// The pairing the newest session of `protocol_id` that has one started
/// with (of two that started at once, the later given): what a new session
/// of the protocol carries over. A live session has none yet and is passed
/// over. (SQLite answers it from an index, `LAST_PAIRING_SQL`; the
/// conformance suite holds both to the same answers.)
pub fn last_pairing<'a>(
    protocol_id: &str,
    sessions: impl IntoIterator<Item = PairingOf<'a>>,
) -> Option<Pairing> {
    sessions
        .into_iter()
        .filter(|s| s.protocol_id == protocol_id)
        .filter_map(|s| s.pairing.map(|p| (s.started_at, p)))
        .fold(None, |best: Option<(Time, Pairing)>, (at, p)| match best {
            Some((t, _)) if t > at => best,
            _ => Some((at, p)),
        })
        .map(|(_, p)| p)
}

/// What an incoming copy of an injury does to the store that may hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "merge")]
pub enum InjuryMerge {
    /// The store does not have it: add it, with its clearing.
    Add,
    /// The store has it not cleared and the copy is cleared: clear it at
    /// the copy's time. Clearing only moves forward.
    Clear {
        /// When the copy says it was cleared.
        cleared_at: Time,
    },
    /// The store has it already as it is (or cleared already, at its own
    /// time, which it keeps): nothing to do.
    Same,
}

/// A copy of an injury with the uid of a stored one but not its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotTheSame {
    /// The first field that differs (`area`, `at`, `note`, `created_at`).
    pub field: &'static str,
}

impl NotTheSame {
    /// As the store's error, for the copy with this uid
    /// ([`Conflict::InjuryDiffers`]).
    pub fn into_error(self, uid: &str) -> StoreError {
        Conflict::InjuryDiffers {
            uid: uid.to_owned(),
            field: self.field,
        }
        .into()
    }
}

/// The rule of injury identity: an injury is never edited, so a copy with
/// the uid of a stored injury but another area, time, note or logging time
/// is not the same injury ([`NotTheSame`], naming the first field that
/// differs; a store refuses it as [`Conflict::InjuryDiffers`]); otherwise
/// [`InjuryMerge`] says what to do.
pub fn merge_injury(
    stored: Option<&Injury>,
    incoming: &ExportedInjury,
) -> Result<InjuryMerge, NotTheSame> {
    let Some(s) = stored else {
        return Ok(InjuryMerge::Add);
    };
    let differs = [
        ("area", s.area != incoming.area),
        ("at", s.at != incoming.at),
        ("note", s.note != incoming.note),
        ("created_at", s.created_at != incoming.created_at),
    ]
    .into_iter()
    .find_map(|(field, differs)| differs.then_some(field));
    if let Some(field) = differs {
        return Err(NotTheSame { field });
    }
    Ok(match (s.cleared_at, incoming.cleared_at) {
        (None, Some(cleared_at)) => InjuryMerge::Clear { cleared_at },
        _ => InjuryMerge::Same,
    })
}

/// What a store records at a session's start besides what the engine was
/// given (the protocol, options and facts, kept whole for the replay).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedStart {
    /// Reps planned: the options' count, else the protocol's default.
    pub reps_target: u32,
    /// The pairing the options chose, if any (the end records the one the
    /// session actually started with).
    pub pairing: Option<Pairing>,
}

/// [`RecordedStart`] of a session of `protocol` started with `options`.
pub fn recorded_start(protocol: &rollcoach_protocol::Protocol, options: &Options) -> RecordedStart {
    RecordedStart {
        reps_target: options.reps.unwrap_or(protocol.movement.reps.default),
        pairing: options.pairing,
    }
}

/// What a store records at a session's end besides the outcome and the
/// message, derived from the engine's summary: the columns every backend
/// writes, so no backend decides them itself.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEnd {
    /// Full reps done.
    pub reps_done: u32,
    /// Milliseconds rolling, pauses excluded.
    pub active_ms: u64,
    /// The pairing the session started with: the first one used, else the
    /// one the options chose (a session that never rolled).
    pub pairing: Option<Pairing>,
    /// The ratings that have a value, by rating id.
    pub ratings: Vec<RatingResult>,
}

/// [`RecordedEnd`] of a summary, for a session started with `options`.
pub fn recorded_end(summary: &Summary, options: &Options) -> RecordedEnd {
    RecordedEnd {
        reps_done: summary.reps_done,
        active_ms: summary.active_ms,
        pairing: summary.pairings.first().copied().or(options.pairing),
        ratings: stored_ratings(&summary.ratings),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn injury(uid: &str, area: &str, at: u64, cleared: Option<u64>) -> Injury {
        Injury {
            number: 1,
            uid: uid.into(),
            area: area.into(),
            at: Time(at),
            note: None,
            created_at: Time(at + 5),
            cleared_at: cleared.map(Time),
        }
    }

    fn exported(i: &Injury) -> ExportedInjury {
        ExportedInjury {
            uid: i.uid.clone(),
            area: i.area.clone(),
            at: i.at,
            note: i.note.clone(),
            created_at: i.created_at,
            cleared_at: i.cleared_at,
        }
    }

    #[test]
    fn facts_keep_the_open_injuries_of_the_area_oldest_first() {
        let p = rollcoach_protocol::builtin().remove(0);
        let list = [
            injury("b", &p.area, 2_000, None),
            injury("a", &p.area, 1_000, None),
            injury("c", &p.area, 500, Some(900)),
            injury("d", "elsewhere", 100, None),
        ];
        let f = facts(&p.area, &list, Some(Pairing::InhaleBack));
        let ats: Vec<u64> = f.injuries.iter().map(|i| i.at.0).collect();
        assert_eq!(ats, [1_000, 2_000]);
        assert_eq!(f.last_pairing, Some(Pairing::InhaleBack));
    }

    #[test]
    fn the_pairing_carried_over_is_the_newest_sessions_of_the_protocol() {
        let s = |protocol_id, at, pairing| PairingOf {
            protocol_id,
            started_at: Time(at),
            pairing,
        };
        let list = [
            s("upper-back", 1_000, Some(Pairing::InhaleOut)),
            s("upper-back", 3_000, None), // live: none yet
            s("other", 4_000, Some(Pairing::InhaleBack)),
            s("upper-back", 2_000, Some(Pairing::InhaleBack)),
        ];
        assert_eq!(last_pairing("upper-back", list), Some(Pairing::InhaleBack));
        assert_eq!(last_pairing("nothing", list), None);
    }

    #[test]
    fn an_injury_merges_by_uid_and_a_clear_only_moves_forward() {
        let open = injury("u", "upper-back", 1_000, None);
        let mut cleared = open.clone();
        cleared.cleared_at = Some(Time(4_000));
        assert_eq!(
            merge_injury(None, &exported(&open)).unwrap(),
            InjuryMerge::Add
        );
        assert_eq!(
            merge_injury(Some(&open), &exported(&cleared)).unwrap(),
            InjuryMerge::Clear {
                cleared_at: Time(4_000)
            }
        );
        // Cleared here, not there: it stays cleared.
        assert_eq!(
            merge_injury(Some(&cleared), &exported(&open)).unwrap(),
            InjuryMerge::Same
        );
        let mut other = exported(&open);
        other.note = Some("another".into());
        let e = merge_injury(Some(&open), &other).unwrap_err();
        assert_eq!(e, NotTheSame { field: "note" });
        let e = e.into_error("u");
        assert!(
            matches!(
                e,
                StoreError::Conflict(Conflict::InjuryDiffers { field: "note", .. })
            ),
            "{e}"
        );
    }
}
