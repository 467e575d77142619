//! The in-image GDB monitor (`apps/echo-net-gdb`) on both boards: echo-net
//! with the monitor on TCP port 8181, reached through a host port forward.
//!
//! A raw client first sends what a debugger must not be able to break the
//! image with (a bad checksum, garbage, an oversized packet, reads of
//! unmapped memory, of the kernel's state and of a guard page, writes to
//! code, a breakpoint outside code) and checks each is refused (a read
//! that runs into a guard page gets the bytes before it); while its
//! connection holds the ticker stopped, TCP echo still works. Then
//! `gdb-multiarch -batch` attaches: `info threads` (components' threads by
//! name), `thread 1`, `info registers`, `x/4x` of the ticker's counter, a
//! write read back, then `break gdb_ticker_step`, `continue` (the ticker
//! stops there: the pc is the breakpoint's, the argument register the
//! count, `bt` walks down to `ferrode_thread_start`), the argument register
//! written (0x5eee0000) and a pc outside the code refused, `continue`
//! again (gdb steps the ticker past the breakpoint in software: the next
//! stop has the written count plus one), `delete`, detach. Afterwards echo
//! still works and the ticker counts on from the written value. A raw
//! client then shows `c` lets the ticker run while connected and the
//! interrupt byte stops it (`T02`). A raw client then makes the ticker
//! fault twice (it writes the count before `GDB_TICKER_FAULT`, then before
//! `GDB_TICKER_OVERFLOW`): the ticker stops where it faulted (`T0b`,
//! SIGSEGV) with the registers the fault report printed; moved past the
//! first fault (its pc written), it counts on; at the second, a stack
//! overflow, it stops on the monitor's park (its stack's lowest words read
//! as it left them, its registers and its guard refuse writes) and,
//! continued, ends while echo goes on. Last, a breakpoint in code only the
//! echo client (the monitor's own component, which it may not debug) runs
//! is reported as the fault it is without a debugger: the image ends with
//! status 102.
//!
//! A second case per board reads echo-net-gdb's `.debug_frame`: the app's
//! functions, the thread entry and the copy routines have call-frame
//! information.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::echo_net::fail;
use super::{Case, Check, Failure, Scripted, board};
use crate::boards::RunOptions;
use crate::harness::{self, Running};
use crate::net;

/// The monitor's port in the guest.
const GDB_PORT: u16 = 8181;
/// Connections tried, a second apart, until the monitor listens again: it
/// does once its last connection has closed, which on MicroBlaze V can
/// wait for TCP to resend a closing segment the EthernetLite dropped.
const CONNECT_ATTEMPTS: usize = 20;

/// The monitor case, and the image's call-frame information, on both
/// boards.
pub fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for name in ["realview-pbx-a9", "microblaze-v"] {
        cases.push(Case {
            name: format!("gdb monitor attaches to echo-net-gdb on {name}"),
            board: board(name),
            app: "echo-net-gdb",
            options: RunOptions::default(),
            timeout: Duration::from_secs(240),
            check: Check::Scripted(session),
        });
        cases.push(Case {
            name: format!("gdb can unwind echo-net-gdb's ticker and the copy routines on {name}"),
            board: board(name),
            app: "echo-net-gdb",
            options: RunOptions::default(),
            timeout: Duration::from_secs(30),
            check: Check::Scripted(call_frames),
        });
    }
    cases
}

/// The address ranges `.debug_frame` describes (one per frame
/// description entry): where a debugger finds how to unwind.
fn frame_ranges(file: &object::File<'_>) -> Result<Vec<std::ops::Range<u64>>, String> {
    use gimli::UnwindSection;
    use object::{Object, ObjectSection};
    let section = file
        .section_by_name(".debug_frame")
        .ok_or("the image has no .debug_frame: gdb unwinds by guessing from the code")?;
    let data = section.uncompressed_data().map_err(|e| format!("reading .debug_frame: {e}"))?;
    let mut frames = gimli::DebugFrame::new(&data, gimli::LittleEndian);
    frames.set_address_size(4);
    let bases = gimli::BaseAddresses::default();
    let mut entries = frames.entries(&bases);
    let mut ranges = Vec::new();
    while let Some(entry) = entries.next().map_err(|e| format!("parsing .debug_frame: {e}"))? {
        if let gimli::CieOrFde::Fde(partial) = entry {
            let fde = partial
                .parse(|section, bases, offset| section.cie_from_offset(bases, offset))
                .map_err(|e| format!("parsing a frame description: {e}"))?;
            ranges.push(fde.initial_address()..fde.initial_address() + fde.len());
        }
    }
    Ok(ranges)
}

/// Every function of the app, the thread entry below it and the copy
/// routines written in assembly (`memcpy` on MicroBlaze V, where the
/// ticker's overflow faults; `__aeabi_memcpy` and `__aeabi_memcpy4` on
/// PBX-A9) have call-frame information, so that gdb's `bt` from a stop in
/// any of them walks down to `ferrode_thread_start`. MicroBlaze V images
/// get it only through the board's code generation flags (their unwind
/// tables, `.eh_frame`, are not linked).
fn call_frames(s: &Scripted<'_>) -> Result<(), Failure> {
    use object::{Object, ObjectSymbol};
    let failure = |message: String| Failure { message, console: String::new() };
    let data = std::fs::read(s.image).map_err(|e| failure(format!("reading the image: {e}")))?;
    let file =
        object::File::parse(&*data).map_err(|e| failure(format!("parsing the image: {e}")))?;
    let ranges = frame_ranges(&file).map_err(failure)?;
    let copies: &[&str] = if s.board.name == "microblaze-v" {
        &["memcpy"]
    } else {
        &["__aeabi_memcpy", "__aeabi_memcpy4"]
    };
    let mut wanted = 0;
    let mut missing = Vec::new();
    for symbol in file.symbols() {
        let Ok(name) = symbol.name() else { continue };
        let own = symbol.kind() == object::SymbolKind::Text
            && symbol.size() > 0
            && (name.contains("echo_net_gdb") || name.starts_with("gdb_ticker_"));
        if !own && !copies.contains(&name) && name != "ferrode_thread_start" {
            continue;
        }
        wanted += 1;
        // A T32 function's symbol has bit 0 set.
        let address = symbol.address() & !1;
        if !ranges.iter().any(|range| range.contains(&address)) {
            missing.push(name.to_string());
        }
    }
    if wanted < copies.len() + 4 {
        return Err(failure(format!("only {wanted} of the functions to check are in the image")));
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(failure(format!("no call-frame information for {}", missing.join(", "))))
    }
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
/// `symbols.kind` is also the length of the breakpoint instruction.
fn abuse(port: u16, symbols: &Symbols) -> Result<TcpStream, String> {
    let kind = symbols.kind;
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
    let refused = format!("+{}", reply("E0e"));
    let (kernel, step, counter) = (symbols.kernel, symbols.ticker_step, symbols.counter);
    let guard = symbols.guard;
    let ok = format!("+{}", reply("OK"));
    let next = step + kind;
    let asks: Vec<(String, String)> = vec![
        ("?".into(), reply("T05thread:")),
        ("m0,4".into(), refused.clone()),
        (format!("m{kernel:x},4"), refused.clone()),
        ("mffffffff,8".into(), refused.clone()),
        // A guard page is refused (read, it would fault the monitor's own
        // thread); a read that runs into one gets the bytes before it.
        (format!("m{guard:x},4"), refused.clone()),
        (format!("M{guard:x},4:00000000"), refused.clone()),
        ("M0,4:00000000".into(), refused.clone()),
        // Code takes breakpoints (on instruction boundaries, side by side)
        // and no other write; data takes no breakpoints.
        (format!("M{step:x},4:00000000"), refused.clone()),
        (format!("Z0,{counter:x},{kind}"), refused.clone()),
        (format!("Z0,{:x},{kind}", step + 1), refused.clone()),
        (format!("Z0,{next:x},{kind}"), ok.clone()),
        (format!("Z0,{step:x},{kind}"), ok.clone()),
        (format!("z0,{step:x},{kind}"), ok.clone()),
        (format!("z0,{next:x},{kind}"), ok.clone()),
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
    let ask = format!("m{:x},4", guard - 2);
    stream.write_all(&framed(ask.as_bytes())).map_err(|e| e.to_string())?;
    let got = read_packet(&mut stream)?;
    let data = got.strip_prefix("+$").and_then(|rest| rest.split_once('#')).map(|(data, _)| data);
    if data.is_none_or(|data| data.len() != 4 || !data.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err(format!("{ask} (2 bytes, then the guard page) got {got:?}, not 2 bytes"));
    }
    stream.write_all(b"+").map_err(|e| e.to_string())?;
    Ok(stream)
}

/// gdb's commands, with `echo` markers that split its output; `argument`
/// is the register a function's first argument arrives in.
fn commands(argument: &str) -> Vec<String> {
    let mut commands: Vec<String> = [
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
        "echo @@break\\n",
        "break gdb_ticker_step",
        "echo @@first\\n",
        "continue",
        "echo @@pc\\n",
        "p/x $pc",
        "echo @@argument\\n",
    ]
    .map(String::from)
    .to_vec();
    commands.push(format!("p/x ${argument}"));
    // The stopped ticker's frames, down to its thread's entry.
    commands.extend(["echo @@backtrace\\n", "bt"].map(String::from));
    // The argument register written (the ticker stores what it resumes
    // with: the next stop has that plus one), and a pc outside the code
    // refused.
    commands.push("echo @@write\\n".into());
    commands.push(format!("set var ${argument} = 0x5eee0000"));
    commands.push(format!("p/x ${argument}"));
    commands.extend(["echo @@refused\\n", "set var $pc = 0"].map(String::from));
    commands.extend(["echo @@second\\n", "continue", "echo @@next\\n"].map(String::from));
    commands.push(format!("p/x ${argument}"));
    commands.extend(
        ["echo @@delete\\n", "delete", "echo @@detach\\n", "detach", "echo @@end\\n"]
            .map(String::from),
    );
    commands
}

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
    check_breakpoints(output)?;
    if !section(output, "detach")?.contains("detached]") {
        return Err(format!("gdb did not detach: {:?}", section(output, "detach")?));
    }
    Ok(())
}

/// The `$N = 0x...` value gdb printed in `section`.
fn printed(output: &str, name: &str) -> Result<u64, String> {
    let text = section(output, name)?;
    text.split_once("= 0x")
        .and_then(|(_, value)| {
            let digits: String = value.chars().take_while(char::is_ascii_hexdigit).collect();
            u64::from_str_radix(&digits, 16).ok()
        })
        .ok_or_else(|| format!("no value printed in {name}: {text:?}"))
}

/// The breakpoint went in, the ticker stopped at it twice (continuing
/// steps past it), with the pc and the argument register read.
fn check_breakpoints(output: &str) -> Result<(), String> {
    let set = section(output, "break")?;
    let address = set
        .split_once("Breakpoint 1 at 0x")
        .and_then(|(_, rest)| {
            let digits: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
            u64::from_str_radix(&digits, 16).ok()
        })
        .ok_or_else(|| format!("`break gdb_ticker_step` failed: {set:?}"))?;
    for stop in ["first", "second"] {
        if !section(output, stop)?.contains("Breakpoint 1, ") {
            return Err(format!(
                "`continue` ({stop}) did not stop at the breakpoint: {:?}",
                section(output, stop)?
            ));
        }
    }
    let backtrace = section(output, "backtrace")?;
    if !["gdb_ticker_step", "echo_net_gdb::ticker", "ferrode_thread_start"]
        .iter()
        .all(|frame| backtrace.contains(frame))
    {
        return Err(format!(
            "`bt` at the breakpoint did not walk down to the thread's entry: {backtrace:?}"
        ));
    }
    let pc = printed(output, "pc")?;
    if pc != address {
        return Err(format!("stopped at pc {pc:#x}, the breakpoint is at {address:#x}"));
    }
    let first = printed(output, "argument")?;
    if !(0x5eed_0000..0x5eee_0000).contains(&first) {
        return Err(format!(
            "the ticker's count at the first stop was {first:#x}: expected it to count on \
             from the written 0x5eed0000"
        ));
    }
    let written = printed(output, "write")?;
    let next = printed(output, "next")?;
    if written != 0x5eee_0000 || next != written + 1 {
        return Err(format!(
            "the argument register read {written:#x} after writing 0x5eee0000, and the next \
             stop's count was {next:#x}: expected the ticker to resume with what was written"
        ));
    }
    // gdb says so on stderr, which its output holds after the sections.
    if !output.contains("Could not write register \"pc\"; remote failure reply 'E0f'") {
        return Err("a pc outside the code was not refused".into());
    }
    Ok(())
}

/// 4 KiB echoed over TCP. The wait is long and a reset connection is
/// tried again (up to 3 times), for the frames MicroBlaze V's EthernetLite
/// drops under QEMU (see [`reply_time`]), which TCP resends only after a
/// growing timeout.
fn echo(running: &Running, port: u16, what: &str) -> Result<(), Failure> {
    let data: Vec<u8> = (0..4096u32).map(|i| (i * 7) as u8).collect();
    let timeout = harness::scaled(Duration::from_secs(40));
    let echoed = net::tcp_echo_reconnecting(port, &data, timeout, 3)
        .map_err(|e| fail(running, format!("TCP echo {what}: {e}")))?;
    net::check_echo(&data, &echoed).map_err(|e| fail(running, format!("TCP echo {what}: {e}")))
}

/// The image's addresses the raw clients use.
struct Symbols {
    /// The kernel's state (`ferrode_board::kernel::KERNEL`).
    kernel: u64,
    /// `gdb_ticker_step`: code the ticker runs.
    ticker_step: u64,
    /// `gdb_echo_ticks`: code only the echo client runs.
    echo_ticks: u64,
    /// `GDB_TICKER_COUNT`: data.
    counter: u64,
    /// `__stack_guard`: the guard page below the boot stack, inside the
    /// image's range but faulting any access.
    guard: u64,
    /// The `Z0` kind for a breakpoint at the start of the two functions.
    kind: u64,
}

fn symbols(image: &std::path::Path) -> Result<Symbols, String> {
    use object::{Object, ObjectSymbol};
    let data = std::fs::read(image).map_err(|e| format!("reading the image: {e}"))?;
    let file = object::File::parse(&*data).map_err(|e| format!("parsing the image: {e}"))?;
    let find = |wanted: &dyn Fn(&str) -> bool, what: &str| {
        file.symbols()
            .find(|symbol| symbol.name().is_ok_and(wanted))
            .ok_or_else(|| format!("no {what} symbol in the image"))
    };
    let start = |symbol| harness::symbolize::code_start(&file, &symbol);
    let ticker_step = find(&|name| name == "gdb_ticker_step", "gdb_ticker_step")?;
    // gdb's kinds: RISC-V's compressed breakpoint (the functions may
    // start with a compressed instruction), T32's (a symbol with bit 0
    // set), else A32's.
    let kind = match file.architecture() {
        object::Architecture::Arm if ticker_step.address() & 1 == 0 => 4,
        _ => 2,
    };
    Ok(Symbols {
        kernel: find(&|name| name.contains("ferrode_board6kernel6KERNEL"), "KERNEL")?.address(),
        ticker_step: start(ticker_step),
        echo_ticks: start(find(&|name| name == "gdb_echo_ticks", "gdb_echo_ticks")?),
        counter: find(&|name| name == "GDB_TICKER_COUNT", "GDB_TICKER_COUNT")?.address(),
        guard: find(&|name| name == "__stack_guard", "__stack_guard")?.address(),
        kind,
    })
}

/// The last `ticks=N` the echo client logged.
fn last_ticks(running: &Running) -> Option<u64> {
    let console = running.console();
    let (_, rest) = console.rsplit_once("[echo_net] ticks=")?;
    // Only a whole line: the console may hold the start of it yet.
    let (line, _) = rest.split_once(['\r', '\n'])?;
    line.parse().ok()
}

/// Asks for `stats` and returns the count the echo client then logs.
fn ticks(running: &Running, control_port: u16) -> Result<u64, Failure> {
    let before = running.console().matches("[echo_net] ticks=").count();
    net::control(control_port, "stats", Duration::from_secs(2))
        .map_err(|e| fail(running, format!("no stats reply: {e}")))?;
    let deadline = Instant::now() + harness::scaled(Duration::from_secs(5));
    loop {
        if running.console().matches("[echo_net] ticks=").count() > before
            && let Some(ticks) = last_ticks(running)
        {
            return Ok(ticks);
        }
        if Instant::now() > deadline {
            return Err(fail(running, "no whole ticks= line after stats"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Connects a raw client to the monitor (its socket listens again once
/// the previous connection has closed) and checks the stop reply.
fn connect(port: u16) -> Result<TcpStream, String> {
    let mut last = String::new();
    for _ in 0..CONNECT_ATTEMPTS {
        let attempt = TcpStream::connect(("127.0.0.1", port)).and_then(|stream| {
            stream.set_read_timeout(Some(Duration::from_millis(200)))?;
            Ok(stream)
        });
        match attempt {
            Ok(mut stream) => {
                if stream.write_all(&framed(b"?")).is_ok() {
                    match read_packet(&mut stream) {
                        // Without a thread once the ticker has ended.
                        Ok(got) if got.starts_with("+$T05") => return Ok(stream),
                        Ok(got) => last = format!("`?` got {got:?}"),
                        Err(error) => last = error,
                    }
                }
            }
            Err(error) => last = error.to_string(),
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    Err(format!("could not connect to the monitor again: {last}"))
}

/// A raw client continues (no breakpoints): the ticker counts while the
/// connection is open; the interrupt byte stops it again; `D` detaches.
fn continue_and_interrupt(
    running: &Running,
    gdb_port: u16,
    control_port: u16,
) -> Result<(), Failure> {
    let mut stream = connect(gdb_port).map_err(|e| fail(running, e))?;
    let stopped = ticks(running, control_port)?;
    std::thread::sleep(Duration::from_millis(300));
    if ticks(running, control_port)? != stopped {
        return Err(fail(running, "the ticker counted while the monitor held it stopped"));
    }
    stream.write_all(&framed(b"c")).map_err(|e| fail(running, e.to_string()))?;
    expect(&mut stream, "+").map_err(|e| fail(running, e))?;
    std::thread::sleep(Duration::from_millis(300));
    let counted = ticks(running, control_port)?;
    if counted <= stopped {
        return Err(fail(running, "the ticker did not count after `c`"));
    }
    stream.write_all(b"\x03").map_err(|e| fail(running, e.to_string()))?;
    let stop = read_packet(&mut stream).map_err(|e| fail(running, e))?;
    if !stop.starts_with("$T02thread:") {
        return Err(fail(running, format!("the interrupt byte got {stop:?}, not a T02 stop")));
    }
    stream.write_all(b"+").map_err(|e| fail(running, e.to_string()))?;
    let stopped = ticks(running, control_port)?;
    std::thread::sleep(Duration::from_millis(300));
    if ticks(running, control_port)? != stopped {
        return Err(fail(running, "the ticker counted on after the interrupt"));
    }
    stream.write_all(&framed(b"D")).map_err(|e| fail(running, e.to_string()))?;
    expect(&mut stream, &format!("+{}", reply("OK"))).map_err(|e| fail(running, e))?;
    Ok(())
}

/// The hex value after `key` (as `pc=0x7010abcd`) in the last fault report
/// on the console.
fn reported(console: &str, key: &str) -> Option<u32> {
    let (_, report) = console.rsplit_once("FAULT: ")?;
    let line = report.lines().next()?;
    let (_, rest) = line.split_once(&format!(" {key}=0x"))?;
    let digits: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
    u32::from_str_radix(&digits, 16).ok()
}

/// Register `index` of a `g` reply (each register 8 hex digits, its bytes
/// little-endian).
fn register(reply: &str, index: usize) -> Option<u32> {
    let data = reply.strip_prefix("$")?;
    let hex = data.get(index * 8..index * 8 + 8)?;
    u32::from_str_radix(hex, 16).ok().map(u32::swap_bytes)
}

/// A fault in a thread the monitor may debug, twice. Each time a raw
/// client writes the ticker's count one below the count that makes it
/// fault and continues; the fault's report is printed, and the thread
/// stops there (`T0b`: SIGSEGV) instead of ending its component. Its
/// registers (`g`) are the fault's: pc, sp and the link register read as
/// the report printed them.
///
/// The first time (`GDB_TICKER_FAULT`) the ticker's load in
/// `gdb_ticker_fault` faults; the client writes the pc past the load
/// (`P`): continued, the ticker goes on counting. The second time
/// (`GDB_TICKER_OVERFLOW`) the ticker recurses into the guard page below
/// its stack and stops with no room left there (on the monitor's park):
/// its stack's lowest words read as its frames left them, not as the
/// kernel's guard, and cannot be written; its pc cannot be moved; it just
/// continues, and the ticker ends, as the fault ends it without a
/// debugger, and the image runs on.
fn stop_at_a_fault(
    running: &Running,
    board: &str,
    (gdb_port, control_port): (u16, u16),
    counter: u64,
) -> Result<(), Failure> {
    let mut stream = connect(gdb_port).map_err(|e| fail(running, e))?;
    let send = |stream: &mut TcpStream, packet: &str| {
        stream.write_all(&framed(packet.as_bytes())).map_err(|e| fail(running, e.to_string()))
    };
    let ok = format!("+{}", reply("OK"));
    // GDB's register numbers: Arm's sp, lr, pc and cpsr are 13, 14, 15
    // and 16 in `g`, RISC-V's ra and sp 1 and 2, its pc 32.
    let riscv = board == "microblaze-v";
    let (pc, sp, link, link_name) = if riscv { (32, 2, 1, "ra") } else { (15, 13, 14, "lr") };
    for overflow in [false, true] {
        let reports = running.console().matches("FAULT: ").count();
        let before = if overflow { 0x57ab_ffffu32 } else { 0xfa16_ffff };
        let before = before.to_le_bytes().map(|byte| format!("{byte:02x}")).concat();
        send(&mut stream, &format!("M{counter:x},4:{before}"))?;
        expect(&mut stream, &ok).map_err(|e| fail(running, e))?;
        send(&mut stream, "c")?;
        expect(&mut stream, "+").map_err(|e| fail(running, e))?;
        let stop = read_packet(&mut stream).map_err(|e| fail(running, e))?;
        if !stop.starts_with("$T0bthread:") {
            return Err(fail(running, format!("the ticker's fault got {stop:?}, not a T0b stop")));
        }
        stream.write_all(b"+").map_err(|e| fail(running, e.to_string()))?;
        let console = running.console();
        if console.matches("FAULT: ").count() != reports + 1 {
            return Err(fail(running, "the stop came without the fault's report"));
        }
        if console.contains("composition: ticker faulted") {
            return Err(fail(running, "the ticker ended while the debugger held it at its fault"));
        }
        send(&mut stream, "g")?;
        let registers = read_packet(&mut stream).map_err(|e| fail(running, e))?;
        let registers = registers.trim_start_matches('+');
        stream.write_all(b"+").map_err(|e| fail(running, e.to_string()))?;
        for (name, index) in [("pc", pc), ("sp", sp), (link_name, link)] {
            let (Some(stopped), Some(printed)) =
                (register(registers, index), reported(&console, name))
            else {
                return Err(fail(
                    running,
                    format!("no {name} in `g` ({registers:?}) or the report"),
                ));
            };
            if stopped != printed {
                return Err(fail(
                    running,
                    format!(
                        "the stopped ticker's {name} is {stopped:#x}, the fault's {printed:#x}"
                    ),
                ));
            }
        }
        if overflow {
            // Even to a pc in the code (its own): it never goes on.
            let refused = format!("+{}", reply("E0f"));
            let own = register(registers, pc).unwrap_or(0).to_le_bytes();
            let own = own.map(|byte| format!("{byte:02x}")).concat();
            send(&mut stream, &format!("P{pc:x}={own}"))?;
            expect(&mut stream, &refused)
                .map_err(|e| fail(running, format!("moving a parked thread's pc: {e}")))?;
            // The stack's bottom, where the kernel's guard words lie: the
            // page boundary nearest the stack pointer (the fault came
            // within a frame of it).
            let bottom = (register(registers, sp).unwrap_or(0) + 2048) & !0xfff;
            send(&mut stream, &format!("m{bottom:x},40"))?;
            let words = read_packet(&mut stream).map_err(|e| fail(running, e))?;
            stream.write_all(b"+").map_err(|e| fail(running, e.to_string()))?;
            let words = words.trim_start_matches('+');
            let data = words.strip_prefix('$').and_then(|rest| rest.split_once('#'));
            match data {
                Some((hex, _)) if hex.len() == 128 && hex != "2d6aac57".repeat(16) => {}
                _ => {
                    return Err(fail(
                        running,
                        format!(
                            "the overflowed ticker's stack bottom at {bottom:#x} read {words:?}, \
                             not the frames it left there"
                        ),
                    ));
                }
            }
            send(&mut stream, &format!("M{bottom:x},4:00000000"))?;
            expect(&mut stream, &format!("+{}", reply("E0e")))
                .map_err(|e| fail(running, format!("writing a parked thread's guard: {e}")))?;
            break;
        }
        // Past the load: its length from its first halfword (T32 when the
        // cpsr's T bit is set, RISC-V with compressed instructions).
        let at = register(registers, pc).unwrap_or(0);
        send(&mut stream, &format!("m{at:x},2"))?;
        let code = read_packet(&mut stream).map_err(|e| fail(running, e))?;
        stream.write_all(b"+").map_err(|e| fail(running, e.to_string()))?;
        let half = code
            .trim_start_matches('+')
            .strip_prefix('$')
            .and_then(|hex| u16::from_str_radix(hex.get(..4)?, 16).ok())
            .map(u16::swap_bytes)
            .ok_or_else(|| fail(running, format!("reading the load got {code:?}")))?;
        let thumb = !riscv && register(registers, 16).is_some_and(|cpsr| cpsr & 0x20 != 0);
        let length = match (riscv, thumb) {
            (true, _) => {
                if half & 3 == 3 {
                    4
                } else {
                    2
                }
            }
            (false, true) => {
                if half >> 11 >= 0b11101 {
                    4
                } else {
                    2
                }
            }
            (false, false) => 4,
        };
        let next = (at + length).to_le_bytes().map(|byte| format!("{byte:02x}")).concat();
        send(&mut stream, &format!("P{pc:x}={next}"))?;
        expect(&mut stream, &ok).map_err(|e| fail(running, e))?;
        // Moved on, the ticker counts past the fault.
        send(&mut stream, "c")?;
        expect(&mut stream, "+").map_err(|e| fail(running, e))?;
        std::thread::sleep(Duration::from_millis(300));
        let counted = ticks(running, control_port)?;
        if counted <= 0xfa17_0000 || running.console().contains("composition: ticker faulted") {
            return Err(fail(
                running,
                format!("moved past its fault, the ticker counted to {counted:#x}"),
            ));
        }
        interrupt(running, &mut stream, "$T02thread:")?;
    }
    // Let go, the ticker ends; the interrupt byte then stops what is left.
    send(&mut stream, "c")?;
    expect(&mut stream, "+").map_err(|e| fail(running, e))?;
    let deadline = Instant::now() + harness::scaled(Duration::from_secs(10));
    while !running.console().contains("composition: ticker faulted; it ends, the others run on") {
        if Instant::now() > deadline {
            return Err(fail(running, "the ticker did not end once the debugger let it go"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // No thread is left to name.
    interrupt(running, &mut stream, "$T02")?;
    send(&mut stream, "D")?;
    expect(&mut stream, &ok).map_err(|e| fail(running, e))?;
    Ok(())
}

/// Sends the interrupt byte and checks the stop reply starts with `stop`.
fn interrupt(running: &Running, stream: &mut TcpStream, stop: &str) -> Result<(), Failure> {
    stream.write_all(b"\x03").map_err(|e| fail(running, e.to_string()))?;
    let got = read_packet(stream).map_err(|e| fail(running, e))?;
    if !got.starts_with(stop) {
        return Err(fail(running, format!("the interrupt byte got {got:?}, not a T02 stop")));
    }
    stream.write_all(b"+").map_err(|e| fail(running, e.to_string()))
}

/// A breakpoint in code only the echo client runs: the monitor's own
/// component, which it may not debug, so the breakpoint is the fault it
/// is without a debugger, and the image ends with status 102.
fn breakpoint_in_the_monitor(
    running: Running,
    board: &str,
    gdb_port: u16,
    control_port: u16,
    (address, kind): (u64, u64),
) -> Result<(), Failure> {
    let mut stream = connect(gdb_port).map_err(|e| fail(&running, e))?;
    stream
        .write_all(&framed(format!("Z0,{address:x},{kind}").as_bytes()))
        .map_err(|e| fail(&running, e.to_string()))?;
    expect(&mut stream, &format!("+{}", reply("OK"))).map_err(|e| fail(&running, e))?;
    let report = if board == "microblaze-v" {
        format!("FAULT: breakpoint at pc={address:#010x} (mcause=3)")
    } else {
        format!("FAULT: undefined instruction at pc={address:#010x}")
    };
    // `stats` has no reply: a datagram lost on the way would never reach
    // the breakpoint, so it is sent until the fault is reported.
    net::control_until(control_port, "stats", &running, &report, 20)
        .map_err(|e| fail(&running, e.to_string()))?;
    let outcome = running.finish(Duration::from_secs(20));
    if outcome.status != Some(102) || !outcome.console.contains(&report) {
        return Err(Failure {
            message: format!(
                "a breakpoint the monitor's own thread ran: exit status {:?}, expected 102 \
                 and {report:?}",
                outcome.status
            ),
            console: outcome.console,
        });
    }
    Ok(())
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
    let symbols = symbols(script.image).map_err(|e| fail(&running, e))?;
    let stream = abuse(gdb_port, &symbols).map_err(|e| fail(&running, e))?;
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
    let argument = if script.board.name == "microblaze-v" { "a0" } else { "r0" };
    let commands = commands(argument);
    for command in setup.iter().copied().chain([target.as_str()]) {
        args.extend(["-ex".to_string(), command.to_string()]);
    }
    for command in commands {
        args.extend(["-ex".to_string(), command]);
    }
    let mut output = String::new();
    // The monitor's socket listens again once the last connection closed.
    for _ in 0..CONNECT_ATTEMPTS {
        let gdb =
            harness::spawn("gdb-multiarch", &args).map_err(|e| fail(&running, e.to_string()))?;
        output = gdb.finish(harness::scaled(Duration::from_secs(90))).console;
        // A connection QEMU's user network accepted while the guest had
        // no listening socket yet is reset at once: gdb goes on without a
        // target (and says so); try again.
        let dropped = ["Remote communication error", "Connection reset", "Connection refused"]
            .iter()
            .any(|sign| output.contains(sign));
        if output.contains("@@threads") && !dropped {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    check_gdb(&output).map_err(|message| Failure {
        message,
        console: format!("{output}\n--- image console ---\n{}", running.console()),
    })?;
    echo(&running, echo_port, "after gdb detached")?;
    // The ticker counts on from the value gdb wrote.
    let counted = ticks(&running, control_port)?;
    if !(0x5eed_0000..0x5eef_0000).contains(&counted) {
        return Err(fail(
            &running,
            format!("the ticker's count {counted:#x} did not go on from the written 0x5eed0000"),
        ));
    }
    continue_and_interrupt(&running, gdb_port, control_port)?;
    echo(&running, echo_port, "after the raw client's continue and interrupt")?;
    stop_at_a_fault(&running, script.board.name, (gdb_port, control_port), symbols.counter)?;
    echo(&running, echo_port, "after the ticker's fault")?;
    breakpoint_in_the_monitor(
        running,
        script.board.name,
        gdb_port,
        control_port,
        (symbols.echo_ticks, symbols.kind),
    )
}
