//! Host tests: bring-up, frames in and out, drops, interrupts, on a model.

use core::ptr::NonNull;
use std::vec::Vec;

use ferrode_hal::EthernetDevice;
use volatile::VolatilePtr;

use crate::model::ModelNic;
use crate::{
    Config, Error, Interrupts, Lan9118, ReceiveStatus, Register, Registers, Regs, transmit_commands,
};

const STATION: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x20, 0x30];
const QEMU_WIRING: Config = Config {
    mac_address: Some(STATION),
    irq_active_high: true,
    promiscuous: false,
    full_duplex: true,
};

fn started() -> Lan9118<ModelNic> {
    Lan9118::new(ModelNic::new(), &QEMU_WIRING).unwrap()
}

fn frame(length: usize) -> Vec<u8> {
    (0..length).map(|i| (i * 7 + 3) as u8).collect()
}

#[test]
fn command_words_and_status_words_decode_as_in_the_datasheet() {
    assert_eq!(transmit_commands(42, 7), (0x3000 | 42, (7 << 16) | 42));
    assert_eq!(
        transmit_commands(1514, 0xffff),
        (0x3000 | 1514, 0xffff_0000 | 1514)
    );
    let good = ReceiveStatus(46 << 16);
    assert_eq!(
        (good.packet_length(), good.frame_length(), good.has_error()),
        (46, 42, false)
    );
    assert!(ReceiveStatus((64 << 16) | (1 << 15) | (1 << 1)).has_error());
    assert!(ReceiveStatus(1 << 11).is_runt());
    assert!(ReceiveStatus(1 << 30).failed_filter());
}

#[test]
fn a_missing_chip_is_reported_not_driven() {
    let mut model = ModelNic::new();
    model.byte_test = 0xffff_ffff;
    assert_eq!(
        Lan9118::new(model, &QEMU_WIRING).err(),
        Some(Error::NotDetected {
            byte_test: 0xffff_ffff
        })
    );
}

#[test]
fn bring_up_resets_and_starts_mac_with_the_configured_address() {
    let nic = started();
    assert_eq!(nic.mac_address(), STATION);
    let model = nic.release();
    assert_eq!(model.resets, 1);
    assert_eq!(
        model.mac_address, STATION,
        "station address not programmed into ADDRL/ADDRH"
    );
    assert_eq!(
        model.mac_cr,
        (1 << 2) | (1 << 3) | (1 << 20),
        "RXEN, TXEN, FDPX; not promiscuous"
    );
    assert_eq!(model.tx_cfg, 1 << 1, "TX_ON");
    assert_eq!(model.irq_cfg, 0x111, "IRQ_EN, active high, push-pull");
    assert_eq!(
        model.phy_control & (1 << 12),
        1 << 12,
        "auto-negotiation enabled"
    );
}

#[test]
fn without_a_configured_address_the_eeprom_one_is_kept() {
    let config = Config {
        mac_address: None,
        ..QEMU_WIRING
    };
    let nic = Lan9118::new(ModelNic::new(), &config).unwrap();
    assert_eq!(nic.mac_address(), [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
}

#[test]
fn transmitted_frames_arrive_byte_exact() {
    let mut nic = started();
    for length in [14, 42, 61, 1514] {
        nic.transmit(&frame(length)).unwrap();
    }
    assert_eq!(nic.counters().tx_frames, 4);
    let model = nic.release();
    let lengths: Vec<usize> = model.transmitted.iter().map(Vec::len).collect();
    assert_eq!(lengths, [14, 42, 61, 1514]);
    assert_eq!(model.transmitted[2], frame(61));
    assert_eq!(model.transmitted[3], frame(1514));
}

#[test]
fn bad_lengths_and_a_full_fifo_are_refused() {
    let mut nic = started();
    assert_eq!(nic.transmit(&frame(13)), Err(Error::InvalidFrameLength(13)));
    assert_eq!(
        nic.transmit(&frame(1515)),
        Err(Error::InvalidFrameLength(1515))
    );
    let mut model = nic.release();
    model.tx_free_bytes = 64;
    let mut nic = Lan9118::new(model, &QEMU_WIRING).unwrap();
    assert!(!nic.can_transmit());
    assert_eq!(nic.transmit(&frame(60)), Err(Error::TransmitFifoFull));
    assert!(nic.release().transmitted.is_empty());
}

#[test]
fn failed_transmissions_are_counted() {
    let mut nic = started();
    let mut model = nic.release();
    model.fail_next_transmit = true;
    nic = Lan9118::new(model, &QEMU_WIRING).unwrap();
    nic.transmit(&frame(60)).unwrap();
    nic.transmit(&frame(60)).unwrap();
    assert_eq!(nic.receive(&mut [0; 1514]), Ok(None));
    assert_eq!(nic.counters().tx_errors, 1);
}

#[test]
fn received_frame_is_returned_without_its_fcs() {
    let mut model = ModelNic::new();
    model.deliver(&frame(42), 0);
    let mut nic = Lan9118::new(model, &QEMU_WIRING).unwrap();
    let mut buffer = [0; 1514];
    assert_eq!(nic.receive(&mut buffer), Ok(Some(42)));
    assert_eq!(buffer[..42], frame(42)[..]);
    assert_eq!(buffer[42], 0, "FCS bytes leaked into the frame");
    assert_eq!(nic.receive(&mut buffer), Ok(None));
    let model = nic.release();
    assert!(
        model.rx_data.is_empty() && !model.rx_underflow,
        "RX data FIFO out of step"
    );
}

#[test]
fn bad_frames_are_dropped_counted_and_skipped_exactly() {
    let mut model = ModelNic::new();
    model.deliver(&frame(60), (1 << 15) | (1 << 1));
    model.deliver(&frame(20), 1 << 11);
    model.deliver(&frame(10), 0);
    model.deliver(&frame(201), 0);
    model.deliver(&frame(99), 0);
    model.rx_drop = 2;
    let mut nic = Lan9118::new(model, &QEMU_WIRING).unwrap();
    let mut buffer = [0; 100];
    assert_eq!(nic.receive(&mut buffer), Ok(Some(99)));
    assert_eq!(buffer[..99], frame(99)[..]);
    let counters = nic.counters();
    assert_eq!(
        (counters.rx_errors, counters.rx_runt, counters.rx_oversized),
        (1, 2, 1)
    );
    assert_eq!(
        (
            counters.rx_overruns,
            counters.rx_frames,
            counters.rx_dropped()
        ),
        (2, 1, 6)
    );
    let model = nic.release();
    assert!(
        model.rx_data.is_empty() && !model.rx_underflow,
        "discarding read the wrong number of words"
    );
}

#[test]
fn link_state_comes_from_the_phy() {
    let mut nic = started();
    assert!(nic.link_up());
    let mut model = nic.release();
    model.link_up = false;
    let mut nic = Lan9118::new(model, &QEMU_WIRING).unwrap();
    assert!(!nic.link_up());
}

#[test]
fn interrupt_entry_reports_and_clears_only_enabled_sources() {
    let mut nic = started();
    nic.set_interrupt_mask(Interrupts::RECEIVE);
    nic.registers_mut().deliver(&frame(42), 0);
    nic.registers_mut().int_sts |= Interrupts::TRANSMIT_DONE.0;
    assert_eq!(nic.take_interrupts(), Interrupts::RECEIVE);
    assert_eq!(nic.take_interrupts(), Interrupts::NONE);
    assert_eq!(
        nic.release().int_sts,
        Interrupts::TRANSMIT_DONE.0,
        "disabled source must stay pending"
    );
}

#[test]
fn memory_mapped_access_hits_the_data_sheet_offsets() {
    let block = RamBlock::new();
    // SAFETY: the block is a live, aligned 4 KiB allocation (larger than the
    // 256-byte register block) that outlives `regs`, touched by the test
    // only through the same raw pointer.
    let mut regs: VolatilePtr<'_, Regs> = unsafe { VolatilePtr::new(block.base.cast()) };
    let table = [
        (Register::TxDataFifo, 0x20),
        (Register::IrqCfg, 0x54),
        (Register::IntSts, 0x58),
        (Register::IntEn, 0x5c),
        (Register::TxCfg, 0x70),
        (Register::HwCfg, 0x74),
        (Register::PmtCtrl, 0x84),
        (Register::MacCsrCmd, 0xa4),
        (Register::MacCsrData, 0xa8),
    ];
    for (index, (register, offset)) in table.into_iter().enumerate() {
        regs.write_register(register, 0x100 + index as u32);
        assert_eq!(
            block.peek(offset),
            0x100 + index as u32,
            "{register:?} at {offset:#x}"
        );
    }
    for (register, offset) in [
        (Register::RxDataFifo, 0x00),
        (Register::RxStatusFifo, 0x40),
        (Register::TxStatusFifo, 0x48),
        (Register::IdRev, 0x50),
        (Register::ByteTest, 0x64),
        (Register::RxFifoInf, 0x7c),
        (Register::TxFifoInf, 0x80),
        (Register::RxDrop, 0xa0),
    ] {
        block.poke(offset, 0xabc0 + offset as u32);
        assert_eq!(
            regs.read_register(register),
            0xabc0 + offset as u32,
            "{register:?} at {offset:#x}"
        );
    }
}

/// A zeroed 4 KiB block in RAM, reached only through a raw pointer so that
/// the driver's `VolatilePtr` and the test never alias a reference.
struct RamBlock {
    base: NonNull<u32>,
}

impl RamBlock {
    fn new() -> Self {
        let words: &'static mut [u32; 1024] =
            std::boxed::Box::leak(std::boxed::Box::new([0; 1024]));
        Self {
            base: NonNull::from(words).cast(),
        }
    }

    fn peek(&self, offset: usize) -> u32 {
        assert!(offset < 0x1000 && offset.is_multiple_of(4));
        // SAFETY: in bounds and aligned (checked above) of a leaked, live block.
        unsafe { self.base.add(offset / 4).read_volatile() }
    }

    fn poke(&self, offset: usize, value: u32) {
        assert!(offset < 0x1000 && offset.is_multiple_of(4));
        // SAFETY: in bounds and aligned (checked above) of a leaked, live block.
        unsafe { self.base.add(offset / 4).write_volatile(value) }
    }
}
