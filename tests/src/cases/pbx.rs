//! RealView PBX-A9 drivers, services and apps under QEMU: the SP804 alarm
//! under `-icount`, interrupt-driven PL011 echo, the LAN9118 + smoltcp
//! echo server through QEMU's user network, the DS1338 on the SBCon I2C
//! bus, and the SD card behind the PL181 (an image the case writes and
//! reads back).

use std::time::Duration;

use super::echo_net::{self, Flood, fail};
use super::{Case, Check, ECHO_LEFT_UNREAD, Failure, NEXT_TERMINAL_CLIENT, Scripted, board};
use crate::boards::RunOptions;
use crate::harness::{self, Running};
use crate::net::Random;

/// The RealView PBX-A9 cases.
pub fn cases() -> Vec<Case> {
    let pbx = board("realview-pbx-a9");
    // `app` booted with `args` on its command line after its name.
    let scripted_with =
        |name: &str,
         app: &'static str,
         args: &[&str],
         script: fn(&Scripted<'_>) -> Result<(), Failure>| Case {
            name: format!("{name} on {}", pbx.name),
            board: pbx,
            app,
            options: RunOptions {
                args: [app].iter().chain(args).map(|arg| arg.to_string()).collect(),
                ..Default::default()
            },
            timeout: Duration::from_secs(60),
            check: Check::Scripted(script),
        };
    let scripted = |name: &str, app: &'static str, script| scripted_with(name, app, &[], script);
    let peripherals = super::console_case(
        pbx,
        "peripherals",
        &[],
        &[
            "rtc: loaded 2001-09-09T01:46:40Z",
            "rtc: alarm fired at 2001-09-09T01:46:4",
            "gpio: outputs read back 0x05 then 0x0a",
            "private-timer: 10 periods of 100000 ticks",
            "peripherals: ok",
        ],
        0,
    );
    vec![
        Case {
            name: format!("timer-alarm accuracy under icount on {}", pbx.name),
            board: pbx,
            app: "timer-alarm",
            options: RunOptions {
                args: vec!["timer-alarm".into()],
                icount: true,
                ..Default::default()
            },
            timeout: Duration::from_secs(30),
            check: Check::Scripted(super::mbv::timer_alarm_accuracy),
        },
        // The RTC counts host seconds: in real time even under --shift.
        super::Case {
            options: RunOptions { real_time: true, ..peripherals.options },
            ..peripherals
        },
        scripted("uart-echo echoes serial input", "uart-echo", uart_echo),
        scripted(
            "i2c-rtc reads, sets and restores the DS1338 through an I2c session",
            "i2c-rtc",
            i2c_rtc,
        ),
        scripted(
            "sd-card reads and writes the SD card through a Block session",
            "sd-card",
            sd_card,
        ),
        scripted(
            "sd-card reads and writes a high-capacity SD card through a Block session",
            "sd-card",
            sd_card_high_capacity,
        ),
        scripted_with(
            "sd-card: a client that ends holding its Block session has it reclaimed",
            "sd-card",
            &["holder"],
            sd_card,
        ),
        // An empty slot (no `-drive if=sd`): the Block driver refuses the
        // session the composer asks for `disk`, and the image fails.
        Case {
            name: format!("sd-card with the card slot empty is refused on {}", pbx.name),
            ..super::console_case(
                pbx,
                "sd-card",
                &[],
                &["composition: sd refused disk's Block session", "composition failed: "],
                1,
            )
        },
        scripted(
            "sd-files reads and writes files on a FAT SD card through a Block session",
            "sd-files",
            sd_files,
        ),
        scripted(
            "sd-files reads and writes files on the smallest card sd-image makes (4 MiB: FAT16 of \
             512-byte clusters)",
            "sd-files",
            sd_files_small,
        ),
        scripted("files-std keeps files on the SD card through std::fs", "files-std", files_std),
        scripted(
            "files-std keeps files on a FAT32 SD card through std::fs",
            "files-std",
            files_std_fat32,
        ),
        scripted_with(
            "files-std: std::fs follows the SD card across an exchange",
            "files-std",
            &["swap"],
            files_std_swap,
        ),
        scripted(
            "impostor: a client routed to impostor NIC and Block servers takes no driver's stream ends",
            "impostor",
            impostor,
        ),
        scripted(
            "sd-parts: two clients on two partitions of the SD card at once",
            "sd-parts",
            sd_parts,
        ),
        scripted(
            "sd-swap: a card taken out or exchanged under an open Block session",
            "sd-swap",
            sd_swap,
        ),
        block_bench("sd-card", "the block benchmark through the Block session"),
        block_bench("sd-direct", "the block benchmark calling the SD card driver"),
        scripted("echo-net tcp 4 clients x 1 MiB", "echo-net", echo_net::tcp),
        scripted("echo-net udp 1..1400 bytes", "echo-net", echo_net::udp),
        scripted("echo-net survives floods and garbage", "echo-net", echo_net_abuse),
        scripted(
            "the NIC driver unmasks the LAN9118's line only once the chip is set up",
            "echo-net",
            nic_line_quiet_until_up,
        ),
    ]
}

/// `app`'s block benchmark under `-icount` (as `cargo xtask bench block`
/// runs it), its figures checked against the budgets.
fn block_bench(app: &'static str, what: &str) -> Case {
    let pbx = board("realview-pbx-a9");
    Case {
        name: format!("{what} ({app}) on {}", pbx.name),
        board: pbx,
        app,
        options: RunOptions {
            args: vec![app.into(), "bench".into()],
            icount: true,
            ..Default::default()
        },
        timeout: Duration::from_secs(60),
        check: Check::Measured(|script| {
            crate::measure::block(script.board, script.image, script.timeout)
        }),
    }
}

/// Boots, returning a failure that carries the console so far.
fn boot(script: &Scripted<'_>, options: &RunOptions) -> Result<Running, Failure> {
    let args = script.board.qemu_args(script.image, options);
    harness::spawn(script.board.qemu, &args)
        .map_err(|error| Failure { message: error.to_string(), console: String::new() })
}

fn uart_echo(script: &Scripted<'_>) -> Result<(), Failure> {
    let mut running = boot(script, script.options)?;
    if !running.wait_for("[uart_echo] ready", Duration::from_secs(20)) {
        return Err(fail(&running, "no ready line"));
    }
    // Printable bytes, so the console capture shows them as they are.
    let mut random = Random::new(0x5e1a1);
    let text: String = (0..3000).map(|_| char::from(b'!' + random.between(0, 93) as u8)).collect();
    for chunk in text.as_bytes().chunks(500) {
        running
            .send(chunk)
            .map_err(|e| fail(&running, format!("cannot write to the serial port: {e}")))?;
    }
    if !running.wait_for(&text, Duration::from_secs(20)) {
        return Err(fail(&running, "the 3000 bytes did not come back in order"));
    }
    running.send(&[0x04]).map_err(|e| fail(&running, e.to_string()))?;
    if !running.wait_for("[uart_echo] 3000 bytes echoed, 0 lost", Duration::from_secs(10)) {
        return Err(fail(&running, "final count missing or wrong"));
    }
    running.send(ECHO_LEFT_UNREAD).map_err(|e| fail(&running, e.to_string()))?;
    let outcome = running.finish(Duration::from_secs(10));
    let failure =
        |message: &str| Failure { message: message.into(), console: outcome.console.clone() };
    if !outcome.console.contains("[uart_echo] 3000 bytes echoed, 0 lost") {
        return Err(failure("final count missing or wrong"));
    }
    // The next client's session: uart_echo's was closed when it exited.
    if harness::missing_in_order(&outcome.console, &NEXT_TERMINAL_CLIENT).is_some() {
        return Err(failure("the Terminal did not serve its next client"));
    }
    if outcome.status != Some(0) {
        return Err(failure(&format!("exit status {:?}", outcome.status)));
    }
    Ok(())
}

/// The GIC enables of the LAN9118's line (ID 60) echo-net may make from
/// reset until it listens: its first (the IRQ session's), its bring-up's,
/// and one per interrupt served meanwhile (a few frames at most).
const LAN9118_ENABLES_TO_LISTENING: usize = 16;

/// Out of reset the LAN9118 drives its line asserted until IRQ_CFG is set,
/// so a NIC driver that unmasked it before bring-up would be interrupted
/// at once and again for as long as the composer (below it) has not asked
/// for the session: on a slow host for good (the old flaky boots). QEMU's
/// trace of the GIC's enables, written to a file (which also slows QEMU
/// down), counts how often the line was unmasked before echo-net listens.
fn nic_line_quiet_until_up(script: &Scripted<'_>) -> Result<(), Failure> {
    let log = super::mbv::temp_log("echo-net-gic-enables");
    let _ = std::fs::remove_file(&log);
    let options = RunOptions {
        network: true,
        trace: Some((vec!["gic_enable_irq".into()], log.clone())),
        ..script.options.clone()
    };
    let running = boot(script, &options)?;
    if !running.wait_for("[echo_net] listening on", Duration::from_secs(20)) {
        return Err(fail(&running, "no listening line"));
    }
    // SIGINT: QEMU ends cleanly, with its trace written out.
    running.interrupt().map_err(|e| fail(&running, e.to_string()))?;
    let outcome = running.finish(Duration::from_secs(10));
    let trace = std::fs::read_to_string(&log).map_err(|e| Failure {
        message: format!("no trace {}: {e}", log.display()),
        console: outcome.console.clone(),
    })?;
    let _ = std::fs::remove_file(&log);
    let enables = trace.lines().filter(|line| line.contains("gic_enable_irq irq 60 ")).count();
    if !(1..=LAN9118_ENABLES_TO_LISTENING).contains(&enables) {
        return Err(Failure {
            message: format!(
                "the LAN9118's line was unmasked {enables} times by the time echo-net listened \
                 (at most {LAN9118_ENABLES_TO_LISTENING})"
            ),
            console: outcome.console,
        });
    }
    Ok(())
}

fn echo_net_abuse(script: &Scripted<'_>) -> Result<(), Failure> {
    // The burst first, then the garbage: slirp (QEMU's user network) accepts
    // forwarded connections slowly while it is busy with a flood.
    echo_net::abuse(script, Flood::BeforeGarbage)
}

/// What i2c-rtc's `clock` component prints, in order, through its two I2c
/// sessions (QEMU's bus holds the DS1338 alone). The date read, and that
/// it is the host's, are checked apart.
const I2C_RTC_LINES: [&str; 13] = [
    "[clock] ok: the I2c sessions reach 0x68 and 0x50, as their routes grant",
    "[clock] ok: the I2c root denied the hook 0x68 (held here) and the reserved addresses",
    "[clock] ok: the DS1338 acknowledges",
    "[clock] ok: reading 0x50: no device acknowledges the address",
    "[clock] ok: the eeprom session does not reach the DS1338",
    "[clock] ds1338 reads ",
    "[clock] ok: the DS1338 agrees with the PL031",
    "[clock] ok: 56 bytes of its RAM written and read back",
    "[clock] ok: a RAM read past its end is refused",
    "[clock] ok: set to 2031-07-04T12:00:00Z (Ok(())), it reads 2031-07-04T12:00:0",
    "[clock] ok: a year past 2099 is refused",
    "[clock] ok: put back: it agrees with the PL031 again",
    "[clock] i2c-rtc: 0 checks failed",
];

/// How far the DS1338's first date may be from the host's clock when the
/// image ended (QEMU's DS1338 reads the host's time): the boot, the run and
/// a loaded CI machine's delays.
const I2C_RTC_HOST_SECONDS: u64 = 60;

fn i2c_rtc(script: &Scripted<'_>) -> Result<(), Failure> {
    let running = boot(script, script.options)?;
    let outcome = running.finish(Duration::from_secs(40));
    let failure = |message: String| Failure { message, console: outcome.console.clone() };
    harness::printed_in_order_and_succeeded(&outcome, &I2C_RTC_LINES).map_err(failure)?;
    let read = outcome
        .console
        .split_once("[clock] ds1338 reads ")
        .and_then(|(_, rest)| rest.lines().next())
        .and_then(parse_iso_date)
        .ok_or_else(|| failure("the first date is not an ISO 8601 date".into()))?;
    let host = harness::host_unix_seconds();
    if read.abs_diff(host) > I2C_RTC_HOST_SECONDS {
        return Err(failure(format!(
            "the DS1338 read {read} s since 1970, the host's clock {host}: more than \
             {I2C_RTC_HOST_SECONDS} s apart"
        )));
    }
    Ok(())
}

/// Boots the case's app with a card image in the slot, as `make` writes
/// it (a file of the temporary directory named for `name`), runs `after`
/// on the image once the run ended, and removes the image: the run's
/// outcome and what `after` found. A failure if the image cannot be made
/// or the image not booted.
fn with_card<T>(
    script: &Scripted<'_>,
    name: &str,
    make: impl FnOnce(&std::path::Path) -> std::io::Result<()>,
    after: impl FnOnce(&std::path::Path) -> T,
) -> Result<(harness::Outcome, T), Failure> {
    with_card_during(script, name, make, |_, _| Ok(()), after)
}

/// As [`with_card`], with `during` run on the booted image (and given the
/// card's image) before it is waited for: to exchange the card, say.
fn with_card_during<T>(
    script: &Scripted<'_>,
    name: &str,
    make: impl FnOnce(&std::path::Path) -> std::io::Result<()>,
    during: impl FnOnce(&Running, &std::path::Path) -> Result<(), Failure>,
    after: impl FnOnce(&std::path::Path) -> T,
) -> Result<(harness::Outcome, T), Failure> {
    let image = make_card(name, make)?;
    let options = RunOptions { sd_card: Some(image.clone()), ..script.options.clone() };
    let outcome = boot(script, &options).and_then(|running| {
        during(&running, &image)?;
        Ok(running.finish(Duration::from_secs(40)))
    });
    let found = after(&image);
    let _ = std::fs::remove_file(&image);
    Ok((outcome?, found))
}

/// A card image of this run named after `name`, made by `make` (the
/// caller removes it).
fn make_card(
    name: &str,
    make: impl FnOnce(&std::path::Path) -> std::io::Result<()>,
) -> Result<std::path::PathBuf, Failure> {
    let image = std::env::temp_dir().join(format!("ferrode-{name}-{}.img", std::process::id()));
    make(&image).map_err(|error| Failure {
        message: format!("cannot make {}: {error}", image.display()),
        console: String::new(),
    })?;
    Ok(image)
}

/// An SD card image of `blocks` blocks, each [`sd_pattern`] with `mark`,
/// and an MBR naming `partitions` (first block, blocks) over block 0's
/// end.
fn partitioned_card(blocks: u32, mark: u8, partitions: &[(u32, u32)]) -> Vec<u8> {
    let mut contents: Vec<u8> = (0..blocks)
        .flat_map(|block| (0..512).map(move |offset| sd_pattern(block, offset) ^ mark))
        .collect();
    for (index, (start, count)) in partitions.iter().enumerate() {
        let entry = &mut contents[446 + 16 * index..462 + 16 * index];
        entry.fill(0);
        // A data partition (0xda), addressed by LBA.
        entry[4] = 0xda;
        entry[8..12].copy_from_slice(&start.to_le_bytes());
        entry[12..16].copy_from_slice(&count.to_le_bytes());
    }
    contents[510..512].copy_from_slice(&[0x55, 0xaa]);
    contents
}

/// Whether a file read from a card image (`found`, file `name` on `card`)
/// holds `expected`; what it holds instead if not.
fn file_holds(
    card: &str,
    name: &str,
    found: &std::io::Result<Vec<u8>>,
    expected: &[u8],
) -> Result<(), String> {
    match found {
        Ok(contents) if contents == expected => Ok(()),
        Ok(contents) => Err(format!(
            "{name} on {card} holds {:?}, not {:?}",
            String::from_utf8_lossy(contents),
            String::from_utf8_lossy(expected)
        )),
        Err(error) => Err(format!("{name} on {card}: {error}")),
    }
}

/// Has `running` do the QEMU monitor `command` once its console shows
/// `asked`.
fn monitor_when(running: &Running, asked: &str, command: &str) -> Result<(), Failure> {
    if !running.wait_for(asked, Duration::from_secs(20)) {
        return Err(fail(running, format!("no line {asked:?}")));
    }
    match running.monitor(command) {
        Ok(output) if output.trim().is_empty() => Ok(()),
        Ok(output) => Err(fail(running, format!("{command}: {}", output.trim()))),
        Err(error) => Err(fail(running, format!("{command}: {error}"))),
    }
}

/// What sd-card's `disk` and `second` components print, in order (with
/// `holder`, `disk` ends after its writes), after the card's size.
const SD_CARD_LINES: [&str; 12] = [
    "[disk] ok: the session says the card takes writes",
    "[disk] ok: 64 blocks read one at a time hold the image's pattern",
    "[disk] ok: the last 16 of them read at once hold it too",
    "[disk] ok: 12 blocks written from block 100 on read back",
    "[disk] ok: the last block, ",
    "[disk] ok: embedded-sdmmc's BlockDevice reads the written blocks",
    "[disk] ok: the driver refused 6 of 6 made-up headers and serves on",
    "[disk] ok: a read past the card's end is refused",
    "[disk] ok: the session closes",
    "[second] ok: the session again, and disk's 12 blocks",
    "[second] ok: it closes",
    "[second] sd-card: 0 checks failed",
];
const SD_CARD_HOLDER_LINES: [&str; 9] = [
    "[disk] ok: the session says the card takes writes",
    "[disk] ok: 64 blocks read one at a time hold the image's pattern",
    "[disk] ok: the last 16 of them read at once hold it too",
    "[disk] ok: 12 blocks written from block 100 on read back",
    "[disk] ok: the last block, ",
    "[disk] holder: ends holding its Block session",
    "[second] ok: the session again, and disk's 12 blocks",
    "[second] ok: it closes",
    "[second] sd-card: 0 checks failed",
];

/// Blocks of the image the harness writes [`sd_pattern`] into, from the
/// first on (beyond them a large image is sparse: zeros).
const SD_PATTERN_BLOCKS: u32 = 2048;

/// Blocks sd-card writes (the pattern inverted), from the first on; it
/// writes the card's last block too.
const SD_CARD_WRITTEN: std::ops::Range<u32> = 100..112;

/// Byte `offset` of block `block` of the image the harness writes (as
/// sd-card's `pattern`).
fn sd_pattern(block: u32, offset: usize) -> u8 {
    (block.wrapping_mul(31).wrapping_add(offset as u32) ^ (block >> 8)) as u8
}

/// sd-card on a 1 MiB card: QEMU makes a card this small a
/// standard-capacity one, addressed in bytes.
fn sd_card(script: &Scripted<'_>) -> Result<(), Failure> {
    sd_card_of(script, 2048)
}

/// sd-card on a 4 GiB card (a sparse image): QEMU makes a card over 2 GiB
/// a high-capacity one, addressed in blocks.
fn sd_card_high_capacity(script: &Scripted<'_>) -> Result<(), Failure> {
    sd_card_of(script, 8 * 1024 * 1024)
}

/// Boots sd-card with a card image of `blocks` blocks, [`sd_pattern`] in
/// its first ones, then checks its lines, its exit status and the image:
/// the blocks it wrote hold the pattern inverted, the others are as they
/// were.
fn sd_card_of(script: &Scripted<'_>, blocks: u32) -> Result<(), Failure> {
    use std::io::{Read, Seek, SeekFrom};

    let contents: Vec<u8> = (0..SD_PATTERN_BLOCKS.min(blocks))
        .flat_map(|block| (0..512).map(move |offset| sd_pattern(block, offset)))
        .collect();
    let make = |image: &std::path::Path| {
        std::fs::write(image, &contents)
            .and_then(|()| std::fs::File::options().write(true).open(image))
            .and_then(|file| file.set_len(u64::from(blocks) * 512))
    };
    // The first blocks and the last, as the run left them.
    let last = u64::from(blocks - 1) * 512;
    let read_back = |image: &std::path::Path| {
        std::fs::File::open(image).and_then(|mut file| {
            let mut first = vec![0; contents.len()];
            file.read_exact(&mut first)?;
            let mut end = [0u8; 512];
            file.seek(SeekFrom::Start(last))?;
            file.read_exact(&mut end)?;
            Ok((first, end, file.metadata()?.len()))
        })
    };
    let (outcome, after) = with_card(script, &format!("sd-card-{blocks}"), make, read_back)?;
    let failure = |message: String| Failure { message, console: outcome.console.clone() };
    let size = format!("[disk] the card holds {blocks} blocks of 512 bytes");
    let holder = script.options.args.iter().any(|arg| arg == "holder");
    let lines: &[&str] = if holder { &SD_CARD_HOLDER_LINES } else { &SD_CARD_LINES };
    let lines: Vec<&str> = std::iter::once(size.as_str()).chain(lines.iter().copied()).collect();
    harness::printed_in_order_and_succeeded(&outcome, &lines).map_err(failure)?;
    let (first, end, length) =
        after.map_err(|error| failure(format!("cannot read the image back: {error}")))?;
    if length != u64::from(blocks) * 512 {
        return Err(failure(format!(
            "the image is {length} bytes, not {}",
            u64::from(blocks) * 512
        )));
    }
    for (block, (now, was)) in (0..).zip(first.chunks(512).zip(contents.chunks(512))) {
        let flip = if SD_CARD_WRITTEN.contains(&block) || block == blocks - 1 { 0xff } else { 0 };
        if let Some(offset) = (0..512).find(|&offset| now[offset] != was[offset] ^ flip) {
            let expected = if flip == 0 { "unchanged" } else { "the pattern inverted" };
            return Err(failure(format!(
                "block {block} of the image, byte {offset}: {:#04x}, expected {expected}",
                now[offset]
            )));
        }
    }
    if let Some(offset) = (0..512).find(|&offset| end[offset] != !sd_pattern(blocks - 1, offset)) {
        return Err(failure(format!(
            "the last block, {}, byte {offset}: {:#04x}, expected the pattern inverted",
            blocks - 1,
            end[offset]
        )));
    }
    Ok(())
}

/// What files-std prints, in order.
const FILES_STD_LINES: [&str; 22] = [
    "[app] ok: /sd lists [\"Field notes\", \"Kept notes\", \"README.TXT\", \"Sensor readings.csv\"]",
    "[app] ok: /sd/readme.txt (a FAT name: any case) reads Ok(\"Ferrode SD card test volume\")",
    "[app] ok: long names: sensor READINGS.CSV reads 18 bytes, SENSOR~1.CSV the same, field NOTES/Monday log.txt 22 bytes; Field notes lists 5 files",
    "[app] ok: dates: README.TXT modified, created Ok((315532800, 315532800)); Monday log.txt created Ok(315532800), written Ok(",
    "[app] ok: mkdir /sd/LOGS, and LOGS/DAY1.TXT written: a file of Ok((true, 23)) bytes",
    "[app] ok: /sd/LOGS is a directory (Ok(true)), and opened one made Ok(Some(",
    "[app] ok: a line appended; DAY1.TXT reads back 3 lines",
    "[app] ok: seeks within DAY1.TXT, to its end, and past it",
    "[app] ok: overwritten in place: DAY1.TXT starts",
    "[app] ok: /sd/LOGS lists [(\"DAY1.TXT\", false), (\"DAY2.TXT\", false)]",
    "[app] ok: /sd lists [(\"Field notes\", true), (\"Kept notes\", true), (\"LOGS\", true), (\"README.TXT\", false), (\"Sensor readings.csv\", false)]",
    "[app] ok: written past its end: GAP.BIN reads 5004 bytes, 4996 zeros between head and tail; an offset of 2 GiB Ok(Err(InvalidInput))",
    "[app] ok: DAY2.TXT removed",
    "[app] ok: long names removed: a file Ok(()), Monday log.txt Ok(()), the rest of Field notes Ok(()), then Field notes Ok(()); 3 left in /sd",
    "[app] ok: a long name of 19 parts removed (Some(Ok(()))); Kept notes lists 5",
    "[app] ok: new long names: Sensor log 2026-12-07.csv reads back 18 bytes, Daily reports made Ok(()) and lists [(\"first report.txt\", false)]",
    "[app] ok: long names past a full cluster: FULL's 28 files made Ok(()), needs room.txt reads back 22 bytes, Night readings made Ok(()); FULL lists 30",
    "[app] ok: a name of 127 two-byte characters Ok(()), read back true; refused: 248 characters Err(Some(36)), 128 two-byte ones Err(Some(36))",
    "[app] ok: refused: a missing file Err(NotFound), create_new of one there Err(AlreadyExists), a name FAT cannot hold Err(InvalidInput)",
    "[app] ok: refused (errno): a write to a file opened to read Err(Some(9)), a directory as a file Err(Some(21)), a path outside /sd and /rom Err(Some(30))",
    "[app] OPEN.TXT written and left open",
    "[app] files-std: 0 checks failed",
];

/// What files-std finds under long names on its card.
const FILES_STD_SENSOR: &[u8] = b"time,value\n0,21.5\n";
const FILES_STD_MONDAY: &[u8] = b"calibrated the sensor\n";

/// files-std's card: an 8 MiB FAT16 card holding [`SD_FILES_README`] as
/// `README.TXT`, and files under long names (as a computer writes them,
/// with short names beside them): one in the root, five in the directory
/// `Field notes`. There, `.` and `..` (fatfs gives them long names too)
/// and the four before it take entries 0 to 14, so that `Monday
/// log.txt`'s long name begins in the directory's first block (entry 15)
/// and ends in its second: files-std's std layer must free it in both.
fn files_std_card(image: &std::path::Path) -> std::io::Result<()> {
    crate::sd_image::fat_card(image, 8 << 20, "ferrode", &FILES_STD_CARD)
}

/// A long name of 19 parts (245 characters), the longest the std layer
/// reads (embedded-sdmmc takes one of 20, as FAT allows, for none).
const FILES_STD_TUESDAY: &str = "Kept notes/Tuesday log, kept on a card a computer wrote under a long name of nineteen parts, the longest the std layer reads, which reaches from the end of the directory's first block through all of its second into its third, so removing it frees three.txt";

/// The files of [`files_std_card`]. In `Kept notes`, `.` and `..` take
/// entries 0 to 3 and the five short names (a long name of one part
/// each, and a short one) 4 to 13, so that [`FILES_STD_TUESDAY`]'s long
/// name takes entries 14 to 32: the last two of the directory's first
/// block, all of its second, the first of its third (its short name at
/// 33). On the FAT32 card, of one-block clusters, those are three
/// clusters: files-std's std layer must find the clusters before in the
/// FAT to free all of it.
const FILES_STD_CARD: [(&str, &[u8]); 13] = [
    ("README.TXT", SD_FILES_README),
    ("Sensor readings.csv", FILES_STD_SENSOR),
    // Three entries each (a long name of two parts, a short one).
    ("Field notes/first filler file.txt", b"1"),
    ("Field notes/second filler file.txt", b"2"),
    ("Field notes/third filler file.txt", b"3"),
    // Two.
    ("Field notes/fourth.txt", b"4"),
    ("Field notes/Monday log.txt", FILES_STD_MONDAY),
    ("Kept notes/one.txt", b"1"),
    ("Kept notes/two.txt", b"2"),
    ("Kept notes/three.txt", b"3"),
    ("Kept notes/four.txt", b"4"),
    ("Kept notes/five.txt", b"5"),
    (FILES_STD_TUESDAY, b"fine\n"),
];

/// The entries of long names left in what was `Field notes` on a card
/// files-std ran on: its first cluster, which the card had it in before
/// the run (a card made the same way again says which: fatfs makes it
/// alike every time; the run reuses the deleted entry's place).
fn field_notes_long_names(image: &std::path::Path) -> std::io::Result<usize> {
    let fresh =
        std::env::temp_dir().join(format!("ferrode-files-std-fresh-{}.img", std::process::id()));
    files_std_card(&fresh)?;
    let root = crate::sd_image::fat16_root_directory(&fresh);
    let _ = std::fs::remove_file(&fresh);
    let (_, root) = root?;
    let entry = root
        .chunks_exact(32)
        .find(|entry| &entry[..11] == b"FIELDN~1   " && entry[11] == 0x10)
        .ok_or_else(|| std::io::Error::other("no entry of Field notes on a fresh card"))?;
    let cluster =
        crate::sd_image::fat16_cluster(image, u16::from_le_bytes([entry[26], entry[27]]))?;
    Ok(crate::sd_image::long_name_entries(&cluster))
}

/// Boots files-std with [`files_std_card`], checks its lines and exit
/// status, then reads from the image what it wrote: `LOGS/DAY1.TXT` (its
/// lines, the first word overwritten), `LOGS/GAP.BIN` (zeros between
/// what it wrote at the start and what it wrote past the end), `OPEN.TXT`
/// (which it left open:
/// the exit closed it), `README.TXT` unchanged, neither `LOGS/DAY2.TXT`
/// nor `TMP` nor the long-named files and directory (removed), and no
/// entry of their long names left, in the root directory and in what was
/// `Field notes` (where those of `.` and `..` are left: fatfs gives every
/// name one); then the files files-std made under long names, read by
/// another FAT implementation (fatfs), and no temporary entry left of
/// those it made to reach room for one in `FULL`; and the card's file
/// system whole (`sd_image::check_fat`): no cluster lost, no chain
/// broken, no long name left without its entry, FAT32's count of free
/// clusters right or unknown.
fn files_std(script: &Scripted<'_>) -> Result<(), Failure> {
    files_std_on(script, "files-std", files_std_card, true)
}

/// [`files_std`] on a FAT32 card of 64 MiB (512-byte clusters) holding the
/// same files: std's layer reads FAT32's entries and root directory
/// chain, and frees clusters of four-byte FAT entries. The checks of the
/// FAT16 card's fixed root directory (its long names' entries) are left
/// out.
fn files_std_fat32(script: &Scripted<'_>) -> Result<(), Failure> {
    let make = |image: &std::path::Path| {
        crate::sd_image::fat32_card(image, 64 << 20, "ferrode", &FILES_STD_CARD)
    };
    files_std_on(script, "files-std-fat32", make, false)
}

/// [`files_std`] on the card `make` makes (`fat16`: [`files_std_card`],
/// whose root directory's entries are checked too).
fn files_std_on(
    script: &Scripted<'_>,
    name: &str,
    make: impl FnOnce(&std::path::Path) -> std::io::Result<()>,
    fat16: bool,
) -> Result<(), Failure> {
    let (outcome, (files, removed)) = with_card(script, name, make, |image| {
        let read = |name: &str| crate::sd_image::read_fat_file(image, name);
        let files = [
            read("LOGS/DAY1.TXT"),
            read("OPEN.TXT"),
            read("README.TXT"),
            read("Sensor log 2026-12-07.csv"),
            read("Daily reports/first report.txt"),
            read("FULL/needs room.txt"),
            read("LOGS/GAP.BIN"),
        ];
        let long_names = if fat16 {
            (
                crate::sd_image::fat16_root_directory(image)
                    .map(|(_, root)| crate::sd_image::long_name_entries(&root)),
                field_notes_long_names(image),
            )
        } else {
            (Ok(5), Ok(2))
        };
        let removed = [
            read("LOGS/DAY2.TXT").is_err(),
            read("TMP").is_err(),
            read("Sensor readings.csv").is_err(),
            read("Field notes").is_err(),
            read(FILES_STD_TUESDAY).is_err(),
            // README.TXT's and Kept notes' (fatfs gives every name one),
            // and those of the two names files-std made in the root (two
            // parts and one).
            long_names.0.as_ref().is_ok_and(|&entries| entries == 5),
            // The long names of `.` and `..`, which stay.
            long_names.1.as_ref().is_ok_and(|&entries| entries == 2),
        ];
        let in_full: Vec<String> = crate::sd_image::list(image)
            .map(|listed| listed.into_iter().map(|entry| entry.path))
            .into_iter()
            .flatten()
            .filter(|path| path.starts_with("FULL/"))
            .collect();
        let check = crate::sd_image::check_fat(image);
        (files, (removed, long_names, in_full, check))
    })?;
    let (removed, long_names, in_full, check) = removed;
    let failure = |message: String| Failure { message, console: outcome.console.clone() };
    harness::printed_in_order_and_succeeded(&outcome, &FILES_STD_LINES).map_err(failure)?;
    // `head`, zeros up to byte 5,000, `tail`: written past its end.
    let gap = [&b"head"[..], &[0; 4996], b"tail"].concat();
    let expected: [&[u8]; 7] = [
        b"FIRST line\nsecond line\nappended line\n",
        b"written, never closed by main",
        SD_FILES_README,
        FILES_STD_SENSOR,
        FILES_STD_MONDAY,
        FILES_STD_MONDAY,
        &gap,
    ];
    let names = [
        "LOGS/DAY1.TXT",
        "OPEN.TXT",
        "README.TXT",
        "Sensor log 2026-12-07.csv",
        "Daily reports/first report.txt",
        "FULL/needs room.txt",
        "LOGS/GAP.BIN",
    ];
    for ((name, found), expected) in names.iter().zip(&files).zip(expected) {
        file_holds("the image", name, found, expected).map_err(failure)?;
    }
    if removed != [true; 7] {
        return Err(failure(format!(
            "removed LOGS/DAY2.TXT, TMP, Sensor readings.csv, Field notes and Kept notes' Tuesday \
             log still on the image, \
             or entries of their long names left in the root directory and in Field notes' \
             ({long_names:?}): {removed:?}"
        )));
    }
    // The card is whole (`sd-image check`): every cluster the FAT marks
    // taken is a file's or a directory's (the removed files and
    // directories gave theirs back), each chain ends at its end mark,
    // shared by no other, a file's as long as its size needs, no long
    // name is left without its entry, and FAT32's count of free clusters
    // is right or unknown (the std layer frees clusters embedded-sdmmc
    // does not count, so it has the count forgotten at mount: never the
    // count embedded-sdmmc kept, short by the freed clusters).
    if check.as_ref().map_or(true, |check| !check.clean() || (check.fat == "FAT16") != fat16) {
        return Err(failure(format!("the card's file system is not whole: {check:?}")));
    }
    if in_full.len() != 30 || in_full.iter().any(|path| path.contains("FERROD~")) {
        return Err(failure(format!(
            "FULL holds its 28 files, needs room.txt and Night readings, and no temporary entry: \
             {in_full:?}"
        )));
    }
    Ok(())
}

/// What files-std prints with `swap`, after the lines it prints without
/// (all but the last two of [`FILES_STD_LINES`]).
const FILES_STD_SWAP_LINES: [&str; 6] = [
    "[app] swap: exchange the card",
    "[app] ok: card B in card A's place: README.TXT reads Ok(\"Ferrode SD card B\")",
    "[app] ok: a file opened on card A writes Err(Some(5)); /sd lists [(\"README.TXT\", false)]",
    "[app] ok: ONB.TXT written on card B: 17 bytes",
    "[app] OPEN.TXT written and left open",
    "[app] files-std: 0 checks failed",
];

/// Boots files-std with `swap` and card A (as [`files_std`] makes it),
/// and exchanges it for card B, a FAT16 card holding a README.TXT of its
/// own, when files-std asks. Then checks the lines and both images: card
/// A holds what files-std wrote before the exchange (HELD.TXT empty: it
/// was never closed there, and its data went with the card), card B
/// README.TXT, ONB.TXT and OPEN.TXT (closed at the exit, on card B).
fn files_std_swap(script: &Scripted<'_>) -> Result<(), Failure> {
    let b = make_card("files-std-b", |image| {
        crate::sd_image::fat_card(image, 8 << 20, "card b", &[("README.TXT", b"Ferrode SD card B")])
    })?;
    let result = (|| {
        let change = format!("change sd0 {} raw", b.display());
        let during =
            |running: &Running, _: &_| monitor_when(running, FILES_STD_SWAP_LINES[0], &change);
        let (outcome, on_a) =
            with_card_during(script, "files-std-a", files_std_card, during, |a| {
                [
                    crate::sd_image::read_fat_file(a, "LOGS/DAY1.TXT"),
                    crate::sd_image::read_fat_file(a, "HELD.TXT"),
                ]
            })?;
        let failure = |message: String| Failure { message, console: outcome.console.clone() };
        let before = &FILES_STD_LINES[..FILES_STD_LINES.len() - 2];
        harness::printed_in_order_and_succeeded(&outcome, before).map_err(failure)?;
        harness::printed_in_order_and_succeeded(&outcome, &FILES_STD_SWAP_LINES)
            .map_err(failure)?;
        let read = |name: &str| crate::sd_image::read_fat_file(&b, name);
        let found = [
            ("card A", "LOGS/DAY1.TXT", &on_a[0], &b"FIRST line\nsecond line\nappended line\n"[..]),
            ("card A", "HELD.TXT", &on_a[1], &b""[..]),
            ("card B", "README.TXT", &read("README.TXT"), &b"Ferrode SD card B"[..]),
            ("card B", "ONB.TXT", &read("ONB.TXT"), &b"written on card B"[..]),
            ("card B", "OPEN.TXT", &read("OPEN.TXT"), &b"written, never closed by main"[..]),
        ];
        for (card, name, found, expected) in found {
            file_holds(card, name, found, expected).map_err(failure)?;
        }
        Ok(())
    })();
    let _ = std::fs::remove_file(&b);
    result
}

/// What impostor's `stray` prints, in order.
const IMPOSTOR_LINES: [&str; 5] = [
    "[stray] ok: the hook holds sessions of the real NIC and Block drivers (0b11)",
    "[stray] ok: Env::nic through the impostor NIC server gets no ends (Err(UnknownSession))",
    "[stray] ok: Env::block through the impostor Block server gets no ends (Err(UnknownSession))",
    "[stray] ok: the impostor NIC answers as a driver would (Ok(2000000beef))",
    "[stray] impostor: 0 checks failed",
];

/// Boots impostor with an empty 1 MiB card in the slot (the hook's Block
/// session needs a card) and checks its lines and exit status.
fn impostor(script: &Scripted<'_>) -> Result<(), Failure> {
    let make = |image: &std::path::Path| std::fs::File::create(image)?.set_len(1 << 20);
    let (outcome, ()) = with_card(script, "impostor", make, |_| ())?;
    harness::printed_in_order_and_succeeded(&outcome, &IMPOSTOR_LINES)
        .map_err(|message| Failure { message, console: outcome.console.clone() })
}

/// An sd-swap card: blocks of [`sd_pattern`] with `card`'s mark, and an
/// MBR with its two partitions.
fn swap_card(card: &SwapCard) -> Vec<u8> {
    partitioned_card(card.blocks, card.mark, &card.partitions)
}

/// An sd-swap card, as the app has it: blocks, mark, partitions (first
/// block, blocks), and the block of each partition the app writes.
struct SwapCard {
    blocks: u32,
    mark: u8,
    partitions: [(u32, u32); 2],
    written: u32,
}

const SD_SWAP_CARDS: [SwapCard; 2] = [
    SwapCard { blocks: 16_384, mark: 0xa0, partitions: [(2048, 4096), (8192, 8192)], written: 3 },
    SwapCard { blocks: 2_048, mark: 0xb0, partitions: [(128, 896), (1024, 1024)], written: 1 },
];
/// The mark of the blocks sd-swap writes.
const SD_SWAP_WRITTEN: u8 = 0x5c;
/// What sd-swap prints, in order; the three lines that ask for a change
/// of cards are the 4th, 7th and 15th.
const SD_SWAP_LINES: [&str; 23] = [
    "[swap] ok: one on card A: 4096 blocks, Ok(()), its own",
    "[swap] ok: two on card A: 8192 blocks, Ok(()), its own",
    "[swap] ok: attach with card A there changes nothing: Ok(4096)",
    "[swap] swap: take the card out",
    "[swap] ok: card A taken out: reads are Some(Request(MediumChanged)), Err(Request(MediumChanged))",
    "[swap] ok: with the slot empty attach is Err(Denied)",
    "[swap] swap: put card B in",
    "[swap] ok: until one is attached to card B, ",
    "[swap] ok: one on card B: 896 blocks, Ok(()), its own",
    "[swap] ok: two, opened on card A, reaches nothing of B: (Err(Request(MediumChanged)), Err(Request(MediumChanged)))",
    "[swap] ok: two attaches: Ok(1024)",
    "[swap] ok: two on card B: 1024 blocks, Ok(()), its own",
    "[swap] ok: card B block 129 written: Ok(())",
    "[swap] ok: card B block 1025 written: Ok(())",
    "[swap] swap: exchange card B for card A",
    "[swap] ok: card B exchanged: one's write is Some(Request(MediumChanged))",
    "[swap] ok: both attach to card A again (Ok(4096), Ok(8192)), two's write before is Err(Request(MediumChanged))",
    "[swap] ok: one on card A: 4096 blocks, Ok(()), its own",
    "[swap] ok: two on card A: 8192 blocks, Ok(()), its own",
    "[swap] ok: card A block 2051 written: Ok(())",
    "[swap] ok: card A block 8195 written: Ok(())",
    "[swap] ok: they close: (Ok(()), Ok(()))",
    "[swap] sd-swap: 0 checks failed",
];

/// Boots sd-swap with card A in the slot, and changes cards through
/// QEMU's monitor when it asks: out, card B in, then A in B's place in
/// one step. Then checks its lines and the two images: the block written
/// in each partition, and every other block as it was, but card B's
/// first partition's block 2, which `one` wrote until it learnt B was
/// gone (card A must have none of those writes, nor of the ones the
/// sessions tried while stale).
fn sd_swap(script: &Scripted<'_>) -> Result<(), Failure> {
    let [a, b] = &SD_SWAP_CARDS;
    let b_image = make_card("sd-swap-b", |image| std::fs::write(image, swap_card(b)))?;
    let result = (|| {
        let during = |running: &Running, a_image: &std::path::Path| {
            let steps = [
                (SD_SWAP_LINES[3], "eject -f sd0".to_string()),
                (SD_SWAP_LINES[6], format!("change sd0 {} raw", b_image.display())),
                (SD_SWAP_LINES[14], format!("change sd0 {} raw", a_image.display())),
            ];
            steps.iter().try_for_each(|(asked, command)| monitor_when(running, asked, command))
        };
        let (outcome, a_after) = with_card_during(
            script,
            "sd-swap-a",
            |image| std::fs::write(image, swap_card(a)),
            during,
            |image| std::fs::read(image),
        )?;
        let failure = |message: String| Failure { message, console: outcome.console.clone() };
        harness::printed_in_order_and_succeeded(&outcome, &SD_SWAP_LINES).map_err(failure)?;
        for ((card, after), name) in
            [(a, a_after), (b, std::fs::read(&b_image))].into_iter().zip(["A", "B"])
        {
            let after =
                after.map_err(|error| failure(format!("cannot read card {name} back: {error}")))?;
            let mut expected = swap_card(card);
            for (start, _) in card.partitions {
                let block = (start + card.written) as usize;
                for offset in 0..512 {
                    expected[block * 512 + offset] =
                        sd_pattern(block as u32, offset) ^ SD_SWAP_WRITTEN;
                }
            }
            if name == "B" {
                // Written by `one` while it polled for the exchange.
                let polled = (card.partitions[0].0 + 2) as usize * 512;
                expected[polled..polled + 512].copy_from_slice(&after[polled..polled + 512]);
            }
            if let Some(at) =
                (0..expected.len().max(after.len())).find(|&at| after.get(at) != expected.get(at))
            {
                return Err(failure(format!(
                    "card {name}: block {}, byte {}, is {:?}, not {:?}",
                    at / 512,
                    at % 512,
                    after.get(at),
                    expected.get(at)
                )));
            }
        }
        Ok(())
    })();
    let _ = std::fs::remove_file(&b_image);
    result
}

/// sd-parts' partitions: first block and blocks. Its clients use the
/// first two (as the app has them), its hook all four.
const SD_PARTS: [(u32, u32); 4] = [(2048, 2048), (4096, 4096), (8192, 4096), (12288, 4096)];
/// What each sd-parts client writes: blocks from its partition's start,
/// and the mark it gives them.
const SD_PARTS_WRITTEN: u32 = 64;
const SD_PARTS_MARKS: [u8; 2] = [0x5a, 0xa5];

/// What sd-parts' clients print, each client's in order (their lines
/// interleave; `right` closes last).
const SD_PARTS_LINES: [&[&str]; 3] = [
    &[
        "[pair] ok: two sessions with one signal: one closed (Ok(())), the other still served (Ok(()))",
        "[pair] ok: the other closes (Ok(()))",
    ],
    &[
        "[left] ok: the hook's sessions: 1 to 4 together, not the whole card or 1 beside them; the whole card alone, not 2 beside it (0b111111)",
        "[left] ok: the driver's own signal given back as the client's is refused, and the copy dies with the session (0b111)",
        "[left] ok: partition 1: a session of 2048 blocks",
        "[left] ok: its blocks 0 to 7 are card blocks 2048 on",
        "[left] ok: 64 blocks written and read back",
        "[left] ok: the other partition's client was served meanwhile",
        "[left] ok: the block after the partition's end is refused (Err(OutOfRange))",
        "[left] ok: the session closes",
    ],
    &[
        "[right] ok: partition 2: a session of 4096 blocks",
        "[right] ok: its blocks 0 to 7 are card blocks 4096 on",
        "[right] ok: 64 blocks written and read back",
        "[right] ok: the other partition's client was served meanwhile",
        "[right] ok: the block after the partition's end is refused (Err(OutOfRange))",
        "[right] ok: served after the other partition's session closed (Ok(()))",
        "[right] ok: the session closes",
        "[right] sd-parts: 0 checks failed",
    ],
];

/// Boots sd-parts with an 8 MiB card: [`sd_pattern`] in every block, an
/// MBR with [`SD_PARTS`] over block 0's end; checks each client's lines
/// in order and the exit status, then the image: each client's blocks,
/// marked, at its partition's start, and every other block as it was.
fn sd_parts(script: &Scripted<'_>) -> Result<(), Failure> {
    let blocks = 16_384u32;
    let contents = partitioned_card(blocks, 0, &SD_PARTS);
    let (outcome, after) = with_card(
        script,
        "sd-parts",
        |image| std::fs::write(image, &contents),
        |image| std::fs::read(image),
    )?;
    let failure = |message: String| Failure { message, console: outcome.console.clone() };
    for lines in &SD_PARTS_LINES {
        harness::printed_in_order_and_succeeded(&outcome, lines).map_err(failure)?;
    }
    let after = after.map_err(|error| failure(format!("cannot read the image back: {error}")))?;
    for block in 0..blocks {
        let mark = SD_PARTS
            .iter()
            .zip(SD_PARTS_MARKS)
            .find(|((start, _), _)| (*start..start + SD_PARTS_WRITTEN).contains(&block))
            .map_or(0, |(_, mark)| mark);
        let at = block as usize * 512;
        if let Some(offset) =
            (0..512).find(|&offset| after[at + offset] != contents[at + offset] ^ mark)
        {
            let expected =
                if mark == 0 { "unchanged".to_string() } else { format!("marked {mark:#04x}") };
            return Err(failure(format!(
                "block {block} of the image, byte {offset}: {:#04x}, expected {expected}",
                after[at + offset]
            )));
        }
    }
    Ok(())
}

/// The README the harness puts on sd-files' card.
const SD_FILES_README: &[u8] =
    b"Ferrode SD card test volume\nWritten by the host before the boot.\n";

/// What sd-files' `files` and `raw` components print, in order (the
/// card is 16,384 blocks, its first partition all but the first 2048).
const SD_FILES_LINES: [&str; 10] = [
    "[files] ok: the Block root denied the hook partitions 3 (none on the card) and 5, and gave it partition 1 (0b111)",
    "[files] ok: the root directory lists 2 entries",
    "[files] ok: README.TXT reads 65 bytes; its first line: Ferrode SD card test volume",
    "[files] ok: LOG.TXT: appended \"Ferrode wrote this on ",
    "[files] ok: the volume closes",
    "[files] ok: the session closes",
    "[raw] ok: the partition's session: 14336 blocks, its block 0 the FAT16 boot sector",
    "[raw] ok: the block after the partition's end is refused by the driver (Ok(OutOfRange))",
    "[raw] ok: it closes",
    "[raw] sd-files: 0 checks failed",
];

/// Boots sd-files with an 8 MiB FAT16 card holding `README.TXT`, checks
/// its lines and exit status, then reads `LOG.TXT` from the image: one
/// line, the one the app printed.
fn sd_files(script: &Scripted<'_>) -> Result<(), Failure> {
    sd_files_on(script, "sd-files", 8 << 20)
}

/// [`sd_files`] on a 4 MiB card, the smallest `sd-image create` makes:
/// its FAT16 (not FAT12, which embedded-sdmmc does not read) has
/// 512-byte clusters.
fn sd_files_small(script: &Scripted<'_>) -> Result<(), Failure> {
    sd_files_on(script, "sd-files-small", 4 << 20)
}

/// [`sd_files`] on a card of `bytes` bytes (its partition's blocks are
/// all but the first 2048).
fn sd_files_on(script: &Scripted<'_>, name: &str, bytes: u64) -> Result<(), Failure> {
    let make = |image: &std::path::Path| {
        crate::sd_image::fat_card(image, bytes, "ferrode", &[("README.TXT", SD_FILES_README)])
    };
    let (outcome, (log, readme)) = with_card(script, name, make, |image| {
        let read = |name: &str| crate::sd_image::read_fat_file(image, name);
        (read("LOG.TXT"), read("README.TXT"))
    })?;
    let failure = |message: String| Failure { message, console: outcome.console.clone() };
    let partition = format!(
        "[raw] ok: the partition's session: {} blocks, its block 0 the FAT16 boot sector",
        bytes / 512 - 2048
    );
    let lines: Vec<&str> = SD_FILES_LINES
        .iter()
        .map(
            |line| {
                if line.starts_with("[raw] ok: the partition's") { &partition[..] } else { line }
            },
        )
        .collect();
    harness::printed_in_order_and_succeeded(&outcome, &lines).map_err(failure)?;
    let log = log.map_err(|error| failure(format!("LOG.TXT on the image: {error}")))?;
    let printed = outcome
        .console
        .split_once("LOG.TXT: appended \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(line, _)| format!("{line}\n"));
    if printed.as_deref().map(str::as_bytes) != Some(&log[..]) {
        return Err(failure(format!(
            "LOG.TXT on the image holds {:?}, the app appended {printed:?}",
            String::from_utf8_lossy(&log)
        )));
    }
    if readme.as_deref().ok() != Some(SD_FILES_README) {
        return Err(failure(format!("README.TXT changed: {readme:?}")));
    }
    Ok(())
}

/// Seconds since 1970 of `2026-12-06T13:05:09Z`, as `CivilTime` prints it.
fn parse_iso_date(text: &str) -> Option<u64> {
    let text = text.trim().strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date = date.split('-').map(str::parse::<u32>);
    let mut time = time.split(':').map(str::parse::<u8>);
    let civil = ferrode_hal::CivilTime {
        year: date.next()?.ok()?,
        month: u8::try_from(date.next()?.ok()?).ok()?,
        day: u8::try_from(date.next()?.ok()?).ok()?,
        hour: time.next()?.ok()?,
        minute: time.next()?.ok()?,
        second: time.next()?.ok()?,
    };
    civil.to_unix_seconds()
}

#[cfg(test)]
mod tests {
    use super::parse_iso_date;

    #[test]
    fn iso_dates_parse_to_unix_seconds() {
        assert_eq!(parse_iso_date("2026-12-02T17:33:33Z"), Some(1_796_232_813));
        assert_eq!(parse_iso_date("1970-01-01T00:00:00Z\r"), Some(0));
        for bad in ["2026-12-02T17:33:33", "2026-13-02T17:33:33Z", "2026-12-02 17:33:33Z", ""] {
            assert_eq!(parse_iso_date(bad), None, "{bad:?}");
        }
    }
}
