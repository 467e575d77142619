//! The design's Ethernet MAC when it is the AXI 1G/2.5G Ethernet subsystem
//! (PG138) with an AXI DMA (PG021) in scatter-gather mode (the
//! `axi-ethernet` feature): the DMA writes received frames straight into
//! the driver's ring of buffers in RAM and reads transmitted ones from it,
//! so no frame crosses the AXI bus a word per CPU access. Its interrupt is
//! the DMA's receive (S2MM) interrupt: the driver acknowledges it and
//! starts a channel that stopped on an error again; frames stay in the
//! ring until they are received. The device window "ethernet" is the
//! MAC's registers; the DMA comes with it, as one device. The handle is
//! the `ethernet` module's.

use axi_ethernet::{AxiEthernet, DmaMmio, MacMmio, Rings};
use static_cell::ConstStaticCell;

use super::ethernet::Ethernet;
use crate::memory_map::{
    AXIDMA_BASE, AXIDMA_RX_IRQ, AXIENET_BASE, AXIENET_MAC_ADDRESS, AXIENET_MDIO_CLOCK_DIVIDER,
    AXIENET_PHY_ADDRESS,
};
use crate::mmio;
use crate::shared::IrqShared;

/// Transmit descriptors (and 1536-byte buffers): frames queued at once.
const TX_DESCRIPTORS: usize = 8;
/// Receive descriptors (and buffers): frames the DMA can take while the
/// driver's client is busy; more wait in the MAC (QEMU's model holds them
/// back, nothing is lost).
const RX_DESCRIPTORS: usize = 16;

/// The MAC's driver.
pub(super) type Mac =
    AxiEthernet<'static, MacMmio<'static>, DmaMmio<'static>, TX_DESCRIPTORS, RX_DESCRIPTORS>;
/// Why it could not be brought up, or a frame not sent.
pub(super) type Error = axi_ethernet::Error;
/// Its register window's base (the device window "ethernet").
pub(super) const BASE: usize = AXIENET_BASE;
/// Its interrupt input at the AXI INTC: the DMA's receive interrupt.
pub(super) const IRQ: u32 = AXIDMA_RX_IRQ;

/// The DMA's descriptors and buffers (24 x 1536 bytes and the descriptors,
/// zero: `.bss`), lent to the driver once. On a core with a data cache
/// they must lie where the DMA sees what the core wrote: the driver does
/// no cache maintenance.
static ETHERNET_RINGS: ConstStaticCell<Rings<TX_DESCRIPTORS, RX_DESCRIPTORS>> =
    ConstStaticCell::new(Rings::new());

/// Takes MAC and DMA over into `cell`: the DMA gets its receive ring, the
/// receive interrupt is on.
pub(super) fn bring_up(cell: &IrqShared<Mac>) -> Result<(), Error> {
    // SAFETY: AXIENET_BASE and AXIDMA_BASE are the AXI Ethernet and the AXI
    // DMA of this design (memory_map), whose register blocks are the
    // driver's `MacRegs` and `DmaRegs`.
    let (mac, dma) = unsafe {
        (
            mmio::registers::<axi_ethernet::MacRegs>(AXIENET_BASE),
            mmio::registers::<axi_ethernet::DmaRegs>(AXIDMA_BASE),
        )
    };
    let config = axi_ethernet::Config {
        mac_address: AXIENET_MAC_ADDRESS,
        phy_address: AXIENET_PHY_ADDRESS,
        mdio_clock_divider: AXIENET_MDIO_CLOCK_DIVIDER,
    };
    // Lent on the first bring-up; the cell is set from then on. A bring-up
    // that failed (a DMA reset that never ended: `Timeout`) took the rings
    // with it, and a later one fails the same way.
    let rings = ETHERNET_RINGS.try_take().ok_or(axi_ethernet::Error::Timeout)?;
    cell.set(AxiEthernet::new(MacMmio::new(mac), DmaMmio::new(dma), config, rings)?);
    Ok(())
}

/// Copies the frame into a free transmit buffer and hands it to the DMA.
pub(super) fn transmit(ethernet: &Ethernet, frame: &[u8]) -> Result<(), Error> {
    ethernet.with(|mac| ferrode_hal::EthernetDevice::transmit(mac, frame))
}

/// None: the DMA's transmit interrupt is another INTC input than the
/// device's one, so a caller with the transmit ring full polls.
pub(super) fn interrupt_when_transmit_ready(_: &Ethernet) -> bool {
    false
}

/// The receive interrupt, masked while the caller has no buffer for frames
/// (they wait in the ring, then in the MAC).
pub(super) fn set_receive_interrupt(ethernet: &Ethernet, enabled: bool) {
    ethernet.with(|mac| mac.set_receive_interrupt(enabled));
}
