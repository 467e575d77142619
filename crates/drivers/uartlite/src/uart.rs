//! The UART: polled transmit, polled or interrupt-driven receive.

use heapless::Deque;

use crate::error::Error;
use crate::regs::{CTRL_REG, FIFO, Registers, STAT_REG};
use ferrode_hal::mmio::{LocalRegisterCopy, Readable, Writeable};

/// STAT_REG's error bits (Overrun, Frame and Parity Error), which reading
/// STAT_REG clears.
const STAT_ERRORS: u32 =
    Error::Overrun.status_bit() | Error::Framing.status_bit() | Error::Parity.status_bit();

/// An AXI UART Lite with a software receive ring of `RX_CAPACITY` bytes.
///
/// Line settings (baud rate, data bits, parity) are synthesis options of
/// the core, not registers, so there is nothing to configure at run time.
#[derive(Debug)]
pub struct UartLite<R, const RX_CAPACITY: usize = 64> {
    regs: R,
    received: Deque<u8, RX_CAPACITY>,
    /// STAT_REG error bits seen but not yet reported (reading STAT_REG
    /// clears them in hardware, so every read is remembered here).
    pending_errors: u32,
}

impl<R: Registers, const RX_CAPACITY: usize> UartLite<R, RX_CAPACITY> {
    /// Takes over the UART in polled mode: discards stale input and turns
    /// the interrupt off with one write, CTRL_REG = 0x2 (Reset Rx FIFO).
    /// The Tx FIFO is left alone so earlier boot output still drains.
    pub fn new(regs: R) -> Self {
        regs.ctrl_reg().write(CTRL_REG::RST_RX_FIFO::SET);
        Self { regs, received: Deque::new(), pending_errors: 0 }
    }

    /// Turns the interrupt on (CTRL_REG = 0x10). The core raises it when
    /// the Rx FIFO becomes non-empty or the Tx FIFO becomes empty (an edge:
    /// configure the INTC input as edge-triggered); the platform then calls
    /// [`UartLite::on_interrupt`].
    pub fn enable_interrupt(&mut self) {
        self.regs.ctrl_reg().write(CTRL_REG::ENABLE_INTR::SET);
    }

    /// Turns the interrupt off (CTRL_REG = 0).
    pub fn disable_interrupt(&mut self) {
        self.regs.ctrl_reg().write(CTRL_REG::ENABLE_INTR::CLEAR);
    }

    /// Interrupt entry: moves received characters from the 16-deep Rx FIFO
    /// into the ring and returns how many. Characters that do not fit stay
    /// in the FIFO (if it then overflows, [`Error::Overrun`] is reported).
    pub fn on_interrupt(&mut self) -> usize {
        self.drain_rx_fifo()
    }

    /// Pushes one character into the Tx FIFO (check for room first).
    fn push_tx(&mut self, byte: u8) {
        self.regs.tx_fifo().write(FIFO::DATA.val(u32::from(byte)));
    }

    /// Reads STAT_REG, keeping its error bits for [`Self::take_error`].
    fn status(&mut self) -> LocalRegisterCopy<u32, STAT_REG::Register> {
        let status = self.regs.stat_reg().extract();
        self.pending_errors |= status.get() & STAT_ERRORS;
        status
    }

    fn drain_rx_fifo(&mut self) -> usize {
        let mut moved = 0;
        while !self.received.is_full() && self.status().is_set(STAT_REG::RX_FIFO_VALID_DATA) {
            let byte = self.regs.rx_fifo().read(FIFO::DATA) as u8;
            // Cannot fail: checked not full above.
            let _ = self.received.push_back(byte);
            moved += 1;
        }
        moved
    }

    fn take_error(&mut self) -> Option<Error> {
        let error = Error::from_status(self.pending_errors)?;
        self.pending_errors &= !error.status_bit();
        Some(error)
    }

    /// Returns the next received byte, a pending error, or `Ok(None)` if
    /// nothing has arrived.
    pub fn try_read_byte(&mut self) -> Result<Option<u8>, Error> {
        self.drain_rx_fifo();
        if let Some(error) = self.take_error() {
            return Err(error);
        }
        Ok(self.received.pop_front())
    }

    /// Queues one byte, waiting while the Tx FIFO is full.
    pub fn write_byte(&mut self, byte: u8) {
        while self.status().is_set(STAT_REG::TX_FIFO_FULL) {
            core::hint::spin_loop();
        }
        self.push_tx(byte);
    }

    /// Queues as many of `bytes` as the Tx FIFO has room for, without
    /// waiting; returns how many. For callers that hold the UART with
    /// interrupts masked: they wait for the line between calls, with
    /// interrupts open (a 16-byte FIFO at 115200 baud drains in 1.4 ms, a
    /// console line of 100 bytes takes 8.7 ms).
    pub fn write_available(&mut self, bytes: &[u8]) -> usize {
        let mut count = 0;
        for &byte in bytes {
            if !self.tx_ready() {
                break;
            }
            self.push_tx(byte);
            count += 1;
        }
        count
    }

    /// Whether the Tx FIFO is empty (everything queued is on the line or
    /// in the shift register).
    pub fn tx_empty(&mut self) -> bool {
        self.status().is_set(STAT_REG::TX_FIFO_EMPTY)
    }

    /// Waits until the Tx FIFO is empty.
    pub fn flush_blocking(&mut self) {
        while !self.status().is_set(STAT_REG::TX_FIFO_EMPTY) {
            core::hint::spin_loop();
        }
    }

    /// Whether a byte or an error can be read without waiting.
    pub fn rx_ready(&mut self) -> bool {
        let status = self.status();
        !self.received.is_empty()
            || self.pending_errors != 0
            || status.is_set(STAT_REG::RX_FIFO_VALID_DATA)
    }

    /// Received bytes waiting in the ring (not counting what is still in
    /// the Rx FIFO).
    pub fn received_len(&self) -> usize {
        self.received.len()
    }

    /// Whether at least one byte can be written without waiting.
    pub fn tx_ready(&mut self) -> bool {
        !self.status().is_set(STAT_REG::TX_FIFO_FULL)
    }
}

impl<R: Registers, const N: usize> embedded_io::ErrorType for UartLite<R, N> {
    type Error = Error;
}

impl<R: Registers, const N: usize> embedded_io::Read for UartLite<R, N> {
    /// Blocks until at least one byte (or an error) is there, then returns
    /// what is available without waiting further.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        let first = loop {
            match self.try_read_byte()? {
                Some(byte) => break byte,
                None => core::hint::spin_loop(),
            }
        };
        buf[0] = first;
        let mut count = 1;
        while count < buf.len() {
            // An error after the first byte waits for the next call.
            if self.pending_errors != 0 {
                break;
            }
            match self.received.pop_front() {
                Some(byte) => buf[count] = byte,
                None => {
                    if self.drain_rx_fifo() == 0 {
                        break;
                    }
                    continue;
                }
            }
            count += 1;
        }
        Ok(count)
    }
}

impl<R: Registers, const N: usize> embedded_io::ReadReady for UartLite<R, N> {
    fn read_ready(&mut self) -> Result<bool, Error> {
        Ok(self.rx_ready())
    }
}

impl<R: Registers, const N: usize> embedded_io::Write for UartLite<R, N> {
    /// Waits for room for one byte, then queues as many as fit.
    fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
        let Some((&first, rest)) = buf.split_first() else {
            return Ok(0);
        };
        self.write_byte(first);
        let mut count = 1;
        for &byte in rest {
            if !self.tx_ready() {
                break;
            }
            self.push_tx(byte);
            count += 1;
        }
        Ok(count)
    }

    fn flush(&mut self) -> Result<(), Error> {
        self.flush_blocking();
        Ok(())
    }
}

impl<R: Registers, const N: usize> embedded_io::WriteReady for UartLite<R, N> {
    fn write_ready(&mut self) -> Result<bool, Error> {
        Ok(self.tx_ready())
    }
}

impl<R: Registers, const N: usize> core::fmt::Write for UartLite<R, N> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &byte in s.as_bytes() {
            self.write_byte(byte);
        }
        Ok(())
    }
}
