//! The debug API's decisions (feature `debug`): who may list, stop and
//! inspect which threads, how ready and blocked threads stop and resume,
//! which breakpoints stop a thread, and the memory check.

use super::World;
use crate::debug::{DebugThread, StoppedFrame};
use crate::error::KernelError;
use crate::ids::{ComponentId, ThreadId};
use crate::state::{Quota, State, ThreadState};

/// The world plus a `ticker` component (priority 2, one thread, saved
/// stack pointer 0x7000) and a `monitor` (priority 2) whose thread runs;
/// with `granted`, root gave the monitor a copy of its component
/// capability to the ticker.
struct Debugging {
    world: World,
    ticker: ComponentId,
    ticker_thread: ThreadId,
    monitor: ComponentId,
    monitor_thread: ThreadId,
    /// Every thread the scheduler switched to (those that parked too).
    switched_to: Vec<ThreadId>,
}

const TICKER_SP: usize = 0x7000;

impl Debugging {
    fn new(granted: bool) -> Self {
        let mut world = World::new();
        let (ticker, ticker_cap) =
            world.state.create_component("ticker", Quota::at_priority(2)).unwrap();
        let ticker_thread = world
            .state
            .add_thread(ticker, "tick", 2, TICKER_SP, super::utcb(), (0, 0), false)
            .unwrap();
        let (monitor, monitor_thread) =
            world.component_with_thread("monitor", Quota::at_priority(2));
        if granted {
            world.state.delegate(world.root, ticker_cap, monitor).unwrap();
        }
        world.state.debug_appoint(monitor).unwrap();
        world.act_as(monitor_thread);
        Self { world, ticker, ticker_thread, monitor, monitor_thread, switched_to: Vec::new() }
    }

    fn state(&mut self) -> &mut State {
        &mut self.world.state
    }

    /// Root's component capability to `component`.
    fn roots_capability_to(&self, component: ComponentId) -> ferrode_ipc::CapSel {
        (0..crate::state::CAP_SLOTS as u32)
            .map(ferrode_ipc::CapSel)
            .find(|&s| {
                matches!(self.world.entry(self.world.root, s),
                    crate::CapEntry::Component { component: c, .. } if c == component)
            })
            .unwrap()
    }

    fn listed(&mut self) -> Vec<DebugThread> {
        let blank = DebugThread {
            thread: ThreadId::from_index(0),
            component: ComponentId::from_index(0),
            component_name: "",
            name: "",
            state: ThreadState::Free,
            stopped: false,
        };
        let mut out = [blank; crate::state::MAX_THREADS];
        let count = self.state().debug_threads(&mut out);
        out[..count].to_vec()
    }

    /// Lets the scheduler run whatever it picks next, as the board would:
    /// the current thread blocks (as if waiting for a signal), and the
    /// thread switched to first looks at its stop bit (`park_if_stopped`).
    fn block_and_run_next(&mut self) -> ThreadId {
        let switch = self.state().block_current(ThreadState::SignalWait).unwrap();
        let mut to = switch.to;
        self.switched_to.push(to);
        while let Some(parked) = self.state().debug_park() {
            assert_eq!(parked.from, to);
            to = parked.to;
            self.switched_to.push(to);
        }
        to
    }

    /// Blocks thread after thread until `thread` runs (true) or only the
    /// idle thread is left to run (false).
    fn runs_before_idle(&mut self, thread: ThreadId) -> bool {
        loop {
            let next = self.block_and_run_next();
            if next == thread {
                return true;
            }
            if self.state().threads[next.index()].priority == 0 {
                return false;
            }
        }
    }
}

#[test]
fn without_a_component_capability_nothing_is_listed_or_stopped() {
    let mut d = Debugging::new(false);
    assert!(d.listed().is_empty());
    let ticker = d.ticker_thread;
    assert_eq!(d.state().debug_stop(ticker), Err(KernelError::NoAuthority));
    assert_eq!(d.state().debug_frame(ticker), Err(KernelError::NoAuthority));
    assert_eq!(d.state().debug_resume(ticker).map(|_| ()), Err(KernelError::NoAuthority));
    assert_eq!(d.state().threads[ticker.index()].state, ThreadState::Ready, "untouched");
}

#[test]
fn the_monitor_sees_only_what_it_was_granted() {
    let mut d = Debugging::new(true);
    let listed = d.listed();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].thread, d.ticker_thread);
    assert_eq!((listed[0].component_name, listed[0].name), ("ticker", "tick"));
    assert!(!listed[0].stopped);
    // Its own thread, root's main and idle threads, a server it holds no
    // capability to, an empty slot: refused.
    let (own, main, entrypoint) = (d.monitor_thread, d.world.main, d.world.entrypoint);
    let idle = ThreadId::from_index(1);
    assert_eq!(d.state().threads[idle.index()].priority, 0, "the idle thread");
    for refused in [own, main, idle, entrypoint] {
        assert_eq!(d.state().debug_stop(refused), Err(KernelError::NoAuthority), "{refused:?}");
    }
    let free = ThreadId::from_index(crate::state::MAX_THREADS - 1);
    assert_eq!(d.state().debug_stop(free), Err(KernelError::InvalidThread));
    // Root holds capabilities to every component, yet its own threads and
    // the idle thread are never debuggable, not even by root.
    d.world.act_as(d.world.main);
    assert_eq!(d.state().debug_stop(idle), Err(KernelError::NoAuthority));
    assert!(d.listed().iter().all(|t| t.component != ComponentId(0)));
}

#[test]
fn a_ready_thread_stops_at_once_and_resumes() {
    let mut d = Debugging::new(true);
    let ticker = d.ticker_thread;
    d.state().debug_stop(ticker).unwrap();
    assert_eq!(d.state().threads[ticker.index()].state, ThreadState::Stopped);
    assert!(d.listed()[0].stopped);
    assert_eq!(d.state().debug_frame(ticker), Ok(StoppedFrame::Switch(TICKER_SP)));
    // Out of the ready queue: it is not even switched to, whoever blocks.
    assert!(!d.runs_before_idle(ticker));
    assert!(!d.switched_to.contains(&ticker), "{:?}", d.switched_to);
    d.world.act_as(d.monitor_thread);
    // Resumed, it is ready (no switch: it does not outrank the monitor)
    // and its registers are no longer the debugger's to read.
    assert_eq!(d.state().debug_resume(ticker), Ok(None));
    assert_eq!(d.state().threads[ticker.index()].state, ThreadState::Ready);
    assert_eq!(d.state().debug_frame(ticker), Err(KernelError::InvalidThread));
    assert!(d.runs_before_idle(ticker));
}

#[test]
fn a_resumed_thread_that_outranks_the_running_one_runs_at_once() {
    let mut d = Debugging::new(true);
    let ticker = d.ticker_thread;
    d.state().debug_stop(ticker).unwrap();
    // Model a monitor below the ticker by lowering the monitor's thread.
    let monitor = d.monitor_thread;
    d.state().threads[monitor.index()].priority = 1;
    let switch = d.state().debug_resume(ticker).unwrap();
    assert_eq!(switch.map(|s| s.from), Some(d.monitor_thread));
}

#[test]
fn a_blocked_thread_keeps_waiting_and_parks_when_it_would_run() {
    let mut d = Debugging::new(true);
    let ticker = d.ticker_thread;
    // The ticker waits for its signal.
    d.world.act_as(ticker);
    let (signal, selector) = d.state().create_signal().unwrap();
    assert!(d.state().wait_signal(selector).unwrap().is_some());
    d.world.act_as(d.monitor_thread);
    assert_eq!(d.state().threads[ticker.index()].state, ThreadState::SignalWait);
    d.state().debug_stop(ticker).unwrap();
    assert_eq!(
        d.state().threads[ticker.index()].state,
        ThreadState::SignalWait,
        "still waiting: its place at the signal is kept"
    );
    // The signal comes: the ticker is woken, and parks the moment it
    // would run instead of running.
    d.state().submit_signal(signal, 0);
    assert_eq!(d.state().threads[ticker.index()].state, ThreadState::Ready);
    assert!(!d.runs_before_idle(ticker));
    assert_eq!(d.state().threads[ticker.index()].state, ThreadState::Stopped);
    assert_eq!(d.state().threads[ticker.index()].signal_count, 1, "its wake-up kept");
    assert_eq!(d.state().debug_frame(ticker), Ok(StoppedFrame::Switch(TICKER_SP)));
    // Resumed, it runs with what it waited for.
    d.world.act_as(d.monitor_thread);
    d.state().debug_resume(ticker).unwrap();
    assert!(d.runs_before_idle(ticker));
    // A blocked thread resumed before it ever parked just keeps waiting.
    assert!(d.state().wait_signal(selector).unwrap().is_some());
    d.world.act_as(d.monitor_thread);
    d.state().debug_stop(ticker).unwrap();
    d.state().debug_resume(ticker).unwrap();
    assert_eq!(d.state().threads[ticker.index()].state, ThreadState::SignalWait);
}

#[test]
fn a_breakpoint_stops_only_a_thread_the_monitor_may_debug() {
    let mut d = Debugging::new(true);
    let ticker = d.ticker_thread;
    // The root appointed the monitor (`Debugging::new`); nothing hit yet.
    assert_eq!(d.state().debug_take_hit(), None);
    // The ticker hits one: it stops with its trap frame.
    d.world.act_as(ticker);
    let switch = d.state().debug_trap(0x9000, 5).expect("the monitor's to stop");
    assert_eq!(switch.map(|s| s.from), Some(ticker));
    assert_eq!(d.state().threads[ticker.index()].state, ThreadState::Stopped);
    // Reported once, to the monitor only.
    d.world.act_as(d.world.main);
    assert_eq!(d.state().debug_take_hit(), None, "root is not the monitor");
    d.world.act_as(d.monitor_thread);
    assert_eq!(d.state().debug_take_hit(), Some((ticker, 5)));
    assert_eq!(d.state().debug_take_hit(), None);
    assert_eq!(d.state().debug_frame(ticker), Ok(StoppedFrame::Trap { frame: 0x9000, signal: 5 }));
    d.state().debug_resume(ticker).unwrap();
    assert_eq!(d.state().debug_frame(ticker), Err(KernelError::InvalidThread));
    // The monitor's own thread and root's are never stopped by one.
    assert_eq!(d.state().debug_trap(0x9000, 5), None);
    d.world.act_as(d.world.main);
    assert_eq!(d.state().debug_trap(0x9000, 5), None);
    // Nor a thread of a component the monitor holds no capability to.
    let (other, other_thread) = d.world.component_with_thread("other", Quota::at_priority(2));
    assert_ne!(other, d.monitor);
    d.world.act_as(other_thread);
    assert_eq!(d.state().debug_trap(0x9000, 5), None);
}

#[test]
fn a_breakpoint_after_the_grant_is_taken_back_is_a_fault() {
    let mut d = Debugging::new(true);
    let ticker = d.ticker_thread;
    d.state().debug_stop(ticker).unwrap();
    d.state().debug_resume(ticker).unwrap();
    // Root takes back every copy of its capability to the ticker.
    d.world.act_as(d.world.main);
    let root_cap = d.roots_capability_to(d.ticker);
    assert_eq!(d.state().revoke_copies(root_cap), Ok(1));
    d.world.act_as(ticker);
    assert_eq!(d.state().debug_trap(0x9000, 5), None);
    d.world.act_as(d.monitor_thread);
    assert!(d.listed().is_empty());
}

#[test]
fn a_reused_thread_slot_starts_without_a_stop() {
    let mut d = Debugging::new(true);
    let ticker = d.ticker_thread;
    d.state().debug_stop(ticker).unwrap();
    // Root destroys the ticker and reaps its thread; the slot is reused
    // by a component root may debug.
    d.world.act_as(d.world.main);
    let ticker_component = d.ticker;
    d.state().destroy_component(ticker_component).unwrap();
    d.state().reap(ticker).unwrap();
    let (fresh, _) = d.state().create_component("fresh", Quota::at_priority(2)).unwrap();
    let again = d.state().add_thread(fresh, "again", 2, 0, super::utcb(), (0, 0), false).unwrap();
    assert_eq!(again, ticker, "the same slot");
    assert_eq!(d.state().debug_frame(again), Err(KernelError::InvalidThread), "not stopped");
    assert_eq!(d.state().threads[again.index()].state, ThreadState::Ready);
}

#[test]
fn the_kernel_state_is_refused_and_the_rest_is_not() {
    let d = Debugging::new(true);
    let state = &*d.world.state;
    let start = state as *const State as usize;
    let size = core::mem::size_of::<State>();
    assert_eq!(state.debug_check_access(start, 4), Err(KernelError::NoAuthority));
    assert_eq!(state.debug_check_access(start + size - 1, 8), Err(KernelError::NoAuthority));
    assert_eq!(state.debug_check_access(start - 16, 64), Err(KernelError::NoAuthority));
    assert_eq!(state.debug_check_access(start - 4, 4), Ok(()), "just below");
    assert_eq!(state.debug_check_access(start + size, 4), Ok(()), "just above");
    assert_eq!(state.debug_check_access(usize::MAX - 1, 4), Err(KernelError::NoAuthority));
    assert_eq!(state.debug_check_access(0x1000, 0), Ok(()));
}

#[test]
fn another_component_debugging_its_own_child_does_not_take_over_the_monitor() {
    let mut d = Debugging::new(true);
    let ticker = d.ticker_thread;
    // Any component that may create a child can debug that child: it
    // stops its own child's thread, and resumes it.
    d.world.act_as(d.world.main);
    let (_, attacker_thread) = d.world.component_with_thread(
        "attacker",
        Quota { components: 1, threads: 2, ..Quota::at_priority(2) },
    );
    d.world.act_as(attacker_thread);
    let (child, _) = d.state().create_component("child", Quota::at_priority(1)).unwrap();
    let child_thread =
        d.state().add_thread(child, "victim", 1, 0, super::utcb(), (0, 0), false).unwrap();
    d.state().debug_stop(child_thread).unwrap();
    d.state().debug_resume(child_thread).unwrap();
    // It may not appoint itself; only the root appoints.
    let attacker = d.state().actor();
    assert_eq!(d.state().debug_appoint(attacker), Err(KernelError::NoAuthority));
    // Its child's breakpoint is a fault, and the ticker's is still the
    // monitor's to stop and report.
    d.world.act_as(child_thread);
    assert!(d.state().debug_trap(0x9000, 5).is_none(), "the attacker's child stopped");
    d.world.act_as(ticker);
    assert!(d.state().debug_trap(0x9000, 5).is_some(), "the monitor was taken over");
    d.world.act_as(d.world.main);
    assert_eq!(d.state().debug_take_hit(), None, "reported to the root");
    d.world.act_as(d.monitor_thread);
    assert_eq!(d.state().debug_take_hit(), Some((ticker, 5)));
    // A destroyed monitor debugs no more, and cannot be appointed; its
    // component slot, once reused, does not inherit the role.
    d.world.act_as(d.world.main);
    let monitor = d.monitor;
    d.state().destroy_component(monitor).unwrap();
    assert_eq!(d.state().debug_appoint(monitor), Err(KernelError::InvalidComponent));
    d.world.act_as(child_thread);
    assert!(d.state().debug_trap(0x9004, 5).is_none(), "a breakpoint without a monitor");
}

#[test]
fn a_fault_stop_is_reported_with_its_signal_and_forgotten_at_resume() {
    let mut d = Debugging::new(true);
    let ticker = d.ticker_thread;
    // The board's fault path stops the ticker with SIGILL (4).
    d.world.act_as(ticker);
    assert!(d.state().debug_trap(0x9100, 4).is_some());
    d.world.act_as(d.monitor_thread);
    assert_eq!(d.state().debug_take_hit(), Some((ticker, 4)));
    assert_eq!(d.state().debug_frame(ticker), Ok(StoppedFrame::Trap { frame: 0x9100, signal: 4 }));
    d.state().debug_resume(ticker).unwrap();
    // Its next stop, a breakpoint, has the breakpoint's signal.
    d.world.act_as(ticker);
    assert!(d.state().debug_trap(0x9200, 5).is_some());
    d.world.act_as(d.monitor_thread);
    assert_eq!(d.state().debug_take_hit(), Some((ticker, 5)));
}

#[test]
fn the_stack_room_is_what_lies_between_the_guard_and_the_stack_pointer() {
    let mut d = Debugging::new(true);
    d.world.act_as(d.world.main);
    // Without a recorded stack there is no room to tell.
    assert_eq!(d.state().debug_stack_room(0x7000), 0);
    let stack: &'static mut [usize] = Box::leak(std::vec![0usize; 128].into_boxed_slice());
    let (lowest, len) = (stack.as_mut_ptr(), core::mem::size_of_val(stack));
    let base = lowest.expose_provenance();
    // SAFETY: the leaked buffer stands for the boot stack.
    unsafe { d.state().guard_boot_stack(base, len) };
    let guard = crate::state::STACK_GUARD_WORDS * core::mem::size_of::<usize>();
    assert_eq!(d.state().debug_stack_room(base + 512), 512 - guard);
    assert_eq!(d.state().debug_stack_room(base + guard), 0, "at the guard's top");
    assert_eq!(d.state().debug_stack_room(base + len), len - guard, "the stack's end");
    assert_eq!(d.state().debug_stack_room(base + 8), 0, "inside the guard");
    assert_eq!(d.state().debug_stack_room(base + len + 8), 0, "above the stack");
    assert_eq!(d.state().debug_stack_room(base - 8), 0, "below it");
    // A broken guard: the thread overflowed, nothing below sp is its own.
    // SAFETY: inside the leaked buffer.
    unsafe { lowest.write_volatile(0) };
    assert_eq!(d.state().debug_stack_room(base + 512), 0);
}

#[test]
fn keeping_the_guard_returns_what_an_overflow_left_there_and_writes_the_guard_again() {
    let mut d = Debugging::new(true);
    d.world.act_as(d.world.main);
    // SAFETY: nothing returns into the (absent) frames.
    assert_eq!(unsafe { d.state().debug_keep_guard() }, None, "no recorded stack");
    let stack: &'static mut [usize] = Box::leak(std::vec![0usize; 128].into_boxed_slice());
    let (lowest, len) = (stack.as_mut_ptr(), core::mem::size_of_val(stack));
    let base = lowest.expose_provenance();
    // SAFETY: the leaked buffer stands for the boot stack.
    unsafe { d.state().guard_boot_stack(base, len) };
    let words = crate::state::STACK_GUARD_WORDS;
    // An overflow's frames over the guard, and a frame above it.
    for index in 0..=words {
        // SAFETY: inside the leaked buffer.
        unsafe { lowest.add(index).write_volatile(0xf000 + index) };
    }
    assert_eq!(d.state().debug_stack_room(base + 512), 0, "the guard is broken");
    // SAFETY: the test never reads the words as frames.
    let (guard, kept) = unsafe { d.state().debug_keep_guard() }.expect("a recorded stack");
    assert_eq!(guard, base);
    assert_eq!(kept.to_vec(), (0..words).map(|index| 0xf000 + index).collect::<Vec<_>>());
    for index in 0..words {
        // SAFETY: inside the leaked buffer.
        assert_eq!(unsafe { lowest.add(index).read_volatile() }, crate::state::STACK_GUARD);
    }
    // SAFETY: inside the leaked buffer.
    assert_eq!(unsafe { lowest.add(words).read_volatile() }, 0xf000 + words, "above the guard");
    let guard_bytes = words * core::mem::size_of::<usize>();
    assert_eq!(d.state().debug_stack_room(base + 512), 512 - guard_bytes, "whole again");
}

#[test]
fn resuming_one_stopped_thread_leaves_the_others_stop_and_hit() {
    let mut d = Debugging::new(true);
    let ticker = d.ticker_thread;
    d.world.act_as(d.world.main);
    let component = d.ticker;
    let second =
        d.state().add_thread(component, "second", 2, 0x7100, super::utcb(), (0, 0), false).unwrap();
    d.world.act_as(ticker);
    assert!(d.state().debug_trap(0x9000, 5).is_some());
    d.world.act_as(second);
    assert!(d.state().debug_trap(0x9100, 4).is_some());
    d.world.act_as(d.monitor_thread);
    d.state().debug_resume(ticker).unwrap();
    assert_eq!(d.state().debug_take_hit(), Some((second, 4)), "the other's hit is kept");
    assert_eq!(d.state().debug_take_hit(), None, "the resumed one's went with its stop");
    assert_eq!(d.state().debug_frame(second), Ok(StoppedFrame::Trap { frame: 0x9100, signal: 4 }));
    assert_eq!(d.state().debug_frame(ticker), Err(KernelError::InvalidThread));
}

#[test]
fn the_monitors_own_breakpoint_is_a_fault_even_with_a_capability_to_itself() {
    let mut d = Debugging::new(true);
    // Root hands the monitor a component capability to itself.
    d.world.act_as(d.world.main);
    let monitor = d.monitor;
    let to_itself = d.roots_capability_to(monitor);
    let root = d.world.root;
    d.state().delegate(root, to_itself, monitor).unwrap();
    d.world.act_as(d.monitor_thread);
    assert_eq!(d.state().debug_trap(0x9000, 5), None);
}

#[test]
fn a_component_in_a_destroyed_monitors_slot_is_not_the_monitor() {
    let mut d = Debugging::new(true);
    d.world.act_as(d.world.main);
    let (monitor, ticker) = (d.monitor, d.ticker);
    d.state().destroy_component(monitor).unwrap();
    let monitor_thread = d.monitor_thread;
    d.state().reap(monitor_thread).unwrap();
    // A new component takes the slot, and root gives it what the monitor
    // had: a component capability to the ticker.
    let (fresh, _) = d.state().create_component("fresh", Quota::at_priority(2)).unwrap();
    assert_eq!(fresh, monitor, "the same slot");
    let ticker_cap = d.roots_capability_to(ticker);
    let root = d.world.root;
    d.state().delegate(root, ticker_cap, fresh).unwrap();
    // The ticker's breakpoint is a fault: nobody was appointed since.
    d.world.act_as(d.ticker_thread);
    assert_eq!(d.state().debug_trap(0x9000, 5), None);
}
