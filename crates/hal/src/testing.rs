//! What drivers' host tests share (feature `testing`, for
//! `[dev-dependencies]` only): a delay that moves a virtual clock instead
//! of waiting.

extern crate std;

use core::cell::Cell;
use std::rc::Rc;

/// A delay that only moves a virtual clock, which all its clones share:
/// the driver waits through one, and the test, or the model of the device
/// the test drives, reads the time from another.
#[derive(Clone, Debug, Default)]
pub struct VirtualDelay(Rc<Cell<u64>>);

impl VirtualDelay {
    /// Nanoseconds waited so far, through any clone.
    pub fn now(&self) -> u64 {
        self.0.get()
    }

    /// Moves the clock on by `ns`: time passing outside the driver.
    pub fn advance(&self, ns: u64) {
        self.0.set(self.0.get() + ns);
    }
}

impl embedded_hal::delay::DelayNs for VirtualDelay {
    fn delay_ns(&mut self, ns: u32) {
        self.advance(u64::from(ns));
    }
}

#[cfg(test)]
mod tests {
    use embedded_hal::delay::DelayNs;

    use super::VirtualDelay;

    #[test]
    fn clones_share_one_clock() {
        let reader = VirtualDelay::default();
        let mut waiter = reader.clone();
        waiter.delay_ns(1_500);
        waiter.delay_us(2);
        reader.advance(10);
        assert_eq!(reader.now(), 3_510);
        assert_eq!(waiter.now(), 3_510);
    }
}
