//! The attacks of issue 20, each performed for real by a sandboxed command run as an
//! unprivileged user (uid 65534 when the tests run as root, else the tests' own user), against
//! victims that user owns outside every writable root (in `/dev/shm`). Each case checks the
//! victim afterwards, not only the command's exit status.

use std::io::Read as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use codex_sandbox::{SandboxPolicy, helper_argv};

use crate::text;

const NOBODY: u32 = 65534;

fn as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}

/// The argv that runs `argv` sandboxed by `policy`, as the unprivileged user.
fn attacker_argv(policy: &SandboxPolicy, argv: &[&str]) -> Vec<String> {
    let exe = std::env::current_exe().expect("current exe");
    let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
    let mut full = Vec::new();
    if as_root() {
        full.extend(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--",
            ]
            .map(String::from),
        );
    }
    full.extend(helper_argv(&exe, policy, &argv));
    full
}

fn attack(policy: &SandboxPolicy, argv: &[&str]) -> Output {
    let full = attacker_argv(policy, argv);
    Command::new(&full[0])
        .args(&full[1..])
        .env("HOME", "/nonexistent")
        .output()
        .expect("run the attacker")
}

fn python() -> &'static str {
    let p = "/usr/bin/python3";
    assert!(Path::new(p).exists(), "{p} is needed for the attack tests");
    p
}

/// A folder in /dev/shm that the attacker's user owns, so that without the sandbox every
/// attack on it would succeed.
struct Victims(tempfile::TempDir);

impl Victims {
    fn new() -> Victims {
        let dir = tempfile::tempdir_in("/dev/shm").expect("tempdir in /dev/shm");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod");
        Victims(dir)
    }

    /// A file of the attacker's user, mode 0600.
    fn file(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.0.path().join(name);
        std::fs::write(&p, contents).expect("victim");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        chown(&p);
        p
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

fn chown(p: &Path) {
    if as_root() {
        std::os::unix::fs::chown(p, Some(NOBODY), Some(NOBODY)).expect("chown");
    }
}

fn sandboxes() -> Vec<(&'static str, SandboxPolicy)> {
    vec![
        ("read-only", SandboxPolicy::read_only()),
        (
            "workspace-write",
            SandboxPolicy::workspace_write(vec![], false),
        ),
        (
            "workspace-write + network",
            SandboxPolicy::workspace_write(vec![], true),
        ),
    ]
}

/// Item 2: TIOCSTI into the controlling terminal. The command runs in a real pseudo-terminal
/// (util-linux `script`) that is its controlling terminal, as codex's is when started from a
/// shell; the pushed keys would be read by whatever reads that terminal next.
pub fn no_keystrokes_can_be_pushed_into_the_terminal() {
    let probe = "import fcntl, os, sys, termios\n\
        hits = 0\n\
        for path in ('/dev/tty', '/proc/self/fd/0'):\n\
        \x20   try:\n\
        \x20       fd = os.open(path, os.O_RDWR)\n\
        \x20       fcntl.ioctl(fd, termios.TIOCSTI, b'#')\n\
        \x20       hits += 1\n\
        \x20   except OSError as e:\n\
        \x20       pass\n\
        print('INJECTED' if hits else 'REFUSED')\n";
    for (name, policy) in sandboxes() {
        let argv = attacker_argv(&policy, &[python(), "-c", probe]);
        let line = argv
            .iter()
            .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
            .collect::<Vec<_>>()
            .join(" ");
        let o = Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .stdin(Stdio::piped())
            .output()
            .expect("script");
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("REFUSED"), "{name}: {}", text(&o));
        assert!(!out.contains("INJECTED"), "{name}: {}", text(&o));
    }
}

/// Item 3: named and abstract Unix sockets outside (tmux's, D-Bus, docker.sock, ssh-agent are
/// all one of the two). Listeners outside count every connection they get.
pub fn unix_sockets_outside_cannot_be_reached() {
    use std::os::linux::net::SocketAddrExt as _;
    use std::os::unix::net::{SocketAddr, UnixListener};
    let victims = Victims::new();
    let named = victims.path().join("agent.sock");
    let named_listener = UnixListener::bind(&named).expect("bind named");
    std::fs::set_permissions(&named, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let abstract_name = format!("codex-attack-{}", std::process::id());
    let addr = SocketAddr::from_abstract_name(abstract_name.as_bytes()).expect("abstract");
    let abstract_listener = UnixListener::bind_addr(&addr).expect("bind abstract");
    for l in [&named_listener, &abstract_listener] {
        l.set_nonblocking(true).expect("nonblocking");
    }
    let probe = format!(
        "import socket\n\
         for addr in ({named:?}, '\\0{abstract_name}'):\n\
         \x20   try:\n\
         \x20       s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n\
         \x20       s.connect(addr)\n\
         \x20       s.send(b'send-keys')\n\
         \x20       print('CONNECTED', repr(addr))\n\
         \x20   except OSError as e:\n\
         \x20       print('refused', e.errno)\n\
         try:\n\
         \x20   a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
         \x20   a.sendto(b'x', {named:?})\n\
         \x20   print('CONNECTED dgram')\n\
         except OSError as e:\n\
         \x20   print('refused', e.errno)\n",
        named = named.display().to_string(),
    );
    for (name, policy) in sandboxes() {
        let o = attack(&policy, &[python(), "-c", &probe]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(!out.contains("CONNECTED"), "{name}: {}", text(&o));
        assert_eq!(out.matches("refused").count(), 3, "{name}: {}", text(&o));
    }
    for (what, l) in [("named", &named_listener), ("abstract", &abstract_listener)] {
        assert!(
            l.accept().is_err(),
            "the {what} listener outside got a connection"
        );
    }
}

/// Item 4: mode, times and extended attributes of a file outside, in read-only.
pub fn read_only_cannot_change_metadata_outside() {
    let victims = Victims::new();
    let victim = victims.file("victim", "precious\n");
    let before = std::fs::metadata(&victim).expect("stat");
    let probe = format!(
        "import os\n\
         v = {v:?}\n\
         for name, f in (('chmod', lambda: os.chmod(v, 0o777)),\n\
         \x20               ('utime', lambda: os.utime(v, (0, 0))),\n\
         \x20               ('setxattr', lambda: os.setxattr(v, 'user.codex', b'1')),\n\
         \x20               ('fchmod', lambda: os.fchmod(os.open(v, os.O_RDONLY), 0o777))):\n\
         \x20   try:\n\
         \x20       f(); print('CHANGED', name)\n\
         \x20   except OSError as e:\n\
         \x20       print('refused', name, e.errno)\n",
        v = victim.display().to_string()
    );
    let o = attack(&SandboxPolicy::read_only(), &[python(), "-c", &probe]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains("CHANGED"), "{}", text(&o));
    assert_eq!(out.matches("refused").count(), 4, "{}", text(&o));
    let after = std::fs::metadata(&victim).expect("stat");
    assert_eq!(after.permissions().mode() & 0o7777, 0o600);
    assert_eq!(after.modified().ok(), before.modified().ok());
    let xattrs = Command::new(python())
        .args([
            "-c",
            &format!(
                "import os; print(os.listxattr({:?}))",
                victim.display().to_string()
            ),
        ])
        .output()
        .expect("listxattr");
    assert_eq!(String::from_utf8_lossy(&xattrs.stdout), "[]\n");
}

/// Item 4: `kill -9` of the user's processes outside, in every mode.
pub fn no_signal_reaches_a_process_outside() {
    for (name, policy) in sandboxes() {
        let mut outside = Command::new("setpriv");
        if as_root() {
            outside.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
        } else {
            outside = Command::new("env");
        }
        let mut victim = outside
            .args(["sleep", "60"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("victim process");
        let pid = victim.id().to_string();
        let o = attack(
            &policy,
            &["sh", "-c", &format!("kill -9 {pid} && echo KILLED")],
        );
        let alive = survives(&mut victim);
        let _ = victim.kill();
        let _ = victim.wait();
        let mut out = String::new();
        let _ = victim.stdout.take().map(|mut s| s.read_to_string(&mut out));
        assert!(
            alive,
            "{name}: the process outside was killed: {}",
            text(&o)
        );
        assert!(
            !String::from_utf8_lossy(&o.stdout).contains("KILLED"),
            "{name}: {}",
            text(&o)
        );
    }
}

/// Whether `child` is still running. Checked right after an attack whose `kill` failed: a
/// refused signal was never sent, so there is nothing to wait for.
fn survives(child: &mut std::process::Child) -> bool {
    child.try_wait().expect("try_wait").is_none()
}

/// What the attacks must not break: ordinary work in a workspace-write sandbox, as the
/// unprivileged user (git with a commit, python, chmod and touch inside the workspace).
pub fn everyday_tools_still_work_in_workspace_write() {
    let w = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("workspace");
    std::fs::set_permissions(w.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    chown(w.path());
    let policy = SandboxPolicy::workspace_write(vec![w.path().to_path_buf()], false);
    let script = format!(
        "set -e; cd '{}'; export HOME=\"$PWD\"\n\
         git init -q . && git config user.email t@example.com && git config user.name t\n\
         echo 'print(6*7)' > a.py && chmod +x a.py && touch -d 2001-01-01 a.py\n\
         git add a.py && git commit -qm one && git log --oneline | wc -l\n\
         {py} a.py\n",
        w.path().display(),
        py = python()
    );
    let o = attack(&policy, &["sh", "-c", &script]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "1\n42\n",
        "{}",
        text(&o)
    );
}

/// Item 6: a kernel whose Landlock cannot stop signals (ABI 5, as Linux 6.10 has) refuses to run
/// the command, naming what is missing, unless the user accepts less; then the command runs,
/// is told so, and really has less (the kill goes through).
pub fn an_old_landlock_refuses_unless_the_user_accepts_less() {
    let run = |allow_weaker: bool| {
        let mut victim = Command::new("sleep").arg("60").spawn().expect("victim");
        let mut policy = SandboxPolicy::read_only();
        policy.allow_weaker = allow_weaker;
        let exe = std::env::current_exe().expect("exe");
        let pid = victim.id().to_string();
        let argv: Vec<String> = [
            "sh",
            "-c",
            &format!("kill -9 {pid} && echo KILLED; echo ran"),
        ]
        .map(String::from)
        .to_vec();
        let full = helper_argv(&exe, &policy, &argv);
        let o = Command::new(&full[0])
            .args(&full[1..])
            .env(codex_sandbox::MAX_LANDLOCK_ABI_ENV, "5")
            .output()
            .expect("helper");
        let killed = String::from_utf8_lossy(&o.stdout).contains("KILLED");
        // A kill that went through is waited for; one refused leaves nothing to wait for.
        let alive = if killed {
            use std::os::unix::process::ExitStatusExt as _;
            victim.wait().expect("wait").signal() != Some(9)
        } else {
            survives(&mut victim)
        };
        let _ = victim.kill();
        let _ = victim.wait();
        (o, alive)
    };
    let (o, alive) = run(false);
    assert_eq!(o.status.code(), Some(126), "{}", text(&o));
    assert!(alive);
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "codex sandbox: this kernel's Landlock (ABI 5) cannot enforce signals to processes outside the sandbox (ABI 6, Linux 6.12); the command was not run: use Linux 6.12 or later, or set sandbox_allow_weaker = true in config.toml to run without that protection\n"
    );
    let (o, alive) = run(true);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "KILLED\nran\n");
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("weaker than read-only: Landlock ABI 5 cannot stop signals"),
        "{}",
        text(&o)
    );
    assert!(!alive, "with the weaker sandbox the signal is not stopped");
}

/// Every file under `dir` with its mode and contents (a link's target), to compare before and
/// after an attack.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u32, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        let meta = std::fs::symlink_metadata(&p).expect("stat");
        let data = if meta.is_dir() {
            let mut names: Vec<PathBuf> = std::fs::read_dir(&p)
                .expect("read_dir")
                .map(|e| e.expect("entry").path())
                .collect();
            names.sort();
            stack.extend(names);
            Vec::new()
        } else if meta.file_type().is_symlink() {
            std::fs::read_link(&p)
                .expect("readlink")
                .into_os_string()
                .into_encoded_bytes()
        } else {
            std::fs::read(&p).expect("read")
        };
        out.push((p, meta.permissions().mode(), data));
    }
    out.sort();
    out
}

/// A git repository with `.codex` and `.agents` folders, in a workspace the attacker's user
/// owns, so that without the sandbox every write below would succeed.
fn workspace_with_a_repo() -> tempfile::TempDir {
    let w = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("workspace");
    let run = |args: &[&str]| {
        let o = Command::new(args[0])
            .args(&args[1..])
            .current_dir(w.path())
            .output()
            .expect("setup");
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    };
    run(&["git", "init", "-q", "."]);
    run(&["mkdir", "-p", ".codex", ".agents"]);
    std::fs::write(w.path().join(".codex/config.toml"), "model = \"m\"\n").expect("config");
    std::fs::set_permissions(w.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    if as_root() {
        run(&["chown", "-R", "65534:65534", "."]);
    }
    w
}

/// The writes a command would make to leave code that runs later, outside the sandbox: a hook,
/// git config (fsmonitor runs on every `git status`), the agent's own config, and the ways
/// around a read-only bind (replace the folder, unmount it, unmount it from a namespace of its
/// own). Prints one line per write that went through.
const PLANT_HOOKS: &str = "cd \"$1\"\n\
    w() { if sh -c \"$2\" 2>/dev/null; then echo \"PLANTED $1\"; fi; }\n\
    w hook 'printf \"#!/bin/sh\\ntouch /dev/shm/pwned\\n\" > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit'\n\
    w fsmonitor 'git config core.fsmonitor \"touch /dev/shm/pwned\"'\n\
    w config-append 'printf \"[core]\\n\\thooksPath = /dev/shm\\n\" >> .git/config'\n\
    w codex-config 'echo approval_policy = never >> .codex/config.toml'\n\
    w agents 'echo x > .agents/AGENTS.md'\n\
    w rename 'mv .git .git-old && mkdir .git'\n\
    w remove 'rm -rf .git/hooks'\n\
    w umount 'umount -l .git && echo x > .git/hooks/post-checkout'\n\
    w unshare 'unshare -rm sh -c \"umount -l .git; echo x > .git/hooks/post-checkout\"'\n\
    echo work > notes.txt && git status --porcelain && echo DONE\n";

/// Item 5: in workspace-write, `.git` (and `.codex`, `.agents`) under a writable root stay
/// read-only, by every route; the rest of the workspace stays writable and git still reads the
/// repository.
pub fn git_hooks_and_config_in_the_workspace_stay_read_only() {
    let w = workspace_with_a_repo();
    let before = snapshot(w.path());
    let policy = SandboxPolicy::workspace_write(vec![w.path().to_path_buf()], false);
    let root = w.path().to_str().expect("utf-8");
    let o = attack(&policy, &["sh", "-c", PLANT_HOOKS, "sh", root]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains("PLANTED"), "{}", text(&o));
    assert!(out.ends_with("?? notes.txt\nDONE\n"), "{}", text(&o));
    let after: Vec<_> = snapshot(w.path())
        .into_iter()
        .filter(|(p, _, _)| !p.ends_with("notes.txt"))
        .collect();
    assert_eq!(before, after, "the repository changed: {}", text(&o));
}

/// Item 5, where the system allows no user namespace (here: a namespace whose
/// `user.max_user_namespaces` is 0): the command is refused with one line naming the folders,
/// unless the user accepts less; then it runs, is told so, and really can plant the hook.
pub fn without_user_namespaces_a_repository_in_the_workspace_is_refused_unless_accepted() {
    for allow_weaker in [false, true] {
        let w = workspace_with_a_repo();
        let mut policy = SandboxPolicy::workspace_write(vec![w.path().to_path_buf()], false);
        policy.allow_weaker = allow_weaker;
        let root = w.path().to_str().expect("utf-8");
        // The attacker's own namespace, in which it may forbid further ones.
        let no_userns = [
            "unshare",
            "--user",
            "--map-root-user",
            "sh",
            "-c",
            "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$@\"",
            "sh",
        ];
        let full = attacker_argv(&policy, &["sh", "-c", PLANT_HOOKS, "sh", root]);
        // After the setpriv prefix, if there is one.
        let at = full.len() - helper_argv(Path::new(""), &policy, &[]).len() - 5;
        let mut argv = full[..at].to_vec();
        argv.extend(no_userns.map(String::from));
        argv.extend(full[at..].iter().cloned());
        let o = Command::new(&argv[0])
            .args(&argv[1..])
            .env("HOME", "/nonexistent")
            .output()
            .expect("unshare");
        let (out, err) = (
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
        );
        let git = w.path().join(".git");
        let codex = w.path().join(".codex");
        let agents = w.path().join(".agents");
        let paths = format!(
            "{}, {}, {}",
            agents.display(),
            codex.display(),
            git.display()
        );
        if !allow_weaker {
            assert_eq!(o.status.code(), Some(126), "{}", text(&o));
            assert_eq!(
                err,
                format!(
                    "codex sandbox: cannot keep {paths} read-only: this system does not let unprivileged users create a user namespace (No space left on device (os error 28)), which the sandbox needs to keep them read-only; the command was not run: allow unprivileged user namespaces (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone or kernel.apparmor_restrict_unprivileged_userns), or set sandbox_allow_weaker = true in config.toml to run without that protection\n"
                )
            );
            assert!(out.is_empty() && !git.join("hooks/pre-commit").exists());
        } else {
            // (Its last `git status` may fail: with nothing held, the attack replaced `.git`.)
            assert!(
                err.starts_with(&format!(
                    "codex sandbox: weaker than workspace-write: {paths} stay writable: "
                )),
                "{err}"
            );
            assert!(out.contains("PLANTED hook"), "{}", text(&o));
            assert!(
                git.join("hooks/pre-commit").exists()
                    || w.path().join(".git-old/hooks/pre-commit").exists()
            );
        }
    }
}
