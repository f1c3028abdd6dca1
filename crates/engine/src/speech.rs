//! The speech planner: what is said, and when.
//!
//! A person on a foam roller has their eyes closed and follows the voice, so
//! a breath cue said late is worse than none: it contradicts the pacer. The
//! planner takes the engine's outputs, each with its session time, and
//! decides which utterances to start, which to cut off, and which to only
//! show. Like the engine it never reads a clock and does no I/O: the driver
//! feeds it outputs ([`Planner::output`]), tells it when an utterance really
//! ended ([`Planner::finished`]), and carries out what [`Planner::poll`]
//! returns at the time it says.
//!
//! The rules, by kind of utterance ([`Kind`]):
//! - **Breath**: a phase's breath and direction cue is due at the phase's
//!   start and worthless after it. The planner picks the longest wording
//!   whose expected length fits the phase with a margin ([`Planner::phase_forms`]),
//!   cuts off whatever else is being said, and never lets it run past the
//!   phase's end.
//! - **Safety**: a stop or a refusal pre-empts everything: what is being said
//!   is cut, what is queued is dropped, and it starts at once.
//! - **Prompt**: a question or a setup step is said in order, and dropped (or
//!   cut off) the moment it is answered, which the planner sees as the next
//!   prompt or the next stage arriving.
//! - **Note**: outside the rolling a note is said in order (a note for the
//!   moment `before-rolling` comes right after the last setup step, so a long
//!   one is heard before the first phase); during the rolling it is said only
//!   where it fits whole in its phase after the breath cue, for which the
//!   planner may choose a shorter wording of the cue, down to the short cue
//!   ("in, to your neck") and no shorter; else it is shown and not spoken
//!   ([`Speech::Skip`]).
//! - **Info**: anything else (the completion message), said in order.
//!
//! No two utterances ever overlap: a new one starts only when the last has
//! finished or has been cut ([`Speech::Cut`] comes first).
//!
//! Expected lengths come from [`estimate_ms`], a model fitted to espeak-ng's
//! real durations at its default rate (175 words a minute); a front-end with
//! a faster or slower voice gives its rate as a factor.

use std::collections::VecDeque;
use std::sync::Arc;

use rollcoach_protocol::Protocol;
use serde::Serialize;

use crate::{Breath, Direction, Outcome, Output, Prompt, Stage, Time};

/// The kind of an utterance, which decides its timing rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A phase's breath and direction cue.
    Breath,
    /// A stop or refusal message.
    Safety,
    /// A question, rating or setup step, dropped once answered.
    Prompt,
    /// A note from the protocol.
    Note,
    /// Anything else.
    Info,
}

/// An utterance the driver is asked to say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Utterance {
    /// Its number, to match [`Speech::Cut`] and [`Planner::finished`].
    pub id: u64,
    /// What to say.
    pub text: String,
    /// Its kind.
    pub kind: Kind,
    /// Its expected length at the planner's rate, in milliseconds.
    pub expected_ms: u64,
}

/// What the driver does next. As JSON (for the page's wasm module):
/// `{"type": "say", "id", "text", "kind", "expected_ms"}`,
/// `{"type": "cut", "id"}`, `{"type": "skip", "text", "kind"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Speech {
    /// Start saying this now.
    Say(Utterance),
    /// Cut off the utterance with this id (it is no longer wanted).
    Cut {
        /// The utterance's id.
        id: u64,
    },
    /// This was not spoken (it did not fit, or came too late): show it only.
    Skip {
        /// The text.
        text: String,
        /// Its kind.
        kind: Kind,
    },
}

pub use rollcoach_protocol::speech::{BASE_WPM, PHASE_MARGIN_MS, estimate_ms};

/// What the voice says when the session is paused.
pub const PAUSED: &str = "Paused.";

#[derive(Debug, Clone)]
struct Speaking {
    id: u64,
    kind: Kind,
    /// When it must be over (a breath cue's phase end), if it has such a limit.
    until: Option<Time>,
}

#[derive(Debug, Clone)]
struct Queued {
    text: String,
    kind: Kind,
}

#[derive(Debug, Clone, Copy)]
struct Phase {
    start: Time,
    end: Time,
    breath: Breath,
    direction: Direction,
    /// When the breath cue planned for it is expected to be over.
    free_at: Time,
}

/// The speech planner of one session (see the module docs).
#[derive(Debug, Clone)]
pub struct Planner {
    protocol: Arc<Protocol>,
    rate: f64,
    next_id: u64,
    speaking: Option<Speaking>,
    queue: VecDeque<Queued>,
    /// Notes that arrived during the rolling, placed when the phase is known.
    notes: Vec<Queued>,
    phase: Option<Phase>,
    stage: Option<Stage>,
    paused: bool,
    out: VecDeque<Speech>,
    /// The last output was a prompt: the cue that follows is its text.
    after_prompt: bool,
    /// The last output was a phase: the cue that follows is the engine's
    /// full wording, replaced by the planner's own choice.
    after_phase: bool,
    ended: bool,
}

impl Planner {
    /// A planner for a session of `protocol`, for a voice speaking at `rate`
    /// times espeak-ng's default rate (1.0 is 175 words a minute).
    pub fn new(protocol: Arc<Protocol>, rate: f64) -> Planner {
        Planner {
            protocol,
            rate: if rate.is_finite() && rate > 0.0 {
                rate
            } else {
                1.0
            },
            next_id: 1,
            speaking: None,
            queue: VecDeque::new(),
            notes: Vec::new(),
            phase: None,
            stage: None,
            paused: false,
            out: VecDeque::new(),
            after_prompt: false,
            after_phase: false,
            ended: false,
        }
    }

    /// The rate factor the planner plans for.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The wordings of a phase cue, longest first
    /// ([`rollcoach_protocol::Movement::cue_forms`]): the full breath and
    /// direction cue ("breathe in, roll toward your neck"), the short cue
    /// ("in, to your neck"), the breath cue alone ("breathe in"), the short
    /// breath word ("in"); the protocol may leave out the short ones.
    pub fn phase_forms(&self, breath: Breath, direction: Direction) -> Vec<String> {
        self.protocol
            .movement
            .cue_forms(direction == Direction::Out, breath == Breath::Inhale)
    }

    /// The wording the planner says for a phase of `phase_ms`: the longest
    /// form that fits with [`PHASE_MARGIN_MS`] to spare, else the shortest.
    pub fn phase_cue(&self, breath: Breath, direction: Direction, phase_ms: u64) -> String {
        self.phase_cue_with(breath, direction, phase_ms, 0)
    }

    /// The wording for a phase of `phase_ms` in which notes of
    /// `notes_ms` (their expected lengths, each with its margin) are to be
    /// said after the cue: the longest form that leaves them room, but never
    /// shorter than the short cue (the direction is always said when the
    /// phase has room for it); when no such form leaves the notes room, the
    /// plain [`Planner::phase_cue`] (and the notes are shown only).
    fn phase_cue_with(
        &self,
        breath: Breath,
        direction: Direction,
        phase_ms: u64,
        notes_ms: u64,
    ) -> String {
        let forms = self.phase_forms(breath, direction);
        let room = phase_ms.saturating_sub(PHASE_MARGIN_MS);
        let fits = |f: &String, extra: u64| estimate_ms(f, self.rate) + extra <= room;
        let plain = forms
            .iter()
            .position(|f| fits(f, 0))
            .unwrap_or(forms.len().saturating_sub(1));
        if notes_ms > 0 {
            // The short cue is the second form when the protocol has one.
            let mv = &self.protocol.movement;
            let spec = match direction {
                Direction::Out => &mv.out,
                Direction::Back => &mv.back,
            };
            let floor = usize::from(spec.short_cue.is_some());
            if let Some(f) = forms
                .iter()
                .enumerate()
                .skip(plain)
                .take_while(|(i, _)| *i <= floor.max(plain))
                .map(|(_, f)| f)
                .find(|f| fits(f, notes_ms))
            {
                return f.clone();
            }
        }
        forms.get(plain).cloned().unwrap_or_default()
    }

    /// Feeds an engine output, at its session time. Feed every output of a
    /// batch before polling.
    pub fn output(&mut self, at: Time, output: &Output) {
        let after_prompt = std::mem::take(&mut self.after_prompt);
        let after_phase = std::mem::take(&mut self.after_phase);
        if self.ended {
            return;
        }
        match output {
            Output::Stage { stage } => {
                self.stage = Some(*stage);
                // A new stage answers whatever was asked before it.
                self.answered();
                if *stage != Stage::Rolling {
                    self.phase = None;
                }
            }
            Output::Prompt(prompt) => {
                // A new prompt: the one before it was answered.
                self.answered();
                self.after_prompt = true;
                if let Prompt::Screening { .. } = prompt {
                    self.stage = Some(Stage::Screening);
                }
            }
            Output::Cue { say, .. } => {
                if after_phase {
                    // The phase's own cue, planned in `Output::Phase`.
                } else {
                    let kind = if after_prompt {
                        Kind::Prompt
                    } else {
                        Kind::Info
                    };
                    self.enqueue(say, kind);
                }
            }
            Output::Phase {
                breath,
                direction,
                duration_ms,
                deadline,
                ..
            } => {
                self.after_phase = true;
                self.paused = false;
                self.start_phase(at, *breath, *direction, *duration_ms, *deadline);
            }
            Output::Paused { .. } => {
                self.paused = true;
                // The pacer has stopped: so does the voice.
                self.cut_unless(|k| k == Kind::Safety || k == Kind::Prompt);
                self.queue
                    .retain(|q| matches!(q.kind, Kind::Safety | Kind::Prompt));
                // Said, so a person with their eyes closed knows the pacer
                // waits for them (unless a safety message or a question is
                // being said).
                if self.speaking.is_none() {
                    self.say_now(PAUSED.to_string(), Kind::Info, None);
                }
            }
            Output::Resumed {
                deadline,
                remaining_ms,
            } => {
                self.paused = false;
                if let Some(p) = self.phase {
                    // Say the phase's cue again if a form of it fits what is left.
                    let text = self.phase_cue(p.breath, p.direction, *remaining_ms);
                    let expected = estimate_ms(&text, self.rate);
                    if expected + PHASE_MARGIN_MS <= *remaining_ms {
                        self.cut_unless(|k| k == Kind::Safety);
                        self.phase = Some(Phase {
                            start: at,
                            end: *deadline,
                            free_at: at.plus_ms(expected),
                            ..p
                        });
                        self.say_now(text, Kind::Breath, Some(*deadline));
                    } else {
                        self.phase = Some(Phase {
                            start: at,
                            end: *deadline,
                            free_at: at,
                            ..p
                        });
                    }
                }
            }
            Output::Note { say, .. } => {
                let q = Queued {
                    text: say.clone(),
                    kind: Kind::Note,
                };
                if self.stage == Some(Stage::Rolling) {
                    self.notes.push(q);
                } else {
                    self.queue.push_back(q);
                }
            }
            Output::End {
                outcome, message, ..
            } => {
                self.ended = true;
                self.phase = None;
                self.notes.clear();
                match outcome {
                    Outcome::Completed => {
                        self.queue.retain(|q| q.kind != Kind::Prompt);
                        self.enqueue(message, Kind::Info);
                    }
                    Outcome::Stopped { .. } | Outcome::Refused { .. } => {
                        self.cut_unless(|_| false);
                        self.queue.clear();
                        self.say_now(message.clone(), Kind::Safety, None);
                    }
                }
            }
            Output::PairingSwitched { .. } | Output::Acknowledged { .. } => {}
        }
    }

    /// The driver says that utterance `id` has ended (said whole, or cut).
    pub fn finished(&mut self, id: u64, at: Time) {
        if self.speaking.as_ref().is_some_and(|s| s.id == id) {
            self.speaking = None;
            if let Some(p) = &mut self.phase {
                p.free_at = p.free_at.min(at).max(p.start);
            }
        }
    }

    /// The id of the utterance being said, if any.
    pub fn speaking(&self) -> Option<u64> {
        self.speaking.as_ref().map(|s| s.id)
    }

    /// The next thing to do at `now`, if any. Call until `None` after every
    /// batch of outputs, every [`Planner::finished`] and at [`Planner::next_wake`].
    pub fn poll(&mut self, now: Time) -> Option<Speech> {
        if self.out.is_empty() {
            self.plan(now);
        }
        self.out.pop_front()
    }

    /// When the planner wants to be polled again though nothing happens: the
    /// end of a breath cue's phase, which cuts it if it still runs.
    pub fn next_wake(&self) -> Option<Time> {
        let s = self.speaking.as_ref()?;
        s.until
    }

    fn plan(&mut self, now: Time) {
        // A breath cue never runs past its phase.
        if let Some(s) = &self.speaking
            && s.until.is_some_and(|u| now >= u)
        {
            let id = s.id;
            self.speaking = None;
            self.out.push_back(Speech::Cut { id });
        }
        // Notes of the rolling: placed after the breath cue if they fit whole.
        if !self.notes.is_empty() {
            let notes = std::mem::take(&mut self.notes);
            for n in notes {
                let expected = estimate_ms(&n.text, self.rate);
                let fits = self.phase.is_some_and(|p| {
                    !self.paused
                        && p.free_at.max(now).plus_ms(PHASE_MARGIN_MS + expected)
                            <= Time(p.end.0.saturating_sub(PHASE_MARGIN_MS))
                });
                if fits {
                    self.queue.push_back(n);
                } else {
                    self.out.push_back(Speech::Skip {
                        text: n.text,
                        kind: n.kind,
                    });
                }
            }
        }
        if self.speaking.is_some() || self.paused {
            return;
        }
        while let Some(q) = self.queue.pop_front() {
            if q.kind == Kind::Note
                && self.stage == Some(Stage::Rolling)
                && let Some(p) = self.phase
            {
                let expected = estimate_ms(&q.text, self.rate);
                if now.plus_ms(expected + PHASE_MARGIN_MS) > p.end {
                    self.out.push_back(Speech::Skip {
                        text: q.text,
                        kind: q.kind,
                    });
                    continue;
                }
                self.say_now(q.text, q.kind, Some(p.end));
                return;
            }
            self.say_now(q.text, q.kind, None);
            return;
        }
    }

    fn start_phase(
        &mut self,
        at: Time,
        breath: Breath,
        direction: Direction,
        duration_ms: u64,
        deadline: Time,
    ) {
        // The notes of this phase arrived just before it: leave them room if
        // a shorter wording can.
        let notes_ms: u64 = self
            .notes
            .iter()
            .map(|n| estimate_ms(&n.text, self.rate) + PHASE_MARGIN_MS)
            .sum();
        let text = self.phase_cue_with(breath, direction, duration_ms, notes_ms);
        let expected = estimate_ms(&text, self.rate);
        // Nothing but a safety message may hold up a breath cue.
        self.cut_unless(|k| k == Kind::Safety);
        self.queue.retain(|q| q.kind == Kind::Safety);
        self.phase = Some(Phase {
            start: at,
            end: deadline,
            breath,
            direction,
            free_at: at.plus_ms(expected),
        });
        if self.speaking.is_none() {
            self.say_now(text, Kind::Breath, Some(deadline));
        } else {
            self.out.push_back(Speech::Skip {
                text,
                kind: Kind::Breath,
            });
        }
    }

    /// A prompt was answered: drop queued prompts and cut the one being said.
    fn answered(&mut self) {
        self.queue.retain(|q| q.kind != Kind::Prompt);
        if self
            .speaking
            .as_ref()
            .is_some_and(|s| s.kind == Kind::Prompt)
        {
            self.cut_unless(|_| false);
        }
    }

    fn enqueue(&mut self, text: &str, kind: Kind) {
        if !text.trim().is_empty() {
            self.queue.push_back(Queued {
                text: text.to_string(),
                kind,
            });
        }
    }

    /// Cuts the utterance being said unless `keep` says otherwise.
    fn cut_unless(&mut self, keep: impl Fn(Kind) -> bool) {
        if let Some(s) = &self.speaking
            && !keep(s.kind)
        {
            let id = s.id;
            self.speaking = None;
            self.out.push_back(Speech::Cut { id });
        }
    }

    fn say_now(&mut self, text: String, kind: Kind, until: Option<Time>) {
        if text.trim().is_empty() {
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        let expected_ms = estimate_ms(&text, self.rate);
        self.speaking = Some(Speaking { id, kind, until });
        self.out.push_back(Speech::Say(Utterance {
            id,
            text,
            kind,
            expected_ms,
        }));
    }
}
