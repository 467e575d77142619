//! Host tests of [`Kernel`], the state machine's wrapper that components
//! call: each method runs one operation with interrupts masked, performs
//! the switch it decided and hands back what the operation answered.
//! The state machine's tests above do not reach this layer; without these,
//! a method that dropped a refusal (`Ok(())` for an `Err`), a count, a
//! switch or the object a server is to serve went unnoticed on the host.
//!
//! The CPU is a host model ([`HostCpu`]) that records a switch instead of
//! making it: once `switch` returns, the kernel's current thread is the
//! one switched to, and the test goes on as that thread (as the state
//! machine's tests act as whichever thread the kernel made current).
//!
//! Mutations of `Kernel` no test here can catch, as they change no
//! behaviour: in `Kernel::reap`, `base == 0 || utcb.is_null()` with `&&`:
//! every thread `State::reap` gives back was started by `Kernel::spawn`
//! (the boot thread is refused before), so its stack base and UTCB are
//! never null and neither form of the check is ever true.

use std::cell::RefCell;

use super::*;
use crate::arch::{Arch, ThreadEntry};
use crate::kernel::{Kernel, MIN_STACK, Signalled};
use crate::state::{MAX_BADGE, MAX_COMPONENTS, MAX_THREADS};

thread_local! {
    /// How many switches [`HostCpu::switch`] was asked for (each test runs
    /// on a thread of its own).
    static SWITCHES: RefCell<usize> = const { RefCell::new(0) };
}

fn switches() -> usize {
    SWITCHES.with(|count| *count.borrow())
}

/// The host model of a CPU: interrupts are always "masked" (one host
/// thread runs the whole kernel), a switch is counted, not made.
struct HostCpu;

// SAFETY: no simulated thread ever runs on a stack or frame this model
// made: `prepare_stack` writes nothing and `switch` returns to its caller
// (the test, which then acts as the thread switched to), so there is no
// frame for `switch` to resume wrongly.
unsafe impl Arch for HostCpu {
    unsafe fn switch(_save: *mut usize, _load: usize) {
        SWITCHES.with(|count| *count.borrow_mut() += 1);
    }

    fn prepare_stack(stack: &'static mut [u8], _entry: ThreadEntry, _argument: usize) -> usize {
        stack.as_ptr() as usize + stack.len()
    }

    fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
        f()
    }

    fn wait_for_interrupt() {}

    fn stack_overflow(thread: &'static str) -> ! {
        panic!("stack overflow in {thread}")
    }
}

extern "C" fn never_runs(_: usize) -> ! {
    unreachable!("a simulated thread's entry ran")
}

fn leaked_stack(len: usize) -> &'static mut [u8] {
    std::vec![0u8; len].leak()
}

/// A leaked stack and the address of its bottom, exposed so that the
/// test can still reach the stack through that address (to break its
/// guard) after handing it to the kernel. Under Miri's Stacked Borrows
/// this matters: the kernel hands the stack on to `Arch::prepare_stack`,
/// whose reborrow of it invalidates every pointer derived from it before;
/// a pointer the stack was derived *from* stays valid (which is how the
/// kernel keeps its own address of the stack: `guard_stack`).
fn exposed_stack(len: usize) -> (&'static mut [u8], usize) {
    let bottom = leaked_stack(len).as_mut_ptr();
    // SAFETY: the `len` bytes just leaked, reached from here on only
    // through this slice (and, once it is gone, through `bottom`).
    (unsafe { core::slice::from_raw_parts_mut(bottom, len) }, bottom.expose_provenance())
}

fn leaked_utcb() -> &'static mut Utcb {
    Box::leak(Box::new(Utcb::new()))
}

/// A kernel as a board starts it: the boot thread (`main`, priority 2) of
/// the root component and the idle thread; a server component (priority
/// 3) whose entrypoint waits; a `Demo` object it serves, root's `demo`.
struct Booted {
    kernel: Box<Kernel<HostCpu>>,
    root: ComponentId,
    server: ComponentId,
    main: ThreadId,
    entrypoint: ThreadId,
    demo: CapSel,
    demo_object: NonNull<dyn Dispatch>,
}

fn boot() -> Booted {
    let kernel = Box::new(Kernel::<HostCpu>::new());
    let root =
        kernel.init("root", 2, leaked_utcb(), leaked_stack(MIN_STACK), leaked_utcb()).unwrap();
    let main = kernel.current_thread();
    let server = kernel.create_component("server", Quota::at_priority(3)).unwrap();
    let entrypoint = kernel
        .spawn(server, "ep", 3, leaked_stack(MIN_STACK), leaked_utcb(), never_runs, 0)
        .unwrap();
    // The entrypoint outranks main: it runs at once, and starts waiting.
    assert_eq!(kernel.current_thread(), entrypoint);
    assert_eq!(kernel.wait().map(|d| d.as_ptr() as *const u8), None);
    assert_eq!(kernel.current_thread(), main);
    let (demo_object, window) = object::<dyn Demo, _>(DemoServer::default());
    // SAFETY: a leaked object that only the entrypoint dispatches to.
    let (_, demo) = unsafe { kernel.create_object(entrypoint, demo_object, window) }.unwrap();
    Booted { kernel, root, server, main, entrypoint, demo, demo_object }
}

impl Booted {
    /// Acts as `thread` from now on (bypassing the scheduler).
    fn act_as(&self, thread: ThreadId) {
        self.kernel.read(|state| act_as(state, thread));
    }

    /// The running thread's UTCB, to write a request or a reply.
    fn utcb(&mut self) -> &mut Utcb {
        // SAFETY: the running thread's leaked UTCB; the simulated threads
        // hold no other reference to it across kernel calls.
        unsafe { &mut *self.kernel.current_utcb() }
    }

    /// `thread`'s UTCB, to read what the kernel left there.
    fn utcb_of(&self, thread: ThreadId) -> &Utcb {
        // SAFETY: a leaked UTCB, only read while no kernel call runs.
        self.kernel.read(|state| unsafe { &*state.threads[thread.index()].utcb })
    }

    /// The running thread calls `demo` with a ping.
    fn ping(&mut self) {
        let request = self.utcb();
        request.label = ping_label();
        request.word_count = 0;
        request.cap_count = 0;
        self.kernel.call(self.demo);
    }

    /// The running (server) thread writes an `Ok(value)` reply.
    fn write_ok_reply(&mut self, value: usize) {
        let reply = self.utcb();
        reply.error = 0;
        reply.word_count = 2;
        reply.cap_count = 0;
        reply.words[..2].copy_from_slice(&[0, value]);
    }

    /// A root thread of main's priority (ready, not running).
    fn root_thread(&self, name: &'static str) -> ThreadId {
        self.kernel
            .spawn(self.root, name, 2, leaked_stack(MIN_STACK), leaked_utcb(), never_runs, 0)
            .unwrap()
    }
}

fn same_object(a: Option<NonNull<dyn Dispatch>>, b: NonNull<dyn Dispatch>) -> bool {
    a.is_some_and(|a| core::ptr::addr_eq(a.as_ptr(), b.as_ptr()))
}

#[test]
fn a_stack_below_the_minimum_is_refused_and_one_of_the_minimum_taken() {
    let b = boot();
    let short = b.kernel.spawn(
        b.root,
        "short",
        2,
        leaked_stack(MIN_STACK - 1),
        leaked_utcb(),
        never_runs,
        0,
    );
    assert_eq!(short, Err(KernelError::StackTooSmall));
    let enough = b
        .kernel
        .spawn(b.root, "enough", 2, leaked_stack(MIN_STACK), leaked_utcb(), never_runs, 0)
        .unwrap();
    assert_eq!(b.kernel.thread_state(enough), Some(ThreadState::Ready));
}

#[test]
fn the_kernels_queries_describe_live_threads_and_components_only() {
    let b = boot();
    let k = &b.kernel;
    assert_eq!(k.current_component(), b.root);
    assert_eq!(k.component_name(b.server), Some("server"));
    assert_eq!(k.component_name(ComponentId::from_index(MAX_COMPONENTS - 1)), None);
    assert_eq!(k.thread_component(b.entrypoint), Some(b.server));
    assert_eq!(k.thread_priority(b.entrypoint), Some(3));
    assert_eq!(k.thread_state(b.entrypoint), Some(ThreadState::Waiting));
    // A free slot's record (component 0, priority 0) describes no thread.
    let free = ThreadId::from_index(MAX_THREADS - 1);
    assert_eq!(k.thread_state(free), Some(ThreadState::Free));
    assert_eq!(k.thread_component(free), None);
    assert_eq!(k.thread_priority(free), None);
    assert_eq!(k.thread_state(ThreadId::from_index(MAX_THREADS)), None);
    assert!(k.component_within(b.server, b.root));
    assert!(!k.component_within(b.root, b.server));
}

#[test]
fn the_running_thread_sees_its_own_utcb_and_whether_it_is_core() {
    let b = boot();
    let utcb_of = |thread: ThreadId| b.kernel.read(|state| state.threads[thread.index()].utcb);
    assert!(b.kernel.running_in_root());
    assert_eq!(b.kernel.current_utcb(), utcb_of(b.main));
    b.act_as(b.entrypoint);
    assert!(!b.kernel.running_in_root());
    assert_eq!(b.kernel.current_utcb(), utcb_of(b.entrypoint));
    assert_ne!(utcb_of(b.entrypoint), utcb_of(b.main));
}

#[test]
fn a_call_switches_to_the_server_and_its_reply_switches_back() {
    let mut b = boot();
    let before = switches();
    b.ping();
    assert_eq!(switches(), before + 1);
    assert_eq!(b.kernel.current_thread(), b.entrypoint, "the server runs the request");
    assert_eq!(b.utcb().label, ping_label());
    assert_eq!(b.kernel.thread_state(b.main), Some(ThreadState::AwaitingReply));
    b.write_ok_reply(7);
    b.kernel.reply_and_wait();
    assert_eq!(switches(), before + 2);
    assert_eq!(b.kernel.current_thread(), b.main, "the caller runs its reply");
    assert_eq!(b.utcb().words[..2], [0, 7]);
    assert_eq!(b.kernel.thread_state(b.entrypoint), Some(ThreadState::Waiting));
}

/// What a hand-written fast path falls back to, a reply done by the
/// kernel's Rust code, replies as `reply_and_wait` does.
#[test]
fn the_rust_reply_an_arch_falls_back_to_replies_and_switches_back() {
    let mut b = boot();
    b.ping();
    assert_eq!(b.kernel.current_thread(), b.entrypoint);
    b.write_ok_reply(9);
    b.kernel.reply_and_wait_in_rust();
    assert_eq!(b.kernel.current_thread(), b.main);
    assert_eq!(b.utcb().words[..2], [0, 9]);
    assert_eq!(b.kernel.thread_state(b.entrypoint), Some(ThreadState::Waiting));
}

/// A server that replies (or waits) with requests queued takes the next
/// one without a switch, and learns which of its objects to dispatch it
/// to; waiting without a reply fails the caller it was serving.
#[test]
fn a_server_with_requests_queued_gets_the_next_ones_object_at_once() {
    let mut b = boot();
    let second = b.root_thread("second");
    let third = b.root_thread("third");
    b.ping();
    // While the server serves main, two more callers queue up.
    for caller in [second, third] {
        b.act_as(caller);
        b.ping();
        assert_eq!(b.kernel.thread_state(caller), Some(ThreadState::SendQueued));
        assert_eq!(b.kernel.current_thread(), b.entrypoint);
    }
    b.write_ok_reply(1);
    let before = switches();
    assert!(same_object(b.kernel.reply_and_wait(), b.demo_object));
    assert_eq!(b.kernel.current_thread(), b.entrypoint);
    assert_eq!(b.utcb_of(b.main).words[..2], [0, 1], "main got its reply");
    assert_eq!(b.kernel.thread_state(second), Some(ThreadState::AwaitingReply));
    assert!(same_object(b.kernel.wait(), b.demo_object));
    assert_eq!(b.kernel.current_thread(), b.entrypoint);
    assert_eq!(switches(), before, "the server went on serving");
    assert_eq!(b.utcb_of(second).error, TransportError::ServerDead.code());
    assert_eq!(b.kernel.thread_state(third), Some(ThreadState::AwaitingReply));
}

#[test]
fn yielding_hands_the_cpu_to_a_ready_thread_of_the_same_priority() {
    let b = boot();
    let other = b.root_thread("other");
    assert_eq!(b.kernel.current_thread(), b.main);
    b.kernel.yield_now();
    assert_eq!(b.kernel.current_thread(), other);
    assert_eq!(b.kernel.thread_state(b.main), Some(ThreadState::Ready));
}

#[test]
fn a_signal_wait_collects_every_submission_so_far() {
    let b = boot();
    let (_, signal) = b.kernel.create_signal().unwrap();
    for _ in 0..3 {
        b.kernel.submit(signal).unwrap();
    }
    assert_eq!(b.kernel.wait_signal(signal), Ok(3));
    assert_eq!(b.kernel.submit(CapSel(30)), Err(TransportError::InvalidCapability));
    assert_eq!(b.kernel.wait_signal(CapSel(30)), Err(TransportError::InvalidCapability));
}

#[test]
fn a_signal_wait_says_which_copies_the_submissions_came_through() {
    let b = boot();
    let k = &b.kernel;
    let (_, signal) = k.create_signal().unwrap();
    let first = k.mint_signal(signal, 1).unwrap();
    let last = k.mint_signal(signal, MAX_BADGE).unwrap();
    k.submit(first).unwrap();
    k.submit(last).unwrap();
    k.submit(first).unwrap();
    let signalled = k.wait_signal_badges(signal).unwrap();
    assert_eq!(signalled, Signalled { count: 3, badges: 1 << 1 | 1 << 31 });
    assert!(signalled.from(1) && signalled.from(MAX_BADGE));
    assert!(!signalled.from(0) && !signalled.from(2) && !signalled.from(32));
    // The badges were delivered with the count: the next wait has only
    // its own, the signal's own capability's 0.
    k.submit(signal).unwrap();
    assert_eq!(k.wait_signal_badges(signal), Ok(Signalled { count: 1, badges: 1 }));
    // A badge a word cannot show is refused, and mints nothing.
    assert_eq!(k.mint_signal(signal, MAX_BADGE + 1), Err(KernelError::InvalidBadge));
    assert_eq!(k.mint_signal(signal, u8::MAX), Err(KernelError::InvalidBadge));
    assert_eq!(k.wait_signal_badges(CapSel(30)), Err(TransportError::InvalidCapability));
}

#[test]
fn the_kernels_refusals_reach_the_component_that_asked() {
    let b = boot();
    let k = &b.kernel;
    let empty = CapSel(30);
    assert_eq!(k.revoke(empty), Err(KernelError::InvalidCapability));
    assert_eq!(k.drop_capability(empty), Err(KernelError::InvalidCapability));
    assert_eq!(k.reply_deferred(empty), Err(KernelError::InvalidCapability));
    assert_eq!(k.revoke_copies(empty), Err(KernelError::InvalidCapability));
    assert_eq!(k.mint_signal(empty, 1), Err(KernelError::InvalidCapability));
    assert_eq!(k.destroy_component(b.root), Err(KernelError::NoAuthority));
    let nobody = ComponentId::from_index(MAX_COMPONENTS - 1);
    assert_eq!(k.take_back(b.root, nobody), Err(KernelError::InvalidComponent));
    // The server's thread may not act on root.
    b.act_as(b.entrypoint);
    assert_eq!(k.destroy_component(b.root), Err(KernelError::NoAuthority));
}

#[test]
fn take_back_and_revoke_copies_count_what_they_took() {
    let b = boot();
    let k = &b.kernel;
    let first = k.create_component("first", Quota::at_priority(2)).unwrap();
    let second = k.create_component("second", Quota::at_priority(2)).unwrap();
    let (_, signal) = k.create_signal().unwrap();
    k.delegate(b.root, b.demo, first).unwrap();
    k.delegate(b.root, signal, first).unwrap();
    assert_eq!(k.take_back(b.root, first), Ok(2));
    k.delegate(b.root, b.demo, first).unwrap();
    k.delegate(b.root, b.demo, second).unwrap();
    assert_eq!(k.revoke_copies(b.demo), Ok(2));
    assert_eq!(k.revoke_copies(b.demo), Ok(0));
    // A minted copy is a slot of its own, derived from the signal's.
    let minted = k.mint_signal(signal, 3).unwrap();
    assert_ne!(minted, signal);
    k.delegate(b.root, minted, second).unwrap();
    assert_eq!(k.revoke_copies(minted), Ok(1));
}

#[test]
fn a_destroyed_components_thread_gives_back_the_stack_and_utcb_it_was_given() {
    let b = boot();
    let k = &b.kernel;
    let child = k.create_component("child", Quota::at_priority(2)).unwrap();
    // A stack the test keeps no pointer of its own to: `reap` must give it
    // back from what the kernel kept (which Miri checks as well).
    let stack = leaked_stack(MIN_STACK + 8);
    let (base, len) = (stack.as_ptr() as usize, stack.len());
    let utcb = leaked_utcb();
    let utcb_at = core::ptr::from_mut(utcb) as usize;
    let worker = k.spawn(child, "worker", 2, stack, utcb, never_runs, 0).unwrap();
    assert_eq!(k.reap(worker).err(), Some(KernelError::InvalidThread), "it still runs");
    k.destroy_component(child).unwrap();
    assert_eq!(k.thread_state(worker), Some(ThreadState::Dead));
    let (stack, utcb) = k.reap(worker).unwrap();
    assert_eq!((stack.as_ptr() as usize, stack.len()), (base, len));
    assert_eq!(core::ptr::from_mut(utcb) as usize, utcb_at);
    assert_eq!(k.thread_state(worker), Some(ThreadState::Free));
    assert_eq!(k.reap(worker).err(), Some(KernelError::InvalidThread), "reaped once");
}

/// The quick look at a switch: the thread switched away from is reported
/// by name if it wrote over its stack's guard (and the boot thread, whose
/// stack the kernel was not given, is not).
#[test]
#[should_panic(expected = "stack overflow in worker")]
fn a_thread_that_broke_its_stack_guard_is_reported_when_it_switches_away() {
    let b = boot();
    let (stack, bottom) = exposed_stack(MIN_STACK);
    let worker = b.kernel.spawn(b.root, "worker", 2, stack, leaked_utcb(), never_runs, 0).unwrap();
    b.kernel.yield_now();
    assert_eq!(b.kernel.current_thread(), worker);
    // The worker's stack grows down over its guard.
    // SAFETY: the bottom of the leaked stack, which nothing else uses.
    unsafe {
        core::ptr::with_exposed_provenance_mut::<u8>(bottom)
            .write_bytes(0, 2 * 16 * size_of::<usize>())
    };
    b.kernel.yield_now();
}

/// The boot thread's stack, once the board guards it, is reported under
/// the boot thread's name, `main`.
#[test]
#[should_panic(expected = "stack overflow in main")]
fn the_boot_thread_is_reported_by_name_when_it_broke_its_guard() {
    let b = boot();
    let (stack, bottom) = exposed_stack(MIN_STACK);
    let len = stack.len();
    // SAFETY: the leaked buffer stands for the boot stack; nothing else
    // uses it.
    unsafe { b.kernel.guard_boot_stack(bottom, len) };
    // SAFETY: as above.
    unsafe { core::ptr::with_exposed_provenance_mut::<u8>(bottom).write_bytes(0, len) };
    b.root_thread("other");
    b.kernel.yield_now();
}

/// What a thread woken by a watched submitter's death sees when its wait
/// returns. In the host model the thread a switch goes to goes on where
/// its own wait left off, as on the CPU: main's blocking wait below
/// returns the listener's answer.
#[test]
fn a_wait_woken_by_a_watched_submitters_death_returns_server_dead() {
    let b = boot();
    let k = &b.kernel;
    let listener = b.root_thread("listener");
    let (_, watched) = k.create_signal().unwrap();
    k.watch_submitters(watched).unwrap();
    k.delegate(b.root, watched, b.server).unwrap();
    let (_, other) = k.create_signal().unwrap();
    b.act_as(listener);
    let _ = k.wait_signal(watched);
    b.act_as(b.main);
    k.destroy_component(b.server).unwrap();
    assert_eq!(k.thread_state(listener), Some(ThreadState::Ready));
    // Main blocks; the listener runs on, out of its wait.
    assert_eq!(k.wait_signal(other), Err(TransportError::ServerDead));
    assert_eq!(k.current_thread(), listener);
    // With no thread waiting, the next wait is told (once).
    let (_, again) = k.create_signal().unwrap();
    k.watch_submitters(again).unwrap();
    let second = k.create_component("second", Quota::at_priority(2)).unwrap();
    k.delegate(b.root, again, second).unwrap();
    k.destroy_component(second).unwrap();
    assert_eq!(k.wait_signal(again), Err(TransportError::ServerDead));
    k.submit(again).unwrap();
    assert_eq!(k.wait_signal(again), Ok(1));
    assert_eq!(k.watch_submitters(CapSel(30)), Err(TransportError::InvalidCapability));
}

#[test]
fn a_component_ending_itself_switches_away_and_core_may_not() {
    let b = boot();
    let k = &b.kernel;
    assert_eq!(k.exit_component(), KernelError::NoAuthority);
    assert_eq!(k.current_thread(), b.main);
    let before = switches();
    b.act_as(b.entrypoint);
    // The host model's switch returns; on the CPU the call never does.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| k.exit_component()));
    assert!(result.is_err(), "a thread of an ended component does not go on");
    assert_eq!(switches(), before + 1);
    assert_eq!(k.thread_state(b.entrypoint), Some(ThreadState::Dead));
    assert_eq!(k.current_thread(), b.main);
    assert_eq!(k.destroy_component(b.server), Err(KernelError::InvalidComponent), "destroyed");
}

#[test]
fn a_parent_sees_which_child_ended_and_no_one_else_may_ask() {
    let b = boot();
    let k = &b.kernel;
    let other = k.create_component("other", Quota::at_priority(2)).unwrap();
    assert_eq!(k.component_ended(b.server), Ok(false));
    assert_eq!(k.component_ended(other), Ok(false));
    // A component may ask about itself, not about a sibling.
    b.act_as(b.entrypoint);
    assert_eq!(k.component_ended(b.server), Ok(false));
    assert_eq!(k.component_ended(other), Err(KernelError::NoAuthority));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| k.exit_component()));
    assert!(result.is_err(), "a thread of an ended component does not go on");
    assert_eq!(k.current_thread(), b.main);
    assert_eq!(k.component_ended(b.server), Ok(true));
    assert_eq!(k.component_ended(other), Ok(false));
    // Once its thread is reaped the slot is free: no component to ask about.
    k.reap(b.entrypoint).unwrap();
    assert_eq!(k.component_ended(b.server), Err(KernelError::InvalidComponent));
}
