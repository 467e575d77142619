extern crate std;

use embedded_hal::digital::{InputPin as _, OutputPin as _, StatefulOutputPin as _};

use crate::model::GpioModel;
use crate::{AxiGpio, Channel, Config, Error, InputChanges};

const DUAL: Config = Config { channel1_width: 8, channel2_width: Some(4) };
const SINGLE: Config = Config { channel1_width: 32, channel2_width: None };

#[test]
fn new_makes_everything_an_input_with_exact_writes() {
    let model = GpioModel::new();
    AxiGpio::new(&model, DUAL);
    assert_eq!(model.writes(), [(0x0, 0), (0x4, 0xFFFF_FFFF), (0x8, 0), (0xC, 0xFFFF_FFFF)]);
    let model = GpioModel::new();
    AxiGpio::new(&model, SINGLE);
    assert_eq!(model.writes(), [(0x0, 0), (0x4, 0xFFFF_FFFF)]);
}

#[test]
fn output_sets_data_before_direction() {
    let model = GpioModel::new();
    let gpio = AxiGpio::new(&model, DUAL);
    model.clear_log();
    let _led = gpio.output(Channel::Two, 2, true).unwrap();
    assert_eq!(model.writes(), [(0x8, 0b100), (0xC, !0b100)]);
    assert_eq!(model.driven(1), 0b100);
}

#[test]
fn outputs_on_one_channel_keep_each_other_via_the_shadow() {
    let model = GpioModel::new();
    let gpio = AxiGpio::new(&model, DUAL);
    let mut led0 = gpio.output(Channel::One, 0, false).unwrap();
    let mut led3 = gpio.output(Channel::One, 3, false).unwrap();
    model.clear_log();
    led0.set_high().unwrap();
    led3.set_high().unwrap();
    led0.set_low().unwrap();
    assert_eq!(model.writes(), [(0x0, 0b0001), (0x0, 0b1001), (0x0, 0b1000)]);
    assert_eq!(model.driven(0), 0b1000);
    assert!(led3.is_set_high().unwrap(), "state comes from the shadow, DATA reads 0 for outputs");
    assert!(led0.is_set_low().unwrap());
    led3.toggle().unwrap();
    assert_eq!(model.driven(0), 0);
}

#[test]
fn input_pins_read_the_outside_world() {
    let model = GpioModel::new();
    let gpio = AxiGpio::new(&model, DUAL);
    let _led = gpio.output(Channel::One, 0, true).unwrap();
    let mut button = gpio.input(Channel::One, 5).unwrap();
    assert!(button.is_low().unwrap());
    model.drive_inputs(0, 1 << 5);
    assert!(button.is_high().unwrap());
    assert_eq!(gpio.read_inputs(Channel::One), Ok(1 << 5));
}

#[test]
fn write_outputs_sets_a_pattern_in_one_write() {
    let model = GpioModel::new();
    let gpio = AxiGpio::new(&model, SINGLE);
    let _led = gpio.output(Channel::One, 7, true).unwrap();
    model.clear_log();
    gpio.write_outputs(Channel::One, 0x0F, 0xA5).unwrap();
    assert_eq!(model.writes(), [(0x0, 0x85)]);
    assert_eq!(gpio.outputs(Channel::One), Ok(0x85));
}

#[test]
fn bad_channels_and_pins_are_refused() {
    let model = GpioModel::new();
    let gpio = AxiGpio::new(&model, SINGLE);
    assert_eq!(gpio.output(Channel::Two, 0, false).err(), Some(Error::NoSuchChannel));
    let dual = AxiGpio::new(&model, DUAL);
    assert_eq!(dual.input(Channel::Two, 4).err(), Some(Error::NoSuchPin));
    let pin = dual.input(Channel::One, 1).unwrap();
    assert_eq!(dual.output(Channel::One, 1, false).err(), Some(Error::PinInUse));
    drop(pin);
    assert!(dual.output(Channel::One, 1, false).is_ok(), "dropping frees the pin");
}

#[test]
fn interrupt_reports_changed_inputs_and_clears_only_set_status_bits() {
    let model = GpioModel::new();
    let gpio = AxiGpio::new(&model, DUAL);
    let _buttons = gpio.input(Channel::One, 0).unwrap();
    model.clear_log();
    gpio.enable_interrupt(Channel::One).unwrap();
    gpio.enable_interrupt(Channel::Two).unwrap();
    assert_eq!(
        model.writes(),
        [(0x128, 1), (0x11C, 0x8000_0000), (0x128, 3), (0x11C, 0x8000_0000)]
    );
    model.drive_inputs(0, 0b1);
    assert!(model.irq());
    model.clear_log();
    let changes = gpio.on_interrupt();
    assert_eq!(changes, InputChanges { channel1: 0b1, channel2: 0, status: 0b01 });
    // Writing 0b11 would have toggled channel 2's bit on.
    assert_eq!(model.writes(), [(0x120, 0b01)]);
    assert_eq!(model.isr(), 0);
    assert!(!model.irq());
    model.drive_inputs(0, 0b0);
    assert_eq!(gpio.on_interrupt().channel1, 0b1, "release is a change too");
    assert_eq!(gpio.on_interrupt(), InputChanges::default(), "nothing pending: no write");
}

/// A channel whose status bit is clear is not looked at: a pin that turned
/// from output to input at a new level latches no status (PG144: only an
/// input's change does), so channel 1's interrupt must not report it, and
/// channel 2's shadow keeps the old level (a mutant that reads every
/// channel fails here).
#[test]
fn an_interrupt_reports_only_the_channels_whose_status_bit_is_set() {
    let model = GpioModel::new();
    let gpio = AxiGpio::new(&model, DUAL);
    let _button = gpio.input(Channel::One, 0).unwrap();
    let led = gpio.output(Channel::Two, 0, false).unwrap();
    gpio.enable_interrupt(Channel::One).unwrap();
    model.drive_inputs(1, 0b1);
    drop(led);
    let _line = gpio.input(Channel::Two, 0).unwrap();
    assert_eq!(model.isr(), 0, "a direction change latches nothing");
    model.drive_inputs(0, 0b1);
    assert_eq!(gpio.on_interrupt(), InputChanges { channel1: 0b1, channel2: 0, status: 0b01 });
}

#[test]
fn disabling_the_last_channel_clears_gier() {
    let model = GpioModel::new();
    let gpio = AxiGpio::new(&model, SINGLE);
    gpio.enable_interrupt(Channel::One).unwrap();
    model.clear_log();
    gpio.disable_interrupt(Channel::One).unwrap();
    assert_eq!(model.writes(), [(0x128, 0), (0x11C, 0)]);
    model.drive_inputs(0, 1);
    assert!(!model.irq());
}

#[test]
fn errors_read_as_sentences() {
    use std::string::ToString;
    assert_eq!(Error::NoSuchChannel.to_string(), "GPIO channel not present");
    assert_eq!(Error::NoSuchPin.to_string(), "GPIO pin beyond the channel width");
    assert_eq!(Error::PinInUse.to_string(), "GPIO pin already in use");
}

/// Each channel has its own claims and shadow (a mutant mapping both
/// channels to one state, either of them, fails here).
#[test]
fn the_two_channels_keep_separate_pins_and_shadows() {
    let model = GpioModel::new();
    let gpio = AxiGpio::new(&model, DUAL);
    let _one = gpio.output(Channel::One, 1, true).unwrap();
    let _two = gpio.output(Channel::Two, 2, true).unwrap();
    assert!(gpio.output(Channel::Two, 1, false).is_ok(), "pin 1 of channel 2 is free");
    assert_eq!(gpio.outputs(Channel::One), Ok(0b010));
    assert_eq!(gpio.outputs(Channel::Two), Ok(0b100));
    assert_eq!(model.driven(0), 0b010);
    assert_eq!(model.driven(1), 0b100, "channel 2 drives only its own pins");
}

#[test]
fn making_a_pin_an_input_keeps_the_other_pins_directions() {
    let model = GpioModel::new();
    let gpio = AxiGpio::new(&model, DUAL);
    let _led = gpio.output(Channel::One, 0, true).unwrap();
    let mut button5 = gpio.input(Channel::One, 5).unwrap();
    let mut button6 = gpio.input(Channel::One, 6).unwrap();
    model.drive_inputs(0, 0b110_0000);
    assert!(button5.is_high().unwrap());
    assert!(button6.is_high().unwrap());
    assert_eq!(gpio.read_inputs(Channel::One), Ok(0b110_0000));
    assert_eq!(model.driven(0), 0b1, "pin 0 still drives");
}

#[test]
fn setting_an_output_high_twice_leaves_it_high() {
    let model = GpioModel::new();
    let gpio = AxiGpio::new(&model, DUAL);
    let mut led = gpio.output(Channel::One, 4, true).unwrap();
    led.set_high().unwrap();
    assert!(led.is_set_high().unwrap());
    assert_eq!(model.driven(0), 1 << 4);
}

#[test]
fn enabling_a_channels_interrupt_twice_leaves_it_enabled() {
    let model = GpioModel::new();
    let gpio = AxiGpio::new(&model, SINGLE);
    let _button = gpio.input(Channel::One, 0).unwrap();
    gpio.enable_interrupt(Channel::One).unwrap();
    gpio.enable_interrupt(Channel::One).unwrap();
    model.drive_inputs(0, 1);
    assert!(model.irq());
    assert_eq!(gpio.on_interrupt().channel1, 1);
}

#[test]
fn a_pin_pressed_while_another_is_held_is_the_only_change() {
    let model = GpioModel::new();
    let gpio = AxiGpio::new(&model, SINGLE);
    let _buttons = [gpio.input(Channel::One, 0).unwrap(), gpio.input(Channel::One, 1).unwrap()];
    gpio.enable_interrupt(Channel::One).unwrap();
    model.drive_inputs(0, 0b01);
    assert_eq!(gpio.on_interrupt().channel1, 0b01);
    model.drive_inputs(0, 0b11);
    assert_eq!(gpio.on_interrupt().channel1, 0b10, "pin 0 held, not changed");
}

#[test]
fn dropping_an_output_pin_frees_it() {
    let model = GpioModel::new();
    let gpio = AxiGpio::new(&model, SINGLE);
    let led = gpio.output(Channel::One, 2, true).unwrap();
    drop(led);
    assert!(gpio.input(Channel::One, 2).is_ok());
}

#[test]
fn pin_states_are_true_one_way_only() {
    let model = GpioModel::new();
    let gpio = AxiGpio::new(&model, DUAL);
    let mut led = gpio.output(Channel::One, 3, false).unwrap();
    let _other = gpio.output(Channel::One, 4, true).unwrap();
    assert!(!led.is_set_high().unwrap(), "another pin being high does not count");
    assert!(led.is_set_low().unwrap());
    led.set_high().unwrap();
    assert!(!led.is_set_low().unwrap());
    let mut button = gpio.input(Channel::One, 6).unwrap();
    model.drive_inputs(0, 0b1000_0000);
    assert!(!button.is_high().unwrap(), "another input being high does not count");
    model.drive_inputs(0, 0b0100_0000);
    assert!(!button.is_low().unwrap());
}
