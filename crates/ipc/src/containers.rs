//! Marshal for `Option`, `Result`, arrays, heapless strings and vectors, and [`Bytes`].

use crate::error::MessageError;
use crate::marshal::{Marshal, Reader, Writer};

const WORD_BYTES: usize = core::mem::size_of::<usize>();

const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// `None` is the word 0; `Some(value)` is 1 followed by the value.
impl<T: Marshal> Marshal for Option<T> {
    const MAX_WORDS: usize = 1 + T::MAX_WORDS;
    const MAX_CAPS: usize = T::MAX_CAPS;

    #[inline]
    fn marshal(&self, writer: &mut Writer<'_>) {
        match self {
            None => writer.push_word(0),
            Some(value) => {
                writer.push_word(1);
                value.marshal(writer);
            }
        }
    }

    #[inline]
    fn unmarshal(reader: &mut Reader<'_>) -> Result<Self, MessageError> {
        match reader.pop_word()? {
            0 => Ok(None),
            1 => T::unmarshal(reader).map(Some),
            _ => Err(MessageError::InvalidValue),
        }
    }
}

/// `Ok(value)` is 0 followed by the value; `Err(error)` is 1 followed by the error.
impl<T: Marshal, E: Marshal> Marshal for Result<T, E> {
    const MAX_WORDS: usize = 1 + max(T::MAX_WORDS, E::MAX_WORDS);
    const MAX_CAPS: usize = max(T::MAX_CAPS, E::MAX_CAPS);

    #[inline]
    fn marshal(&self, writer: &mut Writer<'_>) {
        match self {
            Ok(value) => {
                writer.push_word(0);
                value.marshal(writer);
            }
            Err(error) => {
                writer.push_word(1);
                error.marshal(writer);
            }
        }
    }

    #[inline]
    fn unmarshal(reader: &mut Reader<'_>) -> Result<Self, MessageError> {
        match reader.pop_word()? {
            0 => T::unmarshal(reader).map(Ok),
            1 => E::unmarshal(reader).map(Err),
            _ => Err(MessageError::InvalidValue),
        }
    }
}

/// Arrays are their elements in order, no length.
impl<T: Marshal, const N: usize> Marshal for [T; N] {
    const MAX_WORDS: usize = N * T::MAX_WORDS;
    const MAX_CAPS: usize = N * T::MAX_CAPS;

    #[inline]
    fn marshal(&self, writer: &mut Writer<'_>) {
        for element in self {
            element.marshal(writer);
        }
    }

    fn unmarshal(reader: &mut Reader<'_>) -> Result<Self, MessageError> {
        let mut elements = heapless::Vec::<T, N>::new();
        for _ in 0..N {
            // Cannot fail: the loop pushes exactly N elements.
            let _ = elements.push(T::unmarshal(reader)?);
        }
        elements.into_array().map_err(|_| MessageError::WrongLength)
    }
}

/// `N` raw machine words, copied in bulk: the cheapest way to move a block
/// of data that fits in a message (no per-element encoding or checks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Words<const N: usize>(pub [usize; N]);

impl<const N: usize> Marshal for Words<N> {
    const MAX_WORDS: usize = N;
    const MAX_CAPS: usize = 0;

    #[inline]
    fn marshal(&self, writer: &mut Writer<'_>) {
        writer.push_words(&self.0);
    }

    #[inline]
    fn unmarshal(reader: &mut Reader<'_>) -> Result<Self, MessageError> {
        let mut words = [0; N];
        words.copy_from_slice(reader.pop_words(N)?);
        Ok(Self(words))
    }
}

/// Appends a length word and `bytes` packed into words (little-endian within a word).
fn marshal_bytes(bytes: &[u8], writer: &mut Writer<'_>) {
    writer.push_word(bytes.len());
    for chunk in bytes.chunks(WORD_BYTES) {
        let mut word = [0u8; WORD_BYTES];
        word[..chunk.len()].copy_from_slice(chunk);
        writer.push_word(usize::from_le_bytes(word));
    }
}

/// Reads what [`marshal_bytes`] wrote, refusing more than `N` bytes.
fn unmarshal_bytes<const N: usize>(
    reader: &mut Reader<'_>,
) -> Result<heapless::Vec<u8, N>, MessageError> {
    let length = reader.pop_word()?;
    if length > N {
        return Err(MessageError::PayloadTooLarge);
    }
    let mut bytes = heapless::Vec::<u8, N>::new();
    bytes.resize(length, 0).map_err(|_| MessageError::PayloadTooLarge)?;
    unpack_bytes(reader, &mut bytes)?;
    Ok(bytes)
}

/// Fills `bytes` from the words [`marshal_bytes`] packed them into: one
/// copy of this loop serves every buffer size.
#[inline(never)]
fn unpack_bytes(reader: &mut Reader<'_>, bytes: &mut [u8]) -> Result<(), MessageError> {
    if bytes.len().div_ceil(WORD_BYTES) > reader.remaining_words() {
        return Err(MessageError::WrongLength);
    }
    for chunk in bytes.chunks_mut(WORD_BYTES) {
        let word = reader.pop_word()?.to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
    Ok(())
}

/// A length word followed by the UTF-8 bytes packed into words.
impl<const N: usize> Marshal for heapless::String<N> {
    const MAX_WORDS: usize = 1 + N.div_ceil(WORD_BYTES);
    const MAX_CAPS: usize = 0;

    #[inline]
    fn marshal(&self, writer: &mut Writer<'_>) {
        marshal_bytes(self.as_bytes(), writer);
    }

    fn unmarshal(reader: &mut Reader<'_>) -> Result<Self, MessageError> {
        let bytes = unmarshal_bytes::<N>(reader)?;
        if !crate::is_utf8(&bytes) {
            return Err(MessageError::InvalidValue);
        }
        // SAFETY: `is_utf8` accepted the bytes: well-formed UTF-8, what
        // `core::str::from_utf8` accepts (its tests compare the two).
        Ok(unsafe { heapless::String::from_utf8_unchecked(bytes) })
    }
}

/// A length word followed by the elements.
impl<T: Marshal, const N: usize> Marshal for heapless::Vec<T, N> {
    const MAX_WORDS: usize = 1 + N * T::MAX_WORDS;
    const MAX_CAPS: usize = N * T::MAX_CAPS;

    #[inline]
    fn marshal(&self, writer: &mut Writer<'_>) {
        writer.push_word(self.len());
        for element in self {
            element.marshal(writer);
        }
    }

    fn unmarshal(reader: &mut Reader<'_>) -> Result<Self, MessageError> {
        let length = reader.pop_word()?;
        if length > N {
            return Err(MessageError::PayloadTooLarge);
        }
        let mut elements = heapless::Vec::new();
        for _ in 0..length {
            elements.push(T::unmarshal(reader)?).map_err(|_| MessageError::PayloadTooLarge)?;
        }
        Ok(elements)
    }
}

/// A length-prefixed byte buffer of at most `N` bytes (Genode's
/// `Rpc_in_buffer<N>`), packed into message words.
///
/// Building one from a longer slice fails with
/// [`MessageError::PayloadTooLarge`]; nothing is ever truncated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bytes<const N: usize> {
    bytes: heapless::Vec<u8, N>,
}

impl<const N: usize> Bytes<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Self { bytes: heapless::Vec::new() }
    }

    /// A copy of `bytes`, or [`MessageError::PayloadTooLarge`] if it is longer than `N`.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, MessageError> {
        heapless::Vec::from_slice(bytes)
            .map(|bytes| Self { bytes })
            .map_err(|_| MessageError::PayloadTooLarge)
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    /// The number of bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl<const N: usize> core::ops::Deref for Bytes<N> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl<const N: usize> TryFrom<&[u8]> for Bytes<N> {
    type Error = MessageError;

    fn try_from(bytes: &[u8]) -> Result<Self, MessageError> {
        Self::from_slice(bytes)
    }
}

impl<const N: usize> Marshal for Bytes<N> {
    const MAX_WORDS: usize = 1 + N.div_ceil(WORD_BYTES);
    const MAX_CAPS: usize = 0;

    #[inline]
    fn marshal(&self, writer: &mut Writer<'_>) {
        marshal_bytes(&self.bytes, writer);
    }

    fn unmarshal(reader: &mut Reader<'_>) -> Result<Self, MessageError> {
        unmarshal_bytes::<N>(reader).map(|bytes| Self { bytes })
    }
}
