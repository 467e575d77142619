//! Blinky: a lit LED walks across the board's eight GPIO LEDs and back.
//!
//! Four components, as Genode would compose them: core's LOG, Timer and
//! IO_MEM services, the GPIO driver component (which reaches the GPIO block
//! only through the IO_MEM window its route grants), and `blinky`, whose
//! GPIO session owns the eight LED pins (its quota, 0xff). Each step is one
//! write of the whole pattern, paced by a Timer session's timeout (the CPU
//! sleeps in between). The exact register writes are what the QEMU test
//! reads back from the `-d unimp` log: the driver's takeover (DATA = 0,
//! TRI = all inputs), one output per LED (DATA, then TRI with the pin
//! cleared), one DATA write per step, DATA = 0 and LED 0 back to an
//! input (TRI with its bit set) at the end, then the channel's interrupt
//! off (IP IER, GIER) and the eight pins back to inputs (TRI, a pin at a
//! time) when blinky's GPIO session closes.
#![no_std]
#![no_main]

use ferrode_board::component::Env;
use ferrode_board::{exit_code, kernel};
use ferrode_component::{Gpio, IoMem, SessionError, Timer};

ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        timer: { priority: 5, stack: 4096, provides: "Timer", root: ferrode_board::component::timer_root },
        io_mem: { priority: 5, stack: 4096, provides: "IO_MEM", root: ferrode_board::component::io_mem_root },
        gpio: { priority: 4, stack: 4096, provides: "Gpio", root: ferrode_board::component::gpio_root },
    }
    clients {
        blinky: { priority: 3, stack: 4096, main: blinky },
    }
    routes {
        gpio: "IO_MEM" "gpio" => io_mem,
        blinky: "LOG" "" => log,
        blinky: "Timer" "" => timer,
        blinky: "Gpio" "leds" => gpio quota 0xff,
    }
}

/// LEDs on the GPIO block.
const LEDS: u8 = 8;
/// Time each pattern stays lit.
const STEP_US: u64 = 50_000;

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

fn blinky(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let (mut gpio, (mut timer, tick)) = match (env.gpio("leds"), env.timer("")) {
        (Ok(gpio), Ok(timer)) => (gpio, timer),
        (Err(error), _) | (_, Err(error)) => {
            let _ = log.write_fmt(format_args!("no GPIO or Timer session: {}", error));
            return exit_code::FAILURE;
        }
    };
    // blinky has no IO_MEM route: the GPIO block's registers are not
    // its to ask for (only the driver's route grants them).
    if env.session::<dyn IoMem>(ferrode_component::IO_MEM, "gpio") != Err(SessionError::Denied) {
        let _ = log.write("an IO_MEM session without a route was not denied");
        return exit_code::FAILURE;
    }
    let _ = log.write("IO_MEM without a route: denied");
    for pin in 0..LEDS {
        if let Err(error) = gpio.configure(pin, true, false) {
            let _ = log.write_fmt(format_args!("LED {}: {}", pin, error));
            return exit_code::FAILURE;
        }
    }
    let steps = 2 * (usize::from(LEDS) - 1) + 1;
    for step in 0..steps {
        let leds = pattern(step);
        if gpio.write(0xff, leds).is_err() {
            return exit_code::FAILURE;
        }
        let picture = picture(leds);
        let _ = log.write_fmt(format_args!(
            "step {:2} leds {:#04x} {}",
            step,
            leds,
            core::str::from_utf8(&picture).unwrap_or("?")
        ));
        if timer.trigger(STEP_US, false).is_err() || kernel::kernel().wait_signal(tick).is_err() {
            return exit_code::FAILURE;
        }
    }
    // A pin outside the session's quota is refused.
    let refused = gpio.write(0x100, 0x100) == Err(SessionError::QuotaExceeded);
    if gpio.write(0xff, 0).is_err() || !refused {
        return exit_code::FAILURE;
    }
    // A pin of the session is the session's to configure again: LED 0
    // back to an input.
    if let Err(error) = gpio.configure(0, false, false) {
        let _ = log.write_fmt(format_args!("LED 0 back to an input: {}", error));
        return exit_code::FAILURE;
    }
    // Done with the LEDs: the session goes back to the GPIO driver, which
    // then watches no pin and turns the channel's interrupt off. (The
    // image's last client is not torn down when it exits; the image ends.)
    if env.close(ferrode_component::GPIO, "leds").is_err() {
        return exit_code::FAILURE;
    }
    let _ = log.write_fmt(format_args!("done, {} steps", steps));
    exit_code::SUCCESS
}
