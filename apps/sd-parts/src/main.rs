//! Two partitions of the SD card, two clients, one driver, at once.
//!
//! `sd` is the card's driver component (`component::block_root`). The
//! card the test harness makes has two partitions in its MBR; `left`'s
//! route gives it a Block session of the first (`quota 1`), `right`'s
//! one of the second (`quota 2`). Both sessions are open together, each
//! with its own packet stream, and the driver serves both: each client
//! numbers its partition's blocks from 0 and reaches no other block.
//!
//! Before the clients start, the composer's hook asks the Block root for
//! sessions itself: all four partitions of the card at once (given: the
//! driver's four sessions), then the whole card and partition 1 again
//! (refused while those are open: they would share blocks), then, once it
//! closed them, the whole card (given) and partition 2 beside it
//! (refused). With the whole card's session it plays a client that means
//! harm: it gives the driver the session's copy of the driver's own
//! signal as the signal to raise for it, which the driver refuses, and
//! the copy is dead once the session is closed.
//!
//! Each client reads its partition's first blocks (the harness wrote the
//! card's block number pattern into every block), writes [`WRITTEN`]
//! blocks with its own mark a request at a time, yielding to the other
//! client after each so that their requests alternate at the driver,
//! reads them back, is refused the block after its partition's end, and
//! closes. `right` closes last: once `left` closed, it reads its blocks
//! once more, which the driver must still serve (closing a session takes
//! back that session's copy of the driver's signal, and no other
//! session's). The harness then finds each client's blocks in its
//! partition of the image, and every other block as it was.
//!
//! `pair`, a third client, has two sessions at once (partitions 3 and 4)
//! and gives both the same signal. It runs at the driver's priority, so
//! it waits for every acknowledgement (a client below the driver finds
//! each made already, the driver having run first): it closes one
//! session and reads through the other, which must still wake it. Its
//! two copies of the driver's signal are two capabilities, and the
//! driver's one copy of its signal stays while a session uses it.
//!
//! `sd-parts: 0 checks failed` and exit status 0 end a good run.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use ferrode_board::component::{BlockError, Env, Event, LogClient, ParentEnv};
use ferrode_board::exit_code;
use ferrode_board::kernel::{self, kernel};
use ferrode_component::{Block, Root, SessionArgs, SessionError};
use ferrode_ipc::Capability;

ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        io_mem: { priority: 5, stack: 4096, provides: "IO_MEM", root: ferrode_board::component::io_mem_root },
        sd: { priority: 4, stack: 4096, provides: "Block", root: ferrode_board::component::block_root },
    }
    clients {
        left: { priority: 3, stack: 16384, main: left },
        right: { priority: 3, stack: 16384, main: right },
        pair: { priority: 4, stack: 8192, main: pair },
    }
    routes {
        sd: "IO_MEM" "sd" => io_mem,
        left: "LOG" "" => log,
        left: "Block" "data" => sd quota 1,
        right: "LOG" "" => log,
        right: "Block" "data" => sd quota 2,
        pair: "LOG" "" => log,
        pair: "Block" "third" => sd quota 3,
        pair: "Block" "fourth" => sd quota 4,
    }
    parent: parent,
}

/// The partitions of the card the clients use (the harness puts two more
/// after them, for the hook): first block and blocks.
const PARTITIONS: [(u32, u32); 2] = [(2048, 2048), (4096, 4096)];
/// The partitions of `pair`'s two sessions (the hook's last two).
const PAIR: [(u32, u32); 2] = [(8192, 4096), (12288, 4096)];
/// Blocks each client writes from its partition's block 0 on, a request
/// of [`PER_REQUEST`] at a time.
const WRITTEN: u32 = 64;
const PER_REQUEST: u32 = 8;

/// Byte `offset` of card block `block` as the harness wrote the image.
fn pattern(block: u32, offset: usize) -> u8 {
    (block.wrapping_mul(31).wrapping_add(offset as u32) ^ (block >> 8)) as u8
}

/// Byte `offset` of a block client `mark` wrote at card block `block`.
fn marked(mark: u8, block: u32, offset: usize) -> u8 {
    pattern(block, offset) ^ mark
}

/// The hook's answers, a bit each (all six set: as the root should
/// answer).
static ROOT_CHECKS: AtomicU32 = AtomicU32::new(0);
const ALL_ROOT_CHECKS: u32 = 0b11_1111;

/// The hook's checks of a client that gives the driver's signal back as
/// its own, a bit each: the session's copy given, refused as the client's
/// signal, dead once the session is closed.
static ROGUE_CHECKS: AtomicU32 = AtomicU32::new(0);
const ALL_ROGUE_CHECKS: u32 = 0b111;

/// The composer's hook: before any client holds a session, asks the
/// Block root for sessions that may and may not be open together.
fn parent(env: &mut ParentEnv<'_>, event: Event) -> u32 {
    if event != Event::Started {
        return 0;
    }
    let Some(root) = env.root("sd") else { return exit_code::FAILURE };
    let mut root = kernel::client(root);
    let ask = |root: &mut ferrode_ipc::Client<dyn Root, _>, quota| {
        let label = heapless::String::try_from("hook").unwrap_or_default();
        root.session(SessionArgs { label, quota })
    };
    let mut checks = 0;
    // Every partition at once: the driver's four sessions.
    let all = [1, 2, 3, 4].map(|quota| ask(&mut root, quota));
    if all.iter().all(Result::is_ok) {
        checks |= 0b00_0001;
    }
    if ask(&mut root, 0) == Err(SessionError::OutOfSessions) {
        checks |= 0b00_0010;
    }
    if ask(&mut root, 1) == Err(SessionError::OutOfSessions) {
        checks |= 0b00_0100;
    }
    let mut closed = true;
    for session in all.into_iter().flatten() {
        closed &= root.close(session).is_ok();
    }
    if closed {
        checks |= 0b00_1000;
    }
    let mut rogue = 0;
    if let Ok(whole) = ask(&mut root, 0) {
        if ask(&mut root, 2) == Err(SessionError::OutOfSessions) {
            checks |= 0b10_0000;
        }
        // A client that means harm gives the driver, as the signal to
        // raise for it, the copy of the driver's signal this session got.
        // Back in its owner's space it is the driver's own signal (the
        // kernel gives the owner's copies the wait right), which the
        // driver must refuse as a client's: kept as one, it would be
        // dropped at close.
        let mut block = kernel::client(Capability::<dyn Block>::from_selector(whole.selector()));
        let copy = block.driver_signal();
        if let Ok(copy) = copy {
            rogue |= 0b01;
            if block.sigh(copy) == Err(SessionError::UnknownSession) {
                rogue |= 0b10;
            }
        }
        if root.close(whole).is_ok() {
            checks |= 0b01_0000;
        }
        // Closed, the session's copy of the driver's signal is dead here.
        if let Ok(copy) = copy
            && kernel().submit(copy.selector()).is_err()
        {
            rogue |= 0b100;
        }
    }
    ROOT_CHECKS.store(checks, Ordering::Relaxed);
    ROGUE_CHECKS.store(rogue, Ordering::Relaxed);
    0
}

/// Failed checks of both clients.
static FAILED: AtomicU32 = AtomicU32::new(0);
/// Requests each client (0: left, 1: right) has had carried out.
static REQUESTS: [AtomicU32; 2] = [AtomicU32::new(0), AtomicU32::new(0)];
/// Clients that are done.
static DONE: AtomicU32 = AtomicU32::new(0);
/// Set once `left` closed its session (or gave up before it had one).
static LEFT_CLOSED: AtomicBool = AtomicBool::new(false);
/// Rounds `right` yields to `left` (at its priority) for it to close.
const CLOSE_ROUNDS: u32 = 100_000;

/// Prints `ok:` or `FAILED:` and `what`, counting a failure.
fn check(log: &mut LogClient, ok: bool, what: core::fmt::Arguments<'_>) {
    let _ = log.write_fmt(format_args!("{}: {}", if ok { "ok" } else { "FAILED" }, what));
    if !ok {
        FAILED.fetch_add(1, Ordering::Relaxed);
    }
}

fn left(env: Env) -> u32 {
    let status = client(env, 0);
    LEFT_CLOSED.store(true, Ordering::Release);
    status
}

fn right(env: Env) -> u32 {
    client(env, 1)
}

/// Client `index` (0 or 1) on partition `index + 1`.
fn client(env: Env, index: usize) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let (start, count) = PARTITIONS[index];
    let mark = [0x5a, 0xa5][index];
    let other = 1 - index;
    if index == 0 {
        let checks = ROOT_CHECKS.load(Ordering::Relaxed);
        check(
            &mut log,
            checks == ALL_ROOT_CHECKS,
            format_args!(
                "the hook's sessions: 1 to 4 together, not the whole card or 1 beside them; the whole card alone, not 2 beside it ({checks:#08b})"
            ),
        );
        let rogue = ROGUE_CHECKS.load(Ordering::Relaxed);
        check(
            &mut log,
            rogue == ALL_ROGUE_CHECKS,
            format_args!(
                "the driver's own signal given back as the client's is refused, and the copy dies with the session ({rogue:#05b})"
            ),
        );
    }
    let Ok((_, signal)) = kernel().create_signal() else { return exit_code::FAILURE };
    let card = match env.block("data", signal) {
        Ok(card) => card,
        Err(error) => {
            check(
                &mut log,
                false,
                format_args!("a Block session of partition {}: {error}", index + 1),
            );
            return finish(&mut log);
        }
    };
    check(
        &mut log,
        card.block_count() == count,
        format_args!("partition {}: a session of {} blocks", index + 1, card.block_count()),
    );

    // Its block 0 is the card's block `start`.
    let mut blocks = [[0u8; 512]; PER_REQUEST as usize];
    let read = card.read(0, &mut blocks);
    let good =
        (0..PER_REQUEST).all(|i| is(&blocks[i as usize], |offset| pattern(start + i, offset)));
    check(
        &mut log,
        read.is_ok() && good,
        format_args!("its blocks 0 to {} are card blocks {start} on ({read:?})", PER_REQUEST - 1),
    );

    // Writes, a request at a time, the other client's in between.
    let other_before = REQUESTS[other].load(Ordering::Relaxed);
    let mut written = Ok(());
    for first in (0..WRITTEN).step_by(PER_REQUEST as usize) {
        for (i, block) in blocks.iter_mut().enumerate() {
            let at = start + first + i as u32;
            for (offset, byte) in block.iter_mut().enumerate() {
                *byte = marked(mark, at, offset);
            }
        }
        written = written.and(card.write(first, &blocks));
        REQUESTS[index].fetch_add(1, Ordering::Relaxed);
        kernel().yield_now();
    }
    let other_during = REQUESTS[other].load(Ordering::Relaxed) - other_before;
    let mut back = [[0u8; 512]; PER_REQUEST as usize];
    let mut good = true;
    for first in (0..WRITTEN).step_by(PER_REQUEST as usize) {
        good &= card.read(first, &mut back).is_ok()
            && (0..PER_REQUEST)
                .all(|i| is(&back[i as usize], |offset| marked(mark, start + first + i, offset)));
    }
    check(
        &mut log,
        written.is_ok() && good,
        format_args!("{WRITTEN} blocks written and read back ({written:?})"),
    );
    // The other client's requests alternated with these at the driver:
    // both sessions were served at once.
    check(
        &mut log,
        other_during > 0,
        format_args!("the other partition's client was served meanwhile ({other_during} requests)"),
    );
    let past = card.read(count, &mut back[..1]);
    check(
        &mut log,
        past == Err(BlockError::OutOfRange),
        format_args!("the block after the partition's end is refused ({past:?})"),
    );
    if index == 1 {
        // The other session closes first; this one goes on.
        let mut rounds = 0;
        while !LEFT_CLOSED.load(Ordering::Acquire) && rounds < CLOSE_ROUNDS {
            kernel().yield_now();
            rounds += 1;
        }
        let again = card.read(0, &mut back);
        let good = (0..PER_REQUEST)
            .all(|i| is(&back[i as usize], |offset| marked(mark, start + i, offset)));
        check(
            &mut log,
            LEFT_CLOSED.load(Ordering::Acquire) && again.is_ok() && good,
            format_args!("served after the other partition's session closed ({again:?})"),
        );
    }
    let closed = env.close_block("data", card);
    check(&mut log, closed.is_ok(), format_args!("the session closes ({closed:?})"));
    finish(&mut log)
}

/// One client, two sessions (partitions 3 and 4), one signal for both:
/// closing the second leaves the first served and waking it.
fn pair(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let Ok((_, signal)) = kernel().create_signal() else { return exit_code::FAILURE };
    match (env.block("third", signal), env.block("fourth", signal)) {
        (Ok(third), Ok(fourth)) => {
            let closed = env.close_block("fourth", fourth);
            let mut block = [[0u8; 512]; 1];
            let read = third.read(0, &mut block);
            let good = is(&block[0], |offset| pattern(PAIR[0].0, offset));
            check(
                &mut log,
                closed.is_ok() && read.is_ok() && good,
                format_args!(
                    "two sessions with one signal: one closed ({closed:?}), the other still served ({read:?})"
                ),
            );
            let closed = env.close_block("third", third);
            check(&mut log, closed.is_ok(), format_args!("the other closes ({closed:?})"));
        }
        (third, fourth) => {
            check(
                &mut log,
                false,
                format_args!(
                    "sessions of partitions 3 and 4: {:?}, {:?}",
                    third.as_ref().err(),
                    fourth.as_ref().err()
                ),
            );
            for (label, session) in [("third", third), ("fourth", fourth)] {
                if let Ok(session) = session {
                    let _ = env.close_block(label, session);
                }
            }
        }
    }
    finish(&mut log)
}

/// Whether `block` holds `expected(offset)` at every offset.
fn is(block: &[u8; 512], expected: impl Fn(usize) -> u8) -> bool {
    block.iter().enumerate().all(|(offset, &byte)| byte == expected(offset))
}

/// Clients: `left`, `right` and `pair`.
const CLIENTS: u32 = 3;

/// The last client to get here reports them all.
fn finish(log: &mut LogClient) -> u32 {
    if DONE.fetch_add(1, Ordering::AcqRel) == CLIENTS - 1 {
        let failed = FAILED.load(Ordering::Relaxed);
        let _ = log.write_fmt(format_args!("sd-parts: {failed} checks failed"));
    }
    if FAILED.load(Ordering::Relaxed) == 0 { exit_code::SUCCESS } else { exit_code::FAILURE }
}
