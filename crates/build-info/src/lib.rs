//! Build facts shared by the `codex` and `codex-exec-server` binaries.
//!
//! Values come from this crate's build script, which runs once per target, so `TARGET` is the
//! triple the binary was compiled for, not the machine that compiled it.

/// Release version, e.g. `0.1.0` (set by `cargo xtask dist --version`).
pub const VERSION: &str = env!("CODEX_BUILD_VERSION");

/// Target triple the binary was built for, e.g. `x86_64-unknown-linux-musl`.
pub const TARGET: &str = env!("CODEX_BUILD_TARGET");

/// Full git commit hash of the source, or `unknown` outside a checkout.
pub const COMMIT: &str = env!("CODEX_BUILD_COMMIT");

/// The text after the program name in `--version`: `0.1.0 (x86_64-unknown-linux-musl, commit abc…)`.
pub const LONG_VERSION: &str = concat!(
    env!("CODEX_BUILD_VERSION"),
    " (",
    env!("CODEX_BUILD_TARGET"),
    ", commit ",
    env!("CODEX_BUILD_COMMIT"),
    ")"
);
