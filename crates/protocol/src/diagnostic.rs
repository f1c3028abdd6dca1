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
        // A raw control character or override in the line is shown as
        // U+FFFD: one character, so the caret stays under its place, and
        // no escape reaches the terminal raw (a NUL, which a terminal
        // ignores, is shown where the caret points at it).
        let shown: String = text
            .chars()
            .map(|c| match c {
                '\t' => ' ',
                c if c != '\0' && crate::is_unprintable(c) => '\u{fffd}',
                c => c,
            })
            .collect();
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

pub use crate::words::suggest;

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
