//! `cargo xtask check-tag`, the release workflow's first step, run as the real binary: the tag of
//! the workspace version passes, any other tag fails with one line that says what to do.

use std::process::Command;

/// The workspace version, which xtask carries like every crate.
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn check_tag(tag: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["check-tag", tag])
        .output()
        .expect("run xtask");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_tag_of_the_workspace_version_passes() {
    let tag = format!("v{VERSION}");
    let (code, out, err) = check_tag(&tag);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("tag {tag} matches the workspace version {VERSION}\n")
    );
}

#[test]
fn a_tag_of_another_version_is_one_line_saying_what_to_bump_or_tag() {
    let mut other = semver::Version::parse(VERSION).expect("workspace version is semver");
    other.major += 1;
    for tag in [format!("v{other}"), format!("v{VERSION}-rc.1")] {
        let (code, out, err) = check_tag(&tag);
        assert_eq!(code, 1, "{tag}");
        assert_eq!(out, "", "{tag}");
        let bare = &tag[1..];
        assert_eq!(
            err,
            format!(
                "error: tag '{tag}' does not match the workspace version {VERSION}; bump [workspace.package] version in Cargo.toml to {bare} or tag v{VERSION}\n"
            )
        );
    }
}

#[test]
fn a_malformed_tag_is_one_line_naming_the_tag_to_push() {
    for (tag, why) in [
        (VERSION.to_owned(), "does not start with 'v'"),
        ("release-1".to_owned(), "does not start with 'v'"),
        ("v1.2".to_owned(), "is not vX.Y.Z or vX.Y.Z-rc.1"),
        ("vnext".to_owned(), "is not vX.Y.Z or vX.Y.Z-rc.1"),
        (format!("v{VERSION}+ci.7"), "carries build metadata"),
    ] {
        let (code, out, err) = check_tag(&tag);
        assert_eq!(code, 1, "{tag}");
        assert_eq!(out, "", "{tag}");
        assert_eq!(err.lines().count(), 1, "{tag}: {err}");
        assert!(
            err.starts_with(&format!("error: tag '{tag}' {why}")),
            "{tag}: {err}"
        );
        assert!(
            err.trim_end().ends_with(&format!(
                "the workspace version is {VERSION}, so tag v{VERSION}"
            )),
            "{tag}: {err}"
        );
    }
}
