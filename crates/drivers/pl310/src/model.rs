//! Behavioural model of an L2C-310 for host tests: ways that hold
//! garbage after reset and dirty lines once the cache is used, operations
//! by way that run in the background, a cache sync that takes time, and
//! the mistakes the silicon punishes (enabling over garbage, dropping
//! dirty lines, configuring an enabled cache, starting an operation over
//! a running one) made loud.
//!
//! The model also carries the errata of the RTL release its Cache ID
//! names ([`ModelL2c::of_release`]), so that a driver without the
//! workaround fails against it: on r0p0 and r1p0 Clean and Invalidate by
//! Way leaves clean lines valid (588369); on r2p0 and r3p0 it panics if
//! DCL and DWB are not set while it runs (727915, a store would be lost);
//! on r3p0 a write to Cache Sync leaves the store buffer draining for
//! good (753970, recorded). On every release, invalidating ways of an
//! enabled cache without DCL and DWB panics: a store between the last
//! clean and the invalidate would be dropped.

use std::vec::Vec;

use ferrode_hal::RegisterModel;

use crate::regs::Register;

/// QEMU's Cache ID: an Arm L2C-310 r3p2.
pub const QEMU_CACHE_ID: u32 = 0x4100_00c8;
/// Debug Control with DCL and DWB set: no linefill, write-through.
pub const DCL_DWB: u32 = 0b11;

/// The Cache ID of an Arm L2C-310 with RTL release `rtl_release`.
pub const fn l2c_310_id(rtl_release: u8) -> u32 {
    0x4100_00c0 | rtl_release as u32
}
/// The Auxiliary Control Register at reset (TRM 3.3; QEMU's value too):
/// 8 ways of 16 KiB, and bit 25 set (round-robin replacement in r3).
pub const AUX_CONTROL_AT_RESET: u32 = 0x0202_0000;

/// A background operation by way in progress.
#[derive(Clone, Copy, Debug)]
struct Running {
    register: Register,
    ways: u32,
    /// Reads that still find it in progress; `None`: it never ends.
    reads_left: Option<u32>,
}

pub struct ModelL2c {
    pub cache_id: u32,
    pub aux_control: u32,
    pub tag_ram_latency: u32,
    pub data_ram_latency: u32,
    pub control: u32,
    /// Ways whose lines are garbage the cache must not hit on (every way
    /// after reset: nothing invalidates the RAMs).
    pub garbage: u32,
    /// Ways holding dirty lines (writes memory does not have yet).
    pub dirty: u32,
    /// Ways holding valid lines, clean or dirty (which a cache that should
    /// be empty must not hit on).
    pub valid: u32,
    /// Debug Control: DCL (bit 0) and DWB (bit 1).
    pub debug_control: u32,
    /// Each operation by way as it finished, with Debug Control then.
    pub finished: Vec<(Register, u32)>,
    /// Erratum 753970 hit: Cache Sync written on r3p0, and the store
    /// buffer left draining (no longer merging writes).
    pub store_buffer_stuck_draining: bool,
    /// Reads a started operation by way keeps reading as in progress;
    /// `None`: it never finishes.
    pub way_latency: Option<u32>,
    /// The same for Cache Sync.
    pub sync_latency: Option<u32>,
    running: Option<Running>,
    sync_reads_left: Option<Option<u32>>,
    /// Every register write, in order.
    pub writes: Vec<(Register, u32)>,
}

impl ModelL2c {
    /// The controller after reset with `aux_control`, operations taking
    /// three reads each.
    pub fn at_reset(aux_control: u32) -> Self {
        let mut model = Self {
            cache_id: QEMU_CACHE_ID,
            aux_control,
            tag_ram_latency: 0,
            data_ram_latency: 0,
            control: 0,
            garbage: 0,
            dirty: 0,
            valid: 0,
            debug_control: 0,
            finished: Vec::new(),
            store_buffer_stuck_draining: false,
            way_latency: Some(3),
            sync_latency: Some(3),
            running: None,
            sync_reads_left: None,
            writes: Vec::new(),
        };
        model.garbage = model.all_ways();
        model
    }

    /// A cache enabled and in use: valid lines, dirty ones in every way.
    pub fn enabled_and_dirty(aux_control: u32) -> Self {
        let mut model = Self::at_reset(aux_control);
        model.garbage = 0;
        model.control = 1;
        model.dirty = model.all_ways();
        model.valid = model.all_ways();
        model
    }

    /// `self` as an L2C-310 of RTL release `rtl_release`, with its errata.
    pub fn of_release(mut self, rtl_release: u8) -> Self {
        self.cache_id = l2c_310_id(rtl_release);
        self
    }

    fn rtl_release(&self) -> u32 {
        self.cache_id & 0x3f
    }

    /// Erratum 588369: r0p0 and r1p0.
    fn keeps_clean_lines(&self) -> bool {
        self.rtl_release() < 0x4
    }

    /// Erratum 727915: r2p0 and r3p0.
    fn loses_stores_in_background_clean_invalidate(&self) -> bool {
        (0x4..0x6).contains(&self.rtl_release())
    }

    /// Erratum 753970: r3p0.
    fn cache_sync_faulty(&self) -> bool {
        self.rtl_release() == 0x5
    }

    fn guarded(&self) -> bool {
        self.debug_control & DCL_DWB == DCL_DWB
    }

    /// Checks a Clean and Invalidate by Way starting or finishing.
    fn check_clean_invalidate(&self, when: &str) {
        if self.loses_stores_in_background_clean_invalidate() {
            assert!(
                self.guarded(),
                "erratum 727915: Clean and Invalidate by Way {when} with Debug Control {:#x}, \
                 not DCL and DWB: a store between its clean and invalidate is lost",
                self.debug_control
            );
        }
    }

    pub fn enabled(&self) -> bool {
        self.control & 1 != 0
    }

    pub fn all_ways(&self) -> u32 {
        if self.aux_control & (1 << 16) != 0 { 0xffff } else { 0xff }
    }

    fn finish(&mut self, running: Running) {
        let ways = running.ways;
        self.finished.push((running.register, self.debug_control));
        match running.register {
            Register::InvalidateByWay => {
                assert_eq!(
                    self.dirty & ways,
                    0,
                    "invalidating ways that hold dirty lines: their writes are lost"
                );
                self.garbage &= !ways;
                self.valid &= !ways;
            }
            Register::CleanByWay => self.dirty &= !ways,
            Register::CleanInvalidateByWay => {
                self.check_clean_invalidate("finished");
                self.dirty &= !ways;
                // Erratum 588369: the dirty lines are written back and
                // invalidated, the clean ones stay.
                if !self.keeps_clean_lines() {
                    self.garbage &= !ways;
                    self.valid &= !ways;
                }
            }
            other => unreachable!("{other:?} is no operation by way"),
        }
    }

    /// One read of an operation's register: whether it is still running.
    fn tick(reads_left: &mut Option<u32>) -> bool {
        match reads_left {
            None => true,
            Some(0) => false,
            Some(left) => {
                *left -= 1;
                true
            }
        }
    }

    fn start_by_way(&mut self, register: Register, ways: u32) {
        assert!(self.running.is_none(), "{register:?} started while {:?} runs", self.running);
        assert!(self.sync_reads_left.is_none(), "{register:?} started while a sync runs");
        assert_eq!(ways & !self.all_ways(), 0, "{register:?} {ways:#x}: reserved way bits set");
        match register {
            Register::CleanInvalidateByWay => self.check_clean_invalidate("started"),
            Register::InvalidateByWay if self.enabled() => assert!(
                self.guarded(),
                "Invalidate by Way of an enabled cache with Debug Control {:#x}, not DCL and \
                 DWB: a store after the clean is dropped",
                self.debug_control
            ),
            _ => {}
        }
        let running = Running { register, ways, reads_left: self.way_latency };
        if running.reads_left == Some(0) {
            self.finish(running);
        } else {
            self.running = Some(running);
        }
    }

    fn assert_disabled(&self, register: Register) {
        assert!(!self.enabled(), "{register:?} written with the cache enabled: SLVERR");
    }
}

impl RegisterModel<Register> for ModelL2c {
    fn read(&mut self, register: Register) -> u32 {
        match register {
            Register::CacheId => self.cache_id,
            Register::CacheType => {
                // The data and instruction way size and associativity
                // mirror the Auxiliary Control Register's.
                let way_size = (self.aux_control >> 17) & 0b111;
                let associativity = (self.aux_control >> 16) & 1;
                0x1c00_0000
                    | way_size << 20
                    | associativity << 18
                    | way_size << 8
                    | associativity << 6
            }
            Register::Control => self.control,
            Register::AuxControl => self.aux_control,
            Register::TagRamLatency => self.tag_ram_latency,
            Register::DataRamLatency => self.data_ram_latency,
            Register::CacheSync => match &mut self.sync_reads_left {
                None => 0,
                Some(reads_left) => {
                    if Self::tick(reads_left) {
                        1
                    } else {
                        self.sync_reads_left = None;
                        0
                    }
                }
            },
            Register::DebugControl => self.debug_control,
            Register::Dummy => unreachable!("the dummy register is written only"),
            Register::InvalidateByWay | Register::CleanByWay | Register::CleanInvalidateByWay => {
                let Some(mut running) = self.running.filter(|r| r.register == register) else {
                    return 0;
                };
                if Self::tick(&mut running.reads_left) {
                    self.running = Some(running);
                    running.ways
                } else {
                    self.running = None;
                    self.finish(running);
                    0
                }
            }
        }
    }

    fn write(&mut self, register: Register, value: u32) {
        self.writes.push((register, value));
        match register {
            Register::CacheId | Register::CacheType => {}
            Register::Control => {
                let enable = value & 1 != 0;
                assert!(self.running.is_none(), "Control written while {:?} runs", self.running);
                // Not a bus error, but out of the TRM's order: the sync
                // drains the buffers before the cache changes state.
                assert!(self.sync_reads_left.is_none(), "Control written before the sync finished");
                if enable && !self.enabled() {
                    assert_eq!(
                        self.garbage, 0,
                        "enabled with ways {:#x} never invalidated: hits return garbage",
                        self.garbage
                    );
                }
                if !enable && self.enabled() {
                    assert_eq!(
                        self.dirty, 0,
                        "disabled with dirty lines in ways {:#x}: their writes are lost",
                        self.dirty
                    );
                }
                self.control = value & 1;
            }
            Register::AuxControl => {
                self.assert_disabled(register);
                self.aux_control = value;
            }
            Register::TagRamLatency => {
                self.assert_disabled(register);
                self.tag_ram_latency = value;
            }
            Register::DataRamLatency => {
                self.assert_disabled(register);
                self.data_ram_latency = value;
            }
            Register::Dummy => {
                // A drain like a sync, done with the write (no C bit).
                assert!(self.running.is_none(), "dummy sync while {:?} runs", self.running);
                assert!(self.sync_reads_left.is_none(), "dummy sync while a sync runs");
            }
            Register::DebugControl => {
                // Clearing the bits while the guarded operation still runs
                // exposes it again.
                assert!(
                    self.running.is_none(),
                    "Debug Control written while {:?} runs",
                    self.running
                );
                self.debug_control = value & DCL_DWB;
            }
            Register::CacheSync => {
                assert!(self.running.is_none(), "sync started while {:?} runs", self.running);
                if self.cache_sync_faulty() {
                    self.store_buffer_stuck_draining = true;
                }
                self.sync_reads_left = match self.sync_latency {
                    Some(0) => None,
                    latency => Some(latency),
                };
            }
            Register::InvalidateByWay | Register::CleanByWay | Register::CleanInvalidateByWay => {
                self.start_by_way(register, value)
            }
        }
    }
}
