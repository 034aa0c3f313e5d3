//! The client against real MCP servers nobody here wrote: the reference `everything` and
//! `filesystem` servers from npm (installed by `cargo xtask npm-tools`), plus a command that does
//! not exist and one that never answers.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use codex_config::mcp::{DEFAULT_TOOL_TIMEOUT, McpServer, McpTransport};
use codex_mcp_client::McpManager;

fn npm_bin(name: &str) -> String {
    let dir = xtask::tools::ensure_npm_tools().expect("npm tools");
    let bin: PathBuf = dir.join("node_modules/.bin").join(name);
    assert!(bin.exists(), "{} is missing", bin.display());
    bin.display().to_string()
}

fn stdio(command: &str, args: &[&str], startup: Duration) -> McpServer {
    McpServer {
        transport: McpTransport::Stdio {
            command: command.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: BTreeMap::new(),
            cwd: None,
            env_vars: Vec::new(),
        },
        startup_timeout: startup,
        tool_timeout: DEFAULT_TOOL_TIMEOUT,
        enabled: true,
        required: false,
        enabled_tools: None,
        disabled_tools: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_of_real_servers_are_listed_and_called_and_bad_servers_are_reported() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("hello.txt"), "hi there\n").expect("write");
    let root = dir
        .path()
        .canonicalize()
        .expect("canon")
        .display()
        .to_string();
    let mut servers = BTreeMap::new();
    let slow = Duration::from_secs(60);
    servers.insert(
        "everything".to_owned(),
        stdio(&npm_bin("mcp-server-everything"), &[], slow),
    );
    servers.insert(
        "files".to_owned(),
        stdio(&npm_bin("mcp-server-filesystem"), &[&root], slow),
    );
    servers.insert(
        "missing".to_owned(),
        stdio("/nonexistent/mcp-server", &[], slow),
    );
    // Reads stdin and never answers: the start-up timeout must stop it.
    servers.insert(
        "hangs".to_owned(),
        stdio("sleep", &["600"], Duration::from_millis(1500)),
    );
    let mut off = stdio("/nonexistent/never-started", &[], slow);
    off.enabled = false;
    servers.insert("off".to_owned(), off);

    let t0 = Instant::now();
    let (mcp, failures) = McpManager::start(&servers).await;
    assert!(t0.elapsed() < Duration::from_secs(50), "{:?}", t0.elapsed());
    let failed: Vec<String> = failures.iter().map(|f| f.to_string()).collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed[0].starts_with("MCP server hangs did not start in 1.5 s (startup_timeout_sec)"),
        "{failed:?}"
    );
    assert!(
        failed[1].starts_with("MCP server missing could not be started (/nonexistent/mcp-server: No such file or directory"),
        "{failed:?}"
    );

    let names: Vec<&str> = mcp
        .tools()
        .iter()
        .map(|t| t.qualified_name.as_str())
        .collect();
    assert!(names.contains(&"everything__echo"), "{names:?}");
    assert!(
        names.contains(&"files__read_text_file") || names.contains(&"files__read_file"),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("everything__") || n.starts_with("files__"))
    );
    let echo = mcp
        .tools()
        .iter()
        .find(|t| t.qualified_name == "everything__echo")
        .expect("echo");
    assert_eq!(echo.input_schema["type"], "object");

    let out = mcp
        .call("everything__echo", r#"{"message": "hello from codex"}"#)
        .await
        .expect("echo call");
    assert!(out.text.contains("hello from codex"), "{out:?}");
    assert!(!out.is_error);

    let read = if names.contains(&"files__read_text_file") {
        "files__read_text_file"
    } else {
        "files__read_file"
    };
    let file = format!("{root}/hello.txt");
    let out = mcp
        .call(read, &serde_json::json!({ "path": file }).to_string())
        .await
        .expect("read call");
    assert!(out.text.contains("hi there"), "{out:?}");
    // Outside its root the server refuses; the refusal is a result for the model, not a crash.
    let out = mcp
        .call(read, r#"{"path": "/etc/hostname"}"#)
        .await
        .expect("refused call");
    assert!(out.is_error, "{out:?}");

    let err = mcp.call("files__nope", "{}").await.expect_err("unknown");
    assert_eq!(err.to_string(), "unknown MCP tool `files__nope`");
    let err = mcp
        .call("everything__echo", "[1]")
        .await
        .expect_err("not an object");
    assert_eq!(
        err.to_string(),
        "arguments for everything__echo must be a JSON object: got [1]"
    );

    // A server that dies is reported on the next call, and the others go on working.
    let killed = std::process::Command::new("pkill")
        .args(["-f", &format!("mcp-server-filesystem {root}")])
        .status()
        .expect("pkill");
    assert!(killed.success());
    let mut err = None;
    for _ in 0..50 {
        match mcp
            .call(read, &serde_json::json!({ "path": file }).to_string())
            .await
        {
            Err(e) => {
                err = Some(e.to_string());
                break;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let err = err.expect("the call fails once the server is gone");
    assert!(
        err.starts_with(&format!("MCP server files failed the call to {read}:")),
        "{err}"
    );
    let out = mcp
        .call("everything__echo", r#"{"message": "still here"}"#)
        .await
        .expect("echo call");
    assert!(out.text.contains("still here"), "{out:?}");
}

fn http(url: &str, token_var: Option<&str>) -> McpServer {
    McpServer {
        transport: McpTransport::StreamableHttp {
            url: url.into(),
            bearer_token_env_var: token_var.map(str::to_owned),
            http_headers: BTreeMap::new(),
            env_http_headers: BTreeMap::new(),
        },
        startup_timeout: Duration::from_secs(30),
        tool_timeout: DEFAULT_TOOL_TIMEOUT,
        enabled: true,
        required: false,
        enabled_tools: None,
        disabled_tools: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamable_http_server_is_listed_and_called_and_bad_urls_are_reported() {
    let everything = xtask::mcp_http::EverythingHttp::start("unused").expect("http server");
    // A port nobody listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut servers = BTreeMap::new();
    servers.insert("web".to_owned(), http(&everything.url(), None));
    servers.insert(
        "gone".to_owned(),
        http(&format!("http://127.0.0.1:{dead}/mcp"), None),
    );
    // Behind the proxy without a token: 401.
    servers.insert("locked".to_owned(), http(&everything.guarded_url(), None));
    // A token is never sent unencrypted to another machine; PATH is a variable that is always set.
    servers.insert(
        "plain".to_owned(),
        http("http://mcp.example.invalid/mcp", Some("PATH")),
    );
    servers.insert(
        "unset".to_owned(),
        http(&everything.url(), Some("CODEX_TEST_NO_SUCH_VARIABLE")),
    );

    let (mcp, failures) = McpManager::start(&servers).await;
    let failed: Vec<String> = failures.iter().map(|f| f.to_string()).collect();
    assert_eq!(failed.len(), 4, "{failed:?}");
    assert_eq!(
        failed[0],
        format!(
            "MCP server gone could not be used at http://127.0.0.1:{dead}/mcp: cannot connect (Connection refused (os error 111))"
        )
    );
    assert_eq!(
        failed[1],
        format!(
            "MCP server locked could not be used at {}: the server wants credentials (HTTP 401 Unauthorized Bearer realm=\"mcp-test\"); set bearer_token_env_var to a variable holding a token",
            everything.guarded_url()
        )
    );
    assert_eq!(
        failed[2],
        "MCP server plain would send the bearer token from $PATH unencrypted to mcp.example.invalid; use an https:// url"
    );
    assert_eq!(
        failed[3],
        "MCP server unset needs a bearer token in $CODEX_TEST_NO_SUCH_VARIABLE (bearer_token_env_var), which is not set; set it or remove the setting"
    );
    for f in &failed {
        assert!(!f.contains('\n'), "one line: {f}");
    }

    assert!(mcp.has_tool("web__echo"), "{:?}", mcp.tools());
    let out = mcp
        .call("web__echo", r#"{"message": "over http"}"#)
        .await
        .expect("echo call");
    assert!(out.text.contains("over http"), "{out:?}");
    // Several calls at once share the session.
    let calls = (0..8).map(|i| {
        let mcp = &mcp;
        async move {
            mcp.call("web__echo", &format!(r#"{{"message": "call {i}"}}"#))
                .await
        }
    });
    for (i, out) in futures_util::future::join_all(calls)
        .await
        .into_iter()
        .enumerate()
    {
        assert!(out.expect("call").text.contains(&format!("call {i}")));
    }
}
