//! A behavioural model of the PL181 and an SD memory card behind it, for
//! host tests. The controller follows QEMU 10's `hw/sd/pl181.c` where QEMU
//! and the silicon differ, because that is where the driver runs first:
//!
//! - Commands complete at once when MCICommand is written with Enable:
//!   CmdRespEnd (QEMU: for R3 too; [`Controller::with_r3_crc_failure`]
//!   gives the silicon's CmdCrcFail), CmdSent for a command without a
//!   response, CmdTimeOut when the card stays silent or a long response is
//!   asked of a short one. MCIRespCmd stays 0; MCIClock reads back only
//!   its divider.
//! - Enabling the data path copies MCIDataLength into the data counter;
//!   bytes move between the card and the FIFO whenever the FIFO or a
//!   command register is touched: a read fills the FIFO from the card
//!   while the card is sending, a FIFO write goes to the card at once.
//!   After a FIFO pop, refilling waits until MCIStatus or MCIFifoCnt is
//!   read (QEMU's "linux_hack"), and that read returns the status as it
//!   was before the refill. DataEnd and DataBlockEnd come together when the
//!   counter reaches 0.
//!
//! It is stricter than QEMU where QEMU only logs a guest error: a FIFO read
//! while it is empty, a FIFO write beyond 16 words or without a transfer,
//! a data length over 16 bits, a block size other than 512, a command
//! within 1 ms of power-on, interrupt or pending commands, and a long
//! response read as a short one all fail the test (panic). A card sees
//! commands only while the supply is on and the card clock enabled.
//!
//! The card ([`Card`]) keeps the SD states (idle, ready, identification,
//! stand-by, transfer, sending data, receiving data, programming), answers
//! CMD0, 2, 3, 7, 8, 9, 12, 13, 16, 17, 18, 24, 25, 55 and ACMD41 as the
//! Physical Layer specification says (an illegal command gets no response
//! and ILLEGAL_COMMAND in the next R1; CURRENT_STATE is the state the
//! command found), has QEMU's CSDs (version 1.0 up to 2 GiB, 2.0 above),
//! and holds its blocks sparsely: a block never written reads as
//! [`pattern`] of its number, so an addressing mistake shows.

use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::vec::Vec;

use embedded_hal::delay::DelayNs;
use ferrode_hal::RegisterModel;

use crate::sd::CardState;
use crate::{CardKind, Register};

/// A delay that only moves the virtual clock the model reads.
#[derive(Clone, Default)]
pub(crate) struct FakeDelay(pub(crate) Rc<Cell<u64>>);

impl FakeDelay {
    /// Nanoseconds waited so far.
    pub(crate) fn now(&self) -> u64 {
        self.0.get()
    }
}

impl DelayNs for FakeDelay {
    fn delay_ns(&mut self, ns: u32) {
        self.0.set(self.0.get() + u64::from(ns));
    }
}

/// What a never-written block holds: its number in the first four bytes
/// (little-endian), then bytes that depend on it and their position.
pub(crate) fn pattern(block: u32) -> [u8; 512] {
    let mut bytes: [u8; 512] = core::array::from_fn(|i| (i as u32 * 31 + block * 7) as u8);
    bytes[..4].copy_from_slice(&block.to_le_bytes());
    bytes
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

// Card status bits (Physical Layer table 4-42).
const OUT_OF_RANGE: u32 = 1 << 31;
const ADDRESS_ERROR: u32 = 1 << 30;
const BLOCK_LEN_ERROR: u32 = 1 << 29;
const ILLEGAL_COMMAND: u32 = 1 << 22;
const READY_FOR_DATA: u32 = 1 << 8;
const APP_CMD: u32 = 1 << 5;

// MCIStatus bits (TRM 3.3.11).
const CMD_CRC_FAIL: u32 = 1 << 0;
const DATA_CRC_FAIL: u32 = 1 << 1;
const CMD_TIME_OUT: u32 = 1 << 2;
const DATA_TIME_OUT: u32 = 1 << 3;
const TX_UNDERRUN: u32 = 1 << 4;
const RX_OVERRUN: u32 = 1 << 5;
const CMD_RESP_END: u32 = 1 << 6;
const CMD_SENT: u32 = 1 << 7;
const DATA_END: u32 = 1 << 8;
const DATA_BLOCK_END: u32 = 1 << 10;
const TX_ACTIVE: u32 = 1 << 12;
const RX_ACTIVE: u32 = 1 << 13;
const TX_FIFO_HALF_EMPTY: u32 = 1 << 14;
const RX_FIFO_HALF_FULL: u32 = 1 << 15;
const TX_FIFO_FULL: u32 = 1 << 16;
const RX_FIFO_FULL: u32 = 1 << 17;
const TX_FIFO_EMPTY: u32 = 1 << 18;
const RX_FIFO_EMPTY: u32 = 1 << 19;
const TX_DATA_AVLBL: u32 = 1 << 20;
const RX_DATA_AVLBL: u32 = 1 << 21;
const TX_FIFO: u32 = TX_ACTIVE | TX_FIFO_HALF_EMPTY | TX_FIFO_FULL | TX_FIFO_EMPTY | TX_DATA_AVLBL;
const RX_FIFO: u32 = RX_ACTIVE | RX_FIFO_HALF_FULL | RX_FIFO_FULL | RX_FIFO_EMPTY | RX_DATA_AVLBL;

/// The card's answer to a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reply {
    /// Silence: no response (a command that has none, or one the card
    /// ignores).
    Silent,
    /// A 48-bit response with a CRC (R1, R1b, R6, R7).
    Short(u32),
    /// R3: the OCR, with no CRC.
    Ocr(u32),
    /// R2: 136 bits, as the four response words.
    Long([u32; 4]),
}

/// An illegal command: no response, ILLEGAL_COMMAND in the next R1.
struct Illegal;

/// Which physical layer version the card follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Version {
    /// 1.x: no CMD8, standard capacity only.
    V1,
    /// 2.00 on: CMD8, HCS.
    V2,
}

/// A command the card received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Logged {
    /// The command's index.
    pub(crate) index: u8,
    /// Its argument.
    pub(crate) argument: u32,
    /// Whether it followed CMD55 (an ACMD).
    pub(crate) app: bool,
    /// The card clock it came at, in Hz.
    pub(crate) clock_hz: u32,
}

/// An SD memory card.
pub(crate) struct Card {
    pub(crate) kind: CardKind,
    version: Version,
    /// Capacity in bytes.
    size: u64,
    /// Blocks written, by number; the rest hold [`pattern`].
    pub(crate) written: BTreeMap<u32, [u8; 512]>,
    pub(crate) state: CardState,
    rca: u16,
    csd: [u32; 4],
    /// ACMD41s answered busy after power-up, and how many are left.
    busy_polls: u32,
    busy_left: u32,
    /// CMD13s answered "programming" after a write, and how many are left.
    programming_polls: u32,
    programming_left: u32,
    /// XORed into CMD8's echo (0: a correct echo).
    echo_fault: u32,
    app_next: bool,
    /// Error bits for the next R1.
    pending: u32,
    block_len: u32,
    /// The data transfer: byte address of the current block, the byte in
    /// it, whether it goes on past it (CMD18, CMD25).
    address: u64,
    offset: u32,
    multiple: bool,
    buffer: Vec<u8>,
}

impl Card {
    fn new(kind: CardKind, size: u64) -> Self {
        assert!(size.is_power_of_two(), "QEMU refuses an SD image whose size is not a power of 2");
        Self {
            kind,
            version: Version::V2,
            size,
            written: BTreeMap::new(),
            state: CardState::Idle,
            rca: 0,
            csd: qemu_csd(size),
            busy_polls: 2,
            busy_left: 2,
            programming_polls: 0,
            programming_left: 0,
            echo_fault: 0,
            app_next: false,
            pending: 0,
            block_len: qemu_read_bl_len(size),
            address: 0,
            offset: 0,
            multiple: false,
            buffer: Vec::new(),
        }
    }

    /// A standard-capacity card of `size` bytes (at most 2 GiB), as QEMU
    /// makes one for an image of that size.
    pub(crate) fn sdsc(size: u64) -> Self {
        assert!(size <= 2 * GIB);
        Self::new(CardKind::Sdsc, size)
    }

    /// A high-capacity card of `size` bytes (over 2 GiB).
    pub(crate) fn sdhc(size: u64) -> Self {
        assert!(size > 2 * GIB);
        Self::new(CardKind::Sdhc, size)
    }

    /// A version 1.x card: silent to CMD8.
    pub(crate) fn version1(mut self) -> Self {
        assert_eq!(self.kind, CardKind::Sdsc, "version 1 cards are standard capacity");
        self.version = Version::V1;
        self
    }

    /// Answers `polls` ACMD41s busy before it has powered up
    /// (`u32::MAX`: never powers up).
    pub(crate) fn busy_for(mut self, polls: u32) -> Self {
        self.busy_polls = polls;
        self.busy_left = polls;
        self
    }

    /// Stays in the programming state for `polls` CMD13s after a write.
    pub(crate) fn programming_for(mut self, polls: u32) -> Self {
        self.programming_polls = polls;
        self
    }

    /// Echoes CMD8's check pattern wrong.
    pub(crate) fn with_bad_echo(mut self) -> Self {
        self.echo_fault = 0x55;
        self
    }

    /// Puts `bits` into the next R1 (an error the card found).
    pub(crate) fn report(&mut self, bits: u32) {
        self.pending |= bits;
    }

    /// The block `number`'s contents.
    pub(crate) fn block(&self, number: u32) -> [u8; 512] {
        self.written.get(&number).copied().unwrap_or_else(|| pattern(number))
    }

    fn byte(&self, address: u64) -> u8 {
        self.block((address / 512) as u32)[(address % 512) as usize]
    }

    fn set_byte(&mut self, address: u64, value: u8) {
        let number = (address / 512) as u32;
        let mut block = self.block(number);
        block[(address % 512) as usize] = value;
        self.written.insert(number, block);
    }

    /// Back to idle, as after CMD0 or a power cycle.
    fn reset(&mut self) {
        self.state = CardState::Idle;
        self.rca = 0;
        self.app_next = false;
        self.pending = 0;
        self.busy_left = self.busy_polls;
        self.block_len = qemu_read_bl_len(self.size);
    }

    /// The card status for an R1 whose command found the card in `state`;
    /// the pending error bits go with it.
    fn status(&mut self, state: CardState) -> u32 {
        let ready = match self.state {
            CardState::Programming | CardState::ReceivingData => 0,
            _ => READY_FOR_DATA,
        };
        let app = if self.app_next { APP_CMD } else { 0 };
        core::mem::take(&mut self.pending) | state.bits() | ready | app
    }

    fn r1(&mut self, state: CardState) -> Reply {
        Reply::Short(self.status(state))
    }

    fn addressed(&self, argument: u32) -> bool {
        (argument >> 16) as u16 == self.rca
    }

    /// A command, with its answer.
    fn command(&mut self, index: u8, argument: u32) -> Reply {
        let app = core::mem::take(&mut self.app_next);
        let found = self.state;
        let reply = if app && index == 41 {
            self.send_op_cond(argument)
        } else {
            self.normal_command(index, argument, found)
        };
        reply.unwrap_or_else(|Illegal| {
            self.pending |= ILLEGAL_COMMAND;
            Reply::Silent
        })
    }

    /// ACMD41: powers up (after its busy polls), then ready.
    fn send_op_cond(&mut self, argument: u32) -> Result<Reply, Illegal> {
        if self.state != CardState::Idle {
            return Err(Illegal);
        }
        let window = argument & 0x00ff_8000;
        let hcs = argument & (1 << 30) != 0;
        let powered = window != 0
            && (self.kind == CardKind::Sdsc || hcs)
            && if self.busy_left == 0 {
                true
            } else {
                self.busy_left = self.busy_left.saturating_sub(1);
                false
            };
        let mut ocr = 0x00ff_8000;
        if powered {
            ocr |= 1 << 31;
            if self.kind == CardKind::Sdhc {
                ocr |= 1 << 30;
            }
            self.state = CardState::Ready;
        }
        Ok(Reply::Ocr(ocr))
    }

    fn normal_command(
        &mut self,
        index: u8,
        argument: u32,
        found: CardState,
    ) -> Result<Reply, Illegal> {
        use CardState::*;
        match (index, found) {
            (0, _) => {
                self.reset();
                Ok(Reply::Silent)
            }
            (8, Idle) if self.version == Version::V2 => {
                if (argument >> 8) & 0xf != 1 {
                    return Ok(Reply::Silent);
                }
                Ok(Reply::Short((argument & 0xfff) ^ self.echo_fault))
            }
            (55, Idle | StandBy | Transfer | SendingData | ReceivingData | Programming) => {
                if found != Idle && !self.addressed(argument) {
                    return Ok(Reply::Silent);
                }
                self.app_next = true;
                Ok(self.r1(found))
            }
            (2, Ready) => {
                self.state = Identification;
                Ok(Reply::Long([0xaa58_5951, 0x454d_5521, 0x01de_adbe, 0xef00_6200]))
            }
            (3, Identification | StandBy) => {
                self.state = StandBy;
                self.rca = 0xb368;
                let status = self.status(found);
                let r6 = ((status >> 8) & 0xc000) | ((status >> 6) & 0x2000) | (status & 0x1fff);
                Ok(Reply::Short(u32::from(self.rca) << 16 | r6))
            }
            (9, StandBy) if self.addressed(argument) => {
                let mut csd = self.csd;
                csd[3] &= !1;
                Ok(Reply::Long(csd))
            }
            (7, _) if !self.addressed(argument) => {
                if found == Transfer {
                    self.state = StandBy;
                }
                Ok(Reply::Silent)
            }
            (7, StandBy | Transfer) => {
                self.state = Transfer;
                Ok(self.r1(found))
            }
            (13, StandBy | Transfer | SendingData | ReceivingData | Programming)
                if self.addressed(argument) =>
            {
                let reply = self.r1(found);
                if found == Programming {
                    self.programming_left = self.programming_left.saturating_sub(1);
                    if self.programming_left == 0 {
                        self.state = Transfer;
                    }
                }
                Ok(reply)
            }
            (16, Transfer) => {
                if argument == 0 || argument > 512 {
                    self.pending |= BLOCK_LEN_ERROR;
                } else if self.kind == CardKind::Sdsc {
                    self.block_len = argument;
                }
                Ok(self.r1(found))
            }
            (17 | 18 | 24 | 25, Transfer) => {
                let address = match self.kind {
                    CardKind::Sdsc => u64::from(argument),
                    CardKind::Sdhc => u64::from(argument) * 512,
                };
                if address % u64::from(self.block_len) != 0 {
                    self.pending |= ADDRESS_ERROR;
                } else if address + u64::from(self.block_len) > self.size {
                    self.pending |= OUT_OF_RANGE;
                } else {
                    self.address = address;
                    self.offset = 0;
                    self.multiple = matches!(index, 18 | 25);
                    self.buffer.clear();
                    self.state = if index < 24 { SendingData } else { ReceivingData };
                }
                Ok(self.r1(found))
            }
            (12, SendingData) => {
                self.state = Transfer;
                Ok(self.r1(found))
            }
            (12, ReceivingData) => {
                // A partly received block is dropped.
                self.buffer.clear();
                self.start_programming();
                Ok(self.r1(found))
            }
            _ => Err(Illegal),
        }
    }

    fn start_programming(&mut self) {
        self.programming_left = self.programming_polls;
        self.state =
            if self.programming_polls == 0 { CardState::Transfer } else { CardState::Programming };
    }

    /// Whether the card has data for the controller.
    fn sending(&self) -> bool {
        self.state == CardState::SendingData
    }

    fn read_byte(&mut self) -> u8 {
        assert!(self.sending(), "data read from a card that is not sending");
        if self.address + u64::from(self.block_len) > self.size {
            // A multiple-block read that went on past the end: it stays in
            // the sending state until CMD12, whose R1 says OUT_OF_RANGE.
            self.pending |= OUT_OF_RANGE;
            return 0;
        }
        let value = self.byte(self.address + u64::from(self.offset));
        self.offset += 1;
        if self.offset == self.block_len {
            self.offset = 0;
            self.address += u64::from(self.block_len);
            if !self.multiple {
                self.state = CardState::Transfer;
            } else if self.address + u64::from(self.block_len) > self.size {
                // The card reads ahead, past its end: CMD12's R1 will say
                // OUT_OF_RANGE (Physical Layer 4.3.3), which is no error.
                self.pending |= OUT_OF_RANGE;
            }
        }
        value
    }

    fn write_byte(&mut self, value: u8) {
        if self.state != CardState::ReceivingData {
            // QEMU's card ignores it too (with a log line).
            return;
        }
        if self.address + u64::from(self.block_len) > self.size {
            self.pending |= OUT_OF_RANGE;
            return;
        }
        self.buffer.push(value);
        if self.buffer.len() as u32 == self.block_len {
            let buffer = core::mem::take(&mut self.buffer);
            for (n, byte) in buffer.into_iter().enumerate() {
                self.set_byte(self.address + n as u64, byte);
            }
            self.address += u64::from(self.block_len);
            if !self.multiple {
                self.start_programming();
            }
        }
    }
}

/// QEMU's READ_BL_LEN: 512-byte blocks, but 1024 for a 2 GiB card (whose
/// C_SIZE would not fit otherwise); the block length a card starts with.
fn qemu_read_bl_len(size: u64) -> u32 {
    if size == 2 * GIB { 1024 } else { 512 }
}

/// The CSD QEMU's `sd_set_csd` gives a card of `size` bytes, as the PL181
/// shows it in MCIResponse0-3 (byte 0 the most significant of word 0).
pub(crate) fn qemu_csd(size: u64) -> [u32; 4] {
    let mut csd = [0u8; 16];
    if size <= 2 * GIB {
        let hwblock_shift = if size == 2 * GIB { 10 } else { 9 };
        let cmult_shift = 9u64;
        let csize = (size >> (cmult_shift + hwblock_shift)) - 1;
        let sectsize = (1u64 << (5 + 1)) - 1;
        let wpsize = (1u64 << (7 + 1)) - 1;
        csd = [
            0x00,
            0x26,
            0x00,
            0x5a,
            0x5f,
            0x50 | hwblock_shift as u8,
            0xe0 | ((csize >> 10) & 0x03) as u8,
            ((csize >> 2) & 0xff) as u8,
            0x3f | ((csize << 6) & 0xc0) as u8,
            0xfc | ((cmult_shift - 2) >> 1) as u8,
            0x40 | (((cmult_shift - 2) << 7) & 0x80) as u8 | (sectsize >> 1) as u8,
            ((sectsize << 7) & 0x80) as u8 | wpsize as u8,
            0x90 | (9 >> 2),
            0x20 | ((9 << 6) & 0xc0),
            0x00,
            0x01,
        ];
    } else {
        let c_size = size / (512 * KIB) - 1;
        csd[..7].copy_from_slice(&[0x40, 0x0e, 0x00, 0x32, 0x5b, 0x59, 0x00]);
        csd[7] = (c_size >> 16) as u8;
        csd[8] = (c_size >> 8) as u8;
        csd[9] = c_size as u8;
        csd[10..].copy_from_slice(&[0x7f, 0x80, 0x0a, 0x40, 0x00, 0x00]);
    }
    core::array::from_fn(|n| u32::from_be_bytes(csd[4 * n..4 * n + 4].try_into().unwrap()))
}

/// A fault the data path meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DataFault {
    /// DataCrcFail: a block's CRC failed (on a write: the card said so).
    Crc,
    /// DataTimeOut: the card does not send (or take) the block.
    Timeout,
    /// RxOverrun.
    Overrun,
    /// TxUnderrun.
    Underrun,
    /// The data path stops moving and raises nothing: only the driver's
    /// own bound ends the wait.
    Stall,
}

/// The PL181 with its card slot.
pub(crate) struct Controller {
    now: Rc<Cell<u64>>,
    mclk_hz: u32,
    /// The card in the slot.
    pub(crate) card: Option<Card>,
    power: u32,
    clock: u32,
    argument: u32,
    command: u32,
    response: [u32; 4],
    data_timer: u32,
    data_length: u32,
    data_ctrl: u32,
    data_cnt: u32,
    status: u32,
    mask: [u32; 2],
    fifo: VecDeque<u32>,
    /// QEMU's "linux_hack": a FIFO pop defers the refill to the next
    /// MCIStatus or MCIFifoCnt read.
    hold: bool,
    r3_crc_failure: bool,
    /// MCIStatus reads 0 and commands do nothing: a controller that
    /// stopped.
    stuck: bool,
    /// A fault met when the transfer has moved that many blocks.
    fault: Option<(u32, DataFault)>,
    frozen: bool,
    moved: u32,
    powered_on_at: Option<u64>,
    /// The commands the card received, in order.
    pub(crate) log: Vec<Logged>,
    /// MCIPower's power control field at each write.
    pub(crate) power_log: Vec<u32>,
    /// Register reads and writes, in all.
    pub(crate) accesses: usize,
}

impl Controller {
    /// A PL181 clocked at `mclk_hz` with `card` in its slot (`None`: an
    /// empty slot), on the virtual clock of `delay`.
    pub(crate) fn new(delay: &FakeDelay, mclk_hz: u32, card: Option<Card>) -> Self {
        Self {
            now: delay.0.clone(),
            mclk_hz,
            card,
            power: 0,
            clock: 0,
            argument: 0,
            command: 0,
            response: [0; 4],
            data_timer: 0,
            data_length: 0,
            data_ctrl: 0,
            data_cnt: 0,
            status: 0,
            mask: [0; 2],
            fifo: VecDeque::new(),
            hold: false,
            r3_crc_failure: false,
            stuck: false,
            fault: None,
            frozen: false,
            moved: 0,
            powered_on_at: None,
            log: Vec::new(),
            power_log: Vec::new(),
            accesses: 0,
        }
    }

    /// Reports CmdCrcFail for R3, as the silicon does (QEMU: CmdRespEnd).
    pub(crate) fn with_r3_crc_failure(mut self) -> Self {
        self.r3_crc_failure = true;
        self
    }

    /// Stops responding: MCIStatus reads 0 for ever.
    pub(crate) fn stuck(mut self) -> Self {
        self.stuck = true;
        self
    }

    /// The next transfer meets `fault` when it has moved `blocks` blocks.
    pub(crate) fn inject(&mut self, blocks: u32, fault: DataFault) {
        self.fault = Some((blocks, fault));
    }

    /// The card.
    pub(crate) fn card(&self) -> &Card {
        self.card.as_ref().expect("a card in the slot")
    }

    /// The card clock, in Hz (0 when stopped).
    pub(crate) fn clock_hz(&self) -> u32 {
        if self.clock & (1 << 8) == 0 {
            0
        } else if self.clock & (1 << 10) != 0 {
            self.mclk_hz
        } else {
            self.mclk_hz / (2 * ((self.clock & 0xff) + 1))
        }
    }

    fn do_command(&mut self) {
        let index = (self.command & 0x3f) as u8;
        let wants_response = self.command & (1 << 6) != 0;
        let long = self.command & (1 << 7) != 0;
        let clock_hz = self.clock_hz();
        let reply = match self.card.as_mut() {
            Some(card) if self.power & 0b11 == 0b11 && clock_hz != 0 => {
                let on_for = self.now.get() - self.powered_on_at.unwrap_or(0);
                assert!(on_for >= 1_000_000, "CMD{index} {on_for} ns after power-on (1 ms needed)");
                self.log.push(Logged {
                    index,
                    argument: self.argument,
                    app: card.app_next,
                    clock_hz,
                });
                card.command(index, self.argument)
            }
            _ => Reply::Silent,
        };
        if !wants_response {
            self.status |= CMD_SENT;
            return;
        }
        match reply {
            Reply::Silent => self.status |= CMD_TIME_OUT,
            Reply::Short(_) | Reply::Ocr(_) if long => self.status |= CMD_TIME_OUT,
            Reply::Short(word) => {
                self.response = [word, 0, 0, 0];
                self.status |= CMD_RESP_END;
            }
            Reply::Ocr(word) => {
                self.response = [word, 0, 0, 0];
                self.status |= if self.r3_crc_failure { CMD_CRC_FAIL } else { CMD_RESP_END };
            }
            Reply::Long(words) => {
                assert!(long, "CMD{index}'s long response read as a short one");
                self.response = words;
                self.status |= CMD_RESP_END;
            }
        }
    }

    /// Moves data between the card and the FIFO, and sets the FIFO's
    /// status bits (QEMU's `pl181_fifo_run`).
    fn fifo_run(&mut self) {
        let reading = self.data_ctrl & 2 != 0;
        let card_ready = self.card.as_ref().is_some_and(Card::sending);
        if self.data_cnt != 0 && (!reading || card_ready) && !self.hold && !self.frozen {
            if reading {
                let mut value = 0u32;
                let mut n = 0;
                while self.data_cnt != 0 && self.fifo.len() < 16 && !self.fault_here() {
                    let card = self.card.as_mut().expect("a card");
                    if !card.sending() {
                        break;
                    }
                    value |= u32::from(card.read_byte()) << (8 * n);
                    self.data_cnt -= 1;
                    self.moved += 1;
                    n += 1;
                    if n == 4 {
                        self.fifo.push_back(value);
                        value = 0;
                        n = 0;
                    }
                }
                if n != 0 {
                    self.fifo.push_back(value);
                }
            } else {
                while self.data_cnt != 0 && !self.fifo.is_empty() && !self.fault_here() {
                    let word = self.fifo.pop_front().expect("a word");
                    for byte in word.to_le_bytes() {
                        if self.data_cnt == 0 {
                            break;
                        }
                        if let Some(card) = self.card.as_mut() {
                            card.write_byte(byte);
                        }
                        self.data_cnt -= 1;
                        self.moved += 1;
                    }
                }
            }
        }
        self.status &= !(RX_FIFO | TX_FIFO);
        if self.data_cnt == 0 {
            self.status |= DATA_END | DATA_BLOCK_END;
        }
        if self.data_cnt == 0 && self.fifo.is_empty() {
            self.data_ctrl &= !1;
        } else {
            let mut bits = TX_ACTIVE | RX_ACTIVE;
            if self.fifo.is_empty() {
                bits |= TX_FIFO_EMPTY | RX_FIFO_EMPTY;
            } else {
                bits |= TX_DATA_AVLBL | RX_DATA_AVLBL;
            }
            if self.fifo.len() == 16 {
                bits |= TX_FIFO_FULL | RX_FIFO_FULL;
            }
            if self.fifo.len() <= 8 {
                bits |= TX_FIFO_HALF_EMPTY;
            }
            if self.fifo.len() >= 8 {
                bits |= RX_FIFO_HALF_FULL;
            }
            self.status |= bits & if reading { RX_FIFO } else { TX_FIFO };
        }
    }

    /// Whether the injected fault strikes now (at its block's start); if
    /// so it is raised, once, and the data path stops.
    fn fault_here(&mut self) -> bool {
        match self.fault {
            Some((blocks, fault)) if self.moved == blocks * 512 => {
                self.status |= match fault {
                    DataFault::Crc => DATA_CRC_FAIL,
                    DataFault::Timeout => DATA_TIME_OUT,
                    DataFault::Overrun => RX_OVERRUN,
                    DataFault::Underrun => TX_UNDERRUN,
                    DataFault::Stall => 0,
                };
                self.fault = None;
                self.frozen = true;
                true
            }
            _ => false,
        }
    }

    /// A read of MCIStatus or MCIFifoCnt lets a held refill happen.
    fn release_hold(&mut self) {
        if self.hold {
            self.hold = false;
            self.fifo_run();
        }
    }
}

impl RegisterModel<Register> for Controller {
    fn read(&mut self, register: Register) -> u32 {
        self.accesses += 1;
        match register {
            Register::Power => self.power,
            // QEMU keeps only the low 8 bits.
            Register::Clock => self.clock & 0xff,
            Register::Argument => self.argument,
            Register::Command => self.command,
            // QEMU never sets it.
            Register::RespCmd => 0,
            Register::Response(n) => self.response[n],
            Register::DataTimer => self.data_timer,
            Register::DataLength => self.data_length,
            Register::DataCtrl => self.data_ctrl,
            Register::DataCnt => self.data_cnt,
            Register::Status if self.stuck => 0,
            Register::Status => {
                let status = self.status;
                self.release_hold();
                status
            }
            Register::FifoCnt => {
                let count = self.data_cnt.div_ceil(4);
                self.release_hold();
                count
            }
            Register::Mask0 => self.mask[0],
            Register::Mask1 => self.mask[1],
            Register::Fifo => {
                let word = self.fifo.pop_front().expect("FIFO read while it is empty");
                self.hold = true;
                self.fifo_run();
                word
            }
            Register::PeriphId(n) => [0x81, 0x11, 0x04, 0x00][n],
            Register::Clear => panic!("MCIClear is write-only"),
        }
    }

    fn write(&mut self, register: Register, value: u32) {
        self.accesses += 1;
        match register {
            Register::Power => {
                self.power = value & 0xff;
                self.power_log.push(value & 0b11);
                match value & 0b11 {
                    0b11 if self.powered_on_at.is_none() => {
                        self.powered_on_at = Some(self.now.get());
                    }
                    0b11 => {}
                    _ => {
                        self.powered_on_at = None;
                        if let Some(card) = self.card.as_mut() {
                            card.reset();
                        }
                    }
                }
            }
            Register::Clock => self.clock = value,
            Register::Argument => self.argument = value,
            Register::Command => {
                self.command = value;
                if value & (1 << 10) != 0 {
                    assert!(value & (3 << 8) == 0, "QEMU implements no interrupt or pending mode");
                    if !self.stuck {
                        self.do_command();
                        self.fifo_run();
                    }
                    self.command &= !(1 << 10);
                }
            }
            Register::DataTimer => self.data_timer = value,
            Register::DataLength => {
                assert!(value <= 0xffff, "MCIDataLength has 16 bits, {value} written");
                self.data_length = value;
            }
            Register::DataCtrl => {
                self.data_ctrl = value & 0xff;
                if value & 1 != 0 {
                    assert_eq!((value >> 4) & 0xf, 9, "block size other than 512");
                    assert_eq!(value & 0b1100, 0, "stream mode or DMA");
                    assert!(self.data_length.is_multiple_of(512), "a partial block");
                    self.data_cnt = self.data_length;
                    self.moved = 0;
                    self.frozen = false;
                    self.fifo_run();
                } else {
                    self.frozen = false;
                }
            }
            Register::Clear => self.status &= !(value & 0x7ff),
            Register::Mask0 => self.mask[0] = value,
            Register::Mask1 => self.mask[1] = value,
            Register::Fifo => {
                assert!(self.data_cnt != 0, "FIFO write with no transfer");
                assert!(self.fifo.len() < 16, "FIFO write while it is full");
                self.fifo.push_back(value);
                self.fifo_run();
            }
            Register::RespCmd
            | Register::Response(_)
            | Register::DataCnt
            | Register::Status
            | Register::FifoCnt
            | Register::PeriphId(_) => panic!("{register:?} is read-only"),
        }
    }
}
