//! SMSC LAN9118 Ethernet controller driver, board-agnostic and host-tested.
//!
//! The LAN9118 moves frames through programmed-I/O FIFOs: the driver writes
//! two command words and the frame into the TX data FIFO, and reads a status
//! word then the frame out of the RX FIFOs (datasheet sections 3.12, 3.13).
//! MAC and PHY registers sit behind indirect command/data pairs. The driver
//! implements [`ferrode_hal::EthernetDevice`]; the platform supplies the
//! register block, a delay (the time base of every wait on the chip, see
//! [`timeouts`]), the interrupt line's polarity and the MAC address.
//! Interrupts: the sources the platform enables, and the TX Data FIFO
//! Available level (TDFA, set at bring-up to a maximal frame), which
//! [`ferrode_hal::EthernetDevice::interrupt_when_transmit_ready`] arms and
//! [`Lan9118::take_interrupts`] disarms. RSFL (frames received) is a level
//! too: [`ferrode_hal::EthernetDevice::set_receive_interrupt`] masks it
//! while the caller has nowhere to put frames.
//!
//! Registers are reached in Ferrode's one style (`ferrode_hal::mmio`):
//! typed accessors ([`Registers`]) with access rights and named fields over
//! a bus, [`Mmio`] on hardware. Host tests put a behavioural model of the
//! device on the bus instead, because FIFO ports pop and push and the interrupt status is write-1-to-clear.
#![no_std]

#[cfg(test)]
extern crate std;

mod csr;
mod error;
mod fifo;
mod nic;
mod regs;
mod wait;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use csr::{LinkMode, resolve_link};
pub use error::{Error, Operation};
pub use fifo::{ReceiveStatus, receive_words, transmit_commands};
pub use nic::{Config, Interrupts, Lan9118};
pub use regs::{Mmio, Register, Registers, Regs};
pub use wait::timeouts;
