//! ARMv7-A support for Ferrode: the only place that speaks Cortex-A9.
//!
//! The boot code, the exception vectors, semihosting, the PMU counter and the
//! context switch live here behind `cfg(target_arch = "arm")`; the pure parts
//! (fault decoding, semihosting argument blocks) build and test on the host.
//!
//! # Link-time contract
//! The boot code (`_start`) sets up the stacks of every CPU mode Ferrode uses,
//! installs the vector table through VBAR, zeroes `.bss`, copies `.data` and
//! calls `ferrode_platform_start`, which the board's platform crate defines.
//! A fault calls `ferrode_fault` (defined by `ferrode-board`) with a [`Fault`],
//! the stack pointer at the fault and whether it interrupted thread code
//! (which the board may end alone, moving it with [`land`]),
//! an IRQ calls `ferrode_irq`.
//!
//! # What safe code may do
//! Every component of an image runs in this one address space at this one
//! privilege level: what keeps components apart is Rust's type system and
//! the kernel's capabilities. So the operations here that reach past both
//! are `unsafe`, and their Safety sections name their one caller: raw
//! loads, stores and jumps (the fault tests'), making code writable (the
//! debugger's), setting up memory protection (the platform's boot),
//! ending the image (the board's end path; a component ends through its
//! parent), and moving a thread to another stack or resuming it from a
//! trap frame (the board's panic and fault paths).
//! A component's safe code cannot call them:
//!
//! ```compile_fail,E0133
//! ferrode_arch_armv7a::store_word(0x1000, 0);
//! ```
//! ```compile_fail,E0133
//! ferrode_arch_armv7a::load_word(0x1000);
//! ```
//! ```compile_fail,E0133
//! ferrode_arch_armv7a::jump_to(0x1000);
//! ```
//! ```compile_fail,E0133
//! ferrode_arch_armv7a::writable_code(|| ());
//! ```
//! ```compile_fail,E0133
//! ferrode_arch_armv7a::exit(0);
//! ```
//! ```compile_fail,E0133
//! extern "C" fn entry(_: usize) -> ! { loop {} }
//! ferrode_arch_armv7a::land(0x1000, entry, 0);
//! ```
//! ```compile_fail,E0133
//! ferrode_arch_armv7a::resume_trap_frame(0x1000);
//! ```
#![cfg_attr(not(test), no_std)]

pub mod debug;
pub mod fault;
mod ipc;
pub mod mmu;
pub use ferrode_semihosting as semihosting;

#[cfg(target_arch = "arm")]
mod asm;
#[cfg(target_arch = "arm")]
mod cpu;

#[cfg(all(target_arch = "arm", feature = "debug"))]
pub use asm::fault_frame;
#[cfg(target_arch = "arm")]
pub use cpu::*;

pub use fault::{Fault, FaultKind};
pub use mmu::StackGuard;

/// Arm's thread control block, two words at the thread pointer, before a
/// thread's TLS segment (the ELF TLS ABI's variant 1 for Arm).
pub const TLS_CONTROL_BLOCK: usize = 8;

/// Name of the architecture, for reports.
pub const ARCH_NAME: &str = "armv7a";

/// Host stand-ins so that crates depending on this one still build and test
/// on the development machine.
#[cfg(not(target_arch = "arm"))]
mod host;
#[cfg(not(target_arch = "arm"))]
pub use host::*;
