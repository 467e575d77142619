//! One end's private record of its slots.

/// One mark per slot, kept by one end of a stream in its own memory, where
/// the other end cannot write it (unlike the shared slot states).
///
/// Bytes rather than `bool`s: a `bool` has invalid bit patterns, which the
/// compiler uses to encode the `None` of an `Option` around an end, and a
/// `static` holding such a `None` then needs `.data` (flash) instead of
/// zeroed `.bss`.
#[derive(Clone, Copy)]
pub(crate) struct SlotMarks<const SLOTS: usize>([u8; SLOTS]);

impl<const SLOTS: usize> SlotMarks<SLOTS> {
    /// No slot marked.
    pub(crate) const NONE: Self = Self([0; SLOTS]);

    /// Whether `slot` is marked.
    #[inline]
    pub(crate) fn get(&self, slot: usize) -> bool {
        self.0[slot] != 0
    }

    /// Marks `slot`, or clears its mark.
    #[inline]
    pub(crate) fn set(&mut self, slot: usize, marked: bool) {
        self.0[slot] = u8::from(marked);
    }

    /// Whether any slot is marked.
    pub(crate) fn any(&self) -> bool {
        self.0.iter().any(|&mark| mark != 0)
    }
}
