//! Behavioural model of an AXI Timer block (PG079) for host tests.

extern crate std;

use core::cell::{Cell, RefCell};
use std::vec::Vec;

use ferrode_hal::mmio::LocalRegisterCopy;

use crate::regs::{Counter, Register, TCSR};

type Tcsr = LocalRegisterCopy<u32, TCSR::Register>;

#[derive(Clone, Copy)]
struct Unit {
    tcsr: Tcsr,
    tlr: u32,
    tcr: u32,
    reload_pending: bool,
}

impl Default for Unit {
    fn default() -> Self {
        Self { tcsr: Tcsr::new(0), tlr: 0, tcr: 0, reload_pending: false }
    }
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
        if u0.tcsr.is_set(TCSR::CASC) {
            if counting(u0.tcsr) {
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
        s.units.iter().any(|u| u.tcsr.matches_all(TCSR::TINT::SET + TCSR::ENIT::SET))
    }

    /// Sets a counter value directly (test setup).
    pub fn set_count(&self, counter: Counter, value: u32) {
        self.state.borrow_mut().units[index(counter)].tcr = value;
    }

    pub fn writes(&self) -> Vec<(usize, u32)> {
        self.state.borrow().writes.clone()
    }
}

/// ENT set and LOAD clear: the counter moves.
fn counting(tcsr: Tcsr) -> bool {
    tcsr.matches_all(TCSR::ENT::SET + TCSR::LOAD::CLEAR)
}

fn advance_unit(unit: &mut Unit, mut ticks: u64) {
    while ticks > 0 && counting(unit.tcsr) {
        if unit.reload_pending {
            unit.reload_pending = false;
            unit.tcr = unit.tlr;
            ticks -= 1;
            continue;
        }
        let down = unit.tcsr.matches_all(TCSR::UDT::Down);
        let to_rollover =
            if down { u64::from(unit.tcr) + 1 } else { u64::from(u32::MAX - unit.tcr) + 1 };
        if ticks < to_rollover {
            unit.tcr = if down { unit.tcr - ticks as u32 } else { unit.tcr + ticks as u32 };
            return;
        }
        ticks -= to_rollover;
        unit.tcr = if down { u32::MAX } else { 0 };
        unit.tcsr.modify(TCSR::TINT::SET);
        if unit.tcsr.is_set(TCSR::ARHT) {
            unit.reload_pending = true;
        } else {
            unit.tcsr.modify(TCSR::ENT::CLEAR); // one-shot: the counter stops
        }
    }
}

impl ferrode_hal::RegisterAccess<Register> for TimerModel {
    fn read(&self, register: Register) -> u32 {
        let value = {
            let s = self.state.borrow();
            match register {
                Register::Tcsr(c) => s.units[index(c)].tcsr.get(),
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
                let written = Tcsr::new(value);
                // TINT is write-1-to-clear: it stays set unless written 1.
                let tint = unit.tcsr.is_set(TCSR::TINT) && !written.is_set(TCSR::TINT);
                let enabling = !unit.tcsr.is_set(TCSR::ENT) && written.is_set(TCSR::ENT);
                let mut stored = written;
                stored.modify(TCSR::TINT.val(u32::from(tint)));
                if !self.cascade_supported || c == Counter::One {
                    // TCSR1 has no CASC; neither has a core without cascade.
                    stored.modify(TCSR::CASC::CLEAR);
                }
                unit.tcsr = stored;
                if enabling {
                    // One cycle to load TLR before counting: with the
                    // rollover cycle this makes PG079's "TLR + 2" interval.
                    unit.reload_pending = true;
                }
                if written.is_set(TCSR::LOAD) {
                    unit.tcr = unit.tlr;
                    unit.reload_pending = false;
                }
            }
            Register::Tlr(c) => s.units[index(c)].tlr = value,
            Register::Tcr(_) => {}
        }
    }
}
