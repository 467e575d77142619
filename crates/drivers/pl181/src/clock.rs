//! The card clock: which MCIClock setting gives the fastest clock within a
//! limit (TRM 3.3.2: the divider gives MCLK / (2 * (CLKDIV + 1)), bypass
//! gives MCLK itself).

/// The fastest card clock during identification (Physical Layer 4.2: the
/// card is identified at fOD, 100-400 kHz).
pub const IDENTIFICATION_HZ: u32 = 400_000;
/// The fastest card clock in data transfer mode (Physical Layer 4.3.1:
/// default speed, 0-25 MHz).
pub const TRANSFER_HZ: u32 = 25_000_000;

/// An MCIClock setting and the card clock it gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockSetting {
    /// CLKDIV, or `None` for bypass (the card clock is MCLK).
    pub divider: Option<u8>,
    /// The card clock this gives, in Hz (rounded down).
    pub hz: u32,
}

impl ClockSetting {
    /// The fastest setting whose card clock is at most `max_hz` from an
    /// MCLK of `mclk_hz`; `None` if MCLK is 0 or too fast for even the
    /// largest divider (MCLK / 512) to come down to `max_hz`.
    pub const fn fastest(mclk_hz: u32, max_hz: u32) -> Option<Self> {
        if mclk_hz == 0 || max_hz == 0 {
            return None;
        }
        if mclk_hz <= max_hz {
            return Some(Self { divider: None, hz: mclk_hz });
        }
        // The smallest divisor 2 * (CLKDIV + 1) with MCLK / divisor <= max.
        let halves = (mclk_hz as u64).div_ceil(2 * max_hz as u64);
        if halves > 256 {
            return None;
        }
        Some(Self { divider: Some((halves - 1) as u8), hz: (mclk_hz as u64 / (2 * halves)) as u32 })
    }
}
