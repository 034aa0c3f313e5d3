//! The issuer's OAuth endpoints, as Codex 0.169 uses them: `/oauth/authorize` (browser),
//! `/oauth/token` (authorization_code and refresh_token grants) and the device-code endpoints
//! under `/api/accounts/deviceauth/` ([`crate::device`]).

use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;
use sha2::Digest as _;

use crate::error::chain;
use crate::{LoginError, TokenData};

/// The scopes the browser flow asks for.
const SCOPES: &str = "openid profile email offline_access";

/// The most of one issuer answer codex reads: token sets are a few KiB, and a server that sends
/// more (a hostile or broken one) must not grow codex's memory without bound.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The body of `response`, refused once it passes [`MAX_ANSWER_BYTES`] (whether or not its
/// length was announced).
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    url: &str,
    what: &'static str,
) -> Result<String, LoginError> {
    let too_large = || {
        LoginError::BadAnswer(format!(
            "{what}: the answer is larger than {MAX_ANSWER_BYTES} bytes"
        ))
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| LoginError::Unreachable {
            url: url.to_string(),
            detail: chain(&e.without_url()),
        })?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// An OAuth issuer: its base URL, the client id codex signs in as, and an HTTP client.
#[derive(Debug, Clone)]
pub struct Issuer {
    base: String,
    client_id: String,
    http: reqwest::Client,
}

/// A PKCE pair (RFC 7636, S256). The verifier stays in codex; the challenge goes in the URL.
#[derive(Clone)]
pub struct Pkce {
    /// The secret, sent with the code exchange.
    pub verifier: String,
    /// BASE64URL(SHA-256(verifier)).
    pub challenge: String,
}

impl std::fmt::Debug for Pkce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkce")
            .field("verifier", &"<redacted>")
            .field("challenge", &self.challenge)
            .finish()
    }
}

impl Pkce {
    /// A fresh random pair.
    pub fn generate() -> Result<Pkce, LoginError> {
        let verifier = random_b64(64)?;
        Ok(Pkce {
            challenge: s256(&verifier),
            verifier,
        })
    }
}

/// BASE64URL-no-pad(SHA-256(`verifier`)), the S256 code challenge.
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// `n` random bytes, base64url without padding: PKCE verifiers and `state`.
pub fn random_b64(n: usize) -> Result<String, LoginError> {
    let mut b = vec![0u8; n];
    // Without randomness PKCE and state protect nothing: refuse rather than go on.
    getrandom::fill(&mut b)
        .map_err(|e| LoginError::BadAnswer(format!("the system has no randomness: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

/// What the token endpoint answers.
#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
}

impl Issuer {
    /// The issuer at `base` (e.g. `https://auth.openai.com`), signing in as `client_id`.
    pub fn new(base: &str, client_id: &str) -> Result<Issuer, LoginError> {
        let base = base.trim_end_matches('/').to_string();
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("codex/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(30))
            .timeout(Duration::from_secs(60));
        if is_loopback(&base) {
            // A local issuer (tests, a proxy on this machine) is never behind the user's proxy.
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|e| {
            LoginError::BadAnswer(format!("cannot build the HTTP client: {}", chain(&e)))
        })?;
        Ok(Issuer {
            base,
            client_id: client_id.to_string(),
            http,
        })
    }

    /// The base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The browser's sign-in URL.
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        pkce: &Pkce,
        state: &str,
    ) -> Result<String, LoginError> {
        let mut url =
            reqwest::Url::parse(&format!("{}/oauth/authorize", self.base)).map_err(|e| {
                LoginError::BadAnswer(format!("auth_issuer `{}` is not a URL: {e}", self.base))
            })?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", state)
            .append_pair("scope", SCOPES)
            .append_pair("id_token_add_organizations", "true")
            .append_pair("codex_cli_simplified_flow", "true")
            .append_pair("originator", "codex_cli_rs");
        Ok(url.to_string())
    }

    /// Exchanges an authorization code (authorization_code grant, with the PKCE verifier).
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<TokenData, LoginError> {
        let url = format!("{}/oauth/token", self.base);
        let request = self.http.post(&url).form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", &self.client_id),
            ("code_verifier", verifier),
        ]);
        let answer: TokenAnswer = self.send(request, &url, "the token request").await?;
        let (Some(id_token), Some(access_token), Some(refresh_token)) =
            (answer.id_token, answer.access_token, answer.refresh_token)
        else {
            return Err(LoginError::BadAnswer(
                "the token answer lacks id_token, access_token or refresh_token".into(),
            ));
        };
        Ok(tokens(id_token, access_token, refresh_token))
    }

    /// Renews `current` (refresh_token grant); fields the issuer leaves out are kept.
    pub async fn refresh(&self, current: &TokenData) -> Result<TokenData, LoginError> {
        if current.refresh_token.is_empty() {
            return Err(LoginError::CannotRefresh);
        }
        let url = format!("{}/oauth/token", self.base);
        let request = self.http.post(&url).json(&serde_json::json!({
            "client_id": self.client_id,
            "grant_type": "refresh_token",
            "refresh_token": current.refresh_token,
            "scope": "openid profile email",
        }));
        let answer: TokenAnswer = match self.send(request, &url, "the token refresh").await {
            // Revoked, expired or already used: only a new sign-in helps.
            Err(LoginError::Issuer {
                status: 400 | 401, ..
            }) => return Err(LoginError::CannotRefresh),
            other => other?,
        };
        let mut renewed = tokens(
            answer.id_token.unwrap_or_else(|| current.id_token.clone()),
            answer.access_token.ok_or_else(|| {
                LoginError::BadAnswer("the refresh answer has no access_token".into())
            })?,
            answer
                .refresh_token
                .unwrap_or_else(|| current.refresh_token.clone()),
        );
        if renewed.account_id.is_none() {
            renewed.account_id = current.account_id.clone();
        }
        Ok(renewed)
    }

    /// Sends `request` and decodes a 2xx JSON answer; any other answer is
    /// [`LoginError::Issuer`] with only the answer's `error` fields.
    pub(crate) async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
        what: &'static str,
    ) -> Result<T, LoginError> {
        let response = request.send().await.map_err(|e| LoginError::Unreachable {
            url: url.to_string(),
            detail: chain(&e.without_url()),
        })?;
        let status = response.status().as_u16();
        let text = read_capped(response, url, what).await?;
        if !(200..300).contains(&status) {
            return Err(LoginError::Issuer {
                what,
                status,
                detail: error_detail(&text),
            });
        }
        serde_json::from_str(&text).map_err(|e| LoginError::BadAnswer(format!("{what}: {e}")))
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }
}

/// Tokens with the account id read from the ID token (else the access token).
fn tokens(id_token: String, access_token: String, refresh_token: String) -> TokenData {
    let account_id = crate::jwt::claims(&id_token)
        .and_then(|c| c.account_id)
        .or_else(|| crate::jwt::claims(&access_token).and_then(|c| c.account_id));
    TokenData {
        id_token,
        access_token,
        refresh_token,
        account_id,
    }
}

/// `error` and `error_description` of an OAuth error body, and nothing else from it (a body
/// could echo a token back).
pub(crate) fn error_detail(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let field = |name: &str| {
        v.get(name)
            .and_then(|e| {
                e.as_str().map(str::to_string).or_else(|| {
                    e.get("message")
                        .and_then(|m| m.as_str())
                        .map(str::to_string)
                })
            })
            .map(|s| s.chars().take(200).collect::<String>())
    };
    match (field("error"), field("error_description")) {
        (Some(e), Some(d)) => format!("{e} ({d})"),
        (Some(e), None) => e,
        _ => "no error detail".to_string(),
    }
}

/// The OAuth `error` code of a body, if it has one.
pub(crate) fn error_code(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let e = v.get("error")?;
    e.as_str()
        .or_else(|| e.get("code").and_then(|c| c.as_str()))
        .map(str::to_string)
}

fn is_loopback(url: &str) -> bool {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .is_some_and(|h| h == "localhost" || h == "127.0.0.1" || h == "[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_the_rfc_7636_s256_of_the_verifier() {
        // RFC 7636, appendix B.
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn the_authorize_url_carries_pkce_state_and_the_redirect() {
        let issuer = Issuer::new("http://127.0.0.1:9/", "client").expect("issuer");
        let pkce = Pkce::generate().expect("pkce");
        let url = issuer
            .authorize_url("http://127.0.0.1:1455/auth/callback", &pkce, "st")
            .expect("url");
        let parsed = reqwest::Url::parse(&url).expect("url");
        assert_eq!(parsed.path(), "/oauth/authorize");
        let q: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
        assert_eq!(q["code_challenge"], pkce.challenge);
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["state"], "st");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:1455/auth/callback");
        assert!(!url.contains(&pkce.verifier));
    }
}
