//! Moving frames between byte buffers and a device's 32-bit data port (a
//! FIFO register, or buffer RAM that takes only word accesses).
//!
//! Both of Ferrode's targets forbid unaligned word accesses, so a copy
//! loop over `&[u8]` stores a word as four bytes unless the buffer is
//! known to be word-aligned. [`read_words`] and [`write_words`] look at the
//! buffer's boundary once per frame and then make one whole-word memory
//! access per port word: on a word boundary the port's words are the
//! buffer's, and on any other boundary each buffer word is put together
//! from two port words (a shift and an or), with the same result.
//!
//! Ferrode lends drivers frames that start [`FRAME_OFFSET`] (2) bytes past
//! a word ([`FrameBuffer`], the NIC session's packet memory): the 14-byte
//! Ethernet header then ends on a word, and the IP header and the TCP or
//! UDP payload behind it are word-aligned, so the network stack's copies
//! of payload (frame to socket buffer and back, `memcpy`) move whole words
//! too. That is the layout Linux calls `NET_IP_ALIGN`.
//!
//! A word is in memory order here: its native-endian bytes are the four
//! bytes it carries, first byte first. A driver whose port defines another
//! order converts (the LAN9118's FIFOs carry the first byte in bits 7:0,
//! which is `u32::from_ne_bytes(value.to_le_bytes())`).

use crate::MAX_FRAME_LEN;

/// Where a frame starts in a [`FrameBuffer`], in bytes past a word boundary:
/// its payload behind the 14-byte Ethernet header is then word-aligned.
pub const FRAME_OFFSET: usize = 2;

/// One Ethernet frame's memory: [`MAX_FRAME_LEN`] bytes that start
/// [`FRAME_OFFSET`] bytes past a word boundary.
#[derive(Clone, Debug, PartialEq, Eq)]
#[repr(C, align(4))]
pub struct FrameBuffer {
    _headroom: [u8; FRAME_OFFSET],
    frame: [u8; MAX_FRAME_LEN],
}

impl FrameBuffer {
    /// All zero (`const`, so a `static` of it is in `.bss`).
    pub const fn new() -> Self {
        Self { _headroom: [0; FRAME_OFFSET], frame: [0; MAX_FRAME_LEN] }
    }

    /// The frame's bytes.
    pub const fn frame(&self) -> &[u8; MAX_FRAME_LEN] {
        &self.frame
    }

    /// The frame's bytes, writable.
    pub const fn frame_mut(&mut self) -> &mut [u8; MAX_FRAME_LEN] {
        &mut self.frame
    }
}

impl Default for FrameBuffer {
    fn default() -> Self {
        Self::new()
    }
}

/// A port word's bytes as a little-endian value: the first byte in bits
/// 7:0, whatever the processor's byte order, so shifts move bytes along.
const fn ordered(word: u32) -> u32 {
    u32::from_le_bytes(word.to_ne_bytes())
}

/// The inverse of [`ordered`].
const fn unordered(value: u32) -> u32 {
    u32::from_ne_bytes(value.to_le_bytes())
}

/// Bytes from `address` to the next word boundary (0 on one).
fn head_len(address: *const u8) -> usize {
    (address as usize).wrapping_neg() & 3
}

/// Stores `next()` into each four bytes of `bytes`: one word store each.
/// The callers pass a slice that is a multiple of four long and, unless
/// empty, starts on a word boundary (found from its address), so the cast
/// cannot fail.
fn store_words(bytes: &mut [u8], mut next: impl FnMut() -> u32) {
    if !bytes.is_empty() {
        bytemuck::cast_slice_mut::<u8, u32>(bytes).iter_mut().for_each(|word| *word = next());
    }
}

/// Passes each four bytes of `bytes` to `put`: one word load each. As for
/// [`store_words`], the slice is whole words long and, unless empty,
/// starts on a word.
fn load_words(bytes: &[u8], mut put: impl FnMut(u32)) {
    if !bytes.is_empty() {
        bytemuck::cast_slice::<u8, u32>(bytes).iter().for_each(|&word| put(word));
    }
}

/// Fills `out` from `next`: one word per four bytes, and one more for the
/// last one to three bytes (its other bytes are dropped). Returns how many
/// words it took.
pub fn read_words(out: &mut [u8], mut next: impl FnMut() -> u32) -> usize {
    let count = out.len().div_ceil(4);
    let head = head_len(out.as_ptr()).min(out.len());
    if head == 0 {
        let (whole, tail) = out.split_at_mut(out.len() & !3);
        store_words(whole, &mut next);
        if !tail.is_empty() {
            tail.copy_from_slice(&next().to_ne_bytes()[..tail.len()]);
        }
        return count;
    }
    // The first port word fills the head; its other bytes (`carry`,
    // `4 - head` of them, first byte lowest) begin the first aligned word,
    // and each later port word tops up one and carries the rest on.
    let (first, rest) = out.split_at_mut(head);
    let word = ordered(next());
    first.copy_from_slice(&word.to_le_bytes()[..head]);
    let carried = 4 - head;
    let mut carry = word >> (8 * head);
    let (whole, tail) = rest.split_at_mut(rest.len() & !3);
    store_words(whole, || {
        let word = ordered(next());
        let joined = carry | word << (8 * carried);
        carry = word >> (8 * head);
        unordered(joined)
    });
    if !tail.is_empty() {
        // The carried bytes, and the last port word's if they are short.
        let mut last = u64::from(carry);
        if tail.len() > carried {
            last |= u64::from(ordered(next())) << (8 * carried);
        }
        tail.copy_from_slice(&last.to_le_bytes()[..tail.len()]);
    }
    count
}

/// Passes `bytes` to `put`: one word per four bytes, and one more for the
/// last one to three bytes, zero-padded. Returns how many words it put.
pub fn write_words(bytes: &[u8], mut put: impl FnMut(u32)) -> usize {
    let count = bytes.len().div_ceil(4);
    let head = head_len(bytes.as_ptr()).min(bytes.len());
    if head == 0 {
        let (whole, tail) = bytes.split_at(bytes.len() & !3);
        load_words(whole, &mut put);
        if !tail.is_empty() {
            let mut word = [0; 4];
            word[..tail.len()].copy_from_slice(tail);
            put(u32::from_ne_bytes(word));
        }
        return count;
    }
    // `pending` holds the `head` bytes not yet put, first byte lowest: the
    // head's, then what is left of each aligned word after it topped up
    // the word before.
    let (first, rest) = bytes.split_at(head);
    let mut pending = [0; 4];
    pending[..head].copy_from_slice(first);
    let mut pending = u32::from_le_bytes(pending);
    let (whole, tail) = rest.split_at(rest.len() & !3);
    load_words(whole, |word| {
        let word = ordered(word);
        put(unordered(pending | word << (8 * head)));
        pending = word >> (8 * (4 - head));
    });
    // The pending bytes and the tail's, zero-padded: one word, or two if
    // they are more than four.
    let mut last = [0; 8];
    last[..4].copy_from_slice(&pending.to_le_bytes());
    last[head..head + tail.len()].copy_from_slice(tail);
    let last = u64::from_le_bytes(last);
    put(unordered(last as u32));
    if head + tail.len() > 4 {
        put(unordered((last >> 32) as u32));
    }
    count
}

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use super::*;

    /// Bytes 1, 2, 3, ... as the words a port would carry them in.
    fn port_words(len: usize) -> Vec<u32> {
        let bytes: Vec<u8> = (1..=len.next_multiple_of(4)).map(|i| i as u8).collect();
        bytes.chunks(4).map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]])).collect()
    }

    /// A word-aligned buffer with room for a whole frame at any offset.
    #[repr(C, align(4))]
    struct Aligned([u8; MAX_FRAME_LEN + 8]);

    /// Every length up to 40 and a whole frame, at a word boundary and at
    /// the three offsets past one: the same bytes either way, nothing past
    /// the end written, one word per four bytes and one for the rest.
    #[test]
    fn reading_fills_aligned_and_unaligned_buffers_alike() {
        for len in (0..=40).chain([MAX_FRAME_LEN - 1, MAX_FRAME_LEN]) {
            for start in 0..4 {
                let mut buffer = Aligned([0xee; MAX_FRAME_LEN + 8]);
                let end = start + len;
                let words = port_words(len);
                let mut port = words.iter().copied();
                let taken = read_words(&mut buffer.0[start..end], || port.next().unwrap());
                assert_eq!(taken, len.div_ceil(4), "len {len} at {start}");
                assert_eq!(port.next(), None, "len {len} at {start}: words left");
                let expected: Vec<u8> = (1..=len).map(|i| i as u8).collect();
                assert_eq!(&buffer.0[start..end], &expected[..], "len {len} at {start}");
                assert!(buffer.0[..start].iter().all(|&b| b == 0xee), "before, len {len}");
                assert!(buffer.0[end..].iter().all(|&b| b == 0xee), "after, len {len}");
            }
        }
    }

    #[test]
    fn writing_pads_the_last_word_with_zeros_at_any_boundary() {
        for len in (0..=40).chain([MAX_FRAME_LEN - 1, MAX_FRAME_LEN]) {
            for start in 0..4 {
                let mut buffer = Aligned([0xee; MAX_FRAME_LEN + 8]);
                let end = start + len;
                for (i, byte) in buffer.0[start..end].iter_mut().enumerate() {
                    *byte = (i + 1) as u8;
                }
                let mut put = Vec::new();
                let count = write_words(&buffer.0[start..end], |word| put.push(word));
                assert_eq!(count, put.len());
                let mut expected = port_words(len);
                if let Some(last) = expected.last_mut()
                    && len % 4 != 0
                {
                    let mut bytes = last.to_ne_bytes();
                    bytes[len % 4..].fill(0);
                    *last = u32::from_ne_bytes(bytes);
                }
                assert_eq!(put, expected, "len {len} at {start}");
            }
        }
    }

    /// A frame in a `FrameBuffer` starts 2 bytes past a word, so its IP
    /// header (after 14 bytes of Ethernet header) starts on one.
    #[test]
    fn frames_start_two_bytes_past_a_word_so_ip_headers_are_aligned() {
        let mut frames = [FrameBuffer::new(), FrameBuffer::new(), FrameBuffer::new()];
        for frame in &mut frames {
            assert_eq!(frame.frame().as_ptr() as usize % 4, FRAME_OFFSET);
            assert_eq!(frame.frame_mut()[14..].as_ptr() as usize % 4, 0);
        }
        assert_eq!(core::mem::align_of::<FrameBuffer>(), 4);
        assert_eq!(
            core::mem::size_of::<FrameBuffer>(),
            (FRAME_OFFSET + MAX_FRAME_LEN).next_multiple_of(4)
        );
    }
}
