//! The client against our server over a loopback WebSocket: pushed completion without reads,
//! catch-up after a lagging consumer, retention loss reported, concurrency, failure on a dead
//! link, session recovery, and the lazy client's single shared reconnect.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use codex_exec_server::client::{
    ConnectOptions, Connector, EVENT_CHANNEL_CAPACITY, ExecServerClient, LazyRemoteClient,
    ProcessEvent, ReadParams, RetryPolicy, StartOptions,
};
use support::OurServer;

fn sh(script: &str) -> StartOptions {
    StartOptions::new(["sh", "-c", script], "/tmp").env("PATH", "/usr/bin:/bin")
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("finished within 30 s")
}

async fn connect(s: &OurServer) -> ExecServerClient {
    ExecServerClient::connect_websocket(&s.url, Some(&s.token), "client-tests")
        .await
        .expect("connect")
}

fn recovering(s: &OurServer, deadline: Duration) -> (Connector, ConnectOptions) {
    let options = ConnectOptions {
        retry: RetryPolicy::default().with_deadline(deadline),
        recover_session: true,
        ..ConnectOptions::default()
    };
    (Connector::websocket(&s.url, Some(s.token.clone())), options)
}

fn lines(n: usize) -> Vec<u8> {
    (1..=n)
        .map(|i| format!("{i}\n"))
        .collect::<String>()
        .into_bytes()
}

/// `sh` prints `line` (or the line number when empty) `n` times, one write per line with a pause
/// between, so that the server reads (and pushes) each line as its own chunk.
fn slowly(n: usize, line: &str) -> String {
    let what = if line.is_empty() { "$i" } else { line };
    format!("i=1; while [ $i -le {n} ]; do echo {what}; i=$((i+1)); sleep 0.001; done")
}

#[tokio::test(flavor = "multi_thread")]
async fn pushed_stream_completes_over_websocket_with_zero_reads() {
    let s = OurServer::start();
    let client = connect(&s).await;
    let p = client
        .start(sh("echo out; echo err >&2; exit 3"))
        .await
        .expect("start");
    let c = within(p.wait()).await.expect("completion");
    assert_eq!(
        (c.stdout, c.stderr, c.exit_code),
        (b"out\n".to_vec(), b"err\n".to_vec(), Some(3))
    );
    assert_eq!(client.read_calls(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lagging_consumer_catches_up_with_exactly_one_read_and_loses_nothing() {
    let s = OurServer::start();
    let client = connect(&s).await;
    let n = 1500;
    let p = client.start(sh(&slowly(n, ""))).await.expect("start");
    // Do not consume: the bounded channel fills and the rest of the pushed events are dropped.
    let id = p.id().to_string();
    wait_closed_on_server(&client, &id).await;
    let reads_before = client.read_calls();
    let c = within(p.wait()).await.expect("completion");
    assert_eq!(client.read_calls() - reads_before, 1, "one catch-up read");
    assert_eq!(c.stdout, lines(n), "every line once, in order");
    assert_eq!(c.lost_chunks, 0);
    assert_eq!(c.exit_code, Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn output_evicted_from_retention_is_reported_as_lost_not_invented() {
    let s = OurServer::start();
    let client = connect(&s).await;
    // 1500 writes of 1 KiB: more events than the channel holds, more bytes than 1 MiB retained.
    let p = client
        .start(sh(&slowly(1500, &"x".repeat(1023))))
        .await
        .expect("start");
    let id = p.id().to_string();
    wait_closed_on_server(&client, &id).await;
    let c = within(p.wait()).await.expect("completion");
    assert!(c.lost_chunks > 0, "evicted output is counted as lost");
    assert!(c.stdout.len() < 1500 * 1024, "nothing is invented");
    assert_eq!(
        c.stdout.len() % 1024,
        0,
        "what is delivered is whole chunks"
    );
    assert!(EVENT_CHANNEL_CAPACITY * 1024 <= c.stdout.len() + 1024 * c.lost_chunks as usize);
    assert_eq!(c.exit_code, Some(0));
}

/// Polls the server (explicit reads, counted) until the process has closed.
async fn wait_closed_on_server(client: &ExecServerClient, id: &str) {
    let params = ReadParams {
        process_id: id.to_string(),
        after_seq: Some(u64::MAX - 1),
        max_bytes: None,
        wait_ms: Some(1000),
    };
    let t = Instant::now();
    while !client.read(params.clone()).await.expect("read").closed {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "process did not close"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_poll_read_does_not_block_other_calls() {
    let s = OurServer::start();
    let client = Arc::new(connect(&s).await);
    let quiet = client.start(sh("sleep 30")).await.expect("start");
    let id = quiet.id().to_string();
    let c = client.clone();
    let poll = tokio::spawn(async move {
        c.read(ReadParams {
            process_id: id,
            after_seq: Some(0),
            max_bytes: None,
            wait_ms: Some(5000),
        })
        .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    let echo = client.start(sh("echo hi")).await.expect("start");
    let done = within(echo.wait()).await.expect("completion");
    assert_eq!(done.stdout, b"hi\n");
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
    assert!(!poll.is_finished(), "the long poll is still waiting");
    assert!(quiet.terminate().await.expect("terminate"));
    let r = within(poll).await.expect("join").expect("read");
    assert!(r.exited);
}

#[tokio::test(flavor = "multi_thread")]
async fn processes_on_a_dead_connection_fail_loudly() {
    let s = OurServer::start();
    let client = connect(&s).await;
    let mut p = client.start(sh("sleep 30")).await.expect("start");
    client.abort_connection();
    let e = within(p.next_event()).await.expect_err("lost");
    let msg = e.to_string();
    assert!(msg.contains("connection to exec-server lost"), "{msg}");
    assert!(msg.contains(p.id()), "{msg}");
    assert!(client.is_closed());
    let e = client.start(sh("true")).await.expect_err("closed client");
    assert!(
        e.to_string().contains("connection to exec-server lost"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn session_recovery_resumes_and_each_process_catches_up_with_one_read() {
    let s = OurServer::start();
    let (connector, options) = recovering(&s, Duration::from_secs(25));
    let client = ExecServerClient::connect(connector, options)
        .await
        .expect("connect");
    let session = client.session_id();
    let n = 30;
    let script = format!("i=1; while [ $i -le {n} ]; do echo $i; i=$((i+1)); sleep 0.03; done");
    let mut a = client.start(sh(&script)).await.expect("start a");
    let b = client.start(sh(&script)).await.expect("start b");
    let mut got = Vec::new();
    while got.len() < 3 {
        if let Some(ProcessEvent::Output { bytes, .. }) =
            within(a.next_event()).await.expect("event")
        {
            got.extend_from_slice(&bytes);
        }
    }
    client.abort_connection();
    let rest = within(a.wait()).await.expect("a completes after recovery");
    got.extend_from_slice(&rest.stdout);
    let b = within(b.wait()).await.expect("b completes after recovery");
    assert_eq!(got, lines(n), "nothing lost, nothing duplicated");
    assert_eq!(b.stdout, lines(n));
    assert_eq!((rest.lost_chunks, b.lost_chunks), (0, 0));
    assert_eq!(client.session_id(), session, "the same session was resumed");
    assert_eq!(client.read_calls(), 2, "one catch-up read per live process");
}

#[tokio::test(flavor = "multi_thread")]
async fn recovery_past_its_deadline_fails_live_processes_saying_why() {
    let s = OurServer::start();
    let (connector, options) = recovering(&s, Duration::from_millis(1500));
    let client = ExecServerClient::connect(connector, options)
        .await
        .expect("connect");
    let mut p = client.start(sh("sleep 30")).await.expect("start");
    let t = Instant::now();
    drop(s); // the server is gone; nothing can be resumed
    let e = within(p.next_event()).await.expect_err("lost");
    let msg = e.to_string();
    assert!(msg.contains("lost"), "{msg}");
    assert!(
        msg.contains("could not be resumed") && msg.contains("gave up"),
        "{msg}"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        t.elapsed()
    );
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(client.is_closed());
}

#[tokio::test(flavor = "multi_thread")]
async fn lazy_client_connects_once_and_concurrent_gets_after_a_disconnect_share_one_session() {
    let s = OurServer::start();
    let lazy = Arc::new(LazyRemoteClient::new(
        Connector::websocket(&s.url, Some(s.token.clone())),
        ConnectOptions::default(),
    ));
    let (a, b) = tokio::join!(lazy.get(), lazy.get());
    let (a, b) = (a.expect("get"), b.expect("get"));
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(lazy.connects(), 1);
    let first_session = a.session_id();
    let mut orphan = a.start(sh("sleep 30")).await.expect("start");

    a.abort_connection();
    let why = within(a.closed()).await;
    assert!(why.contains("connection to exec-server lost"), "{why}");
    let e = within(orphan.next_event()).await.expect_err("orphan fails");
    assert!(
        e.to_string().contains("connection to exec-server lost"),
        "{e}"
    );

    let (l1, l2) = (lazy.clone(), lazy.clone());
    let (c, d) = tokio::join!(
        tokio::spawn(async move { l1.get().await }),
        tokio::spawn(async move { l2.get().await })
    );
    let c = c.expect("join").expect("get");
    let d = d.expect("join").expect("get");
    assert!(Arc::ptr_eq(&c, &d), "both callers got the same replacement");
    assert_eq!(c.session_id(), d.session_id());
    assert_ne!(c.session_id(), first_session, "a fresh session");
    assert_eq!(lazy.connects(), 2, "exactly one reconnect");
    let done = within(c.start(sh("echo again")).await.expect("start").wait())
        .await
        .expect("completion");
    assert_eq!(done.stdout, b"again\n");
}

/// With `backpressure`, a child that writes far faster than the client can take it is paced to
/// the client: all 64 MiB arrive, in order, with no catch-up read and nothing lost. (Without it
/// the same child outruns the connection and most of the output is dropped by design.)
#[tokio::test(flavor = "multi_thread")]
async fn backpressure_delivers_a_fast_childs_whole_output_to_a_reading_client() {
    let s = OurServer::start();
    let client = connect(&s).await;
    let bytes = 64u64 << 20;
    let p = client
        .start(
            StartOptions::new(["head", "-c", &bytes.to_string(), "/dev/urandom"], "/tmp")
                .env("PATH", "/usr/bin:/bin")
                .backpressure(),
        )
        .await
        .expect("start");
    let done = within(p.wait()).await.expect("wait");
    assert_eq!(done.exit_code, Some(0));
    assert_eq!(done.stdout.len() as u64, bytes);
    assert_eq!(done.lost_chunks, 0);
    assert_eq!(client.read_calls(), 0);

    // The same child without pacing: the connection cannot keep up and output is dropped,
    // which the completion reports instead of hiding.
    let p = client
        .start(
            StartOptions::new(["head", "-c", &bytes.to_string(), "/dev/zero"], "/tmp")
                .env("PATH", "/usr/bin:/bin"),
        )
        .await
        .expect("start");
    let done = within(p.wait()).await.expect("wait");
    assert!(
        (done.stdout.len() as u64) < bytes,
        "unpaced delivered everything?"
    );
    assert!(done.lost_chunks > 0);
}
