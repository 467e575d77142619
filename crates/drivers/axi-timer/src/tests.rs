extern crate std;

use embedded_hal::delay::DelayNs;
use ferrode_hal::{Alarm, Monotonic};

use crate::model::TimerModel;
use crate::{AxiTimer, Counter, CounterWidth, Error, down_count_load_value};

const HZ: u32 = 100_000_000;

#[test]
fn load_value_follows_pg079_interval_formula() {
    // PG079: interval = (TLR + 2) cycles when counting down.
    assert_eq!(down_count_load_value(1_000_000), Ok(999_998));
    assert_eq!(down_count_load_value(2), Ok(0));
    assert_eq!(down_count_load_value(1), Err(Error::PeriodTooShort));
}

#[test]
fn periodic_tick_fires_every_period_and_acknowledges() {
    let model = TimerModel::new(true);
    let (zero, _one) = AxiTimer::new(&model, HZ).split();
    let mut tick = zero.into_periodic(1_000_000).unwrap();
    model.advance(999_999);
    assert!(!model.irq());
    assert!(!tick.take_interrupt());
    model.advance(1);
    assert!(model.irq());
    assert!(tick.take_interrupt());
    assert!(!model.irq(), "TINT write-1-to-clear drops the line");
    model.advance(999_999);
    assert!(!model.irq());
    model.advance(1);
    assert!(tick.take_interrupt(), "auto reload: one interrupt per TLR + 2 cycles");
}

#[test]
fn periodic_register_writes_are_exact() {
    let model = TimerModel::new(true);
    let (zero, one) = AxiTimer::new(&model, HZ).split();
    let _alarm = one.into_alarm();
    let _tick = zero.into_periodic(1_000_000).unwrap();
    assert_eq!(
        model.writes(),
        [(0x00, 0x100), (0x10, 0x100), (0x00, 0x100), (0x04, 999_998), (0x00, 0x20), (0x00, 0xD2)]
    );
}

#[test]
fn alarm_is_never_early_and_fires_once() {
    let model = TimerModel::new(true);
    let (_zero, one) = AxiTimer::new(&model, HZ).split();
    let mut alarm = one.into_alarm();
    alarm.arm_after(5_000);
    model.advance(4_999);
    assert!(!alarm.take_expired());
    model.advance(3); // hardware: TLR + 2
    assert!(model.irq());
    assert!(alarm.take_expired());
    assert!(!model.irq());
    model.advance(1_000_000);
    assert!(!alarm.take_expired(), "one-shot: no second expiry");
}

#[test]
fn alarm_beyond_32_bits_is_chained() {
    let model = TimerModel::new(true);
    let (_zero, one) = AxiTimer::new(&model, HZ).split();
    let mut alarm = one.into_alarm();
    let ticks = (1u64 << 32) + 10_000;
    alarm.arm_after(ticks);
    model.advance(u64::from(u32::MAX) + 2);
    assert!(!alarm.take_expired(), "first chunk done, not the alarm");
    assert!(alarm.is_armed());
    model.advance(10_000);
    assert!(!alarm.take_expired());
    model.advance(3);
    assert!(alarm.take_expired());
}

#[test]
fn disarmed_alarm_never_reports() {
    let model = TimerModel::new(true);
    let (_zero, one) = AxiTimer::new(&model, HZ).split();
    let mut alarm = one.into_alarm();
    alarm.arm_after(100);
    alarm.disarm();
    model.advance(1_000);
    assert!(!model.irq());
    assert!(!alarm.take_expired());
}

#[test]
fn tick_and_alarm_share_the_line_but_not_their_status() {
    let model = TimerModel::new(true);
    let (zero, one) = AxiTimer::new(&model, HZ).split();
    let mut tick = zero.into_periodic(1_000).unwrap();
    let mut alarm = one.into_alarm();
    alarm.arm_after(10_000);
    model.advance(1_000);
    assert!(!alarm.take_expired());
    assert!(tick.take_interrupt());
}

#[test]
fn cascaded_counter_counts_across_the_low_wrap() {
    let model = TimerModel::new(true);
    let mut clock = AxiTimer::new(&model, HZ).into_monotonic();
    assert_eq!(clock.width(), CounterWidth::Cascaded);
    assert_eq!(clock.now(), 0);
    model.advance(u64::from(u32::MAX) + 10);
    assert_eq!(clock.now(), (1 << 32) + 9);
    assert_eq!(clock.tick_hz(), 100_000_000);
}

#[test]
fn cascaded_read_is_race_free_when_low_wraps_between_reads() {
    let model = TimerModel::new(true);
    let mut clock = AxiTimer::new(&model, HZ).into_monotonic();
    for start in [u32::MAX - 1, u32::MAX - 2, u32::MAX - 3, u32::MAX] {
        model.set_count(Counter::One, 7);
        model.set_count(Counter::Zero, start);
        model.ticks_per_read.set(1);
        let t = clock.now();
        model.ticks_per_read.set(0);
        let before = (7u64 << 32) + u64::from(start);
        assert!(t >= before && t <= before + 4, "start {start:#x}: read {t:#x}");
    }
}

#[test]
fn without_cascade_the_low_counter_is_extended_in_software() {
    let model = TimerModel::new(false);
    let mut clock = AxiTimer::new(&model, HZ).into_monotonic();
    assert_eq!(clock.width(), CounterWidth::Extended);
    let mut elapsed = 0u64;
    let mut last = 0;
    for step in [1u64 << 31, 3 << 30, 1 << 31, 1 << 20, 3 << 30, 12345] {
        model.advance(step);
        elapsed += step;
        let now = clock.now();
        assert!(now >= last);
        // The first cycle after ENT loads the counter (PG079 "TLR + 2").
        assert_eq!(now, elapsed - 1);
        last = now;
    }
}

#[test]
fn delay_waits_at_least_the_requested_time() {
    let model = TimerModel::new(true);
    let mut clock = AxiTimer::new(&model, HZ).into_monotonic();
    model.ticks_per_read.set(7);
    let before = clock.now();
    clock.delay_us(10);
    let after = clock.now();
    assert!(after - before >= 1_000, "10 us at 100 MHz is 1000 cycles, waited {}", after - before);
    assert!(after - before < 1_100);
}

/// Catches `low < last_low` turned into `<=` in `read_extended`: an
/// unchanged low counter would count as a rollover.
#[test]
fn without_cascade_a_clock_read_twice_with_no_time_passing_reads_the_same() {
    let model = TimerModel::new(false);
    let mut clock = AxiTimer::new(&model, HZ).into_monotonic();
    assert_eq!(clock.width(), CounterWidth::Extended);
    assert_eq!(clock.now(), 0, "a fresh clock reads 0");
    assert_eq!(clock.now(), 0);
    model.advance(1_001);
    assert_eq!(clock.now(), 1_000);
    assert_eq!(clock.now(), 1_000, "no rollover without time passing");
}

/// Catches `<` turned into `<=` in `delay_ns`: the delay would run one more
/// clock reading after the wait had already passed.
#[test]
fn delay_ends_at_the_first_reading_that_shows_the_whole_wait() {
    let model = TimerModel::new(true);
    let mut clock = AxiTimer::new(&model, HZ).into_monotonic();
    // A cascaded reading is three register reads (TCR1, TCR0, TCR1): 30
    // cycles a reading, so the readings land exactly on the 600 ns (60
    // cycles) asked for.
    model.ticks_per_read.set(10);
    let before = clock.now();
    clock.delay_ns(600);
    let waited = clock.now() - before;
    // One reading to start the delay, 60 cycles of wait, one reading here.
    assert_eq!(waited, 30 + 60 + 30);
}

#[test]
fn the_error_says_what_went_wrong() {
    use std::string::ToString;
    assert_eq!(Error::PeriodTooShort.to_string(), "timer period shorter than 2 clock cycles");
}

/// Catches `RegisterName::offset` returning a constant: on hardware every
/// register would be reached at one address.
#[test]
fn memory_mapped_access_hits_the_data_sheet_offsets() {
    use ferrode_hal::mmio::RamBlock;

    use crate::{Mmio, Register, Regs};

    let block = RamBlock::new(std::boxed::Box::leak(std::boxed::Box::new([0; 8])));
    let regs = Mmio::new(block.view::<Regs>());
    let registers = [
        (Register::Tcsr(Counter::Zero), 0x00),
        (Register::Tlr(Counter::Zero), 0x04),
        (Register::Tcr(Counter::Zero), 0x08),
        (Register::Tcsr(Counter::One), 0x10),
        (Register::Tlr(Counter::One), 0x14),
        (Register::Tcr(Counter::One), 0x18),
    ];
    block.check_reads(&regs, &registers);
}

#[test]
fn the_block_s_clock_rate_and_the_period_stay_known_to_each_counter() {
    let model = TimerModel::new(true);
    let timer = AxiTimer::new(&model, HZ);
    assert_eq!(timer.clock_hz(), HZ);
    let (zero, one) = timer.split();
    assert_eq!((zero.counter(), one.counter()), (Counter::Zero, Counter::One));
    let tick = zero.into_periodic(1_000_000).unwrap();
    assert_eq!(tick.period_ticks(), 1_000_000);
    assert_eq!(tick.clock_hz(), HZ);
    assert_eq!(one.into_alarm().clock_hz(), HZ);
}

#[test]
fn an_alarm_is_armed_only_from_arming_until_it_is_taken_or_disarmed() {
    let model = TimerModel::new(true);
    let (_zero, one) = AxiTimer::new(&model, HZ).split();
    let mut alarm = one.into_alarm();
    assert!(!alarm.is_armed(), "a new alarm is not armed");
    alarm.arm_after(100);
    assert!(alarm.is_armed());
    model.advance(102);
    assert!(alarm.take_expired());
    assert!(!alarm.is_armed(), "taken");
    alarm.arm_after(100);
    alarm.disarm();
    assert!(!alarm.is_armed(), "disarmed");
}
