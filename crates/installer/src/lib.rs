//! One library for everything a codex release channel does: know the supported targets, name the
//! archives, read the release manifest and check digests.
//!
//! The target table ([`target::TARGETS`]), archive naming ([`target::Target::archive_name`]) and
//! the manifest schema ([`manifest::Manifest`]) are defined here once; the build driver, the
//! installers and the npm/Homebrew channels read or are generated from them.

pub mod digest;
pub mod manifest;
pub mod target;

pub use digest::Digest;
pub use manifest::{Artifact, Manifest};
pub use target::{Binary, Target};

/// The GitHub repository releases are published to, as `owner/name`. Every channel's default
/// release source derives from this one value.
pub const DEFAULT_GITHUB_REPO: &str = "openai/codex";
