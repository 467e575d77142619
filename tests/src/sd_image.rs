//! SD card images: a file whose blocks are a card's, as QEMU's
//! `-drive if=sd,format=raw` takes it (its size a power of two).
//!
//! [`fat_card`] makes a card as one comes from a shop, which is what
//! embedded-sdmmc opens: an MBR whose first partition holds a FAT16 file
//! system, here with the files a case puts on it. [`read_fat_file`] reads
//! a file back after the run. [`card_from_dir`], [`list`] and
//! [`parse_card_size`] are `cargo xtask sd-image`'s: a card from a
//! directory of the host, and what is on one.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Bytes per block.
pub const BLOCK: u64 = 512;

/// The first partition's first block (1 MiB in, as partitioning tools
/// align it).
pub const PARTITION_START: u64 = 2048;

/// MBR partition type of a FAT16 file system addressed by LBA.
const FAT16_LBA: u8 = 0x0e;
/// MBR partition type of a FAT32 file system addressed by LBA.
const FAT32_LBA: u8 = 0x0c;
/// Cards from this size on get FAT32 (FAT16 reaches 2 GiB at most, with
/// 32 KiB clusters), smaller ones FAT16 (FAT32 needs 65,525 clusters).
const FAT32_FROM: u64 = 512 << 20;

/// Writes a card of `bytes` bytes (a power of two, at least 4 MiB) to
/// `path`: an MBR with one FAT16 partition from [`PARTITION_START`] to the
/// end, labelled `label`, holding `files` (name and contents) in its root
/// directory.
pub fn fat_card(path: &Path, bytes: u64, label: &str, files: &[(&str, &[u8])]) -> io::Result<()> {
    if bytes >= FAT32_FROM {
        return Err(invalid(format!("{bytes} bytes: a FAT16 card is smaller than {FAT32_FROM}")));
    }
    let fs = format_card(path, bytes, label)?;
    for (name, contents) in files {
        fs.root_dir().create_file(name)?.write_all(contents)?;
    }
    fs.unmount()
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Writes an empty card of `bytes` bytes (a power of two, at least
/// 4 MiB) to `path`: an MBR with one FAT partition from
/// [`PARTITION_START`] to the end, labelled `label`, FAT16 below
/// [`FAT32_FROM`] and FAT32 from there on; the file system, mounted.
fn format_card(path: &Path, bytes: u64, label: &str) -> io::Result<fatfs::FileSystem<Partition>> {
    if !card_size(bytes) {
        return Err(invalid(format!(
            "{bytes} bytes: a card image must be a power of two from 4 MiB to 1 TiB"
        )));
    }
    let mut file = File::options().read(true).write(true).create(true).truncate(true).open(path)?;
    file.set_len(bytes)?;
    let blocks = bytes / BLOCK - PARTITION_START;
    let (fat, kind) = if bytes >= FAT32_FROM {
        (fatfs::FatType::Fat32, FAT32_LBA)
    } else {
        (fatfs::FatType::Fat16, FAT16_LBA)
    };
    file.write_all(&mbr(PARTITION_START as u32, blocks as u32, kind))?;
    let mut name = [b' '; 11];
    for (to, from) in name.iter_mut().zip(label.bytes()) {
        *to = from.to_ascii_uppercase();
    }
    let mut partition = Partition::new(file, PARTITION_START * BLOCK, blocks * BLOCK);
    fatfs::format_volume(
        &mut partition,
        fatfs::FormatVolumeOptions::new().fat_type(fat).volume_label(name),
    )?;
    fatfs::FileSystem::new(partition, fatfs::FsOptions::new())
}

/// Whether a card of `bytes` bytes can be made: a power of two (QEMU
/// takes no other size) from 4 MiB (the partition starts at 1 MiB) to
/// 1 TiB.
fn card_size(bytes: u64) -> bool {
    bytes.is_power_of_two() && (4 << 20..=1 << 40).contains(&bytes)
}

/// A card size as `cargo xtask sd-image create --size` takes it: a whole
/// number of bytes, or of KiB, MiB or GiB with `K`, `M` or `G` (either
/// case), a power of two from 4 MiB on (QEMU takes no other size).
pub fn parse_card_size(text: &str) -> Result<u64, String> {
    let (digits, unit) = match text.char_indices().last() {
        Some((at, 'k' | 'K')) => (&text[..at], 1u64 << 10),
        Some((at, 'm' | 'M')) => (&text[..at], 1 << 20),
        Some((at, 'g' | 'G')) => (&text[..at], 1 << 30),
        _ => (text, 1),
    };
    let bytes = digits
        .parse::<u64>()
        .ok()
        .filter(|_| digits.bytes().all(|byte| byte.is_ascii_digit()))
        .and_then(|count| count.checked_mul(unit))
        .ok_or_else(|| {
            format!("`{text}` is not a size: give bytes, or a number and K, M or G (8M, 1G)")
        })?;
    if !card_size(bytes) {
        return Err(format!(
            "`{text}`: an SD card image is a power of two bytes from 4M to 1024G (QEMU takes no other), e.g. 8M or 1G"
        ));
    }
    Ok(bytes)
}

/// The FAT short name (8.3, upper case) a host file name is written as,
/// or `None` if it has none: 1 to 8 characters, then optionally a dot
/// and 1 to 3 more, each a letter, a digit or one of `!#$%&'()-@^_`{}~`.
/// Ferrode's FAT driver (embedded-sdmmc) reads short names only.
pub fn short_name(name: &str) -> Option<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "!#$%&'()-@^_`{}~".contains(c);
    let (base, extension) = match name.split_once('.') {
        Some((base, extension)) => (base, Some(extension)),
        None => (name, None),
    };
    let fits = (1..=8).contains(&base.len())
        && extension.is_none_or(|extension| (1..=3).contains(&extension.len()))
        && base.chars().chain(extension.unwrap_or_default().chars()).all(allowed);
    fits.then(|| name.to_ascii_uppercase())
}

/// What [`card_from_dir`] put on a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Made {
    /// `FAT16` or `FAT32`.
    pub fat: &'static str,
    /// Files copied.
    pub files: usize,
    /// Directories made.
    pub directories: usize,
    /// Bytes of the files.
    pub bytes: u64,
}

/// Writes a card of `bytes` bytes to `path` (a power of two from 4 MiB to
/// 1 TiB: an MBR and one FAT partition from 1 MiB on, FAT16 below 512 MiB
/// and FAT32 from there on, labelled `label`) holding
/// what directory `from` holds, directories and files (symbolic links
/// followed), under their short names ([`short_name`]); a name without
/// one, or two that are one on the card, is an error that names it.
pub fn card_from_dir(
    path: &Path,
    bytes: u64,
    label: &str,
    from: Option<&Path>,
) -> io::Result<Made> {
    let fs = format_card(path, bytes, label)?;
    let fat = if bytes >= FAT32_FROM { "FAT32" } else { "FAT16" };
    let mut made = Made { fat, files: 0, directories: 0, bytes: 0 };
    if let Some(from) = from {
        copy_dir(from, &fs.root_dir(), "", &mut made)?;
    }
    fs.unmount()?;
    Ok(made)
}

fn copy_dir(
    from: &Path,
    to: &fatfs::Dir<'_, Partition>,
    at: &str,
    made: &mut Made,
) -> io::Result<()> {
    let mut entries = std::fs::read_dir(from)?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    let mut taken = std::collections::BTreeSet::new();
    for entry in entries {
        let host = entry.path();
        let name = entry.file_name();
        let short = name.to_str().and_then(short_name).ok_or_else(|| {
            invalid(format!(
                "{}: not an 8.3 name (1 to 8 characters, a dot and 1 to 3 more: letters, digits \
                 and !#$%&'()-@^_`{{}}~); Ferrode's FAT driver reads short names only, rename it",
                host.display()
            ))
        })?;
        if !taken.insert(short.clone()) {
            return Err(invalid(format!(
                "{}: another name in {} is {short} on the card too (FAT names have one case)",
                host.display(),
                from.display()
            )));
        }
        let inside = format!("{at}{short}");
        if std::fs::metadata(&host)?.is_dir() {
            let dir = to.create_dir(&short)?;
            made.directories += 1;
            copy_dir(&host, &dir, &format!("{inside}/"), made)?;
        } else {
            let mut file = to.create_file(&short)?;
            made.bytes += io::copy(&mut File::open(&host)?, &mut file)?;
            made.files += 1;
        }
    }
    Ok(())
}

/// What a card image holds, depth first: each file's and directory's
/// path on the card (`LOGS/DAY1.TXT`), whether it is a directory, and
/// the file's size.
pub fn list(path: &Path) -> io::Result<Vec<(String, bool, u64)>> {
    fn walk(
        dir: &fatfs::Dir<'_, Partition>,
        at: &str,
        out: &mut Vec<(String, bool, u64)>,
    ) -> io::Result<()> {
        for entry in dir.iter() {
            let entry = entry?;
            let name = entry.file_name();
            if name == "." || name == ".." {
                continue;
            }
            let path = format!("{at}{name}");
            if entry.is_dir() {
                out.push((path.clone(), true, 0));
                walk(&entry.to_dir(), &format!("{path}/"), out)?;
            } else {
                out.push((path, false, entry.len()));
            }
        }
        Ok(())
    }
    let fs = open_fat(path)?;
    let mut out = Vec::new();
    walk(&fs.root_dir(), "", &mut out)?;
    Ok(out)
}

/// The contents of `name` in the root directory of the first partition
/// of the card image at `path`.
pub fn read_fat_file(path: &Path, name: &str) -> io::Result<Vec<u8>> {
    let fs = open_fat(path)?;
    let mut contents = Vec::new();
    fs.root_dir().open_file(name)?.read_to_end(&mut contents)?;
    Ok(contents)
}

/// The file system in the first partition of the card image at `path`.
fn open_fat(path: &Path) -> io::Result<fatfs::FileSystem<Partition>> {
    let mut file = File::open(path)?;
    let mut mbr = [0u8; BLOCK as usize];
    file.read_exact(&mut mbr)?;
    let entry = &mbr[446..462];
    let word =
        |at: usize| u32::from_le_bytes([entry[at], entry[at + 1], entry[at + 2], entry[at + 3]]);
    let (start, blocks) = (u64::from(word(8)), u64::from(word(12)));
    if mbr[510..] != [0x55, 0xaa] || blocks == 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "no MBR with a first partition"));
    }
    let partition = Partition::new(file, start * BLOCK, blocks * BLOCK);
    fatfs::FileSystem::new(partition, fatfs::FsOptions::new())
}

/// An MBR with one partition of type `kind` ([`FAT16_LBA`],
/// [`FAT32_LBA`]) of `blocks` blocks from block `start` on (its CHS fields
/// say "use the LBA").
fn mbr(start: u32, blocks: u32, kind: u8) -> [u8; BLOCK as usize] {
    let mut mbr = [0u8; BLOCK as usize];
    let entry = &mut mbr[446..462];
    entry[1..4].copy_from_slice(&[0xfe, 0xff, 0xff]);
    entry[4] = kind;
    entry[5..8].copy_from_slice(&[0xfe, 0xff, 0xff]);
    entry[8..12].copy_from_slice(&start.to_le_bytes());
    entry[12..16].copy_from_slice(&blocks.to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    mbr
}

/// A window of a file: the bytes from `base` on, `length` of them, as a
/// stream of their own (the file system's view of its partition).
struct Partition {
    file: File,
    base: u64,
    length: u64,
    position: u64,
}

impl Partition {
    fn new(file: File, base: u64, length: u64) -> Self {
        Self { file, base, length, position: 0 }
    }

    /// How many of `wanted` bytes from the position lie in the window.
    fn room(&self, wanted: usize) -> usize {
        wanted.min(self.length.saturating_sub(self.position) as usize)
    }
}

impl Read for Partition {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let count = self.room(buffer.len());
        self.file.seek(SeekFrom::Start(self.base + self.position))?;
        let count = self.file.read(&mut buffer[..count])?;
        self.position += count as u64;
        Ok(count)
    }
}

impl Write for Partition {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        let count = self.room(buffer.len());
        if count == 0 && !buffer.is_empty() {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "past the partition's end"));
        }
        self.file.seek(SeekFrom::Start(self.base + self.position))?;
        let count = self.file.write(&buffer[..count])?;
        self.position += count as u64;
        Ok(count)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Seek for Partition {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let position = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
            SeekFrom::End(delta) => self.length.checked_add_signed(delta),
        };
        match position {
            Some(position) if position <= self.length => {
                self.position = position;
                Ok(position)
            }
            _ => Err(io::Error::new(io::ErrorKind::InvalidInput, "outside the partition")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("ferrode-sd-image-{}-{name}.img", std::process::id()))
    }

    #[test]
    fn a_fat_card_holds_its_files_in_its_first_partition() {
        let path = scratch("card");
        fat_card(&path, 8 << 20, "ferrode", &[("README.TXT", b"hello\n"), ("B.BIN", &[7; 3000])])
            .unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 8 << 20);
        let image = std::fs::read(&path).unwrap();
        // The MBR: one FAT16 (LBA) partition from 1 MiB to the end.
        assert_eq!(image[510..512], [0x55, 0xaa]);
        assert_eq!(image[446 + 4], FAT16_LBA);
        assert_eq!(image[446 + 8..446 + 12], 2048u32.to_le_bytes());
        assert_eq!(image[446 + 12..446 + 16], (16384u32 - 2048).to_le_bytes());
        // The partition's boot sector, where the MBR says, is a FAT16 one.
        let boot = &image[2048 * 512..2049 * 512];
        assert_eq!(boot[510..512], [0x55, 0xaa]);
        assert_eq!(&boot[54..62], b"FAT16   ");
        assert_eq!(&boot[43..54], b"FERRODE    ");
        assert_eq!(read_fat_file(&path, "README.TXT").unwrap(), b"hello\n");
        assert_eq!(read_fat_file(&path, "B.BIN").unwrap(), [7; 3000]);
        assert!(read_fat_file(&path, "NONE.TXT").is_err());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_card_from_a_directory_holds_its_tree_under_short_names() {
        let from = std::env::temp_dir().join(format!("ferrode-sd-from-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&from);
        std::fs::create_dir_all(from.join("logs/old")).unwrap();
        std::fs::write(from.join("config.txt"), "rate=10\n").unwrap();
        std::fs::write(from.join("logs/day1.txt"), [b'x'; 1500]).unwrap();
        std::fs::write(from.join("logs/old/A"), "").unwrap();
        let path = scratch("from");
        let made = card_from_dir(&path, 16 << 20, "data", Some(&from)).unwrap();
        assert_eq!(made, Made { fat: "FAT16", files: 3, directories: 2, bytes: 1508 });
        assert_eq!(
            list(&path).unwrap(),
            [
                ("CONFIG.TXT".to_string(), false, 8),
                ("LOGS".to_string(), true, 0),
                ("LOGS/DAY1.TXT".to_string(), false, 1500),
                ("LOGS/OLD".to_string(), true, 0),
                ("LOGS/OLD/A".to_string(), false, 0),
            ]
        );
        assert_eq!(read_fat_file(&path, "LOGS/DAY1.TXT").unwrap(), [b'x'; 1500]);
        // A long name, and two names that are one on the card, refused
        // with the host path.
        std::fs::write(from.join("a-long-name.json"), "{}").unwrap();
        let error = card_from_dir(&path, 16 << 20, "data", Some(&from)).unwrap_err();
        assert!(error.to_string().contains("a-long-name.json: not an 8.3 name"), "{error}");
        std::fs::remove_file(from.join("a-long-name.json")).unwrap();
        std::fs::write(from.join("CONFIG.TXT"), "").unwrap();
        let error = card_from_dir(&path, 16 << 20, "data", Some(&from)).unwrap_err();
        assert!(error.to_string().contains("is CONFIG.TXT on the card too"), "{error}");
        // Without files: an empty card.
        let made = card_from_dir(&path, 4 << 20, "x", None).unwrap();
        assert_eq!((made.files, made.directories), (0, 0));
        assert!(list(&path).unwrap().is_empty());
        std::fs::remove_dir_all(&from).unwrap();
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_large_card_is_fat32() {
        let path = scratch("fat32");
        let made = card_from_dir(&path, 1 << 30, "big", None).unwrap();
        assert_eq!(made.fat, "FAT32");
        let mut mbr = [0u8; 512];
        File::open(&path).unwrap().read_exact(&mut mbr).unwrap();
        assert_eq!(mbr[446 + 4], FAT32_LBA);
        assert!(list(&path).unwrap().is_empty());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn short_names_are_fat_8_3_names() {
        for (name, short) in [
            ("readme.txt", "README.TXT"),
            ("A", "A"),
            ("LOG_2026.CSV", "LOG_2026.CSV"),
            ("x~1.{}", "X~1.{}"),
        ] {
            assert_eq!(short_name(name).as_deref(), Some(short), "{name}");
        }
        for name in
            ["", ".txt", "a.", "toolongname.txt", "a.json", "a b.txt", "a.b.c", "ä.txt", "a+b"]
        {
            assert_eq!(short_name(name), None, "{name:?}");
        }
    }

    #[test]
    fn card_sizes_are_powers_of_two_from_4_mib() {
        assert_eq!(parse_card_size("8M"), Ok(8 << 20));
        assert_eq!(parse_card_size("1g"), Ok(1 << 30));
        assert_eq!(parse_card_size("4096k"), Ok(4 << 20));
        assert_eq!(parse_card_size("4194304"), Ok(4 << 20));
        for bad in ["", "M", "8", "2M", "12M", "-8M", "+8M", "8T", "99999999999999999999G", "2048G"]
        {
            assert!(parse_card_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cards_of_other_sizes_are_refused() {
        let path = scratch("bad");
        for bytes in [3 << 20, 2 << 20, (8 << 20) + 512] {
            assert!(fat_card(&path, bytes, "x", &[]).is_err(), "{bytes}");
        }
        let _ = std::fs::remove_file(&path);
        // Not an MBR.
        std::fs::write(&path, [0u8; 4096]).unwrap();
        assert!(read_fat_file(&path, "README.TXT").is_err());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_partition_window_keeps_to_its_bytes() {
        let path = scratch("window");
        std::fs::write(&path, [0u8; 64]).unwrap();
        let file = File::options().read(true).write(true).open(&path).unwrap();
        let mut window = Partition::new(file, 16, 32);
        assert_eq!(window.seek(SeekFrom::End(-4)).unwrap(), 28);
        assert_eq!(window.write(&[1; 10]).unwrap(), 4);
        assert!(window.write(&[1]).is_err());
        assert!(window.seek(SeekFrom::Start(33)).is_err());
        assert!(window.seek(SeekFrom::Current(-40)).is_err());
        window.seek(SeekFrom::Start(0)).unwrap();
        window.write_all(&[2; 3]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes[..16], [0; 16]);
        assert_eq!(bytes[16..19], [2; 3]);
        assert_eq!(bytes[44..48], [1; 4]);
        assert_eq!(bytes[48..], [0; 16]);
        std::fs::remove_file(&path).unwrap();
    }
}
