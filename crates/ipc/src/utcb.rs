//! The user-level thread control block: message header, words and capability slots.

use crate::capability::CapSel;

/// Message words per UTCB, each of the machine word size.
pub const MSG_WORDS: usize = 64;

/// Capability slots per UTCB.
pub const MSG_CAPS: usize = 4;

/// A thread's message buffer, read and written by the kernel on IPC.
///
/// Layout (`#[repr(C)]`, W = machine word size in bytes; offsets are
/// exported as `OFFSET_*` for the kernel's assembly fast path):
///
/// | offset (W = 4) | field         | type           |
/// |----------------|---------------|----------------|
/// | 0x000          | `label`       | usize          |
/// | 0x004          | `badge`       | usize          |
/// | 0x008          | `word_count`  | u32            |
/// | 0x00c          | `cap_count`   | u32            |
/// | 0x010          | `error`       | u32            |
/// | 0x014          | `fresh`       | u32            |
/// | 0x018          | `words`       | [usize; 64]    |
/// | 0x118          | `caps`        | [CapSel; 4]    |
/// | 0x128          | (size)        |                |
///
/// Every bit pattern is a valid `Utcb`: the counts are plain integers that
/// readers check against the array bounds, so a kernel or a fuzzer may fill
/// it with anything. Only the first `word_count` words and `cap_count`
/// capabilities carry meaning; the rest is stale and never copied.
#[repr(C)]
#[derive(Clone, Debug)]
pub struct Utcb {
    /// Request: the opcode. Reply: 0 (reserved for future use).
    pub label: usize,
    /// Set by the kernel on receive: which RPC object the invoked
    /// capability designates. Ignored on send.
    pub badge: usize,
    /// Number of used entries at the start of `words`.
    pub word_count: u32,
    /// Number of used entries at the start of `caps`.
    pub cap_count: u32,
    /// 0, or a [`crate::TransportError`] code: set in a reply by a server
    /// that could not decode the request, or by the kernel.
    pub error: u32,
    /// Set by the kernel when it delivers capabilities (`cap_count` not
    /// 0): bit `i` says that `caps[i]` was added to the receiver's space
    /// by this delivery (it held no equal capability before), so dropping
    /// it gives back exactly what the message brought. Stale, and never
    /// read, when `cap_count` is 0 (the fast paths do not write it). Also
    /// keeps `words` aligned to 8 bytes on 32-bit machines (`ldrd`/`strd`).
    pub fresh: u32,
    /// The message words.
    pub words: [usize; MSG_WORDS],
    /// Capability selectors, in the sender's capability space on send and
    /// translated into the receiver's space by the kernel.
    pub caps: [CapSel; MSG_CAPS],
}

const WORD: usize = core::mem::size_of::<usize>();

impl Utcb {
    /// Byte offset of [`Utcb::label`].
    pub const OFFSET_LABEL: usize = core::mem::offset_of!(Utcb, label);
    /// Byte offset of [`Utcb::badge`].
    pub const OFFSET_BADGE: usize = core::mem::offset_of!(Utcb, badge);
    /// Byte offset of [`Utcb::word_count`].
    pub const OFFSET_WORD_COUNT: usize = core::mem::offset_of!(Utcb, word_count);
    /// Byte offset of [`Utcb::cap_count`].
    pub const OFFSET_CAP_COUNT: usize = core::mem::offset_of!(Utcb, cap_count);
    /// Byte offset of [`Utcb::error`].
    pub const OFFSET_ERROR: usize = core::mem::offset_of!(Utcb, error);
    /// Byte offset of [`Utcb::words`].
    pub const OFFSET_WORDS: usize = core::mem::offset_of!(Utcb, words);
    /// Byte offset of [`Utcb::caps`].
    pub const OFFSET_CAPS: usize = core::mem::offset_of!(Utcb, caps);

    /// An empty UTCB: no words, no capabilities, no error.
    pub const fn new() -> Self {
        Self {
            label: 0,
            badge: 0,
            word_count: 0,
            cap_count: 0,
            error: 0,
            fresh: 0,
            words: [0; MSG_WORDS],
            // Slots past `cap_count` are never read: zero, not
            // `CapSel::INVALID`, so that a UTCB in a `static` is all zero
            // bytes and lands in `.bss` rather than in the image's `.data`.
            caps: [CapSel(0); MSG_CAPS],
        }
    }

    /// The used message words, or `None` if `word_count` is out of range.
    #[inline]
    pub fn used_words(&self) -> Option<&[usize]> {
        self.words.get(..self.word_count as usize)
    }

    /// The used capability slots, or `None` if `cap_count` is out of range.
    #[inline]
    pub fn used_caps(&self) -> Option<&[CapSel]> {
        self.caps.get(..self.cap_count as usize)
    }

    /// The capabilities the last delivery added to this thread's space: a
    /// mask of `caps` indices, 0 when the message carried none.
    #[inline]
    pub fn fresh_caps(&self) -> u32 {
        match self.cap_count {
            0 => 0,
            count => self.fresh & ((1 << count.min(MSG_CAPS as u32)) - 1),
        }
    }

    /// The selectors of [`Utcb::fresh_caps`], copied out (the iterator
    /// borrows nothing, so the kernel may be entered while it runs).
    #[inline]
    pub fn fresh_selectors(&self) -> impl Iterator<Item = CapSel> + use<> {
        let (fresh, caps) = (self.fresh_caps(), self.caps);
        caps.into_iter()
            .enumerate()
            .filter(move |(index, _)| fresh & (1 << index) != 0)
            .map(|(_, selector)| selector)
    }

    /// Whether the reply in this UTCB is an `Ok`: no error code and a
    /// `Result` tag word of 0 (see the crate docs for the reply format).
    /// A refusal is anything else: an error reply, or a method's `Err`.
    #[inline]
    pub fn is_ok_reply(&self) -> bool {
        self.error == 0 && self.word_count != 0 && self.words[0] == 0
    }

    /// Copies the header and exactly the used words and capabilities of
    /// `source` into `self` (what the kernel does on IPC, without the
    /// capability translation, so no capability is fresh). Fails if a
    /// count is out of range.
    pub fn copy_message_from(&mut self, source: &Utcb) -> Result<(), crate::TransportError> {
        let words = source.used_words().ok_or(crate::TransportError::WrongLength)?;
        let caps = source.used_caps().ok_or(crate::TransportError::WrongLength)?;
        self.label = source.label;
        self.word_count = source.word_count;
        self.cap_count = source.cap_count;
        self.error = source.error;
        self.fresh = 0;
        self.words[..words.len()].copy_from_slice(words);
        self.caps[..caps.len()].copy_from_slice(caps);
        Ok(())
    }
}

impl Default for Utcb {
    fn default() -> Self {
        Self::new()
    }
}

// The kernel's assembly relies on these: the header is label, badge, then
// the two counts and the error code as 32-bit values, words 8-byte aligned.
const _: () = assert!(Utcb::OFFSET_LABEL == 0);
const _: () = assert!(Utcb::OFFSET_BADGE == WORD);
const _: () = assert!(Utcb::OFFSET_WORD_COUNT == 2 * WORD);
const _: () = assert!(Utcb::OFFSET_CAP_COUNT == 2 * WORD + 4);
const _: () = assert!(Utcb::OFFSET_ERROR == 2 * WORD + 8);
const _: () = assert!(Utcb::OFFSET_WORDS == 2 * WORD + 16);
const _: () = assert!(Utcb::OFFSET_CAPS == Utcb::OFFSET_WORDS + MSG_WORDS * WORD);
const _: () = assert!(core::mem::size_of::<Utcb>() == Utcb::OFFSET_CAPS + MSG_CAPS * 4);

#[cfg(test)]
mod tests {
    extern crate std;

    use std::vec::Vec;

    use super::{MSG_CAPS, Utcb};
    use crate::capability::CapSel;

    /// The selectors a delivery added are those of `caps` whose bit is set
    /// in `fresh`, among the `cap_count` sent; bits beyond are no one's.
    #[test]
    fn fresh_selectors_are_the_delivered_capabilities_the_mask_names() {
        let mut utcb = Utcb::new();
        utcb.caps = [CapSel(10), CapSel(11), CapSel(12), CapSel(13)];
        utcb.fresh = 0b1111_0101;
        let fresh = |utcb: &Utcb| utcb.fresh_selectors().collect::<Vec<_>>();
        utcb.cap_count = 0;
        assert_eq!(fresh(&utcb), []);
        utcb.cap_count = 3;
        assert_eq!(utcb.fresh_caps(), 0b101);
        assert_eq!(fresh(&utcb), [CapSel(10), CapSel(12)]);
        utcb.cap_count = MSG_CAPS as u32;
        assert_eq!(fresh(&utcb), [CapSel(10), CapSel(12)]);
        utcb.fresh = 0b1010;
        assert_eq!(fresh(&utcb), [CapSel(11), CapSel(13)]);
    }
}
