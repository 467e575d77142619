//! AXI INTC register block (PG099, "Register Space") and access to it.

use ferrode_hal::mmio::register_bitfields;
use volatile::VolatileFieldAccess;

/// The AXI INTC registers this driver uses, at their PG099 offsets.
///
/// Registers after MER (IMR, ILR, IVAR, IVEAR) belong to the fast-interrupt
/// and nested-interrupt options, which this driver does not use.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// ISR, Interrupt Status Register: one latched bit per input.
    pub isr: u32,
    /// IPR, Interrupt Pending Register: ISR & IER (optional, C_HAS_IPR).
    pub ipr: u32,
    /// IER, Interrupt Enable Register.
    pub ier: u32,
    /// IAR, Interrupt Acknowledge Register (write-only): writing 1 clears
    /// the ISR bit.
    pub iar: u32,
    /// SIE, Set Interrupt Enables (write-only, optional C_HAS_SIE).
    pub sie: u32,
    /// CIE, Clear Interrupt Enables (write-only, optional C_HAS_CIE).
    pub cie: u32,
    /// IVR, Interrupt Vector Register: lowest-numbered active interrupt or
    /// all ones (optional, C_HAS_IVR).
    pub ivr: u32,
    /// MER, Master Enable Register: ME (bit 0) and HIE (bit 1).
    pub mer: u32,
}

ferrode_hal::register_names! {
    block Regs;
    /// One register of the block, at its PG099 offset.
    pub enum Register {
        /// ISR.
        Isr => isr @ 0x00,
        /// IPR.
        Ipr => ipr @ 0x04,
        /// IER.
        Ier => ier @ 0x08,
        /// IAR.
        Iar => iar @ 0x0C,
        /// SIE.
        Sie => sie @ 0x10,
        /// CIE.
        Cie => cie @ 0x14,
        /// IVR.
        Ivr => ivr @ 0x18,
        /// MER.
        Mer => mer @ 0x1C,
    }
}

/// The memory-mapped block: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

register_bitfields![u32,
    /// MER, Master Enable Register (PG099).
    pub(crate) MER [
        /// ME: master IRQ enable.
        ME OFFSET(0) NUMBITS(1) [],
        /// HIE: hardware interrupt enable; once set, software can no
        /// longer raise interrupts by writing ISR (write-once).
        HIE OFFSET(1) NUMBITS(1) [],
    ],
];

ferrode_hal::registers! {
    /// Typed access to the AXI INTC's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests).
    pub trait Registers for Register {
        /// ISR: one latched bit per input (writable only before MER.HIE).
        fn isr() -> ReadWrite = Register::Isr;
        /// IPR: ISR & IER.
        fn ipr() -> ReadOnly = Register::Ipr;
        /// IER.
        fn ier() -> ReadWrite = Register::Ier;
        /// IAR: writing 1 clears the ISR bit.
        fn iar() -> WriteOnly = Register::Iar;
        /// SIE: writing 1 sets the IER bit.
        fn sie() -> WriteOnly = Register::Sie;
        /// CIE: writing 1 clears the IER bit.
        fn cie() -> WriteOnly = Register::Cie;
        /// IVR: the lowest-numbered active input, or all ones.
        fn ivr() -> ReadOnly = Register::Ivr;
        /// MER.
        fn mer() -> ReadWrite<MER::Register> = Register::Mer;
    }
}
