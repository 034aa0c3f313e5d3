//! Compiles the shipped binaries for one target with cargo-zigbuild, reporting progress.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use codex_build_info::stamp;
use codex_installer::target::{Binary, Target};
use serde_json::Value;

use crate::env::EnvVar;
use crate::tools;

/// What every per-target build shares.
pub struct BuildEnv {
    /// Workspace root.
    pub root: PathBuf,
    /// Where release builds keep their state (apart from `target/debug`, so that tests and
    /// release builds never wait on each other's lock): one cargo target dir per target under
    /// it, see [`BuildEnv::cargo_target_dir`], and the archive cache.
    pub target_dir: PathBuf,
    /// The cargo-zigbuild executable.
    pub zigbuild: PathBuf,
    /// Version stamped into the binaries.
    pub version: String,
    /// Commit stamped into the binaries.
    pub commit: String,
    /// Timestamp for anything time-dependent.
    pub source_date_epoch: u64,
    /// Whether the binaries also trust the development signing key (a development build).
    pub trust_development_key: bool,
    /// Which cargo profile compiles which target.
    pub profiles: Profiles,
}

impl BuildEnv {
    /// The cargo target dir of one target.
    ///
    /// With [`PROFILE`] each target has its own, so that targets can build at the same time
    /// (cargo locks a target dir), and so that a build of one target never depends on which
    /// others are built with it (cargo unifies features across the targets of one run). The
    /// price is compiling the host's proc-macros and build scripts once per target.
    ///
    /// The targets of [`FIXTURE_PROFILE`] share one dir, one target at a time: each target is
    /// still its own cargo run (no feature unification), and the host's units, a fifth of a
    /// fixture build, compile once for all of them.
    pub fn cargo_target_dir(&self, target: &Target) -> PathBuf {
        match self.profiles.of(target) {
            PROFILE => self.target_dir.join("targets").join(target.triple),
            shared => self.target_dir.join(shared),
        }
    }

    /// cargo-zigbuild's wrapper scripts for `target`: never shared by two builds that may run
    /// side by side, which would race to create them.
    fn zigbuild_cache_dir(&self, target: &Target) -> PathBuf {
        let dir = self.cargo_target_dir(target);
        match self.profiles.of(target) {
            PROFILE => dir.join("zigbuild"),
            _ => dir.join("zigbuild").join(target.triple),
        }
    }
}

/// Which cargo profile compiles which target of a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profiles {
    /// Every target with [`PROFILE`]: what ships.
    Shipped,
    /// Every target with [`FIXTURE_PROFILE`] (`cargo xtask dist --fixture-profile`).
    Fixture,
    /// The host with [`PROFILE`], every other target with [`FIXTURE_PROFILE`]: the end-to-end
    /// tests' releases. A test run needs one shipped-profile build anyway (to prove it runs and
    /// reproduces), and this way it also serves every test that runs the host's programs.
    FixtureExceptHost(&'static Target),
}

impl Profiles {
    /// The cargo profile of `target`.
    pub fn of(self, target: &Target) -> &'static str {
        match self {
            Profiles::Shipped => PROFILE,
            Profiles::Fixture => FIXTURE_PROFILE,
            Profiles::FixtureExceptHost(host) if host.triple == target.triple => PROFILE,
            Profiles::FixtureExceptHost(_) => FIXTURE_PROFILE,
        }
    }
}

impl std::fmt::Display for Profiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Profiles::Shipped => write!(f, "profile {PROFILE}"),
            Profiles::Fixture => write!(f, "profile {FIXTURE_PROFILE} (not for shipping)"),
            Profiles::FixtureExceptHost(host) => write!(
                f,
                "profile {PROFILE} for {}, {FIXTURE_PROFILE} for the others (not for shipping)",
                host.triple
            ),
        }
    }
}

/// Cargo profile used for release archives (see the workspace Cargo.toml for its settings).
pub const PROFILE: &str = "dist";

/// Cargo profile of the end-to-end tests' release fixtures: cheap to compile, packaged exactly
/// like [`PROFILE`] (see the workspace Cargo.toml).
pub const FIXTURE_PROFILE: &str = "fixture";

/// Builds every [`Binary`] for `target`, calling `on_progress(done, total, crate)` as crates
/// finish. Returns the path of each binary.
/// `count_crates` asks `cargo metadata` for the total first; skip it when nobody watches a bar.
pub fn build_target(
    env: &BuildEnv,
    target: &Target,
    count_crates: bool,
    mut on_progress: impl FnMut(u64, u64, &str),
) -> Result<BTreeMap<Binary, PathBuf>> {
    let total = if count_crates {
        crate_count(env, target).unwrap_or(0)
    } else {
        0
    };
    let mut cmd = Command::new(&env.zigbuild);
    without_cargo_crate_vars(&mut cmd)
        .arg("zigbuild")
        .args([
            "--profile",
            env.profiles.of(target),
            "--locked",
            "--target",
            target.triple,
        ])
        .args(["--message-format", "json-render-diagnostics"])
        .current_dir(&env.root)
        .envs(build_vars(env, target)?)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for b in Binary::ALL {
        cmd.args(["--package", b.package()]);
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run {}", env.zigbuild.display()))?;

    // stderr is drained on a thread so that a chatty build cannot block on a full pipe.
    let mut stderr = child.stderr.take().context("no stderr pipe")?;
    let stderr_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });

    let mut binaries = BTreeMap::new();
    let mut seen = HashSet::new();
    let stdout = child.stdout.take().context("no stdout pipe")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let name = msg["target"]["name"].as_str().unwrap_or_default();
        let is_build_script = msg["target"]["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "custom-build"));
        if !is_build_script {
            if let Some(id) = msg["package_id"].as_str() {
                seen.insert(id.to_owned());
            }
            on_progress(seen.len() as u64, total.max(seen.len() as u64), name);
        }
        if let (Some(exe), Some(binary)) = (msg["executable"].as_str(), Binary::from_name(name)) {
            binaries.insert(binary, PathBuf::from(exe));
        }
    }
    let status = child.wait()?;
    let stderr = stderr_thread.join().unwrap_or_default();
    if !status.success() {
        eprintln!("{stderr}");
        bail!(
            "building {} failed ({}); the compiler output is above",
            target.triple,
            tools::last_line(&stderr)
        );
    }
    for b in Binary::ALL {
        if !binaries.contains_key(&b) {
            bail!(
                "cargo built {} but reported no `{}` executable",
                target.triple,
                b.name()
            );
        }
    }
    Ok(binaries)
}

/// Whether `key` is one of the variables cargo sets for the crate it runs (`cargo xtask`, a test
/// binary): they say nothing about the build, yet build scripts watch some of them (ring's
/// `rerun-if-env-changed=CARGO_MANIFEST_DIR`), so inheriting them would make the same build
/// rebuild whenever it is started from another crate: from `cargo xtask` after a test, say.
fn set_by_cargo_for_a_crate(key: &str) -> bool {
    key.starts_with("CARGO_PKG_")
        || key.starts_with("CARGO_MANIFEST_")
        || key.starts_with("CARGO_BIN_")
        || matches!(
            key,
            "CARGO_CRATE_NAME" | "CARGO_PRIMARY_PACKAGE" | "CARGO_TARGET_TMPDIR" | "OUT_DIR"
        )
}

/// Removes from `cmd`'s environment the variables [`set_by_cargo_for_a_crate`] names, for every
/// command that builds, or runs scripts that build, in the driver's target dirs.
pub(crate) fn without_cargo_crate_vars(cmd: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(set_by_cargo_for_a_crate) {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// The environment `target` is compiled in (besides cargo-zigbuild's own): its cargo target dir,
/// the version placeholders, the timestamp, the path remapping and the key trust. `cargo xtask
/// dist --print-build-env` prints it for bench/dist-build.sh, whose floor compiles the same way.
pub fn build_vars(env: &BuildEnv, target: &Target) -> Result<Vec<(String, String)>> {
    let target_dir = env.cargo_target_dir(target);
    let path = |p: PathBuf| p.to_string_lossy().into_owned();
    Ok(vec![
        ("CARGO_TARGET_DIR".into(), path(target_dir.clone())),
        (
            "CARGO_ZIGBUILD_CACHE_DIR".into(),
            path(env.zigbuild_cache_dir(target)),
        ),
        // Placeholders: `dist` stamps the real version and commit into the linked binaries, so
        // the compiled code is the same for every version.
        (
            EnvVar::ReleaseVersion.name().into(),
            stamp::UNSTAMPED_VERSION.into(),
        ),
        (
            EnvVar::GitCommit.name().into(),
            stamp::UNSTAMPED_COMMIT.into(),
        ),
        (
            EnvVar::SourceDateEpoch.name().into(),
            env.source_date_epoch.to_string(),
        ),
        ("RUSTFLAGS".into(), remap_flags(&env.root, &target_dir)?),
        (
            EnvVar::TrustDevelopmentKey.name().into(),
            if env.trust_development_key { "1" } else { "0" }.into(),
        ),
    ])
}

/// Maps local source paths to fixed ones so that panic messages and debug strings in the
/// binaries are the same on every machine (and do not reveal the builder's home directory).
fn remap_flags(root: &Path, target_dir: &Path) -> Result<String> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")?;
    let mut flags = Vec::new();
    // rustc applies the last prefix that matches: the target dir (generated sources, often
    // under the workspace) comes after the workspace.
    for (from, to) in [
        (root, "/codex"),
        (cargo_home.as_path(), "/cargo"),
        (target_dir, "/target"),
    ] {
        let from = from.to_str().context("paths must be UTF-8")?;
        if from.contains(char::is_whitespace) {
            bail!("the path {from:?} contains a space; build from a path without spaces");
        }
        flags.push(format!("--remap-path-prefix={from}={to}"));
    }
    Ok(flags.join(" "))
}

/// How many packages the shipped binaries compile for `target`, so the progress bar has an end.
fn crate_count(env: &BuildEnv, target: &Target) -> Result<u64> {
    let text = tools::output(
        Command::new("cargo")
            .args(["metadata", "--format-version", "1", "--locked"])
            .args(["--filter-platform", target.triple])
            .current_dir(&env.root),
    )?;
    let meta: Value = serde_json::from_str(&text)?;
    let nodes = meta["resolve"]["nodes"]
        .as_array()
        .context("no resolve graph")?;
    let by_id: BTreeMap<&str, &Value> = nodes
        .iter()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();
    let roots: Vec<&str> = meta["packages"]
        .as_array()
        .context("no packages")?
        .iter()
        .filter(|p| Binary::ALL.iter().any(|b| p["name"] == b.package()))
        .filter_map(|p| p["id"].as_str())
        .collect();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack = roots;
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        for dep in by_id
            .get(id)
            .and_then(|n| n["deps"].as_array())
            .into_iter()
            .flatten()
        {
            let dev_only = dep["dep_kinds"]
                .as_array()
                .is_some_and(|ks| ks.iter().all(|k| k["kind"] == "dev"));
            if let (false, Some(pkg)) = (dev_only, dep["pkg"].as_str()) {
                stack.push(pkg);
            }
        }
    }
    Ok(seen.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variables_cargo_sets_for_a_running_crate_are_not_passed_to_the_build() {
        for key in [
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_PKG_NAME",
            "CARGO_CRATE_NAME",
            "CARGO_BIN_EXE_codex",
            "CARGO_PRIMARY_PACKAGE",
            "OUT_DIR",
        ] {
            assert!(set_by_cargo_for_a_crate(key), "{key}");
        }
        for key in [
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO",
            "RUSTFLAGS",
            "PATH",
        ] {
            assert!(!set_by_cargo_for_a_crate(key), "{key}");
        }
    }
}
