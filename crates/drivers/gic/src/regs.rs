//! GICv1 register blocks (Cortex-A9 MPCore TRM r4p1 section 3, Arm GIC
//! architecture v1 section 4): the distributor (ICD*) and the CPU interface
//! (ICC*).

use core::ptr::NonNull;

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

/// 32-bit access to the GIC's registers.
///
/// Implemented for the memory-mapped blocks ([`Mmio`]) and, in tests, by a
/// behavioural model. Reads of write-only registers return 0; writes to
/// read-only registers are ignored.
pub trait Registers {
    /// Reads `register`, with its side effects.
    fn read_register(&mut self, register: Register) -> u32;
    /// Writes `value` to `register`, with its side effects.
    fn write_register(&mut self, register: Register, value: u32);
}

/// The memory-mapped distributor and CPU interface of one core.
#[derive(Clone, Copy, Debug)]
pub struct Mmio<'a> {
    /// The distributor block (ICD*).
    pub distributor: VolatilePtr<'a, DistributorRegs>,
    /// This core's CPU interface block (ICC*).
    pub cpu_interface: VolatilePtr<'a, CpuInterfaceRegs>,
}

/// Element `index` of a register array.
///
/// # Panics
/// If `index` is out of bounds (the driver never asks for that).
fn element<'a, const N: usize>(
    array: VolatilePtr<'a, [u32; N]>,
    index: usize,
) -> VolatilePtr<'a, u32> {
    assert!(index < N, "register index {index} out of {N}");
    // SAFETY: `index < N`, so the element lies inside the array the
    // VolatilePtr already covers, with the same lifetime and access.
    unsafe {
        array.map(|pointer| NonNull::new_unchecked(pointer.as_ptr().cast::<u32>().add(index)))
    }
}

impl Registers for Mmio<'_> {
    fn read_register(&mut self, register: Register) -> u32 {
        let (icd, icc) = (self.distributor, self.cpu_interface);
        match register {
            Register::Icddcr => icd.icddcr().read(),
            Register::Icdictr => icd.icdictr().read(),
            Register::Icdiser(n) => element(icd.icdiser(), n).read(),
            Register::Icdicer(n) => element(icd.icdicer(), n).read(),
            Register::Icdispr(n) => element(icd.icdispr(), n).read(),
            Register::Icdicpr(n) => element(icd.icdicpr(), n).read(),
            Register::Icdipr(n) => element(icd.icdipr(), n).read(),
            Register::Icdiptr(n) => element(icd.icdiptr(), n).read(),
            Register::Icdicfr(n) => element(icd.icdicfr(), n).read(),
            Register::Iccicr => icc.iccicr().read(),
            Register::Iccpmr => icc.iccpmr().read(),
            Register::Iccbpr => icc.iccbpr().read(),
            Register::Icciar => icc.icciar().read(),
            Register::Icchpir => icc.icchpir().read(),
            Register::Icdsgir | Register::Icceoir => 0,
        }
    }

    fn write_register(&mut self, register: Register, value: u32) {
        let (icd, icc) = (self.distributor, self.cpu_interface);
        match register {
            Register::Icddcr => icd.icddcr().write(value),
            Register::Icdiser(n) => element(icd.icdiser(), n).write(value),
            Register::Icdicer(n) => element(icd.icdicer(), n).write(value),
            Register::Icdispr(n) => element(icd.icdispr(), n).write(value),
            Register::Icdicpr(n) => element(icd.icdicpr(), n).write(value),
            Register::Icdipr(n) => element(icd.icdipr(), n).write(value),
            Register::Icdiptr(n) => element(icd.icdiptr(), n).write(value),
            Register::Icdicfr(n) => element(icd.icdicfr(), n).write(value),
            Register::Icdsgir => icd.icdsgir().write(value),
            Register::Iccicr => icc.iccicr().write(value),
            Register::Iccpmr => icc.iccpmr().write(value),
            Register::Iccbpr => icc.iccbpr().write(value),
            Register::Icceoir => icc.icceoir().write(value),
            Register::Icdictr | Register::Icciar | Register::Icchpir => {}
        }
    }
}
