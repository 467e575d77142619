//! `marshal!`: derives [`crate::Marshal`] for a struct or enum declaration.

/// Declares a struct or enum and implements [`crate::Marshal`] for it.
///
/// ```
/// ferrode_ipc::marshal! {
///     #[derive(Debug, Clone, PartialEq)]
///     pub enum Shape { Empty, Circle(u32), Rect { width: u16, height: u16 } }
/// }
/// ferrode_ipc::marshal! {
///     #[derive(Debug)]
///     pub struct Point { pub x: i32, pub y: i32 }
/// }
/// ferrode_ipc::marshal! {
///     pub struct Pair(pub u8, pub char);
/// }
/// ```
///
/// Encoding: struct fields in declaration order; an enum is a tag word (the
/// variant's position, from 0) followed by that variant's fields. Limits:
/// no generics, no explicit discriminants, at most 8 fields in a tuple
/// struct or tuple variant.
#[macro_export]
macro_rules! marshal {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            $($(#[$field_attr:meta])* $field_vis:vis $field:ident : $field_ty:ty),* $(,)?
        }
    ) => {
        $(#[$attr])*
        $vis struct $name { $($(#[$field_attr])* $field_vis $field : $field_ty),* }

        impl $crate::Marshal for $name {
            const MAX_WORDS: usize = 0 $(+ <$field_ty as $crate::Marshal>::MAX_WORDS)*;
            const MAX_CAPS: usize = 0 $(+ <$field_ty as $crate::Marshal>::MAX_CAPS)*;

            #[inline]
            #[allow(unused_variables, reason = "a struct may have no fields")]
            fn marshal(&self, writer: &mut $crate::Writer<'_>) {
                $($crate::Marshal::marshal(&self.$field, writer);)*
            }

            #[inline]
            #[allow(unused_variables, reason = "a struct may have no fields")]
            fn unmarshal(reader: &mut $crate::Reader<'_>) -> Result<Self, $crate::MessageError> {
                Ok(Self { $($field: <$field_ty as $crate::Marshal>::unmarshal(reader)?),* })
            }
        }
    };

    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident ( $($(#[$field_attr:meta])* $field_vis:vis $field_ty:ty),* $(,)? );
    ) => {
        $(#[$attr])*
        $vis struct $name ( $($(#[$field_attr])* $field_vis $field_ty),* );

        impl $crate::Marshal for $name {
            const MAX_WORDS: usize = 0 $(+ <$field_ty as $crate::Marshal>::MAX_WORDS)*;
            const MAX_CAPS: usize = 0 $(+ <$field_ty as $crate::Marshal>::MAX_CAPS)*;

            #[inline]
            #[allow(irrefutable_let_patterns, reason = "a struct has one shape")]
            fn marshal(&self, writer: &mut $crate::Writer<'_>) {
                $crate::__marshal_tuple_fields!(writer, self, Self; $($field_ty),*);
            }

            #[inline]
            #[allow(unused_variables, reason = "a struct may have no fields")]
            fn unmarshal(reader: &mut $crate::Reader<'_>) -> Result<Self, $crate::MessageError> {
                Ok(Self ( $(<$field_ty as $crate::Marshal>::unmarshal(reader)?),* ))
            }
        }
    };

    (
        $(#[$attr:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$variant_attr:meta])*
                $variant:ident
                $( ( $($tuple_ty:ty),* $(,)? ) )?
                $( { $($(#[$field_attr:meta])* $field:ident : $field_ty:ty),* $(,)? } )?
            ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        $vis enum $name {
            $(
                $(#[$variant_attr])*
                $variant
                $( ( $($tuple_ty),* ) )?
                $( { $($(#[$field_attr])* $field : $field_ty),* } )?
            ),*
        }

        const _: () = {
            #[allow(non_camel_case_types, dead_code, reason = "one tag per variant, by position")]
            enum Tag { $($variant),* }

            impl $crate::Marshal for $name {
                const MAX_WORDS: usize = {
                    let mut most = 0;
                    $(
                        let words = 0
                            $($(+ <$tuple_ty as $crate::Marshal>::MAX_WORDS)*)?
                            $($(+ <$field_ty as $crate::Marshal>::MAX_WORDS)*)?;
                        if words > most { most = words; }
                    )*
                    1 + most
                };
                const MAX_CAPS: usize = {
                    let mut most = 0;
                    $(
                        let caps = 0
                            $($(+ <$tuple_ty as $crate::Marshal>::MAX_CAPS)*)?
                            $($(+ <$field_ty as $crate::Marshal>::MAX_CAPS)*)?;
                        if caps > most { most = caps; }
                    )*
                    most
                };

                #[inline]
                #[allow(irrefutable_let_patterns, unused_variables, reason = "uniform code per variant")]
                fn marshal(&self, writer: &mut $crate::Writer<'_>) {
                    match self {
                        $(
                            value @ Self::$variant { .. } => {
                                writer.push_word(Tag::$variant as usize);
                                $( $crate::__marshal_tuple_fields!(writer, value, Self::$variant; $($tuple_ty),*); )?
                                $(
                                    if let Self::$variant { $($field),* } = value {
                                        $($crate::Marshal::marshal($field, writer);)*
                                    }
                                )?
                            }
                        )*
                    }
                }

                #[inline]
                fn unmarshal(reader: &mut $crate::Reader<'_>) -> Result<Self, $crate::MessageError> {
                    let tag = reader.pop_word()?;
                    $(
                        if tag == Tag::$variant as usize {
                            return Ok(Self::$variant
                                $( ( $(<$tuple_ty as $crate::Marshal>::unmarshal(reader)?),* ) )?
                                $( { $($field: <$field_ty as $crate::Marshal>::unmarshal(reader)?),* } )?
                            );
                        }
                    )*
                    Err($crate::MessageError::InvalidValue)
                }
            }
        };
    };
}

/// Marshals the fields of tuple struct or tuple variant `$value` (matched
/// as `$path(..)`), binding them by arity.
#[doc(hidden)]
#[macro_export]
macro_rules! __marshal_tuple_fields {
    ($writer:ident, $value:expr, $($path:ident)::+; ) => {};
    ($writer:ident, $value:expr, $($path:ident)::+; $t0:ty) => {
        if let $($path)::+(f0) = $value {
            $crate::Marshal::marshal(f0, $writer);
        }
    };
    ($writer:ident, $value:expr, $($path:ident)::+; $t0:ty, $t1:ty) => {
        if let $($path)::+(f0, f1) = $value {
            $crate::Marshal::marshal(f0, $writer);
            $crate::Marshal::marshal(f1, $writer);
        }
    };
    ($writer:ident, $value:expr, $($path:ident)::+; $t0:ty, $t1:ty, $t2:ty) => {
        if let $($path)::+(f0, f1, f2) = $value {
            $crate::Marshal::marshal(f0, $writer);
            $crate::Marshal::marshal(f1, $writer);
            $crate::Marshal::marshal(f2, $writer);
        }
    };
    ($writer:ident, $value:expr, $($path:ident)::+; $t0:ty, $t1:ty, $t2:ty, $t3:ty) => {
        if let $($path)::+(f0, f1, f2, f3) = $value {
            $crate::Marshal::marshal(f0, $writer);
            $crate::Marshal::marshal(f1, $writer);
            $crate::Marshal::marshal(f2, $writer);
            $crate::Marshal::marshal(f3, $writer);
        }
    };
    ($writer:ident, $value:expr, $($path:ident)::+; $t0:ty, $t1:ty, $t2:ty, $t3:ty, $t4:ty) => {
        if let $($path)::+(f0, f1, f2, f3, f4) = $value {
            $crate::Marshal::marshal(f0, $writer);
            $crate::Marshal::marshal(f1, $writer);
            $crate::Marshal::marshal(f2, $writer);
            $crate::Marshal::marshal(f3, $writer);
            $crate::Marshal::marshal(f4, $writer);
        }
    };
    ($writer:ident, $value:expr, $($path:ident)::+; $t0:ty, $t1:ty, $t2:ty, $t3:ty, $t4:ty, $t5:ty) => {
        if let $($path)::+(f0, f1, f2, f3, f4, f5) = $value {
            $crate::Marshal::marshal(f0, $writer);
            $crate::Marshal::marshal(f1, $writer);
            $crate::Marshal::marshal(f2, $writer);
            $crate::Marshal::marshal(f3, $writer);
            $crate::Marshal::marshal(f4, $writer);
            $crate::Marshal::marshal(f5, $writer);
        }
    };
    ($writer:ident, $value:expr, $($path:ident)::+; $t0:ty, $t1:ty, $t2:ty, $t3:ty, $t4:ty, $t5:ty, $t6:ty) => {
        if let $($path)::+(f0, f1, f2, f3, f4, f5, f6) = $value {
            $crate::Marshal::marshal(f0, $writer);
            $crate::Marshal::marshal(f1, $writer);
            $crate::Marshal::marshal(f2, $writer);
            $crate::Marshal::marshal(f3, $writer);
            $crate::Marshal::marshal(f4, $writer);
            $crate::Marshal::marshal(f5, $writer);
            $crate::Marshal::marshal(f6, $writer);
        }
    };
    ($writer:ident, $value:expr, $($path:ident)::+; $t0:ty, $t1:ty, $t2:ty, $t3:ty, $t4:ty, $t5:ty, $t6:ty, $t7:ty) => {
        if let $($path)::+(f0, f1, f2, f3, f4, f5, f6, f7) = $value {
            $crate::Marshal::marshal(f0, $writer);
            $crate::Marshal::marshal(f1, $writer);
            $crate::Marshal::marshal(f2, $writer);
            $crate::Marshal::marshal(f3, $writer);
            $crate::Marshal::marshal(f4, $writer);
            $crate::Marshal::marshal(f5, $writer);
            $crate::Marshal::marshal(f6, $writer);
            $crate::Marshal::marshal(f7, $writer);
        }
    };
}
