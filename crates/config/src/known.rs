//! Which keys of config.toml are known, so that an unknown one (usually a typo) is named in a
//! warning, or with `--strict-config` refused, instead of being silently ignored.
//!
//! Known means: a key codex reads ([`crate::KEYS`]), a key another part of codex reads from the
//! same file (the installer's `release_base_url` and `update_check`), or a key Codex 0.169 reads
//! that is accepted here without acting on it ([`NOT_LIKE_0_169`] says why for each), so that a
//! config.toml written for Codex 0.169 loads here unchanged.

/// The installer's keys in the same file (docs/installer.md). Codex 0.169 does not know them.
pub const INSTALLER_KEYS: &[&str] = &["release_base_url", "update_check"];

/// Every top-level key Codex 0.169 accepts under `--strict-config`, as found by running it
/// (`exec --strict-config` on a file holding each key alone). The oracle test in
/// crates/codex-cli/tests/config_compat.rs checks that this codex accepts each of them too.
pub const KEYS_0_169: &[&str] = &[
    "agents",
    "allow_login_shell",
    "analytics",
    "approval_policy",
    "approvals_reviewer",
    "apps",
    "audio",
    "background_terminal_max_timeout",
    "chatgpt_base_url",
    "check_for_update_on_startup",
    "cli_auth_credentials_store",
    "compact_prompt",
    "default_permissions",
    "developer_instructions",
    "disable_paste_burst",
    "experimental_compact_prompt_file",
    "experimental_realtime_ws_base_url",
    "experimental_use_unified_exec_tool",
    "features",
    "feedback",
    "file_opener",
    "forced_chatgpt_workspace_id",
    "forced_login_method",
    "ghost_snapshot",
    "hide_agent_reasoning",
    "history",
    "hooks",
    "include_apps_instructions",
    "include_environment_context",
    "include_permissions_instructions",
    "instructions",
    "js_repl_node_path",
    "log_dir",
    "marketplaces",
    "mcp_oauth_callback_port",
    "mcp_oauth_callback_url",
    "mcp_oauth_credentials_store",
    "mcp_servers",
    "memories",
    "model",
    "model_auto_compact_token_limit",
    "model_catalog_json",
    "model_context_window",
    "model_instructions_file",
    "model_provider",
    "model_providers",
    "model_reasoning_effort",
    "model_reasoning_summary",
    "model_verbosity",
    "notice",
    "notify",
    "openai_base_url",
    "oss_provider",
    "otel",
    "permissions",
    "personality",
    "plan_mode_reasoning_effort",
    "plugins",
    "profile",
    "profiles",
    "project_doc_fallback_filenames",
    "project_doc_max_bytes",
    "project_root_markers",
    "projects",
    "realtime",
    "review_model",
    "sandbox_mode",
    "sandbox_workspace_write",
    "service_tier",
    "shell_environment_policy",
    "show_raw_agent_reasoning",
    "skills",
    "sqlite_home",
    "suppress_unstable_features_warning",
    "tool_output_token_limit",
    "tools",
    "tui",
    "web_search",
    "windows",
];

/// Keys of Codex 0.169 that this codex accepts but does not act on, or acts on differently,
/// each with why: the list docs/compatibility.md is written from. A `*` entry covers every key
/// of 0.169's not named in [`crate::KEYS`] and not listed here.
pub const NOT_LIKE_0_169: &[(&str, &str)] = &[
    (
        "*",
        "Any other key Codex 0.169 reads (see KEYS_0_169) is accepted so that its config.toml loads, and ignored: it configures a feature this codex does not have (OpenTelemetry, plugins, apps, realtime audio, Windows, ...).",
    ),
    (
        "profile, profiles.NAME.*",
        "0.169 refuses these legacy profiles (`profile = NAME`, or --profile NAME while a [profiles.NAME] table exists) and reads only $CODEX_HOME/NAME.config.toml; here they are still read, NAME.config.toml laid over the table. 0.169 also allows only some keys in the table; here any known key may be in it.",
    ),
    (
        "profile (undefined)",
        "0.169 goes on without a profile that is defined nowhere; here it is an error naming where it was looked for.",
    ),
    (
        "show_raw_agent_reasoning",
        "Accepted and ignored: no provider this codex speaks streams raw reasoning text, only summaries.",
    ),
    (
        "model_providers.ID.wire_api, model_providers.ID.name",
        "0.169 refuses `wire_api = \"chat\"` and a provider without `name`; here Chat Completions is supported (Ollama, llama.cpp, vLLM) and `name` is optional.",
    ),
    (
        "model_providers.ID.*",
        "Only name, base_url, env_key, wire_api and requires_openai_auth are acted on; 0.169's other provider keys (query_params, http_headers, env_http_headers, request_max_retries, stream_max_retries, stream_idle_timeout_ms, experimental_bearer_token, env_key_instructions, auth, supports_websockets, websocket_connect_timeout_ms) are accepted and ignored.",
    ),
    (
        "mcp_servers.NAME.oauth, scopes, oauth_resource, bearer_token, tools",
        "Accepted and ignored: OAuth login to MCP servers and per-tool settings are not supported; use bearer_token_env_var.",
    ),
    (
        "shell_environment_policy.ignore_default_excludes",
        "Defaults to false here, so names containing KEY, SECRET or TOKEN are removed unless the user keeps them; 0.169 keeps them by default (its commands even see the provider's key variable, which this codex never hands over). Set it explicitly and both behave alike (checked in config_compat.rs).",
    ),
    (
        "model_reasoning_summary, model_verbosity",
        "Sent only when set; 0.169 sends reasoning.summary = auto unless told otherwise, and leaves text.verbosity out for models it does not know.",
    ),
    (
        "mcp_servers.NAME (stdio)",
        "As in 0.169, a stdio server gets only HOME, LOGNAME, PATH, SHELL, USER, LANG, LC_ALL, TERM, TMPDIR and TZ from codex's environment, plus env_vars and env (so an API key in codex's environment does not reach it unless named).",
    ),
    (
        "shell_environment_policy.experimental_use_profile",
        "Accepted and ignored: commands never run through the user's shell profile.",
    ),
    (
        "history.max_bytes",
        "Acted on as in 0.169 (the oldest entries go once the file is larger), by the interactive codex only, which is the only writer of history.jsonl.",
    ),
    (
        "release_base_url, update_check",
        "The installer's keys: not in 0.169, which refuses them under --strict-config.",
    ),
];

/// The configuration half of docs/compatibility.md: every top-level key Codex 0.169 reads with
/// what this codex does with it, the differences ([`NOT_LIKE_0_169`]), and the keys only this
/// codex reads.
pub fn compat_markdown() -> String {
    let ours_reads = |key: &str| {
        crate::KEYS
            .iter()
            .any(|k| k.name.split('.').next() == Some(key))
    };
    let mut s = String::from(
        "Every top-level key Codex 0.169 accepts under `--strict-config` (found by running it), \
         with ours beside it. *read*: acted on (docs/agent.md says how). *accepted*: loads \
         without a warning and changes nothing. crates/codex-cli/tests/config_compat.rs loads \
         the keys of issue 22 with both programs and compares what each accepts.\n\n\
         | 0.169 key | Ours |\n| --- | --- |\n",
    );
    let mut keys: Vec<&str> = KEYS_0_169.to_vec();
    keys.sort_unstable();
    for key in keys {
        let ours = if ours_reads(key) { "read" } else { "accepted" };
        s.push_str(&format!("| `{key}` | {ours} |\n"));
    }
    s.push_str("\n### Where ours differs\n\n| Keys | How and why |\n| --- | --- |\n");
    for (keys, why) in NOT_LIKE_0_169 {
        s.push_str(&format!("| `{keys}` | {why} |\n"));
    }
    s.push_str("\n### Keys only this codex reads\n\n");
    let mut only: Vec<&str> = crate::KEYS
        .iter()
        .filter_map(|k| k.name.split('.').next())
        .filter(|k| !KEYS_0_169.contains(k))
        .chain(INSTALLER_KEYS.iter().copied())
        .collect();
    only.sort_unstable();
    only.dedup();
    let only: Vec<String> = only.iter().map(|k| format!("`{k}`")).collect();
    s.push_str(&format!(
        "{} (0.169 refuses them under `--strict-config` and ignores them otherwise).\n",
        only.join(", ")
    ));
    s
}

/// Keys of `[mcp_servers.NAME]`.
const MCP_SERVER: &[&str] = &[
    "command",
    "args",
    "env",
    "env_vars",
    "cwd",
    "url",
    "bearer_token_env_var",
    "http_headers",
    "env_http_headers",
    "startup_timeout_sec",
    "startup_timeout_ms",
    "tool_timeout_sec",
    "enabled",
    "required",
    "enabled_tools",
    "disabled_tools",
    // 0.169's, accepted and ignored (NOT_LIKE_0_169).
    "bearer_token",
    "oauth",
    "scopes",
    "oauth_resource",
    "tools",
];

/// Keys of `[model_providers.ID]`.
const MODEL_PROVIDER: &[&str] = &[
    "name",
    "base_url",
    "env_key",
    "wire_api",
    // 0.169's, accepted and ignored (NOT_LIKE_0_169).
    "env_key_instructions",
    "experimental_bearer_token",
    "query_params",
    "http_headers",
    "env_http_headers",
    "request_max_retries",
    "stream_max_retries",
    "stream_idle_timeout_ms",
    "requires_openai_auth",
    "supports_websockets",
    "websocket_connect_timeout_ms",
    "auth",
];

const SANDBOX_WORKSPACE_WRITE: &[&str] = &[
    "network_access",
    "writable_roots",
    "exclude_slash_tmp",
    "exclude_tmpdir_env_var",
];

const HISTORY: &[&str] = &["persistence", "max_bytes"];

const SHELL_ENVIRONMENT_POLICY: &[&str] = &[
    "inherit",
    "ignore_default_excludes",
    "exclude",
    "include_only",
    "set",
    "experimental_use_profile",
];

/// The dotted paths of the unknown keys in `table`, a whole config.toml (or a profile file), in
/// file order as far as TOML tables keep it (sorted).
pub fn unknown_keys(table: &toml::Table) -> Vec<String> {
    let mut out = Vec::new();
    top_level(table, "", &mut out);
    out
}

fn top_level(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (key, value) in table {
        let path = format!("{prefix}{key}");
        let known = KEYS_0_169.contains(&key.as_str())
            || INSTALLER_KEYS.contains(&key.as_str())
            || crate::KEYS
                .iter()
                .any(|k| k.name.split('.').next() == Some(key.as_str()));
        if !known {
            out.push(path);
            continue;
        }
        let Some(inner) = value.as_table() else {
            continue;
        };
        match key.as_str() {
            "mcp_servers" => per_name(inner, &path, MCP_SERVER, out),
            "model_providers" => per_name(inner, &path, MODEL_PROVIDER, out),
            "sandbox_workspace_write" => fields(inner, &path, SANDBOX_WORKSPACE_WRITE, out),
            "history" => fields(inner, &path, HISTORY, out),
            "shell_environment_policy" => fields(inner, &path, SHELL_ENVIRONMENT_POLICY, out),
            // A profile holds top-level keys, but not profiles of its own.
            "profiles" if prefix.is_empty() => {
                for (name, profile) in inner {
                    if let Some(p) = profile.as_table() {
                        top_level(p, &format!("{path}.{name}."), out);
                    }
                }
            }
            // Tables of 0.169's that are accepted whole (tui, features, projects, ...).
            _ => {}
        }
    }
}

fn per_name(table: &toml::Table, prefix: &str, allowed: &[&str], out: &mut Vec<String>) {
    for (name, value) in table {
        if let Some(t) = value.as_table() {
            fields(t, &format!("{prefix}.{name}"), allowed, out);
        }
    }
}

fn fields(table: &toml::Table, prefix: &str, allowed: &[&str], out: &mut Vec<String>) {
    for key in table.keys() {
        if !allowed.contains(&key.as_str()) {
            out.push(format!("{prefix}.{key}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(text: &str) -> Vec<String> {
        unknown_keys(&text.parse::<toml::Table>().expect("toml"))
    }

    #[test]
    fn keys_codex_0_169_or_the_installer_read_are_known() {
        assert!(
            unknown(
                "model = \"m\"\nrelease_base_url = \"x\"\nupdate_check = false\nfile_opener = \"vscode\"\n[tui]\nanything = 1\n[features]\nx = true\n"
            )
            .is_empty()
        );
    }

    #[test]
    fn unknown_keys_are_named_with_their_path_at_every_level() {
        assert_eq!(
            unknown(
                "modle = \"typo\"\n[mcp_servers.a]\ncommand = \"x\"\nenabled_tool = []\n[sandbox_workspace_write]\nnetwork = true\n[model_providers.p]\nbase_url = \"u\"\nkey = 1\n[history]\npersist = \"none\"\n[shell_environment_policy]\ninherits = \"all\"\n[profiles.fast]\nmodel = \"m\"\nmodle = \"n\"\n[profiles.fast.mcp_servers.b]\nurl = \"u\"\nheader = 1\n"
            ),
            [
                "history.persist",
                "mcp_servers.a.enabled_tool",
                "model_providers.p.key",
                "modle",
                "profiles.fast.mcp_servers.b.header",
                "profiles.fast.modle",
                "sandbox_workspace_write.network",
                "shell_environment_policy.inherits",
            ]
        );
    }
}
