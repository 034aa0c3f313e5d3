//! One client connection: reads messages, answers them, and leaves its session detached (not
//! dead) when it goes away. Requests are handled in arrival order without waiting: a
//! `process/read` that has to wait and a `process/write` into a full pipe finish in their own
//! tasks, so nothing queues behind them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use codex_exec_server_protocol::{
    EnvironmentInfo, ErrorCode, Incoming, InitializeParams, InitializeResult, ProcessRef,
    ReadParams, RequestId, RpcError, SignalParams, StartParams, StartResult, TerminateResult,
    WriteParams, WriteResult, WriteStatus, cwd_to_path, error_response, method, path_to_cwd,
    response,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::oneshot;

use super::Server;
use super::outbox::Outbox;
use super::process::StdinWrite;
use super::session::Session;
use super::spawn::{self, Spec};
use crate::sync::lock;

/// The longest `waitMs` honoured, so a forgotten long poll cannot pin a task forever.
const MAX_WAIT: Duration = Duration::from_secs(300);

/// A connection's state.
pub struct Connection {
    server: Arc<Server>,
    /// Where its replies and its session's events go.
    pub outbox: Arc<Outbox>,
    session: Mutex<Option<Arc<Session>>>,
}

type Reply = Result<Value, RpcError>;

impl Connection {
    /// A new connection of `server`.
    pub fn new(server: Arc<Server>) -> Arc<Self> {
        Arc::new(Connection {
            outbox: Arc::new(Outbox::new(server.config.outgoing_budget)),
            server,
            session: Mutex::new(None),
        })
    }

    fn session(&self) -> Option<Arc<Session>> {
        lock(&self.session).clone()
    }

    /// Handles one incoming message.
    pub fn handle(self: &Arc<Self>, text: &str) {
        match Incoming::parse(text) {
            Err(e) => self.outbox.push(error_response(None, &e)),
            Ok(Incoming::Request { id, method, params }) => {
                if let Some(reply) = self.request(&id, &method, params) {
                    self.reply(&id, reply);
                }
            }
            // `initialized` (which Codex clients send) and unknown notifications need no answer.
            Ok(Incoming::Notification { .. }) | Ok(Incoming::Response { .. }) => {}
        }
    }

    fn reply(&self, id: &RequestId, reply: Reply) {
        self.outbox.push(match reply {
            Ok(v) => response(id, &v),
            Err(e) => error_response(Some(id), &e),
        });
    }

    /// Answers now (`Some`) or arranges for a task to answer later (`None`).
    fn request(self: &Arc<Self>, id: &RequestId, method: &str, params: Value) -> Option<Reply> {
        if method == method::INITIALIZE {
            return Some(parse(params).and_then(|p| self.initialize(p)));
        }
        let known = [
            method::PROCESS_START,
            method::PROCESS_READ,
            method::PROCESS_WRITE,
            method::PROCESS_SIGNAL,
            method::PROCESS_TERMINATE,
        ];
        // An unknown method is refused as such, initialized or not.
        if !known.contains(&method) {
            return Some(Err(unknown_method(method)));
        }
        let Some(session) = self.session() else {
            return Some(Err(RpcError::new(
                ErrorCode::InvalidRequest,
                "client must call initialize before using exec methods",
            )));
        };
        match method {
            method::PROCESS_START => match parse(params).and_then(|p| start(&session, p)) {
                // The reply goes out before the first output notification can.
                Ok((reply, launch)) => {
                    self.reply(id, Ok(reply));
                    launch.go();
                    None
                }
                Err(e) => Some(Err(e)),
            },
            method::PROCESS_READ => match parse::<ReadParams>(params) {
                Err(e) => Some(Err(e)),
                Ok(p) => self.read(id, &session, p),
            },
            method::PROCESS_WRITE => match parse::<WriteParams>(params) {
                Err(e) => Some(Err(e)),
                Ok(p) => self.write(id, &session, p),
            },
            method::PROCESS_SIGNAL => Some(parse(params).map(|p: SignalParams| {
                if let Some(proc) = session.process(&p.process_id) {
                    proc.signal(p.signal);
                }
                serde_json::json!({})
            })),
            method::PROCESS_TERMINATE => Some(parse(params).and_then(|p: ProcessRef| {
                let running = session.process(&p.process_id).is_some_and(|proc| {
                    let running = proc.is_running();
                    proc.signal(codex_exec_server_protocol::Signal::Kill);
                    running
                });
                to_value(TerminateResult { running })
            })),
            _ => Some(Err(unknown_method(method))),
        }
    }

    fn initialize(&self, p: InitializeParams) -> Reply {
        let mut slot = lock(&self.session);
        if slot.is_some() {
            return Err(RpcError::new(
                ErrorCode::InvalidRequest,
                "initialize may only be sent once per connection",
            ));
        }
        let sessions = &self.server.sessions;
        let session = match &p.resume_session_id {
            Some(id) => sessions
                .resume(id, self.outbox.clone())
                .map_err(|e| RpcError::new(ErrorCode::InvalidRequest, e.to_string()))?,
            None => sessions.create(self.outbox.clone()),
        };
        tracing::debug!(client = %p.client_name, session = %session.id, resumed = p.resume_session_id.is_some(), "initialized");
        *slot = Some(session.clone());
        to_value(InitializeResult {
            session_id: session.id.clone(),
            environment_info: Some(EnvironmentInfo {
                executor_version: codex_build_info::version().to_string(),
                platform_os: std::env::consts::OS.to_string(),
                cwd: std::env::current_dir().ok().map(|d| path_to_cwd(&d)),
            }),
            ordered_events: true,
        })
    }

    fn read(self: &Arc<Self>, id: &RequestId, session: &Session, p: ReadParams) -> Option<Reply> {
        let Some(proc) = session.process(&p.process_id) else {
            return Some(Err(unknown_process(&p.process_id)));
        };
        let after = p.after_seq.unwrap_or(0);
        let wait = Duration::from_millis(p.wait_ms.unwrap_or(0)).min(MAX_WAIT);
        let now = proc.snapshot(after, p.max_bytes);
        if wait.is_zero() || !now.chunks.is_empty() || now.closed || now.next_seq > after + 1 {
            return Some(to_value(now));
        }
        let (conn, id) = (self.clone(), id.clone());
        tokio::spawn(async move {
            let result = proc.read(after, p.max_bytes, wait).await;
            conn.reply(&id, to_value(result));
        });
        None
    }

    fn write(self: &Arc<Self>, id: &RequestId, session: &Session, p: WriteParams) -> Option<Reply> {
        let status = |s| to_value(WriteResult { status: s });
        let Some(proc) = session.process(&p.process_id) else {
            return Some(status(WriteStatus::UnknownProcess));
        };
        if proc.is_starting() {
            return Some(status(WriteStatus::Starting));
        }
        let Some(stdin) = proc.stdin() else {
            return Some(status(WriteStatus::StdinClosed));
        };
        let (done, written) = oneshot::channel();
        let queued = stdin.send(StdinWrite {
            write_id: p.write_id,
            bytes: p.chunk.0,
            done,
        });
        if queued.is_err() {
            return Some(status(WriteStatus::StdinClosed));
        }
        let (conn, id) = (self.clone(), id.clone());
        tokio::spawn(async move {
            let s = match written.await {
                Ok(true) => WriteStatus::Accepted,
                _ => WriteStatus::StdinClosed,
            };
            conn.reply(&id, status(s));
        });
        None
    }

    /// The connection is gone: its session waits, detached, to be resumed.
    pub fn closed(&self) {
        self.outbox.close();
        let dropped = self.outbox.dropped();
        if dropped > 0 {
            tracing::info!(
                dropped,
                "output notifications dropped for a client that did not keep up"
            );
        }
        if let Some(s) = self.session() {
            s.detach(&self.outbox);
        }
    }
}

fn start(session: &Session, p: StartParams) -> Result<(Value, spawn::Launch), RpcError> {
    if p.argv.is_empty() {
        return Err(RpcError::new(
            ErrorCode::InvalidParams,
            "argv must not be empty",
        ));
    }
    let cwd = cwd_to_path(&p.cwd).map_err(|e| RpcError::new(ErrorCode::InvalidParams, e))?;
    if !cwd.is_dir() {
        return Err(RpcError::new(
            ErrorCode::Internal,
            format!("cwd {} is not a directory that exists", cwd.display()),
        ));
    }
    // Danger-full-access is no sandbox; anything else is enforced or the process is not started.
    let sandbox = p.sandbox.filter(|s| s.is_sandboxed());
    if let Some(policy) = &sandbox {
        codex_sandbox::check_available(policy)
            .map_err(|e| RpcError::new(ErrorCode::Internal, e.to_string()))?;
    }
    let sandbox_type = sandbox
        .as_ref()
        .map_or("none", |s| s.sandbox_type())
        .to_string();
    let streams = if p.tty { 1 } else { 2 };
    let Some(proc) = session.add_process(&p.process_id, streams) else {
        return Err(RpcError::new(
            ErrorCode::InvalidRequest,
            format!("process {} already exists", p.process_id),
        ));
    };
    let spec = Spec {
        argv: p.argv,
        cwd,
        env: p.env,
        tty: p.tty,
        pipe_stdin: p.pipe_stdin,
        backpressure: p.backpressure,
        sandbox,
    };
    let launch = match spawn::spawn(&proc, spec) {
        Ok(launch) => launch,
        Err(e) => {
            session.remove_process(&p.process_id);
            return Err(RpcError::new(ErrorCode::Internal, e));
        }
    };
    let reply = to_value(StartResult {
        process_id: p.process_id,
        sandbox_type: Some(sandbox_type),
    })?;
    Ok((reply, launch))
}

fn unknown_method(method: &str) -> RpcError {
    RpcError::new(
        ErrorCode::MethodNotFound,
        format!("unknown method `{method}`"),
    )
}

fn unknown_process(id: &str) -> RpcError {
    RpcError::new(
        ErrorCode::InvalidRequest,
        format!("unknown process id {id}"),
    )
}

fn parse<T: DeserializeOwned>(params: Value) -> Result<T, RpcError> {
    serde_json::from_value(params)
        .map_err(|e| RpcError::new(ErrorCode::InvalidParams, e.to_string()))
}

fn to_value(v: impl serde::Serialize) -> Reply {
    serde_json::to_value(v).map_err(|e| RpcError::new(ErrorCode::Internal, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn replies(conn: &Connection) -> Vec<Value> {
        let batch = conn.outbox.take().await.expect("a batch");
        batch
            .iter()
            .map(|m| serde_json::from_str(m).expect("json"))
            .collect()
    }

    /// The window between reserving a process id and the child running is real (spawning takes
    /// a moment on a loaded machine), but no client can hit it on purpose: reserve it here.
    #[tokio::test]
    async fn a_write_to_a_process_still_starting_says_starting() {
        let conn = Connection::new(Server::new(super::super::Config::default()));
        conn.handle(r#"{"id":1,"method":"initialize","params":{"clientName":"t"}}"#);
        let init = replies(&conn).await;
        assert!(init[0]["result"]["sessionId"].is_string(), "{init:?}");
        let session = conn.session().expect("a session");
        session.add_process("p", 2).expect("id free");
        conn.handle(
            r#"{"id":2,"method":"process/write","params":{"processId":"p","chunk":"aGkK","writeId":"w"}}"#,
        );
        let r = replies(&conn).await;
        assert_eq!(r[0]["result"]["status"], "starting", "{r:?}");
    }
}
