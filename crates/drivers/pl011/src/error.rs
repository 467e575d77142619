//! PL011 errors and their `embedded_io` kinds.

use core::fmt;

/// What can go wrong with a PL011.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The baud rate cannot be reached from the UART clock (divisor out of
    /// range).
    InvalidBaudRate,
    /// A character arrived while the receive FIFO was full; data was lost.
    Overrun,
    /// A break condition (line held low for a whole frame) was received.
    Break,
    /// A character arrived with the wrong parity.
    Parity,
    /// A character arrived without a valid stop bit.
    Framing,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidBaudRate => "baud rate not reachable from the UART clock",
            Self::Overrun => "receive FIFO overrun, data lost",
            Self::Break => "break condition received",
            Self::Parity => "parity error in received character",
            Self::Framing => "framing error in received character",
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
