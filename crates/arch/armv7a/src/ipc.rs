//! The IPC fast path in ARM assembly: `call` and `reply_and_wait` for the
//! common case, in about fifty instructions each.
//!
//! The kernel's Rust fast path compiles to roughly twice that: bounds
//! checks the compiler cannot drop, recomputed table addresses, and a
//! second register save around the context switch. The hand-written path
//! saves the callee-saved registers once (that push *is* the switch frame
//! `ferrode_switch` uses, so either side can resume the other), looks the
//! capability up with shifts into the tables, copies the message and
//! swaps stacks.
//!
//! The kernel crate describes its state in `ferrode_kernel::IPC_LAYOUT`;
//! this crate cannot depend on the kernel, so the board crate expands
//! [`ipc_fast_path!`](crate::ipc_fast_path) with that layout and its
//! two fall-back functions. Anything off the fast path (capabilities in
//! the message, a busy or dead server, an invalid or stale capability, a
//! better thread to run) goes to the fall-back untouched: the path changes
//! nothing before it has checked everything.

/// Defines `ferrode_ipc_call(state, selector)` and
/// `ferrode_ipc_reply_wait(state)` for the kernel state described by
/// `$layout` (an `ferrode_kernel::IpcLayout` constant). `$call_slow` and
/// `$reply_slow` are `extern "C"` functions taking the same arguments that
/// do the whole operation in Rust; the fast path tail-calls them,
/// untouched, when it cannot handle a case.
///
/// With `prefix = "name_"` the symbols are `name_ipc_call`,
/// `name_ipc_reply_wait` (and the internal `name_ipc_copy_more`) instead of
/// `ferrode_...`: a second copy of the same paths, for the differential
/// test (`apps/ipc-diff`) to run against a scratch kernel state next to
/// the kernel's own.
///
/// The layout's assumptions (UTCB header order, immediate ranges, slot
/// sizes) are checked when the assembly is assembled.
#[macro_export]
macro_rules! ipc_fast_path {
    (layout = $layout:expr, call_slow = $call_slow:path, reply_slow = $reply_slow:path $(,)?) => {
        $crate::ipc_fast_path!(layout = $layout, call_slow = $call_slow, reply_slow = $reply_slow, prefix = "ferrode_");
    };
    (layout = $layout:expr, call_slow = $call_slow:path, reply_slow = $reply_slow:path, prefix = $prefix:literal $(,)?) => {
        core::arch::global_asm!(
            concat!(r#"
    // UTCB header order the `stm` below relies on.
    .if {u_label} != 0 || {u_badge} != 4 || {u_word_count} != 8 || {u_cap_count} != 12 || {u_error} != 16
    .error "Ferrode IPC fast path: unexpected UTCB header layout"
    .endif
    .if {cap_generation} > 4095 || {object_dispatch} > 4095 || {thread_received} > 4095
    .error "Ferrode IPC fast path: kernel state offsets beyond a load immediate"
    .endif
    .if {cap_shift} != 3
    .error "Ferrode IPC fast path: capability slots must be 8 bytes"
    .endif
    // The dispatcher pair moves with ldrd/strd (word-aligned, 8-bit offsets).
    .if ({object_dispatch} - {object_generation}) > 255 || {thread_received} > 255 || ({thread_received} & 3) || ({object_dispatch} & 3)
    .error "Ferrode IPC fast path: dispatcher fields beyond ldrd/strd reach"
    .endif
    // reply_to and sendq_head are read as one halfword (immediate <= 255).
    .if {thread_sendq_head} != {thread_reply_to} + 1 || ({thread_reply_to} & 1) || {thread_reply_to} > 255
    .error "Ferrode IPC fast path: reply_to and sendq_head must share an aligned halfword"
    .endif
    // A link holds the thread id plus one, 0 for none.
    .if {link_none} != 0 || {u_error} != 16 || {u_word_count} > 255
    .error "Ferrode IPC fast path: unexpected link or UTCB encoding"
    .endif

    .section .text.ferrode_ipc, "ax"
    .arm
    .global "#, $prefix, r#"ipc_call
    .type "#, $prefix, r#"ipc_call, %function
    // r0 = kernel state, r1 = selector. Interrupts masked by the caller.
"#, $prefix, r#"ipc_call:
    push {{r4-r11, lr}}                         // the switch frame
    cmp r1, #{cap_slots}
    bhs 9f
    ldrb lr, [r0, #{current}]                   // lr = caller id
    add r4, r0, lr, lsl #{thread_shift}         // r4 = caller
    ldr r10, [r4, #{thread_utcb}]               // r10 = caller's UTCB
    ldm r10, {{r2, r3, r5, r12}}                // label, (badge), words, capabilities
    cmp r12, #0                                 // capabilities: slow path
    cmpeq r5, #{msg_words} + 1                  // more words than a UTCB: slow path
    bhs 9f
    ldrb r3, [r4, #{thread_component}]
    add r6, r0, r3, lsl #{cap_space_shift}
    add r6, r6, r1, lsl #{cap_shift}            // r6 = capability slot
    ldrb r3, [r6, #{cap_tag}]
    cmp r3, #{cap_tag_object}
    bne 9f
    ldrb r3, [r6, #{cap_object}]                // r3 = object id (the badge)
    ldr r7, [r6, #{cap_generation}]
    add r6, r0, #{object_generation}            // object 0 (an immediate: the
    add r6, r6, r3, lsl #{object_shift}         // assembler says if not); r6 = object
    ldr r8, [r6]                                // its generation
    cmp r8, r7                                  // dissolved since?
    bne 9f
    ldrb r8, [r6, #{object_entrypoint} - {object_generation}] // r8 = server id
    add r9, r0, r8, lsl #{thread_shift}         // r9 = server
    ldrb r11, [r9, #{thread_state}]
    cmp r11, #{state_waiting}
    bne 9f
    ldr r11, [r9, #{thread_utcb}]               // r11 = server's UTCB
    // Committed: from here on the call goes through. (Until here r0 and
    // r1 hold the arguments the fall-back needs.)
    stm r11, {{r2, r3, r5, r12}}                // label, badge, words, no capabilities
    str r12, [r11, #{u_error}]                  // a request carries no error code
    strb r8, [r0, #{current}]
    add r1, lr, #1                              // the caller's link
    strb r1, [r9, #{thread_reply_to}]
    ldrd r0, r1, [r6, #{object_dispatch} - {object_generation}]
    strd r0, r1, [r9, #{thread_received}]
    mov r0, #{state_running}
    strb r0, [r9, #{thread_state}]
    mov r0, #{state_awaiting_reply}
    strb r0, [r4, #{thread_state}]
    cmp r5, #1                                  // the first word here, the rest in
    ldrhs r0, [r10, #{u_words}]                 // ipc_copy_more
    strhs r0, [r11, #{u_words}]
    blhi "#, $prefix, r#"ipc_copy_more
    str sp, [r4, #{thread_sp}]
    ldr sp, [r9, #{thread_sp}]
    pop {{r4-r11, pc}}                          // the server returns from its wait
9:  pop {{r4-r11, lr}}
    b {call_slow}

    .global "#, $prefix, r#"ipc_reply_wait
    .type "#, $prefix, r#"ipc_reply_wait, %function
    // r0 = kernel state. Interrupts masked by the caller.
"#, $prefix, r#"ipc_reply_wait:
    push {{r4-r11, lr}}
    ldrb r8, [r0, #{current}]                   // r8 = server id
    add r9, r0, r8, lsl #{thread_shift}         // r9 = server
    ldr r10, [r9, #{thread_utcb}]               // r10 = server's UTCB
    ldm r10, {{r1, r2, r5, r6, r12}}            // label, (badge), words, capabilities, error
    cmp r6, #0                                  // capabilities: slow path
    cmpeq r12, #0                               // an error code: slow path (which screens it)
    cmpeq r5, #{msg_words} + 1
    bhs 9f
    ldrh r3, [r9, #{thread_reply_to}]           // reply_to | sendq_head << 8 (links)
    sub lr, r3, #1                              // = the caller's id if no request is
    cmp lr, #255                                // queued; requests queued, or nobody
    bhs 9f                                      // to reply to (0 - 1 wraps): slow path
    add r4, r0, lr, lsl #{thread_shift}         // r4 = caller (lr = its id)
    ldrb r3, [r4, #{thread_state}]
    cmp r3, #{state_awaiting_reply}
    bne 9f
    ldr r3, [r0, #{ready_nonempty}]
    ldrb r2, [r4, #{thread_priority}]
    add r2, r2, #1
    lsrs r3, r3, r2                             // a ready thread outranks the caller
    bne 9f
    ldr r11, [r4, #{thread_utcb}]               // r11 = caller's UTCB
    // Committed. (r3 is 0: the test above.)
    stm r11, {{r1, r3, r5, r6, r12}}            // label, badge 0, words, no capabilities, no error
    strb lr, [r0, #{current}]
    // The server's received dispatcher goes stale here; every delivery
    // writes it before the server runs again.
    strb r3, [r9, #{thread_reply_to}]           // no link (r3 is still 0)
    mov r0, #{state_waiting}
    strb r0, [r9, #{thread_state}]
    mov r0, #{state_running}
    strb r0, [r4, #{thread_state}]
    cmp r5, #1
    ldrhs r0, [r10, #{u_words}]
    strhs r0, [r11, #{u_words}]
    blhi "#, $prefix, r#"ipc_copy_more
    str sp, [r9, #{thread_sp}]
    ldr sp, [r4, #{thread_sp}]
    pop {{r4-r11, pc}}                          // the caller returns from its call
9:  pop {{r4-r11, lr}}
    b {reply_slow}

    // Copies the rest of a message of r5 (2..=64) words from UTCB r10 to
    // UTCB r11 (word 0 is already copied). Up to seven words go one at a
    // time; longer messages are copied whole again from word 0 in bursts of
    // sixteen registers, with a tail of at most four conditional bursts
    // (8, 4, 2, 1 words). Clobbers r0-r3, r5-r8 and r10-r12; keeps r4, r9.
"#, $prefix, r#"ipc_copy_more:
    cmp r5, #8
    blo 4f
    add r0, r10, #{u_words}
    add r1, r11, #{u_words}
    subs r5, r5, #16
    blo 2f
1:  ldm r0!, {{r2, r3, r6, r7, r8, r10, r11, r12}}
    stm r1!, {{r2, r3, r6, r7, r8, r10, r11, r12}}
    ldm r0!, {{r2, r3, r6, r7, r8, r10, r11, r12}}
    stm r1!, {{r2, r3, r6, r7, r8, r10, r11, r12}}
    subs r5, r5, #16
    bhs 1b
2:  adds r5, r5, #16                            // 0..15 words left
    bxeq lr
    tst r5, #8
    ldmne r0!, {{r2, r3, r6, r7, r8, r10, r11, r12}}
    stmne r1!, {{r2, r3, r6, r7, r8, r10, r11, r12}}
    tst r5, #4
    ldmne r0!, {{r2, r3, r6, r7}}
    stmne r1!, {{r2, r3, r6, r7}}
    tst r5, #2
    ldmne r0!, {{r2, r3}}
    stmne r1!, {{r2, r3}}
    tst r5, #1
    ldrne r2, [r0]
    strne r2, [r1]
    bx lr
4:  add r0, r10, #{u_words} + 4
    add r1, r11, #{u_words} + 4
    sub r5, r5, #1
5:  ldr r2, [r0], #4
    str r2, [r1], #4
    subs r5, r5, #1
    bne 5b
    bx lr
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
            call_slow = sym $call_slow,
            reply_slow = sym $reply_slow,
        );
    };
}
