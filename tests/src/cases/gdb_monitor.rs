//! The in-image GDB monitor (`apps/echo-net-gdb`) on both boards: echo-net
//! with the monitor on TCP port 8181, reached through a host port forward.
//!
//! A raw client first sends what a debugger must not be able to break the
//! image with (a bad checksum, garbage, an oversized packet, reads of
//! unmapped memory and of the kernel's state, writes to code) and checks
//! each is refused; while its connection holds the ticker stopped, TCP echo
//! still works. Then `gdb-multiarch -batch` attaches: `info threads`
//! (components' threads by name), `thread 1`, `info registers`, `x/4x`
//! of the ticker's counter, a write read back, detach. Afterwards echo
//! still works, the ticker counts again, and `quit` ends the image with 0.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{Case, Check, Failure, Scripted, board};
use crate::boards::RunOptions;
use crate::harness::{self, Running};
use crate::net;

/// The monitor's port in the guest.
const GDB_PORT: u16 = 8181;

/// The monitor case, on both boards.
pub fn cases() -> Vec<Case> {
    ["realview-pbx-a9", "microblaze-v"]
        .into_iter()
        .map(|name| Case {
            name: format!("gdb monitor attaches to echo-net-gdb on {name}"),
            board: board(name),
            app: "echo-net-gdb",
            options: RunOptions::default(),
            timeout: Duration::from_secs(240),
            check: Check::Scripted(session),
        })
        .collect()
}

fn fail(running: &Running, message: impl Into<String>) -> Failure {
    Failure { message: message.into(), console: running.console() }
}

fn framed(data: &[u8]) -> Vec<u8> {
    let sum = data.iter().fold(0u8, |sum, &byte| sum.wrapping_add(byte));
    let mut packet = vec![b'$'];
    packet.extend_from_slice(data);
    packet.extend_from_slice(format!("#{sum:02x}").as_bytes());
    packet
}

/// How long one reply may take. MicroBlaze V's EthernetLite under QEMU
/// has one receive buffer and drops a frame that arrives while it is
/// full (QEMU traces `ethlite_pkt_lost`): two frames QEMU's user network
/// hands over back to back lose the second, and its TCP resends it only
/// after a retransmission timeout of up to several seconds.
fn reply_time() -> Duration {
    harness::scaled(Duration::from_secs(20))
}

/// Reads until `done` says the bytes received so far are complete, the
/// peer closes, or [`reply_time`] passes; returns what arrived.
fn read_until(stream: &mut TcpStream, done: impl Fn(&[u8]) -> bool) -> Result<Vec<u8>, String> {
    let deadline = Instant::now() + reply_time();
    let mut got = Vec::new();
    while Instant::now() < deadline && !done(&got) {
        let mut buffer = [0u8; 2048];
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buffer[..n]),
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) if error.kind() == std::io::ErrorKind::TimedOut => {}
            Err(error) => return Err(format!("reading the monitor: {error}")),
        }
    }
    Ok(got)
}

/// Reads until `expected` has arrived (or fails after [`reply_time`]).
fn expect(stream: &mut TcpStream, expected: &str) -> Result<(), String> {
    let got = read_until(stream, |got| got.len() >= expected.len())?;
    let got = String::from_utf8_lossy(&got);
    if got == expected {
        Ok(())
    } else {
        Err(format!("sent a packet, expected {expected:?}, got {got:?}"))
    }
}

/// Reads one acknowledged reply packet (`+$...#xx`).
fn read_packet(stream: &mut TcpStream) -> Result<String, String> {
    let got = read_until(stream, |got| {
        got.iter().position(|&byte| byte == b'#').is_some_and(|hash| got.len() >= hash + 3)
    })?;
    Ok(String::from_utf8_lossy(&got).into_owned())
}

fn reply(data: &str) -> String {
    String::from_utf8(framed(data.as_bytes())).expect("text")
}

/// The raw client's abuse; returns with the connection still open (the
/// ticker stopped).
fn abuse(port: u16, kernel: u64) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_millis(200))).map_err(|e| e.to_string())?;
    let mut send = |bytes: &[u8]| stream.write_all(bytes).map_err(|e| e.to_string());
    send(b"$?#00")?;
    let mut stream = stream;
    expect(&mut stream, "-")?;
    stream.write_all(b"garbage\r\n+-}}##\xff\xfe").map_err(|e| e.to_string())?;
    let oversized = framed(&vec![b'm'; 4000]);
    stream.write_all(&oversized).map_err(|e| e.to_string())?;
    expect(&mut stream, "-")?;
    let asks: [(String, String); 6] = [
        ("?".into(), reply("T05thread:")),
        ("m0,4".into(), format!("+{}", reply("E0e"))),
        (format!("m{kernel:x},4"), format!("+{}", reply("E0e"))),
        ("mffffffff,8".into(), format!("+{}", reply("E0e"))),
        ("M0,4:00000000".into(), format!("+{}", reply("E0e"))),
        ("qXyzzy".into(), format!("+{}", reply(""))),
    ];
    for (ask, wanted) in asks {
        stream.write_all(&framed(ask.as_bytes())).map_err(|e| e.to_string())?;
        if ask == "?" {
            // The thread id varies: check the start only.
            let got = read_packet(&mut stream)?;
            if !got.starts_with(&format!("+{}", &wanted[..wanted.len() - 3])) {
                return Err(format!("`?` got {got:?}"));
            }
            continue;
        }
        expect(&mut stream, &wanted).map_err(|e| format!("{ask}: {e}"))?;
    }
    Ok(stream)
}

/// gdb's commands, with `echo` markers that split its output.
const COMMANDS: &[&str] = &[
    "echo @@threads\\n",
    "info threads",
    "echo @@select\\n",
    "thread 1",
    "echo @@registers\\n",
    "info registers",
    "echo @@read\\n",
    "x/4x &GDB_TICKER_COUNT",
    "set var *(unsigned int *)&GDB_TICKER_COUNT = 0x5eed0000",
    "echo @@readback\\n",
    "x/1x &GDB_TICKER_COUNT",
    "echo @@unmapped\\n",
    "x/4x 0",
    "echo @@detach\\n",
    "detach",
    "echo @@end\\n",
];

fn section<'a>(output: &'a str, name: &str) -> Result<&'a str, String> {
    let marker = format!("@@{name}\n");
    let start = output
        .find(&marker)
        .map(|at| at + marker.len())
        .ok_or_else(|| format!("gdb did not get to the {name} commands"))?;
    let rest = &output[start..];
    Ok(&rest[..rest.find("@@").unwrap_or(rest.len())])
}

fn check_gdb(output: &str) -> Result<(), String> {
    let threads = section(output, "threads")?;
    if !threads.contains("(ticker:ticker (stopped))") {
        return Err(format!("`info threads` does not name the ticker's thread: {threads:?}"));
    }
    if threads.contains("nic") || threads.contains("echo_net:") {
        return Err(format!("`info threads` shows threads the monitor may not debug: {threads:?}"));
    }
    let registers = section(output, "registers")?;
    let register = |name: &str| {
        registers
            .lines()
            .find(|line| line.split_whitespace().next() == Some(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|value| u64::from_str_radix(value.trim_start_matches("0x"), 16).ok())
    };
    if register("pc").is_none_or(|pc| pc == 0) || register("sp").is_none_or(|sp| sp == 0) {
        return Err(format!("`info registers` gave {registers:?}"));
    }
    if !section(output, "read")?.contains("<GDB_TICKER_COUNT>:") {
        return Err(format!("`x/4x` of the counter failed: {:?}", section(output, "read")?));
    }
    if !section(output, "readback")?.contains("0x5eed0000") {
        return Err(format!(
            "the written word did not read back: {:?}",
            section(output, "readback")?
        ));
    }
    if !output.contains("Cannot access memory at address 0x0") {
        return Err(format!(
            "reading address 0 was not refused: {:?}",
            section(output, "unmapped")?
        ));
    }
    if !section(output, "detach")?.contains("detached]") {
        return Err(format!("gdb did not detach: {:?}", section(output, "detach")?));
    }
    Ok(())
}

fn echo(running: &Running, port: u16, what: &str) -> Result<(), Failure> {
    let data: Vec<u8> = (0..4096u32).map(|i| (i * 7) as u8).collect();
    let echoed = net::tcp_echo(port, &data, Duration::from_secs(10))
        .map_err(|e| fail(running, format!("TCP echo {what}: {e}")))?;
    net::check_echo(&data, &echoed).map_err(|e| fail(running, format!("TCP echo {what}: {e}")))
}

/// The address of the kernel's state (`ferrode_board::kernel::KERNEL`).
fn kernel_address(image: &std::path::Path) -> Option<u64> {
    use object::{Object, ObjectSymbol};
    let data = std::fs::read(image).ok()?;
    let file = object::File::parse(&*data).ok()?;
    file.symbols()
        .find(|symbol| symbol.name().is_ok_and(|name| name.contains("ferrode_board6kernel6KERNEL")))
        .map(|symbol| symbol.address())
}

fn session(script: &Scripted<'_>) -> Result<(), Failure> {
    let (running, ports) = net::boot_forwarded(
        script.board,
        script.image,
        script.options,
        &[net::ECHO_PORT, net::CONTROL_PORT, GDB_PORT],
        "[echo_net] listening on 10.0.2.15:7",
        Duration::from_secs(20),
    )
    .map_err(|(message, console)| Failure { message, console })?;
    let (echo_port, control_port, gdb_port) = (ports[0], ports[1], ports[2]);
    echo(&running, echo_port, "before gdb")?;
    let kernel = kernel_address(script.image)
        .ok_or_else(|| fail(&running, "no KERNEL symbol in the image"))?;
    let stream = abuse(gdb_port, kernel).map_err(|e| fail(&running, e))?;
    // The ticker is stopped while this connection holds it: the echo goes on.
    echo(&running, echo_port, "while the ticker is stopped")?;
    let mut stream = stream;
    stream.write_all(&framed(b"D")).map_err(|e| fail(&running, e.to_string()))?;
    expect(&mut stream, &format!("+{}", reply("OK"))).map_err(|e| fail(&running, e))?;
    drop(stream);
    // Then gdb itself.
    let mut args: Vec<String> = ["-q", "-batch", "-nx"].map(String::from).to_vec();
    args.push(script.image.display().to_string());
    // gdb waits as long for a reply as the raw client does (a frame
    // MicroBlaze V's EthernetLite dropped comes again only after TCP's
    // retransmission timeout), instead of resending and giving up.
    let setup = [
        "set pagination off",
        "set style enabled off",
        "set confirm off",
        "set language c",
        "set remotetimeout 20",
    ];
    let target = format!("target remote 127.0.0.1:{gdb_port}");
    for command in setup.iter().copied().chain([target.as_str()]).chain(COMMANDS.iter().copied()) {
        args.extend(["-ex".to_string(), command.to_string()]);
    }
    let mut output = String::new();
    // The monitor's socket listens again once the last connection closed.
    for _ in 0..5 {
        let gdb =
            harness::spawn("gdb-multiarch", &args).map_err(|e| fail(&running, e.to_string()))?;
        output = gdb.finish(harness::scaled(Duration::from_secs(90))).console;
        if output.contains("@@threads") {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    check_gdb(&output).map_err(|message| Failure {
        message,
        console: format!("{output}\n--- image console ---\n{}", running.console()),
    })?;
    echo(&running, echo_port, "after gdb detached")?;
    // The ticker counts again from the value gdb wrote.
    net::control(control_port, "stats", Duration::from_secs(2))
        .map_err(|e| fail(&running, format!("no stats reply: {e}")))?;
    if !running.wait_for("[echo_net] ticks=1592590", Duration::from_secs(5)) {
        return Err(fail(&running, "the ticker did not count on from the written 0x5eed0000"));
    }
    net::control_no_reply(control_port, "quit").map_err(|e| fail(&running, e.to_string()))?;
    let outcome = running.finish(Duration::from_secs(10));
    if outcome.status != Some(0) {
        return Err(Failure {
            message: format!("exit status {:?}", outcome.status),
            console: outcome.console,
        });
    }
    Ok(())
}
