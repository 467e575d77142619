//! Where an image's thread stacks are: one [`StackRecord`] per stack, in
//! the linker section `.ferrode_stack_records`, which the linker script
//! gathers between `__stack_records_start` and `__stack_records_end` in
//! the read-only data.
//!
//! `ferrode-board`'s stack memory writes a record for each stack it
//! declares; the boot code (the arch crates' `_start`) zeroes each stack
//! by its record, the platform reads them to leave each guard page out of
//! the MMU's map (PBX-A9) or lock it (MicroBlaze V), and the host's tools
//! read them from the ELF to name a fault in a guard page and to measure
//! each stack (`cargo xtask stacks`). The layout (three addresses, in this
//! order) is that contract: `_start` reads the stack's two at offsets 4
//! and 8.

/// One thread stack: the guard page below it (empty on a board without
/// one) and the stack itself, as addresses.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct StackRecord {
    /// The guard's first byte.
    pub guard: *const u8,
    /// The stack's lowest byte: the guard's end.
    pub stack: *const u8,
    /// The byte after the stack's top.
    pub end: *const u8,
}

// The layout `_start` and the host's tools read: three addresses, in
// this order, nothing between them (12 bytes on both boards).
const _: () = {
    let word = core::mem::size_of::<*const u8>();
    assert!(core::mem::offset_of!(StackRecord, guard) == 0);
    assert!(core::mem::offset_of!(StackRecord, stack) == word);
    assert!(core::mem::offset_of!(StackRecord, end) == 2 * word);
    assert!(core::mem::size_of::<StackRecord>() == 3 * word);
};

// SAFETY: a record holds addresses only; nothing reads or writes memory
// through a record's pointers (they are compared and turned into numbers).
unsafe impl Sync for StackRecord {}

impl StackRecord {
    /// The guard page's addresses (empty where the board has none).
    pub fn guard(&self) -> core::ops::Range<usize> {
        self.guard as usize..self.stack as usize
    }

    /// The stack's addresses.
    pub fn stack(&self) -> core::ops::Range<usize> {
        self.stack as usize..self.end as usize
    }
}

/// The records between `start` and `end`: a platform passes the linker
/// script's `__stack_records_start` and `__stack_records_end`.
///
/// # Safety
///
/// Everything from `start` up to `end` is `StackRecord`s (aligned, as the
/// linker script's `.ferrode_stack_records` gathering makes them) that
/// stay unchanged for as long as the image runs.
pub unsafe fn records(
    start: *const StackRecord,
    end: *const StackRecord,
) -> &'static [StackRecord] {
    // As numbers, through `black_box`: the compiler takes two distinct
    // statics for two distinct addresses, but an image without thread
    // stacks has none between them.
    let bytes = core::hint::black_box(end as usize) - core::hint::black_box(start as usize);
    // SAFETY: the caller's contract: `bytes / size_of` records from
    // `start`, read-only for the image's life.
    unsafe { core::slice::from_raw_parts(start, bytes / core::mem::size_of::<StackRecord>()) }
}

#[cfg(test)]
mod tests {
    use super::{StackRecord, records};

    /// A record at an address that is no memory: records are only ever
    /// compared and turned into numbers.
    const fn record(guard: usize, stack: usize, end: usize) -> StackRecord {
        StackRecord {
            guard: core::ptr::without_provenance(guard),
            stack: core::ptr::without_provenance(stack),
            end: core::ptr::without_provenance(end),
        }
    }

    static RECORDS: [StackRecord; 3] = [
        record(0x1000, 0x2000, 0x6000),
        record(0x6000, 0x6000, 0x7000),
        record(0x8000, 0x9000, 0x9400),
    ];

    /// The guard runs from its first byte to the stack's, the stack from
    /// there to its end; a board without guard pages has an empty guard.
    #[test]
    fn a_record_gives_its_guard_and_stack_as_address_ranges() {
        assert_eq!((RECORDS[0].guard(), RECORDS[0].stack()), (0x1000..0x2000, 0x2000..0x6000));
        assert!(RECORDS[1].guard().is_empty());
        assert_eq!(RECORDS[1].stack(), 0x6000..0x7000);
    }

    /// The records between two addresses are all the records there, and
    /// none where the two addresses are the same (an image without thread
    /// stacks).
    #[test]
    fn the_records_between_two_addresses_are_all_there_are() {
        let range = RECORDS.as_ptr_range();
        // SAFETY: `RECORDS` is three records, aligned, in a static that
        // never changes; `range` is its start and end.
        let all = unsafe { records(range.start, range.end) };
        assert_eq!(all.len(), 3);
        assert_eq!(all.last().map(StackRecord::stack), Some(0x9000..0x9400));
        // SAFETY: as above; no record lies between an address and itself.
        let none = unsafe { records(range.start, range.start) };
        assert!(none.is_empty());
    }
}
