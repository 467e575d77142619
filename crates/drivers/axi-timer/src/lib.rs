//! AMD/Xilinx AXI Timer (PG079) driver: tick, alarm and 64-bit clock.
//!
//! An AXI Timer block holds two 32-bit timer/counters sharing one
//! interrupt line. The platform gives [`AxiTimer::new`] the block's
//! registers and its clock rate, then either
//!
//! - [`AxiTimer::into_monotonic`]: both counters cascaded into one 64-bit
//!   free-running clock ([`ferrode_hal::Monotonic`],
//!   [`embedded_hal::delay::DelayNs`]); where cascade mode is missing (as in
//!   QEMU 10.0's model) counter 0 is extended in software instead, or
//! - [`AxiTimer::split`]: two [`TimerCounter`]s, one made a
//!   [`PeriodicTimer`] tick and the other an [`AlarmTimer`]
//!   ([`ferrode_hal::Alarm`]); the block's interrupt handler calls
//!   [`PeriodicTimer::take_interrupt`] and [`ferrode_hal::Alarm::take_expired`].
//!
//! On QEMU's amd-microblaze-v-generic both blocks (0x41c00000, IRQ 0 and
//! 0x41c10000, IRQ 6) run at 100 MHz.
#![no_std]

mod monotonic;
pub mod regs;
mod timer;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use monotonic::{CounterWidth, MonotonicCounter};
pub use regs::{Counter, Mmio, Register, Registers, Regs};
pub use timer::{
    AlarmTimer, AxiTimer, Error, PeriodicTimer, TimerCounter, UP_COUNT_WRAP_PERIOD,
    down_count_load_value,
};
