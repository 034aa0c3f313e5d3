//! `codex exec` end to end: the real codex binary, a real exec-server (local over stdio, or
//! remote over WebSocket), the real sandbox and real files. Only the model is scripted: a
//! loopback HTTP server replays SSE streams and records what the agent sent.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use codex_scripted_model::{Reply, script};

mod support;
use serde_json::{Value, json};
use support::{
    Fixture, KEY_VAR, one_line_error, patch_call, run, shell_call, stderr, stdout, text,
};

const HELLO_PATCH: &str =
    "*** Begin Patch\n*** Update File: hello.txt\n@@\n-hello\n+hello, world\n*** End Patch\n";

/// The loop the issue names: ls, then a patch, then the final message.
fn full_loop_replies() -> Vec<Reply> {
    vec![
        shell_call("call_ls", &["ls"]),
        patch_call("call_patch", HELLO_PATCH),
        shell_call("call_ppid", &["sh", "-c", "echo ppid=$PPID"]),
        text("Updated hello.txt."),
    ]
}

fn assert_full_loop(f: &Fixture, out: &Output) -> String {
    assert!(out.status.success(), "exit: {:?}", out.status);
    assert_eq!(stdout(out), "Updated hello.txt.\n");
    assert_eq!(
        std::fs::read_to_string(f.work().join("hello.txt")).expect("read"),
        "hello, world\n"
    );
    let ls = f.tool_output(1, "call_ls");
    assert!(ls.contains("Exit code: 0"), "{ls}");
    assert!(ls.contains("hello.txt"), "{ls}");
    let patched = f.tool_output(2, "call_patch");
    assert!(patched.contains("M hello.txt"), "{patched}");
    let ppid = f.tool_output(3, "call_ppid");
    assert_eq!(f.model.requests().len(), 4);
    // Progress on stderr names the command and the patch.
    let err = stderr(out);
    assert!(err.contains("exec ls in"), "{err}");
    assert!(err.contains("apply_patch: M hello.txt"), "{err}");
    ppid
}

#[test]
fn full_loop_runs_ls_applies_the_patch_and_prints_the_final_message() {
    let f = Fixture::new(full_loop_replies());
    std::fs::write(f.work().join("hello.txt"), "hello\n").expect("write");
    let out = run(f.exec(&["-s", "workspace-write", "say hello to the world"]));
    assert_full_loop(&f, &out);
    // The request carried the prompt, the instructions and the three tools.
    let first = f.request(0);
    assert_eq!(first["model"], "scripted-1");
    assert!(
        first["input"][0]["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("say hello to the world")),
        "{first:#}"
    );
    let tools: Vec<&str> = first["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(tools, ["shell", "apply_patch", "update_plan"]);
    let auth = f.model.requests()[0]
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.clone());
    assert_eq!(auth.as_deref(), Some("Bearer sk-test-secret"));
}

/// A WebSocket exec-server, as `codex exec-server --listen ws://127.0.0.1:0` prints it.
struct RemoteServer {
    child: std::process::Child,
    url: String,
    token: String,
}

impl RemoteServer {
    fn start() -> RemoteServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_codex"))
            .args(["exec-server", "--listen", "ws://127.0.0.1:0"])
            .env_remove("CODEX_EXEC_SERVER_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start exec-server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let (mut url, mut token) = (None, None);
        while url.is_none() || token.is_none() {
            let line = lines.next().expect("exec-server output").expect("line");
            if let Some(u) = line.strip_prefix("listening on ") {
                url = Some(u.trim().to_string());
            } else if let Some(t) = line.strip_prefix("token ") {
                token = Some(t.trim().to_string());
            }
        }
        RemoteServer {
            child,
            url: url.expect("url"),
            token: token.expect("token"),
        }
    }
}

impl Drop for RemoteServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn full_loop_runs_commands_on_a_remote_websocket_exec_server() {
    let server = RemoteServer::start();
    let f = Fixture::new(full_loop_replies());
    std::fs::write(f.work().join("hello.txt"), "hello\n").expect("write");
    let out = run(f
        .exec(&["-s", "workspace-write", "--exec-server", &server.url, "go"])
        .env("CODEX_EXEC_SERVER_TOKEN", &server.token));
    let ppid = assert_full_loop(&f, &out);
    // The commands' parent is the remote server, not a local one codex started.
    assert!(
        ppid.contains(&format!("ppid={}", server.child.id())),
        "{ppid}"
    );
}

#[test]
fn a_wrong_exec_server_token_fails_before_the_model_is_asked() {
    let server = RemoteServer::start();
    let f = Fixture::new(vec![shell_call("c1", &["true"]), text("ok")]);
    let token_file = f.work().join("token");
    std::fs::write(&token_file, "wrong\n").expect("token file");
    let out = run(f.exec(&[
        "--exec-server",
        &server.url,
        "--exec-server-token-file",
        token_file.to_str().expect("utf-8"),
        "go",
    ]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("401"), "{err}");
    assert!(err.contains("--exec-server-token-file"), "{err}");
    assert!(!err.contains("wrong"), "the token is not echoed: {err}");
    assert!(f.model.requests().is_empty());
}

/// Issue 20 item 11: a token on the command line is readable by every local user in
/// /proc/*/cmdline, so the flag is refused with what to do instead; the file and the
/// environment both work.
#[test]
fn the_exec_server_token_comes_from_a_file_or_the_environment_never_the_command_line() {
    let server = RemoteServer::start();
    let f = Fixture::new(vec![shell_call("c1", &["true"]), text("ok")]);
    let out = run(f.exec(&[
        "--exec-server",
        &server.url,
        "--exec-server-token",
        &server.token,
        "go",
    ]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(
        err.trim_end(),
        "error: --exec-server-token puts the token where every local user can read it (/proc/*/cmdline); set CODEX_EXEC_SERVER_TOKEN or use --exec-server-token-file FILE"
    );
    assert!(f.model.requests().is_empty(), "nothing was sent");

    let token_file = f.work().join("token");
    std::fs::write(&token_file, format!("{}\n", server.token)).expect("token file");
    let f = Fixture::new(full_loop_replies());
    std::fs::write(f.work().join("hello.txt"), "hello\n").expect("write");
    let out = run(f.exec(&[
        "-s",
        "workspace-write",
        "--exec-server",
        &server.url,
        "--exec-server-token-file",
        token_file.to_str().expect("utf-8"),
        "go",
    ]));
    assert_full_loop(&f, &out);
}

#[test]
fn read_only_sandbox_blocks_a_write_and_reports_the_denial_to_the_model() {
    let f = Fixture::new(vec![
        shell_call("w", &["sh", "-c", "echo x > written.txt"]),
        text("could not write"),
    ]);
    let out = run(f.exec(&["-s", "read-only", "--json", "write a file"]));
    assert!(out.status.success());
    assert!(!f.work().join("written.txt").exists());
    let output = f.tool_output(1, "w");
    assert!(output.contains("sandbox likely blocked"), "{output}");
    let events: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let exec = events
        .iter()
        .find(|e| e["type"] == "item.completed" && e["item"]["type"] == "command_execution")
        .expect("command_execution event");
    assert_eq!(exec["item"]["sandbox_denied"], true, "{exec}");
    assert_eq!(exec["item"]["status"], "failed");
}

#[test]
fn read_only_sandbox_refuses_apply_patch_and_changes_nothing() {
    let f = Fixture::new(vec![patch_call("p", HELLO_PATCH), text("refused")]);
    std::fs::write(f.work().join("hello.txt"), "hello\n").expect("write");
    let out = run(f.exec(&["-s", "read-only", "patch it"]));
    assert!(out.status.success());
    let output = f.tool_output(1, "p");
    assert!(output.contains("read-only"), "{output}");
    assert_eq!(
        std::fs::read_to_string(f.work().join("hello.txt")).expect("read"),
        "hello\n"
    );
}

#[test]
fn workspace_write_allows_writes_inside_and_blocks_them_outside() {
    // Outside every writable root: not the workspace, not the temp dir, not CODEX_HOME.
    let outside = support::scratch();
    let target = outside.path().join("escaped.txt");
    let script = format!("echo x > {}", target.display());
    let f = Fixture::new(vec![
        shell_call("in", &["sh", "-c", "echo inside > inside.txt"]),
        shell_call("out", &["sh", "-c", &script]),
        text("done"),
    ]);
    let out = run(f.exec(&["-s", "workspace-write", "write two files"]));
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(f.work().join("inside.txt")).expect("inside"),
        "inside\n"
    );
    assert!(!target.exists(), "the write outside the workspace happened");
    assert!(f.tool_output(1, "in").contains("Exit code: 0"));
    let denied = f.tool_output(2, "out");
    assert!(denied.contains("sandbox likely blocked"), "{denied}");
}

#[test]
fn workspace_write_keeps_git_hooks_read_only_for_patches_and_commands() {
    let f = Fixture::new(vec![
        patch_call(
            "p",
            "*** Begin Patch\n*** Add File: .git/hooks/pre-commit\n+#!/bin/sh\n+touch /dev/shm/pwned\n*** End Patch\n",
        ),
        shell_call(
            "s",
            &[
                "sh",
                "-c",
                "echo x > .git/hooks/post-checkout || git config core.fsmonitor x",
            ],
        ),
        shell_call(
            "g",
            &[
                "sh",
                "-c",
                "echo work > notes.txt && git status --porcelain",
            ],
        ),
        text("done"),
    ]);
    // The fixture's workspace is a git repository.
    let config = std::fs::read_to_string(f.work().join(".git/config")).expect("config");
    let out = run(f.exec(&["-s", "workspace-write", "plant a hook"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let patch = f.tool_output(1, "p");
    assert!(
        patch.contains(".git/hooks/pre-commit is in ") && patch.contains("stays read-only"),
        "{patch}"
    );
    assert!(f.tool_output(2, "s").contains("sandbox likely blocked"));
    assert!(f.tool_output(3, "g").contains("?? notes.txt"));
    for hook in ["pre-commit", "post-checkout"] {
        assert!(!f.work().join(".git/hooks").join(hook).exists(), "{hook}");
    }
    assert_eq!(
        std::fs::read_to_string(f.work().join(".git/config")).expect("config"),
        config
    );
}

/// `bash -c 'exec 3<>/dev/tcp/127.0.0.1/PORT'`: a plain TCP connect.
fn connect_call(call_id: &str, port: u16) -> Reply {
    let script = format!("exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected");
    shell_call(call_id, &["bash", "-c", &script])
}

#[test]
fn network_is_off_in_workspace_write_unless_config_allows_it() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();

    let f = Fixture::new(vec![connect_call("net", port), text("no network")]);
    let out = run(f.exec(&["-s", "workspace-write", "connect"]));
    assert!(out.status.success());
    let blocked = f.tool_output(1, "net");
    assert!(!blocked.contains("connected"), "{blocked}");
    assert!(!blocked.contains("Exit code: 0"), "{blocked}");

    let f = Fixture::new(vec![connect_call("net", port), text("network")]);
    let out = run(f.exec(&[
        "-s",
        "workspace-write",
        "-c",
        "sandbox_workspace_write.network_access=true",
        "connect",
    ]));
    assert!(out.status.success());
    let allowed = f.tool_output(1, "net");
    assert!(allowed.contains("connected"), "{allowed}");
}

#[test]
fn a_patch_whose_context_does_not_match_changes_nothing_and_says_why() {
    let patch = "*** Begin Patch\n*** Add File: new.txt\n+new\n*** Update File: hello.txt\n@@\n-goodbye\n+hello, world\n*** End Patch\n";
    let f = Fixture::new(vec![
        patch_call("p", patch),
        text("the patch did not apply"),
    ]);
    std::fs::write(f.work().join("hello.txt"), "hello\n").expect("write");
    let out = run(f.exec(&["-s", "workspace-write", "patch"]));
    assert!(out.status.success());
    let output = f.tool_output(1, "p");
    assert!(output.contains("apply_patch failed"), "{output}");
    assert!(output.contains("hello.txt"), "{output}");
    assert!(output.contains("no file was changed"), "{output}");
    assert_eq!(
        std::fs::read_to_string(f.work().join("hello.txt")).expect("read"),
        "hello\n"
    );
    assert!(!f.work().join("new.txt").exists());
}

#[test]
fn config_overrides_beat_config_toml_and_model_flag_beats_both() {
    let f = Fixture::with_config(vec![text("a"), text("b")], "");
    let out = run(f.exec(&["-c", "model=\"from-override\"", "hi"]));
    assert!(out.status.success());
    assert_eq!(f.request(0)["model"], "from-override");
    let out = run(f.exec(&[
        "-c",
        "model=\"from-override\"",
        "--model",
        "from-flag",
        "hi",
    ]));
    assert!(out.status.success());
    assert_eq!(f.request(1)["model"], "from-flag");
}

#[test]
fn a_profile_selects_its_model() {
    let f = Fixture::with_config(vec![text("a")], "[profiles.fast]\nmodel = \"fast-model\"\n");
    let out = run(f.exec(&["--profile", "fast", "hi"]));
    assert!(out.status.success());
    assert_eq!(f.request(0)["model"], "fast-model");
}

#[test]
fn a_missing_api_key_fails_before_any_request_with_one_clear_line() {
    let f = Fixture::new(vec![text("never sent")]);
    let out = run(f.exec(&["hi"]).env_remove(KEY_VAR));
    let err = one_line_error(&out, "error: ");
    assert!(err.contains(KEY_VAR), "{err}");
    assert!(f.model.requests().is_empty());
}

#[test]
fn a_malformed_event_stream_fails_with_a_clear_error() {
    let cut = "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{}}\n\nevent: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"hal";
    let f = Fixture::new(vec![Reply::Cut(cut.into())]);
    let out = run(f.exec(&["hi"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("malformed"), "{err}");
    assert!(stdout(&out).is_empty());
}

#[test]
fn the_secret_key_is_not_in_the_commands_environment() {
    let f = Fixture::new(vec![shell_call("env", &["env"]), text("ok")]);
    let out = run(f.exec(&["hi"]));
    assert!(out.status.success());
    let env = f.tool_output(1, "env");
    assert!(env.contains("PATH="), "{env}");
    assert!(!env.contains("sk-test-secret"), "{env}");
}

/// Every file under `dir` with its size and modification time.
fn tree(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let e = e.expect("entry");
            let m = e.metadata().expect("metadata");
            if m.is_dir() {
                stack.push(e.path());
            }
            out.push((e.path(), m.len(), m.modified().expect("mtime")));
        }
    }
    out.sort();
    out
}

#[test]
fn ephemeral_leaves_codex_home_unchanged() {
    let f = Fixture::new(vec![shell_call("c", &["true"]), text("done")]);
    let before = tree(f.home.path());
    let out = run(f.exec(&["--ephemeral", "hi"]).env("RUST_LOG", "debug"));
    assert!(out.status.success());
    assert_eq!(tree(f.home.path()), before);
}

#[test]
fn a_session_is_saved_as_jsonl_under_codex_home_sessions() {
    let f = Fixture::new(vec![shell_call("c", &["true"]), text("done")]);
    let out = run(f.exec(&["hi"]));
    assert!(out.status.success());
    let logs: Vec<PathBuf> = tree(&f.home.path().join("sessions"))
        .into_iter()
        .map(|(p, ..)| p)
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let text = std::fs::read_to_string(&logs[0]).expect("read log");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines[0]["type"], "session_meta");
    assert_eq!(lines[0]["payload"]["model"], "scripted-1");
    assert!(
        lines
            .iter()
            .any(|l| l["payload"]["type"] == "function_call_output"),
        "{text}"
    );
    assert!(!text.contains("sk-test-secret"));
}

#[test]
fn rust_log_writes_logs_to_a_file_under_codex_home_log() {
    let f = Fixture::new(vec![text("done")]);
    let out = run(f.exec(&["hi"]).env("RUST_LOG", "debug"));
    assert!(out.status.success());
    let log =
        std::fs::read_to_string(f.home.path().join("log").join("codex.log")).expect("log file");
    assert!(!log.is_empty());
    assert!(!log.contains("sk-test-secret"));
}

#[test]
fn stdin_is_the_prompt_or_is_appended_as_a_stdin_block() {
    let f = Fixture::new(vec![text("one"), text("two")]);
    let mut child = f
        .exec(&[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"task from stdin\n")
        .expect("write");
    assert!(child.wait_with_output().expect("wait").status.success());
    let first = f.request(0);
    assert_eq!(first["input"][0]["content"][0]["text"], "task from stdin\n");

    let mut child = f
        .exec(&["summarize this"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"line 1\nline 2\n")
        .expect("write");
    assert!(child.wait_with_output().expect("wait").status.success());
    assert_eq!(
        f.request(1)["input"][0]["content"][0]["text"],
        "summarize this\n\n<stdin>\nline 1\nline 2\n</stdin>"
    );
}

#[test]
fn json_mode_prints_one_event_per_line_and_nothing_else() {
    let f = Fixture::new(vec![
        Reply::Sse(script::responses_function_call(
            "plan",
            "update_plan",
            &json!({"plan": [{"step": "look", "status": "in_progress"}]}),
        )),
        text("final words"),
    ]);
    let out = run(f.exec(&["--json", "hi"]));
    assert!(out.status.success());
    let types: Vec<String> = stdout(&out)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("JSON line");
            v["type"].as_str().expect("type").to_string()
        })
        .collect();
    assert_eq!(
        types,
        [
            "thread.started",
            "turn.started",
            "item.completed",
            "item.completed",
            "turn.completed"
        ]
    );
    let last_item: Value =
        serde_json::from_str(stdout(&out).lines().nth(3).expect("line")).expect("json");
    assert_eq!(last_item["item"]["type"], "agent_message");
    assert_eq!(last_item["item"]["text"], "final words");
}

#[test]
fn no_prompt_at_all_is_a_usage_error() {
    let f = Fixture::new(vec![]);
    // stdin is /dev/null: empty.
    let out = run(f.exec(&[]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no prompt"), "{}", stderr(&out));
}

#[test]
fn chat_completions_providers_run_the_same_loop() {
    let f = Fixture::with_provider(
        vec![
            Reply::Sse(script::chat_tool_call(
                "call_1",
                "shell",
                &json!({"command": ["echo", "via-chat"]}),
            )),
            Reply::Sse(script::chat_text("chat done")),
        ],
        "",
        "wire_api = \"chat\"",
    );
    let out = run(f.exec(&["hi"]));
    assert!(out.status.success());
    assert_eq!(stdout(&out), "chat done\n");
    let requests = f.model.requests();
    assert_eq!(requests[0].path, "/v1/chat/completions");
    let messages = requests[1].body["messages"].as_array().expect("messages");
    let tool = messages
        .iter()
        .find(|m| m["role"] == "tool")
        .expect("tool message");
    assert_eq!(tool["tool_call_id"], "call_1");
    assert!(
        tool["content"]
            .as_str()
            .is_some_and(|c| c.contains("via-chat")),
        "{tool}"
    );
}

#[test]
fn an_unknown_model_fails_with_a_clear_error() {
    let f = Fixture::new(vec![Reply::error(
        404,
        "model_not_found",
        "The model `nope` does not exist",
    )]);
    let out = run(f.exec(&["--model", "nope", "hi"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    // The session's header, then the error once.
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with("codex session "), "{err}");
    let err = lines[1];
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("model `nope`"), "{err}");
    assert!(err.contains("--model"), "{err}");
}

#[test]
fn a_command_past_its_timeout_is_terminated_and_the_model_is_told() {
    let f = Fixture::new(vec![
        Reply::Sse(script::responses_function_call(
            "slow",
            "shell",
            &json!({"command": ["sleep", "30"], "timeout_ms": 300}),
        )),
        text("gave up"),
    ]);
    let began = std::time::Instant::now();
    let out = run(f.exec(&["hi"]));
    assert!(out.status.success());
    assert!(began.elapsed() < std::time::Duration::from_secs(20));
    let output = f.tool_output(1, "slow");
    assert!(output.contains("timed out after 300 ms"), "{output}");
}

#[test]
fn long_output_reaches_the_model_as_its_head_and_tail() {
    let f = Fixture::new(vec![shell_call("seq", &["seq", "1", "100000"]), text("ok")]);
    let out = run(f.exec(&["hi"]));
    assert!(out.status.success());
    let output = f.tool_output(1, "seq");
    assert!(output.len() < 12 * 1024, "{} bytes", output.len());
    assert!(output.contains("\n1\n2\n3\n"), "the head is kept");
    assert!(output.contains("\n99999\n100000\n"), "the tail is kept");
    assert!(output.contains("omitted"), "{output}");
}

#[test]
fn agents_md_from_the_repository_root_down_to_the_cwd_is_in_the_instructions() {
    let f = Fixture::new(vec![text("ok")]);
    std::fs::write(f.work().join("AGENTS.md"), "Root rule: use tabs.\n").expect("root doc");
    let sub = f.work().join("crate");
    std::fs::create_dir(&sub).expect("sub");
    std::fs::write(sub.join("AGENTS.md"), "Crate rule: no unwrap.\n").expect("sub doc");
    let out = run(f.exec(&["--cd", sub.to_str().expect("utf-8"), "hi"]));
    assert!(out.status.success());
    let instructions = f.request(0)["instructions"]
        .as_str()
        .expect("instructions")
        .to_string();
    let root = instructions.find("Root rule").expect("root AGENTS.md");
    let nested = instructions.find("Crate rule").expect("nested AGENTS.md");
    assert!(root < nested, "outermost first: {instructions}");
}

#[test]
fn a_retried_429_is_invisible_except_for_the_wait() {
    let f = Fixture::new(vec![
        Reply::Status {
            status: 429,
            headers: vec![("Retry-After".into(), "1".into())],
            body: "{\"error\":{\"message\":\"slow down\"}}".into(),
        },
        text("after the wait"),
    ]);
    let began = std::time::Instant::now();
    let out = run(f.exec(&["hi"]));
    assert!(out.status.success());
    assert!(began.elapsed() >= std::time::Duration::from_secs(1));
    assert_eq!(stdout(&out), "after the wait\n");
    assert_eq!(f.model.requests().len(), 2);
}

/// The path of a program the npm test tools install.
fn npm_bin(name: &str) -> String {
    let dir = xtask::tools::ensure_npm_tools().expect("npm tools");
    dir.join("node_modules/.bin")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn mcp_tools_of_real_servers_are_offered_called_and_reported_and_a_broken_server_is_skipped() {
    let call = |id: &str, tool: &str, args: Value| {
        Reply::Sse(script::responses_function_call(id, tool, &args))
    };
    let work = tempfile::tempdir().expect("served dir");
    std::fs::write(work.path().join("note.txt"), "from the filesystem server\n").expect("write");
    let root = work.path().canonicalize().expect("canon");
    let root = root.display().to_string();
    let config = format!(
        "[mcp_servers.everything]\ncommand = \"{}\"\nstartup_timeout_sec = 60\n\n\
         [mcp_servers.files]\ncommand = \"{}\"\nargs = [\"{root}\"]\nstartup_timeout_sec = 60\n\n\
         [mcp_servers.broken]\ncommand = \"/nonexistent/mcp-server\"\n\n\
         [mcp_servers.hangs]\ncommand = \"sleep\"\nargs = [\"600\"]\nstartup_timeout_sec = 1\n",
        npm_bin("mcp-server-everything"),
        npm_bin("mcp-server-filesystem"),
    );
    let f = Fixture::with_config(
        vec![
            call("call_echo", "everything__echo", json!({"message": "ping"})),
            call(
                "call_read",
                "files__read_text_file",
                json!({"path": format!("{root}/note.txt")}),
            ),
            call(
                "call_outside",
                "files__read_text_file",
                json!({"path": "/etc/passwd"}),
            ),
            text("Both servers answered."),
        ],
        &config,
    );
    let out = run(f.exec(&["--json", "use the tools"]));
    assert!(out.status.success(), "exit {:?}", out.status);

    // The model was offered the servers' tools beside the built-in ones.
    let tools = f.request(0)["tools"].clone();
    let names: Vec<&str> = tools
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.contains(&"shell") && names.contains(&"everything__echo"),
        "{names:?}"
    );
    assert!(names.contains(&"files__read_text_file"), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("broken__")),
        "{names:?}"
    );
    // Each result went back to the model, and so did the server's refusal.
    assert!(f.tool_output(1, "call_echo").contains("ping"));
    assert!(
        f.tool_output(2, "call_read")
            .contains("from the filesystem server")
    );
    let refused = f.tool_output(3, "call_outside");
    assert!(
        refused.starts_with("the tool reported an error:"),
        "{refused}"
    );

    // The broken and the hanging server are one warning line each, and the session went on.
    let err = stderr(&out);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 2, "{err}");
    assert!(
        warnings[1].starts_with(
            "warning: MCP server hangs did not start in 1 s (startup_timeout_sec); it was stopped"
        ),
        "{err}"
    );
    assert!(
        warnings[0].starts_with(
            "warning: MCP server broken could not be started (/nonexistent/mcp-server:"
        ) && warnings[0].ends_with("the session goes on without it"),
        "{err}"
    );
    // --json reports each call as an mcp_tool_call item.
    let items: Vec<Value> = stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["type"] == "item.completed" && e["item"]["type"] == "mcp_tool_call")
        .map(|e| e["item"].clone())
        .collect();
    assert_eq!(items.len(), 3, "{}", stdout(&out));
    assert_eq!(items[0]["server"], "everything");
    assert_eq!(items[0]["tool"], "echo");
    assert_eq!(items[0]["arguments"]["message"], "ping");
    assert_eq!(items[0]["status"], "completed");
    assert_eq!(items[2]["status"], "failed");
}

#[test]
fn a_streamable_http_server_gets_its_bearer_token_from_the_environment_and_a_wrong_one_is_reported()
{
    let token = "mcp-token-0b7f3c";
    let everything = xtask::mcp_http::EverythingHttp::start(token).expect("http server");
    let config = format!(
        "[mcp_servers.web]\nurl = \"{0}\"\nbearer_token_env_var = \"CODEX_TEST_MCP_TOKEN\"\n\n\
         [mcp_servers.wrong]\nurl = \"{0}\"\nbearer_token_env_var = \"CODEX_TEST_MCP_WRONG\"\n",
        everything.guarded_url()
    );
    let f = Fixture::with_config(
        vec![
            Reply::Sse(script::responses_function_call(
                "call_echo",
                "web__echo",
                &json!({"message": "through the proxy"}),
            )),
            text("The HTTP server answered."),
        ],
        &config,
    );
    let out = run(f
        .exec(&["use the web server"])
        .env("CODEX_TEST_MCP_TOKEN", token)
        .env("CODEX_TEST_MCP_WRONG", "not-the-token")
        .env("RUST_LOG", "trace"));
    assert!(out.status.success(), "exit {:?}", out.status);
    assert_eq!(stdout(&out), "The HTTP server answered.\n");
    assert!(f.tool_output(1, "call_echo").contains("through the proxy"));
    let err = stderr(&out);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(
        warnings,
        [format!(
            "warning: MCP server wrong could not be used at {}: the server refused the bearer token \
             (HTTP 401 Unauthorized Bearer realm=\"mcp-test\"); check the variable named by \
             bearer_token_env_var; the session goes on without it",
            everything.guarded_url()
        )],
        "{err}"
    );
    // The token is a secret: not in the output, not in the trace log.
    let log =
        std::fs::read_to_string(f.home.path().join("log").join("codex.log")).expect("log file");
    assert!(
        log.contains("StreamableHttpClientWorker") && log.contains("hyper_util"),
        "the transport traced into the log"
    );
    for text in [&stdout(&out), &err, &log] {
        assert!(!text.contains(token), "the token leaked");
        assert!(!text.contains("not-the-token"), "the wrong token leaked");
    }
}

#[test]
fn notify_gets_the_turn_as_json_and_a_failing_notifier_changes_nothing() {
    let out_dir = tempfile::tempdir().expect("out");
    let script = out_dir.path().join("notify.sh");
    let got = out_dir.path().join("got.json");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s' \"$2\" > '{}.tmp' && mv '{0}.tmp' '{0}'\n",
            got.display()
        ),
    )
    .expect("script");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let config = format!("notify = [\"{}\", \"first-arg\"]\n", script.display());
    let f = Fixture::with_config(vec![text("All done.")], &config);
    let out = run(f.exec(&["say done"]));
    assert!(out.status.success());
    assert_eq!(stdout(&out), "All done.\n");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !got.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(&got).expect("notified")).expect("json");
    assert_eq!(json["type"], "agent-turn-complete");
    assert_eq!(json["turn-id"], "turn_1");
    assert_eq!(json["input-messages"], json!(["say done"]));
    assert_eq!(json["last-assistant-message"], "All done.");
    assert_eq!(
        json["cwd"].as_str().map(PathBuf::from),
        Some(f.work().canonicalize().expect("canon"))
    );
    assert!(
        json["thread-id"].as_str().is_some_and(|s| s.len() == 36),
        "{json}"
    );

    // A notifier that cannot run, and one that fails: the turn's result is the same.
    for notify in ["[\"/nonexistent/notifier\"]", "[\"false\"]"] {
        let f = Fixture::with_config(vec![text("All done.")], &format!("notify = {notify}\n"));
        let out = run(f.exec(&["say done"]));
        assert!(out.status.success(), "{notify}");
        assert_eq!(stdout(&out), "All done.\n", "{notify}");
        let err = stderr(&out);
        assert!(!err.lines().any(|l| l.starts_with("error")), "{err}");
        if notify.contains("nonexistent") {
            assert!(
                err.contains("notify: cannot run /nonexistent/notifier"),
                "{err}"
            );
        }
    }
}

/// A Node script that drives `codex mcp-server` with the official TypeScript SDK client: it
/// lists the tools, calls `codex` (with a progress handler) and then `codex-reply`, and prints
/// what it got as one JSON object.
const MCP_SDK_DRIVER: &str = r#"
const path = require("path");
const sdk = path.join(process.env.NPM_TOOLS, "node_modules/@modelcontextprotocol/sdk/dist/cjs");
const { Client } = require(path.join(sdk, "client/index.js"));
const { StdioClientTransport } = require(path.join(sdk, "client/stdio.js"));
(async () => {
  const transport = new StdioClientTransport({
    command: process.env.CODEX_BIN, args: ["mcp-server"], env: process.env, cwd: process.env.WORK,
  });
  const client = new Client({ name: "sdk-driver", version: "1.0.0" });
  await client.connect(transport);
  const tools = (await client.listTools()).tools.map((t) => t.name);
  const progress = [];
  const first = await client.callTool(
    { name: "codex", arguments: { prompt: "what is here?" } },
    undefined,
    { onprogress: (p) => progress.push(p.message), timeout: 60000 },
  );
  const threadId = first.structuredContent && first.structuredContent.threadId;
  const second = await client.callTool({ name: "codex-reply", arguments: { threadId, prompt: "and now?" } });
  const unknown = await client.callTool({ name: "codex-reply", arguments: { threadId: "nope", prompt: "x" } });
  console.log(JSON.stringify({ tools, first, second, unknown, progress, threadId }));
  await client.close();
})().catch((e) => { console.error(e); process.exit(1); });
"#;

/// Runs a Node driver script (the TypeScript SDK client against `codex mcp-server` in the
/// fixture's workspace) and returns the JSON object it prints.
fn sdk_driver(f: &Fixture, source: &str) -> Value {
    let script = f.home.path().join("driver.cjs");
    std::fs::write(&script, source).expect("script");
    let tools_dir = xtask::tools::ensure_npm_tools().expect("npm tools");
    let out = run(Command::new("node")
        .arg(&script)
        .env("NPM_TOOLS", &tools_dir)
        .env("CODEX_BIN", env!("CARGO_BIN_EXE_codex"))
        .env("WORK", f.work())
        .env("CODEX_HOME", f.home.path())
        .env(KEY_VAR, "sk-test-secret")
        .env_remove("RUST_LOG"));
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Value = serde_json::from_str(stdout(&out).trim()).expect("driver json");
    got
}

#[test]
fn mcp_server_is_driven_by_the_official_typescript_sdk_client() {
    let f = Fixture::new(vec![
        shell_call("call_ls", &["ls"]),
        text("There is one file."),
        text("Still one file."),
    ]);
    std::fs::write(f.work().join("only.txt"), "x").expect("write");
    let got = sdk_driver(&f, MCP_SDK_DRIVER);
    assert_eq!(got["tools"], json!(["codex", "codex-reply"]));
    assert_eq!(got["first"]["content"][0]["text"], "There is one file.");
    assert_ne!(got["first"]["isError"], true);
    assert_eq!(got["second"]["content"][0]["text"], "Still one file.");
    assert_eq!(
        got["second"]["structuredContent"]["threadId"],
        got["threadId"]
    );
    assert_eq!(got["unknown"]["isError"], true);
    // The `ls` ran for real, and the steps came as progress notifications.
    assert!(f.tool_output(1, "call_ls").contains("only.txt"));
    let progress: Vec<&str> = got["progress"]
        .as_array()
        .expect("progress")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // The SDK runs a progress handler a microtask after reading the notification, but drops
    // the handler as soon as it reads the result: a last notification that shares a read with
    // the result can be lost on its side. The order on the wire is pinned by
    // mcp_server_sends_each_step_as_progress_in_order_before_the_result.
    assert!(progress[0].starts_with("codex session "), "{progress:?}");
    assert!(
        progress.iter().any(|p| p.starts_with("exec ls in")),
        "{progress:?}"
    );
    assert!(
        !progress.iter().any(|p| p.contains("item.delta")),
        "streamed words are not progress: {progress:?}"
    );
    // The second turn carried the first one's conversation.
    let input = f.request(2)["input"].to_string();
    assert!(
        input.contains("what is here?") && input.contains("and now?"),
        "{input}"
    );
}

/// Drives `codex mcp-server` with the TypeScript SDK: starts a turn whose command sleeps, asks the
/// busy session for another turn, cancels the first call (the SDK sends notifications/cancelled)
/// and then continues the session; prints what it saw as one JSON object.
const MCP_SDK_CANCEL_DRIVER: &str = r#"
const path = require("path");
const sdk = path.join(process.env.NPM_TOOLS, "node_modules/@modelcontextprotocol/sdk/dist/cjs");
const { Client } = require(path.join(sdk, "client/index.js"));
const { StdioClientTransport } = require(path.join(sdk, "client/stdio.js"));
(async () => {
  const transport = new StdioClientTransport({
    command: process.env.CODEX_BIN, args: ["mcp-server"], env: process.env, cwd: process.env.WORK,
  });
  const client = new Client({ name: "sdk-cancel-driver", version: "1.0.0" });
  await client.connect(transport);
  const controller = new AbortController();
  const progress = [];
  let threadId = null;
  let sawSleep;
  const sleeping = new Promise((resolve) => { sawSleep = resolve; });
  const first = client.callTool({ name: "codex", arguments: { prompt: "wait a while" } }, undefined, {
    signal: controller.signal, timeout: 60000,
    onprogress: (p) => {
      progress.push(p.message);
      const m = /^codex session ([0-9a-f-]{36}):/.exec(p.message);
      if (m) threadId = m[1];
      if (p.message.startsWith("exec sleep 31.7")) sawSleep();
    },
  }).then((result) => ({ result }), (e) => ({ error: String(e) }));
  await sleeping;
  const busy = await client.callTool({ name: "codex-reply", arguments: { threadId, prompt: "are you there?" } });
  const t0 = Date.now();
  controller.abort("changed my mind");
  const aborted = await first;
  const abortMs = Date.now() - t0;
  // The server ends the interrupted turn right after the cancel; until then a reply is refused.
  let reply;
  for (let i = 0; i < 200; i++) {
    reply = await client.callTool({ name: "codex-reply", arguments: { threadId, prompt: "go on" } });
    if (!(reply.isError && /still running a turn/.test(reply.content[0].text))) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  console.log(JSON.stringify({ threadId, busy, aborted, abortMs, reply, progress }));
  await client.close();
})().catch((e) => { console.error(e); process.exit(1); });
"#;

#[test]
fn mcp_server_sends_each_step_as_progress_in_order_before_the_result() {
    let f = Fixture::new(vec![
        shell_call("call_ls", &["ls"]),
        text("There is one file."),
    ]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_codex"))
        .arg("mcp-server")
        .current_dir(f.work())
        .env("CODEX_HOME", f.home.path())
        .env(KEY_VAR, "sk-test-secret")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start codex mcp-server");
    let mut stdin = child.stdin.take().expect("stdin");
    for msg in [
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "codex", "arguments": {"prompt": "what is here?"},
            "_meta": {"progressToken": "p1"}}}),
    ] {
        writeln!(stdin, "{msg}").expect("write");
    }
    let mut progress = Vec::new();
    let mut result = None;
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        let v: Value = serde_json::from_str(&line.expect("line")).expect("json");
        if v["method"] == "notifications/progress" {
            assert_eq!(v["params"]["progressToken"], "p1", "{v}");
            assert!(result.is_none(), "progress after the result: {v}");
            assert_eq!(v["params"]["progress"], (progress.len() + 1) as f64, "{v}");
            progress.push(v["params"]["message"].as_str().expect("message").to_owned());
        } else if v["id"] == 1 {
            result = Some(v);
            break;
        }
    }
    drop(stdin);
    let result = result.expect("a result");
    assert_eq!(
        result["result"]["content"][0]["text"], "There is one file.",
        "{result}"
    );
    let steps: Vec<&str> = progress
        .iter()
        .map(String::as_str)
        .filter(|p| !p.starts_with('{'))
        .collect();
    assert_eq!(steps.len(), 4, "{progress:?}");
    assert!(steps[0].starts_with("codex session "), "{progress:?}");
    assert!(steps[1].starts_with("exec ls in "), "{progress:?}");
    assert_eq!(
        steps[2..],
        ["  succeeded: exit 0", "codex: There is one file."]
    );
    assert!(
        !progress.iter().any(|p| p.contains("item.delta")),
        "{progress:?}"
    );
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status}");
}

#[test]
fn mcp_server_turn_is_interrupted_by_a_cancelled_call_and_a_busy_session_refuses_a_second_turn() {
    let f = Fixture::new(vec![
        shell_call("call_sleep", &["sleep", "31.7"]),
        text("Carrying on."),
    ]);
    let got = sdk_driver(&f, MCP_SDK_CANCEL_DRIVER);
    let thread = got["threadId"]
        .as_str()
        .expect("the header named the session");
    // A second turn on a busy session is refused at once, naming the session.
    assert_eq!(got["busy"]["isError"], true, "{got}");
    assert_eq!(
        got["busy"]["content"][0]["text"],
        format!(
            "Codex session {thread} is still running a turn; wait for its result or cancel that call"
        )
    );
    // The cancelled call ends on the client's side with the SDK's abort error.
    let aborted = got["aborted"]["error"]
        .as_str()
        .expect("the call was aborted");
    assert!(aborted.contains("changed my mind"), "{aborted}");
    // The interrupted command is gone: it does not run on for its 31.7 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let ps = Command::new("pgrep")
            .args(["-f", "sleep 31.7"])
            .output()
            .expect("pgrep");
        if !ps.status.success() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the interrupted command still runs: {}",
            String::from_utf8_lossy(&ps.stdout)
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The session goes on: the next turn's conversation answers the interrupted call.
    assert_eq!(got["reply"]["content"][0]["text"], "Carrying on.", "{got}");
    assert_eq!(f.model.requests().len(), 2);
    assert_eq!(
        f.tool_output(1, "call_sleep"),
        "interrupted: the user stopped the turn before this call finished"
    );
    let input = f.request(1)["input"].to_string();
    assert!(
        input.contains("wait a while") && input.contains("go on"),
        "{input}"
    );
}

#[test]
fn mcp_server_answers_a_flood_of_requests_sent_without_reading_and_stays_small() {
    const N: usize = 10_000;
    let home = tempfile::tempdir().expect("home");
    let mut child = Command::new(env!("CARGO_BIN_EXE_codex"))
        .arg("mcp-server")
        .env("CODEX_HOME", home.path())
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start codex mcp-server");
    let pid = child.id();
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    // Everything is written before a single byte is read: a server that stops reading while
    // its responses wait would block this thread forever, and the test would time out below.
    let writer = std::thread::spawn(move || {
        let mut w = std::io::BufWriter::new(&mut stdin);
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "flood", "version": "1"}}});
        writeln!(w, "{init}").expect("write");
        writeln!(
            w,
            "{}",
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
        )
        .expect("write");
        for id in 1..=N {
            let method = if id % 2 == 0 { "tools/list" } else { "ping" };
            writeln!(
                w,
                "{}",
                json!({"jsonrpc": "2.0", "id": id, "method": method})
            )
            .expect("write");
        }
        w.flush().expect("flush");
        drop(w);
        stdin
    });
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let written = writer.join().expect("writer");
        let _ = done_tx.send(written);
    });
    let stdin = done_rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the server kept reading while its responses were not read (no deadlock)");
    // Only now read: every request gets its response.
    let mut seen = vec![false; N + 1];
    let mut count = 0;
    for line in BufReader::new(stdout).lines() {
        let v: Value = serde_json::from_str(&line.expect("line")).expect("json");
        let id = v["id"].as_u64().expect("a response") as usize;
        assert!(v.get("error").is_none(), "{v}");
        assert!(!seen[id], "two responses for {id}");
        seen[id] = true;
        count += 1;
        if count == N + 1 {
            break;
        }
    }
    assert_eq!(count, N + 1);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    eprintln!("codex mcp-server peak RSS after the flood: {peak_kib} KiB");
    assert!(peak_kib < 256 * 1024, "peak RSS {peak_kib} KiB");
    drop(stdin);
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status}");
}
