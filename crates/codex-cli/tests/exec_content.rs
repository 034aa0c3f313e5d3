//! What `codex exec` sends and keeps, end to end: images (`-i`), the output schema, and
//! sessions resumed with `codex exec resume` (and found by `codex resume`). The scripted model
//! records each request, so the tests assert on what the model really got.

use base64::Engine as _;
use codex_scripted_model::{Reply, script};
use serde_json::{Value, json};

mod support;
use support::{Fixture, one_line_error, path_str, run, session_logs, stderr, stdout, text};

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
    // As 0.169 sends them: each image framed by its number and path, then the prompt.
    let mut expected = Vec::new();
    let urls = [
        data_url("image/png", PNG),
        data_url("image/jpeg", JPEG),
        data_url("image/gif", GIF),
        data_url("image/webp", WEBP),
    ];
    for (n, ((name, _), url)) in files.iter().zip(urls).enumerate() {
        let open = format!("<image name=[Image #{}] path=\"{name}\">", n + 1);
        expected.push(json!({"type": "input_text", "text": open}));
        expected.push(json!({"type": "input_image", "image_url": url, "detail": "high"}));
        expected.push(json!({"type": "input_text", "text": "</image>"}));
    }
    assert_eq!(content[..12], expected[..]);
    assert_eq!(content.len(), 13, "{content:#?}");
    assert!(
        content[12]["text"]
            .as_str()
            .is_some_and(|t| t.contains("describe these"))
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
    assert_eq!(
        user["content"],
        json!([
            {"type": "text", "text": "<image name=[Image #1] path=\"a.gif\">"},
            {"type": "image_url", "image_url": {"url": data_url("image/gif", GIF)}},
            {"type": "text", "text": "</image>"},
            {"type": "text", "text": "look"},
        ])
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
    one_line_error(&out, "error: --image missing.png: cannot read the file");
    assert!(f.model.requests().is_empty());
    assert!(!f.home.path().join("sessions").exists());
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
    one_line_error(
        &out,
        "error: --output-schema bad.json: not a valid JSON Schema",
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
            // The item's text: the last part (images, when there are any, come first).
            let parts = i["content"].as_array().cloned().unwrap_or_default();
            let last = parts.last().cloned().unwrap_or_default();
            last["text"].as_str().unwrap_or_default().to_string()
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
        json!({"type": "input_image", "image_url": data_url("image/png", PNG), "detail": "high"})
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
    one_line_error(&out, "error: no saved session ffffffff-no-such");
    let out = run(f.exec(&["task E", "resume", "--last"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("a prompt goes after `resume`"),
        "{}",
        stderr(&out)
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
