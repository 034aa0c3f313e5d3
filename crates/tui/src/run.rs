//! The event loop: keys, pastes and resizes from the terminal, events and approval questions
//! from the agent, and signals, each applied to the [`App`] and the screen redrawn. The
//! session itself lives in its own task, so the screen keeps up while a turn runs.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use anyhow::{Context as _, Result};
use codex_agent::approval::{Asker, Pending};
use codex_agent::events::AgentEvent;
use codex_agent::rollout::SavedLine;
use codex_agent::session::Session;
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt as _;
use tokio::sync::{mpsc, watch};

use crate::app::{Action, App, Banner, StatusInfo};
use crate::cells::Cell;
use crate::terminal::TerminalGuard;
use crate::{files, history, render};

/// Files offered for `@` mentions, at most.
const MAX_MENTION_FILES: usize = 20_000;

/// Opens a session: `fresh` is false for the first one (which may resume a saved session) and
/// true for `/new`. Approval questions go to the [`Asker`]. Besides the session: warnings to
/// show (an MCP server that did not start, ...).
pub type OpenSession = Box<
    dyn FnMut(Asker, bool) -> Pin<Box<dyn Future<Output = Result<(Session, Vec<String>)>> + Send>>
        + Send,
>;

/// What the interactive session starts with.
pub struct Options {
    /// Sent as the first turn.
    pub prompt: Option<String>,
    /// A newer release to announce.
    pub banner: Option<Banner>,
    /// Called with the version when the user dismisses the banner.
    pub dismiss_banner: Box<dyn FnMut(&str) + Send>,
    /// A resumed session's saved lines, shown first.
    pub replay: Vec<SavedLine>,
    /// `$CODEX_HOME/history.jsonl`, when there is a CODEX_HOME: read for Up at start-up.
    pub history_file: Option<PathBuf>,
    /// Whether prompts are appended to `history_file` (`history.persistence`).
    pub save_history: bool,
    /// `history.max_bytes`: the file's oldest lines go once it is larger.
    pub history_max_bytes: Option<u64>,
    /// `model_context_window` from config.toml, over the built-in table.
    pub context_window: Option<u64>,
    /// Draw on the alternate screen (the default); `false` (`--no-alt-screen`) draws on the
    /// main screen, so the terminal's scrollback and the last screen stay after exit.
    pub alt_screen: bool,
}

/// How the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// The process exit code: 0, or 128 + the signal that ended it.
    pub code: i32,
    /// The last session's id, for `codex resume`.
    pub session_id: String,
}

enum Op {
    Turn(String),
    SetModel(String),
    New,
}

enum FromAgent {
    Event(AgentEvent),
    TurnDone { context_tokens: u64 },
    NewSession(StatusInfo),
    Files(Vec<String>),
    Error(String),
}

fn status_of(session: &Session, window: Option<u64>) -> StatusInfo {
    StatusInfo {
        session_id: session.id().to_string(),
        model: session.model().to_string(),
        sandbox: session.tools().sandbox.mode.to_string(),
        approval: session.tools().approvals.policy().to_string(),
        cwd: session.tools().cwd.clone(),
        context_tokens: session.context_tokens(),
        context_window: window.or_else(|| codex_agent::model::context_window(session.model())),
    }
}

/// Runs the interactive session until the user quits or a signal ends it. The first session is
/// opened before the screen is taken over, so a bad setup fails with its one-line error.
pub async fn run(mut options: Options, mut open: OpenSession) -> Result<Exit> {
    let (asker, mut questions) = mpsc::unbounded_channel::<Pending>();
    let (session, warnings) = open(asker.clone(), false).await?;
    let window = options.context_window;
    let mut app = App::new(
        status_of(&session, window),
        options.banner.take(),
        options
            .history_file
            .as_deref()
            .map(history::load)
            .unwrap_or_default(),
    );
    if !options.replay.is_empty() {
        app.replay(&options.replay);
        app.status.context_tokens = session.context_tokens();
    }
    for w in warnings {
        app.cells.push(Cell::Error(w));
    }
    let cwd = session.tools().cwd.clone();
    let (ops, ops_rx) = mpsc::unbounded_channel::<Op>();
    let (to_app, mut from_agent) = mpsc::unbounded_channel::<FromAgent>();
    let (interrupt, interrupt_rx) = watch::channel(0u64);
    {
        let to_app = to_app.clone();
        tokio::task::spawn_blocking(move || {
            let _ = to_app.send(FromAgent::Files(files::list(&cwd, MAX_MENTION_FILES)));
        });
    }
    let agent = tokio::spawn(agent_task(
        session,
        open,
        asker,
        ops_rx,
        to_app,
        interrupt_rx,
        window,
    ));
    let mut signals = Signals::new()?;
    let mut guard =
        TerminalGuard::enter(options.alt_screen).context("cannot set up the terminal")?;
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut turns = 0u64;
    let mut pending = match options.prompt.take() {
        Some(p) if !p.trim().is_empty() => app.send(p),
        _ => Action::None,
    };
    let code = loop {
        match std::mem::replace(&mut pending, Action::None) {
            Action::None => {}
            Action::Submit(text) => {
                if let Some(path) = &options.history_file
                    && options.save_history
                    && let Err(e) = history::append(
                        path,
                        &app.status.session_id,
                        &text,
                        options.history_max_bytes,
                    )
                {
                    tracing::warn!("cannot save the prompt to {}: {e}", path.display());
                }
                app.composer.push_history(text.clone());
                turns += 1;
                let _ = ops.send(Op::Turn(text));
            }
            Action::Interrupt => {
                let _ = interrupt.send(turns);
            }
            Action::Quit => break 0,
            Action::SetModel(m) => {
                app.status.context_window =
                    window.or_else(|| codex_agent::model::context_window(&m));
                let _ = ops.send(Op::SetModel(m));
            }
            Action::NewSession => {
                let _ = ops.send(Op::New);
            }
            Action::DismissBanner(version) => (options.dismiss_banner)(&version),
        }
        guard
            .terminal
            .draw(|f| render::draw(f, &app))
            .context("cannot draw on the terminal")?;
        pending = tokio::select! {
            event = keys.next() => match event {
                Some(Ok(Event::Key(key))) => app.on_key(key),
                Some(Ok(Event::Paste(text))) => {
                    app.on_paste(&text);
                    Action::None
                }
                Some(Ok(_)) => Action::None,
                Some(Err(e)) => return Err(e).context("cannot read the terminal"),
                None => Action::Quit,
            },
            message = from_agent.recv() => {
                let Some(message) = message else {
                    drop(guard);
                    anyhow::bail!("the session stopped unexpectedly (see $CODEX_HOME/log/codex.log with RUST_LOG=debug)");
                };
                let mut action = on_message(&mut app, message);
                // Apply whatever else already arrived (a burst of deltas) before drawing once.
                while action == Action::None {
                    match from_agent.try_recv() {
                        Ok(m) => action = on_message(&mut app, m),
                        Err(_) => break,
                    }
                }
                action
            }
            Some(question) = questions.recv() => {
                app.on_approval(question);
                Action::None
            }
            code = signals.recv() => break code,
            _ = tick.tick(), if app.is_running() => Action::None,
        };
    };
    drop(guard);
    agent.abort();
    Ok(Exit {
        code,
        session_id: app.status.session_id.clone(),
    })
}

fn on_message(app: &mut App, message: FromAgent) -> Action {
    match message {
        FromAgent::Event(e) => {
            app.on_agent_event(&e);
            Action::None
        }
        FromAgent::TurnDone { context_tokens } => app.on_turn_done(context_tokens),
        FromAgent::NewSession(status) => {
            app.on_new_session(status);
            Action::None
        }
        FromAgent::Files(files) => {
            app.composer.set_files(files);
            Action::None
        }
        FromAgent::Error(e) => {
            app.cells.push(Cell::Error(e));
            Action::None
        }
    }
}

async fn agent_task(
    mut session: Session,
    mut open: OpenSession,
    asker: Asker,
    mut ops: mpsc::UnboundedReceiver<Op>,
    to_app: mpsc::UnboundedSender<FromAgent>,
    interrupts: watch::Receiver<u64>,
    window: Option<u64>,
) {
    let mut turns = 0u64;
    while let Some(op) = ops.recv().await {
        match op {
            Op::Turn(text) => {
                turns += 1;
                let mine = turns;
                let mut rx = interrupts.clone();
                let interrupted = async move {
                    if rx.wait_for(|n| *n >= mine).await.is_err() {
                        // The screen is gone; it can no longer interrupt.
                        std::future::pending::<()>().await;
                    }
                };
                let events = to_app.clone();
                let mut emit = move |e: &AgentEvent| {
                    let _ = events.send(FromAgent::Event(e.clone()));
                };
                // A failed turn has told the screen through its TurnFailed event.
                let _ = session.run_turn_until(text, &mut emit, interrupted).await;
                let _ = to_app.send(FromAgent::TurnDone {
                    context_tokens: session.context_tokens(),
                });
            }
            Op::SetModel(m) => session.set_model(&m),
            Op::New => match open(asker.clone(), true).await {
                Ok((s, warnings)) => {
                    session = s;
                    let _ = to_app.send(FromAgent::NewSession(status_of(&session, window)));
                    for w in warnings {
                        let _ = to_app.send(FromAgent::Error(w));
                    }
                }
                Err(e) => {
                    let _ = to_app.send(FromAgent::Error(format!(
                        "cannot start a new session: {e:#}"
                    )));
                }
            },
        }
    }
}

/// The signals that end the session: the terminal goes back to normal before exiting.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen = |k: SignalKind| signal(k).context("cannot listen for signals");
            Ok(Signals {
                term: listen(SignalKind::terminate())?,
                hup: listen(SignalKind::hangup())?,
                int: listen(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The exit code for the next signal: 128 + its number.
    async fn recv(&mut self) -> i32 {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => 128 + 15,
                _ = self.hup.recv() => 128 + 1,
                // Raw mode turns Ctrl-C into a key; this is a SIGINT sent by another process.
                _ = self.int.recv() => 128 + 2,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            128 + 2
        }
    }
}
