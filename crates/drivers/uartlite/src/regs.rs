//! AXI UART Lite register block (PG142, "Register Space") and access to it.

use volatile::VolatileFieldAccess;

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

ferrode_hal::register_names! {
    block Regs;
    /// One register of the block, at its PG142 offset.
    pub enum Register {
        /// Rx FIFO.
        RxFifo => rx_fifo @ 0x0,
        /// Tx FIFO.
        TxFifo => tx_fifo @ 0x4,
        /// STAT_REG.
        StatReg => stat_reg @ 0x8,
        /// CTRL_REG.
        CtrlReg => ctrl_reg @ 0xC,
    }
}

/// The memory-mapped block: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

ferrode_hal::registers! {
    /// Typed access to the UART Lite's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests).
    pub trait Registers for Register {
        /// Rx FIFO: reading pops a character.
        fn rx_fifo() -> ReadOnly = Register::RxFifo;
        /// Tx FIFO: writing pushes a character.
        fn tx_fifo() -> WriteOnly = Register::TxFifo;
        /// STAT_REG (reading clears the error bits).
        fn stat_reg() -> ReadOnly = Register::StatReg;
        /// CTRL_REG.
        fn ctrl_reg() -> WriteOnly = Register::CtrlReg;
    }
}
