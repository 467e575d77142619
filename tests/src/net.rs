//! Host-side network clients for QEMU tests and benchmarks: TCP and UDP
//! echo clients, floods and garbage, and the echo-net control protocol.
//!
//! Board-independent: everything takes the host port that QEMU's user
//! network forwards to the guest (`hostfwd=...127.0.0.1:PORT-:GUEST`).

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use crate::boards::{Board, RunOptions};
use crate::harness::{self, Running};

/// The guest's echo port.
pub const ECHO_PORT: u16 = 7;
/// The guest's control port (echo-net: `stats`, `quit`).
pub const CONTROL_PORT: u16 = 8;

/// The apps that serve TCP echo on [`ECHO_PORT`] (their code listens on
/// `ferrode_net::echo::PORT`, or with std's `TcpListener` on port 7), each
/// with the console line that says it listens: echo-net and echo-net-gdb
/// (and echo-net-axi, echo-net over the MicroBlaze V's AXI Ethernet)
/// log through their LOG session (under the component's name), the
/// direct-driver baseline prints it itself, net-std prints it from std
/// (its component is `app`). Their second command-line word is `bench`
/// (net-std's mode for [`crate::measure::net_echo`]; the others take no
/// arguments).
pub const TCP_ECHO_APPS: [(&str, &str); 5] = [
    ("echo-net", "[echo_net] listening on"),
    ("echo-net-axi", "[echo_net] listening on"),
    ("echo-net-direct", "echo-net: listening on"),
    ("echo-net-gdb", "[echo_net] listening on"),
    ("net-std", "[app] listening on"),
];

/// The line `app` prints once it serves TCP echo on [`ECHO_PORT`], or
/// `None` for an app that does not ([`TCP_ECHO_APPS`]).
pub fn echo_ready_line(app: &str) -> Option<&'static str> {
    TCP_ECHO_APPS.iter().find(|(name, _)| *name == app).map(|(_, ready)| *ready)
}

/// The names of [`TCP_ECHO_APPS`], for messages: `echo-net, ...`.
pub fn tcp_echo_app_names() -> String {
    TCP_ECHO_APPS.map(|(name, _)| name).join(", ")
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// A host port that is free for both TCP and UDP right now (bound to port
/// 0 and released; QEMU binds it moments later). Another process may take
/// it in between: [`boot_forwarded`] notices and tries other ports.
pub fn free_port() -> io::Result<u16> {
    for _ in 0..50 {
        let tcp = TcpListener::bind(local(0))?;
        let port = tcp.local_addr()?.port();
        if UdpSocket::bind(local(port)).is_ok() {
            return Ok(port);
        }
    }
    Err(io::Error::new(io::ErrorKind::AddrInUse, "no port free for both TCP and UDP"))
}

/// Boots `image` with each of `guest_ports` forwarded (TCP and UDP) from a
/// free host port, and waits up to `wait` (nominal) for `ready` on the
/// console; returns QEMU and the host ports in the order of `guest_ports`.
///
/// A port found free may be taken by another process before QEMU binds it;
/// QEMU then exits at once, naming the forwarding rule it could not set up.
/// That is tried again with new ports, up to 5 times, so two test runs on
/// one machine cannot fail each other. Errors carry the console.
pub fn boot_forwarded(
    board: &Board,
    image: &Path,
    options: &RunOptions,
    guest_ports: &[u16],
    ready: &str,
    wait: Duration,
) -> Result<(Running, Vec<u16>), (String, String)> {
    let spawn = |options: &RunOptions| {
        harness::spawn(board.qemu, &board.qemu_args(image, options)).map(|running| (running, ()))
    };
    boot_forwarded_with(guest_ports, options, ready, wait, spawn)
        .map(|(running, (), ports)| (running, ports))
}

/// [`boot_forwarded`] with QEMU started by `spawn`, given the options with
/// the forwards added, for a caller that starts it otherwise (e.g. with
/// its exec log read by a thread of its own, [`crate::profile`]); what
/// `spawn` returns besides QEMU comes back with the successful attempt's
/// QEMU (a failed attempt's is dropped).
pub fn boot_forwarded_with<T>(
    guest_ports: &[u16],
    options: &RunOptions,
    ready: &str,
    wait: Duration,
    mut spawn: impl FnMut(&RunOptions) -> io::Result<(Running, T)>,
) -> Result<(Running, T, Vec<u16>), (String, String)> {
    let mut last = (String::new(), String::new());
    for _ in 0..5 {
        let mut ports: Vec<u16> = Vec::new();
        while ports.len() < guest_ports.len() {
            let port =
                free_port().map_err(|e| (format!("no free host port: {e}"), String::new()))?;
            if !ports.contains(&port) {
                ports.push(port);
            }
        }
        let mut options = options.clone();
        for (host, guest) in ports.iter().zip(guest_ports) {
            options.tcp_forwards.push((*host, *guest));
            options.udp_forwards.push((*host, *guest));
        }
        let (running, extra) = spawn(&options).map_err(|e| (e.to_string(), String::new()))?;
        if running.wait_for(ready, wait) {
            return Ok((running, extra, ports));
        }
        let console = running.report();
        if !(running.has_ended() && console.contains("forwarding rule")) {
            return Err((format!("no {ready:?} line"), console));
        }
        last = ("could not forward host ports to the guest (5 tries)".to_string(), console);
    }
    Err(last)
}

/// A small deterministic random generator (xorshift64*), so that failures
/// can be reproduced from the seed.
pub struct Random(u64);

impl Random {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `range` (inclusive).
    pub fn between(&mut self, low: usize, high: usize) -> usize {
        low + (self.next_u64() % (high - low + 1) as u64) as usize
    }

    /// `length` random bytes.
    pub fn bytes(&mut self, length: usize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(length + 8);
        while bytes.len() < length {
            bytes.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        bytes.truncate(length);
        bytes
    }
}

/// Connects to the forwarded TCP `port`, sends `data` while reading the
/// echo, and returns what came back once `data.len()` bytes arrived (or
/// the peer closed, or `timeout` passed).
pub fn tcp_echo(port: u16, data: &[u8], timeout: Duration) -> io::Result<Vec<u8>> {
    let stream = TcpStream::connect_timeout(&local(port), timeout)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut writer = stream.try_clone()?;
    let data_for_writer = data.to_vec();
    let sender = thread::spawn(move || writer.write_all(&data_for_writer));
    let mut received = Vec::with_capacity(data.len());
    let mut reader = &stream;
    let mut chunk = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + timeout;
    while received.len() < data.len() && Instant::now() < deadline {
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(count) => received.extend_from_slice(&chunk[..count]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    sender.join().map_err(|_| io::Error::other("writer thread panicked"))??;
    Ok(received)
}

/// True for errors after which a real client would simply connect again:
/// the connection was refused, reset or aborted, or could not be set up in
/// time (QEMU's user network resets a forwarded connection when the guest
/// has no free listening socket, e.g. while it still drains earlier ones).
pub fn is_reconnectable(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// [`tcp_echo`], connecting again (with the same data, on a new connection)
/// after a refused or reset connection, or one closed before anything was
/// echoed, up to `attempts` times in all and within `timeout`. Only a
/// complete echo on one connection counts.
pub fn tcp_echo_reconnecting(
    port: u16,
    data: &[u8],
    timeout: Duration,
    attempts: u32,
) -> io::Result<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    let mut attempt = 1;
    loop {
        let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_secs(1));
        let result = tcp_echo(port, data, left);
        // A connection closed before a single byte came back is one the
        // guest never took: QEMU's user network accepts on the host side and
        // closes when the guest refuses (no free listening socket).
        let again = match &result {
            Err(error) => is_reconnectable(error),
            Ok(echoed) => echoed.is_empty() && !data.is_empty(),
        };
        if !(again && attempt < attempts && Instant::now() < deadline) {
            return result;
        }
        attempt += 1;
        thread::sleep(Duration::from_millis(200));
    }
}

/// Runs `clients` TCP echo clients at once, each with `bytes` random bytes
/// (seeded from `seed` and its index); checks every byte came back.
pub fn tcp_echo_concurrently(
    port: u16,
    clients: usize,
    bytes: usize,
    seed: u64,
    timeout: Duration,
) -> Result<(), String> {
    tcp_echo_concurrently_reconnecting(port, clients, bytes, seed, timeout, 1)
}

/// [`tcp_echo_concurrently`] whose clients connect again after a refused or
/// reset connection (up to `attempts` connections each, see
/// [`tcp_echo_reconnecting`]); each must still get its data back whole.
/// `timeout` is nominal (scaled by [`harness::time_scale`]).
pub fn tcp_echo_concurrently_reconnecting(
    port: u16,
    clients: usize,
    bytes: usize,
    seed: u64,
    timeout: Duration,
    attempts: u32,
) -> Result<(), String> {
    let timeout = harness::scaled(timeout);
    let workers: Vec<_> = (0..clients)
        .map(|index| {
            let data = Random::new(seed + index as u64).bytes(bytes);
            thread::spawn(move || {
                let echoed = tcp_echo_reconnecting(port, &data, timeout, attempts)
                    .map_err(|e| format!("client {index}: {e}"))?;
                check_echo(&data, &echoed).map_err(|e| format!("client {index}: {e}"))
            })
        })
        .collect();
    let mut errors = Vec::new();
    for worker in workers {
        match worker.join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => errors.push(error),
            Err(_) => errors.push("client thread panicked".into()),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
}

/// Ok if `echoed` equals `sent`, else where they first differ.
pub fn check_echo(sent: &[u8], echoed: &[u8]) -> Result<(), String> {
    if let Some(at) = sent.iter().zip(echoed).position(|(a, b)| a != b) {
        return Err(format!("echo differs at byte {at} of {}", sent.len()));
    }
    if echoed.len() != sent.len() {
        return Err(format!("echoed {} of {} bytes", echoed.len(), sent.len()));
    }
    Ok(())
}

/// A UDP socket on an ephemeral port, talking to the forwarded `port`.
pub fn udp_client(port: u16, timeout: Duration) -> io::Result<UdpSocket> {
    let socket = UdpSocket::bind(local(0))?;
    socket.connect(local(port))?;
    socket.set_read_timeout(Some(timeout))?;
    Ok(socket)
}

/// Sends `payload` and waits for one datagram back, retrying (UDP may be
/// lost) up to `attempts` times.
pub fn udp_request(socket: &UdpSocket, payload: &[u8], attempts: u32) -> io::Result<Vec<u8>> {
    let mut buffer = vec![0u8; 65536];
    let mut last_error = io::Error::new(io::ErrorKind::TimedOut, "no attempt made");
    for _ in 0..attempts {
        socket.send(payload)?;
        match socket.recv(&mut buffer) {
            Ok(count) => return Ok(buffer[..count].to_vec()),
            Err(error) => last_error = error,
        }
    }
    Err(last_error)
}

/// What a UDP echo exchange took, for comparing with the guest's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UdpExchange {
    /// Payloads whose echo came back intact.
    pub echoed: u64,
    /// Datagrams sent, retries included.
    pub sent: u64,
    /// Datagrams received, late replies to retried datagrams included.
    pub replies: u64,
}

/// Attempts per datagram before [`udp_echo_lengths`] gives up on it.
pub const UDP_ATTEMPTS: u32 = 10;

/// How long [`udp_echo_lengths`] waits for a datagram's echo before it
/// sends the datagram again (nominal, scaled by [`harness::time_scale`]).
///
/// The echo comes back within milliseconds, but a host that deschedules
/// QEMU for a moment delays it by as long, and a datagram sent again
/// while the first copy still waits is not a harmless duplicate: on the
/// MicroBlaze V, QEMU's EthernetLite model has one receive buffer and
/// drops the copy that arrives behind the first, so the guest echoes one
/// datagram fewer than the client sent, which the UDP case rightly reads
/// as a lost datagram. Stopping QEMU for 400 ms every second (SIGSTOP,
/// as a loaded host does) failed that case so with the 250 ms this wait
/// used to be. A retry is for a datagram or echo that was lost, and a
/// lost one fails the case's counts whatever the wait, so waiting long
/// costs only time, and only when something is wrong.
pub const UDP_REPLY_WAIT: Duration = Duration::from_secs(2);

/// Echoes one datagram of every length in `lengths` and checks each reply.
/// A datagram without a reply within [`UDP_REPLY_WAIT`] (scaled by
/// [`harness::time_scale`]) is sent again, at most
/// [`UDP_ATTEMPTS`] times; a reply of another length (a late echo of an
/// earlier retried datagram) is counted and skipped. Every loop is bounded,
/// and once all echoes are in, the client waits (as long again at most)
/// for the late replies to datagrams it sent more than once, so that
/// `sent` and `replies` can be compared with the guest's counters.
pub fn udp_echo_lengths(
    port: u16,
    lengths: impl IntoIterator<Item = usize>,
    seed: u64,
) -> Result<UdpExchange, String> {
    udp_echo_lengths_waiting(port, lengths, seed, harness::scaled(UDP_REPLY_WAIT))
}

/// [`udp_echo_lengths`] with `wait` (not scaled) for each reply.
fn udp_echo_lengths_waiting(
    port: u16,
    lengths: impl IntoIterator<Item = usize>,
    seed: u64,
    wait: Duration,
) -> Result<UdpExchange, String> {
    let socket = udp_client(port, wait).map_err(|e| e.to_string())?;
    let mut random = Random::new(seed);
    let mut exchange = UdpExchange::default();
    let mut buffer = vec![0u8; 65536];
    for length in lengths {
        let payload = random.bytes(length);
        let mut echoed = false;
        for _ in 0..UDP_ATTEMPTS {
            socket.send(&payload).map_err(|e| format!("{length}-byte datagram: {e}"))?;
            exchange.sent += 1;
            // Each datagram sent brings at most one reply: reading more
            // than were sent can only be a misbehaving peer.
            while exchange.replies < exchange.sent {
                match socket.recv(&mut buffer) {
                    Ok(count) => {
                        exchange.replies += 1;
                        if count == payload.len() {
                            check_echo(&payload, &buffer[..count])
                                .map_err(|e| format!("{length}-byte datagram: {e}"))?;
                            echoed = true;
                            break;
                        }
                    }
                    Err(error)
                        if matches!(
                            error.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                    {
                        break;
                    }
                    Err(error) => return Err(format!("{length}-byte datagram: {error}")),
                }
            }
            if echoed {
                break;
            }
        }
        if !echoed {
            return Err(format!(
                "{length}-byte datagram: no echo after {UDP_ATTEMPTS} attempts ({exchange:?})"
            ));
        }
        exchange.echoed += 1;
    }
    // Late replies to datagrams sent more than once, for `wait` at most.
    let deadline = Instant::now() + wait;
    while exchange.replies < exchange.sent {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        socket.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
        if socket.recv(&mut buffer).is_err() {
            break;
        }
        exchange.replies += 1;
    }
    Ok(exchange)
}

/// Fires `count` datagrams of random sizes (0..=1472 bytes) and contents at
/// `port` as fast as the host sends them, reading nothing back.
pub fn udp_flood(port: u16, count: usize, seed: u64) -> io::Result<()> {
    let socket = UdpSocket::bind(local(0))?;
    socket.connect(local(port))?;
    let mut random = Random::new(seed);
    for _ in 0..count {
        let length = random.between(0, 1472);
        // The host may refuse momentarily (buffers full): losses are the point.
        let datagram = random.bytes(length);
        let _ = socket.send(&datagram);
    }
    Ok(())
}

/// Opens `count` TCP connections, writes random garbage into each and
/// drops it without reading, some before and some after the echo starts.
/// Like a real client, it connects again when a connection is refused,
/// reset or slow to be accepted (QEMU's user network may be busy with a
/// flood, the guest's sockets with earlier garbage), for up to 30 s each.
pub fn tcp_garbage(port: u16, count: usize, seed: u64) -> io::Result<()> {
    let mut random = Random::new(seed);
    for index in 0..count {
        let mut stream = connect_patiently(port, Duration::from_secs(30)).map_err(|error| {
            io::Error::new(error.kind(), format!("connection {index}: {error}"))
        })?;
        let length = random.between(1, 20_000);
        let garbage = random.bytes(length);
        let _ = stream.write_all(&garbage);
        if index % 2 == 0 {
            // Linger a little so the guest starts echoing into a closing peer.
            thread::sleep(Duration::from_millis(20));
        }
        drop(stream);
    }
    Ok(())
}

/// Connects to `port`, trying again after a refused, reset or timed-out
/// attempt until the nominal `patience` has passed.
fn connect_patiently(port: u16, patience: Duration) -> io::Result<TcpStream> {
    let deadline = Instant::now() + harness::scaled(patience);
    loop {
        match TcpStream::connect_timeout(&local(port), Duration::from_secs(5)) {
            Err(error)
                if (is_reconnectable(&error) || error.kind() == io::ErrorKind::TimedOut)
                    && Instant::now() < deadline =>
            {
                thread::sleep(Duration::from_millis(200));
            }
            result => return result,
        }
    }
}

/// Sends a control command and returns the reply line, sending it again
/// after `timeout` without a reply (five attempts in all).
pub fn control(port: u16, command: &str, timeout: Duration) -> io::Result<String> {
    let socket = udp_client(port, timeout)?;
    let reply = udp_request(&socket, command.as_bytes(), 5)?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

/// Sends a control command that has no reply (e.g. `quit`).
pub fn control_no_reply(port: u16, command: &str) -> io::Result<()> {
    let socket = udp_client(port, Duration::from_millis(100))?;
    socket.send(command.as_bytes()).map(|_| ())
}

/// Sends a control command that has no reply (`quit`, or one whose effect
/// shows on the console) until `running`'s console shows `effect` or the
/// image ends, once a second, at most `attempts` times: UDP is not resent,
/// and MicroBlaze V's EthernetLite under QEMU may drop a datagram. Whether
/// the effect came is the caller's to check.
pub fn control_until(
    port: u16,
    command: &str,
    running: &Running,
    effect: &str,
    attempts: u32,
) -> io::Result<()> {
    for _ in 0..attempts {
        control_no_reply(port, command)?;
        if running.wait_for(effect, Duration::from_secs(1)) || running.has_ended() {
            break;
        }
    }
    Ok(())
}

/// Parses a `key=value key=value` stats line.
pub fn parse_stats(line: &str) -> BTreeMap<String, u64> {
    line.split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .filter_map(|(key, value)| Some((key.to_string(), value.parse().ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A UDP echo of the test's making on a local port, which it returns:
    /// `answer` gets the socket, the datagram's number (from 1), the
    /// datagram and its sender, and replies (or not) as it likes.
    fn fake_udp_echo(
        mut answer: impl FnMut(&UdpSocket, usize, &[u8], std::net::SocketAddr) + Send + 'static,
    ) -> u16 {
        let udp = UdpSocket::bind(local(0)).unwrap();
        let port = udp.local_addr().unwrap().port();
        thread::spawn(move || {
            let mut buffer = [0u8; 2048];
            let mut index = 0;
            while let Ok((count, from)) = udp.recv_from(&mut buffer) {
                index += 1;
                answer(&udp, index, &buffer[..count], from);
            }
        });
        port
    }

    #[test]
    fn a_port_taken_before_qemu_binds_it_is_tried_again() {
        // A stand-in emulator that fails like QEMU on a taken port the
        // first time, and boots the second.
        let dir = std::env::temp_dir().join(format!("ferrode-fake-qemu-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("qemu");
        let tries = dir.join("tries");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho x >> {tries}\nif [ $(wc -l < {tries}) -eq 1 ]; then\n  echo \"qemu: Could not set up host forwarding rule 'tcp:127.0.0.1:1-:7'\" >&2; exit 1\nfi\necho \"$@\"; echo ready; sleep 30\n",
                tries = tries.display()
            ),
        )
        .unwrap();
        std::process::Command::new("chmod").arg("+x").arg(&script).status().unwrap();
        let qemu: &'static str = Box::leak(script.display().to_string().into_boxed_str());
        let board = Board { qemu, ..*crate::boards::find("realview-pbx-a9").unwrap() };
        let (running, ports) = boot_forwarded(
            &board,
            Path::new("image"),
            &RunOptions::default(),
            &[7, 8],
            "ready",
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(ports.len(), 2);
        assert_ne!(ports[0], ports[1]);
        assert!(
            running.console().contains(&format!("hostfwd=tcp:127.0.0.1:{}-:7", ports[0])),
            "{}",
            running.console()
        );
        assert_eq!(std::fs::read_to_string(&tries).unwrap().lines().count(), 2);
        drop(running);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn echo_apps_have_their_listening_lines() {
        assert_eq!(echo_ready_line("echo-net"), Some("[echo_net] listening on"));
        assert_eq!(echo_ready_line("echo-net-direct"), Some("echo-net: listening on"));
        assert_eq!(echo_ready_line("echo-net-gdb"), Some("[echo_net] listening on"));
        assert_eq!(echo_ready_line("hello"), None);
        assert_eq!(echo_ready_line("echo-net-"), None);
        assert_eq!(
            tcp_echo_app_names(),
            "echo-net, echo-net-axi, echo-net-direct, echo-net-gdb, net-std"
        );
    }

    #[test]
    fn random_is_deterministic_and_ranged() {
        assert_eq!(Random::new(7).bytes(100), Random::new(7).bytes(100));
        assert_ne!(Random::new(7).bytes(100), Random::new(8).bytes(100));
        let mut random = Random::new(1);
        assert!((0..1000).map(|_| random.between(3, 9)).all(|n| (3..=9).contains(&n)));
    }

    #[test]
    fn stats_lines_parse_into_numbers() {
        let stats = parse_stats("instructions=12 virtual_ns=34 junk runt=0");
        assert_eq!(stats["instructions"], 12);
        assert_eq!(stats["runt"], 0);
        assert_eq!(stats.len(), 3);
    }

    #[test]
    fn echo_check_reports_the_first_difference() {
        assert!(check_echo(b"abc", b"abc").is_ok());
        assert_eq!(check_echo(b"abc", b"abd").unwrap_err(), "echo differs at byte 2 of 3");
        assert_eq!(check_echo(b"abc", b"ab").unwrap_err(), "echoed 2 of 3 bytes");
    }

    #[test]
    fn a_reset_connection_is_retried_only_when_asked_to() {
        let listener = TcpListener::bind(local(0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        thread::spawn(move || {
            for (index, stream) in listener.incoming().flatten().enumerate() {
                if index % 2 == 0 {
                    // Closing with unread data makes the host send a reset.
                    thread::sleep(Duration::from_millis(100));
                    drop(stream);
                    continue;
                }
                thread::spawn(move || {
                    let mut reader = stream.try_clone().unwrap();
                    let mut writer = stream;
                    let _ = io::copy(&mut reader, &mut writer);
                });
            }
        });
        let data = Random::new(5).bytes(50_000);
        let error = tcp_echo(port, &data, Duration::from_secs(5)).unwrap_err();
        assert!(is_reconnectable(&error), "{error}");
        let echoed = tcp_echo_reconnecting(port, &data, Duration::from_secs(5), 2).unwrap();
        assert_eq!(echoed, data);
    }

    #[test]
    fn clients_work_against_a_host_echo_server() {
        let listener = TcpListener::bind(local(0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                thread::spawn(move || {
                    let mut reader = stream.try_clone().unwrap();
                    let mut writer = stream;
                    let _ = io::copy(&mut reader, &mut writer);
                });
            }
        });
        tcp_echo_concurrently(port, 4, 100_000, 1, Duration::from_secs(10)).unwrap();
        let udp_port = fake_udp_echo(|udp, _, datagram, from| {
            let _ = udp.send_to(datagram, from);
        });
        assert_eq!(
            udp_echo_lengths(udp_port, [1, 700, 1400], 3),
            Ok(UdpExchange { echoed: 3, sent: 3, replies: 3 })
        );
    }

    #[test]
    fn a_stalled_echo_is_waited_for_not_flooded_with_copies() {
        // Answers the fifth datagram 600 ms late, as a guest whose QEMU the
        // host descheduled, and drops what arrives meanwhile, as the
        // MicroBlaze V's EthernetLite drops a frame behind a full buffer:
        // a copy sent while the echo is late would be lost.
        let udp_port = fake_udp_echo(|udp, index, datagram, from| {
            if index == 5 {
                thread::sleep(Duration::from_millis(600));
                udp.set_nonblocking(true).unwrap();
                let mut dropped = [0u8; 2048];
                while udp.recv_from(&mut dropped).is_ok() {}
                udp.set_nonblocking(false).unwrap();
            }
            let _ = udp.send_to(datagram, from);
        });
        assert_eq!(
            udp_echo_lengths(udp_port, 1..=8, 4),
            Ok(UdpExchange { echoed: 8, sent: 8, replies: 8 })
        );
    }

    #[test]
    fn a_lossy_udp_echo_is_retried_a_bounded_number_of_times_and_counted() {
        // Drops every third datagram, and answers a 5-byte one with junk of
        // another length: the client must give up, not spin.
        let udp_port = fake_udp_echo(|udp, index, datagram, from| {
            if datagram.len() == 5 {
                let _ = udp.send_to(b"bad", from).and_then(|_| udp.send_to(&datagram[..4], from));
            } else if index % 3 != 0 {
                let _ = udp.send_to(datagram, from);
            }
        });
        let wait = Duration::from_millis(250);
        let exchange = udp_echo_lengths_waiting(udp_port, 1..=4, 9, wait).unwrap();
        assert_eq!(exchange.echoed, 4);
        assert!(exchange.sent > 4 && exchange.replies < exchange.sent, "{exchange:?}");
        let error = udp_echo_lengths_waiting(udp_port, [5], 9, wait).unwrap_err();
        assert!(error.contains("no echo after 10 attempts"), "{error}");
    }
}
