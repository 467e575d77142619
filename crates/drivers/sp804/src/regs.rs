//! SP804 register block (Arm Dual-Timer Module TRM DDI 0271, table 3-1).

use core::mem::offset_of;

use ferrode_hal::mmio::{RegisterName, register_bitfields};
use volatile::VolatileFieldAccess;
use volatile::access::{NoAccess, ReadOnly, WriteOnly};

/// One of the two identical counters (TimerXLoad ... TimerXBGLoad).
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct TimerRegs {
    /// TimerXLoad: reload value; writing it restarts the count at once.
    load: u32,
    /// TimerXValue: the current count (counts down).
    #[access(ReadOnly)]
    value: u32,
    /// TimerXControl: enable, mode, interrupt enable, prescale, size.
    control: u32,
    /// TimerXIntClr: any write clears the interrupt.
    #[access(WriteOnly)]
    int_clr: u32,
    /// TimerXRIS: raw interrupt status.
    #[access(ReadOnly)]
    ris: u32,
    /// TimerXMIS: masked interrupt status.
    #[access(ReadOnly)]
    mis: u32,
    /// TimerXBGLoad: reload value that does not restart the count.
    bg_load: u32,
    #[access(NoAccess)]
    _reserved: u32,
}

const _: () = assert!(core::mem::offset_of!(TimerRegs, load) == 0x00);
const _: () = assert!(core::mem::offset_of!(TimerRegs, value) == 0x04);
const _: () = assert!(core::mem::offset_of!(TimerRegs, control) == 0x08);
const _: () = assert!(core::mem::offset_of!(TimerRegs, int_clr) == 0x0c);
const _: () = assert!(core::mem::offset_of!(TimerRegs, ris) == 0x10);
const _: () = assert!(core::mem::offset_of!(TimerRegs, mis) == 0x14);
const _: () = assert!(core::mem::offset_of!(TimerRegs, bg_load) == 0x18);
const _: () = assert!(core::mem::size_of::<TimerRegs>() == 0x20);

/// The SP804 register block, 4 KiB.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// Timer1Load ... Timer1BGLoad.
    timer1: TimerRegs,
    /// Timer2Load ... Timer2BGLoad.
    timer2: TimerRegs,
    #[access(NoAccess)]
    _reserved0: [u32; 944],
    /// TimerITCR: integration test control.
    itcr: u32,
    /// TimerITOP: integration test output set.
    #[access(WriteOnly)]
    itop: u32,
    #[access(NoAccess)]
    _reserved1: [u32; 54],
    /// TimerPeriphID0-3.
    #[access(ReadOnly)]
    periph_id: [u32; 4],
    /// TimerPCellID0-3.
    #[access(ReadOnly)]
    pcell_id: [u32; 4],
}

const _: () = assert!(core::mem::offset_of!(Regs, timer1) == 0x00);
const _: () = assert!(core::mem::offset_of!(Regs, timer2) == 0x20);
const _: () = assert!(core::mem::offset_of!(Regs, itcr) == 0xf00);
const _: () = assert!(core::mem::offset_of!(Regs, itop) == 0xf04);
const _: () = assert!(core::mem::offset_of!(Regs, periph_id) == 0xfe0);
const _: () = assert!(core::mem::offset_of!(Regs, pcell_id) == 0xff0);
const _: () = assert!(core::mem::size_of::<Regs>() == 0x1000);

/// Which of the two counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    /// Timer 1 (offset 0x00).
    Timer1,
    /// Timer 2 (offset 0x20).
    Timer2,
}

/// The registers the driver uses, by data-sheet name (the bus's names;
/// the driver reaches them through [`Registers`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// TimerXLoad.
    Load(Counter),
    /// TimerXValue (read only).
    Value(Counter),
    /// TimerXControl.
    Control(Counter),
    /// TimerXIntClr (write only).
    IntClr(Counter),
    /// TimerXRIS (read only).
    Ris(Counter),
    /// TimerXMIS (read only).
    Mis(Counter),
    /// TimerXBGLoad.
    BgLoad(Counter),
}

impl RegisterName for Register {
    type Block = Regs;

    #[inline]
    fn offset(self) -> usize {
        let (Register::Load(counter)
        | Register::Value(counter)
        | Register::Control(counter)
        | Register::IntClr(counter)
        | Register::Ris(counter)
        | Register::Mis(counter)
        | Register::BgLoad(counter)) = self;
        let timer = match counter {
            Counter::Timer1 => offset_of!(Regs, timer1),
            Counter::Timer2 => offset_of!(Regs, timer2),
        };
        timer
            + match self {
                Register::Load(_) => offset_of!(TimerRegs, load),
                Register::Value(_) => offset_of!(TimerRegs, value),
                Register::Control(_) => offset_of!(TimerRegs, control),
                Register::IntClr(_) => offset_of!(TimerRegs, int_clr),
                Register::Ris(_) => offset_of!(TimerRegs, ris),
                Register::Mis(_) => offset_of!(TimerRegs, mis),
                Register::BgLoad(_) => offset_of!(TimerRegs, bg_load),
            }
    }
}

/// The memory-mapped SP804: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

register_bitfields![u32,
    /// TimerXControl (TRM 3.2.3).
    pub(crate) CONTROL [
        ONE_SHOT OFFSET(0) NUMBITS(1) [],
        TIMER_SIZE OFFSET(1) NUMBITS(1) [
            Bits16 = 0,
            Bits32 = 1,
        ],
        TIMER_PRE OFFSET(2) NUMBITS(2) [
            Divide1 = 0,
            Divide16 = 1,
            Divide256 = 2,
        ],
        INT_ENABLE OFFSET(5) NUMBITS(1) [],
        /// 1 = periodic (reload from TimerXLoad at 0), 0 = free-running.
        TIMER_MODE OFFSET(6) NUMBITS(1) [
            FreeRunning = 0,
            Periodic = 1,
        ],
        TIMER_EN OFFSET(7) NUMBITS(1) [],
    ],
    /// TimerXIntClr, TimerXRIS, TimerXMIS (TRM 3.2.4-3.2.6).
    pub(crate) INT [
        INT OFFSET(0) NUMBITS(1) [],
    ],
];

ferrode_hal::registers! {
    /// Typed access to the SP804's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests).
    pub trait Registers for Register {
        /// TimerXLoad: writing it restarts the count at once.
        fn load(counter: Counter) -> ReadWrite = Register::Load(counter);
        /// TimerXValue: the current count.
        fn value(counter: Counter) -> ReadOnly = Register::Value(counter);
        /// TimerXControl.
        fn control(counter: Counter) -> ReadWrite<CONTROL::Register> = Register::Control(counter);
        /// TimerXIntClr: any write clears the interrupt.
        fn int_clr(counter: Counter) -> WriteOnly<INT::Register> = Register::IntClr(counter);
        /// TimerXRIS.
        fn ris(counter: Counter) -> ReadOnly<INT::Register> = Register::Ris(counter);
        /// TimerXMIS.
        fn mis(counter: Counter) -> ReadOnly<INT::Register> = Register::Mis(counter);
        /// TimerXBGLoad: reload value for the next period only.
        fn bg_load(counter: Counter) -> ReadWrite = Register::BgLoad(counter);
    }
}
