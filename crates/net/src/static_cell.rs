//! Memory that lives for the whole program and is handed out once.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// A `static` whose contents can be borrowed mutably exactly once, for the
/// rest of the program: the way to give smoltcp socket buffers that outlive
/// `main` without `static mut`.
///
/// ```
/// use ferrode_net::StaticCell;
/// static BUFFER: StaticCell<[u8; 16]> = StaticCell::new([0; 16]);
/// let buffer: &'static mut [u8; 16] = BUFFER.take().unwrap();
/// buffer[0] = 1;
/// assert!(BUFFER.take().is_none());
/// ```
pub struct StaticCell<T> {
    taken: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the only access to `value` is the single `&mut T` that `take`
// hands out, guarded by the atomic swap of `taken`; sending that reference
// to another thread requires `T: Send`.
unsafe impl<T: Send> Sync for StaticCell<T> {}

impl<T> StaticCell<T> {
    /// A cell holding `value`, not yet taken.
    pub const fn new(value: T) -> Self {
        Self { taken: AtomicBool::new(false), value: UnsafeCell::new(value) }
    }

    /// The contents, the first time; `None` ever after.
    #[allow(clippy::mut_from_ref, reason = "the atomic flag makes this the only reference ever handed out")]
    pub fn take(&'static self) -> Option<&'static mut T> {
        if self.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: `taken` was false and is now true, so this is the one and
        // only reference ever made to `value`, and `self` is 'static.
        Some(unsafe { &mut *self.value.get() })
    }
}
