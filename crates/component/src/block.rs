//! The Block service: a block device (an SD card) as Genode's Block
//! session. Control calls (the device's size, the signals) go over RPC;
//! the blocks travel through a packet stream in memory the driver sets
//! up for the session: the client is its source, the driver its sink.
//!
//! Each packet is one request: a [`Request`] header ([`HEADER_BYTES`]),
//! then the blocks' bytes. The client writes the header (and, for a write,
//! the blocks) and submits the packet; the driver checks the header
//! against the packet and the device, carries it out (for a read, into the
//! packet after the header), writes the outcome into the header and
//! acknowledges the packet. A header the driver cannot carry out comes
//! back with its [`BlockStatus`] saying why; nothing reaches the device
//! then.
//!
//! A session's quota is the part of the device it reaches: 0 the whole
//! device, 1 to [`PARTITIONS`] that primary partition of the device's MBR
//! ([`partition`]), whose blocks the session numbers from 0.

use ferrode_ipc::Capability;

use crate::{Session, SessionError, SignalSource};

/// The name of the Block service in routing tables.
pub const BLOCK: &str = "Block";

/// Bytes per block.
pub const BLOCK_SIZE: usize = 512;

/// Bytes of a packet's [`Request`] header, before its blocks.
pub const HEADER_BYTES: usize = 16;

ferrode_ipc::marshal! {
    /// What a Block session reaches: the device's size.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct BlockInfo {
        /// Blocks of [`BLOCK_SIZE`] bytes on the device.
        pub block_count: u32,
        /// Blocks one packet carries at most.
        pub max_blocks: u32,
        /// Whether the device takes writes (an SD card whose
        /// write-protect tab is locked does not: its writes come back
        /// [`BlockStatus::WriteProtected`]).
        pub writable: bool,
    }
}

ferrode_ipc::interface! {
    /// A Block session. The blocks do not travel in messages: the session
    /// has a packet stream (the client is its source) in memory the driver
    /// component set up for it; these calls are the control path.
    pub trait Block: Session {
        /// The device's size, the most blocks one packet carries, and
        /// whether the device takes writes.
        fn info(&mut self) -> Result<BlockInfo, SessionError>;
        /// Where the driver signals the client (a packet acknowledged); the
        /// driver keeps a submit-only copy.
        fn sigh(&mut self, signal: Capability<dyn SignalSource>) -> Result<(), SessionError>;
        /// A submit-only copy of the driver's own signal, which the client
        /// raises when it submitted packets.
        fn driver_signal(&mut self) -> Result<Capability<dyn SignalSource>, SessionError>;
        /// Moves the session to the medium in the device now, after its
        /// requests came back [`BlockStatus::MediumChanged`]: the part the
        /// session's quota names is found again on the new card (its
        /// partition table read anew), and the session's requests reach it
        /// from now on. With the medium it is on still there, nothing
        /// changes. `Denied` with no medium, or one without that partition
        /// (the session stays where it was); `OutOfSessions` if the part
        /// would share blocks with another open session's.
        fn attach(&mut self) -> Result<BlockInfo, SessionError>;
    }
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Read blocks into the packet.
    Read,
    /// Write the packet's blocks.
    Write,
}

/// How a request ended, as the driver writes it into the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockStatus {
    /// Not carried out yet (how the client submits it).
    Pending,
    /// Done.
    Ok,
    /// The header names no operation, no blocks, or more blocks than the
    /// packet holds.
    Malformed,
    /// Blocks past the device's end.
    OutOfRange,
    /// The device failed it (the driver's error, which it reports).
    DeviceError,
    /// A write to a device that does not take writes (an SD card whose
    /// write-protect tab is locked); nothing was written.
    WriteProtected,
    /// The medium the session was opened on is gone: the SD card was
    /// taken out or exchanged. Nothing reached the device, and nothing of
    /// this session will (the card in the slot now may be another, with
    /// other partitions): the client closes the session and opens a new
    /// one for the card now in the slot.
    MediumChanged,
}

impl BlockStatus {
    const fn code(self) -> u32 {
        match self {
            Self::Pending => 0,
            Self::Ok => 1,
            Self::Malformed => 2,
            Self::OutOfRange => 3,
            Self::DeviceError => 4,
            Self::WriteProtected => 5,
            Self::MediumChanged => 6,
        }
    }

    /// The status `code` stands for; a code no status has reads as
    /// `Malformed`.
    pub const fn from_code(code: u32) -> Self {
        match code {
            0 => Self::Pending,
            1 => Self::Ok,
            3 => Self::OutOfRange,
            4 => Self::DeviceError,
            5 => Self::WriteProtected,
            6 => Self::MediumChanged,
            _ => Self::Malformed,
        }
    }
}

impl core::fmt::Display for BlockStatus {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Pending => "not carried out",
            Self::Ok => "done",
            Self::Malformed => "malformed request",
            Self::OutOfRange => "blocks past the device's end",
            Self::DeviceError => "the device failed the request",
            Self::WriteProtected => "the device is write-protected",
            Self::MediumChanged => "the medium was taken out or exchanged",
        })
    }
}

/// A packet's header: what to do with which blocks, and how it went. Four
/// little-endian words: operation (1 read, 2 write), first block, block
/// count, status ([`BlockStatus`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// What to do.
    pub operation: Operation,
    /// The first block.
    pub block: u32,
    /// How many blocks, from `block` on.
    pub count: u32,
    /// How it went.
    pub status: BlockStatus,
}

impl Request {
    /// The header as it goes into a packet.
    pub fn encode(&self) -> [u8; HEADER_BYTES] {
        let operation: u32 = match self.operation {
            Operation::Read => 1,
            Operation::Write => 2,
        };
        let mut header = [0; HEADER_BYTES];
        for (bytes, word) in
            header.chunks_exact_mut(4).zip([operation, self.block, self.count, self.status.code()])
        {
            bytes.copy_from_slice(&word.to_le_bytes());
        }
        header
    }

    /// The header at the start of `packet` and the blocks' bytes after it:
    /// `Err(Malformed)` unless it names an operation and at least one
    /// block, and the packet holds them (a hostile or broken peer wrote it:
    /// nothing in it is taken on its word).
    pub fn decode(packet: &[u8]) -> Result<(Self, usize), BlockStatus> {
        let Some(header) = packet.get(..HEADER_BYTES) else {
            return Err(BlockStatus::Malformed);
        };
        let word = |i: usize| {
            let mut bytes = [0; 4];
            bytes.copy_from_slice(&header[4 * i..4 * i + 4]);
            u32::from_le_bytes(bytes)
        };
        let operation = match word(0) {
            1 => Operation::Read,
            2 => Operation::Write,
            _ => return Err(BlockStatus::Malformed),
        };
        let count = word(2);
        let room = (packet.len() - HEADER_BYTES) / BLOCK_SIZE;
        if count == 0 || count as usize > room {
            return Err(BlockStatus::Malformed);
        }
        let request =
            Self { operation, block: word(1), count, status: BlockStatus::from_code(word(3)) };
        Ok((request, HEADER_BYTES + count as usize * BLOCK_SIZE))
    }

    /// Whether the request's blocks lie on a device of `block_count`
    /// blocks (no overflow past `u32::MAX` either).
    pub fn fits(&self, block_count: u32) -> bool {
        self.block.checked_add(self.count).is_some_and(|end| end <= block_count)
    }
}

/// Primary partitions in an MBR: a Block session's quota names one of them
/// (1 to 4), or the whole device (0).
pub const PARTITIONS: u32 = 4;

/// Primary partition `number` (1 to [`PARTITIONS`]) of the MBR `mbr` (a
/// device's first block): its first block and its length in blocks.
/// `None` if `mbr` has no MBR signature, or the entry is empty (type 0 or
/// no blocks). Whether the partition lies on the device is the caller's
/// to check.
pub fn partition(mbr: &[u8; BLOCK_SIZE], number: u32) -> Option<(u32, u32)> {
    if !(1..=PARTITIONS).contains(&number) || mbr[510..] != [0x55, 0xaa] {
        return None;
    }
    let at = 446 + 16 * (number as usize - 1);
    let entry = &mbr[at..at + 16];
    let word = |i: usize| u32::from_le_bytes([entry[i], entry[i + 1], entry[i + 2], entry[i + 3]]);
    let (kind, start, count) = (entry[4], word(8), word(12));
    (kind != 0 && count != 0).then_some((start, count))
}

/// Whether `block` is the boot sector of a FAT file system: a jump, a BIOS
/// parameter block of 512-byte sectors and at least one sector per
/// cluster, and the boot signature. Block 0 of a session confined to a
/// FAT partition is one; block 0 of a whole card is its MBR.
pub fn is_fat_boot_sector(block: &[u8; BLOCK_SIZE]) -> bool {
    let jump = (block[0] == 0xeb && block[2] == 0x90) || block[0] == 0xe9;
    let sector = u16::from_le_bytes([block[11], block[12]]) == BLOCK_SIZE as u16;
    jump && sector && block[13] != 0 && block[510..] == [0x55, 0xaa]
}

/// An MBR whose first partition, of `kind` (an MBR partition type), is
/// blocks 1 to `blocks`: what a FAT driver that finds volumes only
/// through an MBR (embedded-sdmmc) reads as block 0 of a device that is
/// one partition, whose blocks it then reads from 1 on.
pub fn mbr_for_volume(kind: u8, blocks: u32) -> [u8; BLOCK_SIZE] {
    let mut mbr = [0; BLOCK_SIZE];
    let entry = &mut mbr[446..462];
    entry[4] = kind;
    entry[8..12].copy_from_slice(&1u32.to_le_bytes());
    entry[12..16].copy_from_slice(&blocks.to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    mbr
}

/// Writes `status` into the header at the start of `packet` (which the
/// driver's [`Request::decode`] found too short for one is left alone).
pub fn set_status(packet: &mut [u8], status: BlockStatus) {
    if let Some(word) = packet.get_mut(12..HEADER_BYTES) {
        word.copy_from_slice(&status.code().to_le_bytes());
    }
}

/// The status in the header at the start of `packet`.
pub fn status_of(packet: &[u8]) -> BlockStatus {
    match packet.get(12..HEADER_BYTES) {
        Some(word) => {
            BlockStatus::from_code(u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
        }
        None => BlockStatus::Malformed,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    fn packet(request: Request, blocks: usize) -> std::vec::Vec<u8> {
        let mut packet = std::vec![0xa5; HEADER_BYTES + blocks * BLOCK_SIZE];
        packet[..HEADER_BYTES].copy_from_slice(&request.encode());
        packet
    }

    #[test]
    fn a_request_round_trips_with_its_blocks() {
        let read = Request {
            operation: Operation::Read,
            block: 7,
            count: 2,
            status: BlockStatus::Pending,
        };
        assert_eq!(Request::decode(&packet(read, 2)), Ok((read, HEADER_BYTES + 2 * BLOCK_SIZE)));
        let write = Request { operation: Operation::Write, block: u32::MAX, count: 1, ..read };
        assert_eq!(Request::decode(&packet(write, 3)), Ok((write, HEADER_BYTES + BLOCK_SIZE)));
        assert_eq!(&write.encode()[..8], &[2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    }

    #[test]
    fn malformed_headers_are_refused() {
        let good = Request {
            operation: Operation::Read,
            block: 0,
            count: 1,
            status: BlockStatus::Pending,
        };
        // Too short for the header.
        assert_eq!(Request::decode(&[1; HEADER_BYTES - 1]), Err(BlockStatus::Malformed));
        // No blocks, or more than the packet holds.
        assert_eq!(
            Request::decode(&packet(Request { count: 0, ..good }, 1)),
            Err(BlockStatus::Malformed)
        );
        assert_eq!(
            Request::decode(&packet(Request { count: 2, ..good }, 1)),
            Err(BlockStatus::Malformed)
        );
        let mut short = packet(good, 1);
        short.pop();
        assert_eq!(Request::decode(&short), Err(BlockStatus::Malformed));
        // No operation.
        for operation in [0u32, 3, u32::MAX] {
            let mut bad = packet(good, 1);
            bad[..4].copy_from_slice(&operation.to_le_bytes());
            assert_eq!(Request::decode(&bad), Err(BlockStatus::Malformed));
        }
        // A count that would overflow the length computation.
        let mut huge = packet(good, 1);
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Request::decode(&huge), Err(BlockStatus::Malformed));
    }

    #[test]
    fn only_blocks_on_the_device_fit() {
        let request = Request {
            operation: Operation::Read,
            block: 6,
            count: 2,
            status: BlockStatus::Pending,
        };
        assert!(request.fits(8));
        assert!(!request.fits(7));
        assert!(!Request { block: u32::MAX, ..request }.fits(u32::MAX));
    }

    #[test]
    fn partitions_come_from_the_mbr() {
        let mut mbr = [0u8; BLOCK_SIZE];
        mbr[510] = 0x55;
        mbr[511] = 0xaa;
        let mut entry = |number: usize, kind: u8, start: u32, count: u32| {
            let at = 446 + 16 * (number - 1);
            mbr[at + 4] = kind;
            mbr[at + 8..at + 12].copy_from_slice(&start.to_le_bytes());
            mbr[at + 12..at + 16].copy_from_slice(&count.to_le_bytes());
        };
        entry(1, 0x0e, 2048, 14336);
        // A partition of a 32 GB card from past 8 GiB on: every byte
        // of both words counts.
        entry(2, 0x0c, 0x0100_0800, 0x02b9_f800);
        entry(3, 0, 100, 100);
        entry(4, 0x0c, 200, 0);
        assert_eq!(partition(&mbr, 1), Some((2048, 14336)));
        assert_eq!(partition(&mbr, 2), Some((0x0100_0800, 0x02b9_f800)));
        // Empty entries: no type, or no blocks.
        assert_eq!(partition(&mbr, 3), None);
        assert_eq!(partition(&mbr, 4), None);
        // No such partition number.
        assert_eq!(partition(&mbr, 0), None);
        assert_eq!(partition(&mbr, 5), None);
        // No MBR.
        mbr[511] = 0;
        assert_eq!(partition(&mbr, 1), None);
    }

    #[test]
    fn statuses_say_what_became_of_a_request() {
        let said = |status: BlockStatus| std::format!("{status}");
        assert_eq!(said(BlockStatus::Pending), "not carried out");
        assert_eq!(said(BlockStatus::Ok), "done");
        assert_eq!(said(BlockStatus::OutOfRange), "blocks past the device's end");
        assert_eq!(said(BlockStatus::MediumChanged), "the medium was taken out or exchanged");
    }

    #[test]
    fn statuses_round_trip_through_the_header() {
        let mut packet = packet(
            Request {
                operation: Operation::Write,
                block: 1,
                count: 1,
                status: BlockStatus::Pending,
            },
            1,
        );
        for status in [
            BlockStatus::Pending,
            BlockStatus::Ok,
            BlockStatus::Malformed,
            BlockStatus::OutOfRange,
            BlockStatus::DeviceError,
            BlockStatus::WriteProtected,
            BlockStatus::MediumChanged,
        ] {
            set_status(&mut packet, status);
            assert_eq!(status_of(&packet), status);
            assert_eq!(Request::decode(&packet).unwrap().0.status, status);
        }
        assert_eq!(BlockStatus::from_code(99), BlockStatus::Malformed);
        assert_eq!(status_of(&packet[..12]), BlockStatus::Malformed);
        let mut short = [0u8; 12];
        set_status(&mut short, BlockStatus::Ok);
        assert_eq!(short, [0; 12]);
    }

    #[test]
    fn fat_boot_sectors_are_told_from_mbrs() {
        let mut boot = [0u8; BLOCK_SIZE];
        boot[..3].copy_from_slice(&[0xeb, 0x3c, 0x90]);
        boot[11..14].copy_from_slice(&[0x00, 0x02, 4]);
        boot[510..].copy_from_slice(&[0x55, 0xaa]);
        assert!(is_fat_boot_sector(&boot));
        let mut far = boot;
        far[..3].copy_from_slice(&[0xe9, 0x00, 0x01]);
        assert!(is_fat_boot_sector(&far));
        for (at, value) in [(0, 0x00), (2, 0x00), (12, 0x04), (13, 0), (511, 0)] {
            let mut broken = boot;
            broken[at] = value;
            assert!(!is_fat_boot_sector(&broken), "byte {at} = {value:#x}");
        }
        // An MBR (boot code of zeros) is none, and names its partition.
        let mbr = mbr_for_volume(0x0c, 14_336);
        assert!(!is_fat_boot_sector(&mbr));
        assert_eq!(partition(&mbr, 1), Some((1, 14_336)));
        assert_eq!(mbr[446 + 4], 0x0c);
        assert_eq!(partition(&mbr, 2), None);
    }
}
