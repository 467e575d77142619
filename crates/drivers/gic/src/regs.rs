//! GICv1 register blocks (Cortex-A9 MPCore TRM r4p1 section 3, Arm GIC
//! architecture v1 section 4): the distributor (ICD*) and the CPU interface
//! (ICC*).

use core::mem::offset_of;

use ferrode_hal::RegisterAccess;
use ferrode_hal::mmio::{self as hal, RegisterName, register_bitfields};
use volatile::access::{NoAccess, ReadOnly, WriteOnly};
use volatile::{VolatileFieldAccess, VolatilePtr};

/// The distributor register block, 4 KiB.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct DistributorRegs {
    /// ICDDCR: distributor control (bit 0 enables forwarding).
    icddcr: u32,
    /// ICDICTR: interrupt controller type (ITLinesNumber in bits 4:0).
    #[access(ReadOnly)]
    icdictr: u32,
    /// ICDIIDR: implementer identification.
    #[access(ReadOnly)]
    icdiidr: u32,
    #[access(NoAccess)]
    _reserved0: [u32; 29],
    /// ICDISR: interrupt security (group) registers.
    icdisr: [u32; 32],
    /// ICDISER: set-enable, write 1 to enable.
    icdiser: [u32; 32],
    /// ICDICER: clear-enable, write 1 to disable.
    icdicer: [u32; 32],
    /// ICDISPR: set-pending, write 1 to make pending.
    icdispr: [u32; 32],
    /// ICDICPR: clear-pending, write 1 to clear.
    icdicpr: [u32; 32],
    /// ICDABR: active bits.
    #[access(ReadOnly)]
    icdabr: [u32; 32],
    #[access(NoAccess)]
    _reserved1: [u32; 32],
    /// ICDIPR: priority, one byte per interrupt.
    icdipr: [u32; 256],
    /// ICDIPTR: CPU targets, one byte per interrupt.
    icdiptr: [u32; 256],
    /// ICDICFR: configuration, two bits per interrupt (bit 1: edge).
    icdicfr: [u32; 64],
    #[access(NoAccess)]
    _reserved2: [u32; 128],
    /// ICDSGIR: software generated interrupt.
    #[access(WriteOnly)]
    icdsgir: u32,
    #[access(NoAccess)]
    _reserved3: [u32; 63],
}

const _: () = assert!(core::mem::offset_of!(DistributorRegs, icddcr) == 0x000);
const _: () = assert!(core::mem::offset_of!(DistributorRegs, icdictr) == 0x004);
const _: () = assert!(core::mem::offset_of!(DistributorRegs, icdisr) == 0x080);
const _: () = assert!(core::mem::offset_of!(DistributorRegs, icdiser) == 0x100);
const _: () = assert!(core::mem::offset_of!(DistributorRegs, icdicer) == 0x180);
const _: () = assert!(core::mem::offset_of!(DistributorRegs, icdispr) == 0x200);
const _: () = assert!(core::mem::offset_of!(DistributorRegs, icdicpr) == 0x280);
const _: () = assert!(core::mem::offset_of!(DistributorRegs, icdabr) == 0x300);
const _: () = assert!(core::mem::offset_of!(DistributorRegs, icdipr) == 0x400);
const _: () = assert!(core::mem::offset_of!(DistributorRegs, icdiptr) == 0x800);
const _: () = assert!(core::mem::offset_of!(DistributorRegs, icdicfr) == 0xc00);
const _: () = assert!(core::mem::offset_of!(DistributorRegs, icdsgir) == 0xf00);
const _: () = assert!(core::mem::size_of::<DistributorRegs>() == 0x1000);

/// The CPU interface register block, 256 bytes.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct CpuInterfaceRegs {
    /// ICCICR: CPU interface control (bit 0 enables signalling).
    iccicr: u32,
    /// ICCPMR: priority mask; only priorities below it are signalled.
    iccpmr: u32,
    /// ICCBPR: binary point.
    iccbpr: u32,
    /// ICCIAR: interrupt acknowledge; reading it acknowledges.
    #[access(ReadOnly)]
    icciar: u32,
    /// ICCEOIR: end of interrupt.
    #[access(WriteOnly)]
    icceoir: u32,
    /// ICCRPR: running priority.
    #[access(ReadOnly)]
    iccrpr: u32,
    /// ICCHPIR: highest pending interrupt.
    #[access(ReadOnly)]
    icchpir: u32,
    #[access(NoAccess)]
    _reserved: [u32; 57],
}

const _: () = assert!(core::mem::offset_of!(CpuInterfaceRegs, iccpmr) == 0x04);
const _: () = assert!(core::mem::offset_of!(CpuInterfaceRegs, icciar) == 0x0c);
const _: () = assert!(core::mem::offset_of!(CpuInterfaceRegs, icceoir) == 0x10);
const _: () = assert!(core::mem::offset_of!(CpuInterfaceRegs, icchpir) == 0x18);
const _: () = assert!(core::mem::size_of::<CpuInterfaceRegs>() == 0x100);

/// The registers the driver uses, by data-sheet name; array registers carry
/// their word index (e.g. `Icdiser(1)` covers interrupts 32-63).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// ICDDCR.
    Icddcr,
    /// ICDICTR (read only).
    Icdictr,
    /// ICDISER word n.
    Icdiser(usize),
    /// ICDICER word n.
    Icdicer(usize),
    /// ICDISPR word n.
    Icdispr(usize),
    /// ICDICPR word n.
    Icdicpr(usize),
    /// ICDIPR word n (four priorities).
    Icdipr(usize),
    /// ICDIPTR word n (four target masks).
    Icdiptr(usize),
    /// ICDICFR word n (sixteen configurations).
    Icdicfr(usize),
    /// ICDSGIR (write only).
    Icdsgir,
    /// ICCICR.
    Iccicr,
    /// ICCPMR.
    Iccpmr,
    /// ICCBPR.
    Iccbpr,
    /// ICCIAR (read only; reading acknowledges).
    Icciar,
    /// ICCEOIR (write only).
    Icceoir,
    /// ICCHPIR (read only).
    Icchpir,
}

/// The memory-mapped distributor and CPU interface of one core: the bus on
/// hardware.
#[derive(Clone, Copy, Debug)]
pub struct Mmio<'a> {
    /// The distributor block (ICD*).
    pub distributor: VolatilePtr<'a, DistributorRegs>,
    /// This core's CPU interface block (ICC*).
    pub cpu_interface: VolatilePtr<'a, CpuInterfaceRegs>,
}

// SAFETY: as for `ferrode_hal::mmio::Mmio`: the two blocks are device
// registers the platform gave to this handle's owner; moving the owner to
// another thread moves the device with it (not `Sync`: sharing is the
// owner's decision, made with a lock).
unsafe impl Send for Mmio<'_> {}

/// A word of the distributor block, by byte offset.
#[derive(Clone, Copy)]
struct DistributorWord(usize);

impl RegisterName for DistributorWord {
    type Block = DistributorRegs;

    #[inline]
    fn offset(self) -> usize {
        self.0
    }
}

/// A word of the CPU interface block, by byte offset.
#[derive(Clone, Copy)]
struct CpuInterfaceWord(usize);

impl RegisterName for CpuInterfaceWord {
    type Block = CpuInterfaceRegs;

    #[inline]
    fn offset(self) -> usize {
        self.0
    }
}

/// Where a register lives: its block and byte offset.
enum Location {
    Distributor(DistributorWord),
    CpuInterface(CpuInterfaceWord),
}

impl Register {
    #[inline]
    fn location(self) -> Location {
        let distributor = |offset| Location::Distributor(DistributorWord(offset));
        let array = |offset, index: usize| distributor(offset + 4 * index);
        let cpu_interface = |offset| Location::CpuInterface(CpuInterfaceWord(offset));
        match self {
            Register::Icddcr => distributor(offset_of!(DistributorRegs, icddcr)),
            Register::Icdictr => distributor(offset_of!(DistributorRegs, icdictr)),
            Register::Icdiser(n) => array(offset_of!(DistributorRegs, icdiser), n),
            Register::Icdicer(n) => array(offset_of!(DistributorRegs, icdicer), n),
            Register::Icdispr(n) => array(offset_of!(DistributorRegs, icdispr), n),
            Register::Icdicpr(n) => array(offset_of!(DistributorRegs, icdicpr), n),
            Register::Icdipr(n) => array(offset_of!(DistributorRegs, icdipr), n),
            Register::Icdiptr(n) => array(offset_of!(DistributorRegs, icdiptr), n),
            Register::Icdicfr(n) => array(offset_of!(DistributorRegs, icdicfr), n),
            Register::Icdsgir => distributor(offset_of!(DistributorRegs, icdsgir)),
            Register::Iccicr => cpu_interface(offset_of!(CpuInterfaceRegs, iccicr)),
            Register::Iccpmr => cpu_interface(offset_of!(CpuInterfaceRegs, iccpmr)),
            Register::Iccbpr => cpu_interface(offset_of!(CpuInterfaceRegs, iccbpr)),
            Register::Icciar => cpu_interface(offset_of!(CpuInterfaceRegs, icciar)),
            Register::Icceoir => cpu_interface(offset_of!(CpuInterfaceRegs, icceoir)),
            Register::Icchpir => cpu_interface(offset_of!(CpuInterfaceRegs, icchpir)),
        }
    }
}

impl RegisterAccess<Register> for Mmio<'_> {
    #[inline]
    fn read(&self, register: Register) -> u32 {
        match register.location() {
            Location::Distributor(word) => hal::Mmio::new(self.distributor).read(word),
            Location::CpuInterface(word) => hal::Mmio::new(self.cpu_interface).read(word),
        }
    }

    #[inline]
    fn write(&self, register: Register, value: u32) {
        match register.location() {
            Location::Distributor(word) => hal::Mmio::new(self.distributor).write(word, value),
            Location::CpuInterface(word) => hal::Mmio::new(self.cpu_interface).write(word, value),
        }
    }
}

register_bitfields![u32,
    /// ICDDCR (GIC architecture 4.3.1).
    pub(crate) ICDDCR [
        ENABLE OFFSET(0) NUMBITS(1) [],
    ],
    /// ICDICTR (4.3.2).
    pub(crate) ICDICTR [
        IT_LINES_NUMBER OFFSET(0) NUMBITS(5) [],
    ],
    /// ICDSGIR (4.3.12).
    pub(crate) ICDSGIR [
        SGIINTID OFFSET(0) NUMBITS(4) [],
        CPU_TARGET_LIST OFFSET(16) NUMBITS(8) [],
    ],
    /// ICCICR (4.4.1).
    pub(crate) ICCICR [
        ENABLE OFFSET(0) NUMBITS(1) [],
    ],
    /// ICCPMR (4.4.2).
    pub(crate) ICCPMR [
        PRIORITY OFFSET(0) NUMBITS(8) [],
    ],
    /// ICCIAR and ICCEOIR (4.4.4, 4.4.5).
    pub(crate) ICCIAR [
        INTERRUPT_ID OFFSET(0) NUMBITS(10) [],
        CPUID OFFSET(10) NUMBITS(3) [],
    ],
];

ferrode_hal::registers! {
    /// Typed access to the GIC's registers, for every bus of [`Register`]
    /// ([`Mmio`] on hardware, a model in tests). Array registers take their
    /// word index.
    pub trait Registers for Register {
        /// ICDDCR.
        fn icddcr() -> ReadWrite<ICDDCR::Register> = Register::Icddcr;
        /// ICDICTR.
        fn icdictr() -> ReadOnly<ICDICTR::Register> = Register::Icdictr;
        /// ICDISER word `n`: reads the enables, writing 1 enables.
        fn icdiser(n: usize) -> ReadWrite = Register::Icdiser(n);
        /// ICDICER word `n`: writing 1 disables.
        fn icdicer(n: usize) -> ReadWrite = Register::Icdicer(n);
        /// ICDISPR word `n`: writing 1 makes pending.
        fn icdispr(n: usize) -> ReadWrite = Register::Icdispr(n);
        /// ICDICPR word `n`: writing 1 clears pending.
        fn icdicpr(n: usize) -> ReadWrite = Register::Icdicpr(n);
        /// ICDIPR word `n`: four priorities.
        fn icdipr(n: usize) -> ReadWrite = Register::Icdipr(n);
        /// ICDIPTR word `n`: four CPU target masks.
        fn icdiptr(n: usize) -> ReadWrite = Register::Icdiptr(n);
        /// ICDICFR word `n`: sixteen configurations (bit 1 of each: edge).
        fn icdicfr(n: usize) -> ReadWrite = Register::Icdicfr(n);
        /// ICDSGIR.
        fn icdsgir() -> WriteOnly<ICDSGIR::Register> = Register::Icdsgir;
        /// ICCICR.
        fn iccicr() -> ReadWrite<ICCICR::Register> = Register::Iccicr;
        /// ICCPMR.
        fn iccpmr() -> ReadWrite<ICCPMR::Register> = Register::Iccpmr;
        /// ICCBPR.
        fn iccbpr() -> ReadWrite = Register::Iccbpr;
        /// ICCIAR: reading acknowledges.
        fn icciar() -> ReadOnly<ICCIAR::Register> = Register::Icciar;
        /// ICCEOIR: the acknowledged ICCIAR value.
        fn icceoir() -> WriteOnly<ICCIAR::Register> = Register::Icceoir;
        /// ICCHPIR.
        fn icchpir() -> ReadOnly<ICCIAR::Register> = Register::Icchpir;
    }
}
