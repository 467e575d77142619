//! Capability spaces: per-component tables of what a selector designates.

use ferrode_ipc::CapSel;

use crate::ids::{ComponentId, ObjectId, SignalId, ThreadId};
use crate::state::CAP_SLOTS;

/// What one slot of a capability space designates.
///
/// `repr(u8)` lays each variant out as a tag byte followed by its fields at
/// their natural alignment, so the IPC path reads a slot with plain loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CapEntry {
    /// Nothing: using the selector fails with an invalid-capability error.
    Empty = 0,
    /// An RPC object, as of `generation`: once the object is dissolved its
    /// generation moves on and the capability is dead.
    Object {
        /// The object.
        object: ObjectId,
        /// The object's generation when the capability was made.
        generation: u32,
    } = 1,
    /// A counting signal, as of `generation`. `wait` is the receiver's
    /// right to wait on it, held only in the owner's space; every copy
    /// handed out can only submit.
    Signal {
        /// The signal.
        signal: SignalId,
        /// Whether this capability may wait (the owner's).
        wait: bool,
        /// Tells copies of one signal apart (seL4's badge): 0 for the
        /// signal's own capability and its plain copies, another value for
        /// a copy minted with it ([`crate::Kernel::mint_signal`]) and the
        /// copies made of that one. Copies with different badges are
        /// different capabilities: a space holds each in a slot of its
        /// own, and each is handed on and revoked on its own.
        badge: u8,
        /// The signal's generation when the capability was made.
        generation: u32,
    } = 2,
    /// Authority over a component (its capability space, threads and
    /// objects), as of `generation` (Genode's PD session capability).
    Component {
        /// The component.
        component: ComponentId,
        /// The component slot's generation when the capability was made.
        generation: u32,
    } = 3,
    /// The right to answer one call later (a deferred reply): the caller,
    /// the object it called, and which deferral of its calls this is.
    Reply {
        /// The blocked caller.
        thread: ThreadId,
        /// The object called (for the reply's receive window).
        object: ObjectId,
        /// Matches the caller's deferral count while the call is open.
        seq: u32,
    } = 4,
    /// A capability its delegator took back: using it fails with
    /// `ServerDead` until the holder drops it, so the selector does not
    /// silently come to mean something else.
    Revoked = 5,
}

/// One component's capability space.
#[repr(C)]
pub(crate) struct CapSpace {
    pub(crate) slots: [CapEntry; CAP_SLOTS],
}

impl CapSpace {
    pub(crate) const fn new() -> Self {
        Self { slots: [CapEntry::Empty; CAP_SLOTS] }
    }

    /// The entry a selector designates (`Empty` for out-of-range selectors).
    #[inline]
    pub(crate) fn get(&self, selector: CapSel) -> CapEntry {
        match self.slots.get(selector.0 as usize) {
            Some(entry) => *entry,
            None => CapEntry::Empty,
        }
    }

    /// Empties a slot (dropping this component's capability).
    pub(crate) fn remove(&mut self, selector: CapSel) -> CapEntry {
        match self.slots.get_mut(selector.0 as usize) {
            Some(slot) => core::mem::replace(slot, CapEntry::Empty),
            None => CapEntry::Empty,
        }
    }
}

/// Where a capability was copied from: a component's slot, or nowhere (it
/// was made by the kernel for its first holder). Two bytes per slot, kept
/// beside the capability spaces, not in them (the fast path's table): the
/// component's id plus one and the selector, 0 for nowhere, so that the
/// initial table is all zero bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Origin(u16);

impl Origin {
    /// Made by the kernel, not copied.
    pub(crate) const NONE: Origin = Origin(0);

    /// Copied from `selector` of `component`.
    pub(crate) const fn of(component: ComponentId, selector: CapSel) -> Self {
        Origin(((component.0 as u16 + 1) << 8) | (selector.0 as u16 & 0xff))
    }

    /// The component it was copied from.
    pub(crate) const fn component(self) -> Option<ComponentId> {
        match (self.0 >> 8).checked_sub(1) {
            Some(component) => Some(ComponentId(component as u8)),
            None => None,
        }
    }

    /// The slot it was copied from (meaningful when [`Origin::component`]
    /// is `Some`).
    pub(crate) const fn slot(self) -> usize {
        (self.0 & 0xff) as usize
    }
}
