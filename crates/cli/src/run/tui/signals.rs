//! Quit signals and restoring the terminal.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;

/// Restores the terminal when dropped (every exit path; ratatui's panic hook
/// covers panics). A terminal that is gone is left as it is.
pub(super) struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // Not `ratatui::restore`: it reports a failure with `eprintln!`,
        // which panics when the terminal is gone.
        let _ = ratatui::try_restore();
    }
}

/// Signals that ask rollcoach to quit. The first sets the returned flag, so
/// the screen can restore the terminal and record the session; a second
/// SIGTERM, SIGINT or SIGQUIT ends the process at once. SIGHUP only sets the
/// flag: a closing terminal often sends it more than once (the terminal's
/// program to the process group, then the kernel's hang-up), and the session
/// must still be recorded.
pub(super) fn quit_requests() -> anyhow::Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [SIGTERM, SIGINT, SIGQUIT] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, Arc::clone(&flag))
            .context("could not watch for signals")?;
    }
    for signal in [SIGTERM, SIGHUP, SIGINT, SIGQUIT] {
        signal_hook::flag::register(signal, Arc::clone(&flag))
            .context("could not watch for signals")?;
    }
    Ok(flag)
}
