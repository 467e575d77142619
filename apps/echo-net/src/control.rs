//! The control socket: `stats` and `quit` commands over UDP, and the
//! figures it reports. Shared by echo-net and its direct-driver baseline,
//! echo-net-direct (which includes this file), so both report alike.

use core::fmt::Write as _;

use ferrode_hal::FrameCounters;
use ferrode_net::Zeroed;
use ferrode_net::echo::EchoStats;
use ferrode_net::smoltcp::iface::{SocketHandle, SocketSet};
use ferrode_net::smoltcp::socket::udp;
use ferrode_net::smoltcp::storage::PacketMetadata;

/// The control port.
pub const PORT: u16 = 8;
const PACKETS: usize = 4;
const BUFFER_LEN: usize = 1024;

/// The control socket's buffers.
pub struct ControlBuffers {
    receive_metadata: Zeroed<[PacketMetadata<udp::UdpMetadata>; PACKETS]>,
    receive: [u8; BUFFER_LEN],
    transmit_metadata: Zeroed<[PacketMetadata<udp::UdpMetadata>; PACKETS]>,
    transmit: [u8; BUFFER_LEN],
}

impl ControlBuffers {
    /// Zeroed buffers (in `.bss`; the metadata is written by [`Control::new`]).
    pub const fn new() -> Self {
        Self {
            receive_metadata: Zeroed::new(),
            receive: [0; BUFFER_LEN],
            transmit_metadata: Zeroed::new(),
            transmit: [0; BUFFER_LEN],
        }
    }
}

/// Time the main loop spent asleep (waiting for an interrupt), on the
/// board's monotonic clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct Idle {
    /// Nanoseconds between going to sleep and waking up, summed.
    pub ns: u64,
    /// Times the loop went to sleep.
    pub sleeps: u64,
    /// Instructions the image retired idle since the loop started (echo-net:
    /// `kernel::idle_instructions`, the idle thread and the interrupts it
    /// slept through; echo-net-direct: its loop's sleeps and the wake-ups
    /// that found nothing to do), mostly ticks. This part grows with the
    /// host's latency, not with the echo's work.
    pub instructions: u64,
}

/// A request on the control port.
pub enum Command {
    /// Reply with the figures.
    Stats,
    /// End the image.
    Quit,
}

/// The control socket and who asked last.
pub struct Control {
    socket: SocketHandle,
    requester: Option<udp::UdpMetadata>,
}

impl Control {
    /// Binds the control socket to `port`.
    pub fn new<'a>(
        sockets: &mut SocketSet<'a>,
        buffers: &'a mut ControlBuffers,
        port: u16,
    ) -> Self {
        let ControlBuffers { receive_metadata, receive, transmit_metadata, transmit } = buffers;
        let receive_metadata = receive_metadata.init([PacketMetadata::EMPTY; PACKETS]);
        let transmit_metadata = transmit_metadata.init([PacketMetadata::EMPTY; PACKETS]);
        let mut socket = udp::Socket::new(
            udp::PacketBuffer::new(&mut receive_metadata[..], &mut receive[..]),
            udp::PacketBuffer::new(&mut transmit_metadata[..], &mut transmit[..]),
        );
        // A fresh socket and a non-zero port: binding cannot fail.
        let _ = socket.bind(port);
        Self { socket: sockets.add(socket), requester: None }
    }

    /// The next command received, if any (unknown ones are ignored).
    pub fn take_command(&mut self, sockets: &mut SocketSet<'_>) -> Option<Command> {
        let socket = sockets.get_mut::<udp::Socket<'_>>(self.socket);
        let mut request = [0u8; 16];
        while let Ok((length, metadata)) = socket.recv_slice(&mut request) {
            self.requester = Some(metadata);
            match request[..length].trim_ascii() {
                b"stats" => return Some(Command::Stats),
                b"quit" => return Some(Command::Quit),
                _ => {}
            }
        }
        None
    }

    /// Answers the last requester with one line of `key=value` figures.
    pub fn reply_stats(
        &mut self,
        sockets: &mut SocketSet<'_>,
        instructions: u64,
        virtual_ns: u64,
        idle: &Idle,
        echo: &EchoStats,
        counters: &FrameCounters,
    ) {
        let Some(requester) = self.requester else { return };
        let mut line = heapless::String::<512>::new();
        // The line fits: sixteen numbers of at most 20 digits and their keys.
        let _ = write!(
            line,
            "instructions={instructions} virtual_ns={virtual_ns} idle_ns={} sleeps={} idle_instructions={} tcp_bytes={} tcp_connections={} \
             udp_datagrams={} udp_dropped={} rx_frames={} tx_frames={} runt={} oversized={} errors={} overruns={} tx_errors={}",
            idle.ns,
            idle.sleeps,
            idle.instructions,
            echo.tcp_bytes,
            echo.tcp_connections,
            echo.udp_datagrams,
            echo.udp_dropped,
            counters.rx_frames,
            counters.tx_frames,
            counters.rx_runt,
            counters.rx_oversized,
            counters.rx_errors,
            counters.rx_overruns,
            counters.tx_errors
        );
        // A full transmit buffer drops the reply; the client asks again.
        let _ =
            sockets.get_mut::<udp::Socket<'_>>(self.socket).send_slice(line.as_bytes(), requester);
    }
}
