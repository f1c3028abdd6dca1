//! The one rule for text a terminal would act on, shared by every reader and
//! writer: protocol files and snapshots ([`crate::Protocol::check`],
//! [`crate::parse`]) and the store's free text (`rollcoach_store::domain`).

/// A character rollcoach never writes in text: a control character other
/// than a newline or a tab (terminal escapes, NUL, a carriage return), or a
/// bidirectional embedding, override or isolate (U+202A to U+202E, U+2066 to
/// U+2069), which can make a terminal or a page show text in another order
/// than it is read.
pub fn is_unprintable(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}
