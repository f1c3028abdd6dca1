//! Issue 19, one way in: what `rollcoach` takes on its command line is
//! parsed by the store's domain types (`rollcoach_store::domain`), the
//! rules `POST /api/injuries`, sync and import apply, so nothing it writes
//! is refused by its own import (issue 24: a note with an escape sequence, a
//! date in 1999, a session run with the clock before 2000 were written).

mod common;

use common::TestEnvironment;
use rollcoach_store::Speed;

const NOW: &str = "2026-11-25T15:00:00Z";

fn env() -> TestEnvironment {
    TestEnvironment::new().with_now(NOW)
}

fn no_injuries(env: &TestEnvironment) {
    let list = env.run(&["injury", "list", "--json"]);
    assert_eq!(list.stdout.trim(), "[]", "{}", list.all());
}

#[test]
fn a_note_with_an_escape_sequence_is_refused_naming_the_note() {
    let env = env();
    for note in ["\u{1b}[31m", "bell\u{7}", "\u{202e}evil", "a\rb"] {
        let run = env.run(&["injury", "add", "--area", "upper-back", "--note", note]);
        assert_eq!(run.code(), Some(2), "{note:?}: {}", run.all());
        assert!(
            run.stderr.contains("the note holds")
                && run.stderr.contains("which a terminal would act on")
                && run
                    .stderr
                    .contains("remove the control characters from the note"),
            "{note:?}: {}",
            run.stderr
        );
    }
    let long = "x".repeat(501);
    let run = env.run(&["injury", "add", "--area", "upper-back", "--note", &long]);
    assert_eq!(run.code(), Some(2), "{}", run.all());
    assert!(run.stderr.contains("501 characters"), "{}", run.stderr);
    no_injuries(&env);
}

#[test]
fn an_injury_dated_before_2000_is_refused() {
    let env = env();
    for at in ["1999-12-31T23:59:59Z", "1970-01-01T00:00:00Z"] {
        let run = env.run(&["injury", "add", "--area", "upper-back", "--at", at]);
        assert_eq!(run.code(), Some(2), "{at}: {}", run.all());
        assert!(
            run.stderr
                .contains("an injury cannot be dated before 2000-01-01T00:00:00Z")
                && run.stderr.contains("give when the injury happened"),
            "{at}: {}",
            run.stderr
        );
    }
    no_injuries(&env);
}

#[test]
fn a_speed_of_0_1001_or_nan_is_refused_with_the_same_words_everywhere() {
    let env = env();
    let dir = env.path("app");
    let dir = dir.to_str().unwrap();
    for speed in ["0", "1001", "NaN"] {
        let words = Speed::parse(speed.parse().unwrap())
            .unwrap_err()
            .to_string();
        let arg = format!("--speed={speed}");
        for args in [
            vec!["serve", "--addr", "127.0.0.1:0", &arg],
            vec!["web", "export", dir, &arg],
            vec!["run", "upper-back", &arg],
        ] {
            let run = env.run(&args);
            assert_eq!(run.code(), Some(2), "{args:?}: {}", run.all());
            assert!(run.stderr.contains("--speed"), "{args:?}: {}", run.stderr);
            assert!(
                run.stderr.contains(&words),
                "{args:?}: {} does not say {words:?}",
                run.stderr
            );
        }
    }
    assert!(!env.path("app").exists(), "nothing was written");
}

#[test]
fn a_session_is_not_run_on_a_clock_before_2000() {
    let env = TestEnvironment::new().with_now("1999-06-01T12:00:00Z");
    let run = env.run_session(&[], "no\nno\nno\n");
    assert_eq!(run.code(), Some(2), "{}", run.all());
    assert!(
        run.stderr.contains("this computer's clock") && run.stderr.contains("is before 2000-01-01"),
        "{}",
        run.stderr
    );
    assert!(
        !env.db().exists() || env.store_history_is_empty(),
        "nothing was recorded"
    );
}

/// What `injury add` accepts, its own import accepts: every accepted note
/// (a newline, a tab, other scripts, 500 characters) and time (2000, the
/// clock skew) exports and imports into another database.
#[test]
fn what_injury_add_logs_re_imports() {
    let env = env();
    let notes = [
        "fell on it\nat the gym",
        "\tindented",
        "épaule — 肩 🙂",
        &"n".repeat(500),
    ];
    for note in notes {
        let run = env.run(&["injury", "add", "--area", "upper-back", "--note", note]);
        assert_eq!(run.code(), Some(0), "{note:?}: {}", run.all());
    }
    for at in ["2000-01-01T00:00:00Z", "2026-11-25T15:04:00Z"] {
        let run = env.run(&["injury", "add", "--area", "upper-back", "--at", at]);
        assert_eq!(run.code(), Some(0), "{at}: {}", run.all());
    }
    let file = env.path("export.json");
    let file = file.to_str().unwrap();
    let export = env.run(&["export", "--format", "json", "-o", file]);
    assert_eq!(export.code(), Some(0), "{}", export.all());
    let other = TestEnvironment::new().with_now(NOW);
    let import = other.run(&["import", file]);
    assert_eq!(import.code(), Some(0), "{}", import.all());
    let list = other.run(&["injury", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), notes.len() + 2);
}

/// Any note and time `injury add` might be given (NUL aside: a command
/// line cannot hold one): what it logs, the export of it imports.
mod any_input {
    use super::*;
    use proptest::prelude::*;

    const NOW_MS: i64 = 1_795_618_800_000; // NOW

    fn note() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => "[a-zA-Z0-9 .,!?-]{0,20}",
            1 => Just("\n".to_owned()),
            1 => Just("\t".to_owned()),
            1 => Just("\u{1b}[31m".to_owned()),
            1 => Just("\u{7}".to_owned()),
            1 => Just("\u{202e}".to_owned()),
            1 => Just("\r".to_owned()),
            1 => Just("épaule 肩 🙂".to_owned()),
            1 => "[a-z]{100,150}",
        ];
        prop::collection::vec(piece, 0..6).prop_map(|v| v.concat())
    }

    /// Milliseconds before NOW (negative: after), 1970 to a day ahead.
    fn ago() -> impl Strategy<Value = i64> {
        const DAY: i64 = 86_400_000;
        prop_oneof![
            3 => 0..30 * DAY,
            1 => -DAY..0,
            1 => Just(-5 * 60_000),
            1 => 0..60 * 365 * DAY,
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]

        #[test]
        fn what_injury_add_accepts_re_imports(
            inputs in prop::collection::vec((note(), ago()), 1..4)
        ) {
            let env = env();
            let mut logged = 0;
            for (note, ago) in &inputs {
                let at = jiff::Timestamp::from_millisecond(NOW_MS - ago).unwrap().to_string();
                let run = env.run(&["injury", "add", "--area", "upper-back", "--at", &at, "--note", note]);
                prop_assert!(matches!(run.code(), Some(0 | 2)), "{}", run.all());
                logged += usize::from(run.code() == Some(0));
            }
            let file = env.path("export.json");
            let file = file.to_str().unwrap();
            let export = env.run(&["export", "--format", "json", "-o", file]);
            prop_assert_eq!(export.code(), Some(0), "{}", export.all());
            let other = TestEnvironment::new().with_now(NOW);
            let import = other.run(&["import", file]);
            prop_assert_eq!(import.code(), Some(0), "{:?}: {}", inputs, import.all());
            let list = other.run(&["injury", "list", "--json"]);
            let listed: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
            prop_assert_eq!(listed.as_array().unwrap().len(), logged);
        }
    }
}

trait History {
    fn store_history_is_empty(&self) -> bool;
}

impl History for TestEnvironment {
    fn store_history_is_empty(&self) -> bool {
        self.store().history(None).unwrap().is_empty()
    }
}
