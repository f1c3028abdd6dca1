//! The autopilot: a simulated person driving a session through the runner.

use std::sync::Arc;

use rollcoach_engine::{
    CommitError, EndRecord, Facts, Input, InputError, LogEntry, Options, OptionsError, Outcome,
    Output, Prompt, RecoverError, Restored, Runner, Stage, Time, When,
};
use rollcoach_protocol::{Answer, Protocol};

/// How the person answers the screening questions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Screening {
    /// Every question with the answer that lets the session go on.
    #[default]
    Safe,
    /// The first question with its refusing answer: the session is refused.
    Refuse,
    /// The question of this 1-based index with its refusing answer, the ones
    /// before it safely.
    RefuseAt(u32),
}

/// How the person answers the rating prompts (before and after the rolling).
/// A prompt past the end of a list is skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Rate {
    /// Every rating skipped.
    #[default]
    Skip,
    /// Every rating with this value (`None` skips).
    Every(Option<u8>),
    /// The ratings before, then the ratings after, each in prompt order.
    Each {
        /// The answers to the prompts before the rolling.
        before: Vec<Option<u8>>,
        /// The answers to the prompts after the rolling.
        after: Vec<Option<u8>>,
    },
    /// One list for every rating prompt, before and after, in prompt order.
    InOrder(Vec<Option<u8>>),
}

/// Where in a session a scripted [`Act`] happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// When rep `k` (1-based) starts: its first phase.
    Rep(u32),
    /// When the `n`-th phase of the session (1-based, counting every out and
    /// back) starts.
    Phase(u32),
    /// When the session enters this stage (its [`Output::Stage`]); the
    /// session starts in [`Stage::Screening`].
    Stage(Stage),
    /// At this session time, in milliseconds from the start, whatever the
    /// session is doing then (deadlines before it are taken first). Not
    /// delayed by [`Plan::react_ms`].
    At(u64),
}

/// A scripted event: what the person (or the driver) does at a [`Point`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// The person's input, [`Plan::react_ms`] after the point: pain with a
    /// kind, discomfort, noise, a switch of breathing, pause, resume, stop.
    /// An input that does not fit then is kept in [`Run::rejected`].
    Input(Input),
    /// A pause, and the resume this many milliseconds later.
    PauseFor(u64),
    /// The driver dies at the point: it stops driving at once (no further
    /// input, no end recorded) and the log persisted so far is what is left.
    Crash,
    /// The driver lets the session go this long after the point (a page
    /// closed mid-session): the end is [`Runner::interrupt`]'s record.
    LetGo {
        /// Milliseconds from the point to the interruption.
        after_ms: u64,
    },
}

impl From<Input> for Act {
    fn from(input: Input) -> Act {
        Act::Input(input)
    }
}

/// How a simulated person goes through a session. Build one from
/// [`Plan::default`] (all safe, ratings skipped, one second to answer each
/// prompt) and the builder methods, or set the fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The options the session starts with.
    pub options: Options,
    /// The facts it starts with.
    pub facts: Facts,
    /// How the screening is answered.
    pub screening: Screening,
    /// How the ratings are answered.
    pub ratings: Rate,
    /// Milliseconds the person takes to answer a prompt (default 1,000).
    pub think_ms: u64,
    /// Milliseconds from a [`Point`] to its scripted input (default 1,000).
    pub react_ms: u64,
    /// The scripted events, each at its point (several at one point follow
    /// each other, [`Plan::react_ms`] apart). Each point fires once.
    pub script: Vec<(Point, Act)>,
}

impl Default for Plan {
    fn default() -> Plan {
        Plan {
            options: Options::default(),
            facts: Facts::default(),
            screening: Screening::Safe,
            ratings: Rate::Skip,
            think_ms: 1_000,
            react_ms: 1_000,
            script: Vec::new(),
        }
    }
}

impl Plan {
    /// The default plan with these reasons chosen (their ratings are asked).
    pub fn reasons<S: Into<String>>(reasons: impl IntoIterator<Item = S>) -> Plan {
        Plan {
            options: Options {
                reasons: reasons.into_iter().map(Into::into).collect(),
                ..Options::default()
            },
            ..Plan::default()
        }
    }

    /// These options (replacing any reasons set before).
    pub fn options(mut self, options: Options) -> Plan {
        self.options = options;
        self
    }

    /// These facts (the injury log, the last pairing).
    pub fn facts(mut self, facts: Facts) -> Plan {
        self.facts = facts;
        self
    }

    /// The first screening question answered with its refusing answer.
    pub fn refuse(mut self) -> Plan {
        self.screening = Screening::Refuse;
        self
    }

    /// Every rating answered with `value` (`None` skips).
    pub fn rating(mut self, value: Option<u8>) -> Plan {
        self.ratings = Rate::Every(value);
        self
    }

    /// The ratings before and after, in prompt order.
    pub fn ratings(
        mut self,
        before: impl IntoIterator<Item = Option<u8>>,
        after: impl IntoIterator<Item = Option<u8>>,
    ) -> Plan {
        self.ratings = Rate::Each {
            before: before.into_iter().collect(),
            after: after.into_iter().collect(),
        };
        self
    }

    /// Milliseconds to answer each prompt.
    pub fn think_ms(mut self, ms: u64) -> Plan {
        self.think_ms = ms;
        self
    }

    /// Milliseconds from a point to its scripted input.
    pub fn react_ms(mut self, ms: u64) -> Plan {
        self.react_ms = ms;
        self
    }

    /// A scripted event at `point`: an [`Input`] or an [`Act`].
    pub fn at(mut self, point: Point, act: impl Into<Act>) -> Plan {
        self.script.push((point, act.into()));
        self
    }
}

/// A scripted input the session did not take.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// When it was offered.
    pub at: Time,
    /// The input.
    pub input: Input,
    /// Why it did not fit.
    pub error: InputError,
}

/// Why the autopilot could not drive a session.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AutopilotError {
    /// The plan's options do not fit the protocol.
    #[error("the plan's options do not fit the protocol: {0}")]
    Options(#[from] OptionsError),
    /// The session waits for nothing the plan gives: no prompt to answer, no
    /// deadline and no scripted event (a bug in the engine or the plan).
    #[error(
        "the session is stuck at {at:?} in stage {stage:?}: no prompt, no deadline and no scripted event"
    )]
    Stuck {
        /// The autopilot's clock.
        at: Time,
        /// The session's stage.
        stage: Stage,
    },
    /// An input that does not fit the session now (nothing changed).
    #[error("the input does not fit: {0}")]
    Input(#[from] InputError),
    /// The sink failed to persist a batch; the batch was not committed.
    #[error("the sink could not persist the batch: {0}")]
    Sink(Arc<dyn std::error::Error + Send + Sync>),
    /// The runner refused a batch it had offered (a bug).
    #[error("the runner refused its own batch: {0}")]
    Commit(#[from] CommitError),
}

/// What a driven session left: its outputs, its log, its end.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The protocol it ran.
    pub protocol: Arc<Protocol>,
    /// The options it started with.
    pub options: Options,
    /// The facts it started with.
    pub facts: Facts,
    /// When it started.
    pub started_at: Time,
    /// Every output, with the session time it happened at.
    pub outputs: Vec<(Time, Output)>,
    /// The log, every entry as it went to the sink.
    pub log: Vec<LogEntry>,
    /// The end: the engine's, or the interrupted one of [`Act::LetGo`];
    /// `None` after an [`Act::Crash`].
    pub end: Option<EndRecord>,
    /// Scripted inputs that did not fit when offered (not logged).
    pub rejected: Vec<Rejected>,
    /// The runner as the autopilot left it.
    pub runner: Runner,
    /// The autopilot's clock when it stopped.
    pub now: Time,
}

impl Run {
    /// The engine's outcome; `None` when interrupted or crashed.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.end.as_ref().and_then(|e| e.outcome.as_ref())
    }

    /// The log as [`rollcoach_engine::replay`] takes it: `(at_ms, input)`.
    pub fn inputs(&self) -> Vec<(u64, Input)> {
        self.log.iter().map(|e| (e.at_ms, e.input)).collect()
    }

    /// The outputs without their times.
    pub fn plain_outputs(&self) -> Vec<Output> {
        self.outputs.iter().map(|(_, o)| o.clone()).collect()
    }

    /// A runner rebuilt from the log alone, as after a crash ([`Runner::recover`]).
    pub fn recover(&self) -> Result<Restored, RecoverError> {
        Runner::recover(
            self.protocol.clone(),
            self.options.clone(),
            self.facts.clone(),
            self.started_at,
            &self.log,
        )
    }
}

/// What happens next, due at a time.
#[derive(Debug, Clone, Copy)]
enum Due {
    Offer(Input),
    Crash,
    LetGo,
}

/// How the driving stopped before the session ended.
#[derive(Debug, Clone, Copy)]
enum Stopped {
    Crash,
    LetGo(Time),
}

/// Why a sink could not persist a batch.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

type Sink<'s> = Box<dyn FnMut(&[LogEntry]) -> Result<(), SinkError> + 's>;

/// A simulated person on a virtual clock, driving one session through the
/// engine's [`Runner`] as a [`Plan`] says. See the [crate documentation](crate).
///
/// [`Autopilot::run`] drives to the end. A test that scripts its own inputs
/// steps it instead: [`Autopilot::offer`], [`Autopilot::send`],
/// [`Autopilot::wait`], [`Autopilot::take_reply`], [`Autopilot::step`], and
/// ends with [`Autopilot::run`], [`Autopilot::crash`] or [`Autopilot::let_go`].
pub struct Autopilot<'s> {
    runner: Runner,
    protocol: Arc<Protocol>,
    plan: Plan,
    started_at: Time,
    now: Time,
    log: Vec<LogEntry>,
    outputs: Vec<(Time, Output)>,
    rejected: Vec<Rejected>,
    sink: Option<Sink<'s>>,
    /// Outputs before this index have been looked at for prompts and points.
    seen: usize,
    /// The plan's answer to the latest prompt, not given yet.
    reply: Option<Input>,
    /// Scripted events due, in the order they were scheduled.
    pending: Vec<(Time, Due)>,
    /// Which script entries have fired.
    fired: Vec<bool>,
    phases: u32,
    last_rep: u32,
    rated_before: usize,
    rated_after: usize,
    stopped: Option<Stopped>,
}

impl std::fmt::Debug for Autopilot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Autopilot")
            .field("plan", &self.plan)
            .field("now", &self.now)
            .field("log", &self.log.len())
            .field("outputs", &self.outputs.len())
            .field("stage", &self.runner.session().stage())
            .finish_non_exhaustive()
    }
}

impl<'s> Autopilot<'s> {
    /// Starts a session of `protocol` at `start` with the plan's options and
    /// facts. Its opening outputs are collected; nothing is logged yet.
    pub fn start(
        protocol: impl Into<Arc<Protocol>>,
        plan: Plan,
        start: Time,
    ) -> Result<Autopilot<'s>, AutopilotError> {
        let protocol = protocol.into();
        let runner = Runner::start(
            protocol.clone(),
            plan.options.clone(),
            plan.facts.clone(),
            start,
        )?;
        let mut pilot = Autopilot {
            runner,
            protocol,
            started_at: start,
            now: start,
            log: Vec::new(),
            outputs: Vec::new(),
            rejected: Vec::new(),
            sink: None,
            seen: 0,
            reply: None,
            pending: Vec::new(),
            fired: vec![false; plan.script.len()],
            phases: 0,
            last_rep: 0,
            rated_before: 0,
            rated_after: 0,
            stopped: None,
            plan,
        };
        for i in 0..pilot.plan.script.len() {
            if let (Point::At(ms), act) = pilot.plan.script[i] {
                pilot.fired[i] = true;
                pilot.schedule(start.plus_ms(ms), act, false);
            }
        }
        pilot.drain();
        Ok(pilot)
    }

    /// Hands every batch of log entries to `sink` before it is committed, as
    /// a driver persists them (an empty batch is not handed over).
    pub fn sink(self, mut sink: impl FnMut(&[LogEntry]) + 's) -> Autopilot<'s> {
        self.try_sink(move |entries| {
            sink(entries);
            Ok::<(), SinkError>(())
        })
    }

    /// [`Autopilot::sink`] with a sink that can fail, as a store can: a batch
    /// it fails to persist is dropped, not committed (the session is
    /// unchanged, as a driver leaves it), and the driving stops with
    /// [`AutopilotError::Sink`].
    pub fn try_sink<E: Into<SinkError>>(
        mut self,
        mut sink: impl FnMut(&[LogEntry]) -> Result<(), E> + 's,
    ) -> Autopilot<'s> {
        self.sink = Some(Box::new(move |entries| sink(entries).map_err(Into::into)));
        self
    }

    /// Drives the session by the plan until it ends or the script stops
    /// driving ([`Act::Crash`], [`Act::LetGo`]).
    pub fn run(mut self) -> Result<Run, AutopilotError> {
        while self.step()? {}
        Ok(self.finish())
    }

    /// Takes the plan's next action: a scripted event, an answer to the
    /// prompt, or the next deadline, whichever comes first (a deadline first
    /// on a tie, as a driver woken at it). False once the session is over or
    /// the script stopped driving.
    pub fn step(&mut self) -> Result<bool, AutopilotError> {
        self.look();
        if self.is_over() {
            return Ok(false);
        }
        #[derive(Clone, Copy)]
        enum Next {
            Deadline,
            Due(usize),
            Reply,
        }
        let due = self
            .pending
            .iter()
            .enumerate()
            .min_by_key(|(i, (t, _))| (*t, *i))
            .map(|(i, (t, _))| (Next::Due(i), *t));
        let reply = self
            .reply
            .map(|_| (Next::Reply, self.now.plus_ms(self.plan.think_ms)));
        let deadline = self.runner.next_deadline().map(|d| (Next::Deadline, d));
        // In order of precedence on a tie: the deadline, the script, the reply.
        let mut next: Option<(Next, Time)> = None;
        for candidate in [deadline, due, reply].into_iter().flatten() {
            if next.is_none_or(|(_, t)| candidate.1 < t) {
                next = Some(candidate);
            }
        }
        match next {
            None => {
                return Err(AutopilotError::Stuck {
                    at: self.now,
                    stage: self.runner.session().stage(),
                });
            }
            Some((Next::Deadline, d)) => self.advance(d)?,
            Some((Next::Due(i), at)) => {
                let (_, what) = self.pending.remove(i);
                let at = at.max(self.now);
                match what {
                    Due::Offer(input) => self.try_offer(input, at)?,
                    Due::Crash => {
                        self.now = at;
                        self.stopped = Some(Stopped::Crash);
                    }
                    Due::LetGo => {
                        self.now = at;
                        self.stopped = Some(Stopped::LetGo(at));
                    }
                }
            }
            Some((Next::Reply, at)) => {
                let input = self.reply.take().expect("a reply is due");
                self.try_offer(input, at)?;
            }
        }
        Ok(!self.is_over())
    }

    /// Offers a scripted input or a reply; one that does not fit is kept in
    /// [`Run::rejected`].
    fn try_offer(&mut self, input: Input, at: Time) -> Result<(), AutopilotError> {
        match self.offer(input, at) {
            Err(AutopilotError::Input(error)) => {
                self.rejected.push(Rejected { at, input, error });
                Ok(())
            }
            other => other,
        }
    }

    /// Offers `input` at `at` (the runner catches up with the deadlines
    /// before it): the entries go to the sink, then are committed, and the
    /// clock moves to `at` if it is later. A rejected input
    /// ([`AutopilotError::Input`]) changes nothing but the clock.
    pub fn offer(&mut self, input: Input, at: Time) -> Result<(), AutopilotError> {
        self.now = self.now.max(at);
        let batch = self.runner.offer(input, at)?;
        self.persist(batch)?;
        self.drain();
        Ok(())
    }

    /// [`Autopilot::offer`] `after_ms` after the clock.
    pub fn send(&mut self, input: Input, after_ms: u64) -> Result<(), AutopilotError> {
        self.offer(input, self.now.plus_ms(after_ms))
    }

    /// Takes every deadline up to `at` (timeouts at their own deadlines).
    pub fn advance(&mut self, at: Time) -> Result<(), AutopilotError> {
        self.now = self.now.max(at);
        let batch = self.runner.advance(at);
        if !batch.is_empty() {
            self.persist(batch)?;
            self.drain();
        }
        Ok(())
    }

    /// Moves the clock to the next deadline and takes it; false if there is none.
    pub fn wait(&mut self) -> Result<bool, AutopilotError> {
        match self.runner.next_deadline() {
            Some(d) => {
                self.advance(d.max(self.now))?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The plan's answer to the prompts that came since the last call (the
    /// latest one), if any; the autopilot will not give it itself then.
    pub fn take_reply(&mut self) -> Option<Input> {
        self.look();
        self.reply.take()
    }

    /// Stops driving here, as a driver that dies: no end is recorded.
    pub fn crash(mut self) -> Run {
        self.stopped = Some(Stopped::Crash);
        self.finish()
    }

    /// Lets the session go at `at` ([`Runner::interrupt`]), as a page that
    /// closes; a session that had ended keeps its end.
    pub fn let_go(mut self, at: Time) -> Run {
        self.stopped = Some(Stopped::LetGo(at.max(self.now)));
        self.finish()
    }

    /// The autopilot's clock.
    pub fn now(&self) -> Time {
        self.now
    }

    /// Sets the clock (never back).
    pub fn wait_until(&mut self, at: Time) {
        self.now = self.now.max(at);
    }

    /// The runner.
    pub fn runner(&self) -> &Runner {
        &self.runner
    }

    /// The log so far.
    pub fn log(&self) -> &[LogEntry] {
        &self.log
    }

    /// The outputs so far, with their times.
    pub fn outputs(&self) -> &[(Time, Output)] {
        &self.outputs
    }

    /// Whether the session is over (ended or let go) or the driving stopped.
    pub fn is_over(&self) -> bool {
        self.stopped.is_some() || self.runner.is_over()
    }

    /// The runner's next deadline.
    pub fn next_deadline(&self) -> Option<Time> {
        self.runner.next_deadline()
    }

    fn persist(&mut self, batch: rollcoach_engine::Batch) -> Result<(), AutopilotError> {
        if let (false, Some(sink)) = (batch.is_empty(), &mut self.sink) {
            sink(batch.entries()).map_err(|e| AutopilotError::Sink(Arc::from(e)))?;
        }
        let entries = batch.entries().to_vec();
        self.runner.commit(batch)?;
        self.log.extend(entries);
        Ok(())
    }

    fn drain(&mut self) {
        self.outputs
            .extend(std::iter::from_fn(|| self.runner.poll_output()));
    }

    /// Looks at the outputs not seen yet: prompts set the reply, phases and
    /// stages fire the script's points.
    fn look(&mut self) {
        while self.seen < self.outputs.len() && self.stopped.is_none() {
            let (at, out) = &self.outputs[self.seen];
            let at = *at;
            self.seen += 1;
            match out {
                Output::Prompt(Prompt::Screening { id, index, .. }) => {
                    let refuse = match self.plan.screening {
                        Screening::Safe => false,
                        Screening::Refuse => *index == 1,
                        Screening::RefuseAt(n) => *index == n,
                    };
                    let refuse_on = self
                        .protocol
                        .screening
                        .questions
                        .iter()
                        .find(|q| q.id == *id)
                        .map_or(Answer::Yes, |q| q.refuse_on);
                    let answer = match (refuse, refuse_on) {
                        (true, a) => a,
                        (false, Answer::Yes) => Answer::No,
                        (false, Answer::No) => Answer::Yes,
                    };
                    self.reply = Some(Input::Answer { answer });
                }
                Output::Prompt(Prompt::Rating { when, .. }) => {
                    let value = self.rating(*when);
                    self.reply = Some(Input::Rating { value });
                }
                Output::Prompt(Prompt::Ready { .. }) => self.reply = Some(Input::Ready),
                Output::Stage { stage } => {
                    let stage = *stage;
                    self.fire(at, |p| p == Point::Stage(stage));
                }
                Output::Phase { rep, .. } => {
                    let rep = *rep;
                    self.phases += 1;
                    let phase = self.phases;
                    let new_rep = rep != self.last_rep;
                    self.last_rep = rep;
                    self.fire(at, |p| {
                        p == Point::Phase(phase) || (new_rep && p == Point::Rep(rep))
                    });
                }
                Output::End { .. } => self.reply = None,
                _ => {}
            }
        }
    }

    fn rating(&mut self, when: When) -> Option<u8> {
        let (before, after) = (self.rated_before, self.rated_after);
        match when {
            When::Before => self.rated_before += 1,
            When::After => self.rated_after += 1,
        }
        match &self.plan.ratings {
            Rate::Skip => None,
            Rate::Every(v) => *v,
            Rate::Each {
                before: b,
                after: a,
            } => match when {
                When::Before => b.get(before).copied().flatten(),
                When::After => a.get(after).copied().flatten(),
            },
            Rate::InOrder(list) => list.get(before + after).copied().flatten(),
        }
    }

    /// Schedules the acts of every unfired script entry whose point matches.
    fn fire(&mut self, at: Time, matches: impl Fn(Point) -> bool) {
        let mut base = at;
        for i in 0..self.plan.script.len() {
            let (point, act) = self.plan.script[i];
            if self.fired[i] || !matches(point) {
                continue;
            }
            self.fired[i] = true;
            base = self.schedule(base, act, true);
            if self.stopped.is_some() {
                return;
            }
        }
    }

    /// Schedules `act` after `base`; returns when the next act at the same
    /// point may come.
    fn schedule(&mut self, base: Time, act: Act, react: bool) -> Time {
        let at = if react {
            base.plus_ms(self.plan.react_ms)
        } else {
            base
        };
        match act {
            Act::Input(input) => {
                self.pending.push((at, Due::Offer(input)));
                at
            }
            Act::PauseFor(ms) => {
                self.pending.push((at, Due::Offer(Input::Pause)));
                let resume = at.plus_ms(ms);
                self.pending.push((resume, Due::Offer(Input::Resume)));
                resume
            }
            Act::Crash if react => {
                // At the point itself: nothing more is driven.
                self.now = self.now.max(base);
                self.stopped = Some(Stopped::Crash);
                base
            }
            Act::Crash => {
                self.pending.push((at, Due::Crash));
                at
            }
            Act::LetGo { after_ms } if react => {
                let at = base.plus_ms(after_ms);
                self.now = self.now.max(base);
                self.stopped = Some(Stopped::LetGo(at));
                at
            }
            Act::LetGo { after_ms } => {
                let at = at.plus_ms(after_ms);
                self.pending.push((at, Due::LetGo));
                at
            }
        }
    }

    fn finish(mut self) -> Run {
        let end = match self.stopped {
            Some(Stopped::Crash) => None,
            Some(Stopped::LetGo(at)) => Some(self.runner.interrupt(at)),
            None => self.runner.end_record(),
        };
        Run {
            protocol: self.protocol,
            options: self.plan.options,
            facts: self.plan.facts,
            started_at: self.started_at,
            outputs: self.outputs,
            log: self.log,
            end,
            rejected: self.rejected,
            runner: self.runner,
            now: self.now,
        }
    }
}
