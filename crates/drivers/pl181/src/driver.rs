//! The driver: the PL181's command and data paths, polled, and the SD
//! card's bring-up and block transfers over them.

use embedded_hal::delay::DelayNs;
use ferrode_hal::mmio::{FieldValue, LocalRegisterCopy, Readable, Writeable};

use crate::clock::{ClockSetting, IDENTIFICATION_HZ, TRANSFER_HZ};
use crate::regs::{CLOCK, COMMAND, DATA_CTRL, POWER, STATUS};
use crate::sd::{self, CardState, Command, csd_capacity};
use crate::{CardInfo, CardKind, Config, Error, NoSwitches, Registers, Switches};

/// Bytes in a block: the only block length the driver uses.
pub const BLOCK_LEN: usize = 512;

/// Most blocks one command moves: MCIDataLength counts 16 bits of bytes
/// (TRM 3.3.8), so 127 blocks of 512 (65,024 bytes). Longer requests are
/// split into several commands.
pub const MAX_BLOCKS_PER_TRANSFER: usize = 0xffff / BLOCK_LEN;

/// Longest wait for a command to end, in case the controller never raises
/// a flag (the PL181 itself gives up after 64 card clocks: 160 us at
/// 400 kHz).
pub const COMMAND_TIMEOUT_US: u32 = 10_000;

/// Longest wait for the data path to move a word or end, counted from its
/// last progress. The controller's own data timer is set to 250 ms of card
/// clocks (Physical Layer 4.6.2.2: a write's busy time is 250 ms at most,
/// a read's access time 100 ms), so this only ends a controller that has
/// stopped reporting anything.
pub const DATA_TIMEOUT_US: u32 = 500_000;

/// Longest time for the card to power up (ACMD41 until the OCR's busy bit
/// clears; Physical Layer 4.2.3: one second).
pub const POWER_UP_TIMEOUT_US: u32 = 1_000_000;

/// Longest time a card may stay in the programming state after a write
/// (twice the 250 ms of Physical Layer 4.6.2.2).
pub const PROGRAMMING_TIMEOUT_US: u32 = 500_000;

/// Log2 of [`BLOCK_LEN`], for MCIDataCtrl's block size.
const BLOCK_SIZE_LOG2: u32 = 9;

/// Time for the card's supply to ramp up or fall, and after power-on for
/// the 74 card clocks the card needs before its first command (185 us at
/// 400 kHz) (Physical Layer 6.4.1).
const POWER_SETTLE_US: u32 = 1_000;

/// Between two ACMD41s while the card is busy.
const POWER_UP_POLL_US: u32 = 10_000;

/// Between two CMD13s while the card is programming.
const PROGRAMMING_POLL_US: u32 = 100;

/// Polls of a status that found nothing before the driver starts waiting
/// between them (QEMU's FIFO refills on the next MCIStatus read).
const SPIN_POLLS: u32 = 8;

/// The wait between two polls after [`SPIN_POLLS`].
const POLL_NS: u32 = 1_000;

/// The command path's static flags.
fn command_flags() -> FieldValue<u32, STATUS::Register> {
    STATUS::CMD_CRC_FAIL::SET
        + STATUS::CMD_TIME_OUT::SET
        + STATUS::CMD_RESP_END::SET
        + STATUS::CMD_SENT::SET
}

/// The data path's static flags.
fn data_flags() -> FieldValue<u32, STATUS::Register> {
    STATUS::DATA_CRC_FAIL::SET
        + STATUS::DATA_TIME_OUT::SET
        + STATUS::TX_UNDERRUN::SET
        + STATUS::RX_OVERRUN::SET
        + STATUS::DATA_END::SET
        + STATUS::START_BIT_ERR::SET
        + STATUS::DATA_BLOCK_END::SET
}

/// Buffers of blocks the driver reads into: `[[u8; 512]]` and
/// embedded-sdmmc's `[Block]`.
pub(crate) trait BlocksMut {
    fn count(&self) -> usize;
    fn block_mut(&mut self, index: usize) -> &mut [u8; BLOCK_LEN];
}

/// Blocks the driver writes from.
pub(crate) trait Blocks {
    fn count(&self) -> usize;
    fn block(&self, index: usize) -> &[u8; BLOCK_LEN];
}

impl BlocksMut for [[u8; BLOCK_LEN]] {
    fn count(&self) -> usize {
        self.len()
    }

    fn block_mut(&mut self, index: usize) -> &mut [u8; BLOCK_LEN] {
        &mut self[index]
    }
}

impl Blocks for [[u8; BLOCK_LEN]] {
    fn count(&self) -> usize {
        self.len()
    }

    fn block(&self, index: usize) -> &[u8; BLOCK_LEN] {
        &self[index]
    }
}

/// A bounded wait on the hardware: polls first without waiting, then waits
/// [`POLL_NS`] between polls until `limit` is spent.
struct Patience {
    limit_ns: u64,
    waited_ns: u64,
    spins: u32,
}

impl Patience {
    const fn new(limit_us: u32) -> Self {
        Self { limit_ns: limit_us as u64 * 1_000, waited_ns: 0, spins: 0 }
    }

    /// The hardware moved: the wait starts again.
    fn progress(&mut self) {
        self.waited_ns = 0;
        self.spins = 0;
    }

    /// After a poll that found nothing: waits before the next, or says
    /// (false) that the limit is spent.
    fn wait(&mut self, delay: &mut impl DelayNs) -> bool {
        if self.spins < SPIN_POLLS {
            self.spins += 1;
            return true;
        }
        if self.waited_ns >= self.limit_ns {
            return false;
        }
        delay.delay_ns(POLL_NS);
        self.waited_ns += u64::from(POLL_NS);
        true
    }
}

/// The error a data-path status reports, if any.
fn data_error(status: LocalRegisterCopy<u32, STATUS::Register>) -> Option<Error> {
    if status.is_set(STATUS::DATA_TIME_OUT) {
        Some(Error::DataTimeout)
    } else if status.is_set(STATUS::DATA_CRC_FAIL) || status.is_set(STATUS::START_BIT_ERR) {
        Some(Error::DataCrc)
    } else if status.is_set(STATUS::RX_OVERRUN) {
        Some(Error::RxOverrun)
    } else if status.is_set(STATUS::TX_UNDERRUN) {
        Some(Error::TxUnderrun)
    } else {
        None
    }
}

/// A PL181 and the SD memory card behind it, over registers `R`, waiting
/// through `D`, the slot's switches read through `S` ([`Switches`]; none
/// unless [`Pl181::with_switches`] says otherwise).
#[derive(Debug)]
pub struct Pl181<R, D, S = NoSwitches> {
    registers: R,
    delay: D,
    switches: S,
    config: Config,
    card: Option<CardInfo>,
    /// The card clock in data transfer mode, for the data timer.
    transfer_hz: u32,
}

impl<R, D> Pl181<R, D> {
    /// Takes over the PL181; nothing is written until [`Pl181::init`].
    /// The slot has no switches the driver can read: a card may be in it,
    /// and may be written.
    pub fn new(registers: R, delay: D, config: Config) -> Self {
        Self { registers, delay, switches: NoSwitches, config, card: None, transfer_hz: 0 }
    }
}

impl<R, D, S> Pl181<R, D, S> {
    /// The driver with the slot's card-detect and write-protect switches
    /// read through `switches`: [`Pl181::init`] and every request find an
    /// empty slot [`Error::NoCard`], and a write to a card whose tab is
    /// locked [`Error::WriteProtected`], before any bus traffic.
    pub fn with_switches<T: Switches>(self, switches: T) -> Pl181<R, D, T> {
        let Self { registers, delay, config, card, transfer_hz, .. } = self;
        Pl181 { registers, delay, switches, config, card, transfer_hz }
    }

    /// The card [`Pl181::init`] found and left in the transfer state, if it
    /// has.
    pub fn card(&self) -> Option<CardInfo> {
        self.card
    }

    /// The configuration the driver was given.
    pub fn config(&self) -> Config {
        self.config
    }

    /// Gives back the register access and the delay.
    pub fn release(self) -> (R, D) {
        (self.registers, self.delay)
    }
}

impl<R, D, S: Switches> Pl181<R, D, S> {
    /// Whether the card-detect switch says a card is in the slot (always,
    /// for a slot without switches).
    pub fn card_present(&mut self) -> bool {
        self.switches.card_present()
    }

    /// Whether the card in the slot has its write-protect tab locked
    /// (never, for a slot without switches): writes are then refused.
    pub fn write_protected(&mut self) -> bool {
        self.switches.write_protected()
    }
}

impl<R: Registers, D: DelayNs, S: Switches> Pl181<R, D, S> {
    /// Powers the card up, identifies it, selects it and leaves it in the
    /// transfer state with 512-byte blocks (Physical Layer 4.2, 4.3;
    /// the steps are in the crate's documentation). Calling it again
    /// power-cycles the card and starts over.
    ///
    /// # Errors
    /// [`Error::ClockUnreachable`] for an MCLK that cannot give 400 kHz,
    /// [`Error::UnknownController`] if the block is not a PL180/PL181,
    /// [`Error::NoCard`] if the card-detect switch says the slot is empty
    /// (nothing is written then) or no card answers, [`Error::Unsupported`] for a
    /// card this driver does not drive, [`Error::PowerUpTimeout`] for a
    /// card that stays busy, and the command errors
    /// ([`Error::CommandTimeout`], [`Error::CommandCrc`], [`Error::Card`])
    /// of any step.
    pub fn init(&mut self) -> Result<CardInfo, Error> {
        self.card = None;
        let mclk = self.config.mclk_hz;
        let identification =
            ClockSetting::fastest(mclk, IDENTIFICATION_HZ).ok_or(Error::ClockUnreachable)?;
        let transfer = ClockSetting::fastest(mclk, TRANSFER_HZ).ok_or(Error::ClockUnreachable)?;
        self.check_part()?;
        if !self.switches.card_present() {
            return Err(Error::NoCard);
        }
        self.power_up(identification);

        self.send(sd::GO_IDLE_STATE, 0)?;
        let version2 = match self.send(sd::SEND_IF_COND, sd::IF_COND_CHECK) {
            Ok(()) if self.response(0) & 0xfff == sd::IF_COND_CHECK => true,
            Ok(()) => return Err(Error::Unsupported),
            // A version 1.x card does not know CMD8 and stays silent.
            Err(Error::CommandTimeout { .. }) => false,
            Err(error) => return Err(error),
        };
        let ocr = self.power_up_card(version2)?;
        let kind = if version2 && ocr & sd::OCR_CCS != 0 { CardKind::Sdhc } else { CardKind::Sdsc };

        self.send(sd::ALL_SEND_CID, 0)?;
        let rca = self.publish_rca()?;
        // Identification is over: the card is in data transfer mode.
        self.set_clock(transfer);
        self.transfer_hz = transfer.hz;
        let address = u32::from(rca) << 16;

        self.send(sd::SEND_CSD, address)?;
        let csd = [self.response(0), self.response(1), self.response(2), self.response(3)];
        let (csd_kind, blocks) = csd_capacity(&csd)?;
        if csd_kind != kind {
            return Err(Error::Unsupported);
        }
        self.r1(sd::SELECT_CARD, address)?;
        if kind == CardKind::Sdsc {
            self.r1(sd::SET_BLOCKLEN, BLOCK_LEN as u32)?;
        }
        let status = self.r1(sd::SEND_STATUS, address)?;
        if CardState::of(status) != CardState::Transfer {
            return Err(Error::Card(status));
        }
        let card = CardInfo { kind, blocks, rca };
        self.card = Some(card);
        Ok(card)
    }

    /// Reads `blocks.len()` blocks from block `start` on: CMD17 for one,
    /// CMD18 and CMD12 for more (in commands of at most
    /// [`MAX_BLOCKS_PER_TRANSFER`]).
    ///
    /// # Errors
    /// [`Error::NoCard`] while the card-detect switch says the slot is
    /// empty (the card must be initialised again once one is in it),
    /// [`Error::NotInitialised`] before [`Pl181::init`],
    /// [`Error::OutOfRange`] (before any bus traffic) for blocks past the
    /// card's end, the data errors ([`Error::DataTimeout`],
    /// [`Error::DataCrc`], [`Error::RxOverrun`]) and the command errors.
    /// After an error the card is brought back to the transfer state where
    /// it can be; the blocks' contents are then unspecified.
    pub fn read_blocks(&mut self, start: u32, blocks: &mut [[u8; BLOCK_LEN]]) -> Result<(), Error> {
        self.read_into(start, blocks)
    }

    /// Writes `blocks` from block `start` on: CMD24 for one, CMD25 and
    /// CMD12 for more (in commands of at most [`MAX_BLOCKS_PER_TRANSFER`]),
    /// then CMD13 until the card has finished programming.
    ///
    /// # Errors
    /// As [`Pl181::read_blocks`], with [`Error::WriteProtected`] (before
    /// any bus traffic) while the card's write-protect tab is locked,
    /// [`Error::TxUnderrun`] for the underrun, and [`Error::ProgrammingTimeout`] for a card that does not
    /// finish programming.
    pub fn write_blocks(&mut self, start: u32, blocks: &[[u8; BLOCK_LEN]]) -> Result<(), Error> {
        self.write_from(start, blocks)
    }

    /// The card's status (CMD13, R1: its current state and the error bits
    /// of the last commands, Physical Layer 4.10.1), which also shows
    /// whether the card identified is still the one in the slot: one taken
    /// out, or exchanged unseen, is forgotten.
    ///
    /// # Errors
    /// [`Error::NoCard`] while the card-detect switch says the slot is
    /// empty, [`Error::NotInitialised`] before [`Pl181::init`],
    /// [`Error::CardChanged`] if the card does not answer at its address,
    /// and the command errors.
    pub fn status(&mut self) -> Result<u32, Error> {
        let card = self.checked(0, 0)?;
        self.ask_status(card)
    }

    /// Turns the card's supply off; the card must be initialised again.
    pub fn power_off(&mut self) {
        self.card = None;
        self.registers.power().write(POWER::CTRL::Off);
        self.registers.clock().set(0);
    }

    pub(crate) fn read_into<B: BlocksMut + ?Sized>(
        &mut self,
        start: u32,
        blocks: &mut B,
    ) -> Result<(), Error> {
        let card = self.checked(start, blocks.count())?;
        let mut done = 0;
        while done < blocks.count() {
            let count = (blocks.count() - done).min(MAX_BLOCKS_PER_TRANSFER);
            self.read_chunk(card, start + done as u32, blocks, done, count)?;
            done += count;
        }
        Ok(())
    }

    pub(crate) fn write_from<B: Blocks + ?Sized>(
        &mut self,
        start: u32,
        blocks: &B,
    ) -> Result<(), Error> {
        let card = self.checked(start, blocks.count())?;
        if self.switches.write_protected() {
            return Err(Error::WriteProtected);
        }
        let mut done = 0;
        while done < blocks.count() {
            let count = (blocks.count() - done).min(MAX_BLOCKS_PER_TRANSFER);
            self.write_chunk(card, start + done as u32, blocks, done, count)?;
            done += count;
        }
        Ok(())
    }

    /// The card, if it is in the slot and `count` blocks from `start` lie
    /// on it. A card taken out is forgotten: the one put in next may be
    /// another.
    fn checked(&mut self, start: u32, count: usize) -> Result<CardInfo, Error> {
        if !self.switches.card_present() {
            self.card = None;
            return Err(Error::NoCard);
        }
        let card = self.card.ok_or(Error::NotInitialised)?;
        if u64::from(start) + count as u64 > u64::from(card.blocks) {
            return Err(Error::OutOfRange);
        }
        Ok(card)
    }

    /// The part number in MCIPeriphID0/1 must be a PL180's or PL181's.
    fn check_part(&self) -> Result<(), Error> {
        let part = (self.registers.periph_id(0).get() & 0xff)
            | (self.registers.periph_id(1).get() & 0xf) << 8;
        match part {
            0x180 | 0x181 => Ok(()),
            other => Err(Error::UnknownController(other as u16)),
        }
    }

    /// Polling only: no interrupts, no data path, no command; the supply
    /// off, then up, then on with the clock running (TRM 3.3.1).
    fn power_up(&mut self, clock: ClockSetting) {
        self.registers.mask0().set(0);
        self.registers.mask1().set(0);
        self.registers.data_ctrl().set(0);
        self.registers.command().set(0);
        self.registers.power().write(POWER::CTRL::Off);
        self.delay.delay_us(POWER_SETTLE_US);
        self.set_clock(clock);
        self.registers.power().write(POWER::CTRL::PowerUp);
        self.delay.delay_us(POWER_SETTLE_US);
        self.registers.power().write(POWER::CTRL::PowerOn);
        self.delay.delay_us(POWER_SETTLE_US);
        self.registers.clear().write(STATUS::STATIC.val(0x7ff));
    }

    /// Sets the card clock, and waits the 3 MCLK + 2 PCLK periods the TRM
    /// (3.3.2) asks between two writes (as 5 MCLK periods).
    fn set_clock(&mut self, clock: ClockSetting) {
        let setting = match clock.divider {
            Some(divider) => CLOCK::CLKDIV.val(u32::from(divider)) + CLOCK::ENABLE::SET,
            None => CLOCK::BYPASS::SET + CLOCK::ENABLE::SET,
        };
        self.registers.clock().write(setting);
        let gap_ns = 5_000_000_000 / u64::from(self.config.mclk_hz.max(1));
        self.delay.delay_ns(gap_ns.min(u64::from(u32::MAX)) as u32);
    }

    /// ACMD41 until the card reports it has powered up; its OCR.
    fn power_up_card(&mut self, version2: bool) -> Result<u32, Error> {
        let argument = sd::OCR_VOLTAGE_WINDOW | if version2 { sd::OCR_CCS } else { 0 };
        let mut waited_us = 0;
        loop {
            match self.send(sd::APP_CMD, 0) {
                Ok(()) => {}
                Err(Error::CommandTimeout { .. }) => return Err(Error::NoCard),
                Err(error) => return Err(error),
            }
            // Not checked for errors: after a version 1 card's silence to
            // CMD8, ILLEGAL_COMMAND shows here.
            if self.response(0) & sd::STATUS_APP_CMD == 0 {
                return Err(Error::Unsupported);
            }
            match self.send(sd::SD_SEND_OP_COND, argument) {
                Ok(()) => {}
                // Not an SD memory card (a MultiMedia card, say).
                Err(Error::CommandTimeout { .. }) => return Err(Error::Unsupported),
                Err(error) => return Err(error),
            }
            let ocr = self.response(0);
            if ocr & sd::OCR_POWERED_UP != 0 {
                if ocr & sd::OCR_VOLTAGE_WINDOW == 0 {
                    return Err(Error::Unsupported);
                }
                return Ok(ocr);
            }
            if waited_us >= POWER_UP_TIMEOUT_US {
                return Err(Error::PowerUpTimeout);
            }
            self.delay.delay_us(POWER_UP_POLL_US);
            waited_us += POWER_UP_POLL_US;
        }
    }

    /// CMD3 until the card publishes an RCA other than 0 (Physical Layer
    /// 4.2.2: the host asks again), three times at most.
    fn publish_rca(&mut self) -> Result<u16, Error> {
        for _ in 0..3 {
            self.send(sd::SEND_RELATIVE_ADDR, 0)?;
            let r6 = self.response(0);
            let status = sd::r6_card_status(r6);
            if status & sd::STATUS_ERRORS != 0 {
                return Err(Error::Card(status));
            }
            let rca = (r6 >> 16) as u16;
            if rca != 0 {
                return Ok(rca);
            }
        }
        Err(Error::Unsupported)
    }

    /// Word `n` of the last response.
    fn response(&self, n: usize) -> u32 {
        self.registers.response(n).get()
    }

    /// Sends `command` and waits until it ends: CmdSent for a command
    /// without a response; CmdRespEnd, CmdCrcFail or CmdTimeOut for one
    /// with (TRM 2.3.3). A CRC failure of a response without a CRC (R3) is
    /// no failure. The command flags are cleared after.
    fn send(&mut self, command: Command, argument: u32) -> Result<(), Error> {
        let index = command.index;
        if self.registers.command().is_set(COMMAND::ENABLE) {
            // The command path state machine must be disabled before it is
            // enabled for the next command (Linux's mmci does the same).
            self.registers.command().set(0);
            self.delay.delay_ns(POLL_NS);
        }
        self.registers.clear().write(command_flags());
        self.registers.argument().set(argument);
        let mut value = COMMAND::CMD_INDEX.val(u32::from(index)) + COMMAND::ENABLE::SET;
        if command.response.expected() {
            value += COMMAND::RESPONSE::SET;
        }
        if command.response.long() {
            value += COMMAND::LONG_RSP::SET;
        }
        self.registers.command().write(value);

        let done = if command.response.expected() {
            STATUS::CMD_RESP_END::SET + STATUS::CMD_CRC_FAIL::SET + STATUS::CMD_TIME_OUT::SET
        } else {
            STATUS::CMD_SENT::SET
        };
        let mut patience = Patience::new(COMMAND_TIMEOUT_US);
        let status = loop {
            let status = self.registers.status().extract();
            if status.any_matching_bits_set(done) {
                break status;
            }
            if !patience.wait(&mut self.delay) {
                self.registers.command().set(0);
                self.registers.clear().write(command_flags());
                return Err(Error::CommandTimeout { command: index });
            }
        };
        self.registers.clear().write(command_flags());
        if status.is_set(STATUS::CMD_TIME_OUT) {
            return Err(Error::CommandTimeout { command: index });
        }
        if status.is_set(STATUS::CMD_CRC_FAIL) && command.response.has_crc() {
            return Err(Error::CommandCrc { command: index });
        }
        Ok(())
    }

    /// Sends a command with an R1 response; the card status, if it has no
    /// error bit set.
    fn r1(&mut self, command: Command, argument: u32) -> Result<u32, Error> {
        self.send(command, argument)?;
        let status = self.response(0);
        if status & sd::STATUS_ERRORS != 0 {
            return Err(Error::Card(status));
        }
        Ok(status)
    }

    /// The data path set for `bytes` in direction `direction`, enabled.
    fn start_data(&mut self, bytes: usize, direction: FieldValue<u32, DATA_CTRL::Register>) {
        self.registers.clear().write(data_flags());
        // 250 ms in card clocks (Physical Layer 4.6.2.2).
        self.registers.data_timer().set(self.transfer_hz / 4);
        self.registers.data_length().set(bytes as u32);
        self.registers
            .data_ctrl()
            .write(DATA_CTRL::ENABLE::SET + direction + DATA_CTRL::BLOCK_SIZE.val(BLOCK_SIZE_LOG2));
    }

    /// The data path disabled and its flags cleared.
    fn stop_data(&mut self) {
        self.registers.data_ctrl().set(0);
        self.registers.clear().write(data_flags());
    }

    /// The card's address of block `block`: its byte address on a
    /// standard-capacity card, its number on a high-capacity one.
    fn address(card: CardInfo, block: u32) -> u32 {
        match card.kind {
            CardKind::Sdsc => block * BLOCK_LEN as u32,
            CardKind::Sdhc => block,
        }
    }

    /// One read command: `count` blocks from card block `start` into
    /// `blocks[first..]`.
    fn read_chunk<B: BlocksMut + ?Sized>(
        &mut self,
        card: CardInfo,
        start: u32,
        blocks: &mut B,
        first: usize,
        count: usize,
    ) -> Result<(), Error> {
        // The data path waits for the card's first block before the
        // command goes (TRM 2.3.4: reads are set up first).
        self.start_data(count * BLOCK_LEN, DATA_CTRL::DIRECTION::FromCard);
        let command = if count == 1 { sd::READ_SINGLE_BLOCK } else { sd::READ_MULTIPLE_BLOCK };
        let mut result = self.r1(command, Self::address(card, start)).map(drop);
        if result.is_ok() {
            result = self.receive(blocks, first, count);
        }
        self.stop_data();
        if result.is_ok() && count > 1 {
            // OUT_OF_RANGE in CMD12's response after reading up to the
            // card's last block is the card reading ahead: no error
            // (Physical Layer 4.3.3).
            result = self.send(sd::STOP_TRANSMISSION, 0).and_then(|()| {
                let status = self.response(0) & !sd::STATUS_OUT_OF_RANGE;
                if status & sd::STATUS_ERRORS != 0 { Err(Error::Card(status)) } else { Ok(()) }
            });
        }
        result.map_err(|error| self.recover(card, error))
    }

    /// One write command: `count` blocks from `blocks[first..]` to card
    /// block `start`, then the wait for programming to end.
    fn write_chunk<B: Blocks + ?Sized>(
        &mut self,
        card: CardInfo,
        start: u32,
        blocks: &B,
        first: usize,
        count: usize,
    ) -> Result<(), Error> {
        let command = if count == 1 { sd::WRITE_BLOCK } else { sd::WRITE_MULTIPLE_BLOCK };
        // The data path starts only once the card has taken the command
        // (TRM 2.3.4), or the first words would go out before it listens.
        let mut result = self.r1(command, Self::address(card, start)).map(drop);
        if result.is_ok() {
            self.start_data(count * BLOCK_LEN, DATA_CTRL::DIRECTION::ToCard);
            result = self.transmit(blocks, first, count);
            self.stop_data();
        }
        if result.is_ok() && count > 1 {
            result = self.r1(sd::STOP_TRANSMISSION, 0).map(drop);
        }
        match result {
            // A card that goes silent while programming: taken out, or
            // another in its place.
            Ok(()) => self.wait_programmed(card.rca).map_err(|error| match error {
                Error::CommandTimeout { .. } => self.recover(card, error),
                other => other,
            }),
            Err(error) => Err(self.recover(card, error)),
        }
    }

    /// Pops `count` blocks' words from the FIFO into `blocks[first..]`,
    /// then waits for DataEnd. MCIStatus is read before every pop, and a
    /// word popped only while RxDataAvlbl is set: QEMU refills its FIFO
    /// after a pop only when MCIStatus is read.
    ///
    /// Out of line, as [`Pl181::transmit`] (inlined, its word loop's
    /// code came out an instruction per word dearer in some images).
    #[inline(never)]
    fn receive<B: BlocksMut + ?Sized>(
        &mut self,
        blocks: &mut B,
        first: usize,
        count: usize,
    ) -> Result<(), Error> {
        let mut patience = Patience::new(DATA_TIMEOUT_US);
        for index in first..first + count {
            for word in blocks.block_mut(index).chunks_exact_mut(4) {
                loop {
                    let status = self.registers.status().extract();
                    if let Some(error) = data_error(status) {
                        return Err(error);
                    }
                    if status.is_set(STATUS::RX_DATA_AVLBL) {
                        word.copy_from_slice(&self.registers.fifo().get().to_le_bytes());
                        patience.progress();
                        break;
                    }
                    if !patience.wait(&mut self.delay) {
                        return Err(Error::DataTimeout);
                    }
                }
            }
        }
        self.wait_data_end(patience)
    }

    /// Pushes `count` blocks from `blocks[first..]` into the FIFO while it
    /// is not full, then waits for DataEnd.
    ///
    /// Out of line: its word loop then has the registers to itself, which
    /// inlined into a caller with more to keep it did not (an instruction
    /// more per word).
    #[inline(never)]
    fn transmit<B: Blocks + ?Sized>(
        &mut self,
        blocks: &B,
        first: usize,
        count: usize,
    ) -> Result<(), Error> {
        let mut patience = Patience::new(DATA_TIMEOUT_US);
        for index in first..first + count {
            for word in blocks.block(index).chunks_exact(4) {
                let word = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
                loop {
                    let status = self.registers.status().extract();
                    if let Some(error) = data_error(status) {
                        return Err(error);
                    }
                    if !status.is_set(STATUS::TX_FIFO_FULL) {
                        self.registers.fifo().set(word);
                        patience.progress();
                        break;
                    }
                    if !patience.wait(&mut self.delay) {
                        return Err(Error::DataTimeout);
                    }
                }
            }
        }
        self.wait_data_end(patience)
    }

    /// Waits until the data counter has run out (DataEnd), or a data error.
    fn wait_data_end(&mut self, mut patience: Patience) -> Result<(), Error> {
        loop {
            let status = self.registers.status().extract();
            if let Some(error) = data_error(status) {
                return Err(error);
            }
            if status.is_set(STATUS::DATA_END) {
                return Ok(());
            }
            if !patience.wait(&mut self.delay) {
                return Err(Error::DataTimeout);
            }
        }
    }

    /// CMD13 until the card is back in the transfer state, ready for data
    /// (Physical Layer 4.3.4: a write's programming).
    fn wait_programmed(&mut self, rca: u16) -> Result<(), Error> {
        let mut waited_us = 0;
        loop {
            let status = self.r1(sd::SEND_STATUS, u32::from(rca) << 16)?;
            match CardState::of(status) {
                CardState::Transfer if status & sd::STATUS_READY_FOR_DATA != 0 => return Ok(()),
                CardState::Transfer | CardState::Programming | CardState::ReceivingData => {}
                _ => return Err(Error::Card(status)),
            }
            if waited_us >= PROGRAMMING_TIMEOUT_US {
                return Err(Error::ProgrammingTimeout);
            }
            self.delay.delay_us(PROGRAMMING_POLL_US);
            waited_us += PROGRAMMING_POLL_US;
        }
    }

    /// After a failed transfer, whose `error` it returns: brings the card
    /// back to the transfer state if it is still sending or receiving
    /// (CMD12) or programming, so that the next request finds it there.
    /// Sends nothing the card's state does not allow: an illegal command
    /// would show in the next response.
    ///
    /// A card that does not answer the status request is forgotten
    /// ([`Pl181::ask_status`]), and the error is [`Error::CardChanged`].
    fn recover(&mut self, card: CardInfo, error: Error) -> Error {
        let status = match self.ask_status(card) {
            Ok(status) => status,
            Err(Error::CardChanged) => return Error::CardChanged,
            Err(_) => return error,
        };
        match CardState::of(status) {
            CardState::SendingData | CardState::ReceivingData => {
                let _ = self
                    .send(sd::STOP_TRANSMISSION, 0)
                    .and_then(|()| self.wait_programmed(card.rca));
            }
            CardState::Programming => {
                let _ = self.wait_programmed(card.rca);
            }
            _ => {}
        }
        error
    }

    /// CMD13 at `card`'s address: its card status (not checked for error
    /// bits: the caller wants the state). A card answers CMD13 in every
    /// state of data transfer mode (stand-by, transfer, sending,
    /// receiving, programming, disconnect); silence means the card in the
    /// slot is not the one identified, or not as it was: it was reset
    /// (taken out and put back, or another card put in, which is in
    /// identification mode and ignores addressed commands). The driver
    /// then forgets it: [`Error::CardChanged`].
    fn ask_status(&mut self, card: CardInfo) -> Result<u32, Error> {
        match self.send(sd::SEND_STATUS, u32::from(card.rca) << 16) {
            Ok(()) => Ok(self.response(0)),
            Err(Error::CommandTimeout { .. }) => {
                self.card = None;
                Err(Error::CardChanged)
            }
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod patience_tests {
    use super::{POLL_NS, Patience, SPIN_POLLS};
    use crate::model::FakeDelay;

    /// Waits until `patience` says the limit is spent; how many waits
    /// said go on, and the time they took.
    fn waits_until_spent(patience: &mut Patience, delay: &mut FakeDelay) -> (u32, u64) {
        let start = delay.now();
        let mut waits = 0;
        while patience.wait(delay) {
            waits += 1;
        }
        (waits, delay.now() - start)
    }

    /// The first polls come back to back; then one every `POLL_NS` until
    /// the limit is spent.
    #[test]
    fn a_wait_spins_first_then_polls_until_its_limit() {
        let mut delay = FakeDelay::default();
        let mut patience = Patience::new(10);
        for spin in 0..SPIN_POLLS {
            assert!(patience.wait(&mut delay), "spin {spin}");
            assert_eq!(delay.now(), 0, "spin {spin} waits no time");
        }
        assert!(patience.wait(&mut delay));
        assert_eq!(delay.now(), u64::from(POLL_NS), "then each poll waits");
        let (waits, took) = waits_until_spent(&mut patience, &mut delay);
        assert_eq!(u64::from(waits + 1) * u64::from(POLL_NS), 10_000);
        assert_eq!(took + u64::from(POLL_NS), 10_000);
    }

    /// Progress starts the wait over: spins first again, and the whole
    /// limit again, however long the waits before it took.
    #[test]
    fn progress_starts_the_wait_over() {
        let mut delay = FakeDelay::default();
        let mut patience = Patience::new(10);
        let spent = waits_until_spent(&mut patience, &mut delay);
        patience.progress();
        let mut again = FakeDelay::default();
        for _ in 0..SPIN_POLLS {
            assert!(patience.wait(&mut again));
        }
        assert_eq!(again.now(), 0);
        let rest = waits_until_spent(&mut patience, &mut again);
        assert_eq!((rest.0 + SPIN_POLLS, rest.1), spent);
    }
}
