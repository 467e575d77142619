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
    Failure { message: message.into(), console: running.report() }
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

/// Boots echo-net and waits for its listening line (host ports chosen and,
/// if taken meanwhile, chosen again by [`net::boot_forwarded`]).
pub fn boot(script: &Scripted<'_>) -> Result<EchoNet, Failure> {
    let (running, ports) = net::boot_forwarded(
        script.board,
        script.image,
        script.options,
        &[net::ECHO_PORT, net::CONTROL_PORT],
        "[echo_net] listening on 10.0.2.15:7",
        Duration::from_secs(20),
    )
    .map_err(|(message, console)| Failure { message, console })?;
    Ok(EchoNet { running, echo_port: ports[0], control_port: ports[1] })
}

impl EchoNet {
    /// The guest's counters (`stats` on the control port); every drop
    /// counter must be there as a number.
    pub fn stats(&self) -> Result<BTreeMap<String, u64>, Failure> {
        let line = net::control(self.control_port, "stats", Duration::from_secs(2))
            .map_err(|e| fail(&self.running, format!("no stats reply: {e}")))?;
        let stats = net::parse_stats(&line);
        if let Some(key) = DROP_COUNTERS
            .iter()
            .chain(&["udp_datagrams", "rx_frames"])
            .find(|key| !stats.contains_key(**key))
        {
            return Err(fail(&self.running, format!("stats reply lacks {key}: {line}")));
        }
        Ok(stats)
    }

    /// Asks for `stats`, then ends the image with `quit`, which must exit
    /// 0; the console's last drop-counter line (printed at `quit`) must
    /// show the same numbers as the reply.
    pub fn stats_and_quit(self) -> Result<BTreeMap<String, u64>, Failure> {
        let stats = self.stats()?;
        net::control_until(self.control_port, "quit", &self.running, "[echo_net] quit", 10)
            .map_err(|e| fail(&self.running, e.to_string()))?;
        let outcome = self.running.finish(Duration::from_secs(10));
        let failure = |message: String| Failure { message, console: outcome.console.clone() };
        let wanted = ["[echo_net] dropped frames: runt=", "[echo_net] quit"];
        if let Some(missing) = harness::missing_in_order(&outcome.console, &wanted) {
            return Err(failure(format!("console lacks {missing:?}")));
        }
        if outcome.status != Some(0) {
            return Err(failure(format!("exit status {:?}", outcome.status)));
        }
        let last = outcome
            .console
            .lines()
            .rev()
            .find(|line| line.starts_with("[echo_net] dropped frames:"))
            .unwrap_or("");
        let printed = net::parse_stats(last);
        for key in ["runt", "oversized", "overruns"] {
            if printed.get(key) != stats.get(key) {
                return Err(failure(format!(
                    "the console's last counters ({last:?}) disagree with the stats reply on {key} ({:?})",
                    stats.get(key)
                )));
            }
        }
        Ok(stats)
    }
}

/// The counters of frames and datagrams echo-net received and dropped.
pub const DROP_COUNTERS: [&str; 5] = ["runt", "oversized", "errors", "overruns", "udp_dropped"];

/// 4 concurrent TCP clients echo 1 MiB each byte-exactly, within two
/// thirds of the case's timeout, and the guest counted every byte.
pub fn tcp(script: &Scripted<'_>) -> Result<(), Failure> {
    let echo_net = boot(script)?;
    net::tcp_echo_concurrently(echo_net.echo_port, 4, 1 << 20, 0x7c9, script.timeout * 2 / 3)
        .map_err(|e| fail(&echo_net.running, e))?;
    let stats = echo_net.stats_and_quit()?;
    if stats.get("tcp_bytes") != Some(&(4 << 20)) {
        let message =
            format!("guest counted {:?} TCP bytes, expected {}", stats.get("tcp_bytes"), 4 << 20);
        return Err(Failure { message, console: String::new() });
    }
    Ok(())
}

/// UDP echo of every datagram length from 1 to 1400 bytes. The guest must
/// have echoed exactly the datagrams the client sent (retries included),
/// and every echo must have arrived: a lost datagram shows as a retry the
/// counts do not explain.
pub fn udp(script: &Scripted<'_>) -> Result<(), Failure> {
    let echo_net = boot(script)?;
    let exchange = net::udp_echo_lengths(echo_net.echo_port, 1..=1400, 0x0d9)
        .map_err(|e| fail(&echo_net.running, e))?;
    let stats = echo_net.stats_and_quit()?;
    let echoed = stats.get("udp_datagrams").copied().unwrap_or(0);
    if echoed != exchange.sent
        || exchange.replies != exchange.sent
        || stats.get("udp_dropped") != Some(&0)
    {
        let message = format!(
            "the client sent {} datagrams and received {} replies ({} payloads); the guest echoed {echoed} and dropped {:?}",
            exchange.sent,
            exchange.replies,
            exchange.echoed,
            stats.get("udp_dropped")
        );
        return Err(Failure { message, console: String::new() });
    }
    Ok(())
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
    let garbage = || {
        net::tcp_garbage(port, 24, 0x6a7b)
            .map_err(|e| fail(&echo_net.running, format!("garbage connections: {e}")))
    };
    let flood_failed = |e: std::io::Error| fail(&echo_net.running, format!("flood: {e}"));
    // One echo first, as a client that has talked to the server before: the
    // host's user network then knows the guest's MAC address and delivers
    // the flood instead of holding it behind an ARP request (which dropped
    // all of it in about one MicroBlaze V run in four).
    net::udp_echo_lengths(port, [64], 0xa110)
        .map_err(|e| fail(&echo_net.running, format!("before the abuse: {e}")))?;
    match flood {
        Flood::BeforeGarbage => {
            net::udp_flood(port, 10_000, 0xf100d).map_err(flood_failed)?;
            garbage()?;
        }
        Flood::DuringGarbage => {
            let flooder = std::thread::spawn(move || net::udp_flood(port, 10_000, 0xf100d));
            garbage()?;
            flooder
                .join()
                .map_err(|_| fail(&echo_net.running, "flood thread panicked"))?
                .map_err(flood_failed)?;
        }
    }
    // Up to 50 connections each (200 ms apart), within half the case's
    // time; 5 attempts (about a second) was once too few. On MicroBlaze V
    // this part takes up to about 30 s, and not for want of listening
    // sockets (with their states logged, at most 4 of the 6 were ever
    // busy, and the echo service frees a vanished peer's socket within
    // `TCP_TIMEOUT`): QEMU's EthernetLite model has one receive buffer
    // and drops every frame queued behind it when the guest frees it
    // (`-trace ethlite_pkt_lost`), so of the four clients' SYNs, sent at
    // once, one reaches the guest, and the user network sends the others
    // again after 6, 18 and 30 s, each time in one burst (with the SYNs it
    // lost of the garbage connections) of which again only the first
    // frame gets through.
    net::tcp_echo_concurrently_reconnecting(port, 4, 64 * 1024, 0xa11e, script.timeout / 2, 50)
        .map_err(|e| fail(&echo_net.running, format!("after the abuse: {e}")))?;
    net::udp_echo_lengths(port, [1, 512, 1400], 0xa11f)
        .map_err(|e| fail(&echo_net.running, format!("after the abuse: {e}")))?;
    let after = echo_net.stats_and_quit()?;
    check_abuse_counted(&after).map_err(|message| Failure { message, console: String::new() })
}

/// Datagrams the flood sends, and the UDP echoes before and after it.
const FLOODED: u64 = 10_000;
const UDP_AFTER_ABUSE: u64 = 1 + 3;

/// The guest's counters after the abuse (they start at zero at boot) must
/// account for it in numbers: the flood reached the echo service, which
/// counted every datagram it took as echoed or dropped, no more than were
/// sent and no more than frames arrived; the clients' TCP bytes were all
/// counted. (Most of the flood never reaches the guest: QEMU's user network
/// and NIC models drop what the guest has no room for, uncounted.)
pub fn check_abuse_counted(stats: &BTreeMap<String, u64>) -> Result<(), String> {
    let get = |key: &str| stats.get(key).copied().unwrap_or(0);
    let udp_taken = get("udp_datagrams") + get("udp_dropped");
    if udp_taken <= UDP_AFTER_ABUSE {
        return Err(format!(
            "the guest counted {udp_taken} UDP datagrams: none of the {FLOODED}-datagram flood ({stats:?})"
        ));
    }
    // Retries of the after-abuse echoes may add a few datagrams.
    if udp_taken > FLOODED + UDP_AFTER_ABUSE * u64::from(net::UDP_ATTEMPTS) {
        return Err(format!(
            "the guest counted {udp_taken} UDP datagrams, more than were sent ({stats:?})"
        ));
    }
    if get("rx_frames") < udp_taken {
        return Err(format!(
            "the guest took {udp_taken} datagrams from {} frames ({stats:?})",
            get("rx_frames")
        ));
    }
    if get("tcp_bytes") < 4 * 64 * 1024 {
        return Err(format!(
            "the guest counted {} TCP bytes echoed, fewer than the clients' 256 KiB ({stats:?})",
            get("tcp_bytes")
        ));
    }
    Ok(())
}
