//! The image's memory protection with the hart's PMP entries
//! (`ferrode_arch_riscv32::pmp`), in whole pages as PBX-A9's MMU map: code
//! only read and run, read-only data only read, a page code and data
//! share both, the rest of RAM never run, and the guard below the boot
//! stack and below each thread stack not reached at all. Devices and the
//! LMB BRAM match no entry and stay open.
//!
//! A MicroBlaze V configured without PMP (its entries read as zero) runs
//! unprotected, and the console says so; one with fewer entries than the
//! image has guards locks the boot stack's and the first thread stacks'.
//! Images with the in-image GDB monitor (feature `writable-code`) keep
//! code writable for its breakpoints: a locked entry binds machine mode
//! until reset.

use ferrode_hal::StackRecord;

use crate::arch::pmp::{self, Access, Image, Plan, PlanError};

unsafe extern "C" {
    // The linker script's symbols: code from `_start` to `__text_end`,
    // read-only data up to `__data_start`, RAM to `__heap_end`; the boot
    // stack's guard from `__stack_guard` to `__stack_bottom`; the thread
    // stacks' records.
    static _start: u8;
    static __text_end: u8;
    static __data_start: u8;
    static __heap_end: u8;
    static __stack_guard: u8;
    static __stack_bottom: u8;
    static __stack_records_start: StackRecord;
    static __stack_records_end: StackRecord;
}

/// What code may do: run, and in images with the GDB monitor be written.
const CODE: Access =
    if cfg!(feature = "writable-code") { Access::CodeAndData } else { Access::Code };

/// The bytes the image's ranges are drawn in: whole 4 KiB pages, as on
/// PBX-A9 (an emulator that keeps PMP decisions per page, as QEMU does,
/// checks every access to a page two ranges share, which slowed images
/// that work on data in the page where `.data` starts many times over).
const PAGE: usize = 4096;

/// The image's ranges from its start, in pages: code up to the page
/// `code_end` is in, read-only data up to the page `data_start` is in, a
/// page code and data share (if they do) both, data up to `ram_end`.
/// Empty ranges are left out.
pub fn ranges(code_end: usize, data_start: usize, ram_end: usize) -> ([(usize, Access); 4], usize) {
    let data_page = data_start & !(PAGE - 1);
    let code_pages_end = code_end.next_multiple_of(PAGE);
    let all = [
        (code_pages_end.min(data_page), CODE),
        (data_page, Access::ReadOnly),
        (code_pages_end.max(data_page), Access::CodeAndData),
        (ram_end, Access::Data),
    ];
    let mut ranges = [(0, Access::Data); 4];
    let mut count = 0;
    let mut previous = 0;
    for (end, access) in all {
        if end > previous {
            ranges[count] = (end, access);
            count += 1;
            previous = end;
        }
    }
    (ranges, count)
}

/// The image's thread stack records (see `ferrode_hal::stacks`).
fn stack_records() -> &'static [StackRecord] {
    // SAFETY: the linker script gathers the `.ferrode_stack_records`
    // sections, and only them, between the two symbols: records that
    // `thread_stack!` made, read-only data for as long as the image runs.
    unsafe {
        ferrode_hal::stacks::records(
            &raw const __stack_records_start,
            &raw const __stack_records_end,
        )
    }
}

/// Locks the image's protection into the PMP entries, or says on the
/// console why it could not.
pub(crate) fn init() {
    let (entries, grain) = pmp::probe();
    if entries == 0 {
        crate::console::write(b"PMP: none on this hart (no memory protection)\r\n");
        return;
    }
    // The boot stack's guard and each thread stack's, as many as PMP can
    // have; `total` counts them all.
    let boot_guard = (&raw const __stack_guard) as usize..(&raw const __stack_bottom) as usize;
    let mut guards = [const { 0..0 }; pmp::MAX_ENTRIES];
    let (mut count, mut total) = (0, 0);
    for guard in core::iter::once(boot_guard).chain(stack_records().iter().map(StackRecord::guard))
    {
        if guard.is_empty() {
            continue;
        }
        if let Some(slot) = guards.get_mut(count) {
            *slot = guard;
            count += 1;
        }
        total += 1;
    }
    let guards = &guards[..count];
    let (ranges, count) = ranges(
        (&raw const __text_end) as usize,
        (&raw const __data_start) as usize,
        (&raw const __heap_end) as usize,
    );
    let image = Image { start: (&raw const _start) as usize, ranges: &ranges[..count] };
    match Plan::new(&image, guards, entries, grain) {
        Ok(plan) => {
            // SAFETY: the platform's boot, once, before any thread runs.
            unsafe { pmp::apply(&plan, guards) };
            if plan.guards < total {
                crate::console::write(
                    b"PMP: too few entries for every stack guard (the first ones are locked)\r\n",
                );
            }
        }
        Err(error) => {
            let why: &[u8] = match error {
                PlanError::Guard(_) => b"a stack guard finer than its grain",
                PlanError::Unaligned(_) => b"an image bound off its grain",
                PlanError::TooFewEntries => b"too few entries",
            };
            crate::console::write(b"PMP: not used (");
            crate::console::write(why);
            crate::console::write(b"): no memory protection\r\n");
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use core::ops::Range;

    use super::*;

    /// The guard ranges of `records` and the boot stack's, as `init`
    /// locks them.
    fn guard_ranges(boot: Range<usize>, records: &[StackRecord]) -> std::vec::Vec<Range<usize>> {
        core::iter::once(boot)
            .chain(records.iter().map(StackRecord::guard))
            .filter(|guard| !guard.is_empty())
            .collect()
    }

    #[test]
    fn code_runs_read_only_data_is_read_data_never_runs_guards_are_closed() {
        let records = [StackRecord {
            guard: 0x8000_9000 as *const u8,
            stack: 0x8000_9400 as *const u8,
            end: 0x8000_a400 as *const u8,
        }];
        let guards = guard_ranges(0x8000_c000..0x8000_c400, &records);
        let (image_ranges, count) = ranges(0x8000_3ff2, 0x8000_5010, 0x8800_0000);
        let image = Image { start: 0x8000_0000, ranges: &image_ranges[..count] };
        let plan = Plan::new(&image, &guards, 16, 4).unwrap();
        let at = |address| plan.permissions(address);
        let none = (false, false, false);
        assert_eq!(at(0x8000_3ffc), (true, false, true), "code");
        assert_eq!(at(0x8000_4000), (true, false, false), "read-only data");
        assert_eq!(at(0x8000_5000), (true, true, false), "the page .data starts in");
        assert_eq!([at(0x8000_9000), at(0x8000_93fc), at(0x8000_c000)], [none; 3]);
        assert_eq!(at(0x8000_9400), (true, true, false));
        assert_eq!(at(0x4060_0000), (true, true, true));
    }

    #[test]
    fn a_page_code_and_data_share_is_both_and_every_range_is_whole_pages() {
        let (shared, count) = ranges(0x8000_4100, 0x8000_4800, 0x8800_0000);
        assert_eq!(
            shared[..count],
            [
                (0x8000_4000, Access::Code),
                (0x8000_5000, Access::CodeAndData),
                (0x8800_0000, Access::Data)
            ]
        );
        let (apart, count) = ranges(0x8000_4000, 0x8000_6008, 0x8800_0000);
        assert_eq!(
            apart[..count],
            [
                (0x8000_4000, Access::Code),
                (0x8000_6000, Access::ReadOnly),
                (0x8800_0000, Access::Data)
            ]
        );
    }

    #[test]
    fn empty_guards_take_no_entry() {
        let guards = guard_ranges(0x8000_c000..0x8000_c000, &[]);
        assert!(guards.is_empty());
    }
}
