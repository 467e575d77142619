//! The GPIO block: channels, shadowed outputs, direction and interrupts.

use core::cell::Cell;
use core::fmt;

use ferrode_hal::mmio::access::ReadWrite;
use ferrode_hal::mmio::{Readable, Reg, Writeable};

use crate::pin::{InputPin, OutputPin};
use crate::regs::{GIER, IP_INTERRUPT, Register, Registers};

/// One of the (up to) two channels of a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Channel 1: GPIO_DATA, GPIO_TRI, IP ISR/IER bit 0.
    One,
    /// Channel 2: GPIO2_DATA, GPIO2_TRI, IP ISR/IER bit 1 (C_IS_DUAL = 1).
    Two,
}

impl Channel {
    const fn index(self) -> usize {
        match self {
            Channel::One => 0,
            Channel::Two => 1,
        }
    }

    /// The channel's bit in IP ISR and IP IER.
    pub const fn interrupt_bit(self) -> u32 {
        match self {
            Channel::One => IP_INTERRUPT::CHANNEL_1::SET.value,
            Channel::Two => IP_INTERRUPT::CHANNEL_2::SET.value,
        }
    }
}

/// IP ISR and IP IER bits of both channels.
const ALL_CHANNELS: u32 = Channel::One.interrupt_bit() | Channel::Two.interrupt_bit();

/// Errors of the GPIO driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Channel 2 of a single-channel core.
    NoSuchChannel,
    /// A pin number at or beyond the channel's width.
    NoSuchPin,
    /// The pin is already handed out.
    PinInUse,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::NoSuchChannel => "GPIO channel not present",
            Error::NoSuchPin => "GPIO pin beyond the channel width",
            Error::PinInUse => "GPIO pin already in use",
        })
    }
}

impl core::error::Error for Error {}

impl embedded_hal::digital::Error for Error {
    fn kind(&self) -> embedded_hal::digital::ErrorKind {
        embedded_hal::digital::ErrorKind::Other
    }
}

/// Synthesis options of the block (PG144 C_GPIO_WIDTH, C_IS_DUAL,
/// C_GPIO2_WIDTH).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Channel 1 width, 1 to 32.
    pub channel1_width: u8,
    /// Channel 2 width, or `None` for a single-channel core.
    pub channel2_width: Option<u8>,
}

const fn width_mask(width: u8) -> u32 {
    if width >= 32 { u32::MAX } else { (1u32 << width) - 1 }
}

/// Input changes reported by [`AxiGpio::on_interrupt`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputChanges {
    /// Input pins of channel 1 whose level differs from the last report.
    pub channel1: u32,
    /// Input pins of channel 2 whose level differs from the last report.
    pub channel2: u32,
    /// The IP ISR bits that were set (and are now cleared).
    pub status: u32,
}

#[derive(Debug, Default)]
pub(crate) struct ChannelState {
    pub(crate) data: Cell<u32>,
    tri: Cell<u32>,
    claimed: Cell<u32>,
    last_inputs: Cell<u32>,
}

/// An AXI GPIO block.
///
/// Outputs are written from a shadow copy of GPIO_DATA, never
/// read-modify-write, because reading GPIO_DATA does not return output
/// values on every configuration (and reads 0 under QEMU). Pins borrow the
/// block, so single-threaded sharing goes through `Cell`s.
#[derive(Debug)]
pub struct AxiGpio<R> {
    pub(crate) regs: R,
    config: Config,
    pub(crate) channels: [ChannelState; 2],
    interrupt_enable: Cell<u32>,
}

impl<R: Registers> AxiGpio<R> {
    /// Takes over the block with every pin an input and every shadowed
    /// output 0. Writes, in order: GPIO_DATA (0x000) = 0, GPIO_TRI (0x004)
    /// = 0xFFFF_FFFF, and for dual cores GPIO2_DATA (0x008) = 0, GPIO2_TRI
    /// (0x00C) = 0xFFFF_FFFF. Interrupts stay as reset left them (off).
    pub fn new(regs: R, config: Config) -> Self {
        let gpio =
            Self { regs, config, channels: Default::default(), interrupt_enable: Cell::new(0) };
        for channel in [Channel::One, Channel::Two] {
            if gpio.width(channel).is_ok() {
                gpio.channels[channel.index()].tri.set(u32::MAX);
                gpio.data(channel).set(0);
                gpio.tri(channel).set(u32::MAX);
            }
        }
        gpio
    }

    fn width(&self, channel: Channel) -> Result<u8, Error> {
        match channel {
            Channel::One => Ok(self.config.channel1_width),
            Channel::Two => self.config.channel2_width.ok_or(Error::NoSuchChannel),
        }
    }

    /// The channel's GPIO_DATA or GPIO2_DATA.
    pub(crate) fn data(&self, channel: Channel) -> Reg<'_, R, Register, ReadWrite> {
        match channel {
            Channel::One => self.regs.gpio_data(),
            Channel::Two => self.regs.gpio2_data(),
        }
    }

    /// The channel's GPIO_TRI or GPIO2_TRI.
    fn tri(&self, channel: Channel) -> Reg<'_, R, Register, ReadWrite> {
        match channel {
            Channel::One => self.regs.gpio_tri(),
            Channel::Two => self.regs.gpio2_tri(),
        }
    }

    pub(crate) fn state(&self, channel: Channel) -> &ChannelState {
        &self.channels[channel.index()]
    }

    fn claim(&self, channel: Channel, pin: u8) -> Result<u32, Error> {
        if pin >= self.width(channel)? {
            return Err(Error::NoSuchPin);
        }
        let bit = 1 << pin;
        let state = self.state(channel);
        if state.claimed.get() & bit != 0 {
            return Err(Error::PinInUse);
        }
        state.claimed.set(state.claimed.get() | bit);
        Ok(bit)
    }

    pub(crate) fn release(&self, channel: Channel, bit: u32) {
        let state = self.state(channel);
        state.claimed.set(state.claimed.get() & !bit);
    }

    /// Makes `pin` of `channel` an output driving `initial`. Writes the
    /// channel's DATA register (shadow with the new value) first, then its
    /// TRI register with the pin's bit cleared, so the pin never drives a
    /// stale level.
    pub fn output(
        &self,
        channel: Channel,
        pin: u8,
        initial: bool,
    ) -> Result<OutputPin<'_, R>, Error> {
        let bit = self.claim(channel, pin)?;
        self.write_shadow(channel, bit, initial);
        let state = self.state(channel);
        state.tri.set(state.tri.get() & !bit);
        self.tri(channel).set(state.tri.get());
        Ok(OutputPin::new(self, channel, bit))
    }

    /// Makes `pin` of `channel` an input: one write, TRI with the bit set.
    pub fn input(&self, channel: Channel, pin: u8) -> Result<InputPin<'_, R>, Error> {
        let bit = self.claim(channel, pin)?;
        let state = self.state(channel);
        state.tri.set(state.tri.get() | bit);
        self.tri(channel).set(state.tri.get());
        Ok(InputPin::new(self, channel, bit))
    }

    /// Sets the shadowed outputs in `mask` to the bits of `value` with one
    /// DATA write (e.g. a whole LED pattern). Pins need not be claimed.
    pub fn write_outputs(&self, channel: Channel, mask: u32, value: u32) -> Result<(), Error> {
        let width = width_mask(self.width(channel)?);
        let state = self.state(channel);
        let data = (state.data.get() & !mask) | (value & mask & width);
        state.data.set(data);
        self.data(channel).set(data);
        Ok(())
    }

    /// The shadowed output value of `channel`.
    pub fn outputs(&self, channel: Channel) -> Result<u32, Error> {
        self.width(channel)?;
        Ok(self.state(channel).data.get())
    }

    /// Reads the input pins of `channel` (output bits masked out).
    pub fn read_inputs(&self, channel: Channel) -> Result<u32, Error> {
        let width = width_mask(self.width(channel)?);
        Ok(self.data(channel).get() & self.state(channel).tri.get() & width)
    }

    pub(crate) fn write_shadow(&self, channel: Channel, bit: u32, high: bool) {
        let state = self.state(channel);
        let data = if high { state.data.get() | bit } else { state.data.get() & !bit };
        state.data.set(data);
        self.data(channel).set(data);
    }

    /// Enables the input-change interrupt of `channel`: writes IP IER
    /// (0x128) with the channel's bit added, then GIER (0x11C) =
    /// 0x8000_0000. Changes are reported relative to the inputs read now.
    pub fn enable_interrupt(&self, channel: Channel) -> Result<(), Error> {
        let inputs = self.read_inputs(channel)?;
        self.state(channel).last_inputs.set(inputs);
        self.interrupt_enable.set(self.interrupt_enable.get() | channel.interrupt_bit());
        self.regs.ip_ier().set(self.interrupt_enable.get());
        self.regs.gier().write(GIER::GLOBAL_INTERRUPT_ENABLE::SET);
        Ok(())
    }

    /// Disables the interrupt of `channel` (IP IER); GIER = 0 when no
    /// channel is left enabled.
    pub fn disable_interrupt(&self, channel: Channel) -> Result<(), Error> {
        self.width(channel)?;
        self.interrupt_enable.set(self.interrupt_enable.get() & !channel.interrupt_bit());
        self.regs.ip_ier().set(self.interrupt_enable.get());
        if self.interrupt_enable.get() == 0 {
            self.regs.gier().write(GIER::GLOBAL_INTERRUPT_ENABLE::CLEAR);
        }
        Ok(())
    }

    /// Interrupt entry: reads IP ISR, writes back exactly the bits that
    /// were set (IP ISR toggles on write, so this clears them and nothing
    /// else), and reports which input pins changed.
    pub fn on_interrupt(&self) -> InputChanges {
        let status = self.regs.ip_isr().get() & ALL_CHANNELS;
        if status != 0 {
            self.regs.ip_isr().set(status);
        }
        let mut changes = InputChanges { status, ..InputChanges::default() };
        for channel in [Channel::One, Channel::Two] {
            if status & channel.interrupt_bit() == 0 {
                continue;
            }
            let Ok(inputs) = self.read_inputs(channel) else {
                continue;
            };
            let state = self.state(channel);
            let changed = inputs ^ state.last_inputs.get();
            state.last_inputs.set(inputs);
            match channel {
                Channel::One => changes.channel1 = changed,
                Channel::Two => changes.channel2 = changed,
            }
        }
        changes
    }
}
