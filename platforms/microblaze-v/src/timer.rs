//! Time: AXI Timer block 0 as the 64-bit monotonic clock, block 1 as the
//! periodic tick (counter 0) and the one-shot alarm (counter 1).
//!
//! Where cascade mode is missing (QEMU 10.0 ignores TCSR0.CASC) the clock
//! is counter 0 extended in software, which must be read at least once per
//! 2^32 cycles (43 s at 100 MHz): the tick handler reads it every tick.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use axi_timer::{AlarmTimer, AxiTimer, CounterWidth, Mmio, MonotonicCounter, PeriodicTimer};
use ferrode_hal::{Alarm, Monotonic};

use crate::memory_map::{TIMER_CLOCK_HZ, TIMER0_BASE, TIMER1_BASE, TIMER1_IRQ};
use crate::shared::IrqShared;
use crate::{irq, mmio};

/// Periodic tick rate. The tick keeps the software-extended clock from
/// missing a wrap (one per 43 s at 100 MHz) and wakes sleepers every
/// 10 ms. The second matters under QEMU 10.0: its EthernetLite model
/// queues frames that arrive while the single receive buffer is full and
/// does not hand them over when the buffer is freed, and echo-net's TCP
/// tests ran 2-3 times slower (and the flood test failed) with a 1 Hz tick.
pub const TICK_HZ: u32 = 100;

static CLOCK: IrqShared<MonotonicCounter<Mmio<'static>>> = IrqShared::new();
static TICK: IrqShared<PeriodicTimer<Mmio<'static>>> = IrqShared::new();
static ALARM: IrqShared<AlarmTimer<Mmio<'static>>> = IrqShared::new();
static ALARM_EXPIRED: AtomicBool = AtomicBool::new(false);
static TICKS: AtomicU32 = AtomicU32::new(0);
static TICK_HANDLER: IrqShared<fn()> = IrqShared::new();

fn block(base: usize) -> AxiTimer<Mmio<'static>> {
    // SAFETY: TIMER0_BASE and TIMER1_BASE are the AXI Timer blocks of this
    // design (memory_map), whose register block is `axi_timer::Regs`.
    let regs = unsafe { mmio::registers::<axi_timer::Regs>(base) };
    AxiTimer::new(Mmio::new(regs), TIMER_CLOCK_HZ)
}

/// Starts the clock, the tick and the alarm, and routes block 1's
/// interrupt. Called once by bring-up, after [`irq::init`].
pub(crate) fn init() {
    CLOCK.set(block(TIMER0_BASE).into_monotonic());
    let (tick, alarm) = block(TIMER1_BASE).split();
    let period = TIMER_CLOCK_HZ / TICK_HZ;
    TICK.set(tick.into_periodic(period).expect("tick period of at least 2 cycles"));
    ALARM.set(alarm.into_alarm());
    // SAFETY: the platform's own tick and alarm timer, started once at
    // boot; its interrupt is no one else's.
    unsafe { irq::register(TIMER1_IRQ, on_interrupt) }.expect("timer input exists on the INTC");
}

/// Timer block 1 interrupt: acknowledge the tick (and read the clock so
/// its software extension sees every wrap) and latch an alarm expiry.
fn on_interrupt() {
    if TICK.with(|tick| tick.take_interrupt()) == Some(true) {
        TICKS.store(TICKS.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        CLOCK.with(|clock| clock.now());
        if let Some(handler) = TICK_HANDLER.with(|handler| *handler) {
            handler();
        }
    }
    if ALARM.with(|alarm| alarm.take_expired()) == Some(true) {
        ALARM_EXPIRED.store(true, Ordering::Relaxed);
    }
}

/// Calls `handler` from the tick interrupt, [`TICK_HZ`] times a second
/// (the kernel's time slice).
///
/// # Safety
///
/// Interrupt authority: the caller owns the interrupt, as the image's
/// composition made it: the board's IRQ service or kernel glue, or an
/// app without components that drives the device itself. A handler runs
/// in interrupt context, with the kernel's authority; a component's
/// interrupts come through its IRQ session, so its safe code cannot
/// call this.
pub unsafe fn set_tick_handler(handler: fn()) {
    TICK_HANDLER.set(handler);
}

/// Ticks since boot.
pub fn ticks() -> u32 {
    TICKS.load(Ordering::Relaxed)
}

/// Whether the clock is cascaded in hardware or extended in software.
pub fn clock_width() -> Option<CounterWidth> {
    CLOCK.with(|clock| clock.width())
}

/// The monotonic clock (a handle; every copy reads the same counter).
#[derive(Clone, Copy, Debug, Default)]
pub struct Clock;

impl Monotonic for Clock {
    fn tick_hz(&self) -> u64 {
        u64::from(TIMER_CLOCK_HZ)
    }

    fn now(&mut self) -> u64 {
        CLOCK.with(|clock| clock.now()).expect("clock not started")
    }
}

impl embedded_hal::delay::DelayNs for Clock {
    fn delay_ns(&mut self, ns: u32) {
        if ns == 0 {
            return;
        }
        let ticks = ferrode_hal::ns_to_ticks(u64::from(ns), self.tick_hz());
        // The first reading may come just before the count moves on:
        // `ticks` whole ticks have surely passed only once the count is
        // more than `ticks` past it (embedded-hal: never shorter).
        let start = self.now();
        while self.now().wrapping_sub(start) <= ticks {
            core::hint::spin_loop();
        }
    }
}

/// The one-shot alarm, in ticks of [`Clock`]. Its interrupt handler
/// latches the expiry (and wakes [`irq::wait_for_event`]), which
/// [`Alarm::take_expired`] then reports once. There is one alarm; every
/// handle controls it.
#[derive(Clone, Copy, Debug, Default)]
pub struct OneShotAlarm;

impl Alarm for OneShotAlarm {
    fn arm_after(&mut self, ticks: u64) {
        crate::arch::without_interrupts(|| {
            ALARM_EXPIRED.store(false, Ordering::Relaxed);
            ALARM.with(|alarm| alarm.arm_after(ticks));
        });
    }

    fn disarm(&mut self) {
        crate::arch::without_interrupts(|| {
            ALARM.with(|alarm| alarm.disarm());
            ALARM_EXPIRED.store(false, Ordering::Relaxed);
        });
    }

    fn take_expired(&mut self) -> bool {
        crate::arch::without_interrupts(|| {
            let expired = ALARM_EXPIRED.load(Ordering::Relaxed);
            ALARM_EXPIRED.store(false, Ordering::Relaxed);
            expired
        })
    }
}
