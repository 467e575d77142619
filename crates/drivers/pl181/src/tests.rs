//! Host tests: the driver on a model of the PL181 with an SD card behind
//! it (`crate::model`), which keeps QEMU's quirks and fails a test where
//! the silicon or QEMU would misbehave.

use core::cell::{Cell, RefCell};
use std::string::ToString;
use std::vec;
use std::vec::Vec;

use embedded_sdmmc_types::{Block, BlockCount, BlockDevice, BlockIdx};
use ferrode_hal::mmio::{Mmio, RamBlock};

use crate::model::{Card, Controller, DataFault, FakeDelay, pattern, qemu_csd};
use crate::sd::{CardState, csd_capacity};
use crate::{
    CardInfo, CardKind, ClockSetting, Config, DATA_TIMEOUT_US, Error, IDENTIFICATION_HZ,
    MAX_BLOCKS_PER_TRANSFER, NoSwitches, POWER_UP_TIMEOUT_US, PROGRAMMING_TIMEOUT_US, Pl181,
    Register, Regs, SdCard, Switches, TRANSFER_HZ,
};

/// The PBX-A9's MCLK.
const MCLK: u32 = 24_000_000;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
/// The RCA the model's card publishes.
const RCA: u16 = 0xb368;

type Slot = RefCell<Controller>;
type Driver<'a> = Pl181<&'a Slot, FakeDelay>;

/// A controller with `card` in its slot (or none), and its clock.
fn slot(card: Option<Card>) -> (Slot, FakeDelay) {
    let delay = FakeDelay::default();
    (RefCell::new(Controller::new(&delay, MCLK, card)), delay)
}

fn driver<'a>(slot: &'a Slot, delay: &FakeDelay) -> Driver<'a> {
    Pl181::new(slot, delay.clone(), Config { mclk_hz: MCLK })
}

/// The driver with its card initialised; the model's log cleared.
fn ready<'a>(slot: &'a Slot, delay: &FakeDelay) -> Driver<'a> {
    let mut mmci = driver(slot, delay);
    mmci.init().expect("init");
    slot.borrow_mut().log.clear();
    mmci
}

/// The commands the card received since the last call: index and
/// argument (ACMDs as index 41 with `app`, shown as 0x100 + index).
fn commands(slot: &Slot) -> Vec<(u32, u32)> {
    core::mem::take(&mut slot.borrow_mut().log)
        .into_iter()
        .map(|c| (u32::from(c.index) + if c.app { 0x100 } else { 0 }, c.argument))
        .collect()
}

/// How many of the commands in `log` ([`commands`]) are `index`.
fn sent(log: &[(u32, u32)], index: u32) -> usize {
    log.iter().filter(|&&(sent, _)| sent == index).count()
}

fn blocks_from(first: u32, count: u32) -> Vec<[u8; 512]> {
    (first..first + count).map(pattern).collect()
}

/// Blocks of data unlike any pattern: `seed` and the position.
fn data(seed: u8, count: usize) -> Vec<[u8; 512]> {
    (0..count)
        .map(|b| core::array::from_fn(|i| seed ^ (i as u8).wrapping_mul(3) ^ b as u8))
        .collect()
}

fn state(slot: &Slot) -> CardState {
    slot.borrow().card().state
}

const ACMD41: u32 = 0x100 + 41;

/// Each register is reached at its TRM offset (table 3-1).
#[test]
fn the_registers_sit_at_their_offsets() {
    let block = RamBlock::new(std::boxed::Box::leak(std::boxed::Box::new([0; 1024])));
    let regs = Mmio::new(block.view::<Regs>());
    let writable = [
        (Register::Power, 0x00),
        (Register::Clock, 0x04),
        (Register::Argument, 0x08),
        (Register::Command, 0x0c),
        (Register::DataTimer, 0x24),
        (Register::DataLength, 0x28),
        (Register::DataCtrl, 0x2c),
        (Register::Clear, 0x38),
        (Register::Mask0, 0x3c),
        (Register::Mask1, 0x40),
        (Register::Fifo, 0x80),
    ];
    block.check_writes(&regs, &writable);
    let readable = [
        (Register::RespCmd, 0x10),
        (Register::Response(0), 0x14),
        (Register::Response(1), 0x18),
        (Register::Response(2), 0x1c),
        (Register::Response(3), 0x20),
        (Register::DataCnt, 0x30),
        (Register::Status, 0x34),
        (Register::FifoCnt, 0x48),
        (Register::Fifo, 0x80),
        (Register::PeriphId(0), 0xfe0),
        (Register::PeriphId(3), 0xfec),
    ];
    block.check_reads(&regs, &readable);
}

/// A block whose identification is not a PL180/PL181's (here: RAM of
/// zeros, as a wrong address would give) is refused before anything is
/// written.
#[test]
fn a_block_that_is_not_a_pl181_is_refused() {
    let block = RamBlock::new(std::boxed::Box::leak(std::boxed::Box::new([0; 1024])));
    let mut mmci =
        Pl181::new(Mmio::new(block.view::<Regs>()), FakeDelay::default(), Config { mclk_hz: MCLK });
    assert_eq!(mmci.init(), Err(Error::UnknownController(0)));
    assert_eq!(block.peek(0x00), 0);
    assert_eq!(block.peek(0x04), 0);
}

/// The card clock is the fastest within the limit: MCLK / (2 * (CLKDIV +
/// 1)), or MCLK itself (bypass) when that is within it (TRM 3.3.2).
#[test]
fn clock_settings_are_the_fastest_within_the_limit() {
    let cases = [
        // The PBX-A9: 24 MHz / 60 = 400 kHz exactly; 24 MHz for data.
        (MCLK, IDENTIFICATION_HZ, Some((Some(29), 400_000))),
        (MCLK, TRANSFER_HZ, Some((None, 24_000_000))),
        (100_000_000, IDENTIFICATION_HZ, Some((Some(124), 400_000))),
        (100_000_000, TRANSFER_HZ, Some((Some(1), 25_000_000))),
        (50_000_000, TRANSFER_HZ, Some((Some(0), 25_000_000))),
        (26_000_000, TRANSFER_HZ, Some((Some(0), 13_000_000))),
        (1_000_000, IDENTIFICATION_HZ, Some((Some(1), 250_000))),
        (400_000, IDENTIFICATION_HZ, Some((None, 400_000))),
        (204_800_000, IDENTIFICATION_HZ, Some((Some(255), 400_000))),
        (204_800_001, IDENTIFICATION_HZ, None),
        (0, IDENTIFICATION_HZ, None),
    ];
    for (mclk, max, expected) in cases {
        let setting = ClockSetting::fastest(mclk, max);
        assert_eq!(setting.map(|s| (s.divider, s.hz)), expected, "{mclk} Hz to {max} Hz");
        if let Some(setting) = setting {
            assert!(setting.hz <= max);
        }
    }
}

/// An MCLK that cannot come down to 400 kHz is refused before the bus is
/// touched.
#[test]
fn an_unreachable_identification_clock_is_refused() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB)));
    let mut mmci = Pl181::new(&slot, delay, Config { mclk_hz: 300_000_000 });
    assert_eq!(mmci.init(), Err(Error::ClockUnreachable));
    assert_eq!(slot.borrow().accesses, 0);
}

/// QEMU's CSDs give the capacity of the image: version 1.0 up to 2 GiB
/// (READ_BL_LEN 10 for 2 GiB), version 2.0 above; other structures and
/// block lengths are refused.
#[test]
fn the_capacity_comes_from_the_csd() {
    let cases = [
        (MIB, CardKind::Sdsc, 2_048),
        (256 * MIB, CardKind::Sdsc, 524_288),
        (GIB, CardKind::Sdsc, 2_097_152),
        (2 * GIB, CardKind::Sdsc, 4_194_304),
        (4 * GIB, CardKind::Sdhc, 8_388_608),
        (32 * GIB, CardKind::Sdhc, 67_108_864),
    ];
    for (size, kind, blocks) in cases {
        assert_eq!(csd_capacity(&qemu_csd(size)), Ok((kind, blocks)), "{size} bytes");
    }
    // The Physical Layer's own example (5.3.3): C_SIZE 0x001fff, 4 GiB.
    let v2 = [0x400e_0032, 0x5b59_0000, 0x1fff_7f80, 0x0a40_0000];
    assert_eq!(csd_capacity(&v2), Ok((CardKind::Sdhc, 8_388_608)));
    // The largest C_SIZE would be 2^32 blocks: cut to u32::MAX.
    let largest = [0x400e_0032, 0x5b59_003f, 0xffff_7f80, 0x0a40_0000];
    assert_eq!(csd_capacity(&largest), Ok((CardKind::Sdhc, u32::MAX)));
    let mut v3 = v2;
    v3[0] |= 0x8000_0000;
    assert_eq!(csd_capacity(&v3), Err(Error::Unsupported));
    let mut short_blocks = qemu_csd(MIB);
    short_blocks[1] = (short_blocks[1] & !0x000f_0000) | 0x0008_0000;
    assert_eq!(csd_capacity(&short_blocks), Err(Error::Unsupported));
}

/// A standard-capacity card: power off, up, on; CMD0, CMD8 (echoed),
/// ACMD41 with HCS and the 2.7-3.6 V window until powered up (two busy
/// answers here), CMD2, CMD3, CMD9, CMD7, CMD16 512, CMD13; in the
/// transfer state, with the capacity of its CSD.
#[test]
fn init_identifies_a_standard_capacity_card() {
    let (slot, delay) = slot(Some(Card::sdsc(GIB)));
    let mut mmci = driver(&slot, &delay);
    let card = mmci.init().unwrap();
    assert_eq!(card, CardInfo { kind: CardKind::Sdsc, blocks: 2_097_152, rca: RCA });
    assert_eq!(mmci.card(), Some(card));
    assert_eq!(card.bytes(), GIB);
    let rca = u32::from(RCA) << 16;
    assert_eq!(
        commands(&slot),
        [
            (0, 0),
            (8, 0x1aa),
            (55, 0),
            (ACMD41, 0x40ff_8000),
            (55, 0),
            (ACMD41, 0x40ff_8000),
            (55, 0),
            (ACMD41, 0x40ff_8000),
            (2, 0),
            (3, 0),
            (9, rca),
            (7, rca),
            (16, 512),
            (13, rca),
        ]
    );
    assert_eq!(slot.borrow().power_log, [0b00, 0b10, 0b11]);
    assert_eq!(state(&slot), CardState::Transfer);
}

/// A high-capacity card: CCS in the OCR, CSD 2.0, no CMD16.
#[test]
fn init_identifies_a_high_capacity_card() {
    let (slot, delay) = slot(Some(Card::sdhc(8 * GIB)));
    let card = driver(&slot, &delay).init().unwrap();
    assert_eq!(card, CardInfo { kind: CardKind::Sdhc, blocks: 16_777_216, rca: RCA });
    let log = commands(&slot);
    assert!(!log.iter().any(|&(index, _)| index == 16), "{log:x?}");
    assert_eq!(log.last(), Some(&(13, u32::from(RCA) << 16)));
    assert_eq!(state(&slot), CardState::Transfer);
}

/// A version 1.x card is silent to CMD8 (and reports ILLEGAL_COMMAND in
/// the next R1, CMD55's); the driver goes on without HCS.
#[test]
fn a_version_1_card_is_identified_without_cmd8() {
    let (slot, delay) = slot(Some(Card::sdsc(64 * MIB).version1().busy_for(0)));
    let card = driver(&slot, &delay).init().unwrap();
    assert_eq!(card.kind, CardKind::Sdsc);
    assert_eq!(card.blocks, 131_072);
    assert_eq!(commands(&slot)[..4], [(0, 0), (8, 0x1aa), (55, 0), (ACMD41, 0x00ff_8000)]);
}

/// The 2 GiB standard-capacity card has 1024-byte READ_BL_LEN: its
/// capacity counts them, and CMD16 makes its blocks 512 bytes, so two
/// single-block reads in a row each read one block.
#[test]
fn a_2_gib_card_is_read_in_512_byte_blocks() {
    let (slot, delay) = slot(Some(Card::sdsc(2 * GIB)));
    let mut mmci = ready(&slot, &delay);
    assert_eq!(mmci.card().unwrap().blocks, 4_194_304);
    let mut blocks = [[0; 512]; 1];
    for n in [4_194_303, 9] {
        mmci.read_blocks(n, &mut blocks).unwrap();
        assert_eq!(blocks[0], pattern(n));
    }
    assert_eq!(state(&slot), CardState::Transfer);
}

/// Identification runs at 400 kHz at most, the rest at 25 MHz at most
/// (MCLK bypassed at 24 MHz).
#[test]
fn identification_is_slow_and_transfers_are_fast() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB)));
    let mut mmci = driver(&slot, &delay);
    mmci.init().unwrap();
    mmci.read_blocks(0, &mut [[0; 512]; 2]).unwrap();
    let log = core::mem::take(&mut slot.borrow_mut().log);
    for command in &log {
        let identifying = matches!(command.index, 0 | 8 | 55 | 41 | 2 | 3);
        let expected = if identifying { 400_000 } else { 24_000_000 };
        assert_eq!(command.clock_hz, expected, "{command:?}");
    }
}

/// The first command comes 1 ms after power-on at least (the model checks
/// it), and init takes a few milliseconds of waiting, not more.
#[test]
fn init_waits_for_the_supply_and_not_much_more() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB).busy_for(0)));
    driver(&slot, &delay).init().unwrap();
    assert!((3_000_000..4_000_000).contains(&delay.now()), "{} ns", delay.now());
}

/// QEMU's card takes ACMD41 at once: one round.
#[test]
fn a_card_that_powers_up_at_once_needs_one_acmd41() {
    let (slot, delay) = slot(Some(Card::sdhc(4 * GIB).busy_for(0)));
    driver(&slot, &delay).init().unwrap();
    assert_eq!(sent(&commands(&slot), ACMD41), 1);
}

/// The silicon reports CmdCrcFail for R3, which has no CRC: not an error.
#[test]
fn a_crc_failure_of_the_ocr_is_no_error() {
    let (slot, delay) = slot(None);
    *slot.borrow_mut() =
        Controller::new(&delay, MCLK, Some(Card::sdhc(4 * GIB))).with_r3_crc_failure();
    let card = driver(&slot, &delay).init().unwrap();
    assert_eq!(card.kind, CardKind::Sdhc);
}

/// An empty slot: every command with a response times out; CMD55 is the
/// first that must answer, so `NoCard`, soon.
#[test]
fn an_empty_slot_is_no_card() {
    let (slot, delay) = slot(None);
    let mut mmci = driver(&slot, &delay);
    assert_eq!(mmci.init(), Err(Error::NoCard));
    assert_eq!(mmci.card(), None);
    assert!(delay.now() < 5_000_000, "{} ns", delay.now());
}

/// The slot's switches as a test sets them: a card in the slot, its
/// write-protect tab.
#[derive(Default)]
struct Panel {
    empty: Cell<bool>,
    locked: Cell<bool>,
}

impl Switches for &Panel {
    fn card_present(&mut self) -> bool {
        !self.empty.get()
    }

    fn write_protected(&mut self) -> bool {
        self.locked.get()
    }
}

/// The card-detect switch says the slot is empty: `NoCard` at once, before
/// any command or wait (even with a card the model would answer for).
#[test]
fn an_empty_slot_by_its_switch_is_no_card_at_once() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB)));
    let panel = Panel { empty: Cell::new(true), ..Panel::default() };
    let mut mmci = driver(&slot, &delay).with_switches(&panel);
    assert!(!mmci.card_present());
    assert_eq!(mmci.init(), Err(Error::NoCard));
    assert_eq!(commands(&slot), []);
    assert_eq!(delay.now(), 0);
    panel.empty.set(false);
    assert_eq!(mmci.init().map(|card| card.blocks), Ok(2048));
}

/// A card taken out: every request is `NoCard` without bus traffic, and
/// the card is forgotten; put back, it must be initialised again.
#[test]
fn a_card_taken_out_is_forgotten() {
    let (slot, delay) = slot(Some(Card::sdhc(4 * GIB)));
    let panel = Panel::default();
    let mut mmci = ready(&slot, &delay).with_switches(&panel);
    let mut blocks = vec![[0; 512]; 2];
    mmci.read_blocks(5, &mut blocks).unwrap();
    commands(&slot);
    panel.empty.set(true);
    assert_eq!(mmci.read_blocks(5, &mut blocks), Err(Error::NoCard));
    assert_eq!(mmci.write_blocks(5, &blocks), Err(Error::NoCard));
    assert_eq!(commands(&slot), []);
    assert_eq!(mmci.card(), None);
    panel.empty.set(false);
    assert_eq!(mmci.read_blocks(5, &mut blocks), Err(Error::NotInitialised));
    mmci.init().unwrap();
    mmci.read_blocks(5, &mut blocks).unwrap();
    assert_eq!(blocks, blocks_from(5, 2));
}

/// A card replaced between two requests, unseen (a slot without
/// switches): the read meets silence, CMD13 at the old card's address
/// too, and the driver forgets the card (`CardChanged`); a write then is
/// `NotInitialised`, and the new card, identified, reads as itself.
#[test]
fn a_card_replaced_unseen_is_card_changed() {
    let (slot, delay) = slot(Some(Card::sdhc(4 * GIB)));
    let mut mmci = ready(&slot, &delay);
    let mut blocks = vec![[0; 512]; 2];
    mmci.read_blocks(5, &mut blocks).unwrap();
    slot.borrow_mut().card = Some(Card::sdsc(MIB));
    commands(&slot);
    assert_eq!(mmci.read_blocks(5, &mut blocks), Err(Error::CardChanged));
    // The read (the new card, in identification mode, ignores it) and
    // the status asked at the old address; nothing more.
    assert_eq!(commands(&slot), [(18, 5), (13, u32::from(RCA) << 16)]);
    assert_eq!(mmci.card(), None);
    assert_eq!(mmci.write_blocks(5, &blocks), Err(Error::NotInitialised));
    assert_eq!(mmci.init().map(|card| (card.kind, card.blocks)), Ok((CardKind::Sdsc, 2048)));
    mmci.read_blocks(2040, &mut blocks).unwrap();
    assert_eq!(blocks, blocks_from(2040, 2));
}

/// `status` asks the card identified for its status: in the transfer
/// state while it is there; `CardChanged` (and forgotten) once another
/// card is in its place; `NoCard` with the slot empty.
#[test]
fn status_tells_whether_the_card_is_still_there() {
    let (slot, delay) = slot(Some(Card::sdhc(4 * GIB)));
    let panel = Panel::default();
    let mut mmci = driver(&slot, &delay).with_switches(&panel);
    assert_eq!(mmci.status(), Err(Error::NotInitialised));
    mmci.init().unwrap();
    commands(&slot);
    let status = mmci.status().unwrap();
    assert_eq!(CardState::of(status), CardState::Transfer);
    assert_eq!(commands(&slot), [(13, u32::from(RCA) << 16)]);
    slot.borrow_mut().card = Some(Card::sdhc(4 * GIB));
    assert_eq!(mmci.status(), Err(Error::CardChanged));
    assert_eq!(mmci.card(), None);
    mmci.init().unwrap();
    assert!(mmci.status().is_ok());
    panel.empty.set(true);
    assert_eq!(mmci.status(), Err(Error::NoCard));
    assert_eq!(mmci.card(), None);
}

/// A write to a card replaced unseen is `CardChanged` and leaves the new
/// card's blocks as they were: it takes no data before it is identified.
#[test]
fn a_write_to_a_card_replaced_unseen_writes_nothing() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB)));
    let mut mmci = ready(&slot, &delay);
    // One block (CMD24), then three (CMD25).
    for count in [1, 3] {
        slot.borrow_mut().card = Some(Card::sdsc(MIB));
        assert_eq!(mmci.write_blocks(7, &data(0x5a, count)), Err(Error::CardChanged));
        mmci.init().unwrap();
    }
    let mut blocks = vec![[0; 512]; 3];
    mmci.read_blocks(7, &mut blocks).unwrap();
    assert_eq!(blocks, blocks_from(7, 3));
    for number in 7..10 {
        assert_eq!(slot.borrow().card().block(number), pattern(number));
    }
}

/// A card that answers its status after a failed transfer is the card
/// that was identified: the error is the transfer's, and the card stays.
#[test]
fn a_failed_transfer_of_a_card_still_there_keeps_the_card() {
    let (slot, delay) = slot(Some(Card::sdhc(4 * GIB)));
    let mut mmci = ready(&slot, &delay);
    let mut blocks = vec![[0; 512]; 2];
    slot.borrow_mut().inject(1, DataFault::Crc);
    assert_eq!(mmci.read_blocks(5, &mut blocks), Err(Error::DataCrc));
    assert!(mmci.card().is_some());
    mmci.read_blocks(5, &mut blocks).unwrap();
    assert_eq!(blocks, blocks_from(5, 2));
}

/// A card whose write-protect tab is locked is read but not written: the
/// write is `WriteProtected` before any command, and the card keeps its
/// blocks; unlocked, it is written.
#[test]
fn a_write_protected_card_is_read_but_not_written() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB)));
    let panel = Panel { locked: Cell::new(true), ..Panel::default() };
    let mut mmci = driver(&slot, &delay).with_switches(&panel);
    mmci.init().unwrap();
    commands(&slot);
    assert!(mmci.write_protected());
    assert_eq!(mmci.write_blocks(3, &data(1, 2)), Err(Error::WriteProtected));
    assert_eq!(commands(&slot), []);
    let mut blocks = vec![[0; 512]; 2];
    mmci.read_blocks(3, &mut blocks).unwrap();
    assert_eq!(blocks, blocks_from(3, 2));
    // Through embedded-sdmmc's trait too.
    let sd = SdCard::new(mmci);
    let block = || Block { contents: [7; 512] };
    assert_eq!(sd.write(&[block()], BlockIdx(3)), Err(Error::WriteProtected));
    panel.locked.set(false);
    sd.write(&[block()], BlockIdx(3)).unwrap();
    let mut read = [Block::new()];
    sd.read(&mut read, BlockIdx(3)).unwrap();
    assert_eq!(read[0].contents, [7; 512]);
}

/// Without switches a card may be in the slot and may be written.
#[test]
fn a_slot_without_switches_says_nothing_against_the_card() {
    let (slot, delay) = slot(None);
    let mut mmci = driver(&slot, &delay);
    assert!(mmci.card_present());
    assert!(!mmci.write_protected());
    assert!(NoSwitches.card_present());
    assert!(!NoSwitches.write_protected());
}

/// A card whose CMD8 echo is wrong is not driven.
#[test]
fn a_wrong_cmd8_echo_is_unsupported() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB).with_bad_echo()));
    assert_eq!(driver(&slot, &delay).init(), Err(Error::Unsupported));
    assert_eq!(commands(&slot), [(0, 0), (8, 0x1aa)]);
}

/// A card that has powered up but lists none of the supply voltages the
/// host offered (2.7 to 3.6 V) in its OCR, as a 1.8 V-only device would:
/// `Unsupported`, and no further command.
#[test]
fn a_card_outside_the_voltage_window_is_unsupported() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB).busy_for(0).with_voltage_window(0)));
    assert_eq!(driver(&slot, &delay).init(), Err(Error::Unsupported));
    assert_eq!(commands(&slot), [(0, 0), (8, 0x1aa), (55, 0), (ACMD41, 0x40ff_8000)]);
}

/// A card that answers CMD55 without APP_CMD in its status takes no
/// ACMD41 for one (it is no SD memory card): `Unsupported` before ACMD41.
#[test]
fn a_card_that_knows_no_application_command_is_unsupported() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB).without_app_commands()));
    assert_eq!(driver(&slot, &delay).init(), Err(Error::Unsupported));
    assert_eq!(commands(&slot), [(0, 0), (8, 0x1aa), (55, 0)]);
}

/// Powered off, the card loses supply and clock and the driver forgets
/// it: nothing moves until it is initialised again, which works.
#[test]
fn a_card_powered_off_is_initialised_again_before_use() {
    let (slot, delay) = slot(Some(Card::sdhc(4 * GIB)));
    let mut mmci = ready(&slot, &delay);
    slot.borrow_mut().power_log.clear();
    mmci.power_off();
    assert_eq!(slot.borrow().power_log, [0], "the supply is off");
    assert_eq!(slot.borrow().clock_hz(), 0, "the card clock is stopped");
    assert_eq!(mmci.card(), None);
    let mut blocks = vec![[0; 512]; 1];
    assert_eq!(mmci.read_blocks(7, &mut blocks), Err(Error::NotInitialised));
    assert_eq!(mmci.write_blocks(7, &blocks), Err(Error::NotInitialised));
    assert_eq!(commands(&slot), []);
    mmci.init().unwrap();
    mmci.read_blocks(7, &mut blocks).unwrap();
    assert_eq!(blocks, blocks_from(7, 1));
}

/// A card that never finishes powering up: `PowerUpTimeout` after about a
/// second of ACMD41s.
#[test]
fn a_card_that_stays_busy_is_a_power_up_timeout() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB).busy_for(u32::MAX)));
    assert_eq!(driver(&slot, &delay).init(), Err(Error::PowerUpTimeout));
    let waited = delay.now();
    let limit = u64::from(POWER_UP_TIMEOUT_US) * 1_000;
    assert!((limit..limit + 20_000_000).contains(&waited), "{waited} ns");
}

/// A controller whose status never changes: every wait is bounded, init
/// ends with a command timeout after about `COMMAND_TIMEOUT_US`.
#[test]
fn a_stuck_status_is_a_timeout_not_a_hang() {
    let (slot, delay) = slot(None);
    *slot.borrow_mut() = Controller::new(&delay, MCLK, Some(Card::sdsc(MIB))).stuck();
    assert_eq!(driver(&slot, &delay).init(), Err(Error::CommandTimeout { command: 0 }));
    assert!((13_000_000..15_000_000).contains(&delay.now()), "{} ns", delay.now());
}

/// Requests before init are refused, with nothing sent.
#[test]
fn nothing_moves_before_init() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB)));
    let mut mmci = driver(&slot, &delay);
    assert_eq!(mmci.read_blocks(0, &mut [[0; 512]]), Err(Error::NotInitialised));
    assert_eq!(mmci.write_blocks(0, &[[0; 512]]), Err(Error::NotInitialised));
    assert_eq!(slot.borrow().accesses, 0);
}

/// A single block of a standard-capacity card: CMD17 with its byte
/// address.
#[test]
fn a_standard_capacity_card_reads_a_block_at_its_byte_address() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB)));
    let mut mmci = ready(&slot, &delay);
    let mut blocks = [[0; 512]];
    mmci.read_blocks(5, &mut blocks).unwrap();
    assert_eq!(blocks[0], pattern(5));
    assert_eq!(commands(&slot), [(17, 5 * 512)]);
    assert_eq!(state(&slot), CardState::Transfer);
}

/// A single block of a high-capacity card: CMD17 with its block number.
#[test]
fn a_high_capacity_card_reads_a_block_at_its_number() {
    let (slot, delay) = slot(Some(Card::sdhc(4 * GIB)));
    let mut mmci = ready(&slot, &delay);
    let mut blocks = [[0; 512]];
    mmci.read_blocks(8_000_000, &mut blocks).unwrap();
    assert_eq!(blocks[0], pattern(8_000_000));
    assert_eq!(commands(&slot), [(17, 8_000_000)]);
}

/// Several blocks: one CMD18 at the first block's address, CMD12 after,
/// on both kinds; the card is back in the transfer state.
#[test]
fn several_blocks_are_one_cmd18_and_a_cmd12() {
    for (card, address) in [(Card::sdsc(MIB), 7 * 512), (Card::sdhc(4 * GIB), 7)] {
        let (slot, delay) = slot(Some(card));
        let mut mmci = ready(&slot, &delay);
        let mut blocks = [[0; 512]; 3];
        mmci.read_blocks(7, &mut blocks).unwrap();
        assert_eq!(blocks[..], blocks_from(7, 3)[..]);
        assert_eq!(commands(&slot), [(18, address), (12, 0)]);
        assert_eq!(state(&slot), CardState::Transfer);
    }
}

/// The card's last blocks can be read, one and several.
#[test]
fn the_last_blocks_can_be_read() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB)));
    let mut mmci = ready(&slot, &delay);
    let mut blocks = [[0; 512]; 4];
    mmci.read_blocks(2_044, &mut blocks).unwrap();
    assert_eq!(blocks[..], blocks_from(2_044, 4)[..]);
    mmci.read_blocks(2_047, &mut blocks[..1]).unwrap();
    assert_eq!(blocks[0], pattern(2_047));
}

/// A request longer than MCIDataLength's 16 bits allows is split into
/// commands of 127 blocks, each with its CMD12 (the model refuses a
/// longer data length).
#[test]
fn long_requests_are_split_into_commands_of_127_blocks() {
    assert_eq!(MAX_BLOCKS_PER_TRANSFER, 127);
    let (slot, delay) = slot(Some(Card::sdhc(4 * GIB)));
    let mut mmci = ready(&slot, &delay);
    let mut blocks = vec![[0; 512]; 300];
    mmci.read_blocks(1_000, &mut blocks).unwrap();
    assert_eq!(blocks, blocks_from(1_000, 300));
    assert_eq!(commands(&slot), [(18, 1_000), (12, 0), (18, 1_127), (12, 0), (18, 1_254), (12, 0)]);
    let written = data(0x5a, 128);
    mmci.write_blocks(10, &written).unwrap();
    let log = commands(&slot);
    assert_eq!(log[..2], [(25, 10), (12, 0)]);
    assert!(log.contains(&(24, 137)), "{log:x?}");
    mmci.read_blocks(10, &mut blocks[..128]).unwrap();
    assert_eq!(blocks[..128], written[..]);
}

/// Written blocks land where they belong (byte addresses on a standard-
/// capacity card, block numbers on a high-capacity one) and read back:
/// CMD24 for one, CMD25 and CMD12 for more, then CMD13.
#[test]
fn written_blocks_land_at_their_address_and_read_back() {
    let rca = u32::from(RCA) << 16;
    for (card, scale) in [(Card::sdsc(MIB), 512), (Card::sdhc(4 * GIB), 1)] {
        let (slot, delay) = slot(Some(card));
        let mut mmci = ready(&slot, &delay);
        let one = data(1, 1);
        let four = data(2, 4);
        mmci.write_blocks(3, &one).unwrap();
        mmci.write_blocks(100, &four).unwrap();
        assert_eq!(
            commands(&slot),
            [(24, 3 * scale), (13, rca), (25, 100 * scale), (12, 0), (13, rca)]
        );
        {
            let slot = slot.borrow();
            let card = slot.card();
            assert_eq!(card.block(3), one[0]);
            for (n, block) in four.iter().enumerate() {
                assert_eq!(card.block(100 + n as u32), *block);
            }
            let untouched = [card.block(2), card.block(4), card.block(104)];
            assert_eq!(untouched, [pattern(2), pattern(4), pattern(104)]);
        }
        let mut back = [[0; 512]; 6];
        mmci.read_blocks(99, &mut back).unwrap();
        assert_eq!(back[0], pattern(99));
        assert_eq!(back[1..5], four[..]);
        assert_eq!(back[5], pattern(104));
    }
}

/// A card that programs for a while after a write is polled (CMD13) until
/// it is back in the transfer state, ready for data.
#[test]
fn a_write_waits_until_the_card_has_programmed() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB).programming_for(3)));
    let mut mmci = ready(&slot, &delay);
    mmci.write_blocks(1, &data(3, 2)).unwrap();
    let log = commands(&slot);
    assert_eq!(sent(&log, 13), 4, "{log:x?}");
    assert_eq!(state(&slot), CardState::Transfer);
    mmci.write_blocks(2, &data(4, 1)).unwrap();
    assert_eq!(slot.borrow().card().block(2), data(4, 1)[0]);
}

/// A card still busy with its buffer after programming (transfer state,
/// READY_FOR_DATA clear) is polled until it is ready.
#[test]
fn a_write_waits_until_the_card_is_ready_for_data() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB).unready_for(2)));
    let mut mmci = ready(&slot, &delay);
    mmci.write_blocks(1, &data(3, 1)).unwrap();
    let log = commands(&slot);
    assert_eq!(sent(&log, 13), 3, "{log:x?}");
}

/// A card that never finishes programming: `ProgrammingTimeout` after
/// about `PROGRAMMING_TIMEOUT_US` of CMD13s, not a hang.
#[test]
fn a_card_that_stays_programming_is_a_programming_timeout() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB).programming_for(u32::MAX)));
    let mut mmci = ready(&slot, &delay);
    let before = delay.now();
    assert_eq!(mmci.write_blocks(1, &data(3, 1)), Err(Error::ProgrammingTimeout));
    let waited = delay.now() - before;
    let limit = u64::from(PROGRAMMING_TIMEOUT_US) * 1_000;
    assert!((limit..limit + 2_000_000).contains(&waited), "{waited} ns");
}

/// The data timer is 250 ms in card clocks (Physical Layer 4.6.2.2's
/// write timeout, the longest a card may take), at the transfer clock.
#[test]
fn the_data_timer_allows_250_ms_at_the_transfer_clock() {
    let (slot, delay) = slot(Some(Card::sdhc(4 * GIB)));
    let mut mmci = ready(&slot, &delay);
    mmci.read_blocks(0, &mut [[0; 512]]).unwrap();
    let clock = slot.borrow().clock_hz();
    assert!(clock > IDENTIFICATION_HZ, "{clock} Hz");
    assert_eq!(slot.borrow().data_timer(), clock / 4);
}

/// A command response whose CRC fails (an R1, R2 or R6: all but R3 carry
/// one) is `CommandCrc`: init stops there.
#[test]
fn a_response_that_fails_its_crc_is_an_error() {
    for index in [2u8, 3, 9] {
        let (slot, delay) = slot(None);
        *slot.borrow_mut() =
            Controller::new(&delay, MCLK, Some(Card::sdhc(4 * GIB))).with_crc_failure_of(index);
        let result = driver(&slot, &delay).init();
        assert_eq!(result, Err(Error::CommandCrc { command: index }), "CMD{index}");
        let log = commands(&slot);
        let last = log.last().map(|&(sent, _)| sent);
        assert_eq!(last, Some(u32::from(index)), "CMD{index} is the last: {log:x?}");
    }
}

/// Blocks past the card's end are refused before any register is touched.
#[test]
fn blocks_past_the_end_are_refused_before_any_bus_traffic() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB)));
    let mut mmci = ready(&slot, &delay);
    let accesses = slot.borrow().accesses;
    let mut blocks = [[0; 512]; 2];
    assert_eq!(mmci.read_blocks(2_047, &mut blocks), Err(Error::OutOfRange));
    assert_eq!(mmci.read_blocks(2_048, &mut blocks[..1]), Err(Error::OutOfRange));
    assert_eq!(mmci.read_blocks(u32::MAX, &mut blocks), Err(Error::OutOfRange));
    assert_eq!(mmci.write_blocks(2_047, &blocks), Err(Error::OutOfRange));
    assert_eq!(mmci.read_blocks(2_048, &mut []), Ok(()));
    assert_eq!(slot.borrow().accesses, accesses);
    assert!(commands(&slot).is_empty());
}

/// Each data error of the controller is its error; the card is brought
/// back to the transfer state (CMD12 where it was still sending or
/// receiving), so the next request works.
#[test]
fn data_errors_are_reported_and_the_card_recovers() {
    let cases = [
        (false, 1, DataFault::Crc, Error::DataCrc),
        (false, 0, DataFault::Timeout, Error::DataTimeout),
        (false, 2, DataFault::Overrun, Error::RxOverrun),
        (true, 1, DataFault::Underrun, Error::TxUnderrun),
        (true, 0, DataFault::Crc, Error::DataCrc),
        (true, 2, DataFault::Timeout, Error::DataTimeout),
    ];
    for (write, at, fault, error) in cases {
        let (slot, delay) = slot(Some(Card::sdsc(MIB)));
        let mut mmci = ready(&slot, &delay);
        slot.borrow_mut().inject(at, fault);
        let mut blocks = [[0; 512]; 3];
        let result = if write {
            mmci.write_blocks(10, &data(9, 3))
        } else {
            mmci.read_blocks(10, &mut blocks)
        };
        assert_eq!(result, Err(error), "{fault:?} at {at}");
        let log = commands(&slot);
        assert!(log.contains(&(12, 0)), "{fault:?}: {log:x?}");
        assert_eq!(state(&slot), CardState::Transfer, "{fault:?}");
        mmci.read_blocks(20, &mut blocks).unwrap();
        assert_eq!(blocks[..], blocks_from(20, 3)[..]);
    }
}

/// A fault at a transfer's very end, after its last word moved (a
/// written block's CRC status, or DataEnd that never comes): the error,
/// after the wait's bound for a stall, and the card is back in the
/// transfer state: a single-block write that fails there leaves the card
/// programming, which the driver waits out before the next request.
#[test]
fn a_fault_after_the_last_word_is_reported_and_the_card_recovers() {
    let cases = [
        (true, 1, DataFault::Crc, Error::DataCrc),
        (true, 2, DataFault::Crc, Error::DataCrc),
        (false, 2, DataFault::Stall, Error::DataTimeout),
        (true, 1, DataFault::Stall, Error::DataTimeout),
    ];
    for (write, count, fault, error) in cases {
        let (slot, delay) = slot(Some(Card::sdsc(MIB).programming_for(3)));
        let mut mmci = ready(&slot, &delay);
        slot.borrow_mut().inject(count, fault);
        let before = delay.now();
        let result = if write {
            mmci.write_blocks(10, &data(9, count as usize))
        } else {
            mmci.read_blocks(10, &mut vec![[0; 512]; count as usize])
        };
        assert_eq!(result, Err(error), "{fault:?} after {count}");
        if fault == DataFault::Stall {
            let waited = delay.now() - before;
            let limit = u64::from(DATA_TIMEOUT_US) * 1_000;
            assert!(waited >= limit, "{fault:?}: the wait gave up after {waited} ns");
        }
        assert_eq!(state(&slot), CardState::Transfer, "{fault:?} after {count}");
        let mut blocks = [[0; 512]; 2];
        mmci.read_blocks(20, &mut blocks).unwrap();
        assert_eq!(blocks[..], blocks_from(20, 2)[..]);
    }
}

/// A single-block read that fails leaves the card sending: CMD12 brings
/// it back.
#[test]
fn a_failed_single_block_read_stops_the_card() {
    let (slot, delay) = slot(Some(Card::sdhc(4 * GIB)));
    let mut mmci = ready(&slot, &delay);
    slot.borrow_mut().inject(0, DataFault::Crc);
    assert_eq!(mmci.read_blocks(1, &mut [[0; 512]]), Err(Error::DataCrc));
    assert_eq!(
        commands(&slot),
        [(17, 1), (13, u32::from(RCA) << 16), (12, 0), (13, u32::from(RCA) << 16)]
    );
    assert_eq!(state(&slot), CardState::Transfer);
}

/// A data path that stops moving and raises nothing: the driver's own
/// bound ends the wait with `DataTimeout`, reads and writes alike.
#[test]
fn a_stalled_data_path_is_a_timeout_not_a_hang() {
    for write in [false, true] {
        let (slot, delay) = slot(Some(Card::sdsc(MIB)));
        let mut mmci = ready(&slot, &delay);
        slot.borrow_mut().inject(1, DataFault::Stall);
        let before = delay.now();
        let result = if write {
            mmci.write_blocks(0, &data(1, 2))
        } else {
            mmci.read_blocks(0, &mut [[0; 512]; 2])
        };
        assert_eq!(result, Err(Error::DataTimeout));
        let waited = delay.now() - before;
        let limit = u64::from(DATA_TIMEOUT_US) * 1_000;
        assert!((limit..limit + 2_000_000).contains(&waited), "{waited} ns");
        assert_eq!(state(&slot), CardState::Transfer);
    }
}

/// An error bit in a command's R1 is `Card` with the whole status; a write
/// the card refused sends no data, and the card is stopped.
#[test]
fn card_status_errors_are_reported() {
    let (slot, delay) = slot(Some(Card::sdsc(MIB)));
    let mut mmci = ready(&slot, &delay);
    slot.borrow_mut().card.as_mut().unwrap().report(1 << 26); // WP_VIOLATION
    let result = mmci.write_blocks(4, &data(7, 1));
    let Err(Error::Card(status)) = result else { panic!("{result:?}") };
    assert_eq!(status & (1 << 26), 1 << 26);
    assert_eq!(slot.borrow().card().block(4), pattern(4));
    assert_eq!(state(&slot), CardState::Transfer);
}

/// The BlockDevice: its size, writes and reads of embedded-sdmmc's blocks,
/// and its errors (which say what they are).
#[test]
fn the_block_device_reads_and_writes_blocks() {
    let (slot, delay) = slot(Some(Card::sdhc(4 * GIB)));
    let sd = SdCard::new(driver(&slot, &delay));
    assert_eq!(sd.num_blocks().unwrap_err(), Error::NotInitialised);
    assert_eq!(sd.read(&mut [Block::new()], BlockIdx(0)), Err(Error::NotInitialised));
    sd.init().unwrap();
    assert_eq!(sd.num_blocks().unwrap(), BlockCount(8_388_608));
    let mut written = [Block::new(), Block::new()];
    written[0].contents = data(1, 1)[0];
    written[1].contents = data(2, 1)[0];
    sd.write(&written, BlockIdx(42)).unwrap();
    let mut read = [Block::new(), Block::new(), Block::new()];
    sd.read(&mut read, BlockIdx(41)).unwrap();
    assert_eq!(read[0].contents, pattern(41));
    assert_eq!((read[1].contents, read[2].contents), (written[0].contents, written[1].contents));
    let error = sd.read(&mut read, BlockIdx(8_388_607)).unwrap_err();
    assert_eq!(error, Error::OutOfRange);
    let error: &dyn core::error::Error = &error;
    assert_eq!(error.to_string(), "SD: blocks past the end of the card");
    assert_eq!(sd.card().map(|card| card.kind), Some(CardKind::Sdhc));
    assert!(sd.driver().card().is_some());
}

/// Each error says what happened.
#[test]
fn errors_explain_themselves() {
    let cases = [
        (Error::NoCard, "SD: no card"),
        (Error::CommandTimeout { command: 8 }, "SD: no response to CMD8"),
        (Error::CommandCrc { command: 2 }, "SD: CRC error in the response to CMD2"),
        (Error::DataTimeout, "SD: data timeout"),
        (Error::DataCrc, "SD: data CRC error"),
        (Error::RxOverrun, "SD: receive FIFO overrun"),
        (Error::TxUnderrun, "SD: transmit FIFO underrun"),
        (Error::Unsupported, "SD: not a supported SD memory card"),
        (Error::OutOfRange, "SD: blocks past the end of the card"),
        (Error::WriteProtected, "SD: the card is write-protected"),
        (Error::NotInitialised, "SD: no card initialised"),
        (Error::CardChanged, "SD: the card was taken out or replaced"),
        (Error::Card(0x0400_0900), "SD: the card reported an error, status 0x04000900"),
        (Error::PowerUpTimeout, "SD: the card did not finish powering up"),
        (Error::ProgrammingTimeout, "SD: the card did not finish programming"),
        (Error::ClockUnreachable, "SD: MCLK cannot be divided down to 400 kHz"),
        (Error::UnknownController(0x111), "SD: not a PL180/PL181 (part number 0x111)"),
    ];
    for (error, message) in cases {
        assert_eq!(error.to_string(), message);
    }
}

/// `release` gives back what the driver was given.
#[test]
fn release_gives_back_the_registers_and_the_delay() {
    let (slot, delay) = slot(None);
    let (registers, given) = driver(&slot, &delay).release();
    assert!(core::ptr::eq(registers, &slot));
    assert_eq!(given.now(), delay.now());
}
