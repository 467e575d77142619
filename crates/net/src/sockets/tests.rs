//! Two stacks wired back to back, each with a socket table: the server at
//! 10.0.2.15, the client at 10.0.2.2.

use std::rc::Rc;
use std::vec;
use std::vec::Vec;

use core::cell::Cell;

use smoltcp::iface::{SocketHandle, SocketStorage};
use smoltcp::socket::{tcp, udp};
use smoltcp::storage::PacketMetadata;
use smoltcp::wire::{IpAddress, IpEndpoint};

use super::{Descriptors, Fd, Kind, Readiness, Shutdown, SocketError, SocketId, Sockets};
use crate::tests::{CLIENT_IP, TestClock, WireEnd, cable, leak, pattern};
use crate::{Ipv4Config, Phy, Stack};

type Table = Sockets<6, 4, 2>;

struct Host {
    stack: Stack<'static, Phy<WireEnd>, TestClock>,
    table: Table,
}

impl Host {
    fn new(end: WireEnd, clock: TestClock, ip: Ipv4Config) -> Self {
        let storage = leak([const { SocketStorage::EMPTY }; 6]);
        let mut stack = Stack::new(Phy::new(end), clock, ip, storage);
        let tcp: [SocketHandle; 4] = core::array::from_fn(|_| {
            stack.sockets().add(tcp::Socket::new(
                tcp::SocketBuffer::new(vec![0; 4096].leak()),
                tcp::SocketBuffer::new(vec![0; 4096].leak()),
            ))
        });
        let udp: [SocketHandle; 2] = core::array::from_fn(|_| {
            stack.sockets().add(udp::Socket::new(
                udp::PacketBuffer::new(vec![PacketMetadata::EMPTY; 4].leak(), vec![0; 2048].leak()),
                udp::PacketBuffer::new(vec![PacketMetadata::EMPTY; 4].leak(), vec![0; 2048].leak()),
            ))
        });
        Self { stack, table: Sockets::new(tcp, udp) }
    }

    fn open(&mut self, kind: Kind) -> SocketId {
        self.table.open(self.stack.sockets(), kind).expect("open")
    }

    fn send(&mut self, id: SocketId, data: &[u8]) -> Result<usize, SocketError> {
        self.table.send(self.stack.sockets(), id, data)
    }

    fn recv(&mut self, id: SocketId, out: &mut [u8]) -> Result<usize, SocketError> {
        self.table.recv(self.stack.sockets(), id, out, false)
    }
}

struct Net {
    server: Host,
    client: Host,
    clock: TestClock,
}

const SERVER_ADDRESS: IpAddress = IpAddress::v4(10, 0, 2, 15);
const CLIENT_ADDRESS: IpAddress = IpAddress::v4(10, 0, 2, 2);

fn server(port: u16) -> IpEndpoint {
    IpEndpoint::new(SERVER_ADDRESS, port)
}

impl Net {
    fn new() -> Self {
        let (a, b) = cable();
        let clock = TestClock(Rc::new(Cell::new(1_000)));
        Self {
            server: Host::new(a, clock.clone(), Ipv4Config::QEMU_USER),
            client: Host::new(b, clock.clone(), CLIENT_IP),
            clock,
        }
    }

    /// Polls both stacks, 1 ms a round.
    fn run(&mut self, rounds: usize) {
        for _ in 0..rounds {
            self.clock.0.set(self.clock.0.get() + 1_000);
            self.client.stack.poll();
            self.server.stack.poll();
        }
    }

    fn listen(&mut self, port: u16, backlog: usize) -> SocketId {
        let listener = self.server.open(Kind::Stream);
        let Host { stack, table } = &mut self.server;
        table.bind(stack, listener, None, port).expect("bind");
        table.listen(stack.sockets(), listener, backlog).expect("listen");
        listener
    }

    /// A client socket connecting to the server's `port`; how its
    /// connect ended.
    fn connect(&mut self, port: u16) -> (SocketId, Result<(), SocketError>) {
        let id = self.client.open(Kind::Stream);
        let Host { stack, table } = &mut self.client;
        assert_eq!(table.connect(stack, id, server(port)), Err(SocketError::InProgress));
        self.run(5);
        let Host { stack, table } = &mut self.client;
        (id, table.connect(stack, id, server(port)))
    }

    fn accept(&mut self, listener: SocketId) -> Result<(SocketId, IpEndpoint), SocketError> {
        let Host { stack, table } = &mut self.server;
        table.accept(stack.sockets(), listener)
    }

    /// Moves `data` from `from`'s socket to `to`'s, polling as needed.
    fn transfer(
        &mut self,
        from_server: bool,
        from: SocketId,
        to: SocketId,
        data: &[u8],
    ) -> Vec<u8> {
        let mut received = Vec::new();
        let mut sent = 0;
        let mut buffer = [0u8; 1000];
        for _ in 0..10_000 {
            let (sender, receiver) = if from_server {
                (&mut self.server, &mut self.client)
            } else {
                (&mut self.client, &mut self.server)
            };
            if sent < data.len() {
                match sender.send(from, &data[sent..]) {
                    Ok(count) => sent += count,
                    Err(SocketError::WouldBlock) => {}
                    Err(error) => panic!("send: {error:?}"),
                }
            }
            match receiver.recv(to, &mut buffer) {
                Ok(count) => received.extend_from_slice(&buffer[..count]),
                Err(SocketError::WouldBlock) => {}
                Err(error) => panic!("recv: {error:?}"),
            }
            if received.len() == data.len() {
                return received;
            }
            self.run(1);
        }
        panic!("moved {} of {} bytes", received.len(), data.len());
    }
}

#[test]
fn a_connection_is_accepted_carries_data_both_ways_and_ends_with_a_fin_each_way() {
    let mut net = Net::new();
    let listener = net.listen(7, 1);
    assert_eq!(net.accept(listener), Err(SocketError::WouldBlock));
    let (client, connected) = net.connect(7);
    assert_eq!(connected, Ok(()));
    let (accepted, peer) = net.accept(listener).expect("accept");
    assert_eq!(peer.addr, CLIENT_ADDRESS);
    let client_local = {
        let Host { stack, table } = &mut net.client;
        table.local_endpoint(stack, client).unwrap()
    };
    assert_eq!(client_local, peer, "the client's own endpoint is the server's peer");
    assert!(client_local.port >= super::FIRST_EPHEMERAL_PORT);
    {
        let Host { stack, table } = &mut net.server;
        assert_eq!(table.peer_endpoint(stack.sockets(), accepted), Ok(peer));
        assert_eq!(table.local_endpoint(stack, accepted), Ok(server(7)));
    }

    let request = pattern(20_000, 1);
    assert_eq!(net.transfer(false, client, accepted, &request), request);
    let reply = pattern(30_000, 2);
    assert_eq!(net.transfer(true, accepted, client, &reply), reply);

    // The client closes its sending half: the server reads the end of the
    // stream, and can still answer.
    {
        let Host { stack, table } = &mut net.client;
        table.shutdown(stack.sockets(), client, Shutdown::Write).unwrap();
    }
    net.run(5);
    let mut buffer = [0u8; 16];
    assert_eq!(net.server.recv(accepted, &mut buffer), Ok(0));
    assert_eq!(net.transfer(true, accepted, client, b"last words"), b"last words");
    assert_eq!(net.client.send(client, b"more"), Err(SocketError::BrokenPipe));
    {
        let Host { stack, table } = &mut net.server;
        table.close(stack.sockets(), accepted).unwrap();
        assert_eq!(
            table.recv(stack.sockets(), accepted, &mut buffer, false),
            Err(SocketError::BadDescriptor)
        );
    }
    net.run(5);
    assert_eq!(net.client.recv(client, &mut buffer), Ok(0));
    let ready = {
        let Host { stack, table } = &mut net.client;
        table.readiness(stack.sockets(), client).unwrap()
    };
    assert_eq!(ready, Readiness { readable: true, writable: true, hangup: true });
}

#[test]
fn a_connect_to_a_port_nobody_listens_on_is_refused_and_the_socket_can_try_again() {
    let mut net = Net::new();
    let (client, connected) = net.connect(9);
    assert_eq!(connected, Err(SocketError::ConnectionRefused));
    let mut buffer = [0u8; 4];
    assert_eq!(net.client.recv(client, &mut buffer), Err(SocketError::NotConnected));
    net.listen(9, 1);
    let Host { stack, table } = &mut net.client;
    assert_eq!(table.connect(stack, client, server(9)), Err(SocketError::InProgress));
    assert_eq!(table.connect(stack, client, server(9)), Err(SocketError::WouldBlock));
    net.run(5);
    let Host { stack, table } = &mut net.client;
    assert_eq!(table.connect(stack, client, server(9)), Ok(()));
    assert_eq!(table.connect(stack, client, server(9)), Err(SocketError::AlreadyConnected));
}

#[test]
fn a_connect_nobody_waited_for_shows_in_readiness_and_take_error() {
    let mut net = Net::new();
    let refused = net.client.open(Kind::Stream);
    {
        let Host { stack, table } = &mut net.client;
        assert_eq!(table.connect(stack, refused, server(9)), Err(SocketError::InProgress));
        let ready = table.readiness(stack.sockets(), refused).unwrap();
        assert_eq!(ready, Readiness::default(), "under way");
        assert_eq!(table.take_error(stack.sockets(), refused), Ok(None));
    }
    net.run(5);
    {
        let Host { stack, table } = &mut net.client;
        let ready = table.readiness(stack.sockets(), refused).unwrap();
        assert!(ready.hangup && ready.writable, "{ready:?}");
        assert_eq!(
            table.take_error(stack.sockets(), refused),
            Ok(Some(SocketError::ConnectionRefused))
        );
        assert_eq!(table.take_error(stack.sockets(), refused), Ok(None), "taken once");
    }
    // Established without a second connect: readiness says so, and the
    // socket sends.
    let listener = net.listen(7, 1);
    let client = net.client.open(Kind::Stream);
    {
        let Host { stack, table } = &mut net.client;
        assert_eq!(table.connect(stack, client, server(7)), Err(SocketError::InProgress));
        assert_eq!(net.client.send(client, b"early"), Err(SocketError::WouldBlock));
    }
    net.run(5);
    {
        let Host { stack, table } = &mut net.client;
        let ready = table.readiness(stack.sockets(), client).unwrap();
        assert_eq!(ready, Readiness { readable: false, writable: true, hangup: false });
    }
    let (accepted, _) = net.accept(listener).expect("accept");
    assert_eq!(net.transfer(false, client, accepted, b"late"), b"late");
}

#[test]
fn a_listener_holds_its_backlog_refuses_beyond_it_and_listens_again_after_an_accept() {
    let mut net = Net::new();
    let listener = net.listen(7, 2);
    let (_, first) = net.connect(7);
    let (_, second) = net.connect(7);
    let (third, refused) = net.connect(7);
    assert_eq!((first, second), (Ok(()), Ok(())));
    assert_eq!(refused, Err(SocketError::ConnectionRefused), "no third socket listens");
    net.accept(listener).expect("first");
    // The accepted socket's place in the backlog is taken by the pool's
    // last idle socket (four: two held, one accepted, one left).
    let Host { stack, table } = &mut net.client;
    assert_eq!(table.connect(stack, third, server(7)), Err(SocketError::InProgress));
    net.run(5);
    let Host { stack, table } = &mut net.client;
    assert_eq!(table.connect(stack, third, server(7)), Ok(()));
    net.accept(listener).expect("second");
    net.accept(listener).expect("third");
    assert_eq!(net.accept(listener), Err(SocketError::WouldBlock));
}

#[test]
fn closing_a_listener_resets_the_connections_nobody_accepted() {
    let mut net = Net::new();
    let listener = net.listen(7, 1);
    let (client, connected) = net.connect(7);
    assert_eq!(connected, Ok(()));
    {
        let Host { stack, table } = &mut net.server;
        table.close(stack.sockets(), listener).unwrap();
    }
    net.run(5);
    let mut buffer = [0u8; 4];
    assert_eq!(net.client.recv(client, &mut buffer), Err(SocketError::ConnectionReset));
    assert_eq!(net.client.send(client, b"x"), Err(SocketError::ConnectionReset));
}

#[test]
fn closed_connections_give_their_sockets_back_to_the_pool() {
    let mut net = Net::new();
    let listener = net.listen(7, 1);
    // Four TCP sockets on each side, ten connections one after another.
    for round in 0..10 {
        let (client, connected) = net.connect(7);
        assert_eq!(connected, Ok(()), "round {round}");
        let (accepted, _) = net.accept(listener).expect("accept");
        assert_eq!(net.transfer(false, client, accepted, b"ping"), b"ping");
        {
            let Host { stack, table } = &mut net.client;
            table.close(stack.sockets(), client).unwrap();
        }
        net.run(3);
        {
            let Host { stack, table } = &mut net.server;
            table.close(stack.sockets(), accepted).unwrap();
        }
        net.run(3);
    }
    assert_eq!(net.server.table.open_count(), 1);
    assert_eq!(net.client.table.open_count(), 0);
}

#[test]
fn datagrams_go_to_any_address_or_the_connected_peer_and_others_are_dropped() {
    let mut net = Net::new();
    let server_socket = net.server.open(Kind::Datagram);
    {
        let Host { stack, table } = &mut net.server;
        table.bind(stack, server_socket, Some(SERVER_ADDRESS), 7).unwrap();
    }
    let client = net.client.open(Kind::Datagram);
    {
        let Host { stack, table } = &mut net.client;
        assert_eq!(
            table.send(stack.sockets(), client, b"x"),
            Err(SocketError::DestinationRequired)
        );
        assert_eq!(table.send_to(stack.sockets(), client, b"hello", server(7)), Ok(5));
        assert_eq!(
            table.send_to(stack.sockets(), client, &[0; 3000], server(7)),
            Err(SocketError::MessageTooLong)
        );
    }
    net.run(3);
    let mut buffer = [0u8; 3];
    let Host { stack, table } = &mut net.server;
    let (count, from) = table.recv_from(stack.sockets(), server_socket, &mut buffer, true).unwrap();
    assert_eq!((count, &buffer), (3, b"hel"), "a peek leaves the datagram");
    let mut buffer = [0u8; 3];
    let (count, again) =
        table.recv_from(stack.sockets(), server_socket, &mut buffer, false).unwrap();
    assert_eq!((count, &buffer, again), (3, b"hel", from), "cut to the buffer, POSIX-style");
    assert_eq!(
        table.recv_from(stack.sockets(), server_socket, &mut buffer, false),
        Err(SocketError::WouldBlock),
        "the cut datagram's rest is gone"
    );
    assert_eq!(from.addr, CLIENT_ADDRESS);
    assert_eq!(table.send_to(stack.sockets(), server_socket, b"back", from), Ok(4));

    // A second client socket; the first connects to the server, so the
    // server's datagrams from the second port reach only the second.
    let other = net.client.open(Kind::Datagram);
    net.run(3);
    {
        let Host { stack, table } = &mut net.client;
        table.connect(stack, client, server(7)).unwrap();
        table.connect(stack, other, server(7)).unwrap();
        let mut buffer = [0u8; 8];
        assert_eq!(table.recv(stack.sockets(), client, &mut buffer, false), Ok(4));
        assert_eq!(&buffer[..4], b"back");
        let other_local = table.local_endpoint(stack, other).unwrap();
        let Host { stack, table } = &mut net.server;
        table.send_to(stack.sockets(), server_socket, b"to other", other_local).unwrap();
    }
    net.run(3);
    let Host { stack, table } = &mut net.client;
    let mut buffer = [0u8; 8];
    assert_eq!(
        table.recv(stack.sockets(), client, &mut buffer, false),
        Err(SocketError::WouldBlock)
    );
    assert_eq!(table.recv(stack.sockets(), other, &mut buffer, false), Ok(8));
}

#[test]
fn bad_requests_get_their_posix_errors() {
    let mut net = Net::new();
    let Host { stack, table } = &mut net.server;
    let a = table.open(stack.sockets(), Kind::Stream).unwrap();
    let b = table.open(stack.sockets(), Kind::Stream).unwrap();
    table.bind(stack, a, None, 80).unwrap();
    assert_eq!(table.bind(stack, b, None, 80), Err(SocketError::AddressInUse));
    assert_eq!(table.bind(stack, a, None, 81), Err(SocketError::InvalidInput), "bound already");
    assert_eq!(
        table.bind(stack, b, Some(IpAddress::v4(192, 0, 2, 1)), 81),
        Err(SocketError::AddressNotAvailable)
    );
    assert_eq!(table.send(stack.sockets(), b, b"x"), Err(SocketError::NotConnected));
    assert_eq!(table.accept(stack.sockets(), b), Err(SocketError::InvalidInput));
    assert_eq!(table.connect(stack, b, server(0)), Err(SocketError::InvalidInput));
    table.listen(stack.sockets(), a, 1).unwrap();
    assert_eq!(table.connect(stack, a, server(7)), Err(SocketError::InvalidInput));
    let udp = table.open(stack.sockets(), Kind::Datagram).unwrap();
    assert_eq!(table.listen(stack.sockets(), udp, 1), Err(SocketError::NotSupported));
    assert_eq!(table.set_nodelay(stack.sockets(), udp, true), Err(SocketError::NotSupported));
    table.set_nodelay(stack.sockets(), b, true).unwrap();
    assert_eq!(table.nodelay(stack.sockets(), b), Ok(true));
    // Four TCP sockets: the listener holds one, `b` another; two more.
    let c = table.open(stack.sockets(), Kind::Stream).unwrap();
    let d = table.open(stack.sockets(), Kind::Stream).unwrap();
    assert_eq!(table.open(stack.sockets(), Kind::Stream), Err(SocketError::NoBuffers));
    let _ = table.open(stack.sockets(), Kind::Datagram).unwrap();
    assert_eq!(table.open(stack.sockets(), Kind::Datagram), Err(SocketError::NoDescriptors));
    table.close(stack.sockets(), c).unwrap();
    table.close(stack.sockets(), d).unwrap();
    assert_eq!(table.close(stack.sockets(), d), Err(SocketError::BadDescriptor));
    // A reopened socket has no options of the last user's: `b`'s socket,
    // the pool's first idle one, had Nagle's algorithm off.
    table.close(stack.sockets(), b).unwrap();
    let e = table.open(stack.sockets(), Kind::Stream).unwrap();
    assert_eq!(table.nodelay(stack.sockets(), e), Ok(false));
    assert_eq!(SocketError::AddressInUse.errno_name(), "EADDRINUSE");
}

impl Host {
    fn ready(&mut self, id: SocketId) -> Readiness {
        self.table.readiness(self.stack.sockets(), id).expect("readiness")
    }
}

#[test]
fn readiness_follows_a_connection_through_data_and_each_side_s_end() {
    let mut net = Net::new();
    let listener = net.listen(7, 2);
    assert_eq!(net.server.ready(listener), Readiness::default(), "nobody connected");
    let (client, connected) = net.connect(7);
    assert_eq!(connected, Ok(()));
    assert!(net.server.ready(listener).readable, "a connection waits for accept");
    let (accepted, _) = net.accept(listener).unwrap();
    let quiet = Readiness { readable: false, writable: true, hangup: false };
    assert_eq!(net.server.ready(accepted), quiet);
    assert_eq!(net.client.send(client, b"data"), Ok(4));
    net.run(3);
    assert_eq!(net.server.ready(accepted), Readiness { readable: true, ..quiet }, "data waits");
    let mut buffer = [0u8; 8];
    assert_eq!(net.server.recv(accepted, &mut buffer), Ok(4));
    assert_eq!(net.server.ready(accepted), quiet);
    // The client shuts its sending side: the server reads the end, still
    // sends, and is not hung up; nor is the client, which still receives.
    {
        let Host { stack, table } = &mut net.client;
        table.shutdown(stack.sockets(), client, Shutdown::Write).unwrap();
    }
    net.run(3);
    assert_eq!(net.server.ready(accepted), Readiness { readable: true, ..quiet });
    let client_ready = net.client.ready(client);
    assert!(!client_ready.hangup && !client_ready.readable, "{client_ready:?}");
    // The server says goodbye and closes too: both ends are over, the
    // goodbye still to be read.
    assert_eq!(net.server.send(accepted, b"bye"), Ok(3));
    {
        let Host { stack, table } = &mut net.server;
        table.close(stack.sockets(), accepted).unwrap();
    }
    net.run(3);
    assert_eq!(
        net.client.ready(client),
        Readiness { readable: true, writable: true, hangup: true }
    );
    assert_eq!(net.client.recv(client, &mut buffer), Ok(3));
    assert_eq!(net.client.recv(client, &mut buffer), Ok(0));
    // Both sides closed, the client's socket in TIME-WAIT: sending is a
    // broken pipe, not a reset.
    assert_eq!(net.client.send(client, b"late"), Err(SocketError::BrokenPipe));
}

#[test]
fn empty_sends_and_receives_answer_at_once_and_a_full_buffer_blocks() {
    let mut net = Net::new();
    let listener = net.listen(7, 1);
    let (client, _) = net.connect(7);
    let (accepted, _) = net.accept(listener).unwrap();
    assert_eq!(net.client.send(client, b""), Ok(0));
    assert_eq!(net.server.recv(accepted, &mut []), Ok(0), "nothing asked for, nothing waits");
    assert_eq!(net.server.recv(accepted, &mut [0; 4]), Err(SocketError::WouldBlock));
    // Without polling, the 4 KiB transmit buffer fills.
    let chunk = [0x55u8; 1000];
    let mut queued = 0;
    let full = loop {
        match net.client.send(client, &chunk) {
            Ok(count) => queued += count,
            Err(error) => break error,
        }
    };
    assert_eq!((full, queued), (SocketError::WouldBlock, 4096));
    assert!(!net.client.ready(client).writable);
}

#[test]
fn shutting_down_the_receiving_side_reads_the_end_at_once_and_leaves_sending() {
    let mut net = Net::new();
    let listener = net.listen(7, 1);
    let (client, _) = net.connect(7);
    let (accepted, _) = net.accept(listener).unwrap();
    net.client.send(client, b"unread").unwrap();
    net.run(3);
    {
        let Host { stack, table } = &mut net.server;
        table.shutdown(stack.sockets(), accepted, Shutdown::Read).unwrap();
    }
    let mut buffer = [0u8; 8];
    assert_eq!(net.server.recv(accepted, &mut buffer), Ok(0), "shut, though data waits");
    assert_eq!(net.transfer(true, accepted, client, b"still sends"), b"still sends");
    // Shutting the sending side alone leaves receiving.
    {
        let Host { stack, table } = &mut net.client;
        table.shutdown(stack.sockets(), client, Shutdown::Write).unwrap();
        assert_eq!(
            table.recv(stack.sockets(), client, &mut buffer, false),
            Err(SocketError::WouldBlock)
        );
    }
}

#[test]
fn a_listener_takes_a_new_backlog_and_a_reset_half_of_it_listens_again() {
    let mut net = Net::new();
    let listener = net.listen(7, 1);
    {
        let Host { stack, table } = &mut net.server;
        table.listen(stack.sockets(), listener, 2).unwrap();
    }
    let (_, first) = net.connect(7);
    let (second_client, second) = net.connect(7);
    assert_eq!((first, second), (Ok(()), Ok(())), "two held after listen again with 2");
    // The pool's other two sockets taken: only a backlog socket that
    // listens again can take the third connection.
    for _ in 0..2 {
        net.server.open(Kind::Stream);
    }
    // The second connection is reset by its client before it is accepted:
    // its backlog socket listens again.
    {
        let Host { stack, table } = &mut net.client;
        let Some(Fd::Stream { pool, .. }) = table.fds[second_client.index()] else { panic!() };
        stack.sockets().get_mut::<tcp::Socket<'_>>(table.tcp[pool as usize].handle).abort();
    }
    net.run(5);
    net.accept(listener).expect("the first");
    assert_eq!(net.accept(listener), Err(SocketError::WouldBlock), "the reset one is gone");
    let (_, third) = net.connect(7);
    assert_eq!(third, Ok(()));
    net.accept(listener).expect("the third, on the socket that listened again");
}

#[test]
fn endpoints_options_and_closed_descriptors() {
    let mut net = Net::new();
    let Host { stack, table } = &mut net.client;
    let tcp = table.open(stack.sockets(), Kind::Stream).unwrap();
    let unspecified = IpEndpoint::new(IpAddress::v4(0, 0, 0, 0), 0);
    assert_eq!(table.local_endpoint(stack, tcp), Ok(unspecified), "not bound yet");
    let fresh = table.readiness(stack.sockets(), tcp).unwrap();
    assert_eq!(fresh, Readiness { hangup: true, ..Readiness::default() }, "no connection");
    assert_eq!(table.keep_alive(stack.sockets(), tcp), Ok(false));
    let interval = smoltcp::time::Duration::from_secs(1);
    table.set_keep_alive(stack.sockets(), tcp, Some(interval)).unwrap();
    assert_eq!(table.keep_alive(stack.sockets(), tcp), Ok(true));
    table.set_keep_alive(stack.sockets(), tcp, None).unwrap();
    assert_eq!(table.keep_alive(stack.sockets(), tcp), Ok(false));
    let udp = table.open(stack.sockets(), Kind::Datagram).unwrap();
    assert_eq!(table.peer_endpoint(stack.sockets(), udp), Err(SocketError::NotConnected));
    table.connect(stack, udp, server(9)).unwrap();
    assert_eq!(table.peer_endpoint(stack.sockets(), udp), Ok(server(9)));
    table.close(stack.sockets(), udp).unwrap();
    assert_eq!(table.peer_endpoint(stack.sockets(), udp), Err(SocketError::BadDescriptor));
    assert_eq!(table.kind(udp), Err(SocketError::BadDescriptor));
}

#[test]
fn ports_are_per_protocol_and_datagrams_fit_the_buffer_or_are_refused() {
    let mut net = Net::new();
    let Host { stack, table } = &mut net.server;
    let listener = table.open(stack.sockets(), Kind::Stream).unwrap();
    table.bind(stack, listener, None, 7).unwrap();
    table.listen(stack.sockets(), listener, 1).unwrap();
    let a = table.open(stack.sockets(), Kind::Datagram).unwrap();
    assert_eq!(table.kind(a), Ok(Kind::Datagram));
    table.bind(stack, a, None, 7).expect("UDP 7 is free though TCP 7 listens");
    let b = table.open(stack.sockets(), Kind::Datagram).unwrap();
    assert_eq!(table.bind(stack, b, None, 7), Err(SocketError::AddressInUse));
    let tcp = table.open(stack.sockets(), Kind::Stream).unwrap();
    assert_eq!(table.bind(stack, tcp, None, 7), Err(SocketError::AddressInUse), "the listener's");
    // A datagram as large as the 2048-byte buffer fits; one byte more is
    // too long; port 0 and the unspecified address are no destination.
    let to = IpEndpoint::new(CLIENT_ADDRESS, 9);
    assert_eq!(table.send_to(stack.sockets(), b, &[1; 2048], to), Ok(2048));
    assert_eq!(table.send_to(stack.sockets(), b, &[1; 2049], to), Err(SocketError::MessageTooLong));
    let no_port = IpEndpoint::new(CLIENT_ADDRESS, 0);
    assert_eq!(table.send_to(stack.sockets(), b, b"x", no_port), Err(SocketError::InvalidInput));
    let nowhere = IpEndpoint::new(IpAddress::v4(0, 0, 0, 0), 9);
    assert_eq!(table.send_to(stack.sockets(), b, b"x", nowhere), Err(SocketError::InvalidInput));
}

#[test]
fn ephemeral_ports_rise_within_the_dynamic_range_skip_taken_ones_and_wrap() {
    let mut net = Net::new();
    let Host { stack, table } = &mut net.client;
    let taken = table.open(stack.sockets(), Kind::Datagram).unwrap();
    table.bind(stack, taken, None, super::FIRST_EPHEMERAL_PORT + 1).unwrap();
    let local = |table: &mut Table, stack: &mut Stack<'static, Phy<WireEnd>, TestClock>, id| {
        table.local_endpoint(stack, id).unwrap().port
    };
    let first = table.open(stack.sockets(), Kind::Datagram).unwrap();
    table.bind(stack, first, None, 0).unwrap();
    assert_eq!(local(table, stack, first), super::FIRST_EPHEMERAL_PORT);
    let tcp = table.open(stack.sockets(), Kind::Stream).unwrap();
    table.bind(stack, tcp, None, 0).unwrap();
    assert_eq!(
        local(table, stack, tcp),
        super::FIRST_EPHEMERAL_PORT + 1,
        "the next: ports are per protocol, UDP's taken one is free for TCP"
    );
    table.close(stack.sockets(), first).unwrap();
    table.close(stack.sockets(), tcp).unwrap();
    // At the top of the range the counter wraps to its bottom; a UDP port
    // taken there is skipped.
    table.next_port = u16::MAX;
    let top = table.open(stack.sockets(), Kind::Datagram).unwrap();
    table.bind(stack, top, None, 0).unwrap();
    assert_eq!(local(table, stack, top), u16::MAX);
    let again = table.open(stack.sockets(), Kind::Stream).unwrap();
    table.bind(stack, again, None, 0).unwrap();
    assert_eq!(local(table, stack, again), super::FIRST_EPHEMERAL_PORT, "wrapped");
    table.close(stack.sockets(), again).unwrap();
    table.close(stack.sockets(), top).unwrap();
    table.next_port = super::FIRST_EPHEMERAL_PORT + 1;
    let skip = table.open(stack.sockets(), Kind::Datagram).unwrap();
    table.bind(stack, skip, None, 0).unwrap();
    assert_eq!(
        local(table, stack, skip),
        super::FIRST_EPHEMERAL_PORT + 2,
        "UDP's taken one skipped"
    );
}

#[test]
fn a_closed_connection_keeps_its_port_until_it_is_over() {
    let mut net = Net::new();
    net.listen(7, 1);
    let port = super::FIRST_EPHEMERAL_PORT + 3;
    net.client.table.next_port = port;
    let (client, connected) = net.connect(7);
    assert_eq!(connected, Ok(()));
    // Closed, its FIN not yet sent: the port is still the connection's.
    let Host { stack, table } = &mut net.client;
    table.close(stack.sockets(), client).unwrap();
    table.next_port = port;
    let after = table.open(stack.sockets(), Kind::Stream).unwrap();
    table.bind(stack, after, None, 0).unwrap();
    assert_eq!(table.local_endpoint(stack, after).unwrap().port, port + 1);
}

#[test]
fn closing_everything_drains_what_was_queued_before_the_stack_may_stop() {
    let mut net = Net::new();
    let listener = net.listen(7, 1);
    let (client, _) = net.connect(7);
    let (accepted, _) = net.accept(listener).unwrap();
    let udp = net.client.open(Kind::Datagram);
    assert!(!net.client.table.drained(net.client.stack.sockets()), "a connection is open");
    // The client queues data and a datagram and closes everything at once.
    let data = pattern(3000, 9);
    assert_eq!(net.client.send(client, &data), Ok(3000));
    {
        let Host { stack, table } = &mut net.client;
        table.send_to(stack.sockets(), udp, b"last", server(9)).unwrap();
        table.close_all(stack.sockets());
        assert_eq!(table.open_count(), 0);
        assert!(!table.drained(stack.sockets()), "data, a FIN and a datagram queued");
    }
    let mut rounds = 0;
    while !net.client.table.drained(net.client.stack.sockets()) {
        net.run(1);
        rounds += 1;
        assert!(rounds < 100, "never drained");
    }
    // Everything arrived: the data, then the end of the stream.
    let mut received = Vec::new();
    let mut buffer = [0u8; 1000];
    loop {
        match net.server.recv(accepted, &mut buffer) {
            Ok(0) => break,
            Ok(count) => received.extend_from_slice(&buffer[..count]),
            Err(error) => panic!("{error:?}"),
        }
    }
    assert_eq!(received, data);
}

#[test]
fn a_duplicate_names_the_socket_until_its_last_descriptor_is_freed() {
    let mut descriptors = Descriptors::<4>::new();
    let first = SocketId::new::<6>(3).unwrap();
    let second = SocketId::new::<6>(1).unwrap();
    assert_eq!(descriptors.attach(first), Ok(0));
    assert_eq!(descriptors.attach(second), Ok(1));
    // dup: the lowest free descriptor, naming the same socket.
    assert_eq!(descriptors.duplicate(0), Ok(2));
    assert_eq!(descriptors.socket(2), Ok(first));
    // Freeing the original leaves the socket open through its copy...
    assert_eq!(descriptors.detach(0), Ok(None));
    assert_eq!(descriptors.socket(0), Err(SocketError::BadDescriptor));
    assert_eq!(descriptors.socket(2), Ok(first));
    // ...and the freed descriptor is the lowest again.
    assert_eq!(descriptors.duplicate(2), Ok(0));
    assert_eq!(descriptors.detach(2), Ok(None));
    // The last one's close is the socket's.
    assert_eq!(descriptors.detach(0), Ok(Some(first)));
    assert_eq!(descriptors.detach(1), Ok(Some(second)));
    assert_eq!(descriptors.detach(1), Err(SocketError::BadDescriptor));
}

#[test]
fn descriptors_run_out_and_bad_ones_are_refused() {
    let mut descriptors = Descriptors::<2>::default();
    let id = SocketId::new::<6>(0).unwrap();
    assert!(descriptors.has_room());
    assert_eq!(descriptors.attach(id), Ok(0));
    assert_eq!(descriptors.duplicate(0), Ok(1));
    assert!(!descriptors.has_room());
    assert_eq!(descriptors.duplicate(0), Err(SocketError::NoDescriptors));
    assert_eq!(descriptors.attach(id), Err(SocketError::NoDescriptors));
    // Out of range, or free: not a descriptor.
    assert_eq!(descriptors.socket(2), Err(SocketError::BadDescriptor));
    assert_eq!(descriptors.duplicate(7), Err(SocketError::BadDescriptor));
    assert_eq!(descriptors.detach(1), Ok(None));
    assert!(descriptors.has_room());
    assert_eq!(descriptors.duplicate(1), Err(SocketError::BadDescriptor));
    assert_eq!(descriptors.detach(1), Err(SocketError::BadDescriptor));
}

#[test]
fn a_handshake_its_peer_abandons_expires_and_its_backlog_socket_listens_again() {
    let mut net = Net::new();
    let listener = net.listen(7, 1);
    // The pool's other three sockets taken: only the backlog socket can
    // take a connection.
    for _ in 0..3 {
        net.server.open(Kind::Stream);
    }
    let state = |net: &mut Net| {
        let Host { stack, table } = &mut net.server;
        let pooled = table.tcp.iter().find(|p| p.user == super::User::Backlog(listener.0));
        pooled.map(|p| stack.sockets().get::<tcp::Socket<'_>>(p.handle).state())
    };
    // The client's SYN reaches the server, which answers; the client
    // goes away (it polls no more), as a peer that sent a SYN and
    // vanished, or a SYN with a forged source address, does.
    let client = net.client.open(Kind::Stream);
    {
        let Host { stack, table } = &mut net.client;
        assert_eq!(table.connect(stack, client, server(7)), Err(SocketError::InProgress));
    }
    // (The client asks for the server's link address first.)
    for _ in 0..20 {
        net.clock.0.set(net.clock.0.get() + 1_000);
        net.client.stack.poll();
        net.server.stack.poll();
        if state(&mut net) == Some(tcp::State::SynReceived) {
            break;
        }
    }
    assert_eq!(state(&mut net), Some(tcp::State::SynReceived));
    // The server's SYN-ACKs go unanswered: short of the handshake's
    // time, the socket still waits for the peer's ACK.
    let mut waited = 0;
    let mut server_only = |net: &mut Net, ms: u64| {
        for _ in 0..ms / 100 {
            net.clock.0.set(net.clock.0.get() + 100_000);
            net.server.stack.poll();
        }
        waited += ms;
        waited
    };
    server_only(&mut net, super::HANDSHAKE_TIMEOUT.total_millis() - 1_000);
    assert_eq!(state(&mut net), Some(tcp::State::SynReceived));
    // Past it, the half-open connection is reset and, at the next accept,
    // the socket listens again.
    server_only(&mut net, 2_000);
    assert_eq!(net.accept(listener), Err(SocketError::WouldBlock));
    assert_eq!(state(&mut net), Some(tcp::State::Listen));
    // The client comes back: its connection was reset; a new one is
    // accepted on the socket that listens again.
    net.run(20);
    {
        let Host { stack, table } = &mut net.client;
        table.close(stack.sockets(), client).unwrap();
    }
    let (client, again) = net.connect(7);
    assert_eq!(again, Ok(()));
    let (accepted, _) =
        net.accept(listener).expect("a connection on the socket that listened again");
    // Accepted, the connection has no such limit: quiet for longer, it
    // still carries data.
    for _ in 0..(super::HANDSHAKE_TIMEOUT.total_millis() + 5_000) / 100 {
        net.clock.0.set(net.clock.0.get() + 100_000);
        net.client.stack.poll();
        net.server.stack.poll();
    }
    assert_eq!(net.transfer(false, client, accepted, b"still here"), b"still here");
}
