//! Parsing and checking a protocol file, collecting every problem.
//!
//! Passes over the spanned TOML tree, each tolerant of what the others
//! report, so one run finds every problem:
//! 1. TOML syntax (the parser recovers and reports each error);
//! 2. structure, against the JSON Schema derived from the model
//!    ([`crate::Protocol`]): unknown keys (with "did you mean"), wrong types,
//!    missing fields, blank text, numbers out of range;
//! 3. the tree made to fit the schema where pass 2 found it does not
//!    (placeholders, each path noted), and deserialized into the model;
//! 4. the rules that span fields, on the typed model
//!    ([`crate::rules`], the same as for a protocol from JSON): each
//!    problem's dotted path is mapped back to its place in the file, and a
//!    problem about a field pass 3 repaired is left out (pass 2 reported it).

use std::ops::Range;

use serde::Deserialize as _;

use serde_json::Value as Json;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Diagnostic, line_column, suggest};
use crate::{MAX_FILE_BYTES, Protocol};

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
        root_schema: crate::schema::schema_value(),
    };
    checker.structure(checker.root_schema, &root, "", None);
    let mut fitted = root.clone();
    let mut repaired = Vec::new();
    checker.fit(checker.root_schema, &mut fitted, "", &mut repaired);
    let mut diags = checker.diags;
    match Protocol::deserialize(toml::de::ValueDeserializer::from(fitted)) {
        Ok(protocol) => {
            // The typed rules, each problem placed by its path; none about a
            // field that was repaired (pass 2 reported it).
            let locate = |path: &str| {
                format!(
                    "on line {}",
                    line_column(source, span_at(&root, path).start).0
                )
            };
            let broken = |path: &str| repaired.iter().any(|r| is_under(path, r));
            let found = crate::rules::rules(&protocol, &locate)
                .into_iter()
                .chain(crate::rules::unprintable(&protocol));
            for found in found {
                let p = found.problem;
                if broken(&p.path) || found.reads.iter().any(|r| broken(r)) {
                    continue;
                }
                diags.push(Diagnostic {
                    span: span_at(&root, &p.path),
                    message: p.message,
                    hint: p.hint,
                    severity: crate::diagnostic::Severity::Error,
                });
            }
            // A session must fit a sync push (issue 24, finding 9).
            let size = crate::sync_size(&protocol);
            if diags.is_empty() && size.total > crate::SYNC_BODY_LIMIT {
                diags.push(
                    Diagnostic::new(
                        0..0,
                        format!(
                            "a session of this protocol can take up to {} bytes to sync (its \
                             snapshot, which every session carries, is {} bytes; its longest \
                             log about {}), over the {} bytes (64 KiB) the server takes in one \
                             push: its sessions would never reach the computer",
                            size.total,
                            size.snapshot,
                            size.log,
                            crate::SYNC_BODY_LIMIT
                        ),
                    )
                    .with_hint(
                        "shorten its texts (a handout is a few kilobytes), or lower \
                         `movement.reps.max`",
                    ),
                );
            }
            if diags.is_empty() {
                return Ok(protocol);
            }
        }
        // Unreachable when pass 3 is complete; reported, not panicked on, in
        // case it is not.
        Err(e) if diags.is_empty() => diags.push(Diagnostic::new(
            e.span().unwrap_or(0..0),
            e.message().trim().to_string(),
        )),
        Err(_) => {}
    }
    finish(&mut diags);
    Err(diags)
}

/// Whether `path` is `base` or inside it (`a.b[0]` is inside `a.b`).
fn is_under(path: &str, base: &str) -> bool {
    base.is_empty()
        || path
            .strip_prefix(base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

fn finish(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| {
        (a.span.start, a.span.end, &a.message).cmp(&(b.span.start, b.span.end, &b.message))
    });
    diags.dedup();
}

struct Checker {
    diags: Vec<Diagnostic>,
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

impl Checker {
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
                (Some("Indication"), "rating") => format!(
                    "indication {} has nothing to rate: `rating` is missing",
                    table
                        .get("id")
                        .and_then(|i| str_of(i.get_ref()))
                        .map_or_else(|| place(path), |i| format!("`{i}`"))
                ),
                (Some("Screening"), "injury_rule") => {
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

    /// Pass 3, before the typed rules: makes the tree fit `schema` where
    /// pass 2 found it does not, so that it deserializes into the model all
    /// the same: unknown keys dropped, a value of the wrong type (or a
    /// number the model's type cannot hold) replaced by a placeholder, a
    /// missing required one added as a placeholder, an optional one
    /// dropped. Each path so repaired is pushed to `repaired`. Returns
    /// false when `v` itself does not fit (the caller replaces or drops it).
    fn fit(
        &self,
        schema: &'static Json,
        v: &mut Node<'_>,
        path: &str,
        repaired: &mut Vec<String>,
    ) -> bool {
        let (schema, _) = self.deref(schema);
        if let Some(variants) = schema.get("oneOf").and_then(|o| o.as_array()) {
            let tag_of = |x: &Json| {
                x.get("properties")
                    .and_then(|p| p.as_object())
                    .and_then(|p| p.iter().find(|(_, s)| s.get("const").is_some()))
                    .map(|(k, s)| (k.clone(), s["const"].clone()))
            };
            for variant in variants {
                match (variant.get("const"), tag_of(variant)) {
                    (Some(c), _) => {
                        if str_of(v.get_ref()).is_some_and(|s| c.as_str() == Some(s)) {
                            return true;
                        }
                    }
                    (None, Some((tag, c))) => {
                        let matches = get(v, &tag)
                            .and_then(|t| str_of(t.get_ref()))
                            .is_some_and(|s| c.as_str() == Some(s));
                        if matches {
                            return self.fit(variant, v, path, repaired);
                        }
                    }
                    (None, None) => {}
                }
            }
            return false;
        }
        if !type_matches(schema, v.get_ref()) {
            return false;
        }
        match v.get_mut() {
            DeValue::Table(table) => {
                let Some(props) = schema.get("properties").and_then(|p| p.as_object()) else {
                    return true;
                };
                let required: Vec<&str> = schema
                    .get("required")
                    .and_then(|r| r.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|k| k.as_str())
                    .collect();
                let unknown: Vec<String> = table
                    .keys()
                    .map(|k| k.get_ref().to_string())
                    .filter(|k| !props.contains_key(k))
                    .collect();
                for key in unknown {
                    table.remove(key.as_str());
                }
                for (key, sub) in props {
                    let sub_path = join(path, key);
                    let is_required = required.contains(&key.as_str());
                    let fits = table
                        .get_mut(key.as_str())
                        .map(|value| self.fit(sub, value, &sub_path, repaired));
                    match fits {
                        Some(true) => continue,
                        Some(false) if !is_required => {
                            table.remove(key.as_str());
                        }
                        Some(false) | None if is_required => {
                            table.insert(
                                Spanned::new(0..0, key.clone().into()),
                                self.placeholder(sub),
                            );
                        }
                        Some(false) | None => continue,
                    }
                    repaired.push(sub_path);
                }
                true
            }
            DeValue::Array(array) => {
                if let Some(item) = schema.get("items") {
                    for (i, e) in array.iter_mut().enumerate() {
                        let item_path = format!("{path}[{i}]");
                        if !self.fit(item, e, &item_path, repaired) {
                            *e = self.placeholder(item);
                            repaired.push(item_path);
                        }
                    }
                }
                true
            }
            DeValue::Integer(_) => {
                let bounds = match schema.get("format").and_then(|f| f.as_str()) {
                    Some("uint8") => Some((0, i128::from(u8::MAX))),
                    Some("uint32") => Some((0, i128::from(u32::MAX))),
                    _ => None,
                };
                match (int_of(v.get_ref()), bounds) {
                    (None, _) => false,
                    (Some(x), Some((lo, hi))) => (lo..=hi).contains(&x),
                    (Some(x), None) => i64::try_from(x).is_ok(),
                }
            }
            _ => true,
        }
    }

    /// A value that fits `schema`: empty text, zero, false, an empty array,
    /// a table of placeholders, the first choice of a `oneOf`.
    fn placeholder(&self, schema: &'static Json) -> Node<'static> {
        let (schema, _) = self.deref(schema);
        if let Some(c) = schema.get("const").and_then(|c| c.as_str()) {
            return Spanned::new(0..0, DeValue::String(c.to_owned().into()));
        }
        if let Some(first) = schema
            .get("oneOf")
            .and_then(|o| o.as_array())
            .and_then(|o| o.first())
        {
            return self.placeholder(first);
        }
        let kind = match schema.get("type") {
            Some(Json::String(t)) => t.as_str(),
            Some(Json::Array(ts)) => ts
                .iter()
                .filter_map(|t| t.as_str())
                .find(|t| *t != "null")
                .unwrap_or("string"),
            _ => "string",
        };
        let value = match kind {
            "integer" => DeValue::Integer(Default::default()),
            "number" => DeValue::Float(Default::default()),
            "boolean" => DeValue::Boolean(false),
            "array" => DeValue::Array(toml::de::DeArray::new()),
            "object" => {
                let mut table = DeTable::new();
                let props = schema.get("properties").and_then(|p| p.as_object());
                for key in schema
                    .get("required")
                    .and_then(|r| r.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|k| k.as_str())
                {
                    if let Some(sub) = props.and_then(|p| p.get(key)) {
                        table.insert(
                            Spanned::new(0..0, key.to_owned().into()),
                            self.placeholder(sub),
                        );
                    }
                }
                DeValue::Table(table)
            }
            _ => DeValue::String("".into()),
        };
        Spanned::new(0..0, value)
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

/// The warnings of [`crate::derived_warnings`].
pub(crate) fn derived_warnings(source: &str, protocol: &Protocol) -> Vec<Diagnostic> {
    let Some(base) = crate::derived_builtin(protocol) else {
        return Vec::new();
    };
    let (doc, _) = DeTable::parse_recoverable(source);
    let root: Node<'_> = Spanned::new(0..0, DeValue::Table(doc.into_inner()));
    protocol
        .weakened_from(base)
        .into_iter()
        .map(|w| {
            Diagnostic::warning(
                span_at(&root, &w.path),
                format!("weaker than built-in `{}`: {}", base.id, w.message),
            )
            .with_hint(w.hint)
        })
        .collect()
}

/// The error of a file that takes a built-in's id without being it
/// ([`crate::takes_builtin_identity`]), placed at its `id`.
pub(crate) fn identity(source: &str, protocol: &Protocol) -> Option<Diagnostic> {
    let builtin = crate::takes_builtin_identity(protocol)?;
    let (doc, _) = DeTable::parse_recoverable(source);
    let root: Node<'_> = Spanned::new(0..0, DeValue::Table(doc.into_inner()));
    let weaker = protocol.weakened_from(builtin).len();
    let weaker = if weaker == 0 {
        String::new()
    } else {
        format!(
            " (and weakens it in {weaker} way{})",
            if weaker == 1 { "" } else { "s" }
        )
    };
    Some(
        Diagnostic::new(
            span_at(&root, "id"),
            format!(
                "the id `{}` (version {}) is a built-in protocol's, and this file differs from \
                 it{weaker}: its sessions would be recorded as the built-in's",
                protocol.id, protocol.version
            ),
        )
        .with_hint(format!(
            "give the protocol in this file another id, e.g. `{}-mine`; `protocols lint` then \
             names each way it weakens the built-in",
            protocol.id
        )),
    )
}
