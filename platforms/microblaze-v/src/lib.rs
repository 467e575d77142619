//! AMD MicroBlaze V designs: the one place that knows their addresses.
//!
//! The memory map matches QEMU's `amd-microblaze-v-generic` machine, which
//! mirrors a typical Vivado design; a different FPGA design changes only
//! [`memory_map`] (see this crate's README). Boot: `_start` (in
//! `ferrode-arch-riscv32`) calls [`ferrode_platform_start`], which brings up
//! the AXI INTC, the console on the AXI UART Lite (receive interrupt on),
//! the clock, tick and alarm on the two AXI Timer blocks, turns interrupts
//! on, and runs the application. The EthernetLite and the AXI GPIO are
//! taken over on first use ([`devices::ethernet`], [`devices::gpio`]).
//!
//! # Platform contract
//! The names board-independent apps use, the same on every Ferrode board:
//! - [`devices::clock`]: a [`ferrode_hal::Monotonic`] clock (+ `DelayNs`),
//! - [`devices::alarm`]: a one-shot [`ferrode_hal::Alarm`] in clock ticks,
//! - [`devices::serial`]: the console UART as `embedded_io` traits,
//! - [`devices::ethernet`]: the NIC as a [`ferrode_hal::EthernetDevice`],
//! - [`irq`]: handler registration, enabling inputs, masking, and
//!   [`irq::wait_until`] to sleep without losing a wake-up.
//!
//! Board extras: [`devices::gpio`] (the LED block), [`timer::ticks`].
#![no_std]

pub use ferrode_arch_riscv32 as arch;

pub mod console;
pub mod devices;
pub mod irq;
pub mod memory_map;
mod mmio;
pub mod shared;
pub mod timer;

/// The board's name as users type it (`cargo xtask run --board ...`).
pub const BOARD_NAME: &str = "microblaze-v";

pub use console::console_write;

/// Entered from `_start` with `sp`, `gp`, `.bss` and `.data` ready.
#[unsafe(no_mangle)]
pub extern "C" fn ferrode_platform_start() -> ! {
    console::init();
    irq::init();
    timer::init();
    console::enable_rx_interrupt();
    irq::enable_interrupts();
    unsafe extern "Rust" {
        // Defined by the application through `ferrode_board::entry!`.
        safe fn ferrode_app_main() -> u32;
    }
    let status = ferrode_app_main();
    arch::exit(status)
}

/// Machine external interrupt from the trap vector: the AXI INTC output.
#[unsafe(no_mangle)]
pub extern "C" fn ferrode_irq() {
    irq::dispatch();
}
