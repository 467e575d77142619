//! The console UART as an interrupt-driven `embedded_io` serial port.
//!
//! The receive interrupt (FIFO level or timeout) drains UART0's FIFO into a
//! ring buffer; `read` takes from the ring and sleeps while it is empty.
//! Writes are polled through the transmit FIFO, like the console.
//!
//! Flow control: when the ring is full the handler leaves the rest in the
//! UART's FIFO and masks the receive interrupt (a level interrupt would
//! otherwise fire forever); `read` refills the ring from the FIFO and
//! unmasks it. A sender with flow control (QEMU's character backend) then
//! waits instead of losing bytes; without, the UART reports an overrun.

use ferrode_pl011::{Error, Interrupts};
use heapless::Deque;

use crate::console::{Uart, uart0};
use crate::irq;
use crate::memory_map::UART0_IRQ;
use crate::shared::Shared;

/// Bytes buffered between the interrupt and the reader.
const RECEIVE_RING_LEN: usize = 1024;

struct Receiver {
    uart: Option<Uart>,
    ring: Deque<u8, RECEIVE_RING_LEN>,
    /// A line error met by the interrupt handler, reported by the next read.
    error: Option<Error>,
    /// Bytes lost (overruns reported by the UART).
    lost: u32,
}

impl Receiver {
    /// Moves bytes from the UART's FIFO into the ring while both allow,
    /// then masks reception if the ring is full, unmasks it otherwise.
    fn fill(&mut self) {
        let Some(uart) = self.uart.as_mut() else { return };
        while !self.ring.is_full() {
            match uart.try_read_byte() {
                Ok(Some(byte)) => {
                    // Not full: checked by the loop condition.
                    let _ = self.ring.push_back(byte);
                }
                Ok(None) => break,
                Err(error) => {
                    if error == Error::Overrun {
                        self.lost = self.lost.saturating_add(1);
                    }
                    self.error = Some(error);
                }
            }
        }
        let interrupts = if self.ring.is_full() { Interrupts::ERRORS } else { RECEIVE_INTERRUPTS };
        uart.set_interrupt_mask(interrupts);
    }
}

/// The interrupt sources reception uses.
const RECEIVE_INTERRUPTS: Interrupts = Interrupts::RECEIVE.union(Interrupts::RECEIVE_TIMEOUT).union(Interrupts::ERRORS);

static RECEIVER: Shared<Receiver> = Shared::new(Receiver { uart: None, ring: Deque::new(), error: None, lost: 0 });

/// UART0 as a serial port: `embedded_io::{Read, ReadReady, Write,
/// WriteReady}` with interrupt-driven reception.
#[derive(Clone, Copy, Debug, Default)]
pub struct Serial;

/// The serial port (UART0, shared with the console). The first call turns
/// on its receive interrupt.
pub fn serial() -> Serial {
    let started = RECEIVER.with(|receiver| {
        if receiver.uart.is_some() {
            return true;
        }
        let mut uart = uart0();
        uart.set_interrupt_mask(RECEIVE_INTERRUPTS);
        receiver.uart = Some(uart);
        false
    });
    if !started {
        // UART0_IRQ is a valid SPI of this GIC.
        let _ = irq::register(UART0_IRQ, on_interrupt);
    }
    Serial
}

fn on_interrupt() {
    RECEIVER.with(|receiver| {
        if let Some(uart) = receiver.uart.as_mut() {
            uart.take_interrupts();
        }
        receiver.fill();
    });
}

impl Serial {
    /// Bytes the UART lost to receive overruns.
    pub fn lost_bytes(&self) -> u32 {
        RECEIVER.with(|receiver| receiver.lost)
    }

    /// Takes what the ring holds, up to `buffer.len()`, or the pending error.
    fn take(buffer: &mut [u8]) -> Result<usize, Error> {
        RECEIVER.with(|receiver| {
            if let Some(error) = receiver.error.take() {
                return Err(error);
            }
            let mut count = 0;
            while count < buffer.len() {
                let Some(byte) = receiver.ring.pop_front() else { break };
                buffer[count] = byte;
                count += 1;
            }
            // Room again: take what waited in the UART's FIFO.
            receiver.fill();
            Ok(count)
        })
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
            let count = Self::take(buffer)?;
            if count > 0 {
                return Ok(count);
            }
            irq::wait_for_event(seen);
        }
    }
}

impl embedded_io::ReadReady for Serial {
    fn read_ready(&mut self) -> Result<bool, Error> {
        Ok(RECEIVER.with(|receiver| !receiver.ring.is_empty() || receiver.error.is_some()))
    }
}

impl embedded_io::Write for Serial {
    fn write(&mut self, buffer: &[u8]) -> Result<usize, Error> {
        crate::console_write(buffer);
        Ok(buffer.len())
    }

    fn flush(&mut self) -> Result<(), Error> {
        uart0().wait_idle();
        Ok(())
    }
}

impl embedded_io::WriteReady for Serial {
    fn write_ready(&mut self) -> Result<bool, Error> {
        Ok(uart0().can_write())
    }
}
