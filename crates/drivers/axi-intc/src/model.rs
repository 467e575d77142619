//! Behavioural model of the AXI INTC (PG099) for host tests.

extern crate std;

use core::cell::RefCell;
use std::vec::Vec;

use ferrode_hal::mmio::LocalRegisterCopy;

use crate::regs::{MER, Register};

struct State {
    isr: u32,
    ier: u32,
    mer: LocalRegisterCopy<u32, MER::Register>,
    pins: u32,
    writes: Vec<(usize, u32)>,
}

/// Inputs with `edge` bits latch on a rising edge, the others latch while
/// high (after HIE); IAR clears, SIE/CIE set and clear IER.
pub struct IntcModel {
    edge: u32,
    state: RefCell<State>,
}

impl IntcModel {
    pub fn new(edge: u32) -> Self {
        let state =
            State { isr: 0, ier: 0, mer: LocalRegisterCopy::new(0), pins: 0, writes: Vec::new() };
        Self { edge, state: RefCell::new(state) }
    }

    fn latch_levels(&self, s: &mut State) {
        if s.mer.is_set(MER::HIE) {
            s.isr |= s.pins & !self.edge;
        }
    }

    /// Drives input `n` to `level`.
    pub fn set_input(&self, n: u32, level: bool) {
        let mut s = self.state.borrow_mut();
        let bit = 1 << n;
        let rising = level && s.pins & bit == 0;
        if level {
            s.pins |= bit
        } else {
            s.pins &= !bit
        }
        if rising && self.edge & bit != 0 && s.mer.is_set(MER::HIE) {
            s.isr |= bit;
        }
        self.latch_levels(&mut s);
    }

    /// The controller's output to the CPU.
    pub fn irq_out(&self) -> bool {
        let s = self.state.borrow();
        s.mer.is_set(MER::ME) && s.isr & s.ier != 0
    }

    pub fn isr(&self) -> u32 {
        self.state.borrow().isr
    }

    /// (offset, value) of every write, in order.
    pub fn writes(&self) -> Vec<(usize, u32)> {
        self.state.borrow().writes.clone()
    }
}

impl ferrode_hal::RegisterAccess<Register> for IntcModel {
    fn read(&self, register: Register) -> u32 {
        let s = self.state.borrow();
        match register {
            Register::Isr => s.isr,
            Register::Ipr => s.isr & s.ier,
            Register::Ier => s.ier,
            Register::Ivr => {
                let p = s.isr & s.ier;
                if p == 0 { u32::MAX } else { p.trailing_zeros() }
            }
            Register::Mer => s.mer.get(),
            Register::Iar | Register::Sie | Register::Cie => 0,
        }
    }

    fn write(&self, register: Register, value: u32) {
        let mut s = self.state.borrow_mut();
        s.writes.push((register.offset(), value));
        match register {
            Register::Isr if !s.mer.is_set(MER::HIE) => s.isr = value,
            Register::Isr | Register::Ipr | Register::Ivr => {}
            Register::Ier => s.ier = value,
            Register::Iar => s.isr &= !value,
            Register::Sie => s.ier |= value,
            Register::Cie => s.ier &= !value,
            // HIE is write-once: it cannot be cleared.
            Register::Mer => {
                let hie = s.mer.is_set(MER::HIE) || MER::HIE.is_set(value);
                s.mer.write(MER::ME.val(MER::ME.read(value)) + MER::HIE.val(u32::from(hie)));
            }
        }
        self.latch_levels(&mut s);
    }
}
