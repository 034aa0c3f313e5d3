//! `$CODEX_HOME/auth.json`, in the shape Codex 0.169 reads and writes:
//! `{"auth_mode": "apikey", "OPENAI_API_KEY": "sk-..."}` for a key, and for ChatGPT
//! `{"auth_mode": "chatgpt", "OPENAI_API_KEY": null, "tokens": {"id_token", "access_token",
//! "refresh_token", "account_id"}, "last_refresh": "RFC 3339"}`.
//!
//! The file is written atomically (a fresh temp file in the same folder, created exclusively
//! with mode 0600, then renamed over auth.json), so a crash leaves the old file or the new one,
//! and a symlink planted at auth.json is replaced, never followed.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::LoginError;

/// The file name under `$CODEX_HOME`.
pub const FILE_NAME: &str = "auth.json";

/// How the stored credentials sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// An OpenAI API key.
    ApiKey,
    /// A ChatGPT account's OAuth tokens.
    ChatGpt,
}

/// The content of auth.json.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthDotJson {
    /// How to sign in; files of older versions may lack it (then inferred from the rest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_mode: Option<AuthMode>,
    /// The API key (`null` with ChatGPT tokens).
    #[serde(rename = "OPENAI_API_KEY", default)]
    pub openai_api_key: Option<String>,
    /// The ChatGPT tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenData>,
    /// When the tokens were last obtained or refreshed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refresh: Option<String>,
    /// Fields codex does not use (other versions may write more), kept when it rewrites the
    /// file after a renewal.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Debug for AuthDotJson {
    // By hand: the key and tokens must never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthDotJson")
            .field("auth_mode", &self.auth_mode)
            .field(
                "openai_api_key",
                &self.openai_api_key.as_ref().map(|_| "<redacted>"),
            )
            .field("tokens", &self.tokens)
            .field("last_refresh", &self.last_refresh)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A ChatGPT account's OAuth tokens.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenData {
    /// The OpenID Connect ID token (a JWT naming the account).
    #[serde(default)]
    pub id_token: String,
    /// The bearer token for model requests (a JWT with `exp`).
    pub access_token: String,
    /// Renews the access token.
    #[serde(default)]
    pub refresh_token: String,
    /// The ChatGPT account id, sent in the account id header.
    #[serde(default)]
    pub account_id: Option<String>,
}

impl std::fmt::Debug for TokenData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenData")
            .field("id_token", &"<redacted>")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .field("account_id", &self.account_id)
            .finish()
    }
}

impl AuthDotJson {
    /// Credentials holding only an API key.
    pub fn api_key(key: &str) -> AuthDotJson {
        AuthDotJson {
            auth_mode: Some(AuthMode::ApiKey),
            openai_api_key: Some(key.to_string()),
            tokens: None,
            last_refresh: None,
            extra: serde_json::Map::new(),
        }
    }

    /// Credentials holding ChatGPT tokens, obtained now.
    pub fn chatgpt(tokens: TokenData) -> AuthDotJson {
        AuthDotJson {
            auth_mode: Some(AuthMode::ChatGpt),
            openai_api_key: None,
            tokens: Some(tokens),
            last_refresh: Some(crate::time::rfc3339(crate::time::now_secs())),
            extra: serde_json::Map::new(),
        }
    }

    /// The mode, inferred from the content when the file does not say.
    pub fn mode(&self) -> Option<AuthMode> {
        self.auth_mode.or(if self.tokens.is_some() {
            Some(AuthMode::ChatGpt)
        } else if self.openai_api_key.is_some() {
            Some(AuthMode::ApiKey)
        } else {
            None
        })
    }

    /// The stored API key, if any and not empty.
    pub fn stored_api_key(&self) -> Option<&str> {
        self.openai_api_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
    }
}

/// `$CODEX_HOME/auth.json`.
pub fn path(codex_home: &Path) -> PathBuf {
    codex_home.join(FILE_NAME)
}

/// Reads auth.json: `None` when there is none; [`LoginError::Corrupt`] when it does not parse.
pub fn load(codex_home: &Path) -> Result<Option<AuthDotJson>, LoginError> {
    let path = path(codex_home);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(LoginError::Corrupt {
                path,
                detail: "not UTF-8 text".into(),
            });
        }
        Err(e) => return Err(LoginError::io("read", &path, e)),
    };
    match serde_json::from_str::<AuthDotJson>(&text) {
        // serde_json's messages name positions and expected types, never the values.
        Err(e) => Err(LoginError::Corrupt {
            path,
            detail: e.to_string(),
        }),
        Ok(auth) if auth.mode().is_none() => Err(LoginError::Corrupt {
            path,
            detail: "it holds neither an API key nor tokens".into(),
        }),
        Ok(auth) => Ok(Some(auth)),
    }
}

/// Writes auth.json atomically with mode 0600 (creating `codex_home`, mode 0700, if needed).
pub fn save(codex_home: &Path, auth: &AuthDotJson) -> Result<(), LoginError> {
    let target = path(codex_home);
    create_home(codex_home)?;
    // Byte for byte what 0.169 writes: pretty JSON, no final newline.
    let json = serde_json::to_string_pretty(auth)
        .map_err(|e| LoginError::BadAnswer(format!("cannot encode the credentials: {e}")))?;
    let tmp = codex_home.join(format!(".{FILE_NAME}.{}.tmp", random_suffix()));
    let result = (|| {
        let mut file = create_private(&tmp)?;
        file.write_all(json.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &target)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(LoginError::io("write", &target, e));
    }
    tracing::debug!(path = %target.display(), "saved credentials");
    Ok(())
}

/// Removes auth.json; `false` when there was none.
pub fn delete(codex_home: &Path) -> Result<bool, LoginError> {
    let path = path(codex_home);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(LoginError::io("remove", &path, e)),
    }
}

/// The key as 0.169 shows it: the first 8 and last 5 characters, or only `***` when the key
/// is too short for that to hide most of it.
pub fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 13 {
        return "***".to_string();
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 5..].iter().collect();
    format!("{head}***{tail}")
}

fn create_home(codex_home: &Path) -> Result<(), LoginError> {
    if codex_home.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(codex_home)
        .map_err(|e| LoginError::io("create", codex_home, e))
}

/// A new file, never an existing one or a symlink (O_CREAT|O_EXCL fails on both), readable by
/// its owner only from the start.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

fn random_suffix() -> String {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        // Only names a temp file, which is created exclusively anyway.
        b = (crate::time::now_secs() as u64 ^ u64::from(std::process::id())).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_key_file_has_the_shape_0169_writes() {
        let home = tempfile::tempdir().expect("tempdir");
        save(home.path(), &AuthDotJson::api_key("sk-test")).expect("save");
        let text = std::fs::read_to_string(path(home.path())).expect("read");
        assert_eq!(
            text,
            "{\n  \"auth_mode\": \"apikey\",\n  \"OPENAI_API_KEY\": \"sk-test\"\n}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path(home.path()))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            load(home.path()).expect("load"),
            Some(AuthDotJson::api_key("sk-test"))
        );
    }

    #[cfg(unix)]
    #[test]
    fn saving_replaces_a_planted_symlink_instead_of_writing_through_it() {
        let home = tempfile::tempdir().expect("tempdir");
        let victim = home.path().join("victim");
        std::fs::write(&victim, "untouched").expect("write");
        std::os::unix::fs::symlink(&victim, path(home.path())).expect("symlink");
        save(home.path(), &AuthDotJson::api_key("sk-test")).expect("save");
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "untouched");
        assert!(
            !std::fs::symlink_metadata(path(home.path()))
                .expect("meta")
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn a_corrupt_file_is_one_error_naming_it_and_the_way_out() {
        let home = tempfile::tempdir().expect("tempdir");
        std::fs::write(path(home.path()), "{\"OPENAI_API_KEY\": sk-secret").expect("write");
        let e = load(home.path()).expect_err("corrupt").to_string();
        assert!(
            e.contains("auth.json is not a valid credentials file"),
            "{e}"
        );
        assert!(e.contains("codex logout"), "{e}");
        assert!(!e.contains("sk-secret"), "{e}");
    }

    #[test]
    fn fields_codex_does_not_know_survive_a_rewrite() {
        let home = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            path(home.path()),
            r#"{"OPENAI_API_KEY": "sk-x", "future_field": {"a": 1}}"#,
        )
        .expect("write");
        let auth = load(home.path()).expect("load").expect("some");
        save(home.path(), &auth).expect("save");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path(home.path())).expect("read"))
                .expect("json");
        assert_eq!(v["future_field"], serde_json::json!({"a": 1}));
        assert_eq!(v["OPENAI_API_KEY"], "sk-x");
    }

    #[test]
    fn keys_are_masked_as_0169_masks_them() {
        assert_eq!(mask_key("sk-test-1234567890abcdef"), "sk-test-***bcdef");
        assert_eq!(mask_key("sk-short"), "***");
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let auth = AuthDotJson::chatgpt(TokenData {
            id_token: "idtok".into(),
            access_token: "acctok".into(),
            refresh_token: "reftok".into(),
            account_id: Some("acct".into()),
        });
        let mut with_key = auth.clone();
        with_key.openai_api_key = Some("sk-secret".into());
        let shown = format!("{with_key:?}");
        for secret in ["idtok", "acctok", "reftok", "sk-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
