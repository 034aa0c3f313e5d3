//! install.sh end to end: the real script, under dash, bash, zsh and a busybox-only PATH, with
//! curl or wget, installing the real release archives from a loopback mirror.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use codex_e2e::mirror::{Fault, Mirror};
use codex_e2e::{e2e_dir, workspace_root};
use codex_installer::layout::{InstallLock, Layout, LockBusy};
use codex_installer::target::{Binary, Target};

const A: &str = "1.2.3-e2e.1";
const B: &str = "1.3.0-e2e.1";

fn host() -> &'static Target {
    xtask::dist::host_target().expect("host target")
}

/// A shell and the tools it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shell {
    DashCurl,
    BashWget,
    ZshCurl,
    /// A PATH holding only busybox applets (its sh, wget, sha256sum, tar…).
    Busybox,
}

const SHELLS: [Shell; 4] = [
    Shell::DashCurl,
    Shell::BashWget,
    Shell::ZshCurl,
    Shell::Busybox,
];

/// Everything install.sh calls, besides the shell and the downloader.
const TOOLS: &[&str] = &[
    "uname", "mkdir", "rm", "mv", "ln", "tar", "gzip", "chmod", "sed", "grep", "cat", "readlink",
    "date", "dirname", "tr", "head", "sleep",
];

fn which(tool: &str) -> PathBuf {
    xtask::tools::on_path(tool).unwrap_or_else(|| panic!("{tool} is not installed"))
}

/// A temporary home, a mirror with releases A and B (latest), and a PATH built for `shell`.
struct World {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    bin: PathBuf,
    tools: PathBuf,
    shell: Shell,
    mirror: Mirror,
}

impl World {
    fn new(shell: Shell) -> World {
        let a = codex_e2e::release(A, &[host()]).expect("release A");
        let b = codex_e2e::release(B, &[host()]).expect("release B");
        let tmp = tempfile::Builder::new()
            .prefix("install-sh-")
            .tempdir_in(e2e_dir())
            .expect("tmp");
        let root = tmp.path().join("mirror");
        let mirror = codex_e2e::serve_releases(&root, &[(&a, A), (&b, B)], false).expect("mirror");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        let tools = tmp.path().join("tools");
        let w = World {
            bin: home.join(".local/bin"),
            home,
            tools,
            shell,
            mirror,
            _tmp: tmp,
        };
        w.make_tools(&["sha256sum"]);
        w
    }

    /// (Re)builds the PATH folder: the shell's own tools plus `extra`.
    fn make_tools(&self, extra: &[&str]) {
        let _ = std::fs::remove_dir_all(&self.tools);
        std::fs::create_dir_all(&self.tools).expect("tools");
        let link = |name: &str, to: &Path| symlink(to, self.tools.join(name)).expect("symlink");
        match self.shell {
            Shell::Busybox => {
                let busybox = which("busybox");
                let out = Command::new(&busybox)
                    .arg("--list")
                    .output()
                    .expect("busybox --list");
                for applet in String::from_utf8_lossy(&out.stdout).lines() {
                    if applet == "sha256sum" && !extra.contains(&"sha256sum") {
                        continue;
                    }
                    link(applet, &busybox);
                }
            }
            _ => {
                let (shell, fetcher) = match self.shell {
                    Shell::DashCurl => ("dash", "curl"),
                    Shell::BashWget => ("bash", "wget"),
                    _ => ("zsh", "curl"),
                };
                for t in TOOLS.iter().chain([&shell, &fetcher]).chain(extra) {
                    link(t, &which(t));
                }
            }
        }
    }

    fn shell_cmd(&self) -> Command {
        let (program, name) = match self.shell {
            Shell::DashCurl => ("dash", "dash"),
            Shell::BashWget => ("bash", "bash"),
            Shell::ZshCurl => ("zsh", "zsh"),
            Shell::Busybox => ("sh", "sh"),
        };
        let mut c = Command::new(self.tools.join(program));
        c.arg(workspace_root().join("install.sh"))
            .env_clear()
            .env("PATH", &self.tools)
            .env("HOME", &self.home)
            .env("SHELL", format!("/bin/{name}"))
            .env("CODEX_RELEASE_BASE_URL", self.mirror.base_url());
        c
    }

    fn install(&self, args: &[&str]) -> Output {
        self.shell_cmd()
            .args(args)
            .output()
            .expect("run install.sh")
    }

    fn version(&self) -> String {
        let out = Command::new(self.bin.join("codex"))
            .arg("--version")
            .output()
            .expect("run codex");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned()
    }

    fn receipt(&self) -> serde_json::Value {
        let path = self.home.join(".codex/packages/standalone/receipt.json");
        serde_json::from_str(&std::fs::read_to_string(path).expect("receipt")).expect("json")
    }

    fn rc_file(&self) -> PathBuf {
        match self.shell {
            Shell::BashWget => self.home.join(".bashrc"),
            Shell::ZshCurl => self.home.join(".zshrc"),
            _ => self.home.join(".profile"),
        }
    }

    fn archive(&self) -> String {
        format!("/{}", host().archive_name(Binary::Codex))
    }
}

fn ok(shell: Shell, out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{shell:?}: exit {:?}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Failure with exactly one line on stderr, `error: …`.
fn one_error(shell: Shell, out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "{shell:?}: expected failure; stderr: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "{shell:?}: one error line expected, got:\n{stderr}"
    );
    assert!(lines[0].starts_with("error: "), "{shell:?}: {stderr}");
    lines[0].to_owned()
}

#[test]
fn install_sh_is_shellcheck_clean_posix_sh() {
    let out = Command::new(which("shellcheck"))
        .args(["--shell=sh", "--severity=style"])
        .arg(workspace_root().join("install.sh"))
        .output()
        .expect("shellcheck");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn fresh_install_works_in_every_shell_and_codex_update_can_manage_it() {
    for shell in SHELLS {
        let w = World::new(shell);
        let out = ok(shell, &w.install(&[]));
        assert!(
            out.contains(&format!("installed codex {B} ({}", host().triple)),
            "{shell:?}: {out}"
        );
        assert_eq!(w.version(), B, "{shell:?}");
        let exec_server = Command::new(w.bin.join("codex-exec-server"))
            .arg("--version")
            .output()
            .expect("run");
        assert!(
            String::from_utf8_lossy(&exec_server.stdout).contains(B),
            "{shell:?}"
        );
        let r = w.receipt();
        assert_eq!(r["installed_by"], "install.sh", "{shell:?}");
        assert_eq!(r["release"], format!("{B}-{}", host().triple), "{shell:?}");
        assert_eq!(r["source"], w.mirror.base_url(), "{shell:?}");
        // The layout is the installer crate's: `codex update` takes over from here.
        let out = Command::new(w.bin.join("codex"))
            .args(["update", "--yes", "--version", A, "--allow-downgrade"])
            .env("HOME", &w.home)
            .env("CI", "1")
            .output()
            .expect("codex update");
        ok(shell, &out);
        assert_eq!(w.version(), A, "{shell:?}");
    }
}

#[test]
fn reinstalling_the_same_version_changes_nothing() {
    for shell in SHELLS {
        let w = World::new(shell);
        ok(shell, &w.install(&["--version", B]));
        let receipt = w.receipt();
        let out = ok(shell, &w.install(&["--version", B]));
        assert!(out.contains("already installed"), "{shell:?}: {out}");
        assert_eq!(w.receipt(), receipt, "{shell:?}: the receipt is untouched");
        assert_eq!(w.version(), B);
    }
}

#[test]
fn upgrade_keeps_the_previous_release_and_pins_accept_v_and_rust_v() {
    for shell in SHELLS {
        let w = World::new(shell);
        ok(shell, &w.install(&["--version", &format!("rust-v{A}")]));
        assert_eq!(w.version(), A, "{shell:?}");
        let out = ok(shell, &w.install(&[]));
        assert!(
            out.contains(&format!("previous release kept: {A}-")),
            "{shell:?}: {out}"
        );
        assert_eq!(w.version(), B, "{shell:?}");
        assert_eq!(w.receipt()["previous"], format!("{A}-{}", host().triple));
        let out = w
            .shell_cmd()
            .env("CODEX_VERSION", format!("v{A}"))
            .output()
            .expect("run");
        ok(shell, &out);
        assert_eq!(w.version(), A, "{shell:?}: CODEX_VERSION pins too");
    }
}

#[test]
fn unsupported_platform_lists_the_supported_targets() {
    for shell in SHELLS {
        let w = World::new(shell);
        let fake = w.tools.join("uname");
        let _ = std::fs::remove_file(&fake);
        std::fs::write(&fake, "#!/bin/sh\ncase \"$1\" in -s) echo FreeBSD ;; -m) echo amd64 ;; -sm) echo FreeBSD amd64 ;; *) echo FreeBSD ;; esac\n")
            .expect("fake uname");
        set_mode(&fake, 0o755);
        let err = one_error(shell, &w.install(&[]));
        assert!(
            err.contains(
                "no codex release for FreeBSD amd64; releases exist for: x86_64-unknown-linux-musl"
            ),
            "{shell:?}: {err}"
        );
        assert!(!w.bin.join("codex").exists());
    }
}

#[test]
fn failures_leave_the_previous_install_working() {
    for shell in SHELLS {
        let w = World::new(shell);
        ok(shell, &w.install(&["--version", A]));
        let archive = w.archive();

        // Checksum mismatch: the tampered archive is never extracted.
        let mut bad = std::fs::read(
            codex_e2e::release(B, &[host()])
                .expect("B")
                .dir
                .join(&archive[1..]),
        )
        .expect("archive");
        let mid = bad.len() / 2;
        bad[mid] ^= 0xff;
        // Rules match by substring and the first wins: keep the `.sha256` sidecar intact.
        w.mirror.inject(".sha256", Fault::NoRanges, None);
        w.mirror.inject(&archive, Fault::Replace(bad), None);
        let err = one_error(shell, &w.install(&[]));
        assert!(
            err.contains("checksum mismatch for") && err.contains("expected sha256"),
            "{shell:?}: {err}"
        );
        assert_eq!(w.version(), A, "{shell:?}");
        w.mirror.clear_faults();

        // The same for the exec-server archive, which is checked in a background job.
        let es = format!("/{}", host().archive_name(Binary::ExecServer));
        let mut bad = std::fs::read(
            codex_e2e::release(B, &[host()])
                .expect("B")
                .dir
                .join(&es[1..]),
        )
        .expect("archive");
        let last = bad.len() - 10;
        bad[last] ^= 0xff;
        w.mirror.inject(".sha256", Fault::NoRanges, None);
        w.mirror.inject(&es, Fault::Replace(bad), None);
        let err = one_error(shell, &w.install(&[]));
        assert!(
            err.contains("checksum mismatch for codex-exec-server-"),
            "{shell:?}: {err}"
        );
        assert_eq!(w.version(), A, "{shell:?}");
        w.mirror.clear_faults();

        // A missing release.
        let err = one_error(shell, &w.install(&["--version", "9.9.9"]));
        assert!(
            err.contains("release 9.9.9 was not found"),
            "{shell:?}: {err}"
        );
        assert_eq!(w.version(), A);

        // A download that keeps breaking off.
        w.mirror.inject(".sha256", Fault::NoRanges, None);
        w.mirror.inject(&archive, Fault::Truncate(1000), None);
        let err = one_error(shell, &w.install(&[]));
        assert!(
            err.contains("cannot download") || err.contains("checksum mismatch"),
            "{shell:?}: {err}"
        );
        assert_eq!(w.version(), A, "{shell:?}");
        w.mirror.clear_faults();

        // Nothing is left behind by the failures: no staging, no lock.
        let root = w.home.join(".codex/packages/standalone");
        assert!(!root.join(".lock").exists(), "{shell:?}");
        let staging: Vec<_> = std::fs::read_dir(root.join(".staging"))
            .map(|d| d.flatten().collect())
            .unwrap_or_default();
        assert!(staging.is_empty(), "{shell:?}: {staging:?}");
    }
}

#[test]
fn unwritable_install_dir_fails_before_downloading() {
    for shell in SHELLS {
        let w = World::new(shell);
        // A place no one can create a folder in, root included.
        let err = one_error(shell, &w.install(&["--install-dir", "/proc/codex-bin"]));
        assert!(
            err.contains("cannot install into /proc/codex-bin: not writable"),
            "{shell:?}: {err}"
        );
        assert!(
            w.mirror.requests().is_empty(),
            "{shell:?}: nothing downloaded"
        );
    }
}

#[test]
fn a_malformed_version_is_one_error_and_downloads_nothing() {
    for shell in SHELLS {
        let w = World::new(shell);
        let err = one_error(shell, &w.install(&["--version", "banana"]));
        assert!(
            err.contains("version 'banana' is not a release version like 1.2.3"),
            "{shell:?}: {err}"
        );
        assert!(
            w.mirror.requests().is_empty(),
            "{shell:?}: nothing downloaded"
        );
        assert!(!w.bin.join("codex").exists(), "{shell:?}");
    }
}

#[test]
fn the_install_lock_is_shared_with_codex_update() {
    for shell in SHELLS {
        let w = World::new(shell);
        let layout = Layout::new(&w.home.join(".codex"), &w.bin);
        // Held by the installer library, as `codex update` holds it.
        let held = InstallLock::acquire(&layout).expect("lock");
        let err = one_error(shell, &w.install(&[]));
        let busy = LockBusy {
            pid: std::process::id(),
        };
        assert!(err.ends_with(&busy.to_string()), "{shell:?}: {err}");
        assert!(!w.bin.join("codex").exists(), "{shell:?}");
        drop(held);

        // A lock whose owner is gone is taken over.
        let mut child = Command::new("true").spawn().expect("spawn");
        let dead = child.id();
        child.wait().expect("wait");
        std::fs::create_dir_all(layout.lock_dir()).expect("mkdir");
        std::fs::write(layout.lock_dir().join("pid"), format!("{dead}\n")).expect("pid");
        ok(shell, &w.install(&["--version", A]));
        assert_eq!(w.version(), A, "{shell:?}");
        assert!(!layout.lock_dir().exists(), "{shell:?}: released");
        // And the library takes the lock install.sh released.
        drop(InstallLock::acquire(&layout).expect("free again"));
    }
}

#[test]
fn no_checksum_tool_fails_closed() {
    for shell in SHELLS {
        let w = World::new(shell);
        w.make_tools(&[]);
        let err = one_error(shell, &w.install(&[]));
        assert!(err.contains("no SHA-256 tool found"), "{shell:?}: {err}");
        assert!(!w.bin.join("codex").exists(), "{shell:?}");
        assert!(
            w.mirror.requests().is_empty(),
            "{shell:?}: nothing downloaded"
        );
    }
}

#[test]
fn path_block_is_added_once_and_only_when_needed() {
    for shell in SHELLS {
        let w = World::new(shell);
        let rc = w.rc_file();
        std::fs::write(&rc, "# my settings\nalias ll='ls -l'\n").expect("rc");
        ok(shell, &w.install(&[]));
        ok(shell, &w.install(&["--version", A]));
        let text = std::fs::read_to_string(&rc).expect("rc");
        assert_eq!(
            text.matches("# >>> codex installer >>>").count(),
            1,
            "{shell:?}: {text}"
        );
        assert!(
            text.starts_with("# my settings\nalias ll='ls -l'\n"),
            "{shell:?}"
        );
        assert!(
            text.contains(&format!("export PATH=\"{}:$PATH\"", w.bin.display())),
            "{shell:?}: {text}"
        );
        // Only the shell's own file is touched.
        for other in [".bashrc", ".zshrc", ".profile"] {
            let p = w.home.join(other);
            if p != rc {
                assert!(!p.exists(), "{shell:?}: {other} must not be written");
            }
        }

        // With --no-modify-path, or with the bin dir already on PATH, nothing is written.
        let w = World::new(shell);
        let out = ok(shell, &w.install(&["--no-modify-path"]));
        assert!(
            out.contains("export PATH="),
            "{shell:?}: prints the line instead: {out}"
        );
        assert!(!w.rc_file().exists(), "{shell:?}");
        let w = World::new(shell);
        let path = format!("{}:{}", w.bin.display(), w.tools.display());
        ok(
            shell,
            &w.shell_cmd().env("PATH", path).output().expect("run"),
        );
        assert!(!w.rc_file().exists(), "{shell:?}");
    }
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
