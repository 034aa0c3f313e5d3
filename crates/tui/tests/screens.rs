//! The main screens, drawn on ratatui's `TestBackend` and pinned as snapshots: a streaming
//! answer, a command's output, a patch's diff, the approval prompts and the update banner.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use codex_agent::approval::{ApprovalRequest, Pending};
use codex_agent::events::{AgentEvent, FileChange, ItemDetails, Status, ThreadItem};
use codex_tui::app::{App, Banner, StatusInfo};
use codex_tui::render::draw_at;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn status() -> StatusInfo {
    StatusInfo {
        session_id: "0192-test".into(),
        model: "gpt-5-codex".into(),
        sandbox: "workspace-write".into(),
        approval: "on-request".into(),
        cwd: PathBuf::from("/srv/project"),
        context_tokens: 54_400,
        context_window: Some(272_000),
    }
}

fn app() -> App {
    App::new(status(), None, Vec::new())
}

/// The screen as text, 80 by 24, with the turn running for 3.1 s when one runs.
fn screen(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    let now = app
        .running_since
        .map_or_else(Instant::now, |t| t + Duration::from_millis(3100));
    terminal.draw(|f| draw_at(f, app, now)).expect("draw");
    terminal.backend().to_string()
}

fn completed(id: &str, details: ItemDetails) -> AgentEvent {
    AgentEvent::ItemCompleted {
        item: ThreadItem {
            id: id.into(),
            details,
        },
    }
}

fn send(app: &mut App, text: &str) {
    app.composer.set_text(text);
    let action = app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(action, codex_tui::app::Action::Submit(text.into()));
}

#[test]
fn a_streaming_answer_renders_its_markdown_as_it_arrives() {
    let mut app = app();
    send(&mut app, "explain the build");
    app.on_agent_event(&AgentEvent::TurnStarted);
    for piece in [
        "The build has **two** steps:\n\n",
        "1. `cargo xtask dist` compiles\n",
        "2. the archives are signed\n\n```sh\ncargo xt",
    ] {
        app.on_agent_event(&AgentEvent::AgentMessageDelta {
            delta: piece.into(),
        });
    }
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn a_command_shows_its_last_lines_exit_status_and_duration() {
    let mut app = app();
    send(&mut app, "run the tests");
    let output: String = (1..=9).map(|i| format!("test case_{i} ... ok\n")).collect();
    app.on_agent_event(&completed(
        "item_0",
        ItemDetails::CommandExecution {
            command: "cargo test".into(),
            cwd: "/srv/project".into(),
            aggregated_output: output + "error: 1 test failed\n",
            exit_code: Some(101),
            sandbox_denied: false,
            duration_ms: Some(12_345),
            status: Status::Failed,
        },
    ));
    app.on_agent_event(&completed(
        "item_1",
        ItemDetails::AgentMessage {
            text: "One test fails.".into(),
        },
    ));
    app.on_agent_event(&AgentEvent::TurnCompleted {
        usage: Default::default(),
    });
    let collapsed = screen(&app);
    insta::assert_snapshot!("command_collapsed", collapsed);
    // Ctrl-O shows all of it.
    app.on_key(KeyEvent::new(KeyCode::Char('o'), KeyModifiers::CONTROL));
    let expanded = screen(&app);
    assert!(expanded.contains("case_1 "), "{expanded}");
    assert!(!collapsed.contains("case_1 "), "{collapsed}");
}

const DIFF: &str = "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,4 +1,4 @@\n fn main() {\n-    println!(\"hello\");\n+    println!(\"hello, world\");\n }\n \n";

fn change() -> FileChange {
    FileChange {
        path: "src/lib.rs".into(),
        kind: "update".into(),
        unified_diff: DIFF.into(),
    }
}

#[test]
fn an_applied_patch_is_a_coloured_unified_diff() {
    let mut app = app();
    send(&mut app, "greet the world");
    app.on_agent_event(&completed(
        "item_0",
        ItemDetails::FileChange {
            changes: vec![change()],
            status: Status::Completed,
            error: None,
        },
    ));
    insta::assert_snapshot!(screen(&app));
    // The colours, which the text snapshot does not show.
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    terminal
        .draw(|f| draw_at(f, &app, Instant::now()))
        .expect("draw");
    let buffer = terminal.backend().buffer().clone();
    let colour_of = |needle: &str| {
        let rows = buffer.area.height;
        (0..rows).find_map(|y| {
            let row: String = (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect();
            row.find(needle).map(|col| {
                let x = row[..col].chars().count() as u16;
                buffer[(x, y)].fg
            })
        })
    };
    assert_eq!(
        colour_of("+    println!(\"hello, world\")"),
        Some(ratatui::style::Color::Green)
    );
    assert_eq!(
        colour_of("-    println!(\"hello\")"),
        Some(ratatui::style::Color::Red)
    );
}

fn pending(request: ApprovalRequest) -> Pending {
    let (reply, _answer) = tokio::sync::oneshot::channel();
    Pending { request, reply }
}

#[test]
fn a_command_approval_offers_the_four_answers() {
    let mut app = app();
    send(&mut app, "clean the build");
    app.on_approval(pending(ApprovalRequest::Command {
        command: vec!["rm".into(), "-rf".into(), "target dir".into()],
        cwd: "/srv/project".into(),
        escalated: true,
        reason: Some("the build dir is outside the workspace".into()),
    }));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn a_patch_approval_shows_the_diff_and_the_message_being_typed() {
    let mut app = app();
    send(&mut app, "greet the world");
    app.on_approval(pending(ApprovalRequest::Patch {
        changes: vec![change()],
        reason: Some("the sandbox is read-only".into()),
    }));
    app.on_key(KeyEvent::new(KeyCode::Char('m'), KeyModifiers::NONE));
    for c in "say hi instead".chars() {
        app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn the_update_banner_names_the_command_and_esc_dismisses_it_for_that_version() {
    let banner = Banner {
        version: "0.2.0".into(),
        text: "codex 0.2.0 is available (you have 0.1.0): run npm install -g @openai/codex@latest"
            .into(),
    };
    let mut app = App::new(status(), Some(banner), Vec::new());
    insta::assert_snapshot!(screen(&app));
    let action = app.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert_eq!(
        action,
        codex_tui::app::Action::DismissBanner("0.2.0".into())
    );
    assert!(!screen(&app).contains("is available"));
}
