//! SP804 register block (Arm Dual-Timer Module TRM DDI 0271, table 3-1).

use volatile::access::{NoAccess, ReadOnly, WriteOnly};
use volatile::{VolatileFieldAccess, VolatilePtr};

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

/// The registers the driver uses, by data-sheet name.
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

/// 32-bit access to the SP804's registers.
///
/// Implemented for the memory-mapped block ([`VolatilePtr<Regs>`]) and, in
/// tests, by a behavioural model. Reads of write-only registers return 0;
/// writes to read-only registers are ignored.
pub trait Registers {
    /// Reads `register`.
    fn read_register(&mut self, register: Register) -> u32;
    /// Writes `value` to `register`, with its side effects.
    fn write_register(&mut self, register: Register, value: u32);
}

impl Registers for VolatilePtr<'_, Regs> {
    fn read_register(&mut self, register: Register) -> u32 {
        let (Register::Load(counter)
        | Register::Value(counter)
        | Register::Control(counter)
        | Register::IntClr(counter)
        | Register::Ris(counter)
        | Register::Mis(counter)
        | Register::BgLoad(counter)) = register;
        let timer = match counter {
            Counter::Timer1 => self.timer1(),
            Counter::Timer2 => self.timer2(),
        };
        match register {
            Register::Load(_) => timer.load().read(),
            Register::Value(_) => timer.value().read(),
            Register::Control(_) => timer.control().read(),
            Register::IntClr(_) => 0,
            Register::Ris(_) => timer.ris().read(),
            Register::Mis(_) => timer.mis().read(),
            Register::BgLoad(_) => timer.bg_load().read(),
        }
    }

    fn write_register(&mut self, register: Register, value: u32) {
        let (Register::Load(counter)
        | Register::Value(counter)
        | Register::Control(counter)
        | Register::IntClr(counter)
        | Register::Ris(counter)
        | Register::Mis(counter)
        | Register::BgLoad(counter)) = register;
        let timer = match counter {
            Counter::Timer1 => self.timer1(),
            Counter::Timer2 => self.timer2(),
        };
        match register {
            Register::Load(_) => timer.load().write(value),
            Register::Control(_) => timer.control().write(value),
            Register::IntClr(_) => timer.int_clr().write(value),
            Register::BgLoad(_) => timer.bg_load().write(value),
            Register::Value(_) | Register::Ris(_) | Register::Mis(_) => {}
        }
    }
}

/// TimerXControl bits (TRM 3.2.3).
pub(crate) mod control {
    pub const ONE_SHOT: u32 = 1 << 0;
    pub const TIMER_SIZE_32: u32 = 1 << 1;
    pub const TIMER_PRE_SHIFT: u32 = 2;
    pub const INT_ENABLE: u32 = 1 << 5;
    /// TimerMode: 1 = periodic (reload from TimerXLoad at 0), 0 = free-running.
    pub const PERIODIC: u32 = 1 << 6;
    pub const TIMER_EN: u32 = 1 << 7;
}
