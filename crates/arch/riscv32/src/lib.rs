//! RV32 support for Ferrode: the only place that speaks RISC-V (MicroBlaze V).
//!
//! The boot code, the trap vector, semihosting, `minstret` and the context
//! switch live here behind `cfg(target_arch = "riscv32")`; the pure parts
//! (trap decoding, semihosting argument blocks) build and test on the host.
//! Everything runs in machine mode: MicroBlaze V has no lower privilege
//! levels configured in the designs Ferrode targets.
//!
//! # Link-time contract
//! `_start` loads `sp` and `gp` before any Rust code, points `mtvec` at the
//! trap vector, zeroes `.bss`, copies `.data` and calls
//! `ferrode_platform_start` (defined by the board's platform crate). A
//! synchronous exception calls `ferrode_fault` (defined by `ferrode-board`)
//! with a [`Fault`], the stack pointer at the fault and whether it
//! interrupted thread code (which the board may end alone, moving it with
//! [`land`]); an interrupt calls `ferrode_irq`.
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
//! ferrode_arch_riscv32::store_word(0x1000, 0);
//! ```
//! ```compile_fail,E0133
//! ferrode_arch_riscv32::load_word(0x1000);
//! ```
//! ```compile_fail,E0133
//! ferrode_arch_riscv32::jump_to(0x1000);
//! ```
//! ```compile_fail,E0133
//! ferrode_arch_riscv32::writable_code(|| ());
//! ```
//! ```compile_fail,E0133
//! ferrode_arch_riscv32::exit(0);
//! ```
//! ```compile_fail,E0133
//! extern "C" fn entry(_: usize) -> ! { loop {} }
//! ferrode_arch_riscv32::land(0x1000, entry, 0);
//! ```
//! ```compile_fail,E0133
//! ferrode_arch_riscv32::resume_trap_frame(0x1000);
//! ```
//!
//! ```compile_fail,E0133
//! use ferrode_arch_riscv32::pmp::{Image, Plan, apply};
//! let plan = Plan::new(&Image { start: 0, ranges: &[] }, &[], 16, 4).unwrap();
//! apply(&plan, &[]);
//! ```
#![cfg_attr(not(test), no_std)]

pub mod debug;
pub mod fault;
pub mod pmp;

mod ipc;
pub use ferrode_semihosting as semihosting;

#[cfg(target_arch = "riscv32")]
mod asm;
#[cfg(target_arch = "riscv32")]
mod cpu;
#[cfg(all(target_arch = "riscv32", feature = "debug"))]
pub use asm::fault_frame;
#[cfg(target_arch = "riscv32")]
pub use cpu::*;

#[cfg(not(target_arch = "riscv32"))]
mod host;
#[cfg(not(target_arch = "riscv32"))]
pub use host::*;

pub use fault::Fault;

/// Whether a load from `address` is allowed: anywhere but in a guard the
/// platform locked with PMP (the fault report asks before it scans a
/// stack; an address without memory still faults).
pub fn is_readable(address: usize) -> bool {
    !pmp::in_guard(address)
}

/// The bytes of a [`StackGuard`]: a region PMP can lock on its own (a
/// power of two, aligned to its size), larger than any frame Ferrode's
/// code makes. A whole 4 KiB page, as on PBX-A9: an emulator that keeps
/// PMP decisions per page (QEMU does) checks every access to a page that
/// a smaller guard shares with a stack, which slows the image's busiest
/// memory many times over.
pub const STACK_GUARD: usize = 4096;

/// What `ferrode-board` puts below each thread stack: a region the
/// platform locks with PMP ([`pmp`]), so that a thread that runs off its
/// stack faults at its first access there. Where the hart has no PMP (or
/// too few entries) it is only memory, and the kernel's guard words at the
/// bottom of each stack still catch the overflow at the next switch or
/// tick.
#[repr(C, align(4096))]
pub struct StackGuard([u8; STACK_GUARD]);

impl StackGuard {
    /// A guard (zeroes to Rust; the boot code leaves its memory as it
    /// finds it, as nothing reads or writes it).
    pub const fn new() -> Self {
        Self([0; STACK_GUARD])
    }
}

impl Default for StackGuard {
    fn default() -> Self {
        Self::new()
    }
}

/// RISC-V has no thread control block: the thread pointer is at the TLS
/// segment itself.
pub const TLS_CONTROL_BLOCK: usize = 0;

/// Name of the architecture, for reports.
pub const ARCH_NAME: &str = "riscv32";
