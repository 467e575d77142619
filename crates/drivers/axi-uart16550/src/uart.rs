//! The 16550 driver proper: bring-up, polled byte I/O, `embedded_io`.

use core::fmt;

use crate::regs::{DIVISOR_LATCH, FCR, FIFO_DEPTH, IER, IIR, LCR, LSR, MCR, RBR_THR, Registers};
use ferrode_hal::mmio::{LocalRegisterCopy, Readable, Writeable};

/// Line settings: 8 data bits, no parity, one stop bit, at `baud_rate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Bits per second.
    pub baud_rate: u32,
}

/// What can go wrong with the UART.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The baud rate cannot be reached from the clock (divisor 0 or above
    /// 65535).
    InvalidBaudRate,
    /// Characters were lost because the RX FIFO was full (the character
    /// read with this flag is itself good and comes next).
    Overrun,
    /// A character arrived with the wrong parity (dropped).
    Parity,
    /// A character arrived without a valid stop bit (dropped).
    Framing,
    /// A break was received.
    Break,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidBaudRate => "baud rate not reachable from the UART clock",
            Self::Overrun => "receive FIFO overrun, data lost",
            Self::Parity => "parity error in received character",
            Self::Framing => "framing error in received character",
            Self::Break => "break condition received",
        })
    }
}

impl core::error::Error for Error {}

impl embedded_io::Error for Error {
    fn kind(&self) -> embedded_io::ErrorKind {
        use embedded_io::ErrorKind;
        match self {
            Self::InvalidBaudRate => ErrorKind::InvalidInput,
            Self::Parity | Self::Framing => ErrorKind::InvalidData,
            Self::Break => ErrorKind::Interrupted,
            Self::Overrun => ErrorKind::Other,
        }
    }
}

/// The divisor latch value for `baud_rate` from `clock_hz`: clock / (16 x
/// baud), rounded to nearest (PG143 "Baud Rate"). `None` if it is 0, does
/// not fit 16 bits, or gives a rate more than 3% off (about what an 8N1
/// frame tolerates between two ends).
pub const fn divisor(clock_hz: u32, baud_rate: u32) -> Option<u16> {
    if baud_rate == 0 {
        return None;
    }
    let sixteen_baud = 16 * baud_rate as u64;
    let divisor = (clock_hz as u64 + sixteen_baud / 2) / sixteen_baud;
    if divisor == 0 || divisor > u16::MAX as u64 {
        return None;
    }
    let actual = clock_hz as u64 / (16 * divisor);
    let off = actual.abs_diff(baud_rate as u64);
    if off * 100 > 3 * baud_rate as u64 { None } else { Some(divisor as u16) }
}

/// What an asserted 16550 interrupt is about (IIR bits 3:1, highest
/// priority first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupt {
    /// An overrun, parity, framing error or break (cleared by reading LSR).
    LineStatus,
    /// A received character waits, or the FIFO reached its trigger level
    /// (cleared by reading RBR below it).
    ReceivedData,
    /// Characters wait in the FIFO below the trigger level and none came
    /// for four character times (cleared by reading RBR).
    CharacterTimeout,
    /// THR is empty (cleared by reading IIR or writing THR).
    TransmitterEmpty,
    /// A modem status line changed (cleared by reading MSR).
    ModemStatus,
}

/// An AXI UART 16550.
pub struct Uart16550<R> {
    registers: R,
    clock_hz: u32,
    /// An error met after a read had returned bytes, reported next.
    pending_error: Option<Error>,
    /// The good character read along with an overrun flag, returned after
    /// the overrun.
    pending_byte: Option<u8>,
    /// MCR as last written.
    modem_control: LocalRegisterCopy<u32, MCR::Register>,
    /// LSR error bits read but not yet reported: reading LSR clears them,
    /// so every look at LSR (ready to read? room to write?) keeps them
    /// here for [`Uart16550::try_read_byte`].
    line_errors: u32,
}

/// LSR's error bits, cleared by reading LSR: OE, PE, FE, BI.
const LINE_ERRORS: u32 =
    LSR::OE::SET.value | LSR::PE::SET.value | LSR::FE::SET.value | LSR::BI::SET.value;

/// MCR after [`Uart16550::configure`]: DTR, RTS and OUT2 asserted.
const MODEM_CONTROL: u32 = MCR::DTR::SET.value | MCR::RTS::SET.value | MCR::OUT2::SET.value;

impl<R: Registers> Uart16550<R> {
    /// Wraps the UART at `registers`, clocked at `clock_hz` (the AXI clock,
    /// s_axi_aclk). Touches nothing: call [`Uart16550::configure`].
    pub const fn new(registers: R, clock_hz: u32) -> Self {
        Self {
            registers,
            clock_hz,
            pending_error: None,
            pending_byte: None,
            modem_control: LocalRegisterCopy::new(MODEM_CONTROL),
            line_errors: 0,
        }
    }

    /// Programs the baud rate (through the divisor latch) and 8N1, turns on
    /// and empties the FIFOs, masks the UART's interrupts, asserts DTR and
    /// RTS.
    pub fn configure(&mut self, config: &Config) -> Result<(), Error> {
        let divisor = divisor(self.clock_hz, config.baud_rate).ok_or(Error::InvalidBaudRate)?;
        // Every interrupt masked.
        self.registers.ier().set(0);
        self.registers.lcr().write(LCR::DLAB::SET);
        self.registers.dll().write(DIVISOR_LATCH::BYTE.val(u32::from(divisor & 0xff)));
        self.registers.dlm().write(DIVISOR_LATCH::BYTE.val(u32::from(divisor >> 8)));
        // 8N1, DLAB cleared.
        self.registers.lcr().write(LCR::WLS::Eight);
        self.registers.fcr().write(
            FCR::FIFOEN::SET
                + FCR::RCVR_FIFO_RESET::SET
                + FCR::XMIT_FIFO_RESET::SET
                + FCR::RCVR_FIFO_TRIGGER_LEVEL::Eight,
        );
        self.registers.mcr().set(self.modem_control.get());
        self.pending_error = None;
        self.pending_byte = None;
        self.line_errors = 0;
        Ok(())
    }

    /// Turns the 16550's loopback on or off: transmitted characters come
    /// straight back as received ones, and nothing reaches the line.
    pub fn set_loopback(&mut self, on: bool) {
        self.modem_control.modify(if on { MCR::LOOP::SET } else { MCR::LOOP::CLEAR });
        self.registers.mcr().set(self.modem_control.get());
    }

    /// Unmasks (or masks) the received-data interrupt (IER bit 0, ERBFI):
    /// the UART's interrupt output is asserted while a received character
    /// waits (or the FIFO reached its trigger level), until it is read.
    /// The UART's other interrupts stay masked.
    pub fn enable_receive_interrupt(&mut self, on: bool) {
        self.registers.ier().write(IER::ERBFI.val(u32::from(on)));
    }

    /// Why the UART asserts its interrupt now (IIR), `None` if it does not.
    pub fn interrupt_id(&mut self) -> Option<Interrupt> {
        use IIR::INTID::Value as Id;
        let iir = self.registers.iir().extract();
        if iir.is_set(IIR::INTPEND) {
            return None;
        }
        Some(match iir.read_as_enum(IIR::INTID) {
            Some(Id::ReceiverLineStatus) => Interrupt::LineStatus,
            Some(Id::ReceivedDataAvailable) => Interrupt::ReceivedData,
            Some(Id::CharacterTimeout) => Interrupt::CharacterTimeout,
            Some(Id::TransmitterHoldingRegisterEmpty) => Interrupt::TransmitterEmpty,
            Some(Id::ModemStatus) | None => Interrupt::ModemStatus,
        })
    }

    /// Reads LSR, with the error bits earlier reads kept.
    fn line_status(&mut self) -> LocalRegisterCopy<u32, LSR::Register> {
        let status = self.registers.lsr().get() | self.line_errors;
        self.line_errors = status & LINE_ERRORS;
        LocalRegisterCopy::new(status)
    }

    /// Takes one received character, `Ok(None)` if none waits. Parity,
    /// framing and break spoil the character at the top of the FIFO, which
    /// is read and dropped; an overrun is reported before the good
    /// character that carries it.
    pub fn try_read_byte(&mut self) -> Result<Option<u8>, Error> {
        if let Some(error) = self.pending_error.take() {
            return Err(error);
        }
        if let Some(byte) = self.pending_byte.take() {
            return Ok(Some(byte));
        }
        let status = self.line_status();
        // Reported now, with the character they belong to.
        self.line_errors = 0;
        if !status.is_set(LSR::DR) {
            return if status.is_set(LSR::OE) { Err(Error::Overrun) } else { Ok(None) };
        }
        let byte = self.registers.rbr().read(RBR_THR::DATA) as u8;
        if status.is_set(LSR::BI) {
            return Err(Error::Break);
        }
        if status.is_set(LSR::FE) {
            return Err(Error::Framing);
        }
        if status.is_set(LSR::PE) {
            return Err(Error::Parity);
        }
        if status.is_set(LSR::OE) {
            self.pending_byte = Some(byte);
            return Err(Error::Overrun);
        }
        Ok(Some(byte))
    }

    /// Queues as many of `bytes` as the TX FIFO takes without waiting: up
    /// to 16 when it is empty (THRE), none otherwise (the 16550 reports
    /// only "empty", not its fill level). Returns how many.
    pub fn write_available(&mut self, bytes: &[u8]) -> usize {
        if !self.line_status().is_set(LSR::THRE) {
            return 0;
        }
        let count = bytes.len().min(FIFO_DEPTH);
        for &byte in &bytes[..count] {
            self.registers.thr().write(RBR_THR::DATA.val(u32::from(byte)));
        }
        count
    }

    /// Whether everything queued has left the shift register (TEMT).
    pub fn transmitter_empty(&mut self) -> bool {
        self.line_status().is_set(LSR::TEMT)
    }

    /// Gives back the register access.
    pub fn release(self) -> R {
        self.registers
    }
}

impl<R: Registers> embedded_io::ErrorType for Uart16550<R> {
    type Error = Error;
}

impl<R: Registers> embedded_io::Read for Uart16550<R> {
    /// Waits for the first character, then takes what else has arrived.
    fn read(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        if buffer.is_empty() {
            return Ok(0);
        }
        let first = loop {
            if let Some(byte) = self.try_read_byte()? {
                break byte;
            }
            core::hint::spin_loop();
        };
        buffer[0] = first;
        let mut count = 1;
        while count < buffer.len() {
            match self.try_read_byte() {
                Ok(Some(byte)) => buffer[count] = byte,
                Ok(None) => break,
                Err(error) => {
                    // The next read reports it, before what follows it.
                    self.pending_error = Some(error);
                    break;
                }
            }
            count += 1;
        }
        Ok(count)
    }
}

impl<R: Registers> embedded_io::ReadReady for Uart16550<R> {
    fn read_ready(&mut self) -> Result<bool, Error> {
        Ok(self.pending_error.is_some()
            || self.pending_byte.is_some()
            || self.line_status().is_set(LSR::DR))
    }
}

impl<R: Registers> embedded_io::Write for Uart16550<R> {
    /// Waits until the TX FIFO is empty, then queues up to 16 bytes.
    fn write(&mut self, buffer: &[u8]) -> Result<usize, Error> {
        if buffer.is_empty() {
            return Ok(0);
        }
        loop {
            let count = self.write_available(buffer);
            if count > 0 {
                return Ok(count);
            }
            core::hint::spin_loop();
        }
    }

    fn flush(&mut self) -> Result<(), Error> {
        while !self.transmitter_empty() {
            core::hint::spin_loop();
        }
        Ok(())
    }
}

impl<R: Registers> embedded_io::WriteReady for Uart16550<R> {
    fn write_ready(&mut self) -> Result<bool, Error> {
        Ok(self.line_status().is_set(LSR::THRE))
    }
}
