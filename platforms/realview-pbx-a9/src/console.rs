//! The console on PL011 UART0, through the `ferrode-pl011` driver.
//!
//! Writes are polled (they work before interrupts are on and from inside
//! fault reports); once [`crate::devices::serial`] runs they are ordered
//! after its transmit ring. [`console_try_write`] never waits: the board's
//! console queues its lines and hands them over in steps with it.
//! Reception is interrupt-driven, see there.

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

/// Writes bytes to the console, waiting for FIFO space: [`try_write`]
/// until it took them all. Once [`crate::devices::serial`] runs, the bytes
/// go out after what its transmit ring already holds, and interrupts are
/// masked only for short steps that never wait for the line.
pub(crate) fn write(bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        rest = rest.get(try_write(rest)..).unwrap_or_default();
        if !rest.is_empty() {
            core::hint::spin_loop();
        }
    }
}

/// Writes as many of `bytes` to the console as the UART takes now, without
/// waiting (after what the serial port's transmit ring holds, once
/// [`crate::devices::serial`] runs); returns how many.
pub(crate) fn try_write(bytes: &[u8]) -> usize {
    crate::devices::try_write_console(bytes).unwrap_or_else(|| {
        let mut uart = uart0();
        bytes.iter().take_while(|&&byte| uart.try_write_byte(byte)).count()
    })
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

/// Writes as many of `bytes` to the console as the UART takes now, as
/// they are, without waiting for the line; returns how many. For a console
/// that keeps its bytes until the UART takes them (the board's), in steps
/// it takes with interrupts masked: a step polls the UART's flags a few
/// times per FIFO entry.
///
/// # Safety
///
/// As [`console_write`]: only the image's own writers may call this. A
/// component's safe code cannot:
///
/// ```compile_fail,E0133
/// realview_pbx_a9::console_try_write(b"[log] a line the LOG server never wrote\r\n");
/// ```
pub unsafe fn console_try_write(bytes: &[u8]) -> usize {
    try_write(bytes)
}
