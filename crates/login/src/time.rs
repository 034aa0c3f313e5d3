//! UTC calendar times from Unix seconds, without a date crate: RFC 3339 timestamps for
//! `last_refresh` here, and (as the one copy in the workspace) the session log names of
//! `codex_agent` and the archive entry times of the build driver.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A UTC calendar time, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    /// The year (proleptic Gregorian).
    pub year: i64,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
    /// 0 to 23.
    pub hour: u32,
    /// 0 to 59.
    pub minute: u32,
    /// 0 to 59.
    pub second: u32,
}

impl Utc {
    /// The calendar time `secs` seconds after the Unix epoch (before it, when negative), by
    /// Howard Hinnant's days-to-civil algorithm.
    pub fn from_unix(secs: i64) -> Utc {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400) as u32;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        Utc {
            year: yoe + era * 400 + i64::from(month <= 2),
            month,
            day,
            hour: rem / 3600,
            minute: rem % 3600 / 60,
            second: rem % 60,
        }
    }
}

/// `secs` as `YYYY-MM-DDTHH:MM:SSZ` (UTC), the form 0.169 writes and reads back.
pub(crate) fn rfc3339(secs: i64) -> String {
    let t = Utc::from_unix(secs);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_251_199), "2024-02-29T23:59:59Z");
    }

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
        // 2000-02-29, a leap day of a century divisible by 400.
        let t = Utc::from_unix(951_782_400);
        assert_eq!((t.year, t.month, t.day, t.hour), (2000, 2, 29, 0));
        // 2026-12-31T23:59:59Z.
        let t = Utc::from_unix(1_798_761_599);
        assert_eq!((t.year, t.month, t.day, t.hour), (2026, 12, 31, 23));
        // The second before the epoch.
        let t = Utc::from_unix(-1);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second),
            (1969, 12, 31, 23, 59, 59)
        );
    }
}
