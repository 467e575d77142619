//! The PL011 driver proper: bring-up, polled byte I/O, interrupts.

use heapless::Deque;

use ferrode_hal::mmio::{FieldValue, ReadWriteable, Readable, Writeable};

use crate::regs::{CR, DR, FBRD, FR, IBRD, IFLS, INT, LCR_H, Registers};
use crate::{Config, Error};

/// A set of PL011 interrupt sources (bit positions of UARTIMSC, UARTMIS and
/// UARTICR, TRM 3.3.10-3.3.13).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Interrupts(pub u32);

impl Interrupts {
    /// No source.
    pub const NONE: Self = Self(0);
    /// RXIM: receive FIFO reached its trigger level.
    pub const RECEIVE: Self = Self(1 << 4);
    /// TXIM: transmit FIFO drained to its trigger level.
    pub const TRANSMIT: Self = Self(1 << 5);
    /// RTIM: receive timeout (data waiting, line idle).
    pub const RECEIVE_TIMEOUT: Self = Self(1 << 6);
    /// FEIM, PEIM, BEIM, OEIM: framing, parity, break, overrun errors.
    pub const ERRORS: Self = Self(0xf << 7);
    /// Every source the PL011 has (bits 0-10).
    pub const ALL: Self = Self(0x7ff);

    /// True if any source of `other` is in `self`.
    pub const fn contains_any(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// The union of both sets.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

/// A PL011 UART.
pub struct Pl011<R> {
    registers: R,
    uart_clock_hz: u32,
    /// Results already taken from the receive FIFO but not yet returned:
    /// an error met after some bytes were returned, or the good character
    /// that came with an overrun flag (reported after the overrun).
    pending: Deque<Result<u8, Error>, 2>,
}

/// UARTFR reads [`Pl011::configure`] spends waiting for queued output to
/// leave before it flushes the rest: 16 characters at 9600 baud take
/// 17 ms, about 400,000 reads of a 24 MHz APB bus (each read is at least
/// one bus cycle), so this bound lets slow output finish and still ends.
pub const DRAIN_POLLS: u32 = 1 << 20;

impl<R: Registers> Pl011<R> {
    /// Wraps the UART whose registers are `registers`, clocked by UARTCLK at
    /// `uart_clock_hz`. Touches no register: call [`Pl011::configure`].
    pub const fn new(registers: R, uart_clock_hz: u32) -> Self {
        Self { registers, uart_clock_hz, pending: Deque::new() }
    }

    /// Programs baud rate and frame format, enables the FIFOs, transmitter
    /// and receiver, and masks all interrupts, in the TRM's order (3.3.8):
    /// disable, wait for the current character, flush the FIFOs, reprogram,
    /// enable.
    ///
    /// Output a boot loader left in the transmit FIFO goes out first while
    /// the UART still runs (at most [`DRAIN_POLLS`] UARTFR reads); a
    /// disabled UART never drains its FIFO and keeps BUSY set while the
    /// FIFO holds data, so the FIFO is flushed (UARTLCR_H.FEN = 0) rather
    /// than waited for.
    pub fn configure(&mut self, config: &Config) -> Result<(), Error> {
        let divisor = config.divisor(self.uart_clock_hz)?;
        self.wait_idle_bounded();
        self.registers.cr().set(0);
        self.registers.lcr_h().modify(LCR_H::FEN::CLEAR);
        // With the FIFOs flushed BUSY only covers the character in the
        // shift register.
        self.wait_idle_bounded();
        self.registers.ibrd().write(IBRD::BAUD_DIVINT.val(u32::from(divisor.integer)));
        self.registers.fbrd().write(FBRD::BAUD_DIVFRAC.val(u32::from(divisor.fractional)));
        // The divisor is latched by this write to UARTLCR_H.
        self.registers.lcr_h().write(config.line_control());
        self.registers.imsc().set(0);
        self.registers.icr().write(INT::SOURCES.val(Interrupts::ALL.0));
        self.registers.rsr_ecr().set(0);
        self.pending.clear();
        self.registers.cr().write(CR::UARTEN::SET + CR::TXE::SET + CR::RXE::SET);
        Ok(())
    }

    /// True if a received character is waiting.
    pub fn can_read(&mut self) -> bool {
        !self.registers.fr().is_set(FR::RXFE)
    }

    /// True if the transmit FIFO has room for a character.
    pub fn can_write(&mut self) -> bool {
        !self.registers.fr().is_set(FR::TXFF)
    }

    /// Pops one received character, `Ok(None)` if the FIFO is empty.
    /// A character spoilt by a break, parity or framing error is dropped
    /// and the error returned. An overrun flag (OE) marks characters lost
    /// *before* this one, which is itself valid (TRM 3.3.1): the overrun is
    /// returned first and the character by the next call.
    pub fn try_read_byte(&mut self) -> Result<Option<u8>, Error> {
        if let Some(result) = self.pending.pop_front() {
            return result.map(Some);
        }
        if !self.can_read() {
            return Ok(None);
        }
        let data = self.registers.dr().get();
        let character = match character_error(data) {
            Some(error) => Err(error),
            None => Ok(data as u8),
        };
        if DR::OE.is_set(data) {
            // Empty: drained by the check at the top.
            let _ = self.pending.push_back(character);
            return Err(Error::Overrun);
        }
        character.map(Some)
    }

    /// Queues one character, `false` if the transmit FIFO is full.
    pub fn try_write_byte(&mut self, byte: u8) -> bool {
        if !self.can_write() {
            return false;
        }
        self.registers.dr().write(DR::DATA.val(u32::from(byte)));
        true
    }

    /// Waits until every queued character has left the shift register.
    /// Returns at once if the transmitter is disabled: it would never
    /// drain, and BUSY stays set while its FIFO holds data.
    pub fn wait_idle(&mut self) {
        while self.transmitter_enabled() && self.registers.fr().is_set(FR::BUSY) {
            core::hint::spin_loop();
        }
    }

    /// [`Self::wait_idle`], giving up after [`DRAIN_POLLS`] reads.
    fn wait_idle_bounded(&mut self) {
        for _ in 0..DRAIN_POLLS {
            if !self.transmitter_enabled() || !self.registers.fr().is_set(FR::BUSY) {
                return;
            }
            core::hint::spin_loop();
        }
    }

    fn transmitter_enabled(&mut self) -> bool {
        self.registers.cr().matches_all(CR::UARTEN::SET + CR::TXE::SET)
    }

    /// Pops the receive FIFO: the raw UARTDR value (character and error
    /// bits), `None` if the FIFO is empty.
    pub(crate) fn pop_receive_fifo(&mut self) -> Option<u32> {
        self.can_read().then(|| self.registers.dr().get())
    }

    /// Writes UARTIFLS: the receive and transmit interrupt FIFO levels.
    pub(crate) fn write_fifo_levels(&mut self, levels: FieldValue<u32, IFLS::Register>) {
        self.registers.ifls().write(levels);
    }

    /// Unmasks exactly the sources in `interrupts` (UARTIMSC).
    pub fn set_interrupt_mask(&mut self, interrupts: Interrupts) {
        self.registers.imsc().write(INT::SOURCES.val(interrupts.0 & Interrupts::ALL.0));
    }

    /// Interrupt entry point: returns the pending unmasked sources (UARTMIS)
    /// and clears them (UARTICR). Receive and transmit level interrupts
    /// assert again while their FIFO condition holds, so drain the FIFO.
    pub fn take_interrupts(&mut self) -> Interrupts {
        let pending = self.registers.mis().read(INT::SOURCES);
        self.registers.icr().write(INT::SOURCES.val(pending));
        Interrupts(pending)
    }

    /// Reads into `buffer` without blocking: returns the number of bytes
    /// taken from the FIFO (possibly 0).
    pub(crate) fn read_available(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        let mut count = 0;
        while count < buffer.len() {
            match self.try_read_byte() {
                Ok(Some(byte)) => {
                    buffer[count] = byte;
                    count += 1;
                }
                Ok(None) => break,
                Err(error) if count == 0 => return Err(error),
                Err(error) => {
                    // Room: `try_read_byte` took at most one of two slots.
                    let _ = self.pending.push_front(Err(error));
                    break;
                }
            }
        }
        Ok(count)
    }

    /// Gives back the register access, e.g. to hand the UART to another owner.
    pub fn release(self) -> R {
        self.registers
    }
}

/// The error that spoils the character of a UARTDR value, most severe
/// first: a break ends the frame, parity and framing spoil one character.
/// (OE is not among them: it says characters were lost before this one.)
fn character_error(data: u32) -> Option<Error> {
    if DR::BE.is_set(data) {
        Some(Error::Break)
    } else if DR::PE.is_set(data) {
        Some(Error::Parity)
    } else if DR::FE.is_set(data) {
        Some(Error::Framing)
    } else {
        None
    }
}
