//! Host tests against a model of the PL031.

use crate::{CivilTime, Pl031, Register};
use core::cell::Cell;

/// The counter, match and interrupt logic of TRM 2.2: the count only runs
/// once RTCStart is set, a match raises RTCRIS, RTCICR clears it.
struct ModelRtc {
    count: Cell<u32>,
    started: Cell<bool>,
    match_value: Cell<u32>,
    mask: Cell<u32>,
    raw: Cell<u32>,
    /// RTCPeriphID0..3: a PL031 of revision 1 unless a test says otherwise.
    periph_id: Cell<[u32; 4]>,
}

impl Default for ModelRtc {
    fn default() -> Self {
        Self {
            count: Cell::default(),
            started: Cell::default(),
            match_value: Cell::default(),
            mask: Cell::default(),
            raw: Cell::default(),
            periph_id: Cell::new([0x31, 0x10, 0x14, 0x00]),
        }
    }
}

impl ModelRtc {
    /// `seconds` pass on the 1 Hz clock.
    fn tick(&self, seconds: u32) {
        for _ in 0..seconds {
            if !self.started.get() {
                return;
            }
            self.count.set(self.count.get().wrapping_add(1));
            if self.count.get() == self.match_value.get() {
                self.raw.set(1);
            }
        }
    }
}

impl ferrode_hal::RegisterAccess<Register> for ModelRtc {
    fn read(&self, register: Register) -> u32 {
        match register {
            Register::Rtcdr => self.count.get(),
            Register::Rtcmr => self.match_value.get(),
            Register::Rtccr => u32::from(self.started.get()),
            Register::Rtcimsc => self.mask.get(),
            Register::Rtcris => self.raw.get(),
            Register::Rtcmis => self.raw.get() & self.mask.get(),
            Register::PeriphId0 => self.periph_id.get()[0],
            Register::PeriphId1 => self.periph_id.get()[1],
            Register::PeriphId2 => self.periph_id.get()[2],
            Register::PeriphId3 => self.periph_id.get()[3],
            Register::Rtclr | Register::Rtcicr => 0,
        }
    }

    fn write(&self, register: Register, value: u32) {
        match register {
            Register::Rtcmr => self.match_value.set(value),
            Register::Rtclr => self.count.set(value),
            Register::Rtccr => {
                if value & 1 != 0 {
                    self.started.set(true);
                }
            }
            Register::Rtcimsc => self.mask.set(value & 1),
            Register::Rtcicr => self.raw.set(self.raw.get() & !value),
            Register::Rtcdr | Register::Rtcris | Register::Rtcmis => {}
            Register::PeriphId0
            | Register::PeriphId1
            | Register::PeriphId2
            | Register::PeriphId3 => {}
        }
    }
}

#[test]
fn bring_up_starts_a_stopped_counter_and_keeps_its_value() {
    let model = ModelRtc::default();
    model.count.set(1_000);
    let rtc = Pl031::new(&model);
    assert!(rtc.is_pl031());
    assert!(model.started.get());
    model.tick(5);
    assert_eq!(rtc.seconds(), 1_005);
}

#[test]
fn loading_sets_the_count_and_the_alarm_fires_once_on_the_match() {
    let model = ModelRtc::default();
    let rtc = Pl031::new(&model);
    rtc.set_seconds(1_735_689_598);
    rtc.set_alarm(1_735_689_600);
    model.tick(1);
    assert!(!rtc.alarm_pending());
    assert!(!rtc.take_alarm());
    model.tick(1);
    assert_eq!(model.read_masked(), 1, "the interrupt line is up");
    assert!(rtc.alarm_pending());
    assert!(rtc.alarm_pending(), "looking does not clear it");
    assert!(rtc.take_alarm());
    assert!(!rtc.take_alarm(), "cleared by RTCICR");
    assert_eq!(
        rtc.now(),
        CivilTime { year: 2025, month: 1, day: 1, hour: 0, minute: 0, second: 0 }
    );
    rtc.disarm();
    assert_eq!(model.mask.get(), 0);
}

impl ModelRtc {
    fn read_masked(&self) -> u32 {
        ferrode_hal::RegisterAccess::read(self, Register::Rtcmis)
    }
}

/// Another PrimeCell (a PL011 here, or a PL031 with one ID byte wrong) is
/// not taken for the RTC: each of the four bytes is checked, not just one.
#[test]
fn only_a_pl031_identifies_as_one() {
    let model = ModelRtc::default();
    let rtc = Pl031::new(&model);
    assert!(rtc.is_pl031(), "any revision in PeriphID2 bits 7:4");
    model.periph_id.set([0x11, 0x10, 0x34, 0x00]);
    assert!(!rtc.is_pl031(), "a PL011");
    for byte in 0..4 {
        let mut id = [0x31, 0x10, 0x14, 0x00];
        id[byte] ^= 0x01;
        model.periph_id.set(id);
        assert!(!rtc.is_pl031(), "PeriphID{byte} wrong");
    }
}
