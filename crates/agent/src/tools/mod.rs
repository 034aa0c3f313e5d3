//! The tools the model can call: `shell` (through the exec-server), `apply_patch` and
//! `update_plan`. Each call's result is text for the model plus, for the user, the step it was.

mod mcp;
mod patch;
mod plan;
mod shell;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use codex_sandbox::SandboxPolicy;
use serde_json::json;

use crate::events::ItemDetails;
use crate::executor::Executor;
use crate::model::ToolSpec;

/// A `shell` command's timeout when the model gives none.
pub const DEFAULT_SHELL_TIMEOUT: Duration = Duration::from_secs(120);

/// What tool calls need: where they run and under which policy.
#[derive(Debug)]
pub struct ToolContext {
    /// The session's working directory: relative paths and patches start here.
    pub cwd: PathBuf,
    /// The sandbox every command and patch is held to.
    pub sandbox: SandboxPolicy,
    /// Where commands run.
    pub executor: Executor,
    /// The environment commands get (secrets already removed, see [`child_env`]).
    pub env: BTreeMap<String, String>,
    /// For `shell` calls that name no timeout.
    pub default_timeout: Duration,
    /// Tool output past this many bytes keeps only its head and tail.
    pub max_output_bytes: usize,
    /// The MCP servers' tools (none when no server is configured).
    pub mcp: std::sync::Arc<codex_mcp_client::McpManager>,
    /// When to ask the user first, and who to ask.
    pub approvals: crate::approval::Approvals,
}

/// A finished tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutcome {
    /// Sent back to the model as the call's output.
    pub output: String,
    /// The step it was, for progress and `--json`; `None` when the call was malformed.
    pub details: Option<ItemDetails>,
}

impl ToolOutcome {
    fn error(output: String) -> Self {
        ToolOutcome {
            output,
            details: None,
        }
    }
}

/// The tools' declarations, as the model sees them. Under `on-request` the shell tool also
/// offers to run a command outside the sandbox, which the user must approve.
pub fn specs(policy: crate::approval::ApprovalPolicy) -> Vec<ToolSpec> {
    let mut shell_properties = json!({
        "command": {"type": "array", "items": {"type": "string"},
                    "description": "The program and its arguments."},
        "workdir": {"type": "string",
                    "description": "Working directory (default: the session's)."},
        "timeout_ms": {"type": "number",
                       "description": "Kill the command after this many milliseconds."}
    });
    if policy == crate::approval::ApprovalPolicy::OnRequest
        && let Some(p) = shell_properties.as_object_mut()
    {
        p.insert(
            "with_escalated_permissions".into(),
            json!({"type": "boolean",
                   "description": "Run outside the sandbox (e.g. to reach the network or write outside the workspace); the user is asked first."}),
        );
        p.insert(
            "justification".into(),
            json!({"type": "string",
                   "description": "With with_escalated_permissions: one sentence telling the user why."}),
        );
    }
    vec![
        ToolSpec {
            name: "shell".into(),
            description: "Runs a command and returns its output and exit code. `command` is an \
                          argv array (use [\"bash\", \"-lc\", \"...\"] for shell syntax)."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": shell_properties,
                "required": ["command"],
                "additionalProperties": false
            }),
        },
        ToolSpec {
            name: "apply_patch".into(),
            description: patch::DESCRIPTION.into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "input": {"type": "string",
                              "description": "The whole patch, from *** Begin Patch to *** End Patch."}
                },
                "required": ["input"],
                "additionalProperties": false
            }),
        },
        ToolSpec {
            name: "update_plan".into(),
            description: "Records the plan for the task: each step with its status. Keep exactly \
                          one step in_progress until all are completed."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "explanation": {"type": "string"},
                    "plan": {"type": "array", "items": {
                        "type": "object",
                        "properties": {
                            "step": {"type": "string"},
                            "status": {"type": "string",
                                       "enum": ["pending", "in_progress", "completed"]}
                        },
                        "required": ["step", "status"],
                        "additionalProperties": false
                    }}
                },
                "required": ["plan"],
                "additionalProperties": false
            }),
        },
    ]
}

impl ToolContext {
    /// Every tool on offer: the built-in ones, then each MCP server's.
    pub fn specs(&self) -> Vec<ToolSpec> {
        let mut all = specs(self.approvals.policy());
        all.extend(self.mcp.tools().iter().map(|t| ToolSpec {
            name: t.qualified_name.clone(),
            description: format!("{} (MCP server {})", t.description, t.server),
            parameters: t.input_schema.clone(),
        }));
        all
    }

    /// Runs one call. `started` hears about a step before it runs (commands only, so far).
    /// Never fails: whatever goes wrong is told to the model, which can try something else.
    pub async fn call(
        &self,
        name: &str,
        arguments: &str,
        started: &mut (dyn FnMut(ItemDetails) + Send),
    ) -> ToolOutcome {
        match name {
            "shell" | "container.exec" => shell::call(self, arguments, started).await,
            "apply_patch" => patch::call_json(self, arguments).await,
            "update_plan" => plan::call(arguments),
            other if self.mcp.has_tool(other) => mcp::call(self, other, arguments, started).await,
            other => ToolOutcome::error(format!(
                "unknown tool `{other}`: the tools are shell, apply_patch, update_plan{}",
                if self.mcp.tools().is_empty() {
                    String::new()
                } else {
                    " and those of the MCP servers (SERVER__tool)".into()
                }
            )),
        }
    }
}

/// The agent's own environment minus what looks like a secret (names containing KEY, SECRET
/// or TOKEN, and `extra_secrets`), so a command's output cannot leak the API key to the model.
pub fn child_env(extra_secrets: &[&str]) -> BTreeMap<String, String> {
    command_env(
        &codex_config::ShellEnvironmentPolicy::default(),
        extra_secrets,
    )
}

/// The environment of the model's commands as `[shell_environment_policy]` shapes codex's own,
/// without `extra_secrets` (the provider's key variable, the exec-server token) whatever the
/// policy says: the policy may keep secret-looking names, never codex's own credentials.
pub fn command_env(
    policy: &codex_config::ShellEnvironmentPolicy,
    extra_secrets: &[&str],
) -> BTreeMap<String, String> {
    let mut env = policy.environment(std::env::vars());
    env.retain(|k, _| !extra_secrets.contains(&k.as_str()));
    env
}

/// Parses a call's JSON arguments, or says what is wrong with them.
fn parse_args<T: serde::de::DeserializeOwned>(tool: &str, arguments: &str) -> Result<T, String> {
    serde_json::from_str(arguments).map_err(|e| format!("invalid arguments for {tool}: {e}"))
}
