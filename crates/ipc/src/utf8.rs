//! UTF-8 validation for the strings a message carries.
//!
//! `core::str::from_utf8` would do, but rustup ships `core` prebuilt as A32
//! code: on PBX-A9 its validator and the width table it reads are about
//! 860 bytes in every image that receives a string (a LOG line, a session
//! label), where this T32 loop is about a tenth of that. Its results are
//! checked against `core` for every sequence of up to three bytes and every
//! four-byte sequence with its lead and second byte.

use core::ops::RangeInclusive;

/// Whether `bytes` is well-formed UTF-8: the byte sequences of the Unicode
/// Standard's table 3-7 (no overlong forms, no surrogates, nothing above
/// U+10FFFF), exactly what `core::str::from_utf8` accepts.
pub fn is_utf8(bytes: &[u8]) -> bool {
    const TAIL: RangeInclusive<u8> = 0x80..=0xbf;
    let mut rest = bytes;
    while let [lead, tail @ ..] = rest {
        // The second byte's range, and how many plain continuation bytes
        // follow it.
        let (second, more) = match lead {
            0x00..=0x7f => {
                rest = tail;
                continue;
            }
            0xc2..=0xdf => (TAIL, 0),
            0xe0 => (0xa0..=0xbf, 1),
            0xe1..=0xec | 0xee..=0xef => (TAIL, 1),
            0xed => (0x80..=0x9f, 1),
            0xf0 => (0x90..=0xbf, 2),
            0xf1..=0xf3 => (TAIL, 2),
            0xf4 => (0x80..=0x8f, 2),
            _ => return false,
        };
        let Some((byte, after)) = tail.split_first() else { return false };
        let Some((continuation, after)) = after.split_at_checked(more) else { return false };
        if !second.contains(byte) || !continuation.iter().all(|byte| TAIL.contains(byte)) {
            return false;
        }
        rest = after;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::is_utf8;

    fn agrees(bytes: &[u8]) {
        assert_eq!(is_utf8(bytes), core::str::from_utf8(bytes).is_ok(), "{bytes:02x?}");
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "millions of sequences: too slow under Miri, where the text and random-bytes tests run"
    )]
    fn every_sequence_of_up_to_three_bytes_agrees_with_core() {
        agrees(&[]);
        for a in 0..=255u8 {
            agrees(&[a]);
            for b in 0..=255u8 {
                agrees(&[a, b]);
                for c in 0..=255u8 {
                    agrees(&[a, b, c]);
                }
            }
        }
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "millions of sequences: too slow under Miri, where the text and random-bytes tests run"
    )]
    fn every_four_byte_lead_and_second_byte_agrees_with_core() {
        // The last two bytes from each class a validator tells apart: ASCII,
        // the ends of the continuation range, and lead bytes.
        let classes = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xff];
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                for c in classes {
                    for d in classes {
                        agrees(&[a, b, c, d]);
                    }
                }
            }
        }
    }

    #[test]
    fn text_and_cut_text_agree_with_core() {
        let text = "[client] ok: grüße, 世界 and 🦀 in one line";
        agrees(text.as_bytes());
        for end in 0..=text.len() {
            agrees(&text.as_bytes()[..end]);
            agrees(&text.as_bytes()[end..]);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(if cfg!(miri) { 8 } else { 256 }))]

        #[test]
        fn any_bytes_agree_with_core(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            agrees(&bytes);
        }
    }
}
