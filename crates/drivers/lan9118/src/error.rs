//! LAN9118 errors.

use core::fmt;

/// What can go wrong with a LAN9118.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// BYTE_TEST did not read 0x87654321: no LAN9118 (or wrong bus width or
    /// endianness) at this address.
    NotDetected {
        /// The value BYTE_TEST returned.
        byte_test: u32,
    },
    /// The chip did not finish a reset, MAC CSR or MII access in time.
    Timeout,
    /// A frame to send was shorter than an Ethernet header or longer than
    /// [`ferrode_hal::MAX_FRAME_LEN`].
    InvalidFrameLength(usize),
    /// The TX data FIFO has no room for the frame now; retry later.
    TransmitFifoFull,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotDetected { byte_test } => {
                write!(f, "no LAN9118 found (BYTE_TEST read {byte_test:#010x})")
            }
            Self::Timeout => f.write_str("LAN9118 did not complete an operation in time"),
            Self::InvalidFrameLength(length) => {
                write!(f, "cannot send a {length}-byte Ethernet frame")
            }
            Self::TransmitFifoFull => f.write_str("LAN9118 transmit FIFO full"),
        }
    }
}

impl core::error::Error for Error {}
