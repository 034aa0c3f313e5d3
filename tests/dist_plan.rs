//! cargo-dist's plan agrees with a real release: `dist plan --output-format=json`, run by the
//! pinned prebuilt cargo-dist on the generated dist-workspace.toml, lists the archives, targets,
//! single entries, `.sha256` files and other files that `cargo xtask dist` wrote, and differs only where
//! cargo-dist cannot express our convention (`xtask::cargo_dist::KNOWN_DIFFERENCES`).

use std::process::Command;

use codex_e2e::{describe, workspace_root};
use codex_installer::manifest::SHA256SUMS_FILE;
use codex_installer::target::{ArchiveFormat, Target};
use xtask::cargo_dist::{KNOWN_DIFFERENCES, UNIFIED_CHECKSUM, disagreements, plan};

/// The host release the install.sh and npm tests build too, so this test adds no build.
const VERSION: &str = "1.2.3-e2e.1";

fn host() -> &'static Target {
    xtask::dist::host_target().expect("host target")
}

#[test]
fn dist_plan_lists_the_files_archives_entries_and_checksums_of_a_real_release() {
    let r = codex_e2e::release(VERSION, &[host()]).expect("host release");
    let plan = plan(&workspace_root()).expect("dist plan");
    let found = disagreements(&plan, &r.manifest);
    assert!(
        found.is_empty(),
        "dist plan and the release disagree:\n{}\n(beyond the known differences:\n{})",
        found.join("\n"),
        KNOWN_DIFFERENCES.join("\n")
    );

    for a in &r.manifest.artifacts {
        let planned = &plan.artifacts[&a.archive.name];
        // The checksum file the plan names is the one beside our archive.
        let sum = planned.checksum.as_deref().expect("planned checksum");
        assert!(r.dir.join(sum).is_file(), "{sum} is not in the release");
        // The plan's one executable is our archive's one entry. cargo-dist would put it in a
        // folder inside a tarball (a known difference the plan cannot show): ours has none.
        if host().archive_format() == ArchiveFormat::TarGz {
            let out = Command::new("tar")
                .arg("-tzf")
                .arg(r.dir.join(&a.archive.name))
                .output()
                .expect("run tar");
            assert!(out.status.success(), "tar: {}", describe(&out));
            let listing = String::from_utf8_lossy(&out.stdout);
            assert_eq!(listing.lines().collect::<Vec<_>>(), [a.entry.name.as_str()]);
        }
        assert_eq!(planned.assets.len(), 1, "{}", a.archive.name);
        assert_eq!(
            planned.assets[0].path.as_deref(),
            Some(a.entry.name.as_str())
        );
    }

    // The plan's files of the whole release are in ours, but for cargo-dist's own `sha256.sum`
    // (a known difference: ours is SHA256SUMS).
    for (name, a) in &plan.artifacts {
        if a.target_triples.is_empty() && name != UNIFIED_CHECKSUM {
            assert!(
                r.dir.join(name).is_file(),
                "the plan's {name} is not in the release"
            );
        }
    }
    assert!(r.dir.join(SHA256SUMS_FILE).is_file());
    assert!(!r.dir.join(UNIFIED_CHECKSUM).exists());

    // And every file at the top of the release (what the release workflow publishes) is planned:
    // this release's archives and the files of the whole release.
    for entry in std::fs::read_dir(&r.dir).expect("read the release") {
        let entry = entry.expect("release entry");
        if entry.file_type().expect("file type").is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                plan.artifacts.contains_key(&name),
                "the release has {name}, which dist plan does not list"
            );
        }
    }
}
