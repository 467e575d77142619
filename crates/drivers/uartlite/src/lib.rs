//! AMD/Xilinx AXI UART Lite (PG142) driver with `embedded_io` traits.
//!
//! The platform gives [`UartLite::new`] the register block. Transmit is
//! polled (the boot console works before interrupts are on); receive is
//! polled too until [`UartLite::enable_interrupt`], after which the
//! platform's interrupt path calls [`UartLite::on_interrupt`] to move
//! characters from the 16-deep FIFO into a software ring. Overrun, framing
//! and parity errors come back as [`Error`] from the read calls.
//!
//! Under QEMU 10.0 the model's interrupt output stays high once any
//! character has been sent or received with the interrupt enabled, and its
//! INTC input is edge-configured: expect spurious calls to `on_interrupt`
//! (it then moves nothing).
#![no_std]

mod error;
pub mod regs;
mod uart;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use error::Error;
pub use regs::{Mmio, Register, Registers, Regs};
pub use uart::UartLite;
