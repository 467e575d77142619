//! `std::net` on both boards: net-std, an ordinary Rust std `main`, gets
//! its address by DHCP, echoes a TCP connection and UDP datagrams on port
//! 7 (each through `try_clone`s of its sockets too), waits out a read
//! timeout, looks host names up at the test's DNS server, connects out by
//! name to a listener of the test's on the host and is refused by a host
//! port where nobody listens.

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::echo_net::fail;
use super::{Case, Check, Failure, Scripted, board};
use crate::boards::RunOptions;
use crate::harness;
use crate::net;

/// The net-std case on each board.
pub fn cases() -> Vec<Case> {
    [board("realview-pbx-a9"), board("microblaze-v")]
        .into_iter()
        .map(|board| Case {
            name: format!("net-std serves and connects through std::net on {}", board.name),
            board,
            app: "net-std",
            options: RunOptions::default(),
            timeout: Duration::from_secs(90),
            check: Check::Scripted(net_std),
        })
        .collect()
}

/// What the host's listener answers to the line net-std sends.
const ANSWER: &str = "hello from the host, you said ";

/// A listener on a free host port that answers one connection: what it
/// read (to the client's end of sending), after [`ANSWER`]. Its port.
fn host_listener() -> std::io::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let port = listener.local_addr()?.port();
    thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else { return };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        let mut said = Vec::new();
        if stream.read_to_end(&mut said).is_ok() {
            let mut answer = ANSWER.as_bytes().to_vec();
            answer.extend_from_slice(&said);
            let _ = stream.write_all(&answer);
        }
    });
    Ok(port)
}

/// The name the test's DNS server knows: the host, as net-std sees it.
const HOST_NAME: &str = "echo.ferrode.test";

/// The test's DNS server on a free host UDP port (net-std reaches it at
/// 10.0.2.2:PORT): `echo.ferrode.test` is 10.0.2.2, no other name exists.
/// It leaves the first query unanswered, so that the name is found by
/// the resolver's second try. Its port, and the names it is asked.
fn dns_server() -> std::io::Result<(u16, Arc<Mutex<Vec<String>>>)> {
    let socket = UdpSocket::bind(("127.0.0.1", 0))?;
    let port = socket.local_addr()?.port();
    socket.set_read_timeout(Some(Duration::from_secs(300)))?;
    let asked = Arc::new(Mutex::new(Vec::new()));
    let names = Arc::clone(&asked);
    thread::spawn(move || {
        let mut buffer = [0u8; 512];
        let mut first = true;
        while let Ok((count, from)) = socket.recv_from(&mut buffer) {
            let Some((name, end)) = dns_question(&buffer[..count]) else { continue };
            names.lock().unwrap().push(name.clone());
            if !std::mem::take(&mut first) {
                let _ = socket.send_to(&dns_answer(&buffer[..end], &name), from);
            }
        }
    });
    Ok((port, asked))
}

/// The name a one-question query asks for (lower case), and where its
/// question ends.
fn dns_question(query: &[u8]) -> Option<(String, usize)> {
    if query.get(4..6)? != [0, 1] {
        return None;
    }
    let mut labels = Vec::new();
    let mut at = 12;
    loop {
        let length = usize::from(*query.get(at)?);
        if length == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(query.get(at + 1..at + 1 + length)?).to_lowercase());
        at += 1 + length;
    }
    let end = at + 5;
    (query.len() >= end).then(|| (labels.join("."), end))
}

/// The answer to `query` (its header and question) for `name`: one A
/// record, 10.0.2.2, for [`HOST_NAME`]; `NXDOMAIN` for others.
fn dns_answer(query: &[u8], name: &str) -> Vec<u8> {
    let known = name == HOST_NAME;
    let mut answer = query.to_vec();
    // A response, recursion desired and available; no such name or one
    // answer record.
    answer[2..4].copy_from_slice(&(if known { 0x8180u16 } else { 0x8183 }).to_be_bytes());
    answer[6..8].copy_from_slice(&u16::from(known).to_be_bytes());
    if known {
        // The question's name (a pointer), A, IN, 60 s, 4 bytes.
        answer.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 2, 2]);
    }
    answer
}

fn net_std(s: &Scripted<'_>) -> Result<(), Failure> {
    let no_console = |message: String| Failure { message, console: String::new() };
    let host_port = host_listener().map_err(|e| no_console(format!("no host listener: {e}")))?;
    // A port nobody listens on: taken from the system, then let go.
    let closed_port = net::free_port().map_err(|e| no_console(format!("no free port: {e}")))?;
    let (dns_port, asked) = dns_server().map_err(|e| no_console(format!("no DNS server: {e}")))?;
    let mut options = s.options.clone();
    options.args = vec![
        "net-std".into(),
        host_port.to_string(),
        closed_port.to_string(),
        dns_port.to_string(),
    ];
    let (running, ports) = net::boot_forwarded(
        s.board,
        s.image,
        &options,
        &[7],
        "[app] listening on 10.0.2.15:7 (tcp, udp)",
        Duration::from_secs(30),
    )
    .map_err(|(message, console)| Failure { message, console })?;
    let port = ports[0];

    // TCP echo of 256 KiB, more than the socket's 16 KiB buffers many
    // times over, sent and read at once.
    let data = net::Random::new(0x5d).bytes(256 * 1024);
    let echoed = net::tcp_echo(port, &data, harness::scaled(Duration::from_secs(40)))
        .map_err(|e| fail(&running, format!("tcp echo: {e}")))?;
    net::check_echo(&data, &echoed).map_err(|e| fail(&running, format!("tcp echo: {e}")))?;

    if !running.wait_for("[app] udp: ready", Duration::from_secs(20)) {
        return Err(fail(&running, "no 'udp: ready' line"));
    }
    let udp = net::udp_client(port, harness::scaled(Duration::from_secs(1)))
        .map_err(|e| fail(&running, format!("udp client: {e}")))?;
    for length in [1, 100, 1000, 1472] {
        let payload = net::Random::new(length as u64).bytes(length);
        let reply = net::udp_request(&udp, &payload, net::UDP_ATTEMPTS)
            .map_err(|e| fail(&running, format!("udp echo of {length} bytes: {e}")))?;
        if reply != payload {
            return Err(fail(&running, format!("udp echo of {length} bytes came back different")));
        }
    }
    net::control_until(port, "done", &running, "[app] udp: echoed", 10)
        .map_err(|e| fail(&running, format!("udp done: {e}")))?;

    // The last connection: 64 KiB, then the end of the stream, though the
    // program exits without closing it.
    if !running.wait_for("[app] waiting for the last connection", Duration::from_secs(30)) {
        return Err(fail(&running, "no 'waiting for the last connection' line"));
    }
    let goodbye = read_goodbye(port).map_err(|e| fail(&running, format!("goodbye: {e}")))?;
    let expected: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
    if goodbye != expected {
        let message = format!("goodbye: {} of {} bytes, or others", goodbye.len(), expected.len());
        return Err(fail(&running, message));
    }

    let outcome = running.finish(Duration::from_secs(40));
    // Nine components at boot: the Rtc server gives the date on PBX-A9;
    // the MicroBlaze V has no clock, so its date counts from boot.
    let clock = outcome.console.lines().find_map(|line| {
        let seconds = line.strip_prefix("[app] the wall clock: ")?.strip_suffix(" s since 1970")?;
        seconds.parse::<u64>().ok()
    });
    let dated = match clock {
        Some(seconds) if s.board.name == "realview-pbx-a9" => seconds > 1_700_000_000,
        Some(seconds) => seconds < 1_000_000,
        None => false,
    };
    if !dated {
        let message = format!("the wall clock line is missing or wrong: {clock:?} s");
        return Err(Failure { message, console: outcome.console.clone() });
    }
    let expected = [
        "[app] a second listener on port 7: AddrInUse".to_string(),
        "[app] a non-blocking accept with nobody there: WouldBlock".into(),
        "[app] listening on 10.0.2.15:7 (tcp, udp)".into(),
        "[app] tcp: a connection from 10.0.2.2".into(),
        format!("[app] tcp: echoed {} bytes, then the end of the stream", data.len()),
        "[app] tcp: with its clone closed, the stream still has its peer 10.0.2.2".into(),
        "[app] udp: a read with a 100 ms timeout: WouldBlock, not early".into(),
        "[app] udp: echoed ".into(),
        "[app] a host name: localhost is 127.0.0.1".into(),
        format!("[app] a host name: {HOST_NAME} is 10.0.2.2"),
        "[app] a name that does not exist: failed to lookup address information".into(),
        format!("[app] outgoing: connected to 10.0.2.2:{host_port} from port 49152 or above"),
        format!("[app] outgoing: the host answered \"{ANSWER}hello from Ferrode\\n\""),
        "[app] a closed port: ConnectionRefused".into(),
        "[app] a closed port, with a timeout: ConnectionRefused".into(),
        "[app] waiting for the last connection".into(),
        "[app] done".into(),
    ];
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    let failure = |message: String| Failure { message, console: outcome.console.clone() };
    if let Some(missing) = harness::missing_in_order(&outcome.console, &expected) {
        return Err(failure(format!("console lacks {missing:?}")));
    }
    if outcome.status != Some(0) {
        return Err(failure(format!("exit status {:?}", outcome.status)));
    }
    // The host's name twice (its first query went unanswered), then again
    // for the connection; `localhost` and `ferrode.invalid` never.
    let asked = asked.lock().unwrap().clone();
    let expected = [HOST_NAME, HOST_NAME, HOST_NAME];
    if asked != expected {
        return Err(failure(format!("the DNS server was asked for {asked:?}, not {expected:?}")));
    }
    Ok(())
}

/// Connects to the forwarded echo port and reads to the end of the stream.
fn read_goodbye(port: u16) -> std::io::Result<Vec<u8>> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(harness::scaled(Duration::from_secs(30))))?;
    let mut received = Vec::new();
    stream.read_to_end(&mut received)?;
    Ok(received)
}
