//! An optional value whose empty state is all zero bytes.

use core::mem::MaybeUninit;

/// Room for one `T`, empty or full: an `Option<T>` for statics.
///
/// A `static` goes to `.bss` only when every byte of its initial value is
/// zero. `Option::<T>::None` is not always zero bytes: when `T` has a field
/// with spare values (an enum, a `bool`), `None` is written as one of them,
/// and the whole static, buffers and all, moves to `.data`, which a flash
/// image must carry. An empty `Slot` is zero bytes whatever `T` is.
pub struct Slot<T> {
    full: bool,
    value: MaybeUninit<T>,
}

impl<T> Slot<T> {
    /// An empty slot (a `const fn`, for statics).
    pub const fn new() -> Self {
        Self { full: false, value: MaybeUninit::uninit() }
    }

    /// Whether a value is there.
    pub const fn is_some(&self) -> bool {
        self.full
    }

    /// Whether the slot is empty.
    pub const fn is_none(&self) -> bool {
        !self.full
    }

    /// The value, if there is one.
    pub fn get(&self) -> Option<&T> {
        // SAFETY: `full` is set only after `value` was written, and cleared
        // before it is moved out or dropped.
        self.full.then(|| unsafe { self.value.assume_init_ref() })
    }

    /// The value, if there is one, to change.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        // SAFETY: as in `get`.
        self.full.then(|| unsafe { self.value.assume_init_mut() })
    }

    /// Stores `value` (dropping the one before, if any) and lends it out.
    pub fn insert(&mut self, value: T) -> &mut T {
        drop(self.take());
        self.full = true;
        self.value.write(value)
    }

    /// Takes the value out, leaving the slot empty.
    pub fn take(&mut self) -> Option<T> {
        if !self.full {
            return None;
        }
        self.full = false;
        // SAFETY: the slot was full, so `value` is initialised; `full` is
        // now false, so it is neither read nor dropped again.
        Some(unsafe { self.value.assume_init_read() })
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for Slot<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::Slot;

    #[test]
    fn a_slot_holds_takes_and_drops_its_value_once() {
        let value = Rc::new(5);
        let mut slot = Slot::new();
        assert!(slot.is_none() && slot.get().is_none());
        assert_eq!(**slot.insert(value.clone()), 5);
        assert!(slot.is_some());
        assert_eq!(Rc::strong_count(&value), 2);
        slot.insert(Rc::new(6));
        assert_eq!(Rc::strong_count(&value), 1, "the value replaced was dropped");
        *slot.get_mut().unwrap() = Rc::new(7);
        assert_eq!(slot.take().as_deref(), Some(&7));
        assert!(slot.take().is_none());
        slot.insert(value.clone());
        drop(slot);
        assert_eq!(Rc::strong_count(&value), 1, "dropping the slot drops its value");
    }

    /// `is_some`, `is_none` and `get` tell an empty slot from a full one,
    /// and `get` lends the value stored (guards against either answer
    /// being constant, and against `get` never finding the value).
    #[test]
    fn a_slot_says_whether_it_is_full_and_lends_its_value() {
        let mut slot = Slot::new();
        assert_eq!((slot.is_some(), slot.is_none(), slot.get()), (false, true, None));
        slot.insert(3);
        assert_eq!((slot.is_some(), slot.is_none(), slot.get()), (true, false, Some(&3)));
        slot.take();
        assert_eq!((slot.is_some(), slot.is_none(), slot.get()), (false, true, None));
    }
}
