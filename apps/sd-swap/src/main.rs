//! An SD card taken out and exchanged under an open Block session.
//!
//! `sd` is the card's driver component (`component::block_root`); `swap`
//! holds two Block sessions, `one` of the card's first partition (`quota
//! 1`) and `two` of its second. The test harness puts card A (8 MiB) in
//! the slot, and changes cards through QEMU's monitor when `swap` asks
//! for it on the console. Both cards have two partitions, at other blocks
//! and of other sizes, and every block holds the harness's pattern with
//! the card's mark.
//!
//! 1. `swap` reads each partition's first blocks on card A, and `attach`
//!    with A still there changes nothing. It asks for the card to be
//!    taken out (`swap: take the card out`): the sessions' next requests
//!    are `MediumChanged` (the slot's card-detect switch says empty), and
//!    `attach` is refused, as there is no card to move to.
//! 2. It asks for card B (1 MiB, standard capacity: addressed in bytes,
//!    where A takes block numbers), and tries a write and `attach` of
//!    `one` until `attach` succeeds: every write before is
//!    `MediumChanged`, and none reaches card B. `one` is then on B's first
//!    partition; `two`, not attached yet, still reaches nothing of B
//!    (the card is identified now: the driver refuses `two` because it
//!    was opened on card A). Attached, `two` is on B's second partition.
//!    Each writes a block.
//! 3. It asks for card A back in B's place, in one step, so that the
//!    switch never shows the slot empty (as a card exchanged between two
//!    polls of it on a real board). `one` writes a block until a write is
//!    `MediumChanged`: card A does not answer at B's address, and none of
//!    those writes reaches A. Both sessions attach to card A's partitions
//!    again (`two`'s write before is refused), and each writes a block.
//!
//! The harness then checks both images: the blocks `swap` wrote, and
//! every block a session tried to write while it was stale unchanged. `sd-swap: 0 checks failed` and exit status 0 end a good
//! run.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_board::component::{self, BlockClient, BlockError, Env, LogClient, TimerClient};
use ferrode_board::exit_code;
use ferrode_board::kernel::ipc::CapSel;
use ferrode_board::kernel::kernel;
use ferrode_component::SessionError;
use ferrode_component::block::BlockStatus;

ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        timer: { priority: 5, stack: 4096, provides: "Timer", root: ferrode_board::component::timer_root },
        io_mem: { priority: 5, stack: 4096, provides: "IO_MEM", root: ferrode_board::component::io_mem_root },
        sd: { priority: 4, stack: 4096, provides: "Block", root: ferrode_board::component::block_root },
    }
    clients {
        swap: { priority: 3, stack: 16384, main: swap },
    }
    routes {
        sd: "IO_MEM" "sd" => io_mem,
        swap: "LOG" "" => log,
        swap: "Timer" "" => timer,
        swap: "Block" "one" => sd quota 1,
        swap: "Block" "two" => sd quota 2,
    }
}

/// A card: its mark, and its two partitions (first block, blocks).
struct Card {
    name: &'static str,
    mark: u8,
    partitions: [(u32, u32); 2],
}

const A: Card = Card { name: "A", mark: 0xa0, partitions: [(2048, 4096), (8192, 8192)] };
const B: Card = Card { name: "B", mark: 0xb0, partitions: [(128, 896), (1024, 1024)] };
/// What `swap` writes: its mark, on each partition's block 1 of card B
/// and block 3 of card A.
const WRITTEN_MARK: u8 = 0x5c;
const B_WRITTEN: u32 = 1;
const A_WRITTEN: u32 = 3;
/// Where a stale session writes: block 5 (before it is attached to card
/// B), block 2 (polling for card B's exchange, and before `two` attaches
/// to card A again); with this mark.
const STALE_AT: u32 = 5;
const POLLED: u32 = 2;
const STALE_MARK: u8 = 0xee;
/// Between two polls for the harness's change of cards, and how many
/// polls at most (20 s).
const POLL_US: u64 = 10_000;
const POLLS: u32 = 2_000;

/// The harness's pattern: byte `offset` of block `block` of a card.
fn pattern(mark: u8, block: u32, offset: usize) -> u8 {
    (block.wrapping_mul(31).wrapping_add(offset as u32) ^ (block >> 8)) as u8 ^ mark
}

fn marked(mark: u8, block: u32) -> [u8; 512] {
    core::array::from_fn(|offset| pattern(mark, block, offset))
}

static FAILED: AtomicU32 = AtomicU32::new(0);

fn check(log: &mut LogClient, ok: bool, what: core::fmt::Arguments<'_>) {
    let _ = log.write_fmt(format_args!("{}: {}", if ok { "ok" } else { "FAILED" }, what));
    if !ok {
        FAILED.fetch_add(1, Ordering::Relaxed);
    }
}

const CHANGED: Result<(), BlockError> = Err(BlockError::Request(BlockStatus::MediumChanged));

/// The client, with what it needs between the steps.
struct Swap {
    log: LogClient,
    timer: TimerClient,
    wake: CapSel,
}

impl Swap {
    /// Polls `attempt` until it gives something, at most [`POLLS`] times.
    fn poll<T>(&mut self, mut attempt: impl FnMut() -> Option<T>) -> Option<T> {
        for _ in 0..POLLS {
            if let Some(found) = attempt() {
                return Some(found);
            }
            if component::sleep_us(&mut self.timer, self.wake, POLL_US).is_err() {
                return None;
            }
        }
        None
    }

    /// Checks that `session` is on partition `index` of `card`: its size,
    /// and its first blocks.
    fn on(&mut self, session: &BlockClient, card: &Card, index: usize) {
        let (start, count) = card.partitions[index];
        let mut blocks = [[0u8; 512]; 4];
        let read = session.read(0, &mut blocks);
        let own = blocks.iter().zip(start..).all(|(block, at)| *block == marked(card.mark, at));
        check(
            &mut self.log,
            session.block_count() == count && read.is_ok() && own,
            format_args!(
                "{} on card {}: {} blocks, {read:?}, its own",
                ["one", "two"][index],
                card.name,
                session.block_count()
            ),
        );
    }

    /// Writes block `at` of `session`, on partition `index` of `card`,
    /// with the written mark.
    fn write(&mut self, session: &BlockClient, card: &Card, index: usize, at: u32) {
        let block = card.partitions[index].0 + at;
        let written = session.write(at, &[marked(WRITTEN_MARK, block)]);
        check(
            &mut self.log,
            written.is_ok(),
            format_args!("card {} block {block} written: {written:?}", card.name),
        );
    }
}

fn swap(env: Env) -> u32 {
    let Ok(log) = env.log() else { return exit_code::FAILURE };
    let Ok((timer, wake)) = env.timer("") else { return exit_code::FAILURE };
    let Ok((_, signal)) = kernel().create_signal() else { return exit_code::FAILURE };
    let mut swap = Swap { log, timer, wake };
    let sessions = (env.block("one", signal), env.block("two", signal));
    let (Ok(mut one), Ok(mut two)) = sessions else {
        let _ = swap.log.write("sd-swap: no Block sessions");
        return exit_code::FAILURE;
    };
    steps(&mut swap, &mut one, &mut two);
    let closed = (env.close_block("one", one), env.close_block("two", two));
    check(&mut swap.log, closed == (Ok(()), Ok(())), format_args!("they close: {closed:?}"));
    let failed = FAILED.load(Ordering::Relaxed);
    let _ = swap.log.write_fmt(format_args!("sd-swap: {failed} checks failed"));
    if failed == 0 { exit_code::SUCCESS } else { exit_code::FAILURE }
}

fn steps(swap: &mut Swap, one: &mut BlockClient, two: &mut BlockClient) {
    swap.on(one, &A, 0);
    swap.on(two, &A, 1);
    let same = one.attach().map(|info| info.block_count);
    check(
        &mut swap.log,
        same == Ok(A.partitions[0].1),
        format_args!("attach with card A there changes nothing: {same:?}"),
    );

    // 1. Out.
    let _ = swap.log.write("swap: take the card out");
    let mut block = [[0u8; 512]; 1];
    let gone = swap.poll(|| one.read(0, &mut block).err());
    let also = two.read(0, &mut block);
    let refused = one.attach().map(drop);
    check(
        &mut swap.log,
        gone == Some(BlockError::Request(BlockStatus::MediumChanged)) && also == CHANGED,
        format_args!("card A taken out: reads are {gone:?}, {also:?}"),
    );
    check(
        &mut swap.log,
        refused == Err(SessionError::Denied),
        format_args!("with the slot empty attach is {refused:?}"),
    );

    // 2. Card B in: until a session is attached to it, its writes reach
    // nothing, though the card is identified once the other attached.
    let _ = swap.log.write("swap: put card B in");
    let (mut tries, mut refused) = (0, 0);
    let attached = swap.poll(|| {
        tries += 1;
        if one.write(STALE_AT, &[[STALE_MARK; 512]]) == CHANGED {
            refused += 1;
        }
        one.attach().ok()
    });
    check(
        &mut swap.log,
        attached.is_some() && refused == tries,
        format_args!("until one is attached to card B, {refused} of {tries} writes are refused"),
    );
    swap.on(one, &B, 0);
    let stale = (two.write(STALE_AT, &[[STALE_MARK; 512]]), two.read(0, &mut block));
    check(
        &mut swap.log,
        stale == (CHANGED, CHANGED),
        format_args!("two, opened on card A, reaches nothing of B: {stale:?}"),
    );
    let attached = two.attach().map(|info| info.block_count);
    check(&mut swap.log, attached.is_ok(), format_args!("two attaches: {attached:?}"));
    swap.on(two, &B, 1);
    swap.write(one, &B, 0, B_WRITTEN);
    swap.write(two, &B, 1, B_WRITTEN);

    // 3. Card A back in B's place, unseen by the switch.
    let _ = swap.log.write("swap: exchange card B for card A");
    let changed = swap.poll(|| one.write(POLLED, &[[STALE_MARK; 512]]).err());
    check(
        &mut swap.log,
        changed == Some(BlockError::Request(BlockStatus::MediumChanged)),
        format_args!("card B exchanged: one's write is {changed:?}"),
    );
    let attached = one.attach().map(|info| info.block_count);
    let stale = two.write(POLLED, &[[STALE_MARK; 512]]);
    let also = two.attach().map(|info| info.block_count);
    check(
        &mut swap.log,
        attached.is_ok() && stale == CHANGED && also.is_ok(),
        format_args!(
            "both attach to card A again ({attached:?}, {also:?}), two's write before is {stale:?}"
        ),
    );
    swap.on(one, &A, 0);
    swap.on(two, &A, 1);
    swap.write(one, &A, 0, A_WRITTEN);
    swap.write(two, &A, 1, A_WRITTEN);
}
