//! Every environment variable and config key the release channels read, declared once with its
//! doc string. `codex update --help` and docs/installer.md are generated from these tables.

use std::path::PathBuf;

/// An environment variable read by the installer or `codex update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvVar {
    /// Where codex keeps its state.
    CodexHome,
    /// Release source: a mirror base URL with GitHub's layout.
    ReleaseBaseUrl,
    /// Directory for the `codex` and `codex-exec-server` links.
    InstallDir,
    /// GitHub API base URL, for GitHub Enterprise and tests.
    GithubApiUrl,
    /// GitHub token (first choice).
    GithubToken,
    /// GitHub token (second choice, as set by the `gh` CLI).
    GhToken,
    /// Extra CA certificates (PEM) to trust.
    SslCertFile,
    /// Disables the daily update check.
    NoUpdateCheck,
    /// Set by CI systems; turns the update check off.
    Ci,
    /// Set by the npm launcher: the package root that holds the running copy.
    NpmPackageRoot,
    /// Set by the npm launcher: which package manager installed it (npm, pnpm, bun).
    NpmManager,
    /// Read by the npm launcher: run this codex binary instead of the platform package's.
    NpmBinaryPath,
    /// Allows installing a release older than the installed one.
    AllowDowngrade,
    /// install.sh / install.ps1: refuse to install when the signature cannot be checked.
    RequireSignature,
    /// install.sh: install with only the checksums checked where the signature cannot be.
    AllowUnverified,
}

impl EnvVar {
    /// Every variable, in documentation order.
    pub const ALL: [EnvVar; 15] = [
        Self::CodexHome,
        Self::ReleaseBaseUrl,
        Self::InstallDir,
        Self::GithubApiUrl,
        Self::GithubToken,
        Self::GhToken,
        Self::SslCertFile,
        Self::NoUpdateCheck,
        Self::Ci,
        Self::NpmPackageRoot,
        Self::NpmManager,
        Self::NpmBinaryPath,
        Self::AllowDowngrade,
        Self::RequireSignature,
        Self::AllowUnverified,
    ];

    /// The variable's name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::CodexHome => "CODEX_HOME",
            Self::ReleaseBaseUrl => "CODEX_RELEASE_BASE_URL",
            Self::InstallDir => "CODEX_INSTALL_DIR",
            Self::GithubApiUrl => "CODEX_GITHUB_API_URL",
            Self::GithubToken => "GITHUB_TOKEN",
            Self::GhToken => "GH_TOKEN",
            Self::SslCertFile => "SSL_CERT_FILE",
            Self::NoUpdateCheck => "CODEX_NO_UPDATE_CHECK",
            Self::Ci => "CI",
            Self::NpmPackageRoot => "CODEX_NPM_PACKAGE_ROOT",
            Self::NpmManager => "CODEX_NPM_MANAGER",
            Self::NpmBinaryPath => "CODEX_BINARY_PATH",
            Self::AllowDowngrade => "CODEX_ALLOW_DOWNGRADE",
            Self::RequireSignature => "CODEX_REQUIRE_SIGNATURE",
            Self::AllowUnverified => "CODEX_ALLOW_UNVERIFIED",
        }
    }

    /// One line for help and docs.
    pub const fn doc(self) -> &'static str {
        match self {
            Self::CodexHome => "Where codex keeps config, releases and caches (default: ~/.codex)",
            Self::ReleaseBaseUrl => {
                "Release source: base URL of a mirror with GitHub's layout (<base>/download/<tag>/<file>)"
            }
            Self::InstallDir => {
                "Directory for the codex and codex-exec-server links (default: ~/.local/bin)"
            }
            Self::GithubApiUrl => "GitHub API base URL (default: https://api.github.com)",
            Self::GithubToken => {
                "GitHub token, sent only to the GitHub API, to avoid its rate limit"
            }
            Self::GhToken => "Used as the GitHub token when GITHUB_TOKEN is not set",
            Self::SslCertFile => "PEM file of extra CA certificates to trust (corporate proxies)",
            Self::NoUpdateCheck => "Set to 1 to turn off the daily update check",
            Self::Ci => "When set, the daily update check is off",
            Self::NpmPackageRoot => "Set by the npm launcher: package root of the running copy",
            Self::NpmManager => "Set by the npm launcher: npm, pnpm or bun",
            Self::NpmBinaryPath => {
                "npm launcher: run this codex binary (codex-exec-server from the same folder) instead of the platform package's"
            }
            Self::AllowDowngrade => {
                "Set to 1 to allow installing a release older than the installed one (as --allow-downgrade)"
            }
            Self::RequireSignature => {
                "install.sh / install.ps1: set to 1 to refuse to install when no signature verifier is available (as --require-signature; install.sh refuses anyway unless CODEX_ALLOW_UNVERIFIED=1); codex itself always verifies"
            }
            Self::AllowUnverified => {
                "install.sh: set to 1 to install with only the SHA-256 checksums checked where neither OpenSSL 3 nor minisign is installed to check the signature (as --allow-unverified); without it such an install is refused"
            }
        }
    }

    /// The value, if set and not empty.
    pub fn get(self) -> Option<String> {
        std::env::var(self.name()).ok().filter(|v| !v.is_empty())
    }

    /// Whether the variable is set to a yes: anything but empty, `0`, `false` or `no`.
    pub fn is_true(self) -> bool {
        self.get()
            .is_some_and(|v| !matches!(v.to_ascii_lowercase().as_str(), "0" | "false" | "no"))
    }

    /// Whether the variable is set to anything non-empty.
    pub fn is_set(self) -> bool {
        self.get().is_some()
    }
}

/// A key of `$CODEX_HOME/config.toml` read by the installer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKey {
    /// `release_base_url`.
    ReleaseBaseUrl,
    /// `update_check`.
    UpdateCheck,
}

impl ConfigKey {
    /// Every key, in documentation order.
    pub const ALL: [ConfigKey; 2] = [Self::ReleaseBaseUrl, Self::UpdateCheck];

    /// The key as written in config.toml.
    pub const fn name(self) -> &'static str {
        match self {
            Self::ReleaseBaseUrl => "release_base_url",
            Self::UpdateCheck => "update_check",
        }
    }

    /// One line for docs.
    pub const fn doc(self) -> &'static str {
        match self {
            Self::ReleaseBaseUrl => {
                "Release source base URL; overridden by --base-url and CODEX_RELEASE_BASE_URL"
            }
            Self::UpdateCheck => "false turns off the daily update check (default true)",
        }
    }
}

/// The installer's part of `$CODEX_HOME/config.toml`. Unknown keys belong to other parts of codex
/// and are ignored here.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Config {
    /// See [`ConfigKey::ReleaseBaseUrl`].
    pub release_base_url: Option<String>,
    /// See [`ConfigKey::UpdateCheck`].
    pub update_check: Option<bool>,
}

/// A config file that exists but cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {detail}; fix or remove the file")]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub detail: String,
}

impl Config {
    /// Reads `config.toml` under `codex_home`; a missing file is the default config.
    pub fn load(codex_home: &std::path::Path) -> Result<Config, ConfigError> {
        let path = codex_home.join("config.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| ConfigError {
                path,
                detail: e.message().to_owned(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(ConfigError {
                path,
                detail: e.to_string(),
            }),
        }
    }
}

/// The user's home directory.
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// `$CODEX_HOME`, default `~/.codex`.
pub fn codex_home() -> Option<PathBuf> {
    EnvVar::CodexHome
        .get()
        .map(PathBuf::from)
        .or_else(|| home_dir().map(|h| h.join(".codex")))
}

/// Default bin directory: `$CODEX_INSTALL_DIR`, else `~/.local/bin`.
pub fn default_bin_dir() -> Option<PathBuf> {
    EnvVar::InstallDir
        .get()
        .map(PathBuf::from)
        .or_else(|| home_dir().map(|h| h.join(".local").join("bin")))
}

/// Markdown table of every environment variable.
pub fn env_markdown() -> String {
    let mut s = String::from("| Variable | Meaning |\n| --- | --- |\n");
    for v in EnvVar::ALL {
        s.push_str(&format!("| `{}` | {} |\n", v.name(), v.doc()));
    }
    s
}

/// Markdown table of every config key.
pub fn config_markdown() -> String {
    let mut s = String::from("| Key | Meaning |\n| --- | --- |\n");
    for k in ConfigKey::ALL {
        s.push_str(&format!("| `{}` | {} |\n", k.name(), k.doc()));
    }
    s
}
