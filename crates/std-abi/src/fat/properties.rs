//! Random volumes and directories. A card is the std layer's input from
//! outside: its boot sector and its directories may hold anything, and
//! the blocks the std layer computes from them are blocks it writes.

extern crate std;
use std::string::String;
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;

/// A boot sector: random bytes with the fields the geometry reads set,
/// either at random or (mostly) to a layout that fits its volume, of any
/// size up to what 32 bits of sectors count, hostile sizes included (more
/// clusters than FAT32's 28-bit numbers reach).
fn boot_sector() -> impl Strategy<Value = [u8; BLOCK_BYTES]> {
    let fields = prop_oneof![
        1 => (any::<u16>(), any::<u8>(), any::<u16>(), 0u8..4, any::<u16>(), any::<u16>(), any::<u32>(), any::<u16>(), any::<u32>()),
        4 => (
            0u32..8,
            1u16..64,
            1u8..3,
            prop_oneof![Just(0u16), Just(512), any::<u16>()],
            prop_oneof![1u32..256, 1u32..0x0100_0000, any::<u32>()],
            prop_oneof![0u32..70_000, 65_525u32..0x1000_0000, any::<u32>()],
            any::<bool>(),
        )
            .prop_map(|(shift, reserved, fats, roots, fat_blocks, clusters, small)| {
                let cluster = 1u32 << shift;
                let root_blocks = (u32::from(roots) * 32).div_ceil(512);
                let total = u32::from(reserved)
                    .saturating_add(u32::from(fats).saturating_mul(fat_blocks))
                    .saturating_add(root_blocks)
                    .saturating_add(clusters.saturating_mul(cluster));
                let (total16, total32) = match u16::try_from(total) {
                    Ok(total) if small => (total, 0),
                    _ => (0, total),
                };
                let (fat16, fat32) = match u16::try_from(fat_blocks) {
                    Ok(blocks) if small => (blocks, 0),
                    _ => (0, fat_blocks),
                };
                (512u16, cluster as u8, reserved, fats, roots, total16, total32, fat16, fat32)
            }),
    ];
    (proptest::collection::vec(any::<u8>(), BLOCK_BYTES), fields, any::<u16>()).prop_map(
        |(
            bytes,
            (sector, cluster, reserved, fats, roots, total16, total32, fat16, fat32),
            info,
        )| {
            let mut boot = [0u8; BLOCK_BYTES];
            boot.copy_from_slice(&bytes);
            boot[11..13].copy_from_slice(&sector.to_le_bytes());
            boot[13] = cluster;
            boot[14..16].copy_from_slice(&reserved.to_le_bytes());
            boot[16] = fats;
            boot[17..19].copy_from_slice(&roots.to_le_bytes());
            boot[19..21].copy_from_slice(&total16.to_le_bytes());
            boot[22..24].copy_from_slice(&fat16.to_le_bytes());
            boot[32..36].copy_from_slice(&total32.to_le_bytes());
            boot[36..40].copy_from_slice(&fat32.to_le_bytes());
            boot[48..50].copy_from_slice(&info.to_le_bytes());
            boot
        },
    )
}

/// A cluster number from `pick`: a small one, one near the volume's end
/// (`clusters` data clusters, numbered from 2), FAT32's largest, or any.
fn cluster(pick: u32, clusters: u32) -> u32 {
    match pick % 4 {
        0 => pick >> 2 & 7,
        1 => clusters.saturating_add(2).saturating_sub(pick >> 2 & 7),
        2 => 0x0fff_fff0u32 << (pick >> 2 & 3),
        _ => pick,
    }
}

/// The long name read back from the entries before the short-name entry
/// at slot `short` of `entries`, as a FAT reader reads it: parts in
/// order, each with the short name's checksum, the first flagged last.
fn read_long_name(entries: &[u8], short: usize) -> Option<String> {
    let sum = checksum(entries[short * ENTRY_BYTES..][..11].try_into().ok()?);
    let mut units = Vec::new();
    for part in 1..=MAX_PARTS as usize {
        let slot = short.checked_sub(part)?;
        let entry = &entries[slot * ENTRY_BYTES..][..ENTRY_BYTES];
        if entry[11] != LONG_NAME || entry[13] != sum || usize::from(entry[0] & !LAST) != part {
            return None;
        }
        for at in (1..11).step_by(2).chain((14..26).step_by(2)).chain((28..32).step_by(2)) {
            units.push(u16::from_le_bytes([entry[at], entry[at + 1]]));
        }
        if entry[0] & LAST != 0 {
            let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
            return String::from_utf16(&units[..end]).ok();
        }
    }
    None
}

/// A valid long name: letters, digits, spaces, dots and a few
/// characters beyond ASCII, 1 to 247 UTF-16 units.
fn long_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ._é€😀-]{1,120}".prop_filter("a valid long name", |name| {
        long_name_valid(name) && name.encode_utf16().count() <= MAX_WRITTEN_UNITS
    })
}

/// A directory's entry slot: never used (0), freed, or used.
fn slot() -> impl Strategy<Value = u8> {
    prop_oneof![1 => Just(0u8), 2 => Just(FREE), 4 => Just(b'A')]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 8 } else { 512 }))]

    /// Whatever a boot sector says, the geometry's answers are computed
    /// without overflow and agree with one another: a cluster's FAT entry
    /// lies whole in the first FAT and is its own (the next cluster's is
    /// the entry after it), a cluster's last block lies in that cluster,
    /// and a FAT block's copies lie in the FATs.
    #[test]
    fn any_boot_sector_gives_a_geometry_that_keeps_to_the_volume(
        boot in boot_sector(),
        start in prop_oneof![0u32..4096, any::<u32>()],
        picks in proptest::collection::vec((any::<u32>(), any::<u32>()), 16),
    ) {
        let Some(geometry) = FatGeometry::from_boot_sector(&boot, start) else {
            return Ok(());
        };
        let clusters = geometry.clusters();
        for (pick, block) in picks {
            let cluster = cluster(pick, clusters);
            if let Some((at, offset)) = geometry.fat_entry(cluster) {
                prop_assert!((2..u64::from(clusters) + 2).contains(&u64::from(cluster)));
                prop_assert!(at >= geometry.fat && at - geometry.fat < geometry.fat_blocks);
                let width = geometry.entry_bytes as usize;
                prop_assert!(offset + width <= BLOCK_BYTES);
                if let Some((next_at, next_offset)) =
                    cluster.checked_add(1).and_then(|next| geometry.fat_entry(next))
                {
                    let (here, there) = (
                        u64::from(at) * BLOCK_BYTES as u64 + offset as u64,
                        u64::from(next_at) * BLOCK_BYTES as u64 + next_offset as u64,
                    );
                    prop_assert_eq!(there, here + width as u64);
                }
                let copies: Vec<u32> = geometry.fat_copies(at).collect();
                prop_assert_eq!(copies.len() as u32, geometry.fats);
                for (n, copy) in copies.iter().enumerate() {
                    prop_assert_eq!(
                        u64::from(*copy),
                        u64::from(at) + n as u64 * u64::from(geometry.fat_blocks)
                    );
                    prop_assert!(*copy < geometry.root.0, "a FAT copy past the FATs");
                }
                // Reading and freeing it stay within the block.
                let mut fat_block = [0xffu8; BLOCK_BYTES];
                let _ = geometry.entry(&fat_block, offset);
                geometry.free_entry(&mut fat_block, offset);
                prop_assert_eq!(geometry.entry(&fat_block, offset), 0);
            }
            if let Some(last) = geometry.last_block_of(cluster) {
                prop_assert_eq!(geometry.cluster_of(last), Some(cluster));
            }
            let block = block.wrapping_add(geometry.data) ^ (pick >> 8 & 0xff);
            if let Some(cluster) = geometry.cluster_of(block) {
                let last = geometry.last_block_of(cluster);
                prop_assert!(last.is_some_and(|last| last >= block && last - block < geometry.cluster_blocks));
            }
            let _ = geometry.continues_before(block);
            let looked: Vec<(u32, u32)> = geometry.blocks_to_look_before(cluster).take(3).collect();
            for (index, block) in looked {
                prop_assert!(index < geometry.fat_blocks);
                prop_assert_eq!(block, geometry.fat + index);
            }
        }
    }

    /// A long name given to a new entry reads back as that name, before
    /// the same short-name entry; every other entry keeps its bytes; it
    /// is given exactly when `has_room_for` says there is room; and
    /// freeing it frees exactly its parts.
    #[test]
    fn a_long_name_given_reads_back_and_touches_nothing_else(
        name in long_name(),
        slots in proptest::collection::vec(slot(), 16..48)
            .prop_map(|mut slots| { slots.resize(slots.len().div_ceil(16) * 16, b'A'); slots }),
        own in 0usize..16,
    ) {
        let blocks_count = slots.len().div_ceil(BLOCK_BYTES / ENTRY_BYTES);
        let mut storage = vec![[0u8; BLOCK_BYTES]; blocks_count];
        let per_block = BLOCK_BYTES / ENTRY_BYTES;
        for (n, &first) in slots.iter().enumerate() {
            let entry = &mut storage[n / per_block][n % per_block * ENTRY_BYTES..][..ENTRY_BYTES];
            entry.fill(if first == 0 { 0 } else { 0x20 });
            entry[0] = first;
            if first == b'A' {
                entry[1] = n as u8;
            }
        }
        // The entry just made under its alias.
        let own_entry = {
            let entry = &mut storage[0][own * ENTRY_BYTES..][..ENTRY_BYTES];
            entry[..11].copy_from_slice(&short_alias(&name, 1));
            entry[11] = 0x20;
            entry[26] = 7;
            entry.to_vec()
        };
        let before: Vec<u8> = storage.iter().flatten().copied().collect();
        let mut blocks: Vec<&mut [u8; BLOCK_BYTES]> = storage.iter_mut().collect();
        let room = has_room_for(&blocks, own * ENTRY_BYTES, &name);
        let given = give_long_name(&mut blocks, own * ENTRY_BYTES, &name);
        let after: Vec<u8> = storage.iter().flatten().copied().collect();
        prop_assert_eq!(given.is_some(), room);
        let Some(place) = given else {
            prop_assert_eq!(after, before, "nothing changed without room");
            return Ok(());
        };
        let short = place / ENTRY_BYTES;
        prop_assert_eq!(&after[place..place + ENTRY_BYTES], &own_entry[..], "the entry moved whole");
        prop_assert_eq!(read_long_name(&after, short), Some(name.clone()));
        let parts = name.encode_utf16().count().div_ceil(13);
        let run = short - parts..=short;
        for slot in 0..after.len() / ENTRY_BYTES {
            let (old, new) = (&before[slot * ENTRY_BYTES..][..ENTRY_BYTES], &after[slot * ENTRY_BYTES..][..ENTRY_BYTES]);
            if run.contains(&slot) {
                // Only entries that were free, never used, or its own.
                prop_assert!(slot == own || old[0] == 0 || old[0] == FREE, "slot {} was in use", slot);
            } else if slot == own {
                prop_assert_eq!(new[0], FREE, "its old place is freed");
                prop_assert_eq!(&new[1..], &old[1..]);
            } else {
                prop_assert_eq!(new, old, "slot {} changed", slot);
            }
        }
        // Freeing it again frees exactly its parts.
        let mut blocks: Vec<&mut [u8; BLOCK_BYTES]> = storage.iter_mut().collect();
        let last = short / per_block;
        let offset = short % per_block * ENTRY_BYTES;
        let sum = checksum(own_entry[..11].try_into().unwrap());
        let freed = free_long_name_from(&mut blocks[..=last], offset, sum, 1);
        if freed.next.is_none() {
            prop_assert_eq!(freed.freed, parts);
        }
    }
}
