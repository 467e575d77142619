//! AMD/Xilinx AXI EthernetLite MAC (PG135) driver.
//!
//! The platform gives [`EmacLite::new`] the register block, a [`Config`]
//! (MAC address, whether the ping-pong buffers exist, PHY address) and a
//! [`ReceiveRing`] of its own (a static, in `.bss`), calls [`EmacLite::enable_rx_interrupt`] once the INTC input is
//! routed, and from that interrupt [`EmacLite::on_interrupt`], which copies
//! received frames into the driver's ring and frees the core's receive
//! buffers at once (a full buffer makes the core drop the next frame).
//! A caller with frames waiting while every transmit buffer is sending can
//! arm the transmit-done interrupt instead of polling
//! ([`ferrode_hal::EthernetDevice::interrupt_when_transmit_ready`]);
//! `on_interrupt` disarms it.
//! Frames move through [`ferrode_hal::EthernetDevice`], which `crates/net`
//! adapts for smoltcp.
//!
//! EthernetLite has no receive length register, so the frame length comes
//! from the headers ([`frame_length`]): IPv4 total length, ARP, IPv6
//! payload length, or the 802.3 length field; other types are passed up
//! with the whole buffer (1514 bytes). Buffers are accessed in 32-bit words
//! only, as the hardware and QEMU require.
//!
//! QEMU 10.0's amd-microblaze-v-generic board: base 0x40e00000, INTC input
//! 5, no ping-pong buffers, MDIO unimplemented (use `phy_address: None`);
//! it drops unicast frames not addressed to the programmed MAC. Its model
//! queues the frames that arrive while the buffer is full, but hands them
//! on when the buffer is freed before it marks the buffer free, so it
//! drops all of them (`-trace ethlite_pkt_lost`): of a burst, only the
//! first frame arrives, whatever the driver does.
#![no_std]

mod error;
mod frame;
mod mac;
mod mdio;
pub mod regs;
mod ring;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use error::Error;
pub use frame::{FrameLength, HEADER_BYTES_NEEDED, frame_length};
pub use mac::{
    Config, EmacLite, MAX_POLLS, MIN_FRAME_LEN, RECEIVE_RING_FRAMES, TransmitSlot,
    fill_transmit_slot,
};
pub use regs::{Buffer, Mmio, Register, Registers, Regs};
pub use ring::ReceiveRing;
