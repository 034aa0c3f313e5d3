//! The HTTP side of rmcp's streamable-HTTP transport, on the workspace's reqwest 0.12.
//!
//! rmcp ships this client for reqwest 0.13 only, and 0.13's TLS stack (rustls-platform-verifier)
//! needs a macOS SDK to link for aarch64-apple-darwin, which the release build does not have. The
//! transport itself (sessions, SSE resumption, the worker) stays rmcp's; this file only turns its
//! requests into HTTP.
//!
//! Every body read is bounded by the transport's limits before it is parsed, so a server cannot
//! make the agent buffer without end.

use std::borrow::Cow;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::stream::{BoxStream, Stream, StreamExt};
use http::{HeaderName, HeaderValue, StatusCode, header};
use rmcp::model::{ClientJsonRpcMessage, JsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_client::{
    AuthRequiredError, HttpStatusError, SseError, StreamableHttpClient, StreamableHttpError,
    StreamableHttpPostResponse, StreamableHttpResponseLimits,
};
use sse_stream::{Sse, SseStream};

const SESSION_ID: &str = "mcp-session-id";
const LAST_EVENT_ID: &str = "last-event-id";
const EVENT_STREAM: &str = "text/event-stream";
const JSON: &str = "application/json";
const ACCEPT_BOTH: &str = "text/event-stream, application/json";

/// The transport's default limit on one SSE event, for the calls that do not pass one.
const DEFAULT_MAX_EVENT: usize = 16 * 1024 * 1024;

type Error = StreamableHttpError<reqwest::Error>;

/// A reqwest client that speaks the streamable-HTTP side of MCP for rmcp's transport.
#[derive(Debug, Clone)]
pub struct McpHttp(pub reqwest::Client);

impl McpHttp {
    /// A client that follows no redirects: a redirected POST would lose its body or carry the
    /// bearer token and session to another host, so the server's URL must be the final one.
    pub fn new(connect_timeout: std::time::Duration) -> Result<McpHttp, reqwest::Error> {
        reqwest::Client::builder()
            .user_agent(concat!("codex/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .min_tls_version(reqwest::tls::Version::TLS_1_2)
            .build()
            .map(McpHttp)
    }

    fn request(
        &self,
        method: reqwest::Method,
        uri: &str,
        session: Option<&str>,
        auth: Option<String>,
        headers: HashMap<HeaderName, HeaderValue>,
    ) -> reqwest::RequestBuilder {
        let mut req = self.0.request(method, uri);
        for (name, value) in headers {
            req = req.header(name, value);
        }
        if let Some(session) = session {
            req = req.header(SESSION_ID, session);
        }
        if let Some(token) = auth {
            req = req.bearer_auth(token);
        }
        req
    }
}

fn media_type_is(value: Option<&HeaderValue>, want: &str) -> bool {
    value
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(want))
}

/// A 401 or 403 as rmcp's auth error, so its message names the challenge.
fn auth_error(resp: &reqwest::Response) -> Option<Error> {
    let status = resp.status();
    if status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN {
        return None;
    }
    let challenge = resp
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    Some(StreamableHttpError::AuthRequired(AuthRequiredError::new(
        format!("HTTP {status} {challenge}").trim_end().to_owned(),
    )))
}

fn status_error(resp: &reqwest::Response) -> Option<HttpStatusError> {
    let status = resp.status();
    (status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()).then(|| {
        let retry_after = resp
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        HttpStatusError::new(status.as_u16(), retry_after)
    })
}

/// Reads at most `limit` bytes of the body. `Err(true)` when it is longer.
async fn read_body(resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, Error> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(StreamableHttpError::ResponseBodyTooLarge { max_size: limit });
    }
    let mut body = Vec::new();
    let mut chunks = resp.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(StreamableHttpError::Client)?;
        if body.len() + chunk.len() > limit {
            return Err(StreamableHttpError::ResponseBodyTooLarge { max_size: limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The first `limit` bytes of an error body, as text for a message; the rest is not read.
async fn body_prefix(resp: reqwest::Response, limit: usize) -> String {
    let mut body = Vec::new();
    let mut chunks = resp.bytes_stream();
    while body.len() < limit {
        match chunks.next().await {
            Some(Ok(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(limit);
    String::from_utf8_lossy(&body).trim().to_owned()
}

/// The SSE events of a response, failing once one event grows past `max_event` bytes.
fn sse_events(
    resp: reqwest::Response,
    max_event: usize,
) -> BoxStream<'static, Result<Sse, SseError>> {
    let bytes = EventSizeLimit {
        inner: resp.bytes_stream().boxed(),
        max: max_event,
        event: 0,
        line: 0,
        after_cr: false,
        failed: false,
    };
    SseStream::from_bytes_stream(bytes).boxed()
}

/// Why the SSE byte stream ended early.
#[derive(Debug, thiserror::Error)]
enum SseBytesError {
    #[error("an SSE event is larger than {0} bytes")]
    TooLarge(usize),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

/// Counts the bytes of the SSE event being received (an event ends at an empty line).
struct EventSizeLimit {
    inner: BoxStream<'static, reqwest::Result<Bytes>>,
    max: usize,
    event: usize,
    line: usize,
    after_cr: bool,
    failed: bool,
}

impl EventSizeLimit {
    fn observe(&mut self, chunk: &[u8]) -> bool {
        for &b in chunk {
            match b {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    if self.line == 0 {
                        self.event = 0;
                    }
                    self.line = 0;
                    self.after_cr = b == b'\r';
                }
                _ => {
                    self.after_cr = false;
                    self.line += 1;
                    self.event += 1;
                    if self.event > self.max {
                        return false;
                    }
                }
            }
        }
        true
    }
}

impl Stream for EventSizeLimit {
    type Item = Result<Bytes, SseBytesError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(None);
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if self.observe(&chunk) {
                    Poll::Ready(Some(Ok(chunk)))
                } else {
                    self.failed = true;
                    Poll::Ready(Some(Err(SseBytesError::TooLarge(self.max))))
                }
            }
            Poll::Ready(Some(Err(e))) => {
                self.failed = true;
                Poll::Ready(Some(Err(e.into())))
            }
            other => other.map(|_| None),
        }
    }
}

/// One line for the user about a failed exchange, without rmcp's type names.
pub fn explain(e: &Error, with_token: bool) -> String {
    match e {
        StreamableHttpError::Client(e) => {
            let mut root: &dyn std::error::Error = e;
            while let Some(next) = root.source() {
                root = next;
            }
            if e.is_connect() {
                format!("cannot connect ({root})")
            } else if e.is_timeout() {
                "the request timed out".to_owned()
            } else if std::ptr::addr_eq(root, e as &dyn std::error::Error) {
                e.to_string()
            } else {
                format!("{e}: {root}")
            }
        }
        StreamableHttpError::AuthRequired(a) => {
            let said = a.www_authenticate_header.as_str();
            if with_token {
                format!(
                    "the server refused the bearer token ({said}); check the variable named by bearer_token_env_var"
                )
            } else {
                format!(
                    "the server wants credentials ({said}); set bearer_token_env_var to a variable holding a token"
                )
            }
        }
        other => other.to_string(),
    }
}

impl StreamableHttpClient for McpHttp {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, Error> {
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            StreamableHttpResponseLimits::default(),
        )
        .await
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<StreamableHttpPostResponse, Error> {
        let mut limits = StreamableHttpResponseLimits::default();
        limits.max_sse_event_size = max_sse_event_size;
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            limits,
        )
        .await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, Error> {
        let body = serde_json::to_vec(&message)?;
        let resp = self
            .request(
                reqwest::Method::POST,
                &uri,
                session_id.as_deref(),
                auth_header,
                custom_headers,
            )
            .header(header::ACCEPT, ACCEPT_BOTH)
            .header(header::CONTENT_TYPE, JSON)
            .body(body)
            .send()
            .await
            .map_err(StreamableHttpError::Client)?;
        if let Some(e) = auth_error(&resp) {
            return Err(e);
        }
        let status = resp.status();
        if status == StatusCode::ACCEPTED || status == StatusCode::NO_CONTENT {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if status == StatusCode::NOT_FOUND && session_id.is_some() {
            return Err(StreamableHttpError::SessionExpired);
        }
        // Notifications and replies leave nothing to wait for: whatever 2xx body comes back
        // (servers differ: empty 200, `{}`, no content type) means accepted.
        let awaits_nothing = !matches!(message, JsonRpcMessage::Request(_));
        let content_type = resp.headers().get(header::CONTENT_TYPE).cloned();
        let is_json = media_type_is(content_type.as_ref(), JSON);
        let session = resp
            .headers()
            .get(SESSION_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if !status.is_success() {
            let overload = status_error(&resp);
            if is_json && status != StatusCode::TOO_MANY_REQUESTS {
                // A JSON-RPC error in a failed response is the server's answer to the request.
                if let Ok(body) = read_body(resp, limits.max_json_response_size).await {
                    if let Ok(m @ JsonRpcMessage::Error(_)) =
                        serde_json::from_slice::<ServerJsonRpcMessage>(&body)
                    {
                        return Ok(StreamableHttpPostResponse::Json(m, session));
                    }
                    if let Some(e) = overload {
                        return Err(e.into());
                    }
                    let text = String::from_utf8_lossy(&body);
                    let text: String = text.chars().take(limits.max_error_response_size).collect();
                    return Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
                        format!("HTTP {status}: {}", text.trim()),
                    )));
                }
                return Err(overload.map(Into::into).unwrap_or(
                    StreamableHttpError::ResponseBodyTooLarge {
                        max_size: limits.max_json_response_size,
                    },
                ));
            }
            if let Some(e) = overload {
                return Err(e.into());
            }
            let text = body_prefix(resp, limits.max_error_response_size).await;
            return Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
                format!("HTTP {status}: {text}"),
            )));
        }
        if media_type_is(content_type.as_ref(), EVENT_STREAM) {
            return Ok(StreamableHttpPostResponse::Sse(
                sse_events(resp, limits.max_sse_event_size),
                session,
            ));
        }
        if is_json {
            let body = read_body(resp, limits.max_json_response_size).await?;
            return match serde_json::from_slice::<ServerJsonRpcMessage>(&body) {
                Ok(m) => Ok(StreamableHttpPostResponse::Json(m, session)),
                Err(_) if awaits_nothing => Ok(StreamableHttpPostResponse::Accepted),
                Err(e) => Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
                    format!("the response is not JSON-RPC ({e})"),
                ))),
            };
        }
        if awaits_nothing {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        Err(StreamableHttpError::UnexpectedContentType(
            content_type.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        ))
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), Error> {
        let resp = self
            .request(
                reqwest::Method::DELETE,
                &uri,
                Some(&session_id),
                auth_header,
                custom_headers,
            )
            .send()
            .await
            .map_err(StreamableHttpError::Client)?;
        if resp.status() == StatusCode::METHOD_NOT_ALLOWED {
            // The server keeps sessions until they expire; nothing to do.
            return Ok(());
        }
        resp.error_for_status()
            .map(drop)
            .map_err(StreamableHttpError::Client)
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, Error> {
        self.get_stream_with_max_sse_event_size(
            uri,
            session_id,
            last_event_id,
            auth_header,
            custom_headers,
            DEFAULT_MAX_EVENT,
        )
        .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, Error> {
        let mut req = self
            .request(
                reqwest::Method::GET,
                &uri,
                session_id.as_deref(),
                auth_header,
                custom_headers,
            )
            .header(header::ACCEPT, ACCEPT_BOTH);
        if let Some(id) = last_event_id {
            req = req.header(LAST_EVENT_ID, id);
        }
        let resp = req.send().await.map_err(StreamableHttpError::Client)?;
        if resp.status() == StatusCode::METHOD_NOT_ALLOWED {
            return Err(StreamableHttpError::ServerDoesNotSupportSse);
        }
        if let Some(e) = auth_error(&resp) {
            return Err(e);
        }
        if let Some(e) = status_error(&resp) {
            return Err(e.into());
        }
        let resp = resp
            .error_for_status()
            .map_err(StreamableHttpError::Client)?;
        let content_type = resp.headers().get(header::CONTENT_TYPE);
        if !media_type_is(content_type, EVENT_STREAM) && !media_type_is(content_type, JSON) {
            return Err(StreamableHttpError::UnexpectedContentType(
                content_type.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            ));
        }
        Ok(sse_events(resp, max_sse_event_size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(max: usize) -> EventSizeLimit {
        EventSizeLimit {
            inner: futures_util::stream::empty().boxed(),
            max,
            event: 0,
            line: 0,
            after_cr: false,
            failed: false,
        }
    }

    #[test]
    fn each_event_is_counted_on_its_own_whatever_the_line_endings() {
        for sep in ["\n", "\r", "\r\n"] {
            let mut l = limit(10);
            let event = format!("data: 1234{sep}{sep}");
            for _ in 0..100 {
                assert!(l.observe(event.as_bytes()), "{sep:?}");
            }
            // Two lines of one event count together.
            let two = format!("data: 12{sep}data: 34{sep}");
            assert!(!l.observe(two.as_bytes()), "{sep:?}");
        }
    }

    #[test]
    fn an_event_split_across_chunks_is_still_one_event() {
        let mut l = limit(12);
        assert!(l.observe(b"data: 12"));
        assert!(l.observe(b"3456\r"));
        assert!(l.observe(b"\n\r\n"));
        assert!(l.observe(b"data: 123456\n\n"));
        assert!(!l.observe(b"data: 1234567\n\n"));
    }
}
