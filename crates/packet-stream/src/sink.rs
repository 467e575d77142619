//! The end that takes submitted packets and acknowledges them.

use core::sync::atomic::Ordering;

use crate::marks::SlotMarks;
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
    /// Slots this end holds a [`SinkPacket`] of, kept here, where the
    /// source cannot write: a slot is taken only if it is not one of them,
    /// whatever the shared slot state says (a hostile source can write
    /// that), and only they count as held when the stream is restarted.
    held: SlotMarks<SLOTS>,
    signals: ToSource<N>,
    rejected: u32,
}

impl<'a, const SLOTS: usize, const QUEUE: usize, N: Notify> Sink<'a, SLOTS, QUEUE, N> {
    pub(crate) fn new(stream: &'a PacketStream<SLOTS, QUEUE>, signals: ToSource<N>) -> Self {
        Self { stream, held: SlotMarks::NONE, signals, rejected: 0 }
    }

    /// Replaces the stream's source end, whose holder is gone, with a new
    /// one and starts the stream afresh as [`Source::restart`] does: both
    /// rings empty and every slot free (and erased) at the new source,
    /// whatever the old one left submitted, acknowledged or held. For a
    /// server whose client was destroyed holding its end (a NIC client's
    /// transmit source): the old end cannot be had back, and its holder
    /// never runs again.
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
        if self.holds_packets() {
            return Err(RestartError::PacketsOut);
        }
        // SAFETY: this end exists, so the stream was split; it holds no
        // packet, and the old source's handles are never used again (the
        // caller's contract).
        unsafe { self.stream.start_afresh() };
        self.forget_rejections();
        Ok(Source::new(self.stream, signals))
    }

    /// Whether this end holds a packet (a [`SinkPacket`] not
    /// acknowledged), by its own record.
    pub(crate) fn holds_packets(&self) -> bool {
        self.held.any()
    }

    /// The stream this end belongs to (for [`crate::Source::restart`]).
    pub(crate) fn stream(&self) -> &'a PacketStream<SLOTS, QUEUE> {
        self.stream
    }

    /// Bytes per slot: the largest packet.
    pub fn slot_size(&self) -> usize {
        self.stream.geometry.slot_size
    }

    /// Descriptors dropped by [`try_take`](Self::try_take)'s checks, since
    /// the stream was split or last started afresh (a restart or a
    /// replaced source counts from zero for the new peer).
    pub fn rejected_descriptors(&self) -> u32 {
        self.rejected
    }

    /// Forgets the last peer's rejected descriptors (the stream starts
    /// afresh).
    pub(crate) fn forget_rejections(&mut self) {
        self.rejected = 0;
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
        // This `Sink` is the submit ring's only consumer (`split` makes
        // one, and this takes `&mut self`).
        // `let else` rather than `ok_or(..)?`: the latter builds the error
        // in a temporary and copies it into the result byte by byte (its
        // padding with it), a call to the unaligned `memcpy` per empty
        // look, which is most of them.
        let Some((descriptor, was_full)) = self.stream.submit.pop() else {
            return Err(ReceiveError::Empty);
        };
        if was_full {
            self.signals.ready_to_submit.notify();
        }
        let slot = match self.stream.geometry.slot_of(descriptor) {
            Ok(slot) => slot,
            Err(reason) => return Err(self.reject(descriptor, reason)),
        };
        let state = &self.stream.states[slot];
        // Acquire: the source's writes to the slot happen before our reads.
        // The state alone is not proof (the source can write it): the slot
        // must also not be one this end holds.
        if self.held.get(slot) || state.load(Ordering::Acquire) != SUBMITTED {
            return Err(self.reject(descriptor, Invalid::NotSubmitted));
        }
        self.held.set(slot, true);
        // Only the sink leaves `SUBMITTED`; the source reads this state only
        // to refuse it, so no ordering is needed.
        state.store(AT_SINK, Ordering::Relaxed);
        // SAFETY: the slot was `SUBMITTED`: the source consumed its handle
        // and gets another only after we acknowledge; we hold none (by our
        // own record, which a second descriptor for it now finds set).
        // `slot_of` checked the bounds and `length <= slot_size`.
        Ok(SinkPacket(unsafe {
            self.stream.handle(slot, descriptor.length as usize, descriptor.tag)
        }))
    }

    /// Gives a packet back to the source, with its (possibly shortened)
    /// length and its tag. A full acknowledgement ring hands it back
    /// ([`Refused::Full`]): wait for "ready to acknowledge" and retry.
    ///
    /// "Acknowledgement available" is left out while the source says it
    /// has a free slot and takes acknowledgements on its own
    /// ([`Source::signal_acknowledgements_when_exhausted`]).
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
        // This `Sink` is the acknowledgement ring's only producer.
        let pushed = self.stream.acknowledge.push(descriptor, || {
            // Release: our writes to the slot happen before the source's
            // reads once it sees the state.
            state.store(ACKNOWLEDGED, Ordering::Release)
        });
        match pushed {
            Ok(became_non_empty) => {
                self.held.set(slot, false);
                // `push` ended with a SeqCst fence after publishing the
                // entry, and the source fences between setting the flag
                // and looking at the ring (`Source::reclaim`): either it
                // finds this entry or this load finds the flag clear.
                if became_non_empty
                    && !self.stream.acknowledgement_signal_off.load(Ordering::Relaxed)
                {
                    self.signals.acknowledgement_available.notify();
                }
                Ok(())
            }
            Err(_) => Err(Refused::Full(packet)),
        }
    }

    /// Gives up a packet that cannot be acknowledged (the acknowledgement
    /// ring stays full: a source that takes no acknowledgements, or one
    /// that makes its ring look full by writing its index). The sink no
    /// longer holds it, so it keeps no restart or replacement of the source
    /// from starting the stream afresh; the source gets the slot back only
    /// then. Dropping the packet instead would leave it held for good. A
    /// packet of another stream is handed back.
    pub fn discard(&mut self, packet: SinkPacket<'a>) -> Result<(), SinkPacket<'a>> {
        let Some(slot) = self.stream.slot_of(&packet.0) else { return Err(packet) };
        self.held.set(slot, false);
        // Left by the sink, as an acknowledgement leaves it, without a
        // descriptor: no handle on the slot is out.
        self.stream.states[slot].store(ACKNOWLEDGED, Ordering::Release);
        Ok(())
    }

    /// Puts a descriptor of the caller's making into the acknowledgement
    /// ring (a full ring hands it back). No slot changes hands: this is
    /// what a confused or hostile sink can do, and the source rejects it
    /// unless it names a slot that is legitimately acknowledged.
    pub fn acknowledge_descriptor(&mut self, descriptor: Descriptor) -> Result<(), Descriptor> {
        let pushed = self.stream.acknowledge.push(descriptor, || {});
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

#[cfg(test)]
mod tests {
    use core::sync::atomic::Ordering;

    use crate::stream::slot_state::{AT_SINK, SUBMITTED};
    use crate::{Descriptor, Invalid, NoNotify, PacketStream, ReceiveError, ToSink, ToSource};

    const SLOT_SIZE: usize = 64;
    const SLOTS: usize = 4;

    /// The slot states lie in memory both ends share: a hostile source can
    /// write them behind the stream's back. A forged `SUBMITTED` does not
    /// give the sink a second handle on a slot it holds, and a forged
    /// `AT_SINK` on a slot it does not hold does not keep the source's
    /// replacement (after the hostile source's holder was destroyed) from
    /// starting the stream afresh.
    #[test]
    fn a_forged_slot_state_gives_the_sink_nothing_twice_and_blocks_no_replacement() {
        let mut stream = PacketStream::<SLOTS, 4>::new();
        let mut buffer = [0u8; SLOTS * SLOT_SIZE];
        let (mut source, mut sink) = stream
            .split(
                &mut buffer,
                SLOT_SIZE,
                ToSink::<NoNotify>::default(),
                ToSource::<NoNotify>::default(),
            )
            .unwrap();
        let states = &sink.stream().states;

        // Slot 0 taken by the sink, then "submitted" again behind its back.
        let packet = source.alloc(8).unwrap();
        source.submit(packet).unwrap();
        let mut taken = sink.try_take().unwrap();
        states[0].store(SUBMITTED, Ordering::Release);
        source.submit_descriptor(Descriptor { offset: 0, length: 8, tag: 0 }).unwrap();
        assert!(
            matches!(
                sink.try_take(),
                Err(ReceiveError::Rejected { reason: Invalid::NotSubmitted, .. })
            ),
            "a second handle on a slot the sink holds"
        );
        taken.payload_mut().fill(0x77);
        sink.acknowledge(taken).unwrap();

        // The hostile source marks slot 1 as held by the sink and is gone.
        states[1].store(AT_SINK, Ordering::Release);
        let _ = source;
        // SAFETY: `source` is never used again.
        let new_source = unsafe { sink.replace_source(ToSink::<NoNotify>::default()) };
        assert_eq!(new_source.map(|source| source.free_slots()).ok(), Some(SLOTS));
    }
}
