//! Receive line errors reported by STAT_REG.

use core::fmt;

use crate::regs::STAT_REG;

/// A receive error; each is reported once, before the data that followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A character arrived while the Rx FIFO was full and was lost.
    Overrun,
    /// A character had a 0 stop bit and was discarded by the hardware.
    Framing,
    /// A character had the wrong parity.
    Parity,
}

impl Error {
    /// The most severe error among STAT_REG error bits, if any.
    pub const fn from_status(status: u32) -> Option<Self> {
        if status & Error::Overrun.status_bit() != 0 {
            Some(Error::Overrun)
        } else if status & Error::Framing.status_bit() != 0 {
            Some(Error::Framing)
        } else if status & Error::Parity.status_bit() != 0 {
            Some(Error::Parity)
        } else {
            None
        }
    }

    /// The STAT_REG bit that reports this error.
    pub const fn status_bit(self) -> u32 {
        match self {
            Error::Overrun => STAT_REG::OVERRUN_ERROR::SET.value,
            Error::Framing => STAT_REG::FRAME_ERROR::SET.value,
            Error::Parity => STAT_REG::PARITY_ERROR::SET.value,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Overrun => "UART receive overrun: characters lost",
            Error::Framing => "UART framing error",
            Error::Parity => "UART parity error",
        })
    }
}

impl core::error::Error for Error {}

impl embedded_io::Error for Error {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self {
            Error::Overrun => embedded_io::ErrorKind::Other,
            Error::Framing | Error::Parity => embedded_io::ErrorKind::InvalidData,
        }
    }
}
