//! `cargo xtask check-tag TAG`: the release workflow's first step. A pushed tag ships the
//! workspace version, so a tag that names another version (or is no version at all) must stop
//! the release before anything is built, signed or published under a wrong name.

use anyhow::{Result, bail};

/// The version every crate carries, `[workspace.package] version` in the root Cargo.toml (xtask
/// inherits it, and `cargo xtask` rebuilds itself whenever Cargo.toml changes, so it is current).
pub const WORKSPACE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Checks that `tag` is `v` + `workspace_version`, where the version is `X.Y.Z` or a pre-release
/// `X.Y.Z-rc.1`; returns the tag's version. Each refusal is one line naming the tag, the
/// workspace version and the fix.
pub fn check_tag(tag: &str, workspace_version: &str) -> Result<semver::Version> {
    let want = format!("v{workspace_version}");
    let Some(bare) = tag.strip_prefix('v') else {
        bail!(
            "tag '{tag}' does not start with 'v' (release tags are vX.Y.Z or vX.Y.Z-rc.1); the workspace version is {workspace_version}, so tag {want}"
        );
    };
    let version = match semver::Version::parse(bare) {
        // Build metadata (`+…`) is not part of a version's identity: two tags that differ only
        // there would name the same release.
        Ok(v) if v.build.is_empty() => v,
        Ok(_) => bail!(
            "tag '{tag}' carries build metadata ('+…'), which release tags do not; the workspace version is {workspace_version}, so tag {want}"
        ),
        Err(e) => bail!(
            "tag '{tag}' is not vX.Y.Z or vX.Y.Z-rc.1 ({e}); the workspace version is {workspace_version}, so tag {want}"
        ),
    };
    if bare != workspace_version {
        bail!(
            "tag '{tag}' does not match the workspace version {workspace_version}; bump [workspace.package] version in Cargo.toml to {version} or tag {want}"
        );
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_and_pre_releases_of_the_workspace_version_pass() {
        assert_eq!(
            check_tag("v1.2.3", "1.2.3").expect("ok").to_string(),
            "1.2.3"
        );
        assert_eq!(
            check_tag("v1.2.3-rc.1", "1.2.3-rc.1")
                .expect("ok")
                .to_string(),
            "1.2.3-rc.1"
        );
    }

    #[test]
    fn every_refusal_names_tag_version_and_fix() {
        for (tag, why) in [
            ("v1.2.4", "does not match"),
            ("v1.2.3-rc.1", "does not match"),
            ("1.2.3", "does not start with 'v'"),
            ("rust-v1.2.3", "does not start with 'v'"),
            ("v1.2", "is not vX.Y.Z"),
            ("v01.2.3", "is not vX.Y.Z"),
            ("v1.2.3+build.5", "build metadata"),
            ("v", "is not vX.Y.Z"),
        ] {
            let err = check_tag(tag, "1.2.3").expect_err(tag).to_string();
            assert!(err.contains(&format!("'{tag}'")), "{tag}: {err}");
            assert!(err.contains(why), "{tag}: {err}");
            assert!(err.contains("1.2.3"), "{tag}: {err}");
            assert!(err.contains("tag v1.2.3"), "{tag}: {err}");
            assert_eq!(err.lines().count(), 1, "{tag}: {err}");
        }
    }
}
