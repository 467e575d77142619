//! AXI Timer register block (PG079, "Register Space") and access to it.

use core::mem::offset_of;

use ferrode_hal::mmio::RegisterName;
use volatile::VolatileFieldAccess;
use volatile::access::NoAccess;

/// The two timer/counters of one AXI Timer block, at their PG079 offsets.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// TCSR0, Control/Status Register 0.
    pub tcsr0: u32,
    /// TLR0, Load Register 0.
    pub tlr0: u32,
    /// TCR0, Timer/Counter Register 0 (read-only).
    pub tcr0: u32,
    /// Reserved.
    #[access(NoAccess)]
    _reserved0: u32,
    /// TCSR1, Control/Status Register 1.
    pub tcsr1: u32,
    /// TLR1, Load Register 1.
    pub tlr1: u32,
    /// TCR1, Timer/Counter Register 1 (read-only).
    pub tcr1: u32,
    /// Reserved.
    #[access(NoAccess)]
    _reserved1: u32,
}

const _: () = assert!(offset_of!(Regs, tcsr0) == 0x00);
const _: () = assert!(offset_of!(Regs, tlr0) == 0x04);
const _: () = assert!(offset_of!(Regs, tcr0) == 0x08);
const _: () = assert!(offset_of!(Regs, tcsr1) == 0x10);
const _: () = assert!(offset_of!(Regs, tlr1) == 0x14);
const _: () = assert!(offset_of!(Regs, tcr1) == 0x18);

/// TCSR.MDT: mode, 0 = generate, 1 = capture.
pub const TCSR_MDT: u32 = 1 << 0;
/// TCSR.UDT: 1 = count down, 0 = count up.
pub const TCSR_UDT: u32 = 1 << 1;
/// TCSR.ARHT: auto reload (generate) / overwrite (capture).
pub const TCSR_ARHT: u32 = 1 << 4;
/// TCSR.LOAD: load TLR into the counter (hold while set).
pub const TCSR_LOAD: u32 = 1 << 5;
/// TCSR.ENIT: enable the interrupt.
pub const TCSR_ENIT: u32 = 1 << 6;
/// TCSR.ENT: enable the counter.
pub const TCSR_ENT: u32 = 1 << 7;
/// TCSR.TINT: interrupt occurred; write 1 to clear.
pub const TCSR_TINT: u32 = 1 << 8;
/// TCSR0.CASC: cascade both counters into one 64-bit counter.
pub const TCSR_CASC: u32 = 1 << 11;

/// One of the two timer/counters of a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    /// Timer/counter 0 (registers at 0x00); low half when cascaded.
    Zero,
    /// Timer/counter 1 (registers at 0x10); high half when cascaded.
    One,
}

/// One register of the block, for [`ferrode_hal::RegisterAccess`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// TCSRn.
    Tcsr(Counter),
    /// TLRn.
    Tlr(Counter),
    /// TCRn.
    Tcr(Counter),
}

impl Register {
    /// Byte offset from the block's base address.
    pub const fn offset(self) -> usize {
        match self {
            Register::Tcsr(Counter::Zero) => offset_of!(Regs, tcsr0),
            Register::Tlr(Counter::Zero) => offset_of!(Regs, tlr0),
            Register::Tcr(Counter::Zero) => offset_of!(Regs, tcr0),
            Register::Tcsr(Counter::One) => offset_of!(Regs, tcsr1),
            Register::Tlr(Counter::One) => offset_of!(Regs, tlr1),
            Register::Tcr(Counter::One) => offset_of!(Regs, tcr1),
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

/// The memory-mapped timer block: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

ferrode_hal::registers! {
    /// Typed access to the AXI Timer's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests).
    pub trait Registers for Register {
        /// TCSRn: control and status (TINT is write-1-to-clear).
        fn tcsr(counter: Counter) -> ReadWrite = Register::Tcsr(counter);
        /// TLRn: load value.
        fn tlr(counter: Counter) -> ReadWrite = Register::Tlr(counter);
        /// TCRn: the counter.
        fn tcr(counter: Counter) -> ReadOnly = Register::Tcr(counter);
    }
}
