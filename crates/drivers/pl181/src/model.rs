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
//! response read as a short one, and polling MCIStatus without end all
//! fail the test (panic). A card sees
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

mod card;

use std::collections::VecDeque;
use std::vec::Vec;

use ferrode_hal::RegisterModel;

use crate::Register;

use card::Reply;
pub(crate) use card::{Card, pattern, qemu_csd};

/// The virtual clock the driver waits on and the model reads.
pub(crate) use ferrode_hal::testing::VirtualDelay as FakeDelay;

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
    now: FakeDelay,
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
    /// The command whose responses fail their CRC (CmdCrcFail).
    crc_failure_of: Option<u8>,
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
    /// MCIStatus reads, in all.
    status_reads: u64,
}

/// MCIStatus reads after which the model fails the test: a driver polling
/// without a bound (the longest bounded wait, a stalled data path, takes
/// about half a million).
const POLLING_FOR_EVER: u64 = 5_000_000;

impl Controller {
    /// A PL181 clocked at `mclk_hz` with `card` in its slot (`None`: an
    /// empty slot), on the virtual clock of `delay`.
    pub(crate) fn new(delay: &FakeDelay, mclk_hz: u32, card: Option<Card>) -> Self {
        Self {
            now: delay.clone(),
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
            crc_failure_of: None,
            power_log: Vec::new(),
            accesses: 0,
            status_reads: 0,
        }
    }

    /// Reports CmdCrcFail for R3, as the silicon does (QEMU: CmdRespEnd).
    pub(crate) fn with_r3_crc_failure(mut self) -> Self {
        self.r3_crc_failure = true;
        self
    }

    /// Every response to command `index` fails its CRC: CmdCrcFail, the
    /// response registers as received.
    pub(crate) fn with_crc_failure_of(mut self, index: u8) -> Self {
        self.crc_failure_of = Some(index);
        self
    }

    /// What MCIDataTimer was last set to, in card clock periods.
    pub(crate) fn data_timer(&self) -> u32 {
        self.data_timer
    }

    /// Stops responding: MCIStatus reads 0 for ever.
    pub(crate) fn stuck(mut self) -> Self {
        self.stuck = true;
        self
    }

    /// The next transfer meets `fault` when it has moved `blocks` blocks
    /// (all of them: at its end, instead of DataEnd).
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
                let on_for = self.now.now() - self.powered_on_at.unwrap_or(0);
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
        let end = if self.crc_failure_of == Some(index) { CMD_CRC_FAIL } else { CMD_RESP_END };
        match reply {
            Reply::Silent => self.status |= CMD_TIME_OUT,
            Reply::Short(_) | Reply::Ocr(_) if long => self.status |= CMD_TIME_OUT,
            Reply::Short(word) => {
                self.response = [word, 0, 0, 0];
                self.status |= end;
            }
            Reply::Ocr(word) => {
                self.response = [word, 0, 0, 0];
                self.status |= if self.r3_crc_failure { CMD_CRC_FAIL } else { CMD_RESP_END };
            }
            Reply::Long(words) => {
                assert!(long, "CMD{index}'s long response read as a short one");
                self.response = words;
                self.status |= end;
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
        // A fault injected at a transfer's end strikes instead of DataEnd
        // (a written block's CRC status comes after its data).
        let enabled = self.data_ctrl & 1 != 0;
        if self.data_cnt == 0 && !self.frozen && !(enabled && self.fault_here()) {
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
            Register::Status => {
                self.status_reads += 1;
                assert!(
                    self.status_reads < POLLING_FOR_EVER,
                    "the driver polls MCIStatus for ever"
                );
                if self.stuck {
                    return 0;
                }
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
                        self.powered_on_at = Some(self.now.now());
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
