//! Transport failures and message decoding errors.

use core::fmt;

/// Why a message could not be decoded (or encoded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageError {
    /// The opcode names no method of the interface.
    UnknownOpcode,
    /// Too few or too many words or capabilities for what was expected, or
    /// a count beyond the UTCB.
    WrongLength,
    /// A word does not encode a value of the expected type (an enum tag, a
    /// `bool`, a `char`, UTF-8, an integer out of range).
    InvalidValue,
    /// A length-prefixed payload is longer than its declared capacity.
    PayloadTooLarge,
    /// The label names a method of an interface the object does not
    /// implement: the capability was used as the wrong type.
    WrongInterface,
}

/// Why an RPC failed outside the called method: every interface's error
/// type holds these (`E: From<TransportError>`).
///
/// The discriminants are the codes carried in [`crate::Utcb::error`]; 0
/// means "no error".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
#[non_exhaustive]
pub enum TransportError {
    /// The capability designates nothing in the caller's capability space.
    InvalidCapability = 1,
    /// The object was revoked (dissolved) or its server is gone.
    ServerDead = 2,
    /// The server does not know the opcode.
    UnknownOpcode = 3,
    /// Request or reply had the wrong number of words or capabilities.
    WrongLength = 4,
    /// Request or reply held a word that does not decode.
    InvalidValue = 5,
    /// A length-prefixed payload exceeded its capacity.
    PayloadTooLarge = 6,
    /// The receiver's capability space has no free slot (within its
    /// quota) for a capability carried in the message.
    CapabilitySpaceFull = 7,
    /// The server answered with a transport error of its own: one of the
    /// calls it made while serving failed. The object called is fine.
    Forwarded = 8,
    /// The capability designates an object of another interface: the
    /// request was refused before any method ran.
    WrongInterface = 9,
    /// The message carries more capabilities than the receiving method
    /// declares (its receive window): refused before anything changed.
    TooManyCapabilities = 10,
    /// The call would wait for itself: the caller serves the object
    /// called, or the server is (transitively) waiting for the caller.
    Deadlock = 11,
    /// The capability would let a component call a server of lower
    /// priority than its threads may have (Ferrode's priority rule).
    PriorityInversion = 12,
}

impl TransportError {
    /// The code for [`crate::Utcb::error`].
    #[inline]
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// Decodes a non-zero [`crate::Utcb::error`] code; unknown codes (from
    /// a newer kernel) read as [`TransportError::InvalidValue`].
    #[inline]
    pub const fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            0 => return None,
            1 => Self::InvalidCapability,
            2 => Self::ServerDead,
            3 => Self::UnknownOpcode,
            4 => Self::WrongLength,
            6 => Self::PayloadTooLarge,
            7 => Self::CapabilitySpaceFull,
            8 => Self::Forwarded,
            9 => Self::WrongInterface,
            10 => Self::TooManyCapabilities,
            11 => Self::Deadlock,
            12 => Self::PriorityInversion,
            _ => Self::InvalidValue,
        })
    }
}

impl TransportError {
    /// The error code a server's reply reaches its client with: 0 and the
    /// codes a server's dispatcher writes (a request it cannot decode, an
    /// object dissolved after delivery) as they are, any other code as
    /// [`TransportError::Forwarded`]. The kernel applies this to every
    /// reply it copies, so that a code only the kernel reports (an
    /// invalid capability, a deadlock, ...) always comes from the kernel,
    /// as [`crate::RpcError`] promises for codes in a reply's words.
    #[inline]
    pub const fn from_server(code: u32) -> u32 {
        const SENT_BY_SERVERS: u32 = 1
            | 1 << TransportError::ServerDead as u32
            | 1 << TransportError::UnknownOpcode as u32
            | 1 << TransportError::WrongLength as u32
            | 1 << TransportError::InvalidValue as u32
            | 1 << TransportError::PayloadTooLarge as u32
            | 1 << TransportError::WrongInterface as u32;
        if code < u32::BITS && SENT_BY_SERVERS & (1 << code) != 0 {
            code
        } else {
            TransportError::Forwarded.code()
        }
    }
}

impl From<MessageError> for TransportError {
    fn from(error: MessageError) -> Self {
        match error {
            MessageError::UnknownOpcode => Self::UnknownOpcode,
            MessageError::WrongLength => Self::WrongLength,
            MessageError::InvalidValue => Self::InvalidValue,
            MessageError::PayloadTooLarge => Self::PayloadTooLarge,
            MessageError::WrongInterface => Self::WrongInterface,
        }
    }
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownOpcode => "unknown opcode",
            Self::WrongLength => "wrong message length",
            Self::InvalidValue => "invalid value in message",
            Self::PayloadTooLarge => "payload too large",
            Self::WrongInterface => "label of an interface the object does not implement",
        })
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidCapability => "invalid capability",
            Self::ServerDead => "object revoked or server dead",
            Self::UnknownOpcode => "unknown opcode",
            Self::WrongLength => "wrong message length",
            Self::InvalidValue => "invalid value in message",
            Self::PayloadTooLarge => "payload too large",
            Self::CapabilitySpaceFull => "receiver's capability space is full",
            Self::Forwarded => "a call the server made failed",
            Self::WrongInterface => "capability of another interface",
            Self::TooManyCapabilities => "more capabilities than the receiver accepts",
            Self::Deadlock => "the call would wait for itself",
            Self::PriorityInversion => "server priority below its client's",
        })
    }
}

impl core::error::Error for MessageError {}
impl core::error::Error for TransportError {}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::{MessageError, TransportError};

    const ALL: [TransportError; 12] = [
        TransportError::InvalidCapability,
        TransportError::ServerDead,
        TransportError::UnknownOpcode,
        TransportError::WrongLength,
        TransportError::InvalidValue,
        TransportError::PayloadTooLarge,
        TransportError::CapabilitySpaceFull,
        TransportError::Forwarded,
        TransportError::WrongInterface,
        TransportError::TooManyCapabilities,
        TransportError::Deadlock,
        TransportError::PriorityInversion,
    ];

    #[test]
    fn every_code_decodes_to_its_error_and_zero_to_none() {
        assert_eq!(TransportError::from_code(0), None, "0 is no error");
        for error in ALL {
            assert_eq!(TransportError::from_code(error.code()), Some(error));
        }
        for unknown in [13, 0x100, u32::MAX] {
            assert_eq!(TransportError::from_code(unknown), Some(TransportError::InvalidValue));
        }
    }

    /// What a server's reply may carry to its client: no error, or what
    /// a dispatcher writes; a code only the kernel reports (or none at
    /// all) arrives as `Forwarded`, so a client that sees `ServerDead`
    /// or `InvalidCapability` knows the kernel said so.
    #[test]
    fn a_server_passes_on_only_the_codes_a_dispatcher_writes() {
        assert_eq!(TransportError::from_server(0), 0);
        for error in ALL {
            let sent_by_servers = matches!(
                error,
                TransportError::ServerDead
                    | TransportError::UnknownOpcode
                    | TransportError::WrongLength
                    | TransportError::InvalidValue
                    | TransportError::PayloadTooLarge
                    | TransportError::WrongInterface
            );
            let expected = if sent_by_servers { error } else { TransportError::Forwarded };
            assert_eq!(TransportError::from_server(error.code()), expected.code(), "{error:?}");
        }
        for unknown in [13, 31, 32, 33, 0x8000_0002, u32::MAX] {
            assert_eq!(
                TransportError::from_server(unknown),
                TransportError::Forwarded.code(),
                "code {unknown}"
            );
        }
    }

    #[test]
    fn every_error_reads_as_a_message_of_its_own() {
        use std::string::ToString;
        let transport: std::vec::Vec<_> = ALL.iter().map(ToString::to_string).collect();
        let message: std::vec::Vec<_> = [
            MessageError::UnknownOpcode,
            MessageError::WrongLength,
            MessageError::InvalidValue,
            MessageError::PayloadTooLarge,
            MessageError::WrongInterface,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        for texts in [&transport, &message] {
            for (index, text) in texts.iter().enumerate() {
                assert!(!text.is_empty());
                assert!(!texts[..index].contains(text), "{text:?} twice");
            }
        }
    }
}
