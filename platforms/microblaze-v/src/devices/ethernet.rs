//! The design's Ethernet MAC as [`ferrode_hal::EthernetDevice`]: one
//! handle, interrupt handler and way in for the NIC driver component over
//! whichever MAC the design has (`super::mac`: the AXI EthernetLite's
//! module, or with the `axi-ethernet` feature the AXI Ethernet's), which
//! gives its driver type (`Mac`), register base, interrupt input, bring-up,
//! transmit and what it does with the trait's two interrupt controls.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use ferrode_hal::{EthernetDevice, FrameCounters};

use super::mac::{self, Mac};
use crate::irq;
use crate::shared::IrqShared;

/// The MAC's driver, once brought up.
static ETHERNET: IrqShared<Mac> = IrqShared::new();
static ETHERNET_INTERRUPTS: AtomicU32 = AtomicU32::new(0);

/// Why the Ethernet device could not be brought up.
pub type EthernetError = mac::Error;

/// The design's Ethernet MAC as a [`ferrode_hal::EthernetDevice`], with
/// the platform's interrupt handler (for apps that drive it directly). The
/// first call takes the MAC over (station address from
/// [`memory_map`](crate::memory_map)) and turns its receive interrupt on;
/// it fails if the MAC does not come up (a bounded wait that times out).
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
        // SAFETY: the caller drives the MAC (this function's contract), so
        // its interrupt is the caller's.
        unsafe { irq::register(mac::IRQ, on_ethernet_interrupt) }
            .expect("the Ethernet MAC's input exists on the INTC");
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
    (window.base == mac::BASE).then(bring_up)
}

fn bring_up() -> Result<Ethernet, EthernetError> {
    if ETHERNET.is_empty() {
        mac::bring_up(&ETHERNET)?;
    }
    Ok(Ethernet(()))
}

/// The MAC's interrupt (the platform's handler): the driver serves it
/// (`on_interrupt`: see the MAC's module); the interrupt also wakes
/// whoever sleeps in [`irq::wait_for_event`], who then polls the network
/// stack.
fn on_ethernet_interrupt() {
    ETHERNET.with(|mac| mac.on_interrupt());
    ETHERNET_INTERRUPTS
        .store(ETHERNET_INTERRUPTS.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

/// Handle to the Ethernet MAC.
#[derive(Clone, Copy, Debug)]
pub struct Ethernet(());

impl Ethernet {
    /// What the MAC's interrupt asks for, from a thread (the driver's
    /// `on_interrupt`). The NIC driver component calls this when its IRQ
    /// session signals, before it acknowledges the session.
    pub fn service_interrupt(&self) {
        on_ethernet_interrupt();
    }

    /// Interrupts taken since the MAC was brought up.
    pub fn interrupts(&self) -> u32 {
        ETHERNET_INTERRUPTS.load(Ordering::Relaxed)
    }

    /// Whether a received frame is waiting in the MAC's driver.
    pub fn frame_waiting(&self) -> bool {
        ETHERNET.with(|mac| mac.on_interrupt()).unwrap_or(false)
    }

    pub(super) fn with<R>(&self, f: impl FnOnce(&mut Mac) -> R) -> R {
        ETHERNET.with(f).expect("Ethernet MAC initialised by devices::ethernet()")
    }
}

impl EthernetDevice for Ethernet {
    type Error = EthernetError;

    fn mac_address(&self) -> [u8; 6] {
        self.with(|mac| mac.mac_address())
    }

    fn link_up(&mut self) -> bool {
        self.with(|mac| mac.link_up())
    }

    fn can_transmit(&mut self) -> bool {
        self.with(|mac| mac.can_transmit())
    }

    /// As the MAC can (see its module).
    fn interrupt_when_transmit_ready(&mut self) -> bool {
        mac::interrupt_when_transmit_ready(self)
    }

    /// As the MAC needs (see its module).
    fn set_receive_interrupt(&mut self, enabled: bool) {
        mac::set_receive_interrupt(self, enabled);
    }

    /// The MAC's own way (see its module).
    fn transmit(&mut self, frame: &[u8]) -> Result<(), EthernetError> {
        mac::transmit(self, frame)
    }

    fn receive(&mut self, buffer: &mut [u8]) -> Result<Option<usize>, EthernetError> {
        self.with(|mac| mac.receive(buffer))
    }

    fn counters(&self) -> FrameCounters {
        self.with(|mac| mac.counters())
    }
}
