//! Spoken cues through espeak-ng: one speaker thread, one utterance at a time.
//!
//! The pacer must not wait for the voice, and the voice must not lag behind
//! the pacer: when a new phase cue arrives, queued phase cues (and a phase cue
//! still being spoken) are stale and dropped. An urgent message (a stop, a
//! refusal) cuts off whatever is being said and empties the queue: it is
//! always spoken.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The program used to speak.
pub const PROGRAM: &str = "espeak-ng";

/// How to install it, for error messages.
pub const INSTALL_HINT: &str = "install it with `sudo apt-get install espeak-ng` (Debian, Ubuntu), \
or run with --voice off";

/// How a cue relates to the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Said in order after what is queued.
    Normal,
    /// A rolling-phase cue: replaces queued (and speaking) phase cues.
    Phase,
    /// Cuts off everything: said at once.
    Urgent,
}

/// `--voice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VoiceMode {
    /// Speak when espeak-ng is installed and stdin is a terminal.
    Auto,
    /// Speak; an error if espeak-ng is missing.
    On,
    /// Silent.
    Off,
}

/// Finds `espeak-ng` on PATH.
pub fn find_program() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(PROGRAM))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Whether to speak, from `--voice`, whether it is a terminal, and espeak-ng.
pub fn decide(mode: VoiceMode, tty: bool) -> Result<Option<PathBuf>, String> {
    match mode {
        VoiceMode::Off => Ok(None),
        VoiceMode::Auto if !tty => Ok(None),
        VoiceMode::Auto => Ok(find_program()),
        VoiceMode::On => find_program().map(Some).ok_or_else(|| {
            format!("--voice on needs {PROGRAM}, which is not on PATH: {INSTALL_HINT}")
        }),
    }
}

enum Msg {
    Say(String, Priority),
    Quit,
}

/// The speaker: cues go in, espeak-ng speaks them one at a time.
pub struct Voice {
    tx: Sender<Msg>,
    thread: Option<JoinHandle<()>>,
}

impl Voice {
    /// Starts the speaker thread with this espeak-ng.
    pub fn start(program: PathBuf) -> Voice {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("rollcoach-voice".into())
            .spawn(move || {
                let mut speaker = Speaker {
                    program,
                    speaking: None,
                };
                speaker.run(rx)
            })
            .ok();
        Voice { tx, thread }
    }

    /// Queues a cue.
    pub fn say(&self, text: &str, priority: Priority) {
        if !text.trim().is_empty() {
            let _ = self.tx.send(Msg::Say(text.to_string(), priority));
        }
    }

    /// Waits until what is queued has been said (e.g. the final message),
    /// then stops the thread.
    pub fn finish(mut self) {
        let _ = self.tx.send(Msg::Quit);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A phase cue that waited longer than this (behind a long note) would be
/// said too late for its phase: it is dropped.
pub const PHASE_CUE_MAX_WAIT: Duration = Duration::from_millis(1500);

/// The queue policy, kept apart from the process handling so it can be tested.
#[derive(Debug, Default, PartialEq)]
pub struct Queue {
    items: VecDeque<(String, Priority, Instant)>,
}

/// What to do with the utterance being spoken when a cue arrives.
#[derive(Debug, PartialEq, Eq)]
pub enum Current {
    /// Let it finish.
    Keep,
    /// Cut it off.
    Kill,
}

impl Queue {
    /// Adds a cue; returns whether the utterance being spoken (of priority
    /// `speaking`) must be cut off.
    pub fn push(&mut self, text: String, p: Priority, speaking: Option<Priority>) -> Current {
        match p {
            Priority::Urgent => {
                self.items.retain(|(_, q, _)| *q == Priority::Urgent);
                self.items.push_back((text, p, Instant::now()));
                if speaking.is_some_and(|s| s != Priority::Urgent) {
                    Current::Kill
                } else {
                    Current::Keep
                }
            }
            Priority::Phase => {
                self.items.retain(|(_, q, _)| *q != Priority::Phase);
                self.items.push_back((text, p, Instant::now()));
                if speaking == Some(Priority::Phase) {
                    Current::Kill
                } else {
                    Current::Keep
                }
            }
            Priority::Normal => {
                self.items.push_back((text, p, Instant::now()));
                Current::Keep
            }
        }
    }

    /// The next cue to speak.
    pub fn pop(&mut self) -> Option<(String, Priority)> {
        self.pop_at(Instant::now())
    }

    /// The next cue to speak at `now`, skipping phase cues that waited too long.
    pub fn pop_at(&mut self, now: Instant) -> Option<(String, Priority)> {
        while let Some((text, p, queued)) = self.items.pop_front() {
            if p == Priority::Phase && now.saturating_duration_since(queued) > PHASE_CUE_MAX_WAIT {
                continue;
            }
            return Some((text, p));
        }
        None
    }

    /// Whether nothing is queued.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

struct Speaker {
    program: PathBuf,
    speaking: Option<(Child, Priority)>,
}

impl Speaker {
    fn run(&mut self, rx: Receiver<Msg>) {
        let mut queue = Queue::default();
        let mut quitting = false;
        loop {
            // Reap a finished utterance.
            if let Some((child, _)) = &mut self.speaking
                && !matches!(child.try_wait(), Ok(None))
            {
                self.speaking = None;
            }
            if self.speaking.is_none() {
                if let Some((text, p)) = queue.pop() {
                    self.speaking = self.spawn(&text).map(|c| (c, p));
                    continue;
                } else if quitting {
                    return;
                }
            }
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok(Msg::Say(text, p)) => {
                    let speaking = self.speaking.as_ref().map(|(_, p)| *p);
                    if queue.push(text, p, speaking) == Current::Kill
                        && let Some((mut child, _)) = self.speaking.take()
                    {
                        let _ = child.kill();
                        let _ = child.wait();
                    }
                }
                Ok(Msg::Quit) | Err(RecvTimeoutError::Disconnected) => quitting = true,
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    fn spawn(&self, text: &str) -> Option<Child> {
        Command::new(&self.program)
            .arg("--")
            .arg(text)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_phase_cue_drops_stale_phase_cues_and_cuts_the_speaking_one() {
        let mut q = Queue::default();
        assert_eq!(q.push("note".into(), Priority::Normal, None), Current::Keep);
        assert_eq!(
            q.push("breathe in".into(), Priority::Phase, Some(Priority::Normal)),
            Current::Keep
        );
        assert_eq!(
            q.push("breathe out".into(), Priority::Phase, Some(Priority::Phase)),
            Current::Kill
        );
        assert_eq!(q.pop(), Some(("note".into(), Priority::Normal)));
        assert_eq!(q.pop(), Some(("breathe out".into(), Priority::Phase)));
        assert!(q.is_empty());
    }

    #[test]
    fn a_phase_cue_that_waited_too_long_behind_a_note_is_dropped() {
        let mut q = Queue::default();
        q.push("breathe in".into(), Priority::Phase, Some(Priority::Normal));
        q.push(
            "Pops are normal.".into(),
            Priority::Normal,
            Some(Priority::Normal),
        );
        let later = Instant::now() + PHASE_CUE_MAX_WAIT + Duration::from_millis(1);
        assert_eq!(
            q.pop_at(later),
            Some(("Pops are normal.".into(), Priority::Normal))
        );
        assert!(q.is_empty());
    }

    #[test]
    fn an_urgent_message_empties_the_queue_and_is_always_said() {
        let mut q = Queue::default();
        q.push("a".into(), Priority::Normal, None);
        q.push("b".into(), Priority::Phase, None);
        assert_eq!(
            q.push("Stop now.".into(), Priority::Urgent, Some(Priority::Normal)),
            Current::Kill
        );
        assert_eq!(
            q.push("breathe in".into(), Priority::Phase, Some(Priority::Urgent)),
            Current::Keep
        );
        assert_eq!(q.pop(), Some(("Stop now.".into(), Priority::Urgent)));
    }

    /// A stand-in for espeak-ng: logs the start and the end of each utterance.
    fn fake_speaker(dir: &Path, seconds: &str) -> (PathBuf, PathBuf) {
        use std::os::unix::fs::PermissionsExt;
        let log = dir.join("said.log");
        let prog = dir.join("espeak-ng");
        std::fs::write(
            &prog,
            format!(
                "#!/bin/sh\necho \"start $2\" >> '{log}'\nsleep {seconds}\necho \"end $2\" >> '{log}'\n",
                log = log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755)).unwrap();
        (prog, log)
    }

    #[test]
    fn the_speaker_says_cues_one_at_a_time_and_skips_stale_phase_cues() {
        let dir = tempfile::tempdir().unwrap();
        let (prog, log) = fake_speaker(dir.path(), "0.3");
        let voice = Voice::start(prog);
        voice.say("Lie down.", Priority::Normal);
        std::thread::sleep(Duration::from_millis(100)); // "Lie down." is being said
        voice.say("breathe in", Priority::Phase);
        voice.say("breathe out", Priority::Phase);
        voice.finish();
        let said = std::fs::read_to_string(log).unwrap();
        assert_eq!(
            said,
            "start Lie down.\nend Lie down.\nstart breathe out\nend breathe out\n"
        );
    }

    #[test]
    fn a_stop_message_cuts_off_the_cue_being_said() {
        let dir = tempfile::tempdir().unwrap();
        let (prog, log) = fake_speaker(dir.path(), "2");
        let voice = Voice::start(prog);
        voice.say("breathe in", Priority::Phase);
        // Wait until it is being said (however loaded the machine is).
        while !std::fs::read_to_string(&log).is_ok_and(|s| s.contains("start breathe in")) {
            std::thread::sleep(Duration::from_millis(10));
        }
        voice.say("Stop now.", Priority::Urgent);
        voice.finish();
        let said = std::fs::read_to_string(log).unwrap();
        assert_eq!(said, "start breathe in\nstart Stop now.\nend Stop now.\n");
    }

    #[test]
    fn voice_on_without_the_program_says_how_to_install_it() {
        if find_program().is_some() {
            return; // espeak-ng is installed here; the error cannot happen.
        }
        let err = decide(VoiceMode::On, true).unwrap_err();
        assert!(err.contains("apt-get install espeak-ng"), "{err}");
        assert_eq!(decide(VoiceMode::Auto, false), Ok(None));
        assert_eq!(decide(VoiceMode::Off, true), Ok(None));
    }
}
