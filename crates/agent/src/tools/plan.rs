//! The `update_plan` tool: the model keeps its plan where the user can see it.

use serde::Deserialize;

use super::{ToolOutcome, parse_args};
use crate::events::{ItemDetails, TodoItem};

/// The tool's arguments. The schema's optional `explanation` is accepted by serde ignoring
/// fields it is not asked for: only the plan is shown.
#[derive(Debug, Deserialize)]
struct Args {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_with_an_explanation_is_accepted_and_shown_as_its_steps() {
        let out =
            call(r#"{"explanation": "why", "plan": [{"step": "look", "status": "in_progress"}]}"#);
        assert_eq!(out.output, "Plan updated");
        assert_eq!(
            out.details,
            Some(ItemDetails::TodoList {
                items: vec![TodoItem {
                    text: "look".into(),
                    status: "in_progress".into(),
                }]
            })
        );
    }

    #[test]
    fn a_plan_with_an_unknown_status_is_refused() {
        let out = call(r#"{"plan": [{"step": "look", "status": "maybe"}]}"#);
        assert!(
            out.output.starts_with("invalid arguments for update_plan"),
            "{}",
            out.output
        );
        assert_eq!(out.details, None);
    }
}
