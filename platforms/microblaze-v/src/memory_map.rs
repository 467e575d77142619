//! The FPGA design: base addresses, interrupt inputs, clocks and synthesis
//! options of every peripheral Ferrode drives on MicroBlaze V.
//!
//! These values describe QEMU's `amd-microblaze-v-generic` machine
//! (hw/riscv/microblaze-v-generic.c), which mirrors a typical Vivado block
//! design. For another design, copy base addresses from Vivado's Address
//! Editor, interrupt inputs from the order of the AXI INTC's `intr` concat,
//! and the synthesis options from each IP's customisation dialog: this file
//! is the only one to change (see the platform README).

/// AXI UART Lite (the console and `devices::serial()`).
pub const UARTLITE_BASE: usize = 0x4060_0000;
/// UART Lite interrupt input at the AXI INTC (an edge-triggered input).
pub const UARTLITE_IRQ: u32 = 1;

/// AXI Interrupt Controller.
pub const INTC_BASE: usize = 0x4120_0000;
/// AXI INTC C_KIND_OF_INTR: bit n set means input n is edge-triggered.
/// QEMU's board sets only the UART Lite input.
pub const INTC_EDGE_TRIGGERED: u32 = 1 << UARTLITE_IRQ;
/// AXI INTC C_HAS_SIE / C_HAS_CIE (atomic set/clear-enable registers).
pub const INTC_HAS_SET_CLEAR_ENABLE: bool = true;

/// AXI Timer block 0: the monotonic clock (both counters, cascaded where
/// the core supports it).
pub const TIMER0_BASE: usize = 0x41c0_0000;
/// AXI Timer block 1: counter 0 the periodic tick, counter 1 the alarm.
pub const TIMER1_BASE: usize = 0x41c1_0000;
/// AXI Timer block 0 interrupt input at the AXI INTC (unused: the clock
/// raises no interrupts).
pub const TIMER0_IRQ: u32 = 0;
/// AXI Timer block 1 interrupt input at the AXI INTC (tick and alarm).
pub const TIMER1_IRQ: u32 = 6;
/// AXI Timer clock (the AXI bus clock, s_axi_aclk).
pub const TIMER_CLOCK_HZ: u32 = 100_000_000;

/// AXI GPIO driving the LEDs (not modelled by QEMU: its accesses appear in
/// the `-d unimp` log as device "gpio").
pub const GPIO_BASE: usize = 0x4000_0000;
/// AXI GPIO C_GPIO_WIDTH of channel 1 (the LEDs).
pub const GPIO_CHANNEL1_WIDTH: u8 = 8;
/// AXI GPIO C_IS_DUAL / C_GPIO2_WIDTH: `None` for a single-channel core.
pub const GPIO_CHANNEL2_WIDTH: Option<u8> = None;

/// AXI EthernetLite.
pub const EMACLITE_BASE: usize = 0x40e0_0000;
/// EthernetLite interrupt input at the AXI INTC.
pub const EMACLITE_IRQ: u32 = 5;
/// EthernetLite C_TX_PING_PONG (QEMU's board: no second buffer).
pub const EMACLITE_TX_PING_PONG: bool = false;
/// EthernetLite C_RX_PING_PONG (QEMU's board: no second buffer).
pub const EMACLITE_RX_PING_PONG: bool = false;
/// MDIO address of the PHY, or `None` without MDIO (QEMU models none).
pub const EMACLITE_PHY_ADDRESS: Option<u8> = None;
/// Station MAC address (locally administered; QEMU drops unicast frames
/// addressed elsewhere).
pub const EMACLITE_MAC_ADDRESS: [u8; 6] = [0x02, 0x00, 0x4d, 0x42, 0x56, 0x01];

/// AXI 1G/2.5G Ethernet subsystem (PG138): the MAC's registers (256 KiB
/// of register space). The design's Ethernet with the `axi-ethernet`
/// feature; its frames move through [`AXIDMA_BASE`].
pub const AXIENET_BASE: usize = 0x40c0_0000;
/// The AXI DMA (PG021, scatter-gather) between the AXI Ethernet's streams
/// and memory: MM2S (transmit) and S2MM (receive) channels.
pub const AXIDMA_BASE: usize = 0x41e0_0000;
/// The AXI DMA's S2MM (receive) interrupt input at the AXI INTC: the
/// design's Ethernet interrupt with the `axi-ethernet` feature.
pub const AXIDMA_RX_IRQ: u32 = 8;
/// MDIO address of the AXI Ethernet's PHY, or `None` without MDIO. QEMU
/// models a PHY at 7 (its `phyaddr` property's default).
pub const AXIENET_PHY_ADDRESS: Option<u8> = Some(7);
/// The MDIO clock divider: MDC = s_axi_lite_clk / ((1 + divider) * 2),
/// at most 2.5 MHz; 29 gives 1.67 MHz from the 100 MHz AXI clock.
pub const AXIENET_MDIO_CLOCK_DIVIDER: u8 = 29;
/// Station MAC address of the AXI Ethernet (the EthernetLite's: the
/// design has one or the other).
pub const AXIENET_MAC_ADDRESS: [u8; 6] = EMACLITE_MAC_ADDRESS;

/// AXI 16550 UART (second serial port; register offset 0x1000, stride 4).
pub const UART16550_BASE: usize = 0x44a1_1000;
/// AXI 16550 interrupt input at the AXI INTC.
pub const UART16550_IRQ: u32 = 4;
/// The AXI 16550's clock (s_axi_aclk), 100 MHz like the rest of the AXI
/// interconnect of QEMU's board; its baud divisor is derived from it.
pub const UART16550_CLOCK_HZ: u32 = 100_000_000;

/// An address whose word load the hardware refuses, for the fault-report
/// test: nothing is decoded at 0xe000_0000, so the AXI interconnect answers
/// with a decode error (a load access fault).
pub const FAULTING_LOAD_ADDRESS: usize = 0xe000_0000;

/// The design's Ethernet MAC, the device "ethernet": the AXI EthernetLite.
#[cfg(not(feature = "axi-ethernet"))]
const ETHERNET_WINDOW: ferrode_hal::DeviceWindow = ferrode_hal::DeviceWindow {
    name: "ethernet",
    base: EMACLITE_BASE,
    size: 0x1_0000,
    irq: Some(EMACLITE_IRQ),
};
/// The design's Ethernet MAC, the device "ethernet": the AXI Ethernet's
/// registers, and its AXI DMA's receive interrupt. The platform reaches
/// the DMA's registers for the holder of this window: MAC and DMA are one
/// device (`devices::ethernet_port`).
#[cfg(feature = "axi-ethernet")]
const ETHERNET_WINDOW: ferrode_hal::DeviceWindow = ferrode_hal::DeviceWindow {
    name: "ethernet",
    base: AXIENET_BASE,
    size: 0x4_0000,
    irq: Some(AXIDMA_RX_IRQ),
};

/// The devices a composition may grant to driver components, by name: an
/// IO_MEM session for `name` gets the register window, an IRQ session the
/// interrupt input. Core services (clock, tick, alarm) are not listed: the
/// kernel and core own them.
pub const DEVICES: &[ferrode_hal::DeviceWindow] = &[
    // QEMU wires no GPIO interrupt (the block is not modelled); a design
    // that connects IP2INTC_Irpt names its INTC input here.
    ferrode_hal::DeviceWindow { name: "gpio", base: GPIO_BASE, size: 0x1_0000, irq: None },
    ETHERNET_WINDOW,
    ferrode_hal::DeviceWindow {
        name: "uart16550",
        base: UART16550_BASE - 0x1000,
        size: 0x2000,
        irq: Some(UART16550_IRQ),
    },
    // The console UART, shared with LOG and the console: its window is
    // what the Terminal driver component shows the platform
    // (`devices::terminal_port`), its interrupt what the component's IRQ
    // session delivers (console output does not need the interrupt).
    ferrode_hal::DeviceWindow {
        name: "console-uart",
        base: UARTLITE_BASE,
        size: 0x1_0000,
        irq: Some(UARTLITE_IRQ),
    },
];
