//! The ARM RealView PBX-A9 board: the one place that knows its addresses.
//!
//! Memory map, interrupt IDs and clock rates come from the RealView Platform
//! Baseboard for Cortex-A9 user guide (ARM DUI 0440) and match QEMU's
//! `realview-pbx-a9` machine. Boot: `_start` (in `ferrode-arch-armv7a`)
//! calls [`ferrode_platform_start`], which brings up the console (PL011),
//! turns on the MMU and the L1 caches ([`mmu`]), then the L2 cache
//! ([`cache`], unless a boot loader's map was kept, which comes with the
//! loader's cache set-up), brings up the GIC and the SP804 clock, unmasks
//! IRQs and runs the application.
//!
//! # Platform contract
//!
//! What every Ferrode platform crate offers applications, under the same
//! names, so that one application source runs on every board (the
//! MicroBlaze V platform mirrors this list):
//!
//! | name | what |
//! |---|---|
//! | `BOARD_NAME`, `memory_map`, `console_write`, `console_try_write`, `ferrode_platform_start`, `ferrode_irq` | boot and console (see the README) |
//! | `devices::ethernet() -> Result<devices::Ethernet, devices::EthernetError>` | the NIC as a `ferrode_hal::EthernetDevice`, receive interrupt-driven; first call resets and starts it |
//! | `devices::clock() -> devices::Clock` | `ferrode_hal::Monotonic` since boot (+ `embedded_hal::delay::DelayNs`) |
//! | `devices::alarm() -> devices::OneShotAlarm` | `ferrode_hal::Alarm` in clock ticks; its interrupt wakes `irq::wait_for_event` |
//! | `devices::serial() -> devices::Serial` | the console UART as `embedded_io::{Read, ReadReady, Write, WriteReady}`, interrupt-driven reception and transmission through ring buffers; `Serial::lost_bytes()` |
//! | `irq::register(id, fn()) -> Result<(), irq::Error>`, `irq::unregister(id)` | a handler per interrupt ID, enabled at the interrupt controller |
//! | `irq::event_count() -> u32`, `irq::wait_for_event(since)` | sleep until an interrupt was handled since `event_count()` returned `since` (race-free) |
//! | `irq::spurious_count()`, `irq::unhandled_count()` | spurious and handler-less interrupts seen (PBX-A9 also `irq::storm_count()`: IRQ exceptions that used their whole dispatch budget on one source) |
//! | `irq::set_exit_hook(fn())` | run at the end of every interrupt, after end-of-interrupt (the kernel switches threads there) |
//! | `tick::TICK_HZ`, `tick::set_handler(fn())` | a periodic interrupt at `TICK_HZ` calling the handler (the kernel's time slice) |
//!
//! Board extras: `devices::rtc()` (PL031 real-time clock with match alarm),
//! `devices::gpio()` (PL061 GPIO 0), `devices::private_timer()` (the
//! Cortex-A9 private timer, PPI 29).
//!
//! Handles are cheap copies; every handle of a kind drives the same device.
//! State shared between an interrupt handler and the application lives in
//! statics reached only with interrupts masked (`shared::Shared`).
#![no_std]

pub use ferrode_arch_armv7a as arch;

pub mod cache;
pub mod console;
pub mod devices;
pub mod irq;
pub mod memory_map;
pub mod mmu;
pub mod shared;
pub mod tick;

/// The board's name as users type it (`cargo xtask run --board ...`).
pub const BOARD_NAME: &str = "realview-pbx-a9";

pub use console::{console_try_write, console_write};

/// Entered from `_start` with stacks, `.bss` and `.data` ready.
#[unsafe(no_mangle)]
pub extern "C" fn ferrode_platform_start() -> ! {
    console::init();
    if mmu::init() {
        cache::init();
    }
    irq::init();
    devices::init_timer();
    arch::enable_interrupts();
    unsafe extern "Rust" {
        // Defined by the application through `ferrode_board::entry!`.
        safe fn ferrode_app_main() -> u32;
    }
    let status = ferrode_app_main();
    // SAFETY: the application's main returned: the image is done.
    unsafe { arch::exit(status) }
}

/// IRQ entry from the vector code (interrupts masked, SVC mode, on the
/// interrupted thread's stack): dispatch through the GIC.
#[unsafe(no_mangle)]
pub extern "C" fn ferrode_irq() {
    irq::dispatch();
    irq::run_exit_hook();
}
