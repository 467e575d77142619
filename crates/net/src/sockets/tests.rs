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

use super::{Kind, Readiness, Shutdown, SocketError, SocketId, Sockets};
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
