//! The injury rule, in one place: which logged injuries block a protocol
//! until when, and which injury times are accepted at all. The session's
//! screening, the server's API, the terminal and import all call these; no
//! front-end computes the window itself.

use rollcoach_protocol::Protocol;
use serde::{Deserialize, Serialize};

use crate::{InjuryFact, Time};

/// How far ahead of now an injury's time may be and still be accepted, as
/// now: 5 minutes, for a phone or a computer whose clock runs a little ahead
/// of the one that records it. Anything later is refused.
pub const INJURY_CLOCK_SKEW_MS: u64 = 5 * 60_000;

/// A protocol blocked by the injury log: the handout's rule that a recent
/// injury in the area is not mobilized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InjuryBlock {
    /// When the injury that decides happened (the latest blocking one).
    pub injured_at: Time,
    /// When the protocol becomes allowed again: `injured_at` plus the
    /// protocol's window.
    pub allowed_at: Time,
}

/// Whether the injuries (those logged in the protocol's area and not
/// cleared) block `protocol` at `now`, and until when.
///
/// An injury blocks from when it happened until the protocol's window has
/// passed; with several, the latest decides. An injury dated after `now` is
/// refused at input ([`check_injury_time`]); one that is in the log anyway
/// (an older database, a clock set back) blocks until its own time plus the
/// window: the rule errs on the side of not rolling.
pub fn injury_block(
    protocol: &Protocol,
    injuries: &[InjuryFact],
    now: Time,
) -> Option<InjuryBlock> {
    let window_ms = protocol.screening.injury_rule.window_ms();
    injuries
        .iter()
        .map(|i| i.at)
        .filter(|at| at.plus_ms(window_ms) > now)
        .max()
        .map(|injured_at| InjuryBlock {
            injured_at,
            allowed_at: injured_at.plus_ms(window_ms),
        })
}

/// Checks the time an injury is logged with, at `now`: an injury dated in
/// the future is refused. Returns the time to record: `at` itself, or `now`
/// for a time at most [`INJURY_CLOCK_SKEW_MS`] ahead (clock skew).
///
/// Every input of an injury goes through here: `rollcoach injury add`,
/// `POST /api/injuries` and import.
pub fn check_injury_time(at: Time, now: Time) -> Result<Time, InjuryTimeError> {
    if at <= now {
        Ok(at)
    } else if at.since(now) <= INJURY_CLOCK_SKEW_MS {
        Ok(now)
    } else {
        Err(InjuryTimeError::InTheFuture {
            at,
            now,
            ahead_ms: at.since(now),
        })
    }
}

/// Why an injury's time is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InjuryTimeError {
    /// The time is later than now (beyond the clock-skew allowance).
    #[error(
        "an injury cannot be dated in the future: the time given is {} ahead of now; give when the injury happened, or leave the time out to log it now",
        span(*ahead_ms)
    )]
    InTheFuture {
        /// The time given.
        at: Time,
        /// Now, as the recording clock says.
        now: Time,
        /// How far ahead of now, in milliseconds.
        ahead_ms: u64,
    },
}

/// A duration in words, to the two largest units: "6 days", "2 hours 5
/// minutes", "7 minutes".
fn span(ms: u64) -> String {
    let minutes = ms / 60_000;
    let parts = [
        (minutes / (24 * 60), "day"),
        (minutes / 60 % 24, "hour"),
        (minutes % 60, "minute"),
    ];
    let words: Vec<String> = parts
        .iter()
        .skip_while(|(n, _)| *n == 0)
        .take(2)
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    if words.is_empty() {
        "less than a minute".to_owned()
    } else {
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3_600_000;

    fn protocol(window_hours: u32) -> Protocol {
        let mut p = rollcoach_protocol::builtin().remove(0);
        p.screening.injury_rule.window_hours = window_hours;
        p
    }

    fn injured(at: Time) -> InjuryFact {
        InjuryFact { at, note: None }
    }

    #[test]
    fn an_injury_blocks_for_the_protocols_window_and_not_a_millisecond_longer() {
        let now = Time(1_000 * HOUR);
        let p = protocol(72);
        let at = Time(now.0 - 60 * HOUR);
        let block = injury_block(&p, &[injured(at)], now).expect("blocked");
        assert_eq!(block.injured_at, at);
        assert_eq!(block.allowed_at, Time(at.0 + 72 * HOUR));
        assert_eq!(injury_block(&p, &[injured(at)], block.allowed_at), None);
        assert!(injury_block(&p, &[injured(at)], Time(block.allowed_at.0 - 1)).is_some());
        // The same injury under the handout's 48 hours is past its window.
        assert_eq!(injury_block(&protocol(48), &[injured(at)], now), None);
    }

    #[test]
    fn with_several_injuries_the_latest_decides() {
        let now = Time(1_000 * HOUR);
        let p = protocol(48);
        let old = injured(Time(now.0 - 40 * HOUR));
        let new = injured(Time(now.0 - 2 * HOUR));
        let block = injury_block(&p, &[new.clone(), old.clone()], now).unwrap();
        assert_eq!(block.injured_at, new.at);
        assert_eq!(injury_block(&p, &[], now), None);
    }

    #[test]
    fn an_injury_already_in_the_log_with_a_future_date_blocks_until_its_window_ends() {
        let now = Time(1_000 * HOUR);
        let at = Time(now.0 + 10 * HOUR);
        let block = injury_block(&protocol(48), &[injured(at)], now).unwrap();
        assert_eq!(block.allowed_at, Time(at.0 + 48 * HOUR));
    }

    #[test]
    fn a_future_injury_time_is_refused_beyond_five_minutes_of_clock_skew() {
        let now = Time(1_000 * HOUR);
        assert_eq!(
            check_injury_time(Time(now.0 - HOUR), now),
            Ok(Time(now.0 - HOUR))
        );
        assert_eq!(check_injury_time(now, now), Ok(now));
        // Up to 5 minutes ahead is taken as now.
        assert_eq!(
            check_injury_time(now.plus_ms(INJURY_CLOCK_SKEW_MS), now),
            Ok(now)
        );
        let err = check_injury_time(now.plus_ms(INJURY_CLOCK_SKEW_MS + 1), now).unwrap_err();
        assert!(matches!(err, InjuryTimeError::InTheFuture { .. }));
        let err = check_injury_time(Time(now.0 + 6 * 24 * HOUR), now).unwrap_err();
        assert_eq!(
            err.to_string(),
            "an injury cannot be dated in the future: the time given is 6 days ahead of now; \
             give when the injury happened, or leave the time out to log it now"
        );
    }

    #[test]
    fn spans_read_as_words() {
        assert_eq!(span(6 * 24 * HOUR), "6 days");
        assert_eq!(span(2 * HOUR + 5 * 60_000), "2 hours 5 minutes");
        assert_eq!(span(24 * HOUR + 60_000), "1 day");
        assert_eq!(span(7 * 60_000 + 3_000), "7 minutes");
        assert_eq!(span(3_000), "less than a minute");
    }
}
