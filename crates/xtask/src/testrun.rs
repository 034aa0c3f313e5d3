//! `cargo xtask test`: the README's test command and what CI runs. It installs whatever the tests
//! need, then runs every check; the first failure stops the run with its exit status.

use std::process::Command;
use std::time::Instant;

use anyhow::{Result, bail};
use codex_installer::target::TARGETS;

use crate::{dist, generate, tools};

/// Commands the tests run, paired with the Debian package that provides each.
const DEBIAN_TEST_TOOLS: &[(&str, &str)] = &[
    ("qemu-aarch64-static", "qemu-user-static"),
    ("dash", "dash"),
    ("zsh", "zsh"),
    ("busybox", "busybox"),
    ("wget", "wget"),
    ("curl", "curl"),
    ("shellcheck", "shellcheck"),
    // The real terminal the interactive codex is tested in (crates/codex-cli/tests/tui.rs).
    ("tmux", "tmux"),
    ("pgrep", "procps"),
    ("setpriv", "util-linux"),
    // Runs the Windows build of codex (tests/windows_update.rs); Debian's wine64 is not on PATH.
    ("/usr/lib/wine/wine64", "wine64"),
    // `ruby -c` and the harness that loads the Homebrew cask and formula.
    ("ruby", "ruby"),
    // Check release signatures the way users' machines do (crates/installer/tests/signature_interop.rs).
    ("openssl", "openssl"),
    ("minisign", "minisign"),
];

/// Runs every check in order.
pub fn run() -> Result<()> {
    let root = dist::workspace_root();
    let started = Instant::now();
    tools::ensure_rust_targets(&TARGETS.iter().collect::<Vec<_>>())?;
    tools::ensure_zigbuild()?;
    tools::ensure_debian_packages(DEBIAN_TEST_TOOLS)?;
    let npm_tools = tools::ensure_npm_tools()?;
    // The real Codex exec-server, the reference of crates/exec-server/tests/protocol.rs.
    let codex_169 = tools::codex_169_bin(&npm_tools);
    if codex_169.is_none() {
        // x86_64 Linux is where CI runs: there the interop tests must not quietly shrink.
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            bail!(
                "the Codex 0.169 binary is missing from {}: delete that folder and run again",
                npm_tools.display()
            );
        }
        eprintln!("no Codex 0.169 binary for this host: protocol tests run against ours only");
    }

    eprintln!("==> generated files are up to date");
    generate::run(&root, true)?;
    cargo(&root, "format", &["fmt", "--all", "--check"], &[])?;
    cargo(
        &root,
        "lint",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    let nextest = tools::output(Command::new("cargo").args(["nextest", "--version"])).is_ok();
    let test_env: Vec<(&str, &std::path::Path)> = codex_169
        .as_deref()
        .map(|bin| ("CODEX_169_BIN", bin))
        .into_iter()
        .collect();
    if nextest {
        cargo(
            &root,
            "tests",
            &[
                "nextest",
                "run",
                "--workspace",
                "--locked",
                "--no-fail-fast",
            ],
            &test_env,
        )?;
    } else {
        cargo(
            &root,
            "tests",
            &["test", "--workspace", "--locked", "--no-fail-fast"],
            &test_env,
        )?;
    }
    eprintln!(
        "all checks passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn cargo(
    root: &std::path::Path,
    what: &str,
    args: &[&str],
    env: &[(&str, &std::path::Path)],
) -> Result<()> {
    eprintln!("==> {what}: cargo {}", args.join(" "));
    let status = Command::new("cargo")
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root)
        .status()?;
    if !status.success() {
        bail!(
            "{what} failed: `cargo {}` exited with {status}",
            args.join(" ")
        );
    }
    Ok(())
}
