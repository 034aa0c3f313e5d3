//! End-to-end tests of the installer crate and `codex update`: real archives from the release
//! build, served over HTTP(S) on loopback with GitHub's layout, installed into temporary homes,
//! and updated by the installed `codex` binary itself.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use codex_e2e::mirror::{ENDLESS_SLACK, Fault};
use codex_e2e::standalone::{A, B, World, host, ok, one_error_line, release_b, set_mode};
use codex_installer::http::{Http, RetryPolicy};
use codex_installer::install::{Installer, VersionRequest};
use codex_installer::source::{Origin, Source};
use codex_installer::target::Binary;

#[test]
fn update_rollback_and_pinned_downgrade_follow_the_normal_path() {
    let w = World::new(false);
    w.assert_still_on(A);

    let out = ok(&w.codex(&["update", "--check"]));
    assert!(
        out.contains(&format!("codex {B} is available (installed: {A})")),
        "{out}"
    );
    // The explicit check also refreshes the daily update check's cache.
    let cache = codex_installer::update_check::read_cache(&w.codex_home).expect("cache");
    assert_eq!(cache.latest, B);
    let out = ok(&w.codex(&["update", "--dry-run"]));
    assert!(
        out.contains(&format!("would update codex {A} -> {B}")),
        "{out}"
    );
    w.assert_still_on(A);

    let out = ok(&w.codex(&["update", "--yes"]));
    assert!(
        out.starts_with(&format!("codex updated: {A} -> {B} ({})", host().triple)),
        "{out}"
    );
    assert!(
        out.contains("`codex update --rollback` returns to"),
        "{out}"
    );
    w.assert_still_on(B);
    let layout = w.layout();
    assert_eq!(
        layout.current_release(),
        Some(format!("{B}-{}", host().triple))
    );
    let out = ok(&w.codex(&["update", "--yes"]));
    assert!(out.contains("nothing to do"), "{out}");

    let out = ok(&w.codex(&["update", "--rollback"]));
    assert!(
        out.starts_with(&format!("codex rolled back: {B} -> {A}")),
        "{out}"
    );
    w.assert_still_on(A);

    ok(&w.codex(&["update", "--yes", "--version", B]));
    w.assert_still_on(B);
    let err = one_error_line(&w.codex(&["update", "--yes", "--version", A]));
    assert!(err.contains("--allow-downgrade"), "{err}");
    w.assert_still_on(B);
    let out = ok(&w.codex(&[
        "update",
        "--yes",
        "--version",
        &format!("v{A}"),
        "--allow-downgrade",
    ]));
    assert!(
        out.starts_with(&format!("codex updated: {B} -> {A}")),
        "{out}"
    );
    w.assert_still_on(A);
    // Only the current and the previous release are kept.
    let kept: Vec<_> = std::fs::read_dir(layout.releases_dir())
        .expect("releases")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
}

#[test]
fn checksum_mismatch_is_refused_and_the_install_is_untouched() {
    let w = World::new(false);
    let archive = w.archive_path_part();
    let mut tampered =
        std::fs::read(w.mirror_root.join(format!("download/v{B}{archive}"))).expect("archive");
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0xff;
    w.mirror.inject(&archive, Fault::Replace(tampered), None);
    let err = w.failed_update();
    assert!(
        err.contains("checksum mismatch for") && err.contains("expected sha256"),
        "{err}"
    );
    w.assert_still_on(A);
}

#[test]
fn truncated_bodies_are_resumed_and_persistent_truncation_fails_cleanly() {
    let w = World::new(false);
    let archive = w.archive_path_part();
    // Once: the download resumes with a Range request and succeeds.
    w.mirror.inject(&archive, Fault::Truncate(100_000), Some(1));
    ok(&w.codex(&["update", "--yes"]));
    w.assert_still_on(B);
    let resumed = w
        .mirror
        .requests()
        .iter()
        .any(|r| r.path.ends_with(&archive) && r.range.as_deref() == Some("bytes=100000-"));
    assert!(resumed, "{:?}", w.mirror.requests());

    let w = World::new(false);
    w.mirror.inject(&archive, Fault::Truncate(1000), None);
    let err = w.failed_update();
    assert!(err.contains("kept ending early"), "{err}");
    w.assert_still_on(A);
}

/// Issue 20 item 12: a hostile mirror's endless manifest, signature or archive, announced with a
/// false 1.5 GiB length or with none, is stopped at the cap (manifests and signatures) or at the
/// size the signed manifest gives (archives): no more is taken than that plus what the kernel's
/// socket buffers hold, no partial file stays, and the install is untouched.
#[test]
fn endless_bodies_stop_at_the_cap_or_the_signed_size_and_nothing_is_kept() {
    use codex_installer::manifest::MAX_MANIFEST_SIZE;
    use codex_installer::signature::MAX_SIGNATURE_SIZE;
    let (archive, archive_size) = {
        let w = World::new(false);
        let archive = w.archive_path_part();
        let path = w.mirror_root.join(format!("download/v{B}{archive}"));
        let size = std::fs::metadata(path).expect("archive").len();
        (archive, size)
    };
    for (pattern, limit) in [
        ("/manifest.json", MAX_MANIFEST_SIZE),
        ("/manifest.json.sig", MAX_SIGNATURE_SIZE),
        (archive.as_str(), archive_size),
    ] {
        for announced in [true, false] {
            let w = World::new(false);
            // The manifest's rule is used up by the manifest, so the signature is served as is.
            w.mirror
                .inject(pattern, Fault::Endless { announced }, Some(1));
            let err = w.failed_update();
            assert!(
                err.contains(&format!("is larger than {limit} bytes"))
                    && err.contains("the download was stopped and discarded"),
                "{pattern} (announced: {announced}): {err}"
            );
            let took = w.mirror.taken_from_endless(0, pattern);
            assert!(
                took < limit + ENDLESS_SLACK,
                "{pattern} (announced: {announced}): the client took {took} bytes"
            );
            assert_eq!(partial_download_bytes(&w), 0, "a partial download was kept");
            w.assert_still_on(A);
        }
    }
}

#[test]
fn server_errors_are_retried_until_success() {
    let w = World::new(false);
    w.mirror
        .inject("manifest.json", Fault::Status(500), Some(1));
    w.mirror
        .inject("manifest.json", Fault::Status(503), Some(1));
    ok(&w.codex(&["update", "--yes"]));
    w.assert_still_on(B);
    let manifest_requests = w
        .mirror
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("manifest.json"))
        .count();
    assert!(manifest_requests >= 3, "{:?}", w.mirror.requests());
}

#[test]
fn missing_tag_and_rate_limit_say_what_happened() {
    let w = World::new(false);
    let err = one_error_line(&w.codex(&["update", "--yes", "--version", "9.9.9"]));
    assert!(err.contains("release 9.9.9 was not found"), "{err}");
    w.mirror.inject("manifest.json", Fault::RateLimited, None);
    let err = w.failed_update();
    assert!(
        err.contains("rate limit") && err.contains("GITHUB_TOKEN"),
        "{err}"
    );
    w.assert_still_on(A);
}

/// Publishes release B again as `tag`, with the host's codex archive replaced by `archive` and
/// the manifest's digests updated to match, so only the extraction rules can stop it.
fn publish_with_archive(w: &World, tag_version: &str, archive: Vec<u8>) {
    let b = release_b();
    let dir = w.mirror_root.join(format!("download/v{tag_version}"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut manifest = b.manifest.clone();
    manifest.version = semver::Version::parse(tag_version).expect("semver");
    manifest.tag = format!("v{tag_version}");
    for a in &mut manifest.artifacts {
        let src = b.dir.join(&a.archive.name);
        let bytes = if a.binary == "codex" && a.target == host().triple {
            a.archive.size = archive.len() as u64;
            a.archive.sha256 = codex_installer::Digest::of_bytes(&archive);
            archive.clone()
        } else {
            std::fs::read(src).expect("archive")
        };
        std::fs::write(dir.join(&a.archive.name), bytes).expect("write");
    }
    let json = manifest.to_json();
    std::fs::write(dir.join("manifest.json"), &json).expect("manifest");
    // Signed like a development release, so that only the archive itself can be refused.
    let key = xtask::signing::release_key(&codex_e2e::workspace_root()).expect("dev key");
    let sig = codex_installer::signature::sign(&key.seed, json.as_bytes());
    std::fs::write(dir.join("manifest.json.sig"), sig.to_sig_file()).expect("sig");
    w.mirror.set_latest(&format!("v{tag_version}"));
}

fn evil_tar_gz(name: &str, symlink: bool) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_mode(0o755);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    if symlink {
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_link_name("/bin/sh").expect("link");
        h.set_size(0);
        h.set_cksum();
        b.append(&h, &b""[..]).expect("append");
    } else {
        h.set_size(4);
        h.set_cksum();
        b.append(&h, &b"evil"[..]).expect("append");
    }
    b.into_inner().expect("tar").finish().expect("gz")
}

#[test]
fn archives_with_parent_dir_or_symlink_entries_are_refused() {
    let w = World::new(false);
    let entry = host().entry_name(Binary::Codex);
    publish_with_archive(
        &w,
        "1.4.0-e2e.1",
        evil_tar_gz(&format!("../{entry}"), false),
    );
    let err = w.failed_update();
    assert!(err.contains("unsafe path"), "{err}");
    w.assert_still_on(A);
    assert!(
        !w.layout().root.join(&entry).exists()
            && !w.layout().staging_dir().join("..").join(&entry).exists()
    );

    publish_with_archive(&w, "1.5.0-e2e.1", evil_tar_gz(&entry, true));
    let err = w.failed_update();
    assert!(err.contains("is a symlink"), "{err}");
    w.assert_still_on(A);
}

#[test]
fn https_to_http_redirect_is_refused() {
    let w = World::new(true);
    let plain = format!("{}/download/v{B}/manifest.json", w.mirror.base_url());
    w.mirror.inject(
        "latest/download/manifest.json",
        Fault::Redirect(plain),
        None,
    );
    let err = w.failed_update();
    assert!(
        err.contains("refusing a redirect from https to plain http"),
        "{err}"
    );
    w.assert_still_on(A);
    // Without the fault the same HTTPS source works.
    w.mirror.clear_faults();
    ok(&w.codex(&["update", "--yes"]));
    w.assert_still_on(B);
}

#[test]
fn unwritable_install_dir_fails_before_downloading() {
    let w = World::new(false);
    let mut cmd = w.codex_with_read_only_bin();
    let out = cmd.args(["update", "--yes"]).output().expect("run");
    set_mode(&w.bin, 0o755);
    let err = one_error_line(&out);
    assert!(
        err.contains(&format!("cannot install into {}", w.bin.display())),
        "{err}"
    );
    let downloaded = w
        .mirror
        .requests()
        .iter()
        .any(|r| r.path.ends_with(".tar.gz"));
    assert!(
        !downloaded,
        "nothing may be downloaded: {:?}",
        w.mirror.requests()
    );
    w.assert_still_on(A);
}

/// Waits until `f` holds, for at most 30 s.
fn wait_for(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn partial_download_bytes(w: &World) -> u64 {
    std::fs::read_dir(w.layout().staging_dir())
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
                .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_second_update_waits_its_turn_with_a_clear_error() {
    let w = World::new(false);
    let mut first = w.spawn_slow_update(400_000);
    wait_for("the first update to take the lock", || {
        w.layout().lock_dir().join("pid").exists()
    });
    let err = w.failed_update();
    assert!(
        err.contains(&format!(
            "another codex install or update is running (pid {})",
            first.id()
        )),
        "{err}"
    );
    assert!(first.wait().expect("wait").success());
    w.assert_still_on(B);
}

#[test]
fn sigkill_during_download_leaves_a_working_install_and_a_rerun_resumes() {
    let w = World::new(false);
    let archive = w.archive_path_part();
    let mut first = w.spawn_slow_update(300_000);
    wait_for("part of the archive to arrive", || {
        partial_download_bytes(&w) > 50_000
    });
    first.kill().expect("SIGKILL");
    first.wait().expect("reap");
    w.assert_still_on(A);
    assert!(
        w.layout().lock_dir().exists(),
        "the dead process's lock is left behind"
    );

    ok(&w.codex(&["update", "--yes"]));
    w.assert_still_on(B);
    let resumed = w
        .mirror
        .requests()
        .iter()
        .any(|r| r.path.ends_with(&archive) && r.range.is_some());
    assert!(
        resumed,
        "the re-run continues the partial download: {:?}",
        w.mirror.requests()
    );
    assert!(!w.layout().lock_dir().exists());
}

#[test]
fn tokens_go_to_the_github_api_only_when_latest_needs_it() {
    let w = World::new(false);
    // The newest release lacks a manifest at latest/download: the API names the tag.
    w.mirror
        .inject("latest/download/manifest.json", Fault::Status(404), None);
    let out = w
        .cmd(Binary::Codex)
        .args(["update", "--yes"])
        .env("CODEX_GITHUB_API_URL", w.mirror.api_url())
        .env("GITHUB_TOKEN", "secret-token")
        .output()
        .expect("run");
    ok(&out);
    w.assert_still_on(B);
    let requests = w.mirror.requests();
    let api: Vec<_> = requests
        .iter()
        .filter(|r| r.path.starts_with("/api/"))
        .collect();
    assert_eq!(api.len(), 1, "{requests:?}");
    assert_eq!(api[0].authorization.as_deref(), Some("Bearer secret-token"));
    let leaked: Vec<_> = requests
        .iter()
        .filter(|r| !r.path.starts_with("/api/") && r.authorization.is_some())
        .collect();
    assert!(leaked.is_empty(), "token sent outside the API: {leaked:?}");
    // The token never reaches the output either.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("secret-token"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("secret-token"));
}

#[test]
fn startup_notice_comes_from_a_daily_background_check_and_is_off_in_ci() {
    let w = World::new(false);
    let start = |ci: bool| {
        let mut c = w.cmd(Binary::Codex);
        c.env_remove("CODEX_NO_UPDATE_CHECK");
        if !ci {
            c.env_remove("CI");
        }
        let out = c.output().expect("run codex");
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: codex"));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let notice = format!("codex {B} is available (you have {A}); run `codex update` to install it");

    // First start: nothing cached yet, so no notice; a detached check fills the cache.
    assert!(!start(false).contains("is available"));
    wait_for("the background check to cache the newest release", || {
        codex_installer::update_check::read_cache(&w.codex_home).is_some_and(|c| c.latest == B)
    });
    assert!(start(false).contains(&notice));

    // Within the day no further check goes out.
    w.mirror.clear_requests();
    assert!(start(false).contains(&notice));
    std::thread::sleep(Duration::from_millis(500));
    assert!(w.mirror.requests().is_empty(), "{:?}", w.mirror.requests());

    // Off in CI, and when config says so.
    assert!(!start(true).contains("is available"));
    std::fs::write(w.codex_home.join("config.toml"), "update_check = false\n").expect("config");
    assert!(!start(false).contains("is available"));
}

/// The mirror's copy of a file of release B.
fn b_file(w: &World, name: &str) -> PathBuf {
    w.mirror_root.join(format!("download/v{B}/{name}"))
}

#[test]
fn updates_fetch_and_verify_the_manifest_signature_of_the_tag() {
    let w = World::new(false);
    ok(&w.codex(&["update", "--yes"]));
    w.assert_still_on(B);
    // `latest` led to v B's manifest; its signature is fetched by tag, which cannot move.
    let sig = format!("/download/v{B}/manifest.json.sig");
    assert!(
        w.mirror.requests().iter().any(|r| r.path.ends_with(&sig)),
        "{:?}",
        w.mirror.requests()
    );
}

#[test]
fn a_manifest_altered_by_one_byte_is_refused_and_nothing_changes() {
    let w = World::new(false);
    let path = b_file(&w, "manifest.json");
    let text = std::fs::read_to_string(&path).expect("manifest");
    // One byte of the commit id, so the JSON stays valid and only the signature can tell.
    let at = text.find("\"commit\": \"").expect("commit") + 11;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    std::fs::write(&path, bytes).expect("write");
    for args in [&["update", "--yes"][..], &["update", "--check"]] {
        let err = one_error_line(&w.codex(args));
        assert!(
            err.contains("manifest.json was not signed by any trusted key")
                && err.contains("do not install it"),
            "{err}"
        );
    }
    w.assert_still_on(A);
    assert_eq!(
        std::fs::read_dir(w.layout().releases_dir())
            .expect("releases")
            .count(),
        1
    );
    let archive = w.archive_path_part();
    assert!(
        !w.mirror
            .requests()
            .iter()
            .any(|r| r.path.ends_with(&archive)),
        "no archive may be downloaded for an untrusted manifest"
    );
}

#[test]
fn a_manifest_signed_by_an_unknown_key_is_refused() {
    let w = World::new(false);
    let manifest = std::fs::read(b_file(&w, "manifest.json")).expect("manifest");
    let sig = codex_installer::signature::sign(&codex_e2e::unknown_seed(), &manifest);
    std::fs::write(b_file(&w, "manifest.json.sig"), sig.to_sig_file()).expect("write");
    let err = w.failed_update();
    assert!(
        err.contains("manifest.json was not signed by any trusted key (trusted: codex-release-1, codex-development)"),
        "{err}"
    );
    w.assert_still_on(A);
}

#[test]
fn an_unsigned_release_is_refused_from_a_mirror_and_from_a_folder() {
    let w = World::new(false);
    std::fs::remove_file(b_file(&w, "manifest.json.sig")).expect("remove");
    let err = w.failed_update();
    assert!(
        err.contains(&format!("release v{B} from"))
            && err.contains("manifest.json.sig answered 404")
            && err.contains("codex installs only signed releases"),
        "{err}"
    );
    w.assert_still_on(A);

    // The same release copied for an offline install, without its signature.
    let dir = w._tmp.path().join("offline");
    std::fs::create_dir_all(&dir).expect("dir");
    for e in std::fs::read_dir(release_b().dir).expect("release") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_file() && e.file_name() != "manifest.json.sig" {
            std::fs::copy(e.path(), dir.join(e.file_name())).expect("copy");
        }
    }
    let from = dir.display().to_string();
    let err = one_error_line(&w.codex(&["update", "--yes", "--from", &from]));
    assert!(
        err.contains("manifest.json.sig is missing") && err.contains("refusing it"),
        "{err}"
    );
    w.assert_still_on(A);
    // With its signature back, the folder installs.
    std::fs::copy(
        release_b().dir.join("manifest.json.sig"),
        dir.join("manifest.json.sig"),
    )
    .expect("copy");
    ok(&w.codex(&["update", "--yes", "--from", &from]));
    w.assert_still_on(B);
}

#[test]
fn a_build_that_trusts_only_the_release_keys_refuses_a_development_release() {
    let w = World::new(false);
    let installer = Installer {
        layout: w.layout(),
        source: Source::parse(&w.mirror.base_url(), Origin::Flag).expect("source"),
        http: Http::new(RetryPolicy::default()).expect("http"),
        target: host(),
        installed_by: "e2e".into(),
        keys: codex_installer::signature::TRUSTED_KEYS.to_vec(),
        allow_downgrade: false,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let err = rt
        .block_on(installer.fetch_manifest(&VersionRequest::Latest))
        .expect_err("a development signature is not trusted by a release build");
    assert_eq!(
        err.to_string(),
        "manifest.json was not signed by any trusted key (trusted: codex-release-1); the download may have been tampered with, do not install it"
    );
    w.assert_still_on(A);
}

#[test]
fn a_latest_release_older_than_the_installed_one_is_refused_unless_allowed() {
    let w = World::new(false);
    ok(&w.codex(&["update", "--yes"]));
    w.assert_still_on(B);
    // A source that now serves the older, validly signed release as the newest one.
    w.mirror.set_latest(&format!("v{A}"));
    let expected = format!(
        "error: release {A} is older than the installed {B}; refusing to downgrade (pass --allow-downgrade, or set CODEX_ALLOW_DOWNGRADE=1, to install it anyway)"
    );
    assert_eq!(w.failed_update(), expected);
    assert_eq!(one_error_line(&w.codex(&["update", "--dry-run"])), expected);
    w.assert_still_on(B);
    // `CODEX_ALLOW_DOWNGRADE=0` is not a yes.
    let out = w
        .cmd(Binary::Codex)
        .args(["update", "--yes"])
        .env("CODEX_ALLOW_DOWNGRADE", "0")
        .output()
        .expect("run");
    assert_eq!(one_error_line(&out), expected);
    let out = w
        .cmd(Binary::Codex)
        .args(["update", "--yes"])
        .env("CODEX_ALLOW_DOWNGRADE", "1")
        .output()
        .expect("run");
    let out = ok(&out);
    assert!(
        out.starts_with(&format!("codex updated: {B} -> {A}")),
        "{out}"
    );
    w.assert_still_on(A);
}
