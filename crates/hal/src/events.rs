//! Interrupt bookkeeping every platform needs, in one place: how many
//! interrupts were handled (to sleep until the next), spurious and
//! handler-less ones, and the exit hook the kernel switches threads from.
//!
//! A platform keeps one [`InterruptEvents`] in a static, records into it
//! from its interrupt dispatcher (with interrupts masked) and hands
//! `event_count`, `wait_for_event` and `set_exit_hook` to applications.
//! The CPU's part (masking interrupts, waiting for one) comes through the
//! small [`Cpu`] trait, implemented by the platform over its arch crate.

use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

/// What the bookkeeping needs of the CPU.
pub trait Cpu {
    /// Runs `f` with interrupts masked (restoring the previous state).
    fn without_interrupts<R>(f: impl FnOnce() -> R) -> R;
    /// Waits for an interrupt; returns when one is pending, even while
    /// interrupts are masked (ARM WFI, RISC-V WFI).
    fn wait_for_interrupt();
}

/// Interrupt counters and the exit hook.
#[derive(Debug)]
pub struct InterruptEvents {
    handled: AtomicU32,
    spurious: AtomicU32,
    unhandled: AtomicU32,
    /// A `fn()` stored as a pointer, null for none.
    exit_hook: AtomicPtr<()>,
}

/// Adds to a counter with a plain load and store: callers run with
/// interrupts masked on a single core, and this keeps images free of
/// atomic read-modify-write instructions (MicroBlaze V may lack the A
/// extension).
fn bump(counter: &AtomicU32, amount: u32) {
    counter.store(counter.load(Ordering::Relaxed).wrapping_add(amount), Ordering::Release);
}

impl InterruptEvents {
    /// No events, no hook.
    pub const fn new() -> Self {
        Self {
            handled: AtomicU32::new(0),
            spurious: AtomicU32::new(0),
            unhandled: AtomicU32::new(0),
            exit_hook: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// Records `count` handler calls (from the dispatcher, interrupts
    /// masked).
    pub fn record_handled(&self, count: u32) {
        bump(&self.handled, count);
    }

    /// Records an interrupt taken with nothing pending.
    pub fn record_spurious(&self) {
        bump(&self.spurious, 1);
    }

    /// Records an interrupt that had no handler (the dispatcher disables it).
    pub fn record_unhandled(&self) {
        bump(&self.unhandled, 1);
    }

    /// Handler calls since boot (wraps). Read it before checking for work,
    /// then pass it to [`InterruptEvents::wait_for_event`].
    pub fn count(&self) -> u32 {
        self.handled.load(Ordering::Acquire)
    }

    /// Interrupts taken with nothing pending, since boot.
    pub fn spurious_count(&self) -> u32 {
        self.spurious.load(Ordering::Relaxed)
    }

    /// Interrupts that fired without a handler, since boot.
    pub fn unhandled_count(&self) -> u32 {
        self.unhandled.load(Ordering::Relaxed)
    }

    /// Sleeps until an interrupt has been handled since [`Self::count`]
    /// returned `since`; returns at once if one already was. Race-free: the
    /// check and the wait happen with interrupts masked, and the CPU wakes
    /// on a pending interrupt even then; its handler runs as this returns.
    pub fn wait_for_event<C: Cpu>(&self, since: u32) {
        C::without_interrupts(|| {
            if self.count() == since {
                C::wait_for_interrupt();
            }
        });
    }

    /// Installs `hook`, to be run at the very end of every interrupt.
    pub fn set_exit_hook(&self, hook: fn()) {
        self.exit_hook.store(hook as *mut (), Ordering::Release);
    }

    /// Runs the exit hook, if any (from the platform's interrupt entry).
    pub fn run_exit_hook(&self) {
        let hook = self.exit_hook.load(Ordering::Acquire);
        if !hook.is_null() {
            // SAFETY: `exit_hook` only ever holds null or a `fn()` stored
            // by `set_exit_hook`, and function pointers and data pointers
            // have the same size on every target Ferrode builds for.
            let hook: fn() = unsafe { core::mem::transmute::<*mut (), fn()>(hook) };
            hook();
        }
    }
}

impl Default for InterruptEvents {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use core::cell::Cell;

    use super::{Cpu, InterruptEvents};

    std::thread_local! {
        static MASKED: Cell<u32> = const { Cell::new(0) };
        static WAITS_MASKED: Cell<u32> = const { Cell::new(0) };
        static WAITS: Cell<u32> = const { Cell::new(0) };
        static HOOK_RUNS: Cell<u32> = const { Cell::new(0) };
    }

    struct FakeCpu;

    impl Cpu for FakeCpu {
        fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
            MASKED.with(|m| m.set(m.get() + 1));
            let result = f();
            MASKED.with(|m| m.set(m.get() - 1));
            result
        }

        fn wait_for_interrupt() {
            WAITS.with(|w| w.set(w.get() + 1));
            if MASKED.with(Cell::get) > 0 {
                WAITS_MASKED.with(|w| w.set(w.get() + 1));
            }
        }
    }

    #[test]
    fn waiting_sleeps_only_when_nothing_was_handled_and_checks_masked() {
        let events = InterruptEvents::new();
        let seen = events.count();
        events.wait_for_event::<FakeCpu>(seen);
        assert_eq!(WAITS.with(Cell::get), 1, "nothing handled: sleep");
        assert_eq!(WAITS_MASKED.with(Cell::get), 1, "check and sleep with interrupts masked");
        events.record_handled(2);
        events.wait_for_event::<FakeCpu>(seen);
        assert_eq!(WAITS.with(Cell::get), 1, "handled since `seen`: no sleep");
        assert_eq!(events.count(), seen.wrapping_add(2));
    }

    #[test]
    fn counters_wrap_and_are_kept_apart() {
        let events = InterruptEvents::new();
        events.record_handled(u32::MAX);
        events.record_handled(2);
        events.record_spurious();
        events.record_unhandled();
        events.record_unhandled();
        assert_eq!((events.count(), events.spurious_count(), events.unhandled_count()), (1, 1, 2));
    }

    /// Each counter says how many of its own events were recorded, none
    /// as well as several (guards against a counter stuck at the one event
    /// the test above records).
    #[test]
    fn each_counter_counts_only_its_own_events() {
        let events = InterruptEvents::new();
        assert_eq!((events.count(), events.spurious_count(), events.unhandled_count()), (0, 0, 0));
        events.record_spurious();
        events.record_spurious();
        events.record_spurious();
        events.record_handled(5);
        assert_eq!((events.count(), events.spurious_count(), events.unhandled_count()), (5, 3, 0));
    }

    fn hook() {
        HOOK_RUNS.with(|h| h.set(h.get() + 1));
    }

    #[test]
    fn the_exit_hook_runs_once_installed() {
        let events = InterruptEvents::new();
        events.run_exit_hook();
        assert_eq!(HOOK_RUNS.with(Cell::get), 0);
        events.set_exit_hook(hook);
        events.run_exit_hook();
        events.run_exit_hook();
        assert_eq!(HOOK_RUNS.with(Cell::get), 2);
    }
}
