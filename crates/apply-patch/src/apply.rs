//! Applying a [`Patch`] all or nothing: plan every file's final contents in memory, stage them
//! beside their targets, then swap them in with renames, keeping each replaced or deleted file
//! until the whole patch is in, so a failure part way puts everything back.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::tree::Tree;
use crate::{Change, FileOp, Patch, PatchError};

/// What a patch changed, by path relative to the root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Files created (including a moved file's new path).
    pub added: Vec<PathBuf>,
    /// Files changed in place.
    pub modified: Vec<PathBuf>,
    /// Files removed (including a moved file's old path).
    pub deleted: Vec<PathBuf>,
    /// Each changed file's diff, by path.
    pub diffs: Vec<FileDiff>,
}

/// One file as a patch would leave it, for showing the change before (approval) and after it
/// is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    /// Relative to the root.
    pub path: PathBuf,
    /// `add`, `update` or `delete`.
    pub kind: &'static str,
    /// A unified diff of the file (`--- a/PATH`, `+++ b/PATH`, hunks with 3 lines of context).
    pub unified: String,
}

/// What `patch` would do to the files under `root`, changing nothing: every file it touches,
/// with its diff. Fails exactly when [`apply`] would.
pub fn preview(patch: &Patch, root: &Path) -> Result<Vec<FileDiff>, PatchError> {
    Ok(diffs(&plan(patch, &Tree::open(root)?)?))
}

fn diffs(plan: &BTreeMap<PathBuf, Final>) -> Vec<FileDiff> {
    plan.iter()
        .filter_map(|(path, f)| {
            let kind = match (&f.original, &f.contents) {
                (None, Some(_)) => "add",
                (Some(a), Some(b)) if a != b => "update",
                (Some(_), None) => "delete",
                _ => return None,
            };
            let before = f.original.as_deref().unwrap_or("");
            let after = f.contents.as_deref().unwrap_or("");
            let shown = path.display().to_string().replace('\\', "/");
            let unified = similar::TextDiff::from_lines(before, after)
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{shown}"), &format!("b/{shown}"))
                .to_string();
            Some(FileDiff {
                path: path.clone(),
                kind,
                unified,
            })
        })
        .collect()
}

/// Applies `patch` to the files under `root`. On error nothing under `root` has changed.
pub fn apply(patch: &Patch, root: &Path) -> Result<Applied, PatchError> {
    let tree = Tree::open(root)?;
    let plan = plan(patch, &tree)?;
    commit(&plan, &tree)?;
    let mut applied = Applied::default();
    for (path, f) in &plan {
        match (&f.original, &f.contents) {
            (None, Some(_)) => applied.added.push(path.clone()),
            (Some(_), Some(_)) => applied.modified.push(path.clone()),
            (Some(_), None) => applied.deleted.push(path.clone()),
            (None, None) => {}
        }
    }
    applied.diffs = diffs(&plan);
    Ok(applied)
}

/// A file before and after the patch; `None` means absent.
struct Final {
    original: Option<String>,
    contents: Option<String>,
    /// The original's permission bits, which the new version keeps (an executable script stays
    /// executable).
    mode: Option<u32>,
}

fn plan(patch: &Patch, root: &Tree) -> Result<BTreeMap<PathBuf, Final>, PatchError> {
    let mut files: BTreeMap<PathBuf, Final> = BTreeMap::new();
    fn current<'a>(
        files: &'a mut BTreeMap<PathBuf, Final>,
        root: &Tree,
        path: &Path,
    ) -> Result<&'a mut Final, PatchError> {
        checked(path)?;
        if !files.contains_key(path) {
            let original = root.read(path)?;
            let mode = original.as_ref().and_then(|o| o.mode);
            let contents = original.map(|o| o.text);
            files.insert(
                path.to_path_buf(),
                Final {
                    original: contents.clone(),
                    contents,
                    mode,
                },
            );
        }
        Ok(files.get_mut(path).expect("inserted above"))
    }
    for op in &patch.ops {
        match op {
            FileOp::Add { path, contents } => {
                let f = current(&mut files, root, path)?;
                if f.contents.is_some() {
                    return Err(PatchError::Exists(path.clone()));
                }
                f.contents = Some(contents.clone());
            }
            FileOp::Delete { path } => {
                let f = current(&mut files, root, path)?;
                if f.contents.take().is_none() {
                    return Err(PatchError::Missing(path.clone()));
                }
            }
            FileOp::Update {
                path,
                move_to,
                changes,
            } => {
                let f = current(&mut files, root, path)?;
                let Some(old) = f.contents.as_deref() else {
                    return Err(PatchError::Missing(path.clone()));
                };
                let new = update(path, old, changes)?;
                match move_to.as_ref().filter(|to| *to != path) {
                    None => f.contents = Some(new),
                    Some(to) => {
                        f.contents = None;
                        let t = current(&mut files, root, to)?;
                        if t.contents.is_some() {
                            return Err(PatchError::Exists(to.clone()));
                        }
                        t.contents = Some(new);
                    }
                }
            }
        }
    }
    Ok(files)
}

/// `path` is relative and cannot climb out of the root. (Links are refused where the path is
/// resolved, by [`Tree`].)
fn checked(path: &Path) -> Result<(), PatchError> {
    let outside = || PatchError::OutsideRoot(path.to_path_buf());
    if path.as_os_str().is_empty()
        || path
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(outside());
    }
    Ok(())
}

/// The file's text after `changes`.
fn update(path: &Path, text: &str, changes: &[Change]) -> Result<String, PatchError> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut from = 0;
    for change in changes {
        let no_match = || PatchError::NoMatch {
            path: path.to_path_buf(),
            anchor: change
                .anchor
                .as_ref()
                .map(|a| format!(" after {a:?}"))
                .unwrap_or_default(),
            lines: change
                .old
                .iter()
                .map(|l| format!("  {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
        };
        if let Some(anchor) = &change.anchor {
            let at = (from..lines.len())
                .find(|&i| lines[i].trim() == anchor.trim())
                .ok_or_else(no_match)?;
            from = at + 1;
        }
        let at = if change.old.is_empty() {
            // Pure insertion: after the anchor, or at the end.
            if change.anchor.is_some() {
                from
            } else {
                lines.len()
            }
        } else {
            find(&lines, &change.old, from, change.at_end).ok_or_else(no_match)?
        };
        lines.splice(at..at + change.old.len(), change.new.iter().cloned());
        from = at + change.new.len();
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

/// Where `want` starts in `lines` at or after `from`: exact first, then ignoring trailing and
/// then surrounding whitespace (models often get indentation or line ends slightly wrong).
fn find(lines: &[String], want: &[String], from: usize, at_end: bool) -> Option<usize> {
    if want.len() > lines.len() {
        return None;
    }
    let last = lines.len() - want.len();
    let norms: [fn(&str) -> &str; 3] = [|s| s, str::trim_end, str::trim];
    for norm in norms {
        let matches = |i: usize| (0..want.len()).all(|k| norm(&lines[i + k]) == norm(&want[k]));
        if at_end {
            if last >= from && matches(last) {
                return Some(last);
            }
            continue;
        }
        if let Some(i) = (from..=last).find(|&i| matches(i)) {
            return Some(i);
        }
    }
    None
}

/// Stages every new file, then swaps them in; on any failure undoes what was done.
fn commit(plan: &BTreeMap<PathBuf, Final>, tree: &Tree) -> Result<(), PatchError> {
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new(); // (scratch file, target)
    let mut made_dirs = Vec::new();
    let mut stage = || {
        for (path, f) in plan {
            let Some(contents) = &f.contents else {
                continue;
            };
            // Unchanged (e.g. updated back to what it was): leave the file alone.
            if f.original.as_ref() == Some(contents) {
                continue;
            }
            let tmp = tree.stage(path, contents, f.mode, &mut made_dirs)?;
            staged.push((tmp, path.clone()));
        }
        Ok::<(), PatchError>(())
    };
    let staging = stage();
    // Removes the staged files and the folders made for them.
    let unstage = |staged: &[(PathBuf, PathBuf)], made_dirs: &[PathBuf]| {
        for (tmp, _) in staged {
            let _ = tree.remove(tmp, false);
        }
        for d in made_dirs.iter().rev() {
            let _ = tree.remove(d, true);
        }
    };
    if let Err(e) = staging {
        unstage(&staged, &made_dirs);
        return Err(e);
    }
    // Swap: each replaced or deleted file is first renamed aside, so it can come back.
    let mut done: Vec<(PathBuf, Option<PathBuf>)> = Vec::new(); // (target, its backup)
    let mut swap = || {
        for (tmp, target) in &staged {
            let backup = if tree.exists(target)? {
                Some(tree.set_aside(target)?)
            } else {
                None
            };
            done.push((target.clone(), backup));
            tree.rename(tmp, target)?;
        }
        for (path, f) in plan {
            if f.original.is_some() && f.contents.is_none() {
                let backup = tree.set_aside(path)?;
                done.push((path.clone(), Some(backup)));
            }
        }
        Ok::<(), PatchError>(())
    };
    let result = swap();
    if result.is_err() {
        for (target, backup) in done.iter().rev() {
            let _ = match backup {
                Some(b) => tree.rename(b, target),
                None => tree.remove(target, false),
            };
        }
        unstage(&staged, &made_dirs);
        return result;
    }
    for (_, backup) in &done {
        if let Some(b) = backup {
            let _ = tree.remove(b, false);
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    const TWO_FILES: &str = "*** Begin Patch
*** Update File: a/one.txt
-1
+one
*** Update File: b/two.txt
-2
+two
*** End Patch";

    /// Every file and folder under `root`, with file contents.
    fn snapshot(root: &Path) -> BTreeMap<PathBuf, Option<String>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).expect("read_dir") {
                let p = e.expect("entry").path();
                let rel = p.strip_prefix(root).expect("under root").to_path_buf();
                if p.is_dir() {
                    stack.push(p);
                    out.insert(rel, None);
                } else {
                    out.insert(rel, Some(std::fs::read_to_string(&p).expect("read")));
                }
            }
        }
        out
    }

    /// Applies TWO_FILES (plus a new file in a new folder) with `op` failing for `path`.
    fn apply_failing(op: &'static str, path: &str) -> (tempfile::TempDir, PatchError) {
        let w = tempfile::tempdir().expect("workspace");
        for (p, text) in [("a/one.txt", "1\n"), ("b/two.txt", "2\n")] {
            let p = w.path().join(p);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        let before = snapshot(w.path());
        let text = TWO_FILES.replace(
            "*** End Patch",
            "*** Add File: new/dir/three.txt\n+3\n*** End Patch",
        );
        let patch = crate::parse(&text).expect("parses");
        let mut tree = Tree::open(w.path()).expect("root");
        tree.fault = Some((op, PathBuf::from(path)));
        let e = plan(&patch, &tree)
            .and_then(|plan| commit(&plan, &tree))
            .expect_err("the injected failure");
        assert_eq!(
            snapshot(w.path()),
            before,
            "{op} {path}: everything put back"
        );
        (w, e)
    }

    #[test]
    fn a_failure_while_staging_changes_nothing() {
        let (_w, e) = apply_failing("stage", "new/dir/three.txt");
        assert!(matches!(e, PatchError::Io { .. }), "{e}");
        let (_w, e) = apply_failing("stage", "b/two.txt");
        assert!(matches!(e, PatchError::Io { .. }), "{e}");
    }

    #[test]
    fn a_failure_while_swapping_files_in_puts_everything_back() {
        // a/one.txt is swapped in first; setting b/two.txt aside then fails.
        let (_w, e) = apply_failing("set_aside", "b/two.txt");
        assert!(matches!(e, PatchError::Io { .. }), "{e}");
    }

    /// The race a sandboxed command can run: between the agent reading the files (planning, and
    /// showing the diff for approval) and writing them, a folder of the patch is swapped for a
    /// link to a folder outside. The writes must not follow it.
    #[test]
    fn a_folder_swapped_for_a_link_after_planning_is_not_followed() {
        let w = tempfile::tempdir().expect("workspace");
        std::fs::create_dir(w.path().join("sub")).expect("sub");
        std::fs::write(w.path().join("sub/f.txt"), "old\n").expect("f");
        let outside = tempfile::tempdir().expect("outside");
        std::fs::write(outside.path().join("f.txt"), "old\n").expect("victim");
        let patch =
            crate::parse("*** Begin Patch\n*** Update File: sub/f.txt\n-old\n+new\n*** End Patch")
                .expect("parses");
        let tree = Tree::open(w.path()).expect("root");
        let plan = plan(&patch, &tree).expect("plans");
        std::fs::rename(w.path().join("sub"), w.path().join("sub.real")).expect("move");
        std::os::unix::fs::symlink(outside.path(), w.path().join("sub")).expect("swap in a link");
        let e = commit(&plan, &tree).expect_err("the link is refused");
        assert!(matches!(e, PatchError::OutsideRoot(_)), "{e}");
        assert_eq!(
            std::fs::read_to_string(outside.path().join("f.txt")).expect("victim"),
            "old\n"
        );
        let left: Vec<_> = std::fs::read_dir(outside.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("f.txt")],
            "nothing staged outside"
        );
    }
}
