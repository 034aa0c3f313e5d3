//! Calls of MCP servers' tools: the result (or the reason there is none) goes back to the model,
//! which can try something else.

use codex_mcp_client::SEPARATOR;

use super::{ToolContext, ToolOutcome};
use crate::events::{ItemDetails, Status};
use crate::truncate::head_and_tail;

pub(super) async fn call(
    ctx: &ToolContext,
    qualified: &str,
    arguments: &str,
    started: &mut (dyn FnMut(ItemDetails) + Send),
) -> ToolOutcome {
    let (server, tool) = qualified.split_once(SEPARATOR).unwrap_or(("", qualified));
    let args_value = serde_json::from_str(arguments)
        .unwrap_or_else(|_| serde_json::Value::String(arguments.to_owned()));
    let details =
        |result: Option<String>, error: Option<String>, status| ItemDetails::McpToolCall {
            server: server.to_owned(),
            tool: tool.to_owned(),
            arguments: args_value.clone(),
            result,
            error,
            status,
        };
    started(details(None, None, Status::InProgress));
    match ctx.mcp.call(qualified, arguments).await {
        Ok(out) => {
            let text = head_and_tail(&out.text, ctx.max_output_bytes);
            if out.is_error {
                ToolOutcome {
                    output: format!("the tool reported an error: {text}"),
                    details: Some(details(None, Some(text), Status::Failed)),
                }
            } else {
                ToolOutcome {
                    output: text.clone(),
                    details: Some(details(Some(text), None, Status::Completed)),
                }
            }
        }
        Err(e) => ToolOutcome {
            output: e.to_string(),
            details: Some(details(None, Some(e.to_string()), Status::Failed)),
        },
    }
}
