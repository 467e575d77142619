//! Marshal for integers, `bool`, `char`, `()`, tuples and capabilities.

use crate::capability::{CapSel, Capability};
use crate::error::MessageError;
use crate::marshal::{Marshal, Reader, Writer};

const WORD_BYTES: usize = core::mem::size_of::<usize>();

/// Words taken by an integer of `bytes` bytes.
const fn words_for(bytes: usize) -> usize {
    bytes.div_ceil(WORD_BYTES)
}

/// Unsigned integers: zero-extended into one word, or little-endian word
/// order when wider than a word. A narrow value with high bits set is
/// rejected on receive.
macro_rules! marshal_unsigned {
    ($($t:ty),*) => {$(
        impl Marshal for $t {
            const MAX_WORDS: usize = words_for(core::mem::size_of::<$t>());
            const MAX_CAPS: usize = 0;

            #[inline]
            #[allow(clippy::cast_possible_truncation, reason = "splitting into words")]
            fn marshal(&self, writer: &mut Writer<'_>) {
                if Self::MAX_WORDS == 1 {
                    writer.push_word(*self as usize);
                } else {
                    let mut index = 0;
                    while index < Self::MAX_WORDS {
                        writer.push_word((*self as u128 >> (index as u32 * usize::BITS)) as usize);
                        index += 1;
                    }
                }
            }

            #[inline]
            fn unmarshal(reader: &mut Reader<'_>) -> Result<Self, MessageError> {
                if Self::MAX_WORDS == 1 {
                    <$t>::try_from(reader.pop_word()?).map_err(|_| MessageError::InvalidValue)
                } else {
                    let mut value = 0u128;
                    let mut index = 0;
                    while index < Self::MAX_WORDS {
                        value |= (reader.pop_word()? as u128) << (index as u32 * usize::BITS);
                        index += 1;
                    }
                    Ok(value as $t)
                }
            }
        }
    )*};
}

/// Signed integers: sign-extended into one word, or two's complement in
/// little-endian word order when wider than a word.
macro_rules! marshal_signed {
    ($($t:ty),*) => {$(
        impl Marshal for $t {
            const MAX_WORDS: usize = words_for(core::mem::size_of::<$t>());
            const MAX_CAPS: usize = 0;

            #[inline]
            fn marshal(&self, writer: &mut Writer<'_>) {
                if Self::MAX_WORDS == 1 {
                    writer.push_word(*self as isize as usize);
                } else {
                    let mut index = 0;
                    while index < Self::MAX_WORDS {
                        writer.push_word((*self as i128 >> (index as u32 * usize::BITS)) as usize);
                        index += 1;
                    }
                }
            }

            #[inline]
            fn unmarshal(reader: &mut Reader<'_>) -> Result<Self, MessageError> {
                if Self::MAX_WORDS == 1 {
                    <$t>::try_from(reader.pop_word()? as isize).map_err(|_| MessageError::InvalidValue)
                } else {
                    let mut value = 0u128;
                    let mut index = 0;
                    while index < Self::MAX_WORDS {
                        value |= (reader.pop_word()? as u128) << (index as u32 * usize::BITS);
                        index += 1;
                    }
                    Ok(value as $t)
                }
            }
        }
    )*};
}

marshal_unsigned!(u8, u16, u32, u64, u128, usize);
marshal_signed!(i8, i16, i32, i64, i128, isize);

impl Marshal for bool {
    const MAX_WORDS: usize = 1;
    const MAX_CAPS: usize = 0;

    #[inline]
    fn marshal(&self, writer: &mut Writer<'_>) {
        writer.push_word(*self as usize);
    }

    #[inline]
    fn unmarshal(reader: &mut Reader<'_>) -> Result<Self, MessageError> {
        match reader.pop_word()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(MessageError::InvalidValue),
        }
    }
}

impl Marshal for char {
    const MAX_WORDS: usize = 1;
    const MAX_CAPS: usize = 0;

    #[inline]
    fn marshal(&self, writer: &mut Writer<'_>) {
        writer.push_word(*self as usize);
    }

    #[inline]
    fn unmarshal(reader: &mut Reader<'_>) -> Result<Self, MessageError> {
        let code = u32::unmarshal(reader)?;
        char::from_u32(code).ok_or(MessageError::InvalidValue)
    }
}

impl<I: ?Sized> Marshal for Capability<I> {
    const MAX_WORDS: usize = 0;
    const MAX_CAPS: usize = 1;

    #[inline]
    fn marshal(&self, writer: &mut Writer<'_>) {
        writer.push_cap(self.selector());
    }

    #[inline]
    fn unmarshal(reader: &mut Reader<'_>) -> Result<Self, MessageError> {
        reader.pop_cap().map(Capability::from_selector)
    }
}

impl Marshal for CapSel {
    const MAX_WORDS: usize = 0;
    const MAX_CAPS: usize = 1;

    #[inline]
    fn marshal(&self, writer: &mut Writer<'_>) {
        writer.push_cap(*self);
    }

    #[inline]
    fn unmarshal(reader: &mut Reader<'_>) -> Result<Self, MessageError> {
        reader.pop_cap()
    }
}

/// Tuples marshal their fields in order; `()` takes nothing.
macro_rules! marshal_tuple {
    ($($name:ident)*) => {
        impl<$($name: Marshal),*> Marshal for ($($name,)*) {
            const MAX_WORDS: usize = 0 $(+ $name::MAX_WORDS)*;
            const MAX_CAPS: usize = 0 $(+ $name::MAX_CAPS)*;

            #[inline]
            #[allow(non_snake_case, unused_variables, reason = "one binding per tuple field")]
            fn marshal(&self, writer: &mut Writer<'_>) {
                let ($($name,)*) = self;
                $($name.marshal(writer);)*
            }

            #[inline]
            #[allow(unused_variables, reason = "the empty tuple reads nothing")]
            fn unmarshal(reader: &mut Reader<'_>) -> Result<Self, MessageError> {
                Ok(($($name::unmarshal(reader)?,)*))
            }
        }
    };
}

marshal_tuple!();
marshal_tuple!(A);
marshal_tuple!(A B);
marshal_tuple!(A B C);
marshal_tuple!(A B C D);
marshal_tuple!(A B C D E);
marshal_tuple!(A B C D E F);
marshal_tuple!(A B C D E F G);
marshal_tuple!(A B C D E F G H);

/// A transport error travels as its code, so that an interface's error
/// type can carry one (`Transport(TransportError)`) in a reply.
impl Marshal for crate::error::TransportError {
    const MAX_WORDS: usize = 1;
    const MAX_CAPS: usize = 0;

    #[inline]
    fn marshal(&self, writer: &mut Writer<'_>) {
        writer.push_word(self.code() as usize);
    }

    #[inline]
    fn unmarshal(reader: &mut Reader<'_>) -> Result<Self, MessageError> {
        let code = u32::unmarshal(reader)?;
        // `from_code` reads unknown codes (a newer kernel's, in a UTCB's
        // error field) as `InvalidValue`; in a message a word that is no
        // code is an invalid value, as an enum tag out of range is.
        match crate::error::TransportError::from_code(code) {
            Some(error) if error.code() == code => Ok(error),
            _ => Err(MessageError::InvalidValue),
        }
    }
}
