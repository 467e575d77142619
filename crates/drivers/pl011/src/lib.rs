//! Arm PrimeCell UART (PL011) driver, board-agnostic and host-tested.
//!
//! The platform hands over the register block (a [`volatile::VolatilePtr`]
//! to [`Regs`]) and the UART reference clock; the driver programs the baud
//! rate divisor and frame format (PL011 TRM, section 3.3) and offers the
//! `embedded_io` traits (`Read`, `Write`, `ReadReady`, `WriteReady`) in two
//! flavours: [`Pl011`] polls the FIFOs (the boot console, fault reports),
//! [`BufferedPl011`] adds heapless receive and transmit rings filled and
//! drained by the UART's interrupt (`BufferedPl011::on_interrupt`).
//!
//! Registers are reached in Ferrode's one style (`ferrode_hal::mmio`):
//! typed accessors ([`Registers`]) with access rights and named fields over
//! a bus, [`Mmio`] on hardware. Host tests put a behavioural model of the
//! device on the bus instead, because the data register pops the receive FIFO on read and the interrupt clear
//! register acts on write.
#![no_std]

#[cfg(test)]
extern crate std;

mod buffered;
mod buffered_io;
mod error;
mod format;
mod io;
mod regs;
mod uart;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_buffered;

pub use buffered::{BufferedPl011, ConsoleStep};
pub use error::Error;
pub use format::{BaudRateDivisor, Config, DataBits, Parity, StopBits, baud_rate_divisor};
pub use regs::{Mmio, Register, Registers, Regs};
pub use uart::{DRAIN_POLLS, Interrupts, Pl011};
