//! Host tests against a model of the PL061.

use core::cell::Cell;
use std::string::ToString;

use embedded_hal::digital::{InputPin, OutputPin, StatefulOutputPin};

use ferrode_hal::mmio::RegisterName;

use crate::{Error, Pl061, Register, Trigger};

/// The data window masking (TRM 3.3.1), direction, and edge and level
/// detection (TRM 2.3) of a PL061 whose input pins the test drives.
#[derive(Default)]
struct ModelGpio {
    /// What the outputs drive.
    out: Cell<u8>,
    /// What the outside world drives on the pins (inputs read this).
    outside: Cell<u8>,
    dir: Cell<u8>,
    is: Cell<u8>,
    ibe: Cell<u8>,
    iev: Cell<u8>,
    ie: Cell<u8>,
    ris: Cell<u8>,
    afsel: Cell<u8>,
    /// Data-register writes, to see that setting a pin is one write.
    data_writes: Cell<u32>,
}

impl ModelGpio {
    fn pins(&self) -> u8 {
        (self.out.get() & self.dir.get()) | (self.outside.get() & !self.dir.get())
    }

    /// The outside drives `level` onto the input pins.
    fn drive(&self, level: u8) {
        let before = self.pins();
        self.outside.set(level);
        let after = self.pins();
        let changed = before ^ after;
        let edge = !self.is.get();
        let both = changed & self.ibe.get();
        let rising = changed & after & self.iev.get();
        let falling = changed & !after & !self.iev.get();
        self.ris.set(self.ris.get() | (edge & (both | ((rising | falling) & !self.ibe.get()))));
        self.update_levels();
    }

    fn update_levels(&self) {
        let level = self.is.get();
        let active = (self.pins() & self.iev.get()) | (!self.pins() & !self.iev.get());
        self.ris.set((self.ris.get() & !level) | (level & active));
    }
}

impl ferrode_hal::RegisterAccess<Register> for ModelGpio {
    fn read(&self, register: Register) -> u32 {
        u32::from(match register {
            Register::Data(mask) => self.pins() & mask,
            Register::Dir => self.dir.get(),
            Register::Is => self.is.get(),
            Register::Ibe => self.ibe.get(),
            Register::Iev => self.iev.get(),
            Register::Ie => self.ie.get(),
            Register::Ris => self.ris.get(),
            Register::Mis => self.ris.get() & self.ie.get(),
            Register::Ic => 0,
            Register::Afsel => self.afsel.get(),
        })
    }

    fn write(&self, register: Register, value: u32) {
        let value = value as u8;
        match register {
            Register::Data(mask) => {
                // Only pins configured as outputs take the value (TRM
                // 3.3.1; QEMU's model likewise ignores the others).
                self.data_writes.set(self.data_writes.get() + 1);
                let mask = mask & self.dir.get();
                self.out.set((self.out.get() & !mask) | (value & mask));
            }
            Register::Dir => self.dir.set(value),
            Register::Is => self.is.set(value),
            Register::Ibe => self.ibe.set(value),
            Register::Iev => self.iev.set(value),
            Register::Ie => self.ie.set(value),
            Register::Ic => {
                self.ris.set(self.ris.get() & !value);
                self.update_levels();
            }
            Register::Afsel => self.afsel.set(value),
            Register::Ris | Register::Mis => {}
        }
    }
}

#[test]
fn the_data_window_offsets_follow_the_mask() {
    assert_eq!(Register::Data(0xff).offset(), 0x3fc);
    assert_eq!(Register::Data(0x01).offset(), 0x004);
    assert_eq!(Register::Dir.offset(), 0x400);
    assert_eq!(Register::Ic.offset(), 0x41c);
}

#[test]
fn an_output_pin_changes_with_one_masked_write_and_leaves_the_others() {
    let model = ModelGpio::default();
    let mut gpio = Pl061::new(&model);
    let _outputs = [gpio.output(5, true).is_ok(), gpio.output(7, true).is_ok()];
    gpio.write(0xff, 0xa0);
    {
        let mut led = gpio.output(3, true).unwrap();
        assert!(led.is_set_high().unwrap());
        let writes = model.data_writes.get();
        led.set_low().unwrap();
        assert_eq!(model.data_writes.get(), writes + 1, "one write, no read-modify-write");
        assert!(led.is_set_low().unwrap());
    }
    assert_eq!(model.out.get(), 0xa0, "other pins' output latches untouched");
    assert_eq!(model.dir.get(), (1 << 3) | 0xa0);
    assert_eq!(gpio.output(8, false).err(), Some(Error::NoSuchPin(8)));
}

#[test]
fn inputs_read_what_the_outside_drives() {
    let model = ModelGpio::default();
    let mut gpio = Pl061::new(&model);
    let mut button = gpio.input(5).unwrap();
    model.drive(1 << 5);
    assert!(button.is_high().unwrap());
    model.drive(0);
    assert!(button.is_low().unwrap());
}

#[test]
fn edge_interrupts_report_once_and_level_interrupts_while_the_level_holds() {
    let model = ModelGpio::default();
    let mut gpio = Pl061::new(&model);
    gpio.input(0).unwrap();
    gpio.input(1).unwrap();
    gpio.enable_interrupt(0, Trigger::RisingEdge).unwrap();
    gpio.enable_interrupt(1, Trigger::HighLevel).unwrap();
    assert_eq!(gpio.take_interrupts(), 0);
    model.drive(0b01);
    assert_eq!(gpio.take_interrupts(), 0b01);
    assert_eq!(gpio.take_interrupts(), 0, "an edge is reported once");
    model.drive(0b00);
    assert_eq!(gpio.take_interrupts(), 0, "falling edge not selected");
    model.drive(0b10);
    assert_eq!(gpio.take_interrupts(), 0b10);
    assert_eq!(gpio.take_interrupts(), 0b10, "a level stays pending while it holds");
    gpio.disable_interrupt(1).unwrap();
    assert_eq!(gpio.take_interrupts(), 0);
}

/// The offsets the hardware bus ([`crate::Mmio`]) uses are the ones through
/// the `RegisterName` trait, not the inherent `offset`; a mutant returning
/// 0 or 1 there would send every hardware access to the data window.
#[test]
fn the_hardware_bus_places_each_register_at_its_data_sheet_offset() {
    assert_eq!(<Register as RegisterName>::offset(Register::Data(0x24)), 0x090);
    assert_eq!(<Register as RegisterName>::offset(Register::Dir), 0x400);
    assert_eq!(<Register as RegisterName>::offset(Register::Afsel), 0x420);
}

#[test]
fn an_error_names_the_missing_pin() {
    assert_eq!(Error::NoSuchPin(9).to_string(), "the PL061 has no pin 9 (pins 0..=7)");
}

#[test]
fn a_masked_read_returns_only_the_masked_pins() {
    let model = ModelGpio::default();
    let mut gpio = Pl061::new(&model);
    for pin in [0, 2, 5, 7] {
        gpio.output(pin, true).unwrap();
    }
    assert_eq!(gpio.read(0xff), 0b1010_0101);
    assert_eq!(gpio.read(0x0f), 0b0000_0101);
    assert_eq!(gpio.read(0x5a), 0);
}

#[test]
fn reconfiguring_pins_changes_only_the_pin_named() {
    let model = ModelGpio::default();
    let mut gpio = Pl061::new(&model);
    gpio.output(2, false).unwrap();
    gpio.output(4, false).unwrap();
    gpio.output(4, true).unwrap();
    assert_eq!(model.dir.get(), 0b1_0100, "an output made an output again stays one");
    assert_eq!(model.out.get(), 0b1_0000);
    gpio.input(4).unwrap();
    assert_eq!(model.dir.get(), 0b0_0100, "making pin 4 an input leaves pin 2 an output");
}

#[test]
fn an_output_pin_reports_the_level_it_drives() {
    let model = ModelGpio::default();
    let mut gpio = Pl061::new(&model);
    let mut led = gpio.output(6, false).unwrap();
    assert!(!led.is_set_high().unwrap());
    assert!(led.is_set_low().unwrap());
    led.set_high().unwrap();
    assert_eq!(model.out.get(), 1 << 6, "set_high drives the pin");
    assert!(led.is_set_high().unwrap());
    assert!(!led.is_set_low().unwrap());
}

#[test]
fn an_input_pin_is_high_or_low_never_both() {
    let model = ModelGpio::default();
    let mut gpio = Pl061::new(&model);
    let mut button = gpio.input(6).unwrap();
    model.drive(!(1 << 6));
    assert!(!button.is_high().unwrap(), "the other pins being high does not count");
    assert!(button.is_low().unwrap());
    model.drive(1 << 6);
    assert!(!button.is_low().unwrap());
}

#[test]
fn enabling_an_interrupt_keeps_the_other_pins_triggers() {
    let model = ModelGpio::default();
    let mut gpio = Pl061::new(&model);
    gpio.input(0).unwrap();
    gpio.input(1).unwrap();
    gpio.enable_interrupt(0, Trigger::HighLevel).unwrap();
    gpio.enable_interrupt(1, Trigger::FallingEdge).unwrap();
    model.drive(0b11);
    assert_eq!(gpio.take_interrupts(), 0b01);
    assert_eq!(gpio.take_interrupts(), 0b01, "pin 0 is still level-sensitive");
    model.drive(0b01);
    assert_eq!(gpio.take_interrupts(), 0b11, "pin 1 saw its falling edge");
    assert_eq!(gpio.take_interrupts(), 0b01);
}

#[test]
fn enabling_an_interrupt_twice_leaves_it_enabled_as_configured() {
    let model = ModelGpio::default();
    let mut gpio = Pl061::new(&model);
    gpio.input(3).unwrap();
    gpio.enable_interrupt(3, Trigger::HighLevel).unwrap();
    gpio.enable_interrupt(3, Trigger::HighLevel).unwrap();
    model.drive(1 << 3);
    assert_eq!(gpio.take_interrupts(), 1 << 3);
    assert_eq!(gpio.take_interrupts(), 1 << 3, "still a high-level interrupt");
}
