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
