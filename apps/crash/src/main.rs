//! Crash: fails on purpose, as its command line says, to prove that Ferrode
//! reports panics and CPU exceptions with their location and exits non-zero.
//!
//! `crash panic` panics; `crash bad-access [hex address]` loads from an address the
//! hardware refuses (a data abort on PBX-A9, a load access fault on
//! MicroBlaze V); `crash illegal` executes an undefined instruction;
//! `crash write-code [hex address]` stores a word over its own code (or at
//! the address) and `crash run-data`
//! jumps into a buffer on its stack: PBX-A9's MMU and MicroBlaze V's PMP
//! refuse both (code is read-only, RAM is never run);
//! `crash stack-overflow` starts a kernel thread that recurses past the
//! bottom of its stack, which the kernel's stack guard reports by name;
//! `crash main-stack-guard` recurses on the boot thread into the guard
//! below its stack (a page PBX-A9's MMU leaves unmapped, a region
//! MicroBlaze V's PMP locks; a board that cannot protect it says so);
//! `crash thread-stack-guard` starts a kernel thread on a stack of
//! `thread_stack!` (as every component's is) that recurses without end,
//! into the guard below that stack (likewise); `crash idle-stack-guard`
//! stores a word into the guard below the idle thread's stack, where an
//! interrupt taken while the image idles would land if it ran off that
//! stack (likewise);
//! `crash main-stack-overflow` overwrites the lowest word of the boot
//! thread's own stack (the linker script's `.stack`, which the board's
//! `kernel::init` guards), as a recursion one frame too deep would.
//!
//! Each failing statement is marked `// crash-line: WHAT`: the QEMU cases
//! find those lines and check that the host names them under the report
//! (the source line of the faulting pc or of a return address).
#![no_std]
#![no_main]

use ferrode_board::{BOARD_NAME, cmdline, println};

ferrode_board::entry!(main);

/// The board's address whose load the hardware refuses.
const UNMAPPED_ADDRESS: usize = ferrode_board::platform::memory_map::FAULTING_LOAD_ADDRESS;

fn main() -> u32 {
    let mut buffer = [0u8; 128];
    let args = cmdline(&mut buffer).unwrap_or("");
    let mut words = args.split_whitespace().skip(1);
    let what = words.next().unwrap_or("");
    let address = words
        .next()
        .and_then(|text| usize::from_str_radix(text.trim_start_matches("0x"), 16).ok())
        .unwrap_or(UNMAPPED_ADDRESS);
    println!("crash on {}: {}", BOARD_NAME, what);
    match what {
        "panic" => panic!("crash test asked to panic"), // crash-line: panic
        "bad-access" => {
            // SAFETY: this app exists to fault: the load is meant to hit an
            // address with nothing there (or a misaligned one), and the
            // image has no other component whose memory it could read.
            let value = unsafe { ferrode_board::arch::load_word(address) }; // crash-line: bad-access
            println!("read {:#x} without a fault", value);
            ferrode_board::exit_code::FAILURE
        }
        "illegal" => {
            ferrode_board::arch::undefined_instruction(); // crash-line: illegal
        }
        "write-code" => {
            // Its own code, or the address given (the tests give PBX-A9's
            // MMU tables, which are read-only too).
            let given = args.split_whitespace().nth(2).is_some();
            let target = if given { address } else { (main as fn() -> u32) as usize & !3 };
            // SAFETY: the store is meant to fault (code and the MMU tables
            // are read-only); should it not, the app reports that and ends.
            unsafe { ferrode_board::arch::store_word(target, 0) }; // crash-line: write-code
            println!("wrote over {:#x} without a fault", target);
            ferrode_board::exit_code::FAILURE
        }
        "run-data" => {
            // Zero words: an undefined instruction wherever they may run.
            let data = core::hint::black_box([0u32; 4]);
            // SAFETY: the jump is meant to fault (data is not executable);
            // the zero words are undefined instructions should it not.
            unsafe { ferrode_board::arch::jump_to(data.as_ptr() as usize) }
        }
        "stack-overflow" => overflow::run(),
        "main-stack-overflow" => overflow::run_main(),
        "main-stack-guard" => overflow::run_into_guard(),
        "thread-stack-guard" => overflow::run_into_thread_guard(),
        "idle-stack-guard" => {
            let guard = ferrode_board::kernel::idle_stack_guard();
            if guard.is_empty() || ferrode_board::arch::is_readable(guard.start) {
                println!("no protected guard below the idle stack on this board");
                return ferrode_board::exit_code::FAILURE;
            }
            // The guard's top word: the first an idle thread running off
            // its stack would write.
            // SAFETY: the word is in the idle stack's guard, which the
            // board protects (checked above): the store is meant to fault.
            unsafe { ferrode_board::arch::store_word(guard.end - 4, 0) }; // crash-line: idle-stack-guard
            println!("wrote into the idle stack's guard without a fault");
            ferrode_board::exit_code::FAILURE
        }
        _ => {
            println!(
                "usage: crash panic | bad-access [hex address] | illegal | write-code [hex \
                 address] | run-data | stack-overflow | main-stack-overflow | main-stack-guard \
                 | thread-stack-guard | idle-stack-guard"
            );
            ferrode_board::exit_code::FAILURE
        }
    }
}

mod overflow {
    use core::hint::black_box;

    use ferrode_board::kernel::ipc::Utcb;
    use ferrode_board::kernel::{self, ConstStaticCell, MIN_STACK, Quota, kernel};
    use ferrode_board::{exit_code, println};

    /// The thread's stack is the top quarter: the rest takes what the
    /// overflow writes below the guard, so nothing else of the image is
    /// hit before the kernel notices.
    static MEMORY: ConstStaticCell<[u8; 4 * MIN_STACK]> = ConstStaticCell::new([0; 4 * MIN_STACK]);
    static UTCB: ConstStaticCell<Utcb> = ConstStaticCell::new(Utcb::new());

    pub fn run() -> u32 {
        let (Some(memory), Some(utcb)) = (MEMORY.try_take(), UTCB.try_take()) else {
            return exit_code::FAILURE;
        };
        let stack = &mut memory[3 * MIN_STACK..];
        // Recurse until just past the bottom of the stack (through the
        // guard, into the padding below it).
        let past_the_bottom = stack.as_ptr() as usize - 256;
        let result = kernel::init(1).and_then(|_| {
            let k = kernel();
            let deep = k.create_component("deep", Quota::at_priority(2))?;
            k.spawn(deep, "deep-recursion", 2, stack, utcb, recurse_main, past_the_bottom)
        });
        println!("crash: the deep-recursion thread did not overflow ({:?})", result.err());
        exit_code::FAILURE
    }

    /// The boot thread (`main`) writes over the lowest word of its stack,
    /// the first its guard covers, and waits for the timer tick, on which
    /// the kernel checks the running thread's guard. (A real recursion
    /// that deep would also have the tick's interrupt frame land below the
    /// stack, in `.bss`; this test must not harm what it reports from.)
    pub fn run_main() -> u32 {
        unsafe extern "C" {
            static __stack_bottom: u8;
        }
        if kernel::init(1).is_err() {
            return exit_code::FAILURE;
        }
        let lowest = (&raw const __stack_bottom) as usize;
        // SAFETY: the lowest word of this thread's own stack (the linker
        // script's boot stack), far below its frames; only the kernel's
        // guard word is there.
        unsafe { (lowest as *mut usize).write_volatile(0) };
        loop {
            core::hint::spin_loop();
        }
    }

    /// Recurses on the boot thread until it runs off its stack into the
    /// guard below it (PBX-A9's MMU leaves it unmapped, MicroBlaze V's PMP
    /// locks it: a fault there, before anything below is written). A board
    /// that cannot protect it says so instead of writing over `.bss`.
    pub fn run_into_guard() -> u32 {
        unsafe extern "C" {
            static __stack_guard: u8;
            static __stack_bottom: u8;
        }
        // As numbers, through `black_box`: the compiler takes two distinct
        // statics for two distinct addresses, but an empty guard is one.
        let guard = black_box((&raw const __stack_guard) as usize);
        let bottom = black_box((&raw const __stack_bottom) as usize);
        if guard == bottom || ferrode_board::arch::is_readable(guard) {
            println!("no protected guard below the boot stack on this board");
            return exit_code::FAILURE;
        }
        // Never below a limit of 0: it recurses until the fault.
        recurse(black_box(0)) as u32 // crash-line: main-stack-guard
    }

    ferrode_board::thread_stack!(static GUARDED_STACK: 4096);
    static GUARDED_UTCB: ConstStaticCell<Utcb> = ConstStaticCell::new(Utcb::new());

    /// Starts a kernel thread on a stack declared as every component's is
    /// (`thread_stack!`), which recurses without end into the guard below
    /// it (as the boot stack's: a fault there, before anything below is
    /// written). A board that cannot protect it says so.
    pub fn run_into_thread_guard() -> u32 {
        let guard = GUARDED_STACK.guard();
        if guard.is_empty() || ferrode_board::arch::is_readable(guard.start) {
            println!("no protected guard below thread stacks on this board");
            return exit_code::FAILURE;
        }
        let result = kernel::init(1).and_then(|_| {
            let (stack, utcb) = GUARDED_STACK.take(&GUARDED_UTCB)?;
            let k = kernel();
            let deep = k.create_component("deep", Quota::at_priority(2))?;
            // Never below a limit of 0: it recurses until the fault.
            k.spawn(deep, "deep-recursion", 2, stack, utcb, recurse_main, 0)
        });
        println!("crash: the deep-recursion thread did not fault ({:?})", result.err());
        exit_code::FAILURE
    }

    extern "C" fn recurse_main(limit: usize) -> ! {
        recurse(black_box(limit));
        kernel().exit_current()
    }

    /// Uses about 100 bytes of stack or more per level; once its frames are
    /// below `limit`, waits for the timer tick (the kernel checks the
    /// running thread's guard on it).
    #[inline(never)]
    fn recurse(limit: usize) -> usize {
        let frame = black_box([limit; 24]);
        if (frame.as_ptr() as usize) < limit {
            loop {
                core::hint::spin_loop();
            }
        }
        recurse(limit).wrapping_add(frame[black_box(3)]) // crash-line: thread-stack-guard
    }
}
