//! The periodic tick (the kernel's time slice) on SP804 dual timer 2/3,
//! which nothing else uses: its one-shot alarm re-armed every period.
//! Started by the first [`set_handler`], so images without a kernel run
//! without a periodic interrupt.

use core::ptr::NonNull;

use ferrode_hal::Alarm;
use ferrode_sp804::{Prescale, Regs, Sp804};
use volatile::VolatilePtr;

use crate::irq;
use crate::memory_map::{TIMER_CLOCK_HZ, TIMER23_BASE, TIMER23_IRQ};
use crate::shared::Shared;

/// Ticks per second.
pub const TICK_HZ: u32 = 100;

type Timer = Sp804<VolatilePtr<'static, Regs>>;

static TIMER: Shared<Option<Timer>> = Shared::new(None);
static HANDLER: Shared<Option<fn()>> = Shared::new(None);

const PERIOD_TICKS: u64 = (TIMER_CLOCK_HZ / TICK_HZ) as u64;

/// Calls `handler` from the tick interrupt, `TICK_HZ` times a second.
pub fn set_handler(handler: fn()) {
    HANDLER.with(|slot| *slot = Some(handler));
    let started = TIMER.with(|slot| {
        if slot.is_some() {
            return true;
        }
        // SAFETY: TIMER23_BASE is SP804 dual timer 2/3 on this board (DUI
        // 0440 table 4-1), used by nothing but this module.
        let registers = unsafe { VolatilePtr::new(NonNull::new_unchecked(TIMER23_BASE as *mut Regs)) };
        match Sp804::new(registers, TIMER_CLOCK_HZ, Prescale::Divide1) {
            Ok(mut timer) => {
                timer.arm_after(PERIOD_TICKS);
                *slot = Some(timer);
                false
            }
            Err(_) => true,
        }
    });
    if !started {
        // TIMER23_IRQ is a valid SPI of this GIC.
        let _ = irq::register(TIMER23_IRQ, on_interrupt);
    }
}

fn on_interrupt() {
    let expired = TIMER.with(|slot| {
        let Some(timer) = slot else { return false };
        let expired = timer.handle_interrupt();
        if expired {
            timer.arm_after(PERIOD_TICKS);
        }
        expired
    });
    if expired && let Some(handler) = HANDLER.with(|slot| *slot) {
        handler();
    }
}
