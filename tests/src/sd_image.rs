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
use std::time::{SystemTime, UNIX_EPOCH};

use ferrode_hal::CivilTime;

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
/// end, labelled `label`, holding `files` (path and contents; a path's
/// directories are made as needed). Each name is written as fatfs writes
/// it: as a long name, with a short one (8.3) made up beside it.
pub fn fat_card(path: &Path, bytes: u64, label: &str, files: &[(&str, &[u8])]) -> io::Result<()> {
    if bytes >= FAT32_FROM {
        return Err(invalid(format!("{bytes} bytes: a FAT16 card is smaller than {FAT32_FROM}")));
    }
    put_files(format_card(path, bytes, label, None)?, files)
}

/// As [`fat_card`], with a FAT32 file system of 512-byte clusters, which
/// takes FAT32 from 64 MiB on (a card of its own, from 512 MiB on, gets
/// larger clusters): FAT32 a test can afford to read whole.
pub fn fat32_card(path: &Path, bytes: u64, label: &str, files: &[(&str, &[u8])]) -> io::Result<()> {
    put_files(format_card(path, bytes, label, Some(512))?, files)
}

/// Writes `files` (paths and contents) into `fs` and unmounts it.
fn put_files(fs: fatfs::FileSystem<Partition>, files: &[(&str, &[u8])]) -> io::Result<()> {
    for (name, contents) in files {
        let (parents, name) = name.rsplit_once('/').unwrap_or(("", name));
        let mut dir = fs.root_dir();
        for parent in parents.split('/').filter(|parent| !parent.is_empty()) {
            dir = dir.create_dir(parent)?;
        }
        dir.create_file(name)?.write_all(contents)?;
    }
    unmount_counted(fs)
}

/// Unmounts `fs` with FAT32's count of free clusters in its FSInfo sector,
/// as a computer's formatter leaves it (fatfs, left alone, leaves it
/// unknown): the count a FAT implementation that keeps one (embedded-
/// sdmmc) starts from.
fn unmount_counted(fs: fatfs::FileSystem<Partition>) -> io::Result<()> {
    fs.stats()?;
    fs.unmount()
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Writes an empty card of `bytes` bytes (a power of two, at least
/// 4 MiB) to `path`: an MBR with one FAT partition from
/// [`PARTITION_START`] to the end, labelled `label`, FAT16 below
/// [`FAT32_FROM`] and FAT32 from there on, or FAT32 with clusters of
/// `fat32_cluster` bytes; the file system, mounted.
fn format_card(
    path: &Path,
    bytes: u64,
    label: &str,
    fat32_cluster: Option<u32>,
) -> io::Result<fatfs::FileSystem<Partition>> {
    if !card_size(bytes) {
        return Err(invalid(format!(
            "{bytes} bytes: a card image must be a power of two from 4 MiB to 1 TiB"
        )));
    }
    let mut file = File::options().read(true).write(true).create(true).truncate(true).open(path)?;
    file.set_len(bytes)?;
    let blocks = bytes / BLOCK - PARTITION_START;
    let (fat, kind) = if bytes >= FAT32_FROM || fat32_cluster.is_some() {
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
    let mut options = fatfs::FormatVolumeOptions::new().fat_type(fat).volume_label(name);
    if let Some(cluster) = fat32_cluster {
        options = options.bytes_per_cluster(cluster);
    }
    // A FAT is FAT16 by its count of clusters, at least 4,085 (fewer is
    // FAT12, which embedded-sdmmc, the board's FAT code, does not read).
    // fatfs gives FAT16 up to 16 MiB clusters of 1 KiB: a 4 MiB card's
    // 3 MiB partition would have about 3,000, so it gets 512 bytes (the
    // 64 leave room for the FATs and root directory, which take blocks
    // from the partition before the clusters).
    if fat == fatfs::FatType::Fat16 && blocks * BLOCK / 1024 < 4085 + 64 {
        options = options.bytes_per_cluster(512);
    }
    fatfs::format_volume(&mut partition, options)?;
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
/// followed), under their names (long names, with short ones beside
/// them, as a computer writes them); a name FAT cannot hold, or two that
/// are one on the card (FAT names have no case), is an error that names
/// it.
pub fn card_from_dir(
    path: &Path,
    bytes: u64,
    label: &str,
    from: Option<&Path>,
) -> io::Result<Made> {
    let fs = format_card(path, bytes, label, None)?;
    let fat = if bytes >= FAT32_FROM { "FAT32" } else { "FAT16" };
    let mut made = Made { fat, files: 0, directories: 0, bytes: 0 };
    let mut dated = Dated::new();
    if let Some(from) = from {
        copy_dir(from, &fs.root_dir(), "", &[], &mut dated, &mut made)?;
    }
    unmount_counted(fs)?;
    date_directories(path, &dated)?;
    Ok(made)
}

/// Directories of a card by their paths of short names (the entries'
/// 11 bytes), and the dates to give them.
type Dated = std::collections::BTreeMap<Vec<[u8; 11]>, SystemTime>;

/// A short name as its entry holds it (`SENSOR  CSV`), from the name with
/// its dot (`SENSOR.CSV`).
fn entry_name(short: &[u8]) -> [u8; 11] {
    let (base, extension) = match short.iter().position(|&byte| byte == b'.') {
        Some(dot) => (&short[..dot], &short[dot + 1..]),
        None => (short, &[][..]),
    };
    let mut name = [b' '; 11];
    let (to_base, to_extension) = name.split_at_mut(8);
    for (to, from) in to_base.iter_mut().zip(base).chain(to_extension.iter_mut().zip(extension)) {
        *to = *from;
    }
    name
}

/// Gives the directories `dated` names on the FAT file system of the card
/// image at `path` their dates (modified, created and accessed), as a
/// computer copying them keeps them: fatfs stamps a directory with its
/// clock's time (none, here) at every entry written into it, and has no
/// call to set a directory's.
fn date_directories(path: &Path, dated: &Dated) -> io::Result<()> {
    if dated.is_empty() {
        return Ok(());
    }
    let mut read = block_reader(path)?;
    let layout = fat_layout_in(&mut read)?;
    let fat = read(layout.fat, layout.fat_bytes())?;
    // A directory's blocks and bytes: FAT16's fixed root's, or each of
    // its clusters' (`first` on; a looping chain ends).
    let extents = |first: Option<u64>| -> Vec<(u64, usize)> {
        let Some(mut cluster) = first else {
            return vec![(layout.root, layout.root_bytes)];
        };
        let mut out = Vec::new();
        while layout.cluster_numbers().contains(&cluster) && out.len() < layout.clusters as usize {
            out.push((layout.block_of(cluster), layout.cluster_bytes()));
            cluster = layout.next(&fat, cluster);
        }
        out
    };
    let mut image = File::options().write(true).open(path)?;
    let mut directories = vec![(Vec::new(), extents(layout.root_cluster))];
    // Directories' first clusters, each walked once (a directory whose
    // chain is a loop's, or an entry naming one of its parents, ends).
    let mut walked: std::collections::BTreeSet<u64> = layout.root_cluster.into_iter().collect();
    while let Some((at, blocks)) = directories.pop() {
        for (block, bytes) in blocks {
            let entries = read(block, bytes)?;
            for (n, entry) in entries.chunks_exact(32).enumerate() {
                // Only directories' entries: not free, `.` or `..`, a long
                // name's part or the volume's label (0x08).
                if entry[0] == 0 || entry[0] == 0xe5 || entry[0] == b'.' || entry[11] & 0x18 != 0x10
                {
                    continue;
                }
                let mut path = at.clone();
                path.push(entry[..11].try_into().unwrap_or([0; 11]));
                if let Some(&time) = dated.get(&path) {
                    let (date, time) = fat_stamp(time);
                    let [date, time] = [date.to_le_bytes(), time.to_le_bytes()];
                    let at = block * BLOCK + n as u64 * 32;
                    // Created (hundredths, time, date), accessed (date)...
                    image.seek(SeekFrom::Start(at + 13))?;
                    image.write_all(&[0, time[0], time[1], date[0], date[1], date[0], date[1]])?;
                    // ...and modified (time, date).
                    image.seek(SeekFrom::Start(at + 22))?;
                    image.write_all(&[time[0], time[1], date[0], date[1]])?;
                }
                let first = first_cluster(entry);
                if walked.insert(first) {
                    directories.push((path, extents(Some(first))));
                }
            }
        }
    }
    Ok(())
}

/// `time` as a FAT entry's date and time words ([`fat_date_time`]).
fn fat_stamp(time: SystemTime) -> (u16, u16) {
    let fatfs::DateTime { date, time } = fat_date_time(time);
    let day = (date.year - 1980) << 9 | date.month << 5 | date.day;
    (day, time.hour << 11 | time.min << 5 | (time.sec / 2))
}

/// Copies what directory `from` holds into `to` (at `at` on the card,
/// its path by short names `shorts`), counting it into `made`, and each
/// directory it makes, by its path of short names, with its host date
/// into `dated`.
fn copy_dir(
    from: &Path,
    to: &fatfs::Dir<'_, Partition>,
    at: &str,
    shorts: &[[u8; 11]],
    dated: &mut Dated,
    made: &mut Made,
) -> io::Result<()> {
    let mut entries = std::fs::read_dir(from)?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    // Each name in capitals, and the name.
    let mut taken = std::collections::BTreeMap::new();
    for entry in entries {
        let host = entry.path();
        let name = entry.file_name();
        let name = name
            .to_str()
            .ok_or_else(|| invalid(format!("{}: a name that is not UTF-8", host.display())))?;
        if let Some(other) = taken.insert(name.to_uppercase(), name.to_string()) {
            return Err(invalid(format!(
                "{}: {other} in {} is the same name on the card (FAT names have no case)",
                host.display(),
                from.display()
            )));
        }
        let refused = |error: io::Error| {
            invalid(format!("{}: a name a FAT card cannot hold ({error})", host.display()))
        };
        let inside = format!("{at}{name}");
        if std::fs::metadata(&host)?.is_dir() {
            let dir = to.create_dir(name).map_err(refused)?;
            made.directories += 1;
            // Its short name, by which `date_directories` finds it.
            let short = to.iter().find_map(|entry| {
                let entry = entry.ok()?;
                (entry.file_name() == name).then(|| entry_name(entry.short_file_name_as_bytes()))
            });
            let mut path = shorts.to_vec();
            path.push(short.ok_or_else(|| invalid(format!("{inside}: not found once made")))?);
            dated.insert(path.clone(), std::fs::metadata(&host)?.modified()?);
            copy_dir(&host, &dir, &format!("{inside}/"), &path, dated, made)?;
        } else {
            let mut file = to.create_file(name).map_err(refused)?;
            made.bytes += io::copy(&mut File::open(&host)?, &mut file)?;
            // The host file's dates, as a computer copying it keeps them
            // (fatfs stamps its own clock's, which it has none of here:
            // 1980). fatfs calls these setters deprecated in favour of a
            // clock of one's own, which gives one date for every file.
            let metadata = std::fs::metadata(&host)?;
            let modified = fat_date_time(metadata.modified()?);
            #[allow(deprecated)]
            {
                file.set_modified(modified);
                file.set_accessed(modified.date);
                file.set_created(metadata.created().map_or(modified, fat_date_time));
            }
            file.flush()?;
            made.files += 1;
        }
    }
    Ok(())
}

/// The last time a FAT entry can hold, 2107-12-31 23:59:58, in seconds
/// since 1970 (the first is `fat::FIRST_DATE`).
const FAT_LAST: u64 = 4_354_819_198;

/// `time` as a FAT entry keeps it: UTC, to two seconds; a time before
/// 1980 or after 2107 as the first or last FAT can hold.
fn fat_date_time(time: SystemTime) -> fatfs::DateTime {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
    let civil = CivilTime::from_unix_seconds(
        seconds.clamp(ferrode_std_abi::fat::FIRST_DATE, FAT_LAST) & !1,
    );
    fatfs::DateTime {
        date: fatfs::Date {
            year: civil.year as u16,
            month: civil.month.into(),
            day: civil.day.into(),
        },
        time: fatfs::Time {
            hour: civil.hour.into(),
            min: civil.minute.into(),
            sec: civil.second.into(),
            millis: 0,
        },
    }
}

/// A FAT entry's date and time; `None` for a date that is none (month or
/// day 0, as fatfs writes for directories when it has no clock).
fn civil_time(fat: fatfs::DateTime) -> Option<CivilTime> {
    let civil = CivilTime {
        year: fat.date.year.into(),
        month: fat.date.month as u8,
        day: fat.date.day as u8,
        hour: fat.time.hour as u8,
        minute: fat.time.min as u8,
        second: fat.time.sec as u8,
    };
    civil.to_unix_seconds().map(|_| civil)
}

/// One file or directory of a card image, as [`list`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its path on the card (`LOGS/DAY1.TXT`), by long names.
    pub path: String,
    /// Whether it is a directory.
    pub directory: bool,
    /// A file's size in bytes (0 for a directory).
    pub size: u64,
    /// Its short (8.3) name where that is not its name in other case
    /// (`SENSOR~1.CSV` for `Sensor readings.csv`): the name a program that
    /// reads short names only (embedded-sdmmc's own calls) opens it by.
    pub short: Option<String>,
    /// When it was last modified, as its entry says (UTC), if it says.
    pub modified: Option<CivilTime>,
}

/// What a card image holds, depth first.
pub fn list(path: &Path) -> io::Result<Vec<Listed>> {
    fn walk(dir: &fatfs::Dir<'_, Partition>, at: &str, out: &mut Vec<Listed>) -> io::Result<()> {
        for entry in dir.iter() {
            let entry = entry?;
            let name = entry.file_name();
            if name == "." || name == ".." {
                continue;
            }
            let short = entry.short_file_name();
            let short = (!short.eq_ignore_ascii_case(&name)).then_some(short);
            let path = format!("{at}{name}");
            let directory = entry.is_dir();
            let size = if directory { 0 } else { entry.len() };
            let modified = civil_time(entry.modified());
            out.push(Listed { path: path.clone(), directory, size, short, modified });
            if directory {
                walk(&entry.to_dir(), &format!("{path}/"), out)?;
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

/// Where the FAT16 file system in the first partition of a card image
/// keeps its directories: the root directory's first block and bytes, the
/// data area's first block (cluster 2's), and blocks per cluster.
struct FatLayout {
    root: u64,
    root_bytes: usize,
    data: u64,
    cluster_blocks: u64,
    /// The first FAT's first block, and the data area's clusters.
    fat: u64,
    clusters: u64,
    /// FAT32's root directory's first cluster (`None`: FAT16's fixed
    /// root, [`root`](Self::root) and [`root_bytes`](Self::root_bytes)).
    root_cluster: Option<u64>,
    /// FAT32's FSInfo sector, which keeps a count of free clusters.
    info: Option<u64>,
}

impl FatLayout {
    /// Bytes of a FAT entry.
    fn entry_bytes(&self) -> u64 {
        if self.root_cluster.is_some() { 4 } else { 2 }
    }

    /// The data area's cluster numbers (the first is 2).
    fn cluster_numbers(&self) -> std::ops::Range<u64> {
        2..self.clusters + 2
    }

    /// Bytes of the first FAT that hold the data area's clusters' entries
    /// (and the two reserved ones before them).
    fn fat_bytes(&self) -> usize {
        (self.cluster_numbers().end * self.entry_bytes()) as usize
    }

    /// Bytes of a cluster.
    fn cluster_bytes(&self) -> usize {
        (self.cluster_blocks * BLOCK) as usize
    }

    /// The first block of `cluster`, one of [`cluster_numbers`](Self::cluster_numbers).
    fn block_of(&self, cluster: u64) -> u64 {
        self.data + (cluster - 2) * self.cluster_blocks
    }

    /// The least FAT entry that ends a chain (an end-of-chain mark).
    fn end_of_chain(&self) -> u64 {
        if self.root_cluster.is_some() { 0x0fff_fff8 } else { 0xfff8 }
    }

    /// The entry of `cluster` in `fat`, the first FAT's bytes from its
    /// start: the next cluster of its chain, 0 for a free one.
    fn next(&self, fat: &[u8], cluster: u64) -> u64 {
        let at = (cluster * self.entry_bytes()) as usize;
        match self.root_cluster {
            None => u64::from(u16::from_le_bytes([fat[at], fat[at + 1]])),
            Some(_) => {
                let bytes = [fat[at], fat[at + 1], fat[at + 2], fat[at + 3]];
                u64::from(u32::from_le_bytes(bytes) & 0x0fff_ffff)
            }
        }
    }
}

/// The first cluster a directory entry (its 32 bytes) names: its high
/// half (FAT32's; 0 on FAT16) and its low half.
fn first_cluster(entry: &[u8]) -> u64 {
    let half = |at: usize| u64::from(u16::from_le_bytes([entry[at], entry[at + 1]]));
    half(20) << 16 | half(26)
}

/// `layout`, if it is FAT16's.
fn fat16_only(layout: FatLayout) -> io::Result<FatLayout> {
    match layout.root_cluster {
        None => Ok(layout),
        Some(_) => Err(io::Error::new(io::ErrorKind::InvalidData, "no FAT16 first partition")),
    }
}

/// The layout of the FAT16 or FAT32 file system in the first partition
/// of the image `read` reads (`bytes` bytes from block `block` on;
/// FAT32's root directory is a chain of clusters).
fn fat_layout_in(mut read: impl FnMut(u64, usize) -> io::Result<Vec<u8>>) -> io::Result<FatLayout> {
    let malformed = || io::Error::new(io::ErrorKind::InvalidData, "no FAT first partition");
    let mbr = read(0, BLOCK as usize).map_err(|_| malformed())?;
    if mbr[510..512] != [0x55, 0xaa] {
        return Err(malformed());
    }
    let long_in = |bytes: &[u8], at: usize| {
        u64::from(u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]))
    };
    let start = long_in(&mbr, 446 + 8);
    let boot = read(start, BLOCK as usize).map_err(|_| malformed())?;
    let fat32 = match (&boot[54..62], &boot[82..90]) {
        (b"FAT16   ", _) => false,
        (_, b"FAT32   ") => true,
        _ => return Err(malformed()),
    };
    let long = |at: usize| long_in(&boot, at);
    let word = |at: usize| u64::from(u16::from_le_bytes([boot[at], boot[at + 1]]));
    let fat = start + word(14);
    let fat_blocks = if fat32 { long(36) } else { word(22) };
    let root = fat + u64::from(boot[16]) * fat_blocks;
    let root_bytes = word(17) as usize * 32;
    let data = root + (root_bytes as u64).div_ceil(BLOCK);
    let cluster_blocks = u64::from(boot[13]).max(1);
    let total = match word(19) {
        0 => long(32),
        blocks => blocks,
    };
    let clusters = (start + total).saturating_sub(data) / cluster_blocks;
    let root_cluster = fat32.then(|| long(44));
    let info = fat32.then(|| start + word(48));
    Ok(FatLayout { root, root_bytes, data, cluster_blocks, fat, clusters, root_cluster, info })
}

/// The clusters the first FAT of the FAT16 or FAT32 file system in the
/// first partition of the card image at `path` marks taken that no file
/// or directory holds, in order: lost to the volume, as a delete that
/// frees no clusters leaves them (what `fsck.vfat` reports as lost).
pub fn fat_lost_clusters(path: &Path) -> io::Result<Vec<u32>> {
    check_fat(path).map(|check| check.lost)
}

/// What [`check_fat`] finds on a card image's FAT file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FatCheck {
    /// `FAT16` or `FAT32`.
    pub fat: &'static str,
    /// The clusters the first FAT marks taken that no file or directory
    /// holds ([`fat_lost_clusters`]).
    pub lost: Vec<u32>,
    /// Entries of long names that belong to no entry: a run of them not
    /// followed by a short-name entry of their checksum (what a delete
    /// that frees the short-name entry alone leaves).
    pub orphaned_long_names: usize,
    /// FAT32's FSInfo count of free clusters (`u32::MAX`: unknown, to be
    /// counted), and how many the FAT marks free; `None` on FAT16, which
    /// keeps no count.
    pub free_count: Option<(u32, u32)>,
    /// Files and directories (FAT32's root among them) whose cluster
    /// chain is broken: it runs into a free cluster, a bad one, one
    /// outside the volume, or one a chain followed before holds (two
    /// chains crossed, or one looping); a directory without a cluster; a
    /// file whose chain holds more or fewer clusters than its size needs
    /// (what `fsck.vfat` reports as a chain too long or too short, shared,
    /// or pointing outside the volume).
    pub broken_chains: usize,
}

impl FatCheck {
    /// Nothing lost, no long name orphaned, no chain broken, and FAT32's
    /// count of free clusters right or unknown (`u32::MAX`: the next
    /// mount counts).
    pub fn clean(&self) -> bool {
        self.lost.is_empty()
            && self.orphaned_long_names == 0
            && self.broken_chains == 0
            && self
                .free_count
                .is_none_or(|(recorded, free)| recorded == u32::MAX || recorded == free)
    }
}

/// The entries of long names in a directory's bytes (up to its end
/// marker) that belong to no short-name entry ([`FatCheck`]).
fn orphaned_long_names(directory: &[u8]) -> usize {
    let (mut orphaned, mut run, mut sum) = (0, 0, 0);
    for entry in directory.chunks_exact(32).take_while(|entry| entry[0] != 0) {
        if entry[0] == 0xe5 {
            orphaned += run;
            run = 0;
        } else if entry[11] == 0x0f {
            if run > 0 && entry[13] != sum {
                orphaned += run;
                run = 0;
            }
            sum = entry[13];
            run += 1;
        } else {
            let short: [u8; 11] = entry[..11].try_into().unwrap_or([0; 11]);
            if run > 0 && ferrode_std_abi::fat::checksum(&short) != sum {
                orphaned += run;
            }
            run = 0;
        }
    }
    orphaned + run
}

/// Checks the FAT16 or FAT32 file system in the first partition of the
/// card image at `path` as `fsck.vfat -n` would for what Ferrode's FAT
/// code can get wrong ([`FatCheck`]).
pub fn check_fat(path: &Path) -> io::Result<FatCheck> {
    let mut read = block_reader(path)?;
    let layout = fat_layout_in(&mut read)?;
    // An image cut short (a partial copy of a card) is no file system to
    // call clean, whatever of it the check would read.
    let end = (layout.data + layout.clusters * layout.cluster_blocks) * BLOCK;
    if std::fs::metadata(path)?.len() < end {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the image ends before its file system does (at byte {end})"),
        ));
    }
    let fat = read(layout.fat, layout.fat_bytes())?;
    let next = |cluster: u64| layout.next(&fat, cluster);
    let is_cluster = |cluster: u64| layout.cluster_numbers().contains(&cluster);
    let mut held = std::collections::BTreeSet::new();
    // Follows the chain from `first` (0: none), taking its clusters as
    // held: how many it holds, whether it ends as a chain should (at an
    // end-of-chain mark, or at once for none), and a directory's bytes
    // (`read` reads them).
    let mut follow = |read: &mut dyn FnMut(u64, usize) -> io::Result<Vec<u8>>,
                      first: u64,
                      directory: bool|
     -> io::Result<(u64, bool, Vec<u8>)> {
        let (mut count, mut bytes, mut cluster) = (0, Vec::new(), first);
        while is_cluster(cluster) && held.insert(cluster) {
            count += 1;
            if directory {
                bytes.extend(read(layout.block_of(cluster), layout.cluster_bytes())?);
            }
            cluster = next(cluster);
        }
        Ok((count, first == 0 || cluster >= layout.end_of_chain(), bytes))
    };
    // The directories to read: the root's bytes (FAT16's fixed root, or
    // FAT32's chain), then each subdirectory's as found.
    let mut broken = 0;
    let root = match layout.root_cluster {
        None => read(layout.root, layout.root_bytes)?,
        Some(first) => {
            let (clusters, ended, bytes) = follow(&mut read, first, true)?;
            broken += usize::from(clusters == 0 || !ended);
            bytes
        }
    };
    let mut directories = vec![root];
    let mut orphaned = 0;
    while let Some(directory) = directories.pop() {
        orphaned += orphaned_long_names(&directory);
        for entry in directory.chunks_exact(32).take_while(|entry| entry[0] != 0) {
            let skipped = entry[0] == 0xe5 || entry[11] == 0x0f || entry[11] & 0x08 != 0;
            if skipped || entry[0] == b'.' {
                continue;
            }
            let is_directory = entry[11] & 0x10 != 0;
            let (clusters, ended, bytes) = follow(&mut read, first_cluster(entry), is_directory)?;
            let size = u64::from(u32::from_le_bytes([entry[28], entry[29], entry[30], entry[31]]));
            let whole = match is_directory {
                true => clusters > 0,
                false => clusters == size.div_ceil(layout.cluster_bytes() as u64),
            };
            broken += usize::from(!ended || !whole);
            if is_directory {
                directories.push(bytes);
            }
        }
    }
    let lost = layout
        .cluster_numbers()
        .filter(|&cluster| next(cluster) != 0 && !held.contains(&cluster))
        .map(|cluster| cluster as u32)
        .collect();
    let free_count = match layout.info {
        None => None,
        Some(info) => {
            let sector = read(info, BLOCK as usize)?;
            let recorded = u32::from_le_bytes([sector[488], sector[489], sector[490], sector[491]]);
            let free = layout.cluster_numbers().filter(|&cluster| next(cluster) == 0).count();
            Some((recorded, free as u32))
        }
    };
    let fat = if layout.root_cluster.is_some() { "FAT32" } else { "FAT16" };
    Ok(FatCheck { fat, lost, orphaned_long_names: orphaned, free_count, broken_chains: broken })
}

/// Reads the card image at `path` in pieces, `bytes` bytes from block
/// `block` on: a card image may be as large as a card (up to 1 TiB here),
/// and a check needs its boot sector, a FAT and some directories.
fn block_reader(path: &Path) -> io::Result<impl FnMut(u64, usize) -> io::Result<Vec<u8>>> {
    let mut image = File::open(path)?;
    Ok(move |block: u64, bytes: usize| {
        let mut out = vec![0; bytes];
        image.seek(SeekFrom::Start(block * BLOCK))?;
        image.read_exact(&mut out).map_err(|error| match error.kind() {
            io::ErrorKind::UnexpectedEof => past_the_end(),
            _ => error,
        })?;
        Ok(out)
    })
}

/// A file system that says its blocks are past the image's end.
fn past_the_end() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "a block of the file system past the image's end")
}

/// The root directory of the FAT16 file system in the first partition of
/// the card image at `path`, as its blocks hold it: the block it starts
/// at, and its bytes.
pub fn fat16_root_directory(path: &Path) -> io::Result<(u64, Vec<u8>)> {
    let mut read = block_reader(path)?;
    let layout = fat16_only(fat_layout_in(&mut read)?)?;
    Ok((layout.root, read(layout.root, layout.root_bytes)?))
}

/// The bytes of cluster `cluster` of the FAT16 file system in the first
/// partition of the card image at `path` (what a directory there held
/// stays in its first cluster after it is removed, until the cluster is
/// used again).
pub fn fat16_cluster(path: &Path, cluster: u16) -> io::Result<Vec<u8>> {
    let mut read = block_reader(path)?;
    let layout = fat16_only(fat_layout_in(&mut read)?)?;
    let first = layout.data + u64::from(cluster.saturating_sub(2)) * layout.cluster_blocks;
    read(first, layout.cluster_bytes())
}

/// How many entries of long names a directory's bytes hold (those not
/// freed, up to the end marker).
pub fn long_name_entries(directory: &[u8]) -> usize {
    directory
        .chunks_exact(32)
        .take_while(|entry| entry[0] != 0)
        .filter(|entry| entry[0] != 0xe5 && entry[11] == 0x0f)
        .count()
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
    fn a_card_from_a_directory_holds_its_tree_under_its_names() {
        let from = std::env::temp_dir().join(format!("ferrode-sd-from-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&from);
        std::fs::create_dir_all(from.join("logs/old")).unwrap();
        std::fs::create_dir(from.join("Field notes.d")).unwrap();
        std::fs::write(from.join("config.txt"), "rate=10\n").unwrap();
        std::fs::write(from.join("logs/day1.txt"), [b'x'; 1500]).unwrap();
        std::fs::write(from.join("logs/old/A"), "").unwrap();
        std::fs::write(from.join("logs/Sensor readings.csv"), "t,v\n").unwrap();
        // The files' dates: one FAT holds to two seconds, one before FAT's
        // first and one after its last (held at those), one in 2026.
        let dated = |name: &str, seconds: i64| {
            let time = if seconds < 0 {
                UNIX_EPOCH - std::time::Duration::from_secs(seconds.unsigned_abs())
            } else {
                UNIX_EPOCH + std::time::Duration::from_secs(seconds as u64)
            };
            File::open(from.join(name)).unwrap().set_modified(time).unwrap();
        };
        dated("config.txt", 1_796_232_813);
        dated("logs/day1.txt", -86_400);
        dated("logs/old/A", 1_796_630_400);
        dated("logs/Sensor readings.csv", 7_258_118_400);
        // Directories too (once their files are written, which date them).
        dated("logs", 1_796_000_001);
        dated("logs/old", 1_577_836_800);
        dated("Field notes.d", 1_600_000_000);
        let path = scratch("from");
        let made = card_from_dir(&path, 16 << 20, "data", Some(&from)).unwrap();
        assert_eq!(made, Made { fat: "FAT16", files: 4, directories: 3, bytes: 1512 });
        let check = check_fat(&path).unwrap();
        assert!(check.clean(), "{check:?}");
        let listed = |path: &str, directory, size, short: Option<&str>, modified: Option<&str>| {
            let listed = Listed {
                path: path.to_string(),
                directory,
                size,
                short: short.map(String::from),
                modified: None,
            };
            (listed, modified.map(String::from))
        };
        let found: Vec<_> = list(&path)
            .unwrap()
            .into_iter()
            .map(|entry| {
                let modified = entry.modified.map(|modified| modified.to_string());
                (Listed { modified: None, ..entry }, modified)
            })
            .collect();
        assert_eq!(
            found,
            [
                listed("Field notes.d", true, 0, Some("FIELDN~1.D"), Some("2020-09-13T12:26:40Z")),
                listed("config.txt", false, 8, None, Some("2026-12-02T17:33:32Z")),
                listed("logs", true, 0, None, Some("2026-11-30T00:53:20Z")),
                listed(
                    "logs/Sensor readings.csv",
                    false,
                    4,
                    Some("SENSOR~1.CSV"),
                    Some("2107-12-31T23:59:58Z")
                ),
                listed("logs/day1.txt", false, 1500, None, Some("1980-01-01T00:00:00Z")),
                listed("logs/old", true, 0, None, Some("2020-01-01T00:00:00Z")),
                listed("logs/old/A", false, 0, None, Some("2026-12-07T08:00:00Z")),
            ]
        );
        // Short names reach them too, as on any FAT card.
        assert_eq!(read_fat_file(&path, "LOGS/DAY1.TXT").unwrap(), [b'x'; 1500]);
        assert_eq!(read_fat_file(&path, "logs/SENSOR~1.CSV").unwrap(), b"t,v\n");
        // Two names that are one on the card, and a name FAT cannot hold,
        // refused with the host path.
        std::fs::write(from.join("CONFIG.TXT"), "").unwrap();
        let error = card_from_dir(&path, 16 << 20, "data", Some(&from)).unwrap_err();
        assert!(error.to_string().contains("config.txt: CONFIG.TXT in"), "{error}");
        std::fs::remove_file(from.join("CONFIG.TXT")).unwrap();
        std::fs::write(from.join("a:b"), "").unwrap();
        let error = card_from_dir(&path, 16 << 20, "data", Some(&from)).unwrap_err();
        assert!(error.to_string().contains("a:b: a name a FAT card cannot hold"), "{error}");
        std::fs::remove_file(from.join("a:b")).unwrap();
        // Without files: an empty card.
        let made = card_from_dir(&path, 4 << 20, "x", None).unwrap();
        assert_eq!((made.files, made.directories), (0, 0));
        assert!(list(&path).unwrap().is_empty());
        std::fs::remove_dir_all(&from).unwrap();
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_directory_past_its_parent_s_first_cluster_keeps_its_date() {
        // 150 entries before it: more than a cluster of 4 KiB holds.
        let from = std::env::temp_dir().join(format!("ferrode-sd-many-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&from);
        std::fs::create_dir_all(from.join("many/zz")).unwrap();
        for n in 0..150 {
            std::fs::write(from.join(format!("many/F{n:03}.TXT")), "").unwrap();
        }
        let time = UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
        File::open(from.join("many/zz")).unwrap().set_modified(time).unwrap();
        let path = scratch("many");
        card_from_dir(&path, 8 << 20, "many", Some(&from)).unwrap();
        let listed = list(&path).unwrap();
        let zz = listed.iter().find(|entry| entry.path == "many/zz").unwrap();
        let layout = fat_layout_in(block_reader(&path).unwrap()).unwrap();
        assert!(layout.cluster_bytes() <= 4096, "{} bytes a cluster", layout.cluster_bytes());
        assert_eq!(
            zz.modified.map(|modified| modified.to_string()).unwrap(),
            "2020-09-13T12:26:40Z"
        );
        std::fs::remove_dir_all(&from).unwrap();
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn dating_a_card_ends_where_a_directory_names_itself() {
        // Directory A holds an entry LOOP of A's own cluster (a card
        // fsck.vfat would repair): the walk goes into A once, and dates
        // LOOP's entry there.
        let path = scratch("loop");
        fat_card(&path, 8 << 20, "x", &[("A/F.TXT", b"x")]).unwrap();
        let (_, root) = fat16_root_directory(&path).unwrap();
        let at = root.chunks_exact(32).position(|entry| &entry[..11] == b"A          ").unwrap();
        let mut entry = root[at * 32..at * 32 + 32].to_vec();
        let cluster = u16::from_le_bytes([entry[26], entry[27]]);
        let free = fat16_cluster(&path, cluster)
            .unwrap()
            .chunks_exact(32)
            .position(|entry| entry[0] == 0)
            .unwrap();
        let layout = fat_layout_in(block_reader(&path).unwrap()).unwrap();
        entry[..11].copy_from_slice(b"LOOP       ");
        let mut image = std::fs::read(&path).unwrap();
        let place = (layout.block_of(cluster.into()) * BLOCK) as usize + free * 32;
        image[place..place + 32].copy_from_slice(&entry);
        std::fs::write(&path, image).unwrap();
        let time = UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
        let dated = Dated::from([(vec![*b"A          ", *b"LOOP       "], time)]);
        date_directories(&path, &dated).unwrap();
        // Created (after its hundredths), accessed and modified.
        let image = std::fs::read(&path).unwrap();
        let ([date_0, date_1], [time_0, time_1]) =
            (fat_stamp(time).0.to_le_bytes(), fat_stamp(time).1.to_le_bytes());
        assert_eq!(image[place + 14..place + 20], [time_0, time_1, date_0, date_1, date_0, date_1]);
        assert_eq!(image[place + 22..place + 26], [time_0, time_1, date_0, date_1]);
        let _ = std::fs::remove_file(&path);
    }

    /// Runs `f` over the blocks `first..first + count` of directory
    /// bytes `directory`, as the board's std layer hands them to
    /// ferrode_std_abi::fat, and puts them back.
    fn on_blocks<R>(
        directory: &mut [u8],
        first: usize,
        count: usize,
        f: impl FnOnce(&mut [&mut [u8; 512]]) -> R,
    ) -> R {
        let bytes = &mut directory[first * 512..(first + count) * 512];
        let mut blocks: Vec<&mut [u8; 512]> =
            bytes.chunks_exact_mut(512).map(|block| block.try_into().unwrap()).collect();
        f(&mut blocks)
    }

    #[test]
    fn long_names_as_a_computer_writes_them_are_freed_by_the_board_s_std_layer() {
        // fatfs writes long names as other systems do: the board's std
        // layer (ferrode_std_abi::fat) must free exactly the entries of
        // the name it deletes.
        use ferrode_std_abi::fat;
        let path = scratch("long");
        let names = ["Sensor readings.csv", "a long name of three parts.txt", "Field notes/x.txt"];
        let files: Vec<(&str, &[u8])> = names.iter().map(|name| (*name, &b"x"[..])).collect();
        fat_card(&path, 8 << 20, "ferrode", &files).unwrap();
        let (_, mut root) = fat16_root_directory(&path).unwrap();
        // Two entries, three, and one for "Field notes".
        assert_eq!(long_name_entries(&root), 6);
        let short = |root: &[u8], name: &[u8; 11]| {
            root.chunks_exact(32).position(|entry| &entry[..11] == name).unwrap() * 32
        };
        for (name, parts, left) in [(b"SENSOR~1CSV", 2, 4), (b"ALONGN~1TXT", 3, 1)] {
            let at = short(&root, name);
            let (block, offset) = (at / 512, at % 512);
            let first = block.saturating_sub(1);
            let freed = on_blocks(&mut root, first, block + 1 - first, |blocks| {
                fat::free_long_name(blocks, offset, fat::checksum(name))
            });
            assert_eq!(freed, parts, "{}", String::from_utf8_lossy(name));
            assert_eq!(long_name_entries(&root), left);
        }
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn long_names_the_board_s_std_layer_gives_are_read_by_another_system() {
        // As files-std's std layer makes a file of a long name: embedded-
        // sdmmc makes it under its alias at the directory's first free
        // entry, then ferrode_std_abi::fat gives it the long name. fatfs
        // must then read the long name, and the file.
        use ferrode_std_abi::fat;
        let path = scratch("give");
        fat_card(&path, 8 << 20, "ferrode", &[("README.TXT", b"x")]).unwrap();
        let (root, mut directory) = fat16_root_directory(&path).unwrap();
        for (n, name) in
            ["Sensor readings.csv", "a long name of three parts.txt"].iter().enumerate()
        {
            let free = directory.chunks_exact(32).position(|entry| entry[0] == 0).unwrap() * 32;
            let alias = fat::short_alias(name, n as u32 + 1);
            directory[free..free + 11].copy_from_slice(&alias);
            directory[free + 11] = 0x20;
            let given = on_blocks(&mut directory, free / 512, 2, |blocks| {
                fat::give_long_name(blocks, free % 512, name)
            });
            assert!(given.is_some(), "{name}");
        }
        let mut image = std::fs::read(&path).unwrap();
        let at = root as usize * 512;
        image[at..at + directory.len()].copy_from_slice(&directory);
        std::fs::write(&path, image).unwrap();
        let names: Vec<(String, Option<String>)> =
            list(&path).unwrap().into_iter().map(|entry| (entry.path, entry.short)).collect();
        assert_eq!(
            names,
            [
                ("README.TXT".to_string(), None),
                ("Sensor readings.csv".to_string(), Some("SENSOR~1.CSV".to_string())),
                ("a long name of three parts.txt".to_string(), Some("ALONGN~2.TXT".to_string())),
            ]
        );
        assert_eq!(read_fat_file(&path, "Sensor readings.csv").unwrap(), b"");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn long_names_that_no_entry_of_their_checksum_follows_are_orphaned() {
        let long = |sum: u8| {
            let mut entry = [0u8; 32];
            (entry[0], entry[11], entry[13]) = (0x41, 0x0f, sum);
            entry
        };
        let short = |name: &[u8; 11]| {
            let mut entry = [0u8; 32];
            entry[..11].copy_from_slice(name);
            entry[11] = 0x20;
            entry
        };
        let sum = ferrode_std_abi::fat::checksum(b"SENSOR~1CSV");
        let mut freed = short(b"SENSOR~1CSV");
        freed[0] = 0xe5;
        let directory = |entries: &[[u8; 32]]| {
            let mut bytes = entries.concat();
            bytes.extend([0u8; 64]);
            orphaned_long_names(&bytes)
        };
        assert_eq!(directory(&[long(sum), short(b"SENSOR~1CSV")]), 0);
        assert_eq!(directory(&[long(sum), short(b"README  TXT")]), 1, "another's checksum");
        assert_eq!(directory(&[long(sum), long(sum), freed]), 2, "its entry deleted");
        assert_eq!(directory(&[long(sum ^ 1), long(sum), short(b"SENSOR~1CSV")]), 1);
        assert_eq!(directory(&[short(b"README  TXT"), long(sum)]), 1, "at the end");
        // Freed long names, and what follows the end marker, are none.
        let mut gone = long(sum);
        gone[0] = 0xe5;
        assert_eq!(directory(&[gone, short(b"README  TXT")]), 0);
        assert_eq!(orphaned_long_names(&[[0u8; 32], long(sum)].concat()), 0);
    }

    #[test]
    fn clusters_no_entry_holds_are_lost() {
        let path = scratch("lost");
        let big = vec![7u8; 5000];
        let files: [(&str, &[u8]); 3] =
            [("README.TXT", b"x"), ("logs/day one.txt", &big), ("logs/day two.txt", b"y")];
        fat_card(&path, 8 << 20, "ferrode", &files).unwrap();
        assert_eq!(fat_lost_clusters(&path).unwrap(), Vec::<u32>::new());
        // A delete that frees no cluster (the entry marked free alone):
        // day one.txt's five clusters (1 KiB each) are lost.
        let layout = fat16_only(fat_layout_in(block_reader(&path).unwrap()).unwrap()).unwrap();
        let mut image = std::fs::read(&path).unwrap();
        let found = (0..image.len() / 32)
            .map(|index| index * 32)
            .filter(|&at| at as u64 >= layout.data * BLOCK)
            .find(|&at| &image[at..at + 11] == b"DAYONE~1TXT")
            .unwrap();
        let cluster = u32::from(u16::from_le_bytes([image[found + 26], image[found + 27]]));
        image[found] = 0xe5;
        std::fs::write(&path, image).unwrap();
        let lost = fat_lost_clusters(&path).unwrap();
        assert_eq!(lost.len(), 5, "{lost:?}");
        assert_eq!(lost[0], cluster);
        // An image cut short is refused, not called clean.
        let whole = std::fs::read(&path).unwrap();
        std::fs::write(&path, &whole[..whole.len() / 2]).unwrap();
        let error = check_fat(&path).unwrap_err();
        assert!(error.to_string().contains("ends before its file system"), "{error}");
        std::fs::write(&path, whole).unwrap();
        // The check says so, and finds the long name the delete left
        // (one entry: `day one.txt` fits one).
        let check = check_fat(&path).unwrap();
        assert_eq!((check.fat, check.orphaned_long_names, check.free_count), ("FAT16", 1, None));
        assert!(!check.clean());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_small_fat32_card_loses_no_cluster_to_its_root() {
        let path = scratch("fat32-small");
        fat32_card(&path, 64 << 20, "small", &[("dir/a file.txt", b"x")]).unwrap();
        let mut mbr = [0u8; 512];
        File::open(&path).unwrap().read_exact(&mut mbr).unwrap();
        assert_eq!(mbr[446 + 4], FAT32_LBA);
        assert_eq!(read_fat_file(&path, "dir/a file.txt").unwrap(), b"x");
        // The root directory's chain, dir's and the file's are held.
        assert_eq!(fat_lost_clusters(&path).unwrap(), Vec::<u32>::new());
        let check = check_fat(&path).unwrap();
        assert!(check.clean(), "{check:?}");
        assert_eq!(check.fat, "FAT32");
        // fatfs counts the free clusters into FSInfo at unmount.
        let (recorded, free) = check.free_count.unwrap();
        assert_eq!(recorded, free);
        assert!(free > 100_000, "{free} free of 64 MiB of 512-byte clusters");
        // A count that is wrong (one short) is found; unknown is right.
        let count_at = |count: u32| {
            let layout = fat_layout_in(block_reader(&path).unwrap()).unwrap();
            let mut image = std::fs::read(&path).unwrap();
            let at = (layout.info.unwrap() * BLOCK) as usize + 488;
            image[at..at + 4].copy_from_slice(&count.to_le_bytes());
            std::fs::write(&path, image).unwrap();
            check_fat(&path).unwrap().clean()
        };
        assert!(!count_at(free - 1));
        assert!(count_at(u32::MAX));
        let _ = std::fs::remove_file(&path);
    }

    /// `bytes` bytes that differ from their neighbours (a pattern of
    /// `seed`), to tell a file's clusters apart.
    fn pattern(bytes: usize, seed: usize) -> Vec<u8> {
        (0..bytes).map(|n| (n * 7 + seed) as u8).collect()
    }

    /// Where the entry of short name `name` is in the data area of the
    /// card image `image` (FAT32: the root directory is there too).
    fn entry_at(image: &[u8], layout: &FatLayout, name: &[u8; 11]) -> usize {
        let data = (layout.data * BLOCK) as usize;
        (data..image.len()).step_by(32).find(|&at| &image[at..at + 11] == name).unwrap()
    }

    /// Sets the FAT32 entry of `cluster` to `value` in both FATs of the
    /// card image `image` (fatfs makes two).
    fn set_fat32(image: &mut [u8], layout: &FatLayout, cluster: u32, value: u32) {
        let fat_blocks = (layout.data - layout.fat) / 2;
        for copy in 0..2 {
            let at = ((layout.fat + copy * fat_blocks) * BLOCK) as usize + cluster as usize * 4;
            image[at..at + 4].copy_from_slice(&value.to_le_bytes());
        }
    }

    /// Moves the chain of the FAT32 file whose entry is at `at` in the
    /// card image `image` to the free clusters from `to` on, its data
    /// with it, and frees its old clusters.
    fn move_chain(image: &mut [u8], layout: &FatLayout, at: usize, to: u32) {
        let mut old = Vec::new();
        let mut cluster = first_cluster(&image[at..at + 32]);
        while cluster < layout.end_of_chain() {
            old.push(cluster as u32);
            cluster = layout.next(&image[(layout.fat * BLOCK) as usize..], cluster);
        }
        let bytes = layout.cluster_bytes();
        let data_of = |cluster: u32| (layout.block_of(cluster.into()) * BLOCK) as usize;
        for (n, &from) in old.iter().enumerate() {
            let new = to + n as u32;
            image.copy_within(data_of(from)..data_of(from) + bytes, data_of(new));
            let next = if n + 1 == old.len() { 0x0fff_ffff } else { new + 1 };
            set_fat32(image, layout, new, next);
        }
        for &from in &old {
            set_fat32(image, layout, from, 0);
        }
        image[at + 20..at + 22].copy_from_slice(&((to >> 16) as u16).to_le_bytes());
        image[at + 26..at + 28].copy_from_slice(&(to as u16).to_le_bytes());
    }

    #[test]
    fn chains_past_cluster_65535_and_to_the_volume_s_end_are_followed_and_broken_ones_found() {
        // A FAT32 card of 512-byte clusters has about 128,000: A.BIN's
        // four clusters are moved to 65,534 to 65,537 (its FAT entries'
        // upper halves, and its entry's, in use), B.BIN's three to the
        // volume's last. fatfs reads both: the moves made a sound FAT.
        let path = scratch("chains");
        let (a, b) = (pattern(2000, 1), pattern(1500, 2));
        let files: [(&str, &[u8]); 3] = [("A.BIN", &a), ("B.BIN", &b), ("D/C.BIN", b"c")];
        fat32_card(&path, 64 << 20, "chains", &files).unwrap();
        let layout = fat_layout_in(block_reader(&path).unwrap()).unwrap();
        let last = layout.clusters as u32 + 1;
        let mut image = std::fs::read(&path).unwrap();
        let at_a = entry_at(&image, &layout, b"A       BIN");
        let at_b = entry_at(&image, &layout, b"B       BIN");
        move_chain(&mut image, &layout, at_a, 65534);
        move_chain(&mut image, &layout, at_b, last - 2);
        std::fs::write(&path, &image).unwrap();
        assert_eq!(read_fat_file(&path, "A.BIN").unwrap(), a);
        assert_eq!(read_fat_file(&path, "B.BIN").unwrap(), b);
        let check = check_fat(&path).unwrap();
        assert!(check.clean(), "{check:?}");
        // The check of the card with `edit` made: the clusters lost, and
        // the chains broken.
        let edited = |edit: &dyn Fn(&mut Vec<u8>)| {
            let mut copy = image.clone();
            edit(&mut copy);
            std::fs::write(&path, copy).unwrap();
            let check = check_fat(&path).unwrap();
            (check.lost, check.broken_chains)
        };
        let size = |image: &mut Vec<u8>, at: usize, size: u32| {
            image[at + 28..at + 32].copy_from_slice(&size.to_le_bytes());
        };
        // B deleted, its clusters left taken: the volume's last three.
        assert_eq!(edited(&|image| image[at_b] = 0xe5), (vec![last - 2, last - 1, last], 0));
        // B's second cluster pointing past the volume's end, or to a free
        // cluster: B is broken, its third cluster lost.
        assert_eq!(edited(&|image| set_fat32(image, &layout, last - 1, last + 1)), (vec![last], 1));
        assert_eq!(edited(&|image| set_fat32(image, &layout, last - 1, 2_000)), (vec![last], 1));
        assert_eq!(
            edited(&|image| set_fat32(image, &layout, last - 1, 0x0fff_fff7)),
            (vec![last], 1)
        );
        // B's last pointing to its first: a loop.
        assert_eq!(edited(&|image| set_fat32(image, &layout, last, last - 2)), (vec![], 1));
        // A's last pointing to B's first: A too long, B's chain shared.
        assert_eq!(edited(&|image| set_fat32(image, &layout, 65537, last - 2)), (vec![], 2));
        // A's size needing five clusters, or one; B's entry without one.
        assert_eq!(edited(&|image| size(image, at_a, 2049)), (vec![], 1));
        assert_eq!(edited(&|image| size(image, at_a, 512)), (vec![], 1));
        let no_cluster = |image: &mut Vec<u8>| image[at_b + 26..at_b + 28].fill(0);
        assert_eq!(edited(&no_cluster), (vec![last - 2, last - 1, last], 1));
        // D's entry without a cluster: D broken, its cluster and C's lost.
        let at_d = entry_at(&image, &layout, b"D          ");
        let (lost, broken) = edited(&|image| image[at_d + 26..at_d + 28].fill(0));
        assert_eq!((lost.len(), broken), (2, 1), "{lost:?}");
        // The root directory's cluster marked free: its chain is broken.
        let root = layout.root_cluster.unwrap() as u32;
        assert_eq!(edited(&|image| set_fat32(image, &layout, root, 0)), (vec![], 1));
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_directory_of_several_clusters_is_read_whole_and_a_file_of_entries_is_no_directory() {
        // `many` holds 20 files of long names: 42 entries with `.` and
        // `..`, three clusters of 512 bytes. `entries.bin` holds what a
        // directory would: a long name no entry follows, then the entry
        // of a file on a free cluster; as a file's bytes, they are none.
        let path = scratch("entries");
        let mut entries = [0u8; 64];
        (entries[0], entries[11], entries[13]) = (0x41, 0x0f, 0x5a);
        entries[32..43].copy_from_slice(b"GHOST   BIN");
        (entries[32 + 11], entries[32 + 27], entries[32 + 28]) = (0x20, 0x40, 16);
        let names: Vec<String> = (0..20).map(|n| format!("many/note {n:02}.txt")).collect();
        let mut files: Vec<(&str, &[u8])> =
            names.iter().map(|name| (&name[..], &b"x"[..])).collect();
        files.push(("entries.bin", &entries));
        fat32_card(&path, 64 << 20, "entries", &files).unwrap();
        let check = check_fat(&path).unwrap();
        assert!(check.clean(), "{check:?}");
        let listed = list(&path).unwrap();
        assert_eq!(listed.iter().filter(|entry| entry.path.starts_with("many/")).count(), 20);
        let file = listed.iter().find(|entry| entry.path == "entries.bin").unwrap();
        assert_eq!((file.directory, file.size), (false, 64));
        let _ = std::fs::remove_file(&path);
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
        // A directory in FAT32's root directory (a chain) keeps its date.
        let from = std::env::temp_dir().join(format!("ferrode-sd-from32-{}", std::process::id()));
        std::fs::create_dir_all(from.join("Photos 2026")).unwrap();
        let time = UNIX_EPOCH + std::time::Duration::from_secs(1_796_000_001);
        File::open(from.join("Photos 2026")).unwrap().set_modified(time).unwrap();
        card_from_dir(&path, 1 << 30, "big", Some(&from)).unwrap();
        let listed = list(&path).unwrap();
        let modified = listed[0].modified.map(|modified| modified.to_string());
        assert_eq!(
            (&listed[0].path[..], modified.as_deref()),
            ("Photos 2026", Some("2026-11-30T00:53:20Z"))
        );
        assert!(check_fat(&path).unwrap().clean());
        std::fs::remove_dir_all(&from).unwrap();
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn the_smallest_card_is_fat16() {
        // 4 MiB: 512-byte clusters, about 6,000 (1 KiB ones would make
        // too few for FAT16).
        let path = scratch("small");
        fat_card(&path, 4 << 20, "small", &[("A.TXT", b"a")]).unwrap();
        let layout = fat16_only(fat_layout_in(block_reader(&path).unwrap()).unwrap()).unwrap();
        assert_eq!(layout.cluster_bytes(), 512);
        assert!(layout.clusters >= 4085, "{} clusters", layout.clusters);
        assert!(check_fat(&path).unwrap().clean());
        assert_eq!(read_fat_file(&path, "A.TXT").unwrap(), b"a");
        // 8 MiB keeps fatfs's 1 KiB clusters.
        fat_card(&path, 8 << 20, "card", &[]).unwrap();
        let layout = fat16_only(fat_layout_in(block_reader(&path).unwrap()).unwrap()).unwrap();
        assert_eq!(layout.cluster_bytes(), 1024);
        std::fs::remove_file(&path).unwrap();
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
        // An MBR's partition table without the MBR's signature.
        fat_card(&path, 4 << 20, "x", &[("README.TXT", b"x")]).unwrap();
        let mut image = std::fs::read(&path).unwrap();
        image[510] = 0;
        std::fs::write(&path, image).unwrap();
        assert!(read_fat_file(&path, "README.TXT").is_err());
        assert!(list(&path).is_err());
        assert!(check_fat(&path).is_err());
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
