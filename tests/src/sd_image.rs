//! SD card images: a file whose blocks are a card's, as QEMU's
//! `-drive if=sd,format=raw` takes it (its size a power of two).
//!
//! [`fat_card`] makes a card as one comes from a shop, which is what
//! embedded-sdmmc opens: an MBR whose first partition holds a FAT16 file
//! system, here with the files a case puts on it. [`read_fat_file`] reads
//! a file back after the run.

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

/// Writes a card of `bytes` bytes (a power of two, at least 4 MiB) to
/// `path`: an MBR with one FAT16 partition from [`PARTITION_START`] to the
/// end, labelled `label`, holding `files` (name and contents) in its root
/// directory.
pub fn fat_card(path: &Path, bytes: u64, label: &str, files: &[(&str, &[u8])]) -> io::Result<()> {
    if !bytes.is_power_of_two() || bytes < 4 << 20 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{bytes} bytes: a card image must be a power of two of at least 4 MiB"),
        ));
    }
    let mut file = File::options().read(true).write(true).create(true).truncate(true).open(path)?;
    file.set_len(bytes)?;
    let blocks = bytes / BLOCK - PARTITION_START;
    file.write_all(&mbr(PARTITION_START as u32, blocks as u32))?;
    let mut name = [b' '; 11];
    for (to, from) in name.iter_mut().zip(label.bytes()) {
        *to = from.to_ascii_uppercase();
    }
    let mut partition = Partition::new(file, PARTITION_START * BLOCK, blocks * BLOCK);
    fatfs::format_volume(
        &mut partition,
        fatfs::FormatVolumeOptions::new().fat_type(fatfs::FatType::Fat16).volume_label(name),
    )?;
    let fs = fatfs::FileSystem::new(partition, fatfs::FsOptions::new())?;
    for (name, contents) in files {
        fs.root_dir().create_file(name)?.write_all(contents)?;
    }
    fs.unmount()
}

/// The contents of `name` in the root directory of the first partition
/// of the card image at `path`.
pub fn read_fat_file(path: &Path, name: &str) -> io::Result<Vec<u8>> {
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
    let fs = fatfs::FileSystem::new(partition, fatfs::FsOptions::new())?;
    let mut contents = Vec::new();
    fs.root_dir().open_file(name)?.read_to_end(&mut contents)?;
    Ok(contents)
}

/// An MBR with one partition of type [`FAT16_LBA`] of `blocks` blocks
/// from block `start` on (its CHS fields say "use the LBA").
fn mbr(start: u32, blocks: u32) -> [u8; BLOCK as usize] {
    let mut mbr = [0u8; BLOCK as usize];
    let entry = &mut mbr[446..462];
    entry[1..4].copy_from_slice(&[0xfe, 0xff, 0xff]);
    entry[4] = FAT16_LBA;
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
