//! Behavioural model of a 16550 for host tests: 16-byte FIFOs, the divisor
//! latch behind LCR.DLAB, LSR flags cleared by reading LSR, loopback, and
//! the received-data interrupts as the FIFOs raise them (data at the
//! trigger level, or a character timeout below it).

extern crate std;

use core::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::vec::Vec;

use ferrode_hal::mmio::FieldValue;

use crate::regs::{FCR, FIFO_DEPTH, IER, IIR, LCR, LSR, MCR, Register};

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
    /// Four character times passed with data in the RX FIFO and no
    /// character arriving or read (the character-timeout condition).
    pub receive_idle: Cell<bool>,
    /// The line sends this many characters per LSR read (time passing as
    /// the CPU polls).
    pub sent_per_status_read: Cell<usize>,
    pub lsr_reads: Cell<u32>,
}

/// The bits of `field` if `on`, else none.
fn flag<R: ferrode_hal::mmio::RegisterLongName>(field: FieldValue<u32, R>, on: bool) -> u32 {
    if on { field.value } else { 0 }
}

impl Model16550 {
    fn dlab(&self) -> bool {
        LCR::DLAB.is_set(self.lcr.get())
    }

    fn fifos_enabled(&self) -> bool {
        FCR::FIFOEN.is_set(self.fcr.get())
    }

    /// Received characters that raise the received-data interrupt: the
    /// FCR trigger level with FIFOs, every character without.
    fn trigger_level(&self) -> usize {
        if !self.fifos_enabled() {
            return 1;
        }
        match FCR::RCVR_FIFO_TRIGGER_LEVEL.read_as_enum(self.fcr.get()) {
            Some(FCR::RCVR_FIFO_TRIGGER_LEVEL::Value::One) | None => 1,
            Some(FCR::RCVR_FIFO_TRIGGER_LEVEL::Value::Four) => 4,
            Some(FCR::RCVR_FIFO_TRIGGER_LEVEL::Value::Eight) => 8,
            Some(FCR::RCVR_FIFO_TRIGGER_LEVEL::Value::Fourteen) => 14,
        }
    }

    /// A character arrives; at a full FIFO it is lost (OE).
    pub fn receive(&self, byte: u8) {
        let mut rx = self.rx.borrow_mut();
        if rx.len() == FIFO_DEPTH {
            self.errors.set(self.errors.get() | LSR::OE::SET.value);
        } else {
            rx.push_back(byte);
        }
        self.receive_idle.set(false);
    }

    /// Four character times pass without a character arriving: with data
    /// below the trigger level, the character timeout interrupt is due.
    pub fn line_idle(&self) {
        self.receive_idle.set(true);
    }

    /// The line sends `count` characters.
    pub fn send(&self, count: usize) {
        for _ in 0..count {
            let Some(byte) = self.tx.borrow_mut().pop_front() else {
                break;
            };
            if MCR::LOOP.is_set(self.mcr.get()) {
                self.receive(byte);
            } else {
                self.wire.borrow_mut().push(byte);
            }
        }
    }

    /// IIR: the received-data interrupts (the only ones the driver
    /// enables), the FIFOs' state in bits 7:6.
    fn interrupt_identification(&self) -> u32 {
        let waiting = self.rx.borrow().len();
        let enabled = IER::ERBFI.is_set(self.ier.get());
        let id = if enabled && waiting >= self.trigger_level() {
            IIR::INTID::ReceivedDataAvailable
        } else if enabled && waiting > 0 && self.fifos_enabled() && self.receive_idle.get() {
            IIR::INTID::CharacterTimeout
        } else {
            IIR::INTPEND::SET
        };
        id.value | flag(IIR::FIFOEN::Enabled, self.fifos_enabled())
    }
}

impl ferrode_hal::RegisterAccess<Register> for Model16550 {
    fn read(&self, register: Register) -> u32 {
        match register {
            Register::RbrThr if self.dlab() => self.dll.get(),
            Register::RbrThr => {
                // Reading RBR restarts the character timeout.
                self.receive_idle.set(false);
                self.rx.borrow_mut().pop_front().map_or(0, u32::from)
            }
            Register::Ier if self.dlab() => self.dlm.get(),
            Register::Ier => self.ier.get(),
            Register::IirFcr => self.interrupt_identification(),
            Register::Lcr => self.lcr.get(),
            Register::Mcr => self.mcr.get(),
            Register::Lsr => {
                self.lsr_reads.set(self.lsr_reads.get() + 1);
                self.send(self.sent_per_status_read.get());
                let tx_empty = self.tx.borrow().is_empty();
                self.errors.replace(0)
                    | flag(LSR::DR::SET, !self.rx.borrow().is_empty())
                    | flag(LSR::THRE::SET + LSR::TEMT::SET, tx_empty)
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
            // IER, LCR, MCR: bits above their fields read 0.
            Register::Ier => self.ier.set(value & 0x0f),
            Register::IirFcr => {
                if FCR::RCVR_FIFO_RESET.is_set(value) {
                    self.rx.borrow_mut().clear();
                }
                if FCR::XMIT_FIFO_RESET.is_set(value) {
                    self.tx.borrow_mut().clear();
                }
                // The resets clear themselves.
                let kept = FCR::FIFOEN::SET
                    + FCR::DMA_MODE_SELECT::SET
                    + FCR::RCVR_FIFO_TRIGGER_LEVEL::Fourteen;
                self.fcr.set(value & kept.value);
            }
            Register::Lcr => self.lcr.set(value & 0xff),
            Register::Mcr => self.mcr.set(value & 0x1f),
            Register::Lsr | Register::Msr | Register::Scr => {}
        }
    }
}
