//! `GET /api/injuries`, `POST /api/injuries` and `DELETE /api/injuries/{uid}`.

use rollcoach_engine::{InjuryFact, Time, injury_block};
use rollcoach_protocol::Protocol;
use serde::{Deserialize, Serialize};

/// `POST /api/injuries`'s body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NewInjury {
    /// The body area: one some protocol covers.
    pub area: String,
    /// When it happened (ms since the Unix epoch); default now. Not in the
    /// future (up to 5 minutes ahead is taken as now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<u64>"))]
    pub at: Option<Time>,
    /// The person's note, at most 500 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(max = 500)))]
    pub note: Option<String>,
}

/// A logged injury, named by its uid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Injury {
    /// Its uid (`DELETE /api/injuries/{uid}`).
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::uid"))]
    pub uid: String,
    /// The body area.
    pub area: String,
    /// When it happened (ms since the Unix epoch).
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub at: Time,
    /// The person's note.
    pub note: Option<String>,
    /// When it was logged (ms since the Unix epoch).
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub created_at: Time,
    /// When it was cleared (null: it still counts).
    #[cfg_attr(feature = "schema", schemars(with = "Option<u64>"))]
    pub cleared_at: Option<Time>,
}

impl From<rollcoach_store::Injury> for Injury {
    /// The stored injury's answer, without its row id.
    fn from(i: rollcoach_store::Injury) -> Injury {
        Injury {
            uid: i.uid,
            area: i.area,
            at: i.at,
            note: i.note,
            created_at: i.created_at,
            cleared_at: i.cleared_at,
        }
    }
}

/// A protocol an injury blocks now, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InjuryBlocks {
    /// The protocol's id.
    pub protocol: String,
    /// When it is allowed again (ms since the Unix epoch).
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub allowed_at: Time,
}

/// One injury of `GET /api/injuries`, with the protocols it blocks now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InjuryItem {
    /// The injury.
    #[serde(flatten)]
    pub injury: Injury,
    /// The protocols it blocks now, each until when (empty when cleared or
    /// past every window).
    pub blocks: Vec<InjuryBlocks>,
}

impl InjuryItem {
    /// `injury` with the protocols of its area it blocks at `now`, by the
    /// engine's rule ([`rollcoach_engine::injury_block`]).
    pub fn of<'a>(
        injury: Injury,
        protocols: impl IntoIterator<Item = &'a Protocol>,
        now: Time,
    ) -> InjuryItem {
        let fact = [InjuryFact {
            at: injury.at,
            note: None,
        }];
        let blocks = if injury.cleared_at.is_some() {
            Vec::new()
        } else {
            protocols
                .into_iter()
                .filter(|p| p.area == injury.area)
                .filter_map(|p| {
                    injury_block(p, &fact, now).map(|b| InjuryBlocks {
                        protocol: p.id.clone(),
                        allowed_at: b.allowed_at,
                    })
                })
                .collect()
        };
        InjuryItem { injury, blocks }
    }
}

/// `GET /api/injuries`: the injury log, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InjuryList {
    /// The injuries.
    pub injuries: Vec<InjuryItem>,
}
