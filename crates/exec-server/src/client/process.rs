//! [`RemoteProcess`]: one process's ordered event stream, rebuilt from pushed notifications and,
//! only when something was missed, from a single `process/read`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use codex_exec_server_protocol::{ReadParams, ReadResult, Signal, Stream, WriteStatus};
use tokio::sync::{Notify, mpsc};

use super::error::{ClientError, Result};
use super::session::Inner;
use crate::sync::lock;

/// Pushed events a process's channel holds before the client stops queueing and marks it lagged.
pub const EVENT_CHANNEL_CAPACITY: usize = 1024;

/// How long an event that arrived ahead of a missing seq waits for it before the client reads the
/// gap back. Servers may push a process's events slightly out of order (Codex 0.169 does: its
/// `exited` can overtake an output notification), so a gap is only real once it persists.
pub const REORDER_GRACE: std::time::Duration = std::time::Duration::from_millis(100);

/// One event of a process, in seq order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessEvent {
    /// Output bytes.
    Output {
        /// The event's seq.
        seq: u64,
        /// Which stream.
        stream: Stream,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// The process exited (128 + signal when killed by one).
    Exited {
        /// Exit code.
        code: i32,
    },
    /// Exited and both streams at EOF: the last event.
    Closed,
}

/// Everything a process produced, as collected by [`RemoteProcess::wait`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    /// Its standard output.
    pub stdout: Vec<u8>,
    /// Its standard error.
    pub stderr: Vec<u8>,
    /// Its terminal output (`tty: true`).
    pub pty: Vec<u8>,
    /// Exit code, when the server reported one.
    pub exit_code: Option<i32>,
    /// Output chunks that could not be recovered: they were pushed but not received, and had
    /// already left the server's retained window (1 MiB) when the client read it back. Zero means
    /// the output above is complete.
    pub lost_chunks: u64,
    /// Why the server says the process failed, when it does.
    pub failure: Option<String>,
    /// The process ran sandboxed, failed, and its output looks like a sandbox denial (from
    /// `process/exited` or `process/read`; always false from servers that do not sandbox).
    pub sandbox_denied: bool,
}

/// A pushed event, as the reader task routes it.
#[derive(Debug)]
pub(crate) enum Pushed {
    Output {
        seq: u64,
        stream: Stream,
        bytes: Vec<u8>,
    },
    Exited {
        seq: u64,
        code: i32,
        sandbox_denied: bool,
    },
    Closed {
        seq: u64,
    },
}

impl Pushed {
    fn seq(&self) -> u64 {
        match self {
            Pushed::Output { seq, .. } | Pushed::Exited { seq, .. } | Pushed::Closed { seq } => {
                *seq
            }
        }
    }
}

#[derive(Default)]
struct Flags {
    /// Events were dropped (channel full) or the link was re-established: read to catch up.
    resync: bool,
    /// The process is lost to this client, and why.
    failed: Option<String>,
}

/// The reader task's end of a process: never blocks.
pub(crate) struct Sink {
    tx: mpsc::Sender<Pushed>,
    flags: Mutex<Flags>,
    wake: Notify,
}

impl Sink {
    pub(crate) fn new() -> (Arc<Sink>, mpsc::Receiver<Pushed>) {
        let (tx, rx) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
        let sink = Sink {
            tx,
            flags: Mutex::default(),
            wake: Notify::new(),
        };
        (Arc::new(sink), rx)
    }

    fn flags(&self) -> std::sync::MutexGuard<'_, Flags> {
        lock(&self.flags)
    }

    /// Queues `event`, or drops it and marks the process lagged when the channel is full.
    pub(crate) fn push(&self, event: Pushed) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(event) {
            self.resync();
        }
    }

    /// Asks the consumer to catch up with one `process/read`.
    pub(crate) fn resync(&self) {
        self.flags().resync = true;
        self.wake.notify_one();
    }

    /// Ends the stream with an error (after the events already queued).
    pub(crate) fn fail(&self, reason: String) {
        self.flags().failed.get_or_insert(reason);
        self.wake.notify_one();
    }
}

/// A process started with [`super::ExecServerClient::start`]. Dropping it stops tracking the
/// process (it keeps running on the server).
pub struct RemoteProcess {
    /// How long a seq gap may wait for reordered events before a catch-up read.
    grace: std::time::Duration,
    id: String,
    client: Arc<Inner>,
    sink: Arc<Sink>,
    rx: mpsc::Receiver<Pushed>,
    ready: VecDeque<ProcessEvent>,
    /// Events that arrived ahead of a missing seq, and since when the first gap is open.
    ahead: BTreeMap<u64, Pushed>,
    gap_since: Option<tokio::time::Instant>,
    last_seq: u64,
    exited: Option<i32>,
    sandbox_denied: bool,
    closed: bool,
    lost_chunks: u64,
    failure: Option<String>,
}

impl std::fmt::Debug for RemoteProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteProcess")
            .field("id", &self.id)
            .field("last_seq", &self.last_seq)
            .finish_non_exhaustive()
    }
}

impl RemoteProcess {
    pub(crate) fn new(
        id: String,
        client: Arc<Inner>,
        sink: Arc<Sink>,
        rx: mpsc::Receiver<Pushed>,
        grace: std::time::Duration,
    ) -> Self {
        RemoteProcess {
            grace,
            id,
            client,
            sink,
            rx,
            ready: VecDeque::new(),
            ahead: BTreeMap::new(),
            gap_since: None,
            last_seq: 0,
            exited: None,
            sandbox_denied: false,
            closed: false,
            lost_chunks: 0,
            failure: None,
        }
    }

    /// The process id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The seq of the last event delivered (or recovered) so far.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Whether the server judged the exit a likely sandbox denial (false until the exit is
    /// known; see [`Completion::sandbox_denied`]).
    pub fn sandbox_denied(&self) -> bool {
        self.sandbox_denied
    }

    /// Writes `bytes` to stdin under a fresh write id.
    pub async fn write(&self, bytes: &[u8]) -> Result<WriteStatus> {
        let write_id = self.client.next_write_id();
        self.client.write(&self.id, bytes, &write_id).await
    }

    /// Writes `bytes` under `write_id`; a retry with the same id is not written twice.
    pub async fn write_with_id(&self, bytes: &[u8], write_id: &str) -> Result<WriteStatus> {
        self.client.write(&self.id, bytes, write_id).await
    }

    /// Sends a signal.
    pub async fn signal(&self, signal: Signal) -> Result<()> {
        self.client.signal(&self.id, signal).await
    }

    /// Kills the process; returns whether it was still running.
    pub async fn terminate(&self) -> Result<bool> {
        self.client.terminate(&self.id).await
    }

    /// `process/read`: retained output after `after_seq`, waiting up to `wait_ms` for something
    /// new. Independent of the event stream (it does not advance [`RemoteProcess::next_event`]).
    pub async fn read(&self, after_seq: u64, wait_ms: Option<u64>) -> Result<ReadResult> {
        self.client
            .read(ReadParams {
                process_id: self.id.clone(),
                after_seq: Some(after_seq),
                max_bytes: None,
                wait_ms,
            })
            .await
    }

    /// The next event in seq order; `Ok(None)` after [`ProcessEvent::Closed`]. An error means
    /// the process is lost to this client (e.g. "connection to exec-server lost").
    pub async fn next_event(&mut self) -> Result<Option<ProcessEvent>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Ok(Some(event));
            }
            if self.closed {
                return Ok(None);
            }
            let resync = std::mem::take(&mut self.sink.flags().resync);
            if resync {
                self.catch_up().await?;
                continue;
            }
            match self.rx.try_recv() {
                Ok(pushed) => {
                    self.accept(pushed).await?;
                    continue;
                }
                Err(mpsc::error::TryRecvError::Empty) => {}
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    return Err(self.lost("event channel closed".into()));
                }
            }
            let failed = self.sink.flags().failed.clone();
            if let Some(reason) = failed {
                if self.gap_since.is_some() {
                    // Give the events we hold their chance (the read fails loudly if it cannot).
                    self.catch_up().await?;
                    continue;
                }
                return Err(self.lost(reason));
            }
            let gap_deadline = self.gap_since.map(|t| t + self.grace);
            tokio::select! {
                pushed = self.rx.recv() => {
                    if let Some(pushed) = pushed {
                        self.accept(pushed).await?;
                    }
                }
                _ = self.sink.wake.notified() => {}
                _ = sleep_until_some(gap_deadline) => self.catch_up().await?,
            }
        }
    }

    /// Collects every event until `process/closed`.
    pub async fn wait(mut self) -> Result<Completion> {
        let mut c = Completion::default();
        while let Some(event) = self.next_event().await? {
            match event {
                ProcessEvent::Output { stream, bytes, .. } => match stream {
                    Stream::Stdout => c.stdout.extend_from_slice(&bytes),
                    Stream::Stderr => c.stderr.extend_from_slice(&bytes),
                    Stream::Pty => c.pty.extend_from_slice(&bytes),
                },
                ProcessEvent::Exited { code } => c.exit_code = Some(code),
                ProcessEvent::Closed => {}
            }
        }
        c.exit_code = c.exit_code.or(self.exited);
        c.sandbox_denied = self.sandbox_denied;
        c.lost_chunks = self.lost_chunks;
        c.failure = self.failure.take();
        Ok(c)
    }

    fn lost(&self, reason: String) -> ClientError {
        ClientError::ProcessLost {
            process_id: self.id.clone(),
            reason,
        }
    }

    /// Takes one pushed event: in order it is delivered (with any held events it unblocks),
    /// already covered it is ignored, ahead of a missing seq it is held (see [`REORDER_GRACE`]).
    async fn accept(&mut self, pushed: Pushed) -> Result<()> {
        let seq = pushed.seq();
        if seq <= self.last_seq || self.closed {
            return Ok(());
        }
        if seq > self.last_seq + 1 {
            self.ahead.insert(seq, pushed);
            self.gap_since.get_or_insert_with(tokio::time::Instant::now);
            return Ok(());
        }
        self.apply(pushed);
        self.drain_ahead();
        Ok(())
    }

    /// Delivers held events that are now in order; after a catch-up read, drops those it covered
    /// and counts any seqs that are still missing as lost.
    fn drain_ahead(&mut self) {
        while let Some(entry) = self.ahead.first_entry() {
            let seq = *entry.key();
            if seq <= self.last_seq || self.closed {
                entry.remove();
            } else if seq == self.last_seq + 1 {
                let pushed = entry.remove();
                self.apply(pushed);
            } else {
                break;
            }
        }
        self.gap_since = match self.ahead.is_empty() {
            true => None,
            false => self.gap_since.or_else(|| Some(tokio::time::Instant::now())),
        };
    }

    fn apply(&mut self, pushed: Pushed) {
        self.last_seq = pushed.seq();
        match pushed {
            Pushed::Output { seq, stream, bytes } => {
                self.ready
                    .push_back(ProcessEvent::Output { seq, stream, bytes })
            }
            Pushed::Exited {
                code,
                sandbox_denied,
                ..
            } => {
                if self.exited.is_none() {
                    self.exited = Some(code);
                    self.sandbox_denied = sandbox_denied;
                    self.ready.push_back(ProcessEvent::Exited { code });
                }
            }
            Pushed::Closed { .. } => {
                self.closed = true;
                self.ready.push_back(ProcessEvent::Closed);
            }
        }
    }

    /// One `process/read {afterSeq: last}` and its merge. If the link drops during the read and
    /// the client recovers its session, the read is repeated once on the new link.
    async fn catch_up(&mut self) -> Result<()> {
        let r = loop {
            let generation = self.client.generation();
            let params = ReadParams {
                process_id: self.id.clone(),
                after_seq: Some(self.last_seq),
                max_bytes: None,
                wait_ms: None,
            };
            match self.client.read(params).await {
                Ok(r) => break r,
                Err(ClientError::ConnectionLost(why)) => {
                    match self.client.relinked_since(generation).await {
                        Ok(()) => {
                            // Recovery also asked us to resync; this read serves both.
                            self.sink.flags().resync = false;
                        }
                        Err(reason) => {
                            tracing::debug!(process = %self.id, "catch-up read lost: {why}");
                            return Err(self.lost(reason));
                        }
                    }
                }
                Err(e @ ClientError::Closed(_)) => return Err(self.lost(e.to_string())),
                Err(e) => return Err(self.lost(format!("catch-up read failed: {e}"))),
            }
        };
        self.merge(r);
        // Events held across the gap were produced before the read, so it covered them; any
        // still ahead (a truncated read) follow, with the seqs between them counted as lost.
        self.drain_ahead();
        if let Some(&seq) = self.ahead.keys().next() {
            self.lost_chunks += seq - self.last_seq - 1;
            self.last_seq = seq - 1;
            self.drain_ahead();
        }
        Ok(())
    }

    fn merge(&mut self, r: ReadResult) {
        let last = self.last_seq;
        let new_last = r.next_seq.saturating_sub(1).max(last);
        let mut covered = 0u64;
        for c in r
            .chunks
            .into_iter()
            .filter(|c| c.seq > last && c.seq <= new_last)
        {
            covered += 1;
            self.ready.push_back(ProcessEvent::Output {
                seq: c.seq,
                stream: c.stream,
                bytes: c.chunk.0,
            });
        }
        if r.exited && self.exited.is_none() {
            let code = r.exit_code.unwrap_or(-1);
            self.exited = Some(code);
            self.sandbox_denied = r.sandbox_denied;
            self.ready.push_back(ProcessEvent::Exited { code });
            covered += 1;
        }
        if r.closed && !self.closed {
            self.closed = true;
            self.ready.push_back(ProcessEvent::Closed);
            covered += 1;
        }
        self.lost_chunks += (new_last - last).saturating_sub(covered);
        self.last_seq = new_last;
        if r.failure.is_some() {
            self.failure = r.failure;
        }
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until_some(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

impl Drop for RemoteProcess {
    fn drop(&mut self) {
        self.client.unregister(&self.id, &self.sink);
    }
}
