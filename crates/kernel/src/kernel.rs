//! The kernel object: the state machine plus the CPU's context switch.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ptr::NonNull;

use ferrode_ipc::{CapSel, Dispatch, TransportError, Utcb};

use crate::arch::{Arch, ThreadEntry};
use crate::capspace::CapEntry;
use crate::error::KernelError;
use crate::ids::{ComponentId, ObjectId, SignalId, ThreadId};
use crate::state::{Quota, State, Switch, ThreadState, write_stack_guard};

/// What one wait for a signal collected ([`Kernel::wait_signal_badges`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signalled {
    /// How many submissions (at least 1; saturates at `u32::MAX`).
    pub count: u32,
    /// Bit `b` set: at least one came through a copy with badge `b`.
    pub badges: u32,
}

impl Signalled {
    /// Whether at least one submission came through a copy with `badge`.
    pub const fn from(&self, badge: u8) -> bool {
        badge <= crate::MAX_BADGE && self.badges & crate::state::badge_bit(badge) != 0
    }
}

/// Smallest thread stack the kernel accepts, in bytes.
///
/// Interrupts are taken on the interrupted thread's stack: the exception
/// frame (all caller-saved registers and the return state, under 100
/// bytes on both CPUs), the platform's dispatcher and the driver's handler
/// (a few hundred bytes in a debug build) and the kernel's switch frame
/// must fit beside the thread's own deepest call chain, with room for an
/// RPC stub's marshalling. 2 KiB leaves about 1 KiB for the thread.
pub const MIN_STACK: usize = 2048;

/// Ferrode's kernel for CPU `A`. One static instance per image (the board
/// crate owns it); every method is a kernel entry made with interrupts
/// masked.
pub struct Kernel<A> {
    pub(crate) state: UnsafeCell<State>,
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
    pub(crate) fn enter<T, R>(
        &self,
        operation: impl FnOnce(&mut State) -> (Option<Switch>, T),
        after: impl FnOnce(&mut State, T) -> R,
    ) -> R {
        A::without_interrupts(|| {
            let state = self.state.get();
            // SAFETY: interrupts are masked on the only core, and no other
            // reference into the state is live (each is dropped before a
            // switch, below).
            let (switch, value) = operation(unsafe { &mut *state });
            if let Some(switch) = switch {
                // SAFETY: as above: no reference into the state is live.
                unsafe { switch_threads::<A>(state, switch) };
            }
            // SAFETY: as above; this thread runs again, interrupts masked.
            after(unsafe { &mut *state }, value)
        })
    }

    /// Reads the state with interrupts masked.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
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
        let (stack, idle_stack) = guard_stack(idle_stack);
        let sp = A::prepare_stack(idle_stack, idle_main::<A>, 0);
        self.read(|state| state.add_thread(root, "idle", 0, sp, idle_utcb, stack, true))?;
        Ok(root)
    }

    /// Puts a stack guard at the bottom of the boot thread's stack, which
    /// the kernel did not allocate (the linker script's boot stack: `len`
    /// bytes from `base`), and checks it from now on as it checks the
    /// guards of the stacks it gave out: at switches and ticks, an
    /// overwritten guard is reported as the boot thread's (`main`) stack
    /// overflow instead of the thread silently writing over what lies
    /// below. Call after [`init`](Self::init), from the boot thread.
    ///
    /// # Safety
    ///
    /// `base..base + len` is the boot thread's stack and nothing else, and
    /// the thread runs far enough above its lowest
    /// `STACK_GUARD_WORDS` words that writing them harms nothing.
    pub unsafe fn guard_boot_stack(&self, base: usize, len: usize) {
        // SAFETY: the caller's contract.
        self.read(|state| unsafe { state.guard_boot_stack(base, len) });
    }

    /// Creates a component (an empty capability space) with `quota`,
    /// counted against the running component's quota of children. The
    /// running component gets a component capability to it: its authority
    /// to spawn threads there, manage objects for it, delegate to and from
    /// it, and destroy it. What the child uses counts against its
    /// creator's quota too, and its priority may not exceed its creator's
    /// (`InvalidPriority`; the root is exempt: it starts the servers).
    pub fn create_component(
        &self,
        name: &'static str,
        quota: Quota,
    ) -> Result<ComponentId, KernelError> {
        self.read(|state| {
            if state.initialised {
                state.create_component(name, quota).map(|(c, _)| c)
            } else {
                Err(KernelError::NotInitialised)
            }
        })
    }

    /// Destroys a component the running component has a capability to
    /// (not itself, nor one it descends from), with every component it
    /// created and theirs: their threads stop, their objects die (every
    /// capability to them answers `ServerDead`), their capabilities and
    /// signals are gone. The threads' stacks and UTCBs are then given back
    /// by [`Kernel::reap`], to whoever may act on the destroyed component.
    pub fn destroy_component(&self, component: ComponentId) -> Result<(), KernelError> {
        self.enter(
            |state| match state.destroy_component(component) {
                Ok(switch) => (switch, Ok(())),
                Err(error) => (None, Err(error)),
            },
            |_, result| result,
        )
    }

    /// Whether `component`, which the running component has authority
    /// over, has ended: destroyed, or ended itself
    /// ([`Kernel::exit_component`]), and not yet freed (its threads wait
    /// for [`Kernel::reap`]). How a parent finds which of its children
    /// ended when a watched signal tells it that one did
    /// ([`Kernel::watch_submitters`]).
    pub fn component_ended(&self, component: ComponentId) -> Result<bool, KernelError> {
        self.read(|state| state.ended(component))
    }

    /// Gives back the stack and UTCB of a thread that exited (or whose
    /// component was destroyed), for a component the running one has
    /// authority over, or one below such a component; the thread's slot is
    /// free again. The boot thread, whose stack and UTCB are the image's,
    /// is never reaped (`InvalidThread`, its slot left as it is).
    pub fn reap(
        &self,
        thread: ThreadId,
    ) -> Result<(&'static mut [u8], &'static mut Utcb), KernelError> {
        let (base, len, utcb) = self.read(|state| state.reap(thread))?;
        if base == 0 || utcb.is_null() {
            return Err(KernelError::InvalidThread);
        }
        // `spawn` exposed the stack's address for this (`guard_stack`).
        let base = core::ptr::with_exposed_provenance_mut::<u8>(base);
        // SAFETY: `spawn` took these as `&'static mut` and kept them for the
        // thread alone; the thread is dead (never runs again) and its slot
        // is free, so the kernel gives up its only use of them here.
        unsafe { Ok((&mut *core::ptr::slice_from_raw_parts_mut(base, len), &mut *utcb)) }
    }

    /// Starts a thread of `component` running `entry(argument)`. The
    /// running component needs authority over `component`; the thread
    /// counts against its quota and may not exceed its priority. The
    /// lowest word of `stack` becomes its guard: a thread found to have
    /// overwritten it is reported by [`Arch::stack_overflow`].
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
        let (bounds, stack) = guard_stack(stack);
        let sp = A::prepare_stack(stack, entry, argument);
        let thread = self
            .read(|state| state.add_thread(component, name, priority, sp, utcb, bounds, false))?;
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

    /// Whether the running thread is core's (the root component's: the
    /// boot thread, the idle thread), or the kernel is not initialised yet.
    pub fn running_in_root(&self) -> bool {
        self.read(|state| state.running_in_root())
    }

    /// The running thread's UTCB. Only the running thread may use it, and
    /// not across a kernel call (the kernel writes it while it sleeps).
    #[inline]
    pub fn current_utcb(&self) -> *mut Utcb {
        self.read(|state| state.threads[state.current.index()].utcb)
    }

    /// A component's name (for log labels and reports); `None` for a free
    /// slot.
    pub fn component_name(&self, component: ComponentId) -> Option<&'static str> {
        self.read(|state| {
            let used = state.components.get(component.index()).is_some_and(|c| c.used);
            if used { state.names[component.index()] } else { None }
        })
    }

    /// The component a thread belongs to (`None` for a free slot).
    pub fn thread_component(&self, thread: ThreadId) -> Option<ComponentId> {
        self.read(|state| {
            state
                .threads
                .get(thread.index())
                .filter(|t| t.state != ThreadState::Free)
                .map(|t| t.component)
        })
    }

    /// Whether `component` is `ancestor` or was created, directly or not,
    /// by it (names only: no authority is needed or given).
    pub fn component_within(&self, component: ComponentId, ancestor: ComponentId) -> bool {
        self.read(|state| state.within(component, ancestor))
    }

    /// A thread's priority (`None` for a free slot).
    pub fn thread_priority(&self, thread: ThreadId) -> Option<u8> {
        self.read(|state| {
            state
                .threads
                .get(thread.index())
                .filter(|t| t.state != ThreadState::Free)
                .map(|t| t.priority)
        })
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
            A::without_interrupts(|| {
                // SAFETY: as above.
                unsafe { A::ipc_call(state, capability.0 as usize) };
                // A debugger may have stopped this thread meanwhile.
                #[cfg(feature = "debug")]
                crate::debug::park_if_stopped::<A>(self.state.get());
            });
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
                #[cfg(feature = "debug")]
                crate::debug::park_if_stopped::<A>(state);
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

    /// Registers `object`, served by entrypoint thread `entrypoint` (a
    /// thread of a component the running one has authority over), with
    /// its receive windows, and puts a capability for it into the running
    /// component's space. [`crate::Entrypoint::manage`] is the typed way.
    ///
    /// # Safety
    ///
    /// `object` must be valid for the rest of the program and used by
    /// nothing but `entrypoint`'s thread (which dispatches to it through a
    /// `&mut`), and `window` must describe the interface it serves.
    pub unsafe fn create_object(
        &self,
        entrypoint: ThreadId,
        object: NonNull<dyn Dispatch>,
        window: fn(usize, bool) -> usize,
    ) -> Result<(ObjectId, CapSel), KernelError> {
        self.read(|state| state.create_object(entrypoint, object, window))
    }

    /// Dissolves the object `capability` designates in the running
    /// component's space: every capability to it, in every component,
    /// fails with `ServerDead` from now on. Only the object's owner (the
    /// component whose entrypoint serves it, or one holding a component
    /// capability to it) may: others get [`KernelError::NotOwner`].
    pub fn revoke(&self, capability: CapSel) -> Result<(), KernelError> {
        self.read(|state| state.revoke(capability))
    }

    /// Copies a capability from one component's space into another's (how
    /// the image's composition hands out capabilities). The running
    /// component needs authority over both.
    pub fn delegate(
        &self,
        from: ComponentId,
        capability: CapSel,
        to: ComponentId,
    ) -> Result<CapSel, KernelError> {
        self.read(|state| state.delegate(from, capability, to))
    }

    /// A copy of the running component's signal capability `signal`, in
    /// its own space, that may only submit and carries `badge` (seL4's
    /// mint). Copies of one signal with different badges are different
    /// capabilities: a server that hands each session its own minted copy
    /// of one signal, and revokes that copy's copies
    /// ([`Kernel::revoke_copies`]) when the session ends, takes back
    /// exactly that session's, even from a component holding copies for
    /// several sessions. Minting the same badge again gives the same
    /// selector. The waiter learns which badges its submissions came
    /// through ([`Kernel::wait_signal_badges`]), as Genode's signal
    /// receiver learns the context of each. Only the signal's owner mints
    /// ([`KernelError::NotOwner`] for a component holding a copy: it could
    /// pass for another source). [`KernelError::InvalidCapability`]
    /// for a selector that is no live signal, [`KernelError::InvalidBadge`]
    /// for a badge above [`MAX_BADGE`](crate::MAX_BADGE),
    /// [`KernelError::CapabilitySpaceFull`] without a free slot.
    pub fn mint_signal(&self, signal: CapSel, badge: u8) -> Result<CapSel, KernelError> {
        self.read(|state| state.mint_signal(signal, badge))
    }

    /// Takes back from `to` every capability copied from `from`'s space,
    /// and the copies made of those (the running component needs authority
    /// over `from`). Returns how many were taken.
    pub fn take_back(&self, from: ComponentId, to: ComponentId) -> Result<usize, KernelError> {
        self.read(|state| state.take_back(from, to))
    }

    /// Takes back every copy made of the running component's capability
    /// (and the copies made of those), keeping its own; returns how many.
    pub fn revoke_copies(&self, capability: CapSel) -> Result<usize, KernelError> {
        self.read(|state| state.revoke_copies(capability))
    }

    /// Drops a capability from the running component's own space.
    pub fn drop_capability(&self, capability: CapSel) -> Result<(), KernelError> {
        self.enter(
            |state| {
                let result = state.drop_capability(capability);
                // A caller failed by dropping its reply capability may
                // outrank this thread.
                (if result.is_ok() { state.yield_if_outranked() } else { None }, result)
            },
            |_, result| result,
        )
    }

    /// What a selector designates in a component's space (`Empty` unless
    /// the running component has authority over it).
    pub fn capability(&self, component: ComponentId, capability: CapSel) -> CapEntry {
        self.read(|state| state.capability(component, capability))
    }

    /// Creates a counting signal owned by the running component: its
    /// capability carries the wait right; copies given to others only
    /// submit.
    pub fn create_signal(&self) -> Result<(SignalId, CapSel), KernelError> {
        self.read(State::create_signal)
    }

    /// Keeps the reply to the request the running thread serves for later:
    /// returns a reply capability (in the running component's space) to
    /// answer it with [`Kernel::reply_deferred`]. The caller stays blocked;
    /// the entrypoint serves other requests meanwhile (what it writes as
    /// this request's reply is not sent).
    pub fn defer_reply(&self) -> Result<CapSel, KernelError> {
        self.read(State::defer_reply)
    }

    /// Sends the message in the running thread's UTCB as the reply a reply
    /// capability stands for, and drops the capability.
    pub fn reply_deferred(&self, reply: CapSel) -> Result<(), KernelError> {
        self.enter(
            |state| match state.reply_deferred(reply) {
                Ok(switch) => (switch, Ok(())),
                Err(error) => (None, Err(error)),
            },
            |_, result| result,
        )
    }

    /// Submits a signal through a capability of the current component;
    /// its waiter learns the capability's badge
    /// ([`Kernel::wait_signal_badges`]).
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
    /// `generation` and `badge` are the signal's as a capability for it
    /// named them ([`CapEntry::Signal`]): a signal freed since (its owner
    /// destroyed, the slot maybe another component's signal by now) is not
    /// submitted, so an interrupt that comes before its handler is told
    /// wakes no one else; the waiter learns the badge as if the capability
    /// had submitted.
    ///
    /// # Safety
    ///
    /// Only the platform's interrupt handling may call this. It names the
    /// signal by its id and checks no capability, so a thread calling it
    /// could wake any waiter in the image: the authority the kernel's
    /// capabilities stand for would mean nothing.
    pub unsafe fn submit_from_interrupt(&self, signal: SignalId, generation: u32, badge: u8) {
        self.read(|state| state.submit_signal_deferred_of(signal, generation, badge));
    }

    /// The timer interrupt's kernel work: round-robin at interrupt exit,
    /// and a look at the interrupted thread's stack guard (an overwritten
    /// one is reported at interrupt exit).
    ///
    /// # Safety
    ///
    /// Only the platform's timer interrupt may call this (from a thread it
    /// would take the running thread's time slice and blame it).
    pub unsafe fn tick_from_interrupt(&self) {
        self.read(|state| {
            state.tick_from_interrupt();
            // Reported at interrupt exit, once the platform's interrupt
            // dispatch (and whatever it holds) is done.
            if !state.stack_intact(state.current) {
                state.overflowed = Some(state.current).into();
            }
        });
    }

    /// Called by the platform at the very end of interrupt handling (after
    /// the interrupt controller's end-of-interrupt), on the interrupted
    /// thread's stack: performs the switch the interrupt asked for. The
    /// interrupted thread continues when it is scheduled again.
    ///
    /// # Safety
    ///
    /// Only the platform may call this, once per interrupt, as the last
    /// step of its interrupt handling: it acts on what the interrupt's
    /// [`Kernel::submit_from_interrupt`] and [`Kernel::tick_from_interrupt`]
    /// left.
    pub unsafe fn interrupt_exit(&self) {
        self.enter(
            |state| {
                if let Some(thread) = state.overflowed.get() {
                    A::stack_overflow(state.threads[thread.index()].name.unwrap_or(""));
                }
                (state.interrupt_exit(), ())
            },
            |_, ()| (),
        );
    }

    /// Waits until the signal has been submitted at least once; returns how
    /// many submissions were collected. A signal whose owner watches its
    /// submitters ([`Kernel::watch_submitters`]) also ends the wait with
    /// [`TransportError::ServerDead`] when one of them was destroyed.
    pub fn wait_signal(&self, signal: CapSel) -> Result<u32, TransportError> {
        self.wait_signal_badges(signal).map(|signalled| signalled.count)
    }

    /// [`Kernel::wait_signal`], which also says which copies of the signal
    /// the submissions came through: bit `b` of
    /// [`Signalled::badges`] for a copy minted with badge `b`
    /// ([`Kernel::mint_signal`]), bit 0 for the signal's own capability
    /// and its plain copies. A driver that gives each session a copy of
    /// its one signal with a badge of its own serves the sessions whose
    /// bits are set (Genode's signal contexts on one receiver).
    pub fn wait_signal_badges(&self, signal: CapSel) -> Result<Signalled, TransportError> {
        self.enter(
            |state| match state.wait_signal(signal) {
                Ok(switch) => (switch, Ok(())),
                Err(error) => (None, Err(error)),
            },
            |state, result| {
                result.and_then(|()| {
                    let me = &mut state.threads[state.current.index()];
                    let badges = core::mem::take(&mut me.signal_badges);
                    // Woken without a count: a watched submitter died.
                    match core::mem::take(&mut me.signal_count) {
                        0 => Err(TransportError::ServerDead),
                        count => Ok(Signalled { count, badges }),
                    }
                })
            },
        )
    }

    /// Has the kernel tell the running component, through its waits on
    /// `signal` (a signal it created), when a component holding a copy of
    /// it is destroyed: a client that handed the signal to a server learns
    /// that the server died instead of waiting for ever. A waiting thread
    /// wakes with [`TransportError::ServerDead`]; with none waiting, the
    /// next wait that finds no submission returns it (submissions made
    /// before come first). Once per destroyed holder; a holder that drops
    /// its copy (a session closed) is not news.
    pub fn watch_submitters(&self, signal: CapSel) -> Result<(), TransportError> {
        self.read(|state| state.watch_submitters(signal))
    }

    /// Lets other ready threads of the same priority run.
    pub fn yield_now(&self) {
        self.enter(|state| (state.yield_now(), ()), |_, ()| ());
    }

    /// Ends the running component as a whole, as
    /// [`Kernel::destroy_component`] would: every thread of it (this one
    /// too) and of the components it created stops for good, its objects
    /// answer `ServerDead`, and the owners of the signals it held copies
    /// of are told if they watch ([`Kernel::watch_submitters`]). How a
    /// server whose thread panicked ends, when no parent destroys it. The
    /// threads' stacks and UTCBs wait for [`Kernel::reap`]. Returns only
    /// when refused: the root component (core) cannot end itself
    /// (`NoAuthority`).
    pub fn exit_component(&self) -> KernelError {
        let refused = self.enter(
            |state| match state.exit_component() {
                Ok(switch) => (switch, None),
                Err(error) => (None, Some(error)),
            },
            |_, refused| refused,
        );
        // A dead thread is never switched back to.
        refused.unwrap_or_else(|| unreachable!("a thread of an ended component ran again"))
    }

    /// Ends the running thread: its pending callers get `ServerDead`, the
    /// objects it served are dissolved; its stack and UTCB wait for
    /// [`Kernel::reap`].
    pub fn exit_current(&self) -> ! {
        self.enter(|state| (state.exit_current(), ()), |_, ()| ());
        // A dead thread is never switched back to.
        unreachable!("a dead thread ran again")
    }

    /// Gives the running thread its whole stack back for a fresh start:
    /// writes its stack guard again and returns the stack's end, 8-byte
    /// aligned, where the thread's stack pointer may start over. `None`
    /// for a thread whose stack the kernel did not record (the boot
    /// thread before [`Kernel::guard_boot_stack`]).
    ///
    /// For the board's panic and fault paths: a component's thread that
    /// crashed runs on from there in code that ends its component. A
    /// thread that ran into the guard page below its stack has written
    /// over the guard words on its way; written again, the next switch
    /// does not take the thread's own frames for an overflow into memory
    /// that is not its.
    ///
    /// # Safety
    ///
    /// Nothing returns into the frames on the running thread's stack, or
    /// reads them, afterwards: the caller moves the thread's stack pointer
    /// to the returned end at once and never comes back. The stack must
    /// have stayed within its bounds (the fault was the guard page's, not
    /// an overflow the guard words found).
    pub unsafe fn restart_current_stack(&self) -> Option<usize> {
        // SAFETY: the caller's contract.
        self.read(|state| unsafe { state.restart_stack(state.current) })
    }
}

/// Puts the guard at the bottom of a thread's `stack`; returns the stack's
/// bounds, which the kernel keeps (the guard is checked through them at
/// every switch, and [`Kernel::reap`] gives the stack back from them), and
/// the stack to hand to the thread.
///
/// The kernel keeps the stack as an address and hands the stack itself
/// on. The slice handed on is made from the pointer the address is taken
/// from (and exposed), so that handing it on leaves that pointer valid:
/// the slice is derived from the pointer, not the other way round, as the
/// Rust aliasing model (which Miri checks) requires of the kernel's later
/// uses of the address.
fn guard_stack(stack: &'static mut [u8]) -> ((usize, usize), &'static mut [u8]) {
    let (base, len) = (stack.as_mut_ptr(), stack.len());
    // SAFETY: words inside `stack`, which the caller gave up (nothing is
    // written if the guard does not fit).
    unsafe { write_stack_guard(base, len) };
    // SAFETY: the caller's stack, from its own pointer and length; the
    // caller's slice was moved here and is not used again.
    let stack = unsafe { core::slice::from_raw_parts_mut(base, len) };
    ((base.expose_provenance(), len), stack)
}

/// Switches from the running thread to another, as `enter` decided: one
/// copy for every kernel operation (each `enter` would otherwise carry the
/// stack check and the switch inlined).
///
/// # Safety
///
/// Interrupts are masked, `state` is the kernel's state and no reference
/// into it is live.
#[inline(never)]
unsafe fn switch_threads<A: Arch>(state: *mut State, Switch { from, to }: Switch) {
    // SAFETY: the caller's contract (a shared borrow that ends here).
    check_stack::<A>(unsafe { &*state }, from);
    // SAFETY: raw pointers only: no reference into the state survives
    // across the switch; `to`'s stack pointer was saved by `switch` or made
    // by `prepare_stack`.
    unsafe {
        let save = &raw mut (*state).threads.0[from.index()].sp;
        let load = (*state).threads.0[to.index()].sp;
        A::switch(save, load);
    }
    // A debugger may have stopped this thread meanwhile.
    #[cfg(feature = "debug")]
    crate::debug::park_if_stopped::<A>(state);
}

/// Reports `thread` if it has overwritten its stack guard (the ends of
/// it: a switch's quick look; the timer tick reads the whole guard).
#[inline(always)]
fn check_stack<A: Arch>(state: &State, thread: ThreadId) {
    if !state.stack_ends_intact(thread) {
        A::stack_overflow(state.threads[thread.index()].name.unwrap_or(""));
    }
}

#[inline(always)]
fn received_object(state: &mut State) -> Option<NonNull<dyn Dispatch>> {
    // SAFETY: `current` is always a thread the kernel made, below
    // `MAX_THREADS` (an invariant of the state; the fast paths index with
    // it unchecked too).
    unsafe { state.threads.get_unchecked(state.current.index()) }.received_dispatch
}

extern "C" fn idle_main<A: Arch>(_: usize) -> ! {
    loop {
        A::wait_for_interrupt();
    }
}
