//! The IPC fast path in RV32 assembly: `call` and `reply_and_wait` for the
//! common case.
//!
//! The kernel's Rust path saves the callee-saved registers twice on RV32
//! (the kernel function's prologue, then the context switch) and checks
//! bounds the compiler cannot drop. Here every check runs in temporaries
//! before anything is saved or changed; only a call that goes through
//! reaches `ferrode_switch`, which saves the switch frame once.
//!
//! As on ARMv7-A, the board crate expands [`ipc_fast_path!`](crate::ipc_fast_path)
//! with the kernel's `IPC_LAYOUT` and the kernel's Rust paths as the
//! fall-backs, which get every case this path does not take, untouched.

/// Defines `ferrode_ipc_call(state, selector)` and
/// `ferrode_ipc_reply_wait(state)` for the kernel state described by
/// `$layout` (an `ferrode_kernel::IpcLayout` constant). `$call_slow` and
/// `$reply_slow` are `extern "C"` functions taking the same arguments that
/// do the whole operation in Rust; the fast path tail-calls them,
/// untouched, when it cannot handle a case.
///
/// With `prefix = "name_"` the symbols are `name_ipc_call`,
/// `name_ipc_reply_wait` (and the internal `name_ipc_deliver`) instead of
/// `ferrode_...`: a second copy of the same paths, for the differential
/// test (`apps/ipc-diff`) to run against a scratch kernel state next to
/// the kernel's own.
///
/// The layout's assumptions (immediate ranges, slot sizes, link encoding)
/// are checked when the assembly is assembled.
#[macro_export]
macro_rules! ipc_fast_path {
    (layout = $layout:expr, call_slow = $call_slow:path, reply_slow = $reply_slow:path $(,)?) => {
        $crate::ipc_fast_path!(layout = $layout, call_slow = $call_slow, reply_slow = $reply_slow, prefix = "ferrode_");
    };
    (layout = $layout:expr, call_slow = $call_slow:path, reply_slow = $reply_slow:path, prefix = $prefix:literal $(,)?) => {
        core::arch::global_asm!(
            concat!(r#"
    .if {cap_generation} > 2047 || {object_dispatch_2} > 2047 || {thread_received_2} > 2047 || {ready_nonempty} > 2047
    .error "Ferrode IPC fast path: kernel state offsets beyond a load immediate"
    .endif
    // A link holds the thread id plus one, 0 for none.
    .if {cap_shift} != 3 || {link_none} != 0
    .error "Ferrode IPC fast path: unexpected capability slot or link encoding"
    .endif
    // reply_to and sendq_head are read as one halfword.
    .if {thread_sendq_head} != {thread_reply_to} + 1 || ({thread_reply_to} & 1)
    .error "Ferrode IPC fast path: reply_to and sendq_head must share an aligned halfword"
    .endif

    .section .text.ferrode_ipc, "ax"
    .global "#, $prefix, r#"ipc_call
    .type "#, $prefix, r#"ipc_call, @function
    // a0 = kernel state, a1 = selector. Interrupts masked by the caller.
"#, $prefix, r#"ipc_call:
    li t0, {cap_slots}
    bgeu a1, t0, 9f
    lbu t0, {current}(a0)                   // t0 = caller id
    slli t1, t0, {thread_shift}
    add t1, a0, t1                          // t1 = caller
    lw a2, {thread_utcb}(t1)                // a2 = caller's UTCB
    lw a4, {u_cap_count}(a2)
    bnez a4, 9f                             // capabilities: slow path
    lw a4, {u_word_count}(a2)
    li a5, {msg_words}
    bgtu a4, a5, 9f                         // more words than a UTCB: slow path
    lbu t2, {thread_component}(t1)
    slli t2, t2, {cap_space_shift}
    add t2, a0, t2
    slli t3, a1, {cap_shift}
    add t2, t2, t3                          // t2 = capability slot
    lbu t3, {cap_tag}(t2)
    li t5, {cap_tag_object}
    bne t3, t5, 9f
    lbu t3, {cap_object}(t2)                // t3 = object id (the badge)
    lw t2, {cap_generation}(t2)
    slli t5, t3, {object_shift}
    add t5, a0, t5                          // t5 = object
    lw t6, {object_generation}(t5)
    bne t6, t2, 9f                          // dissolved since?
    lbu t6, {object_entrypoint}(t5)         // t6 = server id
    slli t4, t6, {thread_shift}
    add t4, a0, t4                          // t4 = server
    lbu a5, {thread_state}(t4)
    li a6, {state_waiting}
    bne a5, a6, 9f
    lw a3, {thread_utcb}(t4)                // a3 = server's UTCB
    // Committed: from here on the call goes through.
    lw a5, {u_label}(a2)
    sw a5, {u_label}(a3)
    sw t3, {u_badge}(a3)
    sw a4, {u_word_count}(a3)
    sw zero, {u_cap_count}(a3)
    sw zero, {u_error}(a3)                  // a request carries no error code
    addi t0, t0, 1                          // the caller's link
    sb t0, {thread_reply_to}(t4)
    lw a5, {object_dispatch}(t5)
    lw a6, {object_dispatch_2}(t5)
    sw a5, {thread_received}(t4)
    sw a6, {thread_received_2}(t4)
    li a5, {state_running}
    sb a5, {thread_state}(t4)
    li a5, {state_awaiting_reply}
    sb a5, {thread_state}(t1)
    sb t6, {current}(a0)
    j "#, $prefix, r#"ipc_deliver
9:  tail {call_slow}

    .global "#, $prefix, r#"ipc_reply_wait
    .type "#, $prefix, r#"ipc_reply_wait, @function
    // a0 = kernel state. Interrupts masked by the caller.
"#, $prefix, r#"ipc_reply_wait:
    lbu t0, {current}(a0)                   // t0 = server id
    slli t1, t0, {thread_shift}
    add t1, a0, t1                          // t1 = server
    lw a2, {thread_utcb}(t1)                // a2 = server's UTCB
    lw a4, {u_cap_count}(a2)
    bnez a4, 9f                             // capabilities: slow path
    lw a4, {u_error}(a2)
    bnez a4, 9f                             // an error code: slow path (which screens it)
    lw a4, {u_word_count}(a2)
    li a5, {msg_words}
    bgtu a4, a5, 9f
    lhu t6, {thread_reply_to}(t1)           // reply_to | sendq_head << 8 (links)
    addi t6, t6, -1                         // t6 = caller id if no request is queued
    li t3, 255
    bgeu t6, t3, 9f                         // requests queued, or nobody to reply to
    slli t4, t6, {thread_shift}
    add t4, a0, t4                          // t4 = caller
    lbu t2, {thread_state}(t4)
    li t3, {state_awaiting_reply}
    bne t2, t3, 9f
    lw t2, {ready_nonempty}(a0)
    lbu t3, {thread_priority}(t4)
    addi t3, t3, 1
    srl t2, t2, t3
    bnez t2, 9f                             // a ready thread outranks the caller
    lw a3, {thread_utcb}(t4)                // a3 = caller's UTCB
    // Committed.
    lw a5, {u_label}(a2)
    sw a5, {u_label}(a3)
    sw zero, {u_badge}(a3)
    sw a4, {u_word_count}(a3)
    sw zero, {u_cap_count}(a3)
    sw zero, {u_error}(a3)                  // no error code: checked above
    // The server's received dispatcher goes stale here; every delivery
    // writes it before the server runs again.
    sb zero, {thread_reply_to}(t1)          // no link
    li a5, {state_waiting}
    sb a5, {thread_state}(t1)
    li a5, {state_running}
    sb a5, {thread_state}(t4)
    sb t6, {current}(a0)
    j "#, $prefix, r#"ipc_deliver
9:  tail {reply_slow}

    // The common end: copies the a4 message words from UTCB a2 to UTCB a3
    // (two here, the rest with memcpy), then switches from thread t1 to
    // thread t4 with `ferrode_switch`, which saves the frame with ra = the
    // fast path's return address (this is a jump, not a call).
"#, $prefix, r#"ipc_deliver:
    beqz a4, 1f
    lw a5, {u_words}(a2)
    sw a5, {u_words}(a3)
    li a5, 1
    bleu a4, a5, 1f
    lw a5, {u_words_2}(a2)
    sw a5, {u_words_2}(a3)
    li a5, 2
    bleu a4, a5, 1f
    addi sp, sp, -16
    sw ra, 0(sp)
    sw t1, 4(sp)
    sw t4, 8(sp)
    addi a0, a3, {u_words_3}
    addi a1, a2, {u_words_3}
    addi a2, a4, -2
    slli a2, a2, 2
    call memcpy
    lw ra, 0(sp)
    lw t1, 4(sp)
    lw t4, 8(sp)
    addi sp, sp, 16
1:  addi a0, t1, {thread_sp}
    lw a1, {thread_sp}(t4)
    tail ferrode_switch
"#),
            current = const $layout.current,
            ready_nonempty = const $layout.ready_nonempty,
            thread_shift = const $layout.thread_shift,
            thread_state = const $layout.thread_state,
            thread_priority = const $layout.thread_priority,
            thread_component = const $layout.thread_component,
            thread_sp = const $layout.thread_sp,
            thread_utcb = const $layout.thread_utcb,
            thread_reply_to = const $layout.thread_reply_to,
            thread_sendq_head = const $layout.thread_sendq_head,
            thread_received = const $layout.thread_received_dispatch,
            thread_received_2 = const $layout.thread_received_dispatch + 4,
            cap_space_shift = const $layout.cap_space_shift,
            cap_tag = const $layout.cap_tag,
            cap_object = const $layout.cap_object,
            cap_generation = const $layout.cap_generation,
            cap_shift = const $layout.cap_shift,
            cap_slots = const $layout.cap_slots,
            cap_tag_object = const $layout.cap_tag_object,
            object_shift = const $layout.object_shift,
            object_generation = const $layout.object_generation,
            object_entrypoint = const $layout.object_entrypoint,
            object_dispatch = const $layout.object_dispatch,
            object_dispatch_2 = const $layout.object_dispatch + 4,
            state_waiting = const $layout.state_waiting,
            state_running = const $layout.state_running,
            state_awaiting_reply = const $layout.state_awaiting_reply,
            link_none = const $layout.link_none,
            msg_words = const $layout.msg_words,
            u_label = const $layout.utcb_label,
            u_badge = const $layout.utcb_badge,
            u_word_count = const $layout.utcb_word_count,
            u_cap_count = const $layout.utcb_cap_count,
            u_error = const $layout.utcb_error,
            u_words = const $layout.utcb_words,
            u_words_2 = const $layout.utcb_words + 4,
            u_words_3 = const $layout.utcb_words + 8,
            call_slow = sym $call_slow,
            reply_slow = sym $reply_slow,
        );
    };
}
