//! AMD/Xilinx AXI UART 16550 (PG143) driver, board-agnostic and
//! host-tested.
//!
//! The core is a National Semiconductor 16550-compatible UART: 16-byte
//! FIFOs, a baud divisor of the AXI clock reached through the divisor latch
//! (LCR.DLAB), line status in LSR. On the AXI bus its registers are 32-bit
//! words at offset 0x1000 of the core's address range (PG143, "Register
//! Space"); the platform hands over that block. The driver offers the
//! `embedded_io` traits over polled FIFOs, a write that never waits
//! ([`Uart16550::write_available`]) and the 16550's loopback mode.
#![no_std]

#[cfg(test)]
extern crate std;

mod regs;
mod uart;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use regs::{Mmio, Register, Registers, Regs};
pub use uart::{Config, Error, Interrupt, Uart16550, divisor};
