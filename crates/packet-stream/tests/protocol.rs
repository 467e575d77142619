//! The protocol step by step, on one thread: back-pressure, reuse, signals
//! on transitions, and every kind of malformed descriptor on both rings.

mod common;

use common::Counter;
use ferrode_packet_stream::{
    AllocError, ConfigError, Descriptor, Invalid, NoNotify, PacketStream, ReceiveError, Refused,
    RestartError, Sink, SinkPacket, Source, SourcePacket, ToSink, ToSource,
};

const SLOT_SIZE: usize = 64;
const SLOTS: usize = 8;
const QUEUE: usize = 4;
const BULK: u32 = (SLOTS * SLOT_SIZE) as u32;

type Ends<'a> = (Source<'a, SLOTS, QUEUE, &'a Counter>, Sink<'a, SLOTS, QUEUE, &'a Counter>);

struct Signals {
    packet_available: Counter,
    ready_to_acknowledge: Counter,
    acknowledgement_available: Counter,
    ready_to_submit: Counter,
}

impl Signals {
    fn new() -> Self {
        Self {
            packet_available: Counter::default(),
            ready_to_acknowledge: Counter::default(),
            acknowledgement_available: Counter::default(),
            ready_to_submit: Counter::default(),
        }
    }

    fn split<'a>(
        &'a self,
        stream: &'a mut PacketStream<SLOTS, QUEUE>,
        buffer: &'a mut [u8],
    ) -> Ends<'a> {
        stream.split(buffer, SLOT_SIZE, self.to_sink(), self.to_source()).unwrap()
    }

    /// The signals a source raises (for a new source end too).
    fn to_sink(&self) -> ToSink<&Counter> {
        ToSink {
            packet_available: &self.packet_available,
            ready_to_acknowledge: &self.ready_to_acknowledge,
        }
    }

    /// The signals a sink raises (for a new sink end too).
    fn to_source(&self) -> ToSource<&Counter> {
        ToSource {
            acknowledgement_available: &self.acknowledgement_available,
            ready_to_submit: &self.ready_to_submit,
        }
    }
}

fn descriptor(offset: u32, length: u32) -> Descriptor {
    Descriptor { offset, length, tag: 0 }
}

/// Submits a packet of `length` bytes filled with `byte`; returns its offset.
fn send(source: &mut Source<'_, SLOTS, QUEUE, &Counter>, length: usize, byte: u8) -> usize {
    let mut packet = source.alloc(length).unwrap();
    packet.payload_mut().fill(byte);
    let address = packet.payload().as_ptr() as usize;
    source.submit(packet).unwrap();
    address
}

/// One packet of 8 bytes through the stream: submitted, taken by the sink
/// and acknowledged (not reclaimed).
fn round_trip(
    source: &mut Source<'_, SLOTS, QUEUE, &Counter>,
    sink: &mut Sink<'_, SLOTS, QUEUE, &Counter>,
) {
    send(source, 8, 1);
    let packet = sink.try_take().unwrap();
    sink.acknowledge(packet).unwrap();
}

fn rejected(result: Result<impl std::fmt::Debug, ReceiveError>) -> Invalid {
    match result {
        Err(ReceiveError::Rejected { reason, .. }) => reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// A source that takes acknowledgements on its own while it has a free
/// slot is not signalled for them then; once `reclaim` leaves it none, the
/// next acknowledgement signals it, also one that came before it asked
/// (found by its second look). A restart signals every transition again.
#[test]
fn a_source_is_signalled_for_acknowledgements_only_when_exhausted_if_it_asks() {
    let signals = Signals::new();
    let mut stream = PacketStream::<SLOTS, QUEUE>::new();
    let mut buffer = [0u8; SLOTS * SLOT_SIZE];
    let (mut source, mut sink) = signals.split(&mut stream, &mut buffer);
    let acknowledgements = || signals.acknowledgement_available.get();
    source.signal_acknowledgements_when_exhausted(true);

    // Not asked for before the first reclaim, nor while slots are free.
    round_trip(&mut source, &mut sink);
    assert_eq!(acknowledgements(), 1, "signalled until the source said otherwise");
    assert_eq!(source.reclaim(), 1);
    round_trip(&mut source, &mut sink);
    assert_eq!(source.reclaim(), 1);
    assert_eq!(acknowledgements(), 1, "a slot was free: no signal");

    // Every slot in flight, QUEUE of them taken by the sink, none back yet.
    for _ in 0..QUEUE {
        send(&mut source, 8, 2);
    }
    let mut taken: Vec<_> = (0..QUEUE).map(|_| sink.try_take().unwrap()).collect();
    for _ in QUEUE..SLOTS {
        send(&mut source, 8, 3);
    }
    assert_eq!(source.reclaim(), 0);
    assert_eq!(source.free_slots(), 0, "exhausted: the source asks for the signal");
    sink.acknowledge(taken.pop().unwrap()).unwrap();
    assert_eq!(acknowledgements(), 2, "the exhausted source is woken");
    sink.acknowledge(taken.pop().unwrap()).unwrap();
    assert_eq!(acknowledgements(), 2, "no transition, no signal");
    assert_eq!(source.reclaim_if_exhausted(), 2, "out of slots: taken");
    sink.acknowledge(taken.pop().unwrap()).unwrap();
    assert_eq!(acknowledgements(), 2, "slots free again: left out");
    assert_eq!(source.reclaim_if_exhausted(), 0, "a slot is free: the acknowledgement waits");

    // An acknowledgement that came just before the source found itself
    // exhausted (it had not looked yet) is taken by its second look.
    assert_eq!(source.reclaim(), 1);
    let mut held: Vec<_> = (0..source.free_slots()).map(|_| source.alloc(8).unwrap()).collect();
    sink.acknowledge(taken.pop().unwrap()).unwrap();
    assert_eq!(acknowledgements(), 2);
    assert_eq!(source.reclaim(), 1, "taken, so there is no wakeup to wait for");
    for packet in held.drain(..) {
        source.release(packet).unwrap();
    }

    // Drained and restarted: every transition is signalled again.
    while let Ok(packet) = sink.try_take() {
        sink.acknowledge(packet).unwrap();
    }
    source.reclaim();
    source.restart(&mut sink).unwrap();
    round_trip(&mut source, &mut sink);
    assert_eq!(source.reclaim(), 1);
    round_trip(&mut source, &mut sink);
    assert!(acknowledgements() > 2, "signalled after the restart");
}

/// A source that asked to be signalled only when exhausted and then stops
/// asking (it will wait for acknowledgements with slots free) is
/// signalled for every acknowledgement again from then on, not only after
/// a restart.
#[test]
fn a_source_that_stops_asking_is_signalled_for_every_acknowledgement_again() {
    let signals = Signals::new();
    let mut stream = PacketStream::<SLOTS, QUEUE>::new();
    let mut buffer = [0u8; SLOTS * SLOT_SIZE];
    let (mut source, mut sink) = signals.split(&mut stream, &mut buffer);
    // Each packet is reclaimed at once: the source never runs out.
    let mut round_trip_reclaimed = |source: &mut Source<'_, SLOTS, QUEUE, &Counter>| {
        round_trip(source, &mut sink);
        assert_eq!(source.reclaim(), 1);
    };
    source.signal_acknowledgements_when_exhausted(true);
    round_trip_reclaimed(&mut source); // signalled: the source had not reclaimed yet
    round_trip_reclaimed(&mut source);
    assert_eq!(signals.acknowledgement_available.get(), 1, "a slot was free: left out");

    source.signal_acknowledgements_when_exhausted(false);
    round_trip_reclaimed(&mut source);
    assert_eq!(signals.acknowledgement_available.get(), 2, "signalled again");
    round_trip_reclaimed(&mut source);
    assert_eq!(signals.acknowledgement_available.get(), 3, "on every transition");
}

#[test]
fn a_full_submit_ring_hands_the_packet_back_and_signals_when_there_is_room() {
    let signals = Signals::new();
    let (mut stream, mut buffer) = (PacketStream::new(), [0u8; SLOTS * SLOT_SIZE]);
    let (mut source, mut sink) = signals.split(&mut stream, &mut buffer);
    for byte in 0..QUEUE as u8 {
        send(&mut source, 10, byte);
    }
    assert_eq!(signals.packet_available.get(), 1, "only the empty to non-empty transition");
    let mut extra = source.alloc(10).unwrap();
    extra.payload_mut().fill(0xee);
    let extra = match source.submit(extra) {
        Err(Refused::Full(packet)) => packet,
        other => panic!("expected back-pressure, got {other:?}"),
    };
    assert_eq!(extra.payload(), &[0xee; 10], "handed back intact");
    assert_eq!(signals.ready_to_submit.get(), 0);

    let first = sink.try_take().unwrap();
    assert_eq!(first.payload(), &[0; 10]);
    assert_eq!(signals.ready_to_submit.get(), 1, "full to not full wakes the source");
    source.submit(extra).unwrap();
    assert_eq!(signals.packet_available.get(), 1, "the ring never became empty");
    sink.acknowledge(first).unwrap();
    for byte in [1, 2, 3, 0xee] {
        let packet = sink.try_take().unwrap();
        assert_eq!(packet.payload(), &[byte; 10], "in order");
        sink.acknowledge(packet).unwrap_or_else(|refused| {
            // The acknowledgement ring (4) fills too: the source drains it.
            assert!(matches!(refused, Refused::Full(_)));
            assert_eq!(source.reclaim(), QUEUE);
            assert_eq!(signals.ready_to_acknowledge.get(), 1);
            sink.acknowledge(refused.into_packet()).unwrap();
        });
    }
    assert_eq!(sink.try_take().unwrap_err(), ReceiveError::Empty);
    assert_eq!(source.reclaim(), 1);
    assert_eq!(source.free_slots(), SLOTS);
    assert_eq!(signals.acknowledgement_available.get(), 2, "once per empty to non-empty");
}

#[test]
fn slots_come_back_only_through_acknowledgements_and_are_reused() {
    let signals = Signals::new();
    let (mut stream, mut buffer) = (PacketStream::new(), [0u8; SLOTS * SLOT_SIZE]);
    let (mut source, mut sink) = signals.split(&mut stream, &mut buffer);
    let mut held = Vec::new();
    while let Ok(packet) = source.alloc(SLOT_SIZE) {
        held.push(packet);
    }
    assert_eq!(held.len(), SLOTS);
    assert_eq!(source.alloc(1).unwrap_err(), AllocError::Exhausted);
    assert_eq!(source.alloc(SLOT_SIZE + 1).unwrap_err(), AllocError::TooLong);
    let first = held.remove(0);
    let address = first.payload().as_ptr();
    source.submit(first).unwrap();
    assert_eq!(source.alloc(1).unwrap_err(), AllocError::Exhausted, "submitted is not free");
    let mut taken = sink.try_take().unwrap();
    taken.payload_mut()[0] = 0x42; // a read request: the sink writes the answer
    taken.set_len(1).unwrap();
    assert_eq!(taken.set_len(2), Err(1), "a sink cannot lengthen a packet");
    taken.set_tag(7);
    sink.acknowledge(taken).unwrap();
    assert_eq!(source.alloc(1).unwrap_err(), AllocError::Exhausted, "not until taken back");
    let answer = source.get_acknowledged().unwrap();
    assert_eq!((answer.payload(), answer.tag()), (&[0x42][..], 7));
    assert_eq!(answer.payload().as_ptr(), address);
    source.release(answer).unwrap();
    assert_eq!(source.alloc(5).unwrap().payload().as_ptr(), address, "the same slot again");
}

/// Both ends know the slot size, and a source packet can grow to it and
/// no further.
#[test]
fn a_source_packet_grows_to_the_slot_size_and_no_further() {
    let signals = Signals::new();
    let (mut stream, mut buffer) = (PacketStream::new(), [0u8; SLOTS * SLOT_SIZE + 10]);
    let (mut source, mut sink) = signals.split(&mut stream, &mut buffer);
    assert_eq!((source.slot_size(), sink.slot_size()), (SLOT_SIZE, SLOT_SIZE));
    let mut packet = source.alloc(1).unwrap();
    assert_eq!(packet.capacity(), SLOT_SIZE);
    assert_eq!(packet.set_len(SLOT_SIZE + 1), Err(SLOT_SIZE), "the capacity as the error");
    assert_eq!(packet.set_len(packet.capacity()), Ok(()));
    packet.payload_mut().fill(0x5a);
    source.submit(packet).unwrap();
    assert_eq!(sink.try_take().unwrap().payload(), &[0x5a; SLOT_SIZE]);
}

#[test]
fn malformed_submissions_are_rejected_without_harm() {
    let signals = Signals::new();
    let (mut stream, mut buffer) = (PacketStream::new(), [0u8; SLOTS * SLOT_SIZE]);
    let base = buffer.as_ptr() as usize;
    let (mut source, mut sink) = signals.split(&mut stream, &mut buffer);

    let cases = [
        (descriptor(BULK, 1), Invalid::OutOfBounds),
        (descriptor(BULK - 64, 65), Invalid::OutOfBounds),
        (descriptor(u32::MAX - 3, 0), Invalid::OutOfBounds),
        (descriptor(u32::MAX - 3, 8), Invalid::OffsetOverflow),
        (descriptor(3, 8), Invalid::Misaligned),
        (descriptor(0, 65), Invalid::TooLong),
        (descriptor(0, 0), Invalid::NotSubmitted), // a free slot
    ];
    for (bad, reason) in cases {
        source.submit_descriptor(bad).unwrap();
        assert_eq!(rejected(sink.try_take()), reason, "{bad:?}");
    }
    // A slot the source holds (writing into it) is not the sink's to view.
    let mut held = source.alloc(SLOT_SIZE).unwrap();
    let held_offset = (held.payload().as_ptr() as usize - base) as u32;
    source.submit_descriptor(descriptor(held_offset, 16)).unwrap();
    assert_eq!(rejected(sink.try_take()), Invalid::NotSubmitted);
    held.payload_mut().fill(0x11);

    // A genuine packet followed by a duplicate of its descriptor: the first
    // is taken, the second refused while the sink holds the slot.
    let offset = (send(&mut source, 20, 0x22) - base) as u32;
    source.submit_descriptor(descriptor(offset, 20)).unwrap();
    let genuine = sink.try_take().unwrap();
    assert_eq!(rejected(sink.try_take()), Invalid::NotSubmitted, "a duplicate");
    assert_eq!(genuine.payload(), &[0x22; 20]);
    sink.acknowledge(genuine).unwrap();
    // ... and again once acknowledged but not yet taken back by the source.
    source.submit_descriptor(descriptor(offset, 20)).unwrap();
    assert_eq!(rejected(sink.try_take()), Invalid::NotSubmitted);

    assert_eq!(sink.rejected_descriptors(), cases.len() as u32 + 3);
    // The stream goes on: data intact, every slot accounted for.
    source.submit(held).unwrap();
    assert_eq!(sink.try_take().unwrap().payload(), &[0x11; SLOT_SIZE]);
    assert_eq!(source.reclaim(), 1);
    assert_eq!(source.free_slots(), SLOTS - 1, "one slot still at the sink");
}

#[test]
fn forged_acknowledgements_are_rejected_without_harm() {
    let signals = Signals::new();
    let (mut stream, mut buffer) = (PacketStream::new(), [0u8; SLOTS * SLOT_SIZE]);
    let base = buffer.as_ptr() as usize;
    let (mut source, mut sink) = signals.split(&mut stream, &mut buffer);

    // An acknowledgement for a packet never submitted, and out of bounds.
    sink.acknowledge_descriptor(descriptor(0, 4)).unwrap();
    assert_eq!(rejected(source.get_acknowledged()), Invalid::NotOutstanding);
    for bad in [descriptor(BULK, 0), descriptor(u32::MAX, 1), descriptor(1, 1), descriptor(0, 99)] {
        sink.acknowledge_descriptor(bad).unwrap();
        assert!(matches!(source.get_acknowledged(), Err(ReceiveError::Rejected { .. })));
    }

    // Submitted and taken, not acknowledged: an early acknowledgement is
    // refused and the sink's packet stays the sink's.
    let offset = (send(&mut source, 30, 0x33) - base) as u32;
    let mut taken = sink.try_take().unwrap();
    sink.acknowledge_descriptor(descriptor(offset, 30)).unwrap();
    assert_eq!(rejected(source.get_acknowledged()), Invalid::NotOutstanding);
    taken.payload_mut().fill(0x44);

    // A double acknowledgement: the first frees the slot, the second is
    // refused, even after the slot was allocated again.
    sink.acknowledge(taken).unwrap();
    sink.acknowledge_descriptor(descriptor(offset, 30)).unwrap();
    let back = source.get_acknowledged().unwrap();
    assert_eq!(back.payload(), &[0x44; 30]);
    source.release(back).unwrap();
    let mut again = source.alloc(SLOT_SIZE).unwrap();
    assert_eq!(again.payload().as_ptr() as usize - base, offset as usize);
    assert_eq!(rejected(source.get_acknowledged()), Invalid::NotOutstanding, "double ack");
    again.payload_mut().fill(0x55); // still ours

    assert_eq!(source.rejected_acknowledgements(), 7);
    assert_eq!(source.reclaim(), 0);
    source.submit(again).unwrap();
    let packet = sink.try_take().unwrap();
    assert_eq!(packet.payload(), &[0x55; SLOT_SIZE]);
    sink.acknowledge(packet).unwrap();
    assert_eq!(source.reclaim(), 1);
    assert_eq!(source.free_slots(), SLOTS);
}

#[test]
fn packets_of_another_stream_are_handed_back() {
    let (signals_a, signals_b) = (Signals::new(), Signals::new());
    let (mut stream_a, mut buffer_a) = (PacketStream::new(), [0u8; SLOTS * SLOT_SIZE]);
    let (mut stream_b, mut buffer_b) = (PacketStream::new(), [0u8; SLOTS * SLOT_SIZE]);
    let (mut source_a, mut sink_a) = signals_a.split(&mut stream_a, &mut buffer_a);
    let (mut source_b, mut sink_b) = signals_b.split(&mut stream_b, &mut buffer_b);
    let from_b = source_b.alloc(8).unwrap();
    let from_b = match source_a.submit(from_b) {
        Err(Refused::Foreign(packet)) => packet,
        other => panic!("expected a refusal, got {other:?}"),
    };
    let from_b = source_a.release(from_b).unwrap_err();
    source_b.submit(from_b).unwrap();
    let taken_b = sink_b.try_take().unwrap();
    assert!(matches!(sink_a.acknowledge(taken_b), Err(Refused::Foreign(_))));
    assert_eq!((source_a.free_slots(), source_b.free_slots()), (SLOTS, SLOTS - 1));
}

#[test]
fn split_checks_the_buffer_and_starts_afresh() {
    let mut stream = PacketStream::<SLOTS, QUEUE>::new();
    let mut small = [0u8; 63];
    let mut large = [0u8; (SLOTS + 1) * SLOT_SIZE];
    let none = || (ToSink::<NoNotify>::default(), ToSource::<NoNotify>::default());
    let (a, b) = none();
    assert_eq!(stream.split(&mut small, 0, a, b).err(), Some(ConfigError::SlotSizeZero));
    let (a, b) = none();
    assert_eq!(stream.split(&mut small, SLOT_SIZE, a, b).err(), Some(ConfigError::NoSlot));
    let (a, b) = none();
    assert_eq!(stream.split(&mut large, SLOT_SIZE, a, b).err(), Some(ConfigError::TooManySlots));

    // A tail shorter than a slot is left unused.
    let mut buffer = [0u8; SLOTS * SLOT_SIZE + 10];
    {
        let (a, b) = none();
        let (mut source, _sink) = stream.split(&mut buffer, SLOT_SIZE, a, b).unwrap();
        assert_eq!(source.free_slots(), SLOTS);
        let packet = source.alloc(0).unwrap();
        assert!(packet.is_empty());
        source.submit(packet).unwrap(); // left in flight
    }
    let (a, b) = none();
    let (source, mut sink) = stream.split(&mut buffer, SLOT_SIZE, a, b).unwrap();
    assert_eq!(source.free_slots(), SLOTS, "a new split starts with every slot free");
    assert_eq!(sink.try_take().unwrap_err(), ReceiveError::Empty);
}

/// Slots whose offsets would not fit a descriptor's 32 bits are refused;
/// up to `u32::MAX` bytes of slots are taken. The 4 GiB buffer is only
/// reserved, never touched (the allocator maps it zeroed on demand).
#[test]
#[cfg(target_pointer_width = "64")]
#[cfg_attr(miri, ignore = "a 4 GiB allocation")]
fn split_refuses_slots_beyond_32_bit_offsets() {
    let mut stream = PacketStream::<SLOTS, QUEUE>::new();
    let mut buffer = vec![0u8; 1 << 32];
    let none = || (ToSink::<NoNotify>::default(), ToSource::<NoNotify>::default());
    let (a, b) = none();
    // Two slots of 2 GiB: the second one's end is at 2^32.
    let result = stream.split(&mut buffer, 1 << 31, a, b);
    assert_eq!(result.err(), Some(ConfigError::BufferTooLarge));
    // Two slots of 2 GiB - 1: the last byte is at offset 2^32 - 3.
    let (a, b) = none();
    let (source, sink) = stream.split(&mut buffer, (1 << 31) - 1, a, b).unwrap();
    assert_eq!((source.free_slots(), sink.slot_size()), (2, (1 << 31) - 1));
}

/// The errors say what went wrong, each in its own words.
#[test]
fn errors_say_what_went_wrong() {
    let rejected =
        ReceiveError::Rejected { descriptor: descriptor(0x40, 65), reason: Invalid::TooLong };
    assert_eq!(
        rejected.to_string(),
        "descriptor (offset 0x40, length 65) rejected: packet is longer than a slot"
    );
    assert_eq!(ReceiveError::Empty.to_string(), "ring is empty");
    let reasons = [
        Invalid::OffsetOverflow,
        Invalid::OutOfBounds,
        Invalid::Misaligned,
        Invalid::TooLong,
        Invalid::NotSubmitted,
        Invalid::NotOutstanding,
    ]
    .map(|reason| reason.to_string());
    let restarts = [RestartError::ForeignSink, RestartError::PacketsOut].map(|e| e.to_string());
    let all: Vec<&String> = reasons.iter().chain(&restarts).collect();
    for (index, text) in all.iter().enumerate() {
        assert!(!text.is_empty());
        assert!(!all[..index].contains(text), "{text:?} said twice");
    }
}

#[test]
fn restart_refuses_while_a_packet_is_held_then_frees_every_slot() {
    let signals = Signals::new();
    let mut stream = PacketStream::<SLOTS, QUEUE>::new();
    let mut buffer = [0u8; SLOTS * SLOT_SIZE];
    let (mut source, mut sink) = signals.split(&mut stream, &mut buffer);
    let (held_at_source, taken) = in_use(&mut source, &mut sink);
    assert_eq!(source.free_slots(), SLOTS - 4);

    assert_eq!(source.restart(&mut sink), Err(RestartError::PacketsOut), "the sink holds one");
    sink.acknowledge(taken).unwrap();
    assert_eq!(source.restart(&mut sink), Err(RestartError::PacketsOut), "the source holds one");
    assert_eq!(source.free_slots(), SLOTS - 4, "a refused restart changes nothing");
    source.release(held_at_source).unwrap();

    assert_eq!(source.restart(&mut sink), Ok(()));
    assert_eq!(source.free_slots(), SLOTS);
    assert_eq!(sink.pending(), 0, "the submitted descriptor is gone");
    assert_eq!(
        source.get_acknowledged().err(),
        Some(ReceiveError::Empty),
        "and the acknowledged ones"
    );
    // The stream works as new: every slot goes round once more, in order.
    round_trip_every_slot(&mut source, &mut sink);
    assert_eq!((source.rejected_acknowledgements(), sink.rejected_descriptors()), (0, 0));
}

/// Puts the stream in use: one packet held by the source, three
/// submitted: one taken (held by the sink), one acknowledged, one left in
/// the submit ring. Returns the two packets held.
fn in_use<'a>(
    source: &mut Source<'a, SLOTS, QUEUE, &'a Counter>,
    sink: &mut Sink<'a, SLOTS, QUEUE, &'a Counter>,
) -> (SourcePacket<'a>, SinkPacket<'a>) {
    let held = source.alloc(8).unwrap();
    for _ in 0..3 {
        let packet = source.alloc(8).unwrap();
        source.submit(packet).unwrap();
    }
    let taken = sink.try_take().unwrap();
    let acknowledged = sink.try_take().unwrap();
    sink.acknowledge(acknowledged).unwrap();
    (held, taken)
}

#[test]
fn restart_refuses_another_streams_sink() {
    let signals = Signals::new();
    let (mut first, mut second) = (PacketStream::<SLOTS, QUEUE>::new(), PacketStream::new());
    let (mut buffer_a, mut buffer_b) = ([0u8; SLOTS * SLOT_SIZE], [0u8; SLOTS * SLOT_SIZE]);
    let (mut source, _sink) = signals.split(&mut first, &mut buffer_a);
    let (_source, mut other_sink) = signals.split(&mut second, &mut buffer_b);
    let packet = source.alloc(8).unwrap();
    source.submit(packet).unwrap();
    assert_eq!(source.restart(&mut other_sink), Err(RestartError::ForeignSink));
    assert_eq!(source.free_slots(), SLOTS - 1);
}

/// A restart, or a replaced end, starts the stream afresh for a new peer
/// (a NIC session's ends pass to the next client): the rejections the
/// last peer caused are not counted against the next.
#[test]
fn starting_afresh_forgets_the_last_peers_rejections() {
    let signals = Signals::new();
    let mut stream = PacketStream::<SLOTS, QUEUE>::new();
    let mut buffer = [0u8; SLOTS * SLOT_SIZE];
    let (mut source, mut sink) = signals.split(&mut stream, &mut buffer);
    let reject_both = |source: &mut Source<'_, SLOTS, QUEUE, &Counter>,
                       sink: &mut Sink<'_, SLOTS, QUEUE, &Counter>| {
        source.submit_descriptor(descriptor(3, 8)).unwrap();
        assert_eq!(rejected(sink.try_take()), Invalid::Misaligned);
        sink.acknowledge_descriptor(descriptor(0, 8)).unwrap();
        assert_eq!(rejected(source.get_acknowledged()), Invalid::NotOutstanding);
        assert_eq!((source.rejected_acknowledgements(), sink.rejected_descriptors()), (1, 1));
    };
    reject_both(&mut source, &mut sink);
    assert_eq!(source.restart(&mut sink), Ok(()));
    assert_eq!((source.rejected_acknowledgements(), sink.rejected_descriptors()), (0, 0));
    reject_both(&mut source, &mut sink);
    // SAFETY: `source` is never used again (dropped below).
    let mut new_source = unsafe { sink.replace_source(signals.to_sink()) }.unwrap();
    let _ = source;
    assert_eq!((new_source.rejected_acknowledgements(), sink.rejected_descriptors()), (0, 0));
    reject_both(&mut new_source, &mut sink);
    // SAFETY: `sink` is never used again (dropped below).
    let new_sink = unsafe { new_source.replace_sink(signals.to_source()) }.unwrap();
    let _ = sink;
    assert_eq!((new_source.rejected_acknowledgements(), new_sink.rejected_descriptors()), (0, 0));
}

/// Every slot goes round once through `source` and `sink`, in order.
fn round_trip_every_slot<'a>(
    source: &mut Source<'a, SLOTS, QUEUE, &'a Counter>,
    sink: &mut Sink<'a, SLOTS, QUEUE, &'a Counter>,
) {
    for round in 0..SLOTS {
        let mut packet = source.alloc(4).unwrap();
        packet.payload_mut().copy_from_slice(&(round as u32).to_le_bytes());
        source.submit(packet).unwrap();
        let packet = sink.try_take().unwrap();
        assert_eq!(packet.payload(), (round as u32).to_le_bytes());
        sink.acknowledge(packet).unwrap();
        assert_eq!(source.reclaim(), 1);
    }
}

#[test]
fn a_lost_source_is_replaced_with_everything_it_held() {
    let signals = Signals::new();
    let mut stream = PacketStream::<SLOTS, QUEUE>::new();
    let mut buffer = [0u8; SLOTS * SLOT_SIZE];
    let (mut source, mut sink) = signals.split(&mut stream, &mut buffer);
    // The source's holder goes, holding a packet, with one submitted and
    // one acknowledged, while the sink holds one.
    let (held, taken) = in_use(&mut source, &mut sink);
    // SAFETY: `source` and `held` are never used again (dropped below
    // unreleased, as a destroyed holder leaves them).
    let refused = unsafe { sink.replace_source(signals.to_sink()) };
    assert_eq!(refused.err(), Some(RestartError::PacketsOut), "the sink holds one");
    assert_eq!(sink.pending(), 1, "a refused replacement changes nothing");
    sink.acknowledge(taken).unwrap();
    // SAFETY: as above.
    let mut new_source = unsafe { sink.replace_source(signals.to_sink()) }.unwrap();
    let _ = (source, held);
    assert_eq!(new_source.free_slots(), SLOTS, "every slot, also the lost end's");
    assert_eq!(sink.pending(), 0, "the submitted descriptor is gone");
    assert_eq!(new_source.get_acknowledged().err(), Some(ReceiveError::Empty));
    round_trip_every_slot(&mut new_source, &mut sink);
    assert_eq!((new_source.rejected_acknowledgements(), sink.rejected_descriptors()), (0, 0));
}

#[test]
fn a_lost_sink_is_replaced_with_everything_it_held() {
    let signals = Signals::new();
    let mut stream = PacketStream::<SLOTS, QUEUE>::new();
    let mut buffer = [0u8; SLOTS * SLOT_SIZE];
    let (mut source, mut sink) = signals.split(&mut stream, &mut buffer);
    // The sink's holder goes holding a packet, with one submitted and one
    // acknowledged, while the source holds one.
    let (held, taken) = in_use(&mut source, &mut sink);
    // SAFETY: `sink` and `taken` are never used again (dropped below
    // unacknowledged, as a destroyed holder leaves them).
    let refused = unsafe { source.replace_sink(signals.to_source()) };
    assert_eq!(refused.err(), Some(RestartError::PacketsOut), "the source holds one");
    assert_eq!(source.free_slots(), SLOTS - 4, "a refused replacement changes nothing");
    source.release(held).unwrap();
    // SAFETY: as above.
    let mut new_sink = unsafe { source.replace_sink(signals.to_source()) }.unwrap();
    let _ = (sink, taken);
    assert_eq!(source.free_slots(), SLOTS, "every slot, also the lost end's");
    assert_eq!(new_sink.pending(), 0, "the submitted descriptor is gone");
    assert_eq!(source.get_acknowledged().err(), Some(ReceiveError::Empty));
    round_trip_every_slot(&mut source, &mut new_sink);
    assert_eq!((source.rejected_acknowledgements(), new_sink.rejected_descriptors()), (0, 0));
}

#[test]
fn a_packet_the_sink_cannot_acknowledge_is_discarded_and_blocks_no_restart() {
    let signals = Signals::new();
    let mut stream = PacketStream::<SLOTS, QUEUE>::new();
    let mut buffer = [0u8; SLOTS * SLOT_SIZE];
    let (mut source, mut sink) = signals.split(&mut stream, &mut buffer);
    // The acknowledgement ring (QUEUE) fills; one more packet cannot go back.
    for _ in 0..QUEUE {
        send(&mut source, 8, 0x11);
        let packet = sink.try_take().unwrap();
        sink.acknowledge(packet).unwrap();
    }
    send(&mut source, 8, 0x22);
    let packet = sink.try_take().unwrap();
    let packet = match sink.acknowledge(packet) {
        Err(Refused::Full(packet)) => packet,
        other => panic!("expected a full ring, got {other:?}"),
    };
    sink.discard(packet).unwrap();
    assert_eq!(source.restart(&mut sink), Ok(()), "the sink holds no packet");
    assert_eq!(source.free_slots(), SLOTS);
    round_trip_every_slot(&mut source, &mut sink);
}

/// Fills every slot with `byte` through the stream (written at the
/// source, taken and acknowledged by the sink, reclaimed): what a peer
/// leaves in the buffer.
fn fill_every_slot<'a>(
    source: &mut Source<'a, SLOTS, QUEUE, &'a Counter>,
    sink: &mut Sink<'a, SLOTS, QUEUE, &'a Counter>,
    byte: u8,
) {
    for _ in 0..SLOTS {
        send(source, SLOT_SIZE, byte);
        let packet = sink.try_take().unwrap();
        sink.acknowledge(packet).unwrap();
        assert_eq!(source.reclaim(), 1);
    }
}

/// Every slot, allocated at its whole size, holds only zeros.
fn every_slot_is_erased(source: &mut Source<'_, SLOTS, QUEUE, &Counter>) -> bool {
    let packets: Vec<_> = (0..SLOTS).map(|_| source.alloc(SLOT_SIZE).unwrap()).collect();
    let erased = packets.iter().all(|packet| packet.payload().iter().all(|&byte| byte == 0));
    for packet in packets {
        source.release(packet).unwrap();
    }
    erased
}

/// A stream started afresh for a new peer (a NIC session closed and the
/// next one opened, or a destroyed client's end replaced) lends its slots
/// erased: the new peer never reads what the last one left in them (a
/// frame it sent, or built and never sent).
#[test]
fn a_stream_started_afresh_lends_no_bytes_of_the_last_peer() {
    let signals = Signals::new();
    let mut stream = PacketStream::<SLOTS, QUEUE>::new();
    let mut buffer = [0u8; SLOTS * SLOT_SIZE];
    let (mut source, mut sink) = signals.split(&mut stream, &mut buffer);
    fill_every_slot(&mut source, &mut sink, 0x5a);
    source.restart(&mut sink).unwrap();
    assert!(every_slot_is_erased(&mut source), "restart left the last peer's bytes");

    fill_every_slot(&mut source, &mut sink, 0x6b);
    // SAFETY: `source` is never used again.
    let mut source = unsafe { sink.replace_source(signals.to_sink()) }.unwrap();
    assert!(every_slot_is_erased(&mut source), "replace_source left the lost source's bytes");

    fill_every_slot(&mut source, &mut sink, 0x7c);
    // SAFETY: `sink` is never used again.
    let mut sink = unsafe { source.replace_sink(signals.to_source()) }.unwrap();
    assert!(every_slot_is_erased(&mut source), "replace_sink left the lost sink's bytes");
    round_trip_every_slot(&mut source, &mut sink);
}
