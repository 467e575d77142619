//! Errors of the AXI Ethernet driver.

use core::fmt;

/// Errors of the AXI Ethernet driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A bounded wait (a DMA reset, an MDIO transaction) expired.
    Timeout,
    /// Every transmit descriptor is still with the DMA.
    TransmitBusy,
    /// A frame to send is longer than [`ferrode_hal::MAX_FRAME_LEN`].
    FrameTooLong,
    /// A frame to send is shorter than an Ethernet header.
    FrameTooShort,
    /// An MDIO PHY or register address above 31.
    InvalidMdioAddress,
    /// An MDIO clock divider above 63 (the field has six bits).
    InvalidMdioClockDivider,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Timeout => "AXI Ethernet: timed out waiting for the hardware",
            Error::TransmitBusy => "AXI Ethernet: every transmit descriptor is busy",
            Error::FrameTooLong => "AXI Ethernet: frame longer than 1514 bytes",
            Error::FrameTooShort => "AXI Ethernet: frame shorter than an Ethernet header",
            Error::InvalidMdioAddress => "AXI Ethernet: MDIO address above 31",
            Error::InvalidMdioClockDivider => "AXI Ethernet: MDIO clock divider above 63",
        })
    }
}

impl core::error::Error for Error {}
