//! `std::fs` on the SD card: an ordinary Rust std `main` keeps files on the
//! RealView PBX-A9's card under `/sd`.
//!
//! `sd` is the card's driver component (`component::block_root`, the
//! PL181's register window its only device). The std component `app` has
//! a Block session of it, routed with the label `sd` and confined to the
//! card's first partition (`quota 1`); the board's std support
//! (`hermit-sd`) mounts that FAT volume under `/sd` at the first path
//! that names it, through embedded-sdmmc. `main` lists the card, reads the
//! files the test harness put on it (`README.TXT`, and files under long
//! names, as a computer writes them: `Sensor readings.csv`, and five in
//! `Field notes`, among them `Monday log.txt`, and in `Kept notes` one
//! whose long name has 19 parts), makes a directory and
//! files, appends, seeks (past the end too, and writes there), removes
//! (the long-named ones too, and `Field notes` with everything in it;
//! of `Kept notes` the one of 19 parts),
//! and checks the errors std reports for what the card cannot do; the
//! last file it leaves open, and the component's exit closes it. The
//! harness then reads the files from the image on the host (`LOGS/GAP.BIN`
//! with its gap of zeros too), and finds no long name left of those
//! removed.
//!
//! With the command line `swap` (`cargo xtask run --app files-std --sd
//! card.img -- swap`), `main` also leaves a file open for writing and
//! asks for the card to be exchanged (`swap: exchange the card`; the
//! test harness puts card B in its place through QEMU's monitor), then
//! finds card B's files under `/sd`, the file opened on the card that
//! left refused (`EIO`), and writes a file on card B.
//!
//! `files-std: 0 checks failed` and exit status 0 end a good run.
//! `cargo xtask run --app files-std --sd card.img` runs it on a card
//! image with a FAT partition (an MBR, FAT16 or FAT32 first).

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hermit_abi::errno;

ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        timer: { priority: 5, stack: 4096, provides: "Timer", root: ferrode_board::component::timer_root },
        rtc: { priority: 5, stack: 4096, provides: "Rtc", root: ferrode_board::component::rtc_root },
        io_mem: { priority: 5, stack: 4096, provides: "IO_MEM", root: ferrode_board::component::io_mem_root },
        sd: { priority: 4, stack: 4096, provides: "Block", root: ferrode_board::component::block_root },
    }
    clients {
        app: { priority: 3, stack: 32768, main: ferrode_board::hermit::std_main },
    }
    routes {
        sd: "IO_MEM" "sd" => io_mem,
        app: "LOG" "" => log,
        app: "Timer" "" => timer,
        // Dates for the directory entries.
        app: "Rtc" "" => rtc,
        // The card's first partition: `/sd` (the card's other partitions
        // are left to other clients; a route without the quota would
        // give the whole card).
        app: "Block" "sd" => sd quota 1,
    }
}

/// The lines `main` writes into `/sd/LOGS/DAY1.TXT`, then the one it
/// appends (the harness checks the file holds them).
const LINES: [&str; 3] = ["first line", "second line", "appended line"];

/// What the harness put in `/sd/Sensor readings.csv` and `/sd/Field
/// notes/Monday log.txt`.
const SENSOR: &str = "time,value\n0,21.5\n";
const MONDAY: &str = "calibrated the sensor\n";

/// 1980-01-01 in seconds since 1970: the first date FAT can hold, which
/// fatfs stamps on the card's files when it has no clock, as when the
/// harness makes the card.
const FAT_EPOCH: u64 = 315_532_800;

/// Where `main` writes `tail` in `/sd/LOGS/GAP.BIN`, whose first four
/// bytes are `head`: the gap between reads as zeros. It spans clusters on
/// every card.
const GAP_AT: u64 = 5000;

/// What `main` writes into `/sd/OPEN.TXT` and leaves open.
const LEFT_OPEN: &str = "written, never closed by main";

/// The names in directory `path`, sorted, each with whether it is a
/// directory (none if it cannot be read).
fn listing(path: &str) -> Vec<(String, bool)> {
    let mut names: Vec<(String, bool)> = fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| {
                    let directory = entry.file_type().is_ok_and(|kind| kind.is_dir());
                    (entry.file_name().to_string_lossy().into_owned(), directory)
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

struct Checks(u32);

impl Checks {
    fn check(&mut self, ok: bool, what: impl std::fmt::Display) {
        println!("{}: {what}", if ok { "ok" } else { "FAILED" });
        if !ok {
            self.0 += 1;
        }
    }
}

fn main() {
    let mut checks = Checks(0);

    // The card as the harness made it: README.TXT, and two files under
    // long names, in the root.
    let mut names: Vec<String> = match fs::read_dir("/sd") {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(error) => vec![format!("({error})")],
    };
    names.sort();
    checks.check(
        names == ["Field notes", "Kept notes", "README.TXT", "Sensor readings.csv"],
        format_args!("/sd lists {names:?}"),
    );
    let readme = fs::read_to_string("/sd/readme.txt");
    let first = readme.as_deref().map(|text| text.lines().next().unwrap_or_default());
    checks.check(
        first.as_ref().ok() == Some(&"Ferrode SD card test volume"),
        format_args!("/sd/readme.txt (a FAT name: any case) reads {first:?}"),
    );

    // Long names, in any case, and the short names beside them.
    let sensor = fs::read_to_string("/sd/sensor READINGS.CSV");
    let alias = fs::read_to_string("/sd/SENSOR~1.CSV");
    let monday = fs::read_to_string("/sd/field NOTES/Monday log.txt");
    let in_notes = listing("/sd/Field notes");
    checks.check(
        sensor.as_deref().ok() == Some(SENSOR)
            && alias.as_deref().ok() == Some(SENSOR)
            && monday.as_deref().ok() == Some(MONDAY)
            && in_notes.len() == 5
            && in_notes.contains(&("Monday log.txt".into(), false)),
        format_args!(
            "long names: sensor READINGS.CSV reads {} bytes, SENSOR~1.CSV the same, field NOTES/Monday log.txt {} bytes; Field notes lists {} files",
            sensor.map_or(0, |text| text.len()),
            monday.map_or(0, |text| text.len()),
            in_notes.len()
        ),
    );

    // Dates, as the card keeps them (to two seconds, from 1980 on):
    // README.TXT's as the card was made (the harness's cards: 1980-01-01,
    // fatfs without a clock; `sd-image create` keeps the host files'); a
    // file the card had, once written through an open file, modified now
    // and created still then; a file made now, both now.
    let dates = |metadata: fs::Metadata| Ok((metadata.modified()?, metadata.created()?));
    let readme = fs::metadata("/sd/README.TXT").and_then(dates);
    let monday = OpenOptions::new().append(true).open("/sd/Field notes/Monday log.txt").and_then(
        |mut file| {
            file.write_all(b"dates checked\n")?;
            dates(file.metadata()?)
        },
    );
    let fresh =
        fs::write("/sd/DATED.TXT", "").and_then(|()| fs::metadata("/sd/DATED.TXT")).and_then(dates);
    fs::remove_file("/sd/DATED.TXT").ok();
    let now = SystemTime::now();
    let fat_epoch = UNIX_EPOCH + Duration::from_secs(FAT_EPOCH);
    let on_card = |time: SystemTime| time >= fat_epoch && time <= now;
    let recent = |time: SystemTime| now.duration_since(time).is_ok_and(|age| age.as_secs() <= 10);
    let seconds = |time: SystemTime| time.duration_since(UNIX_EPOCH).map_or(0, |at| at.as_secs());
    checks.check(
        readme.as_ref().is_ok_and(|&(modified, created)| on_card(modified) && on_card(created))
            && monday.as_ref().is_ok_and(|&(modified, created)| {
                recent(modified) && on_card(created) && created <= modified
            })
            && fresh.as_ref().is_ok_and(|&(modified, created)| recent(modified) && recent(created)),
        format_args!(
            "dates: README.TXT modified, created {:?}; Monday log.txt created {:?}, written {:?} s ago, DATED.TXT {:?} s ago",
            readme.as_ref().map(|&(modified, created)| (seconds(modified), seconds(created))),
            monday.as_ref().map(|&(_, created)| seconds(created)),
            monday.as_ref().map(|&(modified, _)| seconds(now) - seconds(modified)),
            fresh.as_ref().map(|&(_, created)| seconds(now) - seconds(created)),
        ),
    );

    // A directory and a file in it, written through a BufWriter-less File.
    let made = fs::create_dir("/sd/LOGS");
    let written = File::create("/sd/LOGS/DAY1.TXT").and_then(|mut file| {
        for line in &LINES[..2] {
            writeln!(file, "{line}")?;
        }
        Ok(())
    });
    let size =
        fs::metadata("/sd/LOGS/DAY1.TXT").map(|metadata| (metadata.is_file(), metadata.len()));
    let expected = (LINES[0].len() + LINES[1].len() + 2) as u64;
    checks.check(
        made.is_ok() && written.is_ok() && size.as_ref().ok() == Some(&(true, expected)),
        format_args!("mkdir /sd/LOGS, and LOGS/DAY1.TXT written: a file of {size:?} bytes"),
    );
    // Its dates through the open directory (`fstat`) too: made now.
    let is_dir = fs::metadata("/sd/LOGS").map(|metadata| metadata.is_dir());
    let opened = File::open("/sd/LOGS").and_then(|dir| dir.metadata()).and_then(|metadata| {
        let age =
            |time: SystemTime| SystemTime::now().duration_since(time).map(|age| age.as_secs());
        Ok((metadata.is_dir(), age(metadata.modified()?), age(metadata.created()?)))
    });
    let made_now = |age: &Result<u64, _>| age.as_ref().is_ok_and(|&age| age <= 10);
    checks.check(
        is_dir.as_ref().ok() == Some(&true)
            && opened.as_ref().is_ok_and(|(dir, modified, created)| {
                *dir && made_now(modified) && made_now(created)
            }),
        format_args!(
            "/sd/LOGS is a directory ({is_dir:?}), and opened one made {:?} s ago",
            opened.as_ref().map(|(_, modified, _)| modified.as_ref().ok())
        ),
    );

    // Appending, then the whole file read back.
    let appended = OpenOptions::new()
        .append(true)
        .open("/sd/LOGS/DAY1.TXT")
        .and_then(|mut file| writeln!(file, "{}", LINES[2]));
    let text = fs::read_to_string("/sd/LOGS/DAY1.TXT");
    let all = LINES.iter().map(|line| format!("{line}\n")).collect::<String>();
    checks.check(
        appended.is_ok() && text.as_deref().ok() == Some(all.as_str()),
        format_args!("a line appended; DAY1.TXT reads back {} lines", LINES.len()),
    );

    // Seeking: into the file, to its end, and past it, where a read finds
    // nothing and the file keeps its length.
    let sought = File::open("/sd/LOGS/DAY1.TXT").and_then(|mut file| {
        file.seek(SeekFrom::Start(LINES[0].len() as u64 + 1))?;
        let mut second = String::new();
        file.read_to_string(&mut second)?;
        let end = file.seek(SeekFrom::End(0))?;
        let past = file.seek(SeekFrom::End(10))?;
        let read = file.read(&mut [0; 8])?;
        let here = file.stream_position()?;
        let length = file.metadata()?.len();
        Ok((second.lines().next().map(String::from), end, past, read, here, length))
    });
    let end = all.len() as u64;
    checks.check(
        matches!(&sought, Ok((Some(line), at_end, past, 0, here, length))
            if line == LINES[1] && *at_end == end && *past == end + 10 && *here == end + 10
                && *length == end),
        format_args!("seeks within DAY1.TXT, to its end, and past it ({sought:?})"),
    );

    // Overwriting in place: a plain open for writing starts at 0.
    let patched = OpenOptions::new()
        .write(true)
        .open("/sd/LOGS/DAY1.TXT")
        .and_then(|mut file| file.write_all(b"FIRST"));
    let text = fs::read_to_string("/sd/LOGS/DAY1.TXT");
    checks.check(
        patched.is_ok()
            && text.as_deref().ok().is_some_and(|text| text.starts_with("FIRST line\n")),
        format_args!(
            "overwritten in place: DAY1.TXT starts {:?}",
            text.as_deref().map(|text| &text[..10.min(text.len())])
        ),
    );

    // The listing of a subdirectory, files and directories told apart.
    fs::write("/sd/LOGS/DAY2.TXT", "another day\n").ok();
    let listed = listing("/sd/LOGS");
    let root = listing("/sd");
    checks.check(
        listed == [("DAY1.TXT".into(), false), ("DAY2.TXT".into(), false)],
        format_args!("/sd/LOGS lists {listed:?}"),
    );
    checks.check(
        root == [
            ("Field notes".into(), true),
            ("Kept notes".into(), true),
            ("LOGS".into(), true),
            ("README.TXT".into(), false),
            ("Sensor readings.csv".into(), false),
        ],
        format_args!("/sd lists {root:?}"),
    );

    // Writing past the end: the gap reads as zeros. An offset of 2 GiB or
    // more is refused (`InvalidInput`: std hands lseek an `isize`, 32 bits
    // here), and moves nothing.
    let beyond = File::create("/sd/LOGS/GAP.BIN").and_then(|mut file| {
        file.write_all(b"head")?;
        let beyond = file.seek(SeekFrom::Start(1 << 31)).map_err(|error| error.kind());
        file.seek(SeekFrom::Start(GAP_AT))?;
        file.write_all(b"tail")?;
        Ok(beyond)
    });
    let gap = fs::read("/sd/LOGS/GAP.BIN");
    let zeros = gap.as_ref().map_or(0, |bytes| {
        bytes
            .get(4..bytes.len().saturating_sub(4))
            .map_or(0, |gap| gap.iter().filter(|&&byte| byte == 0).count())
    });
    checks.check(
        matches!(beyond, Ok(Err(ErrorKind::InvalidInput)))
            && gap.as_ref().is_ok_and(|bytes| {
                bytes.starts_with(b"head")
                    && bytes.ends_with(b"tail")
                    && bytes.len() == GAP_AT as usize + 4
            })
            && zeros == GAP_AT as usize - 4,
        format_args!(
            "written past its end: GAP.BIN reads {} bytes, {zeros} zeros between head and tail; an offset of 2 GiB {beyond:?}",
            gap.as_ref().map_or(0, Vec::len)
        ),
    );

    // Removing: a file, a directory that is not empty (refused), then
    // empty.
    let removed = fs::remove_file("/sd/LOGS/DAY2.TXT");
    let gone = fs::metadata("/sd/LOGS/DAY2.TXT").map(drop).map_err(|error| error.kind());
    // std's Hermit layer has an `ErrorKind` for few errors: the others
    // are `Uncategorized`, with the error number in `raw_os_error`.
    let not_empty = fs::remove_dir("/sd/LOGS").map_err(|error| error.raw_os_error());
    fs::create_dir("/sd/TMP").ok();
    let empty = fs::remove_dir("/sd/TMP");
    checks.check(
        removed.is_ok()
            && gone == Err(ErrorKind::NotFound)
            && not_empty == Err(Some(errno::ENOTEMPTY))
            && empty.is_ok()
            && !fs::exists("/sd/TMP").unwrap_or(true),
        format_args!(
            "DAY2.TXT removed ({removed:?}, then {gone:?}); LOGS, not empty, stays ({not_empty:?}); an empty TMP goes ({empty:?})"
        ),
    );

    // Removing files and a directory by their long names (the harness
    // finds no long name of them left on the card): one file, then Field
    // notes with what it holds, through the names its listing gives.
    let sensor = fs::remove_file("/sd/Sensor Readings.csv");
    let monday = fs::remove_file("/sd/Field notes/MONDAY LOG.TXT");
    let rest = fs::read_dir("/sd/field notes")
        .and_then(|mut entries| entries.try_for_each(|entry| fs::remove_file(entry?.path())));
    let notes = fs::remove_dir("/sd/field notes");
    let root = listing("/sd");
    checks.check(
        sensor.is_ok() && monday.is_ok() && rest.is_ok() && notes.is_ok() && root.len() == 3,
        format_args!(
            "long names removed: a file {sensor:?}, Monday log.txt {monday:?}, the rest of Field notes {rest:?}, then Field notes {notes:?}; {} left in /sd",
            root.len()
        ),
    );

    // A long name of 19 parts (the longest the std layer reads), written
    // by another system across three blocks of Kept notes (on a card of
    // one-block clusters, three clusters): the harness finds no entry of
    // it left in the directory, which stays.
    let kept = listing("/sd/Kept notes");
    let tuesday = kept.iter().find(|(name, _)| name.starts_with("Tuesday log"));
    let parts = tuesday.map_or(0, |(name, _)| name.encode_utf16().count().div_ceil(13));
    let removed = tuesday.map(|(name, _)| fs::remove_file(format!("/sd/Kept notes/{name}")));
    let left = listing("/sd/Kept notes");
    checks.check(
        parts == 19 && removed.as_ref().is_some_and(Result::is_ok) && left.len() == 5,
        format_args!(
            "a long name of {parts} parts removed ({removed:?}); Kept notes lists {}",
            left.len()
        ),
    );

    // New long names: a file, a directory and a file in it.
    let written = fs::write("/sd/Sensor log 2026-12-07.csv", SENSOR)
        .and_then(|()| fs::read_to_string("/sd/sensor LOG 2026-12-07.CSV"));
    let made = fs::create_dir("/sd/Daily reports")
        .and_then(|()| fs::write("/sd/Daily reports/first report.txt", MONDAY));
    let reports = listing("/sd/Daily reports");
    checks.check(
        written.as_deref().ok() == Some(SENSOR)
            && made.is_ok()
            && reports == [("first report.txt".into(), false)],
        format_args!(
            "new long names: Sensor log 2026-12-07.csv reads back {} bytes, Daily reports made {made:?} and lists {reports:?}",
            written.map_or(0, |text| text.len())
        ),
    );
    // A long name in a directory whose cluster has two free entries left
    // after its last, too few for the name's three: it goes into the
    // cluster the directory grows by.
    let filled = fs::create_dir("/sd/FULL")
        .and_then(|()| (0..28).try_for_each(|n| fs::write(format!("/sd/FULL/F{n:02}.TXT"), "")));
    let roomy = fs::write("/sd/FULL/needs room.txt", MONDAY)
        .and_then(|()| fs::read_to_string("/sd/FULL/needs room.txt"));
    // The two places the temporary entries left free are again too few:
    // a directory made there goes after needs room.txt.
    let night = fs::create_dir("/sd/FULL/Night readings");
    let full = listing("/sd/FULL");
    checks.check(
        filled.is_ok()
            && roomy.as_deref().ok() == Some(MONDAY)
            && night.is_ok()
            && full.len() == 30
            && full.contains(&("needs room.txt".into(), false))
            && full.contains(&("Night readings".into(), true)),
        format_args!(
            "long names past a full cluster: FULL's 28 files made {filled:?}, needs room.txt reads back {} bytes, Night readings made {night:?}; FULL lists {}",
            roomy.map_or(0, |text| text.len()),
            full.len()
        ),
    );

    // What the card cannot do, each with std's error.
    let kind = |result: std::io::Result<()>| result.map_err(|error| error.kind());
    let raw = |result: std::io::Result<()>| result.map_err(|error| error.raw_os_error());
    let missing = kind(File::open("/sd/NOPE.TXT").map(drop));
    let exists =
        kind(OpenOptions::new().write(true).create_new(true).open("/sd/README.TXT").map(drop));
    let long = kind(fs::write("/sd/what?.txt", "x"));
    let read_only = raw(File::open("/sd/README.TXT").and_then(|mut file| file.write_all(b"x")));
    let dir_as_file = raw(File::create("/sd/LOGS").map(drop));
    let outside = raw(fs::write("/elsewhere/A.TXT", "x"));
    // Names the std layer could not read back: 248 characters (20
    // parts), 128 two-byte ones (256 bytes); 127 two-byte ones (254
    // bytes) it takes.
    let widest = format!("/sd/LOGS/{}", "ü".repeat(127));
    let made = fs::write(&widest, "x").map_err(|error| error.raw_os_error());
    let kept = fs::read_to_string(&widest);
    let too_long = raw(fs::write(format!("/sd/LOGS/{}", "n".repeat(248)), "x"));
    let too_wide = raw(fs::write(format!("/sd/LOGS/{}", "ü".repeat(128)), "x"));
    checks.check(
        made.is_ok()
            && kept.as_deref().ok() == Some("x")
            && too_long == Err(Some(errno::ENAMETOOLONG))
            && too_wide == Err(Some(errno::ENAMETOOLONG)),
        format_args!(
            "a name of 127 two-byte characters {made:?}, read back {}; refused: 248 characters {too_long:?}, 128 two-byte ones {too_wide:?}",
            kept.is_ok()
        ),
    );
    checks.check(
        missing == Err(ErrorKind::NotFound)
            && exists == Err(ErrorKind::AlreadyExists)
            && long == Err(ErrorKind::InvalidInput),
        format_args!(
            "refused: a missing file {missing:?}, create_new of one there {exists:?}, a name FAT cannot hold {long:?}"
        ),
    );
    checks.check(
        read_only == Err(Some(errno::EBADF))
            && dir_as_file == Err(Some(errno::EISDIR))
            && outside == Err(Some(errno::EROFS)),
        format_args!(
            "refused (errno): a write to a file opened to read {read_only:?}, a directory as a file {dir_as_file:?}, a path outside /sd and /rom {outside:?}"
        ),
    );

    if std::env::args().nth(1).as_deref() == Some("swap") {
        exchange(&mut checks);
    }

    // A file left open: its size goes to the card when the component
    // exits (the harness reads it from the image).
    match File::create("/sd/OPEN.TXT").and_then(|mut file| {
        file.write_all(LEFT_OPEN.as_bytes())?;
        Ok(file)
    }) {
        Ok(file) => {
            std::mem::forget(file);
            println!("OPEN.TXT written and left open");
        }
        Err(error) => checks.check(false, format_args!("OPEN.TXT: {error}")),
    }

    println!("files-std: {} checks failed", checks.0);
    std::process::exit(if checks.0 == 0 { 0 } else { 1 });
}

/// What card B's README.TXT holds (the harness puts it there).
const CARD_B: &str = "Ferrode SD card B";

/// With the command line `swap`: a file open for writing while the
/// harness exchanges the card for card B. The call that meets the
/// exchange fails (`EIO`), the next path under `/sd` finds card B's
/// file system, the file opened on the card that left is closed to
/// everything but `close`, and files are written on card B.
fn exchange(checks: &mut Checks) {
    let held = File::create("/sd/HELD.TXT").and_then(|mut file| {
        file.write_all(b"never closed on card A")?;
        Ok(file)
    });
    let Ok(mut held) = held else {
        checks.check(false, format_args!("HELD.TXT: {held:?}"));
        return;
    };
    println!("swap: exchange the card");
    // Until the exchange shows: each read goes to the card, or to what
    // the file system cached of card A.
    let mut seen = Vec::new();
    for _ in 0..2000 {
        let read = fs::read_to_string("/sd/README.TXT").map_err(|error| error.raw_os_error());
        if read.as_deref() == Ok(CARD_B) {
            break;
        }
        if seen.last() != Some(&read) {
            seen.push(read);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let now = fs::read_to_string("/sd/README.TXT");
    checks.check(
        now.as_deref().ok() == Some(CARD_B) && seen.contains(&Err(Some(errno::EIO))),
        format_args!("card B in card A's place: README.TXT reads {now:?} (before: {seen:?})"),
    );
    let write = held.write_all(b" more").map_err(|error| error.raw_os_error());
    let listed = listing("/sd");
    checks.check(
        write == Err(Some(errno::EIO)) && listed == [("README.TXT".to_string(), false)],
        format_args!("a file opened on card A writes {write:?}; /sd lists {listed:?}"),
    );
    drop(held);
    let written =
        fs::write("/sd/ONB.TXT", "written on card B").and_then(|()| fs::read("/sd/ONB.TXT"));
    checks.check(
        written.as_deref().ok() == Some(&b"written on card B"[..]),
        format_args!("ONB.TXT written on card B: {} bytes", written.map_or(0, |bytes| bytes.len())),
    );
}
