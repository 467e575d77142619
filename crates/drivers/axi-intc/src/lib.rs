//! AMD/Xilinx AXI Interrupt Controller (PG099) driver.
//!
//! The AXI INTC gathers up to 32 interrupt inputs onto one output; on
//! MicroBlaze V that output is the RISC-V machine external interrupt. The
//! platform hands [`AxiIntc::new`] the register block and a [`Config`]
//! stating the synthesis options (which inputs are edge-triggered, whether
//! SIE/CIE exist), enables the inputs it routes, and calls
//! [`AxiIntc::dispatch`] from its external-interrupt trap.
//!
//! Priority is by input number, as in PG099: input 0 is the most urgent.
#![no_std]

mod intc;
pub mod regs;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use intc::{AxiIntc, Config, Irq, MAX_DISPATCH, highest_priority};
pub use regs::{Mmio, Register, Registers, Regs};
