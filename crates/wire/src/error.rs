//! The error answer of every route.

use serde::{Deserialize, Serialize};

/// An error: a 4xx for anything the client got wrong (never a 500 for bad
/// input), a 5xx for rollcoach's own failures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "Error"))]
pub struct ErrorBody {
    /// What went wrong, where, and how to fix it.
    pub error: String,
}
