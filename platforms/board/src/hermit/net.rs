//! `std::net` for the std component (cargo feature `hermit-net`): the
//! socket calls of std's Hermit layer over the component's NIC session and
//! smoltcp, through [`ferrode_net::sockets`].
//!
//! The stack is opened at the first `socket` call: a NIC session (route
//! `"Nic"`) whose signal is the one the component's Timer session raises,
//! so that one wait ends when frames arrive, when a sent frame is
//! acknowledged or when smoltcp's next timer falls due. Its address is
//! `FERRODE_IPV4` of the environment (`10.0.2.15/24`, or `dhcp`), with
//! `FERRODE_IPV4_GATEWAY` as the default route; without them, QEMU's user
//! network (10.0.2.15/24 via 10.0.2.2). The sockets and their buffers come
//! from the heap then, once: [`TCP_SOCKETS`] TCP sockets of
//! [`TCP_BUFFER`] bytes each way and [`UDP_SOCKETS`] UDP sockets, for up
//! to [`SOCKETS`] descriptors.
//!
//! A call that would block (a `recv` with nothing received, an `accept`
//! with no connection, a `connect` under way, a `send` with the buffer
//! full) polls the stack and sleeps on that signal until it can go on:
//! forever, until its socket's `SO_RCVTIMEO` or `SO_SNDTIMEO` runs out
//! (`EAGAIN`; `ETIMEDOUT` for `connect`), or not at all on a non-blocking
//! socket (`EAGAIN`, `EINPROGRESS`). Other components run meanwhile.
//!
//! At exit (`std::process::exit`, the end of `main`, a panic) every socket
//! is closed and the stack runs until what they queued is acknowledged,
//! for up to 10 s ([`drain`]): nothing a program wrote before it exited is
//! lost.
//!
//! A descriptor's `dup` (`TcpStream::try_clone`) names the same socket;
//! the socket is closed with the last descriptor that names it.
//!
//! Host names are looked up in the DNS ([`sys_getaddrinfo`]): at the
//! server a program set ([`set_name_server`]), else at those
//! `FERRODE_DNS` lists, else at those DHCP named, else at QEMU's user
//! network's (10.0.2.3) when the interface has its default address.
//!
//! Not offered: IPv6, `SO_LINGER` other than as a stored value (a close
//! never waits; its connection ends in the background, see
//! [`ferrode_net::sockets::LINGER`]).

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::ffi::{CStr, c_char, c_int, c_void};
use core::sync::atomic::{AtomicU32, Ordering};

use ferrode_ipc::CapSel;
use ferrode_net::dns::{self, DnsError};
use ferrode_net::smoltcp::iface::{SocketHandle, SocketStorage};
use ferrode_net::smoltcp::socket::{tcp, udp};
use ferrode_net::smoltcp::storage::PacketMetadata;
use ferrode_net::smoltcp::time::Duration;
use ferrode_net::smoltcp::wire::{IpAddress, IpEndpoint, Ipv4Address, Ipv4Cidr};
use ferrode_net::sockets::{
    Descriptors, Kind, Readiness, Shutdown, SocketError, SocketId, Sockets,
};
use ferrode_net::{Ipv4Config, Stack};
use ferrode_std_abi::abi::{self, errno};
use ferrode_std_abi::{
    Ipv4Setting, LocalAnswer, LookupRequest, NameServers, answer_without_lookup, ipv4_of_sockaddr,
    sockaddr_of_ipv4, timeval_of_us, us_of_timeval,
};

use super::{StdState, Step, log_line, wait_until, with_state};
use crate::component::{NicClient, NicPhy};
use crate::platform::devices;

/// Descriptors: sockets open at once.
pub const SOCKETS: usize = 16;
/// TCP sockets: connections (and listening backlog) at once.
pub const TCP_SOCKETS: usize = 8;
/// UDP sockets.
pub const UDP_SOCKETS: usize = 4;
/// Each TCP socket's receive and transmit buffer (its window).
pub const TCP_BUFFER: usize = 16 * 1024;
/// Each UDP socket's receive and transmit buffer.
pub const UDP_BUFFER: usize = 16 * 1024;
/// Datagrams each UDP socket queues each way.
pub const UDP_PACKETS: usize = 16;
/// The first socket descriptor (below: std's streams and ROM files).
pub const FIRST_SOCKET: c_int = 32;
/// How often a TCP connection with `SO_KEEPALIVE` probes a quiet peer.
const KEEP_ALIVE: Duration = Duration::from_secs(60);

/// The component's network: its NIC session, the stack and the sockets.
pub(super) struct Net {
    stack: Stack<'static, NicPhy, devices::Clock>,
    table: Sockets<SOCKETS, TCP_SOCKETS, UDP_SOCKETS>,
    /// Which socket each descriptor (`FIRST_SOCKET + n`) names: a `dup`'s
    /// copy names the socket of the original.
    descriptors: Descriptors<SOCKETS>,
    /// Each socket's, shared by the descriptors that name it (as POSIX
    /// shares `O_NONBLOCK` between a descriptor and its `dup`).
    options: [Options; SOCKETS],
    /// Kept for the session's lifetime (the control side).
    _nic: NicClient,
}

/// What a socket's options say beyond the table's.
#[derive(Clone, Copy, Default)]
struct Options {
    nonblocking: bool,
    recv_timeout_us: Option<u64>,
    send_timeout_us: Option<u64>,
    linger: Option<(i32, i32)>,
}

/// Whether `fd` is in the sockets' range (open or not).
pub(super) fn is_socket(fd: c_int) -> bool {
    (FIRST_SOCKET..FIRST_SOCKET + SOCKETS as c_int).contains(&fd)
}

/// `fd`'s index among the socket descriptors.
fn descriptor(fd: c_int) -> Result<usize, i32> {
    let index = fd.checked_sub(FIRST_SOCKET).and_then(|index| usize::try_from(index).ok());
    index.ok_or(errno::EBADF)
}

impl Net {
    /// The socket `fd` names.
    fn socket(&self, fd: c_int) -> Result<SocketId, i32> {
        self.descriptors.socket(descriptor(fd)?).map_err(errno_of)
    }

    /// A new descriptor for socket `id`.
    fn attach(&mut self, id: SocketId) -> Result<c_int, i32> {
        let index = self.descriptors.attach(id).map_err(errno_of)?;
        Ok(FIRST_SOCKET + index as c_int)
    }
}

fn errno_of(error: SocketError) -> i32 {
    match error {
        SocketError::WouldBlock => errno::EAGAIN,
        SocketError::InProgress => errno::EINPROGRESS,
        SocketError::BadDescriptor => errno::EBADF,
        SocketError::NoDescriptors => errno::EMFILE,
        SocketError::NoBuffers => errno::ENOBUFS,
        SocketError::InvalidInput => errno::EINVAL,
        SocketError::AddressInUse => errno::EADDRINUSE,
        SocketError::AddressNotAvailable => errno::EADDRNOTAVAIL,
        SocketError::NotConnected => errno::ENOTCONN,
        SocketError::AlreadyConnected => errno::EISCONN,
        SocketError::ConnectionRefused => errno::ECONNREFUSED,
        SocketError::ConnectionReset => errno::ECONNRESET,
        SocketError::BrokenPipe => errno::EPIPE,
        SocketError::DestinationRequired => errno::EDESTADDRREQ,
        SocketError::MessageTooLong => errno::EMSGSIZE,
        SocketError::Unreachable => errno::ENETUNREACH,
        SocketError::NotSupported => errno::EOPNOTSUPP,
    }
}

/// A C result: the value, or the negated error (noted for `errno`).
fn answer(result: Result<c_int, i32>) -> c_int {
    result.unwrap_or_else(|error| {
        super::note_error(error);
        -error
    })
}

/// As [`answer`], for a byte count.
fn answer_size(result: Result<usize, i32>) -> isize {
    match result {
        Ok(count) => count as isize,
        Err(error) => answer(Err(error)) as isize,
    }
}

// ----- opening the network ---------------------------------------------------

/// The interface's address from the environment (see the module's docs).
fn ipv4_config() -> Result<Ipv4Config, &'static str> {
    let address = super::environment_value(Ipv4Setting::ADDRESS);
    let gateway = super::environment_value(Ipv4Setting::GATEWAY);
    Ok(match Ipv4Setting::parse(address, gateway)? {
        Ipv4Setting::Default => Ipv4Config::QEMU_USER,
        Ipv4Setting::Dhcp => Ipv4Config::Dhcp,
        Ipv4Setting::Static { address: [a, b, c, d], prefix, gateway } => Ipv4Config::Static {
            address: Ipv4Cidr::new(Ipv4Address::new(a, b, c, d), prefix),
            gateway: gateway.map(|[a, b, c, d]| Ipv4Address::new(a, b, c, d)),
        },
    })
}

/// Opens the network at the first socket: the NIC session, the stack and
/// its sockets (allocated here, outside the state: the heap is in it).
fn open() -> Result<(), i32> {
    match with_state(|state| state.net.is_some()) {
        Some(true) => return Ok(()),
        Some(false) => {}
        None => return Err(errno::ENOSYS),
    }
    let config = ipv4_config().map_err(|message| {
        log_line(message);
        errno::EINVAL
    })?;
    let signal = with_state(|state| state.timer.as_ref().map(|(_, signal)| *signal)).flatten();
    let Some(signal) = signal else {
        log_line("std: sockets need a Timer session (route \"Timer\" to this component)");
        return Err(errno::ENETDOWN);
    };
    let session = with_state(|state| state.env.nic("", signal)).ok_or(errno::ENOSYS)?;
    let (nic, phy) = session.map_err(|error| {
        let mut line = heapless::String::<96>::new();
        let _ =
            core::fmt::write(&mut line, format_args!("std: no NIC session for sockets: {error}"));
        log_line(&line);
        errno::ENETDOWN
    })?;
    let storage: Vec<SocketStorage<'static>> =
        (0..TCP_SOCKETS + UDP_SOCKETS + 1).map(|_| SocketStorage::EMPTY).collect();
    let mut stack = Stack::new(phy, devices::clock(), config, storage.leak());
    let tcp: [SocketHandle; TCP_SOCKETS] = core::array::from_fn(|_| {
        stack.sockets().add(tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; TCP_BUFFER].leak()),
            tcp::SocketBuffer::new(vec![0; TCP_BUFFER].leak()),
        ))
    });
    let udp: [SocketHandle; UDP_SOCKETS] = core::array::from_fn(|_| {
        let buffer = || {
            udp::PacketBuffer::new(
                vec![PacketMetadata::EMPTY; UDP_PACKETS].leak(),
                vec![0; UDP_BUFFER].leak(),
            )
        };
        stack.sockets().add(udp::Socket::new(buffer(), buffer()))
    });
    let net = Box::new(Net {
        stack,
        table: Sockets::new(tcp, udp),
        descriptors: Descriptors::new(),
        options: [Options::default(); SOCKETS],
        _nic: nic,
    });
    with_state(|state| state.net = Some(Box::leak(net))).ok_or(errno::ENOSYS)
}

// ----- waiting ---------------------------------------------------------------

/// Which of a socket's timeouts bounds a call.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Limit {
    Receive,
    Send,
    /// `SO_SNDTIMEO`, and running out is `ETIMEDOUT` (`connect`).
    Connect,
}

/// Arms the component's Timer session for whichever comes first,
/// smoltcp's next timer or `due` (µs on the stack's clock, now `now`), and
/// says to wait on its signal (which the NIC session raises too):
/// `ENETDOWN` without a Timer session, `EIO` if arming failed. Not generic
/// over the step's result, so that every waiting call shares one copy.
fn arm(
    net: &mut Net,
    timer: &mut Option<(super::TimerClient, CapSel)>,
    armed_until: &mut Option<u64>,
    now: u64,
    due: Option<u64>,
) -> Result<CapSel, i32> {
    let Some((timer, signal)) = timer.as_mut() else { return Err(errno::ENETDOWN) };
    let next = net.stack.poll_delay().map(|delay| delay.total_micros());
    if let Some(us) = [next, due.map(|due| due - now)].into_iter().flatten().min()
        && super::trigger(timer, armed_until, us.max(1)).is_err()
    {
        return Err(errno::EIO);
    }
    Ok(*signal)
}

/// The step after [`arm`]: a wait on its signal, or its error.
fn wait_armed<T>(armed: Result<CapSel, i32>) -> Step<T> {
    match armed {
        Ok(signal) => Step::Wait(signal),
        Err(error) => Step::Done(Err(error)),
    }
}

/// Runs `op` on socket `fd` until it no longer answers `WouldBlock` (a
/// first `InProgress` counts as one), polling the stack around it and
/// sleeping on the component's signal in between (see the module's docs).
fn blocking<T>(
    fd: c_int,
    limit: Limit,
    mut op: impl FnMut(&mut Net, SocketId) -> Result<T, SocketError>,
) -> Result<T, i32> {
    // Set at the first wait: when the call's timeout runs out.
    let mut deadline: Option<Option<u64>> = None;
    wait_until(|state| {
        let StdState { net, timer, armed_until, .. } = state;
        let Some(net) = net.as_deref_mut() else { return Step::Done(Err(errno::EBADF)) };
        let id = match net.socket(fd) {
            Ok(id) => id,
            Err(error) => return Step::Done(Err(error)),
        };
        net.stack.poll();
        let result = op(net, id);
        // What the call queued goes out now.
        net.stack.poll();
        let options = net.options[id.index()];
        match result {
            Err(SocketError::WouldBlock) => {}
            Err(SocketError::InProgress) if !options.nonblocking => {}
            other => return Step::Done(other.map_err(errno_of)),
        }
        if options.nonblocking {
            return Step::Done(Err(errno::EAGAIN));
        }
        let now = net.stack.now().total_micros() as u64;
        let timeout = match limit {
            Limit::Receive => options.recv_timeout_us,
            Limit::Send | Limit::Connect => options.send_timeout_us,
        };
        let due = *deadline.get_or_insert_with(|| timeout.map(|us| now.saturating_add(us)));
        if due.is_some_and(|due| now >= due) {
            let error = if limit == Limit::Connect { errno::ETIMEDOUT } else { errno::EAGAIN };
            return Step::Done(Err(error));
        }
        // Frames, an acknowledgement or the timeout wake the wait.
        wait_armed(arm(net, timer, armed_until, now, due))
    })
    .unwrap_or(Err(errno::EBADF))
}

/// Runs `op` on the network once, polling the stack before.
fn now<T>(fd: c_int, op: impl FnOnce(&mut Net, SocketId) -> Result<T, i32>) -> Result<T, i32> {
    with_state(|state| {
        let net = state.net.as_deref_mut().ok_or(errno::EBADF)?;
        let id = net.socket(fd)?;
        net.stack.poll();
        op(net, id)
    })
    .unwrap_or(Err(errno::EBADF))
}

/// How long an exiting std component goes on sending what its sockets
/// queued ([`drain`]).
const DRAIN_US: u64 = 10_000_000;

/// At exit: closes every socket and runs the stack until what they
/// queued is sent and acknowledged (`Sockets::drained`), for at most
/// [`DRAIN_US`]: a program that writes its answer and exits has it
/// delivered, as an operating system goes on sending a process's data
/// after it ended. A LOG line says if the time ran out.
pub(super) fn drain() {
    let mut deadline = None;
    let drained = wait_until(|state| {
        let StdState { net, timer, armed_until, .. } = state;
        let Some(net) = net.as_deref_mut() else { return Step::Done(Ok(())) };
        net.table.close_all(net.stack.sockets());
        net.stack.poll();
        if net.table.drained(net.stack.sockets()) {
            return Step::Done(Ok(()));
        }
        let now = net.stack.now().total_micros() as u64;
        let due = *deadline.get_or_insert(now.saturating_add(DRAIN_US));
        if now >= due {
            return Step::Done(Err(errno::ETIMEDOUT));
        }
        wait_armed(arm(net, timer, armed_until, now, Some(due)))
    });
    // The time ran out, or there is no timer to wait with (a failed wait
    // means the NIC driver or the Timer ended: nothing more goes out).
    if matches!(drained, Some(Err(errno::ETIMEDOUT | errno::ENETDOWN))) {
        log_line("std: at exit, the network had data in flight that was not acknowledged");
    }
}

// ----- addresses -------------------------------------------------------------

/// The IPv4 endpoint `addr` (`len` bytes) names.
///
/// # Safety
///
/// `addr` is null or `len` readable bytes.
unsafe fn endpoint_of(addr: *const abi::sockaddr, len: abi::socklen_t) -> Result<IpEndpoint, i32> {
    if addr.is_null() {
        return Err(errno::EFAULT);
    }
    // SAFETY: the caller's contract.
    let bytes = unsafe { core::slice::from_raw_parts(addr.cast::<u8>(), len as usize) };
    let ([a, b, c, d], port) = ipv4_of_sockaddr(bytes)?;
    Ok(IpEndpoint::new(IpAddress::v4(a, b, c, d), port))
}

/// Writes `endpoint` to `addr` as a `sockaddr_in`, cut to the `*len`
/// bytes there are, and its whole length to `*len`; nothing for a null
/// `addr`.
///
/// # Safety
///
/// `addr` is null, or `len` is readable and writable and `addr` has
/// `*len` writable bytes.
unsafe fn write_endpoint(addr: *mut abi::sockaddr, len: *mut abi::socklen_t, endpoint: IpEndpoint) {
    if addr.is_null() || len.is_null() {
        return;
    }
    let IpAddress::Ipv4(address) = endpoint.addr;
    let bytes = sockaddr_of_ipv4(address.octets(), endpoint.port);
    // SAFETY: the caller's contract; at most `*len` bytes are written.
    unsafe {
        let count = bytes.len().min(*len as usize);
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), addr.cast::<u8>(), count);
        *len = bytes.len() as abi::socklen_t;
    }
}

// ----- the calls -------------------------------------------------------------

/// `socket`: an IPv4 TCP or UDP socket (`SOCK_NONBLOCK` makes it
/// non-blocking).
#[unsafe(no_mangle)]
pub extern "C" fn sys_socket(domain: i32, kind: i32, protocol: i32) -> c_int {
    answer((|| {
        if domain != abi::AF_INET {
            return Err(errno::EAFNOSUPPORT);
        }
        let nonblocking = kind & abi::SOCK_NONBLOCK != 0;
        let kind = match (kind & !(abi::SOCK_NONBLOCK | abi::SOCK_CLOEXEC), protocol) {
            (abi::SOCK_STREAM, 0 | abi::IPPROTO_TCP) => Kind::Stream,
            (abi::SOCK_DGRAM, 0 | abi::IPPROTO_UDP) => Kind::Datagram,
            (abi::SOCK_STREAM | abi::SOCK_DGRAM, _) => return Err(errno::EPROTONOSUPPORT),
            _ => return Err(errno::ESOCKTNOSUPPORT),
        };
        open()?;
        with_state(|state| {
            let net = state.net.as_deref_mut().ok_or(errno::EBADF)?;
            if !net.descriptors.has_room() {
                return Err(errno::EMFILE);
            }
            let id = net.table.open(net.stack.sockets(), kind).map_err(errno_of)?;
            net.options[id.index()] = Options { nonblocking, ..Options::default() };
            net.attach(id)
        })
        .unwrap_or(Err(errno::ENOSYS))
    })())
}

/// `bind`.
///
/// # Safety
///
/// `addr` is `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_bind(
    fd: c_int,
    addr: *const abi::sockaddr,
    len: abi::socklen_t,
) -> c_int {
    // SAFETY: the caller's contract.
    let endpoint = unsafe { endpoint_of(addr, len) };
    answer(endpoint.and_then(|endpoint| {
        now(fd, |net, id| {
            let address = Some(endpoint.addr);
            net.table.bind(&mut net.stack, id, address, endpoint.port).map_err(errno_of)?;
            Ok(0)
        })
    }))
}

/// `listen`.
#[unsafe(no_mangle)]
pub extern "C" fn sys_listen(fd: c_int, backlog: i32) -> c_int {
    answer(now(fd, |net, id| {
        let backlog = usize::try_from(backlog).unwrap_or(1);
        net.table.listen(net.stack.sockets(), id, backlog).map_err(errno_of)?;
        Ok(0)
    }))
}

/// `accept`: waits for a connection (unless non-blocking); the new
/// socket blocks.
///
/// # Safety
///
/// As for [`write_endpoint`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_accept(
    fd: c_int,
    addr: *mut abi::sockaddr,
    len: *mut abi::socklen_t,
) -> c_int {
    let accepted = blocking(fd, Limit::Receive, |net, id| {
        // A connection is taken only when it can have a descriptor.
        if !net.descriptors.has_room() {
            return Err(SocketError::NoDescriptors);
        }
        let (new, peer) = net.table.accept(net.stack.sockets(), id)?;
        net.options[new.index()] = Options::default();
        Ok((net.attach(new), peer))
    });
    answer(accepted.and_then(|(new, peer)| {
        // SAFETY: the caller's contract.
        unsafe { write_endpoint(addr, len, peer) };
        new
    }))
}

/// `connect`: waits until the connection is established or refused
/// (unless non-blocking: `EINPROGRESS`, then `EALREADY` while under way).
///
/// # Safety
///
/// `addr` is `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_connect(
    fd: c_int,
    addr: *const abi::sockaddr,
    len: abi::socklen_t,
) -> c_int {
    // SAFETY: the caller's contract.
    let endpoint = match unsafe { endpoint_of(addr, len) } {
        Ok(endpoint) => endpoint,
        Err(error) => return -error,
    };
    let connected =
        blocking(fd, Limit::Connect, |net, id| net.table.connect(&mut net.stack, id, endpoint));
    answer(match connected {
        Ok(()) => Ok(0),
        Err(errno::EAGAIN) => Err(errno::EALREADY),
        Err(error) => Err(error),
    })
}

/// `recv`/`recvfrom`/`read`: waits for data (unless non-blocking).
///
/// # Safety
///
/// `buf` is `len` writable bytes; for `addr`, as [`write_endpoint`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_recvfrom(
    fd: c_int,
    buf: *mut u8,
    len: usize,
    flags: i32,
    addr: *mut abi::sockaddr,
    addr_len: *mut abi::socklen_t,
) -> isize {
    if (buf.is_null() && len > 0) || flags & !abi::MSG_PEEK != 0 {
        return -(errno::EINVAL as isize);
    }
    let out = if len == 0 {
        &mut [][..]
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts_mut(buf, len) }
    };
    let peek = flags & abi::MSG_PEEK != 0;
    let received = blocking(fd, Limit::Receive, |net, id| {
        net.table.recv_from(net.stack.sockets(), id, out, peek)
    });
    answer_size(received.map(|(count, from)| {
        // SAFETY: the caller's contract.
        unsafe { write_endpoint(addr, addr_len, from) };
        count
    }))
}

/// `send`/`sendto`/`write`: waits for room (unless non-blocking); a TCP
/// socket takes as much as its buffer has room for.
///
/// # Safety
///
/// `buf` is `len` readable bytes; `addr` null or `addr_len` readable
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_sendto(
    fd: c_int,
    buf: *const c_void,
    len: usize,
    flags: i32,
    addr: *const abi::sockaddr,
    addr_len: abi::socklen_t,
) -> isize {
    if (buf.is_null() && len > 0) || flags != 0 {
        return -(errno::EINVAL as isize);
    }
    let data = if len == 0 {
        &[][..]
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), len) }
    };
    let to = if addr.is_null() {
        None
    } else {
        // SAFETY: the caller's contract.
        match unsafe { endpoint_of(addr, addr_len) } {
            Ok(endpoint) => Some(endpoint),
            Err(error) => return -(error as isize),
        }
    };
    answer_size(blocking(fd, Limit::Send, |net, id| match to {
        Some(to) => net.table.send_to(net.stack.sockets(), id, data, to),
        None => net.table.send(net.stack.sockets(), id, data),
    }))
}

/// `shutdown`.
#[unsafe(no_mangle)]
pub extern "C" fn sys_shutdown(fd: c_int, how: i32) -> c_int {
    let how = match how {
        abi::SHUT_RD => Shutdown::Read,
        abi::SHUT_WR => Shutdown::Write,
        abi::SHUT_RDWR => Shutdown::Both,
        _ => return -errno::EINVAL,
    };
    answer(now(fd, |net, id| {
        net.table.shutdown(net.stack.sockets(), id, how).map_err(errno_of)?;
        net.stack.poll();
        Ok(0)
    }))
}

/// `close` of a socket descriptor; the socket's own close with its last
/// descriptor: its connection ends in the background.
pub(super) fn close(fd: c_int) -> c_int {
    answer(now(fd, |net, _| {
        let Some(id) = net.descriptors.detach(descriptor(fd)?).map_err(errno_of)? else {
            // Another descriptor names the socket still.
            return Ok(0);
        };
        net.table.close(net.stack.sockets(), id).map_err(errno_of)?;
        net.options[id.index()] = Options::default();
        // The FIN goes out now.
        net.stack.poll();
        Ok(0)
    }))
}

/// `dup` of a socket descriptor (`TcpStream::try_clone`,
/// `UdpSocket::try_clone`): a second descriptor for its socket, the
/// lowest free one.
pub(super) fn dup(fd: c_int) -> c_int {
    answer(now(fd, |net, _| {
        let index = net.descriptors.duplicate(descriptor(fd)?).map_err(errno_of)?;
        Ok(FIRST_SOCKET + index as c_int)
    }))
}

/// `getsockname` (`peer` false) or `getpeername`.
///
/// # Safety
///
/// As for [`write_endpoint`].
unsafe fn name(fd: c_int, peer: bool, addr: *mut abi::sockaddr, len: *mut abi::socklen_t) -> c_int {
    if addr.is_null() || len.is_null() {
        return -errno::EFAULT;
    }
    let endpoint = now(fd, |net, id| {
        let endpoint = if peer {
            net.table.peer_endpoint(net.stack.sockets(), id)
        } else {
            net.table.local_endpoint(&mut net.stack, id)
        };
        endpoint.map_err(errno_of)
    });
    answer(endpoint.map(|endpoint| {
        // SAFETY: the caller's contract.
        unsafe { write_endpoint(addr, len, endpoint) };
        0
    }))
}

/// `getsockname`.
///
/// # Safety
///
/// As for [`write_endpoint`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_getsockname(
    fd: c_int,
    addr: *mut abi::sockaddr,
    len: *mut abi::socklen_t,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { name(fd, false, addr, len) }
}

/// `getpeername`.
///
/// # Safety
///
/// As for [`write_endpoint`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_getpeername(
    fd: c_int,
    addr: *mut abi::sockaddr,
    len: *mut abi::socklen_t,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { name(fd, true, addr, len) }
}

/// `recv`: [`sys_recvfrom`] without the sender.
///
/// # Safety
///
/// `buf` is `len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_recv(fd: c_int, buf: *mut u8, len: usize, flags: i32) -> isize {
    // SAFETY: forwarded contract.
    unsafe { sys_recvfrom(fd, buf, len, flags, core::ptr::null_mut(), core::ptr::null_mut()) }
}

/// `send`: [`sys_sendto`] to the connected peer.
///
/// # Safety
///
/// `buf` is `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_send(fd: c_int, buf: *const c_void, len: usize, flags: i32) -> isize {
    // SAFETY: forwarded contract.
    unsafe { sys_sendto(fd, buf, len, flags, core::ptr::null(), 0) }
}

/// Plain C values an option is made of: any bytes are a valid one.
///
/// # Safety
///
/// Implemented only for types of integers and nothing else (no padding,
/// no invalid bit patterns).
unsafe trait Plain: Copy {}
// SAFETY: an integer.
unsafe impl Plain for c_int {}
// SAFETY: two integers of the same width.
unsafe impl Plain for abi::timeval {}
// SAFETY: two `i32`s.
unsafe impl Plain for abi::linger {}

/// An option's value from its bytes: `EINVAL` if they are too few.
fn read_option<T: Plain>(bytes: &[u8]) -> Result<T, i32> {
    if bytes.len() < size_of::<T>() {
        return Err(errno::EINVAL);
    }
    // SAFETY: `T` is `Plain` (any bytes are one) and the bytes are there;
    // read unaligned (C code may pass any address).
    Ok(unsafe { bytes.as_ptr().cast::<T>().read_unaligned() })
}

/// An option's value as its bytes, into `out`: `EINVAL` if it has too
/// little room; how many bytes it took.
fn write_option<T: Plain>(out: &mut [u8], item: T) -> Result<usize, i32> {
    if out.len() < size_of::<T>() {
        return Err(errno::EINVAL);
    }
    // SAFETY: `T` is `Plain` (its bytes are all initialised) and `out`
    // has room; written unaligned.
    unsafe { out.as_mut_ptr().cast::<T>().write_unaligned(item) };
    Ok(size_of::<T>())
}

/// `setsockopt`: `SO_REUSEADDR` (ports are always reusable once their
/// connections are over), `SO_KEEPALIVE`, `SO_RCVTIMEO`, `SO_SNDTIMEO`,
/// `SO_LINGER` (stored only, see the module's docs) and `TCP_NODELAY`;
/// `ENOPROTOOPT` for others.
///
/// # Safety
///
/// `value` is null or `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_setsockopt(
    fd: c_int,
    level: i32,
    name: i32,
    value: *const c_void,
    len: abi::socklen_t,
) -> c_int {
    let bytes = if value.is_null() {
        &[][..]
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts(value.cast::<u8>(), len as usize) }
    };
    answer(now(fd, |net, id| {
        let sockets = net.stack.sockets();
        let options = &mut net.options[id.index()];
        match (level, name) {
            (abi::SOL_SOCKET, abi::SO_REUSEADDR) => {
                read_option::<c_int>(bytes)?;
            }
            (abi::SOL_SOCKET, abi::SO_KEEPALIVE) => {
                let interval = (read_option::<c_int>(bytes)? != 0).then_some(KEEP_ALIVE);
                net.table.set_keep_alive(sockets, id, interval).map_err(errno_of)?;
            }
            (abi::SOL_SOCKET, abi::SO_RCVTIMEO) => {
                options.recv_timeout_us = us_of_timeval(&read_option(bytes)?)?;
            }
            (abi::SOL_SOCKET, abi::SO_SNDTIMEO) => {
                options.send_timeout_us = us_of_timeval(&read_option(bytes)?)?;
            }
            (abi::SOL_SOCKET, abi::SO_LINGER) => {
                let linger = read_option::<abi::linger>(bytes)?;
                options.linger = (linger.l_onoff != 0).then_some((1, linger.l_linger.max(0)));
            }
            (abi::IPPROTO_TCP, abi::TCP_NODELAY) => {
                let on = read_option::<c_int>(bytes)? != 0;
                net.table.set_nodelay(sockets, id, on).map_err(errno_of)?;
            }
            _ => return Err(errno::ENOPROTOOPT),
        }
        Ok(0)
    }))
}

/// `getsockopt`: the options [`sys_setsockopt`] takes, and `SO_ERROR` (a
/// refused `connect` that did not wait, once).
///
/// # Safety
///
/// `len` is readable and writable, `value` has `*len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_getsockopt(
    fd: c_int,
    level: i32,
    name: i32,
    value: *mut c_void,
    len: *mut abi::socklen_t,
) -> c_int {
    if value.is_null() || len.is_null() {
        return -errno::EFAULT;
    }
    // SAFETY: the caller's contract.
    let out = unsafe { core::slice::from_raw_parts_mut(value.cast::<u8>(), *len as usize) };
    let written = now(fd, |net, id| {
        let sockets = net.stack.sockets();
        let options = net.options[id.index()];
        let flag = |on: bool| c_int::from(on);
        match (level, name) {
            (abi::SOL_SOCKET, abi::SO_ERROR) => {
                let error = net.table.take_error(sockets, id).map_err(errno_of)?;
                write_option(out, error.map_or(0, errno_of))
            }
            (abi::SOL_SOCKET, abi::SO_REUSEADDR) => write_option(out, flag(true)),
            (abi::SOL_SOCKET, abi::SO_KEEPALIVE) => {
                write_option(out, flag(net.table.keep_alive(sockets, id).map_err(errno_of)?))
            }
            (abi::SOL_SOCKET, abi::SO_RCVTIMEO) => {
                write_option(out, timeval_of_us(options.recv_timeout_us))
            }
            (abi::SOL_SOCKET, abi::SO_SNDTIMEO) => {
                write_option(out, timeval_of_us(options.send_timeout_us))
            }
            (abi::SOL_SOCKET, abi::SO_LINGER) => {
                let (l_onoff, l_linger) = options.linger.unwrap_or((0, 0));
                write_option(out, abi::linger { l_onoff, l_linger })
            }
            (abi::IPPROTO_TCP, abi::TCP_NODELAY) => {
                write_option(out, flag(net.table.nodelay(sockets, id).map_err(errno_of)?))
            }
            _ => Err(errno::ENOPROTOOPT),
        }
    });
    answer(written.map(|count| {
        // SAFETY: the caller's contract.
        unsafe { *len = count as abi::socklen_t };
        0
    }))
}

/// `ioctl`: `FIONBIO` (non-blocking on or off).
///
/// # Safety
///
/// `argp` is a readable `int` for `FIONBIO`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_ioctl(fd: c_int, cmd: i32, argp: *mut c_void) -> c_int {
    if cmd != abi::FIONBIO {
        return -errno::EINVAL;
    }
    if argp.is_null() {
        return -errno::EFAULT;
    }
    // SAFETY: the caller's contract.
    let on = unsafe { argp.cast::<c_int>().read_unaligned() } != 0;
    answer(now(fd, |net, id| {
        net.table.kind(id).map_err(errno_of)?;
        net.options[id.index()].nonblocking = on;
        Ok(0)
    }))
}

/// The `poll` events `readiness` raises among `events`.
fn revents(readiness: Readiness, events: i16) -> i16 {
    let mut revents = 0;
    if readiness.readable {
        revents |= events & (abi::POLLIN | abi::POLLRDNORM);
    }
    if readiness.writable {
        revents |= events & (abi::POLLOUT | abi::POLLWRNORM);
    }
    if readiness.hangup {
        // Always reported, asked for or not.
        revents |= abi::POLLHUP;
    }
    revents
}

/// `poll` of socket descriptors (any other is `POLLNVAL`): waits until
/// one is ready or `timeout` ms pass (negative: no limit).
///
/// # Safety
///
/// `fds` is `nfds` readable and writable entries.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_poll(fds: *mut abi::pollfd, nfds: abi::nfds_t, timeout: i32) -> c_int {
    if fds.is_null() && nfds > 0 {
        return -errno::EFAULT;
    }
    let entries = if nfds == 0 {
        &mut [][..]
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts_mut(fds, nfds) }
    };
    let mut deadline = None;
    let polled = wait_until(|state| {
        let StdState { net, timer, armed_until, .. } = state;
        let mut ready = 0;
        let mut net = net.as_deref_mut();
        if let Some(net) = net.as_deref_mut() {
            net.stack.poll();
        }
        for entry in entries.iter_mut() {
            let readiness = match &mut net {
                Some(net) => net
                    .socket(entry.fd)
                    .ok()
                    .and_then(|id| net.table.readiness(net.stack.sockets(), id).ok()),
                None => None,
            };
            entry.revents = readiness.map_or(abi::POLLNVAL, |r| revents(r, entry.events));
            ready += c_int::from(entry.revents != 0);
        }
        if ready > 0 || timeout == 0 {
            return Step::Done(Ok(ready));
        }
        let Some(net) = net else { return Step::Done(Ok(0)) };
        let now = net.stack.now().total_micros() as u64;
        let due = *deadline.get_or_insert_with(|| {
            u64::try_from(timeout).ok().map(|ms| now.saturating_add(ms * 1_000))
        });
        if due.is_some_and(|due| now >= due) {
            return Step::Done(Ok(0));
        }
        match arm(net, timer, armed_until, now, due) {
            // No Timer session to wait with: nothing became ready.
            Err(errno::ENETDOWN) => Step::Done(Ok(0)),
            armed => wait_armed(armed),
        }
    });
    polled.map_or(-errno::ENOSYS, answer)
}

// ----- host names ------------------------------------------------------------

/// How long a DNS server has to answer a query.
const DNS_TIMEOUT_US: u64 = 2_000_000;
/// How many times each server is asked before a lookup gives up.
const DNS_ATTEMPTS: usize = 2;
/// How long a lookup waits for DHCP to give the interface its address
/// (and its DNS servers) first.
const DNS_ADDRESS_WAIT_US: u64 = 10_000_000;
/// The most addresses one lookup gives.
const MAX_ADDRESSES: usize = 4;
/// QEMU's user network's DNS server (it forwards to the host's resolver).
const QEMU_USER_DNS: [u8; 4] = [10, 0, 2, 3];

/// The name server a program set at run time ([`set_name_server`]): its
/// address and port (0: none). Only the std component's thread uses them.
static RUNTIME_NAME_SERVER: AtomicU32 = AtomicU32::new(0);
static RUNTIME_NAME_SERVER_PORT: AtomicU32 = AtomicU32::new(0);

/// Sends the std component's host name lookups to `server` alone (port 0:
/// 53; none: back to `FERRODE_DNS`, DHCP's or the default ones): for a
/// program that learns its DNS server at run time, as `FERRODE_DNS` names
/// one before.
pub fn set_name_server(server: Option<core::net::SocketAddrV4>) {
    let (address, port) = server.map_or((0, 0), |server| {
        (server.ip().to_bits(), if server.port() == 0 { NameServers::PORT } else { server.port() })
    });
    RUNTIME_NAME_SERVER.store(address, Ordering::Relaxed);
    RUNTIME_NAME_SERVER_PORT.store(u32::from(port), Ordering::Relaxed);
}

/// Where a lookup goes, first match wins: the server a program set
/// ([`set_name_server`]), `FERRODE_DNS`, the servers DHCP named, QEMU's
/// user network's (10.0.2.3) when the interface has its default address.
/// `EAI_FAIL` (with a LOG line) when none is known or `FERRODE_DNS` is
/// wrong.
fn name_servers(net: &Net) -> Result<NameServers, i32> {
    let port = RUNTIME_NAME_SERVER_PORT.load(Ordering::Relaxed) as u16;
    if port != 0 {
        let address = RUNTIME_NAME_SERVER.load(Ordering::Relaxed).to_be_bytes();
        return Ok(NameServers::single(address, port));
    }
    if let Some(value) = super::environment_value(NameServers::VARIABLE) {
        return NameServers::parse(value).map_err(|message| {
            log_line(message);
            abi::EAI_FAIL
        });
    }
    let dhcp = NameServers::of_addresses(net.stack.dhcp_dns_servers().map(|a| a.octets()));
    if !dhcp.is_empty() {
        return Ok(dhcp);
    }
    let address = super::environment_value(Ipv4Setting::ADDRESS);
    let gateway = super::environment_value(Ipv4Setting::GATEWAY);
    if Ipv4Setting::parse(address, gateway) == Ok(Ipv4Setting::Default) {
        return Ok(NameServers::of_addresses([QEMU_USER_DNS]));
    }
    log_line("std: no DNS server to look host names up with (set FERRODE_DNS)");
    Err(abi::EAI_FAIL)
}

/// Why one server gave no addresses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unanswered {
    /// Its answer, final: no such name, or none of IPv4.
    Final(i32),
    /// No answer in time.
    TimedOut,
    /// It failed, refused, or answered nonsense: ask another.
    Failed,
    /// The query could not be sent, or the wait failed (the NIC driver
    /// or the Timer ended).
    Network,
}

/// A random query id, from the seed `sys_read_entropy` answers with.
fn query_id() -> u16 {
    let mut bytes = [0u8; 2];
    // SAFETY: two writable bytes.
    unsafe { super::sys_read_entropy(bytes.as_mut_ptr(), bytes.len(), 0) };
    u16::from_ne_bytes(bytes)
}

/// Waits until the interface has an address (DHCP's comes with its DNS
/// servers), for at most [`DNS_ADDRESS_WAIT_US`]: `EAI_AGAIN` if none
/// came, `EAI_FAIL` if the wait failed.
fn await_address() -> Result<(), i32> {
    let mut deadline = None;
    let addressed = wait_until(|state| {
        let StdState { net, timer, armed_until, .. } = state;
        let Some(net) = net.as_deref_mut() else { return Step::Done(Err(errno::ENETDOWN)) };
        net.stack.poll();
        if net.stack.ipv4_address().is_some() {
            return Step::Done(Ok(true));
        }
        let now = net.stack.now().total_micros() as u64;
        let due = *deadline.get_or_insert(now.saturating_add(DNS_ADDRESS_WAIT_US));
        if now >= due {
            return Step::Done(Ok(false));
        }
        wait_armed(arm(net, timer, armed_until, now, Some(due)))
    });
    match addressed {
        Some(Ok(true)) => Ok(()),
        Some(Ok(false)) => Err(abi::EAI_AGAIN),
        _ => Err(abi::EAI_FAIL),
    }
}

/// Asks `server` once for `name`'s addresses through UDP socket `socket`
/// and waits up to [`DNS_TIMEOUT_US`] for the answer (datagrams from
/// elsewhere, or answers to other queries, are passed over).
fn ask(
    socket: SocketId,
    server: IpEndpoint,
    name: &str,
    out: &mut [Ipv4Address],
) -> Result<usize, Unanswered> {
    let id = query_id();
    let mut query = [0u8; dns::MAX_QUERY];
    let length =
        dns::query(id, name, &mut query).map_err(|_| Unanswered::Final(abi::EAI_NONAME))?;
    let mut answer = [0u8; dns::MAX_ANSWER];
    let (mut sent, mut deadline) = (false, None);
    let answered = wait_until(|state| {
        let StdState { net, timer, armed_until, .. } = state;
        let Some(net) = net.as_deref_mut() else { return Step::Done(Ok(Err(Unanswered::Network))) };
        net.stack.poll();
        if !sent {
            match net.table.send_to(net.stack.sockets(), socket, &query[..length], server) {
                Ok(_) => sent = true,
                Err(SocketError::WouldBlock) => {}
                Err(_) => return Step::Done(Ok(Err(Unanswered::Network))),
            }
            net.stack.poll();
        }
        loop {
            match net.table.recv_from(net.stack.sockets(), socket, &mut answer, false) {
                Ok((count, from)) if from == server => {
                    match dns::answer(id, name, &answer[..count], out) {
                        Ok(count) => return Step::Done(Ok(Ok(count))),
                        Err(DnsError::NotOurs) => {}
                        Err(DnsError::NoSuchName | DnsError::InvalidName) => {
                            return Step::Done(Ok(Err(Unanswered::Final(abi::EAI_NONAME))));
                        }
                        Err(DnsError::NoAddress) => {
                            return Step::Done(Ok(Err(Unanswered::Final(abi::EAI_NODATA))));
                        }
                        Err(DnsError::ServerFailure | DnsError::Malformed) => {
                            return Step::Done(Ok(Err(Unanswered::Failed)));
                        }
                    }
                }
                Ok(_) => {}
                Err(SocketError::WouldBlock) => break,
                Err(_) => return Step::Done(Ok(Err(Unanswered::Network))),
            }
        }
        let now = net.stack.now().total_micros() as u64;
        let due = *deadline.get_or_insert(now.saturating_add(DNS_TIMEOUT_US));
        if now >= due {
            return Step::Done(Ok(Err(Unanswered::TimedOut)));
        }
        match arm(net, timer, armed_until, now, Some(due)) {
            Ok(signal) => Step::Wait(signal),
            Err(_) => Step::Done(Ok(Err(Unanswered::Network))),
        }
    });
    // A wait that failed: the NIC driver or the Timer ended.
    match answered {
        Some(Ok(answer)) => answer,
        _ => Err(Unanswered::Network),
    }
}

/// `name`'s IPv4 addresses from the DNS ([`name_servers`]), each server
/// asked up to [`DNS_ATTEMPTS`] times in turn; how many went into `out`,
/// or the `EAI_*` error: `EAI_NONAME` (no such name), `EAI_NODATA` (no
/// IPv4 address), `EAI_AGAIN` (no server answered), `EAI_FAIL`.
fn resolve(name: &str, out: &mut [Ipv4Address]) -> Result<usize, i32> {
    open().map_err(|_| abi::EAI_FAIL)?;
    await_address()?;
    let opened = with_state(|state| {
        let net = state.net.as_deref_mut().ok_or(abi::EAI_FAIL)?;
        let servers = name_servers(net)?;
        let socket = net.table.open(net.stack.sockets(), Kind::Datagram);
        let socket = socket.map_err(|_| abi::EAI_AGAIN)?;
        if net.table.bind(&mut net.stack, socket, None, 0).is_err() {
            let _ = net.table.close(net.stack.sockets(), socket);
            return Err(abi::EAI_AGAIN);
        }
        Ok((servers, socket))
    });
    let (servers, socket) = opened.unwrap_or(Err(abi::EAI_FAIL))?;
    let mut result = Err(abi::EAI_AGAIN);
    'attempts: for _ in 0..DNS_ATTEMPTS {
        for (address, port) in servers.iter() {
            let [a, b, c, d] = address;
            let server = IpEndpoint::new(IpAddress::v4(a, b, c, d), port);
            match ask(socket, server, name, out) {
                Ok(count) => result = Ok(count),
                Err(Unanswered::Final(error)) => result = Err(error),
                Err(Unanswered::TimedOut | Unanswered::Failed) => continue,
                Err(Unanswered::Network) => {
                    log_line(
                        "std: a DNS lookup stopped: its query could not be sent, or its wait failed",
                    );
                    result = Err(abi::EAI_FAIL);
                }
            }
            break 'attempts;
        }
    }
    with_state(|state| {
        if let Some(net) = state.net.as_deref_mut() {
            let _ = net.table.close(net.stack.sockets(), socket);
        }
    });
    result
}

/// One entry of a `getaddrinfo` list: the `addrinfo` std reads, then the
/// address its `ai_addr` points to.
#[repr(C)]
struct AddressInfo {
    info: abi::addrinfo,
    address: SocketAddress,
}

/// A `sockaddr_in`'s bytes, aligned as one.
#[repr(C, align(4))]
struct SocketAddress([u8; size_of::<abi::sockaddr_in>()]);

/// `getaddrinfo`: the IPv4 addresses of host `nodename` (an address
/// written out, `localhost` and `invalid` and the names under them
/// without a lookup, see [`answer_without_lookup`]; other names from the
/// DNS, see [`resolve`]) with the port of `servname` (a number; none: 0),
/// as a list for [`sys_freeaddrinfo`] to free.
///
/// # Safety
///
/// `nodename` and `servname` are null or C strings, `hints` null or an
/// `addrinfo`, `res` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_getaddrinfo(
    nodename: *const c_char,
    servname: *const c_char,
    hints: *const abi::addrinfo,
    res: *mut *mut abi::addrinfo,
) -> i32 {
    if res.is_null() {
        return abi::EAI_FAIL;
    }
    // SAFETY: the caller's contract.
    let service = (!servname.is_null()).then(|| unsafe { CStr::from_ptr(servname) }.to_bytes());
    // SAFETY: the caller's contract.
    let request = match LookupRequest::new(unsafe { hints.as_ref() }, service) {
        Ok(request) => request,
        Err(error) => return error,
    };
    // No host: std never asks for one (a wildcard or loopback address).
    if nodename.is_null() {
        return abi::EAI_NONAME;
    }
    // SAFETY: the caller's contract.
    let Ok(name) = unsafe { CStr::from_ptr(nodename) }.to_str() else { return abi::EAI_NONAME };
    let mut addresses = [Ipv4Address::UNSPECIFIED; MAX_ADDRESSES];
    let count = match answer_without_lookup(name) {
        Some(LocalAnswer::Address(address)) => {
            addresses[0] = Ipv4Address::from_octets(address);
            1
        }
        Some(LocalAnswer::NoSuchName) => return abi::EAI_NONAME,
        // A name no query can carry is refused before the network is.
        None if dns::query(0, name, &mut [0; dns::MAX_QUERY]).is_err() => {
            return abi::EAI_NONAME;
        }
        None => match resolve(name, &mut addresses) {
            Ok(count) => count,
            Err(error) => return error,
        },
    };
    let mut list: *mut abi::addrinfo = core::ptr::null_mut();
    for address in addresses[..count].iter().rev() {
        let entry = Box::into_raw(Box::new(AddressInfo {
            info: abi::addrinfo {
                ai_flags: 0,
                ai_family: abi::AF_INET,
                ai_socktype: request.socktype,
                ai_protocol: request.protocol,
                ai_addrlen: size_of::<abi::sockaddr_in>() as abi::socklen_t,
                ai_canonname: core::ptr::null_mut(),
                ai_addr: core::ptr::null_mut(),
                ai_next: list,
            },
            address: SocketAddress(sockaddr_of_ipv4(address.octets(), request.port)),
        }));
        // SAFETY: `entry` was just allocated; it points into itself.
        unsafe { (*entry).info.ai_addr = (&raw mut (*entry).address).cast() };
        list = entry.cast();
    }
    // SAFETY: the caller's contract.
    unsafe { *res = list };
    0
}

/// Frees a list [`sys_getaddrinfo`] gave.
///
/// # Safety
///
/// `ai` is null or a list `sys_getaddrinfo` gave, not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_freeaddrinfo(ai: *mut abi::addrinfo) {
    let mut next = ai;
    while !next.is_null() {
        // SAFETY: each entry of such a list is a leaked `Box<AddressInfo>`
        // whose first field (`repr(C)`) is the `addrinfo`.
        let entry = unsafe { Box::from_raw(next.cast::<AddressInfo>()) };
        next = entry.info.ai_next;
    }
}
