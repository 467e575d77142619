//! The marshalling trait and the cursors that write and read UTCB messages.

use crate::capability::CapSel;
use crate::error::MessageError;
use crate::utcb::{MSG_CAPS, MSG_WORDS, Utcb};

/// A value that can cross a component boundary in a UTCB message.
///
/// `MAX_WORDS` and `MAX_CAPS` bound what [`Marshal::marshal`] writes for
/// any value of the type; RPC declarations check them at compile time
/// against [`MSG_WORDS`] and [`MSG_CAPS`]. Encodings may be shorter for
/// some values (`None`, a short string): the reader is sequential.
pub trait Marshal: Sized {
    /// The most message words any value of this type takes.
    const MAX_WORDS: usize;
    /// The most capability slots any value of this type takes.
    const MAX_CAPS: usize;

    /// Appends `self` to the message.
    fn marshal(&self, writer: &mut Writer<'_>);

    /// Reads a value from the message; never panics, whatever the words.
    fn unmarshal(reader: &mut Reader<'_>) -> Result<Self, MessageError>;
}

/// Whether every value of `T` fits in one UTCB message.
pub const fn fits_in_message<T: Marshal>() -> bool {
    T::MAX_WORDS <= MSG_WORDS && T::MAX_CAPS <= MSG_CAPS
}

/// A cursor appending words and capabilities to a UTCB.
///
/// Writes past the end are dropped and reported by [`Writer::finish`];
/// with the compile-time size checks they only happen for a `Marshal`
/// implementation whose constants lie.
pub struct Writer<'a> {
    utcb: &'a mut Utcb,
    word_count: usize,
    cap_count: usize,
}

impl<'a> Writer<'a> {
    /// Starts an empty message in `utcb` (only the counts are reset).
    #[inline]
    pub fn new(utcb: &'a mut Utcb) -> Self {
        Self { utcb, word_count: 0, cap_count: 0 }
    }

    /// Appends one word.
    #[inline]
    pub fn push_word(&mut self, word: usize) {
        if let Some(slot) = self.utcb.words.get_mut(self.word_count) {
            *slot = word;
        }
        self.word_count += 1;
    }

    /// Appends a run of words in one copy.
    #[inline]
    pub fn push_words(&mut self, words: &[usize]) {
        let end = self.word_count + words.len();
        if let Some(slots) = self.utcb.words.get_mut(self.word_count..end) {
            slots.copy_from_slice(words);
        }
        self.word_count = end;
    }

    /// Appends one capability selector.
    #[inline]
    pub fn push_cap(&mut self, selector: CapSel) {
        if let Some(slot) = self.utcb.caps.get_mut(self.cap_count) {
            *slot = selector;
        }
        self.cap_count += 1;
    }

    /// Words written so far.
    #[inline]
    pub fn word_count(&self) -> usize {
        self.word_count
    }

    /// Sets the header (label, counts, no error) and ends the message.
    /// Fails, leaving an empty message, if something was written past the end.
    #[inline]
    pub fn finish(self, label: usize) -> Result<(), MessageError> {
        self.utcb.label = label;
        self.utcb.error = 0;
        if self.word_count > MSG_WORDS || self.cap_count > MSG_CAPS {
            self.utcb.word_count = 0;
            self.utcb.cap_count = 0;
            return Err(MessageError::PayloadTooLarge);
        }
        self.utcb.word_count = self.word_count as u32;
        self.utcb.cap_count = self.cap_count as u32;
        Ok(())
    }
}

/// A bounds-checked cursor over the used words and capabilities of a UTCB.
pub struct Reader<'a> {
    words: &'a [usize],
    caps: &'a [CapSel],
    word_index: usize,
    cap_index: usize,
}

impl<'a> Reader<'a> {
    /// Reads the message in `utcb`; fails if its counts exceed the UTCB.
    #[inline]
    pub fn new(utcb: &'a Utcb) -> Result<Self, MessageError> {
        let words = utcb.used_words().ok_or(MessageError::WrongLength)?;
        let caps = utcb.used_caps().ok_or(MessageError::WrongLength)?;
        Ok(Self { words, caps, word_index: 0, cap_index: 0 })
    }

    /// The next word.
    #[inline]
    pub fn pop_word(&mut self) -> Result<usize, MessageError> {
        let word = *self.words.get(self.word_index).ok_or(MessageError::WrongLength)?;
        self.word_index += 1;
        Ok(word)
    }

    /// The next `count` words, in one piece.
    #[inline]
    pub fn pop_words(&mut self, count: usize) -> Result<&'a [usize], MessageError> {
        let end = self.word_index.checked_add(count).ok_or(MessageError::WrongLength)?;
        let words = self.words.get(self.word_index..end).ok_or(MessageError::WrongLength)?;
        self.word_index = end;
        Ok(words)
    }

    /// The next capability selector.
    #[inline]
    pub fn pop_cap(&mut self) -> Result<CapSel, MessageError> {
        let selector = *self.caps.get(self.cap_index).ok_or(MessageError::WrongLength)?;
        self.cap_index += 1;
        Ok(selector)
    }

    /// Words not read yet.
    #[inline]
    pub fn remaining_words(&self) -> usize {
        self.words.len() - self.word_index
    }

    /// Checks that the whole message was read: trailing words or
    /// capabilities mean sender and receiver disagree on the type.
    #[inline]
    pub fn finish(self) -> Result<(), MessageError> {
        if self.word_index == self.words.len() && self.cap_index == self.caps.len() {
            Ok(())
        } else {
            Err(MessageError::WrongLength)
        }
    }
}
