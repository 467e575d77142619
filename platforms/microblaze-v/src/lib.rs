//! AMD MicroBlaze V designs: the one place that knows their addresses.
//!
//! The memory map matches QEMU's `amd-microblaze-v-generic` machine, which
//! mirrors a typical Vivado design; a different FPGA design changes only
//! [`memory_map`] (see this crate's README). Boot: `_start` (in
//! `ferrode-arch-riscv32`) calls [`ferrode_platform_start`], which brings up
//! the console on the AXI UART Lite (receive interrupt on), locks the
//! image's memory protection into the PMP entries ([`pmp`]), the AXI INTC,
//! the clock, tick and alarm on the two AXI Timer blocks, turns interrupts
//! on, and runs the application. The Ethernet MAC and the AXI GPIO are
//! taken over on first use ([`devices::ethernet`], [`devices::gpio`]). The
//! design's Ethernet is the AXI EthernetLite, or with the feature
//! `axi-ethernet` the AXI 1G/2.5G Ethernet subsystem with its AXI DMA.
//!
//! # Platform contract
//! The same names and meanings as the RealView PBX-A9 platform (whose crate
//! docs hold the reference table), so one application source runs on both:
//! - `BOARD_NAME`, [`memory_map`], [`console_write`], [`console_try_write`],
//!   [`ferrode_platform_start`], [`ferrode_irq`]: boot and console;
//! - [`devices::ethernet`] `-> Result<devices::Ethernet, devices::EthernetError>`:
//!   the design's Ethernet MAC (EthernetLite, or AXI Ethernet with its
//!   DMA) as a [`ferrode_hal::EthernetDevice`], receive interrupt-driven;
//!   the first call takes it over;
//! - [`devices::clock`] `-> devices::Clock`: [`ferrode_hal::Monotonic`]
//!   since boot (100 MHz here) and `embedded_hal::delay::DelayNs`;
//! - [`devices::alarm`] `-> devices::OneShotAlarm`: [`ferrode_hal::Alarm`]
//!   in clock ticks; its interrupt wakes [`irq::wait_for_event`];
//! - [`devices::serial`] `-> devices::Serial`: the UART Lite as
//!   `embedded_io::{Read, ReadReady, Write, WriteReady}`, receive
//!   interrupt-driven into a ring; `Serial::lost_bytes()`;
//! - [`irq::register`]`(id, fn())`, [`irq::unregister`]: a handler per
//!   AXI INTC input, enabled on registration;
//! - [`irq::event_count`], [`irq::wait_for_event`]`(since)`: race-free
//!   sleep until an interrupt was handled;
//! - [`irq::spurious_count`], [`irq::unhandled_count`];
//! - [`irq::set_exit_hook`]`(fn())`: run at the end of every interrupt,
//!   after the controller is acknowledged (the kernel switches threads
//!   there);
//! - [`tick::TICK_HZ`], [`tick::set_handler`]`(fn())`: the periodic tick
//!   calling the handler (the kernel's time slice).
//!
//! Board extras: [`devices::gpio`] (the LED block, every call one critical
//! section), [`devices::uart16550`] (the AXI UART 16550, second serial
//! port), [`timer::ticks`], [`irq::in_interrupt`]. Handles are cheap copies; state shared with
//! interrupt handlers lives in [`shared::IrqShared`] cells, reached only
//! with interrupts masked.
#![no_std]

pub use ferrode_arch_riscv32 as arch;

pub mod console;
pub mod devices;
pub mod irq;
pub mod memory_map;
mod mmio;
pub mod pmp;
pub mod shared;
pub mod timer;

/// The periodic tick, under the platform contract's names.
pub mod tick {
    pub use crate::timer::{TICK_HZ, set_tick_handler as set_handler};
}

/// The board's name as users type it (`cargo xtask run --board ...`).
pub const BOARD_NAME: &str = "microblaze-v";

pub use console::{console_try_write, console_write};

/// Entered from `_start` with `sp`, `gp`, `.bss` and `.data` ready.
#[unsafe(no_mangle)]
pub extern "C" fn ferrode_platform_start() -> ! {
    console::init();
    pmp::init();
    irq::init();
    timer::init();
    arch::enable_interrupts();
    unsafe extern "Rust" {
        // Defined by the application through `ferrode_board::entry!`.
        safe fn ferrode_app_main() -> u32;
    }
    let status = ferrode_app_main();
    // SAFETY: the application's main returned: the image is done.
    unsafe { arch::exit(status) }
}

/// Machine external interrupt from the trap vector: the AXI INTC output.
#[unsafe(no_mangle)]
pub extern "C" fn ferrode_irq() {
    irq::dispatch();
    irq::run_exit_hook();
}
