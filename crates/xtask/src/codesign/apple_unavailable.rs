//! What stands in for [`apple`](self) in an xtask built without the `os-signing` feature (the
//! test-helper builds, see crates/xtask/Cargo.toml): every entry point refuses in one line, so a
//! signing or checking run can never pass by doing nothing.

use anyhow::{Result, bail};
use codex_installer::signature::PlatformIdentity;

use super::{Pkcs12, SignatureTrust};

const UNAVAILABLE: &str = "this xtask was built without the `os-signing` feature; run `cargo xtask`, \
     which has it";

/// Never constructed: [`AppleIdentity::new`] refuses.
#[derive(Debug, Clone)]
pub struct AppleIdentity {
    _never: std::convert::Infallible,
}

impl AppleIdentity {
    /// Refuses: Developer ID signing needs the `os-signing` feature.
    pub fn new(
        _pkcs12: Pkcs12,
        _expected: &PlatformIdentity,
        _timestamp_url: &str,
    ) -> Result<Self> {
        bail!(UNAVAILABLE)
    }

    /// Unreachable, since no identity exists.
    pub fn sign(&self, _bytes: &[u8], _identifier: &str) -> Result<Vec<u8>> {
        match self._never {}
    }
}

/// Refuses: reading PKCS#12 bundles needs the `os-signing` feature.
pub(super) fn certificate_common_name(_p: &Pkcs12) -> Result<String> {
    bail!(UNAVAILABLE)
}

/// Refuses: checking Developer ID signatures needs the `os-signing` feature.
pub fn verify(_bytes: &[u8], _identifier: &str, _trust: &SignatureTrust) -> Result<()> {
    bail!(UNAVAILABLE)
}
