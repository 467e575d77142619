//! The console writer and the panic and fault reports.
//!
//! The reports are written through [`ferrode_report::Out`], not `core::fmt`:
//! an image whose application formats nothing carries none of `core::fmt`
//! (about 4 KiB of PBX-A9 hello). A release image's panic report is the
//! word `PANIC` and the backtrace (see [`panic`]): the panic's message and
//! location come with debug builds and with the `panic-messages` feature.

use core::cell::{Cell, UnsafeCell};
use core::fmt;

use ferrode_report::console::{Lines, Outbox, Writer};
use ferrode_report::{Out, Report, hex};

use crate::{arch, end_image, exit_code, platform};

/// The board console, as a `core::fmt::Write` and as a report [`Out`]:
/// what it writes goes out as the running component's, every line under
/// its name (`[client] ...`), its control characters as `?`, as
/// [`println!`](crate::println) does; the image's own code (the composer,
/// an app without components) writes unlabelled lines. No component can
/// write a line that passes for another's (see
/// [`ferrode_report::console`]).
pub struct Console;

impl Out for Console {
    fn text(&mut self, text: &str) {
        Queued.text(text);
        drain();
    }
}

/// The board console without the hand-over: text queued as the running
/// component's (as [`Console`] writes it) and left for [`drain`]. For a
/// whole `print!`, queued in one critical section and handed to the UART
/// after it, so that no other writer's text comes between its pieces and
/// none of them waits for the UART with interrupts masked.
pub(crate) struct Queued;

impl Out for Queued {
    fn text(&mut self, text: &str) {
        let writer = writer();
        queue_lines(|lines| lines.write(writer, text, send));
    }
}

impl fmt::Write for Queued {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        Out::text(self, text);
        Ok(())
    }
}

impl fmt::Write for Console {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        Out::text(self, text);
        Ok(())
    }
}

/// Whose text the running thread writes: a component's (by its kernel
/// name), or the image's (core's threads, an image without the kernel).
fn writer() -> Writer {
    #[cfg(feature = "kernel")]
    {
        let k = crate::kernel::kernel();
        if !k.running_in_root() {
            return Writer::Component(k.component_name(k.current_component()).unwrap_or("?"));
        }
    }
    Writer::Image
}

/// The console's line state, shared by every writer.
struct LineState(Cell<Lines>);

// SAFETY: one core, and the state is read and written only with
// interrupts masked (`with_lines`, `line`), so no two contexts reach it at
// once.
unsafe impl Sync for LineState {}

static LINES: LineState = LineState(Cell::new(Lines::new()));

/// The console's outbox: what its writers queued with interrupts masked
/// and the UART has not taken yet (see [`Outbox`]). More than a LOG line
/// (160 bytes and its label) or a report's, so a line finds room once the
/// writers before it are done; a longer one waits for the UART with
/// interrupts masked, as every line did before there was an outbox.
struct OutboxState {
    outbox: UnsafeCell<Outbox<OUTBOX_BYTES>>,
    /// Set while a context works on the outbox: a report from inside that
    /// work (a panic or fault there) writes around it.
    busy: Cell<bool>,
}

const OUTBOX_BYTES: usize = 256;

// SAFETY: one core, and the outbox is reached only with interrupts masked
// (`raw`, `drain`, `console_queue`), so no two contexts reach it at once
// but one nested in another, which `busy` turns away.
unsafe impl Sync for OutboxState {}

static OUTBOX: OutboxState =
    OutboxState { outbox: UnsafeCell::new(Outbox::new()), busy: Cell::new(false) };

/// Runs `f` on the console's outbox; `None` if this context is already
/// working on it further up its stack (a report from inside that work).
///
/// # Safety
///
/// Interrupts are masked.
unsafe fn with_outbox<R>(f: impl FnOnce(&mut Outbox<OUTBOX_BYTES>) -> R) -> Option<R> {
    if OUTBOX.busy.replace(true) {
        return None;
    }
    // SAFETY: interrupts are masked (the caller's contract) on the one
    // core, and `busy` keeps a nested context out: no other reference to
    // the outbox is live while `f` runs.
    let result = f(unsafe { &mut *OUTBOX.outbox.get() });
    OUTBOX.busy.set(false);
    Some(result)
}

/// Offers the queued console bytes to the UART, which takes what its FIFO
/// has room for; whether none are left (or this context may not look).
///
/// # Safety
///
/// As [`with_outbox`].
unsafe fn send_queued() -> bool {
    // SAFETY: the caller's contract.
    unsafe { with_outbox(|outbox| outbox.send(try_write)) }.unwrap_or(true)
}

fn try_write(bytes: &[u8]) -> usize {
    // SAFETY: the image's console writer: every component's text reaches
    // the outbox through `Lines`, which labels it.
    unsafe { platform::console_try_write(bytes) }
}

/// Hands the console's queued bytes to the UART and returns once it took
/// them all: in steps, each with interrupts masked only while it moves
/// what the UART's FIFO has room for, never while waiting for the line.
/// Every writer calls it after queueing its text, so what a thread printed
/// has reached the UART when its print returns. Out of line: every writer
/// shares it.
#[inline(never)]
pub(crate) fn drain() {
    // SAFETY: interrupts are masked for the step, which does not reach the
    // outbox again.
    while !arch::without_interrupts(|| unsafe { send_queued() }) {
        core::hint::spin_loop();
    }
}

/// Runs `f` on the console's line state with interrupts masked: what it
/// sends is queued whole, before any other writer's.
fn queue_lines<R>(f: impl FnOnce(&mut Lines) -> R) -> R {
    arch::without_interrupts(|| {
        let mut lines = LINES.0.get();
        let result = f(&mut lines);
        LINES.0.set(lines);
        result
    })
}

/// [`queue_lines`], then the queued text handed to the UART ([`drain`]).
fn with_lines<R>(f: impl FnOnce(&mut Lines) -> R) -> R {
    let result = queue_lines(f);
    drain();
    result
}

/// Sends text to the console UART as it is, each line end as CR LF (what
/// terminals expect). Out of line: every writer shares it.
#[inline(never)]
fn send(text: &str) {
    let mut rest = text.as_bytes();
    while let Some(end) = rest.iter().position(|&byte| byte == b'\n') {
        let (body, after) = rest.split_at(end);
        raw(body);
        raw(b"\r\n");
        rest = after.get(1..).unwrap_or_default();
    }
    raw(rest);
}

/// Queues `bytes` for the console, after what was queued before
/// (interrupts are masked: every caller is inside `with_lines` or `line`).
/// Without room for them all, waits for the UART (interrupts still masked,
/// so the line stays whole).
fn raw(bytes: &[u8]) {
    let mut rest = bytes;
    loop {
        // SAFETY: interrupts are masked (see above).
        let Some(taken) = (unsafe { with_outbox(|outbox| outbox.queue(rest)) }) else {
            // A report from inside the outbox's own work: straight to the
            // UART, so it still appears.
            // SAFETY: the image's console writer, as in `try_write`.
            unsafe { platform::console_write(rest) };
            return;
        };
        rest = rest.get(taken..).unwrap_or_default();
        if rest.is_empty() {
            return;
        }
        // SAFETY: as above.
        unsafe { send_queued() };
        core::hint::spin_loop();
    }
}

/// Queues `bytes` for the console as they are, after what the other
/// writers queued, for [`console_drain`] (or the next writer) to hand to
/// the UART.
///
/// # Safety
///
/// As the platform's `console_write`: raw bytes could pass for another
/// component's line, so only the image's own writers may call this (the
/// defmt logger, for its frames).
pub unsafe fn console_queue(bytes: &[u8]) {
    arch::without_interrupts(|| raw(bytes));
}

/// Hands everything queued for the console to the UART, waiting with
/// interrupts masked only for short steps (see [`console_queue`]).
pub fn console_drain() {
    drain();
}

/// The image's own lines, as they are (inside [`line`]).
struct Raw;

impl Out for Raw {
    fn text(&mut self, text: &str) {
        send(text);
    }
}

/// Writes one whole line of the image's to the console (a report, a LOG
/// line, the composer's): what `write` writes, then the line end, on a
/// line of its own (a line another writer left open is ended first), with
/// interrupts masked so that no other output comes between. Text a
/// component chose goes in through [`ferrode_report::console::printable`].
pub(crate) fn line(write: impl FnOnce(&mut dyn Out)) {
    let interrupts = begin_line();
    write(&mut Raw);
    end_line(interrupts);
}

/// [`line`]'s start, out of line (every report shares it): masks
/// interrupts and ends the line another writer left open.
#[inline(never)]
fn begin_line() -> arch::InterruptState {
    let interrupts = arch::disable_interrupts();
    let mut lines = LINES.0.get();
    lines.start_line(send);
    LINES.0.set(lines);
    interrupts
}

/// [`line`]'s end: the line end, no line open, interrupts as they were,
/// and the line handed to the UART.
#[inline(never)]
fn end_line(interrupts: arch::InterruptState) {
    send("\n");
    LINES.0.set(Lines::new());
    // SAFETY: the state `begin_line` found, restored after its section.
    unsafe { arch::restore_interrupts(interrupts) };
    drain();
}

/// Writes `line` and a line end as the running component's console text
/// (std's stdout without a LOG session).
#[cfg_attr(not(feature = "hermit"), allow(dead_code, reason = "std's stdout writes through it"))]
pub(crate) fn component_line(line: &str) {
    let writer = writer();
    with_lines(|lines| {
        lines.write(writer, line, send);
        lines.write(writer, "\n", send);
    });
}

/// Writes `bytes`, which the running component sent to its stdout (std,
/// not on its std thread), as its console text: invalid UTF-8 shows as `?`.
#[cfg_attr(not(feature = "hermit"), allow(dead_code, reason = "std's stdout writes through it"))]
pub(crate) fn component_bytes(bytes: &[u8]) {
    let writer = writer();
    with_lines(|lines| {
        for chunk in bytes.utf8_chunks() {
            lines.write(writer, chunk.valid(), send);
            if !chunk.invalid().is_empty() {
                lines.write(writer, "?", send);
            }
        }
    });
}

/// A panic: in release images `PANIC` and the backtrace, whose first
/// source line (the host adds it) is where the panic happened. Reading the
/// panic's location or message would keep the formatting code of every
/// panic in the image (core's bounds checks format their numbers): about
/// 3 KiB of PBX-A9 hello. Debug builds, and release builds with the
/// `panic-messages` feature, print `PANIC at file:line:column: message`.
// With std (feature `hermit`), std's own handler reports a panic to
// stderr and aborts (`hermit::sys_abort`).
#[cfg(not(feature = "hermit"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    #[cfg(any(debug_assertions, feature = "panic-messages"))]
    line(|out| {
        use fmt::Write as _;
        out.text("PANIC");
        if let Some(location) = info.location() {
            out.text(" at ");
            out.text(location.file());
            out.text(":");
            ferrode_report::dec(out, location.line() as usize);
            out.text(":");
            ferrode_report::dec(out, location.column() as usize);
        }
        out.text(": ");
        // The message may be a component's text: its control characters
        // show as `?`, so it stays on this line.
        let _ = write!(Printable(out), "{}", info.message());
    });
    #[cfg(not(any(debug_assertions, feature = "panic-messages")))]
    {
        let _ = info;
        line(|out| out.text("PANIC (release image: the backtrace shows where)"));
    }
    print_backtrace(arch::stack_pointer());
    if let Some(after) = after_crash() {
        // An image of components: a component's thread ends only its
        // component (if it can; it returns if the image must end).
        after(exit_code::PANIC, arch::interrupts_enabled());
    }
    end_image(exit_code::PANIC)
}

/// A panic message's text, through [`ferrode_report::console::printable`].
#[cfg(all(not(feature = "hermit"), any(debug_assertions, feature = "panic-messages")))]
struct Printable<'a>(&'a mut dyn Out);

#[cfg(all(not(feature = "hermit"), any(debug_assertions, feature = "panic-messages")))]
impl fmt::Write for Printable<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        ferrode_report::console::printable(text, |piece| self.0.text(piece));
        Ok(())
    }
}

/// Run by the panic handler and the fault path after the report, before
/// the image ends: `compose!` sets it at boot (see
/// `component::runtime::contain_panics`), so images without a composition
/// do not link the containment.
static AFTER_CRASH: AfterCrash = critical_section::Mutex::new(core::cell::Cell::new(None));

/// What [`AFTER_CRASH`] holds: called with `PANIC` or `FAULT`, and
/// whether the crash came on thread code, which runs with interrupts
/// enabled (for a panic, whether they are; for a fault, which is handled
/// with them masked, the arch crate's verdict on the code it interrupted).
type AfterCrash = critical_section::Mutex<core::cell::Cell<Option<fn(u32, bool)>>>;

/// Sets what the panic handler and the fault path run after their report.
#[cfg_attr(not(feature = "kernel"), allow(dead_code, reason = "compose! sets it"))]
pub(crate) fn after_crash_is(hook: fn(u32, bool)) {
    critical_section::with(|cs| AFTER_CRASH.borrow(cs).set(Some(hook)));
}

#[inline(never)]
fn after_crash() -> Option<fn(u32, bool)> {
    critical_section::with(|cs| AFTER_CRASH.borrow(cs).get())
}

/// Called by the arch crate's exception vectors, with the stack pointer of
/// the code that faulted and whether that code ran as a thread does (with
/// interrupts enabled). In an image of components, a component's thread
/// that faulted so ends only its component (the arch moves it onto a
/// fresh stack to do that, see `component::runtime::contain_panics`);
/// every other fault ends the image.
#[unsafe(no_mangle)]
fn ferrode_fault(fault: &dyn Report, sp: usize, thread: bool) -> ! {
    line(|out| {
        out.text("FAULT: ");
        fault.report(out);
    });
    // A thread that ran off its stack faulted in the guard page below it,
    // which cannot be read: the scan starts above it. (The host names a
    // fault address in a guard page a stack overflow, and whose.)
    print_backtrace(sp);
    // With the in-image GDB monitor, a thread it may debug stops where it
    // faulted first (this returns if it cannot).
    #[cfg(feature = "gdb")]
    if thread {
        crate::component::gdb::stop_at_fault(sp);
    }
    if let Some(after) = after_crash() {
        // Returns if the image must end.
        after(exit_code::FAULT, thread);
    }
    end_image(exit_code::FAULT)
}

/// [gdb monitor] A faulted thread of a component, once the debugger let
/// it go (`component::gdb::stop_at_fault`): its component ends, as the
/// fault path ends it without a debugger.
#[cfg(feature = "gdb")]
pub(crate) fn end_faulted_thread() -> ! {
    if let Some(after) = after_crash() {
        after(exit_code::FAULT, true);
    }
    end_image(exit_code::FAULT)
}

/// [gdb monitor] Called by the arch crate's breakpoint entry for a
/// breakpoint instruction a thread executed with interrupts enabled, its
/// whole state saved at `frame`: with the in-image GDB monitor (feature
/// `gdb`) the kernel stops the thread there if the monitor may debug it
/// and this returns `true` once it is resumed; otherwise `false`, and the
/// arch reports the breakpoint as a fault.
#[unsafe(no_mangle)]
fn ferrode_breakpoint(frame: usize) -> bool {
    #[cfg(feature = "gdb")]
    return crate::kernel::kernel().debug_trap(frame, crate::component::gdb::SIGTRAP);
    #[cfg(not(feature = "gdb"))]
    {
        let _ = frame;
        false
    }
}

/// How far above the stack pointer the report looks for return addresses.
const BACKTRACE_BYTES: usize = 2048;
/// The most return-address candidates one report prints.
const BACKTRACE_ENTRIES: usize = 16;

/// Prints `backtrace:` and the words on the stack above `sp` that point
/// into the image's code, innermost first: the candidates for return
/// addresses. The host (`cargo xtask run`, the test harness) keeps those
/// that follow a call instruction and turns them into source lines; the
/// image has no unwind tables to do better itself.
///
/// Only memory it may read (`arch::is_readable`: PBX-A9's MMU map,
/// MicroBlaze V's locked guards): a stack pointer in a guard page (a
/// thread ran off its stack) starts the scan above the guard, and the scan
/// stops at the next guard, below the stack after it.
fn print_backtrace(sp: usize) {
    unsafe extern "C" {
        // The linker script's symbols: code starts at `_start`, the data
        // after the code and read-only data, every stack lies below the
        // boot stack's top.
        static _start: u8;
        static __data_start: u8;
        static __stack_top: u8;
    }
    let code = (&raw const _start) as usize..(&raw const __data_start) as usize;
    let top = (&raw const __stack_top) as usize;
    let word = core::mem::size_of::<usize>();
    if !sp.is_multiple_of(word) || !(code.start..top).contains(&sp) {
        line(|out| {
            out.text("backtrace: (stack pointer ");
            hex(out, sp, 1);
            out.text(" outside the image's RAM)");
        });
        return;
    }
    let mut start = sp;
    while start < top && !arch::is_readable(start) {
        start += word;
    }
    line(|out| {
        out.text("backtrace:");
        let mut found = 0;
        for at in (start..top.min(start.saturating_add(BACKTRACE_BYTES))).step_by(word) {
            if !arch::is_readable(at) {
                break;
            }
            // SAFETY: `at` is aligned and between a stack pointer and the
            // boot stack's top, inside the RAM the image was linked for,
            // and readable (checked above); reading it has no side effect.
            let value = unsafe { core::ptr::read_volatile(at as *const usize) };
            if code.contains(&value) {
                out.text(" ");
                hex(out, value, 1);
                found += 1;
                if found == BACKTRACE_ENTRIES {
                    break;
                }
            }
        }
    });
}

/// A thread overwrote its stack guard (the kernel found it at a switch or
/// a tick): reported like a CPU fault, naming the thread.
#[cfg_attr(not(feature = "kernel"), allow(dead_code, reason = "the kernel reports through it"))]
pub(crate) fn stack_overflow(thread: &str) -> ! {
    line(|out| {
        out.text("FAULT: stack overflow in thread '");
        out.text(thread);
        out.text("' (its stack guard was overwritten)");
    });
    end_image(exit_code::FAULT)
}
