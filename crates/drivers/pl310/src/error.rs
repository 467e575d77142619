//! L2C-310 errors.

use core::fmt;

/// A maintenance operation the driver waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Invalidate by Way (0x77C).
    InvalidateByWay,
    /// Clean by Way (0x7BC).
    CleanByWay,
    /// Clean and Invalidate by Way (0x7FC).
    CleanInvalidateByWay,
    /// Cache Sync (0x730).
    CacheSync,
}

/// What can go wrong with an L2C-310.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The operation's register still read as in progress after
    /// [`POLL_LIMIT`](crate::POLL_LIMIT) reads: the controller is not
    /// doing what the TRM says (or is not there). Nothing after it in the
    /// sequence was written.
    Timeout(Operation),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self::Timeout(operation) = self;
        f.write_str(match operation {
            Operation::InvalidateByWay => "invalidate by way did not finish",
            Operation::CleanByWay => "clean by way did not finish",
            Operation::CleanInvalidateByWay => "clean and invalidate by way did not finish",
            Operation::CacheSync => "cache sync did not finish",
        })
    }
}

impl core::error::Error for Error {}
