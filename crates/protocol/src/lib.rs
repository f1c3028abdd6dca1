//! rollcoach protocol files.
//!
//! A protocol file is one TOML file that is both a printable handout and a
//! guided session. [`parse`] turns its text into a validated [`Protocol`] or
//! the full list of located [`Diagnostic`]s; [`diagnostic::render`] prints
//! them as `path:line:column: error: ...` with the source line and a caret;
//! [`Catalog`] gathers the built-in protocols and the user's files;
//! [`render`] turns a protocol back into a printable handout;
//! [`json_schema`] describes the format for editors.
//!
//! # Features
//!
//! - `full` (default): everything above that reads or writes protocol files:
//!   TOML parsing and validation, the catalog, the JSON Schema, the handout.
//!   Without it, the crate is the validated model alone ([`Protocol`] and its
//!   parts, read from JSON with serde), the rules it carries
//!   ([`InjuryRule::window_ms`], [`Protocol::discomfort_threshold`],
//!   [`check_area`]), the speech estimate ([`speech::estimate_ms`]) and [`json_view`]: what the engine needs to build for
//!   `wasm32-unknown-unknown`, with no TOML or schema code.
#![deny(missing_docs)]

#[cfg(feature = "full")]
mod catalog;
#[cfg(feature = "full")]
mod check;
#[cfg(feature = "full")]
pub mod diagnostic;
#[cfg(feature = "full")]
mod file;
mod model;
#[cfg(feature = "full")]
pub mod raw;
#[cfg(feature = "full")]
pub mod render;
#[cfg(feature = "full")]
mod schema;
pub mod speech;
mod view;

#[cfg(feature = "full")]
pub use catalog::{Catalog, Origin, Problem, ResolveError};
#[cfg(feature = "full")]
pub use diagnostic::Diagnostic;
#[cfg(feature = "full")]
pub use file::{FileError, MAX_FILE_BYTES, load_file, text_of};
pub use model::*;
#[cfg(feature = "full")]
pub use schema::json_schema;
pub use view::json_view;

/// Built-in protocol files: (file name, TOML source).
#[cfg(feature = "full")]
pub const BUILTIN_SOURCES: &[(&str, &str)] = &[
    (
        "upper-back.toml",
        include_str!("../../../protocols/upper-back.toml"),
    ),
    (
        "upper-back-ball-cane.toml",
        include_str!("../../../protocols/upper-back-ball-cane.toml"),
    ),
];

/// Parses and validates a protocol file's text.
///
/// Returns every problem found, not only the first: TOML syntax errors,
/// unknown keys (with a suggestion), wrong types, missing fields, duplicate
/// ids, reps and tempo out of order or out of bounds (reps 1 to [`MAX_REPS`],
/// tempo [`MIN_TEMPO_SECONDS`] to [`MAX_TEMPO_SECONDS`] per direction), a
/// zero injury window, references to undefined instruments or
/// reps, no setup steps, an indication with nothing to rate, no injury rule.
/// Text over [`MAX_FILE_BYTES`] or holding a NUL byte is refused up front.
#[cfg(feature = "full")]
pub fn parse(source: &str) -> Result<Protocol, Vec<Diagnostic>> {
    check::parse(source)
}

/// Warnings about a valid protocol file (`source`, parsed as `protocol`):
/// what works but will not work well, located like errors and rendered by
/// [`diagnostic::render`] as `warning:`: a phase cue with no wording
/// that fits the shortest allowed tempo at the default speech rate
/// ([`speech::estimate_ms`] plus [`speech::PHASE_MARGIN_MS`] above
/// `movement.tempo.min_seconds`), and each way the protocol weakens the
/// handout's safety rules ([`Protocol::safety_warnings`]).
#[cfg(feature = "full")]
pub fn warnings(source: &str, protocol: &Protocol) -> Vec<Diagnostic> {
    check::warnings(source, protocol)
}

/// The built-in protocols, parsed. They are checked by the tests, so a
/// failure here is a bug in rollcoach, not in the user's input.
#[cfg(feature = "full")]
pub fn builtin() -> Vec<Protocol> {
    BUILTIN_SOURCES
        .iter()
        .map(|(name, src)| {
            parse(src).unwrap_or_else(|d| panic!("built-in protocol {name} is invalid: {d:?}"))
        })
        .collect()
}
