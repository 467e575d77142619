//! `std::net` on Ferrode: an ordinary Rust std `main` that serves TCP and
//! UDP echo (port 7) and connects out, through its NIC session.
//!
//! The client component `app` runs `main` (see hello-std for the rest of
//! std); its sockets are smoltcp's, over the packet streams of its NIC
//! session with the NIC driver component, which reaches the Ethernet
//! controller through IO_MEM and IRQ sessions only. Its address comes from
//! DHCP (`FERRODE_IPV4=dhcp` in its `env` module; QEMU's user network
//! hands out 10.0.2.15).
//!
//! What `main` does, in order, printing each step:
//!
//! 1. binds a `TcpListener` and a `UdpSocket` to port 7, waits for its
//!    address, shows that a second listener on the port is refused and
//!    that a non-blocking `accept` with nobody connecting would block,
//!    announces the address and prints the wall clock (`SystemTime`, from
//!    its Rtc route: the PBX-A9's real-time clock);
//! 2. echoes one TCP connection until its peer ends it, in a thread of its
//!    own while `main` joins it, reading through a `try_clone` of the
//!    stream (a second descriptor for its socket) and writing through the
//!    stream, and shows that the connection outlives the clone's close;
//! 3. waits out a 100 ms UDP read timeout, then echoes datagrams until one
//!    says `done` (answering through a `try_clone` of the socket);
//! 4. looks host names up: `localhost` and `ferrode.invalid` (which RFC
//!    6761 says does not exist) without a query, others from the DNS
//!    (QEMU's user network's server, 10.0.2.3, which asks the host's; with
//!    a port as its third argument, the test's server at 10.0.2.2:PORT
//!    instead, which knows `echo.ferrode.test` as the host, 10.0.2.2);
//! 5. with a host port as its first argument (`cargo xtask run --app
//!    net-std -- PORT`), connects to 10.0.2.2:PORT (the host, under QEMU;
//!    by the name `echo.ferrode.test` with the test's DNS server), sends
//!    a line and prints the answer; with a second, connects to that port,
//!    where nobody listens, and prints the refusal (twice: waiting, and
//!    with a timeout);
//! 6. writes 64 KiB to one more connection (`write_vectored`, from two
//!    buffers) through a `try_clone` of the accepted stream, which it
//!    closes first, and exits with the clone open: the exit closes it, and
//!    what its socket still held is delivered.
//!
//! With `bench` as its first argument it is the std::net side of `cargo
//! xtask bench net`: it echoes any number of TCP connections at once on
//! port 7 with non-blocking sockets and `poll` (from `hermit-abi`, as a
//! Hermit program calls it: std has none), and answers echo-net's control
//! protocol on UDP port 8 (`stats`: instructions retired, virtual time,
//! the time and instructions spent idle, bytes echoed; `quit`).

use std::io::{ErrorKind, IoSlice, IoSliceMut, Read, Write};
use std::net::{
    Ipv4Addr, Shutdown, SocketAddrV4, TcpListener, TcpStream, ToSocketAddrs, UdpSocket,
};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

ferrode_board::compose! {
    servers {
        log: { priority: 5, stack: 4096, provides: "LOG", root: ferrode_board::component::log_root },
        timer: { priority: 5, stack: 4096, provides: "Timer", root: ferrode_board::component::timer_root },
        io_mem: { priority: 5, stack: 4096, provides: "IO_MEM", root: ferrode_board::component::io_mem_root },
        irq: { priority: 5, stack: 4096, provides: "IRQ", root: ferrode_board::component::irq_root },
        rom: { priority: 5, stack: 4096, provides: "ROM", root: rom_root },
        nic: { priority: 4, stack: 8192, provides: "Nic", root: ferrode_board::component::nic_root },
        rtc: { priority: 5, stack: 4096, provides: "Rtc", root: ferrode_board::component::rtc_root },
    }
    clients {
        app: { priority: 3, stack: 32768, main: ferrode_board::hermit::std_main },
    }
    routes {
        nic: "IO_MEM" "ethernet" => io_mem,
        nic: "IRQ" "ethernet" => irq,
        app: "LOG" "" => log,
        app: "Timer" "" => timer,
        app: "Nic" "" => nic,
        app: "ROM" "env" => rom,
        app: "Rtc" "" => rtc,
    }
}

/// The environment: the interface's address comes from DHCP.
static MODULES: [ferrode_board::component::Module; 1] = [("env", b"FERRODE_IPV4=dhcp\n")];

fn rom_root(
    entrypoint: ferrode_board::kernel::BoardEntrypoint,
) -> Result<ferrode_ipc::Capability<dyn ferrode_component::Root>, ferrode_board::kernel::KernelError>
{
    ferrode_board::component::rom_root(entrypoint, &MODULES)
}

/// The echo port.
const PORT: u16 = 7;

/// The control port of `bench` mode.
const CONTROL_PORT: u16 = 8;

/// The listener's address: the interface's, once DHCP gave it one (at
/// most 20 s of waiting).
fn address_of(listener: &TcpListener) -> std::net::SocketAddr {
    let start = Instant::now();
    loop {
        let address = listener.local_addr().expect("a bound listener has an address");
        if !address.ip().is_unspecified() || start.elapsed() > Duration::from_secs(20) {
            return address;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, PORT)).expect("port 7 is free");
    if args.first().is_some_and(|mode| mode == "bench") {
        return bench::serve(listener);
    }
    let udp = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, PORT)).expect("UDP port 7 is free");
    let address = address_of(&listener);
    match TcpListener::bind((Ipv4Addr::UNSPECIFIED, PORT)) {
        Ok(_) => println!("a second listener on port 7? it was let in"),
        Err(error) => println!("a second listener on port 7: {:?}", error.kind()),
    }
    // Before the address is announced, nobody knows to connect.
    listener.set_nonblocking(true).expect("FIONBIO");
    let early = match listener.accept() {
        Ok(connection) => Some(connection),
        Err(error) => {
            println!("a non-blocking accept with nobody there: {:?}", error.kind());
            None
        }
    };
    listener.set_nonblocking(false).expect("FIONBIO");
    println!("listening on {address} (tcp, udp)");
    // The date, from core's Rtc service: with the composer, nine
    // components are alive.
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    println!("the wall clock: {since_epoch} s since 1970");

    // TCP: one connection, echoed until its peer ends it.
    let (stream, peer) = match early {
        Some(connection) => connection,
        None => listener.accept().expect("accept"),
    };
    println!("tcp: a connection from {}", peer.ip());
    stream.set_nodelay(true).expect("TCP_NODELAY");
    // Read through a second descriptor for the socket (POSIX `dup`), in a
    // thread of its own, which echoes through the stream while `main`
    // waits for it.
    let reader = stream.try_clone().expect("try_clone");
    let (echoed, reader, stream) = match std::thread::spawn(move || echo(reader, stream)).join() {
        Ok(Ok(echoed)) => echoed,
        Ok(Err(error)) => {
            println!("tcp: read failed: {error}");
            return ExitCode::FAILURE;
        }
        Err(_) => return ExitCode::FAILURE,
    };
    println!("tcp: echoed {echoed} bytes, then the end of the stream");
    // Closing one descriptor leaves the socket to the other.
    drop(reader);
    match stream.peer_addr() {
        Ok(peer) => {
            println!("tcp: with its clone closed, the stream still has its peer {}", peer.ip())
        }
        Err(error) => println!("tcp: with its clone closed, the stream lost its peer: {error}"),
    }
    drop(stream);

    // UDP: a read that times out, then echo until "done".
    let mut buffer = [0u8; 4096];
    udp.set_read_timeout(Some(Duration::from_millis(100))).expect("SO_RCVTIMEO");
    let start = Instant::now();
    let timed_out = udp.recv_from(&mut buffer);
    let waited = start.elapsed();
    match timed_out {
        Ok((count, from)) => println!("udp: {count} bytes from {from} before anyone sent?"),
        Err(error) => println!(
            "udp: a read with a 100 ms timeout: {:?}, {}",
            error.kind(),
            if waited >= Duration::from_millis(100) { "not early" } else { "TOO EARLY" }
        ),
    }
    udp.set_read_timeout(None).expect("SO_RCVTIMEO");
    let answers = udp.try_clone().expect("try_clone");
    println!("udp: ready");
    let mut datagrams = 0;
    loop {
        let (count, from) = udp.recv_from(&mut buffer).expect("recv_from");
        if &buffer[..count] == b"done" {
            break;
        }
        answers.send_to(&buffer[..count], from).expect("send_to");
        datagrams += 1;
    }
    println!("udp: echoed {datagrams} datagrams, then done");

    // Host names: with a DNS server's port, the host's name is known.
    let dns = args.get(2).and_then(|port| port.parse::<u16>().ok());
    if let Some(port) = dns {
        let server = SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 2), port);
        ferrode_board::hermit::set_name_server(Some(server));
    }
    for name in ["localhost", HOST_NAME] {
        match (name, 0).to_socket_addrs() {
            Ok(addresses) => {
                let addresses: Vec<String> = addresses.map(|a| a.ip().to_string()).collect();
                println!("a host name: {name} is {}", addresses.join(", "));
            }
            Err(error) => println!("a host name: {name} was not found: {error}"),
        }
    }
    match TcpStream::connect("ferrode.invalid:80") {
        Ok(_) => println!("a name that does not exist: connected?"),
        Err(error) => println!("a name that does not exist: {error}"),
    }

    // Out to the host (by name, with a DNS server), and to a port where
    // nobody listens.
    let host = if dns.is_some() { HOST_NAME } else { "10.0.2.2" };
    if let Some(port) = args.first().and_then(|port| port.parse::<u16>().ok()) {
        match say_hello(host, port) {
            Ok(answer) => println!("outgoing: the host answered {answer:?}"),
            Err(error) => println!("outgoing: {error}"),
        }
    }
    if let Some(port) = args.get(1).and_then(|port| port.parse::<u16>().ok()) {
        match TcpStream::connect(("10.0.2.2", port)) {
            Ok(_) => println!("a closed port: connected?"),
            Err(error) => println!("a closed port: {:?}", error.kind()),
        }
        // std's connect_timeout: a non-blocking connect, poll, SO_ERROR.
        let closed = std::net::SocketAddr::from(([10, 0, 2, 2], port));
        match TcpStream::connect_timeout(&closed, Duration::from_secs(5)) {
            Ok(_) => println!("a closed port, with a timeout: connected?"),
            Err(error) => println!("a closed port, with a timeout: {:?}", error.kind()),
        }
    }
    // A last connection gets 64 KiB and the program exits with it still
    // open: the exit closes it, and the stack sends what the socket
    // still holds (up to its 16 KiB buffer) before the component ends.
    println!("waiting for the last connection");
    let (accepted, _) = listener.accept().expect("accept");
    // Written through a clone: the accepted stream's close must not end
    // the connection.
    let mut last = accepted.try_clone().expect("try_clone");
    drop(accepted);
    let goodbye: Vec<u8> = (0..GOODBYE_BYTES).map(|i| (i % 251) as u8).collect();
    // From two buffers (writev), the first larger than the socket's 16 KiB:
    // each write takes what fits, in order.
    let (first, second) = goodbye.split_at(40 * 1024);
    let mut slices = [IoSlice::new(first), IoSlice::new(second)];
    let mut unsent = &mut slices[..];
    while !unsent.is_empty() {
        match last.write_vectored(unsent) {
            Ok(0) | Err(_) => {
                println!("the goodbye could not be written");
                return ExitCode::FAILURE;
            }
            Ok(sent) => IoSlice::advance_slices(&mut unsent, sent),
        }
    }
    println!("done");
    std::process::exit(0)
}

/// The host's name at the test's DNS server.
const HOST_NAME: &str = "echo.ferrode.test";

/// What the last connection gets: byte `i` is `i % 251`.
const GOODBYE_BYTES: usize = 64 * 1024;

/// Connects to `host`'s `port`, sends a line, ends its side and reads
/// the answer to its end.
/// Echoes what `reader` reads through `stream` (two descriptors of one
/// connection) until its peer ends it; gives both back with the count.
fn echo(
    mut reader: TcpStream,
    mut stream: TcpStream,
) -> std::io::Result<(usize, TcpStream, TcpStream)> {
    let mut buffer = [0u8; 4096];
    let mut echoed = 0;
    loop {
        // Into two buffers (readv).
        let (first, second) = buffer.split_at_mut(1024);
        let mut parts = [IoSliceMut::new(first), IoSliceMut::new(second)];
        match reader.read_vectored(&mut parts)? {
            0 => return Ok((echoed, reader, stream)),
            count => {
                stream.write_all(&buffer[..count])?;
                echoed += count;
            }
        }
    }
}

fn say_hello(host: &str, port: u16) -> std::io::Result<String> {
    let mut stream = TcpStream::connect((host, port))?;
    println!("outgoing: connected to {} from port {}", stream.peer_addr()?, {
        let local = stream.local_addr()?;
        if local.port() >= 49152 { "49152 or above" } else { "below 49152?" }
    });
    stream.write_all(b"hello from Ferrode\n")?;
    stream.shutdown(Shutdown::Write)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    match answer.is_empty() {
        true => Err(std::io::Error::new(ErrorKind::UnexpectedEof, "no answer")),
        false => Ok(answer),
    }
}

/// `bench` mode: TCP echo for any number of connections and the control
/// port, in one thread, sleeping in `poll` whenever nothing moved.
mod bench {
    use std::io::{ErrorKind, Read, Write};
    use std::net::{Ipv4Addr, TcpListener, TcpStream, UdpSocket};
    use std::os::hermit::io::AsRawFd;
    use std::process::ExitCode;

    use ferrode_board::{InstructionCounter, kernel};
    use ferrode_hal::Monotonic;

    /// One connection: what it sent that is not yet echoed.
    struct Connection {
        stream: TcpStream,
        buffer: Box<[u8]>,
        start: usize,
        end: usize,
        /// Its peer ended its side.
        ended: bool,
        /// Over: to be closed.
        closed: bool,
    }

    impl Connection {
        /// Echoes what it can without blocking; whether anything moved.
        fn pump(&mut self, echoed: &mut u64) -> bool {
            let mut moved = false;
            loop {
                if self.start < self.end {
                    match self.stream.write(&self.buffer[self.start..self.end]) {
                        Ok(count) => {
                            self.start += count;
                            *echoed += count as u64;
                            moved = true;
                        }
                        Err(error) if error.kind() == ErrorKind::WouldBlock => return moved,
                        Err(_) => self.closed = true,
                    }
                } else if self.ended {
                    self.closed = true;
                } else {
                    match self.stream.read(&mut self.buffer) {
                        Ok(0) => self.ended = true,
                        Ok(count) => (self.start, self.end, moved) = (0, count, true),
                        Err(error) if error.kind() == ErrorKind::WouldBlock => return moved,
                        Err(_) => self.closed = true,
                    }
                }
                if self.closed {
                    return true;
                }
            }
        }
    }

    pub fn serve(listener: TcpListener) -> ExitCode {
        let control = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, super::CONTROL_PORT))
            .expect("UDP port 8 is free");
        let address = super::address_of(&listener);
        listener.set_nonblocking(true).expect("FIONBIO");
        control.set_nonblocking(true).expect("FIONBIO");
        let mut instructions = InstructionCounter::start();
        let mut clock = ferrode_board::platform::devices::clock();
        let (mut idle_ns, mut sleeps, mut echoed) = (0u64, 0u64, 0u64);
        let mut connections: Vec<Connection> = Vec::new();
        println!("listening on {address} (tcp), control on udp port {}", super::CONTROL_PORT);
        let mut request = [0u8; 16];
        loop {
            instructions.read();
            let mut moved = false;
            while let Ok((stream, _)) = listener.accept() {
                let _ = stream.set_nonblocking(true);
                let _ = stream.set_nodelay(true);
                let buffer = vec![0; 16 * 1024].into_boxed_slice();
                connections.push(Connection {
                    stream,
                    buffer,
                    start: 0,
                    end: 0,
                    ended: false,
                    closed: false,
                });
                moved = true;
            }
            for connection in &mut connections {
                moved |= connection.pump(&mut echoed);
            }
            connections.retain(|connection| !connection.closed);
            while let Ok((count, from)) = control.recv_from(&mut request) {
                moved = true;
                match request[..count].trim_ascii() {
                    b"stats" => {
                        let line = format!(
                            "instructions={} virtual_ns={} idle_ns={idle_ns} sleeps={sleeps} idle_instructions={} tcp_bytes={echoed}",
                            instructions.read(),
                            clock.now_ns(),
                            kernel::idle_instructions(),
                        );
                        let _ = control.send_to(line.as_bytes(), from);
                    }
                    b"quit" => {
                        println!("quit ({echoed} bytes echoed over tcp)");
                        return ExitCode::SUCCESS;
                    }
                    _ => {}
                }
            }
            if moved {
                continue;
            }
            // Nothing to do: sleep until a socket is ready.
            let events = |readable: bool| {
                if readable { hermit_abi::POLLIN } else { hermit_abi::POLLOUT }
            };
            let mut fds: Vec<hermit_abi::pollfd> = [&listener.as_raw_fd(), &control.as_raw_fd()]
                .into_iter()
                .map(|fd| hermit_abi::pollfd { fd: *fd, events: hermit_abi::POLLIN, revents: 0 })
                .chain(connections.iter().map(|connection| hermit_abi::pollfd {
                    fd: connection.stream.as_raw_fd(),
                    events: events(connection.start == connection.end),
                    revents: 0,
                }))
                .collect();
            let asleep = clock.now_ns();
            // SAFETY: `fds` is that many entries, alive across the call.
            let ready = unsafe { hermit_abi::poll(fds.as_mut_ptr(), fds.len(), -1) };
            idle_ns += clock.now_ns() - asleep;
            sleeps += 1;
            if ready < 0 {
                println!("poll failed: {}", std::io::Error::from_raw_os_error(-ready));
                return ExitCode::FAILURE;
            }
        }
    }
}
