//! Arm Generic Interrupt Controller (GICv1) driver, board-agnostic and host-tested.
//!
//! Covers the distributor (enable, priority, target, trigger of every
//! interrupt ID) and one CPU interface (priority mask, acknowledge, end of
//! interrupt), as in the Cortex-A9 MPCore and the PL390. The platform hands
//! over both register blocks; the interrupt numbers belong to the platform.
//!
//! Registers are reached in Ferrode's one style (`ferrode_hal::mmio`):
//! typed accessors ([`Registers`]) with access rights and named fields over
//! a bus, [`Mmio`] on hardware. Host tests put a behavioural model of the
//! device on the bus instead, because reading ICCIAR acknowledges an interrupt and the set/clear-enable registers act
//! on the 1 bits written.
#![no_std]

#[cfg(test)]
extern crate std;

mod error;
mod gic;
mod regs;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use error::Error;
pub use gic::{Dispatch, Gic, InterruptId, MAX_DISPATCH, STORM_REPEATS, Trigger, serve_pending};
pub use regs::{CpuInterfaceRegs, DistributorRegs, Mmio, Register, Registers};
