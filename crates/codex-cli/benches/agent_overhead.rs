//! Agent overhead per tool call: from the moment the scripted model has sent a `shell` call
//! for `/bin/true` (the last byte of its stream) to the moment the agent's next request, which
//! carries the tool output, arrives. The floor is the same command through a direct
//! exec-server client call (start → closed) in the same run, with the same sandbox.
//!
//! `cargo bench -p codex-cli --bench agent_overhead [-- CALLS]` (default 200 calls per mode).

use std::path::Path;

use std::time::{Duration, Instant};

use codex_exec_server::client::{ExecServerClient, StartOptions};
use codex_sandbox::SandboxPolicy;
use codex_scripted_model::{Reply, ScriptedModel, script};

mod support;

fn main() {
    let calls: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let work = tempfile::tempdir().expect("work dir");
    // A workspace that is a git repository costs the sandbox a user and mount namespace (its
    // `.git` is bound read-only); one that is not costs only Landlock and seccomp.
    let repo = support::git_repo();
    println!("agent overhead per tool call, {calls} calls of /bin/true per mode");
    println!(
        "{:<26} {:>12} {:>12} {:>12} {:>12} {:>8}",
        "sandbox", "agent p50", "agent p95", "direct p50", "direct p95", "p50 ×"
    );
    let cases = [
        ("danger-full-access", "danger-full-access", work.path()),
        ("workspace-write", "workspace-write", work.path()),
        ("workspace-write, git repo", "workspace-write", repo.path()),
    ];
    for (label, mode, dir) in cases {
        let agent = agent_overheads(calls, mode, dir);
        let policy = match mode {
            "workspace-write" => Some(SandboxPolicy::workspace_write(
                vec![dir.to_path_buf(), std::env::temp_dir()],
                false,
            )),
            _ => None,
        };
        let direct = direct_calls(calls, policy, dir);
        let (a50, a95) = (percentile(&agent, 50), percentile(&agent, 95));
        let (d50, d95) = (percentile(&direct, 50), percentile(&direct, 95));
        println!(
            "{:<26} {:>12} {:>12} {:>12} {:>12} {:>8.2}",
            label,
            ms(a50),
            ms(a95),
            ms(d50),
            ms(d95),
            a50.as_secs_f64() / d50.as_secs_f64()
        );
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn percentile(samples: &[Duration], p: usize) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    s[(s.len() - 1) * p / 100]
}

/// Runs `codex exec` against a model that asks for `/bin/true` `calls` times.
fn agent_overheads(calls: usize, mode: &str, work: &Path) -> Vec<Duration> {
    let mut replies: Vec<Reply> = (0..calls)
        .map(|i| {
            Reply::Sse(script::responses_function_call(
                &format!("call_{i}"),
                "shell",
                &serde_json::json!({ "command": ["/bin/true"] }),
            ))
        })
        .collect();
    replies.push(Reply::Sse(script::responses_text("done")));
    let model = ScriptedModel::start(replies).expect("scripted model");
    let home = support::scripted_home(&model);
    support::exec(
        Path::new(env!("CARGO_BIN_EXE_codex")),
        &["--skip-git-repo-check", "-s", mode],
        work,
        home.path(),
    );
    let requests = model.requests();
    let finished = model.reply_finished_at();
    assert_eq!(requests.len(), calls + 1);
    (0..calls)
        .map(|i| requests[i + 1].received_at.duration_since(finished[i]))
        .collect()
}

/// The same command through the exec-server client directly: start → closed.
fn direct_calls(calls: usize, policy: Option<SandboxPolicy>, work: &Path) -> Vec<Duration> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_codex"));
        cmd.args(["exec-server", "--listen", "stdio"]);
        let client = ExecServerClient::spawn_stdio(cmd, "bench")
            .await
            .expect("exec-server");
        let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
        let mut out = Vec::with_capacity(calls);
        for _ in 0..calls {
            let mut options = StartOptions::new(["/bin/true"], work);
            options.env = env.clone();
            if let Some(p) = &policy {
                options = options.sandbox(p.clone());
            }
            let began = Instant::now();
            let process = client.start(options).await.expect("start");
            let done = process.wait().await.expect("wait");
            out.push(began.elapsed());
            assert_eq!(done.exit_code, Some(0));
        }
        out
    })
}
