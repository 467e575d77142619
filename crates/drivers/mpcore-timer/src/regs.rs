//! Private timer registers (Cortex-A9 MPCore TRM DDI 0407, table 4-1),
//! at offset 0x600 of the MPCore private memory region.

use ferrode_hal::mmio::register_bitfields;
use volatile::VolatileFieldAccess;

/// The private timer's register block.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// Private Timer Load Register.
    pub load: u32,
    /// Private Timer Counter Register.
    pub counter: u32,
    /// Private Timer Control Register.
    pub control: u32,
    /// Private Timer Interrupt Status Register (event flag, write 1 to clear).
    pub interrupt_status: u32,
}

ferrode_hal::register_names! {
    block Regs;
    /// The private timer's registers.
    pub enum Register {
        /// Load.
        Load => load @ 0x00,
        /// Counter.
        Counter => counter @ 0x04,
        /// Control.
        Control => control @ 0x08,
        /// Interrupt Status.
        InterruptStatus => interrupt_status @ 0x0c,
    }
}

/// The memory-mapped block: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

register_bitfields![u32,
    /// Private Timer Control Register (Cortex-A9 MPCore TRM 4.2.3).
    pub(crate) CONTROL [
        TIMER_ENABLE OFFSET(0) NUMBITS(1) [],
        AUTO_RELOAD OFFSET(1) NUMBITS(1) [],
        IRQ_ENABLE OFFSET(2) NUMBITS(1) [],
        PRESCALER OFFSET(8) NUMBITS(8) [],
    ],
    /// Private Timer Interrupt Status Register (4.2.4).
    pub(crate) INTERRUPT_STATUS [
        /// Set when the counter reaches zero; write 1 to clear.
        EVENT_FLAG OFFSET(0) NUMBITS(1) [],
    ],
];

ferrode_hal::registers! {
    /// Typed access to the private timer's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests).
    pub trait Registers for Register {
        /// Private Timer Load Register.
        fn load() -> ReadWrite = Register::Load;
        /// Private Timer Counter Register.
        fn counter() -> ReadWrite = Register::Counter;
        /// Private Timer Control Register.
        fn control() -> ReadWrite<CONTROL::Register> = Register::Control;
        /// Private Timer Interrupt Status Register.
        fn interrupt_status() -> ReadWrite<INTERRUPT_STATUS::Register> = Register::InterruptStatus;
    }
}
