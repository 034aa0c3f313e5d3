//! Drawing an [`App`]: banner, conversation, the working line, the composer (or an approval
//! question in its place) and the status line, top to bottom.

use std::time::Instant;

use codex_agent::approval::ApprovalRequest;
use codex_agent::events::Status;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize as _};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use crate::app::{App, ApprovalPrompt};
use crate::cells::patch_lines;
use crate::wrap;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    draw_at(frame, app, Instant::now());
}

/// [`draw`] as of `now` (the working line's timer and spinner), so tests draw the same screen
/// every time.
pub fn draw_at(frame: &mut Frame, app: &App, now: Instant) {
    let area = frame.area();
    let banner_lines = app
        .banner
        .as_ref()
        .map(|b| {
            let line = Line::from(vec![
                " ↑ ".black().on_yellow(),
                Span::raw(" "),
                Span::raw(b.text.clone()).yellow(),
                "  (Esc dismisses)".dim(),
            ]);
            wrap::wrap_line(&line, usize::from(area.width.max(4)))
        })
        .unwrap_or_default();
    let banner = u16::try_from(banner_lines.len()).unwrap_or(1);
    let working = u16::from(app.is_running() || app.hint.is_some());
    let (bottom, bottom_height) = match &app.approval {
        Some(prompt) => (Bottom::Approval(prompt), approval_height(prompt, area)),
        None => (Bottom::Composer, app.composer.height(area.width)),
    };
    let popup = if app.approval.is_none() {
        app.composer.popup_height()
    } else {
        0
    };
    let [
        banner_area,
        history_area,
        working_area,
        popup_area,
        bottom_area,
        status_area,
    ] = Layout::vertical([
        Constraint::Length(banner),
        Constraint::Min(1),
        Constraint::Length(working),
        Constraint::Length(popup),
        Constraint::Length(bottom_height),
        Constraint::Length(1),
    ])
    .areas(area);
    if !banner_lines.is_empty() {
        frame.render_widget(Paragraph::new(banner_lines), banner_area);
    }
    draw_history(frame, app, history_area);
    if working > 0 {
        frame.render_widget(Paragraph::new(working_line(app, now)), working_area);
    }
    match bottom {
        Bottom::Approval(prompt) => draw_approval(frame, prompt, bottom_area),
        Bottom::Composer => {
            if popup > 0 {
                app.composer.render_popup(popup_area, frame.buffer_mut());
            }
            let placeholder = if app.is_running() {
                "Type to queue the next message; Ctrl-C interrupts"
            } else {
                "Ask codex to do anything; / for commands, @ for files"
            };
            app.composer
                .render(bottom_area, frame.buffer_mut(), placeholder);
            let (x, y) = app.composer.cursor(bottom_area);
            frame.set_cursor_position((x, y));
        }
    }
    frame.render_widget(Paragraph::new(status_line(app)), status_area);
}

enum Bottom<'a> {
    Composer,
    Approval(&'a ApprovalPrompt),
}

/// The conversation's lines at `width`, oldest first.
pub fn history_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    app.cells
        .iter()
        .flat_map(|c| c.lines(width, app.expanded))
        .collect()
}

fn draw_history(frame: &mut Frame, app: &App, area: Rect) {
    let lines = history_lines(app, area.width);
    let height = usize::from(area.height);
    let bottom = lines.len().saturating_sub(app.scroll_up.min(lines.len()));
    let top = bottom.saturating_sub(height);
    let visible: Vec<Line<'static>> = lines[top..bottom].to_vec();
    frame.render_widget(Paragraph::new(visible), area);
    if app.scroll_up > 0 && bottom < lines.len() {
        let note = format!(" ↓ {} more lines (PageDown) ", lines.len() - bottom);
        let w = u16::try_from(note.chars().count())
            .unwrap_or(area.width)
            .min(area.width);
        let r = Rect::new(
            area.x + area.width - w,
            area.y + area.height.saturating_sub(1),
            w,
            1,
        );
        frame.render_widget(Paragraph::new(note.reversed()), r);
    }
}

fn working_line(app: &App, now: Instant) -> Line<'static> {
    if let Some(started) = app.running_since {
        let elapsed = now.saturating_duration_since(started);
        let secs = elapsed.as_secs();
        const SPIN: [&str; 4] = ["◐", "◓", "◑", "◒"];
        let spin = SPIN[(elapsed.as_millis() / 250 % 4) as usize];
        let mut spans = vec![
            format!("{spin} Working").bold().cyan(),
            format!(" ({secs}s · Ctrl-C to interrupt)").dim(),
        ];
        if let Some(h) = &app.hint {
            spans.push(format!("  {h}").yellow());
        }
        return Line::from(spans);
    }
    Line::from(app.hint.clone().unwrap_or_default().yellow())
}

fn status_line(app: &App) -> Line<'static> {
    let s = &app.status;
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let cwd = match &home {
        Some(h) if s.cwd.starts_with(h) && h.as_os_str().len() > 1 => {
            let rest = s.cwd.strip_prefix(h).unwrap_or(&s.cwd);
            if rest.as_os_str().is_empty() {
                "~".to_string()
            } else {
                format!("~/{}", rest.display())
            }
        }
        _ => s.cwd.display().to_string(),
    };
    let context = match s.context_percent() {
        Some(p) => format!("{p}% context used"),
        None => format!("{} tokens in context", s.context_tokens),
    };
    let sep = || " · ".dim();
    // The directory goes last: it is the longest, and the first to be cut on a narrow screen.
    Line::from(vec![
        Span::raw(" "),
        Span::raw(s.model.clone()).bold(),
        sep(),
        Span::raw(context),
        sep(),
        Span::raw(format!("sandbox {}", s.sandbox)),
        sep(),
        Span::raw(format!("approvals {}", s.approval)),
        sep(),
        Span::raw(cwd),
    ])
    .style(Style::default().fg(Color::Gray))
}

/// The question's own lines (what would run), before the choices.
fn question_lines(prompt: &ApprovalPrompt, width: u16) -> (String, Vec<Line<'static>>) {
    let (title, lines) = match &prompt.pending.request {
        ApprovalRequest::Command {
            command,
            cwd,
            escalated,
            reason,
        } => {
            let mut lines = vec![Line::from(vec![
                "$ ".bold(),
                Span::raw(shell_words(command)),
            ])];
            lines.push(Line::from(format!("in {}", cwd.display()).dim()));
            if *escalated {
                lines.push(Line::from("outside the sandbox".red()));
            }
            if let Some(r) = reason {
                lines.push(Line::from(format!("why: {r}").italic()));
            }
            (" Run this command? ".to_string(), lines)
        }
        ApprovalRequest::Patch { changes, reason } => {
            let mut lines = patch_lines(changes, Status::InProgress, None, true);
            // The status marker says nothing before the answer.
            lines.remove(0);
            if let Some(r) = reason {
                lines.push(Line::from(format!("why asked: {r}").italic()));
            }
            (" Apply this patch? ".to_string(), lines)
        }
    };
    (title, wrap::wrap_lines(&lines, usize::from(width.max(4))))
}

fn choice_lines(prompt: &ApprovalPrompt) -> Vec<Line<'static>> {
    let mut lines = vec![Line::default()];
    for (i, (key, label)) in prompt.choices().iter().enumerate() {
        let text = format!(" {key}  {label} ");
        lines.push(if i == prompt.selected {
            Line::from(Span::styled(
                format!("›{text}"),
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            ))
        } else {
            Line::from(format!(" {text}"))
        });
    }
    match &prompt.message {
        Some(m) => lines.push(Line::from(vec![
            "Tell codex: ".bold(),
            Span::raw(m.clone()),
            "▏".slow_blink(),
            "  (Enter sends, Esc goes back)".dim(),
        ])),
        None => lines.push(Line::from("↑/↓ and Enter, or the key; Esc says no".dim())),
    }
    lines
}

fn approval_height(prompt: &ApprovalPrompt, area: Rect) -> u16 {
    let inner = area.width.saturating_sub(2);
    let (_, q) = question_lines(prompt, inner);
    let want = q.len() + choice_lines(prompt).len() + 2;
    // While deciding, what would run matters more than the conversation above it.
    let max = usize::from(area.height.saturating_sub(4));
    u16::try_from(want.min(max.max(8))).unwrap_or(u16::MAX)
}

fn draw_approval(frame: &mut Frame, prompt: &ApprovalPrompt, area: Rect) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(Color::Yellow));
    let inner = block.inner(area);
    let (title, question) = question_lines(prompt, inner.width);
    let choices = choice_lines(prompt);
    // The choices always show; a long diff is cut from its end.
    let room = usize::from(inner.height).saturating_sub(choices.len());
    let mut lines: Vec<Line<'static>> = question.iter().take(room).cloned().collect();
    if question.len() > room && room > 0 {
        lines.pop();
        lines.push(Line::from(
            format!("… {} more lines", question.len() - room + 1).dim(),
        ));
    }
    lines.extend(choices);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(block.title(title.bold().yellow())),
        area,
    );
}

/// `argv` as a shell would need it typed, for showing.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
