//! The console writer and the panic and fault reports.
//!
//! The reports are written through [`ferrode_report::Out`], not `core::fmt`:
//! an image whose application formats nothing carries none of `core::fmt`
//! (about 4 KiB of PBX-A9 hello). A release image's panic report is the
//! word `PANIC` and the backtrace (see [`panic`]): the panic's message and
//! location come with debug builds and with the `panic-messages` feature.

use core::fmt;

use ferrode_report::{Out, Report, hex};

use crate::{arch, exit, exit_code, platform};

/// The board console, as a `core::fmt::Write` and as a report [`Out`].
pub struct Console;

impl Out for Console {
    fn text(&mut self, text: &str) {
        let mut rest = text.as_bytes();
        while let Some(end) = rest.iter().position(|&byte| byte == b'\n') {
            let (body, after) = rest.split_at(end);
            platform::console_write(body);
            // Terminals expect CR LF.
            platform::console_write(b"\r\n");
            rest = after.get(1..).unwrap_or_default();
        }
        platform::console_write(rest);
    }
}

impl fmt::Write for Console {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        Out::text(self, text);
        Ok(())
    }
}

/// Writes one line to the console: what `write` writes, then the line end,
/// with interrupts masked so that no other output comes between.
pub(crate) fn line(write: impl FnOnce(&mut dyn Out)) {
    arch::without_interrupts(|| {
        write(&mut Console);
        Console.text("\n");
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
        let _ = write!(Console, "{}", info.message());
    });
    #[cfg(not(any(debug_assertions, feature = "panic-messages")))]
    {
        let _ = info;
        line(|out| out.text("PANIC (release image: the backtrace shows where)"));
    }
    print_backtrace(arch::stack_pointer());
    let after = critical_section::with(|cs| AFTER_PANIC.borrow(cs).get());
    if let Some(after) = after {
        // An image of components: a component's thread ends only its
        // component (if it can; it returns if the image must end).
        after();
    }
    exit(exit_code::PANIC)
}

/// Run by the panic handler after the report, before the image ends:
/// `compose!` sets it at boot (see `component::runtime::contain_panics`),
/// so images without a composition do not link the containment.
static AFTER_PANIC: AfterPanic = critical_section::Mutex::new(core::cell::Cell::new(None));

/// What [`AFTER_PANIC`] holds.
type AfterPanic = critical_section::Mutex<core::cell::Cell<Option<fn()>>>;

/// Sets what the panic handler runs after its report.
#[cfg_attr(not(feature = "kernel"), allow(dead_code, reason = "compose! sets it"))]
pub(crate) fn after_panic(hook: fn()) {
    critical_section::with(|cs| AFTER_PANIC.borrow(cs).set(Some(hook)));
}

/// Called by the arch crate's exception vectors, with the stack pointer of
/// the code that faulted.
#[unsafe(no_mangle)]
fn ferrode_fault(fault: &dyn Report, sp: usize) -> ! {
    line(|out| {
        out.text("FAULT: ");
        fault.report(out);
    });
    // A thread that ran off its stack faulted in the guard page below it,
    // which cannot be read: the scan starts above it. (The host names a
    // fault address in a guard page a stack overflow, and whose.)
    print_backtrace(sp);
    exit(exit_code::FAULT)
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
    return crate::kernel::kernel().debug_breakpoint(frame);
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
    exit(exit_code::FAULT)
}
