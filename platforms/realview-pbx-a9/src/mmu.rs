//! The board's memory as the MMU maps it (`ferrode_arch_armv7a::mmu`): RAM
//! cached and never executed, the image's code read-only and its read-only
//! data (and the translation tables) neither written nor run, the devices
//! of [`DEVICE_MEMORY`] as Device memory, nothing else: not the guard
//! page below the boot stack, nor the one below each thread stack.

use core::ops::Range;

use ferrode_arch_armv7a::mmu::{Access, Map, MapError, PAGE, Region};
use ferrode_hal::StackRecord;

use crate::arch;
use crate::memory_map::DEVICE_MEMORY;

unsafe extern "C" {
    // The linker script's symbols: the image from `_start` (the start of
    // RAM) with code up to `__text_end` and data from `__data_start`; the
    // MMU's tables from `__ttb_start` to `__ttb_end`; the boot stack's
    // guard page from `__stack_guard` to `__stack_bottom`; RAM ends at
    // `__heap_end`.
    static _start: u8;
    static __text_end: u8;
    static __data_start: u8;
    static __ttb_start: u8;
    static __ttb_end: u8;
    static __stack_guard: u8;
    static __stack_bottom: u8;
    static __heap_end: u8;
    static __stack_records_start: StackRecord;
    static __stack_records_end: StackRecord;
}

/// Where an image's parts are (the linker script's symbols).
#[derive(Clone, Debug)]
pub struct Layout {
    /// All of RAM: the image first.
    pub ram: Range<usize>,
    /// The end of the code.
    pub code_end: usize,
    /// The start of the data (after the read-only data).
    pub data_start: usize,
    /// The translation tables (page-aligned).
    pub tables: Range<usize>,
    /// The guard page below the boot stack (page-aligned).
    pub stack_guard: Range<usize>,
}

/// Regions [`regions`] lists.
const REGIONS: usize = 5 + DEVICE_MEMORY.len();

/// The regions for an image laid out as `layout` says, later ones over
/// earlier ones: RAM as data; the pages before the data's first page as
/// read-only data, and the code's pages among them as code (the page where
/// code ends and read-only data starts is code); the page the data starts
/// in as code and data if code reaches into it; the tables as read-only
/// data; the devices. The guard pages are [`map_image`]'s.
pub fn regions(layout: &Layout) -> [Region; REGIONS] {
    let data_page = layout.data_start & !(PAGE - 1);
    let code_pages_end = layout.code_end.next_multiple_of(PAGE);
    let start = layout.ram.start;
    let mut regions = [Region { start: 0, end: 0, access: Access::Device }; REGIONS];
    regions[0] = Region { start, end: layout.ram.end, access: Access::Data };
    regions[1] = Region { start, end: data_page, access: Access::ReadOnly };
    regions[2] = Region { start, end: code_pages_end.min(data_page), access: Access::Code };
    regions[3] = Region {
        start: data_page,
        end: code_pages_end.max(data_page),
        access: Access::CodeAndData,
    };
    regions[4] =
        Region { start: layout.tables.start, end: layout.tables.end, access: Access::ReadOnly };
    for (region, &(start, end)) in regions[5..].iter_mut().zip(DEVICE_MEMORY) {
        *region = Region { start, end, access: Access::Device };
    }
    regions
}

/// Maps `layout` as [`regions`] lists it, then leaves out every guard
/// page: the boot stack's and `guards`, those below the thread stacks.
pub fn map_image(
    map: &mut Map<'_>,
    layout: &Layout,
    guards: impl IntoIterator<Item = Range<usize>>,
) -> Result<(), MapError> {
    map.map(&regions(layout))?;
    for guard in core::iter::once(layout.stack_guard.clone()).chain(guards) {
        map.map(&[Region { start: guard.start, end: guard.end, access: Access::NoAccess }])?;
    }
    Ok(())
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

/// Maps this image and the board and turns the MMU and the L1 caches on;
/// returns whether this map is the one in use. If a boot loader left its
/// own map on, that one stays (and the console says so: code is then
/// writable and data executable) and this returns false: the loader set
/// up the caches to go with it too.
pub(crate) fn init() -> bool {
    let layout = Layout {
        ram: (&raw const _start) as usize..(&raw const __heap_end) as usize,
        code_end: (&raw const __text_end) as usize,
        data_start: (&raw const __data_start) as usize,
        tables: (&raw const __ttb_start) as usize..(&raw const __ttb_end) as usize,
        stack_guard: (&raw const __stack_guard) as usize..(&raw const __stack_bottom) as usize,
    };
    let guards = stack_records().iter().map(StackRecord::guard);
    // SAFETY: the platform's boot, once, before any thread runs.
    match unsafe { arch::enable_mmu(|map| map_image(map, &layout, guards)) } {
        Ok(()) => true,
        Err(MapError::AlreadyOn) => {
            crate::console::write(
                b"MMU: on at entry, the boot loader's map is kept (no memory protection)\r\n",
            );
            false
        }
        Err(error) => panic!("the board's memory map cannot be mapped: {error:?}"),
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::boxed::Box;

    use ferrode_arch_armv7a::mmu::{Level1, Level2, Map};

    use super::*;

    fn layout(code_end: usize, data_start: usize) -> Layout {
        Layout {
            ram: 0x7010_0000..0x7800_0000,
            code_end,
            data_start,
            tables: 0x7011_0000..0x7011_5000,
            stack_guard: 0x7010_d000..0x7010_e000,
        }
    }

    fn tables() -> (Box<Level1>, Box<Level2>) {
        (Box::new(Level1::new()), Box::new(Level2::new()))
    }

    /// What PL1 may do at each address once `layout` is mapped.
    fn permissions_at(layout: &Layout, addresses: &[usize]) -> std::vec::Vec<(bool, bool, bool)> {
        let regions = regions(layout);
        for region in &regions {
            assert!(region.start.is_multiple_of(PAGE) && region.end.is_multiple_of(PAGE));
            assert!(region.start <= region.end, "{region:?}");
        }
        let (mut l1, mut l2) = tables();
        let mut map = Map::new(&mut l1, &mut l2, 0x7011_4000);
        map_image(&mut map, layout, []).unwrap();
        addresses.iter().map(|&address| map.mapping(address).permissions()).collect()
    }

    const CODE: (bool, bool, bool) = (true, false, true);
    const READ_ONLY: (bool, bool, bool) = (true, false, false);
    const DATA: (bool, bool, bool) = (true, true, false);
    const ALL: (bool, bool, bool) = (true, true, true);

    #[test]
    fn code_runs_read_only_data_and_tables_are_only_read_data_never_runs_the_guard_is_unmapped() {
        let layout = layout(0x7010_6a02, 0x7010_8a10);
        let at = [
            0x7010_0000,
            0x7010_6ffc,
            0x7010_7000,
            0x7010_8000,
            0x7010_cffc,
            0x7010_d000,
            0x7010_e000,
            0x7011_0000,
            0x7011_5000,
        ];
        let none = (false, false, false);
        assert_eq!(
            permissions_at(&layout, &at),
            [CODE, CODE, READ_ONLY, DATA, DATA, none, DATA, READ_ONLY, DATA]
        );
    }

    #[test]
    fn each_thread_stacks_guard_page_is_left_out_and_its_stack_and_neighbours_stay_data() {
        let layout = layout(0x7010_6a02, 0x7010_8a10);
        let guards = [0x7010_9000..0x7010_a000, 0x7010_b000..0x7010_c000];
        let (mut l1, mut l2) = tables();
        let mut map = Map::new(&mut l1, &mut l2, 0x7011_4000);
        map_image(&mut map, &layout, guards).unwrap();
        let at = [0x7010_8ffc, 0x7010_9000, 0x7010_9ffc, 0x7010_a000, 0x7010_b000, 0x7010_c000];
        let none = (false, false, false);
        let found: std::vec::Vec<_> =
            at.iter().map(|&address| map.mapping(address).permissions()).collect();
        assert_eq!(found, [DATA, none, none, DATA, none, DATA]);
    }

    #[test]
    fn a_large_image_with_stacks_across_megabytes_fits_the_page_tables() {
        // Code ends and data starts in the first megabyte; a megabyte of
        // .bss; 64 thread stacks of two pages each (guard and stack) from
        // just below a megabyte boundary across it; the boot stack's
        // guard and the tables across the next boundary.
        let mut layout = layout(0x7018_0000, 0x7018_2000);
        layout.stack_guard = 0x703f_e000..0x703f_f000;
        layout.tables = 0x703f_f000..0x7040_5000;
        let guards: std::vec::Vec<Range<usize>> = (0..64)
            .map(|stack| 0x702f_0000 + stack * 2 * PAGE)
            .map(|guard| guard..guard + PAGE)
            .collect();
        let (mut l1, mut l2) = tables();
        let mut map = Map::new(&mut l1, &mut l2, 0x7040_1000);
        map_image(&mut map, &layout, guards.iter().cloned()).unwrap();
        assert!(map.page_tables_used() <= ferrode_arch_armv7a::mmu::L2_TABLES);
        for guard in &guards {
            assert_eq!(map.mapping(guard.start).permissions(), (false, false, false));
            assert_eq!(map.mapping(guard.end).permissions(), DATA, "{:#x}", guard.end);
        }
    }

    #[test]
    fn code_reaching_into_the_datas_page_makes_it_both() {
        let layout = layout(0x7010_8100, 0x7010_8a10);
        let at = [0x7010_7ffc, 0x7010_8000, 0x7010_9000];
        assert_eq!(permissions_at(&layout, &at), [CODE, ALL, DATA]);
    }

    #[test]
    fn the_devices_the_platform_drives_are_mapped() {
        use crate::memory_map::*;
        let bases = [
            UART0_BASE,
            SYSCTRL_BASE,
            TIMER01_BASE,
            TIMER23_BASE,
            RTC_BASE,
            GPIO0_BASE,
            GIC_CPU_BASE,
            GIC_DIST_BASE,
            PRIVATE_TIMER_BASE,
            L2_CACHE_BASE,
            LAN9118_BASE,
        ];
        let regions = regions(&layout(0x7010_6000, 0x7010_8000));
        let (mut l1, mut l2) = tables();
        let mut map = Map::new(&mut l1, &mut l2, 0x7011_4000);
        map.map(&regions).unwrap();
        for base in bases.into_iter().chain(DEVICES.iter().map(|window| window.base)) {
            let mapping = map.mapping(base);
            assert_eq!(mapping.permissions(), (true, true, false), "{base:#x}");
            assert_eq!(mapping.memory_type(), 0b00001, "{base:#x}: Device memory");
        }
    }
}
