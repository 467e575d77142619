//! The kernel's state machine: every decision, no CPU specifics.
//!
//! Operations act on behalf of the current thread and return the thread
//! switch they decided ([`Switch`]); [`crate::Kernel`] performs it. Tests
//! drive this directly on the host.
//!
//! # Authority
//!
//! Every operation acts for the *current thread's component* (the actor).
//! Component ids are names, not authority: acting on another component's
//! threads, objects or capability space needs a component capability to it
//! in the actor's own space ([`CapEntry::Component`], what
//! [`State::create_component`] gives the creator), as Genode's PD session
//! and seL4's CNode capabilities do. So composing an image is itself an
//! exercise of capabilities.

use core::ptr::NonNull;

use ferrode_ipc::{CapSel, Dispatch, MSG_CAPS, MSG_WORDS, TransportError, Utcb};

use crate::capspace::{CapEntry, CapSpace, Origin};
use crate::error::KernelError;
use crate::ids::{ComponentId, Link, ObjectId, SignalId, ThreadId};
use crate::sched::ReadyQueues;
use crate::table::Table;

/// Thread slots.
pub const MAX_THREADS: usize = 16;
/// Component slots (capability spaces).
pub const MAX_COMPONENTS: usize = 16;
/// Capability slots per component.
pub const CAP_SLOTS: usize = 32;
/// RPC object slots.
pub const MAX_OBJECTS: usize = 32;
/// Signal slots.
pub const MAX_SIGNALS: usize = 16;

/// The highest badge a signal copy may carry
/// ([`crate::Kernel::mint_signal`]): a waiter learns the badges its
/// submissions came through as the bits of one word
/// ([`crate::Signalled::badges`]).
pub const MAX_BADGE: u8 = 31;

/// Badge `badge`'s bit in [`crate::Signalled::badges`].
pub(crate) const fn badge_bit(badge: u8) -> u32 {
    1 << (badge & MAX_BADGE)
}
/// Priority levels; 0 is the idle thread's, higher runs first.
pub const PRIORITIES: usize = 8;

// Thread ids index the thread table through a mask (one AND instead of a
// bounds check on the IPC paths): the table size must be a power of two.
// Ids must also fit a link, which stores the id plus one in a byte.
const _: () = assert!(MAX_THREADS.is_power_of_two() && MAX_THREADS < 255);
// An origin stores a component's id plus one in a byte.
const _: () = assert!(MAX_COMPONENTS < 255);

/// What a component may use, fixed when it is created: its share of the
/// kernel's tables and the highest priority its threads may have.
///
/// The priority is also the component's place in Ferrode's priority
/// rule: a component may hold a capability to an RPC object only if the
/// object's entrypoint runs at least at the component's priority, so a
/// call never hands the CPU to a server that a ready thread of the
/// caller's priority would have to wait for (Hubris's rule, checked when a
/// capability is delegated or transferred, not on every call).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// Capability slots it may fill (at most [`CAP_SLOTS`]).
    pub caps: u8,
    /// Threads it may have.
    pub threads: u8,
    /// RPC objects its entrypoints may serve.
    pub objects: u8,
    /// Signals it may own.
    pub signals: u8,
    /// Components it may create.
    pub components: u8,
    /// The highest priority of its threads (1 ..= `PRIORITIES` - 1).
    pub priority: u8,
}

impl Quota {
    /// A small component at `priority`: 16 capability slots, 2 threads,
    /// 4 objects, 2 signals, no children.
    pub const fn at_priority(priority: u8) -> Self {
        Self { caps: 16, threads: 2, objects: 4, signals: 2, components: 0, priority }
    }

    /// Nothing (a free component slot's: zero bytes).
    pub(crate) const NONE: Self =
        Self { caps: 0, threads: 0, objects: 0, signals: 0, components: 0, priority: 0 };

    /// Everything the kernel has, at `priority` (the root component's).
    pub const fn everything(priority: u8) -> Self {
        Self {
            caps: CAP_SLOTS as u8,
            threads: MAX_THREADS as u8,
            objects: MAX_OBJECTS as u8,
            signals: MAX_SIGNALS as u8,
            components: MAX_COMPONENTS as u8,
            priority,
        }
    }

    fn check(&self) -> Result<(), KernelError> {
        check_priority(self.priority)?;
        if self.caps as usize > CAP_SLOTS { Err(KernelError::QuotaExceeded) } else { Ok(()) }
    }
}

/// What a thread is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ThreadState {
    /// Unused slot.
    Free,
    /// Waiting in a ready queue.
    Ready,
    /// On the CPU.
    Running,
    /// A server waiting for a request.
    Waiting,
    /// A caller queued at a busy server.
    SendQueued,
    /// A caller whose request is being served.
    AwaitingReply,
    /// Waiting for a signal.
    SignalWait,
    /// Exited (or its component was destroyed): its stack and UTCB wait to
    /// be reaped.
    Dead,
    /// Stopped by a debugger (feature `debug`): not scheduled until
    /// resumed.
    Stopped,
}

/// One thread. `repr(C)` and a power-of-two stride so that the IPC fast
/// path finds a thread with one shift (see [`crate::IPC_LAYOUT`]).
#[repr(C, align(64))]
pub(crate) struct Thread {
    pub(crate) state: ThreadState,
    pub(crate) priority: u8,
    pub(crate) component: ComponentId,
    /// Unused; keeps `reply_to` and `sendq_head` one aligned halfword.
    _pad: u8,
    /// Server: the caller whose request it is serving. The fast path reads
    /// it together with `sendq_head` as one aligned halfword.
    pub(crate) reply_to: Link,
    /// Server: head of the queue of callers, in priority order.
    pub(crate) sendq_head: Link,
    /// Link in a send queue.
    sendq_next: Link,
    /// Caller queued at a busy server: that server (for cycle detection).
    waiting_on: Link,
    /// Caller: its reply is held by a reply capability (a deferred reply).
    deferred: bool,
    /// Saved stack pointer while not running.
    pub(crate) sp: usize,
    pub(crate) utcb: *mut Utcb,
    /// `None` in a free slot (an empty `&str` is not zero bytes).
    pub(crate) name: Option<&'static str>,
    /// Server: the dispatcher of the object whose request it serves,
    /// written at every delivery. Meaningful only from a delivery until
    /// the server waits again (the fast paths leave it behind).
    pub(crate) received_dispatch: Option<NonNull<dyn Dispatch>>,
    /// Caller: the object it called (and its generation then).
    call_object: (ObjectId, u32),
    /// Signal waiter: the count it received.
    pub(crate) signal_count: u32,
    /// Signal waiter: the badges of the copies those submissions came
    /// through (bit `b` for badge `b`).
    pub(crate) signal_badges: u32,
    /// Caller: which deferral of its calls a reply capability answers.
    reply_seq: u32,
    /// The lowest address of the thread's stack (its guard word is the
    /// first aligned word there), 0 for the boot thread, whose stack the
    /// kernel did not allocate.
    pub(crate) stack_base: usize,
    /// The stack's length in bytes.
    pub(crate) stack_len: usize,
}

impl Thread {
    const FREE: Thread = Thread {
        state: ThreadState::Free,
        priority: 0,
        component: ComponentId(0),
        sp: 0,
        utcb: core::ptr::null_mut(),
        name: None,
        sendq_head: Link::NONE,
        _pad: 0,
        sendq_next: Link::NONE,
        reply_to: Link::NONE,
        waiting_on: Link::NONE,
        deferred: false,
        received_dispatch: None,
        call_object: (ObjectId(0), 0),
        signal_count: 0,
        signal_badges: 0,
        reply_seq: 0,
        stack_base: 0,
        stack_len: 0,
    };
}

#[derive(Clone, Copy)]
pub(crate) struct Component {
    pub(crate) used: bool,
    /// Destroyed: no capabilities, objects or signals any more; the slot
    /// is freed when its last thread has been reaped.
    destroyed: bool,
    /// Moves on when the slot is freed: component capabilities hold it.
    pub(crate) generation: u32,
    pub(crate) quota: Quota,
    /// The component whose quota it counts against (itself for the root).
    parent: ComponentId,
    pub(crate) threads: u8,
    objects: u8,
    signals: u8,
    children: u8,
}

/// An RPC object slot: 16 bytes on 32-bit machines (the alignment keeps
/// the stride a power of two on 64-bit hosts too).
#[repr(C, align(16))]
pub(crate) struct Object {
    /// Moves on when the object is dissolved: capabilities hold the
    /// generation they were made for.
    pub(crate) generation: u32,
    pub(crate) live: bool,
    pub(crate) entrypoint: ThreadId,
    /// The component whose entrypoint serves it: the only one (with those
    /// holding a component capability to it) that may dissolve it.
    pub(crate) owner: ComponentId,
    pub(crate) dispatch: Option<NonNull<dyn Dispatch>>,
}

/// An object's receive windows: how many capabilities a request with a
/// given label (`false`) or the reply to it (`true`) may carry.
pub(crate) type Window = fn(usize, bool) -> usize;

/// The receive windows of an object slot: `None` (zero bytes, unlike a
/// function pointer) for a free slot, which accepts no capabilities.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct Windows(Option<Window>);

impl Windows {
    const NONE: Windows = Windows(None);

    /// How many capabilities a message with `label` may carry (the reply
    /// to it if `reply`).
    #[inline(always)]
    fn get(self, label: usize, reply: bool) -> usize {
        match self.0 {
            Some(window) => window(label, reply),
            None => 0,
        }
    }
}

impl Component {
    #[cfg(test)]
    pub(crate) fn generation_for_tests(&self) -> u32 {
        self.generation
    }
}

#[cfg(test)]
impl State {
    /// The owner and generation of signal `signal`, if its slot is in use
    /// (for tests that check who may hold what).
    pub(crate) fn signal_owner_for_tests(&self, signal: SignalId) -> Option<(ComponentId, u32)> {
        let s = self.signals.get(signal.index())?;
        s.used.then_some((s.owner, s.generation))
    }

    /// The thread waiting on signal `signal`, if any.
    pub(crate) fn signal_waiter_for_tests(&self, signal: SignalId) -> Option<ThreadId> {
        self.signals.get(signal.index())?.waiter
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Signal {
    used: bool,
    count: u32,
    /// The badges of the copies the counted submissions came through
    /// (bit `b` for badge `b`), delivered with the count.
    badges: u32,
    waiter: Option<ThreadId>,
    /// The receiver: the component that created it and alone may wait.
    owner: ComponentId,
    /// Moves on when the signal is freed: capabilities hold it.
    generation: u32,
    /// The owner asked to be told when a submitter dies
    /// ([`State::watch_submitters`]).
    watched: bool,
    /// A component holding a copy was destroyed while no thread waited:
    /// the next wait that finds no count returns `ServerDead`.
    submitter_lost: bool,
}

/// A thread switch the kernel decided on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Switch {
    pub(crate) from: ThreadId,
    pub(crate) to: ThreadId,
}

/// The whole kernel state. `repr(C)`, the fast path's tables first, so
/// that every offset it uses fits an ARM load's 12-bit immediate (and a
/// RISC-V one's 11 bits).
#[repr(C)]
pub(crate) struct State {
    pub(crate) current: ThreadId,
    pub(crate) initialised: bool,
    /// Set from interrupt context: a thread was woken that may outrank the
    /// interrupted one; acted on at interrupt exit.
    resched: bool,
    /// Set by the timer interrupt: round-robin at interrupt exit.
    tick_pending: bool,
    /// Set by the timer interrupt: this thread's stack guard is broken.
    pub(crate) overflowed: Link,
    pub(crate) ready: ReadyQueues,
    pub(crate) threads: Table<Thread, MAX_THREADS>,
    pub(crate) objects: Table<Object, MAX_OBJECTS>,
    /// The components (before the capability spaces, which would put
    /// them beyond an Arm load's immediate with more than 8 components;
    /// small enough, without their names, that the spaces still start
    /// within a RISC-V load's immediate, as the fast path needs).
    pub(crate) components: Table<Component, MAX_COMPONENTS>,
    /// Each component's capability space (its own table: a power-of-two
    /// stride for the fast path).
    pub(crate) caps: Table<CapSpace, MAX_COMPONENTS>,
    /// Each component's name (`None` in a free slot).
    pub(crate) names: Table<Option<&'static str>, MAX_COMPONENTS>,
    signals: Table<Signal, MAX_SIGNALS>,
    /// Each object's receive windows (kept out of the fast path's table).
    windows: Table<Windows, MAX_OBJECTS>,
    /// Each capability's derivation: the slot it was copied from.
    origins: Table<[Origin; CAP_SLOTS], MAX_COMPONENTS>,
    /// Per component, the slots of its space that hold an entry (bit `s`
    /// for slot `s`, [`CapEntry::Revoked`] included): the free count is a
    /// population count and the lowest free slot a search of one word.
    used: Table<u32, MAX_COMPONENTS>,
    /// Per component, the slots that copies may derive from: bit `s` is
    /// set whenever some slot's origin names slot `s` (it may stay set
    /// after those copies are gone). Emptying a slot whose bit is clear
    /// needs no search for copies to re-parent.
    copied: Table<u32, MAX_COMPONENTS>,
    /// The debugger's view (feature `debug`; last, so no fast-path offset
    /// moves).
    #[cfg(feature = "debug")]
    pub(crate) debug: crate::debug::DebugState,
}

// On 32-bit targets the component table, read on every capability
// transfer, ends within an Arm load's 12-bit immediate (see `components`).
#[cfg(target_pointer_width = "32")]
const _: () = assert!(
    core::mem::offset_of!(State, components) + size_of::<Table<Component, MAX_COMPONENTS>>()
        <= 4096
);

/// The generation at which a slot (object, component, signal) is retired
/// for good instead of being reused: a capability holds the generation it
/// was made for, and a generation that wrapped around would make a stale
/// capability designate whatever came to live in the slot. (Four billion
/// reuses of one slot lose the slot, not the check.)
const RETIRED: u32 = u32::MAX;

/// What a deferred reply's [`CapEntry::Reply`] names once the object
/// called is dissolved: no object slot (its receive window is 0).
const GONE_OBJECT: ObjectId = ObjectId(u8::MAX);
const _: () = assert!(MAX_OBJECTS < u8::MAX as usize);

const NO_COMPONENT: Component = Component {
    used: false,
    destroyed: false,
    generation: 0,
    quota: Quota::NONE,
    parent: ComponentId(0),
    threads: 0,
    objects: 0,
    signals: 0,
    children: 0,
};
const NO_OBJECT: Object = Object {
    generation: 0,
    live: false,
    entrypoint: ThreadId(0),
    owner: ComponentId(0),
    dispatch: None,
};
const NO_SIGNAL: Signal = Signal {
    used: false,
    count: 0,
    badges: 0,
    waiter: None,
    owner: ComponentId(0),
    generation: 0,
    watched: false,
    submitter_lost: false,
};

/// A capability transfer, checked and ready to carry out: per capability
/// of the message, the entry it becomes in the receiver's space, the slot
/// that already holds it ([`NOT_HELD`] if none) and where it came from.
/// Filled in place by the caller's stack slot (never moved: a plan
/// returned by value cost a misaligned `memcpy` per move on ARM).
pub(crate) struct CapPlan {
    entries: [CapEntry; MSG_CAPS],
    existing: [u8; MSG_CAPS],
    origins: [Origin; MSG_CAPS],
    /// The entries the transfer adds to the receiver's space (bit `i` for
    /// entry `i`: not held, and not a second copy of an earlier entry).
    fresh: u32,
}

impl CapPlan {
    const EMPTY: CapPlan = CapPlan {
        entries: [CapEntry::Empty; MSG_CAPS],
        existing: [NOT_HELD; MSG_CAPS],
        origins: [Origin::NONE; MSG_CAPS],
        fresh: 0,
    };
}

/// [`CapPlan::existing`] for an entry the receiver does not hold yet.
const NOT_HELD: u8 = u8::MAX;

/// The entry `selector` designates in `space` (`Empty` out of range).
#[inline(always)]
fn space_entry(space: &CapSpace, selector: CapSel) -> CapEntry {
    space.get(selector)
}

// A space's used and copied slots are the bits of one `u32`.
const _: () = assert!(CAP_SLOTS <= 32);

/// The pattern the kernel writes at the bottom of every stack it is given;
/// finding it changed means the thread overflowed its stack.
pub(crate) const STACK_GUARD: usize = 0x57ac_6a2d;

/// How many words of guard: 64 bytes on 32-bit machines, more than the
/// gaps a deep call chain leaves unwritten in its frames, so an overflow
/// cannot step over the guard unnoticed.
pub const STACK_GUARD_WORDS: usize = 16;

/// Where the stack guard of a stack starting at `base` begins: its lowest
/// `usize`-aligned address.
#[inline(always)]
pub(crate) fn guard_start(base: usize) -> usize {
    let align = core::mem::align_of::<usize>();
    base.wrapping_add(align - 1) & !(align - 1)
}

/// Where the stack guard of a stack starting at `base` ends: the lowest
/// address the thread's frames may use.
#[cfg(feature = "debug")]
pub(crate) fn stack_guard_end(base: usize) -> usize {
    guard_start(base) + STACK_GUARD_WORDS * core::mem::size_of::<usize>()
}

/// Writes the stack guard at the bottom of the `len` bytes from `base`
/// (its lowest aligned [`STACK_GUARD_WORDS`] words); writes nothing and
/// returns false if they do not fit.
///
/// # Safety
///
/// Those words may be written.
pub(crate) unsafe fn write_stack_guard(base: *mut u8, len: usize) -> bool {
    let offset = guard_start(base as usize).wrapping_sub(base as usize);
    if offset.saturating_add(STACK_GUARD_WORDS * core::mem::size_of::<usize>()) > len {
        return false;
    }
    for word in 0..STACK_GUARD_WORDS {
        // SAFETY: aligned words inside the `len` bytes, which the caller
        // lets us write.
        unsafe { base.add(offset).cast::<usize>().add(word).write_volatile(STACK_GUARD) };
    }
    true
}

impl State {
    pub(crate) const fn new() -> Self {
        Self {
            current: ThreadId(0),
            initialised: false,
            resched: false,
            tick_pending: false,
            overflowed: Link::NONE,
            ready: ReadyQueues::new(),
            threads: Table([Thread::FREE; MAX_THREADS]),
            objects: Table([NO_OBJECT; MAX_OBJECTS]),
            caps: Table([const { CapSpace::new() }; MAX_COMPONENTS]),
            components: Table([NO_COMPONENT; MAX_COMPONENTS]),
            names: Table([None; MAX_COMPONENTS]),
            signals: Table([NO_SIGNAL; MAX_SIGNALS]),
            windows: Table([Windows::NONE; MAX_OBJECTS]),
            origins: Table([[Origin::NONE; CAP_SLOTS]; MAX_COMPONENTS]),
            used: Table([0; MAX_COMPONENTS]),
            copied: Table([0; MAX_COMPONENTS]),
            #[cfg(feature = "debug")]
            debug: crate::debug::DebugState::new(),
        }
    }

    // ----- set-up ---------------------------------------------------------

    /// Makes the running boot context thread 0 of a root component, which
    /// gets every quota, at `priority`.
    pub(crate) fn init(
        &mut self,
        root_name: &'static str,
        priority: u8,
        utcb: *mut Utcb,
    ) -> Result<ComponentId, KernelError> {
        check_priority(priority)?;
        if self.initialised {
            return Err(KernelError::NoAuthority);
        }
        let root = self.new_component(root_name, Quota::everything(priority), ComponentId(0))?;
        let boot = &mut self.threads[0];
        *boot = Thread {
            state: ThreadState::Running,
            priority,
            component: root,
            utcb,
            name: Some("main"),
            ..Thread::FREE
        };
        self.components[root.index()].threads = 1;
        self.current = ThreadId(0);
        self.initialised = true;
        Ok(root)
    }

    /// Writes a stack guard at the bottom of the boot thread's stack
    /// (`len` bytes from `base`) and records the stack, so the guard is
    /// checked like those of the stacks the kernel gave out. Nothing
    /// before [`State::init`] or on a stack too small for the guard.
    ///
    /// # Safety
    ///
    /// As [`crate::Kernel::guard_boot_stack`]: the lowest guard words of
    /// `base..base + len` may be written.
    pub(crate) unsafe fn guard_boot_stack(&mut self, base: usize, len: usize) {
        // SAFETY: the caller lets us write the guard's words.
        if !self.initialised || base == 0 || !unsafe { write_stack_guard(base as *mut u8, len) } {
            return;
        }
        let boot = &mut self.threads[0];
        boot.stack_base = base;
        boot.stack_len = len;
    }

    /// Whether `component` is the root (core: the composer and the idle
    /// thread), the one component that is its own parent.
    pub(crate) fn is_root(&self, component: ComponentId) -> bool {
        self.components[component.index()].parent == component
    }

    /// Whether the running thread is the root component's, or the kernel
    /// is not initialised yet (see [`crate::Kernel::running_in_root`]).
    pub(crate) fn running_in_root(&self) -> bool {
        !self.initialised || self.is_root(self.threads[self.current.index()].component)
    }

    /// The actor: the current thread's component.
    #[inline]
    pub(crate) fn actor(&self) -> ComponentId {
        self.threads[self.current.index()].component
    }

    fn new_component(
        &mut self,
        name: &'static str,
        quota: Quota,
        parent: ComponentId,
    ) -> Result<ComponentId, KernelError> {
        quota.check()?;
        let index = self
            .components
            .iter()
            .position(|c| !c.used && c.generation != RETIRED)
            .ok_or(KernelError::OutOfComponents)?;
        let generation = self.components[index].generation;
        self.components[index] =
            Component { used: true, generation, quota, parent, ..NO_COMPONENT };
        self.names[index] = Some(name);
        self.caps[index] = CapSpace::new();
        self.origins[index] = [Origin::NONE; CAP_SLOTS];
        self.used[index] = 0;
        Ok(ComponentId(index as u8))
    }

    /// Creates a component with `quota`, counted against the actor's
    /// quota of children; the actor gets a component capability to it.
    pub(crate) fn create_component(
        &mut self,
        name: &'static str,
        quota: Quota,
    ) -> Result<(ComponentId, CapSel), KernelError> {
        let actor = self.actor();
        let a = &self.components[actor.index()];
        // Its children count among its descendants, which `fits` bounds.
        if !self.fits(actor, |c| c.children, |q| q.components) {
            return Err(KernelError::QuotaExceeded);
        }
        // The root (core) hands out every priority; anyone else at most
        // its own, so a component cannot make itself a faster child.
        if !self.is_root(actor) && quota.priority > a.quota.priority {
            return Err(KernelError::InvalidPriority);
        }
        if self.free_slots(actor) == 0 {
            return Err(KernelError::CapabilitySpaceFull);
        }
        let child = self.new_component(name, quota, actor)?;
        let entry = CapEntry::Component {
            component: child,
            generation: self.components[child.index()].generation,
        };
        let selector = self
            .insert(actor, entry, Origin::NONE)
            .map_err(|_| KernelError::CapabilitySpaceFull)?;
        self.components[actor.index()].children += 1;
        Ok((child, selector))
    }

    /// Whether the actor may act on `target`: it is `target`, or holds a
    /// live component capability to it.
    pub(crate) fn authorized(&self, target: ComponentId) -> Result<(), KernelError> {
        let actor = self.actor();
        let t = self.components.get(target.index()).ok_or(KernelError::InvalidComponent)?;
        if !t.used {
            return Err(KernelError::InvalidComponent);
        }
        if actor == target {
            return Ok(());
        }
        let entry = CapEntry::Component { component: target, generation: t.generation };
        if self.find(actor, entry).is_some() { Ok(()) } else { Err(KernelError::NoAuthority) }
    }

    /// Whether `target`, which the actor has authority over, was destroyed
    /// (its slot not yet freed).
    #[inline]
    pub(crate) fn ended(&self, target: ComponentId) -> Result<bool, KernelError> {
        self.authorized(target)?;
        Ok(self.components[target.index()].destroyed)
    }

    /// Like [`State::authorized`], and the component is not destroyed.
    pub(crate) fn authorized_live(&self, target: ComponentId) -> Result<(), KernelError> {
        if self.ended(target)? { Err(KernelError::InvalidComponent) } else { Ok(()) }
    }

    /// Whether one more of a resource fits the quota of `component` and
    /// of every component above it: a quota bounds what a component and
    /// all its descendants use together, so a component cannot give a
    /// child more than it has itself (a child's own quota bounds only the
    /// child's part). `used` is one component's own use, `limit` the
    /// quota's field.
    fn fits(
        &self,
        component: ComponentId,
        used: fn(&Component) -> u8,
        limit: fn(&Quota) -> u8,
    ) -> bool {
        let mut above = component;
        // A chain of parents is at most every component slot long.
        for _ in 0..MAX_COMPONENTS {
            let total: usize = (0..MAX_COMPONENTS)
                .map(|index| ComponentId(index as u8))
                .filter(|&c| self.components[c.index()].used && self.descends(c, above))
                .map(|c| used(&self.components[c.index()]) as usize)
                .sum();
            let a = &self.components[above.index()];
            if total >= limit(&a.quota) as usize {
                return false;
            }
            if a.parent == above {
                break;
            }
            above = a.parent;
        }
        true
    }

    /// Whether `component` is a used slot at `ancestor` or below it.
    pub(crate) fn within(&self, component: ComponentId, ancestor: ComponentId) -> bool {
        self.components.get(component.index()).is_some_and(|c| c.used)
            && self.components.get(ancestor.index()).is_some_and(|c| c.used)
            && self.descends(component, ancestor)
    }

    /// Whether `component` is `ancestor` or below it.
    fn descends(&self, mut component: ComponentId, ancestor: ComponentId) -> bool {
        for _ in 0..MAX_COMPONENTS {
            if component == ancestor {
                return true;
            }
            let parent = self.components[component.index()].parent;
            if parent == component {
                return false;
            }
            component = parent;
        }
        false
    }

    /// Adds a ready thread of `component` whose first frame is at `sp`.
    /// Priority 0 is reserved for the idle thread (`allow_idle`).
    #[allow(clippy::too_many_arguments, reason = "mirrors the thread's parts")]
    pub(crate) fn add_thread(
        &mut self,
        component: ComponentId,
        name: &'static str,
        priority: u8,
        sp: usize,
        utcb: *mut Utcb,
        stack: (usize, usize),
        allow_idle: bool,
    ) -> Result<ThreadId, KernelError> {
        if !(allow_idle && priority == 0) {
            check_priority(priority)?;
        }
        self.authorized_live(component)?;
        let c = &self.components[component.index()];
        if priority > c.quota.priority {
            return Err(KernelError::InvalidPriority);
        }
        if c.threads >= c.quota.threads {
            return Err(KernelError::QuotaExceeded);
        }
        let index = self
            .threads
            .iter()
            .position(|t| t.state == ThreadState::Free)
            .ok_or(KernelError::OutOfThreads)?;
        if !self.fits(component, |c| c.threads, |q| q.threads) {
            return Err(KernelError::QuotaExceeded);
        }
        let id = ThreadId(index as u8);
        // Kept across reuse of the slot, so that a reply capability to a
        // thread that was here before never answers the new one.
        let reply_seq = self.threads[index].reply_seq;
        self.threads[index] = Thread {
            state: ThreadState::Ready,
            priority,
            component,
            sp,
            utcb,
            name: Some(name),
            reply_seq,
            stack_base: stack.0,
            stack_len: stack.1,
            ..Thread::FREE
        };
        self.components[component.index()].threads += 1;
        self.ready.push_back(id, priority);
        // [gdb monitor] A reused slot keeps no debugger state of the
        // thread that was here before (a stop would park the new one).
        #[cfg(feature = "debug")]
        self.debug_forget(id);
        Ok(id)
    }

    /// Registers an RPC object served by `entrypoint` and puts a capability
    /// for it into the actor's space. The object is owned by the
    /// entrypoint's component and counts against its quota.
    pub(crate) fn create_object(
        &mut self,
        entrypoint: ThreadId,
        dispatch: NonNull<dyn Dispatch>,
        window: Window,
    ) -> Result<(ObjectId, CapSel), KernelError> {
        let ep = self.threads.get(entrypoint.index()).ok_or(KernelError::InvalidThread)?;
        if matches!(ep.state, ThreadState::Free | ThreadState::Dead) {
            return Err(KernelError::InvalidThread);
        }
        let owner = ep.component;
        self.authorized_live(owner)?;
        let o = &self.components[owner.index()];
        if o.objects >= o.quota.objects {
            return Err(KernelError::QuotaExceeded);
        }
        let actor = self.actor();
        if self.components[actor.index()].quota.priority > ep.priority {
            return Err(KernelError::PriorityInversion);
        }
        if self.free_slots(actor) == 0 {
            return Err(KernelError::CapabilitySpaceFull);
        }
        let index = self
            .objects
            .iter()
            .position(|o| !o.live && o.dispatch.is_none() && o.generation != RETIRED)
            .ok_or(KernelError::OutOfObjects)?;
        if !self.fits(owner, |c| c.objects, |q| q.objects) {
            return Err(KernelError::QuotaExceeded);
        }
        let object = &mut self.objects[index];
        object.live = true;
        object.entrypoint = entrypoint;
        object.owner = owner;
        object.dispatch = Some(dispatch);
        let generation = object.generation;
        self.windows[index] = Windows(Some(window));
        self.components[owner.index()].objects += 1;
        let id = ObjectId(index as u8);
        let selector = self
            .insert(actor, CapEntry::Object { object: id, generation }, Origin::NONE)
            .map_err(|_| KernelError::CapabilitySpaceFull)?;
        Ok((id, selector))
    }

    /// Dissolves the object `selector` designates in the actor's space:
    /// every capability to it, in every space, fails with `ServerDead`
    /// from now on (each holder drops its own copy), and the object slot
    /// is free. Only the owner (or a holder of a component capability to
    /// the owner) may do this; anyone else gets [`KernelError::NotOwner`].
    pub(crate) fn revoke(&mut self, selector: CapSel) -> Result<(), KernelError> {
        let actor = self.actor();
        let CapEntry::Object { object, generation } = self.caps[actor.index()].get(selector) else {
            return Err(KernelError::InvalidCapability);
        };
        let slot = &self.objects[object.index()];
        if !slot.live || slot.generation != generation {
            return Err(KernelError::InvalidCapability);
        }
        if self.authorized(slot.owner).is_err() {
            return Err(KernelError::NotOwner);
        }
        self.dissolve_object(object);
        Ok(())
    }

    fn dissolve_object(&mut self, object: ObjectId) {
        let slot = &mut self.objects[object.index()];
        let dispatch = slot.dispatch.take();
        slot.live = false;
        slot.generation = slot.generation.wrapping_add(1);
        let owner = slot.owner;
        let entrypoint = slot.entrypoint;
        self.windows[object.index()] = Windows::NONE;
        // A deferred reply to a call of this object accepts no capabilities
        // from now on, as a live reply would not, even once the slot serves
        // another object with other windows.
        for space in self.caps.iter_mut() {
            for entry in space.slots.iter_mut() {
                if let CapEntry::Reply { object: called, .. } = entry
                    && *called == object
                {
                    *called = GONE_OBJECT;
                }
            }
        }
        let c = &mut self.components[owner.index()];
        c.objects = c.objects.saturating_sub(1);
        // A server that has this request delivered but not yet dispatched
        // learns that the object is gone (see `Kernel::reply_and_wait`).
        // Only the object's entrypoint can have it: another server's
        // object may live at the same address (a zero-sized one does).
        if let Some(dispatch) = dispatch {
            let t = &mut self.threads[entrypoint.index()];
            if t.received_dispatch
                .is_some_and(|d| core::ptr::addr_eq(d.as_ptr(), dispatch.as_ptr()))
            {
                t.received_dispatch = None;
            }
        }
    }

    /// Copies the capability `selector` of `from` into `to`'s space. The
    /// actor needs authority over both. A signal's wait right never leaves
    /// its owner; an object capability goes only to a component whose
    /// priority does not exceed the object's entrypoint's.
    pub(crate) fn delegate(
        &mut self,
        from: ComponentId,
        selector: CapSel,
        to: ComponentId,
    ) -> Result<CapSel, KernelError> {
        self.authorized_live(from)?;
        self.authorized_live(to)?;
        let entry = self.caps[from.index()].get(selector);
        if entry == CapEntry::Empty {
            return Err(KernelError::InvalidCapability);
        }
        let entry = self.copy_for(entry, to).map_err(|error| match error {
            TransportError::PriorityInversion => KernelError::PriorityInversion,
            _ => KernelError::InvalidCapability,
        })?;
        self.insert(to, entry, Origin::of(from, selector))
            .map_err(|_| KernelError::CapabilitySpaceFull)
    }

    /// The entry a copy of `entry` in component `to` gets, or why there
    /// may be none (shared by delegation and transfer in a message).
    fn copy_for(&self, entry: CapEntry, to: ComponentId) -> Result<CapEntry, TransportError> {
        match entry {
            CapEntry::Empty | CapEntry::Reply { .. } | CapEntry::Revoked => {
                Err(TransportError::InvalidCapability)
            }
            CapEntry::Signal { signal, badge, generation, .. } => {
                let wait = self.signals[signal.index()].owner == to;
                Ok(CapEntry::Signal { signal, wait, badge, generation })
            }
            CapEntry::Object { object, generation } => {
                let o = &self.objects[object.index()];
                if o.live && o.generation == generation {
                    let server = self.threads[o.entrypoint.index()].priority;
                    if self.components[to.index()].quota.priority > server {
                        return Err(TransportError::PriorityInversion);
                    }
                }
                Ok(entry)
            }
            _ => Ok(entry),
        }
    }

    /// Takes back every capability in `to`'s space that was copied from a
    /// slot of `from` (by delegation or in a message), and every copy made
    /// of those in turn (the derivation record, as seL4's). The emptied
    /// slots hold [`CapEntry::Revoked`] until their holder drops them, so
    /// a selector never silently comes to mean something else. Returns how
    /// many capabilities were taken.
    pub(crate) fn take_back(
        &mut self,
        from: ComponentId,
        to: ComponentId,
    ) -> Result<usize, KernelError> {
        self.authorized(from)?;
        // `to` needs no authority (what `from` gave is `from`'s to take
        // back), but it must name a component.
        if !self.components.get(to.index()).is_some_and(|c| c.used) {
            return Err(KernelError::InvalidComponent);
        }
        let mut taken = 0;
        for slot in 0..CAP_SLOTS {
            let origin = self.origins[to.index()][slot];
            if origin.component() == Some(from)
                && self.caps[to.index()].slots[slot] != CapEntry::Empty
            {
                taken += self.revoke_subtree(to, slot);
            }
        }
        Ok(taken)
    }

    /// Takes back every copy made of the actor's capability `selector` (and
    /// the copies made of those), leaving the actor's own: seL4's revoke on
    /// one slot. How a server ends one session it handed out while keeping
    /// the object to reuse. Returns how many copies were taken.
    pub(crate) fn revoke_copies(&mut self, selector: CapSel) -> Result<usize, KernelError> {
        let actor = self.actor();
        if self.caps[actor.index()].get(selector) == CapEntry::Empty {
            return Err(KernelError::InvalidCapability);
        }
        if self.copied[actor.index()] & (1 << selector.0) == 0 {
            return Ok(0);
        }
        let here = Origin::of(actor, selector);
        let mut taken = 0;
        for component in 0..MAX_COMPONENTS {
            // A space with nothing in it has no derivation records.
            if self.used[component] == 0 {
                continue;
            }
            for slot in 0..CAP_SLOTS {
                if self.origins[component][slot] == here {
                    taken += self.revoke_subtree(ComponentId(component as u8), slot);
                }
            }
        }
        Ok(taken)
    }

    /// Turns `(component, slot)` and everything derived from it into
    /// tombstones. Iterative (no recursion on the kernel's stack): a
    /// worklist of at most every slot.
    fn revoke_subtree(&mut self, component: ComponentId, slot: usize) -> usize {
        let mut work: [(u8, u8); MAX_COMPONENTS * CAP_SLOTS] = [(0, 0); MAX_COMPONENTS * CAP_SLOTS];
        let mut len = 0;
        let mut taken = 0;
        work[len] = (component.0, slot as u8);
        len += 1;
        while len > 0 {
            len -= 1;
            let (c, s) = work[len];
            let (c, s) = (c as usize, s as usize);
            let entry = self.caps[c].slots[s];
            if matches!(entry, CapEntry::Empty | CapEntry::Revoked) {
                continue;
            }
            self.caps[c].slots[s] = CapEntry::Revoked;
            self.origins[c][s] = Origin::NONE;
            taken += 1;
            if self.copied[c] & (1 << s) == 0 {
                continue;
            }
            let here = Origin::of(ComponentId(c as u8), CapSel(s as u32));
            for (cc, origins) in self.origins.iter().enumerate() {
                for (ss, origin) in origins.iter().enumerate() {
                    if *origin == here && len < work.len() {
                        work[len] = (cc as u8, ss as u8);
                        len += 1;
                    }
                }
            }
        }
        taken
    }

    /// Drops `selector` from the actor's space (its own copy only). Copies
    /// derived from it stay, re-parented to where it came from. Dropping a
    /// reply capability ends that caller's call with `ServerDead`.
    pub(crate) fn drop_capability(&mut self, selector: CapSel) -> Result<(), KernelError> {
        let actor = self.actor();
        let index = selector.0 as usize;
        if index >= CAP_SLOTS {
            return Err(KernelError::InvalidCapability);
        }
        let entry = self.take_slot(actor, index);
        if entry == CapEntry::Empty {
            return Err(KernelError::InvalidCapability);
        }
        if let CapEntry::Reply { thread, seq, .. } = entry {
            self.fail_deferred(thread, seq);
        }
        Ok(())
    }

    /// Empties `slot` of `component`'s space and returns what it held; a
    /// slot that held something is forgotten ([`State::forget_slot`]).
    fn take_slot(&mut self, component: ComponentId, slot: usize) -> CapEntry {
        let entry = self.caps[component.index()].remove(CapSel(slot as u32));
        if entry != CapEntry::Empty {
            self.used[component.index()] &= !(1 << slot);
            self.forget_slot(component, slot);
        }
        entry
    }

    /// A slot was emptied: copies made from it now derive from its origin.
    fn forget_slot(&mut self, component: ComponentId, slot: usize) {
        let parent = core::mem::replace(&mut self.origins[component.index()][slot], Origin::NONE);
        // Nothing derives from a slot no copy was ever made of.
        let copied = &mut self.copied[component.index()];
        if *copied & (1 << slot) == 0 {
            return;
        }
        // Once re-parented, nothing does (and `parent`'s bit is set: it
        // is this slot's origin).
        *copied &= !(1 << slot);
        let here = Origin::of(component, CapSel(slot as u32));
        for origins in self.origins.iter_mut() {
            for origin in origins.iter_mut() {
                if *origin == here {
                    *origin = parent;
                }
            }
        }
    }

    /// Free capability slots of `component` within its quota.
    #[inline(never)]
    fn free_slots(&self, component: ComponentId) -> usize {
        let used = self.used[component.index()].count_ones() as usize;
        (self.components[component.index()].quota.caps as usize).saturating_sub(used)
    }

    /// The slot of `component`'s space that holds `entry`, if one does
    /// (the lowest).
    #[inline]
    fn find(&self, component: ComponentId, entry: CapEntry) -> Option<usize> {
        self.caps[component.index()].slots.iter().position(|slot| *slot == entry)
    }

    /// Inserts `entry` into `component`'s space, reusing a slot that holds
    /// the same entry (so repeated delegation does not fill the space; the
    /// copy keeps its first derivation), within the component's quota.
    fn insert(
        &mut self,
        component: ComponentId,
        entry: CapEntry,
        origin: Origin,
    ) -> Result<CapSel, TransportError> {
        if let Some(index) = self.find(component, entry) {
            return Ok(CapSel(index as u32));
        }
        if self.free_slots(component) == 0 {
            return Err(TransportError::CapabilitySpaceFull);
        }
        // The lowest empty slot (there is one: the quota is at most
        // `CAP_SLOTS`).
        let used = self.used[component.index()];
        let index = (0..CAP_SLOTS)
            .find(|slot| used & (1 << slot) == 0)
            .ok_or(TransportError::CapabilitySpaceFull)?;
        self.caps[component.index()].slots[index] = entry;
        self.origins[component.index()][index] = origin;
        self.used[component.index()] |= 1 << index;
        if let Some(from) = origin.component() {
            self.copied[from.index()] |= 1 << origin.slot();
        }
        Ok(CapSel(index as u32))
    }

    /// Creates a counting signal owned by the actor (the receiver, which
    /// alone may wait on it); its capability carries the wait right.
    pub(crate) fn create_signal(&mut self) -> Result<(SignalId, CapSel), KernelError> {
        let actor = self.actor();
        let c = &self.components[actor.index()];
        if c.signals >= c.quota.signals {
            return Err(KernelError::QuotaExceeded);
        }
        if self.free_slots(actor) == 0 {
            return Err(KernelError::CapabilitySpaceFull);
        }
        let index = self
            .signals
            .iter()
            .position(|s| !s.used && s.generation != RETIRED)
            .ok_or(KernelError::OutOfSignals)?;
        if !self.fits(actor, |c| c.signals, |q| q.signals) {
            return Err(KernelError::QuotaExceeded);
        }
        let generation = self.signals[index].generation;
        let id = SignalId(index as u8);
        let selector = self
            .insert(
                actor,
                CapEntry::Signal { signal: id, wait: true, badge: 0, generation },
                Origin::NONE,
            )
            .map_err(|_| KernelError::CapabilitySpaceFull)?;
        self.signals[index] = Signal { used: true, owner: actor, generation, ..NO_SIGNAL };
        self.components[actor.index()].signals += 1;
        Ok((id, selector))
    }

    /// What a selector designates in a component's space (for the actor,
    /// which needs authority over the component; `Empty` otherwise).
    pub(crate) fn capability(&self, component: ComponentId, selector: CapSel) -> CapEntry {
        match self.authorized(component) {
            Ok(()) => self.caps[component.index()].get(selector),
            Err(_) => CapEntry::Empty,
        }
    }

    // ----- reclamation ----------------------------------------------------

    /// Gives back the stack and UTCB of a dead thread of a component the
    /// actor has authority over, and frees its slot.
    pub(crate) fn reap(
        &mut self,
        thread: ThreadId,
    ) -> Result<(usize, usize, *mut Utcb), KernelError> {
        let t = self.threads.get(thread.index()).ok_or(KernelError::InvalidThread)?;
        // The boot thread (thread 0, made by `init`) runs on the image's
        // boot stack with the board's UTCB, which no `spawn` gave the
        // kernel: they are not the kernel's to give back.
        if t.state != ThreadState::Dead || thread.index() == 0 {
            return Err(KernelError::InvalidThread);
        }
        let component = t.component;
        self.authorized_above(component)?;
        let parts = (t.stack_base, t.stack_len, t.utcb);
        let reply_seq = t.reply_seq;
        self.threads[thread.index()] = Thread { reply_seq, ..Thread::FREE };
        let c = &mut self.components[component.index()];
        c.threads = c.threads.saturating_sub(1);
        self.free_if_done(component);
        Ok(parts)
    }

    /// Like [`State::authorized`] for `component` or any component above
    /// it: a destroyed component's descendants were destroyed with it, and
    /// whoever may reap its threads may reap theirs.
    fn authorized_above(&self, mut component: ComponentId) -> Result<(), KernelError> {
        let error = self.authorized(component);
        for _ in 0..MAX_COMPONENTS {
            if self.authorized(component).is_ok() {
                return Ok(());
            }
            let parent = self.components.get(component.index()).map_or(component, |c| c.parent);
            if parent == component {
                break;
            }
            component = parent;
        }
        error
    }

    /// Frees the slot of a destroyed component once its last thread has
    /// been reaped and its last child freed, then looks at its parent the
    /// same way (a parent outlives its children, so a child's `parent`
    /// always names it).
    fn free_if_done(&mut self, mut component: ComponentId) {
        for _ in 0..MAX_COMPONENTS {
            let c = &self.components[component.index()];
            if !(c.used && c.destroyed && c.threads == 0 && c.children == 0) {
                return;
            }
            let parent = c.parent;
            self.free_component(component);
            if parent == component {
                return;
            }
            component = parent;
        }
    }

    fn free_component(&mut self, component: ComponentId) {
        let c = &mut self.components[component.index()];
        let parent = c.parent;
        let generation = c.generation.wrapping_add(1);
        *c = Component { generation, ..NO_COMPONENT };
        self.names[component.index()] = None;
        if parent != component {
            let p = &mut self.components[parent.index()];
            p.children = p.children.saturating_sub(1);
        }
    }

    /// Destroys a component the actor holds a component capability to (not
    /// itself, nor one above itself), and every component it created, and
    /// theirs: their threads stop for good (their callers get
    /// `ServerDead`, their own calls are withdrawn), their objects are
    /// dissolved (every capability others hold to them answers
    /// `ServerDead`), their signals and capabilities are gone (callers
    /// waiting on their reply capabilities get `ServerDead`). Their
    /// threads' stacks and UTCBs are reaped with [`State::reap`]; a slot is
    /// freed after its last thread and its last child.
    pub(crate) fn destroy_component(
        &mut self,
        component: ComponentId,
    ) -> Result<Option<Switch>, KernelError> {
        self.authorized_live(component)?;
        if self.descends(self.actor(), component) {
            return Err(KernelError::NoAuthority);
        }
        self.destroy_tree(component);
        // Callers woken with ServerDead may outrank the actor.
        Ok(self.preempt_if_needed(false))
    }

    /// The actor ends itself, as [`State::destroy_component`] would end
    /// it: every thread of it (the current one too) and of the components
    /// it created stops for good, and the best ready thread runs. How a
    /// component whose thread panicked ends when no parent does it for it.
    /// The root component cannot (`NoAuthority`): it is the kernel's.
    pub(crate) fn exit_component(&mut self) -> Result<Option<Switch>, KernelError> {
        let me = self.actor();
        if self.is_root(me) {
            return Err(KernelError::NoAuthority);
        }
        self.destroy_tree(me);
        Ok(self.block_current(ThreadState::Dead))
    }

    /// Destroys `component` and everything below it: nothing it created
    /// may outlive it, unreachable by anyone.
    fn destroy_tree(&mut self, component: ComponentId) {
        for index in 0..MAX_COMPONENTS {
            let below = ComponentId(index as u8);
            let c = &self.components[index];
            if c.used && !c.destroyed && self.descends(below, component) {
                self.destroy_one(below);
            }
        }
    }

    /// [`State::destroy_component`]'s work on one component.
    fn destroy_one(&mut self, component: ComponentId) {
        for index in 0..MAX_THREADS {
            let t = &self.threads[index];
            if t.component == component && !matches!(t.state, ThreadState::Free | ThreadState::Dead)
            {
                self.kill_thread(ThreadId(index as u8));
            }
        }
        for index in 0..MAX_OBJECTS {
            let o = &self.objects[index];
            if o.live && o.owner == component {
                self.dissolve_object(ObjectId(index as u8));
            }
        }
        for signal in self.signals.iter_mut() {
            if signal.used && signal.owner == component {
                *signal = Signal { generation: signal.generation.wrapping_add(1), ..NO_SIGNAL };
            }
        }
        for slot in 0..CAP_SLOTS {
            match self.take_slot(component, slot) {
                CapEntry::Reply { thread, seq, .. } => self.fail_deferred(thread, seq),
                CapEntry::Signal { signal, generation, .. } => {
                    self.submitter_lost(signal, generation);
                }
                _ => {}
            }
        }
        // [gdb monitor] A destroyed monitor's role ends: the component that
        // reuses its slot does not inherit it (the root may appoint anew).
        #[cfg(feature = "debug")]
        self.debug_forget_monitor(component);
        let c = &mut self.components[component.index()];
        c.destroyed = true;
        c.signals = 0;
        self.free_if_done(component);
    }

    /// Stops a thread that is not running: out of every queue, its calls
    /// withdrawn, its callers failed, its objects dissolved. It is `Dead`.
    fn kill_thread(&mut self, thread: ThreadId) {
        match self.threads[thread.index()].state {
            ThreadState::Ready => self.ready.remove(thread, self.threads[thread.index()].priority),
            ThreadState::SendQueued => {
                if let Some(server) = self.threads[thread.index()].waiting_on.get() {
                    self.remove_from_sendq(server, thread);
                }
            }
            ThreadState::AwaitingReply => {
                for t in self.threads.iter_mut() {
                    if t.reply_to.get() == Some(thread) {
                        t.reply_to = Link::NONE;
                    }
                }
                // A reply capability to the call answers nothing from now
                // on, not even once the slot's reply sequence has wrapped
                // around to its number under another thread's deferred
                // call: it becomes a tombstone until its holder drops it.
                if self.threads[thread.index()].deferred {
                    for space in self.caps.iter_mut() {
                        for entry in space.slots.iter_mut() {
                            if let CapEntry::Reply { thread: caller, .. } = entry
                                && *caller == thread
                            {
                                *entry = CapEntry::Revoked;
                            }
                        }
                    }
                }
            }
            ThreadState::SignalWait => {
                for signal in self.signals.iter_mut() {
                    if signal.waiter == Some(thread) {
                        signal.waiter = None;
                    }
                }
            }
            _ => {}
        }
        self.end_thread(thread);
        let t = &mut self.threads[thread.index()];
        t.state = ThreadState::Dead;
        t.deferred = false;
    }

    /// What a thread leaves behind when it ends: its callers fail with
    /// `ServerDead`, the objects it served are dissolved.
    fn end_thread(&mut self, thread: ThreadId) {
        if let Some(caller) = self.threads[thread.index()].reply_to.take() {
            self.fail_caller(caller, TransportError::ServerDead);
        }
        while let Some(caller) = self.pop_sendq(thread) {
            self.fail_caller(caller, TransportError::ServerDead);
        }
        for index in 0..MAX_OBJECTS {
            let o = &self.objects[index];
            if o.live && o.entrypoint == thread {
                self.dissolve_object(ObjectId(index as u8));
            }
        }
        self.threads[thread.index()].received_dispatch = None;
    }

    // ----- scheduling -----------------------------------------------------

    pub(crate) fn make_ready(&mut self, thread: ThreadId) {
        let t = &mut self.threads[thread.index()];
        t.state = ThreadState::Ready;
        let priority = t.priority;
        self.ready.push_back(thread, priority);
    }

    /// Blocks the current thread in `state` and switches to the best ready
    /// thread (the idle thread is always ready when nothing else is).
    pub(crate) fn block_current(&mut self, state: ThreadState) -> Option<Switch> {
        let from = self.current;
        self.threads[from.index()].state = state;
        let to = self.ready.pop_highest()?;
        Some(self.run(from, to))
    }

    fn run(&mut self, from: ThreadId, to: ThreadId) -> Switch {
        self.threads[to.index()].state = ThreadState::Running;
        self.current = to;
        Switch { from, to }
    }

    /// Preempts the current thread if a ready thread has higher priority
    /// (or, with `round_robin`, equal priority).
    fn preempt_if_needed(&mut self, round_robin: bool) -> Option<Switch> {
        let current = self.current;
        let priority = self.threads[current.index()].priority;
        let best = self.ready.highest()?;
        if best > priority || (round_robin && best == priority) {
            self.make_ready(current);
            let to = self.ready.pop_highest()?;
            if to == current {
                self.threads[current.index()].state = ThreadState::Running;
                return None;
            }
            return Some(self.run(current, to));
        }
        None
    }

    /// Switches to a ready thread of higher priority, if there is one.
    pub(crate) fn yield_if_outranked(&mut self) -> Option<Switch> {
        self.preempt_if_needed(false)
    }

    /// The current thread gives up the CPU to others of its priority.
    pub(crate) fn yield_now(&mut self) -> Option<Switch> {
        self.preempt_if_needed(true)
    }

    /// The current thread ends: callers waiting on it fail with
    /// `ServerDead`, the objects it served are dissolved, and it stays
    /// `Dead` until reaped.
    pub(crate) fn exit_current(&mut self) -> Option<Switch> {
        let me = self.current;
        self.end_thread(me);
        self.block_current(ThreadState::Dead)
    }

    // ----- deferred replies -----------------------------------------------

    /// The current thread keeps the reply to the request it serves for
    /// later: the caller stays blocked, a reply capability in the actor's
    /// space (counted against its quota) answers it with
    /// [`State::reply_deferred`], and the server may wait for other
    /// requests meanwhile (Genode's and seL4's deferred reply).
    pub(crate) fn defer_reply(&mut self) -> Result<CapSel, KernelError> {
        let me = self.current;
        let caller = self.threads[me.index()].reply_to.get().ok_or(KernelError::NoReplyPending)?;
        let dispatch = self.threads[me.index()].received_dispatch;
        // The object served, for the reply's receive window.
        // Among the objects this thread serves: another server's object may
        // live at the same address (a zero-sized one does).
        let object = dispatch
            .and_then(|d| {
                self.objects.iter().position(|o| {
                    o.live
                        && o.entrypoint == me
                        && o.dispatch.is_some_and(|x| core::ptr::addr_eq(x.as_ptr(), d.as_ptr()))
                })
            })
            .ok_or(KernelError::NoReplyPending)?;
        let seq = self.threads[caller.index()].reply_seq.wrapping_add(1);
        let entry = CapEntry::Reply { thread: caller, object: ObjectId(object as u8), seq };
        let actor = self.actor();
        let selector = self
            .insert(actor, entry, Origin::NONE)
            .map_err(|_| KernelError::CapabilitySpaceFull)?;
        self.threads[me.index()].reply_to = Link::NONE;
        let c = &mut self.threads[caller.index()];
        c.reply_seq = seq;
        c.deferred = true;
        Ok(selector)
    }

    /// Sends the message in the current UTCB as the reply a reply
    /// capability stands for, and drops the capability. The caller runs
    /// when the scheduler says so.
    pub(crate) fn reply_deferred(
        &mut self,
        selector: CapSel,
    ) -> Result<Option<Switch>, KernelError> {
        let actor = self.actor();
        let CapEntry::Reply { thread: caller, object, seq } =
            self.caps[actor.index()].get(selector)
        else {
            return Err(KernelError::InvalidCapability);
        };
        self.take_slot(actor, selector.0 as usize);
        let c = &self.threads[caller.index()];
        if c.state != ThreadState::AwaitingReply || !c.deferred || c.reply_seq != seq {
            return Err(KernelError::InvalidCapability);
        }
        let me = self.current;
        // SAFETY: the caller is blocked in `call`; its UTCB still holds its
        // request's label.
        let label = unsafe { (*self.threads[caller.index()].utcb).label };
        let window = if self.refusal_carries_none(me) {
            0
        } else {
            self.windows.get(object.index()).map_or(0, |w| w.get(label, true))
        };
        self.deliver_reply(me, caller, window);
        self.threads[caller.index()].deferred = false;
        self.make_ready(caller);
        Ok(self.preempt_if_needed(false))
    }

    /// A reply capability was dropped or its holder destroyed: the caller
    /// it stands for gets `ServerDead`.
    fn fail_deferred(&mut self, thread: ThreadId, seq: u32) {
        let t = &mut self.threads[thread.index()];
        if t.state == ThreadState::AwaitingReply && t.deferred && t.reply_seq == seq {
            t.deferred = false;
            self.fail_caller(thread, TransportError::ServerDead);
        }
    }
}

impl State {
    // ----- IPC ------------------------------------------------------------

    /// The current thread's call was refused: it gets an error reply.
    pub(crate) fn fail_current_call(&mut self, error: TransportError) {
        // SAFETY: the current thread's own UTCB, not in use during the call
        // (null only before `init`, when there is no thread to tell).
        if let Some(utcb) = unsafe { self.threads[self.current.index()].utcb.as_mut() } {
            ferrode_ipc::write_error_reply(utcb, error);
        }
    }

    /// Ends `caller`'s call with an error reply carrying `error` (how a
    /// call that was accepted but cannot be answered fails).
    fn fail_caller(&mut self, caller: ThreadId, error: TransportError) {
        let t = &mut self.threads[caller.index()];
        if matches!(t.state, ThreadState::SendQueued | ThreadState::AwaitingReply) {
            t.deferred = false;
            t.waiting_on = Link::NONE;
            // SAFETY: the caller is blocked in `call`; its UTCB is not in use.
            ferrode_ipc::write_error_reply(unsafe { &mut *t.utcb }, error);
            self.make_ready(caller);
        }
    }

    /// Queues `caller` at `server`, behind every caller of its priority or
    /// higher (so a high-priority client waits for at most one request
    /// being served, not for every lower one queued before it).
    fn push_sendq(&mut self, server: ThreadId, caller: ThreadId) {
        let priority = self.threads[caller.index()].priority;
        let mut previous = Link::NONE;
        let mut next = self.threads[server.index()].sendq_head;
        while let Some(t) = next.get() {
            if self.threads[t.index()].priority < priority {
                break;
            }
            previous = next;
            next = self.threads[t.index()].sendq_next;
        }
        self.threads[caller.index()].sendq_next = next;
        match previous.get() {
            Some(p) => self.threads[p.index()].sendq_next = Some(caller).into(),
            None => self.threads[server.index()].sendq_head = Some(caller).into(),
        }
        self.threads[caller.index()].waiting_on = Some(server).into();
    }

    fn pop_sendq(&mut self, server: ThreadId) -> Option<ThreadId> {
        let head = self.threads[server.index()].sendq_head.get()?;
        let next = self.threads[head.index()].sendq_next;
        self.threads[server.index()].sendq_head = next;
        self.threads[head.index()].waiting_on = Link::NONE;
        Some(head)
    }

    fn remove_from_sendq(&mut self, server: ThreadId, caller: ThreadId) {
        let mut previous = Link::NONE;
        let mut at = self.threads[server.index()].sendq_head;
        while let Some(t) = at.get() {
            let next = self.threads[t.index()].sendq_next;
            if t == caller {
                match previous.get() {
                    Some(p) => self.threads[p.index()].sendq_next = next,
                    None => self.threads[server.index()].sendq_head = next,
                }
                self.threads[caller.index()].waiting_on = Link::NONE;
                return;
            }
            previous = at;
            at = next;
        }
    }

    /// Whether a call from `caller` to `server` would wait for itself:
    /// the server is the caller, or is blocked (serving or queued) on a
    /// chain of calls that leads back to it.
    fn would_deadlock(&self, caller: ThreadId, server: ThreadId) -> bool {
        let mut at = server;
        for _ in 0..MAX_THREADS {
            if at == caller {
                return true;
            }
            let next = match self.threads[at.index()].state {
                ThreadState::SendQueued => self.threads[at.index()].waiting_on.get(),
                // Whoever serves it (a deferred reply has no thread).
                ThreadState::AwaitingReply => self
                    .threads
                    .iter()
                    .position(|t| t.reply_to.get() == Some(at))
                    .map(|i| ThreadId(i as u8)),
                _ => None,
            };
            match next {
                Some(next) => at = next,
                None => return false,
            }
        }
        false
    }

    /// Plans the transfer of the capabilities of `from`'s message to `to`:
    /// at most `window` of them, each valid, with room within `to`'s quota
    /// for those `to` does not hold yet. Checks everything before anything
    /// changes; the plan says, per capability, the entry it becomes and the
    /// slot of `to` that already holds it (if any). `plan` comes in as
    /// [`CapPlan::EMPTY`]; invalid selectors leave their entries so.
    fn plan_caps(
        &self,
        from: ThreadId,
        to: ThreadId,
        caps: usize,
        window: usize,
        plan: &mut CapPlan,
    ) -> Result<(), TransportError> {
        if caps > window {
            return Err(TransportError::TooManyCapabilities);
        }
        let source_component = self.threads[from.index()].component;
        let target_component = self.threads[to.index()].component;
        let utcb = self.threads[from.index()].utcb;
        let mut needed = 0;
        // By index, not by iterator adapters: this loop is most of what a
        // capability costs to send.
        for index in 0..caps.min(MSG_CAPS) {
            // SAFETY: the sender's UTCB; its owner is the current thread or
            // blocked; no reference to it is live.
            let selector = unsafe { (*utcb).caps[index] };
            if selector == CapSel::INVALID {
                continue;
            }
            let entry = self.copy_for(
                space_entry(&self.caps[source_component.index()], selector),
                target_component,
            )?;
            if matches!(entry, CapEntry::Revoked) {
                return Err(TransportError::InvalidCapability);
            }
            plan.entries[index] = entry;
            plan.origins[index] = Origin::of(source_component, selector);
            match self.find(target_component, entry) {
                Some(slot) => plan.existing[index] = slot as u8,
                // A second copy of an entry earlier in the message shares its slot.
                None if plan.entries[..index].contains(&entry) => {}
                None => {
                    needed += 1;
                    plan.fresh |= 1 << index;
                }
            }
        }
        if needed > 0 && needed > self.free_slots(target_component) {
            return Err(TransportError::CapabilitySpaceFull);
        }
        Ok(())
    }

    /// Carries out a plan made by [`State::plan_caps`] (cannot fail), and
    /// marks in the receiver's `Utcb::fresh` the capabilities it added to
    /// the receiver's space (not those it held already, nor a second copy
    /// of one earlier in the message).
    fn commit_caps(&mut self, to: ThreadId, caps: usize, plan: &CapPlan) {
        let target_component = self.threads[to.index()].component;
        for index in 0..caps {
            let translated = match plan.entries[index] {
                CapEntry::Empty => CapSel::INVALID,
                _ if plan.existing[index] != NOT_HELD => CapSel(plan.existing[index] as u32),
                entry => self
                    .insert(target_component, entry, plan.origins[index])
                    .unwrap_or(CapSel::INVALID),
            };
            // SAFETY: the receiver is blocked or waiting; its UTCB is not
            // in use; no reference to it is live.
            unsafe { (*self.threads[to.index()].utcb).caps[index] = translated };
        }
        // SAFETY: as above.
        unsafe {
            let utcb = &mut *self.threads[to.index()].utcb;
            utcb.cap_count = caps as u32;
            utcb.fresh = plan.fresh;
        }
    }

    /// The kernel copy: exactly the used words of `from`'s UTCB into `to`'s,
    /// capabilities (at most `window`) translated between their
    /// components. On `Err` nothing changed but the receiver's UTCB
    /// contents, which mean nothing until a delivery succeeds.
    #[inline(always)]
    fn transfer(
        &mut self,
        from: ThreadId,
        to: ThreadId,
        delivery: Delivery,
        window: usize,
    ) -> Result<(), TransportError> {
        let source = self.threads[from.index()].utcb;
        let target = self.threads[to.index()].utcb;
        // SAFETY: every thread's UTCB pointer comes from a `&'static mut
        // Utcb` handed to the kernel at spawn; `from` and `to` are distinct
        // threads, so the two UTCBs are distinct; their owners are blocked
        // or are the current thread inside this kernel call.
        let (words, caps) =
            unsafe { ((*source).word_count as usize, (*source).cap_count as usize) };
        if words > MSG_WORDS || caps > MSG_CAPS {
            return Err(TransportError::WrongLength);
        }
        let mut plan = CapPlan::EMPTY;
        if caps != 0 {
            self.plan_caps(from, to, caps, window, &mut plan)?;
        }
        // SAFETY: as above; no other reference to either UTCB is live.
        let (source, target) = unsafe { (&*source, &mut *target) };
        copy_message(source, target, words, delivery);
        if caps != 0 {
            self.commit_caps(to, caps, &plan);
        }
        Ok(())
    }

    /// Records that `server` now serves `caller`'s request to `object`.
    #[inline(always)]
    fn start_serving(&mut self, server: ThreadId, caller: ThreadId, object: ObjectId) {
        let dispatch = self.objects[object.index()].dispatch;
        let s = &mut self.threads[server.index()];
        s.reply_to = Some(caller).into();
        s.received_dispatch = dispatch;
        self.threads[caller.index()].state = ThreadState::AwaitingReply;
    }

    /// The thread `id` (ids are made by the kernel and always in range; the
    /// mask lets the compiler drop the bounds check).
    #[inline(always)]
    fn thread(&self, id: ThreadId) -> &Thread {
        &self.threads[id.index() & (MAX_THREADS - 1)]
    }

    #[inline(always)]
    fn thread_mut(&mut self, id: ThreadId) -> &mut Thread {
        &mut self.threads[id.index() & (MAX_THREADS - 1)]
    }

    /// `call`: see the crate docs. On `Err` nothing changed. A call that
    /// was accepted and later fails (server dead, object revoked while the
    /// call waited) ends with an error reply in the caller's UTCB.
    #[inline(always)]
    pub(crate) fn call(&mut self, selector: CapSel) -> Result<Option<Switch>, TransportError> {
        match self.call_fast(selector) {
            Some(switch) => Ok(Some(switch)),
            None => self.call_slow(selector),
        }
    }

    /// The common call: a live object whose entrypoint waits. Copies the
    /// request (translating capabilities within the method's window) and
    /// switches straight to the server (the priority rule makes it the
    /// best thread to run); `None` (with nothing changed) leaves every
    /// other case to [`State::call_slow`], which handles it completely.
    /// The hand-written fast paths do exactly this for messages without
    /// capabilities and leave the others to this one.
    #[inline(always)]
    fn call_fast(&mut self, selector: CapSel) -> Option<Switch> {
        let caller = self.current;
        let t = self.thread(caller);
        let component = t.component;
        let source = t.utcb;
        let entry = self.caps.get(component.index())?.get(selector);
        let CapEntry::Object { object, generation } = entry else { return None };
        let target = self.objects.get(object.index())?;
        // A dissolved object's generation has moved on, and a free slot's
        // generation is one no capability holds (see `revoke`): equal
        // generations mean the object is live.
        if target.generation != generation {
            return None;
        }
        let dispatch = target.dispatch;
        let server = target.entrypoint;
        let s = self.thread(server);
        if s.state != ThreadState::Waiting {
            return None;
        }
        let destination = s.utcb;
        // SAFETY: UTCB pointers come from `&'static mut Utcb`s handed to the
        // kernel at spawn; the caller runs, so its UTCB is not being written.
        let (words, caps, label) = unsafe {
            ((*source).word_count as usize, (*source).cap_count as usize, (*source).label)
        };
        if words > MSG_WORDS || caps > MSG_CAPS {
            return None;
        }
        // Capabilities within the method's window, all valid, with room:
        // otherwise the slow path refuses the call.
        let mut plan = CapPlan::EMPTY;
        if caps != 0
            && self
                .plan_caps(
                    caller,
                    server,
                    caps,
                    self.windows[object.index()].get(label, false),
                    &mut plan,
                )
                .is_err()
        {
            return None;
        }
        // SAFETY: caller and server are distinct threads (the server waits,
        // the caller runs), so the UTCBs are distinct; no other reference.
        copy_message(
            unsafe { &*source },
            unsafe { &mut *destination },
            words,
            Delivery::Request { badge: object.index() },
        );
        if caps != 0 {
            self.commit_caps(server, caps, &plan);
        }
        let s = self.thread_mut(server);
        s.reply_to = Some(caller).into();
        s.received_dispatch = dispatch;
        s.state = ThreadState::Running;
        self.thread_mut(caller).state = ThreadState::AwaitingReply;
        self.current = server;
        Some(Switch { from: caller, to: server })
    }

    /// Every call the fast path does not take: capability transfer, busy
    /// servers (queueing), self-calls and cycles, and all the failures.
    #[inline(never)]
    fn call_slow(&mut self, selector: CapSel) -> Result<Option<Switch>, TransportError> {
        let caller = self.current;
        let component = self.threads[caller.index()].component;
        let entry = self.caps[component.index()].get(selector);
        let (object, generation) = match entry {
            CapEntry::Object { object, generation } => (object, generation),
            CapEntry::Revoked => return Err(TransportError::ServerDead),
            _ => return Err(TransportError::InvalidCapability),
        };
        let target = &self.objects[object.index()];
        if !target.live || target.generation != generation {
            return Err(TransportError::ServerDead);
        }
        let server = target.entrypoint;
        // SAFETY: the caller's UTCB is its own; checked here so a malformed
        // request fails now rather than at delivery.
        let (words, caps, label) = unsafe {
            let utcb = &*self.threads[caller.index()].utcb;
            (utcb.word_count as usize, utcb.cap_count as usize, utcb.label)
        };
        if words > MSG_WORDS || caps > MSG_CAPS {
            return Err(TransportError::WrongLength);
        }
        let window = self.windows[object.index()].get(label, false);
        if caps > window {
            return Err(TransportError::TooManyCapabilities);
        }
        if self.would_deadlock(caller, server) {
            return Err(TransportError::Deadlock);
        }
        match self.threads[server.index()].state {
            ThreadState::Waiting => {
                self.transfer(caller, server, Delivery::Request { badge: object.index() }, window)?;
                self.start_serving(server, caller, object);
                Ok(Some(self.run(caller, server)))
            }
            ThreadState::Dead | ThreadState::Free => Err(TransportError::ServerDead),
            _ => {
                // Delivery happens later: remember which object (and which
                // generation of it) was called, to refuse it if revoked.
                self.threads[caller.index()].call_object = (object, generation);
                self.push_sendq(server, caller);
                Ok(self.block_current(ThreadState::SendQueued))
            }
        }
    }

    /// Delivers the next queued request to the current (server) thread, if
    /// any; failed deliveries fail their callers and move on.
    fn receive_queued(&mut self) -> bool {
        let server = self.current;
        while let Some(caller) = self.pop_sendq(server) {
            let (object, generation) = self.threads[caller.index()].call_object;
            let target = &self.objects[object.index()];
            if !target.live || target.generation != generation {
                self.fail_caller(caller, TransportError::ServerDead);
                continue;
            }
            // SAFETY: the caller is blocked; its UTCB holds its request.
            let label = unsafe { (*self.threads[caller.index()].utcb).label };
            let window = self.windows[object.index()].get(label, false);
            if let Err(error) =
                self.transfer(caller, server, Delivery::Request { badge: object.index() }, window)
            {
                self.fail_caller(caller, error);
                continue;
            }
            self.start_serving(server, caller, object);
            return true;
        }
        false
    }

    /// `reply_and_wait` (with `reply` false: `wait`).
    #[inline(always)]
    pub(crate) fn reply_and_wait(&mut self, reply: bool) -> Option<Switch> {
        if reply && let Some(switch) = self.reply_fast() {
            return Some(switch);
        }
        self.reply_and_wait_slow(reply)
    }

    /// The common reply: to a caller that is the best thread to run, with
    /// no other request queued. Copies the reply (capabilities within the
    /// method's reply window) and switches straight back; `None` (with
    /// nothing changed) leaves the rest to [`State::reply_and_wait_slow`].
    /// Error replies (whose code the kernel screens) are left to the slow
    /// path. The hand-written fast paths do exactly this for replies
    /// without capabilities.
    #[inline(always)]
    fn reply_fast(&mut self) -> Option<Switch> {
        let server = self.current;
        let s = self.thread(server);
        let caller = s.reply_to.get()?;
        if s.sendq_head.is_some() {
            return None;
        }
        let source = s.utcb;
        let c = self.thread(caller);
        if c.state != ThreadState::AwaitingReply
            || self.ready.highest().is_some_and(|best| best > c.priority)
        {
            return None;
        }
        let destination = c.utcb;
        // SAFETY: as in `call_fast`: the server's own UTCB, not written now.
        let (words, caps, error) = unsafe {
            ((*source).word_count as usize, (*source).cap_count as usize, (*source).error)
        };
        // An error reply goes the slow way, as in the hand-written paths.
        if words > MSG_WORDS || caps > MSG_CAPS || error != 0 {
            return None;
        }
        let mut plan = CapPlan::EMPTY;
        if caps != 0
            && self
                .plan_caps(server, caller, caps, self.reply_window(server, caller), &mut plan)
                .is_err()
        {
            return None;
        }
        // SAFETY: distinct threads' `&'static mut` UTCBs, no other reference.
        copy_message(unsafe { &*source }, unsafe { &mut *destination }, words, Delivery::Reply);
        if caps != 0 {
            self.commit_caps(caller, caps, &plan);
        }
        let s = self.thread_mut(server);
        s.reply_to = Link::NONE;
        s.state = ThreadState::Waiting;
        self.thread_mut(caller).state = ThreadState::Running;
        self.current = caller;
        Some(Switch { from: server, to: caller })
    }

    /// The reply window of the request `server` serves for `caller`: what
    /// the called method's reply may carry. A reply that is not an `Ok`
    /// (see [`Self::refusal_carries_none`]) may carry none.
    fn reply_window(&self, server: ThreadId, caller: ThreadId) -> usize {
        if self.refusal_carries_none(server) {
            return 0;
        }
        let Some(dispatch) = self.threads[server.index()].received_dispatch else { return 0 };
        let serves = |o: &Object| {
            o.live
                && o.entrypoint == server
                && o.dispatch.is_some_and(|d| core::ptr::addr_eq(d.as_ptr(), dispatch.as_ptr()))
        };
        // The request arrived with the object's index as its badge; a
        // nested call of the server may have overwritten it since.
        // SAFETY: the server's own UTCB (the current thread's).
        let badge = unsafe { (*self.threads[server.index()].utcb).badge };
        let object = match self.objects.get(badge) {
            Some(o) if serves(o) => badge,
            _ => match self.objects.iter().position(serves) {
                Some(object) => object,
                None => return 0,
            },
        };
        // SAFETY: the caller is blocked in `call`; its UTCB still holds its
        // request's label.
        let label = unsafe { (*self.threads[caller.index()].utcb).label };
        self.windows[object].get(label, true)
    }

    /// Whether the reply in `server`'s UTCB is a refusal (an error reply
    /// or a method's `Err`), whose window is 0: authority travels only
    /// with success (an interface's error types carry no capabilities), so
    /// a hostile server cannot fill its client's space with capabilities
    /// attached to replies the client discards.
    fn refusal_carries_none(&self, server: ThreadId) -> bool {
        // SAFETY: the server's own UTCB; it is the current thread, inside
        // this kernel call.
        !unsafe { (*self.threads[server.index()].utcb).is_ok_reply() }
    }

    /// Copies the reply to `caller`; if it cannot be delivered as sent, the
    /// caller is told why instead of getting half a message.
    ///
    /// The server's error code reaches the caller as
    /// [`TransportError::from_server`] lets it through: a code only the
    /// kernel reports (an invalid capability, a deadlock, ...) comes from
    /// the kernel, never from the server called. (The fast paths take no
    /// reply with an error code.)
    fn deliver_reply(&mut self, server: ThreadId, caller: ThreadId, window: usize) {
        let result = self.transfer(server, caller, Delivery::Reply, window);
        // SAFETY: the caller is blocked; its UTCB is not in use, and the
        // copy is over.
        let utcb = unsafe { &mut *self.threads[caller.index()].utcb };
        match result {
            Ok(()) => utcb.error = TransportError::from_server(utcb.error),
            Err(error) => ferrode_ipc::write_error_reply(utcb, error),
        }
    }

    #[inline(never)]
    fn reply_and_wait_slow(&mut self, reply: bool) -> Option<Switch> {
        let server = self.current;
        let mut replied = None;
        if let Some(caller) = self.threads[server.index()].reply_to.get() {
            if reply && self.threads[caller.index()].state == ThreadState::AwaitingReply {
                let window = self.reply_window(server, caller);
                self.threads[server.index()].reply_to = Link::NONE;
                self.deliver_reply(server, caller, window);
                replied = Some(caller);
            } else {
                self.threads[server.index()].reply_to = Link::NONE;
                self.fail_caller(caller, TransportError::ServerDead);
            }
        }
        if self.receive_queued() {
            if let Some(caller) = replied {
                self.make_ready(caller);
            }
            return self.preempt_if_needed(false);
        }
        self.threads[server.index()].state = ThreadState::Waiting;
        match replied {
            // Direct switch back to the caller unless something better waits.
            Some(caller)
                if self
                    .ready
                    .highest()
                    .is_none_or(|best| best <= self.threads[caller.index()].priority) =>
            {
                Some(self.run(server, caller))
            }
            Some(caller) => {
                self.make_ready(caller);
                self.block_current(ThreadState::Waiting)
            }
            None => self.block_current(ThreadState::Waiting),
        }
    }

    // ----- signals --------------------------------------------------------

    /// The signal `selector` designates in the actor's space, whether
    /// the capability carries the wait right, and its badge.
    fn signal_of(&self, selector: CapSel) -> Option<(SignalId, bool, u8)> {
        let CapEntry::Signal { signal, wait, badge, generation } =
            self.caps[self.actor().index()].get(selector)
        else {
            return None;
        };
        let s = &self.signals[signal.index()];
        (s.used && s.generation == generation).then_some((signal, wait, badge))
    }

    /// The signal `selector` designates, if the capability carries the
    /// wait right (the owner's).
    fn owned_signal(&self, selector: CapSel) -> Result<SignalId, TransportError> {
        match self.signal_of(selector) {
            Some((signal, true, _)) => Ok(signal),
            _ => Err(TransportError::InvalidCapability),
        }
    }

    /// A copy of the actor's signal capability `selector`, in its own
    /// space, carrying `badge` and only the right to submit (seL4's mint).
    /// Derived from `selector`: revoking that one's copies takes it too.
    /// The slot of an equal copy (same signal, same badge) if the space
    /// holds one already. Only the signal's owner (its receiver) mints:
    /// a badge tells the waiter which copy submitted, so a holder of a
    /// copy that could mint another badge could pass for another source
    /// ([`KernelError::NotOwner`]). A badge above [`MAX_BADGE`] is
    /// [`KernelError::InvalidBadge`]: a waiter learns badges as bits of
    /// one word.
    pub(crate) fn mint_signal(
        &mut self,
        selector: CapSel,
        badge: u8,
    ) -> Result<CapSel, KernelError> {
        let actor = self.actor();
        let (signal, ..) = self.signal_of(selector).ok_or(KernelError::InvalidCapability)?;
        if self.signals[signal.index()].owner != actor {
            return Err(KernelError::NotOwner);
        }
        if badge > MAX_BADGE {
            return Err(KernelError::InvalidBadge);
        }
        let generation = self.signals[signal.index()].generation;
        let entry = CapEntry::Signal { signal, wait: false, badge, generation };
        self.insert(actor, entry, Origin::of(actor, selector))
            .map_err(|_| KernelError::CapabilitySpaceFull)
    }

    /// The owner of the signal `selector` designates asks to be told when
    /// a component holding a copy (a submitter: the server it gave the
    /// signal to) is destroyed: a thread waiting on the signal then wakes,
    /// and a later wait that finds no count returns, with `ServerDead`,
    /// once per destroyed holder. A submitter that merely drops its copy
    /// (a session closed as agreed) is no news.
    pub(crate) fn watch_submitters(&mut self, selector: CapSel) -> Result<(), TransportError> {
        let signal = self.owned_signal(selector)?;
        self.signals[signal.index()].watched = true;
        Ok(())
    }

    /// A component that held a copy of `signal` (of `generation`) is
    /// destroyed: a watching owner learns it ([`State::watch_submitters`]).
    fn submitter_lost(&mut self, signal: SignalId, generation: u32) {
        let s = &mut self.signals[signal.index()];
        if !s.used || s.generation != generation || !s.watched {
            return;
        }
        match s.waiter.take() {
            // A waiter is woken only with a count, or with none for this.
            Some(waiter) => {
                let t = &mut self.threads[waiter.index()];
                t.signal_count = 0;
                t.signal_badges = 0;
                self.make_ready(waiter);
            }
            None => s.submitter_lost = true,
        }
    }

    /// Submits the signal `selector` designates in the current component.
    pub(crate) fn submit(&mut self, selector: CapSel) -> Result<Option<Switch>, TransportError> {
        let (signal, _, badge) =
            self.signal_of(selector).ok_or(TransportError::InvalidCapability)?;
        Ok(self.submit_signal(signal, badge))
    }

    /// Submits `signal` from interrupt context, as a copy with `badge`
    /// would: wakes the waiter but switches only at interrupt exit
    /// ([`State::interrupt_exit`]), after the interrupt controller has
    /// been told the interrupt is done.
    pub(crate) fn submit_signal_deferred(&mut self, signal: SignalId, badge: u8) {
        if self.count_signal(signal, badge) {
            self.resched = true;
        }
    }

    /// [`submit_signal_deferred`](Self::submit_signal_deferred), only if
    /// `signal` is still the signal of `generation`: one freed since (its
    /// owner destroyed) and maybe made anew for someone else is left alone.
    pub(crate) fn submit_signal_deferred_of(
        &mut self,
        signal: SignalId,
        generation: u32,
        badge: u8,
    ) {
        let current = self.signals.get(signal.index()).map(|slot| slot.generation);
        if current == Some(generation) {
            self.submit_signal_deferred(signal, badge);
        }
    }

    /// Timer interrupt: ask for round-robin at interrupt exit.
    pub(crate) fn tick_from_interrupt(&mut self) {
        self.tick_pending = true;
    }

    /// End of interrupt handling: the switch the interrupt asked for, if
    /// any (round-robin on a tick, or to a woken thread of higher priority).
    pub(crate) fn interrupt_exit(&mut self) -> Option<Switch> {
        let round_robin = core::mem::take(&mut self.tick_pending);
        let woken = core::mem::take(&mut self.resched);
        if round_robin || woken { self.preempt_if_needed(round_robin) } else { None }
    }

    /// Submits `signal` from thread context, through a copy with `badge`
    /// (may switch to the waiter).
    pub(crate) fn submit_signal(&mut self, signal: SignalId, badge: u8) -> Option<Switch> {
        if self.count_signal(signal, badge) { self.preempt_if_needed(false) } else { None }
    }

    /// Counts one submission of `signal`, through a copy with `badge`; if
    /// a thread waits on it, hands it the count and the badges and makes
    /// it ready. Returns whether a thread was woken.
    fn count_signal(&mut self, signal: SignalId, badge: u8) -> bool {
        let Some(slot) = self.signals.get_mut(signal.index()) else { return false };
        if !slot.used {
            return false;
        }
        slot.count = slot.count.saturating_add(1);
        slot.badges |= badge_bit(badge);
        let Some(waiter) = slot.waiter.take() else { return false };
        let count = core::mem::take(&mut slot.count);
        let badges = core::mem::take(&mut slot.badges);
        let t = &mut self.threads[waiter.index()];
        t.signal_count = count;
        t.signal_badges = badges;
        self.make_ready(waiter);
        true
    }

    /// Waits for the signal `selector` designates; the count is delivered
    /// in the thread's `signal_count` and the badges in its
    /// `signal_badges` (at once if already pending; count 0: a watched
    /// submitter died while the thread waited). Only a capability
    /// with the wait right (the owner's) may wait:
    /// [`TransportError::InvalidCapability`] otherwise. A watched signal
    /// whose submitter died while no thread waited answers the first wait
    /// that finds no count with [`TransportError::ServerDead`].
    pub(crate) fn wait_signal(
        &mut self,
        selector: CapSel,
    ) -> Result<Option<Switch>, TransportError> {
        let signal = self.owned_signal(selector)?;
        let me = self.current;
        let slot = &mut self.signals[signal.index()];
        if slot.count > 0 {
            let t = &mut self.threads[me.index()];
            t.signal_count = core::mem::take(&mut slot.count);
            t.signal_badges = core::mem::take(&mut slot.badges);
            return Ok(None);
        }
        if core::mem::take(&mut slot.submitter_lost) {
            return Err(TransportError::ServerDead);
        }
        if slot.waiter.is_some() {
            // One waiter per signal, as in Genode's signal receiver.
            return Err(TransportError::InvalidCapability);
        }
        slot.waiter = Some(me);
        Ok(self.block_current(ThreadState::SignalWait))
    }

    // ----- stacks -----------------------------------------------------------

    /// Whether `thread`'s stack guard is intact (always, for a thread whose
    /// stack the kernel did not allocate).
    /// The quick look a context switch takes: the guard's lowest and
    /// highest words (the tick's [`State::stack_intact`] reads them all).
    pub(crate) fn stack_ends_intact(&self, thread: ThreadId) -> bool {
        let t = &self.threads[thread.index()];
        if t.stack_base == 0 {
            return true;
        }
        let guard = guard_start(t.stack_base);
        [0, STACK_GUARD_WORDS - 1].iter().all(|&word| {
            // SAFETY: as in `stack_intact`.
            unsafe { core::ptr::read_volatile((guard as *const usize).add(word)) == STACK_GUARD }
        })
    }

    /// As [`crate::Kernel::restart_current_stack`], for `thread`: its
    /// guard written again, and its stack's end (8-byte aligned).
    ///
    /// # Safety
    ///
    /// Nothing reads `thread`'s frames again (they are overwritten).
    pub(crate) unsafe fn restart_stack(&self, thread: ThreadId) -> Option<usize> {
        let t = &self.threads[thread.index()];
        if t.stack_base == 0 {
            return None;
        }
        // SAFETY: the thread's own stack, whose frames the caller
        // abandons; the words are inside its recorded `stack_len` bytes.
        unsafe {
            write_stack_guard(core::ptr::with_exposed_provenance_mut(t.stack_base), t.stack_len)
        };
        Some(t.stack_base.wrapping_add(t.stack_len) & !7)
    }

    pub(crate) fn stack_intact(&self, thread: ThreadId) -> bool {
        let t = &self.threads[thread.index()];
        if t.stack_base == 0 {
            return true;
        }
        let guard = guard_start(t.stack_base);
        (0..STACK_GUARD_WORDS).all(|word| {
            // SAFETY: the lowest aligned words of the thread's own stack,
            // written by the kernel at spawn (`MIN_STACK` leaves room for
            // them); read with volatile loads because the thread writes
            // them only by overflowing.
            unsafe { core::ptr::read_volatile((guard as *const usize).add(word)) == STACK_GUARD }
        })
    }
}

fn check_priority(priority: u8) -> Result<(), KernelError> {
    if priority == 0 || priority as usize >= PRIORITIES {
        Err(KernelError::InvalidPriority)
    } else {
        Ok(())
    }
}

/// Which way a message goes: the header fields the kernel sets.
#[derive(Clone, Copy)]
enum Delivery {
    /// To a server: the badge names the object called; a request carries
    /// no error code (it arrives as 0).
    Request { badge: usize },
    /// Back to the caller: badge 0, the server's error code (0 on the
    /// fast paths; screened by [`State::deliver_reply`] otherwise).
    Reply,
}

impl Delivery {
    #[inline(always)]
    fn badge(self) -> usize {
        match self {
            Delivery::Request { badge } => badge,
            Delivery::Reply => 0,
        }
    }

    #[inline(always)]
    fn error(self, source: &Utcb) -> u32 {
        match self {
            Delivery::Request { .. } => 0,
            Delivery::Reply => source.error,
        }
    }
}

/// The fast paths' copy of a message without capabilities: the header
/// and exactly `words` (already checked against the UTCB) words.
#[inline(always)]
fn copy_message(source: &Utcb, destination: &mut Utcb, words: usize, delivery: Delivery) {
    destination.label = source.label;
    destination.badge = delivery.badge();
    destination.word_count = words as u32;
    destination.cap_count = 0;
    destination.error = delivery.error(source);
    copy_words(&source.words[..words], &mut destination.words[..words]);
}

/// Copies message words; short messages (the common case) without a call.
#[inline(always)]
fn copy_words(source: &[usize], target: &mut [usize]) {
    if source.len() <= 4 {
        for (t, s) in target.iter_mut().zip(source) {
            *t = *s;
        }
    } else {
        target.copy_from_slice(source);
    }
}

#[cfg(test)]
impl State {
    /// Writes `entry` into a slot directly, as a test arranging an odd
    /// state does, keeping the used-slot mask true (and an emptied slot
    /// without a derivation record).
    pub(crate) fn put_slot(&mut self, component: ComponentId, slot: usize, entry: CapEntry) {
        self.caps[component.index()].slots[slot] = entry;
        let bit = 1 << slot;
        if entry == CapEntry::Empty {
            self.used[component.index()] &= !bit;
            self.origins[component.index()][slot] = Origin::NONE;
        } else {
            self.used[component.index()] |= bit;
        }
    }

    /// Sets a thread slot's reply sequence, as after that many deferrals.
    pub(crate) fn set_reply_seq_for_tests(&mut self, thread: ThreadId, seq: u32) {
        self.threads[thread.index()].reply_seq = seq;
    }

    /// Panics unless the slot masks say what the spaces and origins do:
    /// a used bit for exactly the slots that hold an entry, a copied bit
    /// for every slot some origin names, and no origin for an empty slot
    /// (so a space with no used bit has no derivation records).
    pub(crate) fn check_slot_masks(&self) {
        for (component, (space, origins)) in self.caps.iter().zip(&self.origins).enumerate() {
            for (slot, (entry, origin)) in space.slots.iter().zip(origins).enumerate() {
                let used = self.used[component] & (1 << slot) != 0;
                assert_eq!(
                    used,
                    *entry != CapEntry::Empty,
                    "used bit of component {component} slot {slot} ({entry:?})"
                );
                assert!(
                    used || origin.component().is_none(),
                    "empty slot {slot} of component {component} has a derivation record"
                );
                if let Some(from) = origin.component() {
                    assert!(
                        self.copied[from.index()] & (1 << origin.slot()) != 0,
                        "component {component} slot {slot} derives from component {} slot {}, \
                         whose copied bit is clear",
                        from.index(),
                        origin.slot()
                    );
                }
            }
        }
    }
}
