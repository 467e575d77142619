//! A signal one thread of a component raises at another (or at a client),
//! kept as a selector in the raising component's space once that
//! component has the capability: the NIC driver's stream notifications
//! and data-thread signal, a driver's interrupt thread (see
//! `devices::irq_session`), the Terminal's input signal.

use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_ipc::CapSel;

use crate::kernel::kernel;

/// No selector yet.
const NONE: u32 = u32::MAX;

/// A signal to raise, as a selector in the raising component's own space;
/// set once that component has the capability.
pub struct Wake(AtomicU32);

impl Wake {
    pub(super) const fn new() -> Self {
        Self(AtomicU32::new(NONE))
    }

    pub(super) fn set(&self, selector: CapSel) {
        self.0.store(selector.0, Ordering::Release);
    }

    /// The selector, if it is set.
    pub(super) fn get(&self) -> Option<CapSel> {
        Some(self.0.load(Ordering::Acquire)).filter(|&selector| selector != NONE).map(CapSel)
    }

    /// Sets it; the selector it held before, if any.
    pub(super) fn replace(&self, selector: CapSel) -> Option<CapSel> {
        Some(self.0.swap(selector.0, Ordering::AcqRel)).filter(|&old| old != NONE).map(CapSel)
    }

    /// Unsets it; the selector it held, if any.
    pub(super) fn take(&self) -> Option<CapSel> {
        Some(self.0.swap(NONE, Ordering::AcqRel)).filter(|&selector| selector != NONE).map(CapSel)
    }

    /// Submits the signal, if it is set (unset: nobody to wake yet, or
    /// any more).
    pub(super) fn raise(&self) {
        if let Some(selector) = self.get() {
            let _ = kernel().submit(selector);
        }
    }
}
