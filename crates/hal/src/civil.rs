//! Seconds since 1970-01-01 UTC as a calendar date and time and back: the
//! proleptic Gregorian calendar, days counted in 400-year eras (146097
//! days each) so the arithmetic is exact without tables. Real-time clocks
//! count either way: the PL031 in seconds, the DS1338 in calendar fields.

use core::fmt;

/// A UTC date and time to the second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CivilTime {
    /// Year, e.g. 2026.
    pub year: u32,
    /// Month 1..=12.
    pub month: u8,
    /// Day of the month 1..=31.
    pub day: u8,
    /// Hour 0..=23.
    pub hour: u8,
    /// Minute 0..=59.
    pub minute: u8,
    /// Second 0..=59.
    pub second: u8,
}

impl CivilTime {
    /// The date and time `seconds` after 1970-01-01 00:00:00 UTC.
    pub const fn from_unix_seconds(seconds: u64) -> Self {
        let days = seconds / 86_400;
        let of_day = seconds % 86_400;
        // Shift the epoch to 0000-03-01 so leap days end a year.
        let shifted = days + 719_468;
        let era = shifted / 146_097;
        let day_of_era = shifted % 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_from_march = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
        let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
        let year = year_of_era + era * 400 + if month <= 2 { 1 } else { 0 };
        Self {
            year: year as u32,
            month: month as u8,
            day: day as u8,
            hour: (of_day / 3_600) as u8,
            minute: (of_day / 60 % 60) as u8,
            second: (of_day % 60) as u8,
        }
    }

    /// Seconds from 1970-01-01 00:00:00 UTC to this date and time; `None`
    /// for a date before 1970 or a field out of its range (month 13, day
    /// 0, February 30 in any year, hour 24, ...).
    pub const fn to_unix_seconds(&self) -> Option<u64> {
        if self.year < 1970
            || self.month < 1
            || self.month > 12
            || self.day < 1
            || self.day > days_in_month(self.year, self.month)
            || self.hour > 23
            || self.minute > 59
            || self.second > 59
        {
            return None;
        }
        // The inverse of `from_unix_seconds`: years start on March 1.
        let month = self.month as u64;
        let year = self.year as u64 - if month <= 2 { 1 } else { 0 };
        let era = year / 400;
        let year_of_era = year % 400;
        let month_from_march = if month > 2 { month - 3 } else { month + 9 };
        let day_of_year = (153 * month_from_march + 2) / 5 + self.day as u64 - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        let days = era * 146_097 + day_of_era - 719_468;
        Some(
            days * 86_400 + self.hour as u64 * 3_600 + self.minute as u64 * 60 + self.second as u64,
        )
    }

    /// The day of the week, 0 for Sunday to 6 for Saturday (`None` where
    /// [`CivilTime::to_unix_seconds`] is).
    pub const fn weekday(&self) -> Option<u8> {
        match self.to_unix_seconds() {
            // 1970-01-01 was a Thursday.
            Some(seconds) => Some(((seconds / 86_400 + 4) % 7) as u8),
            None => None,
        }
    }
}

/// Days in `month` (1..=12) of `year`: February has 29 in the years
/// divisible by 4, except the centuries not divisible by 400.
pub const fn days_in_month(year: u32, month: u8) -> u8 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for CivilTime {
    /// ISO 8601: `2026-12-02T17:33:33Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use std::format;

    use super::{CivilTime, days_in_month};

    const KNOWN: [(u64, &str); 11] = [
        (0, "1970-01-01T00:00:00Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (951_868_799, "2000-02-29T23:59:59Z"),
        // After February the year counted from March must not slip back
        // a year: the century term of the era arithmetic (a mutant that
        // drops or negates it printed 1970-02-29 here).
        (5_097_600, "1970-03-01T00:00:00Z"),
        // Day 0 of an era (a mutant dividing by the day of the era panics).
        (951_868_800, "2000-03-01T00:00:00Z"),
        (1_709_164_800, "2024-02-29T00:00:00Z"),
        (1_796_232_813, "2026-12-02T17:33:33Z"),
        (4_102_444_800, "2100-01-01T00:00:00Z"),
        (4_107_542_399, "2100-02-28T23:59:59Z"),
        (4_107_542_400, "2100-03-01T00:00:00Z"),
        (u32::MAX as u64, "2106-02-07T06:28:15Z"),
    ];

    #[test]
    fn civil_time_matches_known_dates() {
        for (seconds, text) in KNOWN {
            assert_eq!(format!("{}", CivilTime::from_unix_seconds(seconds)), text, "{seconds}");
        }
    }

    #[test]
    fn unix_seconds_invert_civil_time() {
        for (seconds, _) in KNOWN {
            assert_eq!(CivilTime::from_unix_seconds(seconds).to_unix_seconds(), Some(seconds));
        }
        // The last second of every day from 1970 to 2103 (2000 and 2100
        // are leap and common centuries).
        let mut seconds = 0;
        while seconds < 4_200_000_000 {
            let civil = CivilTime::from_unix_seconds(seconds + 86_399);
            assert_eq!(civil.to_unix_seconds(), Some(seconds + 86_399), "{civil}");
            seconds += 86_400;
        }
    }

    #[test]
    fn out_of_range_fields_have_no_seconds() {
        let ok = CivilTime { year: 2026, month: 12, day: 6, hour: 13, minute: 5, second: 9 };
        assert!(ok.to_unix_seconds().is_some());
        let bad = [
            CivilTime { year: 1969, ..ok },
            CivilTime { month: 0, ..ok },
            CivilTime { month: 13, ..ok },
            CivilTime { day: 0, ..ok },
            CivilTime { day: 32, ..ok },
            CivilTime { month: 2, day: 30, year: 2000, ..ok },
            CivilTime { month: 2, day: 29, year: 2100, ..ok },
            CivilTime { month: 4, day: 31, ..ok },
            CivilTime { hour: 24, ..ok },
            CivilTime { minute: 60, ..ok },
            CivilTime { second: 60, ..ok },
        ];
        for civil in bad {
            assert_eq!(civil.to_unix_seconds(), None, "{civil:?}");
            assert_eq!(civil.weekday(), None, "{civil:?}");
        }
        assert_eq!(
            CivilTime { month: 2, day: 29, year: 2024, ..ok }.to_unix_seconds(),
            Some(1_709_211_909)
        );
    }

    #[test]
    fn weekdays_and_month_lengths() {
        // 1970-01-01 a Thursday, 2000-02-29 a Tuesday, 2026-12-06 a Sunday.
        assert_eq!(CivilTime::from_unix_seconds(0).weekday(), Some(4));
        assert_eq!(CivilTime::from_unix_seconds(951_782_400).weekday(), Some(2));
        let sunday = CivilTime { year: 2026, month: 12, day: 6, hour: 23, minute: 59, second: 59 };
        assert_eq!(sunday.weekday(), Some(0));
        let lengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        for (month, days) in (1..=12).zip(lengths) {
            assert_eq!(days_in_month(2026, month), days, "month {month}");
        }
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
    }
}
