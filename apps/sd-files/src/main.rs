//! Files on the RealView PBX-A9's SD card: embedded-sdmmc's FAT volume
//! manager in a client component, reading and writing the card through a
//! Block session.
//!
//! `sd` is the card's driver component (`component::block_root`, its
//! route granting it the MCI's registers); `files` holds a Block session
//! of it, which is embedded-sdmmc's `BlockDevice`
//! (`component::BlockClient`), and an Rtc session, whose PL031 date
//! stamps the files it writes (embedded-sdmmc's `TimeSource`). It
//!
//! - opens the first partition of the card's MBR (FAT16 or FAT32) and
//!   lists the root directory;
//! - reads [`README`] and prints its first line;
//! - appends a line to [`LOG`] (creating it), stamped with the date, and
//!   reads the file back.
//!
//! Then it closes its session. `raw`, started once `files` has ended, has
//! a Block session of its own whose route (`quota 1`) confines it to the
//! card's first partition: its block 0 is the partition's FAT16 boot
//! sector, and the driver refuses the block after the partition's end.
//!
//! `sd-files: 0 checks failed` and exit status 0 end a good run. The
//! test harness formats the card's image, puts `README.TXT` on it, and
//! after the run reads `LOG.TXT` on the host.
#![no_std]
#![no_main]

use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering};

use embedded_sdmmc::{Mode, TimeSource, Timestamp, VolumeIdx, VolumeManager};
use ferrode_board::component::{Env, Event, LogClient, ParentEnv};
use ferrode_board::exit_code;
use ferrode_board::kernel::{self, kernel};
use ferrode_component::block::{BlockStatus, Operation, Request};
use ferrode_component::{RTC, Root, Rtc, SessionArgs, SessionError};
use ferrode_hal::CivilTime;

ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        io_mem: { priority: 5, stack: 4096, provides: "IO_MEM", root: ferrode_board::component::io_mem_root },
        rtc: { priority: 5, stack: 4096, provides: "Rtc", root: ferrode_board::component::rtc_root },
        sd: { priority: 4, stack: 4096, provides: "Block", root: ferrode_board::component::block_root },
    }
    clients {
        files: { priority: 3, stack: 16384, main: files },
        raw: { priority: 3, stack: 8192, main: raw, after: files },
    }
    routes {
        sd: "IO_MEM" "sd" => io_mem,
        files: "LOG" "" => log,
        files: "Rtc" "" => rtc,
        files: "Block" "card" => sd,
        raw: "LOG" "" => log,
        raw: "Block" "partition" => sd quota 1,
    }
    parent: parent,
}

/// The checks of the Block root the hook made, a bit each (all three set:
/// as the root should answer).
static ROOT_CHECKS: AtomicU32 = AtomicU32::new(0);

/// Every bit of [`ROOT_CHECKS`].
const ALL_ROOT_CHECKS: u32 = 0b111;

/// The composer's hook: once every server runs, and before any client
/// holds a session, asks the Block root for sessions of its own: one of a
/// partition the card's MBR does not have (3), one of no partition at all
/// (5), and one of the first, which it closes again for `files`.
fn parent(env: &mut ParentEnv<'_>, event: Event) -> u32 {
    if event != Event::Started {
        return 0;
    }
    let Some(root) = env.root("sd") else { return exit_code::FAILURE };
    let mut root = kernel::client(root);
    let mut ask = |quota| {
        let label = heapless::String::try_from("hook").unwrap_or_default();
        root.session(SessionArgs { label, quota })
    };
    let mut checks = 0;
    if ask(3) == Err(SessionError::Denied) {
        checks |= 0b001;
    }
    if ask(5) == Err(SessionError::Denied) {
        checks |= 0b010;
    }
    if let Ok(session) = ask(1)
        && root.close(session).is_ok()
    {
        checks |= 0b100;
    }
    ROOT_CHECKS.store(checks, Ordering::Relaxed);
    0
}

/// Failed checks of both clients.
static FAILED: AtomicU32 = AtomicU32::new(0);

/// The file `files` reads (the harness wrote it).
const README: &str = "README.TXT";
/// The file `files` appends a line to.
const LOG: &str = "LOG.TXT";

/// The date for embedded-sdmmc's directory entries: the PL031's, through
/// the Rtc session.
struct Clock(RefCell<ferrode_ipc::Client<dyn Rtc, kernel::Transport>>);

impl TimeSource for Clock {
    fn get_timestamp(&self) -> Timestamp {
        let seconds = self.0.borrow_mut().seconds().unwrap_or(0);
        let date = CivilTime::from_unix_seconds(seconds);
        Timestamp {
            year_since_1970: (date.year.saturating_sub(1970)).min(255) as u8,
            zero_indexed_month: date.month - 1,
            zero_indexed_day: date.day - 1,
            hours: date.hour,
            minutes: date.minute,
            seconds: date.second,
        }
    }
}

/// Prints `ok:` or `FAILED:` and `what`, counting a failure.
fn check(log: &mut LogClient, ok: bool, what: core::fmt::Arguments<'_>) {
    let _ = log.write_fmt(format_args!("{}: {}", if ok { "ok" } else { "FAILED" }, what));
    if !ok {
        FAILED.fetch_add(1, Ordering::Relaxed);
    }
}

fn files(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let Ok(rtc) = env.session::<dyn Rtc>(RTC, "").map(kernel::client) else {
        check(&mut log, false, format_args!("an Rtc session"));
        return exit_code::FAILURE;
    };
    let Ok((_, signal)) = kernel().create_signal() else { return exit_code::FAILURE };
    let card = match env.block("card", signal) {
        Ok(card) => card,
        Err(error) => {
            check(&mut log, false, format_args!("a Block session: {error}"));
            return exit_code::FAILURE;
        }
    };
    let checks = ROOT_CHECKS.load(Ordering::Relaxed);
    check(
        &mut log,
        checks == ALL_ROOT_CHECKS,
        format_args!(
            "the Block root denied the hook partitions 3 (none on the card) and 5, and gave it \
             partition 1 ({checks:#05b})"
        ),
    );
    let clock = Clock(RefCell::new(rtc));
    let stamp = clock.get_timestamp();
    let manager: VolumeManager<_, _> = VolumeManager::new(card, clock);
    let volume = match manager.open_volume(VolumeIdx(0)) {
        Ok(volume) => volume,
        Err(error) => {
            check(&mut log, false, format_args!("the card's first partition: {error:?}"));
            return exit_code::FAILURE;
        }
    };
    let root = match volume.open_root_dir() {
        Ok(root) => root,
        Err(error) => {
            check(&mut log, false, format_args!("its root directory: {error:?}"));
            return exit_code::FAILURE;
        }
    };
    let mut entries = 0;
    let listed = root.iterate_dir(|entry| {
        entries += 1;
        let _ = log.write_fmt(format_args!("  {:<12} {:>8} bytes", entry.name, entry.size));
        core::ops::ControlFlow::Continue(())
    });
    check(
        &mut log,
        listed.is_ok() && entries > 0,
        format_args!("the root directory lists {entries} entries ({listed:?})"),
    );

    // The README's first line.
    let mut text = [0u8; 256];
    let read = root.open_file_in_dir(README, Mode::ReadOnly).and_then(|file| {
        let mut length = 0;
        while !file.is_eof() && length < text.len() {
            length += file.read(&mut text[length..])?;
        }
        file.close()?;
        Ok(length)
    });
    match read {
        Ok(length) => {
            let first = text[..length].split(|&byte| byte == b'\n').next().unwrap_or(&[]);
            let line = core::str::from_utf8(first).unwrap_or("(not UTF-8)");
            check(
                &mut log,
                !first.is_empty(),
                format_args!("{README} reads {length} bytes; its first line: {line}"),
            );
        }
        Err(error) => check(&mut log, false, format_args!("reading {README}: {error:?}")),
    }

    // A line appended to the log, then the whole file read back.
    let line = line_at(stamp);
    let written = root.open_file_in_dir(LOG, Mode::ReadWriteCreateOrAppend).and_then(|file| {
        file.write(line.as_bytes())?;
        file.flush()?;
        file.close()
    });
    let mut back = [0u8; 512];
    let reread = root.open_file_in_dir(LOG, Mode::ReadOnly).and_then(|file| {
        let mut length = 0;
        while !file.is_eof() && length < back.len() {
            length += file.read(&mut back[length..])?;
        }
        let size = file.length();
        file.close()?;
        Ok((length, size))
    });
    let ends_with_line =
        matches!(reread, Ok((length, _)) if back[..length].ends_with(line.as_bytes()));
    check(
        &mut log,
        written.is_ok() && ends_with_line,
        format_args!(
            "{LOG}: appended \"{}\" and read it back ({written:?}, {:?})",
            line.trim_end(),
            reread.map(|(_, size)| size)
        ),
    );
    let closed = root.close().and_then(|()| volume.close());
    check(&mut log, closed.is_ok(), format_args!("the volume closes ({closed:?})"));
    // The session back from the volume manager, and closed: `raw` gets
    // the card next.
    let (card, _) = manager.free();
    let closed = env.close_block("card", card);
    check(&mut log, closed.is_ok(), format_args!("the session closes ({closed:?})"));
    0
}

/// Started once `files` has ended, with a Block session whose route
/// (`quota 1`) confines it to the card's first partition: the blocks it
/// sees start at the partition's, the FAT16 boot sector, and end at the
/// partition's end, which the driver holds it to.
fn raw(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let Ok((_, signal)) = kernel().create_signal() else { return exit_code::FAILURE };
    match env.block("partition", signal) {
        Ok(part) => {
            let blocks = part.block_count();
            let mut boot = [[0u8; 512]; 1];
            let read = part.read(0, &mut boot);
            let fat16 = boot[0][510..] == [0x55, 0xaa] && &boot[0][54..59] == b"FAT16";
            check(
                &mut log,
                read.is_ok() && fat16,
                format_args!(
                    "the partition's session: {blocks} blocks, its block 0 the FAT16 boot sector ({read:?})"
                ),
            );
            let past = Request {
                operation: Operation::Read,
                block: blocks,
                count: 1,
                status: BlockStatus::Pending,
            };
            let refused = part.raw_request(past.encode(), 1);
            check(
                &mut log,
                refused == Ok(BlockStatus::OutOfRange),
                format_args!(
                    "the block after the partition's end is refused by the driver ({refused:?})"
                ),
            );
            let closed = env.close_block("partition", part);
            check(&mut log, closed.is_ok(), format_args!("it closes ({closed:?})"));
        }
        Err(error) => check(&mut log, false, format_args!("a session of the partition: {error}")),
    }
    let failed = FAILED.load(Ordering::Relaxed);
    let _ = log.write_fmt(format_args!("sd-files: {failed} checks failed"));
    if failed == 0 { exit_code::SUCCESS } else { exit_code::FAILURE }
}

/// The line `files` appends: the date it wrote it at.
fn line_at(stamp: Timestamp) -> heapless::String<64> {
    let mut line = heapless::String::new();
    let _ = core::fmt::write(
        &mut line,
        format_args!(
            "Ferrode wrote this on {:04}-{:02}-{:02} at {:02}:{:02}:{:02}\n",
            1970 + u32::from(stamp.year_since_1970),
            stamp.zero_indexed_month + 1,
            stamp.zero_indexed_day + 1,
            stamp.hours,
            stamp.minutes,
            stamp.seconds
        ),
    );
    line
}
