//! `[mcp_servers.NAME]`: the MCP servers whose tools the agent offers the model, and the in-place
//! edits `codex mcp add` and `codex mcp remove` make to config.toml.
//!
//! Edits go through `toml_edit`, so the user's comments, key order and formatting survive them;
//! the file is replaced with a rename, so a reader never sees half of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// How long a server may take to start and list its tools, unless `startup_timeout_sec` says.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one tool call may take, unless `tool_timeout_sec` says.
pub const DEFAULT_TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// How codex reaches a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "transport", rename_all = "snake_case")]
pub enum McpTransport {
    /// A program codex starts, speaking MCP over its stdin and stdout.
    Stdio {
        /// The program.
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// Variables added to its environment.
        env: BTreeMap<String, String>,
        /// Its working directory (default: codex's).
        cwd: Option<PathBuf>,
        /// Names of codex's own environment variables passed through to it (`env_vars`).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        env_vars: Vec<String>,
    },
    /// A server at a URL, speaking MCP's streamable HTTP transport.
    StreamableHttp {
        /// The endpoint.
        url: String,
        /// The environment variable holding a bearer token to send, if any.
        bearer_token_env_var: Option<String>,
        /// Headers sent with every request (`http_headers`).
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        http_headers: BTreeMap<String, String>,
        /// Headers whose value is read from an environment variable: header → variable
        /// (`env_http_headers`); an unset variable sends no header.
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        env_http_headers: BTreeMap<String, String>,
    },
}

/// One `[mcp_servers.NAME]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct McpServer {
    /// How to reach it.
    #[serde(flatten)]
    pub transport: McpTransport,
    /// Limit for starting it and listing its tools.
    #[serde(serialize_with = "secs")]
    pub startup_timeout: Duration,
    /// Limit for each tool call.
    #[serde(serialize_with = "secs")]
    pub tool_timeout: Duration,
    /// `enabled = false` keeps the entry but does not start the server.
    pub enabled: bool,
    /// `required = true`: the session does not start without it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// `enabled_tools`: when set, only these of its tools are offered to the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled_tools: Option<Vec<String>>,
    /// `disabled_tools`: these of its tools are not offered (after `enabled_tools`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub disabled_tools: Vec<String>,
}

impl McpServer {
    /// Whether the tool named `tool` (its own name on the server) is offered to the model.
    pub fn offers(&self, tool: &str) -> bool {
        self.enabled_tools
            .as_ref()
            .is_none_or(|only| only.iter().any(|t| t == tool))
            && !self.disabled_tools.iter().any(|t| t == tool)
    }
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// The table as written, before its shape is checked.
/// Unknown keys are not refused here: [`crate::known`] names them in a warning.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawServer {
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    cwd: Option<PathBuf>,
    url: Option<String>,
    bearer_token_env_var: Option<String>,
    startup_timeout_sec: Option<f64>,
    startup_timeout_ms: Option<u64>,
    tool_timeout_sec: Option<f64>,
    enabled: Option<bool>,
    #[serde(default)]
    required: bool,
    enabled_tools: Option<Vec<String>>,
    #[serde(default)]
    disabled_tools: Vec<String>,
    #[serde(default)]
    env_vars: Vec<String>,
    #[serde(default)]
    http_headers: BTreeMap<String, String>,
    #[serde(default)]
    env_http_headers: BTreeMap<String, String>,
}

/// Checks each table: exactly one of `command` and `url`, and timeouts that are positive numbers.
pub(crate) fn resolve(
    raw: BTreeMap<String, RawServer>,
) -> Result<BTreeMap<String, McpServer>, ConfigError> {
    let mut out = BTreeMap::new();
    for (name, r) in raw {
        check_name(&name)?;
        let bad = |why: &str| ConfigError::Invalid(format!("mcp_servers.{name}: {why}"));
        let transport = match (r.command, r.url) {
            (Some(command), None) => {
                if r.bearer_token_env_var.is_some()
                    || !r.http_headers.is_empty()
                    || !r.env_http_headers.is_empty()
                {
                    return Err(bad(
                        "bearer_token_env_var, http_headers and env_http_headers are for url servers, not command ones",
                    ));
                }
                McpTransport::Stdio {
                    command,
                    args: r.args,
                    env: r.env,
                    cwd: r.cwd,
                    env_vars: r.env_vars,
                }
            }
            (None, Some(url)) => {
                if !r.args.is_empty()
                    || !r.env.is_empty()
                    || r.cwd.is_some()
                    || !r.env_vars.is_empty()
                {
                    return Err(bad(
                        "args, env, env_vars and cwd are for command servers, not url ones",
                    ));
                }
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(bad(&format!("url {url:?} is not an http(s) URL")));
                }
                McpTransport::StreamableHttp {
                    url,
                    bearer_token_env_var: r.bearer_token_env_var,
                    http_headers: r.http_headers,
                    env_http_headers: r.env_http_headers,
                }
            }
            (Some(_), Some(_)) => {
                return Err(bad(
                    "set command (a stdio server) or url (a streamable HTTP server), not both",
                ));
            }
            (None, None) => {
                return Err(bad(
                    "set command (a stdio server) or url (a streamable HTTP server)",
                ));
            }
        };
        let timeout = |v: Option<f64>, key: &str, default: Duration| match v {
            None => Ok(default),
            Some(s) if s.is_finite() && s > 0.0 && s <= 86_400.0 => Ok(Duration::from_secs_f64(s)),
            Some(s) => Err(bad(&format!(
                "{key} = {s} is not a number of seconds between 0 and 86400"
            ))),
        };
        let startup_sec = match (r.startup_timeout_sec, r.startup_timeout_ms) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "set startup_timeout_sec or startup_timeout_ms, not both",
                ));
            }
            // 0.169's older spelling, in milliseconds.
            (None, Some(ms)) => Some(ms as f64 / 1000.0),
            (s, None) => s,
        };
        out.insert(
            name.clone(),
            McpServer {
                transport,
                startup_timeout: timeout(
                    startup_sec,
                    "startup_timeout_sec",
                    DEFAULT_STARTUP_TIMEOUT,
                )?,
                tool_timeout: timeout(
                    r.tool_timeout_sec,
                    "tool_timeout_sec",
                    DEFAULT_TOOL_TIMEOUT,
                )?,
                enabled: r.enabled.unwrap_or(true),
                required: r.required,
                enabled_tools: r.enabled_tools,
                disabled_tools: r.disabled_tools,
            },
        );
    }
    Ok(out)
}

/// A server name must be usable in the tool names offered to the model (`NAME__tool`): letters,
/// digits, `_` and `-`, at most 32 characters.
pub fn check_name(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Invalid(format!(
            "MCP server name {name:?} must be 1 to 32 letters, digits, `_` or `-`"
        )))
    }
}

/// The servers configured in the file at `path` (a missing file has none), without profiles or
/// overrides: what `codex mcp list` shows.
pub fn read_servers(path: &Path) -> Result<BTreeMap<String, McpServer>, ConfigError> {
    #[derive(Deserialize)]
    struct Only {
        #[serde(default)]
        mcp_servers: BTreeMap<String, RawServer>,
    }
    let text = read_or_empty(path)?;
    let only: Only = toml::from_str(&text).map_err(|e| ConfigError::File {
        path: path.to_owned(),
        detail: e.message().to_string(),
    })?;
    resolve(only.mcp_servers)
}

pub(crate) fn read_or_empty(path: &Path) -> Result<String, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(ConfigError::File {
            path: path.to_owned(),
            detail: e.to_string(),
        }),
    }
}

pub(crate) fn parse_doc(path: &Path, text: &str) -> Result<toml_edit::DocumentMut, ConfigError> {
    text.parse::<toml_edit::DocumentMut>()
        .map_err(|e| ConfigError::File {
            path: path.to_owned(),
            detail: e.message().to_string(),
        })
}

/// Writes `[mcp_servers.NAME]` for `server` into the file at `path` (created if missing),
/// replacing a table of that name and leaving everything else as it was. Returns whether a
/// server of that name was replaced.
pub fn add_server(path: &Path, name: &str, server: &McpServer) -> Result<bool, ConfigError> {
    use toml_edit::{Array, Item, Table, value};
    check_name(name)?;
    let text = read_or_empty(path)?;
    let mut doc = parse_doc(path, &text)?;
    let servers = doc
        .entry("mcp_servers")
        .or_insert_with(|| {
            let mut t = Table::new();
            // `[mcp_servers.NAME]` headers only, no empty `[mcp_servers]` one.
            t.set_implicit(true);
            Item::Table(t)
        })
        .as_table_mut()
        .ok_or_else(|| ConfigError::Invalid("mcp_servers in config.toml is not a table".into()))?;
    let replaced = servers.contains_key(name);
    let mut t = Table::new();
    match &server.transport {
        McpTransport::Stdio {
            command,
            args,
            env,
            cwd,
            env_vars,
        } => {
            t["command"] = value(command.as_str());
            if !args.is_empty() {
                t["args"] = value(args.iter().map(String::as_str).collect::<Array>());
            }
            if let Some(cwd) = cwd {
                t["cwd"] = value(cwd.display().to_string());
            }
            if !env.is_empty() {
                let mut e = toml_edit::InlineTable::new();
                for (k, v) in env {
                    e.insert(k, v.as_str().into());
                }
                t["env"] = value(e);
            }
            if !env_vars.is_empty() {
                t["env_vars"] = value(env_vars.iter().map(String::as_str).collect::<Array>());
            }
        }
        McpTransport::StreamableHttp {
            url,
            bearer_token_env_var,
            http_headers,
            env_http_headers,
        } => {
            t["url"] = value(url.as_str());
            if let Some(var) = bearer_token_env_var {
                t["bearer_token_env_var"] = value(var.as_str());
            }
            for (key, map) in [
                ("http_headers", http_headers),
                ("env_http_headers", env_http_headers),
            ] {
                if !map.is_empty() {
                    let mut e = toml_edit::InlineTable::new();
                    for (k, v) in map {
                        e.insert(k, v.as_str().into());
                    }
                    t[key] = value(e);
                }
            }
        }
    }
    if server.startup_timeout != DEFAULT_STARTUP_TIMEOUT {
        t["startup_timeout_sec"] = value(server.startup_timeout.as_secs_f64());
    }
    if server.tool_timeout != DEFAULT_TOOL_TIMEOUT {
        t["tool_timeout_sec"] = value(server.tool_timeout.as_secs_f64());
    }
    if !server.enabled {
        t["enabled"] = value(false);
    }
    if server.required {
        t["required"] = value(true);
    }
    if let Some(only) = &server.enabled_tools {
        t["enabled_tools"] = value(only.iter().map(String::as_str).collect::<Array>());
    }
    if !server.disabled_tools.is_empty() {
        t["disabled_tools"] = value(
            server
                .disabled_tools
                .iter()
                .map(String::as_str)
                .collect::<Array>(),
        );
    }
    match servers.get_mut(name).and_then(Item::as_table_mut) {
        // In place: the table keeps its position and the comments above it.
        Some(existing) => {
            let decor = existing.decor().clone();
            *existing = t;
            *existing.decor_mut() = decor;
        }
        None => {
            servers.insert(name, Item::Table(t));
        }
    }
    write_atomically(path, &doc.to_string())?;
    Ok(replaced)
}

/// Removes `[mcp_servers.NAME]` from the file at `path`, leaving everything else as it was.
/// Returns whether there was such a server.
pub fn remove_server(path: &Path, name: &str) -> Result<bool, ConfigError> {
    let text = read_or_empty(path)?;
    let mut doc = parse_doc(path, &text)?;
    let Some(servers) = doc
        .get_mut("mcp_servers")
        .and_then(|i| i.as_table_like_mut())
    else {
        return Ok(false);
    };
    if servers.remove(name).is_none() {
        return Ok(false);
    }
    if servers.is_empty() {
        doc.remove("mcp_servers");
    }
    write_atomically(path, &doc.to_string())?;
    Ok(true)
}

pub(crate) fn write_atomically(path: &Path, text: &str) -> Result<(), ConfigError> {
    let fail = |e: std::io::Error| ConfigError::File {
        path: path.to_owned(),
        detail: format!("cannot write it: {e}"),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let tmp = path.with_extension(format!("toml.tmp-{}", std::process::id()));
    std::fs::write(&tmp, text).map_err(fail)?;
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        // Keep the file's permissions: it may hold tokens in env tables.
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdio(command: &str, args: &[&str], env: &[(&str, &str)]) -> McpServer {
        McpServer {
            transport: McpTransport::Stdio {
                command: command.into(),
                args: args.iter().map(|s| s.to_string()).collect(),
                env: env
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                cwd: None,
                env_vars: Vec::new(),
            },
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            tool_timeout: DEFAULT_TOOL_TIMEOUT,
            enabled: true,
            required: false,
            enabled_tools: None,
            disabled_tools: Vec::new(),
        }
    }

    #[test]
    fn add_and_remove_keep_comments_and_other_tables_byte_for_byte() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("config.toml");
        let original =
            "# my settings\nmodel = \"o3\" # the good one\n\n[profiles.fast]\nmodel = \"mini\"\n";
        std::fs::write(&path, original).expect("write");

        assert!(
            !add_server(&path, "docs", &stdio("npx", &["-y", "srv"], &[("K", "v")])).expect("add")
        );
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with(original), "{text}");
        insta::assert_snapshot!(&text[original.len()..], @r#"

        [mcp_servers.docs]
        command = "npx"
        args = ["-y", "srv"]
        env = { K = "v" }
        "#);
        let servers = read_servers(&path).expect("read back");
        assert_eq!(servers["docs"], stdio("npx", &["-y", "srv"], &[("K", "v")]));

        // Replacing keeps the comment above the table.
        let with_comment = text.replace("[mcp_servers.docs]", "# docs server\n[mcp_servers.docs]");
        std::fs::write(&path, &with_comment).expect("write");
        assert!(add_server(&path, "docs", &stdio("docs-server", &[], &[])).expect("replace"));
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            text.contains("# docs server\n[mcp_servers.docs]\ncommand = \"docs-server\"\n"),
            "{text}"
        );

        assert!(remove_server(&path, "docs").expect("remove"));
        assert!(!remove_server(&path, "docs").expect("again"));
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with(original), "{text}");
        assert!(!text.contains("mcp_servers"), "{text}");
    }

    #[test]
    fn a_table_must_name_a_command_or_a_url_and_sane_timeouts() {
        let parse = |toml: &str| -> String {
            let dir = tempfile::tempdir().expect("tmp");
            let path = dir.path().join("config.toml");
            std::fs::write(&path, toml).expect("write");
            match read_servers(&path) {
                Ok(s) => format!("{s:?}"),
                Err(e) => e.to_string(),
            }
        };
        insta::assert_snapshot!(parse("[mcp_servers.a]\nargs = [\"x\"]\n"), @"configuration: mcp_servers.a: set command (a stdio server) or url (a streamable HTTP server)");
        insta::assert_snapshot!(parse("[mcp_servers.a]\ncommand = \"x\"\nurl = \"https://h\"\n"), @"configuration: mcp_servers.a: set command (a stdio server) or url (a streamable HTTP server), not both");
        insta::assert_snapshot!(parse("[mcp_servers.a]\ncommand = \"x\"\ntool_timeout_sec = 0\n"), @"configuration: mcp_servers.a: tool_timeout_sec = 0 is not a number of seconds between 0 and 86400");
        insta::assert_snapshot!(parse("[mcp_servers.\"a b\"]\ncommand = \"x\"\n"), @r#"configuration: MCP server name "a b" must be 1 to 32 letters, digits, `_` or `-`"#);
        // Unknown keys are for the warning (crate::known), not a failed load.
        assert!(parse("[mcp_servers.a]\ncommand = \"x\"\nbogus = 1\n").contains("Stdio"));
        let ok = parse(
            "[mcp_servers.h]\nurl = \"https://h/mcp\"\nbearer_token_env_var = \"TOK\"\nstartup_timeout_sec = 2.5\n",
        );
        assert!(ok.contains("StreamableHttp") && ok.contains("2.5s"), "{ok}");
    }
}
