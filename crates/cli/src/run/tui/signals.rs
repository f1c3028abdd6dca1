//! Quit signals and restoring the terminal.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;

/// Restores the terminal when dropped (every exit path; ratatui's panic hook
/// covers panics).
pub(super) struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Signals that ask rollcoach to quit. The first sets the returned flag, so
/// the screen can restore the terminal and record the session; a second one
/// of them ends the process at once.
pub(super) fn quit_requests() -> anyhow::Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [SIGTERM, SIGHUP, SIGINT, SIGQUIT] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, Arc::clone(&flag))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&flag)))
            .context("could not watch for signals")?;
    }
    Ok(flag)
}
