//! The session state machine.
//!
//! Every `handle` first checks the input against the current state without
//! touching anything ([`Session::check`]), then applies it. So an input that
//! does not fit is a typed error and leaves the session exactly as it was.

use std::collections::VecDeque;
use std::sync::Arc;

use rollcoach_protocol::{
    MAX_REPS, MAX_TEMPO_SECONDS, MIN_TEMPO_SECONDS, NoteMoment, Pairing, Protocol, StopTrigger,
};

use crate::api::*;

/// A chosen rating, with what the person answered before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RatingSlot {
    /// Index into `protocol.indications` of the first chosen indication with this rating.
    indication: u16,
    before: Option<u8>,
    after: Option<u8>,
}

/// Where the session is. Indices are 0-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Screening {
        question: u32,
    },
    Ratings {
        when: When,
        index: u32,
    },
    Setup {
        step: u32,
    },
    Rolling {
        /// 0-based phase: rep = phase / 2 + 1, even phases go out, odd ones back.
        phase: u32,
        /// When the phase ends (stale while paused).
        deadline: Time,
        /// Milliseconds left, while paused.
        paused: Option<u64>,
    },
    Ended,
}

/// One guided session of a protocol.
///
/// Create it with [`Session::new`] (or [`Session::with_arc`] to share one
/// protocol between many sessions), feed it inputs with [`Session::handle`],
/// drain [`Session::poll_output`] after each call, and call back with
/// [`Input::Timeout`] at [`Session::next_deadline`].
#[derive(Clone, PartialEq)]
pub struct Session {
    protocol: Arc<Protocol>,
    started_at: Time,
    /// The latest `now` accepted.
    last: Time,
    tempo_ms: u64,
    active_ms: u64,
    reps_target: u32,
    reps_done: u32,
    noises: u32,
    /// Index into `protocol.instruments`; `None` is the protocol's default id.
    instrument: Option<u16>,
    state: State,
    /// The pairing the next phase starts with.
    pairing: Pairing,
    /// The pairing the current phase started with.
    phase_pairing: Pairing,
    /// Pairings used, in order of first use.
    used: [Option<Pairing>; 2],
    ratings: Vec<RatingSlot>,
    discomfort: Vec<u8>,
    outcome: Option<Outcome>,
    pending: VecDeque<Output>,
    /// While set (only inside [`crate::recover`]), no outputs are built: the
    /// state changes exactly as it would, without allocating output strings.
    quiet: bool,
}

/// Shows the protocol by id and version only: its full text is shared data.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field(
                "protocol",
                &format_args!("{} v{}", self.protocol.id, self.protocol.version),
            )
            .field("started_at", &self.started_at)
            .field("last", &self.last)
            .field("state", &self.state)
            .field(
                "reps",
                &format_args!("{} of {}", self.reps_done, self.reps_target),
            )
            .field("tempo_ms", &self.tempo_ms)
            .field("active_ms", &self.active_ms)
            .field("pairing", &self.pairing)
            .field("phase_pairing", &self.phase_pairing)
            .field("used", &self.used)
            .field("instrument", &self.instrument_id())
            .field("ratings", &self.ratings)
            .field("discomfort", &self.discomfort)
            .field("noises", &self.noises)
            .field("outcome", &self.outcome)
            .field("pending", &self.pending)
            .field("quiet", &self.quiet)
            .finish()
    }
}

/// Message of a completed session (not health content: a plain status line).
const COMPLETED_MESSAGE: &str = "Session complete.";
/// Message when the person stops the session.
const STOPPED_BY_PERSON_MESSAGE: &str = "Session stopped.";
/// Fallback when a protocol has no stop rule for a pain kind nor for other pain.
const PAIN_FALLBACK_MESSAGE: &str = "Stop now. Pain means stop.";

impl Session {
    /// Starts a session. Checks the options against the protocol.
    ///
    /// This clones the protocol into a fresh [`Arc`]; a server running many
    /// sessions of one protocol should use [`Session::with_arc`] instead.
    pub fn new(
        protocol: &Protocol,
        options: Options,
        facts: Facts,
        now: Time,
    ) -> Result<Session, OptionsError> {
        Session::with_arc(Arc::new(protocol.clone()), options, facts, now)
    }

    /// Starts a session of a shared protocol. Checks the options against the
    /// protocol, then queues the first outputs: the screening stage and either
    /// an immediate refusal (a logged injury within the protocol's window) or
    /// the first screening question.
    pub fn with_arc(
        protocol: Arc<Protocol>,
        options: Options,
        facts: Facts,
        now: Time,
    ) -> Result<Session, OptionsError> {
        let p = &*protocol;
        let mv = &p.movement;
        let Checked {
            reps_target,
            tempo_ms,
            instrument,
        } = checked(p, &options)?;

        // Distinct ratings of the chosen reasons, in the protocol's order.
        let mut ratings: Vec<RatingSlot> = Vec::new();
        for (ix, ind) in p.indications.iter().enumerate() {
            let chosen = options.reasons.iter().any(|r| r == &ind.id);
            let seen = ratings
                .iter()
                .any(|s| p.indications[usize::from(s.indication)].rating.id == ind.rating.id);
            if chosen && !seen {
                ratings.push(RatingSlot {
                    indication: u16::try_from(ix).unwrap_or(u16::MAX),
                    before: None,
                    after: None,
                });
            }
        }

        let breathing = &mv.breathing;
        let pairing = match (options.pairing, facts.last_pairing) {
            (Some(chosen), _) => chosen,
            (None, Some(last)) if breathing.alternate_each_session => last.switched(),
            _ => breathing.start,
        };

        let mut session = Session {
            protocol: Arc::clone(&protocol),
            started_at: now,
            last: now,
            tempo_ms,
            active_ms: 0,
            reps_target,
            reps_done: 0,
            noises: 0,
            instrument,
            state: State::Screening { question: 0 },
            pairing,
            phase_pairing: pairing,
            used: [None, None],
            ratings,
            discomfort: Vec::new(),
            outcome: None,
            pending: VecDeque::with_capacity(8),
            quiet: false,
        };

        session.pending.push_back(Output::Stage {
            stage: Stage::Screening,
        });

        // The injury rule refuses without asking (one rule: crate::injury_block).
        if let Some(block) = crate::injury_block(p, &facts.injuries, now) {
            session.end(Outcome::Refused {
                reason: RefusalReason::RecentInjury {
                    injured_at: block.injured_at,
                    allowed_at: block.allowed_at,
                },
            });
        } else {
            session.enter_screening(0, now);
        }
        Ok(session)
    }

    /// Applies an input at `now`.
    ///
    /// An input that does not fit the current state (see [`InputError`]) is
    /// rejected and changes nothing: no output is queued, no time recorded.
    /// [`Input::Timeout`] is always accepted before the end; it acts only on
    /// deadlines that have passed, and catches up on all of them if the driver
    /// is late (each phase starts at the previous deadline, so there is no drift).
    pub fn handle(&mut self, input: Input, now: Time) -> Result<(), InputError> {
        self.check(input, now)?;
        self.last = now;
        self.apply(input, now);
        Ok(())
    }

    /// Checks an input against the current state without changing anything.
    pub fn check(&self, input: Input, now: Time) -> Result<(), InputError> {
        if self.state == State::Ended {
            return Err(InputError::Ended);
        }
        if now < self.last {
            return Err(InputError::TimeWentBack {
                now,
                last: self.last,
            });
        }
        let not_now = || InputError::NotNow {
            input: input_name(input),
            state: self.describe(),
        };
        match (input, self.state) {
            (Input::Timeout | Input::Stop | Input::Pain { .. }, _) => Ok(()),
            (Input::Answer { .. }, State::Screening { .. }) => Ok(()),
            (Input::Ready, State::Setup { .. }) => Ok(()),
            (Input::Rating { value }, State::Ratings { .. }) => match value {
                Some(v) if v > 10 => Err(InputError::OutOfScale {
                    what: "rating",
                    got: v,
                }),
                _ => Ok(()),
            },
            (Input::Discomfort { level }, State::Rolling { .. }) => {
                if level > 10 {
                    Err(InputError::OutOfScale {
                        what: "discomfort",
                        got: level,
                    })
                } else {
                    Ok(())
                }
            }
            (Input::Noise | Input::SwitchBreathing, State::Rolling { .. }) => Ok(()),
            (Input::Pause, State::Rolling { paused: None, .. }) => Ok(()),
            (
                Input::Resume,
                State::Rolling {
                    paused: Some(_), ..
                },
            ) => Ok(()),
            _ => Err(not_now()),
        }
    }

    fn apply(&mut self, input: Input, now: Time) {
        match input {
            Input::Timeout => self.on_timeout(now),
            Input::Stop => {
                self.count_partial_phase(now);
                self.end(Outcome::Stopped {
                    reason: StopReason::ByPerson,
                });
            }
            Input::Pain { kind } => {
                self.count_partial_phase(now);
                let reason = match kind {
                    PainKind::Pop => StopReason::PainWithPop,
                    PainKind::Spine => StopReason::PainOverSpine,
                    PainKind::Sharp => StopReason::SharpOrRadiating,
                    PainKind::Other => StopReason::OtherPain,
                };
                self.end(Outcome::Stopped { reason });
            }
            Input::Answer { answer } => {
                let State::Screening { question } = self.state else {
                    return;
                };
                let q = &self.protocol.screening.questions[question as usize];
                if answer == q.refuse_on {
                    let question = q.id.clone();
                    self.end(Outcome::Refused {
                        reason: RefusalReason::Answer { question },
                    });
                } else {
                    self.enter_screening(question + 1, now);
                }
            }
            Input::Rating { value } => {
                let State::Ratings { when, index } = self.state else {
                    return;
                };
                let slot = &mut self.ratings[index as usize];
                match when {
                    When::Before => slot.before = value,
                    When::After => slot.after = value,
                }
                self.enter_ratings(when, index + 1, now);
            }
            Input::Ready => {
                let State::Setup { step } = self.state else {
                    return;
                };
                self.enter_setup(step + 1, now);
            }
            Input::Pause => {
                if let State::Rolling {
                    deadline, paused, ..
                } = &mut self.state
                {
                    let remaining = deadline.since(now).min(self.tempo_ms);
                    *paused = Some(remaining);
                    self.emit(Output::Paused {
                        remaining_ms: remaining,
                    });
                }
            }
            Input::Resume => {
                if let State::Rolling {
                    deadline, paused, ..
                } = &mut self.state
                    && let Some(remaining) = paused.take()
                {
                    let resumed = now.plus_ms(remaining);
                    *deadline = resumed;
                    self.emit(Output::Resumed {
                        deadline: resumed,
                        remaining_ms: remaining,
                    });
                }
            }
            Input::Discomfort { level } => match self.protocol.discomfort_threshold() {
                Some(above) if level > above => {
                    self.discomfort.push(level);
                    self.count_partial_phase(now);
                    self.end(Outcome::Stopped {
                        reason: StopReason::TooMuchDiscomfort,
                    });
                }
                _ => {
                    self.discomfort.push(level);
                    if !self.quiet {
                        self.pending.push_back(Output::Acknowledged {
                            what: format!("discomfort {level}"),
                        });
                        self.push_notes(|m| m == NoteMoment::OnDiscomfort);
                    }
                }
            },
            Input::Noise => {
                self.noises += 1;
                if !self.quiet {
                    self.pending.push_back(Output::Acknowledged {
                        what: "noise".to_string(),
                    });
                    self.push_notes(|m| m == NoteMoment::OnNoise);
                }
            }
            Input::SwitchBreathing => {
                self.pairing = self.pairing.switched();
                self.emit(Output::PairingSwitched {
                    pairing: self.pairing,
                });
            }
        }
    }

    /// Completes every phase whose deadline has passed.
    fn on_timeout(&mut self, now: Time) {
        while let State::Rolling {
            phase,
            deadline,
            paused: None,
        } = self.state
        {
            if deadline > now {
                break;
            }
            self.active_ms += self.tempo_ms;
            if phase % 2 == 1 {
                self.reps_done += 1;
            }
            self.start_phase(phase + 1, deadline);
        }
    }

    /// On a stop mid-phase, counts the part of the phase already rolled.
    fn count_partial_phase(&mut self, now: Time) {
        if let State::Rolling {
            deadline, paused, ..
        } = self.state
        {
            let remaining = paused.unwrap_or_else(|| deadline.since(now));
            self.active_ms += self.tempo_ms.saturating_sub(remaining);
        }
    }

    fn stop_message(&self, reason: StopReason) -> String {
        let p = &self.protocol;
        let rule = match reason {
            StopReason::PainWithPop => p.stop_rule(|t| matches!(t, StopTrigger::PainWithPop)),
            StopReason::PainOverSpine => p.stop_rule(|t| matches!(t, StopTrigger::PainOverSpine)),
            StopReason::SharpOrRadiating => {
                p.stop_rule(|t| matches!(t, StopTrigger::SharpOrRadiating))
            }
            StopReason::OtherPain => None,
            StopReason::TooMuchDiscomfort => {
                p.stop_rule(|t| matches!(t, StopTrigger::Discomfort { .. }))
            }
            StopReason::ByPerson => return STOPPED_BY_PERSON_MESSAGE.to_string(),
        };
        rule.or_else(|| p.stop_rule(|t| matches!(t, StopTrigger::OtherPain)))
            .map(|r| r.message.clone())
            .unwrap_or_else(|| PAIN_FALLBACK_MESSAGE.to_string())
    }

    fn enter_screening(&mut self, question: u32, now: Time) {
        let p = Arc::clone(&self.protocol);
        let questions = &p.screening.questions;
        match questions.get(question as usize) {
            Some(q) => {
                self.state = State::Screening { question };
                if !self.quiet {
                    self.pending
                        .push_back(screening_prompt(q, question, questions.len()));
                    self.pending.push_back(Output::Cue {
                        text: q.text.clone(),
                        say: q.text.clone(),
                    });
                }
            }
            None => self.enter_ratings(When::Before, 0, now),
        }
    }

    fn enter_ratings(&mut self, when: When, index: u32, now: Time) {
        match self.ratings.get(index as usize).copied() {
            Some(slot) => {
                self.state = State::Ratings { when, index };
                if index == 0 {
                    self.emit(Output::Stage {
                        stage: ratings_stage(when),
                    });
                }
                if !self.quiet {
                    let prompt = self.rating_prompt(when, slot);
                    self.pending.extend(prompt);
                }
            }
            None => match when {
                When::Before => self.enter_setup(0, now),
                When::After => self.end(Outcome::Completed),
            },
        }
    }

    /// A rating prompt and its cue.
    fn rating_prompt(&self, when: When, slot: RatingSlot) -> [Output; 2] {
        let r = &self.protocol.indications[usize::from(slot.indication)].rating;
        [
            Output::Prompt(Prompt::Rating {
                when,
                id: r.id.clone(),
                label: r.label.clone(),
                question: r.question.clone(),
                low: r.low.clone(),
                high: r.high.clone(),
            }),
            Output::Cue {
                text: r.question.clone(),
                say: r.question.clone(),
            },
        ]
    }

    fn enter_setup(&mut self, step: u32, now: Time) {
        if (step as usize) < self.protocol.setup.len() {
            self.state = State::Setup { step };
            if step == 0 {
                self.emit(Output::Stage {
                    stage: Stage::Setup,
                });
            }
            if !self.quiet {
                let prompt = self.setup_prompt(step);
                self.pending.extend(prompt);
            }
            if step as usize + 1 == self.protocol.setup.len() {
                // Heard while the person is talked into the movement, before
                // they say ready: a note too long for a phase goes here.
                self.push_notes(|m| m == NoteMoment::BeforeRolling);
            }
        } else {
            self.emit(Output::Stage {
                stage: Stage::Rolling,
            });
            self.push_notes(|m| m == NoteMoment::RollingStart);
            self.start_phase(0, now);
        }
    }

    /// A setup step's prompt and its cue, in the instrument's wording.
    fn setup_prompt(&self, step: u32) -> [Output; 2] {
        let p = &self.protocol;
        let s = &p.setup[step as usize];
        let (text, cue) = s.wording(self.instrument_id());
        [
            Output::Prompt(Prompt::Ready {
                id: s.id.clone(),
                text: text.to_string(),
                index: step + 1,
                of: count(p.setup.len()),
            }),
            Output::Cue {
                text: text.to_string(),
                say: cue.to_string(),
            },
        ]
    }

    /// Starts phase `phase` at `start`, or leaves the rolling after the last one.
    fn start_phase(&mut self, phase: u32, start: Time) {
        if phase >= self.reps_target.saturating_mul(2) {
            self.enter_ratings(When::After, 0, start);
            return;
        }
        let rep = phase / 2 + 1;
        if phase.is_multiple_of(2) {
            if let Some(n) = self.protocol.movement.breathing.switch_every_reps
                && n > 0
                && rep > 1
                && (rep - 1).is_multiple_of(n)
            {
                self.pairing = self.pairing.switched();
                self.emit(Output::PairingSwitched {
                    pairing: self.pairing,
                });
            }
            self.push_notes(|m| m == NoteMoment::Rep(rep));
        }
        self.phase_pairing = self.pairing;
        if !self.used.contains(&Some(self.pairing)) {
            let free = if self.used[0].is_none() { 0 } else { 1 };
            self.used[free] = Some(self.pairing);
        }
        let deadline = start.plus_ms(self.tempo_ms);
        self.state = State::Rolling {
            phase,
            deadline,
            paused: None,
        };
        if !self.quiet {
            let (phase_output, cue) = self.phase_outputs(phase, deadline);
            self.pending.push_back(phase_output);
            self.pending.push_back(cue);
        }
    }

    /// The Phase output and its spoken cue.
    fn phase_outputs(&self, phase: u32, deadline: Time) -> (Output, Output) {
        let mv = &self.protocol.movement;
        let direction = if phase.is_multiple_of(2) {
            Direction::Out
        } else {
            Direction::Back
        };
        let breath = breath_for(self.phase_pairing, direction);
        let spec = match direction {
            Direction::Out => &mv.out,
            Direction::Back => &mv.back,
        };
        let breath_cue = match breath {
            Breath::Inhale => &mv.breathing.inhale_cue,
            Breath::Exhale => &mv.breathing.exhale_cue,
        };
        let say = format!("{breath_cue}, {}", spec.cue);
        (
            Output::Phase {
                rep: phase / 2 + 1,
                of: self.reps_target,
                direction,
                breath,
                toward: spec.label.clone(),
                duration_ms: self.tempo_ms,
                deadline,
            },
            Output::Cue {
                text: say.clone(),
                say,
            },
        )
    }

    fn push_notes(&mut self, at: impl Fn(NoteMoment) -> bool) {
        if self.quiet {
            return;
        }
        for n in &self.protocol.notes {
            if at(n.when) {
                self.pending.push_back(Output::Note {
                    id: n.id.clone(),
                    text: n.text.clone(),
                    say: n.cue.clone(),
                });
            }
        }
    }

    /// Ends the session; the End output carries the outcome's message.
    fn end(&mut self, outcome: Outcome) {
        self.state = State::Ended;
        if !self.quiet {
            self.pending.push_back(Output::End {
                message: self.end_message(&outcome),
                summary: self.summary(),
                outcome: outcome.clone(),
            });
        }
        self.outcome = Some(outcome);
    }

    /// Queues an output that costs nothing to build (no strings).
    fn emit(&mut self, output: Output) {
        if !self.quiet {
            self.pending.push_back(output);
        }
    }

    /// Switches output building off or on (see [`crate::recover`]).
    /// Switching it on drops the outputs not yet polled.
    pub(crate) fn set_quiet(&mut self, quiet: bool) {
        self.quiet = quiet;
        if quiet {
            self.pending.clear();
        }
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.pending.pop_front()
    }

    /// When the driver must call back with [`Input::Timeout`], if at all:
    /// only while a phase is rolling (not paused).
    pub fn next_deadline(&self) -> Option<Time> {
        match self.state {
            State::Rolling {
                deadline,
                paused: None,
                ..
            } => Some(deadline),
            _ => None,
        }
    }

    /// The current stage.
    pub fn stage(&self) -> Stage {
        match self.state {
            State::Screening { .. } => Stage::Screening,
            State::Ratings { when, .. } => ratings_stage(when),
            State::Setup { .. } => Stage::Setup,
            State::Rolling { .. } => Stage::Rolling,
            State::Ended => Stage::Ended,
        }
    }

    /// Outputs that bring a front-end that just (re)connected up to date at
    /// `now`: the stage, the open prompt or the current phase with its
    /// remaining time, whether it is paused, and the end if it has ended.
    ///
    /// While paused, the phase's deadline is given as `now` plus the time
    /// left, followed by [`Output::Paused`]. A pairing switch that takes effect
    /// at the next phase follows as [`Output::PairingSwitched`].
    pub fn current(&self, now: Time) -> Vec<Output> {
        let mut out = Vec::with_capacity(4);
        match self.state {
            State::Ended => {
                if let Some(outcome) = &self.outcome {
                    out.push(Output::End {
                        outcome: outcome.clone(),
                        message: self.end_message(outcome),
                        summary: self.summary(),
                    });
                }
                return out;
            }
            State::Screening { question } => {
                out.push(Output::Stage {
                    stage: Stage::Screening,
                });
                let questions = &self.protocol.screening.questions;
                let q = &questions[question as usize];
                out.push(screening_prompt(q, question, questions.len()));
                out.push(Output::Cue {
                    text: q.text.clone(),
                    say: q.text.clone(),
                });
            }
            State::Ratings { when, index } => {
                out.push(Output::Stage {
                    stage: ratings_stage(when),
                });
                out.extend(self.rating_prompt(when, self.ratings[index as usize]));
            }
            State::Setup { step } => {
                out.push(Output::Stage {
                    stage: Stage::Setup,
                });
                out.extend(self.setup_prompt(step));
            }
            State::Rolling {
                phase,
                deadline,
                paused,
            } => {
                out.push(Output::Stage {
                    stage: Stage::Rolling,
                });
                let shown_deadline = match paused {
                    Some(remaining) => now.plus_ms(remaining),
                    None => deadline,
                };
                let (phase_output, cue) = self.phase_outputs(phase, shown_deadline);
                out.push(phase_output);
                out.push(cue);
                if let Some(remaining) = paused {
                    out.push(Output::Paused {
                        remaining_ms: remaining,
                    });
                }
                if self.pairing != self.phase_pairing {
                    out.push(Output::PairingSwitched {
                        pairing: self.pairing,
                    });
                }
            }
        }
        out
    }

    fn end_message(&self, outcome: &Outcome) -> String {
        match outcome {
            Outcome::Completed => COMPLETED_MESSAGE.to_string(),
            Outcome::Stopped { reason } => self.stop_message(*reason),
            Outcome::Refused {
                reason: RefusalReason::RecentInjury { .. },
            } => self.protocol.screening.injury_rule.message.clone(),
            Outcome::Refused {
                reason: RefusalReason::Answer { question },
            } => self
                .protocol
                .screening
                .questions
                .iter()
                .find(|q| &q.id == question)
                .map(|q| q.refusal.clone())
                .unwrap_or_default(),
        }
    }

    /// When the session started (the `now` given to [`Session::new`]).
    pub fn started_at(&self) -> Time {
        self.started_at
    }

    /// The outcome, once the session has ended.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// The protocol this session runs.
    pub fn protocol(&self) -> &Protocol {
        &self.protocol
    }

    /// The shared protocol this session runs.
    pub fn protocol_arc(&self) -> &Arc<Protocol> {
        &self.protocol
    }

    /// Full reps done so far (out and back).
    pub fn reps_done(&self) -> u32 {
        self.reps_done
    }

    /// Reps planned.
    pub fn reps_target(&self) -> u32 {
        self.reps_target
    }

    /// Milliseconds per direction.
    pub fn tempo_ms(&self) -> u64 {
        self.tempo_ms
    }

    /// The breathing pairing in force: the one the next phase starts with
    /// (a switch asked during a phase shows here at once).
    pub fn pairing(&self) -> Pairing {
        self.pairing
    }

    /// The instrument id in use.
    pub fn instrument_id(&self) -> &str {
        self.instrument
            .and_then(|ix| self.protocol.instruments.get(usize::from(ix)))
            .map(|i| i.id.as_str())
            .unwrap_or(self.protocol.default_instrument.as_str())
    }

    /// The latest time the session accepted an input at (or its start).
    pub fn last_time(&self) -> Time {
        self.last
    }

    /// Whether the current phase is paused.
    pub fn is_paused(&self) -> bool {
        matches!(
            self.state,
            State::Rolling {
                paused: Some(_),
                ..
            }
        )
    }

    /// What the session did so far (the summary the end carries).
    pub fn summary(&self) -> Summary {
        let p = &self.protocol;
        Summary {
            reps_done: self.reps_done,
            reps_target: self.reps_target,
            active_ms: self.active_ms,
            pairings: self.used.iter().flatten().copied().collect(),
            ratings: self
                .ratings
                .iter()
                .map(|s| RatingResult {
                    id: p.indications[usize::from(s.indication)].rating.id.clone(),
                    before: s.before,
                    after: s.after,
                })
                .collect(),
            discomfort: self.discomfort.clone(),
            noises: self.noises,
        }
    }

    /// Bytes this session holds on the heap, not counting the shared
    /// protocol: its own vectors and the outputs not yet polled (estimated
    /// from their capacities). Add `size_of::<Session>()` for the total.
    pub fn heap_bytes(&self) -> usize {
        self.ratings.capacity() * std::mem::size_of::<RatingSlot>()
            + self.discomfort.capacity()
            + self.pending.capacity() * std::mem::size_of::<Output>()
    }

    /// A short description of the state, for error messages.
    fn describe(&self) -> String {
        match self.state {
            State::Screening { question } => format!(
                "asking screening question {} of {}",
                question + 1,
                self.protocol.screening.questions.len()
            ),
            State::Ratings { when, index } => format!(
                "asking rating {} of {} {}",
                index + 1,
                self.ratings.len(),
                match when {
                    When::Before => "before rolling",
                    When::After => "after rolling",
                }
            ),
            State::Setup { step } => format!(
                "at setup step {} of {} (waiting for ready)",
                step + 1,
                self.protocol.setup.len()
            ),
            State::Rolling {
                phase,
                paused: None,
                ..
            } => format!("rolling rep {} of {}", phase / 2 + 1, self.reps_target),
            State::Rolling {
                phase,
                paused: Some(_),
                ..
            } => format!("paused at rep {} of {}", phase / 2 + 1, self.reps_target),
            State::Ended => "ended".to_string(),
        }
    }
}

fn screening_prompt(q: &rollcoach_protocol::Question, index: u32, of: usize) -> Output {
    Output::Prompt(Prompt::Screening {
        id: q.id.clone(),
        text: q.text.clone(),
        index: index + 1,
        of: count(of),
    })
}

fn ratings_stage(when: When) -> Stage {
    match when {
        When::Before => Stage::RatingsBefore,
        When::After => Stage::RatingsAfter,
    }
}

/// The breath a pairing gives a direction.
pub fn breath_for(pairing: Pairing, direction: Direction) -> Breath {
    match (pairing, direction) {
        (Pairing::InhaleOut, Direction::Out) | (Pairing::InhaleBack, Direction::Back) => {
            Breath::Inhale
        }
        _ => Breath::Exhale,
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The options as a session runs them, once checked against the protocol.
struct Checked {
    reps_target: u32,
    tempo_ms: u64,
    instrument: Option<u16>,
}

/// Checks `options` against protocol `p` (the one rule: [`Options::check`]
/// and every session start use it).
fn checked(p: &Protocol, options: &Options) -> Result<Checked, OptionsError> {
    let mv = &p.movement;

    let reps_target = options.reps.unwrap_or(mv.reps.default);
    if reps_target < mv.reps.min || reps_target > mv.reps.max {
        return Err(OptionsError::Reps {
            got: reps_target,
            min: mv.reps.min,
            max: mv.reps.max,
        });
    }

    let tempo = options.tempo_seconds.unwrap_or(mv.tempo.default_seconds);
    if !(mv.tempo.min_seconds..=mv.tempo.max_seconds).contains(&tempo) {
        return Err(OptionsError::Tempo {
            got: tempo,
            min: mv.tempo.min_seconds,
            max: mv.tempo.max_seconds,
        });
    }
    // Defence in depth: a protocol that skipped `lint` cannot make a
    // session run unbounded reps or a tempo that loops without time passing.
    if reps_target > MAX_REPS {
        return Err(OptionsError::RepsLimit {
            got: reps_target,
            max: MAX_REPS,
        });
    }
    if !(MIN_TEMPO_SECONDS..=MAX_TEMPO_SECONDS).contains(&tempo) {
        return Err(OptionsError::TempoLimit {
            got: tempo,
            min: MIN_TEMPO_SECONDS,
            max: MAX_TEMPO_SECONDS,
        });
    }
    // In range, so finite and at least a second: the cast cannot misbehave.
    let tempo_ms = (tempo * 1000.0).round() as u64;

    let instrument = match &options.instrument {
        None => None,
        Some(id) => match p.instruments.iter().position(|i| &i.id == id) {
            Some(ix) => Some(u16::try_from(ix).unwrap_or(u16::MAX)),
            None => {
                return Err(OptionsError::Instrument {
                    got: id.clone(),
                    known: join_ids(p.instruments.iter().map(|i| i.id.as_str())),
                });
            }
        },
    };

    for reason in &options.reasons {
        if !p.indications.iter().any(|i| &i.id == reason) {
            return Err(OptionsError::Reason {
                got: reason.clone(),
                known: join_ids(p.indications.iter().map(|i| i.id.as_str())),
            });
        }
    }
    Ok(Checked {
        reps_target,
        tempo_ms,
        instrument,
    })
}

impl Options {
    /// Checks these options against `protocol` as a session start does:
    /// reps and tempo within the protocol's ranges (and what rollcoach
    /// runs), a known instrument, known reasons. Front-ends call it (through
    /// `rollcoach_store::domain::SessionOptions`) before anything is shown
    /// or recorded.
    pub fn check(&self, protocol: &Protocol) -> Result<(), OptionsError> {
        checked(protocol, self).map(|_| ())
    }
}

fn join_ids<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    ids.collect::<Vec<_>>().join(", ")
}

/// The input's name, as in its serde tag.
pub fn input_name(input: Input) -> &'static str {
    match input {
        Input::Answer { .. } => "answer",
        Input::Ready => "ready",
        Input::Rating { .. } => "rating",
        Input::Pause => "pause",
        Input::Resume => "resume",
        Input::Discomfort { .. } => "discomfort",
        Input::Pain { .. } => "pain",
        Input::Noise => "noise",
        Input::SwitchBreathing => "switch-breathing",
        Input::Stop => "stop",
        Input::Timeout => "timeout",
    }
}
