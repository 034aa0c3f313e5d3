//! End-to-end tests of the release build: the real `cargo xtask dist` builds every target, and
//! these tests open the archives it wrote the way users and installers will.

use std::path::Path;
use std::process::Command;

use codex_e2e::{Release, copy_sources, e2e_dir};
use codex_installer::archive::read_single_entry;
use codex_installer::digest::{Digest, parse_sha256sums};
use codex_installer::target::{Arch, Binary, Os, TARGETS, Target};

/// A version unlike the workspace's, so the tests prove `--version` reaches every output.
const VERSION: &str = "1.2.3-e2e.1";

fn all_targets() -> Vec<&'static Target> {
    TARGETS.iter().collect()
}

fn release() -> Release {
    codex_e2e::release(VERSION, &all_targets()).expect("release build")
}

fn triple(t: &str) -> &'static Target {
    Target::from_triple(t).expect("known target")
}

/// The executable inside `binary`'s archive for `target`, read back from the archive.
fn entry_bytes(r: &Release, binary: Binary, target: &Target) -> Vec<u8> {
    let bytes = std::fs::read(r.dir.join(target.archive_name(binary))).expect("archive");
    read_single_entry(target.archive_format(), &bytes, None)
        .expect("one entry")
        .contents
}

/// Writes `binary` for `target` to a temp dir as an executable and returns its path.
fn extract_to(r: &Release, binary: Binary, target: &Target, dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(target.entry_name(binary));
    std::fs::write(&path, entry_bytes(r, binary, target)).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

#[test]
fn every_target_has_both_archives_each_holding_one_0755_entry_named_after_it() {
    let r = release();
    assert_eq!(r.manifest.version.to_string(), VERSION);
    assert_eq!(r.manifest.tag, format!("v{VERSION}"));
    for target in TARGETS {
        for binary in Binary::ALL {
            let name = target.archive_name(binary);
            let expected_ext = if target.os == Os::Windows {
                ".zip"
            } else {
                ".tar.gz"
            };
            assert!(name.ends_with(expected_ext), "{name}");
            let bytes = std::fs::read(r.dir.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            let entry =
                read_single_entry(target.archive_format(), &bytes, None).expect("single entry");
            let exe = if target.os == Os::Windows { ".exe" } else { "" };
            assert_eq!(
                entry.name,
                format!("{}-{}{exe}", binary.name(), target.triple)
            );
            assert_eq!(entry.mode, 0o755, "{name}");
            if target.os != Os::Windows {
                assert_eq!(entry.owner, Some((0, 0)), "{name}");
                // The system tar must agree: exactly one line, a regular 0755 file owned by root.
                let out = Command::new("tar")
                    .args(["-tvzf"])
                    .arg(r.dir.join(&name))
                    .output()
                    .expect("tar");
                let listing = String::from_utf8_lossy(&out.stdout);
                assert_eq!(listing.lines().count(), 1, "{listing}");
                assert!(listing.starts_with("-rwxr-xr-x root/root "), "{listing}");
            }
            let a = r.manifest.artifact(binary, target).expect("in manifest");
            assert_eq!(a.entry.sha256, Digest::of_bytes(&entry.contents));
            assert_eq!(a.entry.size, entry.contents.len() as u64);
        }
    }
}

#[test]
fn archive_digests_match_manifest_sidecars_sha256sums_and_coreutils() {
    let r = release();
    let sums = parse_sha256sums(&std::fs::read_to_string(r.dir.join("SHA256SUMS")).expect("sums"))
        .expect("parse");
    // Every archive, plus the two install scripts published with the release.
    assert_eq!(sums.len(), TARGETS.len() * Binary::ALL.len() + 2);
    for a in &r.manifest.artifacts {
        let actual = Digest::of_file(&r.dir.join(&a.archive.name)).expect("hash");
        assert_eq!(actual, a.archive.sha256, "{}", a.archive.name);
        assert!(
            sums.contains(&(actual, a.archive.name.clone())),
            "{}",
            a.archive.name
        );
        let side = std::fs::read_to_string(r.dir.join(format!("{}.sha256", a.archive.name)))
            .expect("sidecar");
        assert_eq!(side, format!("{actual}  {}\n", a.archive.name));
    }
    // The files must be in the format real tools check, not just ours.
    let out = Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(&r.dir)
        .output()
        .expect("sha256sum");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn linux_x86_64_binaries_are_static_and_print_version_target_and_commit() {
    let r = release();
    let target = triple("x86_64-unknown-linux-musl");
    let tmp = tempfile::tempdir().expect("tmp");
    for binary in Binary::ALL {
        let bytes = entry_bytes(&r, binary, target);
        let exe = xtask::inspect::identify(&bytes).expect("elf");
        assert_eq!(
            exe,
            xtask::inspect::Executable::Elf {
                arch: Arch::X86_64,
                fully_static: true
            }
        );
        let path = extract_to(&r, binary, target, tmp.path());
        let out = Command::new(&path).arg("--version").output().expect("run");
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!(
                "{} {VERSION} (x86_64-unknown-linux-musl, commit {})\n",
                binary.name(),
                r.manifest.commit
            )
        );
        // ldd must not find a dynamic loader either.
        let ldd = Command::new("ldd").arg(&path).output().expect("ldd");
        let said = String::from_utf8_lossy(&ldd.stdout).to_string()
            + &String::from_utf8_lossy(&ldd.stderr);
        assert!(
            said.contains("not a dynamic executable") || said.contains("statically linked"),
            "{said}"
        );
    }
}

#[test]
fn linux_aarch64_binaries_run_under_qemu() {
    let r = release();
    let target = triple("aarch64-unknown-linux-musl");
    let Some(qemu) = xtask::tools::on_path("qemu-aarch64-static") else {
        eprintln!(
            "SKIPPED: qemu-aarch64-static is not installed (Debian package qemu-user-static); `cargo xtask test` installs it"
        );
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    for binary in Binary::ALL {
        let bytes = entry_bytes(&r, binary, target);
        assert_eq!(
            xtask::inspect::identify(&bytes).expect("elf"),
            xtask::inspect::Executable::Elf {
                arch: Arch::Aarch64,
                fully_static: true
            }
        );
        let path = extract_to(&r, binary, target, tmp.path());
        let out = Command::new(&qemu)
            .arg(&path)
            .arg("--version")
            .output()
            .expect("qemu");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!(
                "{} {VERSION} (aarch64-unknown-linux-musl, commit {})\n",
                binary.name(),
                r.manifest.commit
            )
        );
    }
}

#[test]
fn darwin_archives_hold_macho_for_the_right_cpu_and_arm64_is_code_signed() {
    let r = release();
    for (t, cputype) in [
        ("x86_64-apple-darwin", [0x07, 0, 0, 0x01]),
        ("aarch64-apple-darwin", [0x0c, 0, 0, 0x01]),
    ] {
        for binary in Binary::ALL {
            let bytes = entry_bytes(&r, binary, triple(t));
            assert_eq!(
                &bytes[..4],
                &[0xcf, 0xfa, 0xed, 0xfe],
                "{t}: 64-bit Mach-O magic"
            );
            assert_eq!(&bytes[4..8], &cputype, "{t}: cputype");
            let m = xtask::macho::parse(&bytes).expect("mach-o");
            if t.starts_with("aarch64") {
                assert!(m.code_signature.is_some(), "{t}: LC_CODE_SIGNATURE");
                assert!(xtask::macho::verify_code_signature(&bytes).expect("valid page hashes"));
            }
        }
    }
}

#[test]
fn windows_archives_hold_pe_executables_for_the_right_machine() {
    let r = release();
    for (t, machine) in [
        ("x86_64-pc-windows-gnu", 0x8664u16),
        ("aarch64-pc-windows-gnullvm", 0xaa64),
    ] {
        for binary in Binary::ALL {
            let bytes = entry_bytes(&r, binary, triple(t));
            assert_eq!(&bytes[..2], b"MZ", "{t}");
            let pe = u32::from_le_bytes(bytes[0x3c..0x40].try_into().expect("4 bytes")) as usize;
            assert_eq!(&bytes[pe..pe + 4], b"PE\0\0", "{t}");
            assert_eq!(
                u16::from_le_bytes([bytes[pe + 4], bytes[pe + 5]]),
                machine,
                "{t}"
            );
        }
    }
}

#[test]
fn a_second_version_is_stamped_into_the_same_linked_binaries() {
    let first = release();
    let targets = [
        "x86_64-unknown-linux-musl",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-gnu",
    ]
    .map(triple);
    // Those targets were just built at VERSION, so this only restamps them.
    let second = codex_e2e::release("1.2.4-e2e.2", &targets).expect("second version");
    for target in targets {
        for binary in Binary::ALL {
            let what = format!("{binary} for {}", target.triple);
            let a = entry_bytes(&first, binary, target);
            let b = entry_bytes(&second, binary, target);
            assert_eq!(a.len(), b.len(), "{what}");
            let slot = codex_build_info::stamp::find(&b).expect("stamp");
            assert_eq!(
                codex_build_info::stamp::read(&b).expect("stamp"),
                ("1.2.4-e2e.2", second.manifest.commit.as_str()),
                "{what}"
            );
            // Besides the stamp, only what is derived from the contents: the PE checksum, and
            // what the macOS re-signing rewrites.
            let mut derived = vec![slot];
            if let Ok(checksum) = xtask::codesign::authenticode::checksum_range(&a) {
                derived.push(checksum);
            }
            if let Ok(m) = xtask::macho::parse(&a) {
                let uuid = m.uuid.expect("LC_UUID");
                let at = a.windows(16).position(|w| w == uuid).expect("uuid");
                derived.push(at..at + 16);
                if let Some(sig) = m.code_signature {
                    derived.push(sig.dataoff as usize..a.len());
                }
            }
            let changed: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            assert!(!changed.is_empty(), "{what}: same bytes for two versions");
            for i in changed {
                assert!(
                    derived.iter().any(|r| r.contains(&i)),
                    "{what}: byte {i:#x} differs outside the version stamp"
                );
            }
        }
    }
}

/// Fails when `bytes` hold the workspace's path or the cargo home's (`--remap-path-prefix`
/// must have replaced both).
fn assert_no_build_paths(bytes: &[u8], what: &str) {
    let root = codex_e2e::workspace_root();
    let home = std::env::var("HOME").expect("HOME");
    let needles = [
        root.to_string_lossy().into_owned(),
        format!("{home}/.cargo"),
    ];
    for needle in &needles {
        let found = bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
        assert!(!found, "{what} contains {needle}");
    }
}

/// Fails when the `codex` in `bytes` has the TUI's `/panic`, which exists only when codex-cli's
/// tests turn on codex-tui's `test-panic`, or lacks the interactive UI (so the check is real).
fn assert_no_test_only_code(bytes: &[u8], what: &str) {
    let needle = b"test-panic: /panic was typed";
    assert!(
        !bytes.windows(needle.len()).any(|w| w == needle),
        "{what} has the test-only /panic"
    );
    let ui = b"Ask codex to do anything";
    assert!(
        bytes.windows(ui.len()).any(|w| w == ui),
        "{what} has no interactive UI"
    );
}

#[test]
fn binaries_carry_no_paths_of_the_machine_that_built_them() {
    let r = release();
    for target in TARGETS {
        for binary in Binary::ALL {
            let what = format!("{binary} for {}", target.triple);
            assert_no_build_paths(&entry_bytes(&r, binary, target), &what);
        }
    }
}

#[test]
fn release_binaries_have_no_test_only_code() {
    let r = release();
    for target in TARGETS {
        let what = format!("the release codex for {}", target.triple);
        assert_no_test_only_code(&entry_bytes(&r, Binary::Codex, target), &what);
    }
}

/// Copies the release folder, its npm/ and homebrew/ folders included.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("dir") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}

#[test]
fn verify_rejects_tampered_releases() {
    let r = release();
    let tamper = |what: &str, f: &dyn Fn(&Path)| -> String {
        let tmp = tempfile::tempdir_in(e2e_dir()).expect("tmp");
        copy_tree(&r.dir, tmp.path());
        assert!(
            xtask::verify::verify_dir(tmp.path()).is_ok(),
            "untouched copy verifies"
        );
        f(tmp.path());
        let err = xtask::verify::verify_dir(tmp.path()).expect_err(what);
        format!("{err:#}")
    };
    let archive = TARGETS[0].archive_name(Binary::Codex);
    let err = tamper("flipped byte", &|d| {
        let p = d.join(&archive);
        let mut b = std::fs::read(&p).expect("read");
        let mid = b.len() / 2;
        b[mid] ^= 1;
        std::fs::write(&p, b).expect("write");
    });
    assert!(err.contains("manifest says"), "{err}");
    let err = tamper("formula with another digest", &|d| {
        let p = d.join("homebrew/Formula/codex.rb");
        let text = std::fs::read_to_string(&p).expect("read");
        let a = r
            .manifest
            .artifact(Binary::Codex, triple("x86_64-unknown-linux-musl"))
            .expect("artifact");
        let digest = a.archive.sha256.to_string();
        std::fs::write(&p, text.replace(&digest, &"0".repeat(64))).expect("write");
    });
    assert!(err.contains("lacks the digest"), "{err}");
    let err = tamper("npm wrapper from another release", &|d| {
        let dir = d.join("npm");
        for e in std::fs::read_dir(&dir).expect("npm dir") {
            let p = e.expect("entry").path();
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            if name.starts_with("openai-codex-1") {
                std::fs::rename(&p, dir.join(name.replace("1.2.3", "1.2.4"))).expect("rename");
            }
        }
    });
    assert!(err.contains("npm"), "{err}");
    let err = tamper("stray file", &|d| {
        std::fs::write(d.join("notes.txt"), "x").expect("write")
    });
    assert!(err.contains("unexpected files"), "{err}");
    let err = tamper("missing archive", &|d| {
        std::fs::remove_file(d.join(&archive)).expect("rm")
    });
    assert!(err.contains("cannot read"), "{err}");
    let err = tamper("wrong sidecar", &|d| {
        std::fs::write(
            d.join(format!("{archive}.sha256")),
            format!("{}  {archive}\n", "0".repeat(64)),
        )
        .expect("write")
    });
    assert!(err.contains(".sha256 does not match"), "{err}");
    let err = tamper("install.sh that cannot verify its own release", &|d| {
        // Validly re-signed, so only the trusted-keys check can notice.
        use codex_installer::digest::Digest;
        use codex_installer::signature::TRUSTED_KEYS;
        use xtask::generate::{TrustedKeysRegion, splice};
        let p = d.join("install.sh");
        let old = std::fs::read_to_string(&p).expect("read");
        let body = TrustedKeysRegion::Sh.body(TRUSTED_KEYS);
        let new = splice("install.sh", &old, TrustedKeysRegion::NAME, &body).expect("splice");
        std::fs::write(&p, &new).expect("write");
        let sums = d.join("SHA256SUMS");
        let text = std::fs::read_to_string(&sums).expect("sums").replace(
            &Digest::of_bytes(old.as_bytes()).to_string(),
            &Digest::of_bytes(new.as_bytes()).to_string(),
        );
        std::fs::write(&sums, text).expect("sums");
        let key = xtask::signing::release_key(&codex_e2e::workspace_root()).expect("dev key");
        xtask::signing::sign_release(d, &key, r.manifest.source_date_epoch).expect("sign");
    });
    assert!(
        err.contains("install.sh does not trust exactly codex-release-1, codex-development"),
        "{err}"
    );
}

/// `cargo xtask dist --version VERSION` with `args`, started in a copy of the sources at a
/// different path (and length) with a fresh cargo target dir, stamping what a build here stamps.
/// Returns the child and where its release goes.
fn spawn_build_in_a_copy(tmp: &Path, args: &[&str]) -> (std::process::Child, std::path::PathBuf) {
    let src = tmp.join("a/second/checkout");
    copy_sources(&src).expect("copy sources");
    let (commit, source_date_epoch) =
        xtask::dist::release_identity(&codex_e2e::workspace_root()).expect("commit and time");
    let out = tmp.join("dist");
    let child = Command::new("cargo")
        .args(["xtask", "dist", "--version", VERSION, "--out"])
        .arg(&out)
        .args(args)
        .current_dir(&src)
        .env_remove("CARGO_TARGET_DIR")
        .env("CODEX_GIT_COMMIT", commit)
        .env("SOURCE_DATE_EPOCH", source_date_epoch.to_string())
        .spawn()
        .expect("cargo xtask dist in the copy");
    (child, out)
}

/// Waits for a build started by [`spawn_build_in_a_copy`] and returns the artifacts of its
/// release.
fn finish_build_in_a_copy(
    mut child: std::process::Child,
    out: &Path,
    what: &str,
    started: std::time::Instant,
) -> Vec<codex_installer::manifest::Artifact> {
    let status = child.wait().expect("wait for the build in the copy");
    assert!(status.success(), "{what} in the copy failed: {status}");
    codex_e2e::log_build(&e2e_dir(), what, started.elapsed());
    codex_installer::Manifest::from_json(
        &std::fs::read_to_string(out.join("manifest.json")).expect("manifest"),
    )
    .expect("parse")
    .artifacts
}

/// The artifacts of `triple` in `r`, one per binary.
fn artifacts_of(r: &Release, triple: &str) -> Vec<codex_installer::manifest::Artifact> {
    let of: Vec<_> = r
        .manifest
        .artifacts
        .iter()
        .filter(|a| a.target == triple)
        .cloned()
        .collect();
    assert_eq!(of.len(), Binary::ALL.len(), "{triple}");
    of
}

fn tmp_for_a_copy() -> tempfile::TempDir {
    // The first test of a run may get here before any fixture made the folder.
    std::fs::create_dir_all(e2e_dir()).expect("e2e dir");
    tempfile::Builder::new()
        .prefix("repro-checkout-")
        .tempdir_in(e2e_dir())
        .expect("tmp")
}

#[test]
fn the_shipped_profile_builds_runs_and_is_byte_identical_from_another_checkout() {
    // What ships is compiled with the `dist` profile (fat LTO, one codegen unit). The fixtures
    // compile only the host with it (the other targets use the cheaper fixture profile), so this
    // proves that profile builds, runs and reproduces: `cargo xtask dist --host-only`, which
    // is all-`dist`, in a copy must give the fixture's host archives byte for byte. The copy
    // builds while the fixture does, so that their single-threaded LTO links share the cores.
    let host = xtask::dist::host_target().expect("host");
    let tmp = tmp_for_a_copy();
    let started = std::time::Instant::now();
    let (child, out) = spawn_build_in_a_copy(tmp.path(), &["--host-only"]);
    let r = release();
    let second = finish_build_in_a_copy(child, &out, "reproducibility rebuild (dist)", started);
    assert_eq!(artifacts_of(&r, host.triple), second);

    let run = tempfile::tempdir().expect("tmp");
    for binary in Binary::ALL {
        let shipped = entry_bytes(&r, binary, host);
        let what = format!("the shipped-profile {binary} for {}", host.triple);
        assert_no_build_paths(&shipped, &what);
        if binary == Binary::Codex {
            assert_no_test_only_code(&shipped, &what);
        }
        let path = extract_to(&r, binary, host, run.path());
        let out = Command::new(&path).arg("--version").output().expect("run");
        assert!(out.status.success(), "{}", codex_e2e::describe(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!(
                "{} {VERSION} ({}, commit {})\n",
                binary.name(),
                host.triple,
                r.manifest.commit
            )
        );
    }
}

#[test]
fn the_macos_link_is_byte_identical_from_another_checkout() {
    // The target whose linker needed work to be deterministic (docs/release-build.md), rebuilt
    // with the fixtures' profile and compared with the fixture; the path remapping it also proves
    // is the same for every target and profile.
    let target = "aarch64-apple-darwin";
    let tmp = tmp_for_a_copy();
    let started = std::time::Instant::now();
    let (child, out) =
        spawn_build_in_a_copy(tmp.path(), &["--fixture-profile", "--target", target]);
    let r = release();
    let second = finish_build_in_a_copy(child, &out, "reproducibility rebuild (macOS)", started);
    assert_eq!(artifacts_of(&r, target), second);
}

#[test]
fn install_scripts_are_published_pinned_to_the_release() {
    let r = release();
    let sh = std::fs::read_to_string(r.dir.join("install.sh")).expect("install.sh");
    assert_eq!(
        sh.matches(&format!("DEFAULT_VERSION=\"{VERSION}\""))
            .count(),
        1
    );
    assert!(!sh.contains("DEFAULT_VERSION=\"latest\""));
    let ps1 = std::fs::read_to_string(r.dir.join("install.ps1")).expect("install.ps1");
    assert_eq!(
        ps1.matches(&format!("$DefaultVersion = '{VERSION}'"))
            .count(),
        1
    );
    // Apart from that line and the keys they trust, they are the repository's scripts. This
    // release is signed with the development key, so its scripts trust that key too; the
    // repository's trust the release keys only.
    use codex_installer::signature::keys_for;
    use xtask::generate::{TrustedKeysRegion, splice};
    for (name, text, region) in [
        ("install.sh", &sh, TrustedKeysRegion::Sh),
        ("install.ps1", &ps1, TrustedKeysRegion::Ps1),
    ] {
        let repo = std::fs::read_to_string(codex_e2e::workspace_root().join(name)).expect("repo");
        assert!(!repo.contains(&region.body(&keys_for(true))), "{name}");
        let expected = splice(
            name,
            &repo,
            TrustedKeysRegion::NAME,
            &region.body(&keys_for(true)),
        )
        .expect("splice");
        assert_eq!(text.replace(VERSION, "latest"), expected, "{name}");
    }
}
