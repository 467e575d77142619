//! Interrupt dispatch: the GIC, a handler per interrupt ID, and sleeping
//! until something happened.
//!
//! `ferrode_irq` (the arch crate's IRQ entry) acknowledges the interrupt at
//! the GIC, calls the handler [`register`]ed for its ID and signals end of
//! interrupt. Spurious acknowledges (ID 1023) are counted and ignored; an
//! interrupt without a handler is disabled and counted, so it cannot storm.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_gic::{CpuInterfaceRegs, DistributorRegs, Gic, Mmio};
use ferrode_hal::InterruptEvents;
use volatile::VolatilePtr;

use crate::arch;
use crate::memory_map::{GIC_CPU_BASE, GIC_DIST_BASE};
use crate::shared::Shared;

pub use ferrode_gic::Error;

/// Interrupt IDs the handler table covers (the PBX-A9's GIC has 96).
const MAX_INTERRUPTS: usize = 128;

static GIC: Shared<Option<Gic<Mmio<'static>>>> = Shared::new(None);
/// A handler slot per interrupt ID.
type HandlerTable = [Option<fn()>; MAX_INTERRUPTS];

static HANDLERS: Shared<HandlerTable> = Shared::new([None; MAX_INTERRUPTS]);
/// Event count, spurious and handler-less interrupts, the exit hook.
static EVENTS: InterruptEvents = InterruptEvents::new();

/// The Cortex-A9 as the bookkeeping's CPU.
struct Cortex;

impl ferrode_hal::Cpu for Cortex {
    fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
        arch::without_interrupts(f)
    }

    fn wait_for_interrupt() {
        arch::wait_for_interrupt();
    }
}

/// Brings up the GIC: everything disabled until registered.
pub(crate) fn init() {
    // SAFETY: GIC_DIST_BASE and GIC_CPU_BASE are the Cortex-A9 MPCore's
    // distributor and CPU interface on this board (periph base + 0x1000 and
    // + 0x100); nothing else in Ferrode maps them.
    let registers = unsafe {
        Mmio {
            distributor: VolatilePtr::new(NonNull::new_unchecked(
                GIC_DIST_BASE as *mut DistributorRegs,
            )),
            cpu_interface: VolatilePtr::new(NonNull::new_unchecked(
                GIC_CPU_BASE as *mut CpuInterfaceRegs,
            )),
        }
    };
    let mut gic = Gic::new(registers);
    gic.init();
    GIC.with(|slot| *slot = Some(gic));
}

/// Runs `handler` (with interrupts masked) whenever interrupt `id` fires,
/// and enables it at the GIC. Replaces an earlier handler for `id`.
///
/// # Safety
///
/// Interrupt authority: the caller owns the interrupt, as the image's
/// composition made it: the board's IRQ service or kernel glue, or an
/// app without components that drives the device itself. A handler runs
/// in interrupt context, with the kernel's authority; a component's
/// interrupts come through its IRQ session, so its safe code cannot
/// call this.
pub unsafe fn register(id: u32, handler: fn()) -> Result<(), Error> {
    let index = id as usize;
    if index >= MAX_INTERRUPTS {
        return Err(Error::InvalidInterrupt(id));
    }
    HANDLERS.with(|handlers| handlers[index] = Some(handler));
    with_gic(|gic| gic.enable(id))
}

/// Disables interrupt `id` at the GIC and forgets its handler.
///
/// # Safety
///
/// Interrupt authority: the caller owns the interrupt, as the image's
/// composition made it: the board's IRQ service or kernel glue, or an
/// app without components that drives the device itself. A handler runs
/// in interrupt context, with the kernel's authority; a component's
/// interrupts come through its IRQ session, so its safe code cannot
/// call this.
pub unsafe fn unregister(id: u32) -> Result<(), Error> {
    with_gic(|gic| gic.disable(id))?;
    HANDLERS.with(|handlers| {
        if let Some(slot) = handlers.get_mut(id as usize) {
            *slot = None;
        }
    });
    Ok(())
}

/// Masks interrupt `id` at the GIC (its handler stays): the IRQ service
/// masks a device's interrupt from the moment it fires until its driver
/// acks it.
///
/// # Safety
///
/// Interrupt authority: the caller owns the interrupt, as the image's
/// composition made it: the board's IRQ service or kernel glue, or an
/// app without components that drives the device itself. A handler runs
/// in interrupt context, with the kernel's authority; a component's
/// interrupts come through its IRQ session, so its safe code cannot
/// call this.
pub unsafe fn mask(id: u32) -> Result<(), Error> {
    with_gic(|gic| gic.disable(id))
}

/// Unmasks interrupt `id` at the GIC again.
///
/// # Safety
///
/// Interrupt authority: the caller owns the interrupt, as the image's
/// composition made it: the board's IRQ service or kernel glue, or an
/// app without components that drives the device itself. A handler runs
/// in interrupt context, with the kernel's authority; a component's
/// interrupts come through its IRQ session, so its safe code cannot
/// call this.
pub unsafe fn unmask(id: u32) -> Result<(), Error> {
    with_gic(|gic| gic.enable(id))
}

/// Number of interrupts handled since boot (wraps). Read it before
/// checking for work, then pass it to [`wait_for_event`].
pub fn event_count() -> u32 {
    EVENTS.count()
}

/// Sleeps (WFI) until an interrupt has been handled since
/// [`event_count`] returned `since`; returns at once if one already was.
/// Race-free: the check and the WFI happen with interrupts masked, and WFI
/// wakes on a pending interrupt even then.
pub fn wait_for_event(since: u32) {
    EVENTS.wait_for_event::<Cortex>(since);
}

/// Spurious acknowledges (ID 1023) seen since boot.
pub fn spurious_count() -> u32 {
    EVENTS.spurious_count()
}

/// Interrupts that fired without a handler (each was then disabled).
pub fn unhandled_count() -> u32 {
    EVENTS.unhandled_count()
}

fn with_gic<R>(f: impl FnOnce(&mut Gic<Mmio<'static>>) -> Result<R, Error>) -> Result<R, Error> {
    GIC.with(|gic| match gic {
        Some(gic) => f(gic),
        // Before `init` no interrupt can be enabled; report it as invalid.
        None => Err(Error::InvalidInterrupt(u32::MAX)),
    })
}

/// Installs `hook`, run at the very end of every interrupt (after the
/// GIC's end-of-interrupt), on the interrupted thread's stack with IRQs
/// masked: where the kernel switches threads after an interrupt.
///
/// # Safety
///
/// Interrupt authority: the caller owns the interrupt, as the image's
/// composition made it: the board's IRQ service or kernel glue, or an
/// app without components that drives the device itself. A handler runs
/// in interrupt context, with the kernel's authority; a component's
/// interrupts come through its IRQ session, so its safe code cannot
/// call this.
pub unsafe fn set_exit_hook(hook: fn()) {
    EVENTS.set_exit_hook(hook);
}

/// Runs the exit hook, if any (from `ferrode_irq`).
pub(crate) fn run_exit_hook() {
    EVENTS.run_exit_hook();
}

/// IRQ exceptions that ended with the dispatch budget used up by one
/// interrupt coming back again and again ([`ferrode_gic::Dispatch::storming`]):
/// a source its handler does not clear, or a device busier than its
/// handler (a flood of frames). Such an interrupt is not disabled: a busy
/// NIC must keep interrupting; the bound only guarantees that the exit hook
/// runs, so the kernel can switch threads between rounds.
pub fn storm_count() -> u32 {
    STORMS.load(Ordering::Relaxed)
}

static STORMS: AtomicU32 = AtomicU32::new(0);

/// The IRQ exception: acknowledge, dispatch, end of interrupt, until no
/// interrupt is pending or [`ferrode_gic::MAX_DISPATCH`] were served (the
/// exit hook then runs, and a pending interrupt brings the CPU back). An
/// interrupt whose handler does not clear its level-sensitive source kept
/// the CPU here for ever before; now every round ends, and is counted
/// ([`storm_count`]).
pub(crate) fn dispatch() {
    let acknowledge = || GIC.with(|gic| gic.as_mut().and_then(|gic| gic.acknowledge()));
    let handle = |id: u32| {
        match HANDLERS.with(|handlers| handlers.get(id as usize).copied().flatten()) {
            Some(handler) => handler(),
            None => {
                EVENTS.record_unhandled();
                // The ID came from the GIC itself, so it is in range.
                let _ = with_gic(|gic| gic.disable(id));
            }
        }
        EVENTS.record_handled(1);
    };
    let end = |interrupt| {
        GIC.with(|gic| {
            if let Some(gic) = gic {
                gic.end_of_interrupt(interrupt);
            }
        })
    };
    let dispatch = ferrode_gic::serve_pending(acknowledge, handle, end);
    if dispatch.served == 0 {
        // Nothing pending at all on entry: the interrupt was withdrawn (or
        // was never ours) between signalling and acknowledge.
        EVENTS.record_spurious();
    }
    if dispatch.storming.is_some() {
        STORMS.fetch_add(1, Ordering::Relaxed);
    }
}
