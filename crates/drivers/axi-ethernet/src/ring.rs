//! The memory the DMA works in: buffer descriptors and frame buffers.
//!
//! The platform lends the driver a [`Rings`] (a static of its own, all
//! zero: `.bss`). [`split`] turns the loan into two [`Ring`]s of raw
//! pointers, which is all the driver keeps: from then on the DMA writes
//! that memory too, behind the compiler's back, so no Rust reference to it
//! may exist. Every access is here, in a handful of small `unsafe` blocks:
//! descriptor words are read and written volatile, one word at a time;
//! buffers are copied in bulk, ordered against the descriptors by the
//! caller's fences.

use core::fmt;
use core::ptr::NonNull;

/// Bytes of each frame buffer: a whole frame of [`ferrode_hal::MAX_FRAME_LEN`]
/// bytes with room to spare (VLAN tag, FCS), 24 cache lines of 64 bytes.
pub const BUFFER_LEN: usize = 1536;

/// Words of a buffer descriptor (PG021: 13 used, 16 for the 64-byte
/// alignment the DMA requires).
const DESCRIPTOR_WORDS: usize = 16;

/// Word indices of a buffer descriptor (PG021, "Scatter Gather
/// Descriptor"): byte offset / 4.
pub(crate) mod word {
    /// NXTDESC (0x00): the next descriptor's address (bits 31:6).
    pub const NXTDESC: usize = 0;
    /// NXTDESC_MSB (0x04): its upper 32 bits.
    pub const NXTDESC_MSB: usize = 1;
    /// BUFFER_ADDRESS (0x08): the buffer's address.
    pub const BUFFER_ADDRESS: usize = 2;
    /// BUFFER_ADDRESS_MSB (0x0C): its upper 32 bits.
    pub const BUFFER_ADDRESS_MSB: usize = 3;
    /// CONTROL (0x18): buffer length, SOF, EOF.
    pub const CONTROL: usize = 6;
    /// STATUS (0x1C): Complete, RXSOF, RXEOF, errors.
    pub const STATUS: usize = 7;
    /// APP0 (0x20): on transmit, bit 0 would ask for checksum offload.
    pub const APP0: usize = 8;
    /// APP4 (0x30): on receive, the frame's length in bits 15:0.
    pub const APP4: usize = 12;
}

/// A buffer descriptor: 16 words on a 64-byte boundary.
#[repr(C, align(64))]
pub(crate) struct Descriptor {
    _words: [u32; DESCRIPTOR_WORDS],
}

impl Descriptor {
    const ZERO: Self = Self { _words: [0; DESCRIPTOR_WORDS] };
}

/// A frame buffer, on a 64-byte boundary like its descriptor (PG021 wants
/// buffers aligned to the stream width without the realignment engine).
#[repr(C, align(64))]
pub(crate) struct Buffer {
    _bytes: [u8; BUFFER_LEN],
}

impl Buffer {
    const ZERO: Self = Self { _bytes: [0; BUFFER_LEN] };
}

const _: () = assert!(size_of::<Descriptor>() == 64 && align_of::<Descriptor>() == 64);
const _: () = assert!(size_of::<Buffer>() == BUFFER_LEN && align_of::<Buffer>() == 64);

/// `TX` transmit and `RX` receive buffer descriptors, each 64-byte aligned,
/// and a [`BUFFER_LEN`]-byte buffer per descriptor: the memory
/// [`AxiEthernet::new`](crate::AxiEthernet::new) hands the DMA. All zero
/// when new (`const fn`), so a `static` of it is in `.bss`.
///
/// The DMA reads and writes it at its CPU address (no MMU on MicroBlaze
/// V); on a core with a data cache it must be memory the DMA sees
/// coherently (an uncached region, or no data cache): the driver does no
/// cache maintenance.
#[repr(C)]
pub struct Rings<const TX: usize, const RX: usize> {
    pub(crate) tx_descriptors: [Descriptor; TX],
    pub(crate) rx_descriptors: [Descriptor; RX],
    pub(crate) tx_buffers: [Buffer; TX],
    pub(crate) rx_buffers: [Buffer; RX],
}

impl<const TX: usize, const RX: usize> Rings<TX, RX> {
    /// Descriptors and buffers, all zero.
    pub const fn new() -> Self {
        Self {
            tx_descriptors: [Descriptor::ZERO; TX],
            rx_descriptors: [Descriptor::ZERO; RX],
            tx_buffers: [Buffer::ZERO; TX],
            rx_buffers: [Buffer::ZERO; RX],
        }
    }

    /// The addresses the rings occupy, for a model that checks the DMA
    /// stays inside them (no access: the address only).
    #[cfg(test)]
    pub(crate) fn bus_range(&self) -> core::ops::Range<usize> {
        let start = core::ptr::from_ref(self).addr();
        start..start + size_of::<Self>()
    }
}

impl<const TX: usize, const RX: usize> Default for Rings<TX, RX> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const TX: usize, const RX: usize> fmt::Debug for Rings<TX, RX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rings").field("tx", &TX).field("rx", &RX).finish()
    }
}

/// The address the DMA uses for `pointer`: the CPU address (no MMU, no
/// IOMMU), its provenance exposed, since the DMA (or a model of it) reaches
/// the memory from a bare integer.
fn bus_address<T>(pointer: *mut T) -> u64 {
    pointer.expose_provenance() as u64
}

/// The transmit and receive rings of `rings`. The loan is consumed: from
/// here on the memory is reached only through the two rings' pointers (and
/// by the DMA).
pub(crate) fn split<const TX: usize, const RX: usize>(
    rings: &mut Rings<TX, RX>,
) -> (Ring<TX>, Ring<RX>) {
    let tx = Ring {
        descriptors: NonNull::from(&mut rings.tx_descriptors).cast(),
        buffers: NonNull::from(&mut rings.tx_buffers).cast(),
    };
    let rx = Ring {
        descriptors: NonNull::from(&mut rings.rx_descriptors).cast(),
        buffers: NonNull::from(&mut rings.rx_buffers).cast(),
    };
    (tx, rx)
}

/// One ring of `N` descriptors with a buffer each, as the driver holds it:
/// raw pointers into the lent [`Rings`], valid for the loan's lifetime
/// (the driver that holds them keeps the loan as `PhantomData`).
pub(crate) struct Ring<const N: usize> {
    descriptors: NonNull<Descriptor>,
    buffers: NonNull<Buffer>,
}

// SAFETY: a `Ring` stands for the `&mut` loan of its part of the rings
// (see `split`), which is `Send`: moving the driver to another thread moves
// its exclusive access to that memory along. It is not `Sync`: its methods
// take `&self` but are only called by the one driver that owns it.
unsafe impl<const N: usize> Send for Ring<N> {}

impl<const N: usize> Ring<N> {
    /// Word `word` of descriptor `index`.
    ///
    /// # Panics
    /// If `index` is not below `N` or `word` not below 16 (a driver bug).
    fn word(&self, index: usize, word: usize) -> *mut u32 {
        assert!(index < N && word < DESCRIPTOR_WORDS, "descriptor word outside the ring");
        self.descriptors.as_ptr().wrapping_add(index).cast::<u32>().wrapping_add(word)
    }

    /// Buffer `index`.
    ///
    /// # Panics
    /// If `index` is not below `N`.
    fn buffer(&self, index: usize) -> *mut u8 {
        assert!(index < N, "buffer outside the ring");
        self.buffers.as_ptr().wrapping_add(index).cast::<u8>()
    }

    /// Reads word `word` of descriptor `index` (one volatile load: the DMA
    /// may write it at any time). Descriptors are little-endian (AXI).
    pub(crate) fn read(&self, index: usize, word: usize) -> u32 {
        let pointer = self.word(index, word);
        // SAFETY: an aligned word inside descriptor `index` of this ring
        // (checked by `word`), memory the driver holds on loan for as long
        // as this ring exists and reaches only through these pointers; the
        // access is volatile because the DMA writes it too.
        u32::from_le(unsafe { pointer.read_volatile() })
    }

    /// Writes word `word` of descriptor `index` (one volatile store).
    pub(crate) fn write(&self, index: usize, word: usize, value: u32) {
        let pointer = self.word(index, word);
        // SAFETY: as in `read`.
        unsafe { pointer.write_volatile(value.to_le()) }
    }

    /// The bus address of descriptor `index`.
    pub(crate) fn descriptor_address(&self, index: usize) -> u64 {
        bus_address(self.word(index, 0))
    }

    /// The bus address of buffer `index`.
    pub(crate) fn buffer_address(&self, index: usize) -> u64 {
        bus_address(self.buffer(index))
    }

    /// Copies the first `out.len()` bytes of buffer `index` into `out`.
    /// The caller has seen the descriptor complete (and fenced).
    ///
    /// # Panics
    /// If `out` is longer than a buffer.
    pub(crate) fn copy_from_buffer(&self, index: usize, out: &mut [u8]) {
        assert!(out.len() <= BUFFER_LEN, "copy past the end of a buffer");
        let source = self.buffer(index);
        // SAFETY: `out.len()` bytes from the start of buffer `index` lie
        // inside it (checked above) and inside the loan; the DMA is done
        // with the buffer (its descriptor is complete and not handed back),
        // and `out` is the caller's memory, which cannot overlap the loan.
        unsafe { core::ptr::copy_nonoverlapping(source, out.as_mut_ptr(), out.len()) }
    }

    /// Copies `bytes` into buffer `index` from byte `at` on. The caller
    /// owns the descriptor (it is not handed to the DMA).
    ///
    /// # Panics
    /// If the bytes would pass the end of the buffer.
    pub(crate) fn copy_to_buffer(&self, index: usize, at: usize, bytes: &[u8]) {
        assert!(at <= BUFFER_LEN && bytes.len() <= BUFFER_LEN - at, "copy past a buffer's end");
        let destination = self.buffer(index).wrapping_add(at);
        // SAFETY: the bytes land inside buffer `index` (checked above),
        // inside the loan; the DMA does not touch the buffer while its
        // descriptor is the driver's, and `bytes` cannot overlap the loan.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), destination, bytes.len()) }
    }
}

impl<const N: usize> fmt::Debug for Ring<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("descriptors", &self.descriptors)
            .field("buffers", &self.buffers)
            .field("len", &N)
            .finish()
    }
}
