//! Cells for state shared between interrupt handlers and the application.
//!
//! MicroBlaze V has one hart, so masking interrupts is a critical section:
//! [`IrqShared`] only hands out its contents inside
//! [`arch::without_interrupts`], and a
//! `RefCell` turns an accidental re-entry (a handler reaching for state its
//! caller holds) into a panic instead of two `&mut`.

use core::cell::RefCell;

use crate::arch;

/// A value shared by thread and interrupt context, set up during bring-up.
pub struct IrqShared<T> {
    cell: RefCell<Option<T>>,
}

// SAFETY: there is one hart and every access to `cell` happens inside
// `arch::without_interrupts`, so no two contexts ever use it at the same
// time; moving `T` between "thread" and "interrupt" context on one hart is
// not a thread crossing, hence no `T: Send` bound.
unsafe impl<T> Sync for IrqShared<T> {}

impl<T> IrqShared<T> {
    /// An empty cell.
    pub const fn new() -> Self {
        Self { cell: RefCell::new(None) }
    }

    /// Stores `value`, replacing what was there.
    pub fn set(&self, value: T) {
        arch::without_interrupts(|| *self.cell.borrow_mut() = Some(value));
    }

    /// Whether nothing has been stored yet (false while the value is in
    /// use further up the stack).
    pub fn is_empty(&self) -> bool {
        arch::without_interrupts(|| matches!(self.cell.try_borrow(), Ok(value) if value.is_none()))
    }

    /// Runs `f` on the value with interrupts masked; `None` if the cell is
    /// empty. Panics if called again from inside `f` on the same cell.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        arch::without_interrupts(|| self.cell.borrow_mut().as_mut().map(f))
    }

    /// Like [`IrqShared::with`], but returns `None` instead of panicking if
    /// the value is already in use further up the stack (for the console,
    /// which a panic report may re-enter).
    pub fn try_with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        arch::without_interrupts(|| self.cell.try_borrow_mut().ok()?.as_mut().map(f))
    }
}

impl<T> Default for IrqShared<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A value written once during bring-up and only read after, from any
/// context (for devices whose operations are single register accesses).
pub struct InitOnce<T> {
    cell: core::cell::UnsafeCell<Option<T>>,
    ready: core::sync::atomic::AtomicBool,
}

// SAFETY: the value is written once, with interrupts masked, before
// `ready` is published; afterwards only shared references exist, handed to
// every thread and handler: sound only for a `T` that may be shared
// (`Sync`; a `Cell` inside would let preempting threads race) and, as it is
// set in one context and used in others, moved (`Send`). On one hart
// nothing can observe the write half-done.
unsafe impl<T: Send + Sync> Sync for InitOnce<T> {}

impl<T> InitOnce<T> {
    /// An empty cell.
    pub const fn new() -> Self {
        Self {
            cell: core::cell::UnsafeCell::new(None),
            ready: core::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Stores `value`; panics if the cell was already set.
    pub fn set(&self, value: T) {
        use core::sync::atomic::Ordering;
        arch::without_interrupts(|| {
            assert!(!self.ready.load(Ordering::Acquire), "InitOnce set twice");
            // SAFETY: `ready` is false, so no reference into the cell has
            // been handed out, and interrupts are masked on the only hart.
            unsafe { *self.cell.get() = Some(value) };
            self.ready.store(true, Ordering::Release);
        });
    }

    /// The value, once set.
    pub fn get(&self) -> Option<&T> {
        use core::sync::atomic::Ordering;
        if !self.ready.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: `ready` is only set after the single write, which is
        // never repeated, so only shared references exist from here on.
        unsafe { (*self.cell.get()).as_ref() }
    }
}

impl<T> Default for InitOnce<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use core::cell::Cell;
    use core::marker::PhantomData;

    use super::InitOnce;

    /// Whether `T` is `Sync`, decided at compile time and returned as a
    /// value (an inherent method wins over the trait's when its bound
    /// holds), so a test can fail instead of refusing to compile.
    struct Probe<T>(PhantomData<T>);

    trait NotSync {
        fn is_sync(&self) -> bool {
            false
        }
    }

    impl<T> NotSync for Probe<T> {}

    impl<T: Sync> Probe<T> {
        fn is_sync(&self) -> bool {
            true
        }
    }

    #[test]
    fn a_write_once_cell_is_shared_between_threads_only_if_its_value_may_be() {
        assert!(Probe::<InitOnce<u32>>(PhantomData).is_sync());
        assert!(
            !Probe::<InitOnce<Cell<u32>>>(PhantomData).is_sync(),
            "InitOnce hands &T to every thread: a Cell inside would race"
        );
        assert!(!Probe::<InitOnce<crate::devices::Gpio>>(PhantomData).is_sync());
    }
}
