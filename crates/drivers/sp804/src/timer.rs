//! The SP804 driver: a 64-bit monotonic clock on timer 1; timer 2 is a
//! one-shot alarm or a periodic interrupt.

use ferrode_hal::{Alarm, Monotonic, ns_to_ticks};

use crate::Error;
use ferrode_hal::mmio::{FieldValue, Readable, Writeable};

use crate::regs::{CONTROL, Counter, INT, Registers};

/// TIMCLK prescaler (TimerPre, TRM 3.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prescale {
    /// TIMCLK / 1.
    Divide1,
    /// TIMCLK / 16.
    Divide16,
    /// TIMCLK / 256.
    Divide256,
}

impl Prescale {
    const fn divisor(self) -> u32 {
        match self {
            Self::Divide1 => 1,
            Self::Divide16 => 16,
            Self::Divide256 => 256,
        }
    }

    fn control_bits(self) -> FieldValue<u32, CONTROL::Register> {
        match self {
            Self::Divide1 => CONTROL::TIMER_PRE::Divide1,
            Self::Divide16 => CONTROL::TIMER_PRE::Divide16,
            Self::Divide256 => CONTROL::TIMER_PRE::Divide256,
        }
    }
}

/// An SP804: timer 1 is the clock, timer 2 the alarm.
pub struct Sp804<R> {
    registers: R,
    tick_hz: u32,
    prescale: Prescale,
    /// Wraps of timer 1 accounted so far (each 2^32 ticks).
    wraps: u64,
    /// Alarm ticks still to run after the current 32-bit period.
    alarm_remaining: u64,
    /// Timer 2 runs in periodic mode (see [`Sp804::start_periodic`]).
    periodic: bool,
}

impl<R: Registers> Sp804<R> {
    /// Takes over the SP804 at `registers`, clocked by TIMCLK at
    /// `timer_clock_hz`, and starts the clock (timer 1 free-running, no
    /// interrupt) with the alarm disarmed. The clock starts at 0.
    ///
    /// Timer 1 counts the wraps itself: its raw interrupt latches each one
    /// (every 2^32 ticks, 71 minutes at 1 MHz) and the clock accounts it,
    /// so the 64-bit count loses no wrap however long nothing reads it, as
    /// long as the SP804's line reaches [`Sp804::handle_interrupt`] (its
    /// interrupt is enabled so that a wrap wakes the CPU).
    pub fn new(registers: R, timer_clock_hz: u32, prescale: Prescale) -> Result<Self, Error> {
        let tick_hz = timer_clock_hz / prescale.divisor();
        if tick_hz == 0 {
            return Err(Error::ZeroTickRate);
        }
        let timer =
            Self { registers, tick_hz, prescale, wraps: 0, alarm_remaining: 0, periodic: false };
        for counter in [Counter::Timer1, Counter::Timer2] {
            timer.registers.control(counter).set(0);
            timer.registers.int_clr(counter).write(INT::INT::SET);
        }
        // Free-running mode counts down from 0xffffffff and wraps there.
        timer.registers.load(Counter::Timer1).set(u32::MAX);
        // Free-running with its interrupt: it fires as the count passes
        // zero and wraps (TRM 2.3.1), once per 2^32 ticks.
        let free_running = CONTROL::TIMER_EN::SET
            + CONTROL::TIMER_SIZE::Bits32
            + CONTROL::INT_ENABLE::SET
            + prescale.control_bits();
        timer.registers.control(Counter::Timer1).write(free_running);
        Ok(timer)
    }

    /// Interrupt entry point for the SP804's line: accounts a wrap of the
    /// clock (timer 1) and returns [`Alarm::take_expired`]: true when the
    /// alarm has fully run out.
    pub fn handle_interrupt(&mut self) -> bool {
        self.account_wrap();
        self.take_expired()
    }

    /// Counts a wrap latched in timer 1's raw interrupt, and clears it.
    /// Returns whether there was one.
    fn account_wrap(&mut self) -> bool {
        let clock = Counter::Timer1;
        if !self.registers.ris(clock).is_set(INT::INT) {
            return false;
        }
        self.registers.int_clr(clock).write(INT::INT::SET);
        self.wraps += 1;
        true
    }

    /// Runs timer 2 in periodic mode (TRM 2.3.2): an interrupt every
    /// `period` ticks, reloaded by the hardware so periods do not drift
    /// with interrupt latency. The counter spends one tick on the reload
    /// after reaching zero, so TimerXLoad holds `period - 1` and the first
    /// period (counted from the load itself) is one tick shorter.
    /// [`Sp804::handle_interrupt`] then reports each period once. Replaces the alarm until the next [`Alarm::arm_after`]
    /// or [`Alarm::disarm`].
    pub fn start_periodic(&mut self, period: u32) -> Result<(), Error> {
        if period == 0 {
            return Err(Error::ZeroPeriod);
        }
        self.alarm_remaining = 0;
        self.periodic = true;
        let timer = Counter::Timer2;
        self.registers.control(timer).set(0);
        self.registers.int_clr(timer).write(INT::INT::SET);
        self.registers.load(timer).set(period - 1);
        let periodic = CONTROL::TIMER_EN::SET
            + CONTROL::TIMER_MODE::Periodic
            + CONTROL::TIMER_SIZE::Bits32
            + CONTROL::INT_ENABLE::SET
            + self.prescale.control_bits();
        self.registers.control(timer).write(periodic);
        Ok(())
    }

    /// Gives back the register access.
    pub fn release(self) -> R {
        self.registers
    }

    /// Starts the next period of the alarm, at most 2^32 - 1 ticks.
    fn start_alarm_period(&mut self) {
        let period = self.alarm_remaining.clamp(1, u64::from(u32::MAX));
        self.alarm_remaining = self.alarm_remaining.saturating_sub(period);
        let alarm = Counter::Timer2;
        self.registers.control(alarm).set(0);
        self.registers.int_clr(alarm).write(INT::INT::SET);
        self.registers.load(alarm).set(period as u32);
        let one_shot = CONTROL::TIMER_EN::SET
            + CONTROL::ONE_SHOT::SET
            + CONTROL::TIMER_SIZE::Bits32
            + CONTROL::INT_ENABLE::SET
            + self.prescale.control_bits();
        self.registers.control(alarm).write(one_shot);
    }
}

impl<R: Registers> Monotonic for Sp804<R> {
    fn tick_hz(&self) -> u64 {
        u64::from(self.tick_hz)
    }

    fn now(&mut self) -> u64 {
        loop {
            let count = self.registers.value(Counter::Timer1).get();
            // No wrap latched, before or since the read: the count belongs
            // to the wraps counted. (One latched: count it, read again.)
            if !self.account_wrap() {
                // A down-counter from 0xffffffff: the ticks of this period.
                return (self.wraps << 32) + u64::from(u32::MAX - count);
            }
        }
    }
}

impl<R: Registers> Alarm for Sp804<R> {
    fn arm_after(&mut self, ticks: u64) {
        self.periodic = false;
        self.alarm_remaining = ticks;
        self.start_alarm_period();
    }

    fn disarm(&mut self) {
        self.periodic = false;
        self.alarm_remaining = 0;
        self.registers.control(Counter::Timer2).set(0);
        self.registers.int_clr(Counter::Timer2).write(INT::INT::SET);
    }

    fn take_expired(&mut self) -> bool {
        if !self.registers.ris(Counter::Timer2).is_set(INT::INT) {
            return false;
        }
        self.registers.int_clr(Counter::Timer2).write(INT::INT::SET);
        if self.periodic {
            return true;
        }
        if self.alarm_remaining > 0 {
            self.start_alarm_period();
            return false;
        }
        self.registers.control(Counter::Timer2).set(0);
        true
    }
}

impl<R: Registers> embedded_hal::delay::DelayNs for Sp804<R> {
    /// Busy-waits on the clock; never returns early. The clock counts
    /// whole ticks (a microsecond at the PBX-A9's 1 MHz), and the first
    /// reading may come just before the count moves on: the wait lasts
    /// until the count is more than the ticks asked past it.
    fn delay_ns(&mut self, ns: u32) {
        if ns == 0 {
            return;
        }
        let ticks = ns_to_ticks(u64::from(ns), u64::from(self.tick_hz));
        let start = self.now();
        while self.now() - start <= ticks {
            core::hint::spin_loop();
        }
    }
}
