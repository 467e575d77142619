//! The console on PL011 UART0, through the `ferrode-pl011` driver.
//!
//! Writes are polled (they work before interrupts are on and from inside
//! fault reports); once [`crate::devices::serial`] runs they are ordered
//! after its transmit ring. Reception is interrupt-driven, see there.

use core::ptr::NonNull;

use ferrode_pl011::{Config, Mmio, Pl011, Regs};
use volatile::VolatilePtr;

use crate::memory_map::{UART_CLOCK_HZ, UART0_BASE};

/// The console's line settings.
pub const CONSOLE_CONFIG: Config = Config {
    baud_rate: 115_200,
    data_bits: ferrode_pl011::DataBits::Eight,
    parity: ferrode_pl011::Parity::None,
    stop_bits: ferrode_pl011::StopBits::One,
};

/// The UART0 driver type.
pub type Uart = Pl011<Mmio<'static>>;

/// A driver instance for UART0. Several may exist: polled writes only touch
/// UARTFR and UARTDR, and only the serial device's driver reads or
/// changes the interrupt mask.
pub(crate) fn uart0() -> Uart {
    // SAFETY: UART0_BASE is the PL011 UART0 on this board (DUI 0440,
    // table 4-1), a 4 KiB register block that nothing else maps.
    let registers = unsafe { VolatilePtr::new(NonNull::new_unchecked(UART0_BASE as *mut Regs)) };
    Pl011::new(Mmio::new(registers), UART_CLOCK_HZ)
}

/// Programs the console UART: 115200 8N1, FIFOs on, interrupts masked.
pub(crate) fn init() {
    // The baud rate is reachable from the 24 MHz UART clock; the table
    // tests of the divisor cover it, so an error here is impossible.
    let _ = uart0().configure(&CONSOLE_CONFIG);
}

/// Writes bytes to the console, waiting for FIFO space. Once
/// [`crate::devices::serial`] runs, the bytes go out after what its
/// transmit ring already holds, and interrupts are masked only for short
/// steps that never wait for the line (see `devices::write_console`).
pub(crate) fn write(bytes: &[u8]) {
    let taken = crate::devices::write_console(bytes);
    let mut uart = uart0();
    for &byte in &bytes[taken..] {
        while !uart.try_write_byte(byte) {
            core::hint::spin_loop();
        }
    }
}

/// Writes `bytes` to the console as they are: no label, no line state.
///
/// # Safety
///
/// The console is every component's, and its lines say who wrote them
/// (`ferrode_board::println!` labels a component's lines with its name,
/// the LOG server with the session's label). Raw bytes could pass for
/// another component's line, so only the image's own writers may call
/// this: the board's console and reports, and the defmt logger. A
/// component's safe code cannot:
///
/// ```compile_fail,E0133
/// realview_pbx_a9::console_write(b"[log] a line the LOG server never wrote\r\n");
/// ```
pub unsafe fn console_write(bytes: &[u8]) {
    write(bytes);
}
