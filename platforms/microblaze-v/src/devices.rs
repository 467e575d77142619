//! The board's devices as handles apps use without knowing the board.
//!
//! Each accessor returns a small handle that reaches the driver instance
//! the platform owns, with interrupts masked for the duration of each call
//! (see [`crate::shared`]). Interrupt handlers run behind the same cells,
//! so a handle and a handler never touch a device at once.
//!
//! Device authority: the accessors that take a device over (`ethernet`,
//! `alarm`, `serial`, `gpio`, the `*_port` ones for driver components,
//! and this board's others), like `irq::register` and its kin, are
//! `unsafe`: their caller must be the device's one driver as the image's
//! composition made it (the board's driver components and services, or
//! an app without components). A component reaches devices only through
//! its IO_MEM and IRQ sessions; its safe code cannot take one over:
//!
//! ```compile_fail,E0133
//! let gpio = microblaze_v::devices::gpio();
//! ```
//!
//! The clock (`clock`) only reads, and stays safe.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::console::UART;
use crate::memory_map::{
    GPIO_BASE, GPIO_CHANNEL1_WIDTH, GPIO_CHANNEL2_WIDTH, UART16550_BASE, UART16550_CLOCK_HZ,
    UARTLITE_BASE,
};
use crate::shared::IrqShared;
pub use crate::timer::{Clock, OneShotAlarm};
use crate::{irq, mmio};

/// The SD card a driver component takes over its IO_MEM window: none, the
/// MicroBlaze V design has no SD card controller (no device window is
/// named "sd", so no IO_MEM session gets this far). A card of this type
/// never exists.
///
/// # Safety
///
/// None needed here; `unsafe` as on the boards that have a card, whose
/// caller must be its one driver.
pub unsafe fn sd_card(_window: &ferrode_hal::DeviceWindow) -> Option<Result<SdCard, SdError>> {
    None
}

/// Why the SD card failed: no value, as there is no card.
pub type SdError = core::convert::Infallible;

/// The type [`sd_card`] would return: it has no values.
pub struct SdCard(core::convert::Infallible);

impl SdCard {
    /// Blocks of 512 bytes on the card, as on the boards with one.
    pub fn block_count(&self) -> u32 {
        match self.0 {}
    }

    /// Whether the card is write-protected, as on the boards with a card.
    pub fn write_protected(&mut self) -> bool {
        match self.0 {}
    }

    /// Whether the card is identified, as on the boards with a card.
    pub fn identified(&self) -> bool {
        match self.0 {}
    }

    /// Asks the card whether it is still there, as on the boards with a
    /// card.
    pub fn check(&mut self) -> Result<(), SdError> {
        match self.0 {}
    }

    /// Identifies the card in the slot, as on the boards with a card.
    pub fn identify(&mut self) -> Result<(), SdError> {
        match self.0 {}
    }

    /// Reads blocks, as on the boards with a card.
    pub fn read(&mut self, _start: u32, _blocks: &mut [[u8; 512]]) -> Result<(), SdError> {
        match self.0 {}
    }

    /// Writes blocks, as on the boards with a card.
    pub fn write(&mut self, _start: u32, _blocks: &[[u8; 512]]) -> Result<(), SdError> {
        match self.0 {}
    }
}

/// The I2C bus a driver component takes over its IO_MEM window: none, the
/// MicroBlaze V design has no I2C controller (no device window is named
/// "i2c", so no IO_MEM session gets this far). A bus of this type never
/// exists.
///
/// # Safety
///
/// None needed here; `unsafe` as on the boards that have the bus, whose
/// caller must be its one driver.
pub unsafe fn i2c_port(_window: &ferrode_hal::DeviceWindow) -> Option<I2cBus> {
    None
}

/// The type [`i2c_port`] would return: it has no values.
pub struct I2cBus(core::convert::Infallible);

impl I2cBus {
    /// Clears the bus, as the boards with one do.
    pub fn recover(&mut self) -> Result<(), embedded_hal::i2c::ErrorKind> {
        match self.0 {}
    }
}

impl embedded_hal::i2c::ErrorType for I2cBus {
    type Error = embedded_hal::i2c::ErrorKind;
}

impl embedded_hal::i2c::I2c for I2cBus {
    fn transaction(
        &mut self,
        _address: u8,
        _operations: &mut [embedded_hal::i2c::Operation<'_>],
    ) -> Result<(), Self::Error> {
        match self.0 {}
    }
}

/// The date, for core's Rtc service: none, the MicroBlaze V design has no
/// real-time clock (its clock counts from boot).
pub fn wall_clock_seconds() -> Option<u64> {
    None
}

/// The monotonic clock (AXI Timer block 0), 100 MHz on QEMU's board.
pub fn clock() -> Clock {
    Clock
}

/// The one-shot alarm (AXI Timer block 1, counter 1), in clock ticks.
///
/// # Safety
///
/// Device authority: the caller is the device's one driver, as the
/// image's composition made it: the board's driver component for it
/// (holding the IO_MEM and IRQ sessions its routes grant), the board's
/// own services, or an app without components that drives the device
/// itself. A component reaches devices only through its sessions, so
/// its safe code cannot call this.
pub unsafe fn alarm() -> OneShotAlarm {
    OneShotAlarm
}

/// The console UART (AXI UART Lite) as an `embedded_io` byte stream.
/// The first call turns on its receive interrupt; reading sleeps until the
/// interrupt brings a byte.
///
/// # Safety
///
/// Device authority: the caller is the device's one driver, as the
/// image's composition made it: the board's driver component for it
/// (holding the IO_MEM and IRQ sessions its routes grant), the board's
/// own services, or an app without components that drives the device
/// itself. A component reaches devices only through its sessions, so
/// its safe code cannot call this.
pub unsafe fn serial() -> Serial {
    crate::console::enable_rx_interrupt();
    Serial(())
}

/// The serial port, for the Terminal driver component: only for the holder
/// of the UART Lite's register window (what an IO_MEM session for
/// "console-uart" returns), `None` for any other window. The platform
/// registers no handler: the component's IRQ session for "console-uart"
/// brings the UART's interrupt, and the component calls
/// [`Serial::service_interrupt`].
///
/// # Safety
///
/// Device authority: the caller is the device's one driver, as the
/// image's composition made it: the board's driver component for it
/// (holding the IO_MEM and IRQ sessions its routes grant), the board's
/// own services, or an app without components that drives the device
/// itself. A component reaches devices only through its sessions, so
/// its safe code cannot call this.
pub unsafe fn terminal_port(window: &ferrode_hal::DeviceWindow) -> Option<Serial> {
    (window.base == UARTLITE_BASE).then(|| {
        crate::console::enable_uart_interrupt();
        Serial(())
    })
}

static OVERRUNS: AtomicU32 = AtomicU32::new(0);

impl Serial {
    /// What the UART's interrupt asks for, from a thread: the receive FIFO
    /// into the ring. Returns whether received bytes (or a line error)
    /// wait. The Terminal driver component calls this when its IRQ session
    /// signals, before it acknowledges the session.
    pub fn service_interrupt(&self) -> bool {
        crate::console::on_interrupt_work()
    }

    /// Puts what fits into the transmit FIFO now, without waiting; returns
    /// how many bytes it took.
    pub fn try_write(&mut self, bytes: &[u8]) -> usize {
        UART.with(|uart| uart.write_available(bytes)).unwrap_or(0)
    }

    /// Receive overruns reported so far (each lost at least one byte
    /// because the application did not read fast enough).
    pub fn lost_bytes(&self) -> u32 {
        OVERRUNS.load(Ordering::Relaxed)
    }

    /// Takes what has been received without waiting: `Ok(0)` if nothing
    /// is there. An overrun is counted ([`Serial::lost_bytes`]) and
    /// returned.
    pub fn try_read(&mut self, buf: &mut [u8]) -> Result<usize, uartlite::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        let result = UART.with(|uart| {
            if uart.rx_ready() { Some(embedded_io::Read::read(uart, buf)) } else { None }
        });
        match result.flatten() {
            Some(Err(uartlite::Error::Overrun)) => {
                crate::arch::without_interrupts(|| {
                    OVERRUNS.store(
                        OVERRUNS.load(Ordering::Relaxed).saturating_add(1),
                        Ordering::Relaxed,
                    )
                });
                Err(uartlite::Error::Overrun)
            }
            Some(result) => result,
            None => Ok(0),
        }
    }

    /// Received bytes waiting in the receive ring.
    pub fn received_len(&self) -> usize {
        UART.with(|uart| uart.received_len()).unwrap_or(0)
    }

    /// Writes all of `bytes`, in order, waiting for room in the Tx FIFO
    /// with interrupts open (writing cannot fail).
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        let _ = embedded_io::Write::write_all(self, bytes);
    }
}

/// The console UART as an `embedded_io` stream; receive is interrupt
/// driven into a 256-byte ring.
#[derive(Clone, Copy, Debug, Default)]
pub struct Serial(());

impl embedded_io::ErrorType for Serial {
    type Error = uartlite::Error;
}

impl embedded_io::Read for Serial {
    /// Sleeps until at least one byte (or a line error) is there, then
    /// returns what is available without waiting further.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, uartlite::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let seen = irq::event_count();
            match self.try_read(buf)? {
                0 => irq::wait_for_event(seen),
                count => return Ok(count),
            }
        }
    }
}

impl embedded_io::ReadReady for Serial {
    fn read_ready(&mut self) -> Result<bool, uartlite::Error> {
        Ok(UART.with(|uart| uart.rx_ready()).unwrap_or(false))
    }
}

impl embedded_io::Write for Serial {
    /// Queues what fits in the Tx FIFO (at least one byte), waiting for
    /// room with interrupts open.
    fn write(&mut self, buf: &[u8]) -> Result<usize, uartlite::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let taken = UART.with(|uart| uart.write_available(buf)).expect("console initialised");
            if taken > 0 {
                return Ok(taken);
            }
            core::hint::spin_loop();
        }
    }

    /// Waits, with interrupts open, until the Tx FIFO is empty.
    fn flush(&mut self) -> Result<(), uartlite::Error> {
        while !UART.with(|uart| uart.tx_empty()).expect("console initialised") {
            core::hint::spin_loop();
        }
        Ok(())
    }
}

impl embedded_io::WriteReady for Serial {
    fn write_ready(&mut self) -> Result<bool, uartlite::Error> {
        Ok(UART.with(|uart| uart.tx_ready()).unwrap_or(false))
    }
}

// The design's Ethernet MAC (`ethernet`, one handle over either): the AXI
// EthernetLite (`ethernet_lite`), or with the `axi-ethernet` feature the
// AXI Ethernet subsystem and its AXI DMA (`ethernet_axi`; QEMU's board has
// both). `mac` is the one the design has.
mod ethernet;
#[cfg(feature = "axi-ethernet")]
mod ethernet_axi;
#[cfg(feature = "axi-ethernet")]
use ethernet_axi as mac;
#[cfg(not(feature = "axi-ethernet"))]
mod ethernet_lite;
pub use ethernet::{Ethernet, EthernetError, ethernet, ethernet_port};
#[cfg(not(feature = "axi-ethernet"))]
use ethernet_lite as mac;

/// The LED GPIO block's driver type.
pub type Gpio = axi_gpio::AxiGpio<axi_gpio::Mmio<'static>>;

/// The GPIO block behind a critical section: the driver keeps shadow copies
/// of DATA and TRI in `Cell`s, so two threads that preempt each other in
/// the middle of an update would lose one of them. Every operation of
/// [`GpioBlock`] and its pins runs with interrupts masked (no preemption on
/// the one hart).
static GPIO: IrqShared<Gpio> = IrqShared::new();

fn with_gpio<T>(f: impl FnOnce(&mut Gpio) -> T) -> T {
    GPIO.with(f).expect("GPIO taken over by devices::gpio()")
}

/// The AXI GPIO block driving the LEDs (channel 1, 8 outputs on QEMU's
/// board). The first call takes the block over (all pins inputs, outputs
/// 0). Handles are copies; any thread or interrupt handler may use one.
///
/// # Safety
///
/// Device authority: the caller is the device's one driver, as the
/// image's composition made it: the board's driver component for it
/// (holding the IO_MEM and IRQ sessions its routes grant), the board's
/// own services, or an app without components that drives the device
/// itself. A component reaches devices only through its sessions, so
/// its safe code cannot call this.
pub unsafe fn gpio() -> GpioBlock {
    crate::arch::without_interrupts(|| {
        if GPIO.is_empty() {
            // SAFETY: GPIO_BASE is the AXI GPIO of this design (memory_map),
            // whose register block is `axi_gpio::Regs`.
            let regs = unsafe { mmio::registers::<axi_gpio::Regs>(GPIO_BASE) };
            let config = axi_gpio::Config {
                channel1_width: GPIO_CHANNEL1_WIDTH,
                channel2_width: GPIO_CHANNEL2_WIDTH,
            };
            GPIO.set(axi_gpio::AxiGpio::new(axi_gpio::Mmio::new(regs), config));
        }
    });
    GpioBlock(())
}

/// Handle to the GPIO block; each call is one critical section.
#[derive(Clone, Copy, Debug)]
pub struct GpioBlock(());

impl GpioBlock {
    /// Makes `pin` of `channel` an output driving `initial` (see
    /// [`axi_gpio::AxiGpio::output`]). The pin stays claimed for the life
    /// of the image.
    pub fn output(
        &self,
        channel: axi_gpio::Channel,
        pin: u8,
        initial: bool,
    ) -> Result<GpioOutput, axi_gpio::Error> {
        with_gpio(|gpio| gpio.output(channel, pin, initial).map(core::mem::forget))?;
        Ok(GpioOutput { channel, bit: 1 << pin })
    }

    /// Makes `pin` of `channel` an input, claimed for the life of the image.
    pub fn input(&self, channel: axi_gpio::Channel, pin: u8) -> Result<GpioInput, axi_gpio::Error> {
        with_gpio(|gpio| gpio.input(channel, pin).map(core::mem::forget))?;
        Ok(GpioInput { channel, bit: 1 << pin })
    }

    /// Sets the outputs in `mask` to the bits of `value` with one DATA write.
    pub fn write_outputs(
        &self,
        channel: axi_gpio::Channel,
        mask: u32,
        value: u32,
    ) -> Result<(), axi_gpio::Error> {
        with_gpio(|gpio| gpio.write_outputs(channel, mask, value))
    }

    /// The output value last written to `channel`.
    pub fn outputs(&self, channel: axi_gpio::Channel) -> Result<u32, axi_gpio::Error> {
        with_gpio(|gpio| gpio.outputs(channel))
    }

    /// The input pins of `channel`.
    pub fn read_inputs(&self, channel: axi_gpio::Channel) -> Result<u32, axi_gpio::Error> {
        with_gpio(|gpio| gpio.read_inputs(channel))
    }
}

/// The GPIO block as a whole, for the GPIO driver component: only for the
/// holder of its register window (what an IO_MEM session for "gpio"
/// returns), `None` for any other window.
///
/// # Safety
///
/// Device authority: the caller is the device's one driver, as the
/// image's composition made it: the board's driver component for it
/// (holding the IO_MEM and IRQ sessions its routes grant), the board's
/// own services, or an app without components that drives the device
/// itself. A component reaches devices only through its sessions, so
/// its safe code cannot call this.
pub unsafe fn gpio_port(window: &ferrode_hal::DeviceWindow) -> Option<GpioDevice> {
    // SAFETY: this function's contract is `gpio`'s.
    (window.base == GPIO_BASE).then(|| unsafe { gpio() })
}

/// The type [`gpio_port`] returns.
pub type GpioDevice = GpioBlock;

/// Channel 1's pins (the LEDs on QEMU's board).
impl ferrode_hal::GpioPort for GpioBlock {
    fn pins(&self) -> u8 {
        GPIO_CHANNEL1_WIDTH
    }

    fn configure(
        &mut self,
        pin: u8,
        output: bool,
        level: bool,
    ) -> Result<(), ferrode_hal::PinUnavailable> {
        // The driver's claim on the pin ends with the call (dropping its
        // pin frees the number; the pin keeps its direction and level), not
        // with the image, as `GpioBlock::output` and `input` hold it: the
        // GPIO driver component's sessions own the pins, so a session may
        // configure its pin again, and so may the next session of a pin.
        let channel = axi_gpio::Channel::One;
        with_gpio(|gpio| {
            if output {
                gpio.output(channel, pin, level).map(drop)
            } else {
                gpio.input(channel, pin).map(drop)
            }
        })
        .map_err(|_| ferrode_hal::PinUnavailable)
    }

    fn write(&mut self, mask: u32, value: u32) {
        // Channel 1 exists on every design this platform describes.
        let _ = self.write_outputs(axi_gpio::Channel::One, mask, value);
    }

    fn read(&mut self) -> u32 {
        // GPIO_DATA reads the pins (see `axi_gpio::AxiGpio::read_inputs`).
        self.read_inputs(axi_gpio::Channel::One).unwrap_or(0)
    }

    /// The AXI GPIO interrupts on any change of a channel's inputs: edges
    /// are told apart in software, levels are refused.
    fn watch(
        &mut self,
        pins: u32,
        trigger: Option<ferrode_hal::GpioTrigger>,
    ) -> Result<(), ferrode_hal::PinUnavailable> {
        use ferrode_hal::GpioTrigger as T;
        let all = 1u32.checked_shl(u32::from(GPIO_CHANNEL1_WIDTH)).map_or(u32::MAX, |bit| bit - 1);
        let (rise, fall) = match trigger {
            None => (false, false),
            Some(T::RisingEdge) => (true, false),
            Some(T::FallingEdge) => (false, true),
            Some(T::BothEdges) => (true, true),
            Some(T::HighLevel | T::LowLevel) => return Err(ferrode_hal::PinUnavailable),
        };
        if pins & !all != 0 {
            return Err(ferrode_hal::PinUnavailable);
        }
        let set = |mask: u32, on: bool| if on { mask | pins } else { mask & !pins };
        with_gpio(|gpio| {
            let (was_rising, was_falling) =
                (GPIO_WATCH_RISE.load(Ordering::Relaxed), GPIO_WATCH_FALL.load(Ordering::Relaxed));
            let (rising, falling) = (set(was_rising, rise), set(was_falling, fall));
            GPIO_WATCH_RISE.store(rising, Ordering::Relaxed);
            GPIO_WATCH_FALL.store(falling, Ordering::Relaxed);
            match (was_rising | was_falling != 0, rising | falling != 0) {
                // Enabling the interrupt takes the inputs read now as the
                // levels later changes are told against, for the whole
                // channel: done again while other pins are watched, it
                // would lose an edge of theirs not yet handled (another
                // session's). Only the first watched pin enables it.
                (false, true) => gpio.enable_interrupt(axi_gpio::Channel::One),
                (true, true) => Ok(()),
                (_, false) => gpio.disable_interrupt(axi_gpio::Channel::One),
            }
        })
        .map_err(|_| ferrode_hal::PinUnavailable)
    }

    fn take_changes(&mut self) -> u32 {
        with_gpio(|gpio| {
            let changed = gpio.on_interrupt().channel1;
            let levels = gpio.read_inputs(axi_gpio::Channel::One).unwrap_or(0);
            changed
                & ((levels & GPIO_WATCH_RISE.load(Ordering::Relaxed))
                    | (!levels & GPIO_WATCH_FALL.load(Ordering::Relaxed)))
        })
    }
}

/// Channel 1's pins watched for rising and for falling edges.
static GPIO_WATCH_RISE: AtomicU32 = AtomicU32::new(0);
static GPIO_WATCH_FALL: AtomicU32 = AtomicU32::new(0);

/// An output pin of the GPIO block (`embedded_hal::digital` output).
#[derive(Clone, Copy, Debug)]
pub struct GpioOutput {
    channel: axi_gpio::Channel,
    bit: u32,
}

impl embedded_hal::digital::ErrorType for GpioOutput {
    type Error = axi_gpio::Error;
}

impl embedded_hal::digital::OutputPin for GpioOutput {
    fn set_low(&mut self) -> Result<(), axi_gpio::Error> {
        GpioBlock(()).write_outputs(self.channel, self.bit, 0)
    }

    fn set_high(&mut self) -> Result<(), axi_gpio::Error> {
        GpioBlock(()).write_outputs(self.channel, self.bit, self.bit)
    }
}

impl embedded_hal::digital::StatefulOutputPin for GpioOutput {
    fn is_set_high(&mut self) -> Result<bool, axi_gpio::Error> {
        Ok(GpioBlock(()).outputs(self.channel)? & self.bit != 0)
    }

    fn is_set_low(&mut self) -> Result<bool, axi_gpio::Error> {
        Ok(GpioBlock(()).outputs(self.channel)? & self.bit == 0)
    }
}

/// An input pin of the GPIO block (`embedded_hal::digital` input).
#[derive(Clone, Copy, Debug)]
pub struct GpioInput {
    channel: axi_gpio::Channel,
    bit: u32,
}

impl embedded_hal::digital::ErrorType for GpioInput {
    type Error = axi_gpio::Error;
}

impl embedded_hal::digital::InputPin for GpioInput {
    fn is_high(&mut self) -> Result<bool, axi_gpio::Error> {
        Ok(GpioBlock(()).read_inputs(self.channel)? & self.bit != 0)
    }

    fn is_low(&mut self) -> Result<bool, axi_gpio::Error> {
        Ok(GpioBlock(()).read_inputs(self.channel)? & self.bit == 0)
    }
}

/// The AXI UART 16550 driver type.
type Uart16550Driver = axi_uart16550::Uart16550<axi_uart16550::Mmio<'static>>;

static UART16550: IrqShared<Uart16550Driver> = IrqShared::new();

/// The second serial port (AXI UART 16550) as an `embedded_io` stream.
/// Each call holds the driver only for steps that never wait; waiting for
/// the line happens with interrupts open.
#[derive(Clone, Copy, Debug)]
pub struct Uart16550Port(());

/// The AXI UART 16550; the first call takes it over at `baud_rate`, 8N1.
///
/// # Safety
///
/// Device authority: the caller is the device's one driver, as the
/// image's composition made it: the board's driver component for it
/// (holding the IO_MEM and IRQ sessions its routes grant), the board's
/// own services, or an app without components that drives the device
/// itself. A component reaches devices only through its sessions, so
/// its safe code cannot call this.
pub unsafe fn uart16550(baud_rate: u32) -> Result<Uart16550Port, axi_uart16550::Error> {
    let mut result = Ok(());
    crate::arch::without_interrupts(|| {
        if UART16550.is_empty() {
            // SAFETY: UART16550_BASE is the 16550 register block of the AXI
            // UART 16550 of this design (core base + 0x1000, memory_map).
            let regs = unsafe { mmio::registers::<axi_uart16550::Regs>(UART16550_BASE) };
            let mut uart =
                axi_uart16550::Uart16550::new(axi_uart16550::Mmio::new(regs), UART16550_CLOCK_HZ);
            result = uart.configure(&axi_uart16550::Config { baud_rate });
            if result.is_ok() {
                UART16550.set(uart);
            }
        }
    });
    result.map(|()| Uart16550Port(()))
}

fn with_uart16550<T>(f: impl FnOnce(&mut Uart16550Driver) -> T) -> T {
    UART16550.with(f).expect("a Uart16550Port exists only after uart16550()")
}

impl Uart16550Port {
    /// The 16550's loopback: written bytes come back, nothing reaches the
    /// line.
    pub fn set_loopback(&self, on: bool) {
        with_uart16550(|uart| uart.set_loopback(on));
    }
}

impl embedded_io::ErrorType for Uart16550Port {
    type Error = axi_uart16550::Error;
}

impl embedded_io::Read for Uart16550Port {
    /// Waits (interrupts open) for the first character, then takes what
    /// else has arrived.
    fn read(&mut self, buffer: &mut [u8]) -> Result<usize, axi_uart16550::Error> {
        if buffer.is_empty() {
            return Ok(0);
        }
        loop {
            if with_uart16550(embedded_io::ReadReady::read_ready)? {
                return with_uart16550(|uart| embedded_io::Read::read(uart, buffer));
            }
            core::hint::spin_loop();
        }
    }
}

impl embedded_io::Write for Uart16550Port {
    /// Queues up to 16 bytes once the TX FIFO is empty, waiting for that
    /// with interrupts open.
    fn write(&mut self, buffer: &[u8]) -> Result<usize, axi_uart16550::Error> {
        if buffer.is_empty() {
            return Ok(0);
        }
        loop {
            let count = with_uart16550(|uart| uart.write_available(buffer));
            if count > 0 {
                return Ok(count);
            }
            core::hint::spin_loop();
        }
    }

    fn flush(&mut self) -> Result<(), axi_uart16550::Error> {
        while !with_uart16550(|uart| uart.transmitter_empty()) {
            core::hint::spin_loop();
        }
        Ok(())
    }
}
