//! The interactive, full-screen `codex` (ratatui on crossterm): the conversation as it streams,
//! tool calls with their output, patches as coloured diffs, approval prompts, a composer with
//! history, `/` commands and `@` file mentions, and a status line.

pub mod app;
pub mod cells;
pub mod composer;
pub mod diff;
pub mod files;
pub mod history;
pub mod markdown;
pub mod render;
pub mod run;
pub mod terminal;
pub mod wrap;

pub use app::{Banner, StatusInfo};
pub use run::{Exit, OpenSession, Options, run};
