//! Arm PrimeCell real-time clock (PL031) driver, board-agnostic and
//! host-tested.
//!
//! The PL031 counts seconds in a 32-bit register (RTCDR) clocked at 1 Hz,
//! loaded through RTCLR, and raises its interrupt when the count equals the
//! match register RTCMR (PL031 TRM DDI 0224, chapter 3). The driver reads
//! and sets the count, arms and takes the match alarm, and turns a count
//! of seconds since 1970-01-01 into a calendar date and time
//! ([`CivilTime`]) without a library.
#![no_std]

#[cfg(test)]
extern crate std;

mod regs;

#[cfg(test)]
mod tests;

pub use ferrode_hal::CivilTime;
pub use regs::{Mmio, Register, Registers, Regs};

use ferrode_hal::mmio::{Readable, Writeable};

use crate::regs::{INT, RTCCR};

/// PeriphID0..3 low bytes of a PL031 (TRM 3.3.10): part 0x031, designer
/// 0x41 (Arm), revision 0.
const PERIPHERAL_ID: [u8; 4] = [0x31, 0x10, 0x04, 0x00];

/// A PL031 real-time clock.
pub struct Pl031<R> {
    registers: R,
}

impl<R: Registers> Pl031<R> {
    /// Takes over the RTC: starts the counter if the boot loader did not
    /// (keeping its value), masks and clears the match interrupt.
    pub fn new(registers: R) -> Self {
        let rtc = Self { registers };
        rtc.registers.rtcimsc().set(0);
        rtc.registers.rtcicr().write(INT::MATCH::SET);
        if !rtc.registers.rtccr().is_set(RTCCR::RTC_START) {
            rtc.registers.rtccr().write(RTCCR::RTC_START::SET);
        }
        rtc
    }

    /// Whether the peripheral ID registers say PL031.
    pub fn is_pl031(&self) -> bool {
        let id = [0, 1, 2, 3].map(|n| self.registers.periph_id(n).get() as u8);
        // PeriphID2 bits 7:4 are the revision, which may differ.
        id[0] == PERIPHERAL_ID[0]
            && id[1] == PERIPHERAL_ID[1]
            && id[2] & 0x0f == PERIPHERAL_ID[2]
            && id[3] == PERIPHERAL_ID[3]
    }

    /// Seconds on the counter (by convention since 1970-01-01 UTC).
    pub fn seconds(&self) -> u32 {
        self.registers.rtcdr().get()
    }

    /// The counter as a calendar date and time (UTC).
    pub fn now(&self) -> CivilTime {
        CivilTime::from_unix_seconds(u64::from(self.seconds()))
    }

    /// Loads the counter with `seconds` (RTCLR); it counts on from there.
    pub fn set_seconds(&self, seconds: u32) {
        self.registers.rtclr().set(seconds);
    }

    /// Arms the match alarm for when the counter reaches `seconds`, and
    /// unmasks its interrupt. A match already pending is cleared first.
    pub fn set_alarm(&self, seconds: u32) {
        self.registers.rtcicr().write(INT::MATCH::SET);
        self.registers.rtcmr().set(seconds);
        self.registers.rtcimsc().write(INT::MATCH::SET);
    }

    /// Masks the match interrupt and drops a pending match.
    pub fn disarm(&self) {
        self.registers.rtcimsc().set(0);
        self.registers.rtcicr().write(INT::MATCH::SET);
    }

    /// Whether the counter has matched the alarm (RTCRIS), without
    /// clearing it: the interrupt stays asserted for its handler.
    pub fn alarm_pending(&self) -> bool {
        self.registers.rtcris().is_set(INT::MATCH)
    }

    /// True once if the counter has matched the alarm (RTCRIS), clearing
    /// it (RTCICR): the interrupt entry point too.
    pub fn take_alarm(&self) -> bool {
        if !self.alarm_pending() {
            return false;
        }
        self.registers.rtcicr().write(INT::MATCH::SET);
        true
    }

    /// Gives back the register access.
    pub fn release(self) -> R {
        self.registers
    }
}
