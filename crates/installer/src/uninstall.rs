//! Removing a standalone install: the bin links, the release folders, `current`, the receipt,
//! the PATH block install.sh added to a shell startup file, and `CODEX_HOME` unless the user
//! keeps it. `install.sh --uninstall` does the same steps in shell; the block markers are the
//! ones install.sh writes.
//!
//! A [`Plan`] is computed first and shown (or confirmed) before anything is removed.

use std::io;
use std::path::{Path, PathBuf};

use crate::layout::{Bins, Layout};
use crate::target::{Binary, Target};

/// First line of the PATH block install.sh appends to a shell startup file.
pub const BLOCK_START: &str = "# >>> codex installer >>>";
/// Last line of that block.
pub const BLOCK_END: &str = "# <<< codex installer <<<";

/// What an uninstall removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Files and links removed one by one (the bin links or copies).
    pub files: Vec<PathBuf>,
    /// Folders removed with everything in them.
    pub dirs: Vec<PathBuf>,
    /// Startup files with a PATH block, and their text without it (`None`: delete the file,
    /// nothing else was in it).
    pub rc_edits: Vec<(PathBuf, Option<String>)>,
    /// Files of the programs' names in the bin dir that are not this install's, left alone.
    pub foreign: Vec<PathBuf>,
}

impl Plan {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.dirs.is_empty() && self.rc_edits.is_empty()
    }

    /// Lines saying what [`Plan::execute`] would do.
    pub fn describe(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .files
            .iter()
            .chain(&self.dirs)
            .map(|p| format!("remove {}", p.display()))
            .collect();
        for (rc, edit) in &self.rc_edits {
            lines.push(match edit {
                Some(_) => format!("remove the codex PATH block from {}", rc.display()),
                None => format!(
                    "remove {} (it holds only the codex PATH block)",
                    rc.display()
                ),
            });
        }
        lines
    }

    /// Does it, in an order that leaves a usable state at each step: links first (nothing
    /// half-removed stays on PATH), then folders, then the startup files. Returns what was done.
    pub fn execute(&self) -> io::Result<Vec<String>> {
        let mut done = Vec::new();
        for f in &self.files {
            match std::fs::remove_file(f) {
                Ok(()) => done.push(format!("removed {}", f.display())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                #[cfg(windows)]
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                    remove_after_exit(f).map_err(|e| with_path(e, f))?;
                    done.push(format!("removed {} (when this codex exits)", f.display()));
                }
                Err(e) => return Err(with_path(e, f)),
            }
        }
        for d in &self.dirs {
            match std::fs::remove_dir_all(d) {
                Ok(()) => done.push(format!("removed {}", d.display())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(with_path(e, d)),
            }
        }
        for (rc, edit) in &self.rc_edits {
            match edit {
                Some(text) => {
                    write_keeping_mode(rc, text).map_err(|e| with_path(e, rc))?;
                    done.push(format!(
                        "removed the codex PATH block from {}",
                        rc.display()
                    ));
                }
                None => {
                    std::fs::remove_file(rc).map_err(|e| with_path(e, rc))?;
                    done.push(format!("removed {}", rc.display()));
                }
            }
        }
        Ok(done)
    }
}

/// Windows cannot delete a running `.exe`, but can rename it: the copy that runs `codex
/// uninstall` is moved aside in its folder, and a detached `cmd` deletes it once this process
/// has exited (the technique of the `self-replace` crate, without its extra process).
#[cfg(windows)]
fn remove_after_exit(exe: &Path) -> io::Result<()> {
    use std::os::windows::process::CommandExt;
    const DETACHED_PROCESS: u32 = 0x0000_0008;
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    let aside = exe.with_extension(format!("uninstalled-{}.exe", std::process::id()));
    std::fs::rename(exe, &aside)?;
    let script = format!(
        "for /L %i in (1,1,60) do (del /F /Q \"{0}\" 2>NUL & if not exist \"{0}\" exit /B 0 & ping -n 2 127.0.0.1 >NUL)",
        aside.display()
    );
    std::process::Command::new("cmd")
        .args(["/D", "/C", &script])
        .creation_flags(DETACHED_PROCESS | CREATE_NO_WINDOW)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(drop)
}

fn with_path(e: io::Error, p: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("cannot remove {}: {e}", p.display()))
}

/// Replaces the file `path` leads to (a dotfile manager's link stays a link) with a rename, so it
/// is never half-written, keeping its mode.
fn write_keeping_mode(path: &Path, text: &str) -> io::Result<()> {
    let real = path.canonicalize()?;
    let perms = std::fs::metadata(&real)?.permissions();
    let tmp = real.with_extension(format!("codex-uninstall.{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::set_permissions(&tmp, perms)?;
    std::fs::rename(&tmp, &real)
}

/// The plan for the install in `layout` (of `target`'s programs), with `codex_home` removed too
/// unless `keep_config`. `home` is where the shell startup files are.
pub fn plan(
    layout: &Layout,
    target: &Target,
    codex_home: &Path,
    home: &Path,
    keep_config: bool,
) -> Plan {
    let mut plan = Plan {
        files: Vec::new(),
        dirs: Vec::new(),
        rc_edits: Vec::new(),
        foreign: Vec::new(),
    };
    for b in Binary::ALL {
        let path = layout.bin_dir.join(target.installed_name(b));
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let ours = match layout.bins {
            Bins::Links => {
                meta.file_type().is_symlink()
                    && std::fs::read_link(&path).is_ok_and(|t| t.starts_with(&layout.root))
            }
            // Copies carry no mark of their own; the receipt says this bin dir is the install's.
            Bins::Copies => meta.is_file() && layout.receipt().is_some(),
        };
        if ours {
            plan.files.push(path);
        } else {
            plan.foreign.push(path);
        }
    }
    // Compared as real paths: `$HOME/../me` or `$HOME//` must not pass for another folder.
    let codex_home = &real(codex_home);
    let inside_home = real(&layout.root).starts_with(codex_home);
    if (keep_config || !inside_home) && layout.root.exists() {
        plan.dirs.push(layout.root.clone());
    }
    // A CODEX_HOME that is or holds the home folder (`CODEX_HOME=$HOME`) is never removed.
    if !keep_config && codex_home.exists() && !codex_home_holds_home(codex_home, home) {
        plan.dirs.push(codex_home.to_path_buf());
    } else if !keep_config && layout.root.exists() && !plan.dirs.contains(&layout.root) {
        plan.dirs.push(layout.root.clone());
    }
    for rc in rc_files(home) {
        let Ok(text) = std::fs::read_to_string(&rc) else {
            continue;
        };
        if let Some(rest) = remove_path_block(&text) {
            let fish_only = rc.extension().is_some_and(|e| e == "fish") && rest.trim().is_empty();
            plan.rc_edits.push((rc, (!fish_only).then_some(rest)));
        }
    }
    plan
}

/// `path` with every link and `..` resolved when it exists, else as given.
fn real(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether `codex_home` is the home folder or one of its parents, however either is spelled
/// (`$HOME//`, `$HOME/../me`, through a link): such a CODEX_HOME is never removed.
pub fn codex_home_holds_home(codex_home: &Path, home: &Path) -> bool {
    real(home).starts_with(real(codex_home))
}

/// The startup files install.sh may have written its PATH block to.
pub fn rc_files(home: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Some(z) = std::env::var_os("ZDOTDIR") {
        files.push(PathBuf::from(z).join(".zshrc"));
    }
    for name in [
        ".zshrc",
        ".bashrc",
        ".bash_profile",
        ".profile",
        ".config/fish/conf.d/codex.fish",
    ] {
        let p = home.join(name);
        if !files.contains(&p) {
            files.push(p);
        }
    }
    files
}

/// `text` without install.sh's PATH block (its marker lines, what is between them, and the one
/// empty line install.sh put before it), or `None` when there is no block. Every other byte is
/// kept as it was.
pub fn remove_path_block(text: &str) -> Option<String> {
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    let start = lines.iter().position(|l| l.trim_end() == BLOCK_START)?;
    let end = start
        + lines[start..]
            .iter()
            .position(|l| l.trim_end() == BLOCK_END)?;
    // install.sh wrote "\n" before the block: an empty line, or the end of a last line that had
    // no newline of its own.
    let mut from = start;
    let mut unterminated = None;
    if start > 0 {
        if lines[start - 1] == "\n" {
            from = start - 1;
        } else {
            unterminated = Some(start - 1);
        }
    }
    let mut out: String = lines[..from].concat();
    if unterminated.is_some() && end + 1 == lines.len() {
        out.pop();
    }
    lines.drain(..=end);
    out.push_str(&lines.concat());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &str = "\n# >>> codex installer >>>\nexport PATH=\"/h/.local/bin:$PATH\"\n# <<< codex installer <<<\n";

    #[test]
    fn a_codex_home_that_is_the_home_folder_is_recognised_however_it_is_spelled() {
        let base = tempfile::tempdir().expect("tempdir");
        let home = base.path().join("me");
        std::fs::create_dir_all(home.join(".codex")).expect("home");
        let spelled = |s: &str| PathBuf::from(format!("{}{s}", home.display()));
        for h in [
            spelled(""),
            spelled("//"),
            spelled("/../me"),
            spelled("/."),
            base.path().into(),
        ] {
            assert!(codex_home_holds_home(&h, &home), "{}", h.display());
        }
        for h in [
            spelled("/.codex"),
            spelled("/../me/.codex"),
            spelled("/missing"),
        ] {
            assert!(!codex_home_holds_home(&h, &home), "{}", h.display());
        }
    }

    #[test]
    fn the_block_install_sh_appends_comes_out_leaving_every_other_byte() {
        for before in [
            "",
            "alias ll='ls -l'\n",
            "# mine\n\nexport EDITOR=vi\n",
            "no newline at the end",
        ] {
            let with = format!("{before}{BLOCK}");
            assert_eq!(
                remove_path_block(&with).as_deref(),
                Some(before),
                "{before:?}"
            );
        }
        // Lines the user added after the block stay too.
        let with = format!("a\n{BLOCK}b\n");
        assert_eq!(remove_path_block(&with).as_deref(), Some("a\nb\n"));
        assert_eq!(remove_path_block("a\nb\n"), None);
        // An unterminated block is not ours to guess at.
        assert_eq!(remove_path_block("a\n# >>> codex installer >>>\nx\n"), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_startup_file_keeps_its_link_and_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tmp");
        let home = tmp.path().join("home");
        let dotfiles = tmp.path().join("dotfiles");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::create_dir_all(&dotfiles).expect("dotfiles");
        let real = dotfiles.join("bashrc");
        std::fs::write(&real, format!("x=1\n{BLOCK}")).expect("rc");
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        std::os::unix::fs::symlink(&real, home.join(".bashrc")).expect("ln");
        let layout = Layout::new(&home.join(".codex"), &home.join("bin"));
        let target = crate::target::Target::from_triple("x86_64-unknown-linux-musl").expect("t");
        let plan = plan(&layout, target, &home.join(".codex"), &home, false);
        assert_eq!(plan.rc_edits.len(), 1, "{plan:?}");
        plan.execute().expect("execute");
        assert!(home.join(".bashrc").is_symlink());
        assert_eq!(std::fs::read_to_string(&real).expect("rc"), "x=1\n");
        let mode = std::fs::metadata(&real).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
