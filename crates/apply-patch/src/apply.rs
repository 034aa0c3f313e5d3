//! Applying a [`Patch`] all or nothing: plan every file's final contents in memory, stage them
//! beside their targets, then swap them in with renames, keeping each replaced or deleted file
//! until the whole patch is in, so a failure part way puts everything back.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

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
    Ok(diffs(&plan(patch, root)?))
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
    let plan = plan(patch, root)?;
    commit(&plan, root)?;
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
}

fn plan(patch: &Patch, root: &Path) -> Result<BTreeMap<PathBuf, Final>, PatchError> {
    let mut files: BTreeMap<PathBuf, Final> = BTreeMap::new();
    fn current<'a>(
        files: &'a mut BTreeMap<PathBuf, Final>,
        root: &Path,
        path: &Path,
    ) -> Result<&'a mut Final, PatchError> {
        checked(root, path)?;
        if !files.contains_key(path) {
            let full = root.join(path);
            let contents = match std::fs::read_to_string(&full) {
                Ok(s) => Some(s),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(source) => {
                    return Err(PatchError::Io {
                        path: path.to_path_buf(),
                        source,
                    });
                }
            };
            files.insert(
                path.to_path_buf(),
                Final {
                    original: contents.clone(),
                    contents,
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

/// `path` is relative, stays inside `root`, and no existing part of it is a symlink (which
/// could lead out of `root`).
fn checked(root: &Path, path: &Path) -> Result<(), PatchError> {
    let outside = || PatchError::OutsideRoot(path.to_path_buf());
    if path.as_os_str().is_empty()
        || path
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(outside());
    }
    let mut at = root.to_path_buf();
    for c in path.components() {
        at.push(c);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => return Err(outside()),
            Ok(_) => {}
            Err(_) => break,
        }
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
fn commit(plan: &BTreeMap<PathBuf, Final>, root: &Path) -> Result<(), PatchError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PatchError::Io { path, source }
    };
    let tag = format!(".codex-patch-{}", std::process::id());
    let mut staged = Vec::new();
    let mut made_dirs = Vec::new();
    let stage = |staged: &mut Vec<(PathBuf, PathBuf)>, made: &mut Vec<PathBuf>| {
        for (path, f) in plan {
            let Some(contents) = &f.contents else {
                continue;
            };
            // Unchanged (e.g. updated back to what it was): leave the file alone.
            if f.original.as_ref() == Some(contents) {
                continue;
            }
            let target = root.join(path);
            if let Some(parent) = target.parent() {
                let mut missing = Vec::new();
                let mut p = parent.to_path_buf();
                while !p.exists() {
                    missing.push(p.clone());
                    if !p.pop() {
                        break;
                    }
                }
                std::fs::create_dir_all(parent).map_err(io(path))?;
                made.extend(missing.into_iter().rev());
            }
            let tmp = sibling(&target, &format!("{tag}.new"));
            std::fs::write(&tmp, contents).map_err(io(path))?;
            if let Ok(meta) = std::fs::metadata(&target) {
                // Keep the file's mode (an executable script stays executable).
                let _ = std::fs::set_permissions(&tmp, meta.permissions());
            }
            staged.push((tmp, target));
        }
        Ok::<(), PatchError>(())
    };
    // Removes the staged files and the folders made for them.
    let unstage = |staged: &[(PathBuf, PathBuf)], made_dirs: &[PathBuf]| {
        for (tmp, _) in staged {
            let _ = std::fs::remove_file(tmp);
        }
        for d in made_dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    };
    if let Err(e) = stage(&mut staged, &mut made_dirs) {
        unstage(&staged, &made_dirs);
        return Err(e);
    }
    // Swap: each replaced or deleted file is first renamed aside, so it can come back.
    let mut done: Vec<(PathBuf, Option<PathBuf>)> = Vec::new(); // (target, its backup)
    let mut swap = || {
        for (tmp, target) in &staged {
            let backup = if target.exists() {
                let b = sibling(target, &format!("{tag}.old"));
                std::fs::rename(target, &b).map_err(io(target))?;
                Some(b)
            } else {
                None
            };
            done.push((target.clone(), backup));
            std::fs::rename(tmp, target).map_err(io(target))?;
        }
        for (path, f) in plan {
            if f.original.is_some() && f.contents.is_none() {
                let target = root.join(path);
                let b = sibling(&target, &format!("{tag}.old"));
                std::fs::rename(&target, &b).map_err(io(path))?;
                done.push((target, Some(b)));
            }
        }
        Ok::<(), PatchError>(())
    };
    let result = swap();
    if result.is_err() {
        for (target, backup) in done.iter().rev() {
            match backup {
                Some(b) => {
                    let _ = std::fs::rename(b, target);
                }
                None => {
                    let _ = std::fs::remove_file(target);
                }
            }
        }
        unstage(&staged, &made_dirs);
        return result;
    }
    for (_, backup) in &done {
        if let Some(b) = backup {
            let _ = std::fs::remove_file(b);
        }
    }
    Ok(())
}

/// `dir/.name<suffix>` beside `path`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}{suffix}"))
}
