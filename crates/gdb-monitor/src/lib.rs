//! The GDB remote serial protocol for Ferrode's in-image GDB monitor.
//!
//! Genode 11.05 shipped a GDB monitor component: GDB attaches over TCP
//! (port 8181) to a running image and inspects its components' threads
//! and memory. This crate is the protocol half of Ferrode's, free of any
//! board: [`packet`] frames packets (`$data#cs`, checksums, `}` escapes,
//! the interrupt byte), [`Monitor`] answers them from a [`Target`] (the
//! image side: threads, registers of stopped threads, checked memory
//! access) and writes the replies into a bounded buffer the caller sends.
//!
//! # What it answers
//!
//! All-stop mode, one connection at a time, with acknowledgements:
//! `qSupported` (`PacketSize`, the target description through
//! `qXfer:features:read`), `qAttached`, `qC`, `qfThreadInfo` /
//! `qsThreadInfo`, `qThreadExtraInfo` (`component:thread`), `H`, `T`, `?`,
//! `g`, `p`, `m` (at most [`MAX_READ`] bytes), `M`, `X`, `Z0`/`z0`
//! (software breakpoints: the CPU's breakpoint instruction written over
//! the code through [`Target::insert_breakpoint`], which may allow it
//! where other writes are refused, the original kept and put back; a
//! thread that hits one is reported by [`Target::stopped_thread`] with
//! `T05`), `c`, `vCont?` / `vCont`
//! (`c`, per thread or all), the interrupt byte, `D` and `k` (both detach:
//! the debugger never ends the image). Anything else gets the empty reply
//! ("not supported"); `s` too, since `vCont?` does not offer it and GDB
//! steps in software on both CPUs.
//!
//! # What it refuses, harmlessly
//!
//! A packet with a wrong checksum or more than [`MAX_PACKET`] data bytes
//! is answered `-` and dropped; bytes outside packets are ignored;
//! arguments that do not parse are `E01`; memory the target refuses
//! (outside the image, or the kernel's own) is `E0e`; an unknown thread
//! is `E02`; a breakpoint beyond [`MAX_BREAKPOINTS`] is `E1c`, and one
//! over part of another `E10`.
#![cfg_attr(not(test), no_std)]

pub mod hex;
mod monitor;
pub mod packet;
mod target;

pub use monitor::{MAX_BREAKPOINTS, MAX_READ, MAX_THREADS, Monitor, SIGTRAP};
pub use packet::MAX_PACKET;
pub use target::{
    ARM_BREAKPOINT, Architecture, RISCV_BREAKPOINT, RISCV_COMPRESSED_BREAKPOINT, THUMB_BREAKPOINT,
    Target, TargetError,
};

#[cfg(test)]
mod tests;
