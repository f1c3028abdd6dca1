//! The data commands end to end: `injury`, `history`, `export`, `import`.
//! The real binary, a temporary database, "now" pinned with ROLLCOACH_NOW
//! and local time with TZ; stdout, stderr and the exit code are snapshotted.
//! Sessions are made the way a person makes them: `rollcoach run` with a
//! script on stdin, on the virtual clock.

mod common;

use std::path::Path;

use common::{CommandOutput, TestEnvironment};

/// Wednesday 2026-11-25, 15:00 UTC (10:00 in New York), the default "now".
const NOW: &str = "2026-11-25T15:00:00Z";
/// Local time of every test: New York's rules as a POSIX TZ string (needs no
/// tzdata); not UTC, so local dates are really local.
const TZ: &str = "EST5EDT,M3.2.0,M11.1.0";

const SCREENING_OK: &str = "no\nno\nno\n";
const SETUP: &str = "ready\nready\nready\nready\nready\n";

/// A new environment at [`NOW`], in New York.
fn test_env() -> TestEnvironment {
    TestEnvironment::new().with_now(NOW).with_tz(TZ)
}

/// The data commands' ways of running rollcoach in the shared environment.
trait DataCommands {
    /// `rollcoach ARGS` at `now` with `stdin`, against `db`.
    fn run_with(&self, db: &Path, now: &str, args: &[&str], stdin: &str) -> CommandOutput;
    /// `rollcoach ARGS` at `now`.
    fn at(&self, now: &str, args: &[&str]) -> CommandOutput;
    /// `rollcoach ARGS` at [`NOW`].
    fn cmd(&self, args: &[&str]) -> CommandOutput;
    /// A session of upper-back at `now`, driven by `script`; must exit with `code`.
    fn session(&self, now: &str, args: &[&str], script: &str, code: i32);
    /// Four sessions over a week, as a person would leave them.
    fn fill(&self);
}

impl DataCommands for TestEnvironment {
    fn run_with(&self, db: &Path, now: &str, args: &[&str], stdin: &str) -> CommandOutput {
        let mut cmd = self.command(args);
        cmd.env("ROLLCOACH_DB", db).env("ROLLCOACH_NOW", now);
        self.run_command(cmd, stdin)
    }

    fn at(&self, now: &str, args: &[&str]) -> CommandOutput {
        self.run_with(&self.db(), now, args, "")
    }

    fn cmd(&self, args: &[&str]) -> CommandOutput {
        self.at(NOW, args)
    }

    fn session(&self, now: &str, args: &[&str], script: &str, code: i32) {
        let mut all = vec!["run", "upper-back", "--speed", "max"];
        all.extend_from_slice(args);
        let run = self.run_with(&self.db(), now, &all, script);
        assert_eq!(run.code(), Some(code), "{}", run.all());
    }

    fn fill(&self) {
        let soreness = ["--reason", "soreness"];
        // Friday: completed, soreness 7 -> 4.
        self.session(
            "2026-11-20T14:00:00Z",
            &soreness,
            &[SCREENING_OK, "rate 7\n", SETUP, "rate 4\n"].concat(),
            0,
        );
        // Monday: pain with a pop in the second rep.
        self.session(
            "2026-11-23T23:00:00Z",
            &soreness,
            &[SCREENING_OK, "rate 6\n", SETUP, "@10 pain pop\n"].concat(),
            3,
        );
        // Tuesday: completed, two reasons, soreness 5 -> 3, overhead 4 -> 7.
        self.session(
            "2026-11-24T13:00:00Z",
            &[
                "--reason",
                "soreness",
                "--reason",
                "overhead-block",
                "--reps",
                "5",
            ],
            &[SCREENING_OK, "rate 5\nrate 4\n", SETUP, "rate 3\nrate 7\n"].concat(),
            0,
        );
        // Wednesday morning: refused by an answer.
        self.session("2026-11-25T12:30:00Z", &[], "yes\n", 4);
    }
}

/// Replaces the random uids and the pids in JSON or text with placeholders.
fn redact(text: &str, uids: &[String]) -> String {
    let mut out = text.to_owned();
    for (i, uid) in uids.iter().enumerate() {
        out = out.replace(uid, &format!("[uid {}]", i + 1));
    }
    let re_pid = "\"owner_pid\": ";
    out.lines()
        .map(|l| match l.find(re_pid) {
            Some(i) => format!(
                "{}{re_pid}[pid]{}",
                &l[..i],
                if l.ends_with(',') { "," } else { "" }
            ),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The uids of the sessions in `db`, oldest first.
fn uids(db: &Path) -> Vec<String> {
    let mut h = common::OwnerStore::open(db).unwrap().history(None).unwrap();
    h.reverse();
    h.into_iter().map(|r| r.uid).collect()
}

// ----- injury -------------------------------------------------------------

#[test]
fn injuries_are_added_listed_and_cleared() {
    let env = test_env();
    let mut out = String::new();
    for args in [
        &["injury", "list"][..],
        &[
            "injury",
            "add",
            "--area",
            "upper-back",
            "--at",
            "2h ago",
            "--note",
            "slipped, landed on my back",
        ],
        &[
            "injury",
            "add",
            "--area",
            "upper-back",
            "--at",
            "2026-11-20 08:15",
        ],
        &["injury", "add", "--area", "upper-back"],
        &["injury", "list"],
        &["injury", "clear", "1"],
        &["injury", "list"],
        &["injury", "list", "--json"],
    ] {
        out.push_str(&format!(
            "$ rollcoach {}\n{}\n",
            args.join(" "),
            env.cmd(args).all()
        ));
    }
    // Each injury has its own uid (random): the time it was logged, then 64
    // random bits.
    let injuries = common::OwnerStore::open(env.db())
        .unwrap()
        .list_injuries()
        .unwrap();
    for (n, i) in injuries.iter().enumerate() {
        assert!(out.contains(&format!("\"uid\": \"{}\"", i.uid)), "{out}");
        assert_eq!(i.uid.split('-').count(), 2, "{}", i.uid);
        out = out.replace(&i.uid, &format!("[injury uid {}]", n + 1));
    }
    insta::assert_snapshot!("injuries_are_added_listed_and_cleared", out);
}

#[test]
fn a_logged_injury_refuses_a_session_until_its_window_has_passed() {
    let env = test_env();
    let add = env.cmd(&["injury", "add", "--area", "upper-back", "--at", "yesterday"]);
    assert_eq!(add.code(), Some(0), "{}", add.all());
    env.session(NOW, &[], SCREENING_OK, 4);
    env.session("2026-11-26T15:00:01Z", &[], SCREENING_OK, 3);
    let out = env.at("2026-11-26T16:00:00Z", &["injury", "list"]);
    insta::assert_snapshot!(
        "a_logged_injury_refuses_until_its_window_has_passed",
        out.all()
    );
}

#[test]
fn bad_injury_input_is_a_usage_error_that_says_what_is_accepted() {
    let env = test_env();
    let mut out = String::new();
    for args in [
        &[
            "injury",
            "add",
            "--area",
            "upper-back",
            "--at",
            "last tuesday",
        ][..],
        &[
            "injury",
            "add",
            "--area",
            "upper-back",
            "--at",
            "2026-12-01 10:00",
        ],
        &["injury", "add", "--area", "upperback"],
        &["injury", "clear", "7"],
        &["injury", "clear", "seven"],
    ] {
        out.push_str(&format!(
            "$ rollcoach {}\n{}\n",
            args.join(" "),
            env.cmd(args).all()
        ));
    }
    env.cmd(&["injury", "add", "--area", "upper-back"]);
    env.cmd(&["injury", "clear", "1"]);
    let again = env.cmd(&["injury", "clear", "1"]);
    out.push_str(&format!(
        "$ rollcoach injury clear 1 (again)\n{}",
        again.all()
    ));
    insta::assert_snapshot!("bad_injury_input_is_a_usage_error", out);
    assert!(
        env.cmd(&["injury", "list", "--json"])
            .stdout
            .matches("\"id\"")
            .count()
            == 1
    );
}

/// The refusal `POST /api/injuries` and import give, word for word
/// (crates/server/tests/api.rs asserts the same text).
const FUTURE_INJURY: &str = "an injury cannot be dated in the future: the time given is 6 days \
ahead of now; give when the injury happened, or leave the time out to log it now";

#[test]
fn a_future_dated_injury_is_refused_with_the_same_words_as_the_api_and_nothing_is_logged() {
    let env = test_env();
    let run = env.cmd(&[
        "injury",
        "add",
        "--area",
        "upper-back",
        "--at",
        "2026-12-01T15:00:00Z",
    ]);
    assert_eq!(run.code(), Some(2), "{}", run.all());
    assert_eq!(run.stderr, format!("error: {FUTURE_INJURY}\n"));
    assert_eq!(run.stdout, "");
    assert_eq!(env.cmd(&["injury", "list", "--json"]).stdout.trim(), "[]");
}

#[test]
fn import_refuses_the_same_future_dated_injury_with_the_same_words() {
    let env = test_env();
    // Logged at NOW (2026-11-25T15:00Z), dated six days later.
    let doc = r#"{"format":"rollcoach-export","version":1,"exported_at":1795618800000,
        "sessions":[],
        "injuries":[{"area":"upper-back","at":1796137200000,"note":null,
                     "created_at":1795618800000,"cleared_at":null}]}"#;
    let file = env.write_file("future.json", doc);
    let run = env.cmd(&["import", file.to_str().unwrap()]);
    assert_eq!(run.code(), Some(2), "{}", run.all());
    assert!(run.stderr.contains(FUTURE_INJURY), "{}", run.all());
    assert!(run.stderr.contains("nothing was imported"), "{}", run.all());
    assert_eq!(env.cmd(&["injury", "list", "--json"]).stdout.trim(), "[]");
}

/// Issue 13, finding 4: an export of before injuries had uids, with two
/// injuries logged in the same millisecond (the first cleared): both are
/// imported, the active one still refuses the session, and importing the
/// file again adds nothing.
#[test]
fn an_old_export_s_twin_injuries_both_arrive_and_the_active_one_refuses() {
    let env = test_env();
    // Logged two hours before NOW (2026-11-25T15:00Z).
    let doc = r#"{"format":"rollcoach-export","version":1,"exported_at":1795618800000,
        "sessions":[],
        "injuries":[
          {"area":"upper-back","at":1795611600000,"note":"cleared one","created_at":1795611600000,"cleared_at":1795611600001},
          {"area":"upper-back","at":1795611600000,"note":"active one","created_at":1795611600000,"cleared_at":null}]}"#;
    let file = env.write_file("old.json", doc);
    let run = env.cmd(&["import", file.to_str().unwrap()]);
    assert_eq!(run.code(), Some(0), "{}", run.all());
    assert!(
        run.stdout
            .contains("Imported 0 of 0 sessions and 2 of 2 injuries"),
        "{}",
        run.all()
    );
    let list: serde_json::Value =
        serde_json::from_str(&env.cmd(&["injury", "list", "--json"]).stdout).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[1]["note"], "active one");
    assert!(list[1]["cleared_at"].is_null());
    assert_ne!(list[0]["uid"], list[1]["uid"]);
    env.session(NOW, &[], SCREENING_OK, 4);
    let again = env.cmd(&["import", file.to_str().unwrap()]);
    assert!(
        again
            .stdout
            .contains("Skipped 2 injuries already in the database (same uid)."),
        "{}",
        again.all()
    );
    assert_eq!(
        common::OwnerStore::open(env.db())
            .unwrap()
            .list_injuries()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn an_injury_a_few_minutes_ahead_is_clock_skew_and_logged_as_now() {
    let env = test_env();
    let run = env.cmd(&[
        "injury",
        "add",
        "--area",
        "upper-back",
        "--at",
        "2026-11-25T15:04:00Z",
    ]);
    assert_eq!(run.code(), Some(0), "{}", run.all());
    // 15:00 UTC is 10:00 in New York: recorded as now, not 10:04.
    assert!(
        run.stdout.contains("upper-back at 2026-11-25 10:00."),
        "{}",
        run.all()
    );
}

#[test]
fn a_bad_pinned_time_is_a_usage_error() {
    let env = test_env();
    let run = env.at("next week", &["injury", "list"]);
    assert_eq!(run.code(), Some(2), "{}", run.all());
    assert!(run.stderr.contains("ROLLCOACH_NOW"), "{}", run.stderr);
}

// ----- history ------------------------------------------------------------

#[test]
fn history_of_an_empty_database() {
    let env = test_env();
    let text = env.cmd(&["history"]);
    let json = env.cmd(&["history", "--json"]);
    insta::assert_snapshot!(
        "history_of_an_empty_database",
        format!("{}\n{}", text.all(), json.all())
    );
}

#[test]
fn history_lists_sessions_then_the_summary_and_charts() {
    let env = test_env();
    env.fill();
    let text = env.cmd(&["history"]);
    insta::assert_snapshot!("history_of_a_filled_database", text.all());
    let limited = env.cmd(&["history", "--limit", "2"]);
    insta::assert_snapshot!("history_limited_to_two", limited.all());
}

#[test]
fn history_as_json_has_every_session_and_the_summary() {
    let env = test_env();
    env.fill();
    let run = env.cmd(&["history", "--json", "--limit", "2"]);
    assert_eq!(run.code(), Some(0), "{}", run.all());
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let sessions = v["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0]["outcome"]["outcome"], "refused");
    assert_eq!(sessions[0]["reason"], "answer:recent-injury");
    assert_eq!(sessions[1]["outcome"]["outcome"], "completed");
    assert_eq!(sessions[1]["reps_done"], 5);
    assert_eq!(v["summary"]["sessions_this_week"], 2);
    assert_eq!(v["summary"]["streak_days"], 2);
    insta::assert_snapshot!(
        "history_json_summary",
        serde_json::to_string_pretty(&v["summary"]).unwrap()
    );
}

// ----- export and import --------------------------------------------------

#[test]
fn export_then_import_round_trips_and_refuses_duplicates() {
    let env = test_env();
    env.fill();
    env.cmd(&[
        "injury",
        "add",
        "--area",
        "upper-back",
        "--at",
        "3 days ago",
        "--note",
        "a \"quoted\" note",
    ]);
    let file = env.path("backup.json");
    let file_arg = file.to_str().unwrap();
    let export = env.cmd(&["export", "--format", "json", "-o", file_arg]);
    assert_eq!(export.code(), Some(0), "{}", export.all());

    // Into a new database: everything arrives.
    let other = env.path("other.db");
    let import = env.run_with(&other, NOW, &["import", file_arg], "");
    let uids = uids(&env.db());
    let mut out = format!("$ rollcoach export -o backup.json\n{}\n", export.all());
    out.push_str(&format!(
        "$ rollcoach --db other.db import backup.json\n{}\n",
        import.all()
    ));
    // Exporting the new database gives the same document, byte for byte.
    let again = env.run_with(&other, NOW, &["export", "--format", "json"], "");
    assert_eq!(again.code(), Some(0), "{}", again.all());
    assert_eq!(again.stdout, std::fs::read_to_string(&file).unwrap());
    assert_eq!(
        env.run_with(&other, NOW, &["history"], "").stdout,
        env.cmd(&["history"]).stdout
    );
    // Importing again adds nothing and says why.
    let twice = env.run_with(&other, NOW, &["import", file_arg], "");
    out.push_str(&format!(
        "$ rollcoach --db other.db import backup.json (again)\n{}",
        twice.all()
    ));
    let out = out.replace(&env.shown(&file), "backup.json");
    insta::assert_snapshot!("export_then_import", redact(&out, &uids));
    assert_eq!(
        common::OwnerStore::open(&other)
            .unwrap()
            .history(None)
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn import_reads_standard_input_and_nothing_but_the_report_reaches_a_pipe() {
    let env = test_env();
    env.fill();
    let export = env.cmd(&["export", "--format", "json"]);
    assert_eq!(export.code(), Some(0), "{}", export.all());
    assert!(
        export.stderr.is_empty(),
        "no progress on a pipe: {}",
        export.stderr
    );
    let other = env.path("other.db");
    let import = env.run_with(&other, NOW, &["import", "-"], &export.stdout);
    assert_eq!(import.code(), Some(0), "{}", import.all());
    assert!(
        import.stderr.is_empty(),
        "no progress on a pipe: {}",
        import.stderr
    );
    assert!(
        import
            .stdout
            .starts_with("Imported 4 of 4 sessions and 0 of 0 injuries from standard input."),
        "{}",
        import.stdout
    );
    let again = env.run_with(&other, NOW, &["export", "--format", "json"], "");
    assert_eq!(again.stdout, export.stdout);
    // A document cut short on standard input imports nothing.
    let third = env.path("third.db");
    let cut = &export.stdout[..export.stdout.len() * 2 / 3];
    let import = env.run_with(&third, NOW, &["import", "-"], cut);
    assert_eq!(import.code(), Some(2), "{}", import.all());
    assert!(
        import.stderr.contains("standard input: ")
            && import.stderr.contains("nothing was imported"),
        "{}",
        import.stderr
    );
    assert_eq!(
        common::OwnerStore::open(&third)
            .unwrap()
            .session_count()
            .unwrap(),
        0
    );
}

#[test]
fn the_json_export_is_a_versioned_document_with_event_logs() {
    let env = test_env();
    env.fill();
    let run = env.cmd(&["export"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["format"], "rollcoach-export");
    assert_eq!(
        v["version"], 3,
        "version 3: injuries have uids, each snapshot is written once"
    );
    let sessions = v["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 4);
    assert_eq!(sessions[0]["protocol"]["id"], "upper-back");
    // The other sessions ran the same protocol: they name the first.
    for s in &sessions[1..] {
        assert!(s.get("protocol").is_none(), "{s}");
        assert_eq!(s["protocol_same_as"], sessions[0]["uid"]);
    }
    let events = sessions[0]["events"].as_array().unwrap();
    assert_eq!(events[0]["seq"], 0);
    assert_eq!(events[0]["input"]["type"], "answer");
    assert!(events.len() > 20, "every input, timeouts included");
}

#[test]
fn the_csv_export_has_one_row_per_session() {
    let env = test_env();
    env.fill();
    let run = env.cmd(&["export", "--format", "csv"]);
    insta::assert_snapshot!("csv_export", redact(&run.all(), &uids(&env.db())));
}

#[test]
fn importing_something_else_is_a_usage_error_and_imports_nothing() {
    let env = test_env();
    let notes = env.path("notes.json");
    std::fs::write(&notes, "{\"hello\": \"world\"}").unwrap();
    let broken = env.path("broken.json");
    std::fs::write(
        &broken,
        "{\"format\": \"rollcoach-export\", \"version\": 1, \"sessions\": [",
    )
    .unwrap();
    let mut out = String::new();
    for (name, path) in [
        ("notes.json", notes.clone()),
        ("broken.json", broken.clone()),
        ("missing.json", env.path("missing.json")),
    ] {
        let p = path.to_str().unwrap();
        let run = env.cmd(&["import", p]);
        out.push_str(&format!(
            "$ rollcoach import {name}\n{}\n",
            run.all().replace(&env.shown(&path), name)
        ));
    }
    insta::assert_snapshot!("importing_something_else", out);
    assert!(
        env.cmd(&["history", "--json"])
            .stdout
            .contains("\"sessions\": []")
    );
}

// ----- the database file --------------------------------------------------

#[test]
fn a_database_from_a_newer_rollcoach_is_refused_and_left_alone() {
    let env = test_env();
    {
        let conn = rusqlite::Connection::open(env.db()).unwrap();
        conn.execute_batch("CREATE TABLE t (x); PRAGMA user_version = 99;")
            .unwrap();
    }
    let before = std::fs::read(env.db()).unwrap();
    let run = env.cmd(&["history"]);
    let db = env.db();
    // The newest version this rollcoach knows changes with each migration.
    let known = format!("knows up to {})", rollcoach_store_sqlite::SCHEMA_VERSION);
    insta::assert_snapshot!(
        "a_database_from_a_newer_rollcoach",
        run.all()
            .replace(&env.shown(&db), "rollcoach.db")
            .replace(&known, "knows up to [SCHEMA_VERSION])")
    );
    assert_eq!(std::fs::read(env.db()).unwrap(), before);
}

#[test]
fn a_file_that_is_not_a_database_is_refused() {
    let env = test_env();
    std::fs::write(env.db(), "my shopping list\n".repeat(50)).unwrap();
    let run = env.cmd(&["injury", "list"]);
    assert_eq!(run.code(), Some(1), "{}", run.all());
    assert!(run.stderr.contains("not an SQLite file"), "{}", run.stderr);
}

#[test]
fn an_unfinished_session_whose_process_is_gone_gets_a_notice_and_is_recorded() {
    // A live session (2 reps in) exported from another machine has no
    // process here: the first command after the import recovers it.
    let env = test_env();
    let doc = common::live_session_from_elsewhere();
    let file = env.path("live.json");
    std::fs::write(&file, doc.to_json()).unwrap();
    let import = env.cmd(&["import", file.to_str().unwrap()]);
    assert_eq!(import.code(), Some(0), "{}", import.all());
    let history = env.cmd(&["history", "--limit", "1"]);
    insta::assert_snapshot!("an_unfinished_session_is_recovered", history.all());
    let again = env.cmd(&["history", "--limit", "1"]);
    assert!(again.stderr.is_empty(), "recovered once: {}", again.stderr);
}

// ----- on PostgreSQL (issue 20) --------------------------------------------

#[path = "../../store-postgres/tests/common/mod.rs"]
mod pg;

/// `--db postgres://...`: the data commands work on a PostgreSQL database
/// as on the SQLite file. The person's export imports there, and exporting
/// it back gives the same document, byte for byte, and the same history;
/// an injury logged there is listed there; a second import adds nothing.
/// Coaches are kept there too (`coach add`, `coach list`). What needs this
/// computer's own file says so, naming what to do: a session in the
/// terminal.
#[test]
fn the_data_commands_work_on_a_postgres_database_and_a_terminal_session_is_refused_there() {
    if pg::skip() {
        return;
    }
    let env = test_env();
    env.fill();
    let export = env.cmd(&["export", "--format", "json"]);
    assert_eq!(export.code(), Some(0), "{}", export.all());
    let url = pg::fresh_database();
    let db = Path::new(&url);

    let import = env.run_with(db, NOW, &["import", "-"], &export.stdout);
    assert_eq!(import.code(), Some(0), "{}", import.all());
    assert!(
        import
            .stdout
            .starts_with("Imported 4 of 4 sessions and 0 of 0 injuries from standard input."),
        "{}",
        import.stdout
    );
    let again = env.run_with(db, NOW, &["export", "--format", "json"], "");
    assert_eq!(again.code(), Some(0), "{}", again.all());
    assert_eq!(again.stdout, export.stdout);
    assert_eq!(
        env.run_with(db, NOW, &["history"], "").stdout,
        env.cmd(&["history"]).stdout
    );
    let twice = env.run_with(db, NOW, &["import", "-"], &export.stdout);
    assert_eq!(twice.code(), Some(0), "{}", twice.all());
    assert!(
        twice.stdout.starts_with("Imported 0 of 4 sessions"),
        "{}",
        twice.stdout
    );

    let add = env.run_with(
        db,
        NOW,
        &[
            "injury",
            "add",
            "--area",
            "upper-back",
            "--note",
            "tweaked it",
        ],
        "",
    );
    assert_eq!(add.code(), Some(0), "{}", add.all());
    let list = env.run_with(db, NOW, &["injury", "list"], "");
    assert!(list.stdout.contains("tweaked it"), "{}", list.all());
    assert!(
        !env.cmd(&["injury", "list"]).stdout.contains("tweaked it"),
        "the injury went to the SQLite file"
    );

    let run = env.run_with(
        db,
        NOW,
        &["run", "upper-back", "--speed", "max"],
        SCREENING_OK,
    );
    assert_eq!(run.code(), Some(2), "{}", run.all());
    assert!(
        run.stderr.contains("SQLite file on this computer") && run.stderr.contains("serve --db"),
        "{}",
        run.stderr
    );
    let coach = env.run_with(db, NOW, &["coach", "add", "Sam"], "");
    assert_eq!(coach.code(), Some(0), "{}", coach.all());
    assert!(
        coach.stdout.starts_with("Added coach Sam (coach-"),
        "{}",
        coach.stdout
    );
    let coaches = env.run_with(db, NOW, &["coach", "list", "--json"], "");
    assert_eq!(coaches.code(), Some(0), "{}", coaches.all());
    let coaches: serde_json::Value = serde_json::from_str(&coaches.stdout).unwrap();
    assert_eq!(coaches[0]["name"], "Sam", "{coaches}");
    assert!(
        !env.cmd(&["coach", "list"]).stdout.contains("Sam"),
        "the coach went to the SQLite file"
    );
    let taken = env.run_with(db, NOW, &["coach", "add", "sam"], "");
    assert_eq!(taken.code(), Some(2), "{}", taken.all());
    // Nothing was recorded by the refused session.
    let after = env.run_with(db, NOW, &["history", "--json"], "");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&after.stdout).unwrap()["sessions"]
            .as_array()
            .map(Vec::len),
        Some(4),
        "{}",
        after.stdout
    );
}

/// A password in the URL is never shown: an unreachable server's error
/// names the URL without it.
#[test]
fn a_postgres_url_s_password_is_never_shown_in_an_error() {
    let env = test_env();
    let out = env.run_with(
        Path::new("postgres://me:hunter2@127.0.0.1:1/rollcoach?connect_timeout=2"),
        NOW,
        &["history"],
        "",
    );
    assert_ne!(out.code(), Some(0), "{}", out.all());
    assert!(!out.all().contains("hunter2"), "{}", out.all());
    assert!(out.all().contains("127.0.0.1"), "{}", out.all());
}

/// A server's SQLite file with the owner's sessions and a coach with a
/// client (their password, the client's sessions and phone): the client's
/// person id.
fn a_server_with_a_coach_and_a_client(env: &TestEnvironment) -> rollcoach_store::PersonId {
    use rollcoach_store::{NewDevice, NewInvite, People, PersonId};
    env.fill();
    let export = env.cmd(&["export", "--format", "json"]);
    let store = rollcoach_store_sqlite::SqliteRecords::open(env.db()).unwrap();
    let now = rollcoach_engine::Time(1_795_618_800_000);
    let ana = store.add_coach("Ana", now).unwrap();
    store
        .set_password_hash(&ana.id, "$argon2id$v=19$ana")
        .unwrap();
    let client = PersonId::parse("client-cleo").unwrap();
    store
        .add_invite(
            &ana.id,
            &NewInvite {
                token_hash: "t",
                name: Some("Cleo"),
                created_at: now,
                expires_at: rollcoach_engine::Time(now.0 + 3_600_000),
            },
        )
        .unwrap();
    let device = NewDevice {
        id: "cleo-phone",
        name: "a phone",
        via: "a coach's invite",
        secret_hash: "cleo-secret-hash",
        created_at: now,
    };
    store
        .redeem_invite("t", now, &client, &device)
        .unwrap()
        .expect("the invite lets Cleo in");
    // Cleo's sessions: the owner's, imported under her.
    let protocols: Vec<std::sync::Arc<rollcoach_protocol::Protocol>> =
        rollcoach_protocol::builtin()
            .into_iter()
            .map(std::sync::Arc::new)
            .collect();
    let catalog = rollcoach_store::SyncCatalog::new(&protocols).unwrap();
    let doc = export.stdout.clone();
    rollcoach_store::import_stream(
        &store,
        &client,
        || Ok(std::io::Cursor::new(doc.clone().into_bytes())),
        rollcoach_store::ImportRules {
            catalog: &catalog,
            now,
        },
        &mut |_| {},
    )
    .unwrap();
    client
}

/// `rollcoach migrate --from FILE --to postgres://...` moves a whole
/// server: the owner's sessions, the coach with their password, the client
/// with their sessions and their phone (still let in), each person's export
/// there byte for byte the one here; again, it adds nothing. One client
/// alone moves with their coach's account only.
#[test]
fn migrate_moves_a_whole_server_to_postgres_losslessly_and_again_adds_nothing() {
    use rollcoach_store::{People, Records};
    if pg::skip() {
        return;
    }
    let env = test_env();
    let cleo = a_server_with_a_coach_and_a_client(&env);
    let url = pg::fresh_database();
    let file = env.db();
    let file = file.to_str().unwrap();
    let moved = env.cmd(&["migrate", "--from", file, "--to", &url]);
    assert_eq!(moved.code(), Some(0), "{}", moved.all());
    assert!(
        moved.stdout.contains("the owner: 4 sessions (4 new)")
            && moved.stdout.contains("client Cleo (client-cleo): 4 sessions (4 new), 0 injuries (0 new), 1 device (1 new)")
            && moved.stdout.contains("Moved 3 people (2 new here) and 8 sessions"),
        "{}",
        moved.stdout
    );

    // What the server's people and phones need is there.
    let pg_store = rollcoach_store_postgres::PgRecords::open(&url).unwrap();
    let (ana, hash) = pg_store.coach_by_name("ana").unwrap().expect("Ana moved");
    assert_eq!(hash.as_deref(), Some("$argon2id$v=19$ana"));
    assert_eq!(pg_store.clients(&ana.id).unwrap()[0].id, cleo);
    let phone = pg_store
        .device_by_secret("cleo-secret-hash")
        .unwrap()
        .expect("Cleo's phone is let in");
    assert_eq!(phone.person, cleo);
    assert_eq!(pg_store.session_count(&cleo).unwrap(), 4);
    let db = Path::new(&url);
    assert_eq!(
        env.run_with(db, NOW, &["export", "--format", "json"], "")
            .stdout,
        env.cmd(&["export", "--format", "json"]).stdout
    );

    let again = env.cmd(&["migrate", "--from", file, "--to", &url]);
    assert_eq!(again.code(), Some(0), "{}", again.all());
    assert!(
        again.stdout.contains("the owner: 4 sessions (0 new)")
            && again.stdout.contains("Moved 3 people (0 new here)"),
        "{}",
        again.stdout
    );
    assert_eq!(pg_store.session_count(&cleo).unwrap(), 4);

    // One client alone: their coach's account comes, not the owner's data.
    let other = pg::fresh_database();
    let one = env.cmd(&[
        "migrate",
        "--from",
        file,
        "--to",
        &other,
        "--person",
        "client-cleo",
    ]);
    assert_eq!(one.code(), Some(0), "{}", one.all());
    assert!(
        one.stdout
            .contains("Moved 1 person (2 new here) and 4 sessions"),
        "{}",
        one.stdout
    );
    let alone = rollcoach_store_postgres::PgRecords::open(&other).unwrap();
    assert_eq!(
        alone
            .session_count(&rollcoach_store::PersonId::owner())
            .unwrap(),
        0
    );
    assert_eq!(alone.session_count(&cleo).unwrap(), 4);
    assert_eq!(alone.coaches().unwrap().len(), 1);
}

/// What `migrate` is given wrong says what and how to fix it, exit 2, and
/// nothing is written.
#[test]
fn migrate_refuses_a_missing_file_the_same_database_and_an_unknown_person() {
    let env = test_env();
    env.fill();
    let file = env.db();
    let file = file.to_str().unwrap();
    let missing = env.path("no-such.db");
    let copy = env.path("copy.db");
    let copy = copy.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--from", missing.to_str().unwrap(), "--to", "other.db"],
            "no such file",
        ),
        (&["--from", file, "--to", file], "the same database"),
        (
            &["--from", file, "--to", "mysql://x/y"],
            "knows no database scheme",
        ),
        (
            &["--from", file, "--to", copy, "--person", "nobody-here"],
            "knows no such person",
        ),
    ];
    for (args, needle) in cases {
        let mut all = vec!["migrate"];
        all.extend_from_slice(args);
        let out = env.cmd(&all);
        assert_eq!(out.code(), Some(2), "{args:?}: {}", out.all());
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
    }
    assert!(!missing.exists(), "the missing source was not created");
    assert!(!std::path::Path::new(copy).exists(), "nothing was written");
}

/// `rollcoach serve --db postgres://...` as a real process: it answers,
/// the owner adds a coach through it (kept in that database), and Ctrl-C
/// stops it cleanly, exit 0 and no panic.
#[test]
fn serve_on_postgres_answers_adds_a_coach_and_stops_cleanly_on_ctrl_c() {
    use std::io::{BufRead, BufReader, Read, Write};
    if pg::skip() {
        return;
    }
    let env = test_env();
    let url = pg::fresh_database();
    let mut cmd = env.command(&["--db", &url, "serve", "--addr", "127.0.0.1:0"]);
    cmd.stdin(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let link = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no link in {line:?}"))
        .to_owned();
    let (base, token) = link.split_once("/?token=").expect("a loopback link");
    let addr = base.trim_start_matches("http://").to_owned();
    let request = |head: &str, body: &str| -> String {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "{head} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        resp
    };
    let protocols = request("GET /api/protocols", "");
    assert!(protocols.starts_with("HTTP/1.1 200"), "{protocols}");
    let added = request("POST /api/coaches", r#"{"name":"Sam"}"#);
    assert!(added.starts_with("HTTP/1.1 201"), "{added}");
    let me = request("GET /api/account", "");
    assert!(me.contains(r#""role":"owner""#), "{me}");

    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{status}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The coach is in the database, for the next server.
    let coaches = env.run_with(Path::new(&url), NOW, &["coach", "list", "--json"], "");
    assert!(coaches.stdout.contains("\"Sam\""), "{}", coaches.all());
}
