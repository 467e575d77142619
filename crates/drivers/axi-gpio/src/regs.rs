//! AXI GPIO register block (PG144, "Register Space") and access to it.

use ferrode_hal::mmio::register_bitfields;
use volatile::VolatileFieldAccess;
use volatile::access::NoAccess;

/// The AXI GPIO registers at their PG144 offsets.
#[repr(C)]
#[derive(VolatileFieldAccess)]
pub struct Regs {
    /// GPIO_DATA: channel 1 data (inputs read, outputs written).
    pub gpio_data: u32,
    /// GPIO_TRI: channel 1 3-state control, 1 = input, 0 = output.
    pub gpio_tri: u32,
    /// GPIO2_DATA: channel 2 data (dual-channel cores only).
    pub gpio2_data: u32,
    /// GPIO2_TRI: channel 2 3-state control.
    pub gpio2_tri: u32,
    /// Reserved.
    #[access(NoAccess)]
    _reserved0: [u32; 67],
    /// GIER, Global Interrupt Enable Register: bit 31.
    pub gier: u32,
    /// IP ISR, IP Interrupt Status Register: bit 0 channel 1, bit 1
    /// channel 2; writing 1 toggles a bit (so write back exactly the bits
    /// read as 1 to clear them).
    pub ip_isr: u32,
    /// Reserved.
    #[access(NoAccess)]
    _reserved1: u32,
    /// IP IER, IP Interrupt Enable Register: bit 0 channel 1, bit 1 channel 2.
    pub ip_ier: u32,
}

ferrode_hal::register_names! {
    block Regs;
    /// One register of the block, at its PG144 offset (as QEMU's `-d unimp`
    /// log prints it).
    pub enum Register {
        /// GPIO_DATA.
        GpioData => gpio_data @ 0x000,
        /// GPIO_TRI.
        GpioTri => gpio_tri @ 0x004,
        /// GPIO2_DATA.
        Gpio2Data => gpio2_data @ 0x008,
        /// GPIO2_TRI.
        Gpio2Tri => gpio2_tri @ 0x00C,
        /// GIER.
        Gier => gier @ 0x11C,
        /// IP ISR.
        IpIsr => ip_isr @ 0x120,
        /// IP IER.
        IpIer => ip_ier @ 0x128,
    }
}

/// The memory-mapped block: the bus on hardware.
pub type Mmio<'a> = ferrode_hal::mmio::Mmio<'a, Regs>;

register_bitfields![u32,
    /// GIER, Global Interrupt Enable Register (PG144).
    pub(crate) GIER [
        /// Global Interrupt Enable: the core's interrupt output is enabled.
        GLOBAL_INTERRUPT_ENABLE OFFSET(31) NUMBITS(1) [],
    ],
    /// IP IER and IP ISR, IP Interrupt Enable and Status Registers (PG144):
    /// one bit per channel. Writing 1 to an IP ISR bit toggles it.
    pub(crate) IP_INTERRUPT [
        /// Channel 1 Interrupt Enable / Status.
        CHANNEL_1 OFFSET(0) NUMBITS(1) [],
        /// Channel 2 Interrupt Enable / Status (C_IS_DUAL = 1).
        CHANNEL_2 OFFSET(1) NUMBITS(1) [],
    ],
];

ferrode_hal::registers! {
    /// Typed access to the AXI GPIO's registers, for every bus of
    /// [`Register`] ([`Mmio`] on hardware, a model in tests).
    pub trait Registers for Register {
        /// GPIO_DATA.
        fn gpio_data() -> ReadWrite = Register::GpioData;
        /// GPIO_TRI: 1 = input.
        fn gpio_tri() -> ReadWrite = Register::GpioTri;
        /// GPIO2_DATA.
        fn gpio2_data() -> ReadWrite = Register::Gpio2Data;
        /// GPIO2_TRI.
        fn gpio2_tri() -> ReadWrite = Register::Gpio2Tri;
        /// GIER.
        fn gier() -> ReadWrite<GIER::Register> = Register::Gier;
        /// IP ISR: write 1 to toggle (clear) a bit.
        fn ip_isr() -> ReadWrite<IP_INTERRUPT::Register> = Register::IpIsr;
        /// IP IER.
        fn ip_ier() -> ReadWrite<IP_INTERRUPT::Register> = Register::IpIer;
    }
}
