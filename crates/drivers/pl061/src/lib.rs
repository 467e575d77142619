//! Arm PrimeCell GPIO (PL061) driver, board-agnostic and host-tested.
//!
//! The PL061 has eight pins. Its data register is reached through a
//! 256-word window whose address bits 9:2 mask the access (PL061 TRM
//! DDI 0190, 3.3.1): a write to offset `mask << 2` changes only the pins in
//! `mask`, a read there returns only them. So setting a pin is one write,
//! with no read-modify-write and no shadow copy: pins of one block can be
//! driven from different threads and interrupt handlers without a lock.
//! Direction and interrupt configuration are read-modify-write and take
//! `&mut self`.
#![no_std]

#[cfg(test)]
extern crate std;

mod regs;

#[cfg(test)]
mod tests;

use core::convert::Infallible;

pub use regs::{Mmio, Register, Registers, Regs};

use ferrode_hal::mmio::{Readable, Writeable};

/// What can go wrong with a PL061.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A pin number of 8 or more.
    NoSuchPin(u8),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoSuchPin(pin) => write!(f, "the PL061 has no pin {pin} (pins 0..=7)"),
        }
    }
}

impl core::error::Error for Error {}

/// Which change of an input raises its interrupt (GPIOIS, GPIOIBE, GPIOIEV).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Low to high.
    RisingEdge,
    /// High to low.
    FallingEdge,
    /// Both edges.
    BothEdges,
    /// While high.
    HighLevel,
    /// While low.
    LowLevel,
}

/// A PL061 GPIO block.
pub struct Pl061<R> {
    registers: R,
}

fn bit(pin: u8) -> Result<u8, Error> {
    if pin < 8 { Ok(1 << pin) } else { Err(Error::NoSuchPin(pin)) }
}

impl<R: Registers> Pl061<R> {
    /// Takes over the block: every pin an input under software control
    /// (GPIOAFSEL = 0), interrupts masked and cleared.
    pub fn new(registers: R) -> Self {
        registers.ie().set(0);
        registers.ic().set(0xff);
        registers.afsel().set(0);
        registers.dir().set(0);
        Self { registers }
    }

    /// Drives the pins in `mask` to the bits of `value`, one write.
    pub fn write(&self, mask: u8, value: u8) {
        self.registers.data(mask).set(u32::from(value));
    }

    /// The level of the pins in `mask` (inputs as sensed, outputs as
    /// driven); the other bits read 0.
    pub fn read(&self, mask: u8) -> u8 {
        self.registers.data(mask).get() as u8 & mask
    }

    /// Makes `pin` an output driving `initial`. The level is written before
    /// and after the direction: the TRM leaves open whether a write to an
    /// input pin is latched (QEMU's model drops it), so the second write
    /// settles the level, and the first keeps a latching PL061 from
    /// driving a stale one in between.
    pub fn output(&mut self, pin: u8, initial: bool) -> Result<OutputPin<'_, R>, Error> {
        let bit = bit(pin)?;
        let level = if initial { bit } else { 0 };
        self.write(bit, level);
        let direction = self.registers.dir().get();
        self.registers.dir().set(direction | u32::from(bit));
        self.write(bit, level);
        Ok(OutputPin { registers: &self.registers, bit })
    }

    /// Makes `pin` an input.
    pub fn input(&mut self, pin: u8) -> Result<InputPin<'_, R>, Error> {
        let bit = bit(pin)?;
        let direction = self.registers.dir().get();
        self.registers.dir().set(direction & !u32::from(bit));
        Ok(InputPin { registers: &self.registers, bit })
    }

    /// Configures `pin`'s interrupt for `trigger` and unmasks it (the sense
    /// registers first, then a clear, so a change of sense raises nothing).
    pub fn enable_interrupt(&mut self, pin: u8, trigger: Trigger) -> Result<(), Error> {
        let bit = u32::from(bit(pin)?);
        let (level, both, high) = match trigger {
            Trigger::RisingEdge => (false, false, true),
            Trigger::FallingEdge => (false, false, false),
            Trigger::BothEdges => (false, true, false),
            Trigger::HighLevel => (true, false, true),
            Trigger::LowLevel => (true, false, false),
        };
        let set = |value: u32, on: bool| if on { value | bit } else { value & !bit };
        for (register, on) in [(Register::Is, level), (Register::Ibe, both), (Register::Iev, high)]
        {
            let value = self.registers.read(register);
            self.registers.write(register, set(value, on));
        }
        self.registers.ic().set(bit);
        let mask = self.registers.ie().get();
        self.registers.ie().set(mask | bit);
        Ok(())
    }

    /// Masks `pin`'s interrupt.
    pub fn disable_interrupt(&mut self, pin: u8) -> Result<(), Error> {
        let bit = u32::from(bit(pin)?);
        let mask = self.registers.ie().get();
        self.registers.ie().set(mask & !bit);
        Ok(())
    }

    /// Interrupt entry point: the pins whose unmasked interrupt is pending
    /// (GPIOMIS), with their edge detections cleared (GPIOIC). A level
    /// interrupt stays pending while its level holds.
    pub fn take_interrupts(&self) -> u8 {
        let pending = self.registers.mis().get() as u8;
        self.registers.ic().set(u32::from(pending));
        pending
    }

    /// Gives back the register access.
    pub fn release(self) -> R {
        self.registers
    }
}

/// An output pin: each change is one masked write.
pub struct OutputPin<'a, R> {
    registers: &'a R,
    bit: u8,
}

impl<R: Registers> embedded_hal::digital::ErrorType for OutputPin<'_, R> {
    type Error = Infallible;
}

impl<R: Registers> embedded_hal::digital::OutputPin for OutputPin<'_, R> {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.registers.data(self.bit).set(0);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        self.registers.data(self.bit).set(u32::from(self.bit));
        Ok(())
    }
}

impl<R: Registers> embedded_hal::digital::StatefulOutputPin for OutputPin<'_, R> {
    fn is_set_high(&mut self) -> Result<bool, Infallible> {
        Ok(self.registers.data(self.bit).get() as u8 & self.bit != 0)
    }

    fn is_set_low(&mut self) -> Result<bool, Infallible> {
        Ok(self.registers.data(self.bit).get() as u8 & self.bit == 0)
    }
}

/// An input pin.
pub struct InputPin<'a, R> {
    registers: &'a R,
    bit: u8,
}

impl<R: Registers> embedded_hal::digital::ErrorType for InputPin<'_, R> {
    type Error = Infallible;
}

impl<R: Registers> embedded_hal::digital::InputPin for InputPin<'_, R> {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        Ok(self.registers.data(self.bit).get() as u8 & self.bit != 0)
    }

    fn is_low(&mut self) -> Result<bool, Infallible> {
        Ok(self.registers.data(self.bit).get() as u8 & self.bit == 0)
    }
}
