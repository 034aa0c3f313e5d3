//! Bad input to `cargo xtask dist` fails fast with one line that says what to do.

use std::process::Command;

fn xtask() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
}

fn stderr_of(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("run xtask");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unknown_target_is_one_line_listing_supported_targets() {
    let (code, err) = stderr_of(xtask().args(["dist", "--target", "sparc-sun-solaris"]));
    assert_eq!(code, 1);
    insta::assert_snapshot!(err, @"error: unknown target 'sparc-sun-solaris'; supported targets: x86_64-unknown-linux-musl, aarch64-unknown-linux-musl, x86_64-apple-darwin, aarch64-apple-darwin, x86_64-pc-windows-gnu, aarch64-pc-windows-gnullvm");
}

#[test]
fn non_semver_version_is_one_line_with_an_example() {
    let (code, err) = stderr_of(xtask().args(["dist", "--host-only", "--version", "1.x"]));
    assert_eq!(code, 1);
    insta::assert_snapshot!(err, @"error: version '1.x' is not semver (unexpected character 'x' while parsing minor version number); use MAJOR.MINOR.PATCH, e.g. 1.2.3 or 1.2.3-beta.1");
}

#[test]
fn missing_zig_that_cannot_be_installed_is_one_line_saying_what_to_install() {
    // A PATH with rustup but without zig, cargo-zigbuild or a Python that could install them.
    let bin = tempfile::tempdir().expect("tmp");
    let rustup = xtask::tools::on_path("rustup").expect("rustup on PATH");
    std::os::unix::fs::symlink(rustup, bin.path().join("rustup")).expect("symlink");
    let (code, err) = stderr_of(
        xtask()
            .args(["dist", "--host-only"])
            .env("PATH", bin.path())
            .env("CODEX_XTASK_PYTHON", "/nonexistent/python3"),
    );
    assert_eq!(code, 1);
    let last = err.lines().last().unwrap_or_default();
    insta::assert_snapshot!(last, @"error: zig and cargo-zigbuild are missing and could not be installed (cannot run /nonexistent/python3: No such file or directory (os error 2)); install Python 3 with pip, or put zig 0.17 and cargo-zigbuild 0.24 on PATH");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error")).count(),
        1,
        "{err}"
    );
}

/// A release directory with a signed manifest.json and SHA256SUMS (no archives: the signatures
/// are checked first, so they are all these tests need).
fn signed_release(seed: [u8; 32], development: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("manifest.json"), "{\"schema\": 1}\n").expect("write");
    std::fs::write(dir.path().join("SHA256SUMS"), "").expect("write");
    let key = xtask::signing::SigningKey { seed, development };
    xtask::signing::sign_release(dir.path(), &key, 1_700_000_000).expect("sign");
    dir
}

fn dev_seed() -> [u8; 32] {
    let path = xtask::dist::workspace_root().join(xtask::signing::DEV_KEY_FILE);
    codex_installer::signature::seed_from_base64(&std::fs::read_to_string(path).expect("read"))
        .expect("seed")
}

#[test]
fn verify_refuses_an_altered_manifest_in_one_line() {
    let dir = signed_release(dev_seed(), true);
    // Untouched, the signatures pass and verification goes on to the (missing) rest.
    let (code, err) = stderr_of(xtask().arg("verify").arg(dir.path()));
    assert_eq!(code, 1);
    assert!(!err.contains("signed"), "{err}");

    std::fs::write(dir.path().join("manifest.json"), "{\"schema\": 1 }\n").expect("write");
    let (code, err) = stderr_of(xtask().arg("verify").arg(dir.path()));
    assert_eq!(code, 1);
    insta::assert_snapshot!(err, @"error: manifest.json was not signed by any trusted key (trusted: codex-release-1, codex-development); the download may have been tampered with, do not install it");
}

#[test]
fn verify_refuses_a_release_signed_by_an_unknown_key() {
    let dir = signed_release([9; 32], false);
    let (code, err) = stderr_of(xtask().arg("verify").arg(dir.path()));
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: manifest.json was not signed by any trusted key"),
        "{err}"
    );
}

#[test]
fn verify_release_refuses_a_development_release_before_the_other_checks() {
    let dir = signed_release(dev_seed(), true);
    let (code, err) = stderr_of(xtask().args(["verify", "--release"]).arg(dir.path()));
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "error: {} is signed with the development key, which no released installer trusts; set CODEX_SIGNING_KEY to a key in TRUSTED_KEYS and rebuild\n",
            dir.path().display()
        )
    );
}

/// `cargo xtask notarize` with the App Store Connect variables removed and `env` set.
fn notarize(env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = xtask();
    cmd.args(["notarize", "no-such-dir"]);
    for var in [
        "CODEX_APPLE_API_KEY_ID",
        "CODEX_APPLE_API_ISSUER",
        "CODEX_APPLE_API_KEY_P8",
        "CODEX_NOTARY_URL",
        "CODEX_NOTARY_S3_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    stderr_of(&mut cmd)
}

#[test]
fn notarize_without_the_api_key_is_one_line_naming_the_variables() {
    let (code, err) = notarize(&[]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(err, @"error: notarization needs an App Store Connect API key: set CODEX_APPLE_API_KEY_ID, CODEX_APPLE_API_ISSUER, CODEX_APPLE_API_KEY_P8 (docs/releasing.md says where they come from)");
}

#[test]
fn notarize_with_a_key_that_is_not_a_p8_is_one_line_that_does_not_echo_it() {
    let (code, err) = notarize(&[
        ("CODEX_APPLE_API_KEY_ID", "ABC123DEFG"),
        ("CODEX_APPLE_API_ISSUER", "issuer"),
        ("CODEX_APPLE_API_KEY_P8", "not-a-key-but-a-secret"),
    ]);
    assert_eq!(code, 1);
    assert!(!err.contains("not-a-key-but-a-secret"), "{err}");
    insta::assert_snapshot!(err, @"error: CODEX_APPLE_API_KEY_P8 must hold the whole text of the AuthKey_<id>.p8 file, -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----: no BEGIN PRIVATE KEY line");
}

#[test]
fn notarize_refuses_a_plain_http_notary_url_off_this_machine() {
    use base64::Engine as _;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
    let p8 = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref())
    );
    let (code, err) = notarize(&[
        ("CODEX_APPLE_API_KEY_ID", "ABC123DEFG"),
        ("CODEX_APPLE_API_ISSUER", "issuer"),
        ("CODEX_APPLE_API_KEY_P8", &p8),
        ("CODEX_NOTARY_URL", "http://notary.example"),
    ]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(err, @"error: CODEX_NOTARY_URL must be an https:// URL (http:// only to this machine), not http://notary.example/");
}
