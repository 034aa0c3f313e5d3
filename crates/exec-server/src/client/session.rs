//! [`ExecServerClient`]: one session on an exec-server, over stdio or a WebSocket, with
//! concurrent calls, per-process event routing and (opt-in) session recovery.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use codex_exec_server_protocol::{
    ClosedNotification, EnvironmentInfo, ExitedNotification, InitializeParams, InitializeResult,
    OutputNotification, ProcessRef, ReadParams, ReadResult, Signal, SignalParams, StartParams,
    StartResult, TerminateResult, WriteParams, WriteResult, WriteStatus, method,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::watch;

use super::StartOptions;
use super::connection::{Connection, Events, ws_error_is_retryable};
use super::error::{ClientError, Result};
use super::process::{Pushed, RemoteProcess, Sink};
use super::recovery::{Failure, RetryPolicy, with_retries};
use super::registry::{Connector, Endpoint};
use crate::sync::lock;

/// How a connector-based client behaves.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Sent as `clientName` in `initialize`.
    pub client_name: String,
    /// Deadline and backoff for connecting and for recovery.
    pub retry: RetryPolicy,
    /// When the WebSocket drops, reconnect and resume the session (see [`RetryPolicy`]) instead
    /// of failing every live process at once.
    pub recover_session: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            client_name: "codex-exec-server-client".into(),
            retry: RetryPolicy::default(),
            recover_session: false,
        }
    }
}

/// The state of a client's link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Link {
    /// Connected; the number identifies the connection.
    Up(u64),
    /// Reconnecting and resuming.
    Recovering,
    /// Gone for good, and why.
    Down(String),
}

struct Current {
    generation: u64,
    conn: Option<Arc<Connection>>,
}

/// Shared by the client handle, its processes and the connection's reader task (weakly).
pub(crate) struct Inner {
    me: Weak<Inner>,
    current: Mutex<Current>,
    link: watch::Sender<Link>,
    next_generation: AtomicU64,
    session_id: Mutex<String>,
    environment: Mutex<Option<EnvironmentInfo>>,
    processes: Mutex<HashMap<String, Arc<Sink>>>,
    read_calls: AtomicU64,
    /// The server promised events in seq order (`orderedEvents`).
    ordered: AtomicBool,
    next_write: AtomicU64,
    next_process: AtomicU64,
    closing: AtomicBool,
    client_name: String,
    recovery: Option<(Connector, RetryPolicy)>,
}

fn decode<T: DeserializeOwned>(method: &str, v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| ClientError::Protocol {
        method: method.to_string(),
        reason: e.to_string(),
    })
}

/// A client of one exec-server session. Cheap to clone (clones share the session); every method
/// takes `&self` and calls run concurrently.
#[derive(Clone)]
pub struct ExecServerClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ExecServerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecServerClient")
            .field("session_id", &self.session_id())
            .field("link", &*self.inner.link.borrow())
            .finish_non_exhaustive()
    }
}

impl ExecServerClient {
    /// Spawns `command` (e.g. `codex-exec-server --listen stdio`) and starts a session over its
    /// stdin/stdout. The child is killed when the client is dropped.
    pub async fn spawn_stdio(
        command: tokio::process::Command,
        client_name: &str,
    ) -> Result<ExecServerClient> {
        let inner = Inner::new(client_name, None);
        let generation = inner.next_generation.fetch_add(1, Ordering::Relaxed);
        let conn = Connection::stdio(command, generation, inner.events())?;
        let init = inner.initialize(&conn, None).await?;
        inner.install(generation, conn, init);
        Ok(ExecServerClient { inner })
    }

    /// Opens one WebSocket to `url` (`ws://` only) and starts a session; no retries, no recovery.
    pub async fn connect_websocket(
        url: &str,
        token: Option<&str>,
        client_name: &str,
    ) -> Result<ExecServerClient> {
        let inner = Inner::new(client_name, None);
        let endpoint = Endpoint {
            url: url.to_string(),
            token: token.map(str::to_string),
        };
        let (generation, conn, init) = inner.open(&endpoint, None).await.map_err(|f| match f {
            Failure::Retry(e) | Failure::Stop(e) => e,
        })?;
        inner.install(generation, conn, init);
        Ok(ExecServerClient { inner })
    }

    /// Connects through `connector`, retrying transient failures until `options.retry.deadline`,
    /// and starts a session. With `options.recover_session`, a dropped link is recovered.
    pub async fn connect(
        connector: Connector,
        options: ConnectOptions,
    ) -> Result<ExecServerClient> {
        let recovery = options
            .recover_session
            .then(|| (connector.clone(), options.retry));
        let inner = Inner::new(&options.client_name, recovery);
        let (generation, conn, init) =
            with_retries(&options.retry, "connecting to exec-server", || {
                let (inner, connector) = (&inner, &connector);
                async move {
                    let endpoint = connector.endpoint().await?;
                    inner.open(&endpoint, None).await
                }
            })
            .await?;
        inner.install(generation, conn, init);
        Ok(ExecServerClient { inner })
    }

    /// The session id (unchanged by a recovery, which resumes the same session).
    pub fn session_id(&self) -> String {
        lock(&self.inner.session_id).clone()
    }

    /// What the server said about its machine in `initialize`.
    pub fn environment_info(&self) -> Option<EnvironmentInfo> {
        lock(&self.inner.environment).clone()
    }

    /// How many `process/read` calls this client has issued (explicit and catch-up reads).
    pub fn read_calls(&self) -> u64 {
        self.inner.read_calls.load(Ordering::Relaxed)
    }

    /// Whether the link is gone for good (closed, or recovery gave up).
    pub fn is_closed(&self) -> bool {
        matches!(*self.inner.link.borrow(), Link::Down(_))
    }

    /// Whether a dropped link is being recovered right now.
    pub fn is_recovering(&self) -> bool {
        matches!(*self.inner.link.borrow(), Link::Recovering)
    }

    /// Waits until the link is gone for good; returns why.
    pub async fn closed(&self) -> String {
        let mut rx = self.inner.link.subscribe();
        match rx.wait_for(|l| matches!(l, Link::Down(_))).await {
            Ok(l) => match &*l {
                Link::Down(why) => why.clone(),
                _ => String::new(),
            },
            Err(_) => "client dropped".into(),
        }
    }

    /// Drops the current connection abruptly, as a network failure would. A client with session
    /// recovery then reconnects; others fail their processes. Meant for tests and for callers
    /// that detect a dead link on their own.
    pub fn abort_connection(&self) {
        if let Some(conn) = lock(&self.inner.current).conn.clone() {
            conn.abort();
        }
    }

    /// Closes the session's link for good (no recovery); live processes fail.
    pub fn close(&self) {
        self.inner.closing.store(true, Ordering::SeqCst);
        self.abort_connection();
    }

    /// Starts a process. Its events are routed from the moment the request is sent.
    pub async fn start(&self, options: StartOptions) -> Result<RemoteProcess> {
        let id = options.process_id.clone().unwrap_or_else(|| {
            format!(
                "p{}",
                self.inner.next_process.fetch_add(1, Ordering::Relaxed) + 1
            )
        });
        let (sink, rx) = Sink::new();
        {
            let mut map = lock(&self.inner.processes);
            if map.contains_key(&id) {
                return Err(ClientError::Protocol {
                    method: method::PROCESS_START.into(),
                    reason: format!("process {id} is already tracked by this client"),
                });
            }
            map.insert(id.clone(), sink.clone());
        }
        let params = StartParams {
            process_id: id.clone(),
            argv: options.argv,
            cwd: codex_exec_server_protocol::path_to_cwd(&options.cwd),
            env: options.env,
            tty: options.tty,
            pipe_stdin: options.pipe_stdin,
            backpressure: options.backpressure,
            sandbox: options.sandbox,
        };
        let started: Result<StartResult> = self.inner.call(method::PROCESS_START, &params).await;
        if let Err(e) = started {
            self.inner.unregister(&id, &sink);
            return Err(e);
        }
        // A server that promises seq order makes every gap real: catch up at once.
        let grace = if self.inner.ordered.load(Ordering::Relaxed) {
            std::time::Duration::ZERO
        } else {
            super::process::REORDER_GRACE
        };
        Ok(RemoteProcess::new(id, self.inner.clone(), sink, rx, grace))
    }

    /// `process/read` for any process id.
    pub async fn read(&self, params: ReadParams) -> Result<ReadResult> {
        self.inner.read(params).await
    }

    /// `process/write` for any process id.
    pub async fn write(
        &self,
        process_id: &str,
        bytes: &[u8],
        write_id: &str,
    ) -> Result<WriteStatus> {
        self.inner.write(process_id, bytes, write_id).await
    }

    /// `process/signal` for any process id.
    pub async fn signal(&self, process_id: &str, signal: Signal) -> Result<()> {
        self.inner.signal(process_id, signal).await
    }

    /// `process/terminate` for any process id; returns whether it was running.
    pub async fn terminate(&self, process_id: &str) -> Result<bool> {
        self.inner.terminate(process_id).await
    }
}

impl Inner {
    fn new(client_name: &str, recovery: Option<(Connector, RetryPolicy)>) -> Arc<Inner> {
        Arc::new_cyclic(|me| Inner {
            me: me.clone(),
            current: Mutex::new(Current {
                generation: 0,
                conn: None,
            }),
            link: watch::channel(Link::Recovering).0,
            next_generation: AtomicU64::new(1),
            session_id: Mutex::new(String::new()),
            environment: Mutex::new(None),
            processes: Mutex::new(HashMap::new()),
            read_calls: AtomicU64::new(0),
            ordered: AtomicBool::new(false),
            next_write: AtomicU64::new(0),
            next_process: AtomicU64::new(0),
            closing: AtomicBool::new(false),
            client_name: client_name.to_string(),
            recovery,
        })
    }

    fn events(&self) -> Weak<dyn Events> {
        let me: Weak<dyn Events> = self.me.clone();
        me
    }

    /// `initialize` (resuming `resume` when given), then the `initialized` notification.
    async fn initialize(
        &self,
        conn: &Connection,
        resume: Option<String>,
    ) -> Result<InitializeResult> {
        let params = InitializeParams {
            client_name: self.client_name.clone(),
            resume_session_id: resume,
        };
        let v = conn.call(method::INITIALIZE, &params).await?;
        let init: InitializeResult = decode(method::INITIALIZE, v)?;
        conn.notify(method::INITIALIZED, &serde_json::json!({}))?;
        Ok(init)
    }

    /// One attempt: open the WebSocket and initialize on it.
    pub(crate) async fn open(
        &self,
        endpoint: &Endpoint,
        resume: Option<String>,
    ) -> std::result::Result<(u64, Arc<Connection>, InitializeResult), Failure> {
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let conn = Connection::websocket(
            &endpoint.url,
            endpoint.token.as_deref(),
            generation,
            self.events(),
        )
        .await
        .map_err(|e| match ws_error_is_retryable(&e) {
            true => Failure::Retry(e),
            false => Failure::Stop(e),
        })?;
        match self.initialize(&conn, resume).await {
            Ok(init) => Ok((generation, conn, init)),
            Err(e @ ClientError::ConnectionLost(_)) => Err(Failure::Retry(e)),
            Err(e) => Err(Failure::Stop(e)),
        }
    }

    /// Makes `conn` the current connection (a fresh session, or the resumed one).
    pub(crate) fn install(&self, generation: u64, conn: Arc<Connection>, init: InitializeResult) {
        self.ordered.store(init.ordered_events, Ordering::Relaxed);
        *lock(&self.session_id) = init.session_id;
        if init.environment_info.is_some() {
            *lock(&self.environment) = init.environment_info;
        }
        let dead = conn.is_closed();
        {
            let mut cur = lock(&self.current);
            cur.generation = generation;
            cur.conn = Some(conn);
        }
        // Processes that missed events while the link was down catch up with one read each.
        for sink in lock(&self.processes).values() {
            sink.resync();
        }
        self.link.send_replace(Link::Up(generation));
        if dead {
            // It died before it was current, so its reader's `closed` was ignored: handle it now.
            self.closed(
                generation,
                "connection closed right after initialize".into(),
            );
        }
    }

    /// The id of the current connection (0 before the first).
    pub(crate) fn generation(&self) -> u64 {
        lock(&self.current).generation
    }

    /// Waits until a connection newer than `generation` is up (after a recovery), or returns why
    /// the link is gone for good.
    pub(crate) async fn relinked_since(&self, generation: u64) -> std::result::Result<(), String> {
        let mut rx = self.link.subscribe();
        let r = rx
            .wait_for(|l| match l {
                Link::Up(g) => *g != generation,
                Link::Down(_) => true,
                Link::Recovering => false,
            })
            .await;
        match r.as_deref() {
            Ok(Link::Up(_)) => Ok(()),
            Ok(Link::Down(why)) => Err(why.clone()),
            _ => Err("client dropped".into()),
        }
    }

    /// The current connection, waiting out a recovery in progress.
    async fn connection(&self) -> Result<Arc<Connection>> {
        loop {
            let generation = {
                let cur = lock(&self.current);
                match &cur.conn {
                    Some(c) => return Ok(c.clone()),
                    None => cur.generation,
                }
            };
            self.relinked_since(generation)
                .await
                .map_err(ClientError::Closed)?;
        }
    }

    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &impl serde::Serialize,
    ) -> Result<T> {
        let conn = self.connection().await?;
        let v = conn.call(method, params).await?;
        decode(method, v)
    }

    pub(crate) async fn read(&self, params: ReadParams) -> Result<ReadResult> {
        self.read_calls.fetch_add(1, Ordering::Relaxed);
        self.call(method::PROCESS_READ, &params).await
    }

    pub(crate) fn next_write_id(&self) -> String {
        format!("w{}", self.next_write.fetch_add(1, Ordering::Relaxed) + 1)
    }

    pub(crate) async fn write(
        &self,
        id: &str,
        bytes: &[u8],
        write_id: &str,
    ) -> Result<WriteStatus> {
        let params = WriteParams {
            process_id: id.to_string(),
            chunk: bytes.into(),
            write_id: write_id.to_string(),
        };
        let r: WriteResult = self.call(method::PROCESS_WRITE, &params).await?;
        Ok(r.status)
    }

    pub(crate) async fn signal(&self, id: &str, signal: Signal) -> Result<()> {
        let params = SignalParams {
            process_id: id.to_string(),
            signal,
        };
        let _: Value = self.call(method::PROCESS_SIGNAL, &params).await?;
        Ok(())
    }

    pub(crate) async fn terminate(&self, id: &str) -> Result<bool> {
        let params = ProcessRef {
            process_id: id.to_string(),
        };
        let r: TerminateResult = self.call(method::PROCESS_TERMINATE, &params).await?;
        Ok(r.running)
    }

    /// Stops routing events to `sink` (only if it is still the one registered under `id`).
    pub(crate) fn unregister(&self, id: &str, sink: &Arc<Sink>) {
        let mut map = lock(&self.processes);
        if map.get(id).is_some_and(|s| Arc::ptr_eq(s, sink)) {
            map.remove(id);
        }
    }

    fn fail_all(&self, reason: &str) {
        for sink in lock(&self.processes).values() {
            sink.fail(reason.to_string());
        }
    }

    fn route(&self, id: &str, event: Pushed) {
        let sink = lock(&self.processes).get(id).cloned();
        match sink {
            Some(sink) => sink.push(event),
            None => {
                tracing::debug!(process = %id, "event for a process this client does not track")
            }
        }
    }
}

impl Events for Inner {
    fn notification(&self, _generation: u64, method: &str, params: Value) {
        // Every connection of this client serves the same session, so its events all count.
        let parsed = match method {
            method::PROCESS_OUTPUT => decode::<OutputNotification>(method, params).map(|n| {
                let e = Pushed::Output {
                    seq: n.seq,
                    stream: n.stream,
                    bytes: n.chunk.0,
                };
                (n.process_id, e)
            }),
            method::PROCESS_EXITED => decode::<ExitedNotification>(method, params).map(|n| {
                let e = Pushed::Exited {
                    seq: n.seq,
                    code: n.exit_code,
                    sandbox_denied: n.sandbox_denied.unwrap_or(false),
                };
                (n.process_id, e)
            }),
            method::PROCESS_CLOSED => decode::<ClosedNotification>(method, params)
                .map(|n| (n.process_id, Pushed::Closed { seq: n.seq })),
            other => {
                tracing::debug!(method = %other, "ignoring an unknown notification");
                return;
            }
        };
        match parsed {
            Ok((id, event)) => self.route(&id, event),
            Err(e) => tracing::warn!("{e}"),
        }
    }

    fn closed(&self, generation: u64, reason: String) {
        {
            let mut cur = lock(&self.current);
            if cur.generation != generation || cur.conn.is_none() {
                return; // a stale connection, or already handled
            }
            cur.conn = None;
        }
        let recovery = self.recovery.clone();
        match (
            recovery,
            self.closing.load(Ordering::SeqCst),
            self.me.upgrade(),
        ) {
            (Some((connector, policy)), false, Some(me)) => {
                tracing::info!("exec-server link lost ({reason}); resuming the session");
                self.link.send_replace(Link::Recovering);
                tokio::spawn(super::recovery::resume_session(
                    me, connector, policy, reason,
                ));
            }
            _ => {
                let why = format!("connection to exec-server lost: {reason}");
                self.link.send_replace(Link::Down(why.clone()));
                self.fail_all(&why);
            }
        }
    }
}

impl Inner {
    /// Recovery gave up: the link is gone and so is every live process.
    pub(crate) fn give_up(&self, why: String) {
        self.link.send_replace(Link::Down(why.clone()));
        self.fail_all(&why);
    }

    /// The session id to resume.
    pub(crate) fn session(&self) -> String {
        lock(&self.session_id).clone()
    }

    /// Whether [`ExecServerClient::close`] was called.
    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }
}
