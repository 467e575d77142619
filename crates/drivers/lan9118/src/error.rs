//! LAN9118 errors.

use core::fmt;

/// A step of the chip's operation that has a time bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// HW_CFG.SRST did not clear after a soft reset.
    SoftReset,
    /// PMT_CTRL.READY did not come up after a reset.
    PowerReady,
    /// E2P_CMD.EPC_BUSY stayed set: the EEPROM (MAC address) load after
    /// reset did not finish.
    EepromLoad,
    /// MAC_CSR_CMD.CSR_BUSY stayed set: an indirect MAC register access
    /// did not complete.
    MacCsr,
    /// MII_ACC.MIIBZY stayed set: a PHY register access did not complete.
    PhyAccess,
    /// The PHY's Basic Control Reset bit did not self-clear.
    PhyReset,
    /// The transmitter did not stop (TX_CFG.TX_ON stayed set) for error
    /// recovery.
    TransmitterStop,
    /// The receiver did not stop (INT_STS.RXSTOP_INT) or RX_CFG.RX_DUMP did
    /// not clear during error recovery.
    ReceiverStop,
}

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
    /// The chip did not finish `Operation` within its time bound (see
    /// [`crate::timeouts`]).
    Timeout(Operation),
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
            Self::Timeout(operation) => {
                write!(f, "LAN9118 did not complete {operation:?} in time")
            }
            Self::InvalidFrameLength(length) => {
                write!(f, "cannot send a {length}-byte Ethernet frame")
            }
            Self::TransmitFifoFull => f.write_str("LAN9118 transmit FIFO full"),
        }
    }
}

impl core::error::Error for Error {}
