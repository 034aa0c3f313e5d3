//! Why sign-in failed. Each message is one line that says what to do, and none contains a
//! secret: issuer answers are reduced to their `error` and `error_description` fields.

use std::path::PathBuf;

/// A failed sign-in, sign-out or credential read.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// auth.json exists but is not valid.
    #[error(
        "{path} is not a valid credentials file ({detail}): run `codex logout` to remove it, then `codex login` again"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (never its content).
        detail: String,
    },
    /// A file could not be read or written.
    #[error("cannot {what} {path}: {source}")]
    Io {
        /// What was being done: `read`, `write`, `remove`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The issuer could not be reached.
    #[error(
        "cannot reach the sign-in server {url}: {detail}; check the network, or `auth_issuer` in config.toml"
    )]
    Unreachable {
        /// The URL requested.
        url: String,
        /// The cause.
        detail: String,
    },
    /// The issuer answered with an error.
    #[error("the sign-in server answered {status} to {what}: {detail}")]
    Issuer {
        /// Which request: `the token request`, `the device code request`...
        what: &'static str,
        /// The HTTP status.
        status: u16,
        /// Its `error` (and `error_description`), or a note that it gave none.
        detail: String,
    },
    /// The browser came back with a `state` that is not the one codex sent.
    #[error(
        "the sign-in callback did not carry the state codex sent (a stale or forged redirect); nothing was saved: run `codex login` again"
    )]
    StateMismatch,
    /// The issuer redirected back with `error=...` (the user declined, ...).
    #[error("sign-in was not completed: {error}{}; nothing was saved: run `codex login` again", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Denied {
        /// The OAuth error code, e.g. `access_denied`.
        error: String,
        /// The issuer's description, if any.
        description: Option<String>,
    },
    /// The device code expired before the user entered it.
    #[error(
        "the device code expired before sign-in was completed; nothing was saved: run `codex login --device-auth` again"
    )]
    DeviceCodeExpired,
    /// The callback server could not listen.
    #[error("cannot listen for the sign-in callback on 127.0.0.1: {0}")]
    Listen(std::io::Error),
    /// The issuer's answer lacked something required.
    #[error("the sign-in server's answer is unusable: {0}")]
    BadAnswer(String),
    /// A renewal was needed but there is no refresh token, or the issuer refused it.
    #[error("the ChatGPT sign-in has expired and cannot be renewed: run `codex login` again")]
    CannotRefresh,
}

impl LoginError {
    pub(crate) fn io(what: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        LoginError::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The error, its causes after colons: reqwest hides the useful part ("connection refused")
/// in its sources.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}
