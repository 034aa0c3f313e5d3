//! A local stand-in for GitHub Releases: a real HTTP(S) server on loopback that serves release
//! directories under GitHub's URL layout, and fails on request in the ways the real one does.
//!
//! Installers and updaters must survive rate limits, dropped connections, slow links, tampered
//! archives and hostile redirects; a mirror that can be told to do each of these, and that records
//! what clients asked for, lets end-to-end tests prove they do without touching the network.
//!
//! The HTTP side is deliberately minimal: one request per connection (`Connection: close`), one
//! thread per connection, no chunked encoding, no request bodies. Every client we test speaks that
//! subset, and a small server is one whose behaviour a failing test can be checked against.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// The repository the real installer downloads from, and so the mirror's default.
pub const DEFAULT_OWNER_REPO: &str = "openai/codex";

/// Long enough for any test client to send its request, short enough that a client which connects
/// and goes silent does not keep a thread around for long.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A client that stops reading (suspended, not killed) must not pin a thread forever.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Request heads beyond this are not from a client we test; refusing them bounds memory.
const MAX_HEAD: u64 = 64 * 1024;
const CHUNK: usize = 64 * 1024;

/// A way for the mirror to misbehave, registered with [`Mirror::inject`].
///
/// `Status`, `RateLimited`, `TooManyRequests` and `Redirect` replace whatever answer the request
/// would have had. The others shape a successful body (`200`/`206`), so they only match requests
/// that would succeed: a rule for `codex-x86_64.tar.gz` is not used up by the
/// `latest/download/...` redirect that leads to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and a short plain-text body.
    Status(u16),
    /// GitHub's primary rate-limit answer: `403` with `x-ratelimit-remaining: 0` and the JSON
    /// message clients are expected to recognise.
    RateLimited,
    /// `429 Too Many Requests` with `Retry-After: 1`.
    TooManyRequests,
    /// Send the usual headers, full `Content-Length` included, then close the connection after
    /// this many body bytes, like a network drop mid-download.
    Truncate(u64),
    /// Send the body at about this rate (`0` is treated as `1`), so a test can act mid-download.
    Throttle {
        /// Target rate of body bytes.
        bytes_per_sec: u64,
    },
    /// `302` to this absolute URL, e.g. an `http://` URL answered from the HTTPS listener.
    Redirect(String),
    /// Serve these bytes instead of the real content, with a matching length (ranges still apply).
    Replace(Vec<u8>),
    /// Ignore `Range` and answer `200` with the whole body, without `Accept-Ranges`.
    NoRanges,
    /// A hostile mirror's endless body: the real bytes, then zeros until the client hangs up
    /// (or 2 GiB), announced with `Content-Length: 1610612736` (1.5 GiB) or, with
    /// `announced: false`, with no length at all. [`Mirror::endless_bytes_sent`] says how much
    /// the client took.
    Endless {
        /// Whether a (false) length is announced.
        announced: bool,
    },
}

/// What a client that stops an endless body may still be counted as taking: the kernel's socket
/// buffers on both sides hold a few megabytes beyond what it read.
pub const ENDLESS_SLACK: u64 = 64 << 20;

/// What [`Fault::Endless`] announces, and the most it sends.
const ENDLESS_ANNOUNCED: u64 = 1_610_612_736;
const ENDLESS_MAX: u64 = 2 << 30;

impl Fault {
    fn shapes_body(&self) -> bool {
        matches!(
            self,
            Fault::Truncate(_)
                | Fault::Throttle { .. }
                | Fault::Replace(_)
                | Fault::NoRanges
                | Fault::Endless { .. }
        )
    }
}

/// One request the mirror received, in arrival order in [`Mirror::requests`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// The request target as sent, query string included.
    pub path: String,
    /// The `Range` header, if any.
    pub range: Option<String>,
    /// The `Authorization` header, if any: tests check tokens go to the API and nowhere else.
    pub authorization: Option<String>,
    /// Whether it came in on the HTTPS listener.
    pub https: bool,
}

/// How to start a [`Mirror`].
#[derive(Debug, Clone)]
pub struct MirrorOptions {
    /// `owner/repo` in the URLs served; [`DEFAULT_OWNER_REPO`] by default.
    pub owner_repo: String,
    /// The tag `latest` URLs point to; `None` makes them 404 until [`Mirror::set_latest`].
    pub latest: Option<String>,
    /// Also serve HTTPS, with a certificate from a CA made for this mirror.
    pub https: bool,
    /// HTTP port on 127.0.0.1; `0` picks a free one, which is what parallel tests want.
    pub port: u16,
    /// HTTPS port on 127.0.0.1; `0` picks a free one.
    pub https_port: u16,
}

impl Default for MirrorOptions {
    fn default() -> Self {
        MirrorOptions {
            owner_repo: DEFAULT_OWNER_REPO.to_owned(),
            latest: None,
            https: false,
            port: 0,
            https_port: 0,
        }
    }
}

/// A running mirror. Dropping it closes its listeners and connections and joins its threads.
pub struct Mirror {
    shared: Arc<Shared>,
    http: Listener,
    https: Option<Listener>,
    ca_cert: Option<PathBuf>,
    /// Holds the CA file; it must outlive every client that was told its path.
    _cert_dir: Option<tempfile::TempDir>,
}

struct Rule {
    pattern: String,
    fault: Fault,
    remaining: Option<u32>,
}

#[derive(Default)]
struct Connections {
    next_id: u64,
    /// Clones of live sockets, so `Drop` can shut them down and unblock their threads.
    live: HashMap<u64, TcpStream>,
    threads: Vec<JoinHandle<()>>,
}

struct Shared {
    root: PathBuf,
    owner: String,
    repo: String,
    latest: Mutex<Option<String>>,
    faults: Mutex<Vec<Rule>>,
    requests: Mutex<Vec<Request>>,
    endless_sent: Mutex<Vec<(String, u64)>>,
    /// Signalled each time an endless body ends.
    endless_ended: Condvar,
    connections: Mutex<Connections>,
    stopping: AtomicBool,
}

/// What a connection needs to know about the listener that accepted it.
struct Endpoint {
    /// `http://127.0.0.1:PORT`, for absolute URLs in redirects and API answers.
    origin: String,
    tls: Option<Arc<ServerConfig>>,
}

struct Listener {
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

/// A poisoned lock only means a connection thread panicked; the data is still consistent because
/// every critical section is a single push, remove or clone.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Mirror {
    /// Serves `root/download/<tag>/<file>` on a new loopback listener (two with `opts.https`).
    ///
    /// # Errors
    /// A malformed `owner_repo`, a port that cannot be bound, or a failure to make the certificate.
    pub fn start(root: &Path, opts: MirrorOptions) -> Result<Mirror> {
        let (owner, repo) = opts
            .owner_repo
            .split_once('/')
            .filter(|(o, r)| valid_segment(o) && valid_segment(r))
            .with_context(|| format!("owner/repo {:?} is not of the form o/r", opts.owner_repo))?;
        let shared = Arc::new(Shared {
            root: root.to_owned(),
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            latest: Mutex::new(opts.latest),
            faults: Mutex::default(),
            requests: Mutex::default(),
            endless_sent: Mutex::default(),
            endless_ended: Condvar::new(),
            connections: Mutex::default(),
            stopping: AtomicBool::new(false),
        });
        let (tls, cert_dir, ca_cert) = if opts.https {
            let dir = tempfile::Builder::new()
                .prefix("codex-mirror-tls")
                .tempdir()?;
            let (config, ca_pem) = tls_config()?;
            let ca_path = dir.path().join("ca.pem");
            std::fs::write(&ca_path, ca_pem)?;
            (Some(Arc::new(config)), Some(dir), Some(ca_path))
        } else {
            (None, None, None)
        };
        let http = Listener::start(opts.port, None, &shared)?;
        // From here on `Drop` cleans up, so a failing HTTPS listener cannot leak the HTTP thread.
        let mut mirror = Mirror {
            shared,
            http,
            https: None,
            ca_cert,
            _cert_dir: cert_dir,
        };
        if let Some(tls) = tls {
            mirror.https = Some(Listener::start(opts.https_port, Some(tls), &mirror.shared)?);
        }
        Ok(mirror)
    }

    fn prefix(&self) -> String {
        format!("/{}/{}/releases", self.shared.owner, self.shared.repo)
    }

    /// `http://127.0.0.1:PORT/<owner>/<repo>/releases`, the equivalent of
    /// `https://github.com/<owner>/<repo>/releases`.
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.http.addr, self.prefix())
    }

    /// The HTTPS equivalent of [`Mirror::base_url`], when started with `https`.
    pub fn https_base_url(&self) -> Option<String> {
        let https = self.https.as_ref()?;
        Some(format!("https://{}{}", https.addr, self.prefix()))
    }

    /// `http://127.0.0.1:PORT/api`, the equivalent of `https://api.github.com`: clients append
    /// `/repos/<owner>/<repo>/releases/latest`.
    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.http.addr)
    }

    /// The HTTPS equivalent of [`Mirror::api_url`], when started with `https`.
    pub fn https_api_url(&self) -> Option<String> {
        let https = self.https.as_ref()?;
        Some(format!("https://{}/api", https.addr))
    }

    /// The HTTP listener's address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http.addr
    }

    /// The HTTPS listener's address, when started with `https`.
    pub fn https_addr(&self) -> Option<SocketAddr> {
        self.https.as_ref().map(|l| l.addr)
    }

    /// PEM of the CA that signed the HTTPS certificate (valid for `127.0.0.1` and `localhost`),
    /// for `SSL_CERT_FILE` or `curl --cacert`. Deleted when the mirror is dropped.
    pub fn ca_cert_path(&self) -> Option<&Path> {
        self.ca_cert.as_deref()
    }

    /// Points `latest` URLs, and the API's `releases/latest`, at `tag`.
    pub fn set_latest(&self, tag: &str) {
        *lock(&self.shared.latest) = Some(tag.to_owned());
    }

    /// Makes requests whose target contains `path_contains` fail with `fault`, for the next
    /// `times` matching requests (`None`: until cleared). Rules are tried in the order they were
    /// added and the first that matches wins.
    pub fn inject(&self, path_contains: &str, fault: Fault, times: Option<u32>) {
        if times == Some(0) {
            return;
        }
        lock(&self.shared.faults).push(Rule {
            pattern: path_contains.to_owned(),
            fault,
            remaining: times,
        });
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.requests).clone()
    }

    /// For each request answered with [`Fault::Endless`] so far: its target and how many body
    /// bytes were written before the client hung up (the kernel's socket buffers hold a few
    /// megabytes of that). Waits, for at most 30 s, until there are at least `at_least`: the
    /// server notices the hang-up a moment after the client has gone.
    pub fn endless_bytes_sent(&self, at_least: usize) -> Vec<(String, u64)> {
        let sent = lock(&self.shared.endless_sent);
        let (sent, _) = self
            .shared
            .endless_ended
            .wait_timeout_while(sent, Duration::from_secs(30), |s| s.len() < at_least)
            .unwrap_or_else(PoisonError::into_inner);
        sent.clone()
    }

    /// The bytes a client took from the next [`Fault::Endless`] answer to end after `ended`
    /// earlier ones, waiting for it as [`Mirror::endless_bytes_sent`] does. Panics unless exactly
    /// one more ended, and for a target ending in `pattern`.
    pub fn taken_from_endless(&self, ended: usize, pattern: &str) -> u64 {
        let sent = self.endless_bytes_sent(ended + 1);
        assert_eq!(sent.len(), ended + 1, "{pattern}: {sent:?}");
        let (target, took) = &sent[ended];
        assert!(target.ends_with(pattern), "{pattern}: {sent:?}");
        *took
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.http.stop();
        if let Some(https) = &mut self.https {
            https.stop();
        }
        // The accept threads are gone, so no connection can register after this.
        let (live, threads) = {
            let mut c = lock(&self.shared.connections);
            (std::mem::take(&mut c.live), std::mem::take(&mut c.threads))
        };
        for stream in live.values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        for thread in threads {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for Mirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirror")
            .field("base_url", &self.base_url())
            .field("https_base_url", &self.https_base_url())
            .finish_non_exhaustive()
    }
}

impl Listener {
    fn start(port: u16, tls: Option<Arc<ServerConfig>>, shared: &Arc<Shared>) -> Result<Listener> {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .with_context(|| format!("binding 127.0.0.1:{port}"))?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let endpoint = Arc::new(Endpoint {
            origin: format!("{scheme}://{addr}"),
            tls,
        });
        let shared = Arc::clone(shared);
        let thread = std::thread::Builder::new()
            .name(format!("mirror-{scheme}"))
            .spawn(move || accept_loop(listener, shared, endpoint))?;
        Ok(Listener {
            addr,
            thread: Some(thread),
        })
    }

    fn stop(&mut self) {
        // `accept` cannot be interrupted portably; a connection of our own wakes it to see
        // `stopping`. Should that fail, leave the thread behind rather than hang in `join`.
        if TcpStream::connect_timeout(&self.addr, Duration::from_secs(2)).is_ok()
            && let Some(thread) = self.thread.take()
        {
            let _ = thread.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, endpoint: Arc<Endpoint>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // Out of file descriptors and the like: back off instead of spinning.
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let id = {
            let mut c = lock(&shared.connections);
            c.threads.retain(|t| !t.is_finished());
            let id = c.next_id;
            c.next_id += 1;
            if let Ok(clone) = stream.try_clone() {
                c.live.insert(id, clone);
            }
            id
        };
        let (shared2, endpoint) = (Arc::clone(&shared), Arc::clone(&endpoint));
        let spawned = std::thread::Builder::new()
            .name("mirror-conn".to_owned())
            .spawn(move || {
                serve_connection(stream, &shared2, &endpoint);
                lock(&shared2.connections).live.remove(&id);
            });
        match spawned {
            Ok(thread) => lock(&shared.connections).threads.push(thread),
            Err(_) => {
                lock(&shared.connections).live.remove(&id);
            }
        }
    }
}

/// The socket a request came in on, with TLS or without.
enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }

    /// Ends the connection. Not `graceful` means the response was cut short on purpose, so it
    /// must look like a dropped link: no TLS `close_notify`.
    fn close(mut self, graceful: bool) {
        if graceful && let Stream::Tls(s) = &mut self {
            s.conn.send_close_notify();
            let _ = s.flush();
        }
        let tcp = self.tcp();
        let _ = tcp.shutdown(Shutdown::Write);
        // Closing a socket with unread input makes the kernel send RST, which can destroy
        // response bytes the client has not read yet; read until the client closes instead.
        let _ = tcp.set_read_timeout(Some(Duration::from_millis(500)));
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut sink = [0u8; 4096];
        let mut tcp = tcp;
        while Instant::now() < deadline {
            match tcp.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

fn serve_connection(tcp: TcpStream, shared: &Shared, endpoint: &Endpoint) {
    let _ = tcp.set_read_timeout(Some(READ_TIMEOUT));
    let _ = tcp.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = tcp.set_nodelay(true);
    let mut stream = match &endpoint.tls {
        None => Stream::Plain(tcp),
        Some(config) => match ServerConnection::new(Arc::clone(config)) {
            Ok(conn) => Stream::Tls(Box::new(StreamOwned::new(conn, tcp))),
            Err(_) => return,
        },
    };
    let graceful = serve_request(&mut stream, shared, endpoint).unwrap_or(false);
    stream.close(graceful);
}

/// The request line and headers of one request.
struct Head {
    method: String,
    target: String,
    /// Names lowercased.
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads the request head; `Ok(None)` when the client sent something that is not HTTP/1.x.
fn read_head(stream: &mut Stream) -> io::Result<Option<Head>> {
    let mut reader = BufReader::new(stream.take(MAX_HEAD));
    let mut line = Vec::new();
    let mut lines = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if lines.is_empty() {
                continue; // RFC 9112 lets servers skip blank lines before the request line.
            }
            break;
        }
        lines.push(text.to_owned());
    }
    let mut request_line = lines[0].split(' ');
    let (Some(method), Some(target), Some(version), None) = (
        request_line.next(),
        request_line.next(),
        request_line.next(),
        request_line.next(),
    ) else {
        return Ok(None);
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Ok(None);
    }
    let mut headers = Vec::new();
    for l in &lines[1..] {
        let Some((name, value)) = l.split_once(':') else {
            return Ok(None);
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    Ok(Some(Head {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
    }))
}

/// Answers one request; `Ok(false)` when the body was cut short on purpose.
fn serve_request(stream: &mut Stream, shared: &Shared, endpoint: &Endpoint) -> io::Result<bool> {
    let Some(head) = read_head(stream)? else {
        let response = Response::text(400, "Bad Request\n");
        return write_response(stream, response, false, &Shaping::default(), shared);
    };
    lock(&shared.requests).push(Request {
        method: head.method.clone(),
        path: head.target.clone(),
        range: head.header("range").map(str::to_owned),
        authorization: head.header("authorization").map(str::to_owned),
        https: endpoint.tls.is_some(),
    });

    let reply = route(shared, endpoint, &head);
    let fault = shared.take_fault(&head.target, matches!(reply, Reply::Entity { .. }));
    let mut shaping = Shaping::default();
    let response = match (fault, reply) {
        // 1xx, 204 and 304 cannot carry a body; clients would misread the next bytes.
        (Some(Fault::Status(code)), _) if code < 200 || code == 204 || code == 304 => {
            Response::text(code, "")
        }
        (Some(Fault::Status(code)), _) => {
            Response::text(code, &format!("{code} {}\n", reason(code)))
        }
        (Some(Fault::RateLimited), _) => rate_limited(),
        (Some(Fault::TooManyRequests), _) => {
            let mut r = Response::text(429, "Too Many Requests\n");
            r.headers.push(("Retry-After".into(), "1".into()));
            r
        }
        (Some(Fault::Redirect(url)), _) => Response::redirect(url),
        (_, Reply::Fixed(response)) => response,
        (
            fault,
            Reply::Entity {
                source,
                content_type,
                ranges,
            },
        ) => {
            let (source, ranges) = match fault {
                Some(Fault::Replace(bytes)) => (Source::Bytes(bytes), ranges),
                Some(Fault::NoRanges) => (source, false),
                Some(Fault::Truncate(n)) => {
                    shaping.truncate = Some(n);
                    (source, ranges)
                }
                Some(Fault::Throttle { bytes_per_sec }) => {
                    shaping.bytes_per_sec = Some(bytes_per_sec.max(1));
                    (source, ranges)
                }
                Some(Fault::Endless { announced }) => {
                    shaping.endless = Some((announced, head.target.clone()));
                    (source, false)
                }
                _ => (source, ranges),
            };
            let range = if ranges { head.header("range") } else { None };
            entity_response(source, content_type, ranges, range)
        }
    };
    write_response(stream, response, head.method == "HEAD", &shaping, shared)
}

impl Shared {
    /// The first rule matching `target` that applies to this kind of answer, used up by one.
    fn take_fault(&self, target: &str, entity: bool) -> Option<Fault> {
        let mut rules = lock(&self.faults);
        let i = rules
            .iter()
            .position(|r| target.contains(&r.pattern) && (entity || !r.fault.shapes_body()))?;
        let fault = rules[i].fault.clone();
        if let Some(n) = &mut rules[i].remaining {
            *n -= 1;
            if *n == 0 {
                rules.remove(i);
            }
        }
        Some(fault)
    }

    fn prefix(&self) -> String {
        format!("/{}/{}/releases", self.owner, self.repo)
    }

    fn tag_dir(&self, tag: &str) -> PathBuf {
        self.root.join("download").join(tag)
    }

    /// The regular files of a tag's directory, sorted by name; `None` if the tag does not exist.
    fn assets(&self, tag: &str) -> Option<Vec<(String, u64)>> {
        let mut assets = Vec::new();
        for entry in std::fs::read_dir(self.tag_dir(tag)).ok()? {
            let entry = entry.ok()?;
            let meta = entry.metadata().ok()?;
            if let (true, Ok(name)) = (meta.is_file(), entry.file_name().into_string()) {
                assets.push((name, meta.len()));
            }
        }
        assets.sort();
        Some(assets)
    }
}

/// Bytes to send as a body: a file from its start, or bytes in memory.
enum Source {
    File(File, u64),
    Bytes(Vec<u8>),
}

impl Source {
    fn len(&self) -> u64 {
        match self {
            Source::File(_, len) => *len,
            Source::Bytes(b) => b.len() as u64,
        }
    }
}

/// What routing decided before faults are applied.
enum Reply {
    /// A successful answer whose body faults may shape.
    Entity {
        source: Source,
        content_type: &'static str,
        ranges: bool,
    },
    /// Redirects and errors, sent as they are.
    Fixed(Response),
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Source,
    /// The slice of `body` to send: `(start, len)`.
    span: (u64, u64),
}

impl Response {
    fn new(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        let len = body.len() as u64;
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: Source::Bytes(body),
            span: (0, len),
        }
    }

    fn text(status: u16, body: &str) -> Response {
        Response::new(
            status,
            "text/plain; charset=utf-8",
            body.as_bytes().to_vec(),
        )
    }

    fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::new(
            status,
            "application/json; charset=utf-8",
            value.to_string().into_bytes(),
        )
    }

    fn redirect(location: String) -> Response {
        let mut r = Response::new(302, "text/html; charset=utf-8", Vec::new());
        r.headers.push(("Location".into(), location));
        r
    }

    fn not_found() -> Response {
        Response::text(404, "Not Found\n")
    }

    fn api_not_found() -> Response {
        Response::json(404, &serde_json::json!({ "message": "Not Found" }))
    }
}

fn rate_limited() -> Response {
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + 3600;
    let mut r = Response::json(
        403,
        &serde_json::json!({
            "message": "API rate limit exceeded for 127.0.0.1.",
            "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
        }),
    );
    for (name, value) in [
        ("x-ratelimit-limit", "60".to_owned()),
        ("x-ratelimit-remaining", "0".to_owned()),
        ("x-ratelimit-reset", reset.to_string()),
        ("x-ratelimit-used", "60".to_owned()),
        ("x-ratelimit-resource", "core".to_owned()),
    ] {
        r.headers.push((name.to_owned(), value));
    }
    r
}

fn route(shared: &Shared, endpoint: &Endpoint, head: &Head) -> Reply {
    if head.method != "GET" && head.method != "HEAD" {
        return Reply::Fixed(Response::not_found());
    }
    let path = head.target.split(['?', '#']).next().unwrap_or_default();
    let Some(decoded) = path
        .split('/')
        .skip(1)
        .map(percent_decode)
        .collect::<Option<Vec<String>>>()
    else {
        return Reply::Fixed(Response::not_found());
    };
    // `..` must never reach the filesystem, wherever it appears and however it was encoded.
    if decoded.iter().any(|s| s == ".." || s == ".") {
        return Reply::Fixed(Response::not_found());
    }
    let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let ours = |o: &str, r: &str| o == shared.owner && r == shared.repo;
    let latest = || lock(&shared.latest).clone();
    let prefix = shared.prefix();
    let origin = &endpoint.origin;

    match segments.as_slice() {
        ["api", "repos", o, r, "releases", "latest"] if ours(o, r) => match latest() {
            Some(tag) => api_release(shared, endpoint, &tag),
            None => Reply::Fixed(Response::api_not_found()),
        },
        ["api", "repos", o, r, "releases", "tags", tag] if ours(o, r) => {
            api_release(shared, endpoint, tag)
        }
        ["api", ..] => Reply::Fixed(Response::api_not_found()),
        [o, r, "releases", rest @ ..] if ours(o, r) => match (rest, latest()) {
            (["download", tag, file], _) => serve_file(shared, tag, file),
            // Whether the asset exists is left to the redirect's target, as on GitHub.
            (["latest", "download", file], Some(tag)) => Reply::Fixed(Response::redirect(format!(
                "{origin}{prefix}/download/{}/{}",
                encode_segment(&tag),
                encode_segment(file)
            ))),
            (["latest"], Some(tag)) => Reply::Fixed(Response::redirect(format!(
                "{origin}{prefix}/tag/{}",
                encode_segment(&tag)
            ))),
            (["tag", tag], _) => tag_page(shared, endpoint, tag),
            _ => Reply::Fixed(Response::not_found()),
        },
        _ => Reply::Fixed(Response::not_found()),
    }
}

fn serve_file(shared: &Shared, tag: &str, file: &str) -> Reply {
    if !valid_segment(tag) || !valid_segment(file) {
        return Reply::Fixed(Response::not_found());
    }
    let path = shared.tag_dir(tag).join(file);
    let opened = File::open(&path).and_then(|f| Ok((f.metadata()?, f)));
    match opened {
        Ok((meta, f)) if meta.is_file() => Reply::Entity {
            source: Source::File(f, meta.len()),
            content_type: "application/octet-stream",
            ranges: true,
        },
        _ => Reply::Fixed(Response::not_found()),
    }
}

fn api_release(shared: &Shared, endpoint: &Endpoint, tag: &str) -> Reply {
    let Some(assets) = shared.assets(tag).filter(|_| valid_segment(tag)) else {
        return Reply::Fixed(Response::api_not_found());
    };
    let base = format!("{}{}", endpoint.origin, shared.prefix());
    let tag_url = encode_segment(tag);
    let assets: Vec<serde_json::Value> = assets
        .iter()
        .map(|(name, size)| {
            serde_json::json!({
                "name": name,
                "size": size,
                "content_type": "application/octet-stream",
                "state": "uploaded",
                "browser_download_url":
                    format!("{base}/download/{tag_url}/{}", encode_segment(name)),
            })
        })
        .collect();
    let body = serde_json::json!({
        "tag_name": tag,
        "name": tag,
        "draft": false,
        "prerelease": false,
        "html_url": format!("{base}/tag/{tag_url}"),
        "assets": assets,
    });
    Reply::Entity {
        source: Source::Bytes(body.to_string().into_bytes()),
        content_type: "application/json; charset=utf-8",
        ranges: false,
    }
}

fn tag_page(shared: &Shared, endpoint: &Endpoint, tag: &str) -> Reply {
    let Some(assets) = shared.assets(tag).filter(|_| valid_segment(tag)) else {
        return Reply::Fixed(Response::not_found());
    };
    let base = format!("{}{}", endpoint.origin, shared.prefix());
    let tag_html = html_escape(tag);
    let mut html = format!(
        "<!DOCTYPE html>\n<html><head><title>Release {tag_html}</title></head>\n\
         <body><h1>{tag_html}</h1>\n<ul>\n"
    );
    for (name, _) in assets {
        let url = format!(
            "{base}/download/{}/{}",
            encode_segment(tag),
            encode_segment(&name)
        );
        let _ = writeln!(
            html,
            "<li><a href=\"{}\">{}</a></li>",
            html_escape(&url),
            html_escape(&name)
        );
    }
    html.push_str("</ul></body></html>\n");
    Reply::Entity {
        source: Source::Bytes(html.into_bytes()),
        content_type: "text/html; charset=utf-8",
        ranges: false,
    }
}

/// A satisfiable single range `(first, last)`, inclusive, or why there is none.
#[derive(Debug, PartialEq, Eq)]
enum RangeSpec {
    Satisfiable(u64, u64),
    Unsatisfiable,
    /// Malformed, multiple ranges or another unit: RFC 9110 lets a server answer 200 instead.
    Ignore,
}

fn parse_range(header: &str, total: u64) -> RangeSpec {
    let spec = header.trim();
    let Some(spec) = spec
        .get(..6)
        .filter(|unit| unit.eq_ignore_ascii_case("bytes="))
        .and_then(|_| spec.get(6..))
    else {
        return RangeSpec::Ignore;
    };
    let Some((first, last)) = spec.split_once('-').filter(|_| !spec.contains(',')) else {
        return RangeSpec::Ignore;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        return match last.parse::<u64>() {
            Ok(0) => RangeSpec::Unsatisfiable,
            Ok(_) if total == 0 => RangeSpec::Unsatisfiable,
            Ok(n) => RangeSpec::Satisfiable(total - n.min(total), total - 1),
            Err(_) => RangeSpec::Ignore,
        };
    }
    let Ok(first) = first.parse::<u64>() else {
        return RangeSpec::Ignore;
    };
    let last = match last {
        "" => None,
        l => match l.parse::<u64>() {
            Ok(l) if l >= first => Some(l),
            _ => return RangeSpec::Ignore,
        },
    };
    if first >= total {
        return RangeSpec::Unsatisfiable;
    }
    RangeSpec::Satisfiable(first, last.map_or(total - 1, |l| l.min(total - 1)))
}

fn entity_response(
    source: Source,
    content_type: &str,
    ranges: bool,
    range: Option<&str>,
) -> Response {
    let total = source.len();
    let mut headers = vec![("Content-Type".to_owned(), content_type.to_owned())];
    if ranges {
        headers.push(("Accept-Ranges".into(), "bytes".into()));
    }
    let spec = range.map_or(RangeSpec::Ignore, |r| parse_range(r, total));
    match spec {
        RangeSpec::Satisfiable(first, last) => {
            headers.push((
                "Content-Range".into(),
                format!("bytes {first}-{last}/{total}"),
            ));
            Response {
                status: 206,
                headers,
                body: source,
                span: (first, last - first + 1),
            }
        }
        RangeSpec::Unsatisfiable => {
            headers.push(("Content-Range".into(), format!("bytes */{total}")));
            Response {
                status: 416,
                headers,
                body: Source::Bytes(Vec::new()),
                span: (0, 0),
            }
        }
        RangeSpec::Ignore => Response {
            status: 200,
            headers,
            body: source,
            span: (0, total),
        },
    }
}

/// How a body is sent: whole and fast unless a fault says otherwise.
#[derive(Default)]
struct Shaping {
    truncate: Option<u64>,
    bytes_per_sec: Option<u64>,
    /// [`Fault::Endless`]: whether a length is announced, and the request target to record.
    endless: Option<(bool, String)>,
}

/// Sends `response`; `Ok(false)` when the body was cut short on purpose.
fn write_response(
    stream: &mut Stream,
    response: Response,
    head_only: bool,
    shaping: &Shaping,
    shared: &Shared,
) -> io::Result<bool> {
    let (start, len) = response.span;
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    match &shaping.endless {
        Some((false, _)) => {}
        Some((true, _)) => {
            let _ = write!(head, "Content-Length: {ENDLESS_ANNOUNCED}\r\n");
        }
        None => {
            let _ = write!(head, "Content-Length: {len}\r\n");
        }
    }
    let _ = write!(head, "Connection: close\r\nServer: codex-mirror\r\n\r\n");
    stream.write_all(head.as_bytes())?;
    if head_only {
        stream.flush()?;
        return Ok(true);
    }
    if let Some((_, target)) = &shaping.endless {
        return write_endless(stream, response.body, target, shared);
    }

    let to_send = shaping.truncate.map_or(len, |n| n.min(len));
    let mut body: Box<dyn Read> = match response.body {
        Source::File(mut f, _) => {
            f.seek(SeekFrom::Start(start))?;
            Box::new(f.take(to_send))
        }
        Source::Bytes(b) => {
            let start = usize::try_from(start).unwrap_or(usize::MAX).min(b.len());
            let mut cursor = io::Cursor::new(b);
            cursor.set_position(start as u64);
            Box::new(cursor.take(to_send))
        }
    };
    let chunk = match shaping.bytes_per_sec {
        // About twenty writes a second: smooth enough to kill a client mid-body at any moment.
        Some(rate) => usize::try_from(rate / 20).unwrap_or(CHUNK).clamp(1, CHUNK),
        None => CHUNK,
    };
    let mut buf = vec![0u8; chunk];
    let started = Instant::now();
    let mut sent = 0u64;
    while sent < to_send {
        let n = body.read(&mut buf)?;
        if n == 0 {
            // The file shrank under us: the promised length cannot be met, so fail loudly.
            return Ok(false);
        }
        stream.write_all(&buf[..n])?;
        sent += n as u64;
        if let Some(rate) = shaping.bytes_per_sec
            && sent < to_send
        {
            stream.flush()?;
            let due = started + Duration::from_secs_f64(sent as f64 / rate as f64);
            while Instant::now() < due {
                if shared.stopping.load(Ordering::SeqCst) {
                    return Ok(false);
                }
                let left = due.saturating_duration_since(Instant::now());
                std::thread::sleep(left.min(Duration::from_millis(50)));
            }
        }
    }
    stream.flush()?;
    Ok(sent == len)
}

/// [`Fault::Endless`]'s body: `body`, then zeros, until the client hangs up; records the count.
fn write_endless(
    stream: &mut Stream,
    body: Source,
    target: &str,
    shared: &Shared,
) -> io::Result<bool> {
    let first = match body {
        Source::Bytes(b) => b,
        Source::File(mut f, _) => {
            let mut b = Vec::new();
            f.read_to_end(&mut b)?;
            b
        }
    };
    let zeros = vec![0u8; CHUNK];
    let mut sent = 0u64;
    let mut result = stream
        .write_all(&first)
        .map(|()| sent += first.len() as u64);
    while result.is_ok() && sent < ENDLESS_MAX && !shared.stopping.load(Ordering::SeqCst) {
        result = stream.write_all(&zeros).map(|()| sent += CHUNK as u64);
    }
    lock(&shared.endless_sent).push((target.to_owned(), sent));
    shared.endless_ended.notify_all();
    // The client hanging up is the expected end.
    Ok(false)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        410 => "Gone",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// A path segment that names exactly one entry inside its directory.
fn valid_segment(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0'])
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A server config whose leaf certificate (127.0.0.1, localhost) is signed by a fresh CA, and the
/// CA's PEM. A separate CA rather than one self-signed leaf: some verifiers (webpki, used by
/// rustls clients) refuse a certificate that is both trust anchor and end entity.
fn tls_config() -> Result<(ServerConfig, String)> {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "codex-mirror test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

    let mut leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "codex-mirror");
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    let leaf_key = KeyPair::generate()?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca)?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), CertificateDer::clone(ca.der())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )?;
    Ok((config, ca.pem()))
}

/// Copies a release directory (as written by `cargo xtask dist --out DIR`: archives, `*.sha256`,
/// `SHA256SUMS`, `manifest.json`) into `root/download/<tag>/`, replacing what was there.
///
/// # Errors
/// A tag that is not a single path segment, an empty or unreadable `release_dir`, or I/O errors.
pub fn publish(root: &Path, release_dir: &Path, tag: &str) -> Result<()> {
    anyhow::ensure!(valid_segment(tag), "{tag:?} cannot be a tag");
    let dest = root.join("download").join(tag);
    if dest.exists() {
        std::fs::remove_dir_all(&dest).with_context(|| format!("removing {}", dest.display()))?;
    }
    std::fs::create_dir_all(&dest).with_context(|| format!("creating {}", dest.display()))?;
    let mut copied = 0;
    for entry in std::fs::read_dir(release_dir)
        .with_context(|| format!("reading {}", release_dir.display()))?
    {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), dest.join(entry.file_name()))
                .with_context(|| format!("copying {}", entry.path().display()))?;
            copied += 1;
        }
    }
    anyhow::ensure!(copied > 0, "{} holds no files", release_dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::{SocketAddr, TcpStream};
    use std::process::Command;

    use super::*;

    const TAG: &str = "v1.2.3";
    const FILE: &str = "codex-x86_64-unknown-linux-musl.tar.gz";
    const SUMS: &str = "SHA256SUMS";
    const SMALL: &str = "small.bin";

    struct Fixture {
        root: tempfile::TempDir,
        mirror: Mirror,
        /// FILE's contents: not all one byte, so an off-by-one range shows.
        data: Vec<u8>,
    }

    impl Fixture {
        fn new(https: bool) -> Fixture {
            Fixture::with(MirrorOptions {
                latest: Some(TAG.to_owned()),
                https,
                ..MirrorOptions::default()
            })
        }

        fn with(opts: MirrorOptions) -> Fixture {
            let root = tempfile::tempdir().expect("tempdir");
            let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
            let dir = root.path().join("download").join(TAG);
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(dir.join(FILE), &data).expect("write");
            std::fs::write(dir.join(SUMS), format!("abc  {FILE}\n")).expect("write");
            std::fs::write(dir.join(SMALL), [7u8; 1000]).expect("write");
            let mirror = Mirror::start(root.path(), opts).expect("mirror starts");
            Fixture { root, mirror, data }
        }

        fn url(&self, file: &str) -> String {
            format!("{}/download/{TAG}/{file}", self.mirror.base_url())
        }

        fn https_url(&self, file: &str) -> String {
            let base = self.mirror.https_base_url().expect("https");
            format!("{base}/download/{TAG}/{file}")
        }

        fn cacert(&self) -> String {
            let ca = self.mirror.ca_cert_path().expect("ca");
            ca.to_str().expect("utf-8 path").to_owned()
        }
    }

    /// What curl made of one transfer; `headers` are the last response's, names lowercased.
    #[derive(Debug)]
    struct Fetched {
        exit: Option<i32>,
        stderr: String,
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Fetched {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }
    }

    fn curl(args: &[&str]) -> Fetched {
        let dir = tempfile::tempdir().expect("tempdir");
        let (h, b) = (dir.path().join("h"), dir.path().join("b"));
        let out = Command::new("curl")
            // A proxy from the environment would make these tests about the proxy.
            .args(["-sS", "--noproxy", "*", "--max-time", "20", "-D"])
            .arg(&h)
            .arg("-o")
            .arg(&b)
            .args(args)
            .output()
            .expect("curl runs");
        let raw = std::fs::read_to_string(&h).unwrap_or_default();
        let last = raw
            .split("\r\n\r\n")
            .filter(|block| !block.trim().is_empty())
            .last()
            .unwrap_or_default();
        let mut lines = last.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Fetched {
            exit: out.status.code(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            status,
            headers,
            body: std::fs::read(&b).unwrap_or_default(),
        }
    }

    /// Sends `request` as is, for what curl would normalise away (`..`) or hide (HEAD framing).
    fn raw(addr: SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        s.write_all(request.as_bytes()).expect("send");
        let mut out = Vec::new();
        s.read_to_end(&mut out).expect("read");
        String::from_utf8_lossy(&out).into_owned()
    }

    fn raw_get(addr: SocketAddr, target: &str) -> String {
        raw(addr, &format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n"))
    }

    #[test]
    fn serves_files_byte_exact_with_download_headers() {
        let f = Fixture::new(false);
        let r = curl(&[&f.url(FILE)]);
        assert_eq!((r.exit, r.status), (Some(0), 200), "{r:?}");
        assert!(r.body == f.data, "body differs");
        assert_eq!(r.header("content-length"), Some("20000"));
        assert_eq!(r.header("accept-ranges"), Some("bytes"));
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
        assert_eq!(r.header("connection"), Some("close"));
    }

    #[test]
    fn ranges_answer_206_and_let_curl_resume() {
        let f = Fixture::new(false);
        let url = f.url(FILE);
        let r = curl(&["-r", "100-199", &url]);
        assert_eq!(r.status, 206);
        assert_eq!(r.header("content-range"), Some("bytes 100-199/20000"));
        assert_eq!(r.body, &f.data[100..200]);

        let r = curl(&["-r", "19990-", &url]);
        assert_eq!(r.header("content-range"), Some("bytes 19990-19999/20000"));
        assert_eq!(r.body, &f.data[19990..]);
        let r = curl(&["-r", "19990-30000", &url]);
        assert_eq!(r.header("content-range"), Some("bytes 19990-19999/20000"));
        let r = curl(&["-r", "-5", &url]);
        assert_eq!(r.body, &f.data[19995..]);

        let r = curl(&["-r", "20000-", &url]);
        assert_eq!(r.status, 416);
        assert_eq!(r.header("content-range"), Some("bytes */20000"));

        // What an interrupted download does next: ask for the rest and append it.
        let dir = tempfile::tempdir().expect("tempdir");
        let part = dir.path().join("part");
        std::fs::write(&part, &f.data[..7000]).expect("write");
        let out = Command::new("curl")
            .args(["-sS", "--noproxy", "*", "-C", "-", "-o"])
            .arg(&part)
            .arg(&url)
            .output()
            .expect("curl");
        assert!(out.status.success(), "{out:?}");
        assert!(
            std::fs::read(&part).expect("read") == f.data,
            "resumed file differs"
        );
        let ranges: Vec<_> = f.mirror.requests().into_iter().map(|r| r.range).collect();
        assert_eq!(ranges.last(), Some(&Some("bytes=7000-".to_owned())));
    }

    #[test]
    fn parse_range_follows_rfc_9110() {
        use RangeSpec::*;
        assert_eq!(parse_range("bytes=0-0", 10), Satisfiable(0, 0));
        assert_eq!(parse_range("bytes=3-", 10), Satisfiable(3, 9));
        assert_eq!(parse_range("Bytes=3-100", 10), Satisfiable(3, 9));
        assert_eq!(parse_range("bytes=-3", 10), Satisfiable(7, 9));
        assert_eq!(parse_range("bytes=-30", 10), Satisfiable(0, 9));
        assert_eq!(parse_range("bytes=10-", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=5-3", 10), Ignore);
        assert_eq!(parse_range("bytes=0-1,3-4", 10), Ignore);
        assert_eq!(parse_range("items=0-1", 10), Ignore);
        assert_eq!(parse_range("bytes=x-", 10), Ignore);
    }

    #[test]
    fn head_sends_the_headers_and_no_body() {
        let f = Fixture::new(false);
        let target = format!("/openai/codex/releases/download/{TAG}/{FILE}");
        let answer = raw(
            f.mirror.http_addr(),
            &format!("HEAD {target} HTTP/1.1\r\nHost: x\r\n\r\n"),
        );
        let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        assert!(head.contains("Content-Length: 20000"), "{head}");
        assert_eq!(body, "");
        let r = curl(&["-I", &f.url(FILE)]);
        assert_eq!((r.exit, r.status), (Some(0), 200));
        assert_eq!(f.mirror.requests()[1].method, "HEAD");
    }

    #[test]
    fn latest_urls_redirect_to_the_latest_tag() {
        let f = Fixture::new(false);
        let base = f.mirror.base_url();
        let r = curl(&[&format!("{base}/latest/download/{FILE}")]);
        assert_eq!(r.status, 302);
        assert_eq!(r.header("location"), Some(f.url(FILE).as_str()));
        let r = curl(&["-L", &format!("{base}/latest/download/{FILE}")]);
        assert!(r.status == 200 && r.body == f.data);

        let r = curl(&[&format!("{base}/latest")]);
        assert_eq!(r.status, 302);
        assert_eq!(
            r.header("location"),
            Some(format!("{base}/tag/{TAG}").as_str())
        );
        let r = curl(&["-L", &format!("{base}/latest")]);
        assert_eq!(r.status, 200);
        assert!(String::from_utf8_lossy(&r.body).contains(FILE));

        let v2 = f.root.path().join("download/v2.0.0");
        std::fs::create_dir_all(&v2).expect("mkdir");
        std::fs::write(v2.join(FILE), b"two").expect("write");
        f.mirror.set_latest("v2.0.0");
        let r = curl(&["-L", &format!("{base}/latest/download/{FILE}")]);
        assert_eq!(r.body, b"two");
        assert_eq!(curl(&[&format!("{base}/tag/v9.9.9")]).status, 404);
    }

    #[test]
    fn api_describes_releases_like_github() {
        let f = Fixture::new(false);
        let api = f.mirror.api_url();
        let r = curl(&[&format!("{api}/repos/openai/codex/releases/latest")]);
        assert_eq!(r.status, 200);
        assert!(
            r.header("content-type")
                .is_some_and(|t| t.starts_with("application/json"))
        );
        let json: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(json["tag_name"], TAG);
        assert_eq!(json["name"], TAG);
        assert_eq!(json["draft"], false);
        assert_eq!(json["prerelease"], false);
        let assets = json["assets"].as_array().expect("assets");
        let names: Vec<_> = assets.iter().map(|a| a["name"].as_str()).collect();
        assert_eq!(names, [Some(SUMS), Some(FILE), Some(SMALL)]);
        assert_eq!(assets[1]["size"], 20_000);
        let url = assets[1]["browser_download_url"].as_str().expect("url");
        assert_eq!(url, f.url(FILE));
        assert!(curl(&[url]).body == f.data);

        let r = curl(&[&format!("{api}/repos/openai/codex/releases/tags/{TAG}")]);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&r.body).expect("json"),
            json
        );

        for missing in [
            "repos/openai/codex/releases/tags/v0.0.0",
            "repos/someone/else/releases/latest",
            "rate_limit",
        ] {
            let r = curl(&[&format!("{api}/{missing}")]);
            assert_eq!(r.status, 404, "{missing}");
            let json: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
            assert_eq!(json["message"], "Not Found");
        }
    }

    #[test]
    fn without_a_latest_tag_latest_urls_are_404() {
        let f = Fixture::with(MirrorOptions::default());
        let base = f.mirror.base_url();
        assert_eq!(
            curl(&[&format!("{base}/latest/download/{FILE}")]).status,
            404
        );
        assert_eq!(curl(&[&format!("{base}/latest")]).status, 404);
        let api = f.mirror.api_url();
        assert_eq!(
            curl(&[&format!("{api}/repos/openai/codex/releases/latest")]).status,
            404
        );
        f.mirror.set_latest(TAG);
        assert_eq!(
            curl(&[&format!("{base}/latest/download/{FILE}")]).status,
            302
        );
    }

    #[test]
    fn owner_repo_is_configurable() {
        let f = Fixture::with(MirrorOptions {
            owner_repo: "acme/tool".to_owned(),
            latest: Some(TAG.to_owned()),
            ..MirrorOptions::default()
        });
        assert!(f.mirror.base_url().ends_with("/acme/tool/releases"));
        assert_eq!(curl(&[&f.url(FILE)]).status, 200);
        let api = f.mirror.api_url();
        assert_eq!(
            curl(&[&format!("{api}/repos/acme/tool/releases/latest")]).status,
            200
        );
        let r = curl(&[&f.url(FILE).replace("acme/tool", "openai/codex")]);
        assert_eq!(r.status, 404);
        assert!(
            Mirror::start(
                f.root.path(),
                MirrorOptions {
                    owner_repo: "nope".to_owned(),
                    ..MirrorOptions::default()
                }
            )
            .is_err()
        );
    }

    #[test]
    fn missing_files_dot_dot_and_other_routes_are_404() {
        let f = Fixture::new(false);
        std::fs::write(f.root.path().join("secret"), "secret").expect("write");
        assert_eq!(curl(&[&f.url("nope.tar.gz")]).status, 404);
        assert_eq!(curl(&[&f.url("")]).status, 404);
        let addr = f.mirror.http_addr();
        let p = "/openai/codex/releases/download";
        for target in [
            format!("{p}/{TAG}/../../secret"),
            format!("{p}/../download/{TAG}/{FILE}"),
            format!("{p}/{TAG}/%2e%2e/%2E%2E/secret"),
            format!("{p}/{TAG}/..%2F..%2Fsecret"),
            format!("{p}/./{TAG}/{FILE}"),
            "/".to_owned(),
            "/openai/codex".to_owned(),
            "/openai/codex/releases/assets".to_owned(),
        ] {
            let answer = raw_get(addr, &target);
            assert!(answer.starts_with("HTTP/1.1 404 "), "{target}: {answer}");
            assert!(!answer.contains("secret"), "{target}");
        }
        // Sanity: the same request without `..` is served.
        assert!(raw_get(addr, &format!("{p}/{TAG}/{SUMS}")).starts_with("HTTP/1.1 200 "));
        let post = raw(
            addr,
            &format!("POST {p}/{TAG}/{SUMS} HTTP/1.1\r\nHost: x\r\n\r\n"),
        );
        assert!(post.starts_with("HTTP/1.1 404 "), "{post}");
        assert!(raw(addr, "nonsense\r\n\r\n").starts_with("HTTP/1.1 400 "));
    }

    #[test]
    fn status_faults_apply_the_given_number_of_times() {
        let f = Fixture::new(false);
        f.mirror.inject(FILE, Fault::Status(503), Some(2));
        f.mirror.inject(SUMS, Fault::Status(500), None);
        f.mirror.inject(SMALL, Fault::Status(500), Some(0));
        let statuses =
            |file: &str| -> Vec<u16> { (0..3).map(|_| curl(&[&f.url(file)]).status).collect() };
        assert_eq!(statuses(FILE), [503, 503, 200]);
        assert_eq!(statuses(SUMS), [500, 500, 500]);
        assert_eq!(statuses(SMALL), [200, 200, 200]);
        f.mirror.clear_faults();
        assert_eq!(statuses(SUMS), [200, 200, 200]);
    }

    #[test]
    fn the_first_matching_rule_wins() {
        let f = Fixture::new(false);
        f.mirror.inject("/download/", Fault::Status(502), Some(1));
        f.mirror.inject(FILE, Fault::Status(404), None);
        assert_eq!(curl(&[&f.url(FILE)]).status, 502);
        assert_eq!(curl(&[&f.url(FILE)]).status, 404);
        assert_eq!(curl(&[&f.url(SUMS)]).status, 200);
    }

    #[test]
    fn rate_limited_answers_like_github() {
        let f = Fixture::new(false);
        f.mirror.inject("/api/", Fault::RateLimited, None);
        let r = curl(&[&format!(
            "{}/repos/openai/codex/releases/latest",
            f.mirror.api_url()
        )]);
        assert_eq!(r.status, 403);
        assert_eq!(r.header("x-ratelimit-limit"), Some("60"));
        assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let reset: u64 = r
            .header("x-ratelimit-reset")
            .expect("reset")
            .parse()
            .expect("int");
        assert!(
            (now + 3500..now + 3700).contains(&reset),
            "{reset} vs {now}"
        );
        let json: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
        let message = json["message"].as_str().expect("message");
        assert!(message.starts_with("API rate limit exceeded"), "{message}");
        assert!(
            json["documentation_url"]
                .as_str()
                .is_some_and(|u| u.contains("rate-limiting"))
        );
        // Downloads do not count against the API quota on GitHub, and here they do not match.
        assert_eq!(curl(&[&f.url(FILE)]).status, 200);
    }

    #[test]
    fn too_many_requests_says_when_to_retry() {
        let f = Fixture::new(false);
        f.mirror.inject(FILE, Fault::TooManyRequests, Some(1));
        let r = curl(&[&f.url(FILE)]);
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("1"));
        assert_eq!(curl(&[&f.url(FILE)]).status, 200);
    }

    #[test]
    fn truncate_closes_the_connection_mid_body() {
        let f = Fixture::new(false);
        f.mirror.inject(FILE, Fault::Truncate(5000), Some(1));
        let r = curl(&[&f.url(FILE)]);
        assert_eq!(r.exit, Some(18), "{r:?}");
        assert!(
            r.stderr
                .contains("transfer closed with 15000 bytes remaining"),
            "{}",
            r.stderr
        );
        assert_eq!(r.header("content-length"), Some("20000"));
        assert_eq!(r.body, &f.data[..5000]);
        assert!(curl(&[&f.url(FILE)]).body == f.data);
    }

    #[test]
    fn body_faults_wait_for_a_body() {
        let f = Fixture::new(false);
        f.mirror.inject(FILE, Fault::Truncate(10), Some(1));
        f.mirror.inject("nope", Fault::Replace(b"x".to_vec()), None);
        // The redirect matches the rule too but has no body, so the download itself is cut.
        let r = curl(&[
            "-L",
            &format!("{}/latest/download/{FILE}", f.mirror.base_url()),
        ]);
        assert_eq!((r.exit, r.body.len()), (Some(18), 10));
        assert_eq!(curl(&[&f.url("nope")]).status, 404);
    }

    #[test]
    fn throttle_slows_the_body_down() {
        let f = Fixture::new(false);
        f.mirror.inject(
            SMALL,
            Fault::Throttle {
                bytes_per_sec: 4000,
            },
            None,
        );
        let started = Instant::now();
        let r = curl(&[&f.url(SMALL)]);
        let took = started.elapsed();
        assert_eq!(r.body, [7u8; 1000]);
        // 1000 bytes at 4000 B/s in 200-byte steps: four waits of 50 ms.
        assert!(took >= Duration::from_millis(180), "{took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
    }

    #[test]
    fn drop_stops_even_a_throttled_download() {
        let f = Fixture::new(false);
        let addr = f.mirror.http_addr();
        f.mirror
            .inject(FILE, Fault::Throttle { bytes_per_sec: 100 }, None);
        let url = f.url(FILE);
        let client = std::thread::spawn(move || curl(&[&url]));
        while f.mirror.requests().is_empty() {
            std::thread::sleep(Duration::from_millis(10));
        }
        let started = Instant::now();
        drop(f.mirror);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        let r = client.join().expect("client");
        assert_ne!(r.exit, Some(0));
        assert!(r.body.len() < 20_000);
        assert!(TcpStream::connect(addr).is_err(), "still listening");
    }

    #[test]
    fn redirect_sends_the_client_elsewhere() {
        let f = Fixture::new(false);
        let elsewhere = f.url(SUMS);
        f.mirror
            .inject(FILE, Fault::Redirect(elsewhere.clone()), Some(1));
        let r = curl(&[&f.url(FILE)]);
        assert_eq!(r.status, 302);
        assert_eq!(r.header("location"), Some(elsewhere.as_str()));
        f.mirror.inject(FILE, Fault::Redirect(elsewhere), Some(1));
        let r = curl(&["-L", &f.url(FILE)]);
        assert_eq!(r.body, format!("abc  {FILE}\n").as_bytes());
    }

    #[test]
    fn replace_serves_other_bytes_with_their_length() {
        let f = Fixture::new(false);
        f.mirror
            .inject(FILE, Fault::Replace(b"tampered archive".to_vec()), None);
        let r = curl(&[&f.url(FILE)]);
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, &b"tampered archive"[..])
        );
        assert_eq!(r.header("content-length"), Some("16"));
        let r = curl(&["-r", "9-", &f.url(FILE)]);
        assert_eq!(r.header("content-range"), Some("bytes 9-15/16"));
        assert_eq!(r.body, b"archive");
    }

    #[test]
    fn no_ranges_sends_the_whole_body() {
        let f = Fixture::new(false);
        f.mirror.inject(FILE, Fault::NoRanges, None);
        let r = curl(&["-r", "100-199", &f.url(FILE)]);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("accept-ranges"), None);
        assert_eq!(r.header("content-range"), None);
        assert!(r.body == f.data);
    }

    #[test]
    fn https_works_with_the_ca_and_not_without() {
        let f = Fixture::new(true);
        let ca = f.cacert();
        let r = curl(&["--cacert", &ca, &f.https_url(FILE)]);
        assert_eq!((r.exit, r.status), (Some(0), 200), "{r:?}");
        assert!(r.body == f.data);
        let localhost = f.https_url(FILE).replace("127.0.0.1", "localhost");
        assert_eq!(curl(&["--cacert", &ca, &localhost]).status, 200);

        let r = curl(&[&f.https_url(FILE)]);
        assert_eq!(r.exit, Some(60), "{r:?}");

        let api = f.mirror.https_api_url().expect("https api");
        let r = curl(&[
            "--cacert",
            &ca,
            &format!("{api}/repos/openai/codex/releases/latest"),
        ]);
        let json: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(json["assets"][1]["browser_download_url"], f.https_url(FILE));

        let base = f.mirror.https_base_url().expect("https base");
        let r = curl(&["--cacert", &ca, &format!("{base}/latest/download/{FILE}")]);
        assert_eq!(r.header("location"), Some(f.https_url(FILE).as_str()));

        // Faults apply on both listeners; a downgrade to plain HTTP is the one to refuse.
        f.mirror.inject(FILE, Fault::Redirect(f.url(FILE)), None);
        let r = curl(&["--cacert", &ca, &f.https_url(FILE)]);
        assert_eq!(r.header("location"), Some(f.url(FILE).as_str()));
        let r = curl(&[
            "--cacert",
            &ca,
            "-L",
            "--proto-redir",
            "=https",
            &f.https_url(FILE),
        ]);
        assert_ne!(r.exit, Some(0), "{r:?}");
        f.mirror.clear_faults();

        f.mirror.inject(FILE, Fault::Truncate(100), Some(1));
        let r = curl(&["--cacert", &ca, &f.https_url(FILE)]);
        assert_eq!(r.exit, Some(18), "{r:?}");
        assert_eq!(r.body, &f.data[..100]);
        let https: Vec<bool> = f.mirror.requests().iter().map(|r| r.https).collect();
        assert!(https.iter().all(|h| *h), "{https:?}");
    }

    #[test]
    fn the_request_log_records_authorization() {
        let f = Fixture::new(false);
        let api = format!("{}/repos/openai/codex/releases/latest", f.mirror.api_url());
        curl(&["-H", "Authorization: Bearer t0ken", &api]);
        curl(&["-r", "0-9", &f.url(FILE)]);
        let log = f.mirror.requests();
        assert_eq!(
            log,
            [
                Request {
                    method: "GET".to_owned(),
                    path: "/api/repos/openai/codex/releases/latest".to_owned(),
                    range: None,
                    authorization: Some("Bearer t0ken".to_owned()),
                    https: false,
                },
                Request {
                    method: "GET".to_owned(),
                    path: format!("/openai/codex/releases/download/{TAG}/{FILE}"),
                    range: Some("bytes=0-9".to_owned()),
                    authorization: None,
                    https: false,
                },
            ]
        );
        f.mirror.clear_requests();
        assert!(f.mirror.requests().is_empty());
    }

    #[test]
    fn publish_copies_a_release_directory() {
        let release = tempfile::tempdir().expect("tempdir");
        for name in ["codex-a.tar.gz", "codex-a.tar.gz.sha256", "manifest.json"] {
            std::fs::write(release.path().join(name), name).expect("write");
        }
        std::fs::create_dir(release.path().join("not-an-asset")).expect("mkdir");
        let root = tempfile::tempdir().expect("tempdir");
        let stale = root.path().join("download/v1.0.0/stale");
        std::fs::create_dir_all(stale.parent().expect("parent")).expect("mkdir");
        std::fs::write(&stale, "old").expect("write");

        publish(root.path(), release.path(), "v1.0.0").expect("publish");
        let mut names: Vec<_> = std::fs::read_dir(root.path().join("download/v1.0.0"))
            .expect("read")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["codex-a.tar.gz", "codex-a.tar.gz.sha256", "manifest.json"]
        );

        let mirror = Mirror::start(
            root.path(),
            MirrorOptions {
                latest: Some("v1.0.0".to_owned()),
                ..MirrorOptions::default()
            },
        )
        .expect("start");
        let r = curl(&[
            "-L",
            &format!("{}/latest/download/manifest.json", mirror.base_url()),
        ]);
        assert_eq!(r.body, b"manifest.json");
        assert!(publish(root.path(), release.path(), "../escape").is_err());
        let empty = tempfile::tempdir().expect("tempdir");
        assert!(publish(root.path(), empty.path(), "v2").is_err());
    }
}
