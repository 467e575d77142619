//! What the kernel needs from the CPU.

/// A thread's entry function: receives the argument given at spawn and
/// never returns; a thread that is done calls [`crate::Kernel::exit_current`].
pub type ThreadEntry = extern "C" fn(usize) -> !;

/// CPU operations the kernel is built on. The board implements this for
/// its CPU with the arch crate's context switch; tests use a host model.
///
/// # Safety
///
/// Implementations must really switch stacks in [`Arch::switch`] and build
/// frames in [`Arch::prepare_stack`] that `switch` can resume.
pub unsafe trait Arch {
    /// Saves the current thread's callee-saved registers on its stack,
    /// stores its stack pointer in `*save`, then resumes the thread whose
    /// saved stack pointer is `load`. Returns when some thread switches
    /// back to this one.
    ///
    /// # Safety
    ///
    /// `save` must be valid for a write; `load` must be a stack pointer
    /// saved by `switch` or made by [`Arch::prepare_stack`]; interrupts must
    /// be masked.
    unsafe fn switch(save: *mut usize, load: usize);

    /// Writes a first frame at the top of `stack` so that switching to the
    /// returned stack pointer runs `entry(argument)` with interrupts on.
    fn prepare_stack(stack: &'static mut [u8], entry: ThreadEntry, argument: usize) -> usize;

    /// Runs `f` with interrupts masked, restoring the previous state after.
    fn without_interrupts<R>(f: impl FnOnce() -> R) -> R;

    /// Waits for an interrupt (the idle thread's body). Called with
    /// interrupts enabled.
    fn wait_for_interrupt();

    /// A thread overwrote the guard word at the bottom of its stack (found
    /// at a context switch or a timer tick): report it, naming the thread,
    /// and stop the image. Its neighbours' memory may be corrupt.
    fn stack_overflow(thread: &'static str) -> !;

    /// Whether [`Arch::ipc_call`] and [`Arch::ipc_reply_wait`] are a
    /// hand-written IPC fast path. Without one the kernel's Rust paths run.
    const IPC_FAST_PATH: bool = false;

    /// A hand-written [`crate::Kernel::call`]. `state` is the kernel state,
    /// laid out as [`crate::IPC_LAYOUT`] says. It either does exactly what
    /// the kernel's Rust fast path does for a message without capabilities
    /// to a live object whose entrypoint waits (copy the header and the
    /// used words, set badge, reply target, dispatcher and thread states,
    /// switch to the server with the frame [`Arch::switch`] uses) or,
    /// having changed nothing, hands the whole call to
    /// [`crate::Kernel::call_in_rust`]. Returns when the call is over.
    ///
    /// # Safety
    ///
    /// Interrupts masked; `state` is the state of the kernel the calling
    /// thread runs on, with no reference into it live.
    unsafe fn ipc_call(state: *mut u8, selector: usize) {
        let _ = (state, selector);
        unreachable!("no IPC fast path on this CPU");
    }

    /// A hand-written reply-and-wait: copies a reply without capabilities
    /// or error code to the caller being served and switches to it when
    /// the Rust fast path would, otherwise hands over to [`crate::Kernel::reply_and_wait_in_rust`]. Returns
    /// when the next request has been delivered.
    ///
    /// # Safety
    ///
    /// As for [`Arch::ipc_call`].
    unsafe fn ipc_reply_wait(state: *mut u8) {
        let _ = state;
        unreachable!("no IPC fast path on this CPU");
    }
}
