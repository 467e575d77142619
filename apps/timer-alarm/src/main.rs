//! Timer alarm: a Timer session's 10 ms one-shot timeout, three times, and
//! when it arrived on the session's monotonic clock.
//!
//! Two core services and one client: `alarm` asks its Timer session for a
//! timeout, sleeps on the session's signal, and reports the delay the
//! whole path added (the board's alarm interrupt, the Timer server's alarm
//! thread, the signal to the client). A timeout that arrives early is a
//! failure (exit status 1). Under QEMU `-icount` virtual time is exact, so
//! the added delay is the same on every run.
#![no_std]
#![no_main]

use ferrode_board::component::Env;
use ferrode_board::{exit_code, kernel};
use ferrode_component::Timer;

ferrode_board::compose! {
    servers {
        log: { priority: 4, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        timer: { priority: 4, stack: 4096, provides: "Timer", root: ferrode_board::component::timer_root },
    }
    clients {
        alarm: { priority: 3, stack: 4096, main: alarm },
    }
    routes {
        alarm: "LOG" "" => log,
        alarm: "Timer" "" => timer,
    }
}

/// The timeout under test.
const TIMEOUT_US: u64 = 10_000;
/// Rounds, to show it is repeatable.
const ROUNDS: u32 = 3;

fn alarm(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let Ok((mut timer, signal)) = env.timer("") else {
        let _ = log.write("no Timer session");
        return exit_code::FAILURE;
    };
    let mut status = exit_code::SUCCESS;
    for round in 1..=ROUNDS {
        let Ok(armed_at) = timer.now_us() else { return exit_code::FAILURE };
        if timer.trigger(TIMEOUT_US, false).is_err()
            || kernel::kernel().wait_signal(signal).is_err()
        {
            return exit_code::FAILURE;
        }
        let Ok(now) = timer.now_us() else { return exit_code::FAILURE };
        let elapsed = now - armed_at;
        let verdict = if elapsed < TIMEOUT_US {
            status = exit_code::FAILURE;
            "TOO EARLY"
        } else {
            "not early"
        };
        let _ = log.write_fmt(format_args!(
            "alarm {}: armed for {} us, fired after {} us: {}",
            round, TIMEOUT_US, elapsed, verdict
        ));
    }
    let _ = log.write("done");
    status
}
