//! `embedded_io` for the buffered PL011: blocking calls that poll the FIFOs
//! while they wait.
//!
//! Holding `&mut BufferedPl011` means the interrupt handler cannot run
//! `on_interrupt` on it meanwhile, so a call that has to wait does the
//! handler's work itself (drain the receive FIFO, refill the transmit FIFO)
//! instead of waiting for an interrupt that could never be served: these
//! calls cannot deadlock, even with interrupts masked. An owner that can
//! sleep (release its lock and wait for an interrupt) uses the non-blocking
//! `read_buffered` and `queue` instead.

use crate::regs::Registers;
use crate::{BufferedPl011, Error};

impl<R: Registers, const RX: usize, const TX: usize> embedded_io::ErrorType
    for BufferedPl011<R, RX, TX>
{
    type Error = Error;
}

impl<R: Registers, const RX: usize, const TX: usize> embedded_io::Read
    for BufferedPl011<R, RX, TX>
{
    /// Returns what the ring holds (up to `buffer.len()`), or the next line
    /// error; waits, polling the receive FIFO, while there is nothing.
    fn read(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        if buffer.is_empty() {
            return Ok(0);
        }
        loop {
            let count = self.read_buffered(buffer)?;
            if count > 0 {
                return Ok(count);
            }
            core::hint::spin_loop();
        }
    }
}

impl<R: Registers, const RX: usize, const TX: usize> embedded_io::ReadReady
    for BufferedPl011<R, RX, TX>
{
    fn read_ready(&mut self) -> Result<bool, Error> {
        Ok(self.has_received())
    }
}

impl<R: Registers, const RX: usize, const TX: usize> embedded_io::Write
    for BufferedPl011<R, RX, TX>
{
    /// Queues as much of `buffer` as the FIFO and the ring take; blocks
    /// only while both are full, refilling the FIFO from the ring itself.
    fn write(&mut self, buffer: &[u8]) -> Result<usize, Error> {
        if buffer.is_empty() {
            return Ok(0);
        }
        loop {
            let count = self.queue(buffer);
            if count > 0 {
                return Ok(count);
            }
            core::hint::spin_loop();
        }
    }

    /// Waits until the ring and the FIFO are empty and the line is idle.
    fn flush(&mut self) -> Result<(), Error> {
        self.flush_polled();
        Ok(())
    }
}

impl<R: Registers, const RX: usize, const TX: usize> embedded_io::WriteReady
    for BufferedPl011<R, RX, TX>
{
    fn write_ready(&mut self) -> Result<bool, Error> {
        Ok(self.can_queue())
    }
}
