//! Real commands under the real sandbox. This binary is its own helper: `main` first calls
//! `run_helper_if_requested`, as `codex` and `codex-exec-server` do, and the cases start this
//! executable through `helper_argv`. (harness = false for exactly that reason.)

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use codex_sandbox::{SandboxPolicy, helper_argv, run_helper_if_requested};

#[cfg(target_os = "linux")]
mod attacks;

fn main() {
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Some(code) = run_helper_if_requested(&args) {
        std::process::exit(code);
    }
    if !cfg!(target_os = "linux") {
        println!("0 passed, 0 failed (sandbox enforcement exists only on Linux)");
        return;
    }
    let flags: Vec<&str> = args.iter().skip(1).filter_map(|a| a.to_str()).collect();
    let exact = flags.contains(&"--exact");
    let filter = flags.iter().copied().find(|a| !a.starts_with('-'));
    let cases: &[(&str, fn())] = &[
        (
            "read_only_denies_writes_but_allows_reads_and_dev_null",
            read_only_denies_writes_but_allows_reads_and_dev_null,
        ),
        (
            "workspace_write_allows_writes_only_under_existing_roots",
            workspace_write_allows_writes_only_under_existing_roots,
        ),
        (
            "no_network_refuses_inet_sockets_but_keeps_unix_sockets",
            no_network_refuses_inet_sockets_but_keeps_unix_sockets,
        ),
        (
            "network_access_allows_loopback_tcp",
            network_access_allows_loopback_tcp,
        ),
        (
            "exit_codes_pass_through_and_a_missing_command_is_127",
            exit_codes_pass_through_and_a_missing_command_is_127,
        ),
        (
            "danger_full_access_is_not_restricted",
            danger_full_access_is_not_restricted,
        ),
        #[cfg(target_os = "linux")]
        (
            "no_keystrokes_can_be_pushed_into_the_terminal",
            attacks::no_keystrokes_can_be_pushed_into_the_terminal,
        ),
        #[cfg(target_os = "linux")]
        (
            "unix_sockets_outside_cannot_be_reached",
            attacks::unix_sockets_outside_cannot_be_reached,
        ),
        #[cfg(target_os = "linux")]
        (
            "read_only_cannot_change_metadata_outside",
            attacks::read_only_cannot_change_metadata_outside,
        ),
        #[cfg(target_os = "linux")]
        (
            "no_signal_reaches_a_process_outside",
            attacks::no_signal_reaches_a_process_outside,
        ),
        #[cfg(target_os = "linux")]
        (
            "an_old_landlock_refuses_unless_the_user_accepts_less",
            attacks::an_old_landlock_refuses_unless_the_user_accepts_less,
        ),
        #[cfg(target_os = "linux")]
        (
            "git_hooks_and_config_in_the_workspace_stay_read_only",
            attacks::git_hooks_and_config_in_the_workspace_stay_read_only,
        ),
        #[cfg(target_os = "linux")]
        (
            "without_user_namespaces_a_repository_in_the_workspace_is_refused_unless_accepted",
            attacks::without_user_namespaces_a_repository_in_the_workspace_is_refused_unless_accepted,
        ),
        #[cfg(target_os = "linux")]
        (
            "everyday_tools_still_work_in_workspace_write",
            attacks::everyday_tools_still_work_in_workspace_write,
        ),
    ];
    // The libtest listing protocol, which cargo nextest uses to find the cases (none ignored).
    if flags.contains(&"--list") {
        if !flags.contains(&"--ignored") {
            for (name, _) in cases {
                println!("{name}: test");
            }
        }
        return;
    }
    let (mut passed, mut failed) = (0, 0);
    for (name, case) in cases {
        if filter.is_some_and(|f| if exact { *name != f } else { !name.contains(f) }) {
            continue;
        }
        match std::panic::catch_unwind(case) {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

/// Runs `argv` under `policy` through this binary's helper entry.
fn run(policy: &SandboxPolicy, argv: &[&str]) -> Output {
    let exe = std::env::current_exe().expect("current exe");
    let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
    let full = helper_argv(&exe, policy, &argv);
    Command::new(&full[0])
        .args(&full[1..])
        .output()
        .expect("run the helper")
}

fn sh(policy: &SandboxPolicy, script: &str) -> Output {
    run(policy, &["sh", "-c", script])
}

pub(crate) fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A directory outside /tmp (which workspace-write may grant), under the build's target dir.
fn scratch() -> tempfile::TempDir {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&base).expect("target tmp dir");
    tempfile::tempdir_in(base).expect("tempdir")
}

fn q(p: &Path) -> String {
    format!("'{}'", p.display())
}

fn read_only_denies_writes_but_allows_reads_and_dev_null() {
    let dir = scratch();
    let existing = dir.path().join("existing");
    std::fs::write(&existing, "hello\n").expect("write");
    let target = dir.path().join("new");
    let o = sh(
        &SandboxPolicy::read_only(),
        &format!("echo x > {}", q(&target)),
    );
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Permission denied"),
        "{}",
        text(&o)
    );
    assert!(!target.exists());
    let o = sh(
        &SandboxPolicy::read_only(),
        &format!("cat {}; echo gone > /dev/null; : > /dev/null", q(&existing)),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(o.stdout, b"hello\n");
    let o = sh(
        &SandboxPolicy::read_only(),
        &format!("echo more >> {}", q(&existing)),
    );
    assert!(!o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&existing).expect("read"), b"hello\n");
}

fn workspace_write_allows_writes_only_under_existing_roots() {
    let root = scratch();
    let outside = scratch();
    let policy = SandboxPolicy::workspace_write(
        vec![root.path().to_path_buf(), PathBuf::from("/does/not/exist")],
        false,
    );
    let inside = root.path().join("sub/f");
    let o = sh(
        &policy,
        &format!(
            "mkdir {} && echo in > {} && mv {} {}",
            q(&root.path().join("sub")),
            q(&root.path().join("tmp")),
            q(&root.path().join("tmp")),
            q(&inside)
        ),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&inside).expect("written"), b"in\n");
    let denied = outside.path().join("f");
    let o = sh(&policy, &format!("echo out > {}", q(&denied)));
    assert!(!o.status.success(), "{}", text(&o));
    assert!(!denied.exists());
}

fn python() -> Option<&'static str> {
    let p = "/usr/bin/python3";
    if Path::new(p).exists() {
        Some(p)
    } else {
        eprintln!("note: {p} not found; the AF_UNIX part is skipped");
        None
    }
}

fn no_network_refuses_inet_sockets_but_keeps_unix_sockets() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    for policy in [
        SandboxPolicy::read_only(),
        SandboxPolicy::workspace_write(vec![], false),
    ] {
        let o = run(
            &policy,
            &[
                "bash",
                "-c",
                &format!("exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected"),
            ],
        );
        assert!(!o.status.success(), "{}", text(&o));
        assert!(!String::from_utf8_lossy(&o.stdout).contains("connected"));
        assert!(
            codex_sandbox::likely_denial(o.status.code().unwrap_or(-1), &o.stderr),
            "{}",
            text(&o)
        );
    }
    if let Some(py) = python() {
        let script = "import socket\n\
            a, b = socket.socketpair(socket.AF_UNIX)\n\
            a.send(b'unix ok'); print(b.recv(16).decode())\n\
            for fam in (socket.AF_INET, socket.AF_INET6):\n\
            \x20   try:\n\
            \x20       socket.socket(fam, socket.SOCK_STREAM)\n\
            \x20       print('inet allowed')\n\
            \x20   except PermissionError as e:\n\
            \x20       print('denied', e.errno)\n";
        let o = run(&SandboxPolicy::read_only(), &[py, "-c", script]);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            "unix ok\ndenied 1\ndenied 1\n",
            "{}",
            text(&o)
        );
    }
}

fn network_access_allows_loopback_tcp() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let o = run(
        &SandboxPolicy::workspace_write(vec![], true),
        &[
            "bash",
            "-c",
            &format!("exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected"),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(o.stdout, b"connected\n");
}

fn exit_codes_pass_through_and_a_missing_command_is_127() {
    let o = sh(&SandboxPolicy::read_only(), "exit 7");
    assert_eq!(o.status.code(), Some(7), "{}", text(&o));
    let o = run(&SandboxPolicy::read_only(), &["no-such-command-xyz"]);
    assert_eq!(o.status.code(), Some(127), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "codex sandbox: no-such-command-xyz: command not found\n"
    );
}

fn danger_full_access_is_not_restricted() {
    let dir = scratch();
    let target = dir.path().join("f");
    let o = sh(
        &SandboxPolicy::danger_full_access(),
        &format!("echo x > {}", q(&target)),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(target.exists());
}
