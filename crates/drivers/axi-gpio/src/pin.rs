//! Per-pin types implementing `embedded_hal::digital`.

use core::convert::Infallible;

use crate::gpio::{AxiGpio, Channel};
use ferrode_hal::mmio::Readable;

use crate::regs::Registers;

/// An output pin. `set_high`/`set_low` write the channel's DATA register
/// once, with the shadow value; the state is read back from the shadow.
#[derive(Debug)]
pub struct OutputPin<'a, R: Registers> {
    gpio: &'a AxiGpio<R>,
    channel: Channel,
    bit: u32,
}

impl<'a, R: Registers> OutputPin<'a, R> {
    pub(crate) fn new(gpio: &'a AxiGpio<R>, channel: Channel, bit: u32) -> Self {
        Self { gpio, channel, bit }
    }
}

impl<R: Registers> Drop for OutputPin<'_, R> {
    /// Frees the pin number; the pin keeps driving its last level.
    fn drop(&mut self) {
        self.gpio.release(self.channel, self.bit);
    }
}

impl<R: Registers> embedded_hal::digital::ErrorType for OutputPin<'_, R> {
    type Error = Infallible;
}

impl<R: Registers> embedded_hal::digital::OutputPin for OutputPin<'_, R> {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.gpio.write_shadow(self.channel, self.bit, false);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        self.gpio.write_shadow(self.channel, self.bit, true);
        Ok(())
    }
}

impl<R: Registers> embedded_hal::digital::StatefulOutputPin for OutputPin<'_, R> {
    fn is_set_high(&mut self) -> Result<bool, Infallible> {
        Ok(self.gpio.state(self.channel).data.get() & self.bit != 0)
    }

    fn is_set_low(&mut self) -> Result<bool, Infallible> {
        Ok(self.gpio.state(self.channel).data.get() & self.bit == 0)
    }
}

/// An input pin: reads the channel's DATA register.
#[derive(Debug)]
pub struct InputPin<'a, R: Registers> {
    gpio: &'a AxiGpio<R>,
    channel: Channel,
    bit: u32,
}

impl<'a, R: Registers> InputPin<'a, R> {
    pub(crate) fn new(gpio: &'a AxiGpio<R>, channel: Channel, bit: u32) -> Self {
        Self { gpio, channel, bit }
    }
}

impl<R: Registers> Drop for InputPin<'_, R> {
    fn drop(&mut self) {
        self.gpio.release(self.channel, self.bit);
    }
}

impl<R: Registers> embedded_hal::digital::ErrorType for InputPin<'_, R> {
    type Error = Infallible;
}

impl<R: Registers> embedded_hal::digital::InputPin for InputPin<'_, R> {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        Ok(self.gpio.data(self.channel).get() & self.bit != 0)
    }

    fn is_low(&mut self) -> Result<bool, Infallible> {
        Ok(self.gpio.data(self.channel).get() & self.bit == 0)
    }
}
