//! Why a model turn failed. Each message is one line that says what happened and what to do
//! about it; none ever contains the API key (server messages are scrubbed of it).

use std::time::Duration;

/// A failed model request or response stream.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The provider's `env_key` variable is unset or empty.
    #[error(
        "{env_key} is not set: export the API key for model provider `{provider_id}`, or pick another provider with -c model_provider=ID"
    )]
    MissingKey {
        /// The provider's id in the configuration.
        provider_id: String,
        /// The environment variable that should hold the key.
        env_key: String,
    },
    /// 401 or 403: the key is wrong, revoked or lacks access.
    #[error("{}", unauthorized(provider_id, env_key.as_deref(), *status, message))]
    Unauthorized {
        /// The provider's id in the configuration.
        provider_id: String,
        /// The variable the key came from, if any.
        env_key: Option<String>,
        /// 401 or 403.
        status: u16,
        /// The server's error message (shortened), if it gave one.
        message: String,
    },
    /// 401 or 403 to a request signed with the ChatGPT account (after renewing its token).
    #[error(
        "provider `{provider_id}` refused the ChatGPT sign-in ({status}{}): run `codex login` again, or export an API key",
        colon(message)
    )]
    SignInRejected {
        /// The provider's id in the configuration.
        provider_id: String,
        /// 401 or 403.
        status: u16,
        /// The server's error message (shortened), if it gave one.
        message: String,
    },
    /// 404, or the server said the model does not exist.
    #[error(
        "model `{model}` is not available from provider `{provider_id}` ({status}{}): choose another with --model{}",
        colon(message),
        if *status == 404 { format!(", or check base_url `{base_url}`") } else { String::new() }
    )]
    UnknownModel {
        /// The provider's id in the configuration.
        provider_id: String,
        /// The model asked for.
        model: String,
        /// The provider's base URL (a wrong path also answers 404).
        base_url: String,
        /// The HTTP status.
        status: u16,
        /// The server's error message (shortened), if it gave one.
        message: String,
    },
    /// Any other unsuccessful HTTP status (after retrying those worth retrying).
    #[error("{}", http(provider_id, *status, message, *attempts))]
    Http {
        /// The provider's id in the configuration.
        provider_id: String,
        /// The last HTTP status.
        status: u16,
        /// The server's error message (shortened), if it gave one.
        message: String,
        /// How many requests were made.
        attempts: u32,
    },
    /// The request could not be sent: DNS, refused connection, TLS, reset...
    #[error("cannot reach {url}: {detail}{}: check base_url", attempts_note(*attempts))]
    Connect {
        /// The URL requested.
        url: String,
        /// The underlying cause.
        detail: String,
        /// How many requests were made.
        attempts: u32,
    },
    /// No bytes arrived for the idle timeout, waiting for the response or inside its stream.
    #[error(
        "{url} sent nothing for {} s{}: the provider stalled; try again later",
        after.as_secs_f64(),
        attempts_note(*attempts)
    )]
    Timeout {
        /// The URL requested.
        url: String,
        /// The idle timeout that expired.
        after: Duration,
        /// How many requests were made.
        attempts: u32,
    },
    /// The stream is not the API's event stream: not JSON, cut off, or without its last event.
    #[error(
        "the model's response stream was malformed: {detail}: check that base_url `{base_url}` serves the {api}"
    )]
    MalformedStream {
        /// What is wrong with it.
        detail: String,
        /// The provider's base URL.
        base_url: String,
        /// The API expected: "Responses API" or "Chat Completions API".
        api: &'static str,
    },
    /// The provider reported an error inside the stream (`response.failed`, `error`, ...).
    #[error(
        "the model failed to respond: {message}: try again, or shorten the conversation if it is too long"
    )]
    ResponseFailed {
        /// The provider's message (with its error code when it gave one).
        message: String,
    },
    /// The ChatGPT sign-in could not give a token (it could not be renewed, auth.json could
    /// not be written...).
    #[error("ChatGPT sign-in: {0}")]
    SignIn(codex_login::LoginError),
    /// The HTTP client could not be set up (e.g. no TLS roots).
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

fn colon(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

fn unauthorized(provider_id: &str, env_key: Option<&str>, status: u16, message: &str) -> String {
    let detail = format!("{status}{}", colon(message));
    match env_key {
        Some(env_key) if status == 401 => {
            format!(
                "provider `{provider_id}` rejected the API key in {env_key} ({detail}): check the key"
            )
        }
        Some(env_key) => format!(
            "provider `{provider_id}` denied access with the API key in {env_key} ({detail}): check the key's permissions for this model"
        ),
        None => format!(
            "provider `{provider_id}` requires an API key ({detail}): set env_key for it in config.toml and export that variable"
        ),
    }
}

fn http(provider_id: &str, status: u16, message: &str, attempts: u32) -> String {
    let what = format!("{status}{}", colon(message));
    let advice = match status {
        429 => "wait and try again, or check the account's rate limits and quota",
        500.. => "the provider is having trouble; try again later",
        _ => "check the model and the provider settings in config.toml",
    };
    format!(
        "provider `{provider_id}` answered {what}{}: {advice}",
        attempts_note(attempts)
    )
}
