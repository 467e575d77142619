//! Moving frames between byte buffers and a device's 32-bit data port (a
//! FIFO register, or buffer RAM that takes only word accesses).
//!
//! Both of Ferrode's targets forbid unaligned word accesses, so a copy
//! loop over `&[u8]` stores a word as four bytes unless the buffer is
//! known to be word-aligned. [`read_words`] and [`write_words`] check that
//! once per frame and then move one whole word per access; a buffer on
//! any other boundary is copied byte by byte, with the same result. The
//! frame buffers Ferrode lends the drivers are word-aligned
//! ([`FrameBuffer`], the NIC session's packet memory).
//!
//! A word is in memory order here: its native-endian bytes are the four
//! bytes it carries, first byte first. A driver whose port defines another
//! order converts (the LAN9118's FIFOs carry the first byte in bits 7:0,
//! which is `u32::from_ne_bytes(value.to_le_bytes())`).

use crate::MAX_FRAME_LEN;

/// One Ethernet frame's memory, on a word boundary.
#[derive(Clone, Debug, PartialEq, Eq)]
#[repr(C, align(4))]
pub struct FrameBuffer(pub [u8; MAX_FRAME_LEN]);

impl FrameBuffer {
    /// All zero (`const`, so a `static` of it is in `.bss`).
    pub const fn new() -> Self {
        Self([0; MAX_FRAME_LEN])
    }
}

impl Default for FrameBuffer {
    fn default() -> Self {
        Self::new()
    }
}

/// Fills `out` from `next`: one word per four bytes, and one more for the
/// last one to three bytes (its other bytes are dropped). Returns how many
/// words it took.
pub fn read_words(out: &mut [u8], mut next: impl FnMut() -> u32) -> usize {
    let (whole, tail) = out.split_at_mut(out.len() & !3);
    let mut count = whole.len() / 4;
    match bytemuck::try_cast_slice_mut::<u8, u32>(whole) {
        Ok(words) => words.iter_mut().for_each(|word| *word = next()),
        Err(_) => whole.chunks_exact_mut(4).for_each(|chunk| {
            chunk.copy_from_slice(&next().to_ne_bytes());
        }),
    }
    if !tail.is_empty() {
        let word = next().to_ne_bytes();
        tail.copy_from_slice(&word[..tail.len()]);
        count += 1;
    }
    count
}

/// Passes `bytes` to `put`: one word per four bytes, and one more for the
/// last one to three bytes, zero-padded. Returns how many words it put.
pub fn write_words(bytes: &[u8], mut put: impl FnMut(u32)) -> usize {
    let (whole, tail) = bytes.split_at(bytes.len() & !3);
    let mut count = whole.len() / 4;
    match bytemuck::try_cast_slice::<u8, u32>(whole) {
        Ok(words) => words.iter().for_each(|&word| put(word)),
        Err(_) => whole.chunks_exact(4).for_each(|chunk| {
            put(u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
        }),
    }
    if !tail.is_empty() {
        let mut word = [0; 4];
        word[..tail.len()].copy_from_slice(tail);
        put(u32::from_ne_bytes(word));
        count += 1;
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

    /// Every length up to 13 and a whole frame, at a word boundary and at
    /// the three offsets past one: the same bytes either way, nothing past
    /// the end written, one word per four bytes and one for the rest.
    #[test]
    fn reading_fills_aligned_and_unaligned_buffers_alike() {
        for len in (0..=13).chain([MAX_FRAME_LEN]) {
            for offset in 0..4 {
                let mut buffer = FrameBuffer([0xee; MAX_FRAME_LEN]);
                let end = (offset + len).min(MAX_FRAME_LEN);
                let start = end - len;
                let words = port_words(len);
                let mut port = words.iter().copied();
                let taken = read_words(&mut buffer.0[start..end], || port.next().unwrap());
                assert_eq!(taken, len.div_ceil(4), "len {len} at {start}");
                let expected: Vec<u8> = (1..=len).map(|i| i as u8).collect();
                assert_eq!(&buffer.0[start..end], &expected[..], "len {len} at {start}");
                assert!(buffer.0[..start].iter().all(|&b| b == 0xee), "before, len {len}");
                assert!(buffer.0[end..].iter().all(|&b| b == 0xee), "after, len {len}");
            }
        }
    }

    #[test]
    fn writing_pads_the_last_word_with_zeros_at_any_boundary() {
        for len in (0..=13).chain([MAX_FRAME_LEN]) {
            for offset in 0..4 {
                let mut buffer = FrameBuffer::new();
                let end = (offset + len).min(MAX_FRAME_LEN);
                let start = end - len;
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

    #[test]
    fn frame_buffers_start_on_a_word_boundary() {
        let frames = [FrameBuffer::new(), FrameBuffer::new(), FrameBuffer::new()];
        for frame in &frames {
            assert_eq!(frame.0.as_ptr() as usize % 4, 0);
        }
        assert_eq!(core::mem::align_of::<FrameBuffer>(), 4);
    }
}
