//! The design's Ethernet MAC when it is an AXI EthernetLite (PG135), the
//! default: its interrupt copies received frames out of the core's buffer
//! into a ring of the driver's at once and frees the buffer (the core
//! drops frames that arrive while it is full), and, armed, disarms the
//! transmit-done interrupt. The handle is the `ethernet` module's.

use emaclite::{EmacLite, Mmio as EmacMmio, RECEIVE_RING_FRAMES, ReceiveRing};
use ferrode_hal::EthernetDevice;
use static_cell::ConstStaticCell;

use super::ethernet::Ethernet;
use crate::memory_map::{
    EMACLITE_BASE, EMACLITE_IRQ, EMACLITE_MAC_ADDRESS, EMACLITE_PHY_ADDRESS, EMACLITE_RX_PING_PONG,
    EMACLITE_TX_PING_PONG,
};
use crate::mmio;
use crate::shared::IrqShared;

/// The MAC's driver.
pub(super) type Mac = EmacLite<'static, EmacMmio<'static>>;
/// Why it could not be brought up, or a frame not sent.
pub(super) type Error = emaclite::Error;
/// Its register window's base (the device window "ethernet").
pub(super) const BASE: usize = EMACLITE_BASE;
/// Its interrupt input at the AXI INTC.
pub(super) const IRQ: u32 = EMACLITE_IRQ;

/// The frames the MAC's interrupt copies out of its receive buffers (8 x
/// 1514 bytes, zero: `.bss`), lent to the driver once.
static ETHERNET_RING: ConstStaticCell<ReceiveRing<RECEIVE_RING_FRAMES>> =
    ConstStaticCell::new(ReceiveRing::new());

/// Takes the MAC over into `cell`, its receive interrupt on.
pub(super) fn bring_up(cell: &IrqShared<Mac>) -> Result<(), Error> {
    // SAFETY: EMACLITE_BASE is the AXI EthernetLite of this design
    // (memory_map), whose register block is `emaclite::Regs`.
    let regs = unsafe { mmio::registers::<emaclite::Regs>(EMACLITE_BASE) };
    let config = emaclite::Config {
        mac_address: EMACLITE_MAC_ADDRESS,
        tx_ping_pong: EMACLITE_TX_PING_PONG,
        rx_ping_pong: EMACLITE_RX_PING_PONG,
        phy_address: EMACLITE_PHY_ADDRESS,
    };
    // Lent on the first bring-up; the cell is set from then on. A bring-up
    // that failed (the core never finished programming the station
    // address: `Timeout`, the only way `new` fails) took the ring with it,
    // and a later one fails the same way.
    let ring = ETHERNET_RING.try_take().ok_or(emaclite::Error::Timeout)?;
    cell.set(EmacLite::new(EmacMmio::new(regs), config, ring)?);
    cell.with(|mac| mac.enable_rx_interrupt());
    Ok(())
}

/// Reserves a transmit buffer, copies the frame into it with interrupts
/// open (a full frame is 379 bus writes, during which the receive
/// interrupt must be able to empty the receive buffers), then sends it.
pub(super) fn transmit(ethernet: &Ethernet, frame: &[u8]) -> Result<(), Error> {
    let slot = ethernet.with(|mac| mac.reserve_transmit(frame.len()))?;
    emaclite::fill_transmit_slot(&ethernet_registers(), &slot, frame);
    ethernet.with(|mac| mac.send_reserved(slot));
    Ok(())
}

/// The transmit-done interrupt, while every transmit buffer is sending;
/// the next [`Ethernet::service_interrupt`] (or the platform's handler)
/// after the ping buffer's frame went disarms it.
pub(super) fn interrupt_when_transmit_ready(ethernet: &Ethernet) -> bool {
    ethernet.with(|mac| mac.interrupt_when_transmit_ready())
}

/// Nothing to mask: the EthernetLite's receive interrupt is one pulse per
/// frame (the trait's default).
pub(super) fn set_receive_interrupt(_: &Ethernet, _: bool) {}

/// The EthernetLite's registers, for filling a reserved transmit buffer
/// outside the MAC's cell.
fn ethernet_registers() -> EmacMmio<'static> {
    // SAFETY: EMACLITE_BASE is the AXI EthernetLite of this design
    // (memory_map). This second handle only writes the buffer RAM of a
    // transmit slot the driver reserved for its caller, which nothing else
    // touches until the slot is sent.
    EmacMmio::new(unsafe { mmio::registers::<emaclite::Regs>(EMACLITE_BASE) })
}
