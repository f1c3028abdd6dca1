//! `GET /api/protocols` and `GET /api/protocols/{id}` (and the static app's
//! copies of them), and the injury block the page's wasm module computes.

use rollcoach_engine::{InjuryBlock, InjuryFact, Time, injury_block};
use rollcoach_protocol::{Protocol, SafetyWarning};
use serde::{Deserialize, Serialize};

/// The protocol's safety rules that the page shows: it computes none itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Rules {
    /// The injury rule's window, in hours: an injury in the area blocks the
    /// protocol for this long.
    pub injury_window_hours: u32,
    /// Discomfort strictly above this (0-10) stops the session; null if the
    /// protocol has no such rule.
    #[cfg_attr(feature = "schema", schemars(range(max = 10)))]
    pub discomfort_threshold: Option<u8>,
}

impl Rules {
    /// The rules of `protocol`.
    pub fn of(protocol: &Protocol) -> Rules {
        Rules {
            injury_window_hours: protocol.screening.injury_rule.window_hours,
            discomfort_threshold: protocol.discomfort_threshold(),
        }
    }
}

/// The injury rule blocks the protocol now: since the latest blocking
/// injury, until `allowed_at` ([`rollcoach_engine::injury_block`]), with the
/// protocol's window and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Block {
    /// When the most recent blocking injury happened (ms since the Unix epoch).
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub injured_at: Time,
    /// When the protocol becomes allowed again (ms since the Unix epoch).
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub allowed_at: Time,
    /// The protocol's window, in hours.
    pub window_hours: u32,
    /// The protocol's message.
    pub message: String,
}

impl Block {
    /// The answer for the engine's block of `protocol`.
    pub fn of(protocol: &Protocol, block: InjuryBlock) -> Block {
        let rule = &protocol.screening.injury_rule;
        Block {
            injured_at: block.injured_at,
            allowed_at: block.allowed_at,
            window_hours: rule.window_hours,
            message: rule.message.clone(),
        }
    }

    /// Whether `injuries` (of the protocol's area, not cleared) block
    /// `protocol` at `now`, by the engine's one rule.
    pub fn now(protocol: &Protocol, injuries: &[InjuryFact], now: Time) -> Option<Block> {
        injury_block(protocol, injuries, now).map(|b| Block::of(protocol, b))
    }
}

/// A protocol's rep count: fewest, most and default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RepRange {
    /// Fewest reps.
    pub min: u32,
    /// Most reps.
    pub max: u32,
    /// The default.
    pub default: u32,
}

/// One protocol of `GET /api/protocols`: what a list needs (the page reads
/// the rest from the protocol in full).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProtocolBrief {
    /// The protocol's id: `GET /api/protocols/{id}`.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The body area it works on.
    pub area: String,
    /// Its rep count.
    pub reps: RepRange,
    /// Seconds of rolling at the default reps and tempo.
    pub estimated_seconds: f64,
    /// Its safety rules.
    pub rules: Rules,
    /// Whether the injury log blocks it now (null: it does not; the static
    /// app, which keeps no injuries, always says null).
    pub blocked: Option<Block>,
}

impl ProtocolBrief {
    /// The brief of `protocol`, blocked or not.
    pub fn of(protocol: &Protocol, blocked: Option<Block>) -> ProtocolBrief {
        let reps = protocol.movement.reps;
        ProtocolBrief {
            id: protocol.id.clone(),
            title: protocol.title.clone(),
            area: protocol.area.clone(),
            reps: RepRange {
                min: reps.min,
                max: reps.max,
                default: reps.default,
            },
            estimated_seconds: protocol.estimated_rolling_seconds(),
            rules: Rules::of(protocol),
            blocked,
        }
    }
}

/// Where a protocol weakens the handout's safety rules (a coach's content:
/// warned, not refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Warning {
    /// Where in the protocol, as a dotted path (`screening.questions[0].refuse_on`).
    pub path: String,
    /// What is weakened.
    pub message: String,
    /// How to follow the handout.
    pub hint: String,
}

impl From<SafetyWarning> for Warning {
    fn from(w: SafetyWarning) -> Warning {
        Warning {
            path: w.path,
            message: w.message,
            hint: w.hint,
        }
    }
}

/// `GET /api/protocols/{id}`: one protocol in full, with its safety rules,
/// its block and its warnings; the static app's copy has no `now`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProtocolDetail {
    /// The protocol, as the page runs it.
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::schema::protocol"))]
    pub protocol: Protocol,
    /// Its safety rules.
    pub rules: Rules,
    /// Whether the injury log blocks it now (null: it does not).
    pub blocked: Option<Block>,
    /// Where the protocol weakens the handout's safety rules.
    pub warnings: Vec<Warning>,
    /// The server's clock (ms since the Unix epoch); not in the static app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<u64>"))]
    pub now: Option<Time>,
}

impl ProtocolDetail {
    /// The detail of `protocol`, blocked or not, at `now` (None: the static app).
    pub fn of(protocol: &Protocol, blocked: Option<Block>, now: Option<Time>) -> ProtocolDetail {
        ProtocolDetail {
            protocol: protocol.clone(),
            rules: Rules::of(protocol),
            blocked,
            warnings: protocol
                .safety_warnings()
                .into_iter()
                .map(Warning::from)
                .collect(),
            now,
        }
    }
}
