//! `cargo xtask test`: the README's test command and what CI runs. It installs whatever the tests
//! need, then runs every check; the first failure stops the run with its exit status.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use codex_installer::target::TARGETS;

use crate::{dist, generate, tools};

/// Commands the tests run, paired with the Debian package that provides each.
const DEBIAN_TEST_TOOLS: &[(&str, &str)] = &[
    ("qemu-aarch64-static", "qemu-user-static"),
    ("dash", "dash"),
    ("zsh", "zsh"),
    // Loads the fish completion script `codex completion fish` writes (tests/completion.rs).
    ("fish", "fish"),
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
    // Signs and verifies the Windows programs' Authenticode signatures (tests/codesign.rs).
    ("osslsigncode", "osslsigncode"),
];

/// How much of the suite a test run covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything, the benchmarks' smoke runs (tests/bench.rs) included: CI and the README's
    /// test command.
    Full,
    /// Lint, unit tests and the host-only end-to-end tests (nextest profile `quick`).
    Quick,
}

impl Scope {
    /// The nextest profile (.config/nextest.toml) of this scope.
    fn nextest_profile(self) -> &'static str {
        match self {
            Scope::Full => "default",
            Scope::Quick => "quick",
        }
    }
}

/// Runs every check in order, then prints where the time went (also when a check failed).
pub fn run(scope: Scope) -> Result<()> {
    let root = dist::workspace_root();
    let mut clock = Clock::new();
    let builds_log = dist::target_dir().join("e2e/builds.log");
    let builds_before = std::fs::read_to_string(&builds_log).map_or(0, |s| s.len());
    let result = run_checks(&root, scope, &mut clock);
    let builds = std::fs::read_to_string(&builds_log)
        .ok()
        .and_then(|s| s.get(builds_before..).map(str::to_owned))
        .unwrap_or_default();
    let junit = dist::target_dir()
        .join("nextest")
        .join(scope.nextest_profile())
        .join("junit.xml");
    let junit = std::fs::read_to_string(junit).unwrap_or_default();
    eprint!("{}", clock.report(&builds, &slowest_tests(&junit, 10)));
    result
}

fn run_checks(root: &Path, scope: Scope, clock: &mut Clock) -> Result<()> {
    tools::ensure_rust_targets(&TARGETS.iter().collect::<Vec<_>>())?;
    tools::ensure_zigbuild()?;
    // The plan tests (tests/dist_plan.rs, xtask's cargo_dist) run it; installed here once, up front.
    tools::ensure_cargo_dist()?;
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

    clock.lap("tool installs");

    eprintln!("==> generated files are up to date");
    generate::run(root, true)?;
    cargo(root, "format", &["fmt", "--all", "--check"], &[])?;
    clock.lap("generated files and format");
    cargo(
        root,
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
    clock.lap("lint (clippy)");
    let nextest = tools::output(Command::new("cargo").args(["nextest", "--version"])).is_ok();
    let test_env: Vec<(&str, &std::path::Path)> = codex_169
        .as_deref()
        .map(|bin| ("CODEX_169_BIN", bin))
        .into_iter()
        .collect();
    let profile = scope.nextest_profile();
    if nextest {
        cargo(
            root,
            "test build",
            &["nextest", "run", "--workspace", "--locked", "--no-run"],
            &test_env,
        )?;
        clock.lap("test build");
        cargo(
            root,
            "tests",
            &[
                "nextest",
                "run",
                "--workspace",
                "--locked",
                "--no-fail-fast",
                "--profile",
                profile,
            ],
            &test_env,
        )?;
    } else {
        if scope == Scope::Quick {
            bail!("`--quick` needs cargo-nextest (cargo install cargo-nextest --locked)");
        }
        cargo(
            root,
            "tests",
            &["test", "--workspace", "--locked", "--no-fail-fast"],
            &test_env,
        )?;
    }
    clock.lap("test execution (fixture builds included)");
    eprintln!("all checks passed");
    Ok(())
}

/// Wall time per phase of the run.
struct Clock {
    started: Instant,
    last: Instant,
    laps: Vec<(&'static str, Duration)>,
}

impl Clock {
    fn new() -> Clock {
        let now = Instant::now();
        Clock {
            started: now,
            last: now,
            laps: Vec::new(),
        }
    }

    /// Ends the phase `name` now.
    fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.laps.push((name, now - self.last));
        self.last = now;
    }

    /// The table printed at the end: phases, the fixture builds of this run (lines of
    /// `target/e2e/builds.log`), and the slowest tests.
    fn report(&self, builds: &str, slowest: &[(String, f64)]) -> String {
        let mut out = String::from("\n==> where the time went\n");
        for (name, took) in &self.laps {
            out.push_str(&format!("{:>8.0} s  {name}\n", took.as_secs_f64()));
        }
        let unfinished = self.last.elapsed();
        if unfinished > Duration::from_secs(1) {
            out.push_str(&format!(
                "{:>8.0} s  the phase that failed\n",
                unfinished.as_secs_f64()
            ));
        }
        out.push_str(&format!(
            "{:>8.0} s  total\n",
            self.started.elapsed().as_secs_f64()
        ));
        if !builds.trim().is_empty() {
            out.push_str("fixture builds (inside test execution):\n");
            for line in builds.lines() {
                out.push_str(&format!("          {line}\n"));
            }
        }
        if !slowest.is_empty() {
            out.push_str("slowest tests:\n");
            for (name, secs) in slowest {
                out.push_str(&format!("{secs:>8.1} s  {name}\n"));
            }
        }
        out
    }
}

/// The `n` slowest tests of a nextest JUnit report, as (`binary test`, seconds), slowest first.
fn slowest_tests(junit: &str, n: usize) -> Vec<(String, f64)> {
    let attr = |tag: &str, key: &str| -> Option<String> {
        let start = tag.find(&format!(" {key}=\""))? + key.len() + 3;
        let len = tag[start..].find('"')?;
        Some(tag[start..start + len].to_owned())
    };
    let mut tests: Vec<(String, f64)> = junit
        .split("<testcase ")
        .skip(1)
        .filter_map(|rest| {
            let tag = format!(" {}", &rest[..rest.find('>')?]);
            let secs = attr(&tag, "time")?.parse().ok()?;
            let class = attr(&tag, "classname").unwrap_or_default();
            Some((format!("{class} {}", attr(&tag, "name")?), secs))
        })
        .collect();
    tests.sort_by(|a, b| b.1.total_cmp(&a.1));
    tests.truncate(n);
    tests
}

fn cargo(root: &Path, what: &str, args: &[&str], env: &[(&str, &std::path::Path)]) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slowest_tests_are_read_from_the_junit_report_slowest_first() {
        let xml = r#"<testsuites><testsuite name="a">
<testcase name="fast" classname="codex-e2e::update" time="0.500"/>
<testcase name="slow" classname="codex-e2e::release" time="120.25">
<system-out>x</system-out></testcase>
<testcase name="mid" classname="xtask" time="3.000"/>
</testsuite></testsuites>"#;
        assert_eq!(
            slowest_tests(xml, 2),
            vec![
                ("codex-e2e::release slow".to_owned(), 120.25),
                ("xtask mid".to_owned(), 3.0)
            ]
        );
        assert!(slowest_tests("", 10).is_empty());
    }

    #[test]
    fn the_report_lists_every_phase_the_fixture_builds_and_the_slowest_tests() {
        let mut clock = Clock::new();
        clock.lap("tool installs");
        clock.lap("lint (clippy)");
        let text = clock.report(
            "t1 host built in 190 s\n",
            &[("codex-e2e::release repro".to_owned(), 500.0)],
        );
        for needle in [
            "tool installs",
            "lint (clippy)",
            "total",
            "t1 host built in 190 s",
            "500.0 s  codex-e2e::release repro",
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
    }
}
