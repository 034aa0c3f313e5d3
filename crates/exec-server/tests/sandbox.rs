//! Sandboxed `process/start` against our real server on loopback: the `sandbox` field, the
//! `sandboxType` it reports, and `sandboxDenied` on `process/exited` and `process/read`, with
//! real commands under real Landlock and seccomp; a kernel without Landlock (simulated with a
//! seccomp filter that makes the Landlock syscalls fail with ENOSYS) refuses the start.
#![cfg(target_os = "linux")]

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use codex_exec_server::client::{ExecServerClient, SandboxPolicy, StartOptions};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use support::OurServer;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A directory outside /tmp (which workspace-write policies often grant), under the target dir.
fn scratch() -> tempfile::TempDir {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&base).expect("target tmp dir");
    tempfile::tempdir_in(base).expect("tempdir")
}

fn q(p: &Path) -> String {
    format!("'{}'", p.display())
}

/// A raw JSON-RPC peer over the WebSocket: requests by id, notifications kept in order.
struct Peer {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: i64,
    notes: Vec<Value>,
}

impl Peer {
    async fn new(s: &OurServer) -> Peer {
        let mut req = s.url.as_str().into_client_request().expect("request");
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {}", s.token).parse().expect("header"),
        );
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("connect");
        let mut p = Peer {
            ws,
            next_id: 1,
            notes: Vec::new(),
        };
        p.call("initialize", json!({"clientName": "sandbox-tests"}))
            .await
            .expect("initialize");
        p
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

    /// The result, or the error object.
    async fn call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.next_id;
        self.next_id += 1;
        let m = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.ws
            .send(Message::text(m.to_string()))
            .await
            .expect("send");
        loop {
            let m = self.next().await;
            if m["id"] == json!(id) {
                return match m.get("error") {
                    Some(e) => Err(e.clone()),
                    None => Ok(m["result"].clone()),
                };
            }
            self.notes.push(m);
        }
    }

    /// Every notification of `pid` up to its `process/closed`.
    async fn until_closed(&mut self, pid: &str) -> Vec<Value> {
        let of = |n: &Value| n["params"]["processId"] == pid;
        while !self
            .notes
            .iter()
            .any(|n| n["method"] == "process/closed" && of(n))
        {
            let m = self.next().await;
            self.notes.push(m);
        }
        self.notes.iter().filter(|n| of(n)).cloned().collect()
    }

    /// Starts `sh -c script` in `cwd` with `sandbox` (a policy as JSON, or nothing).
    async fn start(
        &mut self,
        pid: &str,
        script: &str,
        cwd: &Path,
        tty: bool,
        sandbox: Option<Value>,
    ) -> Result<Value, Value> {
        let mut params = json!({
            "processId": pid,
            "argv": ["sh", "-c", script],
            "cwd": cwd.display().to_string(),
            "env": {"PATH": std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into())},
            "tty": tty,
            "pipeStdin": false,
        });
        if let Some(s) = sandbox {
            params["sandbox"] = s;
        }
        self.call("process/start", params).await
    }

    /// Runs a process to its close: (start result, its `process/exited` params, a final
    /// `process/read` result).
    async fn run(
        &mut self,
        pid: &str,
        script: &str,
        cwd: &Path,
        tty: bool,
        sandbox: Option<Value>,
    ) -> (Value, Value, Value) {
        let started = self
            .start(pid, script, cwd, tty, sandbox)
            .await
            .expect("started");
        let notes = self.until_closed(pid).await;
        let exited = notes
            .iter()
            .find(|n| n["method"] == "process/exited")
            .expect("an exited notification")["params"]
            .clone();
        let read = self
            .call("process/read", json!({"processId": pid}))
            .await
            .expect("read");
        (started, exited, read)
    }
}

fn output(read: &Value) -> String {
    use base64::Engine as _;
    let bytes: Vec<u8> = read["chunks"]
        .as_array()
        .expect("chunks")
        .iter()
        .flat_map(|c| {
            base64::engine::general_purpose::STANDARD
                .decode(c["chunk"].as_str().expect("chunk"))
                .expect("base64")
        })
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn a_read_only_process_cannot_write_and_its_exit_says_sandbox_denied() {
    let s = OurServer::start();
    let mut p = Peer::new(&s).await;
    let dir = scratch();
    let target = dir.path().join("f");
    let (started, exited, read) = p
        .run(
            "ro",
            &format!("echo x > {}", q(&target)),
            dir.path(),
            false,
            Some(json!({"mode": "read-only"})),
        )
        .await;
    assert_eq!(
        started["sandboxType"], "linux-landlock-seccomp",
        "{started}"
    );
    assert_ne!(exited["exitCode"], 0, "{exited}");
    assert_eq!(exited["sandboxDenied"], true, "{exited} {read}");
    assert_eq!(read["sandboxDenied"], true, "{read}");
    assert!(output(&read).contains("Permission denied"), "{read}");
    assert!(!target.exists());
}

#[tokio::test]
async fn sandbox_denied_is_decided_on_the_whole_output_every_time() {
    // The exit can be seen before the output is read; the server must wait for the output. Many
    // quick denials, some after a burst of output, make a race show.
    let s = OurServer::start();
    let mut p = Peer::new(&s).await;
    let dir = scratch();
    for i in 0..12 {
        let pid = format!("q{i}");
        let noise = if i % 2 == 0 { "seq 1 20000; " } else { "" };
        let (_, exited, _) = p
            .run(
                &pid,
                &format!("{noise}echo x > {}", q(&dir.path().join("f"))),
                dir.path(),
                false,
                Some(json!({"mode": "read-only"})),
            )
            .await;
        assert_eq!(exited["sandboxDenied"], true, "{pid}: {exited}");
    }
}

#[tokio::test]
async fn workspace_write_writes_inside_its_root_exits_0_and_is_not_denied() {
    let s = OurServer::start();
    let mut p = Peer::new(&s).await;
    let root = scratch();
    let outside = scratch();
    let policy =
        json!({"mode": "workspace-write", "writableRoots": [root.path()], "networkAccess": false});
    let (started, exited, read) = p
        .run(
            "in",
            "echo x > inside.txt",
            root.path(),
            false,
            Some(policy.clone()),
        )
        .await;
    assert_eq!(
        started["sandboxType"], "linux-landlock-seccomp",
        "{started}"
    );
    assert_eq!(exited["exitCode"], 0, "{exited} {read}");
    assert_eq!(exited["sandboxDenied"], false, "{exited}");
    assert_eq!(read["sandboxDenied"], false, "{read}");
    assert!(root.path().join("inside.txt").exists());

    let target = outside.path().join("f");
    let (_, exited, _) = p
        .run(
            "out",
            &format!("echo x > {}", q(&target)),
            root.path(),
            false,
            Some(policy),
        )
        .await;
    assert_eq!(exited["sandboxDenied"], true, "{exited}");
    assert!(!target.exists());

    let with_network =
        json!({"mode": "workspace-write", "writableRoots": [root.path()], "networkAccess": true});
    let started = p
        .start("net", "true", root.path(), false, Some(with_network))
        .await
        .expect("started");
    assert_eq!(started["sandboxType"], "linux-landlock", "{started}");
}

#[tokio::test]
async fn without_a_sandbox_field_nothing_changes_and_danger_full_access_is_no_sandbox() {
    let s = OurServer::start();
    let mut p = Peer::new(&s).await;
    let dir = scratch();
    let (started, exited, read) = p
        .run(
            "plain",
            "echo x > plain.txt; echo 'Permission denied' >&2; exit 1",
            dir.path(),
            false,
            None,
        )
        .await;
    assert_eq!(
        started,
        json!({"processId": "plain", "sandboxType": "none"})
    );
    assert_eq!(exited["exitCode"], 1, "{exited}");
    // Not sandboxed, so never a sandbox denial, whatever it prints.
    assert_eq!(exited["sandboxDenied"], false, "{exited}");
    assert_eq!(read["sandboxDenied"], false, "{read}");
    assert!(dir.path().join("plain.txt").exists());

    let (started, exited, _) = p
        .run(
            "danger",
            "echo x > danger.txt",
            dir.path(),
            false,
            Some(json!({"mode": "danger-full-access"})),
        )
        .await;
    assert_eq!(started["sandboxType"], "none", "{started}");
    assert_eq!(exited["exitCode"], 0, "{exited}");
    assert!(dir.path().join("danger.txt").exists());
}

#[tokio::test]
async fn a_sandboxed_process_in_a_pty_can_use_its_terminal() {
    let s = OurServer::start();
    let mut p = Peer::new(&s).await;
    let dir = scratch();
    let (_, exited, read) = p
        .run(
            "tty",
            "test -t 0 && test -t 1 && echo via-tty > /dev/tty && stty -echo && echo done",
            dir.path(),
            true,
            Some(json!({"mode": "read-only"})),
        )
        .await;
    assert_eq!(exited["exitCode"], 0, "{exited} {}", output(&read));
    assert_eq!(exited["sandboxDenied"], false, "{exited}");
    let out = output(&read);
    assert!(out.contains("via-tty") && out.contains("done"), "{out:?}");
}

#[tokio::test]
async fn a_missing_program_is_still_refused_at_start_when_sandboxed() {
    let s = OurServer::start();
    let mut p = Peer::new(&s).await;
    let e = p
        .call(
            "process/start",
            json!({"processId": "x", "argv": ["no-such-program-xyz"], "cwd": "/",
                   "env": {"PATH": "/usr/bin:/bin"}, "sandbox": {"mode": "read-only"}}),
        )
        .await
        .expect_err("refused");
    assert_eq!(
        e["message"], "cannot start `no-such-program-xyz`: not found on PATH",
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_reports_sandbox_denied_in_its_completion() {
    let s = OurServer::start();
    let client = ExecServerClient::connect_websocket(&s.url, Some(&s.token), "sandbox-tests")
        .await
        .expect("connect");
    let dir = scratch();
    let target = dir.path().join("f");
    let sh = |script: String| {
        StartOptions::new(["sh".to_string(), "-c".into(), script], dir.path())
            .env("PATH", "/usr/bin:/bin")
    };
    let denied = client
        .start(sh(format!("echo x > {}", q(&target))).sandbox(SandboxPolicy::read_only()))
        .await
        .expect("start")
        .wait()
        .await
        .expect("completion");
    assert!(denied.sandbox_denied, "{denied:?}");
    assert_ne!(denied.exit_code, Some(0));
    assert!(!target.exists());

    let fine = client
        .start(
            sh(format!("echo x > {}", q(&target))).sandbox(SandboxPolicy::workspace_write(
                vec![dir.path().to_path_buf()],
                false,
            )),
        )
        .await
        .expect("start")
        .wait()
        .await
        .expect("completion");
    assert!(!fine.sandbox_denied, "{fine:?}");
    assert_eq!(fine.exit_code, Some(0));
    assert!(target.exists());
}

/// Starts our server on a thread whose seccomp filter makes the Landlock syscalls fail with
/// ENOSYS, as on a kernel without Landlock; the server inherits the filter.
fn server_without_landlock() -> OurServer {
    use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch};
    std::thread::spawn(|| {
        let rules = [
            libc::SYS_landlock_create_ruleset,
            libc::SYS_landlock_add_rule,
            libc::SYS_landlock_restrict_self,
        ]
        .into_iter()
        .map(|nr| (nr, Vec::new()))
        .collect();
        let arch = TargetArch::try_from(std::env::consts::ARCH).expect("a seccomp arch");
        let filter = SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOSYS as u32),
            arch,
        )
        .expect("filter");
        let program = BpfProgram::try_from(filter).expect("compile");
        seccompiler::apply_filter(&program).expect("install the filter on this thread");
        OurServer::start()
    })
    .join()
    .expect("thread")
}

#[tokio::test]
async fn without_landlock_a_sandboxed_start_is_refused_and_nothing_runs() {
    let s = server_without_landlock();
    let mut p = Peer::new(&s).await;
    let dir = scratch();
    let marker = dir.path().join("ran");
    let e = p
        .start(
            "p",
            &format!("echo ran > {}", q(&marker)),
            dir.path(),
            false,
            Some(json!({"mode": "workspace-write", "writableRoots": [dir.path()]})),
        )
        .await
        .expect_err("refused");
    assert_eq!(
        e["message"],
        "this kernel has no Landlock (it needs Linux 5.13 or later built with CONFIG_SECURITY_LANDLOCK=y); the command was not run: use a kernel with Landlock, or --sandbox danger-full-access to run without a sandbox",
        "{e}"
    );
    assert!(!marker.exists(), "the command ran without a sandbox");
    // The id was not taken, and an unsandboxed start still works under the same filter.
    let plain = dir.path().join("plain");
    let (_, exited, _) = p
        .run(
            "p",
            &format!("echo ran > {}", q(&plain)),
            dir.path(),
            false,
            None,
        )
        .await;
    assert_eq!(exited["exitCode"], 0, "{exited}");
    assert!(plain.exists());
    assert!(!marker.exists());
}
