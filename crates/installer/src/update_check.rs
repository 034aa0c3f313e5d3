//! The optional daily update check: at most one network request a day, done by a detached
//! background process so start-up never waits; its answer is cached under `CODEX_HOME` and shown
//! on a later start.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::settings::{Config, EnvVar};

/// How long a check's answer is trusted.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// What the last check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckCache {
    /// Seconds since the epoch of the last check.
    pub checked_at: u64,
    /// The newest version the source offered then.
    pub latest: String,
}

/// The cache file under `codex_home`.
pub fn cache_path(codex_home: &Path) -> PathBuf {
    codex_home.join("update-check.json")
}

/// Whether checks may run: not in CI, not turned off by env or config.
pub fn enabled(config: &Config) -> bool {
    !EnvVar::Ci.is_set()
        && EnvVar::NoUpdateCheck.get().is_none_or(|v| v == "0")
        && config.update_check != Some(false)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The cached result, if any.
pub fn read_cache(codex_home: &Path) -> Option<CheckCache> {
    let text = std::fs::read_to_string(cache_path(codex_home)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Records a check's result.
pub fn write_cache(codex_home: &Path, latest: &semver::Version) -> std::io::Result<()> {
    std::fs::create_dir_all(codex_home)?;
    let cache = CheckCache {
        checked_at: now(),
        latest: latest.to_string(),
    };
    let json = serde_json::to_string(&cache).map_err(std::io::Error::other)?;
    crate::layout::write_atomic(&cache_path(codex_home), json.as_bytes())
}

/// The file holding the version whose announcement the user dismissed in the interactive codex.
pub fn dismissed_path(codex_home: &Path) -> PathBuf {
    codex_home.join("update-dismissed")
}

/// The newer version to announce in the interactive codex: the cached latest, when it is newer
/// than `current` and not the one dismissed. A newer release than the dismissed one is
/// announced again.
pub fn banner_version(codex_home: &Path, current: &semver::Version) -> Option<semver::Version> {
    let latest = semver::Version::parse(&read_cache(codex_home)?.latest).ok()?;
    let dismissed = std::fs::read_to_string(dismissed_path(codex_home))
        .ok()
        .and_then(|t| semver::Version::parse(t.trim()).ok());
    (latest > *current && dismissed.is_none_or(|d| d < latest)).then_some(latest)
}

/// Stops announcing `version` (and older ones).
pub fn dismiss(codex_home: &Path, version: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(codex_home)?;
    crate::layout::write_atomic(&dismissed_path(codex_home), version.as_bytes())
}

/// Whether the cache is missing or older than [`CHECK_INTERVAL`].
pub fn due(codex_home: &Path) -> bool {
    read_cache(codex_home)
        .is_none_or(|c| now().saturating_sub(c.checked_at) >= CHECK_INTERVAL.as_secs())
}

/// A one-line notice when the cache knows of a newer version than `current`.
pub fn notice(codex_home: &Path, current: &semver::Version) -> Option<String> {
    let cache = read_cache(codex_home)?;
    let latest = semver::Version::parse(&cache.latest).ok()?;
    (latest > *current).then(|| {
        format!(
            "codex {latest} is available (you have {current}); run `codex update` to install it"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_only_for_a_newer_cached_version_and_due_after_a_day() {
        let home = tempfile::tempdir().expect("tmp");
        let v = |s: &str| semver::Version::parse(s).expect("semver");
        assert!(due(home.path()));
        assert_eq!(notice(home.path(), &v("1.0.0")), None);
        write_cache(home.path(), &v("1.1.0")).expect("write");
        assert!(!due(home.path()));
        insta::assert_snapshot!(notice(home.path(), &v("1.0.0")).expect("newer"), @"codex 1.1.0 is available (you have 1.0.0); run `codex update` to install it");
        assert_eq!(notice(home.path(), &v("1.1.0")), None);
        let stale = CheckCache {
            checked_at: now() - CHECK_INTERVAL.as_secs() - 1,
            latest: "1.1.0".into(),
        };
        std::fs::write(
            cache_path(home.path()),
            serde_json::to_string(&stale).expect("json"),
        )
        .expect("write");
        assert!(due(home.path()));
    }

    #[test]
    fn a_dismissed_banner_stays_away_until_a_newer_release() {
        let home = tempfile::tempdir().expect("tmp");
        let v = |s: &str| semver::Version::parse(s).expect("semver");
        write_cache(home.path(), &v("1.1.0")).expect("write");
        assert_eq!(banner_version(home.path(), &v("1.0.0")), Some(v("1.1.0")));
        dismiss(home.path(), "1.1.0").expect("dismiss");
        assert_eq!(banner_version(home.path(), &v("1.0.0")), None);
        write_cache(home.path(), &v("1.2.0")).expect("write");
        assert_eq!(banner_version(home.path(), &v("1.0.0")), Some(v("1.2.0")));
        assert_eq!(banner_version(home.path(), &v("1.2.0")), None);
    }

    #[test]
    fn config_can_turn_the_check_off() {
        let off = Config {
            update_check: Some(false),
            ..Config::default()
        };
        assert!(!enabled(&off));
    }
}
