//! Every key of `config.toml` the agent reads, with its documentation: the table behind
//! docs/agent.md (`cargo xtask generate`), so a key is described in one place.

/// One key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// Its dotted path (`ID` and `NAME` stand for a table name of the user's choosing).
    pub name: &'static str,
    /// The TOML type and default.
    pub kind: &'static str,
    /// What it does.
    pub doc: &'static str,
}

/// The agent's keys, in documentation order. (The installer's own keys, `release_base_url`
/// and `update_check`, are listed in docs/installer.md.)
pub const KEYS: &[Key] = &[
    Key {
        name: "model",
        kind: "string, default `gpt-5-codex`",
        doc: "The model; `--model` overrides it.",
    },
    Key {
        name: "model_provider",
        kind: "string, default `openai`",
        doc: "Which provider serves the model: `openai`, `ollama`, `lmstudio` (built in) or the ID of a `[model_providers.ID]` table.",
    },
    Key {
        name: "model_providers.ID.base_url",
        kind: "string, required",
        doc: "The API's base URL, e.g. `http://localhost:8000/v1` for vLLM.",
    },
    Key {
        name: "model_providers.ID.env_key",
        kind: "string, optional",
        doc: "The environment variable holding the API key; leave it out for keyless local servers.",
    },
    Key {
        name: "model_providers.ID.wire_api",
        kind: "`responses` (default) or `chat`",
        doc: "The API it speaks: the Responses API, or Chat Completions (Ollama, llama.cpp, vLLM).",
    },
    Key {
        name: "model_providers.ID.requires_openai_auth",
        kind: "bool, default false (true for the built-in `openai`)",
        doc: "When the `env_key` variable is not set, use the API key stored by `codex login --with-api-key`, else the ChatGPT account signed in with `codex login` (its access token, renewed before it expires, and its account id header); providers without it never get these OpenAI credentials (docs/login.md).",
    },
    Key {
        name: "auth_issuer",
        kind: "string, default `https://auth.openai.com`",
        doc: "The OAuth issuer `codex login` signs in with (browser and device-code flows) and ChatGPT tokens are renewed at; for tests and private deployments. Not in Codex 0.169, which always uses the default.",
    },
    Key {
        name: "model_providers.ID.name",
        kind: "string, optional",
        doc: "A display name.",
    },
    Key {
        name: "profile",
        kind: "string, optional",
        doc: "The profile applied when `--profile` names none.",
    },
    Key {
        name: "profiles.NAME.*",
        kind: "table",
        doc: "Any of these keys, laid over the top level by `--profile NAME`. The file `$CODEX_HOME/NAME.config.toml` (Codex 0.169's profiles) is laid over that, table by table; a profile must be one or the other (or both).",
    },
    Key {
        name: "model_reasoning_effort",
        kind: "string, optional",
        doc: "How hard a reasoning model thinks: `minimal`, `low`, `medium`, `high` (or another value the model takes, such as `xhigh` or `none`), sent as `reasoning.effort` (Chat Completions: `reasoning_effort`). Unset: the model's default.",
    },
    Key {
        name: "model_reasoning_summary",
        kind: "`auto`, `concise`, `detailed` or `none`, optional",
        doc: "Ask the model for summaries of its reasoning (`reasoning.summary`, Responses API only); they are shown as `thinking` steps.",
    },
    Key {
        name: "model_verbosity",
        kind: "`low`, `medium` or `high`, optional",
        doc: "How long the model's answers are (`text.verbosity`, Responses API only).",
    },
    Key {
        name: "hide_agent_reasoning",
        kind: "bool, default false",
        doc: "Do not show the model's reasoning summaries (progress, `--json` and the interactive codex).",
    },
    Key {
        name: "show_raw_agent_reasoning",
        kind: "bool, default false",
        doc: "Accepted for Codex 0.169's sake; no provider codex speaks sends raw reasoning, so it changes nothing.",
    },
    Key {
        name: "shell_environment_policy.inherit",
        kind: "`all` (default), `core` or `none`",
        doc: "The environment of the model's commands starts from codex's whole environment, only HOME, LOGNAME, PATH, SHELL, USER, USERNAME, TMPDIR, TEMP and TMP (`core`), or nothing.",
    },
    Key {
        name: "shell_environment_policy.ignore_default_excludes",
        kind: "bool, default false",
        doc: "Keep variables whose names contain KEY, SECRET or TOKEN (removed by default, unlike Codex 0.169, which keeps them). The model provider's key variable and the exec-server token are removed whatever this says.",
    },
    Key {
        name: "shell_environment_policy.exclude",
        kind: "array of globs, default empty",
        doc: "Remove the variables matching any of these (case-insensitive, `*` and `?`).",
    },
    Key {
        name: "shell_environment_policy.set",
        kind: "table of strings, default empty",
        doc: "Variables set for every command, after the removals.",
    },
    Key {
        name: "shell_environment_policy.include_only",
        kind: "array of globs, default empty",
        doc: "When not empty, keep only the variables matching one of these (applied last).",
    },
    Key {
        name: "shell_environment_policy.experimental_use_profile",
        kind: "bool, default false",
        doc: "Accepted for Codex 0.169's sake; commands never run through a shell profile.",
    },
    Key {
        name: "history.persistence",
        kind: "`save-all` (default) or `none`",
        doc: "Whether the interactive codex appends each prompt to `$CODEX_HOME/history.jsonl` (mode 0600), one `{\"session_id\", \"ts\", \"text\"}` line each, as Codex 0.169.",
    },
    Key {
        name: "history.max_bytes",
        kind: "integer, optional",
        doc: "Once history.jsonl is larger than this, its oldest lines are dropped.",
    },
    Key {
        name: "project_doc_max_bytes",
        kind: "integer, default 32768",
        doc: "How many bytes of AGENTS.md files are put into the instructions, in all; `0` reads none.",
    },
    Key {
        name: "project_doc_fallback_filenames",
        kind: "array of strings, default empty",
        doc: "File names read, in this order, in a folder that has no AGENTS.override.md or AGENTS.md.",
    },
    Key {
        name: "sandbox_mode",
        kind: "`read-only` (default), `workspace-write` or `danger-full-access`",
        doc: "The sandbox for the commands the model runs; `--sandbox` overrides it.",
    },
    Key {
        name: "sandbox_workspace_write.network_access",
        kind: "bool, default false",
        doc: "Let commands use the network under `workspace-write` (`read-only` never has it).",
    },
    Key {
        name: "sandbox_workspace_write.writable_roots",
        kind: "array of paths, default empty",
        doc: "More directories writable under `workspace-write`, besides the workspace, the temp dir and `$CODEX_HOME/memories`.",
    },
    Key {
        name: "sandbox_workspace_write.exclude_slash_tmp",
        kind: "bool, default false",
        doc: "`/tmp` is not writable under `workspace-write`.",
    },
    Key {
        name: "sandbox_workspace_write.exclude_tmpdir_env_var",
        kind: "bool, default false",
        doc: "`$TMPDIR` is not writable under `workspace-write`.",
    },
    Key {
        name: "sandbox_allow_weaker",
        kind: "bool, default false",
        doc: "Run sandboxed commands even where the system cannot give a protection of the mode (Landlock too old: signals need Linux 6.12; no unprivileged user namespaces: `.git` in the workspace stays writable), saying on each run what is missing; without it such commands are refused. Not in Codex 0.169 (docs/sandbox.md).",
    },
    Key {
        name: "approval_policy",
        kind: "`untrusted`, `on-request` (default) or `never`",
        doc: "When the interactive `codex` asks before running the model's command or patch: before anything not known to only read (`untrusted`), when the model asks to leave the sandbox or a patch needs more than it allows (`on-request`), or never. `--ask-for-approval` overrides it; `codex exec` always uses `never`.",
    },
    Key {
        name: "model_context_window",
        kind: "integer, optional",
        doc: "The model's context window in tokens, for the share shown in the status line when codex does not know the model.",
    },
    Key {
        name: "notify",
        kind: "array of strings, optional",
        doc: "A program and its arguments run at the end of each turn, with a JSON description of the turn (`type`, `thread-id`, `turn-id`, `cwd`, `input-messages`, `last-assistant-message`) as its last argument. Codex does not wait for it; a failure is logged.",
    },
    Key {
        name: "mcp_servers.NAME.command",
        kind: "string",
        doc: "A stdio MCP server: the program codex starts (`codex mcp add NAME -- CMD…` writes it). NAME is letters, digits, `_` or `-`.",
    },
    Key {
        name: "mcp_servers.NAME.args",
        kind: "array of strings, default empty",
        doc: "The program's arguments.",
    },
    Key {
        name: "mcp_servers.NAME.env",
        kind: "table of strings, default empty",
        doc: "Variables added to the program's environment.",
    },
    Key {
        name: "mcp_servers.NAME.cwd",
        kind: "path, optional",
        doc: "The program's working directory.",
    },
    Key {
        name: "mcp_servers.NAME.env_vars",
        kind: "array of strings, default empty",
        doc: "Names of codex's own environment variables passed on to the program (it otherwise gets only a minimal environment and `env`).",
    },
    Key {
        name: "mcp_servers.NAME.url",
        kind: "string",
        doc: "A streamable-HTTP MCP server's endpoint, instead of `command`.",
    },
    Key {
        name: "mcp_servers.NAME.bearer_token_env_var",
        kind: "string, optional",
        doc: "The environment variable whose value is sent as `Authorization: Bearer` to a `url` server.",
    },
    Key {
        name: "mcp_servers.NAME.http_headers",
        kind: "table of strings, default empty",
        doc: "Headers sent to a `url` server with every request.",
    },
    Key {
        name: "mcp_servers.NAME.env_http_headers",
        kind: "table of strings, default empty",
        doc: "Headers sent to a `url` server whose values come from environment variables: header name → variable name (an unset variable sends no header).",
    },
    Key {
        name: "mcp_servers.NAME.startup_timeout_sec",
        kind: "seconds, default 10",
        doc: "How long the server may take to start and list its tools.",
    },
    Key {
        name: "mcp_servers.NAME.startup_timeout_ms",
        kind: "milliseconds, optional",
        doc: "The same limit in milliseconds (Codex 0.169's older spelling); set one of the two.",
    },
    Key {
        name: "mcp_servers.NAME.tool_timeout_sec",
        kind: "seconds, default 60",
        doc: "How long one tool call may take.",
    },
    Key {
        name: "mcp_servers.NAME.enabled",
        kind: "bool, default true",
        doc: "`false` keeps the entry without starting the server.",
    },
    Key {
        name: "mcp_servers.NAME.required",
        kind: "bool, default false",
        doc: "The session does not start when this server fails to start (otherwise it goes on without it, with a warning).",
    },
    Key {
        name: "mcp_servers.NAME.enabled_tools",
        kind: "array of strings, optional",
        doc: "Only these of the server's tools are offered to the model.",
    },
    Key {
        name: "mcp_servers.NAME.disabled_tools",
        kind: "array of strings, default empty",
        doc: "These of the server's tools are not offered to the model (applied after `enabled_tools`).",
    },
    Key {
        name: "oss_provider",
        kind: "`ollama` or `lmstudio`, default `ollama`",
        doc: "The local provider `--oss` uses when `--local-provider` names none; `--oss` asks it for `gpt-oss:20b` (Ollama) or `openai/gpt-oss-20b` (LM Studio) unless `--model` names another.",
    },
    Key {
        name: "features.NAME",
        kind: "bool",
        doc: "Codex 0.169's feature flags, which `--enable NAME` / `--disable NAME` set; codex has none of its own, so they are accepted and change nothing.",
    },
    Key {
        name: "projects.PATH.trust_level",
        kind: "`trusted` or `untrusted`, optional",
        doc: "`trusted` lets `codex exec` run in the directory PATH (absolute, as a quoted key) even though it is not in a git work tree; elsewhere it refuses unless given `--skip-git-repo-check`.",
    },
];

/// [`KEYS`] as a Markdown table.
pub fn markdown() -> String {
    let mut s = String::from("| Key | Type | Meaning |\n| --- | --- | --- |\n");
    for k in KEYS {
        s.push_str(&format!("| `{}` | {} | {} |\n", k.name, k.kind, k.doc));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each documented top-level key is one [`crate::resolve`] accepts with a value of the
    /// documented kind, so the table cannot drift from the parser unnoticed.
    #[test]
    fn documented_keys_are_read_by_the_parser() {
        let file = r#"
            model = "m"
            model_provider = "local"
            profile = "p"
            notify = ["notify-send", "codex"]
            sandbox_mode = "workspace-write"
            sandbox_allow_weaker = true
            approval_policy = "untrusted"
            model_context_window = 32000
            model_reasoning_effort = "high"
            model_reasoning_summary = "detailed"
            model_verbosity = "low"
            hide_agent_reasoning = true
            show_raw_agent_reasoning = false
            project_doc_max_bytes = 100
            project_doc_fallback_filenames = ["CLAUDE.md"]
            auth_issuer = "http://127.0.0.1:2"
            oss_provider = "lmstudio"
            [shell_environment_policy]
            inherit = "core"
            ignore_default_excludes = true
            exclude = ["A*"]
            include_only = ["P*"]
            set = { PX = "1" }
            experimental_use_profile = false
            [history]
            persistence = "none"
            max_bytes = 1000
            [model_providers.local]
            name = "Local"
            base_url = "http://127.0.0.1:1/v1"
            env_key = "LOCAL_KEY"
            wire_api = "chat"
            requires_openai_auth = true
            [profiles.p]
            model = "from-profile"
            [sandbox_workspace_write]
            network_access = true
            writable_roots = ["/srv"]
            exclude_slash_tmp = true
            exclude_tmpdir_env_var = true
            [mcp_servers.files]
            command = "npx"
            args = ["-y", "server"]
            env = { ROOT = "/srv" }
            cwd = "/srv"
            startup_timeout_ms = 5000
            tool_timeout_sec = 30.5
            enabled = false
            required = true
            env_vars = ["HOME"]
            enabled_tools = ["read", "list"]
            disabled_tools = ["list"]
            [mcp_servers.web]
            url = "https://example.invalid/mcp"
            bearer_token_env_var = "WEB_TOKEN"
            http_headers = { "X-Team" = "core" }
            env_http_headers = { "X-Key" = "WEB_KEY" }
            startup_timeout_sec = 5
            [features]
            web_search_request = true
            [projects."/srv/app"]
            trust_level = "trusted"
        "#;
        let table: toml::Table = file.parse().expect("toml");
        for k in KEYS {
            let top = k.name.split('.').next().expect("name");
            assert!(table.contains_key(top), "{} is not in the sample", k.name);
        }
        assert_eq!(crate::known::unknown_keys(&table), Vec::<String>::new());
        let c = crate::resolve(table, &crate::Options::default()).expect("resolve");
        assert_eq!(c.model, "from-profile");
        assert_eq!(c.model_provider.wire_api, crate::WireApi::Chat);
        assert!(c.sandbox_workspace_write.network_access);
        assert!(c.sandbox_allow_weaker);
        assert!(
            c.sandbox_policy(std::path::Path::new("/w"), std::path::Path::new("/h"))
                .allow_weaker
        );
        assert_eq!(c.notify, ["notify-send", "codex"]);
        assert_eq!(c.approval_policy, crate::ApprovalPolicy::Untrusted);
        assert_eq!(c.model_context_window, Some(32_000));
        assert_eq!(c.model_reasoning_effort.as_deref(), Some("high"));
        assert_eq!(
            c.model_reasoning_summary,
            Some(crate::ReasoningSummary::Detailed)
        );
        assert_eq!(c.model_verbosity, Some(crate::Verbosity::Low));
        assert!(c.hide_agent_reasoning);
        assert_eq!(c.project_doc_max_bytes, 100);
        assert_eq!(c.project_doc_fallback_filenames, ["CLAUDE.md"]);
        assert_eq!(c.shell_environment_policy.inherit, crate::Inherit::Core);
        assert_eq!(c.history.persistence, crate::HistoryPersistence::None);
        assert_eq!(c.history.max_bytes, Some(1000));
        assert!(c.sandbox_workspace_write.exclude_slash_tmp);
        assert_eq!(c.auth_issuer, "http://127.0.0.1:2");
        assert!(c.model_provider.requires_openai_auth);
        assert_eq!(
            c.projects["/srv/app"].trust_level.as_deref(),
            Some("trusted")
        );
        assert_eq!(c.oss_provider.as_deref(), Some("lmstudio"));
        let files = &c.mcp_servers["files"];
        assert!(!files.enabled);
        assert!(files.required);
        assert_eq!(files.startup_timeout, std::time::Duration::from_secs(5));
        assert!(files.offers("read") && !files.offers("list") && !files.offers("write"));
        assert_eq!(files.tool_timeout, std::time::Duration::from_millis(30_500));
        assert!(matches!(
            &c.mcp_servers["web"].transport,
            crate::mcp::McpTransport::StreamableHttp { bearer_token_env_var: Some(v), .. } if v == "WEB_TOKEN"
        ));
    }
}
