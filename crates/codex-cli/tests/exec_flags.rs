//! The flags of Codex 0.169 that decide where and how `codex exec` runs, end to end: the real
//! binary, real sandbox and files, the scripted model recording what it was sent. (What is
//! sent and resumed, images, schemas and sessions, is in exec_content.rs.)

use std::path::Path;

use codex_scripted_model::{Reply, script};

mod support;
use support::{Fixture, not_a_repo, path_str, run, shell_call, stderr, stdout, text};

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
fn search_offers_the_providers_web_search_tool_and_chat_providers_are_warned() {
    let f = Fixture::new(vec![text("found"), text("plain")]);
    let out = run(f.exec(&["--search", "look it up"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let tools = f.request(0)["tools"].as_array().expect("tools").clone();
    assert_eq!(
        tools.last(),
        Some(&serde_json::json!({"type": "web_search", "external_web_access": true}))
    );
    let out = run(f.exec(&["no search"]));
    assert!(out.status.success());
    assert!(!f.request(1)["tools"].to_string().contains("web_search"));

    let f = Fixture::with_provider(
        vec![Reply::Sse(script::chat_text("no search here"))],
        "",
        "wire_api = \"chat\"",
    );
    let out = run(f.exec(&["--search", "look it up"]));
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("warning: --search needs a provider that speaks the Responses API"),
        "{}",
        stderr(&out)
    );
    assert!(!f.request(0).to_string().contains("web_search"));
}
