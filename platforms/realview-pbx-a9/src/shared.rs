//! State shared between interrupt handlers and the application, behind the
//! `critical-section` crate (the arch crate's implementation masks
//! interrupts on this single core).

use core::cell::RefCell;

use critical_section::Mutex;

/// A value that interrupt handlers and the application both use, reached
/// only through [`Shared::with`], inside a critical section. It is `Sync`
/// only for a `T: Send` (the crate's `Mutex`), so nothing that must stay on
/// one thread can be reached from several.
pub struct Shared<T> {
    value: Mutex<RefCell<T>>,
}

impl<T> Shared<T> {
    /// Wraps `value`.
    pub const fn new(value: T) -> Self {
        Self { value: Mutex::new(RefCell::new(value)) }
    }

    /// Runs `f` on the value in a critical section.
    ///
    /// # Panics
    /// If called again for the same value from inside `f`.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        critical_section::with(|cs| f(&mut self.value.borrow_ref_mut(cs)))
    }

    /// Like [`Shared::with`], but returns `None` instead of panicking when
    /// the value is already in use further up the stack (a panic or fault
    /// report raised from inside `with`).
    pub fn try_with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        critical_section::with(|cs| {
            let mut value = self.value.borrow(cs).try_borrow_mut().ok()?;
            Some(f(&mut value))
        })
    }
}
