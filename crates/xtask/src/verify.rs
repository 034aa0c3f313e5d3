//! `cargo xtask verify`: checks a release directory against everything the release promises.
//! `dist` runs it on every build before replacing `dist/`, and the end-to-end tests run it too.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use codex_build_info::stamp;
use codex_installer::archive::read_single_entry;
use codex_installer::digest::{Digest, parse_sha256sums};
use codex_installer::manifest::{MANIFEST_FILE, Manifest, SHA256SUMS_FILE};
use codex_installer::signature::{self, TrustedKey};
use codex_installer::target::{Binary, Os, Target};

use crate::archive::ENTRY_MODE;
use crate::{inspect, macho};

/// The ids of `keys`, for messages.
pub fn key_names(keys: &[TrustedKey]) -> String {
    keys.iter().map(|k| k.id).collect::<Vec<_>>().join(", ")
}

/// A release that passed [`verify_release`].
#[derive(Debug)]
pub struct Verified {
    /// Its manifest.
    pub manifest: Manifest,
    /// The key that signed `manifest.json` and `SHA256SUMS`.
    pub signer: TrustedKey,
}

/// Verifies the release in `dir` and returns its manifest; see [`verify_release`].
pub fn verify_dir(dir: &Path) -> Result<Manifest> {
    verify_release(dir).map(|v| v.manifest)
}

/// Verifies the release in `dir` and returns its manifest and signer.
///
/// Checks: `manifest.json` and `SHA256SUMS` are signed (`.sig` and `.minisig`) by one trusted key
/// or the development key; every target in the manifest has every binary; archive and entry names
/// follow the convention; each archive holds exactly one regular file with mode 0755 (owner 0/0 in
/// tar); digests and sizes agree between the files, `manifest.json`, `<archive>.sha256` and
/// `SHA256SUMS`; each binary is the right executable format and CPU for its target, static on
/// Linux, code-signed (with valid page hashes) on arm64 macOS (and x86_64 macOS when signed with
/// a Developer ID), and stamped with the manifest's version and commit; and nothing else is in
/// `dir`. Who signed the macOS and Windows programs is `verify --release`'s business
/// ([`crate::codesign::verify_platform_signatures`]).
pub fn verify_release(dir: &Path) -> Result<Verified> {
    // First, so that a tampered manifest is reported as such, not as whatever it now says.
    let signer = crate::signing::verify_release(dir)?;
    // A release's own channels must trust the key it is signed with, and a release signed with a
    // release key must not trust the public development key.
    let keys = signature::keys_for(signer == signature::DEVELOPMENT_KEY);
    let text = std::fs::read_to_string(dir.join(MANIFEST_FILE))
        .with_context(|| format!("cannot read {}", dir.join(MANIFEST_FILE).display()))?;
    let manifest = Manifest::from_json(&text)?;
    let sums_text = std::fs::read_to_string(dir.join(SHA256SUMS_FILE))
        .with_context(|| format!("cannot read {}", dir.join(SHA256SUMS_FILE).display()))?;
    let sums = parse_sha256sums(&sums_text)?;

    let mut expected_files: BTreeSet<String> =
        [MANIFEST_FILE.to_owned(), SHA256SUMS_FILE.to_owned()].into();
    expected_files.extend(crate::signing::signature_files());
    for triple in manifest.targets() {
        let target = Target::from_triple(triple)?;
        for binary in Binary::ALL {
            manifest.artifact(binary, target)?;
        }
    }
    ensure!(
        manifest.artifacts.len() == manifest.targets().len() * Binary::ALL.len(),
        "manifest lists duplicate artifacts"
    );
    let scripts = crate::dist::InstallScript::ALL;
    ensure!(
        sums.len() == manifest.artifacts.len() + scripts.len(),
        "{SHA256SUMS_FILE} has {} lines for {} archives and {} install scripts",
        sums.len(),
        manifest.artifacts.len(),
        scripts.len()
    );
    for script in scripts {
        let name = script.file_name();
        let text = std::fs::read(dir.join(name)).with_context(|| format!("cannot read {name}"))?;
        ensure!(
            sums.contains(&(Digest::of_bytes(&text), name.to_owned())),
            "{SHA256SUMS_FILE} has no matching line for {name}"
        );
        let pinned = script.version_line(&manifest.version.to_string());
        ensure!(
            String::from_utf8_lossy(&text).contains(&pinned),
            "{name} is not pinned to release {} (`{pinned}` missing)",
            manifest.version
        );
        ensure!(
            String::from_utf8_lossy(&text).contains(&script.keys_region().body(&keys)),
            "{name} does not trust exactly {} (its trusted-keys region is stale or edited)",
            key_names(&keys)
        );
        expected_files.insert(name.to_owned());
    }

    for a in &manifest.artifacts {
        let target = Target::from_triple(&a.target)?;
        let binary = Binary::from_name(&a.binary)
            .with_context(|| format!("manifest names an unknown binary {:?}", a.binary))?;
        let what = format!("{} for {}", a.binary, a.target);
        ensure!(
            a.archive.name == target.archive_name(binary),
            "{what}: archive is named {:?}",
            a.archive.name
        );
        ensure!(
            a.entry.name == target.entry_name(binary),
            "{what}: entry is named {:?}",
            a.entry.name
        );
        expected_files.insert(a.archive.name.clone());
        expected_files.insert(format!("{}.sha256", a.archive.name));

        let bytes = std::fs::read(dir.join(&a.archive.name))
            .with_context(|| format!("{what}: cannot read {}", a.archive.name))?;
        let digest = Digest::of_bytes(&bytes);
        ensure!(
            digest == a.archive.sha256 && bytes.len() as u64 == a.archive.size,
            "{what}: {} has sha256 {digest} and {} bytes, manifest says {} and {}",
            a.archive.name,
            bytes.len(),
            a.archive.sha256,
            a.archive.size
        );
        let side = std::fs::read_to_string(dir.join(format!("{}.sha256", a.archive.name)))?;
        ensure!(
            parse_sha256sums(&side)? == vec![(digest, a.archive.name.clone())],
            "{what}: {}.sha256 does not match the archive",
            a.archive.name
        );
        ensure!(
            sums.contains(&(digest, a.archive.name.clone())),
            "{what}: {SHA256SUMS_FILE} has no matching line for {}",
            a.archive.name
        );

        let entry = read_single_entry(target.archive_format(), &bytes, None)
            .with_context(|| format!("{what}: {}", a.archive.name))?;
        ensure!(
            entry.name == a.entry.name,
            "{what}: archive holds {:?}",
            entry.name
        );
        ensure!(
            entry.mode == ENTRY_MODE,
            "{what}: entry mode is {:o}, expected 755",
            entry.mode
        );
        if let Some(owner) = entry.owner {
            ensure!(
                owner == (0, 0),
                "{what}: entry owner is {owner:?}, expected 0/0"
            );
        }
        ensure!(
            Digest::of_bytes(&entry.contents) == a.entry.sha256
                && entry.contents.len() as u64 == a.entry.size,
            "{what}: extracted binary does not match the manifest's entry digest"
        );
        inspect::check_for_target(&entry.contents, target).with_context(|| what.clone())?;
        let (version, commit) = stamp::read(&entry.contents).with_context(|| what.clone())?;
        ensure!(
            version == manifest.version.to_string() && commit == manifest.commit,
            "{what}: the binary is stamped {version} (commit {commit}), the manifest says {} \
             (commit {})",
            manifest.version,
            manifest.commit
        );
        if target.os == Os::MacOs {
            macho::verify_code_signature(&entry.contents).with_context(|| what.clone())?;
        }
    }

    crate::npm::verify(dir, &manifest, &keys).context("the npm packages")?;
    expected_files.insert(crate::npm::DIR.to_owned());
    if crate::homebrew::verify(dir, &manifest).context("the Homebrew tap files")? {
        expected_files.insert(crate::homebrew::DIR.to_owned());
    }

    let mut actual = BTreeSet::new();
    for e in std::fs::read_dir(dir)? {
        actual.insert(e?.file_name().to_string_lossy().into_owned());
    }
    let extra: Vec<_> = actual.difference(&expected_files).collect();
    let missing: Vec<_> = expected_files.difference(&actual).collect();
    if !extra.is_empty() || !missing.is_empty() {
        bail!("release directory has unexpected files {extra:?} and lacks {missing:?}");
    }
    Ok(Verified { manifest, signer })
}
