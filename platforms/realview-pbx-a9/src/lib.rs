//! The ARM RealView PBX-A9 board: the one place that knows its addresses.
//!
//! Memory map, interrupt IDs and clock rates come from the RealView Platform
//! Baseboard for Cortex-A9 user guide (ARM DUI 0440) and match QEMU's
//! `realview-pbx-a9` machine. Boot: `_start` (in `ferrode-arch-armv7a`)
//! calls [`ferrode_platform_start`], which brings up the console and runs
//! the application.
#![no_std]

pub use ferrode_arch_armv7a as arch;

pub mod console;
pub mod memory_map;

/// The board's name as users type it (`cargo xtask run --board ...`).
pub const BOARD_NAME: &str = "realview-pbx-a9";

pub use console::console_write;

/// Entered from `_start` with stacks, `.bss` and `.data` ready.
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

/// IRQ entry from the vector code. Until an interrupt controller driver is
/// installed, an interrupt is a fault.
#[unsafe(no_mangle)]
pub extern "C" fn ferrode_irq() {
    unsafe extern "Rust" {
        safe fn ferrode_fault(fault: &dyn core::fmt::Display) -> !;
    }
    ferrode_fault(&"unexpected IRQ: no interrupt controller driver installed")
}
