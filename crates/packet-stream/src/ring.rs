//! A bounded single-producer single-consumer ring of descriptors.
//!
//! Lock-free with plain loads and stores: each index has one writer (the
//! producer owns `tail`, the consumer `head`), published with `Release` and
//! read with `Acquire`, so no read-modify-write atomics are needed (an RV32
//! core without the A extension could run it). Indices run freely and wrap;
//! the capacity is a power of two so that `index % N` stays right across the
//! wrap.
//!
//! Both operations report the transition a sleeping peer may wait for
//! (empty to non-empty, full to not full). Deciding that from two indices
//! written on two sides is the store-buffer pattern: each side stores its own
//! index and then loads the other's. A `SeqCst` fence between the two on
//! each side guarantees that at least one of them sees the other's store, so
//! either the peer sees the new state before sleeping or this side notices
//! the transition and wakes it: no lost wakeup. The fences cost one `dmb` on
//! ARMv7-A and one `fence rw,rw` on RV32 per operation.
//!
//! The entries are atomics too, read and written `Relaxed` (plain word
//! loads and stores, as `UnsafeCell`s would compile to): the indices'
//! Release and Acquire order them. The peer shares the memory and may be
//! hostile; whatever it writes, and whenever, an entry read is a defined
//! read of some three words, which the ends then check like any other
//! descriptor. A second producer or consumer (a caller breaking the
//! one-producer, one-consumer rule) loses or repeats descriptors, but no
//! read or write is undefined, so `push` and `pop` are safe.

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering, fence};

use crate::Descriptor;

pub(crate) struct Ring<const N: usize> {
    /// Next entry the consumer reads; written only by the consumer.
    head: AtomicUsize,
    /// Next entry the producer writes; written only by the producer.
    tail: AtomicUsize,
    entries: [Entry; N],
}

/// One ring entry: a [`Descriptor`]'s words.
struct Entry {
    offset: AtomicU32,
    length: AtomicU32,
    tag: AtomicU32,
}

impl Entry {
    const fn new() -> Self {
        Self { offset: AtomicU32::new(0), length: AtomicU32::new(0), tag: AtomicU32::new(0) }
    }

    fn write(&self, descriptor: Descriptor) {
        self.offset.store(descriptor.offset, Ordering::Relaxed);
        self.length.store(descriptor.length, Ordering::Relaxed);
        self.tag.store(descriptor.tag, Ordering::Relaxed);
    }

    fn read(&self) -> Descriptor {
        Descriptor {
            offset: self.offset.load(Ordering::Relaxed),
            length: self.length.load(Ordering::Relaxed),
            tag: self.tag.load(Ordering::Relaxed),
        }
    }
}

impl<const N: usize> Ring<N> {
    const CAPACITY_IS_A_POWER_OF_TWO: () =
        assert!(N.is_power_of_two(), "a ring's capacity must be a power of two (and not zero)");

    pub const fn new() -> Self {
        let () = Self::CAPACITY_IS_A_POWER_OF_TWO;
        Self {
            head: AtomicUsize::new(0),
            tail: AtomicUsize::new(0),
            entries: [const { Entry::new() }; N],
        }
    }

    /// Empties the ring, while neither end pushes or pops: before the
    /// stream is split (`&mut` to it), or when both ends restart it
    /// together (both borrowed exclusively), so the stores race with
    /// nothing.
    pub fn clear(&self) {
        self.head.store(0, Ordering::Relaxed);
        self.tail.store(0, Ordering::Relaxed);
    }

    /// Appends `descriptor`, calling `reserved` once there is certainly
    /// room and before the consumer can see the entry. Returns whether the
    /// ring went from empty to non-empty (the consumer may be waiting), or
    /// hands the descriptor back if the ring is full.
    ///
    /// One thread at a time may act as this ring's producer (the
    /// [`Source`](crate::Source) or [`Sink`](crate::Sink) that owns this
    /// end, through `&mut self`).
    pub fn push(
        &self,
        descriptor: Descriptor,
        reserved: impl FnOnce(),
    ) -> Result<bool, Descriptor> {
        let tail = self.tail.load(Ordering::Relaxed);
        if tail.wrapping_sub(self.head.load(Ordering::Acquire)) == N {
            // Full: look again after a fence, so that either this load sees
            // a pop that happened meanwhile or that pop's check sees our
            // last push and signals "ready" (see the module docs).
            fence(Ordering::SeqCst);
            if tail.wrapping_sub(self.head.load(Ordering::Acquire)) == N {
                return Err(descriptor);
            }
        }
        // Only the consumer moves `head`, and only forward: the room stays.
        reserved();
        // Entry `tail % N` was last read by an honest consumer as index
        // `tail - N < head`, before it stored that `head` (Release), which we
        // loaded with Acquire; it reads the entry again only after our
        // store of `tail + 1` below.
        self.entries[tail % N].write(descriptor);
        self.tail.store(tail.wrapping_add(1), Ordering::Release);
        fence(Ordering::SeqCst);
        // If the consumer had read everything before our entry, it may be
        // about to sleep: it needs a signal.
        Ok(self.head.load(Ordering::Acquire) == tail)
    }

    /// Takes the oldest descriptor. Returns it with whether the ring was
    /// full before (the producer may be waiting), or `None` if empty.
    ///
    /// One thread at a time may act as this ring's consumer.
    #[inline]
    pub fn pop(&self) -> Option<(Descriptor, bool)> {
        let head = self.head.load(Ordering::Relaxed);
        if Self::entries(head, self.tail.load(Ordering::Acquire)) == 0 {
            // Empty: the mirror image of the full case in `push`.
            fence(Ordering::SeqCst);
            if Self::entries(head, self.tail.load(Ordering::Acquire)) == 0 {
                return None;
            }
        }
        // `head < tail` (loaded with Acquire): an honest producer wrote
        // this entry before publishing `tail`, and writes it again only
        // after seeing our store of `head + 1`.
        let descriptor = self.entries[head % N].read();
        self.head.store(head.wrapping_add(1), Ordering::Release);
        fence(Ordering::SeqCst);
        // Full before this pop (by the newest tail): the producer may have
        // found it full and be waiting for room.
        let was_full = self.tail.load(Ordering::Acquire).wrapping_sub(head) == N;
        Some((descriptor, was_full))
    }

    /// Entries in the ring now (a snapshot; either end may move it).
    pub fn len(&self) -> usize {
        Self::entries(self.head.load(Ordering::Acquire), self.tail.load(Ordering::Acquire))
    }

    /// Entries between `head` and `tail`; 0 for more than the ring holds:
    /// a producer's index that no `push` can reach (memory written behind
    /// the stream's back) reads as an empty ring, so the consumer goes to
    /// sleep instead of draining four billion stale entries, and only that
    /// producer's stream stops.
    fn entries(head: usize, tail: usize) -> usize {
        let entries = tail.wrapping_sub(head);
        if entries > N { 0 } else { entries }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    fn descriptor(tag: u32) -> Descriptor {
        Descriptor { offset: 0, length: 0, tag }
    }

    #[test]
    fn fifo_order_transitions_and_wrap() {
        let ring = Ring::<4>::new();
        for round in 0..10u32 {
            {
                assert_eq!(ring.push(descriptor(round), || {}), Ok(true), "empty to non-empty");
                assert_eq!(ring.push(descriptor(round + 100), || {}), Ok(false));
                assert_eq!(ring.push(descriptor(round + 200), || {}), Ok(false));
                assert_eq!(ring.push(descriptor(round + 300), || {}), Ok(false));
                let mut called = false;
                let refused = ring.push(descriptor(9), || called = true);
                assert_eq!(refused, Err(descriptor(9)), "full");
                assert!(!called, "a full ring reserves nothing");
                assert_eq!(ring.pop(), Some((descriptor(round), true)), "full to not full");
                assert_eq!(ring.pop(), Some((descriptor(round + 100), false)));
                assert_eq!(ring.pop(), Some((descriptor(round + 200), false)));
                assert_eq!(ring.pop(), Some((descriptor(round + 300), false)));
                assert_eq!(ring.pop(), None);
            }
        }
        assert_eq!(ring.len(), 0);
    }

    #[test]
    fn a_producer_index_beyond_the_capacity_reads_as_empty() {
        let ring = Ring::<4>::new();
        {
            assert_eq!(ring.push(descriptor(1), || {}), Ok(true));
            // A peer writes its index behind the stream's back: five
            // entries (more than fit), then four billion.
            for forged in [5, usize::MAX / 2] {
                ring.tail.store(forged, Ordering::Release);
                assert_eq!(ring.len(), 0);
                assert_eq!(ring.pop(), None, "nothing to drain");
            }
            // Back within reach, the ring serves again.
            ring.tail.store(1, Ordering::Release);
            assert_eq!(ring.pop(), Some((descriptor(1), false)));
            assert_eq!(ring.pop(), None);
        }
    }

    /// A hostile producer rewrites entries it already published while the
    /// consumer reads them. The consumer gets some words for each (which
    /// the ends check like any descriptor) and nothing undefined happens:
    /// Miri (`cargo xtask test`'s Miri step) reports any data race, as it
    /// would for entries read and written as plain memory.
    #[test]
    fn a_peer_rewriting_published_entries_races_with_nothing_undefined() {
        let ring = Ring::<4>::new();
        let rounds = if cfg!(miri) { 20 } else { 2_000 };
        let done = core::sync::atomic::AtomicBool::new(false);
        let mut popped = 0;
        std::thread::scope(|scope| {
            let producer = scope.spawn(|| {
                for round in 0..rounds {
                    let _ = ring.push(descriptor(round), || {});
                    // Behind the ring's back: every entry, published or not.
                    for entry in &ring.entries {
                        entry.write(Descriptor { offset: round, length: round, tag: u32::MAX });
                    }
                }
                done.store(true, Ordering::Release);
            });
            loop {
                // Looked at before the pop: once the producer is done (or
                // has panicked, which the scope then reports), an empty
                // ring stays empty.
                let finished = done.load(Ordering::Acquire) || producer.is_finished();
                if let Some((got, _)) = ring.pop() {
                    // Each word is one the producer wrote to that entry.
                    assert!(got.tag == u32::MAX || got.tag < rounds);
                    assert!(got.offset < rounds && got.length < rounds);
                    popped += 1;
                    assert!(popped <= rounds, "more entries popped than pushed");
                } else if finished {
                    break;
                } else {
                    std::thread::yield_now();
                }
            }
        });
        assert!(popped > 0, "the consumer read entries");
    }
}
