//! The Windows bin dir: copies of the current release's programs, swapped by renames.
//!
//! A running `.exe` cannot be overwritten or deleted on Windows, but it can be renamed. So every
//! program is first copied in under a temporary name (`.codex.exe.new-<id>`); then each existing
//! copy is renamed aside (`codex.exe.old-<id>`) and the new one renamed into place. If a swap
//! fails, the ones already made are undone, so the bin dir holds one release or the other.
//! install.ps1 uses the same names, so each cleans up what the other left.

use std::io;
use std::path::{Path, PathBuf};

use crate::target::{Binary, Target};

/// Copies `release_dir`'s programs into `bin_dir`; programs already identical are left alone.
pub(super) fn install(release_dir: &Path, bin_dir: &Path, target: &Target) -> io::Result<()> {
    install_as(release_dir, bin_dir, target, &unique_suffix())
}

fn install_as(release_dir: &Path, bin_dir: &Path, target: &Target, id: &str) -> io::Result<()> {
    let names: Vec<String> = Binary::ALL
        .iter()
        .map(|b| target.installed_name(*b))
        .collect();

    let mut pending = Vec::new();
    let staged = (|| {
        for name in &names {
            let src = release_dir.join(name);
            let dest = bin_dir.join(name);
            if same_contents(&src, &dest)? {
                continue;
            }
            let new = bin_dir.join(format!(".{name}.new-{id}"));
            std::fs::copy(&src, &new)?;
            super::sync_file(&new)?;
            pending.push(Swap {
                old: bin_dir.join(format!("{name}.old-{id}")),
                had_old: dest.exists(),
                dest,
                new,
            });
        }
        Ok::<(), io::Error>(())
    })();
    if let Err(e) = staged {
        for s in &pending {
            let _ = std::fs::remove_file(&s.new);
        }
        return Err(e);
    }

    for (i, swap) in pending.iter().enumerate() {
        if let Err(e) = swap.apply() {
            for done in pending[..i].iter().rev() {
                done.undo();
            }
            for s in &pending {
                let _ = std::fs::remove_file(&s.new);
            }
            return Err(io::Error::new(
                e.kind(),
                format!(
                    "could not replace {} ({e}); close programs that use it and try again",
                    swap.dest.display()
                ),
            ));
        }
    }
    remove_leftovers(bin_dir, &names);
    Ok(())
}

/// One program's switch: `dest` -> `old`, then `new` -> `dest`.
struct Swap {
    dest: PathBuf,
    new: PathBuf,
    old: PathBuf,
    had_old: bool,
}

impl Swap {
    fn apply(&self) -> io::Result<()> {
        if self.had_old {
            std::fs::rename(&self.dest, &self.old)?;
        }
        if let Err(e) = std::fs::rename(&self.new, &self.dest) {
            if self.had_old {
                let _ = std::fs::rename(&self.old, &self.dest);
            }
            return Err(e);
        }
        Ok(())
    }

    fn undo(&self) {
        let restored = if self.had_old {
            // Renaming over the new copy works where deleting a just-started one might not.
            std::fs::rename(&self.old, &self.dest)
        } else {
            std::fs::remove_file(&self.dest)
        };
        if let Err(e) = restored {
            tracing::warn!("could not restore {}: {e}", self.dest.display());
        }
    }
}

/// Old copies renamed aside by this or an earlier install; one still running stays until the
/// next install, which is why failures are ignored.
fn remove_leftovers(bin_dir: &Path, names: &[String]) {
    let Ok(entries) = std::fs::read_dir(bin_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let stale = names.iter().any(|n| {
            file.starts_with(&format!("{n}.old-")) || file.starts_with(&format!(".{n}.new-"))
        });
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn same_contents(a: &Path, b: &Path) -> io::Result<bool> {
    let Ok(meta) = std::fs::symlink_metadata(b) else {
        return Ok(false);
    };
    if !meta.is_file() || meta.len() != std::fs::metadata(a)?.len() {
        return Ok(false);
    }
    Ok(std::fs::read(a)? == std::fs::read(b)?)
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}{nanos:09}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> &'static Target {
        Target::from_triple("x86_64-pc-windows-gnu").expect("known")
    }

    fn release(root: &Path, name: &str) -> PathBuf {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        for b in Binary::ALL {
            std::fs::write(dir.join(target().installed_name(b)), name).expect("write");
        }
        dir
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn copies_switch_between_releases_and_leave_nothing_behind() {
        let tmp = tempfile::tempdir().expect("tmp");
        let bin = tmp.path().join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        let (a, b) = (release(tmp.path(), "1.0.0"), release(tmp.path(), "1.1.0"));
        install(&a, &bin, target()).expect("install a");
        install(&b, &bin, target()).expect("install b");
        let codex = bin.join("codex.exe");
        assert_eq!(std::fs::read_to_string(&codex).expect("read"), "1.1.0");
        assert_eq!(listing(&bin), ["codex-exec-server.exe", "codex.exe"]);
        // Identical copies are not rewritten.
        let before = std::fs::metadata(&codex)
            .expect("meta")
            .modified()
            .expect("mtime");
        std::thread::sleep(std::time::Duration::from_millis(20));
        install(&b, &bin, target()).expect("again");
        let after = std::fs::metadata(&codex)
            .expect("meta")
            .modified()
            .expect("mtime");
        assert_eq!(before, after);
    }

    #[test]
    fn a_failed_swap_puts_back_the_programs_already_switched() {
        let tmp = tempfile::tempdir().expect("tmp");
        let bin = tmp.path().join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        let (a, b) = (release(tmp.path(), "1.0.0"), release(tmp.path(), "1.1.0"));
        install(&a, &bin, target()).expect("install a");
        // codex.exe swaps first. codex-exec-server.exe cannot be renamed aside because a
        // non-empty folder holds the name it would get (as a running program on Windows cannot
        // be replaced), so the second swap fails.
        let blocker = bin.join("codex-exec-server.exe.old-7");
        std::fs::create_dir(&blocker).expect("mkdir");
        std::fs::write(blocker.join("x"), "").expect("fill");
        let err = install_as(&b, &bin, target(), "7").expect_err("second swap must fail");
        assert!(
            err.to_string().contains("close programs that use it"),
            "{err}"
        );
        for b in Binary::ALL {
            let name = target().installed_name(b);
            assert_eq!(
                std::fs::read_to_string(bin.join(name)).expect("read"),
                "1.0.0"
            );
        }
        assert_eq!(
            listing(&bin),
            [
                "codex-exec-server.exe",
                "codex-exec-server.exe.old-7",
                "codex.exe"
            ]
        );
    }
}
