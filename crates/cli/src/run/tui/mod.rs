//! The full-screen session in a terminal (ratatui + crossterm).
//!
//! Keys go through a pure [`View::handle_key`] that returns an [`Action`], so
//! key handling is tested without a terminal; the loop applies the action
//! through the driver, feeds the engine's outputs back into the [`View`], and
//! redraws about 30 times a second while the pacer moves. The loop also
//! feeds the speech planner ([`super::voice::Voice`]) every output with its
//! session time and pumps it (at its wake-up times, and every 20 ms while
//! something is being said); without speech, or once espeak-ng fails, the
//! terminal's bell marks each turn.
//!
//! Closing the terminal (a hang-up signal, or the end of its input) ends the
//! process at once and records the session as interrupted, as a quit signal
//! does.
//!
//! By concern: [`view`] (the view model and its key handling), [`mod@draw`]
//! (ratatui drawing), [`font`] (the block font of the headline), [`input`]
//! (reading the keys, and seeing the terminal close), [`signals`] (quit
//! signals and restoring the terminal); the event loop is here.

mod draw;
mod font;
mod input;
mod signals;
mod view;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use rollcoach_engine::{Input, InputError, Options, Output, Prompt, Session, Time, injury_block};
use rollcoach_protocol::Protocol;

use super::driver::{ApplyError, Clock, Driver, Speed};
use super::render;
use super::voice::Voice;
use super::{StoreLog, options_error};
use crate::Global;
use draw::draw;
use input::{Keys, Waited};
use signals::{TerminalGuard, quit_requests};
use view::{Action, InjuryWhen, Offer, View};

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
    /// Its rate, a factor of espeak-ng's default.
    pub voice_rate: f64,
    /// Global flags (the store).
    pub global: Global,
}

/// Longest wait for a key before the screen checks for a quit signal.
const SIGNAL_CHECK: Duration = Duration::from_millis(250);

/// While something is being said, the loop wakes at least this often to
/// hand the speaker's report of its end to the planner.
const VOICE_CHECK: Duration = Duration::from_millis(20);

/// Rings the terminal's bell: the cue of each turn when there is no speech.
fn bell() {
    let mut out = std::io::stdout();
    let _ = out.write_all(b"\x07").and_then(|()| out.flush());
}

/// Words for an input the session did not take, without internal names.
fn rejected(e: &InputError) -> String {
    match e {
        InputError::NotNow { state, .. } => format!("Not now: the session is {state}."),
        other => format!("{other}"),
    }
}

/// Logs the injury the person told of after a "yes" to the recent-injury
/// question, through the same checks as `rollcoach injury add`, and says
/// when rolling is allowed again (the engine's rule, in local time).
fn log_injury(
    store: &crate::db::Db,
    global: &Global,
    protocol: &Protocol,
    when: &InjuryWhen,
    now: Time,
) -> anyhow::Result<String> {
    let at = match when {
        InjuryWhen::Today => now,
        InjuryWhen::Yesterday => crate::db::parse_time("yesterday", now)?,
        InjuryWhen::TwoDaysAgo => crate::db::parse_time("2 days ago", now)?,
        InjuryWhen::Typed(text) => crate::db::parse_time(text, now)?,
    };
    let catalog = crate::protocols::catalog(global);
    let injury = crate::injury::log(
        store.records(),
        store.owner(),
        catalog.all(),
        &protocol.area,
        at,
        None,
        now,
    )?;
    let fact = [rollcoach_engine::InjuryFact {
        at: injury.at,
        note: None,
    }];
    let hours = protocol.screening.injury_rule.window_hours;
    Ok(match injury_block(protocol, &fact, now) {
        Some(b) => format!(
            "Logged the injury ({}). Rolling is allowed again from {} ({hours} hours after it).",
            render::local_time(injury.at),
            render::local_time(b.allowed_at)
        ),
        None => format!(
            "Logged the injury ({}): that is more than {hours} hours ago, so this rule no longer holds it back.",
            render::local_time(injury.at)
        ),
    })
}

/// The voice of the safety questions asked before the session starts.
struct EarlyVoice {
    voice: Voice,
    clock: Clock,
    /// The number of the question last given to the voice.
    asked: Option<u32>,
}

impl EarlyVoice {
    /// Says the question on screen if it is a new one (which cuts the one
    /// before it: it was answered), and pumps the voice.
    fn ask(&mut self, prompt: Option<&Prompt>) -> Result<(), String> {
        let now = self.clock.now();
        if let Some(p @ Prompt::Screening { index, text, .. }) = prompt
            && self.asked != Some(*index)
        {
            self.asked = Some(*index);
            self.voice.output(now, &Output::Prompt(p.clone()));
            self.voice.output(
                now,
                &Output::Cue {
                    text: text.clone(),
                    say: text.clone(),
                },
            );
        }
        self.voice.pump(now)
    }
}

/// Runs the full-screen session.
pub fn run(setup: Setup) -> anyhow::Result<u8> {
    let Setup {
        protocol,
        mut options,
        speed,
        voice,
        voice_rate,
        global,
    } = setup;
    let store = crate::db::open_store(&global)?;
    let mut view = View::new(&protocol, options.reasons.is_empty());
    // Screening first: a protocol blocked by a logged injury is refused at
    // once (the session starts only to say so), and otherwise, when the
    // reasons are asked on screen, the safety questions come before them
    // (their answers are given to the session as it starts). With the
    // reasons given on the command line the session asks them itself.
    let blocked = injury_block(
        &protocol,
        &store
            .log()?
            .facts_for(&protocol)
            .context("could not read the injury log")?
            .injuries,
        crate::db::now(&global)?,
    )
    .is_some();
    if blocked {
        view.reasons = None;
    } else if view.reasons.is_some() {
        view.ask_screening_first(&protocol);
    }
    let quit = quit_requests()?;
    let mut terminal = ratatui::try_init().context("could not set up the terminal")?;
    let guard = TerminalGuard;
    let mut keys = Keys::default();

    // The safety questions and the reasons screen, before anything is recorded.
    // The questions are spoken too: a voice of their own, on a clock of its
    // own, stopped (cutting what it says) once they are answered.
    let mut early_voice = voice
        .clone()
        .filter(|_| view.early.is_some())
        .map(|p| EarlyVoice {
            voice: Voice::start(p, Arc::new(protocol.clone()), voice_rate, speed),
            clock: Clock::new(Time(0), speed),
            asked: None,
        });
    while view.before_session() {
        if let Some(ev) = &mut early_voice {
            if view.early.is_some() {
                if ev.ask(view.prompt.as_ref()).is_err()
                    && let Some(ev) = early_voice.take()
                {
                    // espeak-ng failed: the questions stay on screen.
                    ev.voice.stop();
                }
            } else if let Some(ev) = early_voice.take() {
                ev.voice.stop();
            }
        }
        let closed = match terminal.draw(|f| draw(f, &view, Time(0), 0)) {
            Ok(_) => match keys.wait(SIGNAL_CHECK) {
                Waited::Key(k) => {
                    match view.handle_key(k) {
                        Action::Cancel => return Ok(crate::exit::STOPPED),
                        Action::Start(chosen) => options.reasons = chosen,
                        _ => {}
                    }
                    false
                }
                Waited::Closed => true,
                _ => false,
            },
            Err(_) => true,
        };
        if closed || quit.load(Ordering::Relaxed) {
            drop(guard);
            let _ = writeln!(
                std::io::stderr(),
                "rollcoach: asked to quit before the session started; nothing was recorded"
            );
            return Ok(crate::exit::FAILURE);
        }
    }

    if let Some(ev) = early_voice.take() {
        ev.voice.stop();
    }
    let start = crate::db::now(&global)?;
    // The session clock starts with the session (the steps below take time).
    let mut clock = Clock::new(start, speed);
    let facts = store
        .log()?
        .facts_for(&protocol)
        .context("could not read the injury log")?;
    let session =
        Session::new(&protocol, options.clone(), facts.clone(), start).map_err(options_error)?;
    let log = StoreLog::begin(store.log()?, &protocol, &options, &facts, start)?;
    let mut driver = Driver::new(session, log);
    // The answers given before the session, given to it as it starts.
    for answer in std::mem::take(&mut view.early_answers) {
        match driver.apply(Input::Answer { answer }, start) {
            Ok(()) | Err(ApplyError::Rejected(_)) => {}
            Err(ApplyError::Log(e)) => return Err(e),
        }
    }
    let mut voice = voice.map(|p| Voice::start(p, Arc::new(protocol.clone()), voice_rate, speed));
    let frame = Duration::from_millis(33);

    // Set when the terminal is gone or a quit signal came: the session is
    // then recorded as interrupted.
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
        let turn = outs.iter().any(|(_, o)| matches!(o, Output::Phase { .. }));
        if let Some(v) = &mut voice {
            for (at, o) in &outs {
                v.output(*at, o);
            }
        }
        for (_, o) in &outs {
            view.apply(o);
        }
        if let Some(v) = &mut voice
            && let Err(why) = v.pump(clock.now())
        {
            view.notice = Some(format!(
                "Speech failed ({why}): the bell marks each turn from now on."
            ));
            if let Some(v) = voice.take() {
                v.stop();
            }
        }
        if turn && voice.is_none() {
            bell();
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
        if terminal.draw(|f| draw(f, &view, now, elapsed)).is_err() {
            // The terminal is gone.
            quit_asked = true;
            break;
        }

        let mut timeout = match driver.session().next_deadline() {
            Some(d) if view.phase.is_some() => clock.wall_until(d).min(frame),
            Some(d) => clock.wall_until(d).min(SIGNAL_CHECK),
            None => SIGNAL_CHECK,
        };
        if let Some(v) = &voice {
            if let Some(w) = v.next_wake() {
                timeout = timeout.min(clock.wall_until(w));
            }
            if v.busy() {
                timeout = timeout.min(VOICE_CHECK);
            }
        }
        match keys.wait(timeout) {
            Waited::Nothing => {}
            Waited::Closed => {
                quit_asked = true;
                break;
            }
            Waited::Key(k) => {
                let inputs = match view.handle_key(k) {
                    Action::Input(input) => vec![input],
                    Action::Inputs(inputs) => inputs,
                    Action::Quit | Action::Cancel if driver.ended() => break,
                    Action::LogInjury(when) => {
                        let now = crate::db::now(&global)?;
                        match log_injury(&store, &global, &protocol, &when, now) {
                            Ok(words) => view.offer = Some(Offer::Done(words)),
                            Err(e) => view.flash = Some(format!("{e:#}")),
                        }
                        Vec::new()
                    }
                    _ => Vec::new(),
                };
                for input in inputs {
                    if driver.ended() {
                        break;
                    }
                    let at = clock.now();
                    driver
                        .run_deadlines_until(at)
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    match driver.apply(input, at) {
                        Ok(()) => {}
                        Err(ApplyError::Rejected(e)) => view.flash = Some(rejected(&e)),
                        Err(ApplyError::Log(e)) => return Err(e),
                    }
                }
            }
        }
    }
    drop(guard);
    // Printing must not fail (and panic) on a terminal that is gone.
    let mut out = std::io::stdout();
    if quit_asked && !driver.ended() {
        if let Some(v) = voice.take() {
            v.stop();
        }
        // Recorded now, with what the runner says the session did.
        let end = driver.interrupt()?;
        let reps = format!(
            " after {} of {} reps",
            end.summary.reps_done, end.summary.reps_target
        );
        let _ = writeln!(
            out,
            "Interrupted by a signal: the session is recorded as interrupted{reps}."
        );
        return Ok(crate::exit::FAILURE);
    }
    if let Some(v) = voice.take() {
        if quit_asked {
            v.stop();
        } else {
            // The end's message, when it is still being said.
            v.finish(Duration::from_secs(10), || clock.now());
        }
    }
    match driver.end() {
        Some(Output::End {
            outcome, message, ..
        }) => {
            let _ = writeln!(out, "{}: {message}", view.outcome_words(outcome));
            if let Some(Offer::Done(words)) = &view.offer {
                let _ = writeln!(out, "{words}");
            } else if view.offer.is_some() {
                let _ = writeln!(out, "{}", view.declined_words());
            }
            Ok(render::exit_code(outcome))
        }
        _ => Ok(crate::exit::FAILURE),
    }
}
