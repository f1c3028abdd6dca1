//! The rules a protocol follows, checked on the typed model, whatever the
//! source: a protocol file ([`crate::parse`], which locates each problem on
//! its line) or JSON ([`Protocol::from_json`]: the page, an import's
//! snapshot, anything that arrives over the wire).
//!
//! Two sets: the *values* (no blank text, an injury window of at least an
//! hour, reps from 1 to [`MAX_REPS`]), which the JSON Schema states and a
//! protocol file's structural check reports with the schema's words; and
//! the *rules* that span fields: ids (the protocol id's one rule,
//! [`ProtocolId::parse`]), unique ids, references that resolve, reps and
//! tempo in order and in range, notes and stop rules that can happen. Each
//! problem names its field as a dotted path with indexes
//! (`stop_rules[2].trigger.above`, `setup[0].id`).

use std::fmt;

use crate::id::{ProtocolId, ProtocolIdError, is_kebab, kebab_example};
use crate::words::suggest;
use crate::{
    MAX_PROTOCOL_ID_LEN, MAX_REPS, MAX_TEMPO_SECONDS, MIN_TEMPO_SECONDS, NoteMoment, Protocol,
    StopTrigger,
};

/// One problem in a protocol: the field, what is wrong, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolProblem {
    /// The field, as a dotted path with indexes: `movement.reps.min`,
    /// `stop_rules[2].trigger.above`; empty for the protocol as a whole.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it, if there is a hint.
    pub hint: Option<String>,
}

/// Why a protocol is refused: every problem found, at least one, in the
/// order found. Displayed as one line per problem,
/// `` `path`: message (hint) ``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolProblems(pub Vec<ProtocolProblem>);

impl fmt::Display for ProtocolProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str("the protocol")?;
        } else {
            write!(f, "`{}`", self.path)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

impl fmt::Display for ProtocolProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProtocolProblems {}

/// A problem as the checks find it: with the other fields it was read from,
/// so that a protocol file whose structure was broken there (and repaired to
/// be read at all) does not get a second, made-up problem about them.
#[derive(Debug)]
pub(crate) struct Found {
    pub(crate) problem: ProtocolProblem,
    /// Fields besides `problem.path` the problem depends on.
    #[cfg_attr(not(feature = "full"), allow(dead_code))]
    pub(crate) reads: Vec<String>,
}

impl Protocol {
    /// A protocol from its JSON form (its serde form, as the server sends it
    /// to the page and an export document holds a session's snapshot),
    /// checked as a protocol file is: the same types, then every value and
    /// rule ([`Protocol::check`]). A refusal names each problem's field.
    pub fn from_json(json: &str) -> Result<Protocol, ProtocolProblems> {
        let shape = |path: String, message: String| {
            ProtocolProblems(vec![ProtocolProblem {
                path,
                message,
                hint: Some("see docs/protocol-format.md for what a protocol holds".into()),
            }])
        };
        // A value of the wrong shape is named by its path; in the page's
        // module, by its line and column alone (the path tracking would be
        // most of the module's protocol code, and the page reads protocols
        // its own server wrote).
        #[cfg(not(target_arch = "wasm32"))]
        let protocol: Protocol = {
            let de = &mut serde_json::Deserializer::from_str(json);
            serde_path_to_error::deserialize(de).map_err(|e| {
                let path = e.path().to_string();
                let path = if path == "." { String::new() } else { path };
                shape(path, e.into_inner().to_string())
            })?
        };
        #[cfg(target_arch = "wasm32")]
        let protocol: Protocol =
            serde_json::from_str(json).map_err(|e| shape(String::new(), e.to_string()))?;
        protocol.check()?;
        Ok(protocol)
    }

    /// Checks every value and rule of the protocol: no blank text, an
    /// injury window of at least an hour, reps from 1 to [`MAX_REPS`] (what
    /// the JSON Schema states), and the rules that span fields: the
    /// protocol id's one rule ([`ProtocolId::parse`]), unique ids,
    /// references that resolve, reps and tempo in order and in range, notes
    /// and stop rules that can happen. What [`crate::parse`] checks of a
    /// protocol file once its structure is right, each problem named by its
    /// field's dotted path instead of the file's line.
    pub fn check(&self) -> Result<(), ProtocolProblems> {
        let locate = |path: &str| format!("at `{path}`");
        let mut found = values(self);
        found.extend(rules(self, &locate));
        if found.is_empty() {
            Ok(())
        } else {
            Err(ProtocolProblems(
                found.into_iter().map(|f| f.problem).collect(),
            ))
        }
    }
}

/// Collects problems.
struct Out {
    found: Vec<Found>,
    /// Whether to report the values (blank text, numbers out of range):
    /// `false` for a protocol file, whose structural check reports them
    /// with the schema's words. Text a terminal would act on is reported
    /// either way.
    values: bool,
}

impl Out {
    fn push(&mut self, path: String, message: String, hint: Option<String>, reads: Vec<String>) {
        self.found.push(Found {
            problem: ProtocolProblem {
                path,
                message,
                hint,
            },
            reads,
        });
    }

    /// Blank text (empty or only spaces) among the `fields` of the table
    /// at `table` (`None`: an optional field left out).
    /// And text holding a character a terminal would act on
    /// ([`crate::is_unprintable`]: the import refuses it, so lint does).
    fn texts(&mut self, table: &str, fields: &[(&str, Option<&String>)]) {
        for (key, text) in fields {
            let Some(text) = text else { continue };
            let path = || {
                if table.is_empty() {
                    (*key).to_owned()
                } else {
                    format!("{table}.{key}")
                }
            };
            if self.values && text.trim().is_empty() {
                let message = format!("`{}` is empty", path());
                self.push(path(), message, Some("write it".into()), Vec::new());
            }
            if let Some(c) = text.chars().find(|c| crate::is_unprintable(*c)) {
                let message = format!(
                    "`{}` holds U+{:04X}, a control character or bidirectional override \
                     that a terminal would act on (the import refuses such text)",
                    path(),
                    u32::from(c)
                );
                self.push(
                    path(),
                    message,
                    Some(
                        "remove it and write the text as plain characters (newlines and tabs \
                         are fine)"
                            .into(),
                    ),
                    Vec::new(),
                );
            }
        }
    }

    /// A whole number outside `lo..=hi` (`hi` none: no upper bound).
    fn range(&mut self, path: &str, x: u32, lo: u32, hi: Option<u32>) {
        if !self.values {
            return;
        }
        if x < lo || hi.is_some_and(|hi| x > hi) {
            let range = match hi {
                Some(hi) => format!("from {lo} to {hi}"),
                None => format!("of at least {lo}"),
            };
            self.push(
                path.to_owned(),
                format!("`{path}` must be a whole number {range}"),
                None,
                Vec::new(),
            );
        }
    }
}

/// The values: no blank text anywhere, an injury window of at least one
/// hour, reps from 1 to [`MAX_REPS`]. A protocol file's structural check
/// reports these itself, with the schema's descriptions.
pub(crate) fn values(p: &Protocol) -> Vec<Found> {
    texts_and_values(p, true)
}

/// Text a terminal would act on, anywhere in the protocol: what a protocol
/// file's structural check does not see (TOML escapes such as `\u001b` and
/// `\u202e` are valid strings).
#[cfg(feature = "full")]
pub(crate) fn unprintable(p: &Protocol) -> Vec<Found> {
    texts_and_values(p, false)
}

fn texts_and_values(p: &Protocol, values: bool) -> Vec<Found> {
    let mut o = Out {
        found: Vec::new(),
        values,
    };
    o.texts(
        "",
        &[
            ("id", Some(&p.id)),
            ("title", Some(&p.title)),
            ("area", Some(&p.area)),
            ("summary", Some(&p.summary)),
            ("default_instrument", Some(&p.default_instrument)),
        ],
    );
    let c = &p.credit;
    o.texts(
        "credit",
        &[
            ("source_title", Some(&c.source_title)),
            ("author", Some(&c.author)),
            ("role", Some(&c.role)),
            ("text", Some(&c.text)),
        ],
    );
    for (i, ind) in p.indications.iter().enumerate() {
        let at = format!("indications[{i}]");
        o.texts(&at, &[("id", Some(&ind.id)), ("text", Some(&ind.text))]);
        let r = &ind.rating;
        o.texts(
            &format!("{at}.rating"),
            &[
                ("id", Some(&r.id)),
                ("label", Some(&r.label)),
                ("question", Some(&r.question)),
                ("low", Some(&r.low)),
                ("high", Some(&r.high)),
            ],
        );
    }
    for (i, inst) in p.instruments.iter().enumerate() {
        o.texts(
            &format!("instruments[{i}]"),
            &[
                ("id", Some(&inst.id)),
                ("name", Some(&inst.name)),
                ("note", inst.note.as_ref()),
            ],
        );
    }
    let rule = &p.screening.injury_rule;
    o.range(
        "screening.injury_rule.window_hours",
        rule.window_hours,
        1,
        None,
    );
    o.texts("screening.injury_rule", &[("message", Some(&rule.message))]);
    for (i, q) in p.screening.questions.iter().enumerate() {
        o.texts(
            &format!("screening.questions[{i}]"),
            &[
                ("id", Some(&q.id)),
                ("text", Some(&q.text)),
                ("refusal", Some(&q.refusal)),
                ("source", Some(&q.source)),
            ],
        );
    }
    for (i, step) in p.setup.iter().enumerate() {
        let at = format!("setup[{i}]");
        o.texts(
            &at,
            &[
                ("id", Some(&step.id)),
                ("text", Some(&step.text)),
                ("cue", Some(&step.cue)),
            ],
        );
        for (j, v) in step.variants.iter().enumerate() {
            o.texts(
                &format!("{at}.variants[{j}]"),
                &[
                    ("instrument", Some(&v.instrument)),
                    ("text", Some(&v.text)),
                    ("cue", Some(&v.cue)),
                ],
            );
        }
    }
    let m = &p.movement;
    o.texts("movement", &[("text", Some(&m.text))]);
    for (key, d) in [("movement.out", &m.out), ("movement.back", &m.back)] {
        o.texts(
            key,
            &[
                ("from", Some(&d.from)),
                ("to", Some(&d.to)),
                ("label", Some(&d.label)),
                ("cue", Some(&d.cue)),
                ("short_cue", d.short_cue.as_ref()),
            ],
        );
    }
    for (key, x) in [
        ("movement.reps.min", m.reps.min),
        ("movement.reps.max", m.reps.max),
        ("movement.reps.default", m.reps.default),
    ] {
        o.range(key, x, 1, Some(MAX_REPS));
    }
    o.texts("movement.tempo", &[("source", Some(&m.tempo.source))]);
    let b = &m.breathing;
    o.texts(
        "movement.breathing",
        &[
            ("text", Some(&b.text)),
            ("inhale_cue", Some(&b.inhale_cue)),
            ("exhale_cue", Some(&b.exhale_cue)),
            ("inhale_short", b.inhale_short.as_ref()),
            ("exhale_short", b.exhale_short.as_ref()),
        ],
    );
    for (i, n) in p.notes.iter().enumerate() {
        o.texts(
            &format!("notes[{i}]"),
            &[
                ("id", Some(&n.id)),
                ("text", Some(&n.text)),
                ("cue", Some(&n.cue)),
            ],
        );
    }
    for (i, r) in p.stop_rules.iter().enumerate() {
        o.texts(
            &format!("stop_rules[{i}]"),
            &[
                ("id", Some(&r.id)),
                ("message", Some(&r.message)),
                ("source", Some(&r.source)),
            ],
        );
    }
    for (i, c) in p.cautions.iter().enumerate() {
        o.texts(
            &format!("cautions[{i}]"),
            &[
                ("id", Some(&c.id)),
                ("text", Some(&c.text)),
                ("source", Some(&c.source)),
            ],
        );
    }
    o.found
}

/// A stop trigger's `kind`, as written.
fn kind_name(t: &StopTrigger) -> &'static str {
    match t {
        StopTrigger::PainWithPop => "pain-with-pop",
        StopTrigger::PainOverSpine => "pain-over-spine",
        StopTrigger::SharpOrRadiating => "sharp-or-radiating",
        StopTrigger::OtherPain => "other-pain",
        StopTrigger::Discomfort { .. } => "discomfort",
    }
}

/// The rules that span fields. `locate` words where another field is, for
/// a hint about it: `on line 12` in a file, `` at `setup[0].id` `` in JSON.
pub(crate) fn rules(p: &Protocol, locate: &dyn Fn(&str) -> String) -> Vec<Found> {
    let mut o = Out {
        found: Vec::new(),
        values: true,
    };
    ids(&mut o, p);
    // Unique ids within each list, each id kebab-case. Gathered by plain
    // loops: one non-generic check for every list keeps the page's module
    // small.
    let mut ids: Vec<&str> = Vec::new();
    macro_rules! list {
        ($items:expr, $list:expr, $what:expr) => {
            ids.clear();
            for x in $items {
                ids.push(&x.id);
            }
            unique_ids(&mut o, $list, $what, &ids, locate);
        };
    }
    list!(&p.indications, "indications", "indication");
    list!(&p.instruments, "instruments", "instrument");
    list!(&p.setup, "setup", "setup step");
    list!(&p.notes, "notes", "note");
    list!(&p.stop_rules, "stop_rules", "stop rule");
    list!(&p.cautions, "cautions", "caution");
    list!(
        &p.screening.questions,
        "screening.questions",
        "screening question"
    );
    ratings(&mut o, p, locate);
    for (list, empty, message, hint) in [
        (
            "setup",
            p.setup.is_empty(),
            "no setup steps",
            "add at least one `[[setup]]` step",
        ),
        (
            "instruments",
            p.instruments.is_empty(),
            "no instruments",
            "add at least one `[[instruments]]` entry",
        ),
        (
            "indications",
            p.indications.is_empty(),
            "no indications",
            "add at least one `[[indications]]` entry with a `rating`",
        ),
        (
            "stop_rules",
            p.stop_rules.is_empty(),
            "no stop rules",
            "add `[[stop_rules]]`, at least for pain",
        ),
    ] {
        if empty {
            o.push(list.into(), message.into(), Some(hint.into()), Vec::new());
        }
    }
    instrument_refs(&mut o, p);
    movement(&mut o, p);
    notes(&mut o, p);
    stop_rules(&mut o, p, locate);
    o.found
}

/// For each text that an earlier one equals, the index of the first:
/// `firsts[j] == Some(i)` when `texts[i] == texts[j]`, `i < j`, and `i` is
/// the first with that text. A plain scan, quadratic in the length of one
/// list (a protocol's lists hold a few items; a 1 MiB file, some
/// thousands): no hashing or sorting code in the page's module.
fn firsts(texts: &[&str]) -> Vec<Option<usize>> {
    let mut out = Vec::with_capacity(texts.len());
    for (j, text) in texts.iter().enumerate() {
        out.push(texts[..j].iter().position(|t| t == text));
    }
    out
}

/// Ids unique within the list at `list` (each in kebab-case).
fn unique_ids(o: &mut Out, list: &str, what: &str, ids: &[&str], locate: &dyn Fn(&str) -> String) {
    for (j, (id, first)) in ids.iter().zip(firsts(ids)).enumerate() {
        let path = format!("{list}[{j}].id");
        kebab(o, &path, "id", id);
        if let Some(i) = first {
            let first = format!("{list}[{i}].id");
            o.push(
                path,
                format!("duplicate {what} id `{id}`"),
                Some(format!(
                    "the first {what} with this id is {}; ids must be unique",
                    locate(&first)
                )),
                vec![first],
            );
        }
    }
}

/// The protocol's `id` (its one rule, [`ProtocolId::parse`]) and `area`
/// (kebab-case, at most as long as an id: the import's rule).
fn ids(o: &mut Out, p: &Protocol) {
    match ProtocolId::parse(&p.id) {
        // Blank text is a value problem.
        Ok(_) | Err(ProtocolIdError::Empty) => {}
        Err(ProtocolIdError::NotKebab { .. }) => kebab(o, "id", "id", &p.id),
        Err(e @ ProtocolIdError::TooLong { .. }) => {
            o.push("id".into(), e.problem(), Some(e.fix()), Vec::new());
        }
    }
    kebab(o, "area", "area", &p.area);
    if is_kebab(&p.area) && p.area.len() > MAX_PROTOCOL_ID_LEN {
        o.push(
            "area".into(),
            format!(
                "the area is {} characters long; an area has at most \
                 {MAX_PROTOCOL_ID_LEN}",
                p.area.len()
            ),
            Some(format!(
                "shorten it to {MAX_PROTOCOL_ID_LEN} characters or fewer (the import refuses \
                 a longer one)"
            )),
            Vec::new(),
        );
    }
}

/// `text` (at `path`, the field `key`) in kebab-case; blank text is a value
/// problem, not this one.
fn kebab(o: &mut Out, path: &str, key: &str, text: &str) {
    if !text.trim().is_empty() && !is_kebab(text) {
        o.push(
            path.to_owned(),
            format!("`{key}` \"{text}\" must be kebab-case: lowercase letters, digits and hyphens"),
            Some(format!("for example \"{}\"", kebab_example(text))),
            Vec::new(),
        );
    }
}

/// A rating may be shared by indications, but one id names one rating.
fn ratings(o: &mut Out, p: &Protocol, locate: &dyn Fn(&str) -> String) {
    let mut ids: Vec<&str> = Vec::new();
    for ind in &p.indications {
        ids.push(&ind.rating.id);
    }
    for (j, (ind, first)) in p.indications.iter().zip(firsts(&ids)).enumerate() {
        let r = &ind.rating;
        let path = format!("indications[{j}].rating.id");
        kebab(o, &path, "id", &r.id);
        if let Some(i) = first
            && p.indications[i].rating != *r
        {
            let first = format!("indications[{i}].rating.id");
            o.push(
                path,
                format!("duplicate rating id `{}` for a different rating", r.id),
                Some(format!(
                    "the rating {} has this id; give this one another id, or make the two \
                     identical to share it",
                    locate(&first)
                )),
                vec![first],
            );
        }
    }
}

fn instrument_refs(o: &mut Out, p: &Protocol) {
    let mut ids: Vec<&str> = Vec::new();
    for i in &p.instruments {
        if !i.id.trim().is_empty() {
            ids.push(&i.id);
        }
    }
    let check = |o: &mut Out, path: String, what: &str, s: &str| {
        if !s.trim().is_empty() && !ids.contains(&s) {
            let hint = match suggest(s, ids.iter().copied()) {
                Some(c) => format!("did you mean `{c}`?"),
                None if ids.is_empty() => "add `[[instruments]]` entries".to_string(),
                None => format!("the instruments are: {}", ids.join(", ")),
            };
            o.push(
                path,
                format!("{what} `{s}` is not one of the protocol's instruments"),
                Some(hint),
                Vec::new(),
            );
        }
    };
    check(
        o,
        "default_instrument".into(),
        "default_instrument",
        &p.default_instrument,
    );
    for (i, step) in p.setup.iter().enumerate() {
        let mut names: Vec<&str> = Vec::new();
        for v in &step.variants {
            names.push(&v.instrument);
        }
        for (j, (v, first)) in step.variants.iter().zip(firsts(&names)).enumerate() {
            let path = format!("setup[{i}].variants[{j}].instrument");
            check(o, path.clone(), "the variant's instrument", &v.instrument);
            if first.is_some() {
                o.push(
                    path,
                    format!(
                        "duplicate variant for instrument `{}` in this setup step",
                        v.instrument
                    ),
                    Some("keep one wording per instrument".into()),
                    Vec::new(),
                );
            }
        }
    }
}

const REPS_MIN: &str = "movement.reps.min";
const REPS_MAX: &str = "movement.reps.max";
const REPS_DEFAULT: &str = "movement.reps.default";

/// Reps, tempo and breathing.
fn movement(o: &mut Out, p: &Protocol) {
    let m = &p.movement;
    let (lo, hi, d) = (m.reps.min, m.reps.max, m.reps.default);
    if lo > hi {
        o.push(
            REPS_MIN.into(),
            format!("reps out of order: `min` ({lo}) is above `max` ({hi})"),
            Some("swap them, or lower `min`".into()),
            vec![REPS_MAX.into()],
        );
    } else if d < lo || d > hi {
        o.push(
            REPS_DEFAULT.into(),
            format!("`movement.reps.default` ({d}) is outside `min`..`max` ({lo} to {hi})"),
            Some(format!("pick a default from {lo} to {hi}")),
            vec![REPS_MIN.into(), REPS_MAX.into()],
        );
    }
    let t = &m.tempo;
    let mut sane = [true; 3];
    for (k, (name, x)) in [
        ("min_seconds", t.min_seconds),
        ("max_seconds", t.max_seconds),
        ("default_seconds", t.default_seconds),
    ]
    .into_iter()
    .enumerate()
    {
        if !(x.is_finite() && (MIN_TEMPO_SECONDS..=MAX_TEMPO_SECONDS).contains(&x)) {
            sane[k] = false;
            o.push(
                format!("movement.tempo.{name}"),
                format!(
                    "`movement.tempo.{name}` is {x} s; a tempo must be from {MIN_TEMPO_SECONDS} to {MAX_TEMPO_SECONDS} seconds per direction"
                ),
                Some("Behm et al. 2020, Foam Rolling Prescription, J Strength Cond Res 34(11): 2-4 s per one-direction pass; rollcoach's default is 4 s, adjustable from 2 to 6 s".into()),
                Vec::new(),
            );
        }
    }
    let (lo, hi, d) = (t.min_seconds, t.max_seconds, t.default_seconds);
    if sane[0] && sane[1] && lo > hi {
        o.push(
            "movement.tempo.min_seconds".into(),
            format!("tempo out of order: `min_seconds` ({lo}) is above `max_seconds` ({hi})"),
            Some("swap them, or lower `min_seconds`".into()),
            vec!["movement.tempo.max_seconds".into()],
        );
    } else if sane == [true; 3] && (d < lo || d > hi) {
        o.push(
            "movement.tempo.default_seconds".into(),
            format!(
                "`movement.tempo.default_seconds` ({d}) is outside its allowed range, {lo} to {hi} seconds"
            ),
            Some("pick a default between `min_seconds` and `max_seconds`".into()),
            vec![
                "movement.tempo.min_seconds".into(),
                "movement.tempo.max_seconds".into(),
            ],
        );
    }
    if let Some(n) = m.breathing.switch_every_reps {
        let path = "movement.breathing.switch_every_reps";
        if n < 1 {
            o.push(
                path.into(),
                "`switch_every_reps` must be at least 1".into(),
                Some("leave it out to keep one pairing for the whole session".into()),
                Vec::new(),
            );
        } else if n >= hi_reps(p) && hi_reps(p) >= 1 {
            o.push(
                path.into(),
                format!(
                    "`switch_every_reps` ({n}) is not below `movement.reps.max` ({}), so the pairing would never switch",
                    hi_reps(p)
                ),
                Some("use a smaller number, or leave it out".into()),
                vec![REPS_MAX.into()],
            );
        }
    }
}

fn hi_reps(p: &Protocol) -> u32 {
    p.movement.reps.max
}

fn notes(o: &mut Out, p: &Protocol) {
    let m = hi_reps(p);
    for (i, note) in p.notes.iter().enumerate() {
        let NoteMoment::Rep(k) = note.when else {
            continue;
        };
        let path = format!("notes[{i}].when.rep");
        if k < 1 {
            o.push(
                path,
                "a note's rep must be at least 1 (reps count from 1)".into(),
                None,
                Vec::new(),
            );
        } else if k > m {
            o.push(
                path,
                format!("the note refers to rep {k}, beyond `movement.reps.max` ({m})"),
                Some(format!("use a rep from 1 to {m}")),
                vec![REPS_MAX.into()],
            );
        }
    }
}

fn stop_rules(o: &mut Out, p: &Protocol, locate: &dyn Fn(&str) -> String) {
    let mut kinds: Vec<&str> = Vec::new();
    for r in &p.stop_rules {
        kinds.push(kind_name(&r.trigger));
    }
    for (j, (rule, first)) in p.stop_rules.iter().zip(firsts(&kinds)).enumerate() {
        if let Some(i) = first {
            let kind = kinds[j];
            let first = format!("stop_rules[{i}].trigger.kind");
            o.push(
                format!("stop_rules[{j}].trigger.kind"),
                format!("a second stop rule with trigger `{kind}`"),
                Some(format!(
                    "the first is {}; keep one rule per trigger",
                    locate(&first)
                )),
                vec![first],
            );
        }
        if let StopTrigger::Discomfort { above } = rule.trigger
            && above > 9
        {
            o.push(
                format!("stop_rules[{j}].trigger.above"),
                format!("discomfort is rated 0 to 10, so `above = {above}` would never stop"),
                Some("Grabow et al. 2018, J Strength Cond Res 32: rolling at 4, 6 or 8 of 10 gave the same gain; stopping above 7 is a convention".into()),
                Vec::new(),
            );
        }
    }
}

#[cfg(all(test, feature = "full"))]
mod tests {
    use super::*;

    fn upper_back_json() -> serde_json::Value {
        let p = crate::builtin().remove(0);
        serde_json::to_value(&p).unwrap()
    }

    fn refused(v: &serde_json::Value) -> ProtocolProblems {
        Protocol::from_json(&v.to_string()).unwrap_err()
    }

    #[test]
    fn a_builtin_protocol_round_trips_through_json() {
        for p in crate::builtin() {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(Protocol::from_json(&json).unwrap(), p);
        }
    }

    #[test]
    fn json_that_breaks_a_rule_is_refused_with_the_path() {
        let mut v = upper_back_json();
        let discomfort = v["stop_rules"]
            .as_array()
            .unwrap()
            .iter()
            .position(|r| r["trigger"]["kind"] == "discomfort")
            .unwrap();
        v["stop_rules"][discomfort]["trigger"]["above"] = 11.into();
        v["movement"]["reps"]["min"] = 9.into();
        v["setup"][1]["id"] = v["setup"][0]["id"].clone();
        v["setup"][0]["variants"][0]["instrument"] = "tennis-ball".into();
        let err = refused(&v);
        let paths: Vec<&str> = err.0.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "setup[1].id",
                "setup[0].variants[0].instrument",
                "movement.reps.min",
                &format!("stop_rules[{discomfort}].trigger.above"),
            ],
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains(&format!(
                "`stop_rules[{discomfort}].trigger.above`: discomfort is rated 0 to 10, so `above = 11` would never stop"
            )),
            "{text}"
        );
        assert!(
            text.contains(
                "`setup[1].id`: duplicate setup step id `lie-down` (the first setup step with this id is at `setup[0].id`; ids must be unique)"
            ),
            "{text}"
        );
        assert!(
            text.contains("`movement.reps.min`: reps out of order: `min` (9) is above `max` (8)"),
            "{text}"
        );
    }

    #[test]
    fn json_values_are_checked_as_the_schema_says() {
        let mut v = upper_back_json();
        v["title"] = "  ".into();
        v["screening"]["injury_rule"]["window_hours"] = 0.into();
        v["movement"]["reps"]["max"] = 51.into();
        v["id"] = "a".repeat(65).into();
        let err = refused(&v);
        let shown: Vec<String> = err.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown[..3],
            [
                "`title`: `title` is empty (write it)",
                "`screening.injury_rule.window_hours`: `screening.injury_rule.window_hours` must be a whole number of at least 1",
                "`movement.reps.max`: `movement.reps.max` must be a whole number from 1 to 50",
            ],
            "{err}"
        );
        assert!(
            shown[3].starts_with("`id`: the protocol id is 65 characters long"),
            "{err}"
        );
    }

    #[test]
    fn json_of_the_wrong_shape_names_the_field() {
        let mut v = upper_back_json();
        v["movement"]["reps"]["min"] = "five".into();
        let err = refused(&v);
        assert_eq!(err.0.len(), 1);
        assert_eq!(err.0[0].path, "movement.reps.min");
        assert!(err.0[0].message.contains("invalid type"), "{err}");
        let mut v = upper_back_json();
        v["setup"][0]["colour"] = "red".into();
        let err = refused(&v);
        assert_eq!(err.0[0].path, "setup[0].colour");
        assert!(err.0[0].message.contains("unknown field `colour`"), "{err}");
        let err = Protocol::from_json("\"a string\"").unwrap_err();
        assert_eq!(err.0[0].path, "");
        assert!(err.to_string().starts_with("the protocol: "), "{err}");
        let err = Protocol::from_json("{").unwrap_err();
        assert!(err.to_string().contains("EOF"), "{err}");
    }
}
