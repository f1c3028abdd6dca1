//! Spoken cues through espeak-ng, planned by the engine's speech planner.
//!
//! What is said and when is the planner's ([`rollcoach_engine::speech`]): it
//! gets every engine output with its session time and answers with
//! [`Speech::Say`] and [`Speech::Cut`]. This module carries them out:
//! a [`Speaker`] thread runs one espeak-ng at a time (a new utterance never
//! starts while another is heard; a cut kills the process) and reports when
//! each utterance really ended, which [`Voice`] hands back to the planner
//! ([`Planner::finished`]). The front-end feeds [`Voice::output`] and calls
//! [`Voice::pump`] after every batch of outputs, at [`Voice::next_wake`], and
//! often enough to pick up the speaker's reports ([`Voice::busy`]).
//!
//! Session time and real time: with `--speed N` the session clock runs N
//! times faster than real time, but the voice speaks at its own real rate, so
//! an utterance of `d` real milliseconds spans `d × N` session milliseconds.
//! The planner plans in session time with durations from
//! `estimate_ms(text, rate)`, which is inversely proportional to `rate`; so it
//! is given the voice's rate *divided* by the speed (`rate / N`): at
//! `--speed 2` a cue takes twice as long in session time, and a phase cue
//! that does not fit the shortened phase is said in its short form or cut at
//! the phase's end. `--speed max` (a virtual clock) has no real duration at
//! all; the voice then follows the planner as best it can.
//!
//! espeak-ng can fail to speak (no audio device): it then exits non-zero, or
//! exits at once with an error on stderr. [`Voice::pump`] reports that once
//! and the front-end falls back to other cues (the terminal's bell).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rollcoach_engine::speech::{BASE_WPM, Planner, Speech};
use rollcoach_engine::{Output, Time};
use rollcoach_protocol::Protocol;

use super::driver::{Clock, Speed};

/// The program used to speak.
pub const PROGRAM: &str = "espeak-ng";

/// How to install it, for error messages.
pub const INSTALL_HINT: &str = "install it with `sudo apt-get install espeak-ng` (Debian, Ubuntu), \
or run with --voice off";

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

/// Parses `--voice-rate`: a factor from 0.5 to 2 of espeak-ng's default rate.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.5..=2.0).contains(&f) => Ok(f),
        _ => Err(format!(
            "`{s}` is not a speech rate: give a factor from 0.5 to 2 (1 is {} words a minute)",
            BASE_WPM
        )),
    }
}

enum Cmd {
    Say { id: u64, text: String },
    Cut { id: u64 },
    Quit,
}

/// What the speaker thread reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// The utterance ended, said whole or cut, at this instant.
    Ended {
        /// The utterance.
        id: u64,
        /// When it ended.
        at: Instant,
    },
    /// espeak-ng could not say it (it exited non-zero, or with an error).
    Failed {
        /// The utterance.
        id: u64,
        /// Why, in a few words.
        why: String,
    },
}

/// The speaker thread: says one utterance at a time with espeak-ng, kills it
/// when it is cut, and reports every end.
pub struct Speaker {
    tx: Sender<Cmd>,
    reports: Receiver<Report>,
    thread: Option<JoinHandle<()>>,
}

/// How often the speaker thread looks whether espeak-ng has exited.
const REAP_EVERY: Duration = Duration::from_millis(5);

impl Speaker {
    /// Starts the thread with this espeak-ng, speaking at `wpm` words a minute.
    pub fn start(program: PathBuf, wpm: u32) -> Speaker {
        let (tx, rx) = mpsc::channel();
        let (report_tx, reports) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("rollcoach-voice".into())
            .spawn(move || {
                Worker {
                    program,
                    wpm,
                    current: None,
                    reports: report_tx,
                }
                .run(rx)
            })
            .ok();
        Speaker {
            tx,
            reports,
            thread,
        }
    }

    /// Starts saying `text` as utterance `id` (whatever is still being said
    /// is cut first: never two at once).
    pub fn say(&self, id: u64, text: &str) {
        let _ = self.tx.send(Cmd::Say {
            id,
            text: text.to_string(),
        });
    }

    /// Cuts off utterance `id` if it is being said.
    pub fn cut(&self, id: u64) {
        let _ = self.tx.send(Cmd::Cut { id });
    }

    /// The next report, if any.
    pub fn try_report(&self) -> Option<Report> {
        self.reports.try_recv().ok()
    }

    /// Waits up to `timeout` for the next report.
    pub fn wait_report(&self, timeout: Duration) -> Option<Report> {
        self.reports.recv_timeout(timeout).ok()
    }

    /// Cuts off what is being said and stops the thread.
    pub fn stop(mut self) {
        let _ = self.tx.send(Cmd::Quit);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Current {
    id: u64,
    child: Child,
}

struct Worker {
    program: PathBuf,
    wpm: u32,
    current: Option<Current>,
    reports: Sender<Report>,
}

impl Worker {
    fn run(&mut self, rx: Receiver<Cmd>) {
        loop {
            self.reap();
            // Idle, it sleeps until told something.
            let next = if self.current.is_some() {
                rx.recv_timeout(REAP_EVERY)
            } else {
                rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
            };
            match next {
                Ok(Cmd::Say { id, text }) => {
                    self.kill();
                    match self.spawn(&text) {
                        Ok(child) => self.current = Some(Current { id, child }),
                        Err(e) => self.report(Report::Failed {
                            id,
                            why: format!("could not start {PROGRAM}: {e}"),
                        }),
                    }
                }
                Ok(Cmd::Cut { id }) => {
                    if self.current.as_ref().is_some_and(|c| c.id == id) {
                        self.kill();
                    }
                }
                Ok(Cmd::Quit) | Err(RecvTimeoutError::Disconnected) => {
                    self.kill();
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    fn report(&self, r: Report) {
        let _ = self.reports.send(r);
    }

    /// Reports the utterance being said if espeak-ng has exited.
    fn reap(&mut self) {
        let Some(cur) = &mut self.current else {
            return;
        };
        let status = match cur.child.try_wait() {
            Ok(None) => return,
            Ok(Some(status)) => Some(status),
            Err(_) => None,
        };
        let at = Instant::now();
        let mut err = String::new();
        if let Some(mut e) = cur.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let id = cur.id;
        self.current = None;
        let error_line = err
            .lines()
            .find(|l| l.to_ascii_lowercase().contains("error"))
            .map(str::trim);
        let why = match (status, error_line) {
            (Some(s), _) if !s.success() => Some(match error_line {
                Some(l) => format!("{PROGRAM} {s}: {l}"),
                None => format!("{PROGRAM} {s}"),
            }),
            (_, Some(l)) => Some(format!("{PROGRAM}: {l}")),
            (None, None) => Some(format!("{PROGRAM} could not be waited for")),
            _ => None,
        };
        self.report(match why {
            Some(why) => Report::Failed { id, why },
            None => Report::Ended { id, at },
        });
    }

    /// Kills the utterance being said and reports its end.
    fn kill(&mut self) {
        if let Some(mut cur) = self.current.take() {
            let _ = cur.child.kill();
            let _ = cur.child.wait();
            self.report(Report::Ended {
                id: cur.id,
                at: Instant::now(),
            });
        }
    }

    fn spawn(&self, text: &str) -> std::io::Result<Child> {
        Command::new(&self.program)
            .arg("-s")
            .arg(self.wpm.to_string())
            .arg("--")
            .arg(text)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
    }
}

/// The voice of one session: the planner decides what is said and when, the
/// speaker says it.
pub struct Voice {
    planner: Planner,
    speaker: Speaker,
    /// Session milliseconds per real millisecond; `None` for a virtual clock.
    speed: Option<f64>,
}

impl Voice {
    /// Starts speaking `protocol`'s session through `program` at `rate`
    /// times espeak-ng's default rate, on a session clock of `speed` (see the
    /// module docs: the planner plans at `rate / speed`).
    pub fn start(program: PathBuf, protocol: Arc<Protocol>, rate: f64, speed: Speed) -> Voice {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            1.0
        };
        let speed = match speed {
            Speed::Factor(f) => Some(f),
            Speed::Max => None,
        };
        Voice {
            planner: Planner::new(protocol, planning_rate(rate, speed)),
            speaker: Speaker::start(program, (BASE_WPM * rate).round() as u32),
            speed,
        }
    }

    /// Feeds an engine output at its session time.
    pub fn output(&mut self, at: Time, out: &Output) {
        self.planner.output(at, out);
    }

    /// Takes the speaker's reports and carries out what the planner says at
    /// session time `now`. An error says why speech failed: the voice is then
    /// of no more use (say so, and [`Voice::stop`] it).
    pub fn pump(&mut self, now: Time) -> Result<(), String> {
        while let Some(r) = self.speaker.try_report() {
            self.take(r, now)?;
        }
        while let Some(s) = self.planner.poll(now) {
            match s {
                Speech::Say(u) => self.speaker.say(u.id, &u.text),
                Speech::Cut { id } => self.speaker.cut(id),
                Speech::Skip { .. } => {} // shown by the front-end already
            }
        }
        Ok(())
    }

    fn take(&mut self, r: Report, now: Time) -> Result<(), String> {
        match r {
            Report::Ended { id, at } => {
                // Back from now to the real end, in session time.
                let ago = self
                    .speed
                    .map_or(0, |f| (at.elapsed().as_secs_f64() * 1000.0 * f) as u64);
                let at = Time(now.0.saturating_sub(ago));
                self.planner.finished(id, at);
                Ok(())
            }
            Report::Failed { id, why } => {
                self.planner.finished(id, now);
                Err(why)
            }
        }
    }

    /// When the planner wants to be pumped again though nothing happens.
    pub fn next_wake(&self) -> Option<Time> {
        self.planner.next_wake()
    }

    /// Whether something is being said (its end will need a [`Voice::pump`]).
    pub fn busy(&self) -> bool {
        self.planner.speaking().is_some()
    }

    /// Lets what is left be said (the final message), up to `limit` of real
    /// time, with `now` giving session time; then stops.
    pub fn finish(mut self, limit: Duration, now: impl Fn() -> Time) {
        let until = Instant::now() + limit;
        loop {
            if self.pump(now()).is_err() {
                break;
            }
            if !self.busy() || Instant::now() >= until {
                break;
            }
            if let Some(r) = self.speaker.wait_report(Duration::from_millis(20))
                && self.take(r, now()).is_err()
            {
                break;
            }
        }
        self.stop();
    }

    /// Cuts off what is being said and stops the speaker.
    pub fn stop(self) {
        self.speaker.stop();
    }

    /// Runs this voice on its own thread, for a front-end that blocks between
    /// outputs (the script mode): outputs go in with [`Background::feed`],
    /// and `clock` (a copy of the session's) gives session time.
    pub fn background(self, clock: Clock) -> Background {
        let (tx, rx) = mpsc::channel::<Option<Vec<(Time, Output)>>>();
        let thread = std::thread::Builder::new()
            .name("rollcoach-planner".into())
            .spawn(move || background(self, clock, rx))
            .ok();
        Background { tx, thread }
    }
}

/// The planning rate: the voice's rate over the session clock's speed.
pub fn planning_rate(rate: f64, speed: Option<f64>) -> f64 {
    match speed {
        Some(f) if f.is_finite() && f > 0.0 => rate / f,
        _ => rate,
    }
}

/// A [`Voice`] on its own thread.
pub struct Background {
    tx: Sender<Option<Vec<(Time, Output)>>>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    /// Feeds a batch of outputs with their session times.
    pub fn feed(&self, outputs: &[(Time, Output)]) {
        let _ = self.tx.send(Some(outputs.to_vec()));
    }

    /// Lets the final message be said (up to 30 s), then stops.
    pub fn finish(mut self) {
        let _ = self.tx.send(None);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn background(mut voice: Voice, clock: Clock, rx: Receiver<Option<Vec<(Time, Output)>>>) {
    let mut latest = Time(0);
    let now = |latest: Time| clock.now().max(latest);
    loop {
        let mut quit = false;
        loop {
            match rx.try_recv() {
                Ok(Some(batch)) => {
                    for (at, out) in &batch {
                        latest = latest.max(*at);
                        voice.output(*at, out);
                    }
                }
                Ok(None) | Err(TryRecvError::Disconnected) => {
                    quit = true;
                    break;
                }
                Err(TryRecvError::Empty) => break,
            }
        }
        if let Err(why) = voice.pump(now(latest)) {
            eprintln!("warning: speech failed ({why}); the session goes on without it");
            voice.stop();
            // Keep taking outputs until the end, saying nothing.
            while let Ok(Some(_)) = rx.recv() {}
            return;
        }
        if quit {
            voice.finish(Duration::from_secs(30), || now(latest));
            return;
        }
        let wait = voice.next_wake().map_or(Duration::from_millis(10), |w| {
            clock.wall_until(w).min(Duration::from_millis(10))
        });
        if let Some(r) = voice.speaker.wait_report(wait)
            && let Err(why) = voice.take(r, now(latest))
        {
            eprintln!("warning: speech failed ({why}); the session goes on without it");
            voice.stop();
            while let Ok(Some(_)) = rx.recv() {}
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rollcoach_engine::{Facts, Input, Options, Session};

    #[test]
    fn the_rate_is_a_factor_from_half_to_double() {
        assert_eq!(parse_rate("1.25"), Ok(1.25));
        assert!(parse_rate("0.4").is_err());
        assert!(parse_rate("fast").unwrap_err().contains("0.5 to 2"));
    }

    #[test]
    fn the_planner_plans_at_the_rate_over_the_speed() {
        assert_eq!(planning_rate(1.0, Some(1.0)), 1.0);
        assert_eq!(planning_rate(1.0, Some(4.0)), 0.25);
        assert_eq!(planning_rate(1.5, Some(3.0)), 0.5);
        assert_eq!(planning_rate(1.2, None), 1.2);
        // At speed 2 a cue lasts twice as long in session time.
        let cue = "breathe out, roll back";
        assert_eq!(
            rollcoach_engine::speech::estimate_ms(cue, planning_rate(1.0, Some(2.0))),
            2 * rollcoach_engine::speech::estimate_ms(cue, 1.0)
        );
    }

    /// A stand-in for espeak-ng: logs the start and the end of each
    /// utterance (its last argument) and its `-s`.
    fn fake_speaker(dir: &Path, seconds: &str) -> (PathBuf, PathBuf) {
        use std::os::unix::fs::PermissionsExt;
        let log = dir.join("said.log");
        let prog = dir.join("espeak-ng");
        std::fs::write(
            &prog,
            format!(
                "#!/bin/sh\nfor a; do text=$a; done\necho \"start $text ($1 $2)\" >> '{log}'\n\
                 sleep {seconds}\necho \"end $text\" >> '{log}'\n",
                log = log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755)).unwrap();
        (prog, log)
    }

    fn wait_for_file(log: &Path, what: &str) {
        let t = Instant::now();
        while !std::fs::read_to_string(log).is_ok_and(|s| s.contains(what)) {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "no `{what}` in the log"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn the_speaker_says_one_utterance_at_a_time_and_a_cut_kills_it() {
        let dir = tempfile::tempdir().unwrap();
        let (prog, log) = fake_speaker(dir.path(), "2");
        let speaker = Speaker::start(prog, 175);
        speaker.say(1, "breathe in");
        wait_for_file(&log, "start breathe in");
        // A second one while the first is heard: the first is cut first.
        speaker.say(2, "Stop now.");
        let first = speaker.wait_report(Duration::from_secs(5)).unwrap();
        assert!(matches!(first, Report::Ended { id: 1, .. }), "{first:?}");
        wait_for_file(&log, "start Stop now.");
        speaker.cut(2);
        let second = speaker.wait_report(Duration::from_secs(5)).unwrap();
        assert!(matches!(second, Report::Ended { id: 2, .. }), "{second:?}");
        speaker.stop();
        let said = std::fs::read_to_string(log).unwrap();
        assert_eq!(
            said, "start breathe in (-s 175)\nstart Stop now. (-s 175)\n",
            "neither ran to its end: both were killed"
        );
    }

    #[test]
    fn a_speaker_that_fails_is_reported() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (name, script) in [
            ("exit", "#!/bin/sh\necho 'no audio' >&2\nexit 1\n"),
            (
                "stderr",
                "#!/bin/sh\necho 'error: No such file or directory' >&2\n",
            ),
        ] {
            let prog = dir.path().join(name);
            std::fs::write(&prog, script).unwrap();
            std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755)).unwrap();
            let speaker = Speaker::start(prog, 175);
            speaker.say(7, "breathe in");
            let r = speaker.wait_report(Duration::from_secs(5)).unwrap();
            match r {
                Report::Failed { id: 7, why } => assert!(why.contains(PROGRAM), "{why}"),
                other => panic!("{name}: {other:?}"),
            }
            speaker.stop();
        }
    }

    /// A session through the voice on a real clock at a high speed: the
    /// planner's Say and Cut are carried out by the speaker.
    fn session(tempo: f64) -> (Session, Arc<Protocol>) {
        let protocol = Arc::new(rollcoach_protocol::builtin().remove(0));
        let options = Options {
            tempo_seconds: Some(tempo),
            reps: Some(protocol.movement.reps.min),
            ..Options::default()
        };
        let s = Session::with_arc(protocol.clone(), options, Facts::default(), Time(0)).unwrap();
        (s, protocol)
    }

    #[test]
    fn a_stop_cuts_off_the_cue_being_said() {
        let dir = tempfile::tempdir().unwrap();
        let (prog, log) = fake_speaker(dir.path(), "3");
        let (mut s, protocol) = session(4.0);
        let mut voice = Voice::start(prog, protocol, 1.0, Speed::Factor(1.0));
        let mut now = Time(0);
        let feed = |s: &mut Session, voice: &mut Voice, now: Time| {
            while let Some(o) = s.poll_output() {
                voice.output(now, &o);
            }
            voice.pump(now).unwrap();
        };
        feed(&mut s, &mut voice, now);
        // Screening, then setup: answered at once.
        loop {
            let input = match s.current(now).iter().rev().find_map(|o| match o {
                Output::Prompt(p) => Some(p.clone()),
                _ => None,
            }) {
                Some(rollcoach_engine::Prompt::Screening { .. }) => Input::Answer {
                    answer: rollcoach_protocol::Answer::No,
                },
                Some(rollcoach_engine::Prompt::Ready { .. }) => Input::Ready,
                Some(rollcoach_engine::Prompt::Rating { .. }) => Input::Rating { value: None },
                None => break,
            };
            if s.handle(input, now).is_err() {
                break;
            }
            feed(&mut s, &mut voice, now);
            if s.next_deadline().is_some() {
                break;
            }
        }
        // Rolling: the first breath cue is being said.
        wait_for_file(&log, "start breathe");
        now = now.plus_ms(500);
        s.handle(
            Input::Pain {
                kind: rollcoach_engine::PainKind::Spine,
            },
            now,
        )
        .unwrap();
        feed(&mut s, &mut voice, now);
        let end = match s.current(now).last() {
            Some(Output::End { message, .. }) => message.clone(),
            other => panic!("{other:?}"),
        };
        wait_for_file(&log, &format!("start {end}"));
        voice.stop();
        let said = std::fs::read_to_string(log).unwrap();
        let lines: Vec<&str> = said.lines().collect();
        let cue = lines
            .iter()
            .position(|l| l.starts_with("start breathe"))
            .unwrap();
        assert!(
            lines[cue + 1].starts_with(&format!("start {end}")),
            "the stop message follows the cut cue at once, the cue never ends: {said}"
        );
        assert!(!said.contains("end breathe"), "{said}");
    }
}
