//! The model client: sends one turn of the conversation to a model provider and streams the
//! answer back as provider-neutral [`ResponseEvent`]s.
//!
//! It speaks the OpenAI Responses API and Chat Completions (as the provider's `wire_api` says),
//! both streamed as server-sent events. Requests that fail before the stream starts with 429, a
//! 5xx or a network error are retried with backoff (honouring `Retry-After`); once events have
//! started to flow nothing is retried, since the agent may already have shown part of them.

mod auth;
mod chat;
mod error;
mod responses;
mod retry;

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use codex_config::{ModelProvider, WireApi};
use serde::{Deserialize, Serialize};

use crate::sse;

pub use error::ModelError;

/// One entry of the conversation, provider-neutral; also what session logs record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Item {
    /// Text from the user, the assistant or the developer (codex itself).
    Message {
        /// Who says it.
        role: Role,
        /// What they say.
        text: String,
        /// Images attached to a user message (`codex exec -i FILE`). Left out of session logs
        /// when empty, so logs written before images existed read back the same.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        images: Vec<Image>,
    },
    /// The model asks for a tool to be run.
    FunctionCall {
        /// Pairs the call with its [`Item::FunctionCallOutput`].
        call_id: String,
        /// The tool.
        name: String,
        /// The arguments: JSON text as the model sent it (it may not even be valid JSON).
        arguments: String,
    },
    /// What a tool call produced, sent back to the model.
    FunctionCallOutput {
        /// The call this answers.
        call_id: String,
        /// The output text.
        output: String,
    },
}

/// An image attached to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// The file as the user named it, shown to the model beside the image.
    pub path: String,
    /// The image as a `data:MIME;base64,…` URL.
    pub url: String,
}

impl Image {
    /// The text parts around the `n`th image (from 1) of a message, as Codex 0.169 frames it:
    /// the model can tell the images apart and knows which file each is.
    pub fn frame(&self, n: usize) -> (String, &'static str) {
        (
            format!("<image name=[Image #{n}] path={:?}>", self.path),
            "</image>",
        )
    }
}

impl Item {
    /// A message with no images.
    pub fn message(role: Role, text: impl Into<String>) -> Item {
        Item::Message {
            role,
            text: text.into(),
            images: Vec::new(),
        }
    }
}

/// Who a message is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person using codex.
    User,
    /// The model.
    Assistant,
    /// Codex's own messages to the model (context, environment), above the user's.
    Developer,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolSpec {
    /// Its name, as the model will call it.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// The JSON schema of its arguments.
    pub parameters: serde_json::Value,
}

/// Everything sent for one turn.
#[derive(Debug, Clone, Default)]
pub struct Prompt {
    /// The system instructions.
    pub instructions: String,
    /// The conversation so far.
    pub input: Vec<Item>,
    /// The tools on offer.
    pub tools: Vec<ToolSpec>,
    /// A JSON Schema the final answer must follow (`codex exec --output-schema`), sent as the
    /// API's structured-output format.
    pub output_schema: Option<serde_json::Value>,
    /// Offer the provider's own web search tool (`--search`; the Responses API only).
    pub web_search: bool,
}

/// The name the structured-output format is sent under, as Codex 0.169 names it.
pub const OUTPUT_SCHEMA_NAME: &str = "codex_output_schema";

/// One event of a streamed response.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseEvent {
    /// More assistant text, as it streams.
    TextDelta(String),
    /// A summary of the model's reasoning, whole (a `reasoning` output item's summary parts).
    /// Not part of the conversation: it is shown, not sent back.
    ReasoningSummary(String),
    /// A completed output item: an assistant [`Item::Message`] or an [`Item::FunctionCall`].
    Item(Item),
    /// The response is complete; always the last event of a good stream.
    Completed {
        /// The provider's id for the response, if it gave one.
        response_id: Option<String>,
        /// Token counts, if the provider sent them.
        usage: Option<Usage>,
    },
}

/// The context window of the models codex knows, in tokens (`model_context_window` in
/// config.toml names it for others).
pub fn context_window(model: &str) -> Option<u64> {
    let m = model.to_ascii_lowercase();
    let known: &[(&str, u64)] = &[
        ("gpt-5", 272_000),
        ("gpt-4.1", 1_047_576),
        ("gpt-4o", 128_000),
        ("o3", 200_000),
        ("o4-mini", 200_000),
        ("codex-mini", 200_000),
    ];
    known
        .iter()
        .find(|(prefix, _)| m.starts_with(prefix))
        .map(|(_, w)| *w)
}

/// Token counts of one response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens read (the prompt).
    pub input_tokens: u64,
    /// Tokens written (the response, including reasoning).
    pub output_tokens: u64,
    /// Both.
    pub total_tokens: u64,
}

/// How patient the client is.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Retries after the first attempt, for 429, 5xx and network errors (default 4).
    pub max_retries: u32,
    /// The longest wait before a retry, whatever `Retry-After` or the backoff says (default 60 s).
    pub max_retry_delay: Duration,
    /// How long to wait for the response to start, and then for each further piece of the
    /// stream, before giving up (default 300 s: reasoning models can think quietly for minutes).
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            max_retries: 4,
            max_retry_delay: Duration::from_secs(60),
            timeout: Duration::from_secs(300),
        }
    }
}

/// How the model is asked to answer: `model_reasoning_effort`, `model_reasoning_summary` and
/// `model_verbosity`. What is `None` is not sent, so the model's defaults apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelSettings {
    /// `reasoning.effort` (Chat Completions: `reasoning_effort`).
    pub reasoning_effort: Option<String>,
    /// `reasoning.summary` (Responses API only).
    pub reasoning_summary: Option<codex_config::ReasoningSummary>,
    /// `text.verbosity` (Responses API only).
    pub verbosity: Option<codex_config::Verbosity>,
}

impl ModelSettings {
    /// The settings of a loaded configuration.
    pub fn from_config(config: &codex_config::Config) -> Self {
        ModelSettings {
            reasoning_effort: config.model_reasoning_effort.clone(),
            reasoning_summary: config.model_reasoning_summary,
            verbosity: config.model_verbosity,
        }
    }
}

/// A client for one model of one provider.
#[derive(Clone)]
pub struct ModelClient {
    http: reqwest::Client,
    provider_id: String,
    env_key: Option<String>,
    api_key: Option<String>,
    /// The signed-in ChatGPT account, used instead of `api_key` when set.
    chatgpt: Option<std::sync::Arc<codex_login::AuthManager>>,
    base_url: String,
    wire_api: WireApi,
    model: String,
    options: ClientOptions,
    settings: ModelSettings,
}

impl std::fmt::Debug for ModelClient {
    // By hand, so that the API key can never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelClient")
            .field("provider_id", &self.provider_id)
            .field("base_url", &self.base_url)
            .field("wire_api", &self.wire_api)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("chatgpt", &self.chatgpt.is_some())
            .field("options", &self.options)
            .field("settings", &self.settings)
            .finish()
    }
}

impl ModelClient {
    /// A client that reads the API key from `provider.env_key` now: a missing or empty variable
    /// is [`ModelError::MissingKey`] before any request is made. A provider without `env_key`
    /// gets no key (local servers).
    pub fn new(
        provider_id: &str,
        provider: &ModelProvider,
        model: &str,
        options: ClientOptions,
    ) -> Result<ModelClient, ModelError> {
        let api_key = match &provider.env_key {
            None => None,
            Some(env_key) => match std::env::var(env_key) {
                Ok(key) if !key.trim().is_empty() => Some(key.trim().to_string()),
                _ => {
                    return Err(ModelError::MissingKey {
                        provider_id: provider_id.to_string(),
                        env_key: env_key.clone(),
                    });
                }
            },
        };
        Self::with_api_key(provider_id, provider, model, api_key, options)
    }

    /// A client with this API key (`None`: send none), whatever `provider.env_key` says; the
    /// variable's name is still used in messages.
    pub fn with_api_key(
        provider_id: &str,
        provider: &ModelProvider,
        model: &str,
        api_key: Option<String>,
        options: ClientOptions,
    ) -> Result<ModelClient, ModelError> {
        let base_url = provider.base_url.trim_end_matches('/').to_string();
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("codex/", env!("CARGO_PKG_VERSION")))
            // Connection setup gets its own, shorter limit: a dead host should not cost the
            // whole idle timeout per attempt.
            .connect_timeout(options.timeout.min(Duration::from_secs(30)));
        if is_loopback(&base_url) {
            // A local model server is never behind the user's HTTP proxy.
            builder = builder.no_proxy();
        }
        let http = builder
            .build()
            .map_err(|e| ModelError::Client(error_chain(&e)))?;
        Ok(ModelClient {
            http,
            provider_id: provider_id.to_string(),
            env_key: provider.env_key.clone(),
            api_key: api_key.filter(|k| !k.is_empty()),
            chatgpt: None,
            base_url,
            wire_api: provider.wire_api,
            model: model.to_string(),
            options,
            settings: ModelSettings::default(),
        })
    }

    /// Sends `settings` with every request from now on.
    pub fn with_settings(mut self, settings: ModelSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The model the requests ask for.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Asks `model` from the next request on (`/model` in the interactive codex).
    pub fn set_model(&mut self, model: &str) {
        self.model = model.to_string();
    }

    /// The provider's id in the configuration.
    pub fn provider_id(&self) -> &str {
        &self.provider_id
    }

    /// The API this client speaks.
    pub fn wire_api(&self) -> WireApi {
        self.wire_api
    }

    /// One model turn: sends the prompt (retrying as [`ClientOptions`] allow) and returns the
    /// response's event stream once it has started.
    pub async fn stream(&self, prompt: &Prompt) -> Result<ResponseStream, ModelError> {
        let (url, body, decoder) = match self.wire_api {
            WireApi::Responses => (
                format!("{}/responses", self.base_url),
                responses::request_body(&self.model, prompt, &self.settings),
                Decoder::Responses(responses::Decoder::default()),
            ),
            WireApi::Chat => (
                format!("{}/chat/completions", self.base_url),
                chat::request_body(&self.model, prompt, &self.settings),
                Decoder::Chat(chat::Decoder::default()),
            ),
        };
        let (response, secret) = self.send(&url, &body).await?;
        Ok(ResponseStream {
            response: Some(response),
            parser: sse::Parser::new(),
            decoder,
            queue: VecDeque::new(),
            done: false,
            idle_timeout: self.options.timeout,
            url,
            base_url: self.base_url.clone(),
            api_key: secret,
        })
    }

    /// Posts `body` until a 2xx answer starts or retrying is pointless; returns the answer
    /// and the secret it was sent with (to scrub from the stream's errors).
    async fn send(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<(reqwest::Response, Option<String>), ModelError> {
        let max_attempts = self.options.max_retries.saturating_add(1);
        let mut attempt = 0;
        let mut renewed_after_401 = false;
        loop {
            attempt += 1;
            let request = self
                .http
                .post(url)
                .header(reqwest::header::ACCEPT, "text/event-stream")
                .json(body);
            let (request, signed) = self.sign(request).await?;
            let failure = match tokio::time::timeout(self.options.timeout, request.send()).await {
                Err(_) => ModelError::Timeout {
                    url: url.to_string(),
                    after: self.options.timeout,
                    attempts: attempt,
                },
                Ok(Err(e)) => ModelError::Connect {
                    url: url.to_string(),
                    detail: self.redact(&error_chain(&e)),
                    attempts: attempt,
                },
                Ok(Ok(response)) if response.status().is_success() => {
                    return Ok((response, signed.secret));
                }
                Ok(Ok(response)) => {
                    if response.status() == reqwest::StatusCode::UNAUTHORIZED
                        && !renewed_after_401
                        && self.renew_after_401(&signed).await?
                    {
                        // Sent again with the renewed token, once; not counted as a retry.
                        renewed_after_401 = true;
                        attempt -= 1;
                        continue;
                    }
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| retry::retry_after(v, SystemTime::now()));
                    let api_error = self.read_error(response).await;
                    // Out of credit is not a rate limit that goes away by waiting.
                    let out_of_quota = api_error.code.as_deref() == Some("insufficient_quota");
                    let retryable = retry::retryable_status(status) && !out_of_quota;
                    let error = self.status_error(status, api_error, attempt);
                    if !retryable || attempt >= max_attempts {
                        return Err(error);
                    }
                    let wait = retry_after
                        .unwrap_or_else(|| retry::backoff(attempt, self.options.max_retry_delay))
                        .min(self.options.max_retry_delay);
                    tracing::warn!(
                        provider = %self.provider_id,
                        status,
                        attempt,
                        max_attempts,
                        wait_ms = wait.as_millis() as u64,
                        "model request failed; retrying: {error}"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
            if attempt >= max_attempts {
                return Err(failure);
            }
            let wait = retry::backoff(attempt, self.options.max_retry_delay);
            tracing::warn!(
                provider = %self.provider_id,
                attempt,
                max_attempts,
                wait_ms = wait.as_millis() as u64,
                "model request failed; retrying: {failure}"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// The error a non-2xx body describes, as far as it says anything.
    async fn read_error(&self, response: reqwest::Response) -> ApiError {
        // A body that never ends must not hang the turn; a few seconds is plenty for an error.
        let text = tokio::time::timeout(
            self.options.timeout.min(Duration::from_secs(10)),
            response.text(),
        )
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
        let mut api = ApiError::parse(&text);
        api.message = self.redact(&api.message);
        api
    }

    fn status_error(&self, status: u16, api: ApiError, attempts: u32) -> ModelError {
        let model_missing = api.code.as_deref() == Some("model_not_found") || {
            let m = api.message.to_ascii_lowercase();
            m.contains("model")
                && (m.contains("does not exist")
                    || m.contains("not found")
                    || m.contains("not exist"))
        };
        let provider_id = self.provider_id.clone();
        match status {
            401 | 403 if self.chatgpt.is_some() => ModelError::SignInRejected {
                provider_id,
                status,
                message: api.message,
            },
            401 | 403 => ModelError::Unauthorized {
                provider_id,
                env_key: self.env_key.clone(),
                status,
                message: api.message,
            },
            404 => ModelError::UnknownModel {
                provider_id,
                model: self.model.clone(),
                base_url: self.base_url.clone(),
                status,
                message: api.message,
            },
            400 if model_missing => ModelError::UnknownModel {
                provider_id,
                model: self.model.clone(),
                base_url: self.base_url.clone(),
                status,
                message: api.message,
            },
            _ => ModelError::Http {
                provider_id,
                status,
                message: match api.code {
                    Some(code) if !api.message.contains(&code) && !api.message.is_empty() => {
                        format!("{} ({code})", api.message)
                    }
                    Some(code) if api.message.is_empty() => code,
                    _ => api.message,
                },
                attempts,
            },
        }
    }

    fn redact(&self, text: &str) -> String {
        redact(text, self.api_key.as_deref())
    }
}

/// A server's error body, as much as could be read from it.
#[derive(Debug, Default)]
struct ApiError {
    /// One line, shortened; empty when the server said nothing.
    message: String,
    code: Option<String>,
}

impl ApiError {
    /// Reads OpenAI's `{"error": {"message", "code", "type"}}`, the `{"error": "..."}` or
    /// `{"message": ...}` / `{"detail": ...}` of other servers, or plain text.
    fn parse(body: &str) -> ApiError {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
            return ApiError {
                message: one_line(body),
                code: None,
            };
        };
        let error = v.get("error").unwrap_or(&v);
        let text = |e: &serde_json::Value, name: &str| {
            e.get(name)
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
        };
        let message = match error {
            serde_json::Value::String(s) => Some(s.clone()),
            e => text(e, "message")
                .or_else(|| text(e, "detail"))
                .or_else(|| text(&v, "message")),
        };
        ApiError {
            message: message.map(|m| one_line(&m)).unwrap_or_default(),
            code: text(error, "code").filter(|c| !c.is_empty()),
        }
    }
}

/// The events of one response, read as they arrive.
pub struct ResponseStream {
    response: Option<reqwest::Response>,
    parser: sse::Parser,
    decoder: Decoder,
    queue: VecDeque<Result<ResponseEvent, ModelError>>,
    /// Nothing more will be read: the response completed, or failed.
    done: bool,
    idle_timeout: Duration,
    url: String,
    base_url: String,
    api_key: Option<String>,
}

impl std::fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseStream")
            .field("url", &self.url)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl ResponseStream {
    /// The next event; `None` after [`ResponseEvent::Completed`] or after an error.
    pub async fn next(&mut self) -> Option<Result<ResponseEvent, ModelError>> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(event);
            }
            if self.done {
                // Set aside by `finish`: read the end of the body now, while the caller asks
                // for what comes after Completed.
                if let Some(response) = self.response.take() {
                    drain(response).await;
                }
                return None;
            }
            let response = self.response.as_mut()?;
            match tokio::time::timeout(self.idle_timeout, response.chunk()).await {
                Err(_) => self.fail(ModelError::Timeout {
                    url: self.url.clone(),
                    after: self.idle_timeout,
                    attempts: 1,
                }),
                Ok(Err(e)) => {
                    let detail = format!(
                        "the connection broke before the response completed ({})",
                        redact(&error_chain(&e), self.api_key.as_deref())
                    );
                    let error = self.malformed(detail);
                    self.fail(error);
                }
                Ok(Ok(Some(bytes))) => match self.parser.feed(&bytes) {
                    Ok(events) => {
                        for event in events {
                            let decoded = match &mut self.decoder {
                                Decoder::Responses(d) => d.event(&event),
                                Decoder::Chat(d) => d.event(&event),
                            };
                            if !self.accept(decoded) {
                                break;
                            }
                            if self.decoder.is_finished() {
                                self.finish();
                                break;
                            }
                        }
                    }
                    Err(e) => {
                        let error = self.malformed(e.to_string());
                        self.fail(error);
                    }
                },
                Ok(Ok(None)) => {
                    self.response = None;
                    let decoded = match self.parser.finish() {
                        Err(e) => Err(DecodeError::Malformed(e.to_string())),
                        Ok(()) => match &mut self.decoder {
                            Decoder::Responses(d) => d.eof(),
                            Decoder::Chat(d) => d.eof(),
                        },
                    };
                    if self.accept(decoded) {
                        self.done = true;
                    }
                }
            }
        }
    }

    /// Queues decoded events, or the error; false on error.
    fn accept(&mut self, decoded: Result<Vec<ResponseEvent>, DecodeError>) -> bool {
        match decoded {
            Ok(events) => {
                self.queue.extend(events.into_iter().map(Ok));
                true
            }
            Err(DecodeError::Malformed(detail)) => {
                let error = self.malformed(detail);
                self.fail(error);
                false
            }
            Err(DecodeError::Failed(message)) => {
                let message = redact(&message, self.api_key.as_deref());
                self.fail(ModelError::ResponseFailed { message });
                false
            }
        }
    }

    fn malformed(&self, detail: String) -> ModelError {
        ModelError::MalformedStream {
            detail,
            base_url: self.base_url.clone(),
            api: match self.decoder {
                Decoder::Responses(_) => "Responses API",
                Decoder::Chat(_) => "Chat Completions API",
            },
        }
    }

    fn fail(&mut self, error: ModelError) {
        self.queue.push_back(Err(error));
        self.done = true;
        self.response = None;
    }

    /// The response is complete: nothing more is decoded. The rest of the body (normally
    /// just the end of the chunked encoding) is still read, by the next call to
    /// [`ResponseStream::next`] or when the stream is dropped, so that the connection goes back
    /// to the pool for the next turn instead of paying for new TCP and TLS handshakes.
    fn finish(&mut self) {
        self.done = true;
    }
}

impl Drop for ResponseStream {
    fn drop(&mut self) {
        // Only a completed response is worth draining: one dropped mid-way (the user
        // interrupted) is closed so that the provider stops generating, and after an error the
        // connection is suspect.
        if self.done
            && let Some(response) = self.response.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(drain(response));
        }
    }
}

/// Reads what is left of a completed response's body, for a little while at most: a server
/// that keeps the stream open after the last event is not waited for.
async fn drain(mut response: reqwest::Response) {
    const LIMIT: Duration = Duration::from_secs(1);
    let rest = async { while let Ok(Some(_)) = response.chunk().await {} };
    let _ = tokio::time::timeout(LIMIT, rest).await;
}

enum Decoder {
    Responses(responses::Decoder),
    Chat(chat::Decoder),
}

impl Decoder {
    fn is_finished(&self) -> bool {
        match self {
            Decoder::Responses(d) => d.is_finished(),
            Decoder::Chat(d) => d.is_finished(),
        }
    }
}

/// What a decoder found wrong.
#[derive(Debug)]
enum DecodeError {
    /// Not the API's stream.
    Malformed(String),
    /// The provider said the response failed.
    Failed(String),
}

/// Longest server message kept in an error.
const MAX_MESSAGE_CHARS: usize = 200;

/// `text` on one line (whitespace runs collapsed), at most [`MAX_MESSAGE_CHARS`] characters.
fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &joined[..cut]),
        None => joined,
    }
}

/// A short excerpt of bad stream data for an error message.
fn snippet(data: &str) -> String {
    const MAX: usize = 80;
    match data.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}…", &data[..cut]),
        None => format!("{data:?}"),
    }
}

/// `text` with every occurrence of the key masked (providers sometimes echo part or all of it).
fn redact(text: &str, key: Option<&str>) -> String {
    match key {
        Some(key) if key.len() >= 4 => text.replace(key, "<API key>"),
        _ => text.to_string(),
    }
}

/// The innermost cause of a reqwest error, which is the informative one ("connection
/// refused", "dns error: ..."), without the OS error number.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost: &(dyn std::error::Error + 'static) = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    let text = innermost.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => error.to_string(),
    }
}

/// Whether a base URL names this machine.
fn is_loopback(base_url: &str) -> bool {
    let Some(rest) = base_url.split_once("://").map(|(_, r)| r) else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_are_one_short_line_without_the_key() {
        assert_eq!(one_line("  a\n\n b\tc "), "a b c");
        let long = "x".repeat(500);
        assert_eq!(one_line(&long).chars().count(), MAX_MESSAGE_CHARS + 1);
        assert_eq!(
            redact("Incorrect API key provided: sk-secret1", Some("sk-secret1")),
            "Incorrect API key provided: <API key>"
        );
    }

    #[test]
    fn error_bodies_of_several_shapes_are_understood() {
        let e = ApiError::parse(
            r#"{"error":{"message":"The model `x` does not exist","type":"invalid_request_error","code":"model_not_found"}}"#,
        );
        assert_eq!(e.message, "The model `x` does not exist");
        assert_eq!(e.code.as_deref(), Some("model_not_found"));
        assert_eq!(
            ApiError::parse(r#"{"error":"model 'llama9' not found"}"#).message,
            "model 'llama9' not found"
        );
        assert_eq!(
            ApiError::parse(r#"{"detail":"Not Found"}"#).message,
            "Not Found"
        );
        assert_eq!(
            ApiError::parse("<html>Bad gateway</html>").message,
            "<html>Bad gateway</html>"
        );
    }

    #[test]
    fn the_client_and_its_futures_can_move_between_threads() {
        fn assert_send<T: Send>(_: &T) {}
        let provider = ModelProvider {
            name: None,
            base_url: "http://127.0.0.1:9/v1".into(),
            env_key: None,
            wire_api: WireApi::Responses,
            requires_openai_auth: false,
        };
        let client = ModelClient::with_api_key("p", &provider, "m", None, ClientOptions::default())
            .expect("client");
        let prompt = Prompt::default();
        // Futures are lazy: building them sends nothing.
        assert_send(&client.stream(&prompt));
        fn next_is_send(stream: &mut ResponseStream) -> impl Send + '_ {
            stream.next()
        }
        let _ = next_is_send;
    }

    #[test]
    fn loopback_base_urls_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:8080/v1"));
        assert!(is_loopback("http://localhost:11434/v1"));
        assert!(is_loopback("http://[::1]:80/v1"));
        assert!(!is_loopback("https://api.example.com/v1"));
    }

    #[test]
    fn items_serialize_with_a_type_tag() {
        let item = Item::FunctionCall {
            call_id: "c1".into(),
            name: "shell".into(),
            arguments: "{}".into(),
        };
        let json = serde_json::to_value(&item).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{}"})
        );
        let msg: Item = serde_json::from_value(
            serde_json::json!({"type": "message", "role": "developer", "text": "hi"}),
        )
        .expect("deserializes");
        assert_eq!(msg, Item::message(Role::Developer, "hi"));
    }
}
