//! Arm PrimeCell system controller (SP810) driver: the timer clock enables.
//!
//! The SP810 decides which clock each of the four SP804 timer counters on
//! its board counts (SCCTRL TimerEnXSel, SP810 TRM DDI 0254, 3.2.1): after
//! reset every select bit is 0, so the timers count the 32.768 kHz
//! reference clock (REFCLK); setting a bit switches that counter to TIMCLK
//! (1 MHz on the RealView boards). A platform that assumes TIMCLK must
//! select it first, or its timers run about 30 times slow. QEMU does not
//! model the SP810 (its timers always count 1 MHz), so only host tests and
//! real boards see the difference.
#![no_std]

#[cfg(test)]
extern crate std;

mod regs;

#[cfg(test)]
mod tests;

pub use regs::{Mmio, Register, Registers, Regs};

use crate::regs::SCCTRL;

use ferrode_hal::mmio::{Field, ReadWriteable, Readable};

/// Which clock an SP804 counter counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerClock {
    /// REFCLK, 32.768 kHz: the reset default.
    Reference,
    /// TIMCLK, the timer clock input (1 MHz on RealView boards).
    Timer,
}

/// One of the four SP804 counters whose clock the SP810 selects
/// (TIMEREN0..3: timers 0 and 1 of the first SP804, 2 and 3 of the second).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerIndex(u8);

impl TimerIndex {
    /// All four counters.
    pub const ALL: [Self; 4] = [Self(0), Self(1), Self(2), Self(3)];

    /// Counter `index`, `None` unless 0..=3.
    pub const fn new(index: u8) -> Option<Self> {
        if index < 4 { Some(Self(index)) } else { None }
    }

    /// Its TimerEnXSel field in SCCTRL (TimerEn0Sel, then every other bit).
    pub(crate) const fn select_field(self) -> Field<u32, SCCTRL::Register> {
        Field::new(1, SCCTRL::TIMER_EN0_SEL.shift + 2 * self.0 as usize)
    }

    /// Its TimerEnXSel bit in SCCTRL.
    pub const fn select_bit(self) -> u32 {
        let field = self.select_field();
        field.mask << field.shift
    }
}

/// The clock rate counter `index` runs at, given SCCTRL and the board's two
/// clocks.
pub const fn timer_clock_hz(
    scctrl: u32,
    index: TimerIndex,
    reference_hz: u32,
    timer_hz: u32,
) -> u32 {
    if scctrl & index.select_bit() != 0 { timer_hz } else { reference_hz }
}

/// An SP810 system controller.
pub struct Sp810<R> {
    registers: R,
}

impl<R: Registers> Sp810<R> {
    /// Wraps the controller at `registers`; touches nothing.
    pub const fn new(registers: R) -> Self {
        Self { registers }
    }

    /// Makes counter `index` count `clock`, leaving SCCTRL's other fields
    /// (mode control, remap, the other timers) as they are.
    pub fn select_timer_clock(&mut self, index: TimerIndex, clock: TimerClock) {
        let select = match clock {
            TimerClock::Timer => index.select_field().val(1),
            TimerClock::Reference => index.select_field().val(0),
        };
        self.registers.scctrl().modify(select);
    }

    /// The clock counter `index` counts now.
    pub fn timer_clock(&self, index: TimerIndex) -> TimerClock {
        if self.registers.scctrl().is_set(index.select_field()) {
            TimerClock::Timer
        } else {
            TimerClock::Reference
        }
    }

    /// Gives back the register access.
    pub fn release(self) -> R {
        self.registers
    }
}
