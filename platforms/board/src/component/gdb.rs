//! The in-image GDB monitor's target (board feature `gdb`): the kernel's
//! debug API and the image's memory bounds, as `ferrode_gdb_monitor`
//! wants them.
//!
//! The monitor runs inside a component that was granted component
//! capabilities to the components it may debug ([`grant_debug`], from
//! the composition's parent hook): it lists, stops and inspects their
//! threads and nothing else (the kernel checks). Memory requests must lie
//! inside the image (text to the top of the boot stack: every
//! component's stacks and statics are there), off the kernel's own state,
//! and writes must not touch code or read-only data: software breakpoints
//! need the arch's trap path to stop the thread instead of reporting a
//! fault, which is not there yet, so code stays as linked.

use ferrode_gdb_monitor::{Architecture, Target, TargetError};
use ferrode_ipc::CapSel;

use crate::arch;
use crate::arch::debug::{GDB_REGISTERS, SWITCH_FRAME_WORDS};
use crate::component::ParentEnv;
use crate::kernel::{self, CapEntry, DebugThread, KernelError, StoppedFrame, ThreadId, kernel};

/// The service name a debug grant is recorded under.
pub const DEBUG: &str = "Debug";

/// Gives component `monitor` a copy of the composer's component
/// capability to `target`: the authority to debug it. Call from the
/// parent hook at `Event::Starting(monitor)`.
pub fn grant_debug(
    env: &mut ParentEnv<'_>,
    target: &'static str,
    monitor: &str,
) -> Result<CapSel, KernelError> {
    let k = kernel();
    let composer = env.composer();
    let component = env.component(target).ok_or(KernelError::InvalidComponent)?;
    let selector = (0..kernel::CAP_SLOTS as u32)
        .map(CapSel)
        .find(|&selector| {
            matches!(k.capability(composer, selector),
                CapEntry::Component { component: c, .. } if c == component)
        })
        .ok_or(KernelError::NoAuthority)?;
    env.grant(monitor, DEBUG, target, composer, selector)
}

/// The image as GDB sees it through the running component's authority.
/// GDB thread ids are kernel thread indices plus one.
#[derive(Default)]
pub struct ImageTarget;

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

/// The image's memory: from its first instruction to the top of the boot
/// stack (and, for writes, from the start of `.data`).
fn image_range(write: bool) -> core::ops::Range<usize> {
    unsafe extern "C" {
        static _start: u8;
        static __data_start: u8;
        static __stack_top: u8;
    }
    let start =
        if write { (&raw const __data_start) as usize } else { (&raw const _start) as usize };
    start..(&raw const __stack_top) as usize
}

fn check(address: u32, length: usize, write: bool) -> Result<(), TargetError> {
    let address = address as usize;
    let end = address.checked_add(length).ok_or(TargetError::BadAddress)?;
    let image = image_range(write);
    if address < image.start || end > image.end {
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
        let StoppedFrame::Switch(sp) = frame else { return Err(TargetError::NotStopped) };
        let mut words = [0u32; SWITCH_FRAME_WORDS];
        let mut bytes = [0u8; SWITCH_FRAME_WORDS * 4];
        self.read_memory(sp as u32, &mut bytes)?;
        for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
            *word = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        let registers: [u32; GDB_REGISTERS] =
            arch::debug::switch_frame_registers(sp as u32, &words);
        for (slot, value) in out.iter_mut().zip(registers) {
            *slot = value;
        }
        Ok(())
    }

    fn read_memory(&mut self, address: u32, out: &mut [u8]) -> Result<(), TargetError> {
        check(address, out.len(), false)?;
        for (offset, byte) in out.iter_mut().enumerate() {
            // SAFETY: inside the image's own RAM (checked above: linked
            // code, data, statics and stacks), off the kernel's state;
            // a byte read has no side effect there.
            *byte = unsafe { core::ptr::read_volatile((address as usize + offset) as *const u8) };
        }
        Ok(())
    }

    fn write_memory(&mut self, address: u32, data: &[u8]) -> Result<(), TargetError> {
        check(address, data.len(), true)?;
        for (offset, &byte) in data.iter().enumerate() {
            // SAFETY: inside the image's writable RAM (checked above),
            // off the kernel's state: what a debugger's user asked to
            // change in a component's data, as a debugger does.
            unsafe { core::ptr::write_volatile((address as usize + offset) as *mut u8, byte) };
        }
        arch::sync_instruction_memory(address as usize, data.len());
        Ok(())
    }

    fn stopped_thread(&mut self) -> Option<u32> {
        kernel().debug_take_hit().map(|thread| thread.index() as u32 + 1)
    }
}
