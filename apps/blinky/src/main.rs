//! Blinky: a lit LED walks across the board's eight GPIO LEDs and back.
//!
//! Each step is one write of the whole pattern to GPIO_DATA, paced by the
//! timer alarm (the CPU sleeps in between). The exact register writes are
//! what the QEMU test reads back from the `-d unimp` log:
//! `AxiGpio::new` (DATA = 0, TRI = all inputs), one `output` per LED
//! (DATA, then TRI with the pin cleared), one DATA write per step, and
//! DATA = 0 at the end.
#![no_std]
#![no_main]

use axi_gpio::Channel;
use ferrode_board::platform::{devices, irq};
use ferrode_board::{exit_code, println};
use ferrode_hal::{Alarm, Monotonic};

ferrode_board::entry!(main);

/// LEDs on GPIO channel 1.
const LEDS: u8 = 8;
/// Time each pattern stays lit.
const STEP_MS: u64 = 50;

/// The walking-bit pattern of `step`: out along the LEDs, then back.
fn pattern(step: usize) -> u32 {
    let last = usize::from(LEDS) - 1;
    let period = 2 * last;
    let position = step % period;
    let led = if position <= last { position } else { period - position };
    1 << led
}

/// How the pattern looks on the board, LED 7 first.
fn picture(pattern: u32) -> [u8; 8] {
    core::array::from_fn(|i| if pattern & (1 << (7 - i)) != 0 { b'*' } else { b'.' })
}

fn main() -> u32 {
    let gpio = devices::gpio();
    let mut pins = [const { None }; LEDS as usize];
    for (number, slot) in pins.iter_mut().enumerate() {
        match gpio.output(Channel::One, number as u8, false) {
            Ok(pin) => *slot = Some(pin),
            Err(error) => {
                println!("blinky: LED {number}: {error}");
                return exit_code::FAILURE;
            }
        }
    }
    let mut alarm = devices::alarm();
    let ticks_per_step = devices::clock().tick_hz() * STEP_MS / 1000;
    let steps = 2 * (usize::from(LEDS) - 1) + 1;
    for step in 0..steps {
        let leds = pattern(step);
        if gpio.write_outputs(Channel::One, 0xff, leds).is_err() {
            return exit_code::FAILURE;
        }
        let picture = picture(leds);
        println!(
            "blinky: step {step:2} leds {:#04x} {}",
            leds,
            core::str::from_utf8(&picture).unwrap_or("?")
        );
        alarm.arm_after(ticks_per_step);
        loop {
            let seen = irq::event_count();
            if alarm.take_expired() {
                break;
            }
            irq::wait_for_event(seen);
        }
    }
    if gpio.write_outputs(Channel::One, 0xff, 0).is_err() {
        return exit_code::FAILURE;
    }
    println!("blinky: done, {steps} steps");
    exit_code::SUCCESS
}
