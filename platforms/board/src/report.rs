//! The console writer and the panic and fault reports.

use core::fmt;

use crate::{arch, exit, exit_code, platform, print, println};

/// The board console as a `core::fmt::Write`.
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for line in text.split_inclusive('\n') {
            match line.strip_suffix('\n') {
                // Terminals expect CR LF.
                Some(body) => {
                    platform::console_write(body.as_bytes());
                    platform::console_write(b"\r\n");
                }
                None => platform::console_write(line.as_bytes()),
            }
        }
        Ok(())
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    match info.location() {
        Some(location) => println!(
            "PANIC at {}:{}:{}: {}",
            location.file(),
            location.line(),
            location.column(),
            info.message()
        ),
        None => println!("PANIC: {}", info.message()),
    }
    print_backtrace(arch::stack_pointer());
    exit(exit_code::PANIC)
}

/// Called by the arch crate's exception vectors, with the stack pointer of
/// the code that faulted.
#[unsafe(no_mangle)]
fn ferrode_fault(fault: &dyn fmt::Display, sp: usize) -> ! {
    println!("FAULT: {}", fault);
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
        println!("backtrace: (stack pointer {:#x} outside the image's RAM)", sp);
        return;
    }
    print!("backtrace:");
    let mut found = 0;
    for at in (sp..top.min(sp.saturating_add(BACKTRACE_BYTES))).step_by(word) {
        // SAFETY: `at` is aligned and between a stack pointer and the boot
        // stack's top, inside the RAM the image was linked for; reading it
        // has no side effect.
        let value = unsafe { core::ptr::read_volatile(at as *const usize) };
        if code.contains(&value) {
            print!(" {:#x}", value);
            found += 1;
            if found == BACKTRACE_ENTRIES {
                break;
            }
        }
    }
    println!();
}

/// A thread overwrote its stack guard (the kernel found it at a switch or
/// a tick): reported like a CPU fault, naming the thread.
#[cfg_attr(not(feature = "kernel"), allow(dead_code, reason = "the kernel reports through it"))]
pub(crate) fn stack_overflow(thread: &str) -> ! {
    println!("FAULT: stack overflow in thread '{}' (its stack guard was overwritten)", thread);
    exit(exit_code::FAULT)
}
