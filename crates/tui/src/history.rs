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

/// Adds `text` to `path`, in one write so concurrent sessions do not interleave lines. The file
/// is made with mode 0600 (prompts can hold anything); past `max_bytes` its oldest lines are
/// dropped, by writing the rest to a temporary file beside it and renaming it over.
pub fn append(
    path: &Path,
    session_id: &str,
    text: &str,
    max_bytes: Option<u64>,
) -> std::io::Result<()> {
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
    let mut open = std::fs::OpenOptions::new();
    open.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let mut f = open.open(path)?;
    f.write_all(line.as_bytes())?;
    let len = f.metadata()?.len();
    drop(f);
    match max_bytes {
        Some(max) if len > max => trim(path, max),
        _ => Ok(()),
    }
}

/// Keeps the newest whole lines of `path` that fit in `max` bytes.
fn trim(path: &Path, max: u64) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let mut keep = 0usize;
    let mut start = text.len();
    for line in text.split_inclusive('\n').rev() {
        if (keep + line.len()) as u64 > max {
            break;
        }
        keep += line.len();
        start -= line.len();
    }
    let tmp = path.with_extension(format!("jsonl.tmp-{}", std::process::id()));
    let mut open = std::fs::OpenOptions::new();
    open.create_new(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let result = open
        .open(&tmp)
        .and_then(|mut f| f.write_all(&text.as_bytes()[start..]))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
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
        append(&path, "s", "first", None).expect("append");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"not json\n"))
            .expect("damage");
        append(&path, "s", "second\nline", None).expect("append");
        assert_eq!(load(&path), vec!["first", "second\nline"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_file_is_private_and_max_bytes_drops_the_oldest_lines() {
        let dir =
            std::env::temp_dir().join(format!("codex-tui-history-max-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("history.jsonl");
        append(&path, "s", "one", Some(200)).expect("append");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let line = std::fs::read_to_string(&path).expect("read");
        let v: serde_json::Value = serde_json::from_str(line.trim()).expect("json");
        assert_eq!(v["session_id"], "s");
        assert_eq!(v["text"], "one");
        assert!(v["ts"].as_u64().is_some());
        append(&path, "s", "two", Some(200)).expect("append");
        // "three" is two bytes longer than "one": room for it and "two", not "one" too.
        append(&path, "s", "three", Some(line.len() as u64 * 2 + 2)).expect("append");
        assert_eq!(load(&path), vec!["two", "three"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
