//! FAT long file names (VFAT), as `std::fs` on the SD card needs them
//! beyond embedded-sdmmc, which reads them but writes and deletes short
//! names only.
//!
//! A long name is a run of directory entries right before the file's
//! short-name entry: the last part of the name first, its sequence byte
//! flagged as the last (0x40), down to part 1 next to the short-name entry. Each
//! carries the checksum of the short name it belongs to, so a reader
//! takes a run whose checksum or sequence does not fit for no name at
//! all. Deleting the short-name entry alone leaves the run behind
//! complete, and a file created later in the freed entry whose short name
//! happens to have the same checksum (one in 256) would show the old long
//! name: [`free_long_name`] frees the run too. A new file or directory
//! gets a long name from [`short_alias`] and [`give_long_name`]: it is
//! made under an alias (`SENSOR~1.CSV`), then its entry moves to the end
//! of a run of free entries that takes the long name's parts before it.

/// Bytes of a directory entry.
pub const ENTRY_BYTES: usize = 32;
/// Bytes of a block.
pub const BLOCK_BYTES: usize = 512;
/// First byte of a free directory entry.
pub const FREE: u8 = 0xe5;

/// 1980-01-01 00:00:00 UTC in seconds since 1970: the first date a FAT
/// directory entry can hold.
pub const FIRST_DATE: u64 = 315_532_800;

/// Attribute byte (offset 11) of a long-name entry.
const LONG_NAME: u8 = 0x0f;
/// The sequence byte's flag for the last part of a long name (the
/// entry farthest from the short name).
const LAST: u8 = 0x40;
/// Parts a long name has at most (255 UTF-16 units, 13 a part).
const MAX_PARTS: u8 = 20;

/// UTF-16 units a long name has at most.
const MAX_UNITS: usize = 255;
/// UTF-16 units of the longest long name the std layer writes: 19
/// parts. FAT allows 20 (255 units), but embedded-sdmmc, which reads the
/// card's directories for the std layer, takes a name of 20 parts for
/// none (it gives the entry's short name then), so a file made under one
/// could not be found by it.
pub const MAX_WRITTEN_UNITS: usize = 19 * PART_UNITS;
/// UTF-16 units a long-name entry holds.
const PART_UNITS: usize = 13;

/// Whether `name` can be a long name: 1 to 255 UTF-16 units, no control
/// character and none of `"*/:<>?\|`, not `.` or `..`, and not ending in a
/// dot or a space (which FAT's writers drop).
pub fn long_name_valid(name: &str) -> bool {
    let units = name.encode_utf16().count();
    (1..=MAX_UNITS).contains(&units)
        && name != "."
        && name != ".."
        && !name.ends_with(['.', ' '])
        && !name.chars().any(|c| c.is_control() || "\"*/:<>?\\|".contains(c))
}

/// The short name, as a directory entry holds it (8 bytes of base, 3 of
/// extension, padded with spaces), that a file of long name `name` gets
/// as its `n`th alias (`n` from 1): the long name's base and extension
/// (after its last dot) in capitals, without spaces and dots, other
/// characters no short name may hold as `_`, the base cut to leave room
/// for `~n` (`Sensor readings.csv`, 1: `SENSOR~1CSV`).
pub fn short_alias(name: &str, n: u32) -> [u8; 11] {
    let (base, extension) = match name.rfind('.') {
        Some(dot) if dot > 0 => (&name[..dot], &name[dot + 1..]),
        _ => (name, ""),
    };
    let short = |c: char| match c {
        'a'..='z' => Some(c.to_ascii_uppercase() as u8),
        'A'..='Z' | '0'..='9' => Some(c as u8),
        ' ' | '.' => None,
        c if "!#$%&'()-@^_`{}~".contains(c) => Some(c as u8),
        _ => Some(b'_'),
    };
    let mut digits = [0u8; 10];
    let mut count = 0;
    let mut left = n.max(1);
    while left > 0 {
        digits[count] = b'0' + (left % 10) as u8;
        left /= 10;
        count += 1;
    }
    let mut entry = [b' '; 11];
    let room = 8 - 1 - count.min(7);
    let mut at = 0;
    for byte in base.chars().filter_map(short).take(room) {
        entry[at] = byte;
        at += 1;
    }
    if at == 0 {
        entry[0] = b'_';
        at = 1;
    }
    entry[at] = b'~';
    for (place, digit) in entry[at + 1..8].iter_mut().zip(digits[..count].iter().rev()) {
        *place = *digit;
    }
    for (place, byte) in entry[8..].iter_mut().zip(extension.chars().filter_map(short)) {
        *place = byte;
    }
    entry
}

/// The checksum a short name's long-name entries carry (rotate right,
/// add each of its 11 bytes).
pub fn checksum(short: &[u8; 11]) -> u8 {
    short.iter().fold(0u8, |sum, &byte| sum.rotate_right(1).wrapping_add(byte))
}

/// Gives the entry at byte `offset` of the first of `blocks` (a file or
/// directory just made under a short alias; the blocks follow one another
/// in its directory) the long name `name` ([`long_name_valid`]): finds,
/// from the entry on, a run of free entries (free, or never used: a run
/// that meets the directory's end takes what follows it, all unused)
/// long enough for the name's parts and the entry, writes the parts there
/// and moves the entry after them, freeing its old place. Returns the new
/// place's byte offset in `blocks` (block index times 512 plus offset),
/// or `None`, with nothing changed, if no such run is in `blocks`.
pub fn give_long_name(
    blocks: &mut [&mut [u8; BLOCK_BYTES]],
    offset: usize,
    name: &str,
) -> Option<usize> {
    let units = name.encode_utf16().count();
    if !(1..=MAX_UNITS).contains(&units)
        || !offset.is_multiple_of(ENTRY_BYTES)
        || offset >= BLOCK_BYTES
    {
        return None;
    }
    let parts = units.div_ceil(PART_UNITS);
    let own = offset / ENTRY_BYTES;
    let start = run(blocks, own, parts + 1)?;
    let entry_at =
        |slot: usize| (slot * ENTRY_BYTES / BLOCK_BYTES, slot * ENTRY_BYTES % BLOCK_BYTES);
    let (block, at) = entry_at(own);
    let mut entry = [0u8; ENTRY_BYTES];
    entry.copy_from_slice(&blocks[block][at..at + ENTRY_BYTES]);
    let short: [u8; 11] = entry[..11].try_into().unwrap_or([b' '; 11]);
    let sum = checksum(&short);
    if start > own {
        blocks[block][at] = FREE;
    }
    let mut name_units =
        name.encode_utf16().chain(core::iter::once(0)).chain(core::iter::repeat(0xffff));
    let places = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
    for part in 1..=parts {
        let (block, at) = entry_at(start + parts - part);
        let slot = &mut blocks[block][at..at + ENTRY_BYTES];
        slot.fill(0);
        slot[0] = part as u8 | if part == parts { LAST } else { 0 };
        slot[11] = LONG_NAME;
        slot[13] = sum;
        for place in places {
            let unit = name_units.next().unwrap_or(0xffff);
            slot[place..place + 2].copy_from_slice(&unit.to_le_bytes());
        }
    }
    let (block, at) = entry_at(start + parts);
    blocks[block][at..at + ENTRY_BYTES].copy_from_slice(&entry);
    Some((start + parts) * ENTRY_BYTES)
}

/// Whether [`give_long_name`] finds room in `blocks` for long name `name`
/// of the entry at byte `offset` of the first block.
pub fn has_room_for(blocks: &[&mut [u8; BLOCK_BYTES]], offset: usize, name: &str) -> bool {
    let parts = name.encode_utf16().count().div_ceil(PART_UNITS);
    offset.is_multiple_of(ENTRY_BYTES)
        && offset < BLOCK_BYTES
        && run(blocks, offset / ENTRY_BYTES, parts + 1).is_some()
}

/// The first of `length` entries in a row, from entry `own` on (which
/// counts as free: its entry moves), that are free or never used; `None`
/// if `blocks` end first.
fn run(blocks: &[&mut [u8; BLOCK_BYTES]], own: usize, length: usize) -> Option<usize> {
    let slots = blocks.len() * BLOCK_BYTES / ENTRY_BYTES;
    let (mut start, mut found) = (own, 0);
    for slot in own..slots {
        let first = blocks[slot * ENTRY_BYTES / BLOCK_BYTES][slot * ENTRY_BYTES % BLOCK_BYTES];
        if slot == own || matches!(first, 0 | FREE) {
            found += 1;
        } else {
            (start, found) = (slot + 1, 0);
        }
        if found == length {
            return Some(start);
        }
    }
    None
}

/// The first cluster of the directory entry at byte `offset` of `block`
/// (its high half at 20, which FAT16 leaves 0, its low half at 26).
pub fn first_cluster(block: &[u8; BLOCK_BYTES], offset: usize) -> u32 {
    let half =
        |at: usize| u32::from(u16::from_le_bytes([block[offset + at], block[offset + at + 1]]));
    half(20) << 16 | half(26)
}

/// Whether path name `wanted` names the entry whose long name is `long`:
/// FAT names are one name whatever their case (ASCII letters are compared
/// without case here; other letters as they are).
pub fn same_name(long: &str, wanted: &str) -> bool {
    long.eq_ignore_ascii_case(wanted)
}

/// The most data clusters a FAT volume has: FAT32's cluster numbers are
/// 28 bits, 0x0fff_fff7 and up mark a bad cluster or a chain's end, and
/// data clusters are numbered from 2.
const MAX_CLUSTERS: u32 = 0x0fff_fff5;

/// Where a FAT volume keeps its directories and its allocation table,
/// from its boot sector: which block before a directory entry's block
/// holds entries of the same directory
/// ([`continues_before`](Self::continues_before)), and where a cluster's
/// entry in the table is ([`fat_entry`](Self::fat_entry)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FatGeometry {
    /// The fixed root directory of FAT12 and FAT16 (none on FAT32): its
    /// first block and the block after it.
    root: (u32, u32),
    /// The first block of cluster 2, where the data area starts.
    data: u32,
    /// Blocks a cluster has.
    cluster_blocks: u32,
    /// The first FAT's first block, its blocks, and how many FATs the
    /// volume keeps (copies of the first).
    fat: u32,
    fat_blocks: u32,
    fats: u32,
    /// Clusters of the data area (numbered from 2).
    clusters: u32,
    /// Bytes of a FAT entry: 2 (FAT16) or 4 (FAT32); 0 for FAT12, whose
    /// entries straddle bytes and which no card Ferrode mounts uses.
    entry_bytes: u32,
    /// FAT32's FSInfo sector, where the volume's count of free clusters
    /// is kept (none on FAT12 and FAT16, or where the boot sector names
    /// none).
    info: Option<u32>,
}

impl FatGeometry {
    /// The geometry of the volume whose boot sector is `boot`, at block
    /// `start` of the device; `None` if the boot sector is not one of 512-
    /// byte sectors with a cluster size, reserved sectors and FATs, or
    /// counts more clusters than FAT32 can number.
    pub fn from_boot_sector(boot: &[u8; BLOCK_BYTES], start: u32) -> Option<Self> {
        let u16_at = |at: usize| u32::from(u16::from_le_bytes([boot[at], boot[at + 1]]));
        let u32_at =
            |at: usize| u32::from_le_bytes([boot[at], boot[at + 1], boot[at + 2], boot[at + 3]]);
        let cluster_blocks = u32::from(boot[13]);
        let (reserved, fats, root_entries) = (u16_at(14), u32::from(boot[16]), u16_at(17));
        let fat_blocks = match u16_at(22) {
            0 => u32_at(36),
            blocks => blocks,
        };
        if u16_at(11) != BLOCK_BYTES as u32
            || !cluster_blocks.is_power_of_two()
            || reserved == 0
            || fats == 0
            || fat_blocks == 0
        {
            return None;
        }
        let fat = start.checked_add(reserved)?;
        let root = fat.checked_add(fats.checked_mul(fat_blocks)?)?;
        let root_blocks = (root_entries * ENTRY_BYTES as u32).div_ceil(BLOCK_BYTES as u32);
        let data = root.checked_add(root_blocks)?;
        let total = match u16_at(19) {
            0 => u32_at(32),
            blocks => blocks,
        };
        let clusters = (start.checked_add(total)?.checked_sub(data)?) / cluster_blocks;
        // FAT32 numbers clusters in 28 bits, the top ones marking bad
        // clusters and chains' ends: a boot sector that counts more is no
        // FAT volume (and its cluster numbers would overflow the byte
        // offsets of their FAT entries).
        if clusters > MAX_CLUSTERS {
            return None;
        }
        // The FAT type goes by the count of clusters, as the specification
        // has it.
        let entry_bytes = match clusters {
            0..4085 => 0,
            4085..65525 => 2,
            _ => 4,
        };
        let info = match u16_at(48) {
            _ if entry_bytes != 4 => None,
            0 | 0xffff => None,
            sector => start.checked_add(sector),
        };
        Some(Self {
            info,
            root: (root, data),
            data,
            cluster_blocks,
            fat,
            fat_blocks,
            fats,
            clusters,
            entry_bytes,
        })
    }

    /// Where the FAT entry of cluster `cluster` is: the first FAT's block
    /// and the byte offset in it; `None` for a number no data cluster has
    /// (below 2, past the volume's) and on FAT12.
    pub fn fat_entry(&self, cluster: u32) -> Option<(u32, usize)> {
        if self.entry_bytes == 0 || !(2..self.clusters.saturating_add(2)).contains(&cluster) {
            return None;
        }
        let byte = cluster * self.entry_bytes;
        let block = byte / BLOCK_BYTES as u32;
        (block < self.fat_blocks)
            .then_some((self.fat + block, (byte % BLOCK_BYTES as u32) as usize))
    }

    /// The block of every FAT that holds the same entries as block `block`
    /// of the first (itself first).
    pub fn fat_copies(&self, block: u32) -> impl Iterator<Item = u32> + use<> {
        let (fats, fat_blocks) = (self.fats, self.fat_blocks);
        (0..fats).map(move |copy| block + copy * fat_blocks)
    }

    /// The entry at byte `offset` of a FAT block: the next cluster of the
    /// chain, or a value no cluster has (the chain's end, a bad cluster).
    pub fn entry(&self, block: &[u8; BLOCK_BYTES], offset: usize) -> u32 {
        match self.entry_bytes {
            2 => u32::from(u16::from_le_bytes([block[offset], block[offset + 1]])),
            _ => {
                let bytes =
                    [block[offset], block[offset + 1], block[offset + 2], block[offset + 3]];
                u32::from_le_bytes(bytes) & 0x0fff_ffff
            }
        }
    }

    /// Marks the entry at byte `offset` of a FAT block free (on FAT32, its
    /// top four bits, which are not the entry's, as they were).
    pub fn free_entry(&self, block: &mut [u8; BLOCK_BYTES], offset: usize) {
        match self.entry_bytes {
            2 => block[offset..offset + 2].fill(0),
            _ => {
                block[offset..offset + 3].fill(0);
                block[offset + 3] &= 0xf0;
            }
        }
    }

    /// The data cluster (numbered from 2) block `block` lies in; `None`
    /// for a block before the data area (the fixed root directory, the
    /// FATs) or past it.
    pub fn cluster_of(&self, block: u32) -> Option<u32> {
        let cluster = block.checked_sub(self.data)? / self.cluster_blocks;
        (cluster < self.clusters).then_some(cluster + 2)
    }

    /// The last block of data cluster `cluster` (numbered from 2).
    pub fn last_block_of(&self, cluster: u32) -> Option<u32> {
        (2..self.clusters.saturating_add(2))
            .contains(&cluster)
            .then(|| self.data + (cluster - 1) * self.cluster_blocks - 1)
    }

    /// The first FAT's blocks, as (index from 0, block), in the order to
    /// look for the cluster before `cluster` in its chain
    /// ([`cluster_leading_to`](Self::cluster_leading_to)): from the block
    /// of the cluster right before it down to the FAT's first, then up
    /// from there to its last. A directory's clusters are taken as it
    /// grows, each usually a little after the one before, so the first
    /// block is most often the one.
    pub fn blocks_to_look_before(&self, cluster: u32) -> impl Iterator<Item = (u32, u32)> + use<> {
        let (fat, fat_blocks) = (self.fat, self.fat_blocks);
        let home = self.fat_entry(cluster.saturating_sub(1)).map_or(0, |(block, _)| block - fat);
        (0..=home).rev().chain(home + 1..fat_blocks).map(move |index| (index, fat + index))
    }

    /// The cluster whose entry in `block`, block `index` of the FAT, is
    /// `next`: the cluster before `next` in its chain, if its entry is in
    /// that block (none on FAT12).
    pub fn cluster_leading_to(
        &self,
        index: u32,
        block: &[u8; BLOCK_BYTES],
        next: u32,
    ) -> Option<u32> {
        let per_block = BLOCK_BYTES as u32 / self.entry_bytes.max(1);
        (0..per_block).map(|n| index.saturating_mul(per_block).saturating_add(n)).find(|&cluster| {
            self.fat_entry(cluster).is_some_and(|(at, offset)| {
                at == self.fat + index && self.entry(block, offset) == next
            })
        })
    }

    /// The block of FAT32's FSInfo sector, if the volume has one.
    pub fn info_block(&self) -> Option<u32> {
        self.info
    }

    /// Clusters of the data area: a chain longer than this loops.
    pub fn clusters(&self) -> u32 {
        self.clusters
    }

    /// Whether the block before `block`, a block of a directory, holds
    /// entries of the same directory: it does within the fixed root
    /// directory but at its first block, and within a cluster but at its
    /// first block (the cluster before in the directory's chain may be
    /// anywhere).
    pub fn continues_before(&self, block: u32) -> bool {
        let (root, after_root) = self.root;
        if (root..after_root).contains(&block) {
            return block > root;
        }
        block > self.data && !(block - self.data).is_multiple_of(self.cluster_blocks)
    }
}

/// The free-cluster count of an FSInfo sector, at byte 488.
const FREE_COUNT: usize = 488;

/// The count that says "unknown": whoever reads the volume next counts
/// the free clusters in the FAT.
const UNKNOWN: u32 = 0xffff_ffff;

/// Makes the FSInfo sector `info` say the volume's count of free clusters
/// is unknown, as the FAT32 specification allows; whether it changed it
/// (not for a sector without FSInfo's three signatures, or one that says
/// so already). For a volume whose clusters are freed behind the back of
/// a FAT implementation that keeps that count (embedded-sdmmc): with the
/// count unknown at its mount, it keeps none, and writes none back.
pub fn forget_free_count(info: &mut [u8; BLOCK_BYTES]) -> bool {
    let u32_at =
        |at: usize| u32::from_le_bytes([info[at], info[at + 1], info[at + 2], info[at + 3]]);
    let signed =
        u32_at(0) == 0x4161_5252 && u32_at(484) == 0x6141_7272 && u32_at(508) == 0xaa55_0000;
    if !signed || u32_at(FREE_COUNT) == UNKNOWN {
        return false;
    }
    info[FREE_COUNT..FREE_COUNT + 4].copy_from_slice(&UNKNOWN.to_le_bytes());
    true
}

/// Frees the long name of the short-name entry at byte `offset` of the
/// last block of `blocks` (blocks that follow one another in its
/// directory: the entry's own block, and the one before if the name may
/// reach into it): each entry of the run before it whose sequence and
/// checksum (`checksum`, the short name's) say it belongs to it, down to
/// the part flagged as the last. Returns how many entries it freed (0 for a
/// short name without a long one); the blocks it changed are those the
/// freed entries lie in.
pub fn free_long_name(blocks: &mut [&mut [u8; BLOCK_BYTES]], offset: usize, checksum: u8) -> usize {
    free_long_name_from(blocks, offset, checksum, 1).freed
}

/// What [`free_long_name_from`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreedRun {
    /// Entries it freed.
    pub freed: usize,
    /// The part to look for next, when the run reached the start of the
    /// first block given with its last part still to come: the name goes
    /// on at the end of the directory's block before those, which may lie
    /// in another cluster (a name another system wrote across a
    /// cluster's start, or across three blocks).
    pub next: Option<u8>,
}

/// [`free_long_name`], from part `first` on: 1 for the run before a
/// short-name entry at byte `offset` of the last block, a later part for
/// the rest of a run in the directory's blocks before, with `offset`
/// [`BLOCK_BYTES`] (the run goes on to the end of the last block).
pub fn free_long_name_from(
    blocks: &mut [&mut [u8; BLOCK_BYTES]],
    offset: usize,
    checksum: u8,
    first: u8,
) -> FreedRun {
    let Some(last) = blocks.len().checked_sub(1) else { return FreedRun { freed: 0, next: None } };
    let mut at = last * BLOCK_BYTES + offset.min(BLOCK_BYTES);
    let mut freed = 0;
    for part in first..=MAX_PARTS {
        let Some(before) = at.checked_sub(ENTRY_BYTES) else {
            return FreedRun { freed, next: Some(part) };
        };
        at = before;
        let entry = &mut blocks[at / BLOCK_BYTES][at % BLOCK_BYTES..][..ENTRY_BYTES];
        let belongs = entry[0] & !LAST == part
            && entry[11] == LONG_NAME
            && entry[12] == 0
            && entry[13] == checksum
            && entry[26..28] == [0, 0];
        if !belongs {
            break;
        }
        let sequence = entry[0];
        entry[0] = FREE;
        freed += 1;
        if sequence & LAST != 0 {
            break;
        }
    }
    FreedRun { freed, next: None }
}

/// Where a write of `count` bytes at offset `at` of a file ends, if a FAT
/// file can be that long: its size is 32 bits, so 4 GiB less a byte at
/// most (`None`: `EFBIG`; embedded-sdmmc would drop the bytes past it and
/// report them written).
pub fn write_end(at: u32, count: usize) -> Option<u32> {
    u32::try_from(count).ok().and_then(|count| at.checked_add(count))
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec;
    use std::vec::Vec;

    use super::*;

    /// A directory of `blocks` blocks holding, from entry `first` on, the
    /// long name `name` and then its short name `short`; returns the
    /// blocks and the short-name entry's block and offset.
    fn directory(
        blocks: usize,
        first: usize,
        name: &str,
        short: &[u8; 11],
    ) -> (Vec<[u8; 512]>, usize, usize) {
        let mut dir = vec![[0u8; 512]; blocks];
        let units: Vec<u16> = name.encode_utf16().collect();
        let parts = units.len().div_ceil(13);
        let sum = checksum(short);
        for part in (1..=parts).rev() {
            let entry = entry_at(&mut dir, first + parts - part);
            entry[0] = part as u8 | if part == parts { LAST } else { 0 };
            entry[11] = LONG_NAME;
            entry[13] = sum;
            let chunk = &units[(part - 1) * 13..units.len().min(part * 13)];
            let places = (1..11).step_by(2).chain((14..26).step_by(2)).chain((28..32).step_by(2));
            for (unit, place) in chunk
                .iter()
                .chain(core::iter::once(&0))
                .chain(core::iter::repeat(&0xffff))
                .zip(places)
            {
                entry[place..place + 2].copy_from_slice(&unit.to_le_bytes());
            }
        }
        let index = first + parts;
        let entry = entry_at(&mut dir, index);
        entry[..11].copy_from_slice(short);
        entry[11] = 0x20;
        (dir, index * ENTRY_BYTES / 512, index * ENTRY_BYTES % 512)
    }

    /// Directory entry `index` of `dir`.
    fn entry_at(dir: &mut [[u8; 512]], index: usize) -> &mut [u8] {
        let at = index * ENTRY_BYTES;
        &mut dir[at / 512][at % 512..][..ENTRY_BYTES]
    }

    /// The blocks as [`free_long_name`] takes them.
    fn refs(blocks: &mut [[u8; 512]]) -> Vec<&mut [u8; 512]> {
        blocks.iter_mut().collect()
    }

    fn free_entries(dir: &[[u8; 512]]) -> usize {
        dir.iter().flat_map(|block| block.chunks(ENTRY_BYTES)).filter(|e| e[0] == FREE).count()
    }

    #[test]
    fn a_write_ends_within_fats_largest_file() {
        assert_eq!(write_end(0, 4), Some(4));
        assert_eq!(write_end(u32::MAX - 4, 4), Some(u32::MAX), "4 GiB less a byte");
        assert_eq!(write_end(u32::MAX - 3, 4), None, "a byte too far");
        assert_eq!(write_end(0, usize::MAX), None);
    }

    #[test]
    fn a_long_name_in_the_entry_s_block_is_freed_whole() {
        let short = *b"SENSOR~1CSV";
        let (mut dir, block, offset) = directory(1, 3, "Sensor readings.csv", &short);
        assert_eq!((block, offset), (0, 5 * 32));
        assert_eq!(free_long_name(&mut refs(&mut dir[..1]), offset, checksum(&short)), 2);
        assert_eq!(dir[0][3 * 32], FREE);
        assert_eq!(dir[0][4 * 32], FREE);
        // Only the run: the short-name entry (the caller's) and the rest
        // are as they were.
        assert_eq!(&dir[0][5 * 32..5 * 32 + 11], &short);
        assert_eq!(free_entries(&dir), 2);
    }

    #[test]
    fn a_long_name_reaching_into_the_block_before_is_freed_there_too() {
        let short = *b"A_VERY~1TXT";
        let name = "a long name of three parts.txt";
        // Parts 3 (the last, flagged) and 2 at entries 14 and 15 of block
        // 0, part 1 at entry 16 (block 1's first), the short name at 17.
        let (mut dir, block, offset) = directory(2, 14, name, &short);
        assert_eq!((block, offset), (1, 32));
        let sum = checksum(&short);
        // With the block alone, the part in it goes; the others stay.
        let mut alone = [dir[1]];
        assert_eq!(free_long_name(&mut refs(&mut alone), offset, sum), 1);
        assert_eq!(free_long_name(&mut refs(&mut dir), offset, sum), 3);
        assert_eq!((dir[0][14 * 32], dir[0][15 * 32], dir[1][0]), (FREE, FREE, FREE));
        assert_eq!(free_entries(&dir), 3);
    }

    /// A name of 20 parts from entry 14 of a directory's first block to
    /// entry 33 (in its third), its short name at 34, freed a block at a
    /// time as the board's std layer does when the blocks lie in different
    /// clusters: each says where the run goes on, and with which part.
    #[test]
    fn a_long_name_across_three_blocks_is_freed_a_block_at_a_time() {
        let short = *b"TUESDA~1TXT";
        let name = "Tuesday log ".repeat(20) + "notes.txt";
        assert_eq!(name.len().div_ceil(13), 20);
        let (mut dir, block, offset) = directory(3, 14, &name, &short);
        assert_eq!((block, offset), (2, 2 * 32));
        let sum = checksum(&short);
        let [first, second, third] = &mut dir[..] else { unreachable!() };
        let run = free_long_name_from(&mut [third], offset, sum, 1);
        assert_eq!(run, FreedRun { freed: 2, next: Some(3) });
        let run = free_long_name_from(&mut [second], BLOCK_BYTES, sum, 3);
        assert_eq!(run, FreedRun { freed: 16, next: Some(19) });
        let run = free_long_name_from(&mut [first], BLOCK_BYTES, sum, 19);
        assert_eq!(run, FreedRun { freed: 2, next: None }, "part 20 is the last");
        assert_eq!(free_entries(&dir), 20);
        assert_eq!(&dir[2][2 * 32..2 * 32 + 11], &short);
        // Given the blocks together, it frees the run in one call.
        let (mut dir, _, offset) = directory(3, 14, &name, &short);
        assert_eq!(free_long_name_from(&mut refs(&mut dir), offset, sum, 1).freed, 20);
        // A short-name entry at a block's start: its run, if any, is all
        // in the block before.
        let (mut dir, block, offset) = directory(2, 14, "Sensor readings.csv", &short);
        assert_eq!((block, offset), (1, 0));
        let [before, own] = &mut dir[..] else { unreachable!() };
        assert_eq!(
            free_long_name_from(&mut [own], 0, sum, 1),
            FreedRun { freed: 0, next: Some(1) }
        );
        let run = free_long_name_from(&mut [before], BLOCK_BYTES, sum, 1);
        assert_eq!(run, FreedRun { freed: 2, next: None });
        // A block whose last entry is no part of the name: the run ends.
        let (mut dir, _, _) = directory(2, 14, "Sensor readings.csv", &short);
        let run = free_long_name_from(&mut refs(&mut dir[..1]), BLOCK_BYTES, sum, 2);
        assert_eq!(run, FreedRun { freed: 0, next: None }, "part 2 is not where part 1 is");
        assert_eq!(free_entries(&dir), 0);
    }

    #[test]
    fn entries_of_another_name_or_of_none_are_left() {
        let short = *b"SENSOR~1CSV";
        let (dir, _, offset) = directory(1, 0, "Sensor readings.csv", &short);
        // Another short name's checksum: nothing of the run is its.
        let mut other = dir.clone();
        assert_eq!(free_long_name(&mut refs(&mut other), offset, checksum(b"SENSOR~2CSV")), 0);
        assert_eq!(other, dir);
        // A run with a part missing (sequence 1 gone): nothing freed.
        let mut broken = dir.clone();
        broken[0][32] = FREE;
        assert_eq!(free_long_name(&mut refs(&mut broken), offset, checksum(&short)), 0);
        // A short name without a long one, after another file's entry.
        let mut plain = vec![[0u8; 512]];
        plain[0][..11].copy_from_slice(b"OTHER   TXT");
        plain[0][11] = 0x20;
        plain[0][32..43].copy_from_slice(b"README  TXT");
        assert_eq!(free_long_name(&mut refs(&mut plain), 32, checksum(b"README  TXT")), 0);
        // The directory's first entry: nothing before it.
        let mut first = vec![[0u8; 512]];
        assert_eq!(free_long_name(&mut refs(&mut first), 0, 0), 0);
        assert_eq!(free_long_name(&mut [], 0, 0), 0);
    }

    #[test]
    fn an_entry_that_is_not_a_long_name_part_ends_the_run() {
        let short = *b"SENSOR~1CSV";
        let sum = checksum(&short);
        for (byte, value) in [(11, 0x20), (12, 1), (26, 5), (27, 1)] {
            let (mut dir, _, offset) = directory(1, 0, "Sensor readings.csv", &short);
            dir[0][32 + byte] = value;
            let before = dir.clone();
            assert_eq!(
                free_long_name(&mut refs(&mut dir), offset, sum),
                0,
                "byte {byte} = {value}"
            );
            assert_eq!(dir, before);
        }
        // A run without its last part's flag stops at 20 parts at most.
        let mut dir = vec![[0u8; 512]; 2];
        for part in 1..=21usize {
            let at = (30 - part) * 32;
            let entry = &mut dir[at / 512][at % 512..][..32];
            entry[0] = part as u8;
            entry[11] = LONG_NAME;
            entry[13] = sum;
        }
        assert_eq!(free_long_name(&mut refs(&mut dir), 30 * 32 % 512, sum), 20);
    }

    #[test]
    fn an_alias_is_the_long_name_s_base_and_extension_cut_with_a_number() {
        for (name, n, alias) in [
            ("Sensor readings.csv", 1, b"SENSOR~1CSV"),
            ("config.json", 2, b"CONFIG~2JSO"),
            ("a b c", 12, b"ABC~12     "),
            ("über.txt", 1, b"_BER~1  TXT"),
            (".hidden", 1, b"HIDDEN~1   "),
            ("x.tar.gz", 1, b"XTAR~1  GZ "),
            ("+++.log", 3, b"___~3   LOG"),
            ("many digits here", 123456, b"M~123456   "),
            ("..a", 1, b"_~1     A  "),
            // Characters a short name may hold stay as they are.
            ("a#b (c).txt", 1, b"A#B(C)~1TXT"),
        ] {
            assert_eq!(&short_alias(name, n), alias, "{name} {n}");
        }
        assert_eq!(checksum(b"SENSOR~1CSV"), {
            let mut sum = 0u8;
            for &byte in b"SENSOR~1CSV" {
                sum = ((sum & 1) << 7).wrapping_add(sum >> 1).wrapping_add(byte);
            }
            sum
        });
    }

    #[test]
    fn long_names_are_what_fat_can_hold() {
        for good in ["Sensor readings.csv", "a", ".hidden", "über älles", "x.tar.gz"] {
            assert!(long_name_valid(good), "{good}");
        }
        let long = "x".repeat(256);
        for bad in [
            "", ".", "..", "a.", "a ", "a/b", "a:b", "a*", "a?", "a\"b", "a<b", "a|b", "a\tb",
            &long,
        ] {
            assert!(!long_name_valid(bad), "{bad:?}");
        }
        assert!(long_name_valid(&long[..255]));
        assert_eq!(MAX_WRITTEN_UNITS, 247);
    }

    /// A directory block: entries `used` in use (a short name each), the
    /// others as `rest` (0: never used, [`FREE`]: freed), and the alias
    /// just made at entry `own`.
    fn made(used: &[usize], rest: u8, own: usize, alias: &[u8; 11]) -> [u8; 512] {
        let mut block = [0u8; 512];
        for (index, entry) in block.chunks_exact_mut(32).enumerate() {
            if used.contains(&index) {
                entry[..11].copy_from_slice(b"USED    BIN");
                entry[0] = b'A' + index as u8;
                entry[11] = 0x20;
            } else {
                entry[0] = rest;
            }
        }
        block[own * 32..own * 32 + 11].copy_from_slice(alias);
        block[own * 32 + 11] = 0x20;
        block[own * 32 + 28] = 42;
        block
    }

    #[test]
    fn a_new_entry_at_the_directory_s_end_takes_its_name_s_parts_there() {
        let alias = short_alias("Sensor readings.csv", 1);
        let mut block = made(&[0, 1], 0, 2, &alias);
        let moved = give_long_name(&mut [&mut block], 64, "Sensor readings.csv");
        assert_eq!(moved, Some(4 * 32));
        // As a long name of the same short name is laid out, and the entry
        // (its size byte too) after it; the directory's end after that.
        let (expected, _, offset) = directory(1, 2, "Sensor readings.csv", &alias);
        assert_eq!(offset, 4 * 32);
        assert_eq!(block[64..128], expected[0][64..128]);
        assert_eq!(block[128..139], alias);
        assert_eq!(block[128 + 28], 42);
        assert_eq!(block[160], 0);
        assert_eq!(&block[..2 * 32], &made(&[0, 1], 0, 2, &alias)[..64]);
        // And it is freed whole again.
        assert_eq!(free_long_name(&mut [&mut block], 4 * 32, checksum(&alias)), 2);
    }

    #[test]
    fn an_entry_made_in_a_freed_place_moves_to_a_run_that_fits() {
        let name = "a long name of three parts.txt";
        let alias = short_alias(name, 1);
        // Freed entries at 2 (where the alias was made) and 4 to 6, one in
        // use between: the run is 4 to 7 (three parts and the entry).
        let mut block = made(&[0, 1, 3, 8], FREE, 2, &alias);
        let moved = give_long_name(&mut [&mut block], 64, name);
        assert_eq!(moved, Some(7 * 32));
        assert_eq!(block[64], FREE);
        assert_eq!(block[7 * 32..7 * 32 + 11], alias);
        assert_eq!(block[4 * 32], 0x43);
        assert_eq!((block[5 * 32], block[6 * 32]), (0x02, 0x01));
        assert_eq!(block[8 * 32], b'A' + 8);
        // A run across two blocks of the directory.
        let mut first = made(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], 0, 14, &alias);
        let mut second = [0u8; 512];
        let moved = give_long_name(&mut [&mut first, &mut second], 14 * 32, name);
        assert_eq!(moved, Some(17 * 32));
        assert_eq!((first[14 * 32], first[15 * 32], second[0]), (0x43, 0x02, 0x01));
        assert_eq!(second[32..43], alias);
        assert_eq!(free_long_name(&mut [&mut first, &mut second], 32, checksum(&alias)), 3);
    }

    #[test]
    fn a_run_one_entry_short_of_the_name_and_its_entry_is_passed_over() {
        // Two parts and the entry: entries 2 (the alias) and 3 (freed) are
        // one short, 4 is taken; the run from 5 on fits.
        let alias = short_alias("Sensor readings.csv", 1);
        let mut block = made(&[0, 1, 4], FREE, 2, &alias);
        let moved = give_long_name(&mut [&mut block], 64, "Sensor readings.csv");
        assert_eq!(moved, Some(7 * 32));
        assert_eq!(block[7 * 32..7 * 32 + 11], alias);
        assert_eq!(block[2 * 32], FREE, "its old place freed");
    }

    #[test]
    fn without_room_for_the_name_nothing_changes() {
        let alias = short_alias("Sensor readings.csv", 1);
        let all: Vec<usize> = (0..16).collect();
        let full = made(&all, 0, 15, &alias);
        let mut block = full;
        assert_eq!(give_long_name(&mut [&mut block], 15 * 32, "Sensor readings.csv"), None);
        assert_eq!(block, full);
        // Two free places, one apart: no run of three.
        let spread = made(&[0, 1, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], FREE, 2, &alias);
        let mut block = spread;
        assert_eq!(give_long_name(&mut [&mut block], 64, "Sensor readings.csv"), None);
        assert_eq!(block, spread);
        assert!(!has_room_for(&[&mut block], 64, "Sensor readings.csv"));
        assert!(!has_room_for(&[&mut block], 64, "short"));
        let mut roomy = made(&[0, 1], 0, 2, &alias);
        assert!(has_room_for(&[&mut roomy], 64, "Sensor readings.csv"));
        assert!(!has_room_for(&[&mut roomy], 64, &"x".repeat(13 * 14 + 1)));
        // Names that are none, and places that are no entry's.
        assert_eq!(give_long_name(&mut [&mut block], 64, ""), None);
        assert_eq!(give_long_name(&mut [&mut block], 65, "a"), None);
        assert_eq!(give_long_name(&mut [&mut block], 512, "a"), None);
        assert_eq!(give_long_name(&mut [], 0, "a"), None);
        // An offset is in the first block, even where a second follows.
        let (mut first, mut second) = ([0u8; 512], [0u8; 512]);
        assert!(!has_room_for(&[&mut first, &mut second], 512, "a"));
        assert_eq!(give_long_name(&mut [&mut first, &mut second], 512, "a"), None);
        // Room counts from the entry's own place: entries 0 to 12 taken,
        // the alias at 13, 14 and 15 never used.
        let alias = short_alias("Sensor readings.csv", 1);
        let mut last = made(&(0..13).collect::<Vec<_>>(), 0, 13, &alias);
        assert!(has_room_for(&[&mut last], 13 * 32, "Sensor readings.csv"));
        assert_eq!(block, spread);
    }

    #[test]
    fn names_are_the_same_whatever_the_case_of_their_ascii_letters() {
        assert!(same_name("Sensor readings.csv", "sensor READINGS.CSV"));
        assert!(!same_name("Sensor readings.csv", "Sensor readings.cs"));
        assert!(same_name("Größe.txt", "größe.TXT"));
        assert!(!same_name("Größe.txt", "GRÖSSE.TXT"));
    }

    /// A FAT16 boot sector: 4 reserved blocks, 2 FATs of 32 blocks, 512
    /// root entries (32 blocks), 4-block clusters, 20,580 blocks in all
    /// (5,120 clusters).
    fn fat16_boot() -> [u8; 512] {
        let mut boot = [0u8; 512];
        boot[19..21].copy_from_slice(&20580u16.to_le_bytes());
        boot[11..13].copy_from_slice(&512u16.to_le_bytes());
        boot[13] = 4;
        boot[14..16].copy_from_slice(&4u16.to_le_bytes());
        boot[16] = 2;
        boot[17..19].copy_from_slice(&512u16.to_le_bytes());
        boot[22..24].copy_from_slice(&32u16.to_le_bytes());
        boot
    }

    /// A FAT32 boot sector: 4 reserved blocks, 2 FATs of 100 blocks, no
    /// fixed root, 8-block clusters, 70,000 clusters after the FATs (at
    /// block 1: data at 205).
    fn fat32_boot() -> [u8; 512] {
        let mut boot = fat16_boot();
        boot[17..19].fill(0);
        boot[22..24].fill(0);
        boot[13] = 8;
        boot[19..21].fill(0);
        boot[32..36].copy_from_slice(&(205 + 8 * 70000u32).to_le_bytes());
        boot[36..40].copy_from_slice(&100u32.to_le_bytes());
        boot
    }

    #[test]
    fn fat32_names_its_fsinfo_sector_and_fat16_has_none() {
        let mut boot = fat32_boot();
        boot[48..50].copy_from_slice(&1u16.to_le_bytes());
        let geometry = FatGeometry::from_boot_sector(&boot, 2048).unwrap();
        assert_eq!(geometry.info_block(), Some(2049));
        boot[48..50].copy_from_slice(&0xffffu16.to_le_bytes());
        let geometry = FatGeometry::from_boot_sector(&boot, 2048).unwrap();
        assert_eq!(geometry.info_block(), None, "none named");
        let mut boot = fat16_boot();
        boot[48..50].copy_from_slice(&1u16.to_le_bytes());
        let geometry = FatGeometry::from_boot_sector(&boot, 2048).unwrap();
        assert_eq!(geometry.info_block(), None, "FAT16 keeps no count");
    }

    #[test]
    fn an_fsinfo_sector_comes_to_say_its_free_count_is_unknown() {
        let mut info = [0u8; 512];
        info[0..4].copy_from_slice(&0x4161_5252u32.to_le_bytes());
        info[484..488].copy_from_slice(&0x6141_7272u32.to_le_bytes());
        info[488..492].copy_from_slice(&1234u32.to_le_bytes());
        info[492..496].copy_from_slice(&77u32.to_le_bytes());
        info[508..512].copy_from_slice(&0xaa55_0000u32.to_le_bytes());
        let before = info;
        assert!(forget_free_count(&mut info));
        assert_eq!(info[488..492], [0xff; 4]);
        assert_eq!(info[..488], before[..488], "the rest as it was");
        assert_eq!(info[492..], before[492..], "the next-free hint too");
        assert!(!forget_free_count(&mut info), "unknown already");
        // A count with all but one byte 0xff is no unknown one.
        info[488..492].copy_from_slice(&0xffff_00ffu32.to_le_bytes());
        assert!(forget_free_count(&mut info));
        assert_eq!(info[488..492], [0xff; 4]);
        // Not an FSInfo sector: each signature missing in turn.
        for at in [0, 484, 508] {
            let mut other = before;
            other[at] ^= 1;
            assert!(!forget_free_count(&mut other), "signature at {at}");
            assert_eq!(other[488..492], before[488..492]);
        }
    }

    #[test]
    fn the_fixed_root_and_each_cluster_continue_from_their_second_block_on() {
        // The volume at block 2048: root at 2048 + 4 + 64 = 2116, data at
        // 2116 + 32 = 2148.
        let geometry = FatGeometry::from_boot_sector(&fat16_boot(), 2048).unwrap();
        assert!(!geometry.continues_before(2116));
        assert!(geometry.continues_before(2117));
        assert!(geometry.continues_before(2147));
        assert!(!geometry.continues_before(2148));
        assert!(geometry.continues_before(2149));
        assert!(geometry.continues_before(2151));
        assert!(!geometry.continues_before(2152));
        assert!(geometry.continues_before(2153));
        // FAT32: no fixed root, the FAT's size at 36.
        let geometry = FatGeometry::from_boot_sector(&fat32_boot(), 1).unwrap();
        // Data at 1 + 4 + 200 = 205.
        assert!(!geometry.continues_before(205));
        assert!(geometry.continues_before(206));
        assert!(!geometry.continues_before(213));
        assert!(!geometry.continues_before(204));
    }

    #[test]
    fn a_cluster_s_fat_entry_is_found_read_and_freed_by_the_fat_s_type() {
        // FAT16 at 2048: the first FAT at 2052, 32 blocks each, two; 5,120
        // clusters (20,580 blocks from 2048, data at 2148).
        let geometry = FatGeometry::from_boot_sector(&fat16_boot(), 2048).unwrap();
        assert_eq!(geometry.clusters(), 5120);
        assert_eq!(geometry.fat_entry(2), Some((2052, 4)));
        assert_eq!(geometry.fat_entry(256), Some((2053, 0)));
        assert_eq!(geometry.fat_entry(5121), Some((2052 + 20, 2)));
        assert_eq!(geometry.fat_entry(5122), None);
        assert_eq!(geometry.fat_entry(1), None);
        assert_eq!(geometry.fat_copies(2053).collect::<Vec<_>>(), [2053, 2085]);
        let mut block = [0u8; 512];
        block[4..6].copy_from_slice(&0xfff8u16.to_le_bytes());
        block[6..8].copy_from_slice(&7u16.to_le_bytes());
        assert_eq!((geometry.entry(&block, 4), geometry.entry(&block, 6)), (0xfff8, 7));
        geometry.free_entry(&mut block, 6);
        assert_eq!((geometry.entry(&block, 4), geometry.entry(&block, 6)), (0xfff8, 0));
        // FAT32: four bytes an entry, the top four bits not its own.
        let geometry = FatGeometry::from_boot_sector(&fat32_boot(), 1).unwrap();
        assert_eq!(geometry.clusters(), 70000);
        assert_eq!(geometry.fat_entry(200), Some((5 + 1, 288)));
        assert_eq!(geometry.fat_copies(6).collect::<Vec<_>>(), [6, 106]);
        block[288..292].copy_from_slice(&0xf000_0009u32.to_le_bytes());
        assert_eq!(geometry.entry(&block, 288), 9);
        geometry.free_entry(&mut block, 288);
        assert_eq!(block[288..292], 0xf000_0000u32.to_le_bytes());
        // FAT12 (under 4,085 clusters): no entry is found.
        let mut small = fat16_boot();
        small[19..21].copy_from_slice(&4000u16.to_le_bytes());
        let geometry = FatGeometry::from_boot_sector(&small, 0).unwrap();
        assert_eq!(geometry.fat_entry(2), None);
    }

    #[test]
    fn fat_entries_are_read_and_freed_byte_exactly_beside_their_neighbours() {
        // FAT16: freeing one entry leaves the two beside it.
        let geometry = FatGeometry::from_boot_sector(&fat16_boot(), 2048).unwrap();
        let mut block = [0xa5u8; 512];
        geometry.free_entry(&mut block, 4);
        assert_eq!(block[..8], [0xa5, 0xa5, 0xa5, 0xa5, 0, 0, 0xa5, 0xa5]);
        // FAT32: each of the four bytes read from its place; freed, the
        // top four bits stay, and so do the neighbours.
        let geometry = FatGeometry::from_boot_sector(&fat32_boot(), 1).unwrap();
        let mut block = [0xa5u8; 512];
        block[8..12].copy_from_slice(&0xb234_5678u32.to_le_bytes());
        assert_eq!(geometry.entry(&block, 8), 0x0234_5678);
        geometry.free_entry(&mut block, 8);
        assert_eq!(block[4..8], [0xa5; 4]);
        assert_eq!(block[8..12], [0, 0, 0, 0xb0]);
        assert_eq!(block[12..16], [0xa5; 4]);
    }

    #[test]
    fn a_block_s_cluster_and_a_cluster_s_last_block_and_the_one_before_it() {
        // FAT16 at 2048: data at 2148, 4-block clusters, 5,120 of them.
        let geometry = FatGeometry::from_boot_sector(&fat16_boot(), 2048).unwrap();
        assert_eq!(geometry.cluster_of(2148), Some(2));
        assert_eq!(geometry.cluster_of(2151), Some(2));
        assert_eq!(geometry.cluster_of(2152), Some(3));
        assert_eq!(geometry.cluster_of(2147), None, "the fixed root directory");
        assert_eq!(geometry.cluster_of(2148 + 4 * 5120 - 1), Some(5121));
        assert_eq!(geometry.cluster_of(2148 + 4 * 5120), None, "past the data area");
        assert_eq!(geometry.last_block_of(2), Some(2151));
        assert_eq!(geometry.last_block_of(5121), Some(2148 + 4 * 5120 - 1));
        assert_eq!((geometry.last_block_of(1), geometry.last_block_of(5122)), (None, None));
        // The FAT's second block: clusters 256 to 511. Cluster 300 leads
        // to 9; clusters 0 and 1 are no data clusters' in the first.
        let mut block = [0u8; 512];
        block[(300 - 256) * 2..][..2].copy_from_slice(&9u16.to_le_bytes());
        assert_eq!(geometry.cluster_leading_to(1, &block, 9), Some(300));
        assert_eq!(geometry.cluster_leading_to(0, &block, 9), Some(44));
        assert_eq!(geometry.cluster_leading_to(1, &block, 10), None);
        let mut reserved = [0u8; 512];
        reserved[..2].copy_from_slice(&9u16.to_le_bytes());
        reserved[2..4].copy_from_slice(&9u16.to_le_bytes());
        assert_eq!(geometry.cluster_leading_to(0, &reserved, 9), None);
        // Past the volume's last cluster, 5121 (20 * 256 + 1: block 20's
        // second entry, at byte 2).
        let mut tail = [0u8; 512];
        tail[4..6].copy_from_slice(&9u16.to_le_bytes());
        assert_eq!(geometry.cluster_leading_to(20, &tail, 9), None);
        tail[2..4].copy_from_slice(&9u16.to_le_bytes());
        assert_eq!(geometry.cluster_leading_to(20, &tail, 9), Some(5121));
        // FAT32: four bytes an entry, the top four bits not the entry's.
        let geometry = FatGeometry::from_boot_sector(&fat32_boot(), 1).unwrap();
        assert_eq!(geometry.cluster_of(205 + 8 * 3 + 7), Some(5));
        assert_eq!(geometry.last_block_of(5), Some(205 + 8 * 4 - 1));
        let mut block = [0u8; 512];
        block[(200 - 128) * 4..][..4].copy_from_slice(&0xf000_0063u32.to_le_bytes());
        assert_eq!(geometry.cluster_leading_to(1, &block, 0x63), Some(200));
        // FAT12: no entry is read.
        let mut small = fat16_boot();
        small[19..21].copy_from_slice(&4000u16.to_le_bytes());
        let geometry = FatGeometry::from_boot_sector(&small, 0).unwrap();
        assert_eq!(geometry.cluster_leading_to(0, &[0; 512], 0), None);
    }

    /// The cluster before another in its chain, found as the board's std
    /// layer looks for it: near it first, then the whole FAT.
    #[test]
    fn the_cluster_before_another_is_looked_for_near_it_first() {
        // FAT16 at 2048: the first FAT at 2052, 32 blocks of 256 entries.
        let geometry = FatGeometry::from_boot_sector(&fat16_boot(), 2048).unwrap();
        let order = |cluster| geometry.blocks_to_look_before(cluster).collect::<Vec<_>>();
        let indices = |cluster| order(cluster).iter().map(|&(index, _)| index).collect::<Vec<_>>();
        let expected: Vec<u32> = [1, 0].into_iter().chain(2..32).collect();
        assert_eq!(indices(300), expected, "299's block, the one below, then up");
        assert_eq!(indices(256), [0].into_iter().chain(1..32).collect::<Vec<_>>());
        assert_eq!(indices(2), (0..32).collect::<Vec<_>>(), "none before cluster 2");
        assert_eq!(indices(5121).len(), 32);
        assert_eq!(order(300)[0], (1, 2053));
        assert!(order(300).iter().all(|&(index, block)| block == 2052 + index));
        // A chain 10 -> 5000 -> 40 (a directory grown thrice, far apart):
        // the cluster before 5000 is found in block 0, 40's in block 19.
        let mut fat = vec![[0u8; 512]; 32];
        let mut link = |from: usize, to: u16| {
            fat[from / 256][from % 256 * 2..][..2].copy_from_slice(&to.to_le_bytes());
        };
        link(10, 5000);
        link(5000, 40);
        link(40, 0xffff);
        let before = |cluster| {
            let mut read = 0;
            let found = geometry.blocks_to_look_before(cluster).find_map(|(index, _)| {
                read += 1;
                geometry.cluster_leading_to(index, &fat[index as usize], cluster)
            });
            (found, read)
        };
        assert_eq!(before(5000), (Some(10), 20), "from block 19 down to 0");
        assert_eq!(before(40), (Some(5000), 20), "down from block 0, then up to 19");
        assert_eq!(before(10), (None, 32), "the chain's first: every block read");
    }

    #[test]
    fn a_fat_smaller_than_its_clusters_need_has_no_entry_past_its_end() {
        // 8-block FATs hold 2,048 FAT16 entries; the volume has 5,132
        // clusters.
        let mut boot = fat16_boot();
        boot[22..24].copy_from_slice(&8u16.to_le_bytes());
        let geometry = FatGeometry::from_boot_sector(&boot, 2048).unwrap();
        assert_eq!(geometry.clusters(), 5132);
        assert_eq!(geometry.fat_entry(2047), Some((2052 + 7, 510)));
        assert_eq!(geometry.fat_entry(2048), None);
    }

    #[test]
    fn a_large_fat32_volume_counts_its_sectors_in_all_four_bytes() {
        // 24,000,205 blocks (0x016e_3a4d): 3,000,000 clusters of 8 blocks.
        let mut boot = fat32_boot();
        boot[32..36].copy_from_slice(&(205 + 8 * 3_000_000u32).to_le_bytes());
        let geometry = FatGeometry::from_boot_sector(&boot, 1).unwrap();
        assert_eq!(geometry.clusters(), 3_000_000);
    }

    #[test]
    fn an_entry_s_first_cluster_is_its_two_halves() {
        let mut block = [0u8; 512];
        block[64 + 20..64 + 22].copy_from_slice(&0x0012u16.to_le_bytes());
        block[64 + 26..64 + 28].copy_from_slice(&0x3456u16.to_le_bytes());
        assert_eq!(first_cluster(&block, 64), 0x0012_3456);
        assert_eq!(first_cluster(&block, 32), 0);
    }

    #[test]
    fn a_boot_sector_without_fat_geometry_gives_none() {
        assert_eq!(FatGeometry::from_boot_sector(&[0; 512], 0), None);
        for (at, value) in [(11, 0), (13, 3), (14, 0), (16, 0), (22, 0)] {
            let mut boot = fat16_boot();
            boot[at] = value;
            if at == 11 {
                boot[12] = 4;
            }
            if at == 14 {
                boot[15] = 0;
            }
            if at == 22 {
                boot[23] = 0;
            }
            assert_eq!(FatGeometry::from_boot_sector(&boot, 0), None, "byte {at}");
        }
        assert_eq!(FatGeometry::from_boot_sector(&fat16_boot(), u32::MAX - 10), None);
    }

    /// FAT32's cluster numbers are 28 bits: a boot sector that counts
    /// more clusters is refused (the FAT entry of a cluster past 2^30 would
    /// lie at a byte offset beyond 32 bits), one at the limit taken.
    #[test]
    fn more_clusters_than_fat32_numbers_is_no_volume() {
        let mut boot = fat32_boot();
        boot[13] = 1;
        // From block 1: 4 reserved and 2 FATs of 100, data at 205.
        boot[32..36].copy_from_slice(&(204 + MAX_CLUSTERS).to_le_bytes());
        let geometry = FatGeometry::from_boot_sector(&boot, 1).unwrap();
        assert_eq!(geometry.clusters(), 0x0fff_fff5);
        assert_eq!(geometry.fat_entry(MAX_CLUSTERS + 1), None, "past the FAT's 100 blocks");
        boot[32..36].copy_from_slice(&(205 + MAX_CLUSTERS).to_le_bytes());
        assert_eq!(FatGeometry::from_boot_sector(&boot, 1), None);
        boot[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(FatGeometry::from_boot_sector(&boot, 1), None);
    }
}
