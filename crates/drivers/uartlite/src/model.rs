//! Behavioural model of the AXI UART Lite (PG142) for host tests.

extern crate std;

use core::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::vec::Vec;

use ferrode_hal::mmio::FieldValue;

use crate::regs::{CTRL_REG, Register, STAT_REG};

const FIFO_DEPTH: usize = 16;

#[derive(Default)]
struct State {
    rx: VecDeque<u8>,
    tx: VecDeque<u8>,
    wire: Vec<u8>,
    /// STAT_REG error bits waiting to be read (reading clears them).
    errors: u32,
    /// CTRL_REG's Enable Intr.
    interrupt_enabled: bool,
    writes: Vec<(usize, u32)>,
}

/// 16-deep FIFOs, error bits cleared by reading STAT_REG, an interrupt
/// edge when the Rx FIFO becomes non-empty or the Tx FIFO becomes empty.
#[derive(Default)]
pub struct UartModel {
    state: RefCell<State>,
    /// Characters the line sends out of the Tx FIFO per STAT_REG read.
    pub tx_per_status_read: Cell<usize>,
    pub interrupt_edges: Cell<u32>,
    /// STAT_REG reads: how long the driver polled.
    pub status_reads: Cell<u32>,
}

impl UartModel {
    fn edge(&self, s: &State) {
        if s.interrupt_enabled {
            self.interrupt_edges.set(self.interrupt_edges.get() + 1);
        }
    }

    /// Characters arriving on the line.
    pub fn receive(&self, bytes: &[u8]) {
        let mut s = self.state.borrow_mut();
        for &b in bytes {
            if s.rx.len() == FIFO_DEPTH {
                s.errors |= STAT_REG::OVERRUN_ERROR::SET.value;
                continue;
            }
            s.rx.push_back(b);
            if s.rx.len() == 1 {
                self.edge(&s);
            }
        }
    }

    /// A character with a bad stop bit (dropped, flagged).
    pub fn receive_framing_error(&self) {
        self.state.borrow_mut().errors |= STAT_REG::FRAME_ERROR::SET.value;
    }

    /// The line sends `n` characters from the Tx FIFO.
    pub fn transmit(&self, n: usize) {
        let mut s = self.state.borrow_mut();
        for _ in 0..n {
            let Some(b) = s.tx.pop_front() else { break };
            s.wire.push(b);
            if s.tx.is_empty() {
                self.edge(&s);
            }
        }
    }

    pub fn wire(&self) -> Vec<u8> {
        self.state.borrow().wire.clone()
    }

    pub fn writes(&self) -> Vec<(usize, u32)> {
        self.state.borrow().writes.clone()
    }
}

impl ferrode_hal::RegisterAccess<Register> for UartModel {
    fn read(&self, register: Register) -> u32 {
        if register == Register::StatReg {
            self.status_reads.set(self.status_reads.get() + 1);
            self.transmit(self.tx_per_status_read.get());
        }
        let mut s = self.state.borrow_mut();
        match register {
            Register::RxFifo => s.rx.pop_front().map_or(0, u32::from),
            Register::StatReg => {
                let flag = |field: FieldValue<u32, STAT_REG::Register>, on: bool| {
                    if on { field.value } else { 0 }
                };
                core::mem::take(&mut s.errors)
                    | flag(STAT_REG::RX_FIFO_VALID_DATA::SET, !s.rx.is_empty())
                    | flag(STAT_REG::RX_FIFO_FULL::SET, s.rx.len() == FIFO_DEPTH)
                    | flag(STAT_REG::TX_FIFO_EMPTY::SET, s.tx.is_empty())
                    | flag(STAT_REG::TX_FIFO_FULL::SET, s.tx.len() == FIFO_DEPTH)
                    | flag(STAT_REG::INTR_ENABLED::SET, s.interrupt_enabled)
            }
            Register::TxFifo | Register::CtrlReg => 0,
        }
    }

    fn write(&self, register: Register, value: u32) {
        let mut s = self.state.borrow_mut();
        s.writes.push((register.offset(), value));
        match register {
            Register::TxFifo => {
                if s.tx.len() < FIFO_DEPTH {
                    s.tx.push_back(value as u8);
                }
            }
            Register::CtrlReg => {
                if CTRL_REG::RST_TX_FIFO.is_set(value) {
                    s.tx.clear()
                }
                if CTRL_REG::RST_RX_FIFO.is_set(value) {
                    s.rx.clear()
                }
                s.interrupt_enabled = CTRL_REG::ENABLE_INTR.is_set(value);
            }
            Register::RxFifo | Register::StatReg => {}
        }
    }
}
