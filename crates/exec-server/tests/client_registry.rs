//! Connecting through an environment registry (a scripted loopback HTTP/1.1 server) to our
//! server: `409 environment_offline` is waited out, other refusals are terminal at once, a
//! deadline ends the wait, and session recovery goes through the registry too.

mod support;

use std::time::{Duration, Instant};

use codex_exec_server::client::{
    ClientError, ConnectOptions, Connector, ExecServerClient, ProcessEvent, RegistryConnector,
    RetryPolicy, StartOptions,
};
use support::{Answer, OurServer, TestRegistry, conflict};

fn options(deadline: Duration, recover_session: bool) -> ConnectOptions {
    ConnectOptions {
        retry: RetryPolicy::default().with_deadline(deadline),
        recover_session,
        ..ConnectOptions::default()
    }
}

fn connector(r: &TestRegistry) -> Connector {
    Connector::Registry(RegistryConnector::new(&r.base_url, "env-1").expect("registry client"))
}

fn sh(script: &str) -> StartOptions {
    StartOptions::new(["sh", "-c", script], "/tmp").env("PATH", "/usr/bin:/bin")
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_offline_conflicts_are_retried_until_connected() {
    let s = OurServer::start();
    let offline = vec![conflict("environment_offline"); 3];
    let r = TestRegistry::start(offline, &s.url, &s.token).await;
    let client = ExecServerClient::connect(connector(&r), options(Duration::from_secs(10), false))
        .await
        .expect("connected after the environment came online");
    assert_eq!(r.requests().len(), 4);
    assert_eq!(r.requests()[0], "POST /environments/env-1/connect HTTP/1.1");
    let c = client
        .start(sh("echo up"))
        .await
        .expect("start")
        .wait()
        .await;
    assert_eq!(c.expect("completion").stdout, b"up\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_nested_error_code_and_5xx_are_retried_too() {
    let s = OurServer::start();
    let script = vec![
        Answer {
            status: 409,
            body: r#"{"error":{"code":"environment_offline"}}"#.into(),
        },
        Answer {
            status: 503,
            body: "{}".into(),
        },
        Answer {
            status: 429,
            body: "{}".into(),
        },
    ];
    let r = TestRegistry::start(script, &s.url, &s.token).await;
    ExecServerClient::connect(connector(&r), options(Duration::from_secs(10), false))
        .await
        .expect("connected");
    assert_eq!(r.requests().len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_conflict_with_another_code_is_terminal_at_once() {
    let s = OurServer::start();
    let r = TestRegistry::start(vec![conflict("environment_deleted")], &s.url, &s.token).await;
    let t = Instant::now();
    let e = ExecServerClient::connect(connector(&r), options(Duration::from_secs(10), false))
        .await
        .expect_err("terminal");
    assert!(
        t.elapsed() < Duration::from_millis(80),
        "no backoff: {:?}",
        t.elapsed()
    );
    assert_eq!(r.requests().len(), 1, "exactly one request");
    match &e {
        ClientError::RegistryRefused { status, code, .. } => {
            assert_eq!(
                (*status, code.as_deref()),
                (409, Some("environment_deleted"))
            )
        }
        other => panic!("{other:?}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("409") && msg.contains("environment_deleted"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_unauthorized_is_terminal_at_once() {
    let s = OurServer::start();
    let denied = Answer {
        status: 401,
        body: r#"{"code":"unauthorized"}"#.into(),
    };
    let r = TestRegistry::start(vec![denied], &s.url, &s.token).await;
    let e = ExecServerClient::connect(connector(&r), options(Duration::from_secs(10), false))
        .await
        .expect_err("terminal");
    assert!(e.to_string().contains("HTTP 401"), "{e}");
    assert_eq!(r.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_offline_past_the_deadline_gives_up_saying_so() {
    let s = OurServer::start();
    let r = TestRegistry::start(vec![conflict("environment_offline"); 100], &s.url, &s.token).await;
    let t = Instant::now();
    let e = ExecServerClient::connect(connector(&r), options(Duration::from_millis(1500), false))
        .await
        .expect_err("deadline");
    let elapsed = t.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1400) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("gave up") && msg.contains("deadline 1500 ms"),
        "{msg}"
    );
    assert!(msg.contains("environment_offline"), "{msg}");
    assert!(
        r.requests().len() >= 4,
        "backed off and retried: {}",
        r.requests().len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn recovery_goes_through_the_registry_and_resumes_the_session() {
    let s = OurServer::start();
    let r = TestRegistry::start(Vec::new(), &s.url, &s.token).await;
    let client = ExecServerClient::connect(connector(&r), options(Duration::from_secs(10), true))
        .await
        .expect("connected");
    let session = client.session_id();
    let script = "i=1; while [ $i -le 20 ]; do echo $i; i=$((i+1)); sleep 0.03; done";
    let mut p = client.start(sh(script)).await.expect("start");
    let mut out = Vec::new();
    while out.is_empty() {
        if let Some(ProcessEvent::Output { bytes, .. }) = p.next_event().await.expect("event") {
            out.extend_from_slice(&bytes);
        }
    }
    r.push(vec![conflict("environment_offline"); 2]);
    client.abort_connection();
    let rest = tokio::time::timeout(Duration::from_secs(20), p.wait())
        .await
        .expect("in time")
        .expect("completed after recovery");
    out.extend_from_slice(&rest.stdout);
    let want: String = (1..=20).map(|i| format!("{i}\n")).collect();
    assert_eq!(String::from_utf8_lossy(&out), want);
    assert_eq!(client.session_id(), session);
    assert_eq!(
        r.requests().len(),
        1 + 2 + 1,
        "first connect, two offline, one resume"
    );
    assert_eq!(client.read_calls(), 1);
}

/// The environment goes offline for good while a process runs: recovery keeps asking the
/// registry until its deadline, then the process is marked lost with a message that says why.
#[tokio::test(flavor = "multi_thread")]
async fn an_environment_offline_past_the_recovery_deadline_marks_processes_lost() {
    let s = OurServer::start();
    let r = TestRegistry::start(Vec::new(), &s.url, &s.token).await;
    let client =
        ExecServerClient::connect(connector(&r), options(Duration::from_millis(1500), true))
            .await
            .expect("connected");
    let mut p = client.start(sh("sleep 30")).await.expect("start");
    r.push(vec![conflict("environment_offline"); 100]);
    let t = Instant::now();
    client.abort_connection();
    let e = tokio::time::timeout(Duration::from_secs(10), p.next_event())
        .await
        .expect("in time")
        .expect_err("lost");
    let msg = e.to_string();
    assert!(matches!(e, ClientError::ProcessLost { .. }), "{e:?}");
    assert!(msg.contains("lost") && msg.contains("gave up"), "{msg}");
    assert!(msg.contains("environment_offline"), "{msg}");
    assert!(
        t.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        t.elapsed()
    );
    assert!(r.requests().len() >= 3, "retried: {}", r.requests().len());
}
