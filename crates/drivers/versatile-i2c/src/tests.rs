//! Host tests: the driver on a bit-level model of the SBCon and its bus
//! (`crate::model`), which fails a test at the first line change that
//! breaks UM10204's timing or protocol for the speed it checks.

use core::cell::RefCell;
use std::string::ToString;
use std::vec::Vec;

use embedded_hal::i2c::{Error as _, ErrorKind, I2c, Operation};
use ferrode_hal::RegisterAccess;
use ferrode_hal::mmio::{Mmio, RamBlock};

use crate::model::{ACK, Bus, Device, Event, FOREVER, FakeDelay, MEMORY, NACK};
use crate::{
    CLOCK_STRETCH_TIMEOUT_US, Error, NoAcknowledgeSource, Register, Regs, Speed, Timing,
    VersatileI2c,
};

use Event::{Address, Read, RepeatedStart, Start, Stop, Written};

/// The DS1338's address on the PBX-A9's bus.
const RTC: u8 = 0x68;

type Driver<'a> = VersatileI2c<&'a RefCell<Bus>, FakeDelay>;

/// A bus checked against `speed`, set up by `build`, and its clock.
fn bus(speed: Speed, build: impl FnOnce(Bus) -> Bus) -> (RefCell<Bus>, FakeDelay) {
    let delay = FakeDelay::default();
    (RefCell::new(build(Bus::new(speed, &delay))), delay)
}

/// The driver on `bus` at `speed`; what `new` did is forgotten.
fn driver<'a>(bus: &'a RefCell<Bus>, delay: &FakeDelay, speed: Speed) -> Driver<'a> {
    let i2c = VersatileI2c::new(bus, delay.clone(), speed);
    bus.borrow_mut().events.clear();
    i2c
}

/// A bus with the RTC on it, at Standard-mode, and the driver.
fn rtc_bus() -> (RefCell<Bus>, FakeDelay) {
    bus(Speed::Standard, |bus| bus.with(Device::new(RTC)))
}

fn events(bus: &RefCell<Bus>) -> Vec<Event> {
    core::mem::take(&mut bus.borrow_mut().events)
}

fn memory(bus: &RefCell<Bus>, device: usize) -> [u8; MEMORY] {
    bus.borrow().devices[device].memory
}

/// Each register is reached at its offset in the block.
#[test]
fn the_registers_sit_at_their_offsets() {
    let block = RamBlock::new(std::boxed::Box::leak(std::boxed::Box::new([0; 2])));
    let regs = Mmio::new(block.view::<Regs>());
    let table = [(Register::Control, 0x0), (Register::Clear, 0x4)];
    block.check_writes(&regs, &table);
    block.check_reads(&regs, &table[..1]);
}

/// Taking over an SBCon that drives both lines low lets them go, SCL
/// first, which is a STOP with its setup time (guards against releasing
/// SDA first, or both at once without the setup time).
#[test]
fn bring_up_releases_both_lines_with_a_stop() {
    let (bus, delay) = bus(Speed::Standard, Bus::with_lines_driven_low);
    assert!(!bus.borrow().master_released());
    let _i2c = VersatileI2c::new(&bus, delay.clone(), Speed::Standard);
    assert_eq!(events(&bus), [Stop]);
    assert!(bus.borrow().idle());
}

/// Bytes written to the RTC read back through `write_read`: the pointer
/// byte, a repeated START, the read address, every byte acknowledged but
/// the last, a STOP. The two transactions are a bus-free time apart.
#[test]
fn bytes_written_read_back_through_write_read() {
    let (bus, delay) = rtc_bus();
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    i2c.write(RTC, &[0x10, 0xa1, 0xb2, 0xc3]).unwrap();
    assert_eq!(
        events(&bus),
        [
            Start,
            Address(0xd0, ACK),
            Written(0x10, ACK),
            Written(0xa1, ACK),
            Written(0xb2, ACK),
            Written(0xc3, ACK),
            Stop
        ]
    );
    assert_eq!(memory(&bus, 0)[0x10..0x14], [0xa1, 0xb2, 0xc3, 0x13 * 3 + 1]);

    let mut read = [0; 3];
    i2c.write_read(RTC, &[0x10], &mut read).unwrap();
    assert_eq!(read, [0xa1, 0xb2, 0xc3]);
    assert_eq!(
        events(&bus),
        [
            Start,
            Address(0xd0, ACK),
            Written(0x10, ACK),
            RepeatedStart,
            Address(0xd1, ACK),
            Read(0xa1, ACK),
            Read(0xb2, ACK),
            Read(0xc3, NACK),
            Stop
        ]
    );
    assert!(bus.borrow().idle());
}

/// Two writes then two reads: the second write goes on without a new
/// START, one repeated START turns to reading, the reads run on with an
/// acknowledge across their boundary, and only the very last byte is not
/// acknowledged (guards against a START per operation, or a NACK at the
/// end of each read).
#[test]
fn adjacent_operations_of_a_kind_run_on_without_a_repeated_start() {
    let (bus, delay) = rtc_bus();
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    let (mut first, mut second) = ([0; 2], [0; 3]);
    i2c.transaction(
        RTC,
        &mut [
            Operation::Write(&[0x08]),
            Operation::Write(&[0xaa, 0xbb]),
            Operation::Read(&mut first),
            Operation::Read(&mut second),
        ],
    )
    .unwrap();
    // The reads go on from where the writes left the pointer: 0x0a.
    assert_eq!((first, second), ([31, 34], [37, 40, 43]));
    assert_eq!(
        events(&bus),
        [
            Start,
            Address(0xd0, ACK),
            Written(0x08, ACK),
            Written(0xaa, ACK),
            Written(0xbb, ACK),
            RepeatedStart,
            Address(0xd1, ACK),
            Read(31, ACK),
            Read(34, ACK),
            Read(37, ACK),
            Read(40, ACK),
            Read(43, NACK),
            Stop
        ]
    );
    assert_eq!(memory(&bus, 0)[0x08..0x0a], [0xaa, 0xbb]);
    assert!(bus.borrow().idle());
}

/// A run of reads followed by a write ends with a byte not acknowledged,
/// so that the device lets go of SDA for the repeated START (guards
/// against NACKing only the transaction's last byte).
#[test]
fn a_run_of_reads_before_a_write_ends_unacknowledged() {
    let (bus, delay) = rtc_bus();
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    let (mut first, mut second) = ([0; 2], [0; 1]);
    i2c.transaction(
        RTC,
        &mut [
            Operation::Write(&[0x00]),
            Operation::Read(&mut first),
            Operation::Write(&[0x20]),
            Operation::Read(&mut second),
        ],
    )
    .unwrap();
    assert_eq!((first, second), ([1, 4], [97]));
    assert_eq!(
        events(&bus),
        [
            Start,
            Address(0xd0, ACK),
            Written(0x00, ACK),
            RepeatedStart,
            Address(0xd1, ACK),
            Read(1, ACK),
            Read(4, NACK),
            RepeatedStart,
            Address(0xd0, ACK),
            Written(0x20, ACK),
            RepeatedStart,
            Address(0xd1, ACK),
            Read(97, NACK),
            Stop
        ]
    );
}

/// A read alone: START, read address, bytes from the device's pointer.
#[test]
fn a_read_starts_with_the_read_address() {
    let (bus, delay) = rtc_bus();
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    let mut read = [0; 2];
    i2c.read(RTC, &mut read).unwrap();
    assert_eq!(read, [1, 4]);
    assert_eq!(events(&bus), [Start, Address(0xd1, ACK), Read(1, ACK), Read(4, NACK), Stop]);
}

/// An address no device answers is `NoAcknowledge(Address)`, for a write
/// and a read, and the transaction still ends with a STOP, nothing more
/// sent (guards against going on with the data, or leaving the bus busy).
#[test]
fn an_address_nobody_answers_is_refused_and_the_bus_left_idle() {
    let (bus, delay) = rtc_bus();
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    let refused = Err(Error::NoAcknowledge(NoAcknowledgeSource::Address));
    assert_eq!(i2c.write(0x50, &[1, 2]), refused);
    assert_eq!(events(&bus), [Start, Address(0xa0, NACK), Stop]);
    assert!(bus.borrow().idle());
    assert_eq!(i2c.read(0x50, &mut [0; 2]), refused);
    assert_eq!(events(&bus), [Start, Address(0xa1, NACK), Stop]);
    assert!(bus.borrow().idle());
    assert_eq!(i2c.write_read(0x50, &[1], &mut [0; 2]), refused);
    assert_eq!(events(&bus), [Start, Address(0xa0, NACK), Stop]);
    assert!(bus.borrow().idle());
}

/// A data byte the device refuses is `NoAcknowledge(Data)`; the bytes
/// after it are not sent and a STOP ends the transaction.
#[test]
fn a_refused_data_byte_ends_the_transaction_with_a_stop() {
    let (bus, delay) = bus(Speed::Standard, |bus| bus.with(Device::new(RTC).refusing_after(2)));
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    let before = memory(&bus, 0);
    assert_eq!(
        i2c.write(RTC, &[0x05, 0x11, 0x22, 0x33]),
        Err(Error::NoAcknowledge(NoAcknowledgeSource::Data))
    );
    assert_eq!(
        events(&bus),
        [
            Start,
            Address(0xd0, ACK),
            Written(0x05, ACK),
            Written(0x11, ACK),
            Written(0x22, NACK),
            Stop
        ]
    );
    assert!(bus.borrow().idle());
    let after = memory(&bus, 0);
    assert_eq!((after[5], after[6]), (0x11, before[6]));
}

/// An address over 7 bits is refused before the bus is touched: no
/// register read or written.
#[test]
fn an_invalid_address_is_refused_without_touching_the_bus() {
    let (bus, delay) = rtc_bus();
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    let accesses = bus.borrow().accesses;
    assert_eq!(i2c.write(0x80, &[1]), Err(Error::InvalidAddress(0x80)));
    assert_eq!(i2c.read(0xff, &mut [0]), Err(Error::InvalidAddress(0xff)));
    assert_eq!(i2c.write(0xd0, &[]), Err(Error::InvalidAddress(0xd0)));
    assert_eq!(bus.borrow().accesses, accesses);
    assert!(events(&bus).is_empty());
    // 0x7f, the highest 7-bit address, goes out (nobody answers it here).
    let nobody = Err(Error::NoAcknowledge(NoAcknowledgeSource::Address));
    assert_eq!(i2c.write(0x7f, &[1]), nobody);
    assert_eq!(events(&bus), [Start, Address(0xfe, NACK), Stop]);
}

/// A read of no bytes is refused before the bus is touched, wherever it is
/// in the transaction (guards against sending the parts before it).
#[test]
fn an_empty_read_is_refused_without_touching_the_bus() {
    let (bus, delay) = rtc_bus();
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    let accesses = bus.borrow().accesses;
    assert_eq!(i2c.read(RTC, &mut []), Err(Error::EmptyRead));
    assert_eq!(i2c.write_read(RTC, &[0], &mut []), Err(Error::EmptyRead));
    let mut ops = [Operation::Write(&[0, 1]), Operation::Read(&mut []), Operation::Write(&[2])];
    assert_eq!(i2c.transaction(RTC, &mut ops), Err(Error::EmptyRead));
    assert_eq!(bus.borrow().accesses, accesses);
    assert!(events(&bus).is_empty());
    assert_eq!(memory(&bus, 0), Device::new(RTC).memory);
}

/// A transaction of no operations has nothing to address: nothing happens.
#[test]
fn an_empty_transaction_does_nothing() {
    let (bus, delay) = rtc_bus();
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    let accesses = bus.borrow().accesses;
    assert_eq!(i2c.transaction(RTC, &mut []), Ok(()));
    assert_eq!(bus.borrow().accesses, accesses);
}

/// An empty write is an address probe: START, address, STOP; it tells
/// whether anyone answers.
#[test]
fn an_empty_write_probes_an_address() {
    let (bus, delay) = rtc_bus();
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    assert_eq!(i2c.write(RTC, &[]), Ok(()));
    assert_eq!(events(&bus), [Start, Address(0xd0, ACK), Stop]);
    assert_eq!(i2c.write(0x51, &[]), Err(Error::NoAcknowledge(NoAcknowledgeSource::Address)));
    assert_eq!(events(&bus), [Start, Address(0xa2, NACK), Stop]);
    assert!(bus.borrow().idle());
}

/// Two devices on one bus each keep to their own address.
#[test]
fn each_device_answers_its_own_address() {
    let (bus, delay) =
        bus(Speed::Standard, |bus| bus.with(Device::new(RTC)).with(Device::new(0x50)));
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    i2c.write(RTC, &[0x00, 0x11]).unwrap();
    i2c.write(0x50, &[0x00, 0x22]).unwrap();
    let (mut rtc, mut eeprom) = ([0], [0]);
    i2c.write_read(RTC, &[0x00], &mut rtc).unwrap();
    i2c.write_read(0x50, &[0x00], &mut eeprom).unwrap();
    assert_eq!((rtc, eeprom), ([0x11], [0x22]));
}

/// A device that holds SCL low after each byte is waited for: the
/// transfer goes through unchanged, with SCL's high time counted from
/// when the device let go (the model checks it).
#[test]
fn a_stretched_clock_is_waited_for() {
    let (bus, delay) = bus(Speed::Standard, |bus| bus.with(Device::new(RTC).stretching(25)));
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    i2c.write(RTC, &[0x30, 0x5a]).unwrap();
    let mut read = [0; 2];
    i2c.write_read(RTC, &[0x30], &mut read).unwrap();
    assert_eq!(read, [0x5a, 0x31 * 3 + 1]);
    // Stretched after each byte the device took part in but the last read.
    assert_eq!(bus.borrow().stretched_polls, 25 * (3 + 4));
    assert!(bus.borrow().idle());
}

/// A device that holds SCL low for ever makes `BusTimeout` after
/// [`CLOCK_STRETCH_TIMEOUT_US`] of waiting, not much more, with the
/// driver's lines released (guards against waiting for ever or not at
/// all).
#[test]
fn a_clock_held_low_too_long_is_a_bus_timeout() {
    let (bus, delay) = bus(Speed::Fast, |bus| bus.with(Device::new(RTC).stretching(FOREVER)));
    let mut i2c = driver(&bus, &delay, Speed::Fast);
    let before = delay.now();
    assert_eq!(i2c.write(RTC, &[0x00]), Err(Error::BusTimeout));
    let waited = delay.now() - before;
    let timeout = u64::from(CLOCK_STRETCH_TIMEOUT_US) * 1_000;
    assert!((timeout..timeout + 100_000).contains(&waited), "waited {waited} ns");
    assert_eq!(events(&bus), [Start, Address(0xd0, ACK)]);
    assert!(bus.borrow().master_released());
}

/// A device that stretches the STOP's clock for ever: `BusTimeout`, and
/// the driver lets go of SDA, which it drove low for the STOP (guards
/// against leaving it driven when the STOP cannot be made).
#[test]
fn a_stop_held_off_for_ever_is_a_bus_timeout_with_the_lines_released() {
    let (bus, delay) = bus(Speed::Fast, |bus| bus.with(Device::new(RTC).stretching(FOREVER)));
    let mut i2c = driver(&bus, &delay, Speed::Fast);
    assert_eq!(i2c.write(RTC, &[]), Err(Error::BusTimeout));
    assert_eq!(events(&bus), [Start, Address(0xd0, ACK)]);
    assert!(bus.borrow().master_released());
}

/// A device left holding SDA low makes a transaction fail with `BusStuck`
/// before any START; `recover` clocks it free (five pulses here), ends with
/// a STOP, and the bus works again.
#[test]
fn recovery_clocks_a_stuck_device_free_and_ends_with_a_stop() {
    let (bus, delay) = bus(Speed::Standard, |bus| bus.with(Device::new(RTC)).with_stuck_sda(5));
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    assert_eq!(i2c.write(RTC, &[0x00]), Err(Error::BusStuck));
    assert!(events(&bus).is_empty());
    assert!(bus.borrow().master_released());
    assert_eq!(i2c.recover(), Ok(()));
    assert_eq!(events(&bus), [Stop]);
    // Five pulses, and the one before the STOP.
    assert_eq!(bus.borrow().clock_pulses, 6);
    assert!(bus.borrow().idle());
    let mut read = [0];
    i2c.write_read(RTC, &[0x02], &mut read).unwrap();
    assert_eq!(read, [7]);
}

/// Nine pulses are given, no more: a device that lets go at the ninth is
/// freed, one that needs ten (or never lets go) is `BusStuck`, with the
/// driver's lines released.
#[test]
fn recovery_gives_up_after_nine_pulses() {
    let (bus9, delay) = bus(Speed::Fast, |bus| bus.with_stuck_sda(9));
    assert_eq!(driver(&bus9, &delay, Speed::Fast).recover(), Ok(()));
    assert!(bus9.borrow().idle());
    for clocks in [10, FOREVER] {
        let (bus, delay) = bus(Speed::Fast, |bus| bus.with_stuck_sda(clocks));
        assert_eq!(driver(&bus, &delay, Speed::Fast).recover(), Err(Error::BusStuck));
        assert_eq!(bus.borrow().clock_pulses, 9);
        assert!(bus.borrow().master_released());
        assert!(events(&bus).is_empty());
    }
}

/// A bus that is not idle after recovery's STOP (a faulty device pulls
/// SDA low again at once) is `BusStuck`, with the driver's lines
/// released.
#[test]
fn recovery_that_does_not_leave_the_bus_idle_is_a_stuck_bus() {
    let (bus, delay) = bus(Speed::Standard, |bus| bus.grabbing_sda_at_stop());
    assert_eq!(driver(&bus, &delay, Speed::Standard).recover(), Err(Error::BusStuck));
    assert_eq!(events(&bus), [Stop]);
    assert!(bus.borrow().master_released());
}

/// Recovering an idle bus is just a STOP.
#[test]
fn recovery_of_an_idle_bus_is_a_stop() {
    let (bus, delay) = rtc_bus();
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    assert_eq!(i2c.recover(), Ok(()));
    assert_eq!(events(&bus), [Stop]);
    assert_eq!(bus.borrow().clock_pulses, 1);
    assert!(bus.borrow().idle());
}

/// SCL held low for ever is a stuck bus for `recover` and for a
/// transaction, after a bounded wait.
#[test]
fn a_clock_held_low_for_ever_is_a_stuck_bus() {
    let (bus, delay) = bus(Speed::Standard, |bus| bus.with(Device::new(RTC)).with_stuck_scl());
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    assert_eq!(i2c.recover(), Err(Error::BusStuck));
    assert_eq!(i2c.write(RTC, &[]), Err(Error::BusStuck));
    assert!(bus.borrow().master_released());
    assert!(events(&bus).is_empty());
}

/// Another master sending 0xa0 while the driver sends 0xd0 wins at the
/// second bit (its 0 against the driver's 1): `ArbitrationLoss`, the
/// driver lets go of both lines there and sends nothing more, no STOP.
#[test]
fn losing_arbitration_lets_go_of_the_bus() {
    let (bus, delay) = bus(Speed::Standard, |bus| bus.with(Device::new(RTC)).with_contender(0xa0));
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    let pulses = bus.borrow().clock_pulses;
    assert_eq!(i2c.write(RTC, &[0x00]), Err(Error::ArbitrationLoss));
    assert_eq!(events(&bus), [Start]);
    assert!(bus.borrow().master_released());
    // Lost while SCL was high in the second bit: one whole pulse after the
    // START's, and SCL not pulled low again.
    assert_eq!(bus.borrow().clocks_in_byte(), 2);
    assert_eq!(bus.borrow().clock_pulses - pulses, 2);
    assert_eq!(memory(&bus, 0), Device::new(RTC).memory);
}

/// A master that sends a 0 where the other sends a 1 has not lost
/// anything: the driver's write address (R/W 0) against the other's read
/// address goes on.
#[test]
fn winning_arbitration_goes_on() {
    let (bus, delay) = bus(Speed::Standard, |bus| bus.with(Device::new(RTC)).with_contender(0xd1));
    let mut i2c = driver(&bus, &delay, Speed::Standard);
    i2c.write(RTC, &[0x01, 0x99]).unwrap();
    assert_eq!(
        events(&bus),
        [Start, Address(0xd0, ACK), Written(0x01, ACK), Written(0x99, ACK), Stop]
    );
    assert_eq!(memory(&bus, 0)[1], 0x99);
}

/// Both speeds keep to their own minimum times (the model checks every
/// edge) and run near their clock rate: a one-byte write is 18 clocks
/// plus START and STOP (guards against Fast-mode running at
/// Standard-mode's pace, or either faster than its fSCL).
#[test]
fn both_speeds_keep_their_times_and_their_pace() {
    for (speed, clock_ns) in [(Speed::Standard, 10_000), (Speed::Fast, 2_500)] {
        let (bus, delay) = bus(speed, |bus| bus.with(Device::new(RTC)));
        let mut i2c = driver(&bus, &delay, speed);
        let mut read = [0; 4];
        let (first, rest) = read.split_at_mut(1);
        i2c.transaction(
            RTC,
            &mut [
                Operation::Write(&[0x04]),
                Operation::Write(&[9, 8]),
                Operation::Read(first),
                Operation::Read(rest),
            ],
        )
        .unwrap();
        assert_eq!(read, [19, 22, 25, 28], "{speed:?}");
        let before = delay.now();
        i2c.write(RTC, &[0x04]).unwrap();
        let took = delay.now() - before;
        assert!(
            (18 * clock_ns..20 * clock_ns).contains(&took),
            "{speed:?}: a one-byte write took {took} ns"
        );
    }
}

/// The model's checks have teeth: a Fast-mode driver on a bus checked for
/// Standard-mode breaks its minimums.
#[test]
#[should_panic(expected = "violated")]
fn fast_mode_breaks_standard_mode_minimums() {
    let (bus, delay) = rtc_bus();
    let mut i2c = driver(&bus, &delay, Speed::Fast);
    let _ = i2c.write(RTC, &[0]);
}

/// The model fails a clock whose low time is short (raw register writes:
/// a START, then SCL up again 1 us after it fell).
#[test]
#[should_panic(expected = "tLOW violated")]
fn the_model_fails_a_short_low_time() {
    let (bus, delay) = rtc_bus();
    let step = |ns: u64| delay.advance(ns);
    let bus = &bus;
    bus.write(Register::Clear, 0b10);
    step(4_000);
    bus.write(Register::Clear, 0b01);
    step(1_000);
    bus.write(Register::Control, 0b01);
}

/// The model fails SDA changing while SCL is high in the middle of a byte:
/// a START or STOP where a data bit belongs.
#[test]
#[should_panic(expected = "STOP inside a byte")]
fn the_model_fails_sda_changing_while_scl_is_high_inside_a_byte() {
    let (bus, delay) = rtc_bus();
    let step = |ns: u64| delay.advance(ns);
    let bus = &bus;
    bus.write(Register::Clear, 0b10); // START
    step(5_000);
    for _ in 0..3 {
        bus.write(Register::Clear, 0b01);
        step(5_000);
        bus.write(Register::Control, 0b01);
        step(5_000);
    }
    bus.write(Register::Control, 0b10);
}

/// The speeds' times are UM10204 table 10's, and the high time of a clock
/// pulse makes up the rest of 1/fSCL.
#[test]
fn speeds_time_as_um10204_says() {
    let standard = Speed::Standard.timing();
    let fast = Speed::Fast.timing();
    let table = |t: Timing| {
        [t.t_period, t.t_low, t.t_high, t.t_su_sta, t.t_hd_sta, t.t_su_sto, t.t_buf, t.t_su_dat]
    };
    assert_eq!(table(standard), [10_000, 4_700, 4_000, 4_700, 4_000, 4_000, 4_700, 250]);
    assert_eq!(table(fast), [2_500, 1_300, 600, 600, 600, 600, 1_300, 100]);
    assert_eq!((standard.clock_high(), fast.clock_high()), (5_300, 1_200));
    assert_eq!(Speed::default(), Speed::Standard);
}

/// Each error says what happened and has its embedded-hal kind.
#[test]
fn errors_explain_themselves_and_have_their_kind() {
    let cases = [
        (
            Error::NoAcknowledge(NoAcknowledgeSource::Address),
            ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address),
            "I2C: no device acknowledged the address",
        ),
        (
            Error::NoAcknowledge(NoAcknowledgeSource::Data),
            ErrorKind::NoAcknowledge(NoAcknowledgeSource::Data),
            "I2C: the device did not acknowledge a data byte",
        ),
        (
            Error::NoAcknowledge(NoAcknowledgeSource::Unknown),
            ErrorKind::NoAcknowledge(NoAcknowledgeSource::Unknown),
            "I2C: a byte was not acknowledged",
        ),
        (
            Error::ArbitrationLoss,
            ErrorKind::ArbitrationLoss,
            "I2C: lost arbitration to another master",
        ),
        (Error::BusStuck, ErrorKind::Bus, "I2C: the bus is stuck, SDA or SCL held low"),
        (Error::BusTimeout, ErrorKind::Bus, "I2C: a device held SCL low for more than 10 ms"),
        (Error::InvalidAddress(0x80), ErrorKind::Other, "I2C: address 0x80 is not a 7-bit address"),
        (Error::EmptyRead, ErrorKind::Other, "I2C: a read of zero bytes is not possible"),
    ];
    for (error, kind, message) in cases {
        assert_eq!(error.kind(), kind, "{error:?}");
        assert_eq!(error.to_string(), message);
    }
}

/// `release` hands back the bus and the delay the driver was given.
#[test]
fn release_gives_back_the_registers_and_the_delay() {
    let (bus, delay) = rtc_bus();
    let i2c = driver(&bus, &delay, Speed::Standard);
    let (registers, given) = i2c.release();
    assert!(core::ptr::eq(registers, &bus));
    assert_eq!(given.now(), delay.now());
}
