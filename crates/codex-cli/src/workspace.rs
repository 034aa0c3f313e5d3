//! Where `codex exec` may run, and what its commands may write besides the workspace: the
//! git-or-trusted check that `--skip-git-repo-check` lifts, and the `--add-dir` roots.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use codex_config::{Config, SandboxMode};

/// Whether `dir` is inside a git work tree: it or a parent holds `.git` (a directory, or the
/// file a linked worktree or submodule has).
pub(crate) fn in_git_work_tree(dir: &Path) -> bool {
    dir.ancestors().any(|d| d.join(".git").exists())
}

/// Refuses a directory that is neither in a git work tree nor a trusted project, as Codex
/// 0.169 does: an agent let loose where nothing is under version control cannot be undone.
pub(crate) fn check_git_or_trusted(cwd: &Path, config: &Config) -> Result<()> {
    if in_git_work_tree(cwd) || config.is_trusted_project(cwd) {
        return Ok(());
    }
    bail!(
        "not inside a trusted directory and --skip-git-repo-check was not specified: run in a git repository, \
         pass --skip-git-repo-check, or mark {} trusted in config.toml ([projects.\"PATH\"] trust_level = \"trusted\")",
        cwd.display()
    )
}

/// Adds the `--add-dir` directories to the writable roots. Under read-only they are ignored,
/// with the warning returned (as in 0.169); danger-full-access writes everywhere anyway. A
/// directory that does not exist is an error: a typo should not silently grant nothing.
pub(crate) fn add_dirs(dirs: &[PathBuf], config: &mut Config) -> Result<Option<String>> {
    if dirs.is_empty() {
        return Ok(None);
    }
    let mut resolved = Vec::with_capacity(dirs.len());
    for d in dirs {
        match std::fs::canonicalize(d) {
            Ok(p) if p.is_dir() => resolved.push(p),
            _ => bail!(
                "--add-dir {}: no such directory; create it or fix the path",
                d.display()
            ),
        }
    }
    match config.sandbox_mode {
        SandboxMode::WorkspaceWrite => config
            .sandbox_workspace_write
            .writable_roots
            .extend(resolved),
        SandboxMode::ReadOnly => {
            let list: Vec<String> = resolved.iter().map(|p| p.display().to_string()).collect();
            return Ok(Some(format!(
                "warning: ignoring --add-dir ({}) because the effective permissions do not allow additional \
                 writable roots. Switch to workspace-write or danger-full-access to allow them.",
                list.join(", ")
            )));
        }
        SandboxMode::DangerFullAccess => {}
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_git_dir_anywhere_above_makes_a_work_tree() {
        let d = tempfile::tempdir().expect("dir");
        let sub = d.path().join("a/b");
        std::fs::create_dir_all(&sub).expect("sub");
        assert!(!in_git_work_tree(&sub));
        std::fs::write(d.path().join(".git"), "gitdir: elsewhere\n").expect(".git file");
        assert!(in_git_work_tree(&sub));
    }
}
