//! The ChatGPT sign-in as the model client uses it: a bearer token that is renewed shortly
//! before it expires (its JWT `exp`) and once more when the provider answers 401, with the
//! renewed tokens written back to auth.json.

use std::path::PathBuf;

use crate::{AuthDotJson, Issuer, LoginError, TokenData, storage};

/// Renew this long before `exp`, so that a token does not expire in flight.
const EARLY: i64 = 60;

/// What a model request is signed with.
#[derive(Clone, PartialEq, Eq)]
pub struct Bearer {
    /// The access token.
    pub token: String,
    /// The ChatGPT account, sent in [`crate::ACCOUNT_ID_HEADER`].
    pub account_id: Option<String>,
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bearer")
            .field("token", &"<redacted>")
            .field("account_id", &self.account_id)
            .finish()
    }
}

/// The signed-in ChatGPT account of one codex process.
#[derive(Debug)]
pub struct AuthManager {
    codex_home: PathBuf,
    issuer: Issuer,
    tokens: tokio::sync::Mutex<TokenData>,
}

impl AuthManager {
    /// The account whose `tokens` were read from `codex_home`'s auth.json.
    pub fn new(codex_home: PathBuf, issuer: Issuer, tokens: TokenData) -> AuthManager {
        AuthManager {
            codex_home,
            issuer,
            tokens: tokio::sync::Mutex::new(tokens),
        }
    }

    /// The bearer for the next request, renewed first when it expires within a minute.
    pub async fn bearer(&self) -> Result<Bearer, LoginError> {
        let mut tokens = self.tokens.lock().await;
        if expiring(&tokens.access_token) {
            tracing::info!("access token expires soon; renewing it");
            *tokens = self.renew(&tokens).await?;
        }
        Ok(bearer(&tokens))
    }

    /// Renews the tokens after the provider refused `rejected`; when another request has
    /// renewed them meanwhile, their current bearer is returned without asking again.
    pub async fn refresh_after_unauthorized(
        &self,
        rejected: &Bearer,
    ) -> Result<Bearer, LoginError> {
        let mut tokens = self.tokens.lock().await;
        if tokens.access_token == rejected.token {
            tracing::info!("the provider refused the access token; renewing it");
            *tokens = self.renew(&tokens).await?;
        }
        Ok(bearer(&tokens))
    }

    async fn renew(&self, current: &TokenData) -> Result<TokenData, LoginError> {
        // Another codex process may have renewed them already; refresh tokens are single-use,
        // so asking again with ours would fail.
        if let Ok(Some(AuthDotJson {
            tokens: Some(on_disk),
            ..
        })) = storage::load(&self.codex_home)
            && on_disk.access_token != current.access_token
            && !expiring(&on_disk.access_token)
        {
            tracing::info!("using the tokens another codex renewed");
            return Ok(on_disk);
        }
        let renewed = self.issuer.refresh(current).await?;
        // Keep whatever else the file holds (an API key stored with the tokens).
        let mut auth = match storage::load(&self.codex_home) {
            Ok(Some(auth)) => auth,
            _ => AuthDotJson::chatgpt(renewed.clone()),
        };
        auth.auth_mode = Some(crate::AuthMode::ChatGpt);
        auth.tokens = Some(renewed.clone());
        auth.last_refresh = Some(crate::time::rfc3339(crate::time::now_secs()));
        storage::save(&self.codex_home, &auth)?;
        Ok(renewed)
    }
}

/// Whether `access_token` expires within [`EARLY`] (a token without `exp` never does).
fn expiring(access_token: &str) -> bool {
    crate::jwt::claims(access_token)
        .and_then(|c| c.exp)
        .is_some_and(|exp| exp - crate::time::now_secs() < EARLY)
}

fn bearer(tokens: &TokenData) -> Bearer {
    Bearer {
        token: tokens.access_token.clone(),
        account_id: tokens.account_id.clone(),
    }
}
