//! echo-net with the in-image GDB monitor: `gdb-multiarch` attaches over
//! TCP port 8181 to the running image while it keeps echoing.
//!
//! The composition is echo-net's (core's LOG, Timer and IO_MEM, the NIC
//! driver component, the echo client) plus `ticker`, a component with
//! something to look at: a thread that counts timer ticks into a static
//! and calls [`gdb_ticker_step`] for each. The parent hook grants the
//! echo client a component capability to `ticker`, and nothing else:
//! that is all the monitor (which runs in the echo client, beside the
//! echo, on its own smoltcp socket) may list, stop, inspect and write.
//! So GDB stopping every thread it sees never stops the NIC driver or the
//! echo: clients keep being served while GDB looks at a stopped ticker.
//! The control port (UDP 8) answers `stats` (`ticks=` is the ticker's
//! count) and `quit` as echo-net's does. A debugger that sets the count to
//! one below [`GDB_TICKER_FAULT`] makes the ticker fault: it stops where
//! it faulted, for the debugger to look at, and ends once let go, or goes
//! on if the debugger moved its pc past the fault. One below
//! [`GDB_TICKER_OVERFLOW`] makes it recurse into the guard page below its
//! stack: it stops there too, and ends once let go.
#![no_std]
#![no_main]

#[path = "../../echo-net/src/control.rs"]
mod control;
mod gdb;
#[path = "../../echo-net/src/wakeup.rs"]
mod wakeup;

use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_board::component::gdb::grant_debug;
use ferrode_board::component::{Env, Event, ParentEnv};
use ferrode_board::platform::devices;
use ferrode_board::{exit_code, kernel};
use ferrode_component::Timer;
use ferrode_hal::Monotonic;
use ferrode_ipc::Capability;
use ferrode_net::echo::{self, Echo, EchoBuffers};
use ferrode_net::smoltcp::iface::SocketStorage;
use ferrode_net::smoltcp::time::Duration;
use ferrode_net::{ConstStaticCell, Ipv4Config, Stack, Zeroed};

use control::{Command, Control, ControlBuffers, Idle};
use ferrode_board::InstructionCounter;

ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        timer: { priority: 5, stack: 4096, provides: "Timer", root: ferrode_board::component::timer_root },
        io_mem: { priority: 5, stack: 4096, provides: "IO_MEM", root: ferrode_board::component::io_mem_root },
        irq: { priority: 5, stack: 4096, provides: "IRQ", root: ferrode_board::component::irq_root },
        nic: { priority: 4, stack: 8192, provides: "Nic", root: ferrode_board::component::nic_root },
    }
    clients {
        ticker: { priority: 2, stack: 4096, main: ticker },
        echo_net: { priority: 3, stack: 32768, main: echo_net },
    }
    routes {
        nic: "IO_MEM" "ethernet" => io_mem,
        nic: "IRQ" "ethernet" => irq,
        ticker: "Timer" "" => timer,
        echo_net: "LOG" "" => log,
        echo_net: "Timer" "" => timer,
        echo_net: "Nic" "" => nic,
    }
    parent: parent,
}

/// The composer's part: the echo client (where the monitor runs) may
/// debug the ticker; once the echo client exits (`quit`), the ticker,
/// which never does, is destroyed and the image ends.
fn parent(env: &mut ParentEnv<'_>, event: Event) -> u32 {
    match event {
        Event::Starting("echo_net") if grant_debug(env, "ticker", "echo_net").is_err() => {
            exit_code::FAILURE
        }
        Event::Exited("echo_net") if env.destroy("ticker").is_err() => exit_code::FAILURE,
        _ => 0,
    }
}

/// Timer ticks the ticker counted (GDB reads and writes it).
#[unsafe(no_mangle)]
pub static GDB_TICKER_COUNT: AtomicU32 = AtomicU32::new(0);

/// One tick of the ticker: a function to put a breakpoint on.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn gdb_ticker_step(count: u32) -> u32 {
    GDB_TICKER_COUNT.store(count, Ordering::Relaxed);
    count
}

/// The count at which the ticker faults on purpose, in
/// [`gdb_ticker_fault`]: a debugger that writes the one before it into
/// [`GDB_TICKER_COUNT`] sees the ticker stop where it faulted (the QEMU
/// case does).
pub const GDB_TICKER_FAULT: u32 = 0xfa17_0000;

/// Loads from an address the hardware refuses: the ticker's fault, at the
/// count [`GDB_TICKER_FAULT`]. With the monitor, the ticker stops here for
/// the debugger (SIGSEGV). Let go, it ends; moved past the load (its pc
/// written), it returns what the debugger left in the load's register.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn gdb_ticker_fault() -> u32 {
    // SAFETY: the board's address whose load faults (misaligned on
    // PBX-A9, undecoded on MicroBlaze V): nothing is read, the load only
    // raises the fault this app exists to show a debugger.
    unsafe {
        ferrode_board::arch::load_word(ferrode_board::platform::memory_map::FAULTING_LOAD_ADDRESS)
    }
}

/// The count at which the ticker runs off its stack on purpose, in
/// [`gdb_ticker_overflow`]: with the monitor it stops where it ran into
/// the guard page below its stack (SIGSEGV), its frames readable; let go,
/// it ends.
pub const GDB_TICKER_OVERFLOW: u32 = 0x57ac_0000;

/// Recurses, each frame holding a 64-byte array, until the ticker's stack runs
/// into its guard page (`depth` never gets near `u32::MAX` on a 4 KiB
/// stack): the ticker's overflow, at the count [`GDB_TICKER_OVERFLOW`].
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn gdb_ticker_overflow(depth: u32) -> u32 {
    if depth == u32::MAX {
        return 0;
    }
    // Kept on the stack: the frames the debugger reads show their depth.
    let frame = core::hint::black_box([depth; 16]);
    gdb_ticker_overflow(depth + 1).wrapping_add(frame[depth as usize % 16])
}

/// The ticker's count, for the `stats` command: code only the echo
/// client runs (the QEMU case puts a breakpoint here to see a thread the
/// monitor may not debug report it as a fault).
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn gdb_echo_ticks() -> u32 {
    GDB_TICKER_COUNT.load(Ordering::Relaxed)
}

/// The ticker: counts a 10 ms periodic timeout.
fn ticker(env: Env) -> u32 {
    let k = kernel::kernel();
    let Ok((_, wake)) = k.create_signal() else { return exit_code::FAILURE };
    let Ok(timer) = env.session::<dyn Timer>(ferrode_component::TIMER, "") else {
        return exit_code::FAILURE;
    };
    let mut timer = kernel::client(timer);
    if timer.sigh(Capability::from_selector(wake)).is_err() || timer.trigger(10_000, true).is_err()
    {
        return exit_code::FAILURE;
    }
    loop {
        if k.wait_signal(wake).is_err() {
            return exit_code::FAILURE;
        }
        let next = GDB_TICKER_COUNT.load(Ordering::Relaxed).wrapping_add(1);
        if next == GDB_TICKER_FAULT {
            let _ = gdb_ticker_fault();
        }
        if next == GDB_TICKER_OVERFLOW {
            let _ = gdb_ticker_overflow(0);
        }
        gdb_ticker_step(next);
    }
}

/// Socket slots: the echo's TCP sockets, its UDP socket, control, GDB.
const SOCKET_COUNT: usize = echo::TCP_SOCKETS + 3;

static SOCKETS: ConstStaticCell<Zeroed<[SocketStorage<'static>; SOCKET_COUNT]>> =
    ConstStaticCell::new(Zeroed::new());
static ECHO_BUFFERS: ConstStaticCell<EchoBuffers> = ConstStaticCell::new(EchoBuffers::new());
static CONTROL_BUFFERS: ConstStaticCell<ControlBuffers> =
    ConstStaticCell::new(ControlBuffers::new());

/// While GDB waits for a stop, the loop looks for one this often.
const STOP_POLL: Duration = Duration::from_millis(20);

fn echo_net(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let Some((mut wakeup, _nic, phy)) = wakeup::open(&env, &mut log) else {
        return exit_code::FAILURE;
    };
    let (Some(sockets), Some(echo_buffers), Some(control_buffers)) =
        (SOCKETS.try_take(), ECHO_BUFFERS.try_take(), CONTROL_BUFFERS.try_take())
    else {
        unreachable!("main runs once")
    };
    let mut instructions = InstructionCounter::start();
    let sockets = sockets.init([const { SocketStorage::EMPTY }; SOCKET_COUNT]);
    let mut stack = Stack::new(phy, devices::clock(), Ipv4Config::QEMU_USER, sockets);
    let mut echo = Echo::new(stack.sockets(), echo_buffers, echo::PORT);
    let mut control = Control::new(stack.sockets(), control_buffers, control::PORT);
    let Some(mut gdb) = gdb::GdbServer::new(stack.sockets()) else {
        return exit_code::FAILURE;
    };
    if let Some(address) = stack.ipv4_address() {
        let _ = log.write_fmt(format_args!(
            "listening on {address}:{} (tcp, udp), control on udp port {}, gdb on tcp port {}",
            echo::PORT,
            control::PORT,
            gdb::PORT
        ));
    }
    loop {
        stack.poll();
        let moved = echo.serve(stack.sockets()) + usize::from(gdb.serve(stack.sockets()));
        match control.take_command(stack.sockets()) {
            Some(Command::Stats) => {
                let now = stack.clock().now_ns();
                control.reply_stats(
                    stack.sockets(),
                    instructions.read(),
                    now,
                    &Idle::default(),
                    &echo.stats(),
                    &Default::default(),
                );
                let _ = log.write_fmt(format_args!("ticks={}", gdb_echo_ticks()));
                continue;
            }
            Some(Command::Quit) => {
                let _ = log.write_fmt(format_args!(
                    "quit ({} bytes echoed over tcp)",
                    echo.stats().tcp_bytes
                ));
                // The component ends; the parent hook then ends the ticker.
                ferrode_board::exit(exit_code::SUCCESS);
            }
            None => {}
        }
        if moved > 0 {
            continue;
        }
        let delay = match (stack.poll_delay(), gdb.waiting_for_stop()) {
            (Some(delay), true) => Some(delay.min(STOP_POLL)),
            (None, true) => Some(STOP_POLL),
            (delay, false) => delay,
        };
        if !wakeup.arm(stack.clock().now_ns(), delay) {
            continue;
        }
        if let Err(error) = wakeup.wait() {
            // ServerDead: the NIC driver or the Timer ended (a panic).
            let _ = log.write_fmt(format_args!("the wait for frames failed: {error}"));
            return exit_code::FAILURE;
        }
    }
}
