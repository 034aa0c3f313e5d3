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
    /// The cargo profile: [`PROFILE`] for releases, [`FIXTURE_PROFILE`] for test fixtures.
    pub profile: &'static str,
}

impl BuildEnv {
    /// The cargo target dir of one target. Each target has its own, so that targets can build
    /// at the same time (cargo locks a target dir), and so that a build of one target never
    /// depends on which others are built with it (cargo unifies features across the targets
    /// of one run). The price is compiling the host's proc-macros once per target.
    pub fn cargo_target_dir(&self, target: &Target) -> PathBuf {
        self.target_dir.join("targets").join(target.triple)
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
    let target_dir = env.cargo_target_dir(target);
    let mut cmd = Command::new(&env.zigbuild);
    cmd.arg("zigbuild")
        .args([
            "--profile",
            env.profile,
            "--locked",
            "--target",
            target.triple,
        ])
        .args(["--message-format", "json-render-diagnostics"])
        .current_dir(&env.root)
        .env("CARGO_TARGET_DIR", &target_dir)
        // cargo-zigbuild's wrapper scripts, per target: builds running side by side must not
        // race to create the shared ones.
        .env("CARGO_ZIGBUILD_CACHE_DIR", target_dir.join("zigbuild"))
        // Placeholders: `dist` stamps the real version and commit into the linked binaries, so
        // the compiled code is the same for every version.
        .env(EnvVar::ReleaseVersion.name(), stamp::UNSTAMPED_VERSION)
        .env(EnvVar::GitCommit.name(), stamp::UNSTAMPED_COMMIT)
        .env(
            EnvVar::SourceDateEpoch.name(),
            env.source_date_epoch.to_string(),
        )
        .env("RUSTFLAGS", remap_flags(&env.root, &target_dir)?)
        .env(
            EnvVar::TrustDevelopmentKey.name(),
            if env.trust_development_key { "1" } else { "0" },
        )
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
