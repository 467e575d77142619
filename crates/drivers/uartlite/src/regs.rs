//! AXI UART Lite register block (PG142, "Register Space") and access to it.

use ferrode_hal::mmio::register_bitfields;
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

register_bitfields![u32,
    /// Rx FIFO and Tx FIFO (PG142): one character a word.
    pub(crate) FIFO [
        /// The character (the core's data width is at most 8 bits).
        DATA OFFSET(0) NUMBITS(8) [],
    ],
    /// STAT_REG, UART Lite Status Register (PG142).
    pub(crate) STAT_REG [
        /// Rx FIFO Valid Data: the Rx FIFO holds a character.
        RX_FIFO_VALID_DATA OFFSET(0) NUMBITS(1) [],
        /// Rx FIFO Full.
        RX_FIFO_FULL OFFSET(1) NUMBITS(1) [],
        /// Tx FIFO Empty.
        TX_FIFO_EMPTY OFFSET(2) NUMBITS(1) [],
        /// Tx FIFO Full.
        TX_FIFO_FULL OFFSET(3) NUMBITS(1) [],
        /// Intr Enabled: CTRL_REG's Enable Intr as last written.
        INTR_ENABLED OFFSET(4) NUMBITS(1) [],
        /// Overrun Error: a character arrived while the Rx FIFO was full
        /// and was lost (cleared by reading STAT_REG).
        OVERRUN_ERROR OFFSET(5) NUMBITS(1) [],
        /// Frame Error: a character's stop bit was 0 (cleared by reading).
        FRAME_ERROR OFFSET(6) NUMBITS(1) [],
        /// Parity Error (cleared by reading).
        PARITY_ERROR OFFSET(7) NUMBITS(1) [],
    ],
    /// CTRL_REG, UART Lite Control Register (PG142).
    pub(crate) CTRL_REG [
        /// Rst Tx FIFO: empties the Tx FIFO.
        RST_TX_FIFO OFFSET(0) NUMBITS(1) [],
        /// Rst Rx FIFO: empties the Rx FIFO.
        RST_RX_FIFO OFFSET(1) NUMBITS(1) [],
        /// Enable Intr.
        ENABLE_INTR OFFSET(4) NUMBITS(1) [],
    ],
];

/// STAT_REG's Tx FIFO Full bit as a mask, for code that writes the Tx
/// FIFO around the driver (the platform's last-resort console).
pub const STAT_TX_FIFO_FULL: u32 = STAT_REG::TX_FIFO_FULL::SET.value;

ferrode_hal::registers! {
    /// Typed access to the UART Lite's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests). Reads that
    /// change the UART's state (the Rx FIFO pops, STAT_REG clears its error
    /// bits) take `&mut self`.
    pub trait Registers for Register {
        /// Rx FIFO: reading pops a character.
        fn rx_fifo(&mut self) -> ReadOnly<FIFO::Register> = Register::RxFifo;
        /// Tx FIFO: writing pushes a character.
        fn tx_fifo() -> WriteOnly<FIFO::Register> = Register::TxFifo;
        /// STAT_REG: reading clears the error bits.
        fn stat_reg(&mut self) -> ReadOnly<STAT_REG::Register> = Register::StatReg;
        /// CTRL_REG.
        fn ctrl_reg() -> WriteOnly<CTRL_REG::Register> = Register::CtrlReg;
    }
}
