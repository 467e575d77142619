//! SBCon register block: the Versatile/RealView two-wire serial bus
//! interface, two words at the start of its window.
//!
//! The first word has two faces: read, it is SB_CONTROL (the levels of the
//! two bus lines as they are on the wire); written, it is SB_CONTROLS (a 1
//! bit releases that line, letting it float high). The second word,
//! SB_CONTROLC, is write-only: a 1 bit drives that line low. Bits written
//! as 0 leave a line as it was, in both.

use ferrode_hal::mmio::register_bitfields;
use volatile::VolatileFieldAccess;
use volatile::access::WriteOnly;

/// The SBCon register block.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// SB_CONTROL (read: the line levels) / SB_CONTROLS (write: release
    /// lines).
    pub control: u32,
    /// SB_CONTROLC (write only: drive lines low).
    #[access(WriteOnly)]
    pub clear: u32,
}

const _: () = assert!(core::mem::size_of::<Regs>() == 8);

ferrode_hal::register_names! {
    block Regs;
    /// The SBCon's registers.
    pub enum Register {
        /// SB_CONTROL (read) / SB_CONTROLS (write).
        Control => control @ 0x000,
        /// SB_CONTROLC.
        Clear => clear @ 0x004,
    }
}

/// The memory-mapped block: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

register_bitfields![u32,
    /// The two lines, as SB_CONTROL reports them and SB_CONTROLS and
    /// SB_CONTROLC set and clear them.
    pub(crate) LINES [
        /// SCL, the serial clock.
        SCL OFFSET(0) NUMBITS(1) [],
        /// SDA, the serial data.
        SDA OFFSET(1) NUMBITS(1) [],
    ],
];

ferrode_hal::registers! {
    /// Typed access to the SBCon's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model of the I2C bus in
    /// tests). The word at 0x000 has an accessor per face.
    pub trait Registers for Register {
        /// SB_CONTROL: the level of each line on the wire, the wired-AND
        /// of what the controller and every device drive.
        fn control() -> ReadOnly<LINES::Register> = Register::Control;
        /// SB_CONTROLS: a 1 bit releases that line (it floats high unless
        /// a device holds it low).
        fn control_set() -> WriteOnly<LINES::Register> = Register::Control;
        /// SB_CONTROLC: a 1 bit drives that line low.
        fn control_clear() -> WriteOnly<LINES::Register> = Register::Clear;
    }
}
