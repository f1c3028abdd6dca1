//! Whose data: every call of a [`crate::Records`] store names the person it
//! serves, so an unscoped read or write does not compile.

use serde::{Deserialize, Serialize};

/// The person a record belongs to: the server's owner (the one person of a
/// store that nobody else uses) or, later, a coach's client. Opaque and
/// stable: backends keep it with every row and compare it, nothing more.
///
/// The only ways in are [`PersonId::owner`] and [`PersonId::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonId(String);

/// Why a text is not a [`PersonId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("person id {given:?} {problem}: give 1 to 64 ASCII letters, digits, `-` or `_`")]
pub struct PersonIdError {
    given: String,
    problem: &'static str,
}

/// The longest person id.
pub const MAX_PERSON_ID_LEN: usize = 64;

impl PersonId {
    /// The owner's id (`owner`): the person of a store used by one person,
    /// which is every store from before people were kept apart.
    pub fn owner() -> PersonId {
        PersonId(OWNER.to_owned())
    }

    /// Checks a person id: 1 to [`MAX_PERSON_ID_LEN`] ASCII letters,
    /// digits, `-` or `_`.
    pub fn parse(text: &str) -> Result<PersonId, PersonIdError> {
        let problem = if text.is_empty() {
            "is empty"
        } else if text.len() > MAX_PERSON_ID_LEN {
            "is longer than 64 characters"
        } else if !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        {
            "holds characters other than ASCII letters, digits, `-` and `_`"
        } else {
            return Ok(PersonId(text.to_owned()));
        };
        Err(PersonIdError {
            given: text.chars().take(80).collect(),
            problem,
        })
    }

    /// The id as text, as backends store it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the owner.
    pub fn is_owner(&self) -> bool {
        self.0 == OWNER
    }
}

const OWNER: &str = "owner";

impl std::fmt::Display for PersonId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PersonId {
    type Error = PersonIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        PersonId::parse(&s)
    }
}

impl From<PersonId> for String {
    fn from(p: PersonId) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_parses_as_itself() {
        assert_eq!(PersonId::parse("owner").unwrap(), PersonId::owner());
        assert!(PersonId::owner().is_owner());
    }

    #[test]
    fn a_person_id_with_a_quote_or_too_long_is_refused_with_the_fix() {
        for bad in ["", "a'b", "x y", &"a".repeat(65)] {
            let e = PersonId::parse(bad).unwrap_err().to_string();
            assert!(e.contains("give 1 to 64 ASCII letters"), "{e}");
        }
        assert!(PersonId::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn a_person_id_deserializes_only_through_parse() {
        assert!(serde_json::from_str::<PersonId>("\"client-7\"").is_ok());
        assert!(serde_json::from_str::<PersonId>("\"no;drop\"").is_err());
    }
}
