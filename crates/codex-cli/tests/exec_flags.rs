//! The `codex exec` flags of Codex 0.169 beyond the basics, end to end: the real binary, real
//! sandbox and files, the scripted model recording what it was sent.

use std::path::Path;

use base64::Engine as _;
use codex_scripted_model::{Reply, script};
use serde_json::{Value, json};

mod support;
use support::{Fixture, run, shell_call, stderr, stdout, text};

/// A directory in no git work tree (the system temp dir has no `.git` above it).
fn not_a_repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("dir");
    assert!(
        !d.path().ancestors().any(|a| a.join(".git").exists()),
        "{} is inside a git work tree",
        d.path().display()
    );
    d
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn exec_outside_a_git_repo_is_refused_in_one_line_before_the_model_is_asked() {
    let f = Fixture::new(vec![text("never sent")]);
    let plain = not_a_repo();
    let out = run(f.exec(&["--cd", path_str(plain.path()), "hi"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(
            "error: not inside a trusted directory and --skip-git-repo-check was not specified"
        ),
        "{err}"
    );
    assert!(f.model.requests().is_empty());
    assert!(!f.home.path().join("sessions").exists());
    assert_eq!(stdout(&out), "");
}

#[test]
fn skip_git_repo_check_and_a_trusted_project_each_lift_the_refusal() {
    let plain = not_a_repo();
    let f = Fixture::new(vec![text("ran anyway")]);
    let out = run(f.exec(&[
        "--skip-git-repo-check",
        "--cd",
        path_str(plain.path()),
        "hi",
    ]));
    assert!(out.status.success());
    assert_eq!(stdout(&out), "ran anyway\n");

    let trusted = format!(
        "[projects.{:?}]\ntrust_level = \"trusted\"\n",
        path_str(plain.path())
    );
    let f = Fixture::with_config(vec![text("trusted")], &trusted);
    let out = run(f.exec(&["--cd", path_str(plain.path()), "hi"]));
    assert!(out.status.success());
    assert_eq!(stdout(&out), "trusted\n");

    let untrusted = trusted.replace("\"trusted\"", "\"untrusted\"");
    let f = Fixture::with_config(vec![text("never sent")], &untrusted);
    let out = run(f.exec(&["--cd", path_str(plain.path()), "hi"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(f.model.requests().is_empty());
}

#[test]
fn yolo_runs_unsandboxed_without_the_git_check_and_refuses_an_approval_policy() {
    let outside = support::scratch();
    let target = outside.path().join("written-by-yolo.txt");
    let script = format!("echo x > {}", target.display());
    let plain = not_a_repo();
    let f = Fixture::new(vec![shell_call("w", &["sh", "-c", &script]), text("done")]);
    let out = run(f.exec(&[
        "--yolo",
        "-s",
        "read-only",
        "--cd",
        path_str(plain.path()),
        "write",
    ]));
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("sandbox danger-full-access"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&target).expect("written"), "x\n");
    assert!(f.tool_output(1, "w").contains("Exit code: 0"));

    let f = Fixture::new(vec![text("never sent")]);
    let out = run(f.exec(&[
        "--dangerously-bypass-approvals-and-sandbox",
        "-a",
        "never",
        "hi",
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
    assert!(f.model.requests().is_empty());
}

#[test]
fn add_dir_is_writable_under_workspace_write_and_other_dirs_stay_closed() {
    // Both outside every root workspace-write grants by default.
    let added = support::scratch();
    let other = support::scratch();
    let write = |dir: &Path| format!("echo x > {}", dir.join("f.txt").display());
    let f = Fixture::new(vec![
        shell_call("added", &["sh", "-c", &write(added.path())]),
        shell_call("other", &["sh", "-c", &write(other.path())]),
        text("done"),
    ]);
    let out = run(f.exec(&[
        "-s",
        "workspace-write",
        "--add-dir",
        path_str(added.path()),
        "write two files",
    ]));
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(added.path().join("f.txt")).expect("added"),
        "x\n"
    );
    assert!(f.tool_output(1, "added").contains("Exit code: 0"));
    assert!(!other.path().join("f.txt").exists());
    assert!(f.tool_output(2, "other").contains("sandbox likely blocked"));
}

#[test]
fn add_dir_under_read_only_is_ignored_with_a_warning() {
    let added = support::scratch();
    let script = format!("echo x > {}", added.path().join("f.txt").display());
    let f = Fixture::new(vec![shell_call("w", &["sh", "-c", &script]), text("done")]);
    let out = run(f.exec(&[
        "-s",
        "read-only",
        "--add-dir",
        path_str(added.path()),
        "write",
    ]));
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("warning: ignoring --add-dir ("),
        "{}",
        stderr(&out)
    );
    assert!(!added.path().join("f.txt").exists());
}

#[test]
fn a_missing_add_dir_is_one_line_and_nothing_is_sent() {
    let f = Fixture::new(vec![text("never sent")]);
    let out = run(f.exec(&["-s", "workspace-write", "--add-dir", "/no/such/dir", "hi"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim_end(),
        "error: --add-dir /no/such/dir: no such directory; create it or fix the path"
    );
    assert!(f.model.requests().is_empty());
}
/// The user message of request `n`, as the Responses API got it.
fn user_content(f: &Fixture, n: usize) -> Vec<Value> {
    let body = f.request(n);
    body["input"]
        .as_array()
        .expect("input")
        .iter()
        .filter(|i| i["role"] == "user")
        .flat_map(|i| i["content"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// Small files that start as each format does (the model never decodes them).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-png-body";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF-jpeg-body";
const GIF: &[u8] = b"GIF89a-gif-body";
const WEBP: &[u8] = b"RIFF\x20\0\0\0WEBPVP8 -webp-body";

fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[test]
fn images_are_typed_by_content_and_sent_as_input_image_parts_of_the_user_message() {
    let f = Fixture::new(vec![text("seen")]);
    // Named for another format on purpose: the bytes decide.
    let files = [
        ("shot.jpg", PNG),
        ("photo.png", JPEG),
        ("anim.webp", GIF),
        ("pic", WEBP),
    ];
    for (name, bytes) in files {
        std::fs::write(f.work().join(name), bytes).expect("image");
    }
    let out = run(f.exec(&[
        "describe these",
        "-i",
        "shot.jpg,photo.png",
        "--image",
        "anim.webp",
        "-i",
        "pic",
    ]));
    assert!(out.status.success());
    let content = user_content(&f, 0);
    assert_eq!(content[0]["type"], "input_text");
    assert!(
        content[0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("describe these"))
    );
    let images: Vec<&Value> = content
        .iter()
        .filter(|p| p["type"] == "input_image")
        .collect();
    assert_eq!(
        images,
        [
            &json!({"type": "input_image", "image_url": data_url("image/png", PNG)}),
            &json!({"type": "input_image", "image_url": data_url("image/jpeg", JPEG)}),
            &json!({"type": "input_image", "image_url": data_url("image/gif", GIF)}),
            &json!({"type": "input_image", "image_url": data_url("image/webp", WEBP)}),
        ]
    );
    // The session log keeps them, for resume.
    let log = session_logs(&f).pop().expect("a session log");
    let text = std::fs::read_to_string(log).expect("read log");
    assert!(text.contains(&data_url("image/webp", WEBP)), "{text}");
}

#[test]
fn chat_completions_gets_images_as_image_url_parts() {
    let f = Fixture::with_provider(
        vec![Reply::Sse(script::chat_text("seen"))],
        "",
        "wire_api = \"chat\"",
    );
    std::fs::write(f.work().join("a.gif"), GIF).expect("image");
    let out = run(f.exec(&["look", "-i", "a.gif"]));
    assert!(out.status.success());
    let body = f.request(0);
    let user = body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["role"] == "user")
        .expect("user message")
        .clone();
    assert_eq!(user["content"][0]["type"], "text");
    assert_eq!(
        user["content"][1],
        json!({"type": "image_url", "image_url": {"url": data_url("image/gif", GIF)}})
    );
}

#[test]
fn an_unsupported_or_missing_image_is_one_line_and_nothing_is_sent() {
    let f = Fixture::new(vec![text("never sent")]);
    std::fs::write(f.work().join("notes.png"), "just text\n").expect("file");
    let out = run(f.exec(&["hi", "-i", "notes.png"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim_end(),
        "error: --image notes.png: not a PNG, JPEG, GIF or WebP image; attach one of those"
    );
    let out = run(f.exec(&["hi", "-i", "missing.png"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: --image missing.png: cannot read the file"),
        "{err}"
    );
    assert!(f.model.requests().is_empty());
    assert!(!f.home.path().join("sessions").exists());
}

/// The session logs under the fixture's CODEX_HOME, oldest first.
fn session_logs(f: &Fixture) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![f.home.path().join("sessions")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "jsonl") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

const SCHEMA: &str = r#"{"type":"object","properties":{"answer":{"type":"integer"}},"required":["answer"],"additionalProperties":false}"#;

/// The fixture's workspace with `schema.json` in it.
fn with_schema(f: &Fixture) -> &'static str {
    std::fs::write(f.work().join("schema.json"), SCHEMA).expect("schema");
    "schema.json"
}

#[test]
fn output_schema_is_sent_as_the_structured_output_format_and_a_conforming_answer_passes() {
    let f = Fixture::new(vec![text(r#"{"answer": 42}"#)]);
    let file = with_schema(&f);
    let out = run(f.exec(&["--output-schema", file, "answer"]));
    assert!(out.status.success());
    assert_eq!(stdout(&out), "{\"answer\": 42}\n");
    let schema: Value = serde_json::from_str(SCHEMA).expect("json");
    assert_eq!(
        f.request(0)["text"]["format"],
        json!({"type": "json_schema", "name": "codex_output_schema", "schema": schema, "strict": true})
    );
}

#[test]
fn an_answer_that_does_not_follow_the_output_schema_is_a_one_line_error() {
    let f = Fixture::new(vec![
        text(r#"{"answer": "forty-two"}"#),
        text("the answer is 42"),
    ]);
    let file = with_schema(&f);
    let out = run(f.exec(&["--output-schema", file, "answer"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: the final message does not follow --output-schema schema.json:")
            && last.ends_with("(at /answer)"),
        "{err}"
    );
    let out = run(f.exec(&["--output-schema", file, "answer"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error: the final message is not JSON"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bad_output_schema_file_is_one_line_before_any_request() {
    let f = Fixture::new(vec![text("never sent")]);
    std::fs::write(f.work().join("bad.json"), r#"{"type": 12}"#).expect("write");
    let out = run(f.exec(&["--output-schema", "bad.json", "answer"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: --output-schema bad.json: not a valid JSON Schema"),
        "{err}"
    );
    let out = run(f.exec(&["--output-schema", "missing.json", "answer"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(f.model.requests().is_empty());
    assert!(!f.home.path().join("sessions").exists());
}

#[test]
fn chat_completions_gets_the_output_schema_as_response_format() {
    let f = Fixture::with_provider(
        vec![Reply::Sse(script::chat_text(r#"{"answer": 1}"#))],
        "",
        "wire_api = \"chat\"",
    );
    let file = with_schema(&f);
    let out = run(f.exec(&["--output-schema", file, "answer"]));
    assert!(out.status.success());
    let schema: Value = serde_json::from_str(SCHEMA).expect("json");
    assert_eq!(
        f.request(0)["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "codex_output_schema", "schema": schema, "strict": true}})
    );
}

#[test]
fn exec_resume_last_sends_the_earlier_turns_and_images_and_appends_to_the_same_log() {
    let f = Fixture::new(vec![text("first answer"), text("second answer")]);
    std::fs::write(f.work().join("shot.png"), PNG).expect("image");
    let out = run(f.exec(&["first task", "-i", "shot.png"]));
    assert!(out.status.success());
    // Output flags of `codex exec` are taken after `resume` too.
    let out = run(f.exec(&["resume", "--last", "second task", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("\"second answer\""),
        "{}",
        stdout(&out)
    );
    let input = f.request(1)["input"].as_array().expect("input").clone();
    let texts: Vec<String> = input
        .iter()
        .map(|i| {
            i["content"][0]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    let first = texts
        .iter()
        .position(|t| t.contains("first task"))
        .expect("first task");
    let answer = texts
        .iter()
        .position(|t| t == "first answer")
        .expect("first answer");
    let second = texts
        .iter()
        .position(|t| t.contains("second task"))
        .expect("second task");
    assert!(first < answer && answer < second, "{texts:?}");
    // The first message's image was read back from the session log and sent again.
    assert_eq!(
        input[first]["content"][1],
        json!({"type": "input_image", "image_url": data_url("image/png", PNG)})
    );
    let logs = session_logs(&f);
    assert_eq!(logs.len(), 1, "{logs:?}");
    let log = std::fs::read_to_string(&logs[0]).expect("log");
    assert!(log.contains("second task") && log.contains("first task"));
}

#[test]
fn exec_resume_by_id_prefix_continues_that_session_and_an_unknown_id_is_one_line() {
    let f = Fixture::new(vec![text("one"), text("two"), text("three")]);
    let out = run(f.exec(&["--json", "task A"]));
    let started: Value =
        serde_json::from_str(stdout(&out).lines().next().expect("a line")).expect("json");
    let id = started["thread_id"]
        .as_str()
        .expect("thread_id")
        .to_string();
    assert!(run(f.exec(&["task B"])).status.success());
    let out = run(f.exec(&["resume", &id[..8], "task C"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let sent = f.request(2).to_string();
    assert!(
        sent.contains("task A") && !sent.contains("task B"),
        "{sent}"
    );
    let out = run(f.exec(&["resume", "ffffffff-no-such", "task D"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: no saved session ffffffff-no-such"),
        "{err}"
    );
    assert_eq!(f.model.requests().len(), 3);
}

#[test]
fn exec_resume_last_only_picks_sessions_of_this_directory_unless_all() {
    let f = Fixture::new(vec![text("elsewhere"), text("resumed")]);
    let other = support::scratch();
    support::git_init(other.path());
    assert!(
        run(f.exec(&["--cd", path_str(other.path()), "task elsewhere"]))
            .status
            .success()
    );
    let out = run(f.exec(&["resume", "--last", "go on"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--all looks at every directory's"),
        "{}",
        stderr(&out)
    );
    let out = run(f.exec(&["resume", "--last", "--all", "go on"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(f.request(1).to_string().contains("task elsewhere"));
}

/// `cmd` run with its stdout and stderr on a terminal (`script` allocates one); returns what
/// the terminal showed.
fn on_a_terminal(cmd: &std::process::Command) -> String {
    let line = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut script = std::process::Command::new("script");
    script
        .args(["-qec", &format!("{line} </dev/null"), "/dev/null"])
        .current_dir(cmd.get_current_dir().expect("dir"));
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    let out = script.output().expect("run script");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn colour_replies() -> Vec<Reply> {
    vec![shell_call("c", &["true"]), text("done")]
}

#[test]
fn color_always_styles_the_progress_and_never_leaves_it_plain_and_stdout_stays_plain() {
    let f = Fixture::new(colour_replies());
    let out = run(f.exec(&["--color", "always", "hi"]));
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(err.starts_with("\x1b[1mcodex session "), "{err:?}");
    assert!(err.contains("\x1b[1mexec true in "), "{err:?}");
    assert!(
        err.contains("\x1b[32m  succeeded: exit 0\x1b[0m"),
        "{err:?}"
    );
    assert_eq!(stdout(&out), "done\n");

    let f = Fixture::new(colour_replies());
    let out = run(f.exec(&["--color", "never", "hi"]));
    assert!(out.status.success());
    assert!(!stderr(&out).contains('\x1b'), "{:?}", stderr(&out));

    let f = Fixture::new(vec![text("never sent")]);
    let out = run(f.exec(&[
        "--color",
        "always",
        "--add-dir",
        "/no/such",
        "-s",
        "workspace-write",
        "hi",
    ]));
    assert!(
        stderr(&out).starts_with("\x1b[1;31merror: --add-dir"),
        "{:?}",
        stderr(&out)
    );
}

#[test]
fn color_auto_colours_a_terminal_unless_no_color_is_set_and_never_a_pipe() {
    let f = Fixture::new(colour_replies());
    let mut cmd = f.exec(&["hi"]);
    cmd.env_remove("NO_COLOR");
    let shown = on_a_terminal(&cmd);
    assert!(shown.contains("\x1b[1mcodex session "), "{shown:?}");

    let f = Fixture::new(colour_replies());
    let mut cmd = f.exec(&["--color", "auto", "hi"]);
    cmd.env("NO_COLOR", "1");
    let shown = on_a_terminal(&cmd);
    assert!(
        shown.contains("codex session ") && !shown.contains('\x1b'),
        "{shown:?}"
    );

    let f = Fixture::new(colour_replies());
    let out = run(f.exec(&["hi"]).env_remove("NO_COLOR"));
    assert!(out.status.success());
    assert!(!stderr(&out).contains('\x1b'), "{:?}", stderr(&out));
}

/// Points the local provider `id` of the fixture's config at its scripted model, and adds
/// `top` (top-level keys) to the file.
fn local_provider(f: &Fixture, id: &str, wire_api: &str, top: &str) {
    let path = f.home.path().join("config.toml");
    let config = std::fs::read_to_string(&path).expect("config");
    std::fs::write(
        &path,
        format!(
            "{top}\n{config}\n[model_providers.{id}]\nbase_url = \"{}\"\nwire_api = \"{wire_api}\"\n",
            f.model.base_url()
        ),
    )
    .expect("write config");
}

#[test]
fn oss_with_local_provider_lmstudio_asks_lm_studio_for_gpt_oss() {
    let f = Fixture::new(vec![text("from lm studio")]);
    local_provider(&f, "lmstudio", "responses", "");
    let out = run(f.exec(&["--oss", "--local-provider", "lmstudio", "hi"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("(lmstudio)"), "{}", stderr(&out));
    assert_eq!(f.request(0)["model"], "openai/gpt-oss-20b");
    assert_eq!(f.model.requests()[0].path, "/v1/responses");
}

#[test]
fn oss_uses_the_configured_oss_provider_else_ollama_and_model_still_wins() {
    let f = Fixture::new(vec![Reply::Sse(script::chat_text("from ollama"))]);
    local_provider(&f, "ollama", "chat", "");
    let out = run(f.exec(&["--oss", "hi"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(f.request(0)["model"], "gpt-oss:20b");

    let f = Fixture::new(vec![text("from lm studio")]);
    local_provider(&f, "lmstudio", "responses", "oss_provider = \"lmstudio\"");
    let out = run(f.exec(&["--oss", "-m", "qwen3-coder", "hi"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(f.request(0)["model"], "qwen3-coder");

    // Without --oss, --local-provider changes nothing (as in 0.169).
    let f = Fixture::new(vec![text("scripted")]);
    let out = run(f.exec(&["--local-provider", "lmstudio", "hi"]));
    assert!(out.status.success());
    assert_eq!(f.request(0)["model"], "scripted-1");
}

#[test]
fn config_flags_work_before_or_after_the_subcommand_and_session_flags_before_it_apply() {
    let f = Fixture::new(vec![text("a"), text("b"), text("c"), text("d")]);
    let out = run(f.codex(&["-c", "model=\"from-c\"", "exec", "hi"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(f.request(0)["model"], "from-c");
    let out = run(f.codex(&[
        "exec",
        "hi",
        "-c",
        "model=\"after\"",
        "--enable",
        "x",
        "--disable",
        "y",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(f.request(1)["model"], "after");
    // As in 0.169, `codex -m M exec` runs exec with model M; the subcommand's own flag wins.
    let out = run(f.codex(&["-m", "outer", "-s", "workspace-write", "exec", "hi"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(f.request(2)["model"], "outer");
    assert!(
        stderr(&out).contains("sandbox workspace-write"),
        "{}",
        stderr(&out)
    );
    let out = run(f.codex(&["-m", "outer", "exec", "-m", "inner", "hi"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(f.request(3)["model"], "inner");
    let out = run(f.codex(&["mcp", "list", "--enable", "x", "-c", "a=1"]));
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn trust_marks_the_project_in_config_toml_for_later_runs_but_not_over_untrusted() {
    let plain = not_a_repo();
    let dir = std::fs::canonicalize(plain.path()).expect("canonical");
    let f = Fixture::new(vec![text("trusted now"), text("still trusted")]);
    let out = run(f.exec(&["--trust", "--ephemeral", "--cd", path_str(&dir), "hi"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let config = std::fs::read_to_string(f.home.path().join("config.toml")).expect("config");
    let table: toml::Table = config.parse().expect("toml");
    assert_eq!(
        table["projects"][path_str(&dir)]["trust_level"].as_str(),
        Some("trusted"),
        "{config}"
    );
    let out = run(f.exec(&["--cd", path_str(&dir), "hi"]));
    assert!(out.status.success(), "{}", stderr(&out));

    let untrusted = format!(
        "[projects.{:?}]\ntrust_level = \"untrusted\"\n",
        path_str(&dir)
    );
    let f = Fixture::with_config(vec![text("never sent")], &untrusted);
    let out = run(f.exec(&["--trust", "--cd", path_str(&dir), "hi"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(f.model.requests().is_empty());
    let config = std::fs::read_to_string(f.home.path().join("config.toml")).expect("config");
    assert!(config.contains("trust_level = \"untrusted\""), "{config}");
}

#[test]
fn ignore_user_config_leaves_config_toml_out_but_takes_dash_c() {
    let f = Fixture::new(vec![text("defaults")]);
    let provider = format!("model_providers.local.base_url={:?}", f.model.base_url());
    let out = run(f.exec(&[
        "--ignore-user-config",
        "-c",
        &provider,
        "-c",
        "model_provider=\"local\"",
        "hi",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    // config.toml says scripted-1; without it the built-in default model is asked for.
    assert_eq!(f.request(0)["model"], "gpt-5-codex");
}

#[test]
fn codex_resume_leaves_exec_sessions_out_unless_include_non_interactive() {
    let f = Fixture::new(vec![text("done")]);
    let out = run(f.exec(&["--json", "an exec task"]));
    let started: Value =
        serde_json::from_str(stdout(&out).lines().next().expect("a line")).expect("json");
    let id = started["thread_id"]
        .as_str()
        .expect("thread_id")
        .to_string();
    let log = std::fs::read_to_string(session_logs(&f).pop().expect("log")).expect("read");
    let meta: Value = serde_json::from_str(log.lines().next().expect("meta")).expect("json");
    assert_eq!(meta["payload"]["source"], "exec");

    // The listing, and --last, skip it...
    let out = run(f.codex(&["resume"]));
    assert!(out.status.success());
    assert!(!stdout(&out).contains(&id), "{}", stdout(&out));
    let out = run(f.codex(&["resume", "--last"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no saved session of "),
        "{}",
        stderr(&out)
    );
    // ...unless asked to include it: then it is found (and only the missing terminal stops it).
    let out = run(f.codex(&["resume", "--include-non-interactive"]));
    assert!(stdout(&out).contains(&id), "{}", stdout(&out));
    let out = run(f.codex(&["resume", "--last", "--include-non-interactive"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the interactive codex needs a terminal"),
        "{}",
        stderr(&out)
    );
}
