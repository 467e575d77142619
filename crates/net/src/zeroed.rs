//! Room for a value whose empty form is not all zero bytes.

use core::mem::MaybeUninit;

/// Room for a `T`, all zero bytes until [`Zeroed::init`] writes the value.
///
/// A `static` is placed in `.bss` only when every byte of its initial value
/// is zero; one non-zero byte (a smoltcp `PacketMetadata::EMPTY` or
/// `SocketStorage::EMPTY`, whose "none" is a non-zero tag) moves the whole
/// static, buffers and all, into `.data`, which a flash image must carry.
/// Keeping such values in a `Zeroed` and writing them at start-up keeps the
/// static in `.bss`.
pub struct Zeroed<T>(MaybeUninit<T>);

impl<T> Zeroed<T> {
    /// Zero bytes, not yet a `T` (a `const fn`, for statics).
    pub const fn new() -> Self {
        Self(MaybeUninit::zeroed())
    }

    /// Writes `value` (forgetting, not dropping, any value written before)
    /// and gives it out for as long as the room is borrowed.
    pub fn init(&mut self, value: T) -> &mut T {
        self.0.write(value)
    }
}

impl<T> Default for Zeroed<T> {
    fn default() -> Self {
        Self::new()
    }
}
