//! std threads (`std::thread::spawn`, `join`, `yield_now`) and the futex
//! waits and wakes that std's `Mutex`, `Condvar`, channels and `park`
//! are made of.
//!
//! Each std thread is a kernel thread of the std component, at its
//! priority, with its stack and thread-local block on the heap; all of
//! them share `main`'s UTCB, as the std state's client stubs (which hold
//! that UTCB) are everyone's and only the turn holder calls. Only the
//! thread that holds the component's turn runs std code
//! ([`ferrode_std_abi::threads`]): it keeps it until it waits, yields or
//! ends, and hands it on by raising the next thread's own signal and
//! waiting on its own. [`OWNER`](super::OWNER) names the holder, so that
//! only it reaches the std state, and the holder points the thread
//! pointer at its own thread-local block when it gets the turn (TPIDRPRW
//! on PBX-A9, a register of the CPU that thread switches leave alone;
//! `tp` on the MicroBlaze V, which they keep per thread, so that there it
//! only needs setting once). With no thread ready, the holder waits on
//! the signal the waiting threads wait for (the Timer session's, which
//! the NIC session raises too), and then each of them looks again.
//!
//! Until a program spawns its first thread nothing of this runs (every
//! wait is the kernel wait it was), and a program that never spawns links
//! none of it: the other calls reach it through [`hooks`], which the
//! first spawn sets.

use core::alloc::Layout;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicPtr, Ordering};

use ferrode_component::Timer;
use ferrode_ipc::CapSel;
use ferrode_std_abi::abi::{self, errno};
use ferrode_std_abi::threads::{Join, Next, Run, Schedule, Waiting};

use super::{OWNER, StdState, TimerClient, end_std, log_line, tls_block, with_state};
use crate::kernel::{self, kernel};
use crate::{arch, exit_code};

/// std threads at once, `main` among them.
pub(super) const STD_THREADS: usize = 8;

/// The least stack a spawned thread gets, whatever std asks for.
const MIN_STACK: usize = 16 * 1024;

/// Heap memory a spawned thread has: given back once its kernel thread
/// is reaped.
struct Parts {
    stack: (NonNull<u8>, Layout),
    tls: (NonNull<u8>, Layout),
}

/// The std component's threads: who they are to the kernel and what the
/// schedule says of them, by the schedule's index (0 is `main`).
pub(super) struct Threads {
    schedule: Schedule<STD_THREADS>,
    /// Each thread's kernel thread (`main`'s recorded at the first spawn).
    kernel: [Option<kernel::ThreadId>; STD_THREADS],
    /// The signal each waits on for the turn (kept by the index when its
    /// thread ends, for the next).
    wake: [CapSel; STD_THREADS],
    /// Each one's thread pointer.
    pointer: [usize; STD_THREADS],
    /// What a spawned thread runs.
    entry: [Option<(extern "C" fn(usize), usize)>; STD_THREADS],
    parts: [Option<Parts>; STD_THREADS],
    /// The next thread's id (`main` is 1).
    next_id: u32,
    /// A signal a wait on which failed (whoever raises it ended): the
    /// threads that wait for it learn it instead of waiting again.
    dead: Option<u32>,
}

impl Threads {
    /// `main` alone, its thread pointer `pointer`.
    fn new(pointer: usize) -> Self {
        let mut pointers = [0; STD_THREADS];
        pointers[0] = pointer;
        Self {
            schedule: Schedule::new(),
            kernel: [None; STD_THREADS],
            wake: [CapSel::INVALID; STD_THREADS],
            pointer: pointers,
            entry: [None; STD_THREADS],
            parts: [const { None }; STD_THREADS],
            next_id: 2,
            dead: None,
        }
    }

    /// The running thread's index: `main`'s unless it is a spawned one.
    fn me(&self) -> usize {
        let current = kernel().current_thread();
        self.kernel.iter().position(|&thread| thread == Some(current)).unwrap_or(0)
    }

    /// Whether the running thread waits alone (no other std thread alive),
    /// so that a wait is a plain kernel wait.
    pub(super) fn alone(&self) -> bool {
        !self.schedule.others_alive(self.me())
    }
}

/// The std threads, once the first spawn made their table (`main` alone
/// before).
fn threads(state: &mut StdState) -> Option<&mut Threads> {
    state.threads.as_deref_mut()
}

/// What the turn holder does next.
enum Turn {
    /// It keeps the turn (this thread pointer).
    Mine(usize),
    /// It hands it to the thread of kernel index `owner` by raising `wake`,
    /// and waits on `mine` until it is handed back.
    Hand { owner: u32, wake: CapSel, mine: CapSel },
    /// It waits on `signal` for the waiting threads (and, where one waits
    /// for another signal, looks again in a while).
    Poll(CapSel),
    /// No thread can ever run again.
    Deadlock,
}

/// How the turn goes from the holder to the thread at `index`.
fn hand(threads: &Threads, index: usize, mine: CapSel) -> Turn {
    Turn::Hand { owner: owner(threads, index), wake: threads.wake[index], mine }
}

/// The [`OWNER`] value of the thread at `index`: its kernel thread's
/// index plus one.
fn owner(threads: &Threads, index: usize) -> u32 {
    threads.kernel[index].map_or(0, |thread| thread.index() as u32 + 1)
}

/// Gives the turn to the thread that `owner` names, raising its `wake`:
/// from here on the caller touches no std state until it is handed the
/// turn back.
fn give_turn(owner: u32, wake: CapSel) {
    OWNER.store(owner, Ordering::Release);
    let _ = kernel().submit(wake);
}

/// How often a holder that waits on the Timer session's signal for all
/// looks at a thread that waits for another signal (stdin), in µs.
const POLL_US: u64 = 10_000;

/// The running thread `me` (which waits, is ready or finished) lets the
/// others run until it is ready again and has the turn back.
fn run_others(me: usize) {
    loop {
        let turn = with_state(|state| {
            reap_finished(state);
            let preferred = state.timer.as_ref().map(|(_, signal)| signal.0);
            let threads = threads(state)?;
            Some(match threads.schedule.next(preferred) {
                Next::Run(index) if index == me => {
                    threads.schedule.running(me);
                    Turn::Mine(threads.pointer[me])
                }
                Next::Run(index) => {
                    threads.schedule.running(index);
                    hand(threads, index, threads.wake[me])
                }
                Next::Poll { signal, others } => {
                    if others && let Some((timer, _)) = state.timer.as_mut() {
                        let _ = trigger(timer, &mut state.armed_until, POLL_US);
                    }
                    Turn::Poll(CapSel(signal))
                }
                Next::Deadlock => Turn::Deadlock,
            })
        });
        match turn.flatten() {
            // Not the turn holder, or no threads: nothing to hand on.
            None => return,
            Some(Turn::Mine(pointer)) => {
                // SAFETY: this thread's own thread-local block, which
                // lives until the thread is reaped.
                unsafe { arch::set_thread_pointer(pointer) };
                return;
            }
            Some(Turn::Hand { owner, wake, mine }) => {
                give_turn(owner, wake);
                // Whoever hands the turn back sets `OWNER` to this thread.
                let _ = kernel().wait_signal(mine);
                let running = with_state(|state| {
                    // A thread that ended handing the turn on has exited
                    // by now, unless it waits on its way out: its memory
                    // goes back without waiting for a spawn or a join.
                    reap_finished(state);
                    let threads = threads(state)?;
                    let me = threads.me();
                    (threads.schedule.thread(me).map(|(_, run)| run) == Some(Run::Running))
                        .then_some(threads.pointer[me])
                });
                if let Some(pointer) = running.flatten() {
                    // SAFETY: as above.
                    unsafe { arch::set_thread_pointer(pointer) };
                    return;
                }
                // Handed the turn to wait for the others: round again.
            }
            Some(Turn::Poll(signal)) => {
                // A failed wait (whoever raises the signal ended) wakes
                // them too, and those that wait for it learn it.
                let failed = kernel().wait_signal(signal).is_err();
                with_state(|state| {
                    if let Some(threads) = threads(state) {
                        if failed {
                            threads.dead = Some(signal.0);
                        }
                        threads.schedule.signalled();
                    }
                });
            }
            Some(Turn::Deadlock) => {
                log_line("std: every thread waits for another (a deadlock): the component ends");
                end_std(exit_code::PANIC);
            }
        }
    }
}

/// Waits on `signal` as `wait_until` does, the other std threads running
/// meanwhile; `Err` if a wait on it failed (whoever raises it ended),
/// `None` alone (a plain kernel wait then).
fn wait_signal(signal: CapSel) -> Option<Result<(), ()>> {
    let me = with_state(|state| {
        let threads = threads(state)?;
        if threads.alone() {
            return None;
        }
        let me = threads.me();
        threads.schedule.wait(me, Waiting { signal: Some(signal.0), ..Waiting::default() });
        Some(me)
    });
    run_others(me.flatten()?);
    let dead = with_state(|state| threads(state).is_some_and(|t| t.dead == Some(signal.0)));
    Some(if dead == Some(true) { Err(()) } else { Ok(()) })
}

/// The paths the rest of the std layer takes once the program has spawned
/// a thread ([`hooks`]). Reached only through [`ACTIVE`], which the first
/// spawn sets: a program that never spawns links none of them.
pub(super) struct Hooks {
    /// A wait on a signal ([`wait_signal`]).
    pub(super) wait_signal: fn(CapSel) -> Option<Result<(), ()>>,
    /// A futex wait ([`wait_futex`]).
    pub(super) futex_wait: fn(*mut u32, Option<u64>) -> Option<i32>,
    /// A futex wake ([`wake_futex`]).
    pub(super) futex_wake: fn(usize, usize) -> i32,
    /// A yield ([`yield_turn`]).
    pub(super) yield_now: fn() -> bool,
    /// Arming the Timer session ([`trigger`]).
    pub(super) trigger: fn(&mut TimerClient, &mut Option<u64>, u64) -> Result<(), ()>,
}

static HOOKS: Hooks = Hooks {
    wait_signal,
    futex_wait: wait_futex,
    futex_wake: wake_futex,
    yield_now: yield_turn,
    trigger,
};

/// Arms the Timer session's one timeout `us` from now, unless one due
/// sooner is armed (`armed_until` says when): another thread waits for
/// it, and every thread that waits on the Timer looks again at each wake
/// and arms its own then.
fn trigger(timer: &mut TimerClient, armed_until: &mut Option<u64>, us: u64) -> Result<(), ()> {
    let now = timer.now_us().map_err(drop)?;
    arm(timer, armed_until, now, us)
}

/// [`trigger`] for a caller that has just read the Timer session's clock
/// (`now`).
fn arm(
    timer: &mut TimerClient,
    armed_until: &mut Option<u64>,
    now: u64,
    us: u64,
) -> Result<(), ()> {
    let due = now.saturating_add(us);
    if armed_until.is_some_and(|armed| armed > now && armed <= due) {
        return Ok(());
    }
    timer.trigger(us, false).map_err(drop)?;
    *armed_until = Some(due);
    Ok(())
}

/// [`HOOKS`] once a thread was spawned; null before.
static ACTIVE: AtomicPtr<Hooks> = AtomicPtr::new(core::ptr::null_mut());

/// The threaded paths, once the program has spawned a thread.
pub(super) fn hooks() -> Option<&'static Hooks> {
    // Opaque to the optimiser, which would otherwise call the hooks
    // directly where it can tell what `ACTIVE` may hold, linking them
    // into every program.
    let active = core::hint::black_box(ACTIVE.load(Ordering::Acquire));
    // SAFETY: null or the address of `HOOKS`, a static.
    unsafe { active.as_ref() }
}

/// Starts a std thread running `func(argument)` on a new kernel thread of
/// the component (its argument: the thread's index and the selector of
/// its turn signal), ready to run after the threads ready already;
/// returns its id.
fn spawn(
    state: &mut StdState,
    func: extern "C" fn(usize),
    argument: usize,
    stack_size: usize,
) -> Result<u32, i32> {
    reap_finished(state);
    let k = kernel();
    if state.threads.is_none() {
        let table = state.heap.allocate_first_fit(Layout::new::<Threads>());
        let table = table.map_err(|()| errno::ENOMEM)?.cast::<Threads>();
        // SAFETY: fresh heap memory for one table, which is never given
        // back (it lives as long as the component) and to which this is
        // the only reference.
        state.threads = Some(unsafe {
            table.write(Threads::new(state.tls_pointer));
            &mut *table.as_ptr()
        });
    }
    let StdState { threads, heap, .. } = state;
    let Some(threads) = threads.as_deref_mut() else { return Err(errno::ENOMEM) };
    let index = threads.schedule.free_index().ok_or(errno::EAGAIN)?;
    if threads.kernel[0].is_none() {
        // `main`'s turn signal, made when it first has company.
        threads.wake[0] = k.create_signal().map_err(|_| errno::EAGAIN)?.1;
        threads.kernel[0] = Some(k.current_thread());
    }
    let stack =
        Layout::from_size_align(stack_size.max(MIN_STACK), 16).map_err(|_| errno::EINVAL)?;
    let mut allocate = |layout: Layout| heap.allocate_first_fit(layout).ok();
    let stack_memory = allocate(stack);
    let tls = tls_block(&mut allocate);
    let (Some(stack_memory), Some((pointer, tls))) = (stack_memory, tls) else {
        // What was allocated goes back.
        if let Some(memory) = stack_memory {
            // SAFETY: just allocated from this heap with this layout.
            unsafe { heap.deallocate(memory, stack) };
        }
        return Err(errno::ENOMEM);
    };
    let parts = Parts { stack: (stack_memory, stack), tls };
    let utcb = NonNull::new(k.current_utcb());
    // The signal of the index's last thread, if it had one: the kernel
    // takes a component's signals back only when the component ends, so
    // each index keeps its own for the threads that come after.
    let wake = match threads.wake[index] {
        CapSel::INVALID => k.create_signal().map(|(_, selector)| selector),
        wake => Ok(wake),
    };
    let spawned = match (wake, utcb) {
        (Ok(wake), Some(utcb)) => {
            // SAFETY: the stack is fresh heap memory of the layout's size,
            // which no one else refers to; the kernel has it until the
            // thread is reaped, and only then is it given back. The UTCB is
            // the running std thread's, which is `main`'s: the std threads
            // share it, as only the turn holder makes calls (the only kernel
            // operations that use a UTCB; the kernel writes a thread's UTCB
            // only within its own call), and the reference passes straight
            // into the kernel's raw pointer while no other one is live.
            let (stack, utcb) = unsafe {
                (
                    core::slice::from_raw_parts_mut(stack_memory.as_ptr(), stack.size()),
                    &mut *utcb.as_ptr(),
                )
            };
            let priority = k.thread_priority(k.current_thread()).unwrap_or(1);
            let argument = ((wake.0 as usize) << 16) | index;
            k.spawn(k.current_component(), "std", priority, stack, utcb, std_thread, argument)
                .map(|thread| (wake, thread))
                .ok()
        }
        _ => None,
    };
    let Some((wake, thread)) = spawned else {
        if let Ok(wake) = wake {
            threads.wake[index] = wake;
        }
        free(heap, &parts);
        return Err(errno::EAGAIN);
    };
    let id = threads.next_id;
    threads.next_id = threads.next_id.wrapping_add(1).max(2);
    threads.schedule.add(id);
    threads.kernel[index] = Some(thread);
    threads.wake[index] = wake;
    threads.pointer[index] = pointer;
    threads.entry[index] = Some((func, argument));
    threads.parts[index] = Some(parts);
    ACTIVE.store(core::ptr::addr_of!(HOOKS).cast_mut(), Ordering::Release);
    Ok(id)
}

/// Gives a spawned thread's memory back to the heap.
fn free(heap: &mut linked_list_allocator::Heap, parts: &Parts) {
    for (memory, layout) in [parts.stack, parts.tls] {
        // SAFETY: allocated from this heap with this layout, and no longer
        // used: the kernel thread was reaped or never made.
        unsafe { heap.deallocate(memory, layout) };
    }
}

/// Reaps the kernel threads of the finished std threads whose threads
/// have ended, gives their memory back and forgets them: at every change
/// of turn, spawn and join, so that a thread nobody joins (a detached
/// one) gives its stack back as soon as the next thread has the turn.
fn reap_finished(state: &mut StdState) {
    let StdState { threads, heap, .. } = state;
    let Some(threads) = threads.as_deref_mut() else { return };
    for index in 0..STD_THREADS {
        if threads.schedule.thread(index).map(|(_, run)| run) != Some(Run::Finished) {
            continue;
        }
        // Still on its way out (it hands the turn on before it ends):
        // next time.
        let Some(thread) = threads.kernel[index] else { continue };
        // Its stack (in `parts`) and `main`'s UTCB, which stays `main`'s.
        if kernel().reap(thread).is_err() {
            continue;
        }
        if let Some(parts) = threads.parts[index].take() {
            free(heap, &parts);
        }
        // Its signal stays, for the index's next thread (its count is
        // zero: the thread took every turn it was handed).
        threads.kernel[index] = None;
        threads.entry[index] = None;
        threads.schedule.remove(index);
    }
}

/// A spawned std thread: waits for the turn, runs std's thread function,
/// then ends, handing the turn on.
extern "C" fn std_thread(argument: usize) -> ! {
    let (wake, index) = (CapSel((argument >> 16) as u32), argument & 0xffff);
    let _ = kernel().wait_signal(wake);
    let entry = with_state(|state| {
        let threads = threads(state)?;
        Some((threads.entry[index]?, threads.pointer[index]))
    });
    if let Some(((func, argument), pointer)) = entry.flatten() {
        // SAFETY: this thread's own thread-local block, filled from the
        // template; it lives until the thread is reaped.
        unsafe { arch::set_thread_pointer(pointer) };
        func(argument);
    }
    finish(index)
}

/// Whom an ending thread hands the turn to.
enum Handoff {
    /// The thread of this [`OWNER`] value, raising this signal.
    To(u32, CapSel),
    /// No one can ever run again.
    Deadlock,
    /// There are no threads (nothing to hand on).
    Nobody,
}

/// Thread `me` finished: its joiners are ready, and the turn goes to the
/// next thread (or to one that waits on a signal, to wait for all).
fn finish(me: usize) -> ! {
    let handed = with_state(|state| {
        let preferred = state.timer.as_ref().map(|(_, signal)| signal.0);
        let Some(threads) = threads(state) else { return Handoff::Nobody };
        threads.schedule.finish(me);
        let to = match threads.schedule.next(preferred) {
            Next::Run(index) => {
                threads.schedule.running(index);
                index
            }
            Next::Poll { .. } => match threads.schedule.poller() {
                Some(index) => index,
                None => return Handoff::Deadlock,
            },
            Next::Deadlock => return Handoff::Deadlock,
        };
        Handoff::To(owner(threads, to), threads.wake[to])
    });
    match handed {
        Some(Handoff::To(owner, wake)) => give_turn(owner, wake),
        Some(Handoff::Deadlock) => {
            log_line("std: every thread waits for another (a deadlock): the component ends");
            end_std(exit_code::PANIC);
        }
        Some(Handoff::Nobody) | None => {}
    }
    kernel().exit_current()
}

/// `spawn2`: a std thread running `func(arg)` on a stack of `stack_size`
/// bytes (at least 16 KiB); 0 (std's "unable to create thread") when the
/// component has no room for one more: [`STD_THREADS`], the kernel's
/// thread slots, the component's thread and signal quotas (`quota: {
/// threads: N, signals: M }` on its declaration), or the heap.
#[unsafe(no_mangle)]
pub extern "C" fn sys_spawn2(
    func: extern "C" fn(usize),
    arg: usize,
    _prio: u8,
    stack_size: usize,
    _core_id: isize,
) -> abi::Tid {
    with_state(|state| spawn(state, func, arg, stack_size)).and_then(Result::ok).unwrap_or(0)
}

/// `spawn`: as [`sys_spawn2`] with its returned id stored at `id`.
///
/// # Safety
///
/// `id` is null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_spawn(
    id: *mut abi::Tid,
    func: extern "C" fn(usize),
    arg: usize,
    prio: u8,
    core_id: isize,
) -> i32 {
    let tid = sys_spawn2(func, arg, prio, 0, core_id);
    if !id.is_null() {
        // SAFETY: the caller's contract.
        unsafe { id.write(tid) };
    }
    if tid == 0 { -errno::EAGAIN } else { 0 }
}

/// `join`: waits until thread `id` has finished (at once for one that
/// has, or that never was); `EDEADLK` for the caller itself.
#[unsafe(no_mangle)]
pub extern "C" fn sys_join(id: abi::Tid) -> i32 {
    loop {
        let step = with_state(|state| {
            reap_finished(state);
            let Some(threads) = threads(state) else { return Ok(None) };
            let me = threads.me();
            match threads.schedule.join(id) {
                Join::Finished(_) | Join::Unknown => Ok(None),
                Join::Alive
                    if threads.schedule.thread(me).map(|(joined, _)| joined) == Some(id) =>
                {
                    Err(errno::EDEADLK)
                }
                Join::Alive => {
                    threads.schedule.wait(me, Waiting { join: Some(id), ..Waiting::default() });
                    Ok(Some(me))
                }
            }
        });
        match step {
            Some(Ok(Some(me))) => run_others(me),
            Some(Ok(None)) => return 0,
            Some(Err(error)) => return -error,
            None => return -errno::ESRCH,
        }
    }
}

/// A yield: the turn goes to the threads ready before this one; `false`
/// alone (a kernel yield then).
fn yield_turn() -> bool {
    let me = with_state(|state| {
        let threads = threads(state)?;
        if threads.alone() {
            return None;
        }
        let me = threads.me();
        threads.schedule.ready(me);
        Some(me)
    });
    match me.flatten() {
        Some(me) => {
            run_others(me);
            true
        }
        None => false,
    }
}

/// A futex wait on the word at `address` (which holds what the caller
/// expects) for up to `us` µs, or until a wake of it: 0, or `ETIMEDOUT`.
/// It may return 0 early, as futex waits may (a wake-up meant for another
/// thread): std looks at the word again. `None` alone.
fn wait_futex(address: *mut u32, us: Option<u64>) -> Option<i32> {
    let waited = with_state(|state| {
        if threads(state).is_none_or(|threads| threads.alone()) {
            return None;
        }
        let due = match (us, state.timer.as_mut()) {
            (None, _) => None,
            (Some(us), Some((timer, signal))) => {
                let Ok(now) = timer.now_us() else { return Some(Err(errno::EINVAL)) };
                if arm(timer, &mut state.armed_until, now, us.max(1)).is_err() {
                    return Some(Err(errno::EINVAL));
                }
                Some((now.saturating_add(us), *signal))
            }
            (Some(_), None) => return Some(Err(errno::EINVAL)),
        };
        let threads = threads(state)?;
        let me = threads.me();
        let waiting = Waiting {
            futex: Some(address as usize),
            signal: due.map(|(_, signal)| signal.0),
            join: None,
        };
        threads.schedule.wait(me, waiting);
        Some(Ok((me, due.map(|(due, _)| due))))
    });
    let (me, due) = match waited.flatten()? {
        Ok(waited) => waited,
        Err(error) => return Some(-error),
    };
    run_others(me);
    let timed_out = with_state(|state| {
        let woken = threads(state).is_some_and(|threads| threads.schedule.take_woken(me));
        let now = state.timer.as_mut().and_then(|(timer, _)| timer.now_us().ok());
        !woken && due.is_some_and(|due| now.is_none_or(|now| now >= due))
    });
    Some(if timed_out == Some(true) { -errno::ETIMEDOUT } else { 0 })
}

/// A futex wake: makes up to `count` threads waiting for the word at
/// `address` ready; returns how many.
fn wake_futex(address: usize, count: usize) -> i32 {
    let woken = with_state(|state| {
        threads(state).map_or(0, |threads| threads.schedule.futex_wake(address, count))
    });
    woken.map_or(0, |woken| woken.min(i32::MAX as usize) as i32)
}
