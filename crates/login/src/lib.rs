//! Sign-in for codex, compatible with Codex 0.169: the credentials file `$CODEX_HOME/auth.json`
//! ([`storage`]), the ChatGPT browser flow (OAuth 2.0 authorization code with PKCE through a
//! callback server on 127.0.0.1, [`browser`]), the device-code flow ([`device`]), and the
//! [`AuthManager`] that gives the model client a bearer token, refreshing it when it expires.
//!
//! Secrets never reach a log, an error message or a `Debug` string: every type holding one
//! redacts it by hand.

pub mod browser;
pub mod device;
mod error;
pub mod jwt;
mod manager;
pub mod oauth;
pub mod storage;
pub mod time;

pub use error::LoginError;
pub use manager::{AuthManager, Bearer};
pub use oauth::Issuer;
pub use storage::{AuthDotJson, AuthMode, TokenData};

/// The OAuth client id of the Codex CLI (the one 0.169 registers as).
pub const CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";
/// The callback port 0.169 listens on; the issuer's allow-list has it, so it is tried first.
pub const DEFAULT_PORT: u16 = 1455;
/// The second port on the issuer's allow-list, tried when [`DEFAULT_PORT`] is taken (before a
/// free one).
pub const FALLBACK_PORT: u16 = 1457;
/// The header carrying the ChatGPT account id on model requests (as 0.169 sends it).
pub const ACCOUNT_ID_HEADER: &str = "ChatGPT-Account-Id";

/// The environment variables sign-in reads.
pub mod env {
    /// The command that opens a URL in a browser (the standard variable; `%s` stands for the
    /// URL, else it is appended). Without it, the platform's opener is used.
    pub const BROWSER: &str = "BROWSER";
    /// Every variable with its doc, for docs/login.md (`cargo xtask generate`).
    pub const ALL: &[(&str, &str)] = &[(
        BROWSER,
        "The command `codex login` opens the sign-in URL with (`%s` is the URL, else it is appended; the first of a `:`-separated list); default: `xdg-open`, `open` or `cmd /c start`",
    )];

    /// [`ALL`] as a Markdown table.
    pub fn markdown() -> String {
        let mut s = String::from("| Variable | Meaning |\n| --- | --- |\n");
        for (name, doc) in ALL {
            s.push_str(&format!("| `{name}` | {doc} |\n"));
        }
        s
    }
}
