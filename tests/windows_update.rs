//! `codex update` on Windows, run for real: the x86_64 Windows build of `codex.exe`, under wine,
//! updates an install laid out the way install.ps1 lays it out (a versioned release folder, a
//! receipt, and *copies* of the programs in the bin dir, since links need Developer Mode), from
//! release archives served on loopback.
//!
//! Debian's wine 8.0 lacks `bcryptprimitives.dll`, which Rust's std needs; the tests build a
//! stand-in (tests/wine/) with zig and put it in the wine prefix's system folder.
//! The same prefix runs the release's `codex-exec-server.exe`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use codex_e2e::mirror::{Fault, Mirror};
use codex_e2e::{Release, describe, e2e_dir};
use codex_installer::archive::read_single_entry;
use codex_installer::layout::Receipt;
use codex_installer::target::{Binary, Target};

const A: &str = "1.2.3-e2e.1";
const B: &str = "1.3.0-e2e.1";
use codex_e2e::WINE;
const WINESERVER: &str = "/usr/lib/wine/wineserver64";

fn windows() -> &'static Target {
    Target::from_triple("x86_64-pc-windows-gnu").expect("known target")
}

/// How wine names a Unix path: drive Z: is `/`.
fn win(p: &Path) -> String {
    format!("Z:{}", p.display()).replace('/', "\\")
}

/// The program a release ships for Windows, read back from its archive.
fn program(release: &Release, binary: Binary) -> Vec<u8> {
    let artifact = release
        .manifest
        .artifact(binary, windows())
        .expect("artifact");
    let bytes = std::fs::read(release.dir.join(&artifact.archive.name)).expect("archive");
    read_single_entry(windows().archive_format(), &bytes, None)
        .expect("entry")
        .contents
}

/// A wine prefix, a mirror serving A and B (latest), and A installed as install.ps1 does it.
struct World {
    tmp: tempfile::TempDir,
    prefix: PathBuf,
    codex_home: PathBuf,
    bin: PathBuf,
    mirror: Mirror,
    a: Release,
    b: Release,
}

impl World {
    fn new() -> World {
        assert!(
            Path::new(WINE).is_file(),
            "{WINE} is missing; `cargo xtask test` installs Debian's wine64"
        );
        let a = codex_e2e::release(A, &[windows()]).expect("release A");
        let b = codex_e2e::release(B, &[windows()]).expect("release B");
        let tmp = tempfile::Builder::new()
            .prefix("windows-")
            .tempdir_in(e2e_dir())
            .expect("tmp");
        let mirror_root = tmp.path().join("mirror");
        let mirror =
            codex_e2e::serve_releases(&mirror_root, &[(&a, A), (&b, B)], false).expect("mirror");
        let w = World {
            prefix: tmp.path().join("wine"),
            codex_home: tmp.path().join("home/.codex"),
            bin: tmp.path().join("LocalAppData/Programs/codex/bin"),
            tmp,
            mirror,
            a,
            b,
        };
        w.make_prefix();
        w.install_like_install_ps1();
        w
    }

    fn make_prefix(&self) {
        let out = self
            .wine_cmd("wineboot")
            .arg("--init")
            .output()
            .expect("wineboot");
        assert!(out.status.success(), "wineboot: {out:?}");
        codex_e2e::install_wine_prng_stub(&self.prefix).expect("the ProcessPrng stub");
    }

    /// What install.ps1 leaves: releases\<version>-<target>\ with both programs, copies of them
    /// in the bin dir, and the receipt it writes (Windows paths, `installed_by: install.ps1`).
    fn install_like_install_ps1(&self) {
        let release = format!("{A}-{}", windows().triple);
        let dir = self.root().join("releases").join(&release);
        std::fs::create_dir_all(&dir).expect("mkdir release");
        std::fs::create_dir_all(&self.bin).expect("mkdir bin");
        for binary in Binary::ALL {
            let name = windows().installed_name(binary);
            let bytes = program(&self.a, binary);
            std::fs::write(dir.join(&name), &bytes).expect("write release");
            std::fs::write(self.bin.join(&name), &bytes).expect("write copy");
        }
        let receipt = serde_json::json!({
            "schema": 1,
            "method": "standalone",
            "version": A,
            "target": windows().triple,
            "release": release,
            "previous": null,
            "source": self.mirror.base_url(),
            "bin_dir": win(&self.bin),
            "installed_by": "install.ps1",
            "installed_at": 1_700_000_000u64,
        });
        std::fs::write(
            self.root().join("receipt.json"),
            serde_json::to_string_pretty(&receipt).expect("json"),
        )
        .expect("receipt");
    }

    fn root(&self) -> PathBuf {
        self.codex_home.join("packages/standalone")
    }

    fn wine_cmd(&self, program: &str) -> Command {
        let mut c = Command::new(WINE);
        c.arg(program)
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("CODEX_HOME", win(&self.codex_home))
            .env("CI", "1")
            .env_remove("CODEX_RELEASE_BASE_URL")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN")
            .current_dir(self.tmp.path());
        c
    }

    /// Runs the installed codex.exe as a Windows user would.
    fn codex(&self, args: &[&str]) -> Output {
        self.wine_cmd(&win(&self.bin.join("codex.exe")))
            .args(args)
            .output()
            .expect("run codex.exe")
    }

    /// The installed codex.exe runs and names `version`.
    fn assert_version(&self, version: &str) {
        let out = self.codex(&["--version"]);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(&format!("codex {version} ")),
            "{}",
            describe(&out)
        );
    }

    fn receipt(&self) -> Receipt {
        let text = std::fs::read_to_string(self.root().join("receipt.json")).expect("receipt");
        serde_json::from_str(&text).expect("receipt json")
    }

    fn installed(&self, binary: Binary) -> Vec<u8> {
        std::fs::read(self.bin.join(windows().installed_name(binary))).expect("installed copy")
    }

    fn bin_listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.bin)
            .expect("bin dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = Command::new(WINESERVER)
            .arg("-k")
            .env("WINEPREFIX", &self.prefix)
            .status();
    }
}

#[test]
fn codex_exe_updates_and_rolls_back_an_install_made_by_install_ps1() {
    let w = World::new();
    w.assert_version(A);

    let out = w.codex(&["update", "--yes"]);
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("codex updated: {A} -> {B} ({})", windows().triple)),
        "{}",
        describe(&out)
    );
    // The running codex.exe was renamed aside and the new copy put in its place. Windows (and
    // wine) refuse to delete a running program, so its old copy stays until the next install.
    for binary in Binary::ALL {
        assert!(
            w.installed(binary) == program(&w.b, binary),
            "{binary:?} is not B"
        );
    }
    let listing = w.bin_listing();
    assert_eq!(listing.len(), 3, "{listing:?}");
    let stale = listing[2].clone();
    assert!(stale.starts_with("codex.exe.old-"), "{listing:?}");
    let receipt = w.receipt();
    let (ra, rb) = (
        format!("{A}-{}", windows().triple),
        format!("{B}-{}", windows().triple),
    );
    assert_eq!(receipt.release, rb);
    assert_eq!(receipt.previous.as_deref(), Some(ra.as_str()));
    assert_eq!(receipt.installed_by, "codex update");
    assert_eq!(receipt.bin_dir, PathBuf::from(win(&w.bin)));
    assert!(w.root().join("releases").join(&ra).is_dir(), "A is kept");
    assert!(!w.root().join("current").exists(), "no links on Windows");

    w.assert_version(B);
    let again = w.codex(&["update", "--yes"]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("nothing to do"),
        "{}",
        describe(&again)
    );

    let back = w.codex(&["update", "--rollback"]);
    assert!(back.status.success(), "{}", describe(&back));
    assert!(w.installed(Binary::Codex) == program(&w.a, Binary::Codex));
    assert_eq!(w.receipt().release, ra);
    assert_eq!(w.receipt().previous.as_deref(), Some(rb.as_str()));
    // The copy left by the update is gone; only the one this run renamed aside remains.
    let listing = w.bin_listing();
    assert_eq!(listing.len(), 3, "{listing:?}");
    assert!(
        listing[2].starts_with("codex.exe.old-") && listing[2] != stale,
        "{listing:?}"
    );
}

#[test]
fn a_tampered_download_leaves_the_windows_install_untouched() {
    let w = World::new();
    let before = std::fs::read(w.root().join("receipt.json")).expect("receipt");
    let archive =
        w.b.manifest
            .artifact(Binary::ExecServer, windows())
            .expect("artifact")
            .archive
            .clone();
    let mut tampered = std::fs::read(w.b.dir.join(&archive.name)).expect("archive");
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff;
    w.mirror
        .inject(&archive.name, Fault::Replace(tampered), None);

    let out = w.codex(&["update", "--yes"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("checksum"), "{}", describe(&out));
    for binary in Binary::ALL {
        assert!(
            w.installed(binary) == program(&w.a, binary),
            "{binary:?} changed"
        );
    }
    assert_eq!(
        std::fs::read(w.root().join("receipt.json")).expect("receipt"),
        before
    );
    assert_eq!(w.bin_listing(), ["codex-exec-server.exe", "codex.exe"]);
}

/// The Windows `codex-exec-server.exe` of the release, under wine, speaks the protocol over
/// stdio: a `cmd` child's output, exit code and close arrive in seq order, and are retained for
/// `process/read`.
#[test]
fn codex_exec_server_exe_runs_a_windows_process_over_stdio() {
    use std::io::{BufRead as _, BufReader, Write as _};
    let w = World::new();
    let exe = w.bin.join("codex-exec-server.exe");
    let mut child = w
        .wine_cmd(&win(&exe))
        .args(["--listen", "stdio"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start codex-exec-server.exe");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut send = |v: serde_json::Value| writeln!(stdin, "{v}").expect("write");
    send(serde_json::json!({"id": 1, "method": "initialize", "params": {"clientName": "e2e"}}));
    send(
        serde_json::json!({"id": 2, "method": "process/start", "params": {
        "processId": "p", "argv": ["cmd", "/c", "echo hi& exit 3"], "cwd": "file:///C:/",
        "env": {"PATH": "C:\\windows\\system32", "SystemRoot": "C:\\windows"},
        "tty": false, "pipeStdin": false}}),
    );
    let mut seen = Vec::new();
    let mut output = String::new();
    while let Some(Ok(line)) = lines.next() {
        let m: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert!(m.get("error").is_none(), "{m}");
        if let Some(seq) = m["params"]["seq"].as_u64() {
            seen.push(seq);
        }
        if m["method"] == "process/output" {
            let chunk: codex_exec_server_protocol::Chunk =
                serde_json::from_value(m["params"]["chunk"].clone()).expect("base64 chunk");
            output.push_str(&String::from_utf8_lossy(chunk.as_ref()));
        }
        if m["method"] == "process/exited" {
            assert_eq!(m["params"]["exitCode"], 3, "{m}");
        }
        if m["method"] == "process/closed" {
            break;
        }
    }
    assert_eq!(output, "hi\r\n");
    assert_eq!(
        seen,
        (1..=seen.len() as u64).collect::<Vec<_>>(),
        "seqs in order"
    );
    drop(stdin);
    let status = child.wait().expect("exit");
    assert!(status.success(), "{status}");
}
