//! The boot console on the AXI UART Lite, polled.

use crate::memory_map::UARTLITE_BASE;

/// UART Lite TX FIFO register offset.
const TX_FIFO: usize = 0x04;
/// UART Lite status register offset.
const STAT_REG: usize = 0x08;
/// STAT_REG bit 3: TX FIFO full.
const STAT_TX_FIFO_FULL: u32 = 1 << 3;

/// Prepares the console UART (UART Lite's line settings are fixed in the
/// FPGA design; nothing to program).
pub fn init() {}

/// Writes bytes to the console, waiting for FIFO space.
pub fn console_write(bytes: &[u8]) {
    for &byte in bytes {
        // SAFETY: UARTLITE_BASE is the AXI UART Lite of this design (PG142
        // register map); reading STAT_REG only clears the RX error flags, which
        // the boot console does not use, and writing TX_FIFO queues a byte.
        unsafe {
            while core::ptr::read_volatile((UARTLITE_BASE + STAT_REG) as *const u32) & STAT_TX_FIFO_FULL != 0 {}
            core::ptr::write_volatile((UARTLITE_BASE + TX_FIFO) as *mut u32, u32::from(byte));
        }
    }
}
