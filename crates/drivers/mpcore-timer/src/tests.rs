//! Host tests against a model of the private timer.

use core::cell::Cell;

use ferrode_hal::Alarm;

use crate::{Error, PrivateTimer, Register, tick_hz};

/// The counter of TRM 4.1: decrements every prescaler + 1 cycles while
/// enabled; at zero it sets the event flag and reloads (auto-reload, on the
/// next tick) or stops.
#[derive(Default)]
struct ModelTimer {
    load: Cell<u32>,
    counter: Cell<u32>,
    control: Cell<u32>,
    event: Cell<u32>,
    residue: Cell<u32>,
}

impl ModelTimer {
    fn run(&self, cycles: u32) {
        for _ in 0..cycles {
            let control = self.control.get();
            if control & 1 == 0 {
                return;
            }
            let prescale = ((control >> 8) & 0xff) + 1;
            self.residue.set(self.residue.get() + 1);
            if self.residue.get() < prescale {
                continue;
            }
            self.residue.set(0);
            match self.counter.get() {
                0 if control & 2 != 0 => self.counter.set(self.load.get()),
                0 => {}
                1 => {
                    self.counter.set(0);
                    self.event.set(1);
                }
                n => self.counter.set(n - 1),
            }
        }
    }
}

impl ferrode_hal::RegisterAccess<Register> for ModelTimer {
    fn read(&self, register: Register) -> u32 {
        match register {
            Register::Load => self.load.get(),
            Register::Counter => self.counter.get(),
            Register::Control => self.control.get(),
            Register::InterruptStatus => self.event.get(),
        }
    }

    fn write(&self, register: Register, value: u32) {
        match register {
            Register::Load => {
                // Writing Load also writes Counter (TRM 4.2.1).
                self.load.set(value);
                self.counter.set(value);
            }
            Register::Counter => self.counter.set(value),
            Register::Control => self.control.set(value & 0xff07),
            Register::InterruptStatus => self.event.set(self.event.get() & !value),
        }
    }
}

#[test]
fn the_tick_rate_divides_periphclk_by_prescaler_plus_one() {
    assert_eq!(tick_hz(100_000_000, 0), 100_000_000);
    assert_eq!(tick_hz(100_000_000, 99), 1_000_000);
    assert_eq!(tick_hz(200_000_000, 199), 1_000_000);
}

#[test]
fn periodic_interrupts_come_every_period_without_drift() {
    let model = ModelTimer::default();
    let mut timer = PrivateTimer::new(&model, 100_000_000, 99);
    assert_eq!(timer.tick_hz(), 1_000_000);
    assert_eq!(timer.start_periodic(0), Err(Error::ZeroPeriod));
    timer.start_periodic(1_000).unwrap();
    let mut events = 0;
    // 10 ms of PERIPHCLK, the handler run every 10 us.
    for _ in 0..1_000 {
        model.run(1_000);
        if timer.handle_interrupt() {
            events += 1;
        }
    }
    assert_eq!(events, 10);
}

#[test]
fn a_long_alarm_runs_through_several_periods_and_fires_once() {
    let model = ModelTimer::default();
    let mut timer = PrivateTimer::new(&model, 1_000, 0);
    timer.arm_after(u64::from(u32::MAX) + 10);
    model.counter.set(1);
    model.run(1);
    assert!(!timer.take_expired(), "only the first 32-bit period ran out");
    model.run(9);
    assert!(!timer.take_expired());
    model.run(1);
    assert!(timer.take_expired());
    assert_eq!(model.control.get() & 1, 0, "stopped after firing");
    model.run(100);
    assert!(!timer.take_expired());
}

#[test]
fn disarm_drops_a_pending_event() {
    let model = ModelTimer::default();
    let mut timer = PrivateTimer::new(&model, 1_000, 0);
    timer.arm_after(5);
    model.run(5);
    timer.disarm();
    assert!(!timer.take_expired());
}

#[test]
fn the_counter_shows_the_ticks_left_in_the_period() {
    let model = ModelTimer::default();
    let mut timer = PrivateTimer::new(&model, 1_000, 0);
    timer.arm_after(100);
    assert_eq!(timer.counter(), 100);
    model.run(30);
    assert_eq!(timer.counter(), 70);
    model.run(70);
    assert_eq!(timer.counter(), 0);
}

#[test]
fn the_error_says_what_went_wrong() {
    use std::string::ToString;
    assert_eq!(Error::ZeroPeriod.to_string(), "a timer period must be at least one tick");
}
