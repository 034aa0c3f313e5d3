//! The Codex patch format (`*** Begin Patch` … `*** End Patch`: add, update, move and delete
//! files, updates as context hunks), parsed by [`parse`] and applied by [`apply`].
//!
//! Applying is all or nothing: every file's new contents are computed, and every context
//! matched, before anything on disk changes; a patch whose context does not match changes
//! nothing and says which file and which lines. Paths are relative to the root the patch is
//! applied in and may not leave it.

mod apply;
mod parse;
mod tree;

use std::path::PathBuf;

pub use apply::{Applied, FileDiff, apply, preview};
pub use parse::parse;

/// A parsed patch: file operations in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// What to do, file by file.
    pub ops: Vec<FileOp>,
}

/// One file's operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOp {
    /// Create a file (which must not exist yet).
    Add {
        /// Where, relative to the root.
        path: PathBuf,
        /// Its contents (each line ends in `\n`).
        contents: String,
    },
    /// Delete a file (which must exist).
    Delete {
        /// Which, relative to the root.
        path: PathBuf,
    },
    /// Change a file's lines, and perhaps move it.
    Update {
        /// Which, relative to the root.
        path: PathBuf,
        /// Its new path, when it moves.
        move_to: Option<PathBuf>,
        /// The changes, in file order.
        changes: Vec<Change>,
    },
}

/// One `@@` chunk: lines `old` (context and removed) become `new` (context and added).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    /// The text after `@@`: a line to find first (e.g. a function's signature).
    pub anchor: Option<String>,
    /// The lines as they are now.
    pub old: Vec<String>,
    /// The lines as they will be.
    pub new: Vec<String>,
    /// `*** End of File`: `old` must be the file's last lines.
    pub at_end: bool,
}

/// Why a patch was not applied. Nothing on disk changed.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// The text is not a patch.
    #[error("invalid patch, line {line}: {why}")]
    Syntax {
        /// 1-based line of the patch.
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// A path is absolute or climbs out of the root.
    #[error("{0}: a patch may only name paths inside the workspace")]
    OutsideRoot(PathBuf),
    /// The path names something other than a regular file (a folder, a FIFO, a device).
    #[error("{0}: not a regular file; a patch only changes regular files")]
    NotAFile(PathBuf),
    /// An added file exists already.
    #[error("{0}: cannot add a file that exists")]
    Exists(PathBuf),
    /// An updated or deleted file is missing.
    #[error("{0}: no such file")]
    Missing(PathBuf),
    /// A chunk's lines are not in the file.
    #[error("{path}: these lines were not found{anchor}:\n{lines}")]
    NoMatch {
        /// The file.
        path: PathBuf,
        /// ` after "<anchor>"` when the chunk had one.
        anchor: String,
        /// The lines looked for.
        lines: String,
    },
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}
