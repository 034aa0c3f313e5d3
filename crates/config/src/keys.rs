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
        doc: "Any of these keys, laid over the top level by `--profile NAME`.",
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
        name: "mcp_servers.NAME.startup_timeout_sec",
        kind: "seconds, default 10",
        doc: "How long the server may take to start and list its tools.",
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
            oss_provider = "lmstudio"
            [model_providers.local]
            name = "Local"
            base_url = "http://127.0.0.1:1/v1"
            env_key = "LOCAL_KEY"
            wire_api = "chat"
            [profiles.p]
            model = "from-profile"
            [sandbox_workspace_write]
            network_access = true
            writable_roots = ["/srv"]
            [mcp_servers.files]
            command = "npx"
            args = ["-y", "server"]
            env = { ROOT = "/srv" }
            cwd = "/srv"
            startup_timeout_sec = 5
            tool_timeout_sec = 30.5
            enabled = false
            [mcp_servers.web]
            url = "https://example.invalid/mcp"
            bearer_token_env_var = "WEB_TOKEN"
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
        assert_eq!(
            c.projects["/srv/app"].trust_level.as_deref(),
            Some("trusted")
        );
        assert_eq!(c.oss_provider.as_deref(), Some("lmstudio"));
        let files = &c.mcp_servers["files"];
        assert!(!files.enabled);
        assert_eq!(files.tool_timeout, std::time::Duration::from_millis(30_500));
        assert!(matches!(
            &c.mcp_servers["web"].transport,
            crate::mcp::McpTransport::StreamableHttp { bearer_token_env_var: Some(v), .. } if v == "WEB_TOKEN"
        ));
    }
}
