//! L2C-310 register block (L2C-310 TRM, ARM DDI 0246, 3.2 "Register
//! summary" and 3.3 "Register descriptions"): the 4 KiB block, fields in
//! the register summary's names (`reg1_control`), with the registers
//! Ferrode does not use left as gaps.

use ferrode_hal::mmio::register_bitfields;
use volatile::VolatileFieldAccess;
use volatile::access::{NoAccess, ReadOnly, WriteOnly};

/// The L2C-310 register block, 4 KiB.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// reg0_cache_id: implementer, part number, RTL release.
    #[access(ReadOnly)]
    cache_id: u32,
    /// reg0_cache_type: way size, associativity and line length.
    #[access(ReadOnly)]
    cache_type: u32,
    #[access(NoAccess)]
    _reserved0: [u32; 62],
    /// reg1_control: the enable bit.
    control: u32,
    /// reg1_aux_control: associativity, way size, allocation and
    /// prefetch options; written only with the cache disabled.
    aux_control: u32,
    /// reg1_tag_ram_control: tag RAM setup, read and write latencies.
    tag_ram_latency: u32,
    /// reg1_data_ram_control: data RAM setup, read and write latencies.
    data_ram_latency: u32,
    /// Event counters and the interrupt registers (0x200-0x220).
    #[access(NoAccess)]
    _reserved1: [u32; 392],
    /// reg7_cache_sync.
    cache_sync: u32,
    #[access(NoAccess)]
    _reserved2a: [u32; 3],
    /// 0x740: no register in the TRM's summary; Arm's workaround for
    /// erratum 753970 (r3p0) writes it instead of Cache Sync, to the same
    /// effect.
    #[access(WriteOnly)]
    dummy: u32,
    #[access(NoAccess)]
    _reserved2b: [u32; 11],
    /// reg7_inv_pa: invalidate one line by physical address.
    #[access(NoAccess)]
    _invalidate_line_by_pa: u32,
    #[access(NoAccess)]
    _reserved3: [u32; 2],
    /// reg7_inv_way: invalidate by way (a background operation).
    invalidate_by_way: u32,
    #[access(NoAccess)]
    _reserved4: [u32; 12],
    /// reg7_clean_pa.
    #[access(NoAccess)]
    _clean_line_by_pa: u32,
    #[access(NoAccess)]
    _reserved5: u32,
    /// reg7_clean_index.
    #[access(NoAccess)]
    _clean_line_by_index_way: u32,
    /// reg7_clean_way: clean by way (a background operation).
    clean_by_way: u32,
    #[access(NoAccess)]
    _reserved6: [u32; 12],
    /// reg7_clean_inv_pa.
    #[access(NoAccess)]
    _clean_invalidate_line_by_pa: u32,
    #[access(NoAccess)]
    _reserved7: u32,
    /// reg7_clean_inv_index.
    #[access(NoAccess)]
    _clean_invalidate_line_by_index_way: u32,
    /// reg7_clean_inv_way: clean and invalidate by way (a background
    /// operation).
    clean_invalidate_by_way: u32,
    /// Lockdown (0x900) and address filtering (0xC00).
    #[access(NoAccess)]
    _reserved8: [u32; 464],
    /// reg15_debug_ctrl: DCL and DWB, for the errata workarounds only.
    debug_control: u32,
    /// Prefetch (0xF60) and power (0xF80) control.
    #[access(NoAccess)]
    _reserved9: [u32; 47],
}

const _: () = assert!(core::mem::offset_of!(Regs, _invalidate_line_by_pa) == 0x770);
const _: () = assert!(core::mem::offset_of!(Regs, _clean_line_by_pa) == 0x7b0);
const _: () = assert!(core::mem::offset_of!(Regs, _clean_line_by_index_way) == 0x7b8);
const _: () = assert!(core::mem::offset_of!(Regs, _clean_invalidate_line_by_pa) == 0x7f0);
const _: () = assert!(core::mem::offset_of!(Regs, _clean_invalidate_line_by_index_way) == 0x7f8);
const _: () = assert!(core::mem::size_of::<Regs>() == 0x1000);

register_bitfields![u32,
    /// Cache ID Register (TRM 3.3, "Cache ID Register").
    pub CACHE_ID [
        /// RTL release: 0x0 r0p0, 0x2 r1p0, 0x4 r2p0, 0x5 r3p0, 0x6 r3p1,
        /// 0x8 r3p2, 0x9 r3p3.
        RTL_RELEASE OFFSET(0) NUMBITS(6) [],
        /// Part number: 0b0011 for the L2C-310.
        PART_NUMBER OFFSET(6) NUMBITS(4) [],
        /// CACHEID, set by the integrator's input pins.
        CACHE_ID OFFSET(10) NUMBITS(6) [],
        /// Implementer: 0x41, Arm.
        IMPLEMENTER OFFSET(24) NUMBITS(8) [],
    ],
    /// Cache Type Register (TRM 3.3, "Cache Type Register"): the way size
    /// and associativity mirror the Auxiliary Control Register.
    pub CACHE_TYPE [
        /// Instruction side line length: 0b00, 32 bytes.
        I_LINE_LENGTH OFFSET(0) NUMBITS(2) [],
        /// Instruction side associativity (Auxiliary Control bit 16).
        I_ASSOCIATIVITY OFFSET(6) NUMBITS(1) [],
        /// Instruction side way size (Auxiliary Control bits 19:17).
        I_WAY_SIZE OFFSET(8) NUMBITS(3) [],
        /// Data side line length: 0b00, 32 bytes.
        D_LINE_LENGTH OFFSET(12) NUMBITS(2) [],
        /// Data side associativity (Auxiliary Control bit 16).
        D_ASSOCIATIVITY OFFSET(18) NUMBITS(1) [],
        /// Data side way size (Auxiliary Control bits 19:17).
        D_WAY_SIZE OFFSET(20) NUMBITS(3) [],
        /// H: 0, a unified cache.
        HARVARD OFFSET(24) NUMBITS(1) [],
    ],
    /// Control Register (TRM 3.3, "Control Register").
    pub CONTROL [
        /// L2 Cache enable.
        L2_CACHE_ENABLE OFFSET(0) NUMBITS(1) [],
    ],
    /// Auxiliary Control Register (TRM 3.3, "Auxiliary Control
    /// Register"); only the geometry fields are named.
    pub AUX_CONTROL [
        /// Associativity: 0 = 8-way, 1 = 16-way.
        ASSOCIATIVITY OFFSET(16) NUMBITS(1) [
            Ways8 = 0,
            Ways16 = 1,
        ],
        /// Way size: 0b001 16 KiB up to 0b110 512 KiB, doubling; 0b000
        /// and 0b111 are reserved and act as 16 KiB and 512 KiB.
        WAY_SIZE OFFSET(17) NUMBITS(3) [],
    ],
    /// Tag and Data RAM Latency Control Registers (TRM 3.3, "Tag and
    /// Data RAM Latency Control Registers"): each latency in cycles
    /// minus one.
    pub RAM_LATENCY [
        /// RAM setup latency.
        SETUP OFFSET(0) NUMBITS(3) [],
        /// RAM read access latency.
        READ OFFSET(4) NUMBITS(3) [],
        /// RAM write access latency.
        WRITE OFFSET(8) NUMBITS(3) [],
    ],
    /// Debug Control Register (reg15_debug_ctrl, TRM 3.3): secure write
    /// only. The driver sets DCL and DWB only around the operations by way
    /// that errata 588369 and 727915 need guarded, and clears them after.
    pub DEBUG_CONTROL [
        /// DCL: 1 disables cache linefills.
        DCL OFFSET(0) NUMBITS(1) [],
        /// DWB: 1 disables write-back, forcing write-through.
        DWB OFFSET(1) NUMBITS(1) [],
        /// SPNIDEN: the SPNIDEN input's value (read only).
        SPNIDEN OFFSET(2) NUMBITS(1) [],
    ],
    /// Cache Sync (TRM 3.3, "Cache Maintenance Operations").
    pub CACHE_SYNC [
        /// C: reads 1 while the sync is in progress.
        C OFFSET(0) NUMBITS(1) [],
    ],
    /// Invalidate, Clean, and Clean and Invalidate by Way (TRM 3.3,
    /// "Cache Maintenance Operations"): a bit per way; writing it starts
    /// the operation on that way, and it reads 1 until the way is done.
    /// Bits 15:8 are reserved on an 8-way cache.
    pub WAYS [
        /// Way bits.
        WAY OFFSET(0) NUMBITS(16) [],
    ],
];

ferrode_hal::register_names! {
    block Regs;
    /// The L2C-310 registers the driver uses (the bus's names).
    pub enum Register {
        /// Cache ID (0x000).
        CacheId => cache_id @ 0x000,
        /// Cache Type (0x004).
        CacheType => cache_type @ 0x004,
        /// Control (0x100).
        Control => control @ 0x100,
        /// Auxiliary Control (0x104).
        AuxControl => aux_control @ 0x104,
        /// Tag RAM Latency Control (0x108).
        TagRamLatency => tag_ram_latency @ 0x108,
        /// Data RAM Latency Control (0x10C).
        DataRamLatency => data_ram_latency @ 0x10c,
        /// Cache Sync (0x730).
        CacheSync => cache_sync @ 0x730,
        /// The dummy register (0x740) of erratum 753970's workaround.
        Dummy => dummy @ 0x740,
        /// Invalidate by Way (0x77C).
        InvalidateByWay => invalidate_by_way @ 0x77c,
        /// Clean by Way (0x7BC).
        CleanByWay => clean_by_way @ 0x7bc,
        /// Clean and Invalidate by Way (0x7FC).
        CleanInvalidateByWay => clean_invalidate_by_way @ 0x7fc,
        /// Debug Control (0xF40).
        DebugControl => debug_control @ 0xf40,
    }
}

/// The memory-mapped L2C-310: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

ferrode_hal::registers! {
    /// Typed access to the L2C-310's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests).
    pub trait Registers for Register {
        /// Cache ID.
        fn cache_id() -> ReadOnly<CACHE_ID::Register> = Register::CacheId;
        /// Cache Type.
        fn cache_type() -> ReadOnly<CACHE_TYPE::Register> = Register::CacheType;
        /// Control: the enable bit (secure write only).
        fn control() -> ReadWrite<CONTROL::Register> = Register::Control;
        /// Auxiliary Control (secure write only, with the cache disabled).
        fn aux_control() -> ReadWrite<AUX_CONTROL::Register> = Register::AuxControl;
        /// Tag RAM Latency Control (secure write only, cache disabled).
        fn tag_ram_latency() -> ReadWrite<RAM_LATENCY::Register> = Register::TagRamLatency;
        /// Data RAM Latency Control (secure write only, cache disabled).
        fn data_ram_latency() -> ReadWrite<RAM_LATENCY::Register> = Register::DataRamLatency;
        /// Cache Sync: write to start, reads C = 1 until it is done.
        fn cache_sync() -> ReadWrite<CACHE_SYNC::Register> = Register::CacheSync;
        /// The dummy register: a write drains the buffers as Cache Sync
        /// does (erratum 753970's workaround, r3p0).
        fn dummy() -> WriteOnly = Register::Dummy;
        /// Invalidate by Way.
        fn invalidate_by_way() -> ReadWrite<WAYS::Register> = Register::InvalidateByWay;
        /// Clean by Way.
        fn clean_by_way() -> ReadWrite<WAYS::Register> = Register::CleanByWay;
        /// Clean and Invalidate by Way.
        fn clean_invalidate_by_way() -> ReadWrite<WAYS::Register> = Register::CleanInvalidateByWay;
        /// Debug Control (secure write only).
        fn debug_control() -> ReadWrite<DEBUG_CONTROL::Register> = Register::DebugControl;
    }
}
