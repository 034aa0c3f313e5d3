//! One library for everything a codex release channel does: know the supported targets, name the
//! archives, read the release manifest, find and download a release, verify it, extract it, and
//! install it atomically in the standalone layout that every channel shares.
//!
//! The target table ([`target::TARGETS`]), archive naming ([`target::Target::archive_name`]) and
//! the manifest schema ([`manifest::Manifest`]) are defined here once; the build driver, the
//! installers and the npm/Homebrew channels read or are generated from them. So are the keys that
//! releases are signed with ([`signature::TRUSTED_KEYS`]).

pub mod archive;
pub mod codesign;
pub mod digest;
pub mod manifest;
pub mod platform;
pub mod settings;
pub mod signature;
pub mod source;
pub mod target;

#[cfg(feature = "net")]
pub mod doctor;
#[cfg(feature = "net")]
pub mod http;
#[cfg(feature = "net")]
pub mod install;
#[cfg(feature = "net")]
pub mod layout;
#[cfg(feature = "net")]
pub mod method;
#[cfg(feature = "net")]
pub mod uninstall;
#[cfg(feature = "net")]
pub mod update_check;

pub use digest::Digest;
pub use manifest::{Artifact, Manifest};
pub use target::{Binary, Target};

/// The GitHub repository releases are published to, as `owner/name`. Every channel's default
/// release source derives from this one value.
pub const DEFAULT_GITHUB_REPO: &str = "openai/codex";

/// The npm package that wraps the binaries; `codex update` names it in npm commands.
pub const NPM_PACKAGE: &str = "@openai/codex";
