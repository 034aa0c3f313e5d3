//! The client against the real Codex 0.169 exec-server over stdio: ordered pushed events with no
//! `process/read` (Codex sometimes pushes a process's notifications out of seq order; the client
//! reorders them instead of reading), retained output on demand, write statuses, terminate, and
//! output that arrives after `process/exited`.

mod support;

use std::time::Duration;

use codex_exec_server::client::{
    ExecServerClient, ProcessEvent, ReadParams, StartOptions, Stream, WriteStatus,
};

async fn codex() -> Option<(ExecServerClient, tempfile::TempDir)> {
    let bin = support::codex_169()?;
    let home = tempfile::tempdir().expect("tempdir");
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args(["exec-server", "--listen", "stdio"])
        .env("CODEX_HOME", home.path())
        .stderr(std::process::Stdio::null());
    let client = ExecServerClient::spawn_stdio(cmd, "client-tests")
        .await
        .expect("initialize with codex");
    Some((client, home))
}

fn sh(script: &str) -> StartOptions {
    StartOptions::new(["sh", "-c", script], "/tmp").env("PATH", "/usr/bin:/bin")
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("finished within 20 s")
}

#[tokio::test]
async fn codex_pushes_ordered_events_ending_in_closed_with_no_reads() {
    let Some((client, _home)) = codex().await else {
        return;
    };
    assert!(!client.session_id().is_empty());
    let mut p = client
        .start(sh("echo out; echo err >&2; exit 3"))
        .await
        .expect("start");
    let mut events = Vec::new();
    while let Some(e) = within(p.next_event()).await.expect("event") {
        events.push(e);
    }
    let mut saw = Vec::new();
    for e in &events {
        match e {
            ProcessEvent::Output { stream, bytes, .. } => saw.push(format!(
                "{stream:?}:{}",
                String::from_utf8_lossy(bytes).trim_end()
            )),
            ProcessEvent::Exited { code } => saw.push(format!("exited:{code}")),
            ProcessEvent::Closed => saw.push("closed".into()),
        }
    }
    // stdout and stderr are separate pipes, and Codex may push output after `exited`; only
    // `closed` has a fixed place: last.
    assert_eq!(saw.last().map(String::as_str), Some("closed"));
    saw.sort();
    assert_eq!(saw, ["Stderr:err", "Stdout:out", "closed", "exited:3"]);
    let seqs: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            ProcessEvent::Output { seq, .. } => Some(*seq),
            _ => None,
        })
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in seq order: {seqs:?}"
    );
    assert_eq!(seqs.len(), 2);
    assert_eq!(p.last_seq(), 4);
    assert_eq!(
        client.read_calls(),
        0,
        "a complete pushed stream needs no process/read"
    );
}

#[tokio::test]
async fn codex_wait_collects_stdout_stderr_and_exit_code_without_reads() {
    let Some((client, _home)) = codex().await else {
        return;
    };
    let p = client
        .start(sh("echo out; echo err >&2; exit 3"))
        .await
        .expect("start");
    let c = within(p.wait()).await.expect("completion");
    assert_eq!(c.stdout, b"out\n");
    assert_eq!(c.stderr, b"err\n");
    assert_eq!(c.exit_code, Some(3));
    assert_eq!(c.lost_chunks, 0);
    assert_eq!(client.read_calls(), 0);
}

#[tokio::test]
async fn codex_read_returns_retained_output_and_counts_the_call() {
    let Some((client, _home)) = codex().await else {
        return;
    };
    let p = client
        .start(sh("echo out; echo err >&2; exit 3"))
        .await
        .expect("start");
    let id = p.id().to_string();
    let _ = within(p.wait()).await.expect("completion");
    let r = client
        .read(ReadParams {
            process_id: id,
            ..ReadParams::default()
        })
        .await
        .expect("read");
    assert_eq!(client.read_calls(), 1);
    let mut got: Vec<(Stream, Vec<u8>)> = r
        .chunks
        .into_iter()
        .map(|c| (c.stream, c.chunk.0))
        .collect();
    got.sort_by_key(|(s, _)| *s == Stream::Stdout);
    assert_eq!(
        got,
        [
            (Stream::Stderr, b"err\n".to_vec()),
            (Stream::Stdout, b"out\n".to_vec())
        ]
    );
    assert!(r.exited && r.closed);
    assert_eq!(r.exit_code, Some(3));
    assert_eq!(r.next_seq, 5);
}

#[tokio::test]
async fn codex_write_statuses_and_idempotent_write_ids() {
    let Some((client, _home)) = codex().await else {
        return;
    };
    let cat = client
        .start(
            StartOptions::new(["cat"], "/tmp")
                .env("PATH", "/usr/bin:/bin")
                .pipe_stdin(),
        )
        .await
        .expect("start cat");
    assert_eq!(
        cat.write_with_id(b"hello\n", "w-1").await.expect("write"),
        WriteStatus::Accepted
    );
    assert_eq!(
        cat.write_with_id(b"hello\n", "w-1").await.expect("rewrite"),
        WriteStatus::Accepted,
        "a repeated writeId is acknowledged"
    );
    assert_eq!(
        cat.write(b"bye\n").await.expect("write"),
        WriteStatus::Accepted
    );
    assert_eq!(
        client.write("nope", b"x", "w-9").await.expect("write"),
        WriteStatus::UnknownProcess
    );
    let closed_stdin = client.start(sh("sleep 5")).await.expect("start");
    assert_eq!(
        closed_stdin.write(b"x").await.expect("write"),
        WriteStatus::StdinClosed
    );
    assert!(closed_stdin.terminate().await.expect("terminate"));

    // Collect cat's echo until both lines are in, then stop it.
    let mut cat = cat;
    let mut echoed = Vec::new();
    while !echoed.ends_with(b"bye\n") {
        match within(cat.next_event()).await.expect("event") {
            Some(ProcessEvent::Output { bytes, .. }) => echoed.extend_from_slice(&bytes),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        echoed, b"hello\nbye\n",
        "the repeated write was not written twice"
    );
    assert!(cat.terminate().await.expect("terminate"));
}

#[tokio::test]
async fn codex_terminate_reports_running_then_not_running() {
    let Some((client, _home)) = codex().await else {
        return;
    };
    let p = client.start(sh("sleep 30")).await.expect("start");
    assert!(p.terminate().await.expect("terminate"), "was running");
    let id = p.id().to_string();
    let c = within(p.wait()).await.expect("completion");
    assert_eq!(c.exit_code, Some(137));
    assert!(!client.terminate(&id).await.expect("terminate again"));
    assert!(!client.terminate("nope").await.expect("terminate unknown"));
    assert_eq!(client.read_calls(), 0);
}

#[tokio::test]
async fn codex_output_after_exited_is_collected_before_closed() {
    let Some((client, _home)) = codex().await else {
        return;
    };
    let mut p = client
        .start(sh("(sleep 0.2; echo late) & exit 0"))
        .await
        .expect("start");
    let mut order = Vec::new();
    while let Some(e) = within(p.next_event()).await.expect("event") {
        order.push(match e {
            ProcessEvent::Output { bytes, .. } => String::from_utf8_lossy(&bytes).into_owned(),
            ProcessEvent::Exited { code } => format!("exited {code}"),
            ProcessEvent::Closed => "closed".into(),
        });
    }
    assert_eq!(order, ["exited 0", "late\n", "closed"]);
    assert_eq!(client.read_calls(), 0);
}

#[tokio::test]
async fn codex_refusals_surface_as_rpc_errors() {
    let Some((client, _home)) = codex().await else {
        return;
    };
    let a = client.start(sh("sleep 5").id("dup")).await.expect("start");
    let e = client
        .start(StartOptions::new(Vec::<String>::new(), "/tmp"))
        .await
        .expect_err("empty argv");
    assert_eq!(e.rpc().map(|r| r.code), Some(-32602), "{e}");
    assert!(a.terminate().await.expect("terminate"));
}
