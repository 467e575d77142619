//! The echo service (RFC 862) on TCP and UDP: what arrives goes back.
//!
//! TCP: [`TCP_SOCKETS`] sockets listen on the same port, so that many
//! clients are served at once; a socket whose connection ended listens
//! again. A peer that vanishes (crashed, unplugged, or gone without a
//! reset that arrived) cannot hold a socket: a connection that hears
//! nothing from its peer for [`TCP_TIMEOUT`] is aborted (a reset is sent)
//! and its socket listens again, and an idle connection asks its peer for
//! a sign of life every [`TCP_KEEP_ALIVE`], so that a live peer that just
//! has nothing to say is not cut off. UDP: one socket answers every
//! datagram to its sender; when the transmit buffer is full a datagram is
//! dropped, as UDP allows.

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::{tcp, udp};
use smoltcp::storage::PacketMetadata;
use smoltcp::time::Duration;

use crate::Zeroed;

/// The echo port.
pub const PORT: u16 = 7;
/// TCP connections served at once.
pub const TCP_SOCKETS: usize = 6;
/// Receive and transmit buffer of each TCP socket (the receive window).
pub const TCP_BUFFER_LEN: usize = 8 * 1024;
/// How long a TCP connection may hear nothing at all from its peer before
/// it is aborted and its socket listens again: the bound on how long a
/// vanished peer holds one of the [`TCP_SOCKETS`].
///
/// Long enough for a live peer behind a lossy link: smoltcp retransmits
/// unacknowledged data after its retransmission timeout, which doubles
/// after every third retransmission in a row (0.7 s before it has measured
/// the round trip: then at 0.7, 1.4, 2.1, 3.1, 4.1, 5.1, 6.7 s, ...), so a
/// peer at a round trip of up to a few hundred milliseconds gets 14 or
/// more retransmissions within the timeout to answer one of, and an idle
/// peer two [`TCP_KEEP_ALIVE`] probes. Short enough that peers vanishing
/// one after another cannot keep the service's few sockets for long: a
/// socket listens again at most this long after its peer's last segment
/// (smoltcp counts from the last segment received in every connected
/// state, with or without data in flight; a listening socket has no peer
/// and never times out).
pub const TCP_TIMEOUT: Duration = Duration::from_secs(30);
/// After how long without a segment either way an established connection
/// sends its peer a keep-alive (a segment that repeats an old byte, which
/// a live peer acknowledges), and again after as long while the peer stays
/// quiet: without it, an idle client that is still there would be cut off
/// after [`TCP_TIMEOUT`]. A third of the timeout, so that a peer has two
/// probes to answer; on an idle connection it costs a 55-byte frame and
/// its answer every 10 s.
pub const TCP_KEEP_ALIVE: Duration = Duration::from_secs(10);
/// Datagrams the UDP socket queues in each direction.
pub const UDP_PACKETS: usize = 32;
/// Payload bytes the UDP socket queues in each direction.
pub const UDP_BUFFER_LEN: usize = 32 * 1024;
/// Largest UDP payload in one Ethernet frame (1500 - 20 - 8).
const MAX_DATAGRAM: usize = 1472;

/// The socket buffers of the echo service, built in a `static` (about
/// 160 KiB), all zero bytes so that the static lands in `.bss` (the UDP
/// packet metadata, whose empty form is not zero, is written by
/// [`Echo::new`]).
///
/// Every byte buffer starts on a word, as do the TCP and UDP payloads in
/// the frames Ferrode's devices lend smoltcp
/// ([`FRAME_OFFSET`](ferrode_hal::FRAME_OFFSET)): the copies between them,
/// four per echoed byte, then move whole words.
pub struct EchoBuffers {
    tcp_receive: WordAligned<[[u8; TCP_BUFFER_LEN]; TCP_SOCKETS]>,
    tcp_transmit: WordAligned<[[u8; TCP_BUFFER_LEN]; TCP_SOCKETS]>,
    udp_receive_metadata: Zeroed<[PacketMetadata<udp::UdpMetadata>; UDP_PACKETS]>,
    udp_receive: WordAligned<[u8; UDP_BUFFER_LEN]>,
    udp_transmit_metadata: Zeroed<[PacketMetadata<udp::UdpMetadata>; UDP_PACKETS]>,
    udp_transmit: WordAligned<[u8; UDP_BUFFER_LEN]>,
}

/// A `T` on a word boundary.
#[repr(C, align(4))]
struct WordAligned<T>(T);

impl EchoBuffers {
    /// Zeroed buffers (a `const fn`, so they can live in `.bss`).
    pub const fn new() -> Self {
        Self {
            tcp_receive: WordAligned([[0; TCP_BUFFER_LEN]; TCP_SOCKETS]),
            tcp_transmit: WordAligned([[0; TCP_BUFFER_LEN]; TCP_SOCKETS]),
            udp_receive_metadata: Zeroed::new(),
            udp_receive: WordAligned([0; UDP_BUFFER_LEN]),
            udp_transmit_metadata: Zeroed::new(),
            udp_transmit: WordAligned([0; UDP_BUFFER_LEN]),
        }
    }
}

impl Default for EchoBuffers {
    fn default() -> Self {
        Self::new()
    }
}

/// What the echo service has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EchoStats {
    /// Bytes echoed over TCP.
    pub tcp_bytes: u64,
    /// TCP connections accepted (counted when they end).
    pub tcp_connections: u32,
    /// Datagrams echoed.
    pub udp_datagrams: u32,
    /// Datagrams dropped because the transmit buffer was full.
    pub udp_dropped: u32,
}

/// The echo service: its sockets and a bounce buffer (word-aligned, as
/// the socket buffers are).
pub struct Echo {
    port: u16,
    tcp: [SocketHandle; TCP_SOCKETS],
    was_open: [bool; TCP_SOCKETS],
    udp: SocketHandle,
    scratch: WordAligned<[u8; MAX_DATAGRAM]>,
    stats: EchoStats,
}

impl Echo {
    /// Adds the echo sockets, backed by `buffers`, to `sockets` and starts
    /// listening on `port`. `sockets` needs room for `TCP_SOCKETS + 1`.
    pub fn new<'a>(sockets: &mut SocketSet<'a>, buffers: &'a mut EchoBuffers, port: u16) -> Self {
        let EchoBuffers {
            tcp_receive,
            tcp_transmit,
            udp_receive_metadata,
            udp_receive,
            udp_transmit_metadata,
            udp_transmit,
        } = buffers;
        let mut receive_buffers = tcp_receive.0.iter_mut();
        let mut transmit_buffers = tcp_transmit.0.iter_mut();
        let tcp = core::array::from_fn(|_| {
            let (Some(receive), Some(transmit)) = (receive_buffers.next(), transmit_buffers.next())
            else {
                unreachable!("one buffer pair per socket")
            };
            let mut socket = tcp::Socket::new(
                tcp::SocketBuffer::new(&mut receive[..]),
                tcp::SocketBuffer::new(&mut transmit[..]),
            );
            // Both outlive every connection: `listen` keeps them.
            socket.set_timeout(Some(TCP_TIMEOUT));
            socket.set_keep_alive(Some(TCP_KEEP_ALIVE));
            sockets.add(socket)
        });
        let udp_receive_metadata = udp_receive_metadata.init([PacketMetadata::EMPTY; UDP_PACKETS]);
        let udp_transmit_metadata =
            udp_transmit_metadata.init([PacketMetadata::EMPTY; UDP_PACKETS]);
        let udp = udp::Socket::new(
            udp::PacketBuffer::new(&mut udp_receive_metadata[..], &mut udp_receive.0[..]),
            udp::PacketBuffer::new(&mut udp_transmit_metadata[..], &mut udp_transmit.0[..]),
        );
        let udp = sockets.add(udp);
        let mut echo = Self {
            port,
            tcp,
            was_open: [false; TCP_SOCKETS],
            udp,
            scratch: WordAligned([0; MAX_DATAGRAM]),
            stats: EchoStats::default(),
        };
        echo.serve(sockets);
        echo
    }

    /// Echoes whatever the sockets received and re-listens on sockets whose
    /// connection ended (closed, reset, or aborted after [`TCP_TIMEOUT`]).
    /// Call after every [`crate::Stack::poll`] (whose
    /// [`poll_delay`](crate::Stack::poll_delay) includes the timeouts and
    /// keep-alives due); returns the number of bytes and datagrams moved (0:
    /// nothing to do).
    pub fn serve(&mut self, sockets: &mut SocketSet<'_>) -> usize {
        let mut moved = 0;
        for (index, &handle) in self.tcp.iter().enumerate() {
            let socket = sockets.get_mut::<tcp::Socket<'_>>(handle);
            moved += echo_tcp(socket, &mut self.scratch.0, &mut self.stats);
            if !socket.is_open() {
                if self.was_open[index] {
                    self.stats.tcp_connections = self.stats.tcp_connections.saturating_add(1);
                }
                // A closed socket accepts the next connection. Listening
                // only fails on an open socket or port 0.
                let _ = socket.listen(self.port);
            }
            self.was_open[index] = socket.is_active();
        }
        let socket = sockets.get_mut::<udp::Socket<'_>>(self.udp);
        if !socket.is_open() {
            // Binding fails only for port 0 or an already bound socket.
            let _ = socket.bind(self.port);
        }
        while let Ok((length, metadata)) = socket.recv_slice(&mut self.scratch.0) {
            if socket.send_slice(&self.scratch.0[..length], metadata).is_ok() {
                self.stats.udp_datagrams = self.stats.udp_datagrams.saturating_add(1);
            } else {
                self.stats.udp_dropped = self.stats.udp_dropped.saturating_add(1);
            }
            moved += 1;
        }
        moved
    }

    /// The counts so far.
    pub const fn stats(&self) -> EchoStats {
        self.stats
    }
}

/// Moves received bytes into the transmit buffer of one TCP socket and
/// closes our side once the peer has closed and everything went back.
fn echo_tcp(socket: &mut tcp::Socket<'_>, scratch: &mut [u8], stats: &mut EchoStats) -> usize {
    let mut moved = 0;
    while socket.can_recv() && socket.can_send() {
        let room = socket.send_capacity() - socket.send_queue();
        let chunk = room.min(scratch.len());
        let Ok(received) = socket.recv_slice(&mut scratch[..chunk]) else { break };
        if received == 0 {
            break;
        }
        // There is room for `received` bytes: it was measured above.
        let _ = socket.send_slice(&scratch[..received]);
        moved += received;
    }
    stats.tcp_bytes += moved as u64;
    if socket.state() == tcp::State::CloseWait && !socket.can_recv() && socket.send_queue() == 0 {
        socket.close();
    }
    moved
}
