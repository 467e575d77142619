//! Behavioural model of the AXI GPIO (PG144) for host tests.

extern crate std;

use core::cell::RefCell;
use std::vec::Vec;

use ferrode_hal::mmio::LocalRegisterCopy;

use crate::Channel;
use crate::regs::{GIER, IP_INTERRUPT, Register};

/// IP ISR and IP IER bits of both channels.
const CHANNELS: u32 = IP_INTERRUPT::CHANNEL_1::SET.value | IP_INTERRUPT::CHANNEL_2::SET.value;

struct State {
    data_out: [u32; 2],
    tri: [u32; 2],
    pins_in: [u32; 2],
    gier: LocalRegisterCopy<u32, GIER::Register>,
    isr: u32,
    ier: u32,
    writes: Vec<(usize, u32)>,
}

/// PG144 semantics: TRI 1 = input; reading DATA returns the input pins and
/// 0 for outputs (output read-back is unreliable, so a driver must not rely
/// on it); an input change latches the channel's IP ISR bit; writing IP ISR
/// toggles every bit written as 1; the interrupt output is
/// GIER & (ISR & IER).
pub struct GpioModel {
    state: RefCell<State>,
}

impl GpioModel {
    pub fn new() -> Self {
        let s = State {
            tri: [u32::MAX; 2],
            data_out: [0; 2],
            pins_in: [0; 2],
            gier: LocalRegisterCopy::new(0),
            isr: 0,
            ier: 0,
            writes: Vec::new(),
        };
        Self { state: RefCell::new(s) }
    }

    /// The outside world drives channel `ch` (0 or 1) input pins to `levels`.
    pub fn drive_inputs(&self, ch: usize, levels: u32) {
        let mut s = self.state.borrow_mut();
        let inputs = s.tri[ch];
        if (s.pins_in[ch] ^ levels) & inputs != 0 {
            s.isr |= [Channel::One, Channel::Two][ch].interrupt_bit();
        }
        s.pins_in[ch] = levels;
    }

    /// Levels on the output pins of channel `ch`.
    pub fn driven(&self, ch: usize) -> u32 {
        let s = self.state.borrow();
        s.data_out[ch] & !s.tri[ch]
    }

    pub fn irq(&self) -> bool {
        let s = self.state.borrow();
        s.gier.is_set(GIER::GLOBAL_INTERRUPT_ENABLE) && s.isr & s.ier != 0
    }

    pub fn isr(&self) -> u32 {
        self.state.borrow().isr
    }

    pub fn writes(&self) -> Vec<(usize, u32)> {
        self.state.borrow().writes.clone()
    }

    pub fn clear_log(&self) {
        self.state.borrow_mut().writes.clear();
    }
}

impl ferrode_hal::RegisterAccess<Register> for GpioModel {
    fn read(&self, register: Register) -> u32 {
        let s = self.state.borrow();
        match register {
            Register::GpioData => s.pins_in[0] & s.tri[0],
            Register::Gpio2Data => s.pins_in[1] & s.tri[1],
            Register::GpioTri => s.tri[0],
            Register::Gpio2Tri => s.tri[1],
            Register::Gier => s.gier.get(),
            Register::IpIsr => s.isr,
            Register::IpIer => s.ier,
        }
    }

    fn write(&self, register: Register, value: u32) {
        let mut s = self.state.borrow_mut();
        s.writes.push((register.offset(), value));
        match register {
            Register::GpioData => s.data_out[0] = value,
            Register::Gpio2Data => s.data_out[1] = value,
            Register::GpioTri => s.tri[0] = value,
            Register::Gpio2Tri => s.tri[1] = value,
            Register::Gier => {
                let enable = GIER::GLOBAL_INTERRUPT_ENABLE.read(value);
                s.gier.write(GIER::GLOBAL_INTERRUPT_ENABLE.val(enable));
            }
            // Writing 1 toggles a status bit.
            Register::IpIsr => s.isr ^= value & CHANNELS,
            Register::IpIer => s.ier = value & CHANNELS,
        }
    }
}
