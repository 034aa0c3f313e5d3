//! Operating-system code signatures on the release's executables: Developer ID on macOS
//! ([`apple`]), Authenticode on Windows ([`authenticode`]).
//!
//! `dist` signs each binary right after stamping its version, so the bytes a signature covers
//! are the reproducible unsigned build (docs/release-build.md shows how to compare them).
//! Without credentials nothing changes: macOS binaries keep zig's ad hoc signature and Windows
//! binaries stay unsigned, which `verify --release` refuses.

#[cfg(feature = "os-signing")]
pub mod apple;
#[cfg(not(feature = "os-signing"))]
#[path = "apple_unavailable.rs"]
pub mod apple;
pub mod authenticode;

use std::fmt;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use base64::Engine as _;
use codex_installer::signature::PlatformIdentity;
use codex_installer::target::{Binary, Os, Target};

use crate::env::EnvVar;

pub use apple::AppleIdentity;
pub use authenticode::AuthenticodeIdentity;

/// Apple's time-stamp authority, which notarization expects macOS signatures to carry a token of.
pub const APPLE_TIMESTAMP_URL: &str = "http://timestamp.apple.com/ts01";
/// A public RFC 3161 time-stamp authority for the Authenticode signatures.
pub const WINDOWS_TIMESTAMP_URL: &str = "http://timestamp.digicert.com";

/// A PKCS#12 bundle (certificate and private key) and its password. Neither is ever printed:
/// `Debug` shows only the size.
#[derive(Clone)]
pub struct Pkcs12 {
    /// The DER bytes of the bundle.
    pub der: Vec<u8>,
    /// The password that decrypts it.
    pub password: String,
}

impl fmt::Debug for Pkcs12 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pkcs12({} bytes, password redacted)", self.der.len())
    }
}

impl Pkcs12 {
    /// The bundle from a base64 variable's value (what the workflow's secrets hold) or, when the
    /// value names an existing file, that file's bytes.
    pub fn from_secret(value: &str, password: String, var: EnvVar) -> Result<Self> {
        let trimmed = value.trim();
        let path = Path::new(trimmed);
        let der = if !trimmed.is_empty() && trimmed.len() < 4096 && path.is_file() {
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
        } else {
            let compact: String = trimmed.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|_| {
                    anyhow::anyhow!(
                        "{} is neither a file nor base64 of a .p12; set it to `base64 -w0 cert.p12`",
                        var.name()
                    )
                })?
        };
        Ok(Self { der, password })
    }
}

/// The release's OS signing credentials; each platform's is optional.
#[derive(Debug, Clone, Default)]
pub struct PlatformSigning {
    /// Developer ID identity for the macOS binaries; `None` keeps zig's ad hoc signature.
    pub apple: Option<AppleIdentity>,
    /// Authenticode identity for the Windows binaries; `None` leaves them unsigned.
    pub windows: Option<AuthenticodeIdentity>,
}

impl PlatformSigning {
    /// No credentials: local builds and most tests.
    pub fn none() -> Self {
        Self::default()
    }

    /// The credentials in the environment ([`EnvVar::AppleCertificateP12`] and friends), each
    /// checked against `expected` so that a wrong certificate fails before anything is built.
    pub fn from_env(expected: &PlatformIdentity) -> Result<Self> {
        let timestamp = EnvVar::TimestampUrl.get();
        let pair = |p12: EnvVar, password: EnvVar| -> Result<Option<Pkcs12>> {
            match (p12.get(), password.get()) {
                (None, None) => Ok(None),
                (Some(v), pw) => Pkcs12::from_secret(&v, pw.unwrap_or_default(), p12).map(Some),
                (None, Some(_)) => bail!(
                    "{} is set but {} is not; set both (docs/releasing.md) or neither",
                    password.name(),
                    p12.name()
                ),
            }
        };
        let apple = pair(
            EnvVar::AppleCertificateP12,
            EnvVar::AppleCertificatePassword,
        )?
        .map(|p| {
            AppleIdentity::new(
                p,
                expected,
                timestamp.as_deref().unwrap_or(APPLE_TIMESTAMP_URL),
            )
        })
        .transpose()
        .context("the Developer ID certificate")?;
        let windows = pair(
            EnvVar::WindowsCertificateP12,
            EnvVar::WindowsCertificatePassword,
        )?
        .map(|p| {
            AuthenticodeIdentity::new(
                p,
                expected,
                timestamp.as_deref().unwrap_or(WINDOWS_TIMESTAMP_URL),
            )
        })
        .transpose()
        .context("the Authenticode certificate")?;
        Ok(Self { apple, windows })
    }

    /// One line per platform of `targets` that will not be signed, so a local build says so.
    pub fn unsigned_notes(&self, targets: &[&Target]) -> Vec<String> {
        let has = |os: Os| targets.iter().any(|t| t.os == os);
        let mut notes = Vec::new();
        if has(Os::MacOs) && self.apple.is_none() {
            notes.push(format!(
                "no Developer ID certificate ({}): macOS binaries keep zig's ad hoc signature",
                EnvVar::AppleCertificateP12.name()
            ));
        }
        if has(Os::Windows) && self.windows.is_none() {
            notes.push(format!(
                "no Authenticode certificate ({}): Windows binaries are unsigned",
                EnvVar::WindowsCertificateP12.name()
            ));
        }
        notes
    }

    /// Signs `bytes` (a stamped, reproducible binary) for its platform when credentials for it
    /// are present; otherwise returns them unchanged.
    pub fn sign(&self, target: &Target, binary: Binary, bytes: Vec<u8>) -> Result<Vec<u8>> {
        match (target.os, &self.apple, &self.windows) {
            (Os::MacOs, Some(id), _) => id
                .sign(&bytes, bundle_identifier(binary))
                .with_context(|| format!("Developer ID signing {}", target.entry_name(binary))),
            (Os::Windows, _, Some(id)) => id
                .sign(&bytes, binary)
                .with_context(|| format!("Authenticode signing {}", target.entry_name(binary))),
            _ => Ok(bytes),
        }
    }
}

/// Refuses a time-stamp URL that is not plain HTTP(S), before anything is built.
fn check_url(url: &str) -> Result<()> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !url.chars().any(char::is_whitespace) => Ok(()),
        _ => bail!(
            "the time-stamp URL {url:?} is not an http(s) URL; set {} to one",
            EnvVar::TimestampUrl.name()
        ),
    }
}

/// The code-signing identifier of each binary (what macOS shows and notarization records).
pub fn bundle_identifier(binary: Binary) -> &'static str {
    match binary {
        Binary::Codex => "com.openai.codex",
        Binary::ExecServer => "com.openai.codex-exec-server",
    }
}

/// The trust anchors and identity `verify --release` checks OS signatures against.
#[derive(Debug, Clone)]
pub struct SignatureTrust {
    /// Who must have signed.
    pub identity: PlatformIdentity,
    /// DER root certificates a macOS signer must chain to; empty means Apple's roots.
    pub apple_roots: Vec<Vec<u8>>,
    /// PEM file of the CAs `osslsigncode verify` accepts for the Authenticode signer; `None`
    /// means the system's store.
    pub windows_ca_file: Option<std::path::PathBuf>,
    /// PEM file of the CAs the Authenticode timestamp must chain to; `None`: the system's store.
    pub windows_tsa_ca_file: Option<std::path::PathBuf>,
}

impl SignatureTrust {
    /// What a real release must satisfy: [`codex_installer::signature::RELEASE_PLATFORM_IDENTITY`]
    /// under Apple's and the system's roots.
    pub fn release() -> Self {
        Self {
            identity: codex_installer::signature::RELEASE_PLATFORM_IDENTITY,
            apple_roots: Vec::new(),
            windows_ca_file: None,
            windows_tsa_ca_file: None,
        }
    }
}

/// Checks the OS signature of every macOS and Windows binary in the release in `dir` against
/// `trust`: `verify --release` runs it after the release's own checks. Refuses ad hoc signed
/// or unsigned macOS binaries, unsigned Windows binaries, and (with Windows targets) an
/// install.ps1 not pinned to `$SignedRelease = $true`. Returns how many binaries it checked.
pub fn verify_platform_signatures(dir: &Path, trust: &SignatureTrust) -> Result<usize> {
    let text = std::fs::read_to_string(dir.join(codex_installer::manifest::MANIFEST_FILE))
        .context("cannot read manifest.json")?;
    let manifest = codex_installer::manifest::Manifest::from_json(&text)?;
    let mut checked = 0;
    for a in &manifest.artifacts {
        let target = Target::from_triple(&a.target)?;
        if !matches!(target.os, Os::MacOs | Os::Windows) {
            continue;
        }
        let binary = Binary::from_name(&a.binary)
            .with_context(|| format!("manifest names an unknown binary {:?}", a.binary))?;
        let bytes = std::fs::read(dir.join(&a.archive.name))
            .with_context(|| format!("cannot read {}", a.archive.name))?;
        let entry =
            codex_installer::archive::read_single_entry(target.archive_format(), &bytes, None)
                .with_context(|| a.archive.name.clone())?;
        let what = format!("{} for {}", a.binary, a.target);
        match target.os {
            Os::MacOs => apple::verify(&entry.contents, bundle_identifier(binary), trust),
            _ => authenticode::verify(&entry.contents, trust),
        }
        .with_context(|| what.clone())?;
        checked += 1;
    }
    let windows = manifest
        .targets()
        .iter()
        .filter_map(|t| Target::from_triple(t).ok())
        .any(|t| t.os == Os::Windows);
    if windows {
        // Users of this release's install.ps1 get its programs' signatures checked only if the
        // script knows the release is signed.
        let script = crate::dist::InstallScript::Ps1;
        let line = crate::dist::InstallScript::signed_release_line(true);
        let text = std::fs::read_to_string(dir.join(script.file_name()))
            .with_context(|| format!("cannot read {}", script.file_name()))?;
        ensure!(
            text.lines().any(|l| l == line),
            "{} lacks `{line}`: rebuild with the Authenticode certificate ({})",
            script.file_name(),
            EnvVar::WindowsCertificateP12.name()
        );
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(triples: &[&str]) -> Vec<&'static Target> {
        triples
            .iter()
            .map(|t| Target::from_triple(t).expect("known target"))
            .collect()
    }

    #[test]
    fn without_credentials_the_build_says_which_platforms_stay_unsigned() {
        let none = PlatformSigning::none();
        let all = targets(&[
            "x86_64-unknown-linux-musl",
            "aarch64-apple-darwin",
            "x86_64-pc-windows-gnu",
        ]);
        insta::assert_snapshot!(none.unsigned_notes(&all).join("\n"), @r"
        no Developer ID certificate (CODEX_APPLE_CERTIFICATE_P12): macOS binaries keep zig's ad hoc signature
        no Authenticode certificate (CODEX_WINDOWS_CERTIFICATE_P12): Windows binaries are unsigned
        ");
        assert!(
            none.unsigned_notes(&targets(&["x86_64-unknown-linux-musl"]))
                .is_empty(),
            "a Linux-only build has nothing to say"
        );
    }

    #[test]
    fn a_secret_that_is_neither_a_file_nor_base64_gets_a_one_line_error() {
        let err = Pkcs12::from_secret("not base64 !", String::new(), EnvVar::AppleCertificateP12)
            .expect_err("refused");
        insta::assert_snapshot!(err.to_string(), @"CODEX_APPLE_CERTIFICATE_P12 is neither a file nor base64 of a .p12; set it to `base64 -w0 cert.p12`");
        let ok = Pkcs12::from_secret("AAEC\nAw==", "pw".into(), EnvVar::AppleCertificateP12)
            .expect("base64 across lines");
        assert_eq!(ok.der, [0, 1, 2, 3]);
        assert!(
            !format!("{ok:?}").contains("pw"),
            "Debug never shows the password"
        );
    }

    #[test]
    fn time_stamp_urls_must_be_http_or_https() {
        assert!(check_url("http://timestamp.apple.com/ts01").is_ok());
        assert!(check_url("https://127.0.0.1:8080/").is_ok());
        for bad in ["ftp://x", "timestamp.apple.com", "http://", "http://a b"] {
            let err = check_url(bad).expect_err(bad);
            assert!(err.to_string().contains("CODEX_TIMESTAMP_URL"), "{err}");
        }
    }
}
