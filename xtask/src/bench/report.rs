//! `cargo xtask bench report`: the history as a Markdown table and one SVG
//! chart per figure, in `docs/bench/`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use ferrode_tests::figures::{self, HISTORY_FILE, HistoryRecord};

use crate::apps::workspace_root;

/// Where the report goes, relative to the workspace root.
const REPORT_DIR: &str = "docs/bench";
/// Runs per board shown in the table (the charts show all).
const TABLE_RUNS: usize = 8;
/// Line colours, one per board in order of first appearance.
const COLOURS: [&str; 4] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

/// Renders the history.
pub fn run() -> Result<ExitCode, String> {
    let root = workspace_root();
    let text = std::fs::read_to_string(root.join(HISTORY_FILE)).map_err(|error| {
        format!("cannot read {HISTORY_FILE} (run `cargo xtask bench` first): {error}")
    })?;
    let history = figures::parse_history(&text)?;
    if history.is_empty() {
        return Err(format!("{HISTORY_FILE} holds no runs yet; run `cargo xtask bench`"));
    }
    let dir = root.join(REPORT_DIR);
    let charts = dir.join("charts");
    std::fs::create_dir_all(&charts)
        .map_err(|error| format!("cannot create {}: {error}", charts.display()))?;
    let names: BTreeSet<&str> =
        history.iter().flat_map(|record| record.figures.keys().map(String::as_str)).collect();
    for name in &names {
        let path = charts.join(format!("{name}.svg"));
        std::fs::write(&path, chart(name, &history))
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    }
    let markdown = markdown(&history, &names);
    let readme = dir.join("README.md");
    std::fs::write(&readme, markdown)
        .map_err(|error| format!("cannot write {}: {error}", readme.display()))?;
    println!(
        "bench report: {} and {} charts in {}",
        rel(&readme, &root),
        names.len(),
        rel(&charts, &root)
    );
    Ok(ExitCode::SUCCESS)
}

fn rel(path: &Path, root: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

fn short(commit: &str) -> &str {
    commit.get(..8).unwrap_or(commit)
}

fn boards(history: &[HistoryRecord]) -> Vec<&str> {
    let mut boards: Vec<&str> = Vec::new();
    for record in history {
        if !boards.contains(&record.board.as_str()) {
            boards.push(&record.board);
        }
    }
    boards
}

/// The README: per board, the last runs' figures side by side, each row
/// linking its chart; then the runs with their versions.
fn markdown(history: &[HistoryRecord], names: &BTreeSet<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmark history\n");
    let _ = writeln!(
        out,
        "Rendered by `cargo xtask bench report` from [`history.jsonl`](history.jsonl), to which every \
         `cargo xtask bench` run appends one line per board. Instruction counts come from QEMU `-icount \
         shift=0` and are exact for a given image; sizes are bytes of release images; `net.mb_per_s_busy` \
         depends on host timing. A `*` after a commit: the working tree had uncommitted changes. Budgets: \
         [`tests/budgets.toml`](../../tests/budgets.toml).\n"
    );
    for board in boards(history) {
        let runs: Vec<&HistoryRecord> =
            history.iter().filter(|record| record.board == board).collect();
        let shown = &runs[runs.len().saturating_sub(TABLE_RUNS)..];
        let _ = writeln!(out, "## {board}\n");
        let _ = write!(out, "| figure |");
        for record in shown {
            let _ = write!(
                out,
                " `{}`{} |",
                short(&record.commit),
                if record.dirty { "*" } else { "" }
            );
        }
        let _ = write!(out, " chart |\n|---|");
        for _ in shown {
            let _ = write!(out, "---:|");
        }
        let _ = writeln!(out, "---|");
        for name in names
            .iter()
            .filter(|name| runs.iter().any(|record| record.figures.contains_key(**name)))
        {
            let _ = write!(out, "| `{name}` |");
            let mut previous: Option<f64> = None;
            for record in shown {
                match record.figures.get(*name) {
                    Some(value) => {
                        let changed = previous.is_some_and(|before| before != *value);
                        let number = figures::number(*value);
                        let _ = write!(
                            out,
                            " {} |",
                            if changed { format!("**{number}**") } else { number }
                        );
                        previous = Some(*value);
                    }
                    None => {
                        let _ = write!(out, " |");
                    }
                }
            }
            let _ = writeln!(out, " [chart](charts/{name}.svg) |");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "## Runs\n\n| commit | board | subject | rustc | QEMU |\n|---|---|---|---|---|"
    );
    for record in history.iter().rev().take(TABLE_RUNS * 2) {
        let _ = writeln!(
            out,
            "| `{}`{} | {} | {} | {} | {} |",
            short(&record.commit),
            if record.dirty { "*" } else { "" },
            record.board,
            record.subject.replace('|', "\\|"),
            record.rustc,
            record.qemu
        );
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A line chart of one figure over the runs: one line per board, x the
/// run's position in the history, y the figure.
pub fn chart(name: &str, history: &[HistoryRecord]) -> String {
    const WIDTH: f64 = 640.0;
    const HEIGHT: f64 = 260.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 20.0;
    const TOP: f64 = 30.0;
    const BOTTOM: f64 = 50.0;
    let points: BTreeMap<&str, Vec<(usize, f64)>> = boards(history)
        .into_iter()
        .map(|board| {
            let line = history
                .iter()
                .enumerate()
                .filter(|(_, record)| record.board == board)
                .filter_map(|(index, record)| record.figures.get(name).map(|value| (index, *value)))
                .collect();
            (board, line)
        })
        .collect();
    let values: Vec<f64> = points.values().flatten().map(|(_, value)| *value).collect();
    let (mut low, mut high) =
        values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), value| {
            (low.min(*value), high.max(*value))
        });
    if !low.is_finite() {
        (low, high) = (0.0, 1.0);
    }
    let pad = ((high - low) * 0.1).max(high.abs() * 0.01).max(0.5);
    let (low, high) = (low - pad, high + pad);
    let last = history.len().saturating_sub(1).max(1) as f64;
    let x = |index: usize| LEFT + (WIDTH - LEFT - RIGHT) * index as f64 / last;
    let y = |value: f64| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - (value - low) / (high - low));
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         font-family=\"sans-serif\" font-size=\"11\">"
    );
    let _ = writeln!(svg, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let _ = writeln!(
        svg,
        "<text x=\"{LEFT}\" y=\"18\" font-size=\"13\" font-weight=\"bold\">{}</text>",
        escape(name)
    );
    let (bottom, right) = (HEIGHT - BOTTOM, WIDTH - RIGHT);
    let _ = writeln!(
        svg,
        "<path d=\"M{LEFT},{TOP} V{bottom} H{right}\" stroke=\"#444\" fill=\"none\"/>"
    );
    for value in [low + pad, (low + high) / 2.0, high - pad] {
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><path d=\"M{LEFT},{:.1} H{right}\" stroke=\"#ddd\"/>",
            LEFT - 6.0,
            y(value) + 4.0,
            figures::number((value * 100.0).round() / 100.0),
            y(value)
        );
    }
    if let (Some(first), Some(newest)) = (history.first(), history.last()) {
        let _ = writeln!(
            svg,
            "<text x=\"{LEFT}\" y=\"{}\">{}</text>",
            bottom + 16.0,
            short(&first.commit)
        );
        let _ = writeln!(
            svg,
            "<text x=\"{right}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            bottom + 16.0,
            short(&newest.commit)
        );
    }
    for (index, (board, line)) in points.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        if line.is_empty() {
            continue;
        }
        let path: Vec<String> =
            line.iter().map(|(at, value)| format!("{:.1},{:.1}", x(*at), y(*value))).collect();
        let _ = writeln!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>",
            path.join(" ")
        );
        for (at, value) in line {
            let _ = writeln!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"><title>{board} {}: {}</title></circle>",
                x(*at),
                y(*value),
                short(&history[*at].commit),
                figures::number(*value)
            );
        }
        let legend_x = LEFT + 160.0 * index as f64;
        let _ = writeln!(
            svg,
            "<rect x=\"{legend_x}\" y=\"{}\" width=\"12\" height=\"3\" fill=\"{colour}\"/><text x=\"{}\" y=\"{}\">{board}</text>",
            HEIGHT - 14.0,
            legend_x + 16.0,
            HEIGHT - 10.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(commit: &str, board: &str, value: f64) -> HistoryRecord {
        HistoryRecord {
            unix_time: 0,
            commit: commit.into(),
            subject: "s".into(),
            dirty: false,
            rustc: "rustc".into(),
            qemu: "qemu".into(),
            board: board.into(),
            figures: [("ipc.null_rpc".to_string(), value)].into_iter().collect(),
        }
    }

    #[test]
    fn the_table_marks_changes_and_the_chart_has_a_line_per_board() {
        let history = [
            record("aaaaaaaaa", "b1", 500.0),
            record("aaaaaaaaa", "b2", 600.0),
            record("bbbbbbbbb", "b1", 486.0),
        ];
        let names: BTreeSet<&str> = ["ipc.null_rpc"].into_iter().collect();
        let table = markdown(&history, &names);
        assert!(
            table.contains("| `ipc.null_rpc` | 500 | **486 |")
                || table.contains("| `ipc.null_rpc` | 500 | **486** |"),
            "{table}"
        );
        let svg = chart("ipc.null_rpc", &history);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("b2 aaaaaaaa: 600"));
    }
}
