//! The benchmarks' smoke runs: every script in `bench/` and every `cargo bench` harness, run at
//! its smallest size by the full test run (tests/bench.rs), so that a benchmark that no longer
//! runs fails CI instead of being found the next time someone wants its figures. The figures of a
//! smoke run mean nothing (one iteration, debug-built helpers) and are not kept.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::compile;
use crate::env::EnvVar;

/// A benchmark and the arguments of its smallest run.
#[derive(Debug, Clone, Copy)]
pub struct Smoke {
    /// What to run: a script under `bench/`, or `cargo bench`'s arguments.
    pub bench: Bench,
    /// Arguments that make the run as small as it can be and still run every step.
    pub args: &'static [&'static str],
}

/// A benchmark of this repository.
#[derive(Debug, Clone, Copy)]
pub enum Bench {
    /// `bash bench/<name>`.
    Script(&'static str),
    /// `cargo bench -p <package> --bench <name>`.
    Harness {
        /// The package that holds the harness.
        package: &'static str,
        /// The `[[bench]]` name.
        name: &'static str,
    },
}

/// Every benchmark, smallest size. A unit test checks that no script in `bench/` and no
/// `[[bench]]` is missing.
pub const SMOKES: &[Smoke] = &[
    Smoke {
        bench: Bench::Script("install-sh.sh"),
        args: &["1"],
    },
    Smoke {
        bench: Bench::Script("update.sh"),
        args: &["1"],
    },
    Smoke {
        bench: Bench::Script("npm.sh"),
        args: &["1"],
    },
    // Two one-shots per mode and 1 MiB of output.
    Smoke {
        bench: Bench::Script("exec-server.sh"),
        args: &["2", "1"],
    },
    // The host target only, with nothing changed, in the test run's own target dirs.
    Smoke {
        bench: Bench::Script("dist-build.sh"),
        args: &["--smoke"],
    },
    // One run on the tests' six-target fixture, which tests/bench.rs makes sure of first.
    Smoke {
        bench: Bench::Script("notarize.sh"),
        args: &["--smoke"],
    },
    Smoke {
        bench: Bench::Harness {
            package: "codex-cli",
            name: "agent_overhead",
        },
        args: &["2"],
    },
    Smoke {
        bench: Bench::Harness {
            package: "codex-cli",
            name: "startup",
        },
        args: &["2"],
    },
];

/// The profile the smoke runs compile helpers and harnesses with: the test build's.
const SMOKE_PROFILE: &str = "dev";

impl Smoke {
    /// The smoke run of the benchmark named `name` (a script's file name or a harness's name).
    pub fn named(name: &str) -> Option<&'static Smoke> {
        SMOKES.iter().find(|s| s.name() == name)
    }

    /// The script's file name, or the harness's `[[bench]]` name.
    pub fn name(&self) -> &'static str {
        match self.bench {
            Bench::Script(name) | Bench::Harness { name, .. } => name,
        }
    }

    /// Runs the benchmark at its smallest size with the test build's profile and returns its
    /// output; an error holds that output and says the benchmark no longer runs.
    ///
    /// The variables cargo sets for the crate that calls this (a test binary) are removed, as
    /// for every build the driver starts: the scripts' builds must find the test run's target
    /// dirs fresh.
    pub fn run(&self, root: &Path) -> Result<String> {
        let started = Instant::now();
        let mut cmd = match self.bench {
            Bench::Script(name) => {
                let mut c = Command::new("bash");
                c.arg(Path::new("bench").join(name));
                c
            }
            Bench::Harness { package, name } => {
                let mut c = Command::new("cargo");
                c.args(harness_args(package, name));
                c
            }
        };
        compile::without_cargo_crate_vars(&mut cmd)
            .args(self.args)
            .current_dir(root)
            .env(EnvVar::BenchProfile.name(), SMOKE_PROFILE);
        let out = cmd.output().with_context(|| format!("cannot run {self}"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() {
            bail!(
                "the benchmark `{self}` no longer runs ({}); its output:\n{text}",
                out.status
            );
        }
        Ok(format!(
            "{text}`{self}` ran in {:.0} s\n",
            started.elapsed().as_secs_f64()
        ))
    }
}

/// `cargo`'s arguments for the smoke run of the harness `name` of `package`, up to the `--`
/// before the harness's own.
fn harness_args<'a>(package: &'a str, name: &'a str) -> [&'a str; 11] {
    // The test build has xtask's `os-signing` (the e2e tests sign): with it, the smoke run
    // reuses that build's dependencies instead of compiling a second set.
    [
        "bench",
        "--locked",
        "--profile",
        SMOKE_PROFILE,
        "-p",
        package,
        "--features",
        "xtask/os-signing",
        "--bench",
        name,
        "--",
    ]
}

/// Features the dev-dependencies may add to a benchmarked package's own dependencies, as (package,
/// feature), because they change nothing a benchmark measures: `codex-tui`'s `test-panic` adds
/// the TUI's `/panic` command, which costs nothing until typed.
pub const HARMLESS_DEV_FEATURES: &[(&str, &str)] = &[("codex-tui", "test-panic")];

/// What `cargo bench -p package` builds differently from the shipped `package`: one line per
/// dependency whose features its dev-dependencies change (beyond [`HARMLESS_DEV_FEATURES`]), as
/// `name version: shipped [..] / benched [..]`.
///
/// Cargo unifies the features of a package's dev-dependencies with those of the binaries it
/// benchmarks. A test helper that turned on reqwest's native root certificates once made the
/// benchmarked `codex` read all of /etc/ssl/certs at start-up, which the shipped one never does.
pub fn dev_feature_drift(root: &Path, package: &str) -> Result<Vec<String>> {
    let features = |edges: &str| -> Result<std::collections::BTreeMap<String, Vec<String>>> {
        let mut cmd = Command::new("cargo");
        cmd.args(["tree", "--locked", "--offline", "-p", package, "-e", edges])
            .args(["--prefix", "none", "--format", "{p}|{f}"]);
        let out = compile::without_cargo_crate_vars(&mut cmd)
            .current_dir(root)
            .output()
            .context("cannot run cargo tree")?;
        if !out.status.success() {
            bail!(
                "cargo tree failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let mut map = std::collections::BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let line = line.trim_end_matches(" (*)");
            let Some((pkg, f)) = line.split_once('|') else {
                continue;
            };
            // A package built for the host and for the target has a line per build.
            let list: &mut Vec<String> = map.entry(pkg.to_owned()).or_default();
            list.extend(f.split(',').filter(|f| !f.is_empty()).map(str::to_owned));
            list.sort();
            list.dedup();
        }
        Ok(map)
    };
    let shipped = features("normal,build")?;
    let benched = features("normal,build,dev")?;
    let mut drift = Vec::new();
    let counted = |name: &str, f: &[String]| -> Vec<String> {
        f.iter()
            .filter(|f| !HARMLESS_DEV_FEATURES.contains(&(name, f.as_str())))
            .cloned()
            .collect()
    };
    for (pkg, ours) in &shipped {
        let name = pkg.split(' ').next().unwrap_or_default();
        let ours = counted(name, ours);
        let theirs = counted(
            name,
            benched.get(pkg).map(Vec::as_slice).unwrap_or_default(),
        );
        if theirs != ours {
            drift.push(format!("{pkg}: shipped {ours:?} / benched {theirs:?}"));
        }
    }
    Ok(drift)
}

impl std::fmt::Display for Smoke {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.bench {
            Bench::Script(name) => write!(f, "bash bench/{name}")?,
            Bench::Harness { package, name } => {
                write!(f, "cargo {}", harness_args(package, name).join(" "))?
            }
        }
        for a in self.args {
            write!(f, " {a}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bench_script_and_harness_has_a_smoke_run() {
        let root = crate::dist::workspace_root();
        let mut scripts: Vec<String> = std::fs::read_dir(root.join("bench"))
            .expect("bench/")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sh") && n != "lib.sh")
            .collect();
        scripts.sort();
        let mut smoked: Vec<String> = SMOKES
            .iter()
            .filter_map(|s| match s.bench {
                Bench::Script(n) => Some(n.to_owned()),
                Bench::Harness { .. } => None,
            })
            .collect();
        smoked.sort();
        assert_eq!(
            scripts, smoked,
            "bench/ scripts without a smoke run (or gone)"
        );

        // Every `[[bench]]` of the workspace's crates.
        for dir in std::fs::read_dir(root.join("crates")).expect("crates/") {
            let dir = dir.expect("entry").path();
            let Ok(toml) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
                continue;
            };
            let name_of = |line: &str| {
                line.strip_prefix("name = \"")
                    .and_then(|l| l.strip_suffix('"'))
                    .map(str::to_owned)
            };
            let package = toml.lines().find_map(name_of).expect("package name");
            let mut lines = toml.lines();
            while let Some(line) = lines.next() {
                if line.trim() != "[[bench]]" {
                    continue;
                }
                let name = lines
                    .next()
                    .and_then(name_of)
                    .expect("[[bench]] starts with its name");
                // Smoked directly, or by the bench/ script that runs it.
                let by_a_script = scripts.iter().any(|script| {
                    let text =
                        std::fs::read_to_string(root.join("bench").join(script)).expect("script");
                    text.contains(&format!("-p {package} --bench {name}"))
                });
                assert!(
                    by_a_script
                        || SMOKES.iter().any(|s| matches!(s.bench,
                            Bench::Harness { package: p, name: n } if p == package && n == name.as_str())),
                    "the bench {name} of {package} has no smoke run"
                );
            }
        }
    }
}
