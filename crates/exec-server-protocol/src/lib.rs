//! Wire types of the codex-exec-server protocol: JSON-RPC 2.0 messages, one per line over stdio
//! or one per text frame over a WebSocket. docs/exec-server-protocol.md describes the protocol
//! with examples; these types are its single definition, used by the server and the client.
//!
//! The shapes match the exec-server of Codex 0.169 so that either side interoperates with it:
//! replies may omit `jsonrpc`, `cwd` travels as a `file://` URI, and `process/exited` carries
//! `sandboxDenied`.

mod chunk;
mod jsonrpc;

pub use chunk::Chunk;
pub use jsonrpc::{
    ErrorCode, Incoming, JSONRPC_VERSION, RequestId, RpcError, error_response, notification,
    request, response,
};

use std::collections::BTreeMap;

/// The sandbox policy that `process/start` carries, from codex-sandbox.
pub use codex_sandbox::{SandboxMode, SandboxPolicy};
use serde::{Deserialize, Serialize};

/// Method names, as they travel.
pub mod method {
    /// Handshake; must come first on every connection.
    pub const INITIALIZE: &str = "initialize";
    /// Notification a client sends after the `initialize` reply (Codex requires it).
    pub const INITIALIZED: &str = "initialized";
    /// Starts a process.
    pub const PROCESS_START: &str = "process/start";
    /// Reads retained output and the lifecycle state.
    pub const PROCESS_READ: &str = "process/read";
    /// Writes to a process's stdin.
    pub const PROCESS_WRITE: &str = "process/write";
    /// Sends a signal.
    pub const PROCESS_SIGNAL: &str = "process/signal";
    /// Kills a process.
    pub const PROCESS_TERMINATE: &str = "process/terminate";
    /// Notification: output.
    pub const PROCESS_OUTPUT: &str = "process/output";
    /// Notification: the process exited.
    pub const PROCESS_EXITED: &str = "process/exited";
    /// Notification: exited and both streams at EOF; the last event of a process.
    pub const PROCESS_CLOSED: &str = "process/closed";
}

/// `initialize` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeParams {
    /// Who is connecting, for logs.
    pub client_name: String,
    /// Re-attach this detached session instead of starting a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_session_id: Option<String>,
}

/// `initialize` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeResult {
    /// The session this connection is attached to; pass it as `resumeSessionId` to re-attach.
    pub session_id: String,
    /// What the server runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_info: Option<EnvironmentInfo>,
    /// The server sends each process's events in seq order, so a client may take a seq gap as
    /// missed events at once. (Ours does; Codex 0.169 omits it and sometimes reorders.)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ordered_events: bool,
}

/// Facts about the server's machine, sent with `initialize`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentInfo {
    /// Server version.
    pub executor_version: String,
    /// `linux`, `macos`, `windows`.
    pub platform_os: String,
    /// The server's working directory, as a `file://` URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
}

/// `process/start` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartParams {
    /// Chosen by the client, unique within the session.
    pub process_id: String,
    /// Program and arguments; `argv[0]` is looked up on the server's `PATH`.
    pub argv: Vec<String>,
    /// Working directory: a `file://` URI (as Codex sends it) or an absolute path.
    pub cwd: String,
    /// The child's whole environment (it replaces the server's).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Run in a pseudo-terminal; output then arrives on the `pty` stream.
    #[serde(default)]
    pub tty: bool,
    /// Keep stdin open for `process/write`; otherwise stdin is closed at start.
    #[serde(default)]
    pub pipe_stdin: bool,
    /// Read the child's output only as fast as the connection takes it, so a client that keeps
    /// reading loses nothing; a client that stalls is treated as stopped (see the protocol doc).
    /// An extension of ours: Codex 0.169 ignores it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backpressure: bool,
    /// Run the process under this sandbox (Landlock and seccomp on Linux); absent or
    /// `danger-full-access` runs it unrestricted. A server that cannot enforce the policy refuses
    /// the start instead of running the process unsandboxed. An extension of ours: Codex 0.169
    /// ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<codex_sandbox::SandboxPolicy>,
}

/// `process/start` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartResult {
    /// Echo of the id.
    pub process_id: String,
    /// What sandboxes the process: `none`, or (ours) `linux-landlock-seccomp`, or
    /// `linux-landlock` when the policy allows the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox_type: Option<String>,
}

/// Parameters that name only a process (`process/terminate`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessRef {
    /// The process.
    pub process_id: String,
}

/// `process/read` parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadParams {
    /// The process.
    pub process_id: String,
    /// Return only events after this seq (default 0: everything retained).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_seq: Option<u64>,
    /// Stop after this many output bytes (at least one chunk is returned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
    /// When nothing is newer than `afterSeq`, wait up to this long for something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<u64>,
}

/// One retained output chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputChunk {
    /// Its seq.
    pub seq: u64,
    /// Which stream.
    pub stream: Stream,
    /// The bytes.
    pub chunk: Chunk,
}

/// `process/read` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadResult {
    /// Retained output after `afterSeq`, in seq order.
    pub chunks: Vec<OutputChunk>,
    /// The first seq not covered by this answer: pass `nextSeq - 1` as the next `afterSeq`.
    pub next_seq: u64,
    /// The process has exited.
    pub exited: bool,
    /// Its exit code (128 + signal when killed by a signal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Exited and both streams at EOF.
    pub closed: bool,
    /// Why the process failed, when it did (I/O error, lost session).
    #[serde(default)]
    pub failure: Option<String>,
    /// Whether the process ran sandboxed, failed, and its output looks like a sandbox denial
    /// (decided when the exit is recorded; see `codex_sandbox::likely_denial`).
    #[serde(default)]
    pub sandbox_denied: bool,
}

/// `process/write` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteParams {
    /// The process.
    pub process_id: String,
    /// The bytes for stdin.
    pub chunk: Chunk,
    /// Idempotency key: a retried write with the same id is acknowledged, not written again.
    pub write_id: String,
}

/// `process/write` result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteResult {
    /// What happened to the write.
    pub status: WriteStatus,
}

/// What happened to a `process/write`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WriteStatus {
    /// Written (or already written under this `writeId`).
    Accepted,
    /// No process with that id in this session.
    UnknownProcess,
    /// Stdin is closed: not piped, or the process is gone.
    StdinClosed,
    /// The process is still being started; retry.
    Starting,
}

/// `process/signal` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignalParams {
    /// The process.
    pub process_id: String,
    /// Which signal.
    pub signal: Signal,
}

/// Signals a client may send. Codex 0.169 knows only `interrupt`; the others are ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Signal {
    /// SIGINT (Ctrl-C on Windows consoles).
    Interrupt,
    /// SIGTERM.
    Terminate,
    /// SIGHUP.
    Hangup,
    /// SIGKILL.
    Kill,
}

/// `process/terminate` result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminateResult {
    /// Whether the process was still running (and so was killed).
    pub running: bool,
}

/// Output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
    /// The terminal of a `tty: true` process (stdout and stderr together).
    Pty,
}

/// `process/output` notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputNotification {
    /// The process.
    pub process_id: String,
    /// Its seq.
    pub seq: u64,
    /// Which stream.
    pub stream: Stream,
    /// The bytes.
    pub chunk: Chunk,
}

/// `process/exited` notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExitedNotification {
    /// The process.
    pub process_id: String,
    /// Its seq.
    pub seq: u64,
    /// Exit code (128 + signal when killed by a signal).
    pub exit_code: i32,
    /// Whether the process ran sandboxed, failed, and its output looks like a sandbox denial;
    /// absent from legacy servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox_denied: Option<bool>,
}

/// `process/closed` notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClosedNotification {
    /// The process.
    pub process_id: String,
    /// Its seq: the last of the process.
    pub seq: u64,
}

/// Turns a `cwd` as sent (a `file://` URI or an absolute path) into a path.
pub fn cwd_to_path(cwd: &str) -> Result<std::path::PathBuf, String> {
    let path = match cwd.strip_prefix("file://") {
        Some(rest) => {
            // `file:///tmp` has an empty authority; `file://localhost/tmp` names this machine.
            let rest = rest.strip_prefix("localhost").unwrap_or(rest);
            if !rest.starts_with('/') {
                return Err(format!(
                    "cwd {cwd:?} is not a file:// URI of an absolute path"
                ));
            }
            percent_decode(rest).ok_or_else(|| format!("cwd {cwd:?} has a bad %-escape"))?
        }
        None => cwd.to_string(),
    };
    let path = std::path::PathBuf::from(windows_drive(&path));
    if !path.is_absolute() {
        return Err(format!(
            "cwd {cwd:?} must be an absolute path or a file:// URI"
        ));
    }
    Ok(path)
}

/// Turns an absolute path into the `file://` URI that Codex expects for `cwd`.
pub fn path_to_cwd(path: &std::path::Path) -> String {
    let mut out = String::from("file://");
    let s = path.to_string_lossy().replace('\\', "/");
    if !s.starts_with('/') {
        out.push('/');
    }
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' | b':' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `/C:/x` (from `file:///C:/x`) is `C:/x` on Windows.
fn windows_drive(path: &str) -> &str {
    let b = path.as_bytes();
    if cfg!(windows) && b.len() >= 3 && b[0] == b'/' && b[1].is_ascii_alphabetic() && b[2] == b':' {
        &path[1..]
    } else {
        path
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cwd_accepts_file_uris_and_absolute_paths() {
        assert_eq!(
            cwd_to_path("file:///tmp/a%20b").expect("test value"),
            std::path::PathBuf::from("/tmp/a b")
        );
        assert_eq!(
            cwd_to_path("file://localhost/tmp").expect("test value"),
            std::path::PathBuf::from("/tmp")
        );
        assert_eq!(
            cwd_to_path("/tmp").expect("test value"),
            std::path::PathBuf::from("/tmp")
        );
        assert!(cwd_to_path("tmp").is_err());
        assert!(cwd_to_path("file://host/tmp").is_err());
    }

    #[test]
    fn path_round_trips_through_a_file_uri() {
        let p = std::path::Path::new("/tmp/a b/ü");
        assert_eq!(path_to_cwd(p), "file:///tmp/a%20b/%C3%BC");
        assert_eq!(cwd_to_path(&path_to_cwd(p)).expect("test value"), p);
    }

    #[test]
    fn codex_exited_notification_parses() {
        let n: ExitedNotification = serde_json::from_str(
            r#"{"processId":"p1","seq":3,"exitCode":3,"sandboxDenied":false}"#,
        )
        .expect("test value");
        assert_eq!(n.sandbox_denied, Some(false));
        let legacy: ExitedNotification =
            serde_json::from_str(r#"{"processId":"p1","seq":3,"exitCode":0}"#).expect("test value");
        assert_eq!(legacy.sandbox_denied, None);
    }

    #[test]
    fn codex_read_result_parses() {
        let r: ReadResult = serde_json::from_str(
            r#"{"chunks":[{"seq":1,"stream":"stderr","chunk":"ZXJyCg=="}],"nextSeq":5,"exited":true,"exitCode":3,"closed":true,"failure":null,"sandboxDenied":false}"#,
        )
        .expect("test value");
        assert_eq!(r.chunks[0].chunk.as_ref(), b"err\n");
        assert_eq!(r.next_seq, 5);
        assert_eq!(r.exit_code, Some(3));
    }

    #[test]
    fn start_params_carry_a_sandbox_only_when_given() {
        let mut p = StartParams {
            process_id: "p1".into(),
            argv: vec!["true".into()],
            cwd: "/".into(),
            env: BTreeMap::new(),
            tty: false,
            pipe_stdin: false,
            backpressure: false,
            sandbox: None,
        };
        let plain = serde_json::to_value(&p).expect("json");
        assert!(plain.get("sandbox").is_none(), "{plain}");
        p.sandbox = Some(SandboxPolicy::workspace_write(vec!["/w".into()], false));
        let v = serde_json::to_value(&p).expect("json");
        assert_eq!(
            v["sandbox"],
            serde_json::json!({"mode": "workspace-write", "writableRoots": ["/w"], "networkAccess": false})
        );
        let back: StartParams = serde_json::from_value(v).expect("parses");
        assert_eq!(back, p);
        // Codex 0.169's shape, without the field, still parses.
        let codex: StartParams = serde_json::from_value(plain).expect("parses");
        assert_eq!(codex.sandbox, None);
    }

    #[test]
    fn write_status_travels_in_camel_case() {
        let s = serde_json::to_string(&WriteResult {
            status: WriteStatus::UnknownProcess,
        })
        .expect("test value");
        assert_eq!(s, r#"{"status":"unknownProcess"}"#);
    }
}
