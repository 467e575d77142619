//! Random operations, honest and hostile, against a reference model of the
//! protocol: the model predicts every outcome (accepted, full, rejected and
//! why), the handles never overlap, bytes arrive as written, and no slot is
//! ever lost.

mod common;

use std::collections::VecDeque;

use ferrode_packet_stream::{
    Descriptor, Invalid, NoNotify, PacketStream, ReceiveError, Refused, SinkPacket, SourcePacket,
    ToSink, ToSource,
};
use proptest::prelude::*;

const SLOT_SIZE: usize = 32;
const SLOTS: usize = 6;
const QUEUE: usize = 4;
const BULK: usize = SLOTS * SLOT_SIZE;

#[derive(Debug, Clone)]
enum Op {
    Alloc(usize),
    Submit(usize),
    /// A raw descriptor near the real slots (plausible forgeries).
    SubmitNear {
        slot: u32,
        skew: u32,
        length: u32,
    },
    /// A raw descriptor anywhere.
    SubmitAny(u32, u32),
    Take,
    Acknowledge(usize),
    AcknowledgeNear {
        slot: u32,
        skew: u32,
        length: u32,
    },
    AcknowledgeAny(u32, u32),
    GetAcknowledged,
    Release(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let near = || {
        (
            0..SLOTS as u32 + 2,
            prop_oneof![4 => Just(0u32), 1 => 1..SLOT_SIZE as u32],
            0..SLOT_SIZE as u32 + 8,
        )
    };
    prop_oneof![
        3 => (0..=SLOT_SIZE).prop_map(Op::Alloc),
        3 => any::<usize>().prop_map(Op::Submit),
        1 => near().prop_map(|(slot, skew, length)| Op::SubmitNear { slot, skew, length }),
        1 => (any::<u32>(), any::<u32>()).prop_map(|(o, l)| Op::SubmitAny(o, l)),
        4 => Just(Op::Take),
        3 => any::<usize>().prop_map(Op::Acknowledge),
        1 => near().prop_map(|(slot, skew, length)| Op::AcknowledgeNear { slot, skew, length }),
        1 => (any::<u32>(), any::<u32>()).prop_map(|(o, l)| Op::AcknowledgeAny(o, l)),
        3 => Just(Op::GetAcknowledged),
        1 => any::<usize>().prop_map(Op::Release),
    ]
}

/// Who owns a slot, as the model sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Owner {
    Free,
    SourceHeld,
    Submitted,
    SinkHeld,
    Acknowledged,
}

/// The reference: the rings as queues, the owners, and the byte each end
/// last filled a slot with.
struct Model {
    submit: VecDeque<Descriptor>,
    acknowledge: VecDeque<Descriptor>,
    owner: [Owner; SLOTS],
    /// (byte, length) the source last filled a slot with, before submitting.
    source_fill: [u8; SLOTS],
    /// (byte, length) the sink last wrote, before acknowledging.
    sink_fill: [(u8, usize); SLOTS],
    rejected_submissions: u32,
    rejected_acknowledgements: u32,
}

impl Model {
    /// The straightforward reading of "inside the buffer, inside one slot".
    fn check(d: Descriptor) -> Result<usize, Invalid> {
        let (offset, length) = (u64::from(d.offset), u64::from(d.length));
        if offset + length > u64::from(u32::MAX) {
            Err(Invalid::OffsetOverflow)
        } else if offset >= BULK as u64 || offset + length > BULK as u64 {
            Err(Invalid::OutOfBounds)
        } else if offset % SLOT_SIZE as u64 != 0 {
            Err(Invalid::Misaligned)
        } else if length > SLOT_SIZE as u64 {
            Err(Invalid::TooLong)
        } else {
            Ok(offset as usize / SLOT_SIZE)
        }
    }
}

fn slot_of(base: usize, bytes: &[u8]) -> usize {
    let distance = bytes.as_ptr() as usize - base;
    assert_eq!(distance % SLOT_SIZE, 0, "a handle at a slot's start");
    assert!(distance < BULK);
    distance / SLOT_SIZE
}

fn expect_rejected<T: std::fmt::Debug>(result: Result<T, ReceiveError>, reason: Invalid) {
    match result {
        Err(ReceiveError::Rejected { reason: actual, .. }) => assert_eq!(actual, reason),
        other => panic!("expected {reason:?}, got {other:?}"),
    }
}

fn run(ops: Vec<Op>) {
    let mut stream = PacketStream::<SLOTS, QUEUE>::new();
    let mut buffer = vec![0u8; BULK];
    let base = buffer.as_ptr() as usize;
    let (mut source, mut sink) = stream
        .split(
            &mut buffer,
            SLOT_SIZE,
            ToSink::<NoNotify>::default(),
            ToSource::<NoNotify>::default(),
        )
        .unwrap();
    let mut model = Model {
        submit: VecDeque::new(),
        acknowledge: VecDeque::new(),
        owner: [Owner::Free; SLOTS],
        source_fill: [0; SLOTS],
        sink_fill: [(0, 0); SLOTS],
        rejected_submissions: 0,
        rejected_acknowledgements: 0,
    };
    let mut source_held: Vec<SourcePacket<'_>> = Vec::new();
    let mut sink_held: Vec<SinkPacket<'_>> = Vec::new();
    let mut next_byte = 1u8;

    for op in ops {
        match op {
            Op::Alloc(length) => {
                let free = model.owner.iter().filter(|&&o| o == Owner::Free).count();
                match source.alloc(length) {
                    Ok(mut packet) => {
                        let slot = slot_of(base, packet.payload());
                        assert_eq!(model.owner[slot], Owner::Free, "allocated a slot in use");
                        model.owner[slot] = Owner::SourceHeld;
                        // Fill the whole slot, then trim.
                        packet.set_len(SLOT_SIZE).unwrap();
                        next_byte = next_byte.wrapping_add(1);
                        packet.payload_mut().fill(next_byte);
                        model.source_fill[slot] = next_byte;
                        packet.set_len(length).unwrap();
                        source_held.push(packet);
                    }
                    Err(error) => assert_eq!(free, 0, "{error:?} with {free} free slots"),
                }
            }
            Op::Submit(index) if !source_held.is_empty() => {
                let packet = source_held.swap_remove(index % source_held.len());
                let slot = slot_of(base, packet.payload());
                let length = packet.len() as u32;
                match source.submit(packet) {
                    Ok(()) => {
                        assert!(model.submit.len() < QUEUE);
                        let offset = (slot * SLOT_SIZE) as u32;
                        model.submit.push_back(Descriptor { offset, length, tag: 0 });
                        model.owner[slot] = Owner::Submitted;
                    }
                    Err(Refused::Full(packet)) => {
                        assert_eq!(model.submit.len(), QUEUE);
                        source_held.push(packet);
                    }
                    Err(refused) => panic!("{refused:?}"),
                }
            }
            Op::SubmitNear { slot, skew, length } => {
                let d = Descriptor { offset: slot * SLOT_SIZE as u32 + skew, length, tag: 0 };
                submit_raw(&mut source, &mut model, d);
            }
            Op::SubmitAny(offset, length) => {
                submit_raw(&mut source, &mut model, Descriptor { offset, length, tag: 0 });
            }
            Op::Take => {
                let result = sink.try_take();
                let Some(d) = model.submit.pop_front() else {
                    assert_eq!(result.unwrap_err(), ReceiveError::Empty);
                    continue;
                };
                match Model::check(d) {
                    Err(reason) => {
                        model.rejected_submissions += 1;
                        expect_rejected(result, reason);
                    }
                    Ok(slot) if model.owner[slot] != Owner::Submitted => {
                        model.rejected_submissions += 1;
                        expect_rejected(result, Invalid::NotSubmitted);
                    }
                    Ok(slot) => {
                        let mut packet = result.unwrap();
                        assert_eq!(slot_of(base, packet.payload()), slot);
                        assert_eq!(packet.len(), d.length as usize);
                        let fill = model.source_fill[slot];
                        assert!(packet.payload().iter().all(|&b| b == fill), "bytes as written");
                        next_byte = next_byte.wrapping_add(1);
                        packet.payload_mut().fill(next_byte);
                        model.sink_fill[slot] = (next_byte, packet.len());
                        model.owner[slot] = Owner::SinkHeld;
                        sink_held.push(packet);
                    }
                }
            }
            Op::Acknowledge(index) if !sink_held.is_empty() => {
                let packet = sink_held.swap_remove(index % sink_held.len());
                let slot = slot_of(base, packet.payload());
                let length = packet.len() as u32;
                match sink.acknowledge(packet) {
                    Ok(()) => {
                        assert!(model.acknowledge.len() < QUEUE);
                        let offset = (slot * SLOT_SIZE) as u32;
                        model.acknowledge.push_back(Descriptor { offset, length, tag: 0 });
                        model.owner[slot] = Owner::Acknowledged;
                    }
                    Err(Refused::Full(packet)) => {
                        assert_eq!(model.acknowledge.len(), QUEUE);
                        sink_held.push(packet);
                    }
                    Err(refused) => panic!("{refused:?}"),
                }
            }
            Op::AcknowledgeNear { slot, skew, length } => {
                let d = Descriptor { offset: slot * SLOT_SIZE as u32 + skew, length, tag: 0 };
                acknowledge_raw(&mut sink, &mut model, d);
            }
            Op::AcknowledgeAny(offset, length) => {
                acknowledge_raw(&mut sink, &mut model, Descriptor { offset, length, tag: 0 });
            }
            Op::GetAcknowledged => {
                let result = source.get_acknowledged();
                let Some(d) = model.acknowledge.pop_front() else {
                    assert_eq!(result.unwrap_err(), ReceiveError::Empty);
                    continue;
                };
                match Model::check(d) {
                    Err(reason) => {
                        model.rejected_acknowledgements += 1;
                        expect_rejected(result, reason);
                    }
                    Ok(slot) if model.owner[slot] != Owner::Acknowledged => {
                        model.rejected_acknowledgements += 1;
                        expect_rejected(result, Invalid::NotOutstanding);
                    }
                    Ok(slot) => {
                        let mut packet = result.unwrap();
                        assert_eq!(slot_of(base, packet.payload()), slot);
                        let (fill, written) = model.sink_fill[slot];
                        let checked = written.min(packet.len());
                        assert!(packet.payload()[..checked].iter().all(|&b| b == fill));
                        // Reused: filled again, as a source would.
                        let length = packet.len();
                        packet.set_len(SLOT_SIZE).unwrap();
                        next_byte = next_byte.wrapping_add(1);
                        packet.payload_mut().fill(next_byte);
                        model.source_fill[slot] = next_byte;
                        packet.set_len(length).unwrap();
                        model.owner[slot] = Owner::SourceHeld;
                        source_held.push(packet);
                    }
                }
            }
            Op::Release(index) if !source_held.is_empty() => {
                let packet = source_held.swap_remove(index % source_held.len());
                model.owner[slot_of(base, packet.payload())] = Owner::Free;
                source.release(packet).unwrap();
            }
            Op::Submit(_) | Op::Acknowledge(_) | Op::Release(_) => {}
        }
        // Every handle on its own slot, and the slot's owner agrees.
        let mut seen = [false; SLOTS];
        for (slot, owner) in source_held
            .iter()
            .map(|p| (slot_of(base, p.payload()), Owner::SourceHeld))
            .chain(sink_held.iter().map(|p| (slot_of(base, p.payload()), Owner::SinkHeld)))
        {
            assert!(!seen[slot], "two handles on slot {slot}");
            seen[slot] = true;
            assert_eq!(model.owner[slot], owner);
        }
        let free = model.owner.iter().filter(|&&o| o == Owner::Free).count();
        assert_eq!(source.free_slots(), free);
        assert_eq!(sink.rejected_descriptors(), model.rejected_submissions);
        assert_eq!(source.rejected_acknowledgements(), model.rejected_acknowledgements);
    }

    // Drain: the sink takes and acknowledges everything, the source takes
    // everything back. Nothing is lost, whatever was forged.
    loop {
        for packet in sink_held.drain(..) {
            if let Err(refused) = sink.acknowledge(packet) {
                source.reclaim();
                sink.acknowledge(refused.into_packet()).unwrap();
            }
        }
        match sink.try_take() {
            Ok(packet) => sink_held.push(packet),
            Err(ReceiveError::Rejected { .. }) => {}
            Err(ReceiveError::Empty) if sink_held.is_empty() => break,
            Err(ReceiveError::Empty) => {}
        }
    }
    source.reclaim();
    for packet in source_held.drain(..) {
        source.release(packet).unwrap();
    }
    assert_eq!(source.free_slots(), SLOTS, "a slot was lost");
}

fn submit_raw<N: ferrode_packet_stream::Notify>(
    source: &mut ferrode_packet_stream::Source<'_, SLOTS, QUEUE, N>,
    model: &mut Model,
    d: Descriptor,
) {
    match source.submit_descriptor(d) {
        Ok(()) => model.submit.push_back(d),
        Err(back) => {
            assert_eq!(back, d);
            assert_eq!(model.submit.len(), QUEUE);
        }
    }
}

fn acknowledge_raw<N: ferrode_packet_stream::Notify>(
    sink: &mut ferrode_packet_stream::Sink<'_, SLOTS, QUEUE, N>,
    model: &mut Model,
    d: Descriptor,
) {
    match sink.acknowledge_descriptor(d) {
        Ok(()) => model.acknowledge.push_back(d),
        Err(back) => {
            assert_eq!(back, d);
            assert_eq!(model.acknowledge.len(), QUEUE);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 8 } else { 512 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_mix_of_honest_and_forged_operations_keeps_the_protocol(
        ops in proptest::collection::vec(op(), 1..if cfg!(miri) { 60 } else { 300 })
    ) {
        run(ops);
    }
}
