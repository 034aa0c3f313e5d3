//! Where the `shell` tool's commands run: a local `codex exec-server --listen stdio` started on
//! first use (the default), or a remote exec-server over WebSocket (`--exec-server ws://…`).
//! Either way every command goes through the exec-server protocol, so the sandbox, output
//! retention and exit reporting are the same code locally and remotely.

use std::path::PathBuf;
use std::time::Duration;

use codex_exec_server::client::{
    ConnectOptions, Connector, Endpoint, ExecServerClient, RetryPolicy,
};
use tokio::sync::OnceCell;

/// Which exec-server runs commands.
#[derive(Clone)]
pub enum Backend {
    /// Start `EXE exec-server --listen stdio` (EXE: a codex binary) when the first command runs.
    Local {
        /// The codex binary.
        exe: PathBuf,
    },
    /// Connect to a running exec-server.
    Remote {
        /// `ws://HOST:PORT`.
        url: String,
        /// Its bearer token.
        token: Option<String>,
    },
}

/// Tokens never reach logs.
impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Local { exe } => f.debug_struct("Local").field("exe", exe).finish(),
            Backend::Remote { url, token } => f
                .debug_struct("Remote")
                .field("url", url)
                .field("token", &token.as_ref().map(|_| "<redacted>"))
                .finish(),
        }
    }
}

impl Backend {
    /// Whether commands run on this machine (so local paths and the local sandbox apply).
    pub fn is_local(&self) -> bool {
        matches!(self, Backend::Local { .. })
    }
}

/// How long connecting to a remote exec-server may take before the command fails.
const REMOTE_CONNECT_DEADLINE: Duration = Duration::from_secs(10);

/// A [`Backend`] and its one client, made on first use and shared by every command.
#[derive(Debug)]
pub struct Executor {
    backend: Backend,
    client: OnceCell<ExecServerClient>,
}

impl Executor {
    /// An executor that has not connected yet.
    pub fn new(backend: Backend) -> Self {
        Executor {
            backend,
            client: OnceCell::new(),
        }
    }

    /// The backend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The client, connecting (or starting the local server) the first time.
    pub async fn client(&self) -> Result<&ExecServerClient, String> {
        self.client
            .get_or_try_init(|| async {
                match &self.backend {
                    Backend::Local { exe } => {
                        let mut cmd = tokio::process::Command::new(exe);
                        cmd.args(["exec-server", "--listen", "stdio"]);
                        ExecServerClient::spawn_stdio(cmd, "codex")
                            .await
                            .map_err(|e| format!("cannot start the local exec-server: {e}"))
                    }
                    Backend::Remote { url, token } => {
                        let options = ConnectOptions {
                            client_name: "codex".into(),
                            retry: RetryPolicy {
                                deadline: REMOTE_CONNECT_DEADLINE,
                                ..RetryPolicy::default()
                            },
                            recover_session: true,
                        };
                        let endpoint = Endpoint {
                            url: url.clone(),
                            token: token.clone(),
                        };
                        ExecServerClient::connect(Connector::WebSocket(endpoint), options)
                            .await
                            .map_err(|e| e.to_string())
                    }
                }
            })
            .await
    }
}
