//! Typed RPC between components, through the kernel, on both boards.

use std::time::Duration;

use super::{Case, Check, Failure, Scripted, board, console_case};
use crate::boards::RunOptions;
use crate::figures::Figures;
use crate::measure;

/// rpc-demo on each board (declared with `compose!`: clients started one
/// after the other, the parent hook's checks before and after them): every
/// check passes, in order, the intruder is refused on every selector and
/// each of the attacker's attacks is refused.
/// ipc-bench on each board (under `-icount`, as `cargo xtask bench ipc`
/// runs it): it exits 0 (its RPC results equal the direct calls', every
/// message length from 0 to 62 words comes back intact) and prints all four
/// figures as numbers that make sense, which are then checked against the
/// budgets.
pub fn cases() -> Vec<Case> {
    let mut cases = rpc_demo();
    cases.extend(ipc_diff());
    cases.extend(mem_check());
    for name in ["realview-pbx-a9", "microblaze-v"] {
        cases.push(Case {
            name: format!("ipc-bench on {name}"),
            board: board(name),
            app: "ipc-bench",
            options: RunOptions {
                args: vec!["ipc-bench".into()],
                icount: true,
                ..Default::default()
            },
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
                    "ok: a capability to a lower-priority server is refused to a higher-priority client",
                    "ok: inherited Base::ping answers 1 then 2",
                    "ok: add overflow is the declared error",
                    "ok: counter increments through the returned capability",
                    "ok: passing the capability back identifies the counter",
                    "ok: the retired (revoked) counter fails with ServerDead",
                    "ok: a server that calls another server (nested RPC) answers",
                    "ok: a server calling an object of its own entrypoint gets Deadlock",
                    "ok: a transport error returned by the server arrives as Forwarded",
                    "ok: a deferred reply arrives when another client pokes the server",
                    "ok: a woken higher-priority thread runs before the server that woke it continues",
                    "intruder: 36 selectors tried",
                    "ok: the intruder cannot reach the calculator through any selector",
                    "ok: attacker: dissolving the calculator it was given is refused (NotOwner)",
                    "ok: attacker: waiting on the root's signal (a submit-only copy) is refused",
                    "ok: attacker: 10,000 calls pushing capabilities at ping are all refused",
                    "ok: attacker: ...and the calculator can still manage new objects",
                    "ok: attacker: the calculator used as a Counter is refused (WrongInterface)",
                    "ok: attacker: creating components beyond its quota is refused",
                    "ok: attacker: signals beyond its quota (2) are refused",
                    "ok: attacker: delegating out of the calculator's space (no capability to it) is refused",
                    "ok: attacker: destroying the calculator is refused",
                    "ok: attacker: no selector of its space answers someone else's call",
                    "ok: the calculator still answers after every attack",
                    "ok: root takes back the capabilities it delegated to the client",
                    "ok: a destroyed component's object answers ServerDead",
                    "ok: the destroyed component's entrypoint is reaped",
                    "ok: two busy threads of one priority both ran (round-robin on the timer tick)",
                    "rpc-demo: 0 checks failed",
                ],
                0,
            )
        })
        .collect()
}

/// mem-check on each board: the arch crates' hand-written copy routines
/// (`memcpy`, `__aeabi_memcpy`, `__aeabi_memcpy4`), which every UTCB
/// message and packet copy goes through, copy exactly the bytes asked for
/// at every alignment of both ends (the app checks each copy and exits 1
/// otherwise).
fn mem_check() -> Vec<Case> {
    ["realview-pbx-a9", "microblaze-v"]
        .into_iter()
        .map(|name| console_case(board(name), "mem-check", &[], &["copies, 0 wrong"], 0))
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
