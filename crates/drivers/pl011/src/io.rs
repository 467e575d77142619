//! `embedded_io` for the PL011: blocking reads and writes over the FIFOs.

use crate::regs::Registers;
use crate::{Error, Pl011};

impl<R: Registers> embedded_io::ErrorType for Pl011<R> {
    type Error = Error;
}

impl<R: Registers> embedded_io::Read for Pl011<R> {
    /// Blocks until at least one byte (or an error) arrives, then returns
    /// what the receive FIFO holds, up to `buffer.len()`.
    fn read(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        if buffer.is_empty() {
            return Ok(0);
        }
        loop {
            let count = self.read_available(buffer)?;
            if count > 0 {
                return Ok(count);
            }
            core::hint::spin_loop();
        }
    }
}

impl<R: Registers> embedded_io::ReadReady for Pl011<R> {
    fn read_ready(&mut self) -> Result<bool, Error> {
        Ok(self.can_read())
    }
}

impl<R: Registers> embedded_io::Write for Pl011<R> {
    /// Blocks until the transmit FIFO takes at least one byte, then queues
    /// as many as fit.
    fn write(&mut self, buffer: &[u8]) -> Result<usize, Error> {
        let Some((&first, rest)) = buffer.split_first() else {
            return Ok(0);
        };
        while !self.try_write_byte(first) {
            core::hint::spin_loop();
        }
        let mut count = 1;
        for &byte in rest {
            if !self.try_write_byte(byte) {
                break;
            }
            count += 1;
        }
        Ok(count)
    }

    /// Waits until the last character has been shifted out.
    fn flush(&mut self) -> Result<(), Error> {
        self.wait_idle();
        Ok(())
    }
}

impl<R: Registers> embedded_io::WriteReady for Pl011<R> {
    fn write_ready(&mut self) -> Result<bool, Error> {
        Ok(self.can_write())
    }
}
