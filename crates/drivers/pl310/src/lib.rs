//! Arm CoreLink L2C-310 (PL310) level 2 cache controller driver.
//!
//! The L2C-310 (TRM ARM DDI 0246) is the outer cache beside a Cortex-A9
//! MPCore: a unified, physically addressed cache of 8 or 16 ways with
//! 32-byte lines, off after reset. The driver reads what the controller
//! is ([`CacheId`]) and how it is built ([`Geometry`], from the Auxiliary
//! Control Register), and runs the sequences the TRM gives for its
//! maintenance operations: [`Pl310::enable`] invalidates every way, syncs,
//! then sets the enable bit; [`Pl310::disable`] cleans and invalidates
//! every way, syncs, then clears it. Each background operation is polled
//! until the hardware reports it done, at most [`POLL_LIMIT`] reads, and
//! a controller that never finishes gives [`Error::Timeout`].
//!
//! The driver configures nothing: the Auxiliary Control Register (way
//! size, associativity, allocation and prefetch options) and the RAM
//! latencies are the integrator's and the boot firmware's, and stay as
//! they are. The platform supplies the register block and decides when
//! to call it: the L2 serves the memory the MMU maps outer cacheable.
//!
//! Registers are reached in Ferrode's one style (`ferrode_hal::mmio`):
//! typed accessors ([`Registers`]) over a bus, [`Mmio`] on hardware. Host
//! tests put a behavioural model on the bus that holds garbage after
//! reset, loses dirty lines when disabled or invalidated, and runs the
//! operations by way in the background.
#![no_std]

#[cfg(test)]
extern crate std;

mod controller;
mod error;
mod geometry;
mod identity;
mod latency;
mod regs;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use controller::{POLL_LIMIT, Pl310};
pub use error::{Error, Operation};
pub use geometry::Geometry;
pub use identity::{CacheId, Revision};
pub use latency::RamLatency;
pub use regs::{Mmio, Register, Registers, Regs};
