//! The echo-net cases every board with a NIC runs: boot with the echo and
//! control ports forwarded, TCP and UDP echo, the flood-and-garbage abuse,
//! then the `stats` and `quit` checks. The clients are in [`crate::net`].

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Failure, Scripted};
use crate::harness::{self, Running};
use crate::net;

/// A failure carrying the console so far.
pub fn fail(running: &Running, message: impl Into<String>) -> Failure {
    Failure { message: message.into(), console: running.console() }
}

/// echo-net booted with its echo (TCP and UDP) and control ports
/// forwarded from free host ports.
pub struct EchoNet {
    /// The QEMU process.
    pub running: Running,
    /// Host port forwarded to the guest's echo port (TCP and UDP).
    pub echo_port: u16,
    /// Host port forwarded to the guest's control port (UDP).
    pub control_port: u16,
}

/// Boots echo-net and waits for its listening line.
pub fn boot(script: &Scripted<'_>) -> Result<EchoNet, Failure> {
    let no_port = |e: std::io::Error| Failure { message: format!("no free host port: {e}"), console: String::new() };
    let echo_port = net::free_port().map_err(no_port)?;
    let mut control_port = net::free_port().map_err(no_port)?;
    while control_port == echo_port {
        control_port = net::free_port().map_err(no_port)?;
    }
    let mut options = script.options.clone();
    options.tcp_forwards.push((echo_port, net::ECHO_PORT));
    options.udp_forwards.push((echo_port, net::ECHO_PORT));
    options.udp_forwards.push((control_port, net::CONTROL_PORT));
    let running = harness::spawn(script.board.qemu, &script.board.qemu_args(script.image, &options))
        .map_err(|error| Failure { message: error.to_string(), console: String::new() })?;
    if !running.wait_for("echo-net: listening on 10.0.2.15:7", Duration::from_secs(20)) {
        return Err(fail(&running, "no listening line"));
    }
    Ok(EchoNet { running, echo_port, control_port })
}

impl EchoNet {
    /// Asks for `stats` (the drop counters must be in the reply and on the
    /// console), then ends the image with `quit`, which must exit 0.
    pub fn stats_and_quit(self) -> Result<BTreeMap<String, u64>, Failure> {
        let line = net::control(self.control_port, "stats", Duration::from_secs(2))
            .map_err(|e| fail(&self.running, format!("no stats reply: {e}")))?;
        let stats = net::parse_stats(&line);
        if !["runt", "oversized", "overruns"].iter().all(|key| stats.contains_key(*key)) {
            return Err(fail(&self.running, format!("stats reply lacks drop counters: {line}")));
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

/// 4 concurrent TCP clients echo 1 MiB each byte-exactly, within two
/// thirds of the case's timeout, and the guest counted every byte.
pub fn tcp(script: &Scripted<'_>) -> Result<(), Failure> {
    let echo_net = boot(script)?;
    net::tcp_echo_concurrently(echo_net.echo_port, 4, 1 << 20, 0x7c9, script.timeout * 2 / 3)
        .map_err(|e| fail(&echo_net.running, e))?;
    let stats = echo_net.stats_and_quit()?;
    if stats.get("tcp_bytes") != Some(&(4 << 20)) {
        let message = format!("guest counted {:?} TCP bytes, expected {}", stats.get("tcp_bytes"), 4 << 20);
        return Err(Failure { message, console: String::new() });
    }
    Ok(())
}

/// UDP echo of every datagram length from 1 to 1400 bytes.
pub fn udp(script: &Scripted<'_>) -> Result<(), Failure> {
    let echo_net = boot(script)?;
    net::udp_echo_lengths(echo_net.echo_port, 1..=1400, 0x0d9).map_err(|e| fail(&echo_net.running, e))?;
    echo_net.stats_and_quit().map(drop)
}

/// How the UDP flood and the TCP garbage meet.
#[derive(Clone, Copy, Debug)]
pub enum Flood {
    /// The flood first, then the garbage connections.
    BeforeGarbage,
    /// The flood from a second thread while the garbage connections run.
    DuringGarbage,
}

/// 10,000 random UDP datagrams and 24 TCP connections that send garbage and
/// vanish; afterwards 4 TCP clients (64 KiB each) and UDP of a few sizes
/// must still echo byte-exactly, and the drop counters must be visible.
///
/// The host side behaves like real clients: a garbage connection that is
/// refused, reset or slow to be accepted is tried again, and so is an
/// after-the-abuse client whose connection is reset before it got its echo
/// (QEMU's user network resets forwarded connections while the guest has
/// no free listening socket). What counts is that the server serves again.
pub fn abuse(script: &Scripted<'_>, flood: Flood) -> Result<(), Failure> {
    let echo_net = boot(script)?;
    let port = echo_net.echo_port;
    let garbage = || net::tcp_garbage(port, 24, 0x6a7b).map_err(|e| fail(&echo_net.running, format!("garbage connections: {e}")));
    let flood_failed = |e: std::io::Error| fail(&echo_net.running, format!("flood: {e}"));
    match flood {
        Flood::BeforeGarbage => {
            net::udp_flood(port, 10_000, 0xf100d).map_err(flood_failed)?;
            garbage()?;
        }
        Flood::DuringGarbage => {
            let flooder = std::thread::spawn(move || net::udp_flood(port, 10_000, 0xf100d));
            garbage()?;
            flooder.join().map_err(|_| fail(&echo_net.running, "flood thread panicked"))?.map_err(flood_failed)?;
        }
    }
    net::tcp_echo_concurrently_reconnecting(port, 4, 64 * 1024, 0xa11e, script.timeout / 2, 5)
        .map_err(|e| fail(&echo_net.running, format!("after the abuse: {e}")))?;
    net::udp_echo_lengths(port, [1, 512, 1400], 0xa11f).map_err(|e| fail(&echo_net.running, format!("after the abuse: {e}")))?;
    echo_net.stats_and_quit().map(drop)
}
