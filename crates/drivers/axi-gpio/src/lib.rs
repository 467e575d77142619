//! AMD/Xilinx AXI GPIO (PG144) driver with per-pin `embedded_hal` types.
//!
//! The platform gives [`AxiGpio::new`] the register block and a [`Config`]
//! (channel widths, dual or not), then hands out pins with
//! [`AxiGpio::output`] / [`AxiGpio::input`], or writes whole channels with
//! [`AxiGpio::write_outputs`]. For input-change interrupts it calls
//! [`AxiGpio::enable_interrupt`] and, from the block's IRQ,
//! [`AxiGpio::on_interrupt`].
//!
//! # Register writes
//!
//! Every operation makes a fixed, documented sequence of 32-bit writes, so
//! that a test can compare QEMU's `-d unimp` log (offset, value, in order)
//! against it:
//!
//! | call | writes (offset = value) |
//! |---|---|
//! | `new` (single) | 0x000 = 0, 0x004 = 0xFFFFFFFF |
//! | `new` (dual) | 0x000 = 0, 0x004 = 0xFFFFFFFF, 0x008 = 0, 0x00C = 0xFFFFFFFF |
//! | `output(ch, n, v)` | DATA = shadow with bit n = v, then TRI = tri with bit n cleared |
//! | `input(ch, n)` | TRI = tri with bit n set |
//! | `set_high` / `set_low` / `toggle` | DATA = new shadow (one write) |
//! | `write_outputs(ch, mask, v)` | DATA = new shadow (one write) |
//! | `enable_interrupt(ch)` | 0x128 = enabled channel bits, 0x11C = 0x80000000 |
//! | `disable_interrupt(ch)` | 0x128 = remaining bits, then 0x11C = 0 if none |
//! | `on_interrupt` | 0x120 = the IP ISR bits read as set (if any) |
//!
//! DATA is 0x000 (channel 1) or 0x008 (channel 2), TRI 0x004 or 0x00C.
//! Reads (`is_high`, `read_inputs`, `on_interrupt`, `enable_interrupt`) do
//! not write.
#![no_std]

mod gpio;
mod pin;
pub mod regs;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use gpio::{AxiGpio, Channel, Config, Error, InputChanges};
pub use pin::{InputPin, OutputPin};
pub use regs::{Mmio, Register, Registers, Regs};
