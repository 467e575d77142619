//! AXI UART Lite register block (PG142, "Register Space") and access to it.

use core::mem::offset_of;

use volatile::{VolatileFieldAccess, VolatilePtr};

/// The four UART Lite registers at their PG142 offsets.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// Rx FIFO: reading pops one received character (bits 7:0).
    pub rx_fifo: u32,
    /// Tx FIFO: writing pushes one character to send (bits 7:0).
    pub tx_fifo: u32,
    /// STAT_REG: FIFO state, interrupt enabled, and the error bits, which
    /// reading clears.
    pub stat_reg: u32,
    /// CTRL_REG: FIFO resets and interrupt enable (write-only).
    pub ctrl_reg: u32,
}

const _: () = assert!(offset_of!(Regs, rx_fifo) == 0x0);
const _: () = assert!(offset_of!(Regs, tx_fifo) == 0x4);
const _: () = assert!(offset_of!(Regs, stat_reg) == 0x8);
const _: () = assert!(offset_of!(Regs, ctrl_reg) == 0xC);

/// STAT_REG: Rx FIFO Valid Data.
pub const STAT_RX_FIFO_VALID_DATA: u32 = 1 << 0;
/// STAT_REG: Rx FIFO Full.
pub const STAT_RX_FIFO_FULL: u32 = 1 << 1;
/// STAT_REG: Tx FIFO Empty.
pub const STAT_TX_FIFO_EMPTY: u32 = 1 << 2;
/// STAT_REG: Tx FIFO Full.
pub const STAT_TX_FIFO_FULL: u32 = 1 << 3;
/// STAT_REG: Intr Enabled.
pub const STAT_INTR_ENABLED: u32 = 1 << 4;
/// STAT_REG: Overrun Error (a character was lost, Rx FIFO full).
pub const STAT_OVERRUN_ERROR: u32 = 1 << 5;
/// STAT_REG: Frame Error (stop bit was 0).
pub const STAT_FRAME_ERROR: u32 = 1 << 6;
/// STAT_REG: Parity Error.
pub const STAT_PARITY_ERROR: u32 = 1 << 7;
/// All STAT_REG error bits.
pub const STAT_ERRORS: u32 = STAT_OVERRUN_ERROR | STAT_FRAME_ERROR | STAT_PARITY_ERROR;

/// CTRL_REG: Reset Tx FIFO.
pub const CTRL_RST_TX_FIFO: u32 = 1 << 0;
/// CTRL_REG: Reset Rx FIFO.
pub const CTRL_RST_RX_FIFO: u32 = 1 << 1;
/// CTRL_REG: Enable Intr.
pub const CTRL_ENABLE_INTR: u32 = 1 << 4;

/// One register of the block, for [`RegisterAccess`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// Rx FIFO.
    RxFifo,
    /// Tx FIFO.
    TxFifo,
    /// STAT_REG.
    StatReg,
    /// CTRL_REG.
    CtrlReg,
}

impl Register {
    /// Byte offset from the block's base address.
    pub const fn offset(self) -> usize {
        match self {
            Register::RxFifo => offset_of!(Regs, rx_fifo),
            Register::TxFifo => offset_of!(Regs, tx_fifo),
            Register::StatReg => offset_of!(Regs, stat_reg),
            Register::CtrlReg => offset_of!(Regs, ctrl_reg),
        }
    }
}

/// 32-bit access to the UART's registers.
///
/// Reading the Rx FIFO pops a character and reading STAT_REG clears the
/// error bits, so tests use a behavioural model, [`Mmio`] the hardware.
pub trait RegisterAccess {
    /// Reads `register` (with its side effects).
    fn read(&self, register: Register) -> u32;
    /// Writes `value` to `register`.
    fn write(&self, register: Register, value: u32);
}

impl<T: RegisterAccess + ?Sized> RegisterAccess for &T {
    fn read(&self, register: Register) -> u32 {
        (**self).read(register)
    }
    fn write(&self, register: Register, value: u32) {
        (**self).write(register, value)
    }
}

/// The memory-mapped register block.
#[derive(Clone, Copy, Debug)]
pub struct Mmio<'a> {
    regs: VolatilePtr<'a, Regs>,
}

impl<'a> Mmio<'a> {
    /// Wraps the register block the platform mapped.
    pub const fn new(regs: VolatilePtr<'a, Regs>) -> Self {
        Self { regs }
    }
}

impl RegisterAccess for Mmio<'_> {
    fn read(&self, register: Register) -> u32 {
        let r = self.regs;
        match register {
            Register::RxFifo => r.rx_fifo().read(),
            Register::TxFifo => r.tx_fifo().read(),
            Register::StatReg => r.stat_reg().read(),
            Register::CtrlReg => r.ctrl_reg().read(),
        }
    }

    fn write(&self, register: Register, value: u32) {
        let r = self.regs;
        match register {
            Register::RxFifo => r.rx_fifo().write(value),
            Register::TxFifo => r.tx_fifo().write(value),
            Register::StatReg => r.stat_reg().write(value),
            Register::CtrlReg => r.ctrl_reg().write(value),
        }
    }
}
