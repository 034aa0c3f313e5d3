//! `codex mcp add/list/get/remove` on a real config.toml in a temporary CODEX_HOME.

use std::path::Path;
use std::process::{Command, Output};

fn codex(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_codex"))
        .args(args)
        .env("CODEX_HOME", home)
        .env("CI", "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("run codex")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn err(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn add_list_get_remove_round_trip_and_keep_the_users_comments() {
    let home = tempfile::tempdir().expect("tmp");
    let config = home.path().join("config.toml");
    let original = "# my codex settings\nmodel = \"o3\"   # keep this comment\n\n[sandbox_workspace_write]\nnetwork_access = false\n";
    std::fs::write(&config, original).expect("write");

    let out = ok(&codex(
        home.path(),
        &[
            "mcp",
            "add",
            "files",
            "--env",
            "ROOT=/srv",
            "--env",
            "TOKEN=s3cret",
            "--",
            "npx",
            "-y",
            "@modelcontextprotocol/server-filesystem",
            "/srv",
        ],
    ));
    assert_eq!(
        out,
        format!("added MCP server files in {}\n", config.display())
    );
    ok(&codex(
        home.path(),
        &[
            "mcp",
            "add",
            "web",
            "--url",
            "https://example.invalid/mcp",
            "--bearer-token-env-var",
            "WEB_TOKEN",
        ],
    ));
    let text = std::fs::read_to_string(&config).expect("read");
    assert!(text.starts_with(original), "{text}");

    let list = ok(&codex(home.path(), &["mcp", "list"]));
    insta::assert_snapshot!(list, @r"
    Name   Enabled  Command or URL                                       Env
    files  on       npx -y @modelcontextprotocol/server-filesystem /srv  ROOT=***** TOKEN=*****
    web    on       https://example.invalid/mcp                          bearer token from $WEB_TOKEN
    ");
    assert!(!list.contains("s3cret"));
    let json: serde_json::Value =
        serde_json::from_str(&ok(&codex(home.path(), &["mcp", "list", "--json"]))).expect("json");
    assert_eq!(json["files"]["transport"], "stdio");
    assert_eq!(json["files"]["env"]["TOKEN"], "s3cret");
    assert_eq!(json["web"]["transport"], "streamable_http");
    assert_eq!(json["web"]["tool_timeout"], 60.0);

    let get = ok(&codex(home.path(), &["mcp", "get", "files"]));
    insta::assert_snapshot!(get, @r"
    files
      enabled: true
      transport: stdio
      command: npx
      args: -y @modelcontextprotocol/server-filesystem /srv
      env: ROOT=***** TOKEN=*****
      startup timeout: 10 s
      tool timeout: 60 s
    ");

    // Replacing a server keeps a comment the user put above it.
    let text = text.replace(
        "[mcp_servers.files]",
        "# the files server\n[mcp_servers.files]",
    );
    std::fs::write(&config, &text).expect("write");
    let out = ok(&codex(
        home.path(),
        &["mcp", "add", "files", "--", "files-server"],
    ));
    assert!(out.starts_with("replaced MCP server files"), "{out}");
    let text = std::fs::read_to_string(&config).expect("read");
    assert!(
        text.contains("# the files server\n[mcp_servers.files]\ncommand = \"files-server\"\n"),
        "{text}"
    );

    ok(&codex(home.path(), &["mcp", "remove", "files"]));
    ok(&codex(home.path(), &["mcp", "remove", "web"]));
    assert_eq!(std::fs::read_to_string(&config).expect("read"), original);
    assert_eq!(
        ok(&codex(home.path(), &["mcp", "list"])),
        "no MCP servers are configured; add one with `codex mcp add NAME -- COMMAND...`\n"
    );
}

#[test]
fn mistakes_are_one_line_that_says_what_to_do_and_change_nothing() {
    let home = tempfile::tempdir().expect("tmp");
    let config = home.path().join("config.toml");
    std::fs::write(&config, "model = \"o3\"\n").expect("write");
    let cases: [(&[&str], &str); 4] = [
        (
            &["mcp", "remove", "nope"],
            "error: no MCP server named \"nope\" in CONFIG; `codex mcp list` shows the configured ones\n",
        ),
        (
            &["mcp", "get", "nope"],
            "error: no MCP server named \"nope\" in CONFIG; `codex mcp list` shows the configured ones\n",
        ),
        (
            &["mcp", "add", "files"],
            "error: give the server's command after `--` (codex mcp add files -- npx -y SERVER), or --url URL\n",
        ),
        (
            &["mcp", "add", "bad name", "--", "x"],
            "error: configuration: MCP server name \"bad name\" must be 1 to 32 letters, digits, `_` or `-`\n",
        ),
    ];
    for (args, expected) in cases {
        let e = err(&codex(home.path(), args));
        assert_eq!(
            e,
            expected.replace("CONFIG", &config.display().to_string()),
            "{args:?}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&config).expect("read"),
        "model = \"o3\"\n"
    );
    // A broken file is named, not overwritten.
    std::fs::write(&config, "model = \n").expect("write");
    let e = err(&codex(home.path(), &["mcp", "add", "x", "--", "y"]));
    assert!(
        e.starts_with(&format!("error: {}:", config.display())),
        "{e}"
    );
    assert_eq!(
        std::fs::read_to_string(&config).expect("read"),
        "model = \n"
    );
}

#[test]
fn servers_with_codex_0_169_keys_are_listed_shown_and_survive_adding_another() {
    let home = tempfile::tempdir().expect("tmp");
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        "[mcp_servers.docs]\ncommand = \"docs-server\"\nenv_vars = [\"LANG\"]\nstartup_timeout_ms = 2500\nrequired = true\nenabled_tools = [\"search\", \"read\"]\ndisabled_tools = [\"read\"]\n\n[mcp_servers.web]\nurl = \"https://example.invalid/mcp\"\nhttp_headers = { \"X-Team\" = \"t0p-s3cret\" }\nenv_http_headers = { \"X-Key\" = \"WEB_KEY\" }\n",
    )
    .expect("write");
    let list = ok(&codex(home.path(), &["mcp", "list"]));
    assert!(list.contains("docs") && list.contains("web"), "{list}");
    let docs = ok(&codex(home.path(), &["mcp", "get", "docs"]));
    for line in [
        "env passed on: LANG",
        "required: true",
        "enabled tools: search read",
        "disabled tools: read",
        "startup timeout: 2.5 s",
    ] {
        assert!(docs.contains(line), "{line} missing from:\n{docs}");
    }
    let web = ok(&codex(home.path(), &["mcp", "get", "web"]));
    assert!(
        web.contains("headers: X-Team=***** X-Key=$WEB_KEY"),
        "{web}"
    );
    assert!(!web.contains("t0p-s3cret"), "{web}");

    ok(&codex(
        home.path(),
        &["mcp", "add", "other", "--", "other-server"],
    ));
    let text = std::fs::read_to_string(&config).expect("read");
    for kept in [
        "env_vars = [\"LANG\"]",
        "required = true",
        "enabled_tools = [\"search\", \"read\"]",
        "env_http_headers = { \"X-Key\" = \"WEB_KEY\" }",
    ] {
        assert!(text.contains(kept), "{kept} lost:\n{text}");
    }
}
