//! Text from data (notes, imported ids, protocol text, error messages) made
//! safe to print to a terminal: control characters that a terminal acts on
//! (ESC starts an escape sequence, BEL rings, NUL and the other C0 and C1
//! controls, DEL) and the bidirectional overrides and isolates that reorder
//! what is shown (U+202A-U+202E, U+2066-U+2069) are printed as `\uXXXX`.
//!
//! The form is JSON's own escape, so a JSON document stays valid and means
//! the same after [`escape`] (serde_json escapes C0 controls itself and
//! leaves C1 and bidi characters raw, which JSON reads either way).
//!
//! Every line the CLI prints goes through [`escape`] (the `outln!`, `out!`
//! and `eprintln!` macros of the crate root, and the session output of `run`);
//! table cells go through [`one_line`] before their widths are measured.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is escaped by [`escape`]: every control but tab and newline,
/// and the bidi overrides and isolates.
fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}'
        | '\u{b}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

fn escape_where(s: &str, unsafe_char: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.contains(&unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if unsafe_char(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `s` with every terminal control character and bidi override shown as
/// `\uXXXX`; tabs and newlines are kept.
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_where(s, is_unsafe)
}

/// [`escape`] for one line (a table cell, a name): tabs, newlines and
/// carriage returns are escaped too, so data cannot forge a line.
pub fn one_line(s: &str) -> Cow<'_, str> {
    escape_where(s, |c| is_unsafe(c) || c == '\t' || c == '\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_escaped() {
        assert_eq!(
            escape("a\u{1b}[31mred\u{7}\u{0}\r\u{9b}\u{202e}x\u{2066}"),
            "a\\u001b[31mred\\u0007\\u0000\\u000d\\u009b\\u202ex\\u2066"
        );
        assert_eq!(escape("tab\tand\nnewline é ✓"), "tab\tand\nnewline é ✓");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(one_line("a\nb\tc"), "a\\u000ab\\u0009c");
    }

    #[test]
    fn escaped_json_stays_valid_and_means_the_same() {
        let value = serde_json::json!({"note": "\u{1b}]0;owned\u{7}\u{202e}evil\u{85}"});
        let text = serde_json::to_string_pretty(&value).unwrap();
        let shown = escape(&text);
        assert!(!shown.contains(is_unsafe), "{shown}");
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back, value);
    }
}
