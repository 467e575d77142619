//! AXI GPIO register block (PG144, "Register Space") and access to it.

use core::mem::offset_of;

use volatile::access::NoAccess;
use volatile::{VolatileFieldAccess, VolatilePtr};

/// The AXI GPIO registers at their PG144 offsets.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// GPIO_DATA: channel 1 data (inputs read, outputs written).
    pub gpio_data: u32,
    /// GPIO_TRI: channel 1 3-state control, 1 = input, 0 = output.
    pub gpio_tri: u32,
    /// GPIO2_DATA: channel 2 data (dual-channel cores only).
    pub gpio2_data: u32,
    /// GPIO2_TRI: channel 2 3-state control.
    pub gpio2_tri: u32,
    /// Reserved.
    #[access(NoAccess)]
    _reserved0: [u32; 67],
    /// GIER, Global Interrupt Enable Register: bit 31.
    pub gier: u32,
    /// IP ISR, IP Interrupt Status Register: bit 0 channel 1, bit 1
    /// channel 2; writing 1 toggles a bit (so write back exactly the bits
    /// read as 1 to clear them).
    pub ip_isr: u32,
    /// Reserved.
    #[access(NoAccess)]
    _reserved1: u32,
    /// IP IER, IP Interrupt Enable Register: bit 0 channel 1, bit 1 channel 2.
    pub ip_ier: u32,
}

const _: () = assert!(offset_of!(Regs, gpio_data) == 0x000);
const _: () = assert!(offset_of!(Regs, gpio_tri) == 0x004);
const _: () = assert!(offset_of!(Regs, gpio2_data) == 0x008);
const _: () = assert!(offset_of!(Regs, gpio2_tri) == 0x00C);
const _: () = assert!(offset_of!(Regs, gier) == 0x11C);
const _: () = assert!(offset_of!(Regs, ip_isr) == 0x120);
const _: () = assert!(offset_of!(Regs, ip_ier) == 0x128);

/// GIER: Global Interrupt Enable.
pub const GIER_GLOBAL_INTERRUPT_ENABLE: u32 = 1 << 31;

/// One register of the block, for [`RegisterAccess`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// GPIO_DATA.
    GpioData,
    /// GPIO_TRI.
    GpioTri,
    /// GPIO2_DATA.
    Gpio2Data,
    /// GPIO2_TRI.
    Gpio2Tri,
    /// GIER.
    Gier,
    /// IP ISR.
    IpIsr,
    /// IP IER.
    IpIer,
}

impl Register {
    /// Byte offset from the block's base address (as QEMU's `-d unimp` log
    /// prints it).
    pub const fn offset(self) -> usize {
        match self {
            Register::GpioData => offset_of!(Regs, gpio_data),
            Register::GpioTri => offset_of!(Regs, gpio_tri),
            Register::Gpio2Data => offset_of!(Regs, gpio2_data),
            Register::Gpio2Tri => offset_of!(Regs, gpio2_tri),
            Register::Gier => offset_of!(Regs, gier),
            Register::IpIsr => offset_of!(Regs, ip_isr),
            Register::IpIer => offset_of!(Regs, ip_ier),
        }
    }
}

/// 32-bit access to the GPIO's registers.
///
/// IP ISR toggles on write, so tests use a behavioural model; [`Mmio`] is
/// the hardware.
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
            Register::GpioData => r.gpio_data().read(),
            Register::GpioTri => r.gpio_tri().read(),
            Register::Gpio2Data => r.gpio2_data().read(),
            Register::Gpio2Tri => r.gpio2_tri().read(),
            Register::Gier => r.gier().read(),
            Register::IpIsr => r.ip_isr().read(),
            Register::IpIer => r.ip_ier().read(),
        }
    }

    fn write(&self, register: Register, value: u32) {
        let r = self.regs;
        match register {
            Register::GpioData => r.gpio_data().write(value),
            Register::GpioTri => r.gpio_tri().write(value),
            Register::Gpio2Data => r.gpio2_data().write(value),
            Register::Gpio2Tri => r.gpio2_tri().write(value),
            Register::Gier => r.gier().write(value),
            Register::IpIsr => r.ip_isr().write(value),
            Register::IpIer => r.ip_ier().write(value),
        }
    }
}
