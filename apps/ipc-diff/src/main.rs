//! ipc-diff: this CPU's hand-written IPC fast paths against the kernel's
//! Rust paths, on random kernel states.
//!
//! A second copy of the fast paths is expanded here (`diff_ipc_call`,
//! `diff_ipc_reply_wait`, from the same `ipc_fast_path!` and the kernel's
//! `IPC_LAYOUT` as the board's), with fall-backs that only record that
//! they were reached. The kernel's `diff` module builds random scratch
//! kernel states and runs one sequence of operations on two of them: one
//! through the Rust paths only, the other with every call and reply
//! through this copy first; it compares both after every operation (see
//! that module's docs for what is compared).
//!
//! Each thread's saved stack pointer leads to a *landing*: a first frame,
//! made by the arch crate's `prepare_stack`, on a stack of its own, that
//! records which thread the fast path switched to and switches back to the
//! stack pointer the fast path saved, so the fast path returns here as if
//! the IPC were over.
//!
//! The live kernel is not started. Prints a summary line and exits 0 only
//! with no mismatch and enough calls and replies taken by the fast path
//! (so it cannot pass without testing it). Arguments: the first seed
//! (default 1) and the number of seeds (default 1000), to reproduce a
//! reported mismatch.
#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering::Relaxed};

use ferrode_board::{BOARD_NAME, arch, exit_code, println};
use ferrode_kernel::diff::{Diff, FastPath, Outcome};
use ferrode_kernel::{ConstStaticCell, IPC_LAYOUT, MAX_THREADS};

ferrode_board::entry!(main);

/// Random systems built, and calls plus replies run in each.
const SEEDS: u64 = 1000;
const OPS_PER_SEED: u32 = 40;
/// The fewest calls, and the fewest replies, the fast path must take.
const MIN_FAST: u32 = 1200;

arch::ipc_fast_path!(
    layout = IPC_LAYOUT,
    call_slow = call_fell_back,
    reply_slow = reply_fell_back,
    prefix = "diff_"
);

unsafe extern "C" {
    fn diff_ipc_call(state: *mut u8, selector: usize);
    fn diff_ipc_reply_wait(state: *mut u8);
}

static FELL_BACK: AtomicBool = AtomicBool::new(false);
/// The arguments the fall-back got (the selector is `NOBODY` for a reply).
static FALL_BACK_STATE: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());
static FALL_BACK_SELECTOR: AtomicUsize = AtomicUsize::new(0);
const NOBODY: usize = usize::MAX;
/// The thread whose landing ran.
static LANDED: AtomicUsize = AtomicUsize::new(NOBODY);
/// Where the fast path saves the stack pointer of the thread it leaves.
static RESUME: AtomicPtr<usize> = AtomicPtr::new(core::ptr::null_mut());
/// Where a landing's own stack pointer goes (it is never resumed).
static PARKED: AtomicUsize = AtomicUsize::new(0);

/// The fast path's fall-back for a call: it only records that it ran, and
/// with which arguments (the board's does the whole call with them).
extern "C" fn call_fell_back(state: *mut u8, selector: usize) {
    FELL_BACK.store(true, Relaxed);
    FALL_BACK_STATE.store(state, Relaxed);
    FALL_BACK_SELECTOR.store(selector, Relaxed);
}

/// The fast path's fall-back for a reply.
extern "C" fn reply_fell_back(state: *mut u8) {
    FELL_BACK.store(true, Relaxed);
    FALL_BACK_STATE.store(state, Relaxed);
    FALL_BACK_SELECTOR.store(NOBODY, Relaxed);
}

const LANDING_STACK: usize = 2048;

/// One landing stack per thread slot.
struct LandingStacks(UnsafeCell<[[u8; LANDING_STACK]; MAX_THREADS]>);

// SAFETY: one core; a landing stack is written by `landing_sp` only while
// no fast path runs, and run on by a landing only while one does.
unsafe impl Sync for LandingStacks {}

static STACKS: LandingStacks = LandingStacks(UnsafeCell::new([[0; LANDING_STACK]; MAX_THREADS]));

static DIFF: ConstStaticCell<Diff> = ConstStaticCell::new(Diff::new());

/// A fresh landing frame for `thread`.
fn landing_sp(thread: usize) -> usize {
    // SAFETY: no fast path runs now, and a landing that ran on this stack
    // switched away for good: this is the only reference to it.
    let stack: &'static mut [u8] = unsafe { &mut (*STACKS.0.get())[thread] };
    arch::prepare_stack(stack, landing, thread)
}

/// Where the fast path arrives when it switches to `thread`.
extern "C" fn landing(thread: usize) -> ! {
    arch::without_interrupts(|| {
        if LANDED.swap(thread, Relaxed) != NOBODY {
            println!("ipc-diff: the fast path switched twice (second time to thread {thread})");
            ferrode_board::exit(exit_code::FAILURE);
        }
        // SAFETY: the running thread's saved-sp slot in the scratch state,
        // which lives on while the fast path (that wrote it) is running.
        let sp = unsafe { RESUME.load(Relaxed).read_volatile() };
        if sp == 0 {
            println!(
                "ipc-diff: the fast path switched to thread {thread} without saving the stack pointer to resume"
            );
            ferrode_board::exit(exit_code::FAILURE);
        }
        // SAFETY: `sp` is the frame the fast path saved (the one
        // `switch_context` uses); interrupts are masked; this landing is
        // never resumed.
        unsafe { arch::switch_context(PARKED.as_ptr(), sp) };
    });
    unreachable!("a landing was resumed")
}

/// The fast-path copy above, as the differential test drives it.
struct Asm;

impl Asm {
    /// Runs `path` on `state` (with `selector`, `NOBODY` for a reply).
    fn run(state: *mut u8, selector: usize, resume: *const usize, path: impl FnOnce()) -> Outcome {
        FELL_BACK.store(false, Relaxed);
        FALL_BACK_STATE.store(core::ptr::null_mut(), Relaxed);
        LANDED.store(NOBODY, Relaxed);
        RESUME.store(resume.cast_mut(), Relaxed);
        arch::without_interrupts(path);
        match (FELL_BACK.load(Relaxed), LANDED.load(Relaxed)) {
            (true, NOBODY)
                if FALL_BACK_STATE.load(Relaxed) != state
                    || FALL_BACK_SELECTOR.load(Relaxed) != selector =>
            {
                Outcome::FellBackWrongly(FALL_BACK_SELECTOR.load(Relaxed))
            }
            (true, NOBODY) => Outcome::FellBack,
            (false, NOBODY) => Outcome::Returned,
            (false, thread) => Outcome::Switched(thread),
            // Switched and fell back: as wrong as neither.
            (true, _) => Outcome::Returned,
        }
    }
}

impl FastPath for Asm {
    fn landing(&mut self, thread: usize) -> usize {
        landing_sp(thread)
    }

    unsafe fn call(&mut self, state: *mut u8, selector: usize, resume: *const usize) -> Outcome {
        // SAFETY: interrupts are masked around it (`run`); the caller
        // guarantees the state's layout and the landings, which return
        // here through the frame the fast path saved.
        Self::run(state, selector, resume, || unsafe { diff_ipc_call(state, selector) })
    }

    unsafe fn reply_wait(&mut self, state: *mut u8, resume: *const usize) -> Outcome {
        // SAFETY: as in `call`.
        Self::run(state, NOBODY, resume, || unsafe { diff_ipc_reply_wait(state) })
    }
}

fn parse(word: &str) -> Option<u64> {
    match word.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => word.parse().ok(),
    }
}

fn main() -> u32 {
    let mut buffer = [0u8; 128];
    let line = ferrode_board::cmdline(&mut buffer).unwrap_or("");
    let mut args = line.split_whitespace().skip(1).map(parse);
    let first = args.next().flatten().unwrap_or(1);
    let seeds = args.next().flatten().unwrap_or(SEEDS);
    let Some(diff) = DIFF.try_take() else { return exit_code::FAILURE };
    let mut mismatches = 0u32;
    for seed in first..first.saturating_add(seeds) {
        if let Err(mismatch) = diff.run(seed, OPS_PER_SEED, &mut Asm) {
            mismatches += 1;
            if mismatches <= 5 {
                println!("ipc-diff: mismatch: {mismatch}");
            }
        }
    }
    let s = diff.stats();
    println!(
        "ipc-diff: {} ops, {} by the fast path, {} fell back, {} mismatches",
        s.ops(),
        s.fast(),
        s.ops() - s.fast(),
        mismatches
    );
    println!(
        "ipc-diff: on {}: calls {} ({} by the fast path), replies {} ({} by the fast path), {} fall-backs on messages with capabilities, {} other operations, seeds {}..{}",
        BOARD_NAME,
        s.calls,
        s.calls_fast,
        s.replies,
        s.replies_fast,
        s.fell_back_with_caps,
        s.other,
        first,
        first.saturating_add(seeds)
    );
    if s.stale_dispatch > 0 {
        println!(
            "ipc-diff: note: after {} replies by the fast path the waiting server's received dispatcher differs from the Rust path's (not compared)",
            s.stale_dispatch
        );
    }
    let enough = s.calls_fast >= MIN_FAST && s.replies_fast >= MIN_FAST;
    if !enough {
        println!(
            "ipc-diff: too few calls or replies went through the fast path (at least {MIN_FAST} each needed)"
        );
    }
    if mismatches == 0 && enough { exit_code::SUCCESS } else { exit_code::FAILURE }
}
