//! The design's Ethernet MAC when it is an AXI EthernetLite (PG135), the
//! default: received frames are copied out of the core's buffer by its
//! interrupt into a ring of the driver's.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use emaclite::{EmacLite, Mmio as EmacMmio, RECEIVE_RING_FRAMES, ReceiveRing};
use ferrode_hal::{EthernetDevice, FrameCounters};
use static_cell::ConstStaticCell;

use crate::memory_map::{
    EMACLITE_BASE, EMACLITE_IRQ, EMACLITE_MAC_ADDRESS, EMACLITE_PHY_ADDRESS, EMACLITE_RX_PING_PONG,
    EMACLITE_TX_PING_PONG,
};
use crate::shared::IrqShared;
use crate::{irq, mmio};

type Mac = EmacLite<'static, EmacMmio<'static>>;

static ETHERNET: IrqShared<Mac> = IrqShared::new();
/// The frames the MAC's interrupt copies out of its receive buffers (8 x
/// 1514 bytes, zero: `.bss`), lent to the driver once.
static ETHERNET_RING: ConstStaticCell<ReceiveRing<RECEIVE_RING_FRAMES>> =
    ConstStaticCell::new(ReceiveRing::new());
static ETHERNET_INTERRUPTS: AtomicU32 = AtomicU32::new(0);

/// Why the Ethernet device could not be brought up.
pub type EthernetError = emaclite::Error;

/// The Ethernet MAC (AXI EthernetLite) as a [`ferrode_hal::EthernetDevice`],
/// with the platform's interrupt handler (for apps that drive it
/// directly). The first call takes over the MAC (station address from
/// [`memory_map`](crate::memory_map)) and turns its receive interrupt on;
/// it fails if programming the address times out.
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
        // SAFETY: the caller drives the EthernetLite (this function's
        // contract), so its interrupt is the caller's.
        unsafe { irq::register(EMACLITE_IRQ, on_ethernet_interrupt) }
            .expect("EthernetLite input exists on the INTC");
    }
    Ok(ethernet)
}

/// Whether the platform's handler is registered.
static ETHERNET_HANDLER: AtomicBool = AtomicBool::new(false);

/// The Ethernet MAC, for the NIC driver component: only for the holder of
/// its register window (what an IO_MEM session for "ethernet" returns).
/// The platform registers no handler: the component's IRQ session for
/// "ethernet" brings the interrupt, and the component calls
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
    (window.base == EMACLITE_BASE).then(bring_up)
}

fn bring_up() -> Result<Ethernet, EthernetError> {
    if ETHERNET.is_empty() {
        // SAFETY: EMACLITE_BASE is the AXI EthernetLite of this design
        // (memory_map), whose register block is `emaclite::Regs`.
        let regs = unsafe { mmio::registers::<emaclite::Regs>(EMACLITE_BASE) };
        let config = emaclite::Config {
            mac_address: EMACLITE_MAC_ADDRESS,
            tx_ping_pong: EMACLITE_TX_PING_PONG,
            rx_ping_pong: EMACLITE_RX_PING_PONG,
            phy_address: EMACLITE_PHY_ADDRESS,
        };
        // Lent on the first bring-up; `ETHERNET` is set from then on. A
        // bring-up that failed (the core never finished programming the
        // station address: `Timeout`, the only way `new` fails) took the
        // ring with it, and a later one fails the same way.
        let ring = ETHERNET_RING.try_take().ok_or(emaclite::Error::Timeout)?;
        let mac = EmacLite::new(EmacMmio::new(regs), config, ring)?;
        ETHERNET.set(mac);
        ETHERNET.with(|mac| mac.enable_rx_interrupt());
    }
    Ok(Ethernet(()))
}

/// EthernetLite interrupt (the platform's handler): a frame arrived (or,
/// armed, a transmission ended). The driver copies received frames into
/// its ring at once and frees the receive buffer (the core drops frames
/// that arrive while it is full); the interrupt also
/// wakes whoever sleeps in [`irq::wait_for_event`], who then polls the
/// network stack.
fn on_ethernet_interrupt() {
    ETHERNET.with(|mac| mac.on_interrupt());
    ETHERNET_INTERRUPTS
        .store(ETHERNET_INTERRUPTS.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

/// The EthernetLite's registers, for filling a reserved transmit buffer
/// outside the MAC's cell.
fn ethernet_registers() -> EmacMmio<'static> {
    // SAFETY: EMACLITE_BASE is the AXI EthernetLite of this design
    // (memory_map). This second handle only writes the buffer RAM of a
    // transmit slot the driver reserved for its caller, which nothing else
    // touches until the slot is sent.
    EmacMmio::new(unsafe { mmio::registers::<emaclite::Regs>(EMACLITE_BASE) })
}

/// Handle to the Ethernet MAC.
#[derive(Clone, Copy, Debug)]
pub struct Ethernet(());

impl Ethernet {
    /// What the MAC's interrupt asks for, from a thread: copies the
    /// received frames into the driver's ring and frees the receive
    /// buffers, disarms a transmit-done interrupt that came. The NIC driver component calls this when its IRQ session
    /// signals, before it acknowledges the session.
    pub fn service_interrupt(&self) {
        on_ethernet_interrupt();
    }

    /// Interrupts taken since the MAC was brought up (received frames,
    /// and transmit-done ones while armed).
    pub fn interrupts(&self) -> u32 {
        ETHERNET_INTERRUPTS.load(Ordering::Relaxed)
    }

    /// Whether a received frame is waiting in the MAC's buffer.
    pub fn frame_waiting(&self) -> bool {
        ETHERNET.with(|mac| mac.on_interrupt()).unwrap_or(false)
    }

    fn with<R>(&self, f: impl FnOnce(&mut Mac) -> R) -> R {
        ETHERNET.with(f).expect("EthernetLite initialised by devices::ethernet()")
    }
}

impl EthernetDevice for Ethernet {
    type Error = emaclite::Error;

    fn mac_address(&self) -> [u8; 6] {
        self.with(|mac| mac.mac_address())
    }

    fn link_up(&mut self) -> bool {
        self.with(|mac| mac.link_up())
    }

    fn can_transmit(&mut self) -> bool {
        self.with(|mac| mac.can_transmit())
    }

    /// The transmit-done interrupt, while every transmit buffer is
    /// sending; the next [`Ethernet::service_interrupt`] (or the
    /// platform's handler) after the ping buffer's frame went disarms it.
    fn interrupt_when_transmit_ready(&mut self) -> bool {
        self.with(|mac| mac.interrupt_when_transmit_ready())
    }

    /// Reserves a transmit buffer, copies the frame into it with
    /// interrupts open (a full frame is 379 bus writes, during which the
    /// receive interrupt must be able to empty the receive buffers), then
    /// sends it.
    fn transmit(&mut self, frame: &[u8]) -> Result<(), emaclite::Error> {
        let slot = self.with(|mac| mac.reserve_transmit(frame.len()))?;
        emaclite::fill_transmit_slot(&ethernet_registers(), &slot, frame);
        self.with(|mac| mac.send_reserved(slot));
        Ok(())
    }

    fn receive(&mut self, buffer: &mut [u8]) -> Result<Option<usize>, emaclite::Error> {
        self.with(|mac| mac.receive(buffer))
    }

    fn counters(&self) -> FrameCounters {
        self.with(|mac| mac.counters())
    }
}
