//! Timer alarm: arms a 10 ms one-shot alarm, sleeps until its interrupt,
//! and reports on the monotonic clock when it fired.
//!
//! An alarm that fires early is a failure (exit status 1). Under QEMU
//! `-icount` virtual time is exact and each round must report "within one
//! tick" (no later than 10 ms plus one clock tick); without it, host
//! scheduling may make it "late".
#![no_std]
#![no_main]

use ferrode_board::platform::{devices, irq};
use ferrode_board::{exit_code, println};
use ferrode_hal::{Alarm, Monotonic, ns_to_ticks, ticks_to_ns};

ferrode_board::entry!(main);

/// The alarm under test.
const ALARM_NS: u64 = 10_000_000;
/// Rounds, to show it is repeatable.
const ROUNDS: u32 = 3;

fn main() -> u32 {
    let mut clock = devices::clock();
    let mut alarm = devices::alarm();
    let hz = clock.tick_hz();
    let ticks = ns_to_ticks(ALARM_NS, hz);
    let mut status = exit_code::SUCCESS;
    for round in 1..=ROUNDS {
        let armed_at = clock.now();
        alarm.arm_after(ticks);
        loop {
            let seen = irq::event_count();
            if alarm.take_expired() {
                break;
            }
            irq::wait_for_event(seen);
        }
        let elapsed = clock.now() - armed_at;
        let verdict = if elapsed < ticks {
            status = exit_code::FAILURE;
            "TOO EARLY"
        } else if elapsed <= ticks + 1 {
            "within one tick"
        } else {
            // Without -icount, host scheduling delays the interrupt.
            "late"
        };
        println!(
            "alarm {round}: armed for {ticks} ticks, fired after {elapsed} ticks ({} ns at {hz} Hz): {verdict}",
            ticks_to_ns(elapsed, hz)
        );
    }
    println!("timer-alarm: done");
    status
}
