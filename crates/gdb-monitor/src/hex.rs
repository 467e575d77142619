//! Hexadecimal digits and numbers as the remote protocol writes them.

/// The value of one hex digit (either case).
pub const fn digit(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// The lower-case hex digit for the low four bits of `value`.
pub const fn to_digit(value: u8) -> u8 {
    b"0123456789abcdef"[(value & 0xf) as usize]
}

/// A whole field of hex digits as a number: `None` if it is empty, holds
/// anything else or does not fit 32 bits.
pub fn number(field: &[u8]) -> Option<u32> {
    if field.is_empty() || field.len() > 8 {
        return None;
    }
    field.iter().try_fold(0u32, |value, &byte| Some(value << 4 | u32::from(digit(byte)?)))
}

/// Decodes pairs of hex digits into `out`; `None` unless `hex` is exactly
/// `2 * out.len()` digits.
pub fn decode(hex: &[u8], out: &mut [u8]) -> Option<()> {
    if hex.len() != out.len() * 2 {
        return None;
    }
    for (pair, byte) in hex.chunks_exact(2).zip(out.iter_mut()) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_and_bound() {
        assert_eq!(number(b"7010abCD"), Some(0x7010_abcd));
        assert_eq!(number(b""), None);
        assert_eq!(number(b"1g"), None);
        assert_eq!(number(b"123456789"), None);
    }

    #[test]
    fn decode_needs_exact_pairs() {
        let mut out = [0u8; 2];
        assert_eq!(decode(b"beef", &mut out), Some(()));
        assert_eq!(out, [0xbe, 0xef]);
        assert_eq!(decode(b"bee", &mut out), None);
        assert_eq!(decode(b"bexf", &mut out), None);
    }
}
