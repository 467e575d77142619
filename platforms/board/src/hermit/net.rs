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
//! Not offered: IPv6, host names (`getaddrinfo` finds none: use
//! addresses), `dup` (`TcpStream::try_clone`), `SO_LINGER` other than as a
//! stored value (a close never waits; its connection ends in the
//! background, see [`ferrode_net::sockets::LINGER`]).

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::ffi::{c_int, c_void};

use ferrode_component::Timer;
use ferrode_ipc::CapSel;
use ferrode_net::smoltcp::iface::{SocketHandle, SocketStorage};
use ferrode_net::smoltcp::socket::{tcp, udp};
use ferrode_net::smoltcp::storage::PacketMetadata;
use ferrode_net::smoltcp::time::Duration;
use ferrode_net::smoltcp::wire::{IpAddress, IpEndpoint, Ipv4Address, Ipv4Cidr};
use ferrode_net::sockets::{Kind, Readiness, Shutdown, SocketError, SocketId, Sockets};
use ferrode_net::{Ipv4Config, Stack};
use ferrode_std_abi::abi::{self, errno};
use ferrode_std_abi::{
    Ipv4Setting, ipv4_of_sockaddr, sockaddr_of_ipv4, timeval_of_us, us_of_timeval,
};

use super::{StdState, Step, kernel, log_line, wait_until, with_state};
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
    options: [Options; SOCKETS],
    /// Kept for the session's lifetime (the control side).
    _nic: NicClient,
}

/// What a descriptor's socket options say beyond the table's.
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

fn socket_id(fd: c_int) -> Result<SocketId, i32> {
    let index = usize::try_from(fd - FIRST_SOCKET).map_err(|_| errno::EBADF)?;
    SocketId::new::<SOCKETS>(index).ok_or(errno::EBADF)
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

/// Arms the Timer session for whichever comes first, smoltcp's next
/// timer or `due` (µs on the stack's clock, now `now`), and says to wait
/// on its signal (which the NIC session raises too).
fn arm<T>(
    net: &mut Net,
    (timer, signal): &mut (ferrode_ipc::Client<dyn Timer, kernel::Transport>, CapSel),
    now: u64,
    due: Option<u64>,
) -> Step<T> {
    let next = net.stack.poll_delay().map(|delay| delay.total_micros());
    if let Some(us) = [next, due.map(|due| due - now)].into_iter().flatten().min()
        && timer.trigger(us.max(1), false).is_err()
    {
        return Step::Done(Err(errno::EIO));
    }
    Step::Wait(*signal)
}

/// Runs `op` on socket `fd` until it no longer answers `WouldBlock` (a
/// first `InProgress` counts as one), polling the stack around it and
/// sleeping on the component's signal in between (see the module's docs).
fn blocking<T>(
    fd: c_int,
    limit: Limit,
    mut op: impl FnMut(&mut Net, SocketId) -> Result<T, SocketError>,
) -> Result<T, i32> {
    let id = socket_id(fd)?;
    // Set at the first wait: when the call's timeout runs out.
    let mut deadline: Option<Option<u64>> = None;
    wait_until(|state| {
        let StdState { net, timer, .. } = state;
        let Some(net) = net.as_deref_mut() else { return Step::Done(Err(errno::EBADF)) };
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
        match timer.as_mut() {
            Some(timer) => arm(net, timer, now, due),
            None => Step::Done(Err(errno::ENETDOWN)),
        }
    })
    .unwrap_or(Err(errno::EBADF))
}

/// Runs `op` on the network once, polling the stack before.
fn now<T>(fd: c_int, op: impl FnOnce(&mut Net, SocketId) -> Result<T, i32>) -> Result<T, i32> {
    let id = socket_id(fd)?;
    with_state(|state| {
        let net = state.net.as_deref_mut().ok_or(errno::EBADF)?;
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
        let StdState { net, timer, .. } = state;
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
        match timer.as_mut() {
            Some(timer) => arm(net, timer, now, Some(due)),
            None => Step::Done(Err(errno::ENETDOWN)),
        }
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
            let id = net.table.open(net.stack.sockets(), kind).map_err(errno_of)?;
            net.options[id.index()] = Options { nonblocking, ..Options::default() };
            Ok(FIRST_SOCKET + id.index() as c_int)
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
        let (new, peer) = net.table.accept(net.stack.sockets(), id)?;
        net.options[new.index()] = Options::default();
        Ok((new, peer))
    });
    answer(accepted.map(|(new, peer)| {
        // SAFETY: the caller's contract.
        unsafe { write_endpoint(addr, len, peer) };
        FIRST_SOCKET + new.index() as c_int
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

/// `close` of a socket: its connection ends in the background.
pub(super) fn close(fd: c_int) -> c_int {
    answer(now(fd, |net, id| {
        net.table.close(net.stack.sockets(), id).map_err(errno_of)?;
        net.options[id.index()] = Options::default();
        // The FIN goes out now.
        net.stack.poll();
        Ok(0)
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
        let StdState { net, timer, .. } = state;
        let mut ready = 0;
        let mut net = net.as_deref_mut();
        if let Some(net) = net.as_deref_mut() {
            net.stack.poll();
        }
        for entry in entries.iter_mut() {
            let readiness = match (&mut net, socket_id(entry.fd)) {
                (Some(net), Ok(id)) => net.table.readiness(net.stack.sockets(), id).ok(),
                _ => None,
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
        match timer.as_mut() {
            Some(timer) => arm(net, timer, now, due),
            None => Step::Done(Ok(0)),
        }
    });
    polled.map_or(-errno::ENOSYS, answer)
}
