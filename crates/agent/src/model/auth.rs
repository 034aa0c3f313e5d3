//! How a request is signed: with the signed-in ChatGPT account when the client has one (its
//! access token, renewed before it expires, and its account id header), else with the API key.

use super::{ModelClient, ModelError};

/// What a request was signed with.
pub(super) struct Signed {
    /// The ChatGPT bearer, when the account signed it.
    bearer: Option<codex_login::Bearer>,
    /// The secret sent, to scrub from error messages.
    pub(super) secret: Option<String>,
}

impl ModelClient {
    /// Signs requests in with this ChatGPT account (its access token, renewed before it
    /// expires and once after a 401, and its account id header) instead of an API key.
    pub fn with_chatgpt_auth(mut self, auth: std::sync::Arc<codex_login::AuthManager>) -> Self {
        self.chatgpt = Some(auth);
        self
    }

    /// Adds the credentials to `request`.
    pub(super) async fn sign(
        &self,
        mut request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::RequestBuilder, Signed), ModelError> {
        if let Some(auth) = &self.chatgpt {
            let bearer = auth.bearer().await.map_err(ModelError::SignIn)?;
            request = request.bearer_auth(&bearer.token);
            if let Some(account) = &bearer.account_id {
                request = request.header(codex_login::ACCOUNT_ID_HEADER, account);
            }
            let secret = Some(bearer.token.clone());
            return Ok((
                request,
                Signed {
                    bearer: Some(bearer),
                    secret,
                },
            ));
        }
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let signed = Signed {
            bearer: None,
            secret: self.api_key.clone(),
        };
        Ok((request, signed))
    }

    /// After a 401 to a request the ChatGPT account signed: renews its token (an access token
    /// revoked or expired early) and says the request is worth sending again. `false` for an
    /// API key, which renewing cannot fix.
    pub(super) async fn renew_after_401(&self, signed: &Signed) -> Result<bool, ModelError> {
        let (Some(auth), Some(bearer)) = (&self.chatgpt, &signed.bearer) else {
            return Ok(false);
        };
        auth.refresh_after_unauthorized(bearer)
            .await
            .map_err(ModelError::SignIn)?;
        Ok(true)
    }
}
