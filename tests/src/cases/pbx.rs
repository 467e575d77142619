//! RealView PBX-A9 drivers, services and apps under QEMU.

use super::Case;

/// The RealView PBX-A9 cases.
pub fn cases() -> Vec<Case> {
    Vec::new()
}
