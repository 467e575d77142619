//! AMD/Xilinx AXI 1G/2.5G Ethernet Subsystem MAC (PG138) driver, with the
//! AXI DMA (PG021) in scatter-gather mode that moves its frames.
//!
//! The MAC streams frames to and from the DMA; the DMA moves them between
//! those streams and memory, following rings of buffer descriptors:
//! MM2S (memory to stream) transmits, S2MM (stream to memory) receives.
//! The driver knows no board: the platform names both register blocks.
//!
//! # Use
//!
//! The platform wraps the MAC's block ([`MacRegs`]) in a [`MacMmio`] and
//! the DMA's ([`DmaRegs`]) in a [`DmaMmio`], and lends a [`Rings`] of its
//! own (`TX` transmit and `RX` receive descriptors, each with a 1536-byte
//! buffer; a `static`, all zero: `.bss`) to [`AxiEthernet::new`]. That
//! resets the DMA, programs the station address, builds both rings, hands
//! every receive descriptor to the DMA and enables the receive
//! interrupt. The platform routes the DMA's S2MM interrupt (QEMU's board:
//! INTC input 8; MM2S's, input 9, is left disabled) to
//! [`AxiEthernet::on_interrupt`], which acknowledges it, brings back a
//! channel that halted and says whether a frame waits. Frames move
//! through [`ferrode_hal::EthernetDevice`], which `crates/net` adapts for
//! smoltcp; [`AxiEthernet::set_receive_interrupt`] masks the receive
//! interrupt while the caller has nowhere to put frames (they wait in the
//! ring, then in the MAC).
//!
//! Transmit copies the frame into the next free buffer (short frames
//! padded to 60 bytes) and hands its descriptor to the DMA by writing
//! TAILDESC; descriptors come back once the DMA marks them Complete.
//! Receive copies a frame out of the descriptor at the ring's head (its
//! length is APP4's, the MAC's count) and hands the descriptor straight
//! back. Bad frames (runts, frames longer than 1514 bytes or than the
//! caller's buffer, frames spread over several descriptors, DMA errors)
//! are dropped and counted. Waits (DMA reset, MDIO) are bounded by a poll
//! count ([`MAX_POLLS`]) and end in [`Error::Timeout`].
//!
//! # Memory shared with the DMA
//!
//! The DMA reads and writes the [`Rings`] at their CPU addresses (no MMU
//! on MicroBlaze V; on a 32-bit bus the upper address words stay 0). The
//! driver keeps raw pointers to them only, reads and writes descriptors
//! with volatile accesses, and fences (`core::sync::atomic::fence`) after
//! it sees Complete and before it writes TAILDESC. It does no cache
//! maintenance: on a core with a data cache the rings must be in memory
//! the DMA sees coherently (an uncached region, or no data cache), and a
//! core that needs a barrier between memory and device writes beyond what
//! those fences give needs one added.
//!
//! # QEMU 10.0's model (`amd-microblaze-v-generic`)
//!
//! QEMU's board has the MAC at 0x40c00000 and the DMA at 0x41e00000 (the
//! platform's addresses). What its models do, and what the driver does
//! about it:
//!
//! - MM2S runs synchronously inside the TAILDESC write; S2MM when a frame
//!   arrives, and at any write of an S2MM register, which pushes a frame
//!   the MAC held back. The MAC holds one frame while the DMA has no free
//!   descriptor and QEMU queues the rest: none is lost. But the MAC tells
//!   QEMU's network that it took nothing of the frame it holds, so the
//!   network queues that frame too and delivers nothing more until RCW0 or
//!   RCW1 is written: once the receive channel ran dry, the driver writes
//!   RCW1 again, unchanged, at the first hand-back after which the channel
//!   has room. That frame then arrives twice (the held copy, then the
//!   queued one); under a flood the receiver cannot keep up with, so do a
//!   share of the frames. Without the write the network would stay
//!   stopped for good.
//! - A channel that meets a descriptor already Complete halts (without an
//!   error interrupt) until Run/Stop is written again. The driver hands
//!   back only cleared descriptors and moves TAILDESC to the last one, so
//!   the DMA stops (Idle) at its tail. But QEMU restarts an idle channel
//!   at every DMACR write with Run/Stop set and every TAILDESC write, and
//!   clears Idle at a DMASR write that has it 0: it then runs past its tail
//!   into a full descriptor. So the driver acknowledges by writing DMASR
//!   back as read, writes TAILDESC only to move it, and changes the
//!   receive interrupt enables only while the channel is not idle (an
//!   idle one raises no interrupt until a descriptor is handed back). A
//!   halt that still happens (a race with an arriving frame, a DMA error)
//!   is found by [`AxiEthernet::on_interrupt`], by `receive` when no frame
//!   waits, by `can_transmit` when no descriptor is free and right after a
//!   change of the interrupt enables, and repaired by a reset of the DMA
//!   and a new start of the channel, frames held in the ring kept (counted
//!   in [`AxiEthernet::channel_restarts`]).
//! - A reset through one channel's DMACR resets that channel only (the
//!   hardware resets both), and ends at once.
//! - S2MM ORs its flags into the STATUS it finds and writes no
//!   transferred length: the driver clears STATUS (and the APP words)
//!   before it hands a descriptor back, and takes the length from APP4. A
//!   frame larger than a descriptor is written into several, each marked
//!   both start and end of frame, each with the whole frame's length in
//!   APP4: longer than a buffer, so each is dropped (and counted).
//! - DMACR's IRQThreshold must be at least 1: with 0 the completion count
//!   wraps and IOC never comes.
//! - The MAC comes out of reset receiving with in-band FCS, jumbo and VLAN
//!   frames; the driver turns all three off (RCW1 = receiver enable, TC =
//!   transmitter enable), so APP4 is the frame without FCS. It drops
//!   unicast frames not addressed to UAW0/UAW1, multicast frames (unless
//!   promiscuous, or in its four-entry table the driver leaves empty), and
//!   frames under 12 bytes; broadcast ones pass (RAF 0), as ARP needs.
//!   Frames of 1515..=1518 bytes pass too (dropped here as oversized).
//! - It models a PHY at MDIO address 7 whose BMSR (register 1) always
//!   reports link up (bit 2), whatever the NIC's link state; MCR always
//!   reads Ready and a transaction completes within the write.
//! - APP0 bit 0 of a transmit descriptor asks for checksum offload: the
//!   driver writes the APP words 0.
#![no_std]

mod dma;
mod driver;
mod error;
mod mdio;
pub mod regs;
mod ring;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use driver::{
    AxiEthernet, ChannelRestarts, Config, ETHERNET_HEADER_LEN, MAX_POLLS, MIN_FRAME_LEN,
};
pub use error::Error;
pub use mdio::{BMSR_LINK_STATUS, PHY_BMSR};
pub use regs::{
    Channel, Dma, DmaChannelRegs, DmaMmio, DmaRegister, DmaRegs, Mac, MacMmio, MacRegister, MacRegs,
};
pub use ring::{BUFFER_LEN, Rings};
