//! rollcoach protocol files.
//!
//! A protocol file is one TOML file that is both a printable handout and a
//! guided session. [`parse`] turns its text into a validated [`Protocol`] or
//! the full list of located [`Diagnostic`]s; [`Protocol::from_json`] does the
//! same for a protocol that arrives as JSON (one set of types, one check,
//! [`Protocol::check`], each problem named by its dotted path);
//! [`ProtocolId`] is the one rule for protocol ids; [`diagnostic::render`] prints
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
//!   parts, read from JSON and checked by [`Protocol::from_json`],
//!   [`ProtocolId`]), the rules it carries
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
mod id;
mod model;
#[cfg(feature = "full")]
pub mod render;
mod rules;
#[cfg(feature = "full")]
mod schema;
#[cfg(feature = "full")]
mod size;
pub mod speech;
mod text;
mod view;
mod words;

#[cfg(feature = "full")]
pub use catalog::{Catalog, Origin, Problem, ResolveError};
#[cfg(feature = "full")]
pub use diagnostic::Diagnostic;
#[cfg(feature = "full")]
pub use file::{FileError, MAX_FILE_BYTES, load_file, text_of};
pub use id::{MAX_PROTOCOL_ID_LEN, ProtocolId, ProtocolIdError};
pub use model::*;
pub use rules::{ProtocolProblem, ProtocolProblems};
#[cfg(feature = "full")]
pub use schema::json_schema;
#[cfg(feature = "full")]
pub use size::{SYNC_BODY_LIMIT, SyncSize, sync_size};
pub use text::is_unprintable;
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

/// Warnings about a valid protocol file (`source`, parsed as `protocol`)
/// that derives from a built-in ([`derived_builtin`]): each way it weakens
/// that built-in ([`Protocol::weakened_from`]), located like errors and
/// rendered as `warning: weaker than built-in ...`. `protocols lint` gives
/// them with [`warnings`].
#[cfg(feature = "full")]
pub fn derived_warnings(source: &str, protocol: &Protocol) -> Vec<Diagnostic> {
    check::derived_warnings(source, protocol)
}

/// The built-in a protocol derives from: the one with its id; else the one
/// whose id its id extends (`upper-back-mine` derives from `upper-back`;
/// the longest such id); else the one whose id is its area; else the first
/// of its area. `None` for a protocol of an area no built-in covers.
#[cfg(feature = "full")]
pub fn derived_builtin(protocol: &Protocol) -> Option<&'static Protocol> {
    let builtins = builtins();
    let id = &protocol.id;
    builtins
        .iter()
        .find(|b| &b.id == id)
        .or_else(|| {
            builtins
                .iter()
                .filter(|b| {
                    id.strip_prefix(b.id.as_str())
                        .is_some_and(|rest| rest.starts_with('-'))
                })
                .max_by_key(|b| b.id.len())
        })
        .or_else(|| builtins.iter().find(|b| b.id == protocol.area))
        .or_else(|| builtins.iter().find(|b| b.area == protocol.area))
}

/// The built-ins, parsed once.
#[cfg(feature = "full")]
fn builtins() -> &'static [Protocol] {
    static BUILTINS: std::sync::OnceLock<Vec<Protocol>> = std::sync::OnceLock::new();
    BUILTINS.get_or_init(builtin)
}

/// A protocol file may not take a built-in's identity: one whose id is a
/// built-in's must be that built-in (a copy of its file), or it would be
/// recorded as the built-in while it asks, stops or blocks otherwise.
/// [`load_file`] refuses it, with the fix (another id).
#[cfg(feature = "full")]
pub(crate) fn takes_builtin_identity(protocol: &Protocol) -> Option<&'static Protocol> {
    builtins()
        .iter()
        .find(|b| b.id == protocol.id && *b != protocol)
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
