//! Packet descriptors and the checks both ends apply to the ones they receive.

use core::fmt;

/// A packet as it travels through the rings: where it lies in the shared
/// buffer and a tag the two ends may use as they agree (a request id, a
/// status in an acknowledgement).
///
/// A descriptor is plain data that either end may have forged; neither end
/// touches memory for one before it has been checked ([`Invalid`] names
/// what a check can find).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Descriptor {
    /// Byte offset of the packet in the shared buffer.
    pub offset: u32,
    /// Length of the packet in bytes.
    pub length: u32,
    /// Free for the two ends (the stream carries it unchanged).
    pub tag: u32,
}

impl Descriptor {
    /// The all-zero descriptor (what an unused ring entry holds).
    pub const ZERO: Self = Self { offset: 0, length: 0, tag: 0 };
}

/// Why a received descriptor was refused. The descriptor is dropped and
/// counted; no memory was touched for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// `offset + length` does not fit in 32 bits.
    OffsetOverflow,
    /// The packet starts or ends outside the shared buffer.
    OutOfBounds,
    /// The offset is not the start of a slot.
    Misaligned,
    /// The packet is longer than a slot (it would reach into the next one).
    TooLong,
    /// Sink side: the slot was not submitted (it is with the source, already
    /// taken by the sink, or acknowledged): a duplicate or forged descriptor.
    NotSubmitted,
    /// Source side: the slot is not acknowledged by the sink (a double
    /// acknowledgement, or one for a packet that was never outstanding).
    NotOutstanding,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OffsetOverflow => "offset plus length overflows",
            Self::OutOfBounds => "packet lies outside the shared buffer",
            Self::Misaligned => "offset is not the start of a slot",
            Self::TooLong => "packet is longer than a slot",
            Self::NotSubmitted => "packet was not submitted",
            Self::NotOutstanding => "packet was not outstanding",
        })
    }
}

impl core::error::Error for Invalid {}

/// How the shared buffer is cut into slots; fixed when the stream is split.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geometry {
    /// Bytes per slot (at least 1).
    pub slot_size: usize,
    /// Number of slots (at least 1); `slot_size * slot_count` fits in `u32`.
    pub slot_count: usize,
    /// `ceil(2^32 / slot_size)`: an offset inside the buffer times this,
    /// shifted right by 32, is its slot if the offset starts one. That
    /// takes one multiplication where a division would take a library
    /// call on PBX-A9's Cortex-A9, which has no divide instruction.
    reciprocal: u64,
}

impl Geometry {
    /// `slot_count` slots of `slot_size` bytes; no slot at all if either
    /// is 0 (an unsplit stream).
    pub const fn new(slot_size: usize, slot_count: usize) -> Self {
        let reciprocal = if slot_size == 0 { 0 } else { (u32::MAX as u64) / slot_size as u64 + 1 };
        Self { slot_size, slot_count, reciprocal }
    }

    /// The slot a descriptor names, if it lies wholly inside one slot of the
    /// buffer. Pure arithmetic: nothing is read from the buffer.
    #[inline]
    pub fn slot_of(&self, descriptor: Descriptor) -> Result<usize, Invalid> {
        let end =
            descriptor.offset.checked_add(descriptor.length).ok_or(Invalid::OffsetOverflow)?;
        let bulk = self.slot_size * self.slot_count;
        // `offset <= end`, so checking the end covers both.
        if end as usize > bulk || descriptor.offset as usize >= bulk {
            return Err(Invalid::OutOfBounds);
        }
        // For `offset = k * slot_size` the product is `k * 2^32` plus
        // `k * e` with `e < slot_size` (the reciprocal's rounding), and
        // `k * e < offset < 2^32`: the shift gives exactly `k`. Any other
        // offset gives a slot whose start is not the offset.
        let slot = (u64::from(descriptor.offset) * self.reciprocal) >> 32;
        if slot * self.slot_size as u64 != u64::from(descriptor.offset) {
            return Err(Invalid::Misaligned);
        }
        if descriptor.length as usize > self.slot_size {
            return Err(Invalid::TooLong);
        }
        Ok(slot as usize)
    }

    /// The offset of a slot's first byte (fits in `u32` by construction).
    pub fn offset_of(&self, slot: usize) -> u32 {
        (slot * self.slot_size) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GEOMETRY: Geometry = Geometry::new(256, 4);

    fn check(offset: u32, length: u32) -> Result<usize, Invalid> {
        GEOMETRY.slot_of(Descriptor { offset, length, tag: 0 })
    }

    #[test]
    fn descriptors_inside_one_slot_name_it() {
        assert_eq!(check(0, 0), Ok(0));
        assert_eq!(check(256, 256), Ok(1));
        assert_eq!(check(768, 256), Ok(3));
    }

    #[test]
    fn descriptors_outside_or_across_slots_are_refused() {
        assert_eq!(check(u32::MAX, 2), Err(Invalid::OffsetOverflow));
        assert_eq!(check(1024, 0), Err(Invalid::OutOfBounds));
        assert_eq!(check(768, 257), Err(Invalid::OutOfBounds));
        assert_eq!(check(0x8000_0000, 16), Err(Invalid::OutOfBounds));
        assert_eq!(check(100, 10), Err(Invalid::Misaligned));
        assert_eq!(check(0, 300), Err(Invalid::TooLong));
    }

    /// Every offset of buffers cut into slots of sizes that do and do not
    /// divide 2^32, up to the largest buffer a stream takes: the slot a
    /// division gives for each slot start, and `Misaligned` for every
    /// other offset.
    #[test]
    fn slots_are_found_as_a_division_would_find_them() {
        for slot_size in [1, 3, 7, 60, 256, 1514, 1536, 2048, 4099] {
            let slot_count = 40_000.min(u32::MAX as usize / slot_size);
            let geometry = Geometry::new(slot_size, slot_count);
            let bulk = slot_size * slot_count;
            // Fewer under Miri, which runs this about a thousand times slower.
            let span = if cfg!(miri) { 300 } else { 200_000 };
            let offsets = (0..bulk.min(span)).chain(bulk.saturating_sub(span)..bulk);
            for offset in offsets {
                let found =
                    geometry.slot_of(Descriptor { offset: offset as u32, length: 0, tag: 0 });
                let expected = if offset % slot_size == 0 {
                    Ok(offset / slot_size)
                } else {
                    Err(Invalid::Misaligned)
                };
                assert_eq!(found, expected, "offset {offset}, slots of {slot_size}");
            }
        }
        // The largest buffer at all: slots of 65,537 bytes, 65,535 of them.
        let geometry = Geometry::new(65_537, 65_535);
        for slot in [0, 1, 2, 40_000, 65_533, 65_534] {
            let offset = (slot * 65_537) as u32;
            assert_eq!(geometry.slot_of(Descriptor { offset, length: 1, tag: 0 }), Ok(slot));
            assert_eq!(
                geometry.slot_of(Descriptor { offset: offset + 1, length: 1, tag: 0 }),
                Err(Invalid::Misaligned)
            );
        }
    }
}
