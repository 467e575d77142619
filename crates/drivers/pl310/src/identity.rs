//! What the Cache ID Register says the controller is (TRM 3.3, "Cache ID
//! Register").

use ferrode_hal::mmio::LocalRegisterCopy;

use crate::regs::CACHE_ID;

/// The Cache ID Register's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheId {
    /// Implementer: [`CacheId::ARM`] for Arm.
    pub implementer: u8,
    /// CACHEID, the value the integrator wired to the controller's pins.
    pub cache_id: u8,
    /// Part number: [`CacheId::PART_L2C_310`] for the L2C-310.
    pub part_number: u8,
    /// RTL release (see [`CacheId::revision`]).
    pub rtl_release: u8,
}

/// A release of the L2C-310 design, `rNpM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Revision {
    /// N, the major revision.
    pub major: u8,
    /// M, the patch level.
    pub patch: u8,
}

impl CacheId {
    /// The implementer code of Arm.
    pub const ARM: u8 = 0x41;
    /// The part number of the L2C-310.
    pub const PART_L2C_310: u8 = 0b0011;

    /// The fields of a Cache ID Register value.
    pub fn from_register(value: u32) -> Self {
        let value = LocalRegisterCopy::<u32, CACHE_ID::Register>::new(value);
        Self {
            implementer: value.read(CACHE_ID::IMPLEMENTER) as u8,
            cache_id: value.read(CACHE_ID::CACHE_ID) as u8,
            part_number: value.read(CACHE_ID::PART_NUMBER) as u8,
            rtl_release: value.read(CACHE_ID::RTL_RELEASE) as u8,
        }
    }

    /// Whether this is an Arm L2C-310.
    pub const fn is_l2c_310(&self) -> bool {
        self.implementer == Self::ARM && self.part_number == Self::PART_L2C_310
    }

    /// The L2C-310 release the RTL release field stands for, by the TRM's
    /// table of RTL release values; `None` for a value the table does not
    /// list.
    pub const fn revision(&self) -> Option<Revision> {
        let (major, patch) = match self.rtl_release {
            0x0 => (0, 0),
            0x2 => (1, 0),
            0x4 => (2, 0),
            0x5 => (3, 0),
            0x6 => (3, 1),
            0x8 => (3, 2),
            0x9 => (3, 3),
            _ => return None,
        };
        Some(Revision { major, patch })
    }
}
