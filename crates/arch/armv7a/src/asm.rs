//! Boot code and exception vectors for ARMv7-A (A32 state).
//!
//! The Rust code around them is T32 (the board's code generation flags,
//! `tests/src/boards.rs`); this assembly stays A32. Every label Rust calls
//! or takes the address of is typed `%function`, so that the linker makes
//! calls into it `blx` and returns (`bx lr`, `pop {..., pc}`) go back to
//! the caller's state; the exception paths read SPSR.T where the two
//! states differ.
//!
//! Every Ferrode thread runs in SVC mode. An IRQ switches straight to SVC
//! mode and saves the interrupted context on the interrupted thread's own
//! stack (`srsdb` + `push`), so the kernel may switch threads from inside
//! the IRQ handler and resume the interrupted one later with `rfeia`.

use crate::fault::{Fault, FaultKind};

/// [gdb monitor] The first thing the undefined-instruction (for an
/// instruction that is no breakpoint) and abort vectors do with the
/// feature `debug`: r0-r12 as the fault found them, stored in the first
/// 13 words of `__ferrode_fault_frame` (the rest of a trap frame,
/// [`crate::debug::TRAP_FRAME_WORDS`] words, is filled in by
/// `ferrode_arch_fault`). The exception mode's banked sp is the base: the
/// fault path takes abort mode's stack afresh anyway, and undefined mode's
/// is set back at once.
#[cfg(feature = "debug")]
macro_rules! save_fault_registers {
    () => {
        "    ldr sp, =__ferrode_fault_frame + 52
    stmdb sp, {{r0-r12}}
"
    };
}
#[cfg(not(feature = "debug"))]
macro_rules! save_fault_registers {
    () => {
        ""
    };
}

/// Undefined mode's stack set back after [`save_fault_registers`].
#[cfg(feature = "debug")]
macro_rules! undefined_stack_again {
    () => {
        "    ldr sp, =__ferrode_und_stack_top
"
    };
}
#[cfg(not(feature = "debug"))]
macro_rules! undefined_stack_again {
    () => {
        ""
    };
}

// [gdb monitor] A fault's trap frame, for the debugger: the thread's
// registers at the fault, in the breakpoint entry's layout.
#[cfg(feature = "debug")]
core::arch::global_asm!(
    r#"
    .section .bss.ferrode_fault_frame, "aw", %nobits
    .balign 8
    .global __ferrode_fault_frame
__ferrode_fault_frame:
    .space 64
"#
);

core::arch::global_asm!(
    r#"
    .section .text._start, "ax"
    .global _start
    .type _start, %function
    .arm
_start:
    // The outermost frame: no caller to unwind to, so gdb's backtraces end
    // here instead of finding this frame again.
    .cfi_startproc
    .cfi_undefined lr
    cpsid if
    // One small stack per exception mode; threads and boot use SVC mode.
    cps #0x12
    ldr sp, =__ferrode_irq_stack_top
    cps #0x17
    ldr sp, =__ferrode_abt_stack_top
    cps #0x1b
    ldr sp, =__ferrode_und_stack_top
    cps #0x11
    ldr sp, =__ferrode_fiq_stack_top
    cps #0x13
    ldr sp, =__stack_top
    // Vectors at VBAR (SCTLR.V = 0 selects VBAR over the high vectors).
    ldr r0, =__ferrode_vectors
    mcr p15, 0, r0, c12, c0, 0
    mrc p15, 0, r0, c1, c0, 0
    bic r0, r0, #(1 << 13)
    mcr p15, 0, r0, c1, c0, 0
    isb
    // Zero .bss, then each thread stack: eight words per `stmia`, then
    // the remaining 0-7 words one at a time. The linker script aligns
    // __bss_start to 8 and __bss_end to 4, and a thread stack is a whole
    // number of 16 bytes, so every size is a whole number of words but not
    // always of blocks; counting down the bytes left (not comparing
    // addresses) cannot wrap. The thread stacks come from their records
    // (`ferrode_hal::stacks`: guard, stack, end; 12 bytes each): their
    // guard pages, which nothing reads or writes, are left alone.
    ldr r0, =__bss_start
    ldr r1, =__bss_end
    ldr r10, =__stack_records_start
    ldr r11, =__stack_records_end
    mov r2, #0
    mov r3, #0
    mov r4, #0
    mov r5, #0
    mov r6, #0
    mov r7, #0
    mov r8, #0
    mov r9, #0
9:  sub r12, r1, r0
10: subs r12, r12, #32
    stmiahs r0!, {{r2-r9}}
    bhs 10b
    // r12 is now (words left) * 4 - 32.
    add r12, r12, #32
11: subs r12, r12, #4
    strhs r2, [r0], #4
    bhs 11b
    // The next thread stack, if any record is left.
    cmp r10, r11
    ldrlo r0, [r10, #4]
    ldrlo r1, [r10, #8]
    addlo r10, r10, #12
    blo 9b
    // Copy .data from its load address (a no-op when loaded in place).
    ldr r0, =__data_start
    ldr r1, =__data_end
    ldr r2, =__data_load
    cmp r0, r2
    beq 3f
2:  cmp r0, r1
    ldrlo r3, [r2], #4
    strlo r3, [r0], #4
    blo 2b
    // A zero frame pointer ends frame-pointer walks too.
3:  mov fp, #0
    bl ferrode_platform_start
    b .
    .cfi_endproc
    .size _start, . - _start

    .section .text.ferrode_vectors, "ax"
    .balign 32
    .global __ferrode_vectors
__ferrode_vectors:
    b _start
    b __ferrode_undef
    b __ferrode_svc
    b __ferrode_pabt
    b __ferrode_dabt
    b .
    b __ferrode_irq
    b __ferrode_fiq

    // [gdb monitor] A breakpoint instruction (GDB's A32 `udf #0xfdee` or
    // T32 `udf #0xfe`) is resumable: the thread's whole state goes on its
    // own SVC stack, the IRQ path's way (so the kernel may stop the thread
    // there and switch away), and `ferrode_arch_breakpoint` either returns
    // (the thread resumes at the breakpoint's address, where the debugger
    // has put the original instruction back) or reports the fault. Any
    // other undefined instruction is reported from the abort stack.
__ferrode_undef:
    push {{r0, r1}}
    mrs r0, spsr
    tst r0, #0x20
    bne 1f
    ldr r0, [lr, #-4]
    movw r1, #0xdefe
    movt r1, #0xe7ff
    cmp r0, r1
    subeq lr, lr, #4
    b 2f
1:  ldrh r0, [lr, #-2]
    movw r1, #0xdefe
    cmp r0, r1
    subeq lr, lr, #2
    // Flags survive the pop: eq is "a breakpoint, lr is its address".
2:  pop {{r0, r1}}
    bne 3f
    srsdb sp!, #0x13
    cps #0x13
    push {{r0-r12, lr}}
    // The frame (r0-r12, lr, pc, cpsr) is at sp; keep the AAPCS 8-byte
    // alignment for the Rust handler, as the IRQ path does.
    mov r1, sp
    and r0, sp, #4
    sub sp, sp, r0
    push {{r0, r1}}
    mov r0, r1
    bl ferrode_arch_breakpoint
    pop {{r0, r1}}
    mov sp, r1
    pop {{r0-r12, lr}}
    rfeia sp!
    // The link value is the instruction's address + 4 in A32 state, + 2
    // in T32 state (ARM ARM B1.8.3), for these two exceptions alike.
3:
"#,
    save_fault_registers!(),
    undefined_stack_again!(),
    r#"
    mov r0, #1
    b 4f
__ferrode_svc:
    mov r0, #2
4:  mrs r1, spsr
    tst r1, #0x20
    subeq r1, lr, #4
    subne r1, lr, #2
    mov r2, #0
    mov r3, #0
    b __ferrode_fault
__ferrode_pabt:
"#,
    save_fault_registers!(),
    r#"
    mov r0, #3
    sub r1, lr, #4
    mrc p15, 0, r2, c6, c0, 2
    mrc p15, 0, r3, c5, c0, 1
    b __ferrode_fault
__ferrode_dabt:
"#,
    save_fault_registers!(),
    r#"
    mov r0, #4
    sub r1, lr, #8
    mrc p15, 0, r2, c6, c0, 0
    mrc p15, 0, r3, c5, c0, 0
    b __ferrode_fault
__ferrode_fiq:
    mov r0, #7
    sub r1, lr, #4
    mov r2, #0
    mov r3, #0
    b __ferrode_fault

    // r0-r3: the first four arguments of ferrode_arch_fault. Every thread
    // runs in SVC mode: its sp and lr at the fault, read there, are the
    // fifth and sixth, and the entry mode's SPSR (the interrupted code's
    // CPSR) the seventh, pushed on the abort-mode stack (taken afresh: the
    // report never returns to the faulting code) below a word that keeps
    // the AAPCS 8-byte alignment. FIQ mode banks r12: the SPSR read there
    // is lost at the switch, and ferrode_arch_fault does not look at it.
__ferrode_fault:
    mrs r12, spsr
    cps #0x17
    ldr sp, =__ferrode_abt_stack_top
    sub sp, sp, #4
    push {{r12}}
    cps #0x13
    mov r12, lr
    cps #0x17
    push {{r12}}
    cps #0x13
    mov r12, sp
    cps #0x17
    push {{r12}}
    b ferrode_arch_fault

__ferrode_irq:
    sub lr, lr, #4
    srsdb sp!, #0x13
    cps #0x13
    push {{r0-r3, r12, lr}}
    // Keep the AAPCS 8-byte stack alignment for the Rust handler.
    mov r1, sp
    and r0, sp, #4
    sub sp, sp, r0
    push {{r0, r1}}
    bl ferrode_irq
    pop {{r0, r1}}
    mov sp, r1
    pop {{r0-r3, r12, lr}}
    rfeia sp!

    // Each mode's stack, sized by `cargo xtask stacks` (`crash
    // bad-access` and `crash illegal`, debug images). The IRQ path saves
    // the interrupted context on the thread's SVC stack (`srsdb`, then in
    // SVC mode) and FIQ goes straight to the fault path: neither writes
    // its own mode's stack. The undefined-instruction vector pushes two
    // words before it tells a breakpoint from a fault (peak 4 bytes).
    // Faults are reported on the abort mode's (peak 296 bytes). 64 bytes
    // each, 1 KiB for the reports.
    .section .bss.ferrode_mode_stacks, "aw", %nobits
    .balign 8
    // The bottom, for `cargo xtask stacks` (each mode's stack ends where
    // the next begins).
__ferrode_mode_stacks_bottom:
    .space 64
__ferrode_irq_stack_top:
    .space 1024
__ferrode_abt_stack_top:
    .space 64
__ferrode_und_stack_top:
    .space 64
__ferrode_fiq_stack_top:
"#
);

/// Called by the vector code for every exception Ferrode cannot handle,
/// with `spsr`, the CPSR of the code it interrupted.
#[unsafe(no_mangle)]
extern "C" fn ferrode_arch_fault(
    vector: u32,
    pc: u32,
    address: u32,
    status: u32,
    sp: u32,
    lr: u32,
    spsr: u32,
) -> ! {
    let kind = FaultKind::from_vector(vector).unwrap_or(FaultKind::UnhandledIrq);
    // An FIQ or a stray IRQ is not the interrupted code's doing (and the
    // SPSR of FIQ mode is not passed on).
    let thread = !matches!(kind, FaultKind::Fiq | FaultKind::UnhandledIrq)
        && crate::fault::interrupted_thread(spsr);
    #[cfg(feature = "debug")]
    complete_fault_frame(kind, [lr, pc, spsr]);
    fault(Fault { kind, pc, address, status, sp, lr }, thread)
}

/// [gdb monitor] Words 13-15 of `__ferrode_fault_frame` (lr, pc, cpsr;
/// the vector stored r0-r12), and the signal a debugger is told
/// ([`crate::debug::fault_signal`]; 0 for a vector that saves no
/// registers: the frame is not the fault's).
#[cfg(feature = "debug")]
fn complete_fault_frame(kind: FaultKind, rest: [u32; 3]) {
    let signal = crate::debug::fault_signal(kind).unwrap_or(0);
    if signal != 0 {
        // SAFETY: only the fault path writes the frame, with interrupts
        // masked on the one core; words 13-15 of its 16.
        unsafe { fault_frame_pointer().add(13).cast::<[u32; 3]>().write(rest) };
    }
    FAULT_SIGNAL.store(signal, core::sync::atomic::Ordering::Relaxed);
}

/// The signal of the last fault's frame (0: none).
#[cfg(feature = "debug")]
static FAULT_SIGNAL: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(0);

#[cfg(feature = "debug")]
fn fault_frame_pointer() -> *mut u32 {
    unsafe extern "C" {
        // The vectors' save area (above), 16 words.
        static mut __ferrode_fault_frame: [u32; crate::debug::TRAP_FRAME_WORDS];
    }
    (&raw mut __ferrode_fault_frame).cast()
}

/// [gdb monitor] The registers of the thread whose fault the board is
/// reporting, as a trap frame ([`crate::debug::trap_frame_registers`]
/// maps it; its sp is where the frame ends, so the board puts a copy just
/// below the faulting sp), and the signal a debugger is told: `None` for
/// a fault whose vector saves no registers (a supervisor call, an FIQ).
/// Only the fault path, before it enables interrupts, may ask: the next
/// fault writes the frame again.
#[cfg(feature = "debug")]
pub fn fault_frame() -> Option<(u8, [u32; crate::debug::TRAP_FRAME_WORDS])> {
    let signal = FAULT_SIGNAL.load(core::sync::atomic::Ordering::Relaxed);
    // SAFETY: the vectors and `complete_fault_frame` wrote it, with
    // interrupts masked, for the fault being reported.
    (signal != 0).then(|| (signal, unsafe { fault_frame_pointer().cast::<[u32; 16]>().read() }))
}

/// Hands `fault` to the board. `thread`: the faulting code ran as a
/// thread does, in SVC mode with IRQs enabled (not the kernel, an
/// interrupt handler or a critical section), so the board may end only
/// the thread's component and run on (see [`land`](crate::land)).
fn fault(fault: Fault, thread: bool) -> ! {
    unsafe extern "Rust" {
        // Defined by `ferrode-board`: prints the report (and the return
        // addresses it finds on the stack at `sp`), then ends the
        // faulting thread's component or the image.
        safe fn ferrode_fault(fault: &dyn ferrode_report::Report, sp: usize, thread: bool) -> !;
    }
    ferrode_fault(&fault, fault.sp as usize, thread)
}

/// [gdb monitor] Called by the undefined-instruction vector for a
/// breakpoint instruction, with the thread's whole state saved at `frame`
/// ([`crate::debug::TRAP_FRAME_WORDS`] words: r0-r12, lr, pc, cpsr) on its
/// own stack. Returns to resume the thread at the breakpoint's address, if
/// the board's debugger stopped it there and let it go again
/// (`ferrode_breakpoint`); a breakpoint nobody debugs, or one taken with
/// interrupts masked (kernel code, an interrupt handler, a critical
/// section: nothing that may be stopped), is reported as the fault it
/// was before there was a debugger.
#[unsafe(no_mangle)]
extern "C" fn ferrode_arch_breakpoint(frame: *mut u32) {
    // SAFETY: the vector code saved TRAP_FRAME_WORDS words at `frame` on
    // the running thread's stack, which stays there until this returns.
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
    let (pc, lr, sp) = crate::debug::trap_pc_lr_sp(frame as u32, words);
    let kind = FaultKind::UndefinedInstruction;
    fault(Fault { kind, pc, address: 0, status: 0, sp, lr }, resumable)
}

core::arch::global_asm!(
    r#"
    .section .text.ferrode_switch, "ax"
    .arm
    .global ferrode_switch
    .type ferrode_switch, %function
    // r0: where to save this thread's sp; r1: the sp to resume.
ferrode_switch:
    push {{r4-r11, lr}}
    str sp, [r0]
    mov sp, r1
    pop {{r4-r11, pc}}

    .global ferrode_thread_start
    // First frame of a new thread: r4 = entry, r5 = argument.
    // The outermost frame of every thread, as `_start` is of the boot one.
    .type ferrode_thread_start, %function
ferrode_thread_start:
    .cfi_startproc
    .cfi_undefined lr
    cpsie i
    mov r0, r5
    mov fp, #0
    blx r4
    udf #1
    .cfi_endproc
    .size ferrode_thread_start, . - ferrode_thread_start
"#
);

// Word-aligned copies (`__aeabi_memcpy4`/`8`, what the compiler calls for
// `copy_from_slice` on word arrays such as UTCB messages) in bursts of
// eight registers: about half an instruction per word instead of the
// generic routine's five. A tail of up to seven words takes at most three
// conditional burst pairs (4, 2, 1 words) instead of a loop. Leaf routine:
// r4-r9 are saved, r12 is scratch.
//
// `__aeabi_memcpy` (byte copies of unknown alignment) comes first: when
// both ends are the same distance past a word, as a frame's payload and a
// socket buffer are (`ferrode_hal::FRAME_OFFSET`), it copies the bytes up
// to the word boundary and goes on in the word routine; otherwise the
// generic `memcpy`, which shifts, does the copy. Its call-frame
// information (r4-r9 pushed in the word routine) lets a debugger unwind a
// fault in a copy.
core::arch::global_asm!(
    r#"
    .section .text.ferrode_memcpy4, "ax"
    .arm
    .global __aeabi_memcpy
    .global __aeabi_memcpy4
    .global __aeabi_memcpy8
    .type __aeabi_memcpy, %function
    .type __aeabi_memcpy4, %function
    .type __aeabi_memcpy8, %function
__aeabi_memcpy:
    .cfi_startproc
    eor r3, r0, r1
    tst r3, #3
    bne memcpy
6:  tst r0, #3
    beq __aeabi_memcpy4
    subs r2, r2, #1
    bxlo lr
    ldrb r3, [r1], #1
    strb r3, [r0], #1
    b 6b
__aeabi_memcpy8:
__aeabi_memcpy4:
    push {{r4-r9}}
    .cfi_adjust_cfa_offset 24
    .cfi_rel_offset r4, 0
    .cfi_rel_offset r5, 4
    .cfi_rel_offset r6, 8
    .cfi_rel_offset r7, 12
    .cfi_rel_offset r8, 16
    .cfi_rel_offset r9, 20
    subs r2, r2, #32
    blo 2f
1:  ldmia r1!, {{r3-r9, r12}}
    stmia r0!, {{r3-r9, r12}}
    subs r2, r2, #32
    bhs 1b
2:  adds r2, r2, #32                // the tail: 0..31 bytes
    beq 5f
    tst r2, #16
    ldmiane r1!, {{r3-r6}}
    stmiane r0!, {{r3-r6}}
    tst r2, #8
    ldmiane r1!, {{r3-r4}}
    stmiane r0!, {{r3-r4}}
    tst r2, #4
    ldrne r3, [r1], #4
    strne r3, [r0], #4
    ands r2, r2, #3
    beq 5f
4:  ldrb r3, [r1], #1
    strb r3, [r0], #1
    subs r2, r2, #1
    bne 4b
5:  pop {{r4-r9}}
    .cfi_adjust_cfa_offset -24
    .cfi_restore r4
    .cfi_restore r5
    .cfi_restore r6
    .cfi_restore r7
    .cfi_restore r8
    .cfi_restore r9
    bx lr
    .cfi_endproc
"#
);
