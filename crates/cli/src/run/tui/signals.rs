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

/// What waiting for the terminal's input gave.
pub(super) enum Waited {
    /// A key, a resize...
    Event(ratatui::crossterm::event::Event),
    /// Nothing within the time.
    Nothing,
    /// The terminal is gone: its input hung up, reached its end, or fails.
    Closed,
}

/// Waits up to `timeout` for the terminal's next event.
///
/// crossterm does not report the end of its input: on a hung-up terminal
/// `read` returns 0 at once, forever, and crossterm's poll spins on it until
/// its timeout. So the wait is done here, with poll(2) on stdin (the
/// terminal: the full-screen session runs only when stdin is one), and a
/// hang-up, an error, or readable input with nothing to read is
/// [`Waited::Closed`]; only readable input is handed to crossterm.
pub(super) fn wait_event(timeout: std::time::Duration) -> Waited {
    use ratatui::crossterm::event;
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use std::os::fd::AsFd;
    use std::time::Duration;

    // Events crossterm has already read and not handed out yet.
    match event::poll(Duration::ZERO) {
        Ok(true) => {
            return match event::read() {
                Ok(e) => Waited::Event(e),
                Err(_) => Waited::Closed,
            };
        }
        Ok(false) => {}
        Err(_) => return Waited::Closed,
    }
    let stdin = std::io::stdin();
    let fd = stdin.as_fd();
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let ts = Timespec {
        tv_sec: timeout.as_secs() as _,
        tv_nsec: timeout.subsec_nanos() as _,
    };
    match poll(&mut fds, Some(&ts)) {
        Ok(0) => return Waited::Nothing,
        Ok(_) => {}
        Err(rustix::io::Errno::INTR) => return Waited::Nothing,
        Err(_) => return Waited::Closed,
    }
    let revents = fds[0].revents();
    if revents.intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL) {
        return Waited::Closed;
    }
    // Readable with nothing to read is the end of the input.
    match rustix::io::ioctl_fionread(fd) {
        Ok(0) | Err(_) => return Waited::Closed,
        Ok(_) => {}
    }
    match event::poll(Duration::from_millis(20)) {
        Ok(true) => match event::read() {
            Ok(e) => Waited::Event(e),
            Err(_) => Waited::Closed,
        },
        Ok(false) => Waited::Nothing,
        Err(_) => Waited::Closed,
    }
}
