//! AXI INTC register block (PG099, "Register Space") and access to it.

use core::mem::offset_of;

use volatile::{VolatileFieldAccess, VolatilePtr};

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

const _: () = assert!(offset_of!(Regs, isr) == 0x00);
const _: () = assert!(offset_of!(Regs, ipr) == 0x04);
const _: () = assert!(offset_of!(Regs, ier) == 0x08);
const _: () = assert!(offset_of!(Regs, iar) == 0x0C);
const _: () = assert!(offset_of!(Regs, sie) == 0x10);
const _: () = assert!(offset_of!(Regs, cie) == 0x14);
const _: () = assert!(offset_of!(Regs, ivr) == 0x18);
const _: () = assert!(offset_of!(Regs, mer) == 0x1C);

/// MER.ME: master IRQ enable.
pub const MER_ME: u32 = 1 << 0;
/// MER.HIE: hardware interrupt enable; once set, software can no longer
/// raise interrupts by writing ISR (write-once).
pub const MER_HIE: u32 = 1 << 1;

/// One register of the block, for [`RegisterAccess`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// ISR.
    Isr,
    /// IPR.
    Ipr,
    /// IER.
    Ier,
    /// IAR.
    Iar,
    /// SIE.
    Sie,
    /// CIE.
    Cie,
    /// IVR.
    Ivr,
    /// MER.
    Mer,
}

impl Register {
    /// Byte offset from the block's base address.
    pub const fn offset(self) -> usize {
        match self {
            Register::Isr => offset_of!(Regs, isr),
            Register::Ipr => offset_of!(Regs, ipr),
            Register::Ier => offset_of!(Regs, ier),
            Register::Iar => offset_of!(Regs, iar),
            Register::Sie => offset_of!(Regs, sie),
            Register::Cie => offset_of!(Regs, cie),
            Register::Ivr => offset_of!(Regs, ivr),
            Register::Mer => offset_of!(Regs, mer),
        }
    }
}

/// 32-bit access to the controller's registers.
///
/// [`Mmio`] is the hardware implementation; tests substitute a behavioural
/// model, because acknowledge and set/clear-enable registers have side
/// effects a plain memory block cannot show.
pub trait RegisterAccess {
    /// Reads `register`.
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
            Register::Isr => r.isr().read(),
            Register::Ipr => r.ipr().read(),
            Register::Ier => r.ier().read(),
            Register::Iar => r.iar().read(),
            Register::Sie => r.sie().read(),
            Register::Cie => r.cie().read(),
            Register::Ivr => r.ivr().read(),
            Register::Mer => r.mer().read(),
        }
    }

    fn write(&self, register: Register, value: u32) {
        let r = self.regs;
        match register {
            Register::Isr => r.isr().write(value),
            Register::Ipr => r.ipr().write(value),
            Register::Ier => r.ier().write(value),
            Register::Iar => r.iar().write(value),
            Register::Sie => r.sie().write(value),
            Register::Cie => r.cie().write(value),
            Register::Ivr => r.ivr().write(value),
            Register::Mer => r.mer().write(value),
        }
    }
}
