//! Base addresses, interrupt inputs and clocks of the MicroBlaze V design.
//!
//! These are the addresses of QEMU's `amd-microblaze-v-generic` machine
//! (hw/riscv/microblaze-v-generic.c). For another FPGA design, copy the
//! values from Vivado's address editor and the AXI INTC's input order.

/// AXI UART Lite (the console).
pub const UARTLITE_BASE: usize = 0x4060_0000;
/// UART Lite interrupt input at the AXI INTC (an edge-triggered input).
pub const UARTLITE_IRQ: u32 = 1;

/// AXI Interrupt Controller.
pub const INTC_BASE: usize = 0x4120_0000;

/// AXI Timer 0 (the monotonic clock, cascaded 64-bit).
pub const TIMER0_BASE: usize = 0x41c0_0000;
/// AXI Timer 1 (tick and alarms).
pub const TIMER1_BASE: usize = 0x41c1_0000;
/// AXI Timer 0 interrupt input at the AXI INTC.
pub const TIMER0_IRQ: u32 = 0;
/// AXI Timer 1 interrupt input at the AXI INTC.
pub const TIMER1_IRQ: u32 = 6;
/// AXI Timer clock (the AXI bus clock).
pub const TIMER_CLOCK_HZ: u32 = 100_000_000;

/// AXI GPIO blocks (not modelled by QEMU: accesses appear in `-d unimp`).
pub const GPIO_BASE: usize = 0x4000_0000;

/// AXI EthernetLite.
pub const EMACLITE_BASE: usize = 0x40e0_0000;
/// EthernetLite interrupt input at the AXI INTC.
pub const EMACLITE_IRQ: u32 = 5;

/// AXI 16550 UART (second serial port; register offset 0x1000, stride 4).
pub const UART16550_BASE: usize = 0x44a1_1000;
/// AXI 16550 interrupt input at the AXI INTC.
pub const UART16550_IRQ: u32 = 4;

/// An address whose word load the hardware refuses, for the fault-report
/// test: nothing is decoded at 0xe000_0000, so the AXI interconnect answers
/// with a decode error (a load access fault).
pub const FAULTING_LOAD_ADDRESS: usize = 0xe000_0000;
