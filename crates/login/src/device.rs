//! The device-code flow, as Codex 0.169 runs it: ask the issuer for a user code
//! (`/api/accounts/deviceauth/usercode`), show it with the URL to enter it at, poll
//! `/api/accounts/deviceauth/token` at the issuer's interval until the user has entered it,
//! then exchange the authorization code it yields like the browser flow does.
//!
//! While the user has not finished, the issuer answers 403 or 404 (as 0.169's issuer does) or
//! an RFC 8628 `authorization_pending`; `slow_down` adds 5 s to the interval; `expired_token`,
//! or 15 minutes without an answer, ends with [`LoginError::DeviceCodeExpired`];
//! `access_denied` with [`LoginError::Denied`].

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::error::chain;
use crate::oauth::{Issuer, error_code, error_detail};
use crate::{AuthDotJson, LoginError, storage};

/// How long a device code lives when the issuer does not end it sooner.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// What `slow_down` adds to the interval (RFC 8628, 3.5).
const SLOW_DOWN: Duration = Duration::from_secs(5);

/// A user code to show.
#[derive(Clone)]
pub struct DeviceCode {
    /// Where the user enters the code.
    pub verification_url: String,
    /// The code to enter.
    pub user_code: String,
    device_auth_id: String,
    interval: Duration,
}

impl std::fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCode")
            .field("verification_url", &self.verification_url)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct UserCodeAnswer {
    device_auth_id: String,
    #[serde(alias = "usercode")]
    user_code: String,
    #[serde(default)]
    interval: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct CodeAnswer {
    authorization_code: String,
    code_verifier: String,
}

/// Asks the issuer for a user code.
pub async fn request_code(issuer: &Issuer) -> Result<DeviceCode, LoginError> {
    let url = format!("{}/api/accounts/deviceauth/usercode", issuer.base());
    let request = issuer
        .http()
        .post(&url)
        .json(&serde_json::json!({"client_id": issuer.client_id()}));
    let answer: UserCodeAnswer = issuer
        .send(request, &url, "the device code request")
        .await?;
    // 0.169's issuer sends the interval as a string of seconds.
    let secs = match &answer.interval {
        Some(serde_json::Value::String(s)) => s.trim().parse().unwrap_or(5),
        Some(v) => v.as_u64().unwrap_or(5),
        None => 5,
    };
    Ok(DeviceCode {
        verification_url: format!("{}/codex/device", issuer.base()),
        user_code: answer.user_code,
        device_auth_id: answer.device_auth_id,
        interval: Duration::from_secs(secs),
    })
}

/// Polls until the user has entered `code`, then exchanges it and saves the tokens.
pub async fn finish(
    issuer: &Issuer,
    code: &DeviceCode,
    codex_home: &Path,
) -> Result<AuthDotJson, LoginError> {
    let url = format!("{}/api/accounts/deviceauth/token", issuer.base());
    let start = Instant::now();
    let mut interval = code.interval;
    let answer = loop {
        let response = issuer
            .http()
            .post(&url)
            .json(&serde_json::json!({
                "device_auth_id": code.device_auth_id,
                "user_code": code.user_code,
            }))
            .send()
            .await
            .map_err(|e| LoginError::Unreachable {
                url: url.clone(),
                detail: chain(&e.without_url()),
            })?;
        let status = response.status().as_u16();
        let body = crate::oauth::read_capped(response, &url, "the device token answer").await?;
        if (200..300).contains(&status) {
            break serde_json::from_str::<CodeAnswer>(&body)
                .map_err(|e| LoginError::BadAnswer(format!("the device token answer: {e}")))?;
        }
        match error_code(&body).as_deref() {
            Some("slow_down") => interval += SLOW_DOWN,
            Some("authorization_pending") => {}
            None if status == 403 || status == 404 => {}
            Some("expired_token") => return Err(LoginError::DeviceCodeExpired),
            Some("access_denied") => {
                return Err(LoginError::Denied {
                    error: "access_denied".into(),
                    description: None,
                });
            }
            _ => {
                return Err(LoginError::Issuer {
                    what: "the device token poll",
                    status,
                    detail: error_detail(&body),
                });
            }
        }
        if start.elapsed() + interval >= MAX_WAIT {
            return Err(LoginError::DeviceCodeExpired);
        }
        tracing::debug!(
            interval_ms = interval.as_millis() as u64,
            "device code pending"
        );
        tokio::time::sleep(interval).await;
    };
    let redirect_uri = format!("{}/deviceauth/callback", issuer.base());
    let tokens = issuer
        .exchange_code(
            &answer.authorization_code,
            &redirect_uri,
            &answer.code_verifier,
        )
        .await?;
    let auth = AuthDotJson::chatgpt(tokens);
    storage::save(codex_home, &auth)?;
    Ok(auth)
}
