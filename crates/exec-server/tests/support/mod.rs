//! Shared by the integration tests (`mod support;`): our server on loopback, the real Codex
//! binary, and a scriptable loopback environment registry.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// Our server on a loopback WebSocket port; killed on drop.
pub struct OurServer {
    child: Child,
    /// `ws://127.0.0.1:PORT`.
    pub url: String,
    /// The generated bearer token.
    pub token: String,
}

impl Drop for OurServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl OurServer {
    /// `codex-exec-server --listen ws://127.0.0.1:0`, reading the printed URL and token.
    pub fn start() -> OurServer {
        Self::start_on("ws://127.0.0.1:0")
    }

    /// The same on a given listen address.
    pub fn start_on(listen: &str) -> OurServer {
        Self::start_with(&["--listen", listen])
    }

    /// With these arguments (a `--listen ws://…` among them, or the default).
    pub fn start_with(args: &[&str]) -> OurServer {
        Self::start_cmd(Command::new(env!("CARGO_BIN_EXE_codex-exec-server")), args)
    }

    /// The same with at most `nofile` open file descriptors (util-linux `prlimit`, which execs
    /// the server, so [`OurServer::pid`] is still the server's).
    pub fn start_with_nofile(nofile: u32, args: &[&str]) -> OurServer {
        let mut cmd = Command::new("prlimit");
        cmd.arg(format!("--nofile={nofile}:{nofile}"))
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_codex-exec-server"));
        Self::start_cmd(cmd, args)
    }

    fn start_cmd(mut cmd: Command, args: &[&str]) -> OurServer {
        let mut child = cmd
            .args(args)
            .env_remove("CODEX_EXEC_SERVER_TOKEN")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start codex-exec-server");
        let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next().expect("a line").expect("utf-8");
        let url = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        let token = if args.contains(&"--insecure-no-auth") {
            String::new()
        } else {
            let second = lines.next().expect("a token line").expect("utf-8");
            second
                .strip_prefix("token ")
                .expect("token line")
                .to_string()
        };
        OurServer { child, url, token }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The real Codex 0.169 binary, or `None` (with a notice) when there is none.
pub fn codex_169() -> Option<PathBuf> {
    xtask::tools::codex_169_for_tests()
}

/// One scripted registry answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: String,
}

/// A loopback HTTP/1.1 environment registry: answers `POST /environments/<id>/connect` from a
/// queue, then with `success` forever. Counts requests.
pub struct TestRegistry {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    script: Arc<Mutex<VecDeque<Answer>>>,
    success: Arc<Mutex<Answer>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl TestRegistry {
    /// Starts the registry; after `script` it hands out `url` + `token`.
    pub async fn start(script: Vec<Answer>, url: &str, token: &str) -> TestRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let success = Arc::new(Mutex::new(Self::success_answer(url, token)));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (s, ok, reqs) = (script.clone(), success.clone(), requests.clone());
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (s, ok, reqs) = (s.clone(), ok.clone(), reqs.clone());
                tokio::spawn(async move {
                    let Some(line) = read_request(&mut sock).await else {
                        return;
                    };
                    reqs.lock().expect("lock").push(line);
                    let answer = s
                        .lock()
                        .expect("lock")
                        .pop_front()
                        .unwrap_or_else(|| ok.lock().expect("lock").clone());
                    let resp = format!(
                        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                        answer.status,
                        answer.body.len(),
                        answer.body
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        TestRegistry {
            base_url: format!("http://{addr}"),
            script,
            success,
            requests,
        }
    }

    fn success_answer(url: &str, token: &str) -> Answer {
        Answer {
            status: 200,
            body: serde_json::json!({"url": url, "token": token}).to_string(),
        }
    }

    /// Queues more answers before success.
    pub fn push(&self, answers: impl IntoIterator<Item = Answer>) {
        self.script.lock().expect("lock").extend(answers);
    }

    /// Points success somewhere else.
    pub fn set_success(&self, url: &str, token: &str) {
        *self.success.lock().expect("lock") = Self::success_answer(url, token);
    }

    /// Request lines received so far (`POST /environments/x/connect HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("lock").clone()
    }
}

/// `409 {"code": code}`.
pub fn conflict(code: &str) -> Answer {
    Answer {
        status: 409,
        body: serde_json::json!({"code": code}).to_string(),
    }
}

async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    head.lines().next().map(str::to_string)
}
