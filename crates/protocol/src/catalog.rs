//! The protocols a person can choose from: built-ins and user files.

use std::path::{Path, PathBuf};

use crate::file::{FileError, load_file};
use crate::{BUILTIN_SOURCES, Protocol};

/// Where a protocol in the catalog comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Embedded in the binary (the file name under `protocols/`).
    Builtin(&'static str),
    /// A user protocol file.
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Builtin(_) => f.write_str("built-in"),
            Origin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A user protocol file that could not be added to the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file.
    pub path: PathBuf,
    /// Every problem, rendered as `path:line:column: error: ...` with the
    /// source line, a caret and a hint.
    pub rendered: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.rendered)
    }
}

/// Why [`Catalog::resolve`] found no protocol.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No protocol with this id, and no such file.
    #[error("unknown protocol `{id}`; known protocols: {}", known.join(", "))]
    Unknown {
        /// What was asked for.
        id: String,
        /// The ids the catalog knows.
        known: Vec<String>,
    },
    /// The argument is a file, and the file is not a valid protocol.
    #[error(transparent)]
    File(#[from] FileError),
}

/// Built-in protocols plus the valid protocol files of a user directory.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    protocols: Vec<Protocol>,
    origins: Vec<Origin>,
    problems: Vec<Problem>,
}

impl Catalog {
    /// The built-in protocols only.
    pub fn builtin() -> Catalog {
        let mut catalog = Catalog::default();
        for (name, source) in BUILTIN_SOURCES {
            match crate::parse(source) {
                Ok(p) => {
                    catalog.protocols.push(p);
                    catalog.origins.push(Origin::Builtin(name));
                }
                // The tests check every built-in; this is a bug, reported
                // rather than panicking so the user files still load.
                Err(diagnostics) => catalog.problems.push(Problem {
                    path: PathBuf::from(format!("<built-in>/{name}")),
                    rendered: crate::diagnostic::render(name, source, &diagnostics),
                }),
            }
        }
        catalog
    }

    /// Built-ins plus every valid `*.toml` file in `user_dir` (in file name
    /// order). Invalid files, and files whose id is already taken, are
    /// listed in [`Catalog::problems`] and do not hide the others. A missing
    /// directory is not a problem: it simply holds no protocols yet.
    pub fn load(user_dir: Option<&Path>) -> Catalog {
        let mut catalog = Catalog::builtin();
        let Some(dir) = user_dir else {
            return catalog;
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return catalog,
            Err(e) => {
                catalog.problems.push(Problem {
                    path: dir.to_path_buf(),
                    rendered: format!(
                        "{}: error: cannot read the protocols directory: {e}",
                        dir.display()
                    ),
                });
                return catalog;
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && !p.is_dir())
            .collect();
        files.sort();
        for path in files {
            catalog.add_file(&path);
        }
        catalog
    }

    fn add_file(&mut self, path: &Path) {
        match load_file(path) {
            Ok(p) => {
                if let Some(i) = self.protocols.iter().position(|q| q.id == p.id) {
                    self.problems.push(Problem {
                        path: path.to_path_buf(),
                        rendered: format!(
                            "{}: error: protocol id `{}` is already taken by {}; this file is ignored\n  = hint: give the protocol in this file another `id`",
                            path.display(),
                            p.id,
                            match &self.origins[i] {
                                Origin::Builtin(_) => "a built-in protocol".to_string(),
                                Origin::File(other) => other.display().to_string(),
                            }
                        ),
                    });
                } else {
                    self.protocols.push(p);
                    self.origins.push(Origin::File(path.to_path_buf()));
                }
            }
            Err(e) => self.problems.push(Problem {
                path: path.to_path_buf(),
                rendered: e.to_string(),
            }),
        }
    }

    /// The protocol with this id.
    pub fn get(&self, id: &str) -> Option<&Protocol> {
        self.protocols.iter().find(|p| p.id == id)
    }

    /// Every protocol: built-ins first, then user files.
    pub fn all(&self) -> &[Protocol] {
        &self.protocols
    }

    /// Where the protocol with this id comes from.
    pub fn origin(&self, id: &str) -> Option<&Origin> {
        self.protocols
            .iter()
            .position(|p| p.id == id)
            .map(|i| &self.origins[i])
    }

    /// The ids of every protocol, in order.
    pub fn ids(&self) -> Vec<String> {
        self.protocols.iter().map(|p| p.id.clone()).collect()
    }

    /// The body areas the catalog's protocols cover (see [`crate::areas`]).
    pub fn areas(&self) -> Vec<&str> {
        crate::areas(&self.protocols)
    }

    /// User files that could not be added, with their rendered diagnostics.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// A protocol by id, or from a file path. An argument that contains a
    /// path separator or ends in `.toml` is read as a file; anything else is
    /// looked up by id first, then read as a file if one exists by that name.
    pub fn resolve(&self, id_or_path: &str) -> Result<Protocol, ResolveError> {
        let path = Path::new(id_or_path);
        let looks_like_path =
            id_or_path.contains(['/', std::path::MAIN_SEPARATOR]) || id_or_path.ends_with(".toml");
        if !looks_like_path {
            if let Some(p) = self.get(id_or_path) {
                return Ok(p.clone());
            }
            if !path.is_file() {
                return Err(ResolveError::Unknown {
                    id: id_or_path.to_string(),
                    known: self.ids(),
                });
            }
        }
        Ok(load_file(path)?)
    }
}
