//! The LAN9118 as the board's Ethernet device, receive interrupt-driven.
//!
//! Two ways to drive it. An app that calls the driver directly takes
//! [`ethernet`]: the platform's interrupt handler acknowledges the chip
//! (INT_STS) and lets the driver recover from receiver and transmitter
//! errors and follow link changes (the PHY interrupt); the frames stay in
//! the chip's RX FIFO until the network stack asks for them, and the
//! interrupt wakes the application from [`crate::irq::wait_for_event`].
//! The NIC driver component takes [`ethernet_port`] instead, for its
//! IO_MEM window: no handler of the platform's; the component's IRQ session
//! delivers the interrupt as a signal, and its thread does the same work
//! with [`Ethernet::service_interrupt`] before it acknowledges the session.
//! Every wait on the chip is bounded in time by the board's clock.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};

use ferrode_hal::{EthernetDevice, FrameCounters};
use ferrode_lan9118::{Config, Interrupts, Lan9118, Mmio, Regs};
use volatile::VolatilePtr;

use super::Clock;
use crate::irq;
use crate::memory_map::{LAN9118_BASE, LAN9118_IRQ};
use crate::shared::Shared;

/// Why the Ethernet device could not be brought up.
pub type EthernetError = ferrode_lan9118::Error;

type Nic = Lan9118<Mmio<'static>, Clock>;

static NIC: Shared<Option<Nic>> = Shared::new(None);

/// The board's Ethernet controller. Every handle drives the same chip.
#[derive(Clone, Copy, Debug)]
pub struct Ethernet {
    mac_address: [u8; 6],
}

/// Set by the call that brings the chip up.
static BRINGING_UP: AtomicBool = AtomicBool::new(false);

/// Brings up the LAN9118 (first call only: reset, MAC address from its
/// EEPROM, PHY and auto-negotiation, receive interrupt on) with the
/// platform's interrupt handler, and returns a handle to it. The bring-up
/// waits on the chip for up to a few seconds (auto-negotiation with a
/// partner takes about two), so it runs with interrupts open; a second
/// caller meanwhile waits for it to finish.
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
    // SAFETY: the caller drives the LAN9118 (this function's contract),
    // so its interrupt is the caller's; LAN9118_IRQ is a valid SPI of this
    // GIC, and a second call finds the handler registered already.
    let _ = unsafe { irq::register(LAN9118_IRQ, on_interrupt) };
    Ok(ethernet)
}

/// The LAN9118, for the NIC driver component: only for the holder of its
/// register window (what an IO_MEM session for "ethernet" returns). The
/// platform registers no handler: the component's IRQ session for
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
    (window.base == LAN9118_BASE).then(bring_up)
}

fn bring_up() -> Result<Ethernet, EthernetError> {
    if BRINGING_UP.swap(true, Ordering::AcqRel) {
        loop {
            if let Some(mac_address) = NIC.with(|nic| nic.as_ref().map(EthernetDevice::mac_address))
            {
                return Ok(Ethernet { mac_address });
            }
            if !BRINGING_UP.load(Ordering::Acquire) {
                // The bring-up failed; try again.
                return bring_up();
            }
            core::hint::spin_loop();
        }
    }
    // SAFETY: LAN9118_BASE is the LAN9118 on this board (DUI 0440, static
    // memory CS 4), used by nothing else; until `NIC` holds the driver only
    // this call (the one that set BRINGING_UP) touches it.
    let registers = unsafe { VolatilePtr::new(NonNull::new_unchecked(LAN9118_BASE as *mut Regs)) };
    // The board wires the IRQ pin to the GIC active-high (QEMU's model
    // needs IRQ_CFG = 0x111). Duplex comes from auto-negotiation.
    let config = Config { mac_address: None, irq_active_high: true, promiscuous: false };
    let mut chip = match Lan9118::new(Mmio::new(registers), super::clock(), &config) {
        Ok(chip) => chip,
        Err(error) => {
            BRINGING_UP.store(false, Ordering::Release);
            return Err(error);
        }
    };
    chip.set_interrupt_mask(Interrupts::RECEIVE.union(Interrupts::ERRORS).union(Interrupts::PHY));
    let mac_address = chip.mac_address();
    NIC.with(|nic| *nic = Some(chip));
    Ok(Ethernet { mac_address })
}

/// The platform's handler (apps that drive the chip directly).
fn on_interrupt() {
    NIC.with(|nic| {
        if let Some(nic) = nic {
            nic.take_interrupts();
        }
    });
}

impl Ethernet {
    /// What the chip's interrupt asks for, from a thread: acknowledges it
    /// (INT_STS), recovers from receiver and transmitter errors, follows
    /// link changes, disarms a transmit-ready interrupt that came. The NIC driver component calls this when its IRQ
    /// session signals, before it acknowledges the session (the line is
    /// level-triggered: it stays asserted until this ran).
    pub fn service_interrupt(&self) {
        with_nic(|nic| {
            nic.take_interrupts();
        });
    }
}

fn with_nic<R>(f: impl FnOnce(&mut Nic) -> R) -> R {
    NIC.with(|nic| match nic {
        Some(nic) => f(nic),
        // An `Ethernet` exists only after `ethernet()` stored the chip.
        None => unreachable!("Ethernet handle without a NIC"),
    })
}

impl EthernetDevice for Ethernet {
    type Error = EthernetError;

    fn mac_address(&self) -> [u8; 6] {
        self.mac_address
    }

    fn link_up(&mut self) -> bool {
        with_nic(|nic| nic.link_up())
    }

    fn can_transmit(&mut self) -> bool {
        with_nic(|nic| nic.can_transmit())
    }

    /// TDFA, beside the sources the bring-up enabled; the next
    /// [`Ethernet::service_interrupt`] (or the platform's handler) after it
    /// fires disarms it.
    fn interrupt_when_transmit_ready(&mut self) -> bool {
        with_nic(|nic| nic.interrupt_when_transmit_ready())
    }

    fn set_receive_interrupt(&mut self, enabled: bool) {
        with_nic(|nic| nic.set_receive_interrupt(enabled));
    }

    fn transmit(&mut self, frame: &[u8]) -> Result<(), Self::Error> {
        with_nic(|nic| nic.transmit(frame))
    }

    fn receive(&mut self, buffer: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        with_nic(|nic| nic.receive(buffer))
    }

    fn counters(&self) -> FrameCounters {
        with_nic(|nic| nic.counters())
    }
}
