//! The RealView PBX-A9's PL031 real-time clock, PL061 GPIO 0 and the
//! Cortex-A9 private timer, each checked against what the data sheets say:
//!
//! - RTC: the time is after 2020 (QEMU starts it at the host's time); a
//!   loaded value reads back and counts on; a match alarm one second ahead
//!   raises its interrupt.
//! - GPIO: four pins made outputs read back what they drive.
//! - Private timer: ten periods of 1 ms take no less than 10 ms on the
//!   SP804 clock, and not much more (measured again, at most three times
//!   in all, when they took too long: see [`PRIVATE_TIMER_ATTEMPTS`]).
//!
//! Prints one line per check and `peripherals: ok`, or exits 1 at the first
//! failure.
#![no_std]
#![no_main]

use ferrode_board::platform::{devices, irq};
use ferrode_board::{exit_code, println};
use ferrode_hal::Monotonic;

ferrode_board::entry!(main);

/// 2020-01-01T00:00:00Z.
const YEAR_2020: u32 = 1_577_836_800;
/// 2001-09-09T01:46:40Z.
const BILLENNIUM: u32 = 1_000_000_000;

fn fail(message: &str) -> u32 {
    println!("peripherals: FAILED: {message}");
    exit_code::FAILURE
}

/// Sleeps until `done` or `timeout_us` on the board clock; whether `done`.
fn wait_until(timeout_us: u64, mut done: impl FnMut() -> bool) -> bool {
    let mut clock = devices::clock();
    let deadline = clock.now() + ferrode_hal::ns_to_ticks(timeout_us * 1_000, clock.tick_hz());
    // SAFETY: peripherals runs without components, so it
    // is the one driver of the devices it checks.
    let mut alarm = unsafe { devices::alarm() };
    loop {
        let seen = irq::event_count();
        if done() {
            return true;
        }
        let now = clock.now();
        if now >= deadline {
            return false;
        }
        ferrode_hal::Alarm::arm_after(&mut alarm, (deadline - now).min(clock.tick_hz() / 100));
        irq::wait_for_event(seen);
    }
}

fn main() -> u32 {
    // SAFETY: as in `wait_until`.
    let rtc = unsafe { devices::rtc() };
    let started = rtc.seconds();
    println!("rtc: {} ({started} s since 1970)", rtc.now());
    if started < YEAR_2020 {
        return fail("the RTC reads a time before 2020");
    }
    rtc.set_seconds(BILLENNIUM);
    let loaded = rtc.seconds();
    println!("rtc: loaded {}", rtc.now());
    if !(BILLENNIUM..BILLENNIUM + 2).contains(&loaded) {
        return fail("the loaded time did not read back");
    }
    rtc.set_alarm(loaded + 1);
    if !wait_until(3_000_000, || rtc.take_alarm()) {
        return fail("the RTC alarm did not fire within 3 s");
    }
    println!("rtc: alarm fired at {}", rtc.now());

    // SAFETY: as in `wait_until`.
    let gpio = unsafe { devices::gpio() };
    if gpio.set_outputs(0x0f, 0x05).is_err() {
        return fail("GPIO pins 0-3 refused to be outputs");
    }
    let first = gpio.read(0x0f);
    gpio.write(0x0f, 0x0a);
    let second = gpio.read(0x0f);
    println!("gpio: outputs read back {first:#04x} then {second:#04x}");
    if (first, second) != (0x05, 0x0a) {
        return fail("GPIO outputs do not read back what they drive");
    }

    // SAFETY: as in `wait_until`.
    let timer = unsafe { devices::private_timer() };
    let period = timer.tick_hz() / 1_000;
    let mut attempt = 1;
    loop {
        let Some(elapsed_us) = ten_periods(&timer, period) else {
            return fail("the private timer refused a 1 ms period");
        };
        if elapsed_us < 9_900 {
            return fail("ten 1 ms periods of the private timer took less than 10 ms");
        }
        if elapsed_us < 200_000 {
            break;
        }
        if attempt == PRIVATE_TIMER_ATTEMPTS {
            return fail("ten 1 ms periods of the private timer did not take about 10 ms");
        }
        println!("private-timer: too long, measured again");
        attempt += 1;
    }
    println!("peripherals: ok");
    exit_code::SUCCESS
}

/// Times the private timer's periods at most this often.
///
/// Both the private timer and the SP804 clock run on QEMU's virtual clock,
/// which (without `-icount`) follows the host's: a host that deschedules
/// QEMU for longer than the bound while the ten periods run lengthens
/// them by as much (stopping QEMU for 300 ms just before them measured
/// 206 and 310 ms). A period really too long takes too long every time; a
/// host stall in three windows of 10 ms in a row does not happen. Too
/// short is never the host's doing, and fails at once.
const PRIVATE_TIMER_ATTEMPTS: u32 = 3;

/// Runs the private timer with `period` until ten periods ended (or 1 s
/// passed) and prints how long that took on the SP804 clock; the time in
/// microseconds, or `None` if the timer refused the period.
fn ten_periods(timer: &devices::PrivateTimerHandle, period: u32) -> Option<u64> {
    let mut clock = devices::clock();
    let before = timer.periods();
    let start = clock.now();
    timer.start_periodic(period).ok()?;
    // The count that ended the wait (a period may end before the stop).
    let mut periods = 0;
    // Not counted within 1 s is too long, as is counted in more than 200 ms.
    wait_until(1_000_000, || {
        periods = timer.periods().wrapping_sub(before);
        periods >= 10
    });
    let elapsed_us = ferrode_hal::ticks_to_ns(clock.now() - start, clock.tick_hz()) / 1_000;
    timer.stop();
    println!("private-timer: {periods} periods of {period} ticks in {elapsed_us} us");
    Some(if periods >= 10 { elapsed_us } else { elapsed_us.max(200_000) })
}
