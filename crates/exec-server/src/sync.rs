//! Locking shared by the server and the client.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, taking the data even if a panicking thread poisoned it: every critical section
/// here leaves its data consistent, and one failed request must not take the whole server (or
/// client) down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
