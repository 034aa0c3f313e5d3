//! install.sh end to end: the real script, under dash, bash, zsh and a busybox-only PATH, with
//! curl or wget, installing the real release archives from a loopback mirror.
//!
//! The fixture releases are signed with the development key, which the repository's install.sh
//! does not trust (only a development `dist` adds it to the copies it publishes). So the tests run
//! the repository's script with the trusted-keys region that such a release copy has, the way
//! `cargo xtask dist` writes it, and one test runs a fixture's own copy.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use codex_e2e::mirror::{ENDLESS_SLACK, Fault, Mirror};
use codex_e2e::{e2e_dir, workspace_root};
use codex_installer::layout::{InstallLock, Layout, LockBusy, Receipt};
use codex_installer::manifest::MAX_MANIFEST_SIZE;
use codex_installer::signature::{self, DEVELOPMENT_KEY, MAX_SIGNATURE_SIZE, TRUSTED_KEYS};
use codex_installer::target::{Binary, Target};
use xtask::generate::TrustedKeysRegion;

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
    "date", "dirname", "tr", "head", "sleep", "rmdir", "wc",
];

fn which(tool: &str) -> PathBuf {
    xtask::tools::on_path(tool).unwrap_or_else(|| panic!("{tool} is not installed"))
}

/// The tools that check the release signature; the PATH holds the ones a test asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verifier {
    OpenSsl,
    Minisign,
    /// Neither: only the checksums can be checked.
    None,
}

impl Verifier {
    /// What goes on the PATH besides the shell's tools.
    fn tools(self) -> &'static [&'static str] {
        match self {
            Verifier::OpenSsl => &["sha256sum", "openssl"],
            Verifier::Minisign => &["sha256sum", "minisign"],
            Verifier::None => &["sha256sum"],
        }
    }

    /// The signature file install.sh downloads with it.
    fn sig_file(self) -> Option<&'static str> {
        match self {
            Verifier::OpenSsl => Some("manifest.json.sig"),
            Verifier::Minisign => Some("manifest.json.minisig"),
            Verifier::None => None,
        }
    }
}

const VERIFIERS: [Verifier; 2] = [Verifier::OpenSsl, Verifier::Minisign];

/// The one line install.sh prints, before downloading anything, when it is allowed to check only
/// the checksums.
const CHECKSUM_ONLY_WARNING: &str = "warning: neither OpenSSL 3 nor minisign is installed, so the release signature will not be checked, only the SHA-256 checksums of the downloads (--allow-unverified)";

/// The keys a development release copy of install.sh trusts, as its messages list them.
fn development_trusted() -> String {
    let ids: Vec<&str> = signature::keys_for(true).iter().map(|k| k.id).collect();
    format!("(trusted: {})", ids.join(", "))
}

/// The repository's install.sh with the trusted keys of a development release copy.
fn development_install_sh() -> String {
    let path = workspace_root().join("install.sh");
    let text = std::fs::read_to_string(&path).expect("read install.sh");
    xtask::generate::splice(
        "install.sh",
        &text,
        TrustedKeysRegion::NAME,
        &TrustedKeysRegion::Sh.body(&signature::keys_for(true)),
    )
    .expect("install.sh has a trusted-keys region")
}

/// What an install looks like from outside: the release `current` links to, the release folders,
/// the receipt and what the installed `codex --version` says.
#[derive(Debug, PartialEq, Eq)]
struct InstallState {
    current: Option<PathBuf>,
    releases: Vec<String>,
    receipt: Option<String>,
    version: Option<String>,
}

/// A temporary home, a mirror with releases A and B (latest), and a PATH built for `shell`.
struct World {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    bin: PathBuf,
    tools: PathBuf,
    /// The install.sh that runs: the repository's, trusting the development key too.
    script: PathBuf,
    mirror_root: PathBuf,
    shell: Shell,
    mirror: Mirror,
}

impl World {
    fn new(shell: Shell) -> World {
        World::serving(shell, false)
    }

    /// With an HTTPS listener too (its CA in [`Mirror::ca_cert_path`]).
    fn serving(shell: Shell, https: bool) -> World {
        let a = codex_e2e::release(A, &[host()]).expect("release A");
        let b = codex_e2e::release(B, &[host()]).expect("release B");
        let tmp = tempfile::Builder::new()
            .prefix("install-sh-")
            .tempdir_in(e2e_dir())
            .expect("tmp");
        let root = tmp.path().join("mirror");
        let mirror = codex_e2e::serve_releases(&root, &[(&a, A), (&b, B)], https).expect("mirror");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        let tools = tmp.path().join("tools");
        let script = tmp.path().join("install.sh");
        std::fs::write(&script, development_install_sh()).expect("install.sh");
        let w = World {
            bin: home.join(".local/bin"),
            home,
            tools,
            script,
            mirror_root: root,
            shell,
            mirror,
            _tmp: tmp,
        };
        w.make_tools(Verifier::OpenSsl.tools());
        w
    }

    /// (Re)builds the PATH folder: the shell's own tools plus `extra` (for busybox, its
    /// `sha256sum` applet, or the machine's program of that name).
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
                for t in extra.iter().filter(|t| **t != "sha256sum") {
                    link(t, &which(t));
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

    /// The PATH holds the shell's tools and `verifier`.
    fn with_verifier(&self, verifier: Verifier) {
        self.make_tools(verifier.tools());
    }

    /// A command that runs the test's install.sh.
    fn shell_cmd(&self) -> Command {
        self.shell_cmd_for(&self.script)
    }

    /// A command that runs `script` with this world's shell, PATH, home and mirror.
    fn shell_cmd_for(&self, script: &Path) -> Command {
        let (program, name) = match self.shell {
            Shell::DashCurl => ("dash", "dash"),
            Shell::BashWget => ("bash", "bash"),
            Shell::ZshCurl => ("zsh", "zsh"),
            Shell::Busybox => ("sh", "sh"),
        };
        let mut c = Command::new(self.tools.join(program));
        c.arg(script)
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

    fn root(&self) -> PathBuf {
        self.home.join(".codex/packages/standalone")
    }

    /// `file` of release `version` as the mirror serves it (this world's own copy).
    fn published(&self, version: &str, file: &str) -> PathBuf {
        self.mirror_root
            .join("download")
            .join(format!("v{version}"))
            .join(file)
    }

    fn state(&self) -> InstallState {
        let root = self.root();
        let mut releases: Vec<String> = std::fs::read_dir(root.join("releases"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        releases.sort();
        InstallState {
            current: std::fs::read_link(root.join("current")).ok(),
            releases,
            receipt: std::fs::read_to_string(root.join("receipt.json")).ok(),
            version: self.bin.join("codex").exists().then(|| self.version()),
        }
    }

    /// The install is as it was before a refused run: same current release, still working, no
    /// new release folder, same receipt, and no staging or lock left behind.
    fn assert_unchanged(&self, before: &InstallState, what: &str) {
        assert_eq!(&self.state(), before, "{:?}: {what}", self.shell);
        let root = self.root();
        assert!(
            !root.join(".lock").exists(),
            "{:?}: {what}: lock",
            self.shell
        );
        let staging: Vec<_> = std::fs::read_dir(root.join(".staging"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(
            staging.is_empty(),
            "{:?}: {what}: staging left: {staging:?}",
            self.shell
        );
    }

    /// The paths of the requests the mirror answered since the last `clear_requests`.
    fn requested(&self) -> Vec<String> {
        self.mirror.requests().into_iter().map(|r| r.path).collect()
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
            .env("CODEX_ALLOW_DOWNGRADE", "1")
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
        // The expected digest comes from the signed manifest, which is intact.
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
        w.mirror.inject(&archive, Fault::Truncate(1000), None);
        let err = one_error(shell, &w.install(&[]));
        assert!(
            err.contains("cannot download") || err.contains("ended early (1000 of "),
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
        ok(shell, &w.install(&["--version", A, "--allow-downgrade"]));
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
            text.contains(&format!("export PATH='{}'\":$PATH\"", w.bin.display())),
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

/// Issue 20 item 10: an install dir with shell syntax in its name is written into the startup
/// file as data. The test's own shell then reads that file, as every new shell would: nothing in
/// the name runs, and PATH gets the folder exactly. A tab in the name is refused before anything
/// is written (it would make an invalid receipt).
#[test]
fn an_install_dir_with_shell_syntax_is_quoted_in_the_startup_file_and_never_runs() {
    for shell in SHELLS {
        let w = World::new(shell);
        let pwned = w.home.join("pwned");
        let dir = format!(
            "{}/bin $(touch {p}) `touch {p}` it's \"q\" \\ $HOME",
            w.home.display(),
            p = pwned.display()
        );
        ok(shell, &w.install(&["--install-dir", &dir]));
        assert!(
            !pwned.exists(),
            "{shell:?}: the install itself ran the name"
        );
        let rc = w.rc_file();
        let sh = match shell {
            Shell::BashWget => "bash",
            Shell::ZshCurl => "zsh",
            _ => "sh",
        };
        let out = std::process::Command::new(which(sh))
            .arg("-c")
            .arg(format!(". '{}' && printf '%s' \"$PATH\"", rc.display()))
            .env_clear()
            .env("HOME", &w.home)
            .env("PATH", "/usr/bin:/bin")
            .output()
            .expect("source the startup file");
        assert!(
            out.status.success(),
            "{shell:?}: {}",
            codex_e2e::describe(&out)
        );
        assert!(
            !pwned.exists(),
            "{shell:?}: sourcing the startup file ran the name"
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{dir}:/usr/bin:/bin"),
            "{shell:?}"
        );
        assert!(
            std::path::Path::new(&dir).join("codex").exists(),
            "{shell:?}: installed into the folder as named"
        );

        let w = World::new(shell);
        let tabbed = format!("{}/a\tb", w.home.display());
        let err = one_error(shell, &w.install(&["--install-dir", &tabbed]));
        assert!(
            err.contains("has a control character (a tab or newline) in its name"),
            "{shell:?}: {err}"
        );
        assert!(!w.root().exists(), "{shell:?}: nothing installed");
        assert!(!w.rc_file().exists(), "{shell:?}: nothing written");
    }
}

/// Issue 20 item 14: under `umask 000` nothing the install makes is writable by group or
/// others (the folders, the releases and their programs, the bin dir and its links' targets,
/// the receipt).
#[test]
fn under_umask_000_nothing_installed_is_writable_by_others() {
    use std::os::unix::fs::PermissionsExt as _;
    for shell in SHELLS {
        let w = World::new(shell);
        let inner = w.shell_cmd();
        let mut c = Command::new(which("dash"));
        c.arg("-c")
            .arg("umask 000 && exec \"$@\"")
            .arg("sh")
            .arg(inner.get_program())
            .args(inner.get_args())
            .args(["--no-modify-path"])
            .env_clear();
        for (k, v) in inner.get_envs() {
            if let Some(v) = v {
                c.env(k, v);
            }
        }
        ok(shell, &c.output().expect("run install.sh"));
        let mut paths = vec![
            w.home.join(".codex"),
            w.home.join(".codex/packages"),
            w.root(),
            w.root().join("releases"),
            w.root().join("receipt.json"),
            w.bin.clone(),
        ];
        for release in std::fs::read_dir(w.root().join("releases")).expect("releases") {
            let release = release.expect("entry").path();
            for f in std::fs::read_dir(&release).expect("release") {
                paths.push(f.expect("entry").path());
            }
            paths.push(release);
        }
        for p in paths {
            let mode = std::fs::metadata(&p).expect("stat").permissions().mode();
            assert_eq!(
                mode & 0o022,
                0,
                "{shell:?}: {} is mode {mode:o}",
                p.display()
            );
        }
    }
}

/// Issue 20 item 11: GITHUB_TOKEN reaches the API as a header, but never a command line, where
/// any local user reads it in /proc/*/cmdline. Each downloader is replaced by a wrapper that
/// logs its arguments and then runs the real one.
#[test]
fn github_token_is_sent_to_the_api_but_never_put_on_a_command_line() {
    use std::os::unix::fs::PermissionsExt as _;
    const TOKEN: &str = "secret-token-e2e-4711";
    for shell in SHELLS {
        let w = World::new(shell);
        let fetcher = match shell {
            Shell::BashWget | Shell::Busybox => "wget",
            _ => "curl",
        };
        let real = std::fs::canonicalize(w.tools.join(fetcher)).expect("real downloader");
        let log = w.home.join("argv.log");
        std::fs::remove_file(w.tools.join(fetcher)).expect("rm");
        let wrapper = w.tools.join(fetcher);
        let exec = if shell == Shell::Busybox {
            format!("exec '{}' wget \"$@\"", real.display())
        } else {
            format!("exec '{}' \"$@\"", real.display())
        };
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$*\" >>'{}'\n{exec}\n",
                log.display()
            ),
        )
        .expect("wrapper");
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        // Without a manifest at latest/download, install.sh asks the API for the newest tag:
        // the one request that carries the token.
        w.mirror.set_latest(&format!("v{A}"));
        w.mirror
            .inject("latest/download/manifest.json", Fault::Status(404), None);
        w.mirror.clear_requests();
        let out = w
            .shell_cmd()
            .env("GITHUB_TOKEN", TOKEN)
            .env("CODEX_GITHUB_API_URL", w.mirror.api_url())
            .arg("--no-modify-path")
            .output()
            .expect("run install.sh");
        ok(shell, &out);
        assert_eq!(w.version(), A, "{shell:?}");
        let argv = std::fs::read_to_string(&log).expect("argv log");
        assert!(argv.contains("http"), "{shell:?}: the wrapper ran: {argv}");
        assert!(
            !argv.contains(TOKEN),
            "{shell:?}: the token was on a command line: {argv}"
        );
        let requests = w.mirror.requests();
        let api: Vec<_> = requests
            .iter()
            .filter(|r| r.path.starts_with("/api/"))
            .collect();
        assert_eq!(api.len(), 1, "{shell:?}: {requests:?}");
        let want = (shell != Shell::Busybox).then(|| format!("Bearer {TOKEN}"));
        assert_eq!(api[0].authorization, want, "{shell:?}");
        assert!(
            requests
                .iter()
                .all(|r| r.path.starts_with("/api/") || r.authorization.is_none()),
            "{shell:?}: the token went outside the API: {requests:?}"
        );
    }
}

/// The line install.sh prints once a signature checked out.
fn verified_line(version: &str) -> String {
    format!(
        "verified the signature of release {version} (key {})",
        DEVELOPMENT_KEY.id
    )
}

#[test]
fn a_release_signed_by_a_trusted_key_is_verified_with_openssl_3() {
    for shell in SHELLS {
        let w = World::new(shell);
        let out = w.install(&["--verbose"]);
        let stdout = ok(shell, &out);
        assert!(stdout.contains(&verified_line(B)), "{shell:?}: {stdout}");
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains("checking the release signature with OpenSSL 3."),
            "{shell:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(w.version(), B, "{shell:?}");
        // The signature comes with the manifest; the archives' digests come from the manifest.
        let paths = w.requested();
        assert!(
            paths.iter().any(|p| p.ends_with("/manifest.json.sig")),
            "{shell:?}: {paths:?}"
        );
        assert!(
            !paths
                .iter()
                .any(|p| p.ends_with(".minisig") || p.ends_with(".sha256")),
            "{shell:?}: {paths:?}"
        );
    }
}

#[test]
fn without_openssl_3_a_release_is_verified_with_minisign() {
    // LibreSSL, and OpenSSL before 3, cannot verify raw Ed25519: minisign is used instead.
    for (shell, fake) in SHELLS
        .into_iter()
        .map(|s| (s, "LibreSSL 3.8.2"))
        .chain([(Shell::DashCurl, "OpenSSL 1.1.1w  11 Sep 2023")])
    {
        let w = World::new(shell);
        w.with_verifier(Verifier::Minisign);
        let openssl = w.tools.join("openssl");
        std::fs::write(&openssl, format!("#!/bin/sh\necho '{fake}'\n")).expect("fake openssl");
        set_mode(&openssl, 0o755);
        let stdout = ok(shell, &w.install(&[]));
        assert!(stdout.contains(&verified_line(B)), "{shell:?}: {stdout}");
        assert_eq!(w.version(), B, "{shell:?}");
        let paths = w.requested();
        assert!(
            paths.iter().any(|p| p.ends_with("/manifest.json.minisig")),
            "{shell:?}: {paths:?}"
        );
        assert!(
            !paths.iter().any(|p| p.ends_with(".sig")),
            "{shell:?}: {paths:?}"
        );
    }
}

#[test]
fn the_release_copy_of_install_sh_trusts_the_development_key_it_was_signed_with() {
    let b = codex_e2e::release(B, &[host()]).expect("release B");
    for shell in SHELLS {
        let w = World::new(shell);
        // Pinned to its own release: no --version needed.
        let stdout = ok(
            shell,
            &w.shell_cmd_for(&b.dir.join("install.sh"))
                .output()
                .expect("run"),
        );
        assert!(stdout.contains(&verified_line(B)), "{shell:?}: {stdout}");
        assert_eq!(w.version(), B, "{shell:?}");
    }
}

#[test]
fn the_repository_copy_of_install_sh_refuses_a_release_signed_by_the_development_key() {
    let ids: Vec<&str> = TRUSTED_KEYS.iter().map(|k| k.id).collect();
    let trusted = format!("(trusted: {})", ids.join(", "));
    for shell in SHELLS {
        for verifier in VERIFIERS {
            let w = World::new(shell);
            w.with_verifier(verifier);
            let before = w.state();
            let out = w
                .shell_cmd_for(&workspace_root().join("install.sh"))
                .output()
                .expect("run");
            let err = one_error(shell, &out);
            assert!(
                err.contains(&format!("was not signed by any trusted key {trusted};")),
                "{shell:?} {verifier:?}: {err}"
            );
            w.assert_unchanged(&before, "development-signed release");
        }
    }
}

/// Issue 20 item 9: where the signature cannot be checked, nothing is downloaded, installed or
/// run unless the user says that the checksums are enough; then the warning comes first.
#[test]
fn without_openssl_3_or_minisign_nothing_is_installed_unless_the_user_accepts_checksums_only() {
    for shell in SHELLS {
        let w = World::new(shell);
        w.with_verifier(Verifier::None);
        for out in [
            w.install(&[]),
            w.shell_cmd()
                .env("CODEX_REQUIRE_SIGNATURE", "0")
                .output()
                .expect("run"),
        ] {
            let err = one_error(shell, &out);
            assert_eq!(
                err,
                "error: neither OpenSSL 3 nor minisign is installed, so the release signature cannot be checked and nothing was installed; install one (macOS: brew install minisign) and run again, or pass --allow-unverified (CODEX_ALLOW_UNVERIFIED=1) to install with only the SHA-256 checksums checked",
                "{shell:?}"
            );
            assert!(w.requested().is_empty(), "{shell:?}: nothing downloaded");
            assert!(
                !w.root().exists() && !w.bin.join("codex").exists(),
                "{shell:?}"
            );
        }

        let by_flag = w.install(&["--allow-unverified"]);
        let stdout = ok(shell, &by_flag);
        let stderr = String::from_utf8_lossy(&by_flag.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines, [CHECKSUM_ONLY_WARNING], "{shell:?}: {stderr}");
        assert!(!stdout.contains("verified the signature"), "{shell:?}");
        assert_eq!(w.version(), B, "{shell:?}");
        let paths = w.requested();
        assert!(
            !paths
                .iter()
                .any(|p| p.ends_with(".sig") || p.ends_with(".minisig") || p.ends_with(".sha256")),
            "{shell:?}: {paths:?}"
        );
        // Its checksums are still checked, from the manifest.
        let mut bad = std::fs::read(w.published(A, &w.archive()[1..])).expect("archive");
        let mid = bad.len() / 2;
        bad[mid] ^= 0xff;
        w.mirror.inject(&w.archive(), Fault::Replace(bad), None);
        let before = w.state();
        let by_env = w
            .shell_cmd()
            .args(["--version", A, "--allow-downgrade"])
            .env("CODEX_ALLOW_UNVERIFIED", "1")
            .output()
            .expect("run");
        assert!(!by_env.status.success(), "{shell:?}");
        let stderr = String::from_utf8_lossy(&by_env.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{shell:?}: {stderr}");
        assert_eq!(lines[0], CHECKSUM_ONLY_WARNING, "{shell:?}");
        assert!(
            lines[1].contains("checksum mismatch for"),
            "{shell:?}: {stderr}"
        );
        w.assert_unchanged(&before, "checksum mismatch without a verifier");
    }
}

#[test]
fn require_signature_refuses_to_install_without_a_verifier_and_downloads_nothing() {
    for shell in SHELLS {
        let w = World::new(shell);
        ok(shell, &w.install(&["--version", A]));
        w.with_verifier(Verifier::None);
        let before = w.state();
        w.mirror.clear_requests();
        let by_flag = w.install(&["--require-signature", "--allow-unverified"]);
        let by_env = w
            .shell_cmd()
            .arg("--allow-unverified")
            .env("CODEX_REQUIRE_SIGNATURE", "1")
            .output()
            .expect("run");
        for out in [by_flag, by_env] {
            let err = one_error(shell, &out);
            assert!(
                err.contains("neither OpenSSL 3 nor minisign is installed, so the release signature cannot be checked, and --require-signature"),
                "{shell:?}: {err}"
            );
            assert!(w.requested().is_empty(), "{shell:?}: nothing downloaded");
            w.assert_unchanged(&before, "--require-signature without a verifier");
        }
        // Set to 0 it is off.
        let out = w
            .shell_cmd()
            .arg("--allow-unverified")
            .env("CODEX_REQUIRE_SIGNATURE", "0")
            .output()
            .expect("run");
        ok(shell, &out);
        assert_eq!(w.version(), B, "{shell:?}");
    }
}

/// Issue 20 item 12: a hostile mirror's endless manifest, signature or archive, with a false
/// 1.5 GiB length or none, is stopped at the cap or at the size in the signed manifest, in every
/// shell with every downloader; the install is untouched and nothing is left in its folders.
#[test]
fn endless_downloads_stop_at_the_cap_or_the_signed_size_in_every_shell() {
    for shell in SHELLS {
        let w = World::new(shell);
        ok(shell, &w.install(&["--version", A]));
        let archive_size = std::fs::metadata(w.published(B, &w.archive()[1..]))
            .expect("archive")
            .len();
        let cases = [
            ("/manifest.json", MAX_MANIFEST_SIZE, MAX_MANIFEST_SIZE),
            // Capped in transit like the manifest, then held to its own, smaller cap.
            ("/manifest.json.sig", MAX_MANIFEST_SIZE, MAX_SIGNATURE_SIZE),
            (w.archive().as_str(), archive_size, archive_size),
        ]
        .map(|(p, transit, said)| (p.to_owned(), transit, said));
        for (pattern, transit, said) in cases {
            for announced in [true, false] {
                let case = format!("{shell:?} {pattern} (announced: {announced})");
                let before = w.state();
                let sent_before = w.mirror.endless_bytes_sent(0).len();
                w.mirror
                    .inject(&pattern, Fault::Endless { announced }, Some(1));
                let err = one_error(shell, &w.install(&[]));
                assert!(
                    err.contains(&format!("{pattern} is larger than {said} bytes"))
                        && err.contains("the download was stopped and discarded"),
                    "{case}: {err}"
                );
                let took = w.mirror.taken_from_endless(sent_before, &pattern);
                assert!(
                    took < transit + ENDLESS_SLACK,
                    "{case}: the client took {took} bytes"
                );
                w.assert_unchanged(&before, &case);
                w.mirror.clear_faults();
            }
        }
        let staging = w.root().join(".staging");
        let left: Vec<_> = std::fs::read_dir(&staging)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{shell:?}: left behind: {left:?}");
    }
}

/// Issue 20 item 13: from an https release source, a redirect to plain http is refused with every
/// downloader (curl with --proto, GNU and busybox wget by the headers they print), and nothing
/// from the http side is installed.
#[test]
fn a_redirect_from_https_to_plain_http_is_refused_by_every_downloader() {
    for shell in SHELLS {
        let w = World::serving(shell, true);
        let ca = w.mirror.ca_cert_path().expect("CA");
        let wgetrc = w.home.join("wgetrc");
        std::fs::write(&wgetrc, format!("ca_certificate = {}\n", ca.display())).expect("wgetrc");
        let https = w.mirror.https_base_url().expect("https");
        if shell == Shell::Busybox {
            // busybox's TLS client takes no CA file, so it cannot trust the mirror's own CA; what
            // is tested is what it does with the redirect.
            let wget = w.tools.join("wget");
            std::fs::remove_file(&wget).expect("rm wget");
            std::fs::write(
                &wget,
                format!(
                    "#!/bin/sh\nexec '{}' wget --no-check-certificate \"$@\"\n",
                    which("busybox").display()
                ),
            )
            .expect("wget wrapper");
            set_mode(&wget, 0o755);
        }
        let run = |args: &[&str]| {
            w.shell_cmd()
                .args(args)
                .env("CODEX_RELEASE_BASE_URL", &https)
                .env("CURL_CA_BUNDLE", ca)
                .env("WGETRC", &wgetrc)
                .output()
                .expect("run")
        };
        ok(shell, &run(&["--version", A]));
        let before = w.state();
        for file in ["manifest.json", &w.archive()[1..]] {
            let plain = format!("{}/download/v{B}/{file}", w.mirror.base_url());
            w.mirror.inject(
                &format!("/v{B}/{file}"),
                Fault::Redirect(plain.clone()),
                None,
            );
            w.mirror.clear_requests();
            let err = one_error(shell, &run(&[]));
            assert!(
                err.contains("refusing a redirect from https to plain http")
                    && err.contains("the release source must stay on https"),
                "{shell:?} {file}: {err}"
            );
            // The wgets name where it led.
            if matches!(shell, Shell::BashWget | Shell::Busybox) {
                assert!(err.contains(&plain), "{shell:?} {file}: {err}");
            }
            w.assert_unchanged(&before, file);
            w.mirror.clear_faults();
        }
    }
}

/// Installs A, lets `tamper` change this world's mirror copy of release B, then checks that
/// installing B is refused with one error containing `expect`, with either verifier, and that the
/// install of A is untouched.
fn refused_after(tamper: impl Fn(&World), expect: &dyn Fn(Verifier) -> String) {
    for shell in SHELLS {
        let w = World::new(shell);
        ok(shell, &w.install(&["--version", A]));
        tamper(&w);
        for verifier in VERIFIERS {
            w.with_verifier(verifier);
            let before = w.state();
            for args in [&[][..], &["--version", B][..]] {
                let err = one_error(shell, &w.install(args));
                let want = expect(verifier);
                assert!(
                    err.contains(&want),
                    "{shell:?} {verifier:?} {args:?}: {err}\nexpected: {want}"
                );
                w.assert_unchanged(&before, &format!("{verifier:?} {args:?}"));
                assert_eq!(w.version(), A, "{shell:?} {verifier:?}: A still runs");
            }
        }
    }
}

#[test]
fn a_manifest_altered_by_one_byte_is_refused_and_nothing_changes() {
    let untrusted = format!(
        "was not signed by any trusted key {}; the download may have been tampered with, so nothing was installed",
        development_trusted()
    );
    refused_after(
        |w| {
            let path = w.published(B, "manifest.json");
            let mut bytes = std::fs::read(&path).expect("manifest");
            // A digit of the commit: still a well-formed manifest, just not the signed one.
            let at = bytes
                .windows(10)
                .position(|x| x == b"\"commit\": ")
                .expect("commit line")
                + 11;
            bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
            std::fs::write(&path, bytes).expect("write");
        },
        &|_| untrusted.clone(),
    );
}

#[test]
fn a_manifest_signed_by_an_unknown_key_is_refused_and_nothing_changes() {
    let untrusted = format!(
        "was not signed by any trusted key {}; the download may have been tampered with",
        development_trusted()
    );
    refused_after(
        |w| {
            let seed = codex_e2e::unknown_seed();
            let manifest = std::fs::read(w.published(B, "manifest.json")).expect("manifest");
            std::fs::write(
                w.published(B, "manifest.json.sig"),
                signature::sign(&seed, &manifest).to_sig_file(),
            )
            .expect("sig");
            std::fs::write(
                w.published(B, "manifest.json.minisig"),
                signature::minisign(
                    &seed,
                    &signature::key_id(&signature::public_key(&seed)),
                    &manifest,
                    "timestamp:1700000000\tfile:manifest.json",
                ),
            )
            .expect("minisig");
        },
        &|_| untrusted.clone(),
    );
}

#[test]
fn a_minisig_that_claims_a_trusted_key_number_but_is_not_by_it_is_refused() {
    // minisign runs only for the key the signature names; naming a trusted key is not enough.
    let untrusted = format!(
        "was not signed by any trusted key {}",
        development_trusted()
    );
    refused_after(
        |w| {
            let seed = codex_e2e::unknown_seed();
            let manifest = std::fs::read(w.published(B, "manifest.json")).expect("manifest");
            let development = DEVELOPMENT_KEY.key_id().expect("key id");
            std::fs::write(
                w.published(B, "manifest.json.minisig"),
                signature::minisign(&seed, &development, &manifest, "file:manifest.json"),
            )
            .expect("minisig");
            // And a .sig that is a valid signature of other bytes.
            let dev_seed = signature::seed_from_base64(
                &std::fs::read_to_string(workspace_root().join("keys/dev-signing-key.b64"))
                    .expect("development seed"),
            )
            .expect("seed");
            std::fs::write(
                w.published(B, "manifest.json.sig"),
                signature::sign(&dev_seed, b"another file").to_sig_file(),
            )
            .expect("sig");
        },
        &|_| untrusted.clone(),
    );
}

#[test]
fn a_release_without_its_signature_file_is_refused_and_nothing_changes() {
    refused_after(
        |w| {
            for v in VERIFIERS {
                let file = v.sig_file().expect("a signature file");
                std::fs::remove_file(w.published(B, file)).expect("remove");
            }
        },
        &|v| {
            format!(
                "/{} answered 404); refusing it, since codex installs only signed releases",
                v.sig_file().expect("a signature file")
            )
        },
    );
}

#[test]
fn a_malformed_signature_is_refused_and_nothing_changes() {
    refused_after(
        |w| {
            std::fs::write(w.published(B, "manifest.json.sig"), "not a signature\n").expect("sig");
            std::fs::write(
                w.published(B, "manifest.json.minisig"),
                "untrusted comment: x\nnot a signature\n",
            )
            .expect("minisig");
        },
        &|v| format!("is malformed ({}", v.sig_file().expect("a signature file")),
    );
}

fn downgrade_error(from: &str, to: &str) -> String {
    format!(
        "error: release {to} is older than the installed {from}; refusing to downgrade (pass --allow-downgrade, or set CODEX_ALLOW_DOWNGRADE=1, to install it anyway)"
    )
}

#[test]
fn an_older_release_is_refused_unless_a_downgrade_is_allowed() {
    for shell in SHELLS {
        let w = World::new(shell);
        ok(shell, &w.install(&[]));
        assert_eq!(w.version(), B, "{shell:?}");
        let before = w.state();

        // Pinned: refused before anything is downloaded.
        w.mirror.clear_requests();
        let err = one_error(shell, &w.install(&["--version", A]));
        assert_eq!(err, downgrade_error(B, A), "{shell:?}");
        assert!(w.requested().is_empty(), "{shell:?}: {:?}", w.requested());
        w.assert_unchanged(&before, "pinned downgrade");

        // The newest release is older than the installed one: refused once its manifest is
        // verified.
        w.mirror.set_latest(&format!("v{A}"));
        let err = one_error(shell, &w.install(&[]));
        assert_eq!(err, downgrade_error(B, A), "{shell:?}");
        w.assert_unchanged(&before, "latest is older");

        // Allowed by the flag, and by the variable.
        let stdout = ok(shell, &w.install(&["--allow-downgrade"]));
        assert!(stdout.contains(&verified_line(A)), "{shell:?}: {stdout}");
        assert_eq!(w.version(), A, "{shell:?}");
        ok(shell, &w.install(&["--version", B]));
        assert_eq!(w.version(), B, "{shell:?}");
        let out = w
            .shell_cmd()
            .args(["--version", A])
            .env("CODEX_ALLOW_DOWNGRADE", "1")
            .output()
            .expect("run");
        ok(shell, &out);
        assert_eq!(w.version(), A, "{shell:?}");
    }
}

#[test]
fn downgrade_protection_orders_versions_by_semver_precedence_from_either_receipt_writer() {
    // B is 1.3.0-e2e.1. Each installed version, and whether B is older than it.
    let installed = [
        "1.3.0",
        "1.3.0-e2e.10",
        "1.3.0-e2e.1.0",
        "1.3.0-e2e.a",
        "1.3.0-e2f",
        "1.3.0-e2e-2",
        "1.10.0",
        "2.0.0-alpha",
        "1.3.1-e2e.0",
        "1.3.0-e2e.1+build.5",
        "1.3.0-e2e.1",
        "1.3.0-e2e.01",
        "1.3.0-e2e.0",
        "1.3.0-e2e",
        "1.3.0-e2d.9",
        "1.3.0-E2E.5",
        "1.3.0-e2",
        "1.2.10",
        "0.99.99",
        "01.3.0-x",
        "not-a-version",
    ];
    let b = semver::Version::parse(B).expect("B");
    for shell in SHELLS {
        let w = World::new(shell);
        // Every run that gets past the check stops at once, at the manifest.
        w.mirror.inject("/manifest.json", Fault::Status(404), None);
        let root = w.root();
        std::fs::create_dir_all(&root).expect("root");
        for (i, v) in installed.iter().enumerate() {
            let newer = semver::Version::parse(v)
                .is_ok_and(|v| b.cmp_precedence(&v) == std::cmp::Ordering::Less);
            // As codex update writes it (serde's pretty JSON), or install.sh, or on one line.
            let receipt = Receipt {
                schema: 1,
                method: "standalone".to_owned(),
                version: (*v).to_owned(),
                target: host().triple.to_owned(),
                release: format!("{v}-{}", host().triple),
                previous: None,
                source: w.mirror.base_url(),
                bin_dir: w.bin.clone(),
                installed_by: "codex update".to_owned(),
                installed_at: 0,
            };
            let text = if i % 2 == 0 {
                serde_json::to_string_pretty(&receipt).expect("json")
            } else {
                serde_json::to_string(&receipt).expect("json")
            };
            std::fs::write(root.join("receipt.json"), text).expect("receipt");
            w.mirror.clear_requests();
            let err = one_error(shell, &w.install(&["--version", B]));
            if newer {
                assert_eq!(err, downgrade_error(v, B), "{shell:?}: installed {v}");
                assert!(w.requested().is_empty(), "{shell:?}: installed {v}");
            } else {
                assert!(
                    err.contains(&format!("release {B} was not found")),
                    "{shell:?}: installed {v}: {err}"
                );
            }
        }
    }
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// What a user's startup file held before install.sh added its PATH block.
const USER_RC: &str = "# my settings\nalias ll='ls -l'\n\nexport EDITOR=vi\n";

#[test]
fn uninstall_removes_everything_install_sh_added_and_keeps_the_users_rc_lines_byte_identical() {
    for shell in SHELLS {
        let w = World::new(shell);
        let rc = w.rc_file();
        std::fs::write(&rc, USER_RC).expect("rc");
        ok(shell, &w.install(&[]));
        assert!(
            std::fs::read_to_string(&rc)
                .expect("rc")
                .contains("# >>> codex installer >>>"),
            "{shell:?}"
        );
        let codex_home = w.home.join(".codex");
        std::fs::write(codex_home.join("config.toml"), "model = \"m\"\n").expect("config");
        w.mirror.clear_requests();
        let out = ok(shell, &w.install(&["--uninstall"]));
        for gone in [
            w.bin.join("codex"),
            w.bin.join("codex-exec-server"),
            w.root(),
        ] {
            assert!(!gone.exists(), "{shell:?}: {} is gone", gone.display());
            assert!(
                out.contains(&format!("removed {}", gone.display())),
                "{shell:?}: {out}"
            );
        }
        assert!(!codex_home.exists(), "{shell:?}: CODEX_HOME is gone");
        assert!(
            out.contains(&format!(
                "removed the codex PATH block from {}",
                rc.display()
            )),
            "{shell:?}: {out}"
        );
        assert_eq!(
            std::fs::read(&rc).expect("rc"),
            USER_RC.as_bytes(),
            "{shell:?}: the rc file is byte-identical to before the install"
        );
        assert!(out.ends_with("codex is uninstalled\n"), "{shell:?}: {out}");
        assert!(w.requested().is_empty(), "{shell:?}: nothing downloaded");
        // Once more: nothing left to do, said in one line; a CODEX_HOME that serves another
        // copy (npm, Homebrew) is not touched.
        std::fs::create_dir_all(&codex_home).expect("codex home");
        std::fs::write(codex_home.join("config.toml"), "model = \"m\"\n").expect("config");
        let out = ok(shell, &w.install(&["--uninstall"]));
        assert!(out.contains("no codex install found"), "{shell:?}: {out}");
        assert!(
            codex_home.join("config.toml").exists(),
            "{shell:?}: config kept"
        );
        // CODEX_HOME=$HOME is never removed.
        let err = one_error(
            shell,
            &w.shell_cmd()
                .arg("--uninstall")
                .env("CODEX_HOME", &w.home)
                .output()
                .expect("run"),
        );
        assert!(err.contains("holds your home folder"), "{shell:?}: {err}");
        assert!(w.home.exists(), "{shell:?}");
    }
}

#[test]
fn uninstall_keep_config_keeps_config_toml_and_a_foreign_codex() {
    for shell in SHELLS {
        let w = World::new(shell);
        ok(shell, &w.install(&["--no-modify-path"]));
        let config = w.home.join(".codex/config.toml");
        std::fs::write(&config, "# mine\nmodel = \"m\"\n").expect("config");
        // Someone else's program of the same name, in the same folder, is not ours to remove.
        std::fs::remove_file(w.bin.join("codex-exec-server")).expect("rm");
        std::fs::write(w.bin.join("codex-exec-server"), "#!/bin/sh\n").expect("foreign");
        let out = ok(shell, &w.install(&["--uninstall", "--keep-config"]));
        assert_eq!(
            std::fs::read_to_string(&config).expect("config"),
            "# mine\nmodel = \"m\"\n",
            "{shell:?}"
        );
        assert!(!w.root().exists(), "{shell:?}");
        assert!(!w.bin.join("codex").exists(), "{shell:?}");
        assert!(w.bin.join("codex-exec-server").exists(), "{shell:?}");
        assert!(
            out.contains("codex-exec-server: it is not a link into this install"),
            "{shell:?}: {out}"
        );
        // --keep-config alone is a mistake, said as one error.
        let err = one_error(shell, &w.install(&["--keep-config"]));
        assert!(
            err.contains("--keep-config goes with --uninstall"),
            "{shell:?}: {err}"
        );
    }
}

/// The attack of issue 20 item 7: a CODEX_HOME spelled so that a string comparison misses that
/// it is the home folder (`$HOME//`, `$HOME/../<name>`). The uninstall refuses, and every file
/// of the home stays.
#[test]
fn uninstall_refuses_a_codex_home_that_is_the_home_folder_however_it_is_spelled() {
    for shell in SHELLS {
        let w = World::new(shell);
        let run = |codex_home: &str, args: &[&str]| {
            w.shell_cmd()
                .env("CODEX_HOME", codex_home)
                .args(args)
                .output()
                .expect("run install.sh")
        };
        let home = w.home.display().to_string();
        ok(shell, &run(&home, &["--no-modify-path"]));
        let precious = codex_e2e::plant_precious(&w.home);
        for spelled in codex_e2e::other_spellings(&w.home) {
            let err = one_error(shell, &run(&spelled, &["--uninstall"]));
            assert!(
                err.contains("is or holds your home folder, so it is not removed"),
                "{shell:?} {spelled}: {err}"
            );
            assert_eq!(
                std::fs::read_to_string(&precious).ok().as_deref(),
                Some("mine\n"),
                "{shell:?} {spelled}: the home folder must survive"
            );
            assert!(
                w.bin.join("codex").exists(),
                "{shell:?} {spelled}: nothing removed"
            );
        }
    }
}

#[test]
fn uninstall_refuses_while_an_update_holds_the_lock() {
    for shell in SHELLS {
        let w = World::new(shell);
        ok(shell, &w.install(&[]));
        let mut holder = Command::new("sleep").arg("30").spawn().expect("sleep");
        std::fs::create_dir_all(w.root().join(".lock")).expect("lock");
        std::fs::write(w.root().join(".lock/pid"), format!("{}\n", holder.id())).expect("pid");
        let before = w.state();
        let err = one_error(shell, &w.install(&["--uninstall"]));
        let _ = holder.kill();
        let _ = holder.wait();
        assert!(
            err.contains(&format!(
                "a codex install or update is running (pid {})",
                holder.id()
            )),
            "{shell:?}: {err}"
        );
        assert_eq!(w.state(), before, "{shell:?}: nothing removed");
        assert!(w.bin.join("codex").exists(), "{shell:?}");
    }
}
