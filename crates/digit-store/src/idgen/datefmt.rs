//! The subset of Java's `SimpleDateFormat` pattern language that DIGIT id formats use
//! (`[cy:yyyy-MM-dd]`, `[fy:yyyy-yy]`), formatted directly from a chrono date-time.
//!
//! Pattern letters (a run of one letter is one field, its length the "count"):
//! `y` year (count 2 → two digits, else at least count digits), `M`/`L` month (1–2 number,
//! 3 short name, 4+ full name), `d` day of month, `D` day of year, `E` day name (≤3 short,
//! 4+ full), `u` day number of week (1 = Monday), `a` AM/PM, `H` hour 0–23, `k` hour 1–24,
//! `K` hour 0–11, `h` hour 1–12, `m` minute, `s` second, `S` millisecond, `z` zone
//! abbreviation, `Z` RFC 822 offset (`+0530`). Text in single quotes is literal, `''` is a
//! quote, other non-letters are literal. Any other letter is an error, as in Java (the few
//! Java letters not listed — `G`, `Y`, `w`, `W`, `F`, `X` — are rejected too).

use chrono::{DateTime, Datelike, TimeZone, Timelike};
use std::fmt::{Display, Write};

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaDateFormat {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Field(char, usize),
}

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateFormatError {
    /// A quote was opened and never closed.
    #[error("unterminated quote in date pattern")]
    UnterminatedQuote,
    /// A letter that is not (or not supported as) a pattern letter.
    #[error("illegal pattern character '{0}'")]
    IllegalLetter(char),
}

const SUPPORTED: &str = "yMLdDEuaHkKhmsSzZ";
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

impl JavaDateFormat {
    /// Parses a `SimpleDateFormat` pattern.
    pub fn parse(pattern: &str) -> Result<Self, DateFormatError> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let chars: Vec<char> = pattern.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    literal.push('\'');
                    i += 2;
                    continue;
                }
                // Quoted text up to the closing quote; '' inside is a quote.
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(DateFormatError::UnterminatedQuote),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            literal.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            literal.push(other);
                            i += 1;
                        }
                    }
                }
            } else if c.is_ascii_alphabetic() {
                if !SUPPORTED.contains(c) {
                    return Err(DateFormatError::IllegalLetter(c));
                }
                let start = i;
                while chars.get(i) == Some(&c) {
                    i += 1;
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Field(c, i - start));
            } else {
                literal.push(c);
                i += 1;
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(Self { pieces })
    }

    /// Formats `dt` (already in the wanted time zone).
    pub fn format<Tz: TimeZone>(&self, dt: &DateTime<Tz>) -> String
    where
        Tz::Offset: Display,
    {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Field(letter, count) => format_field(&mut out, dt, *letter, *count),
            }
        }
        out
    }
}

fn pad(out: &mut String, value: i64, width: usize) {
    if value < 0 {
        let _ = write!(out, "-{:0width$}", value.unsigned_abs(), width = width);
    } else {
        let _ = write!(out, "{:0width$}", value, width = width);
    }
}

fn format_field<Tz: TimeZone>(out: &mut String, dt: &DateTime<Tz>, letter: char, count: usize)
where
    Tz::Offset: Display,
{
    match letter {
        'y' => {
            let year = i64::from(dt.year());
            if count == 2 {
                pad(out, year.rem_euclid(100), 2);
            } else {
                pad(out, year, count);
            }
        }
        'M' | 'L' => {
            let month0 = dt.month0() as usize;
            match count {
                1 | 2 => pad(out, i64::from(dt.month()), count),
                3 => out.push_str(&MONTHS[month0][..3]),
                _ => out.push_str(MONTHS[month0]),
            }
        }
        'd' => pad(out, i64::from(dt.day()), count),
        'D' => pad(out, i64::from(dt.ordinal()), count),
        'E' => {
            let day = dt.weekday().num_days_from_monday() as usize;
            if count >= 4 {
                out.push_str(DAYS[day]);
            } else {
                out.push_str(&DAYS[day][..3]);
            }
        }
        'u' => pad(out, i64::from(dt.weekday().number_from_monday()), count),
        'a' => out.push_str(if dt.hour() < 12 { "AM" } else { "PM" }),
        'H' => pad(out, i64::from(dt.hour()), count),
        'k' => pad(
            out,
            i64::from(if dt.hour() == 0 { 24 } else { dt.hour() }),
            count,
        ),
        'K' => pad(out, i64::from(dt.hour() % 12), count),
        'h' => pad(
            out,
            i64::from(if dt.hour() % 12 == 0 {
                12
            } else {
                dt.hour() % 12
            }),
            count,
        ),
        'm' => pad(out, i64::from(dt.minute()), count),
        's' => pad(out, i64::from(dt.second()), count),
        'S' => pad(out, i64::from(dt.timestamp_subsec_millis().min(999)), count),
        'z' => {
            let _ = write!(out, "{}", dt.format("%Z"));
        }
        'Z' => {
            let _ = write!(out, "{}", dt.format("%z"));
        }
        // `parse` admits only the letters above.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use chrono_tz::Asia::Kolkata;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<chrono_tz::Tz> {
        let naive = NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_milli_opt(h, mi, s, 7)
            .unwrap();
        Kolkata.from_local_datetime(&naive).unwrap()
    }

    fn f(pattern: &str, dt: &DateTime<chrono_tz::Tz>) -> String {
        JavaDateFormat::parse(pattern).unwrap().format(dt)
    }

    #[test]
    fn common_letters() {
        let dt = at(2026, 8, 5, 14, 3, 9);
        assert_eq!(f("yyyy-MM-dd", &dt), "2026-08-05");
        assert_eq!(f("yy", &dt), "26");
        assert_eq!(f("yyyy", &dt), "2026");
        assert_eq!(f("y", &dt), "2026");
        assert_eq!(f("MM", &dt), "08");
        assert_eq!(f("M", &dt), "8");
        assert_eq!(f("dd", &dt), "05");
        assert_eq!(f("HH:mm:ss", &dt), "14:03:09");
        assert_eq!(f("ddMMyyyyHHmmss", &dt), "05082026140309");
        assert_eq!(f("SSS", &dt), "007");
    }

    #[test]
    fn names_and_twelve_hour_clock() {
        let dt = at(2026, 8, 5, 0, 3, 9);
        assert_eq!(f("MMM", &dt), "Aug");
        assert_eq!(f("MMMM", &dt), "August");
        assert_eq!(f("EEE", &dt), "Wed");
        assert_eq!(f("EEEE", &dt), "Wednesday");
        assert_eq!(f("u", &dt), "3");
        assert_eq!(f("hh a", &dt), "12 AM");
        assert_eq!(f("k", &dt), "24");
        assert_eq!(f("K", &dt), "0");
        assert_eq!(f("D", &dt), "217");
        assert_eq!(f("Z", &dt), "+0530");
        assert_eq!(f("z", &dt), "IST");
    }

    #[test]
    fn quoted_literals() {
        let dt = at(2026, 1, 2, 3, 4, 5);
        assert_eq!(f("yyyy'T'MM", &dt), "2026T01");
        assert_eq!(f("'year' yyyy", &dt), "year 2026");
        assert_eq!(f("dd''MM", &dt), "02'01");
        assert_eq!(f("'it''s' yy", &dt), "it's 26");
        assert_eq!(f("yyyy/MM", &dt), "2026/01");
    }

    #[test]
    fn illegal_patterns() {
        assert_eq!(
            JavaDateFormat::parse("yyyy-qq"),
            Err(DateFormatError::IllegalLetter('q'))
        );
        assert_eq!(
            JavaDateFormat::parse("'abc"),
            Err(DateFormatError::UnterminatedQuote)
        );
        assert!(JavaDateFormat::parse("YYYY").is_err());
    }
}
