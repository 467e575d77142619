//! The baseboard's MultiMedia Card Interface (PrimeCell PL181) and the SD
//! card in its slot (`ferrode-pl181`), polled.

use core::ptr::NonNull;

use ferrode_pl181::{Config, Mmio, Pl181, Regs};
use volatile::VolatilePtr;

use super::{Clock, clock};
use crate::memory_map::{MMCI_BASE, MMCI_CLOCK_HZ};

/// Why the card failed: the driver's error.
pub type SdError = ferrode_pl181::Error;

/// The SD card in the slot, identified and ready for 512-byte block reads
/// and writes; its waits are timed on the board's clock.
pub struct SdCard {
    mmci: Pl181<Mmio<'static>, Clock>,
    blocks: u32,
}

impl SdCard {
    /// Blocks of 512 bytes on the card.
    pub fn block_count(&self) -> u32 {
        self.blocks
    }

    /// Reads `blocks.len()` blocks from `start` on.
    ///
    /// Out of line: the driver's word loops are then compiled the same
    /// in every image (inlined into a driver component's data thread,
    /// their code came out some 3 instructions per word dearer).
    #[inline(never)]
    pub fn read(&mut self, start: u32, blocks: &mut [[u8; 512]]) -> Result<(), SdError> {
        self.mmci.read_blocks(start, blocks)
    }

    /// Writes `blocks` from `start` on (out of line, as [`SdCard::read`]).
    #[inline(never)]
    pub fn write(&mut self, start: u32, blocks: &[[u8; 512]]) -> Result<(), SdError> {
        self.mmci.write_blocks(start, blocks)
    }
}

/// The SD card behind the MCI, identified (power, identification at
/// 400 kHz at most, selection, then transfers at up to 25 MHz): only for
/// the holder of its register window (what an IO_MEM session for "sd"
/// returns), `None` for any other window; the driver's error if no card
/// answers or the card is not one it drives.
///
/// # Safety
///
/// Device authority: the caller is the MCI's one driver, as the image's
/// composition made it: the component whose IO_MEM route grants it the
/// "sd" window, or an app without components. A second driver would
/// interleave its commands with this one's.
pub unsafe fn sd_card(window: &ferrode_hal::DeviceWindow) -> Option<Result<SdCard, SdError>> {
    if window.base != MMCI_BASE {
        return None;
    }
    // SAFETY: MMCI_BASE is the PL181 on this board, a register block
    // nothing else maps (the MMU maps it as Device memory, never run), and
    // the caller is its one driver (this function's contract).
    let registers = unsafe { VolatilePtr::new(NonNull::new_unchecked(MMCI_BASE as *mut Regs)) };
    let mut mmci = Pl181::new(Mmio::new(registers), clock(), Config { mclk_hz: MMCI_CLOCK_HZ });
    Some(mmci.init().map(|card| SdCard { mmci, blocks: card.blocks }))
}
