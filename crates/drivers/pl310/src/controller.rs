//! The L2C-310 driver: identification, geometry, and the maintenance
//! sequences that turn the cache on and off.

use ferrode_hal::mmio::{FieldValue, Readable, Writeable};

use crate::regs::{CACHE_SYNC, CONTROL, DEBUG_CONTROL, Registers, WAYS};
use crate::{CacheId, Errata, Error, Geometry, Operation, RamLatency};

/// Register reads [`Pl310`] makes while waiting for one maintenance
/// operation before it gives up with [`Error::Timeout`]. An operation by
/// way walks every line of a way (16,384 on the largest, 512 KiB, way)
/// and each poll is a read across the bus, so a working controller
/// finishes in a small fraction of this; QEMU's model finishes at once.
pub const POLL_LIMIT: u32 = 1_000_000;

/// An L2C-310 level 2 cache controller.
pub struct Pl310<R> {
    registers: R,
}

impl<R: Registers> Pl310<R> {
    /// Wraps the controller at `registers`; touches nothing.
    pub const fn new(registers: R) -> Self {
        Self { registers }
    }

    /// What the Cache ID Register says the controller is.
    pub fn id(&self) -> CacheId {
        CacheId::from_register(self.registers.cache_id().get())
    }

    /// The errata the controller's RTL release carries, and so the
    /// workarounds the maintenance sequences apply ([`Errata`]).
    pub fn errata(&self) -> Errata {
        Errata::of(&self.id())
    }

    /// The Cache Type Register, raw (its way size and associativity
    /// mirror the Auxiliary Control Register's, see [`Pl310::geometry`]).
    pub fn cache_type(&self) -> u32 {
        self.registers.cache_type().get()
    }

    /// The Auxiliary Control Register, raw: the driver never writes it.
    pub fn aux_control(&self) -> u32 {
        self.registers.aux_control().get()
    }

    /// Ways and way size, from the Auxiliary Control Register.
    pub fn geometry(&self) -> Geometry {
        Geometry::from_aux_control(self.aux_control())
    }

    /// The tag RAM's latencies; the driver never writes them.
    pub fn tag_ram_latency(&self) -> RamLatency {
        RamLatency::from_register(self.registers.tag_ram_latency().get())
    }

    /// The data RAM's latencies; the driver never writes them.
    pub fn data_ram_latency(&self) -> RamLatency {
        RamLatency::from_register(self.registers.data_ram_latency().get())
    }

    /// Whether the cache is on (Control bit 0).
    pub fn is_enabled(&self) -> bool {
        self.registers.control().is_set(CONTROL::L2_CACHE_ENABLE)
    }

    /// Turns the cache on, if it is off; an enabled cache is left alone
    /// (nothing is written). The Auxiliary Control Register and the RAM
    /// latencies stay as reset or the boot firmware set them.
    ///
    /// Reset does not invalidate the cache RAMs, so before the enable bit
    /// every way is invalidated (Invalidate by Way with every way's bit,
    /// TRM 3.3 "Cache Maintenance Operations": a background operation
    /// whose bits read 1 until each way is done), then a Cache Sync
    /// drains the controller's buffers; only then is Control bit 0 set
    /// (TRM 3.3 "Control Register"). The operations run while the cache
    /// is disabled, so no line is allocated behind them.
    ///
    /// Writes to Control are secure only: call this in the Secure state.
    /// On [`Error::Timeout`] the enable bit is not written and the cache
    /// stays off.
    pub fn enable(&mut self) -> Result<(), Error> {
        if self.is_enabled() {
            return Ok(());
        }
        self.run(Operation::InvalidateByWay)?;
        self.sync()?;
        self.registers.control().write(CONTROL::L2_CACHE_ENABLE::SET);
        Ok(())
    }

    /// Cache Sync: waits until the controller has drained its store,
    /// eviction and line fill buffers, so that what it accepted before is
    /// visible to the memory system.
    ///
    /// On r3p0 (erratum 753970, [`Errata::cache_sync_faulty`]) the sync
    /// is a write of 0 to the dummy register at 0x740 instead of Cache
    /// Sync: it drains the same buffers, completes with the write, and
    /// leaves no C bit to poll.
    pub fn sync(&mut self) -> Result<(), Error> {
        self.sync_for(self.errata())
    }

    /// Writes every dirty line back to memory (Clean by Way on every way,
    /// then a sync); the lines stay valid.
    ///
    /// On r2p0 and r3p0 (erratum 727915,
    /// [`Errata::background_clean_invalidate_loses_stores`]) the Clean by
    /// Way runs with the Debug Control Register's DCL and DWB set, as the
    /// Clean and Invalidate by Way does: see that field for why the clean
    /// is guarded too. Debug Control is secure only: on those releases
    /// call this in the Secure state.
    pub fn clean_all(&mut self) -> Result<(), Error> {
        let errata = self.errata();
        self.guarded(errata.background_clean_invalidate_loses_stores, |l2| {
            l2.run(Operation::CleanByWay)
        })?;
        self.sync_for(errata)
    }

    /// Writes every dirty line back and empties the cache (Clean and
    /// Invalidate by Way on every way, then a sync).
    ///
    /// Two errata change the sequence, each with the Debug Control
    /// Register's DCL (no linefill) and DWB (write-through) set for the
    /// operations by way and cleared once they have finished:
    ///
    /// - r0p0 and r1p0 (erratum 588369,
    ///   [`Errata::clean_invalidate_keeps_clean_lines`]): Clean and
    ///   Invalidate by Way leaves clean lines valid, so it is replaced by
    ///   Clean by Way, a sync, then Invalidate by Way. With write-back
    ///   off, no store can dirty a line between the clean and the
    ///   invalidate and be dropped by it.
    /// - r2p0 and r3p0 (erratum 727915,
    ///   [`Errata::background_clean_invalidate_loses_stores`]): the Clean
    ///   and Invalidate by Way itself runs guarded, so that no store hits
    ///   a line between its clean and its invalidate.
    ///
    /// Debug Control is secure only: on those releases call this in the
    /// Secure state. On [`Error::Timeout`] of a guarded operation DCL and
    /// DWB stay set (the operation may still be running, and clearing
    /// them would expose it again); the cache keeps working, write-through
    /// and without linefills, until they are cleared.
    pub fn clean_invalidate_all(&mut self) -> Result<(), Error> {
        let errata = self.errata();
        if errata.clean_invalidate_keeps_clean_lines {
            self.guarded(true, |l2| {
                l2.run(Operation::CleanByWay)?;
                l2.sync_for(errata)?;
                l2.run(Operation::InvalidateByWay)
            })?;
        } else {
            self.guarded(errata.background_clean_invalidate_loses_stores, |l2| {
                l2.run(Operation::CleanInvalidateByWay)
            })?;
        }
        self.sync_for(errata)
    }

    /// Turns the cache off, if it is on, after writing back and emptying
    /// it ([`Pl310::clean_invalidate_all`]), so that no write it held is
    /// lost and nothing stale is found when it is next enabled. The
    /// caller cleans the L1 data cache first and makes no cacheable
    /// writes until this returns, or they may land in the L2 after its
    /// clean. On [`Error::Timeout`] the cache stays on.
    pub fn disable(&mut self) -> Result<(), Error> {
        if !self.is_enabled() {
            return Ok(());
        }
        self.clean_invalidate_all()?;
        self.registers.control().write(CONTROL::L2_CACHE_ENABLE::CLEAR);
        Ok(())
    }

    /// Gives back the register access.
    pub fn release(self) -> R {
        self.registers
    }

    /// [`Pl310::sync`] on a controller with `errata`, read once by the
    /// sequence that syncs.
    fn sync_for(&mut self, errata: Errata) -> Result<(), Error> {
        if errata.cache_sync_faulty {
            self.registers.dummy().set(0);
            return Ok(());
        }
        self.run(Operation::CacheSync)
    }

    /// Runs `operations`, with `guard` with the Debug Control Register's
    /// DCL and DWB set (no linefill, write-through: errata 588369 and
    /// 727915) and cleared after. If guarded `operations` fail, the bits
    /// stay set.
    fn guarded(
        &mut self,
        guard: bool,
        operations: impl FnOnce(&mut Self) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if !guard {
            return operations(self);
        }
        self.registers.debug_control().write(DEBUG_CONTROL::DCL::SET + DEBUG_CONTROL::DWB::SET);
        operations(self)?;
        self.registers.debug_control().set(0);
        Ok(())
    }

    /// Starts `operation` (one by way on every way the geometry has) and
    /// waits for it.
    fn run(&mut self, operation: Operation) -> Result<(), Error> {
        match operation {
            Operation::InvalidateByWay => {
                self.registers.invalidate_by_way().write(self.every_way())
            }
            Operation::CleanByWay => self.registers.clean_by_way().write(self.every_way()),
            Operation::CleanInvalidateByWay => {
                self.registers.clean_invalidate_by_way().write(self.every_way())
            }
            Operation::CacheSync => self.registers.cache_sync().write(CACHE_SYNC::C::CLEAR),
        }
        self.wait(operation)
    }

    /// The way bits of every way the geometry has.
    fn every_way(&self) -> FieldValue<u32, WAYS::Register> {
        WAYS::WAY.val(self.geometry().way_mask())
    }

    /// Polls `operation`'s register until it no longer reads as in
    /// progress, at most [`POLL_LIMIT`] times.
    fn wait(&self, operation: Operation) -> Result<(), Error> {
        for _ in 0..POLL_LIMIT {
            if !self.in_progress(operation) {
                return Ok(());
            }
            core::hint::spin_loop();
        }
        Err(Error::Timeout(operation))
    }

    /// Whether `operation` still runs: a way bit still set, or C.
    fn in_progress(&self, operation: Operation) -> bool {
        match operation {
            Operation::InvalidateByWay => self.registers.invalidate_by_way().read(WAYS::WAY) != 0,
            Operation::CleanByWay => self.registers.clean_by_way().read(WAYS::WAY) != 0,
            Operation::CleanInvalidateByWay => {
                self.registers.clean_invalidate_by_way().read(WAYS::WAY) != 0
            }
            Operation::CacheSync => self.registers.cache_sync().is_set(CACHE_SYNC::C),
        }
    }
}
