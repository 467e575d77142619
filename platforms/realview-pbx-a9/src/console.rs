//! The boot console on PL011 UART0, polled.

use crate::memory_map::UART0_BASE;

/// PL011 data register offset (UARTDR).
const UARTDR: usize = 0x00;
/// PL011 flag register offset (UARTFR).
const UARTFR: usize = 0x18;
/// UARTFR.TXFF: transmit FIFO full.
const UARTFR_TXFF: u32 = 1 << 5;

/// Prepares the console UART. QEMU and the board firmware leave UART0
/// enabled at 38400 8N1; Ferrode keeps those settings for the boot console.
pub fn init() {}

/// Writes bytes to the console, waiting for FIFO space.
pub fn console_write(bytes: &[u8]) {
    for &byte in bytes {
        // SAFETY: UART0_BASE is the PL011 UART0 on this board (DUI 0440,
        // table 4-1); UARTFR and UARTDR are 32-bit registers without read
        // side effects on UARTFR, and writing UARTDR queues one byte.
        unsafe {
            while core::ptr::read_volatile((UART0_BASE + UARTFR) as *const u32) & UARTFR_TXFF != 0 {}
            core::ptr::write_volatile((UART0_BASE + UARTDR) as *mut u32, u32::from(byte));
        }
    }
}
