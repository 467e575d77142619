//! Ferrode's kernel: threads, IPC, capability spaces and signals.
//!
//! All components live in one image, but the kernel keeps them apart the
//! way a microkernel would: each component has its own capability space,
//! and an RPC copies exactly the used words of the caller's UTCB into the
//! server's UTCB, translating the capabilities it carries. Nothing else
//! crosses a component boundary.
//!
//! The kernel's state machine (the private `state` module) is plain Rust
//! that runs and is tested on the host; the only thing it needs from the CPU is
//! the [`Arch`] trait: a context switch, a first stack frame for new
//! threads, and interrupt masking. Kernel operations are function calls made
//! with interrupts masked (a single core makes that a critical section): a
//! null RPC round trip, stubs and dispatch included, is about 150
//! instructions on a Cortex-A9 (`cargo xtask bench ipc`).
//!
//! # IPC protocol
//!
//! - [`Kernel::call`]: the caller's UTCB holds the request; the kernel finds
//!   the object its capability designates, and if the object's entrypoint
//!   thread is waiting, copies the message into that thread's UTCB (badge =
//!   the object's id) and switches straight to it. Otherwise the caller
//!   queues at the entrypoint. The caller sleeps until the reply has been
//!   copied back into its UTCB.
//! - [`Kernel::reply_and_wait`]: a server copies its reply to the caller it
//!   serves, makes the caller ready, and takes the next queued request or
//!   sleeps until one arrives (switching straight to the caller if it is
//!   the best thread to run).
//! - Failures (invalid or foreign selector, revoked object, dead server,
//!   counts beyond the UTCB, capabilities beyond the receive window, full
//!   capability space, deadlock) come back as error replies: no words, the
//!   [`ferrode_ipc::TransportError`] code in the UTCB's `error` (client
//!   stubs turn it into the interface's error type). The kernel never
//!   panics on them.
//!
//! # The capability model
//!
//! Every component is treated as a possible attacker: a capability means
//! exactly the authority it names, and nothing else gives authority.
//!
//! - **Authority comes from capabilities, not ids.** Every operation acts
//!   for the running thread's component (the *actor*). Acting on another
//!   component (spawning threads there, managing objects for it,
//!   delegating to or from its space, taking back, destroying it) needs a
//!   component capability to it ([`CapEntry::Component`]) in the actor's
//!   own space; [`Kernel::create_component`] gives one to the creator, so
//!   composing an image is itself an exercise of capabilities.
//!   [`ComponentId`]s and [`ThreadId`]s are names: anyone may know them.
//! - **Ownership.** An object is owned by the component whose entrypoint
//!   serves it. Only the owner (or a holder of a component capability to
//!   it) may dissolve it ([`Kernel::revoke`]); every copy then answers
//!   `ServerDead`. Any holder may drop its own copy.
//! - **Derivation.** Each slot records the slot it was copied from (by
//!   delegation or in a message). [`Kernel::take_back`] removes from one
//!   component every capability copied from the delegator's space, and the
//!   copies made of those in turn, as seL4's derivation tree does; the
//!   emptied slots hold [`CapEntry::Revoked`] until their holder drops them,
//!   so a selector never silently comes to mean something else. (A copy
//!   that lands on a slot already holding the same capability keeps that
//!   slot's first derivation.)
//! - **Signals** split into the owner's wait right and submit-only copies:
//!   a delegated or transferred signal capability can submit, never wait
//!   (a copy that comes back to the owning component's space waits again:
//!   the right was the owner's all along). A copy minted with a badge
//!   ([`Kernel::mint_signal`]) is a capability of its own, and the waiter
//!   learns which badges its submissions came through
//!   ([`Kernel::wait_signal_badges`]): one signal serves many sources,
//!   as Genode's signal receiver serves many contexts.
//! - **Bounded receipt.** Each method of an interface declares how many
//!   capabilities its arguments and its reply carry
//!   ([`ferrode_ipc::Interface::caps_window`]), and the kernel learns them
//!   when the object is managed. It runs that function inside its
//!   operations, on the caller's thread, so `Interface` is an `unsafe
//!   trait` whose windows must be pure: `interface!` writes them so, and
//!   a server cannot make its own run as its client in safe code. A message carrying more is refused
//!   (`TooManyCapabilities`) before anything changes; a transfer checks
//!   every capability, and the receiver's room, before it inserts any.
//!   The receiver's UTCB says which capabilities the delivery added to its
//!   space (`Utcb::fresh`); when a server refuses a request (it does not
//!   decode, or the method returns `Err`), the entrypoint drops those
//!   ([`serve_request`]), so failing requests cannot fill its space.
//! - **Quotas.** A component's capability slots, threads, objects, signals
//!   and children come from the [`Quota`] it was created with; exhausting
//!   one is [`KernelError::QuotaExceeded`] or `CapabilitySpaceFull`, and
//!   the component keeps working. A quota bounds what the component *and
//!   everything it created* use together (threads, objects, signals,
//!   descendants), so a component cannot give a child more than it has;
//!   nor a higher priority than its own (only the root, core, hands out
//!   the servers' higher priorities).
//! - **Typed end to end.** A request's label carries the declaring
//!   interface's identity; the dispatcher refuses a label of an interface
//!   the object does not implement (`WrongInterface`) before any method
//!   runs. A transport error that a server returns reaches its client as
//!   `Forwarded`, so kernel failures and server answers stay apart for
//!   servers built on the dispatcher. (A server that writes its reply by
//!   hand can put any code in it; that only misinforms its own clients,
//!   which it could fail anyway.)
//! - **Priorities.** A component may hold a capability to an object only if
//!   the object's entrypoint runs at least at the component's
//!   [`Quota::priority`] (Hubris's rule, checked when a capability is
//!   delegated, transferred or made, never on the call path). So a call
//!   never hands the CPU to a server that a ready thread would have to wait
//!   for, every path may switch straight to the server, and priority
//!   inversion is bounded by one request: send queues are ordered by
//!   priority. A reply switches back to the caller only if nothing of
//!   higher priority is ready.
//! - **Nested calls and deferred replies.** A server may call other
//!   servers while serving (the UTCB is borrowed only around decoding and
//!   encoding, and a reply clears the error code); it may keep the reply
//!   for later ([`defer_reply`], a reply capability answered with
//!   [`Kernel::reply_deferred`]) and serve others meanwhile. A call that
//!   would wait for itself (the caller serves the object, or the server is
//!   transitively waiting for the caller) is refused as `Deadlock`.
//! - **Reclamation.** Threads exit ([`Kernel::exit_current`]: their
//!   callers get `ServerDead`, their objects are dissolved) and are reaped
//!   ([`Kernel::reap`] gives the stack and UTCB back); a component can be
//!   destroyed ([`Kernel::destroy_component`]) with its threads, objects,
//!   signals and capabilities, and with every component it created (none
//!   outlives its creator, out of anyone's reach), and every capability
//!   others hold to their objects answers `ServerDead`.
//! - **Generations.** A capability holds the generation of the slot it
//!   names (object, component, signal), which moves on when the slot is
//!   freed. A slot whose generation would wrap around is retired instead
//!   of reused, so an old capability never comes to name a new object.
//! - **Interrupts.** The entry points the platform's interrupt handling
//!   uses ([`Kernel::submit_from_interrupt`], which names a signal by id
//!   and the generation a capability for it carried, so that a signal
//!   freed since is left alone,
//!   [`Kernel::tick_from_interrupt`], [`Kernel::interrupt_exit`]) are
//!   `unsafe`: a component's safe code cannot reach them.
//! - **Soundness.** No safe function can cause undefined behaviour: object
//!   registration is typed ([`Entrypoint::manage`]) or `unsafe` with a
//!   contract; a thread's UTCB is reached through a pointer and borrowed
//!   only for one decoding or encoding step ([`ferrode_ipc::Transport`] is an
//!   `unsafe trait`), so stubs and a dispatcher never hold two `&mut` to it.
//!   Stacks are at least [`MIN_STACK`] (interrupt frames land on them) and
//!   carry a 64-byte guard, checked at context switches and timer ticks; an
//!   overflow is reported naming the thread ([`Arch::stack_overflow`]).
//!
//! # Fast paths
//!
//! The common call and the common reply take a fast path that checks
//! everything before it changes anything and otherwise leaves the case to
//! the general code. The state machine's Rust fast path runs on every CPU
//! and handles capability transfers too; an architecture may supply a
//! hand-written one for messages without capabilities
//! ([`Arch::IPC_FAST_PATH`]), written against [`IPC_LAYOUT`], the
//! compiler's own description of where things are in the kernel state.
//! The hand-written paths and the Rust paths are compared on both boards
//! by a differential test (`apps/ipc-diff`, the hidden `diff` module):
//! random kernel states driven through both, compared field by field.
#![cfg_attr(not(test), no_std)]

mod arch;
mod capspace;
#[cfg(feature = "debug")]
mod debug;
#[doc(hidden)]
pub mod diff;
mod entrypoint;
mod error;
mod ids;
mod kernel;
mod layout;
mod sched;
mod state;
mod table;

pub use arch::{Arch, ThreadEntry};
pub use capspace::CapEntry;
#[cfg(feature = "debug")]
pub use debug::{DebugThread, StoppedFrame};
pub use entrypoint::{DeferredReply, Entrypoint, KernelTransport, defer_reply, serve_request};
pub use error::KernelError;
pub use ids::{ComponentId, ObjectId, SignalId, ThreadId};
pub use kernel::Kernel;
pub use kernel::{MIN_STACK, Signalled};
pub use layout::{IPC_LAYOUT, IpcLayout};
pub use state::{
    CAP_SLOTS, MAX_BADGE, MAX_COMPONENTS, MAX_OBJECTS, MAX_SIGNALS, MAX_THREADS, PRIORITIES, Quota,
    STACK_GUARD_WORDS, ThreadState,
};
pub use static_cell::ConstStaticCell;

#[cfg(test)]
mod tests;
