//! SP804 errors.

use core::fmt;

/// What can go wrong with an SP804.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// TIMCLK divided by the prescaler gives a tick rate of 0 Hz.
    ZeroTickRate,
    /// A periodic timer with a period of 0 ticks.
    ZeroPeriod,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ZeroTickRate => "timer clock divided by the prescaler is 0 Hz",
            Self::ZeroPeriod => "a periodic timer needs a period of at least one tick",
        })
    }
}

impl core::error::Error for Error {}
