//! `cargo xtask bench net`: TCP throughput through the echo server.
//!
//! Boots `echo-net` (release build) under `-icount shift=0`, where one
//! guest instruction is one nanosecond of virtual time, with its echo and
//! control ports forwarded. It asks the guest for its counters (UDP
//! `stats`: instructions retired and the virtual clock), pushes a fixed
//! amount of random data through the TCP echo and checks it came back,
//! asks again, and prints the differences as one JSON line per run. Works
//! for any board whose platform runs `echo-net`.

use std::process::ExitCode;
use std::time::Duration;

use ferrode_tests::boards::{Board, RunOptions};
use ferrode_tests::harness;
use ferrode_tests::net::{self, Random};

use crate::{apps, build};

/// Bytes pushed through the echo per run.
const BYTES: usize = 1 << 20;
/// Runs (each a fresh TCP connection to the same guest).
const RUNS: u64 = 3;

/// Runs the network benchmark and prints its figures.
pub fn run(board: &'static Board) -> Result<ExitCode, String> {
    let (board, app) = apps::resolve(board.name, "echo-net")?;
    let image = build::build(board, &app.name, true)?;
    let echo_port = net::free_port().map_err(|e| e.to_string())?;
    let mut control_port = net::free_port().map_err(|e| e.to_string())?;
    while control_port == echo_port {
        control_port = net::free_port().map_err(|e| e.to_string())?;
    }
    let options = RunOptions {
        args: vec![app.name.clone()],
        icount: true,
        tcp_forwards: vec![(echo_port, net::ECHO_PORT)],
        udp_forwards: vec![(control_port, net::CONTROL_PORT)],
        ..Default::default()
    };
    let running = harness::spawn(board.qemu, &board.qemu_args(&image, &options)).map_err(|e| e.to_string())?;
    let failed = |message: String| format!("{message}\nguest console:\n{}", running.console());
    if !running.wait_for("echo-net: listening on", Duration::from_secs(60)) {
        return Err(failed("echo-net did not come up".into()));
    }
    let stats = |label: &str| -> Result<std::collections::BTreeMap<String, u64>, String> {
        let line = net::control(control_port, "stats", Duration::from_secs(5)).map_err(|e| format!("{label} stats: {e}"))?;
        let stats = net::parse_stats(&line);
        if !stats.contains_key("instructions") || !stats.contains_key("virtual_ns") {
            return Err(format!("{label} stats incomplete: {line}"));
        }
        Ok(stats)
    };
    for run in 1..=RUNS {
        let before = stats("initial").map_err(&failed)?;
        let data = Random::new(run).bytes(BYTES);
        let echoed = net::tcp_echo(echo_port, &data, Duration::from_secs(300)).map_err(|e| failed(e.to_string()))?;
        net::check_echo(&data, &echoed).map_err(&failed)?;
        let after = stats("final").map_err(&failed)?;
        let instructions = after["instructions"] - before["instructions"];
        let virtual_ns = after["virtual_ns"] - before["virtual_ns"];
        if instructions == 0 {
            return Err(failed("the guest counted no instructions (is -icount on?)".into()));
        }
        let seconds = virtual_ns as f64 / 1e9;
        println!(
            "{{\"bench\":\"net\",\"board\":\"{}\",\"test\":\"tcp_echo\",\"run\":{run},\"bytes\":{BYTES},\"instructions\":{instructions},\
             \"virtual_ns\":{virtual_ns},\"mb_per_s_virtual\":{:.3},\"mb_per_s_busy\":{:.3},\"instructions_per_byte\":{:.1},\
             \"rx_frames\":{},\"tx_frames\":{}}}",
            board.name,
            BYTES as f64 / 1e6 / seconds,
            // Busy time: instructions at 1 ns each (-icount shift=0), i.e.
            // the rate if the guest never waited for the host.
            BYTES as f64 / 1e6 / (instructions as f64 / 1e9),
            instructions as f64 / BYTES as f64,
            after["rx_frames"] - before["rx_frames"],
            after["tx_frames"] - before["tx_frames"],
        );
    }
    // `quit` ends the image; the figures are printed already either way.
    let _ = net::control_no_reply(control_port, "quit");
    let outcome = running.finish(Duration::from_secs(10));
    if outcome.status != Some(0) {
        eprintln!("note: echo-net exited with {:?}", outcome.status);
    }
    Ok(ExitCode::SUCCESS)
}
