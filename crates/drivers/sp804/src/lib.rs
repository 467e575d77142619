//! Arm dual-timer module (SP804) driver, board-agnostic and host-tested.
//!
//! Timer 1 runs free as a 32-bit down-counter that the driver extends in
//! software into a 64-bit [`ferrode_hal::Monotonic`] clock (and
//! `embedded_hal::delay::DelayNs`); timer 2 is the one-shot
//! [`ferrode_hal::Alarm`], which chains 32-bit periods for longer alarms.
//! The platform supplies the register block and TIMCLK's rate.
//!
//! Registers are reached in Ferrode's one style (`ferrode_hal::mmio`):
//! typed accessors ([`Registers`]) with access rights and named fields over
//! a bus, [`Mmio`] on hardware. Host tests put a behavioural model of the
//! device on the bus instead, because the interrupt clear register acts on write and the counters run on their own.
#![no_std]

#[cfg(test)]
extern crate std;

mod error;
mod regs;
mod timer;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use error::Error;
pub use regs::{Counter, Mmio, Register, Registers, Regs, TimerRegs};
pub use timer::{Prescale, Sp804};
