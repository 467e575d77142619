//! defmt's global logger for Ferrode images.
//!
//! An app that depends on this crate (and names it once, `use
//! ferrode_defmt as _;`) logs with `defmt::info!` and friends; the frames go
//! to the board console, rzcobs-encoded, and the host decodes them with the
//! image's `.defmt` table (`cargo xtask run`, the test harness).
//!
//! # On the wire
//!
//! Each frame is written as `0x00`, the rzcobs-encoded frame, `0x00`:
//! rzcobs never produces a zero byte, so a zero opens a frame and the next
//! zero closes it. Plain text (`println!`, LOG lines) shares the console
//! and never contains a zero byte, so the host passes everything outside a
//! frame through as text. The leading zero also lets `defmt-print` read a
//! raw stream of frames (`cargo xtask run --raw`), since it skips empty
//! frames. A frame is queued for the console with interrupts masked from
//! acquire to release, so neither an interrupt handler nor another thread
//! (threads switch only on interrupts) can write into the middle of it;
//! it goes to the UART after release, as the board's text lines do, with
//! interrupts masked only while a step fills the UART's FIFO.
//!
//! # Timestamps and labels
//!
//! Every frame carries the platform clock in microseconds
//! (`ferrode_board::platform::devices::clock()`), decoded as seconds
//! (`{=u64:us}`). With the `labels` feature it also carries the name of
//! the running thread's component (the names `compose!` gives, `root` for
//! the composer, empty before the kernel starts); the host prints it in
//! brackets after the level.
//!
//! # The filter
//!
//! Which levels are compiled in is defmt's `DEFMT_LOG` at build time;
//! `cargo xtask` sets `DEFMT_LOG=trace` unless the environment sets it.
//!
//! # Build
//!
//! The image must be linked with defmt's `defmt.x` as well as the board's
//! script, for the `.defmt` table (an `INFO` section: not loaded, not
//! counted in the image's size). An app adds it in its `build.rs`:
//! `println!("cargo:rustc-link-arg-bins=-Tdefmt.x")`; other apps are linked
//! as before.
#![no_std]

use core::cell::UnsafeCell;

use ferrode_board::{arch, platform};
use ferrode_hal::Monotonic;

/// The byte that opens and closes every frame on the console.
pub const FRAME_DELIMITER: u8 = 0x00;

/// The logger's state: the encoder, and the interrupt masks found by the
/// acquire of the frame being written (`None` when no frame is).
struct State {
    encoder: defmt::Encoder,
    interrupts: Option<arch::InterruptState>,
}

/// [`State`] in a static, reached only with interrupts masked.
struct Global(UnsafeCell<State>);

// SAFETY: one core; the state is touched only between acquire and release,
// with interrupts masked, so no two contexts reach it at once.
unsafe impl Sync for Global {}

static STATE: Global =
    Global(UnsafeCell::new(State { encoder: defmt::Encoder::new(), interrupts: None }));

/// Queues encoded bytes for the console (interrupts are masked), after
/// the text the board's writers queued: `release` hands them to the UART
/// once interrupts are open again.
fn console(bytes: &[u8]) {
    // SAFETY: the image's defmt frames, for the host's decoder, which
    // shows each as a defmt log line apart from the console's text lines
    // (a frame runs from one zero byte to the next, and its rzCOBS
    // encoding holds none): whatever a component logs, its bytes cannot
    // pass for another component's text line there.
    unsafe { ferrode_board::console_queue(bytes) };
}

#[defmt::global_logger]
struct Logger;

// SAFETY: `acquire` masks interrupts and refuses re-entry, so the frame's
// writes and its release come from the one context that acquired, and no
// other frame starts before `release`.
unsafe impl defmt::Logger for Logger {
    fn acquire() {
        let interrupts = arch::disable_interrupts();
        // SAFETY: interrupts are masked on the one core: no other context
        // runs until `release`, and no reference to the state is live.
        let state = unsafe { &mut *STATE.0.get() };
        if state.interrupts.is_some() {
            // A log statement inside a frame (a `Format` impl that logs).
            // SAFETY: the masks just taken, innermost first.
            unsafe { arch::restore_interrupts(interrupts) };
            panic!("defmt: a log statement ran inside another one's frame");
        }
        state.interrupts = Some(interrupts);
        console(&[FRAME_DELIMITER]);
        state.encoder.start_frame(console);
    }

    unsafe fn flush() {}

    unsafe fn release() {
        // SAFETY: called after `acquire` (defmt's contract): interrupts are
        // masked and this context owns the state.
        let state = unsafe { &mut *STATE.0.get() };
        state.encoder.end_frame(console);
        if let Some(interrupts) = state.interrupts.take() {
            // SAFETY: the masks this frame's `acquire` found; the frame's
            // critical section ends here.
            unsafe { arch::restore_interrupts(interrupts) };
        }
        // The frame goes to the UART with interrupts masked only for short
        // steps.
        ferrode_board::console_drain();
    }

    unsafe fn write(bytes: &[u8]) {
        // SAFETY: as in `release`: between acquire and release.
        let state = unsafe { &mut *STATE.0.get() };
        state.encoder.write(bytes, console);
    }
}

/// The platform clock in microseconds.
fn micros() -> u64 {
    platform::devices::clock().now_ns() / 1_000
}

/// The running thread's component name, or `""` before the kernel runs.
#[cfg(feature = "labels")]
fn label() -> &'static str {
    let kernel = ferrode_board::kernel::kernel();
    kernel.component_name(kernel.current_component()).unwrap_or("")
}

#[cfg(feature = "labels")]
defmt::timestamp!("{=u64:us} {=str}", micros(), label());
#[cfg(not(feature = "labels"))]
defmt::timestamp!("{=u64:us}", micros());
