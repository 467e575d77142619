//! PL061 register block (TRM DDI 0190, table 3-1).

use core::mem::offset_of;

use ferrode_hal::mmio::RegisterName;
use volatile::VolatileFieldAccess;
use volatile::access::NoAccess;

/// The PL061 register block, 4 KiB.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// GPIODATA: 256 words; address bits 9:2 mask the access.
    pub data: [u32; 256],
    /// GPIODIR: 1 = output.
    pub dir: u32,
    /// GPIOIS: 1 = level-sensitive interrupt.
    pub is: u32,
    /// GPIOIBE: 1 = both edges.
    pub ibe: u32,
    /// GPIOIEV: 1 = rising edge / high level.
    pub iev: u32,
    /// GPIOIE: interrupt mask (1 = unmasked).
    pub ie: u32,
    /// GPIORIS: raw interrupt status.
    pub ris: u32,
    /// GPIOMIS: masked interrupt status.
    pub mis: u32,
    /// GPIOIC: interrupt clear (write 1).
    pub ic: u32,
    /// GPIOAFSEL: 1 = hardware (alternate function) control.
    pub afsel: u32,
    #[access(NoAccess)]
    _reserved: [u32; 751],
    #[access(NoAccess)]
    _ids: [u32; 8],
}

const _: () = assert!(offset_of!(Regs, dir) == 0x400);
const _: () = assert!(offset_of!(Regs, afsel) == 0x420);
const _: () = assert!(core::mem::size_of::<Regs>() == 0x1000);

/// A PL061 register, for [`ferrode_hal::RegisterAccess`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// GPIODATA through the window word that masks with the given pins.
    Data(u8),
    /// GPIODIR.
    Dir,
    /// GPIOIS.
    Is,
    /// GPIOIBE.
    Ibe,
    /// GPIOIEV.
    Iev,
    /// GPIOIE.
    Ie,
    /// GPIORIS.
    Ris,
    /// GPIOMIS.
    Mis,
    /// GPIOIC.
    Ic,
    /// GPIOAFSEL.
    Afsel,
}

impl Register {
    /// Byte offset from the block's base address.
    pub const fn offset(self) -> usize {
        match self {
            Register::Data(mask) => (mask as usize) << 2,
            Register::Dir => offset_of!(Regs, dir),
            Register::Is => offset_of!(Regs, is),
            Register::Ibe => offset_of!(Regs, ibe),
            Register::Iev => offset_of!(Regs, iev),
            Register::Ie => offset_of!(Regs, ie),
            Register::Ris => offset_of!(Regs, ris),
            Register::Mis => offset_of!(Regs, mis),
            Register::Ic => offset_of!(Regs, ic),
            Register::Afsel => offset_of!(Regs, afsel),
        }
    }
}

impl RegisterName for Register {
    type Block = Regs;

    #[inline]
    fn offset(self) -> usize {
        Register::offset(self)
    }
}

/// The memory-mapped PL061: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

ferrode_hal::registers! {
    /// Typed access to the PL061's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests).
    pub trait Registers for Register {
        /// GPIODATA through the window word that masks with `mask`: only those pins are read or written.
        fn data(mask: u8) -> ReadWrite = Register::Data(mask);
        /// GPIODIR: 1 = output.
        fn dir() -> ReadWrite = Register::Dir;
        /// GPIOIS: 1 = level sensitive.
        fn is() -> ReadWrite = Register::Is;
        /// GPIOIBE: 1 = both edges.
        fn ibe() -> ReadWrite = Register::Ibe;
        /// GPIOIEV: 1 = rising edge or high level.
        fn iev() -> ReadWrite = Register::Iev;
        /// GPIOIE: interrupt mask.
        fn ie() -> ReadWrite = Register::Ie;
        /// GPIORIS.
        fn ris() -> ReadOnly = Register::Ris;
        /// GPIOMIS.
        fn mis() -> ReadOnly = Register::Mis;
        /// GPIOIC: write 1 to clear an edge interrupt.
        fn ic() -> WriteOnly = Register::Ic;
        /// GPIOAFSEL: 1 = hardware control.
        fn afsel() -> ReadWrite = Register::Afsel;
    }
}
