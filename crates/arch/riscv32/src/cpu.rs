//! RV32 CPU operations: exit, interrupt masking, `minstret`.

use core::arch::asm;

use crate::semihosting;

/// Issues a semihosting call: the `slli`/`ebreak`/`srai` sequence, which
/// must be uncompressed and within one page (hence the alignment).
fn semihosting_call(operation: u32, parameter: usize) -> usize {
    let result: usize;
    // SAFETY: the semihosting host reads `parameter` (a pointer to a block
    // we keep alive across the call, or a plain value) and writes a0 only.
    unsafe {
        asm!(
            ".option push",
            ".option norvc",
            ".balign 16",
            "slli x0, x0, 0x1f",
            "ebreak",
            "srai x0, x0, 7",
            ".option pop",
            inout("a0") operation as usize => result,
            in("a1") parameter,
            options(nostack)
        );
    }
    result
}

/// Ends the program with `code` as the emulator's exit status.
///
/// # Safety
///
/// Ends the whole image, every component with it, with `code` as its
/// status: only the image's own end may call it (the board's `exit` from
/// the root, the panic and fault reports). A component ends through its
/// parent instead (`ferrode_board::exit` does that).
pub unsafe fn exit(code: u32) -> ! {
    semihosting::exit(semihosting_call, code);
    loop {
        // SAFETY: masks interrupts and parks the hart.
        unsafe { asm!("csrci mstatus, 8", "wfi", options(nomem, nostack)) };
    }
}

/// Reads the semihosting command line (the program name and arguments).
pub fn cmdline(buffer: &mut [u8]) -> Option<&str> {
    semihosting::cmdline(semihosting_call, buffer)
}

/// This CPU has a hand-written IPC fast path (see [`crate::ipc_fast_path!`]).
pub const IPC_FAST_PATH: bool = true;

/// The fast-path call: `ferrode_ipc_call`, defined where the board expands
/// [`crate::ipc_fast_path!`].
///
/// # Safety
///
/// As `ferrode_kernel::Arch::ipc_call` states: interrupts masked, `state`
/// the kernel state the macro was expanded for.
#[inline(always)]
pub unsafe fn ipc_call(state: *mut u8, selector: usize) {
    // SAFETY: forwarded contract.
    unsafe { ferrode_ipc_call(state, selector) }
}

/// The fast-path reply-and-wait: `ferrode_ipc_reply_wait`.
///
/// # Safety
///
/// As for [`ipc_call`].
#[inline(always)]
pub unsafe fn ipc_reply_wait(state: *mut u8) {
    // SAFETY: forwarded contract.
    unsafe { ferrode_ipc_reply_wait(state) }
}

/// Runs `f` with machine interrupts masked (`mstatus.MIE` clear), restoring
/// the previous state after. On a single hart this is a critical section.
#[inline]
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    let mstatus: usize;
    // SAFETY: atomically clears MIE and reads the old mstatus; no memory.
    unsafe { asm!("csrrci {0}, mstatus, 8", out(reg) mstatus, options(nostack)) };
    let result = f();
    if mstatus & 8 != 0 {
        // SAFETY: interrupts were enabled on entry; re-enable them.
        unsafe { asm!("csrsi mstatus, 8", options(nostack)) };
    }
    result
}

/// Whether machine interrupts were enabled when [`disable_interrupts`] ran.
#[derive(Clone, Copy, Debug)]
pub struct InterruptState(bool);

/// Masks machine interrupts and returns the previous state, for a critical
/// section that cannot be a closure (a logger's acquire and release);
/// [`restore_interrupts`] ends it. Prefer [`without_interrupts`].
#[inline]
pub fn disable_interrupts() -> InterruptState {
    let mstatus: usize;
    // SAFETY: as in `without_interrupts`: clears MIE, reads the old mstatus.
    unsafe { asm!("csrrci {0}, mstatus, 8", out(reg) mstatus, options(nostack)) };
    InterruptState(mstatus & 8 != 0)
}

/// Re-enables machine interrupts if they were enabled when `state` was taken.
///
/// # Safety
///
/// `state` comes from the [`disable_interrupts`] that began this critical
/// section, and nested sections end innermost first: restoring an outer
/// state early would unmask interrupts inside another critical section.
#[inline]
pub unsafe fn restore_interrupts(state: InterruptState) {
    if state.0 {
        // SAFETY: interrupts were enabled when the section began.
        unsafe { asm!("csrsi mstatus, 8", options(nostack)) };
    }
}

/// Whether machine interrupts are enabled here (`mstatus.MIE`): a
/// thread's own code runs so; kernel work, trap handlers and critical
/// sections run masked.
pub fn interrupts_enabled() -> bool {
    let mstatus: usize;
    // SAFETY: reads mstatus; no memory or state is touched.
    unsafe { asm!("csrr {0}, mstatus", out(reg) mstatus, options(nomem, nostack)) };
    mstatus & 8 != 0
}

/// Unmasks machine external interrupts (`mie.MEIE`) and interrupts globally.
pub fn enable_interrupts() {
    // SAFETY: the trap vector is installed by `_start` before Rust runs.
    unsafe {
        asm!("csrs mie, {0}", "csrsi mstatus, 8", in(reg) 1usize << 11, options(nostack));
    }
}

/// Waits for an interrupt.
pub fn wait_for_interrupt() {
    // SAFETY: `wfi` has no effect on memory or registers.
    unsafe { asm!("wfi", options(nomem, nostack)) };
}

/// `minstret` counts from reset; nothing to start.
pub fn start_instruction_counter() {}

/// Instructions retired (low 32 bits of `minstret`).
#[inline(always)]
pub fn instructions_retired() -> u32 {
    let count: u32;
    // SAFETY: reads a counter CSR; no side effects.
    unsafe { asm!("csrr {0}, minstret", out(reg) count, options(nomem, nostack)) };
    count
}

/// Points the running thread's thread pointer at `pointer`: `tp`, which every thread switch saves and restores with the thread.
/// Local-exec thread-local accesses (Rust `std`'s) reach the thread's TLS
/// block from it.
///
/// # Safety
///
/// `pointer` is the start of a TLS block laid out for this CPU (see
/// [`TLS_CONTROL_BLOCK`](crate::TLS_CONTROL_BLOCK)) that lives as long as
/// the thread uses thread-locals.
#[inline]
pub unsafe fn set_thread_pointer(pointer: usize) {
    // SAFETY: writes one register no Ferrode code reads; the caller
    // vouches for what thread-local accesses will find there.
    unsafe { asm!("mv tp, {0}", in(reg) pointer, options(nomem, nostack, preserves_flags)) };
}

/// The current stack pointer (the panic report looks for return addresses
/// above it).
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: copies sp into a register; no memory or flags are touched.
    unsafe { asm!("mv {0}, sp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}

/// Executes `unimp` (an illegal instruction), raising the illegal-
/// instruction exception. For tests of the fault path.
pub fn undefined_instruction() -> ! {
    // SAFETY: `unimp` only raises an exception, which the trap vector reports.
    unsafe { asm!("unimp", options(noreturn, nomem, nostack)) }
}

/// Loads the 32-bit word at `address` with a plain `lw`, whatever is there.
/// An address with no memory or device raises a load access fault: the
/// fault path's test uses that.
///
/// # Safety
///
/// Reads any address, past every capability: another component's memory,
/// or a device register whose read has an effect (a UART's receive FIFO
/// pops). Only the fault path's tests may use it, on an address they chose
/// to fault.
pub unsafe fn load_word(address: usize) -> u32 {
    let value: u32;
    // SAFETY: a load has no effect beyond reading `address`; if it faults
    // the trap vector reports it and the image exits.
    unsafe { asm!("lw {0}, 0({1})", out(reg) value, in(reg) address, options(nostack, readonly)) };
    value
}

/// [gdb monitor] Resumes the running thread from the trap frame at
/// `frame` ([`crate::debug::TRAP_FRAME_WORDS`] words, in the breakpoint
/// entry's layout): every register as the frame holds it, the stack
/// pointer just above the frame, `mepc` and `mstatus` restored, and
/// `mret` (interrupts enabled again, as the frame's MPIE says). For a
/// thread the debugger stopped where it faulted and moved on (its pc
/// written past the fault): it goes on there instead of ending its
/// component.
///
/// # Safety
///
/// Only the board's fault stop may call this, on the thread that faulted,
/// with `frame` the fault's trap frame it keeps right below the stack
/// pointer the thread faulted at (so its frames above are the ones the
/// registers refer to), as the debugger left it: the pc inside the
/// image's code, the state bits as the fault found them
/// ([`crate::debug::write_trap_register`] keeps them).
pub unsafe fn resume_trap_frame(frame: usize) -> ! {
    // SAFETY: the caller's contract: the frame is the thread's own, on its
    // stack. Interrupts stay masked from the first CSR write to `mret`
    // (an interrupt in between would overwrite `mepc`); t0 goes last, as
    // it carries the CSRs' values.
    unsafe {
        asm!(
            "csrci mstatus, 8",
            "mv sp, a0",
            "lw t0, 128(sp)",
            "csrw mepc, t0",
            "lw t0, 132(sp)",
            "csrw mstatus, t0",
            "lw s0, 0(sp)",
            "lw s1, 4(sp)",
            "lw s2, 8(sp)",
            "lw s3, 12(sp)",
            "lw s4, 16(sp)",
            "lw s5, 20(sp)",
            "lw s6, 24(sp)",
            "lw s7, 28(sp)",
            "lw s8, 32(sp)",
            "lw s9, 36(sp)",
            "lw s10, 40(sp)",
            "lw s11, 44(sp)",
            "lw gp, 48(sp)",
            "lw tp, 52(sp)",
            "lw ra, 64(sp)",
            "lw t1, 72(sp)",
            "lw t2, 76(sp)",
            "lw a0, 80(sp)",
            "lw a1, 84(sp)",
            "lw a2, 88(sp)",
            "lw a3, 92(sp)",
            "lw a4, 96(sp)",
            "lw a5, 100(sp)",
            "lw a6, 104(sp)",
            "lw a7, 108(sp)",
            "lw t3, 112(sp)",
            "lw t4, 116(sp)",
            "lw t5, 120(sp)",
            "lw t6, 124(sp)",
            "lw t0, 68(sp)",
            "addi sp, sp, 144",
            "mret",
            in("a0") frame,
            options(noreturn),
        )
    }
}

unsafe extern "C" {
    fn ferrode_ipc_call(state: *mut u8, selector: usize);
    fn ferrode_ipc_reply_wait(state: *mut u8);
    fn ferrode_switch(save: *mut usize, load: usize);
    fn ferrode_thread_start() -> !;
}

/// Switches threads: saves ra and s0-s11 on the stack, stores sp at
/// `save`, loads `load` as sp and restores the other thread's registers.
///
/// # Safety
///
/// `save` must be writable; `load` must be a stack pointer saved by this
/// function or made by [`prepare_stack`]; interrupts must be masked.
#[inline(always)]
pub unsafe fn switch_context(save: *mut usize, load: usize) {
    // SAFETY: the caller upholds the contract above; the assembly saves
    // and restores every callee-saved register.
    unsafe { ferrode_switch(save, load) }
}

/// Builds the first frame of a thread at the (16-byte aligned) top of
/// `stack`: `switch_context` to the returned sp runs `entry(argument)` with
/// machine interrupts enabled.
pub fn prepare_stack(
    stack: &'static mut [u8],
    entry: extern "C" fn(usize) -> !,
    argument: usize,
) -> usize {
    let base = stack.as_ptr() as usize;
    let top = (base + stack.len()) & !15;
    let start = top - 64 - base;
    // ra, s0 (entry), s1 (argument), then s2..s11 and padding.
    let mut frame = [0usize; 16];
    frame[0] = ferrode_thread_start as unsafe extern "C" fn() -> ! as usize;
    frame[1] = entry as usize;
    frame[2] = argument;
    for (index, word) in frame.iter().enumerate() {
        stack[start + index * 4..start + index * 4 + 4]
            .copy_from_slice(&(*word as u32).to_le_bytes());
    }
    base + start
}

/// Makes code written at `address..address + length` visible to
/// instruction fetch (a debugger's breakpoint): `fence.i`.
pub fn sync_instruction_memory(address: usize, length: usize) {
    let _ = (address, length);
    // SAFETY: `fence.i` only orders instruction fetch after earlier stores.
    unsafe { asm!("fence.i", options(nostack)) };
}

/// The `critical-section` implementation for this single core: a critical
/// section masks interrupts and puts back the previous masks at its end.
struct CriticalSection;

critical_section::set_impl!(CriticalSection);

// SAFETY: on one core, code that runs with interrupts masked cannot be
// interrupted or preempted (threads only switch from interrupts or calls
// the section's code makes itself), so `acquire` excludes every other
// context until `release`; `release` gets back exactly the state its
// `acquire` returned, innermost first (the crate's contract).
unsafe impl critical_section::Impl for CriticalSection {
    unsafe fn acquire() -> critical_section::RawRestoreState {
        u32::from(disable_interrupts().0)
    }

    unsafe fn release(state: critical_section::RawRestoreState) {
        // SAFETY: `state` is what the matching `acquire` returned.
        unsafe { restore_interrupts(InterruptState(state != 0)) }
    }
}

/// Runs `f`, which writes code (a debugger's breakpoint), with interrupts
/// masked. Code is writable only in images whose platform leaves it so
/// (MicroBlaze V's `writable-code` feature, which the GDB monitor turns
/// on: a locked PMP entry binds machine mode until reset); the writer
/// makes the new instructions visible with [`sync_instruction_memory`].
///
/// # Safety
///
/// While `f` runs, code may be written: only a debugger's breakpoint
/// writer may use it, for the instructions it puts in or takes out.
pub unsafe fn writable_code<R>(f: impl FnOnce() -> R) -> R {
    without_interrupts(f)
}

/// Stores `value` at `address` with a plain `sw`, whatever is there: the
/// protection test's write into code (which the platform's PMP refuses).
///
/// # Safety
///
/// Writes any address, past every capability and Rust's aliasing rules:
/// only the protection tests may use it, on an address the hardware
/// refuses.
pub unsafe fn store_word(address: usize, value: u32) {
    // SAFETY: the caller asked for this store to `address` to see whether
    // the hardware refuses it; if it faults the trap vector reports it.
    unsafe { asm!("sw {0}, 0({1})", in(reg) value, in(reg) address, options(nostack)) };
}

/// Jumps to `address` as if it held code: the protection test's jump into
/// data.
///
/// # Safety
///
/// Runs whatever is at `address`: only the protection tests may use it, on
/// an address the hardware refuses to execute.
pub unsafe fn jump_to(address: usize) -> ! {
    // SAFETY: the caller asked to run whatever is at `address` to see
    // whether the hardware refuses; whatever happens is reported as a fault
    // or ends the test.
    unsafe { asm!("jr {0}", in(reg) address, options(noreturn, nostack)) }
}

/// Moves the running thread onto a fresh stack at `stack_top` and runs
/// `entry(argument)` there with interrupts enabled: from the fault path
/// (on the fault stack, interrupts masked) or the panic handler, a crashed
/// component's thread lands in code that ends its component, and the
/// image runs on. The thread's old frames are left behind. Everything
/// runs in machine mode, so no `mret` is needed: setting `mstatus.MIE`
/// ends the trap.
///
/// # Safety
///
/// Only the board's panic and fault paths may call this, for a crash of
/// thread code (a panic with interrupts enabled, or a fault that
/// interrupted thread code, [`crate::fault::interrupted_thread`]), with
/// `stack_top` the end of that thread's own stack
/// (`Kernel::restart_current_stack`) and the kernel's state as the fault
/// found it: nothing returns into the thread's old frames. With the GDB
/// monitor, the fault path may also land a faulted thread below the
/// frames it left on its own stack, or on the monitor's one park stack
/// when its own has no room left, for the debugger to read (and then end
/// the component from there, as above).
pub unsafe fn land(stack_top: usize, entry: extern "C" fn(usize) -> !, argument: usize) -> ! {
    // SAFETY: the caller's contract. The frame pointer starts at zero, as
    // at a thread's first frame.
    unsafe {
        asm!(
            "mv sp, a1",
            "li s0, 0",
            "csrsi mstatus, 8",
            "jr a2",
            in("a0") argument,
            in("a1") stack_top,
            in("a2") entry,
            options(noreturn),
        )
    }
}
