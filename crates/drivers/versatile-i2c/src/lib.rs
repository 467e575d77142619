//! Arm Versatile/RealView two-wire serial bus interface (SBCon) driver: an
//! I2C bus master, bit-banged, as an `embedded_hal::i2c::I2c` bus.
//!
//! # The device
//!
//! The SBCon is not an I2C controller, only two open-drain outputs and two
//! inputs: SCL and SDA, each either driven low by the SBCon or released to
//! float high through the bus pull-ups. Reading SB_CONTROL gives the level
//! on each wire, which is low if anyone (the SBCon or a device) drives it
//! low; writing SB_CONTROLS releases lines, writing SB_CONTROLC drives them
//! low ([`Regs`], [`Registers`]). Everything else, the clock, the bits and
//! the protocol, is the CPU's work, and this driver's. The driver knows no
//! board: the platform that has an SBCon (the RealView PBX-A9's carries
//! its Maxim DS1338 real-time clock) maps it and hands it over.
//!
//! # Use
//!
//! The platform maps the register block, wraps it in an [`Mmio`] and hands
//! it over with a delay (any `embedded_hal::delay::DelayNs`, such as a
//! timer driver) and the bus speed; the result is an `I2c` bus that device
//! drivers take:
//!
//! ```ignore
//! use embedded_hal::i2c::I2c;
//! use ferrode_versatile_i2c::{Speed, VersatileI2c};
//!
//! let mut i2c = VersatileI2c::new(mmio, delay, Speed::Standard);
//! i2c.recover()?; // in case a device was left mid-byte by a reset
//! let mut time = [0u8; 7];
//! i2c.write_read(0x68, &[0x00], &mut time)?; // DS1338 seconds..year
//! ```
//!
//! # What the driver does
//!
//! It follows the I2C-bus specification (NXP UM10204) for a single master
//! in Standard-mode (100 kHz) or Fast-mode (400 kHz), [`Speed`]:
//!
//! - Every wait is one of the specification's minimum times for that speed
//!   ([`Timing`], table 10), spent through the delay: SCL low for tLOW and
//!   high for tHIGH (lengthened so that a clock period is never shorter than
//!   1/fSCL), tBUF of bus-free time before a START, tSU;STA and tHD;STA
//!   around a (repeated) START, tSU;STO before a STOP.
//! - SDA changes only while SCL is low, except to make a START (SDA falling
//!   while SCL is high) or a STOP (SDA rising while SCL is high).
//! - After releasing SCL it waits until the line really is high, as a
//!   device may hold it low to slow the master down (clock stretching,
//!   3.1.9), for at most [`CLOCK_STRETCH_TIMEOUT_US`]
//!   ([`Error::BusTimeout`]).
//! - Each bit it sends as a 1 it reads back while SCL is high: a 0 means
//!   another master is driving the bus and has won it (arbitration,
//!   3.1.8); the driver then lets go of both lines
//!   ([`Error::ArbitrationLoss`]).
//! - Transactions follow the embedded-hal 1.0 contract: START, the address
//!   with its R/W bit, adjacent operations of one kind run on without a new
//!   START, a repeated START and the address again between operations of
//!   different kinds, every byte read acknowledged except the last of a run
//!   of reads (not acknowledged, so that the device lets go of SDA), STOP at
//!   the end, after an error too. A bus that is not idle when a
//!   transaction begins is [`Error::BusStuck`].
//! - [`VersatileI2c::recover`] is the bus clear of 3.1.16: up to nine clock
//!   pulses until a device that holds SDA low lets go, then a STOP.
//!
//! Addresses are 7-bit; 10-bit addressing, high-speed mode and general
//! calls are not offered.
#![no_std]
#![deny(unsafe_code)]

#[cfg(test)]
extern crate std;

mod regs;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use embedded_hal::i2c::NoAcknowledgeSource;
pub use regs::{Mmio, Register, Registers, Regs};

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::{ErrorKind, Operation, SevenBitAddress};
use ferrode_hal::mmio::{Readable, Writeable};

use crate::regs::LINES;

/// How long the driver waits, at most, for a device that holds SCL low
/// (clock stretching) before it gives up with [`Error::BusTimeout`]: 10 ms,
/// counted in the waits between polls of the line (the time spent reading
/// the register is not counted, so the real bound is a little longer).
/// UM10204 sets no limit; this one is far longer than a device that stretches
/// to get a byte ready needs (the DS1338 does not stretch at all), and short
/// enough that a bus held low for good is reported promptly.
pub const CLOCK_STRETCH_TIMEOUT_US: u32 = 10_000;

/// The wait between two polls of SCL while a device holds it low.
const STRETCH_POLL_US: u32 = 1;

/// Most clock pulses [`VersatileI2c::recover`] gives a device that holds
/// SDA low (UM10204 3.1.16): enough for the rest of any byte and its
/// acknowledge bit.
const RECOVERY_PULSES: u32 = 9;

/// Bus speed: which of UM10204's timing tables the driver keeps to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Speed {
    /// Standard-mode, SCL up to 100 kHz.
    #[default]
    Standard,
    /// Fast-mode, SCL up to 400 kHz.
    Fast,
}

impl Speed {
    /// The minimum times of this speed (UM10204 table 10).
    pub const fn timing(self) -> Timing {
        match self {
            Speed::Standard => Timing {
                t_period: 10_000,
                t_low: 4_700,
                t_high: 4_000,
                t_su_sta: 4_700,
                t_hd_sta: 4_000,
                t_su_sto: 4_000,
                t_buf: 4_700,
                t_su_dat: 250,
            },
            Speed::Fast => Timing {
                t_period: 2_500,
                t_low: 1_300,
                t_high: 600,
                t_su_sta: 600,
                t_hd_sta: 600,
                t_su_sto: 600,
                t_buf: 1_300,
                t_su_dat: 100,
            },
        }
    }
}

/// The minimum times of a [`Speed`], in nanoseconds, by their UM10204
/// (table 10) symbols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// 1/fSCL: the shortest SCL clock period.
    pub t_period: u32,
    /// tLOW: SCL low period.
    pub t_low: u32,
    /// tHIGH: SCL high period.
    pub t_high: u32,
    /// tSU;STA: SCL high before a repeated START.
    pub t_su_sta: u32,
    /// tHD;STA: hold time of a (repeated) START, before SCL falls.
    pub t_hd_sta: u32,
    /// tSU;STO: SCL high before a STOP.
    pub t_su_sto: u32,
    /// tBUF: bus free time between a STOP and the next START.
    pub t_buf: u32,
    /// tSU;DAT: SDA stable before SCL rises.
    pub t_su_dat: u32,
}

impl Timing {
    /// How long the driver keeps SCL high in a clock pulse: tHIGH, or
    /// longer where tLOW + tHIGH would make a period shorter than 1/fSCL
    /// (both speeds: their minimums add up to 8.7 us and 1.9 us).
    pub const fn clock_high(&self) -> u32 {
        let rest = self.t_period.saturating_sub(self.t_low);
        if rest > self.t_high { rest } else { self.t_high }
    }
}

/// What went wrong on the bus, or with a request before it reached the bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A byte was not acknowledged: the address (no device answers to it)
    /// or a written data byte (the device refuses more).
    NoAcknowledge(NoAcknowledgeSource),
    /// Another master drove SDA low while this one sent a 1: the bus is
    /// theirs; this driver has let go of both lines.
    ArbitrationLoss,
    /// SDA or SCL is held low when the bus should be idle: a device was
    /// left mid-transfer (try [`VersatileI2c::recover`]) or the bus is
    /// shorted.
    BusStuck,
    /// A device held SCL low for longer than
    /// [`CLOCK_STRETCH_TIMEOUT_US`].
    BusTimeout,
    /// The address does not fit in 7 bits.
    InvalidAddress(u8),
    /// A read of no bytes was asked for, which I2C cannot express (the
    /// master acknowledges or refuses a byte only after reading it).
    EmptyRead,
}

impl embedded_hal::i2c::Error for Error {
    fn kind(&self) -> ErrorKind {
        match *self {
            Error::NoAcknowledge(source) => ErrorKind::NoAcknowledge(source),
            Error::ArbitrationLoss => ErrorKind::ArbitrationLoss,
            Error::BusStuck | Error::BusTimeout => ErrorKind::Bus,
            Error::InvalidAddress(_) | Error::EmptyRead => ErrorKind::Other,
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Error::NoAcknowledge(NoAcknowledgeSource::Address) => {
                f.write_str("I2C: no device acknowledged the address")
            }
            Error::NoAcknowledge(NoAcknowledgeSource::Data) => {
                f.write_str("I2C: the device did not acknowledge a data byte")
            }
            Error::NoAcknowledge(NoAcknowledgeSource::Unknown) => {
                f.write_str("I2C: a byte was not acknowledged")
            }
            Error::ArbitrationLoss => f.write_str("I2C: lost arbitration to another master"),
            Error::BusStuck => f.write_str("I2C: the bus is stuck, SDA or SCL held low"),
            Error::BusTimeout => write!(
                f,
                "I2C: a device held SCL low for more than {} ms",
                CLOCK_STRETCH_TIMEOUT_US / 1_000
            ),
            Error::InvalidAddress(address) => {
                write!(f, "I2C: address {address:#04x} is not a 7-bit address")
            }
            Error::EmptyRead => f.write_str("I2C: a read of zero bytes is not possible"),
        }
    }
}

/// The kind of an operation of a transaction, for telling where a repeated
/// START goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Write,
    Read,
}

impl Direction {
    fn of(operation: &Operation<'_>) -> Self {
        match operation {
            Operation::Write(_) => Direction::Write,
            Operation::Read(_) => Direction::Read,
        }
    }

    /// The R/W bit after the address.
    fn bit(self) -> u8 {
        match self {
            Direction::Write => 0,
            Direction::Read => 1,
        }
    }
}

/// The SBCon as an I2C bus master over registers `R`, waiting through `D`.
#[derive(Debug)]
pub struct VersatileI2c<R, D> {
    registers: R,
    delay: D,
    timing: Timing,
}

impl<R: Registers, D: DelayNs> VersatileI2c<R, D> {
    /// Takes over the SBCon and releases both lines, SCL first (if both
    /// were driven low, that is a STOP), then waits the bus-free time.
    pub fn new(registers: R, delay: D, speed: Speed) -> Self {
        let mut bus = Self { registers, delay, timing: speed.timing() };
        bus.registers.control_set().write(LINES::SCL::SET);
        bus.delay.delay_ns(bus.timing.t_su_sto);
        bus.registers.control_set().write(LINES::SDA::SET);
        bus.delay.delay_ns(bus.timing.t_buf);
        bus
    }

    /// Clears a bus that a device holds (UM10204 3.1.16): a device reset or
    /// interrupted in the middle of sending a byte keeps driving SDA low
    /// and waits for clock pulses. Sends up to nine until SDA is released,
    /// then a STOP, which returns every device to idle.
    ///
    /// # Errors
    /// [`Error::BusStuck`] if SCL cannot be released for
    /// [`CLOCK_STRETCH_TIMEOUT_US`], SDA is still low after nine pulses,
    /// or either line is low after the STOP.
    pub fn recover(&mut self) -> Result<(), Error> {
        let stuck = |_| Error::BusStuck;
        self.release_sda();
        self.release_scl().map_err(stuck)?;
        self.delay.delay_ns(self.timing.clock_high());
        let mut pulses = 0;
        while !self.sda_is_high() {
            if pulses == RECOVERY_PULSES {
                self.release_lines();
                return Err(Error::BusStuck);
            }
            self.drive_scl_low();
            self.delay.delay_ns(self.timing.t_low);
            self.release_scl().map_err(stuck)?;
            self.delay.delay_ns(self.timing.clock_high());
            pulses += 1;
        }
        self.drive_scl_low();
        if self.stop().is_err() {
            self.release_lines();
            return Err(Error::BusStuck);
        }
        if self.sda_is_high() && self.registers.control().is_set(LINES::SCL) {
            Ok(())
        } else {
            self.release_lines();
            Err(Error::BusStuck)
        }
    }

    /// Gives back the register access and the delay.
    pub fn release(self) -> (R, D) {
        (self.registers, self.delay)
    }

    /// Releases SCL (it floats high) and waits until it is high: a device
    /// may hold it low for a while (clock stretching).
    fn release_scl(&mut self) -> Result<(), Error> {
        self.registers.control_set().write(LINES::SCL::SET);
        let mut waited_us = 0;
        while !self.registers.control().is_set(LINES::SCL) {
            if waited_us >= CLOCK_STRETCH_TIMEOUT_US {
                return Err(Error::BusTimeout);
            }
            self.delay.delay_us(STRETCH_POLL_US);
            waited_us += STRETCH_POLL_US;
        }
        Ok(())
    }

    fn drive_scl_low(&mut self) {
        self.registers.control_clear().write(LINES::SCL::SET);
    }

    fn release_sda(&mut self) {
        self.registers.control_set().write(LINES::SDA::SET);
    }

    fn drive_sda_low(&mut self) {
        self.registers.control_clear().write(LINES::SDA::SET);
    }

    fn sda_is_high(&self) -> bool {
        self.registers.control().is_set(LINES::SDA)
    }

    /// Lets go of both lines, whatever state the transfer was in: after a
    /// lost arbitration, or when a device holds SCL and no STOP can be
    /// made. SDA first: if SCL is low, SDA may change; if SCL is high (a
    /// lost arbitration), SDA is released already, so no STOP is made.
    fn release_lines(&mut self) {
        self.release_sda();
        self.registers.control_set().write(LINES::SCL::SET);
    }

    /// START from an idle bus: both lines high for the bus-free time, then
    /// SDA falls while SCL is high, and SCL falls after the hold time.
    fn start(&mut self) -> Result<(), Error> {
        self.release_lines();
        self.delay.delay_ns(self.timing.t_buf);
        let lines = self.registers.control().extract();
        if !lines.is_set(LINES::SCL) || !lines.is_set(LINES::SDA) {
            return Err(Error::BusStuck);
        }
        self.drive_sda_low();
        self.delay.delay_ns(self.timing.t_hd_sta);
        self.drive_scl_low();
        Ok(())
    }

    /// Repeated START, from the end of a byte (SCL low): SDA released while
    /// SCL is low, SCL high for the setup time, then as a START.
    fn repeated_start(&mut self) -> Result<(), Error> {
        self.release_sda();
        self.delay.delay_ns(self.timing.t_low);
        self.release_scl()?;
        self.delay.delay_ns(self.timing.t_su_sta);
        if !self.sda_is_high() {
            // Someone else holds SDA: another master on the bus.
            return Err(Error::ArbitrationLoss);
        }
        self.drive_sda_low();
        self.delay.delay_ns(self.timing.t_hd_sta);
        self.drive_scl_low();
        Ok(())
    }

    /// STOP, from the end of a byte (SCL low): SDA low while SCL is low, SCL
    /// high for the setup time, then SDA rises while SCL is high. Both
    /// lines end released.
    fn stop(&mut self) -> Result<(), Error> {
        self.drive_sda_low();
        self.delay.delay_ns(self.timing.t_low);
        self.release_scl()?;
        self.delay.delay_ns(self.timing.t_su_sto);
        self.release_sda();
        Ok(())
    }

    /// The first part of a clock pulse: SDA set to `bit` (released for 1,
    /// driven low for 0) while SCL is low, SCL low for tLOW (which covers
    /// tSU;DAT too, the shorter), then released and high for its high
    /// time. Returns the level of SDA at the end of that high time, with
    /// SCL still high: the caller decides whether to pull it low again.
    fn raise_clock(&mut self, bit: bool) -> Result<bool, Error> {
        if bit {
            self.release_sda();
        } else {
            self.drive_sda_low();
        }
        self.delay.delay_ns(self.timing.t_low);
        self.release_scl()?;
        self.delay.delay_ns(self.timing.clock_high());
        Ok(self.sda_is_high())
    }

    /// One whole clock pulse with SDA as `bit`; returns the level SDA had
    /// while SCL was high. SCL is low again when it returns.
    fn clock_bit(&mut self, bit: bool) -> Result<bool, Error> {
        let level = self.raise_clock(bit)?;
        self.drive_scl_low();
        Ok(level)
    }

    /// Sends `byte`, most significant bit first, and returns whether the
    /// receiver acknowledged it (held SDA low in the ninth clock).
    ///
    /// A 1 sent (SDA released) that reads as 0 while SCL is high is
    /// another master's 0: arbitration is lost, and the driver stops
    /// there, SCL released and SDA released, without another edge.
    fn write_byte(&mut self, byte: u8) -> Result<bool, Error> {
        for shift in (0..8).rev() {
            let bit = (byte >> shift) & 1 != 0;
            let level = self.raise_clock(bit)?;
            if bit && !level {
                return Err(Error::ArbitrationLoss);
            }
            self.drive_scl_low();
        }
        Ok(!self.clock_bit(true)?)
    }

    /// Receives a byte (SDA released for the device to drive) and then
    /// acknowledges it (`ack`) or not.
    fn read_byte(&mut self, ack: bool) -> Result<u8, Error> {
        let mut byte = 0;
        for _ in 0..8 {
            byte = (byte << 1) | u8::from(self.clock_bit(true)?);
        }
        self.clock_bit(!ack)?;
        Ok(byte)
    }

    /// The bus part of a transaction, from START to the last byte; the
    /// caller ends it (STOP, or letting go of the bus).
    fn transfer(
        &mut self,
        address: SevenBitAddress,
        operations: &mut [Operation<'_>],
    ) -> Result<(), Error> {
        let mut previous: Option<Direction> = None;
        for index in 0..operations.len() {
            let direction = Direction::of(&operations[index]);
            if previous != Some(direction) {
                if previous.is_none() {
                    self.start()?;
                } else {
                    self.repeated_start()?;
                }
                if !self.write_byte((address << 1) | direction.bit())? {
                    return Err(Error::NoAcknowledge(NoAcknowledgeSource::Address));
                }
                previous = Some(direction);
            }
            // A run of reads ends here unless the next operation reads on.
            let run_ends = !matches!(operations.get(index + 1), Some(Operation::Read(_)));
            match &mut operations[index] {
                Operation::Write(bytes) => {
                    for &byte in bytes.iter() {
                        if !self.write_byte(byte)? {
                            return Err(Error::NoAcknowledge(NoAcknowledgeSource::Data));
                        }
                    }
                }
                Operation::Read(buffer) => {
                    let last = buffer.len() - 1;
                    for (position, byte) in buffer.iter_mut().enumerate() {
                        *byte = self.read_byte(!(run_ends && position == last))?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl<R, D> embedded_hal::i2c::ErrorType for VersatileI2c<R, D> {
    type Error = Error;
}

impl<R: Registers, D: DelayNs> embedded_hal::i2c::I2c<SevenBitAddress> for VersatileI2c<R, D> {
    /// Runs `operations` as one transaction with the device at `address`
    /// (see the crate documentation). An empty list of operations does
    /// nothing. A request the bus cannot carry (an address over 0x7f, a
    /// read of no bytes) is refused before the bus is touched.
    fn transaction(
        &mut self,
        address: SevenBitAddress,
        operations: &mut [Operation<'_>],
    ) -> Result<(), Error> {
        if address > 0x7f {
            return Err(Error::InvalidAddress(address));
        }
        if operations
            .iter()
            .any(|operation| matches!(operation, Operation::Read(b) if b.is_empty()))
        {
            return Err(Error::EmptyRead);
        }
        if operations.is_empty() {
            return Ok(());
        }
        match self.transfer(address, operations) {
            Ok(()) => self.stop().inspect_err(|_| self.release_lines()),
            Err(error @ Error::NoAcknowledge(_)) => {
                // The device has let go of SDA; end the transaction. The
                // refusal is the news, whatever the STOP meets.
                if self.stop().is_err() {
                    self.release_lines();
                }
                Err(error)
            }
            Err(error) => {
                self.release_lines();
                Err(error)
            }
        }
    }
}
