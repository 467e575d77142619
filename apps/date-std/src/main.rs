//! The date in Rust std on Ferrode: `SystemTime::now()` comes from core's
//! Rtc service, which reads the board's real-time clock (PBX-A9's PL031;
//! QEMU starts it at the host's time). The MicroBlaze V design has no
//! real-time clock: its Rtc sessions answer `Denied`, and `SystemTime`
//! counts from boot.
//!
//! std asks the Rtc session once, at the first `SystemTime::now()`, and
//! follows the Timer session's monotonic clock from there; `main` shows
//! the date (UTC), sleeps 1.5 s and shows how far the date moved.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

ferrode_board::compose! {
    servers {
        log: { priority: 4, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        timer: { priority: 4, stack: 4096, provides: "Timer", root: ferrode_board::component::timer_root },
        rtc: { priority: 4, stack: 4096, provides: "Rtc", root: ferrode_board::component::rtc_root },
    }
    clients {
        app: { priority: 3, stack: 16384, main: ferrode_board::hermit::std_main },
    }
    routes {
        app: "LOG" "" => log,
        app: "Timer" "" => timer,
        app: "Rtc" "" => rtc,
    }
}

/// Seconds since 1970-01-01 00:00 UTC as (year, month, day, hour, minute,
/// second) of the proleptic Gregorian calendar.
fn civil(seconds: u64) -> (u64, u64, u64, u64, u64, u64) {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    // Days since 0000-03-01: the leap day ends each 4-year, 100-year and
    // 400-year cycle.
    let days = days + 719_468;
    let era = days / 146_097;
    let day_of_era = days % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day, rest / 3_600, rest % 3_600 / 60, rest % 60)
}

fn since_1970() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

fn main() {
    let now = since_1970();
    println!("wall clock: {} s since 1970", now.as_secs());
    let (year, month, day, hour, minute, second) = civil(now.as_secs());
    println!("the date: {year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} UTC");
    std::thread::sleep(Duration::from_millis(1_500));
    let moved = since_1970().saturating_sub(now);
    let moved_ms = moved.as_millis();
    println!(
        "after a 1.5 s sleep the date moved {}",
        if (1_500..1_600).contains(&moved_ms) { "1.5 s" } else { "by something else" }
    );
}
