//! Small typed indices into the kernel's tables.

macro_rules! id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(transparent)]
        pub struct $name(pub(crate) u8);

        impl $name {
            /// The table index.
            pub const fn index(self) -> usize {
                self.0 as usize
            }

            /// The id of table entry `index` (saturating at 255, which is
            /// no entry). An id is a name, not authority: the kernel checks
            /// capabilities, not ids.
            pub const fn from_index(index: usize) -> Self {
                Self(if index > 255 { 255 } else { index as u8 })
            }
        }
    };
}

id!(
    /// A thread.
    ThreadId
);
id!(
    /// A component: a capability space and the threads that use it.
    ComponentId
);
id!(
    /// An RPC object managed by an entrypoint.
    ObjectId
);
id!(
    /// A counting signal.
    SignalId
);

/// An optional thread in one byte: the thread's id plus one, 0 for none
/// ([`Link::NONE`]), so that a kernel state with no links is all zero
/// bytes (a `static` of it lands in `.bss`, not in the image's `.data`).
/// The form of the thread references the IPC paths read and write (reply
/// targets, send queues), so that an assembly fast path can use them too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub(crate) struct Link(u8);

impl Link {
    /// No thread.
    pub(crate) const NONE: Link = Link(0);

    /// The thread, if any.
    #[inline(always)]
    pub(crate) const fn get(self) -> Option<ThreadId> {
        match self.0.checked_sub(1) {
            Some(id) => Some(ThreadId(id)),
            None => None,
        }
    }

    /// The byte as stored (the id plus one, 0 for none).
    #[inline(always)]
    pub(crate) const fn raw(self) -> u8 {
        self.0
    }

    /// Whether there is a thread.
    #[inline(always)]
    pub(crate) const fn is_some(self) -> bool {
        self.0 != 0
    }

    /// The thread, leaving none.
    #[inline(always)]
    pub(crate) fn take(&mut self) -> Option<ThreadId> {
        core::mem::replace(self, Link::NONE).get()
    }
}

impl From<Option<ThreadId>> for Link {
    #[inline(always)]
    fn from(thread: Option<ThreadId>) -> Self {
        match thread {
            // Id 255 (no entry, see `from_index`) wraps to none.
            Some(thread) => Link(thread.0.wrapping_add(1)),
            None => Link::NONE,
        }
    }
}
