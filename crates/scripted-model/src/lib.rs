//! A model provider played from a script, for tests and benchmarks: a real HTTP/1.1 server on
//! 127.0.0.1 that answers each request with the next scripted [`Reply`] (in order, whatever the
//! path) and records every [`Request`] it received.
//!
//! It speaks enough HTTP for reqwest and curl: keep-alive connections, `Content-Length` and
//! chunked request bodies, and SSE replies sent as one chunk per event (flushed as they are
//! written, like a provider streaming tokens). When the script runs out it answers
//! `500 script exhausted`, so a test that makes one request too many fails loudly.
//! [`script`] builds realistic Responses and Chat Completions event streams; [`issuer`] is an
//! OAuth sign-in server on loopback for the sign-in tests.

pub mod issuer;
pub mod script;

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One scripted answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `200 OK`, `text/event-stream`, with this raw body (sent one event per chunk).
    Sse(String),
    /// Any status with these extra headers (e.g. `Retry-After`) and body; `Content-Type` is
    /// `application/json` unless `headers` names one.
    Status {
        /// The HTTP status code.
        status: u16,
        /// Extra response headers.
        headers: Vec<(String, String)>,
        /// The body, as is.
        body: String,
    },
    /// `200 OK` with these SSE bytes, then the connection closes without ending the body: a
    /// stream cut off mid-way.
    Cut(String),
    /// `200 OK` with these SSE bytes, then nothing more until the client hangs up or the server
    /// stops: a provider that stalls mid-stream.
    Hang(String),
}

impl Reply {
    /// A status reply with a JSON body and no extra headers.
    pub fn status(status: u16, body: &serde_json::Value) -> Reply {
        Reply::Status {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    /// An OpenAI-style error reply: `{"error": {"message", "type", "code"}}`.
    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply::status(
            status,
            &serde_json::json!({
                "error": {"message": message, "type": "invalid_request_error", "code": code}
            }),
        )
    }
}

/// A request the server received.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// `POST`, `GET`, ...
    pub method: String,
    /// The request target, e.g. `/v1/responses`.
    pub path: String,
    /// The headers in the order sent (names as sent; see [`Request::header`]).
    pub headers: Vec<(String, String)>,
    /// The body as JSON: `null` when empty, a JSON string holding the text when it is not JSON.
    pub body: serde_json::Value,
    /// When the whole request (headers and body) had been read.
    pub received_at: Instant,
}

impl Request {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The running server. Dropping it stops it and closes its connections.
#[derive(Debug)]
pub struct ScriptedModel {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    stop: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    replies: VecDeque<Reply>,
    requests: Vec<Request>,
    /// Per request, when its reply's last byte was written.
    finished: Vec<Option<Instant>>,
    /// Every accepted connection, so that dropping the server can close them.
    conns: Vec<TcpStream>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking connection thread must not take the whole script down with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ScriptedModel {
    /// Starts a server on a free port of 127.0.0.1 that will play `replies` in order.
    pub fn start(replies: Vec<Reply>) -> io::Result<ScriptedModel> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                replies: replies.into(),
                ..State::default()
            }),
            stop: AtomicBool::new(false),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name("scripted-model-accept".into())
            .spawn(move || accept_loop(&listener, &accept_shared))?;
        Ok(ScriptedModel {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// The provider base URL to configure: `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Appends a reply to the script.
    pub fn push(&self, reply: Reply) {
        self.shared.lock().replies.push_back(reply);
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().requests.clone()
    }

    /// When the last byte of each finished reply was written, in request order (a reply still
    /// being written is left out). For measuring the client's own overhead: the next request's
    /// `received_at` minus the previous reply's finish. (The time is taken just after the write,
    /// so a fast client may already have read the reply.)
    pub fn reply_finished_at(&self) -> Vec<Instant> {
        self.shared
            .lock()
            .finished
            .iter()
            .flatten()
            .copied()
            .collect()
    }

    /// How many TCP connections clients have opened so far (a client that reuses its
    /// connections opens one for many requests).
    pub fn connections(&self) -> usize {
        self.shared.lock().conns.len()
    }

    /// How many scripted replies have not been used yet.
    pub fn remaining(&self) -> usize {
        self.shared.lock().replies.len()
    }
}

impl Drop for ScriptedModel {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop, which is blocked in accept(); it sees `stop` and returns.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        for conn in self.shared.lock().conns.drain(..) {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(conn) = conn else { continue };
        if let Ok(handle) = conn.try_clone() {
            shared.lock().conns.push(handle);
        }
        let shared = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name("scripted-model-conn".into())
            .spawn(move || {
                // A client that hangs up mid-request is not the server's problem.
                let _ = serve(&shared, conn);
            });
        drop(spawned);
    }
}

/// Serves the requests of one keep-alive connection.
fn serve(shared: &Shared, conn: TcpStream) -> io::Result<()> {
    // Each SSE chunk must leave at once, as a provider's tokens would.
    conn.set_nodelay(true)?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut writer = conn;
    while let Some(mut request) = read_request(&mut reader)? {
        request.received_at = Instant::now();
        let close_after = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let (index, reply) = {
            let mut state = shared.lock();
            let index = state.requests.len();
            let reply = state.replies.pop_front();
            state.requests.push(request.clone());
            state.finished.push(None);
            (index, reply)
        };
        let reply = reply.unwrap_or_else(|| exhausted(index, &request));
        let keep_alive = write_reply(shared, &mut writer, &mut reader, &reply)?;
        if let Some(slot) = shared.lock().finished.get_mut(index) {
            *slot = Some(Instant::now());
        }
        if !keep_alive || close_after {
            let _ = writer.shutdown(Shutdown::Both);
            return Ok(());
        }
    }
    Ok(())
}

fn exhausted(index: usize, request: &Request) -> Reply {
    Reply::status(
        500,
        &serde_json::json!({"error": {
            "message": format!(
                "script exhausted: the scripted model has no reply for request {} ({} {})",
                index + 1, request.method, request.path
            ),
            "type": "server_error",
        }}),
    )
}

/// Longest header section accepted, so that a confused client cannot grow memory without bound.
const MAX_HEADER_BYTES: usize = 64 * 1024;

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

fn read_line(reader: &mut impl BufRead, budget: &mut usize) -> io::Result<Option<String>> {
    let mut line = String::new();
    let n = reader
        .by_ref()
        .take(*budget as u64 + 1)
        .read_line(&mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if n > *budget {
        return Err(bad("request header section too large"));
    }
    *budget -= n;
    if !line.ends_with('\n') {
        return Err(bad("connection closed inside a request line"));
    }
    let trimmed = line.trim_end_matches(['\r', '\n']).len();
    line.truncate(trimmed);
    Ok(Some(line))
}

/// Reads one request; `None` when the client closed the connection between requests.
fn read_request(reader: &mut impl BufRead) -> io::Result<Option<Request>> {
    let mut budget = MAX_HEADER_BYTES;
    let start = loop {
        match read_line(reader, &mut budget)? {
            None => return Ok(None),
            // RFC 9112 asks servers to ignore empty lines before a request line.
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    let mut parts = start.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts
        .next()
        .ok_or_else(|| bad("request line without a target"))?
        .to_string();
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader, &mut budget)?
            .ok_or_else(|| bad("connection closed inside the request headers"))?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad("header line without a colon"))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let mut request = Request {
        method,
        path,
        headers,
        body: serde_json::Value::Null,
        received_at: Instant::now(),
    };
    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        read_chunked(reader)?
    } else if let Some(len) = request.header("content-length") {
        let len: usize = len.parse().map_err(|_| bad("bad Content-Length"))?;
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        body
    } else {
        Vec::new()
    };
    request.body = if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&body).into_owned())
        })
    };
    Ok(Some(request))
}

fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut budget = MAX_HEADER_BYTES;
        let line = read_line(reader, &mut budget)?
            .ok_or_else(|| bad("connection closed inside a chunked body"))?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| bad("bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the blank line that ends the body.
            loop {
                let trailer = read_line(reader, &mut budget)?
                    .ok_or_else(|| bad("connection closed inside chunked trailers"))?;
                if trailer.is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf)?;
        if &crlf != b"\r\n" {
            return Err(bad("chunk not followed by CRLF"));
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

const SSE_HEAD: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n";

fn write_chunk(w: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    if bytes.is_empty() {
        return Ok(()); // an empty chunk would end the body
    }
    write!(w, "{:x}\r\n", bytes.len())?;
    w.write_all(bytes)?;
    w.write_all(b"\r\n")?;
    w.flush()
}

/// Writes `reply`; returns whether the connection can serve another request.
fn write_reply(
    shared: &Shared,
    w: &mut TcpStream,
    reader: &mut BufReader<TcpStream>,
    reply: &Reply,
) -> io::Result<bool> {
    match reply {
        Reply::Sse(body) => {
            w.write_all(SSE_HEAD.as_bytes())?;
            for event in body.split_inclusive("\n\n") {
                write_chunk(w, event.as_bytes())?;
            }
            w.write_all(b"0\r\n\r\n")?;
            w.flush()?;
            Ok(true)
        }
        Reply::Status {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(*status));
            if !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            {
                head.push_str("content-type: application/json\r\n");
            }
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
            w.write_all(head.as_bytes())?;
            w.write_all(body.as_bytes())?;
            w.flush()?;
            Ok(true)
        }
        Reply::Cut(bytes) => {
            w.write_all(SSE_HEAD.as_bytes())?;
            write_chunk(w, bytes.as_bytes())?;
            // No terminating chunk: the client sees the body end early.
            w.shutdown(Shutdown::Both)?;
            Ok(false)
        }
        Reply::Hang(bytes) => {
            w.write_all(SSE_HEAD.as_bytes())?;
            write_chunk(w, bytes.as_bytes())?;
            // Wait for the client to give up (it closes the connection) or the server to stop,
            // checking `stop` now and then.
            reader
                .get_ref()
                .set_read_timeout(Some(Duration::from_millis(50)))?;
            let mut sink = [0; 1024];
            while !shared.stop.load(Ordering::SeqCst) {
                match reader.read(&mut sink) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
            }
            Ok(false)
        }
    }
}
