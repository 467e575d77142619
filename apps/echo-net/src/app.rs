// echo-net's components, routes and echo client, included by the main of
// echo-net and of echo-net-axi (the same app over the MicroBlaze V's AXI
// Ethernet): each main declares the crate's attributes and the modules
// `control` and `wakeup`.
use ferrode_board::component::{Env, LogClient};
use ferrode_board::platform::devices;
use ferrode_board::{exit_code, kernel};
use ferrode_hal::{FrameCounters, Monotonic};
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
        // The NIC server's deepest use is under 1 KiB (bringing the
        // controller up; the EthernetLite's frame ring is a static of the
        // platform, never on this stack); 8 KiB leaves room for debug builds.
        nic: { priority: 4, stack: 8192, provides: "Nic", root: ferrode_board::component::nic_root },
    }
    clients {
        echo_net: { priority: 3, stack: 32768, main: echo_net },
    }
    routes {
        nic: "IO_MEM" "ethernet" => io_mem,
        nic: "IRQ" "ethernet" => irq,
        echo_net: "LOG" "" => log,
        echo_net: "Timer" "" => timer,
        echo_net: "Nic" "" => nic,
    }
}

/// Socket slots: the echo service's TCP sockets, its UDP socket, control.
const SOCKET_COUNT: usize = echo::TCP_SOCKETS + 2;

// Every static here is zero bytes (`.bss`): the socket slots and packet
// metadata, whose empty forms are not, are written at start-up.
static SOCKETS: ConstStaticCell<Zeroed<[SocketStorage<'static>; SOCKET_COUNT]>> =
    ConstStaticCell::new(Zeroed::new());
static ECHO_BUFFERS: ConstStaticCell<EchoBuffers> = ConstStaticCell::new(EchoBuffers::new());
static CONTROL_BUFFERS: ConstStaticCell<ControlBuffers> =
    ConstStaticCell::new(ControlBuffers::new());

fn print_counters(log: &mut LogClient, counters: &FrameCounters) {
    let _ = log.write_fmt(format_args!(
        "dropped frames: runt={} oversized={} errors={} overruns={} (received {}, sent {}, send errors {})",
        counters.rx_runt,
        counters.rx_oversized,
        counters.rx_errors,
        counters.rx_overruns,
        counters.rx_frames,
        counters.tx_frames,
        counters.tx_errors
    ));
}

fn echo_net(env: Env) -> u32 {
    let Ok(mut log) = env.log() else { return exit_code::FAILURE };
    let Some((mut wakeup, mut nic, phy)) = wakeup::open(&env, &mut log) else {
        return exit_code::FAILURE;
    };
    let (Some(sockets), Some(echo_buffers), Some(control_buffers)) =
        (SOCKETS.try_take(), ECHO_BUFFERS.try_take(), CONTROL_BUFFERS.try_take())
    else {
        unreachable!("main runs once")
    };
    let mut instructions = InstructionCounter::start();
    let [a, b, c, d, e, f] = nic.mac_address();
    let sockets = sockets.init([const { SocketStorage::EMPTY }; SOCKET_COUNT]);
    let mut stack = Stack::new(phy, devices::clock(), Ipv4Config::QEMU_USER, sockets);
    let mut echo = Echo::new(stack.sockets(), echo_buffers, echo::PORT);
    let mut control = Control::new(stack.sockets(), control_buffers, control::PORT);
    let link = if nic.link_up() { "up" } else { "down" };
    let _ = log.write_fmt(format_args!(
        "MAC {a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}, link {link}"
    ));
    if let Some(address) = stack.ipv4_address() {
        let _ = log.write_fmt(format_args!(
            "listening on {address}:{} (tcp, udp), control on udp port {}",
            echo::PORT,
            control::PORT
        ));
    }
    let mut printed = nic.counters();
    print_counters(&mut log, &printed);
    let mut printed_at = stack.now();
    let mut idle = Idle::default();
    let idle_at_start = kernel::idle_instructions();
    loop {
        instructions.read();
        stack.poll();
        let moved = echo.serve(stack.sockets());
        let now = stack.now();
        let counters = nic.counters();
        if counters.rx_dropped() != printed.rx_dropped()
            && now - printed_at >= Duration::from_secs(1)
        {
            print_counters(&mut log, &counters);
            (printed, printed_at) = (counters, now);
        }
        match control.take_command(stack.sockets()) {
            Some(Command::Stats) => {
                print_counters(&mut log, &counters);
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
                print_counters(&mut log, &counters);
                let _ = log.write_fmt(format_args!(
                    "quit ({} bytes echoed over tcp)",
                    echo.stats().tcp_bytes
                ));
                return exit_code::SUCCESS;
            }
            None => {}
        }
        if moved > 0 || !wakeup.arm(stack.clock().now_ns(), stack.poll_delay()) {
            continue;
        }
        let asleep_at = stack.clock().now_ns();
        // The NIC driver's work meanwhile is the echo's; only what the idle
        // thread and the interrupts it slept through retired is idle.
        if let Err(error) = wakeup.wait() {
            // ServerDead: the NIC driver or the Timer ended (a panic).
            let _ = log.write_fmt(format_args!("the wait for frames failed: {error}"));
            return exit_code::FAILURE;
        }
        idle.instructions = kernel::idle_instructions() - idle_at_start;
        idle.ns += stack.clock().now_ns() - asleep_at;
        idle.sleeps += 1;
    }
}
