//! AXI Timer register block (PG079, "Register Space") and access to it.

use core::mem::offset_of;

use ferrode_hal::mmio::{RegisterName, register_bitfields};
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

register_bitfields![u32,
    /// TCSR0 and TCSR1, Control/Status Registers (PG079, "TCSR0" and
    /// "TCSR1"): the same bits for both counters (the data sheet numbers
    /// them, MDT0/MDT1, T0INT/T1INT, ...), except CASC, which only TCSR0
    /// has.
    pub(crate) TCSR [
        /// MDT: timer mode.
        MDT OFFSET(0) NUMBITS(1) [
            Generate = 0,
            Capture = 1,
        ],
        /// UDT: count direction.
        UDT OFFSET(1) NUMBITS(1) [
            Up = 0,
            Down = 1,
        ],
        /// GENT: drive the GenerateOut signal.
        GENT OFFSET(2) NUMBITS(1) [],
        /// CAPT: enable the external capture trigger.
        CAPT OFFSET(3) NUMBITS(1) [],
        /// ARHT: auto reload (generate mode) / overwrite (capture mode).
        ARHT OFFSET(4) NUMBITS(1) [],
        /// LOAD: load TLR into the counter, holding it while set.
        LOAD OFFSET(5) NUMBITS(1) [],
        /// ENIT: enable the interrupt.
        ENIT OFFSET(6) NUMBITS(1) [],
        /// ENT: enable the counter.
        ENT OFFSET(7) NUMBITS(1) [],
        /// T0INT / T1INT: the interrupt occurred; write 1 to clear.
        TINT OFFSET(8) NUMBITS(1) [],
        /// PWMA: pulse width modulation (both counters in generate mode).
        PWMA OFFSET(9) NUMBITS(1) [],
        /// ENALL: enable both counters at once (mirrored in both TCSRs).
        ENALL OFFSET(10) NUMBITS(1) [],
        /// CASC (TCSR0 only): cascade both counters into one 64-bit
        /// counter, TCR1:TCR0.
        CASC OFFSET(11) NUMBITS(1) [],
    ],
];

ferrode_hal::registers! {
    /// Typed access to the AXI Timer's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests).
    pub trait Registers for Register {
        /// TCSRn: control and status (TINT is write-1-to-clear).
        fn tcsr(counter: Counter) -> ReadWrite<TCSR::Register> = Register::Tcsr(counter);
        /// TLRn: load value.
        fn tlr(counter: Counter) -> ReadWrite = Register::Tlr(counter);
        /// TCRn: the counter.
        fn tcr(counter: Counter) -> ReadOnly = Register::Tcr(counter);
    }
}
