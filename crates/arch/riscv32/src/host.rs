//! Host stand-ins for the CPU operations, so that code above the arch layer
//! builds and unit-tests on the development machine. They never touch
//! hardware.

/// There is no machine to stop on the host: reaching this is a test bug.
///
/// # Safety
///
/// Ends the whole image, every component with it, with `code` as its
/// status: only the image's own end may call it (the board's `exit` from
/// the root, the panic and fault reports). A component ends through its
/// parent instead (`ferrode_board::exit` does that).
pub unsafe fn exit(code: u32) -> ! {
    panic!("exit({code}) called on the host")
}

/// The host has no semihosting command line.
pub fn cmdline(_buffer: &mut [u8]) -> Option<&str> {
    None
}

/// Runs `f` with interrupts masked (on the host: just runs it).
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// The interrupt state (nothing to keep on the host).
#[derive(Clone, Copy, Debug)]
pub struct InterruptState(());

/// Masks interrupts (on the host: nothing).
pub fn disable_interrupts() -> InterruptState {
    InterruptState(())
}

/// Restores the state `disable_interrupts` found (on the host: nothing).
///
/// # Safety
///
/// As on the target: `state` ends the section it began, innermost first.
pub unsafe fn restore_interrupts(_state: InterruptState) {}

/// The host has no interrupts to mask: its code runs as a thread's does.
pub fn interrupts_enabled() -> bool {
    true
}

/// Instructions retired; the host has no such counter here.
pub fn instructions_retired() -> u32 {
    0
}

/// Nothing to start on the host.
pub fn start_instruction_counter() {}

/// No interrupts on the host.
pub fn enable_interrupts() {}

/// Returns at once on the host.
pub fn wait_for_interrupt() {}

/// Stands in for the illegal-instruction test on the host.
pub fn undefined_instruction() -> ! {
    panic!("undefined instruction executed on the host")
}

/// Stands in for the faulting-load test on the host.
///
/// # Safety
///
/// Reads any address, past every capability: another component's memory,
/// or a device register whose read has an effect (a UART's receive FIFO
/// pops). Only the fault path's tests may use it, on an address they chose
/// to fault.
pub unsafe fn load_word(address: usize) -> u32 {
    panic!("raw load from {address:#x} on the host")
}

/// No thread pointer to set on the host.
///
/// # Safety
///
/// None needed; `unsafe` as on the target.
pub unsafe fn set_thread_pointer(_pointer: usize) {}

/// No stack worth reporting on the host.
pub fn stack_pointer() -> usize {
    0
}

/// Nothing to synchronise on the host.
pub fn sync_instruction_memory(_address: usize, _length: usize) {}

/// Stands in for the protection test's store on the host.
///
/// # Safety
///
/// Writes any address, past every capability and Rust's aliasing rules:
/// only the protection tests may use it, on an address the hardware
/// refuses.
pub unsafe fn store_word(address: usize, _value: u32) {
    panic!("raw store to {address:#x} on the host")
}

/// Stands in for the protection test's jump on the host.
///
/// # Safety
///
/// Runs whatever is at `address`: only the protection tests may use it, on
/// an address the hardware refuses to execute.
pub unsafe fn jump_to(address: usize) -> ! {
    panic!("jump to {address:#x} on the host")
}

/// Runs `f` (code is always writable on the host).
///
/// # Safety
///
/// While `f` runs, code may be written: only a debugger's breakpoint
/// writer may use it, for the instructions it puts in or takes out.
pub unsafe fn writable_code<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Stands in for the fault path's landing on the host.
///
/// # Safety
///
/// As the target's: only the board's panic and fault paths may call it.
pub unsafe fn land(stack_top: usize, _entry: extern "C" fn(usize) -> !, _argument: usize) -> ! {
    panic!("landing on a stack at {stack_top:#x} on the host")
}

/// [gdb monitor] No fault is ever reported on the host.
#[cfg(feature = "debug")]
pub fn fault_frame() -> Option<(u8, [u32; crate::debug::TRAP_FRAME_WORDS])> {
    None
}

/// [gdb monitor] Never called on the host (no fault is reported there).
///
/// # Safety
///
/// As on the target: only the board's fault stop.
pub unsafe fn resume_trap_frame(frame: usize) -> ! {
    panic!("resuming a trap frame at {frame:#x} on the host")
}
