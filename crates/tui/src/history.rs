//! Prompt history across sessions: `$CODEX_HOME/history.jsonl`, one
//! `{"session_id", "ts", "text"}` object per line, appended as prompts are sent, so Up in a
//! new session recalls what was typed in earlier ones.

use std::io::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Prompts recalled at start-up, at most.
pub const MAX_ENTRIES: usize = 1000;

#[derive(Serialize, Deserialize)]
struct Entry {
    session_id: String,
    ts: u64,
    text: String,
}

/// The last [`MAX_ENTRIES`] prompts in `path`, oldest first. A missing or damaged file is an
/// empty history: it only saves typing.
pub fn load(path: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let all: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Entry>(l).ok())
        .map(|e| e.text)
        .collect();
    let skip = all.len().saturating_sub(MAX_ENTRIES);
    all.into_iter().skip(skip).collect()
}

/// Adds `text` to `path`, in one write so concurrent sessions do not interleave lines.
pub fn append(path: &Path, session_id: &str, text: &str) -> std::io::Result<()> {
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let entry = Entry {
        session_id: session_id.to_string(),
        ts,
        text: text.to_string(),
    };
    let mut line = serde_json::to_string(&entry).map_err(std::io::Error::other)?;
    line.push('\n');
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(line.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_come_back_oldest_first_and_bad_lines_are_skipped() {
        let dir = std::env::temp_dir().join(format!("codex-tui-history-{}", std::process::id()));
        let path = dir.join("history.jsonl");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(load(&path).is_empty());
        append(&path, "s", "first").expect("append");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"not json\n"))
            .expect("damage");
        append(&path, "s", "second\nline").expect("append");
        assert_eq!(load(&path), vec!["first", "second\nline"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
