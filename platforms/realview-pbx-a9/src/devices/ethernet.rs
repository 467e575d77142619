//! The LAN9118 as the board's Ethernet device, receive interrupt-driven.
//!
//! The interrupt handler acknowledges the chip (INT_STS) and lets the driver
//! recover from receiver and transmitter errors and follow link changes
//! (the PHY interrupt); the frames stay in the chip's RX FIFO until the
//! network stack asks for them, and the interrupt wakes the application
//! from [`crate::irq::wait_for_event`]. Every wait on the chip is bounded
//! in time by the board's clock.

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
/// EEPROM, PHY and auto-negotiation, receive interrupt on) and returns a
/// handle to it. The bring-up waits on the chip for up to a few seconds
/// (auto-negotiation with a partner takes about two), so it runs with
/// interrupts open; a second caller meanwhile waits for it to finish.
pub fn ethernet() -> Result<Ethernet, EthernetError> {
    if BRINGING_UP.swap(true, Ordering::AcqRel) {
        loop {
            if let Some(mac_address) = NIC.with(|nic| nic.as_ref().map(EthernetDevice::mac_address))
            {
                return Ok(Ethernet { mac_address });
            }
            if !BRINGING_UP.load(Ordering::Acquire) {
                // The bring-up failed; try again.
                return ethernet();
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
    // LAN9118_IRQ is a valid SPI of this GIC.
    let _ = irq::register(LAN9118_IRQ, on_interrupt);
    Ok(Ethernet { mac_address })
}

fn on_interrupt() {
    NIC.with(|nic| {
        if let Some(nic) = nic {
            nic.take_interrupts();
        }
    });
    if let Some(hook) = HOOK.with(|hook| *hook) {
        hook();
    }
}

static HOOK: Shared<Option<fn()>> = Shared::new(None);

/// Runs `hook` in interrupt context after each LAN9118 interrupt (the chip
/// acknowledged): how the NIC driver component gets its signal submitted.
/// The chip's own handler stays the platform's.
pub fn set_ethernet_hook(hook: fn()) {
    HOOK.with(|slot| *slot = Some(hook));
}

/// The LAN9118, for the NIC driver component: only for the holder of its
/// register window (what an IO_MEM session for "ethernet" returns).
pub fn ethernet_port(
    window: &ferrode_hal::DeviceWindow,
) -> Option<Result<Ethernet, EthernetError>> {
    (window.base == LAN9118_BASE).then(ethernet)
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
