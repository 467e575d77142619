//! Cases that measure: instructions per echoed byte through echo-net and
//! instructions from reset to an app's main. Their figures (and
//! ipc-bench's, see [`super::ipc`]) are checked against the budgets by
//! `cargo xtask test`.

use std::time::Duration;

use super::{Case, Check, Failure, Scripted, board};
use crate::boards::{Board, RunOptions};
use crate::figures::Figures;
use crate::measure;

/// Bytes echoed for the per-byte figure: enough for the figure to settle
/// (the TCP windows fill up many times), little enough to stay quick.
const NET_BYTES: usize = 256 * 1024;

/// echo-net's instructions per echoed byte on each board, through its NIC
/// session and (echo-net-direct, the baseline) calling the driver
/// directly; `cargo xtask test` derives their ratio,
/// `net.session_over_direct`, and holds it to its budget. net-std's, the
/// same echo through Rust std's `std::net` over a NIC session, is
/// `net.std_instructions_per_byte`; echo-net-axi's, echo-net over the
/// MicroBlaze V's AXI Ethernet and its DMA, `net.axi_instructions_per_byte`.
pub fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for name in ["realview-pbx-a9", "microblaze-v"] {
        for (app, check) in [
            ("echo-net", Check::Measured(net_per_byte)),
            ("echo-net-direct", Check::Measured(net_per_byte_direct)),
            ("net-std", Check::Measured(net_per_byte_std)),
            ("echo-net-axi", Check::Measured(net_per_byte_axi)),
        ] {
            // echo-net-axi is for the MicroBlaze V design with an AXI
            // Ethernet only.
            if app == "echo-net-axi" && name != "microblaze-v" {
                continue;
            }
            cases.push(Case {
                name: format!("{app} instructions per echoed byte on {name}"),
                board: board(name),
                app,
                options: RunOptions {
                    args: vec!["echo-net".into()],
                    icount: true,
                    icount_sleep: true,
                    ..Default::default()
                },
                timeout: Duration::from_secs(120),
                check,
            });
        }
    }
    cases
}

fn net_per_byte(script: &Scripted<'_>) -> Result<Figures, Failure> {
    let mut runs = measure::net_echo(script.board, script.image, NET_BYTES, 1, script.timeout / 2)?;
    Ok(runs.pop().unwrap_or_default())
}

/// The baseline's figures, named `net.direct_*`.
fn net_per_byte_direct(script: &Scripted<'_>) -> Result<Figures, Failure> {
    Ok(net_per_byte(script)?
        .into_iter()
        .map(|(key, value)| (key.replacen("net.", "net.direct_", 1), value))
        .collect())
}

/// net-std's figures (`bench` mode), named `net.std_*`.
fn net_per_byte_std(script: &Scripted<'_>) -> Result<Figures, Failure> {
    Ok(net_per_byte(script)?
        .into_iter()
        .map(|(key, value)| (key.replacen("net.", "net.std_", 1), value))
        .collect())
}

/// echo-net-axi's figures (the MicroBlaze V's AXI Ethernet and its DMA
/// under the NIC session), named `net.axi_*`.
fn net_per_byte_axi(script: &Scripted<'_>) -> Result<Figures, Failure> {
    Ok(net_per_byte(script)?
        .into_iter()
        .map(|(key, value)| (key.replacen("net.", "net.axi_", 1), value))
        .collect())
}

/// Instructions from reset to `app`'s main on `board` (also: the image
/// gets that far).
pub fn boot_to_main(board: &'static Board, app: &'static str) -> Case {
    Case {
        name: format!("{app} boots to main on {}", board.name),
        board,
        app,
        options: RunOptions { args: vec![app.to_string()], ..Default::default() },
        timeout: Duration::from_secs(60),
        check: Check::Measured(instructions_to_main),
    }
}

fn instructions_to_main(script: &Scripted<'_>) -> Result<Figures, Failure> {
    let count = measure::instructions_to_main(script.board, script.image, script.app)?;
    Ok([(format!("boot.{}.instructions_to_main", script.app), count as f64)].into_iter().collect())
}
