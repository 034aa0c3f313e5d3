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

/// A victim outside every workspace, as the sandbox tests keep theirs (`/dev/shm` where it
/// exists, which no writable root covers).
#[cfg(unix)]
fn victim_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).expect("tempdir in /dev/shm")
    } else {
        tempfile::tempdir().expect("tempdir")
    }
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::symlink_metadata(p)
        .expect("stat")
        .permissions()
        .mode()
        & 0o7777
}

/// The attack of a sandboxed command that shares the workspace: it reads the agent's pid
/// (`/proc/$PPID/status`) and plants links at the names the agent used to stage and back up
/// files, so that the next ordinary patch writes (and chmods) a file outside.
#[cfg(unix)]
#[test]
fn links_planted_at_staging_names_cannot_redirect_a_patch() {
    use std::os::unix::fs::PermissionsExt as _;
    let w = workspace(&[("a.txt", "one\n"), ("sub/b.txt", "two\n")]);
    std::fs::set_permissions(
        w.path().join("a.txt"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    let outside = victim_dir();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "precious\n").expect("victim");
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let pid = std::process::id();
    for dir in ["", "sub/"] {
        for (file, kind) in [
            ("a.txt", "new"),
            ("a.txt", "old"),
            ("b.txt", "new"),
            ("b.txt", "old"),
        ] {
            let link = w
                .path()
                .join(format!("{dir}.{file}.codex-patch-{pid}.{kind}"));
            std::os::unix::fs::symlink(&victim, link).expect("plant");
        }
    }
    run(
        w.path(),
        "*** Begin Patch\n*** Update File: a.txt\n-one\n+ONE\n*** Update File: sub/b.txt\n-two\n+TWO\n*** End Patch",
    )
    .expect("applies");
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious\n"
    );
    assert_eq!(mode(&victim), 0o600, "the victim's mode must not change");
    let a = w.path().join("a.txt");
    assert!(
        !std::fs::symlink_metadata(&a)
            .expect("a")
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&a).expect("a"), "ONE\n");
    assert_eq!(mode(&a), 0o755, "the file keeps its own mode");
    assert_eq!(
        std::fs::read_to_string(w.path().join("sub/b.txt")).expect("b"),
        "TWO\n"
    );
}

/// A patch never writes through a link, whatever the link names: a file that is a link, and a
/// FIFO (which would hang a blocking read), are refused and left as they are.
#[cfg(unix)]
#[test]
fn a_file_that_is_a_link_or_a_fifo_is_refused() {
    let w = workspace(&[]);
    let outside = victim_dir();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "precious\n").expect("victim");
    std::os::unix::fs::symlink(&victim, w.path().join("link.txt")).expect("link");
    for op in [
        "Update File: link.txt\n-precious\n+owned",
        "Delete File: link.txt",
        "Add File: link.txt\n+owned",
    ] {
        let e = run(
            w.path(),
            &format!("*** Begin Patch\n*** {op}\n*** End Patch"),
        )
        .expect_err("a link is refused");
        assert!(matches!(e, PatchError::OutsideRoot(_)), "{op}: {e}");
    }
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious\n"
    );
    let status = std::process::Command::new("mkfifo")
        .arg(w.path().join("fifo"))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let e = run(
        w.path(),
        "*** Begin Patch\n*** Update File: fifo\n-x\n+y\n*** End Patch",
    )
    .expect_err("a fifo is refused");
    assert!(matches!(e, PatchError::NotAFile(_)), "{e}");
}
