//! Random clock rates, durations and dates. A Timer session's timeout,
//! a bus's delay and a real-time clock's reading go through these
//! conversions: a delay must never come out shorter than asked, and a
//! date must come back as it went in.

use proptest::prelude::*;

use crate::civil::{CivilTime, days_in_month};
use crate::{ns_to_ticks, ticks_to_ns, ticks_to_us, us_to_ticks};

/// Clock rates: both boards' and other whole-MHz ones (the fast paths),
/// rates that do not divide a second, and any.
fn hz() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        (1u64..2_000).prop_map(|mhz| mhz * 1_000_000),
        (1u64..1_000_000).prop_map(|khz| khz * 1_000),
        1u64..100_000,
        any::<u64>(),
    ]
}

/// Durations: short ones, around the fast paths' limits, and any.
fn amount() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..10_000,
        any::<u32>().prop_map(u64::from),
        (0u64..2_000).prop_map(|per| u64::MAX / per.max(1)),
        any::<u64>(),
    ]
}

fn saturated(wide: u128) -> u64 {
    u64::try_from(wide).unwrap_or(u64::MAX)
}

/// The seconds of the last second of year `u32::MAX`: how far a
/// [`CivilTime`] counts.
fn last_second() -> u64 {
    CivilTime { year: u32::MAX, month: 12, day: 31, hour: 23, minute: 59, second: 59 }
        .to_unix_seconds()
        .unwrap()
}

fn civil() -> impl Strategy<Value = CivilTime> {
    let year = prop_oneof![
        1970u32..2200,
        1970u32..=u32::MAX,
        // Century years: leap only every fourth (2000, 2400).
        (20u32..100).prop_map(|century| century * 100),
    ];
    // Days at the months' ends half the time.
    let day = prop_oneof![1u8..=31, 28u8..=31];
    (year, 1u8..=12, day, 0u8..24, 0u8..60, 0u8..60).prop_map(
        |(year, month, day, hour, minute, second)| CivilTime {
            year,
            month,
            day: day.min(days_in_month(year, month)),
            hour,
            minute,
            second,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 8 } else { 2048 }))]

    /// Nanoseconds to ticks is the exact quotient rounded up, saturated;
    /// microseconds to ticks is that of 1,000 times as many; ticks to
    /// nanoseconds and microseconds are the exact quotients rounded down,
    /// saturated, whichever path the rate takes.
    #[test]
    fn conversions_are_the_exact_quotients(hz in hz(), amount in amount()) {
        let exact_up = |n: u64, per_second: u128| {
            (u128::from(n) * u128::from(hz)).div_ceil(per_second)
        };
        prop_assert_eq!(ns_to_ticks(amount, hz), saturated(exact_up(amount, 1_000_000_000)));
        prop_assert_eq!(us_to_ticks(amount, hz), ns_to_ticks(amount.saturating_mul(1_000), hz));
        let exact_down = |per_second: u128| match hz {
            0 => 0,
            hz => saturated(u128::from(amount) * per_second / u128::from(hz)),
        };
        prop_assert_eq!(ticks_to_ns(amount, hz), exact_down(1_000_000_000));
        prop_assert_eq!(ticks_to_us(amount, hz), exact_down(1_000_000));
    }

    /// A delay converted to ticks and back is never shorter than asked,
    /// and one tick fewer would be (the rounding is tight), unless the
    /// count saturated.
    #[test]
    fn a_delay_is_never_shorter_than_asked(hz in 1u64..=10_000_000_000, ns in amount()) {
        let ticks = ns_to_ticks(ns, hz);
        if ticks == u64::MAX {
            return Ok(());
        }
        let exact = u128::from(ticks) * 1_000_000_000;
        prop_assert!(exact >= u128::from(ns) * u128::from(hz), "{} ticks are shorter", ticks);
        if ticks > 0 {
            let fewer = u128::from(ticks - 1) * 1_000_000_000;
            prop_assert!(fewer < u128::from(ns) * u128::from(hz), "{} ticks would do", ticks - 1);
        }
    }

    /// Any second a date can name converts to a date and back to itself,
    /// with every field in its range and the weekday one day on from the
    /// day before's.
    #[test]
    fn seconds_round_trip_through_the_calendar(
        seconds in prop_oneof![
            0u64..5_000_000_000,
            any::<u64>(),
            // The end of February of a century year, leap (2000) or not.
            (20u32..100, 0u64..3 * 86_400).prop_map(|(century, offset)| {
                let february = CivilTime { year: century * 100, month: 2, day: 28, hour: 0, minute: 0, second: 0 };
                february.to_unix_seconds().unwrap() + offset
            }),
        ],
    ) {
        let seconds = seconds % (last_second() + 1);
        let civil = CivilTime::from_unix_seconds(seconds);
        prop_assert!((1..=12).contains(&civil.month));
        prop_assert!((1..=days_in_month(civil.year, civil.month)).contains(&civil.day));
        prop_assert!(civil.hour < 24 && civil.minute < 60 && civil.second < 60);
        prop_assert_eq!(civil.to_unix_seconds(), Some(seconds));
        if let Some(earlier) = seconds.checked_sub(86_400) {
            let before = CivilTime::from_unix_seconds(earlier).weekday().unwrap();
            prop_assert_eq!(civil.weekday(), Some((before + 1) % 7));
        }
    }

    /// Any valid date converts to seconds and back to itself; the next
    /// second is one later, across days, months and years.
    #[test]
    fn dates_round_trip_through_seconds(civil in civil()) {
        let seconds = civil.to_unix_seconds().expect("a valid date");
        prop_assert_eq!(CivilTime::from_unix_seconds(seconds), civil);
        if seconds < last_second() {
            let next = CivilTime::from_unix_seconds(seconds + 1);
            prop_assert_eq!(next.to_unix_seconds(), Some(seconds + 1));
            prop_assert!(
                (next.year, next.month, next.day, next.hour, next.minute, next.second)
                    > (civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second)
            );
        }
    }

    /// A date with a field out of its range, or before 1970, has no
    /// seconds.
    #[test]
    fn dates_out_of_range_have_no_seconds(
        civil in civil(),
        field in 0usize..6,
        value in any::<u8>(),
        year in 0u32..1970,
    ) {
        let mut bad = civil;
        let out = match field {
            0 => {
                bad.month = value;
                // The day may not be in the new month.
                !(1..=12).contains(&value) || bad.day > days_in_month(bad.year, value)
            }
            1 => { bad.day = value; value == 0 || value > days_in_month(bad.year, bad.month) }
            2 => { bad.hour = value; value > 23 }
            3 => { bad.minute = value; value > 59 }
            4 => { bad.second = value; value > 59 }
            _ => { bad.year = year; true }
        };
        prop_assert_eq!(bad.to_unix_seconds().is_none(), out);
        prop_assert_eq!(bad.weekday().is_none(), out);
    }
}
