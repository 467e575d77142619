//! The MMU and the level 1 caches: an identity map of the board's memory,
//! with the attributes each part needs, built once at boot.
//!
//! Short-descriptor translation tables (ARM ARM B3.5): one level 1 table of
//! 4096 entries, each mapping 1 MiB as a section, or pointing to a level 2
//! table of 256 small pages of 4 KiB where a megabyte holds parts that need
//! different attributes (the image's code and its data). Addresses are not
//! translated (virtual = physical); what the map adds is:
//!
//! - **caches**: RAM is Normal memory, write-back write-allocate, so the
//!   L1 instruction and data caches (and branch prediction) can be on;
//! - **device order**: device windows are Device memory (uncached, accesses
//!   in program order, never speculative), as their data sheets require;
//! - **protection**: code and read-only data are read-only (a write is a
//!   permission fault), everything but code is execute-never (an
//!   instruction fetch from it is a permission fault), and whatever the
//!   platform does not list is not mapped (an access is a translation
//!   fault), the null page included.
//!
//! Every thread runs in SVC mode (PL1), so the permissions are PL1's; PL0
//! has no access. Everything is in domain 0, a client domain (permissions
//! are checked); [`crate::writable_code`] makes it a manager domain for the
//! moment a debugger's breakpoint goes into the code.
//!
//! The building is plain code, tested on the host; turning the MMU on
//! ([`crate::enable_mmu`]) is the arch's, at boot.

/// A page: the smallest part of memory the map gives attributes to.
pub const PAGE: usize = 4096;
/// A section: what one level 1 entry maps.
pub const SECTION: usize = 1 << 20;
/// Level 1 entries: 4 GiB in sections.
const L1_ENTRIES: usize = 4096;
/// Level 2 entries: a section in pages.
const L2_ENTRIES: usize = 256;
/// Level 2 tables a map may use: an image splits a few megabytes into
/// pages (where its code ends and its data starts, where its thread
/// stacks with their guard pages lie, the boot stack's guard and the
/// tables, often all in one or two, each part at most across a megabyte
/// boundary); eight leave room for large images.
pub const L2_TABLES: usize = 8;

/// The page below a thread's stack that the map leaves out, a guard page:
/// a thread that runs off its stack faults at its first access there,
/// before it writes over whatever lies below. `ferrode-board`'s thread
/// stacks start with one; the platform maps none of them (their records
/// say where they are, see `ferrode_hal::stacks`).
#[repr(C, align(4096))]
pub struct StackGuard([u8; PAGE]);

impl StackGuard {
    /// A guard (zeroes to Rust; the boot code leaves its memory as it
    /// finds it, as nothing reads or writes it).
    pub const fn new() -> Self {
        Self([0; PAGE])
    }
}

impl Default for StackGuard {
    fn default() -> Self {
        Self::new()
    }
}

/// What a part of memory is, and what may be done with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Code: cached; read and executed, never written.
    Code,
    /// Read-only data (constants, the translation tables once built):
    /// cached; read, never written or executed.
    ReadOnly,
    /// RAM: cached; read and written, never executed.
    Data,
    /// RAM holding the end of the code and the start of the data (the one
    /// page they share when code ends there): cached; read, written and
    /// executed.
    CodeAndData,
    /// Device registers: Device memory; read and written, never executed.
    Device,
    /// Nothing: not mapped, every access faults (a guard page in RAM).
    NoAccess,
}

impl Access {
    /// The bits of a section descriptor for this access (ARM ARM B3.5.1):
    /// TEX, C and B for the memory type, AP\[2\] and AP\[1:0\] for the
    /// permissions, XN; domain 0.
    const fn section_bits(self) -> u32 {
        // TEX = 0b001, C = 1, B = 1: Normal, inner and outer write-back
        // write-allocate (ARM ARM table B3-10).
        const NORMAL: u32 = (0b001 << 12) | (1 << 3) | (1 << 2);
        // TEX = 0b000, C = 0, B = 1: Shareable Device.
        const DEVICE: u32 = 1 << 2;
        // AP[1:0] = 0b01: PL1 read/write, PL0 no access; with AP[2] = 1,
        // PL1 read-only (table B3-8).
        const PL1_RW: u32 = 0b01 << 10;
        const READ_ONLY: u32 = 1 << 15;
        const XN: u32 = 1 << 4;
        const SECTION_TYPE: u32 = 0b10;
        SECTION_TYPE
            | match self {
                Self::Code => NORMAL | PL1_RW | READ_ONLY,
                Self::ReadOnly => NORMAL | PL1_RW | READ_ONLY | XN,
                Self::Data => NORMAL | PL1_RW | XN,
                Self::CodeAndData => NORMAL | PL1_RW,
                Self::Device => DEVICE | PL1_RW | XN,
                // A fault descriptor: type 0b00.
                Self::NoAccess => return 0,
            }
    }
}

/// A section descriptor mapping `address`'s megabyte with `access` (0
/// for [`Access::NoAccess`]).
pub const fn section(address: usize, access: Access) -> u32 {
    match access.section_bits() {
        0 => 0,
        bits => (address as u32 & !(SECTION as u32 - 1)) | bits,
    }
}

/// A small page descriptor mapping `address`'s page with `access`: the
/// section descriptor's attributes in their small-page places (ARM ARM
/// B3.5.1: XN moves to bit 0, B and C stay, AP\[1:0\] to bits 5:4, TEX to
/// bits 8:6, AP\[2\] to bit 9, S to bit 10).
pub const fn small_page(address: usize, access: Access) -> u32 {
    page_from_section(section(address, access), address)
}

/// The small page descriptor for `page` inside a megabyte mapped by
/// `section` (0: not mapped, so neither is the page).
const fn page_from_section(section: u32, page: usize) -> u32 {
    if section & 0b11 != 0b10 {
        return 0;
    }
    let xn = (section >> 4) & 1;
    let bc = section & 0b1100;
    let ap = (section >> 10) & 0b11;
    let tex = (section >> 12) & 0b111;
    let ap2 = (section >> 15) & 1;
    let s = (section >> 16) & 1;
    (page as u32 & !(PAGE as u32 - 1))
        | (s << 10)
        | (ap2 << 9)
        | (tex << 6)
        | (ap << 4)
        | bc
        | 0b10
        | xn
}

/// A part of memory: `start..end` (page-aligned) and its access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// The first address.
    pub start: usize,
    /// The address after the last.
    pub end: usize,
    /// What it is and what may be done with it.
    pub access: Access,
}

/// Why a map could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// A region does not start and end on a page boundary, or ends before
    /// it starts.
    Unaligned(Region),
    /// The regions split more megabytes into pages than there are level 2
    /// tables ([`L2_TABLES`]).
    OutOfPageTables,
    /// The MMU is on already: its tables are not rewritten under it.
    AlreadyOn,
}

/// The level 1 table: 16 KiB, aligned to its size as TTBR0 requires.
#[repr(C, align(16384))]
pub struct Level1(pub [u32; L1_ENTRIES]);

/// The level 2 tables a map may use: 1 KiB each, aligned to 1 KiB as a
/// level 1 entry requires.
#[repr(C, align(1024))]
pub struct Level2(pub [[u32; L2_ENTRIES]; L2_TABLES]);

impl Level1 {
    /// A table that maps nothing.
    pub const fn new() -> Self {
        Self([0; L1_ENTRIES])
    }
}

impl Level2 {
    /// Tables that map nothing.
    pub const fn new() -> Self {
        Self([[0; L2_ENTRIES]; L2_TABLES])
    }
}

impl Default for Level1 {
    fn default() -> Self {
        Self::new()
    }
}

impl Default for Level2 {
    fn default() -> Self {
        Self::new()
    }
}

/// A map being built into a level 1 table and its level 2 tables.
pub struct Map<'a> {
    l1: &'a mut Level1,
    l2: &'a mut Level2,
    /// The level 2 tables' address as the MMU sees it (where a level 1
    /// entry points).
    l2_base: u32,
    /// Level 2 tables in use.
    used: usize,
}

impl<'a> Map<'a> {
    /// A map in `l1`, which maps nothing yet (all zero: every access would
    /// be a translation fault), and `l2`, whose tables the map writes whole
    /// as it takes them (their contents before do not matter). `l2_base`
    /// is `l2`'s address as the MMU sees it.
    pub fn new(l1: &'a mut Level1, l2: &'a mut Level2, l2_base: u32) -> Self {
        Self { l1, l2, l2_base, used: 0 }
    }

    /// Maps `regions` in order, a later region's access replacing an
    /// earlier one's where they overlap (so a platform lists RAM first and
    /// the code inside it after). Whole megabytes become sections, the
    /// rest pages. On an error the tables are as far as they got and must
    /// not be used.
    pub fn map(&mut self, regions: &[Region]) -> Result<(), MapError> {
        for region in regions {
            if !region.start.is_multiple_of(PAGE)
                || !region.end.is_multiple_of(PAGE)
                || region.end < region.start
            {
                return Err(MapError::Unaligned(*region));
            }
            let mut at = region.start;
            while at < region.end {
                let megabyte = at / SECTION;
                let section_start = megabyte * SECTION;
                if at == section_start && region.end - at >= SECTION {
                    self.l1.0[megabyte] = section(at, region.access);
                    at += SECTION;
                    continue;
                }
                let table = self.page_table(megabyte)?;
                let stop = region.end.min(section_start + SECTION);
                // The attributes once, the address per page.
                let attributes = small_page(0, region.access);
                while at < stop {
                    table[(at % SECTION) / PAGE] =
                        if attributes == 0 { 0 } else { at as u32 | attributes };
                    at += PAGE;
                }
            }
        }
        Ok(())
    }

    /// The level 2 table of `megabyte`: the one its entry points to, or a
    /// fresh one with the pages of what the entry mapped so far (a section,
    /// or nothing).
    fn page_table(&mut self, megabyte: usize) -> Result<&mut [u32; L2_ENTRIES], MapError> {
        let entry = self.l1.0[megabyte];
        let index = if entry & 0b11 == 0b01 {
            self.table_index(entry)
        } else {
            let index = self.used;
            let table = self.l2.0.get_mut(index).ok_or(MapError::OutOfPageTables)?;
            let attributes = page_from_section(entry, 0);
            let mut page = megabyte * SECTION;
            for descriptor in table.iter_mut() {
                *descriptor = if attributes == 0 { 0 } else { page as u32 | attributes };
                page += PAGE;
            }
            self.used += 1;
            // A coarse page table entry, domain 0 (ARM ARM B3.5.1).
            self.l1.0[megabyte] = (self.l2_base + (index * L2_ENTRIES * 4) as u32) | 0b01;
            index
        };
        self.l2.0.get_mut(index).ok_or(MapError::OutOfPageTables)
    }

    /// Which level 2 table a coarse page table `entry` points to.
    fn table_index(&self, entry: u32) -> usize {
        ((entry & !0x3ff) - self.l2_base) as usize / (L2_ENTRIES * 4)
    }

    /// The level 1 entry for `address` (for tests and reports).
    pub fn l1_entry(&self, address: usize) -> u32 {
        self.l1.0[address / SECTION]
    }

    /// Level 2 tables in use.
    pub fn page_tables_used(&self) -> usize {
        self.used
    }

    /// What the MMU finds for `address` (for tests and reports).
    pub fn mapping(&self, address: usize) -> Mapping {
        let entry = self.l1_entry(address);
        match entry & 0b11 {
            0b10 => Mapping::Section(entry),
            0b01 => match self.l2.0[self.table_index(entry)][(address % SECTION) / PAGE] {
                0 => Mapping::Unmapped,
                page => Mapping::Page(page),
            },
            _ => Mapping::Unmapped,
        }
    }
}

/// How an address is mapped: by a section or a small page descriptor (the
/// two formats differ), or not at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mapping {
    /// No descriptor: an access is a translation fault.
    Unmapped,
    /// A section descriptor.
    Section(u32),
    /// A small page descriptor.
    Page(u32),
}

impl Mapping {
    /// What PL1 may do: (read, write, execute).
    pub const fn permissions(self) -> (bool, bool, bool) {
        let (ap2, ap, xn) = match self {
            Self::Unmapped => return (false, false, false),
            Self::Section(d) => ((d >> 15) & 1, (d >> 10) & 0b11, (d >> 4) & 1),
            Self::Page(d) => ((d >> 9) & 1, (d >> 4) & 0b11, d & 1),
        };
        let read = ap != 0;
        (read, read && ap2 == 0, read && xn == 0)
    }

    /// The memory type: TEX, C and B as `0bTTTCB` (ARM ARM table B3-10):
    /// `0b00111` Normal write-back write-allocate, `0b00001` Device.
    pub const fn memory_type(self) -> u32 {
        match self {
            Self::Unmapped => 0,
            Self::Section(d) => (((d >> 12) & 0b111) << 2) | ((d >> 2) & 0b11),
            Self::Page(d) => (((d >> 6) & 0b111) << 2) | ((d >> 2) & 0b11),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;

    /// Where the level 2 tables are, as the MMU would see them.
    const BASE: u32 = 0x7011_4000;

    fn tables() -> (Box<Level1>, Box<Level2>) {
        (Box::new(Level1::new()), Box::new(Level2::new()))
    }

    /// The regions the PBX-A9 platform maps for an image whose code ends
    /// at `code_end` and whose data starts at `data_start`.
    fn image(code_end: usize, data_start: usize) -> [Region; 5] {
        let code_page_end = code_end.next_multiple_of(PAGE);
        let data_page = data_start & !(PAGE - 1);
        [
            Region { start: 0x7010_0000, end: 0x7800_0000, access: Access::Data },
            Region { start: 0x7010_0000, end: data_page, access: Access::Code },
            Region {
                start: data_page,
                end: code_page_end.max(data_page),
                access: Access::CodeAndData,
            },
            Region { start: 0x1000_0000, end: 0x1010_0000, access: Access::Device },
            Region { start: 0x1f00_0000, end: 0x1f10_0000, access: Access::Device },
        ]
    }

    #[test]
    fn code_is_read_only_data_never_runs_and_the_rest_is_unmapped() {
        let (mut l1, mut l2) = tables();
        let mut t = Map::new(&mut l1, &mut l2, BASE);
        t.map(&image(0x7010_6000, 0x7010_8a00)).unwrap();
        // Code: read and run, no write.
        assert_eq!(t.mapping(0x7010_0000).permissions(), (true, false, true));
        assert_eq!(t.mapping(0x7010_7ffc).permissions(), (true, false, true));
        // Data, bss and stacks, from the data's page on: no execution.
        assert_eq!(t.mapping(0x7010_8000).permissions(), (true, true, false));
        assert_eq!(t.mapping(0x7020_0000).permissions(), (true, true, false));
        assert_eq!(t.mapping(0x77ff_fffc).permissions(), (true, true, false));
        // Devices: no execution, and Device memory (TEX 000, C 0, B 1).
        let uart = t.mapping(0x1000_9000);
        assert_eq!(uart.permissions(), (true, true, false));
        assert_eq!(uart.memory_type(), 0b00001);
        // RAM is Normal write-back write-allocate (TEX 001, C 1, B 1), in
        // sections and in pages.
        assert_eq!(t.mapping(0x7020_0000).memory_type(), 0b00111);
        assert_eq!(t.mapping(0x7010_0000).memory_type(), 0b00111);
        assert_eq!(t.mapping(0x7010_9000).memory_type(), 0b00111);
        // The null page, QEMU's boot stub's megabyte, what lies past RAM and
        // between devices: nothing.
        for address in [0, 0xfff, 0x7000_0000, 0x7800_0000, 0x1010_0000, 0x4e00_0000] {
            assert_eq!(t.mapping(address), Mapping::Unmapped, "{address:#x}");
        }
    }

    #[test]
    fn only_the_megabyte_with_a_boundary_is_split_into_pages() {
        let (mut l1, mut l2) = tables();
        let mut t = Map::new(&mut l1, &mut l2, BASE);
        t.map(&image(0x7010_6000, 0x7010_8a00)).unwrap();
        assert_eq!(t.l1_entry(0x7010_0000) & 0b11, 0b01, "a page table");
        assert_eq!(t.l1_entry(0x7010_0000) & !0x3ff, BASE);
        assert_eq!(t.l1_entry(0x7020_0000), section(0x7020_0000, Access::Data));
        assert_eq!(t.l1_entry(0x1000_0000), section(0x1000_0000, Access::Device));
        assert_eq!(t.page_tables_used(), 1);
    }

    #[test]
    fn a_page_shared_by_code_and_data_is_both() {
        let (mut l1, mut l2) = tables();
        let mut t = Map::new(&mut l1, &mut l2, BASE);
        // Code ends in the page where data starts (little read-only data).
        t.map(&image(0x7010_8100, 0x7010_8a00)).unwrap();
        assert_eq!(t.mapping(0x7010_8000).permissions(), (true, true, true));
        assert_eq!(t.mapping(0x7010_7000).permissions(), (true, false, true));
        assert_eq!(t.mapping(0x7010_9000).permissions(), (true, true, false));
    }

    #[test]
    fn code_past_a_megabyte_splits_the_next_one_too() {
        let (mut l1, mut l2) = tables();
        let mut t = Map::new(&mut l1, &mut l2, BASE);
        t.map(&image(0x7020_3000, 0x7020_4010)).unwrap();
        assert_eq!(t.mapping(0x7010_0000).permissions(), (true, false, true));
        assert_eq!(t.mapping(0x7020_3ffc).permissions(), (true, false, true));
        assert_eq!(t.mapping(0x7020_4000).permissions(), (true, true, false));
        // The first megabyte is all code: a section; the second is split.
        assert_eq!(t.l1_entry(0x7010_0000), section(0x7010_0000, Access::Code));
        assert_eq!(t.page_tables_used(), 1);
        assert_eq!(t.l1_entry(0x7020_0000) & !0x3ff, BASE);
    }

    #[test]
    fn a_region_across_a_megabyte_boundary_splits_both_into_tables_of_their_own() {
        let (mut l1, mut l2) = tables();
        let mut t = Map::new(&mut l1, &mut l2, BASE);
        let data = Region { start: 0x2000_8000, end: 0x2010_4000, access: Access::Data };
        // Then code in the second megabyte: its table is found again.
        let code = Region { start: 0x2010_6000, end: 0x2010_7000, access: Access::Code };
        t.map(&[data, code]).unwrap();
        assert_eq!(t.page_tables_used(), 2);
        assert_eq!(t.l1_entry(0x2000_0000), BASE | 0b01);
        assert_eq!(t.l1_entry(0x2010_0000), (BASE + 1024) | 0b01);
        let page = |address, access| Mapping::Page(small_page(address, access));
        for address in [0x2000_8000, 0x200f_f000, 0x2010_0000, 0x2010_3000] {
            assert_eq!(t.mapping(address), page(address, Access::Data), "{address:#x}");
        }
        assert_eq!(t.mapping(0x2010_6000), page(0x2010_6000, Access::Code));
        for address in [0x2000_0000, 0x2000_7000, 0x2010_4000, 0x2010_5000, 0x2010_7000] {
            assert_eq!(t.mapping(address), Mapping::Unmapped, "{address:#x}");
        }
    }

    #[test]
    fn pages_keep_what_the_section_they_split_mapped() {
        let (mut l1, mut l2) = tables();
        let mut t = Map::new(&mut l1, &mut l2, BASE);
        let regions = [
            Region { start: 0x1000_0000, end: 0x1010_0000, access: Access::Device },
            Region { start: 0x1000_3000, end: 0x1000_4000, access: Access::Data },
        ];
        t.map(&regions).unwrap();
        let page = |address, access| Mapping::Page(small_page(address, access));
        assert_eq!(t.mapping(0x1000_2000), page(0x1000_2000, Access::Device));
        assert_eq!(t.mapping(0x1000_3000), page(0x1000_3000, Access::Data));
        assert_eq!(t.mapping(0x100f_f000), page(0x100f_f000, Access::Device));
        // A page table made out of nothing maps nothing else.
        let (mut l1, mut l2) = tables();
        let mut t = Map::new(&mut l1, &mut l2, BASE);
        t.map(&[Region { start: 0x2000_1000, end: 0x2000_2000, access: Access::Data }]).unwrap();
        assert_eq!(t.mapping(0x2000_0000), Mapping::Unmapped);
        assert_eq!(t.mapping(0x2000_2000), Mapping::Unmapped);
    }

    #[test]
    fn a_small_page_has_the_sections_attributes() {
        for access in [
            Access::Code,
            Access::ReadOnly,
            Access::Data,
            Access::CodeAndData,
            Access::Device,
            Access::NoAccess,
        ] {
            let page = Mapping::Page(small_page(0x7010_1000, access));
            let whole = Mapping::Section(section(0x7010_1000, access));
            assert_eq!(page.permissions(), whole.permissions(), "{access:?}");
            assert_eq!(page.memory_type(), whole.memory_type(), "{access:?}");
            if access != Access::NoAccess {
                assert_eq!(small_page(0x7010_1000, access) & !0xfff, 0x7010_1000);
            }
        }
    }

    #[test]
    fn unaligned_regions_and_too_many_split_megabytes_are_refused() {
        let (mut l1, mut l2) = tables();
        let mut t = Map::new(&mut l1, &mut l2, BASE);
        let odd = Region { start: 0x7010_0010, end: 0x7010_2000, access: Access::Data };
        assert_eq!(t.map(&[odd]), Err(MapError::Unaligned(odd)));
        let backwards = Region { start: 0x7010_2000, end: 0x7010_1000, access: Access::Data };
        assert_eq!(t.map(&[backwards]), Err(MapError::Unaligned(backwards)));
        let (mut l1, mut l2) = tables();
        let mut t = Map::new(&mut l1, &mut l2, BASE);
        let pages: std::vec::Vec<Region> = (0..=L2_TABLES)
            .map(|n| Region {
                start: 0x2000_0000 + n * SECTION,
                end: 0x2000_0000 + n * SECTION + PAGE,
                access: Access::Data,
            })
            .collect();
        assert_eq!(t.map(&pages), Err(MapError::OutOfPageTables));
    }

    #[test]
    fn what_the_level_2_tables_held_before_does_not_matter() {
        let mut l1 = Box::new(Level1::new());
        let mut l2 = Box::new(Level2([[0xffff_ffff; L2_ENTRIES]; L2_TABLES]));
        let mut t = Map::new(&mut l1, &mut l2, BASE);
        t.map(&image(0x7010_6000, 0x7010_8a00)).unwrap();
        assert_eq!(t.mapping(0x7010_0000).permissions(), (true, false, true));
        assert_eq!(t.mapping(0x7010_8000).permissions(), (true, true, false));
        assert_eq!(t.mapping(0x701f_f000).permissions(), (true, true, false));
        let mut l1 = Box::new(Level1::new());
        let mut t = Map::new(&mut l1, &mut l2, BASE);
        t.map(&[Region { start: 0x2000_1000, end: 0x2000_2000, access: Access::Data }]).unwrap();
        assert_eq!(t.mapping(0x2000_0000), Mapping::Unmapped);
    }

    #[test]
    fn read_only_data_is_neither_written_nor_run() {
        let (mut l1, mut l2) = tables();
        let mut t = Map::new(&mut l1, &mut l2, BASE);
        let regions = [
            Region { start: 0x7010_0000, end: 0x7800_0000, access: Access::Data },
            Region { start: 0x7010_0000, end: 0x7010_8000, access: Access::ReadOnly },
            Region { start: 0x7010_0000, end: 0x7010_6000, access: Access::Code },
            Region { start: 0x7011_0000, end: 0x7011_5000, access: Access::ReadOnly },
        ];
        t.map(&regions).unwrap();
        assert_eq!(t.mapping(0x7010_5ffc).permissions(), (true, false, true));
        assert_eq!(t.mapping(0x7010_6000).permissions(), (true, false, false));
        assert_eq!(t.mapping(0x7010_8000).permissions(), (true, true, false));
        assert_eq!(t.mapping(0x7011_4ffc).permissions(), (true, false, false));
        assert_eq!(t.mapping(0x7011_5000).permissions(), (true, true, false));
        assert_eq!(t.mapping(0x7011_0000).memory_type(), 0b00111);
    }

    #[test]
    fn a_guard_page_is_not_mapped() {
        let (mut l1, mut l2) = tables();
        let mut t = Map::new(&mut l1, &mut l2, BASE);
        let regions = [
            Region { start: 0x7010_0000, end: 0x7800_0000, access: Access::Data },
            Region { start: 0x7010_e000, end: 0x7010_f000, access: Access::NoAccess },
            Region { start: 0x7030_0000, end: 0x7040_0000, access: Access::NoAccess },
        ];
        t.map(&regions).unwrap();
        assert_eq!(t.mapping(0x7010_dffc).permissions(), (true, true, false));
        assert_eq!(t.mapping(0x7010_e000), Mapping::Unmapped);
        assert_eq!(t.mapping(0x7010_effc), Mapping::Unmapped);
        assert_eq!(t.mapping(0x7010_f000).permissions(), (true, true, false));
        assert_eq!(t.mapping(0x7030_0000), Mapping::Unmapped);
        assert_eq!(t.l1_entry(0x7030_0000), 0);
    }

    #[test]
    fn an_empty_region_maps_nothing() {
        let (mut l1, mut l2) = tables();
        let mut t = Map::new(&mut l1, &mut l2, BASE);
        t.map(&[Region { start: 0x7010_8000, end: 0x7010_8000, access: Access::Code }]).unwrap();
        assert_eq!(t.mapping(0x7010_8000), Mapping::Unmapped);
        assert_eq!(t.page_tables_used(), 0);
    }
}
