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
//!   counts beyond the UTCB, full capability space) come back as error
//!   replies: no words, the [`ferrode_ipc::TransportError`] code in the
//!   UTCB's `error` (client stubs turn it into the interface's error type).
//!   The kernel never panics on them.
//!
//! # Fast paths
//!
//! The common call and the common reply take a fast path that checks
//! everything before it changes anything and otherwise leaves the case to
//! the general code. The state machine's Rust fast path runs on every CPU;
//! an architecture may supply a hand-written one instead
//! ([`Arch::IPC_FAST_PATH`]), written against [`IPC_LAYOUT`], the compiler's
//! own description of where things are in the kernel state.
#![cfg_attr(not(test), no_std)]

mod arch;
mod capspace;
#[doc(hidden)]
pub mod diff;
mod entrypoint;
mod error;
mod ids;
mod kernel;
mod layout;
mod sched;
mod state;

pub use arch::{Arch, ThreadEntry};
pub use capspace::CapEntry;
pub use entrypoint::{DeferredReply, Entrypoint, KernelTransport, defer_reply};
pub use error::KernelError;
pub use ids::{ComponentId, ObjectId, SignalId, ThreadId};
pub use kernel::Kernel;
pub use layout::{IPC_LAYOUT, IpcLayout};
pub use kernel::MIN_STACK;
pub use state::{
    MAX_COMPONENTS, MAX_OBJECTS, MAX_SIGNALS, MAX_THREADS, CAP_SLOTS, PRIORITIES, Quota, ThreadState,
};
pub use static_cell::ConstStaticCell;

#[cfg(test)]
mod tests;
