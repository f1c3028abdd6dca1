//! The view model: what the screen shows, built from the engine's outputs
//! and changed by keys ([`View::handle_key`] returns an [`Action`]).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use rollcoach_engine::{
    Breath, Direction, Input, Outcome, Output, PainKind, Prompt, Stage, Summary, Time,
};
use rollcoach_protocol::{Answer, Protocol};

/// What a key asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Nothing (or only the view changed).
    None,
    /// Send this input to the session.
    Input(Input),
    /// Send these inputs in order, stopping at the end of the session.
    Inputs(Vec<Input>),
    /// The reasons are chosen: start the session with them.
    Start(Vec<String>),
    /// Leave before the session started (nothing recorded).
    Cancel,
    /// Leave after the session ended.
    Quit,
    /// Log the injury the person said they had, at this time.
    LogInjury(InjuryWhen),
}

/// When the injury happened, as the person answered after a "yes" to the
/// recent-injury question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InjuryWhen {
    /// Today: logged as now.
    Today,
    /// Yesterday, at this time of day.
    Yesterday,
    /// Two days ago, at this time of day.
    TwoDaysAgo,
    /// A time the person typed ("3h ago", "2026-11-27 18:30").
    Typed(String),
}

/// The offer to log the injury, after a "yes" to the recent-injury question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// Asking when it happened (one key each).
    Ask,
    /// Typing a time.
    Typing(String),
    /// Answered: what was done, in words.
    Done(String),
}

/// One screening question asked before the reasons, before the session
/// starts: `(text, refusing answer)`.
pub type EarlyQuestion = (String, Answer);

/// A menu opened by a key, waiting for its choice. `resume`: the key paused
/// the session, so a cancel (or a level of discomfort that does not stop it)
/// resumes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// After `p`: which pain.
    Pain {
        /// Resume on cancel.
        resume: bool,
    },
    /// After `d`: the discomfort level.
    Discomfort {
        /// Resume on cancel or after a level that does not stop the session.
        resume: bool,
    },
}

/// The keys of the pain menu: one key each, the first letter of its words
/// and of no other kind's.
pub const PAIN_KEYS: [(char, PainKind, &str); 4] = [
    ('c', PainKind::Pop, "crack or pop with the pain"),
    ('s', PainKind::Spine, "spine: pain over it"),
    ('r', PainKind::Sharp, "radiating, sharp, numb or tingling"),
    ('o', PainKind::Other, "other pain"),
];

/// The current rolling phase.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseView {
    /// 1-based rep.
    pub rep: u32,
    /// Reps planned.
    pub of: u32,
    /// Direction.
    pub direction: Direction,
    /// Breath.
    pub breath: Breath,
    /// Where it moves toward.
    pub toward: String,
    /// Phase length.
    pub duration_ms: u64,
    /// When it ends.
    pub deadline: Time,
}

/// What the screen shows: built from the engine's outputs, changed by keys.
#[derive(Debug, Clone)]
pub struct View {
    /// Protocol title.
    pub title: String,
    /// Pacer labels: (start of "out", end of "out"), e.g. ("shoulder blades", "neck").
    pub ends: (String, String),
    /// `(id, text, checked)` of each indication, on the reasons screen.
    pub reasons: Option<Vec<(String, String, bool)>>,
    /// Highlighted reason.
    pub cursor: usize,
    /// Stage.
    pub stage: Stage,
    /// Open prompt.
    pub prompt: Option<Prompt>,
    /// Current phase.
    pub phase: Option<PhaseView>,
    /// Milliseconds left when paused.
    pub paused: Option<u64>,
    /// The latest spoken cue.
    pub cue: String,
    /// Recent notes and acknowledgements, newest last.
    pub log: Vec<String>,
    /// A key waiting for its second key.
    pub pending: Option<Pending>,
    /// A short message about the last key (e.g. rejected).
    pub flash: Option<String>,
    /// A lasting message (e.g. that speech failed).
    pub notice: Option<String>,
    /// `(rating id, label)` of the protocol's ratings, for the end screen.
    pub rating_labels: Vec<(String, String)>,
    /// `(question id, text)` of the screening questions, for a refusal.
    pub questions: Vec<(String, String)>,
    /// The end.
    pub end: Option<(Outcome, String, Summary)>,
    /// The screening questions still to ask before the reasons (the session
    /// has not started; the answers are given to it as it starts).
    pub early: Option<Vec<EarlyQuestion>>,
    /// The answers given to the early questions, in order.
    pub early_answers: Vec<Answer>,
    /// Ids of the questions that ask about a recent injury in the area.
    pub injury_questions: Vec<String>,
    /// The protocol's injury window, in hours.
    pub window_hours: u32,
    /// The offer to log the injury, after a "yes" to such a question.
    pub offer: Option<Offer>,
}

impl View {
    /// A view for a protocol; with `ask_reasons`, the reasons screen comes first.
    pub fn new(p: &Protocol, ask_reasons: bool) -> View {
        View {
            title: p.title.clone(),
            ends: (p.movement.back.label.clone(), p.movement.out.label.clone()),
            reasons: ask_reasons.then(|| {
                p.indications
                    .iter()
                    .map(|i| (i.id.clone(), i.text.clone(), false))
                    .collect()
            }),
            cursor: 0,
            stage: Stage::Screening,
            prompt: None,
            phase: None,
            paused: None,
            cue: String::new(),
            log: Vec::new(),
            pending: None,
            flash: None,
            notice: None,
            rating_labels: p
                .indications
                .iter()
                .map(|i| (i.rating.id.clone(), i.rating.label.clone()))
                .collect(),
            questions: p
                .screening
                .questions
                .iter()
                .map(|q| (q.id.clone(), q.text.clone()))
                .collect(),
            end: None,
            early: None,
            early_answers: Vec::new(),
            injury_questions: p
                .screening
                .questions
                .iter()
                .filter(|q| q.injury_window)
                .map(|q| q.id.clone())
                .collect(),
            window_hours: p.screening.injury_rule.window_hours,
            offer: None,
        }
    }

    /// Asks the protocol's screening questions first, before the reasons
    /// screen (and before anything is recorded).
    pub fn ask_screening_first(&mut self, p: &Protocol) {
        let questions: Vec<EarlyQuestion> = p
            .screening
            .questions
            .iter()
            .map(|q| (q.text.clone(), q.refuse_on))
            .collect();
        if questions.is_empty() {
            return;
        }
        self.early = Some(questions);
        self.show_early_question();
    }

    /// Whether the screens before the session (screening, reasons) are done.
    pub fn before_session(&self) -> bool {
        self.early.is_some() || self.reasons.is_some()
    }

    fn show_early_question(&mut self) {
        let Some(questions) = &self.early else { return };
        let i = self.early_answers.len();
        self.prompt = questions.get(i).map(|(text, _)| Prompt::Screening {
            id: String::new(),
            text: text.clone(),
            index: i as u32 + 1,
            of: questions.len() as u32,
        });
    }

    /// An answer to an early question: a refusing one ends the questions and
    /// skips the reasons (the session starts only to be refused).
    fn early_answer(&mut self, answer: Answer) {
        let Some(questions) = &self.early else { return };
        let refused = questions
            .get(self.early_answers.len())
            .is_some_and(|(_, refuse_on)| *refuse_on == answer);
        self.early_answers.push(answer);
        if refused || self.early_answers.len() >= questions.len() {
            self.early = None;
            self.prompt = None;
            if refused {
                self.reasons = None;
            }
        } else {
            self.show_early_question();
        }
    }

    /// Takes in an engine output.
    pub fn apply(&mut self, out: &Output) {
        match out {
            Output::Stage { stage } => {
                self.stage = *stage;
                if *stage != Stage::Rolling {
                    self.phase = None;
                    self.paused = None;
                }
            }
            Output::Cue { say, .. } => self.cue = say.clone(),
            Output::Prompt(p) => {
                self.prompt = Some(p.clone());
                self.phase = None;
            }
            Output::Phase {
                rep,
                of,
                direction,
                breath,
                toward,
                duration_ms,
                deadline,
            } => {
                self.prompt = None;
                self.paused = None;
                self.phase = Some(PhaseView {
                    rep: *rep,
                    of: *of,
                    direction: *direction,
                    breath: *breath,
                    toward: toward.clone(),
                    duration_ms: *duration_ms,
                    deadline: *deadline,
                });
            }
            Output::Paused { remaining_ms } => self.paused = Some(*remaining_ms),
            Output::Resumed { deadline, .. } => {
                self.paused = None;
                if let Some(ph) = &mut self.phase {
                    ph.deadline = *deadline;
                }
            }
            Output::PairingSwitched { .. } => {
                self.push_log("Breathing switched from the next phase.".to_string())
            }
            Output::Note { text, .. } => self.push_log(text.clone()),
            Output::Acknowledged { what } => self.push_log(format!("Logged: {what}.")),
            Output::End {
                outcome,
                message,
                summary,
            } => {
                self.prompt = None;
                self.phase = None;
                self.paused = None;
                self.pending = None;
                self.end = Some((outcome.clone(), message.clone(), summary.clone()));
                if let Outcome::Refused {
                    reason: rollcoach_engine::RefusalReason::Answer { question },
                } = outcome
                    && self.injury_questions.contains(question)
                {
                    self.offer = Some(Offer::Ask);
                }
            }
        }
    }

    /// Words for declining to log the injury: the session is still refused,
    /// for the protocol's window.
    pub fn declined_words(&self) -> String {
        format!(
            "Not logged. Leave this area alone until {} hours have passed since the injury.",
            self.window_hours
        )
    }

    fn offer_key(&mut self, offer: Offer, code: KeyCode) -> Action {
        match offer {
            Offer::Ask => match code {
                KeyCode::Char('t') => Action::LogInjury(InjuryWhen::Today),
                KeyCode::Char('y') => Action::LogInjury(InjuryWhen::Yesterday),
                KeyCode::Char('2') => Action::LogInjury(InjuryWhen::TwoDaysAgo),
                KeyCode::Char('a') => {
                    self.offer = Some(Offer::Typing(String::new()));
                    Action::None
                }
                KeyCode::Char('n') | KeyCode::Esc | KeyCode::Char('q') => {
                    self.offer = Some(Offer::Done(self.declined_words()));
                    Action::None
                }
                _ => {
                    self.flash = Some(
                        "When did it happen? t today, y yesterday, 2 two days ago, a a time; n to not log it."
                            .into(),
                    );
                    Action::None
                }
            },
            Offer::Typing(mut text) => match code {
                KeyCode::Enter if !text.trim().is_empty() => {
                    let typed = text.trim().to_owned();
                    self.offer = Some(Offer::Typing(text));
                    Action::LogInjury(InjuryWhen::Typed(typed))
                }
                KeyCode::Esc => {
                    self.offer = Some(Offer::Ask);
                    Action::None
                }
                KeyCode::Backspace => {
                    text.pop();
                    self.offer = Some(Offer::Typing(text));
                    Action::None
                }
                KeyCode::Char(c) => {
                    text.push(c);
                    self.offer = Some(Offer::Typing(text));
                    Action::None
                }
                _ => {
                    self.offer = Some(Offer::Typing(text));
                    Action::None
                }
            },
            Offer::Done(_) => Action::Quit,
        }
    }

    fn push_log(&mut self, line: String) {
        self.log.push(line);
        let excess = self.log.len().saturating_sub(3);
        self.log.drain(..excess);
    }

    /// What a key does now. Pure: no terminal, no clock, no session.
    pub fn handle_key(&mut self, key: KeyEvent) -> Action {
        if key.kind == KeyEventKind::Release {
            return Action::None;
        }
        let ctrl_c = key.modifiers.contains(KeyModifiers::CONTROL)
            && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C'));
        self.flash = None;

        if self.early.is_some() {
            return match key.code {
                _ if ctrl_c => Action::Cancel,
                KeyCode::Esc | KeyCode::Char('q') => Action::Cancel,
                KeyCode::Char('y') => {
                    self.early_answer(Answer::Yes);
                    Action::None
                }
                KeyCode::Char('n') => {
                    self.early_answer(Answer::No);
                    Action::None
                }
                _ => {
                    self.flash = Some("Press y for yes or n for no.".into());
                    Action::None
                }
            };
        }

        if let Some(reasons) = &mut self.reasons {
            return match key.code {
                _ if ctrl_c => Action::Cancel,
                KeyCode::Esc | KeyCode::Char('q') => Action::Cancel,
                KeyCode::Up | KeyCode::Char('k') => {
                    self.cursor = self.cursor.saturating_sub(1);
                    Action::None
                }
                KeyCode::Down | KeyCode::Char('j') => {
                    self.cursor = (self.cursor + 1).min(reasons.len().saturating_sub(1));
                    Action::None
                }
                KeyCode::Char(' ') => {
                    if let Some(r) = reasons.get_mut(self.cursor) {
                        r.2 = !r.2;
                    }
                    Action::None
                }
                KeyCode::Char(c @ '1'..='9') => {
                    let i = (c as usize) - ('1' as usize);
                    if let Some(r) = reasons.get_mut(i) {
                        r.2 = !r.2;
                        self.cursor = i;
                    }
                    Action::None
                }
                KeyCode::Enter => {
                    let chosen: Vec<String> = reasons
                        .iter()
                        .filter(|r| r.2)
                        .map(|r| r.0.clone())
                        .collect();
                    self.reasons = None;
                    Action::Start(chosen)
                }
                _ => Action::None,
            };
        }

        if self.end.is_some() {
            return match self.offer.clone() {
                Some(offer) if !ctrl_c => self.offer_key(offer, key.code),
                _ => Action::Quit,
            };
        }
        if ctrl_c {
            self.pending = None;
            return Action::Input(Input::Stop);
        }

        if let Some(pending) = self.pending {
            return self.menu_key(pending, key.code);
        }

        let rating = matches!(self.prompt, Some(Prompt::Rating { .. })) && self.phase.is_none();
        let screening = matches!(self.prompt, Some(Prompt::Screening { .. }));
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => Action::Input(Input::Stop),
            KeyCode::Enter => Action::Input(Input::Ready),
            KeyCode::Char('y') => Action::Input(Input::Answer {
                answer: Answer::Yes,
            }),
            KeyCode::Char('n') if screening => Action::Input(Input::Answer { answer: Answer::No }),
            KeyCode::Char('n') => Action::Input(Input::Noise),
            KeyCode::Char('s') if rating => Action::Input(Input::Rating { value: None }),
            code @ (KeyCode::Char('0'..='9') | KeyCode::Char('t')) if rating => {
                Action::Input(Input::Rating {
                    value: scale_key(code),
                })
            }
            KeyCode::Char(' ') => {
                if self.paused.is_some() {
                    Action::Input(Input::Resume)
                } else {
                    Action::Input(Input::Pause)
                }
            }
            // Pain: the session pauses at once while the kind is chosen.
            KeyCode::Char('p') => {
                let pause = self.can_pause();
                self.pending = Some(Pending::Pain { resume: pause });
                if pause {
                    Action::Input(Input::Pause)
                } else {
                    Action::None
                }
            }
            KeyCode::Char('d') if self.phase.is_some() => {
                let pause = self.can_pause();
                self.pending = Some(Pending::Discomfort { resume: pause });
                if pause {
                    Action::Input(Input::Pause)
                } else {
                    Action::None
                }
            }
            KeyCode::Char('d') => {
                self.flash = Some("Discomfort is logged while rolling.".into());
                Action::None
            }
            KeyCode::Char('b') => Action::Input(Input::SwitchBreathing),
            _ => Action::None,
        }
    }

    /// Whether there is a running phase to pause.
    fn can_pause(&self) -> bool {
        self.phase.is_some() && self.paused.is_none()
    }

    /// A key in an open menu: a choice, Esc to cancel (and resume what the
    /// menu paused), anything else leaves the menu open with a hint.
    fn menu_key(&mut self, pending: Pending, code: KeyCode) -> Action {
        let (Pending::Pain { resume } | Pending::Discomfort { resume }) = pending;
        let resume = resume && self.paused.is_some();
        if code == KeyCode::Esc {
            self.pending = None;
            self.flash = Some("Cancelled: nothing recorded.".into());
            return if resume {
                Action::Input(Input::Resume)
            } else {
                Action::None
            };
        }
        match pending {
            Pending::Pain { .. } => {
                let kind = PAIN_KEYS
                    .iter()
                    .find(|(c, ..)| code == KeyCode::Char(*c))
                    .map(|(_, kind, _)| *kind);
                match kind {
                    Some(kind) => {
                        self.pending = None;
                        Action::Input(Input::Pain { kind })
                    }
                    None => {
                        self.flash = Some(
                            "Which pain? Press c, s, r or o (see below), or Esc to cancel.".into(),
                        );
                        Action::None
                    }
                }
            }
            Pending::Discomfort { .. } => match scale_key(code) {
                Some(level) => {
                    self.pending = None;
                    let mut inputs = vec![Input::Discomfort { level }];
                    if resume {
                        inputs.push(Input::Resume);
                    }
                    Action::Inputs(inputs)
                }
                None => {
                    self.flash =
                        Some("How much discomfort? Press 0-9, t for 10, or Esc to cancel.".into());
                    Action::None
                }
            },
        }
    }

    /// The outcome in a few words, with no internal ids.
    pub fn outcome_words(&self, outcome: &Outcome) -> String {
        match outcome {
            Outcome::Refused {
                reason: rollcoach_engine::RefusalReason::Answer { question },
            } => match self.questions.iter().find(|(id, _)| id == question) {
                Some((_, text)) => format!("not now (your answer to \"{text}\")"),
                None => "not now (your answer to a safety question)".to_string(),
            },
            Outcome::Refused { .. } => {
                super::super::render::outcome_words(outcome).replacen("refused", "not now", 1)
            }
            _ => super::super::render::outcome_words(outcome),
        }
    }

    /// A rating's label, from its id.
    pub fn rating_label<'a>(&'a self, id: &'a str) -> &'a str {
        self.rating_labels
            .iter()
            .find(|(r, _)| r == id)
            .map_or(id, |(_, label)| label.as_str())
    }

    /// Where the pacer is, from 0.0 (the start of "out", e.g. shoulder blades)
    /// to 1.0 (its end, e.g. neck), at `now`.
    pub fn pacer(&self, now: Time) -> Option<f64> {
        let ph = self.phase.as_ref()?;
        let left = match self.paused {
            Some(ms) => ms,
            None => ph.deadline.since(now),
        };
        let done = 1.0 - (left as f64 / ph.duration_ms.max(1) as f64).clamp(0.0, 1.0);
        Some(match ph.direction {
            Direction::Out => done,
            Direction::Back => 1.0 - done,
        })
    }
}

fn scale_key(code: KeyCode) -> Option<u8> {
    match code {
        KeyCode::Char(c @ '0'..='9') => Some(c as u8 - b'0'),
        KeyCode::Char('t') => Some(10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn protocol() -> Protocol {
        rollcoach_protocol::builtin().remove(0)
    }

    fn view_with(prompt: Option<Prompt>) -> View {
        let mut v = View::new(&protocol(), false);
        if let Some(p) = prompt {
            v.apply(&Output::Prompt(p));
        }
        v
    }

    fn rolling() -> View {
        let mut v = View::new(&protocol(), false);
        v.apply(&Output::Phase {
            rep: 2,
            of: 6,
            direction: Direction::Out,
            breath: Breath::Inhale,
            toward: "neck".into(),
            duration_ms: 4000,
            deadline: Time(10_000),
        });
        v
    }

    fn screening() -> Prompt {
        Prompt::Screening {
            id: "recent-injury".into(),
            text: "Injured?".into(),
            index: 1,
            of: 3,
        }
    }

    fn rating() -> Prompt {
        Prompt::Rating {
            when: rollcoach_engine::When::Before,
            id: "upper-back-soreness".into(),
            label: "Soreness".into(),
            question: "How sore?".into(),
            low: "none".into(),
            high: "worst".into(),
        }
    }

    #[test]
    fn y_and_n_answer_a_screening_question() {
        let mut v = view_with(Some(screening()));
        assert_eq!(
            v.handle_key(key(KeyCode::Char('y'))),
            Action::Input(Input::Answer {
                answer: Answer::Yes
            })
        );
        assert_eq!(
            v.handle_key(key(KeyCode::Char('n'))),
            Action::Input(Input::Answer { answer: Answer::No })
        );
    }

    #[test]
    fn n_is_a_noise_while_rolling() {
        let mut v = rolling();
        assert_eq!(
            v.handle_key(key(KeyCode::Char('n'))),
            Action::Input(Input::Noise)
        );
    }

    #[test]
    fn digits_rate_t_is_ten_and_s_skips() {
        let mut v = view_with(Some(rating()));
        assert_eq!(
            v.handle_key(key(KeyCode::Char('7'))),
            Action::Input(Input::Rating { value: Some(7) })
        );
        assert_eq!(
            v.handle_key(key(KeyCode::Char('t'))),
            Action::Input(Input::Rating { value: Some(10) })
        );
        assert_eq!(
            v.handle_key(key(KeyCode::Char('s'))),
            Action::Input(Input::Rating { value: None })
        );
    }

    #[test]
    fn enter_is_ready() {
        let mut v = view_with(None);
        assert_eq!(
            v.handle_key(key(KeyCode::Enter)),
            Action::Input(Input::Ready)
        );
    }

    /// The view as the engine leaves it after a pause.
    fn paused(mut v: View) -> View {
        v.apply(&Output::Paused { remaining_ms: 2000 });
        v
    }

    #[test]
    fn p_pauses_at_once_and_each_kind_has_its_own_key() {
        for (c, kind) in [
            ('c', PainKind::Pop),
            ('s', PainKind::Spine),
            ('r', PainKind::Sharp),
            ('o', PainKind::Other),
        ] {
            let mut v = rolling();
            assert_eq!(
                v.handle_key(key(KeyCode::Char('p'))),
                Action::Input(Input::Pause),
                "p pauses before anything is chosen"
            );
            assert_eq!(v.pending, Some(Pending::Pain { resume: true }));
            let mut v = paused(v);
            assert_eq!(
                v.handle_key(key(KeyCode::Char(c))),
                Action::Input(Input::Pain { kind })
            );
            assert_eq!(v.pending, None);
        }
        // The keys are all different, each the first letter of its own words
        // and of no other kind's.
        for (c, kind, words) in PAIN_KEYS {
            assert!(words.starts_with(c), "`{c}` for {words}");
            for (other, k, w) in PAIN_KEYS {
                if k != kind {
                    assert_ne!(c, other);
                    assert!(!w.starts_with(c), "`{c}` ({words}) looks like `{w}`");
                }
            }
        }
    }

    #[test]
    fn in_the_pain_menu_other_keys_record_nothing_and_esc_cancels_and_resumes() {
        let mut v = rolling();
        v.handle_key(key(KeyCode::Char('p')));
        let mut v = paused(v);
        for c in [KeyCode::Enter, KeyCode::Char('z'), KeyCode::Char(' ')] {
            assert_eq!(v.handle_key(key(c)), Action::None);
            assert!(v.pending.is_some(), "the menu stays open");
            assert!(v.flash.as_deref().unwrap().contains("Esc"));
        }
        assert_eq!(
            v.handle_key(key(KeyCode::Esc)),
            Action::Input(Input::Resume),
            "Esc cancels and resumes; it never records a reason"
        );
        assert_eq!(v.pending, None);
    }

    #[test]
    fn outside_rolling_p_opens_the_menu_without_pausing() {
        let mut v = view_with(Some(screening()));
        assert_eq!(v.handle_key(key(KeyCode::Char('p'))), Action::None);
        assert_eq!(v.pending, Some(Pending::Pain { resume: false }));
        assert_eq!(v.handle_key(key(KeyCode::Esc)), Action::None);
        assert_eq!(v.pending, None);
        v.handle_key(key(KeyCode::Char('p')));
        assert_eq!(
            v.handle_key(key(KeyCode::Char('s'))),
            Action::Input(Input::Pain {
                kind: PainKind::Spine
            })
        );
    }

    #[test]
    fn a_pause_made_before_p_is_kept_when_the_menu_is_cancelled() {
        let mut v = paused(rolling());
        assert_eq!(v.handle_key(key(KeyCode::Char('p'))), Action::None);
        assert_eq!(v.handle_key(key(KeyCode::Esc)), Action::None);
        assert_eq!(v.paused, Some(2000));
    }

    #[test]
    fn d_pauses_a_level_is_logged_then_resumed_and_esc_cancels_and_resumes() {
        let mut v = rolling();
        assert_eq!(
            v.handle_key(key(KeyCode::Char('d'))),
            Action::Input(Input::Pause)
        );
        let mut v = paused(v);
        assert_eq!(
            v.handle_key(key(KeyCode::Char('5'))),
            Action::Inputs(vec![Input::Discomfort { level: 5 }, Input::Resume])
        );
        v.apply(&Output::Resumed {
            deadline: Time(20_000),
            remaining_ms: 2000,
        });
        v.handle_key(key(KeyCode::Char('d')));
        let mut v = paused(v);
        assert_eq!(
            v.handle_key(key(KeyCode::Char('t'))),
            Action::Inputs(vec![Input::Discomfort { level: 10 }, Input::Resume])
        );
        v.apply(&Output::Resumed {
            deadline: Time(20_000),
            remaining_ms: 2000,
        });
        v.handle_key(key(KeyCode::Char('d')));
        let mut v = paused(v);
        assert_eq!(v.handle_key(key(KeyCode::Char('w'))), Action::None);
        assert!(v.flash.is_some());
        assert!(v.pending.is_some(), "the menu stays open");
        assert_eq!(
            v.handle_key(key(KeyCode::Esc)),
            Action::Input(Input::Resume)
        );
        assert_eq!(v.pending, None);
    }

    #[test]
    fn d_outside_rolling_says_when_it_works() {
        let mut v = view_with(Some(screening()));
        assert_eq!(v.handle_key(key(KeyCode::Char('d'))), Action::None);
        assert_eq!(v.pending, None);
        assert!(v.flash.is_some());
    }

    #[test]
    fn the_end_screen_names_ratings_and_refusals_without_ids() {
        let v = View::new(&protocol(), false);
        assert_eq!(v.rating_label("upper-back-soreness"), "Upper-back soreness");
        let words = v.outcome_words(&Outcome::Refused {
            reason: rollcoach_engine::RefusalReason::Answer {
                question: "recent-injury".into(),
            },
        });
        assert!(!words.contains("recent-injury"), "{words}");
        assert!(words.starts_with("not now"), "{words}");
    }

    #[test]
    fn the_safety_questions_come_before_the_reasons_and_a_refusing_answer_skips_them() {
        let p = protocol();
        let mut v = View::new(&p, true);
        v.ask_screening_first(&p);
        assert!(v.before_session());
        assert!(
            matches!(&v.prompt, Some(Prompt::Screening { index: 1, text, .. }) if *text == p.screening.questions[0].text)
        );
        assert_eq!(v.handle_key(key(KeyCode::Char('n'))), Action::None);
        assert!(matches!(
            &v.prompt,
            Some(Prompt::Screening { index: 2, .. })
        ));
        v.handle_key(key(KeyCode::Char('n')));
        v.handle_key(key(KeyCode::Char('n')));
        assert_eq!(v.early, None);
        assert!(v.reasons.is_some(), "then the reasons");
        assert_eq!(v.early_answers, vec![Answer::No; 3]);

        let mut v = View::new(&p, true);
        v.ask_screening_first(&p);
        v.handle_key(key(KeyCode::Char('y')));
        assert!(
            !v.before_session(),
            "a refusing answer starts the session at once"
        );
        assert_eq!(v.reasons, None);
        assert_eq!(v.early_answers, vec![Answer::Yes]);
    }

    #[test]
    fn a_yes_to_the_injury_question_offers_to_log_it_with_one_key_each() {
        let p = protocol();
        let mut v = View::new(&p, false);
        v.apply(&Output::End {
            outcome: Outcome::Refused {
                reason: rollcoach_engine::RefusalReason::Answer {
                    question: "recent-injury".into(),
                },
            },
            message: "No.".into(),
            summary: Summary {
                reps_done: 0,
                reps_target: 6,
                active_ms: 0,
                pairings: vec![],
                ratings: vec![],
                discomfort: vec![],
                noises: 0,
            },
        });
        assert_eq!(v.offer, Some(Offer::Ask));
        let mut asked = v.clone();
        for (c, when) in [
            ('t', InjuryWhen::Today),
            ('y', InjuryWhen::Yesterday),
            ('2', InjuryWhen::TwoDaysAgo),
        ] {
            assert_eq!(
                asked.handle_key(key(KeyCode::Char(c))),
                Action::LogInjury(when)
            );
        }
        // A typed time.
        assert_eq!(asked.handle_key(key(KeyCode::Char('a'))), Action::None);
        for c in "3h ago".chars() {
            asked.handle_key(key(KeyCode::Char(c)));
        }
        assert_eq!(
            asked.handle_key(key(KeyCode::Enter)),
            Action::LogInjury(InjuryWhen::Typed("3h ago".into()))
        );
        // Declining says the protocol's window, and any key then leaves.
        assert_eq!(v.handle_key(key(KeyCode::Char('n'))), Action::None);
        let hours = p.screening.injury_rule.window_hours;
        assert!(
            matches!(&v.offer, Some(Offer::Done(w)) if w.contains(&format!("{hours} hours"))),
            "{:?}",
            v.offer
        );
        assert_eq!(v.handle_key(key(KeyCode::Char('x'))), Action::Quit);
    }

    #[test]
    fn space_pauses_and_resumes() {
        let mut v = rolling();
        assert_eq!(
            v.handle_key(key(KeyCode::Char(' '))),
            Action::Input(Input::Pause)
        );
        v.apply(&Output::Paused { remaining_ms: 2000 });
        assert_eq!(
            v.handle_key(key(KeyCode::Char(' '))),
            Action::Input(Input::Resume)
        );
    }

    #[test]
    fn q_esc_and_ctrl_c_stop_even_after_p() {
        let mut v = rolling();
        assert_eq!(
            v.handle_key(key(KeyCode::Char('q'))),
            Action::Input(Input::Stop)
        );
        assert_eq!(v.handle_key(key(KeyCode::Esc)), Action::Input(Input::Stop));
        v.handle_key(key(KeyCode::Char('p')));
        let mut v = paused(v);
        assert_eq!(
            v.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Action::Input(Input::Stop)
        );
    }

    #[test]
    fn b_switches_breathing() {
        let mut v = rolling();
        assert_eq!(
            v.handle_key(key(KeyCode::Char('b'))),
            Action::Input(Input::SwitchBreathing)
        );
    }

    #[test]
    fn the_reasons_screen_ticks_and_starts() {
        let mut v = View::new(&protocol(), true);
        v.handle_key(key(KeyCode::Char(' ')));
        v.handle_key(key(KeyCode::Down));
        v.handle_key(key(KeyCode::Down));
        v.handle_key(key(KeyCode::Char(' ')));
        v.handle_key(key(KeyCode::Char('2')));
        v.handle_key(key(KeyCode::Char('2')));
        assert_eq!(
            v.handle_key(key(KeyCode::Enter)),
            Action::Start(vec!["soreness".into(), "overhead-block".into()])
        );
        assert!(v.reasons.is_none());
        let mut v = View::new(&protocol(), true);
        assert_eq!(v.handle_key(key(KeyCode::Esc)), Action::Cancel);
    }

    #[test]
    fn any_key_leaves_after_the_end() {
        let mut v = rolling();
        v.apply(&Output::End {
            outcome: Outcome::Completed,
            message: "Done.".into(),
            summary: Summary {
                reps_done: 6,
                reps_target: 6,
                active_ms: 48_000,
                pairings: vec![],
                ratings: vec![],
                discomfort: vec![],
                noises: 0,
            },
        });
        assert_eq!(v.handle_key(key(KeyCode::Char('x'))), Action::Quit);
    }

    #[test]
    fn the_pacer_moves_toward_the_neck_then_back() {
        let mut v = rolling();
        assert_eq!(v.pacer(Time(6_000)), Some(0.0));
        assert_eq!(v.pacer(Time(8_000)), Some(0.5));
        assert_eq!(v.pacer(Time(10_000)), Some(1.0));
        v.apply(&Output::Phase {
            rep: 2,
            of: 6,
            direction: Direction::Back,
            breath: Breath::Exhale,
            toward: "shoulder blades".into(),
            duration_ms: 4000,
            deadline: Time(14_000),
        });
        assert_eq!(v.pacer(Time(11_000)), Some(0.75));
        v.apply(&Output::Paused { remaining_ms: 1000 });
        assert_eq!(v.pacer(Time(99_000)), Some(0.25), "frozen while paused");
    }
}
