//! The PL031 real-time clock, PL061 GPIO 0 and the Cortex-A9 private timer
//! behind handles. Each driver lives in a [`Shared`] slot, set up by the
//! first call of its accessor; interrupt handlers reach the same slots.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use ferrode_hal::mmio::Readable as _;
use ferrode_mpcore_timer::PrivateTimer as Timer;
use ferrode_pl031::{CivilTime, Pl031, Registers as _};
use ferrode_pl061::Pl061;
use volatile::VolatilePtr;

use crate::irq;
use crate::memory_map::{
    GPIO0_BASE, PERIPHCLK_HZ, PRIVATE_TIMER_BASE, PRIVATE_TIMER_IRQ, RTC_BASE, RTC_IRQ,
};
use crate::shared::Shared;

type RtcDriver = Pl031<ferrode_pl031::Mmio<'static>>;
type GpioDriver = Pl061<ferrode_pl061::Mmio<'static>>;
type TimerDriver = Timer<ferrode_mpcore_timer::Mmio<'static>>;

static RTC: Shared<Option<RtcDriver>> = Shared::new(None);
static RTC_ALARM: AtomicBool = AtomicBool::new(false);
static GPIO: Shared<Option<GpioDriver>> = Shared::new(None);
/// The GPIO pins watched with a level trigger (masked once reported).
static GPIO_LEVEL_PINS: AtomicU32 = AtomicU32::new(0);
static TIMER: Shared<Option<TimerDriver>> = Shared::new(None);
static TIMER_PERIODS: AtomicU32 = AtomicU32::new(0);

/// The board's real-time clock (PL031): seconds since 1970, kept by the
/// board's battery; its match alarm wakes [`crate::irq::wait_for_event`].
#[derive(Clone, Copy, Debug)]
pub struct Rtc(());

/// The real-time clock; the first call takes it over (running, alarm off).
///
/// # Safety
///
/// Device authority: the caller is the device's one driver, as the
/// image's composition made it: the board's driver component for it
/// (holding the IO_MEM and IRQ sessions its routes grant), the board's
/// own services, or an app without components that drives the device
/// itself. A component reaches devices only through its sessions, so
/// its safe code cannot call this.
pub unsafe fn rtc() -> Rtc {
    let first = RTC.with(|slot| {
        if slot.is_some() {
            return false;
        }
        // SAFETY: RTC_BASE is the PL031 on this board (DUI 0440 table 4-1),
        // a 4 KiB register block nothing else maps.
        let registers = unsafe {
            VolatilePtr::new(NonNull::new_unchecked(RTC_BASE as *mut ferrode_pl031::Regs))
        };
        *slot = Some(Pl031::new(ferrode_pl031::Mmio::new(registers)));
        true
    });
    if first {
        // SAFETY: the caller drives the RTC (this function's contract), so
        // its interrupt is the caller's; RTC_IRQ is a valid SPI of this GIC.
        let _ = unsafe { irq::register(RTC_IRQ, on_rtc_interrupt) };
    }
    Rtc(())
}

/// The date, for core's Rtc service: the PL031's seconds since 1970-01-01
/// UTC, read from its data register alone. Nothing is written and no
/// handler registered, so a driver component that was granted the `rtc`
/// window (its alarm, its interrupt) is not disturbed.
pub fn wall_clock_seconds() -> Option<u64> {
    // SAFETY: RTC_BASE is the PL031 on this board (DUI 0440 table 4-1), in
    // the device memory the platform maps; reading RTCDR has no side
    // effect.
    let registers =
        unsafe { VolatilePtr::new(NonNull::new_unchecked(RTC_BASE as *mut ferrode_pl031::Regs)) };
    Some(u64::from(ferrode_pl031::Mmio::new(registers).rtcdr().get()))
}

fn on_rtc_interrupt() {
    if RTC.with(|slot| slot.as_ref().is_some_and(Pl031::take_alarm)) {
        RTC_ALARM.store(true, Ordering::Release);
    }
}

fn with_rtc<T>(f: impl FnOnce(&RtcDriver) -> T) -> T {
    RTC.with(|slot| match slot {
        Some(rtc) => f(rtc),
        None => unreachable!("an Rtc handle exists only after rtc()"),
    })
}

impl Rtc {
    /// Seconds since 1970-01-01 UTC.
    pub fn seconds(&self) -> u32 {
        with_rtc(Pl031::seconds)
    }

    /// The date and time (UTC).
    pub fn now(&self) -> CivilTime {
        with_rtc(Pl031::now)
    }

    /// Sets the clock to `seconds` since 1970-01-01 UTC.
    pub fn set_seconds(&self, seconds: u32) {
        with_rtc(|rtc| rtc.set_seconds(seconds));
    }

    /// Arms the alarm for when the clock reaches `seconds`.
    pub fn set_alarm(&self, seconds: u32) {
        RTC_ALARM.store(false, Ordering::Relaxed);
        with_rtc(|rtc| rtc.set_alarm(seconds));
    }

    /// True once after the alarm went off.
    pub fn take_alarm(&self) -> bool {
        RTC_ALARM.swap(false, Ordering::AcqRel)
    }
}

/// PL061 GPIO 0: eight pins; each change is one masked register write, so
/// handles and pins may be used from any thread or handler.
#[derive(Clone, Copy, Debug)]
pub struct Gpio(());

/// GPIO 0; the first call takes it over (all pins inputs).
///
/// # Safety
///
/// Device authority: the caller is the device's one driver, as the
/// image's composition made it: the board's driver component for it
/// (holding the IO_MEM and IRQ sessions its routes grant), the board's
/// own services, or an app without components that drives the device
/// itself. A component reaches devices only through its sessions, so
/// its safe code cannot call this.
pub unsafe fn gpio() -> Gpio {
    GPIO.with(|slot| {
        if slot.is_none() {
            // SAFETY: GPIO0_BASE is PL061 GPIO 0 on this board (DUI 0440
            // table 4-1), a 4 KiB register block nothing else maps.
            let registers = unsafe {
                VolatilePtr::new(NonNull::new_unchecked(GPIO0_BASE as *mut ferrode_pl061::Regs))
            };
            *slot = Some(Pl061::new(ferrode_pl061::Mmio::new(registers)));
        }
    });
    Gpio(())
}

fn with_gpio<T>(f: impl FnOnce(&mut GpioDriver) -> T) -> T {
    GPIO.with(|slot| match slot {
        Some(gpio) => f(gpio),
        None => unreachable!("a Gpio handle exists only after gpio()"),
    })
}

impl Gpio {
    /// Makes the pins in `mask` outputs (the others keep their direction),
    /// driving the bits of `value`.
    pub fn set_outputs(&self, mask: u8, value: u8) -> Result<(), ferrode_pl061::Error> {
        with_gpio(|gpio| {
            for pin in (0..8).filter(|pin| mask & (1 << pin) != 0) {
                gpio.output(pin, value & (1 << pin) != 0)?;
            }
            Ok(())
        })
    }

    /// Drives the pins in `mask` to the bits of `value` (one write).
    pub fn write(&self, mask: u8, value: u8) {
        with_gpio(|gpio| gpio.write(mask, value));
    }

    /// The level of the pins in `mask`.
    pub fn read(&self, mask: u8) -> u8 {
        with_gpio(|gpio| gpio.read(mask))
    }
}

/// GPIO 0 as a whole, for the GPIO driver component: only for the holder
/// of its register window (what an IO_MEM session for "gpio" returns),
/// `None` for any other window.
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
    (window.base == GPIO0_BASE).then(|| unsafe { gpio() })
}

/// The type [`gpio_port`] returns.
pub type GpioDevice = Gpio;

impl ferrode_hal::GpioPort for Gpio {
    fn pins(&self) -> u8 {
        8
    }

    fn configure(
        &mut self,
        pin: u8,
        output: bool,
        level: bool,
    ) -> Result<(), ferrode_hal::PinUnavailable> {
        with_gpio(|gpio| {
            if output { gpio.output(pin, level).map(drop) } else { gpio.input(pin).map(drop) }
        })
        .map_err(|_| ferrode_hal::PinUnavailable)
    }

    fn write(&mut self, mask: u32, value: u32) {
        Gpio::write(self, mask as u8, value as u8);
    }

    fn read(&mut self) -> u32 {
        u32::from(Gpio::read(self, 0xff))
    }

    fn watch(
        &mut self,
        pins: u32,
        trigger: Option<ferrode_hal::GpioTrigger>,
    ) -> Result<(), ferrode_hal::PinUnavailable> {
        use ferrode_hal::GpioTrigger as T;
        use ferrode_pl061::Trigger;
        if pins & !0xff != 0 {
            return Err(ferrode_hal::PinUnavailable);
        }
        let sense = trigger.map(|trigger| match trigger {
            T::RisingEdge => Trigger::RisingEdge,
            T::FallingEdge => Trigger::FallingEdge,
            T::BothEdges => Trigger::BothEdges,
            T::HighLevel => Trigger::HighLevel,
            T::LowLevel => Trigger::LowLevel,
        });
        let level = trigger.is_some_and(ferrode_hal::GpioTrigger::is_level);
        with_gpio(|gpio| {
            let watched = GPIO_LEVEL_PINS.load(Ordering::Relaxed) & !pins;
            GPIO_LEVEL_PINS.store(if level { watched | pins } else { watched }, Ordering::Relaxed);
            for pin in (0..8).filter(|pin| pins & (1 << pin) != 0) {
                match sense {
                    Some(sense) => gpio.enable_interrupt(pin, sense)?,
                    None => gpio.disable_interrupt(pin)?,
                }
            }
            Ok(())
        })
        .map_err(|_: ferrode_pl061::Error| ferrode_hal::PinUnavailable)
    }

    fn take_changes(&mut self) -> u32 {
        with_gpio(|gpio| {
            let pending = gpio.take_interrupts();
            // A level still holds after the clear: mask those pins until
            // they are watched again, or the interrupt would return at once.
            let level = pending & GPIO_LEVEL_PINS.load(Ordering::Relaxed) as u8;
            for pin in (0..8).filter(|pin| level & (1 << pin) != 0) {
                let _ = gpio.disable_interrupt(pin);
            }
            GPIO_LEVEL_PINS.fetch_and(!u32::from(level), Ordering::Relaxed);
            u32::from(pending)
        })
    }
}

/// The Cortex-A9 private timer of this core: a periodic interrupt counted
/// in [`PrivateTimerHandle::periods`].
#[derive(Clone, Copy, Debug)]
pub struct PrivateTimerHandle(());

/// The private timer; the first call takes it over (stopped), counting
/// PERIPHCLK undivided.
///
/// # Safety
///
/// Device authority: the caller is the device's one driver, as the
/// image's composition made it: the board's driver component for it
/// (holding the IO_MEM and IRQ sessions its routes grant), the board's
/// own services, or an app without components that drives the device
/// itself. A component reaches devices only through its sessions, so
/// its safe code cannot call this.
pub unsafe fn private_timer() -> PrivateTimerHandle {
    let first = TIMER.with(|slot| {
        if slot.is_some() {
            return false;
        }
        // SAFETY: PRIVATE_TIMER_BASE is this core's private timer in the
        // Cortex-A9 MPCore private memory region (periph base + 0x600).
        let registers = unsafe {
            VolatilePtr::new(NonNull::new_unchecked(
                PRIVATE_TIMER_BASE as *mut ferrode_mpcore_timer::Regs,
            ))
        };
        *slot = Some(Timer::new(ferrode_mpcore_timer::Mmio::new(registers), PERIPHCLK_HZ, 0));
        true
    });
    if first {
        // SAFETY: the caller drives the private timer (this function's
        // contract), so its interrupt is the caller's; PPI 29 is a valid
        // interrupt ID of this GIC.
        let _ = unsafe { irq::register(PRIVATE_TIMER_IRQ, on_timer_interrupt) };
    }
    PrivateTimerHandle(())
}

fn on_timer_interrupt() {
    if TIMER.with(|slot| slot.as_mut().is_some_and(Timer::handle_interrupt)) {
        TIMER_PERIODS.fetch_add(1, Ordering::Release);
    }
}

impl PrivateTimerHandle {
    /// Ticks per second.
    pub fn tick_hz(&self) -> u32 {
        TIMER.with(|slot| slot.as_ref().map_or(0, Timer::tick_hz))
    }

    /// An interrupt every `period` ticks.
    pub fn start_periodic(&self, period: u32) -> Result<(), ferrode_mpcore_timer::Error> {
        TIMER.with(|slot| match slot {
            Some(timer) => timer.start_periodic(period),
            None => unreachable!("a handle exists only after private_timer()"),
        })
    }

    /// Stops the timer.
    pub fn stop(&self) {
        TIMER.with(|slot| {
            if let Some(timer) = slot {
                timer.stop();
            }
        });
    }

    /// Periods that have ended since boot.
    pub fn periods(&self) -> u32 {
        TIMER_PERIODS.load(Ordering::Acquire)
    }
}
