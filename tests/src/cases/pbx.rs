//! RealView PBX-A9 drivers, services and apps under QEMU: the SP804 alarm
//! under `-icount`, interrupt-driven PL011 echo, and the LAN9118 + smoltcp
//! echo server through QEMU's user network.

use std::time::Duration;

use super::{Case, Check, Failure, Scripted, board};
use crate::boards::RunOptions;
use crate::harness::{self, Running};
use crate::net::{self, Random};

/// The RealView PBX-A9 cases.
pub fn cases() -> Vec<Case> {
    let pbx = board("realview-pbx-a9");
    let scripted = |name: &str, app: &'static str, script: fn(&Scripted<'_>) -> Result<(), Failure>| Case {
        name: format!("{name} on {}", pbx.name),
        board: pbx,
        app,
        options: RunOptions { args: vec![app.to_string()], ..Default::default() },
        timeout: Duration::from_secs(60),
        check: Check::Scripted(script),
    };
    vec![
        Case {
            name: format!("timer-alarm 10 ms under icount on {}", pbx.name),
            board: pbx,
            app: "timer-alarm",
            options: RunOptions { args: vec!["timer-alarm".into()], icount: true, ..Default::default() },
            timeout: Duration::from_secs(30),
            check: Check::Console {
                lines: [
                    "alarm 1: armed for 10000 ticks",
                    "within one tick\nalarm 2: armed for 10000 ticks",
                    "within one tick\nalarm 3: armed for 10000 ticks",
                    "within one tick\ntimer-alarm: done",
                ]
                .map(String::from)
                .to_vec(),
                status: 0,
            },
        },
        scripted("uart-echo echoes serial input", "uart-echo", uart_echo),
        scripted("echo-net tcp 4 clients x 1 MiB", "echo-net", echo_net_tcp),
        scripted("echo-net udp 1..1400 bytes", "echo-net", echo_net_udp),
        scripted("echo-net survives floods and garbage", "echo-net", echo_net_abuse),
    ]
}

/// Boots, returning a failure that carries the console so far.
fn boot(script: &Scripted<'_>, options: &RunOptions) -> Result<Running, Failure> {
    let args = script.board.qemu_args(script.image, options);
    harness::spawn(script.board.qemu, &args).map_err(|error| Failure { message: error.to_string(), console: String::new() })
}

fn fail(running: &Running, message: impl Into<String>) -> Failure {
    Failure { message: message.into(), console: running.console() }
}

fn uart_echo(script: &Scripted<'_>) -> Result<(), Failure> {
    let mut running = boot(script, script.options)?;
    if !running.wait_for("uart-echo: ready", Duration::from_secs(20)) {
        return Err(fail(&running, "no ready line"));
    }
    // Printable bytes, so the console capture shows them as they are.
    let mut random = Random::new(0x5e1a1);
    let text: String = (0..3000).map(|_| char::from(b'!' + random.between(0, 93) as u8)).collect();
    for chunk in text.as_bytes().chunks(500) {
        running.send(chunk).map_err(|e| fail(&running, format!("cannot write to the serial port: {e}")))?;
    }
    if !running.wait_for(&text, Duration::from_secs(20)) {
        return Err(fail(&running, "the 3000 bytes did not come back in order"));
    }
    running.send(&[0x04]).map_err(|e| fail(&running, e.to_string()))?;
    let outcome = running.finish(Duration::from_secs(10));
    let failure = |message: &str| Failure { message: message.into(), console: outcome.console.clone() };
    if !outcome.console.contains("uart-echo: 3000 bytes echoed, 0 lost") {
        return Err(failure("final count missing or wrong"));
    }
    if outcome.status != Some(0) {
        return Err(failure(&format!("exit status {:?}", outcome.status)));
    }
    Ok(())
}

/// echo-net booted with its echo and control ports forwarded.
struct EchoNet {
    running: Running,
    echo_port: u16,
    control_port: u16,
}

fn boot_echo_net(script: &Scripted<'_>) -> Result<EchoNet, Failure> {
    let no_console = |e: std::io::Error| Failure { message: format!("no free host port: {e}"), console: String::new() };
    let echo_port = net::free_port().map_err(no_console)?;
    let mut control_port = net::free_port().map_err(no_console)?;
    while control_port == echo_port {
        control_port = net::free_port().map_err(no_console)?;
    }
    let mut options = script.options.clone();
    options.tcp_forwards.push((echo_port, net::ECHO_PORT));
    options.udp_forwards.push((echo_port, net::ECHO_PORT));
    options.udp_forwards.push((control_port, net::CONTROL_PORT));
    let running = boot(script, &options)?;
    if !running.wait_for("echo-net: listening on 10.0.2.15:7", Duration::from_secs(20)) {
        return Err(fail(&running, "no listening line"));
    }
    Ok(EchoNet { running, echo_port, control_port })
}

impl EchoNet {
    /// Asks for `stats`, checks the drop counters reached the console, then
    /// ends the image with `quit` and checks it exited 0.
    fn stats_and_quit(self) -> Result<std::collections::BTreeMap<String, u64>, Failure> {
        let line = net::control(self.control_port, "stats", Duration::from_secs(2))
            .map_err(|e| fail(&self.running, format!("no stats reply: {e}")))?;
        let stats = net::parse_stats(&line);
        if !stats.contains_key("overruns") {
            return Err(fail(&self.running, format!("stats reply lacks counters: {line}")));
        }
        net::control_no_reply(self.control_port, "quit").map_err(|e| fail(&self.running, e.to_string()))?;
        let outcome = self.running.finish(Duration::from_secs(10));
        let failure = |message: String| Failure { message, console: outcome.console.clone() };
        let wanted = ["echo-net: dropped frames: runt=", "echo-net: quit"];
        if let Some(missing) = harness::missing_in_order(&outcome.console, &wanted) {
            return Err(failure(format!("console lacks {missing:?}")));
        }
        if outcome.status != Some(0) {
            return Err(failure(format!("exit status {:?}", outcome.status)));
        }
        Ok(stats)
    }
}

fn echo_net_tcp(script: &Scripted<'_>) -> Result<(), Failure> {
    let echo_net = boot_echo_net(script)?;
    net::tcp_echo_concurrently(echo_net.echo_port, 4, 1 << 20, 0x7c9, Duration::from_secs(40))
        .map_err(|e| fail(&echo_net.running, e))?;
    let stats = echo_net.stats_and_quit()?;
    if stats["tcp_bytes"] != 4 << 20 {
        return Err(Failure { message: format!("guest counted {} TCP bytes, expected {}", stats["tcp_bytes"], 4 << 20), console: String::new() });
    }
    Ok(())
}

fn echo_net_udp(script: &Scripted<'_>) -> Result<(), Failure> {
    let echo_net = boot_echo_net(script)?;
    net::udp_echo_lengths(echo_net.echo_port, 1..=1400, 0x0d9).map_err(|e| fail(&echo_net.running, e))?;
    echo_net.stats_and_quit().map(drop)
}

fn echo_net_abuse(script: &Scripted<'_>) -> Result<(), Failure> {
    let echo_net = boot_echo_net(script)?;
    let port = echo_net.echo_port;
    // The burst first, then the garbage: slirp (QEMU's user network) accepts
    // forwarded connections slowly while it is busy with a flood.
    net::udp_flood(port, 10_000, 0xf100d).map_err(|e| fail(&echo_net.running, format!("flood: {e}")))?;
    net::tcp_garbage(port, 24, 0x6a7b).map_err(|e| fail(&echo_net.running, format!("garbage connections: {e}")))?;
    // Still serving: several TCP clients and UDP of a few sizes.
    net::tcp_echo_concurrently(port, 4, 64 * 1024, 0xa11e, Duration::from_secs(30))
        .map_err(|e| fail(&echo_net.running, format!("after the abuse: {e}")))?;
    net::udp_echo_lengths(port, [1, 512, 1400], 0xa11f).map_err(|e| fail(&echo_net.running, format!("after the abuse: {e}")))?;
    echo_net.stats_and_quit().map(drop)
}
