//! How one end wakes the other.

/// A wakeup for the other end: the component framework plugs in a kernel
/// signal (a submit on the peer's signal context); host tests use a
/// condition variable. Called only on transitions (a ring going from empty
/// to non-empty or from full to not full), never once per packet in a
/// steady stream. Signals may coalesce: a woken end drains what is there.
pub trait Notify {
    /// Wakes the other end.
    fn notify(&self);
}

impl<T: Notify + ?Sized> Notify for &T {
    fn notify(&self) {
        (**self).notify();
    }
}

/// No wakeup: for an end that polls.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNotify;

impl Notify for NoNotify {
    fn notify(&self) {}
}

/// The signals the source raises at the sink (Genode's "packet avail" and
/// "ready to ack").
#[derive(Debug, Clone, Copy, Default)]
pub struct ToSink<N> {
    /// The submit ring went from empty to non-empty.
    pub packet_available: N,
    /// The acknowledgement ring went from full to not full.
    pub ready_to_acknowledge: N,
}

/// The signals the sink raises at the source (Genode's "ack avail" and
/// "ready to submit").
#[derive(Debug, Clone, Copy, Default)]
pub struct ToSource<N> {
    /// The acknowledgement ring went from empty to non-empty.
    pub acknowledgement_available: N,
    /// The submit ring went from full to not full.
    pub ready_to_submit: N,
}
