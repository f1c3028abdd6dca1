//! Reading protocol files from disk: size and encoding checks before parsing.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::{Diagnostic, Protocol, diagnostic};

/// Largest protocol file accepted (1 MiB). A handout is a few kilobytes; a
/// bigger file is a mistake, and refusing it keeps lint fast and bounded.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// Why a protocol file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read.
    #[error("{path}: error: cannot read the file: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error(
        "{path}: error: the file is larger than 1 MiB, too large for a protocol file\n  = hint: a protocol file is a few kilobytes of TOML; check that this is the file you meant"
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The file holds NUL bytes or is not UTF-8: not a TOML text file.
    #[error(
        "{path}: error: this is not a text file ({what} at byte {offset})\n  = hint: protocol files are UTF-8 TOML text; check that this is the file you meant"
    )]
    NotText {
        /// The file.
        path: PathBuf,
        /// What was found ("a NUL byte", "invalid UTF-8").
        what: &'static str,
        /// Byte offset of the first offending byte.
        offset: usize,
    },
    /// The file is TOML text with problems.
    #[error("{rendered}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The file's text.
        source_text: String,
        /// Every problem found.
        diagnostics: Vec<Diagnostic>,
        /// The problems rendered with the file name and source lines.
        rendered: String,
    },
}

impl FileError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            FileError::Io { path, .. }
            | FileError::TooLarge { path }
            | FileError::NotText { path, .. }
            | FileError::Invalid { path, .. } => path,
        }
    }

    /// How many problems the error stands for.
    pub fn count(&self) -> usize {
        match self {
            FileError::Invalid { diagnostics, .. } => diagnostics.len(),
            _ => 1,
        }
    }
}

/// Checks that bytes are a protocol file's text: at most 1 MiB, no NUL byte,
/// valid UTF-8. The diagnostic (at byte 0) says what is wrong.
pub fn text_of(bytes: &[u8]) -> Result<&str, Diagnostic> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Diagnostic::new(
            0..0,
            "the file is larger than 1 MiB, too large for a protocol file",
        )
        .with_hint("a protocol file is a few kilobytes of TOML"));
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(Diagnostic::new(
            0..0,
            format!("this is not a text file (a NUL byte at byte {offset})"),
        )
        .with_hint("protocol files are UTF-8 TOML text"));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        Diagnostic::new(
            0..0,
            format!(
                "this is not a text file (invalid UTF-8 at byte {})",
                e.valid_up_to()
            ),
        )
        .with_hint("protocol files are UTF-8 TOML text")
    })
}

/// Reads, parses and validates a protocol file; one whose id is a built-in
/// protocol's must be that built-in (issue 24, finding 13: it would be
/// recorded as the built-in).
pub fn load_file(path: &Path) -> Result<Protocol, FileError> {
    let io = |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    // Read at most one byte more than the limit: a huge file, or an endless
    // one such as /dev/zero, is refused without reading it all.
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(FileError::NotText {
            path: path.to_path_buf(),
            what: "a NUL byte",
            offset,
        });
    }
    let text = String::from_utf8(bytes).map_err(|e| FileError::NotText {
        path: path.to_path_buf(),
        what: "invalid UTF-8",
        offset: e.utf8_error().valid_up_to(),
    })?;
    // A file may not take a built-in's identity (issue 24, finding 13).
    let parsed = crate::parse(&text).and_then(|p| match crate::check::identity(&text, &p) {
        Some(d) => Err(vec![d]),
        None => Ok(p),
    });
    parsed.map_err(|diagnostics| {
        let rendered = diagnostic::render(&path.display().to_string(), &text, &diagnostics);
        FileError::Invalid {
            path: path.to_path_buf(),
            source_text: text,
            diagnostics,
            rendered: rendered.trim_end().to_string(),
        }
    })
}
