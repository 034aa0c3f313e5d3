//! A connection's outgoing queue. Producers (request handlers, child output readers) never wait
//! on it: a bounded queue that blocks producers deadlocked a server before (the reader waits on
//! the writer, which waits on a client that waits on the reader). Instead, replies and lifecycle
//! events always go in, and output notifications are dropped once the queued bytes pass the
//! connection's budget. The client notices the seq gap and reads the retained output, which the
//! process keeps regardless of what the connection does; so memory stays bounded however slow the
//! client is.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::sync::lock;
use tokio::sync::Notify;

/// Default byte budget for queued output notifications on one connection.
pub const DEFAULT_BUDGET: usize = 4 << 20;

/// Messages waiting to be written to one connection.
#[derive(Debug)]
pub struct Outbox {
    state: Mutex<State>,
    ready: Notify,
    drained: Notify,
    budget: usize,
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<String>,
    bytes: usize,
    closed: bool,
    dropped: u64,
}

impl Outbox {
    /// An empty outbox whose output notifications may hold up to `budget` bytes.
    pub fn new(budget: usize) -> Self {
        Outbox {
            state: Mutex::new(State::default()),
            ready: Notify::new(),
            drained: Notify::new(),
            budget,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Queues a reply or a lifecycle event: always accepted (their number is bounded by the
    /// client's requests and its processes), unless the connection is gone.
    pub fn push(&self, message: String) {
        let mut s = self.lock();
        if s.closed {
            return;
        }
        s.bytes += message.len();
        s.queue.push_back(message);
        drop(s);
        self.ready.notify_one();
    }

    /// Queues an output notification of about `size` bytes, built by `make` only if it fits in
    /// the budget. Returns whether it was queued.
    pub fn offer(&self, size: usize, make: impl FnOnce() -> String) -> bool {
        let mut s = self.lock();
        if s.closed {
            return false;
        }
        if s.bytes + size > self.budget {
            s.dropped += 1;
            return false;
        }
        let message = make();
        s.bytes += message.len();
        s.queue.push_back(message);
        drop(s);
        self.ready.notify_one();
        true
    }

    /// Waits for queued messages and takes them all, oldest first; `None` once closed.
    pub async fn take(&self) -> Option<Vec<String>> {
        loop {
            let notified = self.ready.notified();
            {
                let mut s = self.lock();
                if !s.queue.is_empty() {
                    s.bytes = 0;
                    let batch = s.queue.drain(..).collect();
                    drop(s);
                    self.drained.notify_waiters();
                    return Some(batch);
                }
                if s.closed {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// Whether less than half the budget is queued: room for a paced producer to go on.
    pub fn has_room(&self) -> bool {
        let s = self.lock();
        s.closed || s.bytes <= self.budget / 2
    }

    /// Waits until [`Outbox::has_room`], or `patience` passes without the writer taking
    /// anything (then `false`: the client has stopped reading).
    pub async fn room(&self, patience: std::time::Duration) -> bool {
        loop {
            let drained = self.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if self.has_room() {
                return true;
            }
            if tokio::time::timeout(patience, drained).await.is_err() {
                return false;
            }
        }
    }

    /// Stops accepting messages; `take` returns what is left, then `None`.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_one();
    }

    /// How many output notifications were dropped for being over budget.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_past_the_budget_is_dropped_but_replies_are_kept() {
        let o = Outbox::new(10);
        assert!(o.offer(8, || "12345678".into()));
        assert!(!o.offer(8, || unreachable!("not built when over budget")));
        o.push("reply".into());
        assert_eq!(o.dropped(), 1);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let batch = rt.block_on(o.take()).expect("batch");
        assert_eq!(batch, vec!["12345678".to_string(), "reply".to_string()]);
        // Taking frees the budget.
        assert!(o.offer(8, || "again".into()));
        o.close();
        assert_eq!(rt.block_on(o.take()), Some(vec!["again".to_string()]));
        assert_eq!(rt.block_on(o.take()), None);
    }
}
