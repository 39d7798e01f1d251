//! Dates as JIT wants them: every JIT date in India time (`Asia/Kolkata`, C.1 item 5), the
//! Indian financial year April–March (C.1 item 4), and the COR ("90-day") eligibility rule
//! of A1.7 step 2 with its fixes (C.1 item 16).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Asia::Kolkata;
use chrono_tz::Tz;

/// Epoch ms as a date-time in India.
pub fn ist(ms: i64) -> DateTime<Tz> {
    let utc = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    utc.with_timezone(&Kolkata)
}

/// `yyyy-MM-dd HH:mm:ss` in India.
pub fn ist_date_time(ms: i64) -> String {
    ist(ms).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `yyyy-MM-dd` in India.
pub fn ist_date(ms: i64) -> String {
    ist(ms).format("%Y-%m-%d").to_string()
}

/// Epoch ms of 00:00 India time on `yyyy-MM-dd` (None when it is not a date).
pub fn ist_day_start(date: &str) -> Option<i64> {
    let day = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    let midnight = day.and_hms_opt(0, 0, 0)?;
    Kolkata
        .from_local_datetime(&midnight)
        .single()
        .map(|d| d.timestamp_millis())
}

/// Epoch ms of a JIT date or date-time (`yyyy-MM-dd` or `yyyy-MM-dd HH:mm:ss`, India time).
pub fn parse_ist(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(dt) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S") {
        return Kolkata
            .from_local_datetime(&dt)
            .single()
            .map(|d| d.timestamp_millis());
    }
    ist_day_start(text)
}

/// The first calendar year of the Indian financial year containing `date` (April–March).
pub fn fy_start_year(date: NaiveDate) -> i32 {
    if date.month() >= 4 {
        date.year()
    } else {
        date.year() - 1
    }
}

/// The financial year of a date as `YYYY-YY` (`2023-24` for 10 Feb 2024).
pub fn financial_year(date: NaiveDate) -> String {
    let start = fy_start_year(date);
    format!("{start}-{:02}", (start + 1).rem_euclid(100))
}

/// When a failed beneficiary of a PI may still be paid by a correction PI (COR) rather than
/// a new PI: upstream's `original.pi.expire.*` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorWindow {
    /// Days after the original PI (`original.pi.expire.days`, 90).
    pub days: i64,
    /// Last month of the grace after a financial-year change (`…financial.year.month`, 4).
    pub fy_month: u32,
    /// Last day of that month (`…financial.year.date`, 30).
    pub fy_day: u32,
}

impl Default for CorWindow {
    fn default() -> Self {
        Self {
            days: 90,
            fy_month: 4,
            fy_day: 30,
        }
    }
}

impl CorWindow {
    /// Whether a COR made at `now_ms` for an original PI created at `original_ms` is
    /// allowed. Both instants are read in India time and `now` is the server's clock (not
    /// the caller's `audit_details`). Within one financial year: at most `days` after the
    /// original. Across a change of financial year: additionally no later than
    /// `fy_day`/`fy_month` 23:59:59 of the new year (upstream dropped the day limit there).
    pub fn allows(&self, original_ms: i64, now_ms: i64) -> bool {
        let (original, now) = (ist(original_ms), ist(now_ms));
        if now < original {
            return true;
        }
        let within_days = now <= original + Duration::days(self.days);
        if fy_start_year(original.date_naive()) == fy_start_year(now.date_naive()) {
            return within_days;
        }
        let Some(cutoff) = NaiveDate::from_ymd_opt(now.year(), self.fy_month, self.fy_day)
            .and_then(|d| d.and_hms_opt(23, 59, 59))
            .and_then(|d| Kolkata.from_local_datetime(&d).single())
        else {
            return false;
        };
        within_days && now <= cutoff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        parse_ist(text).unwrap_or_default()
    }

    #[test]
    fn financial_years_run_april_to_march() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
        assert_eq!(financial_year(d(2024, 2, 10)), "2023-24");
        assert_eq!(financial_year(d(2024, 3, 31)), "2023-24");
        assert_eq!(financial_year(d(2024, 4, 1)), "2024-25");
        assert_eq!(financial_year(d(2099, 12, 31)), "2099-00");
    }

    #[test]
    fn jit_dates_are_india_time() {
        // 20:00 UTC on 31 March is 01:30 IST on 1 April.
        let ms = DateTime::parse_from_rfc3339("2026-03-31T20:00:00Z")
            .map(|d| d.timestamp_millis())
            .unwrap_or_default();
        assert_eq!(ist_date(ms), "2026-04-01");
        assert_eq!(ist_date_time(ms), "2026-04-01 01:30:00");
        assert_eq!(parse_ist("2026-04-01 01:30:00"), Some(ms));
        assert_eq!(ist_day_start("2026-04-01"), Some(ms - 90 * 60 * 1000));
        assert_eq!(parse_ist("1 April"), None);
    }

    #[test]
    fn cor_window_at_the_financial_year_boundary() {
        let w = CorWindow::default();
        let original = at("2026-03-31 10:00:00");
        // 31 March → same year; 1 April → new year, inside April; 30 April 23:59:59 → last.
        assert!(w.allows(original, at("2026-03-31 23:59:59")));
        assert!(w.allows(original, at("2026-04-01 00:00:00")));
        assert!(w.allows(original, at("2026-04-30 23:59:59")));
        assert!(!w.allows(original, at("2026-05-01 00:00:00")));
        // Same financial year: 90 days exactly, not one second more.
        let april = at("2026-04-02 09:00:00");
        assert!(w.allows(april, april + 90 * 86_400_000));
        assert!(!w.allows(april, april + 90 * 86_400_000 + 1000));
        // Across the boundary the 90 days still count (upstream ignored them).
        let december = at("2025-12-01 10:00:00");
        assert!(!w.allows(december, at("2026-04-10 10:00:00")));
        let february = at("2026-02-01 10:00:00");
        assert!(w.allows(february, at("2026-04-25 10:00:00")));
    }
}
