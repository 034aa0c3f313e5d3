//! config.toml keys end to end: the real `codex exec` against the scripted model, asserting on
//! the requests the model receives (reasoning settings, instructions, tools, the output of a
//! command) and on what the user is shown.

use codex_scripted_model::{Reply, script};
use serde_json::{Value, json};

mod support;
use support::{Fixture, KEY_VAR, run, stderr, stdout};

fn text(t: &str) -> Reply {
    Reply::Sse(script::responses_text(t))
}

fn call(call_id: &str, tool: &str, args: Value) -> Reply {
    Reply::Sse(script::responses_function_call(call_id, tool, &args))
}

/// A reasoning item with two summary parts, then the answer `answer`.
fn reasoning_then(answer: &str) -> Reply {
    let item = json!({"id": "rs_1", "type": "reasoning", "summary": [
        {"type": "summary_text", "text": "**Looking around** first"},
        {"type": "summary_text", "text": "then answering"},
    ]});
    let delta = json!({"type": "response.reasoning_summary_text.delta", "item_id": "rs_1",
        "output_index": 0, "summary_index": 0, "delta": "**Looking"});
    let done = json!({"type": "response.output_item.done", "output_index": 0, "item": item});
    Reply::Sse(format!(
        "{}{}{}",
        script::event("response.reasoning_summary_text.delta", &delta),
        script::event("response.output_item.done", &done),
        script::responses_text(answer)
    ))
}

fn npm_bin(name: &str) -> String {
    let dir = xtask::tools::ensure_npm_tools().expect("npm tools");
    dir.join("node_modules/.bin")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn dash_c_model_reasoning_effort_reaches_the_request_and_absent_keys_send_nothing() {
    let f = Fixture::with_config(vec![text("one"), text("two")], "");
    let out = run(f.exec(&["-c", "model_reasoning_effort=high", "think"]));
    assert!(out.status.success());
    let body = f.request(0);
    assert_eq!(body["reasoning"], json!({"effort": "high"}), "{body:#}");
    assert!(body.get("text").is_none(), "{body:#}");

    let out = run(f.exec(&["plain"]));
    assert!(out.status.success());
    let body = f.request(1);
    assert!(body.get("reasoning").is_none(), "{body:#}");
    assert!(body.get("text").is_none(), "{body:#}");
}

#[test]
fn reasoning_summary_and_verbosity_from_config_toml_reach_the_request() {
    let f = Fixture::with_config(
        vec![text("ok")],
        "model_reasoning_effort = \"low\"\nmodel_reasoning_summary = \"concise\"\nmodel_verbosity = \"high\"\n",
    );
    let out = run(f.exec(&["go"]));
    assert!(out.status.success());
    let body = f.request(0);
    assert_eq!(
        body["reasoning"],
        json!({"effort": "low", "summary": "concise"})
    );
    assert_eq!(body["text"], json!({"verbosity": "high"}));
}

#[test]
fn chat_completions_gets_reasoning_effort_as_its_own_field() {
    let f = Fixture::with_config(
        vec![Reply::Sse(script::chat_text("ok"))],
        "model_reasoning_effort = \"minimal\"\nmodel_verbosity = \"low\"\n",
    );
    let out = run(f.exec(&["-c", "model_providers.scripted.wire_api=chat", "go"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let body = f.request(0);
    assert_eq!(body["reasoning_effort"], "minimal", "{body:#}");
    assert!(body.get("reasoning").is_none() && body.get("text").is_none());
}

#[test]
fn reasoning_summaries_are_shown_in_progress_and_json_unless_hidden() {
    let f = Fixture::with_config(
        vec![reasoning_then("Answer."), reasoning_then("Again.")],
        "",
    );
    let out = run(f.exec(&["go"]));
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("thinking: **Looking around** first\n\nthen answering"),
        "{err}"
    );
    assert_eq!(stdout(&out).trim(), "Answer.");
    // Reasoning is shown, never sent back: the conversation holds no reasoning item.
    let out = run(f.exec(&["--json", "go"]));
    assert!(out.status.success());
    let events: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let reasoning: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "item.completed" && e["item"]["type"] == "reasoning")
        .collect();
    assert_eq!(reasoning.len(), 1, "{events:#?}");
    assert_eq!(
        reasoning[0]["item"]["text"],
        "**Looking around** first\n\nthen answering"
    );

    let hidden = Fixture::with_config(
        vec![reasoning_then("Answer."), reasoning_then("Again.")],
        "hide_agent_reasoning = true\n",
    );
    let out = run(hidden.exec(&["go"]));
    assert!(out.status.success());
    assert!(!stderr(&out).contains("thinking"), "{}", stderr(&out));
    let out = run(hidden.exec(&["--json", "go"]));
    assert!(!stdout(&out).contains("reasoning"), "{}", stdout(&out));
    assert!(stdout(&out).contains("Again."));
}

/// Runs `env` as the model's command under `policy` (config.toml lines) with some variables in
/// codex's environment, and returns the variable names the model saw.
fn env_seen(policy: &str) -> Vec<String> {
    let f = Fixture::with_config(
        vec![
            call("call_env", "shell", json!({"command": ["/usr/bin/env"]})),
            text("done"),
        ],
        policy,
    );
    let out = run(f
        .exec(&["run env"])
        .env("CFGTEST_PLAIN", "plain")
        .env("CFGTEST_API_KEY", "looks-secret")
        .env("cfgtest_lower_token", "looks-secret-too")
        .env("CFGTEST_DROP_ME", "x"));
    assert!(out.status.success(), "{}", stderr(&out));
    let output = f.tool_output(1, "call_env");
    assert!(
        !output.contains("sk-test-secret"),
        "the provider's key reached a command: {output}"
    );
    let mut names: Vec<String> = output
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.to_string()))
        .filter(|k| k.to_ascii_uppercase().starts_with("CFGTEST") || k == "PATH" || k == KEY_VAR)
        .collect();
    names.sort();
    names
}

#[test]
fn shell_environment_policy_shapes_the_environment_the_models_commands_see() {
    // Default: everything but secret-looking names.
    assert_eq!(env_seen(""), ["CFGTEST_DROP_ME", "CFGTEST_PLAIN", "PATH"]);
    // exclude (case-insensitive glob) and set.
    assert_eq!(
        env_seen(
            "[shell_environment_policy]\nexclude = [\"cfgtest_drop_*\"]\nset = { CFGTEST_SET = \"1\" }\n"
        ),
        ["CFGTEST_PLAIN", "CFGTEST_SET", "PATH"]
    );
    // core keeps PATH and the like only; none starts empty.
    assert_eq!(
        env_seen("[shell_environment_policy]\ninherit = \"core\"\n"),
        ["PATH"]
    );
    assert_eq!(
        env_seen(
            "[shell_environment_policy]\ninherit = \"none\"\nset = { CFGTEST_ONLY = \"1\" }\n"
        ),
        ["CFGTEST_ONLY"]
    );
    // include_only is applied last.
    assert_eq!(
        env_seen("[shell_environment_policy]\ninclude_only = [\"CFGTEST_P*\"]\n"),
        ["CFGTEST_PLAIN"]
    );
    // Keeping secret-looking names never hands over the provider's own key variable.
    assert_eq!(
        env_seen("[shell_environment_policy]\nignore_default_excludes = true\n"),
        [
            "CFGTEST_API_KEY",
            "CFGTEST_DROP_ME",
            "CFGTEST_PLAIN",
            "PATH",
            "cfgtest_lower_token"
        ]
    );
}

#[test]
fn a_profile_files_model_reaches_the_request() {
    let f = Fixture::with_config(vec![text("one"), text("two")], "");
    std::fs::write(
        f.home.path().join("fast.config.toml"),
        "model = \"profile-model\"\nmodel_reasoning_effort = \"low\"\n",
    )
    .expect("profile");
    let out = run(f.exec(&["--profile", "fast", "go"]));
    assert!(out.status.success());
    assert_eq!(f.request(0)["model"], "profile-model");
    assert_eq!(f.request(0)["reasoning"]["effort"], "low");

    let out = run(f.exec(&["-p", "missing", "go"]));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("missing.config.toml") && err.contains("[profiles.missing]"),
        "{err}"
    );
    assert_eq!(
        f.model.requests().len(),
        1,
        "no request for the bad profile"
    );
}

#[test]
fn agents_override_and_the_global_agents_md_reach_the_instructions() {
    let f = Fixture::with_config(
        vec![text("ok")],
        "project_doc_fallback_filenames = [\"CLAUDE.md\"]\n",
    );
    std::fs::write(f.home.path().join("AGENTS.md"), "GLOBAL-RULE").expect("global");
    std::fs::write(f.work().join("AGENTS.md"), "PLAIN-RULE").expect("plain");
    std::fs::write(f.work().join("AGENTS.override.md"), "OVERRIDE-RULE").expect("override");
    let sub = f.work().join("sub");
    std::fs::create_dir(&sub).expect("sub");
    std::fs::write(sub.join("CLAUDE.md"), "FALLBACK-RULE").expect("fallback");
    let out = run(f.exec(&["-C", sub.to_str().expect("utf-8"), "go"]));
    assert!(out.status.success());
    let instructions = f.request(0)["instructions"]
        .as_str()
        .expect("instructions")
        .to_string();
    assert!(!instructions.contains("PLAIN-RULE"), "{instructions}");
    let at = |s: &str| {
        instructions
            .find(s)
            .unwrap_or_else(|| panic!("{s} missing: {instructions}"))
    };
    assert!(at("GLOBAL-RULE") < at("OVERRIDE-RULE"));
    assert!(at("OVERRIDE-RULE") < at("FALLBACK-RULE"));
}

#[test]
fn project_doc_max_bytes_zero_sends_no_project_docs() {
    let f = Fixture::with_config(vec![text("ok")], "project_doc_max_bytes = 0\n");
    std::fs::write(f.work().join("AGENTS.md"), "PROJECT-RULE").expect("plain");
    let out = run(f.exec(&["go"]));
    assert!(out.status.success());
    let instructions = f.request(0)["instructions"].to_string();
    assert!(!instructions.contains("PROJECT-RULE"), "{instructions}");
}

#[test]
fn mcp_tool_filters_and_env_vars_decide_what_the_model_gets() {
    let config = format!(
        "[mcp_servers.everything]\ncommand = \"{}\"\nstartup_timeout_ms = 60000\n\
         enabled_tools = [\"echo\", \"get-env\", \"get-sum\"]\ndisabled_tools = [\"get-sum\"]\n\
         env_vars = [\"CFGTEST_PASSED\"]\nenv = {{ CFGTEST_SET = \"set\" }}\n",
        npm_bin("mcp-server-everything"),
    );
    let f = Fixture::with_config(
        vec![
            call("call_env", "everything__get-env", json!({})),
            text("done"),
        ],
        &config,
    );
    let out = run(f
        .exec(&["go"])
        .env("CFGTEST_PASSED", "passed-through")
        .env("CFGTEST_KEPT_OUT", "kept-out"));
    assert!(out.status.success(), "{}", stderr(&out));
    let mut names: Vec<String> = f.request(0)["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .filter(|n| n.starts_with("everything__"))
        .map(str::to_string)
        .collect();
    names.sort();
    assert_eq!(names, ["everything__echo", "everything__get-env"]);
    let env = f.tool_output(1, "call_env");
    assert!(
        env.contains("passed-through") && env.contains("\"CFGTEST_SET\""),
        "{env}"
    );
    assert!(!env.contains("kept-out"), "{env}");
    assert!(!env.contains("sk-test-secret"), "{env}");
}

#[test]
fn a_required_mcp_server_that_fails_stops_the_session_before_the_model_is_asked() {
    let f = Fixture::with_config(
        vec![text("never")],
        "[mcp_servers.needed]\ncommand = \"/nonexistent/mcp-server\"\nrequired = true\n\
         [mcp_servers.optional]\ncommand = \"/nonexistent/other\"\n",
    );
    let out = run(f.exec(&["go"]));
    assert!(!out.status.success());
    let err = stderr(&out);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(
        errors[0].contains("MCP server needed") && errors[0].contains("required"),
        "{err}"
    );
    assert!(f.model.requests().is_empty());
}

/// A loopback HTTP server that records the head of each request it gets and answers 500, so an
/// MCP client's first request can be inspected.
fn recording_http_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = heads.clone();
    std::thread::spawn(move || {
        // Bounded: a few attempts of one client are all this serves.
        for stream in listener.incoming().take(8) {
            let Ok(mut s) = stream else { break };
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            seen.lock()
                .expect("lock")
                .push(String::from_utf8_lossy(&buf).to_ascii_lowercase());
            let _ = s.write_all(
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (url, heads)
}

#[test]
fn http_headers_and_env_http_headers_are_sent_to_a_url_server() {
    let (url, heads) = recording_http_server();
    let f = Fixture::with_config(
        vec![text("ok")],
        &format!(
            "[mcp_servers.web]\nurl = \"{url}\"\nstartup_timeout_sec = 10\n\
             http_headers = {{ \"X-Team\" = \"core\" }}\n\
             env_http_headers = {{ \"X-Key\" = \"CFGTEST_HEADER_VALUE\", \"X-Unset\" = \"CFGTEST_UNSET_VAR\" }}\n"
        ),
    );
    let out = run(f
        .exec(&["go"])
        .env("CFGTEST_HEADER_VALUE", "from-the-env")
        .env_remove("CFGTEST_UNSET_VAR"));
    // The server refused, so the session went on without it, with a warning.
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("MCP server web"), "{}", stderr(&out));
    let heads = heads.lock().expect("lock").clone();
    let first = heads.first().expect("the server got a request");
    assert!(first.contains("\r\nx-team: core\r\n"), "{first}");
    assert!(first.contains("\r\nx-key: from-the-env\r\n"), "{first}");
    assert!(!first.contains("x-unset"), "{first}");
}
