//! What the codex-cli tests share.

use std::path::{Path, PathBuf};

/// A fresh directory outside every root that workspace-write grants by default (the temp dir
/// and /tmp), for writes that must be refused. The build's target dir is used when it is not
/// itself under /tmp (a checkout in /tmp is common: CI clones there); else /var/tmp, else the
/// home directory.
#[allow(dead_code)] // each test crate uses a part of this module
pub fn scratch() -> tempfile::TempDir {
    let granted = [PathBuf::from("/tmp"), std::env::temp_dir()];
    let is_granted = |p: &Path| {
        let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        granted
            .iter()
            .any(|g| p.starts_with(std::fs::canonicalize(g).unwrap_or_else(|_| g.clone())))
    };
    let mut candidates = vec![
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")),
        PathBuf::from("/var/tmp/codex-tests"),
    ];
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join(".cache").join("codex-tests"));
    }
    for base in candidates {
        if std::fs::create_dir_all(&base).is_ok() && !is_granted(&base) {
            return tempfile::tempdir_in(&base).expect("tempdir");
        }
    }
    panic!("no writable directory outside /tmp and the temp dir for the sandbox tests");
}

/// The real Codex 0.169 binary, the reference for texts and exit codes: `$CODEX_169_BIN` (set
/// by `cargo xtask test`; it must name a file), else where `cargo xtask npm-tools` installed
/// it; `None` (with a notice) when there is none.
#[allow(dead_code)] // each test crate uses a part of this module
pub fn codex_169() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CODEX_169_BIN").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "CODEX_169_BIN={} does not name a file",
            p.display()
        );
        return Some(p);
    }
    let installed = xtask::tools::codex_169_bin(&xtask::tools::npm_tools_dir());
    if installed.is_none() {
        eprintln!(
            "SKIPPED: no Codex 0.169 binary (run `cargo xtask npm-tools` or set CODEX_169_BIN)"
        );
    }
    installed
}
