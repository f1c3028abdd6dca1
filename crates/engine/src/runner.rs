//! The session runner: the lifecycle every driver shares, written once.
//!
//! A [`Session`] is the state machine; a driver around it must also number
//! the inputs in an event log, write each input to that log *before* the
//! session applies it (so replaying the log reproduces the session after a
//! crash), catch up with the deadlines that passed while it was busy, stamp
//! each output with its session time, record the end, and rebuild a session
//! from its log. The [`Runner`] does all of that, sans-IO like the engine: it
//! never reads a clock and never writes anything; the driver passes `now`
//! and persists what the runner hands it.
//!
//! # Log before apply
//!
//! Applying an input is two steps with the driver's write in between:
//!
//! 1. [`Runner::offer`] takes an input at `now`. The runner first catches up
//!    with every deadline at or before `now`, each [`Input::Timeout`] at its
//!    own deadline, then checks the input. It returns a [`Batch`]: the
//!    numbered [`LogEntry`]s to persist (the timeouts, then the input), or a
//!    typed rejection ([`InputError`]) that changed nothing and is not to be
//!    logged. [`Runner::advance`] is the same without an input: only the
//!    deadlines up to `now` (an empty batch when none has passed).
//! 2. The driver persists [`Batch::entries`], then hands the batch back to
//!    [`Runner::commit`], which applies it. A batch carries the sequence
//!    number it was offered at: a batch offered before another was committed
//!    is refused ([`CommitError::Stale`]), so batches can neither be applied
//!    twice nor out of order. If persisting fails, the driver drops the batch:
//!    the session is unchanged.
//!
//! ```
//! use std::sync::Arc;
//! use rollcoach_engine::{Input, Options, Facts, Runner, Time};
//! use rollcoach_protocol::Answer;
//!
//! let protocol = Arc::new(rollcoach_protocol::builtin().remove(0));
//! let start = Time(1_700_000_000_000);
//! let mut runner = Runner::start(protocol, Options::default(), Facts::default(), start)?;
//! let mut log = Vec::new(); // the driver's store
//!
//! let batch = runner.offer(Input::Answer { answer: Answer::No }, start.plus_ms(1_500))?;
//! log.extend_from_slice(batch.entries()); // persist first ...
//! runner.commit(batch)?; // ... then apply
//! while let Some((at, output)) = runner.poll_output() {
//!     // show and speak `output`, which happened at session time `at`
//! #   let _ = (at, output);
//! }
//! assert_eq!(log[0].seq, 0);
//! assert_eq!(log[0].at_ms, 1_500);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The end, and recovery
//!
//! Once the session has ended, [`Runner::end_record`] is what to store: the
//! outcome, the message, the summary (reps done, ratings before and after)
//! and when it ended. A session that will not end (its driver is asked to
//! quit, or nobody drives it any more) is let go with [`Runner::interrupt`],
//! which yields the interrupted record. After a crash, [`Runner::recover`]
//! rebuilds the runner from the persisted log alone (with [`crate::recover`]):
//! it continues exactly as the uninterrupted runner would have, and
//! [`Runner::current`] brings a front-end up to date.

use std::collections::VecDeque;
use std::sync::Arc;

use rollcoach_protocol::Protocol;
use serde::{Deserialize, Serialize};

use crate::{
    Facts, Input, InputError, Options, OptionsError, Outcome, Output, Rejected, Session, Summary,
    Time,
};

/// One input of a session's event log, numbered and timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Its number in the session's log: 0, 1, 2, ... in the order applied.
    pub seq: u32,
    /// Milliseconds since the session started.
    pub at_ms: u64,
    /// The input.
    pub input: Input,
}

/// Log entries offered by a [`Runner`], to persist and then
/// [`commit`](Runner::commit). Not `Clone`: a batch is applied once.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "persist the batch's entries, then commit it"]
pub struct Batch {
    /// The sequence number the runner expected when it offered the batch
    /// (its first entry's, if any).
    seq: u32,
    entries: Entries,
}

/// The entries of a batch; one entry (the usual case) needs no allocation.
#[derive(Debug, PartialEq, Eq)]
enum Entries {
    None,
    One(LogEntry),
    Many(Vec<LogEntry>),
}

impl Batch {
    /// The entries to persist, in order: the catch-up timeouts, then the input.
    pub fn entries(&self) -> &[LogEntry] {
        match &self.entries {
            Entries::None => &[],
            Entries::One(e) => std::slice::from_ref(e),
            Entries::Many(v) => v,
        }
    }

    /// Whether there is nothing to persist (no deadline had passed).
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// The sequence number the batch expects to be applied at: the runner's
    /// [`Runner::next_seq`] when it was offered.
    pub fn seq(&self) -> u32 {
        self.seq
    }
}

/// Why [`Runner::commit`] refused a batch. Nothing was applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommitError {
    /// The batch was offered at another point of the log: another batch was
    /// committed since (or it comes from another runner).
    #[error("the batch was offered at log entry {got}, but the log is at {expected}")]
    Stale {
        /// The runner's next sequence number.
        expected: u32,
        /// The batch's.
        got: u32,
    },
    /// The session was interrupted after the batch was offered.
    #[error("the session was interrupted")]
    Interrupted,
    /// The session rejected an entry. A batch offered by this runner at its
    /// current sequence number always applies, so this is a bug.
    #[error("the session rejected a logged input: {0}")]
    Rejected(InputError),
}

/// Why [`Runner::recover`] could not rebuild a session.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecoverError {
    /// The recorded options no longer fit the protocol.
    #[error("the recorded options no longer fit the protocol: {0}")]
    Options(OptionsError),
    /// The log's sequence numbers do not go up.
    #[error("log entry {index} has seq {seq}, not above the one before it")]
    Order {
        /// Its index in the log.
        index: usize,
        /// Its sequence number.
        seq: u32,
    },
}

/// How a session ended, as it is recorded: what a store keeps of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndRecord {
    /// The engine's outcome; `None`: interrupted (the session did not end:
    /// its driver let it go, or died).
    pub outcome: Option<Outcome>,
    /// The end message (the protocol's stop or refusal message, or a
    /// completion line); `None` when interrupted.
    pub message: Option<String>,
    /// What the session did: reps done and planned, ratings before and after.
    pub summary: Summary,
    /// When it ended: the time of its last input, or when it was interrupted.
    pub ended_at: Time,
}

/// A runner rebuilt from its log by [`Runner::recover`].
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    /// The runner, as it stood after its last logged input, with no output
    /// pending: show the session with [`Runner::current`].
    pub runner: Runner,
    /// Entries of the log that the session rejected (a runner never logs
    /// one; a log written by an older driver might hold some). Skipping them
    /// is faithful: the live session rejected them too.
    pub rejected: Vec<Rejected>,
}

/// One session's lifecycle: the [`Session`], its numbered event log, log
/// before apply, deadline catch-up, outputs with their times, the end record
/// and recovery. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq)]
pub struct Runner {
    session: Session,
    /// The sequence number of the next log entry.
    next_seq: u32,
    /// Set by [`Runner::interrupt`]: when the session was let go.
    interrupted_at: Option<Time>,
    /// Outputs of earlier entries not yet polled when more entries were
    /// applied, with their times. Empty (and unallocated) while the driver
    /// polls after every commit: the session's own queue then holds only the
    /// outputs of the latest entry, all at [`Session::last_time`].
    earlier: VecDeque<(Time, Output)>,
}

impl Runner {
    /// Runs a session that has taken no input yet (fresh from
    /// [`Session::new`] or [`Session::with_arc`]): its log starts at 0 and
    /// its opening outputs are pending at its start time.
    pub fn new(session: Session) -> Runner {
        Runner {
            session,
            next_seq: 0,
            interrupted_at: None,
            earlier: VecDeque::new(),
        }
    }

    /// Starts a session of a shared protocol at `now` ([`Session::with_arc`]).
    pub fn start(
        protocol: Arc<Protocol>,
        options: Options,
        facts: Facts,
        now: Time,
    ) -> Result<Runner, OptionsError> {
        Session::with_arc(protocol, options, facts, now).map(Runner::new)
    }

    /// Rebuilds a runner from the persisted log of a session started with
    /// `protocol`, `options` and `facts` at `started_at` (with
    /// [`crate::recover_arc`]): the same state as the runner that wrote the
    /// log had after its last entry, its log continuing after the last
    /// entry's number. No output is pending; bring a front-end up to date
    /// with [`Runner::current`].
    pub fn recover(
        protocol: Arc<Protocol>,
        options: Options,
        facts: Facts,
        started_at: Time,
        log: &[LogEntry],
    ) -> Result<Restored, RecoverError> {
        let mut pairs = Vec::with_capacity(log.len());
        let mut last: Option<u32> = None;
        for (index, e) in log.iter().enumerate() {
            if last.is_some_and(|l| e.seq <= l) {
                return Err(RecoverError::Order { index, seq: e.seq });
            }
            last = Some(e.seq);
            pairs.push((e.at_ms, e.input));
        }
        let recovered = crate::recover_arc(protocol, options, facts, started_at, &pairs)
            .map_err(RecoverError::Options)?;
        Ok(Restored {
            runner: Runner {
                session: recovered.session,
                next_seq: last.map_or(0, |l| l.saturating_add(1)),
                interrupted_at: None,
                earlier: VecDeque::new(),
            },
            rejected: recovered.rejected,
        })
    }

    /// Offers an input at `now`: the entries to persist before it is applied
    /// (first a timeout at each deadline up to `now`, then the input), or why
    /// it does not fit. Changes nothing either way; apply the batch with
    /// [`Runner::commit`] once its entries are persisted.
    ///
    /// The input is checked against the session as it will be after the
    /// catch-up: if it does not fit then, the whole offer is rejected and the
    /// deadlines stay due (the next [`Runner::advance`] takes them).
    ///
    /// [`Input::Timeout`] is the runner's own business: offering it is
    /// [`Runner::advance`] (an empty batch when no deadline has passed).
    pub fn offer(&self, input: Input, now: Time) -> Result<Batch, InputError> {
        if self.interrupted_at.is_some() {
            return Err(InputError::Ended);
        }
        if input == Input::Timeout {
            return Ok(self.advance(now));
        }
        if !self.deadline_due(now) {
            // The usual case: nothing to catch up, so check in place.
            self.session.check(input, now)?;
            return Ok(Batch {
                seq: self.next_seq,
                entries: Entries::One(self.entry(0, now, input)),
            });
        }
        let (sim, mut entries) = self.catch_up(now);
        sim.check(input, now)?;
        entries.push(self.entry(entries.len(), now, input));
        Ok(Batch {
            seq: self.next_seq,
            entries: Entries::Many(entries),
        })
    }

    /// The timeouts of every deadline at or before `now`, each at its own
    /// deadline, as a batch to persist and commit; empty if none has passed
    /// (or the session is over).
    pub fn advance(&self, now: Time) -> Batch {
        let entries = match self.session.next_deadline() {
            _ if self.interrupted_at.is_some() => Entries::None,
            Some(d) if d > now => Entries::None,
            None => Entries::None,
            // A driver woken at the deadline itself (the usual case): a
            // timeout at `now` completes every phase ending by `now`, so the
            // next deadline is later and this one is the only entry.
            Some(d) if d == now => Entries::One(self.entry(0, d, Input::Timeout)),
            Some(_) => Entries::Many(self.catch_up(now).1),
        };
        Batch {
            seq: self.next_seq,
            entries,
        }
    }

    fn deadline_due(&self, now: Time) -> bool {
        self.session.next_deadline().is_some_and(|d| d <= now)
    }

    /// Runs the deadlines up to `now` on a copy that builds no output.
    fn catch_up(&self, now: Time) -> (Session, Vec<LogEntry>) {
        let mut sim = self.session.clone();
        sim.set_quiet(true);
        let mut entries = Vec::new();
        while let Some(deadline) = sim.next_deadline().filter(|d| *d <= now) {
            // A timeout is accepted at any deadline (never before the
            // latest input) until the end, and each one completes at least
            // the phase it ends, so this loop ends.
            if sim.handle(Input::Timeout, deadline).is_err() {
                break;
            }
            entries.push(self.entry(entries.len(), deadline, Input::Timeout));
        }
        (sim, entries)
    }

    fn entry(&self, offset: usize, at: Time, input: Input) -> LogEntry {
        let offset = u32::try_from(offset).unwrap_or(u32::MAX);
        LogEntry {
            seq: self.next_seq.saturating_add(offset),
            at_ms: at.since(self.session.started_at()),
            input,
        }
    }

    /// Applies a batch whose entries are persisted: the session takes each
    /// entry at its time, and its outputs become pending
    /// ([`Runner::poll_output`]). A batch offered before another one was
    /// committed, or before [`Runner::interrupt`], is refused and nothing
    /// changes.
    pub fn commit(&mut self, batch: Batch) -> Result<(), CommitError> {
        if self.interrupted_at.is_some() {
            return Err(CommitError::Interrupted);
        }
        if batch.seq != self.next_seq {
            return Err(CommitError::Stale {
                expected: self.next_seq,
                got: batch.seq,
            });
        }
        let start = self.session.started_at();
        for e in batch.entries() {
            // Keep the times of outputs the driver has not polled yet.
            let at = self.session.last_time();
            while let Some(out) = self.session.poll_output() {
                self.earlier.push_back((at, out));
            }
            self.session
                .handle(e.input, start.plus_ms(e.at_ms))
                .map_err(CommitError::Rejected)?;
            self.next_seq = e.seq.saturating_add(1);
        }
        Ok(())
    }

    /// The next output, with the session time it happened at.
    pub fn poll_output(&mut self) -> Option<(Time, Output)> {
        if let Some(first) = self.earlier.pop_front() {
            if self.earlier.is_empty() {
                // Rare (a driver that did not poll between commits): give
                // the memory back rather than keep it in every live session.
                self.earlier = VecDeque::new();
            }
            return Some(first);
        }
        let at = self.session.last_time();
        self.session.poll_output().map(|out| (at, out))
    }

    /// When the driver must call [`Runner::advance`] next, if at all.
    pub fn next_deadline(&self) -> Option<Time> {
        match self.interrupted_at {
            Some(_) => None,
            None => self.session.next_deadline(),
        }
    }

    /// Outputs that bring a front-end that just (re)connected up to date at
    /// `now` ([`Session::current`]).
    pub fn current(&self, now: Time) -> Vec<Output> {
        self.session.current(now)
    }

    /// The session (read-only): its stage, reps, pause, summary.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// When the session started; log entries are timed from it.
    pub fn started_at(&self) -> Time {
        self.session.started_at()
    }

    /// The session time of the latest entry applied (or the start).
    pub fn cursor(&self) -> Time {
        self.session.last_time()
    }

    /// The sequence number the next log entry gets (how many were applied,
    /// for a log numbered from 0 without gaps).
    pub fn next_seq(&self) -> u32 {
        self.next_seq
    }

    /// Whether the session is over: ended by the engine, or interrupted.
    pub fn is_over(&self) -> bool {
        self.interrupted_at.is_some() || self.session.outcome().is_some()
    }

    /// The record to store once the session is over: how the engine ended
    /// it, or how it was interrupted; `None` while it runs.
    pub fn end_record(&self) -> Option<EndRecord> {
        if let Some(outcome) = self.session.outcome() {
            let message = self
                .session
                .current(self.session.last_time())
                .into_iter()
                .find_map(|o| match o {
                    Output::End { message, .. } => Some(message),
                    _ => None,
                });
            return Some(EndRecord {
                outcome: Some(outcome.clone()),
                message,
                summary: self.session.summary(),
                ended_at: self.session.last_time(),
            });
        }
        self.interrupted_at.map(|ended_at| EndRecord {
            outcome: None,
            message: None,
            summary: self.session.summary(),
            ended_at,
        })
    }

    /// Lets the session go at `now` without an end: from then on it takes
    /// no input, has no deadline and refuses uncommitted batches. Returns the
    /// record to store: interrupted, with what the logged inputs did (no
    /// deadline after the last entry is counted, since none was logged),
    /// ended at `now` (never before the last entry). A driver recovering a
    /// crashed session passes [`Runner::cursor`]: the time of the last entry.
    ///
    /// A session the engine had already ended keeps its end: this returns
    /// that record (its driver may have died before storing it). Calling it
    /// again returns the same record.
    pub fn interrupt(&mut self, now: Time) -> EndRecord {
        if self.session.outcome().is_none() && self.interrupted_at.is_none() {
            self.interrupted_at = Some(now.max(self.session.last_time()));
        }
        match self.end_record() {
            Some(record) => record,
            // Unreachable: either the engine ended it or it was just marked.
            None => EndRecord {
                outcome: None,
                message: None,
                summary: self.session.summary(),
                ended_at: now,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use rollcoach_protocol::Answer;

    use super::*;
    use crate::{InjuryFact, PainKind, Stage};
    use crate::{RefusalReason, StopReason};

    const T0: Time = Time(1_795_597_200_000);

    fn protocol() -> Arc<Protocol> {
        Arc::new(
            rollcoach_protocol::builtin()
                .into_iter()
                .find(|p| p.id == "upper-back")
                .expect("built in"),
        )
    }

    fn runner(options: Options) -> Runner {
        Runner::start(protocol(), options, Facts::default(), T0).expect("options fit")
    }

    /// Offers, persists into `log`, commits, and returns the outputs.
    fn step(
        r: &mut Runner,
        log: &mut Vec<LogEntry>,
        input: Input,
        now: Time,
    ) -> Vec<(Time, Output)> {
        let batch = r.offer(input, now).expect("fits");
        log.extend_from_slice(batch.entries());
        r.commit(batch).expect("commits");
        std::iter::from_fn(|| r.poll_output()).collect()
    }

    fn to_rolling(r: &mut Runner, log: &mut Vec<LogEntry>, now: Time) {
        while r.session().stage() == Stage::Screening {
            step(r, log, Input::Answer { answer: Answer::No }, now);
        }
        while r.session().stage() == Stage::Setup {
            step(r, log, Input::Ready, now);
        }
        assert_eq!(r.session().stage(), Stage::Rolling);
    }

    #[test]
    fn the_opening_outputs_are_pending_at_the_start() {
        let mut r = runner(Options::default());
        let (at, first) = r.poll_output().expect("an opening");
        assert_eq!(at, T0);
        assert_eq!(
            first,
            Output::Stage {
                stage: Stage::Screening
            }
        );
        assert_eq!(r.next_seq(), 0);
        assert_eq!(r.cursor(), T0);
    }

    #[test]
    fn an_offer_is_numbered_and_timed_and_changes_nothing_until_committed() {
        let mut r = runner(Options::default());
        while r.poll_output().is_some() {}
        let before = r.clone();
        let batch = r
            .offer(Input::Answer { answer: Answer::No }, T0.plus_ms(1_200))
            .unwrap();
        assert_eq!(r, before, "offering changes nothing");
        assert_eq!(
            batch.entries(),
            &[LogEntry {
                seq: 0,
                at_ms: 1_200,
                input: Input::Answer { answer: Answer::No }
            }]
        );
        r.commit(batch).unwrap();
        assert_eq!(r.next_seq(), 1);
        assert_eq!(r.cursor(), T0.plus_ms(1_200));
        let (at, _) = r.poll_output().expect("the next question");
        assert_eq!(at, T0.plus_ms(1_200));
    }

    #[test]
    fn a_rejected_offer_is_typed_and_changes_nothing() {
        let mut r = runner(Options::default());
        while r.poll_output().is_some() {}
        let before = r.clone();
        let err = r.offer(Input::Ready, T0.plus_ms(10)).unwrap_err();
        assert!(matches!(err, InputError::NotNow { input: "ready", .. }));
        let err = r.offer(Input::Pause, T0.plus_ms(10)).unwrap_err();
        assert!(matches!(err, InputError::NotNow { input: "pause", .. }));
        assert_eq!(r, before);
    }

    #[test]
    fn a_batch_offered_before_another_was_committed_is_stale() {
        let mut r = runner(Options::default());
        let a = r.offer(Input::Answer { answer: Answer::No }, T0).unwrap();
        let b = r.offer(Input::Answer { answer: Answer::No }, T0).unwrap();
        r.commit(a).unwrap();
        let before = r.clone();
        assert_eq!(
            r.commit(b),
            Err(CommitError::Stale {
                expected: 1,
                got: 0
            })
        );
        assert_eq!(r, before);
    }

    #[test]
    fn an_input_after_missed_deadlines_catches_up_each_at_its_own_deadline() {
        let mut r = runner(Options::default());
        let mut log = Vec::new();
        to_rolling(&mut r, &mut log, T0);
        while r.poll_output().is_some() {}
        let tempo = r.session().tempo_ms();
        let first = r.next_deadline().unwrap();
        let late = first.plus_ms(2 * tempo + 5);
        let batch = r.offer(Input::Noise, late).unwrap();
        let timeouts: Vec<u64> = batch
            .entries()
            .iter()
            .filter(|e| e.input == Input::Timeout)
            .map(|e| e.at_ms)
            .collect();
        assert_eq!(
            timeouts,
            vec![
                first.since(T0),
                first.since(T0) + tempo,
                first.since(T0) + 2 * tempo
            ]
        );
        assert_eq!(batch.entries().last().unwrap().input, Input::Noise);
        let seqs: Vec<u32> = batch.entries().iter().map(|e| e.seq).collect();
        let n = log.len() as u32;
        assert_eq!(seqs, vec![n, n + 1, n + 2, n + 3]);
        r.commit(batch).unwrap();
        // Outputs carry the time of the entry that made them.
        let outs: Vec<(Time, Output)> = std::iter::from_fn(|| r.poll_output()).collect();
        let phases: Vec<Time> = outs
            .iter()
            .filter(|(_, o)| matches!(o, Output::Phase { .. }))
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(
            phases,
            vec![first, first.plus_ms(tempo), first.plus_ms(2 * tempo)]
        );
        let acknowledged = outs
            .iter()
            .find(|(_, o)| matches!(o, Output::Acknowledged { .. }));
        assert_eq!(acknowledged.map(|(t, _)| *t), Some(late));
        assert_eq!(outs.last().map(|(t, _)| *t), Some(late));
        assert_eq!(r.session().reps_done(), 1);
    }

    #[test]
    fn an_input_that_does_not_fit_after_the_catch_up_is_rejected_whole() {
        let mut r = runner(Options {
            reps: Some(5),
            ..Options::default()
        });
        let mut log = Vec::new();
        to_rolling(&mut r, &mut log, T0);
        // Long after the last phase: the catch-up ends the rolling (no
        // ratings chosen, so the session completes), and a pause no longer fits.
        let later = T0.plus_ms(3_600_000);
        let before = r.clone();
        assert_eq!(r.offer(Input::Pause, later), Err(InputError::Ended));
        assert_eq!(r, before);
        let batch = r.advance(later);
        assert_eq!(batch.len(), 10, "one timeout per phase");
        r.commit(batch).unwrap();
        let end = r.end_record().expect("completed");
        assert_eq!(end.outcome, Some(Outcome::Completed));
        assert_eq!(end.summary.reps_done, 5);
        assert_eq!(end.message.as_deref(), Some("Session complete."));
        assert_eq!(end.ended_at, r.cursor());
        assert!(r.is_over());
        assert!(r.advance(later.plus_ms(1)).is_empty());
    }

    #[test]
    fn advance_is_empty_before_the_deadline_and_offering_a_timeout_is_advancing() {
        let mut r = runner(Options::default());
        let mut log = Vec::new();
        assert!(r.advance(T0.plus_ms(100_000)).is_empty(), "no deadline yet");
        to_rolling(&mut r, &mut log, T0);
        let d = r.next_deadline().unwrap();
        assert!(r.advance(Time(d.0 - 1)).is_empty());
        assert_eq!(r.advance(d), r.offer(Input::Timeout, d).unwrap());
        let empty = r.offer(Input::Timeout, T0).unwrap();
        assert!(empty.is_empty());
        r.commit(empty).unwrap();
        assert_eq!(
            r.next_seq() as usize,
            log.len(),
            "an empty batch logs nothing"
        );
        let batch = r.advance(d);
        assert_eq!(
            batch.entries(),
            &[LogEntry {
                seq: log.len() as u32,
                at_ms: d.since(T0),
                input: Input::Timeout
            }]
        );
    }

    #[test]
    fn outputs_not_polled_between_commits_keep_their_times() {
        let mut r = runner(Options::default());
        let b = r
            .offer(Input::Answer { answer: Answer::No }, T0.plus_ms(5))
            .unwrap();
        r.commit(b).unwrap();
        let b = r
            .offer(Input::Answer { answer: Answer::No }, T0.plus_ms(9))
            .unwrap();
        r.commit(b).unwrap();
        let times: Vec<u64> = std::iter::from_fn(|| r.poll_output())
            .map(|(t, _)| t.since(T0))
            .collect();
        assert_eq!(times.first(), Some(&0));
        assert!(times.contains(&5) && times.last() == Some(&9), "{times:?}");
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn the_end_record_carries_the_stop_and_the_ratings() {
        let mut r = runner(Options {
            reasons: vec!["soreness".into()],
            ..Options::default()
        });
        let mut log = Vec::new();
        while r.session().stage() == Stage::Screening {
            step(&mut r, &mut log, Input::Answer { answer: Answer::No }, T0);
        }
        step(&mut r, &mut log, Input::Rating { value: Some(6) }, T0);
        assert!(r.end_record().is_none());
        step(
            &mut r,
            &mut log,
            Input::Pain {
                kind: PainKind::Spine,
            },
            T0.plus_ms(30_000),
        );
        let end = r.end_record().unwrap();
        assert_eq!(
            end.outcome,
            Some(Outcome::Stopped {
                reason: StopReason::PainOverSpine
            })
        );
        assert_eq!(end.summary.ratings[0].before, Some(6));
        assert_eq!(end.ended_at, T0.plus_ms(30_000));
        assert!(end.message.is_some_and(|m| !m.is_empty()));
        assert_eq!(
            r.offer(Input::Stop, T0.plus_ms(30_001)),
            Err(InputError::Ended)
        );
    }

    #[test]
    fn a_refusal_by_the_injury_log_is_an_end_record_at_the_start() {
        let facts = Facts {
            injuries: vec![InjuryFact {
                at: Time(T0.0 - 3_600_000),
                note: None,
            }],
            last_pairing: None,
        };
        let r = Runner::start(protocol(), Options::default(), facts, T0).unwrap();
        let end = r.end_record().unwrap();
        assert!(matches!(
            end.outcome,
            Some(Outcome::Refused {
                reason: RefusalReason::RecentInjury { .. }
            })
        ));
        assert_eq!(end.ended_at, T0);
    }

    #[test]
    fn interrupting_records_what_the_log_did_and_stops_the_runner() {
        let mut r = runner(Options::default());
        let mut log = Vec::new();
        to_rolling(&mut r, &mut log, T0.plus_ms(1_000));
        let d = r.next_deadline().unwrap();
        let tempo = r.session().tempo_ms();
        step(&mut r, &mut log, Input::Timeout, d.plus_ms(tempo));
        let pending = r.offer(Input::Noise, d.plus_ms(tempo + 10)).unwrap();
        let end = r.interrupt(d.plus_ms(60_000));
        assert_eq!(end.outcome, None, "interrupted");
        assert_eq!(end.message, None);
        assert_eq!(end.summary.reps_done, 1);
        assert_eq!(end.ended_at, d.plus_ms(60_000));
        assert_eq!(r.commit(pending), Err(CommitError::Interrupted));
        assert_eq!(
            r.offer(Input::Stop, d.plus_ms(60_001)),
            Err(InputError::Ended)
        );
        assert_eq!(r.next_deadline(), None);
        assert!(r.advance(d.plus_ms(3_600_000)).is_empty());
        assert!(r.is_over());
        assert_eq!(r.end_record(), Some(end.clone()));
        assert_eq!(r.interrupt(d.plus_ms(90_000)), end, "interrupting twice");
        // Never before the last entry.
        let mut again = runner(Options::default());
        step(
            &mut again,
            &mut log,
            Input::Answer { answer: Answer::No },
            T0.plus_ms(5_000),
        );
        assert_eq!(again.interrupt(T0).ended_at, T0.plus_ms(5_000));
    }

    #[test]
    fn interrupting_an_ended_session_keeps_its_end() {
        let mut r = runner(Options::default());
        let mut log = Vec::new();
        step(&mut r, &mut log, Input::Stop, T0.plus_ms(700));
        let end = r.interrupt(T0.plus_ms(9_000));
        assert_eq!(
            end.outcome,
            Some(Outcome::Stopped {
                reason: StopReason::ByPerson
            })
        );
        assert_eq!(end.ended_at, T0.plus_ms(700));
    }

    #[test]
    fn recovering_from_the_log_continues_where_the_runner_was() {
        let mut r = runner(Options::default());
        let mut log = Vec::new();
        to_rolling(&mut r, &mut log, T0.plus_ms(2_000));
        let d = r.next_deadline().unwrap();
        step(&mut r, &mut log, Input::Pause, d.plus_ms(3_000));
        let restored =
            Runner::recover(protocol(), Options::default(), Facts::default(), T0, &log).unwrap();
        assert!(restored.rejected.is_empty());
        let mut back = restored.runner;
        assert_eq!(back, r);
        assert_eq!(back.next_seq() as usize, log.len());
        assert!(back.session().is_paused());
        let now = d.plus_ms(9_000);
        let mut log2 = log.clone();
        assert_eq!(
            step(&mut back, &mut log2, Input::Resume, now),
            step(&mut r, &mut log, Input::Resume, now)
        );
        assert_eq!(log, log2);
    }

    #[test]
    fn recovery_refuses_a_log_out_of_order_and_options_that_no_longer_fit() {
        let e = |seq| LogEntry {
            seq,
            at_ms: 0,
            input: Input::Answer { answer: Answer::No },
        };
        let err = Runner::recover(
            protocol(),
            Options::default(),
            Facts::default(),
            T0,
            &[e(0), e(2), e(2)],
        )
        .unwrap_err();
        assert_eq!(err, RecoverError::Order { index: 2, seq: 2 });
        let err = Runner::recover(
            protocol(),
            Options {
                reps: Some(1_000),
                ..Options::default()
            },
            Facts::default(),
            T0,
            &[],
        )
        .unwrap_err();
        assert!(matches!(
            err,
            RecoverError::Options(OptionsError::Reps { .. })
        ));
    }
}
