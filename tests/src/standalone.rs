//! A standalone install in a temporary home, made through the installer crate from a loopback
//! mirror serving real releases A and B: the world of the `codex update`, `codex doctor` and
//! `codex uninstall` tests.

use std::path::PathBuf;
use std::process::{Command, Output};

use codex_installer::http::{Http, RetryPolicy};
use codex_installer::install::{Installer, VersionRequest};
use codex_installer::layout::Layout;
use codex_installer::source::{Origin, Source};
use codex_installer::target::{Binary, Target};

use crate::mirror::{Fault, Mirror};
use crate::{Release, e2e_dir};

/// Release A: the same version the release tests build, so the host binaries are shared.
pub const A: &str = "1.2.3-e2e.1";
/// Release B: newer, host target only.
pub const B: &str = "1.3.0-e2e.1";

pub fn host() -> &'static Target {
    xtask::dist::host_target().expect("host target")
}

pub fn release_a() -> Release {
    crate::release(A, &[host()]).expect("release A")
}

pub fn release_b() -> Release {
    crate::release(B, &[host()]).expect("release B")
}

/// A temporary home with a mirror serving releases A and B (latest), and A installed.
pub struct World {
    /// Keeps the folder alive.
    pub _tmp: tempfile::TempDir,
    /// `HOME`.
    pub home: PathBuf,
    /// `CODEX_HOME` (`$HOME/.codex`).
    pub codex_home: PathBuf,
    /// The bin dir (`$HOME/.local/bin`).
    pub bin: PathBuf,
    /// Serves releases A and B (latest).
    pub mirror: Mirror,
    /// The mirror's files.
    pub mirror_root: PathBuf,
}

impl World {
    pub fn new(https: bool) -> World {
        let (a, b) = (release_a(), release_b());
        let tmp = tempfile::Builder::new()
            .prefix("update-")
            .tempdir_in(e2e_dir())
            .expect("tmp");
        let home = tmp.path().join("home");
        let codex_home = home.join(".codex");
        let bin = home.join(".local/bin");
        let mirror_root = tmp.path().join("mirror");
        let mirror =
            crate::serve_releases(&mirror_root, &[(&a, A), (&b, B)], https).expect("mirror");
        let w = World {
            _tmp: tmp,
            home,
            codex_home,
            bin,
            mirror,
            mirror_root,
        };
        w.install_a();
        w
    }

    pub fn base_url(&self) -> String {
        self.mirror
            .https_base_url()
            .unwrap_or_else(|| self.mirror.base_url())
    }

    /// The first install, through the library as install.sh will do it.
    pub fn install_a(&self) {
        // The library reads SSL_CERT_FILE from the environment; the HTTPS world trusts its CA
        // through the `codex` child processes instead, so install A over plain HTTP.
        let source = Source::parse(&self.mirror.base_url(), Origin::Flag).expect("source");
        let installer = Installer {
            layout: Layout::new(&self.codex_home, &self.bin),
            source,
            http: Http::new(RetryPolicy::default()).expect("http"),
            target: host(),
            installed_by: "e2e".into(),
            // The fixtures are development builds, signed with the development key.
            keys: codex_installer::signature::keys_for(true),
            allow_downgrade: false,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        let v = semver::Version::parse(A).expect("semver");
        let manifest = rt
            .block_on(installer.fetch_manifest(&VersionRequest::Exact(v)))
            .expect("manifest A");
        rt.block_on(installer.install(&manifest))
            .expect("install A");
        if self.mirror.https_base_url().is_some() {
            // Later updates go to the HTTPS listener.
            let receipt = self.layout().receipt_path();
            let text = std::fs::read_to_string(&receipt).expect("receipt");
            let text = text.replace(&self.mirror.base_url(), &self.base_url());
            std::fs::write(&receipt, text).expect("receipt");
        }
        self.mirror.clear_requests();
    }

    pub fn layout(&self) -> Layout {
        Layout::new(&self.codex_home, &self.bin)
    }

    /// `codex`, run so that the bin dir is read-only for it. root ignores permission bits, so
    /// when the tests run as root, codex runs as nobody, owning everything but the bin dir, as a
    /// user whose ~/.local/bin belongs to root would. Undo with `set_mode(&w.bin, 0o755)`.
    pub fn codex_with_read_only_bin(&self) -> Command {
        let as_root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout == b"0\n")
            .unwrap_or(false);
        if as_root {
            let status = Command::new("chown")
                .args(["-R", "65534:65534"])
                .arg(&self.home)
                .status()
                .expect("chown");
            assert!(status.success());
            let status = Command::new("chown")
                .args(["-R", "0:0"])
                .arg(&self.bin)
                .status()
                .expect("chown");
            assert!(status.success());
            // Every folder above home must be traversable by nobody.
            let mut p = self.home.parent();
            while let Some(dir) = p {
                let _ = Command::new("chmod").arg("o+x").arg(dir).status();
                p = dir.parent();
            }
        }
        set_mode(&self.bin, 0o555);
        if as_root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                .arg(self.bin.join("codex"));
            c.env("HOME", &self.home)
                .env("CODEX_HOME", &self.codex_home)
                .env("CI", "1");
            c
        } else {
            self.cmd(Binary::Codex)
        }
    }

    /// Runs the installed `codex` (or `codex-exec-server`) as a user would.
    pub fn cmd(&self, binary: Binary) -> Command {
        let mut c = Command::new(self.bin.join(host().installed_name(binary)));
        c.env("HOME", &self.home)
            .env("CODEX_HOME", &self.codex_home)
            .env_remove("CODEX_RELEASE_BASE_URL")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN")
            .env("CI", "1");
        if let Some(ca) = self.mirror.ca_cert_path() {
            c.env("SSL_CERT_FILE", ca);
        }
        c
    }

    pub fn codex(&self, args: &[&str]) -> Output {
        self.cmd(Binary::Codex)
            .args(args)
            .output()
            .expect("run codex")
    }

    /// The version the `codex` on PATH reports.
    pub fn version(&self, binary: Binary) -> String {
        let out = self.cmd(binary).arg("--version").output().expect("run");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned()
    }

    pub fn assert_still_on(&self, version: &str) {
        for b in Binary::ALL {
            assert_eq!(self.version(b), version, "{b} must still run {version}");
        }
        let receipt = self.layout().receipt().expect("receipt");
        assert_eq!(receipt.version, version);
    }

    /// Runs `codex update --yes`, which must fail with one `error:` line; returns that line.
    pub fn failed_update(&self) -> String {
        one_error_line(&self.codex(&["update", "--yes"]))
    }

    pub fn archive_path_part(&self) -> String {
        format!("/{}", host().archive_name(Binary::Codex))
    }

    /// Starts `codex update --yes` with the codex archive served slowly, so the test can act
    /// in the middle of the download.
    pub fn spawn_slow_update(&self, bytes_per_sec: u64) -> std::process::Child {
        self.mirror.inject(
            &self.archive_path_part(),
            Fault::Throttle { bytes_per_sec },
            Some(1),
        );
        self.cmd(Binary::Codex)
            .args(["update", "--yes"])
            .spawn()
            .expect("start codex update")
    }
}

pub fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A failure: non-zero exit and exactly one line on stderr, starting with `error:`.
pub fn one_error_line(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected failure, stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let errors: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(errors.len(), 1, "one line expected, got: {stderr}");
    assert!(errors[0].starts_with("error: "), "{stderr}");
    errors[0].to_owned()
}

/// Sets the permission bits of `p`.
pub fn set_mode(p: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
