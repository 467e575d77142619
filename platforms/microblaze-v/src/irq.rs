//! Interrupts: the AXI INTC on the machine external interrupt, and one
//! handler per INTC input.
//!
//! Drivers and apps [`register`] a plain `fn()` for an input (which also
//! enables it), and sleep with [`event_count`] / [`wait_for_event`]. The
//! platform turns interrupts on at the CPU before the app runs. The trap
//! vector calls
//! `ferrode_irq`, which asks the INTC for the pending inputs (most urgent,
//! i.e. lowest-numbered, first) and calls their handlers with interrupts
//! masked. An input without a handler is disabled and counted.

use core::cell::Cell;
use core::sync::atomic::{AtomicBool, Ordering};

use critical_section::Mutex;
use static_cell::StaticCell;

use ferrode_hal::InterruptEvents;

use axi_intc::{AxiIntc, Config, Irq, Mmio};

use crate::memory_map::{INTC_BASE, INTC_EDGE_TRIGGERED, INTC_HAS_SET_CLEAR_ENABLE};
use crate::shared::IrqShared;
use crate::{arch, mmio};

/// Number of interrupt inputs of the AXI INTC.
pub const IRQ_COUNT: usize = 32;

/// The driver, placed once by `init`...
static INTC_STORAGE: StaticCell<Intc> = StaticCell::new();
/// ... and published for every context (`None` before `init`).
static INTC: Mutex<Cell<Option<&'static Intc>>> = Mutex::new(Cell::new(None));

/// The driver, once `init` has run.
fn intc() -> Option<&'static Intc> {
    critical_section::with(|cs| INTC.borrow(cs).get())
}

/// The AXI INTC driver, shared by every thread and the trap handler.
pub(crate) struct Intc(AxiIntc<Mmio<'static>>);

// SAFETY: the driver holds its configuration and the register pointer, no
// interior mutability of its own. Its operations are single register
// accesses (acknowledge, SIE/CIE writes, status reads) except enable and
// disable on a core without SIE/CIE, a read-modify-write of IER: this
// module runs those with interrupts masked (the trap handler runs masked),
// so on the one hart no two contexts interleave inside one.
unsafe impl Sync for Intc {}
// SAFETY: as above; the register block is the same wherever the value is
// used from.
unsafe impl Send for Intc {}
/// The handler of every input, by input number.
type HandlerTable = [Option<fn()>; IRQ_COUNT];

static HANDLERS: IrqShared<HandlerTable> = IrqShared::new();
static IN_INTERRUPT: AtomicBool = AtomicBool::new(false);
/// Event count, spurious and handler-less interrupts, the exit hook.
static EVENTS: InterruptEvents = InterruptEvents::new();

/// The MicroBlaze V hart as the bookkeeping's CPU.
struct Hart;

impl ferrode_hal::Cpu for Hart {
    fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
        arch::without_interrupts(f)
    }

    fn wait_for_interrupt() {
        arch::wait_for_interrupt();
    }
}

/// Takes over the AXI INTC (every input off, master and hardware enable
/// on). Called once by bring-up, before any driver enables its input.
pub(crate) fn init() {
    // SAFETY: INTC_BASE is the AXI INTC of this design (memory_map), whose
    // register block is `axi_intc::Regs`.
    let regs = unsafe { mmio::registers::<axi_intc::Regs>(INTC_BASE) };
    let config = Config {
        edge_triggered: INTC_EDGE_TRIGGERED,
        has_set_clear_enable: INTC_HAS_SET_CLEAR_ENABLE,
    };
    HANDLERS.set([None; IRQ_COUNT]);
    let intc: &'static Intc = INTC_STORAGE.init(Intc(AxiIntc::new(Mmio::new(regs), config)));
    critical_section::with(|cs| INTC.borrow(cs).set(Some(intc)));
}

/// Why an interrupt request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The AXI INTC has no such input (it has 32), or it is not up yet.
    InvalidInterrupt(u32),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::InvalidInterrupt(id) => write!(f, "no AXI INTC input {id}"),
        }
    }
}

impl core::error::Error for Error {}

fn input(id: u32) -> Result<(Irq, &'static AxiIntc<Mmio<'static>>), Error> {
    let irq = Irq::new(id).ok_or(Error::InvalidInterrupt(id))?;
    let intc = intc().ok_or(Error::InvalidInterrupt(id))?;
    Ok((irq, &intc.0))
}

/// Runs `handler` (in interrupt context, interrupts masked) whenever INTC
/// input `id` fires, and enables the input. Replaces an earlier handler.
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
    let (irq, intc) = input(id)?;
    HANDLERS.with(|table| table[irq.number() as usize] = Some(handler));
    arch::without_interrupts(|| intc.enable(irq));
    Ok(())
}

/// Disables INTC input `id` and forgets its handler.
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
    let (irq, intc) = input(id)?;
    arch::without_interrupts(|| intc.disable(irq));
    HANDLERS.with(|table| table[irq.number() as usize] = None);
    Ok(())
}

/// Masks INTC input `id` (its handler stays): the IRQ service masks a
/// device's interrupt from the moment it fires until its driver acks it.
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
    let (irq, intc) = input(id)?;
    arch::without_interrupts(|| intc.disable(irq));
    Ok(())
}

/// Unmasks INTC input `id` again ([`AxiIntc::unmask`]: a level input's
/// latch from while it was masked is cleared first, so a device served
/// meanwhile raises no interrupt).
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
    let (irq, intc) = input(id)?;
    arch::without_interrupts(|| intc.unmask(irq));
    Ok(())
}

/// Number of interrupt handler calls since boot (wraps). Read it before
/// checking for work, then pass it to [`wait_for_event`].
pub fn event_count() -> u32 {
    EVENTS.count()
}

/// Sleeps (`wfi`) until an interrupt has been handled since
/// [`event_count`] returned `since`; returns at once if one already was.
/// Race-free: the check and the `wfi` happen with interrupts masked, and
/// `wfi` wakes on a pending enabled interrupt even then; its handler runs
/// as this returns.
pub fn wait_for_event(since: u32) {
    EVENTS.wait_for_event::<Hart>(since);
}

/// Machine external interrupts taken with nothing pending at the INTC.
pub fn spurious_count() -> u32 {
    EVENTS.spurious_count()
}

/// Interrupts that fired on an input without a handler (each was then
/// disabled).
pub fn unhandled_count() -> u32 {
    EVENTS.unhandled_count()
}

/// Whether the caller runs in an interrupt handler.
pub fn in_interrupt() -> bool {
    IN_INTERRUPT.load(Ordering::Relaxed)
}

/// Installs `hook`, run at the very end of every interrupt (after the
/// AXI INTC acknowledge), on the interrupted thread's stack with
/// interrupts masked: where the kernel switches threads after an interrupt.
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

/// Interrupt entry from the trap vector (machine external interrupt), with
/// interrupts masked.
pub(crate) fn dispatch() {
    let Some(Intc(intc)) = intc() else {
        panic!("interrupt before the interrupt controller was initialised");
    };
    IN_INTERRUPT.store(true, Ordering::Relaxed);
    let calls = intc.dispatch(|irq| {
        let handler = HANDLERS.with(|table| table[irq.number() as usize]).flatten();
        match handler {
            Some(handler) => handler(),
            None => {
                intc.disable(irq);
                EVENTS.record_unhandled();
            }
        }
    });
    if calls == 0 {
        EVENTS.record_spurious();
    }
    EVENTS.record_handled(calls);
    IN_INTERRUPT.store(false, Ordering::Relaxed);
}
