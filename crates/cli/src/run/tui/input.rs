//! The terminal's keys, read here rather than by crossterm.
//!
//! crossterm's reader does not survive the end of its input: on a hung-up
//! terminal `read` returns 0 at once, forever, and crossterm loops on it
//! inside its poll, so the screen never gets control back (not even to see a
//! quit signal). So stdin (the terminal: the full-screen session runs only
//! when stdin is one, in raw mode) is polled and read here, a hang-up, an
//! error or the end of the input is [`Waited::Closed`], and the few keys the
//! session uses are decoded by [`parse`]. A resize needs no event: ratatui
//! checks the size at every draw.

use std::collections::VecDeque;
use std::os::fd::AsFd;
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::Errno;

/// What waiting for the terminal's input gave.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Waited {
    /// A key.
    Key(KeyEvent),
    /// Nothing within the time.
    Nothing,
    /// The terminal is gone: its input hung up, reached its end, or fails.
    Closed,
}

/// Keys read but not handed out yet.
#[derive(Debug, Default)]
pub(super) struct Keys {
    pending: VecDeque<KeyEvent>,
}

impl Keys {
    /// Waits up to `timeout` for the next key.
    pub(super) fn wait(&mut self, timeout: Duration) -> Waited {
        if let Some(k) = self.pending.pop_front() {
            return Waited::Key(k);
        }
        let stdin = std::io::stdin();
        let fd = stdin.as_fd();
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        let ts = Timespec {
            tv_sec: timeout.as_secs() as _,
            tv_nsec: timeout.subsec_nanos() as _,
        };
        match poll(&mut fds, Some(&ts)) {
            Ok(0) | Err(Errno::INTR) => return Waited::Nothing,
            Ok(_) => {}
            Err(_) => return Waited::Closed,
        }
        let revents = fds[0].revents();
        if revents.intersects(PollFlags::ERR | PollFlags::NVAL)
            || (revents.contains(PollFlags::HUP) && !revents.contains(PollFlags::IN))
        {
            return Waited::Closed;
        }
        let mut buf = [0u8; 256];
        match rustix::io::read(fd, &mut buf) {
            // The end of the input: the terminal is gone.
            Ok(0) => return Waited::Closed,
            Ok(n) => self.pending.extend(parse(&buf[..n])),
            Err(Errno::INTR | Errno::AGAIN) => return Waited::Nothing,
            Err(_) => return Waited::Closed,
        }
        match self.pending.pop_front() {
            Some(k) => Waited::Key(k),
            None => Waited::Nothing,
        }
    }
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// The keys in what one read gave: printable characters, Enter, Tab,
/// Backspace, Esc (an escape alone), the arrows, and Ctrl with a letter.
/// Other escape sequences are dropped.
pub(super) fn parse(bytes: &[u8]) -> Vec<KeyEvent> {
    let text = String::from_utf8_lossy(bytes);
    let mut chars = text.chars().peekable();
    let mut keys = Vec::new();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.peek() {
                None | Some('\x1b') => keys.push(key(KeyCode::Esc)),
                Some('[' | 'O') => {
                    chars.next();
                    // Parameters, then the final byte.
                    let mut last = None;
                    for c in chars.by_ref() {
                        if ('\x40'..='\x7e').contains(&c) {
                            last = Some(c);
                            break;
                        }
                    }
                    match last {
                        Some('A') => keys.push(key(KeyCode::Up)),
                        Some('B') => keys.push(key(KeyCode::Down)),
                        Some('C') => keys.push(key(KeyCode::Right)),
                        Some('D') => keys.push(key(KeyCode::Left)),
                        _ => {}
                    }
                }
                // Alt with a key: the key.
                Some(_) => {}
            },
            '\r' | '\n' => keys.push(key(KeyCode::Enter)),
            '\t' => keys.push(key(KeyCode::Tab)),
            '\x7f' | '\x08' => keys.push(key(KeyCode::Backspace)),
            '\x01'..='\x1a' => keys.push(KeyEvent::new(
                KeyCode::Char((b'a' + (c as u8 - 1)) as char),
                KeyModifiers::CONTROL,
            )),
            c if !c.is_control() => keys.push(key(KeyCode::Char(c))),
            _ => {}
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_decoded_from_the_bytes_of_a_read() {
        assert_eq!(
            parse(b"nn5\r \x1b"),
            vec![
                key(KeyCode::Char('n')),
                key(KeyCode::Char('n')),
                key(KeyCode::Char('5')),
                key(KeyCode::Enter),
                key(KeyCode::Char(' ')),
                key(KeyCode::Esc),
            ]
        );
        assert_eq!(
            parse(b"\x1b[A\x1b[B\x1bOAp\x03"),
            vec![
                key(KeyCode::Up),
                key(KeyCode::Down),
                key(KeyCode::Up),
                key(KeyCode::Char('p')),
                KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
            ]
        );
        assert_eq!(
            parse(b"\x1b\x1b"),
            vec![key(KeyCode::Esc), key(KeyCode::Esc)]
        );
        assert_eq!(parse(b"\x1b[1;5Hq"), vec![key(KeyCode::Char('q'))]);
    }
}
