//! The board's L2 cache: the CoreLink L2C-310 beside the Cortex-A9
//! ([`L2_CACHE_BASE`]), the outer cache for the RAM the MMU maps outer
//! write-back write-allocate ([`crate::mmu`]).

use core::ptr::NonNull;

use ferrode_pl310::{Mmio, Pl310, Regs};
use volatile::VolatilePtr;

use crate::memory_map::L2_CACHE_BASE;

/// Turns the L2 cache on (`ferrode_pl310::Pl310::enable`: invalidate
/// every way, sync, enable), its configuration as reset left it. For the
/// platform's start, once the MMU and the L1 caches are on with
/// Ferrode's own map, before interrupts are unmasked. If the controller
/// never finishes a step, the console says so and the L2 stays off.
pub(crate) fn init() {
    // SAFETY: L2_CACHE_BASE is the L2C-310's 4 KiB register block on
    // this board (DUI 0440), mapped as Device memory; nothing else drives
    // it, and this driver lives only for this call.
    let registers = unsafe { VolatilePtr::new(NonNull::new_unchecked(L2_CACHE_BASE as *mut Regs)) };
    if Pl310::new(Mmio::new(registers)).enable().is_err() {
        crate::console::write(
            b"L2 cache: a maintenance operation did not finish, the L2 stays off\r\n",
        );
    }
}
