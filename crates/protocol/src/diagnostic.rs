//! Located problems and their rendering in the style of rustc and jj.

use std::fmt::Write as _;
use std::ops::Range;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Severity {
    /// The file cannot be used.
    #[default]
    Error,
    /// The file works, but something in it will not work well (see
    /// [`crate::warnings`]).
    Warning,
}

/// A problem found in a protocol file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Byte range in the source the problem is about.
    pub span: std::ops::Range<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it, if there is a hint.
    pub hint: Option<String>,
    /// An error or a warning.
    pub severity: Severity,
}

impl Diagnostic {
    /// An error without a hint.
    pub fn new(span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            span,
            message: message.into(),
            hint: None,
            severity: Severity::Error,
        }
    }

    /// A warning without a hint.
    pub fn warning(span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::new(span, message)
        }
    }

    /// The same diagnostic with a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }
}

/// 1-based line and column (in characters) of a byte offset in `source`.
///
/// Offsets past the end or inside a multi-byte character are clamped, so any
/// span can be located.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset);
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = source[line_start..offset].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(source: &str, offset: usize) -> usize {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Renders diagnostics as `path:line:column: error: message` (or `warning:`), then the source
/// line with a caret under the problem, then the hint.
///
/// ```text
/// my.toml:3:1: error: unknown key `titel`
///   |
/// 3 | titel = "Upper back"
///   | ^^^^^
///   = hint: did you mean `title`?
/// ```
pub fn render(path: &str, source: &str, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        render_one(&mut out, path, source, d);
    }
    out
}

fn render_one(out: &mut String, path: &str, source: &str, d: &Diagnostic) {
    let start = floor_char_boundary(source, d.span.start);
    let end = floor_char_boundary(source, d.span.end.max(d.span.start));
    let (line, column) = line_column(source, start);
    let label = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(out, "{path}:{line}:{column}: {label}: {}", d.message);
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i);
    let text = source[line_start..line_end].trim_end_matches('\r');
    if !(source.is_empty() || (text.is_empty() && start >= source.len())) {
        let number = line.to_string();
        let pad = " ".repeat(number.len());
        let shown = text.replace('\t', " ");
        let caret_start = column - 1;
        let caret_len = source[start..end.min(line_end).max(start)]
            .chars()
            .count()
            .max(1);
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{number} | {shown}");
        let _ = writeln!(
            out,
            "{pad} | {}{}",
            " ".repeat(caret_start),
            "^".repeat(caret_len)
        );
        if let Some(hint) = &d.hint {
            let _ = writeln!(out, "{pad} = hint: {hint}");
        }
    } else if let Some(hint) = &d.hint {
        let _ = writeln!(out, "  = hint: {hint}");
    }
}

/// The closest candidate to `word` within a small edit distance, for
/// "did you mean" hints.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_l = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word_l, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count().max(word.chars().count()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance in characters, counting a swap of two neighbours as one
/// edit (optimal string alignment), so `titel` is one edit from `title`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let src = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 6), (2, 1));
        // `=` after the two-character key `bé` (3 bytes).
        assert_eq!(line_column(src, 10), (2, 4));
        assert_eq!(line_column(src, 999), (3, 1));
    }

    #[test]
    fn suggestions_are_close_words_only() {
        let keys = ["title", "summary", "area"];
        assert_eq!(suggest("titel", keys), Some("title"));
        assert_eq!(suggest("sumary", keys), Some("summary"));
        assert_eq!(suggest("zzzzzz", keys), None);
    }
}
