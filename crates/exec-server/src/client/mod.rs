//! The client library for codex-exec-server (and the Codex 0.169 exec-server).
//!
//! - [`ExecServerClient`]: one session, over stdio ([`ExecServerClient::spawn_stdio`]) or a
//!   `ws://` WebSocket ([`ExecServerClient::connect_websocket`], [`ExecServerClient::connect`]).
//!   TLS (`wss://`) is not supported by this build. Calls are concurrent; a long-poll
//!   `process/read` does not hold up anything else.
//! - [`RemoteProcess`]: a started process; [`RemoteProcess::next_event`] and
//!   [`RemoteProcess::wait`] rebuild its ordered output from pushed notifications, and issue one
//!   `process/read` only when a seq gap, a full event channel or a reconnect says something was
//!   missed (a gap that outlives [`REORDER_GRACE`]). [`ExecServerClient::read_calls`] counts
//!   those reads.
//! - [`LazyRemoteClient`]: the current client, replaced by one fresh session when it dies.
//! - Session recovery ([`ConnectOptions::recover_session`]): after a dropped WebSocket, reconnect
//!   and `initialize {resumeSessionId}` with backoff ([`RetryPolicy`]) until a deadline.
//! - [`Connector`]: a fixed endpoint or an environment registry ([`RegistryConnector`]).

#![warn(missing_docs)]

mod connection;
mod error;
mod lazy;
mod process;
mod recovery;
mod registry;
mod session;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use codex_exec_server_protocol::{
    ReadParams, ReadResult, SandboxMode, SandboxPolicy, Signal, Stream, WriteStatus,
};
pub use error::{ClientError, Result};
pub use lazy::LazyRemoteClient;
pub use process::{Completion, EVENT_CHANNEL_CAPACITY, ProcessEvent, REORDER_GRACE, RemoteProcess};
pub use recovery::RetryPolicy;
pub use registry::{
    Connector, Endpoint, RegistryConnector, RegistryFailure, RetryDecision,
    classify_registry_failure,
};
pub use session::{ConnectOptions, ExecServerClient};

/// What to start: `process/start` without the wire details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartOptions {
    /// Program and arguments; `argv[0]` is looked up on the server's `PATH`.
    pub argv: Vec<String>,
    /// Working directory on the server (sent as a `file://` URI).
    pub cwd: PathBuf,
    /// The child's whole environment (it replaces the server's; empty means empty).
    pub env: BTreeMap<String, String>,
    /// Run in a pseudo-terminal (output on [`Stream::Pty`]).
    pub tty: bool,
    /// Keep stdin open for writes.
    pub pipe_stdin: bool,
    /// Ask the server to pace the child to this client's reading, so nothing is lost while it
    /// keeps reading (our server only; see `StartParams::backpressure`).
    pub backpressure: bool,
    /// The process id; `None` picks `p1`, `p2`, ... .
    pub process_id: Option<String>,
    /// Run under this sandbox (our server only: Codex 0.169 ignores it and runs the process
    /// unrestricted). Our server refuses the start when it cannot enforce the policy.
    pub sandbox: Option<SandboxPolicy>,
}

impl StartOptions {
    /// `argv` in `cwd`, with an empty environment, no tty and stdin closed.
    pub fn new<I, S>(argv: I, cwd: impl Into<PathBuf>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        StartOptions {
            argv: argv.into_iter().map(Into::into).collect(),
            cwd: cwd.into(),
            env: BTreeMap::new(),
            tty: false,
            pipe_stdin: false,
            backpressure: false,
            process_id: None,
            sandbox: None,
        }
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Keeps stdin open for [`RemoteProcess::write`].
    pub fn pipe_stdin(mut self) -> Self {
        self.pipe_stdin = true;
        self
    }

    /// Paces the child to this client's reading (see [`StartOptions::backpressure`]).
    pub fn backpressure(mut self) -> Self {
        self.backpressure = true;
        self
    }

    /// Runs in a pseudo-terminal.
    pub fn tty(mut self) -> Self {
        self.tty = true;
        self
    }

    /// Runs under `policy` (see [`StartOptions::sandbox`]).
    pub fn sandbox(mut self, policy: SandboxPolicy) -> Self {
        self.sandbox = Some(policy);
        self
    }

    /// Uses this process id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.process_id = Some(id.into());
        self
    }
}
