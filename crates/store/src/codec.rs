//! How records become stored values and back, the same for every backend:
//! engine and protocol types as JSON text, pairings as their ids, ratings
//! gathered from one row per value.

use rollcoach_engine::RatingResult;
use rollcoach_protocol::Pairing;

use crate::{Corrupt, Result};

/// A value as JSON text.
pub fn to_json(value: &impl serde::Serialize) -> String {
    // The engine and protocol types are plain data; serializing them cannot fail.
    serde_json::to_string(value).expect("serializable engine type")
}

/// A protocol snapshot's text as every writer stores it: the protocol as a
/// JSON value, whose object keys are sorted, as a snapshot read from a
/// document or a push is. A session run here and one imported of the same
/// protocol then share one snapshot row (the struct's own order would not
/// match the document's).
pub fn snapshot_json(protocol: &impl serde::Serialize) -> String {
    to_json(&serde_json::to_value(protocol).expect("serializable protocol"))
}

/// A stored JSON value of `session`; `what` names it in the error
/// ([`Corrupt::Record`]) if it does not parse.
pub fn from_json<T: serde::de::DeserializeOwned>(
    json: &str,
    session: impl std::fmt::Display,
    what: &'static str,
) -> Result<T> {
    serde_json::from_str(json).map_err(|source| {
        Corrupt::Record {
            session: session.to_string(),
            what,
            source,
        }
        .into()
    })
}

/// A pairing's id: `inhale-out` or `inhale-back`.
pub fn pairing_id(p: Pairing) -> &'static str {
    match p {
        Pairing::InhaleOut => "inhale-out",
        Pairing::InhaleBack => "inhale-back",
    }
}

/// The pairing with this id ([`pairing_id`]); `None` for anything else.
pub fn parse_pairing(s: &str) -> Option<Pairing> {
    match s {
        "inhale-out" => Some(Pairing::InhaleOut),
        "inhale-back" => Some(Pairing::InhaleBack),
        _ => None,
    }
}

/// Adds one stored rating value (its rating id, whether it is the value
/// before, the value) to a session's list. Values must come sorted by
/// rating id, so the same id is the last entry.
pub fn push_rating(list: &mut Vec<RatingResult>, id: &str, before: bool, value: u8) {
    if list.last().is_none_or(|r| r.id != id) {
        list.push(RatingResult {
            id: id.to_owned(),
            before: None,
            after: None,
        });
    }
    if let Some(entry) = list.last_mut() {
        *(if before {
            &mut entry.before
        } else {
            &mut entry.after
        }) = Some(value);
    }
}
