//! `--db` picks the backend by the URL's scheme (issue 20): a path or
//! `sqlite://PATH` is SQLite, `postgres://` is PostgreSQL, and any other
//! scheme is a usage error naming the known ones, with nothing created
//! (before, `--db postgres://...` made a folder named `postgres:` holding a
//! SQLite file).

mod common;

use common::TestEnvironment;

#[test]
fn an_unknown_scheme_is_refused_naming_the_known_ones_and_creates_nothing() {
    let env = TestEnvironment::new();
    let out = env.run(&["--db", "mysql://root@localhost/rc", "history"]);
    assert_eq!(out.code(), Some(2), "{}", out.all());
    let said = out.all();
    assert!(said.contains("\"mysql\""), "{said}");
    assert!(
        said.contains("sqlite://") && said.contains("postgres://"),
        "{said}"
    );
    assert!(
        !env.path("mysql:").exists(),
        "a folder was made for the URL"
    );
}

#[test]
fn a_sqlite_url_opens_the_file_it_names() {
    let env = TestEnvironment::new();
    let file = env.path("by-url.db");
    let url = format!("sqlite://{}", file.display());
    let out = env.run(&[
        "--db",
        &url,
        "injury",
        "add",
        "--area",
        "upper-back",
        "--note",
        "neck",
    ]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    assert!(
        file.exists(),
        "the injury went elsewhere than {}",
        file.display()
    );
    let listed = env.run(&["--db", file.to_str().unwrap(), "injury", "list"]);
    assert!(listed.all().contains("neck"), "{}", listed.all());
}
