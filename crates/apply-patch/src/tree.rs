//! The directory a patch is applied to, touched only in ways a hostile process sharing it cannot
//! redirect.
//!
//! The patch is applied by the unsandboxed agent while sandboxed commands may write the same
//! directory, so every path is resolved from a descriptor of the root, one component at a time,
//! refusing symbolic links at every step (a command cannot swap a folder for a link between the
//! check and the write). Staging and backup files get unpredictable names and are created with
//! `O_EXCL | O_NOFOLLOW`, and modes are set through the descriptor, never by path.
//!
//! Windows has no sandbox to defend against (only danger-full-access runs there), so it uses
//! plain paths with the same lexical checks.

use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use crate::PatchError;

/// A file as read before the patch.
pub(crate) struct Original {
    /// Its text.
    pub text: String,
    /// Its permission bits, kept by the new version.
    pub mode: Option<u32>,
}

/// `dir/.name.codex-patch-<random>.<kind>` beside `path`: unguessable, so nobody can plant a
/// link there first.
fn scratch_name(path: &Path, kind: &str) -> PathBuf {
    let mut bytes = [0u8; 8];
    // Without randomness the name is still created O_EXCL, so the worst case is a refused patch.
    let _ = getrandom::fill(&mut bytes);
    let tag: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.codex-patch-{tag}.{kind}"))
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PatchError + '_ {
    move |source| PatchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The parent folder of `path` (relative) and its file name.
fn split(path: &Path) -> Result<(&Path, &std::ffi::OsStr), PatchError> {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => Ok((parent, name)),
        _ => Err(PatchError::OutsideRoot(path.to_path_buf())),
    }
}

fn normal_components(path: &Path) -> impl Iterator<Item = &std::ffi::OsStr> {
    path.components().filter_map(|c| match c {
        Component::Normal(n) => Some(n),
        _ => None,
    })
}

#[cfg(unix)]
pub(crate) use unix::Tree;

#[cfg(not(unix))]
pub(crate) use plain::Tree;

#[cfg(unix)]
mod unix {
    use super::*;
    use rustix::fs::{AtFlags, FileType, Mode, OFlags};
    use rustix::io::Errno;
    use std::io::Read as _;
    use std::os::fd::OwnedFd;

    /// The root, held open.
    pub(crate) struct Tree {
        root: OwnedFd,
        /// Makes `stage` or `set_aside` of one path fail, as a full disk would, for the tests of
        /// the rollback.
        #[cfg(test)]
        pub(crate) fault: Option<(&'static str, PathBuf)>,
    }

    const DIR: OFlags = OFlags::RDONLY
        .union(OFlags::DIRECTORY)
        .union(OFlags::NOFOLLOW)
        .union(OFlags::CLOEXEC);

    impl Tree {
        pub(crate) fn open(root: &Path) -> Result<Tree, PatchError> {
            // The root itself may be reached through links (it is the user's choice); below it
            // nothing is followed.
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            let root =
                rustix::fs::open(root, flags, Mode::empty()).map_err(|e| io_err(root)(e.into()))?;
            Ok(Tree {
                root,
                #[cfg(test)]
                fault: None,
            })
        }

        #[cfg(test)]
        fn inject(&self, op: &str, path: &Path) -> Result<(), PatchError> {
            match &self.fault {
                Some((o, p)) if *o == op && p == path => {
                    Err(io_err(path)(std::io::Error::other("injected failure")))
                }
                _ => Ok(()),
            }
        }

        #[cfg(not(test))]
        fn inject(&self, _op: &str, _path: &Path) -> Result<(), PatchError> {
            Ok(())
        }

        /// The folder `dir` (relative), opened without following any link. `None` when a part
        /// of it does not exist; with `create`, missing parts are made and listed in `made`.
        fn dir(
            &self,
            whole: &Path,
            dir: &Path,
            mut made: Option<&mut Vec<PathBuf>>,
        ) -> Result<Option<OwnedFd>, PatchError> {
            let mut fd = rustix::io::dup(&self.root).map_err(|e| io_err(whole)(e.into()))?;
            let mut at = PathBuf::new();
            for part in normal_components(dir) {
                at.push(part);
                let next = match rustix::fs::openat(&fd, part, DIR, Mode::empty()) {
                    Ok(next) => next,
                    Err(Errno::NOENT) => {
                        let Some(made) = made.as_deref_mut() else {
                            return Ok(None);
                        };
                        rustix::fs::mkdirat(&fd, part, Mode::from_raw_mode(0o777))
                            .map_err(|e| io_err(whole)(e.into()))?;
                        made.push(at.clone());
                        rustix::fs::openat(&fd, part, DIR, Mode::empty())
                            .map_err(|e| refusal(whole, e))?
                    }
                    Err(e) => return Err(refusal(whole, e)),
                };
                fd = next;
            }
            Ok(Some(fd))
        }

        /// The file's text and mode, `None` when it does not exist. A link or anything but a
        /// regular file is refused.
        pub(crate) fn read(&self, path: &Path) -> Result<Option<Original>, PatchError> {
            let (parent, name) = split(path)?;
            let Some(dir) = self.dir(path, parent, None)? else {
                return Ok(None);
            };
            // Non-blocking, so a planted FIFO cannot hang the agent.
            let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
            let fd = match rustix::fs::openat(&dir, name, flags, Mode::empty()) {
                Ok(fd) => fd,
                Err(Errno::NOENT) => return Ok(None),
                Err(e) => return Err(refusal(path, e)),
            };
            let stat = rustix::fs::fstat(&fd).map_err(|e| io_err(path)(e.into()))?;
            if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
                return Err(PatchError::NotAFile(path.to_path_buf()));
            }
            let mut text = String::new();
            std::fs::File::from(fd)
                .read_to_string(&mut text)
                .map_err(io_err(path))?;
            Ok(Some(Original {
                text,
                // mode_t is u16 on macOS and u32 on Linux.
                #[allow(clippy::useless_conversion)]
                mode: Some(u32::from(stat.st_mode) & 0o777),
            }))
        }

        /// Writes `contents` to a new scratch file beside `path` (making its missing folders,
        /// listed in `made`), with `mode` if given. Returns the scratch file's path.
        pub(crate) fn stage(
            &self,
            path: &Path,
            contents: &str,
            mode: Option<u32>,
            made: &mut Vec<PathBuf>,
        ) -> Result<PathBuf, PatchError> {
            let (parent, _) = split(path)?;
            self.inject("stage", path)?;
            let dir = self
                .dir(path, parent, Some(made))?
                .ok_or_else(|| PatchError::Missing(path.to_path_buf()))?;
            let tmp = scratch_name(path, "new");
            let (_, tmp_name) = split(&tmp)?;
            let flags =
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            // 0o666 less the umask, as any new file; an existing file's mode is copied after.
            let fd = rustix::fs::openat(&dir, tmp_name, flags, Mode::from_raw_mode(0o666))
                .map_err(|e| refusal(path, e))?;
            if let Some(mode) = mode {
                // Permission bits fit mode_t everywhere; anything else leaves the file 0600.
                let mode = rustix::fs::RawMode::try_from(mode & 0o777)
                    .map_or(Mode::RUSR | Mode::WUSR, Mode::from_raw_mode);
                rustix::fs::fchmod(&fd, mode).map_err(|e| io_err(path)(e.into()))?;
            }
            let mut file = std::fs::File::from(fd);
            file.write_all(contents.as_bytes())
                .and_then(|()| file.flush())
                .map_err(io_err(path))?;
            Ok(tmp)
        }

        /// Whether anything (a link included) is at `path`.
        pub(crate) fn exists(&self, path: &Path) -> Result<bool, PatchError> {
            let (parent, name) = split(path)?;
            let Some(dir) = self.dir(path, parent, None)? else {
                return Ok(false);
            };
            match rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(_) => Ok(true),
                Err(Errno::NOENT) => Ok(false),
                Err(e) => Err(io_err(path)(e.into())),
            }
        }

        /// Renames `from` to `to`, both in the same folder (a rename never follows a link).
        pub(crate) fn rename(&self, from: &Path, to: &Path) -> Result<(), PatchError> {
            let (parent, from_name) = split(from)?;
            let (_, to_name) = split(to)?;
            let dir = self
                .dir(from, parent, None)?
                .ok_or_else(|| PatchError::Missing(from.to_path_buf()))?;
            rustix::fs::renameat(&dir, from_name, &dir, to_name).map_err(|e| io_err(from)(e.into()))
        }

        /// Moves `path` aside to a fresh scratch name, returning it.
        pub(crate) fn set_aside(&self, path: &Path) -> Result<PathBuf, PatchError> {
            self.inject("set_aside", path)?;
            let backup = scratch_name(path, "old");
            self.rename(path, &backup)?;
            Ok(backup)
        }

        /// Removes the file (or, with `dir`, the empty folder) at `path`.
        pub(crate) fn remove(&self, path: &Path, dir: bool) -> Result<(), PatchError> {
            let (parent, name) = split(path)?;
            let Some(fd) = self.dir(path, parent, None)? else {
                return Ok(());
            };
            let flags = if dir {
                AtFlags::REMOVEDIR
            } else {
                AtFlags::empty()
            };
            rustix::fs::unlinkat(&fd, name, flags).map_err(|e| io_err(path)(e.into()))
        }
    }

    /// A link where a folder or file was expected leads outside the root; anything else is an
    /// I/O error.
    fn refusal(path: &Path, e: Errno) -> PatchError {
        if e == Errno::LOOP || e == Errno::NOTDIR {
            PatchError::OutsideRoot(path.to_path_buf())
        } else {
            io_err(path)(e.into())
        }
    }
}

#[cfg(not(unix))]
mod plain {
    use super::*;

    /// The root, by path.
    pub(crate) struct Tree {
        root: PathBuf,
    }

    impl Tree {
        pub(crate) fn open(root: &Path) -> Result<Tree, PatchError> {
            Ok(Tree {
                root: root.to_path_buf(),
            })
        }

        fn no_links(&self, path: &Path) -> Result<(), PatchError> {
            let mut at = self.root.clone();
            for part in normal_components(path) {
                at.push(part);
                match std::fs::symlink_metadata(&at) {
                    Ok(m) if m.file_type().is_symlink() => {
                        return Err(PatchError::OutsideRoot(path.to_path_buf()));
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            Ok(())
        }

        pub(crate) fn read(&self, path: &Path) -> Result<Option<Original>, PatchError> {
            self.no_links(path)?;
            match std::fs::read_to_string(self.root.join(path)) {
                Ok(text) => Ok(Some(Original { text, mode: None })),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(io_err(path)(e)),
            }
        }

        pub(crate) fn stage(
            &self,
            path: &Path,
            contents: &str,
            _mode: Option<u32>,
            made: &mut Vec<PathBuf>,
        ) -> Result<PathBuf, PatchError> {
            self.no_links(path)?;
            let (parent, _) = split(path)?;
            let mut at = PathBuf::new();
            for part in normal_components(parent) {
                at.push(part);
                if !self.root.join(&at).exists() {
                    std::fs::create_dir(self.root.join(&at)).map_err(io_err(path))?;
                    made.push(at.clone());
                }
            }
            let tmp = scratch_name(path, "new");
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(self.root.join(&tmp))
                .map_err(io_err(path))?;
            file.write_all(contents.as_bytes()).map_err(io_err(path))?;
            Ok(tmp)
        }

        pub(crate) fn exists(&self, path: &Path) -> Result<bool, PatchError> {
            Ok(std::fs::symlink_metadata(self.root.join(path)).is_ok())
        }

        pub(crate) fn rename(&self, from: &Path, to: &Path) -> Result<(), PatchError> {
            std::fs::rename(self.root.join(from), self.root.join(to)).map_err(io_err(from))
        }

        pub(crate) fn set_aside(&self, path: &Path) -> Result<PathBuf, PatchError> {
            let backup = scratch_name(path, "old");
            self.rename(path, &backup)?;
            Ok(backup)
        }

        pub(crate) fn remove(&self, path: &Path, dir: bool) -> Result<(), PatchError> {
            let full = self.root.join(path);
            if dir {
                std::fs::remove_dir(full)
            } else {
                std::fs::remove_file(full)
            }
            .map_err(io_err(path))
        }
    }
}
