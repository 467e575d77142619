//! The design's Ethernet MAC when it is the AXI 1G/2.5G Ethernet subsystem
//! (PG138) with an AXI DMA (PG021) in scatter-gather mode (the
//! `axi-ethernet` feature): the DMA writes received frames straight into
//! the driver's ring of buffers in RAM and reads transmitted ones from it,
//! so no frame crosses the AXI bus a word per CPU access.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use axi_ethernet::{AxiEthernet, DmaMmio, MacMmio, Rings};
use ferrode_hal::{EthernetDevice, FrameCounters};
use static_cell::ConstStaticCell;

use crate::memory_map::{
    AXIDMA_BASE, AXIDMA_RX_IRQ, AXIENET_BASE, AXIENET_MAC_ADDRESS, AXIENET_MDIO_CLOCK_DIVIDER,
    AXIENET_PHY_ADDRESS,
};
use crate::shared::IrqShared;
use crate::{irq, mmio};

/// Transmit descriptors (and 1536-byte buffers): frames queued at once.
const TX_DESCRIPTORS: usize = 8;
/// Receive descriptors (and buffers): frames the DMA can take while the
/// driver's client is busy; more wait in the MAC (QEMU's model holds them
/// back, nothing is lost).
const RX_DESCRIPTORS: usize = 16;

type Mac = AxiEthernet<'static, MacMmio<'static>, DmaMmio<'static>, TX_DESCRIPTORS, RX_DESCRIPTORS>;

static ETHERNET: IrqShared<Mac> = IrqShared::new();
/// The DMA's descriptors and buffers (24 x 1536 bytes and the descriptors,
/// zero: `.bss`), lent to the driver once. On a core with a data cache
/// they must lie where the DMA sees what the core wrote: the driver does
/// no cache maintenance.
static ETHERNET_RINGS: ConstStaticCell<Rings<TX_DESCRIPTORS, RX_DESCRIPTORS>> =
    ConstStaticCell::new(Rings::new());
static ETHERNET_INTERRUPTS: AtomicU32 = AtomicU32::new(0);

/// Why the Ethernet device could not be brought up.
pub type EthernetError = axi_ethernet::Error;

/// The Ethernet MAC (AXI Ethernet with its AXI DMA) as a
/// [`ferrode_hal::EthernetDevice`], with the platform's interrupt handler
/// (for apps that drive it directly). The first call takes over MAC and
/// DMA (station address from [`memory_map`](crate::memory_map)), hands
/// the DMA its receive ring and turns the receive interrupt on; it fails
/// if a reset of the DMA never ends.
///
/// # Safety
///
/// Device authority: the caller is the device's one driver, as the
/// image's composition made it: the board's driver component for it
/// (holding the IO_MEM and IRQ sessions its routes grant), the board's
/// own services, or an app without components that drives the device
/// itself. A component reaches devices only through its sessions, so
/// its safe code cannot call this.
pub unsafe fn ethernet() -> Result<Ethernet, EthernetError> {
    let ethernet = bring_up()?;
    if !ETHERNET_HANDLER.swap(true, Ordering::Relaxed) {
        // SAFETY: the caller drives the AXI Ethernet and its DMA (this
        // function's contract), so the DMA's receive interrupt is the
        // caller's.
        unsafe { irq::register(AXIDMA_RX_IRQ, on_ethernet_interrupt) }
            .expect("AXI DMA receive input exists on the INTC");
    }
    Ok(ethernet)
}

/// Whether the platform's handler is registered.
static ETHERNET_HANDLER: AtomicBool = AtomicBool::new(false);

/// The Ethernet MAC, for the NIC driver component: only for the holder of
/// its register window (what an IO_MEM session for "ethernet" returns: the
/// AXI Ethernet's registers; its DMA comes with it, as one device). The
/// platform registers no handler: the component's IRQ session for
/// "ethernet" brings the DMA's receive interrupt, and the component calls
/// [`Ethernet::service_interrupt`] for it.
///
/// # Safety
///
/// Device authority: the caller is the device's one driver, as the
/// image's composition made it: the board's driver component for it
/// (holding the IO_MEM and IRQ sessions its routes grant), the board's
/// own services, or an app without components that drives the device
/// itself. A component reaches devices only through its sessions, so
/// its safe code cannot call this.
pub unsafe fn ethernet_port(
    window: &ferrode_hal::DeviceWindow,
) -> Option<Result<Ethernet, EthernetError>> {
    (window.base == AXIENET_BASE).then(bring_up)
}

fn bring_up() -> Result<Ethernet, EthernetError> {
    if ETHERNET.is_empty() {
        // SAFETY: AXIENET_BASE and AXIDMA_BASE are the AXI Ethernet and
        // the AXI DMA of this design (memory_map), whose register blocks
        // are the driver's `MacRegs` and `DmaRegs`.
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
        // Lent on the first bring-up; `ETHERNET` is set from then on. A
        // bring-up that failed (a DMA reset that never ended: `Timeout`)
        // took the rings with it, and a later one fails the same way.
        let rings = ETHERNET_RINGS.try_take().ok_or(axi_ethernet::Error::Timeout)?;
        let driver = AxiEthernet::new(MacMmio::new(mac), DmaMmio::new(dma), config, rings)?;
        ETHERNET.set(driver);
    }
    Ok(Ethernet(()))
}

/// The AXI DMA's receive interrupt (the platform's handler): frames
/// arrived in the ring, or a channel stopped on an error. The driver
/// acknowledges it and starts a stopped channel again; the frames stay in
/// the ring until they are received. The interrupt also wakes whoever
/// sleeps in [`irq::wait_for_event`], who then polls the network stack.
fn on_ethernet_interrupt() {
    ETHERNET.with(|mac| mac.on_interrupt());
    ETHERNET_INTERRUPTS
        .store(ETHERNET_INTERRUPTS.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

/// Handle to the Ethernet MAC.
#[derive(Clone, Copy, Debug)]
pub struct Ethernet(());

impl Ethernet {
    /// What the DMA's receive interrupt asks for, from a thread:
    /// acknowledges it at the DMA, and starts a channel that stopped on an
    /// error again. The NIC driver component calls this when its IRQ
    /// session signals, before it acknowledges the session.
    pub fn service_interrupt(&self) {
        on_ethernet_interrupt();
    }

    /// Interrupts taken since the MAC was brought up.
    pub fn interrupts(&self) -> u32 {
        ETHERNET_INTERRUPTS.load(Ordering::Relaxed)
    }

    /// Whether a received frame is waiting in the receive ring.
    pub fn frame_waiting(&self) -> bool {
        ETHERNET.with(|mac| mac.on_interrupt()).unwrap_or(false)
    }

    fn with<R>(&self, f: impl FnOnce(&mut Mac) -> R) -> R {
        ETHERNET.with(f).expect("AXI Ethernet initialised by devices::ethernet()")
    }
}

impl EthernetDevice for Ethernet {
    type Error = axi_ethernet::Error;

    fn mac_address(&self) -> [u8; 6] {
        self.with(|mac| mac.mac_address())
    }

    fn link_up(&mut self) -> bool {
        self.with(|mac| mac.link_up())
    }

    fn can_transmit(&mut self) -> bool {
        self.with(|mac| mac.can_transmit())
    }

    /// The receive interrupt, masked while the caller has no buffer for
    /// frames (they wait in the ring, then in the MAC).
    fn set_receive_interrupt(&mut self, enabled: bool) {
        self.with(|mac| mac.set_receive_interrupt(enabled));
    }

    /// Copies the frame into a free transmit buffer and hands it to the
    /// DMA.
    fn transmit(&mut self, frame: &[u8]) -> Result<(), axi_ethernet::Error> {
        self.with(|mac| mac.transmit(frame))
    }

    /// Copies the next frame out of the receive ring and gives its buffer
    /// back to the DMA.
    fn receive(&mut self, buffer: &mut [u8]) -> Result<Option<usize>, axi_ethernet::Error> {
        self.with(|mac| mac.receive(buffer))
    }

    fn counters(&self) -> FrameCounters {
        self.with(|mac| mac.counters())
    }
}
