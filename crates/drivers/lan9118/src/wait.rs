//! Waiting on the chip with a bound in time, not in loop iterations.
//!
//! Every wait polls its condition, then sleeps one microsecond through the
//! platform's `DelayNs`, and gives up with [`Error::Timeout`] once its
//! budget of microseconds is spent. Nested waits (a PHY access is several
//! MAC CSR accesses, each with its own busy bit) draw from one budget, so
//! the whole access is bounded by that budget plus the register reads.

use embedded_hal::delay::DelayNs;

use crate::error::{Error, Operation};

/// A wait's remaining time.
pub(crate) struct Budget {
    remaining_us: u32,
    step_us: u32,
    operation: Operation,
}

impl Budget {
    /// `timeout_us` microseconds for `operation`.
    pub(crate) const fn new(operation: Operation, timeout_us: u32) -> Self {
        Self::with_step(operation, timeout_us, 1)
    }

    /// `timeout_us` microseconds for `operation`, sleeping `step_us`
    /// between polls (for long waits whose polls cost time themselves).
    pub(crate) const fn with_step(operation: Operation, timeout_us: u32, step_us: u32) -> Self {
        Self { remaining_us: timeout_us, step_us, operation }
    }

    /// Called after a poll found the chip still busy: sleeps a step, or
    /// returns [`Error::Timeout`] if the budget is spent.
    pub(crate) fn tick(&mut self, delay: &mut impl DelayNs) -> Result<(), Error> {
        if self.remaining_us == 0 {
            return Err(Error::Timeout(self.operation));
        }
        let step = self.step_us.min(self.remaining_us);
        delay.delay_us(step);
        self.remaining_us -= step;
        Ok(())
    }
}

/// The time bounds, from the LAN9118 data sheet (rev. 1.5) where it gives
/// one, otherwise generous against what it describes.
pub mod timeouts {
    /// Soft reset (HW_CFG.SRST) and PMT_CTRL.READY: the chip is ready
    /// within a few milliseconds of a reset; 100 ms.
    pub const RESET_US: u32 = 100_000;
    /// The EEPROM load that follows a reset (MAC address, 7 bytes at the
    /// EEPROM's 100 kHz-class clock, under 1 ms; with no EEPROM the
    /// controller times out itself after about 30 ms); 100 ms.
    pub const EEPROM_LOAD_US: u32 = 100_000;
    /// One indirect MAC CSR access: a few bus clocks; 100 us.
    pub const MAC_CSR_US: u32 = 100;
    /// One PHY register access over the internal MII (a 64-bit management
    /// frame at 2.5 MHz, 26 us, plus its MAC CSR accesses); 1 ms.
    pub const PHY_ACCESS_US: u32 = 1_000;
    /// The PHY's software reset (BCR.Reset self-clears within 500 ms).
    pub const PHY_RESET_US: u32 = 500_000;
    /// Auto-negotiation: about 1.5 s with a partner on the wire (IEEE
    /// 802.3 clause 28 timers); bring-up waits up to 3 s, then goes on with
    /// the link down and lets the PHY's interrupt report it later.
    pub const AUTONEGOTIATION_US: u32 = 3_000_000;
    /// Stopping the transmitter or receiver for error recovery: at most one
    /// maximum-length frame at 10 Mb/s (1.2 ms); 5 ms.
    pub const STOP_US: u32 = 5_000;
}
