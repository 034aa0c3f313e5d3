//! What the agent reports while it works: one [`AgentEvent`] per step, printed as progress
//! lines on stderr or, with `codex exec --json`, as one JSON object per line.

use serde::{Deserialize, Serialize};

use crate::model::Usage;

/// One step of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum AgentEvent {
    /// The session began (first event).
    #[serde(rename = "thread.started")]
    ThreadStarted {
        /// The session id (also the session log's name).
        thread_id: String,
    },
    /// A user turn began.
    #[serde(rename = "turn.started")]
    TurnStarted,
    /// A piece of the model's message as it streams. Not logged, and not printed by
    /// `codex exec`: the whole message follows as an [`AgentEvent::ItemCompleted`].
    #[serde(rename = "item.delta")]
    AgentMessageDelta {
        /// The new text.
        delta: String,
    },
    /// A step began (a command, so far).
    #[serde(rename = "item.started")]
    ItemStarted {
        /// The step.
        item: ThreadItem,
    },
    /// A step ended.
    #[serde(rename = "item.completed")]
    ItemCompleted {
        /// The step, with its result.
        item: ThreadItem,
    },
    /// The turn ended with the model's final message.
    #[serde(rename = "turn.completed")]
    TurnCompleted {
        /// Tokens the turn used, summed over its model requests.
        usage: Usage,
    },
    /// The turn ended in an error.
    #[serde(rename = "turn.failed")]
    TurnFailed {
        /// What went wrong.
        error: ErrorInfo,
    },
}

/// An error, as events carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// One line saying what happened and what to do.
    pub message: String,
}

/// Whether a step is running, done or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Running.
    InProgress,
    /// Done.
    Completed,
    /// Ended badly (non-zero exit, patch refused, ...).
    Failed,
    /// Not run: the user said no.
    Declined,
}

/// A step of a turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadItem {
    /// Unique within the session: `item_0`, `item_1`, ...
    pub id: String,
    /// What it is.
    #[serde(flatten)]
    pub details: ItemDetails,
}

/// What a step is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemDetails {
    /// A message from the model.
    AgentMessage {
        /// Its text.
        text: String,
    },
    /// A `shell` tool call.
    CommandExecution {
        /// The command, shell-quoted for display.
        command: String,
        /// Where it ran.
        cwd: String,
        /// Its output (stdout then stderr), as the model saw it.
        aggregated_output: String,
        /// Its exit code, once it exited.
        exit_code: Option<i32>,
        /// Whether the sandbox likely stopped it.
        sandbox_denied: bool,
        /// How long it ran, once it ended.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_ms: Option<u64>,
        /// How it went.
        status: Status,
    },
    /// An `apply_patch` tool call.
    FileChange {
        /// The files, with what happened to each.
        changes: Vec<FileChange>,
        /// How it went.
        status: Status,
        /// Why it was not applied, when it was not.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A call of an MCP server's tool.
    McpToolCall {
        /// The server's name in config.toml.
        server: String,
        /// The tool's name on that server.
        tool: String,
        /// The arguments, as the model gave them.
        arguments: serde_json::Value,
        /// The result's text, once there is one.
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<String>,
        /// Why there is no result, or the tool's own error.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// How it went.
        status: Status,
    },
    /// A summary of the model's reasoning (`model_reasoning_summary`); not shown with
    /// `hide_agent_reasoning = true`.
    Reasoning {
        /// The summary's text.
        text: String,
    },
    /// The model's plan (`update_plan`).
    TodoList {
        /// The steps.
        items: Vec<TodoItem>,
    },
}

/// One file of a patch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    /// Relative to the working directory.
    pub path: String,
    /// `add`, `update` or `delete`.
    pub kind: String,
    /// The change as a unified diff (empty when it is not known, e.g. a patch that did not
    /// parse).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unified_diff: String,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodoItem {
    /// The step.
    pub text: String,
    /// `pending`, `in_progress` or `completed`.
    pub status: String,
}

impl AgentEvent {
    /// The event as a progress line for people (stderr), or `None` for events that only
    /// machine readers want.
    pub fn progress_line(&self) -> Option<String> {
        match self {
            // The session's header and a failed turn's error are printed by the front end,
            // which knows more (and prints the error once, as its last line).
            AgentEvent::ThreadStarted { .. }
            | AgentEvent::AgentMessageDelta { .. }
            | AgentEvent::TurnStarted
            | AgentEvent::TurnCompleted { .. }
            | AgentEvent::TurnFailed { .. } => None,
            AgentEvent::ItemStarted { item } => match &item.details {
                ItemDetails::CommandExecution { command, cwd, .. } => {
                    Some(format!("exec {command} in {cwd}"))
                }
                ItemDetails::McpToolCall {
                    server,
                    tool,
                    arguments,
                    ..
                } => Some(format!("mcp {server}.{tool} {arguments}")),
                _ => None,
            },
            AgentEvent::ItemCompleted { item } => Some(match &item.details {
                ItemDetails::AgentMessage { text } => format!("codex: {text}"),
                ItemDetails::Reasoning { text } => format!("thinking: {text}"),
                ItemDetails::CommandExecution {
                    exit_code,
                    sandbox_denied,
                    status,
                    aggregated_output,
                    ..
                } => {
                    let code = match exit_code {
                        Some(c) => format!("exit {c}"),
                        // It did not run (or timed out): the output says why.
                        None => aggregated_output
                            .lines()
                            .rfind(|l| !l.trim().is_empty())
                            .unwrap_or("no exit code")
                            .to_string(),
                    };
                    let how = match status {
                        Status::Completed => "succeeded",
                        Status::Declined => "declined",
                        _ => "failed",
                    };
                    let denied = if *sandbox_denied {
                        " (the sandbox likely blocked it)"
                    } else {
                        ""
                    };
                    format!("  {how}: {code}{denied}")
                }
                ItemDetails::FileChange { changes, error, .. } => match error {
                    Some(e) => format!("apply_patch refused: {e}"),
                    None => {
                        let files: Vec<String> = changes
                            .iter()
                            .map(|c| format!("{} {}", marker(&c.kind), c.path))
                            .collect();
                        format!("apply_patch: {}", files.join(", "))
                    }
                },
                ItemDetails::McpToolCall { status, error, .. } => match (status, error) {
                    (Status::Completed, _) => "  succeeded".to_string(),
                    (_, Some(e)) => format!("  failed: {e}"),
                    _ => "  failed".to_string(),
                },
                ItemDetails::TodoList { items } => {
                    let mut s = "plan:".to_string();
                    for i in items {
                        let mark = match i.status.as_str() {
                            "completed" => "[x]",
                            "in_progress" => "[>]",
                            _ => "[ ]",
                        };
                        s.push_str(&format!("\n  {mark} {}", i.text));
                    }
                    s
                }
            }),
        }
    }
}

fn marker(kind: &str) -> &'static str {
    match kind {
        "add" => "A",
        "delete" => "D",
        _ => "M",
    }
}
