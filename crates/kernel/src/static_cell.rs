//! Statics handed out once as `&'static mut`, for stacks, UTCBs and RPC
//! objects that live as long as the image.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// A static whose contents can be taken out once as `&'static mut T`.
pub struct StaticCell<T> {
    taken: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reachable only through the one `&'static mut` that
// `take` hands out (guarded by the atomic flag), so sharing the cell
// between threads shares no access to `T` itself.
unsafe impl<T: Send> Sync for StaticCell<T> {}

impl<T> StaticCell<T> {
    /// A cell holding `value`.
    pub const fn new(value: T) -> Self {
        Self { taken: AtomicBool::new(false), value: UnsafeCell::new(value) }
    }

    /// The contents, the first time; `None` afterwards.
    #[allow(clippy::mut_from_ref, reason = "the one `&mut` is handed out once, guarded by the flag")]
    pub fn take(&'static self) -> Option<&'static mut T> {
        if self.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: the flag guarantees this is the only reference ever made.
        Some(unsafe { &mut *self.value.get() })
    }
}
