//! Two stacks wired back to back through in-memory Ethernet devices: the
//! echo service on one, clients on the other.

use std::boxed::Box;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::vec;
use std::vec::Vec;

use ferrode_hal::{EthernetDevice, FrameCounters, Monotonic};
use smoltcp::iface::{SocketHandle, SocketStorage};
use smoltcp::socket::{tcp, udp};
use smoltcp::storage::PacketMetadata;
use smoltcp::wire::{IpAddress, IpEndpoint, Ipv4Address, Ipv4Cidr};

use ferrode_packet_stream::{Descriptor, NoNotify, PacketStream, Sink, Source, ToSink, ToSource};

use crate::echo::{self, Echo, EchoBuffers};
use crate::{Ipv4Config, Phy, Stack, StreamPhy};

type Wire = Rc<RefCell<VecDeque<Vec<u8>>>>;

/// One end of a cable: transmits into `outgoing`, receives from `incoming`.
pub(crate) struct WireEnd {
    mac: [u8; 6],
    outgoing: Wire,
    incoming: Wire,
    counters: FrameCounters,
    /// Refuse every transmission (a NIC whose FIFO is stuck full).
    refuse_transmit: bool,
    /// Transmissions refused so far.
    refused: u32,
    /// Fail every reception (a NIC that reports a receive error).
    fail_receive: bool,
}

impl EthernetDevice for WireEnd {
    type Error = &'static str;

    fn mac_address(&self) -> [u8; 6] {
        self.mac
    }
    fn link_up(&mut self) -> bool {
        true
    }
    fn can_transmit(&mut self) -> bool {
        true
    }
    fn transmit(&mut self, frame: &[u8]) -> Result<(), Self::Error> {
        if self.refuse_transmit {
            self.refused += 1;
            return Err("fifo full");
        }
        self.counters.tx_frames += 1;
        self.outgoing.borrow_mut().push_back(frame.to_vec());
        Ok(())
    }
    fn receive(&mut self, buffer: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        if self.fail_receive {
            return Err("receive error");
        }
        let Some(frame) = self.incoming.borrow_mut().pop_front() else { return Ok(None) };
        buffer[..frame.len()].copy_from_slice(&frame);
        self.counters.rx_frames += 1;
        Ok(Some(frame.len()))
    }
    fn counters(&self) -> FrameCounters {
        self.counters
    }
}

/// A clock that the test advances; shared by both stacks.
#[derive(Clone)]
pub(crate) struct TestClock(pub(crate) Rc<Cell<u64>>);

impl Monotonic for TestClock {
    fn tick_hz(&self) -> u64 {
        1_000_000
    }
    fn now(&mut self) -> u64 {
        self.0.get()
    }
}

pub(crate) fn cable() -> (WireEnd, WireEnd) {
    let a_to_b = Wire::default();
    let b_to_a = Wire::default();
    let a = WireEnd {
        mac: [0x02, 0, 0, 0, 0, 0x0a],
        outgoing: a_to_b.clone(),
        incoming: b_to_a.clone(),
        counters: FrameCounters::default(),
        refuse_transmit: false,
        refused: 0,
        fail_receive: false,
    };
    let b = WireEnd {
        mac: [0x02, 0, 0, 0, 0, 0x0b],
        outgoing: b_to_a,
        incoming: a_to_b,
        counters: FrameCounters::default(),
        refuse_transmit: false,
        refused: 0,
        fail_receive: false,
    };
    (a, b)
}

pub(crate) fn leak<T>(value: T) -> &'static mut T {
    Box::leak(Box::new(value))
}

pub(crate) const CLIENT_IP: Ipv4Config =
    Ipv4Config::Static { address: Ipv4Cidr::new(Ipv4Address::new(10, 0, 2, 2), 24), gateway: None };
const SERVER: IpEndpoint =
    IpEndpoint { addr: IpAddress::Ipv4(Ipv4Address::new(10, 0, 2, 15)), port: echo::PORT };

struct Network<S = Phy<WireEnd>> {
    server: Stack<'static, S, TestClock>,
    echo: Echo,
    client: Stack<'static, Phy<WireEnd>, TestClock>,
    clock: TestClock,
    /// The NIC driver between the server's streams and the cable, if the
    /// server is on packet streams.
    driver: Option<StreamDriver>,
}

impl Network {
    fn new() -> Self {
        let (server_end, client_end) = cable();
        Self::with_server(Phy::new(server_end), client_end, None)
    }
}

impl Network<ServerStreams> {
    /// The server on a NIC session's two packet streams, a driver moving
    /// frames between them and the cable.
    fn on_streams() -> Self {
        let (server_end, client_end) = cable();
        let (phy, driver) = streams(server_end);
        Self::with_server(phy, client_end, Some(driver))
    }
}

impl<S: crate::NetDevice> Network<S> {
    fn with_server(server: S, client_end: WireEnd, driver: Option<StreamDriver>) -> Self {
        let clock = TestClock(Rc::new(Cell::new(1_000)));
        let storage = leak([const { SocketStorage::EMPTY }; echo::TCP_SOCKETS + 1]);
        let mut server = Stack::new(server, clock.clone(), Ipv4Config::QEMU_USER, storage);
        let echo = Echo::new(server.sockets(), leak(EchoBuffers::new()), echo::PORT);
        let client_storage = leak([const { SocketStorage::EMPTY }; 16]);
        let client = Stack::new(Phy::new(client_end), clock.clone(), CLIENT_IP, client_storage);
        Self { server, echo, client, clock, driver }
    }

    /// Polls both ends (and the driver), advancing time by 1 ms per round.
    fn run(&mut self, rounds: usize) {
        for _ in 0..rounds {
            self.clock.0.set(self.clock.0.get() + 1_000);
            self.client.poll();
            if let Some(driver) = &mut self.driver {
                driver.serve();
            }
            self.server.poll();
            if let Some(driver) = &mut self.driver {
                driver.serve();
            }
            self.echo.serve(self.server.sockets());
        }
    }

    fn tcp_client(&mut self, local_port: u16) -> SocketHandle {
        let socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; 16 * 1024].leak()),
            tcp::SocketBuffer::new(vec![0; 16 * 1024].leak()),
        );
        let handle = self.client.sockets().add(socket);
        self.connect(handle, local_port);
        handle
    }

    fn connect(&mut self, handle: SocketHandle, local_port: u16) {
        let (interface, sockets) = self.client.interface_and_sockets();
        sockets
            .get_mut::<tcp::Socket<'_>>(handle)
            .connect(interface.context(), SERVER, local_port)
            .expect("connect");
    }
}

pub(crate) fn pattern(length: usize, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

/// Sends `data` on every client socket at once and collects the echoes.
fn echo_concurrently<S: crate::NetDevice>(
    network: &mut Network<S>,
    handles: &[SocketHandle],
    data: &[Vec<u8>],
) -> Vec<Vec<u8>> {
    let mut sent = vec![0; handles.len()];
    let mut received: Vec<Vec<u8>> = vec![Vec::new(); handles.len()];
    for _ in 0..20_000 {
        for (index, &handle) in handles.iter().enumerate() {
            let socket = network.client.sockets().get_mut::<tcp::Socket<'_>>(handle);
            if socket.can_send() && sent[index] < data[index].len() {
                sent[index] += socket.send_slice(&data[index][sent[index]..]).unwrap();
            }
            if socket.can_recv() {
                let mut chunk = [0u8; 4096];
                let count = socket.recv_slice(&mut chunk).unwrap();
                received[index].extend_from_slice(&chunk[..count]);
            }
        }
        network.run(1);
        if received.iter().zip(data).all(|(got, want)| got.len() >= want.len()) {
            break;
        }
    }
    received
}

#[test]
fn tcp_echo_returns_every_byte_to_four_clients_at_once() {
    let mut network = Network::new();
    let handles: Vec<_> = (0..4).map(|index| network.tcp_client(50_000 + index)).collect();
    let data: Vec<Vec<u8>> =
        (0..4).map(|index| pattern(100_000 + 7 * index as usize, index)).collect();
    let received = echo_concurrently(&mut network, &handles, &data);
    for (got, want) in received.iter().zip(&data) {
        assert_eq!(got.len(), want.len());
        assert!(got == want, "echoed bytes differ");
    }
    assert_eq!(network.echo.stats().tcp_bytes, data.iter().map(|d| d.len() as u64).sum::<u64>());
}

/// A client that reads none of its echo for a while backs the echo up:
/// its receive window fills, then the server's transmit buffer, then the
/// server's receive buffer. The server then echoes only as many bytes as
/// its transmit buffer has room for, and once the client reads again
/// every byte comes back, in order. Guards against taking more bytes off
/// the receive buffer than fit in the transmit room (the rest would be
/// lost).
#[test]
fn an_echo_that_backs_up_loses_no_byte() {
    let mut network = Network::new();
    let handle = network.tcp_client(45_000);
    let data = pattern(10 * echo::TCP_BUFFER_LEN + 123, 12);
    let (mut sent, mut received) = (0, Vec::new());
    for round in 0..20_000 {
        let socket = network.client.sockets().get_mut::<tcp::Socket<'_>>(handle);
        if socket.can_send() && sent < data.len() {
            sent += socket.send_slice(&data[sent..]).unwrap();
        }
        // The client reads nothing for the first second.
        if round >= 1_000 && socket.can_recv() {
            let mut chunk = [0u8; 1000];
            let count = socket.recv_slice(&mut chunk).unwrap();
            received.extend_from_slice(&chunk[..count]);
        }
        if round == 999 {
            assert!(sent < data.len(), "the echo backed up: {sent} bytes sent");
        }
        network.run(1);
        if received.len() >= data.len() {
            break;
        }
    }
    assert_eq!(received.len(), data.len());
    assert!(received == data, "echoed bytes differ");
    assert_eq!(network.echo.stats().tcp_bytes, data.len() as u64);
}

#[test]
fn closed_connections_free_their_socket_for_the_next_client() {
    let mut network = Network::new();
    // Three times as many connections, one after another, as there are
    // server sockets: each must be re-listened after its client closes.
    for round in 0..(3 * echo::TCP_SOCKETS as u16) {
        let handle = network.tcp_client(40_000 + round);
        let data = vec![pattern(300, round.into())];
        let received = echo_concurrently(&mut network, &[handle], &data);
        assert_eq!(received[0], data[0], "round {round}");
        network.client.sockets().get_mut::<tcp::Socket<'_>>(handle).close();
        network.run(50);
        assert_eq!(
            network.client.sockets().get_mut::<tcp::Socket<'_>>(handle).state(),
            tcp::State::TimeWait
        );
        network.client.sockets().remove(handle);
    }
    assert_eq!(network.echo.stats().tcp_connections, 3 * echo::TCP_SOCKETS as u32);
}

impl Network {
    /// The states of the server's TCP sockets.
    fn server_tcp_states(&mut self) -> Vec<tcp::State> {
        self.server
            .sockets()
            .iter()
            .filter_map(|(_, socket)| match socket {
                smoltcp::socket::Socket::Tcp(socket) => Some(socket.state()),
                _ => None,
            })
            .collect()
    }

    /// The client vanishes: from now on it is never polled and every frame
    /// the server sends it is lost. Polls the server alone every `step`
    /// until all its TCP sockets listen again or `limit` has passed;
    /// returns how long that took and the frames the server sent
    /// meanwhile.
    fn vanish_client(
        &mut self,
        step: smoltcp::time::Duration,
        limit: smoltcp::time::Duration,
    ) -> (smoltcp::time::Duration, usize) {
        let lost = self.client.device().device().incoming.clone();
        let unsent = self.client.device().device().outgoing.clone();
        unsent.borrow_mut().clear();
        lost.borrow_mut().clear();
        let vanished_at = self.server.now();
        let mut sent = 0;
        while self.server.now() - vanished_at < limit {
            self.clock.0.set(self.clock.0.get() + step.total_micros());
            self.server.poll();
            self.echo.serve(self.server.sockets());
            sent += lost.borrow().len();
            lost.borrow_mut().clear();
            if self.server_tcp_states().iter().all(|&state| state == tcp::State::Listen) {
                break;
            }
        }
        (self.server.now() - vanished_at, sent)
    }
}

/// Two clients vanish without a reset or FIN reaching the server (a crash,
/// a cable pulled): one while the server still has echo data for it in
/// flight, which smoltcp would otherwise retransmit forever, and one idle,
/// everything echoed and acknowledged, which would otherwise hold its
/// socket in `Established` forever. Both sockets must listen again within
/// `TCP_TIMEOUT` of the clients' last segments (give or take a poll), and
/// not much earlier: the timeout, not something else, freed them.
#[test]
fn vanished_clients_free_their_sockets_within_the_timeout() {
    let mut network = Network::new();
    let idle = network.tcp_client(41_000);
    let data = vec![pattern(1_000, 1)];
    assert_eq!(echo_concurrently(&mut network, &[idle], &data), data);
    let busy = network.tcp_client(41_001);
    // It goes in the middle of an echo of more than the server's window,
    // so that echo data it has not acknowledged is in flight.
    let garbage = pattern(4 * echo::TCP_BUFFER_LEN, 2);
    let (mut sent, mut echoed) = (0, 0);
    for _ in 0..30 {
        let socket = network.client.sockets().get_mut::<tcp::Socket<'_>>(busy);
        if socket.can_send() && sent < garbage.len() {
            sent += socket.send_slice(&garbage[sent..]).unwrap();
        }
        if socket.can_recv() {
            echoed += socket.recv(|data| (data.len(), data.len())).unwrap();
        }
        network.run(1);
    }
    assert!(echoed > 0 && echoed < garbage.len(), "mid-echo: {echoed} of {} bytes", garbage.len());
    let busy_server_states = network.server_tcp_states();
    assert_eq!(
        busy_server_states.iter().filter(|&&state| state == tcp::State::Established).count(),
        2,
        "{busy_server_states:?}"
    );
    let step = smoltcp::time::Duration::from_millis(10);
    let (freed_after, retransmitted) =
        network.vanish_client(step, echo::TCP_TIMEOUT + echo::TCP_TIMEOUT);
    assert!(
        freed_after <= echo::TCP_TIMEOUT + step,
        "the sockets listen again {freed_after} after the clients vanished, not within {} ({:?})",
        echo::TCP_TIMEOUT,
        network.server_tcp_states()
    );
    // The clients' last segments came within the 30 ms before they went.
    let earliest = echo::TCP_TIMEOUT - smoltcp::time::Duration::from_millis(30);
    assert!(freed_after >= earliest, "freed after only {freed_after}");
    assert!(retransmitted > 2, "the server tried again ({retransmitted} frames)");
    assert_eq!(network.echo.stats().tcp_connections, 2);
    // And they serve the next client.
    let next = network.tcp_client(41_002);
    let data = vec![pattern(500, 3)];
    assert_eq!(echo_concurrently(&mut network, &[next], &data), data);
}

/// A client that stays connected but sends nothing for much longer than
/// `TCP_TIMEOUT` keeps its connection: it answers the keep-alives, which
/// count as hearing from it. Its next bytes are echoed.
#[test]
fn an_idle_client_that_is_still_there_keeps_its_connection() {
    let mut network = Network::new();
    let handle = network.tcp_client(42_000);
    let data = vec![pattern(700, 4)];
    assert_eq!(echo_concurrently(&mut network, &[handle], &data), data);
    let idle_for = echo::TCP_TIMEOUT.total_millis() * 3;
    let frames_before = network.client.device().device().counters.rx_frames;
    for _ in 0..idle_for / 10 {
        network.clock.0.set(network.clock.0.get() + 10_000);
        network.client.poll();
        network.server.poll();
        network.echo.serve(network.server.sockets());
    }
    assert_eq!(
        network.client.sockets().get_mut::<tcp::Socket<'_>>(handle).state(),
        tcp::State::Established
    );
    let keep_alives = network.client.device().device().counters.rx_frames - frames_before;
    assert!(keep_alives >= 8, "{keep_alives} keep-alives in {idle_for} ms");
    assert_eq!(network.echo.stats().tcp_connections, 0, "no connection ended");
    let data = vec![pattern(900, 5)];
    assert_eq!(echo_concurrently(&mut network, &[handle], &data), data);
}

#[test]
fn udp_echo_answers_datagrams_of_1_to_1400_bytes() {
    let mut network = Network::new();
    let socket = udp::Socket::new(
        udp::PacketBuffer::new(vec![PacketMetadata::EMPTY; 8].leak(), vec![0; 8 * 1500].leak()),
        udp::PacketBuffer::new(vec![PacketMetadata::EMPTY; 8].leak(), vec![0; 8 * 1500].leak()),
    );
    let handle = network.client.sockets().add(socket);
    network.client.sockets().get_mut::<udp::Socket<'_>>(handle).bind(6000).unwrap();
    for length in (1..=1400).step_by(97).chain([1400]) {
        let datagram = pattern(length, length as u32);
        network
            .client
            .sockets()
            .get_mut::<udp::Socket<'_>>(handle)
            .send_slice(&datagram, SERVER)
            .unwrap();
        network.run(5);
        let mut buffer = [0u8; 1500];
        let (count, from) = network
            .client
            .sockets()
            .get_mut::<udp::Socket<'_>>(handle)
            .recv_slice(&mut buffer)
            .expect("echo");
        assert_eq!(&buffer[..count], &datagram[..], "length {length}");
        assert_eq!(from.endpoint, SERVER);
    }
}

#[test]
fn frames_the_device_refuses_are_counted_not_fatal() {
    let mut network = Network::new();
    network.server.device().device().refuse_transmit = true;
    let handle = network.tcp_client(40_001);
    network.run(20);
    // The server could not answer: its SYN-ACKs were refused and counted.
    assert!(network.server.device().transmit_failures() > 0);
    assert_ne!(
        network.client.sockets().get_mut::<tcp::Socket<'_>>(handle).state(),
        tcp::State::Established
    );
    network.server.device().device().refuse_transmit = false;
    let received = echo_concurrently(&mut network, &[handle], &[pattern(10, 1)]);
    assert_eq!(
        received[0],
        pattern(10, 1),
        "the stack recovers once the device takes frames again"
    );
}

/// Every frame the device refuses is counted, once, and a frame it takes
/// is not: guards against a `Phy::transmit_failures` that reports a fixed
/// figure.
#[test]
fn each_frame_the_device_refuses_is_counted_once() {
    use smoltcp::phy::{Device, TxToken};
    let (mut end, _other) = cable();
    end.refuse_transmit = true;
    let mut phy = Phy::new(end);
    for _ in 0..3 {
        let token = phy.transmit(smoltcp::time::Instant::ZERO).expect("the device can transmit");
        token.consume(60, |frame| frame.fill(0));
    }
    assert_eq!(phy.device().refused, 3);
    assert_eq!(phy.transmit_failures(), 3);
    phy.device().refuse_transmit = false;
    let token = phy.transmit(smoltcp::time::Instant::ZERO).expect("the device can transmit");
    token.consume(60, |frame| frame.fill(0));
    assert_eq!(phy.device().counters.tx_frames, 1);
    assert_eq!(phy.transmit_failures(), 3, "a frame the device took is no failure");
}

/// A receive error of the device yields no frame and is counted; the next
/// frame is received as usual. Guards against a `Phy::receive_failures`
/// that reports a fixed figure.
#[test]
fn receive_errors_of_the_device_are_counted_and_yield_no_frame() {
    use smoltcp::phy::{Device, RxToken};
    let (end, mut other) = cable();
    other.transmit(&[0x5a; 60]).expect("the cable takes every frame");
    let mut phy = Phy::new(end);
    phy.device().fail_receive = true;
    assert!(phy.receive(smoltcp::time::Instant::ZERO).is_none());
    assert!(phy.receive(smoltcp::time::Instant::ZERO).is_none());
    assert_eq!(phy.receive_failures(), 2);
    phy.device().fail_receive = false;
    let (rx, _tx) = phy.receive(smoltcp::time::Instant::ZERO).expect("the waiting frame");
    rx.consume(|frame| assert_eq!(frame, &[0x5a; 60]));
    assert_eq!(phy.receive_failures(), 2, "a frame received is no failure");
    assert_eq!(phy.checksum_errors(), 0);
}

/// Both devices give the stack the station address they were made with:
/// guards against a `mac_address` that answers a fixed address (two
/// stations on one cable would then share it).
#[test]
fn both_devices_report_the_station_address_they_were_given() {
    use crate::NetDevice;
    let (end, other) = cable();
    let (end_mac, other_mac) = (end.mac, other.mac);
    assert_eq!(Phy::new(end).mac_address(), end_mac);
    let (streams_phy, _driver) = streams(other);
    assert_eq!(streams_phy.mac_address(), other_mac);
}

/// A network whose client, on TCP port `port`, has had 200 bytes (pattern
/// `seed`) echoed and then 50 quiet rounds: an established, idle
/// connection.
fn idle_connection(port: u16, seed: u32) -> (Network, SocketHandle) {
    let mut network = Network::new();
    let handle = network.tcp_client(port);
    let data = vec![pattern(200, seed)];
    assert_eq!(echo_concurrently(&mut network, &[handle], &data), data);
    network.run(50);
    (network, handle)
}

/// `Stack::poll` says whether socket state may have changed: true when a
/// segment went out for a socket or came in for one, false when nothing
/// happened. Guards against a poll that always says yes, never says so,
/// or says the opposite of smoltcp.
#[test]
fn poll_reports_whether_socket_state_may_have_changed() {
    let (mut network, handle) = idle_connection(43_000, 6);
    assert!(!network.client.poll(), "no frame came in, no time passed");
    assert!(!network.server.poll(), "no frame came in, no time passed");
    network.client.sockets().get_mut::<tcp::Socket<'_>>(handle).send_slice(b"ping").expect("send");
    assert!(network.client.poll(), "the client sent a segment");
    assert!(network.server.poll(), "the server received it");
}

/// An established, idle connection needs the stack again when its next
/// keep-alive is due: `poll_delay` says so, neither "not until a frame
/// comes" nor "now". Guards against a `Stack::poll_delay` that answers a
/// fixed value (an application sleeping on it would miss the keep-alives
/// and timeouts, or never sleep).
#[test]
fn poll_delay_of_an_idle_connection_is_its_next_keep_alive() {
    let (mut network, _) = idle_connection(43_100, 7);
    let delay = network.server.poll_delay().expect("a keep-alive is due");
    assert!(delay > smoltcp::time::Duration::ZERO, "{delay}");
    assert!(delay <= echo::TCP_KEEP_ALIVE, "{delay}");
}

/// One `Echo::serve` echoes all the bytes a TCP socket holds (here less
/// than its transmit room) and every datagram that waits, and returns how
/// many bytes and datagrams it moved. Guards against a serve that moves
/// one chunk a call, or that reports a wrong count.
#[test]
fn one_serve_echoes_all_that_waits_and_returns_how_much_it_moved() {
    let mut network = Network::new();
    let handle = network.tcp_client(44_000);
    network.run(20);
    assert_eq!(network.echo.serve(network.server.sockets()), 0, "nothing has arrived");
    let data = pattern(4_000, 10);
    let socket = network.client.sockets().get_mut::<tcp::Socket<'_>>(handle);
    assert_eq!(socket.send_slice(&data), Ok(data.len()));
    let udp = udp::Socket::new(
        udp::PacketBuffer::new(vec![PacketMetadata::EMPTY; 4].leak(), vec![0; 4 * 100].leak()),
        udp::PacketBuffer::new(vec![PacketMetadata::EMPTY; 4].leak(), vec![0; 4 * 100].leak()),
    );
    let udp = network.client.sockets().add(udp);
    let udp_socket = network.client.sockets().get_mut::<udp::Socket<'_>>(udp);
    udp_socket.bind(6001).expect("bind");
    for length in [10, 20, 30] {
        udp_socket.send_slice(&pattern(length, 11), SERVER).expect("room for the datagram");
    }
    // The segments and datagrams reach the server; the echo service does
    // not run meanwhile.
    for _ in 0..200 {
        network.clock.0.set(network.clock.0.get() + 1_000);
        network.client.poll();
        network.server.poll();
    }
    assert_eq!(network.echo.serve(network.server.sockets()), 4_000 + 3);
    assert_eq!(network.echo.stats().tcp_bytes, 4_000);
    assert_eq!(network.echo.stats().udp_datagrams, 3);
    assert_eq!(network.echo.serve(network.server.sockets()), 0, "all of it went the first time");
}

#[test]
fn timestamps_come_from_the_monotonic_clock_in_microseconds() {
    assert_eq!(crate::instant_from_ns(2_500_000).total_micros(), 2_500);
    let mut network = Network::new();
    network.clock.0.set(7_000_000);
    assert_eq!(network.server.now().total_millis(), 7_000);
}

/// A DHCP server on the raw end of a cable (10.0.2.2): answers the frame
/// waiting there, if it is a DISCOVER (with an OFFER) or a REQUEST (with
/// an ACK) of 10.0.2.15/24 with router 10.0.2.2, `dns` as DNS servers and
/// a lease of `lease` seconds. Whether it answered.
fn dhcp_server(end: &mut WireEnd, dns: &[Ipv4Address], lease: u32) -> bool {
    use smoltcp::phy::ChecksumCapabilities;
    use smoltcp::wire::{
        DhcpMessageType, DhcpPacket, DhcpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
        EthernetRepr, IpProtocol, Ipv4Packet, Ipv4Repr, UdpPacket, UdpRepr,
    };
    let mut buffer = [0u8; 1514];
    let Ok(Some(length)) = end.receive(&mut buffer) else { return false };
    let frame = EthernetFrame::new_unchecked(&buffer[..length]);
    let Ok(ip) = Ipv4Packet::new_checked(frame.payload()) else { return false };
    let Ok(udp) = UdpPacket::new_checked(ip.payload()) else { return false };
    let Ok(dhcp) = DhcpPacket::new_checked(udp.payload()) else { return false };
    let Ok(request) = DhcpRepr::parse(&dhcp) else { return false };
    let message_type = match request.message_type {
        DhcpMessageType::Discover => DhcpMessageType::Offer,
        DhcpMessageType::Request => DhcpMessageType::Ack,
        _ => return false,
    };
    let server = Ipv4Address::new(10, 0, 2, 2);
    let reply = DhcpRepr {
        message_type,
        transaction_id: request.transaction_id,
        secs: 0,
        client_hardware_address: request.client_hardware_address,
        client_ip: Ipv4Address::UNSPECIFIED,
        your_ip: Ipv4Address::new(10, 0, 2, 15),
        server_ip: server,
        router: Some(server),
        subnet_mask: Some(Ipv4Address::new(255, 255, 255, 0)),
        relay_agent_ip: Ipv4Address::UNSPECIFIED,
        broadcast: false,
        requested_ip: None,
        client_identifier: None,
        server_identifier: Some(server),
        parameter_request_list: None,
        dns_servers: Some(dns.iter().copied().collect()),
        max_size: None,
        lease_duration: Some(lease),
        renew_duration: None,
        rebind_duration: None,
        additional_options: &[],
    };
    let dhcp_length = reply.buffer_len();
    let ip = Ipv4Repr {
        src_addr: server,
        dst_addr: Ipv4Address::BROADCAST,
        next_header: IpProtocol::Udp,
        payload_len: 8 + dhcp_length,
        hop_limit: 64,
    };
    let mut out = vec![0u8; 14 + 20 + 8 + dhcp_length];
    EthernetRepr {
        src_addr: EthernetAddress(end.mac),
        dst_addr: request.client_hardware_address,
        ethertype: EthernetProtocol::Ipv4,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut out[..]));
    let checksums = ChecksumCapabilities::default();
    ip.emit(&mut Ipv4Packet::new_unchecked(&mut out[14..]), &checksums);
    UdpRepr { src_port: 67, dst_port: 68 }.emit(
        &mut UdpPacket::new_unchecked(&mut out[34..]),
        &server.into(),
        &Ipv4Address::BROADCAST.into(),
        dhcp_length,
        |payload| reply.emit(&mut DhcpPacket::new_unchecked(payload)).unwrap(),
        &checksums,
    );
    end.transmit(&out).is_ok()
}

#[test]
fn dhcp_gives_the_address_the_route_and_the_dns_servers_until_its_lease_ends() {
    let (end, mut server) = cable();
    let clock = TestClock(Rc::new(Cell::new(0)));
    let storage = leak([const { SocketStorage::EMPTY }; 1]);
    let mut stack = Stack::new(Phy::new(end), clock.clone(), Ipv4Config::Dhcp, storage);
    let dns = [Ipv4Address::new(10, 0, 2, 3), Ipv4Address::new(192, 168, 1, 1)];
    assert_eq!(stack.dhcp_dns_servers().count(), 0, "none before the server answers");
    // DISCOVER, OFFER, REQUEST, ACK.
    let mut answers = 0;
    for _ in 0..50 {
        stack.poll();
        answers += usize::from(dhcp_server(&mut server, &dns, 600));
        if stack.ipv4_address().is_some() {
            break;
        }
        clock.0.set(clock.0.get() + 100_000);
    }
    assert_eq!(answers, 2, "an offer and an acknowledgement");
    assert_eq!(stack.ipv4_address(), Some(Ipv4Address::new(10, 0, 2, 15)));
    assert_eq!(stack.dhcp_dns_servers().collect::<Vec<_>>(), dns);
    // Nobody answers the renewals: when the lease is over, so are the
    // address and the servers.
    for _ in 0..100 {
        clock.0.set(clock.0.get() + 10_000_000);
        stack.poll();
        while server.receive(&mut [0u8; 1514]) != Ok(None) {}
    }
    assert_eq!(stack.ipv4_address(), None);
    assert_eq!(stack.dhcp_dns_servers().count(), 0);
}

#[cfg(any(test, feature = "dhcp"))]
#[test]
fn static_and_dhcp_configurations() {
    let network = Network::new();
    assert_eq!(network.server.ipv4_address(), Some(Ipv4Address::new(10, 0, 2, 15)));
    let (end, _) = cable();
    let clock = TestClock(Rc::new(Cell::new(0)));
    let storage = leak([const { SocketStorage::EMPTY }; 1]);
    let dhcp = Stack::new(Phy::new(end), clock, Ipv4Config::Dhcp, storage);
    assert_eq!(dhcp.ipv4_address(), None, "no address before a DHCP server answers");
}

// ----- the server on a NIC session's packet streams ------------------------

const SLOTS: usize = 8;
const SLOT_BYTES: usize = 1536;

type Stream = PacketStream<SLOTS, SLOTS>;
type ServerStreams = StreamPhy<'static, SLOTS, SLOTS, NoNotify>;

/// The driver's ends of the two streams and the cable it sends on.
struct StreamDriver {
    /// Frames the client (the server stack) submits to send.
    transmit: Sink<'static, SLOTS, SLOTS, NoNotify>,
    /// Slots the driver fills with received frames.
    receive: Source<'static, SLOTS, SLOTS, NoNotify>,
    wire: WireEnd,
    /// Slots of each stream the driver saw, by address: the frames smoltcp
    /// built and read must lie in them (no copy on the client's side).
    transmit_slots: std::collections::BTreeSet<usize>,
    /// Descriptors of the driver's making to put into the receive stream
    /// before its next frame (a confused or hostile driver).
    bad_descriptors: Vec<Descriptor>,
}

impl StreamDriver {
    fn serve(&mut self) {
        while let Ok(packet) = self.transmit.try_take() {
            self.transmit_slots.insert(packet.payload().as_ptr() as usize);
            self.wire.transmit(packet.payload()).expect("the cable takes every frame");
            self.transmit.acknowledge(packet).expect("the acknowledgement ring has room");
        }
        self.receive.reclaim();
        for descriptor in self.bad_descriptors.drain(..) {
            self.receive.submit_descriptor(descriptor).expect("room for a bad descriptor");
        }
        while self.receive.free_slots() > 0 {
            let mut packet = self.receive.alloc(SLOT_BYTES).expect("a free slot");
            match self.wire.receive(packet.payload_mut()) {
                Ok(Some(length)) => {
                    packet.set_len(length).expect("a frame fits a slot");
                    self.receive.submit(packet).expect("the submit ring has room");
                }
                _ => {
                    self.receive.release(packet).expect("its own packet");
                    break;
                }
            }
        }
    }
}

fn streams(wire: WireEnd) -> (ServerStreams, StreamDriver) {
    let mac = wire.mac;
    let transmit: &'static mut Stream = leak(PacketStream::new());
    let receive: &'static mut Stream = leak(PacketStream::new());
    let (client_tx, driver_tx) = transmit
        .split(
            vec![0; SLOTS * SLOT_BYTES].leak(),
            SLOT_BYTES,
            ToSink::default(),
            ToSource::default(),
        )
        .expect("transmit stream");
    let (driver_rx, client_rx) = receive
        .split(
            vec![0; SLOTS * SLOT_BYTES].leak(),
            SLOT_BYTES,
            ToSink::default(),
            ToSource::default(),
        )
        .expect("receive stream");
    let driver = StreamDriver {
        transmit: driver_tx,
        receive: driver_rx,
        wire,
        transmit_slots: Default::default(),
        bad_descriptors: Vec::new(),
    };
    (StreamPhy::new(client_tx, client_rx, mac), driver)
}

#[test]
fn tcp_echo_over_a_nic_sessions_streams_returns_every_byte() {
    let mut network = Network::on_streams();
    let handles: Vec<_> = (0..4).map(|index| network.tcp_client(51_000 + index)).collect();
    let data: Vec<Vec<u8>> =
        (0..4).map(|index| pattern(60_000 + 11 * index as usize, 40 + index)).collect();
    let received = echo_concurrently(&mut network, &handles, &data);
    for (got, want) in received.iter().zip(&data) {
        assert!(got == want, "echoed bytes differ");
    }
    let driver = network.driver.as_ref().expect("a driver");
    // Every frame the server sent was built in one of the transmit
    // stream's slots, which are reused (8 slots, thousands of frames).
    assert!(driver.wire.counters.tx_frames > 100);
    assert!(!driver.transmit_slots.is_empty() && driver.transmit_slots.len() <= SLOTS);
    assert_eq!(network.server.device().transmit_failures(), 0);
    assert_eq!(network.server.device().rejected(), 0);
}

#[test]
fn malformed_receive_descriptors_are_rejected_and_the_stack_keeps_serving() {
    let mut network = Network::on_streams();
    let handle = network.tcp_client(52_000);
    let first = echo_concurrently(&mut network, &[handle], &[pattern(3_000, 7)]);
    assert_eq!(first[0], pattern(3_000, 7));
    let driver = network.driver.as_mut().expect("a driver");
    driver.bad_descriptors = vec![
        // Past the end of the buffer.
        Descriptor { offset: (SLOTS * SLOT_BYTES) as u32, length: 64, tag: 0 },
        // Longer than a slot.
        Descriptor { offset: 0, length: (SLOT_BYTES + 1) as u32, tag: 0 },
        // Inside the buffer, not at a slot's start.
        Descriptor { offset: 3, length: 60, tag: 0 },
        // A slot the driver never submitted.
        Descriptor { offset: SLOT_BYTES as u32, length: 60, tag: 0 },
    ];
    let second = echo_concurrently(&mut network, &[handle], &[pattern(3_000, 8)]);
    assert_eq!(second[0], pattern(3_000, 8));
    assert_eq!(network.server.device().rejected(), 4);
}

/// Once every transmit slot waits for the driver, `transmit` offers no
/// token, and a frame smoltcp builds all the same (an answer to a frame
/// received) goes nowhere and is counted. Guards against a
/// `StreamPhy::transmit_failures` that reports a fixed figure.
#[test]
fn over_a_nic_session_a_frame_that_finds_no_free_slot_is_counted() {
    use smoltcp::phy::{Device, RxToken, TxToken};
    let (end, _other) = cable();
    let (mut phy, mut driver) = streams(end);
    // The driver takes no frame meanwhile: the slots run out.
    let mut offered = 0;
    while let Some(token) = phy.transmit(smoltcp::time::Instant::ZERO) {
        token.consume(60, |frame| frame.fill(0xab));
        offered += 1;
        assert!(offered <= SLOTS, "more tokens than slots");
    }
    assert_eq!(offered, SLOTS);
    assert_eq!(phy.transmit_failures(), 0);
    let mut packet = driver.receive.alloc(60).expect("a free slot");
    packet.payload_mut().fill(0);
    driver.receive.submit(packet).expect("room in the submit ring");
    let (rx, tx) = phy.receive(smoltcp::time::Instant::ZERO).expect("the frame");
    rx.consume(|frame| assert_eq!(frame.len(), 60));
    tx.consume(60, |frame| frame.fill(0xcd));
    assert_eq!(phy.transmit_failures(), 1);
    driver.serve();
    let sent = driver.wire.outgoing.borrow();
    assert_eq!(sent.len(), SLOTS, "the frame with no slot was not sent");
    assert!(sent.iter().all(|frame| frame == &[0xab; 60]));
}

/// Sends `text` from `handle` and lets only the client poll, so that its
/// segment waits on the cable; returns that frame's index there.
fn segment_on_the_wire<S: crate::NetDevice>(
    network: &mut Network<S>,
    handle: SocketHandle,
    text: &[u8],
) -> usize {
    network.client.sockets().get_mut::<tcp::Socket<'_>>(handle).send_slice(text).expect("send");
    network.client.poll();
    let wire = network.client.device().device().outgoing.clone();
    let frames = wire.borrow();
    frames
        .iter()
        .position(|frame| frame.windows(text.len()).any(|window| window == text))
        .expect("the segment is on the wire")
}

/// Corrupts the client's waiting segment carrying `text` and checks that
/// the server drops it (`checksum_errors` then says 1) and the echo still
/// comes back whole once TCP sends the segment again.
fn corrupted_segment_is_dropped<S: crate::NetDevice>(
    network: &mut Network<S>,
    checksum_errors: fn(&mut Network<S>) -> u32,
) {
    let handle = network.tcp_client(53_000);
    let first = echo_concurrently(network, &[handle], &[pattern(100, 1)]);
    assert_eq!(first[0], pattern(100, 1));
    let text = b"a segment with one bit flipped";
    let index = segment_on_the_wire(network, handle, text);
    {
        let wire = network.client.device().device().outgoing.clone();
        let mut frames = wire.borrow_mut();
        let frame = &mut frames[index];
        // The checksum smoltcp's own parser computes holds before...
        let ethernet = smoltcp::wire::EthernetFrame::new_checked(&frame[..]).unwrap();
        let ip = smoltcp::wire::Ipv4Packet::new_checked(ethernet.payload()).unwrap();
        let tcp = smoltcp::wire::TcpPacket::new_checked(ip.payload()).unwrap();
        let (source, destination) = (ip.src_addr().into(), ip.dst_addr().into());
        assert!(tcp.verify_checksum(&source, &destination));
        // ...and not after one bit of the payload flips.
        let last = frame.len() - 1;
        frame[last] ^= 0x04;
    }
    assert_eq!(checksum_errors(network), 0);
    let mut echoed = Vec::new();
    for _ in 0..5_000 {
        network.run(1);
        let socket = network.client.sockets().get_mut::<tcp::Socket<'_>>(handle);
        let mut chunk = [0u8; 64];
        while let Ok(count @ 1..) = socket.recv_slice(&mut chunk) {
            echoed.extend_from_slice(&chunk[..count]);
        }
        if echoed.len() >= text.len() {
            break;
        }
    }
    assert_eq!(checksum_errors(network), 1);
    assert_eq!(echoed, text, "the retransmitted segment is echoed");
}

#[test]
fn a_segment_with_a_bad_checksum_is_dropped_and_counted() {
    corrupted_segment_is_dropped(&mut Network::new(), |network| {
        network.server.device().checksum_errors()
    });
}

#[test]
fn over_a_nic_session_a_segment_with_a_bad_checksum_is_dropped_and_counted() {
    corrupted_segment_is_dropped(&mut Network::on_streams(), |network| {
        network.server.device().checksum_errors()
    });
}

/// The client's receive sink acknowledges every frame; when the
/// acknowledgement ring is full (a driver that does not take
/// acknowledgements, or one that makes the ring look full by writing its
/// index), the frame cannot go back. It must not stay held by the client
/// all the same: the client holds no packet, so the driver restarting the
/// stream for the next session (its `close`) must not be refused.
#[test]
fn a_frame_the_client_cannot_acknowledge_blocks_no_restart() {
    // An acknowledgement ring of 2 for 4 slots: it fills after two frames,
    // as a forged index makes a full-sized one look full.
    let transmit = leak(PacketStream::<4, 2>::new());
    let receive = leak(PacketStream::<4, 2>::new());
    let buffer = || vec![0u8; 4 * SLOT_BYTES].leak();
    let (client_tx, _driver_tx) = transmit
        .split(buffer(), SLOT_BYTES, ToSink::<NoNotify>::default(), ToSource::<NoNotify>::default())
        .expect("transmit stream");
    let (mut driver_rx, client_rx) = receive
        .split(buffer(), SLOT_BYTES, ToSink::<NoNotify>::default(), ToSource::<NoNotify>::default())
        .expect("receive stream");
    let mut phy = StreamPhy::new(client_tx, client_rx, [2, 0, 0, 0, 0, 1]);
    for _ in 0..3 {
        let mut packet = driver_rx.alloc(60).expect("a free slot");
        packet.payload_mut().fill(0);
        driver_rx.submit(packet).expect("room in the submit ring");
        let (rx, _tx) =
            smoltcp::phy::Device::receive(&mut phy, smoltcp::time::Instant::ZERO).expect("a frame");
        smoltcp::phy::RxToken::consume(rx, |frame| assert_eq!(frame.len(), 60));
    }
    let (_client_tx, mut client_rx) = phy.into_ends();
    assert_eq!(driver_rx.restart(&mut client_rx), Ok(()), "the client holds no frame");
    assert_eq!(driver_rx.free_slots(), 4);
}
