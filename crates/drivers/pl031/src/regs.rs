//! PL031 register block (TRM DDI 0224, table 3-1).

use ferrode_hal::mmio::register_bitfields;
use volatile::VolatileFieldAccess;
use volatile::access::NoAccess;

/// The PL031 register block, 4 KiB.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// RTCDR: data register, the current count (read only).
    pub rtcdr: u32,
    /// RTCMR: match register.
    pub rtcmr: u32,
    /// RTCLR: load register (write loads the counter).
    pub rtclr: u32,
    /// RTCCR: control register (bit 0 RTCStart).
    pub rtccr: u32,
    /// RTCIMSC: interrupt mask set/clear.
    pub rtcimsc: u32,
    /// RTCRIS: raw interrupt status (read only).
    pub rtcris: u32,
    /// RTCMIS: masked interrupt status (read only).
    pub rtcmis: u32,
    /// RTCICR: interrupt clear (write only).
    pub rtcicr: u32,
    #[access(NoAccess)]
    _reserved: [u32; 1008],
    /// RTCPeriphID0..3.
    pub periph_id0: u32,
    /// RTCPeriphID1.
    pub periph_id1: u32,
    /// RTCPeriphID2.
    pub periph_id2: u32,
    /// RTCPeriphID3.
    pub periph_id3: u32,
    /// RTCPCellID0..3.
    #[access(NoAccess)]
    _pcell_id: [u32; 4],
}

const _: () = assert!(core::mem::size_of::<Regs>() == 0x1000);

ferrode_hal::register_names! {
    block Regs;
    /// The PL031 registers the driver uses.
    pub enum Register {
        /// RTCDR.
        Rtcdr => rtcdr @ 0x000,
        /// RTCMR.
        Rtcmr => rtcmr @ 0x004,
        /// RTCLR.
        Rtclr => rtclr @ 0x008,
        /// RTCCR.
        Rtccr => rtccr @ 0x00c,
        /// RTCIMSC.
        Rtcimsc => rtcimsc @ 0x010,
        /// RTCRIS.
        Rtcris => rtcris @ 0x014,
        /// RTCMIS.
        Rtcmis => rtcmis @ 0x018,
        /// RTCICR.
        Rtcicr => rtcicr @ 0x01c,
        /// RTCPeriphID0.
        PeriphId0 => periph_id0 @ 0xfe0,
        /// RTCPeriphID1.
        PeriphId1 => periph_id1 @ 0xfe4,
        /// RTCPeriphID2.
        PeriphId2 => periph_id2 @ 0xfe8,
        /// RTCPeriphID3.
        PeriphId3 => periph_id3 @ 0xfec,
    }
}

/// The memory-mapped block: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

register_bitfields![u32,
    /// RTCCR (TRM 3.3.4).
    pub(crate) RTCCR [
        /// RTC start: once set, only a reset clears it.
        RTC_START OFFSET(0) NUMBITS(1) [],
    ],
    /// RTCIMSC, RTCRIS, RTCMIS, RTCICR (TRM 3.3.5-3.3.8).
    pub(crate) INT [
        /// The match interrupt.
        MATCH OFFSET(0) NUMBITS(1) [],
    ],
];

ferrode_hal::registers! {
    /// Typed access to the PL031's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests).
    pub trait Registers for Register {
        /// RTCDR: the counter, in seconds.
        fn rtcdr() -> ReadOnly = Register::Rtcdr;
        /// RTCMR: the match value.
        fn rtcmr() -> ReadWrite = Register::Rtcmr;
        /// RTCLR: loads the counter.
        fn rtclr() -> ReadWrite = Register::Rtclr;
        /// RTCCR.
        fn rtccr() -> ReadWrite<RTCCR::Register> = Register::Rtccr;
        /// RTCIMSC.
        fn rtcimsc() -> ReadWrite<INT::Register> = Register::Rtcimsc;
        /// RTCRIS.
        fn rtcris() -> ReadOnly<INT::Register> = Register::Rtcris;
        /// RTCMIS.
        fn rtcmis() -> ReadOnly<INT::Register> = Register::Rtcmis;
        /// RTCICR: write 1 to clear.
        fn rtcicr() -> WriteOnly<INT::Register> = Register::Rtcicr;
        /// RTCPeriphID`n`.
        fn periph_id(n: usize) -> ReadOnly = [Register::PeriphId0, Register::PeriphId1, Register::PeriphId2, Register::PeriphId3][n];
    }
}
