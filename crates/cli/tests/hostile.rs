//! Issue 13 (hostile input), through the real binary: protocols that cannot
//! run, protocols that weaken the handout's safety rules, terminal escapes in
//! data, closed pipes on both output streams, the unknown-area message, and
//! databases that are read-only, in a read-only place or damaged.

mod common;

use std::path::Path;

use common::{TestEnvironment, unprivileged};

const UPPER_BACK: &str = include_str!("../../../protocols/upper-back.toml");

/// Replaces `from` (which must occur) with `to`, once.
fn edit(source: &str, from: &str, to: &str) -> String {
    assert!(
        source.contains(from),
        "the fixture no longer holds {from:?}"
    );
    source.replacen(from, to, 1)
}

/// A copy of the upper-back protocol under another id.
fn copy(id: &str) -> String {
    edit(
        UPPER_BACK,
        "id = \"upper-back\"\n",
        &format!("id = \"{id}\"\n"),
    )
}

/// Characters a terminal acts on, or that reorder what it shows.
fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n' && c != '\t')
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)
        })
        .collect()
}

const SCREENING_OK: &str = "no\nno\nno\n";
const SETUP: &str = "ready\nready\nready\nready\nready\n";

// ----- finding 1: protocols that cannot run ----------------------------------

#[test]
fn a_protocol_with_unbounded_reps_and_a_tiny_tempo_fails_lint_and_does_not_run() {
    let env = TestEnvironment::new();
    let src = edit(
        &copy("runaway"),
        "min = 5\nmax = 8\ndefault = 6",
        "min = 5\nmax = 4294967295\ndefault = 4294967295",
    );
    let src = edit(&src, "default_seconds = 4.0", "default_seconds = 0.0001");
    let src = edit(&src, "min_seconds = 2.0", "min_seconds = 0.0001");
    let file = env.write_file("runaway.toml", &src);
    let lint = env.run(&["protocols", "lint", file.to_str().unwrap()]);
    assert_eq!(lint.code(), Some(1), "{}", lint.all());
    assert!(
        lint.stderr
            .contains("`movement.reps.max` must be a whole number from 1 to 50")
            && lint.stderr.contains("a tempo must be from 1 to 30 seconds"),
        "{}",
        lint.stderr
    );
    // `run` refuses the file at once (it used to grow without bound).
    let run = env.run_with_stdin(
        &[
            "run",
            file.to_str().unwrap(),
            "--speed",
            "max",
            "--reps",
            "100000",
        ],
        SCREENING_OK,
    );
    assert_ne!(run.code(), Some(0), "{}", run.all());
    assert!(
        run.stderr.contains("invalid protocol file"),
        "{}",
        run.stderr
    );
    assert!(env.store().history(None).unwrap().is_empty());
}

// ----- finding 2: weaker than the handout -------------------------------------

#[test]
fn protocols_show_warns_when_a_protocol_weakens_the_handouts_safety_rules() {
    let env = TestEnvironment::new();
    let weak = edit(&copy("weak"), "window_hours = 48", "window_hours = 12");
    let weak = edit(&weak, "refuse_on = \"yes\"", "refuse_on = \"no\"");
    env.write_protocol("weak.toml", &weak);
    let show = env.run(&["protocols", "show", "weak"]);
    assert_eq!(show.code(), Some(0), "{}", show.all());
    assert!(
        show.stdout
            .contains("warning: this protocol is weaker than the handout's safety rules")
            && show
                .stdout
                .contains("the injury window is 12 hours, shorter than the handout's 48 hours")
            && show
                .stdout
                .contains("the recent-injury question `recent-injury` refuses on \"no\""),
        "{}",
        show.stdout
    );
    let json = env.run(&["protocols", "show", "weak", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let paths: Vec<&str> = value["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "screening.questions[0].refuse_on",
            "screening.injury_rule.window_hours"
        ]
    );
    // The built-in protocol follows the handout: no warning.
    let builtin = env.run(&["protocols", "show", "upper-back"]);
    assert!(!builtin.stdout.contains("warning"), "{}", builtin.stdout);
    let json = env.run(&["protocols", "show", "upper-back", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["warnings"], serde_json::json!([]));
    // `lint` warns but passes.
    let path = env.protocols_dir().join("weak.toml");
    let lint = env.run(&["protocols", "lint", path.to_str().unwrap()]);
    assert_eq!(lint.code(), Some(0), "{}", lint.all());
    assert!(
        lint.stderr.contains("warning: weaker than the handout"),
        "{}",
        lint.stderr
    );
}

// ----- finding 6: terminal escapes ---------------------------------------------

/// ESC sequences (set the window title, clear the screen), BEL, NUL, a C1
/// CSI, a right-to-left override and an isolate.
const HOSTILE: &str = "\u{1b}]0;owned\u{7}\u{1b}[2J\u{0}\u{9b}31m\u{202e}gnp.exe\u{2066}";

#[test]
fn injury_notes_are_printed_with_control_characters_escaped() {
    let env = TestEnvironment::new();
    // As an import would write it (an argument cannot hold NUL).
    let at = rollcoach_engine::Time(1_764_057_600_000); // 2025-11-25T08:00:00Z
    env.store()
        .add_injury("upper-back", at, Some(HOSTILE), at)
        .unwrap();
    let list = env.run(&["injury", "list"]);
    assert_eq!(raw_controls(&list.stdout), [], "{:?}", list.stdout);
    assert!(
        list.stdout
            .contains("\\u001b]0;owned\\u0007\\u001b[2J\\u0000\\u009b31m\\u202egnp.exe\\u2066"),
        "{}",
        list.stdout
    );
    // JSON stays valid and means the same.
    let json = env.run(&["injury", "list", "--json"]);
    assert_eq!(raw_controls(&json.stdout), [], "{:?}", json.stdout);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value[0]["note"], HOSTILE);
    // The note stays what it was in the database.
    let stored = env.store().list_injuries().unwrap();
    assert_eq!(stored[0].note.as_deref(), Some(HOSTILE));
}

#[test]
fn protocol_text_is_printed_with_control_characters_escaped() {
    let env = TestEnvironment::new();
    let src = edit(
        &copy("noisy"),
        "title = \"",
        "title = \"\\u001b]0;owned\\u0007\\u202e",
    );
    let src = edit(
        &src,
        "cue = \"roll toward your neck\"",
        "cue = \"roll \\u001b[2Jtoward your neck\"",
    );
    env.write_protocol("noisy.toml", &src);
    // Issue 24, finding 4: such a file is no protocol any more (the import
    // refused its sessions' snapshots): it is skipped with the fields
    // named, and nothing of it reaches the terminal raw.
    let list = env.run(&["protocols", "list"]);
    assert_eq!(list.code(), Some(0), "{}", list.all());
    assert_eq!(raw_controls(&list.stdout), [], "{:?}", list.stdout);
    assert_eq!(raw_controls(&list.stderr), [], "{:?}", list.stderr);
    assert!(
        list.stderr.contains("`title` holds U+001B")
            && list.stderr.contains("`movement.out.cue` holds U+001B")
            && !list.stdout.contains("noisy"),
        "{}",
        list.all()
    );
    let path = env.protocols_dir().join("noisy.toml");
    for args in [
        &["protocols", "lint", path.to_str().unwrap()][..],
        &["protocols", "show", path.to_str().unwrap()],
        &[
            "run",
            path.to_str().unwrap(),
            "--speed",
            "max",
            "--reps",
            "5",
        ],
    ] {
        let out = env.run_with_stdin(args, &[SCREENING_OK, SETUP].concat());
        assert_eq!(out.code(), Some(1), "{args:?}: {}", out.all());
        assert_eq!(raw_controls(&out.stdout), [], "{args:?}: {:?}", out.stdout);
        assert_eq!(raw_controls(&out.stderr), [], "{args:?}: {:?}", out.stderr);
        assert!(
            out.stderr.contains("`title` holds U+001B"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // An unknown id in an error message.
    let err = env.run(&["protocols", "show", "no\u{1b}[2Jsuch"]);
    assert_eq!(err.code(), Some(2), "{}", err.all());
    assert_eq!(raw_controls(&err.stderr), [], "{:?}", err.stderr);
    assert!(err.stderr.contains("no\\u001b[2Jsuch"), "{}", err.stderr);
}

// ----- finding 10: closed pipes, the unknown-area message ----------------------

/// `rollcoach run ... 2>&1 | head -1` with the reader gone before anything is
/// written: both streams are the same closed pipe.
#[test]
fn a_run_into_a_closed_pipe_on_both_streams_does_not_panic() {
    let env = TestEnvironment::new();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = env.command(&["run", "upper-back", "--speed", "max"]);
    cmd.stdout(writer.try_clone().unwrap()).stderr(writer);
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all([SCREENING_OK, SETUP].concat().as_bytes())
            .unwrap();
    }
    let status = child.wait().unwrap();
    assert_ne!(status.code(), Some(101), "panicked: {status:?}");
    assert_eq!(status.code(), Some(0), "{status:?}");
    // The session was still recorded, as it ended.
    let history = env.store().history(None).unwrap();
    assert_eq!(history.len(), 1);
    // An error into closed pipes does not panic either.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = env.command(&["protocols", "show", "no-such-protocol"]);
    cmd.stdout(writer.try_clone().unwrap()).stderr(writer);
    let status = cmd.status().unwrap();
    assert_eq!(status.code(), Some(2), "{status:?}");
}

#[test]
fn the_unknown_area_error_lists_each_area_once() {
    let env = TestEnvironment::new();
    env.write_protocol("a.toml", copy("upper-back-a"));
    env.write_protocol("b.toml", copy("upper-back-b"));
    let add = env.run(&["injury", "add", "--area", "neck", "--at", "2h ago"]);
    assert_eq!(add.code(), Some(2), "{}", add.all());
    assert!(
        add.stderr
            .contains("give one of the known areas: upper-back\n"),
        "{}",
        add.stderr
    );
    assert_eq!(
        add.stderr.matches("upper-back").count(),
        1,
        "{}",
        add.stderr
    );
}

// ----- finding 9: databases that cannot be written or are damaged -------------

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// One `error:` line that says what to do, and no message said twice.
fn assert_one_clear_message(stderr: &str, says: &[&str]) {
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    for s in says {
        assert!(stderr.contains(s), "{s:?} not in {stderr}");
    }
    for sqlite in [
        "attempt to write a readonly database",
        "unable to open database file",
        "database disk image is malformed",
        "Permission denied",
        "permission denied",
    ] {
        assert!(
            stderr.matches(sqlite).count() <= 1,
            "{sqlite:?} repeated: {stderr}"
        );
    }
}

/// Issue 24, finding 12: a database that cannot be written is opened
/// read-only, so its data can be rescued: the commands that only read
/// (`injury list`, `history`, `export`) work and show it. (Before, they
/// refused with the writes' message.)
fn reads_work_on_a_database_that_cannot_be_written(env: &TestEnvironment, db: &Path) {
    let db = db.to_str().unwrap();
    let list = unprivileged(env, &["--db", db, "injury", "list", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&list.stderr);
    assert_eq!(list.status.code(), Some(0), "injury list: {stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    let injuries: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(injuries.as_array().map(Vec::len), Some(1), "{injuries}");
    let history = unprivileged(env, &["--db", db, "history"])
        .output()
        .unwrap();
    assert_eq!(
        history.status.code(),
        Some(0),
        "history: {}",
        String::from_utf8_lossy(&history.stderr)
    );
    // To standard output: the directory may not take a file.
    let export = unprivileged(env, &["--db", db, "export"]).output().unwrap();
    assert_eq!(
        export.status.code(),
        Some(0),
        "export: {}",
        String::from_utf8_lossy(&export.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(doc["injuries"].as_array().map(Vec::len), Some(1), "{doc}");
}

#[test]
fn a_read_only_database_can_be_read_and_a_write_gives_one_message_that_says_to_use_db() {
    let env = TestEnvironment::new();
    let add = env.run(&["injury", "add", "--area", "upper-back", "--at", "2h ago"]);
    assert_eq!(add.code(), Some(0), "{}", add.all());
    chmod(&env.db(), 0o444);
    reads_work_on_a_database_that_cannot_be_written(&env, &env.db());
    for args in [
        &["injury", "add", "--area", "upper-back"][..],
        &["injury", "clear", "1"],
    ] {
        let out = unprivileged(&env, args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_one_clear_message(
            &stderr,
            &["cannot write the database", "read-only", "--db PATH"],
        );
    }
    // Nothing was written.
    assert_eq!(env.store().list_injuries().unwrap().len(), 1);
    // `serve` refuses to start instead of failing at the first write.
    let mut serve = unprivileged(&env, &["serve", "--addr", "127.0.0.1:0"]);
    let out = serve.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "it served: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.contains("cannot write the database") && stderr.contains("--db PATH"),
        "{stderr}"
    );
}

#[test]
fn a_database_in_a_read_only_directory_can_be_read_and_a_new_one_there_gives_one_message() {
    let env = TestEnvironment::new();
    let dir = env.path("locked");
    std::fs::create_dir(&dir).unwrap();
    // An existing database whose directory cannot take its -wal and -shm files.
    let db = dir.join("old.db");
    let add = env.run(&[
        "--db",
        db.to_str().unwrap(),
        "injury",
        "add",
        "--area",
        "upper-back",
        "--at",
        "2h ago",
    ]);
    assert_eq!(add.code(), Some(0), "{}", add.all());
    for f in std::fs::read_dir(&dir).unwrap() {
        chmod(&f.unwrap().path(), 0o666);
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("old.db{suffix}")));
    }
    chmod(&dir, 0o555);
    reads_work_on_a_database_that_cannot_be_written(&env, &db);
    // A write to it: one message.
    let out = unprivileged(
        &env,
        &[
            "--db",
            db.to_str().unwrap(),
            "injury",
            "add",
            "--area",
            "upper-back",
        ],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_one_clear_message(&stderr, &["cannot write the database", "--db PATH"]);
    let cases = [
        // A new file, and a new file in a missing directory: nothing to read.
        dir.join("new.db"),
        dir.join("missing").join("new.db"),
    ];
    for path in &cases {
        let out = unprivileged(&env, &["--db", path.to_str().unwrap(), "history"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", path.display());
        assert_one_clear_message(&stderr, &["cannot write the database", "--db PATH"]);
    }
    chmod(&dir, 0o755);
}

#[test]
fn a_damaged_database_gives_one_message_that_says_how_to_restore() {
    let env = TestEnvironment::new();
    for at in ["3h ago", "2h ago", "1h ago"] {
        let add = env.run(&["injury", "add", "--area", "upper-back", "--at", at]);
        assert_eq!(add.code(), Some(0), "{}", add.all());
    }
    let db = env.db();
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 4096);
    for b in &mut bytes[4096..] {
        *b = b'A';
    }
    std::fs::write(&db, &bytes).unwrap();
    for args in [&["injury", "list"][..], &["history"]] {
        let out = env.run(args);
        assert_eq!(out.code(), Some(1), "{args:?}: {}", out.all());
        assert_one_clear_message(&out.stderr, &["is damaged", "rollcoach export", "import"]);
    }
}
