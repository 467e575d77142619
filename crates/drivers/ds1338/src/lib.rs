//! Maxim DS1338 serial real-time clock driver, board-agnostic and
//! host-tested.
//!
//! The DS1338 is an I2C real-time clock with 56 bytes of battery-backed
//! RAM at 7-bit address [`ADDRESS`]. It counts the time in calendar fields
//! held as BCD in registers 0x00-0x06 (seconds, minutes, hours, day of
//! week, date, month, two-digit year), has a control register at 0x07 for
//! its SQW/OUT pin and the oscillator stop flag, and keeps the RAM at
//! 0x08-0x3F. Every transfer goes through one register pointer: a write's
//! first byte sets it, further bytes and reads go on from it, and it wraps
//! from 0x3F to 0x00.
//!
//! # In Ferrode
//!
//! The RealView PBX-A9 has a DS1338 on its SBCon I2C bus at 0x68. This
//! driver knows no board: it takes any `embedded_hal::i2c::I2c` bus with
//! 7-bit addresses, and the platform hands it the controller the clock
//! hangs off. Times go in and out as [`CivilTime`] (UTC by Ferrode's
//! convention), which also does all the calendar arithmetic.
//!
//! # What the driver guarantees
//!
//! - The time is read with one transaction ([`Ds1338::datetime`]): the
//!   part copies its running time into a buffer at each START, so the
//!   seven fields always belong to the same second.
//! - The time is set with one burst write of all seven time registers
//!   ([`Ds1338::set_datetime`]): writing the seconds restarts the part's
//!   countdown chain, so no field can roll over half-way. It always writes
//!   24-hour mode, starts the oscillator and writes the day of the week
//!   as 1 for Sunday to 7 for Saturday.
//! - A time read back is checked field by field: valid BCD, in range, a
//!   date the month has; anything else is [`Error::InvalidTime`], never a
//!   made-up date.
//! - Arguments are checked before the bus is touched: a date outside
//!   2000-2099 or an NVRAM access past its 56 bytes is
//!   [`Error::OutOfRange`] with no transfer at all, so a RAM access never
//!   wraps into the clock registers.
//! - Bus errors come back unchanged as [`Error::I2c`].
//!
//! The driver allocates nothing, holds no state besides the bus and uses
//! no `unsafe` code.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

#[cfg(test)]
mod tests;

use core::fmt;

use embedded_hal::i2c::{I2c, Operation};
pub use ferrode_hal::CivilTime;
use ferrode_hal::civil::days_in_month;

/// The DS1338's fixed 7-bit I2C address.
pub const ADDRESS: u8 = 0x68;

/// Bytes of battery-backed RAM (registers 0x08-0x3F).
pub const RAM_SIZE: usize = 56;

/// Register addresses.
const SECONDS: u8 = 0x00;
const CONTROL: u8 = 0x07;
const RAM_START: u8 = 0x08;

/// Seconds register: clock halt, 1 stops the oscillator.
const CH: u8 = 0x80;
/// Hours register: 12-hour mode, and in that mode PM.
const HOUR_12: u8 = 0x40;
const PM: u8 = 0x20;
/// Control register: OUT level, oscillator stop flag, square-wave enable,
/// rate select (bits 6, 3 and 2 read 0).
const OUT: u8 = 0x80;
const OSF: u8 = 0x20;
const SQWE: u8 = 0x10;
const RS_1HZ: u8 = 0x00;
const RS_4096HZ: u8 = 0x01;
const RS_8192HZ: u8 = 0x02;
const RS_32768HZ: u8 = 0x03;

/// The first year the two-digit year register stands for.
const CENTURY: u32 = 2000;

/// What the DS1338's SQW/OUT pin drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SquareWave {
    /// No square wave; the pin is held low.
    Low,
    /// No square wave; the pin is released high (it is open drain and
    /// needs a pull-up).
    High,
    /// A 1 Hz square wave.
    Hz1,
    /// A 4.096 kHz square wave.
    Hz4096,
    /// An 8.192 kHz square wave.
    Hz8192,
    /// A 32.768 kHz square wave.
    Hz32768,
}

impl SquareWave {
    /// The OUT, SQWE and RS bits of the control register for this output.
    const fn control_bits(self) -> u8 {
        match self {
            Self::Low => 0,
            Self::High => OUT,
            Self::Hz1 => SQWE | RS_1HZ,
            Self::Hz4096 => SQWE | RS_4096HZ,
            Self::Hz8192 => SQWE | RS_8192HZ,
            Self::Hz32768 => SQWE | RS_32768HZ,
        }
    }
}

/// What can go wrong talking to a DS1338.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error<E> {
    /// The I2C bus reported an error (for example no device acknowledged
    /// the address).
    I2c(E),
    /// An argument the part cannot take, refused before any transfer: a
    /// date before 2000 or after 2099 or not a real date and time, or an
    /// NVRAM access reaching past byte [`RAM_SIZE`].
    OutOfRange,
    /// The time registers do not hold a valid date and time: a field that
    /// is not BCD or out of its range (seconds or minutes over 59, hour
    /// over 23 or a 12-hour value outside 1-12, day of week outside 1-7,
    /// date 0 or past the end of its month, month outside 1-12, year past
    /// 99), or a bit set that the part always reads as 0.
    InvalidTime,
}

impl<E> From<E> for Error<E> {
    fn from(error: E) -> Self {
        Self::I2c(error)
    }
}

impl<E: embedded_hal::i2c::Error> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::I2c(error) => write!(f, "DS1338 I2C transfer failed: {}", error.kind()),
            Self::OutOfRange => f.write_str(
                "DS1338 argument out of range (a date outside 2000-2099 or not a real date, \
                 or an NVRAM access past its 56 bytes)",
            ),
            Self::InvalidTime => {
                f.write_str("DS1338 time registers do not hold a valid date and time")
            }
        }
    }
}

impl<E: embedded_hal::i2c::Error> core::error::Error for Error<E> {}

/// A DS1338 on an I2C bus.
pub struct Ds1338<I> {
    i2c: I,
}

impl<I: I2c> Ds1338<I> {
    /// A driver for the DS1338 at [`ADDRESS`] on `i2c`. Nothing is
    /// transferred: the clock keeps running as it was.
    pub fn new(i2c: I) -> Self {
        Self { i2c }
    }

    /// Gives the bus back.
    pub fn release(self) -> I {
        self.i2c
    }

    /// The date and time on the clock, read with one transaction (set the
    /// pointer to 0x00, read seven bytes). Both 12-hour and 24-hour mode
    /// are understood; the clock-halt bit is ignored here (see
    /// [`Ds1338::is_running`]), so a halted clock reads the time it
    /// stopped at. Whether the time can be trusted at all is
    /// [`Ds1338::oscillator_stopped`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTime`] when a field is not valid BCD or out of its
    /// range (the variant lists them), [`Error::I2c`] on a bus error.
    pub fn datetime(&mut self) -> Result<CivilTime, Error<I::Error>> {
        let mut raw = [0; 7];
        self.i2c.write_read(ADDRESS, &[SECONDS], &mut raw)?;
        decode(&raw).ok_or(Error::InvalidTime)
    }

    /// The clock's time as seconds since 1970-01-01 00:00:00 UTC.
    ///
    /// # Errors
    ///
    /// As [`Ds1338::datetime`].
    pub fn unix_seconds(&mut self) -> Result<u64, Error<I::Error>> {
        self.datetime()?.to_unix_seconds().ok_or(Error::InvalidTime)
    }

    /// Sets the clock to `time` and starts it. The seven time registers go
    /// out in one write (pointer 0x00 and seven bytes) in 24-hour mode with
    /// the clock-halt bit clear and the day of the week 1 (Sunday) to 7
    /// (Saturday); a second transaction reads the control register and a
    /// third writes it back with the oscillator stop flag cleared and the
    /// square-wave settings kept, as the time is now valid.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfRange`], before any transfer, when `time` is not in
    /// the years 2000-2099 or not a real date and time (February 29 of a
    /// common year, hour 24, ...); [`Error::I2c`] on a bus error.
    pub fn set_datetime(&mut self, time: &CivilTime) -> Result<(), Error<I::Error>> {
        if !(CENTURY..CENTURY + 100).contains(&time.year) {
            return Err(Error::OutOfRange);
        }
        let weekday = time.weekday().ok_or(Error::OutOfRange)?;
        let registers = [
            SECONDS,
            to_bcd(time.second),
            to_bcd(time.minute),
            to_bcd(time.hour),
            weekday + 1,
            to_bcd(time.day),
            to_bcd(time.month),
            // In range: checked above.
            to_bcd((time.year - CENTURY) as u8),
        ];
        self.i2c.write(ADDRESS, &registers)?;
        let control = self.read_register(CONTROL)?;
        self.i2c.write(ADDRESS, &[CONTROL, control & !OSF])?;
        Ok(())
    }

    /// Whether the oscillator stop flag is set: the oscillator stopped at
    /// some point (at first power-up, on a flat battery, while halted)
    /// since the flag was last cleared, so the time may be wrong.
    /// [`Ds1338::set_datetime`] clears it. One transaction.
    ///
    /// # Errors
    ///
    /// [`Error::I2c`] on a bus error.
    pub fn oscillator_stopped(&mut self) -> Result<bool, Error<I::Error>> {
        Ok(self.read_register(CONTROL)? & OSF != 0)
    }

    /// Whether the clock runs, that is the clock-halt bit is clear. One
    /// transaction.
    ///
    /// # Errors
    ///
    /// [`Error::I2c`] on a bus error.
    pub fn is_running(&mut self) -> Result<bool, Error<I::Error>> {
        Ok(self.read_register(SECONDS)? & CH == 0)
    }

    /// Starts (`true`) or halts (`false`) the oscillator through the
    /// clock-halt bit, changing no other bit.
    ///
    /// One transaction reads the seven time registers; when the clock is
    /// already as asked that is all. Otherwise a second one writes the
    /// same seven bytes back with only the clock-halt bit changed. Writing
    /// them all rather than the seconds alone means a second that ticks
    /// between the two transactions cannot carry into the minutes and
    /// then be undone in the seconds only (a stop at 10:59:59 would
    /// otherwise leave 11:00:59). As writing the seconds restarts the
    /// countdown chain, starting or stopping loses less than a second plus
    /// the time between the two transactions.
    ///
    /// # Errors
    ///
    /// [`Error::I2c`] on a bus error.
    pub fn set_running(&mut self, running: bool) -> Result<(), Error<I::Error>> {
        let mut registers = [0; 8];
        self.i2c.write_read(ADDRESS, &[SECONDS], &mut registers[1..])?;
        if (registers[1] & CH == 0) == running {
            return Ok(());
        }
        registers[0] = SECONDS;
        registers[1] ^= CH;
        self.i2c.write(ADDRESS, &registers)?;
        Ok(())
    }

    /// Sets what the SQW/OUT pin drives, in one write of the control
    /// register. That write sets the oscillator stop flag bit to 1, which
    /// the part ignores (the flag can only be cleared), so the flag keeps
    /// its value and still tells whether the time can be trusted; only
    /// [`Ds1338::set_datetime`] clears it.
    ///
    /// # Errors
    ///
    /// [`Error::I2c`] on a bus error.
    pub fn set_square_wave(&mut self, output: SquareWave) -> Result<(), Error<I::Error>> {
        self.i2c.write(ADDRESS, &[CONTROL, OSF | output.control_bits()])?;
        Ok(())
    }

    /// Reads `buf.len()` bytes of NVRAM from `offset` (0 is register
    /// 0x08) with one transaction. An empty `buf` with `offset` up to
    /// [`RAM_SIZE`] does nothing.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfRange`], before any transfer, when `offset +
    /// buf.len()` exceeds [`RAM_SIZE`]; [`Error::I2c`] on a bus error.
    pub fn read_ram(&mut self, offset: usize, buf: &mut [u8]) -> Result<(), Error<I::Error>> {
        let Some(pointer) = ram_pointer(offset, buf.len()) else {
            return Err(Error::OutOfRange);
        };
        if !buf.is_empty() {
            self.i2c.write_read(ADDRESS, &[pointer], buf)?;
        }
        Ok(())
    }

    /// Writes `data` to NVRAM from `offset` (0 is register 0x08) in one
    /// transaction: the pointer byte and the data go out in one write, with
    /// no repeated START between them. An empty `data` with `offset` up
    /// to [`RAM_SIZE`] does nothing.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfRange`], before any transfer, when `offset +
    /// data.len()` exceeds [`RAM_SIZE`]; [`Error::I2c`] on a bus error.
    pub fn write_ram(&mut self, offset: usize, data: &[u8]) -> Result<(), Error<I::Error>> {
        let Some(pointer) = ram_pointer(offset, data.len()) else {
            return Err(Error::OutOfRange);
        };
        if !data.is_empty() {
            self.i2c.transaction(
                ADDRESS,
                &mut [Operation::Write(&[pointer]), Operation::Write(data)],
            )?;
        }
        Ok(())
    }

    /// One register, read with one transaction.
    fn read_register(&mut self, register: u8) -> Result<u8, Error<I::Error>> {
        let mut value = [0];
        self.i2c.write_read(ADDRESS, &[register], &mut value)?;
        Ok(value[0])
    }
}

/// The register address of NVRAM byte `offset` when `len` bytes from there
/// fit in the RAM.
fn ram_pointer(offset: usize, len: usize) -> Option<u8> {
    match offset.checked_add(len) {
        // offset <= RAM_SIZE, so the pointer is at most 0x40 (and only for
        // an empty access, which sends nothing).
        Some(end) if end <= RAM_SIZE => Some(RAM_START + offset as u8),
        _ => None,
    }
}

/// Two BCD digits to their value, if both are decimal digits and the value
/// is in `min..=max`.
fn from_bcd(byte: u8, min: u8, max: u8) -> Option<u8> {
    let (tens, units) = (byte >> 4, byte & 0x0f);
    if tens > 9 || units > 9 {
        return None;
    }
    let value = tens * 10 + units;
    (min..=max).contains(&value).then_some(value)
}

/// A value 0..=99 as two BCD digits.
const fn to_bcd(value: u8) -> u8 {
    ((value / 10) << 4) | (value % 10)
}

/// The hour 0..=23 of the hours register in either mode.
fn decode_hour(byte: u8) -> Option<u8> {
    if byte & HOUR_12 == 0 {
        // 24-hour mode: bits 5:4 are the tens; bit 7 reads 0, and a set
        // bit 7 fails the range check.
        return from_bcd(byte, 0, 23);
    }
    if byte & 0x80 != 0 {
        return None;
    }
    // 12-hour mode: 12 AM is midnight, 12 PM noon.
    let hour = from_bcd(byte & 0x1f, 1, 12)? % 12;
    Some(if byte & PM != 0 { hour + 12 } else { hour })
}

/// The time in registers 0x00-0x06, if every field is valid.
fn decode(raw: &[u8; 7]) -> Option<CivilTime> {
    let second = from_bcd(raw[0] & !CH, 0, 59)?;
    let minute = from_bcd(raw[1], 0, 59)?;
    let hour = decode_hour(raw[2])?;
    // The day of the week is not part of a CivilTime, but a value the
    // part never holds means the registers are not a time.
    from_bcd(raw[3], 1, 7)?;
    let month = from_bcd(raw[5], 1, 12)?;
    let year = CENTURY + u32::from(from_bcd(raw[6], 0, 99)?);
    let day = from_bcd(raw[4], 1, days_in_month(year, month))?;
    Some(CivilTime { year, month, day, hour, minute, second })
}
