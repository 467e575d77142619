//! A differential test of the IPC transitions: an architecture's
//! hand-written fast paths against the kernel's Rust paths. Not part of the
//! kernel's interface: `apps/ipc-diff` runs it on both boards.
//!
//! [`Diff::run`] builds two scratch kernel states in lockstep from one
//! seed, with the state machine's own operations (components, threads,
//! objects, delegation, signals), then drives a random sequence of calls,
//! replies, waits, revocations, signal submissions and waits, interrupts,
//! yields, deferred replies, delegations, take-backs and revocations of
//! copies, exits, reaping and component destruction through both, each
//! operation by whichever thread the state machine runs at that point. The
//! *Rust side* does every operation with the state machine (`State::call`,
//! `State::reply_and_wait`, ...). The *fast side* does the same, except
//! that every call and every reply goes first through the hand-written
//! path ([`FastPath`]) and through the Rust path only when that path fell
//! back (which is what the board's fall-backs do). Each side has its own
//! UTCBs; messages are random (0 to 64 words, sometimes capabilities,
//! sometimes counts beyond the UTCB) and written identically to both.
//!
//! # What must hold
//!
//! - A call or reply the fast path **took** leaves exactly the state and
//!   UTCBs the Rust path leaves, and switches to the thread the Rust path
//!   switches to.
//! - A call or reply the fast path **fell back on** changed nothing
//!   (compared before the Rust path runs), and is one the Rust fast path
//!   declines too or one that carries capabilities (the hand-written paths
//!   leave those to Rust), as [`crate::Arch::ipc_call`] states: otherwise
//!   the hand-written path would be slower than the Rust one for no reason.
//!
//! # What is compared, after every operation
//!
//! - The running thread, the ready bitmap, the thread found to have
//!   overflowed its stack.
//! - Every thread slot: state, priority, component, reply target, send
//!   queue head, saved stack pointer, UTCB (as an index into the side's
//!   UTCBs), name, signal count, stack bounds, and the received
//!   dispatcher, except for a thread in `Waiting`: that field means
//!   something only from a delivery until the server waits again, and
//!   every delivery writes it (differences there are counted in
//!   [`Stats::stale_dispatch`]).
//! - Every object slot (generation, liveness, entrypoint, owner,
//!   dispatcher), every capability slot of every component, every
//!   component slot (use, name, quota).
//! - Every word of every UTCB, used or not, including one UTCB past the
//!   last thread's, and guard words on both sides of the kernel state.
//!
//! The remaining fields are private to the state machine (send-queue links
//! and tails, the called object of a queued caller, deferred-reply state,
//! the ready queues' order, signals, components' counts, receive windows,
//! derivation records, the interrupt flags). The fast paths must not touch
//! them; since both sides go on in lockstep through operations that read
//! them, a stray write there shows up as a difference later in the
//! sequence.

use core::fmt;
use core::ptr::NonNull;

use ferrode_ipc::{CapSel, Dispatch, MSG_CAPS, MSG_WORDS, Utcb};

use crate::capspace::CapEntry;
use crate::ids::{ComponentId, Link, SignalId, ThreadId};
use crate::state::{
    CAP_SLOTS, MAX_COMPONENTS, MAX_OBJECTS, MAX_SIGNALS, MAX_THREADS, PRIORITIES, Quota, State,
    Switch, ThreadState, Window,
};

/// What a hand-written fast path did with one call or reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It switched to the thread with this index (its landing ran).
    Switched(usize),
    /// It tail-called its fall-back.
    FellBack,
    /// It returned without doing either, or did both (always a bug).
    Returned,
    /// It tail-called its fall-back with arguments other than its own
    /// (always a bug: the board's fall-back would do another call). The
    /// selector the fall-back got (`usize::MAX` for a reply's).
    FellBackWrongly(usize),
}

/// The hand-written fast path under test, run on the fast side's state.
pub trait FastPath {
    /// A stack pointer to store as thread `thread`'s saved one: switching
    /// to it must record that `thread` was switched to, then resume the
    /// stack pointer the fast path saved at `resume` (see
    /// [`FastPath::call`]), so that the fast path returns to its caller.
    /// Called before every call and reply for every thread in use.
    fn landing(&mut self, thread: usize) -> usize;

    /// Runs the hand-written call (as [`crate::Arch::ipc_call`]) on `state`,
    /// whose running thread's saved stack pointer is at `resume`.
    ///
    /// # Safety
    ///
    /// `state` is a kernel state laid out as [`crate::IPC_LAYOUT`] says,
    /// with no reference into it live, whose threads' saved stack pointers
    /// were made by [`FastPath::landing`].
    unsafe fn call(&mut self, state: *mut u8, selector: usize, resume: *const usize) -> Outcome;

    /// Runs the hand-written reply-and-wait (as
    /// [`crate::Arch::ipc_reply_wait`]) on `state`.
    ///
    /// # Safety
    ///
    /// As for [`FastPath::call`].
    unsafe fn reply_wait(&mut self, state: *mut u8, resume: *const usize) -> Outcome;
}

/// Counts over every [`Diff::run`] so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Seeds run.
    pub seeds: u32,
    /// Calls run through the fast path.
    pub calls: u32,
    /// ... of which it took (the rest fell back).
    pub calls_fast: u32,
    /// Replies run through the fast path.
    pub replies: u32,
    /// ... of which it took.
    pub replies_fast: u32,
    /// Fall-backs on messages with capabilities.
    pub fell_back_with_caps: u32,
    /// Other operations, done by the Rust code on both sides.
    pub other: u32,
    /// Replies the fast path took after which the waiting server's
    /// received dispatcher differs from the Rust path's (not compared: see
    /// the module docs).
    pub stale_dispatch: u32,
}

impl Stats {
    /// Calls and replies run through the fast path.
    pub fn ops(&self) -> u32 {
        self.calls + self.replies
    }

    /// Of those, taken by the fast path.
    pub fn fast(&self) -> u32 {
        self.calls_fast + self.replies_fast
    }
}

/// The operation a mismatch happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// `call`, `reply`, or the other operation's name.
    pub name: &'static str,
    /// The running thread before it.
    pub thread: usize,
    /// The selector called (calls only).
    pub selector: u32,
    /// The message's word and capability counts (calls and replies).
    pub words: u32,
    /// See `words`.
    pub caps: u32,
}

/// The first difference found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The seed of the sequence (rerun it alone to reproduce).
    pub seed: u64,
    /// The operation's index in the sequence.
    pub step: u32,
    /// The operation.
    pub op: Op,
    /// What differs, e.g. `utcb word` or `thread reply_to`.
    pub field: &'static str,
    /// Which thread, object, slot or word.
    pub index: usize,
    /// The Rust side's value.
    pub rust: usize,
    /// The fast side's value.
    pub fast: usize,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = &self.op;
        write!(f, "seed {:#x} step {} ({} by thread {}", self.seed, self.step, op.name, op.thread)?;
        if op.name == "call" {
            write!(f, ", selector {}", op.selector)?;
        }
        if op.name == "call" || op.name == "reply" {
            write!(f, ", {} words, {} caps", op.words, op.caps)?;
        }
        write!(
            f,
            "): {} [{}]: rust {:#x}, fast path {:#x}",
            self.field, self.index, self.rust, self.fast
        )
    }
}

/// A difference, before it is placed in its sequence.
struct Difference {
    field: &'static str,
    index: usize,
    rust: usize,
    fast: usize,
}

fn differ(field: &'static str, index: usize, rust: usize, fast: usize) -> Result<(), Difference> {
    if rust == fast { Ok(()) } else { Err(Difference { field, index, rust, fast }) }
}

/// The set-up itself failed (the same way on both sides).
fn set_up_failed(what: &'static str) -> Difference {
    Difference { field: what, index: 0, rust: 0, fast: 0 }
}

const GUARD_WORDS: usize = 8;
const GUARD: usize = 0x6a09_e667;
/// One UTCB more than threads: no thread owns the last one, so a copy that
/// runs past the end of a thread's UTCB shows as a difference too.
const UTCBS: usize = MAX_THREADS + 1;

/// One side: a kernel state between guard words, and its threads' UTCBs.
#[repr(C)]
struct Side {
    guard_before: [usize; GUARD_WORDS],
    state: State,
    guard_after: [usize; GUARD_WORDS],
    utcbs: [Utcb; UTCBS],
}

impl Side {
    const fn new() -> Self {
        Self {
            guard_before: [GUARD; GUARD_WORDS],
            state: State::new(),
            guard_after: [GUARD; GUARD_WORDS],
            utcbs: [const { Utcb::new() }; UTCBS],
        }
    }

    fn utcb(&mut self, index: usize) -> *mut Utcb {
        &raw mut self.utcbs[index]
    }

    /// Which of this side's UTCBs `utcb` is (`usize::MAX` for none).
    fn utcb_index(&self, utcb: *mut Utcb) -> usize {
        let base = self.utcbs.as_ptr() as usize;
        let offset = (utcb as usize).wrapping_sub(base);
        if offset < size_of::<[Utcb; UTCBS]>() { offset / size_of::<Utcb>() } else { usize::MAX }
    }

    fn current_utcb(&mut self) -> &mut Utcb {
        let index = self.utcb_index(self.state.threads[self.state.current.index()].utcb);
        &mut self.utcbs[index]
    }
}

/// Stand-ins for the objects' dispatchers, never called: only the
/// dispatcher pointers (address and vtable, two words the fast paths copy)
/// are compared. Distinct statics have distinct addresses, and the two
/// types (of different sizes, so their vtables cannot be merged) have
/// distinct vtables, so a fast path that copies only one of the two words
/// leaves a difference.
struct Even(#[allow(dead_code, reason = "gives each stand-in its address and size")] u8);
struct Odd(#[allow(dead_code, reason = "as for `Even`")] u16);

impl Dispatch for Even {
    unsafe fn dispatch(&mut self, _: NonNull<Utcb>) {
        unreachable!("the differential test dispatches nothing");
    }
}

impl Dispatch for Odd {
    unsafe fn dispatch(&mut self, _: NonNull<Utcb>) {
        unreachable!("the differential test dispatches nothing");
    }
}

static EVEN: [Even; MAX_OBJECTS / 2] = [const { Even(0) }; MAX_OBJECTS / 2];
static ODD: [Odd; MAX_OBJECTS / 2] = [const { Odd(0) }; MAX_OBJECTS / 2];

/// Stand-in `index` (modulo [`MAX_OBJECTS`]). Never dereferenced: the
/// kernel state only stores and copies it.
fn dispatcher(index: usize) -> NonNull<dyn Dispatch> {
    let index = index % MAX_OBJECTS;
    if index.is_multiple_of(2) {
        NonNull::from(&EVEN[index / 2])
    } else {
        NonNull::from(&ODD[index / 2])
    }
}

/// Whether two dispatchers are the same object through the same vtable.
fn same_dispatch(a: Option<NonNull<dyn Dispatch>>, b: Option<NonNull<dyn Dispatch>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => core::ptr::eq(a.as_ptr(), b.as_ptr()),
        _ => false,
    }
}

/// A dispatcher as one number, for the report: 0 for none, 1 + the index
/// of the stand-in it is, `usize::MAX` for anything else (a torn pointer).
fn dispatch_code(dispatch: Option<NonNull<dyn Dispatch>>) -> usize {
    let Some(pointer) = dispatch else { return 0 };
    (0..MAX_OBJECTS)
        .find(|&index| same_dispatch(Some(pointer), Some(dispatcher(index))))
        .map_or(usize::MAX, |index| index + 1)
}

/// Compares two dispatchers (both words).
fn differ_dispatch(
    field: &'static str,
    index: usize,
    rust: Option<NonNull<dyn Dispatch>>,
    fast: Option<NonNull<dyn Dispatch>>,
) -> Result<(), Difference> {
    if same_dispatch(rust, fast) {
        Ok(())
    } else {
        Err(Difference { field, index, rust: dispatch_code(rust), fast: dispatch_code(fast) })
    }
}

/// Receive windows for the objects: none, every slot, or depending on the
/// label and direction (so requests and replies with capabilities are
/// sometimes refused, sometimes transferred).
const WINDOWS: [Window; 3] = [window_none, window_all, window_by_label];

fn window_none(_: usize, _: bool) -> usize {
    0
}

fn window_all(_: usize, _: bool) -> usize {
    MSG_CAPS
}

fn window_by_label(label: usize, reply: bool) -> usize {
    (label ^ usize::from(reply)) % (MSG_CAPS + 1)
}

/// xorshift64*: small, no_std, and the same sequence on every target.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // splitmix64 of the seed, so that neighbouring seeds diverge at once.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Self((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn word(&mut self) -> usize {
        (self.next() >> 32) as usize
    }

    /// 0 .. n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 32) % n as u64) as usize
    }

    fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }
}

/// A random message, written to the running thread's UTCB on both sides.
struct Message {
    label: usize,
    badge: usize,
    word_count: u32,
    cap_count: u32,
    error: u32,
    words: [usize; MSG_WORDS],
    caps: [CapSel; MSG_CAPS],
}

impl Message {
    fn write(&self, utcb: &mut Utcb) {
        utcb.label = self.label;
        utcb.badge = self.badge;
        utcb.word_count = self.word_count;
        utcb.cap_count = self.cap_count;
        utcb.error = self.error;
        utcb.words = self.words;
        utcb.caps = self.caps;
    }
}

/// The differential test's two sides and its counts. About 20 KiB: keep
/// it in a static.
pub struct Diff {
    rust: Side,
    fast: Side,
    rng: Rng,
    seed: u64,
    step: u32,
    utcbs_used: usize,
    components: usize,
    /// Each component's quota priority (its threads' highest).
    priorities: [u8; MAX_COMPONENTS],
    idle: ThreadId,
    stats: Stats,
}

// SAFETY: the pointers in the two states point into the `Diff` itself (its
// UTCBs, rebuilt by every `run`) or at statics (the dispatchers); nothing in
// it belongs to one thread of execution.
unsafe impl Send for Diff {}

impl Default for Diff {
    fn default() -> Self {
        Self::new()
    }
}

impl Diff {
    /// Two empty sides.
    pub const fn new() -> Self {
        Self {
            rust: Side::new(),
            fast: Side::new(),
            rng: Rng(1),
            seed: 0,
            step: 0,
            utcbs_used: 0,
            components: 1,
            priorities: [1; MAX_COMPONENTS],
            idle: ThreadId(0),
            stats: Stats {
                seeds: 0,
                calls: 0,
                calls_fast: 0,
                replies: 0,
                replies_fast: 0,
                fell_back_with_caps: 0,
                other: 0,
                stale_dispatch: 0,
            },
        }
    }

    /// The counts so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Builds a random system from `seed` and runs it until `ipc_ops`
    /// calls and replies have gone through `fast` (or nothing can run any
    /// more), comparing both sides after every operation. Returns the
    /// first difference.
    pub fn run(
        &mut self,
        seed: u64,
        ipc_ops: u32,
        fast: &mut impl FastPath,
    ) -> Result<(), Mismatch> {
        self.stats.seeds += 1;
        self.seed = seed;
        self.step = 0;
        self.rng = Rng::new(seed);
        let setup = Op { name: "set-up", thread: 0, selector: 0, words: 0, caps: 0 };
        self.build().map_err(|d| self.mismatch(setup, d))?;
        let mut done = 0;
        let mut idle_steps = 0;
        // Bounded: every step is an operation, and idle steps end the run.
        for _ in 0..ipc_ops.saturating_mul(16) {
            if done >= ipc_ops || idle_steps > 32 {
                break;
            }
            let current = self.rust.state.current;
            let op = Op { name: "", thread: current.index(), selector: 0, words: 0, caps: 0 };
            let (op, result) = if current == self.idle {
                idle_steps += 1;
                self.interrupt(op)
            } else {
                idle_steps = 0;
                self.step(op, fast, &mut done)
            };
            result.map_err(|d| self.mismatch(op, d))?;
            self.compare().map_err(|d| self.mismatch(op, d))?;
            self.step += 1;
        }
        Ok(())
    }

    fn mismatch(&self, op: Op, d: Difference) -> Mismatch {
        Mismatch {
            seed: self.seed,
            step: self.step,
            op,
            field: d.field,
            index: d.index,
            rust: d.rust,
            fast: d.fast,
        }
    }

    /// Applies one Rust operation to both sides; their results must agree.
    fn both<T: PartialEq>(
        &mut self,
        mut operation: impl FnMut(&mut Side) -> T,
    ) -> Result<T, Difference> {
        let rust = operation(&mut self.rust);
        let fast = operation(&mut self.fast);
        if rust == fast {
            Ok(rust)
        } else {
            Err(Difference { field: "result of the Rust operation", index: 0, rust: 0, fast: 1 })
        }
    }

    fn next_utcb(&mut self) -> usize {
        let index = self.utcbs_used;
        self.utcbs_used += 1;
        index
    }

    /// A fresh pair of states: components, threads, objects (with
    /// capabilities delegated around) and signals, the same on both sides.
    fn build(&mut self) -> Result<(), Difference> {
        for side in [&mut self.rust, &mut self.fast] {
            side.state = State::new();
        }
        // Junk in every UTCB (the same on both sides): a path that copies
        // too little or too much leaves a difference.
        for index in 0..UTCBS {
            let message = self.message(false);
            message.write(&mut self.rust.utcbs[index]);
            message.write(&mut self.fast.utcbs[index]);
        }
        self.utcbs_used = 0;
        let main_priority = 2 + self.rng.below(PRIORITIES - 3) as u8;
        let utcb = self.next_utcb();
        let root = self
            .both(|side| {
                let utcb = side.utcb(utcb);
                side.state.init("root", main_priority, utcb)
            })?
            .map_err(|_| set_up_failed("root component"))?;
        let utcb = self.next_utcb();
        let idle = self.both(|side| {
            let utcb = side.utcb(utcb);
            side.state.add_thread(root, "idle", 0, 0, utcb, (0, 0), true)
        })?;
        self.idle = idle.map_err(|_| set_up_failed("idle thread"))?;
        // The root creates the other components (and so holds a component
        // capability to each: it builds the rest on their behalf).
        self.priorities[0] = main_priority;
        let count = 1 + self.rng.below(3);
        for index in 1..count {
            let priority =
                (main_priority + self.rng.below(3) as u8 - 1).clamp(1, PRIORITIES as u8 - 1);
            let caps = if self.rng.percent(80) {
                CAP_SLOTS as u8
            } else {
                4 + self.rng.below(CAP_SLOTS - 4) as u8
            };
            let quota = Quota {
                caps,
                threads: MAX_THREADS as u8,
                objects: 8,
                signals: 4,
                components: 0,
                priority,
            };
            // The first free slots, in order: components 0 .. count.
            let _ = self.both(|side| side.state.create_component("c", quota))?;
            self.priorities[index] = priority;
        }
        self.components = count;
        let threads = 3 + self.rng.below(MAX_THREADS - 4);
        for _ in 0..threads {
            let component = self.random_component();
            let highest = self.priorities[component.index()];
            let priority = if highest > 1 && self.rng.percent(30) { highest - 1 } else { highest };
            let utcb = self.next_utcb();
            let _ = self.both(|side| {
                let utcb = side.utcb(utcb);
                side.state.add_thread(component, "t", priority, 0, utcb, (0, 0), false)
            })?;
        }
        for index in 0..1 + self.rng.below(10) {
            self.create_object(index)?;
        }
        for _ in 0..self.rng.below(4) {
            if let Ok((_, selector)) = self.both(|side| side.state.create_signal())? {
                let to = self.random_component();
                let _ = self.both(|side| side.state.delegate(root, selector, to))?;
            }
        }
        self.compare()
    }

    /// An object served by a random thread (not idle), created by the
    /// running thread's component (which needs authority over the
    /// server's), its capability often delegated to another component.
    fn create_object(&mut self, index: usize) -> Result<(), Difference> {
        let server = ThreadId(self.rng.below(self.utcbs_used) as u8);
        if server == self.idle {
            return Ok(());
        }
        let window = WINDOWS[self.rng.below(WINDOWS.len())];
        let created =
            self.both(|side| side.state.create_object(server, dispatcher(index), window))?;
        if let Ok((_, selector)) = created
            && self.rng.percent(70)
        {
            let actor = self.rust.state.actor();
            let to = self.random_component();
            let _ = self.both(|side| side.state.delegate(actor, selector, to))?;
        }
        Ok(())
    }

    /// One of the components (they are made first, in order).
    fn random_component(&mut self) -> ComponentId {
        ComponentId(self.rng.below(self.components) as u8)
    }

    /// A random message: mostly short, often all 64 words, sometimes with
    /// capabilities, sometimes with counts beyond the UTCB.
    fn message(&mut self, reply: bool) -> Message {
        let rng = &mut self.rng;
        let word_count = match rng.below(100) {
            0..40 => rng.below(5) as u32,
            40..65 => 5 + rng.below(MSG_WORDS - 5) as u32,
            65..85 => MSG_WORDS as u32,
            85..95 => rng.below(MSG_WORDS + 1) as u32,
            _ => [MSG_WORDS as u32 + 1, MSG_WORDS as u32 + 2, 255, 0x8000_0000, u32::MAX]
                [rng.below(5)],
        };
        let cap_count = match rng.below(100) {
            0..88 => 0,
            88..97 => 1 + rng.below(MSG_CAPS) as u32,
            _ => [MSG_CAPS as u32 + 1, 255, u32::MAX][rng.below(3)],
        };
        let error = if reply && rng.percent(70) { 0 } else { rng.word() as u32 };
        let mut words = [0; MSG_WORDS];
        for word in &mut words {
            *word = rng.word();
        }
        let mut caps = [CapSel::INVALID; MSG_CAPS];
        for cap in &mut caps {
            *cap = match rng.below(10) {
                0 => CapSel::INVALID,
                1 => CapSel(rng.word() as u32),
                _ => CapSel(rng.below(CAP_SLOTS) as u32),
            };
        }
        Message { label: rng.word(), badge: rng.word(), word_count, cap_count, error, words, caps }
    }

    /// A selector of the running thread's component: mostly one that holds
    /// a capability of kind `want` (see [`cap_kind`]), sometimes anything
    /// (empty, another kind, a tombstone, out of range).
    fn selector(&mut self, want: usize) -> CapSel {
        let state = &self.rust.state;
        let component = state.actor().index();
        let tag_matches = |entry: &CapEntry| cap_kind(entry) == want;
        let matching = state.caps[component].slots.iter().filter(|e| tag_matches(e)).count();
        if matching > 0 && self.rng.percent(85) {
            let pick = self.rng.below(matching);
            let index = state.caps[component]
                .slots
                .iter()
                .enumerate()
                .filter(|(_, e)| tag_matches(e))
                .nth(pick)
                .map_or(0, |(i, _)| i);
            return CapSel(index as u32);
        }
        match self.rng.below(4) {
            0 => CapSel::INVALID,
            1 => CapSel((CAP_SLOTS + self.rng.below(64)) as u32),
            _ => CapSel(self.rng.below(CAP_SLOTS) as u32),
        }
    }

    /// One operation by the running thread (not idle), chosen by its role.
    fn step(
        &mut self,
        mut op: Op,
        fast: &mut impl FastPath,
        done: &mut u32,
    ) -> (Op, Result<(), Difference>) {
        let state = &self.rust.state;
        let me = &state.threads[state.current.index()];
        let serving = me.reply_to.is_some();
        let entrypoint = state.objects.iter().any(|o| o.live && o.entrypoint == state.current);
        let table = if serving {
            SERVING
        } else if entrypoint {
            ENTRYPOINT
        } else {
            CLIENT
        };
        let total = table.iter().map(|(_, weight)| weight).sum();
        let mut roll = self.rng.below(total);
        let mut name = "exit";
        for (candidate, weight) in table {
            if roll < *weight {
                name = candidate;
                break;
            }
            roll -= weight;
        }
        op.name = name;
        let result = match name {
            "call" | "reply" => {
                *done += 1;
                self.ipc(&mut op, fast)
            }
            _ => {
                self.stats.other += 1;
                self.other(name)
            }
        };
        (op, result)
    }

    /// What the idle thread's time is for: an interrupt (a signal
    /// submitted from it, or a tick), then the interrupt exit's switch.
    fn interrupt(&mut self, mut op: Op) -> (Op, Result<(), Difference>) {
        self.stats.other += 1;
        // Mostly one of the few signals the set-up made.
        let range = if self.rng.percent(80) { 4 } else { MAX_SIGNALS };
        let signal = SignalId(self.rng.below(range) as u8);
        let badge = self.rng.below(usize::from(crate::MAX_BADGE) + 1) as u8;
        let tick = self.rng.percent(30);
        op.name = if tick { "tick" } else { "interrupt" };
        let result = self.both(|side| {
            if tick {
                side.state.tick_from_interrupt();
            } else {
                side.state.submit_signal_deferred(signal, badge);
            }
            side.state.interrupt_exit()
        });
        (op, result.map(drop))
    }

    /// The operations both sides do in Rust.
    fn other(&mut self, name: &str) -> Result<(), Difference> {
        let actor = self.rust.state.actor();
        match name {
            "wait" => self.both(|side| side.state.reply_and_wait(false)).map(drop),
            "revoke" => {
                let selector = self.selector(KIND_OBJECT);
                self.both(|side| side.state.revoke(selector)).map(drop)
            }
            "submit" => {
                let selector = self.selector(KIND_SIGNAL);
                self.both(|side| side.state.submit(selector)).map(drop)
            }
            "wait for signal" => {
                let selector = self.selector(KIND_SIGNAL);
                self.both(|side| side.state.wait_signal(selector)).map(drop)
            }
            "yield" => self.both(|side| side.state.yield_now()).map(drop),
            "delegate" => {
                let want = [KIND_OBJECT, KIND_SIGNAL, KIND_COMPONENT][self.rng.below(3)];
                let selector = self.selector(want);
                let to = if self.rng.percent(90) {
                    self.random_component()
                } else {
                    ComponentId(self.rng.below(MAX_COMPONENTS) as u8)
                };
                self.both(|side| side.state.delegate(actor, selector, to)).map(drop)
            }
            "revoke copies" => {
                let want = [KIND_OBJECT, KIND_SIGNAL][self.rng.below(2)];
                let selector = self.selector(want);
                self.both(|side| side.state.revoke_copies(selector)).map(drop)
            }
            "take back" => {
                let to = self.random_component();
                self.both(|side| side.state.take_back(actor, to)).map(drop)
            }
            "create object" => {
                let index = self.rng.below(MAX_OBJECTS);
                self.create_object(index)
            }
            "create signal" => self.both(|side| side.state.create_signal()).map(drop),
            "drop capability" => {
                let selector = CapSel(self.rng.below(CAP_SLOTS) as u32);
                self.both(|side| side.state.drop_capability(selector)).map(drop)
            }
            "defer reply" => self.both(|side| side.state.defer_reply()).map(drop),
            "reply deferred" => {
                let selector = self.selector(KIND_REPLY);
                // The reply is the message in the UTCB, as for a reply.
                let message = self.message(true);
                message.write(self.rust.current_utcb());
                message.write(self.fast.current_utcb());
                self.both(|side| side.state.reply_deferred(selector)).map(drop)
            }
            "destroy component" => {
                let component = self.random_component();
                self.both(|side| side.state.destroy_component(component)).map(drop)
            }
            "reap" => {
                let thread = ThreadId(self.rng.below(self.utcbs_used) as u8);
                self.both(|side| {
                    let reaped = side.state.reap(thread);
                    reaped.map(|(base, len, utcb)| (base, len, side.utcb_index(utcb)))
                })
                .map(drop)
            }
            _ => self.both(|side| side.state.exit_current()).map(drop),
        }
    }

    /// A call or reply: through the fast path on the fast side (and the
    /// Rust path if it fell back), through the Rust path on the Rust side.
    fn ipc(&mut self, op: &mut Op, fast: &mut impl FastPath) -> Result<(), Difference> {
        let call = op.name == "call";
        let message = self.message(!call);
        message.write(self.rust.current_utcb());
        message.write(self.fast.current_utcb());
        let selector = if call { self.selector(KIND_OBJECT) } else { CapSel(0) };
        (op.selector, op.words, op.caps) = (selector.0, message.word_count, message.cap_count);
        let fast_case = if call {
            rust_fast_takes_call(&self.rust.state, selector)
        } else {
            rust_fast_takes_reply(&self.rust.state)
        };
        let carries_caps = message.cap_count != 0;
        let from = self.rust.state.current;

        // Every thread's saved stack pointer leads to its landing; the
        // running thread's is 0 until the fast path saves the real one.
        for index in 0..MAX_THREADS {
            if self.rust.state.threads[index].state != ThreadState::Free {
                let sp = fast.landing(index);
                self.rust.state.threads[index].sp = sp;
                self.fast.state.threads[index].sp = sp;
            }
        }
        self.fast.state.threads[from.index()].sp = 0;
        let state = &raw mut self.fast.state;
        // SAFETY: in bounds of the state; no reference into it is live
        // while the fast path runs; the saved stack pointers are landings.
        let outcome = unsafe {
            let resume = &raw const (*state).threads.0[from.index()].sp;
            if call {
                fast.call(state.cast(), selector.0 as usize, resume)
            } else {
                fast.reply_wait(state.cast(), resume)
            }
        };
        let saved_sp = core::mem::replace(
            &mut self.fast.state.threads[from.index()].sp,
            self.rust.state.threads[from.index()].sp,
        );
        let took = u32::from(matches!(outcome, Outcome::Switched(_)));
        if call {
            self.stats.calls += 1;
            self.stats.calls_fast += took;
        } else {
            self.stats.replies += 1;
            self.stats.replies_fast += took;
        }
        let rust_switch = match outcome {
            Outcome::Returned => {
                return Err(Difference {
                    field: "fast path returned without switching or falling back",
                    index: 0,
                    rust: 0,
                    fast: 0,
                });
            }
            Outcome::FellBackWrongly(got) => {
                let given = if call { selector.0 as usize } else { usize::MAX };
                return Err(Difference {
                    field: "fall-back's arguments (selector shown)",
                    index: from.index(),
                    rust: given,
                    fast: got,
                });
            }
            Outcome::FellBack => {
                if fast_case && !carries_caps {
                    return Err(Difference {
                        field: "fast path fell back on a case the Rust fast path takes",
                        index: from.index(),
                        rust: 1,
                        fast: 0,
                    });
                }
                self.stats.fell_back_with_caps += u32::from(carries_caps);
                differ(
                    "saved stack pointer of the running thread (fell back)",
                    from.index(),
                    0,
                    saved_sp,
                )?;
                // Nothing changed: the fast side still equals the Rust
                // side, which has not run yet.
                self.compare()?;
                self.both(|side| rust_ipc(&mut side.state, call, selector))?
            }
            Outcome::Switched(to) => {
                differ(
                    "saved stack pointer of the running thread is 0",
                    from.index(),
                    1,
                    usize::from(saved_sp != 0),
                )?;
                let rust_switch = rust_ipc(&mut self.rust.state, call, selector);
                let rust_to =
                    rust_switch.filter(|s| s.from == from).map_or(usize::MAX, |s| s.to.index());
                differ("thread switched to", from.index(), rust_to, to)?;
                rust_switch
            }
        };
        if let Some(Switch { from, .. }) = rust_switch
            && !call
            && outcome != Outcome::FellBack
        {
            let (rust, fast) =
                (&self.rust.state.threads[from.index()], &self.fast.state.threads[from.index()]);
            self.stats.stale_dispatch +=
                u32::from(!same_dispatch(rust.received_dispatch, fast.received_dispatch));
        }
        Ok(())
    }

    /// Every meaningful field of both sides (see the module docs).
    fn compare(&self) -> Result<(), Difference> {
        let (r, f) = (&self.rust, &self.fast);
        for index in 0..GUARD_WORDS {
            differ("guard before the state", index, r.guard_before[index], f.guard_before[index])?;
            differ("guard after the state", index, r.guard_after[index], f.guard_after[index])?;
        }
        let (rs, fs) = (&r.state, &f.state);
        // On the host, the state machine's own bookkeeping is checked too.
        #[cfg(test)]
        rs.check_slot_masks();
        differ("current thread", 0, rs.current.index(), fs.current.index())?;
        differ("initialised", 0, rs.initialised.into(), fs.initialised.into())?;
        differ("ready bitmap", 0, rs.ready.nonempty as usize, fs.ready.nonempty as usize)?;
        differ("overflowed stack", 0, link(rs.overflowed), link(fs.overflowed))?;
        for (index, (rt, ft)) in rs.threads.iter().zip(&fs.threads).enumerate() {
            differ("thread state", index, rt.state as usize, ft.state as usize)?;
            differ("thread priority", index, rt.priority.into(), ft.priority.into())?;
            differ("thread component", index, rt.component.index(), ft.component.index())?;
            differ("thread reply_to", index, link(rt.reply_to), link(ft.reply_to))?;
            differ("thread sendq_head", index, link(rt.sendq_head), link(ft.sendq_head))?;
            differ("thread saved sp", index, rt.sp, ft.sp)?;
            differ("thread utcb", index, r.utcb_index(rt.utcb), f.utcb_index(ft.utcb))?;
            differ("thread name", index, name(rt.name), name(ft.name))?;
            differ(
                "thread signal_count",
                index,
                rt.signal_count as usize,
                ft.signal_count as usize,
            )?;
            differ(
                "thread signal_badges",
                index,
                rt.signal_badges as usize,
                ft.signal_badges as usize,
            )?;
            differ("thread stack_base", index, rt.stack_base, ft.stack_base)?;
            differ("thread stack_len", index, rt.stack_len, ft.stack_len)?;
            if rt.state != ThreadState::Waiting {
                differ_dispatch(
                    "thread received_dispatch (stand-in + 1)",
                    index,
                    rt.received_dispatch,
                    ft.received_dispatch,
                )?;
            }
        }
        for (index, (ro, fo)) in rs.objects.iter().zip(&fs.objects).enumerate() {
            differ("object generation", index, ro.generation as usize, fo.generation as usize)?;
            differ("object live", index, ro.live.into(), fo.live.into())?;
            differ("object entrypoint", index, ro.entrypoint.index(), fo.entrypoint.index())?;
            differ("object owner", index, ro.owner.index(), fo.owner.index())?;
            differ_dispatch("object dispatch (stand-in + 1)", index, ro.dispatch, fo.dispatch)?;
        }
        for (component, (rc, fc)) in rs.caps.iter().zip(&fs.caps).enumerate() {
            for (slot, (re, fe)) in rc.slots.iter().zip(&fc.slots).enumerate() {
                if re != fe {
                    let index = component * CAP_SLOTS + slot;
                    return Err(Difference {
                        field: "capability (component * 32 + slot)",
                        index,
                        rust: cap_code(re),
                        fast: cap_code(fe),
                    });
                }
            }
        }
        for (index, (rc, fc)) in rs.components.iter().zip(&fs.components).enumerate() {
            differ("component used", index, rc.used.into(), fc.used.into())?;
            differ("component name", index, name(rs.names[index]), name(fs.names[index]))?;
            if rc.quota != fc.quota {
                return Err(Difference {
                    field: "component quota",
                    index,
                    rust: quota_code(&rc.quota),
                    fast: quota_code(&fc.quota),
                });
            }
        }
        for (index, (ru, fu)) in r.utcbs.iter().zip(&f.utcbs).enumerate() {
            differ("utcb label", index, ru.label, fu.label)?;
            differ("utcb badge", index, ru.badge, fu.badge)?;
            differ("utcb word_count", index, ru.word_count as usize, fu.word_count as usize)?;
            differ("utcb cap_count", index, ru.cap_count as usize, fu.cap_count as usize)?;
            differ("utcb error", index, ru.error as usize, fu.error as usize)?;
            for (word, (rw, fw)) in ru.words.iter().zip(&fu.words).enumerate() {
                differ("utcb word (utcb * 100 + word)", index * 100 + word, *rw, *fw)?;
            }
            for (cap, (rc, fc)) in ru.caps.iter().zip(&fu.caps).enumerate() {
                differ(
                    "utcb cap (utcb * 100 + slot)",
                    index * 100 + cap,
                    rc.0 as usize,
                    fc.0 as usize,
                )?;
            }
        }
        Ok(())
    }
}

/// The Rust path of a call or reply, as the kernel runs it (a refused call
/// gets its error reply).
fn rust_ipc(state: &mut State, call: bool, selector: CapSel) -> Option<Switch> {
    if !call {
        return state.reply_and_wait(true);
    }
    match state.call(selector) {
        Ok(switch) => switch,
        Err(error) => {
            state.fail_current_call(error);
            None
        }
    }
}

/// The cases the Rust fast path takes for a call without capabilities,
/// as [`crate::Arch::ipc_call`] states them: a live object whose
/// entrypoint waits, counts within the UTCB.
fn rust_fast_takes_call(state: &State, selector: CapSel) -> bool {
    let caller = &state.threads[state.current.index()];
    let CapEntry::Object { object, generation } =
        state.caps[caller.component.index()].get(selector)
    else {
        return false;
    };
    let target = &state.objects[object.index()];
    // SAFETY: the caller's UTCB, one of this side's; nothing else uses it.
    let utcb = unsafe { &*caller.utcb };
    target.live
        && target.generation == generation
        && state.threads[target.entrypoint.index()].state == ThreadState::Waiting
        && utcb.word_count as usize <= MSG_WORDS
        && utcb.cap_count == 0
}

/// The cases the Rust fast path takes for a reply without capabilities
/// ([`crate::Arch::ipc_reply_wait`]): a caller awaiting the reply that no
/// ready thread outranks, nothing queued, counts within the UTCB, no
/// error code.
fn rust_fast_takes_reply(state: &State) -> bool {
    let server = &state.threads[state.current.index()];
    let Some(caller) = server.reply_to.get() else { return false };
    let caller = &state.threads[caller.index()];
    // SAFETY: as in `rust_fast_takes_call`.
    let utcb = unsafe { &*server.utcb };
    !server.sendq_head.is_some()
        && caller.state == ThreadState::AwaitingReply
        && state.ready.highest().is_none_or(|best| best <= caller.priority)
        && utcb.word_count as usize <= MSG_WORDS
        && utcb.cap_count == 0
        && utcb.error == 0
}

/// A name's address (0 for none).
fn name(name: Option<&'static str>) -> usize {
    name.map_or(0, |name| name.as_ptr() as usize)
}

fn link(link: Link) -> usize {
    link.raw().into()
}

/// A capability slot as one number, for the report: tag, object or
/// signal, and the generation's low half.
fn cap_code(entry: &CapEntry) -> usize {
    let (a, b) = match *entry {
        CapEntry::Empty | CapEntry::Revoked => (0, 0),
        CapEntry::Object { object, generation } => (object.index(), generation as usize),
        CapEntry::Signal { signal, wait, generation, .. } => {
            (signal.index() | usize::from(wait) << 7, generation as usize)
        }
        CapEntry::Component { component, generation } => (component.index(), generation as usize),
        CapEntry::Reply { thread, object, seq } => {
            (thread.index() | object.index() << 4, seq as usize)
        }
    };
    cap_kind(entry) | a << 4 | (b & 0xffff) << 16
}

const KIND_OBJECT: usize = 1;
const KIND_SIGNAL: usize = 2;
const KIND_COMPONENT: usize = 3;
const KIND_REPLY: usize = 4;

/// What kind of capability a slot holds (its tag).
fn cap_kind(entry: &CapEntry) -> usize {
    match entry {
        CapEntry::Empty => 0,
        CapEntry::Object { .. } => KIND_OBJECT,
        CapEntry::Signal { .. } => KIND_SIGNAL,
        CapEntry::Component { .. } => KIND_COMPONENT,
        CapEntry::Reply { .. } => KIND_REPLY,
        CapEntry::Revoked => 5,
    }
}

/// A quota as one number, for the report (capability slots, threads,
/// objects, priority; signals and children only in the comparison).
fn quota_code(quota: &Quota) -> usize {
    usize::from(quota.caps)
        | usize::from(quota.threads) << 8
        | usize::from(quota.objects) << 16
        | usize::from(quota.priority) << 24
}

/// What a thread does next, by its role, with weights: a server serving a
/// request, an entrypoint without one, any other thread.
const SERVING: &[(&str, usize)] = &[
    ("reply", 70),
    ("call", 10),
    ("defer reply", 4),
    ("reply deferred", 2),
    ("revoke", 2),
    ("submit", 3),
    ("wait for signal", 1),
    ("yield", 2),
    ("delegate", 2),
    ("take back", 1),
    ("revoke copies", 1),
    ("create object", 1),
    ("drop capability", 1),
    ("exit", 1),
];
const ENTRYPOINT: &[(&str, usize)] = &[
    ("wait", 40),
    ("call", 25),
    ("reply", 3),
    ("reply deferred", 4),
    ("revoke", 2),
    ("submit", 5),
    ("wait for signal", 3),
    ("yield", 4),
    ("delegate", 4),
    ("take back", 1),
    ("revoke copies", 1),
    ("create object", 3),
    ("create signal", 1),
    ("drop capability", 2),
    ("destroy component", 1),
    ("reap", 1),
    ("exit", 1),
];
const CLIENT: &[(&str, usize)] = &[
    ("call", 58),
    ("wait", 4),
    ("reply", 3),
    ("reply deferred", 2),
    ("revoke", 2),
    ("submit", 6),
    ("wait for signal", 5),
    ("yield", 4),
    ("delegate", 5),
    ("take back", 1),
    ("revoke copies", 1),
    ("create object", 4),
    ("create signal", 1),
    ("drop capability", 3),
    ("destroy component", 1),
    ("reap", 1),
    ("exit", 1),
];

#[cfg(test)]
mod tests {
    use std::boxed::Box;

    use super::*;

    /// A stand-in for a hand-written fast path: the Rust paths on the fast
    /// side's state where the contract says a fast path goes through, with
    /// an optional planted bug.
    struct Model {
        bug: Option<Bug>,
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Bug {
        /// The request arrives with the wrong badge.
        Badge,
        /// Never takes anything.
        AlwaysFallsBack,
        /// Writes into another thread's saved stack pointer.
        StraySp,
        /// Copies the dispatcher's address but not its vtable.
        TornDispatch,
        /// Does not record whom the server is to answer.
        NoReplyTarget,
    }

    impl Model {
        fn run(
            &mut self,
            state: *mut u8,
            call: bool,
            selector: usize,
            resume: *const usize,
        ) -> Outcome {
            // SAFETY: the harness passes its fast side's state, with no
            // reference into it live.
            let state = unsafe { &mut *state.cast::<State>() };
            let selector = CapSel(selector as u32);
            let takes = if call {
                rust_fast_takes_call(state, selector)
            } else {
                rust_fast_takes_reply(state)
            };
            if !takes || self.bug == Some(Bug::AlwaysFallsBack) {
                return Outcome::FellBack;
            }
            let Some(switch) = rust_ipc(state, call, selector) else { return Outcome::Returned };
            // The fast path saves the stack pointer of the thread it leaves.
            assert_eq!(resume, &raw const state.threads[switch.from.index()].sp);
            state.threads[switch.from.index()].sp = 0x1234;
            if self.bug == Some(Bug::Badge) && call {
                // SAFETY: the server's UTCB, one of the harness's.
                unsafe { (*state.threads[switch.to.index()].utcb).badge += 1 };
            }
            if self.bug == Some(Bug::TornDispatch) && call {
                let server = &mut state.threads[switch.to.index()];
                if let Some(dispatch) = server.received_dispatch {
                    // The same address through the other stand-in type's
                    // vtable (never dereferenced).
                    let torn: NonNull<dyn Dispatch> = if dispatch_code(Some(dispatch)) % 2 == 1 {
                        dispatch.cast::<Odd>()
                    } else {
                        dispatch.cast::<Even>()
                    };
                    server.received_dispatch = Some(torn);
                }
            }
            if self.bug == Some(Bug::NoReplyTarget) && call {
                state.threads[switch.to.index()].reply_to = Link::NONE;
            }
            if self.bug == Some(Bug::StraySp) {
                let other = (switch.to.index() + 1) % MAX_THREADS;
                state.threads[other].sp ^= 4;
            }
            Outcome::Switched(switch.to.index())
        }
    }

    impl FastPath for Model {
        fn landing(&mut self, thread: usize) -> usize {
            0x8000 + thread * 0x100
        }

        unsafe fn call(
            &mut self,
            state: *mut u8,
            selector: usize,
            resume: *const usize,
        ) -> Outcome {
            self.run(state, true, selector, resume)
        }

        unsafe fn reply_wait(&mut self, state: *mut u8, resume: *const usize) -> Outcome {
            self.run(state, false, 0, resume)
        }
    }

    fn run(bug: Option<Bug>) -> (Result<(), Mismatch>, Stats) {
        let mut diff = Box::new(Diff::new());
        let mut model = Model { bug };
        for seed in 0..200 {
            if let Err(mismatch) = diff.run(seed, 40, &mut model) {
                return (Err(mismatch), diff.stats());
            }
        }
        (Ok(()), diff.stats())
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "compares dispatchers with their vtables, which Miri duplicates on purpose"
    )]
    fn a_faithful_fast_path_agrees_and_takes_many_calls_and_replies() {
        let (result, stats) = run(None);
        assert_eq!(result, Ok(()));
        std::println!("{stats:?}");
        assert!(stats.calls_fast * 5 > stats.calls, "{stats:?}");
        assert!(stats.replies_fast * 5 > stats.replies, "{stats:?}");
        assert!(stats.calls_fast + stats.replies_fast > 1000, "{stats:?}");
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "compares dispatchers with their vtables, which Miri duplicates on purpose"
    )]
    fn a_wrong_badge_is_found() {
        let (result, _) = run(Some(Bug::Badge));
        let mismatch = result.unwrap_err();
        assert_eq!(mismatch.field, "utcb badge", "{mismatch}");
        assert_eq!(mismatch.op.name, "call");
        assert_eq!(mismatch.fast, mismatch.rust + 1);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "compares dispatchers with their vtables, which Miri duplicates on purpose"
    )]
    fn a_fast_path_that_takes_nothing_is_found() {
        let (result, _) = run(Some(Bug::AlwaysFallsBack));
        assert_eq!(
            result.unwrap_err().field,
            "fast path fell back on a case the Rust fast path takes"
        );
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "compares dispatchers with their vtables, which Miri duplicates on purpose"
    )]
    fn a_stray_write_to_another_thread_is_found() {
        let (result, _) = run(Some(Bug::StraySp));
        assert_eq!(result.unwrap_err().field, "thread saved sp");
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "compares dispatchers with their vtables, which Miri duplicates on purpose"
    )]
    fn a_dispatcher_copied_by_halves_is_found() {
        let (result, _) = run(Some(Bug::TornDispatch));
        let mismatch = result.unwrap_err();
        assert_eq!(
            (mismatch.field, mismatch.fast),
            ("thread received_dispatch (stand-in + 1)", usize::MAX),
            "{mismatch}"
        );
    }

    /// Links (reply targets, send queues) are compared as stored: a
    /// server left without its caller is a difference.
    #[test]
    #[cfg_attr(
        miri,
        ignore = "compares dispatchers with their vtables, which Miri duplicates on purpose"
    )]
    fn a_server_left_without_its_reply_target_is_found() {
        let (result, _) = run(Some(Bug::NoReplyTarget));
        let mismatch = result.unwrap_err();
        assert_eq!((mismatch.field, mismatch.op.name), ("thread reply_to", "call"), "{mismatch}");
        assert_eq!(mismatch.fast, 0, "{mismatch}");
        assert_ne!(mismatch.rust, 0, "{mismatch}");
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "compares dispatchers with their vtables, which Miri duplicates on purpose"
    )]
    fn the_same_seed_gives_the_same_run() {
        let (mut a, mut b) = (Box::new(Diff::new()), Box::new(Diff::new()));
        let mut model = Model { bug: None };
        for seed in [7, 99] {
            a.run(seed, 50, &mut model).unwrap();
            b.run(seed, 50, &mut model).unwrap();
        }
        assert_eq!(a.stats(), b.stats());
    }
}
