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

use ferrode_pl031::CivilTime;

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

fn since_1970() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

fn main() {
    let now = since_1970();
    println!("wall clock: {} s since 1970", now.as_secs());
    // The PL031 driver's calendar (its host tests check it), ISO 8601.
    println!("the date: {}", CivilTime::from_unix_seconds(now.as_secs()));
    std::thread::sleep(Duration::from_millis(1_500));
    let moved = since_1970().saturating_sub(now);
    let moved_ms = moved.as_millis();
    println!(
        "after a 1.5 s sleep the date moved {}",
        if (1_500..1_600).contains(&moved_ms) { "1.5 s" } else { "by something else" }
    );
}
