//! The server: sessions of processes, served over stdio or a WebSocket listener.

mod connection;
mod outbox;
mod process;
mod session;
mod spawn;
mod ws;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use futures_util::StreamExt as _;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

pub use outbox::DEFAULT_BUDGET;
pub use process::{RETAINED_BYTES, RETAINED_CHUNKS};
pub use session::Lifetimes;
pub use ws::{Auth, Listening};

use connection::Connection;
use session::Sessions;

/// Connections that may be between connecting and authenticating at once.
pub const MAX_PENDING: usize = 64;

/// How a server behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Session and process lifetimes.
    pub lifetimes: Lifetimes,
    /// Bytes of output notifications queued per connection before they are dropped.
    pub outgoing_budget: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            lifetimes: Lifetimes {
                session_ttl: Duration::from_secs(30),
                closed_retention: Duration::from_secs(300),
            },
            outgoing_budget: DEFAULT_BUDGET,
        }
    }
}

/// A running server's shared state.
#[derive(Debug)]
pub struct Server {
    config: Config,
    sessions: Arc<Sessions>,
}

impl Server {
    /// A server with no sessions; starts its sweeper on the current runtime.
    pub fn new(config: Config) -> Arc<Self> {
        let sessions = Sessions::new(config.lifetimes);
        tokio::spawn(sessions.clone().sweep_forever());
        Arc::new(Server { config, sessions })
    }

    /// Serves one client on stdin/stdout until stdin closes, then kills what it started (nobody
    /// can resume a stdio session).
    pub async fn serve_stdio(self: &Arc<Self>) -> Result<()> {
        let conn = Connection::new(self.clone());
        let writer = tokio::spawn(write_lines(conn.outbox.clone()));
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        while let Some(line) = lines.next_line().await.context("reading stdin")? {
            if !line.trim().is_empty() {
                conn.handle(&line);
            }
        }
        conn.closed();
        self.sessions.kill_all();
        let _ = writer.await;
        Ok(())
    }

    /// Serves WebSocket clients on `listening` forever. A failed `accept` (out of file
    /// descriptors, say) is waited out, never the end; at most [`MAX_PENDING`] connections may
    /// be unauthenticated at once (more are closed at once), each for at most
    /// [`ws::PRE_AUTH_TIME`], so idle or slow clients cannot starve the ones with the token.
    pub async fn serve_ws(self: &Arc<Self>, listening: Listening) -> Result<()> {
        let auth = Arc::new(listening.auth);
        let pending = Arc::new(tokio::sync::Semaphore::new(MAX_PENDING));
        let mut warned: Option<tokio::time::Instant> = None;
        loop {
            let (stream, peer) = match listening.listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Once a minute at most: a flood would otherwise fill the log.
                    if warned.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                        tracing::warn!(error = %e, "accepting a connection failed; trying again");
                        warned = Some(tokio::time::Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(permit) = pending.clone().try_acquire_owned() else {
                tracing::debug!(%peer, "too many unauthenticated connections; closing");
                drop(stream);
                continue;
            };
            let server = self.clone();
            let auth = auth.clone();
            tokio::spawn(async move {
                let socket = ws::accept(stream, &auth).await;
                drop(permit);
                let Some(socket) = socket else {
                    return;
                };
                tracing::debug!(%peer, "client connected");
                server.serve_socket(socket).await;
                tracing::debug!(%peer, "client disconnected");
            });
        }
    }

    async fn serve_socket(self: &Arc<Self>, socket: ws::Socket) {
        use tokio_tungstenite::tungstenite::Message;
        let conn = Connection::new(self.clone());
        let (sink, mut stream) = socket.split();
        let writer = tokio::spawn(ws::write_frames(conn.outbox.clone(), sink));
        while let Some(Ok(msg)) = stream.next().await {
            match msg {
                Message::Text(text) => conn.handle(text.as_str()),
                Message::Binary(bytes) => match std::str::from_utf8(&bytes) {
                    Ok(text) => conn.handle(text),
                    Err(_) => conn.handle("\u{0}"),
                },
                Message::Close(_) => break,
                _ => {}
            }
        }
        conn.closed();
        writer.abort();
    }
}

/// Writes `outbox` to stdout, one message a line, a batch per write.
async fn write_lines(outbox: Arc<outbox::Outbox>) {
    let mut out = tokio::io::stdout();
    let mut buf = Vec::new();
    while let Some(batch) = outbox.take().await {
        buf.clear();
        for m in batch {
            buf.extend_from_slice(m.as_bytes());
            buf.push(b'\n');
        }
        if out.write_all(&buf).await.is_err() || out.flush().await.is_err() {
            outbox.close();
            break;
        }
    }
}

impl Server {
    /// Kills every process of every session (the server is stopping).
    pub fn kill_all(&self) {
        self.sessions.kill_all();
    }
}

/// A new random bearer token.
pub fn new_token() -> String {
    format!("{}{}", session::new_id(), session::new_id())
}
