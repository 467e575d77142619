//! Arm PrimeCell PL181 MultiMedia Card Interface driver: an SD memory card
//! identified, selected and read and written in 512-byte blocks, polled,
//! as an `embedded_sdmmc_types::BlockDevice`.
//!
//! # The device
//!
//! The PL181 (TRM DDI 0172) drives an MMC/SD card's clock, command line and
//! one data line. It has a command path (argument and command registers
//! in, the card's response out, with CRC checks and a response timeout), a
//! data path (a byte count, a direction, a block size and a timeout in card
//! clocks) and between the data path and the CPU a FIFO of 16 words,
//! reachable at any word of 0x080..0x0C0 ([`Regs`], [`Registers`]). Status
//! flags tell when a command or a block has ended and how; static flags
//! stay until written to MCIClear. This driver knows no board: the
//! platform that has a PL181 (the RealView PBX-A9's is at 0x10005000, MCLK
//! 24 MHz) maps it and hands it over.
//!
//! # Use
//!
//! The platform maps the register block, wraps it in an [`Mmio`] and hands
//! it over with a delay (any `embedded_hal::delay::DelayNs`, such as a
//! timer driver) and MCLK's frequency:
//!
//! ```ignore
//! use core::ptr::NonNull;
//! use ferrode_pl181::{Config, Mmio, Pl181, Regs, SdCard};
//! use volatile::VolatilePtr;
//!
//! // SAFETY: the PL181's 4 KiB register block, mapped as Device memory,
//! // and this is its only driver.
//! let registers = unsafe { VolatilePtr::new(NonNull::new_unchecked(MMCI_BASE as *mut Regs)) };
//! let mut mmci = Pl181::new(Mmio::new(registers), delay, Config { mclk_hz: 24_000_000 });
//! let card = mmci.init()?; // kind, capacity in blocks, RCA
//! let mut blocks = [[0u8; 512]; 2];
//! mmci.read_blocks(0, &mut blocks)?;
//! // or for embedded-sdmmc's volume manager:
//! let sd = SdCard::new(mmci);
//! ```
//!
//! # What the driver does
//!
//! - **Polled**: no interrupts (MCIMask0/1 are cleared), no DMA; the CPU
//!   moves every word through the FIFO. Every wait on the hardware is
//!   bounded, in polls and in time spent through the delay, and ends in a
//!   typed [`Error`].
//! - **Bring-up** ([`Pl181::init`], Physical Layer 4.2): power off, power
//!   up, power on with the card clock at 400 kHz at most ([`ClockSetting`],
//!   from [`Config::mclk_hz`]), 1 ms for the supply and 74 clocks; CMD0;
//!   CMD8 with 0x1AA (an echo: a version 2.00 card; no answer: version
//!   1.x; another echo: [`Error::Unsupported`]); ACMD41 (HCS for version 2
//!   cards, window 2.7-3.6 V) every 10 ms until the OCR's power-up bit, at
//!   most [`POWER_UP_TIMEOUT_US`]; CCS picks [`CardKind::Sdhc`]; CMD2,
//!   CMD3 (the RCA), the clock to 25 MHz at most, CMD9 (the CSD: the
//!   capacity), CMD7 (select), CMD16 512 for standard capacity, and CMD13
//!   to see the card in the transfer state.
//! - **Blocks** ([`Pl181::read_blocks`], [`Pl181::write_blocks`]): CMD17 /
//!   CMD24 for one block, CMD18 / CMD25 and CMD12 for more, at most
//!   [`MAX_BLOCKS_PER_TRANSFER`] per command (MCIDataLength has 16 bits);
//!   standard-capacity cards take byte addresses, high-capacity ones block
//!   numbers. Reads program the data path before the command; writes send
//!   the command, check its R1, then start the data path. After a write,
//!   CMD13 until the card has left the programming state. Blocks past the
//!   card's end are refused before any bus traffic ([`Error::OutOfRange`]).
//! - **The slot's switches** ([`Switches`], [`Pl181::with_switches`]):
//!   where the platform reads the card-detect and write-protect switches,
//!   an empty slot is [`Error::NoCard`] at once (a card taken out is
//!   forgotten, and must be initialised again once back), and a write to
//!   a card whose tab is locked is [`Error::WriteProtected`]; neither
//!   reaches the bus.
//! - **A card exchanged unseen** (taken out and put back between two
//!   polls of the switch, or in a slot without switches): a request that
//!   fails asks the card's status (CMD13) at its address, which the card
//!   answers in every state of data transfer mode. Silence means the card
//!   there has been reset or is another: it is forgotten and the request
//!   is [`Error::CardChanged`]. Nothing of the request reached the new
//!   card: it ignores addressed commands until it is identified.
//!   [`Pl181::status`] asks the same outright (before a request that
//!   must not reach another card, say).
//! - **Responses**: R1's error bits are errors ([`Error::Card`]); R3 (the
//!   OCR) has no CRC, so a CRC failure the controller reports for it is
//!   ignored, as Linux's mmci driver does.
//!
//! # QEMU
//!
//! QEMU's model (`hw/sd/pl181.c`) differs from the silicon in ways the
//! driver keeps to: after a FIFO read it refills the FIFO only when
//! MCIStatus (or MCIFifoCnt) is read, so the driver reads MCIStatus before
//! every FIFO access and pops only while RxDataAvlbl says so; MCIClock
//! keeps only the divider and MCIRespCmd is never set, so neither is read
//! back; R3 ends with CmdRespEnd rather than CmdCrcFail; DataBlockEnd is
//! set only at the end of the whole transfer, so the driver waits for
//! DataEnd. Its SD card (`hw/sd/sd.c`) needs an image whose size is a
//! power of two, is standard capacity (CSD 1.0, byte addresses) up to
//! 2 GiB and high capacity (CSD 2.0, block addresses) above.
#![no_std]
#![deny(unsafe_code)]

#[cfg(test)]
extern crate std;

mod block_device;
mod clock;
mod driver;
mod regs;
mod sd;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use block_device::SdCard;
pub use clock::{ClockSetting, IDENTIFICATION_HZ, TRANSFER_HZ};
pub use driver::{
    BLOCK_LEN, COMMAND_TIMEOUT_US, DATA_TIMEOUT_US, MAX_BLOCKS_PER_TRANSFER, POWER_UP_TIMEOUT_US,
    PROGRAMMING_TIMEOUT_US, Pl181,
};
pub use regs::{Mmio, Register, Registers, Regs};

/// How the platform set the PL181 up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// MCLK, the clock the card clock is divided from, in Hz (the
    /// PBX-A9's: 24 MHz).
    pub mclk_hz: u32,
}

/// What kind of SD memory card it is: how it is addressed and which CSD it
/// has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardKind {
    /// Standard capacity (up to 2 GB): byte addresses, CSD version 1.0.
    Sdsc,
    /// High or extended capacity (SDHC, SDXC): block addresses, CSD
    /// version 2.0.
    Sdhc,
}

/// The slot's card-detect and write-protect switches, as the board wires
/// them: the PL181 has no inputs for them (the RealView PBX-A9 brings them
/// to its system registers, SYS_MCI, and to GPIO 2), so the platform reads
/// them for the driver ([`Pl181::with_switches`]). The defaults are what a
/// slot without switches can say: a card may be in it, and may be written.
///
/// The write-protect tab on an SD card is mechanical: the card ignores
/// it, and it is the host that must not write (SD Physical Layer
/// Simplified Specification, write protect management).
pub trait Switches {
    /// Whether a card is in the slot.
    fn card_present(&mut self) -> bool {
        true
    }

    /// Whether the card in the slot has its write-protect tab locked.
    fn write_protected(&mut self) -> bool {
        false
    }
}

/// A slot whose switches the driver cannot read (or that has none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoSwitches;

impl Switches for NoSwitches {}

/// The card [`Pl181::init`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CardInfo {
    /// Its kind, which decides its addressing.
    pub kind: CardKind,
    /// Its capacity in 512-byte blocks, from the CSD.
    pub blocks: u32,
    /// The relative card address it published (CMD3).
    pub rca: u16,
}

impl CardInfo {
    /// Its capacity in bytes.
    pub const fn bytes(&self) -> u64 {
        self.blocks as u64 * BLOCK_LEN as u64
    }
}

/// What went wrong with the controller, the card or a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The slot is empty: its card-detect switch says so, or no card
    /// answered the first command that needs an answer (CMD55).
    NoCard,
    /// No response to command `command` (CmdTimeOut, or no flag at all
    /// within [`COMMAND_TIMEOUT_US`]).
    CommandTimeout {
        /// The command's index.
        command: u8,
    },
    /// The response to command `command` failed its CRC check.
    CommandCrc {
        /// The command's index.
        command: u8,
    },
    /// No data from the card (DataTimeOut), or no progress of the data path
    /// within [`DATA_TIMEOUT_US`].
    DataTimeout,
    /// A data block failed its CRC check (on a write: the card reported it).
    DataCrc,
    /// The receive FIFO overflowed: data was lost.
    RxOverrun,
    /// The transmit FIFO ran empty in the middle of a block.
    TxUnderrun,
    /// Not an SD memory card this driver drives: a wrong CMD8 echo, no
    /// voltage in common, no APP_CMD, an RCA that stays 0, an unknown CSD.
    Unsupported,
    /// Blocks past the card's end were asked for (nothing was sent).
    OutOfRange,
    /// A write to a card whose write-protect tab is locked (nothing was
    /// sent).
    WriteProtected,
    /// No card has been initialised ([`Pl181::init`]).
    NotInitialised,
    /// The card the driver initialised no longer answers at its address
    /// (CMD13 after a failed request met silence): it was taken out, or
    /// replaced by another card, or lost its power, between two polls of
    /// the card-detect switch or in a slot without one. It is forgotten:
    /// the card in the slot, if any, must be initialised again.
    CardChanged,
    /// The card status of an R1 response (or a card status the R6 stands
    /// for) had an error bit set; the whole status.
    Card(u32),
    /// The card stayed busy (ACMD41) for [`POWER_UP_TIMEOUT_US`].
    PowerUpTimeout,
    /// The card stayed in the programming state after a write for
    /// [`PROGRAMMING_TIMEOUT_US`].
    ProgrammingTimeout,
    /// MCLK cannot be divided down to the identification clock, 400 kHz
    /// (it is 0 or above 204.8 MHz).
    ClockUnreachable,
    /// The peripheral identification is not a PL180 or PL181's: the
    /// part number found.
    UnknownController(u16),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Error::NoCard => f.write_str("SD: no card"),
            Error::CommandTimeout { command } => write!(f, "SD: no response to CMD{command}"),
            Error::CommandCrc { command } => {
                write!(f, "SD: CRC error in the response to CMD{command}")
            }
            Error::DataTimeout => f.write_str("SD: data timeout"),
            Error::DataCrc => f.write_str("SD: data CRC error"),
            Error::RxOverrun => f.write_str("SD: receive FIFO overrun"),
            Error::TxUnderrun => f.write_str("SD: transmit FIFO underrun"),
            Error::Unsupported => f.write_str("SD: not a supported SD memory card"),
            Error::OutOfRange => f.write_str("SD: blocks past the end of the card"),
            Error::WriteProtected => f.write_str("SD: the card is write-protected"),
            Error::NotInitialised => f.write_str("SD: no card initialised"),
            Error::CardChanged => f.write_str("SD: the card was taken out or replaced"),
            Error::Card(status) => {
                write!(f, "SD: the card reported an error, status {status:#010x}")
            }
            Error::PowerUpTimeout => f.write_str("SD: the card did not finish powering up"),
            Error::ProgrammingTimeout => f.write_str("SD: the card did not finish programming"),
            Error::ClockUnreachable => f.write_str("SD: MCLK cannot be divided down to 400 kHz"),
            Error::UnknownController(part) => {
                write!(f, "SD: not a PL180/PL181 (part number {part:#05x})")
            }
        }
    }
}

impl core::error::Error for Error {}
