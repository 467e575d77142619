//! The periodic tick (the kernel's time slice) on SP804 dual timer 2/3,
//! which nothing else uses: its second timer in periodic mode.
//! Started by the first [`set_handler`], so images without a kernel run
//! without a periodic interrupt.

use core::ptr::NonNull;

use ferrode_sp804::{Mmio, Prescale, Regs, Sp804};
use volatile::VolatilePtr;

use crate::irq;
use crate::memory_map::{TIMER_CLOCK_HZ, TIMER23_BASE, TIMER23_IRQ};
use crate::shared::Shared;

/// Ticks per second.
pub const TICK_HZ: u32 = 100;

type Timer = Sp804<Mmio<'static>>;

static TIMER: Shared<Option<Timer>> = Shared::new(None);
static HANDLER: Shared<Option<fn()>> = Shared::new(None);

const PERIOD_TICKS: u32 = TIMER_CLOCK_HZ / TICK_HZ;

/// Calls `handler` from the tick interrupt, `TICK_HZ` times a second.
///
/// # Safety
///
/// Interrupt authority: the caller owns the interrupt, as the image's
/// composition made it: the board's IRQ service or kernel glue, or an
/// app without components that drives the device itself. A handler runs
/// in interrupt context, with the kernel's authority; a component's
/// interrupts come through its IRQ session, so its safe code cannot
/// call this.
pub unsafe fn set_handler(handler: fn()) {
    HANDLER.with(|slot| *slot = Some(handler));
    let newly_started = TIMER.with(|slot| {
        if slot.is_some() {
            return false;
        }
        // SAFETY: TIMER23_BASE is SP804 dual timer 2/3 on this board (DUI
        // 0440 table 4-1), used by nothing but this module.
        let registers =
            unsafe { VolatilePtr::new(NonNull::new_unchecked(TIMER23_BASE as *mut Regs)) };
        let Ok(mut timer) = Sp804::new(Mmio::new(registers), TIMER_CLOCK_HZ, Prescale::Divide1)
        else {
            return false;
        };
        if timer.start_periodic(PERIOD_TICKS).is_err() {
            return false;
        }
        *slot = Some(timer);
        true
    });
    if newly_started {
        // SAFETY: the platform's own tick timer; its interrupt is no one
        // else's. TIMER23_IRQ is a valid SPI of this GIC.
        let _ = unsafe { irq::register(TIMER23_IRQ, on_interrupt) };
    }
}

fn on_interrupt() {
    let expired = TIMER.with(|slot| slot.as_mut().is_some_and(|timer| timer.handle_interrupt()));
    if expired && let Some(handler) = HANDLER.with(|slot| *slot) {
        handler();
    }
}
