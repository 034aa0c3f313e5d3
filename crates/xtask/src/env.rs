//! Every environment variable the build driver reads or sets, declared once with its meaning.
//! `cargo xtask dist --help` and docs/release-build.md list them from here.

/// An environment variable known to the build driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvVar {
    /// Seconds since the epoch stamped on every archive entry; defaults to the commit time.
    SourceDateEpoch,
    /// Git commit recorded in binaries and the manifest; defaults to `git rev-parse HEAD`.
    GitCommit,
    /// Version the binaries' build scripts compile in; `dist` sets a placeholder and stamps later.
    ReleaseVersion,
    /// Python interpreter used to install and run zig and cargo-zigbuild, and to install cargo-dist;
    /// defaults to `python3`.
    Python,
    /// Base64 Ed25519 seed that `dist` signs the release with; default: the development key.
    SigningKey,
    /// Set by `dist` for the compiler: `1` makes the binaries also trust the development key.
    TrustDevelopmentKey,
    /// Cargo profile of the `bench/` scripts' helpers and harnesses.
    BenchProfile,
    /// The Developer ID Application certificate and key (PKCS#12) the macOS binaries are signed with.
    AppleCertificateP12,
    /// Password of [`EnvVar::AppleCertificateP12`].
    AppleCertificatePassword,
    /// The Authenticode certificate and key (PKCS#12) the Windows binaries are signed with.
    WindowsCertificateP12,
    /// Password of [`EnvVar::WindowsCertificateP12`].
    WindowsCertificatePassword,
    /// RFC 3161 time-stamp authority for both platforms' signatures.
    TimestampUrl,
    /// Key ID of the App Store Connect API key `notarize` authenticates with.
    AppleApiKeyId,
    /// Issuer ID (the team's) of that App Store Connect API key.
    AppleApiIssuer,
    /// Text of that key's `AuthKey_<id>.p8` file (PKCS#8 P-256 private key).
    AppleApiKeyP8,
    /// Base URL of Apple's notary API; tests point it at a loopback stand-in.
    NotaryUrl,
    /// URL of the S3 bucket notarization uploads go to, `{bucket}` standing for the bucket name.
    NotaryS3Url,
}

impl EnvVar {
    /// All variables, for generated docs.
    pub const ALL: [EnvVar; 17] = [
        Self::SourceDateEpoch,
        Self::GitCommit,
        Self::ReleaseVersion,
        Self::Python,
        Self::SigningKey,
        Self::TrustDevelopmentKey,
        Self::BenchProfile,
        Self::AppleCertificateP12,
        Self::AppleCertificatePassword,
        Self::WindowsCertificateP12,
        Self::WindowsCertificatePassword,
        Self::TimestampUrl,
        Self::AppleApiKeyId,
        Self::AppleApiIssuer,
        Self::AppleApiKeyP8,
        Self::NotaryUrl,
        Self::NotaryS3Url,
    ];

    /// The variable's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::SourceDateEpoch => "SOURCE_DATE_EPOCH",
            // Also read by crates/build-info/build.rs, which cannot depend on this crate.
            Self::GitCommit => "CODEX_GIT_COMMIT",
            Self::ReleaseVersion => "CODEX_RELEASE_VERSION",
            Self::Python => "CODEX_XTASK_PYTHON",
            Self::SigningKey => "CODEX_SIGNING_KEY",
            Self::TrustDevelopmentKey => codex_installer::signature::TRUST_DEVELOPMENT_KEY_VAR,
            // Also read by bench/lib.sh and bench/exec-server.sh.
            Self::BenchProfile => "CODEX_BENCH_PROFILE",
            Self::AppleCertificateP12 => "CODEX_APPLE_CERTIFICATE_P12",
            Self::AppleCertificatePassword => "CODEX_APPLE_CERTIFICATE_PASSWORD",
            Self::WindowsCertificateP12 => "CODEX_WINDOWS_CERTIFICATE_P12",
            Self::WindowsCertificatePassword => "CODEX_WINDOWS_CERTIFICATE_PASSWORD",
            Self::TimestampUrl => "CODEX_TIMESTAMP_URL",
            Self::AppleApiKeyId => "CODEX_APPLE_API_KEY_ID",
            Self::AppleApiIssuer => "CODEX_APPLE_API_ISSUER",
            Self::AppleApiKeyP8 => "CODEX_APPLE_API_KEY_P8",
            Self::NotaryUrl => "CODEX_NOTARY_URL",
            Self::NotaryS3Url => "CODEX_NOTARY_S3_URL",
        }
    }

    /// One-line description for help and docs.
    pub fn doc(self) -> &'static str {
        match self {
            Self::SourceDateEpoch => {
                "Seconds since the epoch stamped on every archive entry; default: the commit time"
            }
            Self::GitCommit => {
                "Commit recorded in `--version` and the manifest; default: `git rev-parse HEAD`"
            }
            Self::ReleaseVersion => {
                "Version a plain `cargo build` compiles in (default: Cargo.toml's); `dist` compiles a placeholder and stamps --version into the linked binaries"
            }
            Self::Python => {
                "Python used to pip-install zig, cargo-zigbuild and cargo-dist; default: python3"
            }
            Self::SigningKey => {
                "Base64 Ed25519 seed the release is signed with (docs/signing.md); default: the development key"
            }
            Self::TrustDevelopmentKey => {
                "Set by `dist` for the build: `1` (signing with the development key) makes the binaries trust that key too"
            }
            Self::AppleCertificateP12 => {
                "Developer ID Application certificate and key: base64 of a .p12, or its path; `dist` signs the macOS binaries with it (docs/releasing.md); unset: zig's ad hoc signature"
            }
            Self::AppleCertificatePassword => "Password of the Developer ID .p12",
            Self::WindowsCertificateP12 => {
                "Authenticode certificate and key: base64 of a .p12, or its path; `dist` signs the Windows binaries with osslsigncode (docs/releasing.md); unset: unsigned"
            }
            Self::WindowsCertificatePassword => "Password of the Authenticode .p12",
            Self::TimestampUrl => {
                "RFC 3161 time-stamp authority for the macOS and Windows signatures; default: Apple's (macOS) and DigiCert's (Windows)"
            }
            Self::BenchProfile => {
                "Cargo profile the `bench/` scripts build their helpers and harnesses with; default: release (`bench` for `cargo bench`); the test run's smoke runs use `dev`"
            }
            Self::AppleApiKeyId => {
                "Key ID of the App Store Connect API key (Developer role) `notarize` submits with (docs/releasing.md)"
            }
            Self::AppleApiIssuer => "Issuer ID shown above that key's list in App Store Connect",
            Self::AppleApiKeyP8 => {
                "The text of that key's `AuthKey_<id>.p8` file; read from the environment only, never from the command line"
            }
            Self::NotaryUrl => {
                "Base URL of Apple's notary API; default: `https://appstoreconnect.apple.com` (tests: a loopback stand-in)"
            }
            Self::NotaryS3Url => {
                "Where `notarize` uploads, `{bucket}` replaced by the bucket Apple names; default: `https://{bucket}.s3.us-west-2.amazonaws.com`"
            }
        }
    }

    /// The value, if set and not empty.
    pub fn get(self) -> Option<String> {
        std::env::var(self.name()).ok().filter(|v| !v.is_empty())
    }

    /// Markdown table of every variable.
    pub fn markdown_table() -> String {
        let mut s = String::from("| Variable | Meaning |\n| --- | --- |\n");
        for v in Self::ALL {
            s.push_str(&format!("| `{}` | {} |\n", v.name(), v.doc()));
        }
        s
    }
}
