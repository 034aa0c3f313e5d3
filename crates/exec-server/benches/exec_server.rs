//! Exec-server benchmarks (run by `bash bench/exec-server.sh`; results in docs/benchmarks.md).
//!
//! - One-shot latency: N runs of `/bin/true` started and completed through the client library,
//!   over loopback WebSocket and over stdio, in two completion modes: from pushed events (no
//!   `process/read`) and with a final `process/read` after the close (the older way). The floor
//!   is spawning and waiting for `/bin/true` in this process, with piped stdout and stderr as the
//!   server uses. The same harness also runs against the real Codex 0.169 exec-server over
//!   stdio, when `--codex PATH` is given.
//! - Throughput: 256 MB of child output streamed through the server to the client library,
//!   against a floor of reading the same child's stdout pipe in this process.
//!
//! Usage: exec_server [--runs N] [--server PATH] [--codex PATH] [--mb N]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use codex_exec_server::client::{ExecServerClient, ProcessEvent, ReadParams, StartOptions};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};

struct Args {
    runs: usize,
    server: PathBuf,
    codex: Option<PathBuf>,
    mb: u64,
}

fn args() -> Result<Args> {
    let mut a = Args {
        runs: 1000,
        server: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/release/codex-exec-server"),
        codex: None,
        mb: 256,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--runs" => a.runs = value()?.parse().context("--runs")?,
            "--server" => a.server = value()?.into(),
            "--codex" => a.codex = Some(value()?.into()),
            "--mb" => a.mb = value()?.parse().context("--mb")?,
            // cargo bench passes --bench.
            "--bench" => {}
            other => bail!("unknown flag {other}; see the usage in benches/exec_server.rs"),
        }
    }
    if !a.server.is_file() {
        bail!(
            "no server at {}: build it with `cargo build --release -p codex-exec-server` or pass --server",
            a.server.display()
        );
    }
    Ok(a)
}

fn main() -> Result<()> {
    let args = args()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run(args))
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Events,
    FinalRead,
}

struct Stats {
    p50: Duration,
    p95: Duration,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    Stats {
        p50: at(0.50),
        p95: at(0.95),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn run(args: Args) -> Result<()> {
    let true_bin = which("true")?;
    println!(
        "one-shot latency: {} runs of {} each",
        args.runs,
        true_bin.display()
    );
    let floor = floor_spawn(&true_bin, args.runs).await?;
    println!(
        "{:<44} {:>8} {:>8} {:>7} {:>6}",
        "", "p50 ms", "p95 ms", "p50/fl", "reads"
    );
    let line = |label: &str, s: &Stats, reads: Option<u64>| {
        println!(
            "{:<44} {:>8.3} {:>8.3} {:>6.2}x {:>6}",
            label,
            ms(s.p50),
            ms(s.p95),
            s.p50.as_secs_f64() / floor.p50.as_secs_f64(),
            reads.map(|r| r.to_string()).unwrap_or_default()
        )
    };
    line("floor: spawn + wait in-process", &floor, None);

    let (ws, _server) = ws_client(&args.server).await?;
    for mode in [Mode::Events, Mode::FinalRead] {
        let (s, reads) = one_shots(&ws, &true_bin, args.runs, mode).await?;
        line(
            &format!("ours, WebSocket, {}", mode_name(mode)),
            &s,
            Some(reads),
        );
    }
    let stdio = stdio_client(&args.server, &[]).await?;
    for mode in [Mode::Events, Mode::FinalRead] {
        let (s, reads) = one_shots(&stdio, &true_bin, args.runs, mode).await?;
        line(
            &format!("ours, stdio, {}", mode_name(mode)),
            &s,
            Some(reads),
        );
    }
    if let Some(codex) = &args.codex {
        let c = stdio_client(codex, &["exec-server"]).await?;
        for mode in [Mode::Events, Mode::FinalRead] {
            let (s, reads) = one_shots(&c, &true_bin, args.runs, mode).await?;
            line(
                &format!("Codex 0.169, stdio, {}", mode_name(mode)),
                &s,
                Some(reads),
            );
        }
    }

    println!();
    let bytes = args.mb << 20;
    println!(
        "throughput: {} MiB of child output (head -c {bytes} /dev/zero)",
        args.mb
    );
    let floor = floor_pipe(bytes).await?;
    let rate = |n: u64, d: Duration| n as f64 / d.as_secs_f64() / (1 << 20) as f64;
    let floor_rate = rate(bytes, floor);
    println!(
        "{:<44} {:>8.0} MiB/s",
        "floor: raw pipe read in-process", floor_rate
    );
    for (label, paced) in [
        ("ours, WebSocket, backpressure: true", true),
        ("ours, WebSocket, default (never waits)", false),
    ] {
        let (through, got) = stream_through(&ws, bytes, paced).await?;
        println!(
            "{:<44} {:>8.0} MiB/s {:>6.2}x  ({} of {} MiB delivered)",
            label,
            rate(got, through),
            rate(got, through) / floor_rate,
            got >> 20,
            bytes >> 20
        );
    }
    Ok(())
}

fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Events => "pushed events",
        Mode::FinalRead => "final read",
    }
}

fn which(name: &str) -> Result<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .with_context(|| format!("{name} is not on PATH"))
}

async fn floor_spawn(bin: &std::path::Path, runs: usize) -> Result<Stats> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let out = tokio::process::Command::new(bin)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .await?;
        times.push(t.elapsed());
        if !out.status.success() {
            bail!("{} failed", bin.display());
        }
    }
    Ok(stats(times))
}

async fn one_shots(
    client: &ExecServerClient,
    bin: &std::path::Path,
    runs: usize,
    mode: Mode,
) -> Result<(Stats, u64)> {
    let reads_before = client.read_calls();
    let mut times = Vec::with_capacity(runs);
    let cwd = std::env::temp_dir();
    for _ in 0..runs {
        let t = Instant::now();
        let p = client
            .start(StartOptions::new([bin.to_string_lossy()], &cwd))
            .await?;
        let id = p.id().to_string();
        let done = p.wait().await?;
        if mode == Mode::FinalRead {
            client
                .read(ReadParams {
                    process_id: id,
                    ..ReadParams::default()
                })
                .await?;
        }
        times.push(t.elapsed());
        if done.exit_code != Some(0) {
            bail!("one-shot run ended with {:?}", done.exit_code);
        }
    }
    let reads = client.read_calls() - reads_before;
    Ok((stats(times), reads))
}

/// A server on a loopback WebSocket and a client of it.
async fn ws_client(server: &std::path::Path) -> Result<(ExecServerClient, tokio::process::Child)> {
    let mut child = tokio::process::Command::new(server)
        .args(["--listen", "ws://127.0.0.1:0"])
        .env_remove("CODEX_EXEC_SERVER_TOKEN")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let url = lines.next_line().await?.context("no address line")?;
    let url = url
        .strip_prefix("listening on ")
        .context("address line")?
        .to_string();
    let token = lines.next_line().await?.context("no token line")?;
    let token = token
        .strip_prefix("token ")
        .context("token line")?
        .to_string();
    let client = ExecServerClient::connect_websocket(&url, Some(&token), "bench").await?;
    Ok((client, child))
}

async fn stdio_client(program: &std::path::Path, pre: &[&str]) -> Result<ExecServerClient> {
    let home = std::env::temp_dir().join("codex-exec-server-bench-home");
    std::fs::create_dir_all(&home)?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(pre)
        .args(["--listen", "stdio"])
        .env("CODEX_HOME", &home)
        .stderr(Stdio::null());
    Ok(ExecServerClient::spawn_stdio(cmd, "bench").await?)
}

async fn floor_pipe(bytes: u64) -> Result<Duration> {
    let t = Instant::now();
    let mut child = tokio::process::Command::new("head")
        .args(["-c", &bytes.to_string(), "/dev/zero"])
        .stdout(Stdio::piped())
        .spawn()?;
    let mut out = child.stdout.take().context("stdout")?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = out.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    child.wait().await?;
    if total != bytes {
        bail!("raw pipe read {total} bytes, not {bytes}");
    }
    Ok(t.elapsed())
}

/// Streams `bytes` through the server; returns the time and the bytes the client received (less
/// than `bytes` when the child outran the client and output left the retained window).
async fn stream_through(
    client: &ExecServerClient,
    bytes: u64,
    paced: bool,
) -> Result<(Duration, u64)> {
    let t = Instant::now();
    let path = std::env::var("PATH").unwrap_or_default();
    let mut options =
        StartOptions::new(["head", "-c", &bytes.to_string(), "/dev/zero"], "/").env("PATH", path);
    options.backpressure = paced;
    let mut p = client.start(options).await?;
    let mut total = 0u64;
    while let Some(e) = p.next_event().await? {
        match e {
            ProcessEvent::Output { bytes: b, .. } => total += b.len() as u64,
            ProcessEvent::Exited { .. } => {}
            ProcessEvent::Closed => break,
        }
    }
    Ok((t.elapsed(), total))
}
