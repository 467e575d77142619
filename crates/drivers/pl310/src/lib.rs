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
//! Early releases carry errata in these sequences, and the driver reads
//! the release from the Cache ID Register ([`Pl310::errata`], [`Errata`])
//! to apply Arm's published workarounds:
//!
//! - 588369 (r0p0, r1p0): Clean and Invalidate by Way leaves clean lines
//!   valid, so [`Pl310::clean_invalidate_all`] cleans by way, syncs and
//!   invalidates by way instead, with the Debug Control Register's DCL
//!   and DWB set (no linefill, write-through) until both have finished.
//! - 727915 (r2p0, r3p0): a store hitting a line during a background
//!   Clean and Invalidate by Way can be lost, so that operation runs with
//!   DCL and DWB set; so does [`Pl310::clean_all`]'s Clean by Way.
//! - 753970 (r3p0): Cache Sync can leave the store buffer draining, so
//!   [`Pl310::sync`] writes the dummy register at 0x740 instead.
//! - 752271 (r3p0, r3p1) concerns double linefill, enabled in the Prefetch
//!   Control Register, which the driver never writes: it is reported
//!   ([`Errata::double_linefill_corrupts_data`]), not worked around.
//!
//! QEMU models r3p2, where none applies. Debug Control is secure only, as
//! Control is. The revision ranges and the sources they come from are
//! given at each [`Errata`] field.
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
//! reset, loses dirty lines when disabled or invalidated, runs the
//! operations by way in the background, and carries the errata of the
//! release it is given.
#![no_std]

#[cfg(test)]
extern crate std;

mod controller;
mod errata;
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
pub use errata::Errata;
pub use error::{Error, Operation};
pub use geometry::Geometry;
pub use identity::{CacheId, Revision};
pub use latency::RamLatency;
pub use regs::{Mmio, Register, Registers, Regs};
