//! What real boards load: the formats `cargo xtask flash` writes, and
//! their readers (the tests parse every file back).
//!
//! - [`FlatImage`]: an ELF's loadable bytes flattened from their lowest
//!   address (the raw `.bin`), gaps zero-filled; `.bss` is not in it (the
//!   arch start code zeroes it).
//! - [`uimage`] / [`parse_uimage`]: a U-Boot legacy image (PBX-A9): the
//!   64-byte big-endian header (magic `0x27051956`, header and data CRC-32,
//!   load and entry addresses from the ELF), then the raw binary.
//! - [`bram_image`] / [`mem_file`] / [`parse_mem_file`]: the MicroBlaze V
//!   LMB BRAM contents for Vivado's `updatemem`: a copy loop at the reset
//!   vector that moves the image (stored after it in BRAM) to its DDR
//!   address and jumps to its entry, written as a MEM file.

use std::fmt::Write as _;

use object::{Object, ObjectSegment};

/// The loadable part of an image: where it goes and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatImage {
    /// Load address of the first byte.
    pub base: u64,
    /// Entry point.
    pub entry: u64,
    /// Bytes from `base`, gaps between segments zero-filled.
    pub bytes: Vec<u8>,
}

/// The most bytes a flattened image may span (more than any board's RAM).
const MAX_FLAT: usize = 256 << 20;

/// Flattens loadable segments `(address, file bytes)` into one blob.
pub fn flatten(entry: u64, segments: &[(u64, &[u8])]) -> Result<FlatImage, String> {
    let loaded: Vec<&(u64, &[u8])> = segments.iter().filter(|(_, data)| !data.is_empty()).collect();
    let base = loaded
        .iter()
        .map(|(address, _)| *address)
        .min()
        .ok_or("the image has no loadable bytes")?;
    let end =
        loaded.iter().map(|(address, data)| address + data.len() as u64).max().unwrap_or(base);
    let length = usize::try_from(end - base).map_err(|_| "image too large")?;
    if length > MAX_FLAT {
        return Err(format!("loadable segments span {length} bytes: more than any board's RAM"));
    }
    let mut bytes = vec![0u8; length];
    for (address, data) in loaded {
        let start = (address - base) as usize;
        bytes[start..start + data.len()].copy_from_slice(data);
    }
    Ok(FlatImage { base, entry, bytes })
}

/// Segments as `(address, file bytes)`.
pub type Segments = Vec<(u64, Vec<u8>)>;

/// An ELF's entry and its segments `(address, file bytes)`.
pub fn elf_segments(elf: &[u8]) -> Result<(u64, Segments), String> {
    let file = object::File::parse(elf).map_err(|error| format!("not an ELF image: {error}"))?;
    let mut segments = Vec::new();
    for segment in file.segments() {
        let data = segment.data().map_err(|error| format!("unreadable segment: {error}"))?;
        segments.push((segment.address(), data.to_vec()));
    }
    Ok((file.entry(), segments))
}

/// The end of the image in memory (the highest segment end, `.bss`
/// included).
pub fn elf_memory_end(elf: &[u8]) -> Result<u64, String> {
    let file = object::File::parse(elf).map_err(|error| format!("not an ELF image: {error}"))?;
    file.segments()
        .map(|segment| segment.address() + segment.size())
        .max()
        .ok_or_else(|| "the image has no segments".to_string())
}

impl FlatImage {
    /// The flattened loadable bytes of an ELF image.
    pub fn from_elf(elf: &[u8]) -> Result<Self, String> {
        let (entry, segments) = elf_segments(elf)?;
        let borrowed: Vec<(u64, &[u8])> =
            segments.iter().map(|(address, data)| (*address, data.as_slice())).collect();
        flatten(entry, &borrowed)
    }
}

/// The U-Boot legacy image magic number.
pub const UIMAGE_MAGIC: u32 = 0x2705_1956;
/// Size of the legacy image header.
pub const UIMAGE_HEADER: usize = 64;
/// `IH_OS_U_BOOT`: a program independent of any OS; `bootm` calls its entry
/// directly (U-Boot's standalone boot method, with `autostart` `yes`).
pub const UIMAGE_OS_U_BOOT: u8 = 17;
/// `IH_ARCH_ARM`.
pub const UIMAGE_ARCH_ARM: u8 = 2;
/// `IH_TYPE_KERNEL`.
pub const UIMAGE_TYPE_KERNEL: u8 = 2;
/// `IH_COMP_NONE`.
pub const UIMAGE_COMP_NONE: u8 = 0;
/// Length of the name field (NUL-padded; at most 31 characters kept).
const UIMAGE_NAME: usize = 32;

/// The fields of a legacy image header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UImageHeader {
    /// Creation time (seconds since the epoch).
    pub time: u32,
    /// Length of the data after the header.
    pub size: u32,
    /// Where `bootm` copies the data.
    pub load: u32,
    /// Where `bootm` jumps.
    pub entry: u32,
    /// Operating system code.
    pub os: u8,
    /// CPU architecture code.
    pub arch: u8,
    /// Image type code.
    pub image_type: u8,
    /// Compression code.
    pub compression: u8,
    /// Image name.
    pub name: String,
}

fn to_u32(value: u64, what: &str) -> Result<u32, String> {
    u32::try_from(value)
        .map_err(|_| format!("{what} {value:#x} does not fit a 32-bit uImage field"))
}

/// A U-Boot legacy image of `image` (uncompressed, type kernel, OS
/// "U-Boot", i.e. standalone) for `arch`, named `name`, created at `time`.
pub fn uimage(image: &FlatImage, arch: u8, name: &str, time: u32) -> Result<Vec<u8>, String> {
    let mut header = [0u8; UIMAGE_HEADER];
    let size = to_u32(image.bytes.len() as u64, "image size")?;
    let load = to_u32(image.base, "load address")?;
    let entry = to_u32(image.entry, "entry address")?;
    header[0..4].copy_from_slice(&UIMAGE_MAGIC.to_be_bytes());
    // 4..8: header CRC, computed over the header with this field zero.
    header[8..12].copy_from_slice(&time.to_be_bytes());
    header[12..16].copy_from_slice(&size.to_be_bytes());
    header[16..20].copy_from_slice(&load.to_be_bytes());
    header[20..24].copy_from_slice(&entry.to_be_bytes());
    header[24..28].copy_from_slice(&crc32fast::hash(&image.bytes).to_be_bytes());
    header[28] = UIMAGE_OS_U_BOOT;
    header[29] = arch;
    header[30] = UIMAGE_TYPE_KERNEL;
    header[31] = UIMAGE_COMP_NONE;
    let kept = &name.as_bytes()[..name.len().min(UIMAGE_NAME - 1)];
    header[32..32 + kept.len()].copy_from_slice(kept);
    let header_crc = crc32fast::hash(&header);
    header[4..8].copy_from_slice(&header_crc.to_be_bytes());
    let mut file = header.to_vec();
    file.extend_from_slice(&image.bytes);
    Ok(file)
}

/// Reads a legacy image back and checks it: magic, header CRC, size and
/// data CRC. Returns the header and the data.
pub fn parse_uimage(file: &[u8]) -> Result<(UImageHeader, &[u8]), String> {
    if file.len() < UIMAGE_HEADER {
        return Err(format!("{} bytes: shorter than a uImage header", file.len()));
    }
    let word = |at: usize| u32::from_be_bytes([file[at], file[at + 1], file[at + 2], file[at + 3]]);
    if word(0) != UIMAGE_MAGIC {
        return Err(format!("magic {:#010x}, expected {UIMAGE_MAGIC:#010x}", word(0)));
    }
    let mut header = [0u8; UIMAGE_HEADER];
    header.copy_from_slice(&file[..UIMAGE_HEADER]);
    header[4..8].fill(0);
    let header_crc = crc32fast::hash(&header);
    if header_crc != word(4) {
        return Err(format!("header CRC {:#010x}, computed {header_crc:#010x}", word(4)));
    }
    let size = word(12) as usize;
    let data = &file[UIMAGE_HEADER..];
    if data.len() != size {
        return Err(format!("header says {size} data bytes, the file has {}", data.len()));
    }
    let data_crc = crc32fast::hash(data);
    if data_crc != word(24) {
        return Err(format!("data CRC {:#010x}, computed {data_crc:#010x}", word(24)));
    }
    let name_bytes = &file[32..64];
    let name_end = name_bytes.iter().position(|byte| *byte == 0).unwrap_or(name_bytes.len());
    let parsed = UImageHeader {
        time: word(8),
        size: word(12),
        load: word(16),
        entry: word(20),
        os: file[28],
        arch: file[29],
        image_type: file[30],
        compression: file[31],
        name: String::from_utf8_lossy(&name_bytes[..name_end]).into_owned(),
    };
    Ok((parsed, data))
}

/// Where a MicroBlaze V design's LMB BRAM sits and how large it is, as
/// Ferrode's MicroBlaze V platform assumes (`linker/microblaze-v.x`: the
/// 128 KiB at 0x0 that images leave free). The reset vector is its base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bram {
    /// First address (the core's reset vector, `C_BASE_VECTORS`).
    pub base: u32,
    /// Size in bytes.
    pub size: u32,
}

/// The MicroBlaze V BRAM of Ferrode's reference design.
pub const MICROBLAZE_V_BRAM: Bram = Bram { base: 0, size: 128 << 10 };

/// BRAM contents that boot `image`: a copy loop at the reset vector, and
/// the image (padded to whole words) from `payload` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BramImage {
    /// Address of the first byte (the BRAM base).
    pub base: u32,
    /// Offset of the image's first byte from `base`.
    pub payload: u32,
    /// Everything from `base`.
    pub bytes: Vec<u8>,
}

/// Where the image starts in BRAM, after the copy loop.
const BRAM_PAYLOAD: u32 = 0x40;

// RV32I encodings of the few instructions the copy loop uses.
const T0: u32 = 5;
const T1: u32 = 6;
const T2: u32 = 7;
const T3: u32 = 28;

fn lui(rd: u32, upper: u32) -> u32 {
    (upper << 12) | (rd << 7) | 0x37
}
fn i_type(opcode: u32, funct3: u32, rd: u32, rs1: u32, immediate: i32) -> u32 {
    ((immediate as u32 & 0xfff) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode
}
fn addi(rd: u32, rs1: u32, immediate: i32) -> u32 {
    i_type(0x13, 0, rd, rs1, immediate)
}
fn lw(rd: u32, rs1: u32, offset: i32) -> u32 {
    i_type(0x03, 2, rd, rs1, offset)
}
fn jalr(rd: u32, rs1: u32, offset: i32) -> u32 {
    i_type(0x67, 0, rd, rs1, offset)
}
fn sw(rs2: u32, rs1: u32, offset: i32) -> u32 {
    let offset = offset as u32;
    ((offset >> 5 & 0x7f) << 25)
        | (rs2 << 20)
        | (rs1 << 15)
        | (2 << 12)
        | ((offset & 0x1f) << 7)
        | 0x23
}
fn bltu(rs1: u32, rs2: u32, offset: i32) -> u32 {
    let o = offset as u32;
    ((o >> 12 & 1) << 31)
        | ((o >> 5 & 0x3f) << 25)
        | (rs2 << 20)
        | (rs1 << 15)
        | (6 << 12)
        | ((o >> 1 & 0xf) << 8)
        | ((o >> 11 & 1) << 7)
        | 0x63
}
/// `fence iorw, iorw`: the copied words reach memory before the jump.
const FENCE: u32 = 0x0ff0_000f;

/// `lui` + `addi` loading `value` into `rd`.
fn load_constant(rd: u32, value: u32) -> [u32; 2] {
    let upper = value.wrapping_add(0x800) >> 12;
    let lower = value.wrapping_sub(upper << 12) as i32;
    [lui(rd, upper & 0xf_ffff), addi(rd, rd, lower)]
}

/// The BRAM contents that copy `image` to its address and start it.
pub fn bram_image(image: &FlatImage, bram: Bram) -> Result<BramImage, String> {
    let base = to_u32(image.base, "load address")?;
    let entry = to_u32(image.entry, "entry address")?;
    let bram_end = bram.base as u64 + bram.size as u64;
    if image.base < bram_end && image.base + image.bytes.len() as u64 > bram.base as u64 {
        return Err(format!("the image at {base:#x} overlaps the BRAM it would be copied from"));
    }
    let mut payload = image.bytes.clone();
    payload.resize(image.bytes.len().div_ceil(4) * 4, 0);
    let capacity = (bram.size - BRAM_PAYLOAD) as usize;
    if payload.len() > capacity {
        return Err(format!(
            "the image has {} loadable bytes; the {} KiB BRAM holds {capacity} after the copy loop",
            image.bytes.len(),
            bram.size >> 10
        ));
    }
    let source = bram.base + BRAM_PAYLOAD;
    let source_end = source + payload.len() as u32;
    let mut code = Vec::new();
    code.extend(load_constant(T0, source));
    code.extend(load_constant(T1, base));
    code.extend(load_constant(T2, source_end));
    // loop: *t1++ = *t0++ while t0 < t2
    code.extend([
        lw(T3, T0, 0),
        sw(T3, T1, 0),
        addi(T0, T0, 4),
        addi(T1, T1, 4),
        bltu(T0, T2, -16),
    ]);
    code.push(FENCE);
    let upper = entry.wrapping_add(0x800) >> 12;
    code.push(lui(T0, upper & 0xf_ffff));
    code.push(jalr(0, T0, entry.wrapping_sub(upper << 12) as i32));
    let mut bytes: Vec<u8> = code.iter().flat_map(|word| word.to_le_bytes()).collect();
    assert!(bytes.len() <= BRAM_PAYLOAD as usize, "copy loop larger than its room");
    bytes.resize(BRAM_PAYLOAD as usize, 0);
    bytes.extend_from_slice(&payload);
    Ok(BramImage { base: bram.base, payload: BRAM_PAYLOAD, bytes })
}

/// Words per line of a MEM file.
const MEM_WORDS_PER_LINE: usize = 8;

/// A MEM file for `updatemem`: an `@` line with the byte address (eight
/// hex digits, no `0x`), then the memory as 32-bit words, each written as
/// the value the (little-endian) core reads at its address, eight hex
/// digits, eight words a line. `bytes` is padded to whole words.
pub fn mem_file(base: u32, bytes: &[u8]) -> Result<String, String> {
    if !base.is_multiple_of(4) {
        return Err(format!("MEM file base {base:#x} is not word-aligned"));
    }
    let mut text = format!("@{base:08X}\n");
    let words: Vec<u32> = bytes
        .chunks(4)
        .map(|chunk| {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            u32::from_le_bytes(word)
        })
        .collect();
    for line in words.chunks(MEM_WORDS_PER_LINE) {
        let shown: Vec<String> = line.iter().map(|word| format!("{word:08X}")).collect();
        let _ = writeln!(text, "{}", shown.join(" "));
    }
    Ok(text)
}

/// One contiguous block of a MEM file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemBlock {
    /// Byte address of its first word.
    pub address: u32,
    /// Its bytes, in address order.
    pub bytes: Vec<u8>,
}

/// Reads a MEM file as [`mem_file`] writes it, strictly: `@` and eight hex
/// digits for a word-aligned address, data values of exactly eight hex
/// digits (no `0x`), at least one value after each address, nothing else.
pub fn parse_mem_file(text: &str) -> Result<Vec<MemBlock>, String> {
    let mut blocks: Vec<MemBlock> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let at = |message: String| format!("line {}: {message}", number + 1);
        for token in line.split_whitespace() {
            let is_hex8 =
                |digits: &str| digits.len() == 8 && digits.chars().all(|c| c.is_ascii_hexdigit());
            if let Some(address) = token.strip_prefix('@') {
                if !is_hex8(address) {
                    return Err(at(format!("bad address {token:?}")));
                }
                let address = u32::from_str_radix(address, 16).map_err(|e| at(e.to_string()))?;
                if !address.is_multiple_of(4) {
                    return Err(at(format!("address {address:#x} is not word-aligned")));
                }
                if blocks.last().is_some_and(|block| block.bytes.is_empty()) {
                    return Err(at("an address without data before it".into()));
                }
                blocks.push(MemBlock { address, bytes: Vec::new() });
            } else {
                if !is_hex8(token) {
                    return Err(at(format!("bad data value {token:?}")));
                }
                let block =
                    blocks.last_mut().ok_or_else(|| at("data before any address".into()))?;
                let word = u32::from_str_radix(token, 16).map_err(|e| at(e.to_string()))?;
                block.bytes.extend_from_slice(&word.to_le_bytes());
            }
        }
    }
    match blocks.last() {
        None => Err("no data".into()),
        Some(block) if block.bytes.is_empty() => Err("the last address has no data".into()),
        Some(_) => Ok(blocks),
    }
}

/// A free RAM address above the image (its `.bss` included) where U-Boot
/// can receive the uImage before `bootm` copies it to its load address:
/// the next MiB boundary plus one MiB.
pub fn uboot_buffer(memory_end: u64) -> u64 {
    (memory_end.div_ceil(1 << 20) + 1) << 20
}

/// The U-Boot commands that fetch `file` over TFTP into `buffer`, check it
/// (`iminfo`) and boot it (`bootm`, which copies the data to the load
/// address and, for a standalone image with `autostart` `yes`, calls the
/// entry). `serverip`: the TFTP server, if known.
pub fn uboot_commands(file: &str, buffer: u64, serverip: Option<&str>) -> Vec<String> {
    let mut commands = Vec::new();
    if let Some(server) = serverip {
        commands.push(format!("setenv serverip {server}"));
    }
    commands.extend([
        // Only load: with autostart "yes", tftpboot would boot at once.
        "setenv autostart no".to_string(),
        format!("tftpboot {buffer:#x} {file}"),
        format!("iminfo {buffer:#x}"),
        // Ferrode sets up the CPU itself; U-Boot's MMU and caches go.
        "dcache off".to_string(),
        "icache off".to_string(),
        // bootm starts a standalone image only with autostart "yes".
        "setenv autostart yes".to_string(),
        format!("bootm {buffer:#x}"),
    ]);
    commands
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_flattened_with_gaps_zeroed() {
        let text = [1u8, 2, 3, 4];
        let data = [9u8, 9];
        let image =
            flatten(0x7010_0000, &[(0x7010_0008, &data), (0x7010_0000, &text), (0x7020_0000, &[])])
                .unwrap();
        assert_eq!(image.base, 0x7010_0000);
        assert_eq!(image.bytes, [1, 2, 3, 4, 0, 0, 0, 0, 9, 9]);
        assert!(flatten(0, &[]).is_err());
    }

    fn sample() -> FlatImage {
        FlatImage { base: 0x7010_0000, entry: 0x7010_0004, bytes: (0..=200u8).collect() }
    }

    #[test]
    fn a_uimage_reads_back_and_a_flipped_bit_is_caught() {
        let file = uimage(&sample(), UIMAGE_ARCH_ARM, "Ferrode hello realview-pbx-a9", 7).unwrap();
        assert_eq!(file.len(), 64 + 201);
        let (header, data) = parse_uimage(&file).unwrap();
        assert_eq!(data, sample().bytes.as_slice());
        assert_eq!(
            (header.load, header.entry, header.size, header.time),
            (0x7010_0000, 0x7010_0004, 201, 7)
        );
        assert_eq!((header.os, header.arch, header.image_type, header.compression), (17, 2, 2, 0));
        assert_eq!(header.name, "Ferrode hello realview-pbx-a9");
        // A known vector: the CRC-32 of "123456789" is 0xcbf43926.
        assert_eq!(crc32fast::hash(b"123456789"), 0xcbf4_3926);
        for (at, what) in [(0, "magic"), (20, "header CRC"), (100, "data CRC")] {
            let mut bad = file.clone();
            bad[at] ^= 1;
            let error = parse_uimage(&bad).unwrap_err();
            assert!(error.contains(what), "{at}: {error}");
        }
        assert!(parse_uimage(&file[..70]).unwrap_err().contains("data bytes"));
        let long = "x".repeat(40);
        let (header, _) = parse_uimage(&uimage(&sample(), 2, &long, 0).unwrap()).unwrap();
        assert_eq!(header.name.len(), 31);
        let high = FlatImage { base: 1 << 32, ..sample() };
        assert!(uimage(&high, 2, "x", 0).is_err());
    }

    #[test]
    fn a_mem_file_reads_back_word_for_word() {
        let bytes: Vec<u8> = (1..=37u8).collect();
        let text = mem_file(0x100, &bytes).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("@00000100"));
        assert_eq!(lines.next().unwrap().split(' ').next(), Some("04030201"));
        let blocks = parse_mem_file(&text).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].address, 0x100);
        assert_eq!(&blocks[0].bytes[..37], bytes.as_slice());
        assert_eq!(blocks[0].bytes[37..], [0, 0, 0]);
        for bad in [
            "0x12345678",
            "@0x000000\n00",
            "00000000",
            "@00000002\n00000000",
            "@00000000",
            "@00000000\n123",
        ] {
            assert!(parse_mem_file(bad).is_err(), "{bad:?}");
        }
        assert!(mem_file(2, &bytes).is_err());
    }

    #[test]
    fn the_bram_copy_loop_is_what_an_assembler_writes() {
        let image = FlatImage { base: 0x8000_0000, entry: 0x8000_0010, bytes: vec![0xaa; 10] };
        let bram = bram_image(&image, MICROBLAZE_V_BRAM).unwrap();
        let word = |i: usize| u32::from_le_bytes(bram.bytes[i * 4..i * 4 + 4].try_into().unwrap());
        // Reference encodings from the RISC-V spec's formats, checked by hand:
        assert_eq!(word(0), 0x0000_02b7); // lui t0, 0x0
        assert_eq!(word(1), 0x0402_8293); // addi t0, t0, 64
        assert_eq!(word(2), 0x8000_0337); // lui t1, 0x80000
        assert_eq!(word(3), 0x0003_0313); // addi t1, t1, 0
        assert_eq!(word(5), 0x04c3_8393); // addi t2, t2, 76 (64 + 12 padded bytes)
        assert_eq!(word(6), 0x0002_ae03); // lw t3, 0(t0)
        assert_eq!(word(7), 0x01c3_2023); // sw t3, 0(t1)
        assert_eq!(word(10), 0xfe72_e8e3); // bltu t0, t2, -16
        assert_eq!(word(13), 0x0102_8067); // jalr x0, 16(t0)
        assert_eq!(bram.payload, 0x40);
        assert_eq!(&bram.bytes[0x40..0x4a], &[0xaa; 10]);
        assert_eq!(bram.bytes.len(), 0x40 + 12);
        // An entry whose low half is negative as a 12-bit immediate.
        let image = FlatImage { base: 0x8000_0000, entry: 0x8000_0ffc, bytes: vec![1; 4] };
        let bram = bram_image(&image, MICROBLAZE_V_BRAM).unwrap();
        let word = |i: usize| u32::from_le_bytes(bram.bytes[i * 4..i * 4 + 4].try_into().unwrap());
        assert_eq!(word(12), 0x8000_12b7); // lui t0, 0x80001
        assert_eq!(word(13), 0xffc2_8067); // jalr x0, -4(t0)
        let huge = FlatImage { base: 0x8000_0000, entry: 0, bytes: vec![0; 128 << 10] };
        assert!(bram_image(&huge, MICROBLAZE_V_BRAM).unwrap_err().contains("BRAM holds"));
        let inside = FlatImage { base: 0x100, entry: 0x100, bytes: vec![0; 4] };
        assert!(bram_image(&inside, MICROBLAZE_V_BRAM).is_err());
    }

    #[test]
    fn uboot_loads_above_the_image_and_boots_with_autostart() {
        assert_eq!(uboot_buffer(0x7012_0000), 0x7030_0000);
        assert_eq!(uboot_buffer(0x7020_0000), 0x7030_0000);
        let commands = uboot_commands("hello.uimg", 0x7030_0000, Some("10.0.0.1"));
        assert_eq!(commands[0], "setenv serverip 10.0.0.1");
        assert!(commands.contains(&"tftpboot 0x70300000 hello.uimg".to_string()));
        assert_eq!(commands.last().unwrap(), "bootm 0x70300000");
        let yes = commands.iter().position(|c| c == "setenv autostart yes").unwrap();
        let tftp = commands.iter().position(|c| c.starts_with("tftpboot")).unwrap();
        assert!(tftp < yes);
        assert!(!uboot_commands("x", 0, None).iter().any(|c| c.contains("serverip")));
    }
}
