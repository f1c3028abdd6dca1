//! Issue 24: protocol files that lint used to pass while weakening safety
//! or holding text the import refuses (findings 4, 9 and 13).
#![cfg(feature = "full")]

use rollcoach_protocol::{BUILTIN_SOURCES, diagnostic, parse};

fn upper_back() -> &'static str {
    BUILTIN_SOURCES
        .iter()
        .find(|(name, _)| *name == "upper-back.toml")
        .unwrap()
        .1
}

/// Replaces `from` (which must occur) with `to`, once.
fn edit(source: &str, from: &str, to: &str) -> String {
    assert!(
        source.contains(from),
        "the fixture no longer holds {from:?}"
    );
    source.replacen(from, to, 1)
}

/// The built-in under another id: a file of the user's own.
fn copy(id: &str) -> String {
    edit(
        upper_back(),
        "id = \"upper-back\"",
        &format!("id = \"{id}\""),
    )
}

fn errors(source: &str) -> String {
    match parse(source) {
        Ok(_) => "valid".to_owned(),
        Err(d) => diagnostic::render("p.toml", source, &d),
    }
}

/// Finding 4: control characters and bidirectional overrides in any text
/// are refused with the field and the fix (they failed before: lint said
/// valid, and the import then refused every session of the protocol).
#[test]
fn control_characters_and_bidi_overrides_in_text_are_refused() {
    for (from, to, field) in [
        ("title = \"", "title = \"\\u001b]0;owned\\u0007", "title"),
        (
            "cue = \"roll toward your neck\"",
            "cue = \"roll \\u202etoward your neck\"",
            "movement.out.cue",
        ),
        // A raw override in the file, not an escape.
        ("title = \"", "title = \"\u{2066}", "title"),
        ("text = \"", "text = \"\\r", "credit.text"),
    ] {
        let src = edit(&copy("mine"), from, to);
        let out = errors(&src);
        assert!(
            out.contains("a control character or bidirectional override")
                && out.contains(&format!("`{field}` holds U+"))
                && out.contains("remove it and write the text as plain characters"),
            "{to}: {out}"
        );
    }
    // The raw override is not printed raw with the source line.
    let src = edit(&copy("mine"), "title = \"", "title = \"\u{2066}");
    let out = errors(&src);
    assert!(
        !out.contains('\u{2066}') && out.contains("title = \"\u{fffd}Foam"),
        "{out}"
    );
    // Newlines and tabs are text.
    let src = edit(&copy("mine"), "title = \"", "title = \"\\tA\\n");
    assert_eq!(errors(&src), "valid");
    // The JSON form is checked by the same rule, naming the path.
    let mut p = parse(&copy("mine")).unwrap();
    p.stop_rules[1].message.push('\u{202e}');
    let err = p.check().unwrap_err().to_string();
    assert!(
        err.contains("`stop_rules[1].message` holds U+202E"),
        "{err}"
    );
}

fn load(source: &str) -> Result<rollcoach_protocol::Protocol, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(&path, source).unwrap();
    rollcoach_protocol::load_file(&path).map_err(|e| e.to_string())
}

fn derived(source: &str) -> String {
    let p = parse(source).unwrap();
    diagnostic::render(
        "p.toml",
        source,
        &rollcoach_protocol::derived_warnings(source, &p),
    )
}

/// Finding 13: a file reusing the built-in id `upper-back` and version 1
/// with the discomfort stop above 9 ran and was recorded as upper-back v1
/// (before the fix `load_file` gave Ok): it is refused with the fix; a copy
/// of the built-in is the built-in, and loads.
#[test]
fn a_file_may_not_take_a_builtins_identity() {
    let src = edit(upper_back(), "above = 7", "above = 9");
    let err = load(&src).unwrap_err();
    assert!(
        err.contains("p.toml:7:")
            && err.contains("the id `upper-back` (version 1) is a built-in protocol's")
            && err.contains("(and weakens it in 1 way)")
            && err.contains("give the protocol in this file another id, e.g. `upper-back-mine`"),
        "{err}"
    );
    let copy = load(upper_back()).expect("a copy of the built-in");
    assert_eq!(&copy, rollcoach_protocol::builtin().first().unwrap());
    // Under its own id, it loads.
    load(&edit(
        &src,
        "id = \"upper-back\"",
        "id = \"upper-back-mine\"",
    ))
    .expect("its own id");
}

/// Finding 13: lint names every way a file weakens the built-in it derives
/// from, a renamed injury question that lets "yes, injured" through
/// included (`Protocol::safety_warnings` saw neither).
#[test]
fn lint_names_each_way_a_file_weakens_its_builtin() {
    let src = edit(&copy("upper-back-mine"), "above = 7", "above = 9");
    let src = edit(&src, "window_hours = 48", "window_hours = 47");
    let src = edit(&src, "id = \"recent-injury\"", "id = \"injured-lately\"");
    let src = edit(&src, "refuse_on = \"yes\"", "refuse_on = \"no\"");
    let src = edit(&src, "injury_window = true\n", "");
    // No stop for other pain.
    let a = src.find("[[stop_rules]]\nid = \"other-pain\"").unwrap();
    let b = a + src[a..].find("[[cautions]]").unwrap();
    let src = format!("{}{}", &src[..a], &src[b..]);
    let out = derived(&src);
    for says in [
        "warning: weaker than built-in `upper-back`: the discomfort stop is above 9, later than built-in `upper-back`'s above 7",
        "the injury window is 47 hours, shorter than built-in `upper-back`'s 48",
        "built-in `upper-back`'s screening question `recent-injury`",
        "is not asked",
        "no stop rule for what built-in `upper-back`'s `other-pain` stops on",
        "hint: use `above = 7` or lower",
    ] {
        assert!(out.contains(says), "{says}: {out}");
    }
    // The answer flipped under the same id, and the mark removed.
    let src = edit(&copy("mine"), "refuse_on = \"yes\"", "refuse_on = \"no\"");
    let src = edit(&src, "injury_window = true\n", "");
    let out = derived(&src);
    assert!(
        out.contains("the screening question `recent-injury` refuses on \"no\", built-in `upper-back`'s on \"yes\"")
            && out.contains("is not marked as the recent-injury question"),
        "{out}"
    );
    // The built-ins and a faithful copy: nothing.
    for (_, source) in BUILTIN_SOURCES {
        assert_eq!(derived(source), "");
    }
    assert_eq!(derived(&copy("upper-back-mine")), "");
    // Stricter is not weaker.
    assert_eq!(derived(&edit(&copy("mine"), "above = 7", "above = 5")), "");
}

/// Finding 9: an 86 KB protocol, valid otherwise, whose sessions exceed the
/// 64 KiB sync limit, is refused with the size and the limit (before the fix
/// lint said valid, and every session got 413 from the server).
#[test]
fn a_protocol_whose_sessions_cannot_sync_is_refused() {
    let long = "A long summary. ".repeat(5_500);
    let src = edit(
        &copy("big"),
        "summary = \"\"\"",
        &format!("summary = \"\"\"{long}"),
    );
    assert!(src.len() > 86_000, "{}", src.len());
    let out = errors(&src);
    assert!(
        out.contains("a session of this protocol can take up to")
            && out.contains("over the 65536 bytes (64 KiB) the server takes in one push")
            && out.contains("hint: shorten its texts"),
        "{out}"
    );
    // Every built-in fits with room to spare.
    for p in rollcoach_protocol::builtin() {
        let size = rollcoach_protocol::sync_size(&p);
        assert!(
            size.total * 2 < rollcoach_protocol::SYNC_BODY_LIMIT,
            "{}: {size:?}",
            p.id
        );
    }
}
