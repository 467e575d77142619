//! The board's devices behind the platform contract (see the crate docs):
//! `ethernet()`, `clock()`, `alarm()`, `serial()`; and this board's own
//! `rtc()` (PL031), `gpio()` (PL061 GPIO 0) and `private_timer()`.

mod ethernet;
mod peripherals;
mod serial;
mod timer;

pub use ethernet::{Ethernet, EthernetError, ethernet, ethernet_port};
pub use peripherals::{
    Gpio, GpioDevice, PrivateTimerHandle, Rtc, gpio, gpio_port, private_timer, rtc,
    wall_clock_seconds,
};
pub use serial::{Serial, serial, terminal_port};
pub use timer::{Clock, OneShotAlarm, alarm, clock};

pub(crate) use serial::write_console;
pub(crate) use timer::init as init_timer;
