//! The `notify` hook: at the end of each turn, `notify = ["program", "arg", …]` from config.toml
//! runs with a JSON description of the turn as its last argument. It is fire and forget: codex
//! neither waits for it nor lets its failure touch the turn; a failure is logged.

use std::path::Path;
use std::process::{Command, Stdio};

use serde::Serialize;

/// What the notifier gets, as its last argument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "type",
    rename = "agent-turn-complete",
    rename_all = "kebab-case"
)]
pub struct TurnComplete<'a> {
    /// The session's id.
    pub thread_id: &'a str,
    /// The turn's id within the session: `turn_1`, `turn_2`, ….
    pub turn_id: String,
    /// The session's working directory.
    pub cwd: String,
    /// The user's input for this turn.
    pub input_messages: Vec<&'a str>,
    /// The model's final message.
    pub last_assistant_message: &'a str,
}

/// Starts `argv` with `payload` appended and does not wait for it. Never fails: a notifier that
/// cannot start, or exits badly, is logged.
pub fn run(argv: &[String], payload: &TurnComplete<'_>, cwd: &Path) {
    let Some((program, args)) = argv.split_first() else {
        return;
    };
    let json = match serde_json::to_string(payload) {
        Ok(j) => j,
        Err(e) => {
            tracing::warn!("notify: cannot describe the turn: {e}");
            return;
        }
    };
    let spawned = Command::new(program)
        .args(args)
        .arg(json)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match spawned {
        Ok(mut child) => {
            let program = program.clone();
            // Reaped on a thread of its own, so that a slow notifier never holds up a turn.
            std::thread::spawn(move || match child.wait() {
                Ok(s) if s.success() => {}
                Ok(s) => tracing::warn!("notify: {program} exited with {s}"),
                Err(e) => tracing::warn!("notify: waiting for {program}: {e}"),
            });
        }
        Err(e) => {
            tracing::warn!("notify: cannot run {program}: {e}; check `notify` in config.toml")
        }
    }
}
