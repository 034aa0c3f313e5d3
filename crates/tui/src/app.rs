//! The interactive session's state and what keys and agent events do to it. Nothing here
//! touches the terminal: [`crate::render`] draws an [`App`], [`crate::run`] feeds it events, so
//! every screen can be built and checked in tests.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::time::Instant;

use codex_agent::approval::{ApprovalRequest, Decision, Pending};
use codex_agent::events::{AgentEvent, ItemDetails};
use codex_agent::model::{Item, Role};
use codex_agent::rollout::SavedLine;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::style::Stylize as _;
use ratatui::text::Line;

use crate::cells::Cell;
use crate::composer::{Composer, ComposerAction, SlashCommand};

/// The `/` commands, as the composer's popup offers them.
pub const SLASH_COMMANDS: &[SlashCommand] = &[
    SlashCommand {
        name: "model",
        description: "show the model, or switch: /model NAME",
    },
    SlashCommand {
        name: "status",
        description: "session, model, sandbox, approvals and context used",
    },
    SlashCommand {
        name: "diff",
        description: "show the working tree's changes (git diff)",
    },
    SlashCommand {
        name: "new",
        description: "start a new session",
    },
    SlashCommand {
        name: "quit",
        description: "leave codex",
    },
    #[cfg(feature = "test-panic")]
    SlashCommand {
        name: "panic",
        description: "test build only: panic, to check the terminal is restored",
    },
];

/// What the status line shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusInfo {
    /// The session id.
    pub session_id: String,
    /// The model.
    pub model: String,
    /// The sandbox mode.
    pub sandbox: String,
    /// The approval policy.
    pub approval: String,
    /// The working directory.
    pub cwd: PathBuf,
    /// Tokens the conversation takes in the model's context.
    pub context_tokens: u64,
    /// The model's context window, when known.
    pub context_window: Option<u64>,
}

impl StatusInfo {
    /// The share of the context window used, in percent, when the window is known.
    pub fn context_percent(&self) -> Option<u64> {
        let window = self.context_window.filter(|w| *w > 0)?;
        Some((self.context_tokens.saturating_mul(100) / window).min(100))
    }
}

/// A newer release, announced in one line above the conversation until dismissed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    /// The version announced; dismissing hides it until a newer one appears.
    pub version: String,
    /// The line, with the exact update command for this install.
    pub text: String,
}

/// An approval question on screen.
#[derive(Debug)]
pub struct ApprovalPrompt {
    /// The question, and where the answer goes.
    pub pending: Pending,
    /// The highlighted choice (index into [`CHOICES`]).
    pub selected: usize,
    /// While the user types what to tell the model (the last choice).
    pub message: Option<String>,
}

/// The keys of the answers to an approval question, in order.
pub const CHOICES: [char; 4] = ['y', 'a', 'n', 'm'];

impl ApprovalPrompt {
    /// The answers, as key and label, worded for what is asked.
    pub fn choices(&self) -> [(char, &'static str); 4] {
        let (once, always) = match self.pending.request {
            ApprovalRequest::Command { .. } => (
                "Yes, run it",
                "Yes, and do not ask again for this command in this session",
            ),
            ApprovalRequest::Patch { .. } => (
                "Yes, apply it",
                "Yes, and do not ask again for these files in this session",
            ),
        };
        [
            (CHOICES[0], once),
            (CHOICES[1], always),
            (CHOICES[2], "No"),
            (CHOICES[3], "No, and tell codex what to do instead"),
        ]
    }
}

/// What the app wants done after an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing beyond redrawing.
    None,
    /// Send this prompt as a turn.
    Submit(String),
    /// Stop the running turn.
    Interrupt,
    /// Leave.
    Quit,
    /// Ask this model from now on.
    SetModel(String),
    /// Replace the session with a new one.
    NewSession,
    /// Hide the update banner for this version from now on.
    DismissBanner(String),
}

/// The whole interactive session as the screen shows it.
#[derive(Debug)]
pub struct App {
    /// The conversation.
    pub cells: Vec<Cell>,
    /// The prompt input.
    pub composer: Composer,
    /// The status line.
    pub status: StatusInfo,
    /// When the running turn started, while one runs.
    pub running_since: Option<Instant>,
    /// The approval question on screen, if any.
    pub approval: Option<ApprovalPrompt>,
    /// The update banner, until dismissed.
    pub banner: Option<Banner>,
    /// Rows scrolled up from the bottom of the conversation (0 follows new output).
    pub scroll_up: usize,
    /// Tool output and long diffs in full.
    pub expanded: bool,
    /// A one-line hint above the composer (e.g. "Ctrl-C again to quit").
    pub hint: Option<String>,
    queued_approvals: VecDeque<Pending>,
    queued_prompts: VecDeque<String>,
    quit_armed: bool,
    steps: HashMap<String, usize>,
}

impl App {
    /// A new session's screen; `history` is earlier prompts for Up/Down.
    pub fn new(status: StatusInfo, banner: Option<Banner>, history: Vec<String>) -> Self {
        App {
            cells: Vec::new(),
            composer: Composer::new(history, SLASH_COMMANDS),
            status,
            running_since: None,
            approval: None,
            banner,
            scroll_up: 0,
            expanded: false,
            hint: None,
            queued_approvals: VecDeque::new(),
            queued_prompts: VecDeque::new(),
            quit_armed: false,
            steps: HashMap::new(),
        }
    }

    /// Shows a saved session's conversation again (`codex resume`).
    pub fn replay(&mut self, lines: &[SavedLine]) {
        for line in lines {
            match line {
                SavedLine::Item(Item::Message {
                    role: Role::User,
                    text,
                    ..
                }) => self.cells.push(Cell::User(text.clone())),
                SavedLine::Item(_) => {}
                SavedLine::Event(e) => self.on_agent_event(e),
            }
        }
        self.running_since = None;
        self.push_info(vec![Line::from(
            format!("• resumed session {}", self.status.session_id).dim(),
        )]);
    }

    /// Whether a turn is running.
    pub fn is_running(&self) -> bool {
        self.running_since.is_some()
    }

    /// Adds a note from codex.
    pub fn push_info(&mut self, lines: Vec<Line<'static>>) {
        self.cells.push(Cell::Info(lines));
        self.scroll_up = 0;
    }

    /// A new approval question: shown at once, or after the one on screen is answered.
    pub fn on_approval(&mut self, pending: Pending) {
        if self.approval.is_some() {
            self.queued_approvals.push_back(pending);
        } else {
            self.approval = Some(ApprovalPrompt {
                pending,
                selected: 0,
                message: None,
            });
        }
        self.scroll_up = 0;
    }

    /// What the agent reported.
    pub fn on_agent_event(&mut self, event: &AgentEvent) {
        match event {
            AgentEvent::ThreadStarted { .. } => {}
            AgentEvent::TurnStarted => {
                self.running_since.get_or_insert_with(Instant::now);
            }
            AgentEvent::AgentMessageDelta { delta } => match self.cells.last_mut() {
                Some(Cell::Agent {
                    text,
                    streaming: true,
                }) => text.push_str(delta),
                _ => self.cells.push(Cell::Agent {
                    text: delta.clone(),
                    streaming: true,
                }),
            },
            AgentEvent::ItemStarted { item } => self.step(&item.id, &item.details),
            AgentEvent::ItemCompleted { item } => match &item.details {
                ItemDetails::AgentMessage { text } => {
                    let streamed = self.cells.iter().rposition(|c| {
                        matches!(
                            c,
                            Cell::Agent {
                                streaming: true,
                                ..
                            }
                        )
                    });
                    let done = Cell::Agent {
                        text: text.clone(),
                        streaming: false,
                    };
                    match streamed {
                        Some(i) => self.cells[i] = done,
                        None if !text.is_empty() => self.cells.push(done),
                        None => {}
                    }
                }
                details => self.step(&item.id, details),
            },
            AgentEvent::TurnCompleted { .. } => self.turn_ended(),
            AgentEvent::TurnFailed { error } => {
                let text = if error.message.contains("interrupted") {
                    "Interrupted. Tell codex what to do differently.".to_string()
                } else {
                    error.message.clone()
                };
                self.cells.push(Cell::Error(text));
                self.turn_ended();
            }
        }
    }

    /// The agent finished a turn; `context_tokens` is the conversation's size now.
    pub fn on_turn_done(&mut self, context_tokens: u64) -> Action {
        self.status.context_tokens = context_tokens;
        self.turn_ended();
        match self.queued_prompts.pop_front() {
            Some(next) => self.start_turn(next),
            None => Action::None,
        }
    }

    fn turn_ended(&mut self) {
        self.running_since = None;
        for c in &mut self.cells {
            if let Cell::Agent { streaming, .. } = c {
                *streaming = false;
            }
        }
    }

    fn step(&mut self, id: &str, details: &ItemDetails) {
        match self.steps.get(id) {
            Some(&i) => {
                self.cells[i] = Cell::Step {
                    id: id.to_string(),
                    details: details.clone(),
                }
            }
            None => {
                self.steps.insert(id.to_string(), self.cells.len());
                self.cells.push(Cell::Step {
                    id: id.to_string(),
                    details: details.clone(),
                });
            }
        }
    }

    /// Pasted text goes into the composer (or the message being typed for a denial).
    pub fn on_paste(&mut self, text: &str) {
        match &mut self.approval {
            Some(ApprovalPrompt {
                message: Some(m), ..
            }) => m.push_str(&text.replace(['\r', '\n'], " ")),
            Some(_) => {}
            None => self.composer.handle_paste(text),
        }
    }

    /// A key press.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        if key.kind == KeyEventKind::Release {
            return Action::None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            return self.ctrl_c();
        }
        if self.quit_armed {
            self.quit_armed = false;
            self.hint = None;
        }
        if self.approval.is_some() {
            self.approval_key(key);
            return Action::None;
        }
        match key.code {
            KeyCode::Char('o') if ctrl => {
                self.expanded = !self.expanded;
                return Action::None;
            }
            KeyCode::Char('d') if ctrl && self.composer.is_empty() => return Action::Quit,
            KeyCode::PageUp => {
                self.scroll_up = self.scroll_up.saturating_add(10);
                return Action::None;
            }
            KeyCode::PageDown => {
                self.scroll_up = self.scroll_up.saturating_sub(10);
                return Action::None;
            }
            KeyCode::Esc
                if self.banner.is_some()
                    && self.composer.is_empty()
                    && self.composer.popup().is_none() =>
            {
                if let Some(b) = self.banner.take() {
                    return Action::DismissBanner(b.version);
                }
            }
            _ => {}
        }
        match self.composer.handle_key(key) {
            ComposerAction::None => Action::None,
            ComposerAction::Submit(text) => self.submit(text),
        }
    }

    /// Ctrl-C: answers "no" to a question on screen and stops the turn; otherwise clears the
    /// composer; pressed again right after, quits.
    fn ctrl_c(&mut self) -> Action {
        if self.quit_armed {
            return Action::Quit;
        }
        self.quit_armed = true;
        self.hint = Some("Press Ctrl-C again to quit".into());
        if let Some(a) = self.approval.take() {
            let _ = a.pending.reply.send(Decision::Deny);
            for p in self.queued_approvals.drain(..) {
                let _ = p.reply.send(Decision::Deny);
            }
        }
        if self.is_running() {
            self.queued_prompts.clear();
            return Action::Interrupt;
        }
        self.composer.clear();
        Action::None
    }

    fn approval_key(&mut self, key: KeyEvent) {
        let Some(prompt) = &mut self.approval else {
            return;
        };
        if let Some(message) = &mut prompt.message {
            match key.code {
                KeyCode::Enter => {
                    let m = message.trim().to_string();
                    let decision = if m.is_empty() {
                        Decision::Deny
                    } else {
                        Decision::DenyWithMessage(m)
                    };
                    self.answer(decision);
                }
                KeyCode::Esc => prompt.message = None,
                KeyCode::Backspace => {
                    message.pop();
                }
                KeyCode::Char(c) => message.push(c),
                _ => {}
            }
            return;
        }
        let choice = match key.code {
            KeyCode::Up => {
                prompt.selected = prompt.selected.saturating_sub(1);
                None
            }
            KeyCode::Down => {
                prompt.selected = (prompt.selected + 1).min(CHOICES.len() - 1);
                None
            }
            KeyCode::Enter => Some(prompt.selected),
            KeyCode::Esc => Some(2),
            KeyCode::Char(c) => CHOICES.iter().position(|k| *k == c),
            _ => None,
        };
        match choice {
            Some(0) => self.answer(Decision::Approve),
            Some(1) => self.answer(Decision::ApproveForSession),
            Some(2) => self.answer(Decision::Deny),
            Some(3) => prompt.message = Some(String::new()),
            _ => {}
        }
    }

    fn answer(&mut self, decision: Decision) {
        if let Some(a) = self.approval.take() {
            let _ = a.pending.reply.send(decision);
        }
        if let Some(next) = self.queued_approvals.pop_front() {
            self.on_approval(next);
        }
    }

    /// Sends `text` as if typed and submitted (the prompt given on the command line).
    pub fn send(&mut self, text: String) -> Action {
        self.submit(text)
    }

    fn submit(&mut self, text: String) -> Action {
        let trimmed = text.trim();
        if let Some(command) = trimmed.strip_prefix('/') {
            let (name, arg) = command
                .split_once(char::is_whitespace)
                .map_or((command, ""), |(n, a)| (n, a.trim()));
            return self.slash(name, arg);
        }
        if self.is_running() {
            self.queued_prompts.push_back(text.clone());
            self.hint = Some(format!(
                "Queued: sent when the turn ends ({} waiting)",
                self.queued_prompts.len()
            ));
            return Action::None;
        }
        self.start_turn(text)
    }

    fn start_turn(&mut self, text: String) -> Action {
        self.cells.push(Cell::User(text.clone()));
        self.running_since = Some(Instant::now());
        self.scroll_up = 0;
        self.hint = None;
        Action::Submit(text)
    }

    fn slash(&mut self, name: &str, arg: &str) -> Action {
        match name {
            "quit" | "exit" => Action::Quit,
            "new" if self.is_running() => {
                self.hint = Some("A turn is running: Ctrl-C stops it, then /new".into());
                Action::None
            }
            "new" => Action::NewSession,
            "model" if arg.is_empty() => {
                self.push_info(vec![Line::from(format!(
                    "• model {}: /model NAME switches (the conversation goes with it)",
                    self.status.model
                ))]);
                Action::None
            }
            "model" => {
                self.status.model = arg.to_string();
                self.push_info(vec![Line::from(format!("• model set to {arg}"))]);
                Action::SetModel(arg.to_string())
            }
            "status" => {
                let lines = status_lines(&self.status);
                self.push_info(lines);
                Action::None
            }
            "diff" => {
                let cell = match git_diff(&self.status.cwd) {
                    Ok(d) => Cell::Diff(d),
                    Err(e) => Cell::Error(e),
                };
                self.cells.push(cell);
                self.scroll_up = 0;
                Action::None
            }
            #[cfg(feature = "test-panic")]
            "panic" => panic!("test-panic: /panic was typed"),
            other => {
                let names: Vec<String> = SLASH_COMMANDS
                    .iter()
                    .map(|c| format!("/{}", c.name))
                    .collect();
                self.cells.push(Cell::Error(format!(
                    "unknown command /{other}: the commands are {}",
                    names.join(", ")
                )));
                Action::None
            }
        }
    }

    /// A new session replaced the old one: a clean screen with its status.
    pub fn on_new_session(&mut self, status: StatusInfo) {
        self.cells.clear();
        self.steps.clear();
        self.status = status;
        self.running_since = None;
        self.push_info(vec![Line::from(
            format!("• new session {}", self.status.session_id).dim(),
        )]);
    }
}

/// `/status`.
fn status_lines(s: &StatusInfo) -> Vec<Line<'static>> {
    let context = match (s.context_percent(), s.context_window) {
        (Some(p), Some(w)) => format!("{} of {w} tokens ({p}%)", s.context_tokens),
        _ => format!("{} tokens (window unknown)", s.context_tokens),
    };
    vec![
        Line::from("• /status".bold()),
        Line::from(format!("  session    {}", s.session_id)),
        Line::from(format!("  model      {}", s.model)),
        Line::from(format!("  sandbox    {}", s.sandbox)),
        Line::from(format!("  approvals  {}", s.approval)),
        Line::from(format!("  directory  {}", s.cwd.display())),
        Line::from(format!("  context    {context}")),
    ]
}

/// `git diff` of the working tree against HEAD (staged and not), plus untracked files' names.
fn git_diff(cwd: &std::path::Path) -> Result<String, String> {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(cwd)
            .args(args)
            .output()
            .map_err(|e| format!("/diff needs git: {e}"))
    };
    let inside = run(&["rev-parse", "--is-inside-work-tree"])?;
    if !inside.status.success() {
        return Err(format!(
            "/diff: {} is not in a git repository",
            cwd.display()
        ));
    }
    // A repository without commits has no HEAD to compare with: then the index is the base.
    let has_head = run(&["rev-parse", "--verify", "-q", "HEAD"])?
        .status
        .success();
    let diff = if has_head {
        run(&["diff", "--no-color", "--no-ext-diff", "HEAD"])?
    } else {
        run(&["diff", "--no-color", "--no-ext-diff"])?
    };
    let mut text = String::from_utf8_lossy(&diff.stdout).into_owned();
    let untracked = run(&["ls-files", "--others", "--exclude-standard"])?;
    for f in String::from_utf8_lossy(&untracked.stdout).lines() {
        text.push_str(&format!("+++ untracked: {f}\n"));
    }
    Ok(text)
}
