//! The console writer and the panic and fault reports.

use core::fmt;

use crate::{exit, exit_code, platform, println};

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
    exit(exit_code::PANIC)
}

/// Called by the arch crate's exception vectors.
#[unsafe(no_mangle)]
fn ferrode_fault(fault: &dyn fmt::Display) -> ! {
    println!("FAULT: {}", fault);
    exit(exit_code::FAULT)
}

/// A thread overwrote its stack guard (the kernel found it at a switch or
/// a tick): reported like a CPU fault, naming the thread.
#[cfg_attr(not(feature = "kernel"), allow(dead_code, reason = "the kernel reports through it"))]
pub(crate) fn stack_overflow(thread: &str) -> ! {
    println!("FAULT: stack overflow in thread '{}' (its stack guard was overwritten)", thread);
    exit(exit_code::FAULT)
}
