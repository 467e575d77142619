//! The RealView PBX-A9's PL031 real-time clock, PL061 GPIO 0 and the
//! Cortex-A9 private timer, each checked against what the data sheets say:
//!
//! - RTC: the time is after 2020 (QEMU starts it at the host's time); a
//!   loaded value reads back and counts on; a match alarm one second ahead
//!   raises its interrupt.
//! - GPIO: four pins made outputs read back what they drive.
//! - Private timer: ten periods of 1 ms take no less than 10 ms on the
//!   SP804 clock, and not much more.
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
    let mut alarm = devices::alarm();
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
    let rtc = devices::rtc();
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

    let gpio = devices::gpio();
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

    let timer = devices::private_timer();
    let period = timer.tick_hz() / 1_000;
    let mut clock = devices::clock();
    let before = timer.periods();
    let start = clock.now();
    if timer.start_periodic(period).is_err() {
        return fail("the private timer refused a 1 ms period");
    }
    let counted = wait_until(1_000_000, || timer.periods().wrapping_sub(before) >= 10);
    let elapsed_us = ferrode_hal::ticks_to_ns(clock.now() - start, clock.tick_hz()) / 1_000;
    timer.stop();
    println!(
        "private-timer: {} periods of {period} ticks in {elapsed_us} us",
        timer.periods().wrapping_sub(before)
    );
    if !counted || !(9_900..200_000).contains(&elapsed_us) {
        return fail("ten 1 ms periods of the private timer did not take about 10 ms");
    }
    println!("peripherals: ok");
    exit_code::SUCCESS
}
