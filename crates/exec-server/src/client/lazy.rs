//! [`LazyRemoteClient`]: hands out the current client, replacing a dead one with exactly one
//! fresh connection and session however many callers ask at once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::error::Result;
use super::registry::Connector;
use super::session::{ConnectOptions, ExecServerClient};
use crate::sync::lock;

/// A client that connects on first use and reconnects (with a new session) after its link is
/// gone for good. Processes of the dead session are not carried over: their event streams end
/// with "connection to exec-server lost".
pub struct LazyRemoteClient {
    connector: Connector,
    options: ConnectOptions,
    current: Mutex<Option<Arc<ExecServerClient>>>,
    connect_lock: tokio::sync::Mutex<()>,
    connects: AtomicU64,
}

impl std::fmt::Debug for LazyRemoteClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyRemoteClient")
            .field("connector", &self.connector)
            .field("connects", &self.connects())
            .finish_non_exhaustive()
    }
}

impl LazyRemoteClient {
    /// Connects through `connector` (with `options`) when first asked.
    pub fn new(connector: Connector, options: ConnectOptions) -> Self {
        LazyRemoteClient {
            connector,
            options,
            current: Mutex::new(None),
            connect_lock: tokio::sync::Mutex::new(()),
            connects: AtomicU64::new(0),
        }
    }

    fn cached(&self) -> Option<Arc<ExecServerClient>> {
        let cur = lock(&self.current);
        cur.as_ref().filter(|c| !c.is_closed()).cloned()
    }

    /// The current client; connects a fresh one if there is none or its link is gone. Concurrent
    /// callers share one connection attempt.
    pub async fn get(&self) -> Result<Arc<ExecServerClient>> {
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        let _guard = self.connect_lock.lock().await;
        // Someone else may have reconnected while we waited for the lock.
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        self.connects.fetch_add(1, Ordering::Relaxed);
        let client = Arc::new(
            ExecServerClient::connect(self.connector.clone(), self.options.clone()).await?,
        );
        *lock(&self.current) = Some(client.clone());
        Ok(client)
    }

    /// How many connections (sessions) this has made so far.
    pub fn connects(&self) -> u64 {
        self.connects.load(Ordering::Relaxed)
    }
}
