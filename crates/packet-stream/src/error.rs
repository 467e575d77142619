//! The errors of the two ends.

use core::fmt;

use crate::{Descriptor, Invalid};

/// A packet handed back instead of being sent: back-pressure, not loss.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused<P> {
    /// The ring is full: wait for the peer's "ready" signal and retry.
    Full(P),
    /// The packet belongs to another stream.
    Foreign(P),
}

impl<P> Refused<P> {
    /// The packet, back in the caller's hands.
    pub fn into_packet(self) -> P {
        match self {
            Self::Full(packet) | Self::Foreign(packet) => packet,
        }
    }
}

/// Why the source could not allocate a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocError {
    /// Longer than a slot.
    TooLong,
    /// Every slot is in flight: wait for an acknowledgement.
    Exhausted,
}

/// Why nothing usable came out of a ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiveError {
    /// The ring is empty: wait for the peer's "available" signal.
    Empty,
    /// The descriptor taken from the ring failed a check; it was dropped and
    /// counted, nothing was touched for it. Take the next one.
    Rejected {
        /// What the peer put in the ring.
        descriptor: Descriptor,
        /// What is wrong with it.
        reason: Invalid,
    },
}

impl fmt::Display for ReceiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("ring is empty"),
            Self::Rejected { descriptor, reason } => write!(
                f,
                "descriptor (offset {:#x}, length {}) rejected: {reason}",
                descriptor.offset, descriptor.length
            ),
        }
    }
}

impl core::error::Error for ReceiveError {}

/// Why [`Source::restart`](crate::Source::restart) left a stream as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartError {
    /// The sink is an end of another stream.
    ForeignSink,
    /// A packet handle is still out (a `SourcePacket` neither submitted
    /// nor released, or a `SinkPacket` not acknowledged): its slot cannot
    /// be handed out again while someone may still write it.
    PacketsOut,
}

impl fmt::Display for RestartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ForeignSink => "the sink is another stream's",
            Self::PacketsOut => "a packet of the stream is still held",
        })
    }
}

impl core::error::Error for RestartError {}
