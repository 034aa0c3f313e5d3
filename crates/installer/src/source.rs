//! Where releases come from: GitHub Releases, a mirror with GitHub's layout, or a local folder.
//!
//! There is one layout for all of them, GitHub's own: a release's files are at
//! `<base>/download/<tag>/<file>` and the newest release's at `<base>/latest/download/<file>`.
//! The default base is `https://github.com/<owner>/<repo>/releases`.

use std::fmt;
use std::path::PathBuf;

use crate::DEFAULT_GITHUB_REPO;

/// Where the setting that chose the source came from, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag.
    Flag,
    /// An environment variable.
    Env,
    /// `config.toml`.
    Config,
    /// The receipt of the install being updated (it keeps updating from where it came from).
    Receipt,
    /// The built-in default.
    Default,
}

impl Origin {
    /// Whether the user named this source themselves, which is what allows plain HTTP.
    pub fn is_explicit(self) -> bool {
        !matches!(self, Origin::Default)
    }
}

/// A release source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A base URL with GitHub's layout (GitHub itself or a mirror).
    Url {
        /// Base URL without a trailing slash, e.g. `https://github.com/openai/codex/releases`.
        base: String,
        /// Whether plain `http://` may be used: loopback, or named explicitly by the user.
        allow_http: bool,
    },
    /// A local folder holding a release (`manifest.json` and archives), for offline installs.
    Dir(PathBuf),
}

/// A source setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Not http(s) and not an existing directory.
    #[error(
        "release source {0:?} is neither an http(s) URL nor a directory; pass a base URL like https://github.com/OWNER/REPO/releases"
    )]
    Unrecognised(String),
    /// Plain HTTP to a non-loopback host that the user did not name.
    #[error(
        "refusing plain http for {0}; use https, or name the mirror explicitly with --base-url"
    )]
    InsecureHttp(String),
}

/// The default base URL, from [`DEFAULT_GITHUB_REPO`].
pub fn default_base_url() -> String {
    format!("https://github.com/{DEFAULT_GITHUB_REPO}/releases")
}

/// Whether a URL's host is loopback (`127.0.0.0/8`, `[::1]` or `localhost`).
pub fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Source {
    /// Interprets a setting: an http(s) URL is a base URL, anything else an existing directory
    /// (`file://` URLs included).
    pub fn parse(value: &str, origin: Origin) -> Result<Source, SourceError> {
        let value = value.trim();
        if let Some(path) = value.strip_prefix("file://") {
            return Ok(Source::Dir(PathBuf::from(path)));
        }
        let lower = value.to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            let base = value.trim_end_matches('/').to_owned();
            let loopback = is_loopback_url(&base);
            let allow_http = loopback || origin.is_explicit();
            if lower.starts_with("http://") && !allow_http {
                return Err(SourceError::InsecureHttp(base));
            }
            return Ok(Source::Url { base, allow_http });
        }
        let dir = PathBuf::from(value);
        if dir.is_dir() {
            Ok(Source::Dir(dir))
        } else {
            Err(SourceError::Unrecognised(value.to_owned()))
        }
    }

    /// The first setting present, strongest first, or the default.
    pub fn resolve(
        candidates: &[(Origin, Option<String>)],
    ) -> Result<(Source, Origin), SourceError> {
        for (origin, value) in candidates {
            if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
                return Ok((Source::parse(v, *origin)?, *origin));
            }
        }
        Ok((
            Source::parse(&default_base_url(), Origin::Default)?,
            Origin::Default,
        ))
    }

    /// `owner/repo` when the base is a GitHub releases URL, which enables the GitHub API
    /// fallback and tokens: `https://github.com/<owner>/<repo>/releases`, or any base ending in
    /// `/<owner>/<repo>/releases` when `CODEX_GITHUB_API_URL` names a GitHub Enterprise (or test)
    /// API.
    pub fn github_repo(&self) -> Option<String> {
        let Source::Url { base, .. } = self else {
            return None;
        };
        let on_github = base.starts_with("https://github.com/");
        if !on_github && !crate::settings::EnvVar::GithubApiUrl.is_set() {
            return None;
        }
        let path = base.split_once("://")?.1.split_once('/')?.1;
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            [.., owner, repo, "releases"] if !owner.is_empty() && !repo.is_empty() => {
                Some(format!("{owner}/{repo}"))
            }
            _ => None,
        }
    }

    /// URL (or path) of `file` in release `tag`.
    pub fn file_location(&self, tag: &str, file: &str) -> String {
        match self {
            Source::Url { base, .. } => format!("{base}/download/{tag}/{file}"),
            Source::Dir(dir) => dir.join(file).display().to_string(),
        }
    }

    /// URL of `file` in the newest release (GitHub redirects it to the tag's file).
    pub fn latest_location(&self, file: &str) -> String {
        match self {
            Source::Url { base, .. } => format!("{base}/latest/download/{file}"),
            Source::Dir(dir) => dir.join(file).display().to_string(),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Url { base, .. } => f.write_str(base),
            Source::Dir(d) => write!(f, "{}", d.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_env_beats_config_beats_default() {
        let c = |f: Option<&str>, e: Option<&str>, k: Option<&str>| {
            Source::resolve(&[
                (Origin::Flag, f.map(String::from)),
                (Origin::Env, e.map(String::from)),
                (Origin::Config, k.map(String::from)),
            ])
            .expect("resolves")
        };
        let (s, o) = c(
            Some("https://a.example/r"),
            Some("https://b.example/r"),
            None,
        );
        assert_eq!(
            (s.to_string(), o),
            ("https://a.example/r".into(), Origin::Flag)
        );
        let (s, o) = c(
            None,
            Some("https://b.example/r/"),
            Some("https://c.example/r"),
        );
        assert_eq!(
            (s.to_string(), o),
            ("https://b.example/r".into(), Origin::Env)
        );
        let (s, o) = c(None, None, Some("https://c.example/r"));
        assert_eq!(
            (s.to_string(), o),
            ("https://c.example/r".into(), Origin::Config)
        );
        let (s, o) = c(None, None, None);
        assert_eq!((s.to_string(), o), (default_base_url(), Origin::Default));
        assert_eq!(s.github_repo().as_deref(), Some(DEFAULT_GITHUB_REPO));
    }

    #[test]
    fn plain_http_needs_loopback_or_an_explicit_mirror() {
        assert!(Source::parse("http://127.0.0.1:8080/r", Origin::Default).is_ok());
        assert!(Source::parse("http://[::1]:8080/r", Origin::Default).is_ok());
        assert!(Source::parse("http://localhost/r", Origin::Default).is_ok());
        assert!(Source::parse("http://mirror.example/r", Origin::Env).is_ok());
        let err = Source::parse("http://mirror.example/r", Origin::Default).expect_err("refused");
        insta::assert_snapshot!(err.to_string(), @"refusing plain http for http://mirror.example/r; use https, or name the mirror explicitly with --base-url");
        assert!(!is_loopback_url("http://127.0.0.1.evil.example/"));
        assert!(!is_loopback_url("http://user@evil.example/"));
    }

    #[test]
    fn layout_is_githubs_for_every_url_source() {
        let (s, _) = Source::resolve(&[]).expect("default");
        assert_eq!(
            s.file_location("v1.2.3", "manifest.json"),
            format!(
                "https://github.com/{DEFAULT_GITHUB_REPO}/releases/download/v1.2.3/manifest.json"
            )
        );
        assert_eq!(
            s.latest_location("manifest.json"),
            format!(
                "https://github.com/{DEFAULT_GITHUB_REPO}/releases/latest/download/manifest.json"
            )
        );
        let mirror = Source::parse("https://m.example/codex", Origin::Flag).expect("ok");
        assert_eq!(mirror.github_repo(), None);
    }

    #[test]
    fn non_url_non_directory_is_a_clear_error() {
        let err = Source::parse("ftp://x", Origin::Flag).expect_err("bad");
        assert!(
            err.to_string()
                .contains("neither an http(s) URL nor a directory")
        );
    }
}
