//! The protocol back into a printable handout: Markdown or one standalone
//! HTML file.
//!
//! Both formats carry the same content, in the same order, from the protocol
//! alone: reasons to consider it (with what is rated), instruments, the
//! screening with the injury rule, setup steps with their instrument
//! variants, the movement with reps, pace and breathing, notes, stop rules,
//! cautions with their sources, and the credit.

use std::fmt::Write as _;

use crate::{Answer, NoteMoment, Pairing, Protocol, StopTrigger};

/// A handout section: a heading and its items, format-neutral.
struct Section {
    id: &'static str,
    title: String,
    intro: Option<String>,
    ordered: bool,
    items: Vec<Item>,
}

/// What goes between a bold lead and its text: a lead that is a sentence
/// (a question) needs no colon.
fn separator(lead: &str) -> &'static str {
    if lead.ends_with(['?', '.', '!']) {
        " "
    } else {
        ": "
    }
}

/// One list item: a lead in bold (may be empty), the text, and sub-items.
struct Item {
    lead: String,
    text: String,
    source: Option<String>,
    sub: Vec<(String, String)>,
}

impl Item {
    fn new(lead: impl Into<String>, text: impl Into<String>) -> Item {
        Item {
            lead: lead.into(),
            text: text.into(),
            source: None,
            sub: Vec::new(),
        }
    }

    fn source(mut self, source: &str) -> Item {
        self.source = Some(source.to_string());
        self
    }
}

fn fmt_seconds(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

fn when(moment: NoteMoment) -> String {
    match moment {
        NoteMoment::BeforeRolling => "Before you start".into(),
        NoteMoment::RollingStart => "As you start".into(),
        NoteMoment::Rep(k) => format!("At rep {k}"),
        NoteMoment::OnNoise => "If you hear a noise".into(),
        NoteMoment::OnDiscomfort => "If it is uncomfortable".into(),
    }
}

fn trigger(t: StopTrigger) -> String {
    match t {
        StopTrigger::PainWithPop => "Pain with a snap, crackle or pop".into(),
        StopTrigger::PainOverSpine => "Pain directly over the spine".into(),
        StopTrigger::SharpOrRadiating => "Sharp, radiating, numb or tingling feelings".into(),
        StopTrigger::OtherPain => "Any other pain".into(),
        StopTrigger::Discomfort { above } => {
            format!("Discomfort above {above} out of 10")
        }
    }
}

fn sections(p: &Protocol) -> Vec<Section> {
    let mut out = Vec::new();
    let reps = p.movement.reps;
    let tempo = &p.movement.tempo;
    let breathing = &p.movement.breathing;

    out.push(Section {
        id: "reasons",
        title: "Reasons to consider it".into(),
        intro: Some("Rate each before and after, from 0 to 10, to see what changed.".into()),
        ordered: false,
        items: p
            .indications
            .iter()
            .map(|i| {
                let mut item = Item::new("", &i.text);
                item.sub.push((
                    format!("Rate: {}", i.rating.label),
                    format!(
                        "{} (0 = {}, 10 = {})",
                        i.rating.question, i.rating.low, i.rating.high
                    ),
                ));
                item
            })
            .collect(),
    });

    out.push(Section {
        id: "instruments",
        title: "What you can use".into(),
        intro: None,
        ordered: false,
        items: p
            .instruments
            .iter()
            .map(|i| {
                let lead = if i.id == p.default_instrument {
                    format!("{} (the default)", i.name)
                } else {
                    i.name.clone()
                };
                Item::new(lead, i.note.clone().unwrap_or_default())
            })
            .collect(),
    });

    let rule = &p.screening.injury_rule;
    let mut screening = vec![
        Item::new(
            format!("The {}-hour rule", rule.window_hours),
            &rule.message,
        )
        .source("handout"),
    ];
    for q in &p.screening.questions {
        let answer = match q.refuse_on {
            Answer::Yes => "yes",
            Answer::No => "no",
        };
        screening.push(Item::new(&q.text, format!("If {answer}: {}", q.refusal)).source(&q.source));
    }
    out.push(Section {
        id: "before",
        title: "Before you start".into(),
        intro: None,
        ordered: false,
        items: screening,
    });

    out.push(Section {
        id: "setup",
        title: "Getting into position".into(),
        intro: None,
        ordered: true,
        items: p
            .setup
            .iter()
            .map(|s| {
                let mut item = Item::new("", &s.text);
                for v in &s.variants {
                    let name = p
                        .instrument(&v.instrument)
                        .map_or(v.instrument.as_str(), |i| i.name.as_str());
                    item.sub
                        .push((format!("With a {}", name.to_lowercase()), v.text.clone()));
                }
                item
            })
            .collect(),
    });

    let (first_in, first_out) = match breathing.start {
        Pairing::InhaleOut => (&p.movement.out, &p.movement.back),
        Pairing::InhaleBack => (&p.movement.back, &p.movement.out),
    };
    let mut switching = Vec::new();
    if let Some(n) = breathing.switch_every_reps {
        switching.push(format!("switch the pairing every {n} reps"));
    }
    if breathing.alternate_each_session {
        switching.push("start the next session with the other pairing".to_string());
    }
    let mut pairing = format!(
        "Breathe in one direction and out the other: to start, {} as you {}, {} as you {}.",
        breathing.inhale_cue, first_in.cue, breathing.exhale_cue, first_out.cue
    );
    if !switching.is_empty() {
        let _ = write!(pairing, " Then {}.", switching.join(", and "));
    }
    out.push(Section {
        id: "movement",
        title: "The movement".into(),
        intro: Some(p.movement.text.clone()),
        ordered: false,
        items: vec![
            Item::new(
                "Out",
                format!("from {} to {}.", p.movement.out.from, p.movement.out.to),
            ),
            Item::new(
                "Back",
                format!("from {} to {}.", p.movement.back.from, p.movement.back.to),
            ),
            Item::new(
                "Reps",
                format!(
                    "{}-{} reps (rollcoach's default: {}). One rep is out and back.",
                    reps.min, reps.max, reps.default
                ),
            ),
            Item::new(
                "Pace",
                format!(
                    "about {} seconds each way, adjustable from {} to {} seconds; {} to {} seconds of rolling in all.",
                    fmt_seconds(tempo.default_seconds),
                    fmt_seconds(tempo.min_seconds),
                    fmt_seconds(tempo.max_seconds),
                    fmt_seconds(f64::from(reps.min) * 2.0 * tempo.default_seconds),
                    fmt_seconds(f64::from(reps.max) * 2.0 * tempo.default_seconds),
                ),
            )
            .source(&tempo.source),
            Item::new("Breathing", format!("{} {pairing}", breathing.text)),
        ],
    });

    if !p.notes.is_empty() {
        out.push(Section {
            id: "notes",
            title: "Good to know".into(),
            intro: None,
            ordered: false,
            items: p
                .notes
                .iter()
                .map(|n| Item::new(when(n.when), &n.text))
                .collect(),
        });
    }

    out.push(Section {
        id: "stop",
        title: "Stop at once".into(),
        intro: Some("A noise without pain is not a reason to stop.".into()),
        ordered: false,
        items: p
            .stop_rules
            .iter()
            .map(|r| Item::new(trigger(r.trigger), &r.message).source(&r.source))
            .collect(),
    });

    if !p.cautions.is_empty() {
        out.push(Section {
            id: "cautions",
            title: "Cautions beyond the handout".into(),
            intro: Some(
                "These come from research summaries, not from the original handout.".into(),
            ),
            ordered: false,
            items: p
                .cautions
                .iter()
                .map(|c| Item::new("", &c.text).source(&c.source))
                .collect(),
        });
    }
    out
}

/// The handout as Markdown.
pub fn markdown(p: &Protocol) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", p.title);
    let _ = writeln!(out, "{}\n", p.summary.trim());
    for s in sections(p) {
        let _ = writeln!(out, "## {}\n", s.title);
        if let Some(intro) = &s.intro {
            let _ = writeln!(out, "{}\n", intro.trim());
        }
        for (n, item) in s.items.iter().enumerate() {
            let bullet = if s.ordered {
                format!("{}.", n + 1)
            } else {
                "-".to_string()
            };
            let mut line = String::new();
            if !item.lead.is_empty() {
                let _ = write!(line, "**{}**", item.lead);
                if !item.text.is_empty() {
                    line.push_str(separator(&item.lead));
                }
            }
            line.push_str(item.text.trim());
            if let Some(source) = &item.source {
                let _ = write!(line, " *(Source: {source})*");
            }
            let _ = writeln!(out, "{bullet} {line}");
            let indent = " ".repeat(bullet.len() + 1);
            for (lead, text) in &item.sub {
                let _ = writeln!(out, "{indent}- *{lead}*: {}", text.trim());
            }
        }
        out.push('\n');
    }
    let _ = writeln!(out, "---\n\n{}", p.credit.text);
    out
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const CSS: &str = "\
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif; line-height: 1.5;
  color: #1a1a1a; background: #fff; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.9rem; margin-bottom: 0.25rem; }
h2 { font-size: 1.25rem; margin-top: 1.75rem; border-bottom: 2px solid #2f6f4f; padding-bottom: 0.15rem; }
.summary { font-size: 1.1rem; }
li { margin: 0.35rem 0; }
li ul { margin-top: 0.2rem; }
.source { color: #4a4a4a; font-size: 0.9em; font-style: italic; }
#stop h2 { border-color: #a11; }
#stop li strong { color: #a11; }
footer { margin-top: 2rem; border-top: 1px solid #999; padding-top: 0.5rem; }
@page { margin: 15mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  li { break-inside: avoid; page-break-inside: avoid; }
  section { break-inside: auto; }
  a { color: inherit; text-decoration: none; }
}
";

/// The handout as one standalone HTML file (inline CSS, no scripts or
/// external resources), printable on A4 and Letter.
pub fn html(p: &Protocol) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n\
         <header>\n<h1>{}</h1>\n<p class=\"summary\">{}</p>\n</header>\n",
        esc(&p.title),
        esc(&p.title),
        esc(p.summary.trim())
    );
    for s in sections(p) {
        let _ = writeln!(
            out,
            "<section id=\"{id}\" aria-labelledby=\"{id}-title\">\n<h2 id=\"{id}-title\">{}</h2>",
            esc(&s.title),
            id = s.id
        );
        if let Some(intro) = &s.intro {
            let _ = writeln!(out, "<p>{}</p>", esc(intro.trim()));
        }
        let tag = if s.ordered { "ol" } else { "ul" };
        let _ = writeln!(out, "<{tag}>");
        for item in &s.items {
            out.push_str("<li>");
            if !item.lead.is_empty() {
                let _ = write!(out, "<strong>{}</strong>", esc(&item.lead));
                if !item.text.is_empty() {
                    out.push_str(separator(&item.lead));
                }
            }
            out.push_str(&esc(item.text.trim()));
            if let Some(source) = &item.source {
                let _ = write!(
                    out,
                    " <span class=\"source\">(Source: {})</span>",
                    esc(source)
                );
            }
            if !item.sub.is_empty() {
                out.push_str("\n<ul>\n");
                for (lead, text) in &item.sub {
                    let _ = writeln!(out, "<li><em>{}</em>: {}</li>", esc(lead), esc(text.trim()));
                }
                out.push_str("</ul>\n");
            }
            out.push_str("</li>\n");
        }
        let _ = writeln!(out, "</{tag}>\n</section>");
    }
    let _ = write!(
        out,
        "</main>\n<footer>\n<p>{}</p>\n</footer>\n</body>\n</html>\n",
        esc(&p.credit.text)
    );
    out
}
