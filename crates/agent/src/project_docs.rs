//! Project context: the `AGENTS.md` files from the repository root down to the working
//! directory, outermost first, so that instructions nearer the code come last and win; and the
//! user's own `$CODEX_HOME/AGENTS.md`, which applies everywhere.
//!
//! As in Codex 0.169, a folder's `AGENTS.override.md` is read instead of its `AGENTS.md`, and a
//! folder with neither is tried for each `project_doc_fallback_filenames` name in turn; the
//! project's files share `project_doc_max_bytes` (`0`: none are read).

use std::path::{Path, PathBuf};

/// The file name looked for in each directory.
pub const FILE_NAME: &str = "AGENTS.md";
/// Read instead of [`FILE_NAME`] in the same directory (and in `$CODEX_HOME`).
pub const OVERRIDE_FILE_NAME: &str = "AGENTS.override.md";
/// At most this many bytes of project docs in all (the rest is cut, with a note), unless
/// `project_doc_max_bytes` says otherwise.
pub const MAX_BYTES: usize = 32 * 1024;

/// Which files are read, and how much of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocOptions {
    /// `project_doc_max_bytes`.
    pub max_bytes: usize,
    /// `project_doc_fallback_filenames`.
    pub fallback_filenames: Vec<String>,
    /// Where the user's global AGENTS.md is looked for (`$CODEX_HOME`); `None`: nowhere.
    pub codex_home: Option<PathBuf>,
}

impl Default for DocOptions {
    fn default() -> Self {
        DocOptions {
            max_bytes: MAX_BYTES,
            fallback_filenames: Vec::new(),
            codex_home: None,
        }
    }
}

/// The file read in `dir`: AGENTS.override.md, else AGENTS.md, else the first fallback name
/// that exists.
fn doc_in(dir: &Path, fallbacks: &[String]) -> Option<PathBuf> {
    [OVERRIDE_FILE_NAME, FILE_NAME]
        .into_iter()
        .chain(fallbacks.iter().map(String::as_str))
        .filter(|name| !name.is_empty())
        .map(|name| dir.join(name))
        .find(|f| f.is_file())
}

/// The `AGENTS.md` files that apply to `cwd`, outermost first. The repository root is the
/// nearest ancestor with a `.git`; outside a repository only `cwd` itself is looked at.
pub fn discover(cwd: &Path) -> Vec<PathBuf> {
    discover_with(cwd, &[])
}

/// [`discover`], with the fallback names tried where a folder has no AGENTS.md.
pub fn discover_with(cwd: &Path, fallbacks: &[String]) -> Vec<PathBuf> {
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
        .filter_map(|d| doc_in(d, fallbacks))
        .collect()
}

/// The user's global instructions: `$CODEX_HOME/AGENTS.override.md`, else
/// `$CODEX_HOME/AGENTS.md`; `None` when neither exists or it is empty.
pub fn global_instructions(codex_home: &Path) -> std::io::Result<Option<String>> {
    let Some(file) = doc_in(codex_home, &[]) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&file)?;
    let text = text.trim();
    Ok((!text.is_empty()).then(|| text.to_string()))
}

/// The instructions text made of the files [`discover`] finds, each under a heading naming its
/// path; `None` when there are none.
pub fn instructions(cwd: &Path) -> std::io::Result<Option<String>> {
    instructions_with(cwd, &DocOptions::default())
}

/// [`instructions`] under `options` (the global file is not part of it: see
/// [`global_instructions`]).
pub fn instructions_with(cwd: &Path, options: &DocOptions) -> std::io::Result<Option<String>> {
    if options.max_bytes == 0 {
        return Ok(None);
    }
    let files = discover_with(cwd, &options.fallback_filenames);
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
    if out.len() > options.max_bytes {
        let mut cut = options.max_bytes;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str(&format!(
            "\n[project docs cut at {} bytes (project_doc_max_bytes)]\n",
            options.max_bytes
        ));
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
    fn an_override_wins_over_agents_md_and_fallbacks_fill_folders_without_either() {
        let t = tempfile::tempdir().expect("tempdir");
        let repo = t.path();
        let deep = repo.join("a");
        std::fs::create_dir_all(&deep).expect("mkdir");
        std::fs::create_dir(repo.join(".git")).expect("git");
        std::fs::write(repo.join(FILE_NAME), "plain").expect("write");
        std::fs::write(repo.join(OVERRIDE_FILE_NAME), "override").expect("write");
        std::fs::write(deep.join("CLAUDE.md"), "fallback").expect("write");
        let fallbacks = vec!["NOPE.md".to_string(), "CLAUDE.md".to_string()];
        assert_eq!(
            discover_with(&deep, &fallbacks),
            vec![repo.join(OVERRIDE_FILE_NAME), deep.join("CLAUDE.md")]
        );
        assert_eq!(discover(&deep), vec![repo.join(OVERRIDE_FILE_NAME)]);
        let options = DocOptions {
            max_bytes: 60,
            fallback_filenames: fallbacks,
            codex_home: None,
        };
        let text = instructions_with(&deep, &options)
            .expect("read")
            .expect("some");
        assert!(text.contains("(project_doc_max_bytes)"), "{text}");
        let none = DocOptions {
            max_bytes: 0,
            ..options
        };
        assert_eq!(instructions_with(&deep, &none).expect("read"), None);
    }

    #[test]
    fn the_global_file_prefers_its_override() {
        let t = tempfile::tempdir().expect("tempdir");
        assert_eq!(global_instructions(t.path()).expect("read"), None);
        std::fs::write(t.path().join(FILE_NAME), "global\n").expect("write");
        assert_eq!(
            global_instructions(t.path()).expect("read").as_deref(),
            Some("global")
        );
        std::fs::write(t.path().join(OVERRIDE_FILE_NAME), "global override").expect("write");
        assert_eq!(
            global_instructions(t.path()).expect("read").as_deref(),
            Some("global override")
        );
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
