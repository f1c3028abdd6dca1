//! The catalog: built-ins plus user files, problems reported per file.
#![cfg(feature = "full")]

use rollcoach_protocol::{BUILTIN_SOURCES, Catalog, Origin, ResolveError};

fn user_dir(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    dir
}

fn upper_back_with_id(id: &str) -> String {
    BUILTIN_SOURCES[0]
        .1
        .replacen("id = \"upper-back\"", &format!("id = \"{id}\""), 1)
}

#[test]
fn a_missing_user_directory_gives_the_builtins_without_problems() {
    let catalog = Catalog::load(Some(std::path::Path::new(
        "/nonexistent/rollcoach/protocols",
    )));
    assert!(catalog.get("upper-back").is_some());
    assert!(catalog.problems().is_empty());
    assert_eq!(catalog.all().len(), BUILTIN_SOURCES.len());
}

#[test]
fn an_invalid_user_file_is_reported_and_does_not_hide_the_valid_ones() {
    let mine = upper_back_with_id("my-upper-back");
    let dir = user_dir(&[
        ("a-broken.toml", b"id = \"broken\"\ntitle = [\n"),
        ("b-mine.toml", mine.as_bytes()),
        ("c-binary.toml", b"\x00\x01\x02"),
        ("not-toml.txt", b"ignored"),
    ]);
    let catalog = Catalog::load(Some(dir.path()));
    assert!(catalog.get("my-upper-back").is_some());
    assert_eq!(
        catalog.origin("my-upper-back"),
        Some(&Origin::File(dir.path().join("b-mine.toml")))
    );
    let problems: Vec<_> = catalog.problems().iter().map(|p| p.path.clone()).collect();
    assert_eq!(
        problems,
        vec![
            dir.path().join("a-broken.toml"),
            dir.path().join("c-binary.toml")
        ]
    );
    assert!(catalog.problems()[0].rendered.contains("a-broken.toml:"));
    assert!(catalog.problems()[1].rendered.contains("not a text file"));
}

#[test]
fn a_user_file_with_a_builtin_id_is_reported() {
    let dir = user_dir(&[("copy.toml", BUILTIN_SOURCES[0].1.as_bytes())]);
    let catalog = Catalog::load(Some(dir.path()));
    assert_eq!(catalog.all().len(), BUILTIN_SOURCES.len());
    assert_eq!(catalog.problems().len(), 1);
    assert!(catalog.problems()[0].rendered.contains("already taken"));
}

#[test]
fn resolve_accepts_an_id_or_a_path_and_lists_known_ids_otherwise() {
    let dir = user_dir(&[("x.toml", upper_back_with_id("from-file").as_bytes())]);
    let catalog = Catalog::builtin();
    assert_eq!(catalog.resolve("upper-back").unwrap().id, "upper-back");
    let path = dir.path().join("x.toml");
    assert_eq!(
        catalog.resolve(path.to_str().unwrap()).unwrap().id,
        "from-file"
    );
    match catalog.resolve("uper-back") {
        Err(ResolveError::Unknown { known, .. }) => assert!(known.contains(&"upper-back".into())),
        other => panic!("expected an unknown protocol, got {other:?}"),
    }
    assert!(matches!(
        catalog.resolve("missing.toml"),
        Err(ResolveError::File(_))
    ));
}
