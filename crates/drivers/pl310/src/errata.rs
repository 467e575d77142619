//! The published L2C-310 errata that touch what this driver does, and
//! which RTL releases carry them.
//!
//! The revision ranges below are those of Arm's errata notices for the
//! L2C-310, not consulted directly here but as quoted by Linux
//! (`arch/arm/mm/cache-l2x0.c`: its errata table and `l2c310_fixup`, and
//! the `PL310_ERRATA_*` help texts), by RTEMS
//! (`cache-l2c-310.c`, a per-release table taken from the r3 errata
//! notice) and by Xilinx's standalone BSP (`xil_errata.h`,
//! `xil_cache.c`). Where they agree the driver follows them; where they
//! differ, the choice and its reason are given at the erratum.
//!
//! The RTL release codes rise with the releases (0x0 r0p0, 0x2 r1p0, 0x4
//! r2p0, 0x5 r3p0, 0x6 r3p1, 0x8 r3p2, 0x9 r3p3), so the ranges are
//! compared on the code itself: a code the TRM does not list falls in
//! with its neighbours, as Linux treats it.

use crate::CacheId;

/// RTL release code of r2p0.
const R2P0: u8 = 0x4;
/// RTL release code of r3p0.
const R3P0: u8 = 0x5;
/// RTL release code of r3p1.
const R3P1: u8 = 0x6;
/// RTL release code of r3p2.
const R3P2: u8 = 0x8;

/// Which of the errata the driver knows a controller carries, from its
/// Cache ID Register's RTL release ([`Errata::of`]). The driver reads it
/// before each sequence it changes ([`Pl310::errata`](crate::Pl310::errata)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Errata {
    /// Erratum 588369, "Clean & Invalidate maintenance operations do not
    /// invalidate clean lines": releases before r2p0 (r0p0 and r1p0;
    /// fixed in r2p0). Every Clean and Invalidate operation is affected,
    /// by PA (0x7F0), by index and way (0x7F8) and by way (0x7FC), as
    /// Arm's description quoted in Linux's `PL310_ERRATA_588369` help
    /// lists them: dirty lines are written back, but lines that were
    /// already clean stay valid. So the driver's Clean and Invalidate by
    /// Way is affected too (Linux today only patches its by-PA paths,
    /// its older `l2x0_flush_all` guarded the by-way one as well), and
    /// [`Pl310::clean_invalidate_all`](crate::Pl310::clean_invalidate_all)
    /// replaces it by Clean by Way, Cache Sync, Invalidate by Way, with
    /// DCL and DWB set throughout: a store that dirtied a line between
    /// the clean and the invalidate would otherwise be dropped by the
    /// invalidate.
    pub clean_invalidate_keeps_clean_lines: bool,
    /// Erratum 727915, "Background Clean and Invalidate by Way operation
    /// can cause data corruption": r2p0 and r3p0 (fixed in r3p1; Linux
    /// gates on r2p0 <= release < r3p1, RTEMS lists r2p0 and r3p0). A
    /// store that hits a line between the clean and the invalidate steps
    /// of the background operation is lost. The workaround sets the Debug
    /// Control Register's DCL and DWB (no linefill, write-through) while
    /// the operation runs and clears them once it has finished.
    ///
    /// The notice as quoted names only Clean and Invalidate by Way, and
    /// Linux guards only that (its `flush_all`); a Clean by Way never
    /// invalidates, so by the erratum's mechanism a store cannot be lost
    /// there. But an Android kernel change to this workaround (2011)
    /// reports the by-way clean misbehaving on r2p0 as well in testing,
    /// and the guard costs only write-through for the operation's
    /// duration, so the driver guards the Clean by Way of
    /// [`Pl310::clean_all`](crate::Pl310::clean_all) the same way on these
    /// releases.
    pub background_clean_invalidate_loses_stores: bool,
    /// Erratum 753970, "Cache Sync operation may be faulty": r3p0 only
    /// (fixed in r3p1; Linux, RTEMS and Xilinx agree). After a Cache Sync
    /// the store buffer can stay asked to drain and stops merging writes.
    /// The workaround writes 0 to the dummy register at 0x740 instead of
    /// 0x730, which drains the buffers as a sync does. That write starts
    /// no background operation and sets no C bit (0x730 was not written):
    /// on the L2C-310 a sync completes with the write itself, so there is
    /// nothing to poll afterwards (Linux's sync does not poll either).
    pub cache_sync_faulty: bool,
    /// Erratum 752271, "Double linefill feature can cause data
    /// corruption": r3p0 and r3p1 (fixed in r3p2). It concerns the
    /// double linefill enables in the Prefetch Control Register (0xF60,
    /// bit 30), which this driver never writes: it is listed here so a
    /// platform can tell, and the workaround (keeping double linefill
    /// off) is the boot firmware's, with the rest of the configuration.
    pub double_linefill_corrupts_data: bool,
}

impl Errata {
    /// The errata of the release with RTL release code `rtl_release`.
    pub const fn of_rtl_release(rtl_release: u8) -> Self {
        Self {
            clean_invalidate_keeps_clean_lines: rtl_release < R2P0,
            background_clean_invalidate_loses_stores: R2P0 <= rtl_release && rtl_release < R3P1,
            cache_sync_faulty: rtl_release == R3P0,
            double_linefill_corrupts_data: R3P0 <= rtl_release && rtl_release < R3P2,
        }
    }

    /// The errata of the controller `id` names.
    pub const fn of(id: &CacheId) -> Self {
        Self::of_rtl_release(id.rtl_release)
    }
}
