//! Captures what `--version` prints: the release version, the target triple and the git commit.
//!
//! `cargo xtask dist` sets `CODEX_RELEASE_VERSION` and `CODEX_GIT_COMMIT` to the placeholders in
//! `src/stamp.rs` and writes the real values into the linked binaries, so that a release build
//! depends on neither the version nor a `.git` directory; plain `cargo build` falls back to the
//! workspace version and asks git.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=CODEX_RELEASE_VERSION");
    println!("cargo:rerun-if-env-changed=CODEX_GIT_COMMIT");

    let version = std::env::var("CODEX_RELEASE_VERSION")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| std::env::var("CARGO_PKG_VERSION").unwrap_or_default());
    let target = std::env::var("TARGET").unwrap_or_default();
    let commit = match std::env::var("CODEX_GIT_COMMIT") {
        Ok(c) if !c.is_empty() => c,
        _ => git_commit().unwrap_or_else(|| "unknown".to_owned()),
    };

    println!("cargo:rustc-env=CODEX_BUILD_VERSION={version}");
    println!("cargo:rustc-env=CODEX_BUILD_TARGET={target}");
    println!("cargo:rustc-env=CODEX_BUILD_COMMIT={commit}");
}

/// The commit of the checkout, and rerun triggers so a new commit refreshes it.
fn git_commit() -> Option<String> {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    for path in ["HEAD", "packed-refs"] {
        if let Some(p) = git(&["rev-parse", "--git-path", path]) {
            watch(&p);
        }
    }
    if let Some(p) = git(&["symbolic-ref", "-q", "HEAD"])
        .and_then(|head_ref| git(&["rev-parse", "--git-path", &head_ref]))
    {
        watch(&p);
    }
    git(&["rev-parse", "HEAD"])
}

fn watch(path: &str) {
    if Path::new(path).exists() {
        println!("cargo:rerun-if-changed={path}");
    }
}
