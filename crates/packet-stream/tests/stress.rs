//! Two threads push many packets of random lengths through a small stream,
//! waiting on signals (never spinning) whenever they cannot go on.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Signal, XorShift, checksum};
use ferrode_packet_stream::{
    AllocError, NoNotify, PacketStream, ReceiveError, Refused, SinkPacket, SourcePacket, ToSink,
    ToSource,
};

const SLOT_SIZE: usize = 64;
const SLOTS: usize = 8;
/// The rings hold fewer descriptors than the buffer has slots: both rings
/// fill up and push back.
const QUEUE: usize = 4;
/// Miri runs about a thousand times slower; it checks the same protocol on
/// fewer packets (and explores weak-memory reorderings while at it).
const PACKETS: u32 = if cfg!(miri) { 1_500 } else { 100_000 };
/// Longer than any scheduling hiccup: a wait this long is a lost wakeup.
const LOST_WAKEUP: Duration = Duration::from_secs(20);

/// Packet `sequence`: `[sequence][body][checksum of sequence and body]`,
/// 8 to 64 bytes, the body drawn from the sequence number.
fn fill(packet: &mut SourcePacket<'_>, sequence: u32) {
    let mut random = XorShift(sequence.wrapping_mul(0x9e37_79b9) | 1);
    let length = 8 + random.next() as usize % (SLOT_SIZE - 8 + 1);
    packet.set_len(length).unwrap();
    let bytes = packet.payload_mut();
    bytes[..4].copy_from_slice(&sequence.to_le_bytes());
    for byte in &mut bytes[4..length - 4] {
        *byte = random.next() as u8;
    }
    let sum = checksum(&bytes[..length - 4]);
    bytes[length - 4..].copy_from_slice(&sum.to_le_bytes());
}

/// The sequence number of a packet whose checksum holds.
fn check(packet: &SinkPacket<'_>) -> u32 {
    let bytes = packet.payload();
    assert!(bytes.len() >= 8, "a packet shorter than its header");
    let (data, sum) = bytes.split_at(bytes.len() - 4);
    assert_eq!(checksum(data).to_le_bytes(), sum, "checksum of a {}-byte packet", bytes.len());
    u32::from_le_bytes(data[..4].try_into().unwrap())
}

#[test]
fn every_packet_arrives_once_in_order_through_reused_slots() {
    run(false);
}

/// The same with a source that wants "acknowledgement available" only when
/// it is out of slots (as the NIC's ends do): it waits for an
/// acknowledgement only after `reclaim` left it none, and no wakeup is
/// lost.
#[test]
fn a_source_signalled_only_when_exhausted_loses_no_wakeup() {
    run(true);
}

fn run(lazy: bool) {
    let mut stream = PacketStream::<SLOTS, QUEUE>::new();
    let mut buffer = vec![0u8; SLOTS * SLOT_SIZE];
    let base = buffer.as_ptr() as usize;
    let source_signal = Signal::default(); // one receiver for the source's two signals
    let sink_signal = Signal::default();
    let (mut source, mut sink) = stream
        .split(
            &mut buffer,
            SLOT_SIZE,
            ToSink { packet_available: &sink_signal, ready_to_acknowledge: &sink_signal },
            ToSource { acknowledgement_available: &source_signal, ready_to_submit: &source_signal },
        )
        .unwrap();

    let (sent_bytes, full, exhausted, uses) = std::thread::scope(|scope| {
        let sender = scope.spawn(|| {
            source.signal_acknowledgements_when_exhausted(lazy);
            let (mut sent_bytes, mut full, mut exhausted) = (0usize, 0u32, 0u32);
            let mut held: Option<SourcePacket<'_>> = None;
            let mut sequence = 0;
            while sequence < PACKETS {
                source.reclaim();
                let mut packet = match held.take() {
                    Some(packet) => packet,
                    None => match source.alloc(SLOT_SIZE) {
                        Ok(mut packet) => {
                            fill(&mut packet, sequence);
                            packet
                        }
                        Err(AllocError::Exhausted) => {
                            exhausted += 1;
                            source_signal.wait(LOST_WAKEUP);
                            continue;
                        }
                        Err(error) => panic!("alloc: {error:?}"),
                    },
                };
                let length = packet.len();
                packet.set_tag(sequence);
                match source.submit(packet) {
                    Ok(()) => {
                        sent_bytes += length;
                        sequence += 1;
                    }
                    Err(Refused::Full(packet)) => {
                        full += 1;
                        held = Some(packet);
                        // "Ready to submit" is signalled either way.
                        source_signal.wait(LOST_WAKEUP);
                    }
                    Err(refused) => panic!("submit: {refused:?}"),
                }
            }
            // Every slot comes back: waiting for acknowledgements with
            // slots free needs every one signalled.
            source.signal_acknowledgements_when_exhausted(false);
            while source.free_slots() < SLOTS {
                if source.reclaim() == 0 {
                    source_signal.wait(LOST_WAKEUP);
                }
            }
            assert_eq!(source.rejected_acknowledgements(), 0);
            (sent_bytes, full, exhausted)
        });
        let receiver = scope.spawn(|| {
            let mut expected = 0;
            let mut uses = BTreeMap::<usize, u32>::new();
            let mut unacknowledged: Option<SinkPacket<'_>> = None;
            while expected < PACKETS || unacknowledged.is_some() {
                if let Some(packet) = unacknowledged.take() {
                    match sink.acknowledge(packet) {
                        Ok(()) => {}
                        Err(Refused::Full(packet)) => {
                            unacknowledged = Some(packet);
                            sink_signal.wait(LOST_WAKEUP);
                        }
                        Err(refused) => panic!("acknowledge: {refused:?}"),
                    }
                    continue;
                }
                match sink.try_take() {
                    Ok(packet) => {
                        let sequence = check(&packet);
                        assert_eq!(sequence, expected, "lost, duplicated or reordered");
                        assert_eq!(packet.tag(), sequence, "the tag travels with the descriptor");
                        *uses.entry(packet.payload().as_ptr() as usize).or_default() += 1;
                        expected += 1;
                        unacknowledged = Some(packet);
                    }
                    Err(ReceiveError::Empty) => sink_signal.wait(LOST_WAKEUP),
                    Err(error) => panic!("take: {error}"),
                }
            }
            assert_eq!(sink.rejected_descriptors(), 0);
            assert_eq!(sink.try_take().unwrap_err(), ReceiveError::Empty, "nothing extra");
            uses
        });
        let (sent_bytes, full, exhausted) = sender.join().unwrap();
        (sent_bytes, full, exhausted, receiver.join().unwrap())
    });

    assert_eq!(uses.values().sum::<u32>(), PACKETS);
    // Only the buffer's slots, each many times (the free list is LIFO, so
    // the slots in use may be fewer than all of them).
    assert!(uses.len() <= SLOTS);
    assert!(uses.keys().all(|&address| address >= base && address < base + SLOTS * SLOT_SIZE));
    assert!(uses.values().max().unwrap() * 2 > PACKETS / SLOTS as u32, "slots are reused");
    assert!(
        sent_bytes > 10 * SLOTS * SLOT_SIZE,
        "more data than the buffer holds, many times over"
    );
    // How often each end had to wait; informative (the scheduler decides).
    println!(
        "{PACKETS} packets, {sent_bytes} bytes, slot uses {uses:?}, submit ring full {full} times, buffer exhausted {exhausted} times"
    );
}

/// `reclaim` counts every slot it frees, also those whose
/// acknowledgements come in while a source that wants the signal only when
/// exhausted asks for it (its second look at the ring): a source that
/// waits when `reclaim` returns 0 must not be told 0 for slots it got.
/// Both threads spin, so acknowledgements arrive at every moment.
#[test]
fn reclaim_counts_what_it_frees_while_acknowledgements_race_in() {
    const RACE_SLOTS: usize = 4;
    let packets: u32 = if cfg!(miri) { 200 } else { 200_000 };
    let mut stream = PacketStream::<RACE_SLOTS, RACE_SLOTS>::new();
    let mut buffer = vec![0u8; RACE_SLOTS * SLOT_SIZE];
    let none = || (ToSink::<NoNotify>::default(), ToSource::<NoNotify>::default());
    let (to_sink, to_source) = none();
    let (mut source, mut sink) = stream.split(&mut buffer, SLOT_SIZE, to_sink, to_source).unwrap();
    let done = AtomicBool::new(false);
    /// Stops the sink however the source's loop ends (a failed assertion too).
    struct Done<'a>(&'a AtomicBool);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Release);
        }
    }
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Acquire) {
                match sink.try_take() {
                    Ok(packet) => sink.acknowledge(packet).unwrap(), // room for every slot
                    Err(ReceiveError::Empty) => std::hint::spin_loop(),
                    Err(error) => panic!("take: {error}"),
                }
            }
        });
        let _done = Done(&done);
        source.signal_acknowledgements_when_exhausted(true);
        let mut sent = 0;
        while sent < packets {
            while let Ok(packet) = source.alloc(8) {
                source.submit(packet).unwrap(); // room for every slot
                sent += 1;
            }
            let free = source.free_slots();
            let freed = source.reclaim();
            assert_eq!(source.free_slots(), free + freed, "reclaim counts what it freed");
        }
    });
}
