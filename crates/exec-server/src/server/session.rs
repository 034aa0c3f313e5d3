//! Sessions: the processes one client started, which outlive its connection. A disconnect
//! detaches the session; `initialize {resumeSessionId}` attaches it to the new connection; a
//! session nobody resumes within its TTL has its processes killed and is dropped. Closed
//! processes stay readable for a while, then are dropped too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codex_exec_server_protocol::Signal;

use super::outbox::Outbox;
use super::process::{Attachment, Process};
use crate::sync::lock;

/// Closed processes a session keeps readable at most (each holds up to 1 MiB of output).
pub const MAX_CLOSED_PER_SESSION: usize = 128;

/// How long sessions and processes are kept.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// A detached session waits this long to be resumed.
    pub session_ttl: Duration,
    /// A closed process stays readable this long.
    pub closed_retention: Duration,
}

/// One client's processes.
#[derive(Debug)]
pub struct Session {
    /// Its id, given to the client by `initialize`.
    pub id: String,
    attachment: Arc<Attachment>,
    processes: Mutex<HashMap<String, Arc<Process>>>,
    detached_at: Mutex<Option<Instant>>,
}

impl Session {
    fn processes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Process>>> {
        lock(&self.processes)
    }

    /// The process with this id.
    pub fn process(&self, id: &str) -> Option<Arc<Process>> {
        self.processes().get(id).cloned()
    }

    /// Reserves `id` for a new process with `streams` output streams; `None` if it is taken.
    pub fn add_process(&self, id: &str, streams: u8) -> Option<Arc<Process>> {
        let mut map = self.processes();
        if map.contains_key(id) {
            return None;
        }
        let p = Arc::new(Process::new(
            id.to_string(),
            self.attachment.clone(),
            streams,
        ));
        map.insert(id.to_string(), p.clone());
        Some(p)
    }

    /// Forgets a process that could not be started.
    pub fn remove_process(&self, id: &str) {
        self.processes().remove(id);
    }

    /// Sends its events to `outbox` from now on.
    pub fn attach(&self, outbox: Arc<Outbox>) {
        *lock(&self.detached_at) = None;
        if let Some(old) = self.attachment.set(Some(outbox)) {
            // Another connection held it (a half-open socket the client gave up on).
            old.close();
        }
    }

    /// Detaches it from `outbox`, if that is the connection it is attached to.
    pub fn detach(&self, outbox: &Arc<Outbox>) {
        if let Some(current) = self.attachment.current()
            && Arc::ptr_eq(&current, outbox)
        {
            self.attachment.set(None);
            *lock(&self.detached_at) = Some(Instant::now());
        }
    }

    /// Kills every process.
    pub fn kill_all(&self) {
        for p in self.processes().values() {
            p.signal(Signal::Kill);
        }
    }
}

/// Every session of a server.
#[derive(Debug)]
pub struct Sessions {
    map: Mutex<HashMap<String, Arc<Session>>>,
    lifetimes: Lifetimes,
}

/// Why a session could not be resumed.
#[derive(Debug, thiserror::Error)]
#[error("unknown session id {0}")]
pub struct UnknownSession(pub String);

impl Sessions {
    /// No sessions yet.
    pub fn new(lifetimes: Lifetimes) -> Arc<Self> {
        Arc::new(Sessions {
            map: Mutex::new(HashMap::new()),
            lifetimes,
        })
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        lock(&self.map)
    }

    /// A new session attached to `outbox`.
    pub fn create(&self, outbox: Arc<Outbox>) -> Arc<Session> {
        let session = Arc::new(Session {
            id: new_id(),
            attachment: Arc::new(Attachment::default()),
            processes: Mutex::new(HashMap::new()),
            detached_at: Mutex::new(None),
        });
        session.attach(outbox);
        self.map().insert(session.id.clone(), session.clone());
        session
    }

    /// Attaches the session `id` to `outbox`.
    pub fn resume(&self, id: &str, outbox: Arc<Outbox>) -> Result<Arc<Session>, UnknownSession> {
        let session = self
            .map()
            .get(id)
            .cloned()
            .ok_or_else(|| UnknownSession(id.to_string()))?;
        session.attach(outbox);
        Ok(session)
    }

    /// Drops expired sessions (killing their processes) and closed processes past retention.
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut expired = Vec::new();
        self.map().retain(|_, s| {
            let detached = *lock(&s.detached_at);
            let keep = detached.is_none_or(|t| now.duration_since(t) < self.lifetimes.session_ttl);
            if !keep {
                expired.push(s.clone());
            }
            keep
        });
        for s in expired {
            tracing::info!(session = %s.id, "session not resumed within its TTL; killing its processes");
            s.kill_all();
        }
        for s in self.map().values() {
            let mut procs = s.processes();
            procs.retain(|_, p| {
                p.closed_at()
                    .is_none_or(|t| now.duration_since(t) < self.lifetimes.closed_retention)
            });
            // Each closed process holds up to 1 MiB; keep only the newest ones.
            let mut closed: Vec<(Instant, String)> = procs
                .iter()
                .filter_map(|(id, p)| p.closed_at().map(|t| (t, id.clone())))
                .collect();
            if closed.len() > MAX_CLOSED_PER_SESSION {
                closed.sort();
                for (_, id) in &closed[..closed.len() - MAX_CLOSED_PER_SESSION] {
                    procs.remove(id);
                }
            }
        }
    }

    /// Runs [`Sessions::sweep`] often enough for the configured lifetimes.
    pub async fn sweep_forever(self: Arc<Self>) {
        let shortest = self
            .lifetimes
            .session_ttl
            .min(self.lifetimes.closed_retention);
        let every = (shortest / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            self.sweep();
        }
    }

    /// Kills every process of every session (the server is stopping).
    pub fn kill_all(&self) {
        for s in self.map().values() {
            s.kill_all();
        }
    }
}

/// A random 128-bit id, hex.
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    // Without an OS random source ids would be guessable; the time is a poor but unique fallback.
    if getrandom::fill(&mut bytes).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        bytes = t.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
