//! A bit-level model of the SBCon and the I2C bus behind it, for host
//! tests: the driver's register writes move two open-drain lines, devices
//! on the bus react to their edges, and a bus analyser records what went
//! over the wire and checks it against UM10204.
//!
//! - The SBCon: SB_CONTROLS releases lines, SB_CONTROLC drives them low,
//!   SB_CONTROL reads each line as the wired-AND of everyone driving it.
//! - The analyser: STARTs, repeated STARTs and STOPs, each byte with its
//!   acknowledge bit ([`Event`]), stamped with the virtual time the fake
//!   delay advances. It fails the test (panics) at the first line change
//!   that breaks a minimum time of the speed it checks (tLOW, tHIGH, the
//!   SCL period, tSU;DAT, tSU;STA, tHD;STA, tSU;STO, tBUF), or a START or
//!   STOP (SDA changing while SCL is high) in the middle of a byte.
//! - Devices ([`Device`]): register files like a DS1338 or an EEPROM, each
//!   at its address, that can refuse a data byte or stretch the clock.
//! - Trouble: a device stuck holding SDA low from before the test, SCL held
//!   low for ever, another master sending its own address at the same time.
//!
//! Devices act on SCL's falling edge (they change SDA while SCL is low, as
//! UM10204 asks) and the analyser samples on the rising edge, so the model
//! is stricter than QEMU's, where a device's bit appears only on the rising
//! edge: a driver that samples while SCL is high works on both.

use std::vec::Vec;

use ferrode_hal::RegisterModel;

use crate::{Register, Speed, Timing};

/// An acknowledged byte in an [`Event`].
pub(crate) const ACK: bool = true;
/// A byte not acknowledged, in an [`Event`].
pub(crate) const NACK: bool = false;

/// What the analyser saw on the bus. Bytes carry whether their receiver
/// acknowledged them ([`ACK`], [`NACK`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// A START on an idle bus.
    Start,
    /// A START inside a transfer.
    RepeatedStart,
    /// A STOP.
    Stop,
    /// The first byte after a START: address and R/W bit.
    Address(u8, bool),
    /// A byte the master sent after a write address.
    Written(u8, bool),
    /// A byte a device sent after a read address, and the master's answer.
    Read(u8, bool),
}

/// The virtual clock the driver waits on and the model reads.
pub(crate) use ferrode_hal::testing::VirtualDelay as FakeDelay;

/// Size of a device's register file (a DS1338's: clock and NVRAM).
pub(crate) const MEMORY: usize = 64;

/// A register-file device: after its write address, the first byte sets
/// its pointer and further bytes are stored there, the pointer moving on;
/// after its read address it sends from the pointer, moving on.
pub(crate) struct Device {
    address: u8,
    pub(crate) memory: [u8; MEMORY],
    pointer: usize,
    pointer_next: bool,
    received: usize,
    refuse_after: Option<usize>,
    stretch_polls: u32,
}

impl Device {
    /// A device at 7-bit `address`, its memory holding `3 * n + 1` at `n`.
    pub(crate) fn new(address: u8) -> Self {
        Self {
            address,
            memory: core::array::from_fn(|n| (3 * n + 1) as u8),
            pointer: 0,
            pointer_next: false,
            received: 0,
            refuse_after: None,
            stretch_polls: 0,
        }
    }

    /// Refuses the data byte that follows `bytes` acknowledged ones after
    /// its write address (the pointer byte counts).
    pub(crate) fn refusing_after(mut self, bytes: usize) -> Self {
        self.refuse_after = Some(bytes);
        self
    }

    /// Holds SCL low after every byte it takes part in, until the master
    /// has polled the line `polls` times (`u32::MAX`: for ever).
    pub(crate) fn stretching(mut self, polls: u32) -> Self {
        self.stretch_polls = polls;
        self
    }

    fn addressed(&mut self, read: bool) {
        if !read {
            self.pointer_next = true;
            self.received = 0;
        }
    }

    /// Takes a written byte; whether it acknowledges it.
    fn receive(&mut self, byte: u8) -> bool {
        if self.refuse_after == Some(self.received) {
            return false;
        }
        self.received += 1;
        if self.pointer_next {
            self.pointer = usize::from(byte) % MEMORY;
            self.pointer_next = false;
        } else {
            self.memory[self.pointer] = byte;
            self.pointer = (self.pointer + 1) % MEMORY;
        }
        true
    }

    fn send(&mut self) -> u8 {
        let byte = self.memory[self.pointer];
        self.pointer = (self.pointer + 1) % MEMORY;
        byte
    }
}

/// "For ever", for the counts of trouble that ends.
pub(crate) const FOREVER: u32 = u32::MAX;

/// The SBCon, its bus and everything on it.
pub(crate) struct Bus {
    now: FakeDelay,
    timing: Timing,
    /// What the SBCon does with each line: true when released.
    master_scl: bool,
    master_sda: bool,
    /// The levels on the wires, as last settled.
    scl: bool,
    sda: bool,
    scl_rose: Option<u64>,
    scl_fell: Option<u64>,
    sda_changed: Option<u64>,
    last_stop: Option<u64>,
    /// The START whose hold time runs until SCL falls.
    start_at: Option<u64>,
    /// The analyser: between a START and a STOP, rising edges of SCL in
    /// the current byte (1 to 8 bits, 9 the acknowledge), the bits so far.
    in_transfer: bool,
    clocks: u8,
    shift: u8,
    byte_is_address: bool,
    reading: bool,
    acknowledged: bool,
    /// What the analyser saw.
    pub(crate) events: Vec<Event>,
    /// The devices, and which one the current transfer addresses.
    pub(crate) devices: Vec<Device>,
    selected: Option<usize>,
    sending: u8,
    device_sda_low: bool,
    /// Polls of SCL left before the selected device lets it go.
    scl_hold: u32,
    /// Polls of SCL answered low because a device stretched the clock.
    pub(crate) stretched_polls: u64,
    /// SCL falling edges before a stuck device lets go of SDA (0: none).
    stuck_sda: u32,
    /// A faulty device that pulls SDA low for ever at the next STOP.
    grabs_sda_at_stop: bool,
    stuck_scl: bool,
    /// Another master sending this address byte after the first START.
    contender: Option<u8>,
    contender_active: bool,
    contender_sda_low: bool,
    /// SCL falling edges seen, in all.
    pub(crate) clock_pulses: u32,
    /// Register reads and writes, in all.
    pub(crate) accesses: usize,
}

impl Bus {
    /// An idle bus (both lines released) checked against `speed`, on the
    /// virtual clock of `delay`.
    pub(crate) fn new(speed: Speed, delay: &FakeDelay) -> Self {
        Self {
            now: delay.clone(),
            timing: speed.timing(),
            master_scl: true,
            master_sda: true,
            scl: true,
            sda: true,
            scl_rose: None,
            scl_fell: None,
            sda_changed: None,
            last_stop: None,
            start_at: None,
            in_transfer: false,
            clocks: 0,
            shift: 0,
            byte_is_address: false,
            reading: false,
            acknowledged: false,
            events: Vec::new(),
            devices: Vec::new(),
            selected: None,
            sending: 0,
            device_sda_low: false,
            scl_hold: 0,
            stretched_polls: 0,
            stuck_sda: 0,
            grabs_sda_at_stop: false,
            stuck_scl: false,
            contender: None,
            contender_active: false,
            contender_sda_low: false,
            clock_pulses: 0,
            accesses: 0,
        }
    }

    /// Adds `device` to the bus.
    pub(crate) fn with(mut self, device: Device) -> Self {
        self.devices.push(device);
        self
    }

    /// A device holds SDA low until it has seen `clocks` SCL pulses
    /// ([`FOREVER`]: never lets go).
    pub(crate) fn with_stuck_sda(mut self, clocks: u32) -> Self {
        self.stuck_sda = clocks;
        self.settle_quietly();
        self
    }

    /// A faulty device pulls SDA low for ever when it sees a STOP.
    pub(crate) fn grabbing_sda_at_stop(mut self) -> Self {
        self.grabs_sda_at_stop = true;
        self
    }

    /// Something holds SCL low for ever.
    pub(crate) fn with_stuck_scl(mut self) -> Self {
        self.stuck_scl = true;
        self.settle_quietly();
        self
    }

    /// Another master sends `byte` as its address at the same time as the
    /// driver sends its own.
    pub(crate) fn with_contender(mut self, byte: u8) -> Self {
        self.contender = Some(byte);
        self
    }

    /// The SBCon starts out driving both lines low.
    pub(crate) fn with_lines_driven_low(mut self) -> Self {
        self.master_scl = false;
        self.master_sda = false;
        self.settle_quietly();
        self
    }

    /// Sets the levels to the drivers' without taking them as edges.
    fn settle_quietly(&mut self) {
        self.scl = self.scl_level();
        self.sda = self.sda_level();
    }

    /// Whether the SBCon drives neither line.
    pub(crate) fn master_released(&self) -> bool {
        self.master_scl && self.master_sda
    }

    /// Whether the bus is idle: no transfer, nobody driving, both high.
    pub(crate) fn idle(&self) -> bool {
        !self.in_transfer && self.master_released() && self.scl && self.sda
    }

    /// Rising edges of SCL in the current byte.
    pub(crate) fn clocks_in_byte(&self) -> u8 {
        self.clocks
    }

    fn time(&self) -> u64 {
        self.now.now()
    }

    fn scl_level(&self) -> bool {
        self.master_scl && !self.stuck_scl && self.scl_hold == 0
    }

    fn sda_level(&self) -> bool {
        self.master_sda && !self.device_sda_low && !self.contender_sda_low && self.stuck_sda == 0
    }

    /// Fails the test if `elapsed` ns (since `since`) is under `minimum`.
    fn require(&self, what: &str, since: Option<u64>, minimum: u32) {
        if let Some(since) = since {
            let elapsed = self.time() - since;
            assert!(
                elapsed >= u64::from(minimum),
                "{what} violated at {} ns: {elapsed} ns, minimum {minimum} ns",
                self.time()
            );
        }
    }

    /// Brings the wires to what everyone drives, SCL first (as the SBCon
    /// applies a write), each change an edge the bus reacts to.
    fn settle(&mut self) {
        let scl = self.scl_level();
        if scl != self.scl {
            self.scl = scl;
            if scl { self.scl_rising() } else { self.scl_falling() }
        }
        let sda = self.sda_level();
        if sda != self.sda {
            self.sda = sda;
            self.sda_edge(sda);
        }
    }

    fn scl_rising(&mut self) {
        self.require("tLOW", self.scl_fell, self.timing.t_low);
        self.require("SCL period", self.scl_rose, self.timing.t_period);
        if self.sda_changed >= self.scl_fell {
            self.require("tSU;DAT", self.sda_changed, self.timing.t_su_dat);
        }
        self.scl_rose = Some(self.time());
        if !self.in_transfer {
            return;
        }
        self.clocks += 1;
        match self.clocks {
            1..=8 => self.shift = (self.shift << 1) | u8::from(self.sda),
            9 => {
                self.acknowledged = !self.sda;
                let byte = self.shift;
                self.events.push(if self.byte_is_address {
                    self.reading = byte & 1 != 0;
                    Event::Address(byte, self.acknowledged)
                } else if self.reading {
                    Event::Read(byte, self.acknowledged)
                } else {
                    Event::Written(byte, self.acknowledged)
                });
            }
            _ => unreachable!("SCL rose twice without falling"),
        }
    }

    fn scl_falling(&mut self) {
        self.require("tHIGH", self.scl_rose, self.timing.t_high);
        let start = self.start_at.take();
        self.require("tHD;STA", start, self.timing.t_hd_sta);
        self.scl_fell = Some(self.time());
        self.clock_pulses += 1;
        if self.stuck_sda != 0 && self.stuck_sda != FOREVER {
            self.stuck_sda -= 1;
        }
        if !self.in_transfer {
            return;
        }
        let sending = self.selected.is_some() && self.reading && !self.byte_is_address;
        match self.clocks {
            0..=7 => {
                // The next bit: the contender's during its address byte,
                // the selected device's while it sends (bit 7 was set up
                // when the previous byte ended).
                let bit = match self.clocks {
                    0 => 7,
                    clocks => 7 - clocks,
                };
                if let (true, Some(byte)) = (self.contender_active, self.contender) {
                    self.contender_sda_low = (byte >> bit) & 1 == 0;
                }
                if sending && self.clocks > 0 {
                    self.device_sda_low = (self.sending >> bit) & 1 == 0;
                }
            }
            8 => {
                // The acknowledge slot: receivers drive it, senders let go.
                self.contender_active = false;
                self.contender_sda_low = false;
                if self.byte_is_address {
                    self.selected = self.devices.iter().position(|d| d.address == self.shift >> 1);
                    if let Some(index) = self.selected {
                        self.devices[index].addressed(self.shift & 1 != 0);
                        self.device_sda_low = true;
                    }
                } else if let Some(index) = self.selected {
                    if self.reading {
                        self.device_sda_low = false;
                    } else if self.devices[index].receive(self.shift) {
                        self.device_sda_low = true;
                    } else {
                        self.selected = None;
                    }
                }
            }
            _ => {
                // The byte is over.
                self.clocks = 0;
                self.device_sda_low = false;
                let after_address = self.byte_is_address;
                self.byte_is_address = false;
                if let Some(index) = self.selected {
                    if self.reading && (after_address || self.acknowledged) {
                        self.sending = self.devices[index].send();
                        self.device_sda_low = self.sending & 0x80 == 0;
                    } else if self.reading {
                        // Not acknowledged: the device goes quiet.
                        self.selected = None;
                    }
                }
                if let Some(index) = self.selected {
                    self.scl_hold = self.devices[index].stretch_polls;
                }
            }
        }
    }

    fn sda_edge(&mut self, high: bool) {
        if self.scl {
            if high {
                // STOP.
                if self.in_transfer {
                    assert!(self.clocks == 1, "STOP inside a byte, after {} clocks", self.clocks);
                }
                self.require("tSU;STO", self.scl_rose, self.timing.t_su_sto);
                self.events.push(Event::Stop);
                self.in_transfer = false;
                self.last_stop = Some(self.time());
                self.contender_active = false;
                if self.grabs_sda_at_stop {
                    self.stuck_sda = FOREVER;
                    self.sda = false;
                }
            } else {
                // START.
                let repeated = self.in_transfer;
                if repeated {
                    assert!(
                        self.clocks == 1,
                        "repeated START inside a byte, after {} clocks",
                        self.clocks
                    );
                    self.require("tSU;STA", self.scl_rose, self.timing.t_su_sta);
                    self.events.push(Event::RepeatedStart);
                } else {
                    self.require("tBUF", self.last_stop, self.timing.t_buf);
                    self.events.push(Event::Start);
                    self.contender_active = self.contender.is_some();
                }
                self.in_transfer = true;
                self.clocks = 0;
                self.shift = 0;
                self.byte_is_address = true;
                self.start_at = Some(self.time());
            }
            self.selected = None;
            self.device_sda_low = false;
            self.scl_hold = 0;
        }
        self.sda_changed = Some(self.time());
    }
}

impl RegisterModel<Register> for Bus {
    fn read(&mut self, register: Register) -> u32 {
        self.accesses += 1;
        match register {
            Register::Control => {
                if self.master_scl && self.scl_hold > 0 {
                    self.stretched_polls += 1;
                    if self.scl_hold != FOREVER {
                        self.scl_hold -= 1;
                    }
                }
                self.settle();
                u32::from(self.scl) | (u32::from(self.sda) << 1)
            }
            Register::Clear => panic!("SB_CONTROLC is write-only"),
        }
    }

    fn write(&mut self, register: Register, value: u32) {
        self.accesses += 1;
        assert_eq!(value & !0b11, 0, "only bits 0 (SCL) and 1 (SDA) exist");
        let released = match register {
            Register::Control => true,
            Register::Clear => false,
        };
        if value & 0b01 != 0 {
            self.master_scl = released;
        }
        if value & 0b10 != 0 {
            self.master_sda = released;
        }
        self.settle();
    }
}
