//! State shared between interrupt handlers and the application.

use core::cell::{Cell, UnsafeCell};

use crate::arch;

/// A value that interrupt handlers and the application both use, reached
/// only through [`Shared::with`], which masks interrupts. On this single
/// core that makes every access exclusive, without `static mut`.
pub struct Shared<T> {
    borrowed: Cell<bool>,
    value: UnsafeCell<T>,
}

// SAFETY: the PBX-A9 platform runs on one core, and `with` masks IRQs and
// FIQs for the whole access and refuses re-entrant use (a handler cannot
// interrupt it, and `f` cannot call `with` on the same value), so no two
// references to `value` ever exist at once. Device register pointers
// inside are only dereferenced by the driver within such an access.
unsafe impl<T> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// Wraps `value`.
    pub const fn new(value: T) -> Self {
        Self { borrowed: Cell::new(false), value: UnsafeCell::new(value) }
    }

    /// Runs `f` on the value with interrupts masked.
    ///
    /// # Panics
    /// If called again for the same value from inside `f`.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        arch::without_interrupts(|| {
            assert!(!self.borrowed.replace(true), "re-entrant use of interrupt-shared state");
            // SAFETY: interrupts are masked on the only core and `borrowed`
            // was false, so this is the only reference to the value until
            // `borrowed` is cleared below.
            let result = f(unsafe { &mut *self.value.get() });
            self.borrowed.set(false);
            result
        })
    }

    /// Like [`Shared::with`], but returns `None` instead of panicking when
    /// the value is already in use further up the stack (a panic or fault
    /// report raised from inside `with`).
    pub fn try_with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        arch::without_interrupts(|| {
            if self.borrowed.replace(true) {
                return None;
            }
            // SAFETY: as in `with`: interrupts are masked on the only core
            // and `borrowed` was false, so this is the only reference.
            let result = f(unsafe { &mut *self.value.get() });
            self.borrowed.set(false);
            Some(result)
        })
    }
}
