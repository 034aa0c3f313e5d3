//! `cargo xtask notarize` against a loopback stand-in of Apple's notary API and its S3 bucket
//! (tests/src/notary.rs), submitting the real macOS binaries of the six-target release fixture
//! (the one tests/release.rs builds, so no extra build).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use codex_e2e::notary::{NotaryStandIn, TestKey, Verdict};
use codex_e2e::{Release, describe};
use codex_installer::target::{Os, TARGETS, Target};

const VERSION: &str = "1.2.3-e2e.1";
const KEY_ID: &str = "2X9R4HXF34";
const ISSUER: &str = "57246542-96fe-1a63-e053-0824d011072a";
const APPLE_VARS: [&str; 5] = [
    "CODEX_APPLE_API_KEY_ID",
    "CODEX_APPLE_API_ISSUER",
    "CODEX_APPLE_API_KEY_P8",
    "CODEX_NOTARY_URL",
    "CODEX_NOTARY_S3_URL",
];

fn release() -> Release {
    let all: Vec<&'static Target> = TARGETS.iter().collect();
    codex_e2e::release(VERSION, &all).expect("release build")
}

/// The names the macOS binaries are submitted under, sorted.
fn macos_zips(r: &Release) -> Vec<String> {
    let mut v: Vec<String> = r
        .manifest
        .artifacts
        .iter()
        .filter(|a| Target::from_triple(&a.target).is_ok_and(|t| t.os == Os::MacOs))
        .map(|a| format!("{}.zip", a.entry.name))
        .collect();
    v.sort();
    v
}

fn key() -> TestKey {
    TestKey::generate(KEY_ID, ISSUER).expect("test key")
}

/// `cargo xtask notarize DIR` with the API key `key` and the endpoints of `stand_in`, polling
/// fast; `env` is applied last (a `None` value removes the variable).
fn notarize(
    dir: &Path,
    key: &TestKey,
    stand_in: &NotaryStandIn,
    env: &[(&str, Option<&str>)],
) -> Output {
    notarize_with(dir, key, stand_in, env, &[])
}

/// [`notarize`] with more arguments.
fn notarize_with(
    dir: &Path,
    key: &TestKey,
    stand_in: &NotaryStandIn,
    env: &[(&str, Option<&str>)],
    args: &[&str],
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_codex-e2e-xtask"));
    cmd.arg("notarize")
        .arg(dir)
        .args(["--poll-interval", "0.05"])
        .args(args);
    for var in APPLE_VARS {
        cmd.env_remove(var);
    }
    cmd.env("CODEX_APPLE_API_KEY_ID", &key.key_id)
        .env("CODEX_APPLE_API_ISSUER", &key.issuer)
        .env("CODEX_APPLE_API_KEY_P8", &key.p8)
        .env("CODEX_NOTARY_URL", stand_in.base_url())
        .env("CODEX_NOTARY_S3_URL", stand_in.s3_url());
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    within(cmd, Duration::from_secs(120))
}

/// Runs `cmd` to its end, or kills it and fails the test after `limit`: a wait that never ends
/// must fail, not hang the test run.
fn within(mut cmd: Command, limit: Duration) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start notarize");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("wait for notarize"),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("notarize still ran after {limit:?}");
        }
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The one line a failed command printed, which must start with `error: `.
fn one_line_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{}", describe(out));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "{}", describe(out));
    assert!(err.starts_with("error: "), "{}", describe(out));
    err.trim_end().to_owned()
}

#[test]
fn every_macos_binary_is_submitted_uploaded_and_accepted() {
    let r = release();
    let key = key();
    let stand_in = NotaryStandIn::start(&key, Verdict::Accepted).expect("stand-in");
    let out = notarize(&r.dir, &key, &stand_in, &[]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(stand_in.refusals(), Vec::<String>::new());
    let zips = macos_zips(&r);
    assert_eq!(zips.len(), 4, "two binaries for each of two macOS targets");
    let expected: Vec<(String, bool)> = zips.into_iter().map(|z| (z, true)).collect();
    assert_eq!(stand_in.submissions(), expected);
    assert!(
        stdout(&out).contains("all 4 macOS binaries are notarized"),
        "{}",
        describe(&out)
    );
}

#[test]
fn an_invalid_binary_fails_the_command_and_its_notary_log_is_printed() {
    let r = release();
    let key = key();
    let log = serde_json::json!({
        "status": "Invalid",
        "statusSummary": "Archive contains critical validation errors",
        "issues": [{
            "severity": "error",
            "message": "The binary is not signed with a valid Developer ID certificate.",
            "architecture": "arm64",
        }],
    });
    let stand_in = NotaryStandIn::start(&key, Verdict::Invalid(log)).expect("stand-in");
    let out = notarize(&r.dir, &key, &stand_in, &[]);
    let err = one_line_error(&out);
    assert!(err.starts_with("error: notarization failed: "), "{err}");
    for zip in macos_zips(&r) {
        let name = zip.trim_end_matches(".zip");
        assert!(err.contains(&format!("{name} is Invalid")), "{err}");
    }
    let printed = stdout(&out);
    assert_eq!(
        printed
            .matches("The binary is not signed with a valid Developer ID certificate.")
            .count(),
        4,
        "{printed}"
    );
    assert!(
        printed.contains("Archive contains critical validation errors"),
        "{printed}"
    );
}

#[test]
fn in_progress_is_polled_until_accepted() {
    let r = release();
    let key = key();
    let stand_in = NotaryStandIn::start(
        &key,
        Verdict::InProgressThen(3, Box::new(Verdict::Accepted)),
    )
    .expect("stand-in");
    let out = notarize(&r.dir, &key, &stand_in, &[]);
    assert!(out.status.success(), "{}", describe(&out));
    let polls = stand_in
        .seen()
        .iter()
        .filter(|s| s.method == "GET" && s.target.starts_with("/notary/v2/submissions/"))
        .count();
    // Four submissions, each In Progress three times after its upload, then Accepted.
    assert!(polls >= 4 * 4, "{polls} status requests");
}

#[test]
fn a_short_outage_of_the_notary_service_is_retried() {
    let r = release();
    let key = key();
    let stand_in = NotaryStandIn::start(&key, Verdict::Accepted).expect("stand-in");
    // Two failures in a row: the first submission's first two tries, or two submissions' first.
    stand_in.fail_next(2);
    let out = notarize(&r.dir, &key, &stand_in, &[]);
    assert!(out.status.success(), "{}", describe(&out));
    let unavailable = stand_in.seen().iter().filter(|s| s.status == 503).count();
    assert_eq!(unavailable, 2);
}

#[test]
fn a_verdict_that_never_comes_fails_after_the_timeout() {
    let r = release();
    let key = key();
    let stand_in = NotaryStandIn::start(
        &key,
        Verdict::InProgressThen(u32::MAX, Box::new(Verdict::Accepted)),
    )
    .expect("stand-in");
    let out = notarize_with(&r.dir, &key, &stand_in, &[], &["--timeout-secs", "1"]);
    let err = one_line_error(&out);
    assert!(err.contains("still In Progress after 1 s"), "{err}");
}

#[test]
fn an_unreachable_notary_service_is_a_one_line_error() {
    let r = release();
    let key = key();
    let stand_in = NotaryStandIn::start(&key, Verdict::Accepted).expect("stand-in");
    // A port that was free a moment ago and has nothing listening now.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let url = format!("http://{closed}");
    let out = notarize(&r.dir, &key, &stand_in, &[("CODEX_NOTARY_URL", Some(&url))]);
    let err = one_line_error(&out);
    assert!(
        err.contains(&format!("cannot reach the notary service at {url}/")),
        "{err}"
    );
    assert!(err.contains("CODEX_NOTARY_URL"), "{err}");
    assert_eq!(err.matches("cannot reach").count(), 1, "said once: {err}");
}

#[test]
fn missing_credentials_are_named_in_one_line() {
    let r = release();
    let key = key();
    let stand_in = NotaryStandIn::start(&key, Verdict::Accepted).expect("stand-in");
    let none = [
        ("CODEX_APPLE_API_KEY_ID", None),
        ("CODEX_APPLE_API_ISSUER", None),
        ("CODEX_APPLE_API_KEY_P8", None),
    ];
    let err = one_line_error(&notarize(&r.dir, &key, &stand_in, &none));
    assert!(
        err.contains("set CODEX_APPLE_API_KEY_ID, CODEX_APPLE_API_ISSUER, CODEX_APPLE_API_KEY_P8"),
        "{err}"
    );
    // An empty secret is as missing as an absent one, and only the missing one is named.
    let err = one_line_error(&notarize(
        &r.dir,
        &key,
        &stand_in,
        &[("CODEX_APPLE_API_KEY_P8", Some(""))],
    ));
    assert!(err.contains("set CODEX_APPLE_API_KEY_P8 "), "{err}");
    assert!(!err.contains("CODEX_APPLE_API_KEY_ID"), "{err}");
    assert!(stand_in.seen().is_empty(), "nothing was sent without a key");
}

#[test]
fn a_token_signed_by_another_key_is_refused() {
    let r = release();
    let trusted = key();
    let stand_in = NotaryStandIn::start(&trusted, Verdict::Accepted).expect("stand-in");
    // Same key id and issuer, different private key: only the signature tells them apart.
    let other = key();
    let out = notarize(&r.dir, &other, &stand_in, &[]);
    let err = one_line_error(&out);
    assert!(
        err.contains("the notary service refused the App Store Connect API key (401"),
        "{err}"
    );
    assert!(!err.contains("PRIVATE KEY"), "{err}");
    let refusals = stand_in.refusals();
    assert!(!refusals.is_empty());
    assert!(
        refusals
            .iter()
            .all(|r| r.contains("signature does not verify")),
        "{refusals:?}"
    );
}

#[test]
fn a_macos_archive_changed_after_the_build_is_not_submitted() {
    let r = release();
    let key = key();
    let stand_in = NotaryStandIn::start(&key, Verdict::Accepted).expect("stand-in");
    // The manifest and the macOS archives, one of them with one byte changed.
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::copy(
        r.dir.join("manifest.json"),
        tmp.path().join("manifest.json"),
    )
    .expect("copy");
    let mut changed = None;
    for a in &r.manifest.artifacts {
        if Target::from_triple(&a.target).is_ok_and(|t| t.os == Os::MacOs) {
            let to = tmp.path().join(&a.archive.name);
            std::fs::copy(r.dir.join(&a.archive.name), &to).expect("copy");
            changed.get_or_insert(to);
        }
    }
    let changed = changed.expect("a macOS archive");
    let mut bytes = std::fs::read(&changed).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&changed, bytes).expect("write");
    let err = one_line_error(&notarize(tmp.path(), &key, &stand_in, &[]));
    assert!(
        err.contains("does not match its digest in manifest.json; rebuild the release"),
        "{err}"
    );
    assert!(stand_in.seen().is_empty(), "nothing was submitted");
}
