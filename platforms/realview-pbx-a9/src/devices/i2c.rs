//! The baseboard's two-wire serial bus interface, SBCon0 (DUI 0440), as an
//! I2C bus: the CPU bit-bangs it through the controller's two lines
//! (`ferrode-versatile-i2c`). The board's DS1338 real-time clock sits on it,
//! at the part's fixed address 0x68 (`ferrode-ds1338`).

use core::ptr::NonNull;

use ferrode_versatile_i2c::{Mmio, Regs, Speed, VersatileI2c};
use volatile::VolatilePtr;

use super::{Clock, clock};
use crate::memory_map::I2C_BASE;

/// The type [`i2c_port`] returns: the bus as embedded-hal's `I2c`, timing
/// its edges on the board's clock.
pub type I2cBus = VersatileI2c<Mmio<'static>, Clock>;

/// The SBCon's I2C bus at standard mode (100 kHz at most), timing its edges
/// on the board's clock (busy waits of a few microseconds): only for the
/// holder of its register window (what an IO_MEM session for "i2c"
/// returns), `None` for any other window. The
/// bus is cleared first (`VersatileI2c::recover`: a device a reset caught
/// in the middle of a byte lets go of SDA) and left idle; if it cannot be
/// cleared, its transfers say so (`ErrorKind::Bus`).
///
/// # Safety
///
/// Device authority: the caller is the bus's one driver, as the image's
/// composition made it: the component whose IO_MEM route grants it the
/// "i2c" window, or an app without components. A second driver would
/// interleave its edges with this one's and corrupt both transfers.
pub unsafe fn i2c_port(window: &ferrode_hal::DeviceWindow) -> Option<I2cBus> {
    if window.base != I2C_BASE {
        return None;
    }
    // SAFETY: I2C_BASE is the SBCon on this board, a register block
    // nothing else maps (the MMU maps it as Device memory, never run), and
    // the caller is its one driver (this function's contract).
    let registers = unsafe { VolatilePtr::new(NonNull::new_unchecked(I2C_BASE as *mut Regs)) };
    let mut bus = VersatileI2c::new(Mmio::new(registers), clock(), Speed::Standard);
    let _ = bus.recover();
    Some(bus)
}
