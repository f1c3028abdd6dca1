//! rollcoach protocol files.
//!
//! A protocol file is one TOML file that is both a printable handout and a
//! guided session. [`parse`] turns its text into a validated [`Protocol`] or
//! the full list of located [`Diagnostic`]s; [`builtin`] gives the protocols
//! embedded in the binary.
#![deny(missing_docs)]

mod model;

pub use model::*;

/// Built-in protocol files: (file name, TOML source).
pub const BUILTIN_SOURCES: &[(&str, &str)] = &[(
    "upper-back.toml",
    include_str!("../../../protocols/upper-back.toml"),
)];

/// A problem found in a protocol file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Byte range in the source the problem is about.
    pub span: std::ops::Range<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it, if there is a hint.
    pub hint: Option<String>,
}

/// Parses and validates a protocol file's text.
///
/// Returns every problem found, not only the first.
pub fn parse(source: &str) -> Result<Protocol, Vec<Diagnostic>> {
    toml::from_str::<Protocol>(source).map_err(|e| {
        vec![Diagnostic {
            span: e.span().unwrap_or(0..0),
            message: e.message().to_string(),
            hint: None,
        }]
    })
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
