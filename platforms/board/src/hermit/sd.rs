//! `std::fs` on the SD card (the board crate's `hermit-sd` feature): the
//! files and directories of a FAT volume of the card under `/sd`.
//!
//! The std component reaches the card through a Block session, routed
//! with the label `sd` to the board's Block driver component: `app:
//! "Block" "sd" => sd` (the whole card: `/sd` is the first FAT partition
//! of its MBR) or `app: "Block" "sd" => sd quota N` (partition N, itself a
//! FAT volume, which leaves the card's other partitions to other
//! components). The session opens at the first call that names a path
//! under `/sd`; embedded-sdmmc's volume manager, on the std heap, reads
//! and writes the FAT file system through it. Without the route, or on a
//! card without a FAT partition, every `/sd` path is `NotFound`.
//!
//! A path names a file or directory by its long name (VFAT's, as a
//! computer writes `Sensor readings.csv` on a card) or by its short name
//! (8.3, `SENSOR~1.CSV`), either in any case of its ASCII letters
//! (`sensor READINGS.csv`, `log.txt` for `LOG.TXT`); a directory listing
//! gives the long name where there is one (and fits in 255 bytes), the
//! short one otherwise. A new file or directory whose name is a valid
//! 8.3 one gets that short name (in capitals: `log.txt` is listed
//! `LOG.TXT`); one of any other name FAT can hold gets it as its long
//! name, with a short alias beside it (`SENSOR~2.CSV`), as other systems
//! write them (a name FAT cannot hold, `a:b`, is `InvalidInput`).
//! Removing an entry frees its clusters and its long name with it.
//! Files are at most 4 GiB. A file's size on the card is brought
//! up to date when it is closed, which std does when a `File` is dropped,
//! and at the component's exit for files still open. Seeking past a
//! file's end is refused (`InvalidInput`). A card whose write-protect tab
//! is locked is read, and every write fails with `EROFS` (in
//! `raw_os_error`: std's Hermit layer gives it no `ErrorKind` of its own).
//!
//! A card taken out or exchanged shows as `EIO` at the call that meets
//! it. The next call that names a path under `/sd` moves the session to
//! the card in the slot ([`BlockClient::attach`]) and mounts that card's
//! file system; until there is a card to move to, such calls fail with
//! `ENODEV`. Files and directories opened on the card that left stay
//! closed to every call but `close` (`EIO`): what was written to them and
//! not closed yet is lost with that card, as on any system whose card is
//! pulled.

use core::alloc::Layout;
use core::fmt::Write as _;
use core::ops::ControlFlow;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use embedded_sdmmc::{
    Block, BlockCount, BlockDevice, BlockIdx, DirEntry, Error as FsError, LfnBuffer, Mode,
    RawDirectory, RawFile, ShortFileName, TimeSource, Timestamp, VolumeIdx, VolumeManager,
};
use ferrode_component::block::{BlockStatus, is_fat_boot_sector, mbr_for_volume, partition};
use ferrode_hal::CivilTime;
use ferrode_std_abi::abi::{self, errno};
use ferrode_std_abi::fat::{self, FatGeometry};
use ferrode_std_abi::{Create, OpenMode, SdPath, listed, seek, write_dirent};

use super::{FILES, OpenFile, StdState};
use crate::component::{BlockClient, BlockError};
use crate::kernel::kernel;

/// The label of the Block route the std component's card comes from.
pub const BLOCK_LABEL: &str = "sd";

/// Directories open at once: the ones std has open for listings, and two
/// more while a path is walked.
const DIRS: usize = FILES + 2;

type Manager = VolumeManager<Device, Stamp, DIRS, FILES, 1>;

/// The session's blocks as the volume manager reads them. A session of
/// the whole card is read as it is; one of a partition (its block 0 a FAT
/// boot sector) is read behind an MBR made up to name it, as embedded-
/// sdmmc finds volumes only through an MBR: block 0 is that MBR, block
/// `n` the session's block `n - 1`.
struct Device {
    client: BlockClient,
    /// The session is one FAT partition: the made-up MBR comes first.
    volume: bool,
}

/// MBR type of the made-up partition: FAT32 by LBA (embedded-sdmmc takes
/// any FAT type and reads which FAT it is from the boot sector).
const MADE_UP_KIND: u8 = 0x0c;

impl Device {
    fn new(client: BlockClient) -> Result<Self, BlockError> {
        let mut first = [[0u8; 512]; 1];
        client.read(0, &mut first)?;
        Ok(Self { volume: is_fat_boot_sector(&first[0]), client })
    }
}

impl BlockDevice for Device {
    type Error = BlockError;

    fn read(&self, blocks: &mut [Block], start: BlockIdx) -> Result<(), BlockError> {
        noticed(self.read_blocks(blocks, start))
    }

    fn write(&self, blocks: &[Block], start: BlockIdx) -> Result<(), BlockError> {
        noticed(self.write_blocks(blocks, start))
    }

    fn num_blocks(&self) -> Result<BlockCount, BlockError> {
        Ok(BlockCount(self.client.block_count() + u32::from(self.volume)))
    }
}

/// A request of the card's session came back `MediumChanged`: the card
/// the file system is on was taken out or exchanged, and the next path
/// call mounts the card in the slot ([`mount`]).
static CARD_GONE: AtomicBool = AtomicBool::new(false);

/// `result`, with a medium change noted in [`CARD_GONE`].
fn noticed(result: Result<(), BlockError>) -> Result<(), BlockError> {
    if result == Err(BlockError::Request(BlockStatus::MediumChanged)) {
        CARD_GONE.store(true, Ordering::Relaxed);
    }
    result
}

impl Device {
    fn read_blocks(&self, blocks: &mut [Block], start: BlockIdx) -> Result<(), BlockError> {
        if !self.volume {
            return BlockDevice::read(&self.client, blocks, start);
        }
        let (blocks, start) = match (start.0, blocks.split_first_mut()) {
            (0, Some((first, rest))) => {
                first.contents = mbr_for_volume(MADE_UP_KIND, self.client.block_count());
                (rest, 0)
            }
            (start, _) => (blocks, start - 1),
        };
        if blocks.is_empty() {
            Ok(())
        } else {
            BlockDevice::read(&self.client, blocks, BlockIdx(start))
        }
    }

    fn write_blocks(&self, blocks: &[Block], start: BlockIdx) -> Result<(), BlockError> {
        match (self.volume, start.0) {
            (false, start) => BlockDevice::write(&self.client, blocks, BlockIdx(start)),
            // The made-up MBR is no block of the card.
            (true, 0) => Err(BlockError::OutOfRange),
            (true, start) => BlockDevice::write(&self.client, blocks, BlockIdx(start - 1)),
        }
    }
}
type Error = FsError<BlockError>;

/// The card's file system, once mounted.
pub(super) struct Sd {
    manager: Manager,
    root: RawDirectory,
    /// Where its directories are, for freeing long names (`None`: only
    /// the parts in the short-name entry's own block are freed).
    geometry: Option<FatGeometry>,
}

/// Aliases a new long name may take: `~1` to `~999`.
const ALIASES: u32 = 999;
/// Temporary entries [`Sd::make_long`] makes at most to reach a free place
/// with room for a long name.
const FILLERS: u32 = 64;
/// The long name the temporary entries' aliases are made of
/// (`FERROD~1.TMP`): should the card be pulled while they exist, that is
/// what is left on it.
const FILLER: &str = "ferrode filler.tmp";

/// `alias` (a short name as a directory entry holds it) as embedded-sdmmc
/// takes one.
fn short_name_of(alias: &[u8; 11]) -> Option<ShortFileName> {
    let mut text = heapless::String::<12>::new();
    let (base, extension) = (alias[..8].trim_ascii_end(), alias[8..].trim_ascii_end());
    for &byte in base {
        text.push(char::from(byte)).ok()?;
    }
    if !extension.is_empty() {
        text.push('.').ok()?;
        for &byte in extension {
            text.push(char::from(byte)).ok()?;
        }
    }
    ShortFileName::create_from_str(&text).ok()
}

/// Bytes of a long name a directory listing or a path reaches a file by
/// (a `d_name` holds 255 and its null byte): a longer one is read as if
/// the file had its short name alone.
const LONG_NAME_BYTES: usize = 255;

/// The file system as the std component found it: not looked for yet,
/// mounted, or the error every `/sd` path gets (a missing route, a card
/// without a FAT partition).
pub(super) type Mount = Option<Result<&'static mut Sd, i32>>;

/// A directory in the walk from the root: the root stays open for good.
#[derive(Clone, Copy)]
pub(super) enum Dir {
    Root,
    Opened(RawDirectory),
}

/// An open file or directory of the card, behind a file descriptor.
pub(super) enum Open {
    File {
        file: RawFile,
        read: bool,
        write: bool,
        /// Every write goes to the end (`O_APPEND`).
        append: bool,
        /// Where an `lseek` past the file's end left the offset, which
        /// embedded-sdmmc cannot hold (its own stays at the end): a read
        /// there finds nothing, and a write first fills the gap with
        /// zeros, as POSIX has it.
        beyond: Option<u32>,
        /// Its dates as `fstat` gives them: the entry's at the open, the
        /// modification's moved on by each write (the entry gets that at
        /// the close).
        times: Times,
    },
    /// An open directory, with its entry's dates (none for the root,
    /// which has no entry).
    Dir { dir: Dir, times: Times },
    /// Opened on a card that was taken out or exchanged since.
    Gone,
}

/// A file's or directory's dates, in seconds since 1970 (FAT keeps them to
/// two seconds, from 1980 on; 0 for none, as the root has).
#[derive(Clone, Copy, Default)]
pub(super) struct Times {
    modified: u32,
    created: u32,
}

impl Times {
    /// The dates of a directory entry.
    fn of(entry: &DirEntry) -> Self {
        Self { modified: seconds_of(&entry.mtime), created: seconds_of(&entry.ctime) }
    }
}

/// `stamp` in seconds since 1970 (0 for a date that is none).
fn seconds_of(stamp: &Timestamp) -> u32 {
    let date = CivilTime {
        year: 1970 + u32::from(stamp.year_since_1970),
        month: stamp.zero_indexed_month + 1,
        day: stamp.zero_indexed_day + 1,
        hour: stamp.hours,
        minute: stamp.minutes,
        second: stamp.seconds,
    };
    date.to_unix_seconds().map_or(0, |seconds| u32::try_from(seconds).unwrap_or(u32::MAX))
}

/// The date embedded-sdmmc stamps on the entries it writes now, as the
/// card keeps it: [`Stamp`]'s, to two seconds.
fn stamped_now() -> u32 {
    u32::try_from(stamp_seconds()).unwrap_or(u32::MAX) & !1
}

/// [`DATE`], no earlier than FAT's first date: what [`Stamp`] stamps.
fn stamp_seconds() -> u64 {
    u64::from(DATE.load(Ordering::Relaxed)).max(fat::FIRST_DATE)
}

/// The date stamped on the directory entries the next call writes, in
/// seconds since 1970: set from the std component's clock before each
/// call ([`set_date`]).
static DATE: AtomicU32 = AtomicU32::new(0);

/// embedded-sdmmc's clock: [`DATE`], no earlier than 1980 (FAT's dates
/// start then; a component without an Rtc route counts from boot, 1970).
struct Stamp;

impl TimeSource for Stamp {
    fn get_timestamp(&self) -> Timestamp {
        let date = CivilTime::from_unix_seconds(stamp_seconds());
        Timestamp {
            year_since_1970: date.year.saturating_sub(1970).min(255) as u8,
            zero_indexed_month: date.month - 1,
            zero_indexed_day: date.day - 1,
            hours: date.hour,
            minutes: date.minute,
            seconds: date.second,
        }
    }
}

/// Sets the date the next call stamps, from the component's clock.
fn set_date(state: &mut StdState) {
    let seconds = super::date_seconds(state);
    DATE.store(u32::try_from(seconds).unwrap_or(u32::MAX), Ordering::Relaxed);
}

/// The errno an embedded-sdmmc error stands for.
fn errno_of(error: Error) -> i32 {
    match error {
        FsError::NotFound => errno::ENOENT,
        FsError::FileAlreadyExists | FsError::DirAlreadyExists => errno::EEXIST,
        FsError::FileAlreadyOpen | FsError::DirAlreadyOpen => errno::EBUSY,
        FsError::TooManyOpenFiles | FsError::TooManyOpenDirs => errno::EMFILE,
        FsError::FilenameError(_) => errno::EINVAL,
        FsError::OpenedDirAsFile => errno::EISDIR,
        FsError::OpenedFileAsDir => errno::ENOTDIR,
        FsError::DeleteNonEmptyDir => errno::ENOTEMPTY,
        FsError::InvalidOffset => errno::EINVAL,
        FsError::ReadOnly => errno::EBADF,
        FsError::NotEnoughSpace | FsError::DiskFull => errno::ENOSPC,
        FsError::DeviceError(BlockError::Request(BlockStatus::WriteProtected)) => errno::EROFS,
        _ => errno::EIO,
    }
}

/// The card's file system: mounted at the first call (the Block session,
/// the volume manager on the std heap, the first partition's root).
fn mount(state: &mut StdState) -> Result<&mut Sd, i32> {
    if state.sd.is_none() {
        state.sd = Some(mount_new(state));
    } else if CARD_GONE.load(Ordering::Relaxed) {
        remount(state)?;
    }
    match state.sd.as_mut() {
        Some(Ok(sd)) => Ok(sd),
        Some(Err(error)) => Err(*error),
        None => Err(errno::ENOENT),
    }
}

fn mount_new(state: &mut StdState) -> Result<&'static mut Sd, i32> {
    if !state.env.labels(ferrode_component::BLOCK).any(|label| label == BLOCK_LABEL) {
        return Err(errno::ENOENT);
    }
    let k = kernel();
    let (_, signal) = k.create_signal().map_err(|_| errno::ENOMEM)?;
    let client = state.env.block(BLOCK_LABEL, signal).map_err(|_| errno::ENOENT)?;
    let sd = mount_on(client)?;
    let place = state.heap.allocate_first_fit(Layout::new::<Sd>()).map_err(|()| errno::ENOMEM)?;
    let place = place.cast::<Sd>();
    // SAFETY: fresh heap memory for one `Sd`, never given back (the file
    // system stays mounted as long as the component lives), to which this
    // is the only reference.
    Ok(unsafe {
        place.write(sd);
        &mut *place.as_ptr()
    })
}

/// The file system of the card the session `client` reaches.
fn mount_on(client: BlockClient) -> Result<Sd, i32> {
    let device = Device::new(client).map_err(|_| errno::EIO)?;
    let geometry = geometry_of(&device);
    if let Some(block) = geometry.and_then(|geometry| geometry.info_block()) {
        forget_free_count(&device, block);
    }
    let manager = Manager::new_with_limits(device, Stamp, 0);
    let volume = manager.open_raw_volume(VolumeIdx(0)).map_err(|error| match error {
        FsError::DeviceError(_) => errno::EIO,
        // No MBR, no FAT partition first: nothing under `/sd`.
        _ => errno::ENOENT,
    })?;
    let root = manager.open_root_dir(volume).map_err(errno_of)?;
    Ok(Sd { manager, root, geometry })
}

/// Has FAT32's FSInfo sector at `block` say the count of free clusters is
/// unknown (`fat::forget_free_count`), before embedded-sdmmc mounts the
/// volume: it would keep the count it reads, which the clusters this
/// layer frees on removal ([`Sd::free_clusters`]) do not reach, and write
/// it back low at each close. With the count unknown, the next system to
/// mount the card counts the free clusters itself. A card that refuses
/// the write (write-protected) keeps its count, as nothing can be freed.
fn forget_free_count(device: &Device, block: u32) {
    let mut info = [Block::new()];
    if BlockDevice::read(device, &mut info, BlockIdx(block)).is_ok()
        && fat::forget_free_count(&mut info[0].contents)
    {
        let _ = BlockDevice::write(device, &info, BlockIdx(block));
    }
}

/// The directory geometry of the volume embedded-sdmmc mounts: the first
/// partition of the MBR (the made-up one's at block 1), from its boot
/// sector.
fn geometry_of(device: &Device) -> Option<FatGeometry> {
    let mut block = [Block::new()];
    let start = if device.volume {
        1
    } else {
        BlockDevice::read(device, &mut block, BlockIdx(0)).ok()?;
        partition(&block[0].contents, 1)?.0
    };
    BlockDevice::read(device, &mut block, BlockIdx(start)).ok()?;
    FatGeometry::from_boot_sector(&block[0].contents, start)
}

/// The card the file system was on is gone ([`CARD_GONE`]): the files and
/// directories open on it are let go ([`Open::Gone`]), the session moves
/// to the card in the slot, and that card's file system is mounted in the
/// old one's place. `ENODEV` while there is no card to move to (the next
/// call tries again); a card without a FAT volume leaves `/sd` failing as
/// at a first mount.
fn remount(state: &mut StdState) -> Result<(), i32> {
    let Some(Ok(sd)) = state.sd.as_mut() else { return Ok(()) };
    for open in state.files.iter_mut().flatten() {
        if let OpenFile::Sd(open) = open {
            *open = Open::Gone;
        }
    }
    sd.manager.device(|device| device.client.attach()).map_err(|_| errno::ENODEV)?;
    CARD_GONE.store(false, Ordering::Relaxed);
    let place: *mut Sd = *sd;
    // SAFETY: `place` is the `Sd` `mount_new` put on the heap, and nothing
    // else refers to it now (`state.sd` is its one reference, borrowed
    // here); the value read out is written back before it is used again,
    // or, if the new card has no file system, `state.sd` forgets the place
    // for good and no reference to it is left.
    let old = unsafe { place.read() };
    let (device, _) = old.manager.free();
    match mount_on(device.client) {
        // SAFETY: as above; `place` holds no value now.
        Ok(sd) => unsafe { place.write(sd) },
        Err(error) => state.sd = Some(Err(error)),
    }
    Ok(())
}

/// The mounted file system, for calls on an open descriptor.
fn mounted(mount: &mut Mount) -> Result<&mut Sd, i32> {
    match mount {
        Some(Ok(sd)) => Ok(sd),
        _ => Err(errno::EBADF),
    }
}

impl Sd {
    fn raw(&self, dir: Dir) -> RawDirectory {
        match dir {
            Dir::Root => self.root,
            Dir::Opened(raw) => raw,
        }
    }

    fn close_dir(&self, dir: Dir) {
        if let Dir::Opened(raw) = dir {
            let _ = self.manager.close_dir(raw);
        }
    }

    /// The directory `names` lead to from the root, open (the caller
    /// closes it, [`Sd::close_dir`]).
    fn walk<'a>(&self, names: impl Iterator<Item = &'a str>) -> Result<Dir, i32> {
        let mut at = Dir::Root;
        for name in names {
            let raw = self.raw(at);
            let next = match self.entry(raw, name) {
                Ok(Some(entry)) if entry.attributes.is_directory() => {
                    self.manager.open_dir(raw, entry.name).map_err(errno_of)
                }
                Ok(Some(_)) => Err(errno::ENOTDIR),
                Ok(None) => Err(errno::ENOENT),
                Err(error) => Err(error),
            };
            self.close_dir(at);
            at = Dir::Opened(next?);
        }
        Ok(at)
    }

    /// Runs `f` in the directory that holds the last name of `path`, with
    /// that name; `root` answers for the root directory itself.
    fn in_parent<T>(
        &self,
        path: SdPath<'_>,
        root: impl FnOnce() -> Result<T, i32>,
        f: impl FnOnce(&Self, RawDirectory, &str) -> Result<T, i32>,
    ) -> Result<T, i32> {
        let Some((parents, name)) = path.split_last() else { return root() };
        let dir = self.walk(parents)?;
        let result = f(self, self.raw(dir), name);
        self.close_dir(dir);
        result
    }

    /// The entry `name` in `dir`, if there is one: the entry of that
    /// short name, or else the one whose long name it is (case aside,
    /// [`fat::same_name`]). The calls after name the entry by its short
    /// name, which is all embedded-sdmmc takes.
    fn entry(&self, dir: RawDirectory, name: &str) -> Result<Option<DirEntry>, i32> {
        if let Ok(short) = ShortFileName::create_from_str(name) {
            match self.manager.find_directory_entry(dir, short) {
                Ok(entry) => return Ok(Some(entry)),
                Err(FsError::NotFound) => {}
                Err(error) => return Err(errno_of(error)),
            }
        }
        let mut found = None;
        self.entries(dir, &mut |entry, long| {
            if long.is_some_and(|long| fat::same_name(long, name)) {
                found = Some(entry.clone());
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        Ok(found)
    }

    /// Calls `f` with each entry of `dir` and its long name, if it has
    /// one that fits in [`LONG_NAME_BYTES`], until `f` breaks. One
    /// function for every caller (`dyn`): each closure type would bring
    /// its own copy of embedded-sdmmc's directory walk.
    fn entries(
        &self,
        dir: RawDirectory,
        f: &mut dyn FnMut(&DirEntry, Option<&str>) -> ControlFlow<()>,
    ) -> Result<(), i32> {
        let mut storage = [0u8; LONG_NAME_BYTES];
        let mut long_name = LfnBuffer::new(&mut storage);
        self.manager.iterate_dir_lfn(dir, &mut long_name, f).map_err(errno_of)
    }

    /// Makes `name`, which is no short name, in `dir` with `make` (a file
    /// or a directory, under a short alias, [`fat::short_alias`]) and gives
    /// it `name` as its long name ([`fat::give_long_name`]); returns the
    /// alias. embedded-sdmmc puts a new entry in the directory's first
    /// free place, and the name's parts need free places after it: where
    /// that place has too few (in its block and the next of the
    /// directory), temporary entries fill the free places up to one that
    /// has them (the directory grows by a cluster if need be), the alias
    /// is made there, and the temporary entries go. `EINVAL` for a name
    /// FAT cannot hold; `ENAMETOOLONG` for one longer than the std layer
    /// reads back ([`fat::MAX_WRITTEN_UNITS`], [`LONG_NAME_BYTES`]);
    /// `ENOSPC` if no such place is found (a full root
    /// directory, a full card) or after [`FILLERS`] temporary entries.
    fn make_long(
        &self,
        dir: RawDirectory,
        name: &str,
        make: &dyn Fn(ShortFileName) -> Result<(), Error>,
    ) -> Result<ShortFileName, i32> {
        if !fat::long_name_valid(name) {
            return Err(errno::EINVAL);
        }
        if name.encode_utf16().count() > fat::MAX_WRITTEN_UNITS || name.len() > LONG_NAME_BYTES {
            return Err(errno::ENAMETOOLONG);
        }
        let alias = self.unused_short_name(dir, |n| fat::short_alias(name, n))?;
        make(alias).map_err(errno_of)?;
        if self.give_long_name(dir, alias, name) == Some(true) {
            return Ok(alias);
        }
        // No room after the place it took: it goes, and fillers take that
        // place and the next free ones until one has room.
        self.delete_short(dir, alias)?;
        let mut fillers = heapless::Vec::<ShortFileName, { FILLERS as usize }>::new();
        let made = loop {
            let filler = match self.unused_short_name(dir, |n| fat::short_alias(FILLER, n)) {
                Ok(filler) => filler,
                Err(error) => break Err(error),
            };
            let file = self.manager.open_file_in_dir(dir, filler, Mode::ReadWriteCreate);
            if let Err(error) = file.and_then(|file| self.manager.close_file(file)) {
                break Err(errno_of(error));
            }
            let room = self.with_entry_blocks(dir, filler, |blocks, offset| {
                (fat::has_room_for(blocks, offset, name), false)
            });
            if room == Some(true) {
                // Its place is the first free one again: the alias's now.
                let _ = self.manager.delete_entry_in_dir(dir, filler);
                break make(alias).map_err(errno_of).and_then(|()| {
                    match self.give_long_name(dir, alias, name) {
                        Some(true) => Ok(alias),
                        _ => {
                            let _ = self.delete_short(dir, alias);
                            Err(errno::ENOSPC)
                        }
                    }
                });
            }
            if fillers.push(filler).is_err() {
                let _ = self.manager.delete_entry_in_dir(dir, filler);
                break Err(errno::ENOSPC);
            }
        };
        for filler in fillers {
            let _ = self.manager.delete_entry_in_dir(dir, filler);
        }
        made
    }

    /// Where the next read or write of `file` is: where an lseek past its
    /// end left it (`beyond`, [`Open::File`]), or embedded-sdmmc's offset.
    fn offset(&self, file: RawFile, beyond: Option<u32>) -> Result<u32, i32> {
        match beyond {
            Some(at) => Ok(at),
            None => self.manager.file_offset(file).map_err(errno_of),
        }
    }

    /// Writes zeros into `file`, whose offset is at its end, until it is
    /// `to` bytes long: the gap an lseek past the end left, before a write
    /// there (`ENOSPC` when the card fills first, the zeros written so far
    /// kept).
    fn fill_to(&self, file: RawFile, to: u32) -> Result<(), i32> {
        let zeros = [0u8; 512];
        let mut length = self.manager.file_length(file).map_err(errno_of)?;
        while length < to {
            let count = (to - length).min(zeros.len() as u32);
            self.manager.write(file, &zeros[..count as usize]).map_err(errno_of)?;
            length += count;
        }
        Ok(())
    }

    /// Deletes the entry of short name `short` in `dir` as [`Sd::delete`]
    /// does (a directory just made has a cluster to give back).
    fn delete_short(&self, dir: RawDirectory, short: ShortFileName) -> Result<(), i32> {
        let entry = self.manager.find_directory_entry(dir, short).map_err(errno_of)?;
        self.delete(dir, &entry)
    }

    /// The first of the short names `alias` gives for 1, 2, ... that no
    /// entry of `dir` has; `EEXIST` once [`ALIASES`] are taken.
    fn unused_short_name(
        &self,
        dir: RawDirectory,
        alias: impl Fn(u32) -> [u8; 11],
    ) -> Result<ShortFileName, i32> {
        for n in 1..=ALIASES {
            let short = short_name_of(&alias(n)).ok_or(errno::EINVAL)?;
            match self.manager.find_directory_entry(dir, short) {
                Err(FsError::NotFound) => return Ok(short),
                Ok(_) => {}
                Err(error) => return Err(errno_of(error)),
            }
        }
        Err(errno::EEXIST)
    }

    /// Gives the entry of `short` in `dir` the long name `name`, if there
    /// is room after it ([`fat::give_long_name`]): `Some(true)` if it did.
    fn give_long_name(&self, dir: RawDirectory, short: ShortFileName, name: &str) -> Option<bool> {
        self.with_entry_blocks(dir, short, |blocks, offset| {
            let given = fat::give_long_name(blocks, offset, name).is_some();
            (given, given)
        })
    }

    /// Runs `f` over the block of the entry of `short` in `dir`, and the
    /// block after it when that one holds more of the directory
    /// ([`FatGeometry::continues_before`]), with the entry's offset in the
    /// first; writes the blocks back when `f` says so. `None` if the entry
    /// is not found or the card fails. Through the device beside the
    /// volume manager, whose block cache it empties first.
    fn with_entry_blocks<R>(
        &self,
        dir: RawDirectory,
        short: ShortFileName,
        f: impl FnOnce(&mut [&mut [u8; fat::BLOCK_BYTES]], usize) -> (R, bool),
    ) -> Option<R> {
        let entry = self.manager.find_directory_entry(dir, short).ok()?;
        let block = entry.entry_block.0;
        let next = self.geometry.is_some_and(|geometry| geometry.continues_before(block + 1));
        let offset = entry.entry_offset as usize;
        let (result, written) =
            self.with_blocks(block, 1 + usize::from(next), |blocks| f(blocks, offset))?;
        written.then_some(result)
    }

    /// Runs `f` over the `count` blocks (1 or 2) from block `first` of
    /// the card, and writes them back when `f` says so; `f`'s result and
    /// whether the blocks were written (`true` too when `f` wanted no
    /// write), or `None` if they cannot be read. Through the device beside
    /// the volume manager, whose block cache it empties first: no block it
    /// read before is taken for the card's.
    fn with_blocks<R>(
        &self,
        first: u32,
        count: usize,
        f: impl FnOnce(&mut [&mut [u8; fat::BLOCK_BYTES]]) -> (R, bool),
    ) -> Option<(R, bool)> {
        self.manager.device(|device| {
            let mut blocks = [Block::new(), Block::new()];
            let blocks = blocks.get_mut(..count)?;
            BlockDevice::read(&*device, blocks, BlockIdx(first)).ok()?;
            let (result, write) = match blocks {
                [one] => f(&mut [&mut one.contents]),
                [one, two] => f(&mut [&mut one.contents, &mut two.contents]),
                _ => return None,
            };
            let written = !write || BlockDevice::write(&*device, blocks, BlockIdx(first)).is_ok();
            Some((result, written))
        })
    }

    /// Deletes `entry` of `dir` (a file, or an empty directory), frees
    /// its clusters ([`Sd::free_clusters`]) and its long name, if it has
    /// one ([`fat::free_long_name_from`]): the parts in the entry's block,
    /// and those in the directory's blocks before it, a block at a time,
    /// as far as the name reaches ([`Sd::directory_block_before`]: another
    /// system may have written it across a cluster's start, or across
    /// three blocks). embedded-sdmmc's delete marks the entry free and
    /// leaves both: the clusters would stay taken for good, and the card
    /// fill up with files long deleted. Those steps come after the delete:
    /// if the card fails one, the entry is gone all the same, and what was
    /// not freed stays behind, lost to the volume until a check of it
    /// (fsck).
    fn delete(&self, dir: RawDirectory, entry: &DirEntry) -> Result<(), i32> {
        self.manager.delete_entry_in_dir(dir, entry.name).map_err(errno_of)?;
        let mut block = entry.entry_block.0;
        let offset = entry.entry_offset as usize;
        let checksum = entry.name.csum();
        let own = self.with_blocks(block, 1, |blocks| {
            // The entry's first cluster, which the delete left in it.
            let cluster = blocks.first().map(|own| fat::first_cluster(own, offset));
            let run = fat::free_long_name_from(blocks, offset, checksum, 1);
            ((cluster, run.next), run.freed > 0)
        });
        let Some(((cluster, mut next), _)) = own else { return Ok(()) };
        while let Some(part) = next {
            let Some(before) = self.directory_block_before(block) else { break };
            block = before;
            next = self
                .with_blocks(block, 1, |blocks| {
                    let run = fat::free_long_name_from(blocks, fat::BLOCK_BYTES, checksum, part);
                    (run.next, run.freed > 0)
                })
                .and_then(|(next, _)| next);
        }
        if let Some(cluster) = cluster {
            self.free_clusters(cluster);
        }
        Ok(())
    }

    /// The directory's block before `block`, one of its blocks: the block
    /// before in the same cluster or fixed root directory, else the last
    /// block of the cluster before `block`'s in the directory's chain
    /// ([`Sd::cluster_before`]). `None` at the directory's start, on a
    /// card that fails, or without the volume's geometry.
    fn directory_block_before(&self, block: u32) -> Option<u32> {
        let geometry = self.geometry?;
        if geometry.continues_before(block) {
            return Some(block - 1);
        }
        let before = self.cluster_before(geometry, geometry.cluster_of(block)?)?;
        geometry.last_block_of(before)
    }

    /// The cluster whose FAT entry is `cluster` (the one before it in its
    /// chain) on the volume of `geometry`, if one is: the first FAT looked
    /// through a block at a time,
    /// near `cluster` first ([`FatGeometry::blocks_to_look_before`]), at
    /// worst all of it (on a 32 GiB card of 16 KiB clusters, 2,048
    /// blocks). Only for a long name that may reach back across a
    /// cluster's start. Through the device beside the volume manager, as
    /// [`Sd::free_clusters`].
    fn cluster_before(&self, geometry: FatGeometry, cluster: u32) -> Option<u32> {
        self.manager.device(|device| {
            let mut fat = Block::new();
            geometry.blocks_to_look_before(cluster).find_map(|(index, block)| {
                let into = core::slice::from_mut(&mut fat);
                BlockDevice::read(&*device, into, BlockIdx(block)).ok()?;
                geometry.cluster_leading_to(index, &fat.contents, cluster)
            })
        })
    }

    /// Frees the chain of clusters that starts at `first` in every FAT of
    /// the volume (the clusters of a deleted entry; none below 2), up to
    /// its end or a value that is no cluster's, and at most as many
    /// clusters as the volume has. Through the device beside the volume
    /// manager, which empties its block cache first; its hint of where to
    /// look for free clusters stays, and it looks before it when it finds
    /// none after. On FAT12, or without the volume's geometry, nothing is
    /// freed.
    fn free_clusters(&self, first: u32) {
        let Some(geometry) = self.geometry else { return };
        self.manager.device(|device| {
            // The first FAT's block being changed, and which block it is.
            let mut fat = Block::new();
            let mut held: Option<u32> = None;
            let write_back = |device: &Device, fat: &Block, block: u32| {
                for copy in geometry.fat_copies(block) {
                    let _ = BlockDevice::write(device, core::slice::from_ref(fat), BlockIdx(copy));
                }
            };
            let mut cluster = first;
            for _ in 0..geometry.clusters() {
                let Some((block, offset)) = geometry.fat_entry(cluster) else { break };
                if held != Some(block) {
                    if let Some(held) = held.take() {
                        write_back(device, &fat, held);
                    }
                    let into = core::slice::from_mut(&mut fat);
                    if BlockDevice::read(&*device, into, BlockIdx(block)).is_err() {
                        return;
                    }
                    held = Some(block);
                }
                cluster = geometry.entry(&fat.contents, offset);
                geometry.free_entry(&mut fat.contents, offset);
            }
            if let Some(held) = held {
                write_back(device, &fat, held);
            }
        });
    }

    /// Opens `name` in `dir` as `mode` asks.
    fn open_in(&self, dir: RawDirectory, name: &str, mode: OpenMode) -> Result<Open, i32> {
        let (short, times) = match self.entry(dir, name)? {
            Some(entry) if entry.attributes.is_directory() => {
                if mode.create == Create::New {
                    return Err(errno::EEXIST);
                }
                if mode.write {
                    return Err(errno::EISDIR);
                }
                let raw = self.manager.open_dir(dir, entry.name).map_err(errno_of)?;
                return Ok(Open::Dir { dir: Dir::Opened(raw), times: Times::of(&entry) });
            }
            Some(_) if mode.directory => return Err(errno::ENOTDIR),
            Some(_) if mode.create == Create::New => return Err(errno::EEXIST),
            // Truncating modifies it.
            Some(entry) if mode.truncate => {
                (entry.name, Times { modified: stamped_now(), ..Times::of(&entry) })
            }
            Some(entry) => (entry.name, Times::of(&entry)),
            None if mode.directory || mode.create == Create::No => return Err(errno::ENOENT),
            // A new file of a short name, made by the open.
            None => match ShortFileName::create_from_str(name) {
                Ok(short) => {
                    let now = stamped_now();
                    (short, Times { modified: now, created: now })
                }
                // Of a long one: made here, empty, then opened as it is.
                Err(_) => {
                    let make = |alias| {
                        let file =
                            self.manager.open_file_in_dir(dir, alias, Mode::ReadWriteCreate)?;
                        self.manager.close_file(file)
                    };
                    let alias = self.make_long(dir, name, &make)?;
                    return self
                        .open_in(dir, name, OpenMode { create: Create::No, ..mode })
                        .inspect_err(|_| {
                            let _ = self.delete_short(dir, alias);
                        });
                }
            },
        };
        // embedded-sdmmc's modes: the append ones keep the contents and
        // start at the end, so a plain open for writing seeks back.
        let (fat_mode, from_start) = match (mode.write, mode.create, mode.truncate) {
            (false, Create::No, _) => (Mode::ReadOnly, false),
            (_, Create::New, _) => (Mode::ReadWriteCreate, false),
            (_, Create::IfMissing, true) => (Mode::ReadWriteCreateOrTruncate, false),
            (_, Create::IfMissing, false) => (Mode::ReadWriteCreateOrAppend, !mode.append),
            (_, Create::No, true) => (Mode::ReadWriteTruncate, false),
            (_, Create::No, false) => (Mode::ReadWriteAppend, !mode.append),
        };
        let file = self.manager.open_file_in_dir(dir, short, fat_mode).map_err(errno_of)?;
        if from_start && let Err(error) = self.manager.file_seek_from_start(file, 0) {
            let _ = self.manager.close_file(file);
            return Err(errno_of(error));
        }
        Ok(Open::File {
            file,
            read: mode.read,
            write: mode.write,
            append: mode.append,
            beyond: None,
            times,
        })
    }
}

/// `open` of a path under `/sd`, `flags` as std gives them.
pub(super) fn open(state: &mut StdState, path: SdPath<'_>, flags: i32) -> Result<OpenFile, i32> {
    let mode = ferrode_std_abi::open_mode(flags)?;
    set_date(state);
    let sd = mount(state)?;
    let root = || {
        if mode.write || mode.create == Create::New {
            Err(errno::EISDIR)
        } else {
            Ok(Open::Dir { dir: Dir::Root, times: Times::default() })
        }
    };
    let open = sd.in_parent(path, root, |sd, dir, name| sd.open_in(dir, name, mode))?;
    Ok(OpenFile::Sd(open))
}

/// `read` from an open file of the card (nothing past its end).
pub(super) fn read(mount: &mut Mount, open: &Open, out: &mut [u8]) -> Result<usize, i32> {
    let sd = mounted(mount)?;
    match *open {
        Open::File { read: true, beyond: Some(_), .. } => Ok(0),
        Open::File { file, read: true, .. } => sd.manager.read(file, out).map_err(errno_of),
        Open::File { .. } => Err(errno::EBADF),
        Open::Dir { .. } => Err(errno::EISDIR),
        Open::Gone => Err(errno::EIO),
    }
}

/// `write` to an open file of the card: all of `data`, or an error. At an
/// offset past the file's end, the gap is filled with zeros first; one
/// that would end past FAT's largest file (4 GiB less a byte) is `EFBIG`.
pub(super) fn write(state: &mut StdState, fd_index: usize, data: &[u8]) -> Result<usize, i32> {
    set_date(state);
    let StdState { files, sd, .. } = state;
    let sd = mounted(sd)?;
    match files.get_mut(fd_index) {
        Some(Some(OpenFile::Sd(Open::File {
            file, write: true, append, beyond, times, ..
        }))) => {
            let file = *file;
            if *append {
                // O_APPEND: at the end, wherever an lseek left the offset.
                *beyond = None;
                sd.manager.file_seek_from_end(file, 0).map_err(errno_of)?;
            }
            let at = sd.offset(file, *beyond)?;
            if fat::write_end(at, data.len()).is_none() {
                return Err(errno::EFBIG);
            }
            if let Some(at) = *beyond {
                sd.fill_to(file, at)?;
                *beyond = None;
            }
            sd.manager.write(file, data).map_err(errno_of)?;
            times.modified = stamped_now();
            Ok(data.len())
        }
        Some(Some(OpenFile::Sd(Open::Dir { .. }))) => Err(errno::EISDIR),
        Some(Some(OpenFile::Sd(Open::Gone))) => Err(errno::EIO),
        _ => Err(errno::EBADF),
    }
}

/// `lseek` in an open file of the card. Past its end too: the offset is
/// kept in the [`Open`] until a write fills the gap.
pub(super) fn lseek(
    mount: &mut Mount,
    open: &mut Open,
    offset: i64,
    whence: i32,
) -> Result<u64, i32> {
    let sd = mounted(mount)?;
    let (file, beyond) = match open {
        Open::File { file, beyond, .. } => (*file, beyond),
        Open::Dir { .. } => return Err(errno::EISDIR),
        Open::Gone => return Err(errno::EIO),
    };
    let length = sd.manager.file_length(file).map_err(errno_of)?;
    let at = sd.offset(file, *beyond)?;
    let to = seek(u64::from(at), u64::from(length), offset, whence).ok_or(errno::EINVAL)?;
    let to = u32::try_from(to).map_err(|_| errno::EINVAL)?;
    // What `lseek` answers must fit its `isize` (2 GiB on a 32-bit board).
    isize::try_from(to).map_err(|_| errno::EOVERFLOW)?;
    if to > length {
        sd.manager.file_seek_from_end(file, 0).map_err(errno_of)?;
        *beyond = Some(to);
    } else {
        sd.manager.file_seek_from_start(file, to).map_err(errno_of)?;
        *beyond = None;
    }
    Ok(u64::from(to))
}

/// What `stat` says of a file of `size` bytes on the card, or a directory,
/// with its dates: std's `modified` and `accessed` give the modification
/// (FAT keeps the last access to the day only, and embedded-sdmmc does not
/// read it), `created` the creation (Hermit's `st_ctim`).
fn stat_of(directory: bool, size: u64, times: Times) -> abi::stat {
    let at = |seconds: u32| abi::timespec { tv_sec: seconds.into(), tv_nsec: 0 };
    /// Readable and writable by all.
    const FILE: u32 = abi::S_IFREG | 0o666;
    /// Readable, writable and searchable by all.
    const DIRECTORY: u32 = abi::S_IFDIR | 0o777;
    abi::stat {
        st_nlink: if directory { 2 } else { 1 },
        st_mode: if directory { DIRECTORY } else { FILE },
        st_size: size as i64,
        st_blksize: 512,
        st_blocks: size.div_ceil(512) as i64,
        st_atim: at(times.modified),
        st_mtim: at(times.modified),
        st_ctim: at(times.created),
        ..Default::default()
    }
}

/// `fstat` of an open file or directory of the card.
pub(super) fn fstat(mount: &mut Mount, open: &Open) -> Result<abi::stat, i32> {
    let sd = mounted(mount)?;
    match *open {
        Open::File { file, times, .. } => {
            Ok(stat_of(false, u64::from(sd.manager.file_length(file).map_err(errno_of)?), times))
        }
        Open::Dir { times, .. } => Ok(stat_of(true, 0, times)),
        Open::Gone => Err(errno::EIO),
    }
}

/// `stat` of a path under `/sd`.
pub(super) fn stat(state: &mut StdState, path: SdPath<'_>) -> Result<abi::stat, i32> {
    let sd = mount(state)?;
    sd.in_parent(
        path,
        || Ok(stat_of(true, 0, Times::default())),
        |sd, dir, name| match sd.entry(dir, name)? {
            Some(entry) => Ok(stat_of(
                entry.attributes.is_directory(),
                u64::from(entry.size),
                Times::of(&entry),
            )),
            None => Err(errno::ENOENT),
        },
    )
}

/// `close`: a file's directory entry brought up to date (its size, its
/// date), a directory let go.
pub(super) fn close(mount: &mut Mount, open: Open) -> Result<(), i32> {
    match open {
        Open::File { file, .. } => mounted(mount)?.manager.close_file(file).map_err(errno_of),
        Open::Dir { dir, .. } => {
            mounted(mount)?.close_dir(dir);
            Ok(())
        }
        // Nothing of it is left to close.
        Open::Gone => Ok(()),
    }
}

/// At the component's exit: every file of the card still open closed, so
/// that no size or date is lost.
pub(super) fn close_all(state: &mut StdState) {
    let StdState { files, sd, .. } = state;
    for slot in files.iter_mut() {
        if matches!(slot, Some(OpenFile::Sd(_)))
            && let Some(OpenFile::Sd(open)) = slot.take()
        {
            let _ = close(sd, open);
        }
    }
}

/// `getdents64` of an open directory of the card: its files and
/// directories, all at once ([`write_dirent`]); `EINVAL` if they do not
/// fit in `out` (std asks again with more room).
pub(super) fn getdents(mount: &mut Mount, open: &Open, out: &mut [u8]) -> Result<usize, i32> {
    let sd = mounted(mount)?;
    let dir = match *open {
        Open::Dir { dir, .. } => dir,
        Open::File { .. } => return Err(errno::ENOTDIR),
        Open::Gone => return Err(errno::EIO),
    };
    let (mut at, mut index, mut fits) = (0, 0, true);
    sd.entries(sd.raw(dir), &mut |entry, long| {
        let mut short = heapless::String::<12>::new();
        let name = match long {
            Some(long) => long,
            None => {
                let _ = write!(short, "{}", entry.name);
                short.as_str()
            }
        };
        if entry.attributes.is_volume() || name == "." || name == ".." || !listed(name) {
            return ControlFlow::Continue(());
        }
        let kind = if entry.attributes.is_directory() { abi::DT_DIR } else { abi::DT_REG };
        match write_dirent(out, at, index, name, kind) {
            Some(next) => {
                at = next;
                index += 1;
                ControlFlow::Continue(())
            }
            None => {
                fits = false;
                ControlFlow::Break(())
            }
        }
    })?;
    if fits { Ok(at) } else { Err(errno::EINVAL) }
}

/// `unlink` of a file under `/sd` (`EISDIR` for a directory).
pub(super) fn unlink(state: &mut StdState, path: SdPath<'_>) -> Result<(), i32> {
    set_date(state);
    let sd = mount(state)?;
    sd.in_parent(
        path,
        || Err(errno::EISDIR),
        |sd, dir, name| match sd.entry(dir, name)? {
            Some(entry) if entry.attributes.is_directory() => Err(errno::EISDIR),
            Some(entry) => sd.delete(dir, &entry),
            None => Err(errno::ENOENT),
        },
    )
}

/// `rmdir` of an empty directory under `/sd` (`ENOTDIR` for a file,
/// `EBUSY` for `/sd` itself).
pub(super) fn rmdir(state: &mut StdState, path: SdPath<'_>) -> Result<(), i32> {
    set_date(state);
    let sd = mount(state)?;
    sd.in_parent(
        path,
        || Err(errno::EBUSY),
        |sd, dir, name| match sd.entry(dir, name)? {
            Some(entry) if entry.attributes.is_directory() => sd.delete(dir, &entry),
            Some(_) => Err(errno::ENOTDIR),
            None => Err(errno::ENOENT),
        },
    )
}

/// `mkdir` under `/sd` (`EEXIST` for a name taken).
pub(super) fn mkdir(state: &mut StdState, path: SdPath<'_>) -> Result<(), i32> {
    set_date(state);
    let sd = mount(state)?;
    sd.in_parent(
        path,
        || Err(errno::EEXIST),
        |sd, dir, name| match (sd.entry(dir, name)?, ShortFileName::create_from_str(name)) {
            (Some(_), _) => Err(errno::EEXIST),
            (None, Ok(short)) => sd.manager.make_dir_in_dir(dir, short).map_err(errno_of),
            (None, Err(_)) => {
                sd.make_long(dir, name, &|alias| sd.manager.make_dir_in_dir(dir, alias)).map(drop)
            }
        },
    )
}
