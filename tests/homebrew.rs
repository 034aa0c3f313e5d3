//! The Homebrew tap files the release build writes: Ruby accepts them, and a harness that loads
//! them with a stand-in for Homebrew's DSL finds every url and sha256 of the manifest, for arm and
//! intel, in the casks (macOS) and the formula (Linux).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use codex_e2e::{Release, describe, workspace_root};
use codex_installer::target::{TARGETS, Target};

const VERSION: &str = "1.2.3-e2e.1";

fn release() -> Release {
    let all: Vec<&'static Target> = TARGETS.iter().collect();
    codex_e2e::release(VERSION, &all).expect("release build")
}

fn tap_files(r: &Release) -> [PathBuf; 3] {
    [
        "Casks/codex.rb",
        "Casks/codex-exec-server.rb",
        "Formula/codex.rb",
    ]
    .map(|f| r.dir.join("homebrew").join(f))
}

fn ruby(args: &[&Path]) -> Output {
    Command::new("ruby")
        .args(args)
        .output()
        .expect("ruby is installed by `cargo xtask test` (Debian package ruby)")
}

fn harness(r: &Release, files: &[PathBuf; 3]) -> Output {
    let base = codex_installer::source::default_base_url();
    Command::new("ruby")
        .arg(workspace_root().join("tests/homebrew/harness.rb"))
        .arg(r.dir.join("manifest.json"))
        .arg(&base)
        .args(files)
        .output()
        .expect("ruby")
}

#[test]
fn casks_and_formula_are_valid_ruby() {
    let r = release();
    for file in tap_files(&r) {
        let out = ruby(&[Path::new("-c"), &file]);
        assert!(
            out.status.success(),
            "{}: {}",
            file.display(),
            describe(&out)
        );
    }
}

#[test]
fn every_url_and_sha256_matches_the_manifest_for_arm_and_intel() {
    let r = release();
    let out = harness(&r, &tap_files(&r));
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for what in [
        "cask codex on arm: sha256",
        "cask codex on intel: url",
        "cask codex-exec-server on arm: binary",
        "formula on intel: resource sha256",
        "formula on arm: install",
    ] {
        assert!(stdout.contains(&format!("ok {what}")), "{what}: {stdout}");
    }
}

#[test]
fn the_harness_catches_a_wrong_digest() {
    let r = release();
    let tmp = tempfile::tempdir().expect("tmp");
    let mut files = tap_files(&r);
    // Swap the two arches' digests in a copy of the formula.
    let formula = std::fs::read_to_string(&files[2]).expect("formula");
    let digest = |triple: &str| {
        let target = Target::from_triple(triple).expect("target");
        r.manifest
            .artifact(codex_installer::Binary::Codex, target)
            .expect("artifact")
            .archive
            .sha256
            .to_string()
    };
    let (intel, arm) = (
        digest("x86_64-unknown-linux-musl"),
        digest("aarch64-unknown-linux-musl"),
    );
    let swapped = formula
        .replace(&intel, "INTEL")
        .replace(&arm, &intel)
        .replace("INTEL", &arm);
    assert_ne!(swapped, formula);
    let copy = tmp.path().join("codex.rb");
    std::fs::write(&copy, swapped).expect("write");
    files[2] = copy;
    let out = harness(&r, &files);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("mismatch: formula on arm: sha256"),
        "{}",
        describe(&out)
    );
}
