//! What the driver components whose sessions carry packet streams (NIC,
//! Block) share: how their streams' ends change hands between the root,
//! the driver's data thread and the session's client, and how the ends
//! raise each other's signals.

use core::cell::{Cell, RefCell};
use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, Ordering};

use ferrode_packet_stream::{Notify, ToSink, ToSource};

use super::wake::Wake;
use crate::kernel::{CapEntry, kernel};

/// What a stream end raises at the other end: its [`Wake`] (a peer that
/// has gone away has none: nobody to wake). Neither `Send` nor `Sync`, and
/// so neither are the ends that hold it: they stay on the thread of the
/// component the session was routed to. Safe code of that component
/// cannot hand them to another one (through a static, a channel or a
/// thread), which could otherwise keep using them after the component is
/// destroyed and the driver gave the streams, with their packet memory, to
/// the next client (see the roots' `reclaim`). The driver's ends hold it
/// too, so that both sides share one copy of the streams' code.
#[derive(Clone, Copy)]
pub struct Raises(&'static Wake, PhantomData<*const ()>);

impl Raises {
    /// Raising `wake`.
    pub(super) const fn new(wake: &'static Wake) -> Self {
        Self(wake, PhantomData)
    }
}

impl Notify for Raises {
    fn notify(&self) {
        self.0.raise();
    }
}

/// A stream's signals to its sink: both of Genode's on the sink's `wake`.
pub(super) fn to_sink<N: Notify + Copy>(wake: N) -> ToSink<N> {
    ToSink { packet_available: wake, ready_to_acknowledge: wake }
}

/// A stream's signals to its source: both on the source's `wake`.
pub(super) fn to_source<N: Notify + Copy>(wake: N) -> ToSource<N> {
    ToSource { acknowledgement_available: wake, ready_to_submit: wake }
}

/// A value handed from one thread to another once (the stream ends).
pub(super) struct Handoff<T>(RefCell<Option<T>>);

// SAFETY: used only inside `without_interrupts` on the one core, so no two
// threads (or a thread and a handler) see it at once; the value moves from
// the thread that puts it to the one that takes it, so it must be `Send`.
unsafe impl<T: Send> Sync for Handoff<T> {}

impl<T> Handoff<T> {
    pub(super) const fn new() -> Self {
        Self(RefCell::new(None))
    }

    pub(super) fn put(&self, value: T) {
        crate::arch::without_interrupts(|| *self.0.borrow_mut() = Some(value));
    }

    pub(super) fn take(&self) -> Option<T> {
        crate::arch::without_interrupts(|| self.0.borrow_mut().take())
    }
}

/// Rounds the root lets the data thread run (yielding to it, at the same
/// priority) before it gives up waiting for the driver's ends.
const RETURN_ROUNDS: usize = 64;

/// The driver's ends of a session's streams, between the root (which
/// makes them and, closing the session, needs them back) and the driver's
/// data thread (which serves them).
pub(super) struct DataThreadEnds<T> {
    /// The ends, until the data thread takes them.
    pub(super) to_thread: Handoff<T>,
    /// The ends, handed back by the data thread when the root asks.
    back: Handoff<T>,
    /// Set by the root: the data thread hands its ends back. Whoever
    /// clears it (the thread taking the request, or the root withdrawing
    /// it) decides where the ends are.
    asked: AtomicBool,
}

impl<T> DataThreadEnds<T> {
    pub(super) const fn new() -> Self {
        Self { to_thread: Handoff::new(), back: Handoff::new(), asked: AtomicBool::new(false) }
    }

    /// For the data thread: whether the root asked for the ends back.
    /// Taking the flag claims the request: the ends go back
    /// ([`hand_back`](Self::hand_back)) without a wait.
    pub(super) fn asked_back(&self) -> bool {
        self.asked.swap(false, Ordering::AcqRel)
    }

    /// For the data thread, after [`asked_back`](Self::asked_back).
    pub(super) fn hand_back(&self, ends: T) {
        self.back.put(ends);
    }

    /// For the root: the data thread's ends back. Asks for them, wakes the
    /// thread (`wake`), and yields to it until it handed them over; `None`
    /// after `RETURN_ROUNDS` rounds (a thread that is gone or stuck), the
    /// thread serving on if it is alive.
    pub(super) fn take_back(&self, wake: impl Fn()) -> Option<T> {
        let k = kernel();
        self.asked.store(true, Ordering::Release);
        wake();
        for _ in 0..RETURN_ROUNDS {
            if let Some(ends) = self.back.take() {
                return Some(ends);
            }
            k.yield_now();
        }
        // Giving up: withdraw the request. If the thread had claimed it
        // already, its ends are on their way back: hand them to it again,
        // so the session it serves goes on.
        if self.asked.swap(false, Ordering::AcqRel) {
            return None;
        }
        loop {
            if let Some(ends) = self.back.take() {
                self.to_thread.put(ends);
                wake();
                return None;
            }
            k.yield_now();
        }
    }
}

/// The client's ends of a session's streams, between the root (which
/// makes them and, closing the session, needs them back) and the
/// session's client.
pub(super) struct ClientEnds<T> {
    /// The ends, until the session's client takes them.
    given: Handoff<T>,
    /// The ends, handed back by the client closing its session, for the
    /// root's `close` to take.
    returned: Handoff<T>,
}

/// Where a root's `close` found the client's ends, and where a refused
/// close puts them back.
#[derive(Clone, Copy)]
pub(super) struct Found {
    returned: bool,
}

impl<T> ClientEnds<T> {
    pub(super) const fn new() -> Self {
        Self { given: Handoff::new(), returned: Handoff::new() }
    }

    /// For the root: the ends, for the session's client to take.
    pub(super) fn give(&self, ends: T) {
        self.given.put(ends);
    }

    /// For the session's client: its ends (`None` once taken).
    pub(super) fn take(&self) -> Option<T> {
        self.given.take()
    }

    /// For the session's client, closing it: its ends back.
    pub(super) fn hand_back(&self, ends: T) {
        self.returned.put(ends);
    }

    /// For the root's `close`: the ends, handed back, or never taken (a
    /// client that ended before it took them must not keep the device
    /// from every later client); `None` while the client holds them.
    pub(super) fn take_for_close(&self) -> Option<(T, Found)> {
        match self.returned.take() {
            Some(ends) => Some((ends, Found { returned: true })),
            None => self.given.take().map(|ends| (ends, Found { returned: false })),
        }
    }

    /// For a refused `close`: the ends back where
    /// [`take_for_close`](Self::take_for_close) found them.
    pub(super) fn put_back(&self, ends: T, found: Found) {
        if found.returned { self.returned.put(ends) } else { self.given.put(ends) }
    }

    /// For the root's `reclaim`: whatever ends the client left with the
    /// root, dropped (the driver replaces them).
    pub(super) fn drop_left(&self) {
        let _ = (self.returned.take(), self.given.take());
    }
}

/// The session objects of a driver's `N` session slots, as the kernel
/// names them (object and generation), recorded by the root when it opens
/// a slot's session. A client finds its session's stream ends by the
/// object its session capability designates ([`slot_of`](Self::slot_of)),
/// which the kernel answers, not by anything a server says: a client
/// routed to another server of the service (which could answer anything)
/// finds no slot, and takes no other client's ends.
pub(super) struct SessionObjects<const N: usize>([Cell<CapEntry>; N]);

// SAFETY: the cells are reached only inside `without_interrupts` on the one
// core, so no two threads (or a thread and a handler) see them at once.
unsafe impl<const N: usize> Sync for SessionObjects<N> {}

impl<const N: usize> SessionObjects<N> {
    pub(super) const fn new() -> Self {
        Self([const { Cell::new(CapEntry::Empty) }; N])
    }

    /// For the root: slot `slot`'s session object is `entry`.
    pub(super) fn set(&self, slot: usize, entry: CapEntry) {
        crate::arch::without_interrupts(|| {
            if let Some(cell) = self.0.get(slot) {
                cell.set(entry);
            }
        });
    }

    /// For a client: the slot whose session object `entry` (what its
    /// session capability designates) is.
    pub(super) fn slot_of(&self, entry: CapEntry) -> Option<usize> {
        if !matches!(entry, CapEntry::Object { .. }) {
            return None;
        }
        crate::arch::without_interrupts(|| self.0.iter().position(|cell| cell.get() == entry))
    }
}
