//! A signal one thread of a component raises at another (or at a client),
//! kept as a selector in the raising component's space once that
//! component has the capability: the NIC driver's stream notifications
//! and data-thread signal, a driver's interrupt thread (see
//! `devices::irq_session`), the Terminal's input signal.

use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_ipc::CapSel;

use crate::kernel::kernel;

/// No selector yet. A set selector is kept plus one, so that a `Wake` is
/// all zero bytes and costs the image no `.data`.
const NONE: u32 = 0;

/// How a selector is kept (selectors are far below `u32::MAX`).
const fn kept(selector: CapSel) -> u32 {
    selector.0.wrapping_add(1)
}

/// The selector kept as `value`, if one is.
fn selector(value: u32) -> Option<CapSel> {
    value.checked_sub(1).map(CapSel)
}

/// The threads of a component that have read a client's signal selector
/// and not yet submitted it. The thread that drops such a selector (the
/// entrypoint, when a session ends or its signal is replaced) first takes
/// it out of where the others read it, then drops it through
/// [`drop_selector`](Self::drop_selector), which waits for them first: a
/// submit still under way would otherwise hit the slot after the drop,
/// when it may already hold another capability (the next session's
/// signal, or one of the driver's own).
///
/// Used by the Terminal, GPIO and NIC drivers and the Timer server, whose
/// interrupt, data and alarm threads submit their clients' signals. The
/// wait yields until they are done, so it is only for threads at the
/// dropping thread's priority (a server's own threads, which run at its
/// entrypoint's): a counted thread below it would never run again.
pub(super) struct Submitting(AtomicU32);

impl Submitting {
    pub(super) const fn new() -> Self {
        Self(AtomicU32::new(0))
    }

    /// Runs `f`, which reads selectors and submits them, counted.
    pub(super) fn during<R>(&self, f: impl FnOnce() -> R) -> R {
        self.0.fetch_add(1, Ordering::AcqRel);
        let result = f();
        self.0.fetch_sub(1, Ordering::AcqRel);
        result
    }

    /// Drops `selector`, a client's signal the caller has already taken
    /// out of where the counted threads read it, once none of them is
    /// between reading a selector and submitting it.
    pub(super) fn drop_selector(&self, selector: CapSel) {
        self.wait_idle();
        let _ = kernel().drop_capability(selector);
    }

    /// Until none of the counted threads is between reading a selector
    /// and submitting it.
    fn wait_idle(&self) {
        while self.0.load(Ordering::Acquire) != 0 {
            kernel().yield_now();
        }
    }
}

/// A signal to raise, as a selector in the raising component's own space;
/// set once that component has the capability.
pub struct Wake {
    selector: AtomicU32,
    raising: Submitting,
}

impl Wake {
    pub(super) const fn new() -> Self {
        Self { selector: AtomicU32::new(NONE), raising: Submitting::new() }
    }

    pub(super) fn set(&self, new: CapSel) {
        self.selector.store(kept(new), Ordering::Release);
    }

    /// The selector, if it is set.
    pub(super) fn get(&self) -> Option<CapSel> {
        selector(self.selector.load(Ordering::Acquire))
    }

    /// Sets it; the selector it held before, if any.
    pub(super) fn replace(&self, new: CapSel) -> Option<CapSel> {
        selector(self.selector.swap(kept(new), Ordering::AcqRel))
    }

    /// Unsets it; the selector it held, if any.
    pub(super) fn take(&self) -> Option<CapSel> {
        selector(self.selector.swap(NONE, Ordering::AcqRel))
    }

    /// Sets it to a client's signal, and drops the one it replaces (a
    /// client's signal too), once no thread raises that any more. Only for
    /// a signal that no thread below the caller's priority raises (see
    /// [`Submitting`]).
    pub(super) fn replace_dropping(&self, new: CapSel) {
        self.replace_dropping_among(new, core::slice::from_ref(self));
    }

    /// Unsets it, and drops the client's signal it held once no thread
    /// raises it any more. Only for a signal that no thread below the
    /// caller's priority raises (see [`Submitting`]).
    pub(super) fn take_dropping(&self) {
        self.take_dropping_among(core::slice::from_ref(self));
    }

    /// For one of `all`, a server's signals to its sessions' clients
    /// (`self` among them): sets it to a client's signal and drops the one
    /// it replaces, unless another of `all` holds that one too. A client
    /// may give several sessions one signal, which the kernel keeps in one
    /// slot of the server's space: it is dropped with the last session
    /// that uses it, once no thread raises it through any of `all`. The
    /// same caveat on priorities as [`replace_dropping`](Self::replace_dropping)
    /// (which is this with `self` alone).
    pub(super) fn replace_dropping_among(&self, new: CapSel, all: &[Wake]) {
        if let Some(old) = self.replace(new).filter(|&old| old != new) {
            drop_unless_held(old, all);
        }
    }

    /// [`take_dropping`](Self::take_dropping), for one of `all`, as
    /// [`replace_dropping_among`](Self::replace_dropping_among) has it.
    pub(super) fn take_dropping_among(&self, all: &[Wake]) {
        if let Some(old) = self.take() {
            drop_unless_held(old, all);
        }
    }

    /// Submits the signal, if it is set (unset: nobody to wake yet, or
    /// any more). Out of line: the stream ends raise at many places.
    #[inline(never)]
    pub(super) fn raise(&self) {
        self.raising.during(|| {
            if let Some(selector) = self.get() {
                let _ = kernel().submit(selector);
            }
        });
    }
}

/// Drops `old`, a client's signal taken out of one of `all`, unless
/// another of them holds it, once none of them is being raised.
fn drop_unless_held(old: CapSel, all: &[Wake]) {
    if all.iter().any(|wake| wake.get() == Some(old)) {
        return;
    }
    for wake in all {
        wake.raising.wait_idle();
    }
    let _ = kernel().drop_capability(old);
}
