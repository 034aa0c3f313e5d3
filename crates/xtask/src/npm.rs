//! The npm channel (docs/npm.md): the wrapper package and one package per platform, made from a
//! release's manifest and archives into `<release>/npm/`.
//!
//! The wrapper (`@openai/codex`, the name is `codex_installer::NPM_PACKAGE`) holds the launcher
//! and postinstall from `npm/codex/`, a `package.json` whose optional dependencies are the platform
//! packages of this release, and `release.json`: the version, tag, default release source and,
//! per platform, the archive and entry digests the launcher verifies a fallback download against.
//! Each platform package (from the template `npm/platform/`) holds the two programs, byte for byte
//! the entries of the release archives.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use codex_installer::archive::read_single_entry;
use codex_installer::manifest::Manifest;
use codex_installer::signature::TrustedKey;
use codex_installer::target::{Binary, TARGETS, Target};
use codex_installer::{Digest, NPM_PACKAGE};
use serde_json::{Value, json};

use crate::generate::{self, TrustedKeysRegion};

/// The folder of a release that holds the npm tarballs.
pub const DIR: &str = "npm";
/// The file in the wrapper that carries the release's digests.
pub const RELEASE_JSON: &str = "release.json";
/// The version the wrapper's `package.json` in the repository carries; the build sets the real one.
pub const DEV_VERSION: &str = "0.0.0-dev";

/// The wrapper's `package.json` for `version`, depending on the platform packages of `targets`.
pub fn wrapper_package_json(version: &str, targets: &[&Target]) -> String {
    let optional: BTreeMap<String, Value> = targets
        .iter()
        .map(|t| (t.npm_package(), json!(version)))
        .collect();
    let bin: BTreeMap<&str, String> = Binary::ALL
        .iter()
        .map(|b| (b.name(), format!("bin/{}", b.name())))
        .collect();
    let value = json!({
        "name": NPM_PACKAGE,
        "version": version,
        "description": "codex, the coding agent, and codex-exec-server: native programs for Linux, macOS and Windows",
        "license": "Apache-2.0",
        "repository": {"type": "git", "url": "git+https://github.com/openai/codex.git"},
        "bin": bin,
        "scripts": {"postinstall": "node install.js"},
        "engines": {"node": ">=18"},
        "files": ["bin", "lib", "install.js", RELEASE_JSON, "README.md"],
        "optionalDependencies": optional,
    });
    pretty(&value)
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// `release.json` for the wrapper: what the launcher needs to find or fetch each platform's
/// programs, and the digests it must verify.
pub fn release_json(manifest: &Manifest) -> Result<String> {
    let mut platforms = BTreeMap::new();
    for triple in manifest.targets() {
        let target = Target::from_triple(triple)?;
        let mut files = BTreeMap::new();
        for binary in Binary::ALL {
            let a = manifest.artifact(binary, target)?;
            files.insert(
                binary.name(),
                json!({
                    "archive": a.archive.name,
                    "size": a.archive.size,
                    "sha256": a.archive.sha256.to_string(),
                    "entry": a.entry.name,
                    "entry_size": a.entry.size,
                    "entry_sha256": a.entry.sha256.to_string(),
                }),
            );
        }
        platforms.insert(
            target.npm_platform(),
            json!({"triple": target.triple, "package": target.npm_package(), "files": files}),
        );
    }
    Ok(pretty(&json!({
        "package": NPM_PACKAGE,
        "version": manifest.version.to_string(),
        "tag": manifest.tag,
        "base_url": codex_installer::source::default_base_url(),
        "platforms": platforms,
    })))
}

/// npm's tarball name for `package` at `version`: `@openai/codex` 1.2.3 -> `openai-codex-1.2.3.tgz`.
pub fn tarball_name(package: &str, version: &str) -> String {
    format!(
        "{}-{version}.tgz",
        package.trim_start_matches('@').replace('/', "-")
    )
}

/// Writes the wrapper and every platform package of `manifest` into `release_dir/npm/`, reading
/// the programs back from the release's archives. Returns the tarball names.
pub fn write_packages(
    root: &Path,
    manifest: &Manifest,
    release_dir: &Path,
    epoch: u64,
    keys: &[TrustedKey],
) -> Result<Vec<String>> {
    let out = release_dir.join(DIR);
    std::fs::create_dir_all(&out)?;
    let version = manifest.version.to_string();
    let mut written = Vec::new();

    let targets: Vec<&Target> = manifest
        .targets()
        .into_iter()
        .map(Target::from_triple)
        .collect::<Result<_, _>>()?;
    for target in &targets {
        let mut files = Vec::new();
        for binary in Binary::ALL {
            let a = manifest.artifact(binary, target)?;
            let bytes = std::fs::read(release_dir.join(&a.archive.name))
                .with_context(|| format!("cannot read {}", a.archive.name))?;
            let entry = read_single_entry(target.archive_format(), &bytes, Some(&a.entry.name))?;
            files.push((
                format!("bin/{}", target.installed_name(binary)),
                0o755,
                entry.contents,
            ));
        }
        for (name, template) in [
            ("package.json", "npm/platform/package.json"),
            ("README.md", "npm/platform/README.md"),
        ] {
            let text = fill(root, template, target, &version)?;
            if name == "package.json" {
                serde_json::from_str::<Value>(&text)
                    .with_context(|| format!("{template} does not make valid JSON"))?;
            }
            files.push((name.to_owned(), 0o644, text.into_bytes()));
        }
        let name = tarball_name(&target.npm_package(), &version);
        std::fs::write(out.join(&name), tgz(files, epoch)?)?;
        written.push(name);
    }

    let source = root.join("npm/codex");
    let mut files = vec![
        (
            "package.json".to_owned(),
            0o644,
            wrapper_package_json(&version, &targets).into_bytes(),
        ),
        (
            RELEASE_JSON.to_owned(),
            0o644,
            release_json(manifest)?.into_bytes(),
        ),
    ];
    for rel in [
        "README.md",
        "install.js",
        "lib/fallback.js",
        "bin/codex.js",
        "bin/codex",
        "bin/codex-exec-server",
    ] {
        let mut bytes = std::fs::read(source.join(rel))
            .with_context(|| format!("cannot read npm/codex/{rel}"))?;
        if rel == "lib/fallback.js" {
            let text =
                String::from_utf8(bytes).context("npm/codex/lib/fallback.js is not UTF-8")?;
            bytes = generate::splice(
                rel,
                &text,
                TrustedKeysRegion::NAME,
                &TrustedKeysRegion::Js.body(keys),
            )?
            .into_bytes();
        }
        let mode = if rel.starts_with("bin/") {
            0o755
        } else {
            0o644
        };
        files.push((rel.to_owned(), mode, bytes));
    }
    let name = tarball_name(NPM_PACKAGE, &version);
    std::fs::write(out.join(&name), tgz(files, epoch)?)?;
    written.push(name);
    Ok(written)
}

/// The template at `rel` with its `{{…}}` fields filled in for `target`.
fn fill(root: &Path, rel: &str, target: &Target, version: &str) -> Result<String> {
    let text =
        std::fs::read_to_string(root.join(rel)).with_context(|| format!("cannot read {rel}"))?;
    let filled = text
        .replace("{{package}}", &target.npm_package())
        .replace("{{version}}", version)
        .replace("{{os}}", target.npm_os())
        .replace("{{cpu}}", target.npm_cpu())
        .replace("{{triple}}", target.triple)
        .replace("{{wrapper}}", NPM_PACKAGE);
    if let Some(i) = filled.find("{{") {
        bail!(
            "{rel} has an unknown field near {:?}",
            &filled[i..filled.len().min(i + 24)]
        );
    }
    Ok(filled)
}

/// An npm tarball: every file under `package/`, sorted, so two builds of one commit give the
/// same bytes.
fn tgz(mut files: Vec<(String, u32, Vec<u8>)>, epoch: u64) -> Result<Vec<u8>> {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let paths: Vec<String> = files.iter().map(|f| format!("package/{}", f.0)).collect();
    let entries: Vec<(&str, u32, &[u8])> = files
        .iter()
        .zip(&paths)
        .map(|((_, mode, bytes), path)| (path.as_str(), *mode, bytes.as_slice()))
        .collect();
    crate::archive::tar_gz(&entries, epoch)
}

/// The files of an npm tarball, by path under `package/`.
pub fn read_tgz(bytes: &[u8]) -> Result<BTreeMap<String, (u32, Vec<u8>)>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = BTreeMap::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let name = path
            .strip_prefix("package/")
            .with_context(|| format!("{path} is not under package/"))?
            .to_owned();
        let mode = entry.header().mode()?;
        let mut contents = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut contents)?;
        files.insert(name, (mode, contents));
    }
    Ok(files)
}

/// Checks `release_dir/npm/` against the manifest: one package per target whose programs are the
/// archives' entries, and a wrapper whose release.json and dependencies match. Returns the names
/// of the files checked.
pub fn verify(release_dir: &Path, manifest: &Manifest, keys: &[TrustedKey]) -> Result<Vec<String>> {
    let dir = release_dir.join(DIR);
    let version = manifest.version.to_string();
    let mut names = Vec::new();
    let mut targets = Vec::new();
    for triple in manifest.targets() {
        let target = Target::from_triple(triple)?;
        targets.push(target);
        let name = tarball_name(&target.npm_package(), &version);
        let files = read_tgz(
            &std::fs::read(dir.join(&name)).with_context(|| format!("cannot read npm/{name}"))?,
        )?;
        let meta: Value =
            serde_json::from_slice(&files.get("package.json").context("no package.json")?.1)?;
        ensure!(
            meta["name"] == json!(target.npm_package()) && meta["version"] == json!(version),
            "npm/{name}: package.json names {} {}",
            meta["name"],
            meta["version"]
        );
        ensure!(
            meta["os"] == json!([target.npm_os()]) && meta["cpu"] == json!([target.npm_cpu()]),
            "npm/{name}: wrong os/cpu"
        );
        for binary in Binary::ALL {
            let a = manifest.artifact(binary, target)?;
            let (mode, bytes) = files
                .get(&format!("bin/{}", target.installed_name(binary)))
                .with_context(|| format!("npm/{name} lacks {}", target.installed_name(binary)))?;
            ensure!(*mode == 0o755, "npm/{name}: {} is not executable", a.binary);
            ensure!(
                Digest::of_bytes(bytes) == a.entry.sha256,
                "npm/{name}: {} differs from the release's",
                a.binary
            );
        }
        names.push(name);
    }
    let name = tarball_name(NPM_PACKAGE, &version);
    let files = read_tgz(
        &std::fs::read(dir.join(&name)).with_context(|| format!("cannot read npm/{name}"))?,
    )?;
    let package = &files
        .get("package.json")
        .context("the wrapper has no package.json")?
        .1;
    ensure!(
        package.as_slice() == wrapper_package_json(&version, &targets).as_bytes(),
        "npm/{name}: package.json does not match the release"
    );
    let release = &files
        .get(RELEASE_JSON)
        .context("the wrapper has no release.json")?
        .1;
    ensure!(
        release.as_slice() == release_json(manifest)?.as_bytes(),
        "npm/{name}: release.json does not match the manifest"
    );
    let fallback = &files
        .get("lib/fallback.js")
        .context("the wrapper has no lib/fallback.js")?
        .1;
    ensure!(
        String::from_utf8_lossy(fallback).contains(&TrustedKeysRegion::Js.body(keys)),
        "npm/{name}: lib/fallback.js does not trust exactly {}",
        crate::verify::key_names(keys)
    );
    names.push(name);
    let mut actual: Vec<String> = std::fs::read_dir(&dir)?
        .map(|e| Ok(e?.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_>>()?;
    actual.sort();
    let mut expected = names.clone();
    expected.sort();
    ensure!(
        actual == expected,
        "npm/ holds {actual:?}, expected {expected:?}"
    );
    Ok(names)
}

/// Every target's package name, for docs.
pub fn platform_packages_markdown() -> String {
    let mut out = String::from(
        "| platform (`process.platform-arch`) | package | target |\n| --- | --- | --- |\n",
    );
    for t in TARGETS {
        out.push_str(&format!(
            "| `{}` | `{}` | `{}` |\n",
            t.npm_platform(),
            t.npm_package(),
            t.triple
        ));
    }
    out
}
