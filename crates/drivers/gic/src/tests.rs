//! Host tests: set-up, routing and the acknowledge / EOI cycle on a model.

use core::cell::RefCell;

use ferrode_hal::mmio::RamBlock;
use ferrode_hal::mmio::Readable;

use crate::model::ModelGic;
use crate::{Error, Gic, Mmio, Register, Registers, Trigger};

use std::string::ToString;

/// The LAN9118's line on the RealView PBX-A9, used as sample data.
const ETHERNET: u32 = 60;
const UART0: u32 = 44;

fn initialised(lines: usize) -> Gic<RefCell<ModelGic>> {
    let mut gic = Gic::new(RefCell::new(ModelGic::new(lines)));
    gic.init();
    gic
}

#[test]
fn init_quiets_every_shared_line_and_enables_the_controller() {
    let gic = initialised(96);
    assert_eq!(gic.line_count(), 96);
    let model = gic.release().into_inner();
    assert!(model.distributor_enabled && model.cpu_interface_enabled);
    assert!(
        (32..96).all(|id| !model.enabled[id] && !model.pending[id]),
        "SPIs left enabled or pending"
    );
    assert!((0..16).all(|id| model.enabled[id]), "SGIs must stay usable");
    assert!((16..32).all(|id| !model.enabled[id]), "PPIs disabled until asked for");
    assert!(model.priority.iter().all(|&p| p == 0xa0));
    assert!(model.targets[32..].iter().all(|&t| t == 1), "SPIs routed to CPU 0");
    assert!(model.config.iter().skip(2).all(|&c| c == 0), "SPIs level-triggered");
    // The banked SGI/PPI words are not the boot core's to set: ICDICFR0
    // is read only, ICDICFR1 programmable on some GICs (which would turn
    // the edge-triggered private timers into level ones), ICDIPTR0-7 read
    // only (GIC architecture 4.3.12, 4.3.13).
    assert_eq!(model.config[..2], [0xaaaa_aaaa; 2], "SGI/PPI configuration left alone");
    assert!(model.targets[..32].iter().all(|&t| t == 0), "SGI/PPI targets left alone");
    assert_eq!(model.priority_mask, 0xf0);
}

#[test]
fn an_enabled_pending_line_is_acknowledged_then_ended() {
    let mut gic = initialised(96);
    assert!(gic.acknowledge().is_none(), "nothing pending reads as spurious");
    gic.enable(ETHERNET).unwrap();
    assert!(gic.is_enabled(ETHERNET).unwrap());
    gic.set_pending(ETHERNET).unwrap();
    let irq = gic.acknowledge().expect("pending, enabled line must be signalled");
    assert_eq!(irq.number(), ETHERNET);
    assert_eq!(irq.source_cpu(), None);
    assert!(gic.acknowledge().is_none(), "an active line is not signalled twice");
    gic.end_of_interrupt(irq);
    let model = gic.release().into_inner();
    assert_eq!(model.end_of_interrupts, [ETHERNET]);
    assert!(!model.active[ETHERNET as usize]);
}

#[test]
fn disabled_lines_and_masked_priorities_are_not_signalled() {
    let mut gic = initialised(96);
    gic.set_pending(UART0).unwrap();
    assert!(gic.acknowledge().is_none(), "disabled line signalled");
    gic.enable(UART0).unwrap();
    gic.set_priority(UART0, 0xf0).unwrap();
    assert!(gic.acknowledge().is_none(), "priority at the mask signalled");
    gic.set_priority(UART0, 0x10).unwrap();
    assert_eq!(gic.acknowledge().map(|irq| irq.number()), Some(UART0));
}

#[test]
fn more_urgent_priority_is_acknowledged_first() {
    let mut gic = initialised(96);
    for id in [UART0, ETHERNET] {
        gic.enable(id).unwrap();
        gic.set_pending(id).unwrap();
    }
    gic.set_priority(ETHERNET, 0x20).unwrap();
    let first = gic.acknowledge().unwrap();
    assert_eq!(first.number(), ETHERNET);
    gic.end_of_interrupt(first);
    assert_eq!(gic.acknowledge().unwrap().number(), UART0);
}

#[test]
fn byte_and_bit_fields_change_only_their_own_interrupt() {
    let mut gic = initialised(96);
    gic.set_priority(ETHERNET, 0x40).unwrap();
    gic.set_target_cpus(ETHERNET, 0b10).unwrap();
    gic.set_trigger(ETHERNET, Trigger::Edge).unwrap();
    gic.disable(ETHERNET + 1).unwrap();
    let model = gic.release().into_inner();
    assert_eq!(model.priority[59..62], [0xa0, 0x40, 0xa0]);
    assert_eq!(model.targets[59..62], [1, 2, 1]);
    // Interrupt 60 is field 12 of ICDICFR word 3: edge bit is bit 25.
    assert_eq!(model.config[3], 1 << 25);
}

#[test]
fn out_of_range_and_banked_interrupts_are_refused() {
    let mut gic = initialised(64);
    assert_eq!(gic.enable(64), Err(Error::InvalidInterrupt(64)));
    assert_eq!(gic.set_priority(1020, 0), Err(Error::InvalidInterrupt(1020)));
    assert_eq!(gic.set_trigger(29, Trigger::Edge), Err(Error::NotConfigurable(29)));
    assert_eq!(gic.set_target_cpus(3, 1), Err(Error::NotConfigurable(3)));
    assert_eq!(gic.send_sgi(16, 1), Err(Error::NotConfigurable(16)));
}

#[test]
fn software_interrupt_names_targets_and_id() {
    let mut gic = initialised(64);
    gic.send_sgi(5, 0b0110).unwrap();
    assert_eq!(gic.release().into_inner().software_interrupts, [(0b0110 << 16) | 5]);
}

#[test]
fn memory_mapped_access_hits_the_data_sheet_offsets() {
    let distributor = RamBlock::new(std::boxed::Box::leak(std::boxed::Box::new([0; 1024])));
    let cpu_interface = RamBlock::new(std::boxed::Box::leak(std::boxed::Box::new([0; 1024])));
    let regs = Mmio { distributor: distributor.view(), cpu_interface: cpu_interface.view() };
    let table = [
        (Register::Icddcr, 0x000),
        (Register::Icdiser(1), 0x104),
        (Register::Icdicer(2), 0x188),
        (Register::Icdispr(1), 0x204),
        (Register::Icdicpr(1), 0x284),
        (Register::Icdipr(15), 0x43c),
        (Register::Icdiptr(15), 0x83c),
        (Register::Icdicfr(3), 0xc0c),
        (Register::Icdsgir, 0xf00),
    ];
    distributor.check_writes(&regs, &table);
    cpu_interface.check_writes(
        &regs,
        &[(Register::Iccicr, 0x00), (Register::Iccpmr, 0x04), (Register::Icceoir, 0x10)],
    );
    cpu_interface.poke(0x0c, 60);
    distributor.poke(0x004, 2);
    assert_eq!(regs.icciar().get(), 60);
    assert_eq!(Gic::new(regs).line_count(), 96);
}

/// Serves the GIC behind a `RefCell`, as the platform does (its hold on
/// the GIC released while a handler runs).
fn serve(
    gic: &core::cell::RefCell<Gic<RefCell<ModelGic>>>,
    mut handle: impl FnMut(u32),
) -> crate::Dispatch {
    crate::serve_pending(
        || gic.borrow_mut().acknowledge(),
        &mut handle,
        |interrupt| gic.borrow_mut().end_of_interrupt(interrupt),
    )
}

#[test]
fn a_level_source_its_handler_does_not_clear_ends_the_dispatch_and_is_named() {
    let gic = core::cell::RefCell::new(initialised(96));
    gic.borrow_mut().enable(ETHERNET).unwrap();
    gic.borrow_mut().enable(UART0).unwrap();
    gic.borrow_mut().set_pending(UART0).unwrap();
    // The device holds its line asserted; the handler fails to clear it.
    gic.borrow_mut().set_pending(ETHERNET).unwrap();
    let mut release = gic.into_inner().release().into_inner();
    release.asserted[ETHERNET as usize] = true;
    let mut inner = Gic::new(RefCell::new(release));
    inner.init_cpu_interface();
    let gic = core::cell::RefCell::new(inner);
    let mut handled = std::vec::Vec::new();
    let dispatch = serve(&gic, |id| handled.push(id));
    assert_eq!(dispatch.served, crate::MAX_DISPATCH);
    assert_eq!(dispatch.storming, Some(ETHERNET));
    assert_eq!(handled[0], UART0, "the other pending interrupt is still served");
    assert!(handled[1..].iter().all(|&id| id == ETHERNET));
    let model = gic.into_inner().release().into_inner();
    assert_eq!(
        model.end_of_interrupts.len() as u32,
        crate::MAX_DISPATCH,
        "every acknowledge ended"
    );
}

#[test]
fn a_source_its_handler_clears_is_served_once() {
    let gic = core::cell::RefCell::new(initialised(96));
    gic.borrow_mut().enable(ETHERNET).unwrap();
    gic.borrow_mut().set_pending(ETHERNET).unwrap();
    let mut handled = std::vec::Vec::new();
    let dispatch = serve(&gic, |id| handled.push(id));
    assert_eq!(dispatch, crate::Dispatch { served: 1, storming: None });
    assert_eq!(handled, [ETHERNET]);
}

#[test]
fn errors_name_the_interrupt() {
    assert_eq!(
        Error::InvalidInterrupt(99).to_string(),
        "interrupt 99 is not implemented by this GIC"
    );
    assert_eq!(Error::NotConfigurable(7).to_string(), "interrupt 7 cannot be configured this way");
}

/// An SGI's acknowledge carries the sending CPU (ICCIAR bits 12:10), and
/// its end of interrupt hands the whole value back (GIC architecture
/// 4.4.5); a PPI or SPI has no source CPU.
#[test]
fn a_software_interrupt_names_its_sender_and_is_ended_with_it() {
    let mut model = ModelGic::new(64);
    model.pending[5] = true;
    model.sgi_source[5] = 3;
    let mut gic = Gic::new(RefCell::new(model));
    gic.init();
    let sgi = gic.acknowledge().unwrap();
    assert_eq!(sgi.number(), 5);
    assert_eq!(sgi.source_cpu(), Some(3));
    gic.end_of_interrupt(sgi);
    gic.enable(16).unwrap();
    gic.set_pending(16).unwrap();
    let ppi = gic.acknowledge().unwrap();
    assert_eq!(ppi.number(), 16);
    assert_eq!(ppi.source_cpu(), None, "ID 16 is the first PPI");
    gic.end_of_interrupt(ppi);
    assert_eq!(gic.release().into_inner().end_of_interrupts, [(3 << 10) | 5, 16]);
}

#[test]
fn a_disabled_line_reads_as_disabled() {
    let mut gic = initialised(96);
    gic.enable(UART0).unwrap();
    gic.enable(UART0 + 1).unwrap();
    gic.disable(UART0).unwrap();
    assert_eq!(gic.is_enabled(UART0), Ok(false));
    assert_eq!(gic.is_enabled(UART0 + 1), Ok(true));
    let model = gic.release().into_inner();
    assert!(!model.enabled[UART0 as usize]);
}

#[test]
fn triggers_change_only_their_own_line_and_stay_as_set() {
    let mut gic = initialised(96);
    // The first SPI is configurable; 60 and 61 share ICDICFR word 3.
    gic.set_trigger(32, Trigger::Edge).unwrap();
    gic.set_trigger(ETHERNET, Trigger::Edge).unwrap();
    gic.set_trigger(ETHERNET + 1, Trigger::Edge).unwrap();
    gic.set_trigger(ETHERNET + 1, Trigger::Edge).unwrap();
    gic.set_trigger(ETHERNET, Trigger::Level).unwrap();
    gic.set_trigger(ETHERNET, Trigger::Level).unwrap();
    let model = gic.release().into_inner();
    assert_eq!(model.config[2], 1 << 1);
    assert_eq!(model.config[3], 1 << 27, "61 edge, 60 level");
}

/// Interrupt 61 sits in byte 1 of its ICDIPR and ICDIPTR words: the byte
/// update must shift both the mask and the value (60, byte 0, cannot tell).
#[test]
fn a_byte_field_above_byte_zero_replaces_only_its_byte() {
    let mut gic = initialised(96);
    gic.set_priority(ETHERNET + 1, 0x40).unwrap();
    gic.set_target_cpus(ETHERNET + 3, 0b10).unwrap();
    let model = gic.release().into_inner();
    assert_eq!(model.priority[60..64], [0xa0, 0x40, 0xa0, 0xa0]);
    assert_eq!(model.targets[60..64], [1, 1, 1, 2]);
}

/// Two lines that keep re-raising each other fill the dispatch, but
/// neither comes back STORM_REPEATS times in a row: no storm is named.
#[test]
fn two_lines_taking_turns_are_not_a_storm() {
    let gic = core::cell::RefCell::new(initialised(96));
    gic.borrow_mut().enable(ETHERNET).unwrap();
    gic.borrow_mut().enable(UART0).unwrap();
    gic.borrow_mut().set_pending(UART0).unwrap();
    let dispatch = serve(&gic, |id| {
        let other = if id == UART0 { ETHERNET } else { UART0 };
        gic.borrow_mut().set_pending(other).unwrap();
    });
    assert_eq!(dispatch, crate::Dispatch { served: crate::MAX_DISPATCH, storming: None });
}
