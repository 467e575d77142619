//! `cargo xtask bench`: figures from guest instruction counts.
//!
//! Benchmarks run under QEMU with `-icount shift=0`, which makes the
//! Cortex-A9 PMU's instructions-retired event and RV32 `minstret` exact and
//! repeatable. Each benchmark compares against a baseline measured in the
//! same image and run, and prints one JSON object per line.

use std::process::ExitCode;
use std::time::Duration;

use clap::ValueEnum;
use ferrode_tests::boards::{Board, RunOptions};
use ferrode_tests::harness;

use crate::{apps, build, setup};

mod ipc;
mod net;

/// Which benchmark to run.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Which {
    /// RPC round trips vs. direct calls (null, 2-in-1-out, 64 words, capability transfer).
    Ipc,
    /// TCP throughput through the echo server (MB/s of virtual time, instructions per byte).
    Net,
}

/// `cargo xtask bench`.
pub fn run(which: Which, board: &str) -> Result<ExitCode, String> {
    let board = ferrode_tests::boards::find(board)?;
    setup::require_qemu(board)?;
    match which {
        Which::Ipc => ipc::run(board),
        Which::Net => net::run(board),
    }
}

/// Boots `app` (release build) under `-icount` with `args` on its command
/// line and returns the JSON lines it printed (lines starting with `{`).
pub fn guest_json_lines(board: &'static Board, app: &str, args: &[&str], timeout: Duration) -> Result<Vec<String>, String> {
    let (board, app) = apps::resolve(board.name, app)?;
    let image = build::build(board, &app.name, true)?;
    let mut words = vec![app.name.clone()];
    words.extend(args.iter().map(|arg| arg.to_string()));
    let options = RunOptions { args: words, icount: true, ..Default::default() };
    let outcome = harness::run(board.qemu, &board.qemu_args(&image, &options), timeout).map_err(|e| e.to_string())?;
    if outcome.timed_out || outcome.status != Some(0) {
        return Err(format!("benchmark image failed (status {:?}):\n{}", outcome.status, outcome.console));
    }
    Ok(outcome.console.lines().filter(|line| line.starts_with('{')).map(str::to_string).collect())
}
