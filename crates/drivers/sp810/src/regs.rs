//! SP810 register block (SP810 TRM DDI 0254, table 3-1); only the
//! registers Ferrode uses are named.

use volatile::VolatileFieldAccess;
use volatile::access::NoAccess;

/// The start of the SP810 register block.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// SCCTRL: system control (mode, remap, timer clock selects).
    pub scctrl: u32,
    /// SCSYSSTAT: system status.
    #[access(NoAccess)]
    _scsysstat: u32,
}

/// SCCTRL fields (TRM 3.2.1).
pub mod scctrl {
    /// TimerEn0Sel: timer 0 counts TIMCLK (1) or REFCLK (0). Timers 1, 2
    /// and 3 follow at bits 17, 19 and 21.
    pub const TIMER_EN0_SEL: u32 = 1 << 15;
}

ferrode_hal::mmio_registers! {
    block Regs;
    /// The SP810 registers the driver uses.
    pub enum Register {
        /// SCCTRL.
        Scctrl => scctrl @ 0x000,
    }
    /// The memory-mapped register block.
    pub struct Mmio;
    /// 32-bit access to the SP810's registers.
    pub trait RegisterAccess;
}
