//! Protocol ids: the one rule, for every way a protocol id comes in.
//!
//! A protocol file's `id` (checked by [`crate::parse`] and
//! [`crate::Protocol::from_json`]), a session's `protocol_id` in an import
//! or a sync push, a snapshot's id: all go through [`ProtocolId::parse`],
//! so an id that lints is an id that imports.

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Most characters a protocol id may have. Ids name protocols on the
/// command line and in file names (`rollcoach run upper-back`); 64 is far
/// above any real one and bounds what a store keeps per session.
pub const MAX_PROTOCOL_ID_LEN: usize = 64;

/// A protocol id: 1 to [`MAX_PROTOCOL_ID_LEN`] characters of kebab-case
/// (lowercase ASCII letters, digits and hyphens), e.g. `upper-back`.
///
/// The field is private: the only ways to have one are [`ProtocolId::parse`]
/// and deserializing (which parses), so a `ProtocolId` is always valid.
/// Serialized as the plain string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProtocolId(String);

/// Why a text is not a protocol id. [`fmt::Display`] says the problem and
/// the fix; [`ProtocolIdError::problem`] and [`ProtocolIdError::fix`] give
/// them apart, for messages that place them themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolIdError {
    /// Nothing, or only spaces.
    Empty,
    /// A character other than a lowercase ASCII letter, a digit or a hyphen.
    NotKebab {
        /// The text given.
        given: String,
    },
    /// More than [`MAX_PROTOCOL_ID_LEN`] characters.
    TooLong {
        /// How many characters it has.
        len: usize,
    },
}

impl ProtocolId {
    /// Checks `text` against the rule: not empty, kebab-case, at most
    /// [`MAX_PROTOCOL_ID_LEN`] characters. Nothing is trimmed: `" x"` is
    /// refused, not read as `x`.
    pub fn parse(text: &str) -> Result<ProtocolId, ProtocolIdError> {
        if text.trim().is_empty() {
            return Err(ProtocolIdError::Empty);
        }
        if !is_kebab(text) {
            return Err(ProtocolIdError::NotKebab {
                given: text.to_owned(),
            });
        }
        // Kebab-case is ASCII: bytes are characters.
        if text.len() > MAX_PROTOCOL_ID_LEN {
            return Err(ProtocolIdError::TooLong { len: text.len() });
        }
        Ok(ProtocolId(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Lowercase ASCII letters, digits and hyphens only (the empty text too).
pub(crate) fn is_kebab(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A kebab-case spelling of `text`, for a "for example" hint: ASCII letters
/// lowercased, every other character but a digit a hyphen.
pub(crate) fn kebab_example(text: &str) -> String {
    text.trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Text from outside, safe to print: control characters escaped, cut after
/// 64 characters.
fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(64).flat_map(char::escape_debug).collect();
    if text.chars().count() > 64 {
        out.push_str("...");
    }
    out
}

impl ProtocolIdError {
    /// What is wrong, e.g. `"Upper Back" is not kebab-case ...`.
    pub fn problem(&self) -> String {
        match self {
            ProtocolIdError::Empty => "a protocol id cannot be empty".to_owned(),
            ProtocolIdError::NotKebab { given } => format!(
                "\"{}\" is not a protocol id: it must be kebab-case (lowercase letters, digits \
                 and hyphens)",
                shown(given)
            ),
            ProtocolIdError::TooLong { len } => format!(
                "the protocol id is {len} characters long; a protocol id has at most \
                 {MAX_PROTOCOL_ID_LEN}"
            ),
        }
    }

    /// How to fix it.
    pub fn fix(&self) -> String {
        match self {
            ProtocolIdError::Empty => {
                "give the protocol an id in kebab-case, e.g. \"upper-back\"".to_owned()
            }
            ProtocolIdError::NotKebab { given } => {
                format!("for example \"{}\"", shown(&kebab_example(given)))
            }
            ProtocolIdError::TooLong { .. } => format!(
                "shorten it to {MAX_PROTOCOL_ID_LEN} characters or fewer (a longer id would \
                 lint and run, but its sessions would not import)"
            ),
        }
    }
}

impl fmt::Display for ProtocolIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; {}", self.problem(), self.fix())
    }
}

impl std::error::Error for ProtocolIdError {}

impl std::str::FromStr for ProtocolId {
    type Err = ProtocolIdError;
    fn from_str(s: &str) -> Result<ProtocolId, ProtocolIdError> {
        ProtocolId::parse(s)
    }
}

impl TryFrom<String> for ProtocolId {
    type Error = ProtocolIdError;
    fn try_from(s: String) -> Result<ProtocolId, ProtocolIdError> {
        // Checked on the borrowed text; the string is kept, not copied.
        ProtocolId::parse(&s).map(|_| ProtocolId(s))
    }
}

impl TryFrom<&str> for ProtocolId {
    type Error = ProtocolIdError;
    fn try_from(s: &str) -> Result<ProtocolId, ProtocolIdError> {
        ProtocolId::parse(s)
    }
}

impl From<ProtocolId> for String {
    fn from(id: ProtocolId) -> String {
        id.0
    }
}

impl AsRef<str> for ProtocolId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for ProtocolId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProtocolId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for ProtocolId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ProtocolId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for ProtocolId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_case_ids_up_to_64_characters_are_ids() {
        for ok in ["upper-back", "a", "x1-2", &"a".repeat(MAX_PROTOCOL_ID_LEN)] {
            let id = ProtocolId::parse(ok).unwrap();
            assert_eq!(id.as_str(), ok);
            assert_eq!(id, *ok);
        }
    }

    #[test]
    fn everything_else_is_refused_with_the_problem_and_the_fix() {
        assert_eq!(ProtocolId::parse(""), Err(ProtocolIdError::Empty));
        assert_eq!(ProtocolId::parse("   "), Err(ProtocolIdError::Empty));
        let long = "a".repeat(MAX_PROTOCOL_ID_LEN + 1);
        let err = ProtocolId::parse(&long).unwrap_err();
        assert_eq!(err, ProtocolIdError::TooLong { len: 65 });
        assert_eq!(
            err.to_string(),
            "the protocol id is 65 characters long; a protocol id has at most 64; shorten it \
             to 64 characters or fewer (a longer id would lint and run, but its sessions would \
             not import)"
        );
        for bad in [
            "Upper-Back",
            "upper back",
            " upper-back",
            "upper_back",
            "é",
            "a\u{1b}[0m",
        ] {
            let err = ProtocolId::parse(bad).unwrap_err();
            assert!(matches!(err, ProtocolIdError::NotKebab { .. }), "{bad:?}");
        }
        let escape = ProtocolId::parse(&format!("a\u{1b}]0;{}", "x".repeat(100)))
            .unwrap_err()
            .problem();
        assert!(
            escape.starts_with("\"a\\u{1b}]0;xxx") && escape.contains("x...\" is not"),
            "{escape}"
        );
        assert_eq!(
            ProtocolId::parse("Upper Back").unwrap_err().to_string(),
            "\"Upper Back\" is not a protocol id: it must be kebab-case (lowercase letters, \
             digits and hyphens); for example \"upper-back\""
        );
    }

    #[test]
    fn serde_goes_through_parse() {
        let id: ProtocolId = serde_json::from_str("\"upper-back\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"upper-back\"");
        let err = serde_json::from_str::<ProtocolId>("\"Upper\"").unwrap_err();
        assert!(err.to_string().contains("kebab-case"), "{err}");
        let long = format!("\"{}\"", "a".repeat(65));
        assert!(serde_json::from_str::<ProtocolId>(&long).is_err());
    }
}
