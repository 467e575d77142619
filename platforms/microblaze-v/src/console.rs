//! The console on the AXI UART Lite, through the `uartlite` driver:
//! polled transmit, and interrupt-driven receive once
//! [`devices::serial`](crate::devices::serial) is first called (with the
//! platform's handler). The Terminal driver component reaches the same UART
//! through [`devices::terminal_port`](crate::devices::terminal_port), and
//! its interrupt through its IRQ session (no handler of the platform's);
//! console output never waits for the interrupt. [`console_try_write`]
//! never waits at all: the board's console queues its lines and hands them
//! over in steps with it.

use core::sync::atomic::{AtomicBool, Ordering};

use uartlite::{Mmio, UartLite};

use crate::memory_map::{UARTLITE_BASE, UARTLITE_IRQ};
use crate::shared::IrqShared;
use crate::{arch, irq, mmio};

/// Bytes the receive ring holds between reads.
pub const RX_CAPACITY: usize = 256;

/// The console UART.
pub(crate) type ConsoleUart = UartLite<Mmio<'static>, RX_CAPACITY>;

pub(crate) static UART: IrqShared<ConsoleUart> = IrqShared::new();
static RX_INTERRUPT_ON: AtomicBool = AtomicBool::new(false);

fn registers() -> Mmio<'static> {
    // SAFETY: UARTLITE_BASE is the AXI UART Lite of this design
    // (memory_map), whose register block is `uartlite::Regs`.
    Mmio::new(unsafe { mmio::registers::<uartlite::Regs>(UARTLITE_BASE) })
}

/// Takes over the UART (polled) if nobody has yet.
pub(crate) fn init() {
    arch::without_interrupts(|| {
        if UART.is_empty() {
            UART.set(UartLite::new(registers()));
        }
    });
}

/// Routes the UART's interrupt through the INTC to the platform's handler
/// so received bytes land in the ring without anyone polling (first call
/// only; for apps that use [`devices::serial`](crate::devices::serial)
/// directly).
pub(crate) fn enable_rx_interrupt() {
    enable_uart_interrupt();
    if !HANDLER.swap(true, Ordering::Relaxed) {
        // SAFETY: the console UART's interrupt, for the platform's own
        // receive ring (for an app that drives the UART itself).
        unsafe { irq::register(UARTLITE_IRQ, on_interrupt) }
            .expect("UART Lite input exists on the INTC");
    }
}

/// Whether the platform's handler is registered.
static HANDLER: AtomicBool = AtomicBool::new(false);

/// Turns on the UART's own interrupt output (first call only); who takes
/// the INTC input is the caller's business (the platform's handler, or
/// the Terminal driver component's IRQ session).
pub(crate) fn enable_uart_interrupt() {
    init();
    arch::without_interrupts(|| {
        if !RX_INTERRUPT_ON.load(Ordering::Relaxed) {
            RX_INTERRUPT_ON.store(true, Ordering::Relaxed);
            UART.with(|uart| uart.enable_interrupt());
        }
    });
}

/// UART Lite interrupt: move the Rx FIFO into the ring. (QEMU 10.0 raises
/// this input after every transmitted byte too; then nothing moves.)
/// Returns whether received bytes or a line error wait.
pub(crate) fn on_interrupt_work() -> bool {
    UART.with(|uart| {
        uart.on_interrupt();
        uart.rx_ready()
    }) == Some(true)
}

/// The platform's handler.
fn on_interrupt() {
    on_interrupt_work();
}

/// Writes bytes to the console, waiting for FIFO space: [`try_write`]
/// until it took them all. Interrupts are masked only while bytes go into
/// the FIFO (at most 16 at a time), never while waiting for the line: a
/// console line of 100 bytes takes 8.7 ms at 115200 baud, long enough to
/// lose received bytes, ticks and frames.
pub(crate) fn write(bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        rest = rest.get(try_write(rest)..).unwrap_or_default();
        if !rest.is_empty() {
            core::hint::spin_loop();
        }
    }
}

/// Writes as many of `bytes` to the console as the UART's FIFO takes now,
/// without waiting; returns how many.
pub(crate) fn try_write(bytes: &[u8]) -> usize {
    // The driver is in place from the platform's start on (`init`, its
    // first step).
    UART.try_with(|uart| uart.write_available(bytes)).unwrap_or_else(|| {
        // In use further up this stack (a report from inside a console
        // call), or not yet in place: around the driver, so the text
        // still appears.
        use ferrode_hal::RegisterAccess as _;
        use uartlite::Register;
        let regs = registers();
        bytes
            .iter()
            .take_while(|&&byte| {
                let room = regs.read(Register::StatReg) & uartlite::regs::STAT_TX_FIFO_FULL == 0;
                if room {
                    regs.write(Register::TxFifo, u32::from(byte));
                }
                room
            })
            .count()
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
/// microblaze_v::console_write(b"[log] a line the LOG server never wrote\r\n");
/// ```
pub unsafe fn console_write(bytes: &[u8]) {
    write(bytes);
}

/// Writes as many of `bytes` to the console as the UART takes now, as
/// they are, without waiting for the line; returns how many. For a console
/// that keeps its bytes until the UART takes them (the board's), in steps
/// it takes with interrupts masked: a step writes at most a FIFO's worth.
///
/// # Safety
///
/// As [`console_write`]: only the image's own writers may call this. A
/// component's safe code cannot:
///
/// ```compile_fail,E0133
/// microblaze_v::console_try_write(b"[log] a line the LOG server never wrote\r\n");
/// ```
pub unsafe fn console_try_write(bytes: &[u8]) -> usize {
    try_write(bytes)
}
