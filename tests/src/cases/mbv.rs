//! MicroBlaze V drivers, services and apps under QEMU.

use super::Case;

/// The MicroBlaze V cases.
pub fn cases() -> Vec<Case> {
    Vec::new()
}
