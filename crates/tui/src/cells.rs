//! The conversation as the screen shows it: one [`Cell`] per message or step, each drawn as
//! lines at a given width. Tool output is collapsed to its last lines unless expanded.

use codex_agent::events::{FileChange, ItemDetails, Status, TodoItem};
use ratatui::style::{Color, Modifier, Style, Stylize as _};
use ratatui::text::{Line, Span};

use crate::{diff, markdown, wrap};

/// Lines of a command's output shown while it is collapsed.
pub const COLLAPSED_OUTPUT_LINES: usize = 5;

/// One entry of the conversation view.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// What the user sent.
    User(String),
    /// The model's message; `streaming` while it is still arriving.
    Agent {
        /// The text so far.
        text: String,
        /// Still arriving.
        streaming: bool,
    },
    /// A step: a command, patch, MCP call or plan, as the agent reported it.
    Step {
        /// The agent's id for it, so its completion updates this cell.
        id: String,
        /// What it is and how it went.
        details: ItemDetails,
    },
    /// A note from codex itself (`/status`, a resumed session, ...).
    Info(Vec<Line<'static>>),
    /// Something went wrong (a failed or interrupted turn).
    Error(String),
    /// `/diff`: the working tree's changes.
    Diff(String),
}

impl Cell {
    /// The cell as lines `width` columns wide. `expanded` shows tool output in full.
    pub fn lines(&self, width: u16, expanded: bool) -> Vec<Line<'static>> {
        let width = usize::from(width.max(4));
        let mut out = match self {
            Cell::User(text) => {
                let mut lines = vec![Line::from("› you".bold().cyan())];
                lines.extend(text.lines().map(|l| Line::from(format!("  {l}"))));
                lines
            }
            Cell::Agent { text, streaming } => {
                let mut lines = vec![Line::from(if *streaming {
                    "• codex …".bold().magenta()
                } else {
                    "• codex".bold().magenta()
                })];
                lines.extend(markdown::render(text).into_iter().map(indent));
                lines
            }
            Cell::Step { details, .. } => step_lines(details, expanded),
            Cell::Info(lines) => lines.clone(),
            Cell::Error(text) => vec![Line::from(format!("■ {text}").red())],
            Cell::Diff(text) if text.trim().is_empty() => {
                vec![Line::from("• /diff: no changes".dim())]
            }
            Cell::Diff(text) => {
                let mut lines = vec![Line::from("• /diff".bold())];
                lines.extend(diff::render_unified(text).into_iter().map(indent));
                lines
            }
        };
        out.push(Line::default());
        wrap::wrap_lines(&out, width)
    }
}

fn indent(line: Line<'static>) -> Line<'static> {
    let mut spans = vec![Span::raw("  ")];
    spans.extend(line.spans);
    Line::from(spans).style(line.style)
}

fn status_span(status: Status) -> Span<'static> {
    match status {
        Status::InProgress => "running".yellow(),
        Status::Completed => "✓".green(),
        Status::Failed => "✗".red(),
        Status::Declined => "declined".red(),
    }
}

fn step_lines(details: &ItemDetails, expanded: bool) -> Vec<Line<'static>> {
    match details {
        ItemDetails::AgentMessage { text } => markdown::render(text),
        ItemDetails::CommandExecution {
            command,
            aggregated_output,
            exit_code,
            duration_ms,
            sandbox_denied,
            status,
            ..
        } => {
            let mut head = vec!["• ".dim(), "$ ".bold(), Span::raw(command.clone())];
            head.push(Span::raw("  "));
            head.push(status_span(*status));
            if let Some(code) = exit_code.filter(|c| *c != 0) {
                head.push(format!(" exit {code}").red());
            }
            if let Some(ms) = duration_ms {
                head.push(format!(" · {}", duration(*ms)).dim());
            }
            if *sandbox_denied {
                head.push(" · the sandbox likely blocked it".red());
            }
            let mut lines = vec![Line::from(head)];
            lines.extend(output_lines(aggregated_output, expanded));
            lines
        }
        ItemDetails::FileChange {
            changes,
            status,
            error,
        } => patch_lines(changes, *status, error.as_deref(), expanded),
        ItemDetails::McpToolCall {
            server,
            tool,
            arguments,
            result,
            error,
            status,
        } => {
            let mut lines = vec![Line::from(vec![
                "• ".dim(),
                format!("{server}.{tool}").bold(),
                format!(" {arguments}").dim(),
                Span::raw("  "),
                status_span(*status),
            ])];
            if let Some(text) = error.as_ref().or(result.as_ref()) {
                lines.extend(output_lines(text, expanded));
            }
            lines
        }
        ItemDetails::TodoList { items } => plan_lines(items),
        // Dimmed and labelled, so it reads as the model's thinking, not its answer.
        ItemDetails::Reasoning { text } => std::iter::once(Line::from("thinking".italic()))
            .chain(
                text.lines()
                    .map(|l| Line::from(l.to_string().dim().italic())),
            )
            .collect(),
    }
}

/// A patch's files with their diffs (all of it: a diff is what the user reads to judge it).
pub fn patch_lines(
    changes: &[FileChange],
    status: Status,
    error: Option<&str>,
    expanded: bool,
) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(vec![
        "• ".dim(),
        "apply_patch ".bold(),
        status_span(status),
    ])];
    for c in changes {
        let (added, removed) = diff::summary(&c.unified_diff);
        lines.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(
                match c.kind.as_str() {
                    "add" => "A ",
                    "delete" => "D ",
                    _ => "M ",
                },
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw(c.path.clone()),
            format!(" (+{added} -{removed})").dim(),
        ]));
        let diff = diff::render_unified(&c.unified_diff);
        let shown = if expanded || diff.len() <= 40 {
            diff.len()
        } else {
            40
        };
        lines.extend(diff.iter().take(shown).cloned().map(|l| indent(indent(l))));
        if shown < diff.len() {
            lines.push(
                Line::from(format!(
                    "    … {} more lines (Ctrl-O shows all)",
                    diff.len() - shown
                ))
                .dim(),
            );
        }
    }
    if let Some(e) = error {
        lines.push(Line::from(format!("  {e}").red()));
    }
    lines
}

fn plan_lines(items: &[TodoItem]) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from("• plan".bold())];
    for i in items {
        let (mark, style) = match i.status.as_str() {
            "completed" => ("[x] ", Style::default().fg(Color::Green)),
            "in_progress" => ("[>] ", Style::default().fg(Color::Yellow)),
            _ => ("[ ] ", Style::default()),
        };
        lines.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(mark, style),
            Span::raw(i.text.clone()),
        ]));
    }
    lines
}

/// Tool output under its step: in full when `expanded`, else its last few lines.
fn output_lines(text: &str, expanded: bool) -> Vec<Line<'static>> {
    let all: Vec<&str> = text.trim_end().lines().collect();
    if all.is_empty() {
        return Vec::new();
    }
    let skip = if expanded {
        0
    } else {
        all.len().saturating_sub(COLLAPSED_OUTPUT_LINES)
    };
    let mut lines = Vec::new();
    if skip > 0 {
        lines.push(Line::from(
            format!("    … {skip} earlier lines (Ctrl-O shows all)").dim(),
        ));
    }
    lines.extend(
        all[skip..]
            .iter()
            .map(|l| Line::from(format!("    {}", l.replace('\t', "    "))).dim()),
    );
    lines
}

/// `ms` for people: `850ms`, `1.2s`, `2m 05s`.
pub fn duration(ms: u64) -> String {
    match ms {
        0..1000 => format!("{ms}ms"),
        1000..60_000 => format!("{:.1}s", ms as f64 / 1000.0),
        _ => format!("{}m {:02}s", ms / 60_000, ms % 60_000 / 1000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(1234), "1.2s");
        assert_eq!(duration(125_000), "2m 05s");
    }

    #[test]
    fn collapsed_output_keeps_the_last_lines_and_says_how_many_are_hidden() {
        let text: String = (1..=8).map(|i| format!("line {i}\n")).collect();
        let lines = output_lines(&text, false);
        assert_eq!(lines.len(), COLLAPSED_OUTPUT_LINES + 1);
        assert!(lines[0].to_string().contains("3 earlier lines"));
        assert!(lines[1].to_string().contains("line 4"));
        assert_eq!(output_lines(&text, true).len(), 8);
    }

    #[test]
    fn a_reasoning_summary_is_a_labelled_dim_step() {
        let lines = step_lines(
            &ItemDetails::Reasoning {
                text: "first thought\nsecond".into(),
            },
            false,
        );
        let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(text, ["thinking", "first thought", "second"]);
        assert!(lines[1].spans[0].style.add_modifier.contains(Modifier::DIM));
    }
}
