//! Where to connect: a fixed WebSocket endpoint, or an environment registry that hands one out.
//!
//! The registry protocol: `POST <base>/environments/<id>/connect` (with `Authorization: Bearer`
//! when the connector has a registry token) answers `200 {"url": "ws://…", "token": "…"}`:
//! `url` is the exec-server to open, `token` (optional, may be null) the bearer token for it.
//! While the environment is starting it answers `409 {"code": "environment_offline"}` (also
//! accepted as `{"error": {"code": …}}`), which is retried like 5xx, 408, 429, timeouts and
//! connection failures; [`classify_registry_failure`] is the one place that decides.

use std::time::Duration;

use serde::Deserialize;

use super::error::ClientError;
use super::recovery::Failure;

/// A WebSocket exec-server address and the bearer token it wants.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Endpoint {
    /// `ws://HOST:PORT` (TLS `wss://` is not supported by this build).
    pub url: String,
    /// Sent as `Authorization: Bearer <token>`.
    #[serde(default)]
    pub token: Option<String>,
}

/// Tokens never reach logs: `Debug` says only whether there is one.
impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// How a client finds its exec-server, each time it (re)connects.
#[derive(Debug, Clone)]
pub enum Connector {
    /// Always this endpoint.
    WebSocket(Endpoint),
    /// Ask an environment registry for the endpoint.
    Registry(RegistryConnector),
}

impl Connector {
    /// A fixed WebSocket endpoint.
    pub fn websocket(url: impl Into<String>, token: Option<String>) -> Self {
        Connector::WebSocket(Endpoint {
            url: url.into(),
            token,
        })
    }

    /// The endpoint to use for the next attempt.
    pub(crate) async fn endpoint(&self) -> Result<Endpoint, Failure> {
        match self {
            Connector::WebSocket(e) => Ok(e.clone()),
            Connector::Registry(r) => r.request_endpoint().await,
        }
    }
}

/// An environment registry client for one environment.
#[derive(Clone)]
pub struct RegistryConnector {
    base_url: String,
    environment_id: String,
    registry_token: Option<String>,
    http: reqwest::Client,
}

impl std::fmt::Debug for RegistryConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryConnector")
            .field("base_url", &self.base_url)
            .field("environment_id", &self.environment_id)
            .field(
                "registry_token",
                &self.registry_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl RegistryConnector {
    /// Connects environment `environment_id` through the registry at `base_url`
    /// (`http://host:port`, optionally with a path prefix). Each request times out after 10 s.
    pub fn new(
        base_url: impl Into<String>,
        environment_id: impl Into<String>,
    ) -> Result<Self, ClientError> {
        let environment_id = environment_id.into();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ClientError::Registry {
                environment: environment_id.clone(),
                reason: format!("cannot build an HTTP client: {e}"),
            })?;
        Ok(RegistryConnector {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            environment_id,
            registry_token: None,
            http,
        })
    }

    /// Sends `Authorization: Bearer <token>` to the registry.
    pub fn with_registry_token(mut self, token: impl Into<String>) -> Self {
        self.registry_token = Some(token.into());
        self
    }

    /// The environment this connector connects.
    pub fn environment_id(&self) -> &str {
        &self.environment_id
    }

    async fn request_endpoint(&self) -> Result<Endpoint, Failure> {
        let env = &self.environment_id;
        let url = format!("{}/environments/{env}/connect", self.base_url);
        let mut req = self.http.post(&url);
        if let Some(t) = &self.registry_token {
            req = req.bearer_auth(t);
        }
        let failure = |f: RegistryFailure<'_>, reason: String| {
            let e = ClientError::Registry {
                environment: env.clone(),
                reason,
            };
            match classify_registry_failure(&f) {
                RetryDecision::Retry => Failure::Retry(e),
                RetryDecision::Terminal => Failure::Stop(e),
            }
        };
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Err(failure(RegistryFailure::Timeout, e.to_string()));
            }
            Err(e) if e.is_connect() => {
                return Err(failure(RegistryFailure::Connect, e.to_string()));
            }
            Err(e) => return Err(failure(RegistryFailure::Other, e.to_string())),
        };
        let status = resp.status().as_u16();
        let body = match resp.text().await {
            Ok(b) => b,
            Err(e) if e.is_timeout() => {
                return Err(failure(RegistryFailure::Timeout, e.to_string()));
            }
            Err(e) => return Err(failure(RegistryFailure::Connect, e.to_string())),
        };
        if (200..300).contains(&status) {
            return serde_json::from_str::<Endpoint>(&body).map_err(|e| {
                Failure::Stop(ClientError::Registry {
                    environment: env.clone(),
                    reason: format!("HTTP {status} body is not {{\"url\", \"token\"}}: {e}"),
                })
            });
        }
        let f = RegistryFailure::Status {
            status,
            body: &body,
        };
        match classify_registry_failure(&f) {
            RetryDecision::Retry => Err(Failure::Retry(ClientError::Registry {
                environment: env.clone(),
                reason: format!("HTTP {status}{}", code_suffix(error_code(&body))),
            })),
            RetryDecision::Terminal => Err(Failure::Stop(ClientError::RegistryRefused {
                environment: env.clone(),
                status,
                code: error_code(&body),
            })),
        }
    }
}

fn code_suffix(code: Option<String>) -> String {
    code.map(|c| format!(" ({c})")).unwrap_or_default()
}

/// A failed registry request, as [`classify_registry_failure`] sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryFailure<'a> {
    /// The TCP connection could not be made or broke.
    Connect,
    /// The request timed out.
    Timeout,
    /// Any other client-side failure (bad URL, redirect loop, ...).
    Other,
    /// The registry answered with a non-2xx status.
    Status {
        /// HTTP status.
        status: u16,
        /// The response body.
        body: &'a str,
    },
}

/// Whether to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Transient: back off and retry until the deadline.
    Retry,
    /// Permanent: fail now.
    Terminal,
}

/// The one retry rule for registry requests: connection errors, timeouts, 5xx, 408, 429 and
/// `409 environment_offline` are retried; everything else (other 409s, 400, 401, 403, 404, ...)
/// is terminal.
pub fn classify_registry_failure(failure: &RegistryFailure<'_>) -> RetryDecision {
    match *failure {
        RegistryFailure::Connect | RegistryFailure::Timeout => RetryDecision::Retry,
        RegistryFailure::Other => RetryDecision::Terminal,
        RegistryFailure::Status { status, body } => match status {
            500..=599 | 408 | 429 => RetryDecision::Retry,
            409 if error_code(body).as_deref() == Some("environment_offline") => {
                RetryDecision::Retry
            }
            _ => RetryDecision::Terminal,
        },
    }
}

/// The `code` of a JSON error body: `{"code": …}` or `{"error": {"code": …}}`.
fn error_code(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let code = v.get("code").or_else(|| v.get("error")?.get("code"))?;
    code.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, body: &str) -> RetryDecision {
        classify_registry_failure(&RegistryFailure::Status { status, body })
    }

    #[test]
    fn transient_failures_are_retried() {
        use RetryDecision::Retry;
        assert_eq!(classify_registry_failure(&RegistryFailure::Connect), Retry);
        assert_eq!(classify_registry_failure(&RegistryFailure::Timeout), Retry);
        for s in [500, 502, 503, 504, 599, 408, 429] {
            assert_eq!(status(s, ""), Retry, "{s}");
        }
        assert_eq!(status(409, r#"{"code":"environment_offline"}"#), Retry);
        assert_eq!(
            status(
                409,
                r#"{"error":{"code":"environment_offline","message":"x"}}"#
            ),
            Retry
        );
    }

    #[test]
    fn everything_else_is_terminal() {
        use RetryDecision::Terminal;
        assert_eq!(classify_registry_failure(&RegistryFailure::Other), Terminal);
        assert_eq!(status(409, r#"{"code":"environment_deleted"}"#), Terminal);
        assert_eq!(status(409, "not json"), Terminal);
        assert_eq!(status(409, r#"{"code":409}"#), Terminal);
        for s in [400, 401, 403, 404, 410, 422] {
            assert_eq!(
                status(s, r#"{"code":"environment_offline"}"#),
                Terminal,
                "{s}"
            );
        }
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let e = Endpoint {
            url: "ws://127.0.0.1:1".into(),
            token: Some("s3cret".into()),
        };
        let r = RegistryConnector::new("http://127.0.0.1:1", "env")
            .expect("client")
            .with_registry_token("s3cret");
        let shown = format!("{e:?} {r:?} {:?}", Connector::WebSocket(e.clone()));
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn error_codes_are_read_from_either_shape() {
        assert_eq!(error_code(r#"{"code":"a"}"#).as_deref(), Some("a"));
        assert_eq!(
            error_code(r#"{"error":{"code":"b"}}"#).as_deref(),
            Some("b")
        );
        assert_eq!(error_code(r#"{"error":"c"}"#), None);
    }
}
