//! Rust `std` for one client component: the `sys_*` functions std's Hermit
//! layer calls (the `hermit-abi` crate's ABI), over Ferrode.
//!
//! An app whose manifest says `[package.metadata.ferrode] std = true` is
//! built against std for the board's `targets/*-ferrode-hermit.json` (see
//! `docs/ARCHITECTURE.md`, "Rust std"). It has an ordinary `fn main()`
//! and a composition in which one client runs it:
//!
//! ```ignore
//! ferrode_board::compose! {
//!     servers {
//!         log: { priority: 4, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
//!         timer: { priority: 4, stack: 4096, provides: "Timer", root: ferrode_board::component::timer_root },
//!     }
//!     clients {
//!         app: { priority: 3, stack: 16384, main: ferrode_board::hermit::std_main },
//!     }
//!     routes {
//!         app: "LOG" "" => log,
//!         app: "Timer" "" => timer,
//!     }
//! }
//! fn main() { println!("Hello, world!"); }
//! ```
//!
//! What std gets:
//!
//! - **stdout and stderr** go to the component's LOG session, a line at a
//!   time, prefixed with its label (`[app] Hello, world!`); a line longer
//!   than the session takes (its quota) goes out in pieces, and an
//!   unfinished line at exit.
//! - **stdin** is the component's Terminal session if it has a route to
//!   one (`app: "Terminal" "" => terminal`, the driver on the console
//!   UART): a read waits for input, a carriage return reads as a line end
//!   and Ctrl-D as an end of file ([`TtyInput`]); nothing is echoed.
//!   Without the route stdin is at its end.
//! - **Memory**: `Box`, `Vec`, `String`, `HashMap` allocate from the RAM
//!   after the image (the linker script's `__heap_start` to `__heap_end`),
//!   which this component alone uses.
//! - **Time**: `Instant` reads the Timer session's monotonic clock and
//!   `thread::sleep` waits for one of its timeouts; `SystemTime` is the
//!   same clock plus the date the component's Rtc session (`app: "Rtc" ""
//!   => rtc`, core's service over the board's real-time clock) gave at its
//!   first reading. Without an Rtc route, or on a board without a
//!   real-time clock (the MicroBlaze V), `SystemTime` counts from boot.
//!   Without a Timer route these fail, with a LOG line saying so.
//! - **Arguments**: `std::env::args()` are the image's command line
//!   (semihosting: `cargo xtask run --app NAME -- ARGS`; under QEMU the
//!   first is the program's name). **Environment variables** are the
//!   `KEY=VALUE` lines of the ROM module the component's route labelled
//!   `env` gives (`app: "ROM" "env" => rom`; `#` starts a comment line);
//!   without it there are none.
//! - **Exit**: returning from `main` or `std::process::exit(n)` exits the
//!   component through its parent with that status; a panic prints std's
//!   message to the LOG and exits with [`exit_code::PANIC`].
//! - **Randomness**: neither board has an entropy source; the bytes std
//!   seeds `HashMap` with come from [`SeedGenerator`], seeded from the
//!   clock. They are no secret.
//! - **Files** are the component's ROM modules, read-only:
//!   `std::fs::read("/rom/config")` reads the module of its ROM route
//!   labelled `config` (`app: "ROM" "config" => rom`); `File::open`,
//!   `metadata`, `seek` and `read_to_string` work on it;
//!   `std::fs::read_dir("/rom")` lists one file per ROM route. Any other
//!   path, or a module without a route, is `NotFound`; writing, removing
//!   and making directories are refused (read-only file system). With the
//!   `hermit-sd` feature and a Block route labelled `sd` (`app: "Block"
//!   "sd" => sd`), `/sd` is the SD card's first FAT partition, read and
//!   written: see the `sd` module (`hermit/sd.rs`).
//! - **Sockets** (`std::net`, with the board crate's `hermit-net`
//!   feature and a route to a NIC driver, `app: "Nic" "" => nic`): IPv4
//!   TCP and UDP over the component's NIC session and smoltcp; see the
//!   `net` module (`hermit/net.rs`). Without the feature their calls fail
//!   (`ENOSYS`).
//! - **Threads**: `std::thread::spawn` and `join`, `Mutex`, `Condvar`,
//!   channels, `thread_local!` and `yield_now` work; one thread runs std
//!   code at a time, handing the turn on when it waits, yields or ends
//!   (the `threads` module: a thread that computes without waiting keeps
//!   the component's other threads, not other components, from running).
//!   Each thread is a kernel thread of the component, so its declaration
//!   needs the quota (`quota: { threads: N }`, `main` counted; and a
//!   signal each, within the default 10); the kernel's 16 thread slots
//!   bound them too. Threads that all wait for one another (a deadlock),
//!   or one thread alone waiting for a futex no one else can wake, end the
//!   component with a LOG line instead of hanging.
//! - **Not there**: directories other than `/rom` (and `/sd`), `dup` of anything but
//!   a socket. Their calls return `ENOSYS` (`Unsupported`) or an error,
//!   so a program that uses them links and learns it at run time.
//!
//! One std component per image: its thread-local storage hangs off a
//! register of the whole CPU on PBX-A9 (TPIDRPRW, which thread switches
//! leave alone; the std thread that gets the turn points it at its own
//! block, as it sets `tp`, which the MicroBlaze V's switches keep per
//! thread), and its heap is the rest of RAM. Its
//! `sys_*` calls from any thread but the turn holder (a kernel path's
//! panic) are answered without the component's state: console output goes
//! to the board console, an abort ends the image.

use core::alloc::Layout;
use core::cell::UnsafeCell;
use core::ffi::{c_char, c_int};
use core::ptr::{NonNull, null_mut};
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};

use ferrode_component::{LOG_LINE_BYTES, Rom, Rtc, TERMINAL_CHUNK, Terminal, Timer};
use ferrode_ipc::CapSel;
use ferrode_std_abi::abi::{self, errno};
use ferrode_std_abi::{
    ENV_MODULE, LineBuffer, SeedGenerator, TlsLayout, TtyInput, environment_entries, is_rom_dir,
    listed, rom_module, seek, timespec_of_us, us_of_timespec, write_dirents,
};
use linked_list_allocator::Heap;

use crate::component::{Env, LogClient, runtime};
use crate::kernel::{self, kernel};
use crate::{arch, exit_code};

/// The socket calls (`sys_socket`, `sys_bind`, ...), with `hermit-net`.
#[cfg(feature = "hermit-net")]
mod net;

#[cfg(feature = "hermit-net")]
pub use net::set_name_server;

/// std threads and futexes.
mod threads;

/// `std::fs` on the SD card (`/sd`), with `hermit-sd`.
#[cfg(feature = "hermit-sd")]
mod sd;

/// The std component's state: touched only by its thread, one call at a
/// time (see [`with_state`]).
struct StdState {
    env: Env,
    log: Option<LogClient>,
    timer: Option<(TimerClient, CapSel)>,
    stdout: LineBuffer<LOG_LINE_BYTES>,
    stderr: LineBuffer<LOG_LINE_BYTES>,
    heap: Heap,
    seed: Option<SeedGenerator>,
    files: [Option<OpenFile>; FILES],
    /// stdin: the Terminal session and its input signal, if routed.
    terminal: Option<(ferrode_ipc::Client<dyn Terminal, kernel::Transport>, CapSel)>,
    stdin: TtyInput<TERMINAL_CHUNK>,
    /// Sockets: opened at the first `socket` call.
    #[cfg(feature = "hermit-net")]
    net: Option<&'static mut net::Net>,
    /// The SD card's file system: mounted at the first `/sd` path.
    #[cfg(feature = "hermit-sd")]
    sd: sd::Mount,
    /// [`realtime_offset_us`], once asked.
    realtime_offset_us: Option<u64>,
    /// The std threads, and whose turn it is to run std code: a table on
    /// the heap, made at the first spawn.
    threads: Option<&'static mut threads::Threads>,
    /// `main`'s thread pointer.
    tls_pointer: usize,
    /// When the Timer session's timeout is due, µs on its clock, while
    /// threads share it ([`trigger`]).
    armed_until: Option<u64>,
}

/// Files std may have open at once.
const FILES: usize = 8;
/// The first file's descriptor (0 to 2 are std's streams).
const FIRST_FILE: c_int = 3;

/// What a file descriptor past std's streams names.
enum OpenFile {
    /// A ROM module.
    Module(RomFile),
    /// `/rom`, the directory of the modules (`read_dir`).
    Directory,
    /// A file or directory on the SD card (`/sd/...`).
    #[cfg(feature = "hermit-sd")]
    Sd(sd::Open),
}

/// An open ROM module, and how far it was read.
struct RomFile {
    rom: ferrode_ipc::Client<dyn Rom, kernel::Transport>,
    size: u64,
    at: u64,
}

struct StateCell(UnsafeCell<Slot>);

/// The state's place: an explicit tag, 0 for none yet, rather than an
/// `Option`, whose `None` would sit in a niche of the state with a
/// non-zero value and carry the whole place (about 1 KiB) in `.data`,
/// which a flash image must hold; this one is all zero, in `.bss`.
#[repr(C, u8)]
#[allow(clippy::large_enum_variant, reason = "one static place; the heap lives in the state")]
enum Slot {
    Empty = 0,
    Ready(StdState),
}

// SAFETY: the state is reached only through `with_state`, which lets in
// only the std component's thread (`OWNER`), and only once at a time
// (`BUSY`): no two references to it exist at once.
unsafe impl Sync for StateCell {}

static STATE: StateCell = StateCell(UnsafeCell::new(Slot::Empty));
/// The std thread's kernel thread index, plus one (0: none yet; [`ENDED`]
/// once std exited).
static OWNER: AtomicU32 = AtomicU32::new(0);
/// [`OWNER`] once std exited: no thread's.
const ENDED: u32 = u32::MAX;
/// Set while a call holds the state.
static BUSY: AtomicBool = AtomicBool::new(false);

/// Runs `f` on the std component's state, if the caller is its thread and
/// no call of that thread holds it already (a `sys_*` call made while one
/// runs: a panic inside one). `None` otherwise.
fn with_state<R>(f: impl FnOnce(&mut StdState) -> R) -> Option<R> {
    let me = kernel().current_thread().index() as u32 + 1;
    if OWNER.load(Ordering::Acquire) != me || BUSY.swap(true, Ordering::Acquire) {
        return None;
    }
    // SAFETY: only the owner thread gets here, and `BUSY` keeps it from
    // getting here twice at once; the reference does not outlive `f`.
    let result = match unsafe { &mut *STATE.0.get() } {
        Slot::Ready(state) => Some(f(state)),
        Slot::Empty => None,
    };
    BUSY.store(false, Ordering::Release);
    result
}

/// What one look at the std component's state found: the call's result,
/// or a signal to wait on before looking again.
enum Step<T> {
    Done(Result<T, i32>),
    Wait(CapSel),
}

/// Looks at the state with `step` until it is done, waiting between looks
/// on the signal it names (a raise that came meanwhile wakes at once; a
/// wake-up that finds nothing done looks again): how every call that
/// waits (stdin, sleep, sockets) waits. `None` if the caller may not reach
/// the state ([`with_state`]); `EIO` if a wait fails (whoever raises the
/// signal ended).
fn wait_until<T>(mut step: impl FnMut(&mut StdState) -> Step<T>) -> Option<Result<T, i32>> {
    loop {
        match with_state(&mut step)? {
            Step::Done(result) => return Some(result),
            Step::Wait(signal) => {
                let waited = match threads::hooks().and_then(|hooks| (hooks.wait_signal)(signal)) {
                    Some(waited) => waited,
                    None => kernel().wait_signal(signal).map(drop).map_err(drop),
                };
                if waited.is_err() {
                    return Some(Err(errno::EIO));
                }
            }
        }
    }
}

/// The client `main` of the component that runs the app's `fn main()`
/// (std's entry, `runtime_entry`): sets up its heap, its thread-local
/// storage and its sessions, then runs it. Never returns: std ends the
/// component through [`sys_exit`].
pub fn std_main(env: Env) -> u32 {
    let me = kernel().current_thread().index() as u32 + 1;
    if OWNER.compare_exchange(0, me, Ordering::AcqRel, Ordering::Acquire).is_err() {
        // A second std component: the first one has the heap and the TLS.
        crate::report::line(|out| {
            out.text("std: ");
            out.text(env.name());
            out.text(" cannot run std: another component of this image does");
        });
        return exit_code::FAILURE;
    }
    let mut log = env.log().ok();
    // Lines as long as the route lets the LOG session take (`=> log quota
    // N`): a longer one would be refused, and std would take that for a
    // failed write.
    let line_limit = log
        .as_mut()
        .and_then(|log| log.quota().ok())
        .map_or(LOG_LINE_BYTES, |quota| quota as usize);
    let timer = env.timer("").ok();
    let terminal = env.terminal("").ok();
    let mut heap = Heap::empty();
    unsafe extern "C" {
        // The linker script's free RAM after the image.
        static __heap_start: u8;
        static __heap_end: u8;
    }
    let start = (&raw const __heap_start) as usize;
    let end = (&raw const __heap_end) as usize;
    // SAFETY: the linker script leaves the RAM from __heap_start to
    // __heap_end to no one, and this component is the only one that uses
    // it (`OWNER` lets one in).
    unsafe { heap.init(start as *mut u8, end - start) };
    // SAFETY: `OWNER` was just taken by this thread, and `BUSY` is clear:
    // nothing else refers to the state.
    unsafe {
        *STATE.0.get() = Slot::Ready(StdState {
            env,
            log,
            timer,
            stdout: LineBuffer::with_limit(line_limit),
            stderr: LineBuffer::with_limit(line_limit),
            heap,
            seed: None,
            files: [const { None }; FILES],
            terminal,
            stdin: TtyInput::new(),
            #[cfg(feature = "hermit-net")]
            net: None,
            #[cfg(feature = "hermit-sd")]
            sd: None,
            realtime_offset_us: None,
            threads: None,
            tls_pointer: 0,
            armed_until: None,
        })
    };
    if !set_up_tls() {
        log_line("std: no room for the thread-local storage");
        end_std(exit_code::FAILURE);
    }
    unsafe extern "C" {
        /// std's entry on Hermit: runs the app's `main` with these
        /// arguments and environment, then calls `sys_exit`.
        fn runtime_entry(argc: c_int, argv: *const *const c_char, env: *const *const c_char) -> !;
    }
    let (argc, argv) = arguments();
    let envp = environment();
    ENVIRONMENT.store(envp.cast_mut(), Ordering::Release);
    // SAFETY: std's entry, called once, on the thread whose TLS is set
    // up; `argv` is `argc` C strings and a null, `envp` null or C strings
    // and a null, both alive for good.
    unsafe { runtime_entry(argc, argv, envp) }
}

/// The environment std starts with, as C's `envp` on the heap: the
/// `KEY=VALUE` lines of the ROM module of the component's ROM route
/// labelled `env` ([`environment_entries`]); null (none) without that
/// route or if it cannot be read whole.
fn environment() -> *const *const c_char {
    let session =
        with_state(|state| state.env.session::<dyn Rom>(ferrode_component::ROM, ENV_MODULE).ok());
    let Some(session) = session.flatten() else { return core::ptr::null() };
    let mut rom = kernel::client(session);
    let Ok(size) = rom.size().map(|size| size as usize) else { return core::ptr::null() };
    // The module's text, allocated once at start as `argv` and `envp`
    // are. Read here rather than with `Env::read_rom`, whose loop is the
    // same but would come into the image for this one call (480 bytes of
    // MicroBlaze V text).
    let text = sys_malloc(size.max(1), 1);
    if text.is_null() {
        return core::ptr::null();
    }
    let mut at = 0;
    while at < size {
        let Ok(chunk) = rom.read(at as u32) else { return core::ptr::null() };
        let count = chunk.len().min(size - at);
        if count == 0 {
            return core::ptr::null();
        }
        // SAFETY: `text` has `size` bytes, `count` more fit after `at`.
        unsafe { core::ptr::copy_nonoverlapping(chunk.as_slice().as_ptr(), text.add(at), count) };
        at += count;
    }
    // SAFETY: `size` bytes just written.
    let text = unsafe { core::slice::from_raw_parts(text, size) };
    c_strings(environment_entries(text)).1
}

/// The environment std started with (`envp`; null: none).
static ENVIRONMENT: AtomicPtr<*const c_char> = AtomicPtr::new(null_mut());

/// The value of `key` in the environment the component started with (the
/// `env` module's), if it has one that is UTF-8.
#[cfg_attr(not(feature = "hermit-net"), allow(dead_code, reason = "the sockets' settings"))]
fn environment_value(key: &str) -> Option<&'static str> {
    let mut entry = ENVIRONMENT.load(Ordering::Acquire).cast_const();
    if entry.is_null() {
        return None;
    }
    loop {
        // SAFETY: `envp` is C strings and a null (see `c_strings`), on the
        // heap for good.
        let string = unsafe { *entry };
        if string.is_null() {
            return None;
        }
        // SAFETY: as above.
        let bytes = unsafe { core::ffi::CStr::from_ptr(string) }.to_bytes();
        if let Some(value) =
            bytes.strip_prefix(key.as_bytes()).and_then(|rest| rest.strip_prefix(b"="))
        {
            return core::str::from_utf8(value).ok();
        }
        // SAFETY: not past the closing null, which ended the loop.
        entry = unsafe { entry.add(1) };
    }
}

/// The image's command line (semihosting; under QEMU the first word is
/// the program's name) as C's `argc` and `argv`, on the heap; none if the
/// debugger or QEMU gives none.
fn arguments() -> (c_int, *const *const c_char) {
    let mut buffer = [0u8; 256];
    let line = crate::cmdline(&mut buffer).unwrap_or_default();
    c_strings(line.split_ascii_whitespace().map(str::as_bytes))
}

/// `items` as C strings and a null after them, on the heap (for good),
/// and how many there are; `(0, null)` if they do not fit.
fn c_strings<'a>(items: impl Iterator<Item = &'a [u8]> + Clone) -> (c_int, *const *const c_char) {
    let count = items.clone().count();
    let array = sys_malloc((count + 1) * size_of::<*const c_char>(), align_of::<*const c_char>())
        .cast::<*const c_char>();
    if array.is_null() {
        return (0, core::ptr::null());
    }
    for (index, item) in items.enumerate() {
        let string = sys_malloc(item.len() + 1, 1);
        if string.is_null() {
            return (0, core::ptr::null());
        }
        // SAFETY: `string` has room for the item and a NUL; `array` for
        // `count` entries and a null, and `index` < `count` (the same
        // items, counted above).
        unsafe {
            core::ptr::copy_nonoverlapping(item.as_ptr(), string, item.len());
            string.add(item.len()).write(0);
            array.add(index).write(string.cast());
        }
    }
    // SAFETY: as above: the last of `count + 1` entries.
    unsafe { array.add(count).write(core::ptr::null()) };
    (count as c_int, array.cast_const())
}

/// Sets up `main`'s thread-local block ([`tls_block`]) and points the
/// thread pointer at it.
fn set_up_tls() -> bool {
    let mut allocate = |layout: Layout| NonNull::new(sys_malloc(layout.size(), layout.align()));
    let Some((pointer, _)) = tls_block(&mut allocate) else { return false };
    // SAFETY: the block was just filled from the template, and lives as
    // long as the component (`main`'s is never freed).
    unsafe { arch::set_thread_pointer(pointer) };
    with_state(|state| state.tls_pointer = pointer);
    true
}

/// A thread's thread-local block from `allocate`, filled from the linker
/// script's template (`.tdata`, then `.tbss` zeroed): the thread pointer
/// to point at it, and the memory with its layout.
fn tls_block(
    allocate: &mut impl FnMut(Layout) -> Option<NonNull<u8>>,
) -> Option<(usize, (NonNull<u8>, Layout))> {
    unsafe extern "C" {
        static __tdata_start: u8;
        static __tdata_end: u8;
        static __tbss_end: u8;
        static __tls_align: u8;
    }
    let data_start = (&raw const __tdata_start) as usize;
    let data = (&raw const __tdata_end) as usize - data_start;
    // `.tbss` may start past `.tdata`'s end, at its own alignment: the
    // zeroed part covers the gap.
    let zeroed = (&raw const __tbss_end) as usize - (&raw const __tdata_end) as usize;
    let align = (&raw const __tls_align) as usize;
    if !data_start.is_multiple_of(align.max(1)) {
        // The linker script aligns the segment to 16; a thread-local that
        // wants more would sit misaligned in the block.
        log_line("std: the TLS segment is aligned beyond the linker script's 16 bytes");
        return None;
    }
    let layout = TlsLayout::new(arch::TLS_CONTROL_BLOCK, data, zeroed, align)?;
    let memory = Layout::from_size_align(layout.size, layout.align).ok()?;
    let block = allocate(memory)?;
    // SAFETY: the block is `layout.size` fresh bytes, the segment fits in
    // it after `layout.segment` bytes, and the template is the linker
    // script's `.tdata` (read-only, `data` bytes); the rest is zeroed.
    unsafe {
        block.as_ptr().write_bytes(0, memory.size());
        core::ptr::copy_nonoverlapping(
            data_start as *const u8,
            block.as_ptr().add(layout.segment),
            data,
        );
    }
    Some((block.as_ptr() as usize, (block, memory)))
}

/// Writes `line` to the component's LOG, or to the console if the caller
/// is not the std thread or the component has no LOG session.
fn log_line(line: &str) {
    let sent = with_state(|state| state.log.as_mut().map(|log| log.write(line).is_ok()));
    if sent.flatten() != Some(true) {
        crate::report::component_line(line);
    }
}

/// Sends what the sockets queued (`hermit-net`), flushes stdout and stderr
/// and exits the component with `status`.
fn end_std(status: u32) -> ! {
    // What the sockets queued goes out first.
    #[cfg(feature = "hermit-net")]
    net::drain();
    with_state(|state| {
        // Files on the card still open: closed, their sizes written.
        #[cfg(feature = "hermit-sd")]
        sd::close_all(state);
        let StdState { log, stdout, stderr, env, .. } = state;
        for buffer in [stdout, stderr] {
            buffer.flush(|line| {
                send_line(log, line);
            });
        }
        // No thread reaches the state from here on, not even one that
        // later gets this thread's kernel slot, and no component starts
        // std again.
        OWNER.store(ENDED, Ordering::Release);
        runtime::client_finished(env, status)
    });
    // Not the std thread: the image ends.
    crate::exit(status)
}

/// One line of stdout or stderr to the LOG session (the console without
/// one).
fn send_line(log: &mut Option<LogClient>, line: &str) -> bool {
    match log {
        Some(log) => log.write(line).is_ok(),
        None => {
            crate::report::component_line(line);
            true
        }
    }
}

/// The Timer session's clock in microseconds; `None` (and a LOG line)
/// without one.
fn now_us() -> Option<u64> {
    let now = with_state(|state| state.timer.as_mut().map(|(timer, _)| timer.now_us().ok()));
    let now = now.flatten().flatten();
    if now.is_none() {
        log_line("std: no Timer session for the clock (route \"Timer\" to this component)");
    }
    now
}

/// Arms the Timer session's one timeout `us` from now (once the program
/// has spawned a thread, as the `threads` module's `trigger` keeps an
/// earlier one).
fn trigger(timer: &mut TimerClient, armed_until: &mut Option<u64>, us: u64) -> Result<(), ()> {
    match threads::hooks() {
        Some(hooks) => (hooks.trigger)(timer, armed_until, us),
        None => timer.trigger(us, false).map_err(drop),
    }
}

/// The std component's Timer session's client stub.
type TimerClient = ferrode_ipc::Client<dyn Timer, kernel::Transport>;

/// Waits `us` microseconds on a Timer session timeout. The session's
/// signal also wakes the component for its NIC session's frames (see
/// `net`), so a wake-up before the time is slept on.
fn sleep_us(us: u64) -> bool {
    let mut due = None;
    // Ok(false): no Timer session to sleep on.
    let slept = wait_until(|state| {
        let StdState { timer, armed_until, .. } = state;
        let Some((timer, signal)) = timer.as_mut() else { return Step::Done(Ok(false)) };
        let Ok(now) = timer.now_us() else { return Step::Done(Ok(false)) };
        let due = *due.get_or_insert(now.saturating_add(us));
        if now >= due {
            return Step::Done(Ok(true));
        }
        match trigger(timer, armed_until, due - now) {
            Ok(()) => Step::Wait(*signal),
            Err(()) => Step::Done(Ok(false)),
        }
    });
    match slept {
        Some(Ok(true)) => true,
        Some(Err(_)) => false,
        Some(Ok(false)) | None => {
            log_line("std: no Timer session to sleep on (route \"Timer\" to this component)");
            false
        }
    }
}

// ----- the sys_* functions ------------------------------------------------

/// The least alignment of the heap's blocks: as C's `malloc` aligns for
/// any type, 8 bytes on both boards' ABIs. std reads the directory
/// entries `getdents64` writes in place, as 64-bit fields, from a buffer
/// it allocated as bytes.
const HEAP_ALIGN: usize = 8;

/// The heap block of `size` bytes at `align` (at least [`HEAP_ALIGN`]),
/// the same for allocating and freeing it.
fn heap_layout(size: usize, align: usize) -> Option<Layout> {
    Layout::from_size_align(size.max(1), align.max(HEAP_ALIGN)).ok()
}

/// `malloc`: `size` bytes at `align`; null if they do not fit.
#[unsafe(no_mangle)]
pub extern "C" fn sys_malloc(size: usize, align: usize) -> *mut u8 {
    let Some(layout) = heap_layout(size, align) else { return null_mut() };
    with_state(|state| state.heap.allocate_first_fit(layout).ok())
        .flatten()
        .map_or(null_mut(), NonNull::as_ptr)
}

/// `malloc`, another name std may use.
#[unsafe(no_mangle)]
pub extern "C" fn sys_alloc(size: usize, align: usize) -> *mut u8 {
    sys_malloc(size, align)
}

/// `malloc` of zeroed bytes.
#[unsafe(no_mangle)]
pub extern "C" fn sys_alloc_zeroed(size: usize, align: usize) -> *mut u8 {
    let memory = sys_malloc(size, align);
    if !memory.is_null() {
        // SAFETY: `memory` is `size` bytes just allocated.
        unsafe { memory.write_bytes(0, size) };
    }
    memory
}

/// `free` of what `sys_malloc` gave with this `size` and `align`.
///
/// # Safety
///
/// `ptr` came from `sys_malloc` (or `sys_realloc`) with this size and
/// alignment and is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_free(ptr: *mut u8, size: usize, align: usize) {
    let (Some(ptr), Some(layout)) = (NonNull::new(ptr), heap_layout(size, align)) else {
        return;
    };
    // SAFETY: the caller's contract.
    with_state(|state| unsafe { state.heap.deallocate(ptr, layout) });
}

/// `free`, another name std may use.
///
/// # Safety
///
/// As for [`sys_free`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_dealloc(ptr: *mut u8, size: usize, align: usize) {
    // SAFETY: forwarded contract.
    unsafe { sys_free(ptr, size, align) }
}

/// `realloc`: `new_size` bytes holding the first of `ptr`'s; null (and
/// `ptr` untouched) if they do not fit.
///
/// # Safety
///
/// As for [`sys_free`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_realloc(
    ptr: *mut u8,
    size: usize,
    align: usize,
    new_size: usize,
) -> *mut u8 {
    let new = sys_malloc(new_size, align);
    if !new.is_null() && !ptr.is_null() {
        // SAFETY: both are live allocations of at least the bytes copied,
        // and distinct (`new` is fresh); then the caller's contract.
        unsafe {
            core::ptr::copy_nonoverlapping(ptr, new, size.min(new_size));
            sys_free(ptr, size, align);
        }
    }
    new
}

/// `write` to stdout (1) or stderr (2): whole lines go to the LOG.
///
/// # Safety
///
/// `buf` is `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_write(fd: c_int, buf: *const u8, len: usize) -> isize {
    if buf.is_null() && len > 0 {
        return -(errno::EFAULT as isize);
    }
    #[cfg(feature = "hermit-net")]
    if net::is_socket(fd) {
        // SAFETY: the caller's contract.
        return unsafe { net::sys_sendto(fd, buf.cast(), len, 0, core::ptr::null(), 0) };
    }
    let data = if len == 0 {
        &[][..]
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts(buf, len) }
    };
    let written = with_state(|state| {
        #[cfg(feature = "hermit-sd")]
        if let Ok(index) = usize::try_from(fd - FIRST_FILE) {
            return sd::write(state, index, data).map(drop);
        }
        let StdState { log, stdout, stderr, .. } = state;
        let buffer = match fd {
            abi::STDOUT_FILENO => stdout,
            abi::STDERR_FILENO => stderr,
            _ => return Err(errno::EBADF),
        };
        let mut sent = true;
        buffer.write(data, |line| sent &= send_line(log, line));
        if sent { Ok(()) } else { Err(errno::EIO) }
    });
    match written {
        Some(Ok(())) => len as isize,
        Some(Err(error)) => -(error as isize),
        // Not the std thread (a panic on a kernel path): the console.
        None if fd == abi::STDOUT_FILENO || fd == abi::STDERR_FILENO => {
            crate::report::component_bytes(data);
            len as isize
        }
        None => -(errno::EBADF as isize),
    }
}

/// `writev`: each buffer in turn, as [`sys_write`], until one is not
/// taken whole (a socket's buffer filled): writing the next then would put
/// its bytes in the stream before the rest of this one.
///
/// # Safety
///
/// `iov` is `iovcnt` entries, each naming readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_writev(fd: c_int, iov: *const abi::iovec, iovcnt: usize) -> isize {
    if iov.is_null() && iovcnt > 0 {
        return -(errno::EFAULT as isize);
    }
    let mut total = 0isize;
    for index in 0..iovcnt {
        // SAFETY: the caller's contract.
        let entry = unsafe { &*iov.add(index) };
        // SAFETY: the caller's contract.
        let written = unsafe { sys_write(fd, entry.iov_base.cast(), entry.iov_len) };
        if written < 0 {
            return if total > 0 { total } else { written };
        }
        total += written;
        if (written as usize) < entry.iov_len {
            break;
        }
    }
    total
}

/// What the open file `fd` names, if it is one.
fn open_file(files: &mut [Option<OpenFile>; FILES], fd: c_int) -> Result<&mut OpenFile, i32> {
    let index = usize::try_from(fd - FIRST_FILE).map_err(|_| errno::EBADF)?;
    files.get_mut(index).and_then(Option::as_mut).ok_or(errno::EBADF)
}

/// The open module `fd` names, if it is one (`EISDIR` for `/rom`).
fn file(files: &mut [Option<OpenFile>; FILES], fd: c_int) -> Result<&mut RomFile, i32> {
    match open_file(files, fd)? {
        OpenFile::Module(file) => Ok(file),
        OpenFile::Directory => Err(errno::EISDIR),
        #[cfg(feature = "hermit-sd")]
        OpenFile::Sd(_) => Err(errno::EBADF),
    }
}

/// Whether the component has a ROM module to list: `/rom` exists only
/// then (std's `read_dir` takes an empty answer for an error).
fn has_modules(state: &StdState) -> bool {
    state.env.labels(ferrode_component::ROM).any(listed)
}

/// The ROM module `path` names (`/rom/NAME`: the component's ROM route
/// labelled NAME) and its size.
///
/// # Safety
///
/// `path` is a C string.
unsafe fn open_module(
    state: &StdState,
    path: *const c_char,
) -> Result<(ferrode_ipc::Client<dyn Rom, kernel::Transport>, u64), i32> {
    if path.is_null() {
        return Err(errno::EFAULT);
    }
    // SAFETY: the caller's contract.
    let path = unsafe { core::ffi::CStr::from_ptr(path) };
    let name = rom_module(path.to_bytes()).ok_or(errno::ENOENT)?;
    let session = state.env.session::<dyn Rom>(ferrode_component::ROM, name);
    let mut rom = kernel::client(session.map_err(|_| errno::ENOENT)?);
    let size = rom.size().map_err(|_| errno::EIO)?;
    Ok((rom, u64::from(size)))
}

/// `open`: a ROM module, read-only (`/rom/NAME`, see [`rom_module`]), or
/// `/rom` itself, the directory [`sys_getdents64`] lists; `ENOENT` for any
/// other path, a module without a route and `/rom` without modules,
/// `EROFS` for a write or a create, `ENOTDIR` for a module opened as a
/// directory.
///
/// # Safety
///
/// `name` is a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_open(name: *const c_char, flags: i32, _mode: i32) -> c_int {
    #[cfg(feature = "hermit-sd")]
    // SAFETY: the caller's contract.
    if let Some(path) = unsafe { c_path(name) }.and_then(ferrode_std_abi::sd_path) {
        let opened = with_state(|state| -> Result<c_int, i32> {
            let free = state.files.iter().position(Option::is_none).ok_or(errno::EMFILE)?;
            state.files[free] = Some(sd::open(state, path, flags)?);
            Ok(FIRST_FILE + free as c_int)
        });
        return opened.map_or(-errno::ENOSYS, |opened| opened.unwrap_or_else(|error| -error));
    }
    let writes = abi::O_WRONLY | abi::O_RDWR | abi::O_CREAT | abi::O_TRUNC | abi::O_APPEND;
    if flags & writes != 0 {
        return -errno::EROFS;
    }
    let opened = with_state(|state| -> Result<c_int, i32> {
        let free = state.files.iter().position(Option::is_none).ok_or(errno::EMFILE)?;
        // SAFETY: the caller's contract.
        let opened = if unsafe { names_rom_dir(name) } {
            OpenFile::Directory
        } else {
            // SAFETY: the caller's contract.
            let (rom, size) = unsafe { open_module(state, name) }?;
            if flags & abi::O_DIRECTORY != 0 {
                return Err(errno::ENOTDIR);
            }
            OpenFile::Module(RomFile { rom, size, at: 0 })
        };
        if matches!(opened, OpenFile::Directory) && !has_modules(state) {
            return Err(errno::ENOENT);
        }
        state.files[free] = Some(opened);
        Ok(FIRST_FILE + free as c_int)
    });
    match opened {
        Some(Ok(fd)) => fd,
        Some(Err(error)) => -error,
        None => -errno::ENOSYS,
    }
}

/// C string `path`'s bytes (`None` for a null pointer).
///
/// # Safety
///
/// `path` is null or a C string that outlives the answer.
#[cfg(feature = "hermit-sd")]
unsafe fn c_path<'a>(path: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: the caller's contract.
    (!path.is_null()).then(|| unsafe { core::ffi::CStr::from_ptr(path) }.to_bytes())
}

/// Whether C string `path` names `/rom` itself.
///
/// # Safety
///
/// `path` is null or a C string.
unsafe fn names_rom_dir(path: *const c_char) -> bool {
    // SAFETY: the caller's contract.
    !path.is_null() && is_rom_dir(unsafe { core::ffi::CStr::from_ptr(path) }.to_bytes())
}

/// `getdents64`: the entries of `/rom`, one per ROM module of the
/// component's routes ([`write_dirents`]), all in one call as std's
/// `read_dir` reads them; `EINVAL` if they do not fit in `count` bytes,
/// `ENOTDIR` for a module's descriptor.
///
/// # Safety
///
/// `dirp` is `count` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_getdents64(fd: c_int, dirp: *mut abi::dirent64, count: usize) -> i64 {
    if dirp.is_null() {
        return -i64::from(errno::EFAULT);
    }
    let written = with_state(|state| -> Result<usize, i32> {
        // SAFETY: the caller's contract.
        let out = unsafe { core::slice::from_raw_parts_mut(dirp.cast::<u8>(), count) };
        match open_file(&mut state.files, fd)? {
            OpenFile::Directory => {}
            #[cfg(feature = "hermit-sd")]
            OpenFile::Sd(open) => return sd::getdents(&mut state.sd, open, out),
            OpenFile::Module(_) => return Err(errno::ENOTDIR),
        }
        write_dirents(state.env.labels(ferrode_component::ROM), out).ok_or(errno::EINVAL)
    });
    match written {
        Some(Ok(bytes)) => bytes as i64,
        Some(Err(error)) => -i64::from(error),
        None => -i64::from(errno::EBADF),
    }
}

/// Reads stdin from the Terminal session into `out`, as [`TtyInput`]
/// hands it over, or says to wait for the session's input signal;
/// `EBADF` (std's end of file) without a Terminal route.
fn read_stdin(state: &mut StdState, out: &mut [u8]) -> Step<usize> {
    let Some((terminal, input)) = state.terminal.as_mut() else {
        return Step::Done(Err(errno::EBADF));
    };
    if state.stdin.is_empty() {
        let Ok(received) = terminal.read() else { return Step::Done(Err(errno::EIO)) };
        state.stdin.receive(received.as_slice());
    }
    state.stdin.read(out).map_or(Step::Wait(*input), |count| Step::Done(Ok(count)))
}

/// `read`: an open file's next bytes (none at its end), or stdin's from
/// the component's Terminal session (waiting for input; see [`TtyInput`]).
/// Without a Terminal route stdin is at its end (`EBADF`, which std reads
/// as end of file).
///
/// # Safety
///
/// `buf` is `len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_read(fd: c_int, buf: *mut u8, len: usize) -> isize {
    if buf.is_null() && len > 0 {
        return -(errno::EFAULT as isize);
    }
    #[cfg(feature = "hermit-net")]
    if net::is_socket(fd) {
        // SAFETY: the caller's contract.
        return unsafe { net::sys_recvfrom(fd, buf, len, 0, null_mut(), null_mut()) };
    }
    if fd == abi::STDIN_FILENO {
        let out = if len == 0 {
            &mut [][..]
        } else {
            // SAFETY: the caller's contract.
            unsafe { core::slice::from_raw_parts_mut(buf, len) }
        };
        // Nothing received: sleep until the driver says input arrived.
        return match wait_until(|state| read_stdin(state, out)) {
            Some(Ok(count)) => count as isize,
            Some(Err(error)) => -(error as isize),
            None => -(errno::EBADF as isize),
        };
    }
    let read = with_state(|state| -> Result<usize, i32> {
        #[cfg(feature = "hermit-sd")]
        if let OpenFile::Sd(open) = open_file(&mut state.files, fd)? {
            let out = if len == 0 {
                &mut [][..]
            } else {
                // SAFETY: the caller's contract.
                unsafe { core::slice::from_raw_parts_mut(buf, len) }
            };
            return sd::read(&mut state.sd, open, out);
        }
        let file = file(&mut state.files, fd)?;
        let Ok(at) = u32::try_from(file.at) else { return Ok(0) };
        if len == 0 || file.at >= file.size {
            return Ok(0);
        }
        let chunk = file.rom.read(at).map_err(|_| errno::EIO)?;
        let count = chunk.len().min(len);
        // SAFETY: the caller's contract; `count` fits both.
        unsafe { core::ptr::copy_nonoverlapping(chunk.as_slice().as_ptr(), buf, count) };
        file.at += count as u64;
        Ok(count)
    });
    match read {
        Some(Ok(count)) => count as isize,
        Some(Err(error)) => -(error as isize),
        None => -(errno::EBADF as isize),
    }
}

/// `close`: an open file; std's own descriptors stay.
#[unsafe(no_mangle)]
pub extern "C" fn sys_close(fd: c_int) -> c_int {
    if (0..FIRST_FILE).contains(&fd) {
        return 0;
    }
    #[cfg(feature = "hermit-net")]
    if net::is_socket(fd) {
        return net::close(fd);
    }
    let closed = with_state(|state| -> Result<(), i32> {
        open_file(&mut state.files, fd)?;
        match state.files[(fd - FIRST_FILE) as usize].take() {
            #[cfg(feature = "hermit-sd")]
            Some(OpenFile::Sd(open)) => sd::close(&mut state.sd, open),
            _ => Ok(()),
        }
    });
    match closed {
        Some(Ok(())) => 0,
        Some(Err(error)) => -error,
        None => -errno::EBADF,
    }
}

/// `lseek` in an open file ([`seek`]).
#[unsafe(no_mangle)]
pub extern "C" fn sys_lseek(fd: c_int, offset: isize, whence: c_int) -> isize {
    let moved = with_state(|state| {
        #[cfg(feature = "hermit-sd")]
        if let OpenFile::Sd(open) = open_file(&mut state.files, fd)? {
            let at = sd::lseek(&mut state.sd, open, offset as i64, whence)?;
            return isize::try_from(at).map_err(|_| errno::EOVERFLOW);
        }
        let file = file(&mut state.files, fd)?;
        let at = seek(file.at, file.size, offset as i64, whence).ok_or(errno::EINVAL)?;
        file.at = at;
        isize::try_from(at).map_err(|_| errno::EOVERFLOW)
    });
    match moved {
        Some(Ok(at)) => at,
        Some(Err(error)) => -(error as isize),
        None => -(errno::EBADF as isize),
    }
}

/// What `stat` says of `/rom`: a directory, readable by all.
fn directory_stat() -> abi::stat {
    /// `S_IFDIR`, readable and searchable by all.
    const READ_ONLY_DIRECTORY: u32 = 0o040_555;
    abi::stat { st_nlink: 2, st_mode: READ_ONLY_DIRECTORY, ..Default::default() }
}

/// What `stat` says of a ROM module of `size` bytes: a read-only file.
fn module_stat(size: u64) -> abi::stat {
    /// `S_IFREG`, readable by all.
    const READ_ONLY_FILE: u32 = 0o100_444;
    abi::stat {
        st_nlink: 1,
        st_mode: READ_ONLY_FILE,
        st_size: size as i64,
        st_blksize: ferrode_component::ROM_CHUNK as i64,
        st_blocks: size.div_ceil(512) as i64,
        ..Default::default()
    }
}

/// `fstat` of an open file.
///
/// # Safety
///
/// `stat` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_fstat(fd: c_int, stat: *mut abi::stat) -> c_int {
    if stat.is_null() {
        return -errno::EFAULT;
    }
    let found = with_state(|state| match open_file(&mut state.files, fd)? {
        OpenFile::Module(file) => Ok(module_stat(file.size)),
        OpenFile::Directory => Ok(directory_stat()),
        #[cfg(feature = "hermit-sd")]
        OpenFile::Sd(open) => sd::fstat(&mut state.sd, open),
    });
    // SAFETY: the caller's contract.
    unsafe { answer_stat(stat, found, errno::EBADF) }
}

/// Writes the answer `found` holds; the error it holds, or `outside`
/// for a caller that is not the std thread, otherwise.
///
/// # Safety
///
/// `stat` is writable.
unsafe fn answer_stat(
    stat: *mut abi::stat,
    found: Option<Result<abi::stat, i32>>,
    outside: i32,
) -> c_int {
    match found {
        Some(Ok(answer)) => {
            // SAFETY: the caller's contract.
            unsafe { stat.write(answer) };
            0
        }
        Some(Err(error)) => -error,
        None => -outside,
    }
}

/// `stat` of a path: a ROM module's, or `/rom`'s, as [`sys_open`] finds
/// them.
///
/// # Safety
///
/// `name` is a C string, `stat` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_stat(name: *const c_char, stat: *mut abi::stat) -> c_int {
    if stat.is_null() {
        return -errno::EFAULT;
    }
    let found = with_state(|state| {
        #[cfg(feature = "hermit-sd")]
        // SAFETY: the caller's contract.
        if let Some(path) = unsafe { c_path(name) }.and_then(ferrode_std_abi::sd_path) {
            return sd::stat(state, path);
        }
        // SAFETY: the caller's contract.
        if unsafe { names_rom_dir(name) } {
            return if has_modules(state) { Ok(directory_stat()) } else { Err(errno::ENOENT) };
        }
        // SAFETY: the caller's contract.
        unsafe { open_module(state, name) }.map(|(_, size)| module_stat(size))
    });
    // SAFETY: the caller's contract.
    unsafe { answer_stat(stat, found, errno::ENOSYS) }
}

/// `lstat`: as [`sys_stat`] (there are no links).
///
/// # Safety
///
/// As for [`sys_stat`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_lstat(name: *const c_char, stat: *mut abi::stat) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { sys_stat(name, stat) }
}

/// How far the date is ahead of the monotonic clock, in µs: asked of the
/// component's Rtc session at the first `CLOCK_REALTIME` reading (its
/// seconds against the clock's microseconds then); 0 without a session or
/// on a board without a real-time clock (the date counts from boot).
fn realtime_offset_us() -> u64 {
    with_state(realtime_offset).unwrap_or(0)
}

/// [`realtime_offset_us`], for a caller that holds the state.
fn realtime_offset(state: &mut StdState) -> u64 {
    if let Some(offset) = state.realtime_offset_us {
        return offset;
    }
    let seconds = state
        .env
        .session::<dyn Rtc>(ferrode_component::RTC, "")
        .ok()
        .and_then(|rtc| kernel::client(rtc).seconds().ok());
    let now = state.timer.as_mut().and_then(|(timer, _)| timer.now_us().ok());
    let offset = match (seconds, now) {
        (Some(seconds), Some(now)) => seconds.saturating_mul(1_000_000).saturating_sub(now),
        _ => 0,
    };
    state.realtime_offset_us = Some(offset);
    offset
}

/// The date in seconds since 1970, as `CLOCK_REALTIME` reads it (from
/// boot without an Rtc route; 0 without a Timer route), for a caller that
/// holds the state.
#[cfg(feature = "hermit-sd")]
fn date_seconds(state: &mut StdState) -> u64 {
    let offset = realtime_offset(state);
    let now = state.timer.as_mut().and_then(|(timer, _)| timer.now_us().ok()).unwrap_or(0);
    now.saturating_add(offset) / 1_000_000
}

/// `clock_gettime`: `CLOCK_MONOTONIC` is the Timer session's clock,
/// `CLOCK_REALTIME` the same plus the date the component's Rtc session
/// (route `"Rtc"`) gave at its first reading.
///
/// # Safety
///
/// `tp` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_clock_gettime(clock: abi::clockid_t, tp: *mut abi::timespec) -> c_int {
    if tp.is_null() || (clock != abi::CLOCK_MONOTONIC && clock != abi::CLOCK_REALTIME) {
        return -errno::EINVAL;
    }
    let offset = if clock == abi::CLOCK_REALTIME { realtime_offset_us() } else { 0 };
    match now_us() {
        Some(now) => {
            // SAFETY: the caller's contract.
            unsafe { tp.write(timespec_of_us(now.saturating_add(offset))) };
            0
        }
        None => -errno::EINVAL,
    }
}

/// `usleep`: a Timer session timeout.
#[unsafe(no_mangle)]
pub extern "C" fn sys_usleep(usecs: u64) {
    sleep_us(usecs);
}

/// `nanosleep`.
///
/// # Safety
///
/// `req` is readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_nanosleep(req: *const abi::timespec) -> c_int {
    // SAFETY: the caller's contract.
    let Some(us) = (!req.is_null()).then(|| us_of_timespec(unsafe { &*req })).flatten() else {
        return -errno::EINVAL;
    };
    if sleep_us(us) { 0 } else { -errno::EINVAL }
}

/// `futex_wait`: waits while the word at `address` is `expected`, until
/// a `futex_wake` of it (0) or the timeout (`ETIMEDOUT`); at once `EAGAIN`
/// if it is not. With other std threads see the `threads` module; alone,
/// no one else changes the word or wakes the waiter: a timeout is slept
/// out, and a wait without one could never end, so it ends the component
/// instead.
///
/// # Safety
///
/// `address` is readable; `timeout` is null or readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_futex_wait(
    address: *mut u32,
    expected: u32,
    timeout: *const abi::timespec,
    flags: u32,
) -> c_int {
    if address.is_null() || flags & !abi::FUTEX_RELATIVE_TIMEOUT != 0 {
        return -errno::EINVAL;
    }
    // SAFETY: the caller's contract; the word is an atomic std shares.
    let word = unsafe { core::sync::atomic::AtomicU32::from_ptr(address) };
    if word.load(Ordering::Acquire) != expected {
        return -errno::EAGAIN;
    }
    // The timeout, in µs from now.
    let us = if timeout.is_null() {
        None
    } else {
        // SAFETY: the caller's contract.
        let Some(mut us) = us_of_timespec(unsafe { &*timeout }) else { return -errno::EINVAL };
        if flags & abi::FUTEX_RELATIVE_TIMEOUT == 0 {
            let Some(now) = now_us() else { return -errno::EINVAL };
            us = us.saturating_sub(now);
        }
        Some(us)
    };
    if let Some(answer) = threads::hooks().and_then(|hooks| (hooks.futex_wait)(address, us)) {
        return answer;
    }
    let Some(us) = us else {
        log_line("std: a futex wait no other thread can end (a deadlock): the component ends");
        end_std(exit_code::PANIC);
    };
    if us > 0 && !sleep_us(us) {
        return -errno::EINVAL;
    }
    -errno::ETIMEDOUT
}

/// `futex_wake`: makes up to `count` threads waiting for the word at
/// `address` ready (all for a negative count); returns how many (none
/// before the program spawns a thread).
#[unsafe(no_mangle)]
pub extern "C" fn sys_futex_wake(address: *mut u32, count: i32) -> c_int {
    if address.is_null() {
        return -errno::EINVAL;
    }
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    threads::hooks().map_or(0, |hooks| (hooks.futex_wake)(address as usize, count))
}

/// `read_entropy`: [`SeedGenerator`] bytes (no entropy source; see the
/// module's docs).
///
/// # Safety
///
/// `buf` is `len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_read_entropy(buf: *mut u8, len: usize, _flags: u32) -> isize {
    if buf.is_null() && len > 0 {
        return -(errno::EFAULT as isize);
    }
    let len = len.min(isize::MAX as usize);
    let bytes = if len == 0 {
        &mut [][..]
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts_mut(buf, len) }
    };
    let filled = with_state(|state| {
        let StdState { seed, timer, .. } = state;
        let generator = seed.get_or_insert_with(|| {
            let now = timer.as_mut().and_then(|(timer, _)| timer.now_us().ok());
            SeedGenerator::new(now.unwrap_or(0) ^ u64::from(arch::instructions_retired()))
        });
        generator.fill(bytes);
    });
    if filled.is_some() { len as isize } else { -(errno::ENOSYS as isize) }
}

/// `exit`: flushes stdout and stderr and exits the component through its
/// parent with `status`.
#[unsafe(no_mangle)]
pub extern "C" fn sys_exit(status: i32) -> ! {
    end_std(status as u32)
}

/// `abort` (std's panic, after its message): the component exits with
/// [`exit_code::PANIC`].
#[unsafe(no_mangle)]
pub extern "C" fn sys_abort() -> ! {
    end_std(exit_code::PANIC)
}

/// `yield`: the turn goes to the std threads ready before this one;
/// without any, the kernel lets the other threads of its priority run.
#[unsafe(no_mangle)]
pub extern "C" fn sys_yield() {
    if !threads::hooks().is_some_and(|hooks| (hooks.yield_now)()) {
        kernel().yield_now();
    }
}

/// One thread runs std code at a time (see the `threads` module).
#[unsafe(no_mangle)]
pub extern "C" fn sys_available_parallelism() -> usize {
    1
}

/// Defines `sys_*` functions std may link that Ferrode does not offer:
/// each answers `-ENOSYS` (std's `Unsupported`).
#[cfg(not(feature = "hermit-net"))]
macro_rules! unsupported {
    ($($name:ident($($arg:ty),*) -> $ret:ty;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: not offered (`ENOSYS`).")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $name($(_: $arg),*) -> $ret {
            -(errno::ENOSYS as $ret)
        }
    )*};
}

/// What a path names in the component's read-only file system.
enum Found {
    /// `/rom`, with modules in it.
    Directory,
    /// A ROM module the component has a route to.
    Module,
    /// Nothing.
    Nothing,
}

/// What C string `path` names, for the calls that would change it; `None`
/// for a caller that is not the std thread.
///
/// # Safety
///
/// `path` is null or a C string.
unsafe fn find_path(path: *const c_char) -> Option<Found> {
    with_state(|state| {
        // SAFETY: the caller's contract.
        if unsafe { names_rom_dir(path) } {
            return if has_modules(state) { Found::Directory } else { Found::Nothing };
        }
        // SAFETY: the caller's contract.
        match unsafe { open_module(state, path) } {
            Ok(_) => Found::Module,
            Err(_) => Found::Nothing,
        }
    })
}

/// A call's answer: 0, its error negated, or `ENOSYS` for a caller that
/// is not the std thread.
#[cfg(feature = "hermit-sd")]
fn done(outcome: Option<Result<(), i32>>) -> i32 {
    match outcome {
        Some(Ok(())) => 0,
        Some(Err(error)) => -error,
        None => -errno::ENOSYS,
    }
}

/// `unlink`: the file system is read-only (`EROFS` for a module, `EISDIR`
/// for `/rom`, `ENOENT` for anything else).
///
/// # Safety
///
/// `name` is null or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_unlink(name: *const c_char) -> i32 {
    #[cfg(feature = "hermit-sd")]
    // SAFETY: the caller's contract.
    if let Some(path) = unsafe { c_path(name) }.and_then(ferrode_std_abi::sd_path) {
        return done(with_state(|state| sd::unlink(state, path)));
    }
    // SAFETY: the caller's contract.
    match unsafe { find_path(name) } {
        Some(Found::Module) => -errno::EROFS,
        Some(Found::Directory) => -errno::EISDIR,
        Some(Found::Nothing) => -errno::ENOENT,
        None => -errno::ENOSYS,
    }
}

/// `rmdir`: the file system is read-only (`EROFS` for `/rom`, `ENOTDIR`
/// for a module, `ENOENT` for anything else).
///
/// # Safety
///
/// `name` is null or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_rmdir(name: *const c_char) -> i32 {
    #[cfg(feature = "hermit-sd")]
    // SAFETY: the caller's contract.
    if let Some(path) = unsafe { c_path(name) }.and_then(ferrode_std_abi::sd_path) {
        return done(with_state(|state| sd::rmdir(state, path)));
    }
    // SAFETY: the caller's contract.
    match unsafe { find_path(name) } {
        Some(Found::Directory) => -errno::EROFS,
        Some(Found::Module) => -errno::ENOTDIR,
        Some(Found::Nothing) => -errno::ENOENT,
        None => -errno::ENOSYS,
    }
}

/// `mkdir`: the file system is read-only (`EEXIST` for a path that names
/// something, `EROFS` for any other).
///
/// # Safety
///
/// `name` is null or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_mkdir(name: *const i8, _mode: u32) -> i32 {
    #[cfg(feature = "hermit-sd")]
    // SAFETY: the caller's contract.
    if let Some(path) = unsafe { c_path(name.cast()) }.and_then(ferrode_std_abi::sd_path) {
        return done(with_state(|state| sd::mkdir(state, path)));
    }
    // SAFETY: the caller's contract (`c_char` is `u8` or `i8`, as the
    // target has it: the same bytes).
    match unsafe { find_path(name.cast()) } {
        Some(Found::Nothing) => -errno::EROFS,
        Some(Found::Directory | Found::Module) => -errno::EEXIST,
        None => -errno::ENOSYS,
    }
}

/// `dup`: a second descriptor for a socket (`TcpStream::try_clone`,
/// `UdpSocket::try_clone`); other descriptors (std's streams, ROM files)
/// have none (`ENOSYS`).
#[unsafe(no_mangle)]
pub extern "C" fn sys_dup(fd: c_int) -> c_int {
    #[cfg(feature = "hermit-net")]
    if net::is_socket(fd) {
        return net::dup(fd);
    }
    let _ = fd;
    -errno::ENOSYS
}

// Without `hermit-net`, std's socket calls link and fail at run time.
#[cfg(not(feature = "hermit-net"))]
unsupported! {
    sys_socket(i32, i32, i32) -> i32;
    sys_bind(i32, *const abi::sockaddr, abi::socklen_t) -> i32;
    sys_listen(i32, i32) -> i32;
    sys_accept(i32, *mut abi::sockaddr, *mut abi::socklen_t) -> i32;
    sys_connect(i32, *const abi::sockaddr, abi::socklen_t) -> i32;
    sys_send(i32, *const core::ffi::c_void, usize, i32) -> isize;
    sys_sendto(i32, *const core::ffi::c_void, usize, i32, *const abi::sockaddr, abi::socklen_t) -> isize;
    sys_recv(i32, *mut u8, usize, i32) -> isize;
    sys_recvfrom(i32, *mut u8, usize, i32, *mut abi::sockaddr, *mut abi::socklen_t) -> isize;
    sys_setsockopt(i32, i32, i32, *const core::ffi::c_void, abi::socklen_t) -> i32;
    sys_getsockopt(i32, i32, i32, *mut core::ffi::c_void, *mut abi::socklen_t) -> i32;
    sys_getsockname(i32, *mut abi::sockaddr, *mut abi::socklen_t) -> i32;
    sys_getpeername(i32, *mut abi::sockaddr, *mut abi::socklen_t) -> i32;
    sys_shutdown(i32, i32) -> i32;
    sys_ioctl(i32, i32, *mut core::ffi::c_void) -> i32;
    sys_poll(*mut abi::pollfd, abi::nfds_t, i32) -> i32;
}

/// The error the std component's last failed socket call answered (0:
/// none yet), for std's `io::Error::last_os_error`. Ferrode's `sys_*`
/// calls return their error negated, as Hermit's do: std reads `errno`
/// only where a call answered `-1` (`poll` in `connect_timeout`).
static LAST_ERROR: core::sync::atomic::AtomicI32 = core::sync::atomic::AtomicI32::new(0);

/// Notes `error` for [`sys_get_errno`].
#[cfg_attr(not(feature = "hermit-net"), allow(dead_code, reason = "only sockets note theirs"))]
fn note_error(error: i32) {
    LAST_ERROR.store(error, Ordering::Relaxed);
}

/// `errno`: the error the last failed socket call of the std component
/// returned (0: none yet), which std reads for `io::Error::last_os_error`.
#[unsafe(no_mangle)]
pub extern "C" fn sys_get_errno() -> i32 {
    LAST_ERROR.load(Ordering::Relaxed)
}

/// `errno`, another name std may use.
#[unsafe(no_mangle)]
pub extern "C" fn sys_errno() -> i32 {
    sys_get_errno()
}

/// `getaddrinfo` without `hermit-net`: no network to look names up on
/// (`EAI_NONAME`: std says the lookup failed).
#[cfg(not(feature = "hermit-net"))]
#[unsafe(no_mangle)]
pub extern "C" fn sys_getaddrinfo(
    _nodename: *const c_char,
    _servname: *const c_char,
    _hints: *const abi::addrinfo,
    _res: *mut *mut abi::addrinfo,
) -> i32 {
    abi::EAI_NONAME
}

/// `readv`: one [`sys_read`] into the first buffer that has room (a read
/// may always return less than asked, and a second read could wait where
/// the first did not: a socket's or stdin's).
///
/// # Safety
///
/// `iov` is `iovcnt` entries, each naming writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_readv(fd: c_int, iov: *const abi::iovec, iovcnt: usize) -> isize {
    if iov.is_null() && iovcnt > 0 {
        return -(errno::EFAULT as isize);
    }
    for index in 0..iovcnt {
        // SAFETY: the caller's contract.
        let entry = unsafe { &*iov.add(index) };
        if entry.iov_len > 0 {
            // SAFETY: the caller's contract.
            return unsafe { sys_read(fd, entry.iov_base.cast(), entry.iov_len) };
        }
    }
    0
}

/// Frees what `sys_getaddrinfo` never gives without `hermit-net`.
#[cfg(not(feature = "hermit-net"))]
#[unsafe(no_mangle)]
pub extern "C" fn sys_freeaddrinfo(_ai: *mut abi::addrinfo) {}
