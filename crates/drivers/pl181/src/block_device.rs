//! The driver as embedded-sdmmc's `BlockDevice`, whose methods take
//! `&self`: the driver sits in a `RefCell`.

use core::cell::{RefCell, RefMut};

use embedded_hal::delay::DelayNs;
use embedded_sdmmc_types::{Block, BlockCount, BlockDevice, BlockIdx};

use crate::driver::{BLOCK_LEN, Blocks, BlocksMut};
use crate::{CardInfo, Error, NoSwitches, Pl181, Registers, Switches};

impl BlocksMut for [Block] {
    fn count(&self) -> usize {
        self.len()
    }

    fn block_mut(&mut self, index: usize) -> &mut [u8; BLOCK_LEN] {
        &mut self[index].contents
    }
}

impl Blocks for [Block] {
    fn count(&self) -> usize {
        self.len()
    }

    fn block(&self, index: usize) -> &[u8; BLOCK_LEN] {
        &self[index].contents
    }
}

/// An SD card behind a [`Pl181`], as an `embedded_sdmmc_types::BlockDevice`
/// (what embedded-sdmmc's FAT volume manager reads through). Reads and
/// writes of several blocks go to the card as one multiple-block command
/// each (up to [`MAX_BLOCKS_PER_TRANSFER`](crate::MAX_BLOCKS_PER_TRANSFER)).
///
/// Not `Sync`: one owner uses it at a time.
#[derive(Debug)]
pub struct SdCard<R, D, S = NoSwitches>(RefCell<Pl181<R, D, S>>);

impl<R, D, S> SdCard<R, D, S> {
    /// The card behind `driver`, initialised or not (until it is, every
    /// request is [`Error::NotInitialised`]).
    pub fn new(driver: Pl181<R, D, S>) -> Self {
        Self(RefCell::new(driver))
    }

    /// The driver, for [`Pl181::init`] or anything else.
    ///
    /// # Panics
    /// If the driver is borrowed already (it is only while a request runs).
    pub fn driver(&self) -> RefMut<'_, Pl181<R, D, S>> {
        self.0.borrow_mut()
    }

    /// The card, if initialised.
    pub fn card(&self) -> Option<CardInfo> {
        self.0.borrow().card()
    }

    /// Gives the driver back.
    pub fn into_inner(self) -> Pl181<R, D, S> {
        self.0.into_inner()
    }
}

impl<R: Registers, D: DelayNs, S: Switches> SdCard<R, D, S> {
    /// Initialises the card ([`Pl181::init`]).
    ///
    /// # Errors
    /// As [`Pl181::init`].
    pub fn init(&self) -> Result<CardInfo, Error> {
        self.0.borrow_mut().init()
    }
}

impl<R: Registers, D: DelayNs, S: Switches> BlockDevice for SdCard<R, D, S> {
    type Error = Error;

    fn read(&self, blocks: &mut [Block], start_block_idx: BlockIdx) -> Result<(), Error> {
        self.0.borrow_mut().read_into(start_block_idx.0, blocks)
    }

    fn write(&self, blocks: &[Block], start_block_idx: BlockIdx) -> Result<(), Error> {
        self.0.borrow_mut().write_from(start_block_idx.0, blocks)
    }

    fn num_blocks(&self) -> Result<BlockCount, Error> {
        self.card().map(|card| BlockCount(card.blocks)).ok_or(Error::NotInitialised)
    }
}
