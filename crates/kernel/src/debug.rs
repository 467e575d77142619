//! The debug API (feature `debug`): what the in-image GDB monitor asks of
//! the kernel.
//!
//! # Authority
//!
//! Debugging is acting on another component, so it needs what every such
//! act needs: a component capability to it in the running component's
//! space ([`CapEntry::Component`](crate::CapEntry)). An image grants its
//! monitor the components it may debug, and nothing else; the monitor's
//! own component, the root (the composer and the idle thread) and
//! threads of components it holds no capability to are neither listed
//! nor stopped.
//!
//! # The monitor
//!
//! Breakpoints go to one component, the image's monitor, which the root
//! appoints ([`Kernel::debug_appoint`]); a breakpoint in a thread the
//! monitor may debug stops it and is reported to the monitor, and any
//! other breakpoint is a fault. A component that may debug a child it
//! created can stop and inspect it, but cannot take breakpoints away from
//! the monitor.
//!
//! # Stopping
//!
//! A stopped thread is not scheduled. A ready thread leaves its ready
//! queue at once ([`ThreadState::Stopped`]); a blocked one keeps waiting
//! (its place in a send queue or at a signal is kept) and parks itself
//! the moment it would run again: every point where a thread resumes
//! after a switch (the kernel's `enter` and the two IPC fast paths)
//! checks its stop bit. Either way its registers are the switch frame at
//! its saved stack pointer, or, for a thread stopped by a breakpoint
//! or a fault ([`Kernel::debug_trap`]), the trap frame the arch or board
//! code saved.
//!
//! # Memory
//!
//! [`Kernel::debug_check_access`] refuses any range that touches the
//! kernel's own state (thread table, capability spaces): the monitor may
//! read and write components' memory and code, never the kernel's
//! records of who may do what. The image's bounds (what is mapped at
//! all) are the board's to add.

use crate::arch::Arch;
use crate::capspace::CapEntry;
use crate::error::KernelError;
use crate::ids::{ComponentId, ThreadId};
use crate::kernel::Kernel;
use crate::state::{MAX_THREADS, State, Switch, ThreadState};

/// A thread bit in the stop masks.
type ThreadMask = u32;
const _: () = assert!(MAX_THREADS <= ThreadMask::BITS as usize);

const fn bit(thread: ThreadId) -> ThreadMask {
    1 << thread.index()
}

/// The debugger's state inside the kernel state.
pub(crate) struct DebugState {
    /// Threads a debugger asked to stop (and not resumed since).
    stop: ThreadMask,
    /// Threads that stopped at a breakpoint and have not been reported.
    hit: ThreadMask,
    /// The component that debugs, as the root appointed it (until it is
    /// destroyed): breakpoints in threads it may debug stop them and are
    /// reported to it; elsewhere they are faults, as without a debugger.
    monitor: Option<ComponentId>,
    /// Per thread stopped at a breakpoint or a fault: the trap frame's
    /// address.
    trap_frame: [usize; MAX_THREADS],
    /// Per thread stopped at a trap: the signal the debugger is told
    /// (the board's choice: SIGTRAP for a breakpoint, SIGILL or SIGSEGV
    /// for a fault).
    signal: [u8; MAX_THREADS],
}

impl DebugState {
    pub(crate) const fn new() -> Self {
        Self {
            stop: 0,
            hit: 0,
            monitor: None,
            trap_frame: [0; MAX_THREADS],
            signal: [0; MAX_THREADS],
        }
    }
}

/// One thread as the debugger sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DebugThread {
    /// The thread.
    pub thread: ThreadId,
    /// Its component.
    pub component: ComponentId,
    /// The component's name.
    pub component_name: &'static str,
    /// The thread's name.
    pub name: &'static str,
    /// What it is doing ([`ThreadState::Stopped`] once parked).
    pub state: ThreadState,
    /// A debugger asked it to stop (it runs none of its own code).
    pub stopped: bool,
}

/// Where a stopped thread's registers are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoppedFrame {
    /// The context-switch frame at this stack pointer (the arch's
    /// `switch`: callee-saved registers and the return address).
    Switch(usize),
    /// The trap frame the arch's breakpoint entry (or the board's fault
    /// path) saved at `frame` (every register), and the signal its stop
    /// was reported with ([`Kernel::debug_trap`]).
    Trap {
        /// The frame's address.
        frame: usize,
        /// The stop's signal.
        signal: u8,
    },
}

/// Whether the actor may debug `thread`: it exists, is not the actor's,
/// not the root component's (the composer, the idle thread), and the
/// actor holds a component capability to its component.
fn debuggable(state: &State, thread: ThreadId) -> Result<ComponentId, KernelError> {
    let t = state.threads.get(thread.index()).ok_or(KernelError::InvalidThread)?;
    if matches!(t.state, ThreadState::Free | ThreadState::Dead) {
        return Err(KernelError::InvalidThread);
    }
    let component = t.component;
    if component == state.actor() || component == ComponentId(0) || t.priority == 0 {
        return Err(KernelError::NoAuthority);
    }
    state.authorized(component)?;
    Ok(component)
}

/// Whether `holder` holds a live component capability to `target` (the
/// check [`State::authorized`] makes for the actor, for another holder).
fn holds_component(state: &State, holder: ComponentId, target: ComponentId) -> bool {
    let (Some(h), Some(t)) =
        (state.components.get(holder.index()), state.components.get(target.index()))
    else {
        return false;
    };
    let entry = CapEntry::Component { component: target, generation: t.generation };
    h.used && t.used && state.caps[holder.index()].slots.contains(&entry)
}

/// Parks the current thread while a debugger wants it stopped: called
/// with interrupts masked wherever a thread resumes after a switch.
#[inline(never)]
pub(crate) fn park_if_stopped<A: Arch>(state: *mut State) {
    loop {
        // SAFETY: interrupts are masked on the only core (the caller's
        // contract); the reference ends before the switch below.
        let s = unsafe { &mut *state };
        let Some(switch) = s.debug_park() else { return };
        // SAFETY: raw pointers only across the switch, as in
        // `Kernel::enter`; `to`'s stack pointer was saved by `switch`.
        unsafe {
            let save = &raw mut (*state).threads.0[switch.from.index()].sp;
            let load = (*state).threads.0[switch.to.index()].sp;
            A::switch(save, load);
        }
    }
}

// The decisions, on the state (host-tested in `crate::tests`); the
// `Kernel` methods below only mask interrupts and switch.
impl State {
    /// A new thread in slot `thread` starts with no debugger state.
    pub(crate) fn debug_forget(&mut self, thread: ThreadId) {
        self.debug.stop &= !bit(thread);
        self.debug.hit &= !bit(thread);
        self.debug.trap_frame[thread.index()] = 0;
        self.debug.signal[thread.index()] = 0;
    }

    /// A destroyed component is no longer the image's monitor.
    pub(crate) fn debug_forget_monitor(&mut self, component: ComponentId) {
        if self.debug.monitor == Some(component) {
            self.debug.monitor = None;
        }
    }

    /// The current thread, about to run again: if a debugger wants it
    /// stopped, it blocks as [`ThreadState::Stopped`] (the switch away).
    pub(crate) fn debug_park(&mut self) -> Option<Switch> {
        if self.debug.stop & bit(self.current) == 0 {
            return None;
        }
        self.block_current(ThreadState::Stopped)
    }

    /// See [`Kernel::debug_threads`].
    pub(crate) fn debug_threads(&self, out: &mut [DebugThread]) -> usize {
        let mut count = 0;
        for index in 0..MAX_THREADS {
            let thread = ThreadId::from_index(index);
            let Ok(component) = debuggable(self, thread) else { continue };
            let Some(slot) = out.get_mut(count) else { break };
            let t = &self.threads[index];
            *slot = DebugThread {
                thread,
                component,
                component_name: self.names[component.index()].unwrap_or(""),
                name: t.name.unwrap_or(""),
                state: t.state,
                stopped: self.debug.stop & bit(thread) != 0,
            };
            count += 1;
        }
        count
    }

    /// See [`Kernel::debug_appoint`].
    pub(crate) fn debug_appoint(&mut self, monitor: ComponentId) -> Result<(), KernelError> {
        let actor = self.actor();
        if !self.is_root(actor) {
            return Err(KernelError::NoAuthority);
        }
        self.authorized_live(monitor)?;
        self.debug.monitor = Some(monitor);
        Ok(())
    }

    /// See [`Kernel::debug_stop`].
    pub(crate) fn debug_stop(&mut self, thread: ThreadId) -> Result<(), KernelError> {
        debuggable(self, thread)?;
        self.debug.stop |= bit(thread);
        let t = &mut self.threads[thread.index()];
        if t.state == ThreadState::Ready {
            let priority = t.priority;
            t.state = ThreadState::Stopped;
            self.ready.remove(thread, priority);
        }
        Ok(())
    }

    /// See [`Kernel::debug_resume`]; the switch to a resumed thread that
    /// outranks the actor.
    pub(crate) fn debug_resume(&mut self, thread: ThreadId) -> Result<Option<Switch>, KernelError> {
        debuggable(self, thread)?;
        self.debug_forget(thread);
        if self.threads[thread.index()].state == ThreadState::Stopped {
            self.make_ready(thread);
        }
        Ok(self.yield_if_outranked())
    }

    /// See [`Kernel::debug_frame`].
    pub(crate) fn debug_frame(&self, thread: ThreadId) -> Result<StoppedFrame, KernelError> {
        debuggable(self, thread)?;
        if self.debug.stop & bit(thread) == 0 {
            return Err(KernelError::InvalidThread);
        }
        match self.debug.trap_frame[thread.index()] {
            0 => Ok(StoppedFrame::Switch(self.threads[thread.index()].sp)),
            frame => Ok(StoppedFrame::Trap { frame, signal: self.debug.signal[thread.index()] }),
        }
    }

    /// See [`Kernel::debug_take_hit`].
    pub(crate) fn debug_take_hit(&mut self) -> Option<(ThreadId, u8)> {
        let hit = self.debug.hit;
        if hit == 0 || self.debug.monitor != Some(self.actor()) {
            return None;
        }
        let index = hit.trailing_zeros() as usize;
        self.debug.hit &= !(1 << index);
        Some((ThreadId::from_index(index), self.debug.signal[index]))
    }

    /// See [`Kernel::debug_stack_room`].
    pub(crate) fn debug_stack_room(&self, sp: usize) -> usize {
        let t = &self.threads[self.current.index()];
        if t.stack_base == 0 || !self.stack_ends_intact(self.current) {
            return 0;
        }
        let bottom = crate::state::stack_guard_end(t.stack_base);
        let top = t.stack_base.wrapping_add(t.stack_len);
        if (bottom..=top).contains(&sp) { sp - bottom } else { 0 }
    }

    /// See [`Kernel::debug_keep_guard`].
    ///
    /// # Safety
    ///
    /// As there.
    pub(crate) unsafe fn debug_keep_guard(
        &self,
    ) -> Option<(usize, [usize; crate::state::STACK_GUARD_WORDS])> {
        let t = &self.threads[self.current.index()];
        if t.stack_base == 0 {
            return None;
        }
        let guard = crate::state::guard_start(t.stack_base);
        let mut kept = [0; crate::state::STACK_GUARD_WORDS];
        for (index, word) in kept.iter_mut().enumerate() {
            // SAFETY: the lowest aligned words of the running thread's own
            // stack, inside its recorded bounds (the guard fit at spawn).
            *word = unsafe {
                core::ptr::with_exposed_provenance::<usize>(guard).add(index).read_volatile()
            };
        }
        // SAFETY: the caller abandons the frames the thread has in those
        // words; they are inside its recorded `stack_len` bytes.
        unsafe {
            crate::state::write_stack_guard(
                core::ptr::with_exposed_provenance_mut(t.stack_base),
                t.stack_len,
            )
        };
        Some((guard, kept))
    }

    /// See [`Kernel::debug_check_access`]: `self` is the kernel state.
    pub(crate) fn debug_check_access(
        &self,
        address: usize,
        length: usize,
    ) -> Result<(), KernelError> {
        let end = address.checked_add(length).ok_or(KernelError::NoAuthority)?;
        let kernel = self as *const State as usize;
        let kernel_end = kernel + core::mem::size_of::<State>();
        if address < kernel_end && kernel < end {
            return Err(KernelError::NoAuthority);
        }
        Ok(())
    }

    /// See [`Kernel::debug_trap`]: `None` if the current thread is not
    /// the monitor's to stop (the breakpoint or fault is reported as
    /// without a debugger), otherwise it stops (the switch away).
    pub(crate) fn debug_trap(&mut self, frame: usize, signal: u8) -> Option<Option<Switch>> {
        let me = self.current;
        let monitor = self.debug.monitor?;
        let t = &self.threads[me.index()];
        let component = t.component;
        if component == monitor || component == ComponentId(0) || t.priority == 0 {
            return None;
        }
        // The monitor's authority, checked as the monitor.
        if !holds_component(self, monitor, component) {
            return None;
        }
        self.debug.stop |= bit(me);
        self.debug.hit |= bit(me);
        self.debug.trap_frame[me.index()] = frame;
        self.debug.signal[me.index()] = signal;
        Some(self.block_current(ThreadState::Stopped))
    }
}

impl<A: Arch> Kernel<A> {
    /// The threads the running component may debug, written to `out`;
    /// returns how many (at most `out.len()`).
    pub fn debug_threads(&self, out: &mut [DebugThread]) -> usize {
        self.read(|state| state.debug_threads(out))
    }

    /// Makes `monitor` the image's monitor: breakpoints in the threads it
    /// may debug stop them and are reported to it
    /// ([`Kernel::debug_take_hit`]). Only the root (the composer) appoints,
    /// so no other component, not even one debugging a child it created,
    /// can take breakpoints away from the monitor the image chose. The role
    /// ends when the monitor is destroyed; `NoAuthority` for any other
    /// actor, `InvalidComponent` for a component that is not live.
    pub fn debug_appoint(&self, monitor: ComponentId) -> Result<(), KernelError> {
        self.read(|state| state.debug_appoint(monitor))
    }

    /// Stops `thread` (see the module docs): a ready thread at once, a
    /// blocked one when it would next run. Any component may stop the
    /// threads it may debug; only the image's monitor
    /// ([`Kernel::debug_appoint`]) gets breakpoints.
    pub fn debug_stop(&self, thread: ThreadId) -> Result<(), KernelError> {
        self.read(|state| state.debug_stop(thread))
    }

    /// Lets `thread` run again (a parked one becomes ready; one of higher
    /// priority than the running thread runs at once).
    pub fn debug_resume(&self, thread: ThreadId) -> Result<(), KernelError> {
        self.enter(
            |state| match state.debug_resume(thread) {
                Ok(switch) => (switch, Ok(())),
                Err(error) => (None, Err(error)),
            },
            |_, result| result,
        )
    }

    /// Where a stopped thread's registers are; `NotStopped`-like
    /// [`KernelError::InvalidThread`] if it is not stopped (or could run).
    pub fn debug_frame(&self, thread: ThreadId) -> Result<StoppedFrame, KernelError> {
        self.read(|state| state.debug_frame(thread))
    }

    /// Takes one thread that stopped at a breakpoint or a fault since it
    /// was last resumed and has not been reported yet, with the signal its
    /// trap gave ([`Kernel::debug_trap`]).
    pub fn debug_take_hit(&self) -> Option<(ThreadId, u8)> {
        self.read(|state| state.debug_take_hit())
    }

    /// How many bytes of the running thread's stack lie between its
    /// guard and `sp`: the room a fault path has below a faulting frame it
    /// keeps for the debugger. 0 for a thread whose stack the kernel did
    /// not record, whose guard is broken, or for an `sp` outside the stack.
    pub fn debug_stack_room(&self, sp: usize) -> usize {
        self.read(|state| state.debug_stack_room(sp))
    }

    /// Writes the running thread's stack guard again and returns where
    /// it lies and the words that were there. A thread that ran into the
    /// guard page below its stack overwrote them on its way down, with its
    /// deepest frames; to stop for the debugger (on other memory: its own
    /// stack has no room left) its guard must be whole again, or the next
    /// switch away from it would report the overflow and end the image. The
    /// debugger reads its frames with the kept words in their place. `None`
    /// (nothing written) for a thread whose stack the kernel did not
    /// record.
    ///
    /// # Safety
    ///
    /// The running thread never returns into frames it has in its guard
    /// words, nor reads them there: it stops on other memory and then
    /// starts over at its stack's top ([`Kernel::restart_current_stack`]).
    pub unsafe fn debug_keep_guard(
        &self,
    ) -> Option<(usize, [usize; crate::state::STACK_GUARD_WORDS])> {
        // SAFETY: the caller's contract.
        self.read(|state| unsafe { state.debug_keep_guard() })
    }

    /// Refuses (`NoAuthority`) a range that touches the kernel's own
    /// state, or wraps around the address space.
    pub fn debug_check_access(&self, address: usize, length: usize) -> Result<(), KernelError> {
        self.read(|state| state.debug_check_access(address, length))
    }

    /// The arch's breakpoint entry, or the board's fault path: the
    /// running thread executed a breakpoint instruction or faulted, and its
    /// registers are saved at `frame`. If the image's monitor may debug
    /// it, it stops there (reported by [`Kernel::debug_take_hit`], with
    /// `signal`) and this returns `true` once it is resumed; otherwise
    /// `false` at once (the breakpoint is a fault, the fault ends the
    /// component as without a debugger).
    pub fn debug_trap(&self, frame: usize, signal: u8) -> bool {
        self.enter(
            |state| match state.debug_trap(frame, signal) {
                Some(switch) => (switch, true),
                None => (None, false),
            },
            |_, stopped| stopped,
        )
    }
}
