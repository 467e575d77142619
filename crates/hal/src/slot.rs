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
        // Dropped in place, not moved out first: a large `T` (a driver and
        // its rings) is not copied onto the stack one more time.
        if core::mem::replace(&mut self.full, false) {
            // SAFETY: the slot was full, so the value is initialized; it is
            // marked empty first, so it is dropped once even if its drop
            // panics.
            unsafe { self.value.assume_init_drop() };
        }
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

    /// A value replaced is dropped where it is, once, even when its drop
    /// panics: the slot is empty then, and dropping it drops nothing more.
    #[test]
    fn a_value_whose_drop_panics_is_dropped_once() {
        /// Counts its drops; the first one panics.
        struct Loud(Rc<std::cell::Cell<u32>>);
        impl Drop for Loud {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
                if self.0.get() == 1 {
                    panic!("drop panics");
                }
            }
        }
        let drops = Rc::new(std::cell::Cell::new(0));
        let mut slot = Slot::new();
        slot.insert(Loud(drops.clone()));
        let replaced = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            slot.insert(Loud(drops.clone()));
        }));
        assert!(replaced.is_err());
        // The old value's panicking drop, then the new one's as the panic
        // unwound past it.
        assert_eq!(drops.get(), 2);
        assert!(slot.is_none(), "emptied before the drop");
        drop(slot);
        assert_eq!(drops.get(), 2, "nothing dropped again");
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
