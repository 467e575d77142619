//! Physical addresses, interrupt IDs and clocks of the RealView PBX-A9.

/// PL011 UART0 (the console).
pub const UART0_BASE: usize = 0x1000_9000;
/// PL011 UART reference clock (UARTCLK), 24 MHz on the PBX board.
pub const UART_CLOCK_HZ: u32 = 24_000_000;
/// UART0 interrupt ID at the GIC.
pub const UART0_IRQ: u32 = 44;

/// SP810 system controller (SCCTRL selects each SP804 counter's clock).
pub const SYSCTRL_BASE: usize = 0x1000_1000;
/// REFCLK, the 32.768 kHz reference clock the SP804 counters count after
/// reset until the SP810 selects TIMCLK.
pub const REFERENCE_CLOCK_HZ: u32 = 32_768;

/// SP804 dual timer 0/1.
pub const TIMER01_BASE: usize = 0x1001_1000;
/// SP804 dual timer 2/3.
pub const TIMER23_BASE: usize = 0x1001_2000;
/// Interrupt ID of timers 0/1.
pub const TIMER01_IRQ: u32 = 36;
/// Interrupt ID of timers 2/3.
pub const TIMER23_IRQ: u32 = 37;
/// SP804 TIMCLK: 1 MHz on the PBX board, once the SP810 selects it for
/// every counter (`devices::timer::init`).
pub const TIMER_CLOCK_HZ: u32 = 1_000_000;

/// PL031 real-time clock.
pub const RTC_BASE: usize = 0x1001_7000;
/// PL031 interrupt ID at the GIC (SPI 10).
pub const RTC_IRQ: u32 = 42;
/// PL061 GPIO 0 (nothing on the board drives its pins).
pub const GPIO0_BASE: usize = 0x1001_3000;
/// PL061 GPIO 0 interrupt ID at the GIC (SPI 6).
pub const GPIO0_IRQ: u32 = 38;

/// The two-wire serial bus interface SBCon0: a bit-banged I2C master whose
/// bus carries the board's DS1338 real-time clock, at the part's fixed
/// address 0x68 (QEMU models both). It has no interrupt.
pub const I2C_BASE: usize = 0x1000_2000;

/// The PrimeCell PL181 MultiMedia Card Interface (MCI) and the SD card
/// in the baseboard's slot (QEMU models both, the card with
/// `-drive if=sd`). Its interrupts (SPI 17 and 18) are not used: the
/// driver polls.
pub const MMCI_BASE: usize = 0x1000_5000;
/// The MCI's MCLK: the baseboard's 24 MHz reference (its card clock is
/// divided from it).
pub const MMCI_CLOCK_HZ: u32 = 24_000_000;

/// SYS_MCI, among the baseboard's status and system control registers at
/// 0x1000_0000 (DUI 0440 4.3): the SD slot's switches, read-only. QEMU
/// models it, from `-drive if=sd` (a card in the slot) and its
/// `readonly=on` (the tab locked).
pub const SYS_MCI: usize = 0x1000_0048;
/// SYS_MCI's bit for a card in the MCI's slot (its card-detect switch).
pub const SYS_MCI_CARD_IN: u32 = 1 << 0;
/// SYS_MCI's bit for the card's write-protect tab locked.
pub const SYS_MCI_WRITE_PROTECT: u32 = 1 << 1;

/// Cortex-A9 MPCore private memory region (SCU, GIC, private timers).
pub const PERIPH_BASE: usize = 0x1f00_0000;
/// The Cortex-A9 private timer of this core.
pub const PRIVATE_TIMER_BASE: usize = PERIPH_BASE + 0x600;
/// The private timer's interrupt: PPI 29, banked per core.
pub const PRIVATE_TIMER_IRQ: u32 = 29;
/// PERIPHCLK, the private timer's clock: 100 MHz as QEMU models it (one
/// tick per 10 ns at prescaler 0). On a board it is the Cortex-A9's clock
/// divided by the SCU's ratio: set it from the board's clock configuration.
pub const PERIPHCLK_HZ: u32 = 100_000_000;
/// GIC CPU interface.
pub const GIC_CPU_BASE: usize = PERIPH_BASE + 0x100;
/// GIC distributor.
pub const GIC_DIST_BASE: usize = PERIPH_BASE + 0x1000;
/// The L2 cache controller, a CoreLink L2C-310 (PL310): its 4 KiB of
/// registers at 0x2000 in the private memory region, beside the SCU and
/// the GIC (DUI 0440's memory map; QEMU's `realview-pbx-a9` puts its
/// `l2x0` model there too).
pub const L2_CACHE_BASE: usize = PERIPH_BASE + 0x2000;

/// SMSC LAN9118 Ethernet controller.
pub const LAN9118_BASE: usize = 0x4e00_0000;
/// LAN9118 interrupt ID at the GIC (SPI 28).
pub const LAN9118_IRQ: u32 = 60;

/// An address whose word load the hardware refuses, for the fault-report
/// test: misaligned in RAM, which faults with SCTLR.A set (the MMU is on
/// with it; ARM ARM A3.2.1). Address 0 is another (not mapped), while
/// QEMU's model of the board reads unbacked addresses as zero.
pub const FAULTING_LOAD_ADDRESS: usize = 0x7010_0002;

/// The device memory the MMU maps (`mmu`): whole megabytes, as Device
/// memory that is never executed. Everything else outside RAM is unmapped,
/// so an access there is a translation fault.
pub const DEVICE_MEMORY: &[(usize, usize)] = &[
    // System registers and the peripherals on the baseboard's APB: UARTs,
    // SP804 timers, GPIO, RTC (DUI 0440 table 4-1).
    (0x1000_0000, 0x1010_0000),
    // The Cortex-A9 MPCore private memory region: SCU, GIC, private
    // timer, and the L2 cache controller beside it.
    (PERIPH_BASE, PERIPH_BASE + 0x10_0000),
    // The LAN9118 on the static memory bus.
    (LAN9118_BASE, LAN9118_BASE + 0x10_0000),
];

/// The devices a composition may grant to driver components, by name: an
/// IO_MEM session for `name` gets the register window, an IRQ session the
/// interrupt. Core services (timers, GIC) are not listed: the kernel and
/// core own them.
pub const DEVICES: &[ferrode_hal::DeviceWindow] = &[
    ferrode_hal::DeviceWindow {
        name: "gpio",
        base: GPIO0_BASE,
        size: 0x1000,
        irq: Some(GPIO0_IRQ),
    },
    ferrode_hal::DeviceWindow {
        name: "ethernet",
        base: LAN9118_BASE,
        size: 0x100,
        irq: Some(LAN9118_IRQ),
    },
    ferrode_hal::DeviceWindow { name: "rtc", base: RTC_BASE, size: 0x1000, irq: Some(RTC_IRQ) },
    // The SBCon I2C controller: its bus and the DS1338 on it.
    ferrode_hal::DeviceWindow { name: "i2c", base: I2C_BASE, size: 0x1000, irq: None },
    // The MCI and the SD card in its slot (polled: no interrupt).
    ferrode_hal::DeviceWindow { name: "sd", base: MMCI_BASE, size: 0x1000, irq: None },
    // The console UART, shared with LOG and the console: its window is
    // what the Terminal driver component shows the platform
    // (`devices::terminal_port`), its interrupt what the component's IRQ
    // session delivers (console output does not need the interrupt).
    ferrode_hal::DeviceWindow {
        name: "console-uart",
        base: UART0_BASE,
        size: 0x1000,
        irq: Some(UART0_IRQ),
    },
];
