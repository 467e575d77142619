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
//! A fault calls `ferrode_fault` (defined by `ferrode-board`) with a [`Fault`]
//! and the stack pointer at the fault,
//! an IRQ calls `ferrode_irq`.
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
