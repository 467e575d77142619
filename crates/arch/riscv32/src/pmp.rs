//! Physical memory protection (RISC-V privileged spec, section 3.7): what
//! machine mode may do with each part of the image, for hardware that has
//! PMP entries (QEMU's MicroBlaze V has 16; on an FPGA the core's
//! configuration decides, and [`probe`] finds out).
//!
//! Ferrode runs in machine mode, where only *locked* entries are checked,
//! so every entry [`Plan`] makes is locked: it holds until reset. An access
//! that matches no entry succeeds (devices, the LMB BRAM), so the plan
//! lists the image only: guard regions first (no access; lower entries
//! win), then the image as a chain of top-of-range regions: code (read and
//! execute), read-only data (read), and the rest of RAM (read and write,
//! never executed).
//!
//! Building the plan is plain code, tested on the host; [`apply`] writes it
//! to the CSRs at boot.

use core::ops::Range;
use core::sync::atomic::{AtomicUsize, Ordering};

/// `pmpcfg` bits: read, write, execute, the address-matching mode (A) and
/// lock (L).
const R: u8 = 1 << 0;
const W: u8 = 1 << 1;
const X: u8 = 1 << 2;
/// A = TOR: the entry matches from the previous entry's address up to its
/// own.
const TOR: u8 = 1 << 3;
/// A = NAPOT: a naturally aligned power-of-two region of 8 bytes or more.
const NAPOT: u8 = 3 << 3;
const LOCK: u8 = 1 << 7;

/// The most PMP entries the spec's first CSR bank has (`pmpaddr0`-`15`,
/// `pmpcfg0`-`3` on RV32).
pub const MAX_ENTRIES: usize = 16;

/// What the image may do with a range of memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read and executed, never written.
    Code,
    /// Only read.
    ReadOnly,
    /// Read and written, never executed.
    Data,
    /// Read, written and executed (code a debugger writes breakpoints into).
    CodeAndData,
}

impl Access {
    const fn bits(self) -> u8 {
        match self {
            Self::Code => R | X,
            Self::ReadOnly => R,
            Self::Data => R | W,
            Self::CodeAndData => R | W | X,
        }
    }
}

/// The image as [`Plan::new`] protects it: consecutive ranges from
/// `start`, each with its access, and guard regions no access reaches.
#[derive(Clone, Debug)]
pub struct Image<'a> {
    /// Where the first range starts (the image's first byte).
    pub start: usize,
    /// Consecutive ranges: each ends where the next starts.
    pub ranges: &'a [(usize, Access)],
}

/// Why a plan could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// A guard is not a power of two of at least 8 bytes aligned to its
    /// size (what NAPOT can match), or finer than the hardware's grain.
    Guard(Range<usize>),
    /// An image bound is not a multiple of the hardware's grain.
    Unaligned(usize),
    /// The image's ranges alone need more entries than the hardware has.
    TooFewEntries,
}

/// The CSR values for a protection plan: entry `i`'s address register and
/// configuration byte, for the entries in use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// `pmpaddr` values (the address shifted right by 2, NAPOT's size in
    /// the low bits).
    pub addresses: [usize; MAX_ENTRIES],
    /// `pmpcfg` bytes, four to a `pmpcfg` register.
    pub configs: [u8; MAX_ENTRIES],
    /// Entries in use.
    pub used: usize,
    /// Guards given an entry (the first ones listed); the rest did not fit.
    pub guards: usize,
}

impl Plan {
    /// Locks `guards` (as many as fit, in order, before the image's
    /// entries) and then `image`'s ranges into `entries` PMP entries whose
    /// grain is `grain` bytes (a power of two, 4 or more).
    pub fn new(
        image: &Image<'_>,
        guards: &[Range<usize>],
        entries: usize,
        grain: usize,
    ) -> Result<Self, PlanError> {
        let entries = entries.min(MAX_ENTRIES);
        // The chain's base entry (OFF, its address only) and one per range.
        let chain = image.ranges.len() + 1;
        if chain > entries {
            return Err(PlanError::TooFewEntries);
        }
        let mut plan =
            Self { addresses: [0; MAX_ENTRIES], configs: [0; MAX_ENTRIES], used: 0, guards: 0 };
        for guard in guards {
            let guard = guard.clone();
            let size = guard.end.wrapping_sub(guard.start);
            if !size.is_power_of_two() || size < 8.max(grain) || !guard.start.is_multiple_of(size) {
                return Err(PlanError::Guard(guard));
            }
            if plan.used + 1 + chain > entries {
                // Counted but not given an entry: the caller says so.
                continue;
            }
            plan.addresses[plan.used] = (guard.start >> 2) | ((size >> 3) - 1);
            plan.configs[plan.used] = NAPOT | LOCK;
            plan.used += 1;
            plan.guards += 1;
        }
        let mut bounds =
            core::iter::once(image.start).chain(image.ranges.iter().map(|&(end, _)| end));
        if let Some(bad) = bounds.find(|bound| !bound.is_multiple_of(grain)) {
            return Err(PlanError::Unaligned(bad));
        }
        plan.addresses[plan.used] = image.start >> 2;
        plan.configs[plan.used] = LOCK;
        plan.used += 1;
        for &(end, access) in image.ranges {
            plan.addresses[plan.used] = end >> 2;
            plan.configs[plan.used] = TOR | LOCK | access.bits();
            plan.used += 1;
        }
        Ok(plan)
    }

    /// The `pmpcfg` register values (entries 4n to 4n+3 in register n).
    pub fn config_registers(&self) -> [u32; MAX_ENTRIES / 4] {
        let mut registers = [0; MAX_ENTRIES / 4];
        for (register, bytes) in registers.iter_mut().zip(self.configs.chunks_exact(4)) {
            *register = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        registers
    }

    /// What an M-mode access at `address` may do under this plan: read,
    /// write, execute (the first matching entry decides; none matching
    /// allows all).
    pub fn permissions(&self, address: usize) -> (bool, bool, bool) {
        let mut below = 0;
        for index in 0..self.used {
            let (config, value) = (self.configs[index], self.addresses[index]);
            let matched = match config & NAPOT {
                NAPOT => {
                    let size = (value.trailing_ones() as usize + 3).min(31);
                    let base = (value & !((1 << (size - 2)) - 1)) << 2;
                    (base..base + (1 << size)).contains(&address)
                }
                TOR => (below..value << 2).contains(&address),
                _ => false,
            };
            below = value << 2;
            if matched {
                return (config & R != 0, config & W != 0, config & X != 0);
            }
        }
        (true, true, true)
    }
}

/// How many PMP entries the hart has and their grain in bytes, found by
/// writing `pmpaddr` registers and reading them back (privileged spec
/// 3.7.1: unimplemented entries read as zero; the lowest bit that stays
/// set gives the grain). For boot, before anything is locked.
#[cfg(target_arch = "riscv32")]
pub fn probe() -> (usize, usize) {
    let mut entries = 0;
    let mut grain = 0;
    for index in 0..MAX_ENTRIES {
        let value = csr::swap_address(index, usize::MAX);
        if value == 0 {
            break;
        }
        if index == 0 {
            grain = 1 << (value.trailing_zeros() + 2);
        }
        csr::swap_address(index, 0);
        entries += 1;
    }
    (entries, grain)
}

/// The guards [`apply`] locked, as start and end addresses, for
/// [`crate::is_readable`] (zero: none).
static GUARDS: [[AtomicUsize; 2]; MAX_ENTRIES] =
    [const { [AtomicUsize::new(0), AtomicUsize::new(0)] }; MAX_ENTRIES];

/// Whether a guard [`apply`] locked holds `address`.
pub fn in_guard(address: usize) -> bool {
    GUARDS.iter().any(|[start, end]| {
        (start.load(Ordering::Relaxed)..end.load(Ordering::Relaxed)).contains(&address)
    })
}

/// Writes `plan` to the PMP CSRs: every address, then the configuration
/// registers, which lock the entries. For boot, once: locked entries hold
/// until reset.
///
/// # Safety
///
/// For the platform's boot, once, before any thread runs: the entries
/// decide which memory faults, and a locked one holds until reset.
#[cfg(target_arch = "riscv32")]
pub unsafe fn apply(plan: &Plan, guards: &[Range<usize>]) {
    keep_guards(plan, guards);
    for (index, &address) in plan.addresses.iter().enumerate().take(plan.used) {
        csr::swap_address(index, address);
    }
    for (index, &value) in plan.config_registers().iter().enumerate() {
        if index * 4 < plan.used {
            csr::write_config(index, value as usize);
        }
    }
}

/// No PMP on the host.
#[cfg(not(target_arch = "riscv32"))]
pub fn probe() -> (usize, usize) {
    (0, 0)
}

/// Nothing to lock on the host (the guards are kept for [`in_guard`]).
///
/// # Safety
///
/// For the platform's boot, once, before any thread runs: the entries
/// decide which memory faults, and a locked one holds until reset.
#[cfg(not(target_arch = "riscv32"))]
pub unsafe fn apply(plan: &Plan, guards: &[Range<usize>]) {
    keep_guards(plan, guards);
}

/// Keeps the guards `plan` locks for [`in_guard`].
fn keep_guards(plan: &Plan, guards: &[Range<usize>]) {
    for (slot, guard) in GUARDS.iter().zip(&guards[..plan.guards]) {
        slot[0].store(guard.start, Ordering::Relaxed);
        slot[1].store(guard.end, Ordering::Relaxed);
    }
}

#[cfg(target_arch = "riscv32")]
mod csr {
    use core::arch::asm;

    /// Writes `value` to `pmpaddr<index>` and returns what it reads back.
    pub fn swap_address(index: usize, value: usize) -> usize {
        macro_rules! swap {
            ($($n:literal),*) => {
                match index {
                    $($n => {
                        let back: usize;
                        // SAFETY: writes one PMP address register (an
                        // unlocked one at boot: a locked one ignores it) and
                        // reads it back; no memory is touched.
                        unsafe {
                            asm!(
                                concat!("csrw pmpaddr", $n, ", {value}"),
                                concat!("csrr {back}, pmpaddr", $n),
                                value = in(reg) value,
                                back = out(reg) back,
                                options(nomem, nostack)
                            )
                        };
                        back
                    })*
                    _ => 0,
                }
            };
        }
        swap!(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    }

    /// Writes `value` to `pmpcfg<index>`.
    pub fn write_config(index: usize, value: usize) {
        macro_rules! write {
            ($($n:literal),*) => {
                match index {
                    $($n => {
                        // SAFETY: sets four entries' configurations, whose
                        // addresses `apply` wrote first; it changes which
                        // accesses fault, not memory.
                        unsafe {
                            asm!(concat!("csrw pmpcfg", $n, ", {0}"), in(reg) value, options(nomem, nostack))
                        };
                    })*
                    _ => {}
                }
            };
        }
        write!(0, 1, 2, 3)
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init, reason = "lists of one guard")]
mod tests {
    use super::*;

    const IMAGE: Image<'static> = Image {
        start: 0x8000_0000,
        ranges: &[
            (0x8000_4000, Access::Code),
            (0x8000_5000, Access::ReadOnly),
            (0x8800_0000, Access::Data),
        ],
    };

    #[test]
    fn guards_come_first_then_the_image_as_a_chain_of_locked_ranges() {
        let guards = [0x8000_8000..0x8000_8400, 0x8000_9000..0x8000_9400];
        let plan = Plan::new(&IMAGE, &guards, 16, 4).unwrap();
        assert_eq!((plan.used, plan.guards), (6, 2));
        // NAPOT: the base over 4, then a one for each size doubling past 8.
        assert_eq!(plan.addresses[0], (0x8000_8000 >> 2) | 0x7f);
        assert_eq!(plan.configs[..6], [0x98, 0x98, 0x80, 0x8d, 0x89, 0x8b]);
        assert_eq!(plan.addresses[2..6], [0x2000_0000, 0x2000_1000, 0x2000_1400, 0x2200_0000]);
        assert_eq!(plan.config_registers(), [0x8d80_9898, 0x8b89, 0, 0]);
    }

    #[test]
    fn what_each_part_of_the_image_may_do() {
        let plan = Plan::new(&IMAGE, &[0x8000_8000..0x8000_8400], 16, 4).unwrap();
        let none = (false, false, false);
        let at = |address| plan.permissions(address);
        assert_eq!(at(0x8000_0000), (true, false, true), "code");
        assert_eq!(at(0x8000_3ffc), (true, false, true), "code");
        assert_eq!(at(0x8000_4000), (true, false, false), "read-only data");
        assert_eq!(at(0x8000_5000), (true, true, false), "data");
        assert_eq!(at(0x8000_7ffc), (true, true, false), "below the guard");
        assert_eq!(at(0x8000_8000), none, "guard");
        assert_eq!(at(0x8000_83fc), none, "guard");
        assert_eq!(at(0x8000_8400), (true, true, false), "the stack above");
        assert_eq!(at(0x87ff_fffc), (true, true, false), "data");
        assert_eq!(at(0x4060_0000), (true, true, true), "a device: no entry");
    }

    #[test]
    fn a_locked_guard_is_not_readable_and_what_lies_around_it_is() {
        let guards = [0x8000_8000..0x8000_8400];
        let plan = Plan::new(&IMAGE, &guards, 16, 4).unwrap();
        // SAFETY: on the host, `apply` only keeps the guards for
        // `in_guard`; no CSR is written.
        unsafe { apply(&plan, &guards) };
        assert!(in_guard(0x8000_8000) && in_guard(0x8000_83ff));
        assert!(!in_guard(0x8000_7fff) && !in_guard(0x8000_8400));
        assert!(!crate::is_readable(0x8000_8000));
        assert!(crate::is_readable(0x8000_8400));
    }

    #[test]
    fn a_guard_aligned_to_its_size_only_and_code_a_debugger_writes_keep_their_bounds() {
        // A 1 KiB guard at an address no larger power of two divides
        // (NAPOT's base is its address with the size's bits cleared), and
        // code and data in one range.
        let image = Image {
            start: 0x8000_0000,
            ranges: &[(0x8000_4000, Access::CodeAndData), (0x8800_0000, Access::Data)],
        };
        let plan = Plan::new(&image, &[0x8000_8400..0x8000_8800], 16, 4).unwrap();
        let none = (false, false, false);
        let at = |address| plan.permissions(address);
        assert_eq!(at(0x8000_0000), (true, true, true), "code a debugger writes");
        assert_eq!(plan.configs[2] & 0b111, 0b111, "{:#x}", plan.configs[2]);
        assert_eq!(at(0x8000_4000), (true, true, false), "data");
        assert_eq!(at(0x8000_83fc), (true, true, false), "below the guard");
        assert_eq!(at(0x8000_8400), none, "guard");
        assert_eq!(at(0x8000_87fc), none, "guard");
        assert_eq!(at(0x8000_8800), (true, true, false), "above the guard");
    }

    #[test]
    fn guards_that_do_not_fit_are_counted_out_the_image_always_fits() {
        let guards: std::vec::Vec<_> =
            (0..20).map(|n| 0x8010_0000 + n * 0x1000).map(|start| start..start + 0x400).collect();
        let plan = Plan::new(&IMAGE, &guards, 16, 4).unwrap();
        assert_eq!((plan.used, plan.guards), (16, 12));
        assert_eq!(plan.configs[12] & 0x18, 0, "the chain's base");
        assert_eq!(Plan::new(&IMAGE, &[], 3, 4), Err(PlanError::TooFewEntries));
        assert_eq!(Plan::new(&IMAGE, &[], 4, 4).unwrap().used, 4);
    }

    #[test]
    fn a_guard_napot_cannot_match_or_a_bound_off_the_grain_is_refused() {
        for guard in [0x8000_8000..0x8000_8300, 0x8000_8200..0x8000_8600, 0x8000_8000..0x8000_8004]
        {
            assert_eq!(
                Plan::new(&IMAGE, core::slice::from_ref(&guard), 16, 4),
                Err(PlanError::Guard(guard))
            );
        }
        let coarse = Plan::new(&IMAGE, &[0x8000_8000..0x8000_8400], 16, 4096);
        assert_eq!(coarse, Err(PlanError::Guard(0x8000_8000..0x8000_8400)));
        let image = Image { start: 0x8000_0000, ranges: &[(0x8000_4010, Access::Code)] };
        assert_eq!(Plan::new(&image, &[], 16, 64), Err(PlanError::Unaligned(0x8000_4010)));
    }
}
