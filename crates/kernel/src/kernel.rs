//! The kernel object: the state machine plus the CPU's context switch.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ptr::NonNull;

use ferrode_ipc::{CapSel, Dispatch, TransportError, Utcb};

use crate::arch::{Arch, ThreadEntry};
use crate::capspace::CapEntry;
use crate::error::KernelError;
use crate::ids::{ComponentId, ObjectId, SignalId, ThreadId};
use crate::state::{State, Switch, ThreadState};

/// Smallest thread stack the kernel accepts, in bytes.
pub const MIN_STACK: usize = 512;

/// Ferrode's kernel for CPU `A`. One static instance per image (the board
/// crate owns it); every method is a kernel entry made with interrupts
/// masked.
pub struct Kernel<A> {
    state: UnsafeCell<State>,
    arch: PhantomData<fn() -> A>,
}

// SAFETY: the state is only touched inside `A::without_interrupts` on a
// single core, so no two contexts access it at once; threads that are
// switched away hold no reference into it (see `enter`).
unsafe impl<A> Sync for Kernel<A> {}

impl<A: Arch> Default for Kernel<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Arch> Kernel<A> {
    /// An empty kernel; call [`Kernel::init`] from the boot thread first.
    pub const fn new() -> Self {
        Self { state: UnsafeCell::new(State::new()), arch: PhantomData }
    }

    /// Runs one kernel operation with interrupts masked and performs the
    /// thread switch it decides on. `after` runs when this thread runs
    /// again (at once, or after the switch returns).
    #[inline(always)]
    fn enter<T, R>(&self, operation: impl FnOnce(&mut State) -> (Option<Switch>, T), after: impl FnOnce(&mut State, T) -> R) -> R {
        A::without_interrupts(|| {
            let state = self.state.get();
            // SAFETY: interrupts are masked on the only core, and no other
            // reference into the state is live (each is dropped before a
            // switch, below).
            let (switch, value) = operation(unsafe { &mut *state });
            if let Some(Switch { from, to }) = switch {
                // SAFETY: raw pointers only: no reference into the state
                // survives across the switch; `to`'s stack pointer was saved
                // by `switch` or made by `prepare_stack`.
                unsafe {
                    let save = &raw mut (*state).threads[from.index()].sp;
                    let load = (*state).threads[to.index()].sp;
                    A::switch(save, load);
                }
            }
            // SAFETY: as above; this thread runs again, interrupts masked.
            after(unsafe { &mut *state }, value)
        })
    }

    /// Reads the state with interrupts masked.
    fn read<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        self.enter(|state| (None, f(state)), |_, value| value)
    }

    /// Turns the running boot context into the first thread (priority
    /// `priority`, UTCB `utcb`) of a root component, and starts the idle
    /// thread on `idle_stack`. Returns the root component.
    pub fn init(
        &self,
        root_name: &'static str,
        priority: u8,
        utcb: &'static mut Utcb,
        idle_stack: &'static mut [u8],
        idle_utcb: &'static mut Utcb,
    ) -> Result<ComponentId, KernelError> {
        let root = self.read(|state| state.init(root_name, priority, utcb))?;
        let sp = A::prepare_stack(idle_stack, idle_main::<A>, 0);
        self.read(|state| state.add_thread(root, "idle", 0, sp, idle_utcb, true))?;
        Ok(root)
    }

    /// Creates a component (an empty capability space).
    pub fn create_component(&self, name: &'static str) -> Result<ComponentId, KernelError> {
        self.read(|state| if state.initialised { state.create_component(name) } else { Err(KernelError::NotInitialised) })
    }

    /// Starts a thread of `component` running `entry(argument)`.
    #[allow(clippy::too_many_arguments, reason = "mirrors the thread's parts")]
    pub fn spawn(
        &self,
        component: ComponentId,
        name: &'static str,
        priority: u8,
        stack: &'static mut [u8],
        utcb: &'static mut Utcb,
        entry: ThreadEntry,
        argument: usize,
    ) -> Result<ThreadId, KernelError> {
        if stack.len() < MIN_STACK {
            return Err(KernelError::StackTooSmall);
        }
        let sp = A::prepare_stack(stack, entry, argument);
        let thread = self.read(|state| state.add_thread(component, name, priority, sp, utcb, false))?;
        // A new thread of higher priority runs at once.
        self.enter(|state| (state.yield_if_outranked(), ()), |_, ()| ());
        Ok(thread)
    }

    /// The running thread.
    pub fn current_thread(&self) -> ThreadId {
        self.read(|state| state.current)
    }

    /// The running thread's component.
    pub fn current_component(&self) -> ComponentId {
        self.read(|state| state.threads[state.current.index()].component)
    }

    /// The running thread's UTCB. Only the running thread may use it, and
    /// not across a kernel call (the kernel writes it while it sleeps).
    #[inline]
    pub fn current_utcb(&self) -> *mut Utcb {
        self.read(|state| state.threads[state.current.index()].utcb)
    }

    /// A thread's state (for supervision and tests).
    pub fn thread_state(&self, thread: ThreadId) -> Option<ThreadState> {
        self.read(|state| state.threads.get(thread.index()).map(|t| t.state))
    }

    /// Calls the object `capability` designates with the request in the
    /// current thread's UTCB and returns when the call is over, with the
    /// reply in the UTCB. A failed call leaves an error reply instead: no
    /// words, no capabilities, and the [`TransportError`] code in `error`
    /// (invalid or foreign capability, dissolved object, dead server,
    /// malformed counts, full capability space), the same form a server's
    /// dispatcher uses for requests it cannot decode.
    #[inline(always)]
    pub fn call(&self, capability: CapSel) {
        if A::IPC_FAST_PATH {
            let state = self.state.get().cast::<u8>();
            // SAFETY: interrupts are masked around the call; no reference
            // into the state is live; the fast path honours the state's
            // invariants (see `Arch::ipc_call`).
            A::without_interrupts(|| unsafe { A::ipc_call(state, capability.0 as usize) });
        } else {
            self.call_in_rust(capability);
        }
    }

    /// [`Kernel::call`] done entirely by the kernel's Rust code (which has
    /// its own fast path): what an architecture's fast path falls back to.
    pub fn call_in_rust(&self, capability: CapSel) {
        self.enter(
            |state| match state.call(capability) {
                Ok(switch) => (switch, ()),
                Err(error) => {
                    state.fail_current_call(error);
                    (None, ())
                }
            },
            |_, ()| (),
        );
    }

    /// Server side: sends the reply in the current UTCB to the caller being
    /// served (if any) and waits for the next request; returns the object
    /// it was sent to (`None` if the object was revoked meanwhile).
    #[inline(always)]
    pub fn reply_and_wait(&self) -> Option<NonNull<dyn Dispatch>> {
        if A::IPC_FAST_PATH {
            let state = self.state.get();
            A::without_interrupts(|| {
                // SAFETY: as in `call`.
                unsafe { A::ipc_reply_wait(state.cast::<u8>()) };
                // SAFETY: interrupts masked, no other reference live.
                received_object(unsafe { &mut *state })
            })
        } else {
            self.enter(|state| (state.reply_and_wait(true), ()), |state, ()| received_object(state))
        }
    }

    /// [`Kernel::reply_and_wait`] done by the kernel's Rust code: what an
    /// architecture's fast path falls back to.
    pub fn reply_and_wait_in_rust(&self) {
        self.enter(|state| (state.reply_and_wait(true), ()), |_, ()| ());
    }

    /// Server side: waits for a request without replying.
    pub fn wait(&self) -> Option<NonNull<dyn Dispatch>> {
        self.enter(|state| (state.reply_and_wait(false), ()), |state, ()| received_object(state))
    }

    /// Registers `object`, served by entrypoint thread `entrypoint`, and
    /// puts a capability for it into `component`'s space.
    pub fn create_object(
        &self,
        entrypoint: ThreadId,
        object: NonNull<dyn Dispatch>,
        component: ComponentId,
    ) -> Result<(ObjectId, CapSel), KernelError> {
        self.read(|state| state.create_object(entrypoint, object, component))
    }

    /// Revokes the object `capability` designates in `component`: every
    /// capability to it, in every component, fails from now on.
    pub fn revoke(&self, component: ComponentId, capability: CapSel) -> Result<(), KernelError> {
        self.read(|state| state.revoke(component, capability))
    }

    /// Copies a capability from one component's space into another's (how
    /// the image's composition hands out capabilities).
    pub fn delegate(&self, from: ComponentId, capability: CapSel, to: ComponentId) -> Result<CapSel, KernelError> {
        self.read(|state| state.delegate(from, capability, to))
    }

    /// Drops a capability from a component's space.
    pub fn drop_capability(&self, component: ComponentId, capability: CapSel) -> Result<(), KernelError> {
        self.read(|state| state.drop_capability(component, capability))
    }

    /// What a selector designates in a component's space.
    pub fn capability(&self, component: ComponentId, capability: CapSel) -> CapEntry {
        self.read(|state| state.capability(component, capability))
    }

    /// Creates a counting signal owned by `component`.
    pub fn create_signal(&self, component: ComponentId) -> Result<(SignalId, CapSel), KernelError> {
        self.read(|state| state.create_signal(component))
    }

    /// Submits a signal through a capability of the current component.
    pub fn submit(&self, signal: CapSel) -> Result<(), TransportError> {
        self.enter(
            |state| match state.submit(signal) {
                Ok(switch) => (switch, Ok(())),
                Err(error) => (None, Err(error)),
            },
            |_, result| result,
        )
    }

    /// Submits a signal from an interrupt handler (how IRQs reach driver
    /// components). A waiter of higher priority runs at interrupt exit.
    pub fn submit_from_interrupt(&self, signal: SignalId) {
        self.read(|state| state.submit_signal_deferred(signal));
    }

    /// The timer interrupt's kernel work: round-robin at interrupt exit.
    pub fn tick_from_interrupt(&self) {
        self.read(State::tick_from_interrupt);
    }

    /// Called by the platform at the very end of interrupt handling (after
    /// the interrupt controller's end-of-interrupt), on the interrupted
    /// thread's stack: performs the switch the interrupt asked for. The
    /// interrupted thread continues when it is scheduled again.
    pub fn interrupt_exit(&self) {
        self.enter(|state| (state.interrupt_exit(), ()), |_, ()| ());
    }

    /// Waits until the signal has been submitted at least once; returns how
    /// many submissions were collected.
    pub fn wait_signal(&self, signal: CapSel) -> Result<u32, TransportError> {
        self.enter(
            |state| match state.wait_signal(signal) {
                Ok(switch) => (switch, Ok(())),
                Err(error) => (None, Err(error)),
            },
            |state, result| result.map(|()| core::mem::take(&mut state.threads[state.current.index()].signal_count)),
        )
    }

    /// Lets other ready threads of the same priority run.
    pub fn yield_now(&self) {
        self.enter(|state| (state.yield_now(), ()), |_, ()| ());
    }

    /// Ends the running thread; its pending callers get `ServerDead`.
    pub fn exit_current(&self) -> ! {
        self.enter(|state| (state.exit_current(), ()), |_, ()| ());
        // A dead thread is never switched back to.
        unreachable!("a dead thread ran again")
    }
}

#[inline(always)]
fn received_object(state: &mut State) -> Option<NonNull<dyn Dispatch>> {
    state.current_thread().received_dispatch
}

extern "C" fn idle_main<A: Arch>(_: usize) -> ! {
    loop {
        A::wait_for_interrupt();
    }
}
