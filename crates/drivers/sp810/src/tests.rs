//! Host tests against a model of SCCTRL.

use core::cell::Cell;

use crate::{Register, Sp810, TimerClock, TimerIndex, timer_clock_hz};

const REFCLK_HZ: u32 = 32_768;
const TIMCLK_HZ: u32 = 1_000_000;

/// SCCTRL as the SP810 has it after reset on a RealView board: mode
/// control NORMAL (0b100 in ModeStatus is read-only elsewhere), timer
/// selects 0 (REFCLK), and a remap bit set by the boot monitor.
struct ModelSp810 {
    scctrl: Cell<u32>,
}

impl ModelSp810 {
    fn at_reset() -> Self {
        Self { scctrl: Cell::new(0x0000_0104) }
    }
}

impl ferrode_hal::RegisterAccess<Register> for ModelSp810 {
    fn read(&self, register: Register) -> u32 {
        match register {
            Register::Scctrl => self.scctrl.get(),
        }
    }

    fn write(&self, register: Register, value: u32) {
        match register {
            Register::Scctrl => self.scctrl.set(value),
        }
    }
}

#[test]
fn timers_count_the_reference_clock_until_selected() {
    let model = ModelSp810::at_reset();
    for index in TimerIndex::ALL {
        assert_eq!(timer_clock_hz(model.scctrl.get(), index, REFCLK_HZ, TIMCLK_HZ), REFCLK_HZ);
    }
}

#[test]
fn selecting_timclk_sets_the_four_timer_enable_selects_and_keeps_the_rest() {
    let mut controller = Sp810::new(ModelSp810::at_reset());
    for index in TimerIndex::ALL {
        controller.select_timer_clock(index, TimerClock::Timer);
        assert_eq!(controller.timer_clock(index), TimerClock::Timer);
    }
    let model = controller.release();
    // TimerEn0Sel..TimerEn3Sel are bits 15, 17, 19 and 21 (TRM 3.2.1).
    assert_eq!(model.scctrl.get(), 0x0000_0104 | (1 << 15) | (1 << 17) | (1 << 19) | (1 << 21));
    for index in TimerIndex::ALL {
        assert_eq!(timer_clock_hz(model.scctrl.get(), index, REFCLK_HZ, TIMCLK_HZ), TIMCLK_HZ);
    }
}

#[test]
fn selecting_the_reference_clock_clears_only_that_timer() {
    let mut controller = Sp810::new(ModelSp810::at_reset());
    for index in TimerIndex::ALL {
        controller.select_timer_clock(index, TimerClock::Timer);
    }
    controller.select_timer_clock(TimerIndex::new(2).unwrap(), TimerClock::Reference);
    assert_eq!(controller.release().scctrl.get(), 0x0000_0104 | (1 << 15) | (1 << 17) | (1 << 21));
    assert_eq!(TimerIndex::new(4), None);
}
