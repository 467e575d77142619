//! Behavioural model of a PL011 for host tests: FIFOs, latching, interrupts.
//!
//! Interrupt behaviour follows the TRM (3.4.1-3.4.3): UARTRXINTR asserts when
//! the receive FIFO reaches its UARTIFLS level and clears when a read takes
//! it below; UARTRTINTR (modelled without a timer) asserts while the FIFO
//! holds data and clears when it empties; UARTTXINTR asserts when the line
//! drains the transmit FIFO *through* its level (not merely because the
//! FIFO is empty: enabling TXIM on an idle UART raises nothing) and clears
//! when writes fill it above the level or UARTICR clears it.

use std::collections::VecDeque;
use std::vec::Vec;

use crate::Interrupts;
use ferrode_hal::{RegisterAccess, RegisterModel};

use crate::regs::Register;

/// What the tests can see and steer of the simulated UART.
#[derive(Default)]
pub struct ModelUart {
    /// Characters (with UARTDR error bits 8-11) waiting to be read.
    pub receive_fifo: VecDeque<u32>,
    /// Characters already shifted out on the line.
    pub transmitted: Vec<u8>,
    /// Characters queued in the transmit FIFO, not yet on the line.
    pub transmit_fifo: VecDeque<u8>,
    /// When true, every UARTFR read drains the whole transmit FIFO onto the
    /// line (an infinitely fast line); when false, only [`Self::shift_out`] does.
    pub line_drains: bool,
    /// Number of UARTFR reads that still report BUSY.
    pub busy_reads: u32,
    /// Set if IBRD, FBRD or LCR_H was written while enabled or busy.
    pub reprogrammed_while_active: bool,
    /// The next received character arrives with OE set (a character was lost).
    pending_overrun: bool,
    /// Characters that arrived at a full receive FIFO and were lost.
    pub lost_on_the_line: u32,
    pub ibrd: u32,
    pub fbrd: u32,
    /// Divisor latched by the last UARTLCR_H write.
    pub latched_divisor: (u32, u32),
    pub lcr_h: u32,
    pub cr: u32,
    pub ifls: u32,
    pub imsc: u32,
    pub ris: u32,
    /// UARTDR reads (FIFO pops), to check the driver leaves the FIFO alone.
    pub data_reads: u32,
    /// UARTFR reads: how long the driver polled (each read is bus time).
    pub flag_reads: u32,
    /// A character that arrives from the line just before UARTFR read
    /// number `.0` (counting [`Self::flag_reads`]) is answered: to place an
    /// arrival exactly between two steps of a driver call.
    pub arrival: Option<(u32, u32)>,
    /// The line shifts `.1` characters out of the transmit FIFO just before
    /// UARTFR read number `.0` is answered: room that appears in the middle
    /// of a driver call.
    pub departure: Option<(u32, usize)>,
    /// UARTFR reads in a row that reported BUSY while the UART could not
    /// drain (disabled or TXE off): silicon would report BUSY forever.
    stuck_busy_reads: u32,
}

/// UARTFR reads of a BUSY that cannot clear after which the model calls
/// the driver hung (the real UART would never finish).
pub const HUNG_BUSY_READS: u32 = 10_000;

pub const FIFO_DEPTH: usize = 16;

/// FIFO fill levels selected by a 3-bit UARTIFLS field: 1/8 .. 7/8 of 16.
fn level(select: u32) -> usize {
    [2, 4, 8, 12, 14][(select as usize).min(4)]
}

impl ModelUart {
    pub fn new() -> Self {
        Self { line_drains: true, ifls: 0x12, ..Self::default() }
    }

    fn transmit_level(&self) -> usize {
        level(self.ifls & 0x7)
    }

    fn receive_level(&self) -> usize {
        level((self.ifls >> 3) & 0x7)
    }

    /// The UART's interrupt output (UARTINTR): any unmasked raw source.
    pub fn interrupt_line(&self) -> bool {
        self.ris & self.imsc != 0
    }

    /// True if a sender with flow control may send another character.
    pub fn can_accept(&self) -> bool {
        self.receive_fifo.len() < FIFO_DEPTH
    }

    /// A character (with error bits 8-10) arrives from the line. At a full
    /// FIFO it is lost and the next character carries OE (TRM 3.3.1).
    pub fn receive(&mut self, character: u32) {
        if !self.can_accept() {
            self.pending_overrun = true;
            self.lost_on_the_line += 1;
            return;
        }
        let overrun = if core::mem::take(&mut self.pending_overrun) { 1 << 11 } else { 0 };
        self.receive_fifo.push_back(character | overrun);
        if self.receive_fifo.len() >= self.receive_level() {
            self.ris |= Interrupts::RECEIVE.0;
        }
        self.ris |= Interrupts::RECEIVE_TIMEOUT.0;
        if character & (0xf << 8) != 0 {
            // FE, PE, BE bits 8-10 of UARTDR are RIS bits 7-9.
            self.ris |= (character >> 8 & 0x7) << 7;
        }
        if overrun != 0 {
            self.ris |= 1 << 10;
        }
    }

    /// Every byte of `bytes` arrives, as long as the FIFO has room (a
    /// sender with flow control); returns how many were sent.
    pub fn receive_with_flow_control(&mut self, bytes: &[u8]) -> usize {
        let mut sent = 0;
        for &byte in bytes {
            if !self.can_accept() {
                break;
            }
            self.receive(u32::from(byte));
            sent += 1;
        }
        sent
    }

    /// The line sends up to `count` characters from the transmit FIFO.
    pub fn shift_out(&mut self, count: usize) {
        let above_level = self.transmit_fifo.len() > self.transmit_level();
        let count = count.min(self.transmit_fifo.len());
        self.transmitted.extend(self.transmit_fifo.drain(..count));
        if above_level && self.transmit_fifo.len() <= self.transmit_level() {
            self.ris |= Interrupts::TRANSMIT.0;
        }
    }

    /// The transmitter shifts characters out only while UARTEN and TXE are
    /// set (TRM 3.3.8); a disabled UART keeps its FIFO, and BUSY with it.
    pub fn transmitter_enabled(&self) -> bool {
        self.cr & 0x101 == 0x101
    }

    fn check_reprogramming(&mut self) {
        if self.cr & 1 != 0 || self.busy_reads > 0 {
            self.reprogrammed_while_active = true;
        }
    }
}

impl RegisterModel<Register> for ModelUart {
    fn read(&mut self, register: Register) -> u32 {
        match register {
            Register::Dr => {
                self.data_reads += 1;
                let data = self.receive_fifo.pop_front().unwrap_or(0);
                if self.receive_fifo.len() < self.receive_level() {
                    self.ris &= !Interrupts::RECEIVE.0;
                }
                if self.receive_fifo.is_empty() {
                    self.ris &= !Interrupts::RECEIVE_TIMEOUT.0;
                }
                data
            }
            Register::Fr => {
                self.flag_reads += 1;
                if let Some((at, character)) = self.arrival
                    && at == self.flag_reads
                {
                    self.arrival = None;
                    self.receive(character);
                }
                if let Some((at, count)) = self.departure
                    && at == self.flag_reads
                {
                    self.departure = None;
                    self.shift_out(count);
                }
                if self.line_drains && self.transmitter_enabled() {
                    self.shift_out(FIFO_DEPTH);
                }
                if !self.transmit_fifo.is_empty() && !self.transmitter_enabled() {
                    self.stuck_busy_reads += 1;
                    assert!(
                        self.stuck_busy_reads < HUNG_BUSY_READS,
                        "driver polls BUSY on a UART that cannot drain its transmit FIFO (hangs on silicon)"
                    );
                } else {
                    self.stuck_busy_reads = 0;
                }
                let mut flags = 0;
                if self.busy_reads > 0 {
                    self.busy_reads -= 1;
                    flags |= 1 << 3;
                }
                if !self.transmit_fifo.is_empty() {
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
            Register::Ifls => self.ifls,
            Register::Imsc => self.imsc,
            Register::Ris => self.ris,
            Register::Mis => self.ris & self.imsc,
            Register::RsrEcr | Register::Icr => 0,
        }
    }

    fn write(&mut self, register: Register, value: u32) {
        match register {
            Register::Dr => {
                if self.transmit_fifo.len() < FIFO_DEPTH {
                    self.transmit_fifo.push_back(value as u8);
                }
                if self.transmit_fifo.len() > self.transmit_level() {
                    self.ris &= !Interrupts::TRANSMIT.0;
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
                if value & (1 << 4) == 0 {
                    // FEN = 0 flushes both FIFOs (TRM 3.3.7, 3.3.8 step 3),
                    // allowed once the UART is disabled.
                    if self.cr & 1 != 0 {
                        self.reprogrammed_while_active = true;
                    }
                    self.transmit_fifo.clear();
                    self.receive_fifo.clear();
                } else {
                    self.check_reprogramming();
                }
                self.lcr_h = value;
                self.latched_divisor = (self.ibrd, self.fbrd);
            }
            Register::Cr => self.cr = value,
            Register::Ifls => self.ifls = value,
            Register::Imsc => self.imsc = value,
            Register::Icr => self.ris &= !value,
            Register::RsrEcr | Register::Fr | Register::Ris | Register::Mis => {}
        }
    }
}

/// The model shared between a driver that owns its register access and the
/// test that plays the line (sends characters, shifts bytes out).
#[derive(Clone)]
pub struct SharedModel(pub std::rc::Rc<core::cell::RefCell<ModelUart>>);

impl SharedModel {
    pub fn new() -> Self {
        Self(std::rc::Rc::new(core::cell::RefCell::new(ModelUart::new())))
    }

    /// Runs `f` on the model.
    pub fn with<T>(&self, f: impl FnOnce(&mut ModelUart) -> T) -> T {
        f(&mut self.0.borrow_mut())
    }
}

impl RegisterAccess<Register> for SharedModel {
    fn read(&self, register: Register) -> u32 {
        self.0.read(register)
    }

    fn write(&self, register: Register, value: u32) {
        self.0.write(register, value);
    }
}
