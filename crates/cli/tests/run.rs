//! `rollcoach run` end to end: the real binary, a temporary database, time
//! pinned with ROLLCOACH_NOW, the virtual clock (`--speed max`) and a script
//! on stdin; stdout, stderr and the exit code are snapshotted.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::TestEnvironment;
use rollcoach_engine::Time;
use rollcoach_store::SessionOutcome;

/// 2026-11-25T10:00:00Z, the pinned "now" of every test.
const NOW: &str = "2026-11-25T10:00:00Z";
const NOW_MS: u64 = 1_795_600_800_000;
const HOUR_MS: u64 = 3_600_000;

/// The three screening answers that let a session go on, and the four setup steps.
const SCREENING_OK: &str = "no\nno\nno\n";
const SETUP: &str = "ready\nready\nready\nready\nready\n";

/// A new environment at [`NOW`], in UTC.
fn test_env() -> TestEnvironment {
    TestEnvironment::new().with_now(NOW).with_tz("UTC")
}

fn script(parts: &[&str]) -> String {
    parts.concat()
}

#[test]
fn a_whole_session_completes_with_ratings_before_and_after() {
    let env = test_env();
    let run = env.run_session(
        &["--reason", "soreness"],
        &script(&[SCREENING_OK, "rate 6\n", SETUP, "rate 4\n"]),
    );
    insta::assert_snapshot!(run.all());
    let history = env.store().history(None).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].outcome, Some(SessionOutcome::Completed));
    assert_eq!(history[0].reps_done, Some(6));
}

#[test]
fn a_yes_to_the_injury_question_refuses_the_session() {
    let env = test_env();
    let run = env.run_session(&[], "yes\nno\nno\n");
    insta::assert_snapshot!(run.all());
}

#[test]
fn an_injury_in_the_log_refuses_and_says_when_it_becomes_allowed() {
    let env = test_env();
    env.store()
        .add_injury(
            "upper-back",
            Time(NOW_MS - 10 * HOUR_MS),
            Some("tweaked it lifting"),
            Time(NOW_MS - 9 * HOUR_MS),
        )
        .unwrap();
    let run = env.run_session(&[], &script(&[SCREENING_OK, SETUP]));
    insta::assert_snapshot!(run.all());
    assert!(
        run.stdout.contains("2026-11-27 00:00 local time"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_injury_more_than_48_hours_ago_no_longer_refuses() {
    let env = test_env();
    env.store()
        .add_injury(
            "upper-back",
            Time(NOW_MS - 49 * HOUR_MS),
            None,
            Time(NOW_MS - 49 * HOUR_MS),
        )
        .unwrap();
    let run = env.run_session(&[], &script(&[SCREENING_OK, SETUP]));
    insta::assert_snapshot!(run.tail(2));
}

#[test]
fn pain_with_a_pop_stops_the_session() {
    let env = test_env();
    let run = env.run_session(&[], &script(&[SCREENING_OK, SETUP, "@10.5 pain pop\n"]));
    insta::assert_snapshot!(run.tail(3));
}

#[test]
fn pain_over_the_spine_stops_the_session() {
    let env = test_env();
    let run = env.run_session(&[], &script(&[SCREENING_OK, SETUP, "@17 pain spine\n"]));
    insta::assert_snapshot!(run.tail(3));
}

#[test]
fn sharp_or_radiating_pain_stops_the_session() {
    let env = test_env();
    let run = env.run_session(&[], &script(&[SCREENING_OK, SETUP, "@3 pain sharp\n"]));
    insta::assert_snapshot!(run.tail(3));
}

#[test]
fn other_pain_stops_the_session() {
    let env = test_env();
    let run = env.run_session(&[], &script(&[SCREENING_OK, SETUP, "@5 pain\n"]));
    insta::assert_snapshot!(run.tail(3));
}

#[test]
fn too_much_discomfort_stops_the_session_and_some_does_not() {
    let env = test_env();
    let run = env.run_session(
        &[],
        &script(&[SCREENING_OK, SETUP, "@6 discomfort 7\n@9 discomfort 8\n"]),
    );
    insta::assert_snapshot!(run.tail(7));
}

#[test]
fn the_person_can_stop_at_any_time() {
    let env = test_env();
    let run = env.run_session(&[], &script(&[SCREENING_OK, SETUP, "@20 stop\n"]));
    insta::assert_snapshot!(run.tail(3));
    let history = env.store().history(None).unwrap();
    assert_eq!(history[0].reason.as_deref(), Some("by-person"));
    assert_eq!(history[0].reps_done, Some(2));
}

#[test]
fn a_noise_without_pain_is_logged_and_the_session_goes_on() {
    let env = test_env();
    let run = env.run_session(&[], &script(&[SCREENING_OK, SETUP, "@9 noise\n"]));
    let around: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("[00:08") || l.starts_with("[00:09"))
        .collect();
    insta::assert_snapshot!(format!("{}\n{}", around.join("\n"), run.tail(1)));
}

#[test]
fn pause_freezes_the_phase_and_resume_continues_it() {
    let env = test_env();
    let run = env.run_session(
        &["--reps", "5"],
        &script(&[SCREENING_OK, SETUP, "@5 pause\n@65 resume\n@66 switch\n"]),
    );
    let rolling: Vec<&str> = run
        .stdout
        .lines()
        .skip_while(|l| !l.contains("== rolling =="))
        .filter(|l| !l.contains("say:"))
        .collect();
    insta::assert_snapshot!(format!("exit: {:?}\n{}", run.code(), rolling.join("\n")));
}

#[test]
fn a_phase_cue_is_printed_in_the_wording_the_voice_says_for_its_tempo() {
    let cues = |tempo: &str| -> Vec<String> {
        let run = stdout_at_tempo(tempo);
        run.lines()
            .skip_while(|l| !l.contains("== rolling =="))
            .filter_map(|l| l.split_once("say: ").map(|(_, c)| c.to_string()))
            .take(2)
            .collect()
    };
    // At 4 s a direction the whole cue fits; at 2 s only the short one does.
    assert_eq!(
        cues("4"),
        [
            "breathe in, roll toward your neck",
            "breathe out, roll back to your shoulder blades"
        ]
    );
    assert_eq!(cues("2"), ["in, to your neck", "out, back down"]);
}

fn stdout_at_tempo(tempo: &str) -> String {
    let env = test_env();
    env.run_session(
        &["--reps", "5", "--tempo", tempo],
        &script(&[SCREENING_OK, SETUP]),
    )
    .stdout
}

#[test]
fn reps_outside_the_protocol_range_are_a_usage_error() {
    let env = test_env();
    let high = env.run_session(&["--reps", "9"], SCREENING_OK);
    let low = env.run_session(&["--reps", "4"], SCREENING_OK);
    let tempo = env.run_session(&["--tempo", "10"], SCREENING_OK);
    let reason = env.run_session(&["--reason", "knees"], SCREENING_OK);
    insta::assert_snapshot!(format!(
        "{}{}{}{}",
        high.all(),
        low.all(),
        tempo.all(),
        reason.all()
    ));
    assert!(env.store().history(None).unwrap().is_empty());
}

#[test]
fn a_malformed_script_line_is_reported_with_its_number_and_nothing_runs() {
    let env = test_env();
    let run = env.run_session(&[], "no\nno # fine\n\nnope\nrate eleven\n");
    insta::assert_snapshot!(run.all());
    assert!(env.store().history(None).unwrap().is_empty());
}

#[test]
fn an_out_of_place_line_is_reported_with_its_number_and_nothing_is_recorded() {
    let env = test_env();
    let run = env.run_session(&[], "no\nno\nno\nready\npause\nready\n");
    insta::assert_snapshot!(run.all());
    assert!(env.store().history(None).unwrap().is_empty());
}

#[test]
fn a_time_already_passed_is_out_of_place() {
    let env = test_env();
    // The first after-rating waits for the rolling to end (48 s), so @30 is in the past.
    let run = env.run_session(
        &["--reason", "posture", "--reason", "soreness"],
        &script(&[SCREENING_OK, "skip\nskip\n", SETUP, "rate 3\n@30 rate 2\n"]),
    );
    insta::assert_snapshot!(run.all());
}

#[test]
fn a_script_that_ends_early_is_recorded_as_stopped_by_the_person() {
    let env = test_env();
    let run = env.run_session(&[], "no\nno\n");
    insta::assert_snapshot!(run.tail(1));
    let history = env.store().history(None).unwrap();
    assert_eq!(history[0].reason.as_deref(), Some("by-person"));
}

#[test]
fn json_lines_have_a_type_prompts_a_kind_and_the_end_an_outcome_and_reason() {
    let env = test_env();
    let run = env.run_session(
        &["--json", "--reps", "5"],
        &script(&[SCREENING_OK, SETUP, "@9 pain spine\n"]),
    );
    assert_eq!(run.code(), Some(3), "{}", run.stderr);
    let values: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(values.iter().all(|v| v["type"].is_string()));
    let prompt = values.iter().find(|v| v["type"] == "prompt").unwrap();
    assert_eq!(prompt["kind"], "screening");
    let phase = values.iter().find(|v| v["type"] == "phase").unwrap();
    for field in ["rep", "of", "direction", "breath"] {
        assert!(!phase[field].is_null(), "phase lacks {field}: {phase}");
    }
    let end = values.last().unwrap();
    assert_eq!(end["type"], "end");
    assert_eq!(end["outcome"], "stopped");
    assert_eq!(end["reason"], "pain-over-spine");
    let shown: Vec<String> = values
        .iter()
        .filter(|v| v["type"] != "cue")
        .map(|v| v.to_string())
        .collect();
    insta::assert_snapshot!(shown.join("\n"));
}

#[test]
fn voice_on_without_espeak_ng_is_a_usage_error_with_the_install_hint() {
    let env = test_env();
    let mut cmd = env.command(&["run", "upper-back", "--voice", "on", "--speed", "max"]);
    cmd.env("PATH", env.root());
    let out = env.run_command(cmd, "");
    assert_eq!(out.code(), Some(2));
    let stderr = out.stderr;
    assert!(stderr.contains("apt-get install espeak-ng"), "{stderr}");
}

#[test]
fn an_unknown_protocol_is_a_usage_error() {
    let env = test_env();
    let run = env.run(&["run", "lower-back", "--speed", "max"]);
    assert_eq!(run.code(), Some(2), "{}", run.stderr);
}

/// kill -9 in the middle of the rolling: the database stays consistent, and
/// the next command records the session as interrupted with the reps its log did.
#[test]
fn a_session_killed_mid_rolling_is_recovered_as_interrupted() {
    let env = test_env();
    // 6 s per direction at 3x speed: each phase takes 2 s of real time.
    let mut child = env
        .command(&[
            "run",
            "upper-back",
            "--speed",
            "3",
            "--tempo",
            "6",
            "--reps",
            "8",
        ])
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script(&[SCREENING_OK, SETUP, "@600 stop\n"]).as_bytes())
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "no rep 2 before the end"
        );
        if line.contains("rep 2 of 8: breathe") {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // The next command opens the store, which recovers the session.
    let history = env.run(&["history", "--json"]);
    assert_eq!(history.code(), Some(0), "{}", history.stderr);
    assert!(
        history
            .stderr
            .contains("recorded as interrupted after 1 of 8 reps"),
        "{}",
        history.stderr
    );
    let json: serde_json::Value = serde_json::from_str(&history.stdout).unwrap();
    let killed = &json["sessions"][0];
    assert_eq!(killed["outcome"]["outcome"], "interrupted", "{killed}");
    assert_eq!(killed["reps_done"], 1);
    assert_eq!(killed["reps_target"], 8);

    let store = env.store();
    let id = store.history(None).unwrap()[0].uid.clone();
    let events = store.events(&id).unwrap();
    assert_eq!(
        events.last().unwrap().at_ms,
        12_000,
        "the last input logged is the timeout that started rep 2"
    );

    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn a_script_without_events_is_a_usage_error_and_records_nothing() {
    let env = test_env();
    let run = env.run_session(&[], "# nothing here\n\n");
    insta::assert_snapshot!(run.all());
    assert!(env.store().history(None).unwrap().is_empty());
}

#[test]
fn a_timed_answer_happens_at_its_time_and_untimed_ones_take_no_time() {
    let env = test_env();
    let run = env.run_session(&[], "@5 no\nno\n@7.25 no\nstop\n");
    let times: Vec<&str> = run.stdout.lines().map(|l| &l[..9]).collect();
    insta::assert_snapshot!(format!("{}\n{}", times.join(" "), run.tail(1)));
}

/// Polls `check` every 20 ms until it gives a value; fails after 30 s.
fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The full-screen session in a real terminal (`script` gives it a pty),
/// sent SIGTERM while rolling: it restores the terminal, records the session
/// as interrupted with its reps, and says so.
#[test]
fn a_signal_mid_session_restores_the_terminal_and_records_the_session() {
    let env = test_env();
    let rollcoach = format!(
        "{} --db {} run upper-back --reason soreness --voice off",
        env!("CARGO_BIN_EXE_rollcoach"),
        env.db().display()
    );
    let mut script = Command::new("script");
    env.pin(&mut script);
    let mut script = script
        .args(["-qec", &rollcoach, "/dev/null"])
        // The real PATH, to find script(1); the session is silent (--voice off).
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        // The full-screen session runs on the real clock.
        .env_remove("ROLLCOACH_NOW")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) runs the session in a pseudo-terminal");
    let mut keys = script.stdin.take().unwrap();
    // The session row exists once the screen is up, in raw mode.
    let live = |env: &TestEnvironment| -> Option<(String, u32, usize)> {
        let store = common::OwnerStore::open(env.db()).ok()?;
        let s = store.unfinished().ok()?.into_iter().next()?;
        let events = store.events(&s.uid).ok()?.len();
        let pid = store.driver_pid(&s.uid)?;
        Some((s.uid, pid, events))
    };
    let (_, pid, _) = wait_for("the session to start", || live(&env));
    // Screening (three no), the soreness rating before, five setup steps.
    keys.write_all(b"nnn").unwrap();
    keys.flush().unwrap();
    wait_for("the screening answers", || live(&env).filter(|l| l.2 >= 3));
    keys.write_all(b"5").unwrap();
    keys.flush().unwrap();
    wait_for("the rating", || live(&env).filter(|l| l.2 >= 4));
    keys.write_all(b"\r\r\r\r\r").unwrap();
    keys.flush().unwrap();
    // Rolling: the first phase change after the last "ready" is logged.
    wait_for("a phase change", || live(&env).filter(|l| l.2 >= 10));
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    drop(keys);
    let out = script.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        screen.contains("\u{1b}[?1049l"),
        "the alternate screen is left"
    );
    assert!(
        screen.contains("Interrupted by a signal: the session is recorded as interrupted after"),
        "{}",
        screen.chars().rev().take(400).collect::<String>()
    );
    let store = env.store();
    let history = store.history(None).unwrap();
    assert_eq!(history.len(), 1);
    assert!(
        matches!(history[0].outcome, Some(SessionOutcome::Interrupted)),
        "{:?}",
        history[0].outcome
    );
    assert!(store.unfinished().unwrap().is_empty());
}
