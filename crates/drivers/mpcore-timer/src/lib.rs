//! Cortex-A9 MPCore private timer driver, board-agnostic and host-tested.
//!
//! Each Cortex-A9 core has a private 32-bit down-counter clocked by
//! PERIPHCLK through an 8-bit prescaler, at offset 0x600 of the MPCore
//! private memory region, interrupting on PPI 29 (Cortex-A9 MPCore TRM
//! DDI 0407, 4.1). It counts down to zero, sets its event flag (write 1 to
//! clear) and either stops or reloads from the load register. The driver
//! offers a periodic interrupt ([`PrivateTimer::start_periodic`]) and the
//! [`ferrode_hal::Alarm`] one-shot, in timer ticks of
//! [`PrivateTimer::tick_hz`].
#![no_std]

#[cfg(test)]
extern crate std;

mod regs;

#[cfg(test)]
mod tests;

pub use regs::{Mmio, Register, Registers, Regs};

use ferrode_hal::mmio::{FieldValue, Readable, Writeable};

use crate::regs::{CONTROL, INTERRUPT_STATUS};

/// What can go wrong with the private timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A period of zero ticks.
    ZeroPeriod,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a timer period must be at least one tick")
    }
}

impl core::error::Error for Error {}

/// The tick rate for PERIPHCLK at `periphclk_hz` and `prescaler` (the
/// counter decrements every `prescaler + 1` PERIPHCLK cycles, TRM 4.1.1).
pub const fn tick_hz(periphclk_hz: u32, prescaler: u8) -> u32 {
    periphclk_hz / (prescaler as u32 + 1)
}

/// A Cortex-A9 private timer.
pub struct PrivateTimer<R> {
    registers: R,
    prescaler: u8,
    tick_hz: u32,
    /// Alarm ticks still to run after the current 32-bit period.
    alarm_remaining: u64,
    periodic: bool,
}

impl<R: Registers> PrivateTimer<R> {
    /// Takes over the timer (stopped, event cleared), counting PERIPHCLK
    /// at `periphclk_hz` divided by `prescaler + 1`.
    pub fn new(registers: R, periphclk_hz: u32, prescaler: u8) -> Self {
        registers.control().set(0);
        registers.interrupt_status().write(INTERRUPT_STATUS::EVENT_FLAG::SET);
        Self {
            registers,
            prescaler,
            tick_hz: tick_hz(periphclk_hz, prescaler),
            alarm_remaining: 0,
            periodic: false,
        }
    }

    /// Ticks per second.
    pub const fn tick_hz(&self) -> u32 {
        self.tick_hz
    }

    /// The counter's current value (ticks left in this period).
    pub fn counter(&self) -> u32 {
        self.registers.counter().get()
    }

    /// An interrupt every `period` ticks, reloaded by the hardware (no
    /// drift from interrupt latency). The counter reloads on the tick after
    /// it reaches zero, so the load register holds `period - 1`.
    pub fn start_periodic(&mut self, period: u32) -> Result<(), Error> {
        if period == 0 {
            return Err(Error::ZeroPeriod);
        }
        self.periodic = true;
        self.alarm_remaining = 0;
        self.start(period - 1, CONTROL::AUTO_RELOAD::SET);
        Ok(())
    }

    /// Stops the timer; a pending event is dropped.
    pub fn stop(&mut self) {
        self.periodic = false;
        self.alarm_remaining = 0;
        self.registers.control().set(0);
        self.registers.interrupt_status().write(INTERRUPT_STATUS::EVENT_FLAG::SET);
    }

    /// Interrupt entry point: true when a period ended (periodic) or the
    /// alarm fully ran out; clears the event.
    pub fn handle_interrupt(&mut self) -> bool {
        ferrode_hal::Alarm::take_expired(self)
    }

    /// Gives back the register access.
    pub fn release(self) -> R {
        self.registers
    }

    fn start(&mut self, load: u32, mode: FieldValue<u32, CONTROL::Register>) {
        self.registers.control().set(0);
        self.registers.interrupt_status().write(INTERRUPT_STATUS::EVENT_FLAG::SET);
        self.registers.load().set(load);
        self.registers.control().write(
            CONTROL::TIMER_ENABLE::SET
                + CONTROL::IRQ_ENABLE::SET
                + mode
                + CONTROL::PRESCALER.val(u32::from(self.prescaler)),
        );
    }

    fn start_alarm_period(&mut self) {
        let period = self.alarm_remaining.clamp(1, u64::from(u32::MAX));
        self.alarm_remaining -= period.min(self.alarm_remaining);
        // One-shot: from `period` down to zero is `period` ticks.
        self.start(period as u32, CONTROL::AUTO_RELOAD::CLEAR);
    }
}

impl<R: Registers> ferrode_hal::Alarm for PrivateTimer<R> {
    fn arm_after(&mut self, ticks: u64) {
        self.periodic = false;
        self.alarm_remaining = ticks;
        self.start_alarm_period();
    }

    fn disarm(&mut self) {
        self.stop();
    }

    fn take_expired(&mut self) -> bool {
        if !self.registers.interrupt_status().is_set(INTERRUPT_STATUS::EVENT_FLAG) {
            return false;
        }
        self.registers.interrupt_status().write(INTERRUPT_STATUS::EVENT_FLAG::SET);
        if self.periodic {
            return true;
        }
        if self.alarm_remaining > 0 {
            self.start_alarm_period();
            return false;
        }
        self.registers.control().set(0);
        true
    }
}
