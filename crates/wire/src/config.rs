//! `GET /api/config`.

use serde::{Deserialize, Serialize};

/// What the page needs to know of how the server runs: the page runs
/// sessions itself on its own clock, scaled by `speed`, and syncs with the
/// server when `sync` says there is one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PageConfig {
    /// The session clock's speed (`serve --speed`): 1 is real time.
    pub speed: f64,
    /// Whether a rollcoach server answers sync: true from `serve`, false in
    /// the static app (`rollcoach web export`), whose page never tries.
    pub sync: bool,
}
