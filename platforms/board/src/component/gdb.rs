//! The in-image GDB monitor's target (board feature `gdb`): the kernel's
//! debug API and the image's memory bounds, as `ferrode_gdb_monitor`
//! wants them.
//!
//! The monitor runs inside a component that was granted component
//! capabilities to the components it may debug ([`grant_debug`], from
//! the composition's parent hook): it lists, stops and inspects their
//! threads and nothing else (the kernel checks). Memory requests must lie
//! inside the image (text to the top of the boot stack: every
//! component's stacks and statics are there), off the kernel's own state
//! and off the guard pages below the stacks (which would fault the
//! monitor's own thread), and writes must not touch code or read-only
//! data. The one write to
//! code allowed is a software breakpoint: the CPU's breakpoint instruction
//! at an instruction boundary inside `.text`, whose replaced bytes this
//! target keeps and alone puts back. A debugged thread that executes one
//! traps into the arch's resumable breakpoint entry and the kernel stops
//! it there ([`Kernel::debug_trap`](crate::kernel::Kernel)); any
//! other thread (one the monitor may not debug, the monitor's own, or
//! code running with interrupts masked) reports it as a fault, as it
//! would without a debugger.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicUsize, Ordering};

use ferrode_gdb_monitor::{Architecture, MAX_BREAKPOINTS, Target, TargetError};
use ferrode_ipc::CapSel;

use crate::arch;
use crate::arch::debug::{GDB_REGISTERS, SWITCH_FRAME_WORDS, TRAP_FRAME_WORDS};
use crate::component::ParentEnv;
use crate::kernel::{self, CapEntry, DebugThread, KernelError, StoppedFrame, ThreadId, kernel};

/// The service name a debug grant is recorded under.
pub const DEBUG: &str = "Debug";

/// Gives component `monitor` a copy of the composer's component
/// capability to `target`: the authority to debug it. Call from the
/// parent hook at `Event::Starting(monitor)`. It also makes `monitor` the
/// image's monitor ([`Kernel::debug_appoint`](crate::kernel::Kernel)):
/// breakpoints in the threads it may debug go to it, whoever else stops
/// threads of its own children.
pub fn grant_debug(
    env: &mut ParentEnv<'_>,
    target: &'static str,
    monitor: &str,
) -> Result<CapSel, KernelError> {
    let k = kernel();
    let composer = env.composer();
    let component = env.component(target).ok_or(KernelError::InvalidComponent)?;
    let monitor_component = env.component(monitor).ok_or(KernelError::InvalidComponent)?;
    let selector = (0..kernel::CAP_SLOTS as u32)
        .map(CapSel)
        .find(|&selector| {
            matches!(k.capability(composer, selector),
                CapEntry::Component { component: c, .. } if c == component)
        })
        .ok_or(KernelError::NoAuthority)?;
    let granted = env.grant(monitor, DEBUG, target, composer, selector)?;
    k.debug_appoint(monitor_component)?;
    Ok(granted)
}

/// A breakpoint this target wrote: where, and the code it replaced.
#[derive(Clone, Copy)]
struct Inserted {
    address: u32,
    length: usize,
    original: [u8; 4],
}

/// The image as GDB sees it through the running component's authority.
/// GDB thread ids are kernel thread indices plus one.
pub struct ImageTarget {
    /// The breakpoints in the code now.
    inserted: [Option<Inserted>; MAX_BREAKPOINTS],
}

impl ImageTarget {
    /// A target with no breakpoints inserted.
    pub const fn new() -> Self {
        Self { inserted: [None; MAX_BREAKPOINTS] }
    }

    /// Reads `N` words (little-endian) at `address`, checked as any read.
    fn read_words<const N: usize>(&mut self, address: usize) -> Result<[u32; N], TargetError> {
        let mut words = [0u32; N];
        for (index, word) in words.iter_mut().enumerate() {
            let mut bytes = [0u8; 4];
            self.read_memory((address + index * 4) as u32, &mut bytes)?;
            *word = u32::from_le_bytes(bytes);
        }
        Ok(words)
    }
}

impl Default for ImageTarget {
    fn default() -> Self {
        Self::new()
    }
}

fn thread_of(id: u32) -> Option<ThreadId> {
    let index = (id as usize).checked_sub(1)?;
    (index < kernel::MAX_THREADS).then(|| ThreadId::from_index(index))
}

fn debuggable() -> ([Option<DebugThread>; kernel::MAX_THREADS], usize) {
    let blank = DebugThread {
        thread: ThreadId::from_index(0),
        component: kernel::ComponentId::from_index(0),
        component_name: "",
        name: "",
        state: kernel::ThreadState::Free,
        stopped: false,
    };
    let mut threads = [blank; kernel::MAX_THREADS];
    let count = kernel().debug_threads(&mut threads);
    let mut out = [None; kernel::MAX_THREADS];
    for (slot, thread) in out.iter_mut().zip(&threads[..count]) {
        *slot = Some(*thread);
    }
    (out, count)
}

unsafe extern "C" {
    // The linker script's symbols: code from `_start` to `__text_end`,
    // read-only data up to `__data_start`, then data, statics and stacks
    // up to the boot stack's top.
    static _start: u8;
    static __text_end: u8;
    static __data_start: u8;
    static __stack_top: u8;
}

/// The image's memory: from its first instruction to the top of the boot
/// stack (and, for writes, from the start of `.data`).
fn image_range(write: bool) -> core::ops::Range<usize> {
    let start =
        if write { (&raw const __data_start) as usize } else { (&raw const _start) as usize };
    start..(&raw const __stack_top) as usize
}

/// The image's code.
fn code_range() -> core::ops::Range<usize> {
    (&raw const _start) as usize..(&raw const __text_end) as usize
}

/// The smallest span either board protects on its own: a guard page
/// below a stack (PBX-A9's MMU small page, MicroBlaze V's PMP-locked
/// `StackGuard`).
const GUARD_GRANULE: usize = core::mem::size_of::<arch::StackGuard>();

/// Whether the hardware lets a load through everywhere in
/// `address..end`: one look per guard-sized span it touches
/// ([`arch::is_readable`]). The image's range holds the guard pages
/// below its stacks, which fault the access.
fn readable(address: usize, end: usize) -> bool {
    let mut at = address;
    while at < end {
        if !arch::is_readable(at) {
            return false;
        }
        at = (at | (GUARD_GRANULE - 1)).saturating_add(1);
    }
    true
}

fn check(address: u32, length: usize, write: bool) -> Result<(), TargetError> {
    let address = address as usize;
    let end = address.checked_add(length).ok_or(TargetError::BadAddress)?;
    let image = image_range(write);
    if address < image.start || end > image.end || !readable(address, end) {
        return Err(TargetError::BadAddress);
    }
    kernel().debug_check_access(address, length).map_err(|_| TargetError::BadAddress)
}

impl Target for ImageTarget {
    fn architecture(&self) -> Architecture {
        if arch::debug::GDB_ARCHITECTURE == "arm" {
            Architecture::Arm
        } else {
            Architecture::Riscv32
        }
    }

    fn threads(&mut self, out: &mut [u32]) -> usize {
        let (threads, count) = debuggable();
        let mut written = 0;
        for (slot, thread) in out.iter_mut().zip(threads[..count].iter().flatten()) {
            *slot = thread.thread.index() as u32 + 1;
            written += 1;
        }
        written
    }

    fn describe(&mut self, thread: u32, out: &mut dyn core::fmt::Write) -> Result<(), TargetError> {
        let (threads, _) = debuggable();
        let wanted = thread_of(thread).ok_or(TargetError::NoSuchThread)?;
        let found = threads
            .iter()
            .flatten()
            .find(|t| t.thread == wanted)
            .ok_or(TargetError::NoSuchThread)?;
        let state = if found.stopped { "stopped" } else { "running" };
        let _ = write!(out, "{}:{} ({})", found.component_name, found.name, state);
        Ok(())
    }

    fn stop(&mut self) {
        let (threads, _) = debuggable();
        for thread in threads.iter().flatten() {
            let _ = kernel().debug_stop(thread.thread);
        }
    }

    fn resume(&mut self, thread: Option<u32>) {
        match thread {
            Some(id) => {
                if let Some(thread) = thread_of(id) {
                    let _ = kernel().debug_resume(thread);
                }
            }
            None => {
                let (threads, _) = debuggable();
                for thread in threads.iter().flatten() {
                    let _ = kernel().debug_resume(thread.thread);
                }
            }
        }
    }

    fn registers(&mut self, thread: u32, out: &mut [u32]) -> Result<(), TargetError> {
        let thread = thread_of(thread).ok_or(TargetError::NoSuchThread)?;
        let frame = kernel().debug_frame(thread).map_err(|error| match error {
            KernelError::InvalidThread => TargetError::NotStopped,
            _ => TargetError::NoSuchThread,
        })?;
        let registers: [u32; GDB_REGISTERS] = match frame {
            StoppedFrame::Switch(sp) => {
                let words = self.read_words::<SWITCH_FRAME_WORDS>(sp)?;
                arch::debug::switch_frame_registers(sp as u32, &words)
            }
            StoppedFrame::Trap { frame, .. } => {
                let words = self.read_words::<TRAP_FRAME_WORDS>(frame)?;
                // A frame on the park stands for one right below the
                // stack pointer the thread faulted at, as on its own
                // stack: that is its sp.
                let at = match PARK.kept() {
                    Some(kept) if PARK.holds(frame) => kept.sp.wrapping_sub(TRAP_FRAME_WORDS * 4),
                    _ => frame,
                };
                arch::debug::trap_frame_registers(at as u32, &words)
            }
        };
        for (slot, value) in out.iter_mut().zip(registers) {
            *slot = value;
        }
        Ok(())
    }

    /// Registers of a thread stopped at a breakpoint or a fault: they are
    /// its trap frame, which it resumes with (`arch::debug`'s
    /// `write_trap_register` says what may change; a pc must also stay
    /// inside the image's code). A thread stopped at a fault goes on only
    /// if its pc was written (`fault_stopped`); one stopped on the
    /// monitor's park never does, and has none to write. A thread stopped in the
    /// kernel has none either: its switch frame is the kernel's.
    fn write_register(&mut self, thread: u32, index: usize, value: u32) -> Result<(), TargetError> {
        let id = thread_of(thread).ok_or(TargetError::NoSuchThread)?;
        let frame = match kernel().debug_frame(id) {
            Ok(StoppedFrame::Trap { frame, .. }) => frame,
            Ok(StoppedFrame::Switch(_)) => return Err(TargetError::ReadOnlyRegister),
            Err(KernelError::InvalidThread) => return Err(TargetError::NotStopped),
            Err(_) => return Err(TargetError::NoSuchThread),
        };
        // A parked thread never goes on from its frame.
        if PARK.holds(frame)
            || index == arch::debug::PC_REGISTER && !code_range().contains(&(value as usize))
        {
            return Err(TargetError::ReadOnlyRegister);
        }
        let mut words = self.read_words::<TRAP_FRAME_WORDS>(frame)?;
        if !arch::debug::write_trap_register(frame as u32, &mut words, index, value) {
            return Err(TargetError::ReadOnlyRegister);
        }
        let mut bytes = [0u8; TRAP_FRAME_WORDS * 4];
        for (chunk, word) in bytes.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        // One write, checked once: the frame as the thread resumes with it.
        self.write_memory(frame as u32, &bytes)
    }

    fn read_memory(&mut self, address: u32, out: &mut [u8]) -> Result<(), TargetError> {
        check(address, out.len(), false)?;
        for (offset, byte) in out.iter_mut().enumerate() {
            // SAFETY: inside the image's own RAM (checked above: linked
            // code, data, statics and stacks), off the kernel's state;
            // a byte read has no side effect there.
            *byte = unsafe { core::ptr::read_volatile((address as usize + offset) as *const u8) };
        }
        // A parked thread's guard words read as its frames had left them.
        if let Some(kept) = PARK.kept() {
            for (offset, byte) in out.iter_mut().enumerate() {
                if let Some(at) = (address as usize + offset).checked_sub(kept.guard)
                    && let Some(word) = kept.words.get(at / core::mem::size_of::<usize>())
                {
                    *byte = word.to_le_bytes()[at % core::mem::size_of::<usize>()];
                }
            }
        }
        Ok(())
    }

    fn write_memory(&mut self, address: u32, data: &[u8]) -> Result<(), TargetError> {
        check(address, data.len(), true)?;
        // A parked thread's guard: written, it would be broken again.
        if let Some(Kept { guard, .. }) = PARK.kept() {
            let guard_end = guard + kernel::STACK_GUARD_WORDS * core::mem::size_of::<usize>();
            if (address as usize) < guard_end && guard < address as usize + data.len() {
                return Err(TargetError::BadAddress);
            }
        }
        for (offset, &byte) in data.iter().enumerate() {
            // SAFETY: inside the image's writable RAM (checked above),
            // off the kernel's state: what a debugger's user asked to
            // change in a component's data, as a debugger does.
            unsafe { core::ptr::write_volatile((address as usize + offset) as *mut u8, byte) };
        }
        arch::sync_instruction_memory(address as usize, data.len());
        Ok(())
    }

    fn insert_breakpoint(&mut self, address: u32, instruction: &[u8]) -> Result<(), TargetError> {
        let length = instruction.len();
        let architecture = self.architecture();
        // The CPU's own breakpoint instruction, and nothing else.
        let expected = architecture.breakpoint(length as u32).ok_or(TargetError::BadAddress)?;
        if instruction != &expected[..length] {
            return Err(TargetError::BadAddress);
        }
        // On an instruction boundary: A32 words, T32 and RISC-V (with
        // compressed instructions) halfwords.
        let alignment = if architecture == Architecture::Arm { length } else { 2 };
        let start = address as usize;
        let end = start.checked_add(length).ok_or(TargetError::BadAddress)?;
        let code = code_range();
        if !start.is_multiple_of(alignment) || start < code.start || end > code.end {
            return Err(TargetError::BadAddress);
        }
        if self
            .inserted
            .iter()
            .flatten()
            .any(|b| start < b.address as usize + b.length && (b.address as usize) < end)
        {
            return Err(TargetError::BadAddress);
        }
        let slot = self.inserted.iter_mut().find(|b| b.is_none()).ok_or(TargetError::BadAddress)?;
        let mut original = [0u8; 4];
        for (offset, byte) in original[..length].iter_mut().enumerate() {
            // SAFETY: inside the image's code (checked above); a byte read
            // has no side effect.
            *byte = unsafe { core::ptr::read_volatile((start + offset) as *const u8) };
        }
        *slot = Some(Inserted { address, length, original });
        write_code(start, instruction);
        Ok(())
    }

    fn remove_breakpoint(&mut self, address: u32, _original: &[u8]) -> Result<(), TargetError> {
        // What this target saved is put back, whatever the caller says
        // was there.
        let slot = self
            .inserted
            .iter_mut()
            .find(|b| b.is_some_and(|b| b.address == address))
            .ok_or(TargetError::BadAddress)?;
        if let Some(breakpoint) = slot.take() {
            write_code(address as usize, &breakpoint.original[..breakpoint.length]);
        }
        Ok(())
    }

    fn stopped_thread(&mut self) -> Option<(u32, u8)> {
        kernel().debug_take_hit().map(|(thread, signal)| (thread.index() as u32 + 1, signal))
    }
}

/// GDB's SIGTRAP: the signal of a thread stopped at a breakpoint.
pub(crate) const SIGTRAP: u8 = ferrode_gdb_monitor::SIGTRAP;

/// A fault kept for the debugger on the faulting thread's own stack,
/// right below the stack pointer it faulted at: the signal, then the
/// registers as a trap frame, which ends where the thread's frames begin
/// (so the frame's sp reads as the faulting sp).
#[repr(C)]
struct FaultStop {
    signal: u32,
    /// The faulting instruction's address: a debugger that wrote another
    /// pc into the frame moved the thread on past the fault.
    fault_pc: u32,
    frame: [u32; TRAP_FRAME_WORDS],
}

/// Stack a fault stop needs below its [`FaultStop`]: the kernel's entry
/// and switch while the thread is stopped, then the component's end,
/// which starts over at the stack's top (debug images use more than
/// release ones).
const FAULT_STOP_ROOM: usize = 1024;

/// Where a faulted thread stops when its own stack has no room left
/// below the fault (one that ran into the guard page below its stack):
/// a stack of the monitor's for one such thread at a time. The parked
/// thread never goes on where it faulted (its stack pointer lies at or
/// below its stack's guard); let go, it ends its component, and
/// [`leave_park`] frees the park once it starts over at its own stack's
/// top.
struct Park {
    /// The parked thread's index plus one; 0 while the park is free.
    owner: AtomicUsize,
    /// What the debugger sees of the parked thread's own stack.
    kept: UnsafeCell<Kept>,
    /// The stack: a [`FaultStop`] at its top, the thread's frames below.
    stack: UnsafeCell<[u64; PARK_WORDS]>,
}

/// A parked thread's own stack as the debugger sees it.
#[derive(Clone, Copy)]
struct Kept {
    /// The stack pointer it faulted at (its registers' sp: their frame
    /// lies on the park).
    sp: usize,
    /// Where its stack guard lies.
    guard: usize,
    /// The words its frames had left over the guard
    /// ([`Kernel::debug_keep_guard`]): the debugger reads them in their
    /// place.
    ///
    /// [`Kernel::debug_keep_guard`]: crate::kernel::Kernel
    words: [usize; kernel::STACK_GUARD_WORDS],
}

/// The park's stack, in 8-byte words: the room a fault stop needs, and
/// its [`FaultStop`].
const PARK_WORDS: usize = (FAULT_STOP_ROOM + core::mem::size_of::<FaultStop>()).div_ceil(8);

// SAFETY: `owner` is atomic; `kept` is written only by the thread that
// claims the free park and read only by the monitor, both with interrupts
// masked on the one core; `stack` is only the parked thread's.
unsafe impl Sync for Park {}

static PARK: Park = Park {
    owner: AtomicUsize::new(0),
    kept: UnsafeCell::new(Kept { sp: 0, guard: 0, words: [0; kernel::STACK_GUARD_WORDS] }),
    stack: UnsafeCell::new([0; PARK_WORDS]),
};

impl Park {
    /// The park's stack as an address range.
    fn range(&self) -> core::ops::Range<usize> {
        let start = self.stack.get() as usize;
        start..start + core::mem::size_of::<[u64; PARK_WORDS]>()
    }

    /// Whether `address` (a thread's stop, or its trap frame) lies on the
    /// park: the thread there is parked.
    fn holds(&self, address: usize) -> bool {
        self.range().contains(&address)
    }

    /// What the debugger sees of the parked thread's stack, if a thread
    /// is parked.
    fn kept(&self) -> Option<Kept> {
        arch::without_interrupts(|| {
            // SAFETY: interrupts masked on the one core: the claiming
            // thread, the only writer, is not between its writes.
            (self.owner.load(Ordering::Relaxed) != 0).then(|| unsafe { *self.kept.get() })
        })
    }
}

/// The running thread starts over at its own stack's top, ending its
/// component (`component::runtime`'s `crashed`): if it was parked, the
/// park is free again.
pub(crate) fn leave_park() {
    let me = kernel().current_thread().index() + 1;
    let _ = PARK.owner.compare_exchange(me, 0, Ordering::Relaxed, Ordering::Relaxed);
}

/// Called by the board's fault path after the report, for a fault of
/// thread code (interrupts enabled), still on the exception's stack: if
/// the arch kept the thread's registers ([`arch::fault_frame`]) and its
/// stack has room below the faulting frame, the thread moves there and
/// asks the kernel to stop it for the image's monitor
/// ([`Kernel::debug_trap`](crate::kernel::Kernel), with the fault's
/// signal). Its frames above stay as they were, for the debugger's
/// backtrace. A thread without that room (one that ran into its guard
/// page) stops on the [`Park`] instead, if it is free. Returns (and the
/// fault ends the component at once) if there is no frame, or neither
/// room nor park.
pub(crate) fn stop_at_fault(sp: usize) {
    let Some((signal, frame)) = arch::fault_frame() else { return };
    let fault_pc = arch::debug::trap_frame_registers(0, &frame)[arch::debug::PC_REGISTER];
    let stop = FaultStop { signal: signal.into(), fault_pc, frame };
    let size = core::mem::size_of::<FaultStop>();
    if !sp.is_multiple_of(4) || kernel().debug_stack_room(sp) < size + FAULT_STOP_ROOM {
        park(stop, sp);
        return;
    }
    let at = sp - size;
    // SAFETY: `size` bytes right below the faulting thread's stack
    // pointer, inside its own stack above its intact guard (the kernel
    // checked, with room to spare below): memory the thread's code does
    // not use (neither arch's ABI has a red zone), 4-aligned as the
    // struct's words.
    unsafe { (at as *mut FaultStop).write(stop) };
    // SAFETY: the fault path, for a fault of this thread's own code with
    // interrupts enabled; `at & !15` lies inside its own stack, below every
    // frame it left (they stay for the debugger), with room for
    // `fault_stopped`, which never returns.
    unsafe { arch::land(at & !15, fault_stopped, at) }
}

/// A faulted thread with no room on its own stack: claims the free
/// [`Park`], has its stack guard written again (keeping the words there
/// for the debugger: a switch away from a thread with a broken guard
/// ends the image) and lands on the park, below its [`FaultStop`].
/// Returns if the park is taken or the kernel recorded no stack.
fn park(stop: FaultStop, sp: usize) {
    let me = kernel().current_thread().index() + 1;
    let claimed = arch::without_interrupts(|| {
        if PARK.owner.load(Ordering::Relaxed) != 0 {
            return false;
        }
        // SAFETY: the fault path of this thread's own code: it lands on
        // the park and from there starts over at its stack's top, never
        // returning into (nor reading) the frames it left in the guard.
        let Some((guard, words)) = (unsafe { kernel().debug_keep_guard() }) else {
            return false;
        };
        // SAFETY: the park is free and interrupts are masked on the one
        // core: nothing else reads or writes `kept` now.
        unsafe { *PARK.kept.get() = Kept { sp, guard, words } };
        PARK.owner.store(me, Ordering::Relaxed);
        true
    });
    if !claimed {
        return;
    }
    let at = (PARK.range().end - core::mem::size_of::<FaultStop>()) & !7;
    // SAFETY: the top of the park's stack, which this thread claimed
    // (nothing else uses it until it is freed), 8-aligned.
    unsafe { (at as *mut FaultStop).write(stop) };
    // SAFETY: the fault path, for a fault of this thread's own code with
    // interrupts enabled; `at & !15` lies inside the park this thread
    // holds, with `FAULT_STOP_ROOM` below for `fault_stopped`, which never
    // returns.
    unsafe { arch::land(at & !15, fault_stopped, at) }
}

/// Where a faulted thread the debugger may look at lands, below its
/// [`FaultStop`] at `stop`: it stops there until the debugger lets it go
/// (or at once goes on, if the image's monitor may not debug it). Then
/// its component ends, as the fault ends it without a debugger (as a
/// hosted OS delivers the signal), unless the debugger wrote another pc
/// (`set $pc`, `jump`) into a thread stopped on its own stack: the thread
/// goes on there, with the registers the debugger left in the frame.
extern "C" fn fault_stopped(stop: usize) -> ! {
    let stop = stop as *const FaultStop;
    // SAFETY: `stop_at_fault` wrote it just above this thread's stack
    // (or at the top of the park it holds), where it stays until the
    // thread leaves these frames; the debugger writes only its frame, and
    // only while the thread is stopped.
    let (signal, fault_pc) = unsafe { ((*stop).signal as u8, (*stop).fault_pc) };
    // SAFETY: as above; the frame's field, inside the struct.
    let frame = unsafe { &raw const (*stop).frame };
    // A parked thread's stack pointer lies at or below its stack's guard:
    // it never goes on there (`write_register` refuses it any change).
    if kernel().debug_trap(frame as usize, signal) && !PARK.holds(stop as usize) {
        // SAFETY: as above; read once the debugger let the thread go.
        let words = unsafe { frame.read() };
        let pc = arch::debug::trap_frame_registers(0, &words)[arch::debug::PC_REGISTER];
        if pc != fault_pc {
            // SAFETY: the fault's trap frame, right below the stack
            // pointer this thread faulted at, as the debugger left it
            // (`write_register` kept the pc in the code and the state
            // bits as they were).
            unsafe { arch::resume_trap_frame(frame as usize) }
        }
    }
    crate::report::end_faulted_thread()
}

/// Writes `bytes` over the code at `address` (a breakpoint going in or
/// out) and makes them visible to instruction fetch, with code writable
/// (PBX-A9's MMU maps it read-only) and interrupts masked for the moment:
/// on the one core no other thread runs until the instruction is whole
/// again, so none executes half of one.
fn write_code(address: usize, bytes: &[u8]) {
    let write = || {
        for (offset, &byte) in bytes.iter().enumerate() {
            // SAFETY: inside the image's code, on an instruction boundary
            // (checked when the breakpoint went in): one breakpoint
            // instruction, or the bytes it replaced; `writable_code` lets
            // the store through the MMU's read-only mapping.
            unsafe { core::ptr::write_volatile((address + offset) as *mut u8, byte) };
        }
        arch::sync_instruction_memory(address, bytes.len());
    };
    // SAFETY: the monitor is the image's one writer of code, and `write`
    // writes one breakpoint in or out.
    unsafe { arch::writable_code(write) };
}
