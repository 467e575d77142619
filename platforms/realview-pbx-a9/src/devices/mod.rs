//! The board's devices behind the platform contract (see the crate docs):
//! `ethernet()`, `clock()`, `alarm()`, `serial()`; and this board's own
//! `rtc()` (PL031), `gpio()` (PL061 GPIO 0), `private_timer()` and the
//! SBCon I2C bus and the SD card for their driver components (`i2c_port`,
//! `sd_card`).
//!
//! Device authority: the accessors that take a device over (`ethernet`,
//! `alarm`, `serial`, `gpio`, the `*_port` ones for driver components,
//! and this board's others), like `irq::register` and its kin, are
//! `unsafe`: their caller must be the device's one driver as the image's
//! composition made it (the board's driver components and services, or
//! an app without components). A component reaches devices only through
//! its IO_MEM and IRQ sessions; its safe code cannot take one over:
//!
//! ```compile_fail,E0133
//! let gpio = realview_pbx_a9::devices::gpio();
//! ```
//!
//! The clock (`clock`) only reads, and stays safe.

mod ethernet;
mod i2c;
mod peripherals;
mod sd;
mod serial;
mod timer;

pub use ethernet::{Ethernet, EthernetError, ethernet, ethernet_port};
pub use i2c::{I2cBus, i2c_port};
pub use peripherals::{
    Gpio, GpioDevice, PrivateTimerHandle, Rtc, gpio, gpio_port, private_timer, rtc,
    wall_clock_seconds,
};
pub use sd::{SdCard, SdError, sd_card};
pub use serial::{Serial, serial, terminal_port};
pub use timer::{Clock, OneShotAlarm, alarm, clock};

pub(crate) use serial::try_write_console;
pub(crate) use timer::init as init_timer;
