//! The kernel instance of this image, on this board's CPU.
//!
//! Turned on by the `kernel` feature. The boot thread becomes the first
//! thread of the root component with [`init`]; components, entrypoints and
//! threads are then created from it (see `apps/rpc-demo`).

pub use ferrode_ipc as ipc;
pub use ferrode_kernel::*;

use crate::{arch, platform};

/// This board's CPU as the kernel sees it.
pub struct Cpu;

// SAFETY: `switch_context` and `prepare_stack` are the arch crate's
// matching pair: the frame `prepare_stack` writes is the one
// `switch_context` pops.
unsafe impl Arch for Cpu {
    #[inline(always)]
    unsafe fn switch(save: *mut usize, load: usize) {
        // SAFETY: forwarded contract (see `Arch::switch`).
        unsafe { arch::switch_context(save, load) }
    }

    fn prepare_stack(stack: &'static mut [u8], entry: ThreadEntry, argument: usize) -> usize {
        arch::prepare_stack(stack, entry, argument)
    }

    #[inline(always)]
    fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
        arch::without_interrupts(f)
    }

    fn wait_for_interrupt() {
        arch::without_interrupts(|| IDLE.since.set(Some(arch::instructions_retired())));
        arch::wait_for_interrupt();
    }

    fn stack_overflow(thread: &'static str) -> ! {
        crate::report::stack_overflow(thread)
    }

    const IPC_FAST_PATH: bool = arch::IPC_FAST_PATH;

    #[inline(always)]
    unsafe fn ipc_call(state: *mut u8, selector: usize) {
        // SAFETY: forwarded contract (see `Arch::ipc_call`); the symbols are
        // defined below for this kernel's layout.
        unsafe { arch::ipc_call(state, selector) }
    }

    #[inline(always)]
    unsafe fn ipc_reply_wait(state: *mut u8) {
        // SAFETY: as above.
        unsafe { arch::ipc_reply_wait(state) }
    }
}

// The CPU's hand-written IPC fast path for this kernel's state layout,
// falling back to the kernel's Rust paths below.
arch::ipc_fast_path!(
    layout = ferrode_kernel::IPC_LAYOUT,
    call_slow = ipc_call_slow,
    reply_slow = ipc_reply_slow
);

/// The fast path's fall-back for `call` (interrupts are still masked).
#[allow(dead_code, reason = "referenced only from the fast path's assembly")]
extern "C" fn ipc_call_slow(_state: *mut u8, selector: usize) {
    KERNEL.call_in_rust(ipc::CapSel(selector as u32));
}

/// The fast path's fall-back for `reply_and_wait`.
#[allow(dead_code, reason = "referenced only from the fast path's assembly")]
extern "C" fn ipc_reply_slow(_state: *mut u8) {
    KERNEL.reply_and_wait_in_rust();
}

/// The image's kernel.
pub static KERNEL: Kernel<Cpu> = Kernel::new();

/// The image's kernel.
#[inline(always)]
pub fn kernel() -> &'static Kernel<Cpu> {
    &KERNEL
}

/// The transport client stubs use on this board.
pub type Transport = KernelTransport<Cpu>;

/// A client stub for interface `I` calling `capability` from the running
/// thread.
pub fn client<I: ?Sized>(capability: ipc::Capability<I>) -> ipc::Client<I, Transport> {
    ipc::Client::new(Transport::new(&KERNEL), capability)
}

/// An entrypoint on this board.
pub type BoardEntrypoint = Entrypoint<Cpu>;

static MAIN_UTCB: ConstStaticCell<ipc::Utcb> = ConstStaticCell::new(ipc::Utcb::new());
static IDLE_UTCB: ConstStaticCell<ipc::Utcb> = ConstStaticCell::new(ipc::Utcb::new());
// The idle thread's stack, with a guard page below it as every thread
// stack has: the interrupts taken while the image idles run on it, kernel
// work and thread switches included (at most a few hundred bytes in
// echo-net, `cargo xtask stacks`).
crate::thread_stack!(static IDLE_STACK: MIN_STACK);

/// The guard page below the idle thread's stack (empty on a board without
/// guards): the crash app checks that the board protects it.
pub fn idle_stack_guard() -> core::ops::Range<usize> {
    IDLE_STACK.guard()
}

/// Makes the boot thread the first thread (priority `priority`) of the
/// root component (which gets every quota, and `priority` as its place in
/// the priority rule: it may hold capabilities to servers at `priority` or
/// above), starts the idle thread, and starts time slicing: the
/// board's periodic tick drives round-robin within a priority, and threads
/// woken by interrupts run as soon as the interrupt is done. Call once,
/// first.
pub fn init(priority: u8) -> Result<ComponentId, KernelError> {
    let Some(utcb) = MAIN_UTCB.try_take() else { return Err(KernelError::InvalidThread) };
    let (idle_stack, idle_utcb) = IDLE_STACK.take(&IDLE_UTCB)?;
    let root = KERNEL.init("root", priority, utcb, idle_stack, idle_utcb)?;
    unsafe extern "C" {
        // The linker script's boot stack (`.stack`), this thread's.
        static __stack_bottom: u8;
        static __stack_top: u8;
    }
    let bottom = (&raw const __stack_bottom) as usize;
    let top = (&raw const __stack_top) as usize;
    // SAFETY: `.stack` is the boot thread's stack and holds nothing else;
    // this runs early in the app's main, a few hundred bytes below its
    // top, so its lowest words are unused.
    unsafe { KERNEL.guard_boot_stack(bottom, top - bottom) };
    fn exit_hook() {
        IDLE.interrupt_exit();
        // SAFETY: the platform calls the exit hook once per interrupt, as
        // the last step of its interrupt handling.
        unsafe {
            crate::component::timer_interrupt();
            KERNEL.interrupt_exit()
        }
    }
    fn tick() {
        // SAFETY: the platform calls the tick handler from its timer
        // interrupt only.
        unsafe { KERNEL.tick_from_interrupt() }
    }
    // SAFETY: the kernel's own interrupt exit step and tick, set once as
    // the kernel starts; the platform calls them as they need.
    unsafe {
        platform::irq::set_exit_hook(exit_hook);
        platform::tick::set_handler(tick);
    }
    Ok(root)
}

/// What the idle thread retired: its own few instructions and those of the
/// interrupts taken while it waited (counted up to each interrupt's exit,
/// before any switch, so the work of the threads it wakes is not idle).
/// While the image waits for the outside (a host sending frames under
/// QEMU), this grows with that latency, not with the image's work;
/// benchmarks take it out.
struct IdleCount {
    /// The instructions-retired counter when the idle thread last went to
    /// wait, until an interrupt's exit accounts for it.
    since: core::cell::Cell<Option<u32>>,
    retired: core::cell::Cell<u64>,
}

// SAFETY: both cells are touched only with interrupts masked (the exit
// hook runs so, the idle thread and readers mask them) on the one core.
unsafe impl Sync for IdleCount {}

static IDLE: IdleCount =
    IdleCount { since: core::cell::Cell::new(None), retired: core::cell::Cell::new(0) };

impl IdleCount {
    /// At an interrupt's exit (interrupts masked).
    fn interrupt_exit(&self) {
        if let Some(since) = self.since.take() {
            let now = arch::instructions_retired();
            self.retired.set(self.retired.get() + u64::from(now.wrapping_sub(since)));
        }
    }
}

/// Instructions retired by the idle thread and the interrupts it slept
/// through, since boot (counts only once the instruction counter runs:
/// `arch::start_instruction_counter`).
pub fn idle_instructions() -> u64 {
    arch::without_interrupts(|| IDLE.retired.get())
}
