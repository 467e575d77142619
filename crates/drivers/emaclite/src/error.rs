//! Errors of the EthernetLite driver.

use core::fmt;

/// Errors of the EthernetLite driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A bounded wait (MAC programming, MDIO) expired.
    Timeout,
    /// Both transmit buffers are still sending.
    TransmitBusy,
    /// A frame to send is longer than [`ferrode_hal::MAX_FRAME_LEN`].
    FrameTooLong,
    /// A frame to send is shorter than an Ethernet header.
    FrameTooShort,
    /// An MDIO PHY or register address above 31.
    InvalidMdioAddress,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Timeout => "EthernetLite: timed out waiting for the hardware",
            Error::TransmitBusy => "EthernetLite: transmit buffers busy",
            Error::FrameTooLong => "EthernetLite: frame longer than 1514 bytes",
            Error::FrameTooShort => "EthernetLite: frame shorter than an Ethernet header",
            Error::InvalidMdioAddress => "EthernetLite: MDIO address above 31",
        })
    }
}

impl core::error::Error for Error {}
