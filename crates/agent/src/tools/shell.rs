//! The `shell` tool: one argv, run through the exec-server under the session's sandbox, with a
//! timeout; its output goes back to the model cut to head and tail.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use codex_exec_server::client::{ExecServerClient, RemoteProcess, StartOptions};
use serde::Deserialize;
use tokio::task::JoinHandle;

use super::{ToolContext, ToolOutcome, parse_args, patch};
use crate::approval::Verdict;
use crate::events::{ItemDetails, Status};
use crate::truncate::head_and_tail;

#[derive(Debug, Deserialize)]
struct Args {
    command: Vec<String>,
    #[serde(default)]
    workdir: Option<String>,
    #[serde(default)]
    timeout_ms: Option<u64>,
    /// Offered under `on-request` only: run outside the sandbox, once the user approves.
    #[serde(default)]
    with_escalated_permissions: bool,
    #[serde(default)]
    justification: Option<String>,
}

pub(super) async fn call(
    ctx: &ToolContext,
    arguments: &str,
    started: &mut (dyn FnMut(ItemDetails) + Send),
) -> ToolOutcome {
    let args: Args = match parse_args("shell", arguments) {
        Ok(a) => a,
        Err(e) => return ToolOutcome::error(e),
    };
    if args.command.is_empty() {
        return ToolOutcome::error(
            "shell: `command` is empty; give the program and its arguments".into(),
        );
    }
    // Models trained on Codex send patches as `["apply_patch", PATCH]`: same tool, same checks.
    if let [program, patch_text] = args.command.as_slice()
        && (program == "apply_patch" || program == "applypatch")
    {
        return patch::call(ctx, patch_text).await;
    }
    let cwd = match &args.workdir {
        Some(w) => ctx.cwd.join(w),
        None => ctx.cwd.clone(),
    };
    let command = display(&args.command);
    let cwd_shown = cwd.display().to_string();
    let unsandboxed = match ctx
        .approvals
        .command(
            &args.command,
            &cwd,
            args.with_escalated_permissions,
            args.justification.clone(),
        )
        .await
    {
        Verdict::Run { unsandboxed } => unsandboxed,
        Verdict::Denied(why) | Verdict::Refused(why) => {
            return ToolOutcome {
                output: why.clone(),
                details: Some(ItemDetails::CommandExecution {
                    command,
                    cwd: cwd_shown,
                    aggregated_output: why,
                    exit_code: None,
                    sandbox_denied: false,
                    duration_ms: None,
                    status: Status::Declined,
                }),
            };
        }
    };
    started(ItemDetails::CommandExecution {
        command: command.clone(),
        cwd: cwd_shown.clone(),
        aggregated_output: String::new(),
        exit_code: None,
        sandbox_denied: false,
        duration_ms: None,
        status: Status::InProgress,
    });
    let timeout = args
        .timeout_ms
        .map(Duration::from_millis)
        .unwrap_or(ctx.default_timeout);
    let began = Instant::now();
    let run = run(ctx, args.command, cwd, timeout, unsandboxed).await;
    let elapsed = began.elapsed();
    let (output, exit_code, denied, status) = match run {
        Ok(r) => {
            let status = if r.exit_code == Some(0) {
                Status::Completed
            } else {
                Status::Failed
            };
            let mut text = head_and_tail(&r.output, ctx.max_output_bytes);
            if r.timed_out {
                text.push_str(&format!(
                    "\n[codex: the command timed out after {} ms and was terminated]",
                    timeout.as_millis()
                ));
            }
            if r.sandbox_denied {
                text.push_str(&format!(
                    "\n[codex: the {} sandbox likely blocked this command: {}]",
                    ctx.sandbox.mode,
                    sandbox_limits(ctx)
                ));
            }
            (text, r.exit_code, r.sandbox_denied, status)
        }
        Err(e) => (
            format!("the command could not be run: {e}"),
            None,
            false,
            Status::Failed,
        ),
    };
    let for_model = format!(
        "Exit code: {}\nWall time: {:.1} seconds\nOutput:\n{output}",
        exit_code.map_or("none".to_string(), |c| c.to_string()),
        elapsed.as_secs_f64()
    );
    ToolOutcome {
        output: for_model,
        details: Some(ItemDetails::CommandExecution {
            command,
            cwd: cwd_shown,
            aggregated_output: output,
            exit_code,
            sandbox_denied: denied,
            duration_ms: Some(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)),
            status,
        }),
    }
}

struct Ran {
    output: String,
    exit_code: Option<i32>,
    sandbox_denied: bool,
    timed_out: bool,
}

async fn run(
    ctx: &ToolContext,
    argv: Vec<String>,
    cwd: PathBuf,
    timeout: Duration,
    unsandboxed: bool,
) -> Result<Ran, String> {
    let client = ctx.executor.client().await?;
    let mut options = StartOptions::new(argv, cwd);
    options.env = ctx.env.clone();
    if ctx.sandbox.is_sandboxed() && !unsandboxed {
        options = options.sandbox(ctx.sandbox.clone());
    }
    // The start runs as its own task: a turn interrupted while the server is still starting
    // the process must not leave it running, so the guard waits for the start to finish.
    let starting = tokio::spawn({
        let client = client.clone();
        async move { client.start(options).await }
    });
    let mut running = TerminateOnDrop {
        client: client.clone(),
        starting: Some(starting),
        running: None,
    };
    let process = running.started().await?;
    let id = process.id().to_string();
    let waited = tokio::time::timeout(timeout, process.wait()).await;
    running.running = None;
    match waited {
        Ok(done) => {
            let c = done.map_err(|e| e.to_string())?;
            let mut output = String::from_utf8_lossy(&c.stdout).into_owned();
            output.push_str(&String::from_utf8_lossy(&c.stderr));
            if c.lost_chunks > 0 {
                output.push_str(&format!(
                    "\n[codex: {} chunks of output were lost]",
                    c.lost_chunks
                ));
            }
            if let Some(f) = &c.failure {
                output.push_str(&format!("\n[codex: {f}]"));
            }
            Ok(Ran {
                output,
                exit_code: c.exit_code,
                sandbox_denied: c.sandbox_denied,
                timed_out: false,
            })
        }
        Err(_) => {
            let _ = client.terminate(&id).await;
            Ok(Ran {
                output: String::new(),
                exit_code: None,
                sandbox_denied: false,
                timed_out: true,
            })
        }
    }
}

/// Terminates the process if the turn is dropped (interrupted) while it starts or runs: a
/// command must not outlive the turn that started it.
struct TerminateOnDrop {
    client: ExecServerClient,
    /// The start request in flight; on drop it is awaited and the process terminated.
    starting: Option<JoinHandle<codex_exec_server::client::Result<RemoteProcess>>>,
    /// The id of the running process, until it ends on its own.
    running: Option<String>,
}

impl TerminateOnDrop {
    /// Waits for the start; from then on a drop terminates the running process.
    async fn started(&mut self) -> Result<RemoteProcess, String> {
        let Some(task) = self.starting.as_mut() else {
            return Err("the command was started twice".into());
        };
        let joined = task.await;
        self.starting = None;
        let process = joined
            .map_err(|e| format!("starting the command failed: {e}"))?
            .map_err(|e| e.to_string())?;
        self.running = Some(process.id().to_string());
        Ok(process)
    }
}

impl Drop for TerminateOnDrop {
    fn drop(&mut self) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let client = self.client.clone();
        if let Some(task) = self.starting.take() {
            rt.spawn(async move {
                if let Ok(Ok(process)) = task.await {
                    terminate(&client, process.id()).await;
                }
            });
        } else if let Some(id) = self.running.take() {
            rt.spawn(async move { terminate(&client, &id).await });
        }
    }
}

async fn terminate(client: &ExecServerClient, id: &str) {
    if let Err(e) = client.terminate(id).await {
        tracing::warn!("cannot terminate interrupted command {id}: {e}");
    }
}

/// What the sandbox allows, in words for the model.
fn sandbox_limits(ctx: &ToolContext) -> String {
    use codex_sandbox::SandboxMode;
    match ctx.sandbox.mode {
        SandboxMode::ReadOnly => "no file may be written and the network is off".into(),
        SandboxMode::WorkspaceWrite => {
            let roots: Vec<String> = ctx
                .sandbox
                .writable_roots
                .iter()
                .map(|r| r.display().to_string())
                .collect();
            let net = if ctx.sandbox.network_access {
                ""
            } else {
                "; the network is off"
            };
            format!("writes are allowed only under {}{net}", roots.join(", "))
        }
        SandboxMode::DangerFullAccess => "nothing is restricted".into(),
    }
}

/// argv as a shell would read it back.
pub(crate) fn display(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_only_what_needs_it() {
        let argv = ["bash", "-lc", "echo 'hi' > f"].map(String::from);
        assert_eq!(display(&argv), r#"bash -lc 'echo '\''hi'\'' > f'"#);
        assert_eq!(display(&["ls".into(), "-la".into()]), "ls -la");
        assert_eq!(display(&["".into()]), "''");
    }
}
