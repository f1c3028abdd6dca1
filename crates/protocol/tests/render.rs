//! The handout rendered back from the protocol files.
#![cfg(feature = "full")]

use rollcoach_protocol::{Catalog, render};

fn protocol(id: &str) -> rollcoach_protocol::Protocol {
    Catalog::builtin()
        .get(id)
        .cloned()
        .expect("built-in protocol")
}

#[test]
fn upper_back_markdown() {
    insta::assert_snapshot!(render::markdown(&protocol("upper-back")));
}

#[test]
fn upper_back_html() {
    insta::assert_snapshot!(render::html(&protocol("upper-back")));
}

#[test]
fn upper_back_ball_cane_markdown() {
    insta::assert_snapshot!(render::markdown(&protocol("upper-back-ball-cane")));
}

/// The facts of the handout (../shared/seed/foam-rolling-upper-back.txt),
/// checked in both formats.
#[test]
fn the_upper_back_handout_carries_the_handouts_facts() {
    let p = protocol("upper-back");
    for (format, text) in [
        ("markdown", render::markdown(&p)),
        ("html", render::html(&p)),
    ] {
        let lower = text.to_lowercase();
        let facts = [
            ("5-8 reps", "5-8 reps"),
            ("the 48-hour rule", "48 hours"),
            ("the spine", "pain directly over the spine"),
            ("pops are normal", "snaps, crackles and pops are normal"),
            (
                "breathing in one direction and out the other",
                "breathe in one direction and out the other",
            ),
            ("switching the pairing", "switch the pairing"),
            ("foam roller", "foam roller"),
            ("lacrosse ball", "lacrosse ball"),
            ("trigger point cane", "trigger point cane"),
            ("base of the neck", "base of your neck"),
            ("shoulder blades", "base of your shoulder blades"),
            ("the karate chop", "karate-chop"),
            ("some discomfort", "some discomfort is normal"),
        ];
        for (fact, needle) in facts {
            assert!(
                lower.contains(needle),
                "{format} handout lacks {fact} ({needle:?})"
            );
        }
        assert!(
            text.contains(
                "Adapted from Foam Rolling the Upper Back, by Nick April, coach at Bent On Better"
            ),
            "{format} handout lacks the credit"
        );
    }
}

#[test]
fn the_second_protocol_keeps_the_rules_in_other_words() {
    let a = protocol("upper-back");
    let b = protocol("upper-back-ball-cane");
    assert_eq!(a.area, b.area);
    assert_eq!(a.movement.reps, b.movement.reps);
    assert_eq!(a.screening.injury_rule.window_hours, 48);
    assert_eq!(b.screening.injury_rule.window_hours, 48);
    assert_eq!(a.credit, b.credit);
    assert_eq!(b.default_instrument, "lacrosse-ball");
    // Really different wording: no setup step, note or stop message is shared.
    for (x, y) in a.setup.iter().zip(&b.setup) {
        assert_ne!(x.text, y.text);
        assert_ne!(x.cue, y.cue);
    }
    for (x, y) in a.stop_rules.iter().zip(&b.stop_rules) {
        assert_eq!(x.trigger, y.trigger);
        assert_ne!(x.message, y.message);
    }
    assert_ne!(a.movement.text, b.movement.text);
    assert_ne!(a.movement.breathing.text, b.movement.breathing.text);
    let text = render::markdown(&b).to_lowercase();
    for needle in [
        "5-8 reps",
        "48 hours",
        "spine",
        "pop is normal",
        "breathe in one direction and out the other",
        "bent on better",
    ] {
        assert!(
            text.contains(needle),
            "the ball and cane handout lacks {needle:?}"
        );
    }
}

#[test]
fn the_html_handout_is_standalone_printable_and_accessible() {
    let html = render::html(&protocol("upper-back"));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("<h1>") && html.contains("<h2 id="));
    assert!(html.contains("<ol>") && html.contains("<ul>"));
    assert!(html.contains("@media print") && html.contains("@page"));
    for external in ["<script", "<link", "src=", "http://", "https://"] {
        assert!(
            !html.contains(external),
            "the HTML must be standalone: {external}"
        );
    }
}

#[test]
fn html_escapes_the_protocols_text() {
    let mut p = protocol("upper-back");
    p.title = "<b>Rolling</b> & \"more\"".into();
    let html = render::html(&p);
    assert!(html.contains("&lt;b&gt;Rolling&lt;/b&gt; &amp; &quot;more&quot;"));
    assert!(!html.contains("<b>Rolling"));
}

/// A "Source:" a person reads names a study (authors, year, journal), the
/// handout, or says that no study was found: never a file to look up.
#[test]
fn every_source_in_a_handout_names_a_study_never_a_file() {
    for p in Catalog::builtin().all() {
        let sources = p
            .screening
            .questions
            .iter()
            .map(|q| &q.source)
            .chain(p.stop_rules.iter().map(|r| &r.source))
            .chain(p.cautions.iter().map(|c| &c.source))
            .chain(std::iter::once(&p.movement.tempo.source));
        for source in sources {
            let names_a_year = source
                .as_bytes()
                .windows(4)
                .any(|w| w.iter().all(u8::is_ascii_digit) && (w[0] == b'1' || w[0] == b'2'));
            assert!(
                source.starts_with("handout")
                    || names_a_year
                    || source.contains("no study was found"),
                "{}: source {source:?} names no study",
                p.id
            );
        }
        for text in [render::markdown(p), render::html(p)] {
            for file in ["EVIDENCE", "DESIGN", ".md", ".txt"] {
                assert!(
                    !text.contains(file),
                    "{}: the handout names a file: {file}",
                    p.id
                );
            }
        }
    }
}
