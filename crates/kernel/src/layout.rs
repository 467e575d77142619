//! Where things are in the kernel state, for an architecture's hand-written
//! IPC fast path (see [`crate::Arch::IPC_FAST_PATH`]).
//!
//! The offsets are computed by the compiler for the target being built, so
//! an assembly path written against [`IPC_LAYOUT`] cannot drift from the
//! Rust types. Offsets into a thread, object or capability slot are given
//! from the start of the kernel state for entry 0: the entry for index `i`
//! is `i << *_shift` bytes further on.

use core::mem::{offset_of, size_of};

use ferrode_ipc::{CapSel, Dispatch, MSG_WORDS, Utcb};

use crate::capspace::{CapEntry, CapSpace};
use crate::ids::Link;
use crate::sched::ReadyQueues;
use crate::state::{CAP_SLOTS, Object, State, Thread, ThreadState};
use core::ptr::NonNull;

/// Byte offsets and codes of the kernel state that a fast path uses. All
/// offsets are in bytes from the start of the state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpcLayout {
    /// The running thread's id (`u8`).
    pub current: usize,
    /// Bitmap of priorities with ready threads (`u32`, bit `p` = priority `p`).
    pub ready_nonempty: usize,
    /// log2 of the thread table's stride.
    pub thread_shift: usize,
    /// Thread 0's state ([`ThreadState`] as `u8`).
    pub thread_state: usize,
    /// Thread 0's priority (`u8`).
    pub thread_priority: usize,
    /// Thread 0's component id (`u8`).
    pub thread_component: usize,
    /// Thread 0's saved stack pointer (machine word).
    pub thread_sp: usize,
    /// Thread 0's UTCB pointer.
    pub thread_utcb: usize,
    /// Thread 0's reply target (`u8`: thread id plus one,
    /// [`IpcLayout::link_none`] for none).
    pub thread_reply_to: usize,
    /// Thread 0's send-queue head (`u8`: thread id plus one, or none).
    pub thread_sendq_head: usize,
    /// Thread 0's dispatcher of the request it serves (two machine words,
    /// copied verbatim from the object's).
    pub thread_received_dispatch: usize,
    /// log2 of the capability-space table's stride (one space per component).
    pub cap_space_shift: usize,
    /// Component 0's capability slot 0: tag byte (`u8`).
    pub cap_tag: usize,
    /// Component 0's slot 0: object id (`u8`) of an object capability.
    pub cap_object: usize,
    /// Component 0's slot 0: generation (`u32`) of an object capability.
    pub cap_generation: usize,
    /// log2 of a capability slot's size.
    pub cap_shift: usize,
    /// Slots per capability space (selectors at or above fail).
    pub cap_slots: usize,
    /// The tag of an object capability.
    pub cap_tag_object: usize,
    /// log2 of the object table's stride.
    pub object_shift: usize,
    /// Object 0's generation (`u32`).
    pub object_generation: usize,
    /// Object 0's entrypoint thread id (`u8`).
    pub object_entrypoint: usize,
    /// Object 0's dispatcher (two machine words).
    pub object_dispatch: usize,
    /// [`ThreadState::Waiting`] as `u8`.
    pub state_waiting: usize,
    /// [`ThreadState::Running`] as `u8`.
    pub state_running: usize,
    /// [`ThreadState::AwaitingReply`] as `u8`.
    pub state_awaiting_reply: usize,
    /// The "no thread" value of a thread link (0: a link holds the thread's
    /// id plus one, so that an idle kernel state is all zero bytes).
    pub link_none: usize,
    /// Message words per UTCB.
    pub msg_words: usize,
    /// Offset of [`Utcb::label`] in a UTCB.
    pub utcb_label: usize,
    /// Offset of [`Utcb::badge`].
    pub utcb_badge: usize,
    /// Offset of [`Utcb::word_count`].
    pub utcb_word_count: usize,
    /// Offset of [`Utcb::cap_count`].
    pub utcb_cap_count: usize,
    /// Offset of [`Utcb::error`].
    pub utcb_error: usize,
    /// Offset of [`Utcb::words`].
    pub utcb_words: usize,
}

const fn log2_exact(size: usize) -> usize {
    assert!(size.is_power_of_two(), "fast-path strides must be powers of two");
    size.trailing_zeros() as usize
}

const THREADS: usize = offset_of!(State, threads);
const OBJECTS: usize = offset_of!(State, objects);
const CAPS: usize = offset_of!(State, caps) + offset_of!(CapSpace, slots);

/// The kernel state's layout on the target being built.
pub const IPC_LAYOUT: IpcLayout = IpcLayout {
    current: offset_of!(State, current),
    ready_nonempty: offset_of!(State, ready) + offset_of!(ReadyQueues, nonempty),
    thread_shift: log2_exact(size_of::<Thread>()),
    thread_state: THREADS + offset_of!(Thread, state),
    thread_priority: THREADS + offset_of!(Thread, priority),
    thread_component: THREADS + offset_of!(Thread, component),
    thread_sp: THREADS + offset_of!(Thread, sp),
    thread_utcb: THREADS + offset_of!(Thread, utcb),
    thread_reply_to: THREADS + offset_of!(Thread, reply_to),
    thread_sendq_head: THREADS + offset_of!(Thread, sendq_head),
    thread_received_dispatch: THREADS + offset_of!(Thread, received_dispatch),
    cap_space_shift: log2_exact(size_of::<CapSpace>()),
    // `CapEntry` is `repr(u8)`: each variant is a `repr(C)` struct of the
    // tag byte and its fields, so an object entry is tag, `ObjectId` (a
    // transparent `u8`) at 1, the `u32` generation at 4.
    cap_tag: CAPS,
    cap_object: CAPS + 1,
    cap_generation: CAPS + 4,
    cap_shift: log2_exact(size_of::<CapEntry>()),
    cap_slots: CAP_SLOTS,
    cap_tag_object: 1,
    object_shift: log2_exact(size_of::<Object>()),
    object_generation: OBJECTS + offset_of!(Object, generation),
    object_entrypoint: OBJECTS + offset_of!(Object, entrypoint),
    object_dispatch: OBJECTS + offset_of!(Object, dispatch),
    state_waiting: ThreadState::Waiting as usize,
    state_running: ThreadState::Running as usize,
    state_awaiting_reply: ThreadState::AwaitingReply as usize,
    link_none: Link::NONE.raw() as usize,
    msg_words: MSG_WORDS,
    utcb_label: Utcb::OFFSET_LABEL,
    utcb_badge: Utcb::OFFSET_BADGE,
    utcb_word_count: Utcb::OFFSET_WORD_COUNT,
    utcb_cap_count: Utcb::OFFSET_CAP_COUNT,
    utcb_error: Utcb::OFFSET_ERROR,
    utcb_words: Utcb::OFFSET_WORDS,
};

// The pieces a fast path copies or compares as raw machine words.
const _: () = assert!(size_of::<Option<NonNull<dyn Dispatch>>>() == 2 * size_of::<usize>());
const _: () = assert!(size_of::<CapEntry>() == 8);
const _: () = assert!(size_of::<CapSel>() == 4);
const _: () = assert!(size_of::<Link>() == 1 && size_of::<crate::ThreadId>() == 1);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ObjectId;

    #[test]
    fn an_object_capability_reads_as_the_layout_says() {
        let entry = CapEntry::Object { object: ObjectId(5), generation: 0x1122_3344 };
        let base = (&raw const entry).cast::<u8>();
        // SAFETY: reads of initialised fields of a live local, at the
        // offsets `repr(u8)` defines (checked here).
        unsafe {
            assert_eq!(*base, IPC_LAYOUT.cap_tag_object as u8);
            assert_eq!(*base.add(IPC_LAYOUT.cap_object - IPC_LAYOUT.cap_tag), 5);
            assert_eq!(
                base.add(IPC_LAYOUT.cap_generation - IPC_LAYOUT.cap_tag).cast::<u32>().read(),
                0x1122_3344
            );
        }
        let signal =
            CapEntry::Signal { signal: crate::SignalId(3), wait: true, badge: 0, generation: 0 };
        // SAFETY: as above: the tag byte.
        assert_ne!(unsafe { *(&raw const signal).cast::<u8>() }, IPC_LAYOUT.cap_tag_object as u8);
    }

    #[test]
    fn thread_and_state_codes_match_the_types() {
        assert_eq!(IPC_LAYOUT.state_waiting, ThreadState::Waiting as usize);
        assert_eq!(1 << IPC_LAYOUT.thread_shift, size_of::<Thread>());
        assert_eq!(1 << IPC_LAYOUT.object_shift, size_of::<Object>());
        assert_eq!(IPC_LAYOUT.link_none, 0);
    }
}
