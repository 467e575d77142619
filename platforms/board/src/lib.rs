//! One runtime for every Ferrode application, whichever board it runs on.
//!
//! An application depends on this crate and forwards one board feature to
//! it (`cargo xtask build --board B` turns it on). It then gets the same
//! [`println!`], [`entry!`], [`exit`], [`cmdline`] and panic/fault reports on
//! every board, and reaches board specifics through [`platform`].
#![no_std]

// The std component's sockets take their buffers from std's heap.
#[cfg(feature = "hermit-net")]
extern crate alloc;

#[cfg(all(feature = "realview-pbx-a9", feature = "microblaze-v"))]
compile_error!("choose exactly one board feature: realview-pbx-a9 or microblaze-v");
#[cfg(not(any(feature = "realview-pbx-a9", feature = "microblaze-v")))]
compile_error!(
    "choose a board feature: realview-pbx-a9 or microblaze-v (cargo xtask build --board ...)"
);

#[cfg(feature = "microblaze-v")]
pub use microblaze_v as platform;
#[cfg(feature = "realview-pbx-a9")]
pub use realview_pbx_a9 as platform;

pub use platform::{BOARD_NAME, arch};

#[cfg(feature = "kernel")]
pub mod component;
pub mod exit_code;
#[cfg(feature = "hermit")]
pub mod hermit;
#[cfg(feature = "kernel")]
pub mod kernel;
mod report;

pub use report::{Console, console_drain, console_queue};

/// Prints to the board console. A component's text goes out under its
/// name (`[client] ...`) at each line start, with its control characters
/// as `?` (see [`Console`]).
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::_print(core::format_args!($($arg)*))
    };
}

/// Prints a line to the board console.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => {
        $crate::_print(core::format_args!("{}\n", core::format_args!($($arg)*)))
    };
}

/// Declares the application's main function: `fn() -> u32`, whose result is
/// the image's exit status (0 for success).
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(no_mangle)]
        fn ferrode_app_main() -> u32 {
            let main: fn() -> u32 = $main;
            main()
        }
    };
}

#[doc(hidden)]
pub fn _print(args: core::fmt::Arguments<'_>) {
    use core::fmt::Write as _;
    // One critical section: the whole text is queued before any other
    // writer's. It goes to the UART after the section, which masks
    // interrupts only for short steps (a `Console` written inside the
    // section would wait for the UART in it).
    critical_section::with(|_| {
        // The console never fails; a formatting error has nowhere to go.
        let _ = report::Queued.write_fmt(args);
    });
    report::drain();
}

/// Ends the caller with `status`.
///
/// In an image of components (`compose!`), a component's thread ends its
/// component, as if its `main` had returned `status`: its parent (the
/// composer) hears of it, destroys it and ends the image only when the
/// composition is done. A component cannot end the image, nor choose the
/// image's status past its own. Anywhere else (an app without
/// components, the composer and its parent hook) the image ends with
/// `status` as QEMU's (or the debugger's) exit status.
pub fn exit(status: u32) -> ! {
    #[cfg(feature = "kernel")]
    component::runtime::end_component(status);
    end_image(status)
}

/// Ends the image with `status`: the root's [`exit`] and the panic and
/// fault reports.
pub(crate) fn end_image(status: u32) -> ! {
    // What the console's writers queued goes out first.
    report::drain();
    // SAFETY: the image's own end: the root's (whose exit is the image's),
    // or a report's after a panic the composition could not contain or a
    // CPU fault, either of which ends the image by design.
    unsafe { arch::exit(status) }
}

/// The command line the image was started with (semihosting), if any.
pub fn cmdline(buffer: &mut [u8]) -> Option<&str> {
    arch::cmdline(buffer)
}

/// The CPU's 32-bit instructions-retired counter, extended to 64 bits by
/// reading it at least once per 2^32 instructions (a main loop that reads
/// it every round does): what the benchmark apps report.
pub struct InstructionCounter {
    last: u32,
    total: u64,
}

impl InstructionCounter {
    /// Starts the counter and takes its first reading.
    #[inline]
    pub fn start() -> Self {
        arch::start_instruction_counter();
        Self { last: arch::instructions_retired(), total: 0 }
    }

    /// Instructions retired since [`start`](Self::start).
    #[inline]
    pub fn read(&mut self) -> u64 {
        let now = arch::instructions_retired();
        self.total += u64::from(now.wrapping_sub(self.last));
        self.last = now;
        self.total
    }
}
