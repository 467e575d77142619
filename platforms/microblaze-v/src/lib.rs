//! AMD MicroBlaze V designs: the one place that knows their addresses.
//!
//! The memory map matches QEMU's `amd-microblaze-v-generic` machine, which
//! mirrors a typical Vivado design; a different FPGA design changes only
//! [`memory_map`]. Boot: `_start` (in `ferrode-arch-riscv32`) calls
//! [`ferrode_platform_start`], which brings up the console and runs the
//! application.
#![no_std]

pub use ferrode_arch_riscv32 as arch;

pub mod console;
pub mod memory_map;

/// The board's name as users type it (`cargo xtask run --board ...`).
pub const BOARD_NAME: &str = "microblaze-v";

pub use console::console_write;

/// Entered from `_start` with `sp`, `gp`, `.bss` and `.data` ready.
#[unsafe(no_mangle)]
pub extern "C" fn ferrode_platform_start() -> ! {
    console::init();
    unsafe extern "Rust" {
        // Defined by the application through `ferrode_board::entry!`.
        safe fn ferrode_app_main() -> u32;
    }
    let status = ferrode_app_main();
    arch::exit(status)
}

/// Interrupt entry from the trap vector. Until an interrupt controller
/// driver is installed, an interrupt is a fault.
#[unsafe(no_mangle)]
pub extern "C" fn ferrode_irq() {
    unsafe extern "Rust" {
        safe fn ferrode_fault(fault: &dyn core::fmt::Display) -> !;
    }
    ferrode_fault(&"unexpected interrupt: no interrupt controller driver installed")
}
