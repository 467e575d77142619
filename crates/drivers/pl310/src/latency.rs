//! The tag and data RAM latencies (TRM 3.3, "Tag and Data RAM Latency
//! Control Registers"), as the integrator or the boot firmware set them.

use ferrode_hal::mmio::LocalRegisterCopy;

use crate::regs::RAM_LATENCY;

/// One RAM's access latencies, in L2 clock cycles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RamLatency {
    /// Setup latency.
    pub setup: u32,
    /// Read access latency.
    pub read: u32,
    /// Write access latency.
    pub write: u32,
}

impl RamLatency {
    /// The latencies a Tag or Data RAM Latency Control Register value
    /// gives: each field holds the cycles minus one.
    pub fn from_register(value: u32) -> Self {
        let value = LocalRegisterCopy::<u32, RAM_LATENCY::Register>::new(value);
        Self {
            setup: value.read(RAM_LATENCY::SETUP) + 1,
            read: value.read(RAM_LATENCY::READ) + 1,
            write: value.read(RAM_LATENCY::WRITE) + 1,
        }
    }
}
