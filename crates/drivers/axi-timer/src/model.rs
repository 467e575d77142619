//! Behavioural model of an AXI Timer block (PG079) for host tests.

extern crate std;

use core::cell::{Cell, RefCell};
use std::vec::Vec;

use crate::regs::{
    Counter, Register, TCSR_ARHT, TCSR_CASC, TCSR_ENIT, TCSR_ENT, TCSR_LOAD, TCSR_TINT, TCSR_UDT,
};

#[derive(Default, Clone, Copy)]
struct Unit {
    tcsr: u32,
    tlr: u32,
    tcr: u32,
    reload_pending: bool,
}

#[derive(Default)]
struct State {
    units: [Unit; 2],
    writes: Vec<(usize, u32)>,
}

/// Generate mode: down count TLR..0, a rollover cycle, a reload cycle
/// (period TLR + 2); up count TLR..MAX likewise (MAX - TLR + 2). Cascade
/// counts TCR1:TCR0 up as one 64-bit value. TINT is write-1-to-clear.
pub struct TimerModel {
    cascade_supported: bool,
    state: RefCell<State>,
    /// Cycles that pass on every register read (to provoke read races).
    pub ticks_per_read: Cell<u64>,
}

fn index(counter: Counter) -> usize {
    match counter {
        Counter::Zero => 0,
        Counter::One => 1,
    }
}

impl TimerModel {
    pub fn new(cascade_supported: bool) -> Self {
        Self {
            cascade_supported,
            state: RefCell::new(State::default()),
            ticks_per_read: Cell::new(0),
        }
    }

    pub fn advance(&self, ticks: u64) {
        let mut s = self.state.borrow_mut();
        let u0 = s.units[0];
        if u0.tcsr & TCSR_CASC != 0 {
            if u0.tcsr & TCSR_ENT != 0 && u0.tcsr & TCSR_LOAD == 0 {
                let value =
                    (u64::from(s.units[1].tcr) << 32 | u64::from(u0.tcr)).wrapping_add(ticks);
                s.units[0].tcr = value as u32;
                s.units[1].tcr = (value >> 32) as u32;
            }
            return;
        }
        for unit in &mut s.units {
            advance_unit(unit, ticks);
        }
    }

    /// The block's interrupt output.
    pub fn irq(&self) -> bool {
        let s = self.state.borrow();
        s.units.iter().any(|u| u.tcsr & TCSR_TINT != 0 && u.tcsr & TCSR_ENIT != 0)
    }

    /// Sets a counter value directly (test setup).
    pub fn set_count(&self, counter: Counter, value: u32) {
        self.state.borrow_mut().units[index(counter)].tcr = value;
    }

    pub fn writes(&self) -> Vec<(usize, u32)> {
        self.state.borrow().writes.clone()
    }
}

fn advance_unit(unit: &mut Unit, mut ticks: u64) {
    while ticks > 0 && unit.tcsr & TCSR_ENT != 0 && unit.tcsr & TCSR_LOAD == 0 {
        if unit.reload_pending {
            unit.reload_pending = false;
            unit.tcr = unit.tlr;
            ticks -= 1;
            continue;
        }
        let down = unit.tcsr & TCSR_UDT != 0;
        let to_rollover =
            if down { u64::from(unit.tcr) + 1 } else { u64::from(u32::MAX - unit.tcr) + 1 };
        if ticks < to_rollover {
            unit.tcr = if down { unit.tcr - ticks as u32 } else { unit.tcr + ticks as u32 };
            return;
        }
        ticks -= to_rollover;
        unit.tcr = if down { u32::MAX } else { 0 };
        unit.tcsr |= TCSR_TINT;
        if unit.tcsr & TCSR_ARHT != 0 {
            unit.reload_pending = true;
        } else {
            unit.tcsr &= !TCSR_ENT; // one-shot: the counter stops
        }
    }
}

impl ferrode_hal::RegisterAccess<Register> for TimerModel {
    fn read(&self, register: Register) -> u32 {
        let value = {
            let s = self.state.borrow();
            match register {
                Register::Tcsr(c) => s.units[index(c)].tcsr,
                Register::Tlr(c) => s.units[index(c)].tlr,
                Register::Tcr(c) => s.units[index(c)].tcr,
            }
        };
        self.advance(self.ticks_per_read.get());
        value
    }

    fn write(&self, register: Register, value: u32) {
        let mut s = self.state.borrow_mut();
        s.writes.push((register.offset(), value));
        match register {
            Register::Tcsr(c) => {
                let unit = &mut s.units[index(c)];
                let tint = unit.tcsr & TCSR_TINT & !value;
                let enabling = unit.tcsr & TCSR_ENT == 0 && value & TCSR_ENT != 0;
                let mut stored = value & !TCSR_TINT;
                if !self.cascade_supported || c == Counter::One {
                    stored &= !TCSR_CASC;
                }
                unit.tcsr = stored | tint;
                if enabling {
                    // One cycle to load TLR before counting: with the
                    // rollover cycle this makes PG079's "TLR + 2" interval.
                    unit.reload_pending = true;
                }
                if value & TCSR_LOAD != 0 {
                    unit.tcr = unit.tlr;
                    unit.reload_pending = false;
                }
            }
            Register::Tlr(c) => s.units[index(c)].tlr = value,
            Register::Tcr(_) => {}
        }
    }
}
