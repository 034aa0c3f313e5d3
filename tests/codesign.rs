//! Developer ID (macOS) and Authenticode (Windows) signatures, made from Linux by the real
//! `dist` with a throwaway PKI (tests/src/pki.rs) and a loopback time-stamping authority, then
//! checked by verifiers that share no code with the signer: openssl (CMS, chain, RFC 3161
//! token), a Python reading of the Mach-O signature that recomputes every page hash
//! (tests/codesign/macho_signature.py), and `osslsigncode verify`. The signed Windows program
//! still runs (under wine).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use codex_e2e::pki::{TEST_IDENTITY, TestPki, Tsa};
use codex_e2e::{Release, describe, e2e_dir, workspace_root};
use codex_installer::archive::read_single_entry;
use codex_installer::manifest::Manifest;
use codex_installer::target::{Binary, Os, Target};
use xtask::codesign::{self, AppleIdentity, AuthenticodeIdentity, PlatformSigning};

/// The version of tests/release.rs's all-target fixture: the unsigned release compared with here
/// is that very fixture, and the signed one reuses its compiled programs.
const VERSION: &str = "1.2.3-e2e.1";

fn targets() -> Vec<&'static Target> {
    [
        "aarch64-apple-darwin",
        "x86_64-apple-darwin",
        "x86_64-pc-windows-gnu",
    ]
    .iter()
    .map(|t| Target::from_triple(t).expect("known target"))
    .collect()
}

/// The PKI and a release of the three targets signed with it (through its time-stamping
/// authority).
struct Signed {
    pki: TestPki,
    release: Release,
    /// How many time stamps the authority issued, when this process built the release.
    timestamps: Option<usize>,
}

/// The signed release, built once per test run: nextest runs each test in its own process, and a
/// later process reuses what an earlier one of the same run built (as `codex_e2e::release`
/// does), rather than compressing every signed archive again.
fn signed() -> &'static Signed {
    static SIGNED: OnceLock<Signed> = OnceLock::new();
    SIGNED.get_or_init(|| {
        let lock = codex_e2e::release_lock().expect("lock");
        let base = e2e_dir().join("codesign");
        let out = base.join("release-signed");
        let pki_dir = base.join("pki");
        let stamp = base.join("release-signed.run");
        let run_id = std::env::var("NEXTEST_RUN_ID").ok();
        let fresh = run_id.is_some()
            && out.join("manifest.json").is_file()
            && pki_dir.join("windows.p12").is_file()
            && std::fs::read_to_string(&stamp).ok() == run_id;
        let (pki, timestamps) = if fresh {
            (TestPki::at(&pki_dir), None)
        } else {
            let _ = std::fs::remove_dir_all(&pki_dir);
            let pki = TestPki::create(&pki_dir).expect("test PKI");
            let tsa = pki.start_tsa().expect("TSA");
            build_signed(&pki, &tsa, &out);
            if let Some(id) = &run_id {
                std::fs::write(&stamp, id).expect("stamp");
            }
            let count = tsa.count();
            (pki, Some(count))
        };
        drop(lock);
        let manifest =
            Manifest::from_json(&std::fs::read_to_string(out.join("manifest.json")).expect("read"))
                .expect("manifest");
        Signed {
            pki,
            release: Release { dir: out, manifest },
            timestamps,
        }
    })
}

/// `dist` for the three targets with the test identities, as the release job runs it.
fn build_signed(pki: &TestPki, tsa: &Tsa, out: &Path) {
    let platform_signing = PlatformSigning {
        apple: Some(
            AppleIdentity::new(pki.apple_pkcs12().expect("p12"), &TEST_IDENTITY, &tsa.url)
                .expect("the test Developer ID is accepted"),
        ),
        windows: Some(
            AuthenticodeIdentity::new(pki.windows_pkcs12().expect("p12"), &TEST_IDENTITY, &tsa.url)
                .expect("the test Authenticode certificate is accepted"),
        ),
    };
    let started = std::time::Instant::now();
    xtask::dist::run(&xtask::dist::DistOptions {
        targets: targets(),
        version: Some(VERSION.to_owned()),
        out: out.to_path_buf(),
        profiles: xtask::compile::Profiles::Fixture,
        print_build_env: false,
        platform_signing,
    })
    .expect("dist with the test identities");
    codex_e2e::log_build(&e2e_dir(), "codesign signed release", started.elapsed());
}

/// The same programs without credentials (zig's ad hoc signatures, unsigned Windows programs):
/// the all-target fixture every end-to-end test run builds anyway.
fn unsigned() -> Release {
    let all: Vec<&'static Target> = codex_installer::target::TARGETS.iter().collect();
    codex_e2e::release(VERSION, &all).expect("unsigned release")
}

fn entry(release: &Release, binary: Binary, triple: &str) -> Vec<u8> {
    let target = Target::from_triple(triple).expect("target");
    let a = release.manifest.artifact(binary, target).expect("artifact");
    let bytes = std::fs::read(release.dir.join(&a.archive.name)).expect("archive");
    read_single_entry(target.archive_format(), &bytes, None)
        .expect("entry")
        .contents
}

fn scratch(name: &str) -> tempfile::TempDir {
    std::fs::create_dir_all(e2e_dir()).expect("e2e dir");
    tempfile::Builder::new()
        .prefix(name)
        .tempdir_in(e2e_dir())
        .expect("tmp")
}

/// The Python reading of a Mach-O's signature (tests/codesign/macho_signature.py).
fn read_signature(binary: &Path, out: &Path) -> serde_json::Value {
    let script = workspace_root().join("tests/codesign/macho_signature.py");
    let o = Command::new("python3")
        .arg(script)
        .arg(binary)
        .arg(out)
        .output()
        .expect("python3");
    assert!(o.status.success(), "{}", describe(&o));
    serde_json::from_slice(&o.stdout).expect("json report")
}

fn openssl(args: &[&str], files: &[&Path]) -> std::process::Output {
    let mut c = Command::new("openssl");
    c.args(args);
    for f in files {
        c.arg(f);
    }
    c.output().expect("openssl")
}

/// openssl's check of the CMS signature over the CodeDirectory, chained to `ca`. Apple's
/// Developer ID marker extension is critical and unknown to openssl, hence `-ignore_critical`.
fn cms_verifies(dir: &Path, ca: &Path) -> std::process::Output {
    let mut c = Command::new("openssl");
    c.args([
        "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any",
    ])
    .arg("-ignore_critical")
    .arg("-in")
    .arg(dir.join("cms.der"))
    .arg("-content")
    .arg(dir.join("codedirectory.bin"))
    .arg("-CAfile")
    .arg(ca)
    .arg("-out")
    .arg(dir.join("verified.out"));
    c.output().expect("openssl cms")
}

#[test]
fn developer_id_signatures_verify_with_openssl_and_cover_every_page() {
    let s = signed();
    let tmp = scratch("developer-id-");
    let trust = s.pki.trust().expect("trust");
    for triple in ["aarch64-apple-darwin", "x86_64-apple-darwin"] {
        for binary in Binary::ALL {
            // Our own check, beside the independent ones.
            let ours = |b: &[u8]| {
                xtask::codesign::apple::verify(b, codesign::bundle_identifier(binary), &trust)
            };
            let what = format!("{} for {triple}", binary.name());
            let dir = tmp.path().join(format!("{triple}-{}", binary.name()));
            std::fs::create_dir_all(&dir).expect("mkdir");
            let bytes = entry(&s.release, binary, triple);
            let file = dir.join("binary");
            std::fs::write(&file, &bytes).expect("write");
            let report = read_signature(&file, &dir.join("sig"));
            let sig = dir.join("sig");
            assert_eq!(report["signed"], true, "{what}: {report}");
            assert_eq!(
                report["identifier"],
                codesign::bundle_identifier(binary),
                "{what}"
            );
            assert_eq!(report["team"], TEST_IDENTITY.apple_team_id, "{what}");
            assert_ne!(
                report["flags"].as_u64().expect("flags") & 0x10000,
                0,
                "{what}: no hardened runtime"
            );
            assert_eq!(report["bad_pages"], serde_json::json!([]), "{what}");
            assert_eq!(
                report["code_limit"], report["signature_offset"],
                "{what}: pages before the signature left unhashed"
            );
            assert_eq!(report["cms"], true, "{what}: {report}");
            assert_eq!(report["timestamp"], true, "{what}: {report}");

            let o = cms_verifies(&sig, &s.pki.ca_pem);
            assert!(o.status.success(), "{what}: {}", describe(&o));
            // Chained to the right root only.
            let o = cms_verifies(&sig, &s.pki.tsa_ca_pem);
            assert!(!o.status.success(), "{what}: verified under the wrong CA");
            let digest = report["signature_sha256"].as_str().expect("digest");
            let o = openssl(
                &["ts", "-verify", "-token_in", "-digest", digest, "-in"],
                &[&sig.join("timestamp.der")],
            );
            let o2 = Command::new("openssl")
                .args(["ts", "-verify", "-token_in", "-digest", digest, "-in"])
                .arg(sig.join("timestamp.der"))
                .arg("-CAfile")
                .arg(&s.pki.tsa_ca_pem)
                .arg("-untrusted")
                .arg(&s.pki.tsa_pem)
                .output()
                .expect("openssl ts");
            assert!(
                o2.status.success(),
                "{what}: {}\nwithout CA: {}",
                describe(&o2),
                describe(&o)
            );
            assert!(
                ours(&bytes).is_ok(),
                "{what}: our own check refuses what openssl accepts"
            );

            // A broken time-stamp token (outside what the CMS signature covers) is refused too.
            let token = std::fs::read(sig.join("timestamp.der")).expect("token");
            let at = bytes
                .windows(token.len())
                .position(|w| w == token.as_slice())
                .expect("the token is in the binary");
            let mut bad = bytes.clone();
            bad[at + token.len() - 10] ^= 0x01;
            let err = ours(&bad).expect_err("a broken time-stamp token must fail");
            assert!(
                format!("{err:#}").contains("time-stamp token"),
                "{what}: {err:#}"
            );

            // One changed byte in any page fails both readings.
            let pages = report["pages"].as_u64().expect("pages") as usize;
            let page = report["page_size"].as_u64().expect("page size") as usize;
            let limit = report["code_limit"].as_u64().expect("limit") as usize;
            for p in [0, pages / 2, pages - 1] {
                let mut bad = bytes.clone();
                let at = (p * page + page / 2).min(limit - 1);
                bad[at] ^= 0x01;
                let f = dir.join(format!("tampered-{p}"));
                std::fs::write(&f, &bad).expect("write");
                let r = read_signature(&f, &dir.join(format!("sig-{p}")));
                assert_eq!(
                    r["bad_pages"],
                    serde_json::json!([p]),
                    "{what}: page {p} changed"
                );
                let err = ours(&bad).expect_err("a tampered page must fail");
                assert!(
                    format!("{err:#}").contains("does not verify"),
                    "{what}: {err:#}"
                );
            }
            // A changed CodeDirectory fails openssl's signature check.
            let mut cd = std::fs::read(sig.join("codedirectory.bin")).expect("cd");
            let last = cd.len() - 1;
            cd[last] ^= 0x01;
            std::fs::write(sig.join("codedirectory.bin"), &cd).expect("write");
            let o = cms_verifies(&sig, &s.pki.ca_pem);
            assert!(
                !o.status.success(),
                "{what}: a changed CodeDirectory verified"
            );
        }
    }
    if let Some(n) = s.timestamps {
        // Four macOS programs, two Windows programs.
        assert!(n >= 6, "the time-stamping authority issued {n} time stamps");
    }
}

#[test]
fn verify_release_accepts_the_release_identity_and_refuses_any_other() {
    let s = signed();
    let trust = s.pki.trust().expect("trust");
    let checked = codesign::verify_platform_signatures(&s.release.dir, &trust)
        .expect("the signed release passes");
    assert_eq!(checked, 6, "two binaries for each of three targets");
    // The whole release still passes the release checks it always had.
    xtask::verify::verify_dir(&s.release.dir).expect("verify");

    let err =
        codesign::verify_platform_signatures(&s.release.dir, &codesign::SignatureTrust::release())
            .expect_err("the test identity is not the release's");
    assert!(format!("{err:#}").contains("not the release's"), "{err:#}");

    let mut wrong_root = trust.clone();
    wrong_root.apple_roots = vec![
        codex_e2e::pki::pem_to_der(&std::fs::read_to_string(&s.pki.tsa_ca_pem).expect("pem"))
            .expect("der"),
    ];
    let err = codesign::verify_platform_signatures(&s.release.dir, &wrong_root)
        .expect_err("a signer outside the trusted roots");
    assert!(
        format!("{err:#}").contains("does not chain to a trusted root"),
        "{err:#}"
    );

    // A copy whose install.ps1 does not know the release is signed.
    let tmp = scratch("unpinned-");
    let copy = tmp.path().join("release");
    std::fs::create_dir_all(&copy).expect("mkdir");
    for e in std::fs::read_dir(&s.release.dir).expect("read dir") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_file() {
            std::fs::copy(e.path(), copy.join(e.file_name())).expect("copy");
        }
    }
    let ps1 = std::fs::read_to_string(copy.join("install.ps1")).expect("install.ps1");
    assert!(ps1.contains("\n$SignedRelease = $true\n"));
    std::fs::write(
        copy.join("install.ps1"),
        ps1.replace("$SignedRelease = $true", "$SignedRelease = $false"),
    )
    .expect("write");
    let err = codesign::verify_platform_signatures(&copy, &trust)
        .expect_err("install.ps1 would not check the signatures");
    assert!(
        format!("{err:#}").contains("$SignedRelease = $true"),
        "{err:#}"
    );

    let mut wrong_ca = trust;
    wrong_ca.windows_ca_file = Some(s.pki.tsa_ca_pem.clone());
    let exe = entry(&s.release, Binary::Codex, "x86_64-pc-windows-gnu");
    let err = codesign::authenticode::verify(&exe, &wrong_ca)
        .expect_err("an Authenticode signer outside the trusted CAs");
    assert!(format!("{err:#}").contains("does not verify"), "{err:#}");
}

#[test]
fn verify_release_refuses_ad_hoc_and_unsigned_binaries() {
    let tmp = scratch("pki-");
    let pki = TestPki::create(&tmp.path().join("pki")).expect("pki");
    let trust = pki.trust().expect("trust");
    let release = unsigned();
    let err = codesign::verify_platform_signatures(&release.dir, &trust)
        .expect_err("an unsigned release");
    assert!(format!("{err:#}").contains("signature"), "{err:#}");
    let check = |triple: &str, binary: Binary| {
        let bytes = entry(&release, binary, triple);
        let err = match Target::from_triple(triple).expect("target").os {
            Os::MacOs => {
                codesign::apple::verify(&bytes, codesign::bundle_identifier(binary), &trust)
            }
            _ => codesign::authenticode::verify(&bytes, &trust),
        }
        .expect_err("refused");
        format!("{err:#}")
    };
    // zig signs arm64 ad hoc and leaves x86_64 without any signature.
    for binary in Binary::ALL {
        let e = check("aarch64-apple-darwin", binary);
        assert!(e.contains("only an ad hoc signature"), "{e}");
        let e = check("x86_64-apple-darwin", binary);
        assert!(e.contains("no code signature"), "{e}");
        let e = check("x86_64-pc-windows-gnu", binary);
        assert!(e.contains("no Authenticode signature"), "{e}");
    }
}

fn osslsigncode_verify(exe: &Path, pki: &TestPki) -> std::process::Output {
    Command::new("osslsigncode")
        .arg("verify")
        .arg("-CAfile")
        .arg(&pki.ca_pem)
        .arg("-TSA-CAfile")
        .arg(&pki.tsa_ca_pem)
        .arg("-in")
        .arg(exe)
        .output()
        .expect("osslsigncode")
}

#[test]
fn authenticode_signatures_verify_with_osslsigncode_and_a_changed_byte_fails() {
    let s = signed();
    let tmp = scratch("authenticode-");
    for binary in Binary::ALL {
        let bytes = entry(&s.release, binary, "x86_64-pc-windows-gnu");
        let exe = tmp.path().join(format!("{}.exe", binary.name()));
        std::fs::write(&exe, &bytes).expect("write");
        let o = osslsigncode_verify(&exe, &s.pki);
        assert!(o.status.success(), "{}", describe(&o));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("SHA256"), "{text}");
        assert!(
            text.contains("Timestamp Server Signature verification: ok"),
            "{text}"
        );
        assert!(text.contains(TEST_IDENTITY.windows_publisher), "{text}");
        // A byte of code (well inside the first section, after the headers).
        let mut bad = bytes.clone();
        bad[0x1000 + 0x40] ^= 0x01;
        let tampered = tmp.path().join(format!("{}-tampered.exe", binary.name()));
        std::fs::write(&tampered, &bad).expect("write");
        let o = osslsigncode_verify(&tampered, &s.pki);
        assert!(
            !o.status.success(),
            "a changed byte verified: {}",
            describe(&o)
        );
        let err = codesign::authenticode::verify(&bad, &s.pki.trust().expect("trust"))
            .expect_err("our check refuses it too");
        assert!(format!("{err:#}").contains("does not verify"), "{err:#}");
    }
}

#[test]
fn removing_the_authenticode_signature_gives_back_the_reproducible_unsigned_build() {
    let s = signed();
    let plain = unsigned();
    let tmp = scratch("strip-");
    for binary in Binary::ALL {
        let exe = tmp.path().join(format!("{}.exe", binary.name()));
        let stripped = tmp.path().join(format!("{}-stripped.exe", binary.name()));
        std::fs::write(&exe, entry(&s.release, binary, "x86_64-pc-windows-gnu")).expect("w");
        let o = Command::new("osslsigncode")
            .arg("remove-signature")
            .arg("-in")
            .arg(&exe)
            .arg("-out")
            .arg(&stripped)
            .output()
            .expect("osslsigncode");
        assert!(o.status.success(), "{}", describe(&o));
        let unsigned = entry(&plain, binary, "x86_64-pc-windows-gnu");
        let stripped = std::fs::read(&stripped).expect("read");
        assert!(
            stripped == unsigned,
            "{}: the signed program minus its signature differs from the unsigned build",
            binary.name()
        );
    }
}

#[test]
fn the_signed_macos_programs_are_the_reproducible_unsigned_build_plus_a_signature() {
    let s = signed();
    let plain = unsigned();
    let tmp = scratch("same-code-");
    let script = workspace_root().join("tests/codesign/macho_signature.py");
    for triple in ["aarch64-apple-darwin", "x86_64-apple-darwin"] {
        for binary in Binary::ALL {
            let what = format!("{} for {triple}", binary.name());
            let a = tmp
                .path()
                .join(format!("{triple}-{}-signed", binary.name()));
            let b = tmp
                .path()
                .join(format!("{triple}-{}-unsigned", binary.name()));
            let signed_bytes = entry(&s.release, binary, triple);
            std::fs::write(&a, &signed_bytes).expect("write");
            std::fs::write(&b, entry(&plain, binary, triple)).expect("write");
            let o = Command::new("python3")
                .arg(&script)
                .arg("--same-code")
                .arg(&a)
                .arg(&b)
                .output()
                .expect("python3");
            assert!(o.status.success(), "{what}: {}", describe(&o));
            // And the comparison notices a changed byte of code.
            let mut bad = signed_bytes.clone();
            bad[0x2000] ^= 0x01;
            std::fs::write(&a, &bad).expect("write");
            let o = Command::new("python3")
                .arg(&script)
                .arg("--same-code")
                .arg(&a)
                .arg(&b)
                .output()
                .expect("python3");
            assert!(!o.status.success(), "{what}: a changed byte compared equal");
        }
    }
}

#[test]
fn the_signed_windows_program_still_runs() {
    use codex_e2e::WINE;
    assert!(
        Path::new(WINE).is_file(),
        "{WINE} is missing; `cargo xtask test` installs Debian's wine64"
    );
    let s = signed();
    let tmp = scratch("wine-signed-");
    let prefix = tmp.path().join("wine");
    let wine = |program: &str| {
        let mut c = Command::new(WINE);
        c.arg(program)
            .env("WINEPREFIX", &prefix)
            .env("WINEDEBUG", "-all")
            .current_dir(tmp.path());
        c
    };
    let o = wine("wineboot").arg("--init").output().expect("wineboot");
    assert!(o.status.success(), "{}", describe(&o));
    codex_e2e::install_wine_prng_stub(&prefix).expect("the ProcessPrng stub");
    let exe: PathBuf = tmp.path().join("codex.exe");
    std::fs::write(
        &exe,
        entry(&s.release, Binary::Codex, "x86_64-pc-windows-gnu"),
    )
    .expect("w");
    let win = format!("Z:{}", exe.display()).replace('/', "\\");
    let o = wine(&win).arg("--version").output().expect("run codex.exe");
    assert!(o.status.success(), "{}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(VERSION),
        "{}",
        describe(&o)
    );
}

#[test]
fn dist_refuses_credentials_that_are_not_the_release_identity() {
    let tmp = scratch("pki-");
    let pki = TestPki::create(&tmp.path().join("pki")).expect("pki");
    let release = codex_installer::signature::RELEASE_PLATFORM_IDENTITY;
    let err = AppleIdentity::new(
        pki.apple_pkcs12().expect("p12"),
        &release,
        "http://127.0.0.1/",
    )
    .expect_err("not the release's Developer ID");
    assert!(format!("{err:#}").contains("not the release's"), "{err:#}");
    let err = AuthenticodeIdentity::new(
        pki.windows_pkcs12().expect("p12"),
        &release,
        "http://127.0.0.1/",
    )
    .expect_err("not the release's publisher");
    assert!(
        format!("{err:#}").contains("not the release's publisher"),
        "{err:#}"
    );
    let mut wrong = pki.apple_pkcs12().expect("p12");
    wrong.password = "not the password".into();
    let err = AppleIdentity::new(wrong, &TEST_IDENTITY, "http://127.0.0.1/")
        .expect_err("a wrong password");
    assert!(format!("{err:#}").contains("wrong password"), "{err:#}");
}

#[test]
fn signing_fails_clearly_when_the_timestamp_authority_is_unreachable() {
    let tmp = scratch("pki-");
    let pki = TestPki::create(&tmp.path().join("pki")).expect("pki");
    // A port nothing listens on: bind one, then close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let url = format!("http://127.0.0.1:{port}/");
    let plain = unsigned();
    let bytes = entry(&plain, Binary::Codex, "aarch64-apple-darwin");
    let id = AppleIdentity::new(pki.apple_pkcs12().expect("p12"), &TEST_IDENTITY, &url)
        .expect("identity");
    let err = id.sign(&bytes, "com.openai.codex").expect_err("no TSA");
    assert!(
        format!("{err:#}").contains("time-stamp authority"),
        "{err:#}"
    );
    let exe = entry(&plain, Binary::Codex, "x86_64-pc-windows-gnu");
    let id = AuthenticodeIdentity::new(pki.windows_pkcs12().expect("p12"), &TEST_IDENTITY, &url)
        .expect("identity");
    let err = id.sign(&exe, Binary::Codex).expect_err("no TSA");
    assert!(
        format!("{err:#}").contains("time-stamp authority"),
        "{err:#}"
    );
}

#[test]
fn the_casks_carry_no_quarantine_workaround() {
    // The signed, notarized programs pass Gatekeeper from quarantine; a workaround in the cask
    // would hide a release that does not (and Homebrew rejects casks that need one).
    for name in ["homebrew/codex.rb", "homebrew/codex-exec-server.rb"] {
        let text = std::fs::read_to_string(workspace_root().join(name)).expect("template");
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            for banned in ["quarantine", "xattr", "postflight", "preflight"] {
                assert!(
                    !line.contains(banned),
                    "{name} works around Gatekeeper: {line}"
                );
            }
        }
    }
}

/// `codex doctor`'s reader (which ships inside codex, unlike the build driver's verifier) names
/// the release's signatures as what they are: the Developer ID with its team, hardened runtime
/// and timestamp on the signed programs, ad hoc or none on the unsigned ones.
#[test]
fn codex_doctor_reads_the_developer_id_signature_and_the_ad_hoc_one() {
    use codex_installer::codesign::{Signature, inspect};
    let signed = signed();
    let unsigned = unsigned();
    for binary in Binary::ALL {
        for triple in ["aarch64-apple-darwin", "x86_64-apple-darwin"] {
            let sig = inspect(&entry(&signed.release, binary, triple)).expect("readable");
            assert!(sig.is_developer_id(), "{binary:?} {triple}: {sig}");
            let Signature::Certificate {
                team,
                hardened_runtime,
                timestamped,
                ..
            } = &sig
            else {
                unreachable!("a Developer ID is a certificate");
            };
            assert_eq!(team.as_deref(), Some(TEST_IDENTITY.apple_team_id), "{sig}");
            assert!(*hardened_runtime && *timestamped, "{sig}");
        }
        assert_eq!(
            inspect(&entry(&unsigned, binary, "aarch64-apple-darwin")).expect("readable"),
            Signature::AdHoc {
                hardened_runtime: false
            }
        );
        assert_eq!(
            inspect(&entry(&unsigned, binary, "x86_64-apple-darwin")).expect("readable"),
            Signature::Unsigned
        );
    }
}
