//! One process's event log: a seq counter shared by its output, exit and close events, the
//! retained output that `process/read` serves, and delivery of each event to whichever
//! connection its session is attached to at that moment.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codex_exec_server_protocol::{
    Chunk, ClosedNotification, ExitedNotification, OutputChunk, ReadResult, Signal, Stream, method,
    notification,
};
use tokio::sync::{Notify, mpsc, oneshot};

use super::outbox::Outbox;
use super::spawn::Control;
use crate::sync::lock;

/// Bytes of output each process keeps for `process/read`: the newest 1 MiB.
pub const RETAINED_BYTES: usize = 1 << 20;
/// Chunks each process keeps at most, so tiny writes cannot make the index huge.
pub const RETAINED_CHUNKS: usize = 8192;

/// Where a session's events go: the connection it is attached to, if any.
#[derive(Debug, Default)]
pub struct Attachment {
    outbox: Mutex<Option<Arc<Outbox>>>,
}

impl Attachment {
    /// The connection now attached.
    pub fn current(&self) -> Option<Arc<Outbox>> {
        lock(&self.outbox).clone()
    }

    /// Attaches `outbox` (or detaches, with `None`); returns the one it replaces.
    pub fn set(&self, outbox: Option<Arc<Outbox>>) -> Option<Arc<Outbox>> {
        std::mem::replace(&mut *lock(&self.outbox), outbox)
    }
}

/// A process of a session.
#[derive(Debug)]
pub struct Process {
    /// The client's id for it.
    pub id: String,
    id_json: String,
    attachment: Arc<Attachment>,
    state: Mutex<State>,
    changed: Notify,
    stdin: Mutex<Option<mpsc::UnboundedSender<StdinWrite>>>,
    control: Mutex<Option<Control>>,
}

#[derive(Debug)]
struct State {
    starting: bool,
    last_seq: u64,
    retained: VecDeque<OutputChunk>,
    retained_bytes: usize,
    exit_code: Option<i32>,
    open_streams: u8,
    closed_at: Option<Instant>,
    failure: Option<String>,
    /// Started under a sandbox: its exit is checked for a likely denial.
    sandboxed: bool,
    /// Decided when the exit is recorded.
    sandbox_denied: bool,
}

/// A pending `process/write`.
#[derive(Debug)]
pub struct StdinWrite {
    /// Its idempotency key.
    pub write_id: String,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Gets whether it was written.
    pub done: oneshot::Sender<bool>,
}

impl Process {
    /// A process that is being started, with `streams` output streams to wait for.
    pub fn new(id: String, attachment: Arc<Attachment>, streams: u8) -> Self {
        Process {
            id_json: serde_json::Value::String(id.clone()).to_string(),
            id,
            attachment,
            state: Mutex::new(State {
                starting: true,
                last_seq: 0,
                retained: VecDeque::new(),
                retained_bytes: 0,
                exit_code: None,
                open_streams: streams,
                closed_at: None,
                failure: None,
                sandboxed: false,
                sandbox_denied: false,
            }),
            changed: Notify::new(),
            stdin: Mutex::new(None),
            control: Mutex::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The child is running: stdin (if piped) takes writes, `control` delivers signals.
    pub fn started(&self, stdin: Option<mpsc::UnboundedSender<StdinWrite>>, control: Control) {
        *lock(&self.stdin) = stdin;
        *lock(&self.control) = Some(control);
        self.lock().starting = false;
    }

    /// The child runs under a sandbox.
    pub fn set_sandboxed(&self) {
        self.lock().sandboxed = true;
    }

    /// Whether the child runs under a sandbox.
    pub fn is_sandboxed(&self) -> bool {
        self.lock().sandboxed
    }

    /// Waits until every output stream has ended, or `limit` has passed.
    pub async fn streams_settled(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.lock().open_streams == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }

    /// [`Process::streams_settled`] for a plain thread (a terminal's waiter).
    pub fn streams_settled_blocking(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.lock().open_streams > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Whether the child is still being started.
    pub fn is_starting(&self) -> bool {
        self.lock().starting
    }

    /// The stdin queue, if stdin is open.
    pub fn stdin(&self) -> Option<mpsc::UnboundedSender<StdinWrite>> {
        lock(&self.stdin).clone().filter(|tx| !tx.is_closed())
    }

    /// Records output: first into the retained log, then (if it fits the connection's budget)
    /// as a notification. Never waits on the connection.
    pub fn output(&self, stream: Stream, bytes: &[u8]) {
        let mut s = self.lock();
        s.last_seq += 1;
        let seq = s.last_seq;
        s.retained_bytes += bytes.len();
        s.retained.push_back(OutputChunk {
            seq,
            stream,
            chunk: Chunk(bytes.to_vec()),
        });
        while s.retained_bytes > RETAINED_BYTES || s.retained.len() > RETAINED_CHUNKS {
            match s.retained.pop_front() {
                Some(old) => s.retained_bytes -= old.chunk.0.len(),
                None => break,
            }
        }
        // Delivered under the state lock so that the connection sees seqs in order.
        if let Some(outbox) = self.attachment.current() {
            let size = Chunk::encoded_len(bytes.len()) + self.id_json.len() + 96;
            outbox.offer(size, || self.output_message(seq, stream, bytes, size));
        }
        drop(s);
        self.changed.notify_waiters();
    }

    fn output_message(&self, seq: u64, stream: Stream, bytes: &[u8], size: usize) -> String {
        let stream = match stream {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
            Stream::Pty => "pty",
        };
        let mut m = String::with_capacity(size);
        m.push_str(r#"{"jsonrpc":"2.0","method":"process/output","params":{"processId":"#);
        m.push_str(&self.id_json);
        m.push_str(&format!(r#","seq":{seq},"stream":"{stream}","chunk":""#));
        Chunk::encode_into(bytes, &mut m);
        m.push_str("\"}}");
        m
    }

    /// Records the exit.
    pub fn exited(&self, exit_code: i32) {
        let mut s = self.lock();
        if s.exit_code.is_some() {
            return;
        }
        s.exit_code = Some(exit_code);
        if s.sandboxed && exit_code != 0 && s.failure.is_none() {
            // Each stream on its own: a message split over chunks of one stream is whole again,
            // and chunks of another stream cannot land inside it.
            s.sandbox_denied = [Stream::Stdout, Stream::Stderr, Stream::Pty]
                .into_iter()
                .any(|stream| {
                    let output: Vec<u8> = s
                        .retained
                        .iter()
                        .filter(|c| c.stream == stream)
                        .flat_map(|c| c.chunk.0.iter().copied())
                        .collect();
                    codex_sandbox::likely_denial(exit_code, &output)
                });
        }
        s.last_seq += 1;
        let n = ExitedNotification {
            process_id: self.id.clone(),
            seq: s.last_seq,
            exit_code,
            sandbox_denied: Some(s.sandbox_denied),
        };
        self.deliver(method::PROCESS_EXITED, &n);
        self.maybe_close(&mut s);
        drop(s);
        self.changed.notify_waiters();
    }

    /// Records the end of one output stream.
    pub fn stream_ended(&self) {
        let mut s = self.lock();
        s.open_streams = s.open_streams.saturating_sub(1);
        self.maybe_close(&mut s);
        drop(s);
        self.changed.notify_waiters();
    }

    /// Records a failure that ends the process (it could not be waited for, or it was lost).
    pub fn failed(&self, why: String) {
        self.lock().failure.get_or_insert(why);
        self.exited(-1);
    }

    fn maybe_close(&self, s: &mut State) {
        if s.closed_at.is_none() && s.exit_code.is_some() && s.open_streams == 0 {
            s.closed_at = Some(Instant::now());
            s.last_seq += 1;
            let n = ClosedNotification {
                process_id: self.id.clone(),
                seq: s.last_seq,
            };
            self.deliver(method::PROCESS_CLOSED, &n);
            *lock(&self.stdin) = None;
        }
    }

    /// Lifecycle events are always queued: one or two per process, so they cannot flood.
    fn deliver(&self, method: &str, params: &impl serde::Serialize) {
        if let Some(outbox) = self.attachment.current() {
            outbox.push(notification(method, params));
        }
    }

    /// The connection its events go to now, if any.
    pub fn connection(&self) -> Option<Arc<Outbox>> {
        self.attachment.current()
    }

    /// Whether the exit is not yet known.
    pub fn is_running(&self) -> bool {
        self.lock().exit_code.is_none()
    }

    /// When it closed, if it has.
    pub fn closed_at(&self) -> Option<Instant> {
        self.lock().closed_at
    }

    /// Sends a signal, unless the process has already exited.
    pub fn signal(&self, signal: Signal) {
        if !self.is_running() {
            return;
        }
        if let Some(control) = &*lock(&self.control) {
            control.send(signal);
        }
    }

    /// Retained output after `after_seq` and the lifecycle state.
    pub fn snapshot(&self, after_seq: u64, max_bytes: Option<u64>) -> ReadResult {
        let s = self.lock();
        let mut chunks = Vec::new();
        let mut bytes = 0u64;
        let mut truncated_at = None;
        for c in s.retained.iter().filter(|c| c.seq > after_seq) {
            if let Some(max) = max_bytes
                && !chunks.is_empty()
                && bytes + c.chunk.0.len() as u64 > max
            {
                truncated_at = Some(c.seq);
                break;
            }
            bytes += c.chunk.0.len() as u64;
            chunks.push(c.clone());
        }
        ReadResult {
            chunks,
            next_seq: truncated_at.unwrap_or(s.last_seq + 1),
            exited: s.exit_code.is_some(),
            exit_code: s.exit_code,
            closed: s.closed_at.is_some(),
            failure: s.failure.clone(),
            sandbox_denied: s.sandbox_denied,
        }
    }

    /// Like [`Process::snapshot`], but first waits up to `wait` for an event after `after_seq`.
    pub async fn read(&self, after_seq: u64, max_bytes: Option<u64>, wait: Duration) -> ReadResult {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let s = self.lock();
                if s.last_seq > after_seq || s.closed_at.is_some() {
                    break;
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                break;
            }
        }
        self.snapshot(after_seq, max_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_keeps_the_newest_chunks_within_both_caps() {
        let p = Process::new("p".into(), Arc::new(Attachment::default()), 2);
        for _ in 0..RETAINED_CHUNKS + 100 {
            p.output(Stream::Stdout, b"x");
        }
        let r = p.snapshot(0, None);
        assert_eq!(r.chunks.len(), RETAINED_CHUNKS);
        assert_eq!(r.chunks[0].seq, 101);
        assert_eq!(r.next_seq, RETAINED_CHUNKS as u64 + 101);

        let big = vec![0u8; 64 * 1024];
        for _ in 0..40 {
            p.output(Stream::Stderr, &big);
        }
        let r = p.snapshot(0, None);
        let bytes: usize = r.chunks.iter().map(|c| c.chunk.0.len()).sum();
        assert!(bytes <= RETAINED_BYTES, "{bytes}");
        assert_eq!(bytes, 16 * 64 * 1024);
    }

    #[test]
    fn sandbox_denied_reads_each_stream_whole_and_only_for_sandboxed_failures() {
        let run = |sandboxed: bool, code: i32| {
            let p = Process::new("p".into(), Arc::new(Attachment::default()), 2);
            if sandboxed {
                p.set_sandboxed();
            }
            p.output(Stream::Stderr, b"sh: 1: cannot create /x: Permission ");
            p.output(Stream::Stdout, b"unrelated\n");
            p.output(Stream::Stderr, b"denied\n");
            p.exited(code);
            p.snapshot(0, None).sandbox_denied
        };
        assert!(run(true, 2));
        assert!(!run(true, 0));
        assert!(!run(false, 2));
    }

    #[test]
    fn max_bytes_cuts_a_read_and_next_seq_points_at_the_first_chunk_left_out() {
        let p = Process::new("p".into(), Arc::new(Attachment::default()), 2);
        for _ in 0..3 {
            p.output(Stream::Stdout, b"12345");
        }
        let r = p.snapshot(0, Some(7));
        assert_eq!(r.chunks.len(), 1);
        assert_eq!(r.next_seq, 2);
        let r = p.snapshot(1, Some(10));
        assert_eq!(r.chunks.len(), 2);
        assert_eq!(r.next_seq, 4);
    }
}
