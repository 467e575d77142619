//! echo-net without components, the baseline of `cargo xtask bench net`:
//! the same echo calling the board's Ethernet driver directly, as echo-net
//! did before the NIC driver became a component. TCP and UDP echo (RFC 862) on port 7 with
//! smoltcp, the same source on every board that implements the platform
//! contract (`devices::{ethernet, clock, alarm}`, `irq::*`).
//!
//! The main loop polls the stack, echoes, and then sleeps in WFI until the
//! NIC's receive interrupt or the alarm (set to smoltcp's next timer)
//! wakes it; the time spent asleep is summed for the benchmark, and so are
//! the instructions of wake-ups that found nothing to do. A control socket on UDP port 8 answers `stats` with one line
//! of `key=value` figures (instructions retired, virtual time and the part
//! of it spent asleep, bytes, the NIC's counters) for tests and `cargo xtask bench net`, and `quit` ends
//! the image with status 0. Whenever the driver's drop counters change
//! (at most once a second) they are printed on the console.
#![no_std]
#![no_main]

// The control socket and figures are echo-net's own, so both images
// report alike.
#[path = "../../echo-net/src/control.rs"]
mod control;

use ferrode_board::platform::{devices, irq};
use ferrode_board::{exit_code, println};
use ferrode_hal::{Alarm, EthernetDevice, FrameCounters, Monotonic};
use ferrode_net::echo::{self, Echo, EchoBuffers};
use ferrode_net::smoltcp::iface::SocketStorage;
use ferrode_net::smoltcp::time::Duration;
use ferrode_net::{ConstStaticCell, Ipv4Config, Phy, Stack, Zeroed};

use control::{Command, Control, ControlBuffers, Idle};
use ferrode_board::InstructionCounter;

ferrode_board::entry!(main);

/// Socket slots: the echo service's TCP sockets, its UDP socket, control.
const SOCKET_COUNT: usize = echo::TCP_SOCKETS + 2;

// Every static here is zero bytes (`.bss`): the socket slots and packet
// metadata, whose empty forms are not, are written at start-up.
static SOCKETS: ConstStaticCell<Zeroed<[SocketStorage<'static>; SOCKET_COUNT]>> =
    ConstStaticCell::new(Zeroed::new());
static ECHO_BUFFERS: ConstStaticCell<EchoBuffers> = ConstStaticCell::new(EchoBuffers::new());
static CONTROL_BUFFERS: ConstStaticCell<ControlBuffers> =
    ConstStaticCell::new(ControlBuffers::new());

fn print_counters(counters: &FrameCounters) {
    println!(
        "echo-net: dropped frames: runt={} oversized={} errors={} overruns={} (received {}, sent {}, send errors {})",
        counters.rx_runt,
        counters.rx_oversized,
        counters.rx_errors,
        counters.rx_overruns,
        counters.rx_frames,
        counters.tx_frames,
        counters.tx_errors
    );
}

fn main() -> u32 {
    // SAFETY: echo-net-direct runs without
    // components, so it is the one driver of the controller (and the alarm).
    let ethernet = match unsafe { devices::ethernet() } {
        Ok(ethernet) => ethernet,
        Err(error) => {
            println!("echo-net: no Ethernet device: {error}");
            return exit_code::FAILURE;
        }
    };
    let (Some(sockets), Some(echo_buffers), Some(control_buffers)) =
        (SOCKETS.try_take(), ECHO_BUFFERS.try_take(), CONTROL_BUFFERS.try_take())
    else {
        unreachable!("main runs once")
    };
    let mut instructions = InstructionCounter::start();
    let [a, b, c, d, e, f] = ethernet.mac_address();
    let sockets = sockets.init([const { SocketStorage::EMPTY }; SOCKET_COUNT]);
    let mut stack =
        Stack::new(Phy::new(ethernet), devices::clock(), Ipv4Config::QEMU_USER, sockets);
    let mut echo = Echo::new(stack.sockets(), echo_buffers, echo::PORT);
    let mut control = Control::new(stack.sockets(), control_buffers, control::PORT);
    let link = if stack.device().device().link_up() { "up" } else { "down" };
    println!("echo-net: MAC {a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}, link {link}");
    if let Some(address) = stack.ipv4_address() {
        println!(
            "echo-net: listening on {address}:{} (tcp, udp), control on udp port {}",
            echo::PORT,
            control::PORT
        );
    }
    // SAFETY: as for the controller.
    let mut alarm = unsafe { devices::alarm() };
    let mut printed = stack.device().device().counters();
    print_counters(&printed);
    let mut printed_at = stack.now();
    let mut idle = Idle::default();
    // Instructions retired when the last sleep ended.
    let mut woke_at = None;
    loop {
        let seen = irq::event_count();
        instructions.read();
        let changed = stack.poll();
        let moved = echo.serve(stack.sockets());
        let woke = woke_at.take();
        let now = stack.now();
        let counters = stack.device().device().counters();
        if counters.rx_dropped() != printed.rx_dropped()
            && now - printed_at >= Duration::from_secs(1)
        {
            print_counters(&counters);
            (printed, printed_at) = (counters, now);
        }
        match control.take_command(stack.sockets()) {
            Some(Command::Stats) => {
                print_counters(&counters);
                let virtual_ns = stack.clock().now_ns();
                control.reply_stats(
                    stack.sockets(),
                    instructions.read(),
                    virtual_ns,
                    &idle,
                    &echo.stats(),
                    &counters,
                );
                continue;
            }
            Some(Command::Quit) => {
                print_counters(&counters);
                println!("echo-net: quit ({} bytes echoed over tcp)", echo.stats().tcp_bytes);
                return exit_code::SUCCESS;
            }
            None => {}
        }
        if moved > 0 {
            continue;
        }
        match stack.poll_delay() {
            Some(Duration::ZERO) => continue,
            Some(delay) => {
                let hz = stack.clock().tick_hz();
                alarm.arm_after(ferrode_hal::ns_to_ticks(delay.total_micros() * 1_000, hz));
            }
            None => alarm.disarm(),
        }
        let retired_before = instructions.read();
        if let Some(woke) = woke
            && !changed
        {
            // A wake-up that found nothing to do (on the MicroBlaze V mostly
            // its 100 Hz tick, which keeps the clock's software extension):
            // its poll is idle work, as the interrupts that echo-net's idle
            // thread sleeps through are.
            idle.instructions += retired_before - woke;
        }
        let asleep_at = stack.clock().now_ns();
        irq::wait_for_event(seen);
        let awake = instructions.read();
        idle.instructions += awake - retired_before;
        woke_at = Some(awake);
        idle.ns += stack.clock().now_ns() - asleep_at;
        idle.sleeps += 1;
    }
}
