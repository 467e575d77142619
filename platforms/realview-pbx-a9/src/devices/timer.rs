//! The clock and the alarm on SP804 dual timer 0/1: timer 1 free-running
//! (the monotonic clock), timer 2 one-shot (the alarm, IRQ-driven).

use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};

use ferrode_hal::{Alarm, Monotonic};
use ferrode_sp804::{Prescale, Regs, Sp804};
use volatile::VolatilePtr;

use crate::irq;
use crate::memory_map::{TIMER_CLOCK_HZ, TIMER01_BASE, TIMER01_IRQ};
use crate::shared::Shared;

type Timer = Sp804<VolatilePtr<'static, Regs>>;

static TIMER: Shared<Option<Timer>> = Shared::new(None);
/// Set by the interrupt handler when the alarm has run out.
static ALARM_FIRED: AtomicBool = AtomicBool::new(false);

/// Starts the clock at 0 and hooks the alarm's interrupt.
pub(crate) fn init() {
    // SAFETY: TIMER01_BASE is SP804 dual timer 0/1 on this board (DUI 0440
    // table 4-1), used by nothing else.
    let registers = unsafe { VolatilePtr::new(NonNull::new_unchecked(TIMER01_BASE as *mut Regs)) };
    // TIMCLK is 1 MHz, never zero: construction cannot fail.
    if let Ok(timer) = Sp804::new(registers, TIMER_CLOCK_HZ, Prescale::Divide1) {
        TIMER.with(|slot| *slot = Some(timer));
    }
    // TIMER01_IRQ is a valid SPI of this GIC.
    let _ = irq::register(TIMER01_IRQ, on_interrupt);
}

fn on_interrupt() {
    if TIMER.with(|timer| timer.as_mut().is_some_and(|timer| timer.handle_interrupt())) {
        ALARM_FIRED.store(true, Ordering::Release);
    }
}

/// The board's monotonic clock (1 MHz ticks since boot); also a busy-wait
/// `DelayNs`. Every `Clock` reads the same timer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Clock;

/// The monotonic clock.
pub fn clock() -> Clock {
    Clock
}

impl Monotonic for Clock {
    fn tick_hz(&self) -> u64 {
        u64::from(TIMER_CLOCK_HZ)
    }

    fn now(&mut self) -> u64 {
        TIMER.with(|timer| timer.as_mut().map_or(0, Monotonic::now))
    }
}

impl embedded_hal::delay::DelayNs for Clock {
    fn delay_ns(&mut self, ns: u32) {
        let ticks = ferrode_hal::ns_to_ticks(u64::from(ns), self.tick_hz());
        let start = self.now();
        while self.now() - start < ticks {
            core::hint::spin_loop();
        }
    }
}

/// The board's one-shot alarm in clock ticks: its interrupt wakes
/// [`crate::irq::wait_for_event`]. There is one alarm; every handle
/// controls it.
#[derive(Clone, Copy, Debug, Default)]
pub struct OneShotAlarm;

/// The alarm.
pub fn alarm() -> OneShotAlarm {
    OneShotAlarm
}

impl Alarm for OneShotAlarm {
    fn arm_after(&mut self, ticks: u64) {
        TIMER.with(|timer| {
            ALARM_FIRED.store(false, Ordering::Relaxed);
            if let Some(timer) = timer {
                timer.arm_after(ticks);
            }
        });
    }

    fn disarm(&mut self) {
        TIMER.with(|timer| {
            if let Some(timer) = timer {
                timer.disarm();
            }
            ALARM_FIRED.store(false, Ordering::Relaxed);
        });
    }

    fn take_expired(&mut self) -> bool {
        ALARM_FIRED.swap(false, Ordering::AcqRel)
    }
}
