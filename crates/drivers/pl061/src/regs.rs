//! PL061 register block (TRM DDI 0190, table 3-1).

use core::mem::offset_of;

use volatile::access::NoAccess;
use volatile::{VolatileFieldAccess, VolatilePtr};

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

/// A PL061 register, for [`RegisterAccess`].
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

ferrode_hal::mmio_adapter! {
    /// The memory-mapped register block.
    pub struct Mmio for Regs;
    /// 32-bit access to the PL061's registers.
    pub trait RegisterAccess for Register;
}

impl<'a> Mmio<'a> {
    fn register(self, register: Register) -> VolatilePtr<'a, u32> {
        let r = self.regs;
        match register {
            Register::Data(mask) => {
                // SAFETY: a `u8` mask indexes one of the 256 words of the
                // data window, inside the block the VolatilePtr covers.
                unsafe { r.data().map(|data| data.cast::<u32>().add(usize::from(mask))) }
            }
            Register::Dir => r.dir(),
            Register::Is => r.is(),
            Register::Ibe => r.ibe(),
            Register::Iev => r.iev(),
            Register::Ie => r.ie(),
            Register::Ris => r.ris(),
            Register::Mis => r.mis(),
            Register::Ic => r.ic(),
            Register::Afsel => r.afsel(),
        }
    }
}

impl ferrode_hal::RegisterAccess<Register> for Mmio<'_> {
    fn read(&self, register: Register) -> u32 {
        self.register(register).read()
    }

    fn write(&self, register: Register, value: u32) {
        self.register(register).write(value)
    }
}
