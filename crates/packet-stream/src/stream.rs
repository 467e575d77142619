//! The shared part of a stream: both rings, the slots' ownership and the
//! buffer they cut up; and the packet handles that own a slot.

use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::descriptor::Geometry;
use crate::notify::{Notify, ToSink, ToSource};
use crate::ring::Ring;
use crate::{Sink, Source};

/// Who owns a slot. Each state has exactly one end that may leave it, so a
/// load followed by a store is a safe transition without read-modify-write
/// atomics:
///
/// | state | meaning | left by |
/// |---|---|---|
/// | `AT_SOURCE` | free, or held by a [`SourcePacket`] | the source (submit) |
/// | `SUBMITTED` | its descriptor is in the submit ring | the sink (take) |
/// | `AT_SINK` | held by a [`SinkPacket`] | the sink (acknowledge) |
/// | `ACKNOWLEDGED` | its descriptor is in the acknowledgement ring | the source |
///
/// A state is stored (Release) before the descriptor that hands the slot
/// over is published, and loaded (Acquire) by the receiving end before it
/// makes a view of the slot: the writes of one owner happen before the
/// reads of the next.
pub(crate) mod slot_state {
    pub const AT_SOURCE: u8 = 0;
    pub const SUBMITTED: u8 = 1;
    pub const AT_SINK: u8 = 2;
    pub const ACKNOWLEDGED: u8 = 3;
}

/// Why [`PacketStream::split`] refused a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// The slot size is zero.
    SlotSizeZero,
    /// The buffer is smaller than one slot.
    NoSlot,
    /// The buffer holds more slots than the stream's `SLOTS`.
    TooManySlots,
    /// The slots span more than `u32::MAX` bytes (descriptors are 32-bit).
    BufferTooLarge,
}

/// The control part of a packet stream: a submit ring and an
/// acknowledgement ring of `QUEUE` descriptors each (a power of two), and
/// the ownership of up to `SLOTS` slots of the bulk buffer.
///
/// All-zero when new (`const fn`), so a `static` of it lands in `.bss`.
/// [`split`](Self::split) lends it a buffer and gives out the two ends.
pub struct PacketStream<const SLOTS: usize, const QUEUE: usize> {
    pub(crate) submit: Ring<QUEUE>,
    pub(crate) acknowledge: Ring<QUEUE>,
    pub(crate) states: [AtomicU8; SLOTS],
    /// Set by a source that takes acknowledgements on its own while it
    /// has a free slot ([`Source::signal_acknowledgements_when_exhausted`]):
    /// the sink then leaves out "acknowledgement available". Clear (the
    /// all-zero default) asks for the signal on every transition. A hint
    /// between the ends: the source never reads it, and a sink that
    /// ignores it only signals more, or leaves its own source waiting.
    pub(crate) acknowledgement_signal_off: AtomicBool,
    pub(crate) geometry: Geometry,
    /// First byte of the bulk buffer lent to [`split`](Self::split); null
    /// until then (zero bytes, so an unsplit stream in a static is in
    /// `.bss`; no slot exists before `split`, so it is never offset).
    pub(crate) base: *mut u8,
}

// SAFETY: the ends share a `PacketStream` by `&` from different threads.
// Everything both touch is an atomic (ring indices, slot states) or a ring
// entry accessed under the single-producer single-consumer protocol
// (`Ring`). The buffer behind `base` is reached only through a packet
// handle, which exists only for a slot in the state owned by its end (see
// `slot_state`), so no two threads make views of one slot at once.
// `geometry` and `base` change only under `&mut self` in `split`.
unsafe impl<const SLOTS: usize, const QUEUE: usize> Sync for PacketStream<SLOTS, QUEUE> {}
// SAFETY: `base` is a borrowed buffer's address; moving the control block to
// another thread moves no ownership of that memory (the borrow in `split`
// bounds all use of it).
unsafe impl<const SLOTS: usize, const QUEUE: usize> Send for PacketStream<SLOTS, QUEUE> {}

impl<const SLOTS: usize, const QUEUE: usize> Default for PacketStream<SLOTS, QUEUE> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const SLOTS: usize, const QUEUE: usize> PacketStream<SLOTS, QUEUE> {
    const SLOTS_FIT_A_FREE_LIST: () =
        assert!(SLOTS >= 1 && SLOTS <= 1 << 16, "SLOTS must be in 1..=65536");

    /// An unsplit stream: empty rings, no buffer.
    pub const fn new() -> Self {
        let () = Self::SLOTS_FIT_A_FREE_LIST;
        Self {
            submit: Ring::new(),
            acknowledge: Ring::new(),
            states: [const { AtomicU8::new(slot_state::AT_SOURCE) }; SLOTS],
            acknowledgement_signal_off: AtomicBool::new(false),
            geometry: Geometry::new(0, 0),
            base: core::ptr::null_mut(),
        }
    }

    /// Cuts `buffer` into slots of `slot_size` bytes (a tail shorter than a
    /// slot stays unused) and returns the two ends. The rings start empty
    /// and every slot free at the source, also when a stream is split again
    /// after its ends are gone.
    ///
    /// `to_sink` are the signals the source raises at the sink, `to_source`
    /// the ones the sink raises at the source.
    #[allow(clippy::type_complexity, reason = "the two ends, each with its signals")]
    pub fn split<'a, N: Notify, M: Notify>(
        &'a mut self,
        buffer: &'a mut [u8],
        slot_size: usize,
        to_sink: ToSink<N>,
        to_source: ToSource<M>,
    ) -> Result<(Source<'a, SLOTS, QUEUE, N>, Sink<'a, SLOTS, QUEUE, M>), ConfigError> {
        if slot_size == 0 {
            return Err(ConfigError::SlotSizeZero);
        }
        let slot_count = buffer.len() / slot_size;
        if slot_count == 0 {
            return Err(ConfigError::NoSlot);
        }
        if slot_count > SLOTS {
            return Err(ConfigError::TooManySlots);
        }
        if u32::try_from(slot_count * slot_size).is_err() {
            return Err(ConfigError::BufferTooLarge);
        }
        self.clear();
        self.geometry = Geometry::new(slot_size, slot_count);
        // The buffer's only use from here on is through this pointer, for
        // `'a`: the `&'a mut` is consumed.
        self.base = buffer.as_mut_ptr();
        let stream: &'a Self = self;
        Ok((Source::new(stream, to_sink), Sink::new(stream, to_source)))
    }

    /// Empties both rings and gives every slot to the source: where
    /// [`split`](Self::split) starts and [`Source::restart`] returns to.
    /// Only while no end uses the stream (`&mut` to it, or both ends
    /// borrowed exclusively).
    pub(crate) fn clear(&self) {
        self.submit.clear();
        self.acknowledge.clear();
        self.acknowledgement_signal_off.store(false, Ordering::Relaxed);
        for state in &self.states {
            state.store(slot_state::AT_SOURCE, Ordering::Relaxed);
        }
    }

    /// Starts a split stream afresh for a new peer: [`clear`](Self::clear)
    /// and every slot zeroed, so that the new peer never reads what the
    /// last one left in the buffer (a frame it sent, or built and never
    /// sent): the slots a stream started afresh lends ([`Source::restart`],
    /// [`Source::replace_sink`], [`Sink::replace_source`]) are as a new
    /// buffer's would be.
    ///
    /// # Safety
    ///
    /// The stream was split (it has a buffer), and no packet handle on any
    /// of its slots is used from here on (none is out, or the one end that
    /// holds some is never used again): nothing views the bytes written.
    pub(crate) unsafe fn start_afresh(&self) {
        self.clear();
        let bytes = self.geometry.slot_count * self.geometry.slot_size;
        // SAFETY: `split` set `base` to a buffer of at least `bytes` bytes,
        // lent for as long as the ends live; no view of it exists
        // (caller's contract), so these writes alias nothing.
        unsafe { core::ptr::write_bytes(self.base, 0, bytes) };
    }

    /// A handle on `slot` for the end that owns it now.
    ///
    /// # Safety
    ///
    /// `slot < slot_count`, and the caller's end owns the slot by its state
    /// and holds no other handle on it: the handle becomes its only way in.
    pub(crate) unsafe fn handle(&self, slot: usize, length: usize, tag: u32) -> SlotHandle<'_> {
        debug_assert!(slot < self.geometry.slot_count && length <= self.geometry.slot_size);
        // SAFETY: `slot * slot_size` is inside the buffer `base` points to
        // (caller's contract: `slot < slot_count`, so `split` set `base` to
        // a buffer's first byte, which is not null).
        let start =
            unsafe { NonNull::new_unchecked(self.base.add(slot * self.geometry.slot_size)) };
        SlotHandle {
            start,
            slot,
            capacity: self.geometry.slot_size,
            length,
            tag,
            _buffer: PhantomData,
        }
    }

    /// The slot a handle's memory is, if it is one of this stream's
    /// (a handle from another stream is refused, not trusted): the slot
    /// the handle says, once its memory is found to be that slot's.
    pub(crate) fn slot_of(&self, handle: &SlotHandle<'_>) -> Option<usize> {
        let slot = handle.slot;
        let start = (self.base as usize).wrapping_add(slot.wrapping_mul(self.geometry.slot_size));
        let ours = handle.capacity == self.geometry.slot_size
            && slot < self.geometry.slot_count
            && handle.start.as_ptr() as usize == start;
        ours.then_some(slot)
    }
}

/// One slot, owned: the common part of [`SourcePacket`] and [`SinkPacket`].
///
/// Plain data (an address and lengths, no reference), so moving a handle
/// into `submit` or `acknowledge` keeps no borrow of the slot alive after
/// the slot has changed hands; views are made on demand and borrow the
/// handle.
pub(crate) struct SlotHandle<'a> {
    start: NonNull<u8>,
    /// The slot `start` is in its stream (checked against `start` before
    /// the stream trusts it).
    slot: usize,
    capacity: usize,
    pub length: usize,
    pub tag: u32,
    _buffer: PhantomData<&'a mut [u8]>,
}

// SAFETY: a handle is the sole owner of its slot's bytes, like a
// `&'a mut [u8]`, which is `Send`.
unsafe impl Send for SlotHandle<'_> {}
// SAFETY: through `&SlotHandle` only `&[u8]` views can be made, like
// through `&&mut [u8]`, which is `Sync`.
unsafe impl Sync for SlotHandle<'_> {}

impl SlotHandle<'_> {
    fn bytes(&self) -> &[u8] {
        // SAFETY: the handle owns `capacity` bytes at `start` inside the
        // lent buffer (made by `PacketStream::handle` for a slot its end
        // owns); `length <= capacity` is kept by every setter; the view
        // borrows the handle, so it ends before the handle is given away.
        unsafe { core::slice::from_raw_parts(self.start.as_ptr(), self.length) }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and `&mut self` makes this the only view.
        unsafe { core::slice::from_raw_parts_mut(self.start.as_ptr(), self.length) }
    }
}

macro_rules! packet_handle {
    ($(#[$doc:meta])* $name:ident, $set_length_doc:literal, $limit:ident) => {
        $(#[$doc])*
        #[must_use = "a packet handle owns its slot: submit, acknowledge or release it"]
        pub struct $name<'a>(pub(crate) SlotHandle<'a>);

        impl $name<'_> {
            /// The packet's bytes, in place in the shared buffer.
            pub fn payload(&self) -> &[u8] {
                self.0.bytes()
            }

            /// The packet's bytes, writable in place.
            pub fn payload_mut(&mut self) -> &mut [u8] {
                self.0.bytes_mut()
            }

            /// The packet's length in bytes.
            pub fn len(&self) -> usize {
                self.0.length
            }

            /// Whether the packet has no bytes.
            pub fn is_empty(&self) -> bool {
                self.0.length == 0
            }

            /// The tag carried with the descriptor.
            pub fn tag(&self) -> u32 {
                self.0.tag
            }

            /// Sets the tag that travels with the descriptor.
            pub fn set_tag(&mut self, tag: u32) {
                self.0.tag = tag;
            }

            #[doc = $set_length_doc]
            pub fn set_len(&mut self, length: usize) -> Result<(), usize> {
                let limit = self.0.$limit;
                if length > limit {
                    return Err(limit);
                }
                self.0.length = length;
                Ok(())
            }
        }

        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("address", &self.0.start)
                    .field("length", &self.0.length)
                    .field("tag", &self.0.tag)
                    .finish()
            }
        }
    };
}

packet_handle!(
    /// A slot the source owns: allocated, or given back by an
    /// acknowledgement. Fill it and [`Source::submit`] it, or
    /// [`Source::release`] it.
    SourcePacket,
    "Sets the length, up to the slot size (returned as the error if exceeded).",
    capacity
);

impl SourcePacket<'_> {
    /// The largest length the packet can have (the slot size).
    pub fn capacity(&self) -> usize {
        self.0.capacity
    }
}

packet_handle!(
    /// A submitted packet the sink has taken and checked: read or write it
    /// in place, then [`Sink::acknowledge`] it.
    SinkPacket,
    "Shortens the packet (the acknowledgement carries the new length); a length above the current one is refused with the current one as the error.",
    length
);
