//! The agent's side of the Model Context Protocol: [`McpManager::start`] starts every enabled
//! `[mcp_servers.NAME]` at once (official SDK, `rmcp`), lists their tools and offers them under
//! qualified names (`NAME__tool`); [`McpManager::call`] runs one.
//!
//! A server that cannot be started, does not answer in its `startup_timeout_sec`, or stops later
//! is reported in one line and left out: the session goes on with the others.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use codex_config::mcp::{McpServer, McpTransport};
use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock, Tool};
use rmcp::service::{ClientInitializeError, RoleClient, RunningService, ServiceError, ServiceExt};
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransportConfig, StreamableHttpError,
};
use rmcp::transport::{
    DynamicTransportError, IntoTransport, StreamableHttpClientTransport, TokioChildProcess,
};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

mod http;

/// Separates the server's name from the tool's in the name the model sees.
pub const SEPARATOR: &str = "__";

/// Tool names longer than this are refused by the model APIs.
const MAX_TOOL_NAME: usize = 64;

/// Stderr lines of a server kept for error messages.
const STDERR_LINES: usize = 5;

/// A tool of one server, as offered to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct McpTool {
    /// `SERVER__tool`: what the model calls.
    pub qualified_name: String,
    /// The server's name in config.toml.
    pub server: String,
    /// The tool's own name on its server.
    pub name: String,
    /// Its description, for the model.
    pub description: String,
    /// The JSON schema of its arguments.
    pub input_schema: Value,
}

/// A server that is not available this session, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("MCP server {server} {reason}")]
pub struct StartupFailure {
    /// Its name.
    pub server: String,
    /// What happened: "could not be started: …", "did not answer in 10 s", ….
    pub reason: String,
}

/// Why a tool call has no result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// No such qualified name.
    #[error("unknown MCP tool `{0}`")]
    UnknownTool(String),
    /// The arguments are not a JSON object.
    #[error("arguments for {tool} must be a JSON object: {detail}")]
    BadArguments {
        /// The qualified name.
        tool: String,
        /// What is wrong.
        detail: String,
    },
    /// The call took longer than `tool_timeout_sec`.
    #[error("{tool} did not finish in {secs} s (tool_timeout_sec of MCP server {server})")]
    Timeout {
        /// The qualified name.
        tool: String,
        /// Its server.
        server: String,
        /// The limit.
        secs: f64,
    },
    /// The server failed the request or is gone.
    #[error("MCP server {server} failed the call to {tool}: {detail}")]
    Server {
        /// The qualified name.
        tool: String,
        /// Its server.
        server: String,
        /// What it said, with its last stderr lines when it stopped.
        detail: String,
    },
}

/// What a tool returned.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutcome {
    /// The content as text for the model: text blocks as they are, other blocks as JSON.
    pub text: String,
    /// Whether the tool reported an error (`isError`).
    pub is_error: bool,
}

struct Client {
    service: RunningService<RoleClient, ()>,
    tool_timeout: Duration,
    stderr: Arc<Mutex<Vec<String>>>,
}

/// The running servers of one session. Dropping it stops them.
#[derive(Default)]
pub struct McpManager {
    clients: BTreeMap<String, Client>,
    tools: Vec<McpTool>,
}

impl std::fmt::Debug for McpManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpManager")
            .field("servers", &self.clients.keys().collect::<Vec<_>>())
            .field("tools", &self.tools.len())
            .finish()
    }
}

impl McpManager {
    /// Starts every enabled server in parallel, each within its startup timeout, and lists its
    /// tools. Returns the servers that came up and a failure for each one that did not.
    pub async fn start(servers: &BTreeMap<String, McpServer>) -> (McpManager, Vec<StartupFailure>) {
        let mut tasks = tokio::task::JoinSet::new();
        for (name, server) in servers.iter().filter(|(_, s)| s.enabled) {
            let (name, server) = (name.clone(), server.clone());
            tasks.spawn(async move {
                let result = start_one(&name, &server).await;
                (name, result)
            });
        }
        let mut manager = McpManager::default();
        let mut failures = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((name, Ok((client, tools)))) => {
                    manager.tools.extend(tools);
                    manager.clients.insert(name, client);
                }
                Ok((_, Err(f))) => failures.push(f),
                Err(e) => failures.push(StartupFailure {
                    server: "?".into(),
                    reason: format!("start-up task failed: {e}"),
                }),
            }
        }
        manager
            .tools
            .sort_by(|a, b| a.qualified_name.cmp(&b.qualified_name));
        failures.sort_by(|a, b| a.server.cmp(&b.server));
        (manager, failures)
    }

    /// Every tool on offer, sorted by qualified name.
    pub fn tools(&self) -> &[McpTool] {
        &self.tools
    }

    /// Whether `name` is one of [`McpManager::tools`].
    pub fn has_tool(&self, name: &str) -> bool {
        self.tools.iter().any(|t| t.qualified_name == name)
    }

    /// Calls the tool `qualified` with `arguments` (a JSON object, as the model wrote it).
    pub async fn call(&self, qualified: &str, arguments: &str) -> Result<CallOutcome, CallError> {
        let tool = self
            .tools
            .iter()
            .find(|t| t.qualified_name == qualified)
            .ok_or_else(|| CallError::UnknownTool(qualified.to_owned()))?;
        let client = self
            .clients
            .get(&tool.server)
            .ok_or_else(|| CallError::UnknownTool(qualified.to_owned()))?;
        let arguments = if arguments.trim().is_empty() {
            serde_json::Map::new()
        } else {
            match serde_json::from_str::<Value>(arguments) {
                Ok(Value::Object(m)) => m,
                Ok(other) => {
                    return Err(CallError::BadArguments {
                        tool: qualified.to_owned(),
                        detail: format!("got {other}"),
                    });
                }
                Err(e) => {
                    return Err(CallError::BadArguments {
                        tool: qualified.to_owned(),
                        detail: e.to_string(),
                    });
                }
            }
        };
        let mut params = CallToolRequestParams::new(tool.name.clone());
        params.arguments = Some(arguments);
        let call = client.service.call_tool(params);
        let result = match tokio::time::timeout(client.tool_timeout, call).await {
            Err(_) => {
                return Err(CallError::Timeout {
                    tool: qualified.to_owned(),
                    server: tool.server.clone(),
                    secs: client.tool_timeout.as_secs_f64(),
                });
            }
            Ok(Err(e)) => {
                let mut detail = e.to_string();
                let tail = last_lines(&client.stderr);
                if !tail.is_empty() {
                    detail.push_str(&format!(" (its stderr: {tail})"));
                }
                return Err(CallError::Server {
                    tool: qualified.to_owned(),
                    server: tool.server.clone(),
                    detail,
                });
            }
            Ok(Ok(r)) => r,
        };
        Ok(outcome(&result))
    }
}

fn last_lines(lines: &Mutex<Vec<String>>) -> String {
    lines.lock().map(|l| l.join(" | ")).unwrap_or_default()
}

/// Text for the model from a tool's result.
fn outcome(result: &CallToolResult) -> CallOutcome {
    let mut parts = Vec::new();
    for block in &result.content {
        match block {
            ContentBlock::Text(t) => parts.push(t.text.clone()),
            other => parts.push(serde_json::to_string(other).unwrap_or_default()),
        }
    }
    if parts.is_empty()
        && let Some(s) = &result.structured_content
    {
        parts.push(s.to_string());
    }
    CallOutcome {
        text: parts.join("\n"),
        is_error: result.is_error.unwrap_or(false),
    }
}

async fn start_one(
    name: &str,
    server: &McpServer,
) -> Result<(Client, Vec<McpTool>), StartupFailure> {
    let fail = |reason: String| StartupFailure {
        server: name.to_owned(),
        reason,
    };
    let lines = Arc::new(Mutex::new(Vec::new()));
    let secs = server.startup_timeout.as_secs_f64();
    let limit = server.startup_timeout;
    let (started, failed_to) = match &server.transport {
        McpTransport::Stdio {
            command,
            args,
            env,
            cwd,
            env_vars,
        } => {
            let env = stdio_env(std::env::vars(), env_vars, env);
            let transport = spawn_stdio(name, command, args, &env, cwd.as_deref(), &lines)
                .map_err(|e| {
                    fail(format!(
                        "could not be started ({command}: {e}); check its command in config.toml"
                    ))
                })?;
            (
                tokio::time::timeout(limit, connect(transport, false)).await,
                "failed to start".to_owned(),
            )
        }
        McpTransport::StreamableHttp {
            url,
            bearer_token_env_var,
            ..
        } => {
            let transport =
                http_transport(url, bearer_token_env_var.as_deref(), server).map_err(&fail)?;
            (
                tokio::time::timeout(limit, connect(transport, bearer_token_env_var.is_some()))
                    .await,
                format!("could not be used at {url}"),
            )
        }
    };
    let with_stderr = |reason: String| {
        let tail = last_lines(&lines);
        if tail.is_empty() {
            fail(reason)
        } else {
            fail(format!("{reason} (its stderr: {tail})"))
        }
    };
    let (service, listed) = match started {
        Err(_) => {
            return Err(with_stderr(format!(
                "did not start in {secs} s (startup_timeout_sec); it was stopped"
            )));
        }
        Ok(Err(e)) => return Err(with_stderr(format!("{failed_to}: {e}"))),
        Ok(Ok(v)) => v,
    };
    let mut tools = Vec::new();
    for t in listed {
        if !server.offers(&t.name) {
            // enabled_tools / disabled_tools: never offered to the model.
            continue;
        }
        let qualified = format!("{name}{SEPARATOR}{}", t.name);
        let valid = qualified.len() <= MAX_TOOL_NAME
            && qualified
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            tracing::warn!(
                "MCP server {name}: tool {:?} cannot be offered to the model (name)",
                t.name
            );
            continue;
        }
        tools.push(McpTool {
            qualified_name: qualified,
            server: name.to_owned(),
            name: t.name.to_string(),
            description: t.description.as_deref().unwrap_or_default().to_owned(),
            input_schema: Value::Object((*t.input_schema).clone()),
        });
    }
    if tools.is_empty() {
        // No tools: nothing for the model, but the server ran; say so rather than hide it.
        return Err(fail("started but offers no tools".into()));
    }
    Ok((
        Client {
            service,
            tool_timeout: server.tool_timeout,
            stderr: lines,
        },
        tools,
    ))
}

/// The MCP handshake and the tool list, over any transport.
async fn connect<T, E, A>(
    transport: T,
    with_token: bool,
) -> Result<(RunningService<RoleClient, ()>, Vec<Tool>), String>
where
    T: IntoTransport<RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let service = ().serve(transport).await.map_err(|e| match e {
        ClientInitializeError::TransportError { error, .. } => transport_error(&error, with_token),
        other => other.to_string(),
    })?;
    let tools = service.list_all_tools().await.map_err(|e| match e {
        ServiceError::TransportSend(error) => transport_error(&error, with_token),
        other => other.to_string(),
    })?;
    Ok((service, tools))
}

/// An HTTP failure in our words; any other transport's as it describes itself.
fn transport_error(error: &DynamicTransportError, with_token: bool) -> String {
    match error
        .error
        .downcast_ref::<StreamableHttpError<reqwest::Error>>()
    {
        Some(e) => http::explain(e, with_token),
        None => error.error.to_string(),
    }
}

/// Starts a stdio server, its stderr going to the trace log and its last lines into `lines`.
fn spawn_stdio(
    name: &str,
    command: &str,
    args: &[String],
    env: &BTreeMap<String, String>,
    cwd: Option<&std::path::Path>,
    lines: &Arc<Mutex<Vec<String>>>,
) -> std::io::Result<TokioChildProcess> {
    let mut cmd = tokio::process::Command::new(command);
    // Only what stdio_env chose: codex's own secrets (the model's API key) stay out.
    cmd.args(args).env_clear().envs(env).kill_on_drop(true);
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    let (transport, stderr) = TokioChildProcess::builder(cmd)
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    // The server's stderr is its log: kept out of codex's progress, in the trace log, and its
    // last lines go into error messages.
    if let Some(stderr) = stderr {
        let lines = lines.clone();
        let server = name.to_owned();
        tokio::spawn(async move {
            let mut reader = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                tracing::debug!(server, "{line}");
                if let Ok(mut l) = lines.lock() {
                    l.push(line);
                    if l.len() > STDERR_LINES {
                        l.remove(0);
                    }
                }
            }
        });
    }
    Ok(transport)
}

/// What a stdio server gets from codex's environment `vars` unless `env_vars` names more, as
/// Codex 0.169: enough to find programs and a home, no secrets.
pub const DEFAULT_STDIO_ENV: &[&str] = &[
    "HOME", "LOGNAME", "PATH", "SHELL", "USER", "LANG", "LC_ALL", "TERM", "TMPDIR", "TZ",
];

/// A stdio server's environment: [`DEFAULT_STDIO_ENV`] and the `env_vars` names taken from
/// `vars` (codex's environment), then the table `env` over them.
pub fn stdio_env(
    vars: impl IntoIterator<Item = (String, String)>,
    env_vars: &[String],
    env: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = vars
        .into_iter()
        .filter(|(k, _)| DEFAULT_STDIO_ENV.contains(&k.as_str()) || env_vars.contains(k))
        .collect();
    out.extend(env.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// rmcp's streamable-HTTP transport on [`http::McpHttp`], with the bearer token from its
/// variable. A token never goes over plain HTTP to another machine.
fn http_transport(
    url: &str,
    token_var: Option<&str>,
    server: &McpServer,
) -> Result<StreamableHttpClientTransport<http::McpHttp>, String> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| format!("has a bad url {url:?}: {e}; fix it in config.toml"))?;
    let mut config = StreamableHttpClientTransportConfig::with_uri(url);
    if let Some(var) = token_var {
        let token = std::env::var(var).unwrap_or_default();
        if token.is_empty() {
            return Err(format!(
                "needs a bearer token in ${var} (bearer_token_env_var), which is not set; set it or remove the setting"
            ));
        }
        if parsed.scheme() == "http" && !is_loopback(&parsed) {
            return Err(format!(
                "would send the bearer token from ${var} unencrypted to {}; use an https:// url",
                parsed.host_str().unwrap_or_default()
            ));
        }
        config = config.auth_header(token);
    }
    if let McpTransport::StreamableHttp {
        http_headers,
        env_http_headers,
        ..
    } = &server.transport
    {
        // The variables' values are read now and never logged: they may be credentials.
        let from_env = env_http_headers
            .iter()
            .filter_map(|(h, var)| Some((h, std::env::var(var).ok().filter(|v| !v.is_empty())?)));
        let all = http_headers
            .iter()
            .map(|(h, v)| (h, v.clone()))
            .chain(from_env);
        for (name, value) in all {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("has a bad header name {name:?}; fix it in config.toml"))?;
            let value = reqwest::header::HeaderValue::from_str(&value)
                .map_err(|_| format!("has a bad value for header {name}; fix it in config.toml"))?;
            config.custom_headers.insert(name, value);
        }
    }
    let client = http::McpHttp::new(server.startup_timeout.min(Duration::from_secs(30)))
        .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
    Ok(StreamableHttpClientTransport::with_client(client, config))
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
