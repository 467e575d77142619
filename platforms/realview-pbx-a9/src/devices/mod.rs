//! The board's devices behind the platform contract (see the crate docs):
//! `ethernet()`, `clock()`, `alarm()`, `serial()`.

mod ethernet;
mod serial;
mod timer;

pub use ethernet::{Ethernet, EthernetError, ethernet};
pub use serial::{Serial, serial};
pub use timer::{Clock, OneShotAlarm, alarm, clock};

pub(crate) use serial::write_console;
pub(crate) use timer::init as init_timer;
