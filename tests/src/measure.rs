//! Measurements shared by the test cases (which check them against the
//! budgets) and `cargo xtask bench` (which records them): RPC costs from
//! ipc-bench, instructions per byte through echo-net, instructions per SD
//! card block through sd-card's Block session and sd-direct, instructions
//! from reset to the app's main.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Duration;

use object::{Object, ObjectSymbol};

use crate::boards::{Board, RunOptions};
use crate::cases::Failure;
use crate::figures::{self, Figures};
use crate::harness;
use crate::net::{self, Random};

/// The symbol every app's `ferrode_board::entry!` defines: the app's main,
/// called once the platform is up.
pub const MAIN_SYMBOL: &str = "ferrode_app_main";

fn failure(message: impl Into<String>, console: impl Into<String>) -> Failure {
    Failure { message: message.into(), console: console.into() }
}

/// Boots ipc-bench (under `-icount`, where the counts are exact) and
/// returns its figures, checked for sense by [`figures::ipc_figures`].
pub fn ipc(board: &Board, image: &Path, timeout: Duration) -> Result<Figures, Failure> {
    let options = RunOptions { args: vec!["ipc-bench".into()], icount: true, ..Default::default() };
    let outcome = run_to_success(board, image, &options, timeout)?;
    figures::ipc_figures(&outcome.console, board.name)
        .map_err(|message| failure(message, outcome.console))
}

/// Runs `image` with `options` until it exits, which it must do within
/// `timeout` and with status 0; a failure carries the console.
fn run_to_success(
    board: &Board,
    image: &Path,
    options: &RunOptions,
    timeout: Duration,
) -> Result<harness::Outcome, Failure> {
    let outcome = harness::run(board.qemu, &board.qemu_args(image, options), timeout)
        .map_err(|e| failure(e.to_string(), ""))?;
    if outcome.timed_out {
        let message = format!("timed out after {:?}", harness::scaled(timeout));
        return Err(failure(message, outcome.console));
    }
    if outcome.status != Some(0) {
        let message = format!("exit status {:?}, expected 0", outcome.status);
        return Err(failure(message, outcome.console));
    }
    Ok(outcome)
}

/// Boots `app`'s block benchmark (sd-card's `bench` mode, or sd-direct)
/// under `-icount` with an empty 1 MiB card in the slot and returns its
/// figures ([`figures::block_figures`]).
pub fn block(board: &Board, image: &Path, timeout: Duration) -> Result<Figures, Failure> {
    let app = image.file_name().and_then(|name| name.to_str()).unwrap_or_default();
    let card =
        std::env::temp_dir().join(format!("ferrode-block-bench-{app}-{}.img", std::process::id()));
    std::fs::File::create(&card)
        .and_then(|file| file.set_len(1 << 20))
        .map_err(|error| failure(format!("cannot make {}: {error}", card.display()), ""))?;
    let options = RunOptions {
        args: vec![app.into(), "bench".into()],
        icount: true,
        sd_card: Some(card.clone()),
        ..Default::default()
    };
    let outcome = run_to_success(board, image, &options, timeout);
    let _ = std::fs::remove_file(&card);
    let outcome = outcome?;
    figures::block_figures(&outcome.console, board.name)
        .map_err(|message| failure(message, outcome.console))
}

/// The address of `name` in the ELF `image`.
pub fn symbol_address(image: &Path, name: &str) -> Result<u64, String> {
    let bytes = std::fs::read(image)
        .map_err(|error| format!("cannot read {}: {error}", image.display()))?;
    let file = object::File::parse(&*bytes)
        .map_err(|error| format!("{} is not an ELF image: {error}", image.display()))?;
    file.symbols()
        .find(|symbol| symbol.name() == Ok(name))
        .map(|symbol| crate::harness::symbolize::code_start(&file, &symbol))
        .ok_or_else(|| format!("{} has no symbol {name}", image.display()))
}

/// The guest PC of one line of QEMU's `-d exec` log, e.g.
/// `Trace 0: 0x7f2fa0000100 [00000400/0000000070100000/00000520/ff022201] `.
pub fn trace_pc(line: &str) -> Option<u64> {
    let fields = line.strip_prefix("Trace ")?.split_once('[')?.1.split_once(']')?.0;
    u64::from_str_radix(fields.split('/').nth(1)?, 16).ok()
}

/// Guest instructions from reset to the first instruction of the app's
/// main ([`MAIN_SYMBOL`]): QEMU runs one instruction per translation block
/// with block chaining off and logs every block it executes (`-d
/// exec,nochain`), so the log's lines before main's address are the
/// instructions executed before it, exactly. QEMU is stopped at main.
pub fn instructions_to_main(board: &Board, image: &Path, app: &str) -> Result<u64, Failure> {
    let main = symbol_address(image, MAIN_SYMBOL).map_err(|message| failure(message, ""))?;
    let options = RunOptions { args: vec![app.to_string()], ..Default::default() };
    let mut args: Vec<String> =
        ["-accel", "tcg,one-insn-per-tb=on", "-d", "exec,nochain"].map(String::from).to_vec();
    args.extend(board.qemu_args(image, &options));
    let (running, stderr) =
        harness::spawn_with_stderr(board.qemu, &args).map_err(|e| failure(e.to_string(), ""))?;
    let mut executed = 0u64;
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        match trace_pc(&line) {
            Some(pc) if pc == main => return Ok(executed),
            Some(_) => executed += 1,
            None => {}
        }
    }
    Err(failure(
        format!(
            "QEMU ended after {executed} instructions without reaching {MAIN_SYMBOL} ({main:#x})"
        ),
        running.console(),
    ))
}

/// Figures of one TCP echo run through echo-net under `-icount`.
///
/// `instructions_per_byte` counts the guest instructions between two
/// `stats` requests per byte echoed, without those retired while the image
/// was idle (`idle_instructions`: echo-net's are the kernel's idle thread
/// and the interrupts it slept through, so the NIC driver component's work
/// counts; the direct baseline's are its main loop's sleeps and the
/// wake-ups that found nothing to do). The guest runs under `-icount
/// sleep=on` ([`RunOptions::icount_sleep`]): while it waits for the host,
/// its ticks come at the pace of real time, not as fast as QEMU can warp
/// through them. The figure still depends a little on how the host
/// delivers the frames, so its budget has more headroom than the exact
/// counts'. `mb_per_s_busy` is for the history only (see `cargo xtask
/// bench net`).
pub fn net_echo(
    board: &Board,
    image: &Path,
    bytes: usize,
    runs: u64,
    timeout: Duration,
) -> Result<Vec<Figures>, Failure> {
    // The image file is named after its app.
    let app = image.file_name().and_then(|name| name.to_str()).unwrap_or_default();
    let ready = net::echo_ready_line(app).ok_or_else(|| {
        failure(
            format!("{app} does not serve TCP echo (apps that do: {})", net::tcp_echo_app_names()),
            "",
        )
    })?;
    let options = RunOptions {
        args: vec![app.into(), "bench".into()],
        icount: true,
        icount_sleep: true,
        nic_model: crate::boards::app_nic_model(app),
        ..Default::default()
    };
    let (running, ports) = net::boot_forwarded(
        board,
        image,
        &options,
        &[net::ECHO_PORT, net::CONTROL_PORT],
        ready,
        Duration::from_secs(60),
    )
    .map_err(|(message, console)| failure(message, console))?;
    let (echo_port, control_port) = (ports[0], ports[1]);
    let failed = |message: String| failure(message, running.report());
    let stats = |label: &str| -> Result<BTreeMap<String, u64>, Failure> {
        // Asked again after half a second without a reply: on the
        // MicroBlaze V, QEMU's EthernetLite drops a datagram that comes
        // while its one receive buffer holds the connection's last
        // segment, and a longer wait would only add idle time.
        let line = net::control(control_port, "stats", harness::scaled(Duration::from_millis(500)))
            .map_err(|e| failed(format!("{label} stats: {e}")))?;
        let stats = net::parse_stats(&line);
        if ["instructions", "virtual_ns", "idle_ns", "sleeps", "idle_instructions", "tcp_bytes"]
            .iter()
            .any(|key| !stats.contains_key(*key))
        {
            return Err(failed(format!("{label} stats incomplete: {line}")));
        }
        Ok(stats)
    };
    let mut results = Vec::new();
    for run in 1..=runs {
        let before = stats("initial")?;
        let data = Random::new(run).bytes(bytes);
        let echoed = net::tcp_echo(echo_port, &data, harness::scaled(timeout))
            .map_err(|e| failed(e.to_string()))?;
        net::check_echo(&data, &echoed).map_err(failed)?;
        let after = stats("final")?;
        let difference = |key: &str| {
            after
                .get(key)
                .copied()
                .unwrap_or(0)
                .saturating_sub(before.get(key).copied().unwrap_or(0))
        };
        if difference("tcp_bytes") != bytes as u64 {
            return Err(failed(format!(
                "the guest counted {} TCP bytes echoed, {bytes} were sent",
                difference("tcp_bytes")
            )));
        }
        let instructions =
            difference("instructions").saturating_sub(difference("idle_instructions"));
        if instructions == 0 {
            return Err(failed("the guest counted no instructions (is -icount on?)".into()));
        }
        let busy_ns = difference("virtual_ns").saturating_sub(difference("idle_ns")).max(1);
        let mb_per_s = |ns: u64| bytes as f64 / 1e6 / (ns as f64 / 1e9);
        let mut figures = Figures::new();
        figures.insert(
            "net.instructions_per_byte".into(),
            (instructions as f64 / bytes as f64 * 100.0).round() / 100.0,
        );
        figures.insert("net.mb_per_s_busy".into(), (mb_per_s(busy_ns) * 100.0).round() / 100.0);
        for key in [
            "instructions",
            "idle_instructions",
            "virtual_ns",
            "idle_ns",
            "sleeps",
            "rx_frames",
            "tx_frames",
        ] {
            figures.insert(format!("net.{key}"), difference(key) as f64);
        }
        results.push(figures);
    }
    // `quit` ends the image; the figures are taken either way.
    let _ = net::control_no_reply(control_port, "quit");
    let _ = running.finish(Duration::from_secs(10));
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_lines_give_the_guest_pc() {
        let arm = "Trace 0: 0x7f2fa0042180 [00000400/0000000070100178/00000520/ff022201] ferrode_app_main";
        assert_eq!(trace_pc(arm), Some(0x7010_0178));
        let riscv = "Trace 0: 0x7f4988000100 [00000000/0000000080000000/01c14003/ff022201] ";
        assert_eq!(trace_pc(riscv), Some(0x8000_0000));
        assert_eq!(trace_pc("gpio: unimplemented device write"), None);
    }
}
