//! rollcoach protocol files.
//!
//! A protocol file is one TOML file that is both a printable handout and a
//! guided session. [`parse`] turns its text into a validated [`Protocol`] or
//! the full list of located [`Diagnostic`]s; [`diagnostic::render`] prints
//! them as `path:line:column: error: ...` with the source line and a caret;
//! [`Catalog`] gathers the built-in protocols and the user's files;
//! [`render`] turns a protocol back into a printable handout;
//! [`json_schema`] describes the format for editors.
#![deny(missing_docs)]

mod catalog;
mod check;
pub mod diagnostic;
mod file;
mod model;
pub mod raw;
pub mod render;
mod schema;
mod view;

pub use catalog::{Catalog, Origin, Problem, ResolveError};
pub use diagnostic::Diagnostic;
pub use file::{FileError, MAX_FILE_BYTES, load_file, text_of};
pub use model::*;
pub use schema::json_schema;
pub use view::json_view;

/// Built-in protocol files: (file name, TOML source).
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
/// ids, reps and tempo out of order, references to undefined instruments or
/// reps, no setup steps, an indication with nothing to rate, no injury rule.
/// Text over [`MAX_FILE_BYTES`] or holding a NUL byte is refused up front.
pub fn parse(source: &str) -> Result<Protocol, Vec<Diagnostic>> {
    check::parse(source)
}

/// The built-in protocols, parsed. They are checked by the tests, so a
/// failure here is a bug in rollcoach, not in the user's input.
pub fn builtin() -> Vec<Protocol> {
    BUILTIN_SOURCES
        .iter()
        .map(|(name, src)| {
            parse(src).unwrap_or_else(|d| panic!("built-in protocol {name} is invalid: {d:?}"))
        })
        .collect()
}
