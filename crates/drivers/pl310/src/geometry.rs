//! The cache's shape, from the Auxiliary Control Register (TRM 3.3,
//! "Auxiliary Control Register").

use ferrode_hal::mmio::LocalRegisterCopy;

use crate::regs::AUX_CONTROL;

/// Associativity and way size: what the maintenance operations by way
/// must cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Ways: 8 or 16.
    pub ways: u32,
    /// Bytes per way: 16 KiB to 512 KiB.
    pub way_size: u32,
}

impl Geometry {
    /// Bytes per cache line: 32 on every L2C-310 (the Cache Type
    /// Register's line length fields read 0b00).
    pub const LINE_SIZE: u32 = 32;

    /// The geometry an Auxiliary Control Register value gives: bit 16
    /// picks 8 or 16 ways; bits 19:17 the way size, 16 KiB << (field - 1),
    /// with the reserved 0b000 acting as 16 KiB and 0b111 as 512 KiB.
    pub fn from_aux_control(value: u32) -> Self {
        let value = LocalRegisterCopy::<u32, AUX_CONTROL::Register>::new(value);
        let ways = match value.read_as_enum(AUX_CONTROL::ASSOCIATIVITY) {
            Some(AUX_CONTROL::ASSOCIATIVITY::Value::Ways16) => 16,
            _ => 8,
        };
        let field = value.read(AUX_CONTROL::WAY_SIZE).clamp(1, 6);
        Self { ways, way_size: (16 * 1024) << (field - 1) }
    }

    /// The cache's size in bytes.
    pub const fn size(&self) -> u32 {
        self.ways * self.way_size
    }

    /// The mask with a bit for each way, as the operations by way take it
    /// (0xff for 8 ways, 0xffff for 16): bits past the last way are
    /// reserved.
    pub const fn way_mask(&self) -> u32 {
        (1 << self.ways) - 1
    }

    /// Lines per way (the sets).
    pub const fn sets(&self) -> u32 {
        self.way_size / Self::LINE_SIZE
    }
}
