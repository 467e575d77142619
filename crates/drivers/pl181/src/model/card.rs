//! The SD memory card of the model: its states, the commands it answers,
//! QEMU's CSDs, and its blocks, held sparsely.

use std::collections::BTreeMap;
use std::vec::Vec;

use crate::CardKind;
use crate::sd::CardState;

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

/// The card's answer to a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reply {
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
    /// CMD13s answered in the transfer state without READY_FOR_DATA
    /// after a write's programming (its buffer still busy), and how many
    /// are left.
    unready_polls: u32,
    unready_left: u32,
    /// XORed into CMD8's echo (0: a correct echo).
    echo_fault: u32,
    /// The supply voltages the card works at, as its OCR lists them.
    voltage_window: u32,
    /// Whether CMD55 prepares an application command (false: a card
    /// that answers CMD55 but knows no ACMD).
    app_commands: bool,
    pub(super) app_next: bool,
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
            unready_polls: 0,
            unready_left: 0,
            echo_fault: 0,
            voltage_window: 0x00ff_8000,
            app_commands: true,
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

    /// After a write's programming, answers `polls` CMD13s in the
    /// transfer state but not yet ready for data.
    pub(crate) fn unready_for(mut self, polls: u32) -> Self {
        self.unready_polls = polls;
        self
    }

    /// Echoes CMD8's check pattern wrong.
    pub(crate) fn with_bad_echo(mut self) -> Self {
        self.echo_fault = 0x55;
        self
    }

    /// Lists only `window` as its supply voltages in the OCR (0: none the
    /// host may give, as a 1.8 V-only device).
    pub(crate) fn with_voltage_window(mut self, window: u32) -> Self {
        self.voltage_window = window;
        self
    }

    /// Answers CMD55 without taking the next command as an ACMD: its R1
    /// never says APP_CMD.
    pub(crate) fn without_app_commands(mut self) -> Self {
        self.app_commands = false;
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
    pub(super) fn reset(&mut self) {
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
            CardState::Transfer if self.unready_left > 0 => 0,
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
    pub(super) fn command(&mut self, index: u8, argument: u32) -> Reply {
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
        let mut ocr = self.voltage_window;
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
                self.app_next = self.app_commands;
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
                } else if found == Transfer {
                    self.unready_left = self.unready_left.saturating_sub(1);
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
        self.unready_left = self.unready_polls;
        self.state =
            if self.programming_polls == 0 { CardState::Transfer } else { CardState::Programming };
    }

    /// Whether the card has data for the controller.
    pub(super) fn sending(&self) -> bool {
        self.state == CardState::SendingData
    }

    pub(super) fn read_byte(&mut self) -> u8 {
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

    pub(super) fn write_byte(&mut self, value: u8) {
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
