//! GIC errors.

use core::fmt;

/// What can go wrong with the GIC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The interrupt ID is beyond the lines this distributor implements.
    InvalidInterrupt(u32),
    /// The operation does not apply to this kind of interrupt (e.g. the
    /// trigger or target of a banked SGI/PPI, or an SGI ID above 15).
    NotConfigurable(u32),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidInterrupt(id) => {
                write!(f, "interrupt {id} is not implemented by this GIC")
            }
            Self::NotConfigurable(id) => write!(f, "interrupt {id} cannot be configured this way"),
        }
    }
}

impl core::error::Error for Error {}
