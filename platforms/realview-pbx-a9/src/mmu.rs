//! The board's memory as the MMU maps it (`ferrode_arch_armv7a::mmu`): RAM
//! cached and never executed, the image's code read-only, the devices of
//! [`DEVICE_MEMORY`] as Device memory, nothing else.

use ferrode_arch_armv7a::mmu::{Access, MapError, PAGE, Region};

use crate::arch;
use crate::memory_map::DEVICE_MEMORY;

unsafe extern "C" {
    // The linker script's symbols: the image from `_start` (the start of
    // RAM) with code up to `__text_end` and data from `__data_start`; RAM
    // ends at `__heap_end`.
    static _start: u8;
    static __text_end: u8;
    static __data_start: u8;
    static __heap_end: u8;
}

/// The regions for an image whose RAM is `ram`, whose code ends at
/// `code_end` and whose data starts at `data_start`: RAM as data; the
/// pages before the data's first page as code (code and read-only data:
/// a page of read-only data may run); the page the data starts in as code
/// and data if code reaches into it; the devices.
pub fn regions(
    ram: core::ops::Range<usize>,
    code_end: usize,
    data_start: usize,
) -> [Region; 3 + DEVICE_MEMORY.len()] {
    let data_page = data_start & !(PAGE - 1);
    let code_pages_end = code_end.next_multiple_of(PAGE).max(data_page);
    let mut regions =
        [Region { start: 0, end: 0, access: Access::Device }; 3 + DEVICE_MEMORY.len()];
    regions[0] = Region { start: ram.start, end: ram.end, access: Access::Data };
    regions[1] = Region { start: ram.start, end: data_page, access: Access::Code };
    regions[2] = Region { start: data_page, end: code_pages_end, access: Access::CodeAndData };
    for (region, &(start, end)) in regions[3..].iter_mut().zip(DEVICE_MEMORY) {
        *region = Region { start, end, access: Access::Device };
    }
    regions
}

/// Maps this image and the board and turns the MMU and the L1 caches on.
/// If a boot loader left its own map on, that one stays (and the console
/// says so: code is then writable and data executable).
pub fn init() {
    let ram = (&raw const _start) as usize..(&raw const __heap_end) as usize;
    let code_end = (&raw const __text_end) as usize;
    let data_start = (&raw const __data_start) as usize;
    match arch::enable_mmu(&regions(ram, code_end, data_start)) {
        Ok(()) => {}
        Err(MapError::AlreadyOn) => crate::console_write(
            b"MMU: on at entry, the boot loader's map is kept (no memory protection)\r\n",
        ),
        Err(error) => panic!("the board's memory map cannot be mapped: {error:?}"),
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::boxed::Box;

    use ferrode_arch_armv7a::mmu::{Level1, Level2, Map};

    use super::*;

    fn tables() -> (Box<Level1>, Box<Level2>) {
        (Box::new(Level1::new()), Box::new(Level2::new()))
    }

    #[test]
    fn every_region_is_page_aligned_and_code_precedes_data() {
        let regions = regions(0x7010_0000..0x7800_0000, 0x7010_6a02, 0x7010_8a10);
        for region in &regions {
            assert!(region.start.is_multiple_of(PAGE) && region.end.is_multiple_of(PAGE));
            assert!(region.start <= region.end, "{region:?}");
        }
        assert_eq!(
            regions[1],
            Region { start: 0x7010_0000, end: 0x7010_8000, access: Access::Code }
        );
        // Code ends before the data's page: no page is both.
        assert_eq!(regions[2].start, regions[2].end);
        let (mut l1, mut l2) = tables();
        Map::new(&mut l1, &mut l2, 0x7011_4000).map(&regions).unwrap();
    }

    #[test]
    fn code_reaching_into_the_datas_page_makes_it_both() {
        let regions = regions(0x7010_0000..0x7800_0000, 0x7010_8100, 0x7010_8a10);
        assert_eq!(regions[1].end, 0x7010_8000);
        assert_eq!(
            regions[2],
            Region { start: 0x7010_8000, end: 0x7010_9000, access: Access::CodeAndData }
        );
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
            LAN9118_BASE,
        ];
        let regions = regions(0x7010_0000..0x7800_0000, 0x7010_6000, 0x7010_8000);
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
