//! The baseboard's MultiMedia Card Interface (PrimeCell PL181) and the SD
//! card in its slot (`ferrode-pl181`), polled; the slot's card-detect and
//! write-protect switches read from SYS_MCI.

use core::ptr::NonNull;

use ferrode_pl181::{Config, Mmio, Pl181, Regs, Switches};
use volatile::VolatilePtr;

use super::{Clock, clock};
use crate::memory_map::{
    MMCI_BASE, MMCI_CLOCK_HZ, SYS_MCI, SYS_MCI_CARD_IN, SYS_MCI_WRITE_PROTECT,
};

/// Why the card failed: the driver's error.
pub type SdError = ferrode_pl181::Error;

/// The SD card in the slot, identified and ready for 512-byte block reads
/// and writes; its waits are timed on the board's clock.
pub struct SdCard {
    mmci: Pl181<Mmio<'static>, Clock, SlotSwitches>,
    blocks: u32,
}

/// The slot's switches, as the baseboard reports them in SYS_MCI.
struct SlotSwitches;

impl SlotSwitches {
    fn read() -> u32 {
        // SAFETY: SYS_MCI is a read-only status register of the baseboard's
        // system registers (DUI 0440 4.3), in the Device memory the MMU maps;
        // reading it has no side effects, so any number of readers is sound.
        unsafe { core::ptr::read_volatile(SYS_MCI as *const u32) }
    }
}

impl Switches for SlotSwitches {
    fn card_present(&mut self) -> bool {
        Self::read() & SYS_MCI_CARD_IN != 0
    }

    fn write_protected(&mut self) -> bool {
        Self::read() & SYS_MCI_WRITE_PROTECT != 0
    }
}

impl SdCard {
    /// Blocks of 512 bytes on the card (the one identified last).
    pub fn block_count(&self) -> u32 {
        self.blocks
    }

    /// Whether the card is identified: until the driver forgets it, which
    /// it does when the slot reports it taken out (a request is then
    /// `NoCard`) or it no longer answers at its address (`CardChanged`).
    pub fn identified(&self) -> bool {
        self.mmci.card().is_some()
    }

    /// Asks the card identified whether it is still there (its status,
    /// CMD13): one taken out, or exchanged unseen, is forgotten.
    pub fn check(&mut self) -> Result<(), SdError> {
        self.mmci.status().map(drop)
    }

    /// Identifies the card in the slot now (power, identification,
    /// selection, as [`sd_card`]): the card put in after one was taken
    /// out, which may be another.
    pub fn identify(&mut self) -> Result<(), SdError> {
        self.blocks = self.mmci.init()?.blocks;
        Ok(())
    }

    /// Whether the card's write-protect tab is locked, as the slot reports
    /// it now: writes are then refused (`SdError::WriteProtected`).
    pub fn write_protected(&mut self) -> bool {
        self.mmci.write_protected()
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
/// returns), `None` for any other window; the driver's error if the slot
/// is empty (SYS_MCI says so, or no card answers) or the card is not one
/// it drives.
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
    let mut mmci = Pl181::new(Mmio::new(registers), clock(), Config { mclk_hz: MMCI_CLOCK_HZ })
        .with_switches(SlotSwitches);
    Some(mmci.init().map(|card| SdCard { mmci, blocks: card.blocks }))
}
