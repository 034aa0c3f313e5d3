//! `codex exec --color always|never|auto`: colour in the progress on stderr (the header bold,
//! commands bold, outcomes green or red, errors red). `auto` colours only a terminal, and not
//! when NO_COLOR is set. Standard output (the final message, or JSON) is never coloured: it is
//! for scripts.

use std::io::IsTerminal as _;

use codex_agent::events::{AgentEvent, ItemDetails, Status};

/// Set to anything but the empty string, it turns `--color auto` off (the no-color.org
/// convention).
pub const NO_COLOR_ENV: &str = "NO_COLOR";

/// `--color`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Always colour.
    Always,
    /// Never colour.
    Never,
    /// Colour when stderr is a terminal and NO_COLOR is not set.
    #[default]
    Auto,
}

/// Styles progress lines, or leaves them alone when colour is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Painter {
    on: bool,
}

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[1;31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const MAGENTA: &str = "\x1b[1;35m";
const DIM: &str = "\x1b[2m";

impl Painter {
    /// Whether `choice` colours here, given the terminal and the environment.
    pub fn new(choice: ColorChoice) -> Painter {
        let on = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stderr().is_terminal()
                    && std::env::var_os(NO_COLOR_ENV).is_none_or(|v| v.is_empty())
            }
        };
        Painter { on }
    }

    fn paint(&self, style: &str, text: &str) -> String {
        if self.on {
            format!("{style}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    /// The session header.
    pub fn header(&self, text: &str) -> String {
        self.paint(BOLD, text)
    }

    /// An `error: …` line.
    pub fn error(&self, text: &str) -> String {
        self.paint(RED, text)
    }

    /// A `warning: …` line.
    pub fn warning(&self, text: &str) -> String {
        self.paint(YELLOW, text)
    }

    /// `line`, the progress line of `event`, styled for what it says.
    pub fn progress(&self, event: &AgentEvent, line: &str) -> String {
        match event {
            AgentEvent::ItemStarted { .. } => self.paint(BOLD, line),
            AgentEvent::ItemCompleted { item } => match &item.details {
                ItemDetails::AgentMessage { .. } => match line.split_once(' ') {
                    Some((who, rest)) => format!("{} {rest}", self.paint(MAGENTA, who)),
                    None => line.to_string(),
                },
                ItemDetails::CommandExecution { status, .. }
                | ItemDetails::McpToolCall { status, .. } => match status {
                    Status::Completed => self.paint(GREEN, line),
                    _ => self.paint(RED, line),
                },
                ItemDetails::FileChange { error: Some(_), .. } => self.paint(RED, line),
                ItemDetails::FileChange { .. } => self.paint(YELLOW, line),
                ItemDetails::TodoList { .. } | ItemDetails::Reasoning { .. } => {
                    self.paint(DIM, line)
                }
            },
            _ => line.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_leaves_text_alone_and_always_wraps_it() {
        let off = Painter::new(ColorChoice::Never);
        assert_eq!(off.error("error: x"), "error: x");
        let on = Painter::new(ColorChoice::Always);
        assert_eq!(on.error("error: x"), "\x1b[1;31merror: x\x1b[0m");
    }
}
