//! The console UART as an interrupt-driven `embedded_io` serial port.
//!
//! The buffering is the driver's ([`ferrode_pl011::BufferedPl011`]): its
//! interrupt handler drains UART0's receive FIFO into a receive ring and
//! refills the transmit FIFO from a transmit ring. This module keeps the
//! driver in a [`Shared`] slot, routes UART0's interrupt to it, and sleeps
//! (`irq::wait_for_event`) where the driver's non-blocking calls say there
//! is nothing to read or no room to write.
//!
//! Flow control: when the receive ring is full the driver leaves the rest
//! in the UART's FIFO and masks reception; a read makes room and unmasks.
//! A sender with flow control (QEMU's character backend) then waits
//! instead of losing bytes; without, the UART reports an overrun, counted
//! in [`Serial::lost_bytes`].
//!
//! The console ([`crate::console_write`]) shares the UART: once `serial()`
//! is running, console text goes through [`try_write_console`], which
//! first moves what the transmit ring holds into the FIFO and takes
//! console bytes only once it is empty, so console lines and serial output
//! never interleave within a step.
//!
//! Who takes UART0's interrupt depends on who drives the port. An app that
//! calls [`serial`] gets this module's handler. The Terminal driver
//! component gets the port through [`terminal_port`] (for the holder of
//! UART0's register window only) and the interrupt through its IRQ
//! session; its interrupt thread calls [`Serial::service_interrupt`]. The
//! console never depends on the interrupt: [`try_write_console`] moves
//! the transmit ring into the FIFO itself.

use ferrode_pl011::{BufferedPl011, Error, Mmio};

use crate::console::uart0;
use crate::irq;
use crate::memory_map::{UART0_BASE, UART0_IRQ};
use crate::shared::Shared;
use core::sync::atomic::{AtomicBool, Ordering};
use ferrode_hal::Slot;

/// Bytes buffered between the interrupt and the reader.
const RECEIVE_RING_LEN: usize = 1024;
/// Bytes buffered between the writer and the interrupt.
const TRANSMIT_RING_LEN: usize = 1024;

type BufferedUart = BufferedPl011<Mmio<'static>, RECEIVE_RING_LEN, TRANSMIT_RING_LEN>;

// A `Slot`, not an `Option`: empty, it is zero bytes, so the driver and
// its two rings are in `.bss`, not in every image's `.data`.
static UART: Shared<Slot<BufferedUart>> = Shared::new(Slot::new());

/// UART0 as a serial port: `embedded_io::{Read, ReadReady, Write,
/// WriteReady}`, interrupt-driven in both directions.
#[derive(Clone, Copy, Debug, Default)]
pub struct Serial(());

/// The serial port (UART0, shared with the console), with the platform's
/// interrupt handler (for apps that use it directly). The first call hands
/// the UART to the interrupt-driven driver and turns on its interrupt.
///
/// # Safety
///
/// Device authority: the caller is the device's one driver, as the
/// image's composition made it: the board's driver component for it
/// (holding the IO_MEM and IRQ sessions its routes grant), the board's
/// own services, or an app without components that drives the device
/// itself. A component reaches devices only through its sessions, so
/// its safe code cannot call this.
pub unsafe fn serial() -> Serial {
    start();
    if !HANDLER.swap(true, Ordering::Relaxed) {
        // SAFETY: the caller drives UART0 (this function's contract), so
        // its interrupt is the caller's; UART0_IRQ is a valid SPI of this
        // GIC.
        let _ = unsafe { irq::register(UART0_IRQ, on_interrupt) };
    }
    Serial(())
}

/// Whether the platform's handler is registered.
static HANDLER: AtomicBool = AtomicBool::new(false);

/// Hands UART0 to the interrupt-driven driver (first call only) with its
/// receive and transmit interrupts on at the UART; who takes the GIC line
/// is the caller's business.
fn start() {
    UART.with(|slot| {
        if slot.is_none() {
            // Built where it is kept: the driver and its rings are 2 KiB,
            // which a debug build would otherwise copy through the stack of
            // the thread that starts it (the Terminal component's, 4 KiB).
            slot.insert(BufferedPl011::new(uart0())).enable_interrupts();
        }
    });
}

/// The platform's handler (apps that use [`serial`] directly).
fn on_interrupt() {
    with_uart(BufferedUart::on_interrupt);
}

/// The serial port, for the Terminal driver component: only for the holder
/// of UART0's register window (what an IO_MEM session for "console-uart"
/// returns), `None` for any other window. The platform registers no
/// handler: the component's IRQ session for "console-uart" brings UART0's
/// interrupt, and the component calls [`Serial::service_interrupt`].
///
/// # Safety
///
/// Device authority: the caller is the device's one driver, as the
/// image's composition made it: the board's driver component for it
/// (holding the IO_MEM and IRQ sessions its routes grant), the board's
/// own services, or an app without components that drives the device
/// itself. A component reaches devices only through its sessions, so
/// its safe code cannot call this.
pub unsafe fn terminal_port(window: &ferrode_hal::DeviceWindow) -> Option<Serial> {
    (window.base == UART0_BASE).then(|| {
        start();
        Serial(())
    })
}

/// One step of console output that never waits, while the serial port
/// runs: what its transmit ring holds goes into the FIFO first, then as
/// many of `bytes` as the FIFO has room for
/// ([`BufferedPl011::write_after_queued`]). `None` if the serial port is
/// not running or is in use further up the stack (a report from inside
/// its handler): the caller writes to the UART directly.
pub(crate) fn try_write_console(bytes: &[u8]) -> Option<usize> {
    UART.try_with(|slot| slot.get_mut().map(|uart| uart.write_after_queued(bytes))).flatten()
}

/// Runs `f` on the driver; `None` if `serial()` was never called.
fn with_uart<R>(f: impl FnOnce(&mut BufferedUart) -> R) -> Option<R> {
    UART.with(|slot| slot.get_mut().map(f))
}

/// Waits for an interrupt (the UART's, as it drains the transmit FIFO) if
/// none was handled since `seen`. Woken without one being handled, the
/// caller runs with interrupts masked, so the handler cannot drain the
/// ring: do its work here, polling, instead of waiting forever.
fn wait_for_transmit_progress(seen: u32) {
    irq::wait_for_event(seen);
    if irq::event_count() == seen {
        with_uart(|uart| uart.drain_transmit_ring());
    }
}

impl Serial {
    /// What UART0's interrupt asks for, from a thread: received bytes into
    /// the receive ring, the transmit ring into the FIFO, the UART's
    /// interrupt cleared. Returns whether received bytes (or a line error)
    /// wait. The Terminal driver component calls this when its IRQ session
    /// signals, before it acknowledges the session.
    pub fn service_interrupt(&self) -> bool {
        with_uart(|uart| {
            uart.on_interrupt();
            uart.has_received()
        })
        .unwrap_or(false)
    }

    /// Bytes the UART lost to receive overruns.
    pub fn lost_bytes(&self) -> u32 {
        with_uart(|uart| uart.lost_bytes()).unwrap_or(0)
    }

    /// Takes received bytes without waiting: `Ok(0)` if none are there; a
    /// line error comes alone, after the bytes before it.
    pub fn try_read(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        with_uart(|uart| uart.read_buffered(buffer)).unwrap_or(Ok(0))
    }

    /// Received bytes waiting in the receive ring.
    pub fn received_len(&self) -> usize {
        with_uart(|uart| uart.received_len()).unwrap_or(0)
    }

    /// Queues what fits into the transmit ring and FIFO now, without
    /// waiting; returns how many bytes it took.
    pub fn try_write(&mut self, bytes: &[u8]) -> usize {
        with_uart(|uart| uart.queue(bytes)).unwrap_or(0)
    }

    /// Queues all of `bytes`, in order, sleeping while the transmit ring
    /// is full (queueing cannot fail).
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        let _ = embedded_io::Write::write_all(self, bytes);
    }
}

impl embedded_io::ErrorType for Serial {
    type Error = Error;
}

impl embedded_io::Read for Serial {
    /// Sleeps until at least one byte (or a line error) has arrived.
    fn read(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        if buffer.is_empty() {
            return Ok(0);
        }
        loop {
            let seen = irq::event_count();
            // Without `serial()` nothing was received.
            let count = with_uart(|uart| uart.read_buffered(buffer)).unwrap_or(Ok(0))?;
            if count > 0 {
                return Ok(count);
            }
            irq::wait_for_event(seen);
        }
    }
}

impl embedded_io::ReadReady for Serial {
    fn read_ready(&mut self) -> Result<bool, Error> {
        Ok(with_uart(|uart| uart.has_received()).unwrap_or(false))
    }
}

impl embedded_io::Write for Serial {
    /// Queues what fits into the transmit FIFO and ring; sleeps while both
    /// are full and the interrupt drains them.
    fn write(&mut self, buffer: &[u8]) -> Result<usize, Error> {
        if buffer.is_empty() {
            return Ok(0);
        }
        loop {
            let seen = irq::event_count();
            let Some(count) = with_uart(|uart| uart.queue(buffer)) else {
                // Not started: write like the console.
                crate::console::write(buffer);
                return Ok(buffer.len());
            };
            if count > 0 {
                return Ok(count);
            }
            wait_for_transmit_progress(seen);
        }
    }

    /// Sleeps until the transmit ring is empty, then waits for the FIFO
    /// and the shift register.
    fn flush(&mut self) -> Result<(), Error> {
        loop {
            let seen = irq::event_count();
            if with_uart(|uart| uart.transmit_pending()).unwrap_or(0) == 0 {
                break;
            }
            wait_for_transmit_progress(seen);
        }
        uart0().wait_idle();
        Ok(())
    }
}

impl embedded_io::WriteReady for Serial {
    fn write_ready(&mut self) -> Result<bool, Error> {
        Ok(with_uart(|uart| uart.can_queue()).unwrap_or_else(|| uart0().can_write()))
    }
}
