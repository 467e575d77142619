//! Typed RPC between components, through the kernel, on both boards.

use std::time::Duration;

use super::{Case, Check, Failure, Scripted, board, console_case};
use crate::boards::RunOptions;
use crate::figures::Figures;
use crate::measure;

/// rpc-demo on each board: every check passes and the intruder is refused.
/// ipc-bench on each board (under `-icount`, as `cargo xtask bench ipc`
/// runs it): it exits 0 (its RPC results equal the direct calls', every
/// message length from 0 to 62 words comes back intact) and prints all four
/// figures as numbers that make sense, which are then checked against the
/// budgets.
pub fn cases() -> Vec<Case> {
    let mut cases = rpc_demo();
    cases.extend(ipc_diff());
    for name in ["realview-pbx-a9", "microblaze-v"] {
        cases.push(Case {
            name: format!("ipc-bench on {name}"),
            board: board(name),
            app: "ipc-bench",
            options: RunOptions { args: vec!["ipc-bench".into()], icount: true, ..Default::default() },
            timeout: Duration::from_secs(60),
            check: Check::Measured(ipc_bench),
        });
    }
    cases
}

fn ipc_bench(script: &Scripted<'_>) -> Result<Figures, Failure> {
    measure::ipc(script.board, script.image, script.timeout)
}

fn rpc_demo() -> Vec<Case> {
    ["realview-pbx-a9", "microblaze-v"]
        .into_iter()
        .map(|name| {
            console_case(
                board(name),
                "rpc-demo",
                &[],
                &[
                    "ok: inherited Base::ping answers 1 then 2",
                    "ok: add overflow is the declared error",
                    "ok: counter increments through the returned capability",
                    "ok: passing the capability back identifies the counter",
                    "ok: the retired (revoked) counter fails with ServerDead",
                    "ok: the intruder cannot reach the calculator",
                    "ok: two busy threads of one priority both ran (round-robin on the timer tick)",
                    "rpc-demo: 0 checks failed",
                ],
                0,
            )
        })
        .collect()
}

/// ipc-diff on each board: the hand-written IPC fast paths leave the same
/// kernel state and UTCBs as the kernel's Rust paths on random systems, and
/// take enough calls and replies for that to mean something (the app
/// checks the counts and exits 1 otherwise).
fn ipc_diff() -> Vec<Case> {
    ["realview-pbx-a9", "microblaze-v"]
        .into_iter()
        .map(|name| console_case(board(name), "ipc-diff", &[], &["fell back, 0 mismatches"], 0))
        .collect()
}
