//! Boot code and the machine-mode trap vector for RV32.
//!
//! An interrupt saves the caller-saved registers, `mepc` and `mstatus` on
//! the interrupted thread's own stack, so the kernel may switch threads
//! from inside the interrupt handler and resume the interrupted one later;
//! so does a breakpoint, which the debugger may resume. A fault is
//! reported from a stack of its own.

use crate::fault::Fault;

/// [gdb monitor] With the feature `debug`, the fault path first stores
/// every register but sp as the fault found them in
/// `__ferrode_fault_frame`, in the breakpoint frame's layout
/// ([`crate::debug::TRAP_FRAME_WORDS`] words; t0 from mscratch, where the
/// vector keeps it). `ferrode_arch_fault` adds mepc and mstatus.
#[cfg(feature = "debug")]
macro_rules! save_fault_registers {
    () => {
        "    la t0, __ferrode_fault_frame
    sw s0, 0(t0)
    sw s1, 4(t0)
    sw s2, 8(t0)
    sw s3, 12(t0)
    sw s4, 16(t0)
    sw s5, 20(t0)
    sw s6, 24(t0)
    sw s7, 28(t0)
    sw s8, 32(t0)
    sw s9, 36(t0)
    sw s10, 40(t0)
    sw s11, 44(t0)
    sw gp, 48(t0)
    sw tp, 52(t0)
    sw ra, 64(t0)
    sw t1, 72(t0)
    sw t2, 76(t0)
    sw a0, 80(t0)
    sw a1, 84(t0)
    sw a2, 88(t0)
    sw a3, 92(t0)
    sw a4, 96(t0)
    sw a5, 100(t0)
    sw a6, 104(t0)
    sw a7, 108(t0)
    sw t3, 112(t0)
    sw t4, 116(t0)
    sw t5, 120(t0)
    sw t6, 124(t0)
    csrr t1, mscratch
    sw t1, 68(t0)
"
    };
}
#[cfg(not(feature = "debug"))]
macro_rules! save_fault_registers {
    () => {
        ""
    };
}

// [gdb monitor] A fault's trap frame, for the debugger: the thread's
// registers at the fault, in the breakpoint entry's layout.
#[cfg(feature = "debug")]
core::arch::global_asm!(
    r#"
    .section .bss.ferrode_fault_frame, "aw", @nobits
    .balign 8
    .global __ferrode_fault_frame
__ferrode_fault_frame:
    .space 144
"#
);

core::arch::global_asm!(
    r#"
    .section .text._start, "ax"
    .global _start
    .type _start, @function
_start:
    // The outermost frame: no caller to unwind to, so gdb's backtraces end
    // here instead of finding this frame again.
    .cfi_startproc
    .cfi_undefined ra
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, __stack_top
    la t0, __ferrode_trap
    csrw mtvec, t0
    csrw mie, zero
    // Zero .bss, then each thread stack: eight words per iteration while
    // a whole block of 32 bytes is left, then the remaining 0-7 words one
    // at a time. The linker script aligns __bss_start to 8 and __bss_end
    // to 4, and a thread stack is a whole number of 16 bytes, so every
    // size is a whole number of words but not always of blocks. t2 is the
    // last address a block may start at; a range smaller than one block
    // skips the block loop (there t2 could lie below t0 or wrap). The
    // thread stacks come from their records (`ferrode_hal::stacks`: guard,
    // stack, end; 12 bytes each): their guards, which nothing reads or
    // writes, are left alone.
    la t0, __bss_start
    la t1, __bss_end
    la a0, __stack_records_start
    la a1, __stack_records_end
    li t4, 32
9:  addi t2, t1, -32
    sub t3, t1, t0
    bltu t3, t4, 11f
10: sw zero, 0(t0)
    sw zero, 4(t0)
    sw zero, 8(t0)
    sw zero, 12(t0)
    sw zero, 16(t0)
    sw zero, 20(t0)
    sw zero, 24(t0)
    sw zero, 28(t0)
    addi t0, t0, 32
    bleu t0, t2, 10b
11: bgeu t0, t1, 12f
    sw zero, 0(t0)
    addi t0, t0, 4
    j 11b
    // The next thread stack, if any record is left.
12: bgeu a0, a1, 2f
    lw t0, 4(a0)
    lw t1, 8(a0)
    addi a0, a0, 12
    j 9b
2:  la t0, __data_start
    la t1, __data_end
    la t2, __data_load
    beq t0, t2, 4f
3:  bgeu t0, t1, 4f
    lw t3, 0(t2)
    sw t3, 0(t0)
    addi t0, t0, 4
    addi t2, t2, 4
    j 3b
    // A zero frame pointer ends frame-pointer walks too.
4:  li s0, 0
    call ferrode_platform_start
5:  j 5b
    .cfi_endproc
    .size _start, . - _start

    .section .text.ferrode_trap, "ax"
    .balign 4
    .global __ferrode_trap
    // An interrupt or a breakpoint goes on on the interrupted thread's
    // stack (below); any other exception is a fault, reported from the
    // fault stack, as Arm's aborts are from abort mode's: the faulting
    // code's stack pointer may lie in the guard below its stack, where
    // saving a frame would fault again. mscratch holds t0 meanwhile.
__ferrode_trap:
    csrw mscratch, t0
    csrr t0, mcause
    bltz t0, 8f
    addi t0, t0, -3
    beqz t0, 8f
    // A fault: the report never returns to the faulting code, so nothing
    // is saved on the thread's stack; the arguments of ferrode_arch_fault
    // are read straight from the registers, sp (the thread's) last, as the
    // fault stack is taken.
"#,
    save_fault_registers!(),
    r#"
    csrr a0, mcause
    csrr a1, mepc
    csrr a2, mtval
    mv a3, ra
    mv a4, sp
    csrr a5, mstatus
    la sp, __ferrode_fault_stack_top
    call ferrode_arch_fault
8:  csrr t0, mscratch
    addi sp, sp, -80
    sw ra, 0(sp)
    sw t0, 4(sp)
    sw t1, 8(sp)
    sw t2, 12(sp)
    sw a0, 16(sp)
    sw a1, 20(sp)
    sw a2, 24(sp)
    sw a3, 28(sp)
    sw a4, 32(sp)
    sw a5, 36(sp)
    sw a6, 40(sp)
    sw a7, 44(sp)
    sw t3, 48(sp)
    sw t4, 52(sp)
    sw t5, 56(sp)
    sw t6, 60(sp)
    csrr t0, mepc
    sw t0, 64(sp)
    csrr t1, mstatus
    sw t1, 68(sp)
    csrr a0, mcause
    bltz a0, 1f
    // [gdb monitor] The rest of the thread's registers below the frame
    // above (s0-s11, gp, tp: the whole state, for the debugger), then
    // `ferrode_arch_breakpoint`, which returns only to resume the thread
    // at `mepc`, the breakpoint's address (where the debugger has put the
    // original instruction back); the kernel may switch away meanwhile.
6:  addi sp, sp, -64
    sw s0, 0(sp)
    sw s1, 4(sp)
    sw s2, 8(sp)
    sw s3, 12(sp)
    sw s4, 16(sp)
    sw s5, 20(sp)
    sw s6, 24(sp)
    sw s7, 28(sp)
    sw s8, 32(sp)
    sw s9, 36(sp)
    sw s10, 40(sp)
    sw s11, 44(sp)
    sw gp, 48(sp)
    sw tp, 52(sp)
    mv a0, sp
    csrr a1, mtval
    call ferrode_arch_breakpoint
    lw s0, 0(sp)
    lw s1, 4(sp)
    lw s2, 8(sp)
    lw s3, 12(sp)
    lw s4, 16(sp)
    lw s5, 20(sp)
    lw s6, 24(sp)
    lw s7, 28(sp)
    lw s8, 32(sp)
    lw s9, 36(sp)
    lw s10, 40(sp)
    lw s11, 44(sp)
    lw gp, 48(sp)
    lw tp, 52(sp)
    addi sp, sp, 64
    j 7f
1:  call ferrode_irq
7:  lw t0, 64(sp)
    csrw mepc, t0
    lw t1, 68(sp)
    csrw mstatus, t1
    lw ra, 0(sp)
    lw t0, 4(sp)
    lw t1, 8(sp)
    lw t2, 12(sp)
    lw a0, 16(sp)
    lw a1, 20(sp)
    lw a2, 24(sp)
    lw a3, 28(sp)
    lw a4, 32(sp)
    lw a5, 36(sp)
    lw a6, 40(sp)
    lw a7, 44(sp)
    lw t3, 48(sp)
    lw t4, 52(sp)
    lw t5, 56(sp)
    lw t6, 60(sp)
    addi sp, sp, 80
    mret

    // Not zeroed at boot (the linker script's .uninit): a stack needs no
    // zeroes, and zeroing it would lengthen every boot. A component's
    // fault, reported and contained, takes 184 bytes of it in release
    // images and 328 in debug ones (measured with gdb on contained).
    .section .uninit.ferrode_fault_stack, "aw", @nobits
    .balign 16
    // The bottom, for `cargo xtask stacks`.
__ferrode_fault_stack_bottom:
    .space 512
__ferrode_fault_stack_top:
"#
);

/// Called by the trap vector for every synchronous exception, with `ra` and
/// `sp` as they were when the trap was taken and `mstatus` as the trap
/// left it (MPIE holds the interrupted code's interrupt enable).
#[unsafe(no_mangle)]
extern "C" fn ferrode_arch_fault(
    cause: u32,
    pc: u32,
    value: u32,
    ra: u32,
    sp: u32,
    mstatus: u32,
) -> ! {
    #[cfg(feature = "debug")]
    complete_fault_frame(cause, [pc, mstatus]);
    fault(Fault { cause, pc, value, ra, sp }, crate::fault::interrupted_thread(mstatus))
}

/// [gdb monitor] Words 32 and 33 of `__ferrode_fault_frame` (mepc,
/// mstatus; the vector stored the registers), and the signal a debugger
/// is told ([`crate::debug::fault_signal`]; 0 for a cause no thread is
/// stopped at).
#[cfg(feature = "debug")]
fn complete_fault_frame(cause: u32, rest: [u32; 2]) {
    let signal = crate::debug::fault_signal(cause).unwrap_or(0);
    // SAFETY: only the fault path writes the frame, with interrupts
    // masked on the one core; words 32 and 33 of its 36.
    unsafe { fault_frame_pointer().add(32).cast::<[u32; 2]>().write(rest) };
    FAULT_SIGNAL.store(signal, core::sync::atomic::Ordering::Relaxed);
}

/// The signal of the last fault's frame (0: none).
#[cfg(feature = "debug")]
static FAULT_SIGNAL: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(0);

#[cfg(feature = "debug")]
fn fault_frame_pointer() -> *mut u32 {
    unsafe extern "C" {
        // The fault path's save area (above), 36 words.
        static mut __ferrode_fault_frame: [u32; crate::debug::TRAP_FRAME_WORDS];
    }
    (&raw mut __ferrode_fault_frame).cast()
}

/// [gdb monitor] The registers of the thread whose fault the board is
/// reporting, as a trap frame ([`crate::debug::trap_frame_registers`]
/// maps it; its sp is where the frame ends, so the board puts a copy just
/// below the faulting sp), and the signal a debugger is told: `None` for
/// a cause no thread is stopped at (an environment call). Only the fault
/// path, before it enables interrupts, may ask: the next fault writes the
/// frame again.
#[cfg(feature = "debug")]
pub fn fault_frame() -> Option<(u8, [u32; crate::debug::TRAP_FRAME_WORDS])> {
    let signal = FAULT_SIGNAL.load(core::sync::atomic::Ordering::Relaxed);
    // SAFETY: the fault path and `complete_fault_frame` wrote it, with
    // interrupts masked, for the fault being reported.
    (signal != 0).then(|| (signal, unsafe { fault_frame_pointer().cast::<[u32; 36]>().read() }))
}

/// Hands `fault` to the board. `thread`: the faulting code ran as a
/// thread does, with interrupts enabled (not the kernel, an interrupt
/// handler, a critical section or the trap vector itself), so the board
/// may end only the thread's component and run on (see
/// [`land`](crate::land)).
fn fault(fault: Fault, thread: bool) -> ! {
    unsafe extern "Rust" {
        // Defined by `ferrode-board`: prints the report (and the return
        // addresses it finds on the stack at `sp`), then ends the
        // faulting thread's component or the image.
        safe fn ferrode_fault(fault: &dyn ferrode_report::Report, sp: usize, thread: bool) -> !;
    }
    ferrode_fault(&fault, fault.sp as usize, thread)
}

/// [gdb monitor] Called by the trap vector for a breakpoint exception,
/// with the thread's whole state saved at `frame`
/// ([`crate::debug::TRAP_FRAME_WORDS`] words) on its own stack and
/// `mtval` as `value`. Returns to resume the thread at the breakpoint's
/// address, if the board's debugger stopped it there and let it go again
/// (`ferrode_breakpoint`); a breakpoint nobody debugs, or one taken with
/// interrupts masked (kernel code, an interrupt handler, a critical
/// section: nothing that may be stopped), is reported as the fault it
/// was before there was a debugger.
#[unsafe(no_mangle)]
extern "C" fn ferrode_arch_breakpoint(frame: *mut u32, value: u32) {
    // SAFETY: the trap vector saved TRAP_FRAME_WORDS words at `frame` on
    // the running thread's stack, which stay there until this returns.
    let words = unsafe { &*frame.cast::<[u32; crate::debug::TRAP_FRAME_WORDS]>() };
    let resumable = crate::debug::trap_interrupts_enabled(words);
    unsafe extern "Rust" {
        // Defined by `ferrode-board`: stops the thread if a debugger may
        // debug it; `true` once it is resumed.
        safe fn ferrode_breakpoint(frame: usize) -> bool;
    }
    if resumable && ferrode_breakpoint(frame as usize) {
        return;
    }
    let (pc, ra, sp) = crate::debug::trap_pc_ra_sp(frame as u32, words);
    fault(Fault { cause: 3, pc, value, ra, sp }, resumable)
}

core::arch::global_asm!(
    r#"
    .section .text.ferrode_switch, "ax"
    .global ferrode_switch
    // a0: where to save this thread's sp; a1: the sp to resume.
ferrode_switch:
    addi sp, sp, -64
    sw ra, 0(sp)
    sw s0, 4(sp)
    sw s1, 8(sp)
    sw s2, 12(sp)
    sw s3, 16(sp)
    sw s4, 20(sp)
    sw s5, 24(sp)
    sw s6, 28(sp)
    sw s7, 32(sp)
    sw s8, 36(sp)
    sw s9, 40(sp)
    sw s10, 44(sp)
    sw s11, 48(sp)
    sw sp, 0(a0)
    mv sp, a1
    lw ra, 0(sp)
    lw s0, 4(sp)
    lw s1, 8(sp)
    lw s2, 12(sp)
    lw s3, 16(sp)
    lw s4, 20(sp)
    lw s5, 24(sp)
    lw s6, 28(sp)
    lw s7, 32(sp)
    lw s8, 36(sp)
    lw s9, 40(sp)
    lw s10, 44(sp)
    lw s11, 48(sp)
    addi sp, sp, 64
    ret

    .global ferrode_thread_start
    .type ferrode_thread_start, @function
    // First frame of a new thread: s0 = entry, s1 = argument. The
    // outermost frame of every thread, as `_start` is of the boot one.
ferrode_thread_start:
    .cfi_startproc
    .cfi_undefined ra
    csrsi mstatus, 8
    mv a0, s1
    mv t0, s0
    li s0, 0
    jalr t0
    unimp
    .cfi_endproc
    .size ferrode_thread_start, . - ferrode_thread_start
"#
);

// `memcpy` for word-aligned copies (UTCB messages, packet buffers): a
// bottom-tested loop of sixteen words (2.25 instructions per word; RV32
// has no multi-word loads, so two is the floor), then at most one burst of
// eight, then single words. Ends the same distance past a word (a frame's
// payload and a socket buffer, `ferrode_hal::FRAME_OFFSET`) copy the bytes
// up to the word boundary first and then go on by words. Ends at different
// distances (text copied out of a UTCB into a string, say) copy up to the
// destination's word boundary, then store whole words, each joined from
// two aligned source words with shifts (7 instructions per word instead of
// 7 per byte; RV32 is little-endian); the last bytes, and copies under 16
// bytes, go byte by byte. The aligned source loads may read up to 3 bytes
// before the source's first byte or after its last, inside a word that
// holds one of its bytes: memory the source's own word accesses reach.
// A leaf that never moves sp: its call-frame information (the default
// rules, ra in its register) lets a debugger unwind a fault in a copy.
core::arch::global_asm!(
    r#"
    .section .text.ferrode_memcpy, "ax"
    .global memcpy
    .type memcpy, @function
memcpy:
    .cfi_startproc
    mv t6, a0
    or t0, a0, a1
    andi t0, t0, 3
    bnez t0, 7f
0:  li t1, 64
    bltu a2, t1, 2f
1:
    lw t0, 0(a1)
    lw t2, 4(a1)
    lw t3, 8(a1)
    lw t4, 12(a1)
    lw t5, 16(a1)
    lw a3, 20(a1)
    lw a4, 24(a1)
    lw a5, 28(a1)
    sw t0, 0(t6)
    sw t2, 4(t6)
    sw t3, 8(t6)
    sw t4, 12(t6)
    sw t5, 16(t6)
    sw a3, 20(t6)
    sw a4, 24(t6)
    sw a5, 28(t6)
    lw t0, 32(a1)
    lw t2, 36(a1)
    lw t3, 40(a1)
    lw t4, 44(a1)
    lw t5, 48(a1)
    lw a3, 52(a1)
    lw a4, 56(a1)
    lw a5, 60(a1)
    sw t0, 32(t6)
    sw t2, 36(t6)
    sw t3, 40(t6)
    sw t4, 44(t6)
    sw t5, 48(t6)
    sw a3, 52(t6)
    sw a4, 56(t6)
    sw a5, 60(t6)
    addi a1, a1, 64
    addi t6, t6, 64
    addi a2, a2, -64
    bgeu a2, t1, 1b
2:  li t1, 32
    bltu a2, t1, 3f
    lw t0, 0(a1)
    lw t2, 4(a1)
    lw t3, 8(a1)
    lw t4, 12(a1)
    lw t5, 16(a1)
    lw a3, 20(a1)
    lw a4, 24(a1)
    lw a5, 28(a1)
    sw t0, 0(t6)
    sw t2, 4(t6)
    sw t3, 8(t6)
    sw t4, 12(t6)
    sw t5, 16(t6)
    sw a3, 20(t6)
    sw a4, 24(t6)
    sw a5, 28(t6)
    addi a1, a1, 32
    addi t6, t6, 32
    addi a2, a2, -32
3:  li t1, 4
6:  bltu a2, t1, 4f
    lw t0, 0(a1)
    sw t0, 0(t6)
    addi a1, a1, 4
    addi t6, t6, 4
    addi a2, a2, -4
    j 6b
4:  beqz a2, 5f
    lbu t0, 0(a1)
    sb t0, 0(t6)
    addi a1, a1, 1
    addi t6, t6, 1
    addi a2, a2, -1
    j 4b
5:  ret
7:  xor t0, a0, a1
    andi t0, t0, 3
    bnez t0, .Lmemcpy_shifted
8:  beqz a2, 5b
    lbu t0, 0(a1)
    sb t0, 0(t6)
    addi a1, a1, 1
    addi t6, t6, 1
    addi a2, a2, -1
    andi t0, t6, 3
    bnez t0, 8b
    j 0b
.Lmemcpy_shifted:
    li t1, 16
    bltu a2, t1, 4b
1:  andi t0, t6, 3
    beqz t0, 2f
    lbu t0, 0(a1)
    sb t0, 0(t6)
    addi a1, a1, 1
    addi t6, t6, 1
    addi a2, a2, -1
    j 1b
2:  andi t2, a1, 3
    slli t3, t2, 3
    li t4, 32
    sub t4, t4, t3
    andi a3, a1, -4
    lw a4, 0(a3)
    srl a4, a4, t3
    li t1, 4
3:  bltu a2, t1, 6f
    lw a5, 4(a3)
    sll t0, a5, t4
    or t0, t0, a4
    sw t0, 0(t6)
    srl a4, a5, t3
    addi a3, a3, 4
    addi t6, t6, 4
    addi a2, a2, -4
    j 3b
6:  add a1, a3, t2
    j 4b
    .cfi_endproc
"#
);
