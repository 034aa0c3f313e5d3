//! The npm channel end to end: the packages the release build made, published by npm/publish.sh
//! to a real registry (Verdaccio) on loopback, installed with real npm and pnpm into temporary
//! prefixes, and run. Fallback downloads come from the loopback release mirror.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use codex_e2e::mirror::{ENDLESS_SLACK, Fault, Mirror, MirrorOptions, publish};
use codex_e2e::registry::Registry;
use codex_e2e::{Release, describe, e2e_dir, workspace_root};
use codex_installer::NPM_PACKAGE;
use codex_installer::signature::{DEVELOPMENT_KEY, TRUSTED_KEYS};
use codex_installer::target::{Binary, Target};

const A: &str = "1.2.3-e2e.1";

fn host() -> &'static Target {
    xtask::dist::host_target().expect("host target")
}

/// A registry with release A's packages published, a mirror serving A, and a temporary home.
struct World {
    tmp: tempfile::TempDir,
    release: Release,
    registry: Registry,
    mirror: Mirror,
    prefix: PathBuf,
}

impl World {
    fn new() -> World {
        let w = World::unpublished();
        let out = w.publish_script().output().expect("run npm/publish.sh");
        assert!(out.status.success(), "publish: {}", describe(&out));
        w
    }

    fn unpublished() -> World {
        let release = codex_e2e::release(A, &[host()]).expect("release A");
        let tmp = tempfile::Builder::new()
            .prefix("npm-")
            .tempdir_in(e2e_dir())
            .expect("tmp");
        let registry = Registry::start(&tmp.path().join("registry")).expect("verdaccio");
        let mirror_root = tmp.path().join("mirror");
        publish(&mirror_root, &release.dir, &format!("v{A}")).expect("mirror");
        let mirror = Mirror::start(&mirror_root, MirrorOptions::default()).expect("mirror");
        let prefix = tmp.path().join("prefix");
        World {
            release,
            registry,
            mirror,
            prefix,
            tmp,
        }
    }

    fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    fn publish_script(&self) -> Command {
        let mut c = Command::new("sh");
        c.arg(workspace_root().join("npm/publish.sh"))
            .args(["--registry", &self.registry.url])
            .arg(&self.release.dir);
        self.isolate(&mut c);
        c
    }

    /// HOME, caches and registry of this world only.
    fn isolate(&self, c: &mut Command) {
        self.registry.configure(c);
        c.env("HOME", self.home())
            .env("CODEX_HOME", self.home().join(".codex"))
            .env("npm_config_cache", self.tmp.path().join("npm-cache"))
            .env("CODEX_RELEASE_BASE_URL", self.mirror.base_url())
            .env("CI", "1")
            .env_remove("CODEX_BINARY_PATH")
            .env_remove("CODEX_NPM_PACKAGE_ROOT")
            .env_remove("CODEX_NPM_MANAGER");
    }

    /// `npm install -g` into the world's prefix.
    fn npm_install(&self, extra: &[&str]) {
        let mut c = self.registry.npm();
        c.args(["install", "-g", "--prefix"]).arg(&self.prefix);
        self.run_npm_install(c, extra);
    }

    /// `npm install` into a project folder (global installs ignore `--omit=optional`).
    fn npm_install_local(&self, extra: &[&str]) {
        let project = self.project();
        std::fs::create_dir_all(&project).expect("mkdir");
        std::fs::write(
            project.join("package.json"),
            r#"{"name": "app", "private": true}"#,
        )
        .expect("package.json");
        let mut c = self.registry.npm();
        c.current_dir(&project).arg("install");
        self.run_npm_install(c, extra);
    }

    fn run_npm_install(&self, mut c: Command, extra: &[&str]) {
        c.arg(format!("{NPM_PACKAGE}@{A}")).args(extra);
        self.isolate(&mut c);
        let out = c.output().expect("npm install");
        assert!(
            out.status.success(),
            "npm install {extra:?}: {}",
            describe(&out)
        );
    }

    fn project(&self) -> PathBuf {
        self.tmp.path().join("project")
    }

    fn bin(&self, name: &str) -> PathBuf {
        if self.project().exists() {
            return self.project().join("node_modules/.bin").join(name);
        }
        self.prefix.join("bin").join(name)
    }

    fn run(&self, name: &str, args: &[&str]) -> Output {
        let mut c = Command::new(self.bin(name));
        c.args(args);
        self.isolate(&mut c);
        c.output().expect("run")
    }

    /// The mirror's copy of release A's file `name` (tests alter this copy, never the fixture).
    fn mirror_file(&self, name: &str) -> PathBuf {
        self.tmp
            .path()
            .join("mirror/download")
            .join(format!("v{A}"))
            .join(name)
    }

    /// The launcher's cache of downloaded programs.
    fn npm_cache(&self) -> PathBuf {
        self.home().join(".codex/packages/npm")
    }

    fn requests_ending(&self, suffix: &str) -> usize {
        self.mirror
            .requests()
            .iter()
            .filter(|r| r.path.ends_with(suffix))
            .count()
    }

    fn archive_requests(&self) -> usize {
        self.mirror
            .requests()
            .iter()
            .filter(|r| r.path.ends_with(".tar.gz"))
            .count()
    }
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "{}", describe(out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn is_native(path: &Path) -> bool {
    let bytes = std::fs::read(path).expect("read");
    bytes.starts_with(b"\x7fELF") || bytes.starts_with(&[0xcf, 0xfa, 0xed, 0xfe])
}

#[test]
fn npm_install_links_the_native_programs_and_codex_update_names_npm() {
    let w = World::new();
    w.npm_install(&[]);
    for b in Binary::ALL {
        let resolved = w
            .bin(b.name())
            .canonicalize()
            .expect("resolve the bin link");
        assert!(
            is_native(&resolved),
            "{} leads to {}, not the native program (fast path)",
            b.name(),
            resolved.display()
        );
        let out = stdout(&w.run(b.name(), &["--version"]));
        assert!(out.contains(&format!(" {A} ")), "{out}");
    }
    // The native program sees from its own path that npm manages it.
    let out = stdout(&w.run("codex", &["update"]));
    assert!(out.contains("is managed by npm"), "{out}");
    assert!(
        out.contains(&format!(
            "npm install -g {NPM_PACKAGE}@latest --prefix {}",
            w.prefix.display()
        )),
        "{out}"
    );
    assert_eq!(w.archive_requests(), 0, "nothing was downloaded");
    // Uninstalling is npm's job too: codex prints npm's command for this prefix, removes nothing.
    let out = stdout(&w.run("codex", &["uninstall", "--yes"]));
    assert!(
        out.contains(&format!(
            "npm uninstall -g {NPM_PACKAGE} --prefix {}",
            w.prefix.display()
        )),
        "{out}"
    );
    assert!(out.contains("nothing was removed"), "{out}");
    let out = stdout(&w.run("codex", &["--version"]));
    assert!(out.contains(&format!(" {A} ")), "still installed: {out}");
    // doctor names npm and the package.
    let out = w.run("codex", &["doctor", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let this = &report["checks"][0];
    assert!(
        this["summary"]
            .as_str()
            .is_some_and(|s| s.ends_with("installed with npm")),
        "{report}"
    );
}

#[test]
fn the_launcher_runs_the_platform_package_and_passes_exit_codes_and_signals_through() {
    let w = World::new();
    w.npm_install(&["--ignore-scripts"]);
    // Without the postinstall, npm's bin is the JS shim.
    let shim = w.bin("codex").canonicalize().expect("resolve");
    assert!(
        std::fs::read(&shim)
            .expect("read")
            .starts_with(b"#!/usr/bin/env node"),
        "{}",
        shim.display()
    );
    let out = stdout(&w.run("codex", &["--version"]));
    assert!(out.contains(&format!(" {A} ")), "{out}");
    let out = w.run("codex", &["--no-such-flag"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "clap's usage error: {}",
        describe(&out)
    );
    assert_eq!(w.archive_requests(), 0, "the platform package was used");
    // The launcher told the program which package manager owns it.
    let out = stdout(&w.run("codex", &["update"]));
    assert!(out.contains("is managed by npm"), "{out}");

    // Exit codes and signals, with CODEX_BINARY_PATH naming a script.
    let script = w.tmp.path().join("fake-codex");
    let pid_file = w.tmp.path().join("child.pid");
    let run_script = |body: &str| {
        std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).expect("script");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let mut c = Command::new(w.bin("codex"));
        w.isolate(&mut c);
        c.env("CODEX_BINARY_PATH", &script);
        c
    };
    let out = run_script("exit 7").output().expect("run");
    assert_eq!(out.status.code(), Some(7), "{}", describe(&out));
    let out = run_script("kill -TERM $$").output().expect("run");
    assert_eq!(out.status.code(), Some(143), "{}", describe(&out));
    // SIGTERM to the launcher reaches the child, and the launcher exits as the child did.
    let mut child = run_script(&format!("echo $$ > {}\nexec sleep 30", pid_file.display()))
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(20);
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the child never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(143), "{status:?}");
    let alive = Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .expect("kill -0");
    assert!(!alive.success(), "the child outlived the launcher");
}

#[test]
fn without_the_platform_package_the_launcher_downloads_verifies_and_caches_once() {
    for flags in [
        &["--omit=optional"][..],
        &["--omit=optional", "--ignore-scripts"],
    ] {
        let w = World::new();
        w.npm_install_local(flags);
        let platform = w
            .project()
            .join("node_modules/@openai")
            .join(format!("codex-{}", host().npm_platform()));
        assert!(
            !platform.exists(),
            "{flags:?}: the platform package was installed"
        );
        let first = w.run("codex", &["--version"]);
        assert!(stdout(&first).contains(&format!(" {A} ")), "{flags:?}");
        let said = String::from_utf8_lossy(&first.stderr).into_owned();
        assert!(
            said.contains("is missing")
                && said.contains(&format!(
                    "the signature of release v{A}'s manifest.json was verified (key {})",
                    DEVELOPMENT_KEY.id
                ))
                && said.contains("SHA-256 checked against the signed manifest"),
            "{flags:?}: {said}"
        );
        assert_eq!(said.lines().count(), 1, "{flags:?}: said once: {said}");
        let second = w.run("codex", &["--version"]);
        assert!(stdout(&second).contains(&format!(" {A} ")));
        assert!(second.stderr.is_empty(), "{flags:?}: quiet the second time");
        assert_eq!(w.archive_requests(), 1, "{flags:?}: downloaded once");
        assert_eq!(
            w.requests_ending("/manifest.json.sig"),
            1,
            "{flags:?}: the signature was fetched, once"
        );
        let cached = w
            .home()
            .join(".codex/packages/npm")
            .join(format!("{A}-{}", host().triple))
            .join("codex");
        assert!(is_native(&cached), "{flags:?}: {}", cached.display());
        // The cached copy still knows npm manages it, and that this is a project install.
        let out = stdout(&w.run("codex", &["update"]));
        assert!(
            out.contains(&format!(
                "npm install {NPM_PACKAGE}@latest --prefix {}",
                w.project().display()
            )),
            "{flags:?}: {out}"
        );
    }
}

#[test]
fn a_tampered_or_unreachable_download_runs_nothing_and_says_what_to_do() {
    let w = World::new();
    w.npm_install_local(&["--omit=optional"]);
    let archive = host().archive_name(Binary::Codex);
    let mut bad = std::fs::read(w.release.dir.join(&archive)).expect("archive");
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    w.mirror.inject(&archive, Fault::Replace(bad), None);
    let out = w.run("codex", &["--version"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(out.stdout.is_empty(), "nothing ran: {}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("checksum mismatch for {archive}"))
            && err.contains("nothing was run"),
        "{err}"
    );
    assert!(
        !w.home()
            .join(".codex/packages/npm")
            .join(format!("{A}-{}", host().triple))
            .join("codex")
            .exists()
    );
    w.mirror.clear_faults();

    // Offline: a release source nobody answers.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let mut c = Command::new(w.bin("codex"));
    w.isolate(&mut c);
    c.env(
        "CODEX_RELEASE_BASE_URL",
        format!("http://127.0.0.1:{port}/releases"),
    );
    let out = c.arg("--version").output().expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("could not be downloaded") && err.contains("--include=optional"),
        "{err}"
    );
}

/// Issue 20 item 15: the cached program is checked against release.json's size and digest before
/// every run; a changed one (other size, or same size and other bytes) is never run, but
/// discarded and fetched again.
#[test]
fn a_changed_cached_program_is_discarded_and_fetched_again_never_run() {
    let w = World::new();
    w.npm_install_local(&["--omit=optional"]);
    assert!(stdout(&w.run("codex", &["--version"])).contains(&format!(" {A} ")));
    let cached = w
        .npm_cache()
        .join(format!("{A}-{}", host().triple))
        .join("codex");
    let size = std::fs::metadata(&cached).expect("cached").len() as usize;
    let evil = "#!/bin/sh\necho PWNED\n".to_string();
    let same_size = format!("{evil}{}", "#".repeat(size - evil.len()));
    for (case, bytes) in [("other size", evil.clone()), ("same size", same_size)] {
        std::fs::write(&cached, bytes).expect("tamper");
        std::fs::set_permissions(&cached, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let requests = w.archive_requests();
        let out = w.run("codex", &["--version"]);
        let (o, e) = (
            stdout(&out),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert!(!o.contains("PWNED"), "{case}: the changed program ran");
        assert!(o.contains(&format!(" {A} ")), "{case}: {}", describe(&out));
        assert!(
            e.contains(&format!("codex: the cached {} ", cached.display()))
                && e.contains("so it was discarded and is downloaded again"),
            "{case}: {e}"
        );
        assert_eq!(w.archive_requests(), requests + 1, "{case}: fetched again");
        assert_eq!(
            std::fs::metadata(&cached).expect("cached").len() as usize,
            size
        );
    }
    // A copy that matches runs as it is, quietly.
    let out = w.run("codex", &["--version"]);
    assert!(out.stderr.is_empty(), "{}", describe(&out));
}

/// Issue 20 item 12: the fallback stops a hostile mirror's endless manifest, signature or
/// archive (with a false 1.5 GiB length, or none) at the cap or at the signed size, runs
/// nothing, caches nothing, and says so in one line.
#[test]
fn the_fallback_stops_endless_downloads_at_the_cap_or_the_signed_size() {
    use codex_installer::manifest::MAX_MANIFEST_SIZE;
    use codex_installer::signature::MAX_SIGNATURE_SIZE;
    let w = World::new();
    w.npm_install_local(&["--omit=optional"]);
    let archive = host().archive_name(Binary::Codex);
    let archive_size = std::fs::metadata(w.mirror_file(&archive))
        .expect("archive")
        .len();
    for (pattern, limit) in [
        ("/manifest.json".to_owned(), MAX_MANIFEST_SIZE),
        ("/manifest.json.sig".to_owned(), MAX_SIGNATURE_SIZE),
        (format!("/{archive}"), archive_size),
    ] {
        for announced in [true, false] {
            let case = format!("{pattern} (announced: {announced})");
            let sent_before = w.mirror.endless_bytes_sent(0).len();
            w.mirror
                .inject(&pattern, Fault::Endless { announced }, Some(1));
            let out = w.run("codex", &["--version"]);
            assert_eq!(out.status.code(), Some(1), "{case}: {}", describe(&out));
            assert!(out.stdout.is_empty(), "{case}: nothing ran");
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert_eq!(err.lines().count(), 1, "{case}: {err}");
            assert!(
                err.contains(&format!("{pattern} is larger than {limit} bytes"))
                    && err.contains("stopped and discarded"),
                "{case}: {err}"
            );
            let took = w.mirror.taken_from_endless(sent_before, &pattern);
            assert!(
                took < limit + ENDLESS_SLACK,
                "{case}: the launcher took {took} bytes"
            );
            assert!(
                !w.npm_cache()
                    .join(format!("{A}-{}", host().triple))
                    .join("codex")
                    .exists()
            );
            w.mirror.clear_faults();
        }
    }
}

/// Runs `codex --version` through the fallback and checks that it was refused: exit code 1,
/// nothing on stdout (the program did not run), one line on stderr containing each of `expect`
/// and "nothing was run", no archive downloaded and nothing cached.
fn assert_refused(w: &World, case: &str, expect: &[&str]) -> String {
    w.mirror.clear_requests();
    let out = w.run("codex", &["--version"]);
    assert_eq!(out.status.code(), Some(1), "{case}: {}", describe(&out));
    assert!(
        out.stdout.is_empty(),
        "{case}: nothing ran: {}",
        describe(&out)
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "{case}: one line: {err}");
    for needle in expect.iter().chain(&["nothing was run"]) {
        assert!(err.contains(needle), "{case}: no {needle:?} in: {err}");
    }
    assert_eq!(
        w.archive_requests(),
        0,
        "{case}: no archive is downloaded before the manifest is trusted"
    );
    assert!(
        !w.npm_cache().exists(),
        "{case}: nothing may be cached: {}",
        w.npm_cache().display()
    );
    err
}

#[test]
fn the_fallback_refuses_an_altered_foreign_signed_or_unsigned_manifest_and_runs_nothing() {
    let w = World::new();
    w.npm_install_local(&["--omit=optional"]);
    let manifest_path = w.mirror_file("manifest.json");
    let sig_path = w.mirror_file("manifest.json.sig");
    let manifest = std::fs::read(&manifest_path).expect("the mirror's manifest.json");
    let sig = std::fs::read(&sig_path).expect("the mirror's manifest.json.sig");
    let trusted = {
        let mut ids: Vec<&str> = TRUSTED_KEYS.iter().map(|k| k.id).collect();
        ids.push(DEVELOPMENT_KEY.id);
        format!("(trusted: {})", ids.join(", "))
    };

    // One byte of the manifest changed (a digit of the commit, so it is still valid JSON for
    // the same version): the signature no longer matches.
    let text = String::from_utf8(manifest.clone()).expect("utf-8");
    let commit = text.find("\"commit\": \"").expect("a commit field") + "\"commit\": \"".len();
    let mut altered = manifest.clone();
    altered[commit] = if altered[commit] == b'0' { b'1' } else { b'0' };
    std::fs::write(&manifest_path, &altered).expect("alter the mirror's manifest");
    assert_refused(
        &w,
        "altered manifest",
        &[
            &format!("manifest.json of release v{A}"),
            "was not signed by any trusted key",
            &trusted,
            "may have been tampered with",
            "--include=optional",
        ],
    );
    std::fs::write(&manifest_path, &manifest).expect("restore");

    // A valid signature of the very bytes, by a key nobody trusts.
    let foreign =
        codex_installer::signature::sign(&codex_e2e::unknown_seed(), &manifest).to_sig_file();
    std::fs::write(&sig_path, foreign).expect("write a foreign signature");
    assert_refused(
        &w,
        "unknown key",
        &["was not signed by any trusted key", &trusted],
    );

    // Not a signature at all.
    std::fs::write(&sig_path, "not a signature\n").expect("write junk");
    assert_refused(
        &w,
        "malformed signature",
        &["the signature of manifest.json", "is malformed"],
    );

    // No signature: the mirror answers 404.
    std::fs::remove_file(&sig_path).expect("remove the signature");
    let err = assert_refused(
        &w,
        "missing signature",
        &[
            &format!("release v{A} from"),
            "is not signed",
            "manifest.json.sig answered 404",
            "codex installs only signed releases",
        ],
    );
    assert!(
        !err.contains("could not be downloaded"),
        "a 404 is an unsigned release, not a network problem: {err}"
    );
    std::fs::write(&sig_path, &sig).expect("restore");

    // Signed, but the package's release.json names another digest than the signed manifest.
    let release_json = w.project().join("node_modules/@openai/codex/release.json");
    let original = std::fs::read_to_string(&release_json).expect("release.json");
    let digest = w
        .release
        .manifest
        .artifact(Binary::Codex, host())
        .expect("the host's codex")
        .archive
        .sha256
        .to_string();
    assert!(original.contains(&digest), "{original}");
    std::fs::write(&release_json, original.replace(&digest, &"0".repeat(64)))
        .expect("alter release.json");
    assert_refused(
        &w,
        "release.json disagrees",
        &["release.json of", "disagrees with the signed manifest.json"],
    );
    std::fs::write(&release_json, original).expect("restore");

    // Everything restored: the same install verifies, runs and caches.
    let out = w.run("codex", &["--version"]);
    assert!(
        stdout(&out).contains(&format!(" {A} ")),
        "{}",
        describe(&out)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!("was verified (key {})", DEVELOPMENT_KEY.id)),
        "{said}"
    );
    assert!(w.npm_cache().exists());
}

#[test]
fn pnpm_installs_a_working_codex() {
    let w = World::new();
    let pnpm_home = w.tmp.path().join("pnpm");
    let path = format!(
        "{}:{}",
        pnpm_home.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = Command::new(w.registry.pnpm());
    w.isolate(&mut c);
    c.args(["add", "-g", &format!("{NPM_PACKAGE}@{A}")])
        .env("PNPM_HOME", &pnpm_home)
        .env("PATH", &path)
        .env("npm_config_store_dir", w.tmp.path().join("pnpm-store"));
    let out = c.output().expect("pnpm add");
    assert!(out.status.success(), "pnpm add -g: {}", describe(&out));
    let mut c = Command::new(pnpm_home.join("codex"));
    w.isolate(&mut c);
    let out = c.env("PATH", &path).arg("--version").output().expect("run");
    assert!(
        stdout(&out).contains(&format!(" {A} ")),
        "{}",
        describe(&out)
    );
    assert_eq!(w.archive_requests(), 0, "the platform package was used");
}

#[test]
fn publishing_stops_before_the_wrapper_when_a_platform_package_cannot_be_published() {
    let w = World::unpublished();
    // Someone already published this platform package version with other contents.
    let fake = w.tmp.path().join("fake");
    std::fs::create_dir_all(&fake).expect("mkdir");
    std::fs::write(
        fake.join("package.json"),
        format!(
            r#"{{"name": "{}", "version": "{A}", "description": "not ours"}}"#,
            host().npm_package()
        ),
    )
    .expect("write");
    let mut c = w.registry.npm();
    w.isolate(&mut c);
    let out = c
        .args(["publish", "--tag", "next"])
        .current_dir(&fake)
        .output()
        .expect("npm publish");
    assert!(out.status.success(), "{}", describe(&out));

    let out = w.publish_script().output().expect("publish.sh");
    assert!(!out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is published with other contents"), "{err}");
    let mut c = w.registry.npm();
    w.isolate(&mut c);
    let view = c
        .args(["view", &format!("{NPM_PACKAGE}@{A}"), "version"])
        .output()
        .expect("npm view");
    assert!(
        !view.status.success() || view.stdout.is_empty(),
        "the wrapper must not be published: {}",
        describe(&view)
    );
}
