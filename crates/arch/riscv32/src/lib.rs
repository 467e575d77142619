//! RV32 support for Ferrode: the only place that speaks RISC-V (MicroBlaze V).
//!
//! The boot code, the trap vector, semihosting, `minstret` and the context
//! switch live here behind `cfg(target_arch = "riscv32")`; the pure parts
//! (trap decoding, semihosting argument blocks) build and test on the host.
//! Everything runs in machine mode: MicroBlaze V has no lower privilege
//! levels configured in the designs Ferrode targets, and one image is one
//! trust domain.
//!
//! # Link-time contract
//! `_start` loads `sp` and `gp` before any Rust code, points `mtvec` at the
//! trap vector, zeroes `.bss`, copies `.data` and calls
//! `ferrode_platform_start` (defined by the board's platform crate). A
//! synchronous exception calls `ferrode_fault` (defined by `ferrode-board`)
//! with a [`Fault`]; an interrupt calls `ferrode_irq`.
#![cfg_attr(not(test), no_std)]

pub mod debug;
pub mod fault;

mod ipc;
pub use ferrode_semihosting as semihosting;

#[cfg(target_arch = "riscv32")]
mod asm;
#[cfg(target_arch = "riscv32")]
mod cpu;
#[cfg(target_arch = "riscv32")]
pub use cpu::*;

#[cfg(not(target_arch = "riscv32"))]
mod host;
#[cfg(not(target_arch = "riscv32"))]
pub use host::*;

pub use fault::Fault;

/// What `ferrode-board` puts below each thread stack: nothing, as Ferrode
/// sets up no memory protection on RISC-V (no guard page; the kernel's
/// guard words at the bottom of each stack still catch an overflow at the
/// next switch or tick). Aligned as the calling convention aligns stacks.
#[repr(C, align(16))]
pub struct StackGuard;

impl StackGuard {
    /// The (empty) guard.
    pub const fn new() -> Self {
        Self
    }
}

impl Default for StackGuard {
    fn default() -> Self {
        Self::new()
    }
}

/// Name of the architecture, for reports.
pub const ARCH_NAME: &str = "riscv32";
