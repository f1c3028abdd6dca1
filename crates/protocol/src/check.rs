//! Parsing and checking a protocol file, collecting every problem.
//!
//! Three passes over the spanned TOML tree, each tolerant of what the others
//! report, so one run finds every problem:
//! 1. TOML syntax (the parser recovers and reports each error);
//! 2. structure, against the JSON Schema derived from [`crate::raw`]: unknown
//!    keys (with "did you mean"), wrong types, missing fields, blank text;
//! 3. rules that span fields: unique ids, reps and tempo in order, references
//!    that resolve, no empty setup.

use std::collections::HashMap;
use std::ops::Range;

use serde_json::Value as Json;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Diagnostic, line_column, suggest};
use crate::raw::RawProtocol;
use crate::{MAX_FILE_BYTES, MAX_TEMPO_SECONDS, MIN_TEMPO_SECONDS, Protocol};

type Node<'i> = Spanned<DeValue<'i>>;

pub(crate) fn parse(source: &str) -> Result<Protocol, Vec<Diagnostic>> {
    if source.len() > MAX_FILE_BYTES {
        return Err(vec![
            Diagnostic::new(
                0..0,
                "the file is larger than 1 MiB, too large for a protocol file",
            )
            .with_hint("a protocol file is a few kilobytes of TOML"),
        ]);
    }
    if let Some(offset) = source.find('\0') {
        return Err(vec![
            Diagnostic::new(
                offset..offset + 1,
                "this is not a text file (it holds a NUL byte)",
            )
            .with_hint("protocol files are UTF-8 TOML text"),
        ]);
    }
    let (doc, errors) = DeTable::parse_recoverable(source);
    if !errors.is_empty() {
        // After a syntax error the tree is partial: structural checks would
        // only add noise ("missing ..."), so report the syntax errors alone.
        let mut diags: Vec<Diagnostic> = errors
            .iter()
            .map(|e| {
                let span = e.span().unwrap_or(0..0);
                Diagnostic::new(span, format!("invalid TOML: {}", e.message().trim()))
                    .with_hint("see https://toml.io for the syntax of strings, tables and arrays")
            })
            .collect();
        finish(&mut diags);
        return Err(diags);
    }
    let root: Node<'_> = Spanned::new(0..0, DeValue::Table(doc.into_inner()));
    let mut checker = Checker {
        diags: Vec::new(),
        source,
        root_schema: crate::schema::schema_value(),
    };
    checker.structure(checker.root_schema, &root, "", None);
    checker.rules(&root);
    let mut diags = checker.diags;
    if diags.is_empty() {
        return match toml::from_str::<RawProtocol>(source) {
            Ok(raw) => Ok(raw.into()),
            // Unreachable when the checks above are complete; reported, not
            // panicked on, in case they are not.
            Err(e) => Err(vec![Diagnostic::new(
                e.span().unwrap_or(0..0),
                e.message().trim().to_string(),
            )]),
        };
    }
    finish(&mut diags);
    Err(diags)
}

fn finish(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| {
        (a.span.start, a.span.end, &a.message).cmp(&(b.span.start, b.span.end, &b.message))
    });
    diags.dedup();
}

struct Checker<'s> {
    diags: Vec<Diagnostic>,
    source: &'s str,
    root_schema: &'static Json,
}

/// Where a value is, for messages: `the top-level table` or `movement.reps`.
fn place(path: &str) -> String {
    if path.is_empty() {
        "the top-level table".to_string()
    } else {
        format!("`{path}`")
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A path as a TOML table header: `indications[0].rating` is `indications.rating`.
fn header(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "a whole number",
        DeValue::Float(_) => "a decimal number",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn int_of(v: &DeValue<'_>) -> Option<i128> {
    match v {
        DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix()).ok(),
        _ => None,
    }
}

fn num_of(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Integer(_) => int_of(v).map(|i| i as f64),
        DeValue::Float(f) => f.as_str().parse().ok(),
        _ => None,
    }
}

fn str_of<'a>(v: &'a DeValue<'_>) -> Option<&'a str> {
    match v {
        DeValue::String(s) => Some(s),
        _ => None,
    }
}

fn table_of<'a, 'i>(v: &'a DeValue<'i>) -> Option<&'a DeTable<'i>> {
    match v {
        DeValue::Table(t) => Some(t),
        _ => None,
    }
}

fn get<'a, 'i>(v: &'a Node<'i>, key: &str) -> Option<&'a Node<'i>> {
    table_of(v.get_ref())?.get(key)
}

fn items<'a, 'i>(v: Option<&'a Node<'i>>) -> &'a [Node<'i>] {
    match v.map(|v| v.get_ref()) {
        Some(DeValue::Array(a)) => a,
        _ => &[],
    }
}

/// What a schema expects, in words: "a string", "a table", ...
fn expected(schema: &Json) -> String {
    let types: Vec<&str> = match schema.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(|t| t.as_str()).collect(),
        _ => vec![],
    };
    let words: Vec<&str> = types
        .iter()
        .filter(|t| **t != "null")
        .map(|t| match *t {
            "string" => "a string",
            "integer" => "a whole number",
            "number" => "a number",
            "boolean" => "a boolean (true or false)",
            "array" => "an array",
            "object" => "a table",
            _ => "a value",
        })
        .collect();
    if words.is_empty() {
        "a value".into()
    } else {
        words.join(" or ")
    }
}

fn type_matches(schema: &Json, v: &DeValue<'_>) -> bool {
    let types: Vec<&str> = match schema.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(|t| t.as_str()).collect(),
        _ => return true,
    };
    types.iter().any(|t| {
        matches!(
            (*t, v),
            ("string", DeValue::String(_))
                | ("integer", DeValue::Integer(_))
                | ("number", DeValue::Integer(_) | DeValue::Float(_))
                | ("boolean", DeValue::Boolean(_))
                | ("array", DeValue::Array(_))
                | ("object", DeValue::Table(_))
        )
    })
}

impl Checker<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>, hint: Option<String>) {
        self.diags.push(Diagnostic {
            span,
            message: message.into(),
            hint,
            severity: crate::diagnostic::Severity::Error,
        });
    }

    /// Follows a `$ref` to its definition; returns the schema and its name.
    fn deref(&self, schema: &'static Json) -> (&'static Json, Option<&'static str>) {
        if let Some(r) = schema.get("$ref").and_then(|r| r.as_str()) {
            let name = r.trim_start_matches("#/$defs/");
            if let Some(def) = self.root_schema.get("$defs").and_then(|d| d.get(name)) {
                return (def, Some(name));
            }
        }
        (schema, None)
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        line_column(self.source, span.start).0
    }

    /// Pass 2: checks a value against its schema.
    fn structure(
        &mut self,
        schema: &'static Json,
        v: &Node<'_>,
        path: &str,
        def: Option<&'static str>,
    ) {
        let (schema, name) = self.deref(schema);
        let def = name.or(def);
        if let Some(variants) = schema.get("oneOf").and_then(|o| o.as_array()) {
            self.one_of(schema, variants, v, path);
            return;
        }
        if !type_matches(schema, v.get_ref()) {
            let hint = schema
                .get("description")
                .and_then(|d| d.as_str())
                .map(|d| format!("`{}`: {d}", path.rsplit('.').next().unwrap_or(path)));
            self.error(
                v.span(),
                format!(
                    "{} must be {}, found {}",
                    place(path),
                    expected(schema),
                    type_name(v.get_ref())
                ),
                hint,
            );
            return;
        }
        match v.get_ref() {
            DeValue::Table(table) => self.table(schema, table, v.span(), path, def),
            DeValue::Array(array) => {
                if let Some(item) = schema.get("items") {
                    for (i, e) in array.iter().enumerate() {
                        self.structure(item, e, &format!("{path}[{i}]"), None);
                    }
                }
            }
            DeValue::Integer(_) => {
                let value = int_of(v.get_ref());
                let min = schema.get("minimum").and_then(|m| m.as_i64());
                let max = schema.get("maximum").and_then(|m| m.as_i64());
                let max = max.or(match schema.get("format").and_then(|f| f.as_str()) {
                    Some("uint32") => Some(i64::from(u32::MAX)),
                    _ => None,
                });
                let below = matches!((value, min), (Some(x), Some(m)) if x < i128::from(m));
                let above = matches!((value, max), (Some(x), Some(m)) if x > i128::from(m));
                if value.is_none() || below || above {
                    let range = match (min, max) {
                        (Some(lo), Some(hi)) if hi < i64::from(u32::MAX) => {
                            format!("from {lo} to {hi}")
                        }
                        (Some(lo), _) => format!("of at least {lo}"),
                        (None, Some(hi)) => format!("of at most {hi}"),
                        (None, None) => "in range".to_string(),
                    };
                    self.error(
                        v.span(),
                        format!("{} must be a whole number {range}", place(path)),
                        schema
                            .get("description")
                            .and_then(|d| d.as_str())
                            .map(|d| format!("`{}`: {d}", path.rsplit('.').next().unwrap_or(path))),
                    );
                }
            }
            DeValue::String(s) if s.trim().is_empty() => {
                self.error(
                    v.span(),
                    format!("{} is empty", place(path)),
                    schema
                        .get("description")
                        .and_then(|d| d.as_str())
                        .map(|d| format!("write it: {d}")),
                );
            }
            _ => {}
        }
    }

    fn table(
        &mut self,
        schema: &'static Json,
        table: &DeTable<'_>,
        span: Range<usize>,
        path: &str,
        def: Option<&'static str>,
    ) {
        let props: Option<&'static serde_json::Map<String, Json>> =
            schema.get("properties").and_then(|p| p.as_object());
        let closed = schema.get("additionalProperties") == Some(&Json::Bool(false));
        // A misspelt key is reported once, as unknown with its suggestion,
        // not a second time as the missing key it was meant to be.
        let mut suggested: Vec<&str> = Vec::new();
        for (key, value) in table.iter() {
            let k: &str = key.get_ref();
            match props.and_then(|p| p.get(k)) {
                Some(sub) => self.structure(sub, value, &join(path, k), None),
                None if closed => {
                    let known: Vec<&str> = props
                        .into_iter()
                        .flat_map(|p| p.keys())
                        .map(|s| s.as_str())
                        .collect();
                    let hint = match suggest(k, known.iter().copied()) {
                        Some(s) => {
                            suggested.push(s);
                            format!("did you mean `{s}`?")
                        }
                        None => format!("expected one of: {}", known.join(", ")),
                    };
                    self.error(
                        key.span(),
                        format!("unknown key `{k}` in {}", place(path)),
                        Some(hint),
                    );
                }
                None => {}
            }
        }
        let required = schema.get("required").and_then(|r| r.as_array());
        // Plain missing keys of one table are reported together; the ones
        // that carry a safety meaning get a message of their own.
        let mut plain: Vec<(&str, String)> = Vec::new();
        for key in required.into_iter().flatten().filter_map(|k| k.as_str()) {
            if table.get(key).is_some() || suggested.contains(&key) {
                continue;
            }
            let field = props.and_then(|p| p.get(key));
            let sub = field.map(|s| self.deref(s).0);
            let description = field
                .and_then(|s| s.get("description"))
                .or_else(|| sub.and_then(|s| s.get("description")))
                .and_then(|d| d.as_str())
                .unwrap_or("");
            let what = sub.map(expected).unwrap_or_else(|| "a value".into());
            let header = header(&join(path, key));
            let hint = if what == "a table" {
                format!("add a `[{header}]` table: {description}")
            } else if what == "an array" {
                format!("add `[[{header}]]` entries: {description}")
            } else {
                format!("add `{key} = ...` ({what}): {description}")
            };
            let message = match (def, key) {
                (Some("RawIndication"), "rating") => format!(
                    "indication {} has nothing to rate: `rating` is missing",
                    table
                        .get("id")
                        .and_then(|i| str_of(i.get_ref()))
                        .map_or_else(|| place(path), |i| format!("`{i}`"))
                ),
                (Some("RawScreening"), "injury_rule") => {
                    "no screening injury rule: `injury_rule` is missing in `screening`".to_string()
                }
                (_, "screening") if path.is_empty() => {
                    "no screening injury rule: `screening` is missing".to_string()
                }
                (_, "setup") if path.is_empty() => "no setup steps: `setup` is missing".to_string(),
                _ => {
                    plain.push((key, hint));
                    continue;
                }
            };
            self.error(span.clone(), message, Some(hint));
        }
        match plain.as_slice() {
            [] => {}
            [(key, hint)] => {
                let message = format!("missing `{key}` in {}", place(path));
                self.error(span.clone(), message, Some(hint.clone()));
            }
            many => {
                let keys: Vec<String> = many.iter().map(|(k, _)| format!("`{k}`")).collect();
                self.error(
                    span.clone(),
                    format!("missing {} in {}", keys.join(", "), place(path)),
                    Some(
                        "add them; `rollcoach protocols schema` describes each, and \
                         protocols/upper-back.toml is a complete example"
                            .to_string(),
                    ),
                );
            }
        }
    }

    /// A tagged choice (`{ kind = "..." }`, `{ at = "..." }`) or an enum of strings.
    fn one_of(
        &mut self,
        schema: &'static Json,
        variants: &'static [Json],
        v: &Node<'_>,
        path: &str,
    ) {
        // Enum of strings: every variant is a `const` string.
        let consts: Vec<&str> = variants
            .iter()
            .filter_map(|x| x.get("const").and_then(|c| c.as_str()))
            .collect();
        if consts.len() == variants.len() {
            let list = consts
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ");
            match str_of(v.get_ref()) {
                Some(s) if consts.contains(&s) => {}
                Some(s) => {
                    let hint = suggest(s, consts.iter().copied())
                        .map(|c| format!("did you mean \"{c}\"?"))
                        .unwrap_or_else(|| format!("use one of {list}"));
                    self.error(
                        v.span(),
                        format!("{} must be one of {list}, found \"{s}\"", place(path)),
                        Some(hint),
                    );
                }
                None => self.error(
                    v.span(),
                    format!(
                        "{} must be one of {list}, found {}",
                        place(path),
                        type_name(v.get_ref())
                    ),
                    None,
                ),
            }
            return;
        }
        // Tagged tables: find the tag key, whose `const` names the variant.
        let tag = variants
            .first()
            .and_then(|x| x.get("properties"))
            .and_then(|p| p.as_object())
            .and_then(|p| p.iter().find(|(_, s)| s.get("const").is_some()))
            .map(|(k, _)| k.as_str())
            .unwrap_or("kind");
        let names: Vec<&str> = variants
            .iter()
            .filter_map(|x| x.pointer(&format!("/properties/{tag}/const"))?.as_str())
            .collect();
        let list = names
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let Some(table) = table_of(v.get_ref()) else {
            self.error(
                v.span(),
                format!(
                    "{} must be a table such as `{{ {tag} = \"{}\" }}`, found {}",
                    place(path),
                    names.first().copied().unwrap_or(""),
                    type_name(v.get_ref())
                ),
                schema
                    .get("description")
                    .and_then(|d| d.as_str())
                    .map(|d| format!("{d} `{tag}` is one of {list}")),
            );
            return;
        };
        let Some(tag_value) = table.get(tag) else {
            self.error(
                v.span(),
                format!("missing `{tag}` in {}", place(path)),
                Some(format!("add `{tag} = ...`, one of {list}")),
            );
            return;
        };
        let Some(name) = str_of(tag_value.get_ref()) else {
            self.error(
                tag_value.span(),
                format!("`{}` must be a string, one of {list}", join(path, tag)),
                None,
            );
            return;
        };
        match variants.iter().find(|x| {
            x.pointer(&format!("/properties/{tag}/const"))
                .and_then(|c| c.as_str())
                == Some(name)
        }) {
            Some(variant) => self.structure(variant, v, path, None),
            None => {
                let hint = suggest(name, names.iter().copied())
                    .map(|c| format!("did you mean \"{c}\"?"))
                    .unwrap_or_else(|| format!("use one of {list}"));
                self.error(
                    tag_value.span(),
                    format!(
                        "unknown {tag} \"{name}\" in {}; expected one of {list}",
                        place(path)
                    ),
                    Some(hint),
                );
            }
        }
    }

    /// Pass 3: the rules that span fields. Values of the wrong type were
    /// reported by pass 2 and are skipped here.
    fn rules(&mut self, root: &Node<'_>) {
        for key in ["id", "area"] {
            if let Some(v) = get(root, key) {
                self.kebab(v, key);
            }
        }
        for (key, what) in [
            ("indications", "indication"),
            ("instruments", "instrument"),
            ("setup", "setup step"),
            ("notes", "note"),
            ("stop_rules", "stop rule"),
            ("cautions", "caution"),
        ] {
            self.unique_ids(items(get(root, key)), "id", what);
        }
        let screening = get(root, "screening");
        self.unique_ids(
            items(screening.and_then(|s| get(s, "questions"))),
            "id",
            "screening question",
        );
        self.ratings(items(get(root, "indications")));
        self.non_empty(
            root,
            "setup",
            "no setup steps",
            "add at least one `[[setup]]` step",
        );
        self.non_empty(
            root,
            "instruments",
            "no instruments",
            "add at least one `[[instruments]]` entry",
        );
        self.non_empty(
            root,
            "indications",
            "no indications",
            "add at least one `[[indications]]` entry with a `rating`",
        );
        self.non_empty(
            root,
            "stop_rules",
            "no stop rules",
            "add `[[stop_rules]]`, at least for pain",
        );
        self.instrument_refs(root);
        let max_reps = self.movement(root);
        self.notes(root, max_reps);
        self.stop_rules(root);
    }

    fn kebab(&mut self, v: &Node<'_>, key: &str) {
        if let Some(s) = str_of(v.get_ref())
            && !s.trim().is_empty()
            && !s
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            self.error(
                v.span(),
                format!(
                    "`{key}` \"{s}\" must be kebab-case: lowercase letters, digits and hyphens"
                ),
                Some(format!(
                    "for example \"{}\"",
                    s.trim()
                        .to_lowercase()
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                        .collect::<String>()
                )),
            );
        }
    }

    fn non_empty(&mut self, root: &Node<'_>, key: &str, message: &str, hint: &str) {
        if let Some(v) = get(root, key)
            && let DeValue::Array(a) = v.get_ref()
            && a.is_empty()
        {
            self.error(v.span(), message, Some(hint.into()));
        }
    }

    fn unique_ids(&mut self, list: &[Node<'_>], key: &str, what: &str) {
        let mut seen: HashMap<String, Range<usize>> = HashMap::new();
        for item in list {
            let Some(id) = get(item, key) else { continue };
            let Some(s) = str_of(id.get_ref()) else {
                continue;
            };
            if key == "id" {
                self.kebab(id, "id");
            }
            if let Some(first) = seen.get(s) {
                let line = self.line_of(first);
                self.error(
                    id.span(),
                    format!("duplicate {what} id `{s}`"),
                    Some(format!(
                        "the first {what} with this id is on line {line}; ids must be unique"
                    )),
                );
            } else {
                seen.insert(s.to_string(), id.span());
            }
        }
    }

    /// A rating may be shared by indications, but one id names one rating.
    fn ratings(&mut self, indications: &[Node<'_>]) {
        let mut seen: HashMap<String, (Range<usize>, Vec<String>)> = HashMap::new();
        for ind in indications {
            let Some(rating) = get(ind, "rating") else {
                continue;
            };
            let Some(id) = get(rating, "id") else {
                continue;
            };
            let Some(s) = str_of(id.get_ref()) else {
                continue;
            };
            self.kebab(id, "id");
            let content: Vec<String> = ["label", "question", "low", "high", "higher_is_better"]
                .iter()
                .map(|k| {
                    get(rating, k).map_or(String::new(), |v| match v.get_ref() {
                        DeValue::String(s) => s.to_string(),
                        DeValue::Boolean(b) => b.to_string(),
                        _ => String::new(),
                    })
                })
                .collect();
            match seen.get(s) {
                Some((first, c)) if *c != content => {
                    let line = self.line_of(first);
                    self.error(
                        id.span(),
                        format!("duplicate rating id `{s}` for a different rating"),
                        Some(format!(
                            "the rating on line {line} has this id; give this one another id, or make the two identical to share it"
                        )),
                    );
                }
                Some(_) => {}
                None => {
                    seen.insert(s.to_string(), (id.span(), content));
                }
            }
        }
    }

    fn instrument_refs(&mut self, root: &Node<'_>) {
        let ids: Vec<String> = items(get(root, "instruments"))
            .iter()
            .filter_map(|i| {
                get(i, "id")
                    .and_then(|v| str_of(v.get_ref()))
                    .map(String::from)
            })
            .collect();
        let check = |this: &mut Self, v: &Node<'_>, what: &str| {
            if let Some(s) = str_of(v.get_ref())
                && !s.trim().is_empty()
                && !ids.iter().any(|i| i == s)
            {
                let hint = match suggest(s, ids.iter().map(String::as_str)) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None if ids.is_empty() => "add `[[instruments]]` entries".to_string(),
                    None => format!("the instruments are: {}", ids.join(", ")),
                };
                this.error(
                    v.span(),
                    format!("{what} `{s}` is not one of the protocol's instruments"),
                    Some(hint),
                );
            }
        };
        if let Some(v) = get(root, "default_instrument") {
            check(self, v, "default_instrument");
        }
        for step in items(get(root, "setup")) {
            let mut seen: Vec<String> = Vec::new();
            for variant in items(get(step, "variants")) {
                if let Some(v) = get(variant, "instrument") {
                    check(self, v, "the variant's instrument");
                    if let Some(s) = str_of(v.get_ref()) {
                        if seen.iter().any(|x| x == s) {
                            self.error(
                                v.span(),
                                format!(
                                    "duplicate variant for instrument `{s}` in this setup step"
                                ),
                                Some("keep one wording per instrument".into()),
                            );
                        }
                        seen.push(s.to_string());
                    }
                }
            }
        }
    }

    /// Reps, tempo and breathing; returns the maximum reps when it is known.
    fn movement(&mut self, root: &Node<'_>) -> Option<i128> {
        let movement = get(root, "movement")?;
        let mut max_reps = None;
        if let Some(reps) = get(movement, "reps") {
            let field = |k| get(reps, k).and_then(|v| int_of(v.get_ref()).map(|x| (x, v.span())));
            let (min, max, default) = (field("min"), field("max"), field("default"));
            max_reps = max.as_ref().map(|m| m.0);
            if let (Some((lo, span)), Some((hi, _))) = (&min, &max)
                && lo > hi
            {
                self.error(
                    span.clone(),
                    format!("reps out of order: `min` ({lo}) is above `max` ({hi})"),
                    Some("swap them, or lower `min`".into()),
                );
            }
            if let (Some((lo, _)), Some((hi, _)), Some((d, span))) = (&min, &max, &default)
                && lo <= hi
                && (d < lo || d > hi)
            {
                self.error(
                    span.clone(),
                    format!("`movement.reps.default` ({d}) is outside `min`..`max` ({lo} to {hi})"),
                    Some(format!("pick a default from {lo} to {hi}")),
                );
            }
        }
        if let Some(tempo) = get(movement, "tempo") {
            let field = |k| get(tempo, k).and_then(|v| num_of(v.get_ref()).map(|x| (x, v.span())));
            let (min, max, default) = (
                field("min_seconds"),
                field("max_seconds"),
                field("default_seconds"),
            );
            let mut sane = true;
            for (name, f) in [
                ("min_seconds", &min),
                ("max_seconds", &max),
                ("default_seconds", &default),
            ] {
                if let Some((x, span)) = f
                    && !(x.is_finite() && (MIN_TEMPO_SECONDS..=MAX_TEMPO_SECONDS).contains(x))
                {
                    sane = false;
                    self.error(
                        span.clone(),
                        format!(
                            "`movement.tempo.{name}` is {x} s; a tempo must be from {MIN_TEMPO_SECONDS} to {MAX_TEMPO_SECONDS} seconds per direction"
                        ),
                        Some("Behm et al. 2020, Foam Rolling Prescription, J Strength Cond Res 34(11): 2-4 s per one-direction pass; rollcoach's default is 4 s, adjustable from 2 to 6 s".into()),
                    );
                }
            }
            if sane
                && let (Some((lo, span)), Some((hi, _))) = (&min, &max)
                && lo > hi
            {
                self.error(
                    span.clone(),
                    format!(
                        "tempo out of order: `min_seconds` ({lo}) is above `max_seconds` ({hi})"
                    ),
                    Some("swap them, or lower `min_seconds`".into()),
                );
            }
            if sane
                && let (Some((lo, _)), Some((hi, _)), Some((d, span))) = (&min, &max, &default)
                && lo <= hi
                && (d < lo || d > hi)
            {
                self.error(
                    span.clone(),
                    format!(
                        "`movement.tempo.default_seconds` ({d}) is outside its allowed range, {lo} to {hi} seconds"
                    ),
                    Some("pick a default between `min_seconds` and `max_seconds`".into()),
                );
            }
        }
        if let Some(b) = get(movement, "breathing")
            && let Some(v) = get(b, "switch_every_reps")
            && let Some(n) = int_of(v.get_ref())
        {
            if n < 1 {
                self.error(
                    v.span(),
                    "`switch_every_reps` must be at least 1",
                    Some("leave it out to keep one pairing for the whole session".into()),
                );
            } else if let Some(m) = max_reps
                && n >= m
                && m >= 1
            {
                self.error(
                    v.span(),
                    format!("`switch_every_reps` ({n}) is not below `movement.reps.max` ({m}), so the pairing would never switch"),
                    Some("use a smaller number, or leave it out".into()),
                );
            }
        }
        max_reps
    }

    fn notes(&mut self, root: &Node<'_>, max_reps: Option<i128>) {
        for note in items(get(root, "notes")) {
            let Some(when) = get(note, "when") else {
                continue;
            };
            if get(when, "at").and_then(|a| str_of(a.get_ref())) != Some("rep") {
                continue;
            }
            let Some(rep) = get(when, "rep") else {
                continue;
            };
            let Some(k) = int_of(rep.get_ref()) else {
                continue;
            };
            if k < 1 {
                self.error(
                    rep.span(),
                    "a note's rep must be at least 1 (reps count from 1)",
                    None,
                );
            } else if let Some(m) = max_reps
                && k > m
            {
                self.error(
                    rep.span(),
                    format!("the note refers to rep {k}, beyond `movement.reps.max` ({m})"),
                    Some(format!("use a rep from 1 to {m}")),
                );
            }
        }
    }

    fn stop_rules(&mut self, root: &Node<'_>) {
        let mut kinds: HashMap<String, Range<usize>> = HashMap::new();
        for rule in items(get(root, "stop_rules")) {
            let Some(trigger) = get(rule, "trigger") else {
                continue;
            };
            let Some(kind_node) = get(trigger, "kind") else {
                continue;
            };
            let Some(kind) = str_of(kind_node.get_ref()) else {
                continue;
            };
            if let Some(first) = kinds.get(kind) {
                let line = self.line_of(first);
                self.error(
                    kind_node.span(),
                    format!("a second stop rule with trigger `{kind}`"),
                    Some(format!(
                        "the first is on line {line}; keep one rule per trigger"
                    )),
                );
            } else {
                kinds.insert(kind.to_string(), kind_node.span());
            }
            if kind == "discomfort"
                && let Some(above) = get(trigger, "above")
                && let Some(x) = int_of(above.get_ref())
                && x > 9
            {
                self.error(
                    above.span(),
                    format!("discomfort is rated 0 to 10, so `above = {x}` would never stop"),
                    Some("Grabow et al. 2018, J Strength Cond Res 32: rolling at 4, 6 or 8 of 10 gave the same gain; stopping above 7 is a convention".into()),
                );
            }
        }
    }
}

/// The span of the value at a dotted `path` with indexes
/// (`screening.questions[0].refuse_on`), or of the deepest part of it that the
/// file has (a missing `screening.questions` points at `[screening]`).
fn span_at(root: &Node<'_>, path: &str) -> Range<usize> {
    let mut node = root;
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let Some(next) = get(node, key) else { break };
        node = next;
        if let Some(i) = index {
            match items(Some(node)).get(i) {
                Some(item) => node = item,
                None => break,
            }
        }
    }
    node.span()
}

/// Pass 4, on a valid file: what works but will not work well, or less safely
/// than the handout: a phase cue with no wording that fits the shortest
/// allowed tempo at the default speech rate (see [`crate::speech`]), and the
/// handout's safety rules weakened ([`Protocol::safety_warnings`]).
pub(crate) fn warnings(source: &str, protocol: &Protocol) -> Vec<Diagnostic> {
    use crate::speech::{PHASE_MARGIN_MS, estimate_ms};
    let (doc, _) = DeTable::parse_recoverable(source);
    let root: Node<'_> = Spanned::new(0..0, DeValue::Table(doc.into_inner()));
    let movement = get(&root, "movement");
    let mv = &protocol.movement;
    let min_seconds = mv.tempo.min_seconds;
    let min_ms = (min_seconds * 1000.0).round() as u64;
    let mut out = Vec::new();
    for (key, is_out) in [("out", true), ("back", false)] {
        // The shortest wording of each breath that does not fit.
        let misfits: Vec<String> = [true, false]
            .into_iter()
            .filter(|&inhale| mv.fitting_cue(is_out, inhale, min_ms, 1.0).is_none())
            .filter_map(|inhale| mv.cue_forms(is_out, inhale).pop())
            .collect();
        let Some(shortest) = misfits.first() else {
            continue;
        };
        let span = movement
            .and_then(|m| get(m, key))
            .map(|d| get(d, "cue").map_or(d.span(), |c| c.span()))
            .unwrap_or(0..0);
        let took = estimate_ms(shortest, 1.0) + PHASE_MARGIN_MS;
        out.push(
            Diagnostic::warning(
                span,
                format!(
                    "no wording of the `movement.{key}` cue fits the shortest tempo ({} s) at the default speech rate: even \"{shortest}\" takes about {:.1} s with its pause",
                    fmt_seconds(min_seconds),
                    took as f64 / 1000.0
                ),
            )
            .with_hint(format!(
                "add a `short_cue` to `[movement.{key}]` and `inhale_short`/`exhale_short` to `[movement.breathing]` (e.g. \"in, to your neck\"), or raise `movement.tempo.min_seconds`"
            )),
        );
    }
    for w in protocol.safety_warnings() {
        out.push(
            Diagnostic::warning(
                span_at(&root, &w.path),
                format!("weaker than the handout: {}", w.message),
            )
            .with_hint(w.hint),
        );
    }
    out
}

fn fmt_seconds(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}
