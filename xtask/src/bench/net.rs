//! `cargo xtask bench net`: TCP throughput through the echo server.

use std::process::ExitCode;

use ferrode_tests::boards::Board;

/// Runs the network benchmark and prints its figures.
pub fn run(board: &'static Board) -> Result<ExitCode, String> {
    Err(format!("the network benchmark for {} is not built yet", board.name))
}
