//! Retrying with a deadline: exponential backoff with jitter, shared by the first connect through
//! a [`super::Connector`] and by session recovery after a dropped WebSocket.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::error::{ClientError, Result};
use super::registry::Connector;
use super::session::Inner;

/// How long and how often to retry connecting (and resuming).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Give up when this much time has passed since the first attempt (default 25 s).
    pub deadline: Duration,
    /// The first pause between attempts (default 100 ms); it doubles after each failure.
    pub initial_backoff: Duration,
    /// The longest pause (default 2 s).
    pub max_backoff: Duration,
    /// Each pause is moved randomly by up to this fraction either way (default 0.25: ±25%).
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            deadline: Duration::from_secs(25),
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            jitter: 0.25,
        }
    }
}

impl RetryPolicy {
    /// The same policy with another deadline.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The pause after failed attempt number `attempt` (0-based), before jitter.
    pub fn base_backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(20));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// The pause after failed attempt number `attempt`, jittered by up to ±`jitter`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let base = self.base_backoff(attempt).as_secs_f64();
        let jitter = self.jitter.clamp(0.0, 1.0);
        // A uniform number in [-1, 1]; without randomness the pause is simply not jittered.
        let mut b = [0u8; 4];
        let unit = match getrandom::fill(&mut b) {
            Ok(()) => f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX) * 2.0 - 1.0,
            Err(_) => 0.0,
        };
        Duration::from_secs_f64((base * (1.0 + jitter * unit)).max(0.0))
    }
}

/// How one attempt failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Worth another attempt.
    Retry(ClientError),
    /// Final: give up now.
    Stop(ClientError),
}

/// Runs `attempt` until it succeeds, fails terminally, or `policy.deadline` passes (each attempt
/// is itself cut off at the deadline). `what` names the operation in the deadline error.
pub(crate) async fn with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    what: &str,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::result::Result<T, Failure>>,
{
    let start = Instant::now();
    let deadline = start + policy.deadline;
    let give_up = |last: ClientError| ClientError::DeadlineExceeded {
        what: what.to_string(),
        elapsed_ms: start.elapsed().as_millis(),
        deadline_ms: policy.deadline.as_millis(),
        last: Box::new(last),
    };
    let mut n = 0u32;
    let mut last: Option<ClientError> = None;
    loop {
        let error = match tokio::time::timeout_at(deadline, attempt()).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(Failure::Stop(e))) => return Err(e),
            Ok(Err(Failure::Retry(e))) => e,
            Err(_) => {
                return Err(give_up(last.unwrap_or_else(|| {
                    ClientError::ConnectionLost("attempt still running at the deadline".into())
                })));
            }
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(give_up(error));
        }
        // The last pause is cut short so that the deadline, not the backoff, ends the retries.
        let pause = policy.backoff(n).min(deadline - now);
        n = n.saturating_add(1);
        tracing::debug!(%what, attempt = n, ?pause, "retrying after: {error}");
        tokio::time::sleep(pause).await;
        if Instant::now() >= deadline {
            return Err(give_up(error));
        }
        last = Some(error);
    }
}

/// Reconnects through `connector` and resumes the session within `policy`, then re-binds every
/// live process (each catches up with one `process/read`); on failure, fails them all with why.
pub(crate) async fn resume_session(
    inner: std::sync::Arc<Inner>,
    connector: Connector,
    policy: RetryPolicy,
    reason: String,
) {
    let session = inner.session();
    let r = with_retries(&policy, "resuming the exec-server session", || {
        let (inner, connector, session) = (&inner, &connector, &session);
        async move {
            if inner.is_closing() {
                return Err(Failure::Stop(ClientError::ConnectionLost(
                    "the client was closed".into(),
                )));
            }
            let endpoint = connector.endpoint().await?;
            inner.open(&endpoint, Some(session.clone())).await
        }
    })
    .await;
    match r {
        Ok((generation, conn, init)) => {
            tracing::info!(%session, "exec-server session resumed");
            inner.install(generation, conn, init);
        }
        Err(e) => inner.give_up(format!(
            "connection to exec-server lost ({reason}) and session {session} could not be resumed: {e}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_100ms_to_a_2s_cap_with_25_percent_jitter() {
        let p = RetryPolicy::default();
        let bases: Vec<u128> = (0..7).map(|n| p.base_backoff(n).as_millis()).collect();
        assert_eq!(bases, [100, 200, 400, 800, 1600, 2000, 2000]);
        for n in 0..50 {
            let d = p.backoff(n % 7).as_secs_f64();
            let base = p.base_backoff(n % 7).as_secs_f64();
            assert!(
                d >= base * 0.75 - 1e-9 && d <= base * 1.25 + 1e-9,
                "{d} vs {base}"
            );
        }
    }

    #[tokio::test]
    async fn retrying_stops_at_a_terminal_failure_and_at_the_deadline() {
        let p = RetryPolicy::default().with_deadline(Duration::from_millis(600));
        let mut calls = 0;
        let r: Result<()> = with_retries(&p, "x", || {
            calls += 1;
            async { Err(Failure::Stop(ClientError::ConnectionLost("no".into()))) }
        })
        .await;
        assert!(matches!(r, Err(ClientError::ConnectionLost(_))));
        assert_eq!(calls, 1);

        let t = std::time::Instant::now();
        let r: Result<()> = with_retries(&p, "resuming", || async {
            Err(Failure::Retry(ClientError::ConnectionLost("down".into())))
        })
        .await;
        let e = r.expect_err("deadline").to_string();
        assert!(e.starts_with("resuming: gave up after"), "{e}");
        assert!(
            t.elapsed() >= Duration::from_millis(550),
            "{:?}",
            t.elapsed()
        );
        assert!(
            t.elapsed() < Duration::from_millis(900),
            "{:?}",
            t.elapsed()
        );
    }
}
