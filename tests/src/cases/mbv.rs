//! MicroBlaze V drivers and apps under QEMU (`amd-microblaze-v-generic`):
//! blinky's GPIO writes from QEMU's `-d unimp` log, UART echo through the
//! guest's serial port, the alarm's accuracy under `-icount`, and echo-net
//! on the EthernetLite (and echo-net-axi on the AXI Ethernet with its DMA)
//! through QEMU's user network with the same host-side clients
//! ([`crate::net`]) and cases ([`super::echo_net`]) as on the PBX-A9.

use std::path::PathBuf;
use std::time::Duration;

use super::echo_net::{self, Flood};
use super::{Case, Check, ECHO_LEFT_UNREAD, Failure, NEXT_TERMINAL_CLIENT, Scripted, board};
use crate::boards::RunOptions;
use crate::harness;

/// The MicroBlaze V cases.
pub fn cases() -> Vec<Case> {
    let mbv = board("microblaze-v");
    let scripted = |name: &str, app: &'static str, icount: bool, seconds: u64, script| Case {
        name: format!("{name} on {}", mbv.name),
        board: mbv,
        app,
        options: RunOptions { args: vec![app.to_string()], icount, ..Default::default() },
        timeout: Duration::from_secs(seconds),
        check: Check::Scripted(script),
    };
    vec![
        scripted("blinky gpio writes", "blinky", false, 60, blinky_gpio_writes),
        scripted(
            "timer-alarm accuracy under icount",
            "timer-alarm",
            true,
            60,
            timer_alarm_accuracy,
        ),
        scripted("uart-echo", "uart-echo", false, 60, uart_echo),
        super::console_case(
            mbv,
            "uart16550",
            &[],
            &[
                "uart16550: looped back 42 bytes: Ferrode on the AXI UART 16550, looped back",
                "uart16550: ok",
            ],
            0,
        ),
        scripted("echo-net tcp 4 clients x 1 MiB", "echo-net", false, 120, echo_net::tcp),
        scripted("echo-net udp 1..1400 bytes", "echo-net", false, 90, echo_net::udp),
        scripted("echo-net survives floods and garbage", "echo-net", false, 120, echo_net_abuse),
        // The same echo over the AXI Ethernet and its DMA (QEMU's network
        // attached to that NIC: the app's manifest names it).
        scripted("echo-net-axi tcp 4 clients x 1 MiB", "echo-net-axi", false, 120, echo_net::tcp),
        scripted("echo-net-axi udp 1..1400 bytes", "echo-net-axi", false, 90, echo_net::udp),
        scripted(
            "echo-net-axi survives floods and garbage",
            "echo-net-axi",
            false,
            120,
            echo_net_abuse,
        ),
    ]
}

fn failure(message: impl Into<String>, console: &str) -> Failure {
    Failure { message: message.into(), console: console.to_string() }
}

/// One 32-bit write QEMU logged for the unimplemented "gpio" device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GpioWrite {
    /// Register offset from the block's base.
    pub offset: u32,
    /// Value written.
    pub value: u32,
}

/// The GPIO writes in a `-d unimp` log, in order, e.g. from
/// `gpio: unimplemented device write (size 4, offset 0x0000, value 0x000000a5)`.
/// Other devices, reads and non-word writes are reported as errors.
pub fn gpio_writes(log: &str) -> Result<Vec<GpioWrite>, String> {
    let mut writes = Vec::new();
    for line in log.lines() {
        let Some(rest) = line.strip_prefix("gpio: unimplemented device write (") else {
            if line.starts_with("gpio:") {
                return Err(format!("unexpected GPIO access: {line}"));
            }
            continue;
        };
        let fields: Vec<&str> = rest.trim_end_matches(')').split(", ").collect();
        let field = |name: &str| {
            fields
                .iter()
                .find_map(|f| f.strip_prefix(name))
                .ok_or_else(|| format!("no {name} in {line:?}"))
        };
        let hex = |text: &str| {
            u32::from_str_radix(text.trim_start_matches("0x"), 16)
                .map_err(|e| format!("{line:?}: {e}"))
        };
        if field("size ")? != "4" {
            return Err(format!("GPIO write not 32 bits wide: {line}"));
        }
        writes.push(GpioWrite { offset: hex(field("offset ")?)?, value: hex(field("value ")?)? });
    }
    Ok(writes)
}

/// What blinky must write, from the axi-gpio driver's documented write
/// sequences: `new` (single channel), eight `output(One, n, false)`, one
/// DATA write per step (a lit LED walking out and back), DATA = 0, and
/// `input(One, 0)` (LED 0 configured again in the same session); then,
/// when blinky closes its GPIO session, the driver watches no pin any more
/// and turns the channel's interrupt off (IP IER, then GIER), and makes
/// each of the session's eight pins an input again (TRI, one pin at a
/// time, ending with every pin an input as at reset).
pub fn blinky_expected_writes() -> Vec<GpioWrite> {
    const DATA: u32 = 0x000;
    const TRI: u32 = 0x004;
    const GIER: u32 = 0x11c;
    const IP_IER: u32 = 0x128;
    let write = |offset, value| GpioWrite { offset, value };
    let mut writes = vec![write(DATA, 0), write(TRI, 0xffff_ffff)];
    let mut tri = 0xffff_ffffu32;
    for pin in 0..8 {
        tri &= !(1 << pin);
        writes.extend([write(DATA, 0), write(TRI, tri)]);
    }
    let walk = [0, 1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1, 0];
    writes.extend(walk.iter().map(|led| write(DATA, 1 << led)));
    writes.push(write(DATA, 0));
    // LED 0 configured again, as an input.
    writes.push(write(TRI, tri | 1));
    writes.extend([write(IP_IER, 0), write(GIER, 0)]);
    for pin in 0..8 {
        tri |= 1 << pin;
        writes.push(write(TRI, tri));
    }
    writes
}

/// A log file of this test process for QEMU (`-D`).
pub(super) fn temp_log(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ferrode-{name}-{}.log", std::process::id()))
}

fn blinky_gpio_writes(s: &Scripted<'_>) -> Result<(), Failure> {
    let log = temp_log("blinky-unimp");
    let _ = std::fs::remove_file(&log);
    let options = RunOptions { unimp_log: Some(log.clone()), ..s.options.clone() };
    let outcome = harness::run(s.board.qemu, &s.board.qemu_args(s.image, &options), s.timeout)
        .map_err(|e| failure(e.to_string(), ""))?;
    let console = &outcome.console;
    if outcome.status != Some(0) {
        return Err(failure(format!("exit status {:?}, expected 0", outcome.status), console));
    }
    if let Some(missing) = harness::missing_in_order(
        console,
        &[
            "[blinky] IO_MEM without a route: denied",
            "[blinky] step  0 leds 0x01 .......*",
            "[blinky] step  7 leds 0x80 *.......",
            "[blinky] done, 15 steps",
        ],
    ) {
        return Err(failure(format!("console lacks {missing:?}"), console));
    }
    let text = std::fs::read_to_string(&log)
        .map_err(|e| failure(format!("no unimp log {}: {e}", log.display()), console))?;
    let _ = std::fs::remove_file(&log);
    let writes = gpio_writes(&text).map_err(|e| failure(e, console))?;
    let expected = blinky_expected_writes();
    if writes != expected {
        let first = writes
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(writes.len().min(expected.len()));
        return Err(failure(
            format!(
                "GPIO writes differ at write {first}: got {:?}, expected {:?} ({} writes, expected {})",
                writes.get(first),
                expected.get(first),
                writes.len(),
                expected.len()
            ),
            &format!("{console}\n--- unimp log ---\n{text}"),
        ));
    }
    Ok(())
}

/// The most a Timer session's timeout may arrive after its deadline under
/// `-icount shift=0` (one instruction is 1 ns of virtual time): the board's
/// alarm interrupt, the Timer server's alarm thread, the signal to the
/// client and the client's two clock reads take 2 to 4 µs on both boards;
/// twenty leave room for a slower path, not for a missed tick (10 ms).
const TIMEOUT_LATENCY_BOUND_US: u64 = 20;

/// timer-alarm's three rounds: each reports a 10 ms timeout that arrived
/// no earlier than its deadline and at most [`TIMEOUT_LATENCY_BOUND_US`]
/// after it.
pub fn timer_alarm_accuracy(s: &Scripted<'_>) -> Result<(), Failure> {
    let outcome = harness::run(s.board.qemu, &s.board.qemu_args(s.image, s.options), s.timeout)
        .map_err(|e| failure(e.to_string(), ""))?;
    let console = &outcome.console;
    if outcome.status != Some(0) {
        return Err(failure(format!("exit status {:?}, expected 0", outcome.status), console));
    }
    let mut rounds = 0;
    for line in console.lines().filter(|line| line.starts_with("[alarm] alarm ")) {
        // "[alarm] alarm 1: armed for 10000 us, fired after 10004 us: not early"
        let number_after = |word: &str| -> Option<u64> {
            line.split(word).nth(1)?.split_whitespace().next()?.parse().ok()
        };
        let (Some(armed), Some(fired)) = (number_after("armed for "), number_after("fired after "))
        else {
            return Err(failure(format!("cannot read {line:?}"), console));
        };
        if armed != 10_000 {
            return Err(failure(format!("timeout of {armed} us, not 10 ms"), console));
        }
        if fired < armed || fired - armed > TIMEOUT_LATENCY_BOUND_US {
            return Err(failure(
                format!("the timeout arrived {} us after 10 ms ({line})", fired as i64 - 10_000),
                console,
            ));
        }
        rounds += 1;
    }
    if rounds != 3 || !console.contains("[alarm] done") {
        return Err(failure(format!("{rounds} alarm rounds reported, expected 3"), console));
    }
    Ok(())
}

fn uart_echo(s: &Scripted<'_>) -> Result<(), Failure> {
    let mut running = harness::spawn(s.board.qemu, &s.board.qemu_args(s.image, s.options))
        .map_err(|e| failure(e.to_string(), ""))?;
    if !running.wait_for("[uart_echo] ready", s.timeout) {
        return Err(failure("no ready line", &running.report()));
    }
    // More than QEMU's 8-byte Rx FIFO and the driver's 16-byte view of it
    // at once, in pieces, so reception has to keep up through interrupts.
    let text: String = (0..20).map(|i| format!("line {i:02} the quick brown fox;")).collect();
    for chunk in text.as_bytes().chunks(100) {
        running.send(chunk).map_err(|e| failure(e.to_string(), &running.report()))?;
    }
    if !running.wait_for(&text, Duration::from_secs(20)) {
        return Err(failure("the echo did not come back complete", &running.report()));
    }
    running.send(&[0x04]).map_err(|e| failure(e.to_string(), &running.report()))?;
    let expected = format!("[uart_echo] {} bytes echoed, 0 lost", text.len());
    if !running.wait_for(&expected, Duration::from_secs(20)) {
        return Err(failure(format!("no {expected:?}"), &running.report()));
    }
    running.send(ECHO_LEFT_UNREAD).map_err(|e| failure(e.to_string(), &running.report()))?;
    let outcome = running.finish(Duration::from_secs(20));
    if !outcome.console.contains(&expected) || outcome.status != Some(0) {
        return Err(failure(
            format!("expected {expected:?} and status 0, got status {:?}", outcome.status),
            &outcome.console,
        ));
    }
    // The next client's session: uart_echo's was closed when it exited.
    if harness::missing_in_order(&outcome.console, &NEXT_TERMINAL_CLIENT).is_some() {
        return Err(failure("the Terminal did not serve its next client", &outcome.console));
    }
    Ok(())
}

fn echo_net_abuse(s: &Scripted<'_>) -> Result<(), Failure> {
    echo_net::abuse(s, Flood::DuringGarbage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unimp_log_lines_become_writes_in_order() {
        let log = "gpio: unimplemented device write (size 4, offset 0x0000, value 0x000000a5)\n\
                   something else\n\
                   gpio: unimplemented device write (size 4, offset 0x0004, value 0xffffff00)\n";
        assert_eq!(
            gpio_writes(log).unwrap(),
            [GpioWrite { offset: 0, value: 0xa5 }, GpioWrite { offset: 4, value: 0xffff_ff00 }]
        );
        let read = "gpio: unimplemented device read  (size 4, offset 0x0000)\n";
        assert!(gpio_writes(read).is_err(), "a read of GPIO_DATA is not part of blinky's contract");
    }

    #[test]
    fn blinky_walks_out_and_back() {
        let writes = blinky_expected_writes();
        assert_eq!(writes.len(), 2 + 16 + 15 + 1 + 1 + 2 + 8);
        assert_eq!(
            writes[17],
            GpioWrite { offset: 4, value: 0xffff_ff00 },
            "all eight LEDs outputs"
        );
        let data: Vec<u32> =
            writes[18..].iter().filter(|w| w.offset == 0).map(|w| w.value).collect();
        assert_eq!(data[..9], [1, 2, 4, 8, 16, 32, 64, 128, 64]);
        assert_eq!(*data.last().unwrap(), 0);
        assert_eq!(
            writes[writes.len() - 11],
            GpioWrite { offset: 4, value: 0xffff_ff01 },
            "LED 0 an input again"
        );
        assert_eq!(
            writes[writes.len() - 10..writes.len() - 8],
            [GpioWrite { offset: 0x128, value: 0 }, GpioWrite { offset: 0x11c, value: 0 }],
            "the closed session's interrupt off"
        );
        let tri: Vec<u32> = writes[writes.len() - 8..].iter().map(|w| w.value).collect();
        assert!(writes[writes.len() - 8..].iter().all(|w| w.offset == 4));
        assert_eq!(
            tri,
            [
                0xffff_ff01,
                0xffff_ff03,
                0xffff_ff07,
                0xffff_ff0f,
                0xffff_ff1f,
                0xffff_ff3f,
                0xffff_ff7f,
                0xffff_ffff
            ],
            "the closed session's pins inputs again, one at a time"
        );
    }
}
