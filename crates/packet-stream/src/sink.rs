//! The end that takes submitted packets and acknowledges them.

use core::sync::atomic::Ordering;

use crate::stream::slot_state::{ACKNOWLEDGED, AT_SINK, SUBMITTED};
use crate::{
    Descriptor, Invalid, NoNotify, Notify, PacketStream, ReceiveError, Refused, RestartError,
    SinkPacket, Source, ToSink, ToSource,
};

/// The receiving end of a stream (for a NIC: the driver's transmit side,
/// the client's receive side).
///
/// It trusts nothing in the submit ring: every descriptor is checked against
/// the buffer and the slots' ownership before a view is made, and a bad
/// one is dropped and counted (not acknowledged: an acknowledgement for it
/// would only be rejected by the source, and would let a hostile source
/// fill the acknowledgement ring and stall the sink).
pub struct Sink<'a, const SLOTS: usize, const QUEUE: usize, N = NoNotify> {
    stream: &'a PacketStream<SLOTS, QUEUE>,
    signals: ToSource<N>,
    rejected: u32,
}

impl<'a, const SLOTS: usize, const QUEUE: usize, N: Notify> Sink<'a, SLOTS, QUEUE, N> {
    pub(crate) fn new(stream: &'a PacketStream<SLOTS, QUEUE>, signals: ToSource<N>) -> Self {
        Self { stream, signals, rejected: 0 }
    }

    /// Replaces the stream's source end, whose holder is gone, with a new
    /// one and starts the stream afresh as [`Source::restart`] does: both
    /// rings empty and every slot free at the new source, whatever the old
    /// one left submitted, acknowledged or held. For a server whose client
    /// was destroyed holding its end (a NIC client's transmit source): the
    /// old end cannot be had back, and its holder never runs again.
    ///
    /// Refused ([`RestartError::PacketsOut`]), changing nothing, while
    /// this end holds a packet (a [`SinkPacket`] not acknowledged): that
    /// one is still in use.
    ///
    /// # Safety
    ///
    /// The stream's current source end, and every packet handle it gave
    /// out, are never used again (their holder was destroyed, or they are
    /// leaked): the stream has one source from here on, and the slots they
    /// viewed are the new source's to lend again.
    pub unsafe fn replace_source<M: Notify>(
        &mut self,
        signals: ToSink<M>,
    ) -> Result<Source<'a, SLOTS, QUEUE, M>, RestartError> {
        if self.stream.sink_holds_packets() {
            return Err(RestartError::PacketsOut);
        }
        self.stream.clear();
        Ok(Source::new(self.stream, signals))
    }

    /// The stream this end belongs to (for [`crate::Source::restart`]).
    pub(crate) fn stream(&self) -> &'a PacketStream<SLOTS, QUEUE> {
        self.stream
    }

    /// Bytes per slot: the largest packet.
    pub fn slot_size(&self) -> usize {
        self.stream.geometry.slot_size
    }

    /// Descriptors dropped by [`try_take`](Self::try_take)'s checks.
    pub fn rejected_descriptors(&self) -> u32 {
        self.rejected
    }

    /// Descriptors waiting in the submit ring (a snapshot).
    pub fn pending(&self) -> usize {
        self.stream.submit.len()
    }

    /// The next submitted packet, checked: it lies inside the buffer within
    /// one slot, and that slot was submitted and not yet taken. Otherwise
    /// the descriptor is dropped, counted and returned in the error; take
    /// the next one.
    pub fn try_take(&mut self) -> Result<SinkPacket<'a>, ReceiveError> {
        // SAFETY: this `Sink` is the submit ring's only consumer (`split`
        // makes one, and this takes `&mut self`).
        let (descriptor, was_full) =
            unsafe { self.stream.submit.pop() }.ok_or(ReceiveError::Empty)?;
        if was_full {
            self.signals.ready_to_submit.notify();
        }
        let slot = match self.stream.geometry.slot_of(descriptor) {
            Ok(slot) => slot,
            Err(reason) => return Err(self.reject(descriptor, reason)),
        };
        let state = &self.stream.states[slot];
        // Acquire: the source's writes to the slot happen before our reads.
        if state.load(Ordering::Acquire) != SUBMITTED {
            return Err(self.reject(descriptor, Invalid::NotSubmitted));
        }
        // Only the sink leaves `SUBMITTED`; the source reads this state only
        // to refuse it, so no ordering is needed.
        state.store(AT_SINK, Ordering::Relaxed);
        // SAFETY: the slot was `SUBMITTED`: the source consumed its handle
        // and gets another only after we acknowledge; we hold none (a second
        // descriptor for it now finds `AT_SINK`). `slot_of` checked the
        // bounds and `length <= slot_size`.
        Ok(SinkPacket(unsafe {
            self.stream.handle(slot, descriptor.length as usize, descriptor.tag)
        }))
    }

    /// Gives a packet back to the source, with its (possibly shortened)
    /// length and its tag. A full acknowledgement ring hands it back
    /// ([`Refused::Full`]): wait for "ready to acknowledge" and retry.
    pub fn acknowledge(&mut self, packet: SinkPacket<'a>) -> Result<(), Refused<SinkPacket<'a>>> {
        let Some(slot) = self.stream.slot_of(&packet.0) else {
            return Err(Refused::Foreign(packet));
        };
        let descriptor = Descriptor {
            offset: self.stream.geometry.offset_of(slot),
            length: packet.0.length as u32,
            tag: packet.0.tag,
        };
        let state = &self.stream.states[slot];
        // SAFETY: this `Sink` is the acknowledgement ring's only producer.
        let pushed = unsafe {
            self.stream.acknowledge.push(descriptor, || {
                // Release: our writes to the slot happen before the source's
                // reads once it sees the state.
                state.store(ACKNOWLEDGED, Ordering::Release)
            })
        };
        match pushed {
            Ok(became_non_empty) => {
                if became_non_empty {
                    self.signals.acknowledgement_available.notify();
                }
                Ok(())
            }
            Err(_) => Err(Refused::Full(packet)),
        }
    }

    /// Puts a descriptor of the caller's making into the acknowledgement
    /// ring (a full ring hands it back). No slot changes hands: this is
    /// what a confused or hostile sink can do, and the source rejects it
    /// unless it names a slot that is legitimately acknowledged.
    pub fn acknowledge_descriptor(&mut self, descriptor: Descriptor) -> Result<(), Descriptor> {
        // SAFETY: the only producer, as in `acknowledge`.
        let pushed = unsafe { self.stream.acknowledge.push(descriptor, || {}) };
        if pushed? {
            self.signals.acknowledgement_available.notify();
        }
        Ok(())
    }

    fn reject(&mut self, descriptor: Descriptor, reason: Invalid) -> ReceiveError {
        self.rejected = self.rejected.saturating_add(1);
        ReceiveError::Rejected { descriptor, reason }
    }
}
