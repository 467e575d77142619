//! The end that allocates packets, submits them and gets them back.

use core::sync::atomic::{Ordering, fence};

use crate::marks::SlotMarks;
use crate::stream::slot_state::{ACKNOWLEDGED, AT_SOURCE, SUBMITTED};
use crate::{
    AllocError, Descriptor, Invalid, NoNotify, Notify, PacketStream, ReceiveError, Refused,
    RestartError, Sink, SourcePacket, ToSink, ToSource,
};

/// The submitting end of a stream (for a NIC: the client's transmit side,
/// the driver's receive side).
///
/// It owns the allocator of the buffer: a free list of equal slots. Packets
/// of one kind (Ethernet frames up to the MTU, disk blocks) all fit one slot
/// size, so a stack of free slot numbers allocates and frees in O(1), never
/// fragments, and cannot be corrupted by lengths the sink reports; a slot
/// freed last is reused first, while it is still in the cache.
pub struct Source<'a, const SLOTS: usize, const QUEUE: usize, N = NoNotify> {
    stream: &'a PacketStream<SLOTS, QUEUE>,
    /// Free slot numbers; the top is `free[free_count - 1]`.
    free: [u16; SLOTS],
    free_count: usize,
    /// Slots this end submitted and has not had back, kept here, where the
    /// sink cannot write: an acknowledgement is taken only for one of them,
    /// whatever the shared slot state says (a hostile sink can write that).
    in_flight: SlotMarks<SLOTS>,
    signals: ToSink<N>,
    rejected: u32,
    /// Whether this end wants "acknowledgement available" only while it
    /// has no free slot ([`Self::signal_acknowledgements_when_exhausted`]).
    /// A byte, not a `bool`, for the reason [`SlotMarks`] gives: an
    /// `Option` of an end in a `static` stays in `.bss`.
    lazy: u8,
    /// What this end last stored in the stream's
    /// `acknowledgement_signal_off` (which the sink can write: never read
    /// back); a byte, as `lazy` is.
    signal_off: u8,
}

impl<'a, const SLOTS: usize, const QUEUE: usize, N: Notify> Source<'a, SLOTS, QUEUE, N> {
    pub(crate) fn new(stream: &'a PacketStream<SLOTS, QUEUE>, signals: ToSink<N>) -> Self {
        let mut source = Self {
            stream,
            free: [0; SLOTS],
            free_count: 0,
            in_flight: SlotMarks::NONE,
            signals,
            rejected: 0,
            lazy: 0,
            signal_off: 0,
        };
        source.free_every_slot();
        source
    }

    /// Puts every slot on the free list, slot 0 on top: allocation starts
    /// at the buffer's beginning.
    fn free_every_slot(&mut self) {
        let slot_count = self.stream.geometry.slot_count;
        for (index, entry) in self.free[..slot_count].iter_mut().enumerate() {
            *entry = (slot_count - 1 - index) as u16;
        }
        self.free_count = slot_count;
        self.in_flight = SlotMarks::NONE;
        // The stream's flag was cleared with it (`PacketStream::clear`).
        self.lazy = 0;
        self.signal_off = 0;
    }

    /// With `true`, the sink leaves out "acknowledgement available" while
    /// this end has a free slot: for a source that takes acknowledgements
    /// when it needs slots (a NIC's ends: a driver about to receive, a
    /// client about to send), for which each would be a wakeup with
    /// nothing to do. It then calls [`reclaim`](Self::reclaim) before it
    /// waits for an acknowledgement, and waits only if that leaves it
    /// without a free slot: `reclaim` asks for the signal again then (and
    /// looks once more, so none is lost). With `false` (the default, and
    /// after a restart) every transition is signalled.
    pub fn signal_acknowledgements_when_exhausted(&mut self, lazy: bool) {
        self.lazy = u8::from(lazy);
        if !lazy {
            self.set_signal_off(false);
        }
    }

    /// Stores whether the sink may leave out "acknowledgement available"
    /// (only a change: the flag is shared memory).
    fn set_signal_off(&mut self, off: bool) {
        if self.signal_off != u8::from(off) {
            self.stream.acknowledgement_signal_off.store(off, Ordering::Relaxed);
            self.signal_off = u8::from(off);
        }
    }

    /// Bytes per slot: the largest packet.
    pub fn slot_size(&self) -> usize {
        self.stream.geometry.slot_size
    }

    /// Slots not in flight and not held by a packet handle.
    pub fn free_slots(&self) -> usize {
        self.free_count
    }

    /// Acknowledgements the sink sent that were rejected (see
    /// [`get_acknowledged`](Self::get_acknowledged)), since the stream was
    /// split or last started afresh (a restart or a replaced sink counts
    /// from zero for the new peer).
    pub fn rejected_acknowledgements(&self) -> u32 {
        self.rejected
    }

    /// A free slot as a packet of `length` bytes (its bytes are whatever the
    /// slot last held).
    pub fn alloc(&mut self, length: usize) -> Result<SourcePacket<'a>, AllocError> {
        if length > self.slot_size() {
            return Err(AllocError::TooLong);
        }
        if self.free_count == 0 {
            return Err(AllocError::Exhausted);
        }
        self.free_count -= 1;
        let slot = usize::from(self.free[self.free_count]);
        // SAFETY: a free slot is `AT_SOURCE` and has no handle (the free
        // list holds each slot at most once, and a slot enters it only when
        // its handle is consumed); it leaves the free list here.
        Ok(SourcePacket(unsafe { self.stream.handle(slot, length, 0) }))
    }

    /// Gives a packet's slot back to the allocator without submitting it.
    /// A packet of another stream is handed back.
    pub fn release(&mut self, packet: SourcePacket<'a>) -> Result<(), SourcePacket<'a>> {
        let Some(slot) = self.stream.slot_of(&packet.0) else { return Err(packet) };
        self.free[self.free_count] = slot as u16;
        self.free_count += 1;
        Ok(())
    }

    /// Hands a packet to the sink. A full submit ring hands it back
    /// ([`Refused::Full`]): wait for "ready to submit" (draining
    /// acknowledgements meanwhile) and submit it again.
    pub fn submit(&mut self, packet: SourcePacket<'a>) -> Result<(), Refused<SourcePacket<'a>>> {
        let Some(slot) = self.stream.slot_of(&packet.0) else {
            return Err(Refused::Foreign(packet));
        };
        let descriptor = Descriptor {
            offset: self.stream.geometry.offset_of(slot),
            length: packet.0.length as u32,
            tag: packet.0.tag,
        };
        let state = &self.stream.states[slot];
        // This `Source` is the submit ring's only producer (`split` makes
        // one, and this takes `&mut self`).
        let pushed = self.stream.submit.push(descriptor, || {
            // The slot changes hands only once the push cannot fail; the
            // Release orders our writes to it before the sink's reads.
            state.store(SUBMITTED, Ordering::Release)
        });
        match pushed {
            Ok(became_non_empty) => {
                self.in_flight.set(slot, true);
                if became_non_empty {
                    self.signals.packet_available.notify();
                }
                Ok(())
            }
            Err(_) => Err(Refused::Full(packet)),
        }
    }

    /// Puts a descriptor of the caller's making into the submit ring (a
    /// full ring hands it back). No slot changes hands: this is what a
    /// confused or hostile source can do, and the sink's checks reject it
    /// unless it names a slot that is legitimately submitted (which then
    /// harms only this source's own packet).
    pub fn submit_descriptor(&mut self, descriptor: Descriptor) -> Result<(), Descriptor> {
        let pushed = self.stream.submit.push(descriptor, || {});
        if pushed? {
            self.signals.packet_available.notify();
        }
        Ok(())
    }

    /// The next acknowledged packet, back in the source's hands with the
    /// length and tag the sink acknowledged it with (for a read request,
    /// the data the sink wrote). Submit it again or release it.
    ///
    /// An acknowledgement is checked, never trusted: one outside the buffer,
    /// across slots, or for a slot the sink does not hold acknowledged (a
    /// second acknowledgement, an invented one) is dropped and counted.
    pub fn get_acknowledged(&mut self) -> Result<SourcePacket<'a>, ReceiveError> {
        // This `Source` is the acknowledgement ring's only consumer.
        // Not `ok_or(..)?`: see `Sink::try_take`.
        let Some((descriptor, was_full)) = self.stream.acknowledge.pop() else {
            return Err(ReceiveError::Empty);
        };
        if was_full {
            self.signals.ready_to_acknowledge.notify();
        }
        let slot = match self.stream.geometry.slot_of(descriptor) {
            Ok(slot) => slot,
            Err(reason) => return Err(self.reject(descriptor, reason)),
        };
        let state = &self.stream.states[slot];
        // Acquire: the sink's writes to the slot happen before our reads.
        // The state alone is not proof (the sink can write it): the slot
        // must also be one this end submitted and has not had back.
        if !self.in_flight.get(slot) || state.load(Ordering::Acquire) != ACKNOWLEDGED {
            return Err(self.reject(descriptor, Invalid::NotOutstanding));
        }
        self.in_flight.set(slot, false);
        // Only the source leaves `ACKNOWLEDGED`; the sink reads this state
        // only to refuse it, so no ordering is needed.
        state.store(AT_SOURCE, Ordering::Relaxed);
        // SAFETY: the slot was `ACKNOWLEDGED`: the sink consumed its handle
        // and cannot get another until we submit it again; we hold none
        // (ours was consumed by `submit`, and by our own record the slot
        // was in flight, not free or held). `slot_of` checked the bounds and
        // `length <= slot_size`.
        Ok(SourcePacket(unsafe {
            self.stream.handle(slot, descriptor.length as usize, descriptor.tag)
        }))
    }

    /// [`reclaim`](Self::reclaim), but only when no slot is free: for an
    /// end that takes acknowledgements when it needs a slot. While one is
    /// free they can wait in their ring (which holds one for every slot),
    /// and one look when the slots run out is cheaper than one per packet.
    /// Returns how many were freed.
    pub fn reclaim_if_exhausted(&mut self) -> usize {
        if self.free_count == 0 { self.reclaim() } else { 0 }
    }

    /// Takes every acknowledgement waiting and frees its slot; returns how
    /// many were freed (rejected ones are counted in
    /// [`rejected_acknowledgements`](Self::rejected_acknowledgements)).
    ///
    /// An end that wants "acknowledgement available" only when exhausted
    /// ([`signal_acknowledgements_when_exhausted`](Self::signal_acknowledgements_when_exhausted))
    /// asks for it here when no slot is free afterwards, and takes what
    /// came meanwhile; it tells the sink to leave it out again once a slot
    /// is free.
    pub fn reclaim(&mut self) -> usize {
        let mut freed = self.drain_acknowledgements();
        if self.lazy != 0 {
            if self.free_count == 0 {
                self.set_signal_off(false);
                // The store-buffer pattern (see `ring`): the sink publishes
                // an entry, fences and loads the flag; this end stores the
                // flag, fences and looks at the ring. Either the sink
                // signals or this look finds its entry.
                fence(Ordering::SeqCst);
                freed += self.drain_acknowledgements();
            }
            if self.free_count > 0 {
                self.set_signal_off(true);
            }
        }
        freed
    }

    /// [`reclaim`](Self::reclaim)'s taking of the acknowledgements.
    fn drain_acknowledgements(&mut self) -> usize {
        let mut freed = 0;
        loop {
            match self.get_acknowledged() {
                Ok(packet) => {
                    // Ours by construction: `get_acknowledged` made it.
                    let _ = self.release(packet);
                    freed += 1;
                }
                Err(ReceiveError::Rejected { .. }) => {}
                Err(ReceiveError::Empty) => return freed,
            }
        }
    }

    /// Starts the stream afresh with its `sink`: both rings empty, every
    /// slot free at this end, as [`PacketStream::split`] left them, and
    /// erased (zero: a new peer reads nothing the last one left); the
    /// descriptors still in the rings are dropped, their slots come back.
    /// For a stream whose peer is replaced (a session closed and opened
    /// again) without giving the `&mut` stream back: holding both ends
    /// exclusively is the proof that no one else uses the rings.
    ///
    /// Refused, changing nothing, if `sink` is another stream's end or if
    /// a packet handle is still out: a slot held by a [`SinkPacket`] (by
    /// the sink's own record), or a slot neither in flight nor on the free
    /// list (a [`SourcePacket`](crate::SourcePacket) not submitted or
    /// released).
    ///
    /// [`SinkPacket`]: crate::SinkPacket
    pub fn restart<M: Notify>(
        &mut self,
        sink: &mut Sink<'a, SLOTS, QUEUE, M>,
    ) -> Result<(), RestartError> {
        if !core::ptr::eq(self.stream, sink.stream()) {
            return Err(RestartError::ForeignSink);
        }
        if self.holds_packets() || sink.holds_packets() {
            return Err(RestartError::PacketsOut);
        }
        self.start_afresh();
        sink.forget_rejections();
        Ok(())
    }

    /// Replaces the stream's sink end, whose holder is gone, with a new
    /// one and starts the stream afresh as [`Source::restart`] does: both
    /// rings empty and every slot free (and erased) at this end, whatever
    /// the old sink left taken or acknowledged. For a server whose client was destroyed
    /// holding its end (a NIC client's receive sink): the old end cannot
    /// be had back, and its holder never runs again.
    ///
    /// Refused ([`RestartError::PacketsOut`]), changing nothing, while
    /// this end holds a packet (a [`SourcePacket`](crate::SourcePacket)
    /// neither submitted nor released): that one is still in use.
    ///
    /// # Safety
    ///
    /// The stream's current sink end, and every packet handle it gave
    /// out, are never used again (their holder was destroyed, or they are
    /// leaked): the stream has one sink from here on, and the slots they
    /// viewed are this end's to lend again.
    pub unsafe fn replace_sink<M: Notify>(
        &mut self,
        signals: ToSource<M>,
    ) -> Result<Sink<'a, SLOTS, QUEUE, M>, RestartError> {
        if self.holds_packets() {
            return Err(RestartError::PacketsOut);
        }
        self.start_afresh();
        Ok(Sink::new(self.stream, signals))
    }

    /// Whether a packet handle of this end is out: a slot neither in
    /// flight nor on the free list (a [`SourcePacket`] neither submitted
    /// nor released). Decided from this end's own records, not from the
    /// shared slot states, which the sink can write.
    fn holds_packets(&self) -> bool {
        let free = &self.free[..self.free_count];
        (0..self.stream.geometry.slot_count)
            .any(|slot| !self.in_flight.get(slot) && !free.contains(&(slot as u16)))
    }

    /// Both rings empty, every slot free at this end and erased (see
    /// [`PacketStream::start_afresh`]). Only once no packet handle is used
    /// any more (the callers check this end's and, for a restart, the
    /// sink's; a replaced sink's are never used again).
    fn start_afresh(&mut self) {
        // SAFETY: the ends exist, so the stream was split; no handle is
        // used from here on (see above).
        unsafe { self.stream.start_afresh() };
        self.free_every_slot();
        self.rejected = 0;
    }

    fn reject(&mut self, descriptor: Descriptor, reason: Invalid) -> ReceiveError {
        self.rejected = self.rejected.saturating_add(1);
        ReceiveError::Rejected { descriptor, reason }
    }
}

#[cfg(test)]
mod tests {
    use core::sync::atomic::Ordering;

    use crate::stream::slot_state::ACKNOWLEDGED;
    use crate::{
        Descriptor, Invalid, NoNotify, PacketStream, ReceiveError, RestartError, ToSink, ToSource,
    };

    const SLOT_SIZE: usize = 64;
    const SLOTS: usize = 4;

    /// The slot states lie in memory both ends share: a hostile sink can
    /// write them behind the stream's back, as it can write a ring index.
    /// An acknowledgement of a slot this source did not submit is refused
    /// whatever the state says: taking it would free a free slot a second
    /// time (past the end of the free list) or make a second handle on a
    /// slot the source holds. Nor does a forged state hide a held packet
    /// from `restart`.
    #[test]
    fn a_forged_slot_state_frees_nothing_the_source_did_not_submit() {
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
        let slot_0 = Descriptor { offset: 0, length: 8, tag: 0 };

        // Every slot free: a forged acknowledgement of slot 0.
        states[0].store(ACKNOWLEDGED, Ordering::Release);
        sink.acknowledge_descriptor(slot_0).unwrap();
        assert_eq!(source.reclaim(), 0, "slot 0 was free already");
        assert_eq!(source.free_slots(), SLOTS);

        // Slot 0 held by the source (allocated first): no second handle.
        let mut held = source.alloc(SLOT_SIZE).unwrap();
        states[0].store(ACKNOWLEDGED, Ordering::Release);
        sink.acknowledge_descriptor(slot_0).unwrap();
        assert!(matches!(
            source.get_acknowledged(),
            Err(ReceiveError::Rejected { reason: Invalid::NotOutstanding, .. })
        ));
        assert_eq!(source.restart(&mut sink), Err(RestartError::PacketsOut), "slot 0 is held");
        held.payload_mut().fill(0x66);
        assert_eq!(source.rejected_acknowledgements(), 2);
        assert_eq!(source.free_slots(), SLOTS - 1);
    }
}
