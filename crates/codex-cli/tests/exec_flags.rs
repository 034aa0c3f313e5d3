//! The `codex exec` flags of Codex 0.169 beyond the basics, end to end: the real binary, real
//! sandbox and files, the scripted model recording what it was sent.

use std::path::Path;

mod support;
use support::{Fixture, run, shell_call, stderr, stdout, text};

/// A directory in no git work tree (the system temp dir has no `.git` above it).
fn not_a_repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("dir");
    assert!(
        !d.path().ancestors().any(|a| a.join(".git").exists()),
        "{} is inside a git work tree",
        d.path().display()
    );
    d
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn exec_outside_a_git_repo_is_refused_in_one_line_before_the_model_is_asked() {
    let f = Fixture::new(vec![text("never sent")]);
    let plain = not_a_repo();
    let out = run(f.exec(&["--cd", path_str(plain.path()), "hi"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(
            "error: not inside a trusted directory and --skip-git-repo-check was not specified"
        ),
        "{err}"
    );
    assert!(f.model.requests().is_empty());
    assert!(!f.home.path().join("sessions").exists());
    assert_eq!(stdout(&out), "");
}

#[test]
fn skip_git_repo_check_and_a_trusted_project_each_lift_the_refusal() {
    let plain = not_a_repo();
    let f = Fixture::new(vec![text("ran anyway")]);
    let out = run(f.exec(&[
        "--skip-git-repo-check",
        "--cd",
        path_str(plain.path()),
        "hi",
    ]));
    assert!(out.status.success());
    assert_eq!(stdout(&out), "ran anyway\n");

    let trusted = format!(
        "[projects.{:?}]\ntrust_level = \"trusted\"\n",
        path_str(plain.path())
    );
    let f = Fixture::with_config(vec![text("trusted")], &trusted);
    let out = run(f.exec(&["--cd", path_str(plain.path()), "hi"]));
    assert!(out.status.success());
    assert_eq!(stdout(&out), "trusted\n");

    let untrusted = trusted.replace("\"trusted\"", "\"untrusted\"");
    let f = Fixture::with_config(vec![text("never sent")], &untrusted);
    let out = run(f.exec(&["--cd", path_str(plain.path()), "hi"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(f.model.requests().is_empty());
}

#[test]
fn yolo_runs_unsandboxed_without_the_git_check_and_refuses_an_approval_policy() {
    let outside = support::scratch();
    let target = outside.path().join("written-by-yolo.txt");
    let script = format!("echo x > {}", target.display());
    let plain = not_a_repo();
    let f = Fixture::new(vec![shell_call("w", &["sh", "-c", &script]), text("done")]);
    let out = run(f.exec(&[
        "--yolo",
        "-s",
        "read-only",
        "--cd",
        path_str(plain.path()),
        "write",
    ]));
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("sandbox danger-full-access"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&target).expect("written"), "x\n");
    assert!(f.tool_output(1, "w").contains("Exit code: 0"));

    let f = Fixture::new(vec![text("never sent")]);
    let out = run(f.exec(&[
        "--dangerously-bypass-approvals-and-sandbox",
        "-a",
        "never",
        "hi",
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
    assert!(f.model.requests().is_empty());
}

#[test]
fn add_dir_is_writable_under_workspace_write_and_other_dirs_stay_closed() {
    // Both outside every root workspace-write grants by default.
    let added = support::scratch();
    let other = support::scratch();
    let write = |dir: &Path| format!("echo x > {}", dir.join("f.txt").display());
    let f = Fixture::new(vec![
        shell_call("added", &["sh", "-c", &write(added.path())]),
        shell_call("other", &["sh", "-c", &write(other.path())]),
        text("done"),
    ]);
    let out = run(f.exec(&[
        "-s",
        "workspace-write",
        "--add-dir",
        path_str(added.path()),
        "write two files",
    ]));
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(added.path().join("f.txt")).expect("added"),
        "x\n"
    );
    assert!(f.tool_output(1, "added").contains("Exit code: 0"));
    assert!(!other.path().join("f.txt").exists());
    assert!(f.tool_output(2, "other").contains("sandbox likely blocked"));
}

#[test]
fn add_dir_under_read_only_is_ignored_with_a_warning() {
    let added = support::scratch();
    let script = format!("echo x > {}", added.path().join("f.txt").display());
    let f = Fixture::new(vec![shell_call("w", &["sh", "-c", &script]), text("done")]);
    let out = run(f.exec(&[
        "-s",
        "read-only",
        "--add-dir",
        path_str(added.path()),
        "write",
    ]));
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("warning: ignoring --add-dir ("),
        "{}",
        stderr(&out)
    );
    assert!(!added.path().join("f.txt").exists());
}

#[test]
fn a_missing_add_dir_is_one_line_and_nothing_is_sent() {
    let f = Fixture::new(vec![text("never sent")]);
    let out = run(f.exec(&["-s", "workspace-write", "--add-dir", "/no/such/dir", "hi"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim_end(),
        "error: --add-dir /no/such/dir: no such directory; create it or fix the path"
    );
    assert!(f.model.requests().is_empty());
}
