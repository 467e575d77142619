//! The cascaded 64-bit free-running counter as a monotonic clock.

use embedded_hal::delay::DelayNs;
use ferrode_hal::{Monotonic, ns_to_ticks};

use crate::regs::{Counter, Registers, TCSR};
use crate::timer::UP_COUNT_WRAP_PERIOD;
use ferrode_hal::mmio::{Readable, Writeable};

/// How the 64-bit count is obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterWidth {
    /// Cascade mode: TCR1:TCR0 is a 64-bit hardware counter.
    Cascaded,
    /// The block has no cascade mode (C_ONE_TIMER_ONLY, older cores, or
    /// QEMU 10.0, whose model ignores CASC): counter 0 runs as a 32-bit
    /// up counter and [`Monotonic::now`] counts its rollovers. `now` must
    /// then be called at least once per 2^32 cycles (43 s at 100 MHz).
    Extended,
}

/// Both counters of a block as one free-running up counter from 0.
#[derive(Debug)]
pub struct MonotonicCounter<R> {
    regs: R,
    clock_hz: u32,
    width: CounterWidth,
    rollovers: u64,
    last_low: u32,
}

impl<R: Registers> MonotonicCounter<R> {
    /// Starts the count from 0. Writes TLR0 = 0, TLR1 = 0, TCSR0 = LOAD,
    /// TCSR1 = LOAD, TCSR1 = 0, TCSR0 = CASC | ENT | ARHT (0x890); reads
    /// TCSR0 back to see whether CASC stuck.
    pub(crate) fn start(regs: R, clock_hz: u32) -> Self {
        regs.tlr(Counter::Zero).set(0);
        regs.tlr(Counter::One).set(0);
        regs.tcsr(Counter::Zero).write(TCSR::LOAD::SET);
        regs.tcsr(Counter::One).write(TCSR::LOAD::SET);
        regs.tcsr(Counter::One).set(0);
        regs.tcsr(Counter::Zero).write(
            TCSR::CASC::SET
                + TCSR::MDT::Generate
                + TCSR::UDT::Up
                + TCSR::ENT::SET
                + TCSR::ARHT::SET,
        );
        let width = if regs.tcsr(Counter::Zero).is_set(TCSR::CASC) {
            CounterWidth::Cascaded
        } else {
            CounterWidth::Extended
        };
        Self { regs, clock_hz, width, rollovers: 0, last_low: 0 }
    }

    /// Whether the count is cascaded in hardware or extended in software.
    pub fn width(&self) -> CounterWidth {
        self.width
    }

    fn read_cascaded(&self) -> u64 {
        let high = self.regs.tcr(Counter::One).get();
        let low = self.regs.tcr(Counter::Zero).get();
        let high_again = self.regs.tcr(Counter::One).get();
        if high == high_again {
            combine(high, low)
        } else {
            // The low half wrapped between the two reads: it is now small
            // and belongs with the second high half.
            combine(high_again, self.regs.tcr(Counter::Zero).get())
        }
    }

    fn read_extended(&mut self) -> u64 {
        let low = self.regs.tcr(Counter::Zero).get();
        if low < self.last_low {
            self.rollovers += 1;
        }
        self.last_low = low;
        self.rollovers * UP_COUNT_WRAP_PERIOD + u64::from(low)
    }
}

const fn combine(high: u32, low: u32) -> u64 {
    ((high as u64) << 32) | low as u64
}

impl<R: Registers> Monotonic for MonotonicCounter<R> {
    fn tick_hz(&self) -> u64 {
        u64::from(self.clock_hz)
    }

    fn now(&mut self) -> u64 {
        match self.width {
            CounterWidth::Cascaded => self.read_cascaded(),
            CounterWidth::Extended => self.read_extended(),
        }
    }
}

impl<R: Registers> DelayNs for MonotonicCounter<R> {
    fn delay_ns(&mut self, ns: u32) {
        let ticks = ns_to_ticks(u64::from(ns), self.tick_hz());
        let start = self.now();
        while self.now().wrapping_sub(start) < ticks {
            core::hint::spin_loop();
        }
    }
}
