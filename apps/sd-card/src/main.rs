//! The RealView PBX-A9's SD card, behind the baseboard's PL181 MultiMedia
//! Card Interface, through the Block service.
//!
//! `sd` is the card's driver component (`component::block_root`): its
//! route grants it the MCI's register window (`"IO_MEM" "sd"`; no other
//! component can reach the card). `disk` holds a Block session of it
//! (`component::BlockClient`): the blocks travel through the session's
//! packet stream, the control calls through UTCBs. It
//!
//! - reads the card's size, and that it takes writes (its write-protect
//!   tab is not locked);
//! - reads the first [`CHECKED`] blocks, one request and several, and
//!   checks them against [`pattern`], which the test harness wrote into
//!   the card's image before the boot;
//! - writes [`WRITTEN`] blocks from [`WRITE_AT`] on (more than a packet
//!   carries, so several requests), and the card's last block, with the
//!   pattern inverted and reads them back; the harness checks the image
//!   file after the run;
//! - reads through embedded-sdmmc's `BlockDevice` trait, which the
//!   session's client implements;
//! - sends the driver headers no honest client makes (no operation, more
//!   blocks than the packet holds, blocks past the card's end) and checks
//!   that it refuses each and serves on;
//! - checks that blocks past the card's end are refused, and closes the
//!   session.
//!
//! `second`, started when `disk` has ended, gets the session only because
//! `disk` closed it, and finds `disk`'s blocks through the restarted
//! stream. With the command line `bench`, `disk` runs the block
//! benchmark of `cargo xtask bench block` instead (`bench.rs`, which
//! `apps/sd-direct` runs calling the driver). With the command line `holder`, `disk` ends after its writes
//! still holding its session: the composer destroys it and the driver
//! reclaims the session (`Root::reclaim`), so `second` gets it all the
//! same.
//!
//! `sd-card: 0 checks failed` and exit status 0 end a good run. Without a
//! card (QEMU without `-drive if=sd`) the slot's card-detect switch says
//! so, the driver refuses the session without a command to the card, and
//! the composer reports `sd refused disk's Block session` and ends the
//! image with a failure. `cargo xtask run --app sd-card --sd card.img`
//! puts a raw image (its size a power of two) in the slot; blocks 100 to
//! 111 are written.
#![no_std]
#![no_main]

mod bench;

use core::sync::atomic::{AtomicU32, Ordering};

use embedded_sdmmc_types::{Block, BlockDevice, BlockIdx};
use ferrode_board::component::{BlockClient, BlockError, Env, LogClient};
use ferrode_board::exit_code;
use ferrode_board::kernel::kernel;
use ferrode_component::block::{BlockStatus, Operation, Request};

ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        io_mem: { priority: 5, stack: 4096, provides: "IO_MEM", root: ferrode_board::component::io_mem_root },
        sd: { priority: 4, stack: 4096, provides: "Block", root: ferrode_board::component::block_root },
    }
    clients {
        disk: { priority: 3, stack: 32768, main: disk },
        second: { priority: 3, stack: 16384, main: second, after: disk },
    }
    routes {
        sd: "IO_MEM" "sd" => io_mem,
        disk: "LOG" "" => log,
        disk: "Block" "card" => sd,
        second: "LOG" "" => log,
        second: "Block" "card" => sd,
    }
}

/// Blocks checked against [`pattern`] (the harness wrote it into every
/// block), from block 0 on: one request per block, then [`AT_ONCE`] in
/// requests of as many blocks as a packet carries.
const CHECKED: u32 = 64;
const AT_ONCE: usize = 16;
/// Where `disk` writes, and how many blocks.
const WRITE_AT: u32 = 100;
const WRITTEN: usize = 12;

/// Byte `offset` of block `block` as the harness wrote the image.
fn pattern(block: u32, offset: usize) -> u8 {
    (block.wrapping_mul(31).wrapping_add(offset as u32) ^ (block >> 8)) as u8
}

/// Whether `data` is block `block` of the pattern (inverted with `invert`).
fn is_pattern(block: u32, data: &[u8; 512], invert: bool) -> bool {
    let flip = if invert { 0xff } else { 0 };
    data.iter().enumerate().all(|(offset, &byte)| byte == pattern(block, offset) ^ flip)
}

/// What the command line asks for after the image's name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `disk` ends after its writes, holding its session.
    Holder,
    /// `disk` runs the block benchmark (`bench.rs`) and nothing else.
    Bench,
}

fn mode() -> Option<Mode> {
    let mut buffer = [0u8; 64];
    // The command line starts with the image's name.
    match ferrode_board::cmdline(&mut buffer)?.split_whitespace().nth(1)? {
        "holder" => Some(Mode::Holder),
        "bench" => Some(Mode::Bench),
        _ => None,
    }
}

/// Failed checks of both clients.
static FAILED: AtomicU32 = AtomicU32::new(0);

/// Prints `ok:` or `FAILED:` and `what`, counting a failure.
fn check(log: &mut LogClient, ok: bool, what: core::fmt::Arguments<'_>) {
    let _ = log.write_fmt(format_args!("{}: {}", if ok { "ok" } else { "FAILED" }, what));
    if !ok {
        FAILED.fetch_add(1, Ordering::Relaxed);
    }
}

fn disk(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let holder = mode() == Some(Mode::Holder);
    let Ok((_, signal)) = kernel().create_signal() else { return exit_code::FAILURE };
    let mut card = match env.block("card", signal) {
        Ok(card) => card,
        Err(error) => {
            check(&mut log, false, format_args!("a Block session of the SD card: {error}"));
            return exit_code::FAILURE;
        }
    };
    let blocks = card.block_count();
    let _ = log.write_fmt(format_args!("the card holds {blocks} blocks of 512 bytes"));
    if mode() == Some(Mode::Bench) {
        let ok = bench::run(
            "session",
            |block, blocks| card.read(block, blocks).is_ok(),
            |block, blocks| card.write(block, blocks).is_ok(),
            |line| {
                let _ = log.write_fmt(line);
            },
        );
        let closed = env.close_block("card", card).is_ok();
        return if ok && closed { exit_code::SUCCESS } else { exit_code::FAILURE };
    }
    // QEMU's cards always take writes (it refuses a read-only image as
    // one); on a board, a card with its write-protect tab locked does not.
    let writable = card.info().map(|info| info.writable);
    check(
        &mut log,
        writable == Ok(true),
        format_args!("the session says the card takes writes ({writable:?})"),
    );

    // One request per block, then the same blocks in requests of many.
    let mut one = [[0u8; 512]; 1];
    let mut singles = true;
    for block in 0..CHECKED {
        singles &= card.read(block, &mut one).is_ok() && is_pattern(block, &one[0], false);
    }
    check(
        &mut log,
        singles,
        format_args!("{CHECKED} blocks read one at a time hold the image's pattern"),
    );
    let mut many = [[0u8; 512]; AT_ONCE];
    let read = card.read(CHECKED - AT_ONCE as u32, &mut many);
    let good =
        (0..AT_ONCE).all(|i| is_pattern(CHECKED - AT_ONCE as u32 + i as u32, &many[i], false));
    check(
        &mut log,
        read.is_ok() && good,
        format_args!("the last {AT_ONCE} of them read at once hold it too ({read:?})"),
    );

    let mut data = [[0u8; 512]; WRITTEN];
    for (i, block) in data.iter_mut().enumerate() {
        for (offset, byte) in block.iter_mut().enumerate() {
            *byte = !pattern(WRITE_AT + i as u32, offset);
        }
    }
    let written = card.write(WRITE_AT, &data);
    let mut back = [[0u8; 512]; WRITTEN];
    let reread = card.read(WRITE_AT, &mut back);
    check(
        &mut log,
        written.is_ok() && reread.is_ok() && back == data,
        format_args!(
            "{WRITTEN} blocks written from block {WRITE_AT} on read back ({written:?}, {reread:?})"
        ),
    );
    // The card's last block: its address is the largest a request makes
    // (in bytes on a standard-capacity card, in blocks on a high-capacity
    // one).
    let last = blocks - 1;
    let mut one = [[0u8; 512]; 1];
    for (offset, byte) in one[0].iter_mut().enumerate() {
        *byte = !pattern(last, offset);
    }
    let written = card.write(last, &one);
    let mut back = [[0u8; 512]; 1];
    let reread = card.read(last, &mut back);
    check(
        &mut log,
        written.is_ok() && reread.is_ok() && back == one,
        format_args!("the last block, {last}, written and read back ({written:?}, {reread:?})"),
    );

    if holder {
        // Ends holding its session's stream end, as a client that fails
        // does: the composer destroys it and the driver reclaims the
        // session, or `second` could never have one.
        let _ = log.write("holder: ends holding its Block session");
        return 0;
    }

    check_block_device(&card, &mut log);
    check_driver_refusals(&card, &mut log);

    let past = card.read(blocks - 1, &mut [[0; 512]; 2]);
    check(
        &mut log,
        past == Err(BlockError::OutOfRange),
        format_args!("a read past the card's end is refused ({past:?})"),
    );
    let closed = env.close_block("card", card);
    check(&mut log, closed.is_ok(), format_args!("the session closes ({closed:?})"));
    0
}

/// Started once `disk` ended: gets the session only because `disk`
/// closed it (or, holding it, was destroyed and its session reclaimed),
/// and finds `disk`'s blocks on the card through the restarted stream.
fn second(env: Env) -> u32 {
    if mode() == Some(Mode::Bench) {
        return exit_code::SUCCESS;
    }
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let Ok((_, signal)) = kernel().create_signal() else { return exit_code::FAILURE };
    match env.block("card", signal) {
        Ok(card) => {
            let mut back = [[0u8; 512]; WRITTEN];
            let read = card.read(WRITE_AT, &mut back);
            let good = (0..WRITTEN).all(|i| is_pattern(WRITE_AT + i as u32, &back[i], true));
            check(
                &mut log,
                read.is_ok() && good,
                format_args!("the session again, and disk's {WRITTEN} blocks ({read:?})"),
            );
            let closed = env.close_block("card", card);
            check(&mut log, closed.is_ok(), format_args!("it closes ({closed:?})"));
        }
        Err(error) => check(&mut log, false, format_args!("a Block session: {error}")),
    }
    let failed = FAILED.load(Ordering::Relaxed);
    let _ = log.write_fmt(format_args!("sd-card: {failed} checks failed"));
    if failed == 0 { exit_code::SUCCESS } else { exit_code::FAILURE }
}

/// The session as embedded-sdmmc's `BlockDevice`: the size, and a read of
/// blocks just written through the other path.
fn check_block_device(card: &BlockClient, log: &mut LogClient) {
    let count = BlockDevice::num_blocks(card);
    let mut blocks = [Block::new(), Block::new(), Block::new()];
    let read = BlockDevice::read(card, &mut blocks, BlockIdx(WRITE_AT + 1));
    let good =
        blocks.iter().zip(1..).all(|(block, i)| is_pattern(WRITE_AT + i, &block.contents, true));
    check(
        log,
        count.map(|count| count.0) == Ok(card.block_count()) && read.is_ok() && good,
        format_args!("embedded-sdmmc's BlockDevice reads the written blocks ({read:?})"),
    );
}

/// Headers no honest client makes, straight to the driver: each refused
/// with its status, nothing reaching the card, and a good read after them.
fn check_driver_refusals(card: &BlockClient, log: &mut LogClient) {
    let read =
        Request { operation: Operation::Read, block: 0, count: 1, status: BlockStatus::Pending };
    let mut no_operation = read.encode();
    no_operation[0] = 7;
    let end = card.block_count();
    let cases = [
        (no_operation, 1, BlockStatus::Malformed),
        (Request { count: 2, ..read }.encode(), 1, BlockStatus::Malformed),
        (Request { count: 0, ..read }.encode(), 1, BlockStatus::Malformed),
        (Request { block: end - 1, count: 2, ..read }.encode(), 2, BlockStatus::OutOfRange),
        (Request { block: u32::MAX, ..read }.encode(), 1, BlockStatus::OutOfRange),
        (
            Request { operation: Operation::Write, block: end, ..read }.encode(),
            1,
            BlockStatus::OutOfRange,
        ),
    ];
    let mut refused = 0;
    for (header, blocks, expected) in cases {
        if card.raw_request(header, blocks) == Ok(expected) {
            refused += 1;
        }
    }
    let mut one = [[0u8; 512]; 1];
    let after = card.read(0, &mut one);
    check(
        log,
        refused == cases.len() && after.is_ok() && is_pattern(0, &one[0], false),
        format_args!(
            "the driver refused {refused} of {} made-up headers and serves on ({after:?})",
            cases.len()
        ),
    );
}
