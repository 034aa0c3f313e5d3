//! The session log: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`, one JSON
//! object per line (`session_meta` first, then every conversation item and agent event), so a
//! session can be read back or resumed. Each line is written through at once: a crash loses
//! at most the line being written.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::events::AgentEvent;
use crate::model::Item;

/// What the first line records.
#[derive(Debug, Clone, Serialize)]
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
        let t = Utc::from_unix(now);
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

/// Now, as RFC 3339 UTC with milliseconds.
pub fn timestamp() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let t = Utc::from_unix(d.as_secs());
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

/// A UTC calendar time, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Utc {
    year: i64,
    month: u32,
    day: u32,
    hour: u64,
    minute: u64,
    second: u64,
}

impl Utc {
    /// From seconds since the epoch (Howard Hinnant's days-to-civil algorithm).
    fn from_unix(secs: u64) -> Utc {
        let days = (secs / 86_400) as i64;
        let rem = secs % 86_400;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Utc {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem % 3600 / 60,
            second: rem % 60,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_known_instants() {
        let t = Utc::from_unix(0);
        assert_eq!((t.year, t.month, t.day), (1970, 1, 1));
        // 2024-02-29T12:34:56Z, a leap day.
        let t = Utc::from_unix(1_709_210_096);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second),
            (2024, 2, 29, 12, 34, 56)
        );
        // 2026-12-31T23:59:59Z.
        let t = Utc::from_unix(1_798_761_599);
        assert_eq!((t.year, t.month, t.day, t.hour), (2026, 12, 31, 23));
    }

    #[test]
    fn log_starts_with_session_meta_and_records_items() {
        let home = tempfile::tempdir().expect("tempdir");
        let meta = SessionMeta {
            id: "abc".into(),
            cwd: "/w".into(),
            model: "m".into(),
            model_provider: "p".into(),
            sandbox: "read-only".into(),
            instructions: "i".into(),
            cli_version: "0".into(),
        };
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
}
