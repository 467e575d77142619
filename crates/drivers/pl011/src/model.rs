//! Behavioural model of a PL011 for host tests: FIFOs, latching, interrupts.

use std::collections::VecDeque;
use std::vec::Vec;

use crate::regs::{Register, Registers};

/// What the tests can see and steer of the simulated UART.
#[derive(Default)]
pub struct ModelUart {
    /// Characters (with UARTDR error bits 8-11) waiting to be read.
    pub receive_fifo: VecDeque<u32>,
    /// Characters already shifted out on the line.
    pub transmitted: Vec<u8>,
    /// Characters queued in the transmit FIFO, not yet on the line.
    pub transmit_fifo: VecDeque<u8>,
    /// When false, the line does not drain the transmit FIFO.
    pub line_drains: bool,
    /// Number of UARTFR reads that still report BUSY.
    pub busy_reads: u32,
    /// Set if IBRD, FBRD or LCR_H was written while enabled or busy.
    pub reprogrammed_while_active: bool,
    pub ibrd: u32,
    pub fbrd: u32,
    /// Divisor latched by the last UARTLCR_H write.
    pub latched_divisor: (u32, u32),
    pub lcr_h: u32,
    pub cr: u32,
    pub imsc: u32,
    pub ris: u32,
}

pub const FIFO_DEPTH: usize = 16;

impl ModelUart {
    pub fn new() -> Self {
        Self {
            line_drains: true,
            ..Self::default()
        }
    }

    fn drain_line(&mut self) {
        if self.line_drains {
            self.transmitted.extend(self.transmit_fifo.drain(..));
        }
    }

    fn check_reprogramming(&mut self) {
        if self.cr & 1 != 0 || self.busy_reads > 0 {
            self.reprogrammed_while_active = true;
        }
    }
}

impl Registers for ModelUart {
    fn read_register(&mut self, register: Register) -> u32 {
        match register {
            Register::Dr => self.receive_fifo.pop_front().unwrap_or(0),
            Register::Fr => {
                self.drain_line();
                let mut flags = 0;
                if self.busy_reads > 0 {
                    self.busy_reads -= 1;
                    flags |= 1 << 3;
                }
                if self.receive_fifo.is_empty() {
                    flags |= 1 << 4;
                }
                if self.transmit_fifo.len() >= FIFO_DEPTH {
                    flags |= 1 << 5;
                }
                flags
            }
            Register::Ibrd => self.ibrd,
            Register::Fbrd => self.fbrd,
            Register::LcrH => self.lcr_h,
            Register::Cr => self.cr,
            Register::Imsc => self.imsc,
            Register::Ris => self.ris,
            Register::Mis => self.ris & self.imsc,
            Register::RsrEcr | Register::Ifls | Register::Icr => 0,
        }
    }

    fn write_register(&mut self, register: Register, value: u32) {
        match register {
            Register::Dr => {
                if self.transmit_fifo.len() < FIFO_DEPTH {
                    self.transmit_fifo.push_back(value as u8);
                }
            }
            Register::Ibrd => {
                self.check_reprogramming();
                self.ibrd = value;
            }
            Register::Fbrd => {
                self.check_reprogramming();
                self.fbrd = value;
            }
            Register::LcrH => {
                self.check_reprogramming();
                self.lcr_h = value;
                self.latched_divisor = (self.ibrd, self.fbrd);
            }
            Register::Cr => self.cr = value,
            Register::Imsc => self.imsc = value,
            Register::Icr => self.ris &= !value,
            Register::RsrEcr | Register::Ifls | Register::Fr | Register::Ris | Register::Mis => {}
        }
    }
}
