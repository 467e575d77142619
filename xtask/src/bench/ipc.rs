//! `cargo xtask bench ipc`: RPC round trips against direct calls.

use std::process::ExitCode;

use ferrode_tests::boards::Board;

/// Runs the IPC benchmark image and prints its figures.
pub fn run(board: &'static Board) -> Result<ExitCode, String> {
    Err(format!("the IPC benchmark for {} is not built yet", board.name))
}
