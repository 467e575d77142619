//! Private timer registers (Cortex-A9 MPCore TRM DDI 0407, table 4-1),
//! at offset 0x600 of the MPCore private memory region.

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

ferrode_hal::mmio_registers! {
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
    /// The memory-mapped register block.
    pub struct Mmio;
    /// 32-bit access to the private timer's registers.
    pub trait RegisterAccess;
}
