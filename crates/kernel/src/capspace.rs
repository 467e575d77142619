//! Capability spaces: per-component tables of what a selector designates.

use ferrode_ipc::CapSel;

use crate::ids::{ObjectId, SignalId};
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
    /// A counting signal.
    Signal(SignalId) = 2,
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

    /// Inserts `entry`, reusing a slot that already holds the same entry so
    /// that repeated delegation does not fill the space. `None` when full.
    pub(crate) fn insert(&mut self, entry: CapEntry) -> Option<CapSel> {
        if entry == CapEntry::Empty {
            return Some(CapSel::INVALID);
        }
        if let Some(index) = self.slots.iter().position(|slot| *slot == entry) {
            return Some(CapSel(index as u32));
        }
        let index = self.slots.iter().position(|slot| *slot == CapEntry::Empty)?;
        self.slots[index] = entry;
        Some(CapSel(index as u32))
    }

    /// Empties a slot (dropping this component's capability).
    pub(crate) fn remove(&mut self, selector: CapSel) -> CapEntry {
        match self.slots.get_mut(selector.0 as usize) {
            Some(slot) => core::mem::replace(slot, CapEntry::Empty),
            None => CapEntry::Empty,
        }
    }
}
