//! Issue 20 item 8: processes racing to take over a stale install lock. Each trial leaves a lock
//! whose owner is dead, then starts contenders at once, half `codex update`'s `InstallLock` (this
//! binary, re-run as a child) and half install.sh's own `take_lock`/`release_lock` (cut from the
//! real script). A contender that holds the lock marks itself in `holders/`; seeing another mark
//! there is an overlap, which must never happen.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use codex_installer::layout::{InstallLock, Layout, LockError};

const TRIALS: usize = 25;
const CONTENDERS: usize = 6;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--contend") {
        contend(Path::new(&args[2]));
        return;
    }
    if !cfg!(unix) {
        println!("0 passed, 0 failed (the shell contender needs a Unix shell)");
        return;
    }
    // The libtest listing protocol, which cargo nextest uses to find the case.
    if args.iter().any(|a| a == "--list") {
        if !args.iter().any(|a| a == "--ignored") {
            println!("a_stale_lock_is_taken_over_by_exactly_one_contender: test");
        }
        return;
    }
    let filter = args.iter().skip(1).find(|a| !a.starts_with('-'));
    if filter.is_some_and(|f| {
        !"a_stale_lock_is_taken_over_by_exactly_one_contender".contains(f.as_str())
    }) {
        println!("0 passed, 0 failed");
        return;
    }
    a_stale_lock_is_taken_over_by_exactly_one_contender();
    println!("test a_stale_lock_is_taken_over_by_exactly_one_contender ... ok");
    println!("1 passed, 0 failed");
}

/// Holds the lock for a moment with a mark in `holders/`, as a contender of either kind does.
fn hold(root: &Path) {
    let holders = root.join("holders");
    let mark = holders.join(std::process::id().to_string());
    std::fs::write(&mark, "").expect("mark");
    let others = std::fs::read_dir(&holders).expect("holders").count() - 1;
    if others > 0 {
        std::fs::write(root.join(format!("overlap.{}", std::process::id())), "").expect("overlap");
    }
    std::thread::sleep(Duration::from_millis(30));
    std::fs::remove_file(&mark).expect("unmark");
}

/// The layout of CODEX_HOME `home`, whose `root` is install.sh's `$root`.
fn layout(home: &Path) -> Layout {
    Layout::new(home, &home.join("bin"))
}

fn contend(home: &Path) {
    let layout = layout(home);
    let root = &layout.root;
    match InstallLock::acquire(&layout) {
        Ok(lock) => {
            hold(root);
            drop(lock);
        }
        Err(LockError::Busy(_)) => {}
        Err(e) => panic!("{e}"),
    }
}

fn shell_functions() -> String {
    let script =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../install.sh"))
            .expect("install.sh");
    let cut = |name: &str| {
        let start = script
            .find(&format!("\n{name}() {{\n"))
            .unwrap_or_else(|| panic!("{name} in install.sh"));
        let end = script[start + 1..].find("\n}\n").expect("end") + start + 4;
        script[start..end].to_string()
    };
    format!("{}{}", cut("take_lock"), cut("release_lock"))
}

fn spawn_shell(root: &Path, functions: &str) -> Child {
    let script = format!(
        "set -u\ndie() {{ echo \"contender $$: $*\" >&2; exit 3; }}\n{functions}\nroot=\"$1\"\nmkdir -p \"$root/.lock\"\n\
         take_lock\nmark=\"$root/holders/$$\"\n: >\"$mark\"\n\
         n=$(ls \"$root/holders\" | wc -l)\n[ \"$n\" -gt 1 ] && : >\"$root/overlap.$$\"\n\
         sleep 0.03\nrm -f \"$mark\"\nrelease_lock\n"
    );
    Command::new("sh")
        .args(["-c", &script, "sh"])
        .arg(root)
        .spawn()
        .expect("sh")
}

fn dead_pid() -> u32 {
    let mut c = Command::new("true").spawn().expect("true");
    let pid = c.id();
    c.wait().expect("wait");
    pid
}

fn a_stale_lock_is_taken_over_by_exactly_one_contender() {
    let functions = shell_functions();
    let exe = std::env::current_exe().expect("exe");
    let base = tempfile::tempdir().expect("tempdir");
    let mut overlaps = 0;
    for trial in 0..TRIALS {
        let home: PathBuf = base.path().join(format!("t{trial}"));
        let layout = layout(&home);
        let root = layout.root.clone();
        std::fs::create_dir_all(root.join("holders")).expect("holders");
        std::fs::create_dir_all(layout.lock_dir()).expect("lock");
        std::fs::write(layout.lock_dir().join("pid"), format!("{}\n", dead_pid())).expect("stale");
        let children: Vec<Child> = (0..CONTENDERS)
            .map(|i| {
                if i % 2 == 0 {
                    Command::new(&exe)
                        .arg("--contend")
                        .arg(&home)
                        .spawn()
                        .expect("contender")
                } else {
                    spawn_shell(&root, &functions)
                }
            })
            .collect();
        for mut c in children {
            let status = c.wait().expect("wait");
            // 0: held it, or found it busy (the Rust side) / 3: `die` said busy (the shell side).
            assert!(
                matches!(status.code(), Some(0 | 3)),
                "trial {trial}: {status}"
            );
        }
        overlaps += std::fs::read_dir(&root)
            .expect("root")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("overlap."))
            })
            .count();
        let left = std::fs::read_to_string(layout.lock_dir().join("pid"));
        assert!(
            left.is_err(),
            "trial {trial}: the last holder released the lock, but the lock holds {left:?}"
        );
    }
    assert_eq!(overlaps, 0, "two contenders held the lock at once");
}
