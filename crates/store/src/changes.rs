//! What changed in a person's records since a device last asked: the
//! incremental pull of sync ([`crate::Records::changes_since`]).

use serde::{Deserialize, Serialize};

use crate::{Injury, SessionRecord};

/// Where a reader of a person's changes is: every change after it is
/// still to be read. Opaque to callers (on the wire it is text, `c` and a
/// number); a backend makes it from its own ordered change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangeCursor(i64);

/// Why a text is not a [`ChangeCursor`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a sync cursor: give the `next` of the last changes answer, or leave `since` out to read from the start"
)]
pub struct CursorError(String);

impl ChangeCursor {
    /// The cursor at a backend's change-log position (its sequence number).
    pub fn at(position: i64) -> ChangeCursor {
        ChangeCursor(position)
    }

    /// The backend's change-log position.
    pub fn position(&self) -> i64 {
        self.0
    }

    /// Reads a cursor as [`ChangeCursor`]'s `Display` writes it.
    pub fn parse(text: &str) -> Result<ChangeCursor, CursorError> {
        text.strip_prefix('c')
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n >= 0 && !text[1..].starts_with('+'))
            .map(ChangeCursor)
            .ok_or_else(|| CursorError(text.chars().take(40).collect()))
    }
}

impl std::fmt::Display for ChangeCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// One change of a person's records, as it is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "record")]
#[allow(
    clippy::large_enum_variant,
    reason = "changes are read a page at a time and sent on; boxing a record would only add an allocation each"
)]
pub enum Change {
    /// A session was stored or ended.
    Session(SessionRecord),
    /// An injury was logged or cleared.
    Injury(Injury),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_writes_and_nothing_else() {
        let c = ChangeCursor::at(42);
        assert_eq!(ChangeCursor::parse(&c.to_string()).unwrap(), c);
        for bad in ["", "42", "c", "c-1", "c+1", "cx", "c1.5"] {
            let e = ChangeCursor::parse(bad).unwrap_err().to_string();
            assert!(e.contains("is not a sync cursor"), "{bad}: {e}");
        }
    }
}
