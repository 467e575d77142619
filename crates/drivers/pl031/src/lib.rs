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

mod civil;
mod regs;

#[cfg(test)]
mod tests;

pub use civil::CivilTime;
pub use regs::{Mmio, Register, RegisterAccess, Regs};

/// RTCCR.RTCStart: the counter runs (cannot be stopped once started).
const RTCCR_START: u32 = 1 << 0;
/// RTCIMSC / RTCRIS / RTCICR: the match interrupt.
const MATCH_INTERRUPT: u32 = 1 << 0;
/// PeriphID0..3 low bytes of a PL031 (TRM 3.3.10): part 0x031, designer
/// 0x41 (Arm), revision 0.
const PERIPHERAL_ID: [u8; 4] = [0x31, 0x10, 0x04, 0x00];

/// A PL031 real-time clock.
pub struct Pl031<R> {
    registers: R,
}

impl<R: RegisterAccess> Pl031<R> {
    /// Takes over the RTC: starts the counter if the boot loader did not
    /// (keeping its value), masks and clears the match interrupt.
    pub fn new(registers: R) -> Self {
        let rtc = Self { registers };
        rtc.registers.write(Register::Rtcimsc, 0);
        rtc.registers.write(Register::Rtcicr, MATCH_INTERRUPT);
        if rtc.registers.read(Register::Rtccr) & RTCCR_START == 0 {
            rtc.registers.write(Register::Rtccr, RTCCR_START);
        }
        rtc
    }

    /// Whether the peripheral ID registers say PL031.
    pub fn is_pl031(&self) -> bool {
        let id =
            [Register::PeriphId0, Register::PeriphId1, Register::PeriphId2, Register::PeriphId3]
                .map(|register| self.registers.read(register) as u8);
        // PeriphID2 bits 7:4 are the revision, which may differ.
        id[0] == PERIPHERAL_ID[0]
            && id[1] == PERIPHERAL_ID[1]
            && id[2] & 0x0f == PERIPHERAL_ID[2]
            && id[3] == PERIPHERAL_ID[3]
    }

    /// Seconds on the counter (by convention since 1970-01-01 UTC).
    pub fn seconds(&self) -> u32 {
        self.registers.read(Register::Rtcdr)
    }

    /// The counter as a calendar date and time (UTC).
    pub fn now(&self) -> CivilTime {
        CivilTime::from_unix_seconds(u64::from(self.seconds()))
    }

    /// Loads the counter with `seconds` (RTCLR); it counts on from there.
    pub fn set_seconds(&self, seconds: u32) {
        self.registers.write(Register::Rtclr, seconds);
    }

    /// Arms the match alarm for when the counter reaches `seconds`, and
    /// unmasks its interrupt. A match already pending is cleared first.
    pub fn set_alarm(&self, seconds: u32) {
        self.registers.write(Register::Rtcicr, MATCH_INTERRUPT);
        self.registers.write(Register::Rtcmr, seconds);
        self.registers.write(Register::Rtcimsc, MATCH_INTERRUPT);
    }

    /// Masks the match interrupt and drops a pending match.
    pub fn disarm(&self) {
        self.registers.write(Register::Rtcimsc, 0);
        self.registers.write(Register::Rtcicr, MATCH_INTERRUPT);
    }

    /// True once if the counter has matched the alarm (RTCRIS), clearing
    /// it (RTCICR): the interrupt entry point too.
    pub fn take_alarm(&self) -> bool {
        if self.registers.read(Register::Rtcris) & MATCH_INTERRUPT == 0 {
            return false;
        }
        self.registers.write(Register::Rtcicr, MATCH_INTERRUPT);
        true
    }

    /// Gives back the register access.
    pub fn release(self) -> R {
        self.registers
    }
}
