//! The WebSocket listener: `GET /readyz` for health checks, and WebSocket handshakes that carry
//! the bearer token and no browser `Origin` (a web page must never drive a process runner).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt as _;
use futures_util::stream::SplitSink;
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;

use super::outbox::Outbox;

/// An accepted WebSocket.
pub type Socket = WebSocketStream<TcpStream>;

/// Who may connect.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Handshakes must carry `Authorization: Bearer <token>`.
    Token(String),
    /// Anyone who can reach the port (`--insecure-no-auth`).
    None,
}

/// A bound listener.
#[derive(Debug)]
pub struct Listening {
    /// The socket.
    pub listener: TcpListener,
    /// The address it is bound to (with the real port when 0 was asked for).
    pub addr: SocketAddr,
    /// Who may connect.
    pub auth: Auth,
}

impl Listening {
    /// Binds `addr`.
    pub async fn bind(addr: SocketAddr, auth: Auth) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        Ok(Listening {
            listener,
            addr,
            auth,
        })
    }
}

/// Answers `/readyz`, or completes a WebSocket handshake that passes `auth`.
/// How long a connection may take from connecting to a finished, authenticated handshake.
pub const PRE_AUTH_TIME: Duration = Duration::from_secs(10);

pub async fn accept(stream: TcpStream, auth: &Arc<Auth>) -> Option<Socket> {
    let deadline = tokio::time::Instant::now() + PRE_AUTH_TIME;
    tokio::time::timeout_at(deadline, accept_by(stream, auth, deadline))
        .await
        .ok()
        .flatten()
}

async fn accept_by(
    stream: TcpStream,
    auth: &Arc<Auth>,
    deadline: tokio::time::Instant,
) -> Option<Socket> {
    let _ = stream.set_nodelay(true);
    if is_readyz(&stream, deadline).await {
        let mut stream = stream;
        let body = "ok\n";
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
        return None;
    }
    let auth = auth.clone();
    // tungstenite's callback type fixes the error as a whole HTTP response.
    #[allow(clippy::result_large_err)]
    let check = move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        if req.headers().contains_key("origin") {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "browser origins may not connect to codex-exec-server",
            ));
        }
        if let Auth::Token(token) = &*auth {
            let given = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if !given.is_some_and(|g| same(g.as_bytes(), token.as_bytes())) {
                return Err(refuse(
                    StatusCode::UNAUTHORIZED,
                    "missing or wrong bearer token",
                ));
            }
        }
        Ok(resp)
    };
    let handshake = tokio_tungstenite::accept_hdr_async(stream, check);
    match tokio::time::timeout(Duration::from_secs(10), handshake).await {
        Ok(Ok(socket)) => Some(socket),
        Ok(Err(e)) => {
            tracing::info!("refused a connection: {e}");
            None
        }
        Err(_) => None,
    }
}

fn refuse(status: StatusCode, why: &str) -> ErrorResponse {
    let mut r = ErrorResponse::new(Some(format!("{why}\n")));
    *r.status_mut() = status;
    r
}

/// Compares without an early exit, so timing does not reveal how much of a token matched.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the request waiting on `stream` is `GET /readyz` (peeked: a handshake stays unread).
async fn is_readyz(stream: &TcpStream, deadline: tokio::time::Instant) -> bool {
    let want = b"GET /readyz ";
    let mut buf = [0u8; 12];
    // Peeking leaves the bytes readable, so a client that sends part of the prefix and stops
    // would wake this loop at once, forever: back off instead (1 ms, doubling to 100 ms).
    let mut pause = Duration::from_millis(1);
    loop {
        let n = match tokio::time::timeout_at(deadline, stream.peek(&mut buf)).await {
            Ok(Ok(n)) => n,
            _ => return false,
        };
        if n == 0 || buf[..n] != want[..n] {
            return false;
        }
        if n == want.len() {
            return true;
        }
        // Part of the prefix has arrived; wait for the rest.
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Writes `outbox` as text frames, a batch per flush.
pub async fn write_frames(outbox: Arc<Outbox>, mut sink: SplitSink<Socket, Message>) {
    while let Some(batch) = outbox.take().await {
        for m in batch {
            if sink.feed(Message::text(m)).await.is_err() {
                outbox.close();
                return;
            }
        }
        if sink.flush().await.is_err() {
            outbox.close();
            return;
        }
    }
    let _ = sink.close().await;
}
