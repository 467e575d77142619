//! A timer block, its two counters in generate mode: periodic tick and
//! one-shot alarm.

use core::fmt;

use ferrode_hal::Alarm;

use crate::monotonic::MonotonicCounter;
use crate::regs::{Counter, Register, Registers, TCSR};
use ferrode_hal::mmio::access::ReadWrite;
use ferrode_hal::mmio::{Readable, Reg, Writeable};

/// Errors of the timer driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A generate-mode period must be at least 2 clock cycles (PG079: the
    /// interval is TLR + 2 cycles).
    PeriodTooShort,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::PeriodTooShort => f.write_str("timer period shorter than 2 clock cycles"),
        }
    }
}

impl core::error::Error for Error {}

/// TLR value for a down-counting generate-mode interval of `period_ticks`
/// cycles: PG079 gives the interval as (TLR + 2) cycles.
pub const fn down_count_load_value(period_ticks: u32) -> Result<u32, Error> {
    if period_ticks < 2 { Err(Error::PeriodTooShort) } else { Ok(period_ticks - 2) }
}

/// Counter 0 in up-count generate mode with auto reload from TLR = 0 rolls
/// over every `0xFFFF_FFFF - TLR + 2` cycles (PG079), one more than 2^32.
pub const UP_COUNT_WRAP_PERIOD: u64 = (u32::MAX as u64) + 2;

/// One AXI Timer block with the AXI clock rate its counters run at.
#[derive(Debug)]
pub struct AxiTimer<R> {
    regs: R,
    clock_hz: u32,
}

impl<R: Registers + Clone> AxiTimer<R> {
    /// Takes over a block whose counters run at `clock_hz` (the AXI clock,
    /// 100 MHz on QEMU's amd-microblaze-v-generic). Stops both counters and
    /// clears their interrupts: TCSR0 = TINT, TCSR1 = TINT.
    pub fn new(regs: R, clock_hz: u32) -> Self {
        regs.tcsr(Counter::Zero).write(TCSR::TINT::SET);
        regs.tcsr(Counter::One).write(TCSR::TINT::SET);
        Self { regs, clock_hz }
    }

    /// The counters' clock rate.
    pub fn clock_hz(&self) -> u32 {
        self.clock_hz
    }

    /// Uses both counters as one free-running 64-bit clock (cascade mode).
    pub fn into_monotonic(self) -> MonotonicCounter<R> {
        MonotonicCounter::start(self.regs, self.clock_hz)
    }

    /// Separates the two counters, e.g. counter 0 for the periodic tick and
    /// counter 1 for the alarm. They share the block's interrupt line.
    pub fn split(self) -> (TimerCounter<R>, TimerCounter<R>) {
        let zero = TimerCounter {
            regs: self.regs.clone(),
            counter: Counter::Zero,
            clock_hz: self.clock_hz,
        };
        let one = TimerCounter { regs: self.regs, counter: Counter::One, clock_hz: self.clock_hz };
        (zero, one)
    }
}

/// One stopped timer/counter, to be turned into a tick or an alarm.
#[derive(Debug)]
pub struct TimerCounter<R> {
    regs: R,
    counter: Counter,
    clock_hz: u32,
}

impl<R: Registers> TimerCounter<R> {
    /// Which counter of the block this is.
    pub fn counter(&self) -> Counter {
        self.counter
    }

    fn tcsr(&self) -> Reg<'_, R, Register, ReadWrite, TCSR::Register> {
        self.regs.tcsr(self.counter)
    }

    /// Stops the counter and loads `load` into it: TCSR = TINT,
    /// TLR = load, TCSR = LOAD.
    fn stop_and_load(&self, load: u32) {
        self.tcsr().write(TCSR::TINT::SET);
        self.regs.tlr(self.counter).set(load);
        self.tcsr().write(TCSR::LOAD::SET);
    }

    /// Starts a periodic interrupt every `period_ticks` cycles: down count,
    /// auto reload, interrupt enabled. Writes TCSR = 0x100, TLR = period - 2,
    /// TCSR = 0x20, TCSR = 0xD2 (UDT | ARHT | ENIT | ENT).
    pub fn into_periodic(self, period_ticks: u32) -> Result<PeriodicTimer<R>, Error> {
        let load = down_count_load_value(period_ticks)?;
        self.stop_and_load(load);
        self.tcsr().write(
            TCSR::MDT::Generate
                + TCSR::UDT::Down
                + TCSR::ARHT::SET
                + TCSR::ENIT::SET
                + TCSR::ENT::SET,
        );
        Ok(PeriodicTimer { inner: self, period_ticks })
    }

    /// A one-shot alarm on this counter (not armed yet).
    pub fn into_alarm(self) -> AlarmTimer<R> {
        AlarmTimer { inner: self, armed: false, remaining: 0 }
    }
}

/// A counter raising its interrupt every period (auto reload).
#[derive(Debug)]
pub struct PeriodicTimer<R> {
    inner: TimerCounter<R>,
    period_ticks: u32,
}

impl<R: Registers> PeriodicTimer<R> {
    /// The period in clock cycles.
    pub fn period_ticks(&self) -> u32 {
        self.period_ticks
    }

    /// The counters' clock rate.
    pub fn clock_hz(&self) -> u32 {
        self.inner.clock_hz
    }

    /// Acknowledges a pending period interrupt (TINT write-1-to-clear);
    /// true if there was one. Call from the block's interrupt handler
    /// before acknowledging the INTC input.
    ///
    /// QEMU 10.0 restarts the count on any TCSR write with ENT set, so
    /// there each period is stretched by the acknowledge latency: keep time
    /// with the monotonic clock, not by counting ticks.
    pub fn take_interrupt(&mut self) -> bool {
        let tcsr = self.inner.tcsr().extract();
        if !tcsr.is_set(TCSR::TINT) {
            return false;
        }
        // Written back as read: TINT (write-1-to-clear) clears, the rest stays.
        self.inner.tcsr().set(tcsr.get());
        true
    }

    /// Stops the tick and gives the counter back.
    pub fn stop(self) -> TimerCounter<R> {
        self.inner.tcsr().write(TCSR::TINT::SET);
        self.inner
    }
}

/// A counter used as a one-shot alarm ([`ferrode_hal::Alarm`]), in ticks of
/// the block's clock. Alarms longer than a 32-bit count are chained in
/// software through [`Alarm::take_expired`].
#[derive(Debug)]
pub struct AlarmTimer<R> {
    inner: TimerCounter<R>,
    armed: bool,
    remaining: u64,
}

impl<R: Registers> AlarmTimer<R> {
    /// The counters' clock rate (ticks per second of `arm_after`).
    pub fn clock_hz(&self) -> u32 {
        self.inner.clock_hz
    }

    /// Whether an alarm is armed and has not been taken yet.
    pub fn is_armed(&self) -> bool {
        self.armed
    }

    /// Runs one down-count of at most 2^32 - 1 cycles. Hardware fires
    /// after TLR + 2 cycles and QEMU after TLR, so TLR = ticks is never
    /// early. Writes TCSR = 0x100, TLR, TCSR = 0x20, TCSR = 0xC2.
    fn start_chunk(&mut self) {
        let chunk = self.remaining.min(u64::from(u32::MAX));
        self.remaining -= chunk;
        self.inner.stop_and_load(chunk as u32);
        self.inner
            .tcsr()
            .write(TCSR::MDT::Generate + TCSR::UDT::Down + TCSR::ENIT::SET + TCSR::ENT::SET);
    }

    /// Gives the counter back, disarmed.
    pub fn release(mut self) -> TimerCounter<R> {
        self.disarm();
        self.inner
    }
}

impl<R: Registers> Alarm for AlarmTimer<R> {
    fn arm_after(&mut self, ticks: u64) {
        self.remaining = ticks;
        self.armed = true;
        self.start_chunk();
    }

    fn disarm(&mut self) {
        self.armed = false;
        self.remaining = 0;
        self.inner.tcsr().write(TCSR::TINT::SET);
    }

    fn take_expired(&mut self) -> bool {
        if !self.inner.tcsr().is_set(TCSR::TINT) {
            return false;
        }
        // Stop and clear; QEMU may still report a stale expiry after a
        // disarm (its counter keeps running with ENT clear), hence `armed`.
        self.inner.tcsr().write(TCSR::TINT::SET);
        if !self.armed {
            return false;
        }
        if self.remaining > 0 {
            self.start_chunk();
            return false;
        }
        self.armed = false;
        true
    }
}
