//! The console on the AXI UART Lite, through the `uartlite` driver:
//! polled transmit, interrupt-driven receive once [`enable_rx_interrupt`]
//! has run (the platform does it during bring-up).

use uartlite::{Mmio, UartLite};

use crate::memory_map::{UARTLITE_BASE, UARTLITE_IRQ};
use crate::shared::IrqShared;
use crate::{irq, mmio};

/// Bytes the receive ring holds between reads.
pub const RX_CAPACITY: usize = 256;

/// The console UART.
pub(crate) type ConsoleUart = UartLite<Mmio<'static>, RX_CAPACITY>;

pub(crate) static UART: IrqShared<ConsoleUart> = IrqShared::new();

fn registers() -> Mmio<'static> {
    // SAFETY: UARTLITE_BASE is the AXI UART Lite of this design
    // (memory_map), whose register block is `uartlite::Regs`.
    Mmio::new(unsafe { mmio::registers::<uartlite::Regs>(UARTLITE_BASE) })
}

/// Takes over the UART (polled) if nobody has yet.
pub fn init() {
    if UART.with(|_| ()).is_none() {
        UART.set(UartLite::new(registers()));
    }
}

/// Routes the UART's interrupt through the INTC so received bytes land in
/// the ring without anyone polling.
pub fn enable_rx_interrupt() {
    irq::set_handler(UARTLITE_IRQ, on_interrupt);
    UART.with(|uart| uart.enable_interrupt());
    irq::enable(UARTLITE_IRQ);
}

/// UART Lite interrupt: move the Rx FIFO into the ring. (QEMU raises this
/// input after every transmitted byte too; then nothing moves.)
fn on_interrupt() {
    UART.with(|uart| uart.on_interrupt());
}

/// Writes bytes to the console, waiting for FIFO space.
pub fn console_write(bytes: &[u8]) {
    init();
    let written = UART.try_with(|uart| {
        for &byte in bytes {
            uart.write_byte(byte);
        }
    });
    if written.is_none() {
        // The UART is in use further up this stack (a panic inside a
        // console call): write around the driver so the report still
        // appears.
        let regs = registers();
        for &byte in bytes {
            use uartlite::{Register, RegisterAccess};
            while regs.read(Register::StatReg) & uartlite::regs::STAT_TX_FIFO_FULL != 0 {}
            regs.write(Register::TxFifo, u32::from(byte));
        }
    }
}
