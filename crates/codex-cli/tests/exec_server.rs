//! `codex exec-server` is the exec-server: same flags, same protocol.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};

#[test]
fn codex_exec_server_speaks_the_protocol_over_stdio() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_codex"))
        .args(["exec-server", "--listen", "stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start codex exec-server");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"clientName":"t"}}}}"#
    )
    .expect("write");
    let reply: serde_json::Value =
        serde_json::from_str(&lines.next().expect("a reply").expect("utf-8")).expect("json");
    assert_eq!(reply["id"], 1);
    assert!(reply["result"]["sessionId"].is_string(), "{reply}");
    drop(stdin);
    let status = child.wait().expect("exit");
    assert!(status.success(), "{status}");
}

#[test]
fn codex_exec_server_rejects_a_bad_listen_address_in_one_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_codex"))
        .args(["exec-server", "--listen", "tcp://x"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --listen must be `stdio` or `ws://HOST:PORT`, not `tcp://x`\n"
    );
}
