//! The release manifest, `manifest.json`: the one description of a release that every installer
//! reads. The schema is documented in `docs/manifest.md`.

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::target::{Binary, Target};

/// Schema version written by this crate. Readers refuse manifests with a higher major schema.
pub const SCHEMA_VERSION: u32 = 1;

/// File name of the manifest inside a release.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The largest `manifest.json` any installer accepts. A real one is a few kilobytes; a hostile
/// mirror's endless one is stopped here, before it costs memory or disk.
pub const MAX_MANIFEST_SIZE: u64 = 1 << 20;

/// The largest answer accepted from the GitHub API (`releases/latest`, which lists the assets).
pub const MAX_API_RESPONSE_SIZE: u64 = 4 << 20;

/// File name of the combined checksum file inside a release.
pub const SHA256SUMS_FILE: &str = "SHA256SUMS";

/// A whole release: its version and every archive in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Manifest schema version ([`SCHEMA_VERSION`]).
    pub schema: u32,
    /// Release version (semver, no `v`).
    pub version: semver::Version,
    /// Git tag the release is published under, e.g. `v0.1.0`.
    pub tag: String,
    /// Full git commit the release was built from.
    pub commit: String,
    /// Seconds since the epoch used for every timestamp in the archives (the commit time unless
    /// `SOURCE_DATE_EPOCH` was set), so that a rebuild can reproduce them.
    pub source_date_epoch: u64,
    /// Every archive, ordered by target table order, then binary.
    pub artifacts: Vec<Artifact>,
}

/// One archive: one binary for one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// Command name, `codex` or `codex-exec-server`.
    pub binary: String,
    /// Target triple.
    pub target: String,
    /// The downloadable archive.
    pub archive: FileInfo,
    /// The single file inside the archive.
    pub entry: FileInfo,
}

/// Name, size and digest of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileInfo {
    /// File name (no directories).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the contents.
    pub sha256: Digest,
}

/// A manifest that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not valid JSON for this schema.
    #[error("release manifest is not valid: {0}")]
    Parse(#[from] serde_json::Error),
    /// Written by a newer release tool.
    #[error(
        "release manifest schema {found} is newer than this program understands ({SCHEMA_VERSION}); update codex first"
    )]
    NewerSchema {
        /// The schema found in the file.
        found: u32,
    },
    /// Names a tag that no release could have.
    #[error("release manifest names the tag {0:?}, which is not a release tag like v1.2.3")]
    BadTag(String),
    /// Lists no archive for the requested binary and target.
    #[error("release {version} has no {binary} archive for {target}")]
    MissingArtifact {
        /// Release version.
        version: String,
        /// Requested binary.
        binary: String,
        /// Requested target.
        target: String,
    },
}

/// The conventional tag for a version: `v` followed by the version.
pub fn tag_for(version: &semver::Version) -> String {
    format!("v{version}")
}

impl Manifest {
    /// Parses and checks a manifest.
    pub fn from_json(text: &str) -> Result<Self, ManifestError> {
        #[derive(Deserialize)]
        struct Probe {
            schema: u32,
        }
        let probe: Probe = serde_json::from_str(text)?;
        if probe.schema > SCHEMA_VERSION {
            return Err(ManifestError::NewerSchema {
                found: probe.schema,
            });
        }
        Ok(serde_json::from_str(text)?)
    }

    /// Pretty JSON with a trailing newline; the output is a pure function of the value, so
    /// manifests are reproducible too.
    pub fn to_json(&self) -> String {
        // Serializing plain structs of strings and integers cannot fail.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The archive for `binary` on `target`.
    pub fn artifact(&self, binary: Binary, target: &Target) -> Result<&Artifact, ManifestError> {
        self.artifacts
            .iter()
            .find(|a| a.binary == binary.name() && a.target == target.triple)
            .ok_or_else(|| ManifestError::MissingArtifact {
                version: self.version.to_string(),
                binary: binary.name().to_owned(),
                target: target.triple.to_owned(),
            })
    }

    /// The targets the release covers, in manifest order, without repeats.
    pub fn targets(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for a in &self.artifacts {
            if !out.contains(&a.target.as_str()) {
                out.push(&a.target);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::TARGETS;

    fn sample() -> Manifest {
        let target = &TARGETS[0];
        Manifest {
            schema: SCHEMA_VERSION,
            version: semver::Version::new(1, 2, 3),
            tag: "v1.2.3".into(),
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            source_date_epoch: 1_700_000_000,
            artifacts: vec![Artifact {
                binary: "codex".into(),
                target: target.triple.into(),
                archive: FileInfo {
                    name: target.archive_name(Binary::Codex),
                    size: 10,
                    sha256: Digest::of_bytes(b"archive"),
                },
                entry: FileInfo {
                    name: target.entry_name(Binary::Codex),
                    size: 20,
                    sha256: Digest::of_bytes(b"entry"),
                },
            }],
        }
    }

    #[test]
    fn manifest_json_round_trips_and_is_pinned() {
        let m = sample();
        let json = m.to_json();
        assert_eq!(Manifest::from_json(&json).expect("parse"), m);
        insta::assert_snapshot!(json);
    }

    #[test]
    fn newer_schema_is_refused_with_advice() {
        let json = sample().to_json().replace("\"schema\": 1", "\"schema\": 2");
        let err = Manifest::from_json(&json).expect_err("newer");
        insta::assert_snapshot!(err.to_string(), @"release manifest schema 2 is newer than this program understands (1); update codex first");
    }

    #[test]
    fn missing_artifact_names_binary_and_target() {
        let m = sample();
        let t = Target::from_triple("aarch64-apple-darwin").expect("known");
        let err = m.artifact(Binary::ExecServer, t).expect_err("missing");
        insta::assert_snapshot!(err.to_string(), @"release 1.2.3 has no codex-exec-server archive for aarch64-apple-darwin");
    }
}
