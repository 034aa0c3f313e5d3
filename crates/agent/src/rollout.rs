//! The session log: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`, one JSON
//! object per line (`session_meta` first, then every conversation item and agent event), so a
//! session can be read back or resumed. Each line is written through at once: a crash loses
//! at most the line being written.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use codex_login::time::Utc;

use serde::{Deserialize, Serialize};

use crate::events::AgentEvent;
use crate::model::Item;

/// What the first line records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionMeta {
    /// The session id.
    pub id: String,
    /// The working directory.
    pub cwd: PathBuf,
    /// The model.
    pub model: String,
    /// The provider id.
    pub model_provider: String,
    /// The sandbox mode.
    pub sandbox: String,
    /// The instructions sent with every request.
    pub instructions: String,
    /// The codex version.
    pub cli_version: String,
    /// What ran the session, as Codex 0.169 names it: `cli` (the interactive codex), `exec` or
    /// `mcp`. Absent in logs written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl SessionMeta {
    /// Whether a person ran the session interactively (or it is too old to say).
    pub fn is_interactive(&self) -> bool {
        !matches!(self.source.as_deref(), Some("exec" | "mcp"))
    }
}

/// An open session log.
#[derive(Debug)]
pub struct Rollout {
    file: std::fs::File,
    path: PathBuf,
}

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    timestamp: String,
    #[serde(rename = "type")]
    kind: &'a str,
    payload: &'a T,
}

impl Rollout {
    /// Creates the log for `meta` under `codex_home` and writes its first line.
    pub fn create(codex_home: &Path, meta: &SessionMeta) -> std::io::Result<Rollout> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let t = Utc::from_unix(now as i64);
        let dir = codex_home
            .join("sessions")
            .join(format!("{:04}", t.year))
            .join(format!("{:02}", t.month))
            .join(format!("{:02}", t.day));
        std::fs::create_dir_all(&dir)?;
        let name = format!(
            "rollout-{:04}-{:02}-{:02}T{:02}-{:02}-{:02}-{}.jsonl",
            t.year, t.month, t.day, t.hour, t.minute, t.second, meta.id
        );
        let path = dir.join(name);
        let file = std::fs::OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)?;
        let mut r = Rollout { file, path };
        r.write("session_meta", meta)?;
        Ok(r)
    }

    /// Opens an existing log to append to it (a resumed session goes on in the same file).
    pub fn append(path: &Path) -> std::io::Result<Rollout> {
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        Ok(Rollout {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records a conversation item.
    pub fn item(&mut self, item: &Item) -> std::io::Result<()> {
        self.write("response_item", item)
    }

    /// Records an agent event.
    pub fn event(&mut self, event: &AgentEvent) -> std::io::Result<()> {
        self.write("event", event)
    }

    fn write<T: Serialize>(&mut self, kind: &str, payload: &T) -> std::io::Result<()> {
        let line = Line {
            timestamp: timestamp(),
            kind,
            payload,
        };
        let mut text = serde_json::to_string(&line).map_err(std::io::Error::other)?;
        text.push('\n');
        self.file.write_all(text.as_bytes())
    }
}

/// A log read back: what [`Rollout`] wrote, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    /// The first line.
    pub meta: SessionMeta,
    /// Items and events interleaved as they happened, for showing the session again.
    pub lines: Vec<SavedLine>,
}

impl Saved {
    /// The conversation, as the model saw it.
    pub fn items(&self) -> Vec<Item> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                SavedLine::Item(i) => Some(i.clone()),
                SavedLine::Event(_) => None,
            })
            .collect()
    }

    /// The steps, as they were reported.
    pub fn events(&self) -> Vec<AgentEvent> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                SavedLine::Event(e) => Some(e.clone()),
                SavedLine::Item(_) => None,
            })
            .collect()
    }
}

/// One line of a log after the first.
#[derive(Debug, Clone, PartialEq)]
pub enum SavedLine {
    /// A conversation item.
    Item(Item),
    /// An agent event.
    Event(AgentEvent),
}

/// Why a log cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The log.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not a session log.
    #[error("{path} is not a codex session log ({why})")]
    Invalid {
        /// The log.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
}

#[derive(Deserialize)]
struct RawLine {
    #[serde(rename = "type")]
    kind: String,
    payload: serde_json::Value,
}

/// Reads the log at `path`. A last line cut short by a crash is skipped; any other bad line
/// makes the log unreadable, since resuming from part of a conversation would mislead the model.
pub fn read(path: &Path) -> Result<Saved, ReadError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |why: String| ReadError::Invalid {
        path: path.to_path_buf(),
        why,
    };
    let mut lines = text.lines().enumerate().peekable();
    let (_, first) = lines.next().ok_or_else(|| invalid("it is empty".into()))?;
    let first: RawLine =
        serde_json::from_str(first).map_err(|e| invalid(format!("line 1: {e}")))?;
    if first.kind != "session_meta" {
        return Err(invalid("it does not start with session_meta".into()));
    }
    let meta: SessionMeta =
        serde_json::from_value(first.payload).map_err(|e| invalid(format!("line 1: {e}")))?;
    let mut saved = Saved {
        meta,
        lines: Vec::new(),
    };
    while let Some((n, line)) = lines.next() {
        let last = lines.peek().is_none();
        let parsed = serde_json::from_str::<RawLine>(line).map_err(|e| e.to_string());
        let parsed = parsed.and_then(|raw| match raw.kind.as_str() {
            "response_item" => serde_json::from_value(raw.payload)
                .map(SavedLine::Item)
                .map_err(|e| e.to_string()),
            "event" => serde_json::from_value(raw.payload)
                .map(SavedLine::Event)
                .map_err(|e| e.to_string()),
            other => Err(format!("unknown line type {other}")),
        });
        match parsed {
            Ok(line) => saved.lines.push(line),
            Err(_) if last => {}
            Err(e) => return Err(invalid(format!("line {}: {e}", n + 1))),
        }
    }
    Ok(saved)
}

/// Every log under `codex_home/sessions`, newest first (the names start with the time).
pub fn list(codex_home: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![codex_home.join("sessions")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => dirs.push(path),
                Ok(t)
                    if t.is_file()
                        && path.extension().is_some_and(|x| x == "jsonl")
                        && e.file_name().to_string_lossy().starts_with("rollout-") =>
                {
                    found.push(path)
                }
                _ => {}
            }
        }
    }
    found.sort_by(|a, b| b.file_name().cmp(&a.file_name()));
    found
}

/// The log of session `id` (its full id, or a prefix that names one session).
pub fn find(codex_home: &Path, id: &str) -> Option<PathBuf> {
    let all = list(codex_home);
    let exact = format!("-{id}.jsonl");
    if let Some(p) = all.iter().find(|p| p.to_string_lossy().ends_with(&exact)) {
        return Some(p.clone());
    }
    // `rollout-YYYY-MM-DDTHH-MM-SS-` is 28 characters; the id follows.
    let mut by_prefix = all.into_iter().filter(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.get(28..))
            .is_some_and(|rest| rest.starts_with(id))
    });
    match (by_prefix.next(), by_prefix.next()) {
        (Some(p), None) if !id.is_empty() => Some(p),
        _ => None,
    }
}

/// Now, as RFC 3339 UTC with milliseconds.
pub fn timestamp() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let t = Utc::from_unix(d.as_secs() as i64);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str) -> SessionMeta {
        SessionMeta {
            id: id.into(),
            cwd: "/w".into(),
            model: "m".into(),
            model_provider: "p".into(),
            sandbox: "read-only".into(),
            instructions: "i".into(),
            cli_version: "0".into(),
            source: None,
        }
    }

    #[test]
    fn log_starts_with_session_meta_and_records_items() {
        let home = tempfile::tempdir().expect("tempdir");
        let meta = meta("abc");
        let mut r = Rollout::create(home.path(), &meta).expect("create");
        r.item(&Item::FunctionCallOutput {
            call_id: "c".into(),
            output: "o".into(),
        })
        .expect("item");
        let text = std::fs::read_to_string(r.path()).expect("read");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["type"], "session_meta");
        assert_eq!(lines[0]["payload"]["id"], "abc");
        assert_eq!(lines[1]["type"], "response_item");
        assert_eq!(lines[1]["payload"]["type"], "function_call_output");
        assert!(r.path().starts_with(home.path().join("sessions")));
    }

    #[test]
    fn a_log_reads_back_and_a_resumed_session_appends_to_it() {
        let home = tempfile::tempdir().expect("tempdir");
        let meta = meta("0123abcd-0000");
        let mut r = Rollout::create(home.path(), &meta).expect("create");
        let hello = Item::message(crate::model::Role::User, "hello");
        r.item(&hello).expect("item");
        r.event(&AgentEvent::TurnStarted).expect("event");
        let path = r.path().to_path_buf();
        drop(r);
        let mut again = Rollout::append(&path).expect("append");
        again.event(&AgentEvent::TurnStarted).expect("event");
        // A crash mid-line leaves half a line at the end: skipped, not fatal.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"{\"timestamp\":"))
            .expect("torn line");
        let saved = read(&path).expect("read");
        assert_eq!(saved.meta, meta);
        assert_eq!(saved.items(), vec![hello]);
        assert_eq!(saved.events().len(), 2);
        assert_eq!(saved.lines.len(), 3);
        assert_eq!(list(home.path()), vec![path.clone()]);
        assert_eq!(find(home.path(), "0123abcd-0000"), Some(path.clone()));
        assert_eq!(find(home.path(), "0123"), Some(path));
        assert_eq!(find(home.path(), "ffff"), None);
    }

    #[test]
    fn a_log_written_before_sources_and_images_reads_back_as_interactive_and_image_free() {
        let home = tempfile::tempdir().expect("tempdir");
        let path = home.path().join("old.jsonl");
        std::fs::write(
            &path,
            concat!(
                r#"{"timestamp":"t","type":"session_meta","payload":{"id":"0ld","cwd":"/w","model":"m","model_provider":"p","sandbox":"read-only","instructions":"i","cli_version":"0"}}"#,
                "\n",
                r#"{"timestamp":"t","type":"response_item","payload":{"type":"message","role":"user","text":"hi"}}"#,
                "\n"
            ),
        )
        .expect("write");
        let saved = read(&path).expect("read");
        assert_eq!(saved.meta.source, None);
        assert!(saved.meta.is_interactive());
        assert_eq!(
            saved.items(),
            [crate::model::Item::message(crate::model::Role::User, "hi")]
        );
    }
}
