//! Ferrode's device traits for what embedded-hal and embedded-io do not cover.
//!
//! UARTs implement `embedded_io`, GPIO pins `embedded_hal::digital` and
//! delays `embedded_hal::delay::DelayNs`. Timers additionally offer a
//! [`Monotonic`] clock and an [`Alarm`]; Ethernet controllers offer the
//! frame-level [`EthernetDevice`], which `crates/net` turns into a smoltcp
//! device. Drivers implement these; nothing here knows a board.
//!
//! [`events`] is the interrupt bookkeeping every platform shares (event
//! count, sleeping until the next interrupt, the exit hook).
//!
//! [`civil`] converts between seconds since 1970 and calendar dates, as
//! real-time clocks count either way.
//!
//! [`words`] moves frames between byte buffers and 32-bit data ports a
//! whole word per access where the buffer allows it.
//!
//! [`mmio`] is how every driver reaches its registers: a bus
//! ([`RegisterAccess`]: memory or a model), typed registers with access
//! rights and named bit fields (tock-registers) declared with [`registers!`].
//!
//! `testing`, with the feature of that name (for drivers'
//! `[dev-dependencies]` only), is what their host tests share: a delay
//! that moves a virtual clock.
#![no_std]

#[cfg(test)]
extern crate std;

#[cfg(test)]
mod properties;

pub mod civil;
pub mod events;
pub mod mmio;
mod slot;
pub mod stacks;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod words;

pub use civil::CivilTime;
pub use events::{Cpu, InterruptEvents};
pub use mmio::{RegisterAccess, RegisterModel};
pub use slot::Slot;
pub use stacks::StackRecord;
pub use words::{FRAME_OFFSET, FrameBuffer};

/// A free-running clock that never goes backwards.
///
/// Implementations extend narrow hardware counters in software so that the
/// 64-bit value does not wrap within the lifetime of the system.
pub trait Monotonic {
    /// Ticks per second of [`Monotonic::now`].
    fn tick_hz(&self) -> u64;

    /// The current time in ticks since the clock was started.
    fn now(&mut self) -> u64;

    /// The current time in nanoseconds (saturating arithmetic, no overflow).
    fn now_ns(&mut self) -> u64 {
        let hz = self.tick_hz();
        ticks_to_ns(self.now(), hz)
    }

    /// The current time in whole microseconds (smoltcp's unit). Converted
    /// from ticks directly: a clock of 1 MHz, or any whose rate the
    /// compiler sees, needs no 64-bit division by 1,000 here, which the
    /// Cortex-A9 would do in a library call.
    fn now_us(&mut self) -> u64 {
        let hz = self.tick_hz();
        ticks_to_us(self.now(), hz)
    }
}

/// Converts ticks at `hz` into nanoseconds without intermediate overflow.
pub const fn ticks_to_ns(ticks: u64, hz: u64) -> u64 {
    ticks_to_units(ticks, hz, 1_000_000_000)
}

/// Converts ticks at `hz` into whole microseconds (rounded down) without
/// intermediate overflow.
pub const fn ticks_to_us(ticks: u64, hz: u64) -> u64 {
    ticks_to_units(ticks, hz, 1_000_000)
}

/// Ticks at `hz` in units of which a second has `per_second`, rounded
/// down and saturating; 0 for a clock of 0 Hz.
const fn ticks_to_units(ticks: u64, hz: u64, per_second: u128) -> u64 {
    if hz == 0 {
        return 0;
    }
    let wide = (ticks as u128) * per_second / (hz as u128);
    if wide > u64::MAX as u128 { u64::MAX } else { wide as u64 }
}

/// Converts nanoseconds into ticks at `hz`, rounding up so that a delay is
/// never shorter than asked. For a clock of whole ticks per microsecond
/// (both boards' timers) and a delay of under about 580 years, the
/// arithmetic stays in 64 bits: a busy wait of a few microseconds (a
/// bit-banged bus's edges) does not spend a 128-bit division in software
/// first.
pub const fn ns_to_ticks(ns: u64, hz: u64) -> u64 {
    let per_us = hz / 1_000_000;
    if hz.is_multiple_of(1_000_000) && per_us > 0 && ns <= u64::MAX / per_us {
        // `hz / 1e9` ticks make a nanosecond: `per_us / 1_000` exactly.
        return (ns * per_us).div_ceil(1_000);
    }
    let wide = ((ns as u128) * (hz as u128)).div_ceil(1_000_000_000u128);
    if wide > u64::MAX as u128 { u64::MAX } else { wide as u64 }
}

/// Converts microseconds into ticks at `hz`, rounding up and saturating:
/// the same as [`ns_to_ticks`] of `us` times 1,000 (saturated). For a clock
/// of whole ticks per microsecond (both boards' timers) it is one
/// multiplication, where [`ns_to_ticks`] divides 128 bits in software on a
/// 32-bit core (over a thousand instructions per Timer session request).
pub const fn us_to_ticks(us: u64, hz: u64) -> u64 {
    if hz.is_multiple_of(1_000_000) && us <= u64::MAX / 1_000 {
        // `us * 1_000` does not saturate, and `hz / 1_000_000` ticks make a
        // microsecond exactly: nothing to round.
        us.saturating_mul(hz / 1_000_000)
    } else {
        ns_to_ticks(us.saturating_mul(1_000), hz)
    }
}

/// A one-shot alarm that raises the timer's interrupt when it expires.
pub trait Alarm {
    /// Arms the alarm to fire `ticks` ticks from now, replacing any alarm
    /// already armed.
    fn arm_after(&mut self, ticks: u64);

    /// Disarms the alarm; a pending expiry is discarded.
    fn disarm(&mut self);

    /// Returns true (once) if the alarm has expired since it was armed,
    /// acknowledging the hardware interrupt condition.
    fn take_expired(&mut self) -> bool;
}

/// Counters an Ethernet driver keeps about frames it did not pass up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameCounters {
    /// Frames received and handed to the caller.
    pub rx_frames: u32,
    /// Frames transmitted.
    pub tx_frames: u32,
    /// Received frames dropped because they were shorter than 64 bytes
    /// (runts) or carried no payload.
    pub rx_runt: u32,
    /// Received frames dropped because they were longer than the maximum
    /// Ethernet frame or the caller's buffer.
    pub rx_oversized: u32,
    /// Received frames dropped because the hardware flagged an error
    /// (CRC, alignment, collision, ...).
    pub rx_errors: u32,
    /// Received frames lost because the receive FIFO or buffers were full.
    pub rx_overruns: u32,
    /// Frames whose transmission failed.
    pub tx_errors: u32,
}

impl FrameCounters {
    /// Total number of received frames that were dropped.
    pub const fn rx_dropped(&self) -> u32 {
        self.rx_runt
            .saturating_add(self.rx_oversized)
            .saturating_add(self.rx_errors)
            .saturating_add(self.rx_overruns)
    }
}

/// Largest Ethernet frame Ferrode passes around: 1514 bytes of header and
/// payload (no FCS, no VLAN tag).
pub const MAX_FRAME_LEN: usize = 1514;

/// A frame-level Ethernet device (MAC), the boundary between NIC drivers
/// and the network stack.
pub trait EthernetDevice {
    /// The driver's error type.
    type Error: core::fmt::Debug;

    /// The station MAC address the device filters on.
    fn mac_address(&self) -> [u8; 6];

    /// Whether the PHY reports link up.
    fn link_up(&mut self) -> bool;

    /// True if a frame can be queued for transmission now.
    fn can_transmit(&mut self) -> bool;

    /// Arms a one-shot interrupt that the device raises once a frame of
    /// [`MAX_FRAME_LEN`] bytes fits again (the device's own interrupt
    /// line, served like any other of its interrupts; serving it disarms
    /// it), so a caller with frames waiting can sleep instead of polling
    /// [`EthernetDevice::can_transmit`].
    ///
    /// Returns false if the device cannot: the caller must poll. True
    /// means the interrupt will come, or that room may already exist (the
    /// frame in flight can finish between the caller's check and the
    /// arming, before the interrupt was enabled): after a true the caller
    /// checks [`EthernetDevice::can_transmit`] once more before it sleeps.
    /// The default cannot.
    fn interrupt_when_transmit_ready(&mut self) -> bool {
        false
    }

    /// Unmasks (`true`) or masks (`false`) the device's interrupt for
    /// received frames, for a caller that cannot take frames for a while
    /// (every buffer it would receive into is in use). A device whose
    /// receive interrupt is a level (it stays asserted while frames wait
    /// in the device) raises it again after every acknowledgement
    /// meanwhile, which keeps its driver busy and can starve the very
    /// component that is to free a buffer. The frames wait in the device
    /// either way; the caller takes them once it has room, without an
    /// interrupt. The default does nothing: for devices whose receive
    /// interrupt is one pulse per frame.
    fn set_receive_interrupt(&mut self, enabled: bool) {
        let _ = enabled;
    }

    /// Queues one frame (destination MAC first, no FCS) for transmission.
    ///
    /// The frames Ferrode's network stack hands over start
    /// [`FRAME_OFFSET`] bytes past a word, as `buffer` does in
    /// [`EthernetDevice::receive`]; [`words::write_words`] moves such a
    /// frame to a 32-bit data port a word per access.
    fn transmit(&mut self, frame: &[u8]) -> Result<(), Self::Error>;

    /// Copies the next good received frame into `buffer` and returns its
    /// length, or `Ok(None)` if none is waiting. Bad frames are dropped and
    /// counted, never returned.
    ///
    /// `buffer` starts [`FRAME_OFFSET`] bytes past a word when Ferrode's
    /// network stack lends it (a [`FrameBuffer`], a NIC session's packet
    /// slot), so the frame's IP header lands on a word;
    /// [`words::read_words`] fills it from a 32-bit data port a word per
    /// access at that boundary or any other.
    fn receive(&mut self, buffer: &mut [u8]) -> Result<Option<usize>, Self::Error>;

    /// Drop and traffic counters.
    fn counters(&self) -> FrameCounters;
}

/// A device's register window and interrupt, as a platform lists them for
/// the IO_MEM and IRQ services: the only place that knows addresses is
/// the platform's table of these; a driver component learns its device's
/// window through an IO_MEM session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceWindow {
    /// The name a route grants (`"gpio"`, `"uart1"`).
    pub name: &'static str,
    /// Physical base address of the register block.
    pub base: usize,
    /// Size of the register block in bytes.
    pub size: usize,
    /// The interrupt the device raises, if it has one on this board.
    pub irq: Option<u32>,
}

/// A pin the GPIO block does not have, or cannot switch (claimed already).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinUnavailable;

impl core::fmt::Display for PinUnavailable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("no such pin, or the pin is in use")
    }
}

/// A block of GPIO pins as a whole (what a GPIO driver component serves):
/// pins are numbered from 0, a pin set is a bit mask.
pub trait GpioPort {
    /// Number of pins.
    fn pins(&self) -> u8;
    /// Makes `pin` an output driving `level`, or (`output` false) an input.
    fn configure(&mut self, pin: u8, output: bool, level: bool) -> Result<(), PinUnavailable>;
    /// Drives the output pins in `mask` to the bits of `value`, at once.
    fn write(&mut self, mask: u32, value: u32);
    /// The levels of all pins (inputs as sampled, outputs as driven).
    fn read(&mut self) -> u32;
    /// Raises the block's interrupt when an input of `pins` changes as
    /// `trigger` says, or (`None`) stops watching them. A block that
    /// cannot detect `trigger` refuses it (the default: no input
    /// interrupts at all).
    fn watch(&mut self, pins: u32, trigger: Option<GpioTrigger>) -> Result<(), PinUnavailable> {
        let _ = (pins, trigger);
        Err(PinUnavailable)
    }
    /// The interrupt's entry point: the watched pins whose change is
    /// pending, cleared. A level-triggered pin is no longer watched once
    /// reported (its level would raise the interrupt again at once) until
    /// `watch` arms it again.
    fn take_changes(&mut self) -> u32 {
        0
    }
}

/// Which change of a GPIO input raises the block's interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GpioTrigger {
    /// Low to high.
    RisingEdge,
    /// High to low.
    FallingEdge,
    /// Either edge.
    BothEdges,
    /// While high (reported once per `watch`).
    HighLevel,
    /// While low (reported once per `watch`).
    LowLevel,
}

impl GpioTrigger {
    /// Whether the trigger is a level (the pin stops being watched once
    /// reported).
    pub const fn is_level(self) -> bool {
        matches!(self, Self::HighLevel | Self::LowLevel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two registers, at 0x0 and 0x8.
    #[repr(C)]
    struct TwoRegs {
        first: u32,
        _gap: u32,
        second: u32,
    }

    #[derive(Clone, Copy, Debug)]
    enum Two {
        First,
        Second,
    }

    impl mmio::RegisterName for Two {
        type Block = TwoRegs;
        fn offset(self) -> usize {
            match self {
                Self::First => core::mem::offset_of!(TwoRegs, first),
                Self::Second => core::mem::offset_of!(TwoRegs, second),
            }
        }
    }

    fn ram_block() -> mmio::RamBlock {
        mmio::RamBlock::new(std::boxed::Box::leak(std::boxed::Box::new([0; 4])))
    }

    #[test]
    fn a_ram_block_shows_the_driver_s_accesses_at_their_offsets() {
        let block = ram_block();
        let regs = mmio::Mmio::new(block.view::<TwoRegs>());
        regs.write(Two::Second, 0x5a);
        assert_eq!((block.peek(0x0), block.peek(0x8)), (0, 0x5a));
        block.poke(0x0, 7);
        assert_eq!(regs.read(Two::First), 7);
    }

    #[test]
    fn a_ram_block_checks_the_offsets_of_reads_and_writes() {
        let block = ram_block();
        let regs = mmio::Mmio::new(block.view::<TwoRegs>());
        let table = [(Two::First, 0x0), (Two::Second, 0x8)];
        block.check_writes(&regs, &table);
        block.check_reads(&regs, &table);
        assert_eq!((block.peek(0x0), block.peek(0x8)), (0, 0), "cleared after");
    }

    #[test]
    #[should_panic(expected = "Second at 0x4")]
    fn a_ram_block_names_a_register_written_elsewhere() {
        let block = ram_block();
        block.check_writes(&mmio::Mmio::new(block.view::<TwoRegs>()), &[(Two::Second, 0x4)]);
    }

    #[test]
    #[should_panic(expected = "First at 0x8")]
    fn a_ram_block_names_a_register_read_elsewhere() {
        let block = ram_block();
        block.check_reads(&mmio::Mmio::new(block.view::<TwoRegs>()), &[(Two::First, 0x8)]);
    }

    /// Passes `bus` by value, so that a `&bus` goes through the bus
    /// implementation for references.
    fn swap_through<B: RegisterAccess<Two>>(bus: B, value: u32) -> u32 {
        let before = bus.read(Two::Second);
        bus.write(Two::Second, value);
        before
    }

    /// A reference to a bus reads and writes what the bus does: drivers
    /// hold `&Mmio` or `&RefCell<Model>` as their bus (guards against the
    /// `&T` forwarding dropping a write or inventing a read).
    #[test]
    fn a_reference_to_a_bus_reaches_the_same_registers() {
        let block = ram_block();
        let regs = mmio::Mmio::new(block.view::<TwoRegs>());
        block.poke(0x8, 0x1234_5678);
        assert_eq!(swap_through::<&mmio::Mmio<'_, TwoRegs>>(&regs, 0x9abc_def0), 0x1234_5678);
        assert_eq!(block.peek(0x8), 0x9abc_def0);
    }

    /// A model with a register that counts the reads of it and one that
    /// keeps what was written.
    #[derive(Default)]
    struct CountingModel {
        reads: u32,
        written: u32,
    }

    impl RegisterModel<Two> for CountingModel {
        fn read(&mut self, register: Two) -> u32 {
            match register {
                Two::First => {
                    self.reads += 1;
                    self.reads * 10
                }
                Two::Second => self.written,
            }
        }
        fn write(&mut self, register: Two, value: u32) {
            if let Two::Second = register {
                self.written = value;
            }
        }
    }

    /// A model in a `RefCell` is a bus: its reads return what the model
    /// says, with their side effects, and its writes reach the model
    /// (guards against the `RefCell` bus returning a constant or dropping
    /// writes).
    #[test]
    fn a_register_model_in_a_ref_cell_serves_the_driver_s_accesses() {
        let bus = core::cell::RefCell::new(CountingModel::default());
        assert_eq!((bus.read(Two::First), bus.read(Two::First)), (10, 20));
        bus.write(Two::Second, 0x5a5a);
        assert_eq!(bus.read(Two::Second), 0x5a5a);
        assert_eq!(swap_through(&bus, 7), 0x5a5a);
        assert_eq!(bus.borrow().written, 7);
    }

    /// An `Mmio` shows as the address of its block in debug output, so a
    /// driver's `Debug` says which device it holds (guards against an
    /// empty `Debug`).
    #[test]
    fn an_mmio_debugs_as_its_block_s_address() {
        let block = ram_block();
        let view = block.view::<TwoRegs>();
        let address = view.as_raw_ptr();
        assert_eq!(std::format!("{:?}", mmio::Mmio::new(view)), std::format!("Mmio({address:?})"));
    }

    #[test]
    #[should_panic(expected = "offset outside the block")]
    fn a_ram_block_refuses_an_offset_past_its_end() {
        ram_block().peek(0x10);
    }

    #[test]
    #[should_panic(expected = "offset outside the block")]
    fn a_ram_block_refuses_an_unaligned_offset() {
        ram_block().poke(0x2, 1);
    }

    #[test]
    #[should_panic(expected = "the register block does not fit")]
    fn a_ram_block_refuses_a_view_larger_than_itself() {
        let _ = ram_block().view::<[u32; 5]>();
    }

    #[test]
    fn tick_conversions_round_trip_and_round_up() {
        assert_eq!(ticks_to_ns(1_000_000, 1_000_000), 1_000_000_000);
        assert_eq!(ns_to_ticks(10_000_000, 1_000_000), 10_000);
        // 1 ns at 1 MHz is less than a tick: round up, never shorter.
        assert_eq!(ns_to_ticks(1, 1_000_000), 1);
        assert_eq!(ticks_to_ns(u64::MAX, 1), u64::MAX);
        assert_eq!(ticks_to_ns(5, 0), 0);
    }

    /// The 64-bit path (whole ticks per microsecond) gives what the 128-bit
    /// arithmetic gives, up to where it hands over to it.
    #[test]
    fn nanoseconds_convert_alike_on_both_paths() {
        let wide = |ns: u64, hz: u64| {
            let wide = ((ns as u128) * (hz as u128)).div_ceil(1_000_000_000u128);
            if wide > u64::MAX as u128 { u64::MAX } else { wide as u64 }
        };
        let mut nanos: std::vec::Vec<u64> = (0..5_000).collect();
        nanos.extend((0..64).map(|shift| 1u64 << shift));
        nanos.extend((0..64).map(|shift| (1u64 << shift) - 1));
        for hz in [1_000_000u64, 24_000_000, 100_000_000, 1_000_000_000, 3_000_000_000] {
            let edge = u64::MAX / (hz / 1_000_000);
            let mut all = nanos.clone();
            all.extend([edge - 1, edge, edge.saturating_add(1), u64::MAX - 1, u64::MAX]);
            for ns in all {
                assert_eq!(ns_to_ticks(ns, hz), wide(ns, hz), "{ns} ns at {hz} Hz");
            }
        }
        assert_eq!(ns_to_ticks(4_700, 1_000_000), 5, "tLOW at 1 MHz: rounded up");
        assert_eq!(ns_to_ticks(4_700, 100_000_000), 470);
    }

    /// Tick counts past 64 bits saturate rather than wrap: a delay too
    /// long to count is the longest there is, never a short one (guards
    /// against the saturation check of `ns_to_ticks` missing the overflow).
    #[test]
    fn nanoseconds_too_many_to_count_in_ticks_saturate() {
        assert_eq!(ns_to_ticks(u64::MAX, 2_000_000_000), u64::MAX);
        assert_eq!(ns_to_ticks(u64::MAX, u64::MAX), u64::MAX);
    }

    /// A clock that stands still at `ticks`.
    struct Stopped {
        hz: u64,
        ticks: u64,
    }

    impl Monotonic for Stopped {
        fn tick_hz(&self) -> u64 {
            self.hz
        }
        fn now(&mut self) -> u64 {
            self.ticks
        }
    }

    /// The provided `now_ns` and `now_us` convert the clock's own ticks at
    /// its own rate (guards against either returning a constant).
    #[test]
    fn a_clock_tells_its_time_in_nanoseconds_and_microseconds() {
        let mut clock = Stopped { hz: 24_000_000, ticks: 36_000_006 };
        assert_eq!(clock.now_ns(), 1_500_000_250);
        assert_eq!(clock.now_us(), 1_500_000);
        let mut stopped_at_zero = Stopped { hz: 24_000_000, ticks: 0 };
        assert_eq!((stopped_at_zero.now_ns(), stopped_at_zero.now_us()), (0, 0));
    }

    /// Microseconds to ticks is nanoseconds to ticks of 1,000 times as
    /// many, at clocks of whole ticks per microsecond and of others, up to
    /// where either saturates.
    #[test]
    fn microseconds_convert_as_their_nanoseconds_do() {
        let rates = [0, 1, 1_000, 32_768, 1_000_000, 24_000_000, 100_000_000, 1_000_000_007];
        let mut micros: std::vec::Vec<u64> = (0..2_000).collect();
        micros.extend([u64::MAX / 1_000 - 1, u64::MAX / 1_000, u64::MAX / 1_000 + 1]);
        micros.extend([u64::MAX / 1_000_000, u64::MAX / 100, u64::MAX - 1, u64::MAX]);
        micros.extend((0..64).map(|shift| 1u64 << shift));
        for hz in rates {
            for &us in &micros {
                assert_eq!(
                    us_to_ticks(us, hz),
                    ns_to_ticks(us.saturating_mul(1_000), hz),
                    "{us} us at {hz} Hz"
                );
            }
        }
    }

    /// Microseconds are nanoseconds divided by 1,000, rounded down, at the
    /// two boards' clock rates and at rates that do not divide a second.
    #[test]
    fn ticks_convert_to_the_microseconds_their_nanoseconds_make() {
        for hz in [1, 3, 32_768, 1_000_000, 24_000_000, 100_000_000, 1_000_000_000, 3_000_000_000] {
            for ticks in [0, 1, 2, 99, 100, 101, 999, 1_000_001, 123_456_789_012, 1 << 40] {
                let ns = ticks_to_ns(ticks, hz);
                // Nanoseconds saturate long before microseconds do.
                if ns < u64::MAX {
                    assert_eq!(ticks_to_us(ticks, hz), ns / 1_000, "{ticks} at {hz} Hz");
                } else {
                    let exact = u128::from(ticks) * 1_000_000 / u128::from(hz);
                    assert_eq!(u128::from(ticks_to_us(ticks, hz)), exact, "{ticks} at {hz} Hz");
                }
            }
        }
        assert_eq!(ticks_to_us(1_500_000, 1_000_000), 1_500_000);
        assert_eq!(ticks_to_us(250, 100_000_000), 2);
        assert_eq!(ticks_to_us(u64::MAX, 1), u64::MAX);
        assert_eq!(ticks_to_us(5, 0), 0);
    }

    #[test]
    fn dropped_sums_all_drop_reasons() {
        let c = FrameCounters {
            rx_runt: 1,
            rx_oversized: 2,
            rx_errors: 3,
            rx_overruns: 4,
            ..Default::default()
        };
        assert_eq!(c.rx_dropped(), 10);
    }

    /// A device that implements only what the trait requires.
    struct Minimal;

    impl EthernetDevice for Minimal {
        type Error = ();
        fn mac_address(&self) -> [u8; 6] {
            [0; 6]
        }
        fn link_up(&mut self) -> bool {
            true
        }
        fn can_transmit(&mut self) -> bool {
            false
        }
        fn transmit(&mut self, _: &[u8]) -> Result<(), ()> {
            Err(())
        }
        fn receive(&mut self, _: &mut [u8]) -> Result<Option<usize>, ()> {
            Ok(None)
        }
        fn counters(&self) -> FrameCounters {
            FrameCounters::default()
        }
    }

    #[test]
    fn a_device_without_a_transmit_ready_interrupt_tells_its_caller_to_poll() {
        assert!(!Minimal.interrupt_when_transmit_ready());
    }

    /// A GPIO block that implements only what the trait requires.
    struct PlainPins;

    impl GpioPort for PlainPins {
        fn pins(&self) -> u8 {
            8
        }
        fn configure(&mut self, _: u8, _: bool, _: bool) -> Result<(), PinUnavailable> {
            Ok(())
        }
        fn write(&mut self, _: u32, _: u32) {}
        fn read(&mut self) -> u32 {
            0
        }
    }

    /// A block without input interrupts refuses every watch, even to stop
    /// one, and never reports a change (guards against the defaults
    /// accepting a watch that will never fire, or reporting a pin).
    #[test]
    fn a_gpio_block_without_input_interrupts_refuses_to_watch_and_reports_nothing() {
        let mut pins = PlainPins;
        assert_eq!(pins.watch(0b1, Some(GpioTrigger::RisingEdge)), Err(PinUnavailable));
        assert_eq!(pins.watch(0b1, None), Err(PinUnavailable));
        assert_eq!(pins.take_changes(), 0);
    }

    /// High and low levels are the level triggers, the edges are not
    /// (guards against `is_level` answering the same for all).
    #[test]
    fn only_high_and_low_levels_are_level_triggers() {
        use GpioTrigger::{BothEdges, FallingEdge, HighLevel, LowLevel, RisingEdge};
        let triggers = [RisingEdge, FallingEdge, BothEdges, HighLevel, LowLevel];
        assert_eq!(triggers.map(GpioTrigger::is_level), [false, false, false, true, true]);
    }

    /// The refusal explains itself (guards against an empty message).
    #[test]
    fn an_unavailable_pin_says_why() {
        assert_eq!(
            std::string::ToString::to_string(&PinUnavailable),
            "no such pin, or the pin is in use"
        );
    }
}
