//! The full-screen session in a real pseudo-terminal (`script` from
//! util-linux gives it one), on the real clock: the safety keys act at once,
//! closing the terminal records the session as interrupted, and with a
//! stand-in espeak-ng every breath cue starts with its phase.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::TestEnvironment;
use rollcoach_engine::speech::{Planner, estimate_ms};
use rollcoach_engine::{Input, Output, Session, Time};
use rollcoach_store::{Event, SessionOutcome, SessionRecord};

/// Polls `check` every 20 ms until it gives a value; fails after `limit`.
fn wait_for<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `rollcoach ARGS` in a pseudo-terminal, its screen read as it comes.
struct Pty {
    script: Child,
    keys: Option<ChildStdin>,
    screen: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
}

impl Pty {
    /// Starts `prefix rollcoach ARGS suffix` (e.g. `setsid -w`, `>/dev/null`),
    /// with `bin` first on PATH.
    fn start(
        env: &TestEnvironment,
        (prefix, suffix): (&str, &str),
        args: &[&str],
        bin: Option<&Path>,
    ) -> Pty {
        let rollcoach = format!(
            // A size, or nothing is drawn (script's terminal has none).
            "stty cols 100 rows 30; {prefix} {} --db {} {} {suffix}",
            env!("CARGO_BIN_EXE_rollcoach"),
            env.db().display(),
            args.join(" ")
        );
        let real = std::env::var_os("PATH").unwrap_or_default();
        let mut path: Vec<PathBuf> = bin.iter().map(|b| b.to_path_buf()).collect();
        path.extend(std::env::split_paths(&real));
        let mut cmd = Command::new("script");
        env.pin(&mut cmd);
        let mut script = cmd
            .args(["-qec", &rollcoach, "/dev/null"])
            .env("PATH", std::env::join_paths(path).unwrap())
            .env("TERM", "xterm")
            // The full-screen session runs on the real clock.
            .env_remove("ROLLCOACH_NOW")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("`script` (util-linux) runs the session in a pseudo-terminal");
        let keys = script.stdin.take();
        let mut out = script.stdout.take().unwrap();
        let screen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&screen);
        // Read the screen all along: a full pipe would hold the session up.
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            script,
            keys,
            screen,
            reader: Some(reader),
        }
    }

    fn keys(&mut self, keys: &[u8]) {
        let k = self.keys.as_mut().unwrap();
        k.write_all(keys).unwrap();
        k.flush().unwrap();
    }

    /// How much has been shown so far.
    fn shown(&self) -> usize {
        self.screen.lock().unwrap().len()
    }

    /// What was shown from `from` on.
    fn screen_from(&self, from: usize) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()[from..]).into_owned()
    }

    /// Kills `script`: its side of the terminal closes.
    fn close(&mut self) {
        let _ = self.script.kill();
        let _ = self.script.wait();
    }

    /// Waits for `script` to end by itself.
    fn wait(&mut self, limit: Duration) {
        let start = Instant::now();
        while self.script.try_wait().unwrap().is_none() {
            assert!(start.elapsed() < limit, "the session did not end");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        self.keys.take();
        self.close();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// The live session: its record and its event log.
fn live(env: &TestEnvironment) -> Option<(SessionRecord, Vec<Event>)> {
    let store = common::OwnerStore::open(env.db()).ok()?;
    let s = store.history(None).ok()?.into_iter().next()?;
    let events = store.events(&s.uid).ok()?;
    Some((s, events))
}

fn count(events: &[Event], f: impl Fn(&Input) -> bool) -> usize {
    events.iter().filter(|e| f(&e.input)).count()
}

fn is_running(pid: u32) -> bool {
    // A zombie has ended; nobody may be left to reap it in a container.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|r| !r.trim_start().starts_with('Z'))
    })
}

/// Kills the process when dropped if it still runs (a failed test leaves
/// nothing behind).
struct Reap(u32);

impl Drop for Reap {
    fn drop(&mut self) {
        if is_running(self.0) {
            let _ = Command::new("kill")
                .args(["-KILL", &self.0.to_string()])
                .status();
        }
    }
}

/// Answers screening (three no) and the rating before, then Enter until the
/// rolling has begun (an Enter while rolling is refused and not logged).
fn answer_until_rolling(pty: &mut Pty, env: &TestEnvironment) {
    for (i, k) in [b"n", b"n", b"n", b"5"].iter().enumerate() {
        pty.keys(*k);
        wait_for("an answer to be logged", Duration::from_secs(20), || {
            live(env).filter(|(_, e)| e.len() > i)
        });
    }
    for _ in 0..8 {
        pty.keys(b"\r");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `p` pauses at once: no phase changes while the menu is open; Esc
/// resumes with no reason recorded; then the terminal is closed and the
/// process ends within a second, the session recorded as interrupted.
/// `detached`: the session is not the terminal's (`setsid`), so it gets no
/// hang-up signal, and draws to /dev/null, so no write fails: it sees only
/// the end of its input.
fn safety_keys_and_closing(detached: bool) {
    let env = TestEnvironment::new();
    let mut pty = Pty::start(
        &env,
        if detached {
            ("setsid -w", ">/dev/null")
        } else {
            ("", "")
        },
        &[
            "run",
            "upper-back",
            "--reason",
            "soreness",
            "--voice",
            "off",
            "--tempo",
            "2",
            "--reps",
            "8",
        ],
        None,
    );
    let pid = wait_for("the session to start", Duration::from_secs(30), || {
        live(&env).and_then(|(s, _)| env.store().driver_pid(&s.uid))
    });
    let _reap = Reap(pid);
    answer_until_rolling(&mut pty, &env);
    let timeouts = |e: &[Event]| count(e, |i| *i == Input::Timeout);
    wait_for("a phase change", Duration::from_secs(20), || {
        live(&env).filter(|(_, e)| timeouts(e) >= 1)
    });

    if !detached {
        // Without speech, the bell marks each turn.
        let screen = pty.screen_from(0);
        assert!(screen.contains('\x07'), "the bell rang at the turn");
    }
    let shown = pty.shown();
    pty.keys(b"p");
    let (_, events) = wait_for("the pause", Duration::from_secs(5), || {
        live(&env).filter(|(_, e)| e.last().is_some_and(|e| e.input == Input::Pause))
    });
    let phases = timeouts(&events);
    // A phase is 2 s: with the menu open for 3 s, none may begin.
    std::thread::sleep(Duration::from_secs(3));
    let (record, events) = live(&env).unwrap();
    assert_eq!(
        timeouts(&events),
        phases,
        "no new phase while the menu is open"
    );
    assert_eq!(events.last().unwrap().input, Input::Pause);
    assert_eq!(record.outcome, None);
    if !detached {
        let screen = pty.screen_from(shown);
        // (Drawn as the cells that changed: words, not whole lines.)
        assert!(screen.contains("Which"), "the menu is shown: {screen:?}");
        assert!(screen.contains("paused"), "the header says paused");
    }

    pty.keys(b"\x1b");
    wait_for("the resume", Duration::from_secs(5), || {
        live(&env).filter(|(_, e)| e.last().is_some_and(|e| e.input == Input::Resume))
    });
    let (_, events) = wait_for("the phases to go on", Duration::from_secs(10), || {
        live(&env).filter(|(_, e)| timeouts(e) > phases)
    });
    assert_eq!(
        count(&events, |i| matches!(
            i,
            Input::Pain { .. } | Input::Stop | Input::Discomfort { .. }
        )),
        0,
        "Esc records no reason: {events:?}"
    );

    // Close the terminal.
    assert!(is_running(pid));
    pty.close();
    let closed = Instant::now();
    while is_running(pid) {
        assert!(
            closed.elapsed() < Duration::from_secs(1),
            "rollcoach still runs a second after its terminal closed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Read without the recovery every command does at its start: the
    // session recorded itself.
    let (record, events) = live(&env).unwrap();
    assert_eq!(
        record.outcome,
        Some(SessionOutcome::Interrupted),
        "{record:?}"
    );
    assert_eq!(count(&events, |i| *i == Input::Pause), 1);
    assert_eq!(count(&events, |i| *i == Input::Resume), 1);
}

#[test]
fn p_pauses_at_once_esc_resumes_and_a_hang_up_records_the_session_as_interrupted() {
    safety_keys_and_closing(false);
}

#[test]
fn the_end_of_the_terminal_input_without_a_hang_up_signal_records_the_session() {
    safety_keys_and_closing(true);
}

/// A stand-in for espeak-ng: logs each utterance's start (ms since the
/// epoch), its expected length and its text, sleeps that long, and logs its
/// end; one that is cut (killed) logs no end. Its length is the engine's
/// model ([`estimate_ms`] at the rate `-s` gives), computed in awk; the test
/// checks the two agree on every text.
fn stand_in(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("speech-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("said.log");
    let prog = bin.join("espeak-ng");
    std::fs::write(
        &prog,
        format!(
            r#"#!/bin/sh
start=$(date +%s%3N)
wpm=175
while [ $# -gt 0 ]; do
  case "$1" in
    -s) wpm=$2; shift 2 ;;
    --) shift; break ;;
    *) shift ;;
  esac
done
text=$1
ms=$(printf '%s' "$text" | awk -v wpm="$wpm" '{{
  n = split($0, c, "")
  for (i = 1; i <= n; i++) {{
    ch = c[i]
    if (ch ~ /[0-9]/) d++
    else if (ch ~ /[A-Za-z]/) l++
    else if (ch ~ /[ \t]/) g++
    else if (ch ~ /[,;:()]/) k++
    else if (ch ~ /[.!?]/ && (i == n || c[i+1] ~ /[ \t]/)) e++
  }}
  ms = 400 + 53*l + 180*d + 16*g + 260*k + 370*e
  printf "%d", ms / (wpm / 175) + 0.5
}}')
printf 'start\t%s\t%s\t%s\n' "$start" "$ms" "$text" >> '{log}'
sleep $(awk -v ms="$ms" 'BEGIN {{ printf "%.3f", ms / 1000 }}')
printf 'end\t%s\t%s\n' "$(date +%s%3N)" "$text" >> '{log}'
"#,
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[derive(Debug)]
struct Said {
    text: String,
    start: u64,
    expected: u64,
    end: Option<u64>,
}

fn said(dir: &Path) -> Vec<Said> {
    let log = std::fs::read_to_string(dir.join("said.log")).unwrap_or_default();
    let mut all: Vec<Said> = Vec::new();
    for line in log.lines() {
        let f: Vec<&str> = line.splitn(4, '\t').collect();
        match f[0] {
            "start" => all.push(Said {
                text: f[3].to_string(),
                start: f[1].parse().unwrap(),
                expected: f[2].parse().unwrap(),
                end: None,
            }),
            "end" => {
                let s = all
                    .iter_mut()
                    .rev()
                    .find(|s| s.text == f[2] && s.end.is_none())
                    .expect("an end of something started");
                s.end = Some(f[1].parse().unwrap());
            }
            _ => panic!("{line}"),
        }
    }
    all
}

/// The session replayed from its log: each output with its session time.
fn replay(env: &TestEnvironment) -> Vec<(Time, Output)> {
    let store = env.store();
    let record = store.history(None).unwrap().remove(0);
    let protocol = store.protocol_snapshot(&record.uid).unwrap();
    let mut session =
        Session::new(&protocol, record.options, record.facts, record.started_at).unwrap();
    let mut outs = Vec::new();
    let mut take = |s: &mut Session, t: Time| {
        while let Some(o) = s.poll_output() {
            outs.push((t, o));
        }
    };
    take(&mut session, record.started_at);
    for e in store.events(&record.uid).unwrap() {
        let t = record.started_at.plus_ms(e.at_ms);
        session.handle(e.input, t).unwrap();
        take(&mut session, t);
    }
    outs
}

/// A whole session at `--speed 1` with the stand-in espeak-ng: every breath
/// cue starts within 150 ms of its phase, in a form the planner chose, and is
/// said whole inside its phase; no two utterances overlap; an answered
/// prompt is cut.
fn every_breath_cue_on_time(tempo: &str, rate: &str) {
    let env = TestEnvironment::new();
    let bin = stand_in(env.root());
    let mut pty = Pty::start(
        &env,
        ("", ""),
        &[
            "run",
            "upper-back",
            "--reason",
            "soreness",
            "--voice",
            "on",
            "--speed",
            "1",
            "--tempo",
            tempo,
            "--reps",
            "5",
            "--voice-rate",
            rate,
        ],
        Some(&bin),
    );
    let started = |n: usize| {
        wait_for("an utterance", Duration::from_secs(20), || {
            let s = said(env.root());
            (s.len() >= n).then_some(s)
        })
    };
    // Each prompt is answered 300 ms after it starts being said.
    for (i, k) in [b"n", b"n", b"n", b"5"].iter().enumerate() {
        started(i + 1);
        std::thread::sleep(Duration::from_millis(300));
        pty.keys(*k);
        wait_for("an answer to be logged", Duration::from_secs(20), || {
            live(&env).filter(|(_, e)| e.len() > i)
        });
    }
    // Setup steps, each answered 300 ms after it starts being said, until
    // the first breath cue.
    for n in 5..15 {
        let s = started(n);
        if s.iter().any(|s| s.text.starts_with("breathe")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
        pty.keys(b"\r");
    }
    // The rating after, once asked.
    let (record, _) = wait_for("the rating after", Duration::from_secs(60), || {
        live(&env).filter(|_| {
            replay(&env).iter().any(|(_, o)| {
                matches!(
                    o,
                    Output::Prompt(rollcoach_engine::Prompt::Rating {
                        when: rollcoach_engine::When::After,
                        ..
                    })
                )
            })
        })
    });
    pty.keys(b"4");
    wait_for("the end", Duration::from_secs(20), || {
        live(&env).filter(|(s, _)| s.outcome.is_some())
    });
    // Leave; the completion message is said to its end first.
    std::thread::sleep(Duration::from_millis(300));
    pty.keys(b"x");
    pty.wait(Duration::from_secs(20));
    let store = env.store();
    let record = store.session(&record.uid).unwrap();
    assert_eq!(record.outcome, Some(SessionOutcome::Completed));

    let said = said(env.root());
    let outs = replay(&env);
    let protocol = Arc::new(store.protocol_snapshot(&record.uid).unwrap());
    let rate: f64 = rate.parse().unwrap();
    let planner = Planner::new(protocol.clone(), rate);
    // The stand-in's lengths are the engine's (at the rate given to it as -s).
    for s in &said {
        assert_eq!(s.expected, estimate_ms(&s.text, rate), "{}", s.text);
    }
    // Nothing overlaps: each ends (or was cut, and a cut one is killed before
    // the next starts) before the next starts.
    for w in said.windows(2) {
        if let Some(end) = w[0].end {
            assert!(end <= w[1].start, "{:?} overlaps {:?}", w[0], w[1]);
        }
    }
    // Every phase has its breath cue, on time, whole, inside the phase.
    let mut phases = Vec::new();
    for (t, o) in &outs {
        if let Output::Phase {
            breath,
            direction,
            deadline,
            ..
        } = o
        {
            phases.push((t.0, deadline.0, *breath, *direction));
        }
    }
    assert_eq!(phases.len(), 10, "{outs:?}");
    let mut lateness = Vec::new();
    for (start, end, breath, direction) in &phases {
        let forms = planner.phase_forms(*breath, *direction);
        let cue = said
            .iter()
            .find(|s| s.start + 20 >= *start && s.start < *end && forms.contains(&s.text))
            .unwrap_or_else(|| panic!("no breath cue for the phase at {start}: {said:?}"));
        let late = cue.start.saturating_sub(*start);
        lateness.push(late);
        assert!(
            late <= 150,
            "`{}` started {late} ms into its phase",
            cue.text
        );
        let ended = cue
            .end
            .unwrap_or_else(|| panic!("`{}` was cut off", cue.text));
        assert!(
            ended <= end + 150,
            "`{}` ran {} ms past its phase",
            cue.text,
            ended.saturating_sub(*end)
        );
    }
    // An answered prompt was cut: the first screening question, answered
    // 300 ms into it.
    let first = said.first().unwrap();
    assert!(
        first.end.is_none() && first.expected > 1_000,
        "the answered question was cut: {first:?}"
    );
    eprintln!("tempo {tempo}, rate {rate}: breath-cue lateness (ms) {lateness:?}");
}

#[test]
fn every_breath_cue_starts_with_its_phase_at_tempo_2() {
    every_breath_cue_on_time("2", "1");
}

#[test]
fn every_breath_cue_starts_with_its_phase_at_tempo_4_with_a_slower_voice() {
    every_breath_cue_on_time("4", "0.8");
}

/// `rollcoach ARGS` on the real clock (as the full-screen session runs).
fn on_the_real_clock(env: &TestEnvironment, args: &[&str]) -> common::CommandOutput {
    let mut cmd = env.command(args);
    cmd.env_remove("ROLLCOACH_NOW");
    env.run_command(cmd, "")
}

/// Until when `rollcoach injury list` says the logged injury refuses
/// sessions (the engine's rule, in local time, `YYYY-MM-DD HH:MM`).
fn refused_until(env: &TestEnvironment) -> String {
    let list = on_the_real_clock(env, &["injury", "list"]);
    let (_, rest) = list
        .stdout
        .split_once("refuses sessions until ")
        .unwrap_or_else(|| panic!("the injury blocks: {}", list.stdout));
    rest.chars().take("YYYY-MM-DD HH:MM".len()).collect()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A protocol blocked by a logged injury is refused at once: before the
/// reasons screen, with when rolling is allowed again in local time, and
/// no count of reps.
#[test]
fn a_blocked_protocol_is_refused_before_the_reasons_with_the_time_it_is_allowed_again() {
    let env = TestEnvironment::new();
    let added = on_the_real_clock(
        &env,
        &["injury", "add", "--area", "upper-back", "--at", "2h ago"],
    );
    assert_eq!(added.code(), Some(0), "{}", added.all());
    let until = refused_until(&env);

    let mut pty = Pty::start(
        &env,
        ("", ""),
        &["run", "upper-back", "--voice", "off"],
        None,
    );
    wait_for("the refusal", Duration::from_secs(20), || {
        live(&env).filter(|(s, _)| s.outcome.is_some())
    });
    let (date, time) = until.split_once(' ').unwrap();
    wait_for("the time on screen", Duration::from_secs(10), || {
        let s = pty.screen_from(0);
        (s.contains(date) && s.contains(time)).then_some(())
    });
    pty.keys(b"q");
    pty.wait(Duration::from_secs(10));
    let screen = pty.screen_from(0);
    assert!(!screen.contains("brought"), "no reasons screen: {screen:?}");
    assert!(!screen.contains("Reps"), "no reps on a refusal: {screen:?}");
    assert!(
        screen.contains(&format!("allowed from {until} local time")),
        "the last words say when: {screen:?}"
    );
    let (record, events) = live(&env).unwrap();
    assert!(
        matches!(record.outcome, Some(SessionOutcome::Refused { .. })),
        "{record:?}"
    );
    assert!(events.is_empty(), "nothing was asked: {events:?}");
}

/// With the reasons asked on screen, the safety questions come first; a
/// "yes" to the recent-injury question refuses and offers to log it: `y`
/// (yesterday) logs an injury dated yesterday, and the screen says when
/// rolling is allowed again, in local time.
#[test]
fn a_yes_to_the_injury_question_comes_before_the_reasons_and_logs_it_yesterday() {
    let env = TestEnvironment::new();
    let mut pty = Pty::start(
        &env,
        ("", ""),
        &["run", "upper-back", "--voice", "off"],
        None,
    );
    wait_for("the first question", Duration::from_secs(20), || {
        pty.screen_from(0).contains("injured").then_some(())
    });
    assert!(
        !pty.screen_from(0).contains("brought"),
        "the question comes before the reasons"
    );
    pty.keys(b"y");
    let (record, events) = wait_for("the refusal", Duration::from_secs(20), || {
        live(&env).filter(|(s, _)| s.outcome.is_some())
    });
    assert!(
        matches!(record.outcome, Some(SessionOutcome::Refused { .. })),
        "{record:?}"
    );
    assert_eq!(events.len(), 1, "the answer is in the log: {events:?}");
    wait_for("the offer", Duration::from_secs(10), || {
        pty.screen_from(0).contains("yesterday").then_some(())
    });
    let asked = now_ms();
    pty.keys(b"y");
    let injury = wait_for("the injury to be logged", Duration::from_secs(10), || {
        env.store().list_injuries().ok()?.into_iter().next()
    });
    assert_eq!(injury.area, "upper-back");
    let day_ago = asked - 24 * 3_600_000;
    assert!(
        injury.at.0.abs_diff(day_ago) < 120_000,
        "dated yesterday at this time: {} vs {day_ago}",
        injury.at.0
    );
    let until = refused_until(&env);
    let (date, time) = until.split_once(' ').unwrap();
    wait_for(
        "the allowed-again time on screen",
        Duration::from_secs(10),
        || {
            let s = pty.screen_from(0);
            (s.contains(date) && s.contains(time)).then_some(())
        },
    );
    pty.keys(b"q");
    pty.wait(Duration::from_secs(10));
    let screen = pty.screen_from(0);
    assert!(
        screen.contains(&format!("Rolling is allowed again from {until} local time")),
        "the last words say when: {screen:?}"
    );
    assert!(!screen.contains("recent-injury"), "no ids: {screen:?}");
    assert!(!screen.contains("Reps"), "no reps on a refusal: {screen:?}");
}

/// Answering "no" to every safety question leads to the reasons screen.
#[test]
fn the_reasons_come_after_the_safety_questions() {
    let env = TestEnvironment::new();
    let bin = stand_in(env.root());
    let mut pty = Pty::start(
        &env,
        ("", ""),
        &["run", "upper-back", "--voice", "on", "--speed", "1"],
        Some(&bin),
    );
    wait_for("the first question", Duration::from_secs(20), || {
        pty.screen_from(0).contains("injured").then_some(())
    });
    // Each question is answered 300 ms after the voice starts saying it.
    for n in 1..=3 {
        wait_for("a question said", Duration::from_secs(20), || {
            (said(env.root()).len() >= n).then_some(())
        });
        std::thread::sleep(Duration::from_millis(300));
        pty.keys(b"n");
    }
    wait_for("the reasons", Duration::from_secs(10), || {
        pty.screen_from(0).contains("brought").then_some(())
    });
    assert!(live(&env).is_none(), "nothing recorded yet");
    // The safety questions were spoken before the session, in order, each
    // cut off when it was answered.
    let questions: Vec<String> = rollcoach_protocol::builtin()
        .remove(0)
        .screening
        .questions
        .iter()
        .map(|q| q.text.clone())
        .collect();
    let spoken = wait_for("the last question cut", Duration::from_secs(5), || {
        let s = said(env.root());
        (s.len() >= 3).then_some(s)
    });
    assert_eq!(
        spoken.iter().map(|s| s.text.clone()).collect::<Vec<_>>(),
        questions,
        "{spoken:?}"
    );
    assert!(spoken.iter().all(|s| s.end.is_none()), "{spoken:?}");
    pty.keys(b"1\r");
    let (_, events) = wait_for("the session", Duration::from_secs(20), || {
        live(&env).filter(|(_, e)| e.len() >= 3)
    });
    assert!(
        events
            .iter()
            .take(3)
            .all(|e| matches!(e.input, Input::Answer { .. })),
        "the three answers are given to the session as it starts: {events:?}"
    );
    // Stop at the rating before, then leave the end screen.
    pty.keys(b"q");
    wait_for("the stop", Duration::from_secs(10), || {
        live(&env).filter(|(s, _)| s.outcome.is_some())
    });
    pty.keys(b"q");
    pty.wait(Duration::from_secs(10));
}

/// Protocol text on the full-screen view is shown with control and bidi
/// characters escaped, as everywhere else rollcoach prints; a protocol file
/// holding a terminal title-setting sequence and a right-to-left override
/// is refused before any screen is drawn (issue 24, finding 4: the import
/// refused its sessions), the field named, and neither reaches the terminal
/// raw.
#[test]
fn protocol_text_on_the_full_screen_view_is_escaped() {
    let env = TestEnvironment::new();
    let source = include_str!("../../../protocols/upper-back.toml");
    let hostile = source
        .replacen("id = \"upper-back\"\n", "id = \"noisy\"\n", 1)
        .replacen(
            "title = \"Foam rolling",
            "title = \"\\u001b]0;owned\\u0007\\u202eFoam rolling",
            1,
        );
    assert_ne!(hostile, source, "the fixture no longer holds the title");
    env.write_protocol("noisy.toml", &hostile);
    let path = env.protocols_dir().join("noisy.toml");
    let path = path.to_str().unwrap();
    let mut pty = Pty::start(&env, ("", ""), &["run", path, "--voice", "off"], None);
    wait_for("the refusal", Duration::from_secs(20), || {
        pty.screen_from(0)
            .contains("`title` holds U+001B")
            .then_some(())
    });
    pty.wait(Duration::from_secs(10));
    let screen = pty.screen_from(0);
    assert!(!screen.contains('\u{202e}'), "a raw override: {screen:?}");
    assert!(
        !screen.contains("\u{1b}]0;owned"),
        "a raw title sequence: {screen:?}"
    );
}
