//! Behavioural model of an SP804 for host tests: counters that run when
//! told to, one-shot and free-running modes, interrupt latch and clear.

use std::cell::RefCell;
use std::rc::Rc;

use ferrode_hal::RegisterAccess;

use crate::regs::{Counter, Register};

#[derive(Default, Clone, Copy)]
pub struct ModelCounter {
    pub load: u32,
    pub value: u32,
    pub control: u32,
    pub raw_interrupt: bool,
    /// TIMCLK cycles not yet turned into a tick by the prescaler.
    prescale_residue: u64,
}

impl ModelCounter {
    fn enabled(&self) -> bool {
        self.control & (1 << 7) != 0
    }

    fn prescale(&self) -> u64 {
        match (self.control >> 2) & 3 {
            0 => 1,
            1 => 16,
            _ => 256,
        }
    }

    fn advance(&mut self, cycles: u64) {
        if !self.enabled() {
            return;
        }
        let total = self.prescale_residue + cycles;
        let mut ticks = total / self.prescale();
        self.prescale_residue = total % self.prescale();
        let one_shot = self.control & 1 != 0;
        let periodic = self.control & (1 << 6) != 0;
        while ticks > 0 {
            if one_shot && self.value == 0 {
                return;
            }
            let step = ticks.min(u64::from(self.value));
            if step > 0 {
                self.value -= step as u32;
                ticks -= step;
                if self.value == 0 {
                    self.raw_interrupt = true;
                }
                continue;
            }
            // At 0 with ticks left: reload (periodic) or wrap (free-running).
            if one_shot {
                return;
            }
            self.value = if periodic { self.load } else { u32::MAX };
            ticks -= 1;
        }
    }
}

/// Both counters plus a cycle count the tests steer.
#[derive(Default)]
pub struct ModelState {
    pub counters: [ModelCounter; 2],
    /// TIMCLK cycles that pass on every register read (a running CPU).
    pub cycles_per_read: u64,
    /// TIMCLK cycles passed in all.
    pub cycles: u64,
}

impl ModelState {
    pub fn advance(&mut self, cycles: u64) {
        self.cycles += cycles;
        for counter in &mut self.counters {
            counter.advance(cycles);
        }
    }
}

/// A shared handle, so a test can let time pass while the driver holds it.
#[derive(Clone, Default)]
pub struct ModelTimer(pub Rc<RefCell<ModelState>>);

fn index(counter: Counter) -> usize {
    match counter {
        Counter::Timer1 => 0,
        Counter::Timer2 => 1,
    }
}

impl RegisterAccess<Register> for ModelTimer {
    fn read(&self, register: Register) -> u32 {
        let mut state = self.0.borrow_mut();
        let cycles = state.cycles_per_read;
        state.advance(cycles);
        match register {
            Register::Load(c) | Register::BgLoad(c) => state.counters[index(c)].load,
            Register::Value(c) => state.counters[index(c)].value,
            Register::Control(c) => state.counters[index(c)].control,
            Register::Ris(c) => u32::from(state.counters[index(c)].raw_interrupt),
            Register::Mis(c) => {
                let counter = state.counters[index(c)];
                u32::from(counter.raw_interrupt && counter.control & (1 << 5) != 0)
            }
            Register::IntClr(_) => 0,
        }
    }

    fn write(&self, register: Register, value: u32) {
        let mut state = self.0.borrow_mut();
        match register {
            Register::Load(c) => {
                let counter = &mut state.counters[index(c)];
                counter.load = value;
                counter.value = value;
            }
            Register::BgLoad(c) => state.counters[index(c)].load = value,
            Register::Control(c) => state.counters[index(c)].control = value,
            Register::IntClr(c) => state.counters[index(c)].raw_interrupt = false,
            Register::Value(_) | Register::Ris(_) | Register::Mis(_) => {}
        }
    }
}
