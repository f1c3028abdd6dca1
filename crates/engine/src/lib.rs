//! The rollcoach session engine: a deterministic, sans-IO state machine.
//!
//! It never reads a clock, never sleeps and never does I/O: the driver passes
//! `now` with every call, feeds inputs with [`Session::handle`], drains
//! [`Session::poll_output`], and calls back with [`Input::Timeout`] at
//! [`Session::next_deadline`]. Because all time is input, a test or a
//! benchmark can run a ten-minute session in microseconds on a virtual clock,
//! and replaying a session's input log ([`replay`]) reproduces its outputs
//! exactly: that is how a crashed session is recovered.
//!
//! # The session
//!
//! 1. [`Stage::Screening`]: a logged injury within the protocol's window
//!    refuses at once ([`RefusalReason::RecentInjury`], with when the session
//!    becomes allowed); otherwise each question is asked ([`Prompt::Screening`],
//!    answered with [`Input::Answer`]); the refusing answer ends the session.
//! 2. [`Stage::RatingsBefore`]: one [`Prompt::Rating`] per distinct rating of
//!    the chosen reasons (skipped when none were chosen).
//! 3. [`Stage::Setup`]: each step as a [`Prompt::Ready`], answered with [`Input::Ready`].
//! 4. [`Stage::Rolling`]: each rep is an [`Output::Phase`] out then one back,
//!    each with its breath, its duration and its deadline. Pause, resume,
//!    discomfort, noise, switch breathing and the stop inputs apply here.
//! 5. [`Stage::RatingsAfter`], then [`Output::End`] with [`Outcome::Completed`].
//!
//! [`Input::Pain`] and [`Input::Stop`] are accepted at every stage before the
//! end. Every session ends with exactly one [`Output::End`]; after it every
//! input is [`InputError::Ended`]. An input that does not fit is a typed
//! [`InputError`] and changes nothing; [`Session::check`] says whether an
//! input fits without applying it (a driver that logs inputs before applying
//! them can skip logging rejected ones).
//!
//! # Sharing and recovering
//!
//! A server running many sessions of one protocol starts them with
//! [`Session::with_arc`], so the protocol's text is shared, not copied (a live
//! session is then about 1.5 KB: see BENCHMARKS.md). After a crash, [`replay`]
//! (or [`replay_arc`]) rebuilds a session from its input log, output for output;
//! [`recover`] rebuilds the same state without building the outputs, for a
//! driver that only needs [`Session::current`] afterwards.
//! Cheap accessors tell where a session is: [`Session::stage`],
//! [`Session::reps_done`], [`Session::pairing`], [`Session::is_paused`],
//! [`Session::summary`].
//!
//! # The runner
//!
//! A driver that keeps a log (the terminal, the server) does not call
//! [`Session::handle`] itself: the [`Runner`] (module [`runner`]) owns the
//! lifecycle they share. It numbers the event log, hands the driver the
//! entries to persist before it applies them (`offer`, then `commit`),
//! catches up with deadlines that passed, stamps outputs with their times,
//! gives the end as a record to store ([`EndRecord`]), and rebuilds itself
//! from a persisted log after a crash ([`Runner::recover`]).
//!
//! # The driver loop
//!
//! ```
//! use rollcoach_engine::{Facts, Input, Options, Outcome, Output, Prompt, Session, Time};
//! use rollcoach_protocol::Answer;
//!
//! let protocol = rollcoach_protocol::builtin().remove(0);
//! // A virtual clock; a real driver reads its own clock here.
//! let mut now = Time(1_700_000_000_000);
//! let mut session = Session::new(&protocol, Options::default(), Facts::default(), now)?;
//!
//! let outcome = 'session: loop {
//!     // 1. Drain the outputs: show and speak them, answer the prompts.
//!     let mut reply = None;
//!     while let Some(output) = session.poll_output() {
//!         match output {
//!             Output::Prompt(Prompt::Screening { .. }) => {
//!                 reply = Some(Input::Answer { answer: Answer::No })
//!             }
//!             Output::Prompt(Prompt::Rating { .. }) => reply = Some(Input::Rating { value: None }),
//!             Output::Prompt(Prompt::Ready { .. }) => reply = Some(Input::Ready),
//!             Output::End { outcome, .. } => break 'session outcome,
//!             _ => {} // cues, phases, notes: show and speak them
//!         }
//!     }
//!     // 2. Feed the next input: the person's, or a timeout at the deadline.
//!     if let Some(input) = reply {
//!         session.handle(input, now)?;
//!     } else if let Some(deadline) = session.next_deadline() {
//!         now = deadline; // a real driver sleeps until then, or until the person acts
//!         session.handle(Input::Timeout, now)?;
//!     } else {
//!         unreachable!("a live session always waits for an input or a deadline");
//!     }
//! };
//! assert_eq!(outcome, Outcome::Completed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod api;
mod rules;
pub mod runner;
mod session;
pub mod speech;

use std::sync::Arc;

pub use api::*;
use rollcoach_protocol::Protocol;
pub use rules::{
    INJURY_CLOCK_SKEW_MS, InjuryBlock, InjuryTimeError, check_injury_time, injury_block,
};
pub use runner::{Batch, CommitError, EndRecord, LogEntry, RecoverError, Restored, Runner};
pub use session::{Session, breath_for, input_name};

/// A session rebuilt from its input log by [`replay`].
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// The session as it stands after the last input.
    pub session: Session,
    /// Every output it produced, in order, from the start.
    pub outputs: Vec<Output>,
    /// Inputs of the log that the session rejected. A live session rejected
    /// them too, without changing anything, so skipping them is faithful.
    pub rejected: Vec<Rejected>,
}

/// A session rebuilt from its input log by [`recover`], without its outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovered {
    /// The session as it stands after the last input, with no pending output:
    /// show it to a front-end with [`Session::current`].
    pub session: Session,
    /// Inputs of the log that the session rejected (see [`Replay::rejected`]).
    pub rejected: Vec<Rejected>,
}

/// An input of a log that did not fit when replayed.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// Its index in the log.
    pub index: usize,
    /// Its time, in milliseconds since the session started.
    pub at_ms: u64,
    /// Why it was rejected.
    pub error: InputError,
}

/// Rebuilds a session from its input log: a fresh session with the same
/// protocol, options, facts and start time, fed every logged input at
/// `started_at + ms`. Produces the identical output sequence as the live
/// session did (the engine is deterministic). The store and the server use
/// it to recover a session after a crash; a bug report's log becomes a test.
///
/// Clones the protocol once; see [`replay_arc`] to share it.
pub fn replay(
    protocol: &Protocol,
    options: Options,
    facts: Facts,
    started_at: Time,
    log: &[(u64, Input)],
) -> Result<Replay, OptionsError> {
    replay_arc(Arc::new(protocol.clone()), options, facts, started_at, log)
}

/// [`replay`] with a shared protocol.
pub fn replay_arc(
    protocol: Arc<Protocol>,
    options: Options,
    facts: Facts,
    started_at: Time,
    log: &[(u64, Input)],
) -> Result<Replay, OptionsError> {
    let mut session = Session::with_arc(protocol, options, facts, started_at)?;
    let mut outputs = Vec::with_capacity(16 + 4 * log.len());
    let mut rejected = Vec::new();
    outputs.extend(std::iter::from_fn(|| session.poll_output()));
    for (index, &(at_ms, input)) in log.iter().enumerate() {
        if let Err(error) = session.handle(input, started_at.plus_ms(at_ms)) {
            rejected.push(Rejected {
                index,
                at_ms,
                error,
            });
        }
        outputs.extend(std::iter::from_fn(|| session.poll_output()));
    }
    Ok(Replay {
        session,
        outputs,
        rejected,
    })
}

/// Rebuilds a session from its input log like [`replay`], but without
/// building any output on the way: the fastest way back to a crashed
/// session's state. The session equals the one [`replay`] gives (once its
/// outputs are drained); bring a front-end up to date with [`Session::current`].
pub fn recover(
    protocol: &Protocol,
    options: Options,
    facts: Facts,
    started_at: Time,
    log: &[(u64, Input)],
) -> Result<Recovered, OptionsError> {
    recover_arc(Arc::new(protocol.clone()), options, facts, started_at, log)
}

/// [`recover`] with a shared protocol.
pub fn recover_arc(
    protocol: Arc<Protocol>,
    options: Options,
    facts: Facts,
    started_at: Time,
    log: &[(u64, Input)],
) -> Result<Recovered, OptionsError> {
    let mut session = Session::with_arc(protocol, options, facts, started_at)?;
    session.set_quiet(true);
    let mut rejected = Vec::new();
    for (index, &(at_ms, input)) in log.iter().enumerate() {
        if let Err(error) = session.handle(input, started_at.plus_ms(at_ms)) {
            rejected.push(Rejected {
                index,
                at_ms,
                error,
            });
        }
    }
    session.set_quiet(false);
    Ok(Recovered { session, rejected })
}
