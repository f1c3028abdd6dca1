//! The full-screen session in a terminal (ratatui + crossterm).
//!
//! Keys go through a pure [`View::handle_key`] that returns an [`Action`], so
//! key handling is tested without a terminal; the loop applies the action
//! through the driver, feeds the engine's outputs back into the [`View`], and
//! redraws about 30 times a second while the pacer moves.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use ratatui::Frame;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::{Alignment, Constraint, Layout};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Wrap};
use rollcoach_engine::{
    Breath, Direction, Input, Options, Outcome, Output, PainKind, Prompt, Session, Stage, Summary,
    Time,
};
use rollcoach_protocol::{Answer, Protocol};

use super::driver::{ApplyError, Clock, Driver, Speed};
use super::render;
use super::voice::Voice;
use super::{StoreLog, options_error, speak};
use crate::Global;

/// Everything the terminal session needs.
pub struct Setup {
    /// The protocol.
    pub protocol: Protocol,
    /// The options (reasons may be empty: then they are asked on screen).
    pub options: Options,
    /// Clock speed.
    pub speed: Speed,
    /// espeak-ng, when speaking.
    pub voice: Option<PathBuf>,
    /// Global flags (the store).
    pub global: Global,
}

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

/// Restores the terminal when dropped (every exit path; ratatui's panic hook
/// covers panics).
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Signals that ask rollcoach to quit. The first sets the returned flag, so
/// the screen can restore the terminal and record the session; a second one
/// of them ends the process at once.
fn quit_requests() -> anyhow::Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [SIGTERM, SIGHUP, SIGINT, SIGQUIT] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, Arc::clone(&flag))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&flag)))
            .context("could not watch for signals")?;
    }
    Ok(flag)
}

/// Longest wait for a key before the screen checks for a quit signal.
const SIGNAL_CHECK: Duration = Duration::from_millis(250);

/// Runs the full-screen session.
pub fn run(setup: Setup) -> anyhow::Result<u8> {
    let Setup {
        protocol,
        mut options,
        speed,
        voice,
        global,
    } = setup;
    let store = crate::db::open_store(&global)?;
    let mut view = View::new(&protocol, options.reasons.is_empty());
    let quit = quit_requests()?;
    let mut terminal = ratatui::try_init().context("could not set up the terminal")?;
    let guard = TerminalGuard;

    // The reasons screen, before anything is recorded.
    while view.reasons.is_some() {
        if quit.load(Ordering::Relaxed) {
            drop(guard);
            eprintln!("rollcoach: asked to quit before the session started; nothing was recorded");
            return Ok(crate::exit::FAILURE);
        }
        terminal.draw(|f| draw(f, &view, Time(0), 0))?;
        if !event::poll(SIGNAL_CHECK)? {
            continue;
        }
        if let Event::Key(k) = event::read()? {
            match view.handle_key(k) {
                Action::Cancel => return Ok(crate::exit::STOPPED),
                Action::Start(chosen) => options.reasons = chosen,
                _ => {}
            }
        }
    }

    let start = crate::db::now(&global)?;
    let facts = store
        .facts_for(&protocol)
        .context("could not read the injury log")?;
    let session =
        Session::new(&protocol, options.clone(), facts.clone(), start).map_err(options_error)?;
    let log = StoreLog::begin(&*store, &protocol, &options, &facts, start)?;
    let session_id = log.id;
    let mut driver = Driver::new(session, log);
    let mut clock = Clock::new(start, speed);
    let voice = voice.map(Voice::start);
    let frame = Duration::from_millis(33);

    let mut quit_asked = false;
    loop {
        if quit.load(Ordering::Relaxed) {
            quit_asked = true;
            break;
        }
        // Deadlines first, each at its own time.
        let now = clock.now();
        if clock.is_virtual()
            && let Some(d) = driver.session().next_deadline()
        {
            clock.advance_to(d);
        }
        driver
            .run_deadlines_until(clock.now().max(now))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let outs = driver.take_outputs();
        if let Some(v) = &voice {
            speak(v, &outs);
        }
        for (_, o) in &outs {
            view.apply(o);
        }
        if driver.ended() {
            driver.finish()?;
        }
        let now = clock.now();
        let elapsed = if driver.ended() {
            driver.cursor().since(start)
        } else {
            now.since(start)
        };
        terminal.draw(|f| draw(f, &view, now, elapsed))?;

        let timeout = match driver.session().next_deadline() {
            Some(d) if view.phase.is_some() => clock.wall_until(d).min(frame),
            Some(d) => clock.wall_until(d).min(SIGNAL_CHECK),
            None => SIGNAL_CHECK,
        };
        if !event::poll(timeout)? {
            continue;
        }
        match event::read()? {
            Event::Key(k) => match view.handle_key(k) {
                Action::Input(input) => {
                    let at = clock.now();
                    driver
                        .run_deadlines_until(at)
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    match driver.apply(input, at) {
                        Ok(()) => {}
                        Err(ApplyError::Rejected(e)) => view.flash = Some(format!("{e}")),
                        Err(ApplyError::Log(e)) => return Err(e),
                    }
                }
                Action::Quit | Action::Cancel if driver.ended() => break,
                _ => {}
            },
            Event::Resize(..) => terminal.clear()?,
            _ => {}
        }
    }
    drop(guard);
    if let Some(v) = voice {
        v.finish();
    }
    if quit_asked && !driver.ended() {
        // Recorded now, from the log, as the next start would after a crash.
        let done = rollcoach_store::interrupt(&*store, session_id)
            .context("could not record the interrupted session")?;
        let reps = done
            .map(|r| format!(" after {} of {} reps", r.reps_done, r.reps_target))
            .unwrap_or_default();
        println!("Interrupted by a signal: the session is recorded as interrupted{reps}.");
        return Ok(crate::exit::FAILURE);
    }
    match driver.end() {
        Some(Output::End {
            outcome, message, ..
        }) => {
            println!("{}: {message}", render::outcome_words(outcome));
            Ok(render::exit_code(outcome))
        }
        _ => Ok(crate::exit::FAILURE),
    }
}

// ----- drawing ---------------------------------------------------------------

const FONT: &[(char, [&str; 5])] = &[
    ('A', [".#.", "#.#", "###", "#.#", "#.#"]),
    ('B', ["##.", "#.#", "##.", "#.#", "##."]),
    ('C', [".##", "#..", "#..", "#..", ".##"]),
    ('D', ["##.", "#.#", "#.#", "#.#", "##."]),
    ('E', ["###", "#..", "##.", "#..", "###"]),
    ('F', ["###", "#..", "##.", "#..", "#.."]),
    ('G', [".##", "#..", "#.#", "#.#", ".##"]),
    ('H', ["#.#", "#.#", "###", "#.#", "#.#"]),
    ('I', ["###", ".#.", ".#.", ".#.", "###"]),
    ('J', ["..#", "..#", "..#", "#.#", ".#."]),
    ('K', ["#.#", "#.#", "##.", "#.#", "#.#"]),
    ('L', ["#..", "#..", "#..", "#..", "###"]),
    ('M', ["#.#", "###", "###", "#.#", "#.#"]),
    ('N', ["##.", "#.#", "#.#", "#.#", "#.#"]),
    ('O', [".#.", "#.#", "#.#", "#.#", ".#."]),
    ('P', ["##.", "#.#", "##.", "#..", "#.."]),
    ('Q', [".#.", "#.#", "#.#", "##.", ".##"]),
    ('R', ["##.", "#.#", "##.", "#.#", "#.#"]),
    ('S', [".##", "#..", ".#.", "..#", "##."]),
    ('T', ["###", ".#.", ".#.", ".#.", ".#."]),
    ('U', ["#.#", "#.#", "#.#", "#.#", "###"]),
    ('V', ["#.#", "#.#", "#.#", "#.#", ".#."]),
    ('W', ["#.#", "#.#", "###", "###", "#.#"]),
    ('X', ["#.#", "#.#", ".#.", "#.#", "#.#"]),
    ('Y', ["#.#", "#.#", ".#.", ".#.", ".#."]),
    ('Z', ["###", "..#", ".#.", "#..", "###"]),
    ('0', ["###", "#.#", "#.#", "#.#", "###"]),
    ('1', [".#.", "##.", ".#.", ".#.", "###"]),
    ('2', ["##.", "..#", ".#.", "#..", "###"]),
    ('3', ["##.", "..#", ".#.", "..#", "##."]),
    ('4', ["#.#", "#.#", "###", "..#", "..#"]),
    ('5', ["###", "#..", "##.", "..#", "##."]),
    ('6', [".##", "#..", "###", "#.#", "###"]),
    ('7', ["###", "..#", ".#.", ".#.", ".#."]),
    ('8', ["###", "#.#", "###", "#.#", "###"]),
    ('9', ["###", "#.#", "###", "..#", "##."]),
    (' ', ["...", "...", "...", "...", "..."]),
    ('/', ["..#", "..#", ".#.", "#..", "#.."]),
    ('-', ["...", "...", "###", "...", "..."]),
    ('?', ["##.", "..#", ".#.", "...", ".#."]),
    ('!', [".#.", ".#.", ".#.", "...", ".#."]),
];

/// `text` in a 5-row block font, each pixel `scale` cells wide; `None` if a
/// character has no glyph.
pub fn big_text(text: &str, scale: usize) -> Option<[String; 5]> {
    let mut rows: [String; 5] = Default::default();
    for (i, c) in text.to_uppercase().chars().enumerate() {
        let glyph = FONT.iter().find(|(g, _)| *g == c)?.1;
        for (row, bits) in rows.iter_mut().zip(glyph) {
            if i > 0 {
                row.push_str(&" ".repeat(scale));
            }
            for b in bits.chars() {
                let cell = if b == '#' { "█" } else { " " };
                row.push_str(&cell.repeat(scale));
            }
        }
    }
    Some(rows)
}

fn big_width(text: &str, scale: usize) -> usize {
    let n = text.chars().count();
    (n * 3 + n.saturating_sub(1)) * scale
}

/// The headline in large type when it fits, otherwise in bold.
fn headline(text: &str, width: u16, style: Style) -> Text<'static> {
    for scale in [2, 1] {
        if big_width(text, scale) <= usize::from(width)
            && let Some(rows) = big_text(text, scale)
        {
            return Text::from(
                rows.into_iter()
                    .map(|r| Line::from(Span::styled(r, style)))
                    .collect::<Vec<_>>(),
            );
        }
    }
    Text::from(Line::from(Span::styled(
        text.to_uppercase(),
        style.add_modifier(Modifier::BOLD),
    )))
}

fn headline_for(view: &View) -> (String, Color) {
    if let Some((outcome, ..)) = &view.end {
        return match outcome {
            Outcome::Completed => ("done".into(), Color::Green),
            Outcome::Stopped { .. } => ("stopped".into(), Color::Red),
            Outcome::Refused { .. } => ("not today".into(), Color::Red),
        };
    }
    if view.paused.is_some() {
        return ("paused".into(), Color::Yellow);
    }
    if let Some(ph) = &view.phase {
        return match ph.breath {
            Breath::Inhale => ("breathe in".into(), Color::Cyan),
            Breath::Exhale => ("breathe out".into(), Color::Magenta),
        };
    }
    match &view.prompt {
        Some(Prompt::Screening { index, of, .. }) => {
            (format!("safety {index}/{of}"), Color::Yellow)
        }
        Some(Prompt::Rating { .. }) => ("rate 0-10".into(), Color::Blue),
        Some(Prompt::Ready { index, of, .. }) => (format!("step {index}/{of}"), Color::Green),
        None => ("rollcoach".into(), Color::White),
    }
}

fn keys_help(view: &View) -> Vec<Line<'static>> {
    let key = |k: &str, what: &str| {
        vec![
            Span::styled(format!(" {k} "), Style::new().reversed().bold()),
            Span::raw(format!(" {what}  ")),
        ]
    };
    if view.reasons.is_some() {
        let mut l = key("↑↓", "move");
        l.extend(key("Space/1-3", "tick"));
        l.extend(key("Enter", "start"));
        l.extend(key("q/Esc", "leave"));
        return vec![Line::from(l)];
    }
    if view.end.is_some() {
        return vec![Line::from(key("any key", "leave"))];
    }
    match view.pending {
        Some(Pending::Pain) => {
            let mut l = key("o", "pain with a pop");
            l.extend(key("s", "over the spine"));
            l.extend(key("x", "sharp/radiating/numb"));
            l.extend(key("other", "other pain"));
            return vec![
                Line::from(Span::styled(
                    "Which pain? The session stops.",
                    Style::new().red().bold(),
                )),
                Line::from(l),
            ];
        }
        Some(Pending::Discomfort) => {
            let mut l = key("0-9", "discomfort level");
            l.extend(key("t", "10"));
            l.extend(key("other", "cancel"));
            return vec![
                Line::from(Span::styled(
                    "How much discomfort, 0 to 10?",
                    Style::new().yellow().bold(),
                )),
                Line::from(l),
            ];
        }
        None => {}
    }
    let mut first = Vec::new();
    match &view.prompt {
        Some(Prompt::Screening { .. }) if view.phase.is_none() => {
            first.extend(key("y", "yes"));
            first.extend(key("n", "no"));
        }
        Some(Prompt::Rating { .. }) if view.phase.is_none() => {
            first.extend(key("0-9", "rate"));
            first.extend(key("t", "10"));
            first.extend(key("s", "skip"));
        }
        Some(Prompt::Ready { .. }) if view.phase.is_none() => first.extend(key("Enter", "ready")),
        _ => {}
    }
    let rolling = view.phase.is_some();
    if rolling {
        first.extend(key(
            "Space",
            if view.paused.is_some() {
                "resume"
            } else {
                "pause"
            },
        ));
        first.extend(key("b", "switch breathing"));
    }
    let mut second = key("p", "PAIN");
    if rolling {
        second.extend(key("d+0-9", "discomfort"));
        second.extend(key("n", "noise, no pain"));
    }
    second.extend(key("q/Esc/Ctrl-C", "stop"));
    vec![Line::from(first), Line::from(second)]
}

fn pacer_line(view: &View, now: Time, width: u16) -> Vec<Line<'static>> {
    let (from, to) = (&view.ends.0, &view.ends.1);
    let inner = usize::from(width)
        .saturating_sub(from.len() + to.len() + 4)
        .max(10);
    let mut bar: Vec<char> = vec!['─'; inner];
    let mut arrow = ' ';
    if let (Some(pos), Some(ph)) = (view.pacer(now), &view.phase) {
        let i = ((pos * (inner - 1) as f64).round() as usize).min(inner - 1);
        // Fill the stretch already travelled in this phase.
        let travelled = match ph.direction {
            Direction::Out => 0..i,
            Direction::Back => i + 1..inner,
        };
        for c in &mut bar[travelled] {
            *c = '━';
        }
        bar[i] = '●';
        arrow = match ph.direction {
            Direction::Out => '→',
            Direction::Back => '←',
        };
    }
    let bar: String = bar.into_iter().collect();
    vec![Line::from(vec![
        Span::styled(format!("{from} "), Style::new().bold()),
        Span::styled(format!("{arrow}"), Style::new().yellow()),
        Span::styled(bar, Style::new().cyan().bold()),
        Span::raw(" "),
        Span::styled(to.to_string(), Style::new().bold()),
    ])]
}

fn body(view: &View, now: Time) -> Text<'static> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    if let Some((outcome, message, summary)) = &view.end {
        lines.push(Line::from(Span::styled(
            render::outcome_words(outcome),
            Style::new().bold(),
        )));
        lines.push(Line::from(message.clone()));
        lines.push(Line::from(format!(
            "Reps {} of {}, {:.0} s rolling.",
            summary.reps_done,
            summary.reps_target,
            summary.active_ms as f64 / 1000.0
        )));
        for r in &summary.ratings {
            let show = |v: Option<u8>| v.map_or("-".to_string(), |v| v.to_string());
            lines.push(Line::from(format!(
                "{}: before {}, after {}",
                r.id,
                show(r.before),
                show(r.after)
            )));
        }
        return Text::from(lines);
    }
    if let Some(ph) = &view.phase {
        lines.push(Line::from(Span::styled(
            view.cue.clone(),
            Style::new().bold(),
        )));
        let left = view.paused.unwrap_or_else(|| ph.deadline.since(now));
        lines.push(Line::from(format!(
            "{} toward the {}: {:.1} s",
            match ph.direction {
                Direction::Out => "Roll out",
                Direction::Back => "Roll back",
            },
            ph.toward,
            left as f64 / 1000.0
        )));
    } else {
        match &view.prompt {
            Some(Prompt::Screening { text, .. }) => {
                lines.push(Line::from(Span::styled(text.clone(), Style::new().bold())))
            }
            Some(Prompt::Rating {
                label,
                question,
                low,
                high,
                ..
            }) => {
                lines.push(Line::from(Span::styled(label.clone(), Style::new().bold())));
                lines.push(Line::from(question.clone()));
                lines.push(Line::from(format!("0 = {low}, 10 = {high}")));
            }
            Some(Prompt::Ready { text, .. }) => {
                lines.push(Line::from(Span::styled(text.clone(), Style::new().bold())))
            }
            None => {}
        }
    }
    Text::from(lines)
}

fn draw(f: &mut Frame, view: &View, now: Time, elapsed_ms: u64) {
    let area = f.area();
    let outer = Block::bordered().title(format!(" {} ", view.title).bold());
    let inner = outer.inner(area);
    f.render_widget(outer, area);

    if let Some(reasons) = &view.reasons {
        let [head, list, keys] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Min(3),
            Constraint::Length(2),
        ])
        .areas(inner);
        f.render_widget(
            Paragraph::new(
                "What brought you here? Tick any that apply: each is rated 0-10 before and after.",
            )
            .wrap(Wrap { trim: true })
            .bold(),
            head,
        );
        let lines: Vec<Line> = reasons
            .iter()
            .enumerate()
            .map(|(i, (_, text, on))| {
                let mark = if *on { "[x]" } else { "[ ]" };
                let here = if i == view.cursor { '>' } else { ' ' };
                let l = Line::from(format!("{here} {} {mark} {text}", i + 1));
                if i == view.cursor { l.reversed() } else { l }
            })
            .collect();
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), list);
        f.render_widget(Paragraph::new(keys_help(view)), keys);
        return;
    }

    // The big word and the pacer together at the top, where the eye is.
    let [status, big, pacer, text, log, flash, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(6),
        Constraint::Length(2),
        Constraint::Min(4),
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Length(3),
    ])
    .areas(inner);

    let rep = view
        .phase
        .as_ref()
        .map(|p| format!("rep {} of {}", p.rep, p.of))
        .unwrap_or_default();
    let stage = if view.end.is_some() {
        "ended"
    } else {
        render::stage_words(view.stage)
    };
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(rep, Style::new().bold()),
            Span::raw("   "),
            Span::raw(stage.to_string()),
            Span::raw("   "),
            Span::raw(format!("elapsed {}", render::clock(elapsed_ms))),
        ])),
        status,
    );
    let (word, color) = headline_for(view);
    f.render_widget(
        Paragraph::new(headline(&word, big.width, Style::new().fg(color)))
            .alignment(Alignment::Center),
        big,
    );
    f.render_widget(
        Paragraph::new(body(view, now))
            .wrap(Wrap { trim: true })
            .alignment(Alignment::Center),
        text,
    );
    if view.phase.is_some() {
        f.render_widget(
            Paragraph::new(pacer_line(view, now, pacer.width)).alignment(Alignment::Center),
            pacer,
        );
    }
    f.render_widget(
        Paragraph::new(
            view.log
                .iter()
                .map(|l| Line::from(l.clone()).dim())
                .collect::<Vec<_>>(),
        )
        .wrap(Wrap { trim: true }),
        log,
    );
    if let Some(msg) = &view.flash {
        f.render_widget(Paragraph::new(msg.clone()).yellow(), flash);
    }
    f.render_widget(
        Paragraph::new(keys_help(view)).wrap(Wrap { trim: true }),
        keys,
    );
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

    #[test]
    fn big_text_has_five_rows_of_equal_width() {
        let rows = big_text("Rep 3/6", 1).unwrap();
        let w = rows[0].chars().count();
        assert_eq!(w, big_width("Rep 3/6", 1));
        assert!(rows.iter().all(|r| r.chars().count() == w));
        assert!(big_text("é", 1).is_none());
    }
}
