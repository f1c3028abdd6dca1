//! The full-screen session in a terminal (ratatui + crossterm).
//!
//! Keys go through a pure [`View::handle_key`] that returns an [`Action`], so
//! key handling is tested without a terminal; the loop applies the action
//! through the driver, feeds the engine's outputs back into the [`View`], and
//! redraws about 30 times a second while the pacer moves.
//!
//! By concern: [`view`] (the view model and its key handling), [`draw`]
//! (ratatui drawing), [`font`] (the block font of the headline), [`signals`]
//! (quit signals and restoring the terminal); the event loop is here.

mod draw;
mod font;
mod signals;
mod view;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use ratatui::crossterm::event::{self, Event};
use rollcoach_engine::{Options, Output, Session, Time};
use rollcoach_protocol::Protocol;

use super::driver::{ApplyError, Clock, Driver, Speed};
use super::render;
use super::voice::Voice;
use super::{StoreLog, options_error, speak};
use crate::Global;
use draw::draw;
use signals::{TerminalGuard, quit_requests};
use view::{Action, View};

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
