//! Patches applied to real directories.

use std::collections::BTreeMap;
use std::path::Path;

use codex_apply_patch::{PatchError, apply, parse};

/// Every file under `root` with its contents.
fn tree(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .expect("under root")
                    .display()
                    .to_string();
                out.insert(rel, std::fs::read_to_string(&p).expect("read"));
            }
        }
    }
    out
}

fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    dir
}

fn run(root: &Path, patch: &str) -> Result<codex_apply_patch::Applied, PatchError> {
    apply(&parse(patch)?, root)
}

#[test]
fn add_update_move_and_delete_in_one_patch() {
    let w = workspace(&[
        ("src/lib.rs", "fn a() {\n    1\n}\n\nfn b() {\n    2\n}\n"),
        ("old.txt", "bye\n"),
        ("notes.md", "one\ntwo\n"),
    ]);
    let applied = run(
        w.path(),
        "*** Begin Patch
*** Add File: docs/hello.txt
+Hello
+world
*** Update File: src/lib.rs
@@ fn b() {
-    2
+    20
*** Update File: notes.md
*** Move to: docs/notes.md
@@
 one
-two
+three
*** Delete File: old.txt
*** End Patch",
    )
    .expect("applies");
    let t = tree(w.path());
    assert_eq!(t["docs/hello.txt"], "Hello\nworld\n");
    assert_eq!(
        t["src/lib.rs"],
        "fn a() {\n    1\n}\n\nfn b() {\n    20\n}\n"
    );
    assert_eq!(t["docs/notes.md"], "one\nthree\n");
    assert!(
        !t.contains_key("old.txt") && !t.contains_key("notes.md"),
        "{t:?}"
    );
    assert_eq!(applied.deleted.len(), 2);
    assert_eq!(applied.added.len(), 2);
    assert_eq!(applied.modified.len(), 1);
}

#[test]
fn a_patch_whose_context_does_not_match_changes_nothing_and_says_why() {
    let w = workspace(&[("a.txt", "alpha\nbeta\n"), ("b.txt", "one\ntwo\n")]);
    let before = tree(w.path());
    let e = run(
        w.path(),
        "*** Begin Patch
*** Add File: new.txt
+new
*** Update File: a.txt
-alpha
+ALPHA
*** Update File: b.txt
 one
-three
+four
*** End Patch",
    )
    .expect_err("b.txt does not match");
    assert_eq!(tree(w.path()), before, "nothing changed, no stray files");
    let msg = e.to_string();
    assert!(
        msg.starts_with("b.txt: these lines were not found"),
        "{msg}"
    );
    assert!(msg.contains("  three"), "{msg}");
}

#[test]
fn context_matches_despite_trailing_whitespace_and_end_of_file_anchors_the_end() {
    let w = workspace(&[("f.txt", "x  \ny\nx\ny\n")]);
    run(
        w.path(),
        "*** Begin Patch
*** Update File: f.txt
@@
 x
-y
+Y
*** End of File
*** End Patch",
    )
    .expect("applies");
    assert_eq!(tree(w.path())["f.txt"], "x  \ny\nx\nY\n");
}

#[test]
fn paths_outside_the_workspace_and_symlinks_are_refused() {
    let w = workspace(&[("in.txt", "a\n")]);
    for path in ["../escape.txt", "/tmp/abs.txt", "a/../../x"] {
        let e = run(
            w.path(),
            &format!("*** Begin Patch\n*** Add File: {path}\n+x\n*** End Patch"),
        )
        .expect_err("outside");
        assert!(matches!(e, PatchError::OutsideRoot(_)), "{path}: {e}");
    }
    #[cfg(unix)]
    {
        let outside = tempfile::tempdir().expect("tempdir");
        std::os::unix::fs::symlink(outside.path(), w.path().join("link")).expect("symlink");
        let e = run(
            w.path(),
            "*** Begin Patch\n*** Add File: link/x.txt\n+x\n*** End Patch",
        )
        .expect_err("through a link");
        assert!(matches!(e, PatchError::OutsideRoot(_)), "{e}");
        assert!(tree(outside.path()).is_empty());
    }
}

#[test]
fn adding_an_existing_file_or_changing_a_missing_one_is_an_error() {
    let w = workspace(&[("a.txt", "a\n")]);
    let e = run(
        w.path(),
        "*** Begin Patch\n*** Add File: a.txt\n+b\n*** End Patch",
    )
    .expect_err("exists");
    assert_eq!(e.to_string(), "a.txt: cannot add a file that exists");
    let e = run(
        w.path(),
        "*** Begin Patch\n*** Delete File: nope.txt\n*** End Patch",
    )
    .expect_err("missing");
    assert_eq!(e.to_string(), "nope.txt: no such file");
    assert_eq!(tree(w.path())["a.txt"], "a\n");
}

const TWO_FILES: &str = "*** Begin Patch
*** Update File: a/one.txt
-1
+one
*** Update File: b/two.txt
-2
+two
*** End Patch";

/// A directory where the patch wants to put a file of its own makes that step fail, as a full
/// disk or a permission problem would (and unlike permissions, also when running as root).
fn block(w: &tempfile::TempDir, name: &str) {
    let path = w.path().join(format!(
        "b/.two.txt.codex-patch-{}.{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(path).expect("mkdir");
}

#[test]
fn a_failure_while_staging_changes_nothing() {
    let w = workspace(&[("a/one.txt", "1\n"), ("b/two.txt", "2\n")]);
    block(&w, "new");
    let before = tree(w.path());
    let e = run(w.path(), TWO_FILES).expect_err("staging b fails");
    assert!(matches!(e, PatchError::Io { .. }), "{e}");
    assert_eq!(
        tree(w.path()),
        before,
        "a/one.txt untouched, no staged file left"
    );
}

#[test]
fn a_failure_while_swapping_files_in_puts_everything_back() {
    let w = workspace(&[("a/one.txt", "1\n"), ("b/two.txt", "2\n")]);
    // a/one.txt is swapped in first; setting b/two.txt aside then fails.
    block(&w, "old");
    let before = tree(w.path());
    let e = run(w.path(), TWO_FILES).expect_err("swapping b fails");
    assert!(matches!(e, PatchError::Io { .. }), "{e}");
    assert_eq!(
        tree(w.path()),
        before,
        "a/one.txt restored, nothing left behind"
    );
}

#[test]
fn malformed_patches_name_the_line() {
    for (patch, want) in [
        (
            "hello",
            "invalid patch, line 1: a patch starts with `*** Begin Patch`",
        ),
        (
            "*** Begin Patch\n*** Add File: a\n+x",
            "ends with `*** End Patch`",
        ),
        (
            "*** Begin Patch\n*** Add File: a\nx\n*** End Patch",
            "line 3: every line of an added file starts with `+`",
        ),
        (
            "*** Begin Patch\n*** Frobnicate: a\n*** End Patch",
            "line 2: expected",
        ),
        ("*** Begin Patch\n*** End Patch", "changes no file"),
    ] {
        let e = parse(patch).expect_err(patch);
        assert!(e.to_string().contains(want), "{patch:?}: {e}");
    }
}
