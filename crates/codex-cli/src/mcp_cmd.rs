//! `codex mcp add|list|get|remove`: manage the `[mcp_servers.NAME]` tables of config.toml
//! without disturbing the rest of the file (comments and layout included).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use codex_config::mcp::{
    self, DEFAULT_STARTUP_TIMEOUT, DEFAULT_TOOL_TIMEOUT, McpServer, McpTransport,
};

/// Flags of `codex mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    #[command(subcommand)]
    command: McpCommand,
}

#[derive(Debug, Subcommand)]
enum McpCommand {
    /// Add (or replace) a server: `codex mcp add NAME [--env K=V]... -- COMMAND [ARGS]...`, or
    /// `codex mcp add NAME --url URL` for a streamable HTTP server.
    Add(AddArgs),
    /// List the configured servers.
    List {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Show one server.
    Get {
        /// The server's name.
        name: String,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Remove a server.
    Remove {
        /// The server's name.
        name: String,
    },
}

#[derive(Debug, Args)]
struct AddArgs {
    /// The server's name: letters, digits, `_` or `-` (tools are offered as NAME__tool).
    name: String,
    /// A variable for the server's environment, as KEY=VALUE (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// A streamable HTTP server's URL, instead of a command.
    #[arg(long, conflicts_with = "command")]
    url: Option<String>,
    /// With --url: the environment variable whose value is sent as a bearer token.
    #[arg(long, value_name = "VAR", requires = "url")]
    bearer_token_env_var: Option<String>,
    /// The server's program and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("{text:?} is not KEY=VALUE")),
    }
}

fn config_path() -> Result<PathBuf> {
    let home = codex_installer::settings::codex_home()
        .context("HOME is not set, so there is no $CODEX_HOME; set CODEX_HOME")?;
    Ok(home.join("config.toml"))
}

/// Runs `codex mcp`.
pub fn run(args: &McpArgs) -> Result<()> {
    let path = config_path()?;
    match &args.command {
        McpCommand::Add(a) => add(&path, a),
        McpCommand::List { json } => {
            let servers = mcp::read_servers(&path)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&servers)?);
            } else {
                print!("{}", list_text(&servers));
            }
            Ok(())
        }
        McpCommand::Get { name, json } => {
            let servers = mcp::read_servers(&path)?;
            let Some(server) = servers.get(name) else {
                bail!(
                    "no MCP server named {name:?} in {}; `codex mcp list` shows the configured ones",
                    path.display()
                );
            };
            if *json {
                println!("{}", serde_json::to_string_pretty(server)?);
            } else {
                print!("{}", get_text(name, server));
            }
            Ok(())
        }
        McpCommand::Remove { name } => {
            if !mcp::remove_server(&path, name)? {
                bail!(
                    "no MCP server named {name:?} in {}; `codex mcp list` shows the configured ones",
                    path.display()
                );
            }
            println!("removed MCP server {name} from {}", path.display());
            Ok(())
        }
    }
}

fn add(path: &std::path::Path, a: &AddArgs) -> Result<()> {
    let transport = match (&a.url, a.command.split_first()) {
        (Some(url), _) => {
            if !a.env.is_empty() {
                bail!("--env is for command servers; a --url server gets no environment");
            }
            McpTransport::StreamableHttp {
                url: url.clone(),
                bearer_token_env_var: a.bearer_token_env_var.clone(),
                http_headers: BTreeMap::new(),
                env_http_headers: BTreeMap::new(),
            }
        }
        (None, Some((program, rest))) => McpTransport::Stdio {
            command: program.clone(),
            args: rest.to_vec(),
            env: a.env.iter().cloned().collect::<BTreeMap<_, _>>(),
            cwd: None,
            env_vars: Vec::new(),
        },
        (None, None) => bail!(
            "give the server's command after `--` (codex mcp add {} -- npx -y SERVER), or --url URL",
            a.name
        ),
    };
    let server = McpServer {
        transport,
        startup_timeout: DEFAULT_STARTUP_TIMEOUT,
        tool_timeout: DEFAULT_TOOL_TIMEOUT,
        enabled: true,
        required: false,
        enabled_tools: None,
        disabled_tools: Vec::new(),
    };
    let replaced = mcp::add_server(path, &a.name, &server)?;
    let verb = if replaced { "replaced" } else { "added" };
    println!("{verb} MCP server {} in {}", a.name, path.display());
    Ok(())
}

/// What the server runs or reaches, on one line.
fn target(server: &McpServer) -> String {
    match &server.transport {
        McpTransport::Stdio { command, args, .. } => std::iter::once(command.as_str())
            .chain(args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        McpTransport::StreamableHttp { url, .. } => url.clone(),
    }
}

/// Environment names only: values are often tokens, and this output ends up in terminals and
/// logs (`get --json` shows them for scripts).
fn env_names(server: &McpServer) -> String {
    match &server.transport {
        McpTransport::Stdio { env, .. } if !env.is_empty() => env
            .keys()
            .map(|k| format!("{k}=*****"))
            .collect::<Vec<_>>()
            .join(" "),
        McpTransport::StreamableHttp {
            bearer_token_env_var: Some(v),
            ..
        } => format!("bearer token from ${v}"),
        _ => "-".into(),
    }
}

/// The `list` table.
fn list_text(servers: &BTreeMap<String, McpServer>) -> String {
    if servers.is_empty() {
        return "no MCP servers are configured; add one with `codex mcp add NAME -- COMMAND...`\n"
            .into();
    }
    let rows: Vec<[String; 4]> = servers
        .iter()
        .map(|(name, s)| {
            [
                name.clone(),
                if s.enabled { "on" } else { "off" }.into(),
                target(s),
                env_names(s),
            ]
        })
        .collect();
    let header = ["Name", "Enabled", "Command or URL", "Env"];
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 4]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 3 {
                l.push_str(c);
            } else {
                l.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        l.trim_end().to_owned() + "\n"
    };
    let mut out = line(header);
    for r in &rows {
        out.push_str(&line([&r[0], &r[1], &r[2], &r[3]]));
    }
    out
}

/// The `get` text.
fn get_text(name: &str, s: &McpServer) -> String {
    let mut out = format!("{name}\n  enabled: {}\n", s.enabled);
    match &s.transport {
        McpTransport::Stdio {
            command, args, cwd, ..
        } => {
            out.push_str("  transport: stdio\n");
            out.push_str(&format!("  command: {command}\n"));
            out.push_str(&format!("  args: {}\n", args.join(" ")));
            if let Some(cwd) = cwd {
                out.push_str(&format!("  cwd: {}\n", cwd.display()));
            }
            out.push_str(&format!("  env: {}\n", env_names(s)));
            if let McpTransport::Stdio { env_vars, .. } = &s.transport
                && !env_vars.is_empty()
            {
                out.push_str(&format!("  env passed on: {}\n", env_vars.join(" ")));
            }
        }
        McpTransport::StreamableHttp {
            url,
            bearer_token_env_var,
            ..
        } => {
            out.push_str("  transport: streamable HTTP\n");
            out.push_str(&format!("  url: {url}\n"));
            out.push_str(&format!(
                "  bearer token: {}\n",
                bearer_token_env_var
                    .as_ref()
                    .map_or("none".to_owned(), |v| format!("from ${v}"))
            ));
            if let McpTransport::StreamableHttp {
                http_headers,
                env_http_headers,
                ..
            } = &s.transport
            {
                // Names only, as for env: header values are often credentials.
                let mut names: Vec<String> =
                    http_headers.keys().map(|h| format!("{h}=*****")).collect();
                names.extend(env_http_headers.iter().map(|(h, v)| format!("{h}=${v}")));
                if !names.is_empty() {
                    out.push_str(&format!("  headers: {}\n", names.join(" ")));
                }
            }
        }
    }
    if s.required {
        out.push_str("  required: true\n");
    }
    if let Some(only) = &s.enabled_tools {
        out.push_str(&format!("  enabled tools: {}\n", only.join(" ")));
    }
    if !s.disabled_tools.is_empty() {
        out.push_str(&format!(
            "  disabled tools: {}\n",
            s.disabled_tools.join(" ")
        ));
    }
    out.push_str(&format!(
        "  startup timeout: {} s\n  tool timeout: {} s\n",
        s.startup_timeout.as_secs_f64(),
        s.tool_timeout.as_secs_f64()
    ));
    out
}
