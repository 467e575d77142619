//! Cortex-A9 CPU operations: exit, interrupt masking, PMU counters.

use core::arch::asm;

use crate::semihosting;

/// Issues a semihosting call (`svc #0x123456` in A32 state).
///
/// QEMU handles the call before the SVC exception is taken; a debugger
/// does the same. On hardware without a debugger the SVC vector reports it.
/// The function is A32 code in a T32 image: T32's semihosting trap is a
/// different instruction (`svc #0xab`), and one trap serves both builds.
#[instruction_set(arm::a32)]
fn semihosting_call(operation: u32, parameter: usize) -> usize {
    let result: usize;
    // SAFETY: the semihosting SVC reads `parameter` (a pointer to a block
    // we keep alive across the call, or a plain value) and writes only the
    // result register; lr is listed as clobbered in case a real SVC is taken.
    unsafe {
        asm!(
            "svc #0x123456",
            inout("r0") operation as usize => result,
            in("r1") parameter,
            out("lr") _,
            options(nostack)
        );
    }
    result
}

/// Ends the program with `code` as the emulator's exit status.
///
/// # Safety
///
/// Ends the whole image, every component with it, with `code` as its
/// status: only the image's own end may call it (the board's `exit` from
/// the root, the panic and fault reports). A component ends through its
/// parent instead (`ferrode_board::exit` does that).
pub unsafe fn exit(code: u32) -> ! {
    semihosting::exit(semihosting_call, code);
    // Without a semihosting host there is nowhere to go: stop here.
    loop {
        // SAFETY: `wfi` only waits for an interrupt; interrupts are masked
        // so this parks the core.
        unsafe { asm!("cpsid if", "wfi", options(nomem, nostack)) };
    }
}

/// Reads the semihosting command line (the program name and arguments).
pub fn cmdline(buffer: &mut [u8]) -> Option<&str> {
    semihosting::cmdline(semihosting_call, buffer)
}

/// Runs `f` with IRQs and FIQs masked, restoring the previous mask after.
/// On a single core this is a critical section.
#[inline]
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    let cpsr: u32;
    // SAFETY: reads CPSR and masks interrupts; no memory is touched. The
    // compiler fence semantics of `asm!` (no `nomem`) keep accesses inside.
    unsafe { asm!("mrs {0}, cpsr", "cpsid if", out(reg) cpsr, options(nostack)) };
    let result = f();
    // SAFETY: writes back the control byte read above: the same mode and
    // instruction set, and the interrupt masks as they were on entry.
    unsafe { asm!("msr cpsr_c, {0}", in(reg) cpsr, options(nostack)) };
    result
}

/// The interrupt masks [`disable_interrupts`] found (CPSR's control byte).
#[derive(Clone, Copy, Debug)]
pub struct InterruptState(u32);

/// Masks IRQs and FIQs and returns the previous masks, for a critical
/// section that cannot be a closure (a logger's acquire and release);
/// [`restore_interrupts`] ends it. Prefer [`without_interrupts`].
#[inline]
pub fn disable_interrupts() -> InterruptState {
    let cpsr: u32;
    // SAFETY: as in `without_interrupts`: reads CPSR and masks interrupts.
    unsafe { asm!("mrs {0}, cpsr", "cpsid if", out(reg) cpsr, options(nostack)) };
    InterruptState(cpsr)
}

/// Puts back the masks `state` was taken with.
///
/// # Safety
///
/// `state` comes from the [`disable_interrupts`] that began this critical
/// section, in the same mode, and nested sections end innermost first:
/// restoring an outer state early would unmask interrupts inside another
/// critical section.
#[inline]
pub unsafe fn restore_interrupts(state: InterruptState) {
    // SAFETY: writes back a control byte read by `disable_interrupts` in
    // this mode (the caller's contract): same mode and instruction set.
    unsafe { asm!("msr cpsr_c, {0}", in(reg) state.0, options(nostack)) };
}

/// Whether IRQs are unmasked here: a thread's own code runs so; kernel
/// work, interrupt handlers and critical sections run masked.
pub fn interrupts_enabled() -> bool {
    let cpsr: u32;
    // SAFETY: reads CPSR; no memory or state is touched.
    unsafe { asm!("mrs {0}, cpsr", out(reg) cpsr, options(nomem, nostack)) };
    cpsr & (1 << 7) == 0
}

/// Unmasks IRQs on this core.
pub fn enable_interrupts() {
    // SAFETY: unmasking IRQs is sound once the vector table and the IRQ
    // handler are installed, which `_start` does before any Rust code.
    unsafe { asm!("cpsie i", options(nostack)) };
}

/// Waits for an interrupt.
pub fn wait_for_interrupt() {
    // SAFETY: `wfi` has no effect on memory or registers.
    unsafe { asm!("wfi", options(nomem, nostack)) };
}

/// Starts the PMU counting instructions retired (event 0x08) on counter 0,
/// plus the cycle counter. Under QEMU this needs `-icount`.
pub fn start_instruction_counter() {
    // SAFETY: PMU configuration through CP15 affects only the counters.
    unsafe {
        asm!(
            "mcr p15, 0, {zero}, c9, c12, 5", // PMSELR = 0
            "mcr p15, 0, {event}, c9, c13, 1", // PMXEVTYPER = instructions retired
            "mcr p15, 0, {enable}, c9, c12, 1", // PMCNTENSET: counter 0 + cycles
            "mcr p15, 0, {control}, c9, c12, 0", // PMCR: enable, reset counters
            "isb",
            zero = in(reg) 0u32,
            event = in(reg) 0x08u32,
            enable = in(reg) 0x8000_0001u32,
            control = in(reg) 7u32,
            options(nostack)
        );
    }
}

/// Instructions retired since [`start_instruction_counter`].
#[inline(always)]
pub fn instructions_retired() -> u32 {
    let count: u32;
    // SAFETY: reads PMXEVCNTR of the selected counter (0); no side effects.
    unsafe { asm!("mrc p15, 0, {0}, c9, c13, 2", out(reg) count, options(nomem, nostack)) };
    count
}

/// Whether a load from `address` at PL1 would succeed, as the MMU answers
/// it (ATS1CPR, then PAR's fault bit; ARM ARM B4.2.3): the fault report
/// reads a stack only where it can, as a guard page lies below each. With
/// the MMU off every address translates (a missing device still aborts).
pub fn is_readable(address: usize) -> bool {
    // SAFETY: the translation operation writes only PAR, which nothing
    // else uses; masking interrupts keeps another translation from
    // replacing it before it is read.
    let par = without_interrupts(|| unsafe {
        let par: u32;
        asm!(
            "mcr p15, 0, {address}, c7, c8, 0",
            "isb",
            "mrc p15, 0, {par}, c7, c4, 0",
            address = in(reg) address,
            par = out(reg) par,
            options(nomem, nostack, preserves_flags)
        );
        par
    });
    par & 1 == 0
}

/// Points the running thread's thread pointer at `pointer`: TPIDRPRW, the privileged thread ID register (threads run in SVC mode).
/// Local-exec thread-local accesses (Rust `std`'s) reach the thread's TLS
/// block from it.
///
/// # Safety
///
/// `pointer` is the start of a TLS block laid out for this CPU (see
/// [`TLS_CONTROL_BLOCK`](crate::TLS_CONTROL_BLOCK)) that lives as long as
/// the thread uses thread-locals.
#[inline]
pub unsafe fn set_thread_pointer(pointer: usize) {
    // SAFETY: writes one register no Ferrode code reads; the caller
    // vouches for what thread-local accesses will find there.
    unsafe {
        asm!("mcr p15, 0, {0}, c13, c0, 4", in(reg) pointer, options(nomem, nostack, preserves_flags))
    };
}

/// The current stack pointer (the panic report looks for return addresses
/// above it).
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: copies sp into a register; no memory or flags are touched.
    unsafe { asm!("mov {0}, sp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}

/// Executes a permanently undefined instruction (`udf #0`), raising the
/// undefined-instruction exception. For tests of the fault path.
pub fn undefined_instruction() -> ! {
    // SAFETY: UDF only raises an exception, which the vectors report.
    unsafe { asm!("udf #0", options(noreturn, nomem, nostack)) }
}

/// Loads the 32-bit word at `address` with a plain `ldr`, whatever its
/// alignment. With the MMU off every data access is Strongly-ordered, so a
/// misaligned address raises an alignment fault (a data abort): the fault
/// path's test uses that.
///
/// # Safety
///
/// Reads any address, past every capability: another component's memory,
/// or a device register whose read has an effect (a UART's receive FIFO
/// pops). Only the fault path's tests may use it, on an address they chose
/// to fault.
pub unsafe fn load_word(address: usize) -> u32 {
    let value: u32;
    // SAFETY: a load has no effect beyond reading `address`; if it faults
    // the data-abort vector reports it and the image exits.
    unsafe { asm!("ldr {0}, [{1}]", out(reg) value, in(reg) address, options(nostack, readonly)) };
    value
}

/// Stores `value` at `address` with a plain `str`, whatever is there: the
/// protection test's write into code, which the MMU refuses (a permission
/// fault).
///
/// # Safety
///
/// Writes any address, past every capability and Rust's aliasing rules:
/// only the protection tests may use it, on an address the hardware
/// refuses.
pub unsafe fn store_word(address: usize, value: u32) {
    // SAFETY: the caller asked for this store to `address` to see whether
    // the hardware refuses it; if it faults the data-abort vector reports
    // it and the image exits.
    unsafe { asm!("str {0}, [{1}]", in(reg) value, in(reg) address, options(nostack)) };
}

/// Branches to `address` (in A32 state) as if it held code: the
/// protection test's jump into data, which the MMU refuses (a prefetch
/// abort, permission fault).
///
/// # Safety
///
/// Runs whatever is at `address`: only the protection tests may use it, on
/// an address the hardware refuses to execute.
pub unsafe fn jump_to(address: usize) -> ! {
    // SAFETY: the caller asked to run whatever is at `address` to see
    // whether the hardware refuses; the prefetch-abort vector reports it.
    unsafe { asm!("bx {0}", in(reg) address & !1, options(noreturn, nostack)) }
}

/// Moves the running thread onto a fresh stack at `stack_top` and runs
/// `entry(argument)` there, in SVC mode (a thread's) with IRQs enabled:
/// from the fault path (abort or undefined mode, IRQs masked) or the panic
/// handler, a crashed component's thread lands in code that ends its
/// component, and the image runs on. The thread's old frames are left
/// behind, and so is the exception mode's stack (the next fault takes it
/// afresh).
///
/// # Safety
///
/// Only the board's panic and fault paths may call this, for a crash of
/// thread code (a panic with interrupts enabled, or a fault that
/// interrupted thread code, [`crate::fault::interrupted_thread`]), with
/// `stack_top` the end of that thread's own stack
/// (`Kernel::restart_current_stack`) and the kernel's state as the fault
/// found it: nothing returns into the thread's old frames. With the GDB
/// monitor, the fault path may also land a faulted thread below the
/// frames it left on its own stack, or on the monitor's one park stack
/// when its own has no room left, for the debugger to read (and then end
/// the component from there, as above).
pub unsafe fn land(stack_top: usize, entry: extern "C" fn(usize) -> !, argument: usize) -> ! {
    // SAFETY: the caller's contract; `cps` changes only the mode (its
    // banked sp and lr), so the operands in r0-r2 stay as they are (FIQ
    // mode, which banks r8-r12, never lands). `clrex` drops a reservation
    // the faulting code may have held.
    unsafe {
        asm!(
            "cps #0x13",
            "mov sp, r1",
            "clrex",
            "cpsie i",
            "bx r2",
            in("r0") argument,
            in("r1") stack_top,
            in("r2") entry,
            options(noreturn),
        )
    }
}

/// [gdb monitor] Resumes the running thread from the trap frame at
/// `frame` ([`crate::debug::TRAP_FRAME_WORDS`] words, in the breakpoint
/// entry's layout): every register as the frame holds it, the stack
/// pointer just above the frame, the cpsr (mode, interrupt mask, A32 or
/// T32 state) restored by `rfeia`. For a thread the debugger stopped
/// where it faulted and moved on (its pc written past the fault): it goes
/// on there instead of ending its component.
///
/// # Safety
///
/// Only the board's fault stop may call this, on the thread that faulted,
/// with `frame` the fault's trap frame it keeps right below the stack
/// pointer the thread faulted at (so its frames above are the ones the
/// registers refer to), as the debugger left it: the pc inside the
/// image's code, the state bits as the fault found them
/// ([`crate::debug::write_trap_register`] keeps them).
pub unsafe fn resume_trap_frame(frame: usize) -> ! {
    // SAFETY: the caller's contract: the frame is the thread's own, on its
    // stack. IRQs stay masked until `rfeia` loads the frame's cpsr (an
    // IRQ between the loads would push below the frame anyway).
    unsafe {
        asm!(
            "cpsid i",
            "mov sp, r0",
            "pop {{r0-r12, lr}}",
            "rfeia sp!",
            in("r0") frame,
            options(noreturn),
        )
    }
}

/// This CPU has a hand-written IPC fast path (see [`crate::ipc_fast_path!`]).
pub const IPC_FAST_PATH: bool = true;

/// The fast-path call: `ferrode_ipc_call`, defined where the board expands
/// [`crate::ipc_fast_path!`].
///
/// # Safety
///
/// As `ferrode_kernel::Arch::ipc_call` states: interrupts masked, `state`
/// the kernel state the macro was expanded for.
#[inline(always)]
pub unsafe fn ipc_call(state: *mut u8, selector: usize) {
    // SAFETY: forwarded contract.
    unsafe { ferrode_ipc_call(state, selector) }
}

/// The fast-path reply-and-wait: `ferrode_ipc_reply_wait`.
///
/// # Safety
///
/// As for [`ipc_call`].
#[inline(always)]
pub unsafe fn ipc_reply_wait(state: *mut u8) {
    // SAFETY: forwarded contract.
    unsafe { ferrode_ipc_reply_wait(state) }
}

unsafe extern "C" {
    fn ferrode_ipc_call(state: *mut u8, selector: usize);
    fn ferrode_ipc_reply_wait(state: *mut u8);
    fn ferrode_switch(save: *mut usize, load: usize);
    fn ferrode_thread_start() -> !;
}

/// Switches threads: pushes r4-r11 and lr, stores sp at `save`, loads
/// `load` as sp and pops the other thread's registers.
///
/// # Safety
///
/// `save` must be writable; `load` must be a stack pointer saved by this
/// function or made by [`prepare_stack`]; IRQs must be masked.
#[inline(always)]
pub unsafe fn switch_context(save: *mut usize, load: usize) {
    // SAFETY: the caller upholds the contract above; the assembly saves
    // and restores every callee-saved register.
    unsafe { ferrode_switch(save, load) }
}

/// Builds the first frame of a thread at the (8-byte aligned) top of
/// `stack`: `switch_context` to the returned sp runs `entry(argument)` in
/// SVC mode with IRQs unmasked.
pub fn prepare_stack(
    stack: &'static mut [u8],
    entry: extern "C" fn(usize) -> !,
    argument: usize,
) -> usize {
    let base = stack.as_ptr() as usize;
    let top = (base + stack.len()) & !7;
    // r4..r11, lr as `pop {r4-r11, pc}` reads them.
    let frame: [usize; 9] = [
        entry as usize,
        argument,
        0,
        0,
        0,
        0,
        0,
        0,
        ferrode_thread_start as unsafe extern "C" fn() -> ! as usize,
    ];
    let start = top - frame.len() * 4 - base;
    for (index, word) in frame.iter().enumerate() {
        stack[start + index * 4..start + index * 4 + 4]
            .copy_from_slice(&(*word as u32).to_le_bytes());
    }
    base + start
}

/// Makes code written at `address..address + length` visible to
/// instruction fetch (a debugger's breakpoint): cleans the data cache
/// lines to the point of unification, then invalidates the instruction
/// cache and branch predictor (ARM ARM B2.2.9).
pub fn sync_instruction_memory(address: usize, length: usize) {
    const LINE: usize = 32;
    let mut line = address & !(LINE - 1);
    while line < address.saturating_add(length) {
        // SAFETY: DCCMVAU only cleans a cache line; no architectural
        // memory contents change.
        unsafe { asm!("mcr p15, 0, {0}, c7, c11, 1", in(reg) line, options(nostack)) };
        line += LINE;
    }
    // SAFETY: ICIALLU and BPIALL invalidate caches of instructions and
    // branch targets only; the barriers order them.
    unsafe {
        asm!(
            "dsb",
            "mcr p15, 0, {0}, c7, c5, 0",
            "mcr p15, 0, {0}, c7, c5, 6",
            "dsb",
            "isb",
            in(reg) 0u32,
            options(nostack)
        )
    };
}

/// The `critical-section` implementation for this single core: a critical
/// section masks interrupts and puts back the previous masks at its end.
struct CriticalSection;

critical_section::set_impl!(CriticalSection);

// SAFETY: on one core, code that runs with interrupts masked cannot be
// interrupted or preempted (threads only switch from interrupts or calls
// the section's code makes itself), so `acquire` excludes every other
// context until `release`; `release` gets back exactly the state its
// `acquire` returned, innermost first (the crate's contract).
unsafe impl critical_section::Impl for CriticalSection {
    unsafe fn acquire() -> critical_section::RawRestoreState {
        disable_interrupts().0
    }

    unsafe fn release(state: critical_section::RawRestoreState) {
        // SAFETY: `state` is what the matching `acquire` returned.
        unsafe { restore_interrupts(InterruptState(state)) }
    }
}

/// A translation table [`enable_mmu`] builds: written once, while the MMU
/// is off, and only read (by the MMU) after.
struct TableCell<T>(core::cell::UnsafeCell<T>);

// SAFETY: only `enable_mmu` writes the tables, with interrupts masked on
// this one core and only while the MMU is off (it checks SCTLR.M), so no
// other code and no table walk sees them half written; nothing writes them
// once the MMU is on.
unsafe impl<T> Sync for TableCell<T> {}

// In `.ttb`, which the linker script places after the boot stack (where
// the 16 KiB alignment wastes no `.bss`) and boot does not zero:
// `enable_mmu` clears the level 1 table before it maps.
#[unsafe(link_section = ".ttb")]
static LEVEL1: TableCell<crate::mmu::Level1> =
    TableCell(core::cell::UnsafeCell::new(crate::mmu::Level1::new()));
#[unsafe(link_section = ".ttb")]
static LEVEL2: TableCell<crate::mmu::Level2> =
    TableCell(core::cell::UnsafeCell::new(crate::mmu::Level2::new()));

/// Zeroes the level 1 table eight words a `stmia` (a word-wise `memset`
/// retires several times as many instructions); the level 2 tables need
/// no clearing, as the map writes each one whole when it takes it.
///
/// # Safety
///
/// `table` is valid for writes and nothing else uses it meanwhile.
unsafe fn clear(table: *mut crate::mmu::Level1) {
    let start = table as usize;
    let end = start + core::mem::size_of::<crate::mmu::Level1>();
    // SAFETY: writes zeros to exactly `start..end` (16 KiB, a multiple of
    // the 32 bytes a `stmia` writes), the caller's table.
    unsafe {
        asm!(
            "2:",
            "stmia {at}!, {{r0, r1, r2, r3, r4, r5, r8, r12}}",
            "cmp {at}, {end}",
            "blo 2b",
            at = inout(reg) start => _,
            end = in(reg) end,
            in("r0") 0u32,
            in("r1") 0u32,
            in("r2") 0u32,
            in("r3") 0u32,
            in("r4") 0u32,
            in("r5") 0u32,
            in("r8") 0u32,
            in("r12") 0u32,
            options(nostack)
        )
    };
}

/// SCTLR bits [`enable_mmu`] sets: M (the MMU), A (alignment checks, so a
/// misaligned access still faults as it did with the MMU off), C (data
/// and unified caches), Z (branch prediction), I (instruction cache).
const SCTLR_ON: u32 = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 11) | (1 << 12);

/// Has `map` map the image (with [`crate::mmu::Map::map`]: addresses as
/// they are, later regions over earlier ones, nothing else mapped) into
/// empty tables and turns on the MMU, the L1 caches and branch
/// prediction. For the platform's start, before anything relies on the
/// caches; on an error the MMU stays off.
///
/// If the MMU is on already, the map it uses is kept and this returns
/// [`MapError::AlreadyOn`](crate::mmu::MapError::AlreadyOn): a boot loader
/// that starts images with its own map (U-Boot's `bootm` of a standalone
/// image does) has the caches on too, and taking them away under a
/// running image is not safe without knowing the loader's outer cache.
///
/// The steps (ARM ARM B3.10, Cortex-A9 TRM 2.4): invalidate the L1 data
/// cache by set and way (the Cortex-A9 does not at reset; cleaned first
/// if a loader left SCTLR.C set), the
/// instruction cache, the branch predictor and the TLBs; TTBCR 0 (one
/// table for every address), TTBR0 the level 1 table (table walks
/// uncached: the tables are written with the caches off and never again),
/// DACR domain 0 client; then SCTLR.
///
/// # Safety
///
/// For the platform's boot, once, before any thread runs: the map decides
/// what every component may read, write and run.
pub unsafe fn enable_mmu(
    map: impl FnOnce(&mut crate::mmu::Map<'_>) -> Result<(), crate::mmu::MapError>,
) -> Result<(), crate::mmu::MapError> {
    without_interrupts(|| {
        let sctlr: u32;
        // SAFETY: reads SCTLR; no memory is touched.
        unsafe { asm!("mrc p15, 0, {0}, c1, c0, 0", out(reg) sctlr, options(nomem, nostack)) };
        if sctlr & 1 != 0 {
            return Err(crate::mmu::MapError::AlreadyOn);
        }
        let (l1, l2) = (LEVEL1.0.get(), LEVEL2.0.get());
        // SAFETY: the MMU is off (checked above), so no table walk reads
        // the tables, and with interrupts masked on the one core nothing
        // else runs: this is their only user (see `TableCell`).
        let (l1, l2) = unsafe {
            clear(l1);
            (&mut *l1, &mut *l2)
        };
        let base = core::ptr::from_ref(l1) as usize as u32;
        map(&mut crate::mmu::Map::new(l1, l2, LEVEL2.0.get() as usize as u32))?;
        invalidate_data_cache(sctlr & (1 << 2) != 0);
        // SAFETY: cache, predictor and TLB invalidation discard nothing
        // the image wrote (the data cache was off, so it holds nothing
        // dirty of ours); the tables map the running code (the platform
        // lists it), so the next instruction fetch after SCTLR.M goes
        // through them to the same address; the barriers order the steps.
        unsafe {
            asm!(
                "mcr p15, 0, {zero}, c8, c7, 0",
                "mcr p15, 0, {zero}, c7, c5, 0",
                "mcr p15, 0, {zero}, c7, c5, 6",
                "mcr p15, 0, {zero}, c2, c0, 2",
                "mcr p15, 0, {base}, c2, c0, 0",
                "mcr p15, 0, {client}, c3, c0, 0",
                "dsb",
                "isb",
                "mrc p15, 0, {sctlr}, c1, c0, 0",
                "orr {sctlr}, {sctlr}, {on}",
                "mcr p15, 0, {sctlr}, c1, c0, 0",
                "isb",
                zero = in(reg) 0u32,
                base = in(reg) base,
                client = in(reg) 0b01u32,
                on = in(reg) SCTLR_ON,
                sctlr = out(reg) _,
                options(nostack)
            )
        };
        Ok(())
    })
}

/// Invalidates the L1 data cache by set and way (DCISW over every line
/// CCSIDR describes), discarding whatever reset left in it; with `clean`,
/// writes dirty lines back first (DCCISW).
fn invalidate_data_cache(clean: bool) {
    let ccsidr: u32;
    // SAFETY: CSSELR selects the level 1 data cache for the CCSIDR read;
    // neither changes memory.
    unsafe {
        asm!(
            "mcr p15, 2, {zero}, c0, c0, 0",
            "isb",
            "mrc p15, 1, {ccsidr}, c0, c0, 0",
            zero = in(reg) 0u32,
            ccsidr = out(reg) ccsidr,
            options(nomem, nostack)
        )
    };
    let line_shift = (ccsidr & 0b111) + 4;
    let ways = ((ccsidr >> 3) & 0x3ff) + 1;
    let sets = ((ccsidr >> 13) & 0x7fff) + 1;
    // The way goes in the top bits (ARM ARM B4.2.1, DCISW).
    let way_shift = (ways - 1).leading_zeros();
    for way in 0..ways {
        for set in 0..sets {
            let line = way.checked_shl(way_shift).unwrap_or(0) | (set << line_shift);
            if clean {
                // SAFETY: DCCISW writes one line back if dirty and
                // invalidates it: memory gets what the cache held.
                unsafe { asm!("mcr p15, 0, {0}, c7, c14, 2", in(reg) line, options(nostack)) };
            } else {
                // SAFETY: DCISW invalidates one line of a cache that was
                // off (SCTLR.C clear), so it holds nothing the image wrote.
                unsafe { asm!("mcr p15, 0, {0}, c7, c6, 2", in(reg) line, options(nostack)) };
            }
        }
    }
    // SAFETY: a barrier only.
    unsafe { asm!("dsb", options(nostack)) };
}

/// Runs `f` with code writable: domain 0 a manager domain (no permission
/// checks) for its duration, interrupts masked. For the one writer of
/// code, a debugger's breakpoint going in or out, which must then make the
/// new instructions visible with [`sync_instruction_memory`].
///
/// # Safety
///
/// While `f` runs, code may be written: only a debugger's breakpoint
/// writer may use it, for the instructions it puts in or takes out.
pub unsafe fn writable_code<R>(f: impl FnOnce() -> R) -> R {
    without_interrupts(|| {
        let dacr: u32;
        // SAFETY: reads and writes DACR: domain 0 becomes a manager domain
        // (accesses not checked) until it is written back below, with
        // interrupts masked, so only `f` runs meanwhile.
        unsafe {
            asm!(
                "mrc p15, 0, {dacr}, c3, c0, 0",
                "orr {manager}, {dacr}, #3",
                "mcr p15, 0, {manager}, c3, c0, 0",
                "isb",
                dacr = out(reg) dacr,
                manager = out(reg) _,
                options(nostack)
            )
        };
        let result = f();
        // SAFETY: puts DACR back as it was.
        unsafe { asm!("mcr p15, 0, {0}, c3, c0, 0", "isb", in(reg) dacr, options(nostack)) };
        result
    })
}
