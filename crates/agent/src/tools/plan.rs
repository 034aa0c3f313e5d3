//! The `update_plan` tool: the model keeps its plan where the user can see it.

use serde::Deserialize;

use super::{ToolOutcome, parse_args};
use crate::events::{ItemDetails, TodoItem};

#[derive(Debug, Deserialize)]
struct Args {
    #[serde(default)]
    #[allow(dead_code)] // accepted so models may explain; the plan itself is what is shown
    explanation: Option<String>,
    plan: Vec<Step>,
}

#[derive(Debug, Deserialize)]
struct Step {
    step: String,
    status: StepStatus,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StepStatus {
    Pending,
    InProgress,
    Completed,
}

pub(super) fn call(arguments: &str) -> ToolOutcome {
    let args: Args = match parse_args("update_plan", arguments) {
        Ok(a) => a,
        Err(e) => return ToolOutcome::error(e),
    };
    let items = args
        .plan
        .into_iter()
        .map(|s| TodoItem {
            text: s.step,
            status: match s.status {
                StepStatus::Pending => "pending",
                StepStatus::InProgress => "in_progress",
                StepStatus::Completed => "completed",
            }
            .into(),
        })
        .collect();
    ToolOutcome {
        output: "Plan updated".into(),
        details: Some(ItemDetails::TodoList { items }),
    }
}
