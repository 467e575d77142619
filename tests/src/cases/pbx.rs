//! RealView PBX-A9 drivers, services and apps under QEMU: the SP804 alarm
//! under `-icount`, interrupt-driven PL011 echo, and the LAN9118 + smoltcp
//! echo server through QEMU's user network.

use std::time::Duration;

use super::echo_net::{self, Flood, fail};
use super::{Case, Check, ECHO_LEFT_UNREAD, Failure, NEXT_TERMINAL_CLIENT, Scripted, board};
use crate::boards::RunOptions;
use crate::harness::{self, Running};
use crate::net::Random;

/// The RealView PBX-A9 cases.
pub fn cases() -> Vec<Case> {
    let pbx = board("realview-pbx-a9");
    let scripted =
        |name: &str, app: &'static str, script: fn(&Scripted<'_>) -> Result<(), Failure>| Case {
            name: format!("{name} on {}", pbx.name),
            board: pbx,
            app,
            options: RunOptions { args: vec![app.to_string()], ..Default::default() },
            timeout: Duration::from_secs(60),
            check: Check::Scripted(script),
        };
    vec![
        Case {
            name: format!("timer-alarm accuracy under icount on {}", pbx.name),
            board: pbx,
            app: "timer-alarm",
            options: RunOptions {
                args: vec!["timer-alarm".into()],
                icount: true,
                ..Default::default()
            },
            timeout: Duration::from_secs(30),
            check: Check::Scripted(super::mbv::timer_alarm_accuracy),
        },
        super::console_case(
            pbx,
            "peripherals",
            &[],
            &[
                "rtc: loaded 2001-09-09T01:46:40Z",
                "rtc: alarm fired at 2001-09-09T01:46:4",
                "gpio: outputs read back 0x05 then 0x0a",
                "private-timer: 10 periods of 100000 ticks",
                "peripherals: ok",
            ],
            0,
        ),
        scripted("uart-echo echoes serial input", "uart-echo", uart_echo),
        scripted("echo-net tcp 4 clients x 1 MiB", "echo-net", echo_net::tcp),
        scripted("echo-net udp 1..1400 bytes", "echo-net", echo_net::udp),
        scripted("echo-net survives floods and garbage", "echo-net", echo_net_abuse),
        scripted(
            "the NIC driver unmasks the LAN9118's line only once the chip is set up",
            "echo-net",
            nic_line_quiet_until_up,
        ),
    ]
}

/// Boots, returning a failure that carries the console so far.
fn boot(script: &Scripted<'_>, options: &RunOptions) -> Result<Running, Failure> {
    let args = script.board.qemu_args(script.image, options);
    harness::spawn(script.board.qemu, &args)
        .map_err(|error| Failure { message: error.to_string(), console: String::new() })
}

fn uart_echo(script: &Scripted<'_>) -> Result<(), Failure> {
    let mut running = boot(script, script.options)?;
    if !running.wait_for("[uart_echo] ready", Duration::from_secs(20)) {
        return Err(fail(&running, "no ready line"));
    }
    // Printable bytes, so the console capture shows them as they are.
    let mut random = Random::new(0x5e1a1);
    let text: String = (0..3000).map(|_| char::from(b'!' + random.between(0, 93) as u8)).collect();
    for chunk in text.as_bytes().chunks(500) {
        running
            .send(chunk)
            .map_err(|e| fail(&running, format!("cannot write to the serial port: {e}")))?;
    }
    if !running.wait_for(&text, Duration::from_secs(20)) {
        return Err(fail(&running, "the 3000 bytes did not come back in order"));
    }
    running.send(&[0x04]).map_err(|e| fail(&running, e.to_string()))?;
    if !running.wait_for("[uart_echo] 3000 bytes echoed, 0 lost", Duration::from_secs(10)) {
        return Err(fail(&running, "final count missing or wrong"));
    }
    running.send(ECHO_LEFT_UNREAD).map_err(|e| fail(&running, e.to_string()))?;
    let outcome = running.finish(Duration::from_secs(10));
    let failure =
        |message: &str| Failure { message: message.into(), console: outcome.console.clone() };
    if !outcome.console.contains("[uart_echo] 3000 bytes echoed, 0 lost") {
        return Err(failure("final count missing or wrong"));
    }
    // The next client's session: uart_echo's was closed when it exited.
    if harness::missing_in_order(&outcome.console, &NEXT_TERMINAL_CLIENT).is_some() {
        return Err(failure("the Terminal did not serve its next client"));
    }
    if outcome.status != Some(0) {
        return Err(failure(&format!("exit status {:?}", outcome.status)));
    }
    Ok(())
}

/// The GIC enables of the LAN9118's line (ID 60) echo-net may make from
/// reset until it listens: its first (the IRQ session's), its bring-up's,
/// and one per interrupt served meanwhile (a few frames at most).
const LAN9118_ENABLES_TO_LISTENING: usize = 16;

/// Out of reset the LAN9118 drives its line asserted until IRQ_CFG is set,
/// so a NIC driver that unmasked it before bring-up would be interrupted
/// at once and again for as long as the composer (below it) has not asked
/// for the session: on a slow host for good (the old flaky boots). QEMU's
/// trace of the GIC's enables, written to a file (which also slows QEMU
/// down), counts how often the line was unmasked before echo-net listens.
fn nic_line_quiet_until_up(script: &Scripted<'_>) -> Result<(), Failure> {
    let log = super::mbv::temp_log("echo-net-gic-enables");
    let _ = std::fs::remove_file(&log);
    let options = RunOptions {
        network: true,
        trace: Some((vec!["gic_enable_irq".into()], log.clone())),
        ..script.options.clone()
    };
    let running = boot(script, &options)?;
    if !running.wait_for("[echo_net] listening on", Duration::from_secs(20)) {
        return Err(fail(&running, "no listening line"));
    }
    // SIGINT: QEMU ends cleanly, with its trace written out.
    running.interrupt().map_err(|e| fail(&running, e.to_string()))?;
    let outcome = running.finish(Duration::from_secs(10));
    let trace = std::fs::read_to_string(&log).map_err(|e| Failure {
        message: format!("no trace {}: {e}", log.display()),
        console: outcome.console.clone(),
    })?;
    let _ = std::fs::remove_file(&log);
    let enables = trace.lines().filter(|line| line.contains("gic_enable_irq irq 60 ")).count();
    if !(1..=LAN9118_ENABLES_TO_LISTENING).contains(&enables) {
        return Err(Failure {
            message: format!(
                "the LAN9118's line was unmasked {enables} times by the time echo-net listened \
                 (at most {LAN9118_ENABLES_TO_LISTENING})"
            ),
            console: outcome.console,
        });
    }
    Ok(())
}

fn echo_net_abuse(script: &Scripted<'_>) -> Result<(), Failure> {
    // The burst first, then the garbage: slirp (QEMU's user network) accepts
    // forwarded connections slowly while it is busy with a flood.
    echo_net::abuse(script, Flood::BeforeGarbage)
}
