//! A ring of received frames between the EthernetLite's interrupt and the
//! network stack.
//!
//! EthernetLite holds one received frame per buffer (one buffer, or two
//! with C_RX_PING_PONG); while a buffer is full the core drops what
//! arrives for it. The interrupt therefore copies frames out at once and
//! hands the buffer back, and the stack takes them from here.

use core::fmt;

use ferrode_hal::{FrameBuffer, MAX_FRAME_LEN};

/// Up to `N` frames of at most [`MAX_FRAME_LEN`] bytes (each in a
/// [`FrameBuffer`], 2 bytes past a word like the buffers the network stack
/// lends, so the copy out of the buffer RAM stores whole words and the copy
/// on to the stack's buffer is word by word too), oldest first: the
/// memory [`EmacLite::new`](crate::EmacLite::new) is lent for received
/// frames. All zero when new (`const fn`), so a `static` of it is in
/// `.bss`.
pub struct ReceiveRing<const N: usize> {
    frames: [FrameBuffer; N],
    lengths: [usize; N],
    head: usize,
    len: usize,
}

impl<const N: usize> ReceiveRing<N> {
    /// An empty ring.
    pub const fn new() -> Self {
        Self { frames: [const { FrameBuffer::new() }; N], lengths: [0; N], head: 0, len: 0 }
    }

    /// Forgets every frame.
    pub(crate) fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == N
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The free slot after the newest frame; fill it, then [`Self::push`].
    /// Only while not full.
    pub(crate) fn free_slot(&mut self) -> &mut [u8; MAX_FRAME_LEN] {
        self.frames[(self.head + self.len) % N].frame_mut()
    }

    /// Makes the free slot a frame of `length` bytes.
    pub(crate) fn push(&mut self, length: usize) {
        let tail = (self.head + self.len) % N;
        self.lengths[tail] = length;
        self.len += 1;
    }

    /// The oldest frame, removed. `None` if empty.
    pub(crate) fn pop(&mut self) -> Option<&[u8]> {
        if self.len == 0 {
            return None;
        }
        let head = self.head;
        self.head = (self.head + 1) % N;
        self.len -= 1;
        Some(&self.frames[head].frame()[..self.lengths[head]])
    }
}

impl<const N: usize> Default for ReceiveRing<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for ReceiveRing<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiveRing").field("frames", &self.len).field("capacity", &N).finish()
    }
}
