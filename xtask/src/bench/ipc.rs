//! `cargo xtask bench ipc`: RPC round trips against direct calls.
//!
//! Boots `apps/ipc-bench` (release build) under `-icount shift=0`; the
//! image counts instructions retired around 1000 iterations of each RPC
//! and of the same work as a direct call, and prints a JSON line per
//! benchmark, which this command passes on. `rpc_64_words` also carries
//! `instructions_per_extra_word` (the RPC's overhead over the direct call
//! at 64 words minus its overhead at none, per word) and
//! `raw_instructions_per_extra_word` (the plain slope from the null RPC).

use std::process::ExitCode;
use std::time::Duration;

use ferrode_tests::boards::Board;

/// Runs the IPC benchmark image and prints its figures.
pub fn run(board: &'static Board) -> Result<ExitCode, String> {
    let lines = super::guest_json_lines(board, "ipc-bench", &[], Duration::from_secs(300))?;
    if lines.is_empty() {
        return Err("the benchmark image printed no figures".into());
    }
    for line in lines {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}
