//! Cells for state shared between interrupt handlers and the application.
//!
//! MicroBlaze V has one hart, so masking interrupts is a critical section:
//! [`IrqShared`] hands out its contents only inside
//! [`arch::without_interrupts`], and a `RefCell` turns an accidental
//! re-entry (a handler reaching for state its caller holds) into a panic
//! instead of two `&mut`. Like `critical_section::Mutex` it is `Sync` only
//! for a `T: Send`: a value that must stay on one thread (issue 11's `Cell`
//! race) cannot be reached from several. (It is not that `Mutex` itself:
//! through `critical_section::with` the images grew by about 300 bytes of
//! `.data`, the statics no longer being split field by field.)

use core::cell::RefCell;

use ferrode_hal::Slot;

use crate::arch;

/// A value shared by thread and interrupt context, set up during bring-up.
pub struct IrqShared<T> {
    /// A `Slot`, not an `Option`: empty, it is zero bytes, so the static
    /// holding it (an Ethernet driver with its frame ring) is in `.bss`.
    cell: RefCell<Slot<T>>,
}

// SAFETY: `cell` is only reached inside `arch::without_interrupts` on the
// only hart, so no two contexts use it at once; as for
// `critical_section::Mutex`, only for a `T: Send`, whose value may be handed
// from one thread to another.
unsafe impl<T: Send> Sync for IrqShared<T> {}

impl<T> IrqShared<T> {
    /// An empty cell.
    pub const fn new() -> Self {
        Self { cell: RefCell::new(Slot::new()) }
    }

    /// Stores `value`, replacing what was there.
    pub fn set(&self, value: T) {
        arch::without_interrupts(|| {
            self.cell.borrow_mut().insert(value);
        });
    }

    /// Whether nothing has been stored yet (false while the value is in
    /// use further up the stack).
    pub fn is_empty(&self) -> bool {
        arch::without_interrupts(|| matches!(self.cell.try_borrow(), Ok(value) if value.is_none()))
    }

    /// Runs `f` on the value with interrupts masked; `None` if the cell is
    /// empty. Panics if called again from inside `f` on the same cell.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        arch::without_interrupts(|| self.cell.borrow_mut().get_mut().map(f))
    }

    /// Like [`IrqShared::with`], but returns `None` instead of panicking if
    /// the value is already in use further up the stack (for the console,
    /// which a panic report may re-enter).
    pub fn try_with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        arch::without_interrupts(|| self.cell.try_borrow_mut().ok()?.get_mut().map(f))
    }
}

impl<T> Default for IrqShared<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use core::cell::Cell;
    use core::marker::PhantomData;

    use super::IrqShared;

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
    fn a_shared_cell_is_shared_between_threads_only_if_its_value_may_move() {
        assert!(Probe::<IrqShared<Cell<u32>>>(PhantomData).is_sync(), "reached only locked");
        assert!(
            !Probe::<IrqShared<core::ptr::NonNull<u32>>>(PhantomData).is_sync(),
            "a value tied to one thread must not be reachable from several"
        );
        assert!(
            !Probe::<&crate::devices::Gpio>(PhantomData).is_sync(),
            "the GPIO driver (Cells inside) is never handed out by shared reference"
        );
    }
}
