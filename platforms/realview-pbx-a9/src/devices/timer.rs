//! The clock and the alarm on SP804 dual timer 0/1: timer 1 free-running
//! (the monotonic clock), timer 2 one-shot (the alarm, IRQ-driven).

use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};

use ferrode_hal::{Alarm, Monotonic};
use ferrode_sp804::{Mmio, Prescale, Regs, Sp804};
use ferrode_sp810::{Sp810, TimerClock, TimerIndex};
use volatile::VolatilePtr;

use crate::irq;
use crate::memory_map::{SYSCTRL_BASE, TIMER_CLOCK_HZ, TIMER01_BASE, TIMER01_IRQ};
use crate::shared::Shared;

type Timer = Sp804<Mmio<'static>>;

static TIMER: Shared<Option<Timer>> = Shared::new(None);
/// Set by the interrupt handler when the alarm has run out.
static ALARM_FIRED: AtomicBool = AtomicBool::new(false);

/// Makes all four SP804 counters (timers 0/1 here, 2/3 the tick) count
/// TIMCLK: at reset the SP810 has them count the 32.768 kHz reference
/// clock, about 30 times slower than [`TIMER_CLOCK_HZ`].
pub(crate) fn select_timer_clocks<R: ferrode_sp810::Registers>(controller: &mut Sp810<R>) {
    for index in TimerIndex::ALL {
        controller.select_timer_clock(index, TimerClock::Timer);
    }
}

/// Selects TIMCLK for every timer, starts the clock at 0 and hooks the
/// alarm's interrupt.
pub(crate) fn init() {
    // SAFETY: SYSCTRL_BASE is the SP810 system controller on this board
    // (DUI 0440 table 4-1); only this bring-up step touches it. (QEMU does
    // not model it: the write is ignored and its timers count 1 MHz.)
    let sysctrl = unsafe {
        VolatilePtr::new(NonNull::new_unchecked(SYSCTRL_BASE as *mut ferrode_sp810::Regs))
    };
    select_timer_clocks(&mut Sp810::new(ferrode_sp810::Mmio::new(sysctrl)));
    // SAFETY: TIMER01_BASE is SP804 dual timer 0/1 on this board (DUI 0440
    // table 4-1), used by nothing else.
    let registers = unsafe { VolatilePtr::new(NonNull::new_unchecked(TIMER01_BASE as *mut Regs)) };
    // TIMCLK is 1 MHz, never zero: construction cannot fail.
    if let Ok(timer) = Sp804::new(Mmio::new(registers), TIMER_CLOCK_HZ, Prescale::Divide1) {
        TIMER.with(|slot| *slot = Some(timer));
    }
    // SAFETY: the platform's own alarm timer, started once at boot; its
    // interrupt is no one else's. TIMER01_IRQ is a valid SPI of this GIC.
    let _ = unsafe { irq::register(TIMER01_IRQ, on_interrupt) };
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
        if ns == 0 {
            return;
        }
        let ticks = ferrode_hal::ns_to_ticks(u64::from(ns), self.tick_hz());
        // The first reading may come just before the count moves on:
        // `ticks` whole ticks have surely passed only once the count is
        // more than `ticks` past it (embedded-hal: never shorter).
        let start = self.now();
        while self.now() - start <= ticks {
            core::hint::spin_loop();
        }
    }
}

/// The board's one-shot alarm in clock ticks: its interrupt wakes
/// [`crate::irq::wait_for_event`]. There is one alarm; every handle
/// controls it.
#[derive(Clone, Copy, Debug, Default)]
pub struct OneShotAlarm(());

/// The alarm.
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
    OneShotAlarm(())
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

#[cfg(test)]
mod tests {
    use core::cell::Cell;

    use ferrode_sp810::{Register, Sp810, TimerIndex, timer_clock_hz};

    use super::select_timer_clocks;
    use crate::memory_map::{REFERENCE_CLOCK_HZ, TIMER_CLOCK_HZ};

    /// SCCTRL after reset: every timer on REFCLK.
    struct Scctrl(Cell<u32>);

    impl ferrode_hal::RegisterAccess<Register> for Scctrl {
        fn read(&self, _: Register) -> u32 {
            self.0.get()
        }
        fn write(&self, _: Register, value: u32) {
            self.0.set(value);
        }
    }

    #[test]
    fn bring_up_makes_every_sp804_counter_count_the_clock_the_platform_assumes() {
        let mut controller = Sp810::new(Scctrl(Cell::new(0)));
        select_timer_clocks(&mut controller);
        let scctrl = controller.release().0.get();
        for index in TimerIndex::ALL {
            assert_eq!(
                timer_clock_hz(scctrl, index, REFERENCE_CLOCK_HZ, TIMER_CLOCK_HZ),
                TIMER_CLOCK_HZ
            );
        }
    }
}
