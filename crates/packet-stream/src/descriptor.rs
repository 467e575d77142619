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
}

impl Geometry {
    /// The slot a descriptor names, if it lies wholly inside one slot of the
    /// buffer. Pure arithmetic: nothing is read from the buffer.
    pub fn slot_of(&self, descriptor: Descriptor) -> Result<usize, Invalid> {
        let end =
            descriptor.offset.checked_add(descriptor.length).ok_or(Invalid::OffsetOverflow)?;
        let bulk = self.slot_size * self.slot_count;
        // `offset <= end`, so checking the end covers both.
        if end as usize > bulk || descriptor.offset as usize >= bulk {
            return Err(Invalid::OutOfBounds);
        }
        let offset = descriptor.offset as usize;
        if !offset.is_multiple_of(self.slot_size) {
            return Err(Invalid::Misaligned);
        }
        if descriptor.length as usize > self.slot_size {
            return Err(Invalid::TooLong);
        }
        Ok(offset / self.slot_size)
    }

    /// The offset of a slot's first byte (fits in `u32` by construction).
    pub fn offset_of(&self, slot: usize) -> u32 {
        (slot * self.slot_size) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GEOMETRY: Geometry = Geometry { slot_size: 256, slot_count: 4 };

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
}
