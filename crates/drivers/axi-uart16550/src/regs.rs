//! The 16550 register block as the AXI UART 16550 maps it (PG143, table
//! 2-4): eight registers, one per 32-bit word. RBR, THR and DLL share
//! offset 0x00 and IER and DLM offset 0x04, told apart by LCR.DLAB; IIR
//! (read) and FCR (write) share 0x08.

use volatile::VolatileFieldAccess;

/// The 16550 registers, from offset 0x1000 of the core.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// RBR (read) / THR (write) / DLL (DLAB = 1).
    pub rbr_thr_dll: u32,
    /// IER / DLM (DLAB = 1).
    pub ier_dlm: u32,
    /// IIR (read) / FCR (write).
    pub iir_fcr: u32,
    /// LCR: line control.
    pub lcr: u32,
    /// MCR: modem control (bit 4 loopback).
    pub mcr: u32,
    /// LSR: line status.
    pub lsr: u32,
    /// MSR: modem status.
    pub msr: u32,
    /// SCR: scratch.
    pub scr: u32,
}

/// IER bits (PG143 table 2-7).
pub mod ier {
    /// ERBFI: interrupt while received data is available.
    pub const RECEIVED_DATA: u32 = 1 << 0;
}

/// IIR fields (PG143 table 2-8).
pub mod iir {
    /// Bit 0 set: no interrupt is pending.
    pub const NO_INTERRUPT: u32 = 1 << 0;
    /// Bits 3:1 (with bit 0): the pending interrupt's identification.
    pub const ID: u32 = 0b1110;
}

/// LSR bits (PG143 table 2-13).
pub mod lsr {
    /// DR: a received character waits in RBR / the RX FIFO.
    pub const DATA_READY: u32 = 1 << 0;
    /// OE: a character was lost because the RX FIFO was full.
    pub const OVERRUN: u32 = 1 << 1;
    /// PE: the character at the top of the FIFO has a parity error.
    pub const PARITY: u32 = 1 << 2;
    /// FE: the character at the top of the FIFO has no valid stop bit.
    pub const FRAMING: u32 = 1 << 3;
    /// BI: a break was received (reported with a zero character).
    pub const BREAK: u32 = 1 << 4;
    /// THRE: the TX FIFO (THR) is empty.
    pub const THR_EMPTY: u32 = 1 << 5;
    /// TEMT: the TX FIFO and the shift register are empty.
    pub const TRANSMITTER_EMPTY: u32 = 1 << 6;
}

/// LCR bits.
pub mod lcr {
    /// WLS = 0b11: 8 data bits.
    pub const EIGHT_BITS: u32 = 0b11;
    /// DLAB: registers 0x00 and 0x04 are the divisor latch.
    pub const DLAB: u32 = 1 << 7;
}

/// FCR bits.
pub mod fcr {
    /// FIFOs on.
    pub const ENABLE: u32 = 1 << 0;
    /// Empty the RX FIFO (self-clearing).
    pub const RESET_RX: u32 = 1 << 1;
    /// Empty the TX FIFO (self-clearing).
    pub const RESET_TX: u32 = 1 << 2;
    /// RX trigger level 8 bytes.
    pub const TRIGGER_8: u32 = 0b10 << 6;
}

/// MCR bits.
pub mod mcr {
    /// DTR and RTS asserted.
    pub const DTR_RTS: u32 = 0b11;
    /// OUT2: on PC-style designs gates the interrupt line.
    pub const OUT2: u32 = 1 << 3;
    /// LOOP: transmitted characters come back as received ones.
    pub const LOOPBACK: u32 = 1 << 4;
}

/// The TX and RX FIFO depth.
pub const FIFO_DEPTH: usize = 16;

ferrode_hal::register_names! {
    block Regs;
    /// The 16550 registers, by their DLAB = 0 names (DLL and DLM are
    /// `RbrThr` and `Ier` with LCR.DLAB set).
    pub enum Register {
        /// RBR / THR / DLL.
        RbrThr => rbr_thr_dll @ 0x00,
        /// IER / DLM.
        Ier => ier_dlm @ 0x04,
        /// IIR / FCR.
        IirFcr => iir_fcr @ 0x08,
        /// LCR.
        Lcr => lcr @ 0x0c,
        /// MCR.
        Mcr => mcr @ 0x10,
        /// LSR.
        Lsr => lsr @ 0x14,
        /// MSR.
        Msr => msr @ 0x18,
        /// SCR.
        Scr => scr @ 0x1c,
    }
}

/// The memory-mapped block: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

ferrode_hal::registers! {
    /// Typed access to the 16550's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests).
    pub trait Registers for Register {
        /// RBR (read: pops the receive FIFO) / THR (write) / DLL with LCR.DLAB.
        fn rbr_thr() -> ReadWrite = Register::RbrThr;
        /// IER / DLM with LCR.DLAB.
        fn ier() -> ReadWrite = Register::Ier;
        /// IIR (read) / FCR (write).
        fn iir_fcr() -> ReadWrite = Register::IirFcr;
        /// LCR.
        fn lcr() -> ReadWrite = Register::Lcr;
        /// MCR.
        fn mcr() -> ReadWrite = Register::Mcr;
        /// LSR.
        fn lsr() -> ReadOnly = Register::Lsr;
        /// MSR.
        fn msr() -> ReadOnly = Register::Msr;
        /// SCR.
        fn scr() -> ReadWrite = Register::Scr;
    }
}
