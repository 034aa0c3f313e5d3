//! `codex sandbox linux` and the hidden helper entry, run for real: the built `codex` binary
//! restricts itself with Landlock and seccomp and execs real commands, which try to write, read
//! and connect. A kernel without Landlock is simulated for real too: codex runs under a seccomp
//! filter that makes every Landlock syscall fail with ENOSYS, as such a kernel does.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CODEX: &str = env!("CARGO_BIN_EXE_codex");

mod support;
use support::scratch;

/// A codex home, a workspace and a directory outside both, none under /tmp.
struct Dirs {
    home: tempfile::TempDir,
    work: tempfile::TempDir,
    outside: tempfile::TempDir,
}

impl Dirs {
    fn new() -> Dirs {
        Dirs {
            home: scratch(),
            work: scratch(),
            outside: scratch(),
        }
    }

    /// `codex ARGS` in the workspace, with this codex home and no TMPDIR (so the temp dir that
    /// workspace-write grants is /tmp).
    fn codex(&self, args: &[&str]) -> Output {
        Command::new(CODEX)
            .args(args)
            .current_dir(self.work.path())
            .env("CODEX_HOME", self.home.path())
            .env_remove("TMPDIR")
            .output()
            .expect("run codex")
    }

    fn sandboxed_sh(&self, flags: &[&str], script: &str) -> Output {
        let mut args = vec!["sandbox", "linux"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["--", "sh", "-c", script]);
        self.codex(&args)
    }
}

fn q(p: &Path) -> String {
    format!("'{}'", p.display())
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn read_only_refuses_writes_with_permission_denied_but_reads_work() {
    let d = Dirs::new();
    let existing = d.work.path().join("notes.txt");
    std::fs::write(&existing, "hello\n").expect("write");
    for target in [d.work.path().join("f"), d.outside.path().join("f")] {
        let o = d.sandboxed_sh(
            &["--sandbox", "read-only"],
            &format!("echo x > {}", q(&target)),
        );
        assert!(!o.status.success(), "{}", text(&o));
        assert!(stderr(&o).contains("Permission denied"), "{}", text(&o));
        assert!(!target.exists());
    }
    let o = d.sandboxed_sh(
        &["--sandbox", "read-only"],
        &format!("cat {} && echo discarded > /dev/null", q(&existing)),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(o.stdout, b"hello\n");
}

#[test]
fn read_only_is_the_default_without_a_config_file() {
    let d = Dirs::new();
    let target = d.work.path().join("f");
    let o = d.sandboxed_sh(&[], &format!("echo x > {}", q(&target)));
    assert!(!o.status.success(), "{}", text(&o));
    assert!(!target.exists());
}

#[test]
fn workspace_write_writes_the_workspace_and_memories_but_nothing_outside() {
    let d = Dirs::new();
    let memories = d.home.path().join("memories");
    std::fs::create_dir(&memories).expect("memories dir");
    let inside = d.work.path().join("sub").join("out.txt");
    let o = d.sandboxed_sh(
        &["--sandbox", "workspace-write"],
        &format!(
            "mkdir sub && echo in > sub/out.txt && echo m > {}",
            q(&memories.join("m.txt"))
        ),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&inside).expect("written"), b"in\n");
    assert!(memories.join("m.txt").exists());

    for target in [
        d.outside.path().join("f"),
        // The codex home itself (config.toml) is not writable, only its memories.
        d.home.path().join("config.toml"),
    ] {
        let o = d.sandboxed_sh(
            &["--sandbox", "workspace-write"],
            &format!("echo x > {}", q(&target)),
        );
        assert!(!o.status.success(), "{}", text(&o));
        assert!(stderr(&o).contains("Permission denied"), "{}", text(&o));
        assert!(!target.exists());
    }

    let extra = d.outside.path().join("granted");
    std::fs::create_dir(&extra).expect("dir");
    let o = d.sandboxed_sh(
        &[
            "--sandbox",
            "workspace-write",
            "--writable-root",
            &extra.display().to_string(),
        ],
        &format!("echo x > {}", q(&extra.join("f"))),
    );
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn the_mode_and_writable_roots_come_from_config_toml() {
    let d = Dirs::new();
    let extra = d.outside.path().join("data");
    std::fs::create_dir(&extra).expect("dir");
    std::fs::write(
        d.home.path().join("config.toml"),
        format!(
            "sandbox_mode = \"workspace-write\"\n[sandbox_workspace_write]\nwritable_roots = [{:?}]\n",
            extra.display().to_string()
        ),
    )
    .expect("config");
    let o = d.sandboxed_sh(
        &[],
        &format!("echo x > here && echo y > {}", q(&extra.join("f"))),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(d.work.path().join("here").exists());
    assert!(extra.join("f").exists());
}

/// `bash -c 'exec 3<>/dev/tcp/…'` to a listener of this test on loopback.
fn connect_script(port: u16) -> Vec<String> {
    vec![
        "bash".into(),
        "-c".into(),
        format!("exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected"),
    ]
}

#[test]
fn loopback_tcp_fails_without_network_and_works_with_it() {
    let d = Dirs::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let script = connect_script(port);
    let script: Vec<&str> = script.iter().map(String::as_str).collect();
    let run = |flags: &[&str]| {
        let mut args = vec!["sandbox", "linux"];
        args.extend_from_slice(flags);
        args.push("--");
        args.extend_from_slice(&script);
        d.codex(&args)
    };
    for flags in [
        &["--sandbox", "read-only"][..],
        &["--sandbox", "workspace-write"][..],
    ] {
        let o = run(flags);
        assert!(!o.status.success(), "{flags:?}: {}", text(&o));
        assert!(
            stderr(&o).contains("Operation not permitted"),
            "{flags:?}: {}",
            text(&o)
        );
        assert!(o.stdout.is_empty(), "{}", text(&o));
    }
    let o = run(&["--sandbox", "workspace-write", "--network"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(o.stdout, b"connected\n");
    let o = run(&[
        "--sandbox",
        "workspace-write",
        "-c",
        "sandbox_workspace_write.network_access=true",
    ]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn danger_full_access_runs_the_command_plainly() {
    let d = Dirs::new();
    let target = d.outside.path().join("f");
    let o = d.sandboxed_sh(
        &["--sandbox", "danger-full-access"],
        &format!("echo x > {} && exit 3", q(&target)),
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(target.exists());
}

#[test]
fn a_missing_command_is_127_and_flags_that_need_workspace_write_are_refused() {
    let d = Dirs::new();
    let o = d.codex(&["sandbox", "linux", "--", "no-such-command-xyz"]);
    assert_eq!(o.status.code(), Some(127), "{}", text(&o));
    assert_eq!(
        stderr(&o),
        "codex sandbox: no-such-command-xyz: command not found\n"
    );
    let o = d.codex(&["sandbox", "linux", "--network", "--", "true"]);
    assert_eq!(o.status.code(), Some(126), "{}", text(&o));
    assert_eq!(
        stderr(&o),
        "codex sandbox: --network and --writable-root need --sandbox workspace-write (the mode is read-only)\n"
    );
}

/// Runs `f` on a thread that has a seccomp filter making the Landlock syscalls fail with ENOSYS,
/// as on a kernel built without Landlock; processes it starts inherit the filter. (Only that
/// thread is filtered: the test harness is untouched.)
fn without_landlock<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch};
    std::thread::spawn(move || {
        let rules = [
            libc::SYS_landlock_create_ruleset,
            libc::SYS_landlock_add_rule,
            libc::SYS_landlock_restrict_self,
        ]
        .into_iter()
        .map(|nr| (nr, Vec::new()))
        .collect();
        let arch = TargetArch::try_from(std::env::consts::ARCH).expect("a seccomp arch");
        let filter = SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOSYS as u32),
            arch,
        )
        .expect("filter");
        let program = BpfProgram::try_from(filter).expect("compile");
        seccompiler::apply_filter(&program).expect("install the filter on this thread");
        f()
    })
    .join()
    .expect("thread")
}

const NO_LANDLOCK: &str = "codex sandbox: this kernel has no Landlock (it needs Linux 5.13 or later built with CONFIG_SECURITY_LANDLOCK=y); the command was not run: use a kernel with Landlock, or --sandbox danger-full-access to run without a sandbox\n";

#[test]
fn a_kernel_without_landlock_is_refused_and_the_command_is_not_run() {
    let d = Dirs::new();
    let marker = d.work.path().join("ran");
    let script = format!("echo ran > {}", q(&marker));
    let exe = PathBuf::from(CODEX);
    let helper = codex_sandbox::helper_argv(
        &exe,
        &codex_sandbox::SandboxPolicy::workspace_write(vec![d.work.path().to_path_buf()], true),
        &["sh".into(), "-c".into(), script.clone()],
    );
    let (home, work) = (d.home.path().to_path_buf(), d.work.path().to_path_buf());
    let outputs = without_landlock(move || {
        let run = |args: &[String]| {
            Command::new(CODEX)
                .args(args)
                .current_dir(&work)
                .env("CODEX_HOME", &home)
                .output()
                .expect("run codex")
        };
        let cli = |mode: &str| {
            run(&[
                "sandbox".into(),
                "linux".into(),
                "--sandbox".into(),
                mode.into(),
                "--".into(),
                "sh".into(),
                "-c".into(),
                script.clone(),
            ])
        };
        (cli("workspace-write"), run(&helper[1..]), cli("read-only"))
    });
    for o in [&outputs.0, &outputs.1, &outputs.2] {
        assert_eq!(o.status.code(), Some(126), "{}", text(o));
        assert_eq!(stderr(o), NO_LANDLOCK, "{}", text(o));
        assert!(o.stdout.is_empty(), "{}", text(o));
    }
    assert!(!marker.exists(), "the command ran without a sandbox");

    // Under the same filter an unsandboxed run works, so it is only Landlock that is missing.
    let (home, work) = (d.home.path().to_path_buf(), d.work.path().to_path_buf());
    let script = format!("echo ran > {}", q(&marker));
    let o = without_landlock(move || {
        Command::new(CODEX)
            .args(["sandbox", "linux", "--sandbox", "danger-full-access", "--"])
            .args(["sh", "-c", &script])
            .current_dir(&work)
            .env("CODEX_HOME", &home)
            .output()
            .expect("run codex")
    });
    assert!(o.status.success(), "{}", text(&o));
    assert!(marker.exists());
}
