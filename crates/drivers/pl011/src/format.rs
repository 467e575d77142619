//! Frame format and baud rate divisor arithmetic (PL011 TRM 3.3.6).

use crate::Error;
use ferrode_hal::mmio::FieldValue;

use crate::regs::LCR_H;

/// Integer and fractional parts of the baud rate divisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaudRateDivisor {
    /// UARTIBRD value (1..=65535).
    pub integer: u16,
    /// UARTFBRD value (0..=63).
    pub fractional: u8,
}

/// Computes the divisor UARTCLK / (16 x baud) in 1/64ths, rounded to the
/// nearest 1/64 as the TRM prescribes, or `None` if it does not fit the
/// registers (integer part 0 or above 65535, or a zero rate).
pub const fn baud_rate_divisor(uart_clock_hz: u32, baud_rate: u32) -> Option<BaudRateDivisor> {
    if baud_rate == 0 {
        return None;
    }
    // 64 x clock / (16 x baud) = 4 x clock / baud; one extra bit for rounding.
    let sixty_fourths = ((8 * uart_clock_hz as u64) / baud_rate as u64).div_ceil(2);
    let integer = sixty_fourths >> 6;
    if integer == 0 || integer > 0xffff {
        return None;
    }
    Some(BaudRateDivisor { integer: integer as u16, fractional: (sixty_fourths & 0x3f) as u8 })
}

/// Bits per character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataBits {
    /// 5 bits.
    Five,
    /// 6 bits.
    Six,
    /// 7 bits.
    Seven,
    /// 8 bits.
    Eight,
}

/// Parity bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parity {
    /// No parity bit.
    None,
    /// Even parity.
    Even,
    /// Odd parity.
    Odd,
}

/// Stop bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopBits {
    /// One stop bit.
    One,
    /// Two stop bits.
    Two,
}

/// Line settings applied by [`crate::Pl011::configure`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Baud rate in bits per second.
    pub baud_rate: u32,
    /// Bits per character.
    pub data_bits: DataBits,
    /// Parity.
    pub parity: Parity,
    /// Stop bits.
    pub stop_bits: StopBits,
}

impl Default for Config {
    /// 115200 baud, 8 data bits, no parity, 1 stop bit.
    fn default() -> Self {
        Self {
            baud_rate: 115_200,
            data_bits: DataBits::Eight,
            parity: Parity::None,
            stop_bits: StopBits::One,
        }
    }
}

impl Config {
    /// The UARTLCR_H value for this format, with the FIFOs enabled.
    pub(crate) fn line_control(&self) -> FieldValue<u32, LCR_H::Register> {
        let word_length = match self.data_bits {
            DataBits::Five => LCR_H::WLEN::Five,
            DataBits::Six => LCR_H::WLEN::Six,
            DataBits::Seven => LCR_H::WLEN::Seven,
            DataBits::Eight => LCR_H::WLEN::Eight,
        };
        let parity = match self.parity {
            Parity::None => LCR_H::PEN::CLEAR,
            Parity::Even => LCR_H::PEN::SET + LCR_H::EPS::SET,
            Parity::Odd => LCR_H::PEN::SET,
        };
        let stop = match self.stop_bits {
            StopBits::One => LCR_H::STP2::CLEAR,
            StopBits::Two => LCR_H::STP2::SET,
        };
        word_length + parity + stop + LCR_H::FEN::SET
    }

    /// The divisor for this baud rate at `uart_clock_hz`.
    pub(crate) const fn divisor(&self, uart_clock_hz: u32) -> Result<BaudRateDivisor, Error> {
        match baud_rate_divisor(uart_clock_hz, self.baud_rate) {
            Some(divisor) => Ok(divisor),
            None => Err(Error::InvalidBaudRate),
        }
    }
}
