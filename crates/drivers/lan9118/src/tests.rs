//! Host tests: bring-up, frames in and out, drops, interrupts, on a model.

use std::vec::Vec;

use core::cell::RefCell;
use ferrode_hal::EthernetDevice;

use ferrode_hal::RegisterAccess;
use ferrode_hal::mmio::RamBlock;

use crate::model::{self, ModelNic};
use crate::{
    Config, Error, Interrupts, Lan9118, LinkMode, Mmio, Operation, ReceiveStatus, Register, Regs,
    resolve_link, timeouts, transmit_commands,
};

/// A delay that only counts: the virtual time the driver spent waiting.
use ferrode_hal::testing::VirtualDelay as FakeDelay;

type Nic = Lan9118<RefCell<ModelNic>, FakeDelay>;

fn bring_up(model: ModelNic, config: &Config) -> Result<Nic, Error> {
    Lan9118::new(RefCell::new(model), FakeDelay::default(), config)
}

const STATION: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x20, 0x30];
const QEMU_WIRING: Config =
    Config { mac_address: Some(STATION), irq_active_high: true, promiscuous: false };

fn started() -> Nic {
    bring_up(ModelNic::new(), &QEMU_WIRING).unwrap()
}

fn frame(length: usize) -> Vec<u8> {
    (0..length).map(|i| (i * 7 + 3) as u8).collect()
}

#[test]
fn command_words_and_status_words_decode_as_in_the_datasheet() {
    assert_eq!(transmit_commands(42, 7), (0x3000 | 42, (7 << 16) | 42));
    assert_eq!(transmit_commands(1514, 0xffff), (0x3000 | 1514, 0xffff_0000 | 1514));
    let good = ReceiveStatus(46 << 16);
    assert_eq!((good.packet_length(), good.frame_length(), good.has_error()), (46, 42, false));
    assert!(ReceiveStatus((64 << 16) | (1 << 15) | (1 << 1)).has_error());
    assert!(ReceiveStatus(1 << 11).is_runt());
    assert!(ReceiveStatus(1 << 30).failed_filter());
}

#[test]
fn a_missing_chip_is_reported_not_driven() {
    let mut model = ModelNic::new();
    model.byte_test = 0xffff_ffff;
    assert_eq!(
        bring_up(model, &QEMU_WIRING).err(),
        Some(Error::NotDetected { byte_test: 0xffff_ffff })
    );
}

#[test]
fn bring_up_resets_and_starts_mac_with_the_configured_address() {
    let nic = started();
    assert_eq!(nic.mac_address(), STATION);
    let model = nic.release().into_inner();
    assert_eq!(model.resets, 1);
    assert_eq!(model.mac_address, STATION, "station address not programmed into ADDRL/ADDRH");
    assert_eq!(
        model.mac_cr,
        (1 << 2) | (1 << 3) | (1 << 20),
        "RXEN, TXEN, FDPX (the partner is full duplex); not promiscuous"
    );
    assert_eq!(model.tx_cfg, 1 << 1, "TX_ON");
    assert_eq!(model.irq_cfg, 0x111, "IRQ_EN, active high, push-pull");
    assert_eq!(model.phy_control & (1 << 12), 1 << 12, "auto-negotiation enabled");
}

#[test]
fn without_a_configured_address_the_eeprom_one_is_kept() {
    let config = Config { mac_address: None, ..QEMU_WIRING };
    let nic = bring_up(ModelNic::new(), &config).unwrap();
    assert_eq!(nic.mac_address(), [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
}

/// Frame memory on a word boundary, with room for a frame one byte past it.
#[repr(C, align(4))]
struct Aligned([u8; 1518]);

/// Where a test puts a frame: a word boundary (the drivers move whole
/// words) and one byte past it (byte by byte).
const OFFSETS: [usize; 2] = [0, 1];

#[test]
fn transmitted_frames_arrive_byte_exact() {
    let mut nic = started();
    // Every length modulo four: whole words, then 1 to 3 bytes padded.
    let lengths = [14, 42, 61, 63, 64, 1513, 1514];
    let mut sent = Vec::new();
    for length in lengths {
        for offset in OFFSETS {
            let mut memory = Aligned([0; 1518]);
            memory.0[offset..offset + length].copy_from_slice(&frame(length));
            nic.transmit(&memory.0[offset..offset + length]).unwrap();
            sent.push(frame(length));
        }
    }
    assert_eq!(nic.counters().tx_frames, sent.len() as u32);
    let model = nic.release().into_inner();
    assert_eq!(model.transmitted, sent);
}

#[test]
fn bad_lengths_and_a_full_fifo_are_refused() {
    let mut nic = started();
    assert_eq!(nic.transmit(&frame(13)), Err(Error::InvalidFrameLength(13)));
    assert_eq!(nic.transmit(&frame(1515)), Err(Error::InvalidFrameLength(1515)));
    assert_eq!(nic.counters().tx_errors, 2, "both lost frames are counted");
    let mut model = nic.release().into_inner();
    model.tx_free_bytes = 64;
    let mut nic = bring_up(model, &QEMU_WIRING).unwrap();
    assert!(!nic.can_transmit());
    assert_eq!(nic.transmit(&frame(60)), Err(Error::TransmitFifoFull));
    assert!(nic.release().into_inner().transmitted.is_empty());
}

#[test]
fn failed_transmissions_are_counted() {
    let mut nic = started();
    let mut model = nic.release().into_inner();
    model.fail_next_transmit = true;
    nic = bring_up(model, &QEMU_WIRING).unwrap();
    nic.transmit(&frame(60)).unwrap();
    nic.transmit(&frame(60)).unwrap();
    assert_eq!(nic.receive(&mut [0; 1514]), Ok(None));
    assert_eq!(nic.counters().tx_errors, 1);
}

#[test]
fn received_frame_is_returned_without_its_fcs() {
    let mut nic = started();
    nic.registers_mut().get_mut().deliver(&frame(42), 0);
    let mut buffer = [0; 1514];
    assert_eq!(nic.receive(&mut buffer), Ok(Some(42)));
    assert_eq!(buffer[..42], frame(42)[..]);
    assert_eq!(buffer[42], 0, "FCS bytes leaked into the frame");
    assert_eq!(nic.receive(&mut buffer), Ok(None));
    let model = nic.release().into_inner();
    assert!(model.rx_data.is_empty() && !model.rx_underflow, "RX data FIFO out of step");
}

#[test]
fn frames_of_every_length_modulo_four_come_whole_and_keep_the_fifo_in_step() {
    let mut nic = started();
    let lengths = [60, 61, 62, 63, 64, 1513, 1514];
    for _ in OFFSETS {
        for length in lengths {
            nic.registers_mut().get_mut().deliver(&frame(length), 0);
        }
    }
    for offset in OFFSETS {
        for length in lengths {
            let mut memory = Aligned([0xee; 1518]);
            let buffer = &mut memory.0[offset..offset + 1514];
            assert_eq!(nic.receive(buffer), Ok(Some(length)));
            assert_eq!(buffer[..length], frame(length)[..], "{length} bytes at {offset}");
            let (before, after) = (&memory.0[..offset], &memory.0[offset + length..]);
            assert!(before.iter().chain(after).all(|&byte| byte == 0xee), "wrote outside");
        }
    }
    assert_eq!(nic.receive(&mut [0; 1514]), Ok(None));
    let model = nic.release().into_inner();
    assert!(model.rx_data.is_empty() && !model.rx_underflow, "RX data FIFO out of step");
}

#[test]
fn bad_frames_are_dropped_counted_and_skipped_exactly() {
    let mut nic = started();
    let model = nic.registers_mut().get_mut();
    model.deliver(&frame(60), (1 << 15) | (1 << 1));
    model.deliver(&frame(20), 1 << 11);
    model.deliver(&frame(10), 0);
    model.deliver(&frame(201), 0);
    model.deliver(&frame(99), 0);
    model.rx_drop = 2;
    let mut buffer = [0; 100];
    assert_eq!(nic.receive(&mut buffer), Ok(Some(99)));
    assert_eq!(buffer[..99], frame(99)[..]);
    let counters = nic.counters();
    assert_eq!((counters.rx_errors, counters.rx_runt, counters.rx_oversized), (1, 2, 1));
    assert_eq!((counters.rx_overruns, counters.rx_frames, counters.rx_dropped()), (2, 1, 6));
    let model = nic.release().into_inner();
    assert!(
        model.rx_data.is_empty() && !model.rx_underflow,
        "discarding read the wrong number of words"
    );
}

#[test]
fn link_state_is_what_the_phy_last_reported_without_a_phy_access() {
    let mut nic = started();
    nic.set_interrupt_mask(Interrupts::PHY);
    let _ = nic.take_interrupts();
    let accesses = nic.registers_mut().get_mut().phy_accesses;
    assert!(nic.link_up());
    // The cable goes: until the PHY's interrupt is served the driver
    // reports what it knew, and asking costs no PHY access.
    nic.registers_mut().get_mut().set_link(false);
    for _ in 0..100 {
        assert!(nic.link_up());
    }
    assert_eq!(nic.registers_mut().get_mut().phy_accesses, accesses);
    assert!(nic.take_interrupts().contains_any(Interrupts::PHY));
    assert!(!nic.link_up());
    // And back: auto-negotiation completes, the interrupt says so.
    nic.registers_mut().get_mut().set_link(true);
    nic.registers_mut().get_mut().autonegotiation_complete = true;
    assert!(nic.take_interrupts().contains_any(Interrupts::PHY));
    assert!(nic.link_up());
}

#[test]
fn interrupt_entry_reports_and_clears_only_enabled_sources() {
    let mut nic = started();
    nic.set_interrupt_mask(Interrupts::RECEIVE);
    nic.registers_mut().get_mut().deliver(&frame(42), 0);
    nic.registers_mut().get_mut().int_sts |= Interrupts::TRANSMIT_DONE.0;
    assert_eq!(nic.take_interrupts(), Interrupts::RECEIVE);
    // RSFL is a level: it stands while the frame waits.
    assert_eq!(nic.take_interrupts(), Interrupts::RECEIVE);
    let mut buffer = [0; ferrode_hal::MAX_FRAME_LEN];
    assert_eq!(nic.receive(&mut buffer), Ok(Some(42)));
    assert_eq!(nic.take_interrupts(), Interrupts::NONE);
    // PHY (auto-negotiation done) and TDFA (the empty TX FIFO has room)
    // are pending as well, and disabled.
    let levels = Interrupts::PHY.union(Interrupts::TRANSMIT_READY);
    assert_eq!(
        nic.release().into_inner().int_sts & !levels.0,
        Interrupts::TRANSMIT_DONE.0,
        "disabled source must stay pending"
    );
}

#[test]
fn bring_up_waits_for_the_eeprom_load_before_reading_the_mac_address() {
    // After a soft reset the EEPROM controller reloads the station address
    // (E2P_CMD.EPC_BUSY); ADDRL/ADDRH read all ones until it is done.
    let mut model = ModelNic::new();
    model.eeprom_load_polls = 20;
    model.eeprom_mac_address = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    let config = Config { mac_address: None, ..QEMU_WIRING };
    let nic = bring_up(model, &config).unwrap();
    assert_eq!(nic.mac_address(), [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
}

#[test]
fn bring_up_writes_hw_cfg_with_its_must_be_one_bit() {
    let model = started().release().into_inner();
    assert_eq!(model.hw_cfg & (1 << 20), 1 << 20, "HW_CFG bit 20 (MBO)");
    assert_eq!(model.hw_cfg & (0xf << 16), 5 << 16, "TX_FIF_SZ kept at 5");
}

#[test]
fn a_soft_reset_flushes_what_the_fifos_held_before() {
    let mut model = ModelNic::new();
    model.mac_cr |= model::MAC_CR_RXEN;
    model.deliver(&frame(60), 0);
    let mut nic = bring_up(model, &QEMU_WIRING).unwrap();
    assert_eq!(nic.receive(&mut [0; 1514]), Ok(None));
}

#[test]
fn bring_up_resets_the_phy_advertises_pause_and_awaits_autonegotiation() {
    let nic = started();
    assert_eq!(nic.link_mode(), Some(LinkMode { full_duplex: true, pause: true }));
    let model = nic.release().into_inner();
    assert_eq!(model.phy_resets, 1, "PHY reset through BCR");
    assert_eq!(
        model.phy_advertisement, 0x05e1,
        "10/100 half and full duplex, symmetric PAUSE, IEEE 802.3"
    );
    assert!(model.autonegotiation_complete);
    assert_eq!(model.phy_interrupt_mask, model::PHY_INT_AUTONEGOTIATION | model::PHY_INT_LINK_DOWN);
}

#[test]
fn the_mac_takes_duplex_and_flow_control_from_the_negotiation() {
    // A half-duplex partner (a hub): MAC_CR.FDPX must be clear, no PAUSE,
    // back pressure instead.
    let mut model = ModelNic::new();
    model.partner_ability = 0x00a1;
    let nic = bring_up(model, &QEMU_WIRING).unwrap();
    let model = nic.release().into_inner();
    assert_eq!(model.mac_cr & (1 << 20), 0, "FDPX against a half-duplex partner");
    assert_eq!(model.flow, 0);
    assert_eq!(model.afc_cfg & 0xf, 0xf, "back pressure on any frame");
    // A full-duplex partner with PAUSE: FDPX, FLOW.FCEN with the longest
    // pause time, AFC levels.
    let model = started().release().into_inner();
    assert_eq!(model.mac_cr & (1 << 20), 1 << 20);
    assert_eq!(model.flow, 0xffff_0002);
    assert_eq!(model.afc_cfg, 0x006e_374f);
}

#[test]
fn negotiation_resolves_the_best_common_mode() {
    let ours = 0x05e1;
    let table = [
        (0x05e1, true, true),
        (0x01e1, true, false),
        (0x00a1, false, false),
        (0x0461, true, true),
        (0x0021, false, false),
        (0x0000, false, false),
    ];
    for (partner, full_duplex, pause) in table {
        assert_eq!(
            resolve_link(ours, partner),
            LinkMode { full_duplex, pause },
            "partner {partner:#06x}"
        );
    }
}

#[test]
fn a_link_change_interrupt_is_acknowledged_at_the_phy_and_updates_the_mac() {
    let mut nic = started();
    nic.set_interrupt_mask(Interrupts::PHY);
    let _ = nic.take_interrupts();
    nic.registers_mut().get_mut().set_link(false);
    assert!(nic.take_interrupts().contains_any(Interrupts::PHY));
    assert_eq!(nic.link_mode(), None);
    assert_eq!(nic.registers_mut().get_mut().mac_cr & (1 << 20), 0);
    assert_eq!(
        nic.take_interrupts(),
        Interrupts::NONE,
        "PHY source not cleared: the line would storm"
    );
}

#[test]
fn a_mac_csr_access_that_never_completes_times_out_in_bounded_time() {
    let mut model = ModelNic::new();
    model.csr_busy_polls = u32::MAX;
    let delay = FakeDelay::default();
    let result = Lan9118::new(RefCell::new(model), delay.clone(), &QEMU_WIRING);
    assert_eq!(result.err(), Some(Error::Timeout(Operation::MacCsr)));
    assert!(
        (delay.now() / 1000) <= u64::from(timeouts::MAC_CSR_US) + 10,
        "waited {} us",
        (delay.now() / 1000)
    );
}

#[test]
fn a_phy_access_that_never_completes_times_out_within_one_budget() {
    // The MII busy bit is read through MAC CSR accesses that each wait
    // too: the whole access shares one time bound.
    let mut model = ModelNic::new();
    model.mii_busy_polls = u32::MAX;
    model.csr_busy_polls = 3;
    let delay = FakeDelay::default();
    let result = Lan9118::new(RefCell::new(model), delay.clone(), &QEMU_WIRING);
    assert_eq!(result.err(), Some(Error::Timeout(Operation::PhyAccess)));
    assert!(
        (delay.now() / 1000) <= u64::from(timeouts::PHY_ACCESS_US) + 20,
        "waited {} us",
        (delay.now() / 1000)
    );
}

#[test]
fn a_reset_that_never_finishes_times_out_after_its_bound() {
    let mut model = ModelNic::new();
    model.eeprom_load_polls = u32::MAX;
    let delay = FakeDelay::default();
    let result = Lan9118::new(RefCell::new(model), delay.clone(), &QEMU_WIRING);
    assert_eq!(result.err(), Some(Error::Timeout(Operation::EepromLoad)));
    // The soft reset's own few microseconds, then the EEPROM's bound.
    let bound = u64::from(timeouts::EEPROM_LOAD_US);
    assert!((bound..bound + 10).contains(&(delay.now() / 1000)));
}

#[test]
fn without_a_partner_bring_up_goes_on_after_the_autonegotiation_bound() {
    let mut model = ModelNic::new();
    model.link_up = false;
    let delay = FakeDelay::default();
    let mut nic = Lan9118::new(RefCell::new(model), delay.clone(), &QEMU_WIRING).unwrap();
    let bound = u64::from(timeouts::AUTONEGOTIATION_US);
    assert!(
        (bound..bound + bound / 20).contains(&(delay.now() / 1000)),
        "waited {} us",
        (delay.now() / 1000)
    );
    assert_eq!(nic.link_mode(), None);
    assert!(!nic.link_up());
    nic.set_interrupt_mask(Interrupts::PHY);
    nic.registers_mut().get_mut().set_link(true);
    let _ = RegisterAccess::read(nic.registers_mut(), Register::IntSts);
    // The partner arrives: auto-negotiation completes, the PHY interrupt
    // brings the MAC to full duplex.
    nic.registers_mut().get_mut().autonegotiation_complete = true;
    assert!(nic.take_interrupts().contains_any(Interrupts::PHY));
    assert_eq!(nic.registers_mut().get_mut().mac_cr & (1 << 20), 1 << 20);
}

#[test]
fn a_receiver_error_dumps_the_rx_fifo_and_reception_goes_on() {
    let mut nic = started();
    nic.set_interrupt_mask(Interrupts::RECEIVE.union(Interrupts::ERRORS));
    nic.registers_mut().get_mut().deliver(&frame(42), 0);
    nic.registers_mut().get_mut().corrupt_receive_fifo();
    let pending = nic.take_interrupts();
    assert!(pending.contains_any(Interrupts::RECEIVE_ERROR));
    assert_eq!(nic.counters().rx_errors, 1);
    assert_eq!(nic.registers_mut().get_mut().rx_dumps, 1);
    assert_eq!(nic.receive(&mut [0; 1514]), Ok(None), "stale words dumped");
    nic.registers_mut().get_mut().deliver(&frame(60), 0);
    let mut buffer = [0; 1514];
    assert_eq!(nic.receive(&mut buffer), Ok(Some(60)));
    assert_eq!(buffer[..60], frame(60)[..]);
    assert!(!nic.take_interrupts().contains_any(Interrupts::ERRORS));
}

#[test]
fn a_transmitter_error_dumps_the_tx_fifo_and_transmission_goes_on() {
    let mut nic = started();
    nic.set_interrupt_mask(Interrupts::ERRORS);
    nic.registers_mut().get_mut().int_sts |= model::INT_TXE;
    assert!(nic.take_interrupts().contains_any(Interrupts::TRANSMIT_ERROR));
    assert_eq!(nic.counters().tx_errors, 1);
    assert_eq!(nic.registers_mut().get_mut().tx_dumps, 1);
    nic.transmit(&frame(60)).unwrap();
    let model = nic.release().into_inner();
    assert_eq!(model.transmitted, [frame(60)]);
    assert_eq!(model.sent_while_off, 0);
}

#[test]
fn the_tx_data_available_level_rounds_up_to_whole_64_byte_blocks() {
    for (bytes, level) in [(1, 1), (64, 1), (65, 2), (1524, 24), (4608, 0x48)] {
        assert_eq!(crate::nic::transmit_available_level(bytes), level, "{bytes} bytes");
    }
}

#[test]
fn bring_up_sets_the_tx_data_available_level_to_a_maximal_frame() {
    let model = started().release().into_inner();
    // 1514 bytes in words and two command words are 1524 bytes: 24 blocks
    // (1536 bytes). The status levels keep their reset value, 0.
    assert_eq!(model.fifo_int, 24 << 24);
}

/// The sources the platform enables (RealView PBX-A9).
const PLATFORM_SOURCES: Interrupts =
    Interrupts::RECEIVE.union(Interrupts::ERRORS).union(Interrupts::PHY);

/// A started chip with the platform's sources enabled and `free` bytes
/// free in its TX data FIFO.
fn with_transmit_space(free: u32) -> Nic {
    let mut nic = started();
    nic.set_interrupt_mask(PLATFORM_SOURCES);
    // Auto-negotiation's PHY interrupt.
    assert_eq!(nic.take_interrupts(), Interrupts::PHY);
    nic.registers_mut().get_mut().tx_free_bytes = free;
    nic
}

#[test]
fn arming_enables_tdfa_beside_the_sources_already_enabled() {
    let mut nic = with_transmit_space(1000);
    assert!(!nic.can_transmit());
    assert!(nic.interrupt_when_transmit_ready());
    let model = nic.registers_mut().get_mut();
    assert_eq!(model.int_en, PLATFORM_SOURCES.union(Interrupts::TRANSMIT_READY).0);
    // INT_STS latched TDFA while the FIFO was empty, at bring-up: arming
    // clears that, so no room now means no interrupt.
    assert!(!model.irq_asserted(), "no room yet, no interrupt");
}

#[test]
fn tdfa_is_raised_only_once_a_maximal_frame_fits() {
    let mut nic = with_transmit_space(1000);
    assert!(nic.interrupt_when_transmit_ready());
    // TDFA is raised above 24 blocks (1536 bytes), never with less room
    // than a 1514-byte frame and its command words need (1524 bytes): 1500
    // bytes are more than 23 blocks, and not enough.
    for (free, fits, raised) in [
        (1500, false, false),
        (1524, true, false),
        (1536, true, false),
        (1540, true, true),
        (4608, true, true),
    ] {
        nic.registers_mut().get_mut().tx_free_bytes = free;
        assert_eq!(nic.can_transmit(), fits, "{free} bytes free");
        assert_eq!(nic.registers_mut().get_mut().irq_asserted(), raised, "{free} bytes free");
    }
}

#[test]
fn a_pending_tdfa_is_taken_and_disarmed() {
    let mut nic = with_transmit_space(1000);
    assert!(nic.interrupt_when_transmit_ready());
    nic.registers_mut().get_mut().tx_free_bytes = 4608;
    assert!(nic.registers_mut().get_mut().irq_asserted());
    assert_eq!(nic.take_interrupts(), Interrupts::TRANSMIT_READY);
    let model = nic.registers_mut().get_mut();
    assert_eq!(model.int_en, PLATFORM_SOURCES.0, "TDFA disarmed, the rest kept");
    // The level stands in INT_STS again; masked, it raises nothing.
    assert!(!model.irq_asserted(), "a room that stays must not storm");
    assert_eq!(nic.take_interrupts(), Interrupts::NONE);
}

#[test]
fn a_masked_receive_interrupt_stops_a_standing_level_from_storming() {
    let mut nic = with_transmit_space(4608);
    for length in [60, 61] {
        nic.registers_mut().get_mut().deliver(&frame(length), 0);
    }
    // Frames wait (the caller has nowhere to put them): RSFL stands, and
    // every clear is followed by the next interrupt.
    for _ in 0..3 {
        assert!(nic.registers_mut().get_mut().irq_asserted());
        assert_eq!(nic.take_interrupts(), Interrupts::RECEIVE);
    }
    nic.set_receive_interrupt(false);
    let model = nic.registers_mut().get_mut();
    assert_eq!(model.int_en, PLATFORM_SOURCES.0 & !Interrupts::RECEIVE.0, "only RSFL masked");
    assert!(!model.irq_asserted(), "masked, the waiting frames raise nothing");
    assert_eq!(nic.take_interrupts(), Interrupts::NONE);
    // Room again: unmasked, the frames that waited interrupt at once, and
    // they are all still there.
    nic.set_receive_interrupt(true);
    assert_eq!(nic.registers_mut().get_mut().int_en, PLATFORM_SOURCES.0);
    assert!(nic.registers_mut().get_mut().irq_asserted());
    let mut buffer = [0; ferrode_hal::MAX_FRAME_LEN];
    assert_eq!(nic.receive(&mut buffer), Ok(Some(60)));
    assert_eq!(nic.receive(&mut buffer), Ok(Some(61)));
    assert_eq!(nic.take_interrupts(), Interrupts::RECEIVE);
    assert_eq!(nic.take_interrupts(), Interrupts::NONE);
}

#[test]
fn arming_with_room_already_free_interrupts_at_once() {
    let mut nic = with_transmit_space(4608);
    assert!(nic.can_transmit());
    assert!(nic.interrupt_when_transmit_ready());
    assert!(nic.registers_mut().get_mut().irq_asserted());
    assert_eq!(nic.take_interrupts(), Interrupts::TRANSMIT_READY);
    assert!(!nic.registers_mut().get_mut().irq_asserted());
}

#[test]
fn memory_mapped_access_hits_the_data_sheet_offsets() {
    let block = RamBlock::new(std::boxed::Box::leak(std::boxed::Box::new([0; 1024])));
    let regs = Mmio::new(block.view::<Regs>());
    let table = [
        (Register::TxDataFifo, 0x20),
        (Register::IrqCfg, 0x54),
        (Register::IntSts, 0x58),
        (Register::IntEn, 0x5c),
        (Register::FifoInt, 0x68),
        (Register::TxCfg, 0x70),
        (Register::HwCfg, 0x74),
        (Register::PmtCtrl, 0x84),
        (Register::MacCsrCmd, 0xa4),
        (Register::MacCsrData, 0xa8),
    ];
    block.check_writes(&regs, &table);
    let readable = [
        (Register::RxDataFifo, 0x00),
        (Register::RxStatusFifo, 0x40),
        (Register::TxStatusFifo, 0x48),
        (Register::IdRev, 0x50),
        (Register::ByteTest, 0x64),
        (Register::RxFifoInf, 0x7c),
        (Register::TxFifoInf, 0x80),
        (Register::RxDrop, 0xa0),
    ];
    block.check_reads(&regs, &readable);
}

#[test]
fn a_promiscuous_config_sets_mac_cr_prms() {
    let config = Config { promiscuous: true, ..QEMU_WIRING };
    let model = bring_up(ModelNic::new(), &config).unwrap().release().into_inner();
    assert_eq!(model.mac_cr, (1 << 2) | (1 << 3) | (1 << 18) | (1 << 20), "RXEN, TXEN, PRMS, FDPX");
}

#[test]
fn errors_say_what_went_wrong() {
    use std::string::ToString;
    let table = [
        (
            Error::NotDetected { byte_test: 0xffff_ffff },
            "no LAN9118 found (BYTE_TEST read 0xffffffff)",
        ),
        (Error::Timeout(Operation::SoftReset), "LAN9118 did not complete SoftReset in time"),
        (Error::InvalidFrameLength(13), "cannot send a 13-byte Ethernet frame"),
        (Error::TransmitFifoFull, "LAN9118 transmit FIFO full"),
    ];
    for (error, text) in table {
        assert_eq!(error.to_string(), text);
    }
}

/// Catches `|` turned into `^` where `apply_link` sets MAC_CR.FDPX: a
/// second full-duplex report would toggle the bit off again.
#[test]
fn a_phy_interrupt_that_reports_the_same_full_duplex_link_keeps_fdpx() {
    let mut nic = started();
    nic.set_interrupt_mask(Interrupts::PHY);
    // Auto-negotiation's PHY interrupt from bring-up, then a second report
    // of the same link.
    for report in 0..2 {
        assert_eq!(nic.take_interrupts(), Interrupts::PHY, "report {report}");
        assert_eq!(nic.link_mode(), Some(LinkMode { full_duplex: true, pause: true }));
        assert_eq!(nic.registers_mut().get_mut().mac_cr & (1 << 20), 1 << 20, "report {report}");
        nic.registers_mut().get_mut().set_link(true);
    }
}

/// Catches `transmit_failed` inverted: every good transmission would be
/// counted as an error and the failed one not.
#[test]
fn good_transmissions_are_not_counted_as_errors() {
    let mut nic = started();
    nic.transmit(&frame(60)).unwrap();
    nic.transmit(&frame(60)).unwrap();
    assert_eq!(nic.receive(&mut [0; 1514]), Ok(None), "reaps both statuses");
    assert_eq!(nic.counters().tx_errors, 0);
    assert_eq!(nic.counters().tx_frames, 2);
}

#[test]
fn room_to_transmit_means_room_for_a_maximal_frame_and_its_commands() {
    // 1514 bytes in whole words (1516) and two command words: 1524 bytes.
    assert!(!with_transmit_space(1523).can_transmit());
    assert!(with_transmit_space(1524).can_transmit());
}

#[test]
fn interrupt_sources_are_int_sts_bits_and_union_is_a_set_union() {
    // Data sheet 5.3.5: RSFL 3, TSFL 7, TDFA 9, TXE 13, RXE 14, PHY_INT 18.
    let table = [
        (Interrupts::RECEIVE, 3),
        (Interrupts::TRANSMIT_DONE, 7),
        (Interrupts::TRANSMIT_READY, 9),
        (Interrupts::TRANSMIT_ERROR, 13),
        (Interrupts::RECEIVE_ERROR, 14),
        (Interrupts::PHY, 18),
    ];
    for (source, bit) in table {
        assert_eq!(source, Interrupts(1 << bit), "bit {bit}");
    }
    assert_eq!(Interrupts::ERRORS, Interrupts((1 << 13) | (1 << 14)));
    assert_eq!(Interrupts::ERRORS.union(Interrupts::TRANSMIT_ERROR), Interrupts::ERRORS);
    assert_eq!(Interrupts::PHY.union(Interrupts::NONE), Interrupts::PHY);
}

#[test]
fn a_frame_that_just_fits_the_tx_data_fifo_is_sent() {
    let mut nic = started();
    // 60 bytes and the two command words: 68 bytes.
    nic.registers_mut().get_mut().tx_free_bytes = 67;
    assert_eq!(nic.transmit(&frame(60)), Err(Error::TransmitFifoFull));
    nic.registers_mut().get_mut().tx_free_bytes = 68;
    assert_eq!(nic.transmit(&frame(60)), Ok(()));
    assert_eq!(nic.release().into_inner().transmitted, [frame(60)]);
}

#[test]
fn a_received_frame_of_just_an_ethernet_header_is_passed_up() {
    let mut nic = started();
    let model = nic.registers_mut().get_mut();
    model.deliver(&frame(13), 0);
    model.deliver(&frame(14), 0);
    let mut buffer = [0; 1514];
    assert_eq!(nic.receive(&mut buffer), Ok(Some(14)));
    assert_eq!(buffer[..14], frame(14)[..]);
    assert_eq!((nic.counters().rx_runt, nic.counters().rx_frames), (1, 1), "13 bytes are a runt");
}
