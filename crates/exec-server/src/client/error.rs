//! The client's one error type.

use codex_exec_server_protocol::RpcError;

/// Everything that can go wrong in the client.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// The server program could not be started (stdio transport).
    #[error("cannot start the exec-server program: {0}")]
    Spawn(String),
    /// The WebSocket could not be opened.
    #[error("cannot connect to exec-server at {url}: {reason}")]
    Connect {
        /// Where we tried to connect.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// The connection closed (or broke) while the call was in flight, or before it was sent.
    #[error("connection to exec-server lost: {0}")]
    ConnectionLost(String),
    /// The client's link is gone for good (see [`super::ExecServerClient::closed`]); the text
    /// says why, starting with "connection to exec-server lost".
    #[error("{0}")]
    Closed(String),
    /// The server answered with a JSON-RPC error.
    #[error("exec-server refused {method}: {error}")]
    Rpc {
        /// The method that was refused.
        method: String,
        /// The server's error.
        error: RpcError,
    },
    /// The server sent something this client cannot understand.
    #[error("exec-server sent an unexpected reply to {method}: {reason}")]
    Protocol {
        /// The method whose reply was malformed.
        method: String,
        /// What was wrong.
        reason: String,
    },
    /// The environment registry refused the connect request for good (not retried).
    #[error("environment registry refused to connect {environment}: HTTP {status}{}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    RegistryRefused {
        /// The environment id.
        environment: String,
        /// HTTP status.
        status: u16,
        /// The `code` from the JSON body, when it had one.
        code: Option<String>,
    },
    /// The environment registry could not be used (transport failure, bad JSON, ...).
    #[error("environment registry request for {environment} failed: {reason}")]
    Registry {
        /// The environment id.
        environment: String,
        /// What went wrong.
        reason: String,
    },
    /// Retrying gave up: the deadline passed while the failure was still retryable.
    #[error(
        "{what}: gave up after {elapsed_ms} ms (deadline {deadline_ms} ms); last error: {last}"
    )]
    DeadlineExceeded {
        /// What was being attempted.
        what: String,
        /// How long we tried.
        elapsed_ms: u128,
        /// The configured deadline.
        deadline_ms: u128,
        /// The last retryable error.
        last: Box<ClientError>,
    },
    /// A process's event stream ended without its `process/closed`: the process is lost to this
    /// client (the connection died and could not be recovered).
    #[error("process {process_id} lost: {reason}")]
    ProcessLost {
        /// The process.
        process_id: String,
        /// Why.
        reason: String,
    },
}

impl ClientError {
    /// The JSON-RPC error, when the server refused a call.
    pub fn rpc(&self) -> Option<&RpcError> {
        match self {
            ClientError::Rpc { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Result with [`ClientError`].
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
