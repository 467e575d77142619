//! SP810 register block (SP810 TRM DDI 0254, table 3-1); only the
//! registers Ferrode uses are named.

use ferrode_hal::mmio::register_bitfields;
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

register_bitfields![u32,
    /// SCCTRL (TRM 3.2.1).
    pub(crate) SCCTRL [
        /// TimerEn0Sel: timer 0 counts TIMCLK (1) or REFCLK (0).
        TIMER_EN0_SEL OFFSET(15) NUMBITS(1) [],
        /// TimerEn1Sel.
        TIMER_EN1_SEL OFFSET(17) NUMBITS(1) [],
        /// TimerEn2Sel.
        TIMER_EN2_SEL OFFSET(19) NUMBITS(1) [],
        /// TimerEn3Sel.
        TIMER_EN3_SEL OFFSET(21) NUMBITS(1) [],
    ],
];

ferrode_hal::register_names! {
    block Regs;
    /// The SP810 registers the driver uses (the bus's names).
    pub enum Register {
        /// SCCTRL.
        Scctrl => scctrl @ 0x000,
    }
}

/// The memory-mapped SP810: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

ferrode_hal::registers! {
    /// Typed access to the SP810's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests).
    pub trait Registers for Register {
        /// SCCTRL: system control (mode, remap, timer clock selects).
        fn scctrl() -> ReadWrite<SCCTRL::Register> = Register::Scctrl;
    }
}
