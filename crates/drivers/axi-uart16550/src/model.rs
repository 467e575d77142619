//! Behavioural model of a 16550 for host tests: 16-byte FIFOs, the divisor
//! latch behind LCR.DLAB, LSR flags cleared by reading LSR, loopback.

extern crate std;

use core::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::vec::Vec;

use crate::regs::{FIFO_DEPTH, Register};

#[derive(Default)]
pub struct Model16550 {
    pub rx: RefCell<VecDeque<u8>>,
    pub tx: RefCell<VecDeque<u8>>,
    /// Characters that went out on the line.
    pub wire: RefCell<Vec<u8>>,
    pub dll: Cell<u32>,
    pub dlm: Cell<u32>,
    pub ier: Cell<u32>,
    pub lcr: Cell<u32>,
    pub mcr: Cell<u32>,
    pub fcr: Cell<u32>,
    /// Error flags (OE, PE, FE, BI) waiting to be read from LSR.
    pub errors: Cell<u32>,
    /// The line sends this many characters per LSR read (time passing as
    /// the CPU polls).
    pub sent_per_status_read: Cell<usize>,
    pub lsr_reads: Cell<u32>,
}

impl Model16550 {
    fn dlab(&self) -> bool {
        self.lcr.get() & (1 << 7) != 0
    }

    /// A character arrives; at a full FIFO it is lost (OE).
    pub fn receive(&self, byte: u8) {
        let mut rx = self.rx.borrow_mut();
        if rx.len() == FIFO_DEPTH {
            self.errors.set(self.errors.get() | 1 << 1);
        } else {
            rx.push_back(byte);
        }
    }

    /// The line sends `count` characters.
    pub fn send(&self, count: usize) {
        for _ in 0..count {
            let Some(byte) = self.tx.borrow_mut().pop_front() else {
                break;
            };
            if self.mcr.get() & (1 << 4) != 0 {
                self.receive(byte);
            } else {
                self.wire.borrow_mut().push(byte);
            }
        }
    }
}

impl ferrode_hal::RegisterAccess<Register> for Model16550 {
    fn read(&self, register: Register) -> u32 {
        match register {
            Register::RbrThr if self.dlab() => self.dll.get(),
            Register::RbrThr => self.rx.borrow_mut().pop_front().map_or(0, u32::from),
            Register::Ier if self.dlab() => self.dlm.get(),
            Register::Ier => self.ier.get(),
            // Received data available (with the FIFOs' bits 7:6), else none.
            Register::IirFcr if self.ier.get() & 1 != 0 && !self.rx.borrow().is_empty() => 0xc4,
            Register::IirFcr => 1,
            Register::Lcr => self.lcr.get(),
            Register::Mcr => self.mcr.get(),
            Register::Lsr => {
                self.lsr_reads.set(self.lsr_reads.get() + 1);
                self.send(self.sent_per_status_read.get());
                let mut status = self.errors.replace(0);
                if !self.rx.borrow().is_empty() {
                    status |= 1 << 0;
                }
                if self.tx.borrow().is_empty() {
                    status |= (1 << 5) | (1 << 6);
                }
                status
            }
            Register::Msr | Register::Scr => 0,
        }
    }

    fn write(&self, register: Register, value: u32) {
        match register {
            Register::RbrThr if self.dlab() => self.dll.set(value & 0xff),
            Register::RbrThr => {
                let mut tx = self.tx.borrow_mut();
                assert!(
                    tx.len() < FIFO_DEPTH,
                    "THR written with the TX FIFO full: the byte is lost"
                );
                tx.push_back(value as u8);
            }
            Register::Ier if self.dlab() => self.dlm.set(value & 0xff),
            Register::Ier => self.ier.set(value & 0x0f),
            Register::IirFcr => {
                if value & (1 << 1) != 0 {
                    self.rx.borrow_mut().clear();
                }
                if value & (1 << 2) != 0 {
                    self.tx.borrow_mut().clear();
                }
                self.fcr.set(value & 0xc9);
            }
            Register::Lcr => self.lcr.set(value & 0xff),
            Register::Mcr => self.mcr.set(value & 0x1f),
            Register::Lsr | Register::Msr | Register::Scr => {}
        }
    }
}
