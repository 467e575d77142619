//! FIFO word formats: TX command words and RX status words (datasheet
//! 3.12.2 TX command format, 3.13.3 RX status format), as pure functions.

/// TX command A: FIRST_SEG (bit 13), LAST_SEG (bit 12), buffer size (10:0);
/// data start offset 0, 4-byte end alignment.
/// TX command B: packet tag (31:16), packet length (10:0).
/// The whole frame goes in one buffer.
pub const fn transmit_commands(length: usize, tag: u16) -> (u32, u32) {
    let length = (length & 0x7ff) as u32;
    let command_a = (1 << 13) | (1 << 12) | length;
    let command_b = ((tag as u32) << 16) | length;
    (command_a, command_b)
}

/// Number of 32-bit FIFO words a `length`-byte buffer occupies.
pub const fn receive_words(length: usize) -> usize {
    length.div_ceil(4)
}

/// A decoded RX status word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiveStatus(pub u32);

impl ReceiveStatus {
    /// Bytes in the RX data FIFO for this frame, including the 4-byte FCS
    /// (bits 29:16).
    pub const fn packet_length(self) -> usize {
        ((self.0 >> 16) & 0x3fff) as usize
    }

    /// The frame's length without its FCS.
    pub const fn frame_length(self) -> usize {
        self.packet_length().saturating_sub(4)
    }

    /// Error Status (bit 15): the summary of CRC, collision, too-long, MII
    /// and length errors.
    pub const fn has_error(self) -> bool {
        self.0 & (1 << 15) != 0
    }

    /// Runt Frame (bit 11): shorter than 64 bytes on the wire, damaged.
    pub const fn is_runt(self) -> bool {
        self.0 & (1 << 11) != 0
    }

    /// Filtering Fail (bit 30): only delivered in receive-all mode.
    pub const fn failed_filter(self) -> bool {
        self.0 & (1 << 30) != 0
    }
}

/// TX status Error Status (bit 15).
pub(crate) const fn transmit_failed(status: u32) -> bool {
    status & (1 << 15) != 0
}
