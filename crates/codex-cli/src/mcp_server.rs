//! `codex mcp-server`: Codex as an MCP server on stdio, for other agents. Two tools: `codex`
//! runs a task in a new session, `codex-reply` continues one. Each step of a turn is sent as a
//! progress notification when the request carries a progress token.
//!
//! Reading stdin, handling requests and writing stdout never wait on one another: the SDK's
//! serve loop reads the next message while earlier responses are still being written (each
//! write is a task of its own) and runs each request as a task, so a client that stops reading
//! for a while only makes responses queue up (one per request it sent), never stops the reader.
//! Progress goes through an unbounded channel to one forwarding task per call, so a turn never
//! waits on the client either. Nothing the protocol requires (a response) is ever dropped.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use codex_agent::events::AgentEvent;
use codex_agent::session::Session;
use codex_config::SandboxMode;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData as McpError, ServerHandler, ServiceExt};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::exec::AgentArgs;

/// The sessions this server started, by id, so that `codex-reply` can continue them.
#[derive(Clone, Default)]
struct CodexMcp {
    sessions: Arc<std::sync::Mutex<HashMap<String, Arc<Mutex<Session>>>>>,
    /// The `-c` (and `--enable`/`--disable`) overrides of the command line, for every session.
    overrides: Vec<String>,
}

/// Runs the server until stdin closes; `overrides` (`-c KEY=VALUE`) apply to every session.
pub fn run(overrides: Vec<String>) -> Result<()> {
    let rt = crate::exec::runtime()?;
    rt.block_on(async {
        let server = CodexMcp {
            overrides,
            ..CodexMcp::default()
        };
        let service = server
            .serve(rmcp::transport::stdio())
            .await
            .context("the MCP client did not initialize the session")?;
        service.waiting().await.context("the MCP session failed")?;
        Ok(())
    })
}

fn object(v: Value) -> Arc<serde_json::Map<String, Value>> {
    match v {
        Value::Object(m) => Arc::new(m),
        _ => Arc::new(serde_json::Map::new()),
    }
}

fn tools() -> Vec<Tool> {
    vec![
        Tool::new(
            "codex",
            "Run a Codex session: the agent works on the prompt in the working directory (reading \
             files, running commands under the sandbox, applying patches) until it has an answer, \
             which is returned. Continue the session with codex-reply and the returned threadId.",
            object(json!({
                "type": "object",
                "properties": {
                    "prompt": {"type": "string", "description": "The task."},
                    "cwd": {"type": "string", "description": "Working directory (default: the server's)."},
                    "sandbox": {"type": "string", "enum": ["read-only", "workspace-write", "danger-full-access"],
                                "description": "Sandbox for the commands the agent runs (default: config.toml's, else read-only)."},
                    "model": {"type": "string", "description": "The model (default: config.toml's)."},
                    "profile": {"type": "string", "description": "A config.toml profile to apply."}
                },
                "required": ["prompt"],
                "additionalProperties": false
            })),
        ),
        Tool::new(
            "codex-reply",
            "Continue a Codex session started by the codex tool with another prompt.",
            object(json!({
                "type": "object",
                "properties": {
                    "threadId": {"type": "string", "description": "The threadId the codex tool returned."},
                    "prompt": {"type": "string", "description": "The next message."}
                },
                "required": ["threadId", "prompt"],
                "additionalProperties": false
            })),
        ),
    ]
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CodexParams {
    prompt: String,
    cwd: Option<PathBuf>,
    sandbox: Option<String>,
    model: Option<String>,
    profile: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ReplyParams {
    thread_id: String,
    prompt: String,
}

fn params<T: serde::de::DeserializeOwned>(
    tool: &str,
    args: Option<serde_json::Map<String, Value>>,
) -> Result<T, McpError> {
    serde_json::from_value(Value::Object(args.unwrap_or_default()))
        .map_err(|e| McpError::invalid_params(format!("arguments for {tool}: {e}"), None))
}

/// A tool result the calling agent reads: the error as text, flagged as an error.
fn failed(text: String) -> CallToolResponse {
    CallToolResult::error(vec![ContentBlock::text(text)]).into()
}

impl CodexMcp {
    async fn start(&self, p: CodexParams) -> Result<(String, Arc<Mutex<Session>>), String> {
        let sandbox = match p.sandbox.as_deref() {
            None => None,
            Some(s) => Some(s.parse::<SandboxMode>().map_err(|e| e.to_string())?),
        };
        let args = AgentArgs {
            model: p.model,
            profile: p.profile,
            config: self.overrides.clone(),
            sandbox,
            cd: p.cwd,
            exec_server: None,
            exec_server_token: None,
            exec_server_token_file: None,
            ask_for_approval: None,
            ..AgentArgs::default()
        };
        let setup = crate::exec::Setup {
            source: Some("mcp"),
            ..crate::exec::Setup::default()
        };
        let session = crate::exec::prepare(&args, setup)
            .await
            .map_err(|e| format!("{e:#}"))?;
        let id = session.id().to_owned();
        let session = Arc::new(Mutex::new(session));
        if let Ok(mut s) = self.sessions.lock() {
            s.insert(id.clone(), session.clone());
        }
        Ok((id, session))
    }

    async fn turn(
        &self,
        id: String,
        session: Arc<Mutex<Session>>,
        prompt: String,
        ctx: &RequestContext<RoleServer>,
    ) -> CallToolResponse {
        // One turn at a time per session: a second call while one runs is refused, not queued,
        // so the caller knows at once (it can wait for the first, or cancel it).
        let Ok(mut session) = session.try_lock() else {
            return failed(format!(
                "Codex session {id} is still running a turn; wait for its result or cancel that call"
            ));
        };
        // Progress: lines go into an unbounded channel, and one task forwards them, so the turn
        // never waits on the client. The first is the session's header, which names its id: a
        // caller that cancels the call gets no result, and still needs the id for codex-reply.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let _ = tx.send(session.header());
        let forward = ctx.meta.get_progress_token().map(|token| {
            let peer = ctx.peer.clone();
            tokio::spawn(async move {
                let mut n = 0.0;
                while let Some(line) = rx.recv().await {
                    n += 1.0;
                    let mut p = ProgressNotificationParam::new(token.clone(), n);
                    p.message = Some(line);
                    if peer.notify_progress(p).await.is_err() {
                        break;
                    }
                }
            })
        });
        let result = {
            let mut emit = |e: &AgentEvent| {
                // A notification per streamed word is noise here: the finished message follows.
                if matches!(e, AgentEvent::AgentMessageDelta { .. }) {
                    return;
                }
                let line = e
                    .progress_line()
                    .unwrap_or_else(|| serde_json::to_string(e).unwrap_or_default());
                let _ = tx.send(line);
            };
            // notifications/cancelled from the client interrupts the turn, and its command.
            let cancelled = ctx.ct.clone();
            session
                .run_turn_until(
                    prompt,
                    &mut emit,
                    async move { cancelled.cancelled().await },
                )
                .await
        };
        drop(session);
        drop(tx);
        if let Some(f) = forward {
            // Progress of a turn comes before its result.
            let _ = f.await;
        }
        match result {
            Ok(outcome) => {
                let mut r = CallToolResult::success(vec![ContentBlock::text(
                    outcome.final_message.clone(),
                )]);
                r.structured_content = Some(json!({
                    "threadId": id,
                    "content": outcome.final_message,
                }));
                r.into()
            }
            Err(e) => failed(format!("the turn failed: {e}")),
        }
    }
}

impl ServerHandler for CodexMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_server_info(
            Implementation::new("codex-mcp-server", codex_build_info::version()),
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        match request.name.as_ref() {
            "codex" => {
                let p: CodexParams = params("codex", request.arguments)?;
                let prompt = p.prompt.clone();
                match self.start(p).await {
                    Ok((id, session)) => Ok(self.turn(id, session, prompt, &context).await),
                    Err(e) => Ok(failed(format!("cannot start a Codex session: {e}"))),
                }
            }
            "codex-reply" => {
                let p: ReplyParams = params("codex-reply", request.arguments)?;
                let session = self
                    .sessions
                    .lock()
                    .ok()
                    .and_then(|s| s.get(&p.thread_id).cloned());
                match session {
                    Some(s) => Ok(self.turn(p.thread_id, s, p.prompt, &context).await),
                    None => Ok(failed(format!(
                        "no Codex session {} on this server; start one with the codex tool",
                        p.thread_id
                    ))),
                }
            }
            other => Err(McpError::invalid_params(
                format!("unknown tool {other}; the tools are codex and codex-reply"),
                None,
            )),
        }
    }
}
