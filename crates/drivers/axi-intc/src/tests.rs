extern crate std;

use std::vec::Vec;

use crate::model::IntcModel;
use crate::{AxiIntc, Config, Irq, MAX_DISPATCH, highest_priority};

const fn irq(n: u32) -> Irq {
    Irq::new(n).unwrap()
}

#[test]
fn new_disables_acknowledges_then_master_enables() {
    let model = IntcModel::new(0);
    model.set_input(3, true); // a stale latched request before init
    let _intc = AxiIntc::new(&model, Config::new());
    assert_eq!(model.writes(), [(0x08, 0), (0x0C, 0xFFFF_FFFF), (0x1C, 0x3)]);
    assert!(!model.irq_out(), "nothing is enabled yet");
}

#[test]
fn only_enabled_inputs_reach_the_cpu() {
    let model = IntcModel::new(0);
    let intc = AxiIntc::new(&model, Config::new());
    model.set_input(5, true);
    assert!(!model.irq_out());
    assert_eq!(intc.next_pending(), None);
    intc.enable(irq(5));
    assert!(model.irq_out());
    assert_eq!(intc.next_pending(), Some(irq(5)));
    intc.disable(irq(5));
    assert!(!model.irq_out());
}

#[test]
fn lowest_number_wins() {
    let model = IntcModel::new(0);
    let intc = AxiIntc::new(&model, Config::new());
    for n in [9, 2, 30] {
        intc.enable(irq(n));
        model.set_input(n, true);
    }
    assert_eq!(intc.next_pending(), Some(irq(2)));
    assert_eq!(highest_priority(0b1010_0000), Some(irq(5)));
    assert_eq!(highest_priority(0), None);
    assert_eq!(Irq::new(32), None);
}

#[test]
fn dispatch_serves_in_priority_order_and_acknowledges_level_after_clearing() {
    let model = IntcModel::new(0);
    let intc = AxiIntc::new(&model, Config::new());
    for n in [6, 0, 1] {
        intc.enable(irq(n));
        model.set_input(n, true);
    }
    let mut order = Vec::new();
    let calls = intc.dispatch(|i| {
        order.push(i.number());
        model.set_input(i.number(), false); // the device handler clears its source
    });
    assert_eq!(order, [0, 1, 6]);
    assert_eq!(calls, 3);
    assert!(!model.irq_out());
    assert_eq!(model.isr(), 0);
}

/// A driver's level interrupt: masked by its handler while the device
/// still asserts it (dispatch's acknowledgement latches it again), then
/// served by the driver and unmasked. Without the acknowledgement in
/// `unmask` the stale latch fires once more.
#[test]
fn a_level_input_unmasked_after_its_source_let_go_stays_quiet() {
    let model = IntcModel::new(0);
    let intc = AxiIntc::new(&model, Config::new());
    intc.enable(irq(4));
    model.set_input(4, true);
    assert_eq!(intc.dispatch(|i| intc.disable(i)), 1);
    assert_eq!(model.isr(), 1 << 4, "latched again: the device still asserts");
    assert!(!model.irq_out(), "masked");
    model.set_input(4, false);
    intc.unmask(irq(4));
    assert!(intc.is_enabled(irq(4)));
    assert!(!model.irq_out(), "no interrupt: the device was served");
    assert_eq!(model.isr(), 0);
    // Unmasked while the device still asserts: the interrupt comes.
    model.set_input(4, true);
    assert_eq!(intc.dispatch(|i| intc.disable(i)), 1);
    intc.unmask(irq(4));
    assert!(model.irq_out());
}

/// An edge that came while its input was masked is kept through `unmask`.
#[test]
fn an_edge_latched_while_masked_is_delivered_at_unmask() {
    let model = IntcModel::new(1 << 2);
    let intc = AxiIntc::new(&model, Config::new().with_edge_triggered(1 << 2));
    model.set_input(2, true);
    model.set_input(2, false);
    assert!(!model.irq_out(), "masked");
    intc.unmask(irq(2));
    assert!(model.irq_out());
    assert_eq!(intc.next_pending(), Some(irq(2)));
}

#[test]
fn edge_arriving_during_its_handler_is_not_lost() {
    let model = IntcModel::new(1 << 1);
    let intc = AxiIntc::new(&model, Config::new().with_edge_triggered(1 << 1));
    intc.enable(irq(1));
    model.set_input(1, true);
    model.set_input(1, false);
    let mut served = 0;
    intc.dispatch(|_| {
        served += 1;
        if served == 1 {
            // a new character arrives while the UART handler runs
            model.set_input(1, true);
            model.set_input(1, false);
        }
    });
    assert_eq!(served, 2, "the second edge is served in the same dispatch");
}

#[test]
fn a_source_nobody_clears_cannot_wedge_dispatch() {
    let model = IntcModel::new(0);
    let intc = AxiIntc::new(&model, Config::new());
    intc.enable(irq(4));
    model.set_input(4, true);
    assert_eq!(intc.dispatch(|_| {}), MAX_DISPATCH);
}

#[test]
fn without_sie_cie_enables_keep_other_bits() {
    let model = IntcModel::new(0);
    let config = Config { has_set_clear_enable: false, ..Config::new() };
    let intc = AxiIntc::new(&model, config);
    intc.enable(irq(0));
    intc.enable(irq(6));
    intc.disable(irq(0));
    assert!(intc.is_enabled(irq(6)));
    assert!(!intc.is_enabled(irq(0)));
    assert!(model.writes().iter().all(|&(offset, _)| offset != 0x10 && offset != 0x14));
}

#[test]
fn the_driver_reports_the_options_it_was_given() {
    let model = IntcModel::new(0);
    let config = Config { has_set_clear_enable: false, ..Config::new().with_edge_triggered(0b110) };
    let intc = AxiIntc::new(&model, config);
    assert_eq!(intc.config(), config);
}

/// Without SIE, enabling an input that is already enabled must not turn
/// it off (an IER update with `^` instead of `|` would).
#[test]
fn without_sie_enabling_twice_leaves_the_input_enabled() {
    let model = IntcModel::new(0);
    let config = Config { has_set_clear_enable: false, ..Config::new() };
    let intc = AxiIntc::new(&model, config);
    intc.enable(irq(3));
    intc.enable(irq(3));
    assert!(intc.is_enabled(irq(3)));
    model.set_input(3, true);
    assert!(model.irq_out());
}
