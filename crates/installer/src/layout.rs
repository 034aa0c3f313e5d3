//! The standalone install layout, shared by `codex update`, install.sh and install.ps1
//! (documented in docs/installer.md):
//!
//! ```text
//! $CODEX_HOME/packages/standalone/
//!   releases/<version>-<target>/codex, codex-exec-server   one folder per installed release
//!   current -> releases/<version>-<target>                 switched atomically (rename)
//!   receipt.json                                           how, from where, and what came before
//!   .staging/                                              downloads, inside the root on purpose
//!   .lock/pid                                              one install or update at a time
//! ~/.local/bin/codex -> $CODEX_HOME/packages/standalone/current/codex   (and codex-exec-server)
//! ```
//!
//! On Windows ([`Bins::Copies`]) symbolic links need Developer Mode, so there is no `current`
//! link: the receipt's `release` names the current release, and the bin dir holds copies of its
//! programs, switched by renaming the old copy aside (a running `.exe` can be renamed but not
//! overwritten). install.ps1 and `codex update` both keep this layout.
//!
//! Staging inside the root means the final rename never crosses a filesystem (no EXDEV) and a
//! `noexec` `/tmp` cannot stop the smoke test.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::target::{Binary, Target};

mod copies;

/// Paths of one standalone install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// `$CODEX_HOME/packages/standalone`.
    pub root: PathBuf,
    /// Where the `codex` and `codex-exec-server` links go.
    pub bin_dir: PathBuf,
    /// How the bin dir refers to the current release.
    pub bins: Bins,
}

/// How the bin dir refers to the current release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bins {
    /// Symbolic links through `current` (Linux, macOS): switching `current` switches them all.
    Links,
    /// Copies of the current release's programs (Windows); the receipt names the release.
    Copies,
}

impl Bins {
    /// The style this platform uses.
    pub fn for_host() -> Bins {
        if cfg!(windows) {
            Bins::Copies
        } else {
            Bins::Links
        }
    }
}

/// The receipt's file name.
pub const RECEIPT_FILE: &str = "receipt.json";

/// What `receipt.json` records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Receipt schema version (1).
    pub schema: u32,
    /// Always `standalone` for this layout.
    pub method: String,
    /// Installed version.
    pub version: String,
    /// Installed target triple.
    pub target: String,
    /// Folder under `releases/` that `current` points to.
    pub release: String,
    /// The release that was current before, kept for `codex update --rollback`.
    pub previous: Option<String>,
    /// Release source it came from (base URL or folder).
    pub source: String,
    /// Where the links were made.
    pub bin_dir: PathBuf,
    /// Which program made this install: `codex update`, `install.sh`, `install.ps1`.
    pub installed_by: String,
    /// Seconds since the epoch.
    pub installed_at: u64,
}

impl Layout {
    /// The layout under `codex_home`, with links in `bin_dir`.
    pub fn new(codex_home: &Path, bin_dir: &Path) -> Layout {
        Layout {
            root: codex_home.join("packages").join("standalone"),
            bin_dir: bin_dir.to_path_buf(),
            bins: Bins::for_host(),
        }
    }

    /// The layout that owns `exe` (canonical), and the release it runs; that is how `codex update`
    /// finds the copy that is actually running. Either `exe` lies in some `…/releases/<name>/` of
    /// a standalone root (reached through the links), or it is a copy in the bin dir that the
    /// receipt under `codex_home` names (the Windows layout).
    pub fn owning(exe: &Path, codex_home: Option<&Path>) -> Option<(Layout, String)> {
        let dir = exe.parent()?;
        if let Some(releases) = dir.parent()
            && releases.file_name().is_some_and(|n| n == "releases")
        {
            let root = releases.parent()?.to_path_buf();
            if let Ok(receipt) = read_receipt(&root.join(RECEIPT_FILE)) {
                let name = dir.file_name()?.to_string_lossy().into_owned();
                let layout = Layout {
                    root,
                    bin_dir: receipt.bin_dir,
                    bins: Bins::for_host(),
                };
                return Some((layout, name));
            }
        }
        let layout = Layout::new(codex_home?, dir);
        let receipt = layout.receipt()?;
        // Canonical on both sides: Windows spells one folder in several ways (case, `\\?\`).
        let same_dir = receipt.bin_dir.canonicalize().ok()? == dir.canonicalize().ok()?;
        let is_copy = std::fs::symlink_metadata(exe).ok()?.is_file();
        if !same_dir || !is_copy {
            return None;
        }
        Some((
            Layout {
                bins: Bins::Copies,
                // As the installer wrote it, which is how the user knows it.
                bin_dir: receipt.bin_dir,
                ..layout
            },
            receipt.release,
        ))
    }

    /// `releases/`.
    pub fn releases_dir(&self) -> PathBuf {
        self.root.join("releases")
    }

    /// The folder name for a release: `<version>-<target>`.
    pub fn release_name(version: &semver::Version, target: &Target) -> String {
        format!("{version}-{}", target.triple)
    }

    /// `releases/<name>`.
    pub fn release_dir(&self, name: &str) -> PathBuf {
        self.releases_dir().join(name)
    }

    /// The `current` link.
    pub fn current_link(&self) -> PathBuf {
        self.root.join("current")
    }

    /// `receipt.json`.
    pub fn receipt_path(&self) -> PathBuf {
        self.root.join(RECEIPT_FILE)
    }

    /// `.staging/`.
    pub fn staging_dir(&self) -> PathBuf {
        self.root.join(".staging")
    }

    /// `.lock/`.
    pub fn lock_dir(&self) -> PathBuf {
        self.root.join(".lock")
    }

    /// The current release: where `current` points, or with copies, what the receipt names.
    pub fn current_release(&self) -> Option<String> {
        match self.bins {
            Bins::Links => {
                let target = std::fs::read_link(self.current_link()).ok()?;
                Some(target.file_name()?.to_string_lossy().into_owned())
            }
            Bins::Copies => self.receipt().map(|r| r.release),
        }
    }

    /// The receipt, if there is one.
    pub fn receipt(&self) -> Option<Receipt> {
        read_receipt(&self.receipt_path()).ok()
    }

    /// Writes the receipt atomically.
    pub fn write_receipt(&self, receipt: &Receipt) -> io::Result<()> {
        let json = serde_json::to_string_pretty(receipt).map_err(io::Error::other)?;
        write_atomic(&self.receipt_path(), format!("{json}\n").as_bytes())
    }

    /// Makes `releases/<name>` the release the bin dir runs. With links, `current` is switched
    /// with one rename (a reader sees the old or the new release, never neither) and the bin
    /// links are (re)made; with copies, each program is copied in beside the old one and swapped
    /// by renames, and a failure puts back what was already swapped. Idempotent.
    pub fn activate(&self, name: &str, target: &Target) -> io::Result<()> {
        std::fs::create_dir_all(&self.bin_dir)?;
        match self.bins {
            Bins::Links => {
                self.switch_current(name)?;
                self.link_bins(target)
            }
            Bins::Copies => copies::install(&self.release_dir(name), &self.bin_dir, target),
        }
    }

    fn switch_current(&self, name: &str) -> io::Result<()> {
        let link = self.current_link();
        let dest = Path::new("releases").join(name);
        if std::fs::read_link(&link).is_ok_and(|d| d == dest) {
            return Ok(());
        }
        let tmp = self.root.join(format!(".current.{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        symlink(&dest, &tmp)?;
        std::fs::rename(&tmp, link)
    }

    fn link_bins(&self, target: &Target) -> io::Result<()> {
        for b in Binary::ALL {
            let name = target.installed_name(b);
            let link = self.bin_dir.join(&name);
            let dest = self.current_link().join(&name);
            if std::fs::read_link(&link).is_ok_and(|d| d == dest) {
                continue;
            }
            let tmp = self.bin_dir.join(format!(".{name}.{}", std::process::id()));
            let _ = std::fs::remove_file(&tmp);
            symlink(&dest, &tmp)?;
            std::fs::rename(&tmp, &link)?;
        }
        Ok(())
    }

    /// Whether `releases/<name>` holds every binary.
    pub fn is_complete(&self, name: &str, target: &Target) -> bool {
        Binary::ALL.iter().all(|b| {
            self.release_dir(name)
                .join(target.installed_name(*b))
                .is_file()
        })
    }
}

fn read_receipt(path: &Path) -> io::Result<Receipt> {
    let text = std::fs::read_to_string(path)?;
    serde_json::from_str(&text).map_err(io::Error::other)
}

/// Makes what this process creates from now on never writable by group or others, whatever
/// the user's umask: under `umask 000` the install folders, the bin dir's links and the
/// receipt would otherwise be world-writable, and any local user could replace the programs.
/// A stricter umask (077) is kept. Call it before an install, update or uninstall writes.
pub fn no_group_or_world_writes() {
    #[cfg(unix)]
    {
        use rustix::fs::Mode;
        let old = rustix::process::umask(Mode::from_raw_mode(0o022));
        rustix::process::umask(old | Mode::from_raw_mode(0o022));
    }
}

/// Writes `path` via a temporary file and a rename, so it is never half-written.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, contents)?;
    sync_file(&tmp)?;
    std::fs::rename(&tmp, path)
}

/// Flushes `path` to disk. Windows flushes only through a handle opened for writing (a
/// read-only one is refused with "Access denied").
fn sync_file(path: &Path) -> io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)?
        .sync_all()
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(windows)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    // Directory links for `current`, file links for the bins; both need Developer Mode or
    // elevation on Windows, which install.ps1 documents.
    let resolved = link
        .parent()
        .map(|p| p.join(target))
        .unwrap_or_else(|| target.to_path_buf());
    if resolved.is_dir() {
        std::os::windows::fs::symlink_dir(target, link)
    } else {
        std::os::windows::fs::symlink_file(target, link)
    }
}

/// Checks that `dir` (created if missing) accepts new files, by making and removing one.
pub fn check_writable(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".codex-write-test.{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

/// Holds the install lock; released on drop.
#[derive(Debug)]
pub struct InstallLock {
    dir: PathBuf,
}

/// The lock is held by a live process.
#[derive(Debug, thiserror::Error)]
#[error(
    "another codex install or update is running (pid {pid}); wait for it to finish and try again"
)]
pub struct LockBusy {
    /// Holder's process id.
    pub pid: u32,
}

impl InstallLock {
    /// Takes the lock: the file `.lock/pid`, created only if it does not exist (`O_EXCL`), holding
    /// the owner's pid. install.sh creates it the same way (noclobber) and install.ps1 with
    /// `CreateNew`, so the three exclude each other.
    ///
    /// A lock whose owner no longer runs is taken over under a second lock, the folder
    /// `.lock.takeover` (made with `mkdir`, atomic in the shell too): holding it, the pid file is
    /// read again and removed only if it still names the dead owner, then the lock is created
    /// as usual. Two processes that both saw a stale lock therefore cannot both end up holding
    /// it: the second reads the first one's fresh pid. install.sh does the same.
    pub fn acquire(layout: &Layout) -> Result<InstallLock, LockError> {
        let dir = layout.lock_dir();
        let pid_file = dir.join("pid");
        std::fs::create_dir_all(&layout.root)?;
        for _ in 0..20 {
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e.into()),
            }
            let created = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&pid_file);
            match created {
                Ok(mut f) => {
                    use std::io::Write;
                    writeln!(f, "{}", std::process::id())?;
                    return Ok(InstallLock { dir });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match read_pid(&pid_file) {
                    Some(pid) if process_alive(pid) => return Err(LockBusy { pid }.into()),
                    // Its owner may be between creating the file and writing its pid.
                    None if age(&pid_file) < STALE_EMPTY => {
                        std::thread::sleep(std::time::Duration::from_millis(200));
                    }
                    seen => take_over(layout, &pid_file, seen)?,
                },
                // The folder went away (its owner finished) between the two steps: try again.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(LockError::Io(io::Error::other(format!(
            "could not take the lock {}; remove it if no install is running",
            dir.display()
        ))))
    }
}

/// How old an empty pid file must be to count as left by a dead process.
const STALE_EMPTY: std::time::Duration = std::time::Duration::from_secs(5);

fn read_pid(pid_file: &Path) -> Option<u32> {
    std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
}

/// Removes a dead owner's pid file (`seen` is what it held), under the takeover lock, so that
/// the caller can try to create its own.
fn take_over(layout: &Layout, pid_file: &Path, seen: Option<u32>) -> io::Result<()> {
    let guard = layout.root.join(".lock.takeover");
    match std::fs::create_dir(&guard) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            // Held for a moment only; one this old was left by a process that died holding it.
            if age(&guard) > std::time::Duration::from_secs(30) {
                let _ = std::fs::remove_dir(&guard);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
            return Ok(());
        }
        Err(e) => return Err(e),
    }
    let now = read_pid(pid_file);
    let still_stale = now == seen
        && match now {
            Some(pid) => !process_alive(pid),
            None => age(pid_file) >= STALE_EMPTY,
        };
    if still_stale {
        tracing::warn!("recovering the install lock left by a dead process");
        let _ = std::fs::remove_file(pid_file);
    }
    let _ = std::fs::remove_dir(&guard);
    Ok(())
}

fn age(path: &Path) -> std::time::Duration {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|m| m.elapsed().ok())
        .unwrap_or_default()
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another live process holds it.
    #[error(transparent)]
    Busy(#[from] LockBusy),
    /// The lock directory could not be created or read.
    #[error("install lock: {0}")]
    Io(#[from] io::Error),
}

impl Drop for InstallLock {
    /// Removes the lock only while it is still this process's: one taken over meanwhile (this
    /// process was thought dead) belongs to its new owner.
    fn drop(&mut self) {
        let pid_file = self.dir.join("pid");
        if read_pid(&pid_file) == Some(std::process::id()) {
            let _ = std::fs::remove_file(&pid_file);
            // Not recursive: the next owner's pid file may already be inside, and stays.
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

#[cfg(unix)]
pub(crate) fn process_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    match rustix::process::Pid::from_raw(pid) {
        // EPERM means it exists but belongs to someone else: alive.
        Some(p) => !matches!(
            rustix::process::test_kill_process(p),
            Err(rustix::io::Errno::SRCH)
        ),
        None => false,
    }
}

#[cfg(not(unix))]
pub(crate) fn process_alive(pid: u32) -> bool {
    // Without a cheap liveness probe, trust the pid; `codex doctor` can clear a stale lock.
    pid != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn under_umask_000_new_folders_and_files_are_not_writable_by_others() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let before = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0));
        no_group_or_world_writes();
        let sub = dir.path().join("releases");
        std::fs::create_dir(&sub).expect("mkdir");
        write_atomic(&sub.join("receipt.json"), b"{}").expect("write");
        let strict = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
        no_group_or_world_writes();
        let kept = rustix::process::umask(before);
        assert_eq!(strict.bits(), 0o022);
        assert_eq!(kept.bits(), 0o077, "a stricter umask is kept");
        for p in [sub.clone(), sub.join("receipt.json")] {
            let mode = std::fs::metadata(&p).expect("stat").permissions().mode();
            assert_eq!(mode & 0o022, 0, "{} is {mode:o}", p.display());
        }
    }

    #[test]
    fn lock_is_exclusive_and_a_dead_owners_lock_is_recovered() {
        let home = tempfile::tempdir().expect("tmp");
        let layout = Layout::new(home.path(), &home.path().join("bin"));
        let held = InstallLock::acquire(&layout).expect("first");
        let err = InstallLock::acquire(&layout).expect_err("second must wait");
        assert!(
            err.to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(held);
        // A lock whose owner is gone: a pid that cannot be running.
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let dead = child.id();
        child.wait().expect("wait");
        std::fs::create_dir_all(layout.lock_dir()).expect("mkdir");
        std::fs::write(layout.lock_dir().join("pid"), format!("{dead}\n")).expect("pid");
        let lock = InstallLock::acquire(&layout).expect("recovered");
        drop(lock);
        assert!(!layout.lock_dir().exists());
        // install.sh makes the folder with its other folders first: an empty one is no lock.
        std::fs::create_dir_all(layout.lock_dir()).expect("mkdir");
        drop(InstallLock::acquire(&layout).expect("an empty lock folder is free"));
    }

    #[test]
    fn switching_current_and_linking_bins_points_through_current() {
        let home = tempfile::tempdir().expect("tmp");
        let layout = Layout {
            bins: Bins::Links,
            ..Layout::new(home.path(), &home.path().join("bin"))
        };
        let target = Target::from_triple("x86_64-unknown-linux-musl").expect("known");
        for name in ["1.0.0-x", "1.1.0-x"] {
            std::fs::create_dir_all(layout.release_dir(name)).expect("mkdir");
            for b in Binary::ALL {
                std::fs::write(layout.release_dir(name).join(b.name()), name).expect("write");
            }
        }
        layout.activate("1.0.0-x", target).expect("switch");
        let read = || std::fs::read_to_string(layout.bin_dir.join("codex")).expect("read");
        assert_eq!(read(), "1.0.0-x");
        layout.activate("1.1.0-x", target).expect("switch");
        assert_eq!(read(), "1.1.0-x");
        assert_eq!(layout.current_release().as_deref(), Some("1.1.0-x"));
        assert!(layout.is_complete("1.1.0-x", target));
    }
}
