//! Project context: the `AGENTS.md` files from the repository root down to the working
//! directory, outermost first, so that instructions nearer the code come last and win.

use std::path::{Path, PathBuf};

/// The file name looked for in each directory.
pub const FILE_NAME: &str = "AGENTS.md";
/// At most this many bytes of project docs in all (the rest is cut, with a note).
pub const MAX_BYTES: usize = 32 * 1024;

/// The `AGENTS.md` files that apply to `cwd`, outermost first. The repository root is the
/// nearest ancestor with a `.git`; outside a repository only `cwd` itself is looked at.
pub fn discover(cwd: &Path) -> Vec<PathBuf> {
    let root = cwd
        .ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(cwd);
    let mut dirs: Vec<&Path> = cwd
        .ancestors()
        .take_while(|d| d.starts_with(root))
        .collect();
    dirs.reverse();
    dirs.into_iter()
        .map(|d| d.join(FILE_NAME))
        .filter(|f| f.is_file())
        .collect()
}

/// The instructions text made of the files [`discover`] finds, each under a heading naming its
/// path; `None` when there are none.
pub fn instructions(cwd: &Path) -> std::io::Result<Option<String>> {
    let files = discover(cwd);
    if files.is_empty() {
        return Ok(None);
    }
    let mut out = String::new();
    for f in &files {
        let text = std::fs::read_to_string(f)?;
        out.push_str(&format!("--- project doc: {} ---\n", f.display()));
        out.push_str(text.trim_end());
        out.push_str("\n\n");
    }
    if out.len() > MAX_BYTES {
        let mut cut = MAX_BYTES;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("\n[project docs cut at 32 KiB]\n");
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_from_the_repository_root_down_to_the_cwd_in_that_order() {
        let t = tempfile::tempdir().expect("tempdir");
        let repo = t.path().join("repo");
        let deep = repo.join("a/b");
        std::fs::create_dir_all(&deep).expect("mkdir");
        std::fs::create_dir(repo.join(".git")).expect("git");
        std::fs::write(t.path().join(FILE_NAME), "outside the repo").expect("write");
        std::fs::write(repo.join(FILE_NAME), "root rules").expect("write");
        std::fs::write(deep.join(FILE_NAME), "deep rules").expect("write");
        assert_eq!(
            discover(&deep),
            vec![repo.join(FILE_NAME), deep.join(FILE_NAME)]
        );
        let text = instructions(&deep).expect("read").expect("some");
        let (root, deep_at) = (
            text.find("root rules").expect("root"),
            text.find("deep rules").expect("deep"),
        );
        assert!(root < deep_at, "{text}");
        assert!(!text.contains("outside the repo"), "{text}");
    }

    #[test]
    fn outside_a_repository_only_the_cwd_counts() {
        let t = tempfile::tempdir().expect("tempdir");
        let sub = t.path().join("sub");
        std::fs::create_dir(&sub).expect("mkdir");
        std::fs::write(t.path().join(FILE_NAME), "parent").expect("write");
        assert!(discover(&sub).is_empty());
        std::fs::write(sub.join(FILE_NAME), "here").expect("write");
        assert_eq!(discover(&sub), vec![sub.join(FILE_NAME)]);
    }
}
