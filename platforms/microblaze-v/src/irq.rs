//! Interrupts: the AXI INTC on the machine external interrupt, and one
//! handler per INTC input.
//!
//! Drivers and apps register a plain `fn()` for an input with
//! [`set_handler`], unmask it with [`enable`], and turn interrupts on at
//! the CPU with [`enable_interrupts`]. The trap vector calls
//! `ferrode_irq`, which asks the INTC for the pending inputs (most urgent,
//! i.e. lowest-numbered, first) and calls their handlers with interrupts
//! masked. An input without a handler is disabled and counted.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use axi_intc::{AxiIntc, Config, Irq, Mmio};

use crate::memory_map::{INTC_BASE, INTC_EDGE_TRIGGERED, INTC_HAS_SET_CLEAR_ENABLE};
use crate::shared::{InitOnce, IrqShared};
use crate::{arch, mmio};

/// Number of interrupt inputs of the AXI INTC.
pub const IRQ_COUNT: usize = 32;

static INTC: InitOnce<AxiIntc<Mmio<'static>>> = InitOnce::new();
/// The handler of every input, by input number.
type HandlerTable = [Option<fn()>; IRQ_COUNT];

static HANDLERS: IrqShared<HandlerTable> = IrqShared::new();
static IN_INTERRUPT: AtomicBool = AtomicBool::new(false);
static UNHANDLED: AtomicU32 = AtomicU32::new(0);
static DISPATCHED: AtomicU32 = AtomicU32::new(0);

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
    INTC.set(AxiIntc::new(Mmio::new(regs), config));
}

fn input(irq: u32) -> Irq {
    Irq::new(irq).unwrap_or_else(|| panic!("no AXI INTC input {irq}"))
}

fn intc() -> &'static AxiIntc<Mmio<'static>> {
    INTC.get().expect("interrupt controller not initialised")
}

/// Installs `handler` for INTC input `irq` (0..32), replacing any other.
/// It runs in interrupt context, with interrupts masked.
pub fn set_handler(irq: u32, handler: fn()) {
    let index = input(irq).number() as usize;
    HANDLERS.with(|table| table[index] = Some(handler));
}

/// Removes the handler of `irq` and disables the input.
pub fn clear_handler(irq: u32) {
    disable(irq);
    let index = input(irq).number() as usize;
    HANDLERS.with(|table| table[index] = None);
}

/// Lets INTC input `irq` interrupt the CPU.
pub fn enable(irq: u32) {
    intc().enable(input(irq));
}

/// Stops INTC input `irq` from interrupting the CPU.
pub fn disable(irq: u32) {
    intc().disable(input(irq));
}

/// Unmasks interrupts at the CPU (machine external interrupt and
/// `mstatus.MIE`).
pub fn enable_interrupts() {
    arch::enable_interrupts();
}

/// Runs `f` with interrupts masked (a critical section on this single-hart
/// board).
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    arch::without_interrupts(f)
}

/// Sleeps until an interrupt is pending unless `ready()` already holds.
///
/// `ready` is checked with interrupts masked and `wfi` also wakes on a
/// masked pending interrupt, so an interrupt that arrives between the check
/// and the sleep is not missed; its handler runs when this returns.
pub fn wait_until(ready: impl Fn() -> bool) {
    while !arch::without_interrupts(|| {
        let done = ready();
        if !done {
            arch::wait_for_interrupt();
        }
        done
    }) {}
}

/// Whether the caller runs in an interrupt handler.
pub fn in_interrupt() -> bool {
    IN_INTERRUPT.load(Ordering::Relaxed)
}

/// Handler calls made since boot.
pub fn dispatched() -> u32 {
    DISPATCHED.load(Ordering::Relaxed)
}

/// Interrupts that arrived on an input without a handler (each disabled).
pub fn unhandled() -> u32 {
    UNHANDLED.load(Ordering::Relaxed)
}

/// Interrupt entry from the trap vector (machine external interrupt), with
/// interrupts masked.
pub(crate) fn dispatch() {
    let Some(intc) = INTC.get() else {
        panic!("interrupt before the interrupt controller was initialised");
    };
    IN_INTERRUPT.store(true, Ordering::Relaxed);
    let calls = intc.dispatch(|irq| {
        let handler = HANDLERS.with(|table| table[irq.number() as usize]).flatten();
        match handler {
            Some(handler) => handler(),
            None => {
                intc.disable(irq);
                bump(&UNHANDLED, 1);
            }
        }
    });
    bump(&DISPATCHED, calls);
    IN_INTERRUPT.store(false, Ordering::Relaxed);
}

/// Adds to a counter with a plain load and store: callers run with
/// interrupts masked, and this keeps the image free of atomic
/// read-modify-write instructions (MicroBlaze V may lack the A extension).
fn bump(counter: &AtomicU32, amount: u32) {
    counter.store(counter.load(Ordering::Relaxed).wrapping_add(amount), Ordering::Relaxed);
}
