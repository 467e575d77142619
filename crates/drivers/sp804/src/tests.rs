//! Host tests: clock, alarm and delay behaviour against the model.

use embedded_hal::delay::DelayNs;
use ferrode_hal::RegisterAccess;
use ferrode_hal::mmio::RamBlock;
use ferrode_hal::mmio::Readable;
use ferrode_hal::{Alarm, Monotonic};

use crate::model::ModelTimer;
use crate::regs::INT;
use crate::{Counter, Error, Mmio, Prescale, Register, Registers, Regs, Sp804};

const TIMCLK_HZ: u32 = 1_000_000;

fn started(prescale: Prescale) -> (Sp804<ModelTimer>, ModelTimer) {
    let model = ModelTimer::default();
    let timer = Sp804::new(model.clone(), TIMCLK_HZ, prescale).unwrap();
    (timer, model)
}

#[test]
fn a_prescaler_that_leaves_no_ticks_is_rejected() {
    assert_eq!(
        Sp804::new(ModelTimer::default(), 255, Prescale::Divide256).err(),
        Some(Error::ZeroTickRate)
    );
}

#[test]
fn clock_counts_exact_ticks_across_the_32_bit_wrap() {
    let (mut timer, model) = started(Prescale::Divide1);
    assert_eq!(timer.now(), 0);
    model.0.borrow_mut().advance(3_000_000_000);
    assert_eq!(timer.now(), 3_000_000_000);
    model.0.borrow_mut().advance(3_000_000_000);
    assert_eq!(timer.now(), 6_000_000_000, "the 64-bit clock must survive the hardware wrap");
    assert_eq!(timer.now_ns(), 6_000_000_000_000);
}

#[test]
fn prescaler_divides_the_tick_rate() {
    let (mut timer, model) = started(Prescale::Divide16);
    assert_eq!(timer.tick_hz(), 62_500);
    model.0.borrow_mut().advance(1_600);
    assert_eq!(timer.now(), 100);
}

#[test]
fn alarm_expires_once_and_not_before_its_time() {
    let (mut timer, model) = started(Prescale::Divide1);
    timer.arm_after(1_000);
    model.0.borrow_mut().advance(999);
    assert!(!timer.take_expired());
    model.0.borrow_mut().advance(1);
    assert!(timer.handle_interrupt());
    assert!(!timer.take_expired(), "an expiry is reported once");
    assert!(!model.0.borrow().counters[1].raw_interrupt, "interrupt line must be cleared");
}

#[test]
fn alarm_longer_than_the_counter_chains_periods() {
    let (mut timer, model) = started(Prescale::Divide1);
    timer.arm_after(u64::from(u32::MAX) + 500);
    model.0.borrow_mut().advance(u64::from(u32::MAX));
    assert!(!timer.take_expired(), "first 32-bit period is not the end");
    model.0.borrow_mut().advance(499);
    assert!(!timer.take_expired());
    model.0.borrow_mut().advance(1);
    assert!(timer.take_expired());
}

#[test]
fn periodic_mode_interrupts_every_period_without_rearming() {
    let (mut timer, model) = started(Prescale::Divide1);
    assert_eq!(timer.start_periodic(0), Err(Error::ZeroPeriod));
    timer.start_periodic(10_000).unwrap();
    // The first period runs from the load: one tick shorter.
    model.0.borrow_mut().advance(9_998);
    assert!(!timer.handle_interrupt());
    model.0.borrow_mut().advance(1);
    assert!(timer.handle_interrupt());
    for period in 1..4 {
        model.0.borrow_mut().advance(9_999);
        assert!(!timer.handle_interrupt(), "period {period} reported early");
        model.0.borrow_mut().advance(1);
        assert!(timer.handle_interrupt(), "period {period} not reported");
        assert!(!timer.handle_interrupt(), "a period is reported once");
    }
    // The clock on timer 1 is unaffected.
    assert_eq!(timer.now(), 39_999);
    // Arming the alarm leaves periodic mode.
    timer.arm_after(5);
    model.0.borrow_mut().advance(10_000);
    assert!(timer.take_expired());
    model.0.borrow_mut().advance(10_000);
    assert!(!timer.take_expired(), "one-shot again after arm_after");
}

#[test]
fn rearming_replaces_and_disarming_discards() {
    let (mut timer, model) = started(Prescale::Divide1);
    timer.arm_after(10);
    timer.arm_after(100);
    model.0.borrow_mut().advance(50);
    assert!(!timer.take_expired(), "the second arm replaced the first");
    model.0.borrow_mut().advance(50);
    timer.disarm();
    assert!(!timer.take_expired(), "disarm discards a pending expiry");
}

#[test]
fn delay_waits_at_least_the_requested_time() {
    let (mut timer, model) = started(Prescale::Divide1);
    model.0.borrow_mut().cycles_per_read = 7;
    let before = timer.now();
    timer.delay_us(100);
    let waited = timer.now() - before;
    // A clock reading is two register reads (VALUE, then the wrap latch),
    // 14 ticks here: the wait overshoots by at most three readings.
    assert!((100..=142).contains(&waited), "waited {waited} ticks for 100 us");
}

#[test]
fn memory_mapped_access_hits_the_data_sheet_offsets() {
    let block = RamBlock::new(std::boxed::Box::leak(std::boxed::Box::new([0; 1024])));
    let regs = Mmio::new(block.view::<Regs>());
    let writable = [
        (Register::Load(Counter::Timer1), 0x00),
        (Register::Control(Counter::Timer1), 0x08),
        (Register::IntClr(Counter::Timer1), 0x0c),
        (Register::BgLoad(Counter::Timer1), 0x18),
        (Register::Load(Counter::Timer2), 0x20),
        (Register::Control(Counter::Timer2), 0x28),
        (Register::IntClr(Counter::Timer2), 0x2c),
        (Register::BgLoad(Counter::Timer2), 0x38),
    ];
    block.check_writes(&regs, &writable);
    block.poke(0x24, 1234);
    block.poke(0x30, 1);
    assert_eq!(regs.value(Counter::Timer2).get(), 1234);
    assert!(regs.ris(Counter::Timer2).is_set(INT::INT));
    assert!(!regs.ris(Counter::Timer1).is_set(INT::INT));
}

#[test]
fn the_clock_keeps_its_wraps_when_only_the_interrupt_reads_it() {
    // Nothing reads the clock for 1.5 wraps (an idle echo-net sleeping):
    // the wrap interrupt must keep the count. Time passes in slices, and
    // the interrupt is served when the SP804's line is up, as on a board.
    let (mut timer, model) = started(Prescale::Divide1);
    let slice = 1u64 << 28;
    for _ in 0..24 {
        model.0.borrow_mut().advance(slice);
        let line = {
            let model = model.clone();
            RegisterAccess::read(&model, Register::Mis(Counter::Timer1))
                | RegisterAccess::read(&model, Register::Mis(Counter::Timer2))
        };
        if line != 0 {
            timer.handle_interrupt();
        }
    }
    assert_eq!(timer.now(), 24 * slice, "a wrap was lost");
    let model = model.clone();
    assert_eq!(
        RegisterAccess::read(&model, Register::Ris(Counter::Timer1)),
        0,
        "the wrap interrupt must be cleared, or its line stays up"
    );
}

/// A delay ends at the first reading more than the ticks asked past its
/// first one (which may have come just before the count moved on), and no
/// later: catches `<=` turned into `<`, and a wait of one reading more.
#[test]
fn delay_ends_at_the_first_reading_past_the_whole_wait() {
    let (mut timer, model) = started(Prescale::Divide1);
    // A clock reading is two register reads: 10 ticks per reading, so the
    // readings land on the 100 ticks asked for, and on 110.
    model.0.borrow_mut().cycles_per_read = 5;
    let before = timer.now();
    timer.delay_us(100);
    let waited = timer.now() - before;
    // One reading to start the delay, 110 ticks of wait, one reading here.
    assert_eq!(waited, 10 + 110 + 10);
}

/// The clock counts whole ticks, 16 TIMCLK cycles each here: however
/// late in its tick a delay's first reading comes, a delay of one tick
/// lasts a whole tick's cycles (with `<`, one begun at the end of a tick
/// ended a few cycles later).
#[test]
fn a_delay_is_never_shorter_than_asked_whatever_the_tick_phase() {
    for phase in 0..16 {
        let (mut timer, model) = started(Prescale::Divide16);
        model.0.borrow_mut().advance(phase);
        model.0.borrow_mut().cycles_per_read = 1;
        let before = model.0.borrow().cycles;
        timer.delay_us(16);
        let waited = model.0.borrow().cycles - before;
        assert!((16..=16 + 16 + 4).contains(&waited), "phase {phase}: waited {waited} cycles");
    }
    let (mut timer, model) = started(Prescale::Divide16);
    model.0.borrow_mut().cycles_per_read = 1;
    let before = model.0.borrow().cycles;
    timer.delay_ns(0);
    assert_eq!(model.0.borrow().cycles, before, "no wait, not even a reading, for 0 ns");
}

#[test]
fn errors_say_what_went_wrong() {
    use std::string::ToString;
    assert_eq!(Error::ZeroTickRate.to_string(), "timer clock divided by the prescaler is 0 Hz");
    assert_eq!(
        Error::ZeroPeriod.to_string(),
        "a periodic timer needs a period of at least one tick"
    );
}
