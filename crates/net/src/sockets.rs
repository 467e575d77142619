//! BSD-style sockets over a [`Stack`]: what an application's `socket`,
//! `bind`, `listen`, `accept`, `connect`, `send`, `recv`, `shutdown` and
//! `close` need, for Rust std's `std::net` (the board crate's `hermit`
//! layer) or any other caller.
//!
//! Every call returns at once: where POSIX would block, it answers
//! [`SocketError::WouldBlock`] (a started `connect`:
//! [`SocketError::InProgress`]), and the caller polls the stack, waits for
//! its NIC or timer and calls again ([`Sockets::readiness`] says what is
//! ready). Nothing here allocates: the smoltcp sockets are made once by
//! the caller (in the stack's socket set, with their buffers) and handed
//! to [`Sockets::new`]; a descriptor borrows one while it lives, and a
//! closed TCP socket goes back to the pool once its connection has ended
//! (its FIN acknowledged, or at most [`LINGER`] after its peer's last
//! segment).
//!
//! A listening descriptor keeps up to its backlog (at most
//! [`MAX_BACKLOG`]) TCP sockets listening on its port, so that as many
//! peers can connect before the application accepts; each `accept` hands
//! over an established one and puts another idle socket to listen.

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::{tcp, udp};
use smoltcp::time::Duration;
use smoltcp::wire::{IpAddress, IpEndpoint};

use crate::{NetDevice, Stack};
use ferrode_hal::Monotonic;

/// Most connections a listening descriptor holds for `accept`.
pub const MAX_BACKLOG: usize = 4;
/// How long a closed TCP connection may go on without a segment from its
/// peer (its FIN unacknowledged, or the peer's never coming) before it is
/// aborted and its socket reused.
pub const LINGER: Duration = Duration::from_secs(60);
/// How long a connection a listener holds may go without a segment from
/// its peer before it is reset and its socket listens again: the
/// handshake's limit (a peer that sent a SYN and went away, or SYNs with
/// forged source addresses, would otherwise hold the listener's sockets
/// for good), and the limit for a connection nobody accepted yet. 75
/// seconds, BSD's connection-establishment timer.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(75);
/// Puts `socket` to listen on `port` for a listener's backlog, with the
/// handshake's limit ([`HANDSHAKE_TIMEOUT`]).
fn backlog_listen(socket: &mut tcp::Socket<'_>, port: u16) -> Result<(), ()> {
    socket.listen(port).map_err(drop)?;
    socket.set_timeout(Some(HANDSHAKE_TIMEOUT));
    Ok(())
}

/// The first port handed out when a socket needs one (IANA's dynamic
/// range, 49152 to 65535).
pub const FIRST_EPHEMERAL_PORT: u16 = 49152;

/// Why a socket call did not do what it was asked (each is the POSIX
/// error of the same name, see [`SocketError::errno_name`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketError {
    /// Nothing to do yet: poll the stack and try again (`EAGAIN`).
    WouldBlock,
    /// A connection was started; call `connect` again to learn how it
    /// went (`EINPROGRESS`).
    InProgress,
    /// No such descriptor (`EBADF`).
    BadDescriptor,
    /// Every descriptor is in use (`EMFILE`).
    NoDescriptors,
    /// Every socket of the kind is in use (`ENOBUFS`).
    NoBuffers,
    /// Not possible in the socket's state, or a bad argument (`EINVAL`).
    InvalidInput,
    /// Another socket has the port (`EADDRINUSE`).
    AddressInUse,
    /// The address is not the interface's (`EADDRNOTAVAIL`).
    AddressNotAvailable,
    /// The socket is not connected (`ENOTCONN`).
    NotConnected,
    /// The socket is connected already (`EISCONN`).
    AlreadyConnected,
    /// The peer refused the connection (`ECONNREFUSED`).
    ConnectionRefused,
    /// The peer reset the connection, or it timed out (`ECONNRESET`).
    ConnectionReset,
    /// The socket's sending half is closed (`EPIPE`).
    BrokenPipe,
    /// A datagram socket without a peer was given no address
    /// (`EDESTADDRREQ`).
    DestinationRequired,
    /// The datagram is larger than the socket can send (`EMSGSIZE`).
    MessageTooLong,
    /// No route to the address (`ENETUNREACH`).
    Unreachable,
    /// The socket's kind has no such operation (`EOPNOTSUPP`).
    NotSupported,
}

impl SocketError {
    /// The POSIX name of the error.
    pub const fn errno_name(self) -> &'static str {
        match self {
            Self::WouldBlock => "EAGAIN",
            Self::InProgress => "EINPROGRESS",
            Self::BadDescriptor => "EBADF",
            Self::NoDescriptors => "EMFILE",
            Self::NoBuffers => "ENOBUFS",
            Self::InvalidInput => "EINVAL",
            Self::AddressInUse => "EADDRINUSE",
            Self::AddressNotAvailable => "EADDRNOTAVAIL",
            Self::NotConnected => "ENOTCONN",
            Self::AlreadyConnected => "EISCONN",
            Self::ConnectionRefused => "ECONNREFUSED",
            Self::ConnectionReset => "ECONNRESET",
            Self::BrokenPipe => "EPIPE",
            Self::DestinationRequired => "EDESTADDRREQ",
            Self::MessageTooLong => "EMSGSIZE",
            Self::Unreachable => "ENETUNREACH",
            Self::NotSupported => "EOPNOTSUPP",
        }
    }
}

/// A socket's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// TCP (`SOCK_STREAM`).
    Stream,
    /// UDP (`SOCK_DGRAM`).
    Datagram,
}

/// A descriptor: an index into the table, below its `FDS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketId(u8);

impl SocketId {
    /// The descriptor for `index`, if the table has it.
    pub fn new<const FDS: usize>(index: usize) -> Option<Self> {
        (index < FDS).then_some(Self(index as u8))
    }

    /// Its index in the table.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// Descriptors over sockets, as a process's file descriptors are over its
/// open files: [`duplicate`](Self::duplicate) (POSIX `dup`) gives a
/// second descriptor for the same socket, which shares everything with
/// the first (its data, its connection, its options), and a socket is
/// closed only with its last descriptor ([`detach`](Self::detach) says
/// when). The [`Sockets`] table's own ids are these sockets.
#[derive(Clone, Copy, Debug)]
pub struct Descriptors<const N: usize> {
    names: [Option<SocketId>; N],
}

impl<const N: usize> Default for Descriptors<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Descriptors<N> {
    /// None in use.
    pub const fn new() -> Self {
        Self { names: [None; N] }
    }

    /// The socket descriptor `index` names.
    pub fn socket(&self, index: usize) -> Result<SocketId, SocketError> {
        self.names.get(index).copied().flatten().ok_or(SocketError::BadDescriptor)
    }

    /// Whether a descriptor is free: an [`attach`](Self::attach) now
    /// would have one.
    pub fn has_room(&self) -> bool {
        self.names.contains(&None)
    }

    /// The lowest free descriptor, now naming `id`.
    pub fn attach(&mut self, id: SocketId) -> Result<usize, SocketError> {
        let index = self.names.iter().position(Option::is_none);
        let index = index.ok_or(SocketError::NoDescriptors)?;
        self.names[index] = Some(id);
        Ok(index)
    }

    /// `dup`: the lowest free descriptor, now naming the socket `index`
    /// names.
    pub fn duplicate(&mut self, index: usize) -> Result<usize, SocketError> {
        let id = self.socket(index)?;
        self.attach(id)
    }

    /// Frees descriptor `index`; the socket it named if no other
    /// descriptor names it (the caller closes that socket).
    pub fn detach(&mut self, index: usize) -> Result<Option<SocketId>, SocketError> {
        let id = self.socket(index)?;
        self.names[index] = None;
        Ok((!self.names.contains(&Some(id))).then_some(id))
    }
}

/// What a descriptor is ready for ([`Sockets::readiness`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    /// A receive (or `accept`) would not block: data, a connection, an
    /// end of stream or an error is there.
    pub readable: bool,
    /// A send (or a pending `connect`) would not block.
    pub writable: bool,
    /// The connection is over (ended, reset or refused).
    pub hangup: bool,
}

/// Shutting down one half of a connection, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// No more receiving: reads see the end of the stream.
    Read,
    /// No more sending: the peer gets a FIN.
    Write,
    /// Both.
    Both,
}

/// Who uses one of the pool's smoltcp sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum User {
    Idle,
    /// Descriptor `n` has it.
    Fd(u8),
    /// It listens for listening descriptor `n`.
    Backlog(u8),
    /// Closed by its descriptor; its connection is still ending.
    Closing,
}

#[derive(Clone, Copy, Debug)]
struct Pooled {
    handle: SocketHandle,
    user: User,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Neither listening nor connected.
    Fresh,
    Connecting,
    Connected,
}

/// An open descriptor.
#[derive(Clone, Copy, Debug)]
enum Fd {
    Stream {
        pool: u8,
        /// Its local port (0: none yet).
        port: u16,
        phase: Phase,
        read_shut: bool,
    },
    Listener {
        port: u16,
        backlog: u8,
    },
    Datagram {
        pool: u8,
        peer: Option<IpEndpoint>,
    },
}

/// The socket table: `FDS` descriptors over `TCP` TCP and `UDP` UDP
/// smoltcp sockets.
pub struct Sockets<const FDS: usize, const TCP: usize, const UDP: usize> {
    fds: [Option<Fd>; FDS],
    tcp: [Pooled; TCP],
    udp: [Pooled; UDP],
    next_port: u16,
}

impl<const FDS: usize, const TCP: usize, const UDP: usize> Sockets<FDS, TCP, UDP> {
    /// A table over these sockets of the stack's set (closed and unbound,
    /// with their buffers); it uses them for good.
    pub fn new(tcp: [SocketHandle; TCP], udp: [SocketHandle; UDP]) -> Self {
        const { assert!(FDS <= u8::MAX as usize && TCP <= u8::MAX as usize && UDP <= 255) };
        Self {
            fds: [None; FDS],
            tcp: tcp.map(|handle| Pooled { handle, user: User::Idle }),
            udp: udp.map(|handle| Pooled { handle, user: User::Idle }),
            next_port: FIRST_EPHEMERAL_PORT,
        }
    }

    /// A new socket of `kind`.
    pub fn open(
        &mut self,
        sockets: &mut SocketSet<'_>,
        kind: Kind,
    ) -> Result<SocketId, SocketError> {
        let fd = self.fds.iter().position(Option::is_none);
        let fd = fd.ok_or(SocketError::NoDescriptors)?;
        match kind {
            Kind::Stream => {
                let pool = self.idle_tcp(sockets).ok_or(SocketError::NoBuffers)?;
                self.tcp[pool].user = User::Fd(fd as u8);
                self.fds[fd] = Some(Fd::Stream {
                    pool: pool as u8,
                    port: 0,
                    phase: Phase::Fresh,
                    read_shut: false,
                });
            }
            Kind::Datagram => {
                let pool = self.udp.iter().position(|p| p.user == User::Idle);
                let pool = pool.ok_or(SocketError::NoBuffers)?;
                self.udp[pool].user = User::Fd(fd as u8);
                self.fds[fd] = Some(Fd::Datagram { pool: pool as u8, peer: None });
            }
        }
        Ok(SocketId(fd as u8))
    }

    /// The kind of `id`.
    pub fn kind(&self, id: SocketId) -> Result<Kind, SocketError> {
        match self.fd(id)? {
            Fd::Datagram { .. } => Ok(Kind::Datagram),
            _ => Ok(Kind::Stream),
        }
    }

    /// Binds `id` to `port` (0: a free one of the dynamic range) on
    /// `address` (`None` or unspecified: the interface's), which must be
    /// the interface's own.
    pub fn bind<D: NetDevice, C: Monotonic>(
        &mut self,
        stack: &mut Stack<'_, D, C>,
        id: SocketId,
        address: Option<IpAddress>,
        port: u16,
    ) -> Result<(), SocketError> {
        if let Some(address) = address.filter(|a| !a.is_unspecified())
            && stack.ipv4_address().map(IpAddress::Ipv4) != Some(address)
        {
            return Err(SocketError::AddressNotAvailable);
        }
        let kind = self.kind(id)?;
        let port = match port {
            0 => self.free_port(stack.sockets(), kind)?,
            port if self.port_in_use(stack.sockets(), kind, port) => {
                return Err(SocketError::AddressInUse);
            }
            port => port,
        };
        match &mut self.fds[id.index()] {
            Some(Fd::Stream { port: bound @ 0, phase: Phase::Fresh, .. }) => {
                *bound = port;
                Ok(())
            }
            Some(Fd::Datagram { pool, .. }) => {
                let socket =
                    stack.sockets().get_mut::<udp::Socket<'_>>(self.udp[*pool as usize].handle);
                if socket.is_open() {
                    return Err(SocketError::InvalidInput);
                }
                socket.bind(port).map_err(|_| SocketError::InvalidInput)
            }
            _ => Err(SocketError::InvalidInput),
        }
    }

    /// Makes `id` (a TCP socket neither listening nor connected) listen
    /// on its port (a free one if it has none), keeping up to `backlog`
    /// connections (1 to [`MAX_BACKLOG`]) for [`Sockets::accept`].
    pub fn listen(
        &mut self,
        sockets: &mut SocketSet<'_>,
        id: SocketId,
        backlog: usize,
    ) -> Result<(), SocketError> {
        let backlog = backlog.clamp(1, MAX_BACKLOG) as u8;
        let (pool, port) = match self.fd(id)? {
            Fd::Stream { pool, port, phase: Phase::Fresh, .. } => (pool as usize, port),
            Fd::Listener { port, .. } => {
                self.fds[id.index()] = Some(Fd::Listener { port, backlog });
                self.refill(sockets, id);
                return Ok(());
            }
            Fd::Datagram { .. } => return Err(SocketError::NotSupported),
            _ => return Err(SocketError::InvalidInput),
        };
        let port = match port {
            0 => self.free_port(sockets, Kind::Stream)?,
            port => port,
        };
        let socket = sockets.get_mut::<tcp::Socket<'_>>(self.tcp[pool].handle);
        backlog_listen(socket, port).map_err(|()| SocketError::InvalidInput)?;
        self.tcp[pool].user = User::Backlog(id.0);
        self.fds[id.index()] = Some(Fd::Listener { port, backlog });
        self.refill(sockets, id);
        Ok(())
    }

    /// A connection that reached listening `id`, as a new descriptor, and
    /// its peer.
    pub fn accept(
        &mut self,
        sockets: &mut SocketSet<'_>,
        id: SocketId,
    ) -> Result<(SocketId, IpEndpoint), SocketError> {
        let Fd::Listener { port, .. } = self.fd(id)? else { return Err(SocketError::InvalidInput) };
        self.refill(sockets, id);
        let Some(pool) = self.acceptable(sockets, id) else { return Err(SocketError::WouldBlock) };
        let fd = self.fds.iter().position(Option::is_none);
        let fd = fd.ok_or(SocketError::NoDescriptors)?;
        let socket = sockets.get_mut::<tcp::Socket<'_>>(self.tcp[pool].handle);
        let peer = socket.remote_endpoint().ok_or(SocketError::WouldBlock)?;
        // Accepted: as quiet as its user likes, as a connected socket.
        socket.set_timeout(None);
        self.tcp[pool].user = User::Fd(fd as u8);
        self.fds[fd] =
            Some(Fd::Stream { pool: pool as u8, port, phase: Phase::Connected, read_shut: false });
        self.refill(sockets, id);
        Ok((SocketId(fd as u8), peer))
    }

    /// Connects `id` to `remote`. A TCP socket starts the connection
    /// ([`SocketError::InProgress`]); later calls answer
    /// [`SocketError::WouldBlock`] while it is under way, `Ok` once it is
    /// established and [`SocketError::ConnectionRefused`] if it failed. A
    /// UDP socket takes `remote` as the peer it sends to and receives
    /// from.
    pub fn connect<D: NetDevice, C: Monotonic>(
        &mut self,
        stack: &mut Stack<'_, D, C>,
        id: SocketId,
        remote: IpEndpoint,
    ) -> Result<(), SocketError> {
        if remote.port == 0 || remote.addr.is_unspecified() {
            return Err(SocketError::InvalidInput);
        }
        match self.fd(id)? {
            Fd::Stream { pool, port, phase: Phase::Fresh, .. } => {
                let port = match port {
                    0 => self.free_port(stack.sockets(), Kind::Stream)?,
                    port => port,
                };
                let handle = self.tcp[pool as usize].handle;
                let (interface, sockets) = stack.interface_and_sockets();
                let socket = sockets.get_mut::<tcp::Socket<'_>>(handle);
                socket.connect(interface.context(), remote, port).map_err(|error| match error {
                    tcp::ConnectError::Unaddressable => SocketError::Unreachable,
                    tcp::ConnectError::InvalidState => SocketError::InvalidInput,
                })?;
                self.set_stream(id, port, Phase::Connecting);
                Err(SocketError::InProgress)
            }
            Fd::Stream { pool, port, phase: Phase::Connecting, .. } => {
                let socket = stack.sockets().get::<tcp::Socket<'_>>(self.tcp[pool as usize].handle);
                match socket.state() {
                    tcp::State::SynSent | tcp::State::SynReceived => Err(SocketError::WouldBlock),
                    tcp::State::Closed | tcp::State::TimeWait => {
                        self.set_stream(id, 0, Phase::Fresh);
                        Err(SocketError::ConnectionRefused)
                    }
                    _ => {
                        self.set_stream(id, port, Phase::Connected);
                        Ok(())
                    }
                }
            }
            Fd::Stream { phase: Phase::Connected, .. } => Err(SocketError::AlreadyConnected),
            Fd::Listener { .. } => Err(SocketError::InvalidInput),
            Fd::Datagram { pool, .. } => {
                self.bind_datagram(stack.sockets(), pool as usize)?;
                self.fds[id.index()] = Some(Fd::Datagram { pool, peer: Some(remote) });
                Ok(())
            }
        }
    }

    /// Sends from `data` on connected `id` (a UDP socket: one datagram to
    /// its peer); how many bytes went into the socket's buffer.
    pub fn send(
        &mut self,
        sockets: &mut SocketSet<'_>,
        id: SocketId,
        data: &[u8],
    ) -> Result<usize, SocketError> {
        match self.settle(sockets, id)? {
            Fd::Stream { pool, phase, .. } => {
                let socket = sockets.get_mut::<tcp::Socket<'_>>(self.tcp[pool as usize].handle);
                match phase {
                    Phase::Fresh => Err(SocketError::NotConnected),
                    Phase::Connecting => Err(SocketError::WouldBlock),
                    Phase::Connected if !socket.may_send() => {
                        Err(if socket.state() == tcp::State::Closed && !socket.may_recv() {
                            SocketError::ConnectionReset
                        } else {
                            SocketError::BrokenPipe
                        })
                    }
                    Phase::Connected => match socket.send_slice(data) {
                        Ok(0) if !data.is_empty() => Err(SocketError::WouldBlock),
                        Ok(sent) => Ok(sent),
                        Err(tcp::SendError::InvalidState) => Err(SocketError::BrokenPipe),
                    },
                }
            }
            Fd::Listener { .. } => Err(SocketError::NotConnected),
            Fd::Datagram { peer: Some(peer), .. } => self.send_to(sockets, id, data, peer),
            Fd::Datagram { peer: None, .. } => Err(SocketError::DestinationRequired),
        }
    }

    /// Sends `data` as one datagram from UDP socket `id` (bound to a free
    /// port first if it has none) to `remote`; a TCP socket sends it on
    /// its connection.
    pub fn send_to(
        &mut self,
        sockets: &mut SocketSet<'_>,
        id: SocketId,
        data: &[u8],
        remote: IpEndpoint,
    ) -> Result<usize, SocketError> {
        let Fd::Datagram { pool, .. } = self.fd(id)? else { return self.send(sockets, id, data) };
        if remote.port == 0 || remote.addr.is_unspecified() {
            return Err(SocketError::InvalidInput);
        }
        self.bind_datagram(sockets, pool as usize)?;
        let socket = sockets.get_mut::<udp::Socket<'_>>(self.udp[pool as usize].handle);
        if data.len() > socket.payload_send_capacity() {
            return Err(SocketError::MessageTooLong);
        }
        match socket.send_slice(data, remote) {
            Ok(()) => Ok(data.len()),
            Err(udp::SendError::BufferFull) => Err(SocketError::WouldBlock),
            Err(udp::SendError::Unaddressable) => Err(SocketError::Unreachable),
        }
    }

    /// Receives into `out` from connected `id` (left in the socket if
    /// `peek`): 0 at the end of the stream. A UDP socket receives one
    /// datagram (from its peer, if it has one), cut to `out`'s length.
    pub fn recv(
        &mut self,
        sockets: &mut SocketSet<'_>,
        id: SocketId,
        out: &mut [u8],
        peek: bool,
    ) -> Result<usize, SocketError> {
        self.recv_from(sockets, id, out, peek).map(|(count, _)| count)
    }

    /// As [`Sockets::recv`], with the sender (a TCP socket: its peer).
    pub fn recv_from(
        &mut self,
        sockets: &mut SocketSet<'_>,
        id: SocketId,
        out: &mut [u8],
        peek: bool,
    ) -> Result<(usize, IpEndpoint), SocketError> {
        match self.settle(sockets, id)? {
            Fd::Stream { phase: Phase::Connecting, .. } => Err(SocketError::WouldBlock),
            Fd::Stream { pool, phase: Phase::Connected, read_shut, .. } => {
                let socket = sockets.get_mut::<tcp::Socket<'_>>(self.tcp[pool as usize].handle);
                let peer = socket.remote_endpoint();
                let peer = peer.unwrap_or(IpEndpoint::new(IpAddress::v4(0, 0, 0, 0), 0));
                if read_shut {
                    return Ok((0, peer));
                }
                let received = if peek { socket.peek_slice(out) } else { socket.recv_slice(out) };
                match received {
                    Ok(0) if !out.is_empty() => Err(SocketError::WouldBlock),
                    Ok(count) => Ok((count, peer)),
                    Err(tcp::RecvError::Finished) => Ok((0, peer)),
                    // Neither data nor a FIN: reset, or timed out.
                    Err(tcp::RecvError::InvalidState) => Err(SocketError::ConnectionReset),
                }
            }
            Fd::Stream { .. } | Fd::Listener { .. } => Err(SocketError::NotConnected),
            Fd::Datagram { pool, peer } => {
                let socket = sockets.get_mut::<udp::Socket<'_>>(self.udp[pool as usize].handle);
                loop {
                    let (data, from) = match socket.peek() {
                        Ok((data, meta)) => (data, meta.endpoint),
                        Err(_) => return Err(SocketError::WouldBlock),
                    };
                    if peer.is_some_and(|peer| peer != from) {
                        // Not from the connected peer: dropped, as POSIX does.
                        let _ = socket.recv();
                        continue;
                    }
                    let count = data.len().min(out.len());
                    out[..count].copy_from_slice(&data[..count]);
                    if !peek {
                        let _ = socket.recv();
                    }
                    return Ok((count, from));
                }
            }
        }
    }

    /// Ends receiving, sending or both on connected TCP socket `id`.
    pub fn shutdown(
        &mut self,
        sockets: &mut SocketSet<'_>,
        id: SocketId,
        how: Shutdown,
    ) -> Result<(), SocketError> {
        let Fd::Stream { pool, port, phase: Phase::Connected, read_shut } =
            self.settle(sockets, id)?
        else {
            return Err(SocketError::NotConnected);
        };
        if how != Shutdown::Read {
            sockets.get_mut::<tcp::Socket<'_>>(self.tcp[pool as usize].handle).close();
        }
        let read_shut = read_shut || how != Shutdown::Write;
        self.fds[id.index()] = Some(Fd::Stream { pool, port, phase: Phase::Connected, read_shut });
        Ok(())
    }

    /// Closes `id`: a TCP connection is ended with a FIN (its socket
    /// comes back to the pool once the connection is over, see
    /// [`LINGER`]); connections a listener held but nobody accepted are
    /// reset.
    pub fn close(&mut self, sockets: &mut SocketSet<'_>, id: SocketId) -> Result<(), SocketError> {
        match self.fd(id)? {
            Fd::Stream { pool, .. } => {
                let socket = sockets.get_mut::<tcp::Socket<'_>>(self.tcp[pool as usize].handle);
                socket.close();
                socket.set_timeout(Some(LINGER));
                self.tcp[pool as usize].user = User::Closing;
            }
            Fd::Listener { .. } => {
                for pooled in self.tcp.iter_mut().filter(|p| p.user == User::Backlog(id.0)) {
                    sockets.get_mut::<tcp::Socket<'_>>(pooled.handle).abort();
                    pooled.user = User::Closing;
                }
            }
            Fd::Datagram { pool, .. } => {
                sockets.get_mut::<udp::Socket<'_>>(self.udp[pool as usize].handle).close();
                self.udp[pool as usize].user = User::Idle;
            }
        }
        self.fds[id.index()] = None;
        Ok(())
    }

    /// `id`'s own address and port (the address is the interface's; none
    /// yet: unspecified, port 0).
    pub fn local_endpoint<D: NetDevice, C: Monotonic>(
        &self,
        stack: &mut Stack<'_, D, C>,
        id: SocketId,
    ) -> Result<IpEndpoint, SocketError> {
        let port = match self.fd(id)? {
            Fd::Stream { port, .. } | Fd::Listener { port, .. } => port,
            Fd::Datagram { pool, .. } => {
                stack
                    .sockets()
                    .get::<udp::Socket<'_>>(self.udp[pool as usize].handle)
                    .endpoint()
                    .port
            }
        };
        let address = match port {
            0 => IpAddress::v4(0, 0, 0, 0),
            _ => stack.ipv4_address().map_or(IpAddress::v4(0, 0, 0, 0), IpAddress::Ipv4),
        };
        Ok(IpEndpoint::new(address, port))
    }

    /// The peer of connected `id`.
    pub fn peer_endpoint(
        &mut self,
        sockets: &mut SocketSet<'_>,
        id: SocketId,
    ) -> Result<IpEndpoint, SocketError> {
        match self.settle(sockets, id)? {
            Fd::Stream { pool, phase: Phase::Connected, .. } => sockets
                .get::<tcp::Socket<'_>>(self.tcp[pool as usize].handle)
                .remote_endpoint()
                .ok_or(SocketError::NotConnected),
            Fd::Datagram { peer: Some(peer), .. } => Ok(peer),
            _ => Err(SocketError::NotConnected),
        }
    }

    /// Sets a TCP socket's Nagle algorithm off (`nodelay`) or on.
    pub fn set_nodelay(
        &mut self,
        sockets: &mut SocketSet<'_>,
        id: SocketId,
        nodelay: bool,
    ) -> Result<(), SocketError> {
        let socket = self.tcp_socket(sockets, id)?;
        socket.set_nagle_enabled(!nodelay);
        Ok(())
    }

    /// Whether a TCP socket's Nagle algorithm is off.
    pub fn nodelay(&self, sockets: &mut SocketSet<'_>, id: SocketId) -> Result<bool, SocketError> {
        Ok(!self.tcp_socket(sockets, id)?.nagle_enabled())
    }

    /// Sets a TCP socket's keep-alive interval (`None`: none).
    pub fn set_keep_alive(
        &mut self,
        sockets: &mut SocketSet<'_>,
        id: SocketId,
        interval: Option<Duration>,
    ) -> Result<(), SocketError> {
        self.tcp_socket(sockets, id)?.set_keep_alive(interval);
        Ok(())
    }

    /// Whether a TCP socket sends keep-alives.
    pub fn keep_alive(
        &self,
        sockets: &mut SocketSet<'_>,
        id: SocketId,
    ) -> Result<bool, SocketError> {
        Ok(self.tcp_socket(sockets, id)?.keep_alive().is_some())
    }

    /// What `id` is ready for.
    pub fn readiness(
        &mut self,
        sockets: &mut SocketSet<'_>,
        id: SocketId,
    ) -> Result<Readiness, SocketError> {
        Ok(match self.settle(sockets, id)? {
            Fd::Stream { pool, phase, read_shut, .. } => {
                let socket = sockets.get::<tcp::Socket<'_>>(self.tcp[pool as usize].handle);
                let over = !socket.is_open() || (!socket.may_recv() && !socket.may_send());
                match phase {
                    Phase::Fresh => Readiness { hangup: true, ..Readiness::default() },
                    Phase::Connecting => Readiness {
                        readable: false,
                        writable: socket.may_send() || !socket.is_open(),
                        hangup: !socket.is_open(),
                    },
                    Phase::Connected => Readiness {
                        readable: read_shut || socket.can_recv() || !socket.may_recv(),
                        writable: socket.can_send() || !socket.may_send(),
                        hangup: over,
                    },
                }
            }
            Fd::Listener { .. } => {
                self.refill(sockets, id);
                Readiness {
                    readable: self.acceptable(sockets, id).is_some(),
                    ..Readiness::default()
                }
            }
            Fd::Datagram { pool, .. } => {
                let socket = sockets.get::<udp::Socket<'_>>(self.udp[pool as usize].handle);
                Readiness {
                    readable: socket.can_recv(),
                    writable: socket.can_send(),
                    hangup: false,
                }
            }
        })
    }

    /// The error a connection under way ended with, once (`SO_ERROR`
    /// after a `connect` that did not wait): refused, or `None`.
    pub fn take_error(
        &mut self,
        sockets: &mut SocketSet<'_>,
        id: SocketId,
    ) -> Result<Option<SocketError>, SocketError> {
        if let Fd::Stream { pool, phase: Phase::Connecting, .. } = self.settle(sockets, id)?
            && !sockets.get::<tcp::Socket<'_>>(self.tcp[pool as usize].handle).is_open()
        {
            self.set_stream(id, 0, Phase::Fresh);
            return Ok(Some(SocketError::ConnectionRefused));
        }
        Ok(None)
    }

    /// Closes every descriptor, as [`Sockets::close`] closes each (what a
    /// program's exit does).
    pub fn close_all(&mut self, sockets: &mut SocketSet<'_>) {
        for index in 0..FDS {
            let _ = self.close(sockets, SocketId(index as u8));
        }
    }

    /// Whether nothing the sockets queued is still to go out or to be
    /// acknowledged: every TCP connection closed, its data and FIN
    /// acknowledged (or it was reset or timed out) and every reset sent,
    /// every datagram sent. Open connections are not drained; close them
    /// first ([`Sockets::close_all`]).
    pub fn drained(&self, sockets: &mut SocketSet<'_>) -> bool {
        let tcp = self.tcp.iter().all(|pooled| {
            let socket = sockets.get::<tcp::Socket<'_>>(pooled.handle);
            match socket.state() {
                tcp::State::Closed => socket.remote_endpoint().is_none(),
                tcp::State::Listen | tcp::State::FinWait2 | tcp::State::TimeWait => true,
                _ => false,
            }
        });
        tcp && self
            .udp
            .iter()
            .all(|pooled| sockets.get::<udp::Socket<'_>>(pooled.handle).send_queue() == 0)
    }

    /// Descriptors in use.
    pub fn open_count(&self) -> usize {
        self.fds.iter().flatten().count()
    }

    /// `id`'s descriptor, a TCP connection under way marked connected
    /// once it is established (whoever noticed: a poll, a send, `connect`).
    fn settle(&mut self, sockets: &mut SocketSet<'_>, id: SocketId) -> Result<Fd, SocketError> {
        let fd = self.fd(id)?;
        if let Fd::Stream { pool, port, phase: Phase::Connecting, .. } = fd {
            let socket = sockets.get::<tcp::Socket<'_>>(self.tcp[pool as usize].handle);
            // Established (or closed by its peer since: CLOSE-WAIT).
            if socket.may_send() {
                self.set_stream(id, port, Phase::Connected);
            }
        }
        self.fd(id)
    }

    fn fd(&self, id: SocketId) -> Result<Fd, SocketError> {
        self.fds.get(id.index()).copied().flatten().ok_or(SocketError::BadDescriptor)
    }

    fn set_stream(&mut self, id: SocketId, port: u16, phase: Phase) {
        if let Some(Fd::Stream { pool, read_shut, .. }) = self.fds[id.index()] {
            self.fds[id.index()] = Some(Fd::Stream { pool, port, phase, read_shut });
        }
    }

    fn tcp_socket<'s, 'a>(
        &self,
        sockets: &'s mut SocketSet<'a>,
        id: SocketId,
    ) -> Result<&'s mut tcp::Socket<'a>, SocketError> {
        match self.fd(id)? {
            Fd::Stream { pool, .. } => {
                Ok(sockets.get_mut::<tcp::Socket<'a>>(self.tcp[pool as usize].handle))
            }
            _ => Err(SocketError::NotSupported),
        }
    }

    /// Binds UDP socket `pool` to a free port if it is not bound.
    fn bind_datagram(
        &mut self,
        sockets: &mut SocketSet<'_>,
        pool: usize,
    ) -> Result<(), SocketError> {
        if sockets.get::<udp::Socket<'_>>(self.udp[pool].handle).is_open() {
            return Ok(());
        }
        let port = self.free_port(sockets, Kind::Datagram)?;
        let socket = sockets.get_mut::<udp::Socket<'_>>(self.udp[pool].handle);
        socket.bind(port).map_err(|_| SocketError::InvalidInput)
    }

    /// A pool TCP socket nobody uses: an idle one, or a closed one whose
    /// connection is over (an aborted one once its reset went out), with
    /// the options a new user starts with (what a previous one set does
    /// not carry over).
    fn idle_tcp(&mut self, sockets: &mut SocketSet<'_>) -> Option<usize> {
        let index = self.reclaim_tcp(sockets)?;
        let socket = sockets.get_mut::<tcp::Socket<'_>>(self.tcp[index].handle);
        socket.set_nagle_enabled(true);
        socket.set_keep_alive(None);
        socket.set_timeout(None);
        Some(index)
    }

    /// [`Sockets::idle_tcp`]'s socket, as it is.
    fn reclaim_tcp(&mut self, sockets: &mut SocketSet<'_>) -> Option<usize> {
        for (index, pooled) in self.tcp.iter_mut().enumerate() {
            if pooled.user == User::Closing {
                let socket = sockets.get::<tcp::Socket<'_>>(pooled.handle);
                let over = match socket.state() {
                    tcp::State::TimeWait => true,
                    tcp::State::Closed => socket.remote_endpoint().is_none(),
                    _ => false,
                };
                if over {
                    pooled.user = User::Idle;
                }
            }
            if pooled.user == User::Idle {
                return Some(index);
            }
        }
        None
    }

    /// Puts idle sockets to listen for listener `id` until it holds its
    /// backlog; a backlog socket whose connection was reset, or timed out
    /// ([`HANDSHAKE_TIMEOUT`]), listens again: at once, even if its own
    /// reset has not gone out (to a peer that sent a SYN and went away,
    /// or never was, whose link address may never come).
    fn refill(&mut self, sockets: &mut SocketSet<'_>, id: SocketId) {
        let Some(Fd::Listener { port, backlog }) = self.fds[id.index()] else { return };
        let mut held = 0;
        for pooled in self.tcp.iter().filter(|p| p.user == User::Backlog(id.0)) {
            let socket = sockets.get_mut::<tcp::Socket<'_>>(pooled.handle);
            if socket.state() == tcp::State::Closed {
                let _ = backlog_listen(socket, port);
            }
            held += 1;
        }
        while held < backlog {
            let Some(pool) = self.idle_tcp(sockets) else { return };
            let socket = sockets.get_mut::<tcp::Socket<'_>>(self.tcp[pool].handle);
            if backlog_listen(socket, port).is_err() {
                return;
            }
            self.tcp[pool].user = User::Backlog(id.0);
            held += 1;
        }
    }

    /// A backlog socket of listener `id` whose connection is established.
    fn acceptable(&self, sockets: &mut SocketSet<'_>, id: SocketId) -> Option<usize> {
        self.tcp.iter().position(|pooled| {
            pooled.user == User::Backlog(id.0)
                && matches!(
                    sockets.get::<tcp::Socket<'_>>(pooled.handle).state(),
                    tcp::State::Established | tcp::State::CloseWait
                )
        })
    }

    /// Whether a descriptor of `kind` has `port`: a listener, a TCP socket
    /// bound but not yet connected or listening, a bound UDP socket.
    /// Connections may share their local port with each other and a
    /// listener (accepted ones do).
    fn port_in_use(&self, sockets: &mut SocketSet<'_>, kind: Kind, port: u16) -> bool {
        self.fds.iter().flatten().any(|fd| match (*fd, kind) {
            (Fd::Listener { port: p, .. }, Kind::Stream) => p == port,
            (Fd::Stream { port: p, phase: Phase::Fresh, .. }, Kind::Stream) => p == port,
            (Fd::Datagram { pool, .. }, Kind::Datagram) => {
                let socket = sockets.get::<udp::Socket<'_>>(self.udp[pool as usize].handle);
                socket.is_open() && socket.endpoint().port == port
            }
            _ => false,
        })
    }

    /// A port of the dynamic range no socket of `kind` has, nor any
    /// connection of the pool (so that a new connection's four-tuple is
    /// new).
    fn free_port(&mut self, sockets: &mut SocketSet<'_>, kind: Kind) -> Result<u16, SocketError> {
        for _ in FIRST_EPHEMERAL_PORT..=u16::MAX {
            let port = self.next_port;
            self.next_port = if port == u16::MAX { FIRST_EPHEMERAL_PORT } else { port + 1 };
            let taken = self.port_in_use(sockets, kind, port)
                || (kind == Kind::Stream
                    && self.tcp.iter().any(|pooled| {
                        let socket = sockets.get::<tcp::Socket<'_>>(pooled.handle);
                        socket.is_open()
                            && socket.local_endpoint().is_some_and(|local| local.port == port)
                    }));
            if !taken {
                return Ok(port);
            }
        }
        Err(SocketError::AddressInUse)
    }
}

#[cfg(test)]
mod tests;
