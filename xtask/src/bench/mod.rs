//! `cargo xtask bench`: figures from guest instruction counts and image
//! sizes, recorded in the benchmark history.
//!
//! Benchmarks run release images under QEMU with `-icount shift=0`, which
//! makes the Cortex-A9 PMU's instructions-retired event and RV32 `minstret`
//! exact and repeatable:
//!
//! - `ipc`: `apps/ipc-bench` counts instructions around 1000 iterations of
//!   each RPC and of the same work as a direct call (`ipc.null_rpc`,
//!   `ipc.rpc_2in_1out`, `ipc.rpc_64_words`, `ipc.cap_transfer`, each with
//!   its `_direct` baseline). `ipc.per_extra_word` is the RPC's overhead
//!   over the direct call at 64 words minus its overhead at none, per word;
//!   `ipc.raw_per_extra_word` the plain slope from the null RPC.
//! - `net`: TCP echo through `apps/echo-net` (see [`net`]).
//! - `block`: on boards with an SD card slot (PBX-A9), instructions per
//!   512-byte block read and written through `apps/sd-card`'s Block
//!   session (`block.read_instructions_per_block`,
//!   `block.write_instructions_per_block`) and calling the driver
//!   (`apps/sd-direct`, `block.direct_*`), and the ratios
//!   (`block.read_session_over_direct`, `block.write_session_over_direct`).
//! - `boot`: instructions from reset to each app's main
//!   (`boot.APP.instructions_to_main`).
//! - `size`: text, data and bss of each app's release image
//!   (`size.APP.text`, ...).
//!
//! Each run prints one JSON object per board (a [`HistoryRecord`]: commit,
//! rustc and QEMU versions, board, every figure) and appends it to
//! [`HISTORY_FILE`]; `cargo xtask bench report` renders that history (see
//! [`report`]).

use std::io::Write as _;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::ValueEnum;
use ferrode_tests::boards::{self, Board};
use ferrode_tests::figures::{Figures, HISTORY_FILE, HistoryRecord};
use ferrode_tests::measure;

use crate::apps::{self, workspace_root};
use crate::{build, setup, size};

mod net;
mod report;

/// Which benchmark to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Which {
    /// Every benchmark below (the default).
    All,
    /// RPC round trips vs. direct calls (null, 2-in-1-out, 64 words, capability transfer).
    Ipc,
    /// TCP echo through echo-net (instructions per byte, MB/s of busy virtual time).
    Net,
    /// SD card blocks through the Block session vs. the driver (PBX-A9).
    Block,
    /// Instructions from reset to each app's main.
    Boot,
    /// Text, data and bss of each app's release image.
    Size,
    /// Render the history as docs/bench/README.md and one SVG chart per figure.
    Report,
}

/// `cargo xtask bench`.
pub fn run(which: Which, board: Option<&str>, record: bool) -> Result<ExitCode, String> {
    if which == Which::Report {
        return report::run();
    }
    let boards: Vec<&'static Board> = match board {
        Some(name) => vec![boards::find(name)?],
        None => boards::BOARDS.iter().collect(),
    };
    for board in &boards {
        setup::require_qemu(board)?;
    }
    for board in boards {
        let figures = measure_board(which, board)?;
        let entry = history_record(board, figures);
        let line = serde_json::to_string(&entry).map_err(|error| error.to_string())?;
        println!("{line}");
        if record_history(record, &line)? {
            eprintln!("bench: appended to {HISTORY_FILE}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn measure_board(which: Which, board: &'static Board) -> Result<Figures, String> {
    let mut figures = Figures::new();
    let wanted = |one: Which| which == Which::All || which == one;
    if wanted(Which::Ipc) {
        eprintln!("bench: ipc on {}", board.name);
        let image = build::build(board, "ipc-bench", true)?;
        let ipc = measure::ipc(board, &image, Duration::from_secs(300)).map_err(|failure| {
            format!("{}\nguest console:\n{}", failure.message, failure.console)
        })?;
        figures.extend(ipc);
    }
    if wanted(Which::Net) {
        eprintln!("bench: net on {}", board.name);
        figures.extend(net::figures(board)?);
    }
    let board_apps: Vec<String> = apps::all()
        .into_iter()
        .filter(|app| app.boards.contains(&board))
        .map(|app| app.name)
        .collect();
    if wanted(Which::Block) && board_apps.iter().any(|app| app == "sd-direct") {
        eprintln!("bench: block on {}", board.name);
        figures.extend(block_figures(board)?);
    }
    if wanted(Which::Boot) {
        for app in &board_apps {
            eprintln!("bench: boot to main of {app} on {}", board.name);
            let image = build::build(board, app, true)?;
            let count = measure::instructions_to_main(board, &image, app).map_err(|failure| {
                format!("{}\nguest console:\n{}", failure.message, failure.console)
            })?;
            figures.insert(format!("boot.{app}.instructions_to_main"), count as f64);
        }
    }
    if wanted(Which::Size) {
        for app in &board_apps {
            let sizes = size::measure(&build::build(board, app, true)?)?;
            for (part, bytes) in [("text", sizes.text), ("data", sizes.data), ("bss", sizes.bss)] {
                figures.insert(format!("size.{app}.{part}"), bytes as f64);
            }
        }
    }
    Ok(figures)
}

/// The block benchmark through sd-card's Block session and through
/// sd-direct, and the ratios of the two.
fn block_figures(board: &'static Board) -> Result<Figures, String> {
    let mut figures = Figures::new();
    for app in ["sd-card", "sd-direct"] {
        let image = build::build(board, app, true)?;
        let measured =
            measure::block(board, &image, Duration::from_secs(120)).map_err(|failure| {
                format!("{}\nguest console:\n{}", failure.message, failure.console)
            })?;
        figures.extend(measured);
    }
    let mut keyed: std::collections::BTreeMap<String, f64> =
        figures.iter().map(|(key, value)| (format!("board.{key}"), *value)).collect();
    ferrode_tests::figures::derive(&mut keyed);
    for ratio in ["block.read_session_over_direct", "block.write_session_over_direct"] {
        if let Some(value) = keyed.get(&format!("board.{ratio}")) {
            figures.insert(ratio.into(), *value);
        }
    }
    Ok(figures)
}

/// Output of a command run in the workspace, trimmed, or `unknown`.
fn output_of(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .current_dir(workspace_root())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn history_record(board: &Board, figures: Figures) -> HistoryRecord {
    let qemu =
        output_of(board.qemu, &["--version"]).lines().next().unwrap_or("unknown").to_string();
    HistoryRecord {
        unix_time: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| since.as_secs())
            .unwrap_or(0),
        commit: output_of("git", &["rev-parse", "HEAD"]),
        subject: output_of("git", &["log", "-1", "--format=%s"]),
        // The history itself is left out: a run appends one record per
        // board, and the second board's figures are no less the commit's.
        dirty: !output_of(
            "git",
            &["status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)docs/bench"],
        )
        .is_empty(),
        rustc: output_of("rustc", &["--version"]),
        qemu,
        board: board.name.to_string(),
        figures,
    }
}

/// Appends `line` to the history file when `record` is set.
fn record_history(record: bool, line: &str) -> Result<bool, String> {
    if !record {
        return Ok(false);
    }
    let path = workspace_root().join(HISTORY_FILE);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|error| format!("cannot open {}: {error}", path.display()))?;
    writeln!(file, "{line}")
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    Ok(true)
}
