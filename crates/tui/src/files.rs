//! The candidate paths for `@` file mentions in the composer.
//!
//! In a git work tree git already knows which files matter (tracked plus untracked but not
//! ignored), and asking it is far faster than walking a large tree. Anywhere else, or when git
//! is missing or fails, a plain directory walk skips the usual noise (hidden entries, build
//! output, dependencies). Listing is best effort: an unreadable directory just means fewer
//! candidates, never an error the user has to see.

use std::collections::VecDeque;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Directory names the fallback walk never enters: build output and installed dependencies,
/// which can hold more files than the project itself and are never what the user means.
const SKIPPED_DIRS: &[&str] = &["target", "node_modules"];

/// Files under `root` for @ mentions, relative paths with `/`, sorted, at most `limit`.
pub fn list(root: &Path, limit: usize) -> Vec<String> {
    if limit == 0 {
        return Vec::new();
    }
    match git_files(root) {
        Some(mut files) => {
            files.sort_unstable();
            files.dedup();
            // `--cached` still lists files deleted from the work tree, and submodules show up as
            // one entry that is a directory; neither can be mentioned. Checking only as many as
            // needed keeps this cheap in huge repositories.
            files
                .into_iter()
                .filter(|path| fs::symlink_metadata(root.join(path)).is_ok_and(|m| !m.is_dir()))
                .take(limit)
                .collect()
        }
        None => {
            let mut files = walk(root, limit);
            files.sort_unstable();
            files
        }
    }
}

/// Tracked and untracked-but-not-ignored files according to git, or `None` when `root` is not in
/// a work tree or git cannot be run.
fn git_files(root: &Path) -> Option<Vec<String>> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "-z",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Some(
        output
            .stdout
            .split(|&b| b == 0)
            .filter(|entry| !entry.is_empty())
            // A path that is not UTF-8 could not be typed in the composer or round-trip through
            // the prompt, so it is left out rather than mangled.
            .filter_map(|entry| std::str::from_utf8(entry).ok())
            .map(str::to_string)
            .collect(),
    )
}

/// Breadth-first walk, so that when `limit` cuts it short the files kept are the shallow ones a
/// user is most likely to mention. Entries are visited in name order so the cut is stable.
fn walk(root: &Path, limit: usize) -> Vec<String> {
    let mut files = Vec::new();
    let mut queue: VecDeque<(PathBuf, String)> = VecDeque::new();
    queue.push_back((root.to_path_buf(), String::new()));
    while let Some((dir, prefix)) = queue.pop_front() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<(String, fs::DirEntry)> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                Some((name, entry))
            })
            .filter(|(name, _)| !name.starts_with('.'))
            .collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (name, entry) in entries {
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let relative = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            if file_type.is_dir() {
                if !SKIPPED_DIRS.contains(&name.as_str()) {
                    queue.push_back((entry.path(), relative));
                }
                continue;
            }
            if file_type.is_symlink() {
                // Following directory links could loop or leave the project; a link to a file
                // is still a file the user can mention. Dangling links are neither.
                match fs::metadata(entry.path()) {
                    Ok(target) if !target.is_dir() => {}
                    _ => continue,
                }
            }
            files.push(relative);
            if files.len() >= limit {
                return files;
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory removed on drop, unique per test and per test process.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("codex-tui-files-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).expect("create temp dir");
            Self(path)
        }

        fn write(&self, relative: &str) {
            let path = self.0.join(relative);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).expect("create parent");
            }
            fs::write(path, relative).expect("write file");
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn git_available() -> bool {
        Command::new("git")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    #[test]
    fn walk_skips_hidden_build_and_dependency_dirs() {
        let dir = TempDir::new("walk");
        for file in [
            "README.md",
            "src/main.rs",
            "src/deep/nested/mod.rs",
            ".env",
            ".git/config",
            "src/.hidden/x.rs",
            "target/debug/out",
            "node_modules/pkg/index.js",
            "docs/target.md",
        ] {
            dir.write(file);
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.0.join("src"), dir.0.join("linked-dir"))
                .expect("symlink dir");
            std::os::unix::fs::symlink(dir.0.join("README.md"), dir.0.join("linked.md"))
                .expect("symlink file");
            std::os::unix::fs::symlink(dir.0.join("missing"), dir.0.join("dangling"))
                .expect("symlink dangling");
        }
        let mut files = walk(&dir.0, 100);
        files.sort();
        let mut expected = vec![
            "README.md",
            "docs/target.md",
            "src/deep/nested/mod.rs",
            "src/main.rs",
        ];
        if cfg!(unix) {
            expected.push("linked.md");
            expected.sort_unstable();
        }
        assert_eq!(files, expected);
    }

    #[test]
    fn walk_stops_at_the_limit_keeping_shallow_files() {
        let dir = TempDir::new("limit");
        for file in ["a/deep.rs", "b.rs", "c.rs", "d/e/f.rs"] {
            dir.write(file);
        }
        assert_eq!(walk(&dir.0, 2), vec!["b.rs", "c.rs"]);
        assert!(walk(&dir.0.join("does-not-exist"), 10).is_empty());
        assert!(list(&dir.0, 0).is_empty());
    }

    #[test]
    fn git_work_tree_lists_tracked_and_untracked_but_not_ignored() {
        if !git_available() {
            eprintln!("git not on PATH; skipping");
            return;
        }
        let dir = TempDir::new("git");
        let status = Command::new("git")
            .arg("-C")
            .arg(&dir.0)
            .args(["init", "-q"])
            .status()
            .expect("run git init");
        assert!(status.success());
        fs::write(dir.0.join(".gitignore"), "ignored.txt\nbuild/\n").expect("write .gitignore");
        for file in [
            "src/lib.rs",
            "Cargo.toml",
            "ignored.txt",
            "build/out.o",
            // The walk would skip this hidden dir; in a work tree git decides what matters.
            ".github/ci.yml",
        ] {
            dir.write(file);
        }
        let files = list(&dir.0, 100);
        assert_eq!(
            files,
            vec![".github/ci.yml", ".gitignore", "Cargo.toml", "src/lib.rs"]
        );
        assert_eq!(list(&dir.0, 2), vec![".github/ci.yml", ".gitignore"]);
    }
}
