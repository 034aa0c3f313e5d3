//! Read-only folders inside the writable roots. Landlock grants a whole tree or nothing, yet some
//! folders of a workspace hold code that runs later outside any sandbox: git runs `.git/hooks/*`
//! and obeys `.git/config` (`core.fsmonitor`, `core.hooksPath`, aliases), and `.codex` and
//! `.agents` configure the agent itself. So, as Codex 0.169 does with bubblewrap, the helper
//! enters a user and mount namespace of its own and bind-mounts each of them read-only over
//! itself before Landlock applies. Landlock then forbids the command every mount and umount, so
//! it cannot take the bind away; a nested namespace gets the mounts locked read-only.

use std::path::{Path, PathBuf};

use rustix::fs::StatVfsMountFlags;
use rustix::mount::{MountFlags, MountPropagationFlags};
use rustix::thread::UnshareFlags;

use crate::READ_ONLY_NAMES;

/// The existing paths under `roots` to make read-only: each [`READ_ONLY_NAMES`] entry, and for a
/// `.git` file (a linked worktree or a submodule) the git folder it names and that folder's
/// common folder, where hooks and config live.
pub(crate) fn protected_paths(roots: &[&Path]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for root in roots {
        for name in READ_ONLY_NAMES {
            let path = root.join(name);
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if *name == ".git" && meta.is_file() {
                out.extend(linked_git_dirs(root, &path));
            }
            out.push(path);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// For a `.git` file holding `gitdir: PATH`, that folder and its `commondir`, where they exist.
fn linked_git_dirs(root: &Path, dot_git: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(text) = std::fs::read_to_string(dot_git) else {
        return out;
    };
    let Some(dir) = text.lines().next().and_then(|l| l.strip_prefix("gitdir:")) else {
        return out;
    };
    let git_dir = root.join(dir.trim());
    if !git_dir.is_dir() {
        return out;
    }
    if let Ok(common) = std::fs::read_to_string(git_dir.join("commondir")) {
        let common = git_dir.join(common.trim());
        if common.is_dir() {
            out.push(common);
        }
    }
    out.push(git_dir);
    out
}

/// Why the folders could not be made read-only.
pub(crate) struct Refused(pub(crate) String);

/// Enters a new user and mount namespace (keeping this process's uid and gid, so the command gets
/// no capabilities when it is exec'd) and makes each of `paths` a read-only bind of itself. Must
/// run before Landlock, which forbids mounting, in a single-threaded process.
pub(crate) fn make_read_only(paths: &[PathBuf]) -> Result<(), Refused> {
    let uid = rustix::process::getuid().as_raw();
    let gid = rustix::process::getgid().as_raw();
    unshare().map_err(|e| {
        Refused(format!(
            "this system does not let unprivileged users create a user namespace ({e}), which the sandbox needs to keep them read-only"
        ))
    })?;
    let step = |what: &str, e: rustix::io::Errno| Refused(format!("{what}: {e}"));
    // Without setgroups denied, an unprivileged process may not write a gid map.
    std::fs::write("/proc/self/setgroups", "deny")
        .map_err(|e| Refused(format!("denying setgroups: {e}")))?;
    std::fs::write("/proc/self/uid_map", format!("{uid} {uid} 1\n"))
        .map_err(|e| Refused(format!("writing the uid map: {e}")))?;
    std::fs::write("/proc/self/gid_map", format!("{gid} {gid} 1\n"))
        .map_err(|e| Refused(format!("writing the gid map: {e}")))?;
    // Nothing done here may reach the user's own mount namespace.
    rustix::mount::mount_change(
        "/",
        MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
    )
    .map_err(|e| step("making the mounts private", e))?;
    for path in paths {
        let shown = path.display();
        rustix::mount::mount_bind_recursive(path, path)
            .map_err(|e| step(&format!("binding {shown}"), e))?;
        // A remount inside a user namespace must keep the flags the mount already has (nosuid,
        // nodev, noexec, atime): the kernel locks them.
        let kept = rustix::fs::statvfs(path)
            .map(|s| kept_flags(s.f_flag))
            .map_err(|e| step(&format!("reading the mount flags of {shown}"), e))?;
        rustix::mount::mount_remount(path, MountFlags::BIND | MountFlags::RDONLY | kept, "")
            .map_err(|e| step(&format!("making {shown} read-only"), e))?;
    }
    Ok(())
}

/// The flags of an existing mount that a bind remount must repeat.
fn kept_flags(has: StatVfsMountFlags) -> MountFlags {
    let pairs = [
        (StatVfsMountFlags::NOSUID, MountFlags::NOSUID),
        (StatVfsMountFlags::NODEV, MountFlags::NODEV),
        (StatVfsMountFlags::NOEXEC, MountFlags::NOEXEC),
        (StatVfsMountFlags::NOATIME, MountFlags::NOATIME),
        (StatVfsMountFlags::NODIRATIME, MountFlags::NODIRATIME),
        (StatVfsMountFlags::RELATIME, MountFlags::RELATIME),
    ];
    pairs
        .into_iter()
        .filter(|(s, _)| has.contains(*s))
        .fold(MountFlags::empty(), |acc, (_, m)| acc | m)
}

#[allow(unsafe_code)]
fn unshare() -> rustix::io::Result<()> {
    // SAFETY: `unshare` is unsafe only for CLONE_FILES and CLONE_FS, which could leave other
    // threads with descriptors or a working directory they no longer share. These flags are
    // neither, and the helper has no other thread (a user namespace needs one thread anyway).
    unsafe { rustix::thread::unshare_unsafe(UnshareFlags::NEWUSER | UnshareFlags::NEWNS) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worktree_protects_the_git_folder_it_points_to_and_its_common_folder() {
        let t = tempfile::tempdir().expect("tempdir");
        let main = t.path().join("main/.git");
        std::fs::create_dir_all(main.join("worktrees/wt")).expect("git dirs");
        std::fs::write(main.join("worktrees/wt/commondir"), "../..\n").expect("commondir");
        let wt = t.path().join("wt");
        std::fs::create_dir_all(wt.join(".codex")).expect("wt");
        std::fs::write(
            wt.join(".git"),
            format!("gitdir: {}\n", main.join("worktrees/wt").display()),
        )
        .expect(".git file");
        let got = protected_paths(&[wt.as_path()]);
        let want = [
            main.join("worktrees/wt/../.."),
            main.join("worktrees/wt"),
            wt.join(".codex"),
            wt.join(".git"),
        ];
        let mut want = want.to_vec();
        want.sort();
        assert_eq!(got, want);
        assert!(
            protected_paths(&[t.path()]).is_empty(),
            "nothing to protect"
        );
    }
}
