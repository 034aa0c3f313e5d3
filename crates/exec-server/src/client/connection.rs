//! One JSON-RPC connection: a writer task fed by an unbounded channel (so no caller ever blocks on
//! the socket), a reader task that hands replies to pending calls by id and notifications to an
//! [`Events`] sink, and the bookkeeping that fails every pending call when the link dies.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use codex_exec_server_protocol::{Incoming, RequestId, RpcError, notification, request};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use super::error::{ClientError, Result};
use crate::sync::lock;

/// Where a connection's notifications and its end go.
pub(crate) trait Events: Send + Sync + 'static {
    /// A notification arrived on connection `generation`.
    fn notification(&self, generation: u64, method: &str, params: Value);
    /// Connection `generation` ended (EOF, error or abort).
    fn closed(&self, generation: u64, reason: String);
}

type Reply = std::result::Result<Value, RpcError>;

#[derive(Default)]
struct Pending {
    waiting: HashMap<i64, oneshot::Sender<Reply>>,
    /// Set (under the same lock) before the waiters are failed, so no call can slip in after.
    closed: Option<String>,
}

/// A live connection. Dropping it closes the link.
pub(crate) struct Connection {
    out: mpsc::UnboundedSender<String>,
    pending: Arc<Mutex<Pending>>,
    next_id: AtomicI64,
    shutdown: watch::Sender<bool>,
    child: Mutex<Option<Child>>,
}

/// A WebSocket stream over plain TCP.
type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Connection {
    /// Spawns `command` and talks JSON lines over its stdin/stdout.
    pub(crate) fn stdio(
        mut command: tokio::process::Command,
        generation: u64,
        events: Weak<dyn Events>,
    ) -> Result<Arc<Connection>> {
        command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .map_err(|e| ClientError::Spawn(e.to_string()))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(ClientError::Spawn("child has no stdin/stdout pipes".into()));
        };
        let (conn, rx) = Connection::new(Some(child));
        let shutdown = conn.shutdown.subscribe();
        tokio::spawn(write_lines(stdin, rx, shutdown.clone()));
        tokio::spawn(read_lines(
            stdout,
            conn.reader(generation, events),
            shutdown,
        ));
        Ok(conn)
    }

    /// Opens `url` (`ws://` only; no TLS in this build), sending `Authorization: Bearer <token>`.
    pub(crate) async fn websocket(
        url: &str,
        token: Option<&str>,
        generation: u64,
        events: Weak<dyn Events>,
    ) -> Result<Arc<Connection>> {
        let connect_err = |reason: String| ClientError::Connect {
            url: url.to_string(),
            reason,
        };
        let mut req = url
            .into_client_request()
            .map_err(|e| connect_err(e.to_string()))?;
        if let Some(t) = token {
            let value = format!("Bearer {t}")
                .parse()
                .map_err(|_| connect_err("token is not a valid header value".into()))?;
            req.headers_mut().insert("authorization", value);
        }
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .map_err(|e| connect_err(describe_ws_error(&e)))?;
        let (conn, rx) = Connection::new(None);
        let shutdown = conn.shutdown.subscribe();
        let (sink, stream) = ws.split();
        tokio::spawn(write_frames(sink, rx, shutdown.clone()));
        tokio::spawn(read_frames(
            stream,
            conn.reader(generation, events),
            shutdown,
        ));
        Ok(conn)
    }

    fn new(child: Option<Child>) -> (Arc<Connection>, mpsc::UnboundedReceiver<String>) {
        let (out, rx) = mpsc::unbounded_channel();
        let (shutdown, _) = watch::channel(false);
        let conn = Arc::new(Connection {
            out,
            pending: Arc::default(),
            next_id: AtomicI64::new(1),
            shutdown,
            child: Mutex::new(child),
        });
        (conn, rx)
    }

    fn reader(&self, generation: u64, events: Weak<dyn Events>) -> Reader {
        Reader {
            pending: self.pending.clone(),
            generation,
            events,
            shutdown: self.shutdown.clone(),
        }
    }

    /// Sends a request and waits for its reply.
    pub(crate) async fn call(&self, method: &str, params: &impl serde::Serialize) -> Result<Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut p = lock(&self.pending);
            if let Some(reason) = &p.closed {
                return Err(ClientError::ConnectionLost(reason.clone()));
            }
            p.waiting.insert(id, tx);
        }
        let line = request(&RequestId::Number(id), method, params);
        if self.out.send(line).is_err() {
            lock(&self.pending).waiting.remove(&id);
            return Err(ClientError::ConnectionLost("writer stopped".into()));
        }
        match rx.await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(error)) => Err(ClientError::Rpc {
                method: method.to_string(),
                error,
            }),
            Err(_) => Err(ClientError::ConnectionLost(
                lock(&self.pending)
                    .closed
                    .clone()
                    .unwrap_or_else(|| "connection closed".into()),
            )),
        }
    }

    /// Sends a notification.
    pub(crate) fn notify(&self, method: &str, params: &impl serde::Serialize) -> Result<()> {
        self.out
            .send(notification(method, params))
            .map_err(|_| ClientError::ConnectionLost("writer stopped".into()))
    }

    /// Whether the link has ended.
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.pending).closed.is_some()
    }

    /// Breaks the link now, as a network failure would: both tasks stop, the socket is dropped
    /// (a stdio child is killed), pending calls fail and the [`Events`] sink hears `closed`.
    pub(crate) fn abort(&self) {
        if let Some(child) = lock(&self.child).as_mut() {
            let _ = child.start_kill();
        }
        self.shutdown.send_replace(true);
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

/// The reader side's state: routes each message, and finishes the connection when it ends.
struct Reader {
    pending: Arc<Mutex<Pending>>,
    generation: u64,
    events: Weak<dyn Events>,
    shutdown: watch::Sender<bool>,
}

impl Reader {
    fn handle(&self, text: &str) {
        match Incoming::parse(text) {
            Ok(Incoming::Response { id, result }) => {
                let RequestId::Number(n) = id else {
                    tracing::debug!(?id, "reply with an id we never sent");
                    return;
                };
                if let Some(tx) = lock(&self.pending).waiting.remove(&n) {
                    let _ = tx.send(result);
                } else if n >= 0 {
                    tracing::debug!(id = n, "reply to no pending call");
                }
            }
            Ok(Incoming::Notification { method, params }) => {
                if let Some(events) = self.events.upgrade() {
                    events.notification(self.generation, &method, params);
                }
            }
            Ok(Incoming::Request { method, .. }) => {
                tracing::debug!(%method, "ignoring a request from the server");
            }
            Err(e) => tracing::warn!("unreadable message from exec-server: {e}"),
        }
    }

    fn finish(self, reason: String) {
        self.shutdown.send_replace(true);
        let waiting = {
            let mut p = lock(&self.pending);
            p.closed.get_or_insert_with(|| reason.clone());
            std::mem::take(&mut p.waiting)
        };
        drop(waiting); // each caller sees its oneshot dropped and reports ConnectionLost
        if let Some(events) = self.events.upgrade() {
            events.closed(self.generation, reason);
        }
    }
}

async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which also means stop.
    let _ = shutdown.wait_for(|s| *s).await;
}

async fn write_lines(
    mut stdin: ChildStdin,
    mut rx: mpsc::UnboundedReceiver<String>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let line = tokio::select! {
            line = rx.recv() => line,
            _ = stopped(&mut shutdown) => None,
        };
        let Some(mut line) = line else { break };
        line.push('\n');
        if stdin.write_all(line.as_bytes()).await.is_err() || stdin.flush().await.is_err() {
            break;
        }
    }
}

async fn read_lines(stdout: ChildStdout, reader: Reader, mut shutdown: watch::Receiver<bool>) {
    let mut lines = BufReader::new(stdout).lines();
    let reason = loop {
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) if line.trim().is_empty() => {}
                Ok(Some(line)) => reader.handle(&line),
                Ok(None) => break "exec-server closed its stdout".to_string(),
                Err(e) => break format!("reading exec-server stdout: {e}"),
            },
            _ = stopped(&mut shutdown) => break "connection aborted".to_string(),
        }
    };
    reader.finish(reason);
}

async fn write_frames(
    mut sink: futures_util::stream::SplitSink<Ws, Message>,
    mut rx: mpsc::UnboundedReceiver<String>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let text = tokio::select! {
            text = rx.recv() => text,
            _ = stopped(&mut shutdown) => None,
        };
        let Some(text) = text else { break };
        if sink.send(Message::text(text)).await.is_err() {
            break;
        }
    }
    // Dropping the sink (with the stream, in the reader) closes the TCP connection.
}

async fn read_frames(
    mut stream: futures_util::stream::SplitStream<Ws>,
    reader: Reader,
    mut shutdown: watch::Receiver<bool>,
) {
    let reason = loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(t))) => reader.handle(t.as_str()),
                Some(Ok(Message::Binary(b))) => match std::str::from_utf8(&b) {
                    Ok(t) => reader.handle(t),
                    Err(_) => tracing::warn!("binary frame that is not UTF-8"),
                },
                Some(Ok(Message::Close(frame))) => {
                    break match frame {
                        Some(f) => format!("server closed the WebSocket ({}: {})", f.code, f.reason),
                        None => "server closed the WebSocket".to_string(),
                    };
                }
                Some(Ok(_)) => {} // ping/pong/raw frames: tungstenite answers pings itself
                Some(Err(e)) => break format!("WebSocket error: {e}"),
                None => break "WebSocket closed".to_string(),
            },
            _ = stopped(&mut shutdown) => break "connection aborted".to_string(),
        }
    };
    reader.finish(reason);
}

/// A WebSocket handshake error, with the HTTP status when the server answered one.
fn describe_ws_error(e: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::Http(resp) => format!("handshake refused with HTTP {}", resp.status().as_u16()),
        other => other.to_string(),
    }
}

/// Whether a WebSocket connect failure is worth retrying (refused/reset/timeouts and 5xx are;
/// 4xx such as a bad token and malformed URLs are not).
pub(crate) fn ws_error_is_retryable(e: &ClientError) -> bool {
    match e {
        ClientError::Connect { reason, .. } => {
            if let Some(rest) = reason.strip_prefix("handshake refused with HTTP ") {
                let status: u16 = rest.parse().unwrap_or(0);
                return status >= 500 || status == 408 || status == 429;
            }
            !reason.contains("URL")
        }
        ClientError::ConnectionLost(_) => true,
        _ => false,
    }
}
