//! The server over a real WebSocket on loopback, driven with raw JSON-RPC frames: auth, health,
//! sessions that survive disconnects, TTL expiry, and a client that stops reading during a
//! 200 MB flood.

use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

mod support;
use support::OurServer;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn server(extra: &[&str]) -> OurServer {
    let mut args = vec!["--listen", "ws://127.0.0.1:0"];
    args.extend_from_slice(extra);
    OurServer::start_with(&args)
}

async fn connect(url: &str, token: Option<&str>, origin: Option<&str>) -> Result<Ws, String> {
    let mut req = url.into_client_request().map_err(|e| e.to_string())?;
    if let Some(t) = token {
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {t}").parse().expect("header"),
        );
    }
    if let Some(o) = origin {
        req.headers_mut()
            .insert("origin", o.parse().expect("header"));
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| e.to_string())
}

/// A raw JSON-RPC peer: requests by id, notifications collected in arrival order.
struct Peer {
    ws: Ws,
    next_id: i64,
    notes: Vec<Value>,
}

impl Peer {
    async fn new(s: &OurServer) -> Peer {
        let ws = connect(&s.url, Some(&s.token), None)
            .await
            .expect("connect");
        Peer {
            ws,
            next_id: 1,
            notes: Vec::new(),
        }
    }

    async fn send(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        let m = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.ws
            .send(Message::text(m.to_string()))
            .await
            .expect("send");
        id
    }

    async fn next(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(20), self.ws.next())
                .await
                .expect("a message within 20 s")
                .expect("open")
                .expect("frame");
            if let Message::Text(t) = msg {
                return serde_json::from_str(t.as_str()).expect("json");
            }
        }
    }

    async fn reply(&mut self, id: i64) -> Value {
        // It may have come while we waited for another reply.
        if let Some(i) = self.notes.iter().position(|m| m["id"] == json!(id)) {
            return self.notes.remove(i);
        }
        loop {
            let m = self.next().await;
            if m["id"] == json!(id) {
                return m;
            }
            self.notes.push(m);
        }
    }

    async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params).await;
        let r = self.reply(id).await;
        assert!(r.get("error").is_none(), "{method}: {r}");
        r["result"].clone()
    }

    /// Waits for `process/closed` of `pid`.
    async fn until_closed(&mut self, pid: &str) {
        while !self
            .notes
            .iter()
            .any(|n| n["method"] == "process/closed" && n["params"]["processId"] == pid)
        {
            let m = self.next().await;
            self.notes.push(m);
        }
    }
}

/// The pid a started script wrote to `pidfile` (`echo $$ > pidfile`), once it is there.
async fn pid_from(pidfile: &std::path::Path) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(t) = std::fs::read_to_string(pidfile)
            && let Ok(pid) = t.trim().parse::<u32>()
        {
            return pid;
        }
        assert!(Instant::now() < deadline, "no pid file");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn start(pid: &str, script: &str) -> Value {
    json!({"processId": pid, "argv": ["sh", "-c", script], "cwd": "/",
           "env": {"PATH": std::env::var("PATH").unwrap_or_default()}, "tty": false, "pipeStdin": false})
}

fn start_paced(pid: &str, script: &str) -> Value {
    let mut v = start(pid, script);
    v["backpressure"] = json!(true);
    v
}

fn decode(chunk: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(chunk.as_str().expect("chunk string"))
        .expect("base64")
}

/// Output bytes of `pid` from notifications, with their seqs.
fn pushed(notes: &[Value], pid: &str) -> Vec<(u64, Vec<u8>)> {
    notes
        .iter()
        .filter(|n| n["method"] == "process/output" && n["params"]["processId"] == pid)
        .map(|n| {
            (
                n["params"]["seq"].as_u64().expect("seq"),
                decode(&n["params"]["chunk"]),
            )
        })
        .collect()
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .expect("rss field")
}

#[tokio::test]
async fn handshakes_without_the_right_token_or_with_a_browser_origin_are_refused() {
    let s = server(&[]);
    let no_token = connect(&s.url, None, None).await.expect_err("refused");
    assert!(no_token.contains("401"), "{no_token}");
    let wrong = connect(&s.url, Some("wrong"), None)
        .await
        .expect_err("refused");
    assert!(wrong.contains("401"), "{wrong}");
    let origin = connect(&s.url, Some(&s.token), Some("https://evil.example"))
        .await
        .expect_err("refused");
    assert!(origin.contains("403"), "{origin}");
    let mut ok = Peer::new(&s).await;
    let r = ok.call("initialize", json!({"clientName": "t"})).await;
    assert!(r["sessionId"].as_str().is_some_and(|id| id.len() == 32));
}

#[tokio::test]
async fn the_token_can_come_from_the_environment_and_readyz_answers() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_codex-exec-server"))
        .args(["--listen", "ws://127.0.0.1:0"])
        .env("CODEX_EXEC_SERVER_TOKEN", "from-env")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let url = lines.next().expect("line").expect("utf-8");
    let url = url
        .strip_prefix("listening on ")
        .expect("address line")
        .to_string();
    struct Reap(std::process::Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _server = Reap(child);
    let ws = connect(&url, Some("from-env"), None)
        .await
        .expect("connect");
    let mut peer = Peer {
        ws,
        next_id: 1,
        notes: Vec::new(),
    };
    peer.call("initialize", json!({"clientName": "t"})).await;

    let addr = url.trim_start_matches("ws://");
    let out = Command::new("curl")
        .args(["-sS", "-i", &format!("http://{addr}/readyz")])
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

#[tokio::test]
async fn a_long_poll_read_does_not_block_later_requests() {
    let s = server(&[]);
    let mut p = Peer::new(&s).await;
    p.call("initialize", json!({"clientName": "t"})).await;
    p.call("process/start", start("slow", "sleep 3")).await;
    let read = p
        .send("process/read", json!({"processId": "slow", "waitMs": 3000}))
        .await;
    let t = Instant::now();
    let started = p.call("process/start", start("quick", "echo hi")).await;
    assert_eq!(started["processId"], "quick");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    p.call("process/terminate", json!({"processId": "slow"}))
        .await;
    let r = p.reply(read).await;
    assert_eq!(r["result"]["exited"], true, "{r}");
}

#[tokio::test]
async fn a_resume_within_the_ttl_loses_nothing() {
    let s = server(&["--session-ttl", "5"]);
    let mut p = Peer::new(&s).await;
    let session = p.call("initialize", json!({"clientName": "t"})).await["sessionId"].clone();
    p.call(
        "process/start",
        start(
            "count",
            "i=1; while [ $i -le 60 ]; do echo $i; i=$((i+1)); sleep 0.01; done",
        ),
    )
    .await;
    // Take a few events, then drop the connection while output continues.
    while pushed(&p.notes, "count").len() < 3 {
        let m = p.next().await;
        p.notes.push(m);
    }
    let before = pushed(&p.notes, "count");
    drop(p);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut q = Peer::new(&s).await;
    let r = q
        .call(
            "initialize",
            json!({"clientName": "t", "resumeSessionId": session}),
        )
        .await;
    assert_eq!(r["sessionId"], session);
    let last = before.last().expect("some output").0;
    let mut got: Vec<u8> = before.iter().flat_map(|(_, b)| b.clone()).collect();
    let mut after = last;
    loop {
        let r = q
            .call(
                "process/read",
                json!({"processId": "count", "afterSeq": after, "waitMs": 2000}),
            )
            .await;
        for c in r["chunks"].as_array().expect("chunks") {
            got.extend(decode(&c["chunk"]));
        }
        after = r["nextSeq"].as_u64().expect("nextSeq") - 1;
        if r["closed"] == true {
            break;
        }
    }
    let want: String = (1..=60).map(|i| format!("{i}\n")).collect();
    assert_eq!(String::from_utf8_lossy(&got), want);
}

#[tokio::test]
async fn a_session_nobody_resumes_has_its_processes_killed_after_the_ttl() {
    let s = server(&["--session-ttl", "1"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("pid");
    let mut p = Peer::new(&s).await;
    let session = p.call("initialize", json!({"clientName": "t"})).await["sessionId"].clone();
    let script = format!("echo $$ > {}; exec sleep 1000", pidfile.display());
    p.call("process/start", start("sleeper", &script)).await;
    let pid = pid_from(&pidfile).await;
    drop(p);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "killed before the TTL"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        assert!(
            Instant::now() < deadline,
            "sleep {pid} still alive 5 s after the TTL"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // And the session is gone.
    let mut q = Peer::new(&s).await;
    let id = q
        .send(
            "initialize",
            json!({"clientName": "t", "resumeSessionId": session}),
        )
        .await;
    let r = q.reply(id).await;
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("unknown session id")),
        "{r}"
    );
}

/// CPU seconds (user + system) the process has used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 =
        fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    ticks / 100.0
}

fn ppid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(1)?.parse().ok()
}

/// Issue 20 item 16: a flood of connections without a token, idle ones and ones that send a
/// single byte, against a server that can open only 64 descriptors. It must not end (before,
/// the failed `accept` ended `serve` and orphaned the clients' processes), must not burn CPU on
/// the one-byte connections, and must serve a client with the token once the flood is over,
/// while the process a client started before the flood keeps running under it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unauthenticated_connections_cannot_take_the_server_down() {
    use std::io::Write as _;
    let s = OurServer::start_with_nofile(64, &["--listen", "ws://127.0.0.1:0"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("pid");
    let mut p = Peer::new(&s).await;
    p.call("initialize", json!({"clientName": "t"})).await;
    let script = format!("echo $$ > {}; exec sleep 1000", pidfile.display());
    p.call("process/start", start("sleeper", &script)).await;
    let sleeper = pid_from(&pidfile).await;

    let addr = s.url.strip_prefix("ws://").expect("ws url").to_string();
    let addr: std::net::SocketAddr = addr.parse().expect("addr");
    let mut flood = Vec::new();
    for i in 0..150 {
        // Once the backlog is full, connects wait for the kernel's SYN retries: skip those.
        if let Ok(mut c) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(20)) {
            if i % 2 == 0 {
                let _ = c.write_all(b"G");
            }
            flood.push(c);
        }
    }
    let before = cpu_seconds(s.pid());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let used = cpu_seconds(s.pid()) - before;
    assert!(
        used < 0.3,
        "the flood cost the server {used:.2} CPU-s in 2 s"
    );
    assert_eq!(
        ppid(sleeper),
        Some(s.pid()),
        "the client's process is still the server's"
    );
    drop(flood);

    // Once the flood is gone, a client with the token gets in and runs a command.
    let deadline = Instant::now() + Duration::from_secs(15);
    let ws = loop {
        match connect(&s.url, Some(&s.token), None).await {
            Ok(ws) => break ws,
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "no connection after the flood: {e}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let mut q = Peer {
        ws,
        next_id: 1,
        notes: Vec::new(),
    };
    q.call("initialize", json!({"clientName": "t2"})).await;
    q.call("process/start", start("after", "echo served")).await;
    q.until_closed("after").await;
    assert_eq!(ppid(sleeper), Some(s.pid()), "never orphaned");
    let _ = Command::new("kill").arg(sleeper.to_string()).status();
}

/// A client that stops reading while its child writes 200 MB: the child runs to the end at
/// full speed, the server's memory stays bounded, and the client, reading again, gets the exit,
/// sees the gap and recovers the retained tail without duplicates.
#[tokio::test]
async fn a_client_that_stops_reading_during_a_200_mb_flood_costs_bounded_memory() {
    flood(start).await;
}

/// Pacing does not change that: a paced child whose client stops reading is let go after a
/// short wait and runs to the end.
#[tokio::test]
async fn a_paced_child_is_let_go_when_its_client_stops_reading() {
    flood(start_paced).await;
}

async fn flood(params: fn(&str, &str) -> Value) {
    let s = server(&[]);
    let server_pid = s.pid();
    let dir = tempfile::tempdir().expect("tempdir");
    let done = dir.path().join("done");
    let mut p = Peer::new(&s).await;
    p.call("initialize", json!({"clientName": "t"})).await;
    let baseline = rss_kib(server_pid, "VmRSS:");
    // 200 MB of numbered lines ("00000001\n" ...), so order and duplicates can be checked.
    let lines = 200_000_000 / 9;
    let script = format!("seq -f %08.0f 1 {lines}; touch {}", done.display());
    let id = p.send("process/start", params("flood", &script)).await;
    // Stop reading: the child must still finish, without anyone draining the socket.
    let t = Instant::now();
    while !done.exists() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the child was blocked by a client that is not reading"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let peak = rss_kib(server_pid, "VmHWM:");
    eprintln!(
        "flood: child finished in {:?}; server RSS baseline {} KiB, peak {} KiB",
        t.elapsed(),
        baseline,
        peak
    );
    assert!(
        peak < baseline + 32 * 1024,
        "server grew by {} KiB while a client was not reading",
        peak - baseline
    );

    // Read again: the exit and close arrive; the gap is recovered from retained output.
    assert_eq!(p.reply(id).await["result"]["processId"], "flood");
    p.until_closed("flood").await;
    // What a client keeps: the pushed output up to the first seq gap.
    let mut got = pushed(&p.notes, "flood");
    let contiguous = got
        .iter()
        .enumerate()
        .take_while(|(i, c)| c.0 == *i as u64 + 1)
        .count();
    got.truncate(contiguous);
    let exited = p
        .notes
        .iter()
        .find(|n| n["method"] == "process/exited")
        .expect("exited");
    assert_eq!(exited["params"]["exitCode"], 0);
    let last_pushed = got.last().map(|c| c.0).unwrap_or(0);
    let exit_seq = exited["params"]["seq"].as_u64().expect("seq");
    assert!(exit_seq > last_pushed + 1, "expected a gap before the exit");
    let r = p
        .call(
            "process/read",
            json!({"processId": "flood", "afterSeq": last_pushed}),
        )
        .await;
    let chunks = r["chunks"].as_array().expect("chunks");
    let retained: usize = chunks.iter().map(|c| decode(&c["chunk"]).len()).sum();
    assert!(retained <= 1 << 20, "{retained} bytes retained");
    assert!(retained > 512 << 10, "{retained} bytes retained");

    // Pushed prefix and recovered tail: each in order, no line twice, the tail ends the output.
    let prefix: Vec<u8> = got.iter().flat_map(|(_, b)| b.clone()).collect();
    let tail: Vec<u8> = chunks.iter().flat_map(|c| decode(&c["chunk"])).collect();
    let numbers = |bytes: &[u8]| -> Vec<u64> {
        String::from_utf8_lossy(bytes)
            .split('\n')
            .filter(|l| l.len() == 8)
            .map(|l| l.parse().expect("number"))
            .collect()
    };
    let head = numbers(&prefix);
    let end = numbers(&tail);
    assert!(
        head.windows(2).all(|w| w[1] == w[0] + 1),
        "pushed output out of order"
    );
    assert!(
        end.windows(2).all(|w| w[1] == w[0] + 1),
        "recovered output out of order"
    );
    assert_eq!(end.last().copied(), Some(lines));
    assert!(
        head.last().copied().unwrap_or(0) < end[0],
        "a line arrived twice"
    );
}

#[tokio::test]
async fn a_closed_process_stays_readable_for_its_retention_then_is_dropped() {
    let s = server(&["--closed-retention", "0.5"]);
    let mut p = Peer::new(&s).await;
    p.call("initialize", json!({"clientName": "t"})).await;
    p.call("process/start", start("e", "echo kept")).await;
    p.until_closed("e").await;
    let r = p.call("process/read", json!({"processId": "e"})).await;
    assert_eq!(decode(&r["chunks"][0]["chunk"]), b"kept\n");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let id = p.send("process/read", json!({"processId": "e"})).await;
        let r = p.reply(id).await;
        if r["error"]["message"] == "unknown process id e" {
            break;
        }
        assert!(Instant::now() < deadline, "still readable: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
