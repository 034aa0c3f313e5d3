//! The checks behind `codex doctor`: what this copy is, which copies are on PATH, whether the
//! standalone layout is whole and updatable, and what the update check knows. Each check is one
//! [`Check`] with a status, a one-line summary, its evidence, and the fix when something is wrong.
//! The network check (the release source) lives with the CLI, which owns the HTTP client setup.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::layout::{Bins, Layout};
use crate::method::{self, InstallMethod};
use crate::target::{Binary, Target};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Ok,
    /// Works, but something will bite later (a shadowed copy, a leftover).
    Warn,
    /// Broken: `codex doctor` exits non-zero.
    Fail,
}

impl Status {
    /// ✓, ⚠ or ✗.
    pub fn symbol(self) -> &'static str {
        match self {
            Status::Ok => "✓",
            Status::Warn => "⚠",
            Status::Fail => "✗",
        }
    }
}

/// One line of the report, with its evidence and fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked: `this copy`, `PATH`, `layout`, `updatable`, `release source`, ….
    pub name: &'static str,
    /// How it came out.
    pub status: Status,
    /// One line.
    pub summary: String,
    /// The evidence: paths, versions, settings.
    pub details: Vec<String>,
    /// What to do, when something is wrong.
    pub fix: Option<String>,
}

impl Check {
    /// A check with no details or fix yet.
    pub fn new(name: &'static str, status: Status, summary: impl Into<String>) -> Check {
        Check {
            name,
            status,
            summary: summary.into(),
            details: Vec::new(),
            fix: None,
        }
    }

    /// Adds a line of evidence.
    pub fn detail(mut self, line: impl Into<String>) -> Check {
        self.details.push(line.into());
        self
    }

    /// Sets the fix.
    pub fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }
}

/// The whole report, as `--json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// This copy's version.
    pub version: String,
    /// This copy's target triple.
    pub target: String,
    /// The checks, in report order.
    pub checks: Vec<Check>,
    /// Every `codex` and `codex-exec-server` on PATH, in PATH order.
    pub copies: Vec<Copy>,
}

impl Report {
    /// Whether any check failed (the exit code is 1 then).
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Fail)
    }

    /// The human report: one line per check, evidence indented under it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in &self.checks {
            out.push_str(&format!(
                "{} {}: {}\n",
                c.status.symbol(),
                c.name,
                c.summary
            ));
            for d in &c.details {
                out.push_str(&format!("    {d}\n"));
            }
            if let Some(f) = &c.fix {
                out.push_str(&format!("    fix: {f}\n"));
            }
        }
        out
    }
}

/// The macOS code signature of this copy, read from its file (`sig`), and whether it carries
/// the quarantine mark of a download (`quarantined`; `None` when that could not be read).
///
/// A quarantined program that Apple has not notarized is refused by Gatekeeper, so an ad hoc
/// signed copy that came through a browser or a cask is the case worth a warning.
pub fn check_signature(
    exe: &Path,
    sig: Result<crate::codesign::Signature, String>,
    quarantined: Option<bool>,
) -> Check {
    use crate::codesign::Signature;
    let quarantine = match quarantined {
        Some(true) => "quarantine: yes (com.apple.quarantine is set)",
        Some(false) => "quarantine: no",
        None => "quarantine: unknown (its extended attributes cannot be read)",
    };
    let c = match &sig {
        Err(e) => Check::new("signature", Status::Warn, format!("cannot read it: {e}")),
        Ok(s @ Signature::Certificate { team, .. }) if s.is_developer_id() => {
            let c = Check::new("signature", Status::Ok, s.to_string());
            match team {
                Some(t) => c.detail(format!("team: {t}")),
                None => c,
            }
        }
        Ok(s @ Signature::Certificate { .. }) => Check::new(
            "signature",
            Status::Warn,
            format!("{s}, which is not a Developer ID: Gatekeeper does not accept it"),
        ),
        Ok(s @ (Signature::AdHoc { .. } | Signature::Unsigned)) => {
            let kind = if matches!(s, Signature::Unsigned) {
                "not signed"
            } else {
                "ad hoc signature"
            };
            if quarantined == Some(true) {
                Check::new(
                    "signature",
                    Status::Warn,
                    format!(
                        "{kind}, not notarized, and quarantined: Gatekeeper blocks copies like this"
                    ),
                )
                .fix(format!(
                    "install with install.sh, or clear the mark: xattr -d com.apple.quarantine {}",
                    exe.display()
                ))
            } else {
                Check::new(
                    "signature",
                    Status::Ok,
                    format!("{kind} (a build Apple has not notarized; fine unless quarantined)"),
                )
            }
        }
    };
    c.detail(quarantine)
}

/// A `codex` or `codex-exec-server` found on PATH.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Copy {
    /// Which program.
    pub program: String,
    /// Where PATH finds it.
    pub path: PathBuf,
    /// Where it leads, when it is a symbolic link.
    pub link: Option<PathBuf>,
    /// A link to nothing.
    pub broken: bool,
    /// What `--version` said (the version word), if it ran.
    pub version: Option<String>,
    /// How it was installed (standalone, npm, …).
    pub method: Option<String>,
    /// The first of its name on PATH: the one a shell runs.
    pub runs_first: bool,
    /// The copy `codex doctor` is running from (or its exec-server beside it).
    pub is_this: bool,
}

/// Finds every copy of the programs in the directories of `path_var`, in order.
pub fn find_copies(path_var: &OsStr, target: &Target, this_exe: &Path) -> Vec<Copy> {
    let this_dir = this_exe.parent().map(Path::to_path_buf);
    let mut copies = Vec::new();
    for binary in Binary::ALL {
        let name = target.installed_name(binary);
        let mut first = true;
        let mut seen = Vec::new();
        for dir in std::env::split_paths(path_var) {
            let path = dir.join(&name);
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let link = meta
                .file_type()
                .is_symlink()
                .then(|| std::fs::read_link(&path).ok())
                .flatten();
            let resolved = path.canonicalize().ok();
            if resolved.as_ref().is_some_and(|r| seen.contains(r)) {
                // The same file through two PATH entries is one copy.
                continue;
            }
            if let Some(r) = &resolved {
                seen.push(r.clone());
            }
            let broken = resolved.is_none();
            let is_this = resolved
                .as_ref()
                .is_some_and(|r| r.parent().map(Path::to_path_buf) == this_dir);
            let version = (!broken).then(|| version_of(&path)).flatten();
            let method = resolved
                .as_deref()
                .map(|r| method::detect(r).name().to_owned());
            copies.push(Copy {
                program: binary.name().to_owned(),
                path,
                link,
                broken,
                version,
                method,
                runs_first: first && !broken,
                is_this,
            });
            if !broken {
                first = false;
            }
        }
    }
    copies
}

/// The version word of `path --version` (`codex 1.2.3 (…)` → `1.2.3`), within 5 s.
fn version_of(path: &Path) -> Option<String> {
    let mut child = std::process::Command::new(path)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .env("CODEX_NO_UPDATE_CHECK", "1")
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait().ok()?.is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().nth(1).map(str::to_owned)
}

/// `PATH`: which copy runs first, shadowed copies and broken links.
pub fn check_path(copies: &[Copy]) -> Check {
    let codex: Vec<&Copy> = copies.iter().filter(|c| c.program == "codex").collect();
    let mut check = match codex.iter().find(|c| c.runs_first) {
        None => Check::new("PATH", Status::Warn, "no codex on PATH").fix(
            "add the folder holding codex to PATH (install.sh prints the line for your shell)",
        ),
        Some(first) if first.is_this => {
            Check::new("PATH", Status::Ok, "the codex that runs first is this copy")
        }
        Some(first) => Check::new(
            "PATH",
            Status::Warn,
            format!(
                "the codex that runs first is {}, not this copy",
                first.path.display()
            ),
        )
        .fix(format!(
            "remove {} ({}), or put this copy's folder earlier in PATH",
            first.path.display(),
            first.method.as_deref().unwrap_or("unknown install")
        )),
    };
    for c in copies {
        let mut line = format!(
            "{} {}",
            if c.runs_first { "→" } else { " " },
            c.path.display()
        );
        if let Some(l) = &c.link {
            line.push_str(&format!(" -> {}", l.display()));
        }
        if c.broken {
            line.push_str("  (broken link)");
        } else {
            line.push_str(&format!(
                "  {} {}",
                c.version.as_deref().unwrap_or("?"),
                c.method.as_deref().unwrap_or("?")
            ));
        }
        if c.is_this {
            line.push_str("  (this copy)");
        }
        check = check.detail(line);
    }
    let shadowed: Vec<&Copy> = codex
        .iter()
        .copied()
        .filter(|c| !c.runs_first && !c.broken)
        .collect();
    if check.status == Status::Ok && !shadowed.is_empty() {
        let paths: Vec<String> = shadowed
            .iter()
            .map(|c| c.path.display().to_string())
            .collect();
        check.status = Status::Warn;
        check.summary = format!("this copy runs first, and shadows {}", paths.join(", "));
        check.fix = Some(format!(
            "remove the shadowed copies if you no longer use them: {}",
            paths.join(", ")
        ));
    }
    let broken: Vec<String> = copies
        .iter()
        .filter(|c| c.broken)
        .map(|c| c.path.display().to_string())
        .collect();
    if !broken.is_empty() {
        check.status = Status::Warn;
        check.summary = format!("{}; broken link {}", check.summary, broken.join(", "));
        let rm = format!("remove the broken link: rm {}", broken.join(" "));
        check.fix = Some(match check.fix {
            Some(f) if !f.starts_with("remove the shadowed") => format!("{f}; {rm}"),
            _ => rm,
        });
    }
    check
}

/// The standalone layout: `current` names a whole release the receipt agrees with, and nothing
/// is left over from an interrupted install.
pub fn check_layout(layout: &Layout, target: &Target) -> Check {
    let receipt = layout.receipt();
    let current = layout.current_release();
    let mut check = Check::new("layout", Status::Ok, "the standalone install is complete")
        .detail(format!("root: {}", layout.root.display()));
    match &receipt {
        Some(r) => {
            check = check.detail(format!(
                "receipt: {} {} from {}, by {}",
                r.version, r.target, r.source, r.installed_by
            ));
        }
        None => {
            return Check::new(
                "layout",
                Status::Fail,
                "the receipt is missing or unreadable",
            )
            .detail(format!("expected {}", layout.receipt_path().display()))
            .fix("reinstall with install.sh (your config and sessions are kept)");
        }
    }
    match &current {
        None => {
            return check_failed(check, "no current release", "reinstall with install.sh");
        }
        Some(name) if !layout.is_complete(name, target) => {
            return check_failed(
                check,
                &format!("the current release {name} is incomplete"),
                "reinstall with install.sh, or `codex update --rollback`",
            );
        }
        Some(name) => {
            check = check.detail(format!("current: {name}"));
            if receipt.as_ref().is_some_and(|r| &r.release != name) && layout.bins == Bins::Links {
                check.status = Status::Warn;
                check.summary = "the receipt does not name the current release".into();
                check.fix = Some("run `codex update` to make them agree".into());
            }
        }
    }
    let staging = layout.staging_dir();
    let leftovers = std::fs::read_dir(&staging).map(|d| d.count()).unwrap_or(0);
    if leftovers > 0 {
        check.status = Status::Warn;
        check.summary = format!("{leftovers} leftover item(s) from an interrupted install");
        check.fix = Some(format!(
            "remove them (no install is running): rm -rf {}",
            staging.display()
        ));
    }
    let pid_file = layout.lock_dir().join("pid");
    if let Ok(text) = std::fs::read_to_string(&pid_file) {
        let pid = text.trim().parse::<u32>().ok();
        if pid.is_some_and(crate::layout::process_alive) {
            check = check.detail(format!(
                "an install or update is running now (pid {})",
                text.trim()
            ));
        } else {
            check.status = Status::Warn;
            check.summary = "a stale install lock".into();
            check.fix = Some(format!(
                "remove it (its process is gone; the next update would too): rm -rf {}",
                layout.lock_dir().display()
            ));
        }
    }
    check
}

fn check_failed(check: Check, summary: &str, fix: &str) -> Check {
    Check {
        status: Status::Fail,
        summary: summary.to_owned(),
        fix: Some(fix.to_owned()),
        ..check
    }
}

/// Whether `dir` accepts new files: probed with a file when it exists, else judged by the first
/// ancestor that exists (the update would create it). Nothing is created otherwise.
pub fn writable(dir: &Path) -> Result<(), String> {
    let mut probe_dir = dir;
    while !probe_dir.exists() {
        probe_dir = probe_dir.parent().ok_or("no existing parent folder")?;
    }
    let probe = probe_dir.join(format!(".codex-doctor-probe.{}", std::process::id()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(format!(
            "{}: {}{}",
            probe_dir.display(),
            e,
            owner_note(probe_dir)
        )),
    }
}

#[cfg(unix)]
fn owner_note(dir: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(dir) {
        Ok(m) if m.uid() == 0 => " (owned by root)".into(),
        Ok(m) => format!(" (owned by uid {})", m.uid()),
        Err(_) => String::new(),
    }
}

#[cfg(not(unix))]
fn owner_note(_dir: &Path) -> String {
    String::new()
}

/// Whether an update could write where this copy lives.
pub fn check_updatable(m: &InstallMethod) -> Check {
    match m {
        InstallMethod::Standalone { layout, .. } => {
            let problems: Vec<String> = [&layout.root, &layout.bin_dir]
                .iter()
                .filter_map(|d| writable(d).err())
                .collect();
            if problems.is_empty() {
                Check::new(
                    "updatable",
                    Status::Ok,
                    "`codex update` can write the install",
                )
                .detail(format!(
                    "{} and {}",
                    layout.root.display(),
                    layout.bin_dir.display()
                ))
            } else {
                let mut c = Check::new(
                    "updatable",
                    Status::Fail,
                    "`codex update` cannot write the install",
                )
                .fix(
                    "run codex update as the user who installed it, or reinstall into folders you own: \
                     install.sh with CODEX_HOME and --install-dir under your home",
                );
                for p in problems {
                    c = c.detail(p);
                }
                c
            }
        }
        InstallMethod::Npm {
            manager,
            package_root,
            prefix,
        } => {
            let dir = package_root.parent().unwrap_or(package_root);
            let cmd = m.update_command().unwrap_or_default();
            match writable(dir) {
                Ok(()) => Check::new(
                    "updatable",
                    Status::Ok,
                    format!("{manager} can update it: {cmd}"),
                )
                .detail(format!("package: {}", package_root.display())),
                Err(e) => Check::new(
                    "updatable",
                    Status::Warn,
                    format!("{manager}'s global folder is not writable by you"),
                )
                .detail(e)
                .detail(match prefix {
                    Some(p) => format!("prefix: {}", p.display()),
                    None => "prefix: unknown".into(),
                })
                .fix(format!(
                    "give {manager} a prefix you own (npm config set prefix ~/.npm-global, or a Node version manager) and reinstall, rather than sudo"
                )),
            }
        }
        InstallMethod::Homebrew { .. } => Check::new(
            "updatable",
            Status::Ok,
            format!(
                "Homebrew updates it: {}",
                m.update_command().unwrap_or_default()
            ),
        ),
        InstallMethod::Other { exe } => Check::new(
            "updatable",
            Status::Warn,
            "codex did not install this copy, so `codex update` cannot update it",
        )
        .detail(exe.display().to_string())
        .fix("update it the way it was installed, or install with install.sh"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::codesign::Signature;

    fn render(check: Check) -> String {
        Report {
            version: "1.2.3".into(),
            target: "aarch64-apple-darwin".into(),
            checks: vec![check],
            copies: Vec::new(),
        }
        .render()
    }

    #[test]
    fn the_signature_line_names_the_kind_and_the_quarantine() {
        let exe = Path::new("/opt/homebrew/Caskroom/codex/1.2.3/codex");
        let developer_id = Signature::Certificate {
            signer: "Developer ID Application: Codex Test (TEAMID1234)".into(),
            team: Some("TEAMID1234".into()),
            hardened_runtime: true,
            timestamped: true,
        };
        let other_certificate = Signature::Certificate {
            signer: "Apple Development: someone".into(),
            team: None,
            hardened_runtime: false,
            timestamped: false,
        };
        let ad_hoc = Signature::AdHoc {
            hardened_runtime: false,
        };
        let cases = [
            (Ok(developer_id), Some(true)),
            (Ok(other_certificate), Some(false)),
            (Ok(ad_hoc.clone()), Some(false)),
            (Ok(ad_hoc), Some(true)),
            (Ok(Signature::Unsigned), None),
            (
                Err("not a 64-bit Mach-O executable".to_owned()),
                Some(false),
            ),
        ];
        let text: String = cases
            .into_iter()
            .map(|(sig, q)| render(check_signature(exe, sig, q)))
            .collect();
        insta::assert_snapshot!(text);
    }
}
