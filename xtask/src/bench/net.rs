//! `cargo xtask bench net`: TCP throughput through the echo server.
//!
//! The figures are the median of three runs of 1 MiB each.
//!
//! Boots `echo-net` (release build) under `-icount shift=0,sleep=on`, where
//! one guest instruction is one nanosecond of virtual time, with its echo
//! and control ports forwarded. It asks the guest for its counters (UDP
//! `stats`), pushes a fixed amount of random data through the TCP echo and
//! checks it came back, asks again, and records the differences as figures
//! `net.*`. Works for any board whose platform
//! runs `echo-net`.
//!
//! # What the figures mean
//!
//! Virtual time has two parts. While the guest runs, it advances one
//! nanosecond per instruction. While the guest sleeps (WFI) waiting for the
//! host to deliver the next frame, it advances as real time does
//! (`sleep=on`), so the sleeping part says nothing about the guest and
//! depends on the host. echo-net measures it (`idle_ns`, `sleeps`) so that
//! it can be taken out.
//!
//! (Under `sleep=off`, which the other measurements use, QEMU would instead
//! jump straight to the guest's next timer deadline. A guest that waits for
//! the host then runs through its timers as fast as QEMU can: the
//! MicroBlaze V, whose 100 Hz tick wakes its sleepers, woke hundreds of
//! times per frame while the host was still sending, and the direct
//! baseline counted each wake-up's poll as work: 37 to 1532 instructions
//! per byte from run to run, depending on how the host's timing fell.)
//!
//! - `busy_ns`: virtual time the guest was awake (`virtual_ns - idle_ns`,
//!   both read from the guest's monotonic clock): the work of receiving,
//!   echoing and acknowledging the data. The interrupt handlers that run
//!   when a sleep ends count as asleep, so it is a little below
//!   `instructions`.
//! - `mb_per_s_busy` (the headline): bytes / `busy_ns`, the throughput of a
//!   guest whose CPU retires one instruction per nanosecond and never waits
//!   for the network. Repeatable to within 1%.
//! - `instructions_per_byte`: guest instructions (PMU / `minstret`) per byte
//!   echoed, without those retired idle: echo-net's idle thread and the
//!   interrupts it slept through, the direct baseline's sleeps and the
//!   wake-ups that found nothing to do.
//! - `virtual_ns`, `idle_ns`, `sleeps`, `idle_instructions`, `rx_frames`,
//!   `tx_frames`: the raw differences, for seeing how often and how long
//!   the guest waited (the host's latency more than the guest's).

use std::time::Duration;

use ferrode_tests::boards::Board;
use ferrode_tests::figures::Figures;
use ferrode_tests::measure;

use crate::build;

/// Bytes pushed through the echo per run.
const BYTES: usize = 1 << 20;
/// Runs (each a fresh TCP connection to the same guest).
const RUNS: u64 = 3;

/// Runs the network benchmark through echo-net's NIC session, through
/// the direct-driver baseline (echo-net-direct) and through Rust std's
/// `std::net` (net-std's `bench` mode) in the same run; the figures are
/// the median of the runs, the baseline's named `net.direct_*`, std's
/// `net.std_*`, `net.session_over_direct` the ratio of instructions per
/// byte through the session to the baseline's, `net.std_over_session`
/// std's to the session's; on MicroBlaze V also echo-net-axi (echo-net over
/// the AXI Ethernet and its DMA), `net.axi_*`, and `net.axi_over_session`
/// its figure per byte to echo-net's over the EthernetLite.
pub fn figures(board: &'static Board) -> Result<Figures, String> {
    let mut figures = median(board, "echo-net")?;
    let apps =
        [("echo-net-direct", "net.direct_"), ("net-std", "net.std_"), ("echo-net-axi", "net.axi_")];
    for (app, prefix) in apps {
        // echo-net-axi: only on the board whose design has an AXI Ethernet.
        if crate::apps::resolve(board.name, app).is_err() {
            continue;
        }
        for (key, value) in median(board, app)? {
            figures.insert(key.replacen("net.", prefix, 1), value);
        }
    }
    let mut keyed: std::collections::BTreeMap<String, f64> =
        figures.iter().map(|(key, value)| (format!("board.{key}"), *value)).collect();
    ferrode_tests::figures::derive(&mut keyed);
    for ratio in ["net.session_over_direct", "net.std_over_session", "net.axi_over_session"] {
        if let Some(value) = keyed.get(&format!("board.{ratio}")) {
            figures.insert(ratio.into(), *value);
        }
    }
    Ok(figures)
}

fn median(board: &'static Board, app: &str) -> Result<Figures, String> {
    let image = build::build(board, app, true)?;
    let runs = measure::net_echo(board, &image, BYTES, RUNS, Duration::from_secs(300))
        .map_err(|failure| format!("{}\nguest console:\n{}", failure.message, failure.console))?;
    let mut figures = Figures::new();
    for key in runs.first().map(|run| run.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
        let mut values: Vec<f64> = runs.iter().filter_map(|run| run.get(&key).copied()).collect();
        values.sort_by(f64::total_cmp);
        if let Some(median) = values.get(values.len() / 2) {
            figures.insert(key, *median);
        }
    }
    Ok(figures)
}
