//! cargo-dist's plan of the release (`dist plan --output-format=json`), and where it disagrees
//! with what `cargo xtask dist` ships. dist-workspace.toml and the packages' dist.toml files are
//! generated so that the two agree; the few differences cargo-dist cannot avoid are listed in
//! [`KNOWN_DIFFERENCES`] and expected here, so that a change in either direction is noticed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use codex_installer::manifest::Manifest;
use codex_installer::signature::{MINISIG_SUFFIX, SIG_SUFFIX, SIGNED_FILES};
use codex_installer::target::{Binary, TARGETS};
use serde::Deserialize;

use crate::dist::InstallScript;
use crate::tools;

/// The artifact every plan lists that our release does not have under that name: cargo-dist's
/// file of all digests, which it always names `<checksum>.sum` (ours is `SHA256SUMS`).
pub const UNIFIED_CHECKSUM: &str = "sha256.sum";

/// What cargo-dist cannot express, so that its plan and our release differ in exactly this.
/// dist-workspace.toml's comment lists these; docs/release-build.md says the same in its table.
pub const KNOWN_DIFFERENCES: &[&str] = &[
    "cargo-dist's tarballs hold their files in a folder named after the archive \
     (`codex-<triple>/codex-<triple>`), where ours hold the single entry `codex-<triple>`; the \
     plan's JSON has no field for that folder (its zips have none, like ours).",
    "cargo-dist always adds its own file of all digests, `sha256.sum`, which our release does not \
     have: ours is `SHA256SUMS` (signed, and in the plan as an extra artifact). Our npm packages \
     and Homebrew files go to their own channels, not the release, and are not in the plan.",
    "The per-target binary names are the names inside our archives, not what cargo builds \
     (`codex`): `dist build` would look for a cargo binary named `codex-<triple>`. It is not used.",
];

/// The files a release publishes beside its archives and their `.sha256`: the manifest and
/// SHA256SUMS, their signatures, the installers. dist-workspace.toml declares them as cargo-dist
/// "extra artifacts" that `cargo xtask dist` makes, so that the plan lists them too.
pub fn release_files() -> Vec<String> {
    let mut files = Vec::new();
    for signed in SIGNED_FILES {
        files.push(signed.to_owned());
        files.push(format!("{signed}{SIG_SUFFIX}"));
        files.push(format!("{signed}{MINISIG_SUFFIX}"));
    }
    files.extend(InstallScript::ALL.map(|s| s.file_name().to_owned()));
    files
}

/// The parts of `dist plan --output-format=json` that describe the release's files.
#[derive(Debug, Clone, Deserialize)]
pub struct Plan {
    /// The cargo-dist that made the plan.
    pub dist_version: String,
    /// One per app (cargo-dist's word for a shipped package).
    pub releases: Vec<PlannedRelease>,
    /// Every file the plan would upload, by name.
    pub artifacts: BTreeMap<String, PlannedArtifact>,
}

/// One app of the plan.
#[derive(Debug, Clone, Deserialize)]
pub struct PlannedRelease {
    /// The app's name, which prefixes its archives.
    pub app_name: String,
    /// Its version (Cargo.toml's: `cargo xtask dist --version` overrides only our build).
    pub app_version: String,
    /// The names of its artifacts (keys of [`Plan::artifacts`]).
    pub artifacts: Vec<String>,
}

/// One file of the plan.
#[derive(Debug, Clone, Deserialize)]
pub struct PlannedArtifact {
    /// `executable-zip` (an archive of any format), `checksum`, `unified-checksum`, ...
    pub kind: String,
    /// The targets it is for; empty for global files.
    #[serde(default)]
    pub target_triples: Vec<String>,
    /// What an archive holds.
    #[serde(default)]
    pub assets: Vec<PlannedAsset>,
    /// The name of its checksum artifact, if it has one.
    pub checksum: Option<String>,
}

/// One file inside a planned archive.
#[derive(Debug, Clone, Deserialize)]
pub struct PlannedAsset {
    /// Path inside the archive (below cargo-dist's folder, for tarballs).
    pub path: Option<String>,
    /// `executable`, `readme`, `license`, `changelog`, ...
    pub kind: String,
}

/// Runs the pinned `dist plan --output-format=json` on the workspace at `root` (offline: it reads
/// dist-workspace.toml and `cargo metadata`).
pub fn plan(root: &Path) -> Result<Plan> {
    let dist = tools::ensure_cargo_dist()?;
    let json = tools::output(
        Command::new(&dist)
            .current_dir(root)
            .args(["plan", "--output-format=json"]),
    )
    .context("`dist plan` failed; run `cargo xtask cargo-dist plan` to see why")?;
    serde_json::from_str(&json)
        .context("`dist plan --output-format=json` printed an unexpected form")
}

/// The archive the plan must list for one binary and target, as the release has it.
struct Expected {
    binary: Binary,
    target: &'static str,
    archive: String,
    entry: String,
}

/// Every way `plan` disagrees with a release whose manifest is `manifest`, beyond
/// [`KNOWN_DIFFERENCES`]; empty when they agree. Targets the manifest lacks (a host-only build)
/// are held against the names the target table gives them, which is what a full release has.
pub fn disagreements(plan: &Plan, manifest: &Manifest) -> Vec<String> {
    let mut found = Vec::new();
    if plan.dist_version != tools::CARGO_DIST_VERSION {
        found.push(format!(
            "the plan was made by cargo-dist {}, not the pinned {}",
            plan.dist_version,
            tools::CARGO_DIST_VERSION
        ));
    }
    for a in &manifest.artifacts {
        if !TARGETS.iter().any(|t| t.triple == a.target) || Binary::from_name(&a.binary).is_none() {
            found.push(format!(
                "the manifest lists {} for {}, which the target table does not have",
                a.binary, a.target
            ));
        }
    }
    let expected: Vec<Expected> = TARGETS
        .iter()
        .flat_map(|t| Binary::ALL.map(|b| (t, b)))
        .map(|(t, b)| {
            let shipped = manifest
                .artifacts
                .iter()
                .find(|a| a.binary == b.name() && a.target == t.triple);
            Expected {
                binary: b,
                target: t.triple,
                archive: shipped.map_or_else(|| t.archive_name(b), |a| a.archive.name.clone()),
                entry: shipped.map_or_else(|| t.entry_name(b), |a| a.entry.name.clone()),
            }
        })
        .collect();

    check_apps(plan, &expected, &mut found);
    for e in &expected {
        check_archive(plan, e, &mut found);
    }
    for name in release_files() {
        match plan.artifacts.get(&name) {
            Some(a) if a.kind == "extra-artifact" && a.target_triples.is_empty() => {}
            Some(a) => found.push(format!(
                "the plan's {name} is a {} for {:?}, not a file of the whole release",
                a.kind, a.target_triples
            )),
            None => found.push(format!("the plan has no {name}")),
        }
        for r in plan
            .releases
            .iter()
            .filter(|r| !r.artifacts.contains(&name))
        {
            found.push(format!(
                "the plan's app {} does not list {name}",
                r.app_name
            ));
        }
    }
    // Everything else the plan lists must be one of the known differences.
    let accounted: BTreeSet<String> = expected
        .iter()
        .flat_map(|e| [e.archive.clone(), format!("{}.sha256", e.archive)])
        .chain(release_files())
        .chain([UNIFIED_CHECKSUM.to_owned()])
        .collect();
    for name in plan.artifacts.keys() {
        if !accounted.contains(name) {
            found.push(format!(
                "the plan lists {name}, which the release does not have"
            ));
        }
    }
    match plan.artifacts.get(UNIFIED_CHECKSUM) {
        Some(a) if a.kind == "unified-checksum" => {}
        _ => found.push(format!(
            "the plan no longer lists its {UNIFIED_CHECKSUM} (unified-checksum): update KNOWN_DIFFERENCES, dist-workspace.toml's comment (crates/xtask/src/generate.rs) and docs/release-build.md"
        )),
    }
    found
}

/// The plan's apps are our binaries, at Cargo.toml's version, each listing exactly its archives.
fn check_apps(plan: &Plan, expected: &[Expected], found: &mut Vec<String>) {
    let apps: BTreeSet<&str> = plan.releases.iter().map(|r| r.app_name.as_str()).collect();
    let binaries: BTreeSet<&str> = Binary::ALL.iter().map(|b| b.name()).collect();
    if apps != binaries {
        found.push(format!(
            "the plan's apps are {apps:?}, the release's binaries {binaries:?}"
        ));
    }
    for r in &plan.releases {
        if r.app_version != crate::release::WORKSPACE_VERSION {
            found.push(format!(
                "the plan gives {} version {}, Cargo.toml {}",
                r.app_name,
                r.app_version,
                crate::release::WORKSPACE_VERSION
            ));
        }
        let listed: BTreeSet<&str> = r
            .artifacts
            .iter()
            .map(String::as_str)
            .filter(|a| {
                plan.artifacts
                    .get(*a)
                    .is_some_and(|p| p.kind == "executable-zip")
            })
            .collect();
        let ours: BTreeSet<&str> = expected
            .iter()
            .filter(|e| e.binary.name() == r.app_name)
            .map(|e| e.archive.as_str())
            .collect();
        if !ours.is_empty() && listed != ours {
            found.push(format!(
                "the plan's app {} has the archives {listed:?}, the release {ours:?}",
                r.app_name
            ));
        }
    }
}

/// One archive: its name, kind, target, its single executable and its `.sha256` beside it.
fn check_archive(plan: &Plan, e: &Expected, found: &mut Vec<String>) {
    let Some(a) = plan.artifacts.get(&e.archive) else {
        found.push(format!(
            "the plan has no {} ({} for {})",
            e.archive,
            e.binary.name(),
            e.target
        ));
        return;
    };
    if a.kind != "executable-zip" {
        found.push(format!(
            "the plan's {} is a {}, not an archive",
            e.archive, a.kind
        ));
    }
    if a.target_triples != [e.target] {
        found.push(format!(
            "the plan's {} is for {:?}, not {}",
            e.archive, a.target_triples, e.target
        ));
    }
    let assets: Vec<(&str, &str)> = a
        .assets
        .iter()
        .map(|s| (s.path.as_deref().unwrap_or(""), s.kind.as_str()))
        .collect();
    if assets != [(e.entry.as_str(), "executable")] {
        found.push(format!(
            "the plan's {} holds {assets:?}; the release's holds only the executable {}",
            e.archive, e.entry
        ));
    }
    let sum = format!("{}.sha256", e.archive);
    if a.checksum.as_deref() != Some(sum.as_str()) {
        found.push(format!(
            "the plan's {} has the checksum {:?}, the release {sum}",
            e.archive, a.checksum
        ));
    }
    match plan.artifacts.get(&sum) {
        Some(c) if c.kind == "checksum" && c.target_triples == [e.target] => {}
        _ => found.push(format!(
            "the plan has no checksum artifact {sum} for {}",
            e.target
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_installer::Digest;
    use codex_installer::manifest::{Artifact, FileInfo};

    /// A manifest of every target and binary under the target table's names, as a full release's.
    fn full_manifest() -> Manifest {
        let file = |name: String| FileInfo {
            name,
            size: 1,
            sha256: Digest::of_bytes(b""),
        };
        Manifest {
            schema: 1,
            version: semver::Version::new(1, 2, 3),
            tag: "v1.2.3".to_owned(),
            commit: "0".repeat(40),
            source_date_epoch: 0,
            artifacts: TARGETS
                .iter()
                .flat_map(|t| Binary::ALL.map(|b| (t, b)))
                .map(|(t, b)| Artifact {
                    binary: b.name().to_owned(),
                    target: t.triple.to_owned(),
                    archive: file(t.archive_name(b)),
                    entry: file(t.entry_name(b)),
                })
                .collect(),
        }
    }

    fn workspace_plan() -> Plan {
        plan(&crate::dist::workspace_root()).expect("dist plan of the workspace")
    }

    #[test]
    fn the_generated_config_plans_the_release_of_the_target_table() {
        let found = disagreements(&workspace_plan(), &full_manifest());
        assert!(found.is_empty(), "{found:#?}");
    }

    type Change = fn(&mut Plan, &mut Manifest);

    #[test]
    fn each_way_the_plan_can_differ_from_the_release_is_reported() {
        const ARCHIVE: &str = "codex-x86_64-unknown-linux-musl.tar.gz";
        let cases: Vec<(&str, Change)> = vec![
            ("not the pinned", |p, _| {
                p.dist_version = "0.34.0".to_owned()
            }),
            ("the plan's apps", |p, _| {
                p.releases[0].app_name = "codex-cli".to_owned()
            }),
            ("version", |p, _| {
                p.releases[1].app_version = "9.9.9".to_owned()
            }),
            ("has the archives", |p, _| {
                p.releases[0].artifacts.retain(|a| !a.ends_with(".zip"))
            }),
            ("has no codex-x86_64-unknown-linux-musl.tar.gz", |p, _| {
                let a = p.artifacts.remove(ARCHIVE).expect("planned archive");
                p.artifacts
                    .insert("codex-cli-x86_64-unknown-linux-musl.tar.gz".to_owned(), a);
            }),
            ("lists source.tar.gz", |p, _| {
                let sum = p.artifacts[UNIFIED_CHECKSUM].clone();
                p.artifacts.insert("source.tar.gz".to_owned(), sum);
            }),
            ("not an archive", |p, _| {
                p.artifacts.get_mut(ARCHIVE).expect("archive").kind = "source-tarball".into()
            }),
            ("is for", |p, _| {
                p.artifacts
                    .get_mut(ARCHIVE)
                    .expect("archive")
                    .target_triples = vec!["x86_64-unknown-linux-gnu".to_owned()]
            }),
            ("holds", |p, _| {
                let a = p.artifacts.get_mut(ARCHIVE).expect("archive");
                a.assets.push(PlannedAsset {
                    path: Some("README.md".to_owned()),
                    kind: "readme".to_owned(),
                });
            }),
            ("holds", |_, m| {
                m.artifacts[0].entry.name = "codex".to_owned()
            }),
            ("has the checksum", |p, _| {
                p.artifacts.get_mut(ARCHIVE).expect("archive").checksum = None
            }),
            ("no checksum artifact", |p, _| {
                p.artifacts.remove(&format!("{ARCHIVE}.sha256"));
            }),
            ("has no manifest.json.sig", |p, _| {
                p.artifacts.remove("manifest.json.sig");
            }),
            ("not a file of the whole release", |p, _| {
                p.artifacts.get_mut("install.sh").expect("install.sh").kind = "installer".into()
            }),
            ("does not list SHA256SUMS", |p, _| {
                p.releases[1].artifacts.retain(|a| a != "SHA256SUMS")
            }),
            ("no longer lists its sha256.sum", |p, _| {
                p.artifacts.remove(UNIFIED_CHECKSUM);
            }),
            ("target table does not have", |_, m| {
                m.artifacts[0].target = "riscv64gc-unknown-linux-musl".to_owned()
            }),
        ];
        let (plan, manifest) = (workspace_plan(), full_manifest());
        for (expected, change) in cases {
            let (mut p, mut m) = (plan.clone(), manifest.clone());
            change(&mut p, &mut m);
            let found = disagreements(&p, &m);
            assert!(
                found.iter().any(|f| f.contains(expected)),
                "expected a disagreement containing {expected:?}, got {found:#?}"
            );
        }
    }
}
