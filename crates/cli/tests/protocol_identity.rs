//! Issue 24, finding 13, as the person meets it: a protocol file may not
//! take a built-in's identity, and lint names each way a file weakens the
//! built-in it derives from.

mod common;

use common::TestEnvironment;

const UPPER_BACK: &str = include_str!("../../../protocols/upper-back.toml");

fn edit(source: &str, from: &str, to: &str) -> String {
    assert!(
        source.contains(from),
        "the fixture no longer holds {from:?}"
    );
    source.replacen(from, to, 1)
}

/// Before the fix `run FILE` ran it and recorded it as upper-back v1, and
/// lint passed it without a warning.
#[test]
fn a_file_with_the_builtins_id_and_a_weaker_stop_is_refused_by_run_and_lint() {
    let env = TestEnvironment::new();
    let file = env.write_file("mine.toml", edit(UPPER_BACK, "above = 7", "above = 9"));
    let file = file.to_str().unwrap();
    let run = env.run_with_stdin(
        &["run", file, "--speed", "max", "--reps", "5"],
        "no\nno\nno\nready\nready\nready\nready\nready\n",
    );
    assert_eq!(run.code(), Some(1), "{}", run.all());
    assert!(
        run.stderr
            .contains("the id `upper-back` (version 1) is a built-in protocol's")
            && run.stderr.contains("another id, e.g. `upper-back-mine`"),
        "{}",
        run.stderr
    );
    let export = env.run(&["export"]);
    if export.code() == Some(0) {
        let doc: serde_json::Value = serde_json::from_str(&export.stdout).unwrap();
        assert_eq!(doc["sessions"], serde_json::json!([]), "nothing recorded");
    }
    let lint = env.run(&["protocols", "lint", file]);
    assert_eq!(lint.code(), Some(1), "{}", lint.all());
    assert!(
        lint.stderr.contains("(and weakens it in 1 way)"),
        "{}",
        lint.stderr
    );
    // A copy of the built-in is the built-in.
    let copy = env.write_file("copy.toml", UPPER_BACK);
    let lint = env.run(&["protocols", "lint", copy.to_str().unwrap()]);
    assert_eq!(lint.code(), Some(0), "{}", lint.all());
    assert_eq!(lint.stderr, "", "{}", lint.stderr);
}

/// A renamed injury question that lets "yes, injured" through: lint warns
/// (before the fix it said nothing: the handout's checks know the question
/// by its id or its mark, both gone).
#[test]
fn lint_names_a_renamed_injury_question_and_a_raised_threshold() {
    let env = TestEnvironment::new();
    let src = edit(
        UPPER_BACK,
        "id = \"upper-back\"",
        "id = \"upper-back-mine\"",
    );
    let src = edit(&src, "id = \"recent-injury\"", "id = \"injured-lately\"");
    let src = edit(&src, "refuse_on = \"yes\"", "refuse_on = \"no\"");
    let src = edit(&src, "injury_window = true\n", "");
    let src = edit(&src, "above = 7", "above = 9");
    let file = env.write_file("upper-back-mine.toml", src);
    let lint = env.run(&["protocols", "lint", file.to_str().unwrap()]);
    assert_eq!(lint.code(), Some(0), "warnings do not fail: {}", lint.all());
    for says in [
        "warning: weaker than built-in `upper-back`: built-in `upper-back`'s screening question `recent-injury`",
        "warning: weaker than built-in `upper-back`: the discomfort stop is above 9",
    ] {
        assert!(lint.stderr.contains(says), "{says}: {}", lint.stderr);
    }
}
