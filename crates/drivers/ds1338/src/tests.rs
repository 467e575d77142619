//! Host tests against a model of the DS1338 on an I2C bus.
//!
//! The model works at the transaction level, as the part sees the bus: it
//! answers only its own address (anything else is a NACK), keeps one
//! register pointer that a write's first byte sets and that every further
//! byte moves on, wrapping from 0x3F to 0x00, and applies the data sheet's
//! rules per register (bits that read 0, OSF only clearable, halting the
//! oscillator sets OSF). The time registers are the counters themselves:
//! time passes only between transactions (`pass`, or `tick` seconds before
//! each transaction starts), so a transaction always sees the time as it
//! was latched at its START, and the driver's writes change the time the
//! clock goes on counting from, as on the real part. Every transaction is
//! recorded so the tests can check how many there were and their shape.

use std::format;
use std::vec;
use std::vec::Vec;

use embedded_hal::i2c::{self, ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation};

use crate::{ADDRESS, CivilTime, Ds1338, Error, RAM_SIZE, SquareWave};

/// What the model's bus reports: only a missing acknowledge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BusError {
    /// No device answered the address.
    NoAck,
}

impl i2c::Error for BusError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)
    }
}

/// One operation of a recorded transaction, with the bytes that moved.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Write(Vec<u8>),
    Read(Vec<u8>),
}

/// One recorded transaction: from START to STOP.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Transaction {
    address: u8,
    ops: Vec<Op>,
}

/// Register bits the model needs.
const CH: u8 = 0x80;
const OSF: u8 = 0x20;
const CONTROL: usize = 0x07;
/// The bits of each time register that can hold a 1 (the others always
/// read 0), 0x00-0x06.
const TIME_BITS: [u8; 7] = [0xff, 0x7f, 0x7f, 0x07, 0x3f, 0x1f, 0xff];
/// The control register's bits that exist: OUT, OSF, SQWE, RS1, RS0.
const CONTROL_BITS: u8 = 0xb3;

/// A DS1338 as its bus sees it.
struct Model {
    address: u8,
    registers: [u8; 64],
    pointer: u8,
    /// Seconds the clock counts before each transaction starts.
    tick: u64,
    log: Vec<Transaction>,
}

impl Model {
    /// A part at `address` as it might power up (the data sheet leaves the
    /// registers undefined): halted at 2000-01-01 00:00:00, day 1, with
    /// OSF set as after a first power-up and RS at 32.768 kHz.
    fn new(address: u8) -> Self {
        let mut registers = [0; 64];
        registers[..7].copy_from_slice(&[CH, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00]);
        registers[CONTROL] = OSF | 0x03;
        for (n, byte) in registers[8..].iter_mut().enumerate() {
            *byte = 0xa0 ^ n as u8;
        }
        Self { address, registers, pointer: 0, tick: 0, log: Vec::new() }
    }

    /// Puts raw bytes into 0x00-0x06 as they might come off the bus.
    fn poke_time(&mut self, raw: [u8; 7]) {
        self.registers[..7].copy_from_slice(&raw);
    }

    fn time_registers(&self) -> [u8; 7] {
        self.registers[..7].try_into().unwrap()
    }

    /// The transactions since the last call.
    fn take_log(&mut self) -> Vec<Transaction> {
        core::mem::take(&mut self.log)
    }

    /// The counted time in seconds since 1970, and whether the hours are
    /// in 12-hour mode. The model's own decoding: it panics on registers
    /// that hold no time, as a running part with them is undefined.
    fn counted(&self) -> (u64, bool) {
        fn bcd(byte: u8) -> u8 {
            assert!(byte >> 4 <= 9 && byte & 0x0f <= 9, "model: {byte:#04x} is not BCD");
            (byte >> 4) * 10 + (byte & 0x0f)
        }
        let r = &self.registers;
        let twelve = r[2] & 0x40 != 0;
        let hour = if twelve {
            bcd(r[2] & 0x1f) % 12 + if r[2] & 0x20 != 0 { 12 } else { 0 }
        } else {
            bcd(r[2] & 0x3f)
        };
        let time = CivilTime {
            year: 2000 + u32::from(bcd(r[6])),
            month: bcd(r[5]),
            day: bcd(r[4]),
            hour,
            minute: bcd(r[1]),
            second: bcd(r[0] & !CH),
        };
        (time.to_unix_seconds().expect("model: the clock runs on registers with no date"), twelve)
    }

    /// `seconds` pass: a running clock counts them, the day of the week
    /// going on at each midnight; a halted one does not.
    fn pass(&mut self, seconds: u64) {
        if seconds == 0 || self.registers[0] & CH != 0 {
            return;
        }
        fn bcd(value: u8) -> u8 {
            ((value / 10) << 4) | (value % 10)
        }
        let (before, twelve) = self.counted();
        let after = before + seconds;
        let time = CivilTime::from_unix_seconds(after);
        assert!(time.year <= 2099, "model: the test runs the clock past 2099");
        let hours = if twelve {
            let pm = if time.hour >= 12 { 0x20 } else { 0 };
            let hour = if time.hour.is_multiple_of(12) { 12 } else { time.hour % 12 };
            0x40 | pm | bcd(hour)
        } else {
            bcd(time.hour)
        };
        let days = (after / 86_400 - before / 86_400) % 7;
        let weekday = (u64::from(self.registers[3]) - 1 + days) % 7 + 1;
        self.registers[..7].copy_from_slice(&[
            bcd(time.second),
            bcd(time.minute),
            hours,
            weekday as u8,
            bcd(time.day),
            bcd(time.month),
            bcd((time.year - 2000) as u8),
        ]);
    }

    /// A written data byte lands at the pointer.
    fn store(&mut self, byte: u8) {
        let at = usize::from(self.pointer);
        match at {
            0x00 => {
                // Halting the oscillator is an oscillator stop.
                if self.registers[0] & CH == 0 && byte & CH != 0 {
                    self.registers[CONTROL] |= OSF;
                }
                self.registers[0] = byte;
            }
            0x01..=0x06 => self.registers[at] = byte & TIME_BITS[at],
            CONTROL => {
                // OSF can only be written to 0; a 1 leaves it as it was.
                let osf = if byte & OSF == 0 { 0 } else { self.registers[CONTROL] & OSF };
                self.registers[CONTROL] = byte & CONTROL_BITS & !OSF | osf;
            }
            _ => self.registers[at] = byte,
        }
        self.pointer = (self.pointer + 1) & 0x3f;
    }
}

impl ErrorType for Model {
    type Error = BusError;
}

impl I2c for Model {
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), BusError> {
        // The clock counts up to the START, where the time is latched.
        self.pass(self.tick);
        let mut record = Transaction { address, ops: Vec::new() };
        if address != self.address {
            self.log.push(record);
            return Err(BusError::NoAck);
        }
        // After a START (and after a repeated START that turns a read into
        // a write) the first byte written is the register pointer.
        let mut pointer_next = true;
        for operation in operations {
            match operation {
                Operation::Write(bytes) => {
                    for &byte in bytes.iter() {
                        if pointer_next {
                            assert!(byte <= 0x3f, "model: register pointer {byte:#04x}");
                            self.pointer = byte;
                            pointer_next = false;
                        } else {
                            self.store(byte);
                        }
                    }
                    record.ops.push(Op::Write(bytes.to_vec()));
                }
                Operation::Read(buffer) => {
                    for byte in buffer.iter_mut() {
                        *byte = self.registers[usize::from(self.pointer)];
                        self.pointer = (self.pointer + 1) & 0x3f;
                    }
                    pointer_next = true;
                    record.ops.push(Op::Read(buffer.to_vec()));
                }
            }
        }
        self.log.push(record);
        Ok(())
    }
}

fn at(year: u32, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> CivilTime {
    CivilTime { year, month, day, hour, minute, second }
}

/// A transaction to the DS1338.
fn transaction(ops: Vec<Op>) -> Transaction {
    Transaction { address: ADDRESS, ops }
}

/// 2026-12-06 13:05:09, a Sunday, in 24-hour mode with the clock running.
const SUNDAY_AFTERNOON: [u8; 7] = [0x09, 0x05, 0x13, 0x01, 0x06, 0x12, 0x26];

#[test]
fn model_pointer_wraps_from_the_last_register_to_seconds() {
    let mut model = Model::new(ADDRESS);
    model.poke_time(SUNDAY_AFTERNOON);
    let mut two = [0; 2];
    model.write_read(ADDRESS, &[0x3f], &mut two).unwrap();
    assert_eq!(two, [model.registers[0x3f], 0x09]);
    model.write(ADDRESS, &[0x3f, 0x11, 0x42]).unwrap();
    assert_eq!((model.registers[0x3f], model.registers[0]), (0x11, 0x42));
}

#[test]
fn reads_a_24_hour_time_in_one_transaction() {
    let mut model = Model::new(ADDRESS);
    model.poke_time(SUNDAY_AFTERNOON);
    let mut rtc = Ds1338::new(&mut model);
    assert_eq!(rtc.datetime(), Ok(at(2026, 12, 6, 13, 5, 9)));
    assert_eq!(rtc.unix_seconds(), Ok(1_796_562_309));
    let bus = rtc.release();
    let read = transaction(vec![Op::Write(vec![0x00]), Op::Read(SUNDAY_AFTERNOON.to_vec())]);
    assert_eq!(bus.take_log(), [read.clone(), read]);
}

#[test]
fn reads_24_hour_hours() {
    for (hours, hour) in [(0x00, 0), (0x09, 9), (0x10, 10), (0x19, 19), (0x20, 20), (0x23, 23)] {
        let mut model = Model::new(ADDRESS);
        model.poke_time([0x59, 0x59, hours, 0x07, 0x31, 0x12, 0x99]);
        let time = Ds1338::new(&mut model).datetime();
        assert_eq!(time, Ok(at(2099, 12, 31, hour, 59, 59)), "{hours:#04x}");
    }
}

#[test]
fn reads_12_hour_hours_with_am_and_pm() {
    let cases = [
        // 12 AM is midnight, 12 PM noon.
        (0x52, 0),
        (0x41, 1),
        (0x49, 9),
        (0x50, 10),
        (0x51, 11),
        (0x72, 12),
        (0x61, 13),
        (0x69, 21),
        (0x71, 23),
    ];
    for (hours, hour) in cases {
        let mut model = Model::new(ADDRESS);
        model.poke_time([0x30, 0x15, hours, 0x03, 0x29, 0x02, 0x00]);
        let time = Ds1338::new(&mut model).datetime();
        assert_eq!(time, Ok(at(2000, 2, 29, hour, 15, 30)), "{hours:#04x}");
    }
}

#[test]
fn invalid_registers_are_an_invalid_time() {
    // Each case changes one register of SUNDAY_AFTERNOON, or (last) the
    // date of a month that lacks it.
    let cases: [(usize, u8); 27] = [
        (0, 0x5a),
        (0, 0x60),
        (0, 0xda), // 0x5a with the clock halted
        (1, 0x60),
        (1, 0x1f),
        (1, 0x80), // a bit that reads 0
        (2, 0x24),
        (2, 0x1a),
        (2, 0x80),
        (2, 0x40), // 12-hour 0
        (2, 0x53), // 12-hour 13
        (2, 0x4a),
        (2, 0xd2),
        (3, 0x00),
        (3, 0x08),
        (4, 0x00),
        (4, 0x32),
        (4, 0x1a),
        (4, 0x40),
        (5, 0x00),
        (5, 0x13),
        (5, 0x0a),
        (5, 0x20),
        (6, 0xa0),
        (6, 0x9a),
        (6, 0x2f),
        (6, 0xff),
    ];
    for (register, value) in cases {
        let mut model = Model::new(ADDRESS);
        let mut raw = SUNDAY_AFTERNOON;
        raw[register] = value;
        model.poke_time(raw);
        let mut rtc = Ds1338::new(&mut model);
        assert_eq!(rtc.datetime(), Err(Error::InvalidTime), "{register}: {value:#04x}");
        assert_eq!(rtc.unix_seconds(), Err(Error::InvalidTime), "{register}: {value:#04x}");
    }
    // Dates the month does not have; the day before is fine.
    for (date, month, year) in [(0x31, 0x04, 0x26), (0x31, 0x11, 0x26), (0x29, 0x02, 0x23)] {
        let mut model = Model::new(ADDRESS);
        model.poke_time([0x00, 0x00, 0x00, 0x01, date, month, year]);
        assert_eq!(Ds1338::new(&mut model).datetime(), Err(Error::InvalidTime), "{month:#x}");
        model.poke_time([0x00, 0x00, 0x00, 0x01, date - 1, month, year]);
        assert!(Ds1338::new(&mut model).datetime().is_ok(), "{month:#x}");
    }
    let mut model = Model::new(ADDRESS);
    model.poke_time([0x00, 0x00, 0x00, 0x01, 0x29, 0x02, 0x24]);
    assert_eq!(Ds1338::new(&mut model).datetime(), Ok(at(2024, 2, 29, 0, 0, 0)));
}

#[test]
fn clock_halt_is_masked_from_the_time_and_reported() {
    let mut model = Model::new(ADDRESS);
    let mut raw = SUNDAY_AFTERNOON;
    raw[0] = CH | 0x42;
    model.poke_time(raw);
    let mut rtc = Ds1338::new(&mut model);
    assert_eq!(rtc.datetime(), Ok(at(2026, 12, 6, 13, 5, 42)));
    rtc.release().take_log();
    assert_eq!(Ds1338::new(&mut model).is_running(), Ok(false));
    let read_seconds = transaction(vec![Op::Write(vec![0x00]), Op::Read(vec![CH | 0x42])]);
    assert_eq!(model.take_log(), [read_seconds]);
    model.registers[0] = 0x42;
    assert_eq!(Ds1338::new(&mut model).is_running(), Ok(true));
}

#[test]
fn set_datetime_is_one_burst_in_24_hour_mode_then_clears_osf() {
    let mut model = Model::new(ADDRESS);
    // A halted 12-hour clock, OSF set and the pin at 8.192 kHz with OUT.
    model.poke_time([CH | 0x01, 0x02, 0x63, 0x04, 0x05, 0x06, 0x07]);
    model.registers[CONTROL] = 0x80 | OSF | 0x10 | 0x02;
    let mut rtc = Ds1338::new(&mut model);
    assert_eq!(rtc.set_datetime(&at(2026, 12, 6, 13, 5, 9)), Ok(()));
    let bus = rtc.release();
    let burst = vec![0x00, 0x09, 0x05, 0x13, 0x01, 0x06, 0x12, 0x26];
    assert_eq!(
        bus.take_log(),
        [
            transaction(vec![Op::Write(burst)]),
            transaction(vec![Op::Write(vec![0x07]), Op::Read(vec![0xb2])]),
            transaction(vec![Op::Write(vec![0x07, 0x92])]),
        ]
    );
    assert_eq!(model.time_registers(), SUNDAY_AFTERNOON);
    assert_eq!(model.registers[CONTROL], 0x92);
    // Times of day that 12-hour mode would have written differently.
    for (hour, hours) in [(0, 0x00), (12, 0x12), (23, 0x23)] {
        let mut rtc = Ds1338::new(&mut model);
        rtc.set_datetime(&at(2026, 12, 6, hour, 0, 0)).unwrap();
        assert_eq!(model.registers[2], hours, "{hour}");
        assert_eq!(Ds1338::new(&mut model).datetime(), Ok(at(2026, 12, 6, hour, 0, 0)));
    }
}

/// Days since 2000-01-01, a Saturday, to the day of the week as Ferrode
/// writes it: 1 for Sunday to 7 for Saturday.
fn day_of_week(time: &CivilTime) -> u8 {
    let days = (time.to_unix_seconds().unwrap() - 946_684_800) / 86_400;
    ((days + 6) % 7 + 1) as u8
}

#[test]
fn set_then_read_round_trips_2000_to_2099() {
    let mut dates = Vec::new();
    // Every 14 days and a bit, from the first second of 2000 to the end of
    // 2099, at all times of day.
    let mut seconds = 946_684_800;
    while seconds < 4_102_444_800 {
        dates.push(CivilTime::from_unix_seconds(seconds));
        seconds += 1_234_567;
    }
    // Around every leap day and new year.
    for year in 2000..2100 {
        dates.push(at(year, 2, 28, 23, 59, 59));
        if ferrode_hal::civil::days_in_month(year, 2) == 29 {
            dates.push(at(year, 2, 29, 12, 0, 0));
        }
        dates.push(at(year, 3, 1, 0, 0, 0));
        dates.push(at(year, 12, 31, 23, 59, 59));
    }
    assert!(dates.len() > 2_850);
    let mut model = Model::new(ADDRESS);
    for date in &dates {
        let mut rtc = Ds1338::new(&mut model);
        rtc.set_datetime(date).unwrap();
        assert_eq!(rtc.datetime(), Ok(*date));
        assert_eq!(rtc.unix_seconds(), Ok(date.to_unix_seconds().unwrap()));
        assert_eq!(model.registers[3], day_of_week(date), "{date}");
        assert_eq!(model.registers[0] & CH, 0, "{date}");
    }
    // Known days of the week.
    for (date, weekday) in [
        (at(2000, 1, 1, 0, 0, 0), 7),
        (at(2000, 2, 29, 0, 0, 0), 3),
        (at(2026, 12, 6, 0, 0, 0), 1),
        (at(2026, 12, 12, 0, 0, 0), 7),
    ] {
        Ds1338::new(&mut model).set_datetime(&date).unwrap();
        assert_eq!(model.registers[3], weekday, "{date}");
    }
}

#[test]
fn the_clock_counts_on_from_the_time_set() {
    let mut model = Model::new(ADDRESS);
    Ds1338::new(&mut model).set_datetime(&at(2024, 2, 28, 23, 59, 58)).unwrap();
    assert_eq!(model.registers[3], 4); // a Wednesday
    model.pass(3);
    assert_eq!(Ds1338::new(&mut model).datetime(), Ok(at(2024, 2, 29, 0, 0, 1)));
    assert_eq!(model.registers[3], 5);
    model.pass(86_400);
    assert_eq!(Ds1338::new(&mut model).datetime(), Ok(at(2024, 3, 1, 0, 0, 1)));
    // Each transaction sees the time at its START.
    model.tick = 60;
    let mut rtc = Ds1338::new(&mut model);
    assert_eq!(rtc.datetime(), Ok(at(2024, 3, 1, 0, 1, 1)));
    assert_eq!(rtc.datetime(), Ok(at(2024, 3, 1, 0, 2, 1)));
}

#[test]
fn set_datetime_refuses_what_the_part_cannot_hold_without_bus_traffic() {
    let refused = [
        at(1999, 12, 31, 23, 59, 59),
        at(2100, 1, 1, 0, 0, 0),
        at(2023, 2, 29, 12, 0, 0),
        at(2026, 4, 31, 12, 0, 0),
        at(2026, 13, 1, 12, 0, 0),
        at(2026, 0, 1, 12, 0, 0),
        at(2026, 1, 0, 12, 0, 0),
        at(2026, 1, 1, 24, 0, 0),
        at(2026, 1, 1, 12, 60, 0),
        at(2026, 1, 1, 12, 0, 60),
        at(1970, 1, 1, 0, 0, 0),
    ];
    let mut model = Model::new(ADDRESS);
    model.poke_time(SUNDAY_AFTERNOON);
    let before = model.registers;
    for time in refused {
        let mut rtc = Ds1338::new(&mut model);
        assert_eq!(rtc.set_datetime(&time), Err(Error::OutOfRange), "{time:?}");
        assert!(model.log.is_empty(), "{time:?}");
    }
    assert_eq!(model.registers, before);
    // The edges of the range are taken.
    for time in [at(2000, 1, 1, 0, 0, 0), at(2099, 12, 31, 23, 59, 59)] {
        assert_eq!(Ds1338::new(&mut model).set_datetime(&time), Ok(()));
    }
}

#[test]
fn set_datetime_starts_the_clock_and_clears_the_stop_flag() {
    let mut model = Model::new(ADDRESS);
    let mut rtc = Ds1338::new(&mut model);
    assert_eq!(rtc.oscillator_stopped(), Ok(true));
    assert_eq!(rtc.is_running(), Ok(false));
    rtc.set_datetime(&at(2026, 12, 6, 13, 5, 9)).unwrap();
    assert_eq!(rtc.oscillator_stopped(), Ok(false));
    assert_eq!(rtc.is_running(), Ok(true));
    let bus = rtc.release();
    let log = bus.take_log();
    assert_eq!(log[3], transaction(vec![Op::Write(vec![0x07]), Op::Read(vec![OSF | 0x03])]));
    assert_eq!(log[4], transaction(vec![Op::Write(vec![0x07, 0x03])]));
    model.pass(10);
    assert_eq!(Ds1338::new(&mut model).datetime(), Ok(at(2026, 12, 6, 13, 5, 19)));
}

#[test]
fn set_running_changes_only_the_clock_halt_bit() {
    let mut model = Model::new(ADDRESS);
    // A running 12-hour clock: 2026-12-06 9:05:42 PM, the pin at 1 Hz.
    let raw = [0x42, 0x05, 0x69, 0x01, 0x06, 0x12, 0x26];
    model.poke_time(raw);
    model.registers[CONTROL] = 0x10;
    let before = model.registers;

    assert_eq!(Ds1338::new(&mut model).set_running(false), Ok(()));
    let mut halted = before;
    halted[0] |= CH;
    halted[CONTROL] |= OSF; // halting the oscillator is an oscillator stop
    assert_eq!(model.registers, halted);
    let mut burst = vec![0x00];
    burst.extend_from_slice(&halted[..7]);
    assert_eq!(
        model.take_log(),
        [
            transaction(vec![Op::Write(vec![0x00]), Op::Read(raw.to_vec())]),
            transaction(vec![Op::Write(burst)]),
        ]
    );
    let mut rtc = Ds1338::new(&mut model);
    assert_eq!(rtc.is_running(), Ok(false));
    assert_eq!(rtc.oscillator_stopped(), Ok(true));
    assert_eq!(rtc.datetime(), Ok(at(2026, 12, 6, 21, 5, 42)));
    model.pass(100);
    assert_eq!(model.registers, halted);

    // Halting a halted clock only reads.
    model.take_log();
    assert_eq!(Ds1338::new(&mut model).set_running(false), Ok(()));
    assert_eq!(model.take_log().len(), 1);

    assert_eq!(Ds1338::new(&mut model).set_running(true), Ok(()));
    assert_eq!(model.time_registers(), raw);
    assert_eq!(model.take_log().len(), 2);
    model.pass(5);
    assert_eq!(Ds1338::new(&mut model).datetime(), Ok(at(2026, 12, 6, 21, 5, 47)));
    model.take_log();
    assert_eq!(Ds1338::new(&mut model).set_running(true), Ok(()));
    assert_eq!(model.take_log().len(), 1);
}

#[test]
fn halting_as_a_minute_ends_does_not_jump_ahead() {
    let mut model = Model::new(ADDRESS);
    Ds1338::new(&mut model).set_datetime(&at(2026, 12, 6, 10, 59, 58)).unwrap();
    // A second passes before each transaction: the read sees 10:59:59,
    // the write starts at 11:00:00.
    model.tick = 1;
    Ds1338::new(&mut model).set_running(false).unwrap();
    model.tick = 0;
    // The time read is what stays, a second behind at most; writing the
    // seconds alone would have left 11:00:59.
    assert_eq!(Ds1338::new(&mut model).datetime(), Ok(at(2026, 12, 6, 10, 59, 59)));
}

#[test]
fn square_wave_sets_out_sqwe_and_rate_and_keeps_the_stop_flag() {
    let outputs = [
        (SquareWave::Low, 0x00),
        (SquareWave::High, 0x80),
        (SquareWave::Hz1, 0x10),
        (SquareWave::Hz4096, 0x11),
        (SquareWave::Hz8192, 0x12),
        (SquareWave::Hz32768, 0x13),
    ];
    for (output, bits) in outputs {
        for osf in [OSF, 0] {
            let mut model = Model::new(ADDRESS);
            model.poke_time(SUNDAY_AFTERNOON);
            model.registers[CONTROL] = osf | 0x93 & !bits;
            let before = model.registers;
            assert_eq!(Ds1338::new(&mut model).set_square_wave(output), Ok(()));
            assert_eq!(model.registers[CONTROL], osf | bits, "{output:?}");
            assert_eq!(model.registers[..CONTROL], before[..CONTROL], "{output:?}");
            assert_eq!(model.registers[CONTROL + 1..], before[CONTROL + 1..], "{output:?}");
            let write = transaction(vec![Op::Write(vec![0x07, OSF | bits])]);
            assert_eq!(model.take_log(), [write], "{output:?}");
            assert_eq!(Ds1338::new(&mut model).oscillator_stopped(), Ok(osf != 0));
        }
    }
}

#[test]
fn ram_accesses_past_its_end_are_refused_without_bus_traffic() {
    let mut model = Model::new(ADDRESS);
    let before = model.registers;
    let mut rtc = Ds1338::new(&mut model);
    let mut buf = [0; RAM_SIZE + 1];
    for (offset, len) in [(55, 2), (56, 1), (57, 0), (0, RAM_SIZE + 1), (usize::MAX, 1)] {
        assert_eq!(rtc.write_ram(offset, &buf[..len]), Err(Error::OutOfRange), "{offset}+{len}");
        assert_eq!(rtc.read_ram(offset, &mut buf[..len]), Err(Error::OutOfRange));
    }
    // Empty accesses inside the RAM, up to its end, succeed and send nothing.
    for offset in [0, 20, RAM_SIZE] {
        assert_eq!(rtc.write_ram(offset, &[]), Ok(()));
        assert_eq!(rtc.read_ram(offset, &mut []), Ok(()));
    }
    let bus = rtc.release();
    assert!(bus.take_log().is_empty());
    assert_eq!(model.registers, before);
    // The last byte and the whole RAM are in range.
    let mut rtc = Ds1338::new(&mut model);
    assert_eq!(rtc.write_ram(55, &[0x5a]), Ok(()));
    assert_eq!(rtc.read_ram(0, &mut buf[..RAM_SIZE]), Ok(()));
    assert_eq!(buf[55], 0x5a);
    assert_eq!(model.registers[0x3f], 0x5a);
}

#[test]
fn ram_writes_are_one_transaction_and_read_back() {
    let mut model = Model::new(ADDRESS);
    model.poke_time(SUNDAY_AFTERNOON);
    let clock = model.registers[..8].to_vec();
    let mut rtc = Ds1338::new(&mut model);
    assert_eq!(rtc.write_ram(10, b"ferrode"), Ok(()));
    let mut back = [0; 7];
    assert_eq!(rtc.read_ram(10, &mut back), Ok(()));
    assert_eq!(&back, b"ferrode");
    let bus = rtc.release();
    assert_eq!(
        bus.take_log(),
        [
            transaction(vec![Op::Write(vec![0x12]), Op::Write(b"ferrode".to_vec())]),
            transaction(vec![Op::Write(vec![0x12]), Op::Read(b"ferrode".to_vec())]),
        ]
    );
    assert_eq!(&model.registers[0x12..0x19], b"ferrode");

    // The whole RAM, written and read at its ends, never reaches the clock.
    let data: Vec<u8> = (0..RAM_SIZE as u8).map(|n| n.wrapping_mul(37) ^ 0x5c).collect();
    let mut rtc = Ds1338::new(&mut model);
    assert_eq!(rtc.write_ram(0, &data), Ok(()));
    let mut all = [0; RAM_SIZE];
    assert_eq!(rtc.read_ram(0, &mut all), Ok(()));
    assert_eq!(all[..], data[..]);
    let mut tail = [0; 3];
    assert_eq!(rtc.read_ram(53, &mut tail), Ok(()));
    assert_eq!(tail[..], data[53..]);
    assert_eq!(rtc.write_ram(50, &[1, 2, 3, 4, 5, 6]), Ok(()));
    let bus = rtc.release();
    assert_eq!(bus.take_log().len(), 4);
    assert_eq!(model.registers[..8], clock[..]);
    assert_eq!(model.registers[0x3a..], [1, 2, 3, 4, 5, 6]);
}

#[test]
fn bus_errors_pass_through() {
    // A bus where nothing answers at the DS1338's address.
    let mut model = Model::new(0x69);
    let before = model.registers;
    let nack = Error::I2c(BusError::NoAck);
    let mut rtc = Ds1338::new(&mut model);
    assert_eq!(rtc.datetime().unwrap_err(), nack);
    assert_eq!(rtc.unix_seconds().unwrap_err(), nack);
    assert_eq!(rtc.set_datetime(&at(2026, 12, 6, 13, 5, 9)).unwrap_err(), nack);
    assert_eq!(rtc.oscillator_stopped().unwrap_err(), nack);
    assert_eq!(rtc.is_running().unwrap_err(), nack);
    assert_eq!(rtc.set_running(true).unwrap_err(), nack);
    assert_eq!(rtc.set_square_wave(SquareWave::Hz1).unwrap_err(), nack);
    assert_eq!(rtc.write_ram(0, &[1]).unwrap_err(), nack);
    assert_eq!(rtc.read_ram(0, &mut [0]).unwrap_err(), nack);
    let bus = rtc.release();
    // Each call stopped at its first transaction, addressed to 0x68.
    assert_eq!(bus.take_log(), vec![transaction(vec![]); 9]);
    assert_eq!(model.registers, before);
}

#[test]
fn errors_convert_and_display() {
    assert_eq!(Error::from(BusError::NoAck), Error::I2c(BusError::NoAck));
    assert_eq!(
        format!("{}", Error::I2c(BusError::NoAck)),
        "DS1338 I2C transfer failed: The device did not acknowledge its address"
    );
    let out_of_range = format!("{}", Error::<BusError>::OutOfRange);
    assert!(out_of_range.contains("2000-2099") && out_of_range.contains("56 bytes"));
    assert_eq!(
        format!("{}", Error::<BusError>::InvalidTime),
        "DS1338 time registers do not hold a valid date and time"
    );
}
