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
    /// The reasons are chosen: start the session with them.
    Start(Vec<String>),
    /// Leave before the session started (nothing recorded).
    Cancel,
    /// Leave after the session ended.
    Quit,
}

/// A key that waits for a second key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// After `p`: which pain.
    Pain,
    /// After `d`: the discomfort level.
    Discomfort,
}

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
    /// The end.
    pub end: Option<(Outcome, String, Summary)>,
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
            end: None,
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
            }
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
            return Action::Quit;
        }
        if ctrl_c {
            self.pending = None;
            return Action::Input(Input::Stop);
        }

        if let Some(pending) = self.pending.take() {
            return match pending {
                // Any key after `p` is a pain report: o pop, s spine, x sharp, else other.
                Pending::Pain => Action::Input(Input::Pain {
                    kind: match key.code {
                        KeyCode::Char('o') => PainKind::Pop,
                        KeyCode::Char('s') => PainKind::Spine,
                        KeyCode::Char('x') => PainKind::Sharp,
                        _ => PainKind::Other,
                    },
                }),
                Pending::Discomfort => match scale_key(key.code) {
                    Some(level) => Action::Input(Input::Discomfort { level }),
                    None => {
                        self.flash = Some("Discomfort not logged: d then 0-9, or t for 10.".into());
                        Action::None
                    }
                },
            };
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
            KeyCode::Char('p') => {
                self.pending = Some(Pending::Pain);
                Action::None
            }
            KeyCode::Char('d') => {
                self.pending = Some(Pending::Discomfort);
                Action::None
            }
            KeyCode::Char('b') => Action::Input(Input::SwitchBreathing),
            _ => Action::None,
        }
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

    #[test]
    fn p_then_a_kind_reports_that_pain() {
        for (c, kind) in [
            (KeyCode::Char('o'), PainKind::Pop),
            (KeyCode::Char('s'), PainKind::Spine),
            (KeyCode::Char('x'), PainKind::Sharp),
            (KeyCode::Enter, PainKind::Other),
            (KeyCode::Char('z'), PainKind::Other),
        ] {
            let mut v = rolling();
            assert_eq!(v.handle_key(key(KeyCode::Char('p'))), Action::None);
            assert_eq!(v.pending, Some(Pending::Pain));
            assert_eq!(v.handle_key(key(c)), Action::Input(Input::Pain { kind }));
            assert_eq!(v.pending, None);
        }
    }

    #[test]
    fn d_then_a_digit_reports_discomfort_and_anything_else_cancels() {
        let mut v = rolling();
        v.handle_key(key(KeyCode::Char('d')));
        assert_eq!(
            v.handle_key(key(KeyCode::Char('5'))),
            Action::Input(Input::Discomfort { level: 5 })
        );
        v.handle_key(key(KeyCode::Char('d')));
        assert_eq!(
            v.handle_key(key(KeyCode::Char('t'))),
            Action::Input(Input::Discomfort { level: 10 })
        );
        v.handle_key(key(KeyCode::Char('d')));
        assert_eq!(v.handle_key(key(KeyCode::Char('w'))), Action::None);
        assert!(v.flash.is_some());
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
