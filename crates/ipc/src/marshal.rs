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

    /// Sets the label and the counts and ends a request. Fails, leaving
    /// an empty message, if something was written past the end.
    ///
    /// The error code is left alone: a request's is not sent (the kernel
    /// delivers requests with error 0).
    #[inline]
    pub fn finish(self, label: usize) -> Result<(), MessageError> {
        self.utcb.label = label;
        if self.word_count > MSG_WORDS || self.cap_count > MSG_CAPS {
            self.utcb.word_count = 0;
            self.utcb.cap_count = 0;
            return Err(MessageError::PayloadTooLarge);
        }
        self.utcb.word_count = self.word_count as u32;
        self.utcb.cap_count = self.cap_count as u32;
        Ok(())
    }

    /// Ends a reply: as [`Writer::finish`] with label 0, and the error
    /// code cleared. A server that made calls of its own while serving
    /// may have an error reply of one of them in its UTCB; its own reply
    /// must not carry that code to its caller.
    #[inline]
    pub fn finish_reply(self) -> Result<(), MessageError> {
        self.utcb.error = 0;
        self.finish(0)
    }
}

/// A bounds-checked cursor over the used words and capabilities of a UTCB.
///
/// The counts are taken as they are: a read past `word_count` (or past
/// the UTCB, for a count beyond it) fails, and so does [`Reader::finish`]
/// unless exactly the counted words and capabilities were read. So a
/// message with impossible counts is refused without a separate check.
pub struct Reader<'a> {
    utcb: &'a Utcb,
    word_count: usize,
    cap_count: usize,
    word_index: usize,
    cap_index: usize,
}

impl<'a> Reader<'a> {
    /// Reads the message in `utcb`.
    #[inline]
    pub fn new(utcb: &'a Utcb) -> Self {
        Self {
            utcb,
            word_count: utcb.word_count as usize,
            cap_count: utcb.cap_count as usize,
            word_index: 0,
            cap_index: 0,
        }
    }

    /// The next word.
    #[inline]
    pub fn pop_word(&mut self) -> Result<usize, MessageError> {
        if self.word_index >= self.word_count {
            return Err(MessageError::WrongLength);
        }
        let word = *self.utcb.words.get(self.word_index).ok_or(MessageError::WrongLength)?;
        self.word_index += 1;
        Ok(word)
    }

    /// The next `count` words, in one piece.
    #[inline]
    pub fn pop_words(&mut self, count: usize) -> Result<&'a [usize], MessageError> {
        let end = self.word_index.checked_add(count).ok_or(MessageError::WrongLength)?;
        if end > self.word_count {
            return Err(MessageError::WrongLength);
        }
        let words = self.utcb.words.get(self.word_index..end).ok_or(MessageError::WrongLength)?;
        self.word_index = end;
        Ok(words)
    }

    /// The next capability selector.
    #[inline]
    pub fn pop_cap(&mut self) -> Result<CapSel, MessageError> {
        if self.cap_index >= self.cap_count {
            return Err(MessageError::WrongLength);
        }
        let selector = *self.utcb.caps.get(self.cap_index).ok_or(MessageError::WrongLength)?;
        self.cap_index += 1;
        Ok(selector)
    }

    /// Words not read yet.
    #[inline]
    pub fn remaining_words(&self) -> usize {
        self.word_count.min(self.utcb.words.len()) - self.word_index
    }

    /// Checks that the whole message was read: trailing words or
    /// capabilities mean sender and receiver disagree on the type.
    #[inline]
    pub fn finish(self) -> Result<(), MessageError> {
        if self.word_index == self.word_count && self.cap_index == self.cap_count {
            Ok(())
        } else {
            Err(MessageError::WrongLength)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_beyond_the_utcb_fail_reads_and_finish_without_panicking() {
        let mut utcb = Utcb::new();
        utcb.word_count = MSG_WORDS as u32 + 1;
        utcb.cap_count = MSG_CAPS as u32 + 1;
        let mut reader = Reader::new(&utcb);
        assert_eq!(reader.pop_words(MSG_WORDS).map(<[usize]>::len), Ok(MSG_WORDS));
        assert_eq!(reader.pop_word(), Err(MessageError::WrongLength));
        assert_eq!(reader.remaining_words(), 0);
        for _ in 0..MSG_CAPS {
            assert!(reader.pop_cap().is_ok());
        }
        assert_eq!(reader.pop_cap(), Err(MessageError::WrongLength));
        assert_eq!(reader.finish(), Err(MessageError::WrongLength));
    }

    #[test]
    fn a_message_may_fill_the_utcb_and_no_more() {
        let mut utcb = Utcb::new();
        let mut writer = Writer::new(&mut utcb);
        writer.push_words(&[5; MSG_WORDS]);
        for selector in 0..MSG_CAPS as u32 {
            writer.push_cap(CapSel(selector));
        }
        assert_eq!(writer.word_count(), MSG_WORDS);
        assert_eq!(writer.finish(3), Ok(()));
        assert_eq!((utcb.label, utcb.word_count, utcb.cap_count), (3, MSG_WORDS as u32, 4));
        // One capability more, or one word more: refused, and nothing sent.
        let mut writer = Writer::new(&mut utcb);
        for selector in 0..=MSG_CAPS as u32 {
            writer.push_cap(CapSel(selector));
        }
        assert_eq!(writer.finish(3), Err(MessageError::PayloadTooLarge));
        assert_eq!((utcb.word_count, utcb.cap_count), (0, 0));
        let mut writer = Writer::new(&mut utcb);
        writer.push_words(&[5; MSG_WORDS]);
        writer.push_word(6);
        assert_eq!(writer.word_count(), MSG_WORDS + 1);
        assert_eq!(writer.finish(3), Err(MessageError::PayloadTooLarge));
        assert_eq!((utcb.word_count, utcb.cap_count), (0, 0));
    }

    #[test]
    fn reads_stop_at_the_word_count_and_finish_wants_all_of_it() {
        let mut utcb = Utcb::new();
        utcb.words[..3].copy_from_slice(&[7, 8, 9]);
        utcb.word_count = 2;
        let mut reader = Reader::new(&utcb);
        assert_eq!(reader.pop_words(3), Err(MessageError::WrongLength));
        assert_eq!(reader.pop_word(), Ok(7));
        assert_eq!(Reader::new(&utcb).finish(), Err(MessageError::WrongLength));
        assert_eq!(reader.pop_word(), Ok(8));
        assert_eq!(reader.pop_word(), Err(MessageError::WrongLength));
        assert_eq!(reader.finish(), Ok(()));
    }
}
